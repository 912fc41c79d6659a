"""Issuers, item kinds, material requirements, deemed acceptance and linked cases (issue 14)

Revision ID: 0009
Revises: 0008
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
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # the columns below name sqlmodel.sql.sqltypes.AutoString
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("department") as batch:
        batch.add_column(sa.Column("office", TEXT(), nullable=False, server_default=""))
        batch.add_column(sa.Column("seal", TEXT(), nullable=False, server_default=""))
        batch.add_column(sa.Column("abbr", TEXT(), nullable=False, server_default=""))
    with op.batch_alter_table("service_item") as batch:
        batch.add_column(sa.Column("kind", TEXT(), nullable=False, server_default="licence"))
        batch.add_column(sa.Column("issuer", TEXT(), nullable=False, server_default=""))
    with op.batch_alter_table("material") as batch:
        batch.add_column(sa.Column("requirement", TEXT(), nullable=False, server_default=""))
    with op.batch_alter_table("case") as batch:
        batch.add_column(sa.Column("deemed_accepted", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("earlier_case_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_case_earlier_case_id", "case", ["earlier_case_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("case") as batch:
        batch.drop_constraint("fk_case_earlier_case_id", type_="foreignkey")
        batch.drop_column("earlier_case_id")
        batch.drop_column("deemed_accepted")
    with op.batch_alter_table("material") as batch:
        batch.drop_column("requirement")
    with op.batch_alter_table("service_item") as batch:
        batch.drop_column("issuer")
        batch.drop_column("kind")
    with op.batch_alter_table("department") as batch:
        batch.drop_column("abbr")
        batch.drop_column("seal")
        batch.drop_column("office")
