"""Events numbered after commit: the counters of a hall stop waiting for each other's commits

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 10:00:00

Until 0003 every command held its hall's lock (the hall row) through its commit, so that events
could be numbered in the same transaction; commands in a hall were serialized, commit after commit.
From here on:

* ``event`` gets a surrogate key ``id``; ``seq`` may be NULL for an event not numbered yet (unique
  per hall where set). An event is only ever read by ``seq``, so an unnumbered one is invisible.
* The PostgreSQL counter functions (``wt_call_next``, ``wt_in_hand_transition``) take the hall's
  lock in SHARED mode (``pg_advisory_xact_lock_shared``), one lock per line they call from (FIFO:
  one caller at a time per line, in line order) and one for their window; they insert their events
  unnumbered. The procedures ``wt_call_next_p`` / ``wt_in_hand_transition_p`` call them, COMMIT,
  then run ``wt_sequence``, which numbers every committed unnumbered event of the hall in one short
  transaction (in insertion order), moves ``hall.event_seq`` and sends the ``pg_notify``.
  ``wt_sequence`` runs in one session at a time (a session advisory lock, tried, never waited
  for); a session that finds it taken leaves its events to the one holding it, which looks again
  after letting go — so every committed event is numbered before the command that wrote it
  returns, unless the numbering session dies in that instant (the next command or a feed's idle
  check numbers them then).
* Every other command (``db.unit.run_command``) takes the hall's lock EXCLUSIVELY: it waits for the
  counters in flight, numbers what is left unnumbered, then appends its own events in its own
  transaction, as before.
* Numbers stay gap-free and in commit order for every reader: they are assigned only to
  committed events, by transactions that follow each other on the hall row.
* ``event.hall_id`` and ``request_log.hall_id`` lose their foreign keys (each check locked the
  hall row; with 32 counters that lock became the bottleneck: ``request_log``'s alone made the
  counters 25–30% slower). The head-by-kind index on ``ticket`` holds waiting tickets only.
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # the columns below name sqlmodel.sql.sqltypes.AutoString
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Advisory lock keys (first half): hall (shared by the counter functions, exclusive for every other
# command), line (one caller per line), window (one command per window), sequencer (one numbering
# session per hall).
HALL_LOCK = 30580
LINE_LOCK = 30581
WINDOW_LOCK = 30582
SEQUENCER_LOCK = 30583

NUMBER_PENDING = r"""
CREATE OR REPLACE FUNCTION wt_number_pending(p_hall_id integer) RETURNS bigint
LANGUAGE plpgsql VOLATILE
-- the unnumbered events through their partial index, even when the planner's statistics still
-- describe a young, small event table (a scan of the whole log on every numbering would not do)
SET enable_seqscan = off AS $$
-- Number the hall's committed, unnumbered events in insertion order; returns hall.event_seq.
DECLARE
    v_base bigint;
    v_count integer;
BEGIN
    SELECT h.event_seq INTO v_base FROM hall h WHERE h.id = p_hall_id FOR NO KEY UPDATE;
    UPDATE event e SET seq = v_base + p.n
    FROM (SELECT x.id, row_number() OVER (ORDER BY x.id) AS n
          FROM event x WHERE x.hall_id = p_hall_id AND x.seq IS NULL) AS p
    WHERE e.id = p.id;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    IF v_count = 0 THEN
        RETURN v_base;
    END IF;
    UPDATE hall h SET event_seq = v_base + v_count WHERE h.id = p_hall_id;
    PERFORM pg_notify('wt_events', p_hall_id::text || ':' || (v_base + v_count)::text);
    RETURN v_base + v_count;
END
$$;
"""

SEQUENCE = r"""
CREATE OR REPLACE FUNCTION wt_sequence(p_hall_id integer) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET enable_seqscan = off AS $$
-- Called after a commit that left unnumbered events. One numbering session per hall at a time;
-- a session that finds the lock taken returns at once: the holder looks again after letting go,
-- and by then it sees every event committed before this try.
DECLARE
    v_seq bigint := NULL;
BEGIN
    LOOP
        IF NOT pg_try_advisory_lock(30583, p_hall_id) THEN
            RETURN v_seq;
        END IF;
        v_seq := wt_number_pending(p_hall_id);
        PERFORM pg_advisory_unlock(30583, p_hall_id);
        EXIT WHEN NOT EXISTS (SELECT 1 FROM event x WHERE x.hall_id = p_hall_id AND x.seq IS NULL);
    END LOOP;
    RETURN v_seq;
END
$$;
"""

CALL_NEXT = r"""
CREATE OR REPLACE FUNCTION wt_call_next(
    p_hall_id integer,
    p_window_number integer,
    p_staff_id integer,
    p_request_id text,
    p_clock_offset_s double precision,
    p_local_utcoffset_s double precision DEFAULT 0)
RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
-- Python: run_command(.., "call.next", ..) around queueing.call_next's action: _window,
-- _require_open, _finish_in_hand, _choose_next (+ _line_head), _mark_called, _info.
-- p_local_utcoffset_s: the caller's local UTC offset, because Python's naive datetime.timestamp()
-- (used for queue_key and the waiting-time score) reads naive UTC as local time.
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
    -- naive datetime.timestamp(): whole seconds (local reading) + microsecond / 1e6
    v_now_epoch := (extract(epoch FROM date_trunc('second', v_now)) - p_local_utcoffset_s)::double precision
        + mod(extract(microseconds FROM v_now)::bigint, 1000000)::double precision / 1e6::double precision;

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
    v_stored json;
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
        SELECT r.result INTO v_stored FROM request_log r
        WHERE r.hall_id = p_hall_id AND r.request_id = p_request_id;
        IF FOUND THEN
            RETURN v_stored::jsonb -> 'value';
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
        INSERT INTO request_log (hall_id, request_id, command, result, created_at)
        VALUES (p_hall_id, p_request_id, p_command, json_build_object('value', v_info), v_now);
    END IF;
    RETURN v_info::jsonb;
END
$$;
"""

PROCEDURES = r"""
CREATE OR REPLACE PROCEDURE wt_call_next_p(
    INOUT result jsonb,
    p_hall_id integer,
    p_window_number integer,
    p_staff_id integer,
    p_request_id text,
    p_clock_offset_s double precision,
    p_local_utcoffset_s double precision)
LANGUAGE plpgsql AS $$
BEGIN
    result := wt_call_next(p_hall_id, p_window_number, p_staff_id, p_request_id, p_clock_offset_s,
                           p_local_utcoffset_s);
    COMMIT;
    PERFORM wt_sequence(p_hall_id);
END
$$;

CREATE OR REPLACE PROCEDURE wt_in_hand_transition_p(
    INOUT result jsonb,
    p_hall_id integer,
    p_window_number integer,
    p_staff_id integer,
    p_request_id text,
    p_clock_offset_s double precision,
    p_command text,
    p_allowed text[],
    p_new_status text,
    p_event text)
LANGUAGE plpgsql AS $$
BEGIN
    result := wt_in_hand_transition(p_hall_id, p_window_number, p_staff_id, p_request_id,
                                    p_clock_offset_s, p_command, p_allowed, p_new_status, p_event);
    COMMIT;
    PERFORM wt_sequence(p_hall_id);
END
$$;
"""

DROPPED_ON_DOWNGRADE = [
    "PROCEDURE wt_call_next_p(jsonb, integer, integer, integer, text, double precision, double precision)",
    "PROCEDURE wt_in_hand_transition_p(jsonb, integer, integer, integer, text, double precision, text, text[], text, text)",
    "FUNCTION wt_sequence(integer)",
    "FUNCTION wt_number_pending(integer)",
]

EVENT_COLUMNS = "hall_id, seq, kind, payload, staff_id, window_id, request_id, created_at"


def _event_columns() -> list[sa.Column]:
    return [
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("window_id", sa.Integer(), nullable=True),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    ]


def _numbered_event_table(name: str) -> None:
    """0004's event table: a surrogate key, ``seq`` NULL until numbered, no foreign key to hall."""
    op.create_table(
        name,
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        *_event_columns(),
        sa.PrimaryKeyConstraint("id"),
    )


def _keyed_event_table(name: str) -> None:
    """0001's event table: keyed by (hall_id, seq)."""
    op.create_table(
        name,
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        *_event_columns(),
        sa.ForeignKeyConstraint(["hall_id"], ["hall.id"]),
        sa.PrimaryKeyConstraint("hall_id", "seq"),
    )


def _line_kind_index(partial: bool) -> None:
    op.drop_index("ix_ticket_line_kind", table_name="ticket")
    if partial:
        waiting = sa.text("status = 'waiting'")
        op.create_index(
            "ix_ticket_line_kind",
            "ticket",
            ["hall_id", "line_id", "kind", "queue_key", "id"],
            postgresql_where=waiting,
            sqlite_where=waiting,
        )
    else:
        op.create_index(
            "ix_ticket_line_kind", "ticket", ["hall_id", "line_id", "status", "kind", "queue_key", "id"]
        )


def _request_log_table(name: str, hall_fk: bool) -> None:
    op.create_table(
        name,
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("command", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        *([sa.ForeignKeyConstraint(["hall_id"], ["hall.id"])] if hall_fk else []),
        sa.PrimaryKeyConstraint("hall_id", "request_id"),
    )


def _request_log_hall_fk(keep: bool) -> None:
    """PostgreSQL drops or adds the constraint; SQLite rebuilds the table (it cannot alter one)."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        if keep:
            op.create_foreign_key("request_log_hall_id_fkey", "request_log", "hall", ["hall_id"], ["id"])
        else:
            op.drop_constraint("request_log_hall_id_fkey", "request_log", type_="foreignkey")
        return
    columns = "hall_id, request_id, command, result, created_at"
    _request_log_table("request_log_rebuilt", hall_fk=keep)
    op.execute(f"INSERT INTO request_log_rebuilt ({columns}) SELECT {columns} FROM request_log")
    op.drop_table("request_log")
    op.rename_table("request_log_rebuilt", "request_log")


def upgrade() -> None:
    # event: a surrogate key, seq NULL until numbered, no foreign key to hall
    _numbered_event_table("event_numbered")
    op.execute(
        f"INSERT INTO event_numbered ({EVENT_COLUMNS}) SELECT {EVENT_COLUMNS} FROM event ORDER BY hall_id, seq"
    )
    op.drop_table("event")
    op.rename_table("event_numbered", "event")
    numbered = sa.text("seq IS NOT NULL")
    pending = sa.text("seq IS NULL")
    op.create_index(
        "ux_event_hall_seq",
        "event",
        ["hall_id", "seq"],
        unique=True,
        postgresql_where=numbered,
        sqlite_where=numbered,
    )
    op.create_index(
        "ix_event_pending", "event", ["hall_id", "id"], postgresql_where=pending, sqlite_where=pending
    )

    # ticket: the head-by-kind index holds waiting tickets only
    _line_kind_index(partial=True)
    _request_log_hall_fk(keep=False)

    if op.get_bind().dialect.name != "postgresql":
        return
    bind = op.get_bind()
    if bind.exec_driver_sql("SELECT to_regclass('event_numbered_id_seq')").scalar() is not None:
        bind.exec_driver_sql("ALTER SEQUENCE event_numbered_id_seq RENAME TO event_id_seq")
    bind.exec_driver_sql("ALTER TABLE event RENAME CONSTRAINT event_numbered_pkey TO event_pkey")
    for ddl in (NUMBER_PENDING, SEQUENCE, CALL_NEXT, IN_HAND_TRANSITION, PROCEDURES):
        # exec_driver_sql: the bodies hold ':' and quotes that text() would read as bind params
        bind.exec_driver_sql(ddl)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql("SELECT wt_number_pending(h.id) FROM hall h")
        for signature in DROPPED_ON_DOWNGRADE:
            bind.exec_driver_sql(f"DROP {signature}")
        # 0003's functions come back with its bodies
        from window_terminal.db.migrate import revision_module

        m0003 = revision_module("0003_pg_queue_functions.py")
        for ddl in (m0003.CALL_NEXT, m0003.IN_HAND_TRANSITION):
            bind.exec_driver_sql(ddl)
    _line_kind_index(partial=False)
    _request_log_hall_fk(keep=True)
    _keyed_event_table("event_keyed")
    op.execute(
        f"INSERT INTO event_keyed ({EVENT_COLUMNS}) SELECT {EVENT_COLUMNS} FROM event WHERE seq IS NOT NULL"
    )
    op.drop_table("event")
    op.rename_table("event_keyed", "event")
