"""The ticket kiosk: the right number and place in line, the priority lane, search, the timeout."""

from __future__ import annotations

import asyncio
import dataclasses

from sqlalchemy import select
from textual.widgets import ContentSwitcher, OptionList

from tests.test_board import screen_app, settle, stable, wait_until
from window_terminal.app import make_app
from window_terminal.config import Settings
from window_terminal.core import queueing as q
from window_terminal.db.engine import read_session
from window_terminal.db.models import ServiceItem, Ticket
from window_terminal.screens.display import TicketDigits


def page(app) -> str:
    return app.screen.query_one("#pages", ContentSwitcher).current or ""


async def lines_ready(pilot) -> None:
    def laid_out() -> bool:
        buttons = pilot.app.screen.query("#line-grid Button")
        return len(buttons) > 0 and all(button.region.width > 0 for button in buttons)

    await wait_until(pilot, laid_out)
    await pilot.pause()


def test_kiosk_issues_a_ticket_with_the_right_number_and_people_ahead(engine, hall, db_url):
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    app = screen_app("kiosk", engine, db_url)
    kept = []

    async def run() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await lines_ready(pilot)
            await pilot.click("#line-BIZ")
            await wait_until(pilot, lambda: page(app) == "ticket")
            kept.append(app.screen.issued)  # the issued TicketInfo, for printing
            assert app.screen.query_one("#ticket-number", TicketDigits).value == "A003"
            assert "前面还有 2 人" in str(app.screen.query_one("#ticket-ahead").render())
            assert "商事登记" in str(app.screen.query_one("#ticket-line").render())
            await pilot.click("#ticket-done")  # 完成 → back to the start
            await wait_until(pilot, lambda: page(app) == "start")

    asyncio.run(run())
    with read_session(engine) as s:
        numbers = s.execute(select(Ticket.number).order_by(Ticket.id)).scalars().all()
    assert numbers == ["A001", "A002", "A003"]
    assert (kept[0].number, kept[0].people_ahead, kept[0].line) == ("A003", 2, "BIZ")


def test_priority_lane_needs_a_reason_and_search_finds_items_by_pinyin_initials(engine, hall, db_url):
    app = screen_app("kiosk", engine, db_url)

    async def run() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await lines_ready(pilot)
            await pilot.press("f2")
            await pilot.click("#reason-0")  # 老年人
            await pilot.click("#line-SOC")
            await wait_until(pilot, lambda: page(app) == "ticket")
            assert "绿色通道：老年人" in str(app.screen.query_one("#ticket-line").render())
            await pilot.click("#ticket-done")
            await wait_until(pilot, lambda: page(app) == "start")
            await pilot.press("f4")
            await pilot.press(*"yyzz")
            results = app.screen.query_one("#results", OptionList)
            await wait_until(
                pilot,
                lambda: results.option_count > 0 and "营业执照" in str(results.get_option_at_index(0).prompt),
            )
            await pilot.press("enter", "enter")  # to the results, then choose the first
            await wait_until(pilot, lambda: page(app) == "ticket")

    asyncio.run(run())
    with read_session(engine) as s:
        tickets = s.execute(select(Ticket).order_by(Ticket.id)).scalars().all()
        assert (tickets[0].number, tickets[0].kind, tickets[0].priority_reason) == (
            "C001",
            "priority",
            "老年人",
        )
        item = s.get(ServiceItem, tickets[1].service_item_id)
        assert tickets[1].number == "A001" and "营业执照" in item.name


def test_kiosk_returns_to_the_start_after_the_timeout(engine, hall, db_url):
    settings = dict(hall.settings)
    settings["thresholds"] = {**(settings.get("thresholds") or {}), "kiosk_timeout_seconds": 2}
    app = make_app(
        "kiosk",
        device="device:KIOSK1",
        settings=Settings(database_url=db_url),
        engine=engine,
        hall=dataclasses.replace(hall, settings=settings),
    )

    async def run() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await lines_ready(pilot)
            await pilot.click("#line-GEN")
            await wait_until(pilot, lambda: page(app) == "ticket")
            await wait_until(pilot, lambda: page(app) == "start", timeout=10)

    asyncio.run(run())


async def kiosk_settle(pilot) -> None:
    await lines_ready(pilot)
    await settle_no_view(pilot)


async def settle_no_view(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await stable(pilot)


def test_kiosk_snapshot(sqlite_url, monkeypatch, snap_compare):
    from window_terminal.db.engine import make_engine

    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    engine = make_engine(sqlite_url)
    try:
        app = screen_app("kiosk", engine, sqlite_url, fixed=True)
        assert snap_compare(app, terminal_size=(120, 36), run_before=kiosk_settle)
    finally:
        engine.dispose()


_ = settle  # shared helper (the board's); the kiosk has no feed to wait past


async def workers_done(pilot) -> None:
    for _ in range(3):
        for worker in list(pilot.app.workers):
            if worker.group != "feed":  # the feed follows the hall forever
                await worker.wait()
        await pilot.pause()


def test_kiosk_prints_the_slip_on_its_thermal_printer_and_keeps_it_for_reprint(
    engine, hall, db_url, tmp_path
):
    from window_terminal.db.engine import write_session
    from window_terminal.db.models import Document, Hall

    printer = tmp_path / "kiosk.escpos"
    with write_session(engine) as s:
        row = s.get(Hall, hall.id)
        row.settings = {**row.settings, "kiosk": {"printer": {"kind": "escpos", "target": f"file:{printer}"}}}
    app = screen_app("kiosk", engine, db_url)

    async def run() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await lines_ready(pilot)
            await pilot.click("#line-SOC")
            await workers_done(pilot)
            assert page(app) == "ticket", str(app.screen.query_one("#error").render())
            assert printer.exists(), str(app.screen.query_one("#error").render())
            printer.unlink()
            await pilot.press("f5")  # reprint
            await workers_done(pilot)
            assert printer.exists(), (
                str(app.screen.query_one("#error").render()),
                app.screen.issued,
                app.focused,
            )

    asyncio.run(run())
    assert "C001".encode("gb18030") in printer.read_bytes()
    with read_session(engine) as s:
        slip = s.execute(select(Document).where(Document.kind == "ticket")).scalar_one()
    assert slip.payload["ticket_number"] == "C001" and slip.printed_count == 2
