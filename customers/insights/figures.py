"""The insight figures of a batch of customers, computed from the source tables with a fixed
number of grouped queries whatever the batch size: one recompute path for a single customer
after an event and for the rebuild of every customer."""

import statistics
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from django.db.models import (
    Avg,
    Count,
    DecimalField,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from crm.models import Channel
from customers.models import (
    Activity,
    ActivityKind,
    ContactPoint,
    Customer,
    CustomerInsight,
    FirstTouch,
    Touch,
    Visit,
)
from orders.models import Order, OrderLine, OrderStatus, Return, ReturnLine, ReturnStatus
from tickets.models import OPEN_STATUSES, CallbackRequest, Inquiry

VISIT_DAYS = 30
FAVOURITE_CATEGORIES = 3
# Timeline entries that are a conversation with her, by any channel.
CONTACT_KINDS = (
    ActivityKind.INQUIRY_OPENED,
    ActivityKind.INQUIRY_MESSAGE,
    ActivityKind.INQUIRY_REPLIED,
    ActivityKind.CALL_LOGGED,
    ActivityKind.CALLBACK_REQUESTED,
    ActivityKind.CALLBACK_LOGGED,
    ActivityKind.COMMENT_ADDED,
)
# Inquiries counted apart: a logged call is a call, a call-back request counts as its request.
CALL_CHANNELS = (Channel.PHONE,)
CALLBACK_CHANNELS = (Channel.CALLBACK,)
# A contact point created this long before an order or visit came with it.
SAME_EVENT = timedelta(minutes=1)
CENT = Decimal("0.01")
ZERO = Decimal("0")


def visit_window_start(now: datetime) -> date:
    """The first local day of the visit window ending today."""
    return timezone.localdate(now, timezone.get_default_timezone()) - timedelta(days=VISIT_DAYS - 1)


def _first(model: type[Any], time_field: str, value: str) -> Subquery:
    return Subquery(
        model.objects.filter(customer=OuterRef("pk")).order_by(time_field, "id").values(value)[:1]
    )


def _customers(ids: Sequence[int]) -> QuerySet[Customer]:
    """Live customers with their first order, visit and contact point: index-backed subqueries."""
    return (
        Customer.objects.filter(pk__in=ids, merged_into__isnull=True)
        .annotate(
            first_order_at=_first(Order, "placed_at", "placed_at"),
            first_order_channel=_first(Order, "placed_at", "channel"),
            first_visit_at=_first(Visit, "occurred_at", "occurred_at"),
            first_visit_source=_first(Visit, "occurred_at", "source"),
            first_visit_campaign=_first(Visit, "occurred_at", "campaign"),
            first_contact_at=_first(ContactPoint, "created_at", "created_at"),
            first_contact_source=_first(ContactPoint, "created_at", "source"),
        )
        .order_by()
    )


def _first_touch(insight: CustomerInsight, customer: Any) -> None:
    candidates = [
        (customer.first_order_at, 0, FirstTouch.ORDER, customer.first_order_channel, "", ""),
        (
            customer.first_visit_at,
            1,
            FirstTouch.VISIT,
            Channel.WEB,
            customer.first_visit_source,
            customer.first_visit_campaign,
        ),
        (
            customer.first_contact_at,
            2,
            FirstTouch.CONTACT,
            customer.first_contact_source,
            "",
            "",
        ),
    ]
    found = [c for c in candidates if c[0] is not None]
    if not found:
        return

    def earliest(candidate: tuple[Any, ...]) -> tuple[datetime, int]:
        # Identity resolution stores her contact details just before the order or visit that
        # brought them: that event is the first touch, not the contact point it created.
        at, rank, kind = candidate[0], candidate[1], candidate[2]
        return (at - SAME_EVENT if kind != FirstTouch.CONTACT else at, rank)

    at, _, kind, channel, source, campaign = min(found, key=earliest)
    insight.first_touch_at = at
    insight.first_touch_kind = kind
    insight.first_touch_channel = channel or ""
    insight.first_touch_source = source or ""
    insight.first_touch_campaign = campaign or ""


def _orders(insights: dict[int, CustomerInsight], ids: Sequence[int]) -> dict[int, set[str]]:
    """Count, totals and the spacing of her orders; returns the channels she ordered in."""
    placed: dict[int, list[datetime]] = defaultdict(list)
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    channels: dict[int, set[str]] = defaultdict(set)
    rows = (
        Order.objects.filter(customer_id__in=ids)
        .exclude(status=OrderStatus.CANCELLED)
        .order_by("customer_id", "placed_at", "id")
        .values_list("customer_id", "placed_at", "total", "channel")
    )
    for customer_id, placed_at, total, channel in rows:
        placed[customer_id].append(placed_at)
        totals[customer_id] += total
        channels[customer_id].add(channel)
    for customer_id, moments in placed.items():
        insight = insights[customer_id]
        insight.order_count = len(moments)
        insight.first_order_at, insight.last_order_at = moments[0], moments[-1]
        insight.orders_total = totals[customer_id]
        insight.average_order_total = (totals[customer_id] / len(moments)).quantize(CENT)
        if len(moments) >= 2:
            gaps = [(b - a).total_seconds() / 86400 for a, b in pairwise(moments)]
            mean = statistics.fmean(gaps)
            insight.order_interval_days = Decimal(f"{mean:.1f}")
            if mean > 0:
                variation = statistics.pstdev(gaps) / mean
                insight.order_interval_variation = Decimal(f"{variation:.3f}")
    return channels


def _lines(insights: dict[int, CustomerInsight], ids: Sequence[int]) -> None:
    """Items and value bought, and her favourite categories, from the lines of her orders."""
    categories: dict[int, list[tuple[int, str]]] = defaultdict(list)
    rows = (
        OrderLine.objects.filter(order__customer_id__in=ids)
        .exclude(order__status=OrderStatus.CANCELLED)
        .values("order__customer_id", "product__category__name")
        .annotate(items=Sum("quantity"), value=Sum("line_total"))
        .order_by()
    )
    for row in rows:
        insight = insights[row["order__customer_id"]]
        insight.items_bought += row["items"]
        insight.value_bought += row["value"]
        if row["product__category__name"]:
            categories[row["order__customer_id"]].append(
                (row["items"], row["product__category__name"])
            )
    for customer_id, counted in categories.items():
        counted.sort(key=lambda item: (-item[0], item[1]))
        insights[customer_id].favourite_categories = [
            {"name": name, "quantity": quantity}
            for quantity, name in counted[:FAVOURITE_CATEGORIES]
        ]


def _returns(insights: dict[int, CustomerInsight], ids: Sequence[int]) -> dict[int, set[str]]:
    """What completed returns took back, by items and value; returns the channels used."""
    completed = Q(status=ReturnStatus.COMPLETED) & ~Q(order__status=OrderStatus.CANCELLED)
    channels: dict[int, set[str]] = defaultdict(set)
    for row in (
        Return.objects.filter(completed, customer_id__in=ids)
        .values("customer_id", "channel")
        .annotate(total=Sum("refund_total"))
        .order_by()
    ):
        insights[row["customer_id"]].returned_total += row["total"]
        channels[row["customer_id"]].add(row["channel"])
    for line in (
        ReturnLine.objects.filter(
            return_request__customer_id__in=ids,
            return_request__status=ReturnStatus.COMPLETED,
        )
        .exclude(return_request__order__status=OrderStatus.CANCELLED)
        .values("return_request__customer_id")
        .annotate(
            items=Sum("quantity"),
            value=Sum(
                F("quantity") * F("order_line__unit_price"),
                output_field=DecimalField(max_digits=14, decimal_places=2),
            ),
        )
        .order_by()
    ):
        insight = insights[line["return_request__customer_id"]]
        insight.items_returned = line["items"]
        insight.value_returned = line["value"].quantize(CENT)
    return channels


def _service(insights: dict[int, CustomerInsight], ids: Sequence[int]) -> dict[int, set[str]]:
    """Inquiries, calls, call-backs, ratings and the last contact; returns the channels used."""
    live = Q(merged_into__isnull=True)
    by_channel = {
        f"n_{channel}": Count("pk", filter=Q(channel=channel)) for channel in Channel.values
    }
    channels: dict[int, set[str]] = defaultdict(set)
    inquiries: Any = Inquiry.objects.filter(customer_id__in=ids)
    for row in (
        inquiries.values("customer_id")
        .annotate(
            written=Count(
                "pk",
                filter=live
                & Q(automated_reason="")
                & ~Q(channel__in=CALL_CHANNELS + CALLBACK_CHANNELS),
            ),
            calls=Count("pk", filter=live & Q(channel__in=CALL_CHANNELS)),
            still_open=Count("pk", filter=live & Q(status__in=OPEN_STATUSES)),
            rating_average=Avg("rating"),
            ratings=Count("rating"),
            **by_channel,
        )
        .order_by()
    ):
        insight = insights[row["customer_id"]]
        insight.inquiry_count = row["written"]
        insight.call_count = row["calls"]
        insight.open_inquiries = row["still_open"]
        insight.rating_count = row["ratings"]
        if row["rating_average"] is not None:
            insight.average_rating = Decimal(row["rating_average"]).quantize(CENT)
        channels[row["customer_id"]] = {
            channel for channel in Channel.values if row[f"n_{channel}"]
        }
    for customer_id, count in (
        CallbackRequest.objects.filter(customer_id__in=ids)
        .values("customer_id")
        .annotate(n=Count("pk"))
        .values_list("customer_id", "n")
        .order_by()
    ):
        insights[customer_id].callback_count = count
    for customer_id, last in (
        Activity.objects.filter(customer_id__in=ids, kind__in=CONTACT_KINDS)
        .values("customer_id")
        .annotate(last=Max("occurred_at"))
        .values_list("customer_id", "last")
        .order_by()
    ):
        insights[customer_id].last_contact_at = last
    return channels


def _offers(insights: dict[int, CustomerInsight], ids: Sequence[int]) -> None:
    for row in (
        Touch.objects.filter(customer_id__in=ids)
        .values("customer_id", "offer_type")
        .annotate(received=Count("pk"), redeemed=Count("pk", filter=Q(redeemed_at__isnull=False)))
        .order_by("customer_id", "offer_type")
    ):
        insights[row["customer_id"]].offers[row["offer_type"]] = {
            "received": row["received"],
            "redeemed": row["redeemed"],
        }


def _visits(insights: dict[int, CustomerInsight], ids: Sequence[int], now: datetime) -> None:
    local = timezone.get_default_timezone()
    start = visit_window_start(now)
    since = datetime.combine(start, datetime.min.time(), tzinfo=local)
    for row in (
        Visit.objects.filter(customer_id__in=ids, occurred_at__gte=since, occurred_at__lte=now)
        .annotate(day=TruncDate("occurred_at", tzinfo=local))
        .values("customer_id", "day", "source")
        .annotate(n=Count("pk"))
        .order_by("customer_id", "day", "source")
    ):
        days = insights[row["customer_id"]].visits_by_day
        days.setdefault(row["day"].isoformat(), {})[row["source"]] = row["n"]


def insights_compute(customer_ids: Sequence[int], *, now: datetime) -> dict[int, CustomerInsight]:
    """The insight rows (unsaved) of the live customers among `customer_ids`, in ten queries
    for the whole batch. Merged customers have none."""
    ids = list(customer_ids)
    insights: dict[int, CustomerInsight] = {}
    first_touches: dict[int, Any] = {}
    for customer in _customers(ids):
        insights[customer.pk] = CustomerInsight(
            customer_id=customer.pk,
            customer_since=customer.customer_since,
            computed_at=now,
            channels=[],
            favourite_categories=[],
            offers={},
            visits_by_day={},
        )
        first_touches[customer.pk] = customer
    if not insights:
        return {}
    ids = list(insights)
    used: dict[int, set[str]] = defaultdict(set)
    for found in (
        _orders(insights, ids),
        _returns(insights, ids),
        _service(insights, ids),
    ):
        for customer_id, channels in found.items():
            used[customer_id] |= channels
    _lines(insights, ids)
    _offers(insights, ids)
    _visits(insights, ids, now)
    for customer_id, insight in insights.items():
        customer = first_touches[customer_id]
        _first_touch(insight, customer)
        if customer.first_visit_at is not None:
            used[customer_id].add(Channel.WEB)
        insight.lifetime_value = insight.orders_total - insight.returned_total
        insight.channels = [
            channel
            for channel in Channel.values
            if channel in used[customer_id] and channel != Channel.SYSTEM
        ]
    return insights
