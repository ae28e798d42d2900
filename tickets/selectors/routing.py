"""Reads of the routing rules pages: the rules in order, and a rule's preview against the latest
inquiries."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm.models import Channel
from orders.models import OrderStatus
from tickets.models import Assignment, Inquiry, Priority, Queue, RoutingRule, ValueTier
from tickets.services.routing import (
    CompiledRule,
    customer_facts,
    inquiry_facts,
    keyword_lines,
    with_first_text,
)

PREVIEW_SIZE = 200
RECENT_DAYS = 30


@dataclass(frozen=True)
class RuleRow:
    rule: RoutingRule
    conditions: list[str]
    actions: list[str]


def _labels(choices: type, values: list[str]) -> str:
    known = dict(choices.choices)  # type: ignore[attr-defined]
    return ", ".join(str(known.get(value, value)) for value in values)


def rule_conditions(rule: RoutingRule) -> list[str]:
    """The rule's conditions in words, for the list page."""
    said = []
    if rule.channels:
        said.append(f"Channel: {_labels(Channel, rule.channels)}")
    if words := keyword_lines(rule.keywords):
        shown = ", ".join(f"“{word}”" for word in words[:5])
        said.append(f"Mentions {shown}{f' and {len(words) - 5} more' if len(words) > 5 else ''}")
    for value, yes, no in (
        (rule.has_open_pickup, "Has an open pickup", "No open pickup"),
        (rule.has_recent_return, "Returned in the last 30 days", "No recent return"),
        (rule.high_maintenance, "High-maintenance", "Not high-maintenance"),
    ):
        if value is not None:
            said.append(yes if value else no)
    if rule.value_tiers:
        said.append(f"Value tier: {_labels(ValueTier, rule.value_tiers)}")
    if rule.order_statuses:
        said.append(f"Order: {_labels(OrderStatus, rule.order_statuses).lower()}")
    if rule.store is not None:
        said.append(f"Store: {rule.store.name}")
    return said


def rule_actions(rule: RoutingRule) -> list[str]:
    done = [f"Queue {rule.queue.name}"]
    if rule.priority:
        done.append(f"priority {Priority(rule.priority).label.lower()}")
    if rule.assignment:
        done.append(Assignment(rule.assignment).label.lower())
    if rule.tags:
        done.append(f"tags {', '.join(rule.tags)}")
    return done


def routing_rules_for_page() -> list[RuleRow]:
    """Every rule in the order they are tried, in words, with `routed_recently`: inquiries it
    routed in the last 30 days. One query."""
    routed = (
        Inquiry.objects.filter(
            routed_by_rule=OuterRef("pk"),
            routed_at__gte=timezone.now() - timedelta(days=RECENT_DAYS),
        )
        .order_by()
        .values("routed_by_rule")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rules = (
        RoutingRule.objects.select_related("queue", "store", "updated_by")
        .annotate(routed_recently=Coalesce(Subquery(routed), Value(0), output_field=IntegerField()))
        .order_by("position", "id")
    )
    return [RuleRow(rule, rule_conditions(rule), rule_actions(rule)) for rule in rules]


def default_queue_name() -> str:
    return Queue.objects.filter(is_default=True).values_list("name", flat=True).first() or ""


@dataclass(frozen=True)
class PreviewRow:
    inquiry: Inquiry
    reasons: list[str]


@dataclass(frozen=True)
class RoutingPreview:
    examined: int
    matches: list[PreviewRow]


def routing_preview(*, rule: RoutingRule, limit: int = PREVIEW_SIZE) -> RoutingPreview:
    """Which of the latest `limit` inquiries the (possibly unsaved) rule would match on its own,
    each with the reason and how it was actually routed. At most three queries, whatever the
    rule asks about."""
    compiled = CompiledRule(rule)
    inquiries = list(
        with_first_text(
            Inquiry.objects.select_related("customer", "order", "queue", "routed_by_rule")
        ).order_by("-created_at", "-id")[:limit]
    )
    history = (
        customer_facts(
            [i.customer_id for i in inquiries if i.customer_id is not None], now=timezone.now()
        )
        if compiled.uses_customer_history
        else {}
    )
    matches = []
    for inquiry in inquiries:
        facts = inquiry_facts(
            inquiry, history.get(inquiry.customer_id) if inquiry.customer_id else None
        )
        reasons = compiled.match(facts)
        if reasons is not None:
            matches.append(PreviewRow(inquiry=inquiry, reasons=reasons))
    return RoutingPreview(examined=len(inquiries), matches=matches)
