"""The benchmark data set's rows, made customer by customer with ids assigned here.

Per customer on average: 1.6 contact points, 3 orders of 8/3 lines, 0.3 pickups, 0.4 returns,
1 inquiry of 3 messages, about 10 timeline entries, and some offers, visits, carts and wish-list
items, over the two years before `now`. 5% of the inquiries are open with their SLA due times
set; one store (the first) holds 0.5% of the customers as open pickups, the others far fewer.
Values are as the services would store them: E.164 phones, lower-case e-mails, search names made
with search_key, order and return numbers from their ids.
"""

import json
import random
import secrets
from bisect import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from crm.models import Channel
from customers.identifiers import name_keys, search_key
from customers.models import (
    ActivityKind,
    CheckoutStep,
    ContactKind,
    OfferType,
    TouchChannel,
    VisitSource,
)
from orders.models import (
    Fulfilment,
    ItemCondition,
    OrderStatus,
    PickupStatus,
    RefundKind,
    RefundMethod,
    ReturnReason,
    ReturnStatus,
)
from orders.services import order_number
from orders.services.pickups import CODE_ALPHABET, CODE_LENGTH
from orders.services.returns import return_number
from tickets.models import REFERENCE_OFFSET, InquiryStatus, MessageKind, Priority

DAY = 86400.0
HOUR = 3600.0
HISTORY_DAYS = 730
# Phone numbers are made from customer ids: seven digits, the first from 2 up.
MAX_CUSTOMERS = 7_999_999

# Table -> the columns its rows carry, in order.
COLUMNS: dict[str, tuple[str, ...]] = {
    "customers_customer": (
        "id", "first_name", "last_name", "search_name", "search_name_reversed", "address_line1",
        "city", "postcode", "country", "customer_since", "created_at", "updated_at",
        "home_store_id", "high_maintenance",
    ),
    "customers_contactpoint": (
        "id", "customer_id", "kind", "value", "source", "verified", "undeliverable_reason",
        "created_at",
    ),
    "orders_order": (
        "id", "number", "customer_id", "channel", "store_id", "status", "fulfilment",
        "pickup_store_id", "placed_at", "currency", "subtotal", "shipping", "tax", "total",
        "external_source", "external_id", "created_at",
    ),
    "orders_orderline": (
        "id", "order_id", "product_id", "sku", "name", "quantity", "unit_price", "line_total",
    ),
    "orders_pickup": (
        "id", "order_id", "store_id", "status", "code", "ready_at", "hold_until",
        "collected_at", "id_check_reason", "wrong_code_attempts", "created_at", "updated_at",
    ),
    "orders_pickupevent": (
        "id", "pickup_id", "from_status", "to_status", "note", "occurred_at", "actor_id",
    ),
    "orders_return": (
        "id", "number", "channel", "status", "refund_method", "refund_items", "refund_tax",
        "refund_shipping", "refund_total", "override_reason", "created_at", "completed_at",
        "customer_id", "order_id", "processed_by_id", "store_id",
    ),
    "orders_returnline": (
        "id", "return_request_id", "order_line_id", "quantity", "reason", "condition",
        "refund_amount",
    ),
    "orders_refund": (
        "id", "order_id", "return_request_id", "kind", "amount", "method", "created_at",
    ),
    "tickets_inquiry": (
        "id", "customer_id", "channel", "subject", "status", "priority", "requester_email",
        "requester_name", "tracking_token", "automated_reason", "tags", "queue_id",
        "assignee_id", "routed_at", "routing_reason", "store_id", "order_id", "created_at",
        "updated_at", "last_message_at", "first_response_due_at", "resolution_due_at",
        "first_responded_at", "sla_paused_at", "first_response_breached_at", "resolved_at",
        "acknowledgement_skipped", "rating", "rating_comment", "rated_at",
    ),
    "tickets_message": (
        "id", "inquiry_id", "kind", "channel", "author_id", "from_address", "from_name",
        "subject", "text", "html", "message_id", "in_reply_to", "references",
        "automated_reason", "created_at",
    ),
    "customers_touch": (
        "id", "customer_id", "source", "external_id", "campaign", "promotion_code",
        "offer_type", "offer_value", "description", "channel", "sent_at", "opened_at",
        "clicked_at", "created_at",
    ),
    "customers_visit": (
        "id", "customer_id", "occurred_at", "source", "referrer", "campaign", "landing_page",
        "created_at",
    ),
    "customers_cart": (
        "id", "customer_id", "source", "external_id", "items", "value", "abandoned_at",
        "abandoned_step", "created_at",
    ),
    "customers_wishlistitem": ("id", "customer_id", "product_id", "added_at"),
    "customers_activity": (
        "id", "customer_id", "occurred_at", "kind", "channel", "summary", "detail",
        "store_id", "actor_id", "actor_role", "subject_type", "subject_id",
    ),
}  # fmt: skip
TABLES = tuple(COLUMNS)

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas",
    "Mia", "Mateo", "Amelia", "Ethan", "Harper", "Aiden", "Evelyn", "Leo", "Chloe", "Daniel",
    "Zoë", "José", "Renée", "Chloé", "Søren", "Priya", "Wei", "Fatima", "Kwame", "Yuki",
    "Grace", "Henry", "Nora", "Owen", "Layla", "Caleb", "Aria", "Isaac", "Hana", "Omar",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernández", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sánchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "O'Brien", "Nguyen", "Kim", "Patel", "Müller",
    "Kowalski", "Okafor", "Rossi", "Dubois", "Novak",
)  # fmt: skip
STREETS = ("Main St", "Oak Ave", "Pine Rd", "Maple Dr", "Cedar Ln", "Elm St", "Park Blvd")
CITIES = (
    ("San Francisco", "941", "415"), ("New York", "100", "212"), ("Chicago", "606", "312"),
    ("Seattle", "981", "206"), ("Austin", "787", "512"), ("Denver", "802", "303"),
    ("Boston", "021", "617"), ("Portland", "972", "503"), ("Atlanta", "303", "404"),
)  # fmt: skip
INQUIRY_SUBJECTS = (
    ("Where is my order", "My order has not arrived and the tracking has not moved.", "service"),
    ("Wrong size", "I ordered a medium and got a large. Can I exchange it?", "returns"),
    ("Refund not received", "I returned an item two weeks ago; no refund yet.", "returns"),
    ("Pickup not ready", "My pickup order is not ready though I was told it would be.", "pickups"),
    ("Gift card balance", "How do I check the balance on a gift card I received?", "service"),
    ("Damaged parcel", "The box arrived crushed and the item inside is broken.", "returns"),
    ("Loyalty points missing", "My last store purchase did not add loyalty points.", "service"),
    ("Change pickup store", "Can I collect my order at another store?", "pickups"),
)  # fmt: skip
REPLY = "Thank you for writing. I have looked into it and it is sorted now; just reply if not."
FOLLOW_UP = "Thanks, one more question about this."
CAMPAIGNS = ("spring-sale", "summer-clearance", "back-to-school", "black-friday", "winback")
LANDING_PAGES = ("/", "/sale", "/new-in", "/outerwear", "/kitchen", "/gifts")
_CHANNEL_LABEL = {value: str(label) for value, label in Channel.choices}
_ORDER_CHANNELS = (Channel.WEB, Channel.STORE, Channel.PHONE, Channel.KIOSK)
_ORDER_CHANNEL_WEIGHTS = (45, 40, 10, 5)
_INQUIRY_CHANNELS = (Channel.EMAIL, Channel.WEB_FORM, Channel.PHONE, Channel.PORTAL)
_INQUIRY_CHANNEL_WEIGHTS = (45, 25, 20, 10)
_TOUCH_CHANNEL = {TouchChannel.EMAIL: Channel.EMAIL, TouchChannel.SMS: Channel.SYSTEM}


_DAYS: dict[int, str] = {}


def ts(seconds: float) -> str:
    """A UTC timestamp as COPY reads it, to the second (the day's text is made once)."""
    day, second = divmod(int(seconds), 86400)
    text = _DAYS.get(day)
    if text is None:
        text = _DAYS[day] = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d")
    return f"{text} {second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}+00"


def _weighted(values: Sequence[Any], weights: Sequence[int]) -> Callable[[random.Random], Any]:
    """A draw from `values` with these weights, cheaper than Random.choices one at a time."""
    total, bounds = 0, []
    for weight in weights:
        total += weight
        bounds.append(total)
    scale = float(total)

    def draw(rng: random.Random) -> Any:
        return values[bisect(bounds, rng.random() * scale)]

    return draw


_ORDER_COUNT = _weighted((1, 2, 3, 4, 5, 6), (22, 21, 20, 15, 13, 9))
_ORDER_CHANNEL = _weighted(_ORDER_CHANNELS, _ORDER_CHANNEL_WEIGHTS)
_LINE_COUNT = _weighted((1, 2, 3, 4, 5), (25, 25, 20, 15, 15))
_INQUIRY_COUNT = _weighted((0, 1, 2, 3), (35, 40, 15, 10))
_INQUIRY_CHANNEL = _weighted(_INQUIRY_CHANNELS, _INQUIRY_CHANNEL_WEIGHTS)
_MESSAGE_COUNT = _weighted((1, 2, 3, 4, 5), (15, 20, 30, 20, 15))
_TOUCH_COUNT = _weighted((0, 1, 2, 3, 4), (25, 25, 25, 15, 10))
_VISIT_COUNT = _weighted((0, 1, 2, 3, 4), (30, 30, 20, 12, 8))
_RETURN_REASONS = tuple(ReturnReason.values)
_VISIT_SOURCES = tuple(VisitSource.values)
_CHECKOUT_STEPS = tuple(CheckoutStep.values)
_PICKUP_LABEL = {value: str(label).lower() for value, label in PickupStatus.choices}
_OFFER_LABEL = {value: str(label) for value, label in OfferType.choices}
_TOUCH_LABEL = {value: str(label).lower() for value, label in TouchChannel.choices}
_VISIT_LABEL = {value: str(label).lower() for value, label in VisitSource.choices}
_STEP_LABEL = {value: str(label).lower() for value, label in CheckoutStep.choices}


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


@dataclass(frozen=True)
class Product:
    pk: int
    sku: str
    name: str
    cents: int


@dataclass(frozen=True)
class BenchWorld:
    """What the generated rows refer to: made by the command before the load."""

    now: float
    stores: Sequence[int]
    # The store with the long pickup queue, and each store's name and manager (for returns).
    busy_store: int
    store_names: dict[int, str]
    managers: dict[int, int]
    products: Sequence[Product]
    # Queue slug -> id; the reps who answer; SLA minutes per (queue id, priority).
    queues: dict[str, int]
    reps: Sequence[int]
    first_response_minutes: dict[tuple[int, int], int]
    resolution_minutes: dict[tuple[int, int], int]


@dataclass
class _Ids:
    """The next id of every table: ids are assigned here, not by the sequences."""

    next: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 1))

    def take(self, table: str) -> int:
        pk = self.next[table]
        self.next[table] = pk + 1
        return pk


@dataclass
class _Person:
    pk: int
    first: str
    last: str
    email: str
    store: int
    # (order id, number, placed, first line id, first line cents) of orders that can be returned.
    orders: list[tuple[int, str, float, int, int]] = field(default_factory=list)


Rows = dict[str, list[tuple[object, ...]]]


class Generator:
    """Rows for customers `first`..`first + count - 1`, table by table, in id order; call
    `chunk` with consecutive ranges. The same seed and world give the same rows, tokens and
    pickup codes aside (those come from `secrets`)."""

    def __init__(self, world: BenchWorld, *, seed: int) -> None:
        self.world = world
        self.rng = random.Random(seed)  # noqa: S311 (made-up data, not secrets)
        self.ids = _Ids()
        self.start = world.now - HISTORY_DAYS * DAY
        self._search = {
            (first, last): name_keys(first, last) for first in FIRST_NAMES for last in LAST_NAMES
        }
        self._ascii = {name: _mailbox(name) for name in (*FIRST_NAMES, *LAST_NAMES)}
        self._open_pickups_elsewhere = [s for s in world.stores if s != world.busy_store]

    def chunk(self, first: int, count: int) -> Rows:
        rows: Rows = {table: [] for table in TABLES}
        for pk in range(first, first + count):
            self._customer(pk, rows)
        # Timeline ids follow time within each customer, as rows written event by event would.
        timeline = sorted(rows["customers_activity"], key=lambda row: (row[1], row[2]))
        rows["customers_activity"] = [
            (self.ids.take("customers_activity"), *row[1:]) for row in timeline
        ]
        return rows

    # -- one customer ---------------------------------------------------------------------

    def _customer(self, pk: int, rows: Rows) -> None:
        rng, now = self.rng, self.world.now
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        city, zip3, area = rng.choice(CITIES)
        store = rng.choice(self.world.stores)
        person = _Person(
            pk, first, last, f"{self._ascii[first]}.{self._ascii[last]}{pk}@example.com", store
        )
        count = _ORDER_COUNT(rng)
        placed = sorted(rng.uniform(self.start, now - DAY) for _ in range(count))
        since = placed[0]

        first_channel = _ORDER_CHANNEL(rng)
        self._contact(rows, pk, ContactKind.EMAIL, person.email, first_channel, since)
        if rng.random() < 0.6:
            # Unique per customer id: a 7-digit local number after the city's area code.
            phone = f"+1{area}{2000000 + pk:07d}"
            self._contact(rows, pk, ContactKind.PHONE, phone, Channel.STORE, since)

        # The last order may be an open pickup: many at the busy store, a few elsewhere.
        draw = rng.random()
        open_pickup_at = (
            self.world.busy_store
            if draw < 0.005
            else rng.choice(self._open_pickups_elsewhere)
            if draw < 0.007 and self._open_pickups_elsewhere
            else None
        )
        last_event = since
        for index, at in enumerate(placed):
            channel = first_channel if index == 0 else _ORDER_CHANNEL(rng)
            open_pickup = open_pickup_at is not None and index == count - 1
            if open_pickup:
                channel, at = Channel.WEB, now - rng.uniform(0.1, 6) * DAY
            pickup = open_pickup or (channel == Channel.WEB and rng.random() < 0.22)
            last_event = max(
                last_event,
                self._order(
                    rows, person, channel, at, pickup, open_pickup_at if open_pickup else None
                ),
            )

        if person.orders and rng.random() < 0.4:
            last_event = max(last_event, self._return(rows, person))
        inquiries = _INQUIRY_COUNT(rng)
        for _ in range(inquiries):
            last_event = max(last_event, self._inquiry(rows, person, since))
        self._engagement(rows, person, since)

        rows["customers_customer"].append(
            (
                pk, first, last, *self._search[first, last],
                f"{rng.randint(1, 9999)} {rng.choice(STREETS)}", city,
                f"{zip3}{rng.randint(0, 99):02d}", "US", ts(since), ts(since), ts(last_event),
                store, False,
            )
        )  # fmt: skip

    def _contact(
        self, rows: Rows, customer: int, kind: str, value: str, source: str, at: float
    ) -> None:
        rows["customers_contactpoint"].append(
            (self.ids.take("customers_contactpoint"), customer, kind, value, source, False, "",
             ts(at))
        )  # fmt: skip

    def _activity(
        self,
        rows: Rows,
        customer: int,
        at: float,
        kind: str,
        channel: str,
        summary: str,
        subject: tuple[str, str],
        *,
        store: int | None = None,
        actor: int | None = None,
        actor_role: str = "",
        detail: str = "",
    ) -> None:
        # The id is assigned once the chunk's timeline is in order.
        rows["customers_activity"].append(
            (
                0, customer, ts(at), kind, channel,
                summary[:255], detail, store, actor, actor_role, subject[0], subject[1],
            )
        )  # fmt: skip

    def _order(
        self,
        rows: Rows,
        person: _Person,
        channel: str,
        at: float,
        pickup: bool,
        open_pickup_at: int | None,
    ) -> float:
        """One order and its lines (and pickup); returns the time of its last event."""
        rng, now = self.rng, self.world.now
        pk = self.ids.take("orders_order")
        number = order_number(channel, pk)
        at_store = channel in (Channel.STORE, Channel.KIOSK)
        store = (
            (person.store if rng.random() < 0.8 else rng.choice(self.world.stores))
            if at_store
            else None
        )
        fulfilment = (
            Fulfilment.PICKUP
            if pickup
            else Fulfilment.CARRY_OUT
            if channel == Channel.STORE
            else Fulfilment.SHIP
        )
        pickup_store = open_pickup_at or person.store if pickup else None
        lines = _LINE_COUNT(rng)
        subtotal, items, first_line, first_cents = 0, 0, 0, 0
        for _ in range(lines):
            product = rng.choice(self.world.products)
            quantity = 1 if rng.random() < 0.85 else 2
            line = self.ids.take("orders_orderline")
            if not first_line:
                first_line, first_cents = line, product.cents
            rows["orders_orderline"].append(
                (line, pk, product.pk, product.sku, product.name, quantity,
                 money(product.cents), money(product.cents * quantity))
            )  # fmt: skip
            subtotal += product.cents * quantity
            items += quantity
        shipping = 595 if fulfilment == Fulfilment.SHIP and subtotal < 5000 else 0
        total = subtotal + shipping
        age = now - at
        last = at
        status: str
        if open_pickup_at is not None:
            status = OrderStatus.PLACED
        elif pickup or channel == Channel.STORE:
            status = OrderStatus.COMPLETED
        elif age > 10 * DAY:
            status = OrderStatus.DELIVERED
        else:
            status = OrderStatus.SHIPPED if age > 2 * DAY else OrderStatus.PAID
        where = f" at {self.world.store_names[store]}" if store else ""
        self._activity(
            rows, person.pk, at, ActivityKind.ORDER_PLACED, channel,
            f"{_CHANNEL_LABEL[channel]} order {number}{where}: {items} item(s), "
            f"USD {total / 100:,.2f}",
            ("order", number), store=store,
        )  # fmt: skip
        if pickup:
            status, last = self._pickup(
                rows,
                person,
                pk,
                number,
                pickup_store or person.store,
                at,
                total,
                open_pickup_at is not None,
            )
        rows["orders_order"].append(
            (pk, number, person.pk, channel, store, status, fulfilment, pickup_store, ts(at),
             "USD", money(subtotal), money(shipping), "0.00", money(total), "", "", ts(at))
        )  # fmt: skip
        if status != OrderStatus.CANCELLED and open_pickup_at is None and age > 3 * DAY:
            person.orders.append((pk, number, at, first_line, first_cents))
        return last

    def _pickup(
        self,
        rows: Rows,
        person: _Person,
        order: int,
        number: str,
        store: int,
        at: float,
        total: int,
        waiting: bool,
    ) -> tuple[str, float]:
        """A pickup and its history; returns the order's status and the last event's time."""
        rng, now = self.rng, self.world.now
        pk = self.ids.take("orders_pickup")
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        steps: list[tuple[str, float]] = [(PickupStatus.PLACED, at)]
        ready = at + rng.uniform(2, 30) * HOUR
        collected: float | None = None
        if waiting:
            age = now - at
            if age > 2 * DAY or (age > 0.5 * DAY and rng.random() < 0.5):
                steps.append((PickupStatus.READY, min(ready, now - HOUR)))
            elif age > 3 * HOUR:
                steps.append((PickupStatus.PREPARING, at + HOUR))
        else:
            steps.append((PickupStatus.READY, ready))
            outcome = rng.random()
            if outcome < 0.9:
                collected = ready + rng.uniform(2, 6 * 24) * HOUR
                steps.append((PickupStatus.COLLECTED, collected))
            elif outcome < 0.97:
                steps.append((PickupStatus.EXPIRED, ready + 7 * DAY))
            else:
                steps.append((PickupStatus.CANCELLED, at + HOUR))
        status, last = steps[-1]
        ready_at = next((t for s, t in steps if s == PickupStatus.READY), None)
        rows["orders_pickup"].append(
            (pk, order, store, status, code, ts(ready_at) if ready_at else None,
             ts(ready_at + 7 * DAY) if ready_at else None, ts(collected) if collected else None,
             "", 0, ts(at), ts(last))
        )  # fmt: skip
        previous = ""
        for step, moment in steps:
            manager = self.world.managers.get(store)
            rows["orders_pickupevent"].append(
                (self.ids.take("orders_pickupevent"), pk, previous, step, "", ts(moment),
                 None if step == PickupStatus.PLACED else manager)
            )  # fmt: skip
            previous = step
            kind = _PICKUP_ACTIVITY.get(step)
            if kind:
                self._activity(
                    rows, person.pk, moment, kind, Channel.STORE,
                    f"Pickup {number} {_PICKUP_LABEL[step]}", ("order", number),
                    store=store,
                )  # fmt: skip
        if status in (PickupStatus.EXPIRED, PickupStatus.CANCELLED):
            rows["orders_refund"].append(
                (self.ids.take("orders_refund"), order, None,
                 RefundKind.PICKUP_EXPIRED
                 if status == PickupStatus.EXPIRED
                 else RefundKind.CANCELLATION,
                 money(total), RefundMethod.ORIGINAL_PAYMENT, ts(last))
            )  # fmt: skip
            return OrderStatus.CANCELLED, last
        return (OrderStatus.PLACED if waiting else OrderStatus.COMPLETED), last

    def _return(self, rows: Rows, person: _Person) -> float:
        """The first line of one of her orders comes back, at a store or by post."""
        rng, now = self.rng, self.world.now
        order, number, placed, line, cents = rng.choice(person.orders)
        pk = self.ids.take("orders_return")
        at = min(placed + rng.uniform(2, 25) * DAY, now - HOUR)
        online_waiting = rng.random() < 0.05
        store = None if online_waiting else person.store
        reason = rng.choice(_RETURN_REASONS)
        refund = 0 if online_waiting else cents
        rows["orders_return"].append(
            (pk, return_number(pk), Channel.WEB if online_waiting else Channel.STORE,
             ReturnStatus.AWAITING_ITEMS if online_waiting else ReturnStatus.COMPLETED,
             RefundMethod.ORIGINAL_PAYMENT, money(refund), "0.00", "0.00", money(refund), "",
             ts(at), None if online_waiting else ts(at), person.pk, order,
             None if store is None else self.world.managers.get(store), store)
        )  # fmt: skip
        rows["orders_returnline"].append(
            (self.ids.take("orders_returnline"), pk, line, 1, reason, ItemCondition.RESELLABLE,
             money(refund))
        )  # fmt: skip
        if online_waiting:
            self._activity(
                rows, person.pk, at, ActivityKind.RETURN_REQUESTED, Channel.WEB,
                f"Return {return_number(pk)} started online for order {number}: 1 item",
                ("order", number),
            )  # fmt: skip
            return at
        rows["orders_refund"].append(
            (self.ids.take("orders_refund"), order, pk, RefundKind.RETURN, money(refund),
             RefundMethod.ORIGINAL_PAYMENT, ts(at))
        )  # fmt: skip
        self._activity(
            rows, person.pk, at, ActivityKind.RETURN_RECEIVED, Channel.STORE,
            f"Return {return_number(pk)} of order {number}: 1 item, "
            f"USD {refund / 100:,.2f} refunded",
            ("order", number), store=store,
        )  # fmt: skip
        return at

    def _inquiry(self, rows: Rows, person: _Person, since: float) -> float:
        """One inquiry and its conversation: 5% still open, the rest resolved."""
        rng, world, now = self.rng, self.world, self.world.now
        pk = self.ids.take("tickets_inquiry")
        reference = f"R-{pk + REFERENCE_OFFSET}"
        subject, text, queue_slug = rng.choice(INQUIRY_SUBJECTS)
        channel = _INQUIRY_CHANNEL(rng)
        queue = world.queues.get(queue_slug, world.queues["service"])
        priority = Priority.HIGH if rng.random() < 0.1 else Priority.NORMAL
        is_open = rng.random() < 0.05
        count = _MESSAGE_COUNT(rng)
        created = (
            now - rng.uniform(0.05, 72) * HOUR if is_open else rng.uniform(since, now - 2 * DAY)
        )
        step = (now - created) / (count + 1) if is_open else rng.uniform(1, 8) * HOUR
        assignee = rng.choice(world.reps) if not is_open or rng.random() < 0.4 else None
        if channel == Channel.PHONE:
            assignee = assignee or rng.choice(world.reps)
        name = f"{person.first} {person.last}"
        kinds = [MessageKind.INBOUND if i % 2 == 0 else MessageKind.OUTBOUND for i in range(count)]
        if is_open and rng.random() < 0.4:
            kinds = [MessageKind.INBOUND] * count
        if not is_open and kinds[-1] == MessageKind.INBOUND and count > 1:
            kinds[-1] = MessageKind.OUTBOUND
        answered: float | None = None
        moment = created
        for index, kind in enumerate(kinds):
            moment = created + index * step
            inbound = kind == MessageKind.INBOUND
            if not inbound and answered is None:
                answered = moment
            message_id = f"bench.{pk}.{index}@mail.example.net" if channel == Channel.EMAIL else ""
            rows["tickets_message"].append(
                (self.ids.take("tickets_message"), pk, kind, channel if inbound else Channel.EMAIL,
                 None if inbound else assignee or world.reps[0],
                 person.email if inbound else "", name if inbound else "",
                 subject if index == 0 else f"Re: {subject}",
                 (text if index == 0 else FOLLOW_UP) if inbound else REPLY, "", message_id, "",
                 "", "", ts(moment))
            )  # fmt: skip
            if index == 0:
                self._activity(
                    rows, person.pk, moment, ActivityKind.INQUIRY_OPENED, channel,
                    f"Inquiry {reference} opened: {subject}", ("inquiry", str(pk)),
                )  # fmt: skip
            elif inbound:
                self._activity(
                    rows, person.pk, moment, ActivityKind.INQUIRY_MESSAGE, channel,
                    f"Customer wrote on {reference}", ("inquiry", str(pk)),
                )  # fmt: skip
            else:
                self._activity(
                    rows, person.pk, moment, ActivityKind.INQUIRY_REPLIED, Channel.EMAIL,
                    f"Reply sent on {reference}", ("inquiry", str(pk)),
                    actor=assignee or world.reps[0], actor_role="rep",
                )  # fmt: skip
        last_message = moment
        first_due = created + world.first_response_minutes.get((queue, priority), 360) * 60
        resolution_due = created + world.resolution_minutes.get((queue, priority), 4320) * 60
        if is_open:
            status = (
                InquiryStatus.NEW
                if answered is None
                else InquiryStatus.WAITING
                if kinds[-1] == MessageKind.OUTBOUND
                else InquiryStatus.OPEN
            )
            resolved = rated = None
            rating = None
        else:
            status = InquiryStatus.RESOLVED
            resolved = last_message + rng.uniform(0.1, 4) * HOUR
            rating = rng.choice((3, 4, 5, 5, 5)) if rng.random() < 0.25 else None
            rated = resolved + HOUR if rating else None
        breached = first_due if (answered or now) > first_due else None
        order = rng.choice(person.orders)[0] if person.orders and rng.random() < 0.5 else None
        updated = resolved or last_message
        rows["tickets_inquiry"].append(
            (pk, person.pk, channel, subject, status, priority, person.email, name,
             secrets.token_urlsafe(32), "",
             json.dumps([queue_slug] if queue_slug != "service" else []),
             queue, assignee, ts(created), f"Routed to the {queue_slug} queue", None, order,
             ts(created), ts(updated), ts(last_message), ts(first_due), ts(resolution_due),
             ts(answered) if answered else None,
             ts(last_message) if status == InquiryStatus.WAITING else None,
             ts(breached) if breached else None, ts(resolved) if resolved else None, "",
             rating, "", ts(rated) if rated else None)
        )  # fmt: skip
        return updated

    def _engagement(self, rows: Rows, person: _Person, since: float) -> None:
        """Offers she was sent, web shop visits, a cart left now and then, a wish list."""
        rng, now = self.rng, self.world.now
        for _ in range(_TOUCH_COUNT(rng)):
            pk = self.ids.take("customers_touch")
            sent = rng.uniform(since, now)
            offer = rng.choice(
                (OfferType.PERCENT_OFF, OfferType.AMOUNT_OFF, OfferType.FREE_SHIPPING)
            )
            value = {"percent_off": "15.00", "amount_off": "10.00"}.get(offer)
            channel = rng.choice((TouchChannel.EMAIL, TouchChannel.SMS))
            opened = sent + rng.uniform(1, 48) * HOUR if rng.random() < 0.4 else None
            clicked = opened + HOUR if opened and rng.random() < 0.4 else None
            campaign = rng.choice(CAMPAIGNS)
            rows["customers_touch"].append(
                (pk, person.pk, "mailer", f"bench-{pk}", campaign, "", offer, value, "", channel,
                 ts(sent), ts(opened) if opened and opened < now else None,
                 ts(clicked) if clicked and clicked < now else None, ts(sent))
            )  # fmt: skip
            self._activity(
                rows, person.pk, sent, ActivityKind.OFFER_SENT, _TOUCH_CHANNEL[channel],
                f"{_OFFER_LABEL[offer]} offer sent by {_TOUCH_LABEL[channel]}",
                ("touch", str(pk)), detail=campaign,
            )  # fmt: skip
        for _ in range(_VISIT_COUNT(rng)):
            pk = self.ids.take("customers_visit")
            at = rng.uniform(since, now)
            source = rng.choice(_VISIT_SOURCES)
            page = rng.choice(LANDING_PAGES)
            rows["customers_visit"].append(
                (pk, person.pk, ts(at), source, "", "", page, ts(at))
            )  # fmt: skip
            self._activity(
                rows, person.pk, at, ActivityKind.VISIT, Channel.WEB,
                f"Visited the web shop ({_VISIT_LABEL[source]})", ("visit", str(pk)),
                detail=page,
            )  # fmt: skip
        if rng.random() < 0.15:
            pk = self.ids.take("customers_cart")
            at = rng.uniform(since, now)
            product = rng.choice(self.world.products)
            step = rng.choice(_CHECKOUT_STEPS)
            items = json.dumps([{"sku": product.sku, "quantity": 1, "price": money(product.cents)}])
            rows["customers_cart"].append(
                (pk, person.pk, "webshop", f"bench-{pk}", items, money(product.cents), ts(at),
                 step, ts(at))
            )  # fmt: skip
            self._activity(
                rows, person.pk, at, ActivityKind.CART_ABANDONED, Channel.WEB,
                f"Cart abandoned at {_STEP_LABEL[step]}: 1 item, "
                f"USD {product.cents / 100:,.2f}",
                ("cart", str(pk)), detail=f"1 × {product.sku}",
            )  # fmt: skip
        if rng.random() < 0.15:
            at = rng.uniform(since, now)
            product = rng.choice(self.world.products)
            rows["customers_wishlistitem"].append(
                (self.ids.take("customers_wishlistitem"), person.pk, product.pk, ts(at))
            )
            self._activity(
                rows, person.pk, at, ActivityKind.WISHLIST_CHANGED, Channel.WEB,
                f"Added {product.name} to the wish list", ("product", product.sku),
            )  # fmt: skip


_PICKUP_ACTIVITY: dict[str, str] = {
    PickupStatus.READY: ActivityKind.PICKUP_READY,
    PickupStatus.COLLECTED: ActivityKind.PICKUP_COLLECTED,
    PickupStatus.EXPIRED: ActivityKind.PICKUP_EXPIRED,
    PickupStatus.CANCELLED: ActivityKind.PICKUP_CANCELLED,
}


def _mailbox(name: str) -> str:
    return "".join(c for c in search_key(name) if c.isalnum() and c.isascii())
