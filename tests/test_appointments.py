"""Appointments (issue 15): slots with a capacity, cancelling, the day's list, the platform's CSV,
check-in rules (callable from the slot, refused when cancelled, late or on another day). Both
databases for the rules; the CLI through real `wt` processes."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, time

import pytest

from tests.factories import set_clock_to
from window_terminal.core import appointments as ap
from window_terminal.core import queueing as q
from window_terminal.errors import DomainError

DAY = date(2026, 3, 10)  # a Tuesday
WT = [sys.executable, "-m", "window_terminal.cli"]


def booking(at: str, line: str = "BIZ", **kw) -> ap.Booking:
    hour, minute = (int(x) for x in at.split(":"))
    return ap.Booking(line, DAY, time(hour, minute), **kw)


def test_a_slot_takes_its_capacity_and_a_cancelled_booking_frees_its_place(engine, hall):
    set_clock_to(DAY, hour=8)
    first = ap.book(engine, hall.id, booking("09:30", name="张三", phone="13800138000"), actor="C002")
    ap.book(engine, hall.id, booking("09:30"), actor="C002")
    with pytest.raises(DomainError, match="full"):
        ap.book(engine, hall.id, booking("09:30"), actor="C002")
    with pytest.raises(DomainError, match="not the start of a slot"):
        ap.book(engine, hall.id, booking("09:40"), actor="C002")
    with pytest.raises(DomainError, match="is over"):
        ap.book(engine, hall.id, booking("07:00"), actor="C002")
    ap.cancel(engine, hall.id, first["code"], actor="C002")
    ap.book(engine, hall.id, booking("09:30"), actor="C002")  # the place freed
    states = [r["state"] for r in ap.list_day(engine, hall.id, DAY)]
    assert sorted(states) == ["booked", "booked", "cancelled"]
    listed = {r["code"]: r for r in ap.list_day(engine, hall.id, DAY)}
    assert listed[first["code"]]["name"] == "张*"  # masked in the list


def test_check_in_issues_a_ticket_callable_from_its_slot_and_refuses_cancelled_or_late(engine, hall):
    set_clock_to(DAY, hour=8)
    on_time = ap.book(engine, hall.id, booking("10:00"), actor="C002")
    cancelled = ap.book(engine, hall.id, booking("10:00"), actor="C002")
    ap.cancel(engine, hall.id, cancelled["code"], actor="C002")
    late = ap.book(engine, hall.id, booking("08:00"), actor="C002")
    with pytest.raises(DomainError, match="cancelled"):
        q.take_ticket(
            engine, hall.id, appointment_code=cancelled["code"], kind="appointment", actor="device:KIOSK1"
        )
    set_clock_to(DAY, hour=9)  # 08:00 + 15 minutes' grace has passed
    with pytest.raises(DomainError, match="no-show"):
        q.take_ticket(
            engine, hall.id, appointment_code=late["code"], kind="appointment", actor="device:KIOSK1"
        )
    ticket = q.take_ticket(
        engine, hall.id, appointment_code=on_time["code"], kind="appointment", actor="device:KIOSK1"
    )
    assert ticket.kind == "appointment"
    q.set_window_status(engine, hall.id, 2, "open", actor="C002")
    assert q.call_next(engine, hall.id, 2, actor="C002") is None  # not before its slot (10:00)
    set_clock_to(DAY, hour=10)
    assert q.call_next(engine, hall.id, 2, actor="C002").number == ticket.number
    with pytest.raises(DomainError, match="checked in"):
        ap.cancel(engine, hall.id, on_time["code"], actor="C002")
    states = {r["code"]: r["state"] for r in ap.list_day(engine, hall.id, DAY)}
    assert states == {on_time["code"]: "checked_in", cancelled["code"]: "cancelled", late["code"]: "no_show"}


def test_the_platform_csv_is_imported_whole_or_not_at_all(engine, hall, tmp_path):
    set_clock_to(DAY, hour=8)
    good = tmp_path / "bookings.csv"
    good.write_text(
        "预约号,姓名,手机号,业务线,预约日期,开始时间\n"
        "SC0001,张三,13800138000,BIZ,2026-03-10,09:00\n"
        "SC0002,李四,,SOC,2026/03/10,09:30-10:00\n",
        encoding="utf-8-sig",
    )
    done = ap.import_csv(engine, hall.id, good, actor="M001")
    assert [d["code"] for d in done] == ["SC0001", "SC0002"]
    bad = tmp_path / "again.csv"
    bad.write_bytes(
        "预约号,姓名,手机号,业务线,预约日期,开始时间\nSC0003,王五,,BIZ,2026-03-10,11:00\nSC0001,张三,,BIZ,2026-03-10,09:00\n".encode(
            "gb18030"
        )
    )
    with pytest.raises(DomainError, match="line 3") as refused:
        ap.import_csv(engine, hall.id, bad, actor="M001")
    assert "nothing was imported" in refused.value.en
    assert {r["code"] for r in ap.list_day(engine, hall.id, DAY)} == {"SC0001", "SC0002"}
    with pytest.raises(DomainError):
        ap.import_csv(engine, hall.id, good, actor="C002")  # a clerk may not import


def wt(env, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*WT, *args], env=env, capture_output=True, text=True, timeout=60)


def test_wt_appointment_book_list_cancel(cli_env):
    from datetime import datetime, timedelta

    day = (datetime.utcnow() + timedelta(days=2)).date().isoformat()  # noqa: DTZ003 - a day ahead, any zone
    booked = wt(
        cli_env, "appointment", "book", "BIZ", "--date", day, "--at", "09:30", "--name", "张三", "--json"
    )
    assert booked.returncode == 0, booked.stderr
    code = json.loads(booked.stdout)["code"]
    listed = json.loads(wt(cli_env, "appointment", "list", "--date", day, "--json").stdout)
    assert [r["code"] for r in listed] == [code]
    refused = wt(cli_env, "appointment", "book", "BIZ", "--date", day, "--at", "9点半")
    assert refused.returncode == 2 and "09:30" in refused.stderr
    assert wt(cli_env, "appointment", "cancel", code).returncode == 0
    listed = json.loads(wt(cli_env, "appointment", "list", "--date", day, "--json").stdout)
    assert listed[0]["state"] == "cancelled"


def test_reports_take_json_and_csv_on_standard_output_keeps_its_bom(cli_env):
    """README: every data command takes --json; Excel on Chinese Windows needs the BOM to read UTF-8."""
    for report in (["daily"], ["overdue"], ["clerks"]):
        done = wt(cli_env, "report", *report, "--json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["kind"]
    raw = subprocess.run(
        [*WT, "report", "daily", "--format", "csv"], env=cli_env, capture_output=True, timeout=60
    )
    assert raw.returncode == 0 and raw.stdout.startswith(b"\xef\xbb\xbf")


def test_the_manager_books_from_the_board_and_the_kiosk_checks_the_code_in(engine, hall, db_url):
    """The booking form (board, key a) and the kiosk's 预约签到 at 80×24, as a person uses them."""
    import asyncio

    from textual.widgets import Input

    from tests.test_board import board_loaded, screen_app, wait_until

    set_clock_to(DAY, hour=8)

    async def book() -> str:
        app = screen_app("board", engine, db_url)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: board_loaded(app))
            await pilot.press("a")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "PromptModal")
            app.screen.query_one("#f-line", Input).value = "BIZ"
            app.screen.query_one("#f-date", Input).value = DAY.isoformat()
            await pilot.press("enter", "enter", *"09:30", "enter", *"张三", "enter", "enter")
            await wait_until(pilot, lambda: "签到码" in str(app.screen.query_one("#message").render()))
            return str(app.screen.query_one("#message").render()).split("签到码")[1].strip()

    code = asyncio.run(book())
    assert [r["code"] for r in ap.list_day(engine, hall.id, DAY)] == [code]

    async def check_in() -> None:
        app = screen_app("kiosk", engine, db_url)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.5)
            await pilot.press("f3")
            await pilot.press(*code, "enter")
            await wait_until(pilot, lambda: ap.list_day(engine, hall.id, DAY)[0]["state"] == "checked_in")

    asyncio.run(check_in())


def test_a_slot_already_forfeit_cannot_be_booked(engine, hall, hall_clock):
    """Found by a tester: at 10:20 a 10:00 slot was booked, and its check-in at once refused it as more
    than 15 minutes late. A slot past its check-in grace is over for booking too."""
    from datetime import date, datetime, time

    from window_terminal.core import appointments

    hall_clock.set(datetime(2026, 12, 7, 10, 20))
    with pytest.raises(DomainError) as refused:
        appointments.book(
            engine, hall.id, appointments.Booking("BIZ", date(2026, 12, 7), time(10, 0), "张三"), actor="C001"
        )
    assert refused.value.code == "slot_past"
    hall_clock.set(datetime(2026, 12, 7, 10, 10))  # within the grace: still bookable, and checks in
    made = appointments.book(
        engine, hall.id, appointments.Booking("BIZ", date(2026, 12, 7), time(10, 0), "张三"), actor="C001"
    )
    assert made["code"]
