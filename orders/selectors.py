from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from orders.models import Order, OrderLine, Product
from stores.models import StoreKind

PRODUCT_PAGE = 25


def order_for_page(*, number: str) -> Order | None:
    """The order with its customer, store and lines with their products (two queries)."""
    return (
        Order.objects.select_related("customer", "store")
        .prefetch_related(Prefetch("lines", OrderLine.objects.select_related("product")))
        .filter(number=number)
        .first()
    )


def product_search(*, query: str) -> QuerySet[Product]:
    """Products whose SKU starts with the query or whose name holds every word of it (all of them
    for no query), by name, each with what is available online and in how many active stores some
    is available. One query per page, whatever the number of stores."""
    products = Product.objects.select_related("category")
    query = query.strip()[:200]
    if query:
        in_name = Q()
        for word in query.split():
            in_name &= Q(name__icontains=word)
        products = products.filter(Q(sku__istartswith=query) | in_name)
    active = Q(stock_levels__store__is_active=True)
    return products.annotate(
        online_available=Coalesce(
            Sum(
                F("stock_levels__on_hand") - F("stock_levels__reserved"),
                filter=active & Q(stock_levels__store__kind=StoreKind.WAREHOUSE),
            ),
            0,
        ),
        stores_in_stock=Count(
            "stock_levels",
            filter=active
            & Q(stock_levels__store__kind=StoreKind.STORE)
            & Q(stock_levels__on_hand__gt=F("stock_levels__reserved")),
        ),
    ).order_by("name", "sku")


def product_for_page(*, sku: str) -> Product | None:
    return Product.objects.select_related("category").filter(sku=sku).first()


def orders_of_customer_user(*, customer_id: int, limit: int = 50) -> list[Order]:
    return list(
        Order.objects.filter(customer_id=customer_id)
        .select_related("store")
        .order_by("-placed_at", "-id")[:limit]
    )
