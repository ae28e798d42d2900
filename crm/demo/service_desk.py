"""The demo's service desk: teams, routing rules, SLA targets, canned answers, and inquiries in
every state from every channel, written through the services like everything else in the demo.

Inquiries are opened now and then moved back in time, so that the queue shows timers that are
comfortable, close to their target, and breached.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.db.models import F

from crm.demo.knowledge import knowledge_write
from crm.models import Channel, User
from customers.models import Activity, ContactKind, Customer
from customers.services import Identity
from stores.models import Store
from tickets.models import (
    Assignment,
    CallbackRequest,
    CannedResponse,
    Inquiry,
    InquiryEvent,
    InquiryStatus,
    Message,
    Priority,
    Queue,
    QueueMembership,
    RoutingRule,
    SlaPolicy,
)
from tickets.services.callbacks import callback_request
from tickets.services.customer_side import inquiry_rate
from tickets.services.email_intake import email_ingest
from tickets.services.inquiries import (
    IncomingMessage,
    customer_email,
    inquiry_open,
    inquiry_set_status,
)
from tickets.services.workspace import inquiry_note_add, inquiry_reply

MAYA_ZONE = zoneinfo.ZoneInfo("America/Los_Angeles")
CANNED = (
    (
        "Refund timing",
        "Your refund was issued today. Card refunds show on your statement within 3 to 5 "
        "business days, depending on your bank.",
    ),
    (
        "Pickup hold period",
        "Your order is held at the store for 7 days from the day it was ready. Bring the "
        "pickup code from your e-mail; we can also find the order from your phone number.",
    ),
    (
        "Where is my order",
        "Your parcel is on its way. You can follow it with the tracking link in your shipping "
        "confirmation; it usually arrives within 2 business days.",
    ),
    (
        "Closing",
        "I'm glad we could sort this out. Just reply to this e-mail if anything else comes up.",
    ),
)

# Anonymous web-form inquiries that fill the queue: (subject, text, hours ago).
QUEUE_FILLERS = (
    ("Gift card balance", "How do I check the balance on a gift card I received?", 2),
    ("Order not arrived", "My order was due yesterday and the tracking has not moved.", 5),
    ("Wrong size", "I ordered a medium and got a large. Can I exchange it?", 30),
    ("Refund not received", "I returned a jacket two weeks ago and have no refund yet.", 80),
    ("Store opening hours", "Is the Denver store open on public holidays?", 1),
    ("Damaged parcel", "The box arrived crushed and the glass storage set is broken.", 7),
    ("Loyalty points missing", "My last store purchase did not add loyalty points.", 50),
    ("Change delivery address", "Can I still change the address of an order I placed today?", 3),
)


@dataclass(frozen=True)
class Desk:
    queues: dict[str, Queue]
    rep: User
    supervisor: User


def desk_write(
    *,
    users: dict[str, User],
    workplaces: dict[int, Store],
    stories: dict[str, Customer],
    now: datetime,
) -> int:
    """Write the service desk and its inquiries; returns how many inquiries were opened."""
    # The articles first: the inquiries' acknowledgements list those that match.
    knowledge_write(author=users["supervisor"])
    desk = teams_write(users)
    _story_inquiries_write(desk, users, workplaces, stories, now)
    # The crowd's first customers with an e-mail address write through the web form.
    writers = (
        Customer.objects.filter(contact_points__kind=ContactKind.EMAIL)
        .exclude(pk__in=[customer.pk for customer in stories.values()])
        .order_by("id")
        .distinct()[: len(QUEUE_FILLERS)]
    )
    for writer, (subject, text, hours_ago) in zip(writers, QUEUE_FILLERS, strict=False):
        inquiry = inquiry_open(
            channel=Channel.WEB_FORM,
            identity=Identity(email=customer_email(writer)),
            subject=subject,
            message=IncomingMessage(text=text),
        )
        _move_back(inquiry, timedelta(hours=hours_ago))
    return Inquiry.objects.count()


def teams_write(users: dict[str, User]) -> Desk:
    rep, supervisor = users["rep"], users["supervisor"]
    default = Queue.objects.get(is_default=True)
    queues = {"service": default}
    for slug, name, description in (
        ("returns", "Returns & refunds", "Returns, refunds and exchanges from every channel."),
        ("pickups", "Store pickups", "Buy online, pick up in store: holds, codes, changes."),
        ("priority", "Priority customers", "Our most valuable customers, answered first."),
    ):
        queues[slug] = Queue.objects.create(name=name, slug=slug, description=description)
    for queue in queues.values():
        queue.supervisor = supervisor
        queue.save(update_fields=["supervisor"])
        QueueMembership.objects.create(queue=queue, user=rep)
        QueueMembership.objects.create(queue=queue, user=supervisor, is_available=False)
        SlaPolicy.objects.create(
            queue=queue,
            priority=Priority.URGENT,
            first_response_minutes=60,
            resolution_minutes=24 * 60,
        )
        SlaPolicy.objects.create(queue=queue, priority=Priority.HIGH, first_response_minutes=2 * 60)
    for position, rule in enumerate(
        (
            RoutingRule(
                name="Pickup questions",
                has_open_pickup=True,
                keywords="pickup\npick up\ncollect\nready",
                queue=queues["pickups"],
                assignment=Assignment.ROUND_ROBIN,
                tags=["pickup"],
            ),
            RoutingRule(
                name="Returns and refunds",
                keywords="refund\nreturn\nexchange\ndamaged\nbroken\ntorn",
                queue=queues["returns"],
                assignment=Assignment.FEWEST_OPEN,
                tags=["returns"],
            ),
            RoutingRule(
                name="Platinum customers",
                value_tiers=["platinum"],
                queue=queues["priority"],
                priority=Priority.HIGH,
                assignment=Assignment.FEWEST_OPEN,
            ),
            RoutingRule(
                name="Call-back requests",
                channels=[Channel.CALLBACK],
                queue=queues["service"],
                priority=Priority.HIGH,
                tags=["call-back"],
            ),
        )
    ):
        rule.position = position
        rule.updated_by = supervisor
        rule.save()
    CannedResponse.objects.bulk_create(CannedResponse(title=t, body=b) for t, b in CANNED)
    return Desk(queues, rep, supervisor)


def _story_inquiries_write(
    desk: Desk,
    users: dict[str, User],
    workplaces: dict[int, Store],
    stories: dict[str, Customer],
    now: datetime,
) -> None:
    maya = stories["Maya Johnson"]
    rep = desk.rep

    # An answered and rated inquiry from the spring, and one waiting on her now.
    old = inquiry_open(
        channel=Channel.WEB_FORM,
        customer=maya,
        subject="Dutch oven lid chipped",
        message=IncomingMessage(text="The lid of the Dutch oven I ordered has a chipped rim."),
    )
    inquiry_reply(
        inquiry=old,
        text="I'm sorry about the lid. A replacement ships today; no need to send anything back.",
        actor=rep,
    )
    inquiry_set_status(inquiry=old, status=InquiryStatus.RESOLVED, actor=rep)
    inquiry_rate(inquiry=old, rating=5, comment="Quick and friendly, thank you!", actor=None)
    _move_back(old, timedelta(days=110))

    torn = inquiry_open(
        channel=Channel.PORTAL,
        customer=maya,
        actor=users["customer"],
        subject="Wrap dress seam torn after one wear",
        message=IncomingMessage(
            text="The seam of the wrap dress came apart under the arm after one wear. "
            "Can I exchange it at the Union Square store?"
        ),
    )
    inquiry_note_add(
        inquiry=torn, text="Second quality issue with this dress this month.", actor=rep
    )
    inquiry_reply(
        inquiry=torn,
        text="Yes, any store can exchange it. Which size would you like? I'll reserve one.",
        actor=rep,
    )
    inquiry_set_status(inquiry=torn, status=InquiryStatus.WAITING, actor=rep)
    _move_back(torn, timedelta(hours=20))

    # Tomorrow morning, her time.
    morning = datetime.combine(
        now.astimezone(MAYA_ZONE).date() + timedelta(days=1), time(10), tzinfo=MAYA_ZONE
    )
    callback_request(
        customer=maya,
        phone="(415) 555-0134",
        window_start=morning,
        window_end=morning + timedelta(hours=2),
        note="Questions about the loyalty programme.",
        channel=Channel.PORTAL,
        actor=users["customer"],
    )

    # An e-mail through the mail gateway's path, and an out-of-office answer that is not answered.
    email_ingest(raw=_mail("dokafor@example.net", "Where is my overcoat?", now, 26), source="demo")
    email_ingest(
        raw=_mail(
            "dokafor@example.net",
            "Out of office: Re: your order",
            now,
            25,
            {"Auto-Submitted": "auto-replied"},
        ),
        source="demo",
    )

    call = inquiry_open(
        channel=Channel.PHONE,
        customer=stories["Sofia Ramirez"],
        actor=rep,
        acknowledge=False,
        subject="Down jacket zip stuck",
        message=IncomingMessage(
            text="Called about the down jacket's zip. Explained the warranty; she will bring "
            "it to the Austin store."
        ),
    )
    inquiry_set_status(inquiry=call, status=InquiryStatus.RESOLVED, actor=rep)
    _move_back(call, timedelta(days=3))

    store_report = inquiry_open(
        channel=Channel.STORE,
        customer=stories["Aisha Khan"],
        actor=users["manager"],
        store=workplaces[users["manager"].pk],
        subject="Chef's knife handle cracked",
        message=IncomingMessage(
            text="Customer came to the counter: the handle of the chef's knife bought at the "
            "kiosk cracked. She wants a replacement, not a refund."
        ),
    )
    _move_back(store_report, timedelta(hours=9))


def _mail(
    sender: str,
    subject: str,
    now: datetime,
    hours_ago: int,
    headers: dict[str, str] | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "service@example.com"
    message["Subject"] = subject
    message["Date"] = format_datetime(now - timedelta(hours=hours_ago))
    message["Message-ID"] = make_msgid(domain="mail.example.net")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(
        "Hello,\n\nI ordered an overcoat by phone five weeks ago and it has not arrived.\n"
        "Could you tell me where it is?\n\nThanks"
    )
    return message.as_bytes()


def _move_back(inquiry: Inquiry, delta: timedelta) -> None:
    """Shift an inquiry and everything it wrote back in time, as if it had happened earlier."""
    moved = {
        name: F(name) - delta
        for name in (
            "created_at",
            "last_message_at",
            "routed_at",
            "first_response_due_at",
            "resolution_due_at",
            "first_responded_at",
            "sla_paused_at",
            "resolved_at",
            "rated_at",
        )
    }
    Inquiry.objects.filter(pk=inquiry.pk).update(**moved)
    Message.objects.filter(inquiry=inquiry).update(created_at=F("created_at") - delta)
    InquiryEvent.objects.filter(inquiry=inquiry).update(created_at=F("created_at") - delta)
    CallbackRequest.objects.filter(inquiry=inquiry).update(created_at=F("created_at") - delta)
    Activity.objects.filter(subject_type="inquiry", subject_id=str(inquiry.pk)).update(
        occurred_at=F("occurred_at") - delta
    )
