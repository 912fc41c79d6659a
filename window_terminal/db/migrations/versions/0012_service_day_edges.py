"""The counter procedure calls only today's tickets and leaves a missed close of day to Python

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 01:30:00

Issue 28: tickets still waiting at the end of a day stayed callable the next day, and after midnight
two live tickets read "A001". The close of day (``core.queueing.close_day``, ``wt day close``) ends
every ticket of a past service day still waiting, called or parked, as the system; when it was
missed, the first take or call of the next day does it first (``queueing.close_past_days``).

PostgreSQL's fast path ``wt_call_next`` (called by ``wt_call_next_p``) gets the same two rules:

* when a ticket of a past service day is still waiting, called or parked, it refuses (SQLSTATE
  ``WT425``), so the Python path answers: it closes the past day, with its events and the system as
  their actor, and then calls — one implementation of the close, not two;
* its calling rule reads only tickets of today's service day (``queueing.callable_now``: waiting, of
  today, from their ``eligible_at``), as the Python ``_line_head`` does.

Only the function's body changes; its signature and ``wt_call_next_p`` stay as 0008 left them.
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _call_next() -> str:
    from window_terminal.db.migrate import revision_module

    sql: str = revision_module("0008_event_hash_chain_and_bound_request_ids.py").CALL_NEXT
    edits = [
        ("    v_now_epoch double precision;\n", "    v_now_epoch double precision;\n    v_today date;\n", 1),
        (
            "    v_now_epoch := extract(epoch FROM v_now)::double precision;  -- exact numeric, rounded once\n",
            "    v_now_epoch := extract(epoch FROM v_now)::double precision;  -- exact numeric, rounded once\n"
            "    v_today := ((v_now AT TIME ZONE 'UTC') AT TIME ZONE v_win.timezone)::date;\n"
            "    -- a past service day still open (its close of day was missed): the Python path closes\n"
            "    -- it, as the system (queueing.close_past_days), then calls\n"
            "    IF EXISTS (SELECT 1 FROM ticket t WHERE t.hall_id = p_hall_id\n"
            "               AND t.status IN ('waiting', 'called', 'parked', 'serving')\n"
            "               AND t.service_day < v_today) THEN\n"
            "        RAISE EXCEPTION USING ERRCODE = 'WT425', MESSAGE = 'wt: a past service day is still open';\n"
            "    END IF;\n",
            1,
        ),
        # queueing.callable_now: waiting, of today's service day, its time come
        ("AND t.eligible_at <= v_now", "AND t.service_day = v_today AND t.eligible_at <= v_now", 3),
    ]
    for old, new, count in edits:
        if sql.count(old) != count:
            raise AssertionError(f"0012: expected {count} × {old!r} in 0008's wt_call_next")
        sql = sql.replace(old, new)
    return sql


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # exec_driver_sql: the body holds ':' and quotes that text() would read as bind params
        bind.exec_driver_sql(_call_next())


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from window_terminal.db.migrate import revision_module

        bind.exec_driver_sql(revision_module("0008_event_hash_chain_and_bound_request_ids.py").CALL_NEXT)
