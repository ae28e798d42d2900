"""What every report shares: the database it reads, the range and stores it covers, the chart it
returns, and the SQL pieces durations and percentiles need."""

from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from django.conf import settings
from django.db import connections
from django.db.models import Aggregate, Expression, FloatField, Func, Q, QuerySet

REPORTS_ALIAS = "reports"


def report_database() -> str:
    """The replica alias when CRM_REPORTS_DATABASE_URL configured one, else the main database."""
    return REPORTS_ALIAS if REPORTS_ALIAS in settings.DATABASES else "default"


@dataclass(frozen=True)
class ReportScope:
    """What a report covers: [start, end) in UTC, made from whole days in the reader's time zone,
    and the stores it may count. `store_ids` None means every store and the call center's work
    (a supervisor's unfiltered view); otherwise only rows of those stores count."""

    first_day: date
    last_day: date
    start: datetime
    end: datetime
    now: datetime
    store_ids: tuple[int, ...] | None = None
    database: str = field(default_factory=report_database)

    def stores(self, lookup: str) -> Q:
        """The filter keeping rows whose store (at `lookup`, e.g. "store_id") is in scope."""
        if self.store_ids is None:
            return Q()
        return Q(**{f"{lookup}__in": self.store_ids})

    def within(self, lookup: str) -> Q:
        """The filter keeping rows whose moment (at `lookup`) falls within the range."""
        return Q(**{f"{lookup}__gte": self.start, f"{lookup}__lt": self.end})


Number = int | float | None


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[Number]


@dataclass(frozen=True)
class Chart:
    """One chart of a dashboard: what it draws, the figure shown above it, and (the same numbers)
    what its CSV holds: one row per label, one column per series."""

    key: str
    title: str
    kind: Literal["bar", "line", "doughnut"]
    category: str  # what the labels are: the CSV's first column
    labels: list[str]
    series: list[Series]
    headline: str
    headline_label: str
    note: str = ""
    empty: str = "Nothing in this range."
    unit: str = ""  # shown after values on the axis and in tooltips: "h", "%"
    stacked: bool = False
    horizontal: bool = False
    # Colours by meaning (reports.js: good, fair, warn, bad, other, muted, light, brand; "" for
    # the palette's next), one per series, or one per label for a doughnut.
    tones: tuple[str, ...] = ()
    # A chart of durations has data when it has labels (zero hours is a duration); a chart of
    # counts has none when every count is zero.
    measures_time: bool = False

    @property
    def is_empty(self) -> bool:
        if self.measures_time:
            return not self.labels
        return not any(value for series in self.series for value in series.values)

    @property
    def dom_id(self) -> str:
        return f"chart-{self.key}"

    def payload(self) -> dict[str, Any]:
        """What the browser draws, passed with json_script."""
        return {
            "kind": self.kind,
            "title": self.title,
            "labels": self.labels,
            "series": [{"label": s.label, "values": s.values} for s in self.series],
            "unit": self.unit,
            "stacked": self.stacked,
            "horizontal": self.horizontal,
            "tones": list(self.tones),
        }

    def rows(self) -> list[list[Any]]:
        """The table behind the chart, header first: the CSV and the page's "Show the numbers"."""
        header: list[Any] = [self.category, *(s.label for s in self.series)]
        body = [
            [label, *(s.values[index] for s in self.series)]
            for index, label in enumerate(self.labels)
        ]
        return [header, *body]


class Seconds(Func):
    """The seconds from the second expression to the first (end, start), as a float."""

    arity = 2
    output_field = FloatField()
    template = "EXTRACT(EPOCH FROM (%(expressions)s))"
    arg_joiner = " - "

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra_context,
        )


class Percentile(Aggregate):
    """PostgreSQL's continuous percentile (0.5: the median) of an expression."""

    function = "PERCENTILE_CONT"
    name = "Percentile"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)%(filter)s"

    def __init__(self, expression: Expression, fraction: float, **extra: Any) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError("A percentile is a fraction between 0 and 1.")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def percentiles(
    queryset: QuerySet[Any],
    *,
    group: str | None,
    seconds: Expression,
    fractions: Sequence[float],
) -> dict[Hashable, list[float | None]]:
    """The given percentiles of `seconds` over the queryset's rows, per value of `group` (None:
    over all rows, keyed by None): PERCENTILE_CONT in PostgreSQL, one grouped query."""
    names = [f"p{index}" for index in range(len(fractions))]
    if queryset.db and connections[queryset.db].vendor != "postgresql":
        return _percentiles_in_python(queryset, group=group, seconds=seconds, fractions=fractions)
    aggregates = {
        name: Percentile(seconds, fraction) for name, fraction in zip(names, fractions, strict=True)
    }
    if group is None:
        row = queryset.aggregate(**aggregates)
        return {None: [row[name] for name in names]}
    rows = queryset.values(group).annotate(**aggregates).order_by()
    return {row[group]: [row[name] for name in names] for row in rows}


def _percentiles_in_python(
    queryset: QuerySet[Any],
    *,
    group: str | None,
    seconds: Expression,
    fractions: Sequence[float],
) -> dict[Hashable, list[float | None]]:
    # SQLite (the zero-configuration development setup) has no percentile aggregate: the
    # durations are read and interpolated here as PERCENTILE_CONT would. Never used in production.
    fields = [group] if group else []
    durations: dict[Hashable, list[float]] = defaultdict(list)
    for row in queryset.annotate(_seconds=seconds).values(*fields, "_seconds").order_by():
        if row["_seconds"] is not None:
            durations[row[group] if group else None].append(float(row["_seconds"]))
    if group is None and not durations:
        return {None: [None for _ in fractions]}
    return {
        key: [_interpolate(sorted(values), fraction) for fraction in fractions]
        for key, values in durations.items()
    }


def _interpolate(values: list[float], fraction: float) -> float:
    position = fraction * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def share(part: int, whole: int) -> float | None:
    """part / whole in percent, one decimal; None when there is no whole."""
    return round(100 * part / whole, 1) if whole else None


def percent_text(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}%"


def hours(seconds: float | None) -> float | None:
    """Seconds as hours with one decimal: the unit of the duration charts."""
    return None if seconds is None else round(seconds / 3600, 1)


def duration_text(seconds: float | None) -> str:
    """A duration as a person reads it: "45 min", "5.5 h", "3.2 days"."""
    if seconds is None:
        return "–"
    if seconds < 3600:
        return f"{max(seconds, 0) / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
