"""The hall TV page in Debian's chromium: call → number on screen, its size, recovery, the stale banner, voice.

    .venv/bin/python benchmarks/display_browser.py [--calls 100] [--db sqlite|postgres]

A scratch database (SQLite temp file by default, or a scratch PostgreSQL database) with the demo
hall; ``wt serve display`` runs as its own process; headless chromium (playwright, Debian's
/usr/bin/chromium) shows the page at 1920×1080. The calls are made with the queue engine from this
process at random 50–150 ms intervals. Figures:

- call_to_browser_p50_ms / _p99_ms: from the call's commit (wall clock, right after call_next
  returns) to the number appearing in the page's DOM (a MutationObserver on the big number);
- number_height_ratio: the called number's ink height ÷ the viewport height;
- recover_s: the server killed (SIGKILL) and started again → the page live (a heartbeat from the
  new server, and a call made during the outage on screen), with no reload or click;
- stale_banner_s: the server frozen (SIGSTOP) → the "reconnecting" banner shown;
- announcements_in_order: three calls at once are announced in call order, none overlapping.

Last line: one JSON object with the figures and their targets.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

from _common import TvServer, percentile, prepare_hall, scratch_postgres, scratch_sqlite

CHROMIUM = "/usr/bin/chromium"
WATCH = """() => {
  window.__seen = {};
  const n = document.getElementById('number');
  new MutationObserver(() => {
    const t = performance.timeOrigin + performance.now();
    if (!(n.textContent in window.__seen)) window.__seen[n.textContent] = t;
  }).observe(n, {childList: true, characterData: true, subtree: true});
}"""
RATIO = """() => {
  const n = document.getElementById('number');
  const cs = getComputedStyle(n);
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = cs.fontWeight + ' ' + cs.fontSize + ' ' + cs.fontFamily;
  const m = ctx.measureText(n.textContent);
  return (m.actualBoundingBoxAscent + m.actualBoundingBoxDescent) / innerHeight;
}"""


def set_thresholds(engine, hall_id: int, **values: int) -> None:
    from window_terminal.db.engine import write_session
    from window_terminal.db.models import Hall

    with write_session(engine) as s:
        hall = s.get(Hall, hall_id)
        assert hall is not None
        hall.settings = {**hall.settings, "thresholds": {**hall.settings.get("thresholds", {}), **values}}


def run(url: str, calls: int) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    from window_terminal.core import queueing

    engine, hall_id = prepare_hall(url)
    windows = (1, 2, 3)
    for window in windows:
        queueing.set_window_status(engine, hall_id, window, "open", actor="M001")
    for _ in range(calls + 20):
        queueing.take_ticket(engine, hall_id, "BIZ", actor="C001")
    set_thresholds(engine, hall_id, announce_repeat=0)  # latency first, without 100 announcements

    def call(window: int) -> tuple[str, float]:
        info = queueing.call_next(engine, hall_id, window, actor="M001")
        committed = time.time() * 1000
        assert info is not None
        queueing.start_service(engine, hall_id, window, actor="M001")
        return info.number, committed

    result: dict[str, object] = {}
    with ExitStack() as stack:
        data = stack.enter_context(tempfile.TemporaryDirectory(prefix="wt_tv_"))
        server = TvServer(url, Path(data))
        stack.callback(server.stop)
        server.start()
        p = stack.enter_context(sync_playwright())
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--autoplay-policy=no-user-gesture-required", "--no-sandbox"]
        )
        stack.callback(browser.close)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(f"{server.address}/")
        page.wait_for_function("window.__wt && window.__wt.state.lastSeq > 0", timeout=15_000)
        page.evaluate(WATCH)

        # 1. call → DOM
        rng = random.Random(16)
        committed: dict[str, float] = {}
        for i in range(calls):
            time.sleep(rng.uniform(0.05, 0.15))
            number, at = call(windows[i % len(windows)])
            committed[number] = at
        last = number
        page.wait_for_function(f"'{last}' in window.__seen", timeout=10_000)
        seen = page.evaluate("window.__seen")
        missing = [n for n in committed if n not in seen]
        latencies = [seen[n] - committed[n] for n in committed if n in seen]
        result["call_to_browser_p50_ms"] = round(percentile(latencies, 50), 1)
        result["call_to_browser_p99_ms"] = round(percentile(latencies, 99), 1)
        result["call_to_browser_max_ms"] = round(max(latencies), 1)
        result["calls"] = calls
        result["calls_not_shown"] = len(missing)

        # 2. size
        result["number_height_ratio"] = round(page.evaluate(RATIO), 3)

        # 3. recovery: kill, one call in the outage, start again (with the voice on from now)
        started = time.monotonic()
        server.kill()
        during, _ = call(1)
        set_thresholds(engine, hall_id, announce_repeat=1, voice_speed=320)
        server.launch()  # the page's own reconnection is timed, not the server's start
        page.wait_for_function(
            f"document.getElementById('number').textContent === '{during}' && "
            "document.getElementById('stale').hidden && Date.now() - window.__wt.state.lastBeat < 2500",
            timeout=30_000,
            polling=50,
        )
        result["recover_s"] = round(time.monotonic() - started, 2)
        numbers = page.evaluate("window.__wt.state.calls.map(c => c.number)")
        result["recover_duplicates"] = len(numbers) - len(set(numbers))

        # 4. stale banner
        page.wait_for_timeout(2500)
        started = time.monotonic()
        server.signal(signal.SIGSTOP)
        page.wait_for_selector("#stale", state="visible", timeout=30_000)
        result["stale_banner_s"] = round(time.monotonic() - started, 2)
        server.signal(signal.SIGCONT)
        page.wait_for_selector("#stale", state="hidden", timeout=30_000)

        # 5. three calls at once, announced
        barrier = threading.Barrier(3)
        made: list[str] = []

        def press(window: int) -> None:
            barrier.wait()
            made.append(call(window)[0])

        threads = [threading.Thread(target=press, args=(w,)) for w in windows]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        page.wait_for_function(
            "window.__wt.audioLog.length >= 3 && window.__wt.audioLog.slice(-3).every(a => a.ended)",
            timeout=60_000,
        )
        log = page.evaluate("window.__wt.audioLog.slice(-3)")
        in_order = [a["seq"] for a in log] == sorted(a["seq"] for a in log)
        no_overlap = all(b["started"] >= a["ended"] for a, b in zip(log, log[1:]))
        complete = sorted(a["number"] for a in log) == sorted(made) and all(a["how"] == "ended" for a in log)
        result["announcements_in_order"] = bool(in_order and no_overlap and complete)
        result["announcement_seconds"] = [round((a["ended"] - a["started"]) / 1000, 2) for a in log]
    engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    scratch = scratch_sqlite() if args.db == "sqlite" else scratch_postgres("wt_bench_tv")
    with scratch as url:
        result = run(url, args.calls)
    result.update(
        database=args.db,
        call_to_browser_p99_target_ms=300,
        number_height_ratio_target=0.25,
        recover_s_target=10,
        stale_banner_s_target=10,
        announcements_in_order_target=True,
    )
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
