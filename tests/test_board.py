"""The hall manager's board: live from other processes, its actions reach the database, its looks."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select, update
from textual.pilot import Pilot
from textual.widgets import DataTable

from window_terminal.app import WindowTerminalApp, make_app
from window_terminal.config import Settings
from window_terminal.core import queueing as q
from window_terminal.core.hall import HallRef, resolve_hall
from window_terminal.db import clock
from window_terminal.db.engine import read_session, write_session
from window_terminal.db.models import Event, Hall, Line, Ticket, Window, WindowLine

WT = [sys.executable, "-m", "window_terminal.cli"]
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Monday 2026-11-23 10:00 in the hall: the clock of every snapshot.
FIXED_LOCAL = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
FIXED_UTC = FIXED_LOCAL.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


# Who each screen acts as, as `wt board` / `wt kiosk` would start it: a signed-in hall manager, the
# demo hall's kiosk device (queue/hall.toml [[device]]).
ACTORS: dict[str, dict[str, str]] = {"board": {"staff_code": "M001"}, "kiosk": {"device": "device:KIOSK1"}}


def screen_app(screen: str, engine: Engine, url: str, *, fixed: bool = False) -> WindowTerminalApp:
    hall = resolve_hall(engine, None)  # fresh: thresholds and settings as now in the database
    now = (lambda: FIXED_LOCAL) if fixed else None
    return make_app(
        screen,
        settings=Settings(database_url=url),
        engine=engine,
        hall=hall,
        now=now,
        **ACTORS.get(screen, {}),
    )


async def wait_until(pilot: Pilot, check: Callable[[], bool], timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError("the screen did not show the expected state in time")
        await pilot.pause(0.05)


def wt_call_next(env: dict[str, str], window: int) -> str:
    result = subprocess.run(
        [*WT, "call", "next", "--window", str(window), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    import json

    return json.loads(result.stdout)["number"]


def cell(app: WindowTerminalApp, table: str, row: str, column: str) -> str:
    grid = app.screen.query_one(table, DataTable)
    if row not in grid.rows:
        return ""
    return str(grid.get_cell(row, column))


def board_loaded(app: WindowTerminalApp) -> bool:
    return (
        getattr(app.screen, "view", None) is not None
        and app.screen.query_one("#windows", DataTable).row_count > 0
    )


# --- a busy hall at a fixed time (snapshots) -----------------------------------------------------


def busy_hall(engine: Engine, hall: HallRef, *, windows: int = 12, tickets: int = 44) -> None:
    """Windows 1..N open with staff, a queue in every line, calls in hand; times pinned to FIXED."""
    clock.set_offset(timedelta(0))  # less an outer WT_TEST_CLOCK_OFFSET, which stays added:
    clock.set_offset(FIXED_UTC - datetime.utcnow() - clock.get_offset())  # noqa: DTZ003 — today is the snapshot's day
    with write_session(engine) as s:
        s.execute(
            update(Window).where(Window.hall_id == hall.id, Window.number > windows).values(active=False)
        )
    staff = ["C001", "C002", "C003", "C004", "C005", "C006", "C007", "C008", "C009", "C010", "C011", "C012"]
    for number in range(1, windows + 1):
        q.set_window_status(engine, hall.id, number, "open", actor=staff[(number - 1) % len(staff)])
    codes = ["BIZ", "BIZ", "FOOD", "SOC", "HPF", "POP", "CONS", "GEN", "TAX", "BIZ", "SOC"]
    for i in range(tickets):
        q.take_ticket(engine, hall.id, codes[i % len(codes)], actor="C001")
    q.take_ticket(engine, hall.id, "BIZ", kind="priority", priority_reason="老年人", actor="C001")
    for number in (1, 2, 3, 4, 6, 8, 10, 12):
        q.call_next(engine, hall.id, number, actor="M001")
    for number in (1, 3, 6):
        q.start_service(engine, hall.id, number, actor="M001")
    q.recall(engine, hall.id, 2, actor="C002")
    q.recall(engine, hall.id, 2, actor="C002")
    q.set_window_status(engine, hall.id, 5, "paused", actor="C005")
    q.broadcast(engine, hall.id, "系统维护：11:30至12:00暂停不动产业务取号", actor="M001")
    pin_times(engine, hall)


def pin_times(engine: Engine, hall: HallRef) -> None:
    """Every timestamp the hall screens show, set relative to FIXED_UTC (deterministic snapshots)."""
    with write_session(engine) as s:
        ids = (
            s.execute(select(Ticket.id).where(Ticket.hall_id == hall.id).order_by(Ticket.id)).scalars().all()
        )
        for i, ticket_id in enumerate(ids):
            issued = FIXED_UTC - timedelta(minutes=2 * (len(ids) - i))
            s.execute(
                update(Ticket)
                .where(Ticket.id == ticket_id)
                .values(issued_at=issued, eligible_at=issued, queue_key=q.queue_key_at(issued))
            )
        s.execute(
            update(Ticket)
            .where(Ticket.hall_id == hall.id, Ticket.called_at.is_not(None))
            .values(
                called_at=FIXED_UTC - timedelta(minutes=4), first_called_at=FIXED_UTC - timedelta(minutes=4)
            )
        )
        s.execute(
            update(Window)
            .where(Window.hall_id == hall.id)
            .values(status_since=FIXED_UTC - timedelta(minutes=9))
        )
        seqs = (
            s.execute(select(Event.seq).where(Event.hall_id == hall.id).order_by(Event.seq)).scalars().all()
        )
        for i, seq in enumerate(seqs):
            s.execute(
                update(Event)
                .where(Event.hall_id == hall.id, Event.seq == seq)
                .values(created_at=FIXED_UTC - timedelta(seconds=3 + 20 * (len(seqs) - 1 - i)))
            )


async def settle(pilot: Pilot) -> None:
    await wait_until(pilot, lambda: getattr(pilot.app.screen, "view", None) is not None)
    for worker in list(pilot.app.workers):
        if worker.group != "feed":  # the feed follows the hall forever
            await worker.wait()
    await stable(pilot)


async def stable(pilot: Pilot) -> None:
    """Wait until two screenshots in a row are the same (tables settle their column widths)."""
    previous = None
    for _ in range(40):
        await pilot.pause(0.1)
        await pilot.wait_for_scheduled_animations()
        shot = pilot.app.export_screenshot()
        if shot == previous:
            return
        previous = shot


# --- behaviour -----------------------------------------------------------------------------------


def test_a_call_made_by_another_process_appears_on_the_board(engine, hall, db_url, cli_env):
    q.set_window_status(engine, hall.id, 2, "open", actor="C002")
    ticket = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    app = screen_app("board", engine, db_url)

    async def run() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_until(pilot, lambda: board_loaded(app))
            assert cell(app, "#lines", "BIZ", "waiting") == "1"
            number = await asyncio.to_thread(wt_call_next, cli_env, 2)
            assert number == ticket.number
            await wait_until(pilot, lambda: cell(app, "#windows", "2", "ticket").startswith(ticket.number))
            await wait_until(pilot, lambda: cell(app, "#lines", "BIZ", "waiting") == "0")

    asyncio.run(run())


def test_tab_moves_between_the_lines_and_the_windows(engine, hall, db_url):
    app = screen_app("board", engine, db_url)

    async def run() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: board_loaded(app))
            lines, windows = app.screen.query_one("#lines"), app.screen.query_one("#windows")
            lines.focus()
            await pilot.press("tab")
            assert app.screen.focused is windows
            await pilot.press("tab")
            assert app.screen.focused is lines
            # at 80 columns the waiting counts are on screen, not behind the side panel
            assert lines.region.right <= 80 and lines.size.width >= 70

    asyncio.run(run())


def test_board_actions_change_the_database(engine, hall, db_url):
    q.set_window_status(engine, hall.id, 2, "open", actor="C002")
    first = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    second = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    app = screen_app("board", engine, db_url)

    async def run() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_until(pilot, lambda: board_loaded(app))
            # close the first line (BIZ) for new tickets
            app.screen.query_one("#lines", DataTable).focus()
            await pilot.press("l")
            # closing a line is asked first, naming it and how many wait
            await wait_until(pilot, lambda: type(app.screen).__name__ == "ConfirmDialog")
            assert "BIZ" in str(app.screen.query_one(".title").render())
            await pilot.press("enter")
            await wait_until(pilot, lambda: cell(app, "#lines", "BIZ", "open") == "停止取号")
            # pause window 2 (second row)
            windows = app.screen.query_one("#windows", DataTable)
            windows.focus()
            windows.move_cursor(row=windows.get_row_index("2"))
            await pilot.press("p")
            # pausing a window is asked first, naming it
            await wait_until(pilot, lambda: type(app.screen).__name__ == "ConfirmDialog")
            assert "2号窗口" in str(app.screen.query_one(".title").render())
            await pilot.press("enter")
            await wait_until(pilot, lambda: cell(app, "#windows", "2", "status") == "暂停")
            # window 2 now serves BIZ and GEN
            await pilot.press("w")
            await pilot.pause()
            field = app.screen.query_one("#f-lines")
            field.value = "BIZ:2 GEN"
            await pilot.press("enter")
            await wait_until(pilot, lambda: cell(app, "#windows", "2", "lines") == "BIZ,GEN")
            # move the second ticket forward, with a reason
            await pilot.press("f")
            await pilot.pause()
            app.screen.query_one("#f-ticket").value = second.number
            app.screen.query_one("#f-reason").value = "孕妇"
            await pilot.click("#ok")
            await wait_until(pilot, lambda: "已提前" in str(app.screen.query_one("#message").render()))
            # broadcast a message to the display
            await pilot.press("b")
            await pilot.pause()
            app.screen.query_one("#f-message").value = "请携带身份证原件"
            await pilot.press("enter")
            await wait_until(
                pilot, lambda: app.screen.view.broadcast == "请携带身份证原件"
            )  # back from the feed

    asyncio.run(run())
    with read_session(engine) as s:
        assert (
            s.execute(select(Line.is_open).where(Line.hall_id == hall.id, Line.code == "BIZ")).scalar_one()
            is False
        )
        window = s.execute(select(Window).where(Window.hall_id == hall.id, Window.number == 2)).scalar_one()
        assert window.status == "paused"
        served = s.execute(
            select(Line.code, WindowLine.weight)
            .join(WindowLine, WindowLine.line_id == Line.id)
            .where(WindowLine.window_id == window.id)
            .order_by(Line.code)
        ).all()
        assert [tuple(r) for r in served] == [("BIZ", 2), ("GEN", 1)]
        keys = dict(s.execute(select(Ticket.number, Ticket.queue_key).where(Ticket.hall_id == hall.id)).all())
        assert keys[second.number] < keys[first.number]
        assert s.get(Hall, hall.id).broadcast == "请携带身份证原件"
        reasons = [
            e.payload.get("reason")
            for e in s.execute(select(Event).where(Event.kind == "ticket.moved_forward")).scalars()
        ]
        assert reasons == ["孕妇"]


def test_an_idle_window_and_a_long_wait_raise_alerts(engine, hall, db_url):
    q.set_window_status(engine, hall.id, 2, "open", actor="C002")
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    with write_session(engine) as s:
        for ticket in s.execute(select(Ticket)).scalars():
            ticket.issued_at -= timedelta(minutes=45)
        for window in s.execute(select(Window).where(Window.number == 2)).scalars():
            window.status_since -= timedelta(minutes=30)
    app = screen_app("board", engine, db_url)

    async def run() -> str:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_until(pilot, lambda: board_loaded(app))
            await pilot.pause()
            return str(app.screen.query_one("#alerts").render())

    alerts = asyncio.run(run())
    assert "商事登记 最长等候" in alerts and "2号窗口空闲" in alerts
    # the wait as the lines table shows it (45:xx), not "45 分钟" beside a table saying 45:03
    assert re.search(r"最长等候 45:\d\d，超过目标 \d+ 分钟", alerts), alerts


# --- looks ---------------------------------------------------------------------------------------


@pytest.fixture
def fixed_screen(sqlite_url: str, monkeypatch: pytest.MonkeyPatch):
    from window_terminal.db.engine import make_engine

    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    engine = make_engine(sqlite_url)
    yield engine, sqlite_url
    engine.dispose()


def test_board_snapshot_with_12_windows_and_a_busy_queue(fixed_screen, snap_compare):
    engine, url = fixed_screen
    busy_hall(engine, resolve_hall(engine, None))
    assert snap_compare(
        screen_app("board", engine, url, fixed=True), terminal_size=(120, 36), run_before=settle
    )


@pytest.mark.parametrize("screen", ["board", "status"])
def test_a_lost_connection_is_said_on_screen_and_cleared_when_it_returns(engine, hall, db_url, screen):
    from textual.widgets import Static

    from window_terminal.screens.messages import ConnectionChanged

    async def run() -> None:
        app = screen_app(screen, engine, db_url)
        async with app.run_test(size=(120, 36)) as pilot:
            bar = app.screen.query_one("#connection", Static)
            app.screen.post_message(ConnectionChanged(False, "refused"))
            await wait_until(pilot, lambda: bar.has_class("offline"))
            assert "正在重连" in str(bar.render())
            app.screen.post_message(ConnectionChanged(True))
            await wait_until(pilot, lambda: not bar.has_class("offline"))
            assert str(bar.render()).strip() == ""

    asyncio.run(run())


def test_the_board_lists_the_hall_tvs_and_flags_a_silent_one(engine, hall, db_url):
    """A hall TV that stopped reporting (its page crashed, the TV was switched off) is named in red
    on the manager's board; one reporting in is green. Heartbeats go through the web page's path."""
    from textual.widgets import Static

    from window_terminal.core import displays

    clock.set_offset(timedelta(seconds=-120))  # TV2 last reported two minutes ago
    displays.record_heartbeat(engine, hall.id, "tv2", last_seq=0)
    clock.set_offset(timedelta(0))
    displays.record_heartbeat(engine, hall.id, "TV1", last_seq=0)
    states = {row.display_id: row.state for row in displays.display_status(engine, hall.id, hall.settings)}
    assert states == {"TV1": "ok", "TV2": "stale"}

    async def run() -> None:
        app = screen_app("board", engine, db_url)
        async with app.run_test(size=(120, 36)) as pilot:
            box = app.screen.query_one("#displays", Static)
            await wait_until(pilot, lambda: "TV2" in str(box.render()))
            text = str(box.render())
            assert "TV1 正常" in text and "TV2 失联" in text, text

    asyncio.run(run())


def test_a_display_that_does_not_keep_up_with_the_feed_is_behind(engine, hall):
    from window_terminal.core import displays

    shown = displays.feed.current_cursor(engine, hall.id)
    displays.record_heartbeat(engine, hall.id, "TV1", last_seq=shown)
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")  # the feed moves on; the display reports no progress
    assert displays.record_heartbeat(engine, hall.id, "TV1", last_seq=shown).state == "ok"  # between beats
    assert displays.record_heartbeat(engine, hall.id, "TV1", last_seq=shown).state == "behind"
    cursor = displays.feed.current_cursor(engine, hall.id)
    assert displays.record_heartbeat(engine, hall.id, "TV1", last_seq=cursor).state == "ok"
