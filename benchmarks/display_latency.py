"""From a call committed by another process to the painted frame of the hall display showing it.

    WT_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python benchmarks/display_latency.py [--calls 220]

For PostgreSQL (a scratch database, created and dropped) and SQLite (a temp file): the display app
(``wt display``) runs in this process under ``run_test`` with rendering on (``measure.FrameClock``);
a caller process calls the next ticket at windows 2, 4, … 12 at random intervals, stamping each
call before it starts and after it returned (the commit lies between); three peer processes read
the queue status every 2–10 s, as the board and counters do. Latency = the first painted frame
showing the called number (as the big number or in the recent-calls list) − the call's start
(``{db}_p50_ms`` / ``{db}_p99_ms``); from its return too (``{db}_from_return_*``). A call never
painted, or a negative latency, fails the run. Target: p99 < 300 ms on both. Last line: JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

from _common import QUEUE, REPO, scratch_postgres  # noqa: E402
from measure import FrameClock, MachineProbe, Report, RunFailed, describe_machine, latency_figures, ms  # noqa: E402

WINDOWS = (2, 4, 6, 8, 10, 12)
LINES = ("BIZ", "FOOD", "SOC", "HPF", "POP", "CONS")
TARGET_P99_MS = 300.0

CALLER = r"""
import json, random, sys, time
from window_terminal.core import queueing
from window_terminal.db.engine import make_engine
from window_terminal.core.hall import resolve_hall
url, count, lo, hi = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
windows = [int(w) for w in sys.argv[5].split(",")]
engine = make_engine(url); hall = resolve_hall(engine, None); rng = random.Random(5)
print(json.dumps({"ready": True}), flush=True)
sys.stdin.readline()
for i in range(count):
    time.sleep(rng.uniform(lo, hi))
    window = windows[i % len(windows)]
    start = time.monotonic()  # measure.now(): one clock for every process
    info = queueing.call_next(engine, hall.id, window, actor="M001")
    returned = time.monotonic()
    print(json.dumps({"number": info.number, "window": window, "start": start, "returned": returned}), flush=True)
    queueing.start_service(engine, hall.id, window, actor="M001")  # the next call there finishes this one
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


def prepare(url: str, calls: int) -> None:
    """The demo hall, windows 2…12 open, and enough waiting in each of their lines for every call."""
    from window_terminal.core import queueing
    from window_terminal.core.hall import load_hall, resolve_hall
    from window_terminal.db.engine import make_engine
    from window_terminal.db.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    load_hall(engine, QUEUE)  # open at every hour (_common)
    hall = resolve_hall(engine, None)
    for window in WINDOWS:
        queueing.set_window_status(engine, hall.id, window, "open", actor="M001")
    # A window may serve several lines and call from any: every line gets enough for all the calls
    # of the windows that may call from it, so no call finds its lines empty (up to 999 a line).
    per_line = min(999, math.ceil(calls / len(WINDOWS)) * 2 + 2)
    for line in LINES:
        for _ in range(per_line):
            queueing.take_ticket(engine, hall.id, line, actor="C001")
    engine.dispose()


def measure(url: str, calls: int, lo: float, hi: float) -> tuple[list[float], list[float]]:
    """(start → painted, return → painted) in ms for every call."""
    from textual.widgets import Static

    from window_terminal.app import make_app
    from window_terminal.config import Settings
    from window_terminal.core.hall import resolve_hall
    from window_terminal.db.engine import make_engine
    from window_terminal.screens.display import TicketDigits

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # In a process of its own, as `wt hall load` is: loading a hall imports pypinyin (200,000 objects
    # a display never holds, whose garbage collection would be timed otherwise).
    subprocess.run([sys.executable, __file__, "--prepare", url, str(calls)], check=True)
    peers = [
        subprocess.Popen([sys.executable, "-c", PEER, url, str(i)], env=env, stdout=subprocess.DEVNULL)
        for i in range(3)
    ]
    caller = subprocess.Popen(
        [sys.executable, "-c", CALLER, url, str(calls), str(lo), str(hi), ",".join(map(str, WINDOWS))],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    engine = make_engine(url)
    app = make_app(
        "display", settings=Settings(database_url=url), engine=engine, hall=resolve_hall(engine, None)
    )

    def look() -> frozenset[str]:
        """The numbers on the screen: the big one and those in the recent-calls list."""
        screen = app.screen
        words = {screen.query_one("#number", TicketDigits).value}
        for row in screen.query(".call-row").results(Static):
            words.update(str(row.render()).split())
        return frozenset(words)

    clock = FrameClock(app, look)
    made: list[dict[str, Any]] = []

    async def run() -> None:
        assert caller.stdout is not None and caller.stdin is not None
        async with app.run_test(headless=False, size=(120, 36)):
            await clock.wait(
                lambda seen: seen is not None and getattr(app.screen, "view", None) is not None,
                after=0,
                timeout=60,
            )
            json.loads(caller.stdout.readline())
            caller.stdin.write("go\n")
            caller.stdin.flush()
            loop = asyncio.get_running_loop()
            while line := await loop.run_in_executor(None, caller.stdout.readline):
                made.append(json.loads(line))
            await asyncio.sleep(1.0)  # the last call's frame

    try:
        asyncio.run(run())
    finally:
        caller.kill()
        for peer in peers:
            peer.terminate()
        for process in (caller, *peers):
            process.wait(timeout=10)
        engine.dispose()
    if len(made) != calls:
        raise RunFailed(f"the caller made {len(made)} of {calls} calls")
    upper, lower, missed = [], [], []
    for call in made:
        frame = clock.first(
            lambda seen, n=call["number"]: seen is not None and n in seen, after=call["start"]
        )
        if frame is None:
            missed.append(call["number"])
            continue
        upper.append(ms(frame.at - call["start"]))
        lower.append(ms(frame.at - call["returned"]))
    if missed:
        raise RunFailed(f"{len(missed)} calls never painted on the display: {missed[:10]}")
    return upper, lower


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=220, help="calls per database (a p99 needs 200)")
    parser.add_argument("--min-interval", type=float, default=0.2)
    parser.add_argument("--max-interval", type=float, default=0.8)
    parser.add_argument("--prepare", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        prepare(args.prepare[0], int(args.prepare[1]))
        return
    report = Report("display_latency")
    report.add(describe_machine())
    total = 0
    with MachineProbe() as probe:
        with tempfile.TemporaryDirectory(prefix="wt-display-bench-") as folder:
            url = f"sqlite:///{folder}/hall.sqlite3"
            upper, lower = measure(url, args.calls, args.min_interval, args.max_interval)
        report.add(latency_figures("sqlite", upper, lower_bounds_ms=lower))
        total += len(upper)
        with scratch_postgres("wt_bench_display") as url:
            upper, lower = measure(url, args.calls, args.min_interval, args.max_interval)
        report.add(latency_figures("pg", upper, lower_bounds_ms=lower))
        total += len(upper)
    report.add(probe.figures())
    report.add({"samples": total, "calls_per_database": args.calls})
    report.target("sqlite_p99_ms", TARGET_P99_MS)
    report.target("pg_p99_ms", TARGET_P99_MS)
    report.finish()


if __name__ == "__main__":
    main()
