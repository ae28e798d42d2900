"""Reads of stores and their stock, each shaped for the page that shows it."""

from dataclasses import dataclass

from django.db.models import Case, FilteredRelation, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce

from crm.models import User
from orders.models import Product
from stores.models import Store, StoreKind


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
