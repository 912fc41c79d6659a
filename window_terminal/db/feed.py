"""The feed: follow a hall's events from a cursor, exactly once and in order.

    feed = Feed(engine, hall_id, after=last_seen)
    while True:
        for event in feed.poll(timeout=5):   # blocks until something happens (or timeout)
            apply(event)                     # feed.cursor is now event.seq

Wake-up: PostgreSQL ``LISTEN wt_events`` on a dedicated connection (the notify is sent inside the
writing transaction, so it arrives after the commit); SQLite: ``PRAGMA data_version`` on a dedicated
connection, a cheap check that changes only when another connection commits. Either way, the events
themselves are always read from the table by sequence number, so a lost notification or a dropped
connection costs latency, never an event: after reconnecting, the feed catches up from its cursor.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from window_terminal.db import links
from window_terminal.db.engine import DatabaseError, conninfo, read_session
from window_terminal.db.models import Event
from window_terminal.db.retry import configuration_problem, reconnect_delay
from window_terminal.db.unit import NOTIFY_CHANNEL

SQLITE_POLL_SECONDS = 0.02


def cursor(session: Session, hall_id: int) -> int:
    """The feed cursor of the transaction's snapshot: the last event a reader can see.

    A screen that loads its view in ``session`` and then follows the feed from this number neither
    misses an event nor applies one twice. The one definition of "where the feed is".
    """
    last = session.execute(
        select(func.coalesce(func.max(Event.seq), 0)).where(Event.hall_id == hall_id)
    ).scalar_one()
    return int(last or 0)


def current_cursor(engine: Engine, hall_id: int) -> int:
    """:func:`cursor` in a read of its own: where a screen starts following after its first load."""
    with read_session(engine) as session:
        return cursor(session, hall_id)


@dataclass(frozen=True)
class FeedEvent:
    hall_id: int
    seq: int
    kind: str
    payload: dict[str, Any]
    staff_id: int | None
    window_id: int | None
    created_at: datetime
    event_id: int = 0  # the row's id; it identifies an event a snapshot held before it was numbered
    device: str | None = None  # the public device that acted (kiosk, rating screen), if no staff member


@dataclass(frozen=True)
class Position:
    """Where a snapshot stands in the feed: the events it already holds.

    That is every event numbered up to ``seq``, and ``held``: the ids of events committed but not
    yet numbered when the snapshot was taken (PostgreSQL's counter fast path numbers its events just
    after its commit, see migration 0004). Those arrive later, with a number above ``seq``; a reader
    that applied the snapshot must skip them, or it counts them twice. On SQLite ``held`` is empty.
    """

    seq: int = 0
    held: frozenset[int] = frozenset()

    def holds(self, event: FeedEvent) -> bool:
        """Whether ``event`` is already in the snapshot: the one rule for "apply or skip"."""
        return event.seq <= self.seq or event.event_id in self.held

    def past(self, *events: FeedEvent) -> Position:
        """The position once ``events`` have been read (applied or skipped)."""
        if not events:
            return self
        held = self.held.difference(e.event_id for e in events) if self.held else self.held
        return Position(max(self.seq, *(e.seq for e in events)), held)


def position(session: Session, hall_id: int) -> Position:
    """The feed position of the transaction's snapshot (see :class:`Position`)."""
    held = session.execute(select(Event.id).where(Event.hall_id == hall_id, Event.seq.is_(None))).scalars()
    return Position(cursor(session, hall_id), frozenset(int(i) for i in held if i is not None))


class FeedUnavailable(Exception):
    """The database cannot be reached right now; the feed keeps its cursor and retries."""


class FeedRefused(FeedUnavailable, DatabaseError):
    """The database answers but refuses the feed (a permission, password or set-up error): waiting
    will not fix it, so a screen names ``problem`` and stops retrying instead of "reconnecting" for
    ever."""

    def __init__(self, problem: str, cause: str) -> None:
        super().__init__(f"{problem}: {cause}")
        self.problem = problem


def _unavailable(exc: BaseException) -> FeedUnavailable:
    problem = configuration_problem(exc)
    return FeedRefused(problem, str(exc).strip()) if problem else FeedUnavailable(str(exc))


class Feed:
    def __init__(self, engine: Engine, hall_id: int, *, after: int | Position = 0, batch: int = 1000) -> None:
        self.engine = engine
        self.hall_id = hall_id
        self.position = after if isinstance(after, Position) else Position(after)
        self.batch = batch
        self._waker: _Waker = (
            _PostgresWaker(engine, hall_id) if engine.dialect.name == "postgresql" else _SqliteWaker(engine)
        )
        self.connected = True

    @property
    def cursor(self) -> int:
        """The last sequence number read."""
        return self.position.seq

    # -- reading ---------------------------------------------------------------------------------

    def fetch(self) -> list[FeedEvent]:
        """Events after the position (at most ``batch`` read), advancing it past them.

        Events the starting snapshot already held (:class:`Position`) are read and skipped.
        """
        try:
            with links.deadline(links.FEED_DEADLINE_S), read_session(self.engine) as session:
                rows = session.execute(
                    select(
                        Event.hall_id,
                        Event.seq,
                        Event.kind,
                        Event.payload,
                        Event.staff_id,
                        Event.window_id,
                        Event.created_at,
                        Event.id,
                        Event.device,
                    )
                    .where(Event.hall_id == self.hall_id, Event.seq > self.position.seq)
                    .order_by(Event.seq)
                    .limit(self.batch)
                ).all()
        except Exception as exc:  # connection refused, server restarted, file gone, dead link …
            self.connected = False
            raise _unavailable(exc) from exc
        self.connected = True
        read = [FeedEvent(*row) for row in rows]
        events = [event for event in read if not self.position.holds(event)]
        self.position = self.position.past(*read)
        return events

    def poll(self, timeout: float = 5.0) -> list[FeedEvent]:
        """New events, waiting up to ``timeout`` seconds for something to happen."""
        events = self.fetch()
        if events:
            return events
        try:
            self._waker.wait(timeout)
        except Exception as exc:
            self._waker.reset()
            self.connected = False
            raise _unavailable(exc) from exc
        events = self.fetch()
        if not events and self.engine.dialect.name == "postgresql":
            # Events a counter committed but whose numbering session died in that instant stay
            # unnumbered until the next command in the hall; a quiet hall's feed numbers them.
            self._number_stragglers()
            events = self.fetch()
        return events

    def _number_stragglers(self) -> None:
        """Number what is left unnumbered (with nothing pending, ``wt_sequence`` only reads)."""
        try:
            with (
                links.deadline(links.FEED_DEADLINE_S),
                self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn,
            ):
                conn.execute(text("SELECT wt_sequence(:hall_id)"), {"hall_id": self.hall_id})
        except Exception as exc:
            self.connected = False
            raise _unavailable(exc) from exc

    def follow(self, *, timeout: float | None = None, idle: float = 5.0) -> Iterator[FeedEvent]:
        """Yield events forever (or until ``timeout`` seconds pass), reconnecting after failures."""
        deadline = None if timeout is None else time.monotonic() + timeout
        failures = 0
        while deadline is None or time.monotonic() < deadline:
            wait = idle if deadline is None else max(0.0, min(idle, deadline - time.monotonic()))
            try:
                events = self.poll(wait)
                failures = 0
            except FeedRefused:
                raise
            except FeedUnavailable:
                time.sleep(reconnect_delay(failures))  # the one backoff rule (db/retry.py)
                failures += 1
                continue
            yield from events

    def close(self) -> None:
        self._waker.close()


class _Waker:
    def wait(self, timeout: float) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def reset(self) -> None:
        self.close()

    def close(self) -> None:
        pass


class _PostgresWaker(_Waker):
    """LISTEN on a connection of its own, with a watchdog: a LISTEN connection that hears nothing
    cannot tell a quiet hall from a dead link, so after ``links.HEARTBEAT_S`` of silence it asks the
    server ``SELECT 1`` within ``links.FEED_DEADLINE_S``; no answer → the link is cut and the feed
    reconnects (LISTEN again, then catch up from its cursor). A failover is the same: the new
    connection finds the new primary (``target_session_attrs=read-write``)."""

    def __init__(self, engine: Engine, hall_id: int) -> None:
        self.dsn = conninfo(engine)
        self.conn: Any = None
        self.heard = 0.0  # monotonic time the server last answered
        # the notification's payload is "hall_id:seq": wake for this hall only (a city's halls
        # share one server and one channel; every display waking for every hall's call would
        # multiply the reads by the number of halls)
        self.mine = f"{hall_id}:"

    def _connect(self) -> Any:
        if self.dsn in links.POOLED:
            from window_terminal.db.engine import DatabaseError

            raise DatabaseError(
                "LISTEN cannot pass through PgBouncer in transaction mode: screens and the TV server follow "
                "the hall on a direct URL, without ?pgbouncer=true (docs/scaling.md) "
                "(实时更新不能经过事务模式的 PgBouncer：请给屏幕直连数据库的地址)"
            )
        conn = links.connect(
            self.dsn, autocommit=True, deadline=links.FEED_DEADLINE_S, application_name="window-terminal-feed"
        )
        conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        return conn

    def wait(self, timeout: float) -> None:
        if self.conn is None or self.conn.closed:
            # Freshly listening: anything committed before LISTEN was missed as a notification,
            # so return at once and let the caller fetch from its cursor.
            self.conn = self._connect()
            self.heard = time.monotonic()
            return
        if time.monotonic() - self.heard >= links.HEARTBEAT_S:
            self.conn.execute("SELECT 1")  # the watchdog: cut after FEED_DEADLINE_S on a dead link
            self.heard = time.monotonic()
        end = time.monotonic() + min(timeout, links.HEARTBEAT_S)
        while (left := end - time.monotonic()) > 0:
            woken = False
            for note in self.conn.notifies(timeout=left, stop_after=1):
                self.heard = time.monotonic()
                woken = note.payload.startswith(self.mine)
            if woken:
                break
        # Drain whatever else already arrived, without blocking.
        for _ in self.conn.notifies(timeout=0):
            pass

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            finally:
                self.conn = None


class _SqliteWaker(_Waker):
    def __init__(self, engine: Engine) -> None:
        self.path = engine.url.database or ""
        self.conn: sqlite3.Connection | None = None
        self.version: int | None = None

    def wait(self, timeout: float) -> None:
        if self.conn is None:
            # Baseline taken now; whatever committed before it is fetched by the caller next.
            self.conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            self.version = self._data_version()
            return
        deadline = time.monotonic() + timeout
        while True:
            version = self._data_version()
            if version != self.version:
                self.version = version
                return
            if time.monotonic() >= deadline:
                return
            time.sleep(SQLITE_POLL_SECONDS)

    def _data_version(self) -> int:
        assert self.conn is not None
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
