"""Reads of a customer's marketing touches and web activity for the 360 page's tabs and the
stores' counters. Each list is read a page at a time through its (customer, time desc, id desc)
index: one query per page, whatever the length of her history."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db.models import (
    Count,
    DateTimeField,
    Model,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm.permissions import AnyUser, is_store_staff, stores_worked_at
from customers.engagement import offer_label
from customers.models import (
    Cart,
    CheckoutStep,
    Customer,
    Touch,
    TouchChannel,
    Visit,
    VisitSource,
    WishListItem,
)
from customers.selectors import parse_cursor
from orders.models import Product
from stores.models import StockLevel, Store, StoreKind

ENGAGEMENT_PAGE = 25
RECENT_OFFERS = 5
VISIT_SUMMARY_DAYS = 30

_LATEST = datetime.max.replace(tzinfo=UTC)


def _keyset[M: Model](
    rows: QuerySet[M], field: str, *, before: str, start: int | None, limit: int
) -> tuple[list[M], str]:
    """The newest `limit` rows older than the cursor `before`, or from row `start` (included)
    when there is no cursor, and the cursor of the next page ("" at the end). A `start` that is
    not among `rows` starts at the newest."""
    cursor = parse_cursor(before)
    if cursor is not None:
        at, pk = cursor
        rows = rows.filter(Q(**{f"{field}__lt": at}) | Q(**{field: at, "id__lt": pk}))
    elif start is not None:
        anchor = Coalesce(
            Subquery(rows.filter(pk=start).values(field)[:1]),
            Value(_LATEST),
            output_field=DateTimeField(),
        )
        rows = rows.filter(Q(**{f"{field}__lt": anchor}) | Q(**{field: anchor, "id__lte": start}))
    page = list(rows.order_by(f"-{field}", "-id")[: limit + 1])
    if len(page) <= limit:
        return page, ""
    page = page[:limit]
    return page, f"{getattr(page[-1], field).isoformat()}_{page[-1].pk}"


OUTCOME_LABELS = {
    "sent": "Sent",
    "opened": "Opened",
    "clicked": "Clicked",
    "redeemed": "Redeemed",
}


@dataclass
class OfferRow:
    touch: Touch
    offer: str  # "20% off", "free shipping"; the offer type when it has no label

    @property
    def outcome(self) -> str:
        """How far she went with it: sent, opened, clicked or redeemed."""
        touch = self.touch
        if touch.redeemed_at:
            return "redeemed"
        if touch.clicked_at:
            return "clicked"
        return "opened" if touch.opened_at else "sent"

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS[self.outcome]


def _offer_row(touch: Touch) -> OfferRow:
    return OfferRow(touch=touch, offer=offer_label(touch) or touch.get_offer_type_display())


@dataclass
class OfferPage:
    rows: list[OfferRow]
    next_cursor: str


def customer_offers(
    *,
    customer: Customer,
    channel: str = "",
    before: str = "",
    start: int | None = None,
    limit: int = ENGAGEMENT_PAGE,
) -> OfferPage:
    """The offers sent to her, newest first, with the order each redemption led to: one query."""
    touches = Touch.objects.filter(customer=customer).select_related("redeemed_order")
    if channel in TouchChannel.values:
        touches = touches.filter(channel=channel)
    page, next_cursor = _keyset(touches, "sent_at", before=before, start=start, limit=limit)
    return OfferPage(rows=[_offer_row(touch) for touch in page], next_cursor=next_cursor)


def recent_offers(*, customer_id: int, limit: int = RECENT_OFFERS) -> list[OfferRow]:
    """Her last few offers and what became of them, for the stores' counters: one query."""
    touches = (
        Touch.objects.filter(customer_id=customer_id)
        .select_related("redeemed_order")
        .order_by("-sent_at", "-id")[:limit]
    )
    return [_offer_row(touch) for touch in touches]


@dataclass
class VisitPage:
    visits: list[Visit]
    next_cursor: str


def customer_visits(
    *, customer: Customer, before: str = "", start: int | None = None, limit: int = ENGAGEMENT_PAGE
) -> VisitPage:
    """Her visits of the web shop, newest first: one query."""
    page, next_cursor = _keyset(
        Visit.objects.filter(customer=customer),
        "occurred_at",
        before=before,
        start=start,
        limit=limit,
    )
    return VisitPage(visits=page, next_cursor=next_cursor)


@dataclass
class SourceCount:
    source: str
    label: str
    count: int


@dataclass
class VisitSummary:
    days: int
    sources: list[SourceCount]

    @property
    def total(self) -> int:
        return sum(source.count for source in self.sources)


def visit_sources_recent(*, customer: Customer, days: int = VISIT_SUMMARY_DAYS) -> VisitSummary:
    """How many visits each source brought in the last `days` days, most first: one query."""
    since = timezone.now() - timedelta(days=days)
    counts = (
        Visit.objects.filter(customer=customer, occurred_at__gte=since)
        .values("source")
        .annotate(visits=Count("pk"))
        .order_by("-visits", "source")
    )
    labels = dict(VisitSource.choices)
    return VisitSummary(
        days=days,
        sources=[
            SourceCount(
                source=row["source"],
                label=labels.get(row["source"], row["source"]),
                count=row["visits"],
            )
            for row in counts
        ],
    )


@dataclass
class StoreStock:
    store: Store
    available: int


@dataclass
class WishRow:
    item: WishListItem
    # Only for store staff: what each store they work at has of it.
    stock: list[StoreStock] = field(default_factory=list)


@dataclass
class WishListPage:
    rows: list[WishRow]
    next_cursor: str
    stores: list[Store]


def customer_wish_list(
    *, customer: Customer, user: AnyUser, before: str = "", limit: int = ENGAGEMENT_PAGE
) -> WishListPage:
    """What is on her wish list now, newest first, with its product (one query); for store staff
    also what their stores have of each (two more)."""
    items, next_cursor = _keyset(
        WishListItem.objects.filter(customer=customer, removed_at__isnull=True).select_related(
            "product"
        ),
        "added_at",
        before=before,
        start=None,
        limit=limit,
    )
    stores: list[Store] = []
    if items and is_store_staff(user):
        stores = list(stores_worked_at(user).filter(kind=StoreKind.STORE).order_by("name"))
    available = {}
    if stores:
        levels = StockLevel.objects.filter(
            store__in=stores, product__in={item.product_id for item in items}
        ).values_list("store_id", "product_id", "on_hand", "reserved")
        available = {
            (store_id, product_id): on_hand - reserved
            for store_id, product_id, on_hand, reserved in levels
        }
    rows = [
        WishRow(
            item=item,
            stock=[
                StoreStock(store=store, available=available.get((store.pk, item.product_id), 0))
                for store in stores
            ],
        )
        for item in items
    ]
    return WishListPage(rows=rows, next_cursor=next_cursor, stores=stores)


@dataclass
class CartLine:
    sku: str
    name: str  # the product's name now; the SKU alone if the product is gone
    quantity: int
    price: Decimal
    in_catalogue: bool = True

    @property
    def total(self) -> Decimal:
        return self.price * self.quantity


@dataclass
class CartRow:
    cart: Cart
    lines: list[CartLine]

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def step_label(self) -> str:
        step = self.cart.abandoned_step
        return CheckoutStep(step).label if step in CheckoutStep.values else step

    @property
    def steps(self) -> list[tuple[str, str]]:
        """The checkout's steps in order, for showing how far she got."""
        return list(CheckoutStep.choices)

    @property
    def step_index(self) -> int:
        step = self.cart.abandoned_step
        return CheckoutStep.values.index(step) if step in CheckoutStep.values else -1


@dataclass
class CartPage:
    rows: list[CartRow]
    next_cursor: str


def _cart_items(cart: Cart) -> list[dict[str, object]]:
    # Written by cart_abandoned as [{"sku", "quantity", "price"}]; anything else shows nothing.
    items = cart.items if isinstance(cart.items, list) else []
    return [item for item in items if isinstance(item, dict)]


def _cart_lines(cart: Cart, names: dict[str, str]) -> list[CartLine]:
    lines = []
    for item in _cart_items(cart):
        sku = str(item.get("sku", ""))
        try:
            price = Decimal(str(item.get("price", "0")))
            quantity = int(str(item.get("quantity", 1)))
        except (InvalidOperation, TypeError, ValueError):
            price, quantity = Decimal("0"), 1
        lines.append(
            CartLine(
                sku=sku,
                name=names.get(sku, sku),
                quantity=quantity,
                price=price,
                in_catalogue=sku in names,
            )
        )
    return lines


def customer_carts(
    *, customer: Customer, before: str = "", start: int | None = None, limit: int = ENGAGEMENT_PAGE
) -> CartPage:
    """Her carts, abandoned and recovered, newest first, with the order a recovery became (one
    query) and the names of every product in the page's carts (one more)."""
    carts, next_cursor = _keyset(
        Cart.objects.filter(customer=customer).select_related("recovered_order"),
        "abandoned_at",
        before=before,
        start=start,
        limit=limit,
    )
    skus = {str(item.get("sku", "")) for cart in carts for item in _cart_items(cart)}
    names = dict(Product.objects.filter(sku__in=skus).values_list("sku", "name")) if skus else {}
    return CartPage(
        rows=[CartRow(cart=cart, lines=_cart_lines(cart, names)) for cart in carts],
        next_cursor=next_cursor,
    )
