"""From a call committed by another process to the number drawn on the display: p50 / p99.

    WT_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
        /work/venv/bin/python benchmarks/display_latency.py [--calls 20]

For PostgreSQL (a scratch database, created and dropped) and SQLite (a temp file): the display app
runs headless in this process (Textual's run_test); a caller subprocess makes calls through the
queue engine at random intervals and prints the wall-clock time right after each commit; three
peer processes read the queue status every 2–10 s, as the board and counters do. Latency = the
moment the display's big-number widget shows the called number − the commit time. Last line: one
JSON object with pg_p50_ms, pg_p99_ms, sqlite_p50_ms, sqlite_p99_ms and the targets.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CALLER = r"""
import json, random, sys, time
from window_terminal.core import queueing
from window_terminal.db.engine import make_engine
from window_terminal.core.hall import resolve_hall
url, count, lo, hi = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
engine = make_engine(url); hall = resolve_hall(engine, None); rng = random.Random(5)
windows = [2, 4, 6, 8, 10, 12]
print(json.dumps({"ready": True}), flush=True)
sys.stdin.readline()
for i in range(count):
    time.sleep(rng.uniform(lo, hi))
    window = windows[i % len(windows)]
    info = queueing.call_next(engine, hall.id, window)
    committed = time.time()
    print(json.dumps({"number": info.number, "window": window, "committed": committed}), flush=True)
    queueing.start_service(engine, hall.id, window)
"""

PEER = r"""
import random, sys, time
from window_terminal.core import queueing
from window_terminal.db.engine import make_engine
from window_terminal.core.hall import resolve_hall
engine = make_engine(sys.argv[1]); hall = resolve_hall(engine, None); rng = random.Random(int(sys.argv[2]))
while True:
    queueing.queue_status(engine, hall.id)
    time.sleep(rng.uniform(2, 10))
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def prepare(url: str) -> None:
    from window_terminal.core import queueing
    from window_terminal.core.hall import load_hall, resolve_hall
    from window_terminal.db.engine import make_engine
    from window_terminal.db.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    load_hall(engine, REPO / "queue")
    hall = resolve_hall(engine, None)
    for window in (2, 4, 6, 8, 10, 12):
        queueing.set_window_status(engine, hall.id, window, "open", actor="M001")
    for line in ("BIZ", "FOOD", "SOC", "HPF", "POP", "CONS"):
        for _ in range(8):
            queueing.take_ticket(engine, hall.id, line, actor="C001")
    engine.dispose()


def measure(url: str, calls: int, lo: float, hi: float) -> list[float]:
    from window_terminal.app import make_app
    from window_terminal.config import Settings
    from window_terminal.core.hall import resolve_hall
    from window_terminal.db.engine import make_engine
    from window_terminal.screens.display import TicketDigits

    prepare(url)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    peers = [
        subprocess.Popen([sys.executable, "-c", PEER, url, str(i)], env=env, stdout=subprocess.DEVNULL)
        for i in range(3)
    ]
    caller = subprocess.Popen(
        [sys.executable, "-c", CALLER, url, str(calls), str(lo), str(hi)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    engine = make_engine(url)
    app = make_app(
        "display", settings=Settings(database_url=url), engine=engine, hall=resolve_hall(engine, None)
    )
    seen: dict[str, float] = {}
    committed: dict[str, float] = {}

    async def run() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            while getattr(app.screen, "view", None) is None:
                await pilot.pause(0.05)
            assert caller.stdout is not None and caller.stdin is not None
            json.loads(caller.stdout.readline())
            caller.stdin.write("go\n")
            caller.stdin.flush()
            reader = asyncio.get_running_loop().run_in_executor(
                None, lambda: list(iter_lines(caller, committed))
            )
            number_widget = app.screen.query_one("#number", TicketDigits)
            deadline = time.monotonic() + calls * hi + 30
            while (len(seen) < calls or not reader.done()) and time.monotonic() < deadline:
                value = number_widget.value
                if value and value not in seen:
                    seen[value] = time.time()
                await pilot.pause(0.002)
            await reader

    try:
        asyncio.run(run())
    finally:
        caller.kill()
        for peer in peers:
            peer.terminate()
        for process in (caller, *peers):
            process.wait(timeout=10)
        engine.dispose()
    return [(seen[n] - committed[n]) * 1000 for n in committed if n in seen]


def iter_lines(caller: subprocess.Popen[str], committed: dict[str, float]):
    assert caller.stdout is not None
    for line in caller.stdout:
        data = json.loads(line)
        committed[data["number"]] = data["committed"]
        yield data


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--min-interval", type=float, default=0.5)
    parser.add_argument("--max-interval", type=float, default=1.5)
    args = parser.parse_args()
    result: dict[str, object] = {}

    folder = Path(tempfile.mkdtemp(prefix="wt-display-bench-"))
    try:
        latencies = measure(
            f"sqlite:///{folder / 'hall.sqlite3'}", args.calls, args.min_interval, args.max_interval
        )
        result["sqlite_p50_ms"] = round(statistics.median(latencies), 1)
        result["sqlite_p99_ms"] = round(percentile(latencies, 0.99), 1)
        result["sqlite_calls"] = len(latencies)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    pg = os.environ.get("WT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        from sqlalchemy import text
        from sqlalchemy.engine import make_url

        from window_terminal.config import normalize_database_url
        from window_terminal.db.engine import make_engine

        admin_url = normalize_database_url(pg)
        name = f"wt_bench_{uuid.uuid4().hex[:10]}"
        admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
            latencies = measure(url, args.calls, args.min_interval, args.max_interval)
            result["pg_p50_ms"] = round(statistics.median(latencies), 1)
            result["pg_p99_ms"] = round(percentile(latencies, 0.99), 1)
            result["pg_calls"] = len(latencies)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    except Exception as exc:  # no PostgreSQL here: say so in the figures
        print(f"PostgreSQL skipped: {exc}", file=sys.stderr)
        result["pg_p50_ms"] = result["pg_p99_ms"] = None
    result["pg_p99_target_ms"] = 300
    result["calls_per_database"] = args.calls
    print(json.dumps(result))


if __name__ == "__main__":
    main()
