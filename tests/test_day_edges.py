"""The service day has edges (issue 28): opening hours, the close of day, and "callable now" versus
"booked for later" — on SQLite and PostgreSQL, at fixed hall-local times (never the real hour).

The tests' hall is open at every hour (conftest ``QUEUE``); the tests of the hours give it the demo
hall's hours explicitly (``set_hours``), so what they check does not depend on when they run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select, text

from benchmarks._common import DEMO_QUEUE
from tests.conftest import HallClock, sign_in, signed_out_env
from tests.factories import seed_appointment, set_hours
from window_terminal.core import appointments, hallview
from window_terminal.core import queueing as q
from window_terminal.core.audit import AuditFilter, list_events
from window_terminal.core.hall import load_hall
from window_terminal.core.reports.queries import period_report
from window_terminal.db import clock
from window_terminal.db.engine import read_session
from window_terminal.db.models import Event, Ticket
from window_terminal.db.unit import SYSTEM
from window_terminal.errors import DomainError

DEMO_HOURS = {"open": ["09:00-17:00"], "days": "workdays", "lines": {"HPF": "16:30"}}
MONDAY = date(2026, 12, 7)  # a working day (and the next, Tuesday)
LIVE = ("waiting", "called", "serving", "parked")


def _at(hall_clock: HallClock, day: date, hh: int, mm: int = 0) -> None:
    hall_clock.set(datetime.combine(day, time(hh, mm)))


def _live(engine, hall_id: int, number: str) -> list[Ticket]:
    with read_session(engine) as s:
        return list(
            s.execute(
                select(Ticket).where(
                    Ticket.hall_id == hall_id, Ticket.number == number, Ticket.status.in_(LIVE)
                )
            ).scalars()
        )


# --- the close of day ---------------------------------------------------------------------------


def test_two_live_a001_after_midnight_are_impossible(engine, hall, hall_clock):
    """A ticket left waiting yesterday must not stay live beside today's A001: the first take of
    the new day closes yesterday first, as the system, and counts it unserved."""
    _at(hall_clock, MONDAY, 16, 30)
    yesterday = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    _at(hall_clock, MONDAY + timedelta(days=1), 0, 5)
    today = q.take_ticket(engine, hall.id, "BIZ", actor="device:KIOSK1")
    assert yesterday.number == today.number == "A001"
    assert [t.id for t in _live(engine, hall.id, "A001")] == [today.id]
    with read_session(engine) as s:
        assert s.get(Ticket, yesterday.id).status == "unserved"
        closed = s.execute(
            select(Event).where(Event.hall_id == hall.id, Event.kind == "ticket.closed_unserved")
        ).scalar_one()
        taken = (
            s.execute(
                select(Event)
                .where(Event.hall_id == hall.id, Event.kind == "ticket.issued")
                .order_by(Event.seq.desc())
            )
            .scalars()
            .first()
        )
    # the system closed it, named as such; the kiosk took the new one
    assert (closed.device, closed.staff_id, closed.payload["ticket_id"]) == (SYSTEM, None, yesterday.id)
    assert closed.payload["was"] == "waiting" and closed.payload["service_day"] == MONDAY.isoformat()
    assert taken.device == "KIOSK1"
    rows = list_events(engine, hall.id, AuditFilter(kinds=("ticket.closed_unserved",)))
    assert [r.actor for r in rows] == ["system (系统)"]


@pytest.mark.parametrize("fast", [True, False])
def test_a_ticket_from_yesterday_is_never_callable(engine, hall, hall_clock, monkeypatch, fast):
    """Yesterday's waiting, called and parked tickets: the first call of the day ends them (the
    PostgreSQL procedure hands a missed close to the Python path) and calls today's only."""
    monkeypatch.setattr(q, "PG_FAST_PATH", fast)
    _at(hall_clock, MONDAY, 16, 0)
    q.set_window_status(engine, hall.id, 2, "open", actor="C002")
    q.set_window_status(engine, hall.id, 3, "open", actor="C003")
    parked, served, called, waiting = (q.take_ticket(engine, hall.id, "BIZ", actor="C001") for _ in range(4))
    assert q.call_next(engine, hall.id, 3, actor="C003").id == parked.id
    q.park(engine, hall.id, 3, actor="C003")
    assert q.call_next(engine, hall.id, 3, actor="C003").id == served.id
    q.start_service(engine, hall.id, 3, actor="C003")
    assert q.call_next(engine, hall.id, 3, actor="C003").id == called.id  # left called at window 3
    _at(hall_clock, MONDAY + timedelta(days=1), 9, 0)
    assert q.call_next(engine, hall.id, 2, actor="C002") is None  # nothing of today: none called
    today = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    assert q.call_next(engine, hall.id, 2, actor="C002").id == today.id
    with read_session(engine) as s:
        states = {
            t.id: t.status for t in s.execute(select(Ticket).where(Ticket.hall_id == hall.id)).scalars()
        }
        closed = (
            s.execute(
                select(Event.payload).where(Event.hall_id == hall.id, Event.kind == "ticket.closed_unserved")
            )
            .scalars()
            .all()
        )
        assert q.in_hand(s, q._window(s, hall.id, 3)) is None  # window 3 is free again
    assert states == {
        parked.id: "unserved",
        served.id: "done",
        called.id: "unserved",
        waiting.id: "unserved",
        today.id: "called",
    }
    assert sorted((p["number"], p["was"]) for p in closed) == [
        ("A001", "parked"),
        ("A003", "called"),
        ("A004", "waiting"),
    ]
    with pytest.raises(DomainError) as refused:  # by id, yesterday's is not callable either
        q.call_ticket(engine, hall.id, 3, f"#{called.id}", actor="C003")
    assert refused.value.code == "bad_state"


@pytest.mark.postgres
def test_the_procedure_refuses_while_a_past_day_is_open_and_calls_only_today(pg_url, hall_clock_pg):
    engine, hall, hall_clock = hall_clock_pg
    _at(hall_clock, MONDAY, 16, 0)
    q.set_window_status(engine, hall.id, 2, "open", actor="C002")
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    _at(hall_clock, MONDAY + timedelta(days=1), 9, 0)
    offset = clock.get_offset().total_seconds()
    with engine.connect() as conn, pytest.raises(Exception, match="past service day") as raised:
        conn.execute(text("SELECT wt_call_next(:h, 2, NULL, NULL, :o)"), {"h": hall.id, "o": offset})
    assert getattr(raised.value.orig, "sqlstate", None) == "WT425"


@pytest.fixture
def hall_clock_pg(pg_url):
    from window_terminal.core.hall import resolve_hall
    from window_terminal.db.engine import make_engine

    engine = make_engine(pg_url)
    hall = resolve_hall(engine, None)
    yield engine, hall, HallClock(engine, hall.timezone)
    engine.dispose()


def test_close_day_at_closing_time_ends_todays_open_tickets_and_the_report_counts_them_unserved(
    engine, hall, hall_clock
):
    set_hours(engine, hall.id, DEMO_HOURS)
    _at(hall_clock, MONDAY, 10, 0)
    q.set_window_status(engine, hall.id, 2, "open", actor="C002")
    served, *left = (q.take_ticket(engine, hall.id, "BIZ", actor="C001") for _ in range(3))
    q.call_next(engine, hall.id, 2, actor="C002")
    q.finish(engine, hall.id, 2, actor="C002")
    _at(hall_clock, MONDAY, 16, 59)
    early = q.close_day(engine, hall.id)  # before closing: today stays open
    assert (early["through"], early["unserved"]) == ((MONDAY - timedelta(days=1)).isoformat(), 0)
    _at(hall_clock, MONDAY, 17, 0)
    closed = q.close_day(engine, hall.id)
    assert (closed["through"], closed["unserved"], closed["tickets"]) == (
        MONDAY.isoformat(),
        2,
        ["A002", "A003"],
    )
    (total,) = period_report(engine, hall.id, MONDAY, MONDAY).table("queue_total").rows
    assert (total["issued"], total["served"], total["unserved"]) == (3, 1, 2)
    status = q.queue_status(engine, hall.id)
    assert next(r for r in status["lines"] if r["line"] == "BIZ")["waiting"] == 0
    assert served.number == "A001"


def test_queue_status_next_morning_does_not_count_yesterdays_people(engine, hall, hall_clock):
    """Before anything is taken or called the next morning (the close was missed), yesterday's
    waiting are not waiting: they are of a past day, never callable."""
    _at(hall_clock, MONDAY, 16, 0)
    for _ in range(4):
        q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    _at(hall_clock, MONDAY + timedelta(days=1), 8, 30)
    biz = next(r for r in q.queue_status(engine, hall.id)["lines"] if r["line"] == "BIZ")
    assert (biz["waiting"], biz["booked"]) == (0, 0)
    view = hallview.load_view(engine, hall.id)
    assert view.waiting("BIZ") == 0 and view.shown_waiting()[0][2] == 0


def test_wt_day_close_runs_as_the_system_without_a_sign_in(db_url, tmp_path, engine, hall, hall_clock):
    _at(hall_clock, MONDAY, 11, 0)
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    _at(hall_clock, MONDAY + timedelta(days=1), 7, 0)
    env = signed_out_env(db_url, tmp_path)
    env["WT_TEST_CLOCK_OFFSET"] = str(clock.get_offset().total_seconds())
    out = subprocess.run(
        [sys.executable, "-m", "window_terminal", "day", "close", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(out.stdout)["unserved"] == 1
    with read_session(engine) as s:
        kinds = [
            (e.kind, e.device, e.staff_id)
            for e in s.execute(select(Event).where(Event.hall_id == hall.id).order_by(Event.seq)).scalars()
        ][-2:]
    assert kinds == [("ticket.closed_unserved", SYSTEM, None), ("day.closed", SYSTEM, None)]


# --- opening hours ------------------------------------------------------------------------------


def test_the_kiosk_at_0642_is_refused_naming_the_hours_and_a_manager_may_still_issue(
    engine, hall, hall_clock
):
    set_hours(engine, hall.id, DEMO_HOURS)
    _at(hall_clock, MONDAY + timedelta(days=1), 6, 42)
    with pytest.raises(DomainError) as refused:
        q.take_ticket(engine, hall.id, "BIZ", actor="device:KIOSK1")
    assert refused.value.code == "outside_hours"
    assert "工作日 09:00-17:00" in refused.value.zh and "working days 09:00-17:00" in refused.value.en
    with pytest.raises(DomainError):
        q.take_ticket(engine, hall.id, "BIZ", actor="C001")  # a clerk neither
    by_manager = q.take_ticket(engine, hall.id, "BIZ", actor="M001")
    with read_session(engine) as s:
        issued = s.execute(
            select(Event).where(Event.hall_id == hall.id, Event.kind == "ticket.issued")
        ).scalar_one()
    assert by_manager.number == "A001" and issued.staff_id is not None and issued.device is None
    _at(hall_clock, MONDAY + timedelta(days=1), 9, 0)
    assert q.take_ticket(engine, hall.id, "BIZ", actor="device:KIOSK1").number == "A002"


def test_a_line_closing_earlier_and_a_holiday_are_outside_the_hours(engine, hall, hall_clock):
    set_hours(engine, hall.id, DEMO_HOURS)
    _at(hall_clock, MONDAY, 16, 45)
    q.take_ticket(engine, hall.id, "BIZ", actor="device:KIOSK1")
    with pytest.raises(DomainError) as refused:
        q.take_ticket(engine, hall.id, "HPF", actor="device:KIOSK1")
    assert "09:00-16:30" in refused.value.zh and "line HPF" in refused.value.en
    _at(hall_clock, date(2026, 10, 1), 10, 0)  # 国庆节: not a working day
    with pytest.raises(DomainError, match="outside the opening hours"):
        q.take_ticket(engine, hall.id, "BIZ", actor="device:KIOSK1")
    _at(hall_clock, date(2026, 12, 12), 10, 0)  # a Saturday
    with pytest.raises(DomainError, match="outside the opening hours"):
        q.take_ticket(engine, hall.id, "BIZ", actor="device:KIOSK1")


def test_wt_ticket_take_at_0642_exits_2_naming_the_hours(db_url, tmp_path, engine, hall, hall_clock):
    set_hours(engine, hall.id, DEMO_HOURS)
    _at(hall_clock, MONDAY + timedelta(days=1), 6, 42)
    env = signed_out_env(db_url, tmp_path)
    sign_in(env, "C001")
    env["WT_TEST_CLOCK_OFFSET"] = str(clock.get_offset().total_seconds())
    clock.set_offset(timedelta(0))  # the `wt` process adds the same offset from its environment
    out = subprocess.run(
        [sys.executable, "-m", "window_terminal", "--lang", "en", "ticket", "take", "BIZ"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2, out
    assert "working days 09:00-17:00" in out.stderr + out.stdout


def test_booking_a_slot_at_0700_is_refused_a_manager_may(engine, hall, hall_clock):
    set_hours(engine, hall.id, DEMO_HOURS)
    _at(hall_clock, MONDAY, 15, 0)
    tuesday = MONDAY + timedelta(days=1)
    early = appointments.Booking(line="BIZ", day=tuesday, start=time(7, 0))
    with pytest.raises(DomainError) as refused:
        appointments.book(engine, hall.id, early, actor="C001")
    assert refused.value.code == "outside_hours" and "09:00-17:00" in refused.value.zh
    assert appointments.book(engine, hall.id, appointments.Booking("BIZ", tuesday, time(9, 0)), actor="C001")
    assert appointments.book(engine, hall.id, early, actor="M001")  # recorded as the manager


def test_the_demo_hall_has_working_day_hours():
    from window_terminal.core import hours
    from window_terminal.core.hall import read_definition

    opening = hours.parse({"hours": read_definition(DEMO_QUEUE).hours})
    assert opening is not None and not opening.every_day
    assert opening.text(None) == ("工作日 09:00-17:00", "working days 09:00-17:00")


def test_hall_load_names_every_problem_of_the_hours(tmp_path, engine):
    import shutil

    folder = tmp_path / "queue"
    shutil.copytree(DEMO_QUEUE, folder)
    hall_toml = folder / "hall.toml"
    source = hall_toml.read_text(encoding="utf-8")
    start, end = source.index("[hours]"), source.index("[thresholds]")
    bad = (
        '[hours]\nopen = ["9:00-17:00", "12:00-11:00"]\ndays = "weekdays"\n[hours.lines]\nNOPE = "16:00"\n\n'
    )
    hall_toml.write_text(source[:start] + bad + source[end:], encoding="utf-8")
    with pytest.raises(DomainError) as refused:
        load_hall(engine, folder)
    problems = "\n".join(refused.value.problems)  # type: ignore[attr-defined]
    assert "'9:00-17:00' is not a period" in problems and "ends before it begins" in problems
    assert "days: must be" in problems and "NOPE: no such line" in problems


# --- callable now versus booked for later ----------------------------------------------------------


def _booked_later(engine, hall, hall_clock):
    """Window 2 open since 10:00; an appointment for 10:30 checked in at 10:05; now 10:12."""
    _at(hall_clock, MONDAY, 10, 0)
    q.set_window_status(engine, hall.id, 2, "open", actor="C002")
    with read_session(engine) as s:
        now = clock.db_now(s)
    code = seed_appointment(engine, hall.id, "BIZ", now + timedelta(minutes=30))
    _at(hall_clock, MONDAY, 10, 5)
    info = q.take_ticket(engine, hall.id, kind="appointment", appointment_code=code, actor="device:KIOSK1")
    _at(hall_clock, MONDAY, 10, 12)
    return info


def test_an_appointments_estimate_is_its_slot(engine, hall, hall_clock):
    info = _booked_later(engine, hall, hall_clock)
    assert (info.people_ahead, info.estimated_wait_minutes) == (None, None)
    assert info.expected_at is not None and info.expected_at[11:16] == "10:30"


def test_f2_with_only_a_future_appointment_says_who_is_next(engine, hall, hall_clock):
    info = _booked_later(engine, hall, hall_clock)
    assert q.call_next(engine, hall.id, 2, actor="C002") is None
    zh, en = q.nothing_to_call(engine, hall.id, 2)
    assert zh.endswith(f"下一位：预约 {info.number} 10:30")
    assert en.endswith(f"Next: appointment {info.number} at 10:30")
    biz = next(r for r in q.queue_status(engine, hall.id)["lines"] if r["line"] == "BIZ")
    assert (biz["waiting"], biz["booked"], biz["next_booked"]) == (0, 1, "10:30")
    _at(hall_clock, MONDAY, 10, 31)
    assert q.call_next(engine, hall.id, 2, actor="C002").id == info.id


def test_no_idle_alert_for_a_booking_due_later(engine, hall, hall_clock):
    info = _booked_later(engine, hall, hall_clock)
    view = hallview.load_view(engine, hall.id)
    at = datetime.combine(MONDAY, time(10, 12))  # naive: the hall's local time
    assert not [a for a in view.alerts(at) if a.key == "idle:2"]
    assert (view.waiting("BIZ"), view.booked("BIZ")) == (0, 1)
    assert dict((c, n) for c, _, n in view.shown_waiting())["BIZ"] == 0
    # at its slot it is callable: waiting, and window 2 idle for 31 minutes with it in its lines
    slot = datetime.combine(MONDAY, time(10, 31))
    assert [a.en for a in view.alerts(slot) if a.key == "idle:2"] == [
        "window 2 idle for 31 min while 1 wait in its lines"
    ]
    assert view.waiting("BIZ") == 1 and info.kind == "appointment"


def test_the_tv_stream_counts_a_booking_only_from_its_slot(engine, hall, hall_clock):
    from window_terminal.core.displays import resolve_scope
    from window_terminal.web.stream import DisplayStream

    _booked_later(engine, hall, hall_clock)
    view = hallview.load_view(engine, hall.id)
    now = {"t": datetime.combine(MONDAY, time(2, 12))}  # 10:12 local, as naive UTC
    stream = DisplayStream(view, resolve_scope(view, view.settings), clock=lambda: now["t"])
    waiting = {r["line"]: r["waiting"] for r in stream.state()["waiting"]}
    assert waiting["BIZ"] == 0
    now["t"] = datetime.combine(MONDAY, time(2, 31))
    (message,) = stream.apply([])
    assert {r["line"]: r["waiting"] for r in message.data["waiting"]}["BIZ"] == 1
    assert now["t"].replace(tzinfo=UTC).astimezone(clock.zone("Asia/Shanghai")).hour == 10


def test_the_slip_of_an_appointment_gives_its_slot_not_people_ahead(engine, hall, hall_clock):
    from window_terminal.core.document_store import get_document
    from window_terminal.core.documents.content import build_ticket

    _at(hall_clock, MONDAY, 10, 0)
    with read_session(engine) as s:
        now = clock.db_now(s)
    q.take_ticket(engine, hall.id, "BIZ", actor="device:KIOSK1")  # someone ahead in the line
    code = seed_appointment(engine, hall.id, "BIZ", now + timedelta(minutes=30))
    info = q.take_ticket(
        engine, hall.id, kind="appointment", appointment_code=code, actor="device:KIOSK1", slip=True
    )
    assert info.document is not None
    lines = build_ticket(get_document(engine, hall.id, info.document).payload).lines
    assert "预约时段 10:30 起叫号" in lines
    assert not [line for line in lines if "前面还有" in line or "预计等候" in line]


@pytest.mark.parametrize("fast", [True, False])
def test_a_ticket_still_in_service_at_the_end_of_its_day_is_not_live_the_next_day(
    engine, hall, hall_clock, monkeypatch, fast
):
    """Found by a tester and by the simulated weeks: a clerk who never pressed finish left B002 in
    service overnight; the close of day ended the waiting and called ones only, so the next morning
    two live tickets read B002 and today's first call at that window finished yesterday's. The close
    of a day that is over ends its tickets in service too (unserved, ``was`` serving), as the system."""
    monkeypatch.setattr(q, "PG_FAST_PATH", fast)
    _at(hall_clock, MONDAY, 16, 0)
    q.set_window_status(engine, hall.id, 2, "open", actor="C002")
    yesterday = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    assert q.call_next(engine, hall.id, 2, actor="C002").id == yesterday.id
    q.start_service(engine, hall.id, 2, actor="C002")
    _at(hall_clock, MONDAY, 17, 30)
    assert q.close_day(engine, hall.id)["unserved"] == 0  # today's ticket in service: its clerk finishes it
    _at(hall_clock, MONDAY + timedelta(days=1), 9, 5)
    today = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    assert today.number == yesterday.number
    assert [t.id for t in _live(engine, hall.id, yesterday.number)] == [today.id]
    with read_session(engine) as s:
        assert s.get(Ticket, yesterday.id).status == "unserved"
        closed = s.execute(
            select(Event).where(Event.hall_id == hall.id, Event.kind == "ticket.closed_unserved")
        ).scalar_one()
    assert closed.payload["was"] == "serving" and closed.device == SYSTEM
    called = q.call_next(engine, hall.id, 2, actor="C002")
    assert called is not None and called.id == today.id  # yesterday's is not finished by today's call
