"""wt_sequence looks for unnumbered events before it locks anything

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 14:00:00

0004's ``wt_sequence`` took the sequencer lock and ran ``wt_number_pending`` (which locks the hall
row, a write) before asking whether anything was left to number. Most calls find nothing: every
idle poll of every screen's feed, and every counter whose events another session has already
numbered. Now the loop first reads the pending-events index and returns when it is empty; the
rest is 0004's loop unchanged (a session that finds the lock taken leaves the work to the holder,
which looks again after letting go). PostgreSQL only: SQLite has no server-side functions.
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SEQUENCE = r"""
CREATE OR REPLACE FUNCTION wt_sequence(p_hall_id integer) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET enable_seqscan = off AS $$
-- Called after a commit that left unnumbered events, and by a quiet hall's feed. Nothing pending:
-- return without a lock or a write. One numbering session per hall at a time; a session that finds
-- the lock taken returns at once: the holder looks again after letting go, and by then it sees
-- every event committed before this try.
DECLARE
    v_seq bigint := NULL;
BEGIN
    LOOP
        EXIT WHEN NOT EXISTS (SELECT 1 FROM event x WHERE x.hall_id = p_hall_id AND x.seq IS NULL);
        IF NOT pg_try_advisory_lock(30583, p_hall_id) THEN
            RETURN v_seq;
        END IF;
        v_seq := wt_number_pending(p_hall_id);
        PERFORM pg_advisory_unlock(30583, p_hall_id);
    END LOOP;
    RETURN v_seq;
END
$$;
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(SEQUENCE)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from window_terminal.db.migrate import revision_module

        bind.exec_driver_sql(revision_module("0004_events_numbered_after_commit.py").SEQUENCE)
