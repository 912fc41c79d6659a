"""Window lines are found by their line

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 02:30:00

Every ticket taken counts the open windows serving its line (the wait estimate on the slip), and
the calling procedures look up the lines a window serves. ``window_line``'s key is (window, line),
so "the windows of this line" read every window of every hall on the server: at a city's 10,000
windows that was ~1.7 ms of the server per ticket (issue 17, ``benchmarks/city_load.py``). An
index on ``line_id`` makes it a lookup.
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_window_line_line_id", "window_line", ["line_id"])


def downgrade() -> None:
    op.drop_index("ix_window_line_line_id", table_name="window_line")
