"""`wt audit` (who did what, filtered; table / JSON / CSV), `wt audit verify` (the hash chain) and
`wt db roles` (least-privilege PostgreSQL roles). The rules are in core/audit.py and db/roles.py."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

audit_app = typer.Typer(
    help="The audit trail: list who did what (filtered), verify the event log's hash chain.",
    invoke_without_command=True,
)
FORMATS = ("table", "json", "csv")


def _moment(value: str | None, option: str, tz: str) -> datetime | None:
    """A local date or date-time the person typed → naive UTC (the database's time)."""
    from datetime import UTC

    from window_terminal.cli import fail
    from window_terminal.db.clock import zone

    if value is None:
        return None
    try:
        local = datetime.fromisoformat(value.strip().replace("/", "-"))
    except ValueError:
        raise fail(
            f"{option} {value!r}：时间无效，请写成 YYYY-MM-DD 或 'YYYY-MM-DD HH:MM'（大厅当地时间）/ "
            f"not a valid time; write YYYY-MM-DD or 'YYYY-MM-DD HH:MM' (the hall's local time)"
        ) from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=zone(tz))
    return local.astimezone(UTC).replace(tzinfo=None)


def _csv_text(rows: list[Any]) -> str:
    from window_terminal.core.audit import COLUMNS, payload_cell

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in rows:
        d = row.as_dict()
        d["payload"] = payload_cell(d["payload"])
        writer.writerow([d[c] if d[c] is not None else "" for c in COLUMNS])
    return buffer.getvalue()


# shown in their own columns, or repeated in the call text: left out of the table's payload cell
_TABLE_SKIPS = ("window", "ticket_id", "text")


def _payload_summary(payload: dict[str, Any]) -> str:
    """``number=A001 line=BIZ …``: the payload's values a person scans for, on as few lines as fit."""
    from window_terminal.core.audit import payload_cell

    parts = []
    for key, value in payload.items():
        if key in _TABLE_SKIPS:
            continue
        shown = value if isinstance(value, str | int | float) else payload_cell(value)
        parts.append(f"{key}={shown}")
    return " ".join(parts)


def _table(rows: list[Any], tz: str, language: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from window_terminal.db.clock import to_local

    en = language == "en"
    console = Console()
    when = "%Y-%m-%d %H:%M:%S" if console.width >= 110 else "%m-%d %H:%M:%S"
    table = Table(show_lines=False, expand=True)
    # everything but the payload on one line; the payload folds in what is left
    for zh, english in (("序号", "seq"), ("时间", "time"), ("事件", "event"), ("操作人", "actor"),
                        ("窗口", "window")):  # fmt: skip
        table.add_column(english if en else zh, no_wrap=True)
    table.add_column("payload" if en else "内容", overflow="fold", ratio=1)
    for row in rows:
        table.add_row(
            str(row.seq),
            f"{to_local(row.at, tz):{when}}",
            row.kind,
            row.actor or ("(unknown)" if en else "（未记录）"),
            "" if row.window is None else str(row.window),
            _payload_summary(row.payload),
        )
    console.print(table)
    if not rows:
        typer.echo("no events match" if en else "没有符合条件的事件")


@audit_app.callback()
def audit_list(
    ctx: typer.Context,
    staff: str = typer.Option(None, "--staff", help="Only this staff member's actions (staff code)."),
    case: str = typer.Option(None, "--case", help="Only events of this case (case number or query code)."),
    ticket: str = typer.Option(None, "--ticket", help="Only events of this ticket (#id, or today's A001)."),
    window: str = typer.Option(None, "--window", "-w", help="Only events at this window (number)."),
    kind: list[str] = typer.Option(
        [], "--kind", "-k", help="Only this kind of event (repeatable); 'ticket.' for every ticket event."
    ),
    since: str = typer.Option(None, "--since", help="From this local time (YYYY-MM-DD[ HH:MM])."),
    until: str = typer.Option(None, "--until", help="Before this local time (YYYY-MM-DD[ HH:MM])."),
    fmt: str = typer.Option(
        "table", "--format", "-f", help="table, json or csv (UTF-8 with BOM, for Excel)."
    ),
    out: Path = typer.Option(None, "--out", "-o", help="Write to this file instead of the terminal."),
    limit: int = typer.Option(500, "--limit", help="At most this many events (the newest)."),
    personal: bool = typer.Option(
        False, "--include-personal-data", help="Show citizens' names, ID and phone numbers unmasked."
    ),
) -> None:
    """Who did what, where and when: the hall's events, filtered, oldest first."""
    if ctx.invoked_subcommand is not None:
        return
    from window_terminal.cli import Context, fail, run

    if fmt not in FORMATS:
        raise fail(f"--format {fmt!r}：请用 table、json 或 csv / use table, json or csv")

    def go(c: Context) -> None:
        from window_terminal.core.audit import AuditFilter, list_events

        engine = c.engine()
        hall = c.hall()
        tz = hall.timezone
        wanted = AuditFilter(
            staff=staff,
            case=case,
            ticket=ticket,
            window=window,
            kinds=tuple(kind),
            since=_moment(since, "--since", tz),
            until=_moment(until, "--until", tz),
            limit=limit,
        )
        rows = list_events(engine, hall.id, wanted, personal_data=personal)
        if fmt == "table" and out is None:
            _table(rows, tz, c.settings.language)
            return
        if fmt == "csv":
            data = "\ufeff" + _csv_text(rows)  # the BOM: Excel reads the file as UTF-8
        else:
            data = json.dumps([r.as_dict() for r in rows], ensure_ascii=False, indent=2) + "\n"
        if out is None:
            sys.stdout.write(data)
        else:
            out.write_text(data, encoding="utf-8", newline="")
            typer.echo(f"{out}: {len(rows)}")

    run(ctx, go)


@audit_app.command("verify")
def audit_verify(
    ctx: typer.Context,
    expect: str = typer.Option(
        None, "--expect", help="SEQ:HASH noted from an earlier verify: that event must be unchanged."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Check the event log's hash chain: exit 0 when intact, 1 naming every event altered, deleted or
    inserted."""
    from window_terminal.cli import Context, run

    def go(c: Context) -> int:
        from window_terminal.core.audit import parse_anchor, verify_chain

        anchor = parse_anchor(expect) if expect else None
        report = verify_chain(c.engine(), c.hall().id, expect=anchor)
        if as_json:
            problems = [
                {
                    "kind": p.kind,
                    "seq": p.seq,
                    "event_id": p.event_id,
                    "message": p.text(c.settings.language),
                }
                for p in report.problems
            ]
            typer.echo(
                json.dumps(
                    {
                        "hall": report.hall_code,
                        "intact": report.intact,
                        "checked": report.checked,
                        "counter": report.counter,
                        "head": f"{report.head_seq}:{report.head_hash}",  # one event's number and hash
                        "problem": problems[0] if problems else None,
                        "problems": problems,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            typer.echo(report.text(c.settings.language), err=not report.intact)
        return 0 if report.intact else 1

    code = run(ctx, go)
    if code:
        raise typer.Exit(code)


def db_roles(
    ctx: typer.Context,
    app_role: str = typer.Option("wt_counter", "--app-role", help="The role counter PCs connect as."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Set the role's password, read from standard input (one line)."
    ),
) -> None:
    """PostgreSQL: set up the counter PCs' least-privilege role (run as the administrator that owns
    the schema, after every `wt db upgrade`; safe to repeat)."""
    from window_terminal.cli import Context, run

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None

    def go(c: Context) -> None:
        from window_terminal.db.roles import setup_roles

        report = setup_roles(c.engine(), app_role, password=password)
        zh = c.settings.language == "zh"
        made = ("已创建" if zh else "created") if report.created else ("已存在" if zh else "exists")
        if zh:
            typer.echo(
                f"柜台角色 {report.app_role}（{made}）：可读写大厅数据，事件日志只能追加；"
                f"管理员（表的所有者）：{report.administrator}。"
                + ("已设置密码。" if report.password_set else "未设置密码（--password-stdin）。")
            )
        else:
            typer.echo(
                f"counter role {report.app_role} ({made}): reads and writes the hall's data, may only append "
                f"to the event log; administrator (owner of the tables): {report.administrator}. "
                + ("Password set." if report.password_set else "No password set (--password-stdin).")
            )

    run(ctx, go)


def register(app: typer.Typer) -> None:
    """Add `wt audit …` and `wt db roles`."""
    from window_terminal.cli import db_app

    app.add_typer(audit_app, name="audit")
    db_app.command("roles")(db_roles)
