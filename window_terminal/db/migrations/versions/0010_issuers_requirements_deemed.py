"""Issuers, item kinds, material requirements, deemed acceptance and linked cases (issue 14)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 23:10:00

* ``department.office`` / ``seal`` / ``abbr``: the office that issues a department's documents, its
  seal and its short name in document numbers (``锦审批受〔2026〕第0001号``).
* ``service_item.kind``: ``licence`` (行政许可) | ``public_service`` (公共服务) | ``other``: which law a
  document cites; ``service_item.issuer``: the department whose office issues its documents.
* ``material.requirement``: what the catalogue requires of a material (form, seal, originals to check,
  validity), printed on the one-time notice.
* ``case.deemed_accepted``: Art. 32 — no notice within the limit, the application counts as accepted
  from the day the materials were received.
* ``case.earlier_case_id``: a case for the same applicant and item opened while an earlier one still
  awaits its supplement is linked to it ("once" holds per applicant and item).

Columns are added and dropped in place (``ALTER TABLE … ADD/DROP COLUMN``): no table is rebuilt, so a
SQLite database full of rows that reference these tables migrates with its foreign keys on.
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # the columns below name sqlmodel.sql.sqltypes.AutoString
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TEXT = sqlmodel.sql.sqltypes.AutoString
COLUMNS = [
    ("department", sa.Column("office", TEXT(), nullable=False, server_default="")),
    ("department", sa.Column("seal", TEXT(), nullable=False, server_default="")),
    ("department", sa.Column("abbr", TEXT(), nullable=False, server_default="")),
    ("service_item", sa.Column("kind", TEXT(), nullable=False, server_default="licence")),
    ("service_item", sa.Column("issuer", TEXT(), nullable=False, server_default="")),
    ("material", sa.Column("requirement", TEXT(), nullable=False, server_default="")),
    ("case", sa.Column("deemed_accepted", sa.Boolean(), nullable=False, server_default=sa.false())),
    # a soft link (no foreign key: SQLite could then neither add nor drop it in place)
    ("case", sa.Column("earlier_case_id", sa.Integer(), nullable=True)),
]


def upgrade() -> None:
    for table, column in COLUMNS:
        op.add_column(table, column)


def downgrade() -> None:
    for table, column in reversed(COLUMNS):
        # in place on SQLite too (3.35+: ALTER TABLE … DROP COLUMN): rebuilding a table that other
        # rows reference would break their foreign keys
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN {column.name}')
