"""Every screen at 80×24, the common counter-PC terminal (issue 15): snapshots with Chinese text.

The 120×36 pictures stay beside each screen's own tests; these say what a clerk, a reviewer, the
manager and a citizen see on the small terminal: nothing they need is cut off (the counter's footer
keys, the intake's state column and outcome buttons, the board's waiting counts, the kiosk's line
names).
"""

from __future__ import annotations

import pytest
from textual.widgets import Input

from tests import test_counter_screen as counter_tests
from tests.test_backoffice_screen import _app as backoffice_app
from tests.test_backoffice_screen import _stage
from tests.test_board import busy_hall, screen_app, stable
from tests.test_board import settle as board_settle
from tests.test_counter_screen import choose_item, counter_app, fill_applicant, press, settle
from tests.test_kiosk import kiosk_settle
from window_terminal.core import intake as ik
from window_terminal.core import queueing as q
from window_terminal.core.hall import resolve_hall
from window_terminal.db.engine import make_engine

SMALL = (80, 24)
env = counter_tests.env  # the fixture: a loaded hall on SQLite, drafts in a tmp folder


@pytest.fixture
def small_engine(sqlite_url, monkeypatch):
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    engine = make_engine(sqlite_url)
    yield engine, sqlite_url
    engine.dispose()


async def still(pilot) -> None:
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False  # a blinking cursor makes the picture depend on timing
    await stable(pilot)


async def quiet(pilot) -> None:
    """The screen's reads done (the feed follows the hall for ever), then a still picture."""
    for _ in range(5):
        await pilot.pause(0.1)
        for worker in list(pilot.app.workers):
            if worker.group != "feed" and worker.is_running:
                await worker.wait()
    await still(pilot)


def test_login_at_80x24(env, snap_compare):
    assert snap_compare(counter_app(env, "home"), terminal_size=SMALL, run_before=still)


def test_counter_with_a_ticket_in_hand_at_80x24(env, snap_compare):
    engine, hall, _ = env
    for _ in range(3):
        q.take_ticket(engine, hall.id, "BIZ", actor="C001")

    async def run_before(pilot):
        await settle(pilot)
        await press(pilot, "f2")
        await still(pilot)

    assert snap_compare(counter_app(env), terminal_size=SMALL, run_before=run_before)


def test_intake_with_two_missing_materials_at_80x24(env, snap_compare):
    async def run_before(pilot):
        await settle(pilot)
        await press(pilot, "i")
        await fill_applicant(pilot, name="王小明", id_number="11010519491231002X")
        await choose_item(pilot, "jzzbl")
        await press(pilot, "down", "2", "down", "2")
        await still(pilot)

    assert snap_compare(counter_app(env), terminal_size=SMALL, run_before=run_before)


def test_return_visit_at_80x24(env, snap_compare):
    engine, hall, _ = env
    item = ik.item_info(engine, hall.id, "GA-0001")
    checks = ik.default_checks(item)
    checks[1].status = "missing"
    checks[2].status = "missing"
    first = ik.submit(
        engine,
        hall.id,
        applicant=ik.Applicant("张三", "resident_id", counter_tests.GOOD_ID),
        item="GA-0001",
        materials=checks,
        outcome="notice",
        actor="C001",
    )

    async def run_before(pilot):
        await settle(pilot)
        await press(pilot, "c")
        await pilot.press(*first.case_no)
        await press(pilot, "enter")
        await settle(pilot)
        await still(pilot)

    assert snap_compare(counter_app(env), terminal_size=SMALL, run_before=run_before)


def test_board_at_80x24(small_engine, snap_compare):
    engine, url = small_engine
    busy_hall(engine, resolve_hall(engine, None))
    assert snap_compare(
        screen_app("board", engine, url, fixed=True), terminal_size=SMALL, run_before=board_settle
    )


def test_status_at_80x24_shows_every_column(small_engine):
    """The status screen's figures move with the clock (no stable picture): its tables fit instead."""
    import asyncio

    engine, url = small_engine
    busy_hall(engine, resolve_hall(engine, None))

    async def inner():
        app = screen_app("status", engine, url, fixed=True)
        async with app.run_test(size=SMALL) as pilot:
            await quiet(pilot)
            for table in app.screen.query("DataTable"):
                assert table.row_count and table.virtual_size.width <= table.size.width + 1

    asyncio.run(inner())


def test_backoffice_at_80x24(small_engine, snap_compare):
    engine, _ = small_engine
    hall = resolve_hall(engine, None)
    _stage(engine, hall)

    app = backoffice_app(engine, hall, department="SCJG", staff_code="R001")
    assert snap_compare(app, terminal_size=SMALL, run_before=quiet)


def test_kiosk_at_80x24(small_engine, snap_compare):
    engine, url = small_engine
    assert snap_compare(
        screen_app("kiosk", engine, url, fixed=True), terminal_size=SMALL, run_before=kiosk_settle
    )


def test_display_at_80x24(small_engine, snap_compare):
    engine, url = small_engine
    busy_hall(engine, resolve_hall(engine, None))
    assert snap_compare(
        screen_app("display", engine, url, fixed=True), terminal_size=SMALL, run_before=board_settle
    )
