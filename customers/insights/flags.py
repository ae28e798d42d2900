"""The insight flags, judged at read time from a stored insight and the current thresholds, so a
threshold a supervisor changes shows on every page at once. Each flag says why it is raised."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import cast

from crm.models import Role, User
from crm.permissions import AnyUser, is_staff_member
from customers.models import CustomerInsight, InsightThresholds, OfferType

THRESHOLD_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})


def can_set_insight_thresholds(user: AnyUser) -> bool:
    """Supervisors and admins decide when a customer counts as high-maintenance, valuable or at
    risk; everyone else reads the flags."""
    return is_staff_member(user) and cast(User, user).role in THRESHOLD_ROLES


@dataclass(frozen=True)
class Flag:
    key: str  # high_maintenance, valuable, at_risk, cross_sell, best_offer
    label: str
    reason: str
    icon: str


def money(value: Decimal) -> str:
    return f"${value:,.2f}"


def _number(value: Decimal) -> str:
    """1.0 -> "1", 2.50 -> "2.5": figures as a person writes them."""
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}".rstrip("0")


def _days(value: Decimal | float) -> str:
    days = round(float(value))
    return f"{days} day{'s' if days != 1 else ''}"


# What high_maintenance reads (the stored fields behind its rates): routing asks for these alone.
HIGH_MAINTENANCE_INSIGHT_FIELDS = (
    "items_bought",
    "items_returned",
    "order_count",
    "inquiry_count",
    "call_count",
    "callback_count",
)
HIGH_MAINTENANCE_THRESHOLDS = ("returns_rate_percent", "contacts_per_order")


def high_maintenance(insight: CustomerInsight, thresholds: InsightThresholds) -> Flag | None:
    """Returns much of what she buys and needs service often: both rates above the thresholds."""
    returns_rate, contacts = insight.returns_rate_items, insight.contacts_per_order
    if returns_rate is None or contacts is None:
        return None
    if not (
        returns_rate > thresholds.returns_rate_percent and contacts > thresholds.contacts_per_order
    ):
        return None
    return Flag(
        key="high_maintenance",
        label="High maintenance",
        reason=(
            f"Returned {_number(returns_rate)}% of the items she bought (threshold "
            f"{_number(thresholds.returns_rate_percent)}%) and contacted service "
            f"{_number(contacts)} times per order (threshold "
            f"{_number(thresholds.contacts_per_order)})."
        ),
        icon="exclamation-diamond",
    )


# What insight_flags reads, every flag's fields: a page that loads no more of the insight.
FLAG_INSIGHT_FIELDS = (
    *HIGH_MAINTENANCE_INSIGHT_FIELDS,
    "lifetime_value",
    "order_interval_days",
    "order_interval_variation",
    "last_order_at",
    "average_order_total",
    "offers",
)


def valuable(insight: CustomerInsight, thresholds: InsightThresholds) -> Flag | None:
    if insight.lifetime_value <= thresholds.valuable_lifetime_value:
        return None
    return Flag(
        key="valuable",
        label="Valuable",
        reason=(
            f"Lifetime value {money(insight.lifetime_value)} net of returns, above "
            f"{money(thresholds.valuable_lifetime_value)}."
        ),
        icon="gem",
    )


def at_risk(
    insight: CustomerInsight, thresholds: InsightThresholds, *, now: datetime
) -> Flag | None:
    """A regular customer gone quiet: enough orders, evenly enough spaced (at least a day apart
    on average), and a silence since the last one longer than the factor times her usual gap."""
    interval, variation = insight.order_interval_days, insight.order_interval_variation
    if (
        insight.order_count < thresholds.at_risk_min_orders
        or insight.last_order_at is None
        or interval is None
        or variation is None
        or interval < 1
        or variation * 100 > thresholds.at_risk_variation_percent
    ):
        return None
    silence = (now - insight.last_order_at) / timedelta(days=1)
    limit = float(interval * thresholds.at_risk_silence_factor)
    if silence <= limit:
        return None
    return Flag(
        key="at_risk",
        label="At risk",
        reason=(
            f"Ordered every {_days(interval)} on average ({insight.order_count} orders), but "
            f"nothing for {_days(silence)}: more than {_number(thresholds.at_risk_silence_factor)}"
            f"× her usual gap."
        ),
        icon="hourglass-split",
    )


def cross_sell(
    insight: CustomerInsight, thresholds: InsightThresholds, *, basket_total: Decimal | None
) -> Flag | None:
    """The basket in front of her (the pickup at the counter, the order being typed) is below
    her usual order total: there is room to suggest something."""
    average = insight.average_order_total
    if (
        basket_total is None
        or average is None
        or insight.order_count < thresholds.cross_sell_min_orders
        or basket_total >= average
    ):
        return None
    gap = average - basket_total
    return Flag(
        key="cross_sell",
        label=f"Cross-sell fits: {money(gap)} below usual",
        reason=(
            f"This basket ({money(basket_total)}) is {money(gap)} below her average order of "
            f"{money(average)} over {insight.order_count} orders."
        ),
        icon="bag-plus",
    )


@dataclass(frozen=True)
class OfferRecord:
    offer_type: str
    label: str
    received: int
    redeemed: int

    @property
    def rate(self) -> Decimal:
        return Decimal(100 * self.redeemed) / self.received if self.received else Decimal(0)


def offer_records(insight: CustomerInsight) -> list[OfferRecord]:
    """Each offer type she received, with how many she redeemed, best answered first."""
    records = []
    for offer_type, counts in insight.offers.items():
        try:
            label = str(OfferType(offer_type).label)
        except ValueError:
            label = offer_type
        records.append(
            OfferRecord(
                offer_type=offer_type,
                label=label,
                received=int(counts.get("received", 0)),
                redeemed=int(counts.get("redeemed", 0)),
            )
        )
    records.sort(key=lambda r: (-r.rate, -r.redeemed, -r.received, r.label))
    return records


def best_offer(insight: CustomerInsight, thresholds: InsightThresholds) -> Flag | None:
    """The offer type she redeems most often, among those she received often enough to judge."""
    judged = [r for r in offer_records(insight) if r.received >= thresholds.offer_min_sample]
    if not judged or not judged[0].redeemed:
        return None
    best = judged[0]
    others = "; ".join(f"{r.label.lower()} {r.redeemed} of {r.received}" for r in judged[1:3])
    return Flag(
        key="best_offer",
        label=f"Best offer: {best.label.lower()}",
        reason=(
            f"Redeemed {best.redeemed} of {best.received} {best.label.lower()} offers "
            f"({best.rate:.0f}%)" + (f"; {others}." if others else ".")
        ),
        icon="tag",
    )


def insight_flags(
    insight: CustomerInsight | None,
    thresholds: InsightThresholds,
    *,
    now: datetime,
    basket_total: Decimal | None = None,
) -> list[Flag]:
    """Every flag that holds for her now, most pressing first."""
    if insight is None:
        return []
    found = (
        high_maintenance(insight, thresholds),
        at_risk(insight, thresholds, now=now),
        valuable(insight, thresholds),
        cross_sell(insight, thresholds, basket_total=basket_total),
        best_offer(insight, thresholds),
    )
    return [flag for flag in found if flag is not None]
