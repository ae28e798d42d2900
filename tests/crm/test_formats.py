"""Dates and figures written in Python: the same text the template filters write, in the zone
asked for whatever zone is active."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.template.defaultfilters import floatformat
from django.utils import dateformat, timezone

from crm import formats

ZONES = ["America/Los_Angeles", "Europe/London", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"]
FORMATS = [
    (formats.date_time_zone, "M j, Y, g:i A T"),
    (formats.full_date_time_zone, "l, F j, Y, g:i A T"),
    (formats.date_time, "M j, Y, g:i A"),
    (formats.short_date, "M j, Y"),
    (formats.long_date, "F j, Y"),
    (formats.day_time, "D M j, g:i A"),
    (formats.month_year, "M Y"),
    (formats.month_day_time, "M j, g:i A"),
    (formats.iso, "c"),
]


@pytest.mark.parametrize("zone_name", ZONES)
def test_dates_read_as_the_date_filter_writes_them_through_a_year(zone_name):
    zone = ZoneInfo(zone_name)
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    # Every 37 minutes for a year: each hour and minute, midnight and noon, both DST changes.
    for _ in range(365 * 24 * 60 // 37):
        moment += timedelta(minutes=37)
        local = timezone.localtime(moment, zone)
        for written, django_format in FORMATS:
            assert written(moment, zone) == dateformat.format(local, django_format)
        assert formats.clock(moment, zone) == dateformat.time_format(local, "g:i A")


def test_dates_are_in_the_zone_asked_for_not_the_active_one():
    moment = datetime(2026, 3, 9, 4, 0, tzinfo=UTC)
    store = ZoneInfo("America/Los_Angeles")

    with timezone.override(ZoneInfo("Europe/Berlin")):
        assert formats.date_time_zone(moment, store) == "Mar 8, 2026, 9:00 PM PDT"
        assert formats.day_time(moment, store) == "Sun Mar 8, 9:00 PM"
        assert formats.month_year(datetime(2026, 4, 1, 3, tzinfo=UTC), store) == "Mar 2026"
        assert formats.full_date_time_zone(moment, store) == "Sunday, March 8, 2026, 9:00 PM PDT"
        assert formats.date_time(moment, store) == "Mar 8, 2026, 9:00 PM"
        assert formats.short_date(moment, store) == "Mar 8, 2026"
        assert formats.long_date(moment, store) == "March 8, 2026"
        assert formats.clock(moment, store) == "9:00 PM"
        assert formats.month_day_time(moment, store) == "Mar 8, 9:00 PM"
        assert formats.iso(moment, store) == "2026-03-08T21:00:00-07:00"


@pytest.mark.parametrize("zone_name", ZONES)
def test_near_days_read_as_naturalday_writes_them_in_the_zone(zone_name):
    zone = ZoneInfo(zone_name)
    template = Template('{% load humanize %}{{ moment|naturalday:"M j, Y"|capfirst }}')
    now = timezone.now()
    # Every 5 hours from three days back to three days ahead: yesterday, today and tomorrow
    # begin at the zone's midnight, not UTC's.
    for hours in range(-72, 73, 5):
        moment = now + timedelta(hours=hours)
        with timezone.override(zone):
            shown = template.render(Context({"moment": moment}))
        assert formats.natural_day(moment, zone) == shown
    assert formats.natural_day(now, zone) == "Today"
    assert formats.natural_day(now - timedelta(days=1), zone) == "Yesterday"
    assert formats.natural_day(now + timedelta(days=1), zone) == "Tomorrow"


def test_the_repeated_hour_of_a_clock_turned_back_has_no_zone_name_as_with_the_filter():
    # 1:30 AM happens twice in Los Angeles on Nov 1, 2026 (PDT, then PST).
    for hour in (8, 9):
        moment = datetime(2026, 11, 1, hour, 30, tzinfo=UTC)
        assert formats.date_time_zone(moment, ZoneInfo("America/Los_Angeles")) == (
            "Nov 1, 2026, 1:30 AM "
        )
        assert formats.full_date_time_zone(moment, ZoneInfo("America/Los_Angeles")) == (
            "Sunday, November 1, 2026, 1:30 AM "
        )


@pytest.mark.parametrize(
    "value",
    ["0", "0.5", "7", "12.5", "13.49", "99.95", "1234.5", "1234.005", "1000000", "987654321.99"],
)
def test_figures_read_as_floatformat_writes_them(value):
    number = Decimal(value)

    assert formats.amount(number) == floatformat(number, "2g")
    assert formats.whole(number) == floatformat(number, "0")


def test_no_figure_is_empty_text():
    assert formats.amount(None) == formats.whole(None) == ""


def test_iso_keeps_the_microseconds_of_a_stored_time_as_the_filter_does():
    moment = datetime(2026, 3, 9, 4, 0, 12, 345678, tzinfo=UTC)
    zone = ZoneInfo("Asia/Kolkata")

    assert formats.iso(moment, zone) == dateformat.format(timezone.localtime(moment, zone), "c")
