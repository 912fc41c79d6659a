"""One read model per question, each read in one transaction: the board's view is the hall at one
instant, and the feed cursor it carries is exactly the last event it includes."""

from __future__ import annotations

from sqlalchemy import event

from window_terminal.core import hallview, queueing
from window_terminal.db import feed
from window_terminal.db.engine import make_engine, read_session
from window_terminal.db.feed import Feed


def test_an_arrival_during_the_board_snapshot_is_counted_once(db_url, engine, hall) -> None:
    for _ in range(3):
        queueing.take_ticket(engine, hall.id, "BIZ", actor="C001")
    other = make_engine(db_url)  # another PC's kiosk: its own connections
    arrived: list[int] = []

    @event.listens_for(engine, "after_cursor_execute")
    def arrive_between_reads(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        # After the view's first query (the feed cursor), a ticket is taken and committed elsewhere.
        if not arrived and "max(event.seq)" in statement.lower():
            arrived.append(queueing.take_ticket(other, hall.id, "BIZ", actor="C001").id)

    try:
        view = hallview.load_view(engine, hall.id)
    finally:
        event.remove(engine, "after_cursor_execute", arrive_between_reads)
    assert arrived, "the arrival was injected between the view's reads"
    in_view = sum(view.arrivals)
    assert in_view == 3 and arrived[0] not in view.tickets
    # The feed from the view's cursor brings the fourth arrival, once.
    follower = Feed(engine, hall.id, after=view.cursor)
    for _ in range(50):
        view.apply_all(follower.poll(timeout=0.1))
        if sum(view.arrivals) >= 4:
            break
    with read_session(engine) as s:
        total = len(queueing.waiting_tickets_in(s, hall.id))
    assert sum(view.arrivals) == total == 4
    other.dispose()


def test_the_feed_cursor_has_one_definition(engine, hall) -> None:
    queueing.take_ticket(engine, hall.id, "BIZ", actor="C001")
    from window_terminal.core.intake import counter_view

    with read_session(engine) as s:
        here = feed.cursor(s, hall.id)
    assert here > 0
    assert feed.current_cursor(engine, hall.id) == here
    assert counter_view(engine, hall.id, 1)["event_seq"] == here
    assert hallview.load_view(engine, hall.id).cursor == here


def test_waiting_means_the_same_on_the_counter_the_board_and_the_cli(engine, hall) -> None:
    from datetime import timedelta

    from sqlalchemy import select, update

    from window_terminal.core.intake import counter_view
    from window_terminal.db.models import Ticket

    taken = [queueing.take_ticket(engine, hall.id, "BIZ", actor="C001") for _ in range(3)]
    with engine.begin() as conn:  # one of them is held back until later (as an early appointment is)
        issued = conn.execute(select(Ticket.issued_at).where(Ticket.id == taken[0].id)).scalar_one()
        conn.execute(
            update(Ticket).where(Ticket.id == taken[0].id).values(eligible_at=issued + timedelta(hours=1))
        )
    status = {r["line"]: r for r in queueing.queue_status(engine, hall.id)["lines"]}["BIZ"]
    counter = next(r for r in counter_view(engine, hall.id, 1)["lines"] if r["line"] == "BIZ")
    board = hallview.load_view(engine, hall.id)
    # waiting = callable now, everywhere; the one held back counts apart (booked for later, issue 28)
    assert status["waiting"] == counter["waiting"] == board.waiting("BIZ") == 2
    assert status["callable_now"] == counter["callable_now"] == 2
    assert status["booked"] == board.booked("BIZ") == 1


def test_a_call_committed_but_not_yet_numbered_during_the_snapshot_is_applied_once(pg_url) -> None:
    """PostgreSQL's counter fast path commits its events unnumbered and numbers them just after.

    A board (or the TV) whose snapshot falls in between already holds the call; when the event then
    arrives numbered, the view must not apply it again (a second call on the board, a second
    announcement on the TV).
    """
    from sqlalchemy import text

    from window_terminal.core.hall import resolve_hall

    engine = make_engine(pg_url)
    hall = resolve_hall(engine, None)
    queueing.set_window_status(engine, hall.id, 2, "open", actor="C002")
    first = queueing.take_ticket(engine, hall.id, "BIZ", actor="C001")
    queueing.take_ticket(engine, hall.id, "BIZ", actor="C001")
    before = hallview.load_view(engine, hall.id)
    with engine.begin() as conn:  # the fast path's first half: the call, committed, events unnumbered
        conn.execute(text("SELECT wt_call_next(:h, 2, NULL, 'snapshot-race', 0)"), {"h": hall.id})
    view = hallview.load_view(engine, hall.id)  # the snapshot in between
    assert view.windows[2].ticket == first.number and view.cursor == before.cursor
    assert [c.number for c in view.calls] == [first.number]
    assert view.position.held, "the snapshot knows it holds events not yet numbered"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SELECT wt_sequence(:h)"), {"h": hall.id})  # the fast path's second half
    follower = Feed(engine, hall.id, after=view.position)
    arrived = follower.poll(timeout=0.5)
    assert arrived == [], "the held call is not delivered again"
    assert follower.cursor > view.cursor and not follower.position.held
    view.apply_all(Feed(engine, hall.id, after=before.position).poll(timeout=0.5))  # a replay: held
    assert [c.number for c in view.calls] == [first.number]
    # What comes next is applied as usual.
    queueing.start_service(engine, hall.id, 2, actor="C002")
    second = queueing.call_next(engine, hall.id, 2, actor="C002")
    view.apply_all(follower.poll(timeout=1.0))
    assert [c.number for c in view.calls] == [first.number, second.number]
    engine.dispose()


def test_a_waiting_ticket_transferred_leaves_its_old_lines_count_on_the_board(engine, hall):
    """Found by the simulated weeks: the board and the TV kept counting a transferred waiting ticket
    in its old line until a reload (the event changed the stored ticket's line before it was moved)."""
    from window_terminal.core import hallview
    from window_terminal.core import queueing as q
    from window_terminal.db.feed import Feed

    view = hallview.load_view(engine, hall.id)
    feed = Feed(engine, hall.id, after=view.cursor)
    try:
        ticket = q.take_ticket(engine, hall.id, "FOOD", actor="C001")
        q.transfer(engine, hall.id, "GEN", ticket_ref=ticket.id, actor="C001")
        view.apply_all(feed.fetch())
        fresh = hallview.load_view(engine, hall.id)
        assert (view.waiting("FOOD"), view.waiting("GEN")) == (fresh.waiting("FOOD"), fresh.waiting("GEN"))
        assert view.waiting("FOOD") == 0
    finally:
        feed.close()


def test_the_board_turns_to_a_new_service_day_by_itself(engine, hall, hall_clock):
    """Found by the simulated weeks: the live view kept yesterday's day, chart and calls after midnight
    until a reload. The screens' tick (``release_due``) turns it to the new day."""
    from datetime import UTC, datetime, timedelta

    from window_terminal.core import hallview
    from window_terminal.core import queueing as q
    from window_terminal.db.clock import db_now
    from window_terminal.db.engine import read_session

    hall_clock.set(datetime(2026, 12, 7, 23, 50))
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    view = hallview.load_view(engine, hall.id)
    assert sum(view.arrivals) == 1
    hall_clock.set(datetime(2026, 12, 8, 0, 10))
    with read_session(engine) as s:
        now = db_now(s).replace(tzinfo=UTC)
    view.release_due(now)
    fresh = hallview.load_view(engine, hall.id)
    assert view.day == fresh.day == (datetime(2026, 12, 7) + timedelta(days=1)).date()
    assert (view.arrivals, view.waiting("BIZ"), len(view.calls)) == (fresh.arrivals, fresh.waiting("BIZ"), 0)
