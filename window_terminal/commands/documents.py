"""`wt doc show|print|pdf|list` (stored documents) and `wt case status CODE` (query by code)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import typer

from window_terminal.commands import shared_group


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""
    from window_terminal.cli import JSON

    doc_app = typer.Typer(help="Documents (notices, tickets): show, print, save as PDF, list.")
    app.add_typer(doc_app, name="doc")
    case_app = shared_group(app, "case", "Cases: status, look-up, visits, documents, result hand-over.")

    @doc_app.command("show")
    def doc_show(
        ctx: typer.Context,
        number: str = typer.Argument(..., help="Document number, e.g. JINJ-SL-20261121-0007."),
        as_json: bool = JSON,
    ) -> None:
        """Show a document exactly as issued (its frozen snapshot) as text."""
        from window_terminal.cli import Context, emit, run

        def go(c: Context) -> None:
            from window_terminal.core.documents import document_text
            from window_terminal.core.documents.printing import document_info

            info = document_info(c.engine(), c.hall().id, number)
            emit(info, as_json, lambda i: typer.echo(document_text(i["payload"])))

        _run_documents(ctx, go, run)

    @doc_app.command("print")
    def doc_print(
        ctx: typer.Context,
        number: str = typer.Argument(..., help="Document number."),
        window: int = typer.Option(None, "--window", "-w", help="Use this window's printer (windows.toml)."),
        kiosk: bool = typer.Option(False, "--kiosk", help="Use the kiosk's printer (hall.toml [kiosk])."),
        printer: str = typer.Option(
            None,
            "--printer",
            help="Printer target: pdf:DIR, lp:QUEUE, file:PATH, network:HOST:PORT or usb:VID:PID.",
        ),
        as_json: bool = JSON,
    ) -> None:
        """Print (or reprint) a document on a window's, the kiosk's or a given printer."""
        from window_terminal.cli import Context, emit, fail, run

        def go(c: Context) -> Any:
            from window_terminal.core.documents.printing import print_document

            return print_document(
                c.engine(),
                c.hall().id,
                number,
                window=window,
                kiosk=kiosk,
                target=printer,
                font=c.settings.cjk_font,
                actor=c.actor(),
                language=c.settings.language,
            )

        result = _run_documents(ctx, go, run)
        if not result.ok:
            if as_json:
                emit(result.as_dict(), True)
            raise fail(result.error_text)
        emit(result.as_dict(), as_json, lambda r: typer.echo(f"{r['number']} → {r['path_or_target']}"))

    @doc_app.command("pdf")
    def doc_pdf(
        ctx: typer.Context,
        number: str = typer.Argument(..., help="Document number."),
        out: Path = typer.Option(
            ..., "--out", "-o", help="PDF file to write (or a folder: FOLDER/NUMBER.pdf)."
        ),
        as_json: bool = JSON,
    ) -> None:
        """Save a document as a PDF file, exactly as issued."""
        from window_terminal.cli import Context, emit, run
        from window_terminal.core import lookup

        def go(c: Context) -> Path:
            from window_terminal.core.documents.printing import save_pdf

            return save_pdf(c.engine(), c.hall().id, number, out, font=c.settings.cjk_font)

        path = _run_documents(ctx, go, run)
        emit({"number": lookup.code(number), "path": str(path)}, as_json, lambda r: typer.echo(r["path"]))

    @doc_app.command("list")
    def doc_list(
        ctx: typer.Context,
        case: str = typer.Option(
            None, "--case", help="Only this case's documents (case number or query code)."
        ),
        day: str = typer.Option(None, "--date", help="Only documents issued on this day, e.g. 2026-11-21."),
        limit: int = typer.Option(200, "--limit", min=1, max=10_000),
        as_json: bool = JSON,
    ) -> None:
        """Documents issued, newest first."""
        from window_terminal.cli import Context, emit, fail, run

        parsed: date | None = None
        if day:
            try:
                parsed = date.fromisoformat(day)
            except ValueError:
                raise fail(f"--date {day!r}: give a date like 2026-11-21 / 日期格式应为 2026-11-21") from None

        def go(c: Context) -> list[dict[str, Any]]:
            from window_terminal.core.documents.printing import list_documents

            return list_documents(c.engine(), c.hall().id, case_no=case, day=parsed, limit=limit)

        emit(_run_documents(ctx, go, run), as_json, _render_documents)

    @case_app.command("status")
    def case_status_cmd(
        ctx: typer.Context,
        code: str = typer.Argument(
            ..., help="Query code from the notice (under the QR code) or case number."
        ),
        as_json: bool = JSON,
    ) -> None:
        """A case's status by its query code — no personal data beyond a masked name and ID."""
        from window_terminal.cli import Context, emit, run

        def go(c: Context) -> None:
            from window_terminal.core.case_status import case_status, status_text

            data = case_status(c.engine(), c.hall().id, code)
            emit(data, as_json, lambda d: typer.echo(status_text(d, c.settings.language)))

        run(ctx, go)


def _run_documents(ctx: typer.Context, fn, run):
    """``cli.run`` plus: a document that cannot be rendered or written → its message, exit 2."""
    from window_terminal.cli import fail
    from window_terminal.core.documents import DocumentError

    def guarded(c):
        try:
            return fn(c)
        except DocumentError as exc:
            raise fail(exc.text(c.settings.language)) from None

    return run(ctx, guarded)


def _render_documents(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    if not rows:
        typer.echo("（无）/ none")
        return
    table = Table("文书编号", "文书", "办件编号", "申请人", "出具时间", "打印次数", "打印错误")
    for r in rows:
        table.add_row(
            r["number"],
            r["title"],
            r["case_no"] or "",
            r["applicant"],
            r["issued_at"],
            str(r["printed_count"]),
            "[red]有[/]" if r["last_print_error"] else "",
        )
    Console().print(table)
