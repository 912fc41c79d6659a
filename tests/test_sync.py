"""The sync layer across processes: a follower sees every event once, in order — through killed
connections (PostgreSQL ``pg_terminate_backend``) and a killed-and-restarted follower process.

The follower is a separate process (``forkserver``: nothing inherited from the test process) that
appends each event it applies to a log file, the way a screen keeps its cursor; the test process
is the counter PC changing things.
"""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from sqlalchemy import select, text

from window_terminal.core import queueing as q
from window_terminal.core.hall import resolve_hall
from window_terminal.db.engine import make_engine, read_session
from window_terminal.db.feed import Feed, FeedUnavailable
from window_terminal.db.models import Event

DEADLINE_S = 60


def _context() -> multiprocessing.context.BaseContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(
        ["window_terminal.core.queueing", "window_terminal.db.feed", "psycopg", __name__]
    )
    return ctx


def _follow(url: str, hall_id: int, after: int, log_path: str, stop_path: str) -> None:
    """Apply events from ``after`` on: one line per event; '!' lines for each lost connection."""
    engine = make_engine(url)
    feed = Feed(engine, hall_id, after=after)
    stop_at: int | None = None
    with open(log_path, "a", encoding="utf-8") as log:
        while stop_at is None or feed.cursor < stop_at:
            try:
                events = feed.poll(timeout=0.2)
            except FeedUnavailable:
                log.write("! unavailable\n")
                log.flush()
                time.sleep(0.05)
                continue
            for event in events:
                log.write(f"{event.seq} {event.kind}\n")
                log.flush()
            if stop_at is None and Path(stop_path).exists():
                stop_at = int(Path(stop_path).read_text())
    feed.close()
    engine.dispose()


def _read_log(path: Path) -> tuple[list[tuple[int, str]], int]:
    """(seq, kind) of every applied event (a half-written last line was not applied) and '!' count."""
    applied, lost = [], 0
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if not line.endswith("\n"):
            break
        if line.startswith("!"):
            lost += 1
        else:
            seq, kind = line.split()
            applied.append((int(seq), kind))
    return applied, lost


def _wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _start_follower(ctx, url: str, hall_id: int, after: int, log: Path, stop: Path):
    proc = ctx.Process(target=_follow, args=(url, hall_id, after, str(log), str(stop)))
    proc.start()
    return proc


def _change_things(engine, hall, rounds: int) -> None:
    """A counter PC at work: tickets issued, called, served."""
    for i in range(rounds):
        q.take_ticket(engine, hall.id, "BIZ")
        q.take_ticket(engine, hall.id, ("SOC", "FOOD")[i % 2])
        q.call_next(engine, hall.id, 2)
        q.start_service(engine, hall.id, 2)


def _all_events(engine, hall_id: int) -> list[tuple[int, str]]:
    with read_session(engine) as s:
        return [
            tuple(r)
            for r in s.execute(
                select(Event.seq, Event.kind).where(Event.hall_id == hall_id).order_by(Event.seq)
            )
        ]


def _finish(engine, hall, proc, stop: Path) -> None:
    # Written aside, then renamed: the follower polls for the file and must never read it half-written.
    stop.with_suffix(".tmp").write_text(str(_all_events(engine, hall.id)[-1][0]))
    stop.with_suffix(".tmp").rename(stop)
    proc.join(DEADLINE_S)
    assert proc.exitcode == 0, "the follower did not catch up with the last event"


def test_a_restarted_follower_resumes_from_its_cursor_and_sees_every_event_once_in_order(
    engine, hall, db_url, tmp_path
):
    ctx = _context()
    log, stop = tmp_path / "applied.log", tmp_path / "stop"
    q.set_window_status(engine, hall.id, 2, "open")
    first = _start_follower(ctx, db_url, hall.id, 0, log, stop)
    _wait_for(lambda: log.exists() and log.stat().st_size > 0, "the follower to start")
    _change_things(engine, hall, 6)

    first.kill()  # mid-stream, no goodbye
    first.join(DEADLINE_S)
    applied, _ = _read_log(log)
    content = log.read_bytes()
    log.write_bytes(content[: content.rfind(b"\n") + 1])  # drop a half-written line, if any
    second = _start_follower(ctx, db_url, hall.id, applied[-1][0], log, stop)
    _change_things(engine, hall, 6)
    _finish(engine, hall, second, stop)

    seen, _ = _read_log(log)
    everything = _all_events(engine, hall.id)
    assert [seq for seq, _ in everything] == list(range(1, len(everything) + 1))
    assert seen == everything, "the follower missed, repeated or reordered events"


def test_a_follower_whose_connections_are_killed_reconnects_and_misses_nothing(pg_url, tmp_path):
    engine = make_engine(pg_url)
    hall = resolve_hall(engine, None)
    try:
        _killed_connections(engine, hall, pg_url, tmp_path)
    finally:
        engine.dispose()


def _killed_connections(engine, hall, pg_url: str, tmp_path: Path) -> None:
    ctx = _context()
    log, stop = tmp_path / "applied.log", tmp_path / "stop"
    q.set_window_status(engine, hall.id, 2, "open")
    follower = _start_follower(ctx, pg_url, hall.id, 0, log, stop)
    _wait_for(lambda: log.exists() and log.stat().st_size > 0, "the follower to start")

    admin = make_engine(pg_url)
    killed = []
    try:
        for _ in range(3):
            _change_things(engine, hall, 3)
            time.sleep(0.3)  # let the follower catch up and wait in LISTEN
            with admin.begin() as conn:
                killed.append(
                    conn.execute(
                        text(
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                            " AND application_name LIKE 'window-terminal%'"
                        )
                    ).scalar_one()
                )
            _change_things(engine, hall, 2)  # written while the follower is reconnecting
        _finish(engine, hall, follower, stop)
    finally:
        admin.dispose()
        if follower.is_alive():
            follower.kill()

    seen, lost = _read_log(log)
    assert all(n >= 1 for n in killed), "pg_terminate_backend found no follower connection to kill"
    assert lost >= 3, "the follower never noticed its connection was killed"
    assert seen == _all_events(engine, hall.id), "the follower missed, repeated or reordered events"


# --- numbering after commit (PostgreSQL counters) ---------------------------------------------


def _unnumbered_event(engine, hall_id: int, kind: str) -> None:
    """What a counter leaves behind when its numbering session dies right after its commit."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO event (hall_id, seq, kind, payload, created_at)"
                " VALUES (:hall_id, NULL, :kind, '{}', now() AT TIME ZONE 'UTC')"
            ),
            {"hall_id": hall_id, "kind": kind},
        )


def _log(engine, hall_id: int) -> list[tuple[int | None, str]]:
    with read_session(engine) as s:
        return [
            (seq, kind)
            for seq, kind in s.execute(
                select(Event.seq, Event.kind).where(Event.hall_id == hall_id).order_by(Event.id)
            ).all()
        ]


def test_counter_events_are_numbered_when_the_counter_returns_gap_free_after_the_rest(pg_url):
    engine = make_engine(pg_url)
    hall = resolve_hall(engine, None)
    q.set_window_status(engine, hall.id, 2, "open")  # Python path: numbered in its transaction
    q.take_ticket(engine, hall.id, "BIZ")
    q.call_next(engine, hall.id, 2)  # the PostgreSQL procedure: committed, then numbered
    q.start_service(engine, hall.id, 2)
    log = _log(engine, hall.id)
    assert [seq for seq, _ in log] == list(range(1, len(log) + 1))
    assert [kind for _, kind in log[-3:]] == ["ticket.issued", "ticket.called", "ticket.started"]
    engine.dispose()


def test_a_command_numbers_events_left_unnumbered_before_its_own(pg_url):
    engine = make_engine(pg_url)
    hall = resolve_hall(engine, None)
    before = len(_log(engine, hall.id))
    _unnumbered_event(engine, hall.id, "test.orphan")
    assert _log(engine, hall.id)[-1] == (None, "test.orphan")
    q.take_ticket(engine, hall.id, "BIZ")  # the Python path: the exclusive hall lock, then numbering
    log = _log(engine, hall.id)
    assert log[before:] == [(before + 1, "test.orphan"), (before + 2, "ticket.issued")]
    engine.dispose()


def test_a_feed_on_a_quiet_hall_numbers_and_delivers_events_left_unnumbered(pg_url):
    engine = make_engine(pg_url)
    hall = resolve_hall(engine, None)
    with read_session(engine) as s:
        last = s.execute(text("SELECT event_seq FROM hall WHERE id = :id"), {"id": hall.id}).scalar_one()
    feed = Feed(engine, hall.id, after=last)
    assert feed.poll(timeout=0.1) == []
    _unnumbered_event(engine, hall.id, "test.orphan")
    deadline = time.monotonic() + 10
    events: list = []
    while not events and time.monotonic() < deadline:
        events = feed.poll(timeout=0.2)
    assert [(e.seq, e.kind) for e in events] == [(last + 1, "test.orphan")]
    feed.close()
    engine.dispose()


def test_a_counter_whose_direct_connection_was_killed_still_calls_exactly_once(pg_url):
    engine = make_engine(pg_url)
    hall = resolve_hall(engine, None)
    q.set_window_status(engine, hall.id, 2, "open")
    first = q.take_ticket(engine, hall.id, "BIZ")
    second = q.take_ticket(engine, hall.id, "BIZ")
    assert q.call_next(engine, hall.id, 2).id == first.id
    q.start_service(engine, hall.id, 2)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    assert killed >= 1
    assert q.call_next(engine, hall.id, 2).id == second.id  # a dead connection: the Python path answers
    assert q.start_service(engine, hall.id, 2).status == "serving"
    with read_session(engine) as s:
        called = (
            s.execute(select(Event.payload).where(Event.hall_id == hall.id, Event.kind == "ticket.called"))
            .scalars()
            .all()
        )
    assert [p["ticket_id"] for p in called] == [first.id, second.id]
    engine.dispose()


def test_a_counter_call_whose_answer_is_lost_after_the_commit_is_not_made_twice(pg_url, monkeypatch):
    """The server committed the call, then the connection broke before the answer arrived: the
    Python path that answers instead finds the call by its request id and does not call again."""
    from contextlib import contextmanager

    import psycopg

    from window_terminal.db import engine as engine_module

    engine = make_engine(pg_url)
    hall = resolve_hall(engine, None)
    q.set_window_status(engine, hall.id, 2, "open")
    first = q.take_ticket(engine, hall.id, "BIZ")
    q.take_ticket(engine, hall.id, "BIZ")
    real = engine_module.direct_connection

    @contextmanager
    def answer_lost(eng):
        with real(eng) as conn:
            yield conn
            raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(q, "direct_connection", answer_lost)
    assert q.call_next(engine, hall.id, 2).id == first.id
    monkeypatch.undo()
    with read_session(engine) as s:
        called = (
            s.execute(select(Event.payload).where(Event.hall_id == hall.id, Event.kind == "ticket.called"))
            .scalars()
            .all()
        )
    assert [p["ticket_id"] for p in called] == [first.id]
    engine.dispose()


def test_an_empty_poll_on_a_quiet_hall_writes_nothing(pg_url):
    """Every screen polls when idle; with nothing left unnumbered the poll is a read, not a lock of
    the hall row (which is a write, and would queue behind the hall's commands)."""
    engine = make_engine(pg_url)
    hall = resolve_hall(engine, None)

    def hall_row_version() -> tuple[str, str]:
        with read_session(engine) as s:
            row = s.execute(text("SELECT xmin::text, xmax::text FROM hall WHERE id = :id"), {"id": hall.id})
            return tuple(row.one())

    with read_session(engine) as s:
        last = s.execute(text("SELECT event_seq FROM hall WHERE id = :id"), {"id": hall.id}).scalar_one()
    feed = Feed(engine, hall.id, after=last)
    feed.poll(timeout=0.05)  # connects the listener
    before = hall_row_version()
    assert feed.poll(timeout=0.05) == []
    assert feed.poll(timeout=0.05) == []
    assert hall_row_version() == before, "an empty poll locked the hall row"
    feed.close()
    engine.dispose()
