"""The hall TVs report a heartbeat: one row per display page

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 17:20:00

Each hall TV page (``wt serve display``) posts every few seconds which display it is and the last
feed sequence number it has shown; the manager's board lists the displays and flags one that is
silent (no heartbeat for a while) or behind the feed. The row is overwritten in place: a heartbeat
is not an event (it changes nothing in the hall), so the event log stays the hall's record.
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # the columns below name sqlmodel.sql.sqltypes.AutoString
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "display_heartbeat",
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("display_id", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("hall_seq", sa.BigInteger(), nullable=False),
        sa.Column("behind", sa.Boolean(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["hall_id"], ["hall.id"]),
        sa.PrimaryKeyConstraint("hall_id", "display_id"),
    )


def downgrade() -> None:
    op.drop_table("display_heartbeat")
