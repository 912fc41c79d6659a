"""The service day is the hall's local date (Asia/Shanghai), on both sides of local midnight.

Beijing is UTC+8: from 00:00 to 08:00 local the UTC date is still yesterday's. A rule that takes the
UTC date instead of the hall's would pass any test that happens to run in the afternoon; these set
the database clock (``hall_clock``, no mock) to fixed local times so the hour CI runs at does not
matter: 23:59 and 00:01 around midnight, 07:59 and 08:01 around UTC midnight.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from tests.test_intake import ZHANG, checks
from window_terminal.core import intake as ik
from window_terminal.core import queueing as q
from window_terminal.core.deadlines import HallDeadlines, hall_today
from window_terminal.db.engine import read_session
from window_terminal.db.models import Case, Ticket


def test_today_is_the_local_date_on_both_sides_of_midnight(engine, hall, hall_clock) -> None:
    for local, expected in [
        (datetime(2026, 1, 5, 23, 59), date(2026, 1, 5)),
        (datetime(2026, 1, 6, 0, 1), date(2026, 1, 6)),  # UTC: still Jan 5, 16:01
        (datetime(2026, 1, 6, 7, 59), date(2026, 1, 6)),  # UTC: Jan 5, 23:59
        (datetime(2026, 1, 6, 8, 1), date(2026, 1, 6)),  # UTC: Jan 6, 00:01
    ]:
        hall_clock.set(local)
        with read_session(engine) as s:
            assert hall_today(s, hall.id) == expected, local
            assert HallDeadlines.load(s, hall.id).today == expected, local


def test_ticket_numbers_restart_at_local_midnight_and_not_at_utc_midnight(engine, hall, hall_clock) -> None:
    hall_clock.set(datetime(2026, 1, 5, 23, 59))
    assert q.take_ticket(engine, hall.id, "BIZ", actor="C001").number == "A001"
    hall_clock.set(datetime(2026, 1, 6, 0, 1))
    assert q.take_ticket(engine, hall.id, "BIZ", actor="C001").number == "A001"  # a new service day
    hall_clock.set(datetime(2026, 1, 6, 7, 59))
    assert q.take_ticket(engine, hall.id, "BIZ", actor="C001").number == "A002"
    hall_clock.set(datetime(2026, 1, 6, 8, 1))  # UTC midnight: the same service day goes on
    assert q.take_ticket(engine, hall.id, "BIZ", actor="C001").number == "A003"
    with read_session(engine) as s:
        days = s.execute(select(Ticket.service_day).order_by(Ticket.id)).scalars().all()
    assert days == [date(2026, 1, 5)] + [date(2026, 1, 6)] * 3


def test_a_case_received_just_after_midnight_counts_from_the_new_local_day(engine, hall, hall_clock) -> None:
    # Sun Jan 4 2026 is a make-up working day (调休 for New Year); Fri Jan 9 is the 5th working day
    # after Sun Jan 4 (Jan 5, 6, 7, 8, 9), the 5th after Mon Jan 5 is Mon Jan 12.
    item, mats = checks(engine, hall, "GA-0001")
    hall_clock.set(datetime(2026, 1, 4, 23, 59))
    before = ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome=None, actor="C001"
    )
    hall_clock.set(datetime(2026, 1, 5, 0, 1))
    after = ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome=None, actor="C001"
    )
    rows = {row["case_no"]: row for row in ik.pending_notice_cases(engine, hall.id)}
    assert (rows[before.case_no]["received_on"], rows[before.case_no]["notice_due"]) == (
        "2026-01-04",
        "2026-01-09",
    )
    assert (rows[after.case_no]["received_on"], rows[after.case_no]["notice_due"]) == (
        "2026-01-05",
        "2026-01-12",
    )
    with read_session(engine) as s:
        received = dict(s.execute(select(Case.case_no, Case.received_on)).all())
    assert received == {before.case_no: date(2026, 1, 4), after.case_no: date(2026, 1, 5)}
