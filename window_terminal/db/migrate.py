"""Schema migrations (Alembic): ``wt db upgrade`` and the check that refuses a database behind head."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from window_terminal.db.engine import DatabaseError
from window_terminal.db.retry import configuration_problem, reconnect_delay
from window_terminal.db.storage import ensure_sound, storage_fault

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


_REVISION = re.compile(r"^(down_revision|revision)\b[^=]*=\s*(None|[\"']([^\"']+)[\"'])", re.M)


def head_revision() -> str:
    """The newest migration's id, read from the version files' ``revision``/``down_revision`` lines.

    Every command checks the schema before it works, and importing Alembic for that costs about a
    third of a short command's run; the history is linear, so the head is the one revision that is no
    other's ``down_revision``. A test checks this equals Alembic's own ``get_current_head()``.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict((m[0], m[2]) for m in _REVISION.findall(path.read_text(encoding="utf-8")))
        if found.get("revision"):
            revisions.add(found["revision"])
            if found.get("down_revision"):
                parents.add(found["down_revision"])
    heads = revisions - parents
    if len(heads) != 1:
        raise DatabaseError(f"the migrations in {MIGRATIONS} have {len(heads)} heads, expected one")
    return heads.pop()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, from Alembic's ``alembic_version`` table; None if it has none."""
    with engine.connect() as connection:
        if not engine.dialect.has_table(connection, "alembic_version"):
            return None
        try:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
        except DBAPIError:
            return None


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Bring the database to ``revision``; returns (before, after)."""
    from alembic import command

    before = current_revision(engine)
    config = _config(engine)
    with engine.begin() as connection:
        dbapi: Any = connection.connection.dbapi_connection
        deadline = getattr(dbapi, "wt_deadline", None)
        if engine.dialect.name == "postgresql":
            # a migration may rewrite big tables: none of a key press's timeouts (db/links.py)
            connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
            connection.exec_driver_sql("SET LOCAL lock_timeout = 0")
            dbapi.wt_deadline = None
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
        finally:
            if deadline is not None:
                dbapi.wt_deadline = deadline
    return before, current_revision(engine) or ""


def reach(
    engine: Engine, *, wait: float | None = 0.0, on_wait: Callable[[str, float], object] | None = None
) -> str | None:
    """The database's revision, once it answers: waiting while it is down (boot in any order).

    A server that is down, restarting or failing over is tried again (``db.retry.reconnect_delay``)
    for ``wait`` seconds (None: for ever), telling ``on_wait(reason, seconds)`` each time; then
    ``DatabaseError``. An error that waiting will not fix (a refused password, a missing permission
    or database, a malformed URL) raises ``DatabaseError`` naming it at once."""
    where = engine.url.render_as_string(hide_password=True)
    give_up = None if wait is None else time.monotonic() + wait
    attempt = 0
    while True:
        try:
            return current_revision(engine)
        except Exception as exc:
            if fault := storage_fault(exc):  # waiting will not mend a damaged file or free the disk
                raise fault from exc
            cause = " ".join(str(getattr(exc, "orig", None) or exc).split())
            problem = configuration_problem(exc)
            if problem:
                raise DatabaseError(
                    f"cannot use the database {where}: {problem} ({cause}). Check --db / WT_DATABASE_URL, "
                    "the user's password and its grants; waiting will not fix this "
                    "(数据库拒绝访问：请检查连接地址、密码和权限)"
                ) from exc
            delay = reconnect_delay(attempt)
            if give_up is not None and time.monotonic() + delay > give_up:
                waited = f" after waiting {wait:g} s" if wait else ""
                raise DatabaseError(
                    f"cannot reach the database {where}{waited}: {cause}. Check that the server is "
                    "running and reachable from this PC, and --db / WT_DATABASE_URL "
                    "(无法连接数据库：请确认数据库服务器已启动且网络可达)"
                ) from exc
            if on_wait is not None:
                on_wait(cause, delay)
            time.sleep(delay)
            attempt += 1


def ensure_current(
    engine: Engine, *, wait: float | None = 0.0, on_wait: Callable[[str, float], object] | None = None
) -> None:
    """Refuse to work on a database that is behind (or ahead of) this program's schema, or whose file
    is damaged (db/storage.py: a command must not write into it); wait for one that does not answer
    yet as :func:`reach` says."""
    current = reach(engine, wait=wait, on_wait=on_wait)
    ensure_sound(engine)
    head = head_revision()
    if current != head:
        where = "empty" if current is None else f"at revision {current}"
        raise DatabaseError(
            f"the database is {where}, this program needs {head}: run `wt db upgrade` "
            f"(数据库结构不是最新版本，请先运行 wt db upgrade)"
        )
