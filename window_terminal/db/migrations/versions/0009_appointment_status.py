"""Appointments can be cancelled and say where they came from

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 23:20:00

Issue 15 makes appointments bookable (``wt appointment book|list|cancel|import``). A booking that
is cancelled keeps its row — its code was sent to the applicant, and the kiosk must answer "this
booking was cancelled", not "no such code" — so it gets a ``status`` (booked | cancelled) and the
time of cancelling. ``source`` records where the booking came from (counter, kiosk, cli, or the
provincial platform's CSV), which a supervisor asks when slots fill. A no-show is not stored: an
appointment not checked in by its slot's start plus the hall's grace minutes is one, read from the
clock (``core/appointments.py``).
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # the columns below name sqlmodel.sql.sqltypes.AutoString
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("appointment") as batch:
        batch.add_column(
            sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="booked")
        )
        batch.add_column(sa.Column("cancelled_at", sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("appointment") as batch:
        batch.drop_column("source")
        batch.drop_column("cancelled_at")
        batch.drop_column("status")
