"""`wt serve board` in a real browser (textual-serve): headless chromium shows the number just called.

(The hall TV, `wt serve display`, is a page of its own: see test_tv_browser.py.)

textual-serve draws the terminal with xterm.js on a canvas, so the page's text is read from the
terminal's own buffer over the Chrome DevTools Protocol; a screenshot is kept in tests/artifacts/.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from benchmarks._common import free_port, sign_in_on_this_pc
from tests.conftest import TEST_PIN
from window_terminal.core import queueing as q

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = pytest.mark.browser

# Runs before the page's scripts: remember xterm.js's public options objects (it defines each
# option with Object.defineProperty), so the test can switch on its screen-reader mode, which
# mirrors the terminal's rows as DOM text.
CAPTURE_OPTIONS = """
window.__wtOptions = [];
const define = Object.defineProperty;
Object.defineProperty = function (target, name, descriptor) {
  if (name === 'screenReaderMode' && descriptor && descriptor.set) window.__wtOptions.push(target);
  return define.apply(this, arguments);
};
"""

READ_TERMINAL = """
(() => {
  for (const options of window.__wtOptions || []) {
    try { if (!options.screenReaderMode) options.screenReaderMode = true; } catch (e) {}
  }
  const tree = document.querySelector('.xterm-accessibility-tree, .xterm-accessibility');
  return tree ? tree.innerText : '';
})()
"""


def _wait_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on port {port} after {timeout}s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


async def _page_text_and_screenshot(
    devtools_port: int, url: str, expect: str, timeout: float, sign_in: tuple[str, str] | None = None
) -> tuple[str, bytes]:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        deadline = time.monotonic() + 20
        while True:
            try:
                async with http.get(f"http://127.0.0.1:{devtools_port}/json/list") as response:
                    targets = [t for t in await response.json(content_type=None) if t.get("type") == "page"]
                if targets:
                    break
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("chromium's DevTools endpoint did not come up")
            await asyncio.sleep(0.2)
        async with http.ws_connect(targets[0]["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            ids = iter(range(1, 1_000_000))

            async def cdp(method: str, **params: object) -> dict:
                message_id = next(ids)
                await ws.send_str(json.dumps({"id": message_id, "method": method, "params": params}))
                while True:
                    reply = json.loads((await ws.receive()).data)
                    if reply.get("id") == message_id:
                        if "error" in reply:
                            raise AssertionError(f"{method}: {reply['error']}")
                        return reply.get("result", {})

            await cdp("Page.enable")
            await cdp("Page.addScriptToEvaluateOnNewDocument", source=CAPTURE_OPTIONS)
            await cdp("Page.navigate", url=url)
            text = ""
            deadline = time.monotonic() + timeout
            if sign_in is not None:  # each browser session signs in, as at a PC
                while "工作人员登录" not in text and time.monotonic() < deadline:
                    await asyncio.sleep(0.5)
                    result = await cdp("Runtime.evaluate", expression=READ_TERMINAL, returnByValue=True)
                    text = str(result.get("result", {}).get("value") or "")
                assert "工作人员登录" in text, f"the browser was not asked to sign in; it shows: {text[:500]}"

                async def key(name: str, code: int, typed: str = "") -> None:
                    await asyncio.sleep(0.05)
                    for kind in ("keyDown", "keyUp"):
                        await cdp(
                            "Input.dispatchKeyEvent",
                            type=kind,
                            key=name,
                            code=name,
                            windowsVirtualKeyCode=code,
                            text=typed if kind == "keyDown" else "",
                        )

                await asyncio.sleep(1.0)  # the terminal settles; then give it the keyboard
                await cdp(
                    "Runtime.evaluate",
                    expression="document.querySelector('textarea') && document.querySelector('textarea').focus()",
                )
                code, pin = sign_in
                for char in code:  # Enter in the staff code field moves on to the PIN
                    await key(char, ord(char.upper()), char)
                await key("Enter", 13, "\r")
                await asyncio.sleep(0.3)
                for char in pin:
                    await key(char, ord(char), char)
                await key("Enter", 13, "\r")
            while time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                result = await cdp("Runtime.evaluate", expression=READ_TERMINAL, returnByValue=True)
                text = str(result.get("result", {}).get("value") or "")
                if expect in text:
                    break
            shot = await cdp("Page.captureScreenshot", format="png")
            return text, base64.b64decode(shot["data"])


def test_the_board_in_a_browser_shows_the_called_number(sqlite_url: str, tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("WT_REQUIRE_BROWSER") == "1":
            pytest.fail(
                f"{CHROMIUM} is missing but WT_REQUIRE_BROWSER=1: install it with apt-get install chromium"
            )
        pytest.skip("Debian's chromium is not installed")
    from window_terminal.core.hall import resolve_hall
    from window_terminal.db.engine import make_engine

    engine = make_engine(sqlite_url)
    hall = resolve_hall(engine, None)
    q.set_window_status(engine, hall.id, 3, "open", actor="C003")
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WT_")}
    env.update(
        WT_DATA_DIR=str(tmp_path / "data"), WT_CONFIG=str(tmp_path / "none.toml"), TEXTUAL_ANIMATIONS="none"
    )
    # the manager is signed in on the PC that runs the server: a browser must still sign in itself
    sign_in_on_this_pc(sqlite_url, tmp_path / "data", "M001", TEST_PIN)
    port, devtools = free_port(), free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "window_terminal.cli",
            "--db",
            sqlite_url,
            "serve",
            "board",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    profile = tempfile.mkdtemp(prefix="wt-chromium-")
    browser = None
    try:
        _wait_port(port, 30)
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30).read().decode()
        here = f"http://127.0.0.1:{port}/"
        outside = [
            u for u in re.findall(r'(?:href|src)="((?:https?:)?//[^"]*)"', page) if not u.startswith(here)
        ]
        assert not outside, f"the board's page loads from outside the hall: {outside}"
        called = q.call_next(engine, hall.id, 3, actor="C003")
        assert called is not None
        browser = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                f"--user-data-dir={profile}",
                f"--remote-debugging-port={devtools}",
                "--window-size=1280,800",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        text, png = asyncio.run(
            _page_text_and_screenshot(
                devtools, f"http://127.0.0.1:{port}/", called.number, 45, sign_in=("M001", TEST_PIN)
            )
        )
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "serve_board.png").write_bytes(png)
        (ARTIFACTS / "serve_board.txt").write_text(text, encoding="utf-8")
        assert called.number in text, (
            f"{called.number} not found in the page; see {ARTIFACTS / 'serve_board.txt'}"
        )
    finally:
        if browser is not None:
            _stop(browser)
        _stop(server)
        shutil.rmtree(profile, ignore_errors=True)
        engine.dispose()
