"""A dead link (packets black-holed, nothing reset) is noticed within seconds, and nothing runs twice.

The database is reached through ``tests.blackhole.BlackHole``, a TCP proxy that stops forwarding
without resetting anything: the clients' kernel sees a healthy peer, so only the program's own
deadlines (db/links.py) can notice. The counter, the hall display and a feed follower must say
"connection lost" while it lasts; a call caught in it runs exactly once; all recover by themselves.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from tests.blackhole import BlackHole
from tests.test_board import wait_until
from tests.test_counter_screen import SIZE, text_of
from window_terminal.app import make_app
from window_terminal.config import Settings
from window_terminal.core import queueing as q
from window_terminal.core.hall import resolve_hall
from window_terminal.db.engine import make_engine, read_session
from window_terminal.db.feed import Feed
from window_terminal.db.models import Event, Ticket

pytestmark = pytest.mark.postgres


@pytest.fixture
def hole(pg_url):
    url = make_url(pg_url)
    with BlackHole((url.host or "127.0.0.1", url.port or 5432)) as proxy:
        yield proxy, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


class Follower:
    """A feed follower in a thread, as ``wt queue status --watch`` and the web display run it."""

    def __init__(self, url: str, hall_id: int, after: int) -> None:
        self.engine = make_engine(url)
        self.feed = Feed(self.engine, hall_id, after=after)
        self.seen: list[tuple[int, str]] = []
        self.lost = threading.Event()  # the feed said it lost the database at least once
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.done.is_set():
            for event in self.feed.follow(timeout=0.5, idle=0.5):
                self.seen.append((event.seq, event.kind))
            if not self.feed.connected:
                self.lost.set()

    def stop(self) -> None:
        self.done.set()
        self.thread.join(timeout=30)
        self.feed.close()
        self.engine.dispose()


def _status(engine, hall_id: int, number: str) -> str:
    with read_session(engine) as s:
        return str(
            s.execute(
                select(Ticket.status).where(Ticket.hall_id == hall_id, Ticket.number == number)
            ).scalar_one()
        )


def _count(engine, hall_id: int, kind: str) -> int:
    with read_session(engine) as s:
        return int(
            s.execute(select(func.count()).where(Event.hall_id == hall_id, Event.kind == kind)).scalar_one()
        )


def test_a_dead_link_is_noticed_a_caught_call_runs_once_and_all_recover(pg_url, hole, tmp_path):
    proxy, proxied = hole
    direct = make_engine(pg_url)
    hall = resolve_hall(direct, None)
    for _ in range(3):
        q.take_ticket(direct, hall.id, "BIZ", actor="C001")
    with read_session(direct) as s:
        start = int(s.execute(select(func.max(Event.seq)).where(Event.hall_id == hall.id)).scalar_one())
    engine = make_engine(proxied)
    follower = Follower(proxied, hall.id, start)
    settings = Settings(database_url=proxied, drafts_dir=str(tmp_path / "drafts"))

    async def inner():
        app = make_app("counter", settings=settings, engine=engine, hall=hall, window=2, staff_code="C002")
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: "已连接" in text_of(app, "#header"))
            await wait_until(pilot, lambda: app.screen.feed_started)
            proxy.stop()
            await pilot.press("f2")  # the call is caught in the dead link
            await wait_until(pilot, lambda: "中断" in text_of(app, "#header"), timeout=30)
            await wait_until(pilot, lambda: "同一请求编号" in text_of(app, "#message"), timeout=30)
            await asyncio.to_thread(follower.lost.wait, 30)
            assert follower.lost.is_set(), "the feed follower did not notice the dead link"
            assert app.screen.check_action("call_next", ()) is None  # disabled while lost
            proxy.resume()
            # Either the retry (same request id, COMMAND_RETRY_S) is still going and completes the call,
            # or — on a slow machine — it gave up "unconfirmed" first; then the clerk's next F2 repeats
            # the same request id. Both run the call exactly once (checked below). The database says
            # which: the message line is cleared when the connection comes back, so it may not.
            await wait_until(
                pilot,
                lambda: (
                    _status(direct, hall.id, "A001") == "called"
                    or (not app.screen.busy and bool(app.screen.unconfirmed))
                ),
                timeout=60,
            )
            await wait_until(pilot, lambda: "已连接" in text_of(app, "#header"), timeout=60)
            if _status(direct, hall.id, "A001") != "called":
                assert list(app.screen.unconfirmed) == ["call_next:"], app.screen.unconfirmed
                await pilot.press("f2")
                await wait_until(pilot, lambda: _status(direct, hall.id, "A001") == "called", timeout=60)
            await wait_until(pilot, lambda: not app.screen.busy, timeout=60)
            # and it works again as usual
            await pilot.press("s")
            await wait_until(pilot, lambda: _status(direct, hall.id, "A001") == "serving", timeout=60)

    try:
        asyncio.run(inner())
        # exactly once: the caught call and the next one, each one ticket, nothing called twice
        assert _status(direct, hall.id, "A002") == "waiting"
        assert _count(direct, hall.id, "ticket.called") == 1
        q.take_ticket(direct, hall.id, "BIZ", actor="C001")
        with read_session(direct) as s:
            last = int(s.execute(select(func.max(Event.seq)).where(Event.hall_id == hall.id)).scalar_one())
        deadline_loop = 0
        while (not follower.seen or follower.seen[-1][0] < last) and deadline_loop < 300:
            threading.Event().wait(0.1)
            deadline_loop += 1
        seqs = [seq for seq, _ in follower.seen]
        assert seqs == list(range(start + 1, last + 1)), "the follower missed or repeated an event"
        assert [kind for _, kind in follower.seen].count("ticket.called") == 1
    finally:
        follower.stop()
        engine.dispose()
        direct.dispose()


def test_the_hall_display_says_connection_lost_on_a_dead_link_and_catches_up(pg_url, hole, tmp_path):
    proxy, proxied = hole
    direct = make_engine(pg_url)
    hall = resolve_hall(direct, None)
    q.take_ticket(direct, hall.id, "BIZ", actor="C001")
    q.set_window_status(direct, hall.id, 2, "open", actor="C002")
    engine = make_engine(proxied)
    settings = Settings(database_url=proxied, drafts_dir=str(tmp_path / "drafts"))

    async def inner():
        app = make_app("display", settings=settings, engine=engine, hall=hall)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.screen.view is not None)
            bar = app.screen.query_one("#connection")
            proxy.stop()
            await wait_until(pilot, lambda: bar.has_class("offline"), timeout=30)
            assert "中断" in text_of(app, "#connection")
            q.call_next(direct, hall.id, 2, actor="C002")  # called while the display is cut off
            proxy.resume()
            await wait_until(pilot, lambda: not bar.has_class("offline"), timeout=60)
            await wait_until(pilot, lambda: "A001" in text_of(app, "#call-text"), timeout=60)

    try:
        asyncio.run(inner())
    finally:
        engine.dispose()
        direct.dispose()


def _gave_up(app, group: str) -> bool:
    """The screen's press ended "unconfirmed": no worker of ``group`` runs and its request id is kept."""
    running = any(w.group == group and not w.is_finished for w in app.workers)
    return not running and bool(getattr(app.screen, "unconfirmed", None))


def test_a_decision_or_a_manager_command_caught_in_a_dead_link_runs_once(pg_url, hole, tmp_path):
    """The back office's approval and the board's broadcast, each caught in a dead link, run exactly
    once: retried with the same request id while the link is dead, or repeated with it after."""
    from datetime import date, datetime

    from tests.factories import SINGLE_DEPT_ITEM, make_accepted_case, set_clock_to, tasks_of
    from tests.test_backoffice_screen import settle

    proxy, proxied = hole
    direct = make_engine(pg_url)
    hall = resolve_hall(direct, None)
    set_clock_to(date(2026, 3, 10))
    case = make_accepted_case(direct, hall.id, SINGLE_DEPT_ITEM, accepted_on=date(2026, 3, 9))
    engine = make_engine(proxied)
    settings = Settings(database_url=proxied, drafts_dir=str(tmp_path / "drafts"))

    def approved() -> bool:
        return tasks_of(direct, case.id)["SCJG"].status == "approved"

    async def decide() -> None:
        app = make_app(
            "backoffice",
            settings=settings,
            engine=engine,
            hall=hall,
            department="SCJG",
            staff_code="R001",
            now=lambda: datetime(2026, 3, 10, 10, 0),
        )
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("c")
            await settle(pilot)
            assert tasks_of(direct, case.id)["SCJG"].status == "claimed"
            proxy.stop()
            await pilot.press("a", *"同意", "enter", "enter")  # the decision is caught in the dead link
            await wait_until(pilot, lambda: "同一请求编号" in text_of(app, "#message"), timeout=30)
            proxy.resume()
            await wait_until(pilot, lambda: approved() or _gave_up(app, "action"), timeout=60)
            if not approved():  # the retry gave up first (a slow machine): the same press again
                await pilot.press("a", *"同意", "enter", "enter")
                await wait_until(pilot, approved, timeout=60)
            await wait_until(pilot, lambda: "已同意" in text_of(app, "#message"), timeout=60)

    def broadcasts() -> int:
        return _count(direct, hall.id, "hall.broadcast")

    async def broadcast() -> None:
        app = make_app("board", settings=settings, engine=engine, hall=hall, staff_code="M001")
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_until(pilot, lambda: app.screen.view is not None, timeout=30)
            proxy.stop()
            await pilot.press("b")
            await pilot.pause()
            await pilot.press(*"请带好身份证", "enter")
            await wait_until(pilot, lambda: "同一请求编号" in text_of(app, "#message"), timeout=30)
            proxy.resume()
            await wait_until(pilot, lambda: broadcasts() == 1 or _gave_up(app, "board-action"), timeout=60)
            if broadcasts() == 0:  # the same command again: its request id repeats
                await pilot.press("b")
                await pilot.pause()
                await pilot.press(*"请带好身份证", "enter")
                await wait_until(pilot, lambda: broadcasts() == 1, timeout=60)
            # the board shows it (its own "公告已发布" may already be replaced by the feed's "大厅公告：…")
            await wait_until(pilot, lambda: app.screen.view.broadcast == "请带好身份证", timeout=60)

    try:
        asyncio.run(decide())
        assert _count(direct, hall.id, "review.approved") == 1
        assert tasks_of(direct, case.id)["SCJG"].reason == "同意"
        asyncio.run(broadcast())
        assert broadcasts() == 1
    finally:
        engine.dispose()
        direct.dispose()
