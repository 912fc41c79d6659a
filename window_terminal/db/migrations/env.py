"""Alembic environment: runs against the connection handed over by ``db.migrate``."""

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

import window_terminal.db.models  # noqa: F401  (registers the tables)

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        from window_terminal.db.engine import make_engine

        engine = make_engine(context.config.get_main_option("sqlalchemy.url", ""))
        with engine.connect() as connection:
            _run(connection)
        return
    _run(connection)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
