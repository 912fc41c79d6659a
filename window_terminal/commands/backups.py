"""`wt db backup`, `wt db backups`, `wt db restore`, `wt db check`: the embedded hall's copies and its
file's health (see core/backups.py, db/storage.py, docs/backup.md).

They act as the OS user who owns the database file (the hall's administrator, or the backup timer),
not as a signed-in staff member: a backup runs when nobody is signed in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer


def register(app: typer.Typer) -> None:
    from window_terminal.commands import shared_group

    db_app = shared_group(app, "db", "The database: migrations.")

    def folder_of(c: Any, to: Path | None) -> Path:
        return Path(to) if to else c.settings.backup_path

    @db_app.command("backup")
    def backup_cmd(
        ctx: typer.Context,
        to: Path = typer.Option(
            None, "--to", help="Folder for the copies (default: backup_dir / WT_BACKUP_DIR)."
        ),
        keep: int = typer.Option(14, "--keep", help="How many copies to keep; older ones are removed."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Copy the embedded (SQLite) database while the hall works, verify the copy (SQLite's
        integrity check and every hall's audit chain), keep the newest --keep copies."""
        from window_terminal.cli import emit, run

        def go(c: Any) -> dict[str, Any]:
            from window_terminal.core.backups import backup

            return backup(c.engine(), folder_of(c, to), keep=keep)

        result = run(ctx, go)
        emit(result, as_json, lambda r: typer.echo(_said_backup(r)))

    @db_app.command("backups")
    def backups_cmd(
        ctx: typer.Context,
        to: Path = typer.Option(
            None, "--to", help="Folder of the copies (default: backup_dir / WT_BACKUP_DIR)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """The copies kept, newest first."""
        from window_terminal.cli import _ctx, emit
        from window_terminal.core.backups import listing

        rows = listing(folder_of(_ctx(ctx), to))
        emit(
            rows,
            as_json,
            lambda rs: typer.echo(
                "\n".join(f"{r['taken_at']}  {r['size']:>12,}  {r['path']}" for r in rs) or "-"
            ),
        )

    @db_app.command("restore")
    def restore_cmd(
        ctx: typer.Context,
        source: Path = typer.Option(
            None, "--from", help="The copy to restore (default: the newest that verifies)."
        ),
        to: Path = typer.Option(
            None, "--to", help="Folder of the copies (default: backup_dir / WT_BACKUP_DIR)."
        ),
        yes: bool = typer.Option(
            False, "--yes", help="Do it: every screen and command on this database is stopped."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Replace the database file by a verified copy (the file replaced is kept beside it). Stop every
        screen and command on this database first; what was committed after the copy is lost."""
        from window_terminal.cli import emit, fail, run

        if not yes:
            raise fail(
                "wt db restore replaces the database file: stop every screen and command on it, then run it "
                "again with --yes (恢复会替换数据库文件：请先关闭所有使用它的界面和命令，再加 --yes 运行)"
            )

        def go(c: Any) -> dict[str, Any]:
            from window_terminal.core.backups import restore

            return restore(c.engine(check_schema=False), folder_of(c, to), source)

        result = run(ctx, go)
        emit(result, as_json, lambda r: typer.echo(_said_restore(r)))

    @db_app.command("check")
    def check_cmd(
        ctx: typer.Context,
        full: bool = typer.Option(False, "--full", help="Also check every index against its table (slower)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Is the database file sound? Exit 2 naming the damage and the restore command when not."""
        from window_terminal.cli import emit, run

        def go(c: Any) -> dict[str, Any]:
            from window_terminal.db.storage import check_integrity, clear_marks

            engine = c.engine(check_schema=False)
            check_integrity(engine, full=full)
            clear_marks(engine)  # sound: a damage noted earlier (say, before a repair) is forgotten
            return {"database": engine.url.render_as_string(hide_password=True), "ok": True, "full": full}

        result = run(ctx, go)
        emit(result, as_json, lambda r: typer.echo(f"{r['database']}: ok"))


def _said_backup(r: dict[str, Any]) -> str:
    halls = ", ".join(f"{code} {h['events']} events" for code, h in r["halls"].items())
    removed = f"; removed {len(r['removed'])} older" if r["removed"] else ""
    return f"{r['path']}  {r['size']:,} bytes, verified ({halls}){removed}"


def _said_restore(r: dict[str, Any]) -> str:
    halls = ", ".join(f"{code} {h['events']} events" for code, h in r["halls"].items())
    kept = (
        f"; the replaced file is kept as {r['replaced_file_kept_as']}" if r["replaced_file_kept_as"] else ""
    )
    return f"restored {r['restored_to']} from {r['path']} (taken {r['taken_at']}; {halls}){kept}"
