from typing import cast

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from crm.models import User
from crm.permissions import can_view_customers, can_view_stock, is_store_staff, require
from orders import selectors
from stores.selectors import stock_by_location, store_ids_of


@require(can_view_customers)
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    order = selectors.order_for_page(number=number)
    if order is None:
        raise Http404("No such order.")
    return render(
        request,
        "orders/detail.html",
        {"order": order, "returns": selectors.returns_of_order(order=order)},
    )


@require(can_view_stock)
def product_search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    page = Paginator(selectors.product_search(query=query), selectors.PRODUCT_PAGE).get_page(
        request.GET.get("page")
    )
    if query and page.paginator.count == 1:
        return redirect("products:detail", sku=page.object_list[0].sku)
    return render(request, "orders/product_search.html", {"query": query, "page": page})


@require(can_view_stock)
def product_detail(request: HttpRequest, sku: str) -> HttpResponse:
    product = selectors.product_for_page(sku=sku)
    if product is None:
        raise Http404("No such product.")
    user = cast(User, request.user)
    return render(
        request,
        "orders/product_detail.html",
        {
            "product": product,
            "stock_rows": stock_by_location(product=product),
            "own_store_ids": store_ids_of(user=user) if is_store_staff(user) else set(),
        },
    )
