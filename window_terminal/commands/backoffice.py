"""`wt backoffice`, `wt rate`, `wt review …`, `wt case …`, `wt rating add`, `wt rectification …`."""

from __future__ import annotations

from typing import Any

import typer

from window_terminal.commands import shared_group


def _print_rows(rows: list[dict[str, Any]], columns: list[tuple[str, str]], title: str = "") -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title or None, title_justify="left")
    for _, header in columns:
        table.add_column(header)
    styles = {"red": "bold white on red", "yellow": "bold black on yellow", "green": "green"}
    for r in rows:
        cells = []
        for key, _ in columns:
            value = r.get(key)
            text = "" if value is None else str(value)
            if key == "light" and text:
                text = f"[{styles[text]}] {text}{'*' if r.get('provisional') else ''} [/]"
            cells.append(text)
        table.add_row(*cells)
    Console().print(table)
    if not rows:
        Console().print("[dim]（无 / none）[/]")


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""
    from window_terminal.cli import JSON, REQUEST, _launch, emit, fail, run

    review_app = typer.Typer(help="Back-office review tasks (后台审批).")
    rating_app = typer.Typer(help="Service ratings (好差评).")
    rect_app = typer.Typer(help="Rectification of bad ratings (差评整改).")
    app.add_typer(review_app, name="review")
    case_app = shared_group(app, "case", "Cases: status, look-up, visits, documents, result hand-over.")
    app.add_typer(rating_app, name="rating")
    app.add_typer(rect_app, name="rectification")

    @app.command("backoffice")
    def backoffice(
        ctx: typer.Context,
        dept: str = typer.Option(..., "--dept", help="Department code, e.g. SCJG."),
    ) -> None:
        """The back-office inbox of a department: tasks by deadline with yellow and red lights."""
        from window_terminal.core import lookup

        _launch(ctx, "backoffice", department=lookup.code(dept))

    @app.command("rate")
    def rate_screen(
        ctx: typer.Context,
        window: int = typer.Option(..., "--window", "-w", help="Window number."),
        device: str = typer.Option(
            None, "--device", help="The rating device of hall.toml [[device]] (default: the only one)."
        ),
    ) -> None:
        """The applicant-facing rating screen (好差评) of a window; it runs as a public device."""
        _launch(ctx, "rate", window=window, device=device)

    task_columns = [
        ("task_id", "任务"),
        ("light", "监察"),
        ("deadline", "期限"),
        ("remaining_working_days", "剩余工作日"),
        ("case_no", "办件编号"),
        ("item", "事项"),
        ("applicant", "申请人"),
        ("status", "状态"),
        ("reviewer", "审批人"),
    ]

    @review_app.command("list")
    def review_list(
        ctx: typer.Context,
        dept: str = typer.Option(..., "--dept", help="Department code, e.g. SCJG."),
        all_states: bool = typer.Option(False, "--all", help="Include decided tasks."),
        as_json: bool = JSON,
    ) -> None:
        """A department's review tasks, most urgent first."""
        from window_terminal.core import lookup, review
        from window_terminal.core.supervision import OPEN_TASK_STATES

        states = tuple(review.TASK_STATES) if all_states else OPEN_TASK_STATES
        rows = run(ctx, lambda c: review.list_tasks(c.engine(), c.hall().id, dept, statuses=states))
        emit(rows, as_json, lambda r: _print_rows(r, task_columns, f"{lookup.code(dept)} 审批任务"))

    def _result(result: dict[str, Any], as_json: bool) -> None:
        def show(r: dict[str, Any]) -> None:
            parts = [f"{k}={v}" for k, v in r.items() if v not in (None, [], "")]
            typer.echo("  ".join(parts))

        emit(result, as_json, show)

    @review_app.command("claim")
    def review_claim(
        ctx: typer.Context,
        task: int = typer.Argument(...),
        request_id: str = REQUEST,
        as_json: bool = JSON,
    ) -> None:
        """Claim a pending task."""
        from window_terminal.core import review

        _result(
            run(
                ctx,
                lambda c: review.claim(c.engine(), c.hall().id, task, actor=c.actor(), request_id=request_id),
            ),
            as_json,
        )

    @review_app.command("approve")
    def review_approve(
        ctx: typer.Context,
        task: int = typer.Argument(...),
        note: str = typer.Option("", "--note", help="The reviewer's opinion (审批意见), required."),
        request_id: str = REQUEST,
        as_json: bool = JSON,
    ) -> None:
        """Approve a task you claimed (`wt review claim`), with your opinion; the case is decided when
        every department has decided."""
        from window_terminal.core import review

        _result(
            run(
                ctx,
                lambda c: review.approve(
                    c.engine(), c.hall().id, task, note=note, actor=c.actor(), request_id=request_id
                ),
            ),
            as_json,
        )

    @review_app.command("refuse")
    def review_refuse(
        ctx: typer.Context,
        task: int = typer.Argument(...),
        reason: str = typer.Option(None, "--reason", help="Facts and legal basis (required)."),
        request_id: str = REQUEST,
        as_json: bool = JSON,
    ) -> None:
        """Refuse (不予许可): decides the case; issues the refusal decision with appeal rights."""
        from window_terminal.core import review

        if not (reason or "").strip():
            raise fail(
                'a refusal needs --reason "…" (the facts and the legal basis) / 不予许可须用 --reason 写明理由'
            )
        _result(
            run(
                ctx,
                lambda c: review.refuse(
                    c.engine(), c.hall().id, task, reason, actor=c.actor(), request_id=request_id
                ),
            ),
            as_json,
        )

    @review_app.command("return")
    def review_return(
        ctx: typer.Context,
        task: int = typer.Argument(...),
        reason: str = typer.Option(..., "--reason", help="What must be corrected at the counter."),
        request_id: str = REQUEST,
        as_json: bool = JSON,
    ) -> None:
        """Return the case to the counter for an on-site correction."""
        from window_terminal.core import review

        _result(
            run(
                ctx,
                lambda c: review.return_to_counter(
                    c.engine(), c.hall().id, task, reason, actor=c.actor(), request_id=request_id
                ),
            ),
            as_json,
        )

    @review_app.command("suspend")
    def review_suspend(
        ctx: typer.Context,
        task: int = typer.Argument(...),
        kind: str = typer.Option(..., "--kind", help="inspection | testing | expert_review | hearing"),
        reason: str = typer.Option(..., "--reason"),
        days: int = typer.Option(..., "--days", help="Expected working days."),
        request_id: str = REQUEST,
        as_json: bool = JSON,
    ) -> None:
        """Stop the clock (Art. 45)."""
        from window_terminal.core import review

        _result(
            run(
                ctx,
                lambda c: review.suspend(
                    c.engine(), c.hall().id, task, kind, reason, days, actor=c.actor(), request_id=request_id
                ),
            ),
            as_json,
        )

    @review_app.command("resume")
    def review_resume(
        ctx: typer.Context,
        task: int = typer.Argument(...),
        request_id: str = REQUEST,
        as_json: bool = JSON,
    ) -> None:
        """Restart the clock of a suspended task."""
        from window_terminal.core import review

        _result(
            run(
                ctx,
                lambda c: review.resume(
                    c.engine(), c.hall().id, task, actor=c.actor(), request_id=request_id
                ),
            ),
            as_json,
        )

    @review_app.command("extend")
    def review_extend(
        ctx: typer.Context,
        case: str = typer.Argument(..., help="Case number."),
        approver: str = typer.Option(
            ...,
            "--approver",
            help="Staff code of the department head who approved (approves_extensions in staff.toml).",
        ),
        reason: str = typer.Option(..., "--reason"),
        days: int = typer.Option(10, "--days"),
        request_id: str = REQUEST,
        as_json: bool = JSON,
    ) -> None:
        """Extend a case's statutory time limit once (Art. 42: up to 10 working days; joint cases 15).

        Only a member of a department that decides the case may; the approver is named by staff code.
        The promised date does not move. A wrong department or approver: exit 2."""
        from window_terminal.core import review

        _result(
            run(
                ctx,
                lambda c: review.extend(
                    c.engine(),
                    c.hall().id,
                    case,
                    approver=approver,
                    reason=reason,
                    days=days,
                    actor=c.actor(),
                    request_id=request_id,
                ),
            ),
            as_json,
        )

    @case_app.command("show")
    def case_show(ctx: typer.Context, case: str = typer.Argument(...), as_json: bool = JSON) -> None:
        """A case with its tasks, materials, dates, suspensions and visits (personal data masked)."""
        import json

        from window_terminal.core import review

        emit(
            run(ctx, lambda c: review.case_detail(c.engine(), c.hall().id, case)),
            as_json,
            lambda d: typer.echo(json.dumps(d, ensure_ascii=False, indent=2)),
        )

    @case_app.command("pickup")
    def case_pickup(
        ctx: typer.Context,
        case: str = typer.Argument(...),
        window: int = typer.Option(..., "--window", "-w"),
        request_id: str = REQUEST,
        as_json: bool = JSON,
    ) -> None:
        """The applicant collected the result at a window (a visit; completes the case)."""
        from window_terminal.core import review

        _result(
            run(
                ctx,
                lambda c: review.record_pickup(
                    c.engine(), c.hall().id, case, window, actor=c.actor(), request_id=request_id
                ),
            ),
            as_json,
        )

    @case_app.command("post")
    def case_post(
        ctx: typer.Context,
        case: str = typer.Argument(...),
        tracking: str = typer.Option(..., "--tracking", help="Postal tracking number."),
        address: str = typer.Option("", "--address", help="The address it was posted to (送达地址)."),
        request_id: str = REQUEST,
        as_json: bool = JSON,
    ) -> None:
        """The result was posted: record the tracking number, issue the 送达回证 (completes the case)."""
        from window_terminal.core import review

        _result(
            run(
                ctx,
                lambda c: review.record_posted(
                    c.engine(),
                    c.hall().id,
                    case,
                    tracking,
                    address=address,
                    actor=c.actor(),
                    request_id=request_id,
                ),
            ),
            as_json,
        )

    @rating_app.command("add")
    def rating_add(
        ctx: typer.Context,
        window: int = typer.Option(..., "--window", "-w"),
        level: int = typer.Option(
            ..., "--level", help="5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意"
        ),
        comment: str = typer.Option("", "--comment"),
        ticket: int = typer.Option(None, "--ticket-id", help="Default: the window's latest finished ticket."),
        request_id: str = REQUEST,
        as_json: bool = JSON,
    ) -> None:
        """Record a rating; level 3 or lower opens a rectification."""
        from window_terminal.core import ratings

        if level not in ratings.LEVELS:
            raise fail(f"--level must be 1 to 5 (5 非常满意 … 1 非常不满意), not {level}")
        _result(
            run(
                ctx,
                lambda c: ratings.rate(
                    c.engine(),
                    c.hall().id,
                    window,
                    level,
                    comment,
                    ticket_id=ticket,
                    actor=c.actor(),
                    request_id=request_id,
                ),
            ),
            as_json,
        )

    @rect_app.command("list")
    def rect_list(
        ctx: typer.Context,
        all_items: bool = typer.Option(False, "--all", help="Closed ones too."),
        as_json: bool = JSON,
    ) -> None:
        """Rectification items, earliest due first."""
        from window_terminal.core import ratings

        rows = run(
            ctx,
            lambda c: ratings.list_rectifications(
                c.engine(), c.hall().id, status=None if all_items else "open"
            ),
        )
        columns = [
            ("id", "编号"),
            ("due_date", "整改期限"),
            ("overdue", "超期"),
            ("level_name", "评价"),
            ("comment", "意见"),
            ("window", "窗口"),
            ("clerk", "工作人员"),
            ("status", "状态"),
            ("note", "整改说明"),
        ]
        emit(rows, as_json, lambda r: _print_rows(r, columns, "差评整改"))

    @rect_app.command("close")
    def rect_close(
        ctx: typer.Context,
        item: int = typer.Argument(..., help="Rectification id (see `wt rectification list`)."),
        note: str = typer.Option(None, "--note", help="What was done (required)."),
        request_id: str = REQUEST,
        as_json: bool = JSON,
    ) -> None:
        """Close a rectification with a note (hall manager)."""
        from window_terminal.core import ratings

        if not (note or "").strip():
            raise fail('closing needs --note "what was done" / 关闭整改须用 --note 填写整改情况')
        _result(
            run(
                ctx,
                lambda c: ratings.close_rectification(
                    c.engine(), c.hall().id, item, note, actor=c.actor(), request_id=request_id
                ),
            ),
            as_json,
        )
