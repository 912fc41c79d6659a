"""Backups of the embedded hall database that are proven before they count, and put back on request.

    backup(engine, folder, keep=14)   a copy taken online, verified, named by time, the oldest rotated
    verify(path)                      SQLite's integrity_check and every hall's audit chain on a copy
    restore(engine, copy)             the damaged or lost file replaced by a verified copy

A copy counts only once SQLite finds every page and index sound (``integrity_check``) and every hall's
event log verifies (``core.audit.verify_chain``): a backup that cannot be restored is worse than none,
because it is believed. A copy that fails is removed and the failure raised.

What a restore loses is what was committed after the copy was taken: the loss window is the time since
the last copy (a scheduled backup every hour bounds it to an hour; docs/backup.md). PostgreSQL halls
are backed up continuously by pgBackRest instead (to the second).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from window_terminal.core.audit import verify_chain
from window_terminal.db import backup as copies
from window_terminal.db.clock import db_now
from window_terminal.db.engine import make_engine, read_session
from window_terminal.db.models import Hall
from window_terminal.db.storage import StorageFault, check_integrity, clear_marks
from window_terminal.errors import DomainError

DEFAULT_KEEP = 14


@dataclass(frozen=True)
class Verified:
    path: Path
    halls: dict[str, tuple[int, str]]  # hall code → (events, head hash)

    @property
    def events(self) -> int:
        return sum(n for n, _ in self.halls.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "events": self.events,
            "halls": {code: {"events": n, "head": head} for code, (n, head) in self.halls.items()},
        }


def verify(path: Path) -> Verified:
    """Prove a copy sound: SQLite's full ``integrity_check``, then each hall's audit chain.

    ``DomainError`` (code ``backup_bad``) names what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise DomainError(
            f"备份文件不存在：{path}（wt db backups 列出可用备份）",
            f"no backup file at {path} (`wt db backups` lists them)",
            code="backup_bad",
        )
    engine = make_engine(f"sqlite:///{path}")
    try:
        try:
            check_integrity(engine, full=True)
        except StorageFault as exc:
            raise DomainError(
                f"备份 {path.name} 已损坏：{exc.zh}",
                f"the backup {path.name} is damaged: {exc.en}",
                code="backup_bad",
            ) from exc
        with read_session(engine) as s:
            halls = s.execute(select(Hall.id, Hall.code).order_by(Hall.id)).all()
        found: dict[str, tuple[int, str]] = {}
        for hall_id, code in halls:
            report = verify_chain(engine, hall_id)
            if not report.intact:
                raise DomainError(
                    f"备份 {path.name} 的事件日志不完整：{report.text('zh')}",
                    f"the backup {path.name} fails the audit: {report.text('en')}",
                    code="backup_bad",
                )
            found[code] = (report.checked, report.head_hash)
        return Verified(path, found)
    finally:
        engine.dispose()


def backup(engine: Engine, folder: Path, *, keep: int = DEFAULT_KEEP) -> dict[str, Any]:
    """Copy the live database into ``folder``, verify the copy, keep the newest ``keep`` copies."""
    if keep < 1:
        raise DomainError("--keep 至少为 1", "--keep must be at least 1", code="bad_input")
    check_integrity(engine)  # never copy a damaged file over the good copies (rotation would drop them)
    with read_session(engine) as s:
        moment = db_now(s)
    tmp = copies.take(engine, Path(folder), moment)
    try:
        verified = verify(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    final = copies.promote(tmp, moment)
    removed = copies.rotate(Path(folder), keep)
    return {
        **Verified(final, verified.halls).as_dict(),
        "taken_at": moment.isoformat(timespec="seconds") + "Z",
        "size": final.stat().st_size,
        "removed": [str(p) for p in removed],
    }


def listing(folder: Path) -> list[dict[str, Any]]:
    return [
        {"path": str(c.path), "taken_at": c.taken_at.isoformat() + "Z", "size": c.size}
        for c in reversed(copies.copies(Path(folder)))
    ]


def restore(engine: Engine, folder: Path, copy: Path | None = None) -> dict[str, Any]:
    """Put ``copy`` (default: the newest copy in ``folder`` that verifies) in place of the live file.

    Every screen and command on this database must be stopped first: a process still holding the old
    file would go on writing into it. The file replaced is kept beside it (``*.replaced-…``)."""
    target = copies.database_path(engine)
    engine.dispose()
    candidates = [Path(copy)] if copy is not None else [c.path for c in reversed(copies.copies(Path(folder)))]
    if not candidates:
        raise DomainError(
            f"{folder} 中没有备份：请用 --from 指定备份文件",
            f"no backups in {folder}: name one with --from",
            code="backup_bad",
        )
    refused: list[str] = []
    for candidate in candidates:
        try:
            verified = verify(candidate)
        except DomainError as exc:
            if copy is not None:
                raise
            refused.append(exc.en)
            continue
        taken = next((c.taken_at for c in copies.copies(candidate.parent) if c.path == candidate), None)
        # the damaged database has no clock to ask: the replaced file is stamped by this PC's (a name only)
        kept = copies.put_back(candidate, target, datetime.now(UTC).replace(tzinfo=None))
        clear_marks(engine)  # what was noted of the replaced file is not true of this one
        return {
            **verified.as_dict(),
            "restored_to": str(target),
            "taken_at": taken.isoformat() + "Z" if taken else None,
            "replaced_file_kept_as": str(kept) if kept else None,
            "skipped_bad_copies": refused,
        }
    raise DomainError(
        "没有一份备份通过校验：" + "；".join(refused),
        "no backup passes verification: " + "; ".join(refused),
        code="backup_bad",
    )
