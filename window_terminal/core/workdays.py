"""The hall's working-day calendar (行政许可法 Art. 82: 期限以工作日计算，不含法定节假日).

This module counts working days; :mod:`window_terminal.core.deadlines` says which legal time limit is
counted from which day and what light it shows. Rules of the counting:

* A working day is Monday to Friday, minus statutory holidays, plus the make-up working Saturdays and
  Sundays (调休). The holiday data comes from the ``chinesecalendar`` package; the hall can override any
  single day (``queue/hall.toml``), and an override always wins.
* The day of acceptance is not counted: counting starts the next day. Counting only working days means a
  deadline that would fall on a holiday automatically lands on the next working day.
* Suspensions (特别程序: inspection, testing, expert review, hearing — Art. 45) do not count: working days
  inside a suspension interval (both ends inclusive) are skipped. An open suspension (end ``None``) is
  treated as lasting up to and including ``today`` (the keyword argument; ``date.today()`` when omitted)
  and at least its own start day — i.e. the clock resumes the next day.
* Extensions (延期, Art. 42: +10 working days with approval) simply add working days.

Years the package has no data for (see :func:`package_year_range`) fall back to Monday–Friday; any
deadline whose computation touched such a day is marked ``provisional`` so the screen can say so.
No date ever raises: the package's ``NotImplementedError`` is caught, ``datetime`` values are treated as
their date, and a deadline that would fall beyond 9999-12-31 is reported as ``date.max``, provisional.

Speed: package data is cached per year (module-wide), each calendar keeps per-year sorted lists of
working-day ordinals searched with :mod:`bisect`, and :meth:`WorkCalendar.add_working_days` memoizes its
results, so recomputing the deadlines of a year of cases for a report is cheap.
"""

from __future__ import annotations

import datetime
import importlib
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from window_terminal.db.models import CalendarOverride

__all__ = [
    "Deadline",
    "WorkCalendar",
    "hall_calendar",
    "package_year_range",
]

# The package ships no type information; keep it behind ``Any`` so mypy is clean under any config.
_cc: Any = importlib.import_module("chinese_calendar")

_MIN_ORD = datetime.date.min.toordinal()  # 1 (0001-01-01, a Monday)
_MAX_ORD = datetime.date.max.toordinal()
_MIN_YEAR = datetime.MINYEAR
_MAX_YEAR = datetime.MAXYEAR
_CACHE_SIZE = 1 << 16


def _compute_package_years() -> range:
    try:
        years = {day.year for day in _cc.holidays}
    except Exception:  # pragma: no cover - only if the package changes its layout
        return range(0)
    if not years:  # pragma: no cover
        return range(0)
    return range(min(years), max(years) + 1)


_PACKAGE_YEARS = _compute_package_years()


def package_year_range() -> range:
    """Years for which ``chinesecalendar`` has holiday data (e.g. ``range(2004, 2027)`` for 1.11.0).

    Outside these years the calendar falls back to Monday–Friday unless the hall overrides a day.
    """
    return _PACKAGE_YEARS


@cache
def _package_flags(year: int) -> tuple[bool, ...] | None:
    """is_workday for every day of ``year`` from the package, or None if it has no data for the year."""
    if year not in _PACKAGE_YEARS:
        return None
    first = datetime.date(year, 1, 1).toordinal()
    last = datetime.date(year, 12, 31).toordinal()
    flags: list[bool] = []
    try:
        for ordinal in range(first, last + 1):
            flags.append(bool(_cc.is_workday(datetime.date.fromordinal(ordinal))))
    except NotImplementedError:
        return None
    return tuple(flags)


def _as_date(day: datetime.date) -> datetime.date:
    # datetime is a subclass of date but does not compare with it; use the calendar day.
    if isinstance(day, datetime.datetime):
        return day.date()
    return day


def _weekday_count(lo: int, hi: int) -> int:
    """Number of Monday–Friday days with ordinal in [lo, hi] (ordinal 1 is a Monday)."""

    def upto(n: int) -> int:
        return (n // 7) * 5 + min(n % 7, 5)

    return upto(hi) - upto(lo - 1)


def _year_of(ordinal: int) -> int:
    return datetime.date.fromordinal(ordinal).year


def _year_spans(lo: int, hi: int) -> Iterator[tuple[int, int, int]]:
    """[lo, hi] (clipped to the calendar's range) split by year: (year, first, last) ordinals."""
    lo, hi = max(lo, _MIN_ORD), min(hi, _MAX_ORD)
    if lo > hi:
        return
    for year in range(_year_of(lo), _year_of(hi) + 1):
        first = datetime.date(year, 1, 1).toordinal()
        last = datetime.date(year, 12, 31).toordinal()
        yield year, max(lo, first), min(hi, last)


@dataclass(frozen=True)
class Deadline:
    """A computed deadline.

    ``provisional`` is True when some day in the counted range (after the acceptance day up to the
    deadline) was neither in the package's known years nor overridden by the hall, so its status is a
    Monday–Friday guess and the date may move once the State Council publishes that year's holidays.
    """

    date: datetime.date
    provisional: bool


@dataclass(frozen=True)
class _Year:
    workdays: tuple[int, ...]  # sorted ordinals of the working days
    overrides: tuple[int, ...]  # sorted ordinals of the days the hall overrides


class WorkCalendar:
    """Working-day arithmetic for one hall.

    ``overrides`` maps a date to whether the hall works that day; it wins over the package data and is
    what makes days in years the package does not know yet non-provisional.
    """

    def __init__(self, overrides: Mapping[datetime.date, bool] | None = None) -> None:
        normalized: dict[int, bool] = {}
        for day, works in (overrides or {}).items():
            if not isinstance(day, datetime.date):
                raise TypeError(f"work calendar override key must be a date, got {day!r}")
            normalized[_as_date(day).toordinal()] = bool(works)
        self._overrides = normalized
        self._override_years = frozenset(_year_of(o) for o in normalized)
        self._years: dict[int, _Year] = {}
        self._add_cached = lru_cache(maxsize=_CACHE_SIZE)(self._add_ordinals)

    # ------------------------------------------------------------------ single days

    def is_workday(self, day: datetime.date) -> bool:
        day = _as_date(day)
        ordinal = day.toordinal()
        override = self._overrides.get(ordinal)
        if override is not None:
            return override
        flags = _package_flags(day.year)
        if flags is not None:
            return flags[ordinal - datetime.date(day.year, 1, 1).toordinal()]
        return day.weekday() < 5

    def is_known(self, day: datetime.date) -> bool:
        """True if the day's status comes from a hall override or from the package's data."""
        day = _as_date(day)
        return day.toordinal() in self._overrides or _package_flags(day.year) is not None

    def next_workday(self, day: datetime.date) -> datetime.date:
        """The day itself if it is a working day, else the next working day (``date.max`` if none)."""
        ordinal = _as_date(day).toordinal()
        found = self._nth_after(ordinal - 1, 1)
        return datetime.date.fromordinal(found if found is not None else _MAX_ORD)

    @property
    def known_years(self) -> range:
        """Years covered by the package data (hall overrides may add single days outside them)."""
        return _PACKAGE_YEARS

    # ------------------------------------------------------------------ counting

    def add_working_days(
        self,
        start: datetime.date,
        days: int,
        *,
        suspensions: Sequence[tuple[datetime.date, datetime.date | None]] = (),
        extension_days: int = 0,
        today: datetime.date | None = None,
    ) -> Deadline:
        """Deadline ``days + extension_days`` working days after the acceptance date ``start``.

        ``start`` itself is not counted. Working days inside any suspension ``(first, last)`` (inclusive)
        are skipped; ``last=None`` means still suspended: it counts as ending on ``today`` (default
        ``date.today()``), and at least on its first day. A suspension ending before it starts is ignored.
        A total of 0 working days (an on-the-spot item) gives ``next_workday(start)``. A negative total
        raises ``ValueError``. A deadline past 9999-12-31 is returned as ``date.max``, provisional.
        """
        total = days + extension_days
        if total < 0:
            raise ValueError(f"time limit must not be negative: {days} + {extension_days} working days")
        start = _as_date(start)
        start_ord = start.toordinal()
        if total == 0:
            due = self.next_workday(start)
            due_ord = due.toordinal()
            return Deadline(due, due_ord >= _MAX_ORD or self._fallback_days(start_ord, due_ord) > 0)
        intervals: list[tuple[int, int]] = []
        if suspensions:
            today_ord = _as_date(today if today is not None else datetime.date.today()).toordinal()
            for first, last in suspensions:
                a = _as_date(first).toordinal()
                b = max(today_ord, a) if last is None else _as_date(last).toordinal()
                a = max(a, start_ord + 1)
                if b >= a:
                    intervals.append((a, b))
        return self._add_cached(start_ord, total, _merge(intervals))

    def working_days_between(self, start: datetime.date, end: datetime.date) -> int:
        """Working days in ``(start, end]``; ``-(working days in (end, start])`` if end < start; 0 if equal."""
        s = _as_date(start).toordinal()
        e = _as_date(end).toordinal()
        if s == e:
            return 0
        if s < e:
            return self._count(s + 1, e)
        return -self._count(e + 1, s)

    def remaining_working_days(self, today: datetime.date, deadline: datetime.date) -> int:
        """Working days left from ``today`` to ``deadline``, as shown on the supervision light.

        ``today <= deadline``: working days in ``(today, deadline]`` — 0 on the deadline day itself.
        ``today > deadline`` (overdue): minus the working days in ``(deadline, today]``, but at least -1,
        so that the weekend right after a Friday deadline already counts as overdue.
        """
        t = _as_date(today).toordinal()
        d = _as_date(deadline).toordinal()
        if t <= d:
            return self._count(t + 1, d)
        return -max(1, self._count(d + 1, t))

    # ------------------------------------------------------------------ internals

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        first = datetime.date(year, 1, 1).toordinal()
        last = datetime.date(year, 12, 31).toordinal()
        flags = _package_flags(year)
        overrides = self._overrides
        workdays: list[int] = []
        for ordinal in range(first, last + 1):
            works = overrides.get(ordinal)
            if works is None:
                works = flags[ordinal - first] if flags is not None else (ordinal - 1) % 7 < 5
            if works:
                workdays.append(ordinal)
        built = _Year(
            workdays=tuple(workdays),
            overrides=tuple(sorted(o for o in overrides if first <= o <= last)),
        )
        self._years[year] = built
        return built

    def _plain_weekdays(self, year: int) -> bool:
        """The year has neither package data nor overrides: pure Monday–Friday, no list needed."""
        return year not in _PACKAGE_YEARS and year not in self._override_years

    def _count(self, lo: int, hi: int) -> int:
        """Working days with ordinal in [lo, hi]."""
        total = 0
        for year, y_lo, y_hi in _year_spans(lo, hi):
            if self._plain_weekdays(year):
                total += _weekday_count(y_lo, y_hi)
                continue
            y = self._year(year)
            total += bisect_right(y.workdays, y_hi) - bisect_left(y.workdays, y_lo)
        return total

    def _fallback_days(self, lo: int, hi: int) -> int:
        """Days with ordinal in [lo, hi] whose status is a Monday–Friday guess."""
        total = 0
        for year, y_lo, y_hi in _year_spans(lo, hi):
            if year in _PACKAGE_YEARS:
                continue
            overridden = 0
            if year in self._override_years:
                ov = self._year(year).overrides
                overridden = bisect_right(ov, y_hi) - bisect_left(ov, y_lo)
            total += (y_hi - y_lo + 1) - overridden
        return total

    def _nth_after(self, after: int, n: int) -> int | None:
        """Ordinal of the n-th (n >= 1) working day strictly after ordinal ``after``; None past 9999."""
        if after >= _MAX_ORD:
            return None
        year = _year_of(max(after + 1, _MIN_ORD))
        while year <= _MAX_YEAR:
            y = self._year(year)
            i = bisect_right(y.workdays, after)
            available = len(y.workdays) - i
            if n <= available:
                return y.workdays[i + n - 1]
            n -= available
            year += 1
        return None

    def _add_ordinals(self, start: int, total: int, suspended: tuple[tuple[int, int], ...]) -> Deadline:
        position = start  # last day already dealt with
        remaining = total
        due: int | None = None
        for a, b in suspended:
            if b <= position:
                continue
            counted_before = self._count(position + 1, a - 1)
            if remaining <= counted_before:
                due = self._nth_after(position, remaining)
                break
            remaining -= counted_before
            position = b
        else:
            due = self._nth_after(position, remaining)
        if due is None:
            return Deadline(datetime.date.max, True)
        return Deadline(datetime.date.fromordinal(due), self._fallback_days(start + 1, due) > 0)


def _merge(intervals: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sort and merge overlapping or adjacent inclusive ordinal intervals."""
    if not intervals:
        return ()
    intervals.sort()
    merged = [intervals[0]]
    for a, b in intervals[1:]:
        last_a, last_b = merged[-1]
        if a <= last_b + 1:
            merged[-1] = (last_a, max(last_b, b))
        else:
            merged.append((a, b))
    return tuple(merged)


def hall_calendar(session: Session, hall_id: int) -> WorkCalendar:
    """The hall's calendar: the holiday package plus the hall's overrides from queue/ (hall.toml)."""
    overrides = dict(
        session.execute(
            select(CalendarOverride.day, CalendarOverride.workday).where(CalendarOverride.hall_id == hall_id)
        ).all()
    )
    return WorkCalendar(overrides)
