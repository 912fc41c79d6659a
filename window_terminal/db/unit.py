"""One state change = one write transaction in one hall, with its events and its idempotency record.

Every command of the domain layer runs through ``run_command``:

1. open a write transaction and take the hall's lock — SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: the
   hall's advisory lock in exclusive mode (the counter functions of migration 0004 hold it shared
   while they run), then the hall row ``FOR UPDATE`` — so this command runs alone in its hall;
2. PostgreSQL: number the events the counter functions committed and have not numbered yet
   (``wt_number_pending``), so that ours follow them;
3. if the request id was seen before, return the stored result (one press or three: one effect) —
   if it was seen with this command at this window; any other use of it is refused;
4. run the command, which appends events through ``Unit.emit``;
5. write the events with their numbers and hashes (each chained to the one before: ``db.chain``),
   the new sequence number, the request record and (PostgreSQL) ``pg_notify`` in the same
   transaction, and commit. SQLite: numbered and hashed here; PostgreSQL: inserted pending and
   numbered and hashed at once by ``wt_number_pending``, the one place the server does it (for the
   counters' fast path too), so the chain follows the log's order whichever path wrote an event.

Either way a reader that sees event N can already see every event before it (gap-free, in commit
order): numbers are only ever given to committed events or inside the transaction that commits
them, by transactions that follow each other on the hall row.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Engine, Text, bindparam, delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session

from window_terminal.db.chain import event_hash, payload_text
from window_terminal.db.clock import db_now, epoch_seconds, get_offset, local_day, server_clock
from window_terminal.db.engine import write_session
from window_terminal.db.models import Event, Hall, RequestLog

NOTIFY_CHANNEL = "wt_events"
# The actor of what no person does (the close of day): recorded in an event's ``device`` column with
# no staff member, and shown as the system by the audit and the hall view.
SYSTEM = "system"
HALL_LOCK = 30580  # advisory lock key (first half): see migration 0004
# A request id guards against a double press or a retry after a timeout: seconds to minutes. Its
# stored result is kept this long, then forgotten (see forget_old_requests).
REQUEST_ID_KEEP = timedelta(days=2)
T = TypeVar("T")


@dataclass
class Unit:
    session: Session
    hall_id: int
    hall_code: str
    timezone: str
    settings: dict[str, Any]
    now: datetime
    last_seq: int
    staff_id: int | None = None
    request_id: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    device: str | None = None  # the public device acting (kiosk, display, rating), when no staff member

    @property
    def today(self) -> date:
        return local_day(self.now, self.timezone)

    def emit(
        self, kind: str, payload: dict[str, Any], *, window_id: int | None = None, by_system: bool = False
    ) -> int:
        """Append an event to this transaction; returns its sequence number. ``by_system``: the
        system acts (``SYSTEM``), not the command's actor (the close of day inside a kiosk's take)."""
        self.last_seq += 1
        self.events.append(
            {
                "hall_id": self.hall_id,
                "seq": self.last_seq,
                "kind": kind,
                "payload": payload,
                "staff_id": None if by_system else self.staff_id,
                "device": SYSTEM if by_system else self.device,
                "window_id": window_id,
                "request_id": self.request_id,
                "created_at": self.now,
            }
        )
        return self.last_seq


def _lock_hall(session: Session, hall_id: int) -> tuple[str, str, dict[str, Any], int, str]:
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(
            text("SELECT pg_advisory_xact_lock(:key, :hall_id)"), {"key": HALL_LOCK, "hall_id": hall_id}
        )
    stmt = select(Hall.code, Hall.timezone, Hall.settings, Hall.event_seq, Hall.event_hash).where(
        Hall.id == hall_id
    )
    if postgres:
        stmt = stmt.with_for_update()
    row = session.execute(stmt).one_or_none()
    if row is None:
        from window_terminal.errors import NotFound

        raise NotFound(f"大厅 #{hall_id} 不存在", f"hall #{hall_id} does not exist")
    seq = int(row[3] or 0)
    if postgres:
        seq = int(
            session.execute(text("SELECT wt_number_pending(:hall_id)"), {"hall_id": hall_id}).scalar_one()
        )
    return row[0], row[1], row[2] or {}, seq, row[4] or ""


def run_command(
    engine: Engine,
    hall_id: int,
    command: str,
    action: Callable[[Unit], T],
    *,
    request_id: str | None = None,
    staff_id: int | None = None,
    device: str | None = None,
    window: int | None = None,  # the number of the window the command acts at, if any
    encode: Callable[[T], Any] | None = None,  # the result as JSON, stored for a repeated request
    decode: Callable[[Any], T] | None = None,
) -> T:
    """Run ``action`` as one idempotent, event-appending transaction in ``hall_id``.

    ``request_id`` is bound to ``command`` and ``window``: repeating it repeats nothing and returns
    the first result; using it for another command or window raises ``DomainError``."""
    request = _Request(request_id, command, window) if request_id is not None else None
    for attempt in range(3):
        try:
            return _run_once(engine, hall_id, command, action, request, staff_id, device, encode, decode)
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == LATE_SQLSTATE:
                raise late() from exc
            if not isinstance(exc, IntegrityError):
                raise
            # Two first-time requests with the same id raced on a database without the hall lock
            # semantics we expect: the loser retries and finds the stored result.
            if request is None or attempt == 2:
                raise
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class _Request:
    """A request id and what it was given for."""

    request_id: str
    command: str
    window: int | None


def request_reused(
    request_id: str, stored: tuple[str, int | None], wanted: tuple[str, int | None]
) -> Exception:
    """The refusal of a request id used before for another command or window (both paths say this)."""
    from window_terminal.errors import DomainError

    def at(command: str, window: int | None, lang: str) -> str:
        if window is None:
            return command
        return f"{command}（{window}号窗口）" if lang == "zh" else f"{command} at window {window}"

    return DomainError(
        f"请求编号 {request_id} 已用于 {at(*stored, 'zh')}，不能再用于 {at(*wanted, 'zh')}："
        "每个新操作请使用新的请求编号（重复同一操作时才沿用原编号）",
        f"request id {request_id} was already used for {at(*stored, 'en')}; it cannot be used for "
        f"{at(*wanted, 'en')}: give every new command a new request id (repeat an id only to repeat "
        "the same command)",
        code="request_reused",
    )


# --- nothing runs late ----------------------------------------------------------------------------
# A key press caught in a dead link is retried with its request id for a while (screens/work.py), then
# the clerk is told "not confirmed". A link that comes back later — a middlebox, a proxy or a pooler
# that held the bytes — must not run it then, with nobody at the counter expecting it. So such a
# request id carries its deadline in the server's time, ``<id>@<epoch ms>``, and the server refuses to
# commit any event of it after that instant: PostgreSQL in a deferred trigger at COMMIT itself
# (migration 0013: however late the bytes arrive, and behind PgBouncer too), SQLite here before its
# commit (a local file: nothing holds its bytes). An id without a deadline (the CLI's) is not bounded.

LATE_SQLSTATE = "WT408"
_DEADLINE = re.compile(r"@(\d{10,16})$")


def expiring_request_id(seconds: float) -> str:
    """A new request id that the server runs within ``seconds`` of now (by the server's clock, as this
    PC last read it: db/clock.py ``server_clock``) or never."""
    now = server_clock()
    base = now[0] if now is not None else time.time()  # never read yet: this PC's clock
    return f"{uuid.uuid4().hex}@{int((base + seconds) * 1000)}"


def deadline_of(request_id: str | None) -> float | None:
    """The server time (UTC epoch seconds) after which ``request_id`` never runs; None: unbounded."""
    found = _DEADLINE.search(request_id or "")
    return int(found.group(1)) / 1000 if found else None


def late() -> Exception:
    from window_terminal.errors import DomainError

    return DomainError(
        "该操作到达数据库时已超过时限（连接中断太久），没有办理：请重新操作",
        "this action reached the database after its time limit (the connection was down too long) and "
        "was not done: do it again",
        code="late",
    )


def refuse_if_late(request_id: str | None, server_now: float) -> None:
    deadline = deadline_of(request_id)
    if deadline is not None and server_now > deadline:
        raise late()


def _stored_result(session: Session, hall_id: int, request: _Request) -> tuple[bool, Any]:
    """(True, stored value) when this request was answered before; refuses another command's id."""
    row = session.execute(
        select(RequestLog.command, RequestLog.window_number, RequestLog.result).where(
            RequestLog.hall_id == hall_id, RequestLog.request_id == request.request_id
        )
    ).one_or_none()
    if row is None:
        return False, None
    if (row[0], row[1]) != (request.command, request.window):
        raise request_reused(request.request_id, (row[0], row[1]), (request.command, request.window))
    return True, (row[2] or {}).get("value")


def _run_once(
    engine: Engine,
    hall_id: int,
    command: str,
    action: Callable[[Unit], T],
    request: _Request | None,
    staff_id: int | None,
    device: str | None,
    encode: Callable[[T], Any] | None,
    decode: Callable[[Any], T] | None,
) -> T:
    with write_session(engine) as session:
        code, tz, settings, seq, head = _lock_hall(session, hall_id)
        request_id = request.request_id if request is not None else None
        if request is not None:
            answered, value = _stored_result(session, hall_id, request)
            if answered:
                return decode(value) if decode else cast(T, value)  # stored by this command's encode
        unit = Unit(session, hall_id, code, tz, settings, db_now(session), seq, staff_id, request_id)
        unit.device = device
        result = action(unit)
        postgres = session.get_bind().dialect.name == "postgresql"
        if unit.events:
            if postgres:
                _append_pending(session, hall_id, unit)
            else:
                _append_chained(session, hall_id, unit, head)
        if request is not None:
            session.execute(
                insert(RequestLog).values(
                    hall_id=hall_id,
                    request_id=request.request_id,
                    command=command,
                    window_number=request.window,
                    result={"value": encode(result) if encode else result},
                    created_at=unit.now,
                )
            )
            if not postgres:  # PostgreSQL checks at its commit (migration 0013's trigger)
                refuse_if_late(request.request_id, epoch_seconds(unit.now - get_offset()))
        return result


def _append_chained(session: Session, hall_id: int, unit: Unit, head: str) -> None:
    """SQLite: write the events numbered and hashed, each over the stored text of its payload."""
    rows = []
    for event in unit.events:
        stored = payload_text(event["payload"])
        head = event_hash(
            hall_id=hall_id,
            seq=event["seq"],
            kind=event["kind"],
            payload=stored,
            staff_id=event["staff_id"],
            device=event["device"],
            window_id=event["window_id"],
            request_id=event["request_id"],
            created_at=event["created_at"],
            prev=head,
        )
        row = {k: v for k, v in event.items() if k != "payload"}
        rows.append({**row, "payload_text": stored, "hash": head})
    # the payload goes in as the very text that was hashed (not re-serialized by the JSON type)
    session.execute(insert(Event).values(payload=bindparam("payload_text", type_=Text)), rows)
    session.execute(update(Hall).where(Hall.id == hall_id).values(event_seq=unit.last_seq, event_hash=head))


def _append_pending(session: Session, hall_id: int, unit: Unit) -> None:
    """PostgreSQL: insert the events pending and let ``wt_number_pending`` number and chain them
    (one round trip, as the sequence update was: it also moves the hall's counter and sends the
    wake-up, at commit). Nothing else is pending: the hall is ours alone since ``_lock_hall``."""
    session.execute(insert(Event), [{**event, "seq": None} for event in unit.events])
    numbered = session.execute(text("SELECT wt_number_pending(:hall_id)"), {"hall_id": hall_id}).scalar_one()
    if int(numbered) != unit.last_seq:
        raise AssertionError(f"events numbered up to {numbered}, expected {unit.last_seq}")


def forget_old_requests(unit: Unit) -> int:
    """Drop the hall's stored request results older than ``REQUEST_ID_KEEP``; how many went.

    Run by a command that happens a few times a day (a window opening), so the request log holds
    about two days of counter work instead of growing with every command for ever."""
    gone: CursorResult[Any] = unit.session.execute(  # type: ignore[assignment]  # a DELETE's result is a CursorResult
        delete(RequestLog).where(
            RequestLog.hall_id == unit.hall_id, RequestLog.created_at < unit.now - REQUEST_ID_KEEP
        )
    )
    return int(gone.rowcount or 0)
