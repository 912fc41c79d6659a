"""`wt appointment book|list|cancel|import`: the hall's bookings (rules in core/appointments.py)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""
    from window_terminal.commands import shared_group

    appointment_app = shared_group(
        app, "appointment", "Appointments: book a slot, list a day, cancel, import the platform's CSV."
    )

    @appointment_app.command("book")
    def book_cmd(
        ctx: typer.Context,
        line: str = typer.Argument(..., help="Line code, e.g. BIZ (see `wt queue status`)."),
        day: str = typer.Option(..., "--date", help="Day of the slot, e.g. 2026-12-07."),
        at: str = typer.Option(..., "--at", help="Start of the slot, local time, e.g. 09:30."),
        name: str = typer.Option("", "--name", help="Applicant's name."),
        phone: str = typer.Option("", "--phone", help="Applicant's mobile, for the reminder."),
        request_id: str = typer.Option(None, "--request-id", help="Idempotency key."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Book a slot; prints the check-in code for the kiosk."""
        from window_terminal.cli import emit, run
        from window_terminal.core import appointments
        from window_terminal.i18n import tr

        def go(c):
            slot_day, start = appointments.parse_slot(day, at)
            booking = appointments.Booking(line, slot_day, start, name, phone)
            return appointments.book(
                c.engine(), c.hall().id, booking, source="cli", actor=c.actor(), request_id=request_id
            )

        result = run(ctx, go)
        emit(
            result,
            as_json,
            lambda r: typer.echo(
                tr(
                    f"已预约 {r['line']} {r['slot']}，签到码 {r['code']}（到自助取号机“预约签到”输入）",
                    f"booked {r['line']} {r['slot']}; check-in code {r['code']} (type it at the kiosk)",
                )
            ),
        )

    @appointment_app.command("list")
    def list_cmd(
        ctx: typer.Context,
        day: str = typer.Option(None, "--date", help="The day (default: today)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """A day's bookings by slot, with their state (booked, checked in, cancelled, no-show)."""
        from rich.console import Console
        from rich.table import Table

        from window_terminal.cli import emit, run
        from window_terminal.core import appointments
        from window_terminal.i18n import tr

        def go(c):
            wanted = appointments.parse_slot(day, "00:00")[0] if day else None
            return appointments.list_day(c.engine(), c.hall().id, wanted)

        rows = run(ctx, go)

        def show(rows):
            table = Table()
            for zh, en in (
                ("时段", "Slot"),
                ("业务线", "Line"),
                ("预约码", "Code"),
                ("姓名", "Name"),
                ("手机", "Phone"),
                ("状态", "State"),
                ("号码", "Ticket"),
            ):
                table.add_column(tr(zh, en))
            for r in rows:
                table.add_row(
                    r["slot"],
                    r["line"],
                    r["code"],
                    r["name"],
                    r["phone"],
                    tr(*appointments.STATE_WORDS[r["state"]]),
                    r["ticket"],
                )
            Console().print(table if rows else tr("当天没有预约", "no bookings that day"))

        emit(rows, as_json, show)

    @appointment_app.command("cancel")
    def cancel_cmd(
        ctx: typer.Context,
        code: str = typer.Argument(..., help="The booking's check-in code."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Cancel a booking that is not checked in; its slot frees."""
        from window_terminal.cli import emit, run
        from window_terminal.core import appointments
        from window_terminal.i18n import tr

        result = run(ctx, lambda c: appointments.cancel(c.engine(), c.hall().id, code, actor=c.actor()))
        emit(
            result,
            as_json,
            lambda r: typer.echo(tr(f"预约 {r['code']} 已取消", f"appointment {r['code']} cancelled")),
        )

    @appointment_app.command("import")
    def import_cmd(
        ctx: typer.Context,
        path: Path = typer.Argument(..., help="CSV exported by the provincial booking platform."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Import a day's bookings (columns 预约号, 姓名, 手机号, 业务线, 预约日期, 开始时间). All or nothing."""
        from window_terminal.cli import emit, fail, run
        from window_terminal.core import appointments
        from window_terminal.i18n import tr

        if not path.is_file():
            raise fail(tr(f"找不到文件 {path}", f"no file {path}"))
        done = run(ctx, lambda c: appointments.import_csv(c.engine(), c.hall().id, path, actor=c.actor()))
        emit(
            done, as_json, lambda d: typer.echo(tr(f"已导入 {len(d)} 个预约", f"imported {len(d)} bookings"))
        )
