"""Reads of stores and their stock, each shaped for the page that shows it."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import (
    Case,
    Count,
    F,
    FilteredRelation,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm.models import User
from crm.permissions import is_store_staff
from orders.models import Pickup, PickupStatus, Product
from stores.models import StockLevel, Store, StoreKind


@dataclass(frozen=True)
class StockRow:
    """One location's stock of one product. Locations that never held it show zeros."""

    store: Store
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def is_online(self) -> bool:
        return self.store.kind == StoreKind.WAREHOUSE

    @property
    def label(self) -> str:
        return f"Online ({self.store.name})" if self.is_online else self.store.name


def stock_by_location(*, product: Product) -> list[StockRow]:
    """Where the product is in stock: every active location, the web shop's warehouse first and
    then the stores by name, in one query."""
    stores = (
        Store.objects.filter(is_active=True)
        .annotate(
            stock=FilteredRelation("stock_levels", condition=Q(stock_levels__product=product)),
            stock_on_hand=Coalesce("stock__on_hand", 0),
            stock_reserved=Coalesce("stock__reserved", 0),
            online_first=Case(
                When(kind=StoreKind.WAREHOUSE, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )
        .order_by("online_first", "name")
    )
    return [
        StockRow(store=store, on_hand=store.stock_on_hand, reserved=store.stock_reserved)
        for store in stores
    ]


def store_ids_of(*, user: User) -> set[int]:
    """The stores a member of store staff works at (none for anyone else)."""
    return set(Store.objects.filter(memberships__user=user).values_list("pk", flat=True))


def stores_with_available(*, product: Product, quantity: int) -> list[Store]:
    """The active stores (not warehouses) where `quantity` of the product can still be
    reserved, by name: where to send a pick-up order a store can't cover."""
    return list(
        Store.objects.filter(
            kind=StoreKind.STORE,
            is_active=True,
            stock_levels__product=product,
            stock_levels__on_hand__gte=F("stock_levels__reserved") + quantity,
        ).order_by("name")
    )


# The counter's tabs: the statuses each shows. "Done" is the last week's finished pickups.
PICKUP_TABS: dict[str, tuple[str, ...]] = {
    "to_prepare": (PickupStatus.PLACED,),
    "preparing": (PickupStatus.PREPARING,),
    "ready": (PickupStatus.READY,),
    "done": (PickupStatus.COLLECTED, PickupStatus.EXPIRED, PickupStatus.CANCELLED),
}
DONE_WINDOW = timedelta(days=7)


def pickups_for_store(*, store: Store, tab: str) -> QuerySet[Pickup]:
    """One tab of a store's pickup counter with the order and customer of each row: waiting
    pickups oldest first, finished ones (the last week's) newest first."""
    pickups = Pickup.objects.filter(store=store, status__in=PICKUP_TABS[tab]).select_related(
        "order", "order__customer"
    )
    if tab == "done":
        return pickups.filter(updated_at__gte=timezone.now() - DONE_WINDOW).order_by(
            "-updated_at", "-id"
        )
    return pickups.order_by("created_at", "id")


def pickup_tab_counts(*, store: Store) -> dict[str, int]:
    """How many pickups each tab of the store's counter holds, in one query that reads the
    index pickup_queue_idx alone (it counts a column of the index, not the id)."""
    since = timezone.now() - DONE_WINDOW
    return Pickup.objects.filter(store=store).aggregate(
        **{
            tab: Count(
                "status",
                filter=Q(status__in=statuses)
                & (Q(updated_at__gte=since) if tab == "done" else Q()),
            )
            for tab, statuses in PICKUP_TABS.items()
        }
    )


def pickup_at_store(*, store: Store, pickup_id: int) -> Pickup | None:
    """A pickup of this store, or None: a pickup of another store is as if it did not exist."""
    return (
        Pickup.objects.filter(store=store, pk=pickup_id)
        .select_related("order", "order__customer", "store")
        .first()
    )


def pickups_waiting_count(*, user: User) -> int:
    """The nav badge: pickups to prepare or ready to hand over at the stores a member of store
    staff works at, in one query (0 for anyone else)."""
    if not is_store_staff(user):
        return 0
    return Pickup.objects.filter(
        store__memberships__user=user,
        store__kind=StoreKind.STORE,
        store__is_active=True,
        status__in=(PickupStatus.PLACED, PickupStatus.READY),
    ).count()


# Ready pickups whose hold ends within this are "expiring soon" on the dashboard.
EXPIRING_WITHIN = timedelta(days=2)
# A reserved product with this many or fewer left to sell at the store is a stock alert.
LOW_AVAILABLE = 2
DASHBOARD_LIST = 10
WAITING = (PickupStatus.PLACED, PickupStatus.PREPARING, PickupStatus.READY)


@dataclass(frozen=True)
class StoreDashboard:
    # Per waiting status: how many are under a day old, one to three days, older.
    waiting_by_age: dict[str, dict[str, int]]
    expiring_soon: list[Pickup]
    stock_alerts: Sequence[StockLevel]


def store_dashboard(*, store: Store) -> StoreDashboard:
    """The store manager's view in three queries whatever the store's size: pickups waiting by
    age, ready pickups whose hold ends soon, and reserved products running out at the store."""
    now = timezone.now()
    ages = {
        "today": Q(created_at__gt=now - timedelta(days=1)),
        "days_1_3": Q(
            created_at__lte=now - timedelta(days=1), created_at__gt=now - timedelta(days=3)
        ),
        "older": Q(created_at__lte=now - timedelta(days=3)),
    }
    counts = Pickup.objects.filter(store=store, status__in=WAITING).aggregate(
        **{
            f"{status}__{age}": Count("pk", filter=Q(status=status) & condition)
            for status in WAITING
            for age, condition in ages.items()
        }
    )
    waiting_by_age = {
        str(status): {age: counts[f"{status}__{age}"] for age in ages} for status in WAITING
    }
    expiring_soon = list(
        Pickup.objects.filter(
            store=store, status=PickupStatus.READY, hold_until__lte=now + EXPIRING_WITHIN
        )
        .select_related("order", "order__customer")
        .order_by("hold_until", "id")[:DASHBOARD_LIST]
    )
    stock_alerts = list(
        StockLevel.objects.filter(store=store, reserved__gt=0)
        .annotate(left=F("on_hand") - F("reserved"))
        .filter(left__lte=LOW_AVAILABLE)
        .select_related("product")
        .order_by("left", "product__name")[:DASHBOARD_LIST]
    )
    return StoreDashboard(waiting_by_age, expiring_soon, stock_alerts)


@dataclass(frozen=True)
class StockCheck:
    """One entered SKU and where it is in stock; product is None for an unknown SKU."""

    sku: str
    product: Product | None
    rows: list[StockRow]


def stock_checks(*, skus: list[str]) -> list[StockCheck]:
    """Where each SKU entered on an order form is in stock: one query for the products, two per
    known SKU (a form holds a handful). SKUs match whatever their case."""
    if not skus:
        return []
    condition = Q()
    for sku in skus:
        condition |= Q(sku__iexact=sku)
    products = {p.sku.upper(): p for p in Product.objects.filter(condition)}
    checks = []
    for sku in skus:
        product = products.get(sku.upper())
        rows = stock_by_location(product=product) if product else []
        checks.append(StockCheck(sku=product.sku if product else sku, product=product, rows=rows))
    return checks
