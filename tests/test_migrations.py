"""Migrations bring an empty or older database to head on SQLite and PostgreSQL; models match them."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select
from sqlmodel import SQLModel

from tests.conftest import QUEUE
from window_terminal.core import queueing
from window_terminal.core.hall import load_hall, resolve_hall
from window_terminal.db.engine import DatabaseError, make_engine
from window_terminal.db.migrate import current_revision, ensure_current, head_revision, upgrade
from window_terminal.db.models import Ticket


def test_an_older_database_with_tickets_is_upgraded_to_head_keeping_its_data(empty_url):
    engine = make_engine(empty_url)
    upgrade(engine, "0001")
    with pytest.raises(DatabaseError, match="wt db upgrade"):
        ensure_current(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    ensure_current(engine)
    load_hall(engine, QUEUE)
    hall = resolve_hall(engine, None)
    queueing.take_ticket(engine, hall.id, "BIZ", actor="C001")
    from window_terminal.db.engine import read_session

    with read_session(engine) as s:
        assert s.execute(select(Ticket.number)).scalar_one() == "A001"
    engine.dispose()


def test_the_models_and_the_migrations_agree(empty_url):
    engine = make_engine(empty_url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": False}), SQLModel.metadata
        )
    engine.dispose()
    assert diff == [], "models.py changed without a migration: run tools/make_migration.py"


def test_the_fast_head_and_current_revision_agree_with_alembic(empty_url):
    """ensure_current reads revisions without importing Alembic; here Alembic itself checks it."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from window_terminal.db.migrate import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()
    engine = make_engine(empty_url)
    assert current_revision(engine) is None
    for revision in ("0001", "head"):
        upgrade(engine, revision)
        with engine.connect() as connection:
            assert current_revision(engine) == MigrationContext.configure(connection).get_current_revision()
