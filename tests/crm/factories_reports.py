"""Rows for the report tests, written straight to the tables with the exact timestamps a test
needs (the services stamp "now"): inquiries with their answers and ratings, acknowledgements,
call-backs and their calls, orders, pickups and returns."""

import itertools
import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from crm.models import AuditEntry, Channel, OutboundEmail, OutboundEmailStatus
from crm.services import audit_backdating
from customers.models import Customer
from orders.models import (
    Order,
    OrderLine,
    Pickup,
    PickupStatus,
    Return,
    ReturnLine,
    ReturnReason,
    ReturnStatus,
)
from stores.models import Store
from tests.factories import CustomerFactory
from tickets.models import CallbackRequest, CallbackStatus, Inquiry, InquiryStatus, Queue

_numbers = itertools.count(1)


def inquiry(
    *,
    created_at: datetime,
    channel: str = Channel.WEB_FORM,
    queue: Queue | None = None,
    store: Store | None = None,
    customer: Customer | None = None,
    **fields: object,
) -> Inquiry:
    """An inquiry as it stands after its life so far: pass first_responded_at, resolved_at,
    rating and rated_at, automated_reason, merged_into... as the test needs them."""
    if "resolved_at" in fields and fields["resolved_at"] is not None:
        fields.setdefault("status", InquiryStatus.RESOLVED)
    return Inquiry.objects.create(
        customer=customer if customer is not None else CustomerFactory.create(),
        channel=channel,
        subject="A question",
        queue=queue,
        store=store,
        created_at=created_at,
        last_message_at=created_at,
        **fields,
    )


def acknowledged(item: Inquiry, *, sent_after: timedelta | None) -> OutboundEmail:
    """Give the inquiry its acknowledgement e-mail, sent `sent_after` its arrival (None: unsent)."""
    number = next(_numbers)
    email = OutboundEmail.objects.create(
        key=f"inquiry-ack:{item.pk}",
        to=["maya@example.com"],
        subject="We received your message",
        text_body="Thank you.",
        message_id=f"ack-{number}@example.com",
        status=OutboundEmailStatus.SENT if sent_after is not None else OutboundEmailStatus.PENDING,
        sent_at=item.created_at + sent_after if sent_after is not None else None,
    )
    Inquiry.objects.filter(pk=item.pk).update(acknowledgement=email)
    return email


def callback(
    *,
    window_start: datetime,
    hours: int = 2,
    calls: tuple[datetime, ...] = (),
    store: Store | None = None,
    status: str = CallbackStatus.PENDING,
) -> CallbackRequest:
    """A call-back request for a window, and the calls made for it (each an audit entry, as
    callback_log_outcome writes them)."""
    item = inquiry(
        created_at=window_start - timedelta(hours=1), channel=Channel.CALLBACK, store=store
    )
    assert item.customer is not None
    request = CallbackRequest.objects.create(
        inquiry=item,
        customer=item.customer,
        phone="+14155550134",
        window_start=window_start,
        window_end=window_start + timedelta(hours=hours),
        due_at=window_start,
        status=status,
    )
    for attempt, moment in enumerate(calls, start=1):
        entry = AuditEntry.objects.create(
            action="callback.outcome",
            object_type="tickets.callbackrequest",
            object_id=str(request.pk),
            data={"outcome": "reached", "attempts": attempt},
        )
        with audit_backdating():
            AuditEntry.objects.filter(pk=entry.pk).update(occurred_at=moment)
    return request


def order(
    *,
    customer: Customer,
    channel: str,
    placed_at: datetime,
    store: Store | None = None,
    lines: int = 1,
) -> Order:
    placed = Order.objects.create(
        number=f"R{next(_numbers):06d}",
        customer=customer,
        channel=channel,
        store=store,
        placed_at=placed_at,
        total=Decimal("20.00") * lines,
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=placed,
            sku=f"SKU-{n}",
            name=f"Item {n}",
            quantity=3,
            unit_price=Decimal("10.00"),
            line_total=Decimal("30.00"),
        )
        for n in range(lines)
    )
    return placed


def pickup(
    *,
    store: Store,
    status: str,
    ready_at: datetime | None = None,
    collected_at: datetime | None = None,
    hold_until: datetime | None = None,
    customer: Customer | None = None,
) -> Pickup:
    """A pick-up order's pickup, placed online the day before its first moment."""
    first = min(moment for moment in (ready_at, collected_at, hold_until) if moment is not None)
    placed = order(
        customer=customer or CustomerFactory.create(),
        channel=Channel.WEB,
        placed_at=first - timedelta(days=1),
    )
    return Pickup.objects.create(
        order=placed,
        store=store,
        status=status,
        ready_at=ready_at,
        collected_at=collected_at,
        hold_until=hold_until,
    )


def returned(
    *,
    bought: Order,
    store: Store | None,
    completed_at: datetime | None,
    lines: list[tuple[str, int]],
    channel: str = Channel.STORE,
) -> Return:
    """Items of the order brought back: (reason, quantity) for each of its lines in turn."""
    back = Return.objects.create(
        number=f"RT{next(_numbers):06d}",
        customer=bought.customer,
        order=bought,
        channel=channel,
        store=store,
        status=ReturnStatus.COMPLETED if completed_at else ReturnStatus.AWAITING_ITEMS,
        created_at=completed_at or bought.placed_at,
        completed_at=completed_at,
    )
    order_lines = list(bought.lines.order_by("id"))
    ReturnLine.objects.bulk_create(
        ReturnLine(
            return_request=back,
            order_line=order_lines[index],
            quantity=quantity,
            reason=reason,
            condition="resellable",
        )
        for index, (reason, quantity) in enumerate(lines)
    )
    return back


def fill(count: int, *, stores: list, queue) -> None:
    """`count` of everything every chart counts, within the default range, in the given stores."""
    for n in range(count):
        store = stores[n % len(stores)]
        customer = CustomerFactory()
        moment = timezone.now() - timedelta(days=1 + n % 5)
        item = inquiry(
            created_at=moment,
            channel=[Channel.EMAIL, Channel.WEB_FORM, Channel.STORE][n % 3],
            queue=queue,
            store=store,
            customer=customer,
            first_responded_at=moment + timedelta(hours=n % 9),
            first_response_due_at=moment + timedelta(hours=6),
            resolved_at=moment + timedelta(hours=n % 30),
            rating=1 + n % 5,
            rated_at=moment + timedelta(days=1),
        )
        acknowledged(item, sent_after=timedelta(seconds=20 * n))
        callback(window_start=moment, calls=(moment + timedelta(minutes=45 * n),), store=store)
        bought = order(customer=customer, channel=Channel.WEB, placed_at=moment, lines=2)
        returned(
            bought=bought,
            store=store,
            completed_at=moment + timedelta(hours=3),
            lines=[(ReturnReason.DAMAGED, 1), (ReturnReason.DOES_NOT_FIT, 2)],
        )
        pickup(
            store=store,
            status=PickupStatus.COLLECTED,
            ready_at=moment,
            collected_at=moment + timedelta(hours=n % 20),
            customer=customer,
        )


def shop_history(
    *, stores: list[Store], queues: list[Queue], days: int = 30, seed: int = 7
) -> None:
    """A month of a small retailer, for looking at the dashboards: every day inquiries from every
    channel into every queue (answered, mostly in time; resolved, some rated; acknowledged), a
    call-back, orders online and at the stores from a pool of regulars, pickups and returns."""
    rng = random.Random(seed)
    now = timezone.now()
    regulars = [CustomerFactory.create() for _ in range(40)]
    channels = [Channel.EMAIL, Channel.WEB_FORM, Channel.WEB_FORM, Channel.PORTAL, Channel.PHONE]
    channels += [Channel.STORE, Channel.CALLBACK]
    answer_minutes = [15, 30, 45, 75, 100, 150, 200, 280, 330, 420, 600, 1000, 1700, 3100]
    for back in range(days, 0, -1):
        day = now - timedelta(days=back)
        for _ in range(rng.randint(5, 10)):
            moment = day + timedelta(minutes=rng.randint(0, 1380))
            answered = moment + timedelta(minutes=rng.choice(answer_minutes))
            resolved = answered + timedelta(hours=rng.randint(1, 70))
            done = resolved < now and rng.random() < 0.85
            rated = done and rng.random() < 0.5
            item = inquiry(
                created_at=moment,
                channel=rng.choice(channels),
                queue=rng.choice(queues),
                store=rng.choice([*stores, None, None, None]),
                customer=rng.choice(regulars),
                first_responded_at=answered if answered < now else None,
                first_response_due_at=moment + timedelta(hours=6),
                resolved_at=resolved if done else None,
                rating=rng.choice([5, 5, 5, 4, 4, 4, 3, 2, 1]) if rated else None,
                rated_at=resolved + timedelta(hours=2) if rated else None,
            )
            acknowledged(
                item, sent_after=timedelta(seconds=rng.choice([9, 20, 35, 50, 58, 90, 400]))
            )
        window = day.replace(hour=15, minute=0)
        if window < now - timedelta(hours=3):
            delay = timedelta(minutes=rng.choice([-10, 20, 50, 100, 150]))
            callback(window_start=window, calls=(window + delay,) if rng.random() < 0.9 else ())
        for store in stores:
            for _ in range(rng.randint(1, 3)):
                who = rng.choice(regulars)
                order(
                    customer=who,
                    channel=rng.choice([Channel.STORE, Channel.KIOSK]),
                    placed_at=day,
                    store=store,
                )
                ready = day + timedelta(hours=rng.randint(1, 20))
                collected = ready + timedelta(hours=rng.randint(2, 70))
                expired = rng.random() < 0.12 and ready + timedelta(days=7) < now
                pickup(
                    store=store,
                    status=PickupStatus.EXPIRED
                    if expired
                    else PickupStatus.COLLECTED
                    if collected < now
                    else PickupStatus.READY,
                    ready_at=ready,
                    collected_at=collected if collected < now and not expired else None,
                    hold_until=ready + timedelta(days=7),
                    customer=who,
                )
            if rng.random() < 0.6:
                bought = order(
                    customer=rng.choice(regulars),
                    channel=rng.choice([Channel.WEB, Channel.WEB, Channel.PHONE, Channel.STORE]),
                    placed_at=day - timedelta(days=10),
                    lines=2,
                )
                returned(
                    bought=bought,
                    store=store,
                    completed_at=day + timedelta(hours=rng.randint(1, 20)),
                    lines=[(rng.choice(list(ReturnReason)), rng.randint(1, 3))],
                )
