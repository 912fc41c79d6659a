"""The hall TV: calls from other processes appear in large digits and are announced; its looks."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from textual.widgets import Digits

from tests.test_board import busy_hall, screen_app, settle, wait_until, wt_call_next
from window_terminal.app import make_app
from window_terminal.config import Settings
from window_terminal.core import queueing as q
from window_terminal.core.hall import resolve_hall
from window_terminal.screens.display import TicketDigits


def shown(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


def test_a_call_made_by_another_process_appears_on_the_display_and_is_announced(
    engine, hall, db_url, cli_env, tmp_path: Path
):
    q.set_window_status(engine, hall.id, 2, "open", actor="C002")
    ticket = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    spoken = tmp_path / "spoken.txt"
    announce = f"{sys.executable} -c \"import sys; open(sys.argv[1], 'a').write(sys.argv[2] + chr(10))\" {spoken} {{text}}"
    app = make_app(
        "display",
        settings=Settings(database_url=db_url, announce_command=announce),
        engine=engine,
        hall=resolve_hall(engine, None),
    )

    async def run() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_until(pilot, lambda: getattr(app.screen, "view", None) is not None)
            assert "商事登记 1" in shown(app, "#waiting")
            number = await asyncio.to_thread(wt_call_next, cli_env, 2)
            assert number == ticket.number
            await wait_until(
                pilot, lambda: app.screen.query_one("#number", TicketDigits).value == ticket.number
            )
            assert app.screen.query_one("#window", Digits).value == "2"
            assert shown(app, "#call-text") == f"请{ticket.number}号到2号窗口办理"
            assert ticket.number in shown(app, "#call-0")
            assert app.screen.query_one("#newest").has_class("fresh")  # highlighted while it is new
            assert "商事登记 0" in shown(app, "#waiting")
            await wait_until(
                pilot, lambda: spoken.exists() and spoken.read_text(encoding="utf-8").strip() != ""
            )

    asyncio.run(run())
    assert spoken.read_text(encoding="utf-8").splitlines() == [f"请{ticket.number}号到2号窗口办理"]


def test_display_snapshot(sqlite_url, monkeypatch, snap_compare):
    from window_terminal.db.engine import make_engine

    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    engine = make_engine(sqlite_url)
    try:
        busy_hall(engine, resolve_hall(engine, None))
        app = screen_app("display", engine, sqlite_url, fixed=True)
        assert snap_compare(app, terminal_size=(120, 36), run_before=settle)
    finally:
        engine.dispose()


def test_calls_announced_together_by_the_textual_display_are_said_in_turn_never_at_once(tmp_path):
    """Three calls at once: the announce command runs for each in call order, one at a time."""
    from window_terminal.core.announce import _pending, announce

    log = tmp_path / "said.txt"
    command = (
        f"{sys.executable} -c \"import sys, time; f = open(sys.argv[1], 'a'); f.write('start ' + sys.argv[2] + chr(10)); "
        f"f.flush(); time.sleep(0.2); f.write('end ' + sys.argv[2] + chr(10))\" {log} {{text}}"
    )
    for number in ("A001", "A002", "A003"):
        announce(command, number)
    _pending.join()
    assert log.read_text().split("\n")[:-1] == [
        f"{edge} {n}" for n in ("A001", "A002", "A003") for edge in ("start", "end")
    ]
