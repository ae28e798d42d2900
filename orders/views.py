from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from crm.permissions import can_view_customers, require
from orders import selectors


@require(can_view_customers)
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    order = selectors.order_for_page(number=number)
    if order is None:
        raise Http404("No such order.")
    return render(request, "orders/detail.html", {"order": order})
