"""The stores dashboard's reports: pickups at each store, returns by channel, store and reason,
and how many customers use more than one channel."""

from collections import Counter
from typing import Any

from django.db import connections
from django.db.models import Case, CharField, Count, F, Q, QuerySet, Sum, Value, When

from crm.models import Channel
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
from orders.models import Order, Pickup, PickupStatus, Return, ReturnLine, ReturnReason
from tickets.models import Inquiry

NO_STORE = "Posted (no store)"

# The channels a customer can be said to use, each a family of the channels things happen in.
CHANNEL_FAMILIES: dict[str, tuple[str, ...]] = {
    "online": (Channel.WEB, Channel.WEB_FORM, Channel.PORTAL),
    "store": (Channel.STORE, Channel.KIOSK),
    "phone": (Channel.PHONE, Channel.CALLBACK),
    "email": (Channel.EMAIL,),
}
MULTICHANNEL_LABELS = ["One channel", "Two channels", "Three or more"]


def pickups(scope: ReportScope) -> list[Chart]:
    """Per store: pickups made ready, collected, and expired (uncollected at the end of the hold
    period) within the range, and the median time from ready to collected."""
    ready = scope.within("ready_at")
    collected = scope.within("collected_at")
    expired = Q(status=PickupStatus.EXPIRED) & scope.within("hold_until")
    in_scope = Pickup.objects.using(scope.database).filter(scope.stores("store_id"))
    rows = list(
        in_scope.filter(ready | collected | expired)
        .values("store_id", "store__name")
        .annotate(
            ready=Count("pk", filter=ready),
            collected=Count("pk", filter=collected),
            expired=Count("pk", filter=expired),
        )
        .order_by("store__name", "store_id")
    )
    handed_over = in_scope.filter(collected, ready_at__isnull=False)
    seconds = Seconds("collected_at", "ready_at")
    medians = percentiles(handed_over, group="store_id", seconds=seconds, fractions=(0.5,))
    overall = percentiles(handed_over, group=None, seconds=seconds, fractions=(0.5,))[None][0]
    names = [row["store__name"] for row in rows]
    total_collected = sum(row["collected"] for row in rows)
    total_expired = sum(row["expired"] for row in rows)
    collecting = [row for row in rows if row["store_id"] in medians]
    return [
        Chart(
            key="pickups",
            title="Pickups by store",
            kind="bar",
            category="Store",
            labels=names,
            series=[
                Series("Ready", [row["ready"] for row in rows]),
                Series("Collected", [row["collected"] for row in rows]),
                Series("Expired", [row["expired"] for row in rows]),
            ],
            headline=percent_text(share(total_collected, total_collected + total_expired)),
            headline_label="collected rather than expired",
            tones=("", "good", "bad"),
            horizontal=True,
            empty="No pickups were ready, collected or expired in this range.",
        ),
        Chart(
            key="time-to-collect",
            title="Time to collect",
            kind="bar",
            category="Store",
            labels=[row["store__name"] for row in collecting],
            series=[
                Series("Median (hours)", [hours(medians[row["store_id"]][0]) for row in collecting])
            ],
            headline=duration_text(overall),
            headline_label="median from ready to collected",
            unit="h",
            measures_time=True,
            horizontal=True,
            empty="No pickups were collected in this range.",
        ),
    ]


def returns(scope: ReportScope) -> list[Chart]:
    """Items returned (returns completed in the range) by the channel of the original order, by
    the store that took them back, and by the reason given."""
    rows = (
        ReturnLine.objects.using(scope.database)
        .filter(
            scope.within("return_request__completed_at"),
            scope.stores("return_request__store_id"),
        )
        .values(
            "return_request__order__channel",
            "return_request__store_id",
            "return_request__store__name",
            "reason",
        )
        .annotate(items=Sum("quantity"))
        .order_by()
    )
    by_channel: Counter[str] = Counter()
    by_store: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    for row in rows:
        by_channel[row["return_request__order__channel"]] += row["items"]
        by_store[row["return_request__store__name"] or NO_STORE] += row["items"]
        by_reason[row["reason"]] += row["items"]
    total = sum(by_channel.values())
    channels = [channel for channel in Channel if by_channel[channel]]
    stores = sorted(by_store, key=lambda name: (-by_store[name], name))
    reasons = [reason for reason in ReturnReason if by_reason[reason]]
    top_reason = max(reasons, key=lambda reason: by_reason[reason]) if reasons else None
    online = sum(by_channel[channel] for channel in CHANNEL_FAMILIES["online"])
    empty = "No returns were completed in this range."
    return [
        Chart(
            key="returns-by-channel",
            title="Returns by channel of purchase",
            kind="bar",
            category="Bought in",
            labels=[channel.label for channel in channels],
            series=[Series("Items returned", [by_channel[channel] for channel in channels])],
            headline=f"{total:,}",
            headline_label=f"items returned, {percent_text(share(online, total))} bought online",
            empty=empty,
        ),
        Chart(
            key="returns-by-store",
            title="Returns by store",
            kind="bar",
            category="Returned at",
            labels=stores,
            series=[Series("Items returned", [by_store[name] for name in stores])],
            headline=f"{by_store[stores[0]]:,}" if stores else "–",
            headline_label=f"items at {stores[0]}, the most" if stores else "no returns",
            horizontal=True,
            empty=empty,
        ),
        Chart(
            key="returns-by-reason",
            title="Returns by reason",
            kind="bar",
            category="Reason",
            labels=[reason.label for reason in reasons],
            series=[Series("Items returned", [by_reason[reason] for reason in reasons])],
            headline=percent_text(share(by_reason[top_reason], total)) if top_reason else "–",
            headline_label=f"gave “{top_reason.label}”, the most common reason"
            if top_reason
            else "no returns",
            horizontal=True,
            empty=empty,
        ),
    ]


def _family(field: str = "channel") -> Case:
    return Case(
        *(
            When(**{f"{field}__in": channels}, then=Value(family))
            for family, channels in CHANNEL_FAMILIES.items()
        ),
        default=Value(None),
        output_field=CharField(),
    )


def _acts(scope: ReportScope) -> list[QuerySet[Any]]:
    """Who did something in which channel family at which store (or none) within the range:
    bought, took a pickup home, returned items, asked us something."""
    database = scope.database
    return [
        Order.objects.using(database)
        .filter(scope.within("placed_at"))
        .values(who=F("customer_id"), family=_family(), place=F("store_id")),
        Pickup.objects.using(database)
        .filter(scope.within("collected_at"))
        .values(who=F("order__customer_id"), family=Value("store"), place=F("store_id")),
        Return.objects.using(database)
        .filter(scope.within("completed_at"))
        .values(who=F("customer_id"), family=_family(), place=F("store_id")),
        Inquiry.objects.using(database)
        .filter(
            scope.within("created_at"),
            customer__isnull=False,
            merged_into__isnull=True,
            automated_reason="",
        )
        .values(who=F("customer_id"), family=_family(), place=F("store_id")),
    ]


def multichannel(scope: ReportScope) -> list[Chart]:
    """Of the customers active in the range (bought, collected, returned or asked us something),
    how many used one, two, or three or more channels (online, store, phone, e-mail). With
    stores in scope: the customers who came to those stores, counting their activity there and
    their activity outside any store (online, phone, e-mail), never another store's."""
    connection = connections[scope.database]
    parts, params = [], []
    for queryset in _acts(scope):
        sql, part_params = queryset.order_by().query.get_compiler(using=scope.database).as_sql()
        parts.append(f"SELECT act.who, act.family, act.place FROM ({sql}) act")  # noqa: S608
        params.extend(part_params)
    where, having = "", ""
    if scope.store_ids is not None:
        marks = ", ".join(["%s"] * len(scope.store_ids)) or "NULL"
        where = f"AND (place IS NULL OR place IN ({marks}))"
        having = f"HAVING MAX(CASE WHEN place IN ({marks}) THEN 1 ELSE 0 END) = 1"
        params.extend([*scope.store_ids, *scope.store_ids])
    query = f"""
        WITH acts AS ({" UNION ALL ".join(parts)}),
        customers AS (
            SELECT who, COUNT(DISTINCT family) AS families FROM acts
            WHERE family IS NOT NULL {where}
            GROUP BY who {having}
        )
        SELECT families, COUNT(*) FROM customers GROUP BY families
    """  # noqa: S608 - the parts are the ORM's own SQL; every value is a parameter
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        counts = dict(cursor.fetchall())
    values = [counts.get(1, 0), counts.get(2, 0), sum(n for f, n in counts.items() if f >= 3)]
    total = sum(values)
    return [
        Chart(
            key="multichannel",
            title="Customers in more than one channel",
            kind="doughnut",
            category="Active in",
            labels=MULTICHANNEL_LABELS,
            series=[Series("Customers", values)],
            headline=percent_text(share(values[1] + values[2], total)),
            headline_label=f"of {total:,} active customers used two channels or more",
            tones=("muted", "light", "brand"),
            note="Channels: online (web shop, web form, portal), store, phone, e-mail.",
            empty="No customer was active in this range.",
        )
    ]
