"""The hall TVs: which calls a display shows (its scope) and whether each display is alive.

    scope = resolve_scope(view, settings, display="TV1", lines="A,BIZ", windows="1,2")
    scope.shows_call(call), scope.shows_line("BIZ", view)
    record_heartbeat(engine, hall_id, "TV1", last_seq=812, scope=scope.describe())
    display_status(engine, hall_id)              # the board's list: ok / stale / behind

A hall with one TV shows everything. A hall with a TV per floor area limits each one to some lines
or windows, by URL parameters (``?lines=A,B&windows=1,2``) or by a ``[[display]]`` entry in the
hall's ``hall.toml`` (checked by ``core.hall.validate``); a line may be named by its code (``BIZ``)
or its ticket prefix (``A``), typed the way ``core.lookup`` normalises codes.

Heartbeats are not events: a TV reporting in changes nothing in the hall, so the row is simply
overwritten (no feed traffic, no audit noise). The time is the database clock's, like every time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Engine, select

from window_terminal.core import lookup, queueing
from window_terminal.db import feed
from window_terminal.db.clock import db_now
from window_terminal.db.engine import read_session, write_session
from window_terminal.db.models import DisplayHeartbeat
from window_terminal.errors import DomainError

DISPLAY_ID_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
MAX_DISPLAY_ID = 60


class _Line(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def prefix(self) -> str: ...


class _HallShape(Protocol):
    """What a scope is checked against: ``hallview.HallView`` has it."""

    lines: Any  # dict[str, LineState]
    windows: Any  # dict[int, WindowState]


class BadScope(DomainError):
    def __init__(self, zh: str, en: str) -> None:
        super().__init__(zh, en, code="bad_display_scope")


@dataclass(frozen=True)
class DisplayScope:
    """The lines and windows one TV shows; ``None`` means all of them."""

    display_id: str = "TV"
    lines: frozenset[str] | None = None
    windows: frozenset[int] | None = None

    def shows_call(self, line: str, window: int) -> bool:
        return (self.lines is None or line in self.lines) and (self.windows is None or window in self.windows)

    def shows_line(self, code: str, hall: _HallShape) -> bool:
        """A line's waiting count: named lines, else the lines of the named windows, else all."""
        if self.lines is not None:
            return code in self.lines
        if self.windows is not None:
            return any(code in hall.windows[n].lines for n in self.windows if n in hall.windows)
        return True

    def describe(self) -> str:
        parts = []
        if self.lines is not None:
            parts.append("lines=" + ",".join(sorted(self.lines)))
        if self.windows is not None:
            parts.append("windows=" + ",".join(str(n) for n in sorted(self.windows)))
        return " ".join(parts) or "all"


def display_entries(settings: dict[str, Any]) -> list[dict[str, Any]]:
    """The hall's ``[[display]]`` entries (stored with the hall by ``wt hall load``)."""
    return list(settings.get("displays") or [])


def display_id(text: str | None) -> str:
    """A display's id as stored: typed like a code (``tv-1`` → ``TV-1``); ``TV`` when none is given."""
    value = lookup.code(text) or "TV"
    if len(value) > MAX_DISPLAY_ID or not set(value) <= DISPLAY_ID_CHARS:
        raise BadScope(
            f"显示屏编号 {value!r} 无效：只能用字母、数字、- 和 _（{MAX_DISPLAY_ID} 个字符以内），如 TV1",
            f"display id {value!r} is not valid: use letters, digits, - and _ (at most "
            f"{MAX_DISPLAY_ID}), like TV1",
        )
    return value


def _split(value: str | Iterable[Any] | None) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    return [lookup.typed(item) for item in items if lookup.typed(item)]


def line_codes(typed: str | Iterable[Any] | None, lines: Iterable[_Line]) -> frozenset[str] | None:
    """Line codes from what was typed: codes (``BIZ``) or ticket prefixes (``A``); None for none."""
    items = _split(typed)
    if not items:
        return None
    known = list(lines)
    by_key = {line.code: line.code for line in known} | {line.prefix: line.code for line in known}
    found, unknown = set(), []
    for item in items:
        code = by_key.get(lookup.code(item))
        if code is None:
            unknown.append(item)
        else:
            found.add(code)
    if unknown:
        listing = ", ".join(f"{line.code} ({line.prefix})" for line in known)
        raise BadScope(
            f"lines 中没有业务线 {', '.join(unknown)}：本大厅的业务线是 {listing}",
            f"lines: no line {', '.join(unknown)} in this hall; its lines are {listing}",
        )
    return frozenset(found)


def window_numbers(typed: str | Iterable[Any] | None, known: Iterable[int]) -> frozenset[int] | None:
    """Window numbers from what was typed (``1,2``); None for none."""
    items = _split(typed)
    if not items:
        return None
    numbers = sorted(known)
    found, unknown = set(), []
    for item in items:
        if item.isdecimal() and int(item) in numbers:
            found.add(int(item))
        else:
            unknown.append(item)
    if unknown:
        listing = ", ".join(str(n) for n in numbers)
        raise BadScope(
            f"windows 中没有窗口 {', '.join(unknown)}：本大厅的窗口是 {listing}",
            f"windows: no window {', '.join(unknown)} in this hall; its windows are {listing}",
        )
    return frozenset(found)


def resolve_scope(
    hall: _HallShape,
    settings: dict[str, Any],
    *,
    display: str | None = None,
    lines: str | None = None,
    windows: str | None = None,
) -> DisplayScope:
    """The scope of one TV page: its ``[[display]]`` entry, narrowed or replaced by URL parameters.

    A hall that names its displays in ``hall.toml`` refuses an unknown display id (a typo would
    otherwise show every call on a TV meant for one floor); a hall without entries takes any id.
    """
    ident = display_id(display)
    entries = {display_id(str(e.get("id"))): e for e in display_entries(settings)}
    entry: dict[str, Any] = {}
    if entries and display is not None:
        if ident not in entries:
            known = ", ".join(entries)
            raise BadScope(
                f"大厅定义中没有显示屏 {ident}：已定义的显示屏是 {known}（hall.toml 的 [[display]]）",
                f"no display {ident!r} in the hall definition; its displays are {known} "
                "(hall.toml [[display]])",
            )
        entry = entries[ident]
    line_values = list(hall.lines.values())
    return DisplayScope(
        ident,
        line_codes(lines if lines is not None else entry.get("lines"), line_values),
        window_numbers(windows if windows is not None else entry.get("windows"), hall.windows),
    )


def validate_entries(
    entries: Any, line_codes_: list[str], prefixes: list[str], windows: list[int]
) -> list[str]:
    """Problems in hall.toml's ``[[display]]`` entries, for ``core.hall.validate``."""
    problems: list[str] = []
    if not isinstance(entries, list):
        return ["hall.toml: [[display]]: write each display as a [[display]] table"]
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        where = f"hall.toml: [[display]] #{i + 1}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a table with id, and lines and/or windows")
            continue
        ident = entry.get("id")
        if not isinstance(ident, str) or not ident.strip():
            problems.append(f'{where}: id: required, like id = "TV1"')
        else:
            try:
                ident = display_id(ident)
            except BadScope as exc:
                problems.append(f"{where}: id: {exc.en}")
            if ident in seen:
                problems.append(f"{where}: id: {ident!r} is used by another [[display]]")
            seen.add(ident)
        for key, check in (
            ("lines", lambda v: line_codes(v, [_Code(c, p) for c, p in zip(line_codes_, prefixes)])),
            ("windows", lambda v: window_numbers(v, windows)),
        ):
            value = entry.get(key)
            if value is None:
                continue
            if not isinstance(value, list):
                problems.append(f"{where}: {key}: must be a list, like {key} = {_example(key)}")
                continue
            try:
                check(value)
            except BadScope as exc:
                problems.append(f"{where}: {exc.en}")
        unknown = set(entry) - {"id", "name", "lines", "windows"}
        if unknown:
            problems.append(
                f"{where}: unknown key(s) {', '.join(sorted(unknown))}: use id, name, lines, windows"
            )
    return problems


@dataclass(frozen=True)
class _Code:
    code: str
    prefix: str


def _example(key: str) -> str:
    return '["BIZ", "FOOD"]' if key == "lines" else "[1, 2]"


# --- heartbeats ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DisplayStatus:
    display_id: str
    scope: str
    address: str
    last_seq: int
    seen_at: datetime
    quiet_s: float
    state: str  # "ok" | "stale" (no heartbeat lately) | "behind"


def record_heartbeat(
    engine: Engine, hall_id: int, display: str, *, last_seq: int, scope: str = "", address: str = ""
) -> DisplayStatus:
    """Store one display's heartbeat (its last shown sequence number) at the database clock's time.

    ``behind``: the display has not yet shown events that were already in the feed at its previous
    heartbeat — a few seconds is how long an event may take to reach a live page, so this flags a
    display that is stuck or cannot keep up, not one that is merely between beats.
    """
    ident = display_id(display)
    with write_session(engine) as session:
        now = db_now(session)
        cursor = feed.cursor(session, hall_id)
        row = session.get(DisplayHeartbeat, (hall_id, ident))
        if row is None:
            row = DisplayHeartbeat(hall_id=hall_id, display_id=ident, first_seen_at=now, seen_at=now)
            session.add(row)
        previous_cursor = row.hall_seq
        row.behind = int(last_seq) < min(previous_cursor, cursor)
        row.last_seq, row.hall_seq, row.seen_at = int(last_seq), cursor, now
        row.scope, row.address = scope[:200], address[:100]
        return _status(row, now, 1e9)


def _status(row: DisplayHeartbeat, now: datetime, stale_after_s: float) -> DisplayStatus:
    quiet = max(0.0, (now - row.seen_at).total_seconds())
    state = "stale" if quiet > stale_after_s else "behind" if row.behind else "ok"
    return DisplayStatus(row.display_id, row.scope, row.address, row.last_seq, row.seen_at, quiet, state)


def display_status(
    engine: Engine, hall_id: int, settings: dict[str, Any] | None = None
) -> list[DisplayStatus]:
    """Every display that has reported in, with its state; silent after ``display_quiet_seconds``."""
    stale_after = float(queueing.threshold(settings or {}, "display_stale_seconds"))
    with read_session(engine) as session:
        now = db_now(session)
        rows = session.execute(
            select(DisplayHeartbeat)
            .where(DisplayHeartbeat.hall_id == hall_id)
            .order_by(DisplayHeartbeat.display_id)
        ).scalars()
        return [_status(row, now, stale_after) for row in rows]
