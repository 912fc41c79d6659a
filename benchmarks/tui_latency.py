"""Counter terminal latency (Pilot, SQLite): call-next key press → ticket shown; catalogue search per
keystroke over 1000 items; app start → first interactive frame. Last line: one JSON object.

Start-up is measured twice. ``startup_s``: the app object started in this process until its lines
table shows the hall's first line. ``process_startup_s``: what a clerk waits for — ``wt counter`` run
as a new process on a pseudo-terminal until that text is painted — beside the same measure for a
one-label Textual app (``reference_textual_hello_s``), the floor any Textual program pays here.
The hall is loaded in a separate process, as ``wt demo`` does: loading it imports pypinyin (about
200,000 objects), which a counter never does, and whose garbage collection would be timed otherwise.

    /work/venv/bin/python benchmarks/tui_latency.py [--calls 30]
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import os
import pty
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

from window_terminal.app import make_app  # noqa: E402
from window_terminal.config import Settings  # noqa: E402
from window_terminal.core import queueing as q  # noqa: E402
from window_terminal.core.catalogue import CatalogueEntry, CatalogueIndex, load_entries  # noqa: E402
from window_terminal.core.hall import resolve_hall  # noqa: E402
from window_terminal.db.engine import make_engine  # noqa: E402

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


HELLO_APP = """
from textual.app import App
from textual.widgets import Label
class Hello(App):
    def compose(self):
        yield Label("商事登记")
Hello().run()
"""


def prepare(url: str) -> None:
    """Migrate and load the demo hall in a process of its own (see the module's docstring)."""
    script = (
        "import sys; from window_terminal.db.engine import make_engine;"
        " from window_terminal.db.migrate import upgrade; from window_terminal.core.hall import load_hall;"
        " e = make_engine(sys.argv[1]); upgrade(e); load_hall(e, sys.argv[2])"
    )
    subprocess.run([sys.executable, "-c", script, url, str(QUEUE)], check=True)


def painted_after(args: list[str], expect: str, *, env: dict[str, str], timeout: float = 30.0) -> float:
    """Seconds from starting ``args`` on a 120×36 pseudo-terminal until ``expect`` is painted."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    seen = b""
    wanted = expect.encode()
    try:
        while wanted not in seen:
            if time.perf_counter() - start > timeout:
                raise RuntimeError(f"{expect!r} not painted after {timeout}s: {seen[-300:]!r}")
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
        return time.perf_counter() - start
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        os.close(master)


def process_startup(url: str, tmp: str, runs: int = 3) -> tuple[float, float]:
    """Median seconds to the first painted frame: ``wt counter``, and a one-label Textual app."""
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "WT_DATABASE_URL": url,
        "WT_DATA_DIR": str(Path(tmp) / "data"),
        "TEXTUAL_ANIMATIONS": "none",
    }
    counter = [sys.executable, "-m", "window_terminal.cli", "--db", url, "counter", "--window", "2"]
    counter += ["--staff", "C002"]
    hello = [sys.executable, "-c", HELLO_APP]
    wt = [painted_after(counter, "商事登记", env=env) for _ in range(runs)]
    ref = [painted_after(hello, "商事登记", env=env) for _ in range(runs)]
    return statistics.median(wt), statistics.median(ref)


def search_per_key_ms(engine, hall_id: int) -> tuple[float, int]:
    from window_terminal.core.hall import pinyin_keys

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
        q.take_ticket(engine, hall.id, "BIZ", actor="C001")
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
        prepare(url)
        process_s, hello_s = process_startup(url, tmp)
        engine = make_engine(url)
        hall = resolve_hall(engine, None)
        settings = Settings(database_url=url, drafts_dir=str(Path(tmp) / "drafts"))
        startup, latencies = asyncio.run(measure_tui(engine, hall, settings, args.calls))
        per_key, items = search_per_key_ms(engine, hall.id)  # imports pypinyin: after the TUI
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
        "process_startup_s": round(process_s, 3),
        "process_startup_target_s": 1.5,
        "reference_textual_hello_s": round(hello_s, 3),
        "process_startup_over_reference": round(process_s / hello_s, 2),
        "calls": len(latencies),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
