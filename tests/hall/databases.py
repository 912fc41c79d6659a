"""Scratch databases for simulated weeks: one template per process (migrated, two halls loaded),
cloned for every run — a SQLite file copied, or a PostgreSQL ``CREATE DATABASE … TEMPLATE``.

The demo hall (``queue/``) is loaded twice, the second time under the code ``second``: two halls in
one database, as a city's halls share one PostgreSQL."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from window_terminal.config import normalize_database_url
from window_terminal.core.hall import load_hall
from window_terminal.db.engine import make_engine
from window_terminal.db.migrate import upgrade

REPO = Path(__file__).resolve().parents[2]
QUEUE = REPO / "queue"
HALL_CODES = ("jinjiang", "second")


def second_hall_folder(where: Path) -> Path:
    """A copy of the demo hall's definition under the code ``second``."""
    folder = where / "queue-second"
    if not folder.exists():
        shutil.copytree(QUEUE, folder)
        hall_toml = folder / "hall.toml"
        hall_toml.write_text(
            hall_toml.read_text(encoding="utf-8").replace('code = "jinjiang"', 'code = "second"', 1),
            encoding="utf-8",
        )
    return folder


def _prepare(engine: Engine, where: Path) -> None:
    from tests.hall.operations import open_the_halls

    upgrade(engine)
    load_hall(engine, QUEUE)
    load_hall(engine, second_hall_folder(where))
    open_the_halls(engine)  # every run starts on the first morning, every window open


@dataclass
class Databases:
    """Fresh two-hall databases of one kind (``sqlite`` or ``postgresql``), cloned from a template."""

    kind: str
    postgres_url: str | None = None  # the admin URL (any database of the server) for PostgreSQL
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="hall-weeks-")))
    _template: str | None = None
    _made: list[str] = field(default_factory=list)

    def _admin(self, sql: str) -> None:
        assert self.postgres_url
        admin = make_engine(normalize_database_url(self.postgres_url)).execution_options(
            isolation_level="AUTOCOMMIT"
        )
        try:
            with admin.connect() as conn:
                conn.execute(text(sql))
        finally:
            admin.dispose()

    def _pg_url(self, name: str) -> str:
        assert self.postgres_url
        url = make_url(normalize_database_url(self.postgres_url)).set(database=name)
        return url.render_as_string(hide_password=False)

    def _ensure_template(self) -> str:
        if self._template is not None:
            return self._template
        if self.kind == "sqlite":
            path = self.folder / "template.sqlite3"
            engine = make_engine(f"sqlite:///{path}")
            _prepare(engine, self.folder)
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
            self._template = str(path)
        else:
            name = f"wt_weeks_tmpl_{uuid.uuid4().hex[:8]}"
            self._admin(f'CREATE DATABASE "{name}"')
            self._made.append(name)
            engine = make_engine(self._pg_url(name))
            _prepare(engine, self.folder)
            engine.dispose()
            self._template = name
        return self._template

    def fresh(self) -> str:
        """The URL of a new database holding the two halls and nothing else."""
        template = self._ensure_template()
        if self.kind == "sqlite":
            path = self.folder / f"run-{uuid.uuid4().hex[:8]}.sqlite3"
            shutil.copy(template, path)
            return f"sqlite:///{path}"
        name = f"wt_weeks_{uuid.uuid4().hex[:10]}"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self._made.append(name)
        return self._pg_url(name)

    def drop(self, url: str) -> None:
        """Remove one database made by :meth:`fresh` (a shrinking run makes many)."""
        if self.kind == "sqlite":
            path = Path(make_url(url).database or "")
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
            return
        name = make_url(url).database
        if name in self._made:
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self._made.remove(name)

    def close(self) -> None:
        if self.kind == "postgresql":
            for name in list(reversed(self._made)):
                self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self._made.clear()
        shutil.rmtree(self.folder, ignore_errors=True)
