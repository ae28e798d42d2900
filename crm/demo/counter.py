"""The store counter: buy-online-pick-up-in-store orders in every state, and returns at store 1.

Unlike the histories, these are the stores' live work, so pickups are timed in hours back from the
moment the seed runs (the dashboard sorts waiting pickups into under a day, one to three days and
older). The purchases returned are timed in whole days, like the histories.
"""

from dataclasses import dataclass
from datetime import date, time
from typing import Any

from crm.demo.plans import PRICES, SKUS, STORE_TIME_ZONES, OrderPlan, moment, shipping_for
from crm.models import Channel
from customers.services import Identity
from orders.models import ItemCondition, OrderStatus, PickupStatus, RefundMethod, ReturnReason
from orders.services import LineInput

P = PickupStatus


@dataclass(frozen=True)
class PickupPlan:
    """A web order picked up at `store_code`, placed `placed` hours ago, then moved through
    `steps`: (status, hours ago) each, by `actor_key`. A collection without a code names why the
    ID was checked instead."""

    store_code: str
    identity: Identity
    lines: tuple[LineInput, ...]
    placed: float
    steps: tuple[tuple[str, float], ...] = ()
    actor_key: str = "associate"
    id_check_reason: str = ""
    note: str = ""


@dataclass(frozen=True)
class ReturnPlan:
    """A purchase, then its first line (or `quantity` of it) coming back at store 1 `days_ago`
    days ago, or started online when `online`."""

    purchase: OrderPlan
    days_ago: int
    reason: str
    condition: str = ItemCondition.RESELLABLE
    quantity: int = 1
    actor_key: str = "associate"
    refund_method: str = RefundMethod.ORIGINAL_PAYMENT
    online: bool = False


def _lines(items: str) -> tuple[LineInput, ...]:
    lines = []
    for item in items.split(", "):
        count, _, name = item.rpartition(" x ")
        lines.append(LineInput(sku=SKUS[name], quantity=int(count or 1)))
    return tuple(lines)


def pickups() -> tuple[PickupPlan, ...]:
    """Several pickups in each state at store 1 (San Francisco) and store 2 (New York)."""
    maya = Identity(email="maya.johnson@example.com", first_name="Maya", last_name="Johnson")

    # fmt: off
    def who(first: str, last: str, email: str) -> Identity:
        return Identity(email=email, first_name=first, last_name=last)

    return (
        # Maya's order: ready the next morning, collected with her code two days later.
        PickupPlan("sfo", maya, _lines("Wool Scarf, Beanie"),
                   placed=150, steps=((P.PREPARING, 146), (P.READY, 128), (P.COLLECTED, 98))),
        # Store 1: placed just now, placed yesterday, placed days ago (the "older" bucket).
        PickupPlan("sfo", who("Ethan", "Brooks", "ethan.brooks@mail.example.com"),
                   _lines("Leather Sneakers"), placed=2),
        PickupPlan("sfo", who("Hannah", "Lee", "hannah.lee@mail.example.net"),
                   _lines("Yoga Mat, Water Bottle"), placed=5),
        PickupPlan("sfo", who("Noah", "Fischer", "noah.fischer@mail.example.org"),
                   _lines("Oxford Shirt"), placed=30),
        PickupPlan("sfo", who("Isabella", "Rossi", "isabella.rossi@mail.example.com"),
                   _lines("Tote Bag"), placed=100),
        PickupPlan("sfo", who("Owen", "Clarke", "owen.clarke@mail.example.net"),
                   _lines("Pour-Over Coffee Maker"), placed=20, steps=((P.PREPARING, 3),)),
        # Ready: one just now, one whose hold ends tomorrow.
        PickupPlan("sfo", who("Lucas", "Moreau", "lucas.moreau@mail.example.com"),
                   _lines("Wireless Earbuds"), placed=26, steps=((P.PREPARING, 24), (P.READY, 4))),
        PickupPlan("sfo", who("Chloe", "Nguyen", "chloe.nguyen@mail.example.org"),
                   _lines("Face Moisturizer, Lip Balm Set"), placed=150,
                   steps=((P.PREPARING, 147), (P.READY, 144))),
        PickupPlan("sfo", who("Samuel", "Price", "sam.price@mail.example.com"),
                   _lines("Chelsea Boots"), placed=52, steps=((P.PREPARING, 50), (P.READY, 46))),
        # Collected: with the code, and once with an ID check.
        PickupPlan("sfo", who("Ava", "Thompson", "ava.thompson@mail.example.net"),
                   _lines("Throw Blanket"), placed=75,
                   steps=((P.PREPARING, 73), (P.READY, 70), (P.COLLECTED, 50))),
        PickupPlan("sfo", who("Mateo", "Silva", "mateo.silva@mail.example.com"),
                   _lines("Running Shoes"), placed=60,
                   steps=((P.PREPARING, 58), (P.READY, 55), (P.COLLECTED, 27)),
                   id_check_reason="Phone out of battery; checked his driving licence"),
        # Never collected: the hold ran out two days ago.
        PickupPlan("sfo", who("Ryan", "Walsh", "ryan.walsh@mail.example.org"),
                   _lines("Bluetooth Speaker"), placed=260,
                   steps=((P.PREPARING, 255), (P.READY, 216), (P.EXPIRED, 48)), actor_key=""),
        # Store 2 (New York).
        PickupPlan("nyc", who("Grace", "Kim", "grace.kim@mail.example.com"),
                   _lines("Cardigan"), placed=3, actor_key="manager2"),
        PickupPlan("nyc", who("David", "Cohen", "david.cohen@mail.example.net"),
                   _lines("Chinos"), placed=90, actor_key="manager2"),
        PickupPlan("nyc", who("Lily", "Evans", "lily.evans@mail.example.org"),
                   _lines("Sunglasses"), placed=28,
                   steps=((P.PREPARING, 26), (P.READY, 22)), actor_key="manager2"),
        PickupPlan("nyc", who("Jack", "Murphy", "jack.murphy@mail.example.com"),
                   _lines("Cast Iron Skillet"), placed=80,
                   steps=((P.PREPARING, 78), (P.READY, 74), (P.COLLECTED, 30)),
                   actor_key="manager2"),
        PickupPlan("nyc", who("Mia", "Schwartz", "mia.schwartz@mail.example.net"),
                   _lines("Wrap Dress"), placed=40, steps=((P.CANCELLED, 36),),
                   actor_key="manager2", note="Customer called: bought it elsewhere"),
    )
    # fmt: on


def returns(today: date) -> tuple[ReturnPlan, ...]:
    """Returns at store 1 today and in the last few days, and one started online."""
    zone = STORE_TIME_ZONES["sfo"]

    def bought(days_ago: int, channel: str, items: str, **identity: Any) -> OrderPlan:
        lines = _lines(items)
        store = "sfo" if channel == Channel.STORE else ""
        local = time(12, 40) if store else time(20, 15)
        return OrderPlan(
            placed_at=moment(today, days_ago, local, zone),
            channel=channel,
            identity=Identity(**identity),
            lines=lines,
            status=OrderStatus.COMPLETED if store else OrderStatus.DELIVERED,
            store_code=store,
            shipping=shipping_for(channel, lines, PRICES),
        )

    WEB, STORE = Channel.WEB, Channel.STORE
    # fmt: off
    return (
        # A web order brought back to the store: Ben lives in San Francisco.
        ReturnPlan(bought(12, WEB, "Running Shoes", email="ben.carter@example.com"), 0,
                   ReturnReason.DOES_NOT_FIT),
        # Sent the wrong colour: the retailer's fault, so the shipping is refunded too.
        ReturnPlan(bought(9, WEB, "Phone Case", loyalty_number="LC-3120-0187"), 2,
                   ReturnReason.WRONG_ITEM, actor_key="manager"),
        # Faulty: cannot be sold again, written off.
        ReturnPlan(bought(5, STORE, "Hair Dryer", phone="(415) 555-0172", first_name="Nina",
                          last_name="Alvarez"), 0,
                   ReturnReason.DAMAGED, ItemCondition.WRITE_OFF, actor_key="manager"),
        # Changed his mind about one of two, for store credit.
        ReturnPlan(bought(6, STORE, "Wool Scarf, Beanie", phone="2065550142"), 1,
                   ReturnReason.CHANGED_MIND, refund_method=RefundMethod.STORE_CREDIT),
        ReturnPlan(bought(8, STORE, "2 x T-Shirt", email="hannah.lee@mail.example.net",
                          first_name="Hannah", last_name="Lee"), 3,
                   ReturnReason.NOT_AS_DESCRIBED),
        # Started on the web shop: a return label was issued, the parcel is on its way.
        ReturnPlan(bought(7, WEB, "Crewneck Sweater", email="dokafor@example.net"), 0,
                   ReturnReason.DOES_NOT_FIT, online=True),
    )
    # fmt: on
