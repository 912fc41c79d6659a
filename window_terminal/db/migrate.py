"""Schema migrations (Alembic): ``wt db upgrade`` and the check that refuses a database behind head."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from window_terminal.db.engine import DatabaseError

if TYPE_CHECKING:  # alembic is imported only when migrating
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def revision_module(filename: str) -> ModuleType:
    """An earlier migration, loaded by file name: a downgrade reinstalls the SQL it installed."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        f"wt_migration_{Path(filename).stem}", MIGRATIONS / "versions" / filename
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return config


def head_revision(engine: Engine) -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config(engine)).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Bring the database to ``revision``; returns (before, after)."""
    from alembic import command

    before = current_revision(engine)
    config = _config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return before, current_revision(engine) or ""


def ensure_current(engine: Engine) -> None:
    """Refuse to work on a database that is behind (or ahead of) this program's schema."""
    try:
        current = current_revision(engine)
    except Exception as exc:
        raise DatabaseError(
            f"cannot open the database {engine.url.render_as_string(hide_password=True)}: {exc}. "
            "Check --db / WT_DATABASE_URL and that the server is running."
        ) from exc
    head = head_revision(engine)
    if current != head:
        where = "empty" if current is None else f"at revision {current}"
        raise DatabaseError(
            f"the database is {where}, this program needs {head}: run `wt db upgrade` "
            f"(数据库结构不是最新版本，请先运行 wt db upgrade)"
        )
