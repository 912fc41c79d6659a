"""Board with 50 windows and 2,000 waiting tickets: time to apply one change, and a full refresh.

    /work/venv/bin/python benchmarks/board_refresh.py [--tickets 2000] [--windows 50]

A temporary SQLite hall is generated from queue/ with 50 windows; 2,000 tickets are issued through
the queue engine. The board runs headless (Textual's run_test). "apply one change" is one real
event (a call committed by the queue engine) applied to the board's hall view plus the update of
the changed cells; "full refresh" is a new snapshot (hallview.load_view) plus redrawing every row
and one screen refresh. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

LINES = ["BIZ", "FOOD", "SOC", "HPF", "POP", "CONS", "GEN", "TAX"]


def make_definition(folder: Path, windows: int) -> Path:
    target = folder / "queue"
    shutil.copytree(REPO / "queue", target)
    parts = ["# generated: benchmarks/board_refresh.py\n"]
    for number in range(1, windows + 1):
        a, b = LINES[number % len(LINES)], LINES[(number + 3) % len(LINES)]
        parts.append(
            f'[[window]]\nnumber = {number}\nname = "{number}号窗口"\n'
            f'lines = [{{ code = "{a}", weight = 2 }}, {{ code = "{b}", weight = 1 }}]\n\n'
        )
    (target / "windows.toml").write_text("".join(parts), encoding="utf-8")
    return target


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--windows", type=int, default=50)
    parser.add_argument("--changes", type=int, default=40)
    args = parser.parse_args()

    from window_terminal.app import make_app
    from window_terminal.config import Settings
    from window_terminal.core import hallview, queueing
    from window_terminal.core.hall import load_hall, resolve_hall
    from window_terminal.db.engine import make_engine
    from window_terminal.db.feed import Feed
    from window_terminal.db.migrate import upgrade
    from window_terminal.screens.messages import HallEvents

    folder = Path(tempfile.mkdtemp(prefix="wt-board-bench-"))
    url = f"sqlite:///{folder / 'hall.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    load_hall(engine, make_definition(folder, args.windows))
    hall = resolve_hall(engine, None)
    # a day's worth of numbers per line is 999: spread 2,000 tickets over the 8 lines
    start = time.perf_counter()
    for i in range(args.tickets):
        queueing.take_ticket(engine, hall.id, LINES[i % len(LINES)], actor="C001")
    for number in range(1, args.windows + 1):
        queueing.set_window_status(engine, hall.id, number, "open", actor="M001")
    setup_s = time.perf_counter() - start
    print(f"setup: {args.windows} windows, {args.tickets} tickets in {setup_s:.1f}s", file=sys.stderr)

    app = make_app("board", settings=Settings(database_url=url), engine=engine, hall=hall)
    apply_ms: list[float] = []
    render_ms: list[float] = []
    full_ms: list[float] = []

    async def run() -> None:
        async with app.run_test(size=(160, 70)) as pilot:
            screen = app.screen
            while getattr(screen, "view", None) is None:
                await pilot.pause(0.05)
            await pilot.pause(0.2)
            feed = Feed(engine, hall.id, after=screen.view.position)
            for i in range(args.changes):
                window = 1 + i % args.windows
                queueing.call_next(engine, hall.id, window, actor="M001")
                queueing.start_service(engine, hall.id, window, actor="M001")
                events = feed.fetch()
                t0 = time.perf_counter()
                changes = screen.view.apply_all(events)  # what the HallEvents handler does …
                screen.redraw(changes)  # … and the cells it updates
                t1 = time.perf_counter()
                await pilot.pause()  # let the screen paint
                t2 = time.perf_counter()
                apply_ms.append((t1 - t0) * 1000)
                render_ms.append((t2 - t1) * 1000)
                del events, changes
            feed.close()
            for _ in range(5):
                t0 = time.perf_counter()
                view = hallview.load_view(engine, hall.id)
                screen.view = view
                screen.redraw(hallview.Changes(set(view.lines), set(view.windows), True, True, True))
                await pilot.pause()
                full_ms.append((time.perf_counter() - t0) * 1000)
            _ = HallEvents

    asyncio.run(run())
    engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)
    result = {
        "windows": args.windows,
        "waiting_tickets": args.tickets,
        "apply_change_ms": round(statistics.median(apply_ms), 2),
        "apply_change_p99_ms": round(max(apply_ms), 2),
        "paint_after_change_ms": round(statistics.median(render_ms), 2),
        "full_refresh_ms": round(statistics.median(full_ms), 1),
        "apply_change_target_ms": 30,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
