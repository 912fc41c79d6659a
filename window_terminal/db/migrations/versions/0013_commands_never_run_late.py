"""A command never runs after its deadline: the server refuses to commit its events once it has passed

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 02:00:00

Issue 29: with the link black-holed while F2 was in flight, the screen said "not confirmed"; 63 s later
the held bytes arrived and the call ran, announced on both TVs with nobody at the counter expecting it.
A screen's request id now carries its deadline in the server's time (``<id>@<epoch ms>``,
``db.unit.expiring_request_id``). A deferred constraint trigger checks every event of such a request
when its transaction COMMITs — the fast path's procedure and the Python path alike, however late the
bytes arrived, through any proxy or pooler — and refuses (SQLSTATE ``WT408``) after the deadline: the
whole transaction rolls back, nothing of the command happens. The screen says "not confirmed" only once
that deadline has passed (screens/work.py), so what it says is the truth.
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

NOT_LATE = r"""
CREATE OR REPLACE FUNCTION wt_event_not_late() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_deadline text[];
BEGIN
    v_deadline := regexp_match(NEW.request_id, '@([0-9]{10,16})$');
    IF v_deadline IS NOT NULL
       AND extract(epoch FROM clock_timestamp()) * 1000 > v_deadline[1]::numeric THEN
        RAISE EXCEPTION USING ERRCODE = 'WT408',
            MESSAGE = 'wt: the command reached the server after its deadline; nothing of it was done';
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS wt_event_not_late ON event;
CREATE CONSTRAINT TRIGGER wt_event_not_late AFTER INSERT ON event
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.request_id LIKE '%@%')
    EXECUTE FUNCTION wt_event_not_late();
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(NOT_LATE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS wt_event_not_late ON event")
        op.execute("DROP FUNCTION IF EXISTS wt_event_not_late()")
