"""`wt report …`: the supervisor's daily tallies and exports (figures in reports/queries.py)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import typer

report_app = typer.Typer(help="Supervisor reports: daily tallies, periods, overdue cases, clerks.")

FORMAT = typer.Option("table", "--format", "-f", help="table (terminal), csv, json, xlsx or pdf.")
AS_JSON = typer.Option(False, "--json", help="The same as --format json (every data command takes --json).")
OUT = typer.Option(
    None, "--out", "-o", help="File to write (needed for xlsx and pdf; csv/json print when left out)."
)
PERSONAL = typer.Option(
    False,
    "--include-personal-data",
    help="Show applicants' names and phone numbers unmasked (recorded in the audit trail).",
)


def _parse_day(value: str | None, option: str) -> date | None:
    from window_terminal.cli import fail

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(
            f"{option} {value!r}: 日期无效，请写成 YYYY-MM-DD，例如 2026-11-20 / "
            f"not a valid date; write it as YYYY-MM-DD, e.g. 2026-11-20"
        ) from None


def _check_output(fmt: str, out: Path | None) -> None:
    from window_terminal.cli import fail
    from window_terminal.core.reports.formats import FILE_FORMATS, FORMATS

    if fmt not in FORMATS:
        raise fail(f"--format {fmt!r}: 请用 {' | '.join(FORMATS)} / use one of {', '.join(FORMATS)}")
    if fmt in FILE_FORMATS and out is None:
        raise fail(
            f"--format {fmt} 需要 --out 文件名 / --format {fmt} needs --out FILE (e.g. --out day.{fmt})"
        )
    if out is None:
        return
    parent = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise fail(f"--out {out}: 这是一个文件夹，请给出文件名 / is a folder; give a file name")
    if not parent.is_dir():
        raise fail(
            f"--out {out}: 文件夹 {parent} 不存在，请先创建 / folder {parent} does not exist; create it first"
        )
    if not os.access(parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise fail(f"--out {out}: 没有写入权限，请换一个位置 / cannot write there; choose another place")


def _record_personal_data(c: Any, report: str, fmt: str, out: Path | None, **extra: Any) -> None:
    from window_terminal.db.unit import run_command

    payload = {"report": report, "format": fmt, "out": str(out) if out else None, **extra}
    run_command(
        c.engine(),
        c.hall().id,
        "report.personal_data_exported",
        lambda u: u.emit("report.personal_data_exported", payload),
    )


def _produce(
    ctx: typer.Context, build, fmt: str, out: Path | None, personal: bool, name: str, extra: dict
) -> None:
    """Build the report (with a progress bar on stderr for file exports), audit, and write it."""
    from window_terminal.cli import fail, run

    def go(c: Any) -> Any:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        engine, hall = c.engine(), c.hall()
        if fmt == "table" and out is None:
            return build(engine, hall.id, None)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as bar:
            from window_terminal.core.reports.queries import REPORT_STEPS

            task = bar.add_task("统计中 / aggregating", total=REPORT_STEPS)
            report = build(engine, hall.id, lambda label: bar.update(task, advance=1, description=label))
            bar.update(task, completed=REPORT_STEPS)
        return report

    report = run(ctx, go)
    if personal:
        run(ctx, lambda c: _record_personal_data(c, name, fmt, out, **extra))
        report.personal_data = True
    from window_terminal.commands import report_tables
    from window_terminal.core.documents.errors import FontNotFound
    from window_terminal.core.reports import formats

    try:
        if fmt == "table":
            if out is None:
                report_tables.print_tables(report)
            else:
                from rich.console import Console

                with open(out, "w", encoding="utf-8") as fh:
                    Console(file=fh, width=200).print(report_tables.rich_tables(report))
        elif out is None:
            if fmt == "json":
                import json

                typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2, default=str))
            else:
                import sys
                import tempfile

                with tempfile.TemporaryDirectory() as tmp:
                    target = Path(tmp) / "report.csv"
                    formats.write_csv(report, target)
                    # as the file has it, BOM included: Excel on Chinese Windows reads UTF-8 only with it
                    sys.stdout.flush()
                    sys.stdout.buffer.write(target.read_bytes())
                    sys.stdout.buffer.flush()
        else:
            formats.write(report, fmt, out)
    except FontNotFound as exc:
        raise fail(
            "找不到可嵌入 PDF 的中文字体：请安装 fonts-wqy-microhei，或在配置 cjk_font / 环境变量 WT_CJK_FONT 中"
            f"指定 TrueType 字体 / no Chinese font to embed in the PDF: install fonts-wqy-microhei or set cjk_font "
            f"(WT_CJK_FONT) to a TrueType font ({exc})"
        ) from None
    except OSError as exc:
        raise fail(
            f"--out {out}: 无法写入（{exc.strerror}）/ cannot write the file ({exc.strerror})"
        ) from None
    if out is not None:
        typer.echo(f"{out}", err=True)


def register(app: typer.Typer) -> None:
    """Add `wt report …`."""
    app.add_typer(report_app, name="report")


@report_app.command("daily")
def report_daily(
    ctx: typer.Context,
    day: str = typer.Option(None, "--date", "-d", help="Service day YYYY-MM-DD (default: today)."),
    fmt: str = FORMAT,
    as_json: bool = AS_JSON,
    out: Path = OUT,
    personal: bool = PERSONAL,
) -> None:
    """One service day: queue figures by line, window, clerk and hour; case, deadline and rating figures."""
    the_day = _parse_day(day, "--date")
    fmt = "json" if as_json else fmt
    _check_output(fmt, out)

    def build(engine, hall_id, progress):
        from window_terminal.core.reports.queries import period_report

        d = the_day or _today(engine, hall_id)
        return period_report(engine, hall_id, d, d, kind="daily", progress=progress)

    _produce(ctx, build, fmt, out, personal, "daily", {"date": day})


@report_app.command("range")
def report_range(
    ctx: typer.Context,
    date_from: str = typer.Option(..., "--from", help="First service day YYYY-MM-DD."),
    date_to: str = typer.Option(..., "--to", help="Last service day YYYY-MM-DD (included)."),
    fmt: str = FORMAT,
    as_json: bool = AS_JSON,
    out: Path = OUT,
    personal: bool = PERSONAL,
) -> None:
    """A period of service days, both ends included: the same figures as `daily`."""
    from window_terminal.cli import fail

    d1 = _parse_day(date_from, "--from")
    d2 = _parse_day(date_to, "--to")
    assert d1 is not None and d2 is not None
    if d2 < d1:
        raise fail(
            f"--to {d2} 早于 --from {d1}：请交换两个日期 / the range ends ({d2}) before it starts ({d1}); swap them"
        )
    fmt = "json" if as_json else fmt
    _check_output(fmt, out)

    def build(engine, hall_id, progress):
        from window_terminal.core.reports.queries import period_report

        return period_report(engine, hall_id, d1, d2, kind="range", progress=progress)

    _produce(ctx, build, fmt, out, personal, "range", {"from": date_from, "to": date_to})


@report_app.command("month")
def report_month(
    ctx: typer.Context,
    month: str = typer.Option(None, "--month", "-m", help="Calendar month YYYY-MM (default: this month)."),
    fmt: str = FORMAT,
    as_json: bool = AS_JSON,
    out: Path = OUT,
    personal: bool = PERSONAL,
) -> None:
    """A calendar month: the same figures and headline indicators as `daily`, for every day of it."""
    from window_terminal.cli import fail

    first: date | None = None
    if month is not None:
        try:
            year, number = (int(part) for part in month.split("-"))
            first = date(year, number, 1)
        except ValueError:
            raise fail(
                f"--month {month!r}: 月份无效，请写成 YYYY-MM，例如 2026-11 / "
                f"not a valid month; write it as YYYY-MM, e.g. 2026-11"
            ) from None
    fmt = "json" if as_json else fmt
    _check_output(fmt, out)

    def build(engine, hall_id, progress):
        from window_terminal.core.reports.queries import month_period, period_report

        d1, d2 = month_period(first or _today(engine, hall_id))
        return period_report(engine, hall_id, d1, d2, kind="month", progress=progress)

    _produce(ctx, build, fmt, out, personal, "month", {"month": month})


@report_app.command("overdue")
def report_overdue(
    ctx: typer.Context, fmt: str = FORMAT, as_json: bool = AS_JSON, out: Path = OUT, personal: bool = PERSONAL
) -> None:
    """Cases and review tasks near (yellow) or past (red) their deadline, most urgent first."""
    fmt = "json" if as_json else fmt
    _check_output(fmt, out)

    def build(engine, hall_id, progress):
        from window_terminal.core.reports.queries import overdue_report

        return overdue_report(engine, hall_id, include_personal_data=personal)

    _produce(ctx, build, fmt, out, personal, "overdue", {})


@report_app.command("clerks")
def report_clerks(
    ctx: typer.Context,
    day: str = typer.Option(None, "--date", "-d", help="One service day (default: today)."),
    date_from: str = typer.Option(None, "--from", help="Or a period: first day."),
    date_to: str = typer.Option(None, "--to", help="Last day (included)."),
    fmt: str = FORMAT,
    as_json: bool = AS_JSON,
    out: Path = OUT,
    personal: bool = PERSONAL,
) -> None:
    """Per clerk: tickets, waiting and service times, cases accepted, ratings."""
    from window_terminal.cli import fail

    one = _parse_day(day, "--date")
    d1 = _parse_day(date_from, "--from")
    d2 = _parse_day(date_to, "--to")
    if one is not None and (d1 or d2):
        raise fail("--date 与 --from/--to 只能选一种 / give either --date or --from/--to, not both")
    if (d1 is None) != (d2 is None):
        raise fail("--from 与 --to 需要一起给出 / give both --from and --to")
    if d1 and d2 and d2 < d1:
        raise fail(
            f"--to {d2} 早于 --from {d1}：请交换两个日期 / the range ends ({d2}) before it starts ({d1}); swap them"
        )
    fmt = "json" if as_json else fmt
    _check_output(fmt, out)

    def build(engine, hall_id, progress):
        from window_terminal.core.reports.queries import clerk_report

        start = d1 or one or _today(engine, hall_id)
        return clerk_report(engine, hall_id, start, d2 or start)

    _produce(ctx, build, fmt, out, personal, "clerks", {"from": str(d1 or one), "to": str(d2 or one)})


def _today(engine: Any, hall_id: int) -> date:
    from window_terminal.db import clock
    from window_terminal.db.engine import read_session
    from window_terminal.db.models import Hall

    with read_session(engine) as session:
        hall = session.get(Hall, hall_id)
        assert hall is not None
        return clock.local_day(clock.db_now(session), hall.timezone)
