"""Key presses for one walk-in, driven through Textual Pilot exactly as a clerk types it.

The walk-in: the clerk signs in and types the window, calls the ticket, takes in an application for
居住证办理 (GA-0001) with two materials missing, issues the one-time notice, and — the applicant back
with a new ticket — looks the case up by ID number, checks the two listed materials and accepts
(the case goes to the 公安 department's inbox). A reviewer of that department signs in on the back
office and approves; the applicant comes for the result and the clerk records the pickup.

Every key goes through ``pilot.press`` and is counted. Typed data (staff code, PIN, window number,
name, ID number, phone, search initials) is counted apart from the commands and navigation
(Enter, Tab, arrows, function keys, one-letter actions): the target (issue 15) is that commands
stay at 40 or fewer — about 78 before the direct keys.

Tickets are taken beforehand as a kiosk would (no clerk keys). SQLite in a scratch folder.

    .venv/bin/python benchmarks/walk_in_keys.py [--size 80x24]

Last line: JSON ``{"keys": N, "typed_data": M, "commands": N-M, "target_commands": 40, "steps": {...}}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

from _common import QUEUE  # noqa: E402

ID_NUMBER = "11010519491231002X"
PIN = "246813"
TARGET_COMMANDS = 40


class KeyCounter:
    """Presses keys through Pilot and counts them per step, typed data apart."""

    def __init__(self) -> None:
        self.steps: dict[str, dict[str, int]] = {}
        self.step = ""
        self.pilot: Any = None

    def begin(self, step: str, pilot: Any) -> None:
        self.step = step
        self.pilot = pilot
        self.steps.setdefault(step, {"keys": 0, "typed_data": 0})

    async def settle(self) -> None:
        pilot = self.pilot
        for _ in range(60):
            busy = [w for w in pilot.app.workers if w.group != "feed" and not w.is_finished]
            if not busy:
                await pilot.pause()
                if not [w for w in pilot.app.workers if w.group != "feed" and not w.is_finished]:
                    return
            else:
                await pilot.app.workers.wait_for_complete(busy)
            await pilot.pause()

    async def press(self, *keys: str) -> None:
        """Command or navigation keys."""
        for key in keys:
            await self.pilot.press(key)
            self.steps[self.step]["keys"] += 1
            await self.settle()

    async def type(self, text: str) -> None:
        """Data the clerk types, one key per character (a Chinese name: one per character, as an IME commits it)."""
        for char in text:
            await self.pilot.press(char)
            self.steps[self.step]["keys"] += 1
            self.steps[self.step]["typed_data"] += 1
        await self.settle()

    async def until(self, check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not check():
            if loop.time() > deadline:
                raise AssertionError(
                    f"{self.step}: {what} did not happen (screen {type(self.pilot.app.screen).__name__})"
                )
            await self.pilot.pause(0.05)
        await self.settle()


def screen_is(app: Any, name: str) -> Callable[[], bool]:
    return lambda: type(app.screen).__name__ == name


def shown(app: Any, selector: str) -> str:
    try:
        return str(app.screen.query_one(selector).render())
    except Exception:
        return ""


async def walk_in(url: str, data_dir: Path, size: tuple[int, int] = (120, 36)) -> dict[str, Any]:
    """Drive the whole walk-in; return the counts and the case's final status."""
    from sqlalchemy import select

    from window_terminal.app import make_app
    from window_terminal.config import Settings
    from window_terminal.core import queueing
    from window_terminal.core.hall import resolve_hall
    from window_terminal.core.staff import change_pin
    from window_terminal.db.engine import make_engine, read_session
    from window_terminal.db.models import Case

    engine = make_engine(url)
    hall = resolve_hall(engine, None)
    for code in ("C002", "R004"):
        change_pin(engine, hall.id, code, "1234", PIN)  # done once, at the first sign-in
    settings = Settings(database_url=url, drafts_dir=str(data_dir / "drafts"))
    counter = KeyCounter()
    kiosk = "device:KIOSK1"

    def take() -> None:
        queueing.take_ticket(engine, hall.id, "BIZ", actor=kiosk)

    try:
        take()
        app = make_app("home", settings=settings, engine=engine, hall=hall)
        async with app.run_test(size=size) as pilot:
            counter.begin("sign_in", pilot)
            await counter.until(screen_is(app, "LoginScreen"), "the sign-in screen")
            await counter.type("C002")
            await counter.press("enter")
            await counter.type(PIN)
            await counter.press("enter")
            await counter.until(lambda: "窗口号" in shown(app, "#login_error"), "the window prompt")
            await counter.type("2")
            await counter.press("enter")
            await counter.until(screen_is(app, "CounterScreen"), "the counter")
            await counter.until(lambda: "已连接" in shown(app, "#header"), "the counter's view")

            counter.begin("call", pilot)
            await counter.press("f2")
            await counter.until(lambda: "A001" in shown(app, "#current"), "the call")

            counter.begin("intake", pilot)
            await counter.press("i")
            await counter.until(screen_is(app, "IntakeScreen"), "the intake")
            await counter.until(lambda: app.screen.index is not None, "the catalogue")
            await counter.type("王小明")
            await counter.press("tab")
            await counter.type(ID_NUMBER)
            await counter.press("tab")
            await counter.type("13800138000")
            await counter.press("tab")
            await counter.type("jzzbl")
            await counter.press("enter")
            await counter.until(lambda: app.screen.item is not None, "the item")
            # 申请人身份证件 and 合法稳定住所证明 missing (rows 2 and 3)
            await counter.press("down", "2", "down", "2")
            missing = [c for c in app.screen.checks if c.status == "missing"]
            assert len(missing) == 2, f"two materials should be missing, not {len(missing)}"

            counter.begin("one_time_notice", pilot)
            await counter.press("f6")
            await counter.until(screen_is(app, "ConfirmDialog"), "the notice's confirmation")
            await counter.press("enter")
            await counter.until(screen_is(app, "DocumentPreview"), "the notice")
            await counter.press("escape")
            await counter.until(screen_is(app, "CounterScreen"), "back at the counter")

            counter.begin("return_visit", pilot)
            take()
            await counter.press("f2")
            await counter.until(lambda: "A002" in shown(app, "#current"), "the second call")
            await counter.press("c")
            await counter.type(ID_NUMBER)
            await counter.press("enter")
            await counter.until(screen_is(app, "IntakeScreen"), "the return visit")
            await counter.until(lambda: app.screen.item is not None, "the case's materials")
            await counter.press("1", "down", "1")

            counter.begin("acceptance_and_handoff", pilot)
            await counter.press("f5")
            await counter.until(screen_is(app, "DocumentPreview"), "the acceptance notice")
            await counter.press("escape")
            await counter.until(screen_is(app, "CounterScreen"), "back at the counter")
            await counter.until(lambda: "公安" in shown(app, "#message"), "the handoff message")

        with read_session(engine) as s:
            case = s.execute(select(Case)).scalars().one()
            case_no = case.case_no
            assert case.status in ("accepted", "in_review"), case.status

        app = make_app("home", settings=settings, engine=engine, hall=hall)
        async with app.run_test(size=size) as pilot:
            counter.begin("back_office_approval", pilot)
            await counter.until(screen_is(app, "LoginScreen"), "the sign-in screen")
            await counter.type("R004")
            await counter.press("enter")
            await counter.type(PIN)
            await counter.press("enter")
            await counter.until(screen_is(app, "BackofficeScreen"), "the back office")
            await counter.until(
                lambda: any(r.get("case_no") == case_no for r in app.screen.rows.values()), "the task"
            )
            await counter.press("c")  # claim the task
            await counter.until(lambda: "已认领" in shown(app, "#message"), "the claim")
            await counter.press("a")
            await counter.until(screen_is(app, "ReasonModal"), "the approval dialog")
            await counter.type("同意")  # the opinion goes on the record
            await counter.press("enter", "enter")  # OK, then confirm the decision
            await counter.until(screen_is(app, "BackofficeScreen"), "the decision")
            await counter.until(lambda: "已同意" in shown(app, "#message"), "the approval")

        with read_session(engine) as s:
            decided = s.execute(select(Case)).scalars().one().status
            assert decided == "decided", decided

        app = make_app("counter", settings=settings, engine=engine, hall=hall, window=2, staff_code="C002")
        async with app.run_test(size=size) as pilot:
            counter.begin("pickup", pilot)  # the counter is still open from the morning
            await counter.until(lambda: "已连接" in shown(app, "#header"), "the counter's view")
            take()
            await counter.press("f2")
            await counter.until(lambda: "A003" in shown(app, "#current"), "the third call")
            await counter.press("c")
            await counter.type(ID_NUMBER)
            await counter.press("enter")
            await counter.until(screen_is(app, "TextDialog"), "the case")
            await counter.press("enter")
            await counter.until(lambda: "已取件" in shown(app, "#message"), "the pickup")
            await counter.press("f")

        with read_session(engine) as s:
            status = s.execute(select(Case)).scalars().one().status
    finally:
        engine.dispose()
    keys = sum(step["keys"] for step in counter.steps.values())
    typed = sum(step["typed_data"] for step in counter.steps.values())
    return {
        "keys": keys,
        "typed_data": typed,
        "commands": keys - typed,
        "target_commands": TARGET_COMMANDS,
        "met": keys - typed <= TARGET_COMMANDS,
        "case_status": status,
        "size": f"{size[0]}x{size[1]}",
        "steps": counter.steps,
    }


def scratch_hall(folder: Path) -> str:
    from window_terminal.core.hall import load_hall
    from window_terminal.db.engine import make_engine
    from window_terminal.db.migrate import upgrade

    url = f"sqlite:///{folder / 'walk_in.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    load_hall(engine, QUEUE)
    engine.dispose()
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="120x36", help="terminal size, e.g. 80x24")
    args = parser.parse_args()
    width, height = (int(x) for x in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory() as folder:
        url = scratch_hall(Path(folder))
        result = asyncio.run(walk_in(url, Path(folder), (width, height)))
    for step, figures in result["steps"].items():
        print(
            f"{step:24} keys {figures['keys']:3}  typed {figures['typed_data']:3}  "
            f"commands {figures['keys'] - figures['typed_data']:3}"
        )
    print(
        f"{'all':24} keys {result['keys']:3}  typed {result['typed_data']:3}  commands {result['commands']:3}"
        f"  (target ≤ {TARGET_COMMANDS})"
    )
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
