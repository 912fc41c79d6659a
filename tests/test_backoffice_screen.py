"""The back-office screen: tasks by deadline with their lights; keys claim and decide; one snapshot."""

from __future__ import annotations

import asyncio
from datetime import date, datetime

import pytest

from tests.factories import JOINT_ITEM, SINGLE_DEPT_ITEM, make_accepted_case, set_clock_to, tasks_of
from tests.test_board import stable
from window_terminal.app import make_app
from window_terminal.config import load_settings
from window_terminal.core.hall import resolve_hall
from window_terminal.db.engine import make_engine

TODAY = date(2026, 3, 10)


async def settle(pilot) -> None:
    """Let the screen's database workers finish (the feed follower runs for the whole session)."""
    for _ in range(3):
        await pilot.pause()
        busy = [w for w in pilot.app.workers if w.group != "feed" and not w.is_finished]
        if busy:
            await pilot.app.workers.wait_for_complete(busy)
    await pilot.pause()


def _app(engine, hall, **options):
    settings = load_settings(database_url=str(engine.url.render_as_string(hide_password=False)))
    return make_app(
        "backoffice",
        settings=settings,
        engine=engine,
        hall=hall,
        now=lambda: datetime(2026, 3, 10, 10, 0),
        **options,
    )


def _stage(engine, hall):
    set_clock_to(TODAY)
    late = make_accepted_case(
        engine, hall.id, JOINT_ITEM, accepted_on=date(2026, 3, 2), applicant_name="王小明"
    )
    due = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=date(2026, 3, 5))
    fine = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=date(2026, 3, 9))
    return late, due, fine


def test_reviewer_sees_red_yellow_green_by_deadline_and_approves_with_a_key(engine, hall, monkeypatch):
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    late, due, fine = _stage(engine, hall)

    async def inner() -> None:
        app = _app(engine, hall, department="SCJG", staff_code="R001")
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            screen = app.screen
            table = screen.query_one("#tasks")
            order = [screen.rows[str(k.value)]["case_no"] for k in table.rows]
            assert order == [late.case_no, due.case_no, fine.case_no]
            lights = [screen.rows[str(k.value)]["light"] for k in table.rows]
            assert lights == ["red", "yellow", "green"]
            assert "超期" in str(table.get_cell_at((0, 0))) and "临期" in str(table.get_cell_at((1, 0)))
            await pilot.press("c")
            await settle(pilot)
            await pilot.press("a")
            await pilot.pause()
            assert late.case_no in str(app.screen.query_one("Label").render())  # names the case
            await pilot.press(*"材料齐全同意", "enter")
            await pilot.pause()
            assert "再按一次确认" in str(app.screen.query_one("#problem").render())
            assert tasks_of(engine, late.id)["SCJG"].status == "claimed"  # not yet
            await pilot.press("enter")
            await settle(pilot)
            assert "已同意" in str(screen.query_one("#message").render())

    asyncio.run(inner())
    task = tasks_of(engine, late.id)["SCJG"]
    assert task.status == "approved" and task.reason == "材料齐全同意"


def test_a_double_press_of_a_decides_at_most_one_case_and_only_after_confirmation(engine, hall, monkeypatch):
    """Two presses of `a` 0.8 s apart once approved two different cases: the first press opens the
    dialog for the task under the cursor, the second is typed into its opinion field."""
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    late, due, fine = _stage(engine, hall)
    from window_terminal.core import review

    for case in (late, due, fine):
        review.claim(engine, hall.id, tasks_of(engine, case.id)["SCJG"].id, actor="R001")

    async def inner() -> None:
        app = _app(engine, hall, department="SCJG", staff_code="R001")
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("a")
            await pilot.pause(0.8)
            await pilot.press("a")
            await settle(pilot)
            assert type(app.screen).__name__ == "ReasonModal"
            await pilot.press("escape")
            await settle(pilot)

    asyncio.run(inner())
    assert [tasks_of(engine, c.id)["SCJG"].status for c in (late, due, fine)] == ["claimed"] * 3


def test_deciding_an_unclaimed_task_asks_for_the_claim_first(engine, hall, monkeypatch):
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    late, _, _ = _stage(engine, hall)

    async def inner() -> None:
        app = _app(engine, hall, department="SCJG", staff_code="R001")
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("a", *"同意", "enter", "enter")
            await settle(pilot)
            assert "请先认领" in str(app.screen.query_one("#message").render())

    asyncio.run(inner())
    assert tasks_of(engine, late.id)["SCJG"].status == "pending"


def test_refusing_from_the_screen_asks_for_a_reason(engine, hall, monkeypatch):
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    late, _, _ = _stage(engine, hall)

    async def inner() -> None:
        app = _app(engine, hall, department="SCJG", staff_code="R001")
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("c")
            await settle(pilot)
            await pilot.press("x")
            await pilot.pause()
            await pilot.press("enter")  # empty reason: the modal stays and says so
            await pilot.pause()
            assert "理由" in str(app.screen.query_one("#problem").render())
            await pilot.press(*"场所不符合要求")
            await pilot.press("enter")
            await pilot.pause()
            assert "不予许可决定" in str(app.screen.query_one("#problem").render())  # asked once
            await pilot.press("enter")
            await settle(pilot)

    asyncio.run(inner())
    assert tasks_of(engine, late.id)["SCJG"].status == "refused"


@pytest.fixture
def sqlite_engine(sqlite_url):
    eng = make_engine(sqlite_url)
    yield eng
    eng.dispose()


def test_backoffice_snapshot_shows_lights_and_chinese_case_detail(sqlite_engine, snap_compare, monkeypatch):
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    hall = resolve_hall(sqlite_engine, None)
    _stage(sqlite_engine, hall)
    app = _app(sqlite_engine, hall, department="SCJG", staff_code="R001")

    async def run_before(pilot) -> None:
        await settle(pilot)
        await stable(pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)
