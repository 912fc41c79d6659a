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

from window_terminal import queueing as q
from window_terminal.db.engine import make_engine, read_session
from window_terminal.db.feed import Feed, FeedUnavailable
from window_terminal.db.models import Event
from window_terminal.hall import resolve_hall

DEADLINE_S = 60


def _context() -> multiprocessing.context.BaseContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["window_terminal.queueing", "window_terminal.db.feed", "psycopg", __name__])
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


def _wait_for(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _start_follower(ctx, url: str, hall_id: int, after: int, log: Path, stop: Path):  # type: ignore[no-untyped-def]
    proc = ctx.Process(target=_follow, args=(url, hall_id, after, str(log), str(stop)))
    proc.start()
    return proc


def _change_things(engine, hall, rounds: int) -> None:  # type: ignore[no-untyped-def]
    """A counter PC at work: tickets issued, called, served."""
    for i in range(rounds):
        q.take_ticket(engine, hall.id, "BIZ")
        q.take_ticket(engine, hall.id, ("SOC", "FOOD")[i % 2])
        q.call_next(engine, hall.id, 2)
        q.start_service(engine, hall.id, 2)


def _all_events(engine, hall_id: int) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    with read_session(engine) as s:
        return [
            tuple(r)
            for r in s.execute(
                select(Event.seq, Event.kind).where(Event.hall_id == hall_id).order_by(Event.seq)
            )
        ]


def _finish(engine, hall, proc, stop: Path) -> None:  # type: ignore[no-untyped-def]
    stop.write_text(str(_all_events(engine, hall.id)[-1][0]))
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


def _killed_connections(engine, hall, pg_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
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
