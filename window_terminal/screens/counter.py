"""The counter clerk's screen: the window, its lines, the ticket in hand, and one key per action.

Reads come from ``intake.counter_view`` in a worker; changes come from the hall's feed
(``follow_feed``) and trigger a refresh of the view, applied to keyed table rows cell by cell.
Every action runs the queue engine in a worker; while one runs, further presses are ignored (a
double key press calls one ticket). Without a database the header says so and actions are disabled.

A command caught in a lost connection (a reset, or a dead link cut by its deadline, db/links.py) is
retried with the SAME request id for ``COMMAND_RETRY_S`` while the screen says so; the database runs
a request id once (db/unit.py, migration 0004), so the retry either finds the first result or runs
it now — never twice. If the link is still down then, the screen says the action is not confirmed,
and the next press of the same key repeats that same request id.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from window_terminal.core import intake, queueing, review
from window_terminal.core.case_status import STATUS_LABELS
from window_terminal.core.hallview import minutes_seconds, window_state_word
from window_terminal.errors import DomainError
from window_terminal.i18n import language, tr, tr_code, tr_lazy
from window_terminal.screens.keys import LocalizedKeys
from window_terminal.screens.live import follow_feed, refused_text, release_long_lived, settle_long_lived
from window_terminal.screens.messages import ConnectionChanged, HallEvents
from window_terminal.screens.work import pending_text, pressed_once, run_call
from window_terminal.widgets.tables import add_columns, sync_row

# (action, key, zh, en): every counter action (the palette lists the screen's keys: screens/palette.py)
ACTIONS: list[tuple[str, str, str, str]] = [
    ("call_next", "n", "叫下一个号", "Call next"),
    ("recall", "r", "重呼", "Recall"),
    ("no_show", "x", "过号", "No-show"),
    ("start", "s", "开始办理", "Start"),
    ("finish", "f", "办结", "Finish"),
    ("transfer", "t", "转移到其他业务线", "Transfer to another line"),
    ("park", "p", "挂起", "Park"),
    ("call_back", "b", "呼叫挂起的号", "Call back a parked ticket"),
    ("toggle_window", "w", "暂停/开放窗口", "Pause/open window"),
    ("intake", "i", "受理（收件）", "Intake"),
    ("case_lookup", "c", "办件查询（回访/补正/取件）", "Case look-up"),
]
DB_ACTIONS = {a for a, *_ in ACTIONS}


def _t(pair: tuple[str, str]) -> str:
    return tr(*pair)


class CounterScreen(LocalizedKeys, Screen[None]):
    BINDINGS = [
        Binding("f2", "call_next", tr_lazy("叫号", "Call"), key_display="F2"),
        Binding("n", "call_next", tr_lazy("叫号", "Call"), show=False),
        Binding("r", "recall", tr_lazy("重呼", "Recall")),
        Binding("x", "no_show", tr_lazy("过号", "No-show")),
        Binding("s", "start", tr_lazy("开始", "Start"), show=False),  # the intake starts service itself
        Binding("f", "finish", tr_lazy("办结", "Finish")),
        Binding("t", "transfer", tr_lazy("转移", "Transfer")),
        Binding("p", "park", tr_lazy("挂起", "Park")),
        Binding("b", "call_back", tr_lazy("回呼", "Call back"), show=False),
        Binding("w", "toggle_window", tr_lazy("暂停/开窗", "Pause/open"), show=False),
        Binding("i", "intake", tr_lazy("受理", "Intake")),
        Binding("c", "case_lookup", tr_lazy("查件", "Case")),
        Binding("q", "leave", tr_lazy("退出", "Quit")),
    ]
    DEFAULT_CSS = """
    CounterScreen #header { height: 1; background: $primary; color: $text; padding: 0 1; }
    CounterScreen #header.offline { background: $error; }
    CounterScreen #body { height: 1fr; }
    CounterScreen #left { width: 1fr; }
    CounterScreen #right { width: 1fr; }
    CounterScreen .caption { text-style: bold; padding: 1 1 0 1; }
    CounterScreen #current { height: 7; border: round $accent; padding: 0 2; margin: 0 1; }
    CounterScreen #lines { height: 1fr; margin: 0 1; }
    CounterScreen #recent { height: 1fr; margin: 0 1; }
    CounterScreen #message { height: 1; padding: 0 1; color: $warning; }
    """

    def __init__(self, window: int | None = None, staff_code: str | None = None, **_: Any) -> None:
        super().__init__()
        self.window_number = int(window) if window is not None else 1
        self.staff_code = staff_code
        self.view: dict[str, Any] | None = None
        self.connected = True
        self.busy = False
        self.feed_started = False
        self.auto_opened = False
        self.unconfirmed: dict[str, str] = {}  # action key → request id whose outcome is not known

    # --- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(tr("正在连接数据库…", "Connecting to the database…"), id="header")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield Label(tr("本窗口服务的业务线", "Lines served by this window"), classes="caption")
                yield DataTable(id="lines", cursor_type="row", zebra_stripes=True)
            with Vertical(id="right"):
                yield Label(tr("当前办理", "Ticket in hand"), classes="caption")
                yield Static(
                    tr("（无）按 F2 叫下一个号", "(none) press F2 to call the next ticket"), id="current"
                )
                yield Label(tr("本窗口最近的号", "Recent tickets at this window"), classes="caption")
                yield DataTable(id="recent", cursor_type="row", zebra_stripes=True)
        yield Static("", id="message")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        add_columns(
            self.query_one("#lines", DataTable),
            [
                ("line", "业务线", "Line", 6),
                ("name", "名称", "Name", 10),
                ("waiting", "等候", "Waiting", 7),
                ("longest", "最长等候", "Longest", 8),
            ],
        )
        add_columns(
            self.query_one("#recent", DataTable),
            [
                ("number", "号码", "Ticket", 6),
                ("line", "业务线", "Line", 6),
                ("status", "状态", "Status", 8),
                ("called", "呼叫时间", "Called", 8),
            ],
        )
        self.refresh_view()
        self.set_interval(1.0, self.tick)

    def on_unmount(self) -> None:
        release_long_lived()

    # --- reading --------------------------------------------------------------------------------

    def refresh_view(self) -> None:
        """Read the counter's view; until the database answers, say so and keep retrying."""
        run_call(
            self,
            self.read_view,
            done=self.show,
            failed=self.view_refused,
            offline=lambda text: self.set_connected(False, text),
            group="counter-view",
            retry=True,
        )

    def read_view(self) -> dict[str, Any]:
        """The counter's view (worker thread). When the clerk arrives, a closed window, or an open one
        without a clerk, is opened for them once: that signs them in at this window, the one their
        calls go to (``access.AT_OWN_WINDOW``); a window another clerk holds is refused, inline."""
        engine, hall_id = self.app.engine, self.app.hall.id  # type: ignore[attr-defined]
        view = intake.counter_view(engine, hall_id, self.window_number)
        unstaffed = view["window_status"] == "closed" or view.get("staff_code") is None
        if unstaffed and not self.auto_opened:
            self.auto_opened = True
            try:
                queueing.set_window_status(engine, hall_id, self.window_number, "open", actor=self.staff_code)
            except DomainError as exc:
                return {**view, "refused": exc.text(language())}
            view = intake.counter_view(engine, hall_id, self.window_number)
        return view

    def view_refused(self, text: str) -> None:
        """A refused first read (no such window) says so in the header instead of "connecting"."""
        if self.view is None:
            self.query_one("#header", Static).update(text)
            self.query_one("#header", Static).set_class(True, "offline")
        self.say(text)

    def show(self, view: dict[str, Any]) -> None:
        self.view = view
        if not self.connected:
            self.set_connected(True)
        if view.get("refused"):
            self.say(view["refused"])
        if not self.feed_started:
            self.feed_started = True
            follow_feed(self, self.app.engine, self.app.hall.id, after=int(view["event_seq"]))  # type: ignore[attr-defined]
            settle_long_lived()  # a full collection stalled an F2 by 100+ ms about once in 50 calls
        lines = self.query_one("#lines", DataTable)
        recent = self.query_one("#recent", DataTable)
        with self.app.batch_update():
            self.show_header()
            wanted = {r["line"] for r in view["lines"]}
            for key in [k for k in lines.rows if k.value not in wanted]:
                lines.remove_row(key)
            for r in view["lines"]:
                # waits read as m:ss, as on the board; this view is read, not ticked, so whole minutes
                longest = minutes_seconds(r["longest_wait_s"] // 60 * 60) if r["waiting"] else "-"
                sync_row(lines, r["line"], [r["line"], r["name"], str(r["waiting"]), longest])
            wanted = {str(t["ticket_id"]) for t in view["recent"]}
            for key in [k for k in recent.rows if k.value not in wanted]:
                recent.remove_row(key)
            for t in view["recent"]:
                called = t["called_at"][11:16] if t["called_at"] else ""
                sync_row(
                    recent,
                    str(t["ticket_id"]),
                    [t["number"], t["line"], _t(queueing.TICKET_STATES[t["status"]]), called],
                )
            self.show_current()

    def show_header(self) -> None:
        view = self.view or {}
        header = self.query_one("#header", Static)
        state = window_state_word(view.get("window_status", "closed"))
        clerk = view.get("staff") or self.staff_code or tr("未登录", "not signed in")
        connection = (
            tr("已连接", "connected")
            if self.connected
            else tr("连接中断，正在重连…", "connection lost, reconnecting…")
        )
        header.update(
            f"{view.get('hall', self.app.hall.name)}  |  {tr(f'{self.window_number}号窗口', f'Window {self.window_number}')}"  # type: ignore[attr-defined]
            + tr(f"（{state}）  |  工作人员：{clerk}", f" ({state})  |  Clerk: {clerk}")
            + f"  |  {connection}"
        )
        header.set_class(not self.connected, "offline")

    def show_current(self) -> None:
        panel = self.query_one("#current", Static)
        ticket = (self.view or {}).get("in_hand")
        if not ticket:
            panel.update(tr("（无）按 F2 叫下一个号", "(none) press F2 to call the next ticket"))
            return
        elapsed = ""
        if ticket.get("called_at"):
            since = datetime.fromisoformat(ticket["called_at"])
            now = self.app.now()  # type: ignore[attr-defined]
            if now.tzinfo is None:
                now = now.replace(tzinfo=since.tzinfo)
            elapsed = minutes_seconds((now - since).total_seconds())
        recalls = (
            tr(f"  已重呼{ticket['recalls']}次", f"  recalled {ticket['recalls']}x")
            if ticket["recalls"]
            else ""
        )
        panel.update(
            f"[b]{ticket['number']}[/b]   {ticket['line']}   {_t(queueing.TICKET_STATES[ticket['status']])}{recalls}\n"
            f"{tr('已用时', 'Elapsed')} {elapsed}\n"
            f"[dim]I {tr('受理', 'intake')} · F {tr('办结', 'finish')} · T {tr('转移', 'transfer')} · "
            f"P {tr('挂起', 'park')} · B {tr('回呼', 'call back')} · W {tr('暂停', 'pause')}[/dim]"
        )

    def tick(self) -> None:
        if self.view and self.view.get("in_hand"):
            self.show_current()

    @on(HallEvents)
    def hall_changed(self, message: HallEvents) -> None:
        self.refresh_view()

    @on(ConnectionChanged)
    def connection_changed(self, message: ConnectionChanged) -> None:
        self.set_connected(message.connected, message.error, message.problem)
        if message.connected:
            self.refresh_view()

    def set_connected(self, connected: bool, error: str = "", problem: str = "") -> None:
        self.connected = connected
        self.show_header()
        if problem:
            self.say(refused_text(problem))
            self.refresh_bindings()
            return
        if connected:
            self.say("")
        elif self.busy:  # a command is caught in the cut: say it is still being seen to
            self.say(pending_text())
        else:
            self.say(
                tr(
                    "数据库不可用：操作已停用，恢复后自动重连",
                    "database unavailable: actions disabled until it reconnects",
                )
                + (f"  {error}" if error else "")
            )
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in DB_ACTIONS and not self.connected:
            return None
        return True

    def say(self, text: str) -> None:
        self.query_one("#message", Static).update(text)

    # --- acting ---------------------------------------------------------------------------------

    def act(
        self, name: str, fn: Callable[[str], Any], done: Callable[[Any], None] | None = None, *, key: str = ""
    ) -> None:
        """Run one clerk action ``fn(request_id)``; a second press while it runs is ignored (``busy``).

        ``key`` tells presses apart that are different commands under one ``name`` (the line of a
        transfer); a press of an action whose last outcome is unknown repeats its request id."""
        if not self.connected or self.busy:
            return
        run_call(
            self,
            pressed_once(
                self.unconfirmed,
                f"{name}:{key}",
                fn,
                retrying=lambda: self.app.call_from_thread(self.say, pending_text()),
            ),
            done=lambda result: self.finish_action(result, done),
            failed=self.action_failed,
            group="counter-action",
            busy=True,
        )

    def finish_action(self, result: Any, done: Callable[[Any], None] | None) -> None:
        self.say("")
        if done is not None:
            done(result)
        self.refresh_view()

    def action_failed(self, text: str) -> None:
        self.say(text)
        self.refresh_view()

    def _q(self, fn_name: str, **kwargs: Any) -> Callable[[str], Any]:
        fn = getattr(queueing, fn_name)
        app: Any = self.app  # the WindowTerminalApp: its engine and hall
        return lambda request_id: fn(
            app.engine,
            app.hall.id,
            self.window_number,
            actor=self.staff_code,
            request_id=request_id,
            **kwargs,
        )

    def show_called(self, info: Any) -> None:
        """Put a just-called ticket on screen at once (the feed refresh follows)."""
        if info is None:
            self.say(tr("本窗口服务的业务线暂无等候", "nobody is waiting in this window's lines"))
            return
        if isinstance(info, tuple):  # nothing callable, and why (queueing.nothing_to_call)
            self.say(tr(*info))
            return
        if self.view is not None:
            self.view["in_hand"] = {
                "ticket_id": info.id,
                "number": info.number,
                "line": info.line,
                "status": info.status,
                "kind": info.kind,
                "called_at": self.app.now().isoformat(),  # type: ignore[attr-defined]
                "recalls": info.recall_count,
                "service_item_id": None,
            }
            self.show_current()
        self.say(tr(f"已呼叫 {info.number}", f"called {info.number}"))

    def action_call_next(self) -> None:
        call = self._q("call_next")
        app: Any = self.app

        def call_or_why(request_id: str) -> Any:
            info = call(request_id)
            if info is not None:
                return info
            return queueing.nothing_to_call(app.engine, app.hall.id, self.window_number)

        self.act("call_next", call_or_why, self.show_called)

    def action_recall(self) -> None:
        self.act("recall", self._q("recall"))

    def action_no_show(self) -> None:
        self.act("no_show", self._q("no_show"))

    def action_start(self) -> None:
        self.act("start", self._q("start_service"))

    def action_finish(self) -> None:
        self.act("finish", self._q("finish"))

    def action_park(self) -> None:
        self.act("park", self._q("park"))

    def action_toggle_window(self) -> None:
        status = (self.view or {}).get("window_status")
        target = "paused" if status == "open" else "open"
        app: Any = self.app  # the WindowTerminalApp: its engine and hall

        def fn(request_id: str) -> Any:
            return queueing.set_window_status(
                app.engine,
                app.hall.id,
                self.window_number,
                target,
                actor=self.staff_code,
                request_id=request_id,
            )

        self.act("toggle_window", fn, key=target)

    def action_transfer(self) -> None:
        from window_terminal.screens.dialogs import PickDialog

        view = self.view or {}
        ticket = view.get("in_hand")
        if not ticket:
            self.say(tr("当前没有正在办理的号：请先叫号", "no ticket in hand: call one first"))
            return
        options = [
            (x["line"], f"{x['line']}  {x['name']}")
            for x in view.get("all_lines", [])
            if x["line"] != ticket["line"]
        ]

        def chosen(code: str | None) -> None:
            if code:
                self.transfer_to(code)

        self.app.push_screen(
            PickDialog(
                tr(
                    f"把 {ticket['number']} 转到（保留排队位置）",
                    f"Transfer {ticket['number']} to (keeps its place)",
                ),
                options,
            ),
            chosen,
        )

    def transfer_to(self, line_code: str) -> None:
        app: Any = self.app  # the WindowTerminalApp: its engine and hall

        def fn(request_id: str) -> Any:
            return queueing.transfer(
                app.engine,
                app.hall.id,
                line_code,
                window_number=self.window_number,
                actor=self.staff_code,
                request_id=request_id,
            )

        self.act(
            "transfer",
            fn,
            lambda info: self.say(
                tr(f"{info.number} 已转至 {info.line}", f"{info.number} transferred to {info.line}")
            ),
            key=line_code,
        )

    def action_call_back(self) -> None:
        from window_terminal.screens.dialogs import PickDialog

        parked = (self.view or {}).get("parked", [])
        options = [(str(t["ticket_id"]), f"{t['number']}  {t['line']}") for t in parked]

        def chosen(ticket_id: str | None) -> None:
            if ticket_id:
                app: Any = self.app  # the WindowTerminalApp: its engine and hall
                self.act(
                    "call_back",
                    lambda request_id: queueing.call_ticket(
                        app.engine,
                        app.hall.id,
                        self.window_number,
                        f"#{ticket_id}",
                        actor=self.staff_code,
                        request_id=request_id,
                    ),
                    self.show_called,
                    key=ticket_id,
                )

        self.app.push_screen(PickDialog(tr("呼叫挂起的号", "Call back a parked ticket"), options), chosen)

    def action_leave(self) -> None:
        """Quit: a ticket still in hand is asked about first (parked, so it can be called back),
        and the window is closed so the board does not show it open after its clerk left."""
        from window_terminal.screens.dialogs import ConfirmDialog

        ticket = (self.view or {}).get("in_hand")
        if not ticket or not self.connected:
            self.close_and_quit(park=False)
            return
        self.app.push_screen(
            ConfirmDialog(
                tr(f"{ticket['number']} 还在本窗口办理", f"{ticket['number']} is still in hand"),
                [
                    tr(
                        "退出前可按 F 办结；确认退出则把它挂起（可在任一窗口回呼），并关闭本窗口。",
                        "Press F to finish it first; quitting parks it (any window can call it back) "
                        "and closes this window.",
                    )
                ],
                tr("挂起并退出", "Park and quit"),
            ),
            lambda ok: self.close_and_quit(park=True) if ok else None,
        )

    def close_and_quit(self, park: bool) -> None:
        app: Any = self.app  # the WindowTerminalApp: its engine and hall

        def leave() -> None:
            if park:
                self._q("park")(uuid.uuid4().hex)  # a fresh request: the screen is closing
            queueing.set_window_status(
                app.engine, app.hall.id, self.window_number, "closed", actor=self.staff_code
            )

        if not self.connected:
            app.exit()
            return
        run_call(self, leave, done=lambda _: app.exit(), failed=lambda _: app.exit(), group="counter-leave")

    def action_intake(self) -> None:
        from window_terminal.screens.intake import IntakeScreen

        ticket = (self.view or {}).get("in_hand")
        self.app.push_screen(
            IntakeScreen(window=self.window_number, staff_code=self.staff_code, ticket=ticket),
            self.intake_closed,
        )

    def intake_closed(self, result: dict[str, Any] | None) -> None:
        """Say what became of the case: accepted and sent to which department, or the notice given."""
        self.refresh_view()
        if not result or not result.get("case_no"):
            return
        app: Any = self.app  # the WindowTerminalApp: its engine and hall
        run_call(
            self,
            lambda: intake.case_view(app.engine, app.hall.id, result["case_no"]),
            done=self.say_outcome,
            failed=self.say,
            group="counter-outcome",
        )

    def say_outcome(self, view: intake.CaseView) -> None:
        case = view.case
        departments = "、".join(t["name"] for t in view.tasks)
        if view.tasks:
            self.say(
                tr(
                    f"办件 {case['case_no']} 已受理，已流转至 {departments} 审批",
                    f"case {case['case_no']} accepted and sent to {', '.join(t['name'] for t in view.tasks)}",
                )
            )
        elif case["status"] == "notice_issued":
            self.say(
                tr(
                    f"办件 {case['case_no']}：已出具一次性告知书，待申请人补正",
                    f"case {case['case_no']}: one-time notice issued; awaiting the supplement",
                )
            )
        else:
            self.say(tr(f"办件 {case['case_no']} 已记录", f"case {case['case_no']} recorded"))

    def action_case_lookup(self) -> None:
        from window_terminal.screens.dialogs import AskDialog

        def chosen(ref: str | None) -> None:
            if ref:
                self.look_up_case(ref)

        self.app.push_screen(
            AskDialog(
                tr(
                    "办件查询：输入办件编号、查询码或身份证号",
                    "Case look-up: case number, query code or ID number",
                )
            ),
            chosen,
        )

    def look_up_case(self, ref: str) -> None:
        """By case number, query code or ID number; a person with several cases is asked which."""
        app: Any = self.app  # the WindowTerminalApp: its engine and hall
        run_call(
            self,
            lambda: intake.cases_of(app.engine, app.hall.id, ref),
            done=self.choose_case,
            failed=self.say,
            group="counter-case",
        )

    def choose_case(self, found: list[dict[str, Any]]) -> None:
        from window_terminal.screens.dialogs import PickDialog

        if len(found) == 1:
            self.open_case(found[0]["case_no"])
            return
        options = [
            (
                c["case_no"],
                f"{c['case_no']}  {c['item']}  {tr_code(CASE_STATUS, c['status'])}",
            )
            for c in found
        ]
        self.app.push_screen(
            PickDialog(
                tr(
                    f"此证件号有 {len(found)} 个办件，请选择",
                    f"{len(found)} cases for this ID number: choose one",
                ),
                options,
            ),
            lambda case_no: self.open_case(case_no) if case_no else None,
        )

    def open_case(self, case_no: str) -> None:
        app: Any = self.app  # the WindowTerminalApp: its engine and hall
        run_call(
            self,
            lambda: intake.case_view(app.engine, app.hall.id, case_no),
            done=self.show_case,
            failed=self.say,
            group="counter-case",
        )

    def show_case(self, view: intake.CaseView) -> None:
        from window_terminal.screens.dialogs import TextDialog
        from window_terminal.screens.intake import IntakeScreen

        case = view.case
        if case["status"] == "notice_issued":
            ticket = (self.view or {}).get("in_hand")
            self.app.push_screen(
                IntakeScreen(
                    window=self.window_number,
                    staff_code=self.staff_code,
                    ticket=ticket,
                    case_no=case["case_no"],
                ),
                self.intake_closed,
            )
            return
        text = case_summary(view)
        # Only what applies to the case is offered: a result to hand over once it is decided.
        buttons = []
        if case["status"] == "decided":
            buttons.append(("pickup", tr("记录取件", "Record pickup")))
        if any(m["status"] == "deferred" for m in view.materials):
            buttons.insert(0, ("supplement", tr("收取容缺补交材料", "Receive deferred materials")))
        default = buttons[0][0] if buttons else None

        def chosen(button: str | None) -> None:
            app: Any = self.app  # the WindowTerminalApp: its engine and hall
            ticket = (self.view or {}).get("in_hand")
            ticket_id = ticket["ticket_id"] if ticket else None
            if button == "pickup":
                # Handing over the result is a visit and completes the case (refused until decided).
                self.act(
                    "pickup",
                    lambda request_id: review.record_pickup(
                        app.engine,
                        app.hall.id,
                        case["case_no"],
                        self.window_number,
                        actor=self.staff_code,
                        ticket_id=ticket_id,
                        request_id=request_id,
                    ),
                    lambda r: self.say(
                        tr(f"{r['case_no']} 已取件，办件已办结", f"{r['case_no']} collected; case completed")
                    ),
                    key=case["case_no"],
                )
            elif button == "supplement":
                self.act(
                    "supplement",
                    lambda request_id: intake.record_supplement(
                        app.engine,
                        app.hall.id,
                        case["case_no"],
                        window=self.window_number,
                        actor=self.staff_code,
                        ticket_id=ticket_id,
                        request_id=request_id,
                    ),
                    lambda r: self.say(tr("容缺材料已补齐", "deferred materials received")),
                    key=case["case_no"],
                )

        self.app.push_screen(
            TextDialog(tr(f"办件 {case['case_no']}", f"Case {case['case_no']}"), text, buttons, default),
            chosen,
        )


CASE_STATUS = STATUS_LABELS  # the status words have one home: core/case_status.py


def case_summary(view: intake.CaseView) -> str:
    from window_terminal.core.privacy import mask_id_number

    case = view.case
    lines = [
        f"{tr('事项', 'Item')}：{view.item.name}（{view.item.code}）",
        f"{tr('申请人', 'Applicant')}：{case['applicant_name']}  {mask_id_number(case['id_number'])}",
        f"{tr('状态', 'Status')}：{tr_code(CASE_STATUS, case['status'])}   {tr('查询码', 'Query code')}：{case['query_code']}",
        f"{tr('收件日期', 'Received')}：{case['received_on']}   {tr('承诺办结', 'Promised')}：{case['promised_date'] or '-'}",
        f"{tr('跑动次数', 'Visits')}：{len(view.visits)}",
    ]
    if view.tasks:
        lines.append(
            tr("审批部门：", "Review: ") + "，".join(f"{t['name']}（{t['status']}）" for t in view.tasks)
        )
    if case.get("superseded_by"):
        lines.append(
            tr(
                f"本件一次性告知已由办件 {case['superseded_by']} 受理，本件终结",
                f"this notice was answered by case {case['superseded_by']}, accepted in its place",
            )
        )
    if case.get("earlier_case_no"):
        lines.append(
            tr(f"关联前一办件：{case['earlier_case_no']}", f"Earlier case: {case['earlier_case_no']}")
        )
    deferred = [m["name"] for m in view.materials if m["status"] == "deferred"]
    if deferred:
        lines.append(tr("待补交容缺材料：", "Deferred materials: ") + "、".join(deferred))
    return "\n".join(lines)
