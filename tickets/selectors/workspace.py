"""Reads of the agent workspace: who sees which inquiries, the queue list with its counts and SLA
timers, one inquiry with everything its page shows, and the call-back list.

Who sees what: call-center reps, supervisors and admins work every queue. Store staff (associates
and managers) see only inquiries reported at one of their stores, where they may add internal
notes; everything else about an inquiry is the call center's.
"""

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    Avg,
    Count,
    F,
    Q,
    QuerySet,
    Sum,
    Window,
    prefetch_related_objects,
)
from django.utils import timezone
from django.utils.html import strip_tags

from crm.models import User
from crm.pagination import CountedPaginator
from crm.permissions import AnyUser, can_work_inquiries, is_staff_member, stores_worked_at
from customers.insights.selectors import InsightPanel, customer_insight_panel, with_insight
from customers.models import Customer
from customers.selectors import CustomerFigures, customer_figures, recent_orders
from orders.models import Order
from tickets.models import (
    OPEN_STATUSES,
    CallbackRequest,
    CallbackStatus,
    CannedResponse,
    EventKind,
    Inquiry,
    InquiryEvent,
    InquiryStatus,
    Message,
    OpenInquiryTally,
    Priority,
    Queue,
)
from tickets.services.callbacks import CALLBACK_MISSES_FLAGGED

QUEUE_PAGE_SIZE = 25
CALLBACK_PAGE_SIZE = 50
# "Breaching soon": an SLA due time within this much from now, or already past.
BREACHING_SOON = timedelta(hours=1)
RATINGS_WINDOW = timedelta(days=30)
# Nothing a staff member does changes the customers' ratings: they are shared this long.
RATINGS_CACHE_SECONDS = 60
ORDER_CHOICES_LIMIT = 20
MERGE_CANDIDATES_LIMIT = 20


def visible_inquiries(user: AnyUser) -> QuerySet[Inquiry]:
    """The inquiries a staff member may open: all for the call center, their stores' for store
    staff, none for anyone else."""
    inquiries = Inquiry.objects.all()
    if can_work_inquiries(user):
        return inquiries
    if is_staff_member(user):
        return inquiries.filter(store__in=stores_worked_at(user))
    return inquiries.none()


def _breaching(now: datetime) -> Q:
    # Waiting on the customer pauses the SLA: those are never "breaching".
    return Q(status__in=[InquiryStatus.NEW, InquiryStatus.OPEN]) & Q(
        sla_due_at__lte=now + BREACHING_SOON
    )


@dataclass(frozen=True)
class SlaTimer:
    label: str
    breached: bool
    soon: bool


def _duration(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min" if minutes else "under a minute"


def sla_timer(due_at: datetime | None, now: datetime, *, paused: bool = False) -> SlaTimer | None:
    """ "due in 2 h 10 min", or "overdue by 35 min" once breached; None without a due time."""
    if due_at is None:
        return None
    if paused:
        return SlaTimer(label="paused: waiting on customer", breached=False, soon=False)
    if due_at <= now:
        return SlaTimer(label=f"overdue by {_duration(now - due_at)}", breached=True, soon=True)
    return SlaTimer(
        label=f"due in {_duration(due_at - now)}",
        breached=False,
        soon=due_at - now <= BREACHING_SOON,
    )


VIEWS = {
    "all": "All",
    "mine": "Mine",
    "unassigned": "Unassigned",
    "breaching": "Breaching soon",
}
STATUS_FILTERS = {
    "open": "Open (new, open, waiting)",
    **{status.value: status.label for status in InquiryStatus},
    "any": "Any status",
}
SORTS = {"due": "SLA due first", "newest": "Newest first", "priority": "Highest priority"}
UNROUTED = "none"
# The columns the list's rows show, and what their SLA timer reads.
QUEUE_ROW_FIELDS = (
    "subject",
    "automated_reason",
    "status",
    "sla_due_at",
    "rating",
    "priority",
    "channel",
    "requester_email",
    "created_at",
    "customer__first_name",
    "customer__last_name",
    "queue__name",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__email",
)
# Per queue id (None: not routed yet), the count of each tab.
TabCounts = dict[int | None, dict[str, int]]


@dataclass(frozen=True)
class QueueFilters:
    view: str = "all"
    queue: str = ""  # a queue's slug, UNROUTED, or "" for every queue
    status: str = "open"
    priority: int | None = None
    channel: str = ""
    sort: str = "due"

    @classmethod
    def parse(cls, params: "dict[str, str]") -> "QueueFilters":
        """Unknown values fall back to the defaults: a hand-edited address still shows a page."""
        priority = params.get("priority", "")
        return cls(
            view=params.get("view", "all") if params.get("view") in VIEWS else "all",
            queue=params.get("queue", "")[:50],
            status=params.get("status", "open")
            if params.get("status") in STATUS_FILTERS
            else "open",
            priority=int(priority)
            if priority.isdigit() and int(priority) in Priority.values
            else None,
            channel=params.get("channel", ""),
            sort=params.get("sort", "due") if params.get("sort") in SORTS else "due",
        )


@dataclass(frozen=True)
class QueueRow:
    inquiry: Inquiry
    timer: SlaTimer | None


@dataclass(frozen=True)
class QueueTab:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class QueueCount:
    slug: str
    name: str
    count: int
    # Customers' ratings of the queue's answers over the last RATINGS_WINDOW.
    rating: float | None = None
    ratings: int = 0


@dataclass
class QueuePage:
    rows: list[QueueRow]
    page: Page
    tabs: list[QueueTab]
    queues: list[QueueCount]
    filters: QueueFilters
    queue_name: str = ""
    now: datetime = field(default_factory=timezone.now)


def _filtered(
    inquiries: QuerySet[Inquiry], filters: QueueFilters, user: User, now: datetime
) -> QuerySet[Inquiry]:
    if filters.queue == UNROUTED:
        inquiries = inquiries.filter(queue__isnull=True)
    elif filters.queue:
        inquiries = inquiries.filter(queue__slug=filters.queue)
    if filters.view == "mine":
        inquiries = inquiries.filter(assignee=user)
    elif filters.view == "unassigned":
        inquiries = inquiries.filter(assignee__isnull=True)
    elif filters.view == "breaching":
        inquiries = inquiries.filter(_breaching(now))
    if filters.status == "open":
        inquiries = inquiries.filter(status__in=OPEN_STATUSES)
    elif filters.status in InquiryStatus.values:
        inquiries = inquiries.filter(status=filters.status)
    if filters.priority is not None:
        inquiries = inquiries.filter(priority=filters.priority)
    if filters.channel:
        inquiries = inquiries.filter(channel=filters.channel)
    return inquiries


def _ordered(inquiries: QuerySet[Inquiry], sort: str) -> QuerySet[Inquiry]:
    if sort == "newest":
        return inquiries.order_by("-created_at", "-id")
    if sort == "priority":
        return inquiries.order_by("-priority", F("sla_due_at").asc(nulls_last=True), "id")
    return inquiries.order_by(F("sla_due_at").asc(nulls_last=True), "created_at", "id")


def _queue_ratings(
    user: User, visible: QuerySet[Inquiry], now: datetime
) -> dict[int | None, tuple[float, int]]:
    """Per queue, the average and number of the customers' ratings over RATINGS_WINDOW of the
    inquiries the user sees, kept in the shared cache for RATINGS_CACHE_SECONDS."""
    key = f"queue-ratings:{'all' if can_work_inquiries(user) else f'user-{user.pk}'}"
    ratings: dict[int | None, tuple[float, int]] | None = cache.get(key)
    if ratings is None:
        ratings = {
            row["queue_id"]: (row["average"], row["count"])
            for row in visible.filter(rating__isnull=False, rated_at__gte=now - RATINGS_WINDOW)
            .order_by()
            .values("queue_id")
            .annotate(average=Avg("rating"), count=Count("rating"))
        }
        cache.set(key, ratings, RATINGS_CACHE_SECONDS)
    return ratings


def _counted(user: User, open_visible: QuerySet[Inquiry], now: datetime) -> TabCounts:
    """The tab counts per queue, counting every open inquiry the user sees."""
    return {
        queue_id: dict(zip(VIEWS, figures, strict=True))
        for queue_id, *figures in open_visible.order_by()
        .values("queue_id")
        .annotate(
            all=Count("pk"),
            mine=Count("pk", filter=Q(assignee=user)),
            unassigned=Count("pk", filter=Q(assignee__isnull=True)),
            breaching=Count("pk", filter=_breaching(now)),
        )
        .values_list("queue_id", *VIEWS)
    }


def _visible_tally(user: User) -> QuerySet[OpenInquiryTally]:
    """The tally rows of the inquiries the user sees (visible_inquiries)."""
    tallies = OpenInquiryTally.objects.all()
    if can_work_inquiries(user):
        return tallies
    if is_staff_member(user):
        return tallies.filter(store_id__in=stores_worked_at(user).values("pk"))
    return tallies.none()


def _tallied(user: User, open_visible: QuerySet[Inquiry], now: datetime) -> TabCounts:
    """The tab counts per queue from the open-inquiry tally, in two queries whatever the number
    of open inquiries: the tally's sums, and the inquiries falling due within the hour of the
    "breaching soon" limit, which the tally can't split."""
    limit = now + BREACHING_SOON
    limit_hour = limit.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    counts: TabCounts = {}
    for queue_id, *figures in (
        _visible_tally(user)
        .values("queue_id")
        .annotate(
            all=Sum("change"),
            mine=Sum("change", filter=Q(assignee_id=user.pk)),
            unassigned=Sum("change", filter=Q(assignee_id__isnull=True)),
            breaching=Sum("change", filter=Q(running=True, due_hour__lt=limit_hour)),
        )
        .values_list("queue_id", *VIEWS)
    ):
        if figures[0]:
            counts[queue_id] = dict(zip(VIEWS, (figure or 0 for figure in figures), strict=True))
    for queue_id, due in (
        open_visible.filter(
            status__in=[InquiryStatus.NEW, InquiryStatus.OPEN],
            sla_due_at__gte=limit_hour,
            sla_due_at__lte=limit,
        )
        .order_by()
        .values("queue_id")
        .annotate(due=Count("pk"))
        .values_list("queue_id", "due")
    ):
        counts.setdefault(queue_id, dict.fromkeys(VIEWS, 0))["breaching"] += due
    return counts


def _tab_counts(user: User, open_visible: QuerySet[Inquiry], now: datetime) -> TabCounts:
    """Per queue (None: not routed yet), the count of each tab (VIEWS) of open inquiries: from
    the tally on PostgreSQL, where its trigger keeps it, else counted."""
    if connection.vendor == "postgresql":
        return _tallied(user, open_visible, now)
    return _counted(user, open_visible, now)


def inquiry_queue_page(*, user: User, filters: QueueFilters, page: str | int = 1) -> QueuePage:
    """One page of the workspace list with its tab and queue counts, in six queries whatever the
    number of inquiries (two for the counts per queue, the queues' recent ratings unless cached,
    the queues, the page, and the list's count when the tabs don't give it). The page reads the
    partial index of open inquiries by SLA due time."""
    now = timezone.now()
    visible = visible_inquiries(user).filter(merged_into__isnull=True)
    open_visible = visible.filter(status__in=OPEN_STATUSES)
    per_queue = _tab_counts(user, open_visible, now)
    ratings = _queue_ratings(user, visible, now)
    all_queues = list(Queue.objects.only("pk", "slug", "name"))
    queues = [
        QueueCount(
            queue.slug,
            queue.name,
            per_queue[queue.pk]["all"] if queue.pk in per_queue else 0,
            *ratings.get(queue.pk, (None, 0)),
        )
        for queue in all_queues
    ]
    if None in per_queue:
        queues.append(QueueCount(UNROUTED, "Not routed yet", per_queue[None]["all"]))
    # The tabs count open inquiries of the chosen queue, whatever the other filters say.
    if filters.queue == UNROUTED:
        chosen: list[int | None] = [None]
    elif filters.queue:
        chosen = [queue.pk for queue in all_queues if queue.slug == filters.queue]
    else:
        chosen = list(per_queue)
    counts = {key: sum(per_queue[pk][key] for pk in chosen if pk in per_queue) for key in VIEWS}
    tabs = [QueueTab(key, label, counts[key]) for key, label in VIEWS.items()]
    listed = (
        _ordered(_filtered(visible, filters, user, now), filters.sort)
        .select_related("customer", "queue", "assignee")
        .only(*QUEUE_ROW_FIELDS)
    )
    if filters == QueueFilters(view=filters.view, queue=filters.queue, sort=filters.sort):
        # Only the tab's own filters: its count is the list's.
        paginator: Paginator = CountedPaginator(listed, QUEUE_PAGE_SIZE, counts[filters.view])
    else:
        paginator = Paginator(listed, QUEUE_PAGE_SIZE)
    paginated = paginator.get_page(page)
    rows = [
        QueueRow(
            inquiry,
            sla_timer(inquiry.sla_due_at, now, paused=inquiry.status == InquiryStatus.WAITING)
            if inquiry.is_open
            else None,
        )
        for inquiry in paginated.object_list
    ]
    queue_name = next((q.name for q in queues if q.slug == filters.queue), "")
    return QueuePage(
        rows=rows,
        page=paginated,
        tabs=tabs,
        queues=queues,
        filters=filters,
        queue_name=queue_name,
        now=now,
    )


@dataclass(frozen=True)
class ConversationEntry:
    message: Message
    # What the page shows: the message's text, or its HTML part reduced to text.
    text: str


def _as_text(message: Message) -> str:
    if message.text.strip() or not message.html:
        return message.text
    # The sanitised HTML part is shown as text, never as markup; the template escapes it.
    return html.unescape(strip_tags(message.html)).strip()


@dataclass(frozen=True)
class EventRow:
    event: InquiryEvent
    old: str
    new: str


def _event_row(event: InquiryEvent) -> EventRow:
    """Status changes are stored as codes; the history reads them as their labels."""
    if event.kind == EventKind.STATUS:
        labels = dict(InquiryStatus.choices)
        return EventRow(
            event,
            labels.get(event.old_value, event.old_value),
            labels.get(event.new_value, event.new_value),
        )
    return EventRow(event, event.old_value, event.new_value)


@dataclass
class InquiryPage:
    inquiry: Inquiry
    conversation: list[ConversationEntry]
    events: list[EventRow]
    customer: Customer | None
    orders: list[Order]
    canned_responses: list[CannedResponse]
    members: list[User]
    queues: list[Queue]
    merge_candidates: list[Inquiry]
    callbacks: list[CallbackRequest]
    figures: CustomerFigures | None
    first_response_timer: SlaTimer | None
    resolution_timer: SlaTimer | None
    insight: InsightPanel | None = None


# What only some inquiries have, each read by a query of its own when it is set.
OPTIONAL_RELATIONS = ("routed_by_rule", "order", "store", "merged_into", "related_to", "opened_by")


def inquiry_for_page(*, user: AnyUser, inquiry_id: int) -> Inquiry | None:
    """One inquiry the user may see, with what its header shows; None if not theirs. What every
    inquiry has comes in its query; what only some have (OPTIONAL_RELATIONS) comes by a query of
    its own, made only when it is set: PostgreSQL's planning time grows fast with each join
    (3.5 ms for ten, 0.4 ms for four), and a relation that is not set costs nothing (a prefetch
    of it builds its query all the same)."""
    found = list(
        visible_inquiries(user)
        .select_related("customer", "queue", "assignee", "acknowledgement")
        .filter(pk=inquiry_id)
        .order_by()
    )
    if not found:
        return None
    inquiry = found[0]
    prefetch_related_objects(
        [inquiry],
        *(name for name in OPTIONAL_RELATIONS if getattr(inquiry, f"{name}_id") is not None),
    )
    return inquiry


def merge_candidates(*, user: AnyUser, inquiry: Inquiry) -> list[Inquiry]:
    """Other inquiries of the same customer that this one could absorb, newest first."""
    if inquiry.customer_id is None:
        return []
    return list(
        visible_inquiries(user)
        .filter(customer_id=inquiry.customer_id, merged_into__isnull=True)
        .exclude(pk=inquiry.pk)
        .order_by("-created_at", "-id")[:MERGE_CANDIDATES_LIMIT]
    )


def inquiry_page(*, user: User, inquiry: Inquiry) -> InquiryPage:
    """Everything the inquiry page shows, in a fixed number of queries: the conversation with
    authors and attachments, the history, the customer and her orders, and what the actions
    offer (canned responses, queue members, queues, inquiries to merge, orders to link)."""
    now = timezone.now()
    messages = inquiry.messages.select_related("author", "outbound_email").prefetch_related(
        "attachments"
    )
    events = inquiry.events.select_related("actor")
    customer = None
    orders: list[Order] = []
    candidates: list[Inquiry] = []
    if inquiry.customer_id is not None:
        # Her insight and its thresholds come with her: no query of their own.
        customer = with_insight(
            Customer.objects.prefetch_related("contact_points").select_related("home_store")
        ).get(pk=inquiry.customer_id)
        orders = recent_orders(customer=customer, limit=ORDER_CHOICES_LIMIT)
        candidates = merge_candidates(user=user, inquiry=inquiry)
    working = can_work_inquiries(user)
    canned: list[CannedResponse] = []
    members: list[User] = []
    queues: list[Queue] = []
    if working:
        canned = list(
            CannedResponse.objects.filter(is_active=True).filter(
                Q(queue__isnull=True) | Q(queue_id=inquiry.queue_id)
            )
        )
        if inquiry.queue_id is not None:
            members = list(
                User.objects.filter(
                    queue_memberships__queue_id=inquiry.queue_id, is_active=True
                ).order_by("first_name", "last_name", "email")
            )
        queues = list(Queue.objects.all())
    paused = inquiry.status == InquiryStatus.WAITING
    open_ = inquiry.is_open
    return InquiryPage(
        inquiry=inquiry,
        conversation=[ConversationEntry(message, _as_text(message)) for message in messages],
        events=[_event_row(event) for event in events],
        customer=customer,
        orders=orders,
        canned_responses=canned,
        members=members,
        queues=queues,
        merge_candidates=candidates,
        callbacks=list(inquiry.callbacks.order_by("-created_at")),
        figures=customer_figures(customer=customer) if customer is not None else None,
        first_response_timer=sla_timer(inquiry.first_response_due_at, now, paused=paused)
        if open_ and inquiry.first_responded_at is None
        else None,
        resolution_timer=sla_timer(inquiry.resolution_due_at, now, paused=paused)
        if open_
        else None,
        insight=customer_insight_panel(customer) if customer is not None else None,
    )


@dataclass(frozen=True)
class CallbackRow:
    callback: CallbackRequest
    overdue: bool
    # Three calls nobody answered: someone should decide what to do.
    flagged: bool


def callbacks_pending(*, user: AnyUser) -> QuerySet[CallbackRequest]:
    """Pending call-backs of inquiries the user may see, the one due first at the top."""
    return (
        CallbackRequest.objects.filter(
            status=CallbackStatus.PENDING, inquiry__in=visible_inquiries(user)
        )
        .select_related("customer", "inquiry", "requested_by")
        .order_by("due_at", "id")
    )


def callback_rows(callbacks: Sequence[CallbackRequest]) -> list[CallbackRow]:
    now = timezone.now()
    return [
        CallbackRow(
            callback=callback,
            overdue=callback.due_at <= now,
            flagged=callback.attempts >= CALLBACK_MISSES_FLAGGED,
        )
        for callback in callbacks
    ]


def callback_page(*, user: AnyUser, page: str | int = 1) -> Page:
    return Paginator(callbacks_pending(user=user), CALLBACK_PAGE_SIZE).get_page(page)


def callback_for_action(*, user: AnyUser, callback_id: int) -> CallbackRequest | None:
    return (
        CallbackRequest.objects.filter(pk=callback_id, inquiry__in=visible_inquiries(user))
        .select_related("customer", "inquiry")
        .first()
    )


INQUIRIES_ON_360 = 5


@dataclass
class CustomerInquiries:
    latest: list[Inquiry]
    open_count: int


def customer_inquiries(*, customer: Customer, user: AnyUser) -> CustomerInquiries:
    """For her 360 page: her latest inquiries the user may see and how many are open, in one
    query (the open count is a window over all of them, computed before the limit)."""
    latest = list(
        visible_inquiries(user)
        .filter(customer=customer, merged_into__isnull=True)
        .select_related("queue")
        .annotate(open_total=Window(Count("pk", filter=Q(status__in=OPEN_STATUSES))))
        .order_by("-created_at", "-id")[:INQUIRIES_ON_360]
    )
    return CustomerInquiries(
        latest=list[Inquiry](latest), open_count=latest[0].open_total if latest else 0
    )
