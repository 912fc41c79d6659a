"""The queue engine on SQLite and PostgreSQL: numbers, order, states and refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from tests.factories import seed_appointment
from window_terminal.core import queueing as q
from window_terminal.db import clock
from window_terminal.db.engine import read_session
from window_terminal.db.models import Event, RequestLog, Ticket
from window_terminal.errors import DomainError


def open_window(engine, hall, number=2, staff="C002"):
    q.set_window_status(engine, hall.id, number, "open", actor=staff)


def test_numbers_are_prefix_plus_daily_sequence(engine, hall):
    a1 = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    a2 = q.take_ticket(engine, hall.id, "biz", actor="C001")
    c1 = q.take_ticket(engine, hall.id, "SOC", actor="C001")
    assert (a1.number, a2.number, c1.number) == ("A001", "A002", "C001")
    assert a2.people_ahead == 1 and a1.people_ahead == 0


def test_numbers_reset_when_the_database_clock_reaches_the_next_day(engine, hall):
    assert q.take_ticket(engine, hall.id, "BIZ", actor="C001").number == "A001"
    assert q.take_ticket(engine, hall.id, "BIZ", actor="C001").number == "A002"
    clock.set_offset(timedelta(days=1))
    tomorrow = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    assert tomorrow.number == "A001"
    with read_session(engine) as s:
        days = s.execute(select(Ticket.service_day).order_by(Ticket.id)).scalars().all()
    assert days[2] - days[0] == timedelta(days=1)


def test_call_next_is_fifo_and_finishes_the_ticket_being_served(engine, hall):
    open_window(engine, hall, 2)  # window 2 serves BIZ only
    first = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    second = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    called = q.call_next(engine, hall.id, 2, actor="C002")
    assert called.number == first.number and called.window == 2 and called.status == "called"
    q.start_service(engine, hall.id, 2, actor="C002")
    called2 = q.call_next(engine, hall.id, 2, actor="C002")
    assert called2.number == second.number
    with read_session(engine) as s:
        assert s.get(Ticket, first.id).status == "done"


def test_a_called_but_not_started_ticket_blocks_the_next_call(engine, hall):
    open_window(engine, hall, 2)
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    q.call_next(engine, hall.id, 2, actor="C002")
    with pytest.raises(DomainError) as err:
        q.call_next(engine, hall.id, 2, actor="C002")
    assert "过号" in err.value.zh and "no-show" in err.value.en


def test_priority_lane_interleaves_so_normal_tickets_are_not_starved(engine, hall):
    open_window(engine, hall, 2)  # BIZ: interleave every 3 (demo hall)
    normal = [q.take_ticket(engine, hall.id, "BIZ", actor="C001") for _ in range(2)]
    priority = [
        q.take_ticket(engine, hall.id, "BIZ", kind="priority", priority_reason="老年人", actor="C001")
        for _ in range(4)
    ]
    order = []
    for _ in range(6):
        t = q.call_next(engine, hall.id, 2, actor="C002")
        order.append(t.number)
        q.start_service(engine, hall.id, 2, actor="C002")
    p = [t.number for t in priority]
    n = [t.number for t in normal]
    assert order == [p[0], p[1], p[2], n[0], p[3], n[1]]


def test_window_weights_and_waiting_time_choose_between_lines(engine, hall):
    # window 1 serves BIZ (weight 2) and GEN (weight 1)
    open_window(engine, hall, 1, "C001")
    clock.set_offset(timedelta(minutes=-10))
    gen = q.take_ticket(engine, hall.id, "GEN", actor="C001")
    clock.set_offset(timedelta(minutes=-4))
    biz = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    clock.set_offset(timedelta(0))
    # GEN waited 10 min × 1 = 10 > BIZ 4 min × 2 = 8
    assert q.call_next(engine, hall.id, 1, actor="C001").number == gen.number
    q.start_service(engine, hall.id, 1, actor="C001")
    assert q.call_next(engine, hall.id, 1, actor="C001").number == biz.number


def test_appointment_is_callable_from_its_slot_not_before(engine, hall):
    open_window(engine, hall, 2)
    with read_session(engine) as s:
        now = clock.db_now(s)
    booked = {"code": seed_appointment(engine, hall.id, "BIZ", now + timedelta(minutes=30))}
    walk_in = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    appt = q.take_ticket(engine, hall.id, kind="appointment", appointment_code=booked["code"], actor="C001")
    assert appt.kind == "appointment"
    assert q.call_next(engine, hall.id, 2, actor="C002").number == walk_in.number
    q.start_service(engine, hall.id, 2, actor="C002")
    q.finish(engine, hall.id, 2, actor="C002")
    assert q.call_next(engine, hall.id, 2, actor="C002") is None
    clock.set_offset(timedelta(minutes=31))
    assert q.call_next(engine, hall.id, 2, actor="C002").number == appt.number


def test_recall_counts_and_turns_into_no_show_after_the_limit(engine, hall):
    open_window(engine, hall, 2)
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    q.call_next(engine, hall.id, 2, actor="C002")
    for expected in (1, 2, 3):
        assert q.recall(engine, hall.id, 2, actor="C002").recall_count == expected
    final = q.recall(engine, hall.id, 2, actor="C002")
    assert final.status == "no_show"
    assert q.window_in_hand(engine, hall.id, 2) is None


def test_transfer_keeps_the_place_in_the_new_line(engine, hall):
    open_window(engine, hall, 2)
    early = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    for _ in range(3):
        q.take_ticket(engine, hall.id, "SOC", actor="C001")
    q.call_next(engine, hall.id, 2, actor="C002")
    moved = q.transfer(engine, hall.id, "SOC", window_number=2, reason="走错窗口", actor="C002")
    assert moved.line == "SOC" and moved.status == "waiting" and moved.number == early.number
    assert moved.people_ahead == 0  # it was issued before the three SOC tickets
    open_window(engine, hall, 6, "C006")  # window 6 serves SOC
    assert q.call_next(engine, hall.id, 6, actor="C006").number == early.number


def test_park_and_call_back(engine, hall):
    open_window(engine, hall, 2)
    t = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    q.call_next(engine, hall.id, 2, actor="C002")
    q.start_service(engine, hall.id, 2, actor="C002")
    assert q.park(engine, hall.id, 2, actor="C002").status == "parked"
    other = q.call_next(engine, hall.id, 2, actor="C002")
    assert other.number != t.number
    q.start_service(engine, hall.id, 2, actor="C002")
    back = q.call_ticket(engine, hall.id, 2, t.number, actor="C002")
    assert back.number == t.number and back.status == "called"


@pytest.mark.parametrize(
    "action, code",
    [
        (lambda e, h: q.finish(e, h.id, 2, actor="C002"), "no_ticket"),
        (lambda e, h: q.call_next(e, h.id, 3, actor="C003"), "window_not_open"),
        (lambda e, h: q.take_ticket(e, h.id, "NOPE", actor="C001"), "not_found"),
        (lambda e, h: q.call_next(e, h.id, 99, actor="M001"), "not_found"),
        (lambda e, h: q.take_ticket(e, h.id, "BIZ", kind="priority", actor="C001"), "refused"),
    ],
    ids=[
        "finish-never-called",
        "call-on-closed-window",
        "unknown-line",
        "unknown-window",
        "priority-without-reason",
    ],
)
def test_illegal_moves_are_refused_with_a_clear_error(engine, hall, action, code):
    open_window(engine, hall, 2)
    with pytest.raises(DomainError) as err:
        action(engine, hall)
    assert err.value.code == code and err.value.zh and err.value.en


def test_taking_a_ticket_on_a_closed_line_is_refused_and_writes_nothing(engine, hall):
    q.set_line_open(engine, hall.id, "BIZ", False, actor="M001")
    with read_session(engine) as s:
        before = s.execute(select(Event.seq).order_by(Event.seq.desc()).limit(1)).scalar()
    with pytest.raises(DomainError) as err:
        q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    assert err.value.code == "line_closed"
    with read_session(engine) as s:
        assert s.execute(select(Event.seq).order_by(Event.seq.desc()).limit(1)).scalar() == before
        assert s.execute(select(Ticket)).first() is None


def test_same_request_id_twice_does_one_thing(engine, hall):
    a = q.take_ticket(engine, hall.id, "BIZ", request_id="kiosk-1-0001", actor="C001")
    b = q.take_ticket(engine, hall.id, "BIZ", request_id="kiosk-1-0001", actor="C001")
    assert a == b
    open_window(engine, hall, 2)
    c1 = q.call_next(engine, hall.id, 2, request_id="w2-press-17", actor="C002")
    c2 = q.call_next(engine, hall.id, 2, request_id="w2-press-17", actor="C002")
    assert c1 == c2
    with read_session(engine) as s:
        assert len(s.execute(select(Ticket)).all()) == 1
        kinds = s.execute(select(Event.kind).where(Event.kind.like("ticket.%"))).scalars().all()
    assert kinds == ["ticket.issued", "ticket.called"]


def test_request_ids_are_forgotten_after_two_days_when_a_window_opens(engine, hall):
    """The request log keeps what a retry needs (minutes), not every command for ever."""
    try:
        clock.set_offset(timedelta(days=-3))
        old = q.take_ticket(engine, hall.id, "BIZ", request_id="kiosk-1-0001", actor="C001")
        clock.set_offset(timedelta(days=-1))
        recent = q.take_ticket(engine, hall.id, "BIZ", request_id="kiosk-1-0002", actor="C001")
        clock.set_offset(timedelta(0))
        q.take_ticket(engine, hall.id, "BIZ", request_id="kiosk-1-0003", actor="C001")
        with read_session(engine) as s:
            assert s.execute(select(func.count()).select_from(RequestLog)).scalar_one() == 3
        open_window(engine, hall, 2)
        with read_session(engine) as s:
            kept = s.execute(select(RequestLog.request_id).order_by(RequestLog.request_id)).scalars().all()
        assert kept == ["kiosk-1-0002", "kiosk-1-0003"]  # the window's own command has no id
        assert q.take_ticket(engine, hall.id, "BIZ", request_id="kiosk-1-0002", actor="C001") == recent
        assert q.take_ticket(engine, hall.id, "BIZ", request_id="kiosk-1-0001", actor="C001").id != old.id
    finally:
        clock.set_offset(timedelta(0))


def test_events_are_gap_free_and_carry_who_and_when(engine, hall):
    open_window(engine, hall, 2)
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    q.call_next(engine, hall.id, 2, actor="C002")
    with read_session(engine) as s:
        events = s.execute(select(Event).where(Event.hall_id == hall.id).order_by(Event.seq)).scalars().all()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    called = [e for e in events if e.kind == "ticket.called"][0]
    assert called.staff_id is not None and called.created_at is not None
    assert called.payload["text"] == "请A001号到2号窗口办理"


def test_queue_status_counts_waiting_and_windows(engine, hall):
    open_window(engine, hall, 2)
    for _ in range(3):
        q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    q.call_next(engine, hall.id, 2, actor="C002")
    status = q.queue_status(engine, hall.id)
    biz = next(line for line in status["lines"] if line["line"] == "BIZ")
    assert biz["waiting"] == 2 and biz["open_windows"] == 1
    w2 = next(w for w in status["windows"] if w["window"] == 2)
    assert w2["status"] == "open" and w2["ticket"] == "A001" and w2["staff"]


def _slot_marked(payload: dict) -> dict:
    return {**payload, "callable_from": "slot"} if "callable_from" in payload else payload


def _scripted_counter_day(engine, hall):
    """A morning at windows 1 (BIZ×2 + GEN×1) and 2 (BIZ): every hot command, refusals included."""
    results = []

    def step(name, fn):
        try:
            info = fn()
        except DomainError as err:
            results.append((name, "refused", err.code, err.zh, err.en))
            return
        if info is None:
            results.append((name, None))
            return
        data = info.as_dict()
        assert q.ticket_info(engine, hall.id, info.id).issued_at == data.pop("issued_at")
        results.append((name, data))

    open_window(engine, hall, 1, "C001")
    open_window(engine, hall, 2)
    with read_session(engine) as s:
        now = clock.db_now(s)
    booked = {"code": seed_appointment(engine, hall.id, "BIZ", now + timedelta(minutes=5))}
    clock.set_offset(timedelta(minutes=-10))
    q.take_ticket(engine, hall.id, "GEN", actor="C001")
    clock.set_offset(timedelta(minutes=-4))
    for _ in range(2):
        q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    clock.set_offset(timedelta(minutes=-3))
    for _ in range(4):
        q.take_ticket(engine, hall.id, "BIZ", kind="priority", priority_reason="老年人", actor="C001")
    q.take_ticket(engine, hall.id, kind="appointment", appointment_code=booked["code"], actor="C001")
    clock.set_offset(timedelta(0))
    step("finish-nothing", lambda: q.finish(engine, hall.id, 2, actor="C002"))
    step("call-closed-window", lambda: q.call_next(engine, hall.id, 3, actor="C003"))
    step("call-unknown-window", lambda: q.call_next(engine, hall.id, 99, actor="M001"))
    for n in range(5):
        step(
            f"call-2-{n}",
            lambda n=n: q.call_next(engine, hall.id, 2, request_id=f"w2-{n}", actor="C002"),
        )
        step(f"repeat-2-{n}", lambda n=n: q.call_next(engine, hall.id, 2, request_id=f"w2-{n}", actor="C002"))
        step(f"call-again-2-{n}", lambda: q.call_next(engine, hall.id, 2, actor="C002"))
        step(
            f"start-2-{n}",
            lambda n=n: q.start_service(engine, hall.id, 2, request_id=f"s2-{n}", actor="C002"),
        )
        step(f"start-again-2-{n}", lambda: q.start_service(engine, hall.id, 2, actor="C002"))
    step("call-1", lambda: q.call_next(engine, hall.id, 1, actor="C001"))
    step("no-show-1", lambda: q.no_show(engine, hall.id, 1, actor="C001"))
    step("call-1-again", lambda: q.call_next(engine, hall.id, 1, actor="C001"))
    step("park-1", lambda: q.park(engine, hall.id, 1, actor="C001"))
    step("call-1-third", lambda: q.call_next(engine, hall.id, 1, actor="C001"))
    step("finish-1-called", lambda: q.finish(engine, hall.id, 1, actor="C001"))
    clock.set_offset(timedelta(minutes=6))  # the appointment's slot has come
    for n in range(3):
        step(f"call-2-late-{n}", lambda: q.call_next(engine, hall.id, 2, actor="C002"))
        step(f"finish-2-late-{n}", lambda: q.finish(engine, hall.id, 2, actor="C002"))
    with read_session(engine) as s:
        events = [
            # the fast path gives every call a request id of its own (auto:…) when the caller gave none
            # (an appointment's slot is relative to each run's real clock: its presence is compared)
            (
                e.seq,
                e.kind,
                _slot_marked(e.payload),
                e.staff_id,
                e.window_id,
                _callers_request_id(e.request_id),
            )
            for e in s.execute(select(Event).where(Event.hall_id == hall.id).order_by(Event.seq)).scalars()
        ]
        tickets = [
            (
                t.number,
                t.status,
                t.window_id,
                t.staff_id,
                t.recall_count,
                t.called_at is None,
                t.started_at is None,
            )
            for t in s.execute(select(Ticket).order_by(Ticket.id)).scalars()
        ]
    return results, events, tickets


def _callers_request_id(request_id: str | None) -> str | None:
    return None if request_id and request_id.startswith("auto:") else request_id


@pytest.mark.postgres
def test_postgres_fast_path_calls_the_same_tickets_with_the_same_events_as_the_python_path(
    request, pg_url, monkeypatch
):
    from tests.conftest import _fresh_url
    from window_terminal.core.hall import resolve_hall
    from window_terminal.db.engine import make_engine

    runs = []
    fell_back = []
    real_fast = q._pg_fast

    def spy(engine, statement, params):
        value = real_fast(engine, statement, params)
        fell_back.append(value is q._FALLBACK)
        return value

    monkeypatch.setattr(q, "_pg_fast", spy)
    second = _fresh_url("postgres", request, request.getfixturevalue("tmp_path"))
    try:
        for url, fast in ((pg_url, True), (next(second), False)):
            monkeypatch.setattr(q, "PG_FAST_PATH", fast)
            engine = make_engine(url)
            try:
                runs.append(_scripted_counter_day(engine, resolve_hall(engine, None)))
            finally:
                engine.dispose()
            clock.set_offset(timedelta(0))
    finally:
        second.close()
    (fast_results, fast_events, fast_tickets), (py_results, py_events, py_tickets) = runs
    called = [r[1]["number"] for r in fast_results if r[0].startswith("call") and isinstance(r[1], dict)]
    assert len(called) >= 8  # the scenario really calls tickets
    refused = [r for r in fast_results if r[1] == "refused"]
    assert len(fell_back) == len(fast_results) and sum(fell_back) == len(refused) > 0
    assert fast_results == py_results
    assert fast_events == py_events
    assert fast_tickets == py_tickets


# --- every state change is on the event log (issue 20) ---------------------------------------------
#
# The screens, the board and the hall TV follow the event log, not the ticket rows: a change that
# reaches the row but not the log is invisible everywhere else. Each step below asserts the ticket's
# state AND exactly the events the step appended (kind, number, status, window, and the extras that
# matter), in order.


def _events_since(engine, hall, seq):
    with read_session(engine) as s:
        rows = s.execute(
            select(Event).where(Event.hall_id == hall.id, Event.seq > seq).order_by(Event.seq)
        ).scalars()
        return [(e.seq, e.kind, e.payload) for e in rows]


class _Log:
    def __init__(self, engine, hall):
        self.engine, self.hall = engine, hall
        self.seq = max((seq for seq, _, _ in _events_since(engine, hall, 0)), default=0)  # from now on

    def expect(self, wanted):
        """The events since the last check, as (kind, {key: value}) with only the keys named."""
        got = _events_since(self.engine, self.hall, self.seq)
        if got:
            self.seq = got[-1][0]
        shown = [
            (kind, {k: payload.get(k) for k in keys}) for (_, kind, payload), (_, keys) in zip(got, wanted)
        ]
        assert [kind for _, kind, _ in got] == [kind for kind, _ in wanted], got
        assert shown == wanted, got

    def state(self, number):
        with read_session(self.engine) as s:
            t = s.execute(
                select(Ticket).where(Ticket.hall_id == self.hall.id, Ticket.number == number)
            ).scalar_one()
            return t.status, t.recall_count


def test_automatic_no_show_after_too_many_recalls_is_on_the_event_log(engine, hall):
    open_window(engine, hall, 2)
    log = _Log(engine, hall)
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    log.expect([("ticket.issued", {"number": "A001", "status": "waiting", "people_ahead": 0})])
    q.call_next(engine, hall.id, 2, actor="C002")
    log.expect([("ticket.called", {"number": "A001", "status": "called", "window": 2})])
    for n in (1, 2, 3):
        q.recall(engine, hall.id, 2, actor="C002")
        assert log.state("A001") == ("called", n)
        log.expect(
            [
                (
                    "ticket.recalled",
                    {"number": "A001", "window": 2, "recalls": n, "text": "请A001号到2号窗口办理"},
                )
            ]
        )
    q.recall(engine, hall.id, 2, actor="C002")  # the fourth: over the hall's limit of 3
    assert log.state("A001") == ("no_show", 3)
    log.expect(
        [
            (
                "ticket.no_show",
                {"number": "A001", "status": "no_show", "window": 2, "automatic": True, "recalls": 3},
            )
        ]
    )
    assert q.window_in_hand(engine, hall.id, 2) is None


def test_every_ticket_state_change_appends_its_event(engine, hall):
    open_window(engine, hall, 2)
    log = _Log(engine, hall)
    for _ in range(4):
        q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    log.expect([("ticket.issued", {"number": f"A00{n}", "people_ahead": n - 1}) for n in (1, 2, 3, 4)])

    steps = [
        (
            lambda: q.call_next(engine, hall.id, 2, actor="C002"),
            "A001",
            "called",
            [("ticket.called", {"number": "A001", "status": "called", "window": 2})],
        ),
        (
            lambda: q.start_service(engine, hall.id, 2, actor="C002"),
            "A001",
            "serving",
            [("ticket.started", {"number": "A001", "status": "serving", "window": 2})],
        ),
        (
            lambda: q.park(engine, hall.id, 2, actor="C002"),
            "A001",
            "parked",
            [("ticket.parked", {"number": "A001", "status": "parked", "window": 2})],
        ),
        (
            lambda: q.call_ticket(engine, hall.id, 2, "A001", actor="C002"),
            "A001",
            "called",
            [("ticket.called_back", {"number": "A001", "status": "called", "window": 2})],
        ),
        (
            lambda: q.start_service(engine, hall.id, 2, actor="C002"),
            "A001",
            "serving",
            [("ticket.started", {"number": "A001", "status": "serving"})],
        ),
        (
            lambda: q.finish(engine, hall.id, 2, actor="C002"),
            "A001",
            "done",
            [("ticket.finished", {"number": "A001", "status": "done", "window": 2})],
        ),
        (
            lambda: q.call_next(engine, hall.id, 2, actor="C002"),
            "A002",
            "called",
            [("ticket.called", {"number": "A002", "status": "called", "window": 2})],
        ),
        (
            lambda: q.no_show(engine, hall.id, 2, actor="C002"),
            "A002",
            "no_show",
            [("ticket.no_show", {"number": "A002", "status": "no_show", "window": 2})],
        ),
        (
            lambda: q.call_next(engine, hall.id, 2, actor="C002"),
            "A003",
            "called",
            [("ticket.called", {"number": "A003", "status": "called"})],
        ),
        (
            lambda: q.transfer(engine, hall.id, "SOC", window_number=2, reason="走错窗口", actor="C002"),
            "A003",
            "waiting",
            [
                (
                    "ticket.transferred",
                    {
                        "number": "A003",
                        "status": "waiting",
                        "from_line": "BIZ",
                        "to_line": "SOC",
                        "reason": "走错窗口",
                        "window": 2,
                    },
                )
            ],
        ),
        (
            lambda: q.move_forward(engine, hall.id, "A004", reason="老人", actor="M001"),
            "A004",
            "waiting",
            [("ticket.moved_forward", {"number": "A004", "status": "waiting", "reason": "老人"})],
        ),
        (
            lambda: q.cancel(engine, hall.id, "A004", reason="离开", actor="M001"),
            "A004",
            "cancelled",
            [("ticket.cancelled", {"number": "A004", "status": "cancelled", "reason": "离开"})],
        ),
    ]
    for act, number, status, events in steps:
        act()
        assert log.state(number)[0] == status, events
        log.expect(events)


def test_calling_the_next_while_serving_finishes_the_one_in_hand_on_the_log_first(engine, hall):
    open_window(engine, hall, 2)
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    q.call_next(engine, hall.id, 2, actor="C002")
    q.start_service(engine, hall.id, 2, actor="C002")
    log = _Log(engine, hall)
    q.call_next(engine, hall.id, 2, actor="C002")
    log.expect(
        [
            ("ticket.finished", {"number": "A001", "status": "done", "window": 2}),
            ("ticket.called", {"number": "A002", "status": "called", "window": 2}),
        ]
    )


# --- the calling rule's reads, exactly (issue 20) ---------------------------------------------------


def _second_hall(engine, tmp_path):
    """Another hall in the same database (a copy of queue/ under another code), to show that every
    read of the queue stays inside its own hall."""
    import shutil

    from tests.conftest import QUEUE
    from window_terminal.core.hall import load_hall, resolve_hall

    folder = tmp_path / "queue2"
    shutil.copytree(QUEUE, folder)
    text = (folder / "hall.toml").read_text(encoding="utf-8")
    (folder / "hall.toml").write_text(
        text.replace('code = "jinjiang"', 'code = "other"', 1), encoding="utf-8"
    )
    load_hall(engine, folder)
    return resolve_hall(engine, "other")


def test_waiting_by_line_counts_waiting_callable_and_oldest_of_this_hall_only(engine, hall, tmp_path):
    from window_terminal.db.models import Line

    other = _second_hall(engine, tmp_path)
    for _ in range(3):
        q.take_ticket(engine, other.id, "BIZ", actor="C001")  # another hall's queue: never counted here
    open_window(engine, hall, 2)
    a1 = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    a2 = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    a3 = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    c1 = q.take_ticket(engine, hall.id, "SOC", actor="C001")
    q.call_next(engine, hall.id, 2, actor="C002")  # A001 leaves the waiting state
    with read_session(engine) as s:
        lines = dict(s.execute(select(Line.code, Line.id).where(Line.hall_id == hall.id)).all())
        tickets = {t.number: t for t in s.execute(select(Ticket).where(Ticket.hall_id == hall.id)).scalars()}
        at_a3 = tickets[a3.number].eligible_at
        got = q.waiting_by_line(s, hall.id, at_a3)
        assert set(got) == {lines["BIZ"], lines["SOC"]}
        biz = got[lines["BIZ"]]
        assert (biz.waiting, biz.callable_now, biz.oldest) == (2, 2, tickets[a2.number].issued_at)
        # one microsecond before A003's time, only A002 may be called (waiting = callable now); A003
        # and SOC's C001, not callable yet, count apart as booked for later
        earlier = q.waiting_by_line(s, hall.id, at_a3 - timedelta(microseconds=1))
        assert (earlier[lines["BIZ"]].waiting, earlier[lines["BIZ"]].booked) == (1, 1)
        assert (earlier[lines["SOC"]].waiting, earlier[lines["SOC"]].booked) == (0, 1)
        assert got[lines["SOC"]].oldest is None  # the oldest waiting: of those callable now
        at_c1 = q.waiting_by_line(s, hall.id, tickets[c1.number].eligible_at)
        assert at_c1[lines["SOC"]].oldest == tickets[c1.number].issued_at
        assert a1.number == "A001"


def test_people_ahead_and_the_wait_estimate_count_this_line_only(engine, hall, tmp_path):
    other = _second_hall(engine, tmp_path)
    q.take_ticket(engine, other.id, "BIZ", actor="C001")
    q.take_ticket(engine, hall.id, "SOC", actor="C001")  # another line: not ahead
    ahead = [q.take_ticket(engine, hall.id, "BIZ", actor="C001").people_ahead for _ in range(4)]
    assert ahead == [0, 1, 2, 3]
    assert q.estimate_wait_minutes(6, 7.5, 2) == 22  # 6 × 7.5 / 2 = 22.5 → 22 (round half to even)
    assert q.estimate_wait_minutes(5, 7.0, 2) == 18  # 17.5 → 18
    assert q.estimate_wait_minutes(3, 10.0, 0) == 30  # no window open counts as one
    assert q.estimate_wait_minutes(0, 10.0, 3) == 0


def test_a_window_calls_only_from_the_active_lines_it_serves(engine, hall):
    from window_terminal.db.engine import write_session
    from window_terminal.db.models import Line

    open_window(engine, hall, 2)  # window 2 serves BIZ only
    open_window(engine, hall, 1, "C001")  # window 1 serves BIZ ×2 and GEN
    soc = q.take_ticket(engine, hall.id, "SOC", actor="C001")  # the oldest, but no window here serves SOC
    gen = q.take_ticket(engine, hall.id, "GEN", actor="C001")
    biz = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    assert q.call_next(engine, hall.id, 2, actor="C002").number == biz.number
    q.start_service(engine, hall.id, 2, actor="C002")
    assert q.call_next(engine, hall.id, 2, actor="C002") is None  # SOC and GEN are not its lines
    with write_session(engine) as s:  # GEN is withdrawn from the hall (inactive): nothing to call
        s.execute(update(Line).where(Line.hall_id == hall.id, Line.code == "GEN").values(active=False))
    assert q.call_next(engine, hall.id, 1, actor="C001") is None
    with write_session(engine) as s:
        s.execute(update(Line).where(Line.hall_id == hall.id, Line.code == "GEN").values(active=True))
    assert q.call_next(engine, hall.id, 1, actor="C001").number == gen.number
    assert q.ticket_info(engine, hall.id, soc.id).status == "waiting"


def _set_policy(engine, hall, code, policy, every):
    from window_terminal.db.engine import write_session
    from window_terminal.db.models import Line

    with write_session(engine) as s:
        s.execute(
            update(Line)
            .where(Line.hall_id == hall.id, Line.code == code)
            .values(priority_policy=policy, priority_every=every)
        )


@pytest.mark.parametrize(
    ("policy", "every", "expected"),
    [
        ("strict", 3, "P0 P1 P2 P3 N0 N1"),
        ("none", 3, "N0 N1 P0 P1 P2 P3"),
        ("interleave", 1, "P0 N0 P1 N1 P2 P3"),
        ("interleave", 0, "P0 N0 P1 N1 P2 P3"),  # 0 reads as 1: never a run of zero
        ("interleave", 2, "P0 P1 N0 P2 P3 N1"),
    ],
)
def test_each_priority_policy_calls_in_its_own_order(engine, hall, policy, every, expected):
    _set_policy(engine, hall, "BIZ", policy, every)
    open_window(engine, hall, 2)
    normal = [q.take_ticket(engine, hall.id, "BIZ", actor="C001").number for _ in range(2)]
    priority = [
        q.take_ticket(engine, hall.id, "BIZ", kind="priority", priority_reason="老年人", actor="C001").number
        for _ in range(4)
    ]
    names = {number: f"N{i}" for i, number in enumerate(normal)} | {
        number: f"P{i}" for i, number in enumerate(priority)
    }
    order = []
    for _ in range(6):
        order.append(names[q.call_next(engine, hall.id, 2, actor="C002").number])
        q.start_service(engine, hall.id, 2, actor="C002")
    assert " ".join(order) == expected


@pytest.mark.parametrize(("policy", "first"), [("interleave", "BIZ"), ("strict", "BIZ"), ("none", "GEN")])
def test_a_privileged_head_wins_across_lines_unless_its_line_ignores_priority(engine, hall, policy, first):
    _set_policy(engine, hall, "BIZ", policy, 3)
    open_window(engine, hall, 1, "C001")  # BIZ ×2, GEN ×1
    clock.set_offset(timedelta(minutes=-30))
    gen = q.take_ticket(engine, hall.id, "GEN", actor="C001")  # waited 30 min × 1
    clock.set_offset(timedelta(0))
    biz = q.take_ticket(
        engine, hall.id, "BIZ", kind="priority", priority_reason="军人", actor="C001"
    )  # just now
    called = q.call_next(engine, hall.id, 1, actor="C001").number
    assert called == {"BIZ": biz.number, "GEN": gen.number}[first]


def test_the_wait_estimate_divides_by_the_open_active_windows_serving_the_line(engine, hall):
    from window_terminal.db.engine import write_session
    from window_terminal.db.models import Line, Window

    with read_session(engine) as s:
        avg = s.execute(
            select(Line.avg_service_minutes).where(Line.hall_id == hall.id, Line.code == "BIZ")
        ).scalar_one()
    for _ in range(4):
        q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    # BIZ is served by windows 1, 2, 3 and 5; open 1, 2, 3 and 4 (4 serves FOOD only), pause 3,
    # withdraw 2 (inactive): only window 1 counts
    for number in (1, 2, 3, 4):
        open_window(engine, hall, number, f"C00{number}")
    q.set_window_status(engine, hall.id, 3, "paused", actor="C003")
    with write_session(engine) as s:
        s.execute(update(Window).where(Window.hall_id == hall.id, Window.number == 2).values(active=False))
    fifth = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    assert (fifth.people_ahead, fifth.estimated_wait_minutes) == (4, round(4 * avg / 1))
    with write_session(engine) as s:
        s.execute(update(Window).where(Window.hall_id == hall.id, Window.number == 2).values(active=True))
    sixth = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    assert (sixth.people_ahead, sixth.estimated_wait_minutes) == (5, round(5 * avg / 2))


def test_a_ticket_is_callable_from_the_very_instant_it_becomes_eligible(engine, hall):
    from window_terminal.db.models import Line

    taken = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    with read_session(engine) as s:
        line = s.execute(select(Line).where(Line.hall_id == hall.id, Line.code == "BIZ")).scalar_one()
        eligible = s.get(Ticket, taken.id).eligible_at
        today = s.get(Ticket, taken.id).service_day
        assert q._line_head(s, line, eligible, today).id == taken.id
        assert q._line_head(s, line, eligible - timedelta(microseconds=1), today) is None


def test_the_line_is_called_by_place_not_by_arrival_and_only_waiting_tickets_are_ahead(engine, hall):
    open_window(engine, hall, 2)
    a1, a2, a3 = (q.take_ticket(engine, hall.id, "BIZ", actor="C001") for _ in range(3))
    q.move_forward(engine, hall.id, a3.number, reason="孕妇", actor="M001")  # its place, not its id
    assert q.call_next(engine, hall.id, 2, actor="C002").number == a3.number
    q.start_service(engine, hall.id, 2, actor="C002")
    # A003 is being served, A001 and A002 wait: a new ticket has exactly those two ahead
    assert q.take_ticket(engine, hall.id, "BIZ", actor="C001").people_ahead == 2
    assert q.call_next(engine, hall.id, 2, actor="C002").number == a1.number
    q.start_service(engine, hall.id, 2, actor="C002")
    assert q.call_next(engine, hall.id, 2, actor="C002").number == a2.number


def test_a_privileged_ticket_is_told_only_the_privileged_ahead_where_they_go_first(engine, hall):
    """On a line that calls the priority lane first (strict or interleave), a 绿色通道 ticket is told
    how many privileged tickets are ahead of it — not the normal ones it will pass; on a line that
    calls them in plain order (``none``) it is told everyone ahead. A normal ticket always counts all."""
    for line in ("GEN", "BIZ", "TAX"):  # strict, interleave, none (queue/lines.toml)
        for _ in range(3):
            q.take_ticket(engine, hall.id, line, actor="C001")
    told = {}
    for line in ("GEN", "BIZ", "TAX"):
        first = q.take_ticket(engine, hall.id, line, kind="priority", priority_reason="老年人", actor="C001")
        second = q.take_ticket(engine, hall.id, line, kind="priority", priority_reason="军人", actor="C001")
        normal = q.take_ticket(engine, hall.id, line, actor="C001")
        told[line] = (first.people_ahead, second.people_ahead, normal.people_ahead)
        # the same figure when the ticket is looked up later, not only on its slip
        assert q.ticket_info(engine, hall.id, second.id).people_ahead == second.people_ahead
    assert told == {"GEN": (0, 1, 5), "BIZ": (0, 1, 5), "TAX": (3, 4, 5)}
