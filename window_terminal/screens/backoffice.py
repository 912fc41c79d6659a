"""The back-office inbox (后台审批): a department's review tasks by deadline, with supervision lights.

Keys: c claim · a approve · x refuse · r return to the counter · s suspend / resume · e extend ·
F5 refresh · q quit. The detail panel shows the highlighted case (applicant masked).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Select, Static

from window_terminal.core import lookup, review
from window_terminal.db import feed
from window_terminal.i18n import tr, tr_code, tr_lazy
from window_terminal.screens.keys import LocalizedKeys
from window_terminal.screens.live import follow_feed, show_connection
from window_terminal.screens.messages import ConnectionChanged, HallEvents
from window_terminal.screens.work import pending_text, pressed_once, run_call
from window_terminal.widgets.tables import add_columns, sync_row

LIGHT_STYLE = {"green": "bold white on green", "yellow": "bold black on yellow", "red": "bold white on red"}
LIGHT_TEXT = {"green": ("正常", "OK"), "yellow": ("临期", "Due"), "red": ("超期", "Late")}
REVIEW_EVENTS = ("review.", "case.", "document.")


def light_cell(light: str, provisional: bool) -> Text:
    if not light:
        return Text("")
    label = tr(*LIGHT_TEXT[light])
    return Text(f" ● {label}{'*' if provisional else ''} ", style=LIGHT_STYLE[light])


class ReasonModal(LocalizedKeys, ModalScreen[dict[str, Any] | None]):
    """Ask for the fields of an action: reason; or kind, reason, days; or approver, reason."""

    DEFAULT_CSS = """
    ReasonModal { align: center middle; }
    ReasonModal > Vertical { width: 70; height: auto; border: thick $primary; background: $panel; padding: 1 2; }
    ReasonModal Input, ReasonModal Select { margin-bottom: 1; }
    ReasonModal #buttons { height: auto; align-horizontal: right; }
    ReasonModal #problem { color: $error; height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", tr_lazy("取消", "Cancel"))]

    def __init__(
        self,
        title: str,
        fields: tuple[str, ...],
        *,
        reason_label: str | None = None,
        confirm: str | None = None,
        approvers: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__()
        self.heading = title
        self.fields = fields
        self.approvers = approvers or []  # who may approve (the core's list): code and name
        self.reason_label = reason_label or tr("理由", "Reason")
        self.confirm = confirm  # a decision: asked once more, naming what will be issued
        self.confirming = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.heading)
            if "kind" in self.fields:
                yield Select(
                    [(tr(z, e), key) for key, (z, e) in review.SUSPENSION_KINDS.items()],
                    value="inspection",
                    allow_blank=False,
                    id="kind",
                )
            if "approver" in self.fields:
                yield Input(
                    placeholder=tr("批准人工号（本部门负责人）", "Approver's staff code (department head)"),
                    id="approver",
                )
                offered = "  ".join(f"{a['code']} {a['name']}" for a in self.approvers)
                yield Static(
                    tr(
                        f"可批准：{offered or '无（staff.toml 未指定）'}",
                        f"May approve: {offered or 'nobody (see staff.toml)'}",
                    ),
                    id="approvers",
                )
            yield Input(placeholder=self.reason_label, id="reason")
            if "days" in self.fields:
                yield Input(
                    placeholder=tr("预计工作日数", "Expected working days"), id="days", type="integer"
                )
            yield Static("", id="problem")
            with Horizontal(id="buttons"):
                yield Button(tr("确定", "OK"), variant="primary", id="ok")
                yield Button(tr("取消", "Cancel"), id="cancel")

    def on_mount(self) -> None:
        first = "#approver" if "approver" in self.fields else "#reason"
        self.query_one(first, Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#cancel")
    def cancelled(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def submit(self) -> None:
        values: dict[str, Any] = {"reason": self.query_one("#reason", Input).value.strip()}
        problem = ""
        if "approver" in self.fields:
            typed = self.query_one("#approver", Input).value
            values["approver"] = lookup.code(typed)
            codes = [a["code"] for a in self.approvers]
            if not values["approver"]:
                problem = tr("请填写批准人的工号", "Enter the approver's staff code")
            elif values["approver"] not in codes:
                problem = tr(
                    f"{lookup.typed(typed)} 不是本部门可批准延期的负责人：请填写 {'、'.join(codes) or '（无）'}",
                    f"{lookup.typed(typed)} may not approve extensions here: enter one of {', '.join(codes) or 'none'}",
                )
        if "kind" in self.fields:
            values["kind"] = self.query_one("#kind", Select).value
        if "days" in self.fields:
            raw = self.query_one("#days", Input).value.strip()
            values["days"] = int(raw) if raw.isdigit() else 0
            if values["days"] <= 0:
                problem = tr("请填写预计工作日数", "Enter the expected working days")
        if not values["reason"]:
            problem = tr("请填写理由", "Enter a reason")
        if problem:
            self.query_one("#problem", Static).update(problem)
            return
        if self.confirm and not self.confirming:
            self.confirming = True
            self.query_one("#problem", Static).update(self.confirm)
            self.query_one("#ok", Button).label = tr("确认", "Confirm")
            self.query_one("#ok", Button).focus()
            return
        self.dismiss(values)


class BackofficeScreen(LocalizedKeys, Screen[None]):
    BINDINGS = [
        Binding("c", "claim", tr_lazy("认领", "Claim")),
        Binding("a", "approve", tr_lazy("同意", "Approve")),
        Binding("x", "refuse", tr_lazy("不予", "Refuse")),
        Binding("r", "return_case", tr_lazy("退回", "Return")),
        Binding("s", "suspend", tr_lazy("计时", "Clock")),
        Binding("e", "extend", tr_lazy("延期", "Extend")),
        Binding("f5", "reload", tr_lazy("刷新", "Refresh")),
        Binding("q", "app.quit", tr_lazy("退出", "Quit")),
    ]
    DEFAULT_CSS = """
    BackofficeScreen #title { height: 1; padding: 0 1; text-style: bold; }
    BackofficeScreen #connection { height: auto; padding: 0 1; }
    BackofficeScreen #main { height: 1fr; }
    BackofficeScreen #tasks { width: 2fr; height: 1fr; }
    BackofficeScreen #detail { width: 1fr; height: 1fr; border-left: solid $primary; padding: 0 1; overflow-y: auto; }
    BackofficeScreen #message { height: 1; padding: 0 1; }
    BackofficeScreen.-narrow #main { layout: vertical; }
    BackofficeScreen.-narrow #tasks { width: 100%; }
    BackofficeScreen.-narrow #detail { width: 100%; height: 7; border-left: none; border-top: solid $primary; }
    """
    # Below 110 columns the case's detail goes under the tasks, which keep the full width.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    COLUMNS = (
        ("light", "监察", "Light", 8),
        ("deadline", "期限", "Due", 5),
        ("left", "剩余", "Left", 5),
        ("case", "办件编号", "Case", 17),
        ("item", "事项", "Item", 15),
        ("applicant", "申请人", "Applicant", 6),
        ("status", "状态", "Status", 10),
    )

    def __init__(self, department: str, staff_code: str | None = None, **_: Any) -> None:
        super().__init__()
        self.department = lookup.code(department)
        self.staff_code = staff_code
        self.rows: dict[str, dict[str, Any]] = {}
        self.unconfirmed: dict[str, str] = {}  # decision key -> request id of an unconfirmed press

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(tr(f"后台审批 · {self.department}", f"Back office · {self.department}"), id="title")
        yield Static("", id="connection")
        with Horizontal(id="main"):
            yield DataTable(id="tasks", cursor_type="row", zebra_stripes=True)
            yield Static(tr("选择一件任务查看详情", "Select a task to see the case"), id="detail")
        yield Static("", id="message")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#tasks", DataTable)
        add_columns(table, self.COLUMNS)
        table.focus()
        self.following = False
        self.load_tasks()

    def _today(self) -> date:
        return self.app.now().date()  # type: ignore[attr-defined]  # the WindowTerminalApp's clock

    # --- loading ------------------------------------------------------------------------------

    def load_tasks(self) -> None:
        """The department's tasks; until the database answers, say so and keep retrying."""
        engine, hall_id = self.app.engine, self.app.hall.id  # type: ignore[attr-defined]
        today = self._today()
        following = self.following

        def read() -> tuple[int | None, list[dict[str, Any]]]:
            cursor = None if following else feed.current_cursor(engine, hall_id)
            return cursor, review.list_tasks(engine, hall_id, self.department, today=today)

        def loaded(result: tuple[int | None, list[dict[str, Any]]]) -> None:
            cursor, rows = result
            if cursor is not None:
                self.start_feed(cursor)
            self.show(rows)

        run_call(
            self,
            read,
            done=loaded,
            failed=lambda text: self.say(text, True),
            offline=lambda text: show_connection(self, False, text),
            recovered=lambda: show_connection(self, True),
            group="tasks",
            retry=True,
        )

    def start_feed(self, cursor: int) -> None:
        if not self.following:
            self.following = True
            follow_feed(self, self.app.engine, self.app.hall.id, after=cursor)  # type: ignore[attr-defined]

    def show(self, rows: list[dict[str, Any]]) -> None:
        table = self.query_one("#tasks", DataTable)
        wanted = {str(r["task_id"]): r for r in rows}
        with self.app.batch_update():
            for key in [k for k in self.rows if k not in wanted]:
                table.remove_row(key)
            for key, r in wanted.items():
                left = r["remaining_working_days"]
                cells = {
                    "light": light_cell(r["light"], r["provisional"]),
                    "deadline": (r["deadline"] or "")[5:],
                    "left": "" if left is None else tr(f"{left}天", f"{left}d"),
                    "case": r["case_no"],
                    "item": r["item"][:8],
                    "applicant": r["applicant"],
                    "status": tr_code(review.TASK_STATES, r["status"])
                    + (f"·{r['reviewer']}" if r["reviewer"] else ""),
                }
                sync_row(table, key, list(cells.values()))
        self.rows = wanted
        if not rows:
            self.query_one("#detail", Static).update(tr("没有待办的审批任务", "No review tasks waiting"))
        self.show_selected()

    def selected(self) -> dict[str, Any] | None:
        table = self.query_one("#tasks", DataTable)
        if table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except Exception:
            return None
        return self.rows.get(str(key))

    @on(DataTable.RowHighlighted)
    def show_selected(self) -> None:
        row = self.selected()
        if row is not None:
            self.load_detail(row["case_no"])

    def load_detail(self, case_no: str) -> None:
        engine, hall_id = self.app.engine, self.app.hall.id  # type: ignore[attr-defined]
        today = self._today()
        run_call(
            self,
            lambda: render_detail(review.case_detail(engine, hall_id, case_no, today=today)),
            done=self.query_one("#detail", Static).update,
            failed=lambda text: self.say(text, True),
            group="detail",
        )

    # --- actions ------------------------------------------------------------------------------

    def say(self, text: str, error: bool = False) -> None:
        message = self.query_one("#message", Static)
        message.set_class(error, "error")
        message.update(text)

    def _need_task(self) -> dict[str, Any] | None:
        row = self.selected()
        if row is None:
            self.say(tr("请先选择一件任务", "Select a task first"), True)
        return row

    def run_review(self, done: str, fn: Any, *args: Any, **kwargs: Any) -> None:
        engine, hall_id = self.app.engine, self.app.hall.id  # type: ignore[attr-defined]

        def finished(result: Any) -> None:
            decided = isinstance(result, dict) and result.get("decision")
            self.say(done + (tr("；办件已办结", "; the case is decided") if decided else ""))
            self.load_tasks()

        run_call(
            self,
            # exactly once: caught in a lost connection it is retried with the same request id, and
            # the same decision pressed again after an unconfirmed end repeats that id
            pressed_once(
                self.unconfirmed,
                f"{fn.__name__}:{args!r}:{sorted(kwargs.items())!r}",
                lambda request_id: fn(engine, hall_id, *args, request_id=request_id, **kwargs),
                retrying=lambda: self.app.call_from_thread(self.say, pending_text(), True),
            ),
            done=finished,
            failed=lambda text: self.say(text, True),
            group="action",
        )

    def action_claim(self) -> None:
        if row := self._need_task():
            self.run_review(
                tr(f"已认领 {row['case_no']}", f"Claimed {row['case_no']}"),
                review.claim,
                row["task_id"],
                actor=self.staff_code,
            )

    def action_approve(self) -> None:
        if row := self._need_task():
            # The task is the one under the cursor now; the dialog names it, and what is decided is
            # that task whatever the cursor does meanwhile.

            def go(values: dict[str, Any] | None) -> None:
                if values:
                    self.run_review(
                        tr(f"已同意 {row['case_no']}", f"Approved {row['case_no']}"),
                        review.approve,
                        row["task_id"],
                        note=values["reason"],
                        actor=self.staff_code,
                    )

            self.app.push_screen(
                ReasonModal(
                    tr(
                        f"同意 {row['case_no']}（{row['item']}，{row['applicant']}）",
                        f"Approve {row['case_no']} ({row['item']}, {row['applicant']})",
                    ),
                    (),
                    reason_label=tr("审批意见（写入审批记录）", "Opinion (goes on the record)"),
                    confirm=tr(
                        f"再按一次确认：对 {row['case_no']} 作出同意的审批决定，不可撤回",
                        f"Press again to confirm: approve {row['case_no']}; this cannot be undone",
                    ),
                ),
                go,
            )

    def action_refuse(self) -> None:
        if row := self._need_task():

            def go(values: dict[str, Any] | None) -> None:
                if values:
                    self.run_review(
                        tr(f"已作出不予许可决定 {row['case_no']}", f"Refused {row['case_no']}"),
                        review.refuse,
                        row["task_id"],
                        values["reason"],
                        actor=self.staff_code,
                    )

            self.app.push_screen(
                ReasonModal(
                    tr(
                        f"不予许可 {row['case_no']}（{row['item']}，{row['applicant']}）",
                        f"Refuse {row['case_no']} ({row['item']}, {row['applicant']})",
                    ),
                    (),
                    reason_label=tr(
                        "不予许可的理由（将写入决定书）", "Reason for refusal (goes on the decision)"
                    ),
                    confirm=tr(
                        f"再按一次确认：对 {row['case_no']} 作出不予许可决定并出具决定书，不可撤回",
                        f"Press again to confirm: refuse {row['case_no']} and issue the decision; this cannot be undone",
                    ),
                ),
                go,
            )

    def action_return_case(self) -> None:
        if row := self._need_task():

            def go(values: dict[str, Any] | None) -> None:
                if values:
                    self.run_review(
                        tr(f"已退回窗口 {row['case_no']}", f"Returned {row['case_no']}"),
                        review.return_to_counter,
                        row["task_id"],
                        values["reason"],
                        actor=self.staff_code,
                    )

            self.app.push_screen(
                ReasonModal(tr("退回窗口：需要更正的内容", "Return: what must be corrected"), ()), go
            )

    def action_suspend(self) -> None:
        row = self._need_task()
        if row is None:
            return
        if row["status"] == "suspended":
            self.run_review(
                tr(f"已恢复计时 {row['case_no']}", f"Resumed {row['case_no']}"),
                review.resume,
                row["task_id"],
                actor=self.staff_code,
            )
            return

        def go(values: dict[str, Any] | None) -> None:
            if values:
                self.run_review(
                    tr(f"已暂停计时 {row['case_no']}", f"Suspended {row['case_no']}"),
                    review.suspend,
                    row["task_id"],
                    values["kind"],
                    values["reason"],
                    values["days"],
                    actor=self.staff_code,
                )

        self.app.push_screen(
            ReasonModal(
                tr("暂停计时（特别程序，第四十五条）", "Suspend the clock (Art. 45)"), ("kind", "days")
            ),
            go,
        )

    def action_extend(self) -> None:
        """Art. 42: the department's heads who may approve are read first and offered in the dialog,
        which refuses any other code inline; the core checks it again (department, permission)."""
        row = self._need_task()
        if row is None:
            return
        engine, hall_id = self.app.engine, self.app.hall.id  # type: ignore[attr-defined]
        run_call(
            self,
            lambda: review.extension_approvers(engine, hall_id, self.department),
            done=lambda approvers: self.ask_extension(row, approvers),
            failed=lambda text: self.say(text, True),
            group="approvers",
        )

    def ask_extension(self, row: dict[str, Any], approvers: list[dict[str, str]]) -> None:
        def go(values: dict[str, Any] | None) -> None:
            if values:
                self.run_review(
                    tr(f"已延期 {row['case_no']}", f"Extended {row['case_no']}"),
                    review.extend,
                    row["case_no"],
                    approver=values["approver"],
                    reason=values["reason"],
                    actor=self.staff_code,
                )

        self.app.push_screen(
            ReasonModal(
                tr(
                    f"延长法定期限十个工作日 {row['case_no']}（第四十二条，须本部门负责人批准）",
                    f"Extend the statutory limit of {row['case_no']} by 10 working days (Art. 42)",
                ),
                ("approver",),
                approvers=approvers,
            ),
            go,
        )

    def action_reload(self) -> None:
        self.load_tasks()

    # --- live ---------------------------------------------------------------------------------

    @on(HallEvents)
    def changed(self, message: HallEvents) -> None:
        if any(e.kind.startswith(REVIEW_EVENTS) for e in message.events):
            self.load_tasks()

    @on(ConnectionChanged)
    def connection(self, message: ConnectionChanged) -> None:
        show_connection(self, message.connected, problem=message.problem)
        if message.connected:
            self.load_tasks()


def render_detail(d: dict[str, Any]) -> Text:
    text = Text()
    text.append(f"{d['case_no']}\n", style="bold")
    text.append(f"{d['item']}\n")
    lines = [
        (tr("申请人", "Applicant"), f"{d['applicant']}  {d['id_number']}"),
        (tr("受理日期", "Accepted"), d["accepted_on"] or ""),
        (
            tr("承诺期限", "Promised"),
            (d["promised_date"] or "") + (tr("（暂定）", " (provisional)") if d["provisional"] else ""),
        ),
        (tr("法定期限", "Statutory"), d["statutory_date"] or ""),
        (tr("来访次数", "Visits"), str(d["visits"])),
    ]
    if d["extension_days"]:
        lines.append(
            (
                tr("已延期", "Extended"),
                tr(f"{d['extension_days']}个工作日", f"{d['extension_days']} working days"),
            )
        )
    if d["supplement_deadline"]:
        state = tr("已补齐", "received") if d["supplement_received"] else tr("未补齐", "outstanding")
        lines.append((tr("容缺补齐", "Supplement"), f"{d['supplement_deadline']} {state}"))
    for label, value in lines:
        text.append(f"{label}：", style="dim")
        text.append(f"{value}\n")
    text.append(tr("审批部门\n", "Departments\n"), style="bold")
    for t in d["tasks"]:
        text.append(f"  {t['department']} {tr_code(review.TASK_STATES, t['status'])}\n")
    text.append(tr("材料\n", "Materials\n"), style="bold")
    for m in d["materials"]:
        mark = "✓" if m["status"] in ("received", "commitment") else "…"
        text.append(f"  {mark} {m['name']}\n")
    if d["suspensions"]:
        text.append(tr("暂停计时\n", "Suspensions\n"), style="bold")
        for s in d["suspensions"]:
            kind = tr_code(review.SUSPENSION_KINDS, s["kind"])
            text.append(f"  {kind} {s['started_on']}–{s['ended_on'] or tr('至今', 'now')} {s['reason']}\n")
    return text
