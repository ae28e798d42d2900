"""Buy online, pick up in store: the pickup's life from placed to collected, expired or cancelled,
with the stock it holds and the e-mails it sends."""

import secrets
import zoneinfo
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import dateformat, timezone

from crm.models import Channel, User
from crm.services import audit_record, email_enqueue
from crm.webhooks import webhook_event_emit
from customers.models import ActivityKind, ContactKind, ContactPoint
from customers.services import activity_record
from orders.models import (
    Order,
    OrderStatus,
    Pickup,
    PickupEvent,
    PickupStatus,
    Product,
    Refund,
    RefundKind,
)
from stores.models import StockAction, Store, StoreKind
from stores.selectors import stores_with_available
from stores.services import stock_adjust

# Every legal move; anything else is refused. Expiry only ends a pickup that was ready and held.
TRANSITIONS: dict[str, frozenset[str]] = {
    PickupStatus.PLACED: frozenset({PickupStatus.PREPARING, PickupStatus.CANCELLED}),
    PickupStatus.PREPARING: frozenset({PickupStatus.READY, PickupStatus.CANCELLED}),
    PickupStatus.READY: frozenset(
        {PickupStatus.COLLECTED, PickupStatus.EXPIRED, PickupStatus.CANCELLED}
    ),
    PickupStatus.COLLECTED: frozenset(),
    PickupStatus.EXPIRED: frozenset(),
    PickupStatus.CANCELLED: frozenset(),
}
# No 0/O, 1/I/L: a code read aloud or typed from a phone screen is read right.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
# After this many wrong codes the code is no longer accepted: the associate checks an ID instead.
MAX_WRONG_CODES = 5
REMINDER_BEFORE = timedelta(days=2)

_ACTIVITY: dict[str, str] = {
    PickupStatus.READY: ActivityKind.PICKUP_READY,
    PickupStatus.COLLECTED: ActivityKind.PICKUP_COLLECTED,
    PickupStatus.EXPIRED: ActivityKind.PICKUP_EXPIRED,
    PickupStatus.CANCELLED: ActivityKind.PICKUP_CANCELLED,
}
_REFUND_KIND: dict[str, str] = {
    PickupStatus.EXPIRED: RefundKind.PICKUP_EXPIRED,
    PickupStatus.CANCELLED: RefundKind.CANCELLATION,
}


def pickup_create(*, order: Order, store: Store, actor: User | None = None) -> Pickup:
    """Start the pickup of a pick-up order at its store and reserve every line there, in the
    caller's transaction. Only an active store (not a warehouse) hands out orders; a line the
    store cannot cover is refused, naming the stores that could."""
    if store.kind != StoreKind.STORE or not store.is_active:
        raise ValidationError({"pickup_store": [f"{store.name} does not hand out pickups."]})
    pickup = Pickup.objects.create(order=order, store=store)
    PickupEvent.objects.create(pickup=pickup, to_status=PickupStatus.PLACED, actor=actor)
    for product, quantity in _units(pickup.order):
        try:
            stock_adjust(
                store=store,
                product=product,
                action=StockAction.RESERVE,
                quantity=quantity,
                actor=actor,
                reference=order.number,
            )
        except ValidationError:
            elsewhere = [s.name for s in stores_with_available(product=product, quantity=quantity)]
            where = (
                f" In stock at: {', '.join(elsewhere)}."
                if elsewhere
                else " No other store has enough."
            )
            raise ValidationError(
                {
                    "pickup_store": [
                        f"{store.name} does not have {quantity} of {product.sku} "
                        f"({product.name}) available.{where}"
                    ]
                }
            ) from None
    return pickup


def pickup_set_status(*, pickup: Pickup, to: str, actor: User | None, note: str = "") -> Pickup:
    """Move a pickup along its life (placed → preparing → ready → collected, or expired or
    cancelled) and refuse any other move. Each move is recorded (event, timeline, audit) with its
    effect: ready gets a code, a hold date and the customer's e-mail; collected sells the reserved
    stock; expired and cancelled release it, refund the order total, cancel the order and tell the
    customer."""
    with transaction.atomic():
        locked = (
            Pickup.objects.select_for_update(of=("self",))
            .select_related("store", "order", "order__customer")
            .get(pk=pickup.pk)
        )
        origin = locked.status
        if to not in TRANSITIONS.get(origin, frozenset()):
            raise ValidationError(
                f"A pickup that is {PickupStatus(origin).label.lower()} cannot be {_verb(to)}."
            )
        now = timezone.now()
        locked.status = to
        _apply(locked, to=to, now=now, actor=actor)
        locked.save()
        PickupEvent.objects.create(
            pickup=locked,
            from_status=origin,
            to_status=to,
            actor=actor,
            note=note[:255],
            occurred_at=now,
        )
        order = locked.order
        if to in _ACTIVITY:
            activity_record(
                customer=order.customer,
                kind=_ACTIVITY[to],
                channel=Channel.STORE,
                store=locked.store,
                actor=actor,
                occurred_at=now,
                summary=_summary(locked, to),
                detail=note,
                subject=("order", order.number),
            )
        audit_record(
            actor=actor,
            action=f"pickup.{to}",
            obj=locked,
            data={"from": origin, "to": to, "order": order.number, "note": note},
        )
    return locked


def pickup_collect(
    *, pickup: Pickup, actor: User, code: str = "", id_check_reason: str = ""
) -> Pickup:
    """Hand a ready pickup over to the customer who gives its code, or whose ID the associate
    checked and says why there was no code. A wrong code is refused and counted (the count stays
    even though the hand-over fails); after five wrong codes only an ID check will do."""
    reason = " ".join(id_check_reason.split())
    given = "".join(code.split()).upper().replace("-", "")
    if not given and not reason:
        raise ValidationError("Enter the customer's pickup code, or check an ID and say why.")
    if reason:
        return pickup_set_status(
            pickup=pickup, to=PickupStatus.COLLECTED, actor=actor, note=f"ID checked: {reason}"
        )
    with transaction.atomic():
        locked = Pickup.objects.select_for_update().get(pk=pickup.pk)
        if locked.status != PickupStatus.READY:
            raise ValidationError("Only a ready pickup can be collected.")
        too_many = locked.wrong_code_attempts >= MAX_WRONG_CODES
        matches = secrets.compare_digest(given.encode(), locked.code.encode())
        if not matches or too_many:
            locked.wrong_code_attempts += 1
            locked.save(update_fields=["wrong_code_attempts", "updated_at"])
            audit_record(
                actor=actor,
                action="pickup.wrong_code",
                obj=locked,
                data={"attempts": locked.wrong_code_attempts},
            )
    # Raised after the commit, so the attempt stays counted.
    if too_many:
        raise ValidationError(
            "Too many wrong codes for this pickup: check the customer's ID instead."
        )
    if not matches:
        raise ValidationError("That pickup code is wrong. Check it with the customer.")
    return pickup_set_status(
        pickup=locked, to=PickupStatus.COLLECTED, actor=actor, note="Pickup code checked"
    )


def pickups_expire(*, now: datetime | None = None) -> int:
    """Expire every ready pickup past its hold date (releasing stock, refunding, telling the
    customer). Each is re-checked under its lock, so a run repeated, or racing a collection,
    changes nothing twice. Returns how many expired."""
    now = now or timezone.now()
    due = Pickup.objects.filter(status=PickupStatus.READY, hold_until__lte=now)
    expired = 0
    for pickup_id in due.values_list("pk", flat=True).order_by("hold_until"):
        with transaction.atomic():
            pickup = (
                Pickup.objects.select_for_update(skip_locked=True)
                .filter(pk=pickup_id, status=PickupStatus.READY, hold_until__lte=now)
                .first()
            )
            if pickup is None:
                continue
            pickup_set_status(
                pickup=pickup,
                to=PickupStatus.EXPIRED,
                actor=None,
                note="Not collected within the hold period",
            )
            expired += 1
    return expired


def pickups_remind(*, now: datetime | None = None) -> int:
    """E-mail the customer once when a ready pickup has two days or less of its hold left. The
    reminder time on the pickup and the outbox key make a repeated run send nothing more."""
    now = now or timezone.now()
    due = Pickup.objects.filter(
        status=PickupStatus.READY,
        reminder_sent_at__isnull=True,
        hold_until__gt=now,
        hold_until__lte=now + REMINDER_BEFORE,
    )
    reminded = 0
    for pickup_id in due.values_list("pk", flat=True).order_by("hold_until"):
        with transaction.atomic():
            pickup = (
                Pickup.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("store", "order", "order__customer")
                .filter(pk=pickup_id, status=PickupStatus.READY, reminder_sent_at__isnull=True)
                .first()
            )
            if pickup is None:
                continue
            _email(pickup, "reminder", subject=f"Reminder: order {pickup.order.number} is waiting")
            pickup.reminder_sent_at = now
            pickup.save(update_fields=["reminder_sent_at", "updated_at"])
            reminded += 1
    return reminded


def pickup_code() -> str:
    """A fresh pickup code: six characters that can't be misread."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _apply(pickup: Pickup, *, to: str, now: datetime, actor: User | None) -> None:
    order = pickup.order
    if to == PickupStatus.READY:
        pickup.code = pickup_code()
        pickup.ready_at = now
        pickup.hold_until = now + timedelta(days=pickup.store.pickup_hold_days)
        _email(pickup, "ready", subject=f"Order {order.number} is ready for pickup")
        webhook_event_emit(event="pickup.ready", obj=pickup)
    elif to == PickupStatus.COLLECTED:
        _move_stock(pickup, StockAction.SELL_RESERVED, actor)
        pickup.collected_at = now
        order.status = OrderStatus.COMPLETED
        order.save(update_fields=["status"])
    elif to in _REFUND_KIND:
        _move_stock(pickup, StockAction.RELEASE, actor)
        Refund.objects.create(
            order=order, kind=_REFUND_KIND[to], amount=order.total, created_at=now
        )
        order.status = OrderStatus.CANCELLED
        order.save(update_fields=["status"])
        verb = "has expired" if to == PickupStatus.EXPIRED else "was cancelled"
        _email(pickup, to, subject=f"Your pickup of order {order.number} {verb}")


def _units(order: Order) -> list[tuple[Product, int]]:
    """Each product of the order with its quantity over all its lines, in a fixed order (by id),
    so that concurrent stock changes lock the same rows in the same order."""
    wanted: Counter[int] = Counter()
    products: dict[int, Product] = {}
    for line in order.lines.select_related("product"):
        if line.product is not None:
            wanted[line.product.pk] += line.quantity
            products[line.product.pk] = line.product
    return [(products[pk], quantity) for pk, quantity in sorted(wanted.items())]


def _move_stock(pickup: Pickup, action: str, actor: User | None) -> None:
    for product, quantity in _units(pickup.order):
        stock_adjust(
            store=pickup.store,
            product=product,
            action=action,
            quantity=quantity,
            actor=actor,
            reference=pickup.order.number,
        )


def _email(pickup: Pickup, event: str, *, subject: str) -> None:
    """Tell the customer, through the outbox, once per pickup and event."""
    customer = pickup.order.customer
    address = (
        ContactPoint.objects.filter(customer=customer, kind=ContactKind.EMAIL)
        .order_by("-verified", "id")
        .values_list("value", flat=True)
        .first()
    )
    if address is None:
        # No e-mail address on record: the store phones or the customer sees it in her account.
        return
    context: dict[str, Any] = {
        "customer": customer,
        "order": pickup.order,
        "pickup": pickup,
        "store": pickup.store,
        "hold_until": _store_time(pickup.hold_until, pickup.store),
    }
    email_enqueue(
        to=address,
        subject=subject,
        text=render_to_string(f"email/pickup_{event}.txt", context),
        key=f"pickup-{event}:{pickup.pk}",
        customer=customer,
    )


def _store_time(moment: datetime | None, store: Store) -> str:
    """A date and time as the store's clock shows it, e.g. "Friday, May 3, 6:00 PM EDT"."""
    if moment is None:
        return ""
    local = timezone.localtime(moment, zoneinfo.ZoneInfo(store.time_zone))
    return dateformat.format(local, "l, F j, g:i A T")


def _summary(pickup: Pickup, to: str) -> str:
    number, store = pickup.order.number, pickup.store.name
    summaries: dict[str, str] = {
        PickupStatus.READY: f"Order {number} ready for pickup at {store}",
        PickupStatus.COLLECTED: f"Order {number} collected at {store}",
        PickupStatus.EXPIRED: f"Pickup of order {number} at {store} expired, order refunded",
        PickupStatus.CANCELLED: f"Pickup of order {number} at {store} cancelled, order refunded",
    }
    return summaries.get(to, f"Pickup of order {number} at {store}: {to}")


def _verb(to: str) -> str:
    verbs: dict[str, str] = {
        PickupStatus.PREPARING: "prepared",
        PickupStatus.READY: "marked ready",
        PickupStatus.COLLECTED: "collected",
        PickupStatus.EXPIRED: "expired",
        PickupStatus.CANCELLED: "cancelled",
        PickupStatus.PLACED: "placed again",
    }
    return verbs.get(to, f"moved to {to}")
