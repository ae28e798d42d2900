import zoneinfo
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm.models import OutboundEmail
from orders.models import Order, OrderLine, Product, Return, ReturnLine, ReturnStatus
from stores.models import Store, StoreKind

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


DESK_ORDER_LIMIT = 50


@dataclass
class DeskLine:
    line: OrderLine
    returned: int

    @property
    def left(self) -> int:
        return self.line.quantity - self.returned


@dataclass
class DeskOrder:
    order: Order
    lines: list[DeskLine]
    days_since: int
    awaiting: list[Return]

    @property
    def returnable(self) -> bool:
        return any(desk_line.left > 0 for desk_line in self.lines)


def returns_desk_orders(
    *, customer_id: int, order_id: int | None = None, limit: int = DESK_ORDER_LIMIT
) -> list[DeskOrder]:
    """A customer's latest orders from every channel for the returns desk, each line with how
    many were already returned (online returns awaiting their parcel included), and the online
    returns waiting to be received (or just the one order given). Three queries, whatever the
    number of orders."""
    returned = Coalesce(Sum("return_lines__quantity"), 0)
    chosen = Order.objects.filter(customer_id=customer_id)
    if order_id is not None:
        chosen = chosen.filter(pk=order_id)
    orders = list(
        chosen.select_related("store")
        .prefetch_related(
            Prefetch("lines", OrderLine.objects.annotate(returned=returned).order_by("id")),
            Prefetch(
                "returns",
                Return.objects.filter(status=ReturnStatus.AWAITING_ITEMS).prefetch_related(
                    "lines__order_line"
                ),
                to_attr="awaiting_returns",
            ),
        )
        .order_by("-placed_at", "-id")[:limit]
    )
    now = timezone.now()
    return [
        DeskOrder(
            order=order,
            # `returned` is the annotation of the prefetch above.
            lines=[DeskLine(line=line, returned=line.returned) for line in order.lines.all()],  # type: ignore[attr-defined]
            days_since=(now - order.placed_at) // timedelta(days=1),
            awaiting=order.awaiting_returns,
        )
        for order in orders
    ]


def returns_of_order(*, order: Order) -> list[Return]:
    """An order's returns for its page, oldest first, with where and what came back."""
    return list(
        Return.objects.filter(order=order)
        .select_related("store", "exchange_order", "override_by")
        .prefetch_related("lines__order_line")
        .order_by("created_at", "id")
    )


def return_for_receipt(*, number: str, store: Store) -> Return | None:
    """One return received at this store, with everything its receipt shows."""
    return (
        Return.objects.filter(number=number, store=store)
        .select_related("order", "customer", "store", "exchange_order", "processed_by")
        .select_related("override_by")
        .prefetch_related("lines__order_line")
        .first()
    )


def return_receipt_recipient(*, return_request: Return) -> str:
    """Where the return's receipt was e-mailed, or "" when the customer has no address."""
    email = OutboundEmail.objects.filter(key=f"return-receipt:{return_request.pk}").first()
    return ", ".join(email.to) if email else ""


def returns_today(*, store: Store) -> list[Return]:
    """Returns completed at the store since midnight in the store's time zone, newest first."""
    return list(
        Return.objects.filter(store=store, completed_at__gte=_store_midnight(store))
        .select_related("order", "customer", "processed_by")
        .prefetch_related("lines__order_line")
        .order_by("-completed_at", "-id")
    )


def returns_today_by_reason(store: Store) -> dict[str, int]:
    """Items returned at the store today, per reason code (one query), for the store dashboard."""
    rows = (
        ReturnLine.objects.filter(
            return_request__store=store,
            return_request__completed_at__gte=_store_midnight(store),
        )
        .values("reason")
        .annotate(items=Sum("quantity"))
        .order_by("reason")
    )
    return {row["reason"]: row["items"] for row in rows}


def _store_midnight(store: Store) -> datetime:
    zone = zoneinfo.ZoneInfo(store.time_zone)
    today = timezone.localdate(timezone=zone)
    return datetime.combine(today, time.min, tzinfo=zone)
