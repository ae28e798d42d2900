"""Shared set-up of the pickup tests: a store with stock and a pick-up order placed there."""

from decimal import Decimal

from crm.models import Channel
from customers.services import Identity
from orders.models import Order, Pickup, Product
from orders.services import LineInput, order_record
from stores.models import StockAction, Store
from stores.services import stock_adjust
from tests.factories import ProductFactory, StoreFactory


def stocked_store(name: str = "Union Square", code: str = "sf-union", units: int = 5) -> Store:
    store: Store = StoreFactory.create(code=code, name=name, time_zone="America/Los_Angeles")
    stock_adjust(store=store, product=jacket(), action=StockAction.RECEIVE, quantity=units)
    return store


def jacket() -> Product:
    product = Product.objects.filter(sku="JKT-RAIN").first()
    return product or ProductFactory.create(
        sku="JKT-RAIN", name="Rain jacket", price=Decimal("129.00")
    )


def place_pickup(store: Store, quantity: int = 2, email: str = "ann@example.com") -> Pickup:
    order: Order = order_record(
        identity=Identity(email=email, first_name="Ann", last_name="Lee"),
        channel=Channel.WEB,
        lines=[LineInput(sku="JKT-RAIN", quantity=quantity)],
        fulfilment="pickup",
        pickup_store=store,
    )
    return Pickup.objects.get(order=order)
