"""Working time of a team: its opening hours on its workdays, in its own time zone.

A day's shift runs from opens_at to closes_at on a workday; a closing time before the opening
time is a night shift that ends the next morning, and equal times mean open all day. Durations
are real elapsed time, so a daylight-saving change inside a shift counts as it happened: every
moment returned is in UTC (aware datetimes in one zone would add and subtract wall-clock time).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

if TYPE_CHECKING:
    from tickets.models import Queue

EVERY_DAY = frozenset(range(7))
# Working time beyond this horizon is not looked for: a promise further out than a year is
# no promise, and the search stays bounded whatever the figures.
HORIZON_DAYS = 366


@dataclass(frozen=True)
class BusinessHours:
    zone: ZoneInfo
    opens_at: time
    closes_at: time
    workdays: frozenset[int]

    @classmethod
    def of(cls, queue: "Queue") -> "BusinessHours":
        try:
            zone = ZoneInfo(queue.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo(settings.TIME_ZONE)
        # A team with no workday configured would never be open: treat it as working every day.
        workdays = frozenset(int(day) for day in queue.workdays or () if 0 <= int(day) <= 6)
        return cls(zone, queue.opens_at, queue.closes_at, workdays or EVERY_DAY)

    @property
    def always_open(self) -> bool:
        return self.opens_at == self.closes_at and self.workdays == EVERY_DAY

    def _shift(self, day: date) -> tuple[datetime, datetime]:
        if self.opens_at == self.closes_at:
            opens, closes = time(0), time(0)
        else:
            opens, closes = self.opens_at, self.closes_at
        end_day = day if closes > opens else day + timedelta(days=1)
        start = datetime.combine(day, opens, tzinfo=self.zone)
        end = datetime.combine(end_day, closes, tzinfo=self.zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def shifts(
        self, moment: datetime, *, backwards: bool = False
    ) -> Iterator[tuple[datetime, datetime]]:
        """The shifts that end after `moment` (or, backwards, start before it), nearest first."""
        moment = moment.astimezone(UTC)
        first = moment.astimezone(self.zone).date()
        step = -1 if backwards else 1
        # A night shift of the day before may still be running at `moment`.
        for offset in range(-step, HORIZON_DAYS * step, step):
            day = first + timedelta(days=offset)
            if day.weekday() not in self.workdays:
                continue
            start, end = self._shift(day)
            if (start < moment) if backwards else (end > moment):
                yield start, end

    def is_open(self, moment: datetime) -> bool:
        moment = moment.astimezone(UTC)
        if self.always_open:
            return True
        start, _ = next(self.shifts(moment), (moment, moment))
        return start <= moment

    def next_opening(self, moment: datetime) -> datetime:
        """`moment` if the team works then, else when it starts again."""
        moment = moment.astimezone(UTC)
        if self.always_open:
            return moment
        start, _ = next(self.shifts(moment), (moment, moment))
        return max(start, moment)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment when `duration` of working time has passed since `start`."""
        start = start.astimezone(UTC)
        if self.always_open:
            return start + duration
        left = duration
        end = start
        for shift_start, shift_end in self.shifts(start):
            begin = max(shift_start, start)
            if left <= shift_end - begin:
                return begin + left
            left -= shift_end - begin
            end = shift_end
        return end + left

    def subtract(self, end: datetime, duration: timedelta) -> datetime:
        """The moment from which `duration` of working time has passed by `end`."""
        end = end.astimezone(UTC)
        if self.always_open:
            return end - duration
        left = duration
        start = end
        for shift_start, shift_end in self.shifts(end, backwards=True):
            finish = min(shift_end, end)
            if left <= finish - shift_start:
                return finish - left
            left -= finish - shift_start
            start = shift_start
        return start - left

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from `start` to `end` (zero if `end` is not after `start`)."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end <= start:
            return timedelta(0)
        if self.always_open:
            return end - start
        total = timedelta(0)
        for shift_start, shift_end in self.shifts(start):
            if shift_start >= end:
                break
            total += min(shift_end, end) - max(shift_start, start)
        return total
