"""The ticket kiosk at the entrance (``wt kiosk``): take a number by line or by service item.

Keyboard or touch: every choice is a button; the search box finds a service item by name, full
pinyin or initials (营业执照 = yingye… = yyzz). The priority lane (绿色通道) asks for its reason; an
appointment is checked in with its code. The ticket shows number, line, people ahead, estimated
wait and time, and the kiosk returns to its start after ``kiosk_timeout_seconds`` without input.
"""

from __future__ import annotations

import time
from typing import Any

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, ContentSwitcher, Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from window_terminal.core import lookup, queueing
from window_terminal.i18n import language, tr, tr_lazy
from window_terminal.screens.display import TicketDigits
from window_terminal.screens.keys import LocalizedKeys
from window_terminal.screens.work import pressed_once, run_call
from window_terminal.widgets.lists import ChoiceList


def search_items(engine: Any, hall_id: int, query: str) -> list[dict[str, Any]]:
    """Service items for the query, from the same in-memory catalogue index the counter uses."""
    from window_terminal.core.catalogue import catalogue_index

    return [
        {"id": e.id, "name": e.name, "line": e.line, "line_name": e.line_name}
        for e in catalogue_index(engine, hall_id).search(query)
    ]


class KioskScreen(LocalizedKeys, Screen[None]):
    # Below 110 columns the line buttons go two a row, one line each, so every name shows whole.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    BINDINGS = [
        Binding("escape", "restart", tr_lazy("返回首页", "Start over")),
        Binding("f2", "priority", tr_lazy("绿色通道", "Priority lane")),
        Binding("f3", "appointment", tr_lazy("预约签到", "Appointment")),
        Binding("f4", "search", tr_lazy("搜索事项", "Search")),
        Binding("f5", "reprint", tr_lazy("补打小票", "Reprint")),
        Binding("ctrl+q", "app.quit", tr_lazy("关闭（工作人员）", "Close (staff)")),
    ]
    DEFAULT_CSS = """
    KioskScreen { align: center top; }
    KioskScreen #title { height: 3; content-align: center middle; text-style: bold; background: $primary;
                         color: $text; width: 100%; }
    KioskScreen #pages { height: 1fr; }
    KioskScreen #start { padding: 0 2; }
    KioskScreen #hint { height: auto; margin: 1 0 0 0; }
    KioskScreen #hint.priority { color: $warning; text-style: bold; }
    KioskScreen #line-grid { grid-size: 4; grid-gutter: 1 2; height: auto; margin-top: 1; }
    KioskScreen #line-grid Button { width: 100%; height: 3; }
    KioskScreen.-narrow #line-grid { grid-size: 2; grid-gutter: 1 2; }
    KioskScreen.-narrow #line-grid Button { height: 1; border: none; min-width: 0; }
    KioskScreen #reasons { height: auto; display: none; margin-top: 1; }
    KioskScreen #reasons.shown { display: block; }
    KioskScreen #reasons Button { margin-right: 1; min-width: 10; }
    KioskScreen #lower { height: 1fr; margin-top: 1; }
    KioskScreen #search-box { width: 2fr; height: 1fr; }
    KioskScreen #results { height: 1fr; }
    KioskScreen #side { width: 1fr; height: auto; padding-left: 2; }
    KioskScreen #side Button { width: 100%; margin-top: 1; }
    KioskScreen #error { height: auto; color: $error; }
    KioskScreen #ticket { align: center middle; }
    KioskScreen #ticket-card { width: 60; height: auto; border: heavy $success; padding: 1 2; }
    KioskScreen #ticket-card Static { width: 100%; content-align: center middle; }
    KioskScreen #ticket-number { width: 100%; text-align: center; text-style: bold; }
    KioskScreen #ticket-done { width: 100%; margin-top: 1; }
    """

    def __init__(self, device: str | None = None, **_: Any) -> None:
        super().__init__()
        self.device = device  # "device:<id>" of the hall definition: the actor of every ticket here
        self.priority_reason: str | None = None
        self.issued: queueing.TicketInfo | None = None
        self.lines: list[dict[str, Any]] = []
        self._last_input = time.monotonic()
        self.unconfirmed: dict[str, str] = {}  # a choice → the request id whose outcome is not known

    @property
    def priority_reasons(self) -> list[tuple[str, str]]:
        """The priority lane's reasons of this hall (hall.toml [priority] reasons), (zh, en)."""
        return lookup.priority_reasons(self.app.hall.settings)  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        hall = self.app.hall.name  # type: ignore[attr-defined]
        yield Static(tr(f"{hall} · 自助取号", f"{hall} · take a number"), id="title")
        with ContentSwitcher(initial="start", id="pages"):
            with Vertical(id="start"):
                yield Static(
                    tr(
                        "请选择要办理的业务（点击按钮，或按 Tab 选择后回车）",
                        "Choose a line (tap a button, or Tab then Enter)",
                    ),
                    id="hint",
                )
                yield Grid(id="line-grid")
                with Horizontal(id="reasons"):
                    for i, (zh, en) in enumerate(self.priority_reasons):
                        yield Button(tr(zh, en), id=f"reason-{i}")
                with Horizontal(id="lower"):
                    with Vertical(id="search-box"):
                        yield Input(
                            placeholder=tr(
                                "搜索事项：输入名称或拼音首字母，如 yyzz（营业执照）",
                                "Search an item: name or pinyin initials, e.g. yyzz",
                            ),
                            id="search",
                        )
                        yield ChoiceList(id="results")
                    with Vertical(id="side"):
                        yield Button(
                            tr("绿色通道（老年人、残疾人、军人等）", "Priority lane"),
                            id="priority",
                            variant="warning",
                        )
                        yield Input(placeholder=tr("预约签到码", "Appointment code"), id="appointment")
                        yield Button(tr("预约签到", "Check in"), id="checkin", variant="primary")
                        yield Static("", id="error")
            with VerticalScroll(id="ticket"):
                with Vertical(id="ticket-card"):
                    yield Static(tr("您的号码", "Your number"))
                    yield TicketDigits("", id="ticket-number")
                    yield Static("", id="ticket-line")
                    yield Static("", id="ticket-ahead")
                    yield Static("", id="ticket-time")
                    yield Static(tr("请留意叫号屏和语音提示", "Watch the display for your number"))
                    yield Button(tr("完成", "Done"), id="ticket-done", variant="success")
        yield Footer(compact=True)  # the F keys, Esc to start over, and how staff close it

    def on_mount(self) -> None:
        self.load_lines()
        self.search_worker("")
        timeout = int(queueing.threshold(self.app.hall.settings, "kiosk_timeout_seconds"))  # type: ignore[attr-defined]
        self.set_interval(1.0, lambda: self._check_timeout(timeout), name="kiosk-timeout")

    # -- data -------------------------------------------------------------------------------------

    def load_lines(self) -> None:
        engine, hall_id = self.app.engine, self.app.hall.id  # type: ignore[attr-defined]
        run_call(
            self,
            lambda: queueing.queue_status(engine, hall_id)["lines"],
            done=self.loaded_lines,
            failed=self._error,
            group="kiosk-lines",
            retry=True,
        )

    def loaded_lines(self, lines: list[dict[str, Any]]) -> None:
        self._error("")
        self.show_lines(lines)

    def show_lines(self, lines: list[dict[str, Any]]) -> None:
        self.lines = lines
        grid = self.query_one("#line-grid", Grid)
        grid.remove_children()
        buttons = [
            Button(
                f"{line['prefix']}  {line['name']}" + ("" if line["open"] else tr("（暂停）", " (closed)")),
                id=f"line-{line['line']}",
                disabled=not line["open"],
                variant="primary",
            )
            for line in lines
        ]
        grid.mount_all(buttons)
        if buttons:
            self.call_after_refresh(lambda: next((b for b in buttons if not b.disabled), buttons[0]).focus())

    def search_worker(self, query: str) -> None:
        engine, hall_id = self.app.engine, self.app.hall.id  # type: ignore[attr-defined]
        run_call(
            self,
            lambda: search_items(engine, hall_id, query),
            done=self.show_results,
            failed=self._error,
            group="kiosk-search",
            retry=True,
        )

    def show_results(self, items: list[dict[str, Any]]) -> None:
        results = self.query_one("#results", OptionList)
        results.clear_options()
        results.add_options(
            [
                Option(
                    f"{item['name']}  [dim]{item.get('line_name') or item['line']}[/]",
                    id=f"{item['id']}:{item['line']}",
                )
                for item in items
            ]
        )

    def issue(self, line: str | None, item_id: int | None = None, appointment: str | None = None) -> None:
        engine, hall_id = self.app.engine, self.app.hall.id  # type: ignore[attr-defined]
        kind = "appointment" if appointment else "priority" if self.priority_reason else "normal"
        priority_reason = self.priority_reason or ""

        def issued(info: Any) -> None:
            self.show_ticket(info)
            self.print_slip(info.document)

        def retrying() -> None:
            self.app.call_from_thread(
                self._error,
                tr(
                    "网络中断，正在重试取号（不会重复出号）…", "connection lost, retrying (no second ticket)…"
                ),
            )

        def issue_with(request_id: str) -> Any:
            return queueing.take_ticket(
                engine,
                hall_id,
                line,
                kind=kind,
                priority_reason=priority_reason,
                appointment_code=appointment,
                service_item_id=item_id,
                slip=True,
                actor=self.device,
                request_id=request_id,
            )

        # one press, one ticket: a retry after a lost connection repeats the request id, and so
        # does the next press of the same choice while the first one's outcome is not known
        take = pressed_once(
            self.unconfirmed,
            f"{line}|{item_id}|{appointment}|{kind}|{priority_reason}",
            issue_with,
            retrying=retrying,
        )
        run_call(
            self,
            take,
            done=issued,
            failed=lambda text: self._error(tr(f"请联系导办人员：{text}", f"please ask the staff: {text}")),
            group="kiosk-issue",
        )

    def print_slip(self, number: str | None) -> None:
        """Print the stored slip; a failure is shown, and the ticket stays valid on screen."""
        if not number:
            return
        from window_terminal.core.documents.printing import print_document

        app = self.app
        lang = language()

        def printed(result: Any) -> None:
            if not result.ok:
                slip_failed(result.error_text)

        def slip_failed(text: str) -> None:
            self._error(
                tr(
                    f"小票打印失败（请记住屏幕上的号码，可按 F5 补打）：{text}",
                    f"the slip did not print (note the number on screen; F5 reprints): {text}",
                )
            )

        run_call(
            self,
            lambda: print_document(
                app.engine,  # type: ignore[attr-defined]
                app.hall.id,  # type: ignore[attr-defined]
                number,
                kiosk=True,
                font=app.settings.cjk_font,  # type: ignore[attr-defined]
                actor=self.device,
                language=lang,
            ),
            done=printed,
            failed=slip_failed,
            group="kiosk-print",
        )

    def action_reprint(self) -> None:
        if self.issued is not None and self.issued.document:
            self._error("")
            self.print_slip(self.issued.document)

    # -- pages ------------------------------------------------------------------------------------

    def show_ticket(self, info: queueing.TicketInfo) -> None:
        self.issued = info
        self.query_one("#ticket-number", TicketDigits).update(info.number)
        lane = (
            tr(f"（绿色通道：{info.priority_reason}）", f" (priority: {info.priority_reason})")
            if info.kind == "priority"
            else ""
        )
        if info.kind == "appointment":
            lane = tr("（预约）", " (appointment)")
        self.query_one("#ticket-line", Static).update(f"{info.line_name}{lane}")
        ahead = info.people_ahead if info.people_ahead is not None else 0
        wait = info.estimated_wait_minutes if info.estimated_wait_minutes is not None else 0
        estimate = tr(
            f"前面还有 [b]{ahead}[/] 人，预计等候约 [b]{wait}[/] 分钟",
            f"[b]{ahead}[/] ahead of you, about [b]{wait}[/] minutes",
        )
        if info.expected_at:  # an appointment booked for later: its slot is the estimate
            slot = info.expected_at[11:16]
            estimate = tr(f"预约时段 [b]{slot}[/] 起叫号", f"called from your slot at [b]{slot}[/]")
        self.query_one("#ticket-ahead", Static).update(estimate)
        issued = info.issued_at.replace("T", " ")[:19]
        self.query_one("#ticket-time", Static).update(tr(f"取号时间 {issued}", f"Issued {issued}"))
        self.query_one("#pages", ContentSwitcher).current = "ticket"
        self.query_one("#ticket-done", Button).focus()
        self._touch()

    def action_restart(self) -> None:
        self.priority_reason = None
        self.query_one("#reasons").remove_class("shown")
        self._hint()
        self._error("")
        for selector in ("#search", "#appointment"):
            self.query_one(selector, Input).value = ""
        self.query_one("#pages", ContentSwitcher).current = "start"
        buttons = [b for b in self.query("#line-grid Button").results(Button) if not b.disabled]
        if buttons:
            buttons[0].focus()

    def action_priority(self) -> None:
        self.query_one("#reasons").add_class("shown")
        self.query_one("#reason-0", Button).focus()
        self._hint(tr("绿色通道：请先选择原因", "Priority lane: choose the reason first"))

    def action_appointment(self) -> None:
        self.query_one("#appointment", Input).focus()

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def _hint(self, text: str | None = None) -> None:
        hint = self.query_one("#hint", Static)
        hint.set_class(self.priority_reason is not None, "priority")
        hint.update(
            text
            or (
                tr(
                    f"绿色通道（{self.priority_reason}）：请选择业务",
                    f"Priority lane ({self.priority_reason}): choose a line",
                )
                if self.priority_reason
                else tr(
                    "请选择要办理的业务（点击按钮，或按 Tab 选择后回车）",
                    "Choose a line (tap a button, or Tab then Enter)",
                )
            )
        )

    def _error(self, text: str) -> None:
        self.query_one("#error", Static).update(text)

    # -- input ------------------------------------------------------------------------------------

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        button_id = event.button.id or ""
        self._error("")
        if button_id.startswith("line-"):
            self.issue(button_id.removeprefix("line-"))
        elif button_id.startswith("reason-"):
            zh, en = self.priority_reasons[int(button_id.removeprefix("reason-"))]
            self.priority_reason = zh if language() == "zh" else en
            self.query_one("#reasons").remove_class("shown")
            self._hint()
            buttons = [b for b in self.query("#line-grid Button").results(Button) if not b.disabled]
            if buttons:
                buttons[0].focus()
        elif button_id == "priority":
            self.action_priority()
        elif button_id == "checkin":
            self._check_in()
        elif button_id == "ticket-done":
            self.action_restart()

    @on(Input.Submitted, "#appointment")
    def _check_in(self) -> None:
        code = self.query_one("#appointment", Input).value.strip()
        if not code:
            self._error(
                tr(
                    "请输入预约签到码（短信中的6位码）",
                    "enter the appointment code from your booking message",
                )
            )
            return
        self.issue(None, appointment=code)

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.search_worker(event.value)

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        results = self.query_one("#results", OptionList)
        if results.option_count:
            results.focus()
            results.highlighted = 0

    @on(OptionList.OptionSelected, "#results")
    def _item_chosen(self, event: OptionList.OptionSelected) -> None:
        item_id, _, line = (event.option.id or "").partition(":")
        self.issue(line, item_id=int(item_id))

    def on_key(self, _: events.Key) -> None:
        self._touch()

    def on_mouse_down(self, _: events.MouseDown) -> None:
        self._touch()

    def _touch(self) -> None:
        self._last_input = time.monotonic()

    def _check_timeout(self, timeout: int) -> None:
        if timeout <= 0 or time.monotonic() - self._last_input < timeout:
            return
        pages = self.query_one("#pages", ContentSwitcher)
        dirty = (
            pages.current != "start"
            or self.priority_reason is not None
            or self.query_one("#search", Input).value
            or self.query_one("#appointment", Input).value
        )
        if dirty:
            self.action_restart()
        self._touch()
