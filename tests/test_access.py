"""Every action has a person: sign-in for the CLI, roles checked in the core, the actor on every event.

On SQLite and PostgreSQL. What a person would notice if one failed: a clerk approving a licence, a
command run in nobody's name, a session file anyone on the PC can read, a locked-out clerk nobody can
let back in.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import REPO, TEST_PIN, sign_in, signed_out_env
from tests.factories import REVIEWERS, SINGLE_DEPT_ITEM, make_accepted_case, tasks_of
from window_terminal.core import access, ratings, review
from window_terminal.core import queueing as q
from window_terminal.core.drafts import save_draft
from window_terminal.core.sessions import current
from window_terminal.core.staff import change_pin, login, unlock
from window_terminal.db import clock
from window_terminal.db.engine import read_session
from window_terminal.db.models import Event, Staff
from window_terminal.errors import DomainError

WT = [sys.executable, "-m", "window_terminal.cli"]


def wt(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([*WT, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60)


def event_count(engine) -> int:
    with read_session(engine) as s:
        return s.execute(select(func.count()).select_from(Event)).scalar_one()


# --- the CLI: no session, no change ---------------------------------------------------------------

STATE_CHANGING = [
    ["ticket", "take", "BIZ"],
    ["ticket", "cancel", "A001"],
    ["ticket", "forward", "A001", "--reason", "老年人"],
    ["call", "next", "--window", "2"],
    ["call", "recall", "--window", "2"],
    ["call", "no-show", "--window", "2"],
    ["call", "start", "--window", "2"],
    ["call", "finish", "--window", "2"],
    ["call", "park", "--window", "2"],
    ["call", "ticket", "A001", "--window", "2"],
    ["call", "transfer", "--to", "GEN", "--window", "2"],
    ["window", "open", "2"],
    ["window", "pause", "2"],
    ["window", "close", "2"],
    ["window", "lines", "2", "BIZ"],
    ["line", "open", "BIZ"],
    ["line", "close", "BIZ"],
    ["broadcast", "系统维护"],
    ["review", "claim", "1"],
    ["review", "approve", "1"],
    ["review", "refuse", "1", "--reason", "不符合条件"],
    ["rating", "add", "--window", "2", "--level", "5"],
    ["rectification", "close", "1", "--note", "已整改"],
    ["staff", "unlock", "C004"],
    ["doc", "print", "X-1", "--printer", "pdf:/tmp"],
]


@pytest.mark.parametrize("args", STATE_CHANGING, ids=lambda a: " ".join(a[:2]))
def test_a_state_changing_command_refuses_without_a_session_and_changes_nothing(
    db_url, engine, tmp_path, args
):
    env = signed_out_env(db_url, tmp_path)
    before = event_count(engine)
    result = wt(env, *args)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "wt login" in result.stderr and "Traceback" not in result.stderr
    assert event_count(engine) == before


def test_login_from_a_script_then_commands_act_in_that_name_until_logout(db_url, engine, hall, tmp_path):
    env = signed_out_env(db_url, tmp_path)
    first = wt(env, "login", "C002", stdin="1234\n")
    assert first.returncode == 2 and "wt pin change" in first.stderr  # the initial PIN must go first
    changed = wt(env, "pin", "change", "C002", stdin=f"1234\n{TEST_PIN}\n{TEST_PIN}\n")
    assert changed.returncode == 0, changed.stderr
    assert wt(env, "login", "C002", stdin="9999\n").returncode == 2
    signed = wt(env, "login", "C002", "--json", stdin=f"{TEST_PIN}\n")
    assert signed.returncode == 0, signed.stderr
    assert json.loads(signed.stdout)["staff"] == "C002"
    assert json.loads(signed.stdout)["ends_local"].endswith("00:00")  # the hall's midnight, not UTC's
    session_file = Path(env["WT_DATA_DIR"]) / "session" / "session.json"
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600
    assert TEST_PIN not in session_file.read_text()

    assert wt(env, "window", "open", "2").returncode == 0
    assert wt(env, "ticket", "take", "BIZ").returncode == 0
    assert wt(env, "call", "next", "--window", "2").returncode == 0
    with read_session(engine) as s:
        c002 = s.execute(select(Staff.id).where(Staff.code == "C002")).scalar_one()
        last = s.execute(select(Event).order_by(Event.seq.desc()).limit(3)).scalars().all()
        logged = " ".join(json.dumps(e.payload) for e in s.execute(select(Event)).scalars())
    assert [e.staff_id for e in last] == [c002, c002, c002]
    assert "1234" not in logged and TEST_PIN not in logged  # no PIN in the audit trail
    assert json.loads(wt(env, "whoami", "--json").stdout)["staff"] == "C002"

    assert wt(env, "logout").returncode == 0
    assert not session_file.exists()
    refused = wt(env, "call", "finish", "--window", "2")
    assert refused.returncode == 2 and "wt login" in refused.stderr


def test_a_session_file_edited_by_hand_or_from_before_a_pin_change_is_refused(db_url, engine, hall, tmp_path):
    env = signed_out_env(db_url, tmp_path)
    sign_in(env, "C002")
    folder = Path(env["WT_DATA_DIR"]) / "session"
    assert current(engine, hall.id, folder).code == "C002"
    path = folder / "session.json"
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "staff": "M001"}))  # pretend to be the manager
    with pytest.raises(DomainError) as err:
        current(engine, hall.id, folder)
    assert err.value.code == "not_signed_in"
    path.write_text(json.dumps(data))
    assert current(engine, hall.id, folder).code == "C002"
    change_pin(engine, hall.id, "C002", TEST_PIN, "975318")
    with pytest.raises(DomainError):
        current(engine, hall.id, folder)


def test_a_session_ends_after_the_idle_time_and_at_the_end_of_the_service_day(db_url, engine, hall, tmp_path):
    env = signed_out_env(db_url, tmp_path)
    sign_in(env, "C002")
    folder = Path(env["WT_DATA_DIR"]) / "session"
    assert current(engine, hall.id, folder, idle_minutes=30).code == "C002"
    clock.set_offset(timedelta(minutes=29))
    assert current(engine, hall.id, folder, idle_minutes=30).code == "C002"  # used: the idle time restarts
    clock.set_offset(timedelta(minutes=58))
    assert current(engine, hall.id, folder, idle_minutes=30).code == "C002"
    clock.set_offset(timedelta(minutes=89))
    with pytest.raises(DomainError) as err:
        current(engine, hall.id, folder, idle_minutes=30)
    assert "过期" in err.value.zh and not (folder / "session.json").exists()

    clock.set_offset(timedelta(0))
    sign_in(env, "C002")
    clock.set_offset(timedelta(days=1))  # the next service day: sign in again
    with pytest.raises(DomainError):
        current(engine, hall.id, folder)


# --- roles, in the core -------------------------------------------------------------------------


def _documented_permissions() -> dict[str, set[str]]:
    """The role table of docs/roles.md, as {command: {role, …}}."""
    table: dict[str, set[str]] = {}
    text = (REPO / "docs" / "roles.md").read_text(encoding="utf-8")
    header: list[str] = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| command"):
            header = cells
        elif header and re.fullmatch(r"`[a-z_]+\.[a-z_]+`", cells[0]):
            table[cells[0].strip("`")] = {header[i] for i, cell in enumerate(cells) if cell == "✓"}
    return table


def test_the_documented_role_table_is_the_one_the_core_enforces():
    documented = _documented_permissions()
    assert documented == {command: set(roles) for command, roles in access.PERMISSIONS.items()}


ROLE_REFUSALS = [
    (
        "a clerk cannot move a ticket forward",
        "C002",
        lambda e, h: q.move_forward(e, h, "A001", reason="急", actor="C002"),
    ),
    ("a clerk cannot close a line", "C002", lambda e, h: q.set_line_open(e, h, "BIZ", False, actor="C002")),
    ("a clerk cannot broadcast", "C002", lambda e, h: q.broadcast(e, h, "通知", actor="C002")),
    ("a clerk cannot unlock a colleague", "C002", lambda e, h: unlock(e, h, "C004", actor="C002")),
    ("a reviewer cannot call a ticket", "R001", lambda e, h: q.call_next(e, h, 2, actor="R001")),
    ("a supervisor cannot take a ticket", "S001", lambda e, h: q.take_ticket(e, h, "BIZ", actor="S001")),
    ("the kiosk cannot call", "device:KIOSK1", lambda e, h: q.call_next(e, h, 2, actor="device:KIOSK1")),
    (
        "the rating screen cannot take a ticket",
        "device:RATE",
        lambda e, h: q.take_ticket(e, h, "BIZ", actor="device:RATE"),
    ),
    (
        "a clerk cannot close a rectification",
        "C002",
        lambda e, h: ratings.close_rectification(e, h, 1, "已整改", actor="C002"),
    ),
]


@pytest.mark.parametrize("what, actor, call", ROLE_REFUSALS, ids=[r[0] for r in ROLE_REFUSALS])
def test_a_role_refusal_through_the_domain_function(engine, hall, what, actor, call):
    q.set_window_status(engine, hall.id, 2, "open", actor="C002")
    q.take_ticket(engine, hall.id, "BIZ", actor="device:KIOSK1")
    before = event_count(engine)
    with pytest.raises(DomainError) as err:
        call(engine, hall.id)
    assert err.value.code == "forbidden", err.value.zh
    assert actor.removeprefix("device:") in err.value.zh and "无权" in err.value.zh
    assert event_count(engine) == before


def test_a_clerk_cannot_approve_and_a_reviewer_only_for_their_department(engine, hall):
    clock.set_offset(timedelta(0))
    case = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=date(2026, 3, 2))
    task = tasks_of(engine, case.id)["SCJG"]
    with pytest.raises(DomainError) as err:
        review.approve(engine, hall.id, task.id, note="同意", actor="C002")
    assert err.value.code == "forbidden"
    with pytest.raises(DomainError) as err:
        review.approve(engine, hall.id, task.id, note="同意", actor=REVIEWERS["XZSP"])
    assert err.value.code == "wrong_department"
    with pytest.raises(DomainError) as err:
        review.approve(engine, hall.id, task.id, note="同意", actor=None)
    assert err.value.code == "not_signed_in"
    with pytest.raises(DomainError) as err:
        review.approve(engine, hall.id, task.id, note="同意", actor=REVIEWERS["SCJG"])
    assert err.value.code == "not_claimed"  # a decision has one named reviewer, who claimed it
    with pytest.raises(DomainError) as err:
        review.approve(engine, hall.id, task.id, note=" ", actor=REVIEWERS["SCJG"])
    assert err.value.code == "opinion_required"
    review.claim(engine, hall.id, task.id, actor=REVIEWERS["SCJG"])
    decided = review.approve(engine, hall.id, task.id, note="同意", actor=REVIEWERS["SCJG"])
    assert decided["decision"] == "approved"


def test_a_manager_unlocks_a_locked_out_clerk_and_it_is_recorded(engine, hall):
    for _ in range(5):
        with pytest.raises(DomainError):
            login(engine, hall.id, "C004", "0000")
    with pytest.raises(DomainError) as err:
        login(engine, hall.id, "C004", "1234")
    assert err.value.code == "locked" and "解锁" in err.value.zh
    result = unlock(engine, hall.id, "C004", actor="M001")
    assert result["was_locked"] is True
    assert login(engine, hall.id, "C004", "1234").code == "C004"
    with read_session(engine) as s:
        event = s.execute(select(Event).where(Event.kind == "staff.unlocked")).scalar_one()
        m001 = s.execute(select(Staff.id).where(Staff.code == "M001")).scalar_one()
    assert event.staff_id == m001 and event.payload["staff"] == "C004"


# --- the audit trail says who ---------------------------------------------------------------------


def test_a_scripted_day_leaves_no_event_without_an_actor(engine, hall):
    with read_session(engine) as s:
        start = s.execute(select(func.max(Event.seq))).scalar_one() or 0
    for window, clerk in ((1, "C001"), (2, "C002")):
        q.set_window_status(engine, hall.id, window, "open", actor=clerk)
    for _ in range(4):
        q.take_ticket(engine, hall.id, "BIZ", actor="device:KIOSK1")
    q.take_ticket(engine, hall.id, "BIZ", kind="priority", priority_reason="老年人", actor="device:KIOSK1")
    q.call_next(engine, hall.id, 1, actor="C001")
    q.start_service(engine, hall.id, 1, actor="C001")
    q.call_next(engine, hall.id, 2, actor="C002")
    q.no_show(engine, hall.id, 2, actor="C002")
    q.call_next(engine, hall.id, 2, actor="C002")
    q.transfer(engine, hall.id, "GEN", window_number=2, actor="C002")
    q.move_forward(engine, hall.id, "A004", reason="行动不便", actor="M001")
    q.broadcast(engine, hall.id, "午间不休", actor="M001")
    q.finish(engine, hall.id, 1, actor="C001")
    ratings.rate(engine, hall.id, 1, 2, "太慢", actor="device:RATE")
    with read_session(engine) as s:
        events = s.execute(select(Event).where(Event.seq > start)).scalars().all()
    assert len(events) >= 15
    nobody = [(e.seq, e.kind) for e in events if e.staff_id is None and not e.device]
    assert nobody == []
    assert {e.device for e in events if e.kind == "ticket.issued"} == {"KIOSK1"}


# --- local files with personal data ---------------------------------------------------------------


def test_an_intake_draft_is_readable_by_its_os_user_only(tmp_path):
    os.umask(0o022)
    path = save_draft(tmp_path / "drafts", "walkin-w2", {"id_number": "11010519491231002X"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not list(path.parent.glob("*.tmp"))


def test_pins_never_reach_the_process_arguments_or_the_output(db_url, tmp_path):
    env = signed_out_env(db_url, tmp_path)
    result = wt(env, "pin", "change", "C005", stdin=f"1234\n{TEST_PIN}\n{TEST_PIN}\n")
    assert result.returncode == 0, result.stderr
    assert TEST_PIN not in result.stdout + result.stderr
    weak = wt(env, "pin", "change", "C005", stdin=f"{TEST_PIN}\n111111\n111111\n")
    assert weak.returncode == 2 and "过于简单" in weak.stderr
    assert re.search(r"PIN", wt(env, "login", "--help").stdout)


# --- the staff screens: nothing before sign-in --------------------------------------------------


def _plan(env: dict[str, str], screen: str, **options):
    from window_terminal.cli import Context, screen_plan

    saved = {k: os.environ.get(k) for k in ("WT_DATA_DIR", "WT_CONFIG")}
    os.environ.update(WT_DATA_DIR=env["WT_DATA_DIR"], WT_CONFIG=env["WT_CONFIG"])
    try:
        c = Context(db=env["WT_DATABASE_URL"])
        return screen_plan(c, screen, options)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.mark.parametrize(
    "screen, options, keys",
    [
        ("counter", {"window": 2}, ("f2", "s", "x")),
        ("backoffice", {"department": "SCJG"}, ("c", "a", "x")),
        ("board", {}, ("p", "l", "b")),
    ],
)
def test_a_staff_screen_started_without_sign_in_asks_for_it_and_acts_on_nothing(
    db_url, engine, hall, tmp_path, screen, options, keys
):
    import asyncio

    from window_terminal.app import make_app
    from window_terminal.config import Settings

    env = signed_out_env(db_url, tmp_path)
    q.set_window_status(engine, hall.id, 2, "open", actor="C002")
    q.take_ticket(engine, hall.id, "BIZ", actor="device:KIOSK1")
    first, plan = _plan(env, screen, **options)
    assert (first, plan["target"]) == ("home", screen)
    before = event_count(engine)

    async def inner() -> None:
        app = make_app(first, settings=Settings(database_url=db_url), engine=engine, hall=hall, **plan)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press(*keys)
            await pilot.pause(0.3)
            assert type(app.screen).__name__ == "LoginScreen"

    asyncio.run(inner())
    assert event_count(engine) == before

    code = {"counter": "C002", "backoffice": "R001", "board": "M001"}[screen]
    sign_in(env, code)
    first, plan = _plan(env, screen, **options)
    assert first == screen and plan["staff_code"] == code  # (was: any of the three codes)
    sign_in(env, "C003")  # a clerk may not open the board or the back office: sign-in first
    assert _plan(env, screen, **options)[0] == ("counter" if screen == "counter" else "home")


def test_a_counter_screen_made_without_a_staff_member_calls_nobody(engine, hall, tmp_path):
    import asyncio

    from window_terminal.app import make_app
    from window_terminal.config import Settings

    q.set_window_status(engine, hall.id, 2, "open", actor="C002")
    q.take_ticket(engine, hall.id, "BIZ", actor="device:KIOSK1")
    url = engine.url.render_as_string(hide_password=False)

    async def inner() -> None:
        app = make_app("counter", settings=Settings(database_url=url), engine=engine, hall=hall, window=2)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause(0.5)
            await pilot.press("f2")
            for _ in range(40):
                await pilot.pause(0.05)
                if "请先登录" in str(app.screen.query_one("#message").render()):
                    break
            assert "请先登录" in str(app.screen.query_one("#message").render())

    asyncio.run(inner())
    assert q.window_in_hand(engine, hall.id, 2) is None
