"""`wt db backup`, `wt db backups`, `wt db restore`, `wt db check`: the hall's backups and its file's
health (see core/backups.py and db/storage.py for SQLite, db/pgbackrest.py for PostgreSQL, and
docs/backup.md).

They act as the OS user who owns the database (the hall's administrator, or the backup timer), not as
a signed-in staff member: a backup runs when nobody is signed in.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

_TIME_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


def register(app: typer.Typer) -> None:
    from window_terminal.commands import shared_group

    db_app = shared_group(app, "db", "The database: migrations.")

    @db_app.command("backup")
    def backup_cmd(
        ctx: typer.Context,
        to: Path = typer.Option(None, "--to", help="SQLite: folder for the copies (default: backup_dir)."),
        keep: int = typer.Option(14, "--keep", help="SQLite: copies to keep; older ones are removed."),
        kind: str = typer.Option("incr", "--kind", help="PostgreSQL: full, diff or incr (pgBackRest)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Back up the hall's database. SQLite: a copy taken while the hall works, verified (SQLite's
        integrity check and every hall's audit chain), the newest --keep kept. PostgreSQL: a pgBackRest
        base backup into every repository of the stanza (the WAL is archived continuously)."""
        from window_terminal.cli import emit, run

        def go(c: Any) -> dict[str, Any]:
            if _on_postgresql(c):
                from window_terminal.db import pgbackrest

                s = c.settings
                return pgbackrest.backup(s.pgbackrest_stanza, s.pgbackrest_config, kind=kind)
            from window_terminal.core.backups import backup

            return backup(c.engine(), _folder(c, to), keep=keep)

        result = run(ctx, go)
        emit(result, as_json, lambda r: typer.echo(_said_pg_backup(r) if "stanza" in r else _said_backup(r)))

    @db_app.command("backups")
    def backups_cmd(
        ctx: typer.Context,
        folder: Path = typer.Option(None, "--in", help="SQLite: folder of the copies (default: backup_dir)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """The backups kept, newest first (PostgreSQL: pgBackRest's, with the archived WAL)."""
        from window_terminal.cli import emit, run

        def go(c: Any) -> Any:
            if _on_postgresql(c):
                from window_terminal.db import pgbackrest

                return pgbackrest.info(c.settings.pgbackrest_stanza, c.settings.pgbackrest_config)
            from window_terminal.core.backups import listing

            return listing(_folder(c, folder))

        found = run(ctx, go)
        emit(
            found, as_json, lambda r: typer.echo(_said_pg_info(r) if isinstance(r, dict) else _said_copies(r))
        )

    @db_app.command("restore")
    def restore_cmd(
        ctx: typer.Context,
        source: Path = typer.Option(
            None, "--from", help="SQLite: the copy (default: the newest that verifies)."
        ),
        folder: Path = typer.Option(None, "--in", help="SQLite: folder of the copies (default: backup_dir)."),
        until: datetime = typer.Option(
            None,
            "--to",
            formats=_TIME_FORMATS,
            help="PostgreSQL: the moment, hall's local time (default: the last).",
        ),
        pg_data: Path = typer.Option(None, "--pg-data", help="PostgreSQL: the stopped server's data folder."),
        repo: int = typer.Option(
            None, "--repo", help="PostgreSQL: the pgBackRest repository (2: the other host's)."
        ),
        yes: bool = typer.Option(False, "--yes", help="Do it: every screen and command on it is stopped."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """SQLite: replace the database file by a verified copy (the file replaced is kept beside it);
        what was committed after the copy is lost. PostgreSQL: put the stopped server's data back as it
        was at --to, to the second, from pgBackRest. Stop every screen and command first."""
        from window_terminal.cli import emit, fail, run

        if not yes:
            raise fail(
                "wt db restore replaces the hall's database: stop every screen and command on it, then run it "
                "again with --yes (恢复会替换数据库：请先关闭所有使用它的界面和命令，再加 --yes 运行)"
            )

        def go(c: Any) -> dict[str, Any]:
            if _on_postgresql(c):
                return _restore_postgresql(c, pg_data, until, repo)
            from window_terminal.core.backups import restore

            return restore(c.engine(check_schema=False), _folder(c, folder), source)

        result = run(ctx, go)
        emit(
            result, as_json, lambda r: typer.echo(_said_pg_restore(r) if "stanza" in r else _said_restore(r))
        )

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


def _folder(c: Any, given: Path | None) -> Path:
    return Path(given) if given else c.settings.backup_path


def _on_postgresql(c: Any) -> bool:
    return str(c.settings.database_url).startswith("postgresql")


def _restore_postgresql(
    c: Any, pg_data: Path | None, until: datetime | None, repo: int | None
) -> dict[str, Any]:
    from window_terminal.db import pgbackrest
    from window_terminal.db.clock import zone

    if pg_data is None:
        raise ValueError(
            "--pg-data is missing: name the stopped server's data folder, e.g. --pg-data "
            "/var/lib/postgresql/15/main (请用 --pg-data 指定已停止的数据库的数据目录)"
        )
    to = None
    if until is not None:  # the hall's local time → naive UTC, as the database clock keeps it
        timezone = c.settings.extra.get("timezone", "Asia/Shanghai")
        to = until.replace(tzinfo=zone(timezone)).astimezone(UTC).replace(tzinfo=None)
    s = c.settings
    return pgbackrest.restore(s.pgbackrest_stanza, s.pgbackrest_config, pg_data, to=to, repo=repo)


def _said_backup(r: dict[str, Any]) -> str:
    halls = ", ".join(f"{code} {h['events']} events" for code, h in r["halls"].items())
    removed = f"; removed {len(r['removed'])} older" if r["removed"] else ""
    return f"{r['path']}  {r['size']:,} bytes, verified ({halls}){removed}"


def _said_copies(rows: list[dict[str, Any]]) -> str:
    return "\n".join(f"{r['taken_at']}  {r['size']:>12,}  {r['path']}" for r in rows) or "-"


def _said_restore(r: dict[str, Any]) -> str:
    halls = ", ".join(f"{code} {h['events']} events" for code, h in r["halls"].items())
    kept = (
        f"; the replaced file is kept as {r['replaced_file_kept_as']}" if r["replaced_file_kept_as"] else ""
    )
    return f"restored {r['restored_to']} from {r['path']} (taken {r['taken_at']}; {halls}){kept}"


def _said_pg_backup(r: dict[str, Any]) -> str:
    new = ", ".join(f"{b['label']} ({b['type']}, repo {b['repo']})" for b in r["new"]) or "none"
    return f"pgBackRest stanza {r['stanza']}: new backups {new}; {len(r['backups'])} kept"


def _said_pg_info(r: dict[str, Any]) -> str:
    lines = [f"stanza {r['stanza']}: {r['status']}"]
    lines += [f"  {b['stopped']}  {b['type']:<4}  repo {b['repo']}  {b['label']}" for b in r["backups"]]
    lines += [f"  WAL archived {a['min']} … {a['max']}" for a in r["archive"]]
    return "\n".join(lines)


def _said_pg_restore(r: dict[str, Any]) -> str:
    to = r["to"] or "the end of the archived WAL"
    return (
        f"restored {r['pg_data']} to {to} (stanza {r['stanza']}); start the server: it promotes itself there"
    )
