"""A clerk's day under Pilot (issue 15): sign-in without surprises, one key per material state,
the item search driven from its box, the intake putting the ticket in service, the handoff said,
pickups that record, and the whole walk-in within its key budget.

SQLite only (the rules underneath run on both databases in their own tests).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from sqlalchemy import select
from textual.widgets import Input, Label, OptionList

from tests import test_counter_screen
from tests.test_board import wait_until
from tests.test_counter_screen import (
    GOOD_ID,
    cases,
    choose_item,
    counter_app,
    fill_applicant,
    press,
    preview_shown,
    settle,
    text_of,
)
from window_terminal.core import intake as ik
from window_terminal.core import queueing as q
from window_terminal.core.staff import change_pin
from window_terminal.db.engine import read_session
from window_terminal.db.models import Case, Ticket

env = test_counter_screen.env  # the fixture: a loaded hall on SQLite, drafts in a tmp folder

SMALL = (80, 24)
PIN = "246813"


def screen_name(app) -> str:
    return type(app.screen).__name__


# --- sign-in ----------------------------------------------------------------------------------


def test_enter_in_the_pin_field_asks_for_the_window_and_a_wrong_window_is_refused_not_hung(env):
    engine, hall, _ = env
    change_pin(engine, hall.id, "C002", "1234", PIN)

    async def inner():
        app = counter_app(env, "home")
        async with app.run_test(size=SMALL) as pilot:
            await pilot.press(*"C002", "enter", *PIN, "enter")
            await wait_until(pilot, lambda: "窗口号" in text_of(app, "#login_error"))
            assert screen_name(app) == "LoginScreen"
            assert app.screen.focused is app.screen.query_one("#window", Input)
            await pilot.press("9", "9", "enter")
            await wait_until(pilot, lambda: "没有 99 号窗口" in text_of(app, "#login_error"))
            assert screen_name(app) == "LoginScreen"  # not a counter stuck on "connecting"
            await pilot.press("backspace", "backspace", "2", "enter")  # the PIN is not typed again
            await wait_until(pilot, lambda: screen_name(app) == "CounterScreen")
            await settle(pilot)
            assert "2号窗口" in text_of(app, "#header")

    asyncio.run(inner())


def test_the_lockout_message_is_shown_whole_at_80_columns(env):
    engine, hall, _ = env
    change_pin(engine, hall.id, "C002", "1234", PIN)

    async def inner():
        app = counter_app(env, "home")
        async with app.run_test(size=SMALL) as pilot:
            await pilot.press(*"C002", "enter")
            for _ in range(5):
                await pilot.press(*"000000", "enter")
                await settle(pilot)
            await wait_until(pilot, lambda: "解锁" in text_of(app, "#login_error"))
            label = app.screen.query_one("#login_error", Label)
            box = app.screen.query_one("#box")
            assert label.region.right <= box.region.right and label.size.height >= 2
            assert "PIN 已清空" in text_of(app, "#login_error")

    asyncio.run(inner())


def test_a_sign_in_with_no_pin_does_not_claim_the_pin_was_cleared(env):
    async def inner():
        app = counter_app(env, "home")
        async with app.run_test(size=SMALL) as pilot:
            await pilot.click("#login")
            await wait_until(pilot, lambda: "PIN" in text_of(app, "#login_error"))
            assert "已清空" not in text_of(app, "#login_error")

    asyncio.run(inner())


# --- intake keys ------------------------------------------------------------------------------


def test_one_key_per_material_state_and_the_intake_puts_the_ticket_in_service(env):
    engine, hall, _ = env
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")

    async def inner():
        app = counter_app(env)
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "f2")
            await press(pilot, "i")
            with read_session(engine) as s:
                assert s.execute(select(Ticket.status)).scalar_one() == "serving"
            await fill_applicant(pilot)
            await choose_item(pilot, "jzzbl")  # the checklist takes the focus
            assert app.screen.focused is app.screen.query_one("#materials")
            await press(pilot, "down", "down", "2")
            assert app.screen.checks[2].status == "missing"
            await press(pilot, "3")
            assert app.screen.checks[2].status == "defective"
            await press(pilot, "1")  # back to 已收 with one key, not round the cycle
            assert app.screen.checks[2].status == "received"
            footer = {b.binding.key for b in app.screen.active_bindings.values() if b.binding.show}
            assert {"1", "2", "3"} <= footer
            assert "合法稳定住所证明" in text_of(app, "#material_detail")  # the whole name

    asyncio.run(inner())


def test_down_in_the_search_box_moves_the_results_and_enter_takes_the_highlighted_item(env):
    async def inner():
        app = counter_app(env)
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "i")
            await wait_until(pilot, lambda: app.screen.index is not None)
            await press(pilot, "f4")
            search = app.screen.query_one("#item_search", Input)
            assert app.screen.focused is search
            await pilot.press(*"scjg")
            await settle(pilot)
            results = app.screen.query_one("#item_results", OptionList)
            assert results.option_count >= 2
            second = results.get_option_at_index(1)
            assert results.highlighted == 0  # Enter would take the first
            await press(pilot, "down")
            assert results.highlighted == 1 and app.screen.focused is search
            await press(pilot, "enter")
            await wait_until(pilot, lambda: app.screen.item is not None)
            assert str(app.screen.item.id) == second.id

    asyncio.run(inner())


def test_tab_goes_from_the_phone_to_the_item_search(env):
    async def inner():
        app = counter_app(env)
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "i")
            await press(pilot, "tab", "tab", "tab")
            assert app.screen.focused is app.screen.query_one("#item_search", Input)

    asyncio.run(inner())


def test_the_return_visit_offers_only_what_applies_and_the_counter_names_the_department(env):
    engine, hall, _ = env
    item = ik.item_info(engine, hall.id, "GA-0001")
    checks = ik.default_checks(item)
    checks[2].status = "missing"
    first = ik.submit(
        engine,
        hall.id,
        applicant=ik.Applicant("张三", "resident_id", GOOD_ID),
        item="GA-0001",
        materials=checks,
        outcome="notice",
        actor="C001",
    )

    async def inner():
        app = counter_app(env)
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "c")
            await pilot.press(*first.case_no)
            await press(pilot, "enter")
            await wait_until(pilot, lambda: screen_name(app) == "IntakeScreen")
            await settle(pilot)
            keys = {b.binding.key for b in app.screen.active_bindings.values()}
            assert "f5" in keys and not {"f6", "f7", "f8"} & keys
            assert app.screen.query_one("#materials").cursor_row == 2  # the first listed material
            await press(pilot, "1", "f5")
            await preview_shown(pilot)
            await press(pilot, "escape")
            await wait_until(pilot, lambda: "已流转至" in text_of(app, "#message"))
            assert "公安" in text_of(app, "#message")

    asyncio.run(inner())


# --- case look-up and pickup ------------------------------------------------------------------


def test_enter_records_the_pickup_and_a_completed_case_offers_none(env):
    from datetime import date

    from tests.factories import approve, make_accepted_case, tasks_of

    engine, hall, _ = env
    case = make_accepted_case(engine, hall.id, "SCJG-0001", accepted_on=date(2026, 11, 20))
    for task in tasks_of(engine, case.id).values():
        approve(engine, hall.id, task.id, "R001")

    async def inner():
        app = counter_app(env)
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            for round_ in range(2):
                await press(pilot, "c")
                await pilot.press(*case.case_no)
                await press(pilot, "enter")
                await wait_until(pilot, lambda: screen_name(app) == "TextDialog")
                if round_ == 0:
                    await press(pilot, "enter")
                    await wait_until(pilot, lambda: "已取件" in text_of(app, "#message"))
                else:
                    assert not app.screen.query("#pickup")  # completed: nothing to hand over
                    await press(pilot, "escape")

    asyncio.run(inner())
    with read_session(engine) as s:
        assert s.get(Case, case.id).status == "completed"


def test_an_id_number_with_two_cases_asks_which(env):
    engine, hall, _ = env
    for code in ("GA-0001", "GA-0002"):
        item = ik.item_info(engine, hall.id, code)
        checks = ik.default_checks(item)
        checks[0].status = "missing"
        ik.submit(
            engine,
            hall.id,
            applicant=ik.Applicant("张三", "resident_id", GOOD_ID),
            item=code,
            materials=checks,
            outcome="notice",
            actor="C001",
        )
    older = cases(engine)[0].case_no

    async def inner():
        app = counter_app(env)
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "c")
            await pilot.press(*GOOD_ID)
            await press(pilot, "enter")
            await wait_until(pilot, lambda: screen_name(app) == "PickDialog")
            shown = " ".join(str(o.prompt) for o in app.screen.query_one(OptionList)._options)
            assert older in shown
            await press(pilot, "down", "enter")
            await wait_until(pilot, lambda: screen_name(app) == "IntakeScreen")
            assert older in text_of(app, "#intake_header")

    asyncio.run(inner())


# --- the whole walk-in ------------------------------------------------------------------------


def test_the_whole_walk_in_takes_at_most_40_command_keys(tmp_path, monkeypatch):
    """benchmarks/walk_in_keys.py's path at 80×24: fewer keys is the point of the direct keys."""
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import walk_in_keys

    url = walk_in_keys.scratch_hall(tmp_path)
    result = asyncio.run(walk_in_keys.walk_in(url, tmp_path, SMALL))
    assert result["case_status"] == "completed"
    assert result["commands"] <= walk_in_keys.TARGET_COMMANDS, result["steps"]


# --- the queue ---------------------------------------------------------------------------------


def test_a_priority_ticket_is_told_only_the_priority_tickets_ahead(engine, hall):
    """A 绿色通道 ticket is called before the normal ones: "前面还有 9 人" was wrong (both databases)."""
    for _ in range(3):
        q.take_ticket(engine, hall.id, "BIZ", actor="device:KIOSK1")
    first = q.take_ticket(
        engine, hall.id, "BIZ", kind="priority", priority_reason="老年人", actor="device:KIOSK1"
    )
    second = q.take_ticket(
        engine, hall.id, "BIZ", kind="priority", priority_reason="残疾人", actor="device:KIOSK1"
    )
    normal = q.take_ticket(engine, hall.id, "BIZ", actor="device:KIOSK1")
    assert (first.people_ahead, second.people_ahead, normal.people_ahead) == (0, 1, 5)


# --- the palette ------------------------------------------------------------------------------


def test_the_palette_speaks_the_screens_language_and_finds_jh_for_call(env):
    from textual.command import CommandPalette

    engine, hall, _ = env
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")

    async def inner():
        app = counter_app(env)
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+p")
            await wait_until(pilot, lambda: CommandPalette.is_open(app))
            await pilot.press("j", "h")
            palette = app.screen
            await wait_until(pilot, lambda: palette.query_one(OptionList).option_count > 0)
            await pilot.pause(0.3)
            options = palette.query_one(OptionList)
            first = str(options.get_option_at_index(0).prompt)
            assert "叫号" in first
            every = " ".join(str(options.get_option_at_index(i).prompt) for i in range(options.option_count))
            assert "Theme" not in every and "Quit" not in every
            await pilot.press("enter")
            await wait_until(pilot, lambda: "A001" in text_of(app, "#current"))

    asyncio.run(inner())


def test_quitting_with_a_ticket_in_hand_asks_parks_it_and_closes_the_window(env):
    from window_terminal.db.models import Window

    engine, hall, _ = env
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")

    async def inner():
        app = counter_app(env)
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            await press(pilot, "f2")
            await press(pilot, "q")
            assert screen_name(app) == "ConfirmDialog"  # not gone with A001 in hand
            await pilot.press("enter")
            await wait_until(pilot, lambda: not app.is_running)

    asyncio.run(inner())
    with read_session(engine) as s:
        assert s.execute(select(Ticket.status)).scalar_one() == "parked"
        assert s.execute(select(Window.status).where(Window.number == 2)).scalar_one() == "closed"


def test_the_english_display_says_window_before_its_number(env):
    from window_terminal.config import Settings

    engine, hall, settings = env
    q.set_window_status(engine, hall.id, 5, "open", actor="C001")
    q.take_ticket(engine, hall.id, "FOOD", actor="C001")
    q.call_next(engine, hall.id, 5, actor="C001")
    english = Settings(database_url=settings.database_url, drafts_dir=settings.drafts_dir, language="en")

    async def inner():
        from window_terminal.app import make_app

        app = make_app("display", settings=english, engine=engine, hall=hall)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_until(pilot, lambda: "B001" in text_of(app, "#call-0"))
            assert "→ window 5" in text_of(app, "#call-0")
            assert "→ window" in text_of(app, "#arrow")

    asyncio.run(inner())
