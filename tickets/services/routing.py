"""Routing: the first enabled rule that matches sends the inquiry to its queue, with a priority,
an assignee and tags; no match sends it to the default queue. Also the supervisors' edits of the
rules, and the sweep that routes inquiries whose routing task was lost.

Routing costs a fixed number of queries whatever the number of rules: the rules are read in one
query and evaluated in memory against facts about the inquiry read up front (the customer's
pickups, returns and lifetime value in one query, and only when a rule asks about them). A routing
takes the other inquiries waiting with its own, up to ROUTING_BATCH, and reads all of that once for
them all: a worker that falls behind catches up in batches, at one write per inquiry.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm.models import AuditEntry, Channel, OutboundEmailStatus, User
from crm.services import audit_entry, audit_record, enqueue_after_commit
from customers.insights.flags import (
    HIGH_MAINTENANCE_INSIGHT_FIELDS,
    HIGH_MAINTENANCE_THRESHOLDS,
    high_maintenance,
)
from customers.insights.selectors import threshold_annotations, thresholds_from
from customers.models import Customer, CustomerInsight
from orders.models import Order, OrderStatus, Pickup, PickupStatus, Return
from tickets.models import (
    OPEN_STATUSES,
    Assignment,
    EventKind,
    Inquiry,
    InquiryEvent,
    Message,
    MessageKind,
    Queue,
    QueueMembership,
    RoutingRule,
    ValueTier,
)
from tickets.services import sla

RECENT_RETURN_DAYS = 30
CLOSED_PICKUP_STATUSES = (PickupStatus.COLLECTED, PickupStatus.EXPIRED, PickupStatus.CANCELLED)
# An inquiry unrouted this long, or routed with its acknowledgement still held, lost its task.
SWEEP_GRACE = timedelta(minutes=1)
SWEEP_BATCH = 500
REASON_MAX_LENGTH = 500
DEFAULT_REASON = "No rule matched: the default queue."
RULE_FIELDS = [
    "name",
    "enabled",
    "channels",
    "keywords",
    "has_open_pickup",
    "has_recent_return",
    "value_tiers",
    "high_maintenance",
    "order_statuses",
    "store",
    "queue",
    "priority",
    "assignment",
    "tags",
]


# -- Facts about an inquiry that rules look at ------------------------------------------------


@dataclass(frozen=True)
class CustomerFacts:
    has_open_pickup: bool = False
    has_recent_return: bool = False
    value_tier: str = ValueTier.NEW
    high_maintenance: bool = False
    # Who says so: staff by hand, or her insight (its reason).
    high_maintenance_why: str = ""


@dataclass(frozen=True)
class InquiryFacts:
    channel: str
    text: str  # the subject and the body of the first message
    order_status: str | None
    store_id: int | None
    customer: CustomerFacts = field(default_factory=CustomerFacts)


def value_tier(value: Decimal) -> str:
    """The lifetime value tier of a customer who spent `value` (thresholds: CRM_VALUE_TIERS)."""
    if value <= 0:
        return ValueTier.NEW
    tier: str = ValueTier.STANDARD
    for name, threshold in sorted(settings.CRM_VALUE_TIERS.items(), key=lambda item: item[1]):
        if value >= Decimal(threshold):
            tier = name
    return tier


def needs_customer_history(rules: Iterable[RoutingRule]) -> bool:
    return any(
        rule.has_open_pickup is not None
        or rule.has_recent_return is not None
        or rule.value_tiers
        # Staff flag her by hand, or her insight does: the insight is read with the history.
        or rule.high_maintenance is not None
        for rule in rules
    )


def customer_facts(customer_ids: Iterable[int], *, now: datetime) -> dict[int, CustomerFacts]:
    """Pickups, recent returns and lifetime value (as customer_figures counts it: orders not
    cancelled) of these customers, and whether each is high-maintenance (flagged by staff, or by
    her insight against the supervisor's thresholds), in one query however many there are. Every
    routing reads it, so the query selects only the columns the rules look at."""
    ids = list(set(customer_ids))
    if not ids:
        return {}
    lifetime_value = (
        Order.objects.filter(customer=OuterRef("pk"))
        .exclude(status=OrderStatus.CANCELLED)
        .order_by()
        .values("customer")
        .annotate(total=Sum("total"))
        .values("total")
    )
    thresholds = threshold_annotations(HIGH_MAINTENANCE_THRESHOLDS)
    rows = (
        Customer.objects.filter(pk__in=ids)
        .annotate(
            open_pickup=Exists(
                Pickup.objects.filter(order__customer=OuterRef("pk")).exclude(
                    status__in=CLOSED_PICKUP_STATUSES
                )
            ),
            recent_return=Exists(
                Return.objects.filter(
                    customer=OuterRef("pk"),
                    created_at__gte=now - timedelta(days=RECENT_RETURN_DAYS),
                )
            ),
            lifetime_value=Coalesce(
                Subquery(lifetime_value),
                Value(Decimal("0")),
                output_field=DecimalField(max_digits=14, decimal_places=2),
            ),
            **thresholds,
        )
        .values(
            "pk",
            "high_maintenance",
            "open_pickup",
            "recent_return",
            "lifetime_value",
            *thresholds,
            *(f"insight__{name}" for name in HIGH_MAINTENANCE_INSIGHT_FIELDS),
        )
    )
    return {row["pk"]: _facts(row) for row in rows}


def _facts(row: dict[str, Any]) -> CustomerFacts:
    """One customer's facts from her row of customer_facts' query."""
    insight = CustomerInsight(
        **{name: row[f"insight__{name}"] for name in HIGH_MAINTENANCE_INSIGHT_FIELDS}
    )
    flag = high_maintenance(insight, thresholds_from(row))
    return CustomerFacts(
        has_open_pickup=row["open_pickup"],
        has_recent_return=row["recent_return"],
        value_tier=value_tier(row["lifetime_value"]),
        high_maintenance=row["high_maintenance"] or flag is not None,
        high_maintenance_why="flagged by staff"
        if row["high_maintenance"]
        else (flag.reason.rstrip(".") if flag else ""),
    )


def with_first_text(inquiries: QuerySet[Inquiry]) -> QuerySet[Inquiry]:
    """Annotate `first_text`: the body of the inquiry's first message from the customer."""
    first = (
        Message.objects.filter(inquiry=OuterRef("pk"), kind=MessageKind.INBOUND)
        .order_by("created_at", "id")
        .values("text")[:1]
    )
    return inquiries.annotate(
        first_text=Coalesce(Subquery(first), Value(""), output_field=TextField())
    )


def inquiry_facts(inquiry: Inquiry, customer: CustomerFacts | None) -> InquiryFacts:
    """Facts of an inquiry loaded with_first_text, select_related("customer", "order")."""
    if customer is None:
        customer = CustomerFacts(
            high_maintenance=bool(inquiry.customer and inquiry.customer.high_maintenance)
        )
    return InquiryFacts(
        channel=inquiry.channel,
        text=f"{inquiry.subject}\n{getattr(inquiry, 'first_text', '')}",
        order_status=inquiry.order.status if inquiry.order else None,
        store_id=inquiry.store_id,
        customer=customer,
    )


# -- Evaluating a rule -------------------------------------------------------------------------


def keyword_lines(keywords: str) -> list[str]:
    return [" ".join(line.split()) for line in keywords.splitlines() if line.strip()]


class CompiledRule:
    """A rule ready to test against many inquiries: its keywords compiled once."""

    def __init__(self, rule: RoutingRule) -> None:
        self.rule = rule
        self.keywords = [
            (
                phrase,
                # Whole words or phrases, any case, any run of white space between the words.
                re.compile(
                    r"(?<!\w)" + r"\s+".join(map(re.escape, phrase.split())) + r"(?!\w)",
                    re.IGNORECASE,
                ),
            )
            for phrase in keyword_lines(rule.keywords)
        ]

    @cached_property
    def uses_customer_history(self) -> bool:
        return needs_customer_history([self.rule])

    def match(self, facts: InquiryFacts) -> list[str] | None:
        """Why the rule matches (one phrase per condition), or None if a condition fails."""
        rule = self.rule
        reasons: list[str] = []
        if rule.channels:
            if facts.channel not in rule.channels:
                return None
            reasons.append(f"channel is {_label(Channel, facts.channel).lower()}")
        if self.keywords:
            found = next(
                (phrase for phrase, regex in self.keywords if regex.search(facts.text)), None
            )
            if found is None:
                return None
            reasons.append(f"subject or body mentions '{found}'")
        customer = facts.customer
        for wanted, actual, yes, no in (
            (
                rule.has_open_pickup,
                customer.has_open_pickup,
                "customer has an open pickup",
                "customer has no open pickup",
            ),
            (
                rule.has_recent_return,
                customer.has_recent_return,
                f"customer returned something in the last {RECENT_RETURN_DAYS} days",
                f"customer returned nothing in the last {RECENT_RETURN_DAYS} days",
            ),
            (
                rule.high_maintenance,
                customer.high_maintenance,
                "customer is high-maintenance"
                + (f" ({customer.high_maintenance_why})" if customer.high_maintenance_why else ""),
                "customer is not high-maintenance",
            ),
        ):
            if wanted is None:
                continue
            if wanted != actual:
                return None
            reasons.append(yes if wanted else no)
        if rule.value_tiers:
            if customer.value_tier not in rule.value_tiers:
                return None
            reasons.append(f"lifetime value tier is {_label(ValueTier, customer.value_tier)}")
        if rule.order_statuses:
            if facts.order_status not in rule.order_statuses:
                return None
            reasons.append(f"linked order is {_label(OrderStatus, facts.order_status).lower()}")
        if rule.store_id is not None:
            if facts.store_id != rule.store_id:
                return None
            reasons.append(f"store is {rule.store.name if rule.store else rule.store_id}")
        return reasons or ["it matches every inquiry"]


def _label(choices: type, value: str | None) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def rule_reason(rule: RoutingRule, reasons: list[str]) -> str:
    return f"Rule '{rule.name}': {', '.join(reasons)}"[:REASON_MAX_LENGTH]


# -- Routing -----------------------------------------------------------------------------------


# A routing task routes up to this many waiting inquiries at once: the rules, queues, policies and
# customer facts are read once for all of them, so a worker that falls behind catches up.
ROUTING_BATCH = 50


def inquiry_route(*, inquiry_id: int) -> Inquiry | None:
    """Route one unrouted inquiry (see inquiries_route); None if it is routed already."""
    routed = inquiries_route(inquiry_id=inquiry_id, batch=1)
    return routed[0] if routed else None


# No savepoint when nested (in inquiries_route_and_acknowledge): nothing resumes after a failure.
@transaction.atomic(savepoint=False)
def inquiries_route(*, inquiry_id: int, batch: int = ROUTING_BATCH) -> list[Inquiry]:
    """Route an unrouted inquiry and, up to `batch` in all (1: that one alone), the oldest others
    waiting that no other routing holds: for each, the first enabled rule (by position) whose
    conditions all hold sets its queue, priority, assignee and tags; without a match it goes to
    the default queue.
    The decision and its reason are recorded, and the SLA clock set from the queue's policy.
    Routed inquiries are left alone, so a task run twice routes once. Returns the inquiries
    routed, loaded with_first_text, their customer, order and queue; `inquiry_id` first if it
    was among them."""
    waiting = Inquiry.objects.filter(routed_at__isnull=True)
    if batch == 1:
        waiting = waiting.filter(pk=inquiry_id)
    inquiries = list(
        with_first_text(waiting.select_for_update(of=("self",), skip_locked=True))
        .select_related("customer", "order")
        .order_by(Case(When(pk=inquiry_id, then=Value(0)), default=Value(1)), "created_at", "id")[
            :batch
        ]
    )
    if not inquiries:
        return []
    now = timezone.now()
    rules = [
        CompiledRule(rule)
        for rule in RoutingRule.objects.filter(enabled=True)
        .select_related("queue", "store")
        .order_by("position", "id")
    ]
    histories: dict[int, CustomerFacts] = {}
    if any(rule.uses_customer_history for rule in rules):
        histories = customer_facts(
            [inquiry.customer_id for inquiry in inquiries if inquiry.customer_id], now=now
        )
    fallback: list[Queue] = []  # the default queue, read once if needed
    targets = sla.TargetsCache()
    events: list[InquiryEvent] = []
    entries: list[AuditEntry] = []
    for inquiry in inquiries:
        facts = inquiry_facts(inquiry, histories.get(inquiry.customer_id or 0))
        matched, reasons = next(
            ((rule.rule, why) for rule in rules if (why := rule.match(facts)) is not None),
            (None, None),
        )
        assigned = None
        if matched is not None and reasons is not None:
            inquiry.queue = matched.queue
            inquiry.routed_by_rule = matched
            inquiry.routing_reason = rule_reason(matched, reasons)
            if matched.priority and matched.priority != inquiry.priority:
                inquiry.priority = matched.priority
            inquiry.tags = list(dict.fromkeys([*inquiry.tags, *matched.tags]))
            if matched.assignment and inquiry.assignee_id is None:
                inquiry.assignee = assigned = _pick_assignee(matched.queue, matched.assignment, now)
        else:
            fallback = fallback or [default_queue()]
            inquiry.queue = fallback[0]
            inquiry.routing_reason = DEFAULT_REASON
        inquiry.routed_at = now
        sla.sla_start(inquiry=inquiry, targets=targets)
        inquiry.save(
            update_fields=[
                "queue",
                "priority",
                "assignee",
                "tags",
                "routed_at",
                "routed_by_rule",
                "routing_reason",
                "first_response_due_at",
                "resolution_due_at",
                "updated_at",
            ]
        )
        events.append(
            InquiryEvent(
                inquiry=inquiry,
                kind=EventKind.ROUTED,
                new_value=(inquiry.queue.name if inquiry.queue else "")[:200],
                note=inquiry.routing_reason,
                created_at=now,
            )
        )
        if assigned is not None and matched is not None:
            events.append(
                InquiryEvent(
                    inquiry=inquiry,
                    kind=EventKind.ASSIGNEE,
                    new_value=str(assigned)[:200],
                    note=f"{Assignment(matched.assignment).label}.",
                    created_at=now,
                )
            )
        entries.append(
            audit_entry(
                actor=None,
                action="inquiry.route",
                obj=inquiry,
                data={
                    "queue": inquiry.queue_id,
                    "rule": matched.pk if matched else None,
                    "assignee": inquiry.assignee_id,
                    "priority": inquiry.priority,
                },
            )
        )
    InquiryEvent.objects.bulk_create(events)
    AuditEntry.objects.bulk_create(entries)
    return inquiries


def default_queue() -> Queue:
    """The queue of inquiries no rule routes. A data migration creates it; should it have been
    deleted since, it is made again rather than leaving inquiries in no queue at all."""
    queue = Queue.objects.filter(is_default=True).first()
    if queue is None:
        queue, _ = Queue.objects.get_or_create(
            slug="service",
            defaults={
                "name": "Customer Service",
                "description": "Everything no routing rule sends elsewhere.",
                "is_default": True,
            },
        )
    return queue


def _pick_assignee(queue: Queue, strategy: str, now: datetime) -> User | None:
    """The available member next in turn (round-robin: assigned longest ago; fewest open: the
    lightest load of open inquiries, then longest ago). The queue's memberships stay locked
    until commit, so concurrent routings to this queue take turns instead of picking the same
    member."""
    members = list(
        QueueMembership.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(queue=queue, is_available=True, user__is_active=True)
        # Locked in one order by every routing (no deadlocks), and sorted after the lock: a
        # locked read that waited for another routing returns rows as that one left them.
        .order_by("pk")
    )
    if not members:
        return None
    oldest = datetime.min.replace(tzinfo=UTC)
    members.sort(key=lambda member: (member.last_assigned_at or oldest, member.pk))
    chosen = members[0]
    if strategy == Assignment.FEWEST_OPEN:
        load = dict(
            Inquiry.objects.filter(
                assignee_id__in=[m.user_id for m in members], status__in=OPEN_STATUSES
            )
            .order_by()
            .values("assignee_id")
            .annotate(n=Count("pk"))
            .values_list("assignee_id", "n")
        )
        # min() keeps the first of equals: the member assigned longest ago.
        chosen = min(members, key=lambda member: load.get(member.user_id, 0))
    chosen.last_assigned_at = now
    chosen.save(update_fields=["last_assigned_at"])
    return chosen.user


def inquiry_sweep(*, now: datetime | None = None) -> int:
    """Enqueue the routing again of inquiries whose task was lost (the broker was down at
    commit, a worker died): unrouted for more than a minute, or routed more than a minute ago
    with the acknowledgement still held. Routing and release are idempotent, so an inquiry whose
    task is merely slow is routed and acknowledged once all the same. Returns how many."""
    cutoff = (now or timezone.now()) - SWEEP_GRACE
    with transaction.atomic():
        unrouted = list(
            # The partial index inquiry_unrouted_idx holds exactly these rows.
            Inquiry.objects.filter(routed_at__isnull=True, created_at__lte=cutoff)
            .order_by("created_at")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        held = list(
            Inquiry.objects.filter(
                routed_at__lte=cutoff, acknowledgement__status=OutboundEmailStatus.HELD
            )
            .order_by("routed_at")
            .values_list("pk", flat=True)[: SWEEP_BATCH - len(unrouted)]
        )
        from tickets.tasks import route_inquiry  # tasks call services: import late

        for inquiry_id in [*unrouted, *held]:
            enqueue_after_commit(route_inquiry, inquiry_id)
    return len(unrouted) + len(held)


# -- Editing the rules -------------------------------------------------------------------------


def _rule_data(rule: RoutingRule) -> dict[str, object]:
    return {
        name: (getattr(rule, f"{name}_id") if name in ("store", "queue") else getattr(rule, name))
        for name in RULE_FIELDS
    }


@transaction.atomic
def routing_rule_save(*, rule: RoutingRule, actor: User) -> RoutingRule:
    """Create a rule (placed last) or save the changes to one; audited with its new settings."""
    created = rule.pk is None
    if created:
        last = (
            RoutingRule.objects.select_for_update()
            .order_by("-position", "-id")
            .values_list("position", flat=True)
            .first()
        )
        rule.position = (last or 0) + 1
    rule.keywords = "\n".join(keyword_lines(rule.keywords))
    rule.tags = list(dict.fromkeys(tag for tag in rule.tags if tag))
    rule.updated_by = actor
    rule.save()
    audit_record(
        actor=actor,
        action="routing_rule.create" if created else "routing_rule.update",
        obj=rule,
        data=_rule_data(rule),
    )
    return rule


@transaction.atomic
def routing_rule_set_enabled(*, rule: RoutingRule, enabled: bool, actor: User) -> RoutingRule:
    rule = RoutingRule.objects.select_for_update().get(pk=rule.pk)
    if rule.enabled != enabled:
        rule.enabled = enabled
        rule.updated_by = actor
        rule.save(update_fields=["enabled", "updated_by", "updated_at"])
        audit_record(
            actor=actor,
            action="routing_rule.enable" if enabled else "routing_rule.disable",
            obj=rule,
        )
    return rule


@transaction.atomic
def routing_rule_move(*, rule: RoutingRule, offset: int, actor: User) -> RoutingRule:
    """Move a rule `offset` places (negative: up, tried earlier) and number all rules 1, 2, 3…
    Every rule is locked meanwhile, so two supervisors moving rules don't interleave."""
    rules = list(RoutingRule.objects.select_for_update().order_by("id"))
    # Sorted after the lock: a read that waited for another move sees its positions.
    rules.sort(key=lambda other: (other.position, other.pk))
    index = next(i for i, other in enumerate(rules) if other.pk == rule.pk)
    moved = rules.pop(index)
    target = max(0, min(len(rules), index + offset))
    rules.insert(target, moved)
    for position, other in enumerate(rules, start=1):
        other.position = position
    RoutingRule.objects.bulk_update(rules, ["position"])
    if target != index:
        audit_record(
            actor=actor,
            action="routing_rule.move",
            obj=moved,
            data={"from": index + 1, "to": target + 1},
        )
    return moved


@transaction.atomic
def routing_rule_delete(*, rule: RoutingRule, actor: User) -> None:
    """Delete a rule. Inquiries it routed keep their queue and the recorded reason."""
    audit_record(actor=actor, action="routing_rule.delete", obj=rule, data=_rule_data(rule))
    rule.delete()
