"""好差评 end to end: a finished ticket is rated; a bad rating opens a rectification a manager closes."""

from __future__ import annotations

from datetime import date

import pytest

from tests.factories import set_clock_to
from window_terminal.core import queueing as q
from window_terminal.core import ratings
from window_terminal.errors import DomainError


def _serve_one(engine, hall, window=2, staff="C002"):
    q.set_window_status(engine, hall.id, window, "open", actor=staff)
    ticket = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    q.call_next(engine, hall.id, window, actor="M001")
    q.start_service(engine, hall.id, window, actor="M001")
    q.finish(engine, hall.id, window, actor="M001")
    return ticket


def test_bad_rating_opens_a_rectification_due_in_15_working_days_that_a_manager_closes(engine, hall):
    set_clock_to(date(2025, 9, 26))  # a Friday before National Day: the holiday does not count
    ticket = _serve_one(engine, hall)
    result = ratings.rate(engine, hall.id, 2, 3, "等候时间太长", actor="device:RATE")
    assert result["ticket"] == ticket.number and result["level_name"] == "基本满意"
    # Sun 9/28 (make-up) + 9/29, 9/30 + Oct 9, 10, Sat 11 (make-up) + 13-17 + 20-23 = 15
    assert result["due_date"] == "2025-10-23"
    with pytest.raises(DomainError) as err:
        ratings.rate(engine, hall.id, 2, 5, actor="device:RATE")
    assert err.value.code == "already_rated"
    [open_item] = ratings.list_rectifications(engine, hall.id)
    assert open_item["id"] == result["rectification_id"] and open_item["comment"] == "等候时间太长"
    with pytest.raises(DomainError) as err:
        ratings.close_rectification(engine, hall.id, open_item["id"], "  ", actor="M001")
    assert err.value.code == "note_required"
    with pytest.raises(DomainError) as err:
        ratings.close_rectification(engine, hall.id, open_item["id"], "已整改", actor="C002")
    assert err.value.code == "forbidden"
    closed = ratings.close_rectification(
        engine, hall.id, open_item["id"], "已约谈窗口人员并增开窗口", actor="M001"
    )
    assert closed == {
        "rectification_id": open_item["id"],
        "status": "closed",
        "late": False,
        "closed_by": "M001",
    }
    assert ratings.list_rectifications(engine, hall.id) == []
    assert ratings.list_rectifications(engine, hall.id, status=None)[0]["note"] == "已约谈窗口人员并增开窗口"


def test_good_rating_opens_no_rectification_and_a_window_without_service_has_nothing_to_rate(engine, hall):
    with pytest.raises(DomainError) as err:
        ratings.rate(engine, hall.id, 2, 5, actor="device:RATE")
    assert err.value.code == "nothing_to_rate"
    _serve_one(engine, hall)
    assert ratings.rate(engine, hall.id, 2, 4, actor="device:RATE")["rectification_id"] is None
    assert ratings.latest_service(engine, hall.id, 2)["rated"] is True
    with pytest.raises(DomainError):
        ratings.rate(engine, hall.id, 2, 6, actor="device:RATE")


def test_the_applicant_rates_on_the_rate_screen_and_a_bad_rating_opens_a_rectification(engine, hall, db_url):
    import asyncio

    from tests.test_board import wait_until
    from window_terminal.app import make_app
    from window_terminal.config import Settings
    from window_terminal.core.hall import resolve_hall

    ticket = _serve_one(engine, hall)
    app = make_app(
        "rate",
        settings=Settings(database_url=db_url),
        engine=engine,
        hall=resolve_hall(engine, None),
        window=2,
        device="device:RATE",
    )

    async def run() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_until(pilot, lambda: ticket.number in str(app.screen.query_one("#service").render()))
            await pilot.press("2")  # 不满意
            await wait_until(pilot, lambda: "感谢" in str(app.screen.query_one("#thanks").render()))

    asyncio.run(run())
    [item] = ratings.list_rectifications(engine, hall.id)
    assert item["level"] == 2 and item["ticket"] == ticket.number


def test_yesterdays_applicant_is_not_offered_for_rating_today(engine, hall):
    from datetime import timedelta

    from window_terminal.db import clock

    _serve_one(engine, hall)
    clock.set_offset(timedelta(days=1))
    assert ratings.latest_service(engine, hall.id, 2) is None
    with pytest.raises(DomainError):
        ratings.rate(engine, hall.id, 2, 5, actor="device:RATE")
