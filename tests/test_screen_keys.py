"""Every key of the counter, the board and the back office, pressed under Pilot: the state it produces.

The tables are driven by each screen's ``BINDINGS``: a key added to a screen without a row here fails
``test_every_*_key_has_a_row``, and each row presses its key on a freshly staged hall and reads the
database (or the screen the key opens) afterwards. Two actions swapped under their labels — ``r``
doing what ``x`` should — fail here, where the footer snapshot would still pass.

SQLite only: the commands behind the keys run on both databases in their own tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from textual.widgets import DataTable

from tests.factories import SINGLE_DEPT_ITEM, make_accepted_case, set_clock_to, tasks_of
from tests.test_backoffice_screen import _app as backoffice_app
from tests.test_backoffice_screen import settle as backoffice_settle
from tests.test_board import board_loaded, screen_app, wait_until
from tests.test_counter_screen import counter_app, settle
from window_terminal.core import queueing as q
from window_terminal.core.hall import resolve_hall
from window_terminal.db.engine import make_engine, read_session
from window_terminal.db.models import Case, Event, Hall, Line, Suspension, Ticket, Window, WindowLine
from window_terminal.screens.backoffice import BackofficeScreen
from window_terminal.screens.board import BoardScreen
from window_terminal.screens.counter import CounterScreen

SIZE = (120, 36)


def _actions(screen: type) -> list[tuple[str, str]]:
    """(key, English label) of each binding: the rows are keyed by what the footer PROMISES, so an
    action swapped under its label (``r`` labelled Recall doing a no-show) fails."""
    return [(b.key, getattr(b.description, "en", b.description)) for b in screen.BINDINGS]


@pytest.fixture
def env(sqlite_url, tmp_path, monkeypatch):
    from window_terminal.config import Settings

    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    engine = make_engine(sqlite_url)
    hall = resolve_hall(engine, None)
    settings = Settings(database_url=sqlite_url, drafts_dir=str(tmp_path / "drafts"))
    yield engine, hall, settings
    engine.dispose()


def ticket(engine, hall, number: str) -> Ticket:
    with read_session(engine) as s:
        return s.execute(
            select(Ticket).where(Ticket.hall_id == hall.id, Ticket.number == number)
        ).scalar_one()


def window_status(engine, hall, number: int) -> str:
    with read_session(engine) as s:
        return s.execute(
            select(Window.status).where(Window.hall_id == hall.id, Window.number == number)
        ).scalar_one()


# --- the counter (window 2, clerk C002) ---------------------------------------------------------------


def stage_counter(engine, hall, upto: str) -> None:
    """Window 2 open, A001 waiting in BIZ, then taken as far as ``upto``."""
    q.set_window_status(engine, hall.id, 2, "open", actor="C002")
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    steps = {
        "waiting": [],
        "called": [q.call_next],
        "serving": [q.call_next, q.start_service],
        "parked": [q.call_next, q.start_service, q.park],
    }[upto]
    for step in steps:
        step(engine, hall.id, 2, actor="C002")


@dataclass
class Row:
    stage: str | None  # the state A001 is brought to first (None: nothing staged)
    then: list[str] = field(default_factory=list)  # keys pressed in the dialog the key opens
    check: Callable[[Any, Any, Any], None] = lambda engine, hall, app: None


def _a001(status: str, **more: Any) -> Callable[[Any, Any, Any], None]:
    def check(engine, hall, app) -> None:
        t = ticket(engine, hall, "A001")
        assert t.status == status
        for name, value in more.items():
            if name == "line":  # moved to another line than BIZ
                with read_session(engine) as s:
                    assert s.get(Line, t.line_id).code != "BIZ"
            else:
                assert getattr(t, name) == value, name

    return check


def _window_paused(engine, hall, app) -> None:
    assert window_status(engine, hall, 2) == "paused"
    assert ticket(engine, hall, "A001").status == "waiting"


def _on_screen(name: str, status: str = "called") -> Callable[[Any, Any, Any], None]:
    def check(engine, hall, app) -> None:
        assert type(app.screen).__name__ == name
        assert ticket(engine, hall, "A001").status == status  # nothing else moved

    return check


def _quit(engine, hall, app) -> None:
    assert app._exit  # the app is leaving
    assert ticket(engine, hall, "A001").status == "waiting"


COUNTER: dict[str, Row] = {
    "Call": Row("waiting", check=_a001("called", recall_count=0)),
    "Recall": Row("called", check=_a001("called", recall_count=1)),
    "No-show": Row("called", check=_a001("no_show")),
    "Start": Row("called", check=_a001("serving")),
    "Finish": Row("serving", check=_a001("done")),
    "Transfer": Row("called", ["enter"], _a001("waiting", line="other", transfer_count=1)),
    "Park": Row("serving", check=_a001("parked")),
    "Call back": Row("parked", ["enter"], _a001("called")),
    "Pause/open": Row("waiting", check=_window_paused),
    "Intake": Row("called", check=_on_screen("IntakeScreen", "serving")),  # opening it starts service
    "Case": Row("called", check=_on_screen("AskDialog")),
    "Quit": Row("waiting", check=_quit),
}


def test_every_counter_key_has_a_row() -> None:
    assert {label for _, label in _actions(CounterScreen)} == set(COUNTER)


@pytest.mark.parametrize(
    ("key", "label"), _actions(CounterScreen), ids=[k for k, _ in _actions(CounterScreen)]
)
def test_each_counter_key_does_what_its_label_says(env, key: str, label: str) -> None:
    engine, hall, _ = env
    row = COUNTER[label]
    if row.stage:
        stage_counter(engine, hall, row.stage)

    async def inner() -> None:
        app = counter_app(env)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press(key)
            await settle(pilot)
            for follow in row.then:
                await pilot.press(follow)
                await settle(pilot)
            row.check(engine, hall, app)

    asyncio.run(inner())


# --- the back office (reviewer R001 of SCJG) ------------------------------------------------------------

TODAY = date(2026, 3, 10)


def stage_task(engine, hall, claimed: bool) -> Case:
    from window_terminal.core import review

    set_clock_to(TODAY)
    case = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=date(2026, 3, 5))
    if claimed:
        review.claim(engine, hall.id, tasks_of(engine, case.id)["SCJG"].id, actor="R001")
    return case


def _task(status: str) -> Callable[[Any, Any, Any], None]:
    def check(engine, hall, case) -> None:
        assert tasks_of(engine, case.id)["SCJG"].status == status

    return check


def _suspended(engine, hall, case) -> None:
    assert tasks_of(engine, case.id)["SCJG"].status == "suspended"
    with read_session(engine) as s:
        (susp,) = s.execute(select(Suspension).where(Suspension.case_id == case.id)).scalars().all()
        assert (susp.kind, susp.reason) == ("inspection", "送检")


def _extended(engine, hall, case) -> None:
    with read_session(engine) as s:
        assert s.get(Case, case.id).extension_days == 10


def _unchanged(engine, hall, case) -> None:
    assert tasks_of(engine, case.id)["SCJG"].status == "claimed"


def _fill(*values: str) -> list[str]:
    """Type each value into the dialog's fields in order (tab between), then enter."""
    keys: list[str] = []
    for n, value in enumerate(values):
        if n:
            keys.append("tab")
        keys.extend(value)
    return keys


BACKOFFICE: dict[str, tuple[bool, list[list[str]], Callable[[Any, Any, Any], None]]] = {
    # label: (claimed first, dialog key groups, check)
    "Claim": (False, [], _task("claimed")),
    "Approve": (True, [[*"同意", "enter"], ["enter"]], _task("approved")),
    "Refuse": (True, [[*"场所不符合要求", "enter"], ["enter"]], _task("refused")),
    "Return": (True, [[*"补正营业执照", "enter"]], _task("returned")),
    "Clock": (True, [[*_fill("送检", "3"), "enter"]], _suspended),  # suspend / resume the clock
    "Extend": (True, [[*_fill("S002", "情况复杂"), "enter"]], _extended),
    "Refresh": (True, [], _unchanged),
    "Quit": (True, [], _unchanged),
}


def test_every_back_office_key_has_a_row() -> None:
    assert {label for _, label in _actions(BackofficeScreen)} == set(BACKOFFICE)


@pytest.mark.parametrize(
    ("key", "label"), _actions(BackofficeScreen), ids=[k for k, _ in _actions(BackofficeScreen)]
)
def test_each_back_office_key_does_what_its_label_says(env, key: str, label: str) -> None:
    engine, hall, _ = env
    claimed, groups, check = BACKOFFICE[label]
    case = stage_task(engine, hall, claimed)

    async def inner() -> None:
        app = backoffice_app(engine, hall, department="SCJG", staff_code="R001")
        async with app.run_test(size=SIZE) as pilot:
            await backoffice_settle(pilot)
            await pilot.press(key)
            await backoffice_settle(pilot)
            for group in groups:
                await pilot.press(*group)
                await backoffice_settle(pilot)
            if label == "Quit":
                assert app._exit  # Textual's flag: exit() was called
            elif label == "Refresh":
                table = app.screen.query_one("#tasks", DataTable)
                assert table.row_count == 1
        check(engine, hall, case)

    asyncio.run(inner())


# --- the board (hall manager M001) -------------------------------------------------------------------


def _line_closed(engine, hall, app) -> None:
    with read_session(engine) as s:
        assert (
            s.execute(select(Line.is_open).where(Line.hall_id == hall.id, Line.code == "BIZ")).scalar_one()
            is False
        )


def _board_window_paused(engine, hall, app) -> None:
    assert window_status(engine, hall, 2) == "paused"


def _window_lines(engine, hall, app) -> None:
    with read_session(engine) as s:
        window_id = s.execute(
            select(Window.id).where(Window.hall_id == hall.id, Window.number == 2)
        ).scalar_one()
        served = s.execute(
            select(Line.code, WindowLine.weight)
            .join(WindowLine, WindowLine.line_id == Line.id)
            .where(WindowLine.window_id == window_id)
            .order_by(Line.code)
        ).all()
    assert [tuple(r) for r in served] == [("BIZ", 2), ("GEN", 1)]


def _moved_forward(engine, hall, app) -> None:
    assert ticket(engine, hall, "A002").queue_key < ticket(engine, hall, "A001").queue_key
    with read_session(engine) as s:
        reasons = [
            e.payload["reason"]
            for e in s.execute(select(Event).where(Event.kind == "ticket.moved_forward")).scalars()
        ]
    assert reasons == ["孕妇"]


def _broadcast(engine, hall, app) -> None:
    with read_session(engine) as s:
        assert s.get(Hall, hall.id).broadcast == "请携带身份证原件"


def _focus_moved(engine, hall, app) -> None:
    assert app.focused is not None and app.focused.id == "windows"


def _board_quit(engine, hall, app) -> None:
    assert app._exit
    _untouched(engine, hall, app)


def _untouched(engine, hall, app) -> None:
    assert window_status(engine, hall, 2) == "open"
    with read_session(engine) as s:
        assert (
            s.execute(select(Line.is_open).where(Line.hall_id == hall.id, Line.code == "BIZ")).scalar_one()
            is True
        )


async def _confirm(app, pilot) -> None:
    """Pausing a window and closing a line are asked first (issue 15): the confirm button has focus."""
    await wait_until(pilot, lambda: type(app.screen).__name__ == "ConfirmDialog")
    await pilot.press("enter")


async def _fill_booking(app, pilot) -> None:
    from textual.widgets import Input

    await wait_until(pilot, lambda: type(app.screen).__name__ == "PromptModal")
    app.screen.query_one("#f-line", Input).value = "BIZ"
    app.screen.query_one("#f-date", Input).value = (
        app.screen_stack[-2].now().date() + timedelta(days=1)
    ).isoformat()
    app.screen.query_one("#f-time", Input).value = "10:00"
    await pilot.press("enter", "enter", "enter", *"张三", "enter", "enter")


def _booked(engine, hall, app) -> None:
    from window_terminal.db.models import Appointment

    with read_session(engine) as s:
        booked = s.execute(select(Appointment.name)).scalars().all()
    assert booked == ["张三"]


async def _fill_move_forward(app, pilot) -> None:
    app.screen.query_one("#f-ticket").value = "A002"
    app.screen.query_one("#f-reason").value = "孕妇"
    await pilot.click("#ok")


async def _fill_lines(app, pilot) -> None:
    app.screen.query_one("#f-lines").value = "BIZ:2 GEN"
    await pilot.press("enter")


async def _fill_broadcast(app, pilot) -> None:
    app.screen.query_one("#f-message").value = "请携带身份证原件"
    await pilot.press("enter")


BOARD: dict[str, tuple[str | None, Any, Callable[[Any, Any, Any], None]]] = {
    # label: (table focused first, how the dialog is filled, check)
    "Line on/off": ("#lines", _confirm, _line_closed),
    "Pause window": ("#windows", _confirm, _board_window_paused),
    "Lines": ("#windows", _fill_lines, _window_lines),
    "Forward": (None, _fill_move_forward, _moved_forward),
    "Notice": (None, _fill_broadcast, _broadcast),
    "Book": ("#lines", _fill_booking, _booked),
    # Tab went nowhere until issues 15 and 20: the binding named "focus_next", which only the app has.
    "Switch": ("#lines", None, _focus_moved),
    "Next table": ("#lines", None, _focus_moved),
    "Quit": (None, None, _board_quit),
}


def _holds(check, engine, hall, app) -> bool:
    try:
        check(engine, hall, app)
    except AssertionError:
        return False
    return True


def test_every_board_key_has_a_row() -> None:
    assert {label for _, label in _actions(BoardScreen)} == set(BOARD)


@pytest.mark.parametrize(("key", "label"), _actions(BoardScreen), ids=[k for k, _ in _actions(BoardScreen)])
def test_each_board_key_does_what_its_label_says(sqlite_url, monkeypatch, key: str, label: str) -> None:
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    engine = make_engine(sqlite_url)
    hall = resolve_hall(engine, None)
    q.set_window_status(engine, hall.id, 2, "open", actor="C002")
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    focus, fill, check = BOARD[label]
    app = screen_app("board", engine, sqlite_url)

    async def inner() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: board_loaded(app))
            if focus:
                table = app.screen.query_one(focus, DataTable)
                table.focus()
                if focus == "#windows":
                    table.move_cursor(row=table.get_row_index("2"))
                await pilot.pause()
            await pilot.press(key)
            await pilot.pause()
            if fill is not None:
                await fill(app, pilot)
            await wait_until(pilot, lambda: _holds(check, engine, hall, app))
            check(engine, hall, app)

    asyncio.run(inner())
    engine.dispose()
