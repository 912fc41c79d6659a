"""The manager's board with 50 windows and 2,000 waiting: a call committed in another process → the
board's painted frame showing it.

    .venv/bin/python benchmarks/board_refresh.py [--calls 220] [--windows 50] [--waiting 2000]

A temporary SQLite hall is generated from queue/ with 50 open windows and 2,000 waiting tickets
(issued through the queue engine). The board runs in this process under ``run_test`` with
rendering on (``measure.FrameClock``). A caller process calls the next ticket at window 1, 2, … 50,
1, … every 0.2–0.6 s, stamping each call before it starts and after it returned (the commit lies
between). Latency = the first painted frame whose window row shows the called number − the call's
start (``commit_to_frame_*``); from its return too (``commit_to_frame_from_return_*``). Every
call must reach the screen: one never painted fails the run.

Beside it, what the board paints: ``idle_frames_per_s`` and ``idle_bytes_per_s`` over 5 s with no
change but the clock (the one-second tick must repaint only the time cells that moved), and the
median bytes of a frame after a call (``call_frame_bytes_p50``; a full 160×70 repaint is ~100 kB).
Target (issue 21): ``commit_to_frame_p99_ms`` < 150. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

from _common import QUEUE, REPO  # noqa: E402
from measure import FrameClock, MachineProbe, Report, RunFailed, describe_machine, latency_figures, ms, now  # noqa: E402

LINES = ["BIZ", "FOOD", "SOC", "HPF", "POP", "CONS", "GEN", "TAX"]


def make_definition(folder: Path, windows: int) -> Path:
    target = folder / "queue"
    shutil.copytree(QUEUE, target)  # open at every hour (_common)
    parts = ["# generated: benchmarks/board_refresh.py\n"]
    for number in range(1, windows + 1):
        a, b = LINES[number % len(LINES)], LINES[(number + 3) % len(LINES)]
        parts.append(
            f'[[window]]\nnumber = {number}\nname = "{number}号窗口"\n'
            f'lines = [{{ code = "{a}", weight = 2 }}, {{ code = "{b}", weight = 1 }}]\n\n'
        )
    (target / "windows.toml").write_text("".join(parts), encoding="utf-8")
    return target


def caller(url: str, calls: int, windows: int, low: float, high: float) -> None:
    """The other process: call the next ticket window after window; print each call's two bounds."""
    from window_terminal.core import queueing
    from window_terminal.core.hall import resolve_hall
    from window_terminal.db.engine import make_engine

    engine = make_engine(url)
    hall = resolve_hall(engine, None)
    rng = random.Random(21)
    print(json.dumps({"ready": True}), flush=True)
    sys.stdin.readline()
    for i in range(calls):
        time.sleep(rng.uniform(low, high))
        window = 1 + i % windows
        start = now()
        info = queueing.call_next(engine, hall.id, window, actor="M001")
        returned = now()
        print(
            json.dumps({"window": window, "number": info.number, "start": start, "returned": returned}),
            flush=True,
        )
        queueing.start_service(engine, hall.id, window, actor="M001")  # the next call there finishes this one
    engine.dispose()


def prepare(folder: Path, windows: int, tickets: int) -> str:
    from window_terminal.core import queueing
    from window_terminal.core.hall import load_hall, resolve_hall
    from window_terminal.db.engine import make_engine
    from window_terminal.db.migrate import upgrade

    url = f"sqlite:///{folder / 'hall.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    load_hall(engine, make_definition(folder, windows))
    hall = resolve_hall(engine, None)
    for i in range(tickets):  # a line's day holds 999 numbers: spread them over the 8 lines
        queueing.take_ticket(engine, hall.id, LINES[i % len(LINES)], actor="C001")
    for number in range(1, windows + 1):
        queueing.set_window_status(engine, hall.id, number, "open", actor="M001")
    engine.dispose()
    return url


async def run_board(url: str, args: argparse.Namespace) -> dict[str, Any]:
    from textual.widgets import DataTable

    from window_terminal.app import make_app
    from window_terminal.config import Settings
    from window_terminal.core.hall import resolve_hall
    from window_terminal.db.engine import make_engine

    engine = make_engine(url)
    app = make_app(
        "board", settings=Settings(database_url=url), engine=engine, hall=resolve_hall(engine, None)
    )

    def look() -> dict[str, str]:
        table = app.screen.query_one("#windows", DataTable)
        return {str(key.value): str(table.get_cell(key, "ticket")) for key in table.rows}

    clock = FrameClock(app, look)
    process = subprocess.Popen(
        [sys.executable, __file__, "--caller", url, str(args.calls), str(args.windows), "0.2", "0.6"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert process.stdin is not None and process.stdout is not None
    calls: list[dict[str, Any]] = []
    try:
        async with app.run_test(headless=False, size=(160, 70)):
            await clock.wait(lambda seen: bool(seen) and len(seen) == args.windows, after=0, timeout=60)
            await asyncio.sleep(1.5)
            idle_from = len(clock.frames)
            await asyncio.sleep(5.0)
            idle = clock.frames[idle_from:]
            json.loads(process.stdout.readline())
            process.stdin.write("go\n")
            process.stdin.flush()
            loop = asyncio.get_running_loop()
            while line := await loop.run_in_executor(None, process.stdout.readline):
                calls.append(json.loads(line))
            await asyncio.sleep(1.0)  # the last call's frame
            frames = list(clock.frames)
    finally:
        process.kill()
        process.wait(timeout=10)
        engine.dispose()
    if len(calls) != args.calls:
        raise RunFailed(f"the caller made {len(calls)} of {args.calls} calls")
    samples, lower, sizes, missed = [], [], [], []
    for call in calls:
        window, number = str(call["window"]), call["number"]
        frame = clock.first(
            lambda seen, w=window, n=number: bool(seen) and n in seen.get(w, ""), after=call["start"]
        )
        if frame is None:
            missed.append(f"{number}@{window}")
            continue
        samples.append(ms(frame.at - call["start"]))
        lower.append(ms(frame.at - call["returned"]))
        sizes.append(frame.size)
    if missed:
        raise RunFailed(f"{len(missed)} calls never painted on the board: {missed[:10]}")
    figures = latency_figures("commit_to_frame", samples, lower_bounds_ms=lower)
    figures.update(
        {
            "windows": args.windows,
            "waiting_tickets": args.waiting,
            "call_frame_bytes_p50": int(statistics.median(sizes)),
            "idle_frames_per_s": round(len(idle) / 5.0, 1),
            "idle_bytes_per_s": int(sum(f.size for f in idle) / 5.0),
            "frames_painted": len(frames),
        }
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=220, help="calls timed (a p99 needs 200)")
    parser.add_argument("--windows", type=int, default=50)
    parser.add_argument("--waiting", type=int, default=2000, help="tickets still waiting after the last call")
    parser.add_argument("--caller", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--prepare", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        folder, windows, tickets = args.prepare
        print(prepare(Path(folder), int(windows), int(tickets)))
        return
    if args.caller:
        url, calls, windows, low, high = args.caller
        caller(url, int(calls), int(windows), float(low), float(high))
        return
    report = Report("board_refresh")
    report.add(describe_machine())
    folder = Path(tempfile.mkdtemp(prefix="wt-board-bench-"))
    try:
        started = time.perf_counter()
        # In a process of its own, as `wt hall load` is: loading a hall imports pypinyin (200,000
        # objects a board never holds, whose garbage collection took 250–570 ms at a time here).
        command = [
            sys.executable,
            __file__,
            "--prepare",
            str(folder),
            str(args.windows),
            str(args.waiting + args.calls),
        ]
        url = subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()
        print(
            f"setup: {args.windows} windows, {args.waiting + args.calls} tickets in "
            f"{time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        with MachineProbe() as probe:
            report.add(asyncio.run(run_board(url, args)))
        report.add(probe.figures())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report.target("commit_to_frame_p99_ms", 150)
    report.finish()


if __name__ == "__main__":
    main()
