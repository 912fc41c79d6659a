"""`wt counter --window N` (the clerk's terminal) and `wt case show|list` (cases at the counter)."""

from __future__ import annotations

from typing import Any

import typer

from window_terminal.commands import shared_group


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""
    from window_terminal.cli import JSON

    case_app = shared_group(app, "case", "Cases: status, look-up, visits, documents, result hand-over.")

    @app.command("counter")
    def counter(
        ctx: typer.Context,
        window: int = typer.Option(..., "--window", "-w", help="Window number of this counter."),
    ) -> None:
        """The counter clerk's terminal: call, receive, notify once, accept, hand off. Opens for the
        clerk signed in with `wt login`, or asks for sign-in first."""
        from window_terminal.cli import Context, _ctx, _launch, boot_in_any_order, run

        boot_in_any_order(_ctx(ctx))

        def check(c: Context) -> None:
            from window_terminal.core.intake import counter_view

            counter_view(c.engine(), c.hall().id, window)  # unknown window → clear message, exit 2

        run(ctx, check)
        _launch(ctx, "counter", window=window)

    @case_app.command("lookup")
    def case_lookup(
        ctx: typer.Context,
        ref: str = typer.Argument(..., help="Case number, query code or the applicant's ID number."),
        as_json: bool = JSON,
    ) -> None:
        """A case's status, materials, visits, documents and review tasks (personal data masked)."""
        from window_terminal.cli import Context, emit, run

        def go(c: Context) -> None:
            from window_terminal.core.intake import case_view

            data = case_view(c.engine(), c.hall().id, ref).as_dict()
            emit(data, as_json, _render_case)

        run(ctx, go)

    @case_app.command("list")
    def case_list(
        ctx: typer.Context,
        status: str = typer.Option(
            None, "--status", help="Only cases in this status (accepted, notice_issued…)."
        ),
        pending: bool = typer.Option(
            False, "--pending", help="Submissions without outcome (Art. 32, 5 days)."
        ),
        limit: int = typer.Option(50, "--limit", min=1, max=1000),
        as_json: bool = JSON,
    ) -> None:
        """The latest cases, newest first."""
        from window_terminal.cli import Context, emit, run

        def go(c: Context) -> None:
            from window_terminal.core import intake

            if pending:
                emit(intake.pending_notice_cases(c.engine(), c.hall().id), as_json, _render_rows)
            else:
                emit(
                    intake.list_cases(c.engine(), c.hall().id, status=status, limit=limit),
                    as_json,
                    _render_rows,
                )

        run(ctx, go)

    @case_app.command("deem")
    def case_deem(ctx: typer.Context, as_json: bool = JSON) -> None:
        """Art. 32: accept, as of their receipt date, the submissions whose five working days for a
        one-time notice have passed (recorded, handed off, acceptance notice issued). Run daily."""
        from window_terminal.cli import Context, emit, run

        def go(c: Context) -> None:
            from window_terminal.core import intake

            emit(
                intake.apply_deemed_acceptances(c.engine(), c.hall().id, actor=c.actor()),
                as_json,
                _render_rows,
            )

        run(ctx, go)


def _render_rows(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    if not rows:
        typer.echo("（无）/ none")
        return
    table = Table(*rows[0].keys())
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row.values()))
    Console().print(table)


def _render_case(data: dict[str, Any]) -> None:
    case = data["case"]
    lines = [
        f"办件编号 {case['case_no']}   查询码 {case['query_code']}   状态 {case['status']}",
        f"事项 {data['item']['code']} {data['item']['name']}",
        f"申请人 {case['applicant_name']}  {case['id_number']}  {case['phone']}",
        f"收件 {case['received_on']}  受理 {case['accepted_on'] or '-'}  承诺办结 {case['promised_date'] or '-'}",
        f"跑动次数 {len(data['visits'])}",
        "材料：",
        *(f"  [{m['status']}{'*' if m['in_notice'] else ''}] {m['name']}" for m in data["materials"]),
        "文书：",
        *(f"  {d['number']} {d['kind']} {d['issued_at']}" for d in data["documents"]),
        "审批：",
        *(f"  {t['department']} {t['name']} {t['status']}" for t in data["tasks"]),
    ]
    typer.echo("\n".join(lines))
