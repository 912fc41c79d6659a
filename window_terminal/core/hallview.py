"""The hall as the board, the display and the benchmarks see it: keyed rows kept current by events.

    view = load_view(engine, hall_id)          # one snapshot, with the feed position it is valid at
    changes = view.apply(event)                # one FeedEvent → which rows changed (cheap)
    view.line_cells("BIZ", now)                # the cells of one row, as text

Pure Python, no Textual: a screen applies each event from the feed and redraws only the rows named
in ``Changes``; a benchmark can do the same without a terminal. Times are naive UTC like the
database's; ``now`` may be aware (the app's clock) or naive hall-local (an injected test clock).

Also here: the small read queries these screens need — arrivals and served tickets per hour today
(``hourly_counts``) and today's recent calls from the event log (``recent_calls``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Integer, func, literal, select
from sqlmodel import Session

from window_terminal.core import queueing
from window_terminal.db import feed
from window_terminal.db.clock import db_now, local_day, local_midnight_utc, to_local, zone
from window_terminal.db.engine import read_session, snapshot_session
from window_terminal.db.feed import FeedEvent
from window_terminal.db.models import Event, Hall, Line, Staff, Ticket, Window

CALL_KINDS = ("ticket.called", "ticket.recalled", "ticket.called_back")
OPEN_STATES = ("waiting", "called", "serving", "parked")
WINDOW_STATES = {"open": ("开放", "open"), "paused": ("暂停", "paused"), "closed": ("关闭", "closed")}
UTC = ZoneInfo("UTC")


def window_state_word(status: str) -> str:
    """A window's state in the UI language (开放 / 暂停 / 关闭)."""
    from window_terminal.i18n import tr

    return tr(*WINDOW_STATES[status]) if status in WINDOW_STATES else status


# --- rows ----------------------------------------------------------------------------------------


@dataclass
class LineState:
    code: str
    name: str
    prefix: str
    is_open: bool
    avg_service_minutes: float
    target_wait_min: int
    sort_order: int = 0


@dataclass
class WindowState:
    number: int
    name: str
    status: str
    staff: str | None
    lines: list[str]
    ticket_id: int | None = None
    ticket: str | None = None
    ticket_status: str | None = None
    called_at: datetime | None = None
    recalls: int = 0
    idle_since: datetime | None = None


@dataclass
class OpenTicket:
    id: int
    number: str
    line: str
    status: str
    kind: str
    issued_at: datetime
    recalls: int = 0
    window: int | None = None
    callable_from: datetime | None = None  # an appointment checked in before its slot: the slot (UTC)
    day: date | None = None  # its service day; a waiting ticket of a past day is not waiting


@dataclass(frozen=True)
class Call:
    seq: int
    kind: str
    number: str
    window: int
    line: str
    text: str
    at: datetime


@dataclass(frozen=True)
class Alert:
    level: str  # "yellow" | "red"
    key: str
    zh: str
    en: str


@dataclass
class Changes:
    """What one or more events changed: the keys of the rows to redraw."""

    lines: set[str] = field(default_factory=set)
    windows: set[int] = field(default_factory=set)
    calls: bool = False
    broadcast: bool = False
    chart: bool = False
    new_calls: list[Call] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.lines or self.windows or self.calls or self.broadcast or self.chart)

    def merge(self, other: Changes) -> None:
        self.lines |= other.lines
        self.windows |= other.windows
        self.calls = self.calls or other.calls
        self.broadcast = self.broadcast or other.broadcast
        self.chart = self.chart or other.chart
        self.new_calls.extend(other.new_calls)


# --- time helpers --------------------------------------------------------------------------------


def utc_naive(moment: datetime, tz: str) -> datetime:
    """Aware → naive UTC; naive is taken as the hall's local time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(tz))
    return moment.astimezone(UTC).replace(tzinfo=None)


def minutes_seconds(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = max(0, int(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"


# --- the view ------------------------------------------------------------------------------------


class HallView:
    def __init__(
        self,
        *,
        hall_id: int,
        timezone: str,
        settings: dict[str, Any],
        position: feed.Position,
        day: date,
        lines: Iterable[LineState],
        windows: Iterable[WindowState],
        tickets: Iterable[OpenTicket],
        staff_names: dict[int, str],
        calls: Iterable[Call] = (),
        broadcast: str = "",
        arrivals: list[int] | None = None,
        served: list[int] | None = None,
        keep_calls: int = 20,
    ) -> None:
        self.hall_id = hall_id
        self.timezone = timezone
        self.settings = settings
        self.position = position  # the events the snapshot holds; the feed brings the rest
        self.day = day
        self.lines: dict[str, LineState] = {line.code: line for line in lines}
        self.windows: dict[int, WindowState] = {w.number: w for w in windows}
        self.tickets: dict[int, OpenTicket] = {}
        self._waiting: dict[str, dict[int, datetime]] = {code: {} for code in self.lines}
        # booked for later (queueing.booked_for_later): by line, ticket id → its slot; they join
        # the waiting when the slot begins (release_due), with no event to say so
        self._booked: dict[str, dict[int, datetime]] = {}
        for ticket in tickets:
            self._put(ticket)
        self.staff_names = staff_names
        self.calls: deque[Call] = deque(sorted(calls, key=lambda c: c.seq), maxlen=max(keep_calls, 1))
        self.broadcast = broadcast
        self.arrivals = arrivals or [0] * 24
        self.served = served or [0] * 24
        self.as_of: datetime | None = None  # the instant a snapshot read the hall (load_view)

    @property
    def cursor(self) -> int:
        """The last event applied (or held by the snapshot)."""
        return self.position.seq

    # -- keyed state ------------------------------------------------------------------------------

    def _put(self, ticket: OpenTicket) -> None:
        # out of every line first: an event may have changed the stored ticket itself (a transfer
        # sets its new line on the very object), so its old line is not known from it
        for waiting in self._waiting.values():
            waiting.pop(ticket.id, None)
        for booked in self._booked.values():
            booked.pop(ticket.id, None)
        self.tickets[ticket.id] = ticket
        if ticket.status != "waiting" or (ticket.day is not None and ticket.day < self.day):
            return  # in hand, parked, or of a past day (never callable: the close of day ends it)
        if ticket.callable_from is not None:
            self._booked.setdefault(ticket.line, {})[ticket.id] = ticket.callable_from
        else:
            self._waiting.setdefault(ticket.line, {})[ticket.id] = ticket.issued_at

    def _drop(self, ticket_id: int) -> OpenTicket | None:
        ticket = self.tickets.pop(ticket_id, None)
        if ticket is not None:
            self._waiting.get(ticket.line, {}).pop(ticket_id, None)
            self._booked.get(ticket.line, {}).pop(ticket_id, None)
        return ticket

    def release_due(self, now: datetime) -> Changes:
        """What the passing of time changes with no event to say so, as of ``now`` (the screens' tick):
        a new service day begun (the view turns to it: :meth:`_new_day`), and the appointments whose
        slot has begun become waiting (callable now)."""
        ch = Changes()
        now_utc = self.now_utc(now)
        today = local_day(now_utc, self.timezone)
        if today > self.day:
            self._new_day(today, ch)
        for code, booked in self._booked.items():
            for ticket_id, slot in list(booked.items()):
                if slot <= now_utc:
                    del booked[ticket_id]
                    ticket = self.tickets.get(ticket_id)
                    self._waiting.setdefault(code, {})[ticket_id] = ticket.issued_at if ticket else slot
                    ch.lines.add(code)
        ch.lines &= set(self.lines)
        return ch

    def _new_day(self, today: date, ch: Changes) -> None:
        """Midnight passed: the view shows the new service day as a reload would. Yesterday's hourly
        chart and calls go; a ticket of a past day still open is no longer waiting (never callable;
        the close of day ends it)."""
        self.day = today
        self.arrivals, self.served = [0] * 24, [0] * 24
        self.calls.clear()
        ch.chart = ch.calls = True
        for ticket in self.tickets.values():
            if ticket.day is not None and ticket.day < today:
                self._waiting.get(ticket.line, {}).pop(ticket.id, None)
                self._booked.get(ticket.line, {}).pop(ticket.id, None)
                ch.lines.add(ticket.line)

    def booked(self, code: str) -> int:
        """Appointments of the line checked in for a slot not begun yet (not waiting)."""
        return len(self._booked.get(code, ()))

    def _clear_window(self, number: int | None, ticket_id: int | None, at: datetime, ch: Changes) -> None:
        if number is None or number not in self.windows:
            return
        window = self.windows[number]
        if ticket_id is None or window.ticket_id == ticket_id:
            window.ticket_id = window.ticket = window.ticket_status = None
            window.called_at = None
            window.recalls = 0
            window.idle_since = at
            ch.windows.add(number)

    def _hour(self, at: datetime) -> int | None:
        local = to_local(at, self.timezone)
        return local.hour if local.date() == self.day else None

    # -- events -----------------------------------------------------------------------------------

    def apply_all(self, events: Iterable[FeedEvent]) -> Changes:
        changes = Changes()
        for event in events:
            changes.merge(self.apply(event))
        return changes

    def apply(self, event: FeedEvent) -> Changes:
        """Apply one event (idempotent for events the snapshot already holds); say what changed."""
        ch = Changes()
        held = self.position.holds(event)
        self.position = self.position.past(event)
        if held:
            return ch
        p, kind, at = event.payload, event.kind, event.created_at
        day = local_day(at, self.timezone)
        if day > self.day:  # the first event of a new day, before any tick turned the view to it
            self._new_day(day, ch)
        if kind.startswith("ticket."):
            self._apply_ticket(kind, p, at, event.seq, ch)
        elif kind == "window.status":
            window = self.windows.get(p.get("window"))  # type: ignore[arg-type]  # a payload without a window finds none
            if window is not None:
                window.status = p.get("status", window.status)
                staff_id = p.get("staff_id")
                window.staff = self.staff_names.get(staff_id) if staff_id else None
                window.idle_since = at
                ch.windows.add(window.number)
                ch.lines.update(window.lines)
        elif kind == "window.lines":
            window = self.windows.get(p.get("window"))  # type: ignore[arg-type]  # a payload without a window finds none
            if window is not None:
                ch.lines.update(window.lines)
                window.lines = [code for code, _ in p.get("lines", [])]
                ch.lines.update(window.lines)
                ch.windows.add(window.number)
        elif kind == "line.status":
            line = self.lines.get(p.get("line", ""))
            if line is not None:
                line.is_open = bool(p.get("open"))
                ch.lines.add(line.code)
        elif kind == "hall.broadcast":
            self.broadcast = p.get("message", "")
            ch.broadcast = True
        ch.lines &= set(self.lines)
        return ch

    def _apply_ticket(self, kind: str, p: dict[str, Any], at: datetime, seq: int, ch: Changes) -> None:
        ticket_id = p.get("ticket_id")
        if ticket_id is None:
            return
        line = p.get("line", "")
        window = p.get("window")
        known = self.tickets.get(ticket_id)
        if kind == "ticket.issued":
            if known is None:
                later = p.get("callable_from")
                self._put(
                    OpenTicket(
                        ticket_id,
                        p["number"],
                        line,
                        "waiting",
                        p.get("kind", "normal"),
                        at,
                        callable_from=datetime.fromisoformat(later) if later else None,
                        day=local_day(at, self.timezone),
                    )
                )
            hour = self._hour(at)
            if hour is not None:
                self.arrivals[hour] += 1
                ch.chart = True
            ch.lines.add(line)
            return
        ticket = known or OpenTicket(ticket_id, p.get("number", ""), line, "waiting", p.get("kind", ""), at)
        if kind in CALL_KINDS:
            if known is not None and known.window is not None and known.window != window:
                self._clear_window(known.window, ticket_id, at, ch)
            ticket.status, ticket.line, ticket.window = "called", line, window
            if kind == "ticket.recalled":
                ticket.recalls = int(p.get("recalls", ticket.recalls + 1))
            self._put(ticket)
            w = self.windows.get(window)  # type: ignore[arg-type]  # a payload without a window finds none
            if w is not None:
                w.ticket_id, w.ticket, w.ticket_status = ticket_id, ticket.number, "called"
                w.called_at, w.recalls, w.idle_since = at, ticket.recalls, None
                ch.windows.add(w.number)
            call = Call(
                seq,
                kind,
                ticket.number,
                int(window or 0),
                line,
                p.get("text") or queueing.call_text(self.settings, ticket.number, int(window or 0)),
                at,
            )
            self.calls.append(call)
            ch.calls = True
            ch.new_calls.append(call)
            ch.lines.add(line)
        elif kind == "ticket.started":
            ticket.status = "serving"
            self._put(ticket)
            w = self.windows.get(window)  # type: ignore[arg-type]  # a payload without a window finds none
            if w is not None and w.ticket_id == ticket_id:
                w.ticket_status = "serving"
                ch.windows.add(w.number)
        elif kind in ("ticket.finished", "ticket.no_show", "ticket.cancelled", "ticket.closed_unserved"):
            self._drop(ticket_id)
            self._clear_window(window, ticket_id, at, ch)
            if kind == "ticket.finished":
                hour = self._hour(at)
                if hour is not None:
                    self.served[hour] += 1
                    ch.chart = True
            ch.lines.add(line)
        elif kind == "ticket.parked":
            ticket.status, ticket.window = "parked", None
            self._put(ticket)
            self._clear_window(window, ticket_id, at, ch)
        elif kind == "ticket.transferred":
            old_line = ticket.line
            ticket.status, ticket.line, ticket.window, ticket.recalls = "waiting", line, None, 0
            self._put(ticket)
            self._clear_window(window, ticket_id, at, ch)
            ch.lines.update({old_line, line, p.get("from_line", "")})
        elif kind == "ticket.moved_forward":
            ch.lines.add(line)

    # -- figures ----------------------------------------------------------------------------------

    def threshold(self, key: str) -> Any:
        return queueing.threshold(self.settings, key)

    def waiting(self, code: str) -> int:
        return len(self._waiting.get(code, ()))

    def oldest_issued(self, code: str) -> datetime | None:
        waiting = self._waiting.get(code)
        return min(waiting.values()) if waiting else None

    def open_windows(self, code: str) -> int:
        return sum(1 for w in self.windows.values() if w.status == "open" and code in w.lines)

    def longest_wait_s(self, code: str, now_utc: datetime) -> int:
        oldest = self.oldest_issued(code)
        return max(0, int((now_utc - oldest).total_seconds())) if oldest else 0

    def estimated_wait_min(self, code: str) -> int:
        line = self.lines[code]
        return queueing.estimate_wait_minutes(
            self.waiting(code), line.avg_service_minutes, self.open_windows(code)
        )

    # -- what a call display shows (the Textual display and the hall TV page) --------------------

    def shown_calls(self, limit: int, shows: Callable[[Call], bool] | None = None) -> list[Call]:
        """The newest calls first, at most ``limit``, those ``shows`` admits (a TV's scope)."""
        calls = [c for c in reversed(self.calls) if shows is None or shows(c)]
        return calls[:limit]

    def shown_waiting(
        self, shows: Callable[[str], bool] | None = None, now: datetime | None = None
    ) -> list[tuple[str, str, int]]:
        """(code, name, waiting) of each line a display lists: open ones, and closed ones still
        with people waiting; ``shows`` admits a line code (a TV's scope). Waiting = callable now:
        with ``now``, the appointments whose slot has begun are released first."""
        if now is not None:
            self.release_due(now)
        rows = []
        for code, line in self.lines.items():
            if shows is not None and not shows(code):
                continue
            if not line.is_open and not self.waiting(code):
                continue
            rows.append((code, line.name, self.waiting(code)))
        return rows

    def total_waiting(self) -> int:
        return sum(len(v) for v in self._waiting.values())

    def now_utc(self, now: datetime) -> datetime:
        return utc_naive(now, self.timezone)

    # -- cells ------------------------------------------------------------------------------------

    def line_cells(self, code: str, now: datetime) -> tuple[str, ...]:
        from window_terminal.i18n import tr

        line = self.lines[code]
        self.release_due(now)
        now_utc = self.now_utc(now)
        return (
            line.code,
            line.name,
            tr("开放", "open") if line.is_open else tr("停止取号", "closed"),
            str(self.waiting(code)),
            minutes_seconds(self.longest_wait_s(code, now_utc)),
            str(self.estimated_wait_min(code)),
            str(self.open_windows(code)),
        )

    def window_cells(self, number: int, now: datetime) -> tuple[str, ...]:
        from window_terminal.i18n import tr

        w = self.windows[number]
        now_utc = self.now_utc(now)
        in_hand = ""
        if w.ticket:
            label = tr("办理中", "serving") if w.ticket_status == "serving" else tr("已呼叫", "called")
            in_hand = f"{w.ticket} {label}"
        held = minutes_seconds((now_utc - w.called_at).total_seconds()) if w.called_at and w.ticket else ""
        idle = ""
        if w.status == "open" and not w.ticket and w.idle_since is not None:
            idle = minutes_seconds((now_utc - w.idle_since).total_seconds())
        return (
            str(w.number),
            window_state_word(w.status),
            w.staff or "",
            ",".join(w.lines),
            in_hand,
            held,
            idle,
            str(w.recalls) if w.recalls else "",
        )

    def alerts(self, now: datetime) -> list[Alert]:
        """Wait over target, a window idle while its lines have a ticket callable now (a booking
        due later is no reason), repeated recalls."""
        self.release_due(now)
        now_utc = self.now_utc(now)
        out: list[Alert] = []
        hall_target = int(self.threshold("wait_target_minutes"))
        for code, line in self.lines.items():
            longest_s = self.longest_wait_s(code, now_utc)
            longest = longest_s // 60
            target = min(hall_target, line.target_wait_min) if line.target_wait_min else hall_target
            if self.waiting(code) and longest > target:
                level = "red" if longest > 2 * target else "yellow"
                shown = minutes_seconds(longest_s)  # as the lines table shows it (m:ss, h:mm:ss)
                out.append(
                    Alert(
                        level,
                        f"wait:{code}",
                        f"{line.name} 最长等候 {shown}，超过目标 {target} 分钟",
                        f"{line.name}: longest wait {shown}, over the {target} min target",
                    )
                )
                continue
            if self.waiting(code) and not self.open_windows(code):
                out.append(
                    Alert(
                        "red",
                        f"nowindow:{code}",
                        f"{line.name} 有 {self.waiting(code)} 人等候，但没有开放的窗口",
                        f"{line.name}: {self.waiting(code)} waiting but no open window serves it",
                    )
                )
        idle_limit = int(self.threshold("idle_alert_minutes"))
        recall_limit = max(1, int(self.threshold("recalls_before_no_show")) - 1)
        for number, w in self.windows.items():
            if w.status == "open" and not w.ticket and w.idle_since is not None:
                idle = int((now_utc - w.idle_since).total_seconds()) // 60
                waiting = sum(self.waiting(code) for code in w.lines)
                if idle >= idle_limit and waiting:
                    out.append(
                        Alert(
                            "yellow",
                            f"idle:{number}",
                            f"{number}号窗口空闲 {idle} 分钟，其业务线有 {waiting} 人等候",
                            f"window {number} idle for {idle} min while {waiting} wait in its lines",
                        )
                    )
            if w.ticket and w.recalls >= recall_limit:
                out.append(
                    Alert(
                        "yellow",
                        f"recall:{number}",
                        f"{w.ticket} 在{number}号窗口已重呼 {w.recalls} 次",
                        f"{w.ticket} recalled {w.recalls} times at window {number}",
                    )
                )
        return out


# --- loading -------------------------------------------------------------------------------------


def load_view(engine: Engine, hall_id: int, *, keep_calls: int = 20) -> HallView:
    """A snapshot of the hall; the feed from ``view.position`` brings it up to date.

    Every part (position, status, waiting tickets, hourly chart, recent calls) is read in ONE
    snapshot transaction, so the view is the hall at one instant and ``position`` is exactly the
    events it includes, numbered or not yet: an event committed meanwhile is applied once, from the
    feed, never counted in the snapshot too.
    """
    with snapshot_session(engine) as s:
        return _load_view(s, hall_id, keep_calls=keep_calls)


def _load_view(s: Session, hall_id: int, *, keep_calls: int) -> HallView:
    position = feed.position(s, hall_id)
    status = queueing.queue_status_in(s, hall_id)
    waiting = queueing.waiting_tickets_in(s, hall_id, limit=1_000_000)
    hall = s.get(Hall, hall_id)
    assert hall is not None
    tz = hall.timezone
    now = db_now(s)
    day = local_day(now, tz)
    line_rows = {
        row.code: row
        for row in s.execute(
            select(Line.code, Line.avg_service_minutes, Line.sort_order).where(
                Line.hall_id == hall_id, Line.active
            )
        )
    }
    staff_names: dict[int, str] = {
        staff_id: name
        for staff_id, name in s.execute(select(Staff.id, Staff.name).where(Staff.hall_id == hall_id))
    }
    open_rows = {
        row.id: row
        for row in s.execute(
            select(
                Ticket.id,
                Ticket.recall_count,
                Ticket.issued_at,
                Ticket.called_at,
                Ticket.kind,
                Ticket.eligible_at,
                Ticket.service_day,
                Line.code.label("line"),
            )
            .join(Line, Line.id == Ticket.line_id)
            .where(Ticket.hall_id == hall_id, Ticket.status.in_(OPEN_STATES))
        )
    }
    start = local_midnight_utc(day, tz)
    last_finish = dict(
        s.execute(
            select(Ticket.window_id, func.max(Ticket.finished_at))
            .where(Ticket.hall_id == hall_id, Ticket.finished_at >= start, Ticket.window_id.is_not(None))
            .group_by(Ticket.window_id)
        ).all()
    )
    window_ids = dict(s.execute(select(Window.number, Window.id).where(Window.hall_id == hall_id)).all())
    status_now = utc_naive(datetime.fromisoformat(status["now"]), tz)
    lines = [
        LineState(
            r["line"],
            r["name"],
            r["prefix"],
            r["open"],
            float(line_rows[r["line"]].avg_service_minutes) if r["line"] in line_rows else 10.0,
            int(r["target_wait_min"]),
            line_rows[r["line"]].sort_order if r["line"] in line_rows else 0,
        )
        for r in status["lines"]
    ]
    tickets = [
        OpenTicket(
            t["ticket_id"],
            t["number"],
            t["line"],
            t["status"],
            t["kind"],
            open_rows[t["ticket_id"]].issued_at
            if t["ticket_id"] in open_rows
            else status_now - timedelta(seconds=t["wait_s"]),
            t["recalls"],
            callable_from=open_rows[t["ticket_id"]].eligible_at
            if t["ticket_id"] in open_rows and open_rows[t["ticket_id"]].eligible_at > now
            else None,
            day=open_rows[t["ticket_id"]].service_day if t["ticket_id"] in open_rows else None,
        )
        for t in waiting
    ]
    windows = []
    for r in status["windows"]:
        since = utc_naive(datetime.fromisoformat(r["status_since"]), tz) if r["status_since"] else None
        finished = last_finish.get(window_ids.get(r["window"]))
        idle_since = max(d for d in (since, finished) if d is not None) if (since or finished) else None
        w = WindowState(
            r["window"], r["name"], r["status"], r["staff"], list(r["lines"]), idle_since=idle_since
        )
        if r["ticket_id"] is not None:
            extra = open_rows.get(r["ticket_id"])
            w.ticket_id, w.ticket, w.ticket_status = r["ticket_id"], r["ticket"], r["ticket_status"]
            w.called_at = (
                extra.called_at
                if extra is not None and extra.called_at is not None
                else status_now - timedelta(seconds=r["in_hand_s"] or 0)
            )
            w.recalls = int(extra.recall_count) if extra else 0
            w.idle_since = None
            code = extra.line if extra is not None else next(iter(w.lines), "")
            tickets.append(
                OpenTicket(
                    r["ticket_id"],
                    r["ticket"],
                    code,
                    r["ticket_status"],
                    extra.kind if extra else "normal",
                    extra.issued_at if extra else status_now,
                    w.recalls,
                    w.number,
                )
            )
        windows.append(w)
    arrivals, served = hourly_counts_in(s, hall_id, day)
    view = HallView(
        hall_id=hall_id,
        timezone=tz,
        settings=hall.settings or {},
        position=position,
        day=day,
        lines=lines,
        windows=windows,
        tickets=tickets,
        staff_names=staff_names,
        calls=recent_calls_in(s, hall_id, limit=keep_calls, day=day),
        broadcast=status.get("broadcast") or "",
        arrivals=arrivals,
        served=served,
        keep_calls=keep_calls,
    )
    view.as_of = now.replace(tzinfo=UTC)
    view.release_due(view.as_of)
    return view


# --- read queries --------------------------------------------------------------------------------


def _hour_bucket(s: Session, column: Any, start: datetime) -> Any:
    """The hour since local midnight (``start``, naive UTC) as an SQL expression, per dialect."""
    if s.get_bind().dialect.name == "postgresql":
        return func.floor(func.extract("epoch", column - literal(start)) / 3600)
    return func.cast(
        (func.julianday(column) - func.julianday(literal(start.isoformat(sep=" ")))) * 24, Integer
    )


def hourly_counts(engine: Engine, hall_id: int, day: date | None = None) -> tuple[list[int], list[int]]:
    """Tickets issued and tickets finished (served) per local hour of ``day`` (default today)."""
    with read_session(engine) as s:
        return hourly_counts_in(s, hall_id, day)


def hourly_counts_in(s: Session, hall_id: int, day: date | None = None) -> tuple[list[int], list[int]]:
    hall = s.get(Hall, hall_id)
    assert hall is not None
    day = day or local_day(db_now(s), hall.timezone)
    start = local_midnight_utc(day, hall.timezone)
    end = start + timedelta(days=1)
    out = []
    for column, extra in (
        (Ticket.issued_at, ()),
        (Ticket.finished_at, (Ticket.status == "done",)),
    ):
        bucket = _hour_bucket(s, column, start).label("hour")
        counts = [0] * 24
        rows = s.execute(
            select(bucket, func.count())
            .where(Ticket.hall_id == hall_id, column >= start, column < end, *extra)
            .group_by(bucket)
        ).all()
        for hour, count in rows:
            if hour is not None and 0 <= int(hour) < 24:
                counts[int(hour)] += int(count)
        out.append(counts)
    return out[0], out[1]


def recent_calls(engine: Engine, hall_id: int, *, limit: int = 20, day: date | None = None) -> list[Call]:
    """Today's calls, recalls and call-backs from the event log, oldest first (at most ``limit``)."""
    with read_session(engine) as s:
        return recent_calls_in(s, hall_id, limit=limit, day=day)


def recent_calls_in(s: Session, hall_id: int, *, limit: int = 20, day: date | None = None) -> list[Call]:
    hall = s.get(Hall, hall_id)
    assert hall is not None
    day = day or local_day(db_now(s), hall.timezone)
    start = local_midnight_utc(day, hall.timezone)
    # Calls committed but not yet numbered (PostgreSQL's fast path, see feed.Position) are part of
    # the snapshot too: they come last, in insertion order, and the feed will not bring them again.
    rows = s.execute(
        select(Event.seq, Event.kind, Event.payload, Event.created_at)
        .where(Event.hall_id == hall_id, Event.kind.in_(CALL_KINDS), Event.created_at >= start)
        .order_by(Event.seq.desc().nulls_first(), Event.id.desc())
        .limit(limit)
    ).all()
    last_numbered = max((seq for seq, *_ in rows if seq is not None), default=0)
    settings = hall.settings or {}
    calls = []
    for place, (numbered, kind, payload, at) in enumerate(reversed(rows)):
        seq = numbered if numbered is not None else last_numbered + place + 1  # order only
        calls.append(call_of(seq, kind, payload, at, settings))
    return calls


def call_of(seq: int, kind: str, payload: dict[str, Any], at: datetime, settings: dict[str, Any]) -> Call:
    """The call an event of ``CALL_KINDS`` made, as the board and the TVs show and say it."""
    window = int(payload.get("window") or 0)
    number = payload.get("number", "")
    return Call(
        seq,
        kind,
        number,
        window,
        payload.get("line", ""),
        payload.get("text") or queueing.call_text(settings, number, window),
        at,
    )


def call_at(engine: Engine, hall_id: int, seq: int) -> Call | None:
    """The call made by the hall's event ``seq`` (None when that event is not a call)."""
    with read_session(engine) as s:
        row = s.execute(
            select(Event.kind, Event.payload, Event.created_at).where(
                Event.hall_id == hall_id, Event.seq == seq, Event.kind.in_(CALL_KINDS)
            )
        ).one_or_none()
        if row is None:
            return None
        hall = s.get(Hall, hall_id)
        return call_of(seq, row[0], row[1], row[2], (hall.settings if hall else None) or {})
