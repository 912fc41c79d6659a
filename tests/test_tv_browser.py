"""The hall TV page in Debian's chromium (headless, driven by playwright): what a person in the hall sees.

Each test runs its own ``wt serve display`` process on a SQLite file; calls are made with the queue
engine from the test, like a counter PC would. The page is never reloaded: it has to survive a
killed server and a frozen one by itself. Screenshots are kept in tests/artifacts/.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from benchmarks._common import TvServer
from window_terminal.core import queueing as q
from window_terminal.core.hall import HallRef, resolve_hall
from window_terminal.db.engine import make_engine, write_session
from window_terminal.db.models import Hall

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
STAFF_NAMES = ("王芳", "李静", "张伟")  # at windows 1–3 in the demo hall: never on the TV

pytestmark = pytest.mark.browser

# The called number's ink height (not its line box) over the viewport height.
NUMBER_RATIO = """() => {
  const n = document.getElementById('number');
  const cs = getComputedStyle(n);
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = cs.fontWeight + ' ' + cs.fontSize + ' ' + cs.fontFamily;
  const m = ctx.measureText(n.textContent);
  const box = n.getBoundingClientRect();
  const panel = document.getElementById('newest').getBoundingClientRect();
  return {ink: (m.actualBoundingBoxAscent + m.actualBoundingBoxDescent) / innerHeight,
          box: box.height / innerHeight, inside: box.left >= panel.left - 1 && box.right <= panel.right + 1
          && box.top >= 0 && box.bottom <= innerHeight};
}"""


def require_browser() -> None:
    missing = [
        what
        for what, ok in (("chromium", Path(CHROMIUM).exists()), ("playwright", _has_playwright()))
        if not ok
    ]
    if missing:
        if os.environ.get("WT_REQUIRE_BROWSER") == "1":
            pytest.fail(
                f"{', '.join(missing)} missing but WT_REQUIRE_BROWSER=1: apt-get install chromium; pip install -e .[test]"
            )
        pytest.skip(f"{', '.join(missing)} not installed")


def _has_playwright() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def playwright() -> Iterator[object]:
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright) -> Iterator[object]:
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--autoplay-policy=no-user-gesture-required", "--no-sandbox", "--disable-dev-shm-usage"],
    )
    yield chromium
    chromium.close()


@pytest.fixture
def hall_tv(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[Engine, HallRef, TvServer]]:
    engine = make_engine(sqlite_url)
    hall = resolve_hall(engine, None)
    for window in (1, 2, 3):
        q.set_window_status(engine, hall.id, window, "open", actor=f"C00{window}")
    for _ in range(10):
        q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    server = TvServer(sqlite_url, tmp_path / "data")
    try:
        yield engine, hall, server
    finally:
        server.stop()
        engine.dispose()


def call(engine: Engine, hall: HallRef, window: int) -> str:
    info = q.call_next(engine, hall.id, window, actor="M001")
    assert info is not None
    q.start_service(engine, hall.id, window, actor="M001")
    return info.number


def calls_at_once(engine: Engine, hall: HallRef, windows: tuple[int, ...]) -> tuple[list[str], float]:
    """One call at each window, all started within a few milliseconds (three clerks pressing the key
    together); the numbers called and the spread of the start instants in ms."""
    barrier = threading.Barrier(len(windows))
    starts: list[float] = []
    numbers: list[str] = []

    def press(window: int) -> None:
        barrier.wait()
        starts.append(time.perf_counter())
        info = q.call_next(engine, hall.id, window, actor="M001")
        assert info is not None
        numbers.append(info.number)

    threads = [threading.Thread(target=press, args=(w,)) for w in windows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(numbers) == len(windows)
    return numbers, (max(starts) - min(starts)) * 1000


def open_page(browser, server: TvServer, width: int = 1920, height: int = 1080, query: str = ""):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(server.address + "/" + query)
    page.wait_for_function("window.__wt && window.__wt.state.lastSeq > 0", timeout=15_000)
    return page


def shown_numbers(page) -> list[str]:
    return page.evaluate("window.__wt.state.calls.map(c => c.number)")


def test_the_called_number_fills_the_tv_at_1920x1080_1366x768_and_portrait(browser, hall_tv):
    engine, hall, server = hall_tv
    server.start()
    page = open_page(browser, server)
    earlier = [call(engine, hall, 1), call(engine, hall, 2)]
    q.broadcast(engine, hall.id, "11:30至12:00系统维护，暂停不动产业务取号", actor="M001")
    number = call(engine, hall, 3)
    page.wait_for_function(f"document.getElementById('number').textContent === '{number}'", timeout=5_000)
    page.wait_for_timeout(300)
    assert page.inner_text("#recent").split()[:4:3] == [earlier[1], earlier[0]]
    assert "系统维护" in page.inner_text("#broadcast")
    assert page.inner_text("#window") == "3"
    first = page.evaluate(NUMBER_RATIO)
    assert first["ink"] >= 0.25 and first["inside"], first
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "tv_1920x1080.png"))
    body = page.inner_text("body")
    assert f"请{number}号到3号窗口办理" in body and "等候人数" in body
    assert not any(name in body for name in STAFF_NAMES), "a clerk's name is on the public TV"
    assert "http" not in re.sub(r"http://127\.0\.0\.1:\d+", "", page.content())  # no internet resources

    for width, height, least in ((1366, 768, 0.25), (1080, 1920, 0.12)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)
        ratio = page.evaluate(NUMBER_RATIO)
        assert ratio["ink"] >= least and ratio["inside"], (width, height, ratio)
        page.screenshot(path=str(ARTIFACTS / f"tv_{width}x{height}.png"))
    page.close()


def test_a_killed_server_is_followed_by_itself_and_the_calls_made_meanwhile_shown_once(browser, hall_tv):
    engine, hall, server = hall_tv
    server.start()
    page = open_page(browser, server)
    before = call(engine, hall, 1)
    page.wait_for_function(f"window.__wt.state.calls[0]?.number === '{before}'", timeout=5_000)

    server.kill()
    meanwhile = [call(engine, hall, 2), call(engine, hall, 3)]
    page.wait_for_selector("#stale", state="visible", timeout=10_000)
    server.start()
    page.wait_for_function(f"window.__wt.state.calls[0]?.number === '{meanwhile[-1]}'", timeout=10_000)
    page.wait_for_selector("#stale", state="hidden", timeout=10_000)
    numbers = shown_numbers(page)
    assert numbers[:3] == [meanwhile[1], meanwhile[0], before]
    assert len(numbers) == len(set(numbers)), f"a call is shown twice: {numbers}"
    assert page.evaluate("window.__wt.connections") >= 2
    after = call(engine, hall, 1)  # and it is live again
    page.wait_for_function(f"document.getElementById('number').textContent === '{after}'", timeout=5_000)
    page.close()


def test_a_frozen_server_shows_the_stale_banner_and_it_goes_when_live_again(browser, hall_tv):
    engine, hall, server = hall_tv
    server.start()
    page = open_page(browser, server)
    assert page.is_hidden("#stale")
    server.signal(signal.SIGSTOP)
    started = time.monotonic()
    page.wait_for_selector("#stale", state="visible", timeout=10_000)
    assert time.monotonic() - started < 8
    assert "连接中断，正在重连" in page.inner_text("#stale")
    number = call(engine, hall, 2)
    server.signal(signal.SIGCONT)
    page.wait_for_selector("#stale", state="hidden", timeout=15_000)
    page.wait_for_function(f"document.getElementById('number').textContent === '{number}'", timeout=10_000)
    page.close()


def _sox(*args: str) -> str:
    result = subprocess.run(["sox", *args], capture_output=True, text=True, timeout=30, check=True)
    return result.stdout + result.stderr


def test_three_calls_at_once_are_announced_in_order_without_overlap(browser, hall_tv, tmp_path):
    engine, hall, server = hall_tv
    if not shutil_which("sox") or not shutil_which("espeak-ng"):
        if os.environ.get("WT_REQUIRE_BROWSER") == "1":
            pytest.fail("sox and espeak-ng are needed: apt-get install sox espeak-ng")
        pytest.skip("sox or espeak-ng not installed")
    with write_session(engine) as s:  # a brisk voice keeps the test short
        row = s.get(Hall, hall.id)
        assert row is not None
        row.settings = {**row.settings, "thresholds": {**row.settings["thresholds"], "voice_speed": 320}}
    server.start()
    page = open_page(browser, server)
    numbers, spread_ms = calls_at_once(engine, hall, (1, 2, 3))
    page.wait_for_function(
        "window.__wt.audioLog.length === 3 && window.__wt.audioLog.every(a => a.ended)", timeout=40_000
    )
    log = page.evaluate("window.__wt.audioLog")
    # What makes this a test of overlap: every call reached the page while the first announcement was
    # still playing, so a player without a queue would have talked over it. (How far apart the three
    # presses started depends on how busy the machine is; this does not.)
    assert all(item["queued"] < log[0]["ended"] for item in log), (spread_ms, log)
    assert sorted(item["number"] for item in log) == sorted(numbers)
    assert [item["seq"] for item in log] == sorted(item["seq"] for item in log), "not in call order"
    assert all(item["how"] == "ended" for item in log), log
    for earlier, later in zip(log, log[1:]):
        assert later["started"] >= earlier["ended"], "two announcements overlapped"
    for item in log:
        path = tmp_path / f"{item['seq']}.wav"
        with urllib.request.urlopen(server.address + item["url"], timeout=10) as response:
            path.write_bytes(response.read())
        duration = float(_sox("--i", "-D", str(path)).strip())
        assert 1.5 < duration < 15, duration
        played = (item["ended"] - item["started"]) / 1000
        # Played to its end, not cut off by the next (loading the file adds a little).
        assert duration - 0.3 <= played < duration + 5, (played, duration)
        stat = _sox(str(path), "-n", "stat")
        rms = float(re.search(r"RMS\s+amplitude:\s+([\d.]+)", stat).group(1))  # type: ignore[union-attr]
        assert rms > 0.01, f"{path} is silent: {stat}"
    page.close()


def shutil_which(name: str) -> str | None:
    import shutil

    return shutil.which(name)


def test_a_browser_that_blocks_autoplay_asks_once_for_a_click_and_then_speaks(playwright, hall_tv):
    """A TV browser started without the kiosk autoplay flag: the page asks "点击开启声音" once; after
    the click the waiting announcement plays."""
    engine, hall, server = hall_tv
    server.start()
    strict = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--autoplay-policy=document-user-activation-required",
            "--no-sandbox",
            "--disable-dev-shm-usage",
        ],
    )
    try:
        # Nothing evaluated in the page before the click: playwright's waits and evaluations run
        # with a user gesture, which the browser would count as the click it wants.
        page = strict.new_page(viewport={"width": 1366, "height": 768})
        page.goto(server.address + "/")
        page.wait_for_timeout(2000)
        call(engine, hall, 1)
        page.wait_for_timeout(3000)
        assert page.is_visible("#sound"), "no overlay although the browser blocks sound"
        assert page.inner_text("#sound") == "点击开启声音"
        page.click("#sound")
        page.wait_for_function("window.__wt.audioLog.length === 1", timeout=10_000)
        assert page.is_hidden("#sound")
    finally:
        strict.close()
