"""A clerk calls to the window they are signed in at; a manager may act for any window, recorded.

A clerk signed in at window 8 could call tickets to window 9 (issue 28): every window command took
the window number as given. Now a clerk is signed in at the window whose clerk they are
(``Window.staff_id``: set when they open it — the counter screen's sign-in, `wt window open N`,
`wt login CODE --window N`), and ``access.run_as`` (and the PostgreSQL fast path before its
procedure) refuses a window command anywhere else; a manager may act at any window, and the event
names the manager.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.conftest import TEST_PIN, sign_in
from tests.fuzz_kit import Env, refused_without_writing, table_counts, today_of
from tests.test_access import wt
from window_terminal.core import queueing as q
from window_terminal.db.engine import read_session
from window_terminal.db.models import Event, Staff, Ticket, Window
from window_terminal.errors import DomainError

# Windows 8 and 9 both serve the HPF line (queue/windows.toml); C008 and C009 are their clerks.
LINE = "HPF"


def staff_id(engine, code: str) -> int:
    with read_session(engine) as s:
        return s.execute(select(Staff.id).where(Staff.code == code)).scalar_one()


def window_row(engine, number: int) -> Window:
    with read_session(engine) as s:
        return s.execute(select(Window).where(Window.number == number)).scalar_one()


@pytest.fixture
def two_windows(engine, hall):
    q.set_window_status(engine, hall.id, 8, "open", actor="C008")
    q.set_window_status(engine, hall.id, 9, "open", actor="C009")
    return engine


COMMANDS_AT_A_WINDOW = {
    "call_next": lambda e, h, n, actor: q.call_next(e, h, n, actor=actor),
    "call_ticket": lambda e, h, n, actor: q.call_ticket(e, h, n, "C001", actor=actor),
    "recall": lambda e, h, n, actor: q.recall(e, h, n, actor=actor),
    "no_show": lambda e, h, n, actor: q.no_show(e, h, n, actor=actor),
    "start": lambda e, h, n, actor: q.start_service(e, h, n, actor=actor),
    "finish": lambda e, h, n, actor: q.finish(e, h, n, actor=actor),
    "park": lambda e, h, n, actor: q.park(e, h, n, actor=actor),
    "transfer": lambda e, h, n, actor: q.transfer(e, h, "SOC", window_number=n, actor=actor),
}


@pytest.mark.parametrize("command", COMMANDS_AT_A_WINDOW)
def test_a_clerk_signed_in_at_window_8_cannot_act_at_window_9(two_windows, hall, tmp_path, command):
    engine = two_windows
    q.take_ticket(engine, hall.id, LINE, actor="C001")  # C001
    q.take_ticket(engine, hall.id, LINE, actor="C001")  # C002
    q.call_next(engine, hall.id, 9, actor="C009")  # window 9 has C001 in hand
    env = Env(engine, hall, today_of(engine, hall), tmp_path)
    before = table_counts(engine)
    with pytest.raises(DomainError) as err:
        COMMANDS_AT_A_WINDOW[command](engine, hall.id, 9, "C008")
    assert err.value.code == "not_your_window"
    assert "8 号窗口" in err.value.zh and "window 8" in err.value.en
    refused_without_writing(env, before, err.value)


def test_a_clerk_calls_to_their_own_window(two_windows, hall):
    engine = two_windows
    q.take_ticket(engine, hall.id, LINE, actor="C001")
    called = q.call_next(engine, hall.id, 8, actor="C008")
    assert called is not None and called.window == 8
    assert q.start_service(engine, hall.id, 8, actor="C008").status == "serving"
    assert q.finish(engine, hall.id, 8, actor="C008").status == "done"


def test_a_managers_call_for_window_9_records_the_manager(two_windows, hall):
    engine = two_windows
    q.take_ticket(engine, hall.id, LINE, actor="C001")
    called = q.call_next(engine, hall.id, 9, actor="M001")  # PostgreSQL: the counter procedure
    assert called is not None and called.window == 9
    q.start_service(engine, hall.id, 9, actor="M001")
    manager, nine = staff_id(engine, "M001"), window_row(engine, 9)
    with read_session(engine) as s:
        events = s.execute(
            select(Event.kind, Event.staff_id, Event.window_id).where(
                Event.kind.in_(["ticket.called", "ticket.started"])
            )
        ).all()
        ticket = s.execute(select(Ticket)).scalar_one()
    assert sorted(events) == [("ticket.called", manager, nine.id), ("ticket.started", manager, nine.id)]
    assert ticket.staff_id == manager and ticket.window_id == nine.id
    assert nine.staff_id == staff_id(engine, "C009")  # window 9 stays C009's


def test_a_clerk_cannot_take_a_window_another_clerk_holds_nor_hold_two(two_windows, hall, tmp_path):
    engine = two_windows
    env = Env(engine, hall, today_of(engine, hall), tmp_path)
    before = table_counts(engine)
    with pytest.raises(DomainError) as err:
        q.set_window_status(engine, hall.id, 9, "open", actor="C008")  # C009's window
    assert err.value.code == "not_your_window" and "C009" in err.value.zh
    refused_without_writing(env, before, err.value)
    with pytest.raises(DomainError) as err:
        q.set_window_status(engine, hall.id, 10, "open", actor="C008")  # a second window
    assert "wt window close 8" in err.value.zh and "wt window close 8" in err.value.en
    refused_without_writing(env, before, err.value)
    q.set_window_status(engine, hall.id, 8, "closed", actor="C008")
    q.set_window_status(engine, hall.id, 10, "open", actor="C008")  # moved: now signed in at 10
    assert window_row(engine, 10).staff_id == staff_id(engine, "C008")
    q.set_window_status(engine, hall.id, 9, "closed", actor="M001")  # a manager closes any window


def test_a_window_a_manager_opened_is_taken_by_the_clerk_who_opens_it(engine, hall):
    q.set_window_status(engine, hall.id, 8, "open", actor="M001")
    q.take_ticket(engine, hall.id, LINE, actor="C001")
    with pytest.raises(DomainError) as err:
        q.call_next(engine, hall.id, 8, actor="C008")  # not signed in at 8 yet
    assert err.value.code == "not_your_window" and "wt window open 8" in err.value.zh
    q.set_window_status(engine, hall.id, 8, "open", actor="C008")
    assert window_row(engine, 8).staff_id == staff_id(engine, "C008")
    assert q.call_next(engine, hall.id, 8, actor="C008") is not None


# --- the CLI ----------------------------------------------------------------------------------


def test_the_cli_calls_only_to_the_window_signed_in_at(db_url, tmp_path, engine, hall):
    from tests.conftest import signed_out_env

    env = signed_out_env(db_url, tmp_path)
    sign_in(env, "C008")
    login = wt(env, "login", "C008", "--window", "8", stdin=f"{TEST_PIN}\n")
    assert login.returncode == 0, login.stderr
    assert window_row(engine, 8).staff_id == staff_id(engine, "C008")
    q.set_window_status(engine, hall.id, 9, "open", actor="C009")
    q.take_ticket(engine, hall.id, LINE, actor="C001")
    refused = wt(env, "call", "next", "--window", "9")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "8 号窗口" in refused.stderr and "Traceback" not in refused.stderr
    with read_session(engine) as s:
        assert s.execute(select(Ticket.status)).scalar_one() == "waiting"
    done = wt(env, "call", "next", "--window", "8")
    assert done.returncode == 0, done.stderr
    with read_session(engine) as s:
        assert s.execute(select(Ticket.status)).scalar_one() == "called"


def test_the_cli_lets_a_manager_call_for_any_window(cli_env, engine, hall):
    q.set_window_status(engine, hall.id, 9, "open", actor="C009")
    q.take_ticket(engine, hall.id, LINE, actor="C001")
    done = wt(cli_env, "call", "next", "--window", "9", "--json")  # cli_env: M001 signed in
    assert done.returncode == 0, done.stderr
    with read_session(engine) as s:
        actor = s.execute(select(Event.staff_id).where(Event.kind == "ticket.called")).scalar_one()
    assert actor == staff_id(engine, "M001")


def test_window_commands_go_to_the_window_signed_in_at_when_none_is_named(db_url, tmp_path, engine, hall):
    """Found by a tester: `wt login C008 --window 8` promised "your calls go there", then `wt call next`
    asked for --window. Without one, a window command acts at the window one is signed in at."""
    from tests.conftest import signed_out_env

    env = signed_out_env(db_url, tmp_path)
    sign_in(env, "C008")
    nowhere = wt(env, "--lang", "en", "call", "next")
    assert nowhere.returncode == 2 and "--window" in nowhere.stderr and "Traceback" not in nowhere.stderr
    assert wt(env, "login", "C008", "--window", "8", stdin=f"{TEST_PIN}\n").returncode == 0
    q.take_ticket(engine, hall.id, LINE, actor="C001")
    done = wt(env, "call", "next", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["window"] == 8
    assert wt(env, "call", "start").returncode == 0
    with read_session(engine) as s:
        assert s.execute(select(Ticket.status)).scalar_one() == "serving"
