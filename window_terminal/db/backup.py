"""Copies of the embedded (SQLite) hall database: taken online, kept private, rotated, put back.

A copy is made with SQLite's online backup API (``sqlite3.Connection.backup``): it reads a consistent
snapshot page by page while the counters keep working, so the hall need not close. The copy is written
under a temporary name, readable by this OS user only, synced to the disk and renamed into place only
once whole; ``core.backups`` verifies it (SQLite's ``integrity_check`` and the audit chain) before it
counts. Copies are named by the database clock's UTC time, ``wt-YYYYmmddTHHMMSSZ.sqlite3``, so their
names sort by age; the oldest beyond ``keep`` are removed.

PostgreSQL is backed up by pgBackRest (continuous WAL archiving, recoverable to the second): see
docs/backup.md.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from window_terminal.db.engine import DatabaseError, is_sqlite
from window_terminal.db.storage import sync_path

PATTERN = "wt-*.sqlite3"


@dataclass(frozen=True)
class Copy:
    path: Path
    taken_at: datetime  # UTC, from the name
    size: int


def database_path(engine: Engine) -> Path:
    if not is_sqlite(engine) or not engine.url.database or engine.url.database == ":memory:":
        raise DatabaseError(
            "`wt db backup` copies the embedded SQLite database; a PostgreSQL hall is backed up by "
            "pgBackRest (docs/backup.md) (PostgreSQL 数据库请用 pgBackRest 备份，见 docs/backup.md)"
        )
    return Path(engine.url.database)


def _name(moment: datetime) -> str:
    return f"wt-{moment:%Y%m%dT%H%M%S}Z.sqlite3"


def take(engine: Engine, folder: Path, moment: datetime) -> Path:
    """Copy the live database into ``folder`` (created 0700) as a not-yet-verified temporary file;
    returns its path. ``promote`` gives it its final name once verified."""
    source = database_path(engine)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = folder / f".{_name(moment)}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # private before a byte is in it
    os.close(fd)
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
        try:
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst, pages=4096)  # 16 MB a step: writers are let in between steps
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            finally:
                dst.close()
        finally:
            src.close()
        sync_path(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def promote(tmp: Path, moment: datetime) -> Path:
    final = tmp.with_name(_name(moment))
    os.replace(tmp, final)
    sync_path(final.parent)
    return final


def copies(folder: Path) -> list[Copy]:
    """The copies in ``folder``, oldest first."""
    found = []
    for path in sorted(Path(folder).glob(PATTERN)):
        try:
            taken = datetime.strptime(path.name, "wt-%Y%m%dT%H%M%SZ.sqlite3")
        except ValueError:
            continue
        found.append(Copy(path, taken, path.stat().st_size))
    return found


def rotate(folder: Path, keep: int) -> list[Path]:
    """Remove the oldest copies beyond ``keep``; returns what was removed."""
    old = copies(folder)[:-keep] if keep > 0 else []
    for copy in old:
        copy.path.unlink(missing_ok=True)
    return [c.path for c in old]


def put_back(copy: Path, target: Path, moment: datetime) -> Path | None:
    """Replace the database file ``target`` by ``copy``; the file it replaces (and its -wal/-shm) is
    kept beside it as ``*.replaced-<time>`` (evidence, and a way back). Returns that file's path."""
    target.parent.mkdir(parents=True, exist_ok=True)
    stamp = f"{moment:%Y%m%dT%H%M%S}Z"
    kept = None
    if target.exists():
        kept = target.with_name(f"{target.name}.replaced-{stamp}")
        os.replace(target, kept)
    for suffix in ("-wal", "-shm", "-journal"):
        side = target.with_name(target.name + suffix)
        if side.exists():
            os.replace(side, target.with_name(f"{target.name}{suffix}.replaced-{stamp}"))
    tmp = target.with_name(f".{target.name}.restoring")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out, open(copy, "rb") as src:
        while chunk := src.read(1 << 20):
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, target)
    sync_path(target.parent)
    return kept
