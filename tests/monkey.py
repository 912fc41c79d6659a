"""Monkey tests of every screen (issue 19): seeded random keys, pastes and resizes through Pilot.

    problems = asyncio.run(monkey(stage, "counter", seed=7, keys=300))

``open_screen`` is the one place that knows how each screen is opened (which app, which options,
which screen pushed on top); when screens start behind a sign-in, only it changes. ``monkey``
presses, pastes and resizes (down to 80×24), then waits for the workers and returns what went
wrong: an exception that reached the app, a screen still busy, a core call that failed with
something other than a refusal (the screens show those as "the action failed"), and the database
left inconsistent (``fuzz_kit.consistency_problems``).
"""

from __future__ import annotations

import asyncio
import random
import string
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from tests import fuzz_kit
from window_terminal.app import make_app
from window_terminal.config import Settings
from window_terminal.core.hall import HallRef

SCREENS = (
    "home",
    "counter",
    "intake",
    "return_visit",
    "backoffice",
    "board",
    "status",
    "kiosk",
    "display",
    "rate",
)
NOW = datetime(2026, 3, 2, 9, 30)
ID_NUMBER = "11010519491231002X"

# Keys a person may press. Not ``q``: on most screens it quits the app (which is allowed, but ends
# the run); the login screen's and the hall display's ``escape`` likewise.
KEYS = (
    [*(c for c in string.ascii_lowercase if c != "q"), *string.digits, *"ABCXZ #-./"]
    + [f"f{n}" for n in range(1, 13)]
    + ["enter"] * 6
    + ["escape"] * 3
    + ["tab"] * 4
    + ["shift+tab", "up", "down", "left", "right", "space", "backspace", "delete", "home", "end"]
    + ["pageup", "pagedown", "ctrl+a", "ctrl+e", "ctrl+k", "ctrl+u", "ctrl+s", "ctrl+n", "ctrl+r"]
)
PASTES = (
    ID_NUMBER,
    "１１０１０５１９４９１２３１００２ｘ\n",
    "1101051949123100²X",
    "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",
    "13800138000\u200b",
    "张三\u3000",
    "C002",
    "1234",
    "BIZ",
    "A001",
    "yyzz",
    "\x00\x1b[2J",
    "😀𠀀\u202e",
    "x" * 300,
    "'; DROP TABLE ticket; --",
    "line one\nline two\r\n",
)
SIZES = [(80, 24), (100, 30), (120, 36), (160, 50), (80, 40), (200, 24)]


@dataclass
class Stage:
    """The database, hall and settings the screens run against (a demo hall)."""

    engine: Engine
    hall: HallRef
    settings: Settings
    case_no: str = ""  # a case waiting for a supplement, for the return visit
    failures: list[str] = field(default_factory=list)


def prepare(stage: Stage) -> None:
    """What the screens need to have something to show: waiting tickets, a case with a notice."""
    from window_terminal.core import intake, queueing

    for line in ("BIZ", "BIZ", "TAX"):
        queueing.take_ticket(stage.engine, stage.hall.id, line, actor="C001")
    info = intake.item_info(stage.engine, stage.hall.id, "SCJG-0006")
    checks = intake.default_checks(info)
    checks[0].status = "missing"
    result = intake.submit(
        stage.engine,
        stage.hall.id,
        applicant=intake.Applicant("张三", "resident_id", ID_NUMBER, "13800138000"),
        item="SCJG-0006",
        materials=checks,
        outcome="notice",
        window=2,
        actor="C002",
    )
    stage.case_no = result.case_no


@asynccontextmanager
async def open_screen(stage: Stage, name: str, size: tuple[int, int] = (120, 36)) -> AsyncIterator[Any]:
    """The one place that knows how a screen is opened; yields the Pilot."""
    options: dict[str, Any] = {}
    first = name
    if name in ("counter", "intake", "return_visit"):
        first, options = "counter", {"window": 2, "staff_code": "C002"}
    elif name == "backoffice":
        options = {"department": "SCJG", "staff_code": "R001"}
    elif name == "rate":
        options = {"window": 2, "device": "device:RATE"}  # as `wt rate` starts it: a hall.toml device
    elif name == "kiosk":
        options = {"device": "device:KIOSK1"}
    elif name == "board":
        options = {"staff_code": "M001"}  # as `wt board` opens it for the signed-in manager
    app = make_app(
        first, settings=stage.settings, engine=stage.engine, hall=stage.hall, now=lambda: NOW, **options
    )
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        if name in ("intake", "return_visit"):
            from window_terminal.screens.intake import IntakeScreen

            extra = {"case_no": stage.case_no} if name == "return_visit" else {}
            app.push_screen(IntakeScreen(window=2, staff_code="C002", **extra))
            await settle(pilot)
        yield pilot


async def settle(pilot: Any, rounds: int = 20, timeout: float = 15.0) -> bool:
    """Wait until no worker but the feed runs; False when some still run after ``timeout`` seconds
    (a load retrying against a broken database, or a screen stuck)."""
    import asyncio

    from textual.worker import WorkerCancelled

    for _ in range(rounds):
        busy = [w for w in pilot.app.workers if w.group != "feed" and not w.is_finished]
        if not busy:
            await pilot.pause()
            return True
        try:
            await asyncio.wait_for(pilot.app.workers.wait_for_complete(busy), timeout)
        except TimeoutError:
            return False
        except WorkerCancelled:
            pass  # a newer call of the same exclusive group replaced it (e.g. a reload on an event)
        await pilot.pause()
    return False


def _watch_failures(stage: Stage) -> tuple[Any, Any]:
    """Record every core call a screen ran that failed with something other than a refusal (shown
    as "the action failed"), and every load that had to be retried (shown as "reconnecting")."""
    from window_terminal.screens import work

    originals = (work.failure_text, work.reconnecting_text)

    def failed(exc: BaseException) -> str:
        if not isinstance(exc, work.REFUSALS):
            stage.failures.append(f"{type(exc).__name__}: {exc}")
        return originals[0](exc)

    def reconnecting(exc: BaseException, seconds: float) -> str:
        stage.failures.append(f"a load failed and is retried: {type(exc).__name__}: {exc}")
        return originals[1](exc, seconds)

    work.failure_text = failed  # type: ignore[assignment]
    work.reconnecting_text = reconnecting  # type: ignore[assignment]
    return originals


def _key_event(key: str) -> Any:
    """The key event the terminal driver would deliver for ``key`` (as Textual's own key presser
    builds it: a printable character keeps its character)."""
    import unicodedata

    from textual import events
    from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key

    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    try:
        char: str | None = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))
    except KeyError:
        char = key if len(key) == 1 else None
    return events.Key(key, char)


async def monkey(stage: Stage, name: str, *, seed: int, keys: int, burst: int = 1) -> tuple[int, list[str]]:
    """Press ``keys`` random keys (with pastes and resizes among them); returns (steps, problems).

    ``burst=1`` presses each key as Pilot does, waiting for the app to go idle after it (at most
    about 25 keys a second). A larger ``burst`` types like a fast typist or a barcode scanner: the keys
    go to the driver one after another and the app is waited for once per ``burst`` keys — the same
    keys in the same order, with workers still running while the next keys arrive (the long
    benchmark run uses it to reach 10,000 keys a screen).
    """
    from textual import events

    from window_terminal.screens import work

    rng = random.Random(f"{name}-{seed}")
    stage.failures = []
    original = _watch_failures(stage)
    problems: list[str] = []
    done = 0
    try:
        async with open_screen(stage, name) as pilot:
            app = pilot.app
            while done < keys and app.is_running:
                roll = rng.random()
                if roll < 0.05:
                    await pilot.resize_terminal(*rng.choice(SIZES))
                elif roll < 0.12:
                    target = app.focused or app.screen
                    target.post_message(events.Paste(rng.choice(PASTES)))
                else:
                    key = rng.choice(KEYS)
                    if name in ("home", "display") and key == "escape":
                        key = "tab"
                    if burst > 1:
                        app._driver.send_message(_key_event(key))
                        await asyncio.sleep(0)
                    else:
                        await pilot.press(key)
                done += 1
                if burst > 1 and done % burst == 0:
                    await pilot.pause()
                if done % max(25, 5 * burst) == 0 and not await settle(pilot, timeout=5.0):
                    problems.append(f"{name}: workers still running 5 s after key {done}")
                    break
            if not await settle(pilot):
                problems.append(f"{name}: workers still running 15 s after the last key")
            for screen in app.screen_stack:
                if getattr(screen, "busy", False):
                    problems.append(f"{type(screen).__name__} left busy after {done} keys")
    except Exception as exc:  # an exception that reached the app: the crash this looks for
        where = traceback.extract_tb(exc.__traceback__)[-3:]  # where it broke, for the shrunk test
        at = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(where))
        problems.append(
            f"{name} (seed {seed}) crashed after {done} keys: {type(exc).__name__}: {exc} at {at}"
        )
    finally:
        work.failure_text, work.reconnecting_text = original  # type: ignore[assignment]
    problems.extend(f"{name}: a core call failed: {f}" for f in dict.fromkeys(stage.failures))
    problems.extend(fuzz_kit.consistency_problems(stage.engine, stage.hall.id))
    return done, problems
