"""The queue engine: tickets from issue to finish. Plain Python over the shared database.

Every function that changes something runs as one command (``db.unit.run_command``): one write
transaction holding the hall's lock, appending its events, idempotent under a request id. Where
is a ticket called? ``call_next`` (and ``call_ticket`` / ``call_back`` for a specific one).

Ticket states::

    waiting ──call──▶ called ──start──▶ serving ──finish──▶ done
       ▲  ▲             │  ╰─recall (counted; too many → no_show)
       │  ╰─transfer────┤  ╰─no-show──▶ no_show
       │                ╰─park──▶ parked ──call back──▶ called
       ╰─cancel (waiting/parked) ──▶ cancelled
    waiting / called / parked of a closed service day ──close of day (the system)──▶ unserved

A ticket is **callable now** (``callable_now``) when it is waiting, of today's service day, and its
time has come; an appointment ticket whose slot has not begun is **booked for later**
(``booked_for_later``): not waiting, not callable, not a reason for an idle alert. Every surface
(counter, board, TV, kiosk, ``queue status``) counts by these two definitions.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Engine, and_, case, func, insert, or_, select, update
from sqlmodel import Session

from window_terminal.core import access, hours, lookup
from window_terminal.db import links
from window_terminal.db.clock import (
    db_now,
    epoch_seconds,
    get_offset,
    local_day,
    local_midnight_utc,
    to_local,
)
from window_terminal.db.engine import DatabaseError, direct_connection, read_session
from window_terminal.db.models import (
    Appointment,
    Hall,
    Line,
    Staff,
    Ticket,
    TicketCounter,
    Window,
    WindowLine,
)
from window_terminal.db.unit import LATE_SQLSTATE, SYSTEM, Unit, forget_old_requests, late, run_command
from window_terminal.errors import DomainError, NotFound

log = logging.getLogger(__name__)
T = TypeVar("T", bound="TicketInfo | None")  # what a queue command returns

IN_HAND = ("called", "serving")
PRIVILEGED = ("priority", "appointment")
KINDS = ("normal", "priority", "appointment")
# What a person reads for a ticket's status (zh, en): the counter, the CLI and every other surface.
TICKET_STATES = {
    "waiting": ("等候", "waiting"),
    "called": ("已呼叫", "called"),
    "serving": ("办理中", "serving"),
    "parked": ("挂起", "parked"),
    "done": ("已办结", "done"),
    "no_show": ("过号", "no-show"),
    "cancelled": ("已取消", "cancelled"),
    "unserved": ("日终未办", "unserved (day closed)"),
}
UNSERVED = "unserved"
OPEN_AT_CLOSE = ("waiting", "called", "parked")  # what the close of day ends (serving: the clerk finishes,
# unless its day is past: _close_tickets)
WINDOW_STATES = ("open", "paused", "closed")

DEFAULT_THRESHOLDS: dict[str, Any] = {
    "wait_target_minutes": 20,
    "recalls_before_no_show": 3,
    "idle_alert_minutes": 5,
    "yellow_days": 2,
    "notice_limit_days": 5,
    "rectification_days": 15,
    "display_calls": 8,
    "call_template": "请{number}号到{window}号窗口办理",
    "highlight_seconds": 8,
    "kiosk_timeout_seconds": 30,
    "announce_repeat": 1,  # the hall TV says each call this many times (after one chime)
    "announce_max_age_seconds": 120,  # a call older than this when it reaches a TV is shown, not said
    "voice_speed": 150,  # espeak-ng words per minute for the call text
    "display_stale_seconds": 15,  # the board flags a hall TV silent this long
    "appointment_slot_minutes": 30,  # booking slots: length, bookings per slot (a number, or per
    "appointment_capacity": 2,  # line: {BIZ = 3, default = 2}), and minutes late before a no-show
    "appointment_grace_minutes": 15,
}


def threshold(settings: dict[str, Any], key: str) -> Any:
    return (settings.get("thresholds") or {}).get(key, DEFAULT_THRESHOLDS[key])


@dataclass(frozen=True)
class TicketInfo:
    id: int
    number: str
    line: str
    line_name: str
    kind: str
    status: str
    window: int | None
    issued_at: str
    people_ahead: int | None = None
    estimated_wait_minutes: int | None = None
    recall_count: int = 0
    service_day: str = ""
    priority_reason: str = ""
    document: str | None = None  # the stored ticket slip's number, when one was issued
    expected_at: str | None = None  # an appointment booked for later: its slot (local ISO), the estimate

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TicketInfo:
        return cls(**data)


def call_text(settings: dict[str, Any], number: str, window: int) -> str:
    """The announcement: "请A001号到3号窗口办理" (template from the hall's thresholds)."""
    return str(threshold(settings, "call_template")).format(number=number, window=window)


# --- look-ups -----------------------------------------------------------------------------------


# Lines, windows, tickets and staff are found by ``core.lookup`` (one normalisation of what a
# person types); the short names keep this module's call sites as they were.
_line = lookup.line
_window = lookup.window
find_ticket = lookup.ticket


def in_hand(session: Session, window: Window) -> Ticket | None:
    """The ticket a window has called and not finished, whatever day it was taken: the one rule."""
    return session.execute(
        select(Ticket)
        .where(Ticket.hall_id == window.hall_id, Ticket.window_id == window.id, Ticket.status.in_(IN_HAND))
        .order_by(Ticket.called_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def _require_in_hand(session: Session, window: Window) -> Ticket:
    ticket = in_hand(session, window)
    if ticket is None:
        raise DomainError(
            f"{window.number} 号窗口当前没有正在办理的号：请先叫号",
            f"window {window.number} has no ticket in hand: call one first",
            code="no_ticket",
        )
    return ticket


def _people_ahead(session: Session, ticket: Ticket) -> int:
    """Who is called before this ticket: everyone waiting ahead of it in its line — or, for a
    privileged ticket (priority lane, appointment) on a line that calls those first, only the
    privileged ones ahead of it (a 绿色通道 ticket was told "9 people ahead" and called next)."""
    conditions = [
        Ticket.hall_id == ticket.hall_id,
        Ticket.line_id == ticket.line_id,
        Ticket.status == "waiting",
        Ticket.service_day == ticket.service_day,
        Ticket.queue_key < ticket.queue_key,
    ]
    line = session.get(Line, ticket.line_id)
    if ticket.kind in PRIVILEGED and line is not None and line.priority_policy != "none":
        conditions.append(Ticket.kind.in_(PRIVILEGED))
    return int(session.execute(select(func.count()).select_from(Ticket).where(*conditions)).scalar_one())


def _serving_windows(session: Session, line_id: int) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(WindowLine)
            .join(Window, Window.id == WindowLine.window_id)
            .where(WindowLine.line_id == line_id, Window.status == "open", Window.active)
        ).scalar_one()
    )


def estimate_wait_minutes(people_ahead: int, avg_service_minutes: float, open_windows: int) -> int:
    return int(round(people_ahead * avg_service_minutes / max(1, open_windows)))


def _info(
    session: Session, ticket: Ticket, line: Line | None = None, *, tz: str, with_ahead: bool = False
) -> TicketInfo:
    line = line or session.get(Line, ticket.line_id)
    assert line is not None
    window_number = None
    if ticket.window_id is not None:
        window = session.get(Window, ticket.window_id)
        window_number = window.number if window else None
    ahead = wait = expected = None
    if (
        with_ahead
        and ticket.status == "waiting"
        and ticket.kind == "appointment"
        and (ticket.eligible_at > ticket.issued_at)
    ):
        # booked for later: its estimate is its slot, not minutes counted from the people ahead
        expected = to_local(ticket.eligible_at, tz).isoformat(timespec="minutes")
    elif with_ahead and ticket.status == "waiting":
        ahead = _people_ahead(session, ticket)
        wait = estimate_wait_minutes(ahead, line.avg_service_minutes, _serving_windows(session, line.id))  # type: ignore[arg-type]  # a stored line: the id is set
    return TicketInfo(
        id=ticket.id or 0,
        number=ticket.number,
        line=line.code,
        line_name=line.name,
        kind=ticket.kind,
        status=ticket.status,
        window=window_number,
        issued_at=to_local(ticket.issued_at, tz).isoformat(timespec="seconds"),
        people_ahead=ahead,
        estimated_wait_minutes=wait,
        recall_count=ticket.recall_count,
        service_day=ticket.service_day.isoformat(),
        priority_reason=ticket.priority_reason,
        expected_at=expected,
    )


def _ticket_payload(ticket: Ticket, line: Line, window: Window | None = None, **extra: Any) -> dict[str, Any]:
    payload = {
        "ticket_id": ticket.id,
        "number": ticket.number,
        "line": line.code,
        "status": ticket.status,
        "kind": ticket.kind,
        "window": window.number if window else None,
    }
    payload.update(extra)
    return payload


def _encode(info: TicketInfo | None) -> dict[str, Any] | None:
    return info.as_dict() if info else None


def _decode(data: dict[str, Any] | None) -> TicketInfo | None:
    return TicketInfo.from_dict(data) if data else None


def _command(
    engine: Engine,
    hall_id: int,
    name: str,
    action: Callable[[Unit], T],
    request_id: str | None,
    actor: str | None,
    *,
    window: int | None = None,  # the window acted at: a request id is bound to it (db.unit)
) -> T:
    return access.run_as(
        engine,
        hall_id,
        name,
        action,
        actor,
        request_id=request_id,
        window=window,
        encode=_encode,
        decode=cast("Callable[[Any], T]", _decode),  # None is stored only for a None result
    )


# --- PostgreSQL fast path -----------------------------------------------------------------------
# On PostgreSQL the hot counter commands (call_next and the in-hand transitions) run as ONE call of
# a server-side procedure (migration 0004): the function does exactly what run_command + the Python
# actions below do, holding only its hall's lock in shared mode, its lines and its window; the
# procedure commits and numbers the events. Counters of one hall do not wait for each other's
# commits. When the function refuses (SQLSTATE class WT), the Python path runs and raises the
# DomainError with its message — or succeeds, if the state changed in between. When the fast path
# is not available (the procedure is missing, the connection is lost or timed out) the Python path
# answers too, and a warning says why (once per reason). Any other error of the procedure is a
# defect and raises: a broken procedure must be noticed, not hidden behind the slower path. SQLite
# always uses the Python path. The calling rule itself is ``_choose_next``; the procedure's copy is
# held to it by tests/test_call_rule.py over every priority policy.

PG_FAST_PATH = True  # tests switch it off to compare the two paths

_FALLBACK = object()
_CALL_NEXT_SQL = (
    "CALL wt_call_next_p(NULL::jsonb, %(hall_id)s::integer, %(window)s::integer, %(staff_id)s::integer,"
    " %(request_id)s::text, %(offset)s::double precision)"
)
_TRANSITION_SQL = (
    "CALL wt_in_hand_transition_p(NULL::jsonb, %(hall_id)s::integer, %(window)s::integer,"
    " %(staff_id)s::integer, %(request_id)s::text, %(offset)s::double precision, %(command)s::text,"
    " %(allowed)s::text[], %(new_status)s::text, %(event)s::text)"
)


def _use_fast_path(engine: Engine) -> bool:
    return PG_FAST_PATH and engine.dialect.name == "postgresql"


_fallback_reasons_logged: set[str] = set()


def _pg_fast(engine: Engine, statement: str, params: dict[str, Any]) -> Any:
    """One server-side procedure call (it commits itself); ``_FALLBACK`` when the Python path must
    answer instead: the procedure refused (SQLSTATE class WT), or the fast path is not available.
    Any other database error raises ``DatabaseError``."""
    import psycopg
    from psycopg import errors

    params["offset"] = get_offset().total_seconds()
    actor_code = access.fast_path_code(params.pop("actor"))
    permission = params.pop("permission")
    if actor_code is None:
        return _FALLBACK
    try:
        with direct_connection(engine) as conn, conn.cursor() as cur:
            # The actor's role, read on this connection right before the call (access.PERMISSIONS);
            # anything else than a permitted staff member: the Python path refuses it in words.
            cur.execute(
                access.FAST_PATH_ACTOR_SQL,
                {"hall_id": params["hall_id"], "actor_code": actor_code, "window": params["window"]},
            )
            staff = cur.fetchone()
            if staff is None or not access.fast_path_may(staff[1], staff[0], staff[2], permission):
                return _FALLBACK
            params["staff_id"] = staff[0]
            cur.execute(statement, params)
            row = cur.fetchone()
    except psycopg.Error as exc:
        if exc.sqlstate == LATE_SQLSTATE:
            raise late() from exc  # it reached the server after its deadline: never run, nor elsewhere
        if (exc.sqlstate or "").startswith("WT"):
            return _FALLBACK  # a refusal: the Python path gives the DomainError in both languages
        if isinstance(exc, errors.UndefinedFunction | errors.UndefinedObject):
            reason = "the server-side procedure is missing (run `wt db upgrade`)"
        elif links.is_lost(exc):
            # The link died mid-call (db/links.py cut it): the server may have done it. Not the
            # Python path now (another wait on the same dead link); the caller repeats the same
            # request id, which the server runs once.
            raise DatabaseError(
                f"the connection to the database was lost during the call: it is not known whether it "
                f"was done. Repeat it with the same request id ({params['request_id']}): it never runs "
                f"twice (连接中断，操作是否完成未知：请用同一请求编号重试，不会重复办理)"
            ) from exc
        elif isinstance(exc, psycopg.OperationalError):
            reason = "the database connection failed, timed out or was cancelled"
        else:
            raise DatabaseError(
                f"the PostgreSQL counter procedure failed ({exc.sqlstate or type(exc).__name__}: "
                f"{str(exc).strip()}); run `wt db upgrade` to reinstall it, and report this if it persists "
                "(数据库叫号过程出错：请运行 wt db upgrade 重新安装，仍出错请报告)"
            ) from exc
        _log_fallback(reason, exc)
        return _FALLBACK
    return row[0] if row else None


def _log_fallback(reason: str, exc: Exception) -> None:
    """Say once per process and reason why the counter commands took the Python path."""
    if reason in _fallback_reasons_logged:
        return
    _fallback_reasons_logged.add(reason)
    log.warning(
        "PostgreSQL fast path not used, the Python path answers: %s (%s: %s)",
        reason,
        getattr(exc, "sqlstate", None) or type(exc).__name__,
        str(exc).strip(),
    )


def _fast_request_id() -> str:
    """Every fast-path call carries a request id: if its connection dies after the server committed,
    the Python path that answers instead finds the stored result rather than calling again. Time
    first: new ids land at the right edge of the request log's index, not on random pages."""
    return f"auto:{time.time_ns():016x}{uuid.uuid4().hex[:16]}"


def _fast_params(
    engine: Engine, hall_id: int, window_number: int, actor: str | None, request_id: str, command: str
) -> dict[str, Any]:
    """What every counter procedure takes first; ``_pg_fast`` adds the clock offset and checks the
    actor against ``command``'s permission, as ``access.run_as`` does on the Python path."""
    return {
        "hall_id": hall_id,
        "window": lookup.window_number(window_number),  # bounded before any SQL (an int4 overflowed)
        "staff_id": None,
        "request_id": lookup.request_id(request_id),
        "actor": actor,
        "permission": command,
    }


# --- the service day's edges --------------------------------------------------------------------


def callable_now(now: datetime, today: date) -> ColumnElement[bool]:
    """THE definition of a ticket a window may call at ``now``: waiting, of today's service day
    (``today``: the hall's local date of ``now``), its time come — an appointment from its slot,
    every other ticket from its issue. A ticket of a past day is never callable."""
    return and_(Ticket.status == "waiting", Ticket.service_day == today, Ticket.eligible_at <= now)


def booked_for_later(now: datetime, today: date) -> ColumnElement[bool]:
    """An appointment ticket checked in before its slot: not waiting yet, not callable, counted apart."""
    return and_(Ticket.status == "waiting", Ticket.service_day == today, Ticket.eligible_at > now)


def _is_manager(unit: Unit) -> bool:
    staff = unit.session.get(Staff, unit.staff_id) if unit.staff_id else None
    return staff is not None and staff.role == "manager"


def require_open_hours(
    unit: Unit,
    line_code: str | None,
    local: datetime,
    what: tuple[str, str],
    advice: tuple[str, str] = ("请在办理时间内再来", "come back within them"),
) -> None:
    """Refuse, naming the hours, what is asked outside the hall's (or the line's) opening hours;
    a manager may still do it (the event records the manager)."""
    opening = hours.parse(unit.settings)
    if opening is None or _is_manager(unit):
        return
    from window_terminal.core.workdays import hall_calendar

    calendar = None if opening.every_day else hall_calendar(unit.session, unit.hall_id)
    if not hours.is_open(opening, calendar, local, line_code):
        raise hours.outside_hours(opening, line_code, what, local, advice)


def _close_tickets(unit: Unit, before: date) -> list[Ticket]:
    """End every ticket of a service day before ``before`` still waiting, called or parked — and of a
    day already past, one still in service too (its clerk never finished it: left open, it would be a
    second live ticket of its number tomorrow): the system does it (``ticket.closed_unserved``, with
    what it ``was``), the ticket counts as unserved. Today's tickets in service at closing time are
    left to their clerks."""
    s = unit.session
    tickets = (
        s.execute(
            select(Ticket)
            .where(
                Ticket.hall_id == unit.hall_id,
                or_(
                    and_(Ticket.status.in_(OPEN_AT_CLOSE), Ticket.service_day < before),
                    and_(Ticket.status == "serving", Ticket.service_day < unit.today),
                ),
            )
            .order_by(Ticket.service_day, Ticket.queue_key, Ticket.id)
        )
        .scalars()
        .all()
    )
    for ticket in tickets:
        was = ticket.status
        window = (
            s.get(Window, ticket.window_id) if ticket.window_id and was in ("called", "serving") else None
        )
        ticket.status = UNSERVED
        ticket.finished_at = unit.now
        line = s.get(Line, ticket.line_id)
        assert line is not None
        unit.emit(
            "ticket.closed_unserved",
            _ticket_payload(ticket, line, window, was=was, service_day=ticket.service_day.isoformat()),
            window_id=window.id if window else None,
            by_system=True,
        )
    return list(tickets)


def close_past_days(unit: Unit) -> int:
    """Before the first command of a new day (every take and call runs it): a close of day that was
    missed is done now, so no ticket of a past day is ever callable or shares today's numbers."""
    return len(_close_tickets(unit, unit.today))


def close_day(engine: Engine, hall_id: int, *, request_id: str | None = None) -> dict[str, Any]:
    """The close of day (``wt day close``, run by a timer at the hall's closing time): every ticket
    of a past service day, and of today once the hall's closing time has passed, still waiting,
    called or parked, ends as unserved. The system acts; no one signs in."""

    def action(unit: Unit) -> dict[str, Any]:
        from window_terminal.core.workdays import hall_calendar

        opening = hours.parse(unit.settings)
        calendar = None if opening is None or opening.every_day else hall_calendar(unit.session, unit.hall_id)
        local_now = to_local(unit.now, unit.timezone).replace(tzinfo=None)
        closing = hours.closing_time(opening, calendar, unit.today)
        through = (
            unit.today if closing is not None and local_now >= closing else unit.today - timedelta(days=1)
        )
        closed = _close_tickets(unit, through + timedelta(days=1))
        days = sorted({t.service_day for t in closed})
        unit.emit(
            "day.closed",
            {"through": through.isoformat(), "unserved": len(closed), "days": [d.isoformat() for d in days]},
            by_system=True,
        )
        return {
            "through": through.isoformat(),
            "unserved": len(closed),
            "tickets": [t.number for t in closed],
            "closing_time": closing.isoformat(timespec="minutes") if closing else None,
        }

    return run_command(engine, hall_id, "day.close", action, request_id=request_id, device=SYSTEM)


# --- issuing ------------------------------------------------------------------------------------


def queue_key_at(moment: datetime) -> float:
    """A ticket's place in line: the true instant (UTC epoch seconds) of ``moment``, a naive UTC
    reading of the database clock — the issue time, or an appointment's slot. The same on every PC
    whatever its time zone; kept on transfer; smaller = earlier."""
    return epoch_seconds(moment)


def take_ticket(
    engine: Engine,
    hall_id: int,
    line_code: str | None = None,
    *,
    kind: str = "normal",
    priority_reason: str = "",
    appointment_code: str | None = None,
    service_item_id: int | None = None,
    actor: str | None,
    request_id: str | None = None,
    slip: bool = False,
) -> TicketInfo:
    """Issue a ticket: prefix + 3-digit number of the service day, reset every day.

    With ``slip`` the printed ticket is stored as a document in the same transaction, so a
    printer failure never loses it (reprint with ``wt doc print NUMBER``).
    """
    if kind not in KINDS:
        raise DomainError(f"票种 {kind} 无效：normal/priority/appointment", f"kind must be one of {KINDS}")
    if kind == "priority" and not lookup.typed(priority_reason):
        raise DomainError(
            "绿色通道需填写原因（如：老年人、残疾人、军人）",
            "the priority lane needs a reason (e.g. elderly, disabled, military)",
        )

    def action(unit: Unit) -> TicketInfo:
        s = unit.session
        close_past_days(unit)
        appointment = None
        if kind == "appointment" or appointment_code:
            appointment = s.execute(
                select(Appointment).where(
                    Appointment.hall_id == unit.hall_id, Appointment.code == lookup.code(appointment_code)
                )
            ).scalar_one_or_none()
            if appointment is None:
                raise NotFound(
                    f"预约码 {appointment_code} 不存在：请核对短信中的预约码",
                    f"appointment code {appointment_code!r} not found: check the code in the booking message",
                )
            if appointment.ticket_id is not None:
                existing = s.get(Ticket, appointment.ticket_id)
                assert existing is not None
                return _info(s, existing, tz=unit.timezone, with_ahead=True)
            from window_terminal.core.appointments import check_in_refusal

            check_in_refusal(
                appointment, unit.now, unit.settings, unit.timezone
            )  # cancelled, other day, late
            line = s.get(Line, appointment.line_id)
            assert line is not None
        else:
            if not line_code:
                raise DomainError("请选择业务线", "choose a line")
            line = _line(s, unit.hall_id, line_code)
        require_open_hours(unit, line.code, to_local(unit.now, unit.timezone), ("取号", "ticket"))
        if not line.is_open:
            raise DomainError(
                f"{line.name}（{line.code}）暂停取号：请选择其他业务或咨询导办人员",
                f"line {line.code} ({line.name}) is closed for new tickets: choose another line or ask the hall staff",
                code="line_closed",
            )
        day = unit.today
        seq = _next_number(s, unit.hall_id, line.id, day)  # type: ignore[arg-type]  # a stored row: the id is set
        if seq > 999:
            raise DomainError(
                f"{line.name} 今日号码已满（999）", f"line {line.code} has used all 999 numbers today"
            )
        eligible = unit.now
        if appointment is not None:
            eligible = max(unit.now, appointment.slot_start)
        ticket = Ticket(
            hall_id=unit.hall_id,
            service_day=day,
            line_id=line.id,  # type: ignore[arg-type]  # a stored row: the id is set
            original_line_id=line.id,  # type: ignore[arg-type]  # a stored row: the id is set
            line_code_at_issue=line.code,
            seq=seq,
            number=f"{line.prefix}{seq:03d}",
            kind="appointment" if appointment is not None else kind,
            # the hall's vocabulary (hall.toml [priority] reasons), stored in its Chinese words
            priority_reason=lookup.priority_reason(unit.settings, priority_reason)
            if kind == "priority"
            else "",
            appointment_code=appointment.code if appointment else None,
            eligible_at=eligible,
            queue_key=queue_key_at(appointment.slot_start if appointment else unit.now),
            issued_at=unit.now,
            service_item_id=service_item_id,
        )
        s.add(ticket)
        s.flush()
        if appointment is not None:
            appointment.ticket_id = ticket.id
        info = _info(s, ticket, line, tz=unit.timezone, with_ahead=True)
        payload = _ticket_payload(ticket, line, people_ahead=info.people_ahead)
        if ticket.eligible_at > unit.now:  # booked for later: the hall view counts it from its slot
            payload["callable_from"] = ticket.eligible_at.isoformat()
        unit.emit("ticket.issued", payload)
        if slip:
            info = replace(info, document=_issue_slip(unit, ticket, info))
        return info

    return _command(engine, hall_id, "ticket.take", action, request_id, actor)


def _issue_slip(unit: Unit, ticket: Ticket, info: TicketInfo) -> str:
    from window_terminal.core.document_store import issue_document

    hall = unit.session.get(Hall, unit.hall_id)
    assert hall is not None
    document = issue_document(
        unit,
        "ticket",
        {
            "hall": hall.name,
            "office": hall.office,
            "ticket_number": ticket.number,
            "ticket_id": ticket.id,
            "line": info.line_name,
            "people_ahead": info.people_ahead,
            "estimated_wait_minutes": info.estimated_wait_minutes,
            "priority": ticket.kind == "priority",
            "priority_reason": ticket.priority_reason,
            "appointment_code": ticket.appointment_code,
            "expected_at": info.expected_at,
        },
        ticket_id=ticket.id,
    )
    return document.number


def _next_number(session: Session, hall_id: int, line_id: int, day: date) -> int:
    updated = session.execute(
        update(TicketCounter)
        .where(
            TicketCounter.hall_id == hall_id,
            TicketCounter.line_id == line_id,
            TicketCounter.service_day == day,
        )
        .values(last_seq=TicketCounter.last_seq + 1)
        .returning(TicketCounter.last_seq)
    ).scalar_one_or_none()
    if updated is not None:
        return int(updated)
    session.execute(
        insert(TicketCounter).values(hall_id=hall_id, line_id=line_id, service_day=day, last_seq=1)
    )
    return 1


# --- calling ------------------------------------------------------------------------------------


def _choose_next(session: Session, window: Window, now: datetime, today: date) -> Ticket | None:
    """The next ticket for a window, over the lines it serves.

    Within a line: FIFO by place (``queue_key``); privileged tickets (priority lane, appointments
    from their slot) per the line's policy — ``strict`` always first, ``interleave`` first but
    after ``priority_every`` privileged calls in a row a waiting normal ticket goes, ``none`` plain
    FIFO. Across lines: the head with the largest weight × waiting time; a privileged head wins.
    """
    served = session.execute(
        select(Line, WindowLine.weight)
        .join(WindowLine, WindowLine.line_id == Line.id)
        .where(WindowLine.window_id == window.id, Line.active)
        .order_by(Line.id)
    ).all()
    best: tuple[tuple[int, float], Ticket, Line] | None = None
    for line, weight in served:
        head = _line_head(session, line, now, today)
        if head is None:
            continue
        privileged = head.kind in PRIVILEGED and line.priority_policy != "none"
        score = (1 if privileged else 0, weight * (epoch_seconds(now) - head.queue_key))
        if best is None or score > best[0]:
            best = (score, head, line)
    if best is None:
        return None
    _, ticket, line = best
    if line.priority_policy == "interleave":
        line.priority_streak = line.priority_streak + 1 if ticket.kind in PRIVILEGED else 0
    return ticket


def _line_head(session: Session, line: Line, now: datetime, today: date) -> Ticket | None:
    waiting = and_(Ticket.hall_id == line.hall_id, Ticket.line_id == line.id, callable_now(now, today))

    def first(*conditions: Any) -> Ticket | None:
        return session.execute(
            select(Ticket).where(waiting, *conditions).order_by(Ticket.queue_key, Ticket.id).limit(1)
        ).scalar_one_or_none()

    if line.priority_policy == "none":
        return first()
    privileged = first(Ticket.kind.in_(PRIVILEGED))
    if privileged is None:
        return first()
    if line.priority_policy == "interleave" and line.priority_streak >= max(1, line.priority_every):
        normal = first(Ticket.kind == "normal")
        if normal is not None:
            return normal
    return privileged


def _require_open(window: Window) -> None:
    if window.status != "open":
        state = {"paused": "暂停", "closed": "关闭"}.get(window.status, window.status)
        raise DomainError(
            f"{window.number} 号窗口处于{state}状态，不能叫号：请先开窗（wt window open {window.number}）",
            f"window {window.number} is {window.status}: open it first (`wt window open {window.number}`)",
            code="window_not_open",
        )


def _finish_in_hand(unit: Unit, window: Window) -> None:
    """Before calling the next ticket: a ticket being served is finished; one merely called is not."""
    current = in_hand(unit.session, window)
    if current is None:
        return
    if current.status == "called":
        raise DomainError(
            f"{current.number} 已叫号但未开始办理：请开始办理、重呼、标记过号或挂起",
            f"{current.number} was called but not started: start, recall, mark no-show or park it first",
            code="ticket_in_hand",
        )
    current.status = "done"
    current.finished_at = unit.now
    line = unit.session.get(Line, current.line_id)
    assert line is not None
    unit.emit("ticket.finished", _ticket_payload(current, line, window), window_id=window.id)


def _mark_called(unit: Unit, ticket: Ticket, window: Window, event: str = "ticket.called") -> TicketInfo:
    ticket.status = "called"
    ticket.window_id = window.id
    ticket.staff_id = unit.staff_id or window.staff_id
    ticket.called_at = unit.now
    ticket.first_called_at = ticket.first_called_at or unit.now
    unit.session.flush()
    line = unit.session.get(Line, ticket.line_id)
    assert line is not None
    unit.emit(
        event,
        _ticket_payload(ticket, line, window, text=call_text(unit.settings, ticket.number, window.number)),
        window_id=window.id,
    )
    return _info(unit.session, ticket, line, tz=unit.timezone)


def call_next(
    engine: Engine,
    hall_id: int,
    window_number: int,
    *,
    actor: str | None,
    request_id: str | None = None,
) -> TicketInfo | None:
    """Call the next ticket to a window; ``None`` when nobody is waiting in its lines."""

    def action(unit: Unit) -> TicketInfo | None:
        window = _window(unit.session, unit.hall_id, window_number)
        _require_open(window)
        close_past_days(unit)
        _finish_in_hand(unit, window)
        ticket = _choose_next(unit.session, window, unit.now, unit.today)
        if ticket is None:
            return None
        return _mark_called(unit, ticket, window)

    if _use_fast_path(engine):
        request_id = request_id or _fast_request_id()
        params = _fast_params(engine, hall_id, window_number, actor, request_id, "call.next")
        value = _pg_fast(engine, _CALL_NEXT_SQL, params)
        if value is not _FALLBACK:
            return _decode(value)
    return _command(engine, hall_id, "call.next", action, request_id, actor, window=window_number)


def call_ticket(
    engine: Engine,
    hall_id: int,
    window_number: int,
    ticket_ref: str | int,
    *,
    actor: str | None,
    request_id: str | None = None,
) -> TicketInfo:
    """Call a specific waiting or parked ticket (a parked one is "called back")."""

    def action(unit: Unit) -> TicketInfo:
        window = _window(unit.session, unit.hall_id, window_number)
        _require_open(window)
        close_past_days(unit)
        ticket = find_ticket(unit.session, unit.hall_id, ticket_ref, unit.today)
        if ticket.status not in ("waiting", "parked"):
            raise DomainError(
                f"{ticket.number} 当前状态为{TICKET_STATES.get(ticket.status, (ticket.status,))[0]}，只能呼叫等候中或挂起的号",
                f"{ticket.number} is {ticket.status}: only waiting or parked tickets can be called",
                code="bad_state",
            )
        _finish_in_hand(unit, window)
        event = "ticket.called_back" if ticket.status == "parked" else "ticket.called"
        return _mark_called(unit, ticket, window, event)

    return _command(engine, hall_id, "call.ticket", action, request_id, actor, window=window_number)


def recall(
    engine: Engine,
    hall_id: int,
    window_number: int,
    *,
    actor: str | None,
    request_id: str | None = None,
) -> TicketInfo:
    """Call the ticket in hand again; after the hall's limit of recalls it becomes a no-show."""

    def action(unit: Unit) -> TicketInfo:
        window = _window(unit.session, unit.hall_id, window_number)
        ticket = _require_in_hand(unit.session, window)
        line = unit.session.get(Line, ticket.line_id)
        assert line is not None
        if ticket.status != "called":
            raise DomainError(
                f"{ticket.number} 已在办理中，无需重呼",
                f"{ticket.number} is already being served",
                code="bad_state",
            )
        limit = int(threshold(unit.settings, "recalls_before_no_show"))
        if ticket.recall_count >= limit:
            ticket.status = "no_show"
            ticket.finished_at = unit.now
            unit.emit(
                "ticket.no_show",
                _ticket_payload(ticket, line, window, automatic=True, recalls=ticket.recall_count),
                window_id=window.id,
            )
            return _info(unit.session, ticket, line, tz=unit.timezone)
        ticket.recall_count += 1
        ticket.called_at = unit.now
        unit.emit(
            "ticket.recalled",
            _ticket_payload(
                ticket,
                line,
                window,
                recalls=ticket.recall_count,
                text=call_text(unit.settings, ticket.number, window.number),
            ),
            window_id=window.id,
        )
        return _info(unit.session, ticket, line, tz=unit.timezone)

    return _command(engine, hall_id, "call.recall", action, request_id, actor, window=window_number)


def _in_hand_transition(
    engine: Engine,
    hall_id: int,
    window_number: int,
    command: str,
    allowed: Sequence[str],
    new_status: str,
    event: str,
    *,
    actor: str | None,
    request_id: str | None,
) -> TicketInfo:
    def action(unit: Unit) -> TicketInfo:
        window = _window(unit.session, unit.hall_id, window_number)
        ticket = _require_in_hand(unit.session, window)
        if ticket.status not in allowed:
            raise DomainError(
                f"{ticket.number} 当前为{TICKET_STATES.get(ticket.status, (ticket.status,))[0]}，不能执行此操作",
                f"{ticket.number} is {ticket.status}: cannot {command.split('.')[-1]} it",
                code="bad_state",
            )
        ticket.status = new_status
        if new_status == "serving":
            ticket.started_at = unit.now
        elif new_status in ("done", "no_show"):
            ticket.finished_at = unit.now
        line = unit.session.get(Line, ticket.line_id)
        assert line is not None
        unit.emit(event, _ticket_payload(ticket, line, window), window_id=window.id)
        return _info(unit.session, ticket, line, tz=unit.timezone)

    if _use_fast_path(engine):
        request_id = request_id or _fast_request_id()
        params = _fast_params(engine, hall_id, window_number, actor, request_id, command)
        params.update(command=command, allowed=list(allowed), new_status=new_status, event=event)
        value = _pg_fast(engine, _TRANSITION_SQL, params)
        if value is not _FALLBACK:
            return _decode(value)  # type: ignore[return-value]  # the stored value was this command's TicketInfo
    return _command(engine, hall_id, command, action, request_id, actor, window=window_number)


def start_service(
    engine: Engine,
    hall_id: int,
    window_number: int,
    *,
    actor: str | None,
    request_id: str | None = None,
) -> TicketInfo:
    return _in_hand_transition(
        engine,
        hall_id,
        window_number,
        "call.start",
        ("called",),
        "serving",
        "ticket.started",
        actor=actor,
        request_id=request_id,
    )


def finish(
    engine: Engine,
    hall_id: int,
    window_number: int,
    *,
    actor: str | None,
    request_id: str | None = None,
) -> TicketInfo:
    return _in_hand_transition(
        engine,
        hall_id,
        window_number,
        "call.finish",
        ("serving", "called"),
        "done",
        "ticket.finished",
        actor=actor,
        request_id=request_id,
    )


def no_show(
    engine: Engine,
    hall_id: int,
    window_number: int,
    *,
    actor: str | None,
    request_id: str | None = None,
) -> TicketInfo:
    return _in_hand_transition(
        engine,
        hall_id,
        window_number,
        "call.no_show",
        ("called",),
        "no_show",
        "ticket.no_show",
        actor=actor,
        request_id=request_id,
    )


def park(
    engine: Engine,
    hall_id: int,
    window_number: int,
    *,
    actor: str | None,
    request_id: str | None = None,
) -> TicketInfo:
    """Set the ticket in hand aside (applicant fetching a document); call it back later."""
    return _in_hand_transition(
        engine,
        hall_id,
        window_number,
        "call.park",
        ("called", "serving"),
        "parked",
        "ticket.parked",
        actor=actor,
        request_id=request_id,
    )


def transfer(
    engine: Engine,
    hall_id: int,
    to_line: str,
    *,
    window_number: int | None = None,
    ticket_ref: str | int | None = None,
    reason: str = "",
    actor: str | None,
    request_id: str | None = None,
) -> TicketInfo:
    """Send a ticket to the right line, keeping its place (只设路标，不设路障)."""
    reason = lookup.note(reason, what=("转移原因", "the transfer reason"))

    def action(unit: Unit) -> TicketInfo:
        s = unit.session
        window = None
        if ticket_ref is not None:
            ticket = find_ticket(s, unit.hall_id, ticket_ref, unit.today)
        elif window_number is not None:
            window = _window(s, unit.hall_id, window_number)
            ticket = _require_in_hand(s, window)
        else:
            raise DomainError("请指定窗口或号码", "name the window or the ticket")
        if ticket.status not in ("waiting", "called", "serving", "parked"):
            raise DomainError(
                f"{ticket.number} 已结束（{ticket.status}），不能转移",
                f"{ticket.number} is {ticket.status}: only open tickets can be transferred",
                code="bad_state",
            )
        target = _line(s, unit.hall_id, to_line)
        if not target.is_open:
            raise DomainError(
                f"{target.name} 已暂停，不能转入",
                f"line {target.code} is closed: cannot transfer into it",
                code="line_closed",
            )
        source = s.get(Line, ticket.line_id)
        assert source is not None
        if target.id == source.id and ticket.status == "waiting":
            raise DomainError(
                f"{ticket.number} 已在 {target.name}", f"{ticket.number} is already in line {target.code}"
            )
        ticket.line_id = target.id  # type: ignore[assignment]  # a stored row: the id is set
        ticket.status = "waiting"
        ticket.window_id = None
        ticket.transfer_count += 1
        ticket.eligible_at = min(ticket.eligible_at, unit.now)
        ticket.recall_count = 0
        unit.emit(
            "ticket.transferred",
            _ticket_payload(
                ticket, target, window, from_line=source.code, to_line=target.code, reason=reason
            ),
            window_id=window.id if window else None,
        )
        return _info(s, ticket, target, tz=unit.timezone, with_ahead=True)

    return _command(engine, hall_id, "call.transfer", action, request_id, actor, window=window_number)


def cancel(
    engine: Engine,
    hall_id: int,
    ticket_ref: str | int,
    *,
    reason: str = "",
    actor: str | None,
    request_id: str | None = None,
) -> TicketInfo:
    reason = lookup.note(reason, what=("取消原因", "the cancel reason"))

    def action(unit: Unit) -> TicketInfo:
        ticket = find_ticket(unit.session, unit.hall_id, ticket_ref, unit.today)
        if ticket.status not in ("waiting", "parked"):
            raise DomainError(
                f"{ticket.number} 当前为{TICKET_STATES.get(ticket.status, (ticket.status,))[0]}，只能取消等候中或挂起的号",
                f"{ticket.number} is {ticket.status}: only waiting or parked tickets can be cancelled",
                code="bad_state",
            )
        ticket.status = "cancelled"
        ticket.finished_at = unit.now
        line = unit.session.get(Line, ticket.line_id)
        assert line is not None
        unit.emit("ticket.cancelled", _ticket_payload(ticket, line, reason=reason))
        return _info(unit.session, ticket, line, tz=unit.timezone)

    return _command(engine, hall_id, "ticket.cancel", action, request_id, actor)


def move_forward(
    engine: Engine,
    hall_id: int,
    ticket_ref: str | int,
    *,
    reason: str,
    actor: str | None,
    request_id: str | None = None,
) -> TicketInfo:
    """Manager: put a waiting ticket at the head of its line (reason required, recorded)."""
    reason = lookup.note(reason, what=("提前办理原因", "the reason"))
    if not reason:
        raise DomainError("提前办理需填写原因", "moving a ticket forward needs a reason")

    def action(unit: Unit) -> TicketInfo:
        s = unit.session
        ticket = find_ticket(s, unit.hall_id, ticket_ref, unit.today)
        if ticket.status != "waiting":
            raise DomainError(
                f"{ticket.number} 不在等候中", f"{ticket.number} is not waiting", code="bad_state"
            )
        head = s.execute(
            select(func.min(Ticket.queue_key)).where(
                Ticket.hall_id == unit.hall_id, Ticket.line_id == ticket.line_id, Ticket.status == "waiting"
            )
        ).scalar_one()
        ticket.queue_key = min(ticket.queue_key, float(head) - 1.0)
        line = s.get(Line, ticket.line_id)
        assert line is not None
        unit.emit("ticket.moved_forward", _ticket_payload(ticket, line, reason=reason))
        return _info(s, ticket, line, tz=unit.timezone, with_ahead=True)

    return _command(engine, hall_id, "ticket.move_forward", action, request_id, actor)


# --- windows and lines --------------------------------------------------------------------------


def set_window_status(
    engine: Engine,
    hall_id: int,
    window_number: int,
    status: str,
    *,
    actor: str | None,
    request_id: str | None = None,
) -> dict[str, Any]:
    if status not in WINDOW_STATES:
        raise DomainError(f"窗口状态只能是 {WINDOW_STATES}", f"window status must be one of {WINDOW_STATES}")

    def action(unit: Unit) -> dict[str, Any]:
        window = _window(unit.session, unit.hall_id, window_number)
        if status == "closed" and in_hand(unit.session, window) is not None:
            raise DomainError(
                f"{window.number} 号窗口还有正在办理的号：请先办结、转移或挂起",
                f"window {window.number} still has a ticket in hand: finish, transfer or park it first",
                code="ticket_in_hand",
            )
        window.status = status
        window.status_since = unit.now
        if status == "open":
            forget_old_requests(unit)
        if status != "closed" and unit.staff_id:
            window.staff_id = unit.staff_id
        if status == "closed":
            window.staff_id = None
        unit.emit(
            "window.status",
            {"window": window.number, "status": status, "staff_id": window.staff_id},
            window_id=window.id,
        )
        return {"window": window.number, "status": status}

    return access.run_as(
        engine, hall_id, "window.status", action, actor, request_id=request_id, window=window_number
    )


def set_line_open(
    engine: Engine,
    hall_id: int,
    line_code: str,
    is_open: bool,
    *,
    request_id: str | None = None,
    actor: str | None,
) -> dict[str, Any]:
    def action(unit: Unit) -> dict[str, Any]:
        line = _line(unit.session, unit.hall_id, line_code)
        line.is_open = is_open
        unit.emit("line.status", {"line": line.code, "open": is_open})
        return {"line": line.code, "open": is_open}

    return access.run_as(engine, hall_id, "line.status", action, actor, request_id=request_id)


def set_window_lines(
    engine: Engine,
    hall_id: int,
    window_number: int,
    lines: Sequence[tuple[str, int]],
    *,
    request_id: str | None = None,
    actor: str | None,
) -> dict[str, Any]:
    """Change which lines a window serves, with weights."""
    if not lines:
        raise DomainError("窗口至少要服务一条业务线", "a window must serve at least one line")

    def action(unit: Unit) -> dict[str, Any]:
        s = unit.session
        window = _window(s, unit.hall_id, window_number)
        resolved = [(_line(s, unit.hall_id, code), weight) for code, weight in lines]
        for _, weight in resolved:
            if weight < 1:
                raise DomainError("权重须为正整数", "weights must be positive integers")
        s.execute(WindowLine.__table__.delete().where(WindowLine.window_id == window.id))  # type: ignore[attr-defined]  # SQLModel does not declare __table__
        for line, weight in resolved:
            s.add(WindowLine(hall_id=unit.hall_id, window_id=window.id, line_id=line.id, weight=weight))  # type: ignore[arg-type]  # a stored row: the id is set
        payload = {"window": window.number, "lines": [[line.code, weight] for line, weight in resolved]}
        unit.emit("window.lines", payload, window_id=window.id)
        return payload

    return access.run_as(engine, hall_id, "window.lines", action, actor, request_id=request_id)


def broadcast(
    engine: Engine, hall_id: int, message: str, *, actor: str | None, request_id: str | None = None
) -> dict[str, Any]:
    """A short message for the hall display (empty clears it)."""
    message = lookup.note(message)
    if len(message) > 60:
        raise DomainError("公告请控制在60字以内", "keep the broadcast under 60 characters")

    def action(unit: Unit) -> dict[str, Any]:
        hall = unit.session.get(Hall, unit.hall_id)
        assert hall is not None
        hall.broadcast = message
        hall.broadcast_at = unit.now
        unit.emit("hall.broadcast", {"message": message})
        return {"message": message}

    return access.run_as(engine, hall_id, "hall.broadcast", action, actor, request_id=request_id)


# --- reading the queue --------------------------------------------------------------------------


def queue_status(engine: Engine, hall_id: int) -> dict[str, Any]:
    """Lines (waiting, longest wait, estimated wait, open windows) and windows (status, in hand)."""
    with read_session(engine) as s:
        return queue_status_in(s, hall_id)


@dataclass(frozen=True)
class LineWaiting:
    """What "waiting" means, everywhere: the tickets of the line a window may call now
    (``callable_now``); ``booked`` are the appointments checked in for a slot not begun yet, with
    the earliest of their slots (``next_booked``); ``oldest`` is the earliest issue among the waiting.
    """

    waiting: int = 0
    booked: int = 0
    oldest: datetime | None = None
    next_booked: datetime | None = None

    @property
    def callable_now(self) -> int:
        return self.waiting


def waiting_by_line(
    s: Session, hall_id: int, now: datetime, today: date | None = None
) -> dict[int, LineWaiting]:
    """The one read of the waiting figures per line id, used by the board, the counter and the CLI."""
    if today is None:
        hall = s.get(Hall, hall_id)
        assert hall is not None
        today = local_day(now, hall.timezone)
    ready = callable_now(now, today)
    later = booked_for_later(now, today)
    return {
        line_id: LineWaiting(int(count or 0), int(booked or 0), oldest, first_slot)
        for line_id, count, booked, oldest, first_slot in s.execute(
            select(
                Ticket.line_id,
                func.sum(case((ready, 1), else_=0)),
                func.sum(case((later, 1), else_=0)),
                func.min(case((ready, Ticket.issued_at))),
                func.min(case((later, Ticket.eligible_at))),
            )
            .where(Ticket.hall_id == hall_id, Ticket.status == "waiting", Ticket.service_day == today)
            .group_by(Ticket.line_id)
        )
    }


def next_booked(engine: Engine, hall_id: int, window_number: int) -> dict[str, Any] | None:
    """When a window has nothing to call: the first appointment booked for later in its lines
    (number, slot as local HH:MM), for "下一位：预约 A007 07:00"; None when there is none."""
    with read_session(engine) as s:
        hall = s.get(Hall, hall_id)
        assert hall is not None
        now = db_now(s)
        window = _window(s, hall_id, window_number)
        row = s.execute(
            select(Ticket.number, Ticket.eligible_at, Line.code)
            .join(WindowLine, and_(WindowLine.line_id == Ticket.line_id, WindowLine.window_id == window.id))
            .join(Line, Line.id == Ticket.line_id)
            .where(Ticket.hall_id == hall_id, booked_for_later(now, local_day(now, hall.timezone)))
            .order_by(Ticket.eligible_at, Ticket.queue_key, Ticket.id)
            .limit(1)
        ).first()
        if row is None:
            return None
        return {"number": row[0], "slot": f"{to_local(row[1], hall.timezone):%H:%M}", "line": row[2]}


def nothing_to_call(engine: Engine, hall_id: int, window_number: int) -> tuple[str, str]:
    """Why a call found nobody, in words (zh, en): the next booking, or nobody waiting."""
    nxt = next_booked(engine, hall_id, window_number)
    if nxt is None:
        return "当前没有等候的号", "nobody is waiting"
    return (
        f"当前没有可叫的号。下一位：预约 {nxt['number']} {nxt['slot']}",
        f"nobody can be called now. Next: appointment {nxt['number']} at {nxt['slot']}",
    )


def queue_status_in(s: Session, hall_id: int) -> dict[str, Any]:
    """:func:`queue_status` inside a caller's transaction (the board reads it with its other parts)."""
    hall = s.get(Hall, hall_id)
    if hall is None:
        raise NotFound(f"大厅 #{hall_id} 不存在", f"hall #{hall_id} does not exist")
    now = db_now(s)
    today = local_day(now, hall.timezone)
    day_start = local_midnight_utc(today, hall.timezone)
    lines = (
        s.execute(
            select(Line).where(Line.hall_id == hall_id, Line.active).order_by(Line.sort_order, Line.code)
        )
        .scalars()
        .all()
    )
    waiting = waiting_by_line(s, hall_id, now, today)
    served_today = {
        row[0]: row[1]
        for row in s.execute(
            select(Ticket.line_id, func.count())
            .where(Ticket.hall_id == hall_id, Ticket.status == "done", Ticket.issued_at >= day_start)
            .group_by(Ticket.line_id)
        )
    }
    windows = (
        s.execute(select(Window).where(Window.hall_id == hall_id, Window.active).order_by(Window.number))
        .scalars()
        .all()
    )
    links = s.execute(select(WindowLine).where(WindowLine.hall_id == hall_id)).scalars().all()
    line_code = {line.id: line.code for line in lines}
    window_by_id = {w.id: w for w in windows}
    serves: dict[int, list[str]] = {}
    open_count: dict[int, int] = {}
    for link in links:
        if link.line_id not in line_code:
            continue
        serves.setdefault(link.window_id, []).append(line_code[link.line_id])
        w = window_by_id.get(link.window_id)
        if w is not None and w.status == "open":
            open_count[link.line_id] = open_count.get(link.line_id, 0) + 1
    in_hand = {
        t.window_id: t
        for t in s.execute(
            select(Ticket).where(Ticket.hall_id == hall_id, Ticket.status.in_(IN_HAND))
        ).scalars()
    }
    staff_names = dict(s.execute(select(Staff.id, Staff.name).where(Staff.hall_id == hall_id)).all())
    line_rows = []
    for line in lines:
        figures = waiting.get(line.id, LineWaiting())
        count, oldest = figures.waiting, figures.oldest
        longest = int((now - oldest).total_seconds()) if oldest else 0
        opened = open_count.get(line.id, 0)
        line_rows.append(
            {
                "line": line.code,
                "name": line.name,
                "prefix": line.prefix,
                "open": line.is_open,
                "waiting": int(count),
                "callable_now": figures.callable_now,
                "booked": figures.booked,
                "next_booked": to_local(figures.next_booked, hall.timezone).strftime("%H:%M")
                if figures.next_booked
                else None,
                "longest_wait_s": max(0, longest),
                "estimated_wait_min": estimate_wait_minutes(int(count), line.avg_service_minutes, opened),
                "open_windows": opened,
                "served_today": int(served_today.get(line.id, 0)),
                "target_wait_min": line.target_wait_minutes,
            }
        )
    window_rows = []
    for w in windows:
        t = in_hand.get(w.id)
        window_rows.append(
            {
                "window": w.number,
                "name": w.name,
                "status": w.status,
                "staff": staff_names.get(w.staff_id) if w.staff_id else None,
                "lines": serves.get(w.id, []),
                "ticket": t.number if t else None,
                "ticket_id": t.id if t else None,
                "ticket_status": t.status if t else None,
                "in_hand_s": int((now - (t.called_at or now)).total_seconds()) if t else None,
                "status_since": to_local(w.status_since, hall.timezone).isoformat(timespec="seconds")
                if w.status_since
                else None,
            }
        )
    return {
        "hall": hall.code,
        "name": hall.name,
        "now": to_local(now, hall.timezone).isoformat(timespec="seconds"),
        "service_day": today.isoformat(),
        "lines": line_rows,
        "windows": window_rows,
        "broadcast": hall.broadcast,
    }


def ticket_info(engine: Engine, hall_id: int, ticket_ref: str | int) -> TicketInfo:
    with read_session(engine) as s:
        hall = s.get(Hall, hall_id)
        assert hall is not None
        today = local_day(db_now(s), hall.timezone)
        ticket = find_ticket(s, hall_id, ticket_ref, today)
        return _info(s, ticket, tz=hall.timezone, with_ahead=True)


def window_in_hand(engine: Engine, hall_id: int, window_number: int) -> TicketInfo | None:
    with read_session(engine) as s:
        hall = s.get(Hall, hall_id)
        assert hall is not None
        window = _window(s, hall_id, window_number)
        ticket = in_hand(s, window)
        return _info(s, ticket, tz=hall.timezone) if ticket else None


def waiting_tickets(
    engine: Engine, hall_id: int, *, line_code: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """Waiting and parked tickets in call order per line (for the board)."""
    with read_session(engine) as s:
        return waiting_tickets_in(s, hall_id, line_code=line_code, limit=limit)


def waiting_tickets_in(
    s: Session, hall_id: int, *, line_code: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """:func:`waiting_tickets` inside a caller's transaction."""
    hall = s.get(Hall, hall_id)
    assert hall is not None
    stmt = (
        select(Ticket, Line.code)
        .join(Line, Line.id == Ticket.line_id)
        .where(Ticket.hall_id == hall_id, or_(Ticket.status == "waiting", Ticket.status == "parked"))
        .order_by(Line.sort_order, Ticket.queue_key, Ticket.id)
        .limit(limit)
    )
    if line_code:
        stmt = stmt.where(Line.code == lookup.code(line_code))
    now = db_now(s)
    return [
        {
            "ticket_id": t.id,
            "number": t.number,
            "line": code,
            "kind": t.kind,
            "status": t.status,
            "wait_s": int((now - t.issued_at).total_seconds()),
            "recalls": t.recall_count,
            "transfers": t.transfer_count,
        }
        for t, code in s.execute(stmt).all()
    ]
