"""The hall's database file as storage: a damaged file or a full disk named, never taken for a lost link.

SQLite reports trouble with the file itself by its own error codes: ``SQLITE_CORRUPT`` (a page is not
what SQLite wrote), ``SQLITE_NOTADB`` (the header is gone: a truncated or overwritten file),
``SQLITE_FULL`` (the disk, or the file's size limit, is full) and ``SQLITE_IOERR`` (the disk failed a
read or a write). None of them passes by waiting, so they must not be retried as a dead link is; and a
damaged file must not be written to, or every commit buries the damage deeper.

``storage_fault`` turns such an error into a :class:`StorageFault` whose words name the problem and
the fix (restore from a backup with `wt db restore`; free disk space). Every SQLite engine raises it in
place of the driver's error (``install``), so the CLI exits 2 with it, a screen shows it inline, and the
retry rule (``db.retry.configuration_problem``) knows that waiting will not fix it.

``check_integrity`` runs SQLite's own check (``PRAGMA quick_check`` or the full ``integrity_check``):
at the start of every command and screen (``db.migrate.ensure_current``), and on every backup
(``db.backup``). A file that fails it is refused for writing and reading alike, with the restore command.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text

from window_terminal.db.engine import DatabaseError, is_sqlite

RESTORE_HINT_ZH = "请从备份恢复：wt db restore（wt db backups 列出可用备份）"
RESTORE_HINT_EN = "restore it from a backup: `wt db restore` (`wt db backups` lists them)"


class StorageFault(DatabaseError):
    """The database's storage failed (damaged file, full disk, I/O error): waiting will not fix it."""

    def __init__(self, kind: str, zh: str, en: str) -> None:
        super().__init__(f"{en} ({zh})")
        self.kind = kind  # "damaged" | "full" | "io"
        self.zh = zh
        self.en = en

    def text(self, language: str = "zh") -> str:
        return self.zh if language == "zh" else self.en


def damaged(where: str, detail: str) -> StorageFault:
    return StorageFault(
        "damaged",
        f"数据库文件已损坏（{where}：{detail}），已停止写入。{RESTORE_HINT_ZH}",
        f"the database file is damaged ({where}: {detail}); nothing more is written to it. {RESTORE_HINT_EN}",
    )


def disk_full(where: str) -> StorageFault:
    return StorageFault(
        "full",
        f"磁盘已满（{where}），本次操作未写入任何内容。请清理磁盘空间后再试",
        f"the disk is full ({where}): nothing of this action was written. Free disk space, then try again",
    )


def io_error(where: str, detail: str) -> StorageFault:
    return StorageFault(
        "io",
        f"磁盘读写失败（{where}：{detail}），本次操作未写入任何内容。请检查磁盘；如文件已损坏，{RESTORE_HINT_ZH}",
        f"the disk failed a read or write ({where}: {detail}): nothing of this action was written. Check the "
        f"disk; if the file is damaged, {RESTORE_HINT_EN}",
    )


def storage_fault(exc: BaseException, where: str = "") -> StorageFault | None:
    """The :class:`StorageFault` that ``exc`` (or an error it wraps) stands for; None for anything else.

    ``where`` is the database file's path (it names the file, and its folder's free space tells a full
    disk from a failing one)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, StorageFault):
            return seen
        name = getattr(seen, "sqlite_errorname", None)
        if isinstance(name, str):
            detail = str(seen)
            if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
                return damaged(where, detail)
            if name.startswith("SQLITE_FULL"):
                return disk_full(where)
            if name.startswith("SQLITE_IOERR"):
                # a write that found no room comes back as an I/O error (ENOSPC is not kept): the
                # filesystem's free space tells a full disk from a failing one
                return disk_full(where) if _nearly_full(where) else io_error(where, detail)
            return None
        seen = getattr(seen, "orig", None) or seen.__cause__
    return None


CHEAP_CHECK_S = 0.05  # a quick_check faster than this runs on every command (see ensure_sound)
CHECK_EVERY_S = 600  # a slower one, once sound, is trusted this long
FULL_BELOW_BYTES = 1 << 20  # less free space than this, and a failed write is a full disk


def _nearly_full(where: str) -> bool:
    folder = os.path.dirname(os.path.abspath(where)) if where else "."
    try:
        found = os.statvfs(folder)
    except OSError:
        return False
    return found.f_bavail * found.f_frsize < FULL_BELOW_BYTES


def _where(engine: Engine) -> str:
    return engine.url.database or "the database file"


def _marker(where: str, name: str) -> Path:
    return Path(f"{where}-{name}")


def sync_path(path: Path) -> None:
    """fsync a file or a folder (a folder: the names in it, so a rename survives a power cut)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.utime(path)  # its time is the note's


def _mark_damaged(where: str, fault: StorageFault) -> None:
    """Note beside the file that it was found damaged: every later command refuses it at once (a
    check takes time on a big file), until a restore or a full check that passes clears the note."""
    try:
        _write(_marker(where, "damaged"), fault.en)
    except OSError:
        pass  # a disk that cannot take the note still refuses by the fault itself


def install(engine: Engine) -> None:
    """Make ``engine`` (SQLite) raise :class:`StorageFault` in place of a storage error, and remember a
    damaged file as such."""
    where = _where(engine)

    @event.listens_for(engine, "handle_error")
    def _storage(context: Any) -> None:
        fault = storage_fault(context.original_exception, where)
        if fault is not None:
            if fault.kind == "damaged":
                _mark_damaged(where, fault)
            raise fault from context.original_exception


def _sound_recently(where: str) -> bool:
    """A sound check noted beside the file that may stand in for a new one: only a slow check (a big
    file) is trusted, and only for ``CHECK_EVERY_S``."""
    noted = _marker(where, "checked")
    try:
        took = float(noted.read_text(encoding="utf-8") or "0")
        age = time.time() - noted.stat().st_mtime
    except (OSError, ValueError):
        return False
    return took >= CHEAP_CHECK_S and age < CHECK_EVERY_S


def ensure_sound(engine: Engine) -> None:
    """At the start of every command and screen: refuse a file known to be damaged, and check it
    (``quick_check``: every page read and its structure checked).

    The check costs about 8 ms a service day of a busy hall's data: a month's file is checked on
    every command; a year's (about 2 s) at most every ``CHECK_EVERY_S``, the time of the last sound
    check noted beside the file (``<file>-checked``). Damage that any statement meets in between is
    refused at once by SQLite itself (``install``), and noted (``<file>-damaged``) so that every later
    command refuses before reading anything, until a restore or a full check that passes."""
    if not is_sqlite(engine):
        return
    where = _where(engine)
    noted = _marker(where, "damaged")
    if noted.exists():
        detail = noted.read_text(encoding="utf-8", errors="replace").strip()[:300]
        raise damaged(where, f"found damaged earlier: {detail}")
    if _sound_recently(where):
        return
    started = time.monotonic()
    check_integrity(engine)
    _note_sound(where, time.monotonic() - started)


def _note_sound(where: str, took: float) -> None:
    try:
        _write(_marker(where, "checked"), f"{took:.3f}")
    except OSError:
        pass  # a full disk: the next command checks again


def clear_marks(engine: Engine) -> None:
    """After a restore, or a full check that passed: forget what was noted about the old file."""
    where = _where(engine)
    for name in ("damaged", "checked"):
        _marker(where, name).unlink(missing_ok=True)


def check_integrity(engine: Engine, *, full: bool = False) -> None:
    """Raise :class:`StorageFault` unless SQLite finds the file sound (PostgreSQL: nothing to do here;
    its pages carry checksums and its own tools check them).

    ``quick_check`` reads every page and checks its structure (a flipped byte in a page, a truncated
    file); ``integrity_check`` also checks every index against its table: slower, run on backups."""
    if not is_sqlite(engine):
        return
    pragma = "integrity_check" if full else "quick_check"
    try:
        with engine.connect() as connection:
            rows = [str(r[0]) for r in connection.execute(text(f"PRAGMA {pragma}(5)"))]
    except StorageFault:
        raise
    except Exception as exc:  # a file so damaged that the check itself cannot start
        raise damaged(_where(engine), str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
    if rows != ["ok"]:
        fault = damaged(_where(engine), "; ".join(rows)[:300])
        _mark_damaged(_where(engine), fault)
        raise fault
