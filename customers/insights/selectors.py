"""Reads of customer insights, shaped for the pages that show them. The insight row comes with
the customer (select_related) and the thresholds come as annotations of the same query, so a page
shows the insight and its flags at no extra query."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from crm.models import Channel
from customers.insights.figures import visit_window_start
from customers.insights.flags import Flag, OfferRecord, insight_flags, offer_records
from customers.models import (
    INSIGHT_THRESHOLD_FIELDS,
    Customer,
    CustomerInsight,
    FirstTouch,
    InsightThresholds,
    VisitSource,
)
from orders.models import Product

THRESHOLD_PREFIX = "insight_threshold_"


@cache
def _threshold_sql(name: str) -> tuple[str, tuple[Any, ...]]:
    """The SQL of the one-row subquery that reads a threshold, compiled once by the ORM."""
    row = InsightThresholds.objects.filter(pk=InsightThresholds.SINGLETON_ID).values(name)[:1]
    return row.query.sql_with_params()


def threshold_annotations(names: Sequence[str] = INSIGHT_THRESHOLD_FIELDS) -> dict[str, RawSQL]:
    """The thresholds (all, or these) as columns of any query: uncorrelated one-row subqueries,
    computed once per query by the database. Their SQL is compiled once per process: compiling
    eight subqueries took longer than the rest of the query they join (1.4 ms of a 360 page)."""
    fields = {field.name: field for field in InsightThresholds._meta.concrete_fields}
    return {
        f"{THRESHOLD_PREFIX}{name}": RawSQL(*_threshold_sql(name), output_field=fields[name])  # noqa: S611
        for name in names
    }


def with_insight[M: Model](queryset: QuerySet[M], customer_path: str = "") -> QuerySet[M]:
    """Load each row's customer insight and the thresholds with the rows themselves.
    `customer_path` leads from the queryset's model to the customer ("order__customer")."""
    insight = f"{customer_path}__insight" if customer_path else "insight"
    return queryset.select_related(insight).annotate(**threshold_annotations())


def thresholds_from(row: object) -> InsightThresholds:
    """The thresholds annotated on a row (a model instance or a dict of values) by with_insight or
    threshold_annotations; the defaults where none are set."""
    thresholds = InsightThresholds(pk=InsightThresholds.SINGLETON_ID)
    for name in INSIGHT_THRESHOLD_FIELDS:
        key = f"{THRESHOLD_PREFIX}{name}"
        value = row.get(key) if isinstance(row, dict) else getattr(row, key, None)
        if value is not None:
            setattr(thresholds, name, value)
    return thresholds


def insight_of(customer: Customer) -> CustomerInsight | None:
    """The insight loaded with the customer, or None when she has none yet (no query)."""
    try:
        return customer.insight
    except ObjectDoesNotExist:
        return None


def customer_with_insight(*, customer_id: int) -> Customer | None:
    """The customer with her home store and contact points, her insight and the thresholds in
    the same query. The record she was merged into, if any, is not loaded: the pages that show
    her only redirect from an alias. Ordered by id alone: the model's ordering by name made
    building the query's SQL cost more than running it."""
    return (
        with_insight(
            Customer.objects.select_related("home_store").prefetch_related("contact_points")
        )
        .filter(pk=customer_id)
        .order_by()
        .first()
    )


@dataclass(frozen=True)
class VisitSummary:
    total: int
    # (source label, visits), most visits first.
    sources: list[tuple[str, int]]


def visits_last_30_days(insight: CustomerInsight, *, now: datetime) -> VisitSummary:
    """Her visits over the 30 days up to today, from the stored per-day counts: the days that
    aged out since the insight was computed are left out without a write."""
    start = visit_window_start(now).isoformat()
    today = timezone.localdate(now, timezone.get_default_timezone()).isoformat()
    counts: Counter[str] = Counter()
    for day, sources in insight.visits_by_day.items():
        if start <= day <= today:
            counts.update({source: int(n) for source, n in sources.items()})
    labels = dict(VisitSource.choices)
    return VisitSummary(
        total=sum(counts.values()),
        sources=[
            (str(labels.get(source, source)), n)
            for source, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        ],
    )


def first_touch_label(insight: CustomerInsight) -> str:
    """How she first came, in a few words: "Web shop visit from a search (spring-sale)"."""
    if not insight.first_touch_kind:
        return ""
    channel = dict(Channel.choices).get(insight.first_touch_channel, insight.first_touch_channel)
    if insight.first_touch_kind == FirstTouch.VISIT:
        source = dict(VisitSource.choices).get(insight.first_touch_source, "")
        label = f"Web shop visit from {str(source).lower()}" if source else "Web shop visit"
        if insight.first_touch_campaign:
            label += f" ({insight.first_touch_campaign})"
        return label
    if insight.first_touch_kind == FirstTouch.ORDER:
        return f"{channel} order"
    return f"Contact details from {str(channel).lower()}" if channel else "Contact details"


@dataclass(frozen=True)
class InsightPanel:
    """What the insight panel shows of one customer; `insight` is None before her first event."""

    insight: CustomerInsight | None
    thresholds: InsightThresholds
    flags: list[Flag] = field(default_factory=list)
    visits: VisitSummary = field(default_factory=lambda: VisitSummary(0, []))
    offers: list[OfferRecord] = field(default_factory=list)
    first_touch: str = ""
    channels: list[str] = field(default_factory=list)
    basket_total: Decimal | None = None

    @property
    def has_orders(self) -> bool:
        return self.insight is not None and self.insight.order_count > 0


def insight_panel(
    insight: CustomerInsight | None,
    thresholds: InsightThresholds,
    *,
    basket_total: Decimal | None = None,
    now: datetime | None = None,
) -> InsightPanel:
    moment = now or timezone.now()
    if insight is None:
        return InsightPanel(insight=None, thresholds=thresholds, basket_total=basket_total)
    labels = dict(Channel.choices)
    return InsightPanel(
        insight=insight,
        thresholds=thresholds,
        flags=insight_flags(insight, thresholds, now=moment, basket_total=basket_total),
        visits=visits_last_30_days(insight, now=moment),
        offers=offer_records(insight),
        first_touch=first_touch_label(insight),
        channels=[str(labels.get(channel, channel)) for channel in insight.channels],
        basket_total=basket_total,
    )


def customer_insight_panel(
    customer: Customer, *, row: object | None = None, basket_total: Decimal | None = None
) -> InsightPanel:
    """The panel of a customer loaded with_insight (or of a customer reached from `row`, the
    object the query annotated with the thresholds)."""
    return insight_panel(
        insight_of(customer),
        thresholds_from(row if row is not None else customer),
        basket_total=basket_total,
    )


def basket_total(*, lines: Sequence[tuple[str, int]]) -> Decimal | None:
    """The catalogue value of SKUs and quantities typed into an order form, in one query; None
    when nothing known is typed yet. SKUs match whatever their case."""
    wanted = [(sku.strip(), quantity) for sku, quantity in lines if sku.strip()]
    if not wanted:
        return None
    condition = Q()
    for sku, _ in wanted:
        condition |= Q(sku__iexact=sku)
    found = Product.objects.filter(condition).values_list("sku", "price")
    prices = {sku.upper(): price for sku, price in found}
    known = [(prices[sku.upper()], quantity) for sku, quantity in wanted if sku.upper() in prices]
    if not known:
        return None
    return sum((price * max(quantity, 1) for price, quantity in known), Decimal("0"))


def insight_panel_for(customer: Customer, *, basket_total: Decimal | None = None) -> InsightPanel:
    """Her panel: from what was loaded with her (with_insight, no query), or else in one query
    for her insight and the thresholds together."""
    if hasattr(customer, f"{THRESHOLD_PREFIX}{INSIGHT_THRESHOLD_FIELDS[0]}"):
        return customer_insight_panel(customer, basket_total=basket_total)
    insight = (
        CustomerInsight.objects.filter(pk=customer.pk).annotate(**threshold_annotations()).first()
    )
    return insight_panel(
        insight,
        thresholds_from(insight) if insight is not None else InsightThresholds(),
        basket_total=basket_total,
    )
