"""The acknowledgement: the reference, a tracking link and an honest expected answer time.

The expected answer time comes from the live state of the queue the inquiry was routed to:

    backlog  = the queue's inquiries still waiting for a first response (new or open, no first
               response yet, routed before this one; automated mail and merged inquiries aside)
    rate     = first responses the queue gave in its last 24 working hours, per working hour
    wait     = (backlog + 1) / rate working hours — the ones ahead, then this one —
               or the queue's first-response target when it answered nothing in that window,
               and never less than one working hour
    expected = now + wait, counted in the queue's business hours (so it skips nights, weekends)

The wording is "within about N hours" when the wait is within the target and the moment is
less than half a day away; otherwise a date and time in the queue's time zone, saying when the
team is back if it is away now, and that it is busier than usual if the wait exceeds the target.
"""

import math
import textwrap
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.template.loader import render_to_string
from django.utils import timezone

from crm.models import OutboundEmailStatus
from crm.services import email_release
from tickets.business_hours import BusinessHours
from tickets.models import BACKLOG, Article, Inquiry, Priority, Queue
from tickets.selectors.knowledge import articles_for_acknowledgements
from tickets.services import routing
from tickets.services.routing import with_first_text
from tickets.services.sla import TargetsCache, sla_targets

RATE_WINDOW = timedelta(hours=24)  # of working time
MINIMUM_WAIT = timedelta(hours=1)  # of working time
# Beyond this many hours away, "within about N hours" is harder to read than a date.
HOURS_WORDING_LIMIT = 12
QUOTE_LENGTH = 300


@dataclass(frozen=True)
class ExpectedReply:
    at: datetime
    wording: str
    backlog: int
    answered: int  # first responses in the last RATE_WINDOW of working time
    wait: timedelta  # working time
    busy: bool


def _clock(moment: datetime) -> str:
    hour = moment.hour % 12 or 12
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes} {'AM' if moment.hour < 12 else 'PM'}"


def _day(moment: datetime) -> str:
    return f"{moment:%A, %B} {moment.day}"


def _round_up(moment: datetime, minutes: int = 30) -> datetime:
    """The next whole half hour at or after `moment`: a promise rounded the safe way."""
    step = timedelta(minutes=minutes)
    floor = moment.replace(second=0, microsecond=0) - timedelta(minutes=moment.minute % minutes)
    return floor if floor == moment else floor + step


@dataclass(frozen=True)
class QueueLoad:
    backlog: int  # waiting for a first response, routed before the moment asked about
    answered: int  # first responses in the last RATE_WINDOW of working time


def queue_load(queue: Queue, now: datetime, *, ahead_of: datetime | None = None) -> QueueLoad:
    """The two figures of the formula (see the module's docstring). `ahead_of`: count only the
    backlog routed before this moment."""
    since = BusinessHours.of(queue).subtract(now, RATE_WINDOW)
    # Two counts, each read from its own index alone (inquiry_backlog_idx, inquiry_answered_idx),
    # so that their cost follows the queue's backlog and recent answers, not its whole history.
    in_queue = Inquiry.objects.filter(queue=queue)
    backlog = in_queue.filter(BACKLOG, routed_at__lt=ahead_of or now).aggregate(
        n=Count("routed_at")
    )["n"]
    answered = in_queue.filter(first_responded_at__gt=since, first_responded_at__lte=now).aggregate(
        n=Count("first_responded_at")
    )["n"]
    return QueueLoad(backlog=backlog, answered=answered)


def expected_reply(
    queue: Queue,
    now: datetime,
    *,
    ahead_of: datetime | None = None,
    priority: int = Priority.NORMAL,
    load: QueueLoad | None = None,
    targets: TargetsCache | None = None,
) -> ExpectedReply:
    """When the queue is expected to answer an inquiry that joins it now (see the module's
    docstring for the formula). `ahead_of`: count only the backlog routed before this moment.
    `load` and `targets`: figures already read, for many acknowledgements at once."""
    hours = BusinessHours.of(queue)
    load = load or queue_load(queue, now, ahead_of=ahead_of)
    backlog, answered = load.backlog, load.answered
    target = (targets or sla_targets)(queue=queue, priority=priority).first_response
    if answered:
        wait = timedelta(hours=(backlog + 1) * RATE_WINDOW.total_seconds() / 3600 / answered)
    else:
        wait = target
    wait = max(wait, MINIMUM_WAIT)
    busy = wait > target
    at = hours.add(now, wait)
    return ExpectedReply(
        at=at,
        wording=_wording(hours, now, at, busy),
        backlog=backlog,
        answered=answered,
        wait=wait,
        busy=busy,
    )


def _wording(hours: BusinessHours, now: datetime, at: datetime, busy: bool) -> str:
    away_hours = (at - now).total_seconds() / 3600
    if not busy and away_hours <= HOURS_WORDING_LIMIT:
        rounded = max(1, math.ceil(away_hours - 0.1))
        return (
            "We expect to reply within about an hour."
            if rounded == 1
            else f"We expect to reply within about {rounded} hours."
        )
    sentences = []
    if not hours.is_open(now):
        back = hours.next_opening(now).astimezone(hours.zone)
        sentences.append(
            f"Our team is away right now and back on {_day(back)}, at {_clock(back)} "
            f"{back.tzname()}."
        )
    local = _round_up(at.astimezone(hours.zone))
    sentences.append(
        f"We expect to reply by {_day(local)}, around {_clock(local)} {local.tzname()}."
    )
    if busy:
        sentences.append("We are busier than usual.")
    return " ".join(sentences)


def _excerpt(text: str) -> str:
    folded = " ".join(text.split())
    if len(folded) > QUOTE_LENGTH:
        folded = folded[:QUOTE_LENGTH].rsplit(" ", 1)[0] + " …"
    return folded


@transaction.atomic
def acknowledgement_release(*, inquiry_id: int, enqueue: bool = True) -> int | None:
    """Write the held acknowledgement of a routed inquiry and send it (see _release); the
    e-mail's id. Only a held acknowledgement is released, so a release repeated sends once
    (None)."""
    inquiry = (
        with_first_text(Inquiry.objects.select_related("queue", "customer"))
        .filter(
            pk=inquiry_id,
            routed_at__isnull=False,
            acknowledgement__status=OutboundEmailStatus.HELD,
        )
        .first()
    )
    if inquiry is None:
        return None
    return next(iter(_release([inquiry], enqueue=enqueue)), None)


def inquiries_route_and_acknowledge(*, inquiry_id: int) -> list[int]:
    """Route a new inquiry and the others waiting with it (routing.inquiries_route), then
    release their acknowledgements with the routed queues' answer times, in one transaction.
    Returns the acknowledgements for the caller to send (email_deliver) once that commits: those
    released, and this inquiry's if it is pending still (another task's batch routed it and may
    not have sent it yet; sending is once only, whoever comes first). Every step checks the
    inquiry's or e-mail's state first, so a second run sends nothing more; a run after a worker
    died between routing and release (the sweep's) only releases."""
    with transaction.atomic():
        routed = routing.inquiries_route(inquiry_id=inquiry_id)
        released = _release(routed, enqueue=False)
        if any(inquiry.pk == inquiry_id for inquiry in routed):
            return released
        own = acknowledgement_release(inquiry_id=inquiry_id, enqueue=False)
        if own is None:
            own = (
                Inquiry.objects.filter(
                    pk=inquiry_id, acknowledgement__status=OutboundEmailStatus.PENDING
                )
                .values_list("acknowledgement_id", flat=True)
                .first()
            )
    return [*released, *([own] if own else [])]


def _release(inquiries: list[Inquiry], *, enqueue: bool) -> list[int]:
    """Write the held acknowledgements of routed inquiries, each loaded with_first_text, its
    queue and customer: greeting, reference, a quote of what she wrote, the expected answer time
    of its queue, up to three published articles that may answer her already, the tracking
    link, how to reply. email_release sends each only if it is still held; the ids of those
    released. Each queue's load is read once: the inquiries of one routing share its moment, so
    each counts those before it in the list as ahead of it."""
    now = timezone.now()
    loads: dict[int, QueueLoad] = {}
    targets = TargetsCache()
    acknowledged = [inquiry for inquiry in inquiries if inquiry.acknowledgement_id is not None]
    found = dict(
        zip(
            (inquiry.pk for inquiry in acknowledged),
            articles_for_acknowledgements(
                [(inquiry.subject, getattr(inquiry, "first_text", "")) for inquiry in acknowledged]
            ),
            strict=True,
        )
    )
    released = []
    for inquiry in inquiries:
        expected = None
        if inquiry.queue is not None:
            load = loads.get(inquiry.queue.pk) or queue_load(
                inquiry.queue, now, ahead_of=inquiry.routed_at
            )
            if inquiry.acknowledgement_id is not None:
                expected = expected_reply(
                    inquiry.queue, now, priority=inquiry.priority, load=load, targets=targets
                )
            ahead = 0 if inquiry.automated_reason else 1  # as BACKLOG counts it
            loads[inquiry.queue.pk] = replace(load, backlog=load.backlog + ahead)
        if inquiry.pk in found and _release_one(
            inquiry, expected, found[inquiry.pk], enqueue=enqueue
        ):
            released.append(cast(int, inquiry.acknowledgement_id))
    return released


def _release_one(
    inquiry: Inquiry, expected: ExpectedReply | None, articles: list[Article], *, enqueue: bool
) -> bool:
    first_text = getattr(inquiry, "first_text", "")
    excerpt = _excerpt(first_text)
    name = inquiry.requester_name or (inquiry.customer.first_name if inquiry.customer else "")
    context = {
        "inquiry": inquiry,
        "name": name,
        "excerpt": excerpt,
        "quote": "\n".join(f"> {line}" for line in textwrap.wrap(excerpt, width=70)),
        "expected": expected,
        "tracking_url": f"{settings.CRM_SITE_URL}{inquiry.get_tracking_url()}",
        "team": inquiry.queue.name if inquiry.queue else "Customer Service",
        "articles": [
            (article.title, f"{settings.CRM_SITE_URL}{article.get_absolute_url()}")
            for article in articles
        ],
    }
    return email_release(
        email_id=cast(int, inquiry.acknowledgement_id),
        text=render_to_string("tickets/email/acknowledgement.txt", context),
        html=render_to_string("tickets/email/acknowledgement.html", context),
        enqueue=enqueue,
    )
