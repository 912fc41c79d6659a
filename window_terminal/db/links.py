"""Links to PostgreSQL that notice when they die: the one home of every connection's timeouts.

A hall's network fails in two ways. A *clean* failure (server restarted, cable pulled at the
server) resets the connection and every waiting call fails at once. A *dead link* (a switch or
Wi-Fi bridge that black-holes packets, a NAT that forgot the flow) resets nothing: a call waits for
an answer that never comes, and without a deadline a clerk's key press hangs for minutes. So every
connection the program holds — the pool's, the counters' direct ones, the feed's LISTEN — is made
here, with four layers:

1. **TCP** (libpq): keepalives (5 s idle, then every 2 s, 3 misses) and ``tcp_user_timeout`` — the
   kernel drops a link whose packets go unacknowledged, or that answers no keepalive;
2. **server** (``options``): ``statement_timeout``, ``lock_timeout`` (a command waits for the hall
   at most this long, then is refused — it never commits late), ``idle_in_transaction_session_
   timeout`` (a client that vanished mid-transaction releases its hall), and the server's own
   keepalives and ``client_connection_check_interval`` so it notices a vanished client too;
3. **client deadline** on every round trip (:class:`DeadlineConnection`): a dead link that the
   kernel cannot see — the packets are acknowledged by a middlebox or a proxy that no longer
   forwards — is cut when no answer came in time. The pool's pre-ping is such a round trip, so a
   checkout on a dead link costs the deadline, never a hang. A thread may shorten its deadline for
   what it does (``with links.deadline(3): …``: the feed, a key press);
4. **connect timeout**: a new connection is given up after ``CONNECT_TIMEOUT_S`` per host.

A cut connection raises ``psycopg.OperationalError`` ("connection lost"), the same error as a reset
one, so every caller's reconnect logic (db/retry.py) serves both.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

CONNECT_TIMEOUT_S = 3  # per host; libpq's minimum is 2
STATEMENT_TIMEOUT_S = float(os.environ.get("WT_STATEMENT_TIMEOUT_S", "30"))  # reports may read a year
LOCK_TIMEOUT_S = 4.0  # waiting for the hall's lock longer than this: refused, never late
IDLE_IN_TRANSACTION_S = 30
COUNTER_DEADLINE_S = 5.0  # a key press's round trip (direct connections: statement_timeout below it)
FEED_DEADLINE_S = 4.0  # the feed's reads and its LISTEN heartbeat
HEARTBEAT_S = 2.0  # a quiet LISTEN connection is asked "SELECT 1" this often
TCP = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 9000,  # ms
}

_local = threading.local()

# Connection strings that lead to PgBouncer in transaction mode (``?pgbouncer=true``, db/engine.py
# ``conninfo``): each transaction may run on another server session, so nothing is kept per session.
# No prepared statements; no startup ``options`` (PgBouncer refuses them): the server's timeouts come
# from the application role's own settings (``wt db roles`` sets them); no ``LISTEN`` (db/feed.py
# needs a direct URL).
POOLED: set[str] = set()


def server_settings(statement_timeout_s: float = STATEMENT_TIMEOUT_S) -> list[tuple[str, str]]:
    """The server's own timeouts for a session of ours (names and values in milliseconds, seconds)."""
    return [
        ("statement_timeout", f"{int(statement_timeout_s * 1000)}"),
        ("lock_timeout", f"{int(LOCK_TIMEOUT_S * 1000)}"),
        ("idle_in_transaction_session_timeout", f"{IDLE_IN_TRANSACTION_S * 1000}"),
        ("tcp_keepalives_idle", "5"),
        ("tcp_keepalives_interval", "2"),
        ("tcp_keepalives_count", "3"),
        ("tcp_user_timeout", "9000"),
        ("client_connection_check_interval", "2000"),
    ]


def server_options(statement_timeout_s: float) -> str:
    """The ``options`` startup parameter: the server's own timeouts for this session."""
    return " ".join(f"-c {name}={value}" for name, value in server_settings(statement_timeout_s))


def round_trip_deadline(statement_timeout_s: float) -> float:
    """The client's deadline for one round trip: the server's statement timeout and a margin, so a
    slow statement is ended by the server (cleanly) before the client gives up on the link."""
    return statement_timeout_s + 3.0


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Within this block, this thread's round trips are cut after ``seconds`` (at most)."""
    before = getattr(_local, "deadline", None)
    _local.deadline = seconds if before is None else min(before, seconds)
    try:
        yield
    finally:
        _local.deadline = before


class LinkLost(Exception):
    """Marker mixed into the error raised when a round trip's deadline passed."""


@cache
def _connection_class() -> type[Any]:
    import psycopg
    from psycopg import errors

    class DeadlineConnection(psycopg.Connection):
        """A psycopg connection whose every round trip has a deadline (``wt_deadline``)."""

        wt_deadline: float | None = None

        def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
            limit = self.wt_deadline
            local = getattr(_local, "deadline", None)
            if local is not None:
                limit = local if limit is None else min(limit, local)
            if timeout is not None or limit is None:  # notifies() brings its own timeout
                return super().wait(gen, interval, timeout)
            try:
                return super().wait(gen, interval, timeout=limit)
            except errors._WaitTimeout:  # noqa: SLF001 - psycopg's own timeout signal
                self.wt_cut()
                raise ConnectionLost(
                    f"no answer from the database within {limit:g} s: the connection is lost (数据库连接中断)"
                ) from None

        def wt_cut(self) -> None:
            """Drop the link for good: the protocol state is unknown after a cut round trip."""
            try:
                sock = socket.socket(fileno=os.dup(self.pgconn.socket))
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                finally:
                    sock.close()
            except OSError:
                pass
            try:
                self.pgconn.finish()
            except Exception:
                pass

    class ConnectionLost(psycopg.OperationalError, LinkLost):
        pass

    return DeadlineConnection


def connect(
    dsn: str,
    *,
    autocommit: bool = False,
    deadline: float | None = None,
    statement_timeout_s: float | None = None,
    **extra: Any,
) -> Any:
    """A psycopg connection to ``dsn`` (libpq string, several hosts allowed) with every layer above.

    ``deadline``: the client's limit per round trip (default: the statement timeout + 3 s);
    ``statement_timeout_s``: the server's (default ``STATEMENT_TIMEOUT_S``; below ``deadline``)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    statement = statement_timeout_s if statement_timeout_s is not None else STATEMENT_TIMEOUT_S
    if deadline is not None and statement_timeout_s is None:
        statement = min(statement, max(1.0, deadline - 1.0))
    given = conninfo_to_dict(dsn)
    params: dict[str, Any] = {**TCP, "connect_timeout": CONNECT_TIMEOUT_S}
    params.update(given)  # what the URL says wins
    pooled = dsn in POOLED
    if not pooled:  # PgBouncer refuses a startup ``options``: its server sessions take the role's
        options = server_options(statement)
        params["options"] = f"{options} {given['options']}" if given.get("options") else options
    params.update(extra)
    conn = _connection_class().connect(make_conninfo("", **params), autocommit=autocommit)
    if pooled:
        conn.prepare_threshold = None  # a prepared statement would not exist on the next transaction's server
    conn.wt_deadline = deadline if deadline is not None else round_trip_deadline(statement)
    return conn


def is_lost(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) is a round trip cut by its deadline."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, LinkLost):
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False
