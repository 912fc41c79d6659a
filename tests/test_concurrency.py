"""Many counter PCs on one database: real processes calling and taking at the same time.

Each worker process makes its own engine from the URL (never a connection inherited from the test
process). Processes come from a ``forkserver`` context that has the package preloaded, so starting
twenty of them costs little; like ``spawn``, a child shares nothing with the test process.
"""

from __future__ import annotations

import multiprocessing
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import QUEUE  # noqa: E402 - the tests' hall, open at every hour
from window_terminal.core import queueing as q
from window_terminal.core.audit import verify_chain
from window_terminal.core.hall import load_hall
from window_terminal.db import clock
from window_terminal.db.engine import make_engine, read_session
from window_terminal.db.feed import Feed
from window_terminal.db.models import Event, Hall, Line, Ticket, Window, WindowLine

LINES = ("BIZ", "FOOD", "SOC", "HPF", "POP", "CONS", "GEN", "TAX")
EXTRA_WINDOWS = {15: [("BIZ", 1), ("POP", 1)], 16: [("SOC", 1), ("TAX", 2), ("GEN", 1)]}
CALLERS = 16  # the demo hall's 14 windows and two more
TAKERS = 4
TICKETS_PER_TAKER = 12


def _context() -> multiprocessing.context.BaseContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["window_terminal.core.queueing", "psycopg", __name__])
    return ctx


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(max_workers=CALLERS + TAKERS, mp_context=_context()) as executor:
        yield executor


# --- what the worker processes do --------------------------------------------------------------


def _wait_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))


def _take_tickets(url: str, hall_id: int, taker: int, count: int, start_at: float) -> list[int]:
    engine = make_engine(url)
    try:
        _wait_until(start_at)
        ids = []
        for i in range(count):
            line = LINES[(taker + i) % len(LINES)]
            ids.append(q.take_ticket(engine, hall_id, line, actor="C001").id)
        return ids
    finally:
        engine.dispose()


def _call_until_drained(url: str, hall_id: int, window: int, done_flag: str, start_at: float) -> list[int]:
    """A counter: call → start → call (which finishes it) … until the takers are done and nobody waits.

    Like a counter screen, it presses "call next" when the feed says a ticket was issued in one of
    its lines, not in a loop: an empty call takes the hall lock too, and sixteen windows calling
    in a loop would starve the kiosks.
    """
    engine = make_engine(url)
    try:
        with read_session(engine) as s:
            mine = set(
                s.execute(
                    select(Line.code)
                    .join(WindowLine, WindowLine.line_id == Line.id)
                    .join(Window, Window.id == WindowLine.window_id)
                    .where(Window.hall_id == hall_id, Window.number == window)
                ).scalars()
            )
            after = s.execute(select(Hall.event_seq).where(Hall.id == hall_id)).scalar_one()
        feed = Feed(engine, hall_id, after=after)
        _wait_until(start_at)
        called = []
        while True:
            takers_done = Path(done_flag).exists()  # read before the call: then an empty call means drained
            ticket = q.call_next(engine, hall_id, window, actor="M001")
            if ticket is not None:
                called.append(ticket.id)
                q.start_service(engine, hall_id, window, actor="M001")
                continue
            if takers_done:
                feed.close()
                return called
            while not Path(done_flag).exists():
                events = feed.poll(timeout=0.2)
                if any(e.kind == "ticket.issued" and e.payload.get("line") in mine for e in events):
                    break
    finally:
        engine.dispose()


def _same_request(url: str, hall_id: int, start_at: float) -> tuple[dict, dict | None]:
    engine = make_engine(url)
    try:
        _wait_until(start_at)
        taken = q.take_ticket(engine, hall_id, "BIZ", request_id="kiosk-1:press-42", actor="C001")
        called = q.call_next(engine, hall_id, 2, request_id="window-2:call-7", actor="C002")
        return taken.as_dict(), called.as_dict() if called else None
    finally:
        engine.dispose()


def _take_tomorrow(url: str, hall_id: int, start_at: float) -> str:
    clock.set_offset(timedelta(days=1))
    engine = make_engine(url)
    try:
        _wait_until(start_at)
        return q.take_ticket(engine, hall_id, "BIZ", actor="C001").number
    finally:
        engine.dispose()
        clock.set_offset(timedelta(0))


# --- the tests ---------------------------------------------------------------------------------


def _hall_with_twenty_windows(engine, tmp_path: Path) -> None:
    """The demo hall, reloaded from a copy of queue/ with two more windows."""
    folder = tmp_path / "queue"
    shutil.copytree(QUEUE, folder)
    extra = "".join(
        f'\n[[window]]\nnumber = {number}\nname = "{number}号窗口"\nlines = ['
        + ", ".join(f'{{ code = "{code}", weight = {weight} }}' for code, weight in lines)
        + "]\n"
        for number, lines in EXTRA_WINDOWS.items()
    )
    with open(folder / "windows.toml", "a", encoding="utf-8") as f:
        f.write(extra)
    load_hall(engine, folder)


def test_sixteen_windows_calling_at_once_call_every_ticket_exactly_once_in_line_order(
    engine, hall, db_url, pool, tmp_path
):
    _hall_with_twenty_windows(engine, tmp_path)
    with read_session(engine) as s:
        windows = (
            s.execute(select(Window.number).where(Window.hall_id == hall.id, Window.active)).scalars().all()
        )
    assert len(windows) == CALLERS
    for number in windows:
        q.set_window_status(engine, hall.id, number, "open", actor="M001")

    done_flag = tmp_path / "takers-done"
    start_at = time.time() + 0.5
    takers = [
        pool.submit(_take_tickets, db_url, hall.id, t, TICKETS_PER_TAKER, start_at) for t in range(TAKERS)
    ]
    callers = {
        n: pool.submit(_call_until_drained, db_url, hall.id, n, str(done_flag), start_at) for n in windows
    }
    issued = [ticket_id for f in takers for ticket_id in f.result(timeout=120)]
    done_flag.touch()
    called_by_window = {n: f.result(timeout=120) for n, f in callers.items()}

    # Every ticket called exactly once, by exactly one window; nobody left behind.
    called = [ticket_id for ids in called_by_window.values() for ticket_id in ids]
    assert len(issued) == TAKERS * TICKETS_PER_TAKER
    assert sorted(called) == sorted(issued)
    assert sum(1 for ids in called_by_window.values() if ids) >= 4, "the calls should be spread over windows"
    with read_session(engine) as s:
        tickets = s.execute(select(Ticket).where(Ticket.hall_id == hall.id)).scalars().all()
        events = s.execute(
            select(Event).where(Event.hall_id == hall.id, Event.kind == "ticket.called").order_by(Event.seq)
        ).scalars()
        call_order = [e.payload["ticket_id"] for e in events]
        line_code = dict(s.execute(select(Line.id, Line.code)).all())
        all_seqs = (
            s.execute(select(Event.seq).where(Event.hall_id == hall.id).order_by(Event.seq)).scalars().all()
        )
    assert Counter(call_order) == Counter(issued), "a ticket was called twice (or never)"
    assert {t.status for t in tickets} == {"done"}, "tickets left waiting, called or serving"
    assert all(t.window_id is not None and t.first_called_at is not None for t in tickets)
    assert all_seqs == list(range(1, len(all_seqs) + 1)), "the event log has gaps"
    # the hash chain follows the numbers, whichever path (and process) wrote each event
    chain = verify_chain(engine, hall.id)
    assert chain.intact and chain.checked == len(all_seqs), chain.text("en")

    # FIFO within each line: one caller at a time per line (PostgreSQL: a lock per line; SQLite: the
    # hall lock), so each line's call order in the event log is exactly its issue order (place in
    # line, then ticket id for tickets issued in the same instant), and so are its call times.
    by_id = {t.id: t for t in tickets}
    for line_id in {t.line_id for t in tickets}:
        in_call_order = [i for i in call_order if by_id[i].line_id == line_id]
        in_queue_order = sorted(in_call_order, key=lambda i: (by_id[i].queue_key, i))
        assert in_call_order == in_queue_order, (
            f"line {line_code[line_id]} was not called first-come first-served"
        )
        first_called = [by_id[i].first_called_at for i in in_call_order]
        assert first_called == sorted(first_called)


def test_the_same_request_sent_by_several_processes_at_once_has_one_effect(engine, hall, db_url, pool):
    q.set_window_status(engine, hall.id, 2, "open", actor="C002")
    start_at = time.time() + 0.5
    futures = [pool.submit(_same_request, db_url, hall.id, start_at) for _ in range(8)]
    results = [f.result(timeout=60) for f in futures]
    # …and once more, afterwards, from this process.
    again = q.take_ticket(engine, hall.id, "BIZ", request_id="kiosk-1:press-42", actor="C001")
    again_call = q.call_next(engine, hall.id, 2, request_id="window-2:call-7", actor="C002")

    taken = {r[0]["id"] for r in results} | {again.id}
    calls = {(r[1]["id"], r[1]["window"]) for r in results} | {(again_call.id, again_call.window)}
    assert len(taken) == 1 and again.number == "A001"
    assert calls == {(again.id, 2)}
    with read_session(engine) as s:
        tickets = s.execute(select(Ticket).where(Ticket.hall_id == hall.id)).scalars().all()
        kinds = Counter(
            s.execute(
                select(Event.kind).where(
                    Event.hall_id == hall.id, Event.kind.in_(["ticket.issued", "ticket.called"])
                )
            ).scalars()
        )
    assert len(tickets) == 1 and tickets[0].status == "called"
    assert kinds == {"ticket.issued": 1, "ticket.called": 1}


def test_numbers_restart_for_every_process_when_the_database_clock_reaches_the_next_day(
    engine, hall, db_url, pool
):
    assert q.take_ticket(engine, hall.id, "BIZ", actor="C001").number == "A001"
    start_at = time.time() + 0.3
    futures = [pool.submit(_take_tomorrow, db_url, hall.id, start_at) for _ in range(6)]
    tomorrow = sorted(f.result(timeout=60) for f in futures)
    assert tomorrow == [f"A{n:03d}" for n in range(1, 7)]
    assert q.take_ticket(engine, hall.id, "BIZ", actor="C001").number == "A002"
    with read_session(engine) as s:
        days = defaultdict(int)
        for day in s.execute(select(Ticket.service_day).where(Ticket.hall_id == hall.id)).scalars():
            days[day] += 1
    assert sorted(days.values()) == [2, 6] and max(days) - min(days) == timedelta(days=1)
