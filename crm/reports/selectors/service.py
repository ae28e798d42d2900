"""The service dashboard's reports: what came in, how fast it was acknowledged, answered and
resolved, how the backlog moved, what customers thought, and whether call-backs were on time.

Every report counts inquiries arrived (or resolved, or rated) within the range, leaving out
automated mail (bounces, auto-replies: nobody to serve) and inquiries merged into another (they
would count twice)."""

from collections import Counter
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce

from crm.models import AuditEntry, BacklogCount, BacklogSnapshot, Channel
from crm.reports.base import (
    Chart,
    ReportScope,
    Seconds,
    Series,
    duration_text,
    hours,
    percent_text,
    percentiles,
    share,
)
from tickets.models import CallbackRequest, CallbackStatus, Inquiry

NOT_ROUTED = "Not routed yet"

# Upper bounds (hours) of the first-response buckets; the last one is open-ended.
FIRST_RESPONSE_BUCKETS: list[tuple[int | None, str]] = [
    (1, "Under 1 h"),
    (2, "1–2 h"),
    (4, "2–4 h"),
    (6, "4–6 h"),
    (12, "6–12 h"),
    (24, "12–24 h"),
    (48, "1–2 days"),
    (None, "Over 2 days"),
]
NOT_ANSWERED = "Not answered yet"

# Upper bounds (seconds) of the acknowledgement buckets.
ACKNOWLEDGEMENT_BUCKETS: list[tuple[int | None, str]] = [
    (60, "Within 1 min"),
    (5 * 60, "1–5 min"),
    (60 * 60, "5–60 min"),
    (None, "Over 1 hour"),
]
NOT_SENT = "Not sent yet"

CALLBACK_ON_TIME = "On time"
CALLBACK_LATE = "Late"
CALLBACK_EARLY = "Too early"
CALLBACK_MISSED = "Not called"
CALLBACK_OPEN = "Window not over"
CALLBACK_OUTCOMES = [
    CALLBACK_ON_TIME,
    CALLBACK_LATE,
    CALLBACK_EARLY,
    CALLBACK_MISSED,
    CALLBACK_OPEN,
]
# The audit entry callback_log_outcome writes for every call made: the first one is the call-back.
CALLBACK_CALL_ACTION = "callback.outcome"


def inquiries_counted(scope: ReportScope) -> QuerySet[Inquiry]:
    """The inquiries the service reports count: of the stores in scope, people's, not merged."""
    return Inquiry.objects.using(scope.database).filter(
        scope.stores("store_id"), merged_into__isnull=True, automated_reason=""
    )


def inquiry_volume(scope: ReportScope) -> list[Chart]:
    """Inquiries arrived in the range by channel, and by the queue they were routed to."""
    rows = (
        inquiries_counted(scope)
        .filter(scope.within("created_at"))
        .values("channel", "queue__name")
        .annotate(inquiries=Count("pk"))
        .order_by()
    )
    by_channel: Counter[str] = Counter()
    by_queue: Counter[str] = Counter()
    for row in rows:
        by_channel[row["channel"]] += row["inquiries"]
        by_queue[row["queue__name"] or NOT_ROUTED] += row["inquiries"]
    total = sum(by_channel.values())
    channels = [channel for channel in Channel if by_channel[channel]]
    queues = sorted(by_queue, key=lambda name: (-by_queue[name], name))
    busiest = queues[0] if queues else None
    return [
        Chart(
            key="inquiries-by-channel",
            title="Inquiries by channel",
            kind="bar",
            category="Channel",
            labels=[channel.label for channel in channels],
            series=[Series("Inquiries", [by_channel[channel] for channel in channels])],
            headline=f"{total:,}",
            headline_label="inquiries arrived",
            empty="No inquiries arrived in this range.",
        ),
        Chart(
            key="inquiries-by-queue",
            title="Inquiries by queue",
            kind="bar",
            category="Queue",
            labels=queues,
            series=[Series("Inquiries", [by_queue[name] for name in queues])],
            headline=percent_text(share(by_queue[busiest], total)) if busiest else "–",
            headline_label=f"went to {busiest}" if busiest else "no inquiries",
            horizontal=True,
            empty="No inquiries arrived in this range.",
        ),
    ]


def first_response(scope: ReportScope) -> list[Chart]:
    """How long inquiries arrived in the range waited for their first answer, against their SLA
    target: the due time set when routed (moved while waiting on the customer), or the default
    target for the few never routed. Unanswered ones are within target until they are due."""
    default_target = timedelta(minutes=settings.CRM_SLA_FIRST_RESPONSE_MINUTES)
    unanswered = len(FIRST_RESPONSE_BUCKETS)
    bucket = Case(
        When(first_responded_at__isnull=True, then=Value(unanswered)),
        *(
            When(
                first_responded_at__lt=F("created_at") + timedelta(hours=bound),
                then=Value(index),
            )
            for index, (bound, _label) in enumerate(FIRST_RESPONSE_BUCKETS)
            if bound is not None
        ),
        default=Value(unanswered - 1),
        output_field=IntegerField(),
    )
    due = Coalesce(
        "first_response_due_at",
        ExpressionWrapper(F("created_at") + default_target, output_field=DateTimeField()),
    )
    in_time = Q(first_responded_at__isnull=False, first_responded_at__lte=F("due")) | Q(
        first_responded_at__isnull=True, due__gte=scope.now
    )
    rows = (
        inquiries_counted(scope)
        .filter(scope.within("created_at"))
        .annotate(due=due, bucket=bucket)
        .values("bucket")
        .annotate(inquiries=Count("pk"), in_time=Count("pk", filter=in_time))
        .order_by()
    )
    counts = {row["bucket"]: (row["inquiries"], row["in_time"]) for row in rows}
    labels = [label for _bound, label in FIRST_RESPONSE_BUCKETS] + [NOT_ANSWERED]
    within = [counts.get(index, (0, 0))[1] for index in range(len(labels))]
    past = [counts.get(index, (0, 0))[0] - within[index] for index in range(len(labels))]
    answered_in_time = sum(within[:unanswered])
    # Decided: answered, or unanswered past its due time. Unanswered and not yet due: undecided.
    decided = sum(within[:unanswered]) + sum(past)
    return [
        Chart(
            key="first-response",
            title="Time to first response",
            kind="bar",
            category="Time to first response",
            labels=labels,
            series=[Series("Within target", within), Series("Past target", past)],
            headline=percent_text(share(answered_in_time, decided)),
            headline_label="answered within the SLA target",
            tones=("good", "bad"),
            note=(
                "Targets are each queue's policy for the inquiry's priority "
                f"(default {duration_text(default_target.total_seconds())}). "
                "Unanswered inquiries count once their target has passed."
            ),
            stacked=True,
            empty="No inquiries arrived in this range.",
        )
    ]


def acknowledgement(scope: ReportScope) -> list[Chart]:
    """How soon the acknowledgement e-mail went out after an inquiry arrived (the outbox row's
    sent_at). Inquiries that get none (automated mail, opened by staff, bounced addresses, the
    hourly limit per sender) are not counted."""
    not_sent = len(ACKNOWLEDGEMENT_BUCKETS)
    bucket = Case(
        When(acknowledgement__sent_at__isnull=True, then=Value(not_sent)),
        *(
            When(
                acknowledgement__sent_at__lte=F("created_at") + timedelta(seconds=bound),
                then=Value(index),
            )
            for index, (bound, _label) in enumerate(ACKNOWLEDGEMENT_BUCKETS)
            if bound is not None
        ),
        default=Value(not_sent - 1),
        output_field=IntegerField(),
    )
    rows = (
        inquiries_counted(scope)
        .filter(scope.within("created_at"), acknowledgement__isnull=False)
        .annotate(bucket=bucket)
        .values("bucket")
        .annotate(inquiries=Count("pk"))
        .order_by()
    )
    counts = {row["bucket"]: row["inquiries"] for row in rows}
    labels = [label for _bound, label in ACKNOWLEDGEMENT_BUCKETS] + [NOT_SENT]
    values = [counts.get(index, 0) for index in range(len(labels))]
    return [
        Chart(
            key="acknowledgement",
            title="Acknowledgement e-mails",
            kind="doughnut",
            category="Sent after",
            labels=labels,
            series=[Series("Inquiries", values)],
            headline=percent_text(share(values[0], sum(values))),
            headline_label="acknowledged within one minute",
            tones=("good", "fair", "warn", "bad", "muted"),
            note="Automated mail and inquiries opened by staff get no acknowledgement.",
            empty="No acknowledgements were due in this range.",
        )
    ]


def backlog(scope: ReportScope) -> list[Chart]:
    """Open inquiries per queue at the start of each day, from the daily snapshots (a day
    without one, say while the workers were down, is a gap)."""
    snapshot_days = set(
        BacklogSnapshot.objects.using(scope.database)
        .filter(day__gte=scope.first_day, day__lte=scope.last_day)
        .values_list("day", flat=True)
    )
    rows = (
        BacklogCount.objects.using(scope.database)
        .filter(scope.stores("store_id"), day__gte=scope.first_day, day__lte=scope.last_day)
        .values("day", "queue__name")
        .annotate(open=Sum("open"))
        .order_by()
    )
    open_by: dict[str, dict[date, int]] = {}
    for row in rows:
        open_by.setdefault(row["queue__name"] or NOT_ROUTED, {})[row["day"]] = row["open"]
    days = [
        scope.first_day + timedelta(days=n)
        for n in range((scope.last_day - scope.first_day).days + 1)
    ]
    queues = sorted(open_by)
    series = [
        Series(name, [open_by[name].get(day, 0) if day in snapshot_days else None for day in days])
        for name in queues
    ]
    latest = max(snapshot_days) if snapshot_days else None
    latest_total = sum(counts.get(latest, 0) for counts in open_by.values()) if latest else 0
    return [
        Chart(
            key="backlog",
            title="Backlog by queue",
            kind="line",
            category="Day",
            labels=[day.isoformat() for day in days],
            series=series,
            headline=f"{latest_total:,}" if latest else "–",
            headline_label=f"open on {latest:%b} {latest.day}" if latest else "no snapshot yet",
            note="Open inquiries (new, open or waiting on the customer) at the start of each day.",
            stacked=True,
            empty="No backlog was recorded in this range.",
        )
    ]


def resolution(scope: ReportScope) -> list[Chart]:
    """How long inquiries resolved in the range took from arrival to resolution, per queue:
    the median and the 90th percentile."""
    resolved = inquiries_counted(scope).filter(scope.within("resolved_at"))
    seconds = Seconds("resolved_at", "created_at")
    by_queue = percentiles(resolved, group="queue__name", seconds=seconds, fractions=(0.5, 0.9))
    overall = percentiles(resolved, group=None, seconds=seconds, fractions=(0.5, 0.9))[None]
    names = sorted(by_queue, key=lambda name: str(name or NOT_ROUTED))
    return [
        Chart(
            key="resolution",
            title="Time to resolve",
            kind="bar",
            category="Queue",
            labels=[str(name or NOT_ROUTED) for name in names],
            series=[
                Series("Median (hours)", [hours(by_queue[name][0]) for name in names]),
                Series("90th percentile (hours)", [hours(by_queue[name][1]) for name in names]),
            ],
            headline=duration_text(overall[0]),
            headline_label="median time to resolve",
            note=(
                f"Nine in ten were resolved within {duration_text(overall[1])}."
                if overall[1] is not None
                else ""
            ),
            unit="h",
            measures_time=True,
            horizontal=True,
            empty="No inquiries were resolved in this range.",
        )
    ]


def satisfaction(scope: ReportScope) -> list[Chart]:
    """The ratings customers gave in the range (1 to 5): how many of each, and their average."""
    rows = (
        inquiries_counted(scope)
        .filter(scope.within("rated_at"), rating__isnull=False)
        .values("rating")
        .annotate(ratings=Count("pk"))
        .order_by()
    )
    counts = {row["rating"]: row["ratings"] for row in rows}
    stars = range(1, 6)
    total = sum(counts.values())
    average = sum(star * counts.get(star, 0) for star in stars) / total if total else None
    return [
        Chart(
            key="satisfaction",
            title="Satisfaction",
            kind="bar",
            category="Rating",
            labels=[f"{star} star{'s' if star > 1 else ''}" for star in stars],
            series=[Series("Ratings", [counts.get(star, 0) for star in stars])],
            headline="–" if average is None else f"{average:.1f} / 5",
            headline_label=f"average of {total:,} rating{'s' if total != 1 else ''}",
            empty="No answers were rated in this range.",
        )
    ]


def callbacks(scope: ReportScope) -> list[Chart]:
    """Call-back requests whose window started in the range, by when the first call was made:
    within the window, before it, after it, or not at all. Cancelled requests are left out."""
    # The first call's verdict, in one subquery per request (the calls are found through the audit
    # log's index on the object).
    first_call = (
        AuditEntry.objects.filter(
            object_type=CallbackRequest._meta.label_lower,
            object_id=Cast(OuterRef("pk"), output_field=CharField()),
            action=CALLBACK_CALL_ACTION,
        )
        .annotate(
            verdict=Case(
                When(occurred_at__lt=OuterRef("window_start"), then=Value(CALLBACK_EARLY)),
                When(occurred_at__lte=OuterRef("window_end"), then=Value(CALLBACK_ON_TIME)),
                default=Value(CALLBACK_LATE),
                output_field=CharField(),
            )
        )
        .order_by("occurred_at")
        .values("verdict")[:1]
    )
    never_called = Case(
        When(window_end__gt=scope.now, then=Value(CALLBACK_OPEN)),
        default=Value(CALLBACK_MISSED),
        output_field=CharField(),
    )
    rows = (
        CallbackRequest.objects.using(scope.database)
        .filter(scope.within("window_start"), scope.stores("inquiry__store_id"))
        .exclude(status=CallbackStatus.CANCELLED)
        .annotate(outcome=Coalesce(Subquery(first_call), never_called))
        .values("outcome")
        .annotate(requests=Count("pk"))
        .order_by()
    )
    counts: dict[Any, int] = {row["outcome"]: row["requests"] for row in rows}
    values = [counts.get(label, 0) for label in CALLBACK_OUTCOMES]
    decided = sum(values) - counts.get(CALLBACK_OPEN, 0)
    return [
        Chart(
            key="callbacks",
            title="Call-backs",
            kind="doughnut",
            category="First call",
            labels=CALLBACK_OUTCOMES,
            series=[Series("Call-backs", values)],
            headline=percent_text(share(counts.get(CALLBACK_ON_TIME, 0), decided)),
            headline_label="called within the requested window",
            tones=("good", "warn", "other", "bad", "muted"),
            note="By the window's start; the first call counts, answered or not.",
            empty="No call-backs were requested for this range.",
        )
    ]
