"""Counter terminal latency (Pilot, SQLite): call-next key press → ticket shown; catalogue search per
keystroke over 1000 items; app start → first interactive frame. Last line: one JSON object.

    /work/venv/bin/python benchmarks/tui_latency.py [--calls 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

from window_terminal.app import make_app  # noqa: E402
from window_terminal.config import Settings  # noqa: E402
from window_terminal.core import queueing as q  # noqa: E402
from window_terminal.core.catalogue import CatalogueEntry, CatalogueIndex, load_entries  # noqa: E402
from window_terminal.core.hall import load_hall, pinyin_keys, resolve_hall  # noqa: E402
from window_terminal.db.engine import make_engine  # noqa: E402
from window_terminal.db.migrate import upgrade  # noqa: E402

QUEUE = Path(__file__).resolve().parents[1] / "queue"
WORDS = [
    "营业执照",
    "食品经营",
    "卫生许可",
    "公积金提取",
    "社会保障卡",
    "户口迁移",
    "建设工程",
    "药品零售",
    "税务登记",
    "不动产",
]


def search_per_key_ms(engine, hall_id: int) -> tuple[float, int]:
    entries = load_entries(engine, hall_id)
    n = len(entries)
    for i in range(1000 - n):
        name = f"{WORDS[i % len(WORDS)]}变更登记第{i}类"
        full, initials = pinyin_keys(name)
        entries.append(CatalogueEntry(10_000 + i, f"GEN-{i:04d}", name, "GEN", full, initials))
    index = CatalogueIndex(entries)
    queries = ["yyzz", "spjyxk", "gjjtq", "juzhuzheng", "营业执照", "SCJG-000", "bdcdj", "shbzk"]
    timings = []
    for query in queries:
        for k in range(1, len(query) + 1):
            start = time.perf_counter()
            index.search(query[:k])
            timings.append((time.perf_counter() - start) * 1000)
    return statistics.mean(timings), len(index)


async def measure_tui(engine, hall, settings, calls: int) -> tuple[float, list[float]]:
    for _ in range(calls + 2):
        q.take_ticket(engine, hall.id, "BIZ")
    app = make_app("counter", settings=settings, engine=engine, hall=hall, window=2, staff_code="C002")
    start = time.perf_counter()
    latencies = []
    async with app.run_test(size=(120, 36)) as pilot:
        while "商事登记" not in str(
            app.screen.query_one("#lines").get_row_at(0) if app.screen.query_one("#lines").row_count else ""
        ):
            await asyncio.sleep(0.005)
        startup = time.perf_counter() - start
        for _ in range(calls):
            current = app.screen.query_one("#current")
            before = str(current.render())
            # The key goes in as a terminal would deliver it (Pilot.press also waits for the app to
            # go idle, which would count Pilot's own settling time, not the clerk's wait).
            t0 = time.perf_counter()
            app.simulate_key("f2")
            while str(current.render()) == before:
                await asyncio.sleep(0.001)
            latencies.append((time.perf_counter() - t0) * 1000)
            await pilot.press("s")
            while app.screen.busy:
                await asyncio.sleep(0.002)
            await pilot.pause()
    return startup, latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3"
        engine = make_engine(url)
        upgrade(engine)
        load_hall(engine, QUEUE)
        hall = resolve_hall(engine, None)
        settings = Settings(database_url=url, drafts_dir=str(Path(tmp) / "drafts"))
        per_key, items = search_per_key_ms(engine, hall.id)
        startup, latencies = asyncio.run(measure_tui(engine, hall, settings, args.calls))
        engine.dispose()
    result = {
        "call_next_p50_ms": round(statistics.median(latencies), 2),
        "call_next_p95_ms": round(sorted(latencies)[int(0.95 * (len(latencies) - 1))], 2),
        "call_next_target_ms": 50,
        "search_per_key_ms": round(per_key, 3),
        "search_items": items,
        "search_target_ms": 10,
        "startup_s": round(startup, 3),
        "startup_target_s": 1.5,
        "calls": len(latencies),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
