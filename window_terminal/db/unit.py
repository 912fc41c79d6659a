"""One state change = one write transaction in one hall, with its events and its idempotency record.

Every command of the domain layer runs through ``run_command``:

1. open a write transaction and take the hall's lock — SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: the
   hall's advisory lock in exclusive mode (the counter functions of migration 0004 hold it shared
   while they run), then the hall row ``FOR UPDATE`` — so this command runs alone in its hall;
2. PostgreSQL: number the events the counter functions committed and have not numbered yet
   (``wt_number_pending``), so that ours follow them;
3. if the request id was seen before, return the stored result (one press or three: one effect);
4. run the command, which appends events through ``Unit.emit``;
5. write the events with their numbers, the new sequence number, the request record and
   (PostgreSQL) ``pg_notify`` in the same transaction, and commit.

Either way a reader that sees event N can already see every event before it (gap-free, in commit
order): numbers are only ever given to committed events or inside the transaction that commits
them, by transactions that follow each other on the hall row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Engine, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from window_terminal.db.clock import db_now, local_day
from window_terminal.db.engine import write_session
from window_terminal.db.models import Event, Hall, RequestLog

NOTIFY_CHANNEL = "wt_events"
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
    device: str | None = None  # a public device acting (kiosk, rating screen): in each event's payload
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def today(self) -> date:
        return local_day(self.now, self.timezone)

    def emit(self, kind: str, payload: dict[str, Any], *, window_id: int | None = None) -> int:
        """Append an event to this transaction; returns its sequence number."""
        self.last_seq += 1
        if self.device is not None:
            payload = {**payload, "device": self.device}
        self.events.append(
            {
                "hall_id": self.hall_id,
                "seq": self.last_seq,
                "kind": kind,
                "payload": payload,
                "staff_id": self.staff_id,
                "window_id": window_id,
                "request_id": self.request_id,
                "created_at": self.now,
            }
        )
        return self.last_seq


def _lock_hall(session: Session, hall_id: int) -> tuple[str, str, dict[str, Any], int]:
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(
            text("SELECT pg_advisory_xact_lock(:key, :hall_id)"), {"key": HALL_LOCK, "hall_id": hall_id}
        )
    stmt = select(Hall.code, Hall.timezone, Hall.settings, Hall.event_seq).where(Hall.id == hall_id)
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
    return row[0], row[1], row[2] or {}, seq


def run_command(
    engine: Engine,
    hall_id: int,
    command: str,
    action: Callable[[Unit], T],
    *,
    request_id: str | None = None,
    staff_id: int | None = None,
    encode: Callable[[T], Any] | None = None,  # the result as JSON, stored for a repeated request
    decode: Callable[[Any], T] | None = None,
) -> T:
    """Run ``action`` as one idempotent, event-appending transaction in ``hall_id``."""
    for attempt in range(3):
        try:
            return _run_once(engine, hall_id, command, action, request_id, staff_id, encode, decode)
        except IntegrityError:
            # Two first-time requests with the same id raced on a database without the hall lock
            # semantics we expect: the loser retries and finds the stored result.
            if request_id is None or attempt == 2:
                raise
    raise AssertionError("unreachable")


def _run_once(
    engine: Engine,
    hall_id: int,
    command: str,
    action: Callable[[Unit], T],
    request_id: str | None,
    staff_id: int | None,
    encode: Callable[[T], Any] | None,
    decode: Callable[[Any], T] | None,
) -> T:
    with write_session(engine) as session:
        code, tz, settings, seq = _lock_hall(session, hall_id)
        if request_id is not None:
            stored = session.execute(
                select(RequestLog.result).where(
                    RequestLog.hall_id == hall_id, RequestLog.request_id == request_id
                )
            ).scalar_one_or_none()
            if stored is not None:
                value = stored.get("value")
                return decode(value) if decode else cast(T, value)  # stored by this command's encode
        unit = Unit(session, hall_id, code, tz, settings, db_now(session), seq, staff_id, request_id)
        result = action(unit)
        if unit.events:
            session.execute(insert(Event), unit.events)
            if session.get_bind().dialect.name == "postgresql":
                # One round trip for the new sequence number and the wake-up (sent at commit).
                session.execute(
                    text(
                        "UPDATE hall SET event_seq = :seq WHERE id = :hall_id RETURNING pg_notify(:channel, :payload)"
                    ),
                    {
                        "seq": unit.last_seq,
                        "hall_id": hall_id,
                        "channel": NOTIFY_CHANNEL,
                        "payload": f"{hall_id}:{unit.last_seq}",
                    },
                )
            else:
                session.execute(update(Hall).where(Hall.id == hall_id).values(event_seq=unit.last_seq))
        if request_id is not None:
            session.execute(
                insert(RequestLog).values(
                    hall_id=hall_id,
                    request_id=request_id,
                    command=command,
                    result={"value": encode(result) if encode else result},
                    created_at=unit.now,
                )
            )
        return result


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
