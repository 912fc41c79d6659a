"""Queue keys are the true instant (UTC epoch), whatever the time zone of the PC that wrote them

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 15:00:00

Until now ``queue_key`` was ``datetime.timestamp()`` of a naive UTC time, which Python reads as the
PC's *local* time: a ticket taken on a kiosk set to Asia/Shanghai got a key eight hours smaller than
one taken two seconds earlier on a PC set to UTC, so it was called first and told "0 people ahead".
The PostgreSQL call-next function copied the mistake for its waiting-time score by taking the
caller's UTC offset (``p_local_utcoffset_s``). From here on the key is ``clock.epoch_seconds`` of the
database clock's reading (issue time, or an appointment's slot), the same on every PC.

Existing keys are rewritten on both databases. A key written the old way is its base time's true
epoch minus the writer's UTC offset, a whole number of quarter hours within ±14 h; such a key
becomes the true epoch. A key set by "move forward" is the line's head key of that moment minus
one second; it takes the correction of that head (found by its old key), so it stays ahead of it.
A key that fits neither is left as it is (nothing tells which offset wrote it).

PostgreSQL: ``wt_call_next`` and ``wt_call_next_p`` lose the offset parameter (the old signatures
are dropped, so a stale caller fails loudly instead of ordering by its own time zone), and the
score's "now" is ``extract(epoch FROM v_now)`` — exactly the float Python computes.

Downgrade reinstalls 0004's functions and keeps the corrected keys: they are what the old code
wrote on a PC set to UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

QUARTER_HOUR = 900.0
LARGEST_UTC_OFFSET = 14 * 3600.0
MOVED_AHEAD_OF_HEAD = 1.0  # move_forward: key = head key - 1 second

CALL_NEXT = r"""CREATE OR REPLACE FUNCTION wt_call_next(
    p_hall_id integer,
    p_window_number integer,
    p_staff_id integer,
    p_request_id text,
    p_clock_offset_s double precision)
RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
-- Python: run_command(.., "call.next", ..) around queueing.call_next's action: _window,
-- _require_open, _finish_in_hand, _choose_next (+ _line_head), _mark_called, _info.
-- Times are the database clock's true instant: queue_key and v_now_epoch are UTC epoch seconds,
-- the same float as Python's clock.epoch_seconds (whatever the caller's time zone).
-- Run through wt_call_next_p, which commits and numbers the events.
DECLARE
    v_win record;
    v_cur record;
    v_has_cur boolean;
    v_best record;
    v_found boolean;
    v_t ticket;
    v_stored json;
    v_now timestamp without time zone;
    v_now_epoch double precision;
    v_info json := NULL;
    v_finished json := NULL;
    v_called json := NULL;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(30580, p_hall_id);
    -- one caller at a time per line, lines in order (no deadlocks): first come, first served
    PERFORM pg_advisory_xact_lock(30581, s.line_id)
    FROM (SELECT wl.line_id FROM window_line wl JOIN "window" w ON w.id = wl.window_id
          WHERE w.hall_id = p_hall_id AND w.number = p_window_number ORDER BY wl.line_id) AS s;
    SELECT w.id, w.number, w.status, w.staff_id, h.timezone, h.settings::jsonb AS settings INTO v_win
    FROM "window" w JOIN hall h ON h.id = w.hall_id
    WHERE w.hall_id = p_hall_id AND w.number = p_window_number AND w.active;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'WT404', MESSAGE = 'wt: no such window';
    END IF;
    -- one command at a time per window (a double press, two PCs at one window); the window's row
    -- itself only changes under the hall's exclusive lock
    PERFORM pg_advisory_xact_lock(30582, v_win.id);
    IF p_request_id IS NOT NULL THEN
        SELECT r.result INTO v_stored FROM request_log r
        WHERE r.hall_id = p_hall_id AND r.request_id = p_request_id;
        IF FOUND THEN
            RETURN v_stored::jsonb -> 'value';
        END IF;
    END IF;
    IF v_win.status <> 'open' THEN
        RAISE EXCEPTION USING ERRCODE = 'WT409', MESSAGE = 'wt: window not open';
    END IF;
    -- after the line locks: each line's calls get increasing times
    v_now := (clock_timestamp() AT TIME ZONE 'UTC') + make_interval(secs => p_clock_offset_s);
    v_now_epoch := extract(epoch FROM v_now)::double precision;  -- exact numeric, rounded once

    -- the ticket in hand: one being served is finished, one merely called blocks the call
    SELECT t.id, t.status, t.number, t.kind, l.code INTO v_cur
    FROM ticket t JOIN line l ON l.id = t.line_id
    WHERE t.hall_id = p_hall_id AND t.window_id = v_win.id AND t.status IN ('called', 'serving')
    ORDER BY t.called_at DESC LIMIT 1;
    v_has_cur := FOUND;
    IF v_has_cur AND v_cur.status = 'called' THEN
        RAISE EXCEPTION USING ERRCODE = 'WT409', MESSAGE = 'wt: ticket called but not started';
    END IF;

    -- the head of each served line by its priority policy; the best head: privileged first, then
    -- weight x waiting time, then the lower line id (the Python path iterates lines in id order)
    SELECT c.* INTO v_best FROM (
        SELECT l.id AS line_id, l.code AS line_code, l.name AS line_name, l.priority_policy,
               l.priority_streak, wl.weight,
               coalesce(CASE WHEN l.priority_policy = 'interleave'
                              AND l.priority_streak >= greatest(1, l.priority_every) THEN n.id END,
                        p.id, a.id) AS ticket_id,
               coalesce(CASE WHEN l.priority_policy = 'interleave'
                              AND l.priority_streak >= greatest(1, l.priority_every) THEN n.kind END,
                        p.kind, a.kind) AS kind,
               coalesce(CASE WHEN l.priority_policy = 'interleave'
                              AND l.priority_streak >= greatest(1, l.priority_every) THEN n.queue_key END,
                        p.queue_key, a.queue_key) AS queue_key
        FROM window_line wl
        JOIN line l ON l.id = wl.line_id AND l.active
        LEFT JOIN LATERAL (
            SELECT t.id, t.kind, t.queue_key FROM ticket t
            WHERE l.priority_policy <> 'none' AND t.hall_id = l.hall_id AND t.line_id = l.id
              AND t.status = 'waiting' AND t.kind IN ('priority', 'appointment') AND t.eligible_at <= v_now
            ORDER BY t.queue_key, t.id LIMIT 1) p ON true
        LEFT JOIN LATERAL (
            SELECT t.id, t.kind, t.queue_key FROM ticket t
            WHERE p.id IS NULL AND t.hall_id = l.hall_id AND t.line_id = l.id
              AND t.status = 'waiting' AND t.eligible_at <= v_now
            ORDER BY t.queue_key, t.id LIMIT 1) a ON true
        LEFT JOIN LATERAL (
            SELECT t.id, t.kind, t.queue_key FROM ticket t
            WHERE p.id IS NOT NULL AND l.priority_policy = 'interleave'
              AND l.priority_streak >= greatest(1, l.priority_every)
              AND t.hall_id = l.hall_id AND t.line_id = l.id
              AND t.status = 'waiting' AND t.kind = 'normal' AND t.eligible_at <= v_now
            ORDER BY t.queue_key, t.id LIMIT 1) n ON true
        WHERE wl.window_id = v_win.id
    ) AS c
    WHERE c.ticket_id IS NOT NULL
    ORDER BY CASE WHEN c.kind IN ('priority', 'appointment') AND c.priority_policy <> 'none' THEN 1 ELSE 0 END DESC,
             c.weight::double precision * (v_now_epoch - c.queue_key) DESC,
             c.line_id
    LIMIT 1;
    v_found := FOUND;

    IF v_has_cur THEN
        UPDATE ticket t SET status = 'done', finished_at = v_now WHERE t.id = v_cur.id;
    END IF;
    IF v_found THEN
        IF v_best.priority_policy = 'interleave'
           AND (v_best.kind IN ('priority', 'appointment') OR v_best.priority_streak <> 0) THEN
            UPDATE line l SET priority_streak = CASE WHEN v_best.kind IN ('priority', 'appointment')
                                                     THEN l.priority_streak + 1 ELSE 0 END
            WHERE l.id = v_best.line_id;
        END IF;
        UPDATE ticket t SET status = 'called',
                            window_id = v_win.id,
                            staff_id = coalesce(p_staff_id, v_win.staff_id),
                            called_at = v_now,
                            first_called_at = coalesce(t.first_called_at, v_now)
        WHERE t.id = v_best.ticket_id
        RETURNING t.* INTO v_t;
        v_info := wt_ticket_info(v_t, v_best.line_code, v_best.line_name, v_win.number, v_win.timezone);
    END IF;

    -- the events, unnumbered: wt_sequence numbers them once this transaction has committed
    IF v_has_cur THEN
        v_finished := json_build_object('ticket_id', v_cur.id, 'number', v_cur.number, 'line', v_cur.code,
                                        'status', 'done', 'kind', v_cur.kind, 'window', v_win.number);
    END IF;
    IF v_found THEN
        v_called := json_build_object('ticket_id', v_t.id, 'number', v_t.number, 'line', v_best.line_code,
                                      'status', v_t.status, 'kind', v_t.kind, 'window', v_win.number,
                                      'text', wt_call_text(v_win.settings, v_t.number, v_win.number));
    END IF;
    INSERT INTO event (hall_id, seq, kind, payload, staff_id, window_id, request_id, created_at)
    SELECT p_hall_id, NULL, e.kind, e.payload, p_staff_id, v_win.id, p_request_id, v_now
    FROM (VALUES (1, 'ticket.finished', v_finished), (2, 'ticket.called', v_called)) AS e(n, kind, payload)
    WHERE e.payload IS NOT NULL
    ORDER BY e.n;
    IF p_request_id IS NOT NULL THEN
        INSERT INTO request_log (hall_id, request_id, command, result, created_at)
        VALUES (p_hall_id, p_request_id, 'call.next', json_build_object('value', v_info), v_now);
    END IF;
    RETURN v_info::jsonb;
END
$$;
"""

CALL_NEXT_PROCEDURE = r"""
CREATE OR REPLACE PROCEDURE wt_call_next_p(
    INOUT result jsonb,
    p_hall_id integer,
    p_window_number integer,
    p_staff_id integer,
    p_request_id text,
    p_clock_offset_s double precision)
LANGUAGE plpgsql AS $$
BEGIN
    result := wt_call_next(p_hall_id, p_window_number, p_staff_id, p_request_id, p_clock_offset_s);
    COMMIT;
    PERFORM wt_sequence(p_hall_id);
END
$$;
"""

OLD_SIGNATURES = [
    "PROCEDURE wt_call_next_p(jsonb, integer, integer, integer, text, double precision, double precision)",
    "FUNCTION wt_call_next(integer, integer, integer, text, double precision, double precision)",
]
NEW_SIGNATURES = [
    "PROCEDURE wt_call_next_p(jsonb, integer, integer, integer, text, double precision)",
    "FUNCTION wt_call_next(integer, integer, integer, text, double precision)",
]


def _epoch(moment: datetime | str) -> float:
    """The true instant of a naive UTC time (SQLite hands timestamps back as text)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC).timestamp()


def _writer_offset(key: float, base: float) -> float | None:
    """The UTC offset a key written the old way carries (key = base - offset), else None."""
    offset = round((base - key) / QUARTER_HOUR) * QUARTER_HOUR
    if abs(offset) <= LARGEST_UTC_OFFSET and abs(base - key - offset) < 1e-3:
        return offset
    return None


def corrected_keys(rows: list[tuple[int, int, float, float]]) -> dict[int, float]:
    """New keys by ticket id for the keys that change; rows are (id, hall_id, key, base epoch)."""
    new: dict[int, float] = {}
    shift_of_key: dict[tuple[int, float], float] = {}  # (hall, old key) -> correction, where not 0
    unexplained = []
    for ticket_id, hall_id, key, base in rows:
        offset = _writer_offset(key, base)
        if offset is None:
            unexplained.append((key, ticket_id, hall_id))
        elif offset != 0:
            new[ticket_id] = base
            shift_of_key[(hall_id, key)] = base - key
    # moved forward: ahead of the head by one second; a head that was itself moved forward has a
    # larger key, so the largest keys are resolved first
    for key, ticket_id, hall_id in sorted(unexplained, reverse=True):
        shift = shift_of_key.get((hall_id, key + MOVED_AHEAD_OF_HEAD))
        if shift:
            new[ticket_id] = key + shift
            shift_of_key[(hall_id, key)] = shift
    return new


def _fix_queue_keys() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT t.id, t.hall_id, t.queue_key, coalesce(a.slot_start, t.issued_at) AS base"
            " FROM ticket t LEFT JOIN appointment a ON a.ticket_id = t.id"
        )
    ).all()
    new = corrected_keys([(r.id, r.hall_id, float(r.queue_key), _epoch(r.base)) for r in rows])
    if new:
        bind.execute(
            sa.text("UPDATE ticket SET queue_key = :key WHERE id = :id"),
            [{"id": ticket_id, "key": key} for ticket_id, key in new.items()],
        )


def upgrade() -> None:
    _fix_queue_keys()
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for signature in OLD_SIGNATURES:
            bind.exec_driver_sql(f"DROP {signature}")
        bind.exec_driver_sql(CALL_NEXT)
        bind.exec_driver_sql(CALL_NEXT_PROCEDURE)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from window_terminal.db.migrate import revision_module

        earlier = revision_module("0004_events_numbered_after_commit.py")
        for signature in NEW_SIGNATURES:
            bind.exec_driver_sql(f"DROP {signature}")
        bind.exec_driver_sql(earlier.CALL_NEXT)
        bind.exec_driver_sql(earlier.PROCEDURES)
