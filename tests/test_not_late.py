"""Nothing runs late (issue 29): a command reaches the server within its deadline or never runs.

With the link to PostgreSQL black-holed while F2 was in flight, the screen said "not confirmed"; a
minute later the held bytes arrived and the call ran, announced on the TVs with nobody expecting it.
A screen's request id now carries its deadline in the server's time (db/unit.py), and the server
refuses to commit any of its events after it (PostgreSQL: a deferred trigger at COMMIT, migration 0013;
SQLite: before its commit). The screen says "not confirmed" only once that deadline has passed.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from sqlalchemy import func, select

from tests.test_board import wait_until
from tests.test_counter_screen import SIZE, text_of
from tests.test_dead_link import _count, _status, hole  # noqa: F401 - the black-holed link fixture
from window_terminal.app import make_app
from window_terminal.config import Settings
from window_terminal.core import queueing as q
from window_terminal.db.engine import make_engine, read_session
from window_terminal.db.models import Event, Ticket
from window_terminal.db.unit import deadline_of, expiring_request_id
from window_terminal.errors import DomainError


def _expired(seconds_ago: float = 5.0) -> str:
    return f"{uuid.uuid4().hex}@{int((time.time() - seconds_ago) * 1000)}"


def _counts(engine, hall_id: int) -> tuple[int, int]:
    with read_session(engine) as s:
        return (
            s.execute(select(func.count()).select_from(Event).where(Event.hall_id == hall_id)).scalar_one(),
            s.execute(
                select(func.count()).select_from(Ticket).where(Ticket.status != "waiting")
            ).scalar_one(),
        )


@pytest.mark.parametrize("fast_path", [True, False])
def test_a_request_past_its_deadline_is_never_run(engine, hall, monkeypatch, fast_path):
    monkeypatch.setattr(q, "PG_FAST_PATH", fast_path)
    q.set_window_status(engine, hall.id, 2, "open", actor="C002")
    for _ in range(2):
        q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    before = _counts(engine, hall.id)
    with pytest.raises(DomainError) as refused:
        q.call_next(engine, hall.id, 2, actor="C002", request_id=_expired())
    assert refused.value.code == "late"
    with pytest.raises(DomainError) as refused:
        q.take_ticket(engine, hall.id, "BIZ", actor="C001", request_id=_expired())
    assert refused.value.code == "late"
    assert _counts(engine, hall.id) == before  # nothing of either was written


def test_a_request_within_its_deadline_runs_once_however_often_it_is_sent(engine, hall):
    q.set_window_status(engine, hall.id, 2, "open", actor="C002")
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    request_id = expiring_request_id(30)
    deadline = deadline_of(request_id)
    assert deadline is not None and abs(deadline - time.time() - 30) < 5
    first = q.call_next(engine, hall.id, 2, actor="C002", request_id=request_id)
    again = q.call_next(engine, hall.id, 2, actor="C002", request_id=request_id)
    assert first is not None and again is not None and first.number == again.number
    assert _count(engine, hall.id, "ticket.called") == 1


@pytest.mark.postgres
def test_a_call_held_a_minute_in_a_dead_link_never_runs_after_not_confirmed(pg_url, hole, tmp_path):  # noqa: F811
    proxy, proxied = hole
    direct = make_engine(pg_url)
    from window_terminal.core.hall import resolve_hall

    hall = resolve_hall(direct, None)
    q.set_window_status(direct, hall.id, 2, "open", actor="C002")
    for _ in range(2):
        q.take_ticket(direct, hall.id, "BIZ", actor="C001")
    engine = make_engine(proxied)
    settings = Settings(database_url=proxied, drafts_dir=str(tmp_path / "drafts"))
    seen: dict[str, str] = {}

    async def inner():
        app = make_app("counter", settings=settings, engine=engine, hall=hall, window=2, staff_code="C002")
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: "已连接" in text_of(app, "#header"))
            await wait_until(pilot, lambda: app.screen.feed_started)
            proxy.stop_at(b"wt_call_next_p")  # the link dies with the call's own bytes in flight
            pressed = time.monotonic()
            await pilot.press("f2")  # caught in the dead link: its bytes are held, not lost
            await wait_until(pilot, lambda: "未确认" in text_of(app, "#message"), timeout=60)
            seen["told"] = text_of(app, "#message")
            assert _status(direct, hall.id, "A001") == "waiting"
            await asyncio.sleep(max(0.0, 60 - (time.monotonic() - pressed)))  # held a whole minute
            proxy.resume()  # the held call reaches the server now: it must not run
            await wait_until(pilot, lambda: "已连接" in text_of(app, "#header"), timeout=60)
            await asyncio.sleep(5)
            seen["after"] = _status(direct, hall.id, "A001")
            await pilot.press("f2")  # the clerk calls again: it runs once, now
            await wait_until(pilot, lambda: _status(direct, hall.id, "A001") == "called", timeout=60)
            await wait_until(pilot, lambda: not app.screen.busy, timeout=60)

    try:
        asyncio.run(inner())
        assert seen["after"] == "waiting", "the held call ran after the clerk was told it was not confirmed"
        assert _count(direct, hall.id, "ticket.called") == 1
        assert _status(direct, hall.id, "A002") == "waiting"
    finally:
        engine.dispose()
        direct.dispose()


@pytest.mark.postgres
def test_a_call_held_before_pgbouncer_never_runs_after_its_deadline(pg_url):
    """PgBouncer in transaction mode keeps its server session when a client vanishes: a call it
    receives late is run by the server on its behalf. The deadline holds there too."""
    import os
    import threading

    from sqlalchemy.engine import make_url

    from tests.blackhole import BlackHole
    from tests.pgbouncer import PgBouncer, unavailable
    from window_terminal.core.hall import resolve_hall
    from window_terminal.db.engine import DatabaseError

    reason = unavailable()
    if reason:
        if os.environ.get("WT_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    url = make_url(pg_url)
    direct = make_engine(pg_url)
    hall = resolve_hall(direct, None)
    q.set_window_status(direct, hall.id, 2, "open", actor="C002")
    for _ in range(2):
        q.take_ticket(direct, hall.id, "BIZ", actor="C001")
    with (
        PgBouncer((url.host or "127.0.0.1", url.port or 5432), str(url.database)) as bouncer,
        BlackHole(("127.0.0.1", bouncer.port)) as proxy,
    ):
        pooled = make_engine(f"postgresql://postgres@127.0.0.1:{proxy.port}/{url.database}?pgbouncer=true")
        try:
            assert q.window_in_hand(pooled, hall.id, 2) is None  # commands pass through PgBouncer
            request_id = expiring_request_id(3)
            proxy.stop_at(b"wt_call_next_p")  # the link dies with the call's bytes in flight
            outcome: list[BaseException | object] = []

            def call() -> None:
                try:
                    outcome.append(q.call_next(pooled, hall.id, 2, actor="C002", request_id=request_id))
                except BaseException as exc:  # noqa: BLE001 - the outcome is the test's to judge
                    outcome.append(exc)

            caller = threading.Thread(target=call)
            caller.start()
            caller.join(30)
            assert outcome and isinstance(outcome[0], DatabaseError)  # cut by its deadline: not known
            time.sleep(max(0.0, deadline_of(request_id) - time.time()) + 1)
            proxy.resume()  # the held call reaches PgBouncer, and through it the server, late
            time.sleep(3)
            assert _status(direct, hall.id, "A001") == "waiting", "the held call ran after its deadline"
            with pytest.raises(DomainError) as refused:  # the same request again: refused as late
                q.call_next(pooled, hall.id, 2, actor="C002", request_id=request_id)
            assert refused.value.code == "late"
            called = q.call_next(pooled, hall.id, 2, actor="C002", request_id=expiring_request_id(10))
            assert called is not None and called.number == "A001"
            assert _count(direct, hall.id, "ticket.called") == 1
        finally:
            pooled.dispose()
            direct.dispose()
