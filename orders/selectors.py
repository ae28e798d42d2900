from orders.models import Order


def order_for_page(*, number: str) -> Order | None:
    """The order with its customer, store and lines (two queries)."""
    return (
        Order.objects.select_related("customer", "store")
        .prefetch_related("lines")
        .filter(number=number)
        .first()
    )


def orders_of_customer_user(*, customer_id: int, limit: int = 50) -> list[Order]:
    return list(
        Order.objects.filter(customer_id=customer_id)
        .select_related("store")
        .order_by("-placed_at", "-id")[:limit]
    )
