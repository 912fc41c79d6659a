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
from sqlalchemy.engine import URL, make_url
from sqlmodel import Session

from window_terminal.db import links

SQLITE_BUSY_TIMEOUT_MS = 30_000


class DatabaseError(Exception):
    """The database cannot be used as asked; the message names the problem and the fix."""


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


_conninfo: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def parse_url(url: str | URL) -> URL:
    """The SQLAlchemy URL of ``url``; a multi-host PostgreSQL URL with ports (``db1:5432,db2:5433``,
    which SQLAlchemy cannot read) becomes its ``?host=db1:5432&host=db2:5433`` form."""
    if isinstance(url, URL):
        return url
    try:
        return make_url(url)
    except ValueError:
        scheme, _, rest = url.partition("://")
        if not scheme.startswith("postgres") or "," not in rest.split("/", 1)[0]:
            raise
    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict("postgresql://" + rest)
    hosts = str(parts.pop("host", "")).split(",")
    ports = str(parts.pop("port", "")).split(",")
    ports = ports if len(ports) == len(hosts) else ports[:1] * len(hosts)
    query: dict[str, Any] = {k: str(v) for k, v in parts.items() if k not in ("user", "password", "dbname")}
    query["host"] = tuple(f"{h}:{p}" if p else h for h, p in zip(hosts, ports, strict=True))
    return URL.create(
        "postgresql+psycopg",
        username=str(parts["user"]) if "user" in parts else None,
        password=str(parts["password"]) if "password" in parts else None,
        database=str(parts["dbname"]) if "dbname" in parts else None,
        query=query,
    )


def conninfo(url: Engine | URL | str, **extra: Any) -> str:
    """The libpq connection string of an engine or URL (several hosts kept as libpq lists).

    ``?pgbouncer=true`` (the URL leads to PgBouncer in transaction mode) is not libpq's: it is taken
    out, and the string is marked for ``links.connect``, which then asks for nothing a transaction
    pooler cannot carry across transactions (see links.py)."""
    if isinstance(url, Engine):
        known = _conninfo.get(url)
        if known is not None:
            return known
        url = url.url
    from psycopg.conninfo import make_conninfo

    parsed = parse_url(url)
    params: dict[str, Any] = {}
    hosts: list[str] = []
    ports: list[str] = []
    if parsed.host:
        hosts.append(parsed.host)
        ports.append(str(parsed.port or ""))
    pooled = False
    for name, value in parsed.query.items():
        if name == "pgbouncer":  # ours, not libpq's: the URL leads to PgBouncer in transaction mode
            pooled = str(value if isinstance(value, str) else value[-1]).lower() in ("1", "true", "yes")
            continue
        if name != "host":
            params[name] = value if isinstance(value, str) else value[-1]
            continue
        for item in (value,) if isinstance(value, str) else value:
            host, _, port = item.partition(":")
            hosts.append(host)
            ports.append(port)
    if hosts:
        params["host"] = ",".join(hosts)
        if any(ports):
            params["port"] = ",".join(p or "5432" for p in ports)
    if parsed.username:
        params["user"] = parsed.username
    if parsed.password:
        params["password"] = parsed.password
    if parsed.database:
        params["dbname"] = parsed.database
    dsn: str = make_conninfo("", **{**params, **extra})
    if pooled:
        links.POOLED.add(dsn)
    return dsn


def _private_file(path: Path) -> None:
    """The hall's SQLite file holds citizens' data: readable by this OS user only (SQLite gives its
    -wal and -shm files the same mode). Created so; an existing one of ours that is looser is tightened."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        info = path.stat()
        if info.st_uid == os.geteuid() and info.st_mode & 0o077:
            os.chmod(path, info.st_mode & 0o700)


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    """Create an engine; for SQLite also create the file's folder and set WAL + busy timeout.

    PostgreSQL: the URL may name several hosts (``postgresql://db1,db2/wt?target_session_attrs=
    read-write``, ports allowed: ``db1:5432,db2:5433``); libpq tries them in turn and keeps the one
    that accepts writes, so after a failover new connections find the new primary by themselves.
    Every connection (pool, counters' direct ones, the feed's LISTEN) is made by ``links.connect``:
    keepalives, ``tcp_user_timeout``, server-side statement/lock/idle timeouts and a client-side
    deadline on every round trip."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_file(Path(parsed.database).expanduser())
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
            # FULL: a commit is on the disk when it returns (WAL's NORMAL may lose the last commits of a
            # legal record to a power cut); its cost on a call is measured by benchmarks/call_throughput.py
            cur.execute("PRAGMA synchronous=FULL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            if conn.get_execution_options().get("wt_write"):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql("BEGIN")

        from window_terminal.db import storage

        storage.install(engine)  # a damaged file or a full disk is named, never taken for a lost link
        return engine
    if parsed.get_backend_name() == "postgresql":
        engine = create_engine(
            parsed, pool_size=pool_size, max_overflow=10, pool_pre_ping=True, pool_recycle=3600
        )
        dsn = conninfo(parsed, application_name="window-terminal")

        @event.listens_for(engine, "do_connect")
        def _pg_connect(_dialect: Any, _record: Any, _cargs: Any, _cparams: Any) -> Any:
            # every pooled connection answers within a deadline, or is cut (see links.py): the
            # pool's pre-ping too, so a dead link costs seconds, never a hang
            return links.connect(dsn)

        _conninfo[engine] = dsn
        return engine
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
        self.dsn = conninfo(engine)
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
        return links.connect(self.dsn, autocommit=True, deadline=links.COUNTER_DEADLINE_S)

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
