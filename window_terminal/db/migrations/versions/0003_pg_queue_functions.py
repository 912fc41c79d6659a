"""PostgreSQL queue functions: call_next and the in-hand transitions as one server-side statement

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 09:00:00

On PostgreSQL the hot counter commands (``queueing.call_next``, ``start_service``, ``finish``,
``no_show``, ``park``) run as ONE call of a PL/pgSQL function, in autocommit: the hall row lock is
held for that statement and its commit only, not for a Python/ORM round-trip conversation. Each
function does exactly what ``db.unit.run_command`` + the Python action do (lock, idempotency, the
database clock + test offset, the same choice of the next ticket, the same events with the same
payloads, ``hall.event_seq`` + ``pg_notify``, the request record).

Refusals are raised with SQLSTATE class ``WT`` and carry no user text: the Python wrapper then runs
the Python path, which raises the DomainError with its Chinese and English message (messages stay
in one place). Anything the functions do not reproduce exactly (an unusual call template) is also
raised as ``WT999`` so that the Python path handles it. SQLite: no functions (the Python path is
used). Both: the index ``ix_ticket_line_kind`` (declared in models.py) for the head of a line by kind.
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

FUNCTIONS = [
    "wt_call_next(integer, integer, integer, text, double precision, double precision)",
    "wt_in_hand_transition(integer, integer, integer, text, double precision, text, text[], text, text)",
    "wt_ticket_info(ticket, text, text, integer, text)",
    "wt_ticket_payload(ticket, text, integer)",
    "wt_call_text(jsonb, text, integer)",
    "wt_local_iso(timestamp without time zone, text)",
]

LOCAL_ISO = r"""
CREATE OR REPLACE FUNCTION wt_local_iso(p_moment timestamp without time zone, p_tz text)
RETURNS text LANGUAGE plpgsql STABLE AS $$
-- Python: to_local(moment, tz).isoformat(timespec="seconds") -> 2026-11-21T10:32:05+08:00
DECLARE
    v_local timestamp without time zone := (p_moment AT TIME ZONE 'UTC') AT TIME ZONE p_tz;
    v_offset integer := extract(epoch FROM (v_local - p_moment))::integer;
    v_abs integer := abs(v_offset);
    v_text text;
BEGIN
    v_text := to_char(v_local, 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN v_offset < 0 THEN '-' ELSE '+' END
        || lpad((v_abs / 3600)::text, 2, '0') || ':' || lpad((mod(v_abs, 3600) / 60)::text, 2, '0');
    IF mod(v_abs, 60) <> 0 THEN
        v_text := v_text || ':' || lpad(mod(v_abs, 60)::text, 2, '0');
    END IF;
    RETURN v_text;
END
$$;
"""

CALL_TEXT = r"""
CREATE OR REPLACE FUNCTION wt_call_text(p_settings jsonb, p_number text, p_window integer)
RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
-- Python: call_text(settings, number, window) = threshold(settings, "call_template").format(...)
DECLARE
    v_thresholds jsonb := p_settings -> 'thresholds';
    v_template jsonb;
    v_text text;
BEGIN
    IF v_thresholds IS NULL OR jsonb_typeof(v_thresholds) = 'null' THEN
        v_text := '请{number}号到{window}号窗口办理';
    ELSIF jsonb_typeof(v_thresholds) = 'object' THEN
        v_template := v_thresholds -> 'call_template';
        IF v_template IS NULL THEN
            v_text := '请{number}号到{window}号窗口办理';
        ELSIF jsonb_typeof(v_template) = 'string' THEN
            v_text := v_template #>> '{}';
        ELSE
            RAISE EXCEPTION USING ERRCODE = 'WT999', MESSAGE = 'wt: call_template is not a string';
        END IF;
    ELSE
        RAISE EXCEPTION USING ERRCODE = 'WT999', MESSAGE = 'wt: thresholds is not an object';
    END IF;
    IF strpos(replace(replace(v_text, '{number}', ''), '{window}', ''), '{') > 0
       OR strpos(replace(replace(v_text, '{number}', ''), '{window}', ''), '}') > 0 THEN
        -- str.format features beyond the two plain fields: let Python do it.
        RAISE EXCEPTION USING ERRCODE = 'WT999', MESSAGE = 'wt: call_template needs str.format';
    END IF;
    RETURN replace(replace(v_text, '{number}', p_number), '{window}', p_window::text);
END
$$;
"""

TICKET_PAYLOAD = r"""
CREATE OR REPLACE FUNCTION wt_ticket_payload(p_ticket ticket, p_line_code text, p_window_number integer)
RETURNS json LANGUAGE sql IMMUTABLE AS $$
-- Python: _ticket_payload(ticket, line, window) (same keys, same order)
SELECT json_build_object(
    'ticket_id', p_ticket.id,
    'number', p_ticket.number,
    'line', p_line_code,
    'status', p_ticket.status,
    'kind', p_ticket.kind,
    'window', p_window_number)
$$;
"""

TICKET_INFO = r"""
CREATE OR REPLACE FUNCTION wt_ticket_info(
    p_ticket ticket, p_line_code text, p_line_name text, p_window_number integer, p_tz text)
RETURNS json LANGUAGE sql STABLE AS $$
-- Python: _info(session, ticket, line, tz=...) without people ahead: TicketInfo.as_dict()
SELECT json_build_object(
    'id', p_ticket.id,
    'number', p_ticket.number,
    'line', p_line_code,
    'line_name', p_line_name,
    'kind', p_ticket.kind,
    'status', p_ticket.status,
    'window', p_window_number,
    'issued_at', wt_local_iso(p_ticket.issued_at, p_tz),
    'people_ahead', NULL::integer,
    'estimated_wait_minutes', NULL::integer,
    'recall_count', p_ticket.recall_count,
    'service_day', to_char(p_ticket.service_day, 'YYYY-MM-DD'),
    'priority_reason', p_ticket.priority_reason)
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
DECLARE
    v_tz text;
    v_settings jsonb;
    v_seq bigint;
    v_first_seq bigint;
    v_stored json;
    v_now timestamp without time zone;
    v_now_epoch double precision;
    v_window "window";
    v_current ticket;
    v_head ticket;
    v_normal ticket;
    v_best ticket;
    v_has_head boolean;
    v_found boolean := false;
    v_best_privileged integer;
    v_best_score double precision;
    v_best_line_id integer;
    v_best_line_code text;
    v_best_line_name text;
    v_best_policy text;
    v_best_streak integer;
    v_privileged integer;
    v_score double precision;
    v_line record;
    v_line_code text;
    v_info json := NULL;
BEGIN
    SELECT h.timezone, h.settings::jsonb, h.event_seq INTO v_tz, v_settings, v_seq
    FROM hall h WHERE h.id = p_hall_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'WT404', MESSAGE = 'wt: no such hall';
    END IF;
    v_first_seq := v_seq;
    IF p_request_id IS NOT NULL THEN
        SELECT r.result INTO v_stored FROM request_log r
        WHERE r.hall_id = p_hall_id AND r.request_id = p_request_id;
        IF FOUND THEN
            RETURN v_stored::jsonb -> 'value';
        END IF;
    END IF;
    v_now := (clock_timestamp() AT TIME ZONE 'UTC') + make_interval(secs => p_clock_offset_s);
    -- naive datetime.timestamp(): whole seconds (local reading) + microsecond / 1e6
    v_now_epoch := (extract(epoch FROM date_trunc('second', v_now)) - p_local_utcoffset_s)::double precision
        + mod(extract(microseconds FROM v_now)::bigint, 1000000)::double precision / 1e6::double precision;

    SELECT * INTO v_window FROM "window" w
    WHERE w.hall_id = p_hall_id AND w.number = p_window_number AND w.active;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'WT404', MESSAGE = 'wt: no such window';
    END IF;
    IF v_window.status <> 'open' THEN
        RAISE EXCEPTION USING ERRCODE = 'WT409', MESSAGE = 'wt: window not open';
    END IF;

    -- the ticket in hand: one being served is finished, one merely called blocks the call
    SELECT * INTO v_current FROM ticket t
    WHERE t.hall_id = v_window.hall_id AND t.window_id = v_window.id AND t.status IN ('called', 'serving')
    ORDER BY t.called_at DESC LIMIT 1;
    IF FOUND THEN
        IF v_current.status = 'called' THEN
            RAISE EXCEPTION USING ERRCODE = 'WT409', MESSAGE = 'wt: ticket called but not started';
        END IF;
        UPDATE ticket t SET status = 'done', finished_at = v_now WHERE t.id = v_current.id
        RETURNING * INTO v_current;
        SELECT l.code INTO v_line_code FROM line l WHERE l.id = v_current.line_id;
        v_seq := v_seq + 1;
        INSERT INTO event (hall_id, seq, kind, payload, staff_id, window_id, request_id, created_at)
        VALUES (p_hall_id, v_seq, 'ticket.finished', wt_ticket_payload(v_current, v_line_code, v_window.number),
                p_staff_id, v_window.id, p_request_id, v_now);
    END IF;

    -- the next ticket over the lines this window serves
    FOR v_line IN
        SELECT l.id, l.hall_id, l.code, l.name, l.priority_policy, l.priority_every, l.priority_streak,
               wl.weight
        FROM line l JOIN window_line wl ON wl.line_id = l.id
        WHERE wl.window_id = v_window.id AND l.active
    LOOP
        IF v_line.priority_policy = 'none' THEN
            SELECT * INTO v_head FROM ticket t
            WHERE t.hall_id = v_line.hall_id AND t.line_id = v_line.id AND t.status = 'waiting'
              AND t.eligible_at <= v_now
            ORDER BY t.queue_key, t.id LIMIT 1;
            v_has_head := FOUND;
        ELSE
            SELECT * INTO v_head FROM ticket t
            WHERE t.hall_id = v_line.hall_id AND t.line_id = v_line.id AND t.status = 'waiting'
              AND t.eligible_at <= v_now AND t.kind IN ('priority', 'appointment')
            ORDER BY t.queue_key, t.id LIMIT 1;
            v_has_head := FOUND;
            IF NOT v_has_head THEN
                SELECT * INTO v_head FROM ticket t
                WHERE t.hall_id = v_line.hall_id AND t.line_id = v_line.id AND t.status = 'waiting'
                  AND t.eligible_at <= v_now
                ORDER BY t.queue_key, t.id LIMIT 1;
                v_has_head := FOUND;
            ELSIF v_line.priority_policy = 'interleave'
                  AND v_line.priority_streak >= greatest(1, v_line.priority_every) THEN
                SELECT * INTO v_normal FROM ticket t
                WHERE t.hall_id = v_line.hall_id AND t.line_id = v_line.id AND t.status = 'waiting'
                  AND t.eligible_at <= v_now AND t.kind = 'normal'
                ORDER BY t.queue_key, t.id LIMIT 1;
                IF FOUND THEN
                    v_head := v_normal;
                END IF;
            END IF;
        END IF;
        CONTINUE WHEN NOT v_has_head;
        v_privileged := CASE WHEN v_head.kind IN ('priority', 'appointment')
                                  AND v_line.priority_policy <> 'none' THEN 1 ELSE 0 END;
        v_score := v_line.weight::double precision * (v_now_epoch - v_head.queue_key);
        IF NOT v_found OR v_privileged > v_best_privileged
           OR (v_privileged = v_best_privileged AND v_score > v_best_score) THEN
            v_found := true;
            v_best := v_head;
            v_best_privileged := v_privileged;
            v_best_score := v_score;
            v_best_line_id := v_line.id;
            v_best_line_code := v_line.code;
            v_best_line_name := v_line.name;
            v_best_policy := v_line.priority_policy;
            v_best_streak := v_line.priority_streak;
        END IF;
    END LOOP;

    IF v_found THEN
        IF v_best_policy = 'interleave' THEN
            UPDATE line l SET priority_streak = CASE WHEN v_best.kind IN ('priority', 'appointment')
                                                     THEN v_best_streak + 1 ELSE 0 END
            WHERE l.id = v_best_line_id;
        END IF;
        UPDATE ticket t SET status = 'called',
                            window_id = v_window.id,
                            staff_id = coalesce(p_staff_id, v_window.staff_id),
                            called_at = v_now,
                            first_called_at = coalesce(t.first_called_at, v_now)
        WHERE t.id = v_best.id
        RETURNING * INTO v_best;
        v_seq := v_seq + 1;
        INSERT INTO event (hall_id, seq, kind, payload, staff_id, window_id, request_id, created_at)
        VALUES (p_hall_id, v_seq, 'ticket.called',
                json_build_object(
                    'ticket_id', v_best.id,
                    'number', v_best.number,
                    'line', v_best_line_code,
                    'status', v_best.status,
                    'kind', v_best.kind,
                    'window', v_window.number,
                    'text', wt_call_text(v_settings, v_best.number, v_window.number)),
                p_staff_id, v_window.id, p_request_id, v_now);
        v_info := wt_ticket_info(v_best, v_best_line_code, v_best_line_name, v_window.number, v_tz);
    END IF;

    IF v_seq <> v_first_seq THEN
        UPDATE hall h SET event_seq = v_seq WHERE h.id = p_hall_id;
        PERFORM pg_notify('wt_events', p_hall_id::text || ':' || v_seq::text);
    END IF;
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
-- (start_service, finish, no_show, park).
DECLARE
    v_tz text;
    v_seq bigint;
    v_stored json;
    v_now timestamp without time zone;
    v_window "window";
    v_ticket ticket;
    v_line_code text;
    v_line_name text;
    v_info json;
BEGIN
    SELECT h.timezone, h.event_seq INTO v_tz, v_seq FROM hall h WHERE h.id = p_hall_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'WT404', MESSAGE = 'wt: no such hall';
    END IF;
    IF p_request_id IS NOT NULL THEN
        SELECT r.result INTO v_stored FROM request_log r
        WHERE r.hall_id = p_hall_id AND r.request_id = p_request_id;
        IF FOUND THEN
            RETURN v_stored::jsonb -> 'value';
        END IF;
    END IF;
    v_now := (clock_timestamp() AT TIME ZONE 'UTC') + make_interval(secs => p_clock_offset_s);

    SELECT * INTO v_window FROM "window" w
    WHERE w.hall_id = p_hall_id AND w.number = p_window_number AND w.active;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'WT404', MESSAGE = 'wt: no such window';
    END IF;
    SELECT * INTO v_ticket FROM ticket t
    WHERE t.hall_id = v_window.hall_id AND t.window_id = v_window.id AND t.status IN ('called', 'serving')
    ORDER BY t.called_at DESC LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'WT409', MESSAGE = 'wt: no ticket in hand';
    END IF;
    IF NOT (v_ticket.status = ANY (p_allowed)) THEN
        RAISE EXCEPTION USING ERRCODE = 'WT409', MESSAGE = 'wt: bad state';
    END IF;
    UPDATE ticket t SET status = p_new_status,
                        started_at = CASE WHEN p_new_status = 'serving' THEN v_now ELSE t.started_at END,
                        finished_at = CASE WHEN p_new_status IN ('done', 'no_show') THEN v_now
                                           ELSE t.finished_at END
    WHERE t.id = v_ticket.id
    RETURNING * INTO v_ticket;
    SELECT l.code, l.name INTO v_line_code, v_line_name FROM line l WHERE l.id = v_ticket.line_id;
    v_seq := v_seq + 1;
    INSERT INTO event (hall_id, seq, kind, payload, staff_id, window_id, request_id, created_at)
    VALUES (p_hall_id, v_seq, p_event, wt_ticket_payload(v_ticket, v_line_code, v_window.number),
            p_staff_id, v_window.id, p_request_id, v_now);
    UPDATE hall h SET event_seq = v_seq WHERE h.id = p_hall_id;
    PERFORM pg_notify('wt_events', p_hall_id::text || ':' || v_seq::text);
    v_info := wt_ticket_info(v_ticket, v_line_code, v_line_name, v_window.number, v_tz);
    IF p_request_id IS NOT NULL THEN
        INSERT INTO request_log (hall_id, request_id, command, result, created_at)
        VALUES (p_hall_id, p_request_id, p_command, json_build_object('value', v_info), v_now);
    END IF;
    RETURN v_info::jsonb;
END
$$;
"""


def upgrade() -> None:
    # Both databases: the head of a line by kind without scanning every waiting normal ticket
    # (if_not_exists: 0002 may be regenerated from models.py, which now declares it).
    op.create_index(
        "ix_ticket_line_kind",
        "ticket",
        ["hall_id", "line_id", "status", "kind", "queue_key", "id"],
        unique=False,
        if_not_exists=True,
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    for ddl in (LOCAL_ISO, CALL_TEXT, TICKET_PAYLOAD, TICKET_INFO, CALL_NEXT, IN_HAND_TRANSITION):
        # exec_driver_sql: the bodies hold ':' and quotes that text() would read as bind params
        op.get_bind().exec_driver_sql(ddl)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for signature in FUNCTIONS:
            op.get_bind().exec_driver_sql(f"DROP FUNCTION IF EXISTS {signature}")
    op.drop_index("ix_ticket_line_kind", table_name="ticket", if_exists=True)
