"""Every event is chained to the one before it; a request id answers only its own command

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 20:30:00

Issue 13 (items 3, 4 and 6): the event log is the audit trail, so it must show when it has been
touched behind the application's back, and say who acted.

* ``event.hash``: SHA-256 over the event's content and the previous event's hash in its hall
  (the canonical text: ``db/chain.py``). It is computed where the event gets its number, so the
  chain follows the log's order: by ``db.unit`` on SQLite; on PostgreSQL by ``wt_number_pending``
  (new here), which now numbers and hashes the pending events one by one with ``wt_event_hash``
  (the same text built in SQL) — for the counters' fast path and for ``db.unit`` alike.
  ``hall.event_hash`` is the hash of the hall's last event (the chain's head, beside
  ``hall.event_seq``). Existing events are chained here, in ``seq`` order.
* ``event.device``: the public device (kiosk, hall display, rating screen) that acted, for events
  that no staff member did; part of the hash.
* PostgreSQL: the event log is append-only. Triggers refuse every DELETE and TRUNCATE, and every
  UPDATE but numbering (``seq`` and ``hash`` set on a pending event, nothing else changed) — for
  every role, the owner included. The administrator's maintenance, as the table's owner, in one
  transaction: ``ALTER TABLE event DISABLE TRIGGER USER; …; ALTER TABLE event ENABLE TRIGGER USER``
  (README, "Database roles"); a superuser can also ``SET session_replication_role = replica``.
  ``wt db roles`` (``core/audit.py``) gives the counter PCs' role no UPDATE or DELETE on ``event``
  at all beyond the numbering columns.
* ``request_log.window_number``: a request id is stored with its command, hall and window. The
  counter functions refuse (SQLSTATE ``WT422``) a stored id of another command or window instead of
  returning that command's result; the Python path (``db.unit``) then raises the error in words.
  Otherwise 0006's functions unchanged (queue keys are the true UTC epoch).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # the columns below name sqlmodel.sql.sqltypes.AutoString
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

EVENT_HASH = r"""
CREATE OR REPLACE FUNCTION wt_event_hash(
    p_prev text, p_hall_id integer, p_seq bigint, p_kind text, p_payload text, p_staff_id integer,
    p_device text, p_window_id integer, p_request_id text, p_created_at timestamp without time zone)
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
-- Python: db/chain.py canonical() + event_hash(): a compact JSON array whose strings to_json
-- escapes exactly as Python's json.dumps(ensure_ascii=False) does; payload is the stored text.
SELECT encode(sha256(convert_to(
    '["wt.event.1",' || p_hall_id::text || ',' || p_seq::text || ',' || to_json(p_kind)::text || ','
    || coalesce(p_staff_id::text, 'null') || ',' || coalesce(to_json(p_device)::text, 'null') || ','
    || coalesce(p_window_id::text, 'null') || ',' || coalesce(to_json(p_request_id)::text, 'null') || ','
    || to_json(to_char(p_created_at, 'YYYY-MM-DD"T"HH24:MI:SS.US'))::text || ','
    || to_json(p_payload)::text || ',' || to_json(p_prev)::text || ']',
    'UTF8')), 'hex')
$$;
"""

NUMBER_PENDING = r"""
CREATE OR REPLACE FUNCTION wt_number_pending(p_hall_id integer) RETURNS bigint
LANGUAGE plpgsql VOLATILE
-- the unnumbered events through their partial index, even when the planner's statistics still
-- describe a young, small event table (a scan of the whole log on every numbering would not do)
SET enable_seqscan = off AS $$
-- Number the hall's committed, unnumbered events in insertion order and chain each to the one
-- before it (wt_event_hash); returns hall.event_seq. Called under the hall row's lock only.
DECLARE
    v_base bigint;
    v_seq bigint;
    v_prev text;
    v_ids bigint[] := '{}';
    v_seqs bigint[] := '{}';
    v_hashes text[] := '{}';
    r record;
BEGIN
    SELECT h.event_seq, h.event_hash INTO v_base, v_prev FROM hall h WHERE h.id = p_hall_id FOR NO KEY UPDATE;
    v_seq := v_base;
    FOR r IN SELECT x.id, x.kind, x.payload::text AS payload, x.staff_id, x.device, x.window_id,
                    x.request_id, x.created_at
             FROM event x WHERE x.hall_id = p_hall_id AND x.seq IS NULL ORDER BY x.id
    LOOP
        v_seq := v_seq + 1;
        v_prev := wt_event_hash(v_prev, p_hall_id, v_seq, r.kind, r.payload, r.staff_id, r.device,
                                r.window_id, r.request_id, r.created_at);
        v_ids := v_ids || r.id;
        v_seqs := v_seqs || v_seq;
        v_hashes := v_hashes || v_prev;
    END LOOP;
    IF v_seq = v_base THEN
        RETURN v_base;
    END IF;
    UPDATE event e SET seq = u.seq, hash = u.hash
    FROM unnest(v_ids, v_seqs, v_hashes) AS u(id, seq, hash)
    WHERE e.id = u.id;
    UPDATE hall h SET event_seq = v_seq, event_hash = v_prev WHERE h.id = p_hall_id;
    PERFORM pg_notify('wt_events', p_hall_id::text || ':' || v_seq::text);
    RETURN v_seq;
END
$$;
"""

APPEND_ONLY = r"""
CREATE OR REPLACE FUNCTION wt_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'insufficient_privilege',
        MESSAGE = '事件日志只能追加，不能修改或删除 / the event log is append-only: events cannot be changed or deleted ('
                  || TG_OP || ')',
        HINT = 'Maintenance by the administrator (table owner), in one transaction: '
               'ALTER TABLE event DISABLE TRIGGER USER; ...; ALTER TABLE event ENABLE TRIGGER USER; '
               'then run wt audit verify.';
END
$$;

DROP TRIGGER IF EXISTS wt_event_no_update ON event;
CREATE TRIGGER wt_event_no_update BEFORE UPDATE ON event FOR EACH ROW
WHEN (NOT (OLD.seq IS NULL AND OLD.hash IS NULL AND NEW.id = OLD.id AND NEW.hall_id = OLD.hall_id
           AND NEW.kind = OLD.kind AND NEW.payload::text = OLD.payload::text
           AND NEW.staff_id IS NOT DISTINCT FROM OLD.staff_id
           AND NEW.device IS NOT DISTINCT FROM OLD.device
           AND NEW.window_id IS NOT DISTINCT FROM OLD.window_id
           AND NEW.request_id IS NOT DISTINCT FROM OLD.request_id
           AND NEW.created_at = OLD.created_at))
EXECUTE FUNCTION wt_event_append_only();

DROP TRIGGER IF EXISTS wt_event_no_delete ON event;
CREATE TRIGGER wt_event_no_delete BEFORE DELETE ON event FOR EACH ROW
EXECUTE FUNCTION wt_event_append_only();

DROP TRIGGER IF EXISTS wt_event_no_truncate ON event;
CREATE TRIGGER wt_event_no_truncate BEFORE TRUNCATE ON event FOR EACH STATEMENT
EXECUTE FUNCTION wt_event_append_only();
"""

CHAIN_EXISTING = r"""
DO $$
-- every numbered event, hall by hall in seq order (run before the triggers exist)
DECLARE
    h record;
    r record;
    v_prev text;
BEGIN
    FOR h IN SELECT id FROM hall ORDER BY id LOOP
        v_prev := '';
        FOR r IN SELECT x.id, x.seq, x.kind, x.payload::text AS payload, x.staff_id, x.device,
                        x.window_id, x.request_id, x.created_at
                 FROM event x WHERE x.hall_id = h.id AND x.seq IS NOT NULL ORDER BY x.seq
        LOOP
            v_prev := wt_event_hash(v_prev, h.id, r.seq, r.kind, r.payload, r.staff_id, r.device,
                                    r.window_id, r.request_id, r.created_at);
            UPDATE event SET hash = v_prev WHERE id = r.id;
        END LOOP;
        UPDATE hall SET event_hash = v_prev WHERE id = h.id;
    END LOOP;
END
$$;
"""

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
    v_stored record;
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
        SELECT r.result, r.command, r.window_number INTO v_stored FROM request_log r
        WHERE r.hall_id = p_hall_id AND r.request_id = p_request_id;
        IF FOUND THEN
            -- a request id answers only its own command at its own window; anything else is
            -- refused (the Python path then says so in words: db.unit)
            IF v_stored.command <> 'call.next' OR v_stored.window_number IS DISTINCT FROM p_window_number THEN
                RAISE EXCEPTION USING ERRCODE = 'WT422', MESSAGE = 'wt: request id used for another command';
            END IF;
            RETURN v_stored.result::jsonb -> 'value';
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
        INSERT INTO request_log (hall_id, request_id, command, window_number, result, created_at)
        VALUES (p_hall_id, p_request_id, 'call.next', p_window_number, json_build_object('value', v_info), v_now);
    END IF;
    RETURN v_info::jsonb;
END
$$;
"""

IN_HAND_TRANSITION = r"""
CREATE OR REPLACE FUNCTION wt_in_hand_transition(
    p_hall_id integer,
    p_window_number integer,
    p_staff_id integer,
    p_request_id text,
    p_clock_offset_s double precision,
    p_command text,
    p_allowed text[],
    p_new_status text,
    p_event text)
RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
-- Python: run_command(.., command, ..) around queueing._in_hand_transition's action
-- (start_service, finish, no_show, park). Run through wt_in_hand_transition_p.
DECLARE
    v_win record;
    v_t ticket;
    v_line_code text;
    v_line_name text;
    v_stored record;
    v_now timestamp without time zone;
    v_info json;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(30580, p_hall_id);
    SELECT w.id, w.number, h.timezone INTO v_win
    FROM "window" w JOIN hall h ON h.id = w.hall_id
    WHERE w.hall_id = p_hall_id AND w.number = p_window_number AND w.active;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'WT404', MESSAGE = 'wt: no such window';
    END IF;
    PERFORM pg_advisory_xact_lock(30582, v_win.id);  -- one command at a time per window
    IF p_request_id IS NOT NULL THEN
        SELECT r.result, r.command, r.window_number INTO v_stored FROM request_log r
        WHERE r.hall_id = p_hall_id AND r.request_id = p_request_id;
        IF FOUND THEN
            -- a request id answers only its own command at its own window; anything else is
            -- refused (the Python path then says so in words: db.unit)
            IF v_stored.command <> p_command OR v_stored.window_number IS DISTINCT FROM p_window_number THEN
                RAISE EXCEPTION USING ERRCODE = 'WT422', MESSAGE = 'wt: request id used for another command';
            END IF;
            RETURN v_stored.result::jsonb -> 'value';
        END IF;
    END IF;
    v_now := (clock_timestamp() AT TIME ZONE 'UTC') + make_interval(secs => p_clock_offset_s);
    UPDATE ticket t SET status = p_new_status,
                        started_at = CASE WHEN p_new_status = 'serving' THEN v_now ELSE t.started_at END,
                        finished_at = CASE WHEN p_new_status IN ('done', 'no_show') THEN v_now
                                           ELSE t.finished_at END
    FROM (SELECT c.id, c.status FROM ticket c
          WHERE c.hall_id = p_hall_id AND c.window_id = v_win.id AND c.status IN ('called', 'serving')
          ORDER BY c.called_at DESC LIMIT 1) AS cur
    WHERE t.id = cur.id AND cur.status = ANY (p_allowed)
    RETURNING t.* INTO v_t;
    IF NOT FOUND THEN
        -- nothing in hand, or not in a state this command accepts: the Python path says which
        RAISE EXCEPTION USING ERRCODE = 'WT409', MESSAGE = 'wt: no ticket in hand in that state';
    END IF;
    SELECT l.code, l.name INTO v_line_code, v_line_name FROM line l WHERE l.id = v_t.line_id;
    INSERT INTO event (hall_id, seq, kind, payload, staff_id, window_id, request_id, created_at)
    VALUES (p_hall_id, NULL, p_event, wt_ticket_payload(v_t, v_line_code, v_win.number),
            p_staff_id, v_win.id, p_request_id, v_now);
    v_info := wt_ticket_info(v_t, v_line_code, v_line_name, v_win.number, v_win.timezone);
    IF p_request_id IS NOT NULL THEN
        INSERT INTO request_log (hall_id, request_id, command, window_number, result, created_at)
        VALUES (p_hall_id, p_request_id, p_command, p_window_number, json_build_object('value', v_info), v_now);
    END IF;
    RETURN v_info::jsonb;
END
$$;
"""

DROPPED_ON_DOWNGRADE = [
    "TRIGGER IF EXISTS wt_event_no_update ON event",
    "TRIGGER IF EXISTS wt_event_no_delete ON event",
    "TRIGGER IF EXISTS wt_event_no_truncate ON event",
    "FUNCTION IF EXISTS wt_event_append_only()",
]


def _chain_existing_sqlite() -> None:
    """SQLite: the same chain in Python (``db.chain``), hall by hall in ``seq`` order."""
    from window_terminal.db.chain import GENESIS, event_hash

    bind = op.get_bind()
    halls = [row[0] for row in bind.execute(sa.text("SELECT id FROM hall ORDER BY id"))]
    for hall_id in halls:
        prev = GENESIS
        rows: Any = bind.execute(
            sa.select(
                sa.column("id"),
                sa.column("seq"),
                sa.column("kind"),
                sa.cast(sa.column("payload"), sa.Text),
                sa.column("staff_id"),
                sa.column("window_id"),
                sa.column("request_id"),
                sa.column("created_at", sa.DateTime()),
            )
            .select_from(sa.table("event"))
            .where(sa.column("hall_id") == hall_id, sa.column("seq").is_not(None))
            .order_by(sa.column("seq"))
        ).all()
        hashes: list[dict[str, object]] = []
        for row in rows:
            prev = event_hash(
                hall_id=hall_id,
                seq=row[1],
                kind=row[2],
                payload=row[3],
                staff_id=row[4],
                device=None,
                window_id=row[5],
                request_id=row[6],
                created_at=row[7],
                prev=prev,
            )
            hashes.append({"id": row[0], "hash": prev})
        if hashes:
            bind.execute(sa.text("UPDATE event SET hash = :hash WHERE id = :id"), hashes)
        bind.execute(
            sa.text("UPDATE hall SET event_hash = :hash WHERE id = :id"), {"hash": prev, "id": hall_id}
        )


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        # what the counters left pending is numbered first, by 0005's rules, then chained with the rest
        bind.exec_driver_sql("SELECT wt_number_pending(h.id) FROM hall h")
    op.add_column("event", sa.Column("device", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True))
    op.add_column("event", sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.add_column(
        "hall",
        sa.Column(
            "event_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=""
        ),
    )
    op.add_column("request_log", sa.Column("window_number", sa.Integer(), nullable=True))
    if not postgres:
        _chain_existing_sqlite()
        return
    for ddl in (EVENT_HASH, CHAIN_EXISTING, NUMBER_PENDING, CALL_NEXT, IN_HAND_TRANSITION, APPEND_ONLY):
        # exec_driver_sql: the bodies hold ':' and quotes that text() would read as bind params
        bind.exec_driver_sql(ddl)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from window_terminal.db.migrate import revision_module

        for dropped in DROPPED_ON_DOWNGRADE:
            bind.exec_driver_sql(f"DROP {dropped}")
        m0004 = revision_module("0004_events_numbered_after_commit.py")
        m0006 = revision_module("0006_queue_keys_are_utc_epoch.py")
        for ddl in (m0004.NUMBER_PENDING, m0004.IN_HAND_TRANSITION, m0006.CALL_NEXT):
            bind.exec_driver_sql(ddl)
        bind.exec_driver_sql(
            "DROP FUNCTION wt_event_hash(text, integer, bigint, text, text, integer, text, integer, text, timestamp without time zone)"
        )
    # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a rebuilt hall table would trip its foreign keys
    op.drop_column("request_log", "window_number")
    op.drop_column("hall", "event_hash")
    op.drop_column("event", "hash")
    op.drop_column("event", "device")
