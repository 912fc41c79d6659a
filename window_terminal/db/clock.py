"""The database clock: every timestamp comes from the database server, never from a counter PC.

Tests and the demo generator may shift the clock with ``set_offset`` (or ``WT_TEST_CLOCK_OFFSET``,
in seconds, for other processes); the base is still the database's time.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

_offset = timedelta(0)


def set_offset(offset: timedelta) -> None:
    global _offset
    _offset = offset


def get_offset() -> timedelta:
    env = os.environ.get("WT_TEST_CLOCK_OFFSET")
    return _offset + (timedelta(seconds=float(env)) if env else timedelta(0))


def db_now(session: Session) -> datetime:
    """The database's current time as naive UTC."""
    asked = time.time()
    if session.get_bind().dialect.name == "postgresql":
        value: datetime = session.execute(text("SELECT clock_timestamp() AT TIME ZONE 'UTC'")).scalar_one()
    else:
        raw = session.execute(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")).scalar_one()
        value = datetime.fromisoformat(raw)
    _observe(epoch_seconds(value), asked, time.time())
    return value + get_offset()


# --- this PC's reading of the server's clock -------------------------------------------------------
# A command's deadline is set in the server's time (db/unit.py ``expiring_request_id``), so a PC must
# know the server's clock without asking it at the moment of a key press (the link may be dead then).
# Every reading of the database clock is also an observation: the server's time against this PC's,
# within half the round trip. The best recent one is kept.

_observed: tuple[float, float, float] | None = None  # (server − PC seconds, ± error, when: PC time)
OBSERVATION_KEEP_S = 600.0  # a tighter observation older than this gives way to a looser new one


def _observe(server: float, asked: float, answered: float) -> None:
    global _observed
    error = max(answered - asked, 0.0) / 2
    offset = server - (asked + answered) / 2
    if _observed is None or error <= _observed[1] or answered - _observed[2] > OBSERVATION_KEEP_S:
        _observed = (offset, error, answered)


def server_clock() -> tuple[float, float] | None:
    """(the server's time now as UTC epoch seconds, ± error), from the best recent observation; None
    before this process has read the database clock once. The real server time: no test offset."""
    if _observed is None:
        return None
    offset, error, _ = _observed
    return time.time() + offset, error


@lru_cache(maxsize=16)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def to_local(moment: datetime, tz: str) -> datetime:
    """Naive UTC → aware local time of the hall."""
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone(tz))


def epoch_seconds(moment: datetime) -> float:
    """Naive UTC (the database clock's reading) → the true instant as UTC epoch seconds.

    The home of the queue key's time and of every waiting-time score. Never ``moment.timestamp()``
    on a naive datetime: Python reads it as the PC's local time, so two PCs in different time zones
    would put the same instant hours apart. Exact to the microsecond, the same float PostgreSQL's
    ``extract(epoch FROM timestamp)::double precision`` gives (the PL/pgSQL call-next relies on it).
    """
    return moment.replace(tzinfo=UTC).timestamp()


def local_day(moment: datetime, tz: str) -> date:
    return to_local(moment, tz).date()


def local_midnight_utc(day: date, tz: str) -> datetime:
    """The UTC instant (naive) at which the hall's local ``day`` begins."""
    start = datetime(day.year, day.month, day.day, tzinfo=zone(tz))
    return start.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
