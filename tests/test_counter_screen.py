"""The counter clerk's screens under Pilot: keys a clerk presses, then the screen and the database.

SQLite only (the domain rules run on both databases in test_intake.py); snapshots at 120×36.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from textual.widgets import Button, Input, Label, Static

from tests.test_board import stable, wait_until
from window_terminal.app import make_app
from window_terminal.config import Settings
from window_terminal.core import intake as ik
from window_terminal.core import queueing as q
from window_terminal.core.hall import resolve_hall
from window_terminal.core.staff import login
from window_terminal.db.engine import make_engine, read_session
from window_terminal.db.models import Case, ReviewTask, Ticket, Visit
from window_terminal.errors import DomainError
from window_terminal.screens.messages import ConnectionChanged

SIZE = (120, 36)
NOW = datetime(2026, 3, 2, 9, 30)
GOOD_ID = "11010519491231002X"


@pytest.fixture
def env(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    engine = make_engine(sqlite_url)
    hall = resolve_hall(engine, None)
    settings = Settings(database_url=sqlite_url, drafts_dir=str(tmp_path / "drafts"))
    yield engine, hall, settings
    engine.dispose()


def counter_app(env, screen="counter", **options):
    engine, hall, settings = env
    if screen == "counter":
        options = {"window": 2, "staff_code": "C002", **options}
    return make_app(screen, settings=settings, engine=engine, hall=hall, now=lambda: NOW, **options)


async def settle(pilot, rounds: int = 30) -> None:
    """Wait until no worker other than the feed is running (workers start workers)."""
    for _ in range(rounds):
        busy = [w for w in pilot.app.workers if w.group != "feed" and not w.is_finished]
        if not busy:
            await pilot.pause()
            busy = [w for w in pilot.app.workers if w.group != "feed" and not w.is_finished]
            if not busy:
                return
        await pilot.app.workers.wait_for_complete(busy)
        await pilot.pause()


def text_of(app, selector: str) -> str:
    widget = app.screen.query_one(selector)
    return str(widget.render())


async def preview_shown(pilot) -> None:
    """Wait until the issued document's preview is up and has loaded the stored snapshot."""

    def loaded() -> bool:
        screen = pilot.app.screen
        if type(screen).__name__ != "DocumentPreview":
            return False
        return "正在读取" not in str(screen.query_one("#preview-text").render())

    await wait_until(pilot, loaded)
    await settle(pilot)


async def press(pilot, *keys: str) -> None:
    await pilot.press(*keys)
    await settle(pilot)


async def fill_applicant(pilot, name="张三", id_number=GOOD_ID, phone="13800138000") -> None:
    screen = pilot.app.screen
    screen.query_one("#name", Input).value = name
    screen.query_one("#id_number", Input).value = id_number
    screen.query_one("#phone", Input).value = phone
    await pilot.pause()


async def choose_item(pilot, initials: str) -> None:
    search = pilot.app.screen.query_one("#item_search", Input)
    search.focus()
    search.value = initials  # typed by the clerk; per-key typing is timed in benchmarks/tui_latency.py
    await pilot.pause()
    await press(pilot, "enter")


async def set_material(pilot, row: int, presses: int) -> None:
    table = pilot.app.screen.query_one("#materials")
    table.focus()
    table.move_cursor(row=row)
    await pilot.pause()
    await press(pilot, *(["space"] * presses))


async def call_and_open_intake(pilot) -> None:
    await settle(pilot)
    await press(pilot, "f2")
    await press(pilot, "s")
    await press(pilot, "i")


def cases(engine):
    with read_session(engine) as s:
        return s.execute(select(Case).order_by(Case.id)).scalars().all()


def test_f2_calls_the_next_ticket_and_intake_accepts_a_complete_application(env):
    engine, hall, _ = env
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")

    async def inner():
        app = counter_app(env)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert "2号窗口" in text_of(app, "#header") and "李静" in text_of(app, "#header")
            await press(pilot, "f2")
            assert "A001" in text_of(app, "#current")
            await press(pilot, "s", "i")
            await fill_applicant(pilot)
            await choose_item(pilot, "yyzzyspj")  # 营业执照与食品经营许可证联办
            await press(pilot, "f5")
            await preview_shown(pilot)
            assert "办件编号" in text_of(app, "#preview-title")
            assert "受理通知书" in text_of(app, "#preview-text")
            await press(pilot, "f5")  # a second press changes nothing
            await press(pilot, "escape")
            assert type(app.screen).__name__ == "CounterScreen"

    asyncio.run(inner())
    (case,) = cases(engine)
    assert case.status == "accepted" and case.ticket_id is not None and case.window_id is not None
    with read_session(engine) as s:
        assert s.execute(select(func.count()).select_from(ReviewTask)).scalar_one() == 2


def test_missing_material_gets_a_notice_and_the_return_visit_accepts_the_same_case(env):
    engine, hall, _ = env
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")

    async def inner():
        app = counter_app(env)
        async with app.run_test(size=SIZE) as pilot:
            await call_and_open_intake(pilot)
            await fill_applicant(pilot)
            await choose_item(pilot, "jzzbl")  # 居住证办理
            await set_material(pilot, 2, 1)  # 合法稳定住所证明 → missing
            await press(pilot, "f6")
            # asked once, with the list the notice will carry; nothing is issued before
            assert type(app.screen).__name__ == "ConfirmDialog"
            assert "合法稳定住所证明" in " ".join(str(w.render()) for w in app.screen.query(Static))
            assert cases(engine) == []
            await press(pilot, "enter")
            await preview_shown(pilot)
            assert "一次性告知书" in text_of(app, "#preview-title")
            assert "合法稳定住所证明" in text_of(app, "#preview-text")
            await press(pilot, "escape")
            case_no = cases(engine)[0].case_no
            # the applicant comes back: the clerk looks the case up by ID number
            await press(pilot, "c")
            await pilot.press(*GOOD_ID)
            await press(pilot, "enter")
            assert type(app.screen).__name__ == "IntakeScreen" and case_no in text_of(app, "#intake_header")
            await set_material(pilot, 2, 2)  # missing → defective → received
            await press(pilot, "f5")
            await preview_shown(pilot)
            assert "受理通知书" in text_of(app, "#preview-title")

    asyncio.run(inner())
    (case,) = cases(engine)
    assert case.status == "accepted"
    with read_session(engine) as s:
        assert (
            s.execute(select(func.count()).select_from(Visit).where(Visit.case_id == case.id)).scalar_one()
            == 2
        )


def test_the_return_visit_refuses_a_new_missing_material_citing_article_32(env):
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
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await press(pilot, "c")
            await pilot.press(*first.case_no)
            await press(pilot, "enter")
            await set_material(pilot, 0, 1)  # 居住证申领登记表: not on the notice → missing
            await press(pilot, "f5")
            assert "第三十二条" in text_of(app, "#message")
            assert type(app.screen).__name__ == "IntakeScreen"

    asyncio.run(inner())
    (case,) = cases(engine)
    assert case.status == "notice_issued" and not case.notice_breach
    with read_session(engine) as s:
        assert s.execute(select(func.count()).select_from(Visit)).scalar_one() == 1


def test_deficiency_acceptance_defers_a_tolerable_material(env):
    engine, hall, _ = env

    async def inner():
        app = counter_app(env)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await press(pilot, "i")  # a walk-in, no ticket
            await fill_applicant(pilot)
            await choose_item(pilot, "spjyxkzhf")  # 食品经营许可证核发
            await set_material(pilot, 4, 3)  # received → missing → defective → deferred
            await press(pilot, "f7")
            await preview_shown(pilot)
            assert "容缺受理通知书" in text_of(app, "#preview-title")

    asyncio.run(inner())
    (case,) = cases(engine)
    assert case.outcome == "deficiency" and case.supplement_deadline <= case.promised_date
    assert case.ticket_id is None


def test_commitment_replaces_a_proof_and_is_recorded_on_the_case(env):
    engine, hall, _ = env

    async def inner():
        app = counter_app(env)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await press(pilot, "i")
            await fill_applicant(pilot)
            await choose_item(pilot, "gtgshsldj")  # 个体工商户设立登记
            await set_material(pilot, 2, 3)  # 经营场所使用证明 → commitment
            assert "告知承诺" in str(app.screen.query_one("#materials").get_row_at(2))
            await press(pilot, "f5")
            await preview_shown(pilot)
            assert "受理通知书" in text_of(app, "#preview-title")

    asyncio.run(inner())
    (case,) = cases(engine)
    assert case.outcome == "commitment" and case.commitment


def test_non_acceptance_offers_a_transfer_and_names_the_competent_office(env):
    engine, hall, _ = env
    ticket = q.take_ticket(engine, hall.id, "BIZ", actor="C001")

    async def inner():
        app = counter_app(env)
        async with app.run_test(size=SIZE) as pilot:
            await call_and_open_intake(pilot)
            await fill_applicant(pilot)
            await choose_item(pilot, "shbzksl")  # 社会保障卡申领: line SOC, not this window's
            await press(pilot, "f8")
            assert app.screen.query("#transfer")
            await pilot.click("#transfer")
            await settle(pilot)
            assert type(app.screen).__name__ == "CounterScreen"
            # a walk-in whose matter is another office's
            await press(pilot, "i")
            await fill_applicant(pilot)
            await choose_item(pilot, "jzzbl")
            await press(pilot, "f8")
            await pilot.click("#not_competent")
            await pilot.pause()
            assert "有权机关" in text_of(app, "#dialog_error")
            app.screen.query_one("#office", Input).value = "成都市公安局出入境管理支队"
            await pilot.pause()
            app.screen.query_one(
                "#not_competent", Button
            ).press()  # the button moved: the error line appeared
            await settle(pilot)
            assert type(app.screen).__name__ == "ConfirmDialog"  # asked once before issuing
            await press(pilot, "enter")
            await preview_shown(pilot)
            assert "不予受理通知书" in text_of(app, "#preview-title")
            assert "60" in text_of(app, "#preview-text")

    asyncio.run(inner())
    with read_session(engine) as s:
        moved = s.get(Ticket, ticket.id)
    assert (
        moved.status == "waiting"
        and moved.transfer_count == 1
        and moved.queue_key == q.queue_key_at(moved.issued_at)
    )
    (case,) = cases(engine)
    assert case.status == "not_accepted" and case.competent_office == "成都市公安局出入境管理支队"


def test_an_empty_name_and_a_wrong_check_digit_are_shown_under_their_fields(env):
    engine, hall, _ = env

    async def inner():
        app = counter_app(env)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await press(pilot, "i")
            await choose_item(pilot, "jzzbl")
            app.screen.query_one("#id_number", Input).focus()
            await pilot.press(*"110105194912310021")
            await press(pilot, "f5")
            assert "请填写申请人姓名" in str(app.screen.query_one("#name_error", Label).render())
            assert "身份证号校验位不正确，请核对最后一位" in str(
                app.screen.query_one("#id_number_error", Label).render()
            )

    asyncio.run(inner())
    assert cases(engine) == []


def test_a_half_filled_intake_is_restored_from_its_draft(env):
    engine, hall, settings = env

    async def inner():
        app = counter_app(env)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await press(pilot, "i")
            await fill_applicant(pilot, name="李四")
            await choose_item(pilot, "jzzbl")
            await press(pilot, "escape")
            assert list(Path(settings.drafts_dir).glob("*.json"))
            await press(pilot, "i")
            await settle(pilot)
            assert app.screen.query_one("#name", Input).value == "李四"
            assert "GA-0001" in text_of(app, "#item_label")

    asyncio.run(inner())


def test_without_a_database_the_header_says_so_and_calling_is_disabled(env):
    engine, hall, _ = env
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")

    async def inner():
        app = counter_app(env)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            app.screen.post_message(ConnectionChanged(False, "connection refused"))
            await settle(pilot)
            assert "中断" in text_of(app, "#header")
            await press(pilot, "f2")
            assert "A001" not in text_of(app, "#current")
            app.screen.post_message(ConnectionChanged(True))
            await settle(pilot)
            assert "已连接" in text_of(app, "#header")

    asyncio.run(inner())
    assert q.window_in_hand(engine, hall.id, 2) is None


def test_a_clerk_signs_in_changes_the_initial_pin_and_lands_on_the_counter(env):
    engine, hall, _ = env

    async def inner():
        app = counter_app(env, "home")
        async with app.run_test(size=SIZE) as pilot:
            app.screen.query_one("#staff_code", Input).value = "C003"
            app.screen.query_one("#pin", Input).value = "1234"
            app.screen.query_one("#window", Input).value = "3"
            await pilot.click("#login")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "PinChangeDialog")
            await pilot.press(*"123456", "enter", *"123456", "enter")  # too simple: refused
            await wait_until(pilot, lambda: "过于简单" in text_of(app, "#pin_error"))
            await pilot.press(*"864213", "enter", *"864213", "enter")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "CounterScreen")
            await settle(pilot)
            assert "3号窗口" in text_of(app, "#header") and "张伟" in text_of(app, "#header")

    asyncio.run(inner())
    # The new PIN works, the initial one no longer does.
    assert not login(engine, hall.id, "C003", "864213").pin_initial
    with pytest.raises(DomainError):
        login(engine, hall.id, "C003", "1234")


def test_a_screen_opened_for_another_role_is_refused_after_sign_in(env):
    async def inner():
        app = counter_app(env, "home", target="board")
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(*"C003", "tab", *"1234", "enter")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "PinChangeDialog")
            await pilot.press(*"864213", "enter", *"864213", "enter")
            await wait_until(
                pilot,
                lambda: (
                    type(app.screen).__name__ == "LoginScreen"
                    and "不能使用此界面" in text_of(app, "#login_error")
                ),
            )

    asyncio.run(inner())


def test_counter_screen_snapshot(env, snap_compare):
    engine, hall, _ = env
    for line in ("BIZ", "BIZ", "BIZ"):
        q.take_ticket(engine, hall.id, line, actor="C001")

    async def run_before(pilot):
        await settle(pilot)
        await stable(pilot)

    assert snap_compare(counter_app(env), terminal_size=SIZE, run_before=run_before)


def test_intake_screen_snapshot(env, snap_compare):
    async def run_before(pilot):
        await settle(pilot)
        await press(pilot, "i")
        await fill_applicant(pilot, name="王小明", id_number="110105194912310021")
        await choose_item(pilot, "jzzbl")
        await set_material(pilot, 2, 1)
        await press(pilot, "f5")
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False  # a blinking cursor makes the picture depend on timing
        await stable(pilot)

    assert snap_compare(counter_app(env), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize(
    "code, screen",
    [("R001", "BackofficeScreen"), ("M001", "BoardScreen")],
    ids=["reviewer-to-back-office", "manager-to-board"],
)
def test_the_home_screen_follows_the_role(env, code, screen):
    async def inner():
        app = counter_app(env, "home")
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(*code, "tab", *"1234", "enter")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "PinChangeDialog")
            await pilot.press(*"864213", "enter", *"864213", "enter")
            await wait_until(pilot, lambda: type(app.screen).__name__ == screen)

    asyncio.run(inner())


def test_the_clerk_hands_out_a_decided_result_which_completes_the_case(env):
    from datetime import date

    from tests.factories import approve, make_accepted_case, tasks_of

    engine, hall, _ = env
    case = make_accepted_case(engine, hall.id, "SCJG-0001", accepted_on=date(2026, 11, 20))
    for task in tasks_of(engine, case.id).values():
        approve(engine, hall.id, task.id, "R001")

    async def inner():
        app = counter_app(env)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await press(pilot, "c")
            app.screen.query_one(Input).value = case.case_no
            await press(pilot, "enter")
            await wait_until(pilot, lambda: app.screen.query("#pickup"))
            app.screen.query_one("#pickup", Button).press()
            await settle(pilot)
            await wait_until(pilot, lambda: "已办结" in text_of(app, "#message"))

    asyncio.run(inner())
    with read_session(engine) as s:
        done = s.get(Case, case.id)
    assert done.status == "completed" and done.delivery == "pickup"


def test_n_on_a_material_types_the_clerks_note_printed_on_the_notice(env):
    engine, hall, _ = env
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")

    async def inner():
        app = counter_app(env)
        async with app.run_test(size=SIZE) as pilot:
            await call_and_open_intake(pilot)
            await fill_applicant(pilot)
            await choose_item(pilot, "jzzbl")  # 居住证办理
            table = app.screen.query_one("#materials")
            table.focus()
            table.move_cursor(row=0)  # 居住证申领登记表
            await press(pilot, "n")
            assert type(app.screen).__name__ == "AskDialog"
            # the catalogue's requirement is shown while typing the note
            assert "不得涂改" in " ".join(str(w.render()) for w in app.screen.query(Label))
            await pilot.press(*"第3栏漏填门牌号")
            await press(pilot, "enter")
            assert type(app.screen).__name__ == "IntakeScreen"
            await press(pilot, "f6")
            assert "第3栏漏填门牌号" in " ".join(str(w.render()) for w in app.screen.query(Static))
            await press(pilot, "enter")
            await preview_shown(pilot)
            assert "一次性告知书" in text_of(app, "#preview-title")

    asyncio.run(inner())
    (case,) = cases(engine)
    assert case.status == "notice_issued"
    from window_terminal.db.models import Document

    with read_session(engine) as s:
        doc = s.execute(select(Document).where(Document.case_id == case.id)).scalar_one()
    (listed,) = doc.payload["materials_missing"]
    assert listed["name"] == "居住证申领登记表" and listed["reason"] == "不符合要求：第3栏漏填门牌号"
    assert "不得涂改" in listed["requirement"]


def test_f2_with_only_a_future_appointment_says_who_is_next_instead_of_nobody(env):
    """The table beside it counts the booking apart; F2 says why nothing was called (issue 28)."""
    from datetime import timedelta

    from tests.factories import seed_appointment
    from window_terminal.db.clock import db_now, to_local

    engine, hall, _ = env
    with read_session(engine) as s:
        slot = db_now(s) + timedelta(minutes=40)
    code = seed_appointment(engine, hall.id, "BIZ", slot)
    info = q.take_ticket(engine, hall.id, kind="appointment", appointment_code=code, actor="device:KIOSK1")
    said = f"下一位：预约 {info.number} {to_local(slot, hall.timezone):%H:%M}"

    async def inner():
        app = counter_app(env)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await press(pilot, "f2")
            await wait_until(pilot, lambda: "下一位" in text_of(app, "#message"))
            assert said in text_of(app, "#message")

    asyncio.run(inner())
    with read_session(engine) as s:
        assert s.get(Ticket, info.id).status == "waiting"  # not called before its slot
