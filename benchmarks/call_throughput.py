"""Tickets called per second with 32 windows calling at once on one PostgreSQL database, beside
``pgbench -b simple-update -c 32`` on the same server. Last line: one JSON object.

Each window works like a counter: call next → start service → call next (which finishes the ticket
being served) … Tickets are pre-issued in bulk (not measured). Afterwards every ``ticket.called``
event is counted: no ticket may be called twice.

``--client`` says who drives the 32 windows (each has its own database connection):

* ``processes`` (the default, the figure the target is judged on): 32 Python processes calling
  ``queueing.call_next`` / ``start_service``, like 32 counter PCs — here all on this machine's
  cores, next to the database server;
* ``threads``: the same calls from 32 threads of one process (as pgbench drives its 32 clients from
  one thread): shows what the 32 client processes cost on a small machine;
* ``pgbench``: pgbench itself calls the same server procedures (``CALL wt_call_next_p`` …) for 32
  clients — the server's own ceiling, without any Python;
* ``bare``: a reference, not the product — 32 Python processes each running the least a counter's
  cycle can write, one SQL statement per command: a call finishes the ticket being served, takes
  the first unlocked waiting ticket of the window's lines (``FOR UPDATE SKIP LOCKED``) and inserts
  the events; a start updates the ticket and inserts its event. None of the rules: no strict
  first-come-first-served per line, no event numbering or notify, no request ids, no window or
  in-hand checks. The product does all of this work and more, so this is its ceiling here.

    WT_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
        /work/venv/bin/python benchmarks/call_throughput.py [--seconds 12] [--windows 32] \\
        [--client processes|threads|pgbench|bare]
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import libpq_env, prepare_hall, scratch_postgres  # noqa: E402

TARGET_RATIO = 0.3


def _work_window(engine, hall_id: int, window: int, barrier, seconds: float, out) -> None:
    """One counter: call next, start, … for ``seconds``; puts (window, ticket ids called, elapsed)."""
    from window_terminal.core import queueing as q

    q.window_in_hand(engine, hall_id, window)  # connect before the clock starts
    called: list[int] = []
    barrier.wait()  # all windows connected: go
    start_at = time.time()
    end = start_at + seconds
    while time.time() < end:
        ticket = q.call_next(engine, hall_id, window, actor="M001")
        if ticket is None:
            break
        called.append(ticket.id)
        q.start_service(engine, hall_id, window, actor="M001")
    out.put((window, called, time.time() - start_at))


def _window_worker(url: str, hall_id: int, window: int, barrier, seconds: float, out) -> None:
    from window_terminal.db.engine import make_engine

    engine = make_engine(url, pool_size=1)
    _work_window(engine, hall_id, window, barrier, seconds, out)
    engine.dispose()


def _run_threads(url: str, hall_id: int, windows: int, seconds: float) -> list[tuple[int, list[int], float]]:
    import queue as stdlib_queue
    import threading

    from window_terminal.db.engine import make_engine

    engine = make_engine(url, pool_size=windows)
    out: stdlib_queue.Queue = stdlib_queue.Queue()
    barrier = threading.Barrier(windows)
    threads = [
        threading.Thread(target=_work_window, args=(engine, hall_id, n, barrier, seconds, out))
        for n in range(1, windows + 1)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    return [out.get() for _ in threads]


def _run_processes(
    url: str,
    hall_id: int,
    windows: int,
    seconds: float,
    worker=_window_worker,
) -> list[tuple[int, list[int], float]]:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    barrier = ctx.Barrier(windows)
    procs = [
        ctx.Process(target=worker, args=(url, hall_id, n, barrier, seconds, out))
        for n in range(1, windows + 1)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join(30)
    return results


_BARE_CALL = """
WITH w AS (SELECT id FROM "window" WHERE hall_id = %(hall)s AND number = %(window)s),
done AS (
    UPDATE ticket t SET status = 'done', finished_at = now()
    WHERE t.hall_id = %(hall)s AND t.status = 'serving' AND t.window_id = (SELECT id FROM w)
    RETURNING t.id, t.number),
heads AS (
    SELECT h.id, h.queue_key FROM window_line wl
    CROSS JOIN LATERAL (SELECT t.id, t.queue_key FROM ticket t
                        WHERE t.hall_id = %(hall)s AND t.status = 'waiting' AND t.line_id = wl.line_id
                        ORDER BY t.queue_key LIMIT 1 FOR UPDATE SKIP LOCKED) h
    WHERE wl.window_id = (SELECT id FROM w) ORDER BY h.queue_key LIMIT 1),
called AS (UPDATE ticket t SET status = 'called', window_id = (SELECT id FROM w), called_at = now()
           FROM heads WHERE t.id = heads.id RETURNING t.id, t.number),
events AS (
    INSERT INTO event (hall_id, kind, payload, created_at)
    SELECT %(hall)s, e.kind, json_build_object('ticket_id', e.id, 'number', e.number), now()
    FROM (SELECT 1, 'ticket.finished', id, number FROM done
          UNION ALL SELECT 2, 'ticket.called', id, number FROM called) AS e(n, kind, id, number)
    ORDER BY e.n)
SELECT id FROM called
"""
_BARE_START = """
WITH started AS (
    UPDATE ticket t SET status = 'serving', started_at = now()
    WHERE t.hall_id = %(hall)s AND t.status = 'called'
      AND t.window_id = (SELECT id FROM "window" WHERE hall_id = %(hall)s AND number = %(window)s)
    RETURNING t.id, t.number)
INSERT INTO event (hall_id, kind, payload, created_at)
SELECT %(hall)s, 'ticket.started', json_build_object('ticket_id', id, 'number', number), now() FROM started
"""


def _bare_worker(url: str, hall_id: int, window: int, barrier, seconds: float, out) -> None:
    import psycopg

    from window_terminal.db.engine import make_engine

    dsn = make_engine(url).url.set(drivername="postgresql").render_as_string(hide_password=False)
    params = {"hall": hall_id, "window": window}
    called: list[int] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        barrier.wait()
        start_at = time.time()
        while time.time() < start_at + seconds:
            row = conn.execute(_BARE_CALL, params).fetchone()
            if row is not None:
                called.append(row[0])
            conn.execute(_BARE_START, params)
    out.put((window, called, time.time() - start_at))


def _run_pgbench(url: str, hall_id: int, windows: int, seconds: float) -> float:
    """pgbench calls the counter procedures (one pgbench transaction = call + start); calls/s."""
    script = (
        "\\set w :client_id + 1\n"
        f"CALL wt_call_next_p(NULL::jsonb, {hall_id}, :w, NULL, NULL, 0);\n"
        f"CALL wt_in_hand_transition_p(NULL::jsonb, {hall_id}, :w, NULL, NULL, 0, 'call.start',"
        " ARRAY['called'], 'serving', 'ticket.started');\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
    try:
        run = subprocess.run(
            ["pgbench", "-n", "-c", str(windows), "-T", str(round(seconds)), "-f", f.name],
            env=libpq_env(url),
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        Path(f.name).unlink()
    return _tps(run)


def _pre_issue(engine, hall_id: int, per_line: int, days: int = 1) -> int:
    """Waiting tickets in every line, inserted in bulk: numbers 001…per_line of today and of the
    ``days - 1`` days before (a line has at most 999 numbers a day; 32 windows call more than
    that in a few seconds). Older days' tickets queue behind today's."""
    from sqlalchemy import insert, select

    from window_terminal.db.clock import db_now, local_day
    from window_terminal.db.engine import write_session
    from window_terminal.db.models import Hall, Line, Ticket

    with write_session(engine) as s:
        tz = s.execute(select(Hall.timezone).where(Hall.id == hall_id)).scalar_one()
        now = db_now(s)
        day = local_day(now, tz)
        lines = s.execute(select(Line.id, Line.code, Line.prefix).where(Line.hall_id == hall_id)).all()
        rows = []
        for back, n in itertools.product(range(days), range(1, per_line + 1)):
            for line_id, code, prefix in lines:
                rows.append(
                    dict(
                        hall_id=hall_id,
                        service_day=day - timedelta(days=back),
                        line_id=line_id,
                        original_line_id=line_id,
                        line_code_at_issue=code,
                        seq=n,
                        number=f"{prefix}{n:03d}",
                        kind="normal",
                        priority_reason="",
                        eligible_at=now,
                        queue_key=now.timestamp() + back * 1000 + n / 1000,
                        status="waiting",
                        issued_at=now,
                        recall_count=0,
                        transfer_count=0,
                        note="",
                    )
                )
        s.execute(insert(Ticket), rows)
    # Fresh planner statistics, as a live database has: right after a bulk insert of ~8000 tickets
    # the stats still describe an empty table and every window would pay for bad plans (unfair to
    # whichever path is measured; the bulk load itself is not part of the measurement).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE ticket")
        conn.exec_driver_sql("ANALYZE event")
    return len(rows)


def measure_calls(
    url: str, windows: int, seconds: float, client: str = "processes"
) -> dict[str, float | int]:
    from sqlalchemy import func, select

    from window_terminal.core import queueing as q
    from window_terminal.db.engine import read_session
    from window_terminal.db.models import Event, Ticket

    engine, hall_id = prepare_hall(url, windows=windows)
    for number in range(1, windows + 1):
        q.set_window_status(engine, hall_id, number, "open", actor="M001")
    issued = _pre_issue(engine, hall_id, per_line=999, days=6)

    if client == "pgbench":
        calls_per_s = _run_pgbench(url, hall_id, windows, seconds)
        results: list[tuple[int, list[int], float]] = []
    elif client == "bare":
        results = _run_processes(url, hall_id, windows, seconds, worker=_bare_worker)
    else:
        run = _run_threads if client == "threads" else _run_processes
        results = run(url, hall_id, windows, seconds)
    late = [r[0] for r in results if r[2] < seconds * 0.9]
    elapsed = max((r[2] for r in results), default=seconds)
    called = [ticket_id for _, ids, _ in results for ticket_id in ids]

    with read_session(engine) as s:
        events = Counter(
            payload["ticket_id"]
            for payload in s.execute(
                select(Event.payload).where(Event.hall_id == hall_id, Event.kind == "ticket.called")
            ).scalars()
        )
        waiting = s.execute(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.hall_id == hall_id, Ticket.status == "waiting")
        ).scalar_one()
    engine.dispose()
    duplicates = sum(n - 1 for n in events.values() if n > 1) + (len(called) - len(set(called)))
    if client != "pgbench":
        calls_per_s = len(called) / elapsed
    return {
        "client": client,
        "calls": len(called) if called else sum(events.values()),
        "elapsed_s": round(elapsed, 2),
        "calls_per_s": round(calls_per_s, 1),
        "commands_per_s": round(2 * calls_per_s, 1),
        "duplicates": duplicates,
        "issued": issued,
        "left_waiting": int(waiting),
        "windows_ran_out": len(late),
    }


def measure_pgbench(url: str, clients: int, seconds: int) -> float:
    env = libpq_env(url)
    subprocess.run(["pgbench", "-i", "-s", "1", "-q"], env=env, check=True, capture_output=True, text=True)
    run = subprocess.run(
        ["pgbench", "-b", "simple-update", "-c", str(clients), "-T", str(seconds), "-n"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return _tps(run)


def _tps(run: subprocess.CompletedProcess[str]) -> float:
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", run.stdout) or re.search(
        r"tps = ([0-9.]+)", run.stdout
    )
    if match is None:
        raise SystemExit(f"could not read pgbench's tps from:\n{run.stdout}\n{run.stderr}")
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--windows", type=int, default=32)
    parser.add_argument("--client", choices=("processes", "threads", "pgbench", "bare"), default="processes")
    args = parser.parse_args()

    with scratch_postgres("wt_bench_calls") as url:
        calls = measure_calls(url, args.windows, args.seconds, args.client)
    print(f"wt: {calls}", flush=True)
    with scratch_postgres("wt_bench_pgbench") as url:
        tps = measure_pgbench(url, args.windows, round(args.seconds))
    print(f"pgbench simple-update -c {args.windows}: {tps:.1f} tps", flush=True)
    ratio = calls["calls_per_s"] / tps if tps else 0.0
    print(
        json.dumps(
            {
                "pg_calls_per_s": calls["calls_per_s"],
                "client": args.client,
                "pg_commands_per_s": calls["commands_per_s"],
                "pgbench_tps": round(tps, 1),
                "ratio": round(ratio, 3),
                "target_ratio": TARGET_RATIO,
                # only the product's own path, from 32 client processes, is judged
                "meets_target": ratio >= TARGET_RATIO if args.client == "processes" else None,
                "duplicates": calls["duplicates"],
                "target_duplicates": 0,
                "windows": args.windows,
                "seconds": calls["elapsed_s"],
                "calls": calls["calls"],
            }
        )
    )


if __name__ == "__main__":
    main()
