"""One calling rule: the PostgreSQL call-next procedure picks the ticket the Python rule picks
(``queueing._choose_next``) over generated halls — every priority policy, appointments, weights,
transfers keeping their place — and a broken procedure is noticed, never silently bypassed."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update
from sqlmodel import Session

from tests.factories import seed_appointment, set_clock_to
from window_terminal.core import queueing as q
from window_terminal.db import clock
from window_terminal.db.engine import DatabaseError, read_session, write_session
from window_terminal.db.models import Line, WindowLine

pytestmark = pytest.mark.postgres
POLICIES = ("strict", "interleave", "none")


@pytest.fixture
def engine(pg_url):
    from window_terminal.db.engine import make_engine

    eng = make_engine(pg_url)
    yield eng
    eng.dispose()


def _python_pick(engine, hall_id: int, window_number: int) -> int | None:
    with Session(engine) as s:
        window = q._window(s, hall_id, window_number)
        now = clock.db_now(s)
        ticket = q._choose_next(s, window, now, clock.local_day(now, "Asia/Shanghai"))
        pick = ticket.id if ticket else None
        s.rollback()
    return pick


def _procedure_pick(engine, hall_id: int, window_number: int) -> int | None:
    with engine.connect() as conn:
        value = conn.execute(
            text("SELECT wt_call_next(:hall, :window, NULL, NULL, :offset)"),
            {"hall": hall_id, "window": window_number, "offset": clock.get_offset().total_seconds()},
        ).scalar_one()
        conn.rollback()
    return value["id"] if value else None


def _generated_hall(engine, hall, seed: int, rng: random.Random) -> None:
    """Window 1 serves BIZ and GEN: each policy on each line over the seeds, random weights,
    tickets of every kind, appointments not callable yet, transfers."""
    with write_session(engine) as s:
        for n, code in enumerate(("BIZ", "GEN")):
            s.execute(
                update(Line)
                .where(Line.hall_id == hall.id, Line.code == code)
                .values(
                    priority_policy=POLICIES[(seed + n) % len(POLICIES)],
                    priority_every=rng.randint(1, 3),
                    priority_streak=0,
                )
            )
        s.execute(update(WindowLine).values(weight=rng.randint(1, 4)))
    # the day's 11:00 by the database clock: every ticket below is of today whatever the real hour
    with read_session(engine) as s:
        base = set_clock_to(clock.local_day(clock.db_now(s), "Asia/Shanghai"), 11)
        now = clock.db_now(s)
    taken = []
    for _ in range(rng.randint(6, 14)):
        clock.set_offset(base - timedelta(seconds=rng.randint(60, 3600)))
        line = rng.choice(("BIZ", "GEN", "SOC"))
        kind = rng.choice(("normal", "normal", "priority", "appointment"))
        if kind == "appointment":
            # some not callable yet; none checked in more than the grace minutes after its slot (a no-show)
            slot = now + timedelta(minutes=rng.choice((-14, -8, 30)))
            code = seed_appointment(engine, hall.id, rng.choice(("BIZ", "GEN")), slot)
            taken.append(
                q.take_ticket(engine, hall.id, kind="appointment", appointment_code=code, actor="C001")
            )
        else:
            reason = "老年人" if kind == "priority" else ""
            taken.append(
                q.take_ticket(engine, hall.id, line, kind=kind, priority_reason=reason, actor="C001")
            )
    clock.set_offset(base)
    for info in rng.sample(taken, k=min(3, len(taken))):  # 只设路标: a transfer keeps its place
        target = "GEN" if info.line == "BIZ" else "BIZ"
        q.transfer(engine, hall.id, target, ticket_ref=f"#{info.id}", reason="wrong line", actor="C001")


@pytest.mark.parametrize("seed", range(6))
def test_the_procedure_picks_what_the_python_rule_picks_under_every_policy(engine, seed, monkeypatch):
    from window_terminal.core.hall import resolve_hall

    hall = resolve_hall(engine, None)
    rng = random.Random(seed)
    _generated_hall(engine, hall, seed, rng)
    q.set_window_status(engine, hall.id, 1, "open", actor="C001")
    calls = 0
    while True:
        python_pick = _python_pick(engine, hall.id, 1)
        assert _procedure_pick(engine, hall.id, 1) == python_pick, f"seed {seed}, call {calls}"
        if python_pick is None:
            break
        # advance by either path (the streak of an interleave line moves with each call)
        monkeypatch.setattr(q, "PG_FAST_PATH", rng.random() < 0.5)
        assert q.call_next(engine, hall.id, 1, actor="C001").id == python_pick
        q.start_service(engine, hall.id, 1, actor="C001")
        calls += 1
    assert calls >= 3


def test_a_broken_procedure_raises_instead_of_falling_back_silently(engine):
    from window_terminal.core.hall import resolve_hall

    hall = resolve_hall(engine, None)
    q.set_window_status(engine, hall.id, 2, "open", actor="C002")
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION wt_call_next(p_hall_id integer, p_window_number integer,"
            " p_staff_id integer, p_request_id text, p_clock_offset_s double precision)"
            " RETURNS jsonb LANGUAGE plpgsql AS $$ BEGIN RETURN 1 / 0; END $$"
        )
    with pytest.raises(DatabaseError, match="22012"):
        q.call_next(engine, hall.id, 2, actor="C002")
    with read_session(engine) as s:  # nothing was called behind the clerk's back
        assert q.in_hand(s, q._window(s, hall.id, 2)) is None


def test_a_missing_procedure_falls_back_and_says_why_once(engine, caplog, monkeypatch):
    from window_terminal.core.hall import resolve_hall

    hall = resolve_hall(engine, None)
    monkeypatch.setattr(q, "_fallback_reasons_logged", set())
    q.set_window_status(engine, hall.id, 2, "open", actor="C002")
    first, second = (
        q.take_ticket(engine, hall.id, "BIZ", actor="C001"),
        q.take_ticket(engine, hall.id, "BIZ", actor="C001"),
    )
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "DROP PROCEDURE wt_call_next_p(jsonb, integer, integer, integer, text, double precision)"
        )
    with caplog.at_level(logging.WARNING, logger="window_terminal.core.queueing"):
        assert q.call_next(engine, hall.id, 2, actor="C002").number == first.number
        q.start_service(engine, hall.id, 2, actor="C002")
        assert q.call_next(engine, hall.id, 2, actor="C002").number == second.number
    warnings = [r for r in caplog.records if "fast path not used" in r.getMessage()]
    assert len(warnings) == 1 and "wt db upgrade" in warnings[0].getMessage()


@pytest.mark.parametrize("seed", range(3))
def test_neither_rule_picks_a_ticket_of_a_past_day(engine, seed, monkeypatch):
    """Tickets of yesterday left waiting (the close of day missed): the Python rule never picks one,
    the procedure refuses (WT425) so the Python path closes the day first; after that both rules
    pick the same of today's tickets, every policy, to the end (issue 28)."""
    from window_terminal.core.hall import resolve_hall
    from window_terminal.db.models import Ticket

    hall = resolve_hall(engine, None)
    rng = random.Random(100 + seed)
    _generated_hall(engine, hall, seed, rng)
    # four more, then made yesterday's as a missed close leaves them
    old = [
        q.take_ticket(
            engine,
            hall.id,
            rng.choice(("BIZ", "GEN")),
            kind="priority",
            priority_reason="老年人",
            actor="C001",
        ).id
        for _ in range(4)
    ]  # priority lane and a day older: either rule would pick one first if it could
    with write_session(engine) as s:
        for ticket in s.execute(select(Ticket).where(Ticket.id.in_(old))).scalars():
            ticket.service_day -= timedelta(days=1)
            ticket.issued_at -= timedelta(days=1)
            ticket.eligible_at -= timedelta(days=1)
            ticket.queue_key -= 86400
    q.set_window_status(engine, hall.id, 1, "open", actor="C001")
    first = _python_pick(engine, hall.id, 1)
    assert first is not None and first not in old
    with pytest.raises(Exception, match="past service day"):
        _procedure_pick(engine, hall.id, 1)
    monkeypatch.setattr(q, "PG_FAST_PATH", True)
    assert q.call_next(engine, hall.id, 1, actor="C001").id == first  # closed, then called
    with read_session(engine) as s:
        left = {t.status for t in s.execute(select(Ticket).where(Ticket.id.in_(old))).scalars()}
    assert left == {"unserved"}
    while True:
        q.start_service(engine, hall.id, 1, actor="C001")
        python_pick = _python_pick(engine, hall.id, 1)
        assert _procedure_pick(engine, hall.id, 1) == python_pick
        if python_pick is None:
            break
        assert q.call_next(engine, hall.id, 1, actor="C001").id == python_pick
