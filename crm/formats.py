"""Dates and figures written as the template filters write them (`date`, `floatformat`), for
pages of many rows: a filter parses its format on every call and costs tens of microseconds, and
a page of 25 rows calls them a hundred times. Each function names the filter it stands for."""

from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from django.utils.dates import MONTHS, MONTHS_3, WEEKDAYS, WEEKDAYS_ABBR
from django.utils.text import capfirst
from django.utils.translation import gettext

CENT = Decimal("0.01")
ONE = Decimal(1)


def _clock(local: datetime) -> str:
    """ "3:05 PM": the date filter's "g:i A"."""
    meridiem = gettext("PM") if local.hour > 11 else gettext("AM")
    return f"{local.hour % 12 or 12}:{local.minute:02d} {meridiem}"


def _month(local: datetime) -> str:
    return str(MONTHS_3[local.month]).title()


def _day(local: datetime) -> str:
    """ "Mar 8, 2026": the date filter's "M j, Y"."""
    return f"{_month(local)} {local.day}, {local.year:04d}"


def _zone_name(local: datetime) -> str:
    """ "PDT": the date filter's "T", which is empty in the hour a clock turned back repeats."""
    repeated = local.replace(fold=not local.fold).utcoffset() != local.utcoffset()
    return "" if repeated else str(local.tzname())


def date_time_zone(value: datetime, zone: tzinfo) -> str:
    """ "Mar 8, 2026, 3:05 PM PDT" in `zone`: |date:"M j, Y, g:i A T". As the filter, it leaves
    the zone's name out in the hour a clock turned back repeats ("Nov 1, 2026, 1:30 AM ")."""
    local = timezone.localtime(value, zone)
    return f"{_day(local)}, {_clock(local)} {_zone_name(local)}"


def full_date_time_zone(value: datetime, zone: tzinfo) -> str:
    """ "Sunday, March 8, 2026, 3:05 PM PDT" in `zone`: |date:"l, F j, Y, g:i A T" (no zone name
    in a repeated hour, as date_time_zone)."""
    local = timezone.localtime(value, zone)
    return (
        f"{WEEKDAYS[local.weekday()]}, {MONTHS[local.month]} {local.day}, {local.year:04d}, "
        f"{_clock(local)} {_zone_name(local)}"
    )


def month_day_time(value: datetime, zone: tzinfo) -> str:
    """ "Mar 8, 3:05 PM" in `zone`: |date:"M j, g:i A"."""
    local = timezone.localtime(value, zone)
    return f"{_month(local)} {local.day}, {_clock(local)}"


def date_time(value: datetime, zone: tzinfo) -> str:
    """ "Mar 8, 2026, 3:05 PM" in `zone`: |date:"M j, Y, g:i A"."""
    local = timezone.localtime(value, zone)
    return f"{_day(local)}, {_clock(local)}"


def short_date(value: datetime, zone: tzinfo) -> str:
    """ "Mar 8, 2026" in `zone`: |date:"M j, Y"."""
    return _day(timezone.localtime(value, zone))


def long_date(value: datetime, zone: tzinfo) -> str:
    """ "March 8, 2026" in `zone`: |date:"F j, Y"."""
    local = timezone.localtime(value, zone)
    return f"{MONTHS[local.month]} {local.day}, {local.year:04d}"


def clock(value: datetime, zone: tzinfo) -> str:
    """ "3:05 PM" in `zone`: |time:"g:i A"."""
    return _clock(timezone.localtime(value, zone))


def iso(value: datetime, zone: tzinfo) -> str:
    """ "2026-03-08T15:05:00-07:00" in `zone`: |date:"c"."""
    return timezone.localtime(value, zone).isoformat()


def natural_day(value: datetime, zone: tzinfo) -> str:
    """ "Today", "Yesterday", "Tomorrow", else "Mar 8, 2026", the days as in `zone`:
    |naturalday:"M j, Y"|capfirst."""
    local = timezone.localtime(value, zone)
    days = (local.date() - datetime.now(zone).date()).days
    near = {0: "today", 1: "tomorrow", -1: "yesterday"}.get(days)
    return capfirst(gettext(near)) if near else _day(local)


def day_time(value: datetime, zone: tzinfo) -> str:
    """ "Sun Mar 8, 3:05 PM" in `zone`: |date:"D M j, g:i A"."""
    local = timezone.localtime(value, zone)
    return f"{WEEKDAYS_ABBR[local.weekday()]} {_month(local)} {local.day}, {_clock(local)}"


def month_year(value: datetime, zone: tzinfo) -> str:
    """ "Mar 2026" in `zone`: |date:"M Y"."""
    local = timezone.localtime(value, zone)
    return f"{_month(local)} {local.year:04d}"


def amount(value: Decimal | None) -> str:
    """ "1,234.50": |floatformat:"2g" (halves rounded up); "" for None."""
    if value is None:
        return ""
    return f"{value.quantize(CENT, ROUND_HALF_UP):,}"


def whole(value: Decimal | None) -> str:
    """ "13" for 12.5: |floatformat:"0" (halves rounded up); "" for None."""
    if value is None:
        return ""
    return f"{value.quantize(ONE, ROUND_HALF_UP):f}"
