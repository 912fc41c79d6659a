"""The service day's edges: the hall's opening hours, per line where a line closes earlier.

``hall.toml``::

    [hours]
    open = ["09:00-17:00"]      # one or more periods; a lunch break is a gap: ["09:00-12:00", "13:30-17:00"]
    days = "workdays"           # "workdays": the hall's working days (core/workdays.py: holidays, 调休);
                                # "every_day": weekends and holidays too
    [hours.lines]
    FOOD = "16:00"              # this line takes its last ticket earlier than the hall

A hall without ``[hours]`` is open at every hour of every day (its service day still ends at
midnight). Outside the hours no ticket is taken and no slot is booked, except by a manager (recorded
as the manager on the event). The hall's **closing time** is the end of its last period on an open
day: the close of day (``core.queueing.close_day``) may end that day's tickets from then on.

The rules read the hall's stored settings (``settings["hours"]``, written by ``wt hall load``) and
the hall's local time; ``problems`` validates the TOML table at load like every other setting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from window_terminal.core.workdays import WorkCalendar
from window_terminal.errors import DomainError

DAYS = {"workdays": ("工作日", "working days"), "every_day": ("每天", "every day")}
_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")
_PERIOD = re.compile(r"^\s*(\d\d:\d\d)\s*-\s*(\d\d:\d\d)\s*$")


def _minute(text: str) -> int | None:
    """ "09:30" → 570; "24:00" is the end of the day; None when not a time of day."""
    match = _CLOCK.match(text.strip())
    if match is None:
        return None
    hour, minute = int(match[1]), int(match[2])
    if hour == 24 and minute:
        return None
    return hour * 60 + minute


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass(frozen=True)
class Hours:
    """Parsed opening hours: periods in minutes since local midnight, sorted, not overlapping."""

    periods: tuple[tuple[int, int], ...]
    every_day: bool = False
    line_closes: tuple[tuple[str, int], ...] = ()

    def closes(self, line_code: str | None) -> int:
        """The minute the line (or the hall, for None) takes its last ticket."""
        end = self.periods[-1][1]
        for code, minute in self.line_closes:
            if code == line_code:
                return min(end, minute)
        return end

    def text(self, line_code: str | None = None) -> tuple[str, str]:
        """The hours as a person reads them: "工作日 09:00-17:00" / "working days 09:00-17:00"."""
        close = self.closes(line_code)
        parts = [f"{_clock(a)}-{_clock(min(b, close))}" for a, b in self.periods if a < close] or [
            f"{_clock(self.periods[0][0])}-{_clock(close)}"
        ]
        zh_days, en_days = DAYS["every_day" if self.every_day else "workdays"]
        return f"{zh_days} {'、'.join(parts)}", f"{en_days} {', '.join(parts)}"


def parse(settings: dict[str, Any]) -> Hours | None:
    """The hall's hours from its stored settings; None when it has none (open at every hour)."""
    raw = settings.get("hours")
    if not raw:
        return None
    periods = []
    for entry in raw.get("open") or []:
        match = _PERIOD.match(str(entry))
        assert match is not None, f"hours validated at load: {entry!r}"
        start, end = _minute(match[1]), _minute(match[2])
        assert start is not None and end is not None
        periods.append((start, end))
    lines = tuple(
        sorted(
            (str(code).upper(), m)
            for code, t in (raw.get("lines") or {}).items()
            if (m := _minute(str(t))) is not None
        )
    )
    return Hours(tuple(sorted(periods)), raw.get("days") == "every_day", lines)


def problems(value: Any, line_codes: set[str] | None = None) -> list[str]:
    """What is wrong with a ``[hours]`` table of hall.toml (empty when it is right or absent)."""
    where = "hall.toml: [hours]"
    if value is None:
        return []
    if not isinstance(value, dict):
        return [f'{where}: must be a table like [hours] open = ["09:00-17:00"]']
    out: list[str] = []
    unknown = sorted(set(value) - {"open", "days", "lines"})
    if unknown:
        out.append(f"{where}: unknown key(s) {', '.join(unknown)}: the keys are open, days and lines")
    periods: list[tuple[int, int]] = []
    entries = value.get("open")
    if not isinstance(entries, list) or not entries:
        out.append(f'{where}: open: must list the periods, like open = ["09:00-17:00"]')
        entries = []
    for entry in entries:
        match = _PERIOD.match(entry) if isinstance(entry, str) else None
        start = _minute(match[1]) if match else None
        end = _minute(match[2]) if match else None
        if start is None or end is None:
            out.append(f'{where}: open: {entry!r} is not a period like "09:00-17:00" (24-hour clock)')
        elif start >= end:
            out.append(f"{where}: open: {entry!r} ends before it begins")
        else:
            periods.append((start, end))
    periods.sort()
    for (_, end), (start, _) in zip(periods, periods[1:], strict=False):
        if start < end:
            out.append(f"{where}: open: the periods overlap at {_clock(start)}: list each hour once")
    days = value.get("days", "workdays")
    if days not in DAYS:
        out.append(f'{where}: days: must be "workdays" or "every_day", not {days!r}')
    lines = value.get("lines", {})
    if not isinstance(lines, dict):
        out.append(f'{where}: lines: must be a table like [hours.lines] FOOD = "16:00"')
        lines = {}
    for code, close in lines.items():
        minute = _minute(close) if isinstance(close, str) else None
        if minute is None:
            out.append(f'{where}.lines: {code}: {close!r} is not a time like "16:00"')
        elif line_codes is not None and str(code).upper() not in line_codes:
            out.append(f"{where}.lines: {code}: no such line in lines.toml")
        elif periods and not periods[0][0] < minute <= periods[-1][1]:
            out.append(
                f"{where}.lines: {code}: {close} is outside the hall's hours "
                f"({_clock(periods[0][0])}-{_clock(periods[-1][1])}); a line may only close earlier"
            )
    return out


def open_day(hours: Hours, calendar: WorkCalendar | None, day: date) -> bool:
    return hours.every_day or calendar is None or calendar.is_workday(day)


def is_open(
    hours: Hours | None, calendar: WorkCalendar | None, local: datetime, line_code: str | None
) -> bool:
    """Whether a ticket may be taken (or a slot begin) at ``local``, the hall's local time."""
    if hours is None:
        return True
    if not open_day(hours, calendar, local.date()):
        return False
    minute = local.hour * 60 + local.minute
    close = hours.closes(line_code)
    return any(start <= minute < min(end, close) for start, end in hours.periods)


def closing_time(hours: Hours | None, calendar: WorkCalendar | None, day: date) -> datetime | None:
    """When ``day``'s service ends (naive local): the end of its last period on an open day; the
    day's start when the hall is not open that day; midnight after it when the hall has no hours."""
    start = datetime.combine(day, time())
    if hours is None:
        return start + timedelta(days=1)
    if not open_day(hours, calendar, day):
        return start
    return start + timedelta(minutes=hours.periods[-1][1])


def outside_hours(
    hours: Hours,
    line_code: str | None,
    what: tuple[str, str],
    at: datetime,
    advice: tuple[str, str] = ("请在办理时间内再来", "come back within them"),
) -> DomainError:
    """The refusal, naming the hours: "06:42 不在办理时间，不能取号：本大厅办理时间为工作日 09:00-17:00…"."""
    zh, en = hours.text(line_code)
    own = bool(line_code and dict(hours.line_closes).get(line_code))
    whose_zh = f"{line_code} 业务线" if own else "本大厅"
    whose_en = f"line {line_code}" if own else "the hall"
    return DomainError(
        f"{at:%m-%d %H:%M} 不在办理时间，不能{what[0]}：{whose_zh}办理时间为{zh}；{advice[0]}，或请大厅管理员办理",
        f"{at:%m-%d %H:%M} is outside the opening hours, so no {what[1]}: {whose_en} is open {en}; "
        f"{advice[1]}, or ask the hall manager",
        code="outside_hours",
    )
