"""Histories for the insight tests, written through the real services one event at a time, with
the on-commit work (the insight refresh) run the way a commit would run it."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from celery.signals import task_prerun
from django.test import TestCase
from django.utils import timezone

from crm.models import Channel, Role, User
from customers.models import Customer, CustomerInsight
from customers.services import Identity
from orders.models import Order, ReturnReason
from orders.services import LineInput, order_record
from orders.services.returns import return_create
from stores.models import StockAction, Store, StoreRole
from stores.services import stock_adjust
from tests.factories import CategoryFactory, ProductFactory, StoreFactory, UserFactory, store_staff

REFRESH_TASK = "customers.refresh_insight"


@contextmanager
def committed() -> Iterator[list[Callable[[], Any]]]:
    """Run what would run at commit (the insight refresh, in-process) when the block ends."""
    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        yield callbacks


@contextmanager
def refreshes() -> Iterator[list[int]]:
    """The customer ids of the insight refresh tasks that ran during the block."""
    ran: list[int] = []

    def count(sender: Any = None, args: Any = (), **kwargs: Any) -> None:
        if getattr(sender, "name", "") == REFRESH_TASK:
            ran.append(args[0])

    task_prerun.connect(count, weak=False)
    try:
        yield ran
    finally:
        task_prerun.disconnect(count)


def stored(customer: Customer) -> CustomerInsight:
    return CustomerInsight.objects.get(pk=customer.pk)


@dataclass
class Shop:
    """A store with stock of three products in two categories, and its staff."""

    store: Store
    associate: User
    manager: User
    rep: User
    supervisor: User
    products: dict[str, Any] = field(default_factory=dict)

    def order(
        self,
        email: str,
        lines: list[tuple[str, int]],
        *,
        channel: str = Channel.WEB,
        days_ago: float = 0,
        shipping: Decimal = Decimal("0"),
        **extra: Any,
    ) -> Order:
        with committed():
            return order_record(
                identity=Identity(email=email, first_name="Maya", last_name="Johnson"),
                channel=channel,
                store=self.store if channel in (Channel.STORE, Channel.KIOSK) else None,
                lines=[LineInput(sku=sku, quantity=quantity) for sku, quantity in lines],
                placed_at=timezone.now() - timedelta(days=days_ago),
                shipping=shipping,
                **extra,
            )

    def give_back(self, order: Order, sku: str, quantity: int, reason: str = "") -> None:
        line = order.lines.get(sku=sku)
        with committed():
            return_create(
                order=order,
                lines=[(line, quantity, reason or ReturnReason.CHANGED_MIND, "resellable")],
                store=self.store,
                actor=self.associate,
            )


def build_shop() -> Shop:
    store = StoreFactory.create(code="sf-union", name="Union Square")
    outerwear = CategoryFactory.create(name="Outerwear", slug="outerwear")
    socks = CategoryFactory.create(name="Socks", slug="socks")
    products = {
        "JKT": ProductFactory.create(
            sku="JKT", name="Rain jacket", price=Decimal("120.00"), category=outerwear
        ),
        "SCK": ProductFactory.create(
            sku="SCK", name="Wool socks", price=Decimal("10.00"), category=socks
        ),
        "VST": ProductFactory.create(
            sku="VST", name="Fleece vest", price=Decimal("60.00"), category=outerwear
        ),
    }
    for product in products.values():
        stock_adjust(store=store, product=product, action=StockAction.RECEIVE, quantity=500)
    return Shop(
        store=store,
        associate=store_staff(store, StoreRole.ASSOCIATE),
        manager=store_staff(store, StoreRole.MANAGER),
        rep=UserFactory.create(role=Role.REP),
        supervisor=UserFactory.create(role=Role.SUPERVISOR),
        products=products,
    )


def window(hours_ahead: int = 2) -> tuple[datetime, datetime]:
    """A call-back window later today, two hours wide."""
    start = timezone.now() + timedelta(hours=hours_ahead)
    return start, start + timedelta(hours=2)
