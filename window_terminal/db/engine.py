"""Engines and sessions for SQLite (embedded default) and PostgreSQL (shared hall database).

Write transactions are serialized per hall: on SQLite by ``BEGIN IMMEDIATE`` with a busy timeout,
on PostgreSQL by the hall's advisory lock (see ``db.unit``) — except the counters' calls, which run
side by side, one caller per line (migration 0004). Read transactions never block writers.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

SQLITE_BUSY_TIMEOUT_MS = 30_000


class DatabaseError(Exception):
    """The database cannot be used as asked; the message names the problem and the fix."""


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    """Create an engine; for SQLite also create the file's folder and set WAL + busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:  # sqlite3.Connection
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            if conn.get_execution_options().get("wt_write"):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql("BEGIN")

        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(
            url,
            pool_size=pool_size,
            max_overflow=10,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 5, "application_name": "window-terminal"},
        )
    raise DatabaseError(f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://USER@HOST/DB")


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@contextmanager
def snapshot_session(engine: Engine) -> Iterator[Session]:
    """One read transaction in which every statement sees the same instant.

    PostgreSQL: REPEATABLE READ (READ COMMITTED would give each statement its own snapshot);
    SQLite: one ``BEGIN`` … in WAL mode the snapshot is taken at the first read and kept.
    Use it where several queries answer one question (the board's view), so a commit landing
    between them is either wholly in the answer or wholly after it.
    """
    bind = engine if is_sqlite(engine) else engine.execution_options(isolation_level="REPEATABLE READ")
    with Session(bind, expire_on_commit=False) as session:
        with session.begin():
            yield session


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session whose transaction is a write transaction (SQLite: BEGIN IMMEDIATE); commits on exit."""
    bind = engine.execution_options(wt_write=True) if is_sqlite(engine) else engine
    with Session(bind, expire_on_commit=False) as session:
        with session.begin():
            yield session


# --- the counters' direct connections (PostgreSQL) ------------------------------------------------
# The hot counter commands (queueing's PostgreSQL fast path) are one procedure call each. They go
# straight to psycopg connections kept here, in autocommit, without the pool's liveness ping (a
# round trip per command) or the ORM: a broken connection is dropped when a call fails, and the
# caller falls back to the Python path, which uses the pool.

_DIRECT_IDLE_MIN = 4  # idle connections kept: at least this many, or as many as the engine's pool
_direct: weakref.WeakKeyDictionary[Engine, _DirectConnections] = weakref.WeakKeyDictionary()
_direct_lock = threading.Lock()


class _DirectConnections:
    def __init__(self, engine: Engine) -> None:
        self.dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.idle: list[Any] = []
        self.keep = max(_DIRECT_IDLE_MIN, engine.pool.size() if hasattr(engine.pool, "size") else 0)
        self.lock = threading.Lock()
        self.pid = os.getpid()

    def take(self) -> Any:
        with self.lock:
            if self.pid != os.getpid():  # a forked child must not share its parent's sockets
                self.idle, self.pid = [], os.getpid()
            if self.idle:
                return self.idle.pop()
        import psycopg

        return psycopg.connect(
            self.dsn, autocommit=True, connect_timeout=5, application_name="window-terminal"
        )

    def give_back(self, conn: Any) -> None:
        with self.lock:
            if not conn.closed and conn.info.transaction_status == 0 and len(self.idle) < self.keep:
                self.idle.append(conn)
                return
        conn.close()

    def close_all(self) -> None:
        with self.lock:
            idle, self.idle = self.idle, []
        for conn in idle:
            conn.close()


@contextmanager
def direct_connection(engine: Engine) -> Iterator[Any]:
    """A psycopg connection in autocommit for one call (PostgreSQL engines only).

    Raises ``psycopg.Error`` when it cannot connect. Afterwards the connection is kept for the next
    call if it is still usable (a refused call leaves it idle), closed if it broke.
    """
    with _direct_lock:
        pool = _direct.get(engine)
        if pool is None:
            pool = _direct[engine] = _DirectConnections(engine)
            event.listen(engine, "engine_disposed", lambda _engine: pool.close_all())
    conn = pool.take()
    try:
        yield conn
    finally:
        pool.give_back(conn)
