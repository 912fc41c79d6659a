"""The hall manager's board (``wt board``): every line and window live, alerts, and the fixes.

A snapshot (``hallview.load_view``) is loaded once in a worker; after that every event from the feed
is applied to the view and only the rows it names are redrawn, cell by cell. A one-second tick
refreshes the time columns (longest wait, time in hand, idle) the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Sparkline, Static

from window_terminal.core import displays, hallview, lookup, queueing
from window_terminal.db.clock import to_local
from window_terminal.i18n import tr, tr_lazy
from window_terminal.screens.keys import LocalizedKeys
from window_terminal.screens.live import follow_feed, release_long_lived, settle_long_lived, show_connection
from window_terminal.screens.messages import ConnectionChanged, HallEvents
from window_terminal.screens.work import pending_text, pressed_once, run_call
from window_terminal.widgets.tables import LiveTable, add_columns, sync_row

LINE_COLUMNS = [
    ("line", "业务线", "Line", 6),
    ("name", "名称", "Name", 18),
    ("open", "取号", "Tickets", 7),
    ("waiting", "等候", "Waiting", 7),
    ("longest", "最长等候", "Longest", 8),
    ("estimate", "预计(分)", "Est. min", 8),
    ("windows", "开放窗口", "Windows", 8),
]
WINDOW_COLUMNS = [
    ("window", "窗口", "Window", 6),
    ("status", "状态", "Status", 6),
    ("staff", "工作人员", "Clerk", 8),
    ("lines", "业务线", "Lines", 10),
    ("ticket", "当前号", "Ticket", 12),
    ("held", "办理时长", "In hand", 8),
    ("idle", "空闲", "Idle", 6),
    ("recalls", "重呼", "Recalls", 7),
]


DISPLAYS_SECONDS = 5.0


def displays_text(rows: list[displays.DisplayStatus]) -> str:
    """The hall TVs on one or two lines: 显示屏 TV1 正常 · TV2 失联 35秒 · TV3 落后."""
    if not rows:
        return tr("[dim]显示屏：尚无上报[/]", "[dim]Displays: none reported yet[/]")
    parts = []
    for row in rows:
        if row.state == "stale":
            seconds = int(row.quiet_s)
            ago = f"{seconds // 60}分" if seconds >= 120 else f"{seconds}秒"
            ago_en = f"{seconds // 60} min" if seconds >= 120 else f"{seconds}s"
            parts.append(
                tr(f"[red]● {row.display_id} 失联 {ago}[/]", f"[red]● {row.display_id} silent {ago_en}[/]")
            )
        elif row.state == "behind":
            parts.append(tr(f"[yellow]● {row.display_id} 落后[/]", f"[yellow]● {row.display_id} behind[/]"))
        else:
            parts.append(tr(f"[green]● {row.display_id} 正常[/]", f"[green]● {row.display_id} ok[/]"))
    return tr("显示屏 ", "Displays ") + " · ".join(parts)


class PromptModal(LocalizedKeys, ModalScreen[dict[str, str] | None]):
    """A small form: a title, some inputs, OK / Cancel. Returns the values or None."""

    DEFAULT_CSS = """
    PromptModal { align: center middle; }
    PromptModal > Vertical { width: 64; height: auto; max-height: 100%; overflow-y: auto;
                             border: thick $primary; background: $surface; padding: 1 2; }
    PromptModal Label { margin-top: 1; }
    PromptModal Horizontal { height: auto; margin-top: 1; align-horizontal: right; }
    PromptModal Button { margin-left: 2; }
    """
    BINDINGS = [("escape", "cancel", tr_lazy("取消", "Cancel"))]

    def __init__(self, title: str, fields: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.form_title = title
        self.fields = fields

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"[b]{self.form_title}[/]")
            for key, label, value in self.fields:
                yield Label(label)
                yield Input(value=value, id=f"f-{key}")
            with Horizontal():
                yield Button(tr("确定", "OK"), variant="primary", id="ok")
                yield Button(tr("取消", "Cancel"), id="cancel")

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    def _values(self) -> dict[str, str]:
        return {key: self.query_one(f"#f-{key}", Input).value.strip() for key, _, _ in self.fields}

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        index = inputs.index(event.input)
        if index + 1 < len(inputs):
            inputs[index + 1].focus()
        else:
            self.dismiss(self._values())

    @on(Button.Pressed, "#ok")
    def ok(self) -> None:
        self.dismiss(self._values())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class BoardScreen(LocalizedKeys, Screen[None]):
    # Below 110 columns the side panel gives its room to the lines table (waiting counts first);
    # the first alert and the lights run on one line under it.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    BINDINGS = [
        Binding("l", "toggle_line", tr_lazy("取号开关", "Line on/off")),
        Binding("p", "toggle_window", tr_lazy("窗口暂停", "Pause window")),
        Binding("w", "window_lines", tr_lazy("业务线", "Lines")),
        Binding("f", "move_forward", tr_lazy("提前", "Forward")),
        Binding("b", "broadcast", tr_lazy("公告", "Notice")),
        Binding("a", "book", tr_lazy("预约", "Book")),
        Binding("tab", "other_table", tr_lazy("切换", "Switch"), key_display="Tab"),
        Binding("shift+tab", "other_table", tr_lazy("切换表格", "Next table"), show=False),
        Binding("q", "app.quit", tr_lazy("退出", "Quit")),
    ]
    DEFAULT_CSS = """
    BoardScreen #connection { height: auto; padding: 0 1; display: none; }
    BoardScreen #connection.offline { display: block; background: $error; color: $text; text-style: bold; }
    BoardScreen #top { height: 12; }
    BoardScreen #lines { width: 1fr; height: 1fr; }
    BoardScreen #side { width: 44; height: 1fr; padding: 0 1; }
    BoardScreen #lights { height: 1; }
    BoardScreen #alerts { height: 1fr; overflow-y: auto; }
    BoardScreen #displays { height: auto; max-height: 3; }
    BoardScreen #chart { height: 6; border-top: solid $primary-darken-2; }
    BoardScreen #chart Sparkline { height: 1; margin-bottom: 1; }
    BoardScreen #windows { height: 1fr; }
    BoardScreen #lines:focus, BoardScreen #windows:focus { border-left: thick $accent; }
    BoardScreen #lines, BoardScreen #windows { border-left: thick $background; }
    BoardScreen #alert_strip { height: 1; padding: 0 1; display: none; }
    BoardScreen.-narrow #side { display: none; }
    BoardScreen.-narrow #alert_strip { display: block; }
    BoardScreen.-narrow #top { height: 10; }
    BoardScreen #message { height: 1; padding: 0 1; }
    BoardScreen #message.error { color: $error; }
    """

    def __init__(self, staff_code: str | None = None, **_: Any) -> None:
        super().__init__()
        self.staff_code = staff_code  # the signed-in manager: the actor of every action here
        self.view: hallview.HallView | None = None
        self._lights: str = ""
        self._shown: dict[str, object] = {}  # what each side widget shows: set again only when it differs
        self.unconfirmed: dict[str, str] = {}  # command key -> request id of a press whose end is unknown

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="connection")
        with Horizontal(id="top"):
            yield LiveTable(id="lines", cursor_type="row", zebra_stripes=True)
            with Vertical(id="side"):
                yield Static("", id="lights")
                yield Static(tr("正在读取大厅状态…", "Loading the hall…"), id="alerts")
                yield Static("", id="displays")
                with Vertical(id="chart"):
                    yield Static("", id="chart-arrivals")
                    yield Sparkline([0] * 24, id="arrivals")
                    yield Static("", id="chart-served")
                    yield Sparkline([0] * 24, id="served")
        yield Static("", id="alert_strip")
        yield LiveTable(id="windows", cursor_type="row", zebra_stripes=True)
        yield Static("", id="message")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        add_columns(self.query_one("#lines", DataTable), LINE_COLUMNS)
        add_columns(self.query_one("#windows", DataTable), WINDOW_COLUMNS)
        self.load_snapshot()
        self.set_interval(1.0, self.tick, name="board-tick")
        self.set_interval(60.0, self.refresh_lights, name="board-lights")
        self.refresh_displays()
        self.set_interval(DISPLAYS_SECONDS, self.refresh_displays, name="board-displays")

    # -- loading ----------------------------------------------------------------------------------

    def load_snapshot(self) -> None:
        """The first full view; while the database cannot be reached, say so and keep retrying."""
        engine, hall_id = self.app.engine, self.app.hall.id  # type: ignore[attr-defined]

        def read() -> tuple[hallview.HallView, str]:
            return hallview.load_view(engine, hall_id), _lights_text(engine, hall_id)

        run_call(
            self,
            read,
            done=self.show_snapshot,
            failed=lambda text: self._say(text, error=True),
            offline=lambda text: show_connection(self, False, text),
            recovered=lambda: show_connection(self, True),
            group="board-load",
            retry=True,
        )

    def show_snapshot(self, loaded: tuple[hallview.HallView, str]) -> None:
        view, self._lights = loaded
        self.view = view
        self.redraw(hallview.Changes(set(view.lines), set(view.windows), True, True, True))
        follow_feed(self, self.app.engine, self.app.hall.id, after=view.position)  # type: ignore[attr-defined]
        settle_long_lived()  # the hall's 2,000 tickets too: out of the collector's full passes

    def on_unmount(self) -> None:
        release_long_lived()

    def refresh_lights(self) -> None:
        engine, hall_id = self.app.engine, self.app.hall.id  # type: ignore[attr-defined]
        run_call(self, lambda: _lights_text(engine, hall_id), done=self._set_lights, group="board-lights")

    def refresh_displays(self) -> None:
        """The hall TVs' heartbeats: each one listed, a stale or lagging one flagged."""
        engine, hall = self.app.engine, self.app.hall  # type: ignore[attr-defined]
        run_call(
            self,
            lambda: displays.display_status(engine, hall.id, hall.settings),
            done=self._show_displays,
            group="board-displays",
        )

    def _show_displays(self, rows: list[displays.DisplayStatus]) -> None:
        self._show("#displays", displays_text(rows))

    def _set_lights(self, text: str) -> None:
        self._lights = text
        self._show("#lights", text)

    # -- live -------------------------------------------------------------------------------------

    @on(HallEvents)
    def hall_events(self, message: HallEvents) -> None:
        if self.view is None:
            return
        changes = self.view.apply_all(message.events)
        if changes:
            self.redraw(changes)
        if any(e.kind.startswith(("case.", "review.", "suspension.")) for e in message.events):
            self.refresh_lights()

    @on(ConnectionChanged)
    def connection(self, message: ConnectionChanged) -> None:
        show_connection(
            self,
            message.connected,
            tr(
                "连接中断：数据库无法访问，正在重连，恢复后自动补齐",
                "Connection lost: the database cannot be reached; reconnecting and catching up",
            ),
            problem=message.problem,
        )

    def tick(self) -> None:
        if self.view is not None:
            self.redraw(hallview.Changes(set(self.view.lines), set(self.view.windows)))

    def now(self) -> datetime:
        return self.app.now()  # type: ignore[attr-defined]  # the WindowTerminalApp's clock

    def redraw(self, changes: hallview.Changes) -> None:
        """Update only the rows named in ``changes``, and in them only the cells that differ."""
        view = self.view
        if view is None:
            return
        now = self.now()
        lines = self.query_one("#lines", DataTable)
        windows = self.query_one("#windows", DataTable)
        with self.app.batch_update():
            for code in (c for c in view.lines if c in changes.lines):
                sync_row(lines, code, view.line_cells(code, now))
            for number in sorted(changes.windows):
                if number in view.windows:
                    sync_row(windows, str(number), view.window_cells(number, now))
            self._show_alerts(view, now)
            if changes.chart:
                self._show_chart(view)
            if changes.broadcast and view.broadcast:
                self._say(tr(f"大厅公告：{view.broadcast}", f"Broadcast: {view.broadcast}"))

    def _show_alerts(self, view: hallview.HallView, now: datetime) -> None:
        alerts = view.alerts(now)
        parts = []
        for alert in alerts[:12]:
            color = "red" if alert.level == "red" else "yellow"
            parts.append(f"[{color}]●[/] {tr(alert.zh, alert.en)}")
        text = "\n".join(parts) or tr("[green]● 排队正常[/]", "[green]● queue normal[/]")
        self._show("#alerts", text)
        self._show("#lights", self._lights)
        first = parts[0] if parts else tr("[green]● 排队正常[/]", "[green]● queue normal[/]")
        more = (
            tr(f"  （另有 {len(alerts) - 1} 条）", f"  (+{len(alerts) - 1} more)") if len(alerts) > 1 else ""
        )
        self._show("#alert_strip", f"{first}{more}")

    def _show(self, selector: str, content: object) -> None:
        """Set a side widget's text or data only when it differs from what it shows: setting a
        Static lays out and repaints the screen, even with the same text."""
        if self._shown.get(selector) == content:
            return
        self._shown[selector] = content
        widget = self.query_one(selector)
        if isinstance(widget, Sparkline):
            widget.data = content  # type: ignore[assignment]  # a list of counts, as given
        else:
            self.query_one(selector, Static).update(content)  # type: ignore[arg-type]  # text, as given

    def _show_chart(self, view: hallview.HallView) -> None:
        hour = view.now_utc(self.now())
        first = 7
        last = max(19, min(23, to_local(hour, view.timezone).hour))
        self._show("#arrivals", view.arrivals[first : last + 1])
        self._show("#served", view.served[first : last + 1])
        self._show(
            "#chart-arrivals",
            tr(
                f"每小时取号（{first}–{last}时）今日 {sum(view.arrivals)}",
                f"Arrivals/hour today {sum(view.arrivals)}",
            ),
        )
        self._show(
            "#chart-served",
            tr(f"每小时办结 今日 {sum(view.served)}", f"Served/hour today {sum(view.served)}"),
        )

    def _say(self, text: str, *, error: bool = False) -> None:
        bar = self.query_one("#message", Static)
        bar.set_class(error, "error")
        bar.update(text)

    # -- actions ----------------------------------------------------------------------------------

    def _selected(self, table_id: str) -> str | None:
        table = self.query_one(table_id, DataTable)
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return str(row_key.value)

    def action_other_table(self) -> None:
        """Tab moves between the lines and the windows; the focused table has a bar at its left."""
        lines, windows = self.query_one("#lines", DataTable), self.query_one("#windows", DataTable)
        (lines if self.focused is windows else windows).focus()

    def confirm(self, title: str, lines: list[str], label: str, go: Any) -> None:
        from window_terminal.screens.dialogs import ConfirmDialog

        self.app.push_screen(ConfirmDialog(title, lines, label), lambda ok: go() if ok else None)

    def action_toggle_line(self) -> None:
        """Opening a line is harmless; closing one (people keep arriving) is asked first."""
        code = self._selected("#lines")
        if code is None or self.view is None:
            return
        opened = not self.view.lines[code].is_open

        def go() -> None:
            self.run_action_worker(
                f"line:{code}:{opened}",
                lambda e, h, rid: queueing.set_line_open(
                    e, h, code, opened, actor=self.staff_code, request_id=rid
                ),
                tr(
                    f"{code} 已{'开放' if opened else '停止'}取号",
                    f"line {code} {'opened' if opened else 'closed'}",
                ),
            )

        if opened:
            go()
            return
        line = self.view.lines[code]
        waiting = self.view.waiting(code)
        self.confirm(
            tr(f"停止 {code} {line.name} 取号？", f"Close line {code} ({line.name}) to new tickets?"),
            [
                tr(
                    f"现有 {waiting} 人等候：他们仍会被叫到；新来的人取不到此业务线的号。",
                    f"{waiting} waiting: they are still called; newcomers cannot take a ticket for it.",
                )
            ],
            tr("停止取号", "Close the line"),
            go,
        )

    def action_toggle_window(self) -> None:
        """Pausing names the window, its clerk and the ticket in hand, and is asked first."""
        number = self._selected("#windows")
        if number is None or self.view is None:
            return
        window = self.view.windows[int(number)]
        status = "paused" if window.status == "open" else "open"

        def go() -> None:
            self.run_action_worker(
                f"window:{number}:{status}",
                lambda e, h, rid: queueing.set_window_status(
                    e, h, int(number), status, actor=self.staff_code, request_id=rid
                ),
                tr(
                    f"{number}号窗口已{'暂停' if status == 'paused' else '开放'}",
                    f"window {number}: {status}",
                ),
            )

        if status == "open":
            go()
            return
        serving = (
            tr(
                f"正在办理 {window.ticket}，办完后不再叫号。",
                f"serving {window.ticket}; no further calls after it.",
            )
            if window.ticket
            else tr("暂停后不再叫号。", "no further calls while paused.")
        )
        self.confirm(
            tr(f"暂停 {number}号窗口？", f"Pause window {number}?"),
            [tr(f"工作人员：{window.staff or '-'}", f"Clerk: {window.staff or '-'}"), serving],
            tr("暂停窗口", "Pause it"),
            go,
        )

    def action_window_lines(self) -> None:
        number = self._selected("#windows")
        if number is None or self.view is None:
            return
        current = " ".join(self.view.windows[int(number)].lines)
        codes = " ".join(self.view.lines)

        def done(values: dict[str, str] | None) -> None:
            if not values:
                return
            try:
                parsed = _parse_lines(values["lines"])
            except ValueError as exc:
                self._say(str(exc), error=True)
                return
            self.run_action_worker(
                f"window-lines:{number}:{parsed}",
                lambda e, h, rid: queueing.set_window_lines(
                    e, h, int(number), parsed, actor=self.staff_code, request_id=rid
                ),
                tr(f"{number}号窗口业务线已更新", f"window {number} lines changed"),
            )

        self.app.push_screen(
            PromptModal(
                tr(f"{number}号窗口服务的业务线", f"Lines served by window {number}"),
                [
                    (
                        "lines",
                        tr(
                            f"业务线代码，空格分隔，可加权重如 BIZ:2（可选：{codes}）",
                            f"line codes, space separated, optional weight like BIZ:2 ({codes})",
                        ),
                        current,
                    )
                ],
            ),
            done,
        )

    def action_move_forward(self) -> None:
        def done(values: dict[str, str] | None) -> None:
            if not values:
                return
            ticket, reason = values["ticket"], values["reason"]
            self.run_action_worker(
                f"forward:{ticket}:{reason}",
                lambda e, h, rid: queueing.move_forward(
                    e, h, ticket, reason=reason, actor=self.staff_code, request_id=rid
                ),
                tr(f"{lookup.code(ticket)} 已提前", f"{lookup.code(ticket)} moved forward"),
            )

        self.app.push_screen(
            PromptModal(
                tr("提前办理（须填写原因）", "Move a ticket forward (reason required)"),
                [
                    ("ticket", tr("号码，如 A012", "ticket, like A012"), ""),
                    ("reason", tr("原因，如 老年人行动不便", "reason"), ""),
                ],
            ),
            done,
        )

    def action_broadcast(self) -> None:
        current = self.view.broadcast if self.view else ""

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            message = values["message"]
            self.run_action_worker(
                f"broadcast:{message}",
                lambda e, h, rid: queueing.broadcast(e, h, message, actor=self.staff_code, request_id=rid),
                tr(
                    "公告已发布" if message else "公告已清除",
                    "broadcast sent" if message else "broadcast cleared",
                ),
            )

        self.app.push_screen(
            PromptModal(
                tr(
                    "大厅公告（60字以内，留空清除）",
                    "Broadcast to the display (under 60 characters; empty clears)",
                ),
                [("message", tr("公告内容", "message"), current)],
            ),
            done,
        )

    def action_book(self) -> None:
        """Book an appointment for a caller on the phone (rules: core/appointments.py); the code is said."""
        from window_terminal.core import appointments

        line = self._selected("#lines") or ""
        today = self.now().date().isoformat()

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            engine, hall_id = self.app.engine, self.app.hall.id  # type: ignore[attr-defined]

            def book(request_id: str) -> dict[str, Any]:
                day, start = appointments.parse_slot(values["date"], values["time"])
                booking = appointments.Booking(values["line"], day, start, values["name"], values["phone"])
                return appointments.book(
                    engine, hall_id, booking, source="board", actor=self.staff_code, request_id=request_id
                )

            run_call(
                self,
                pressed_once(
                    self.unconfirmed,
                    "book:" + "|".join(values[k] for k in ("line", "date", "time", "name", "phone")),
                    book,
                    retrying=lambda: self.app.call_from_thread(self._say, pending_text(), error=True),
                ),
                done=lambda r: self._say(
                    tr(
                        f"已预约 {r['line']} {r['slot']}，签到码 {r['code']}",
                        f"booked {r['line']} {r['slot']}: check-in code {r['code']}",
                    )
                ),
                failed=lambda text: self._say(text, error=True),
                group="board-action",
                exclusive=False,
            )

        self.app.push_screen(
            PromptModal(
                tr(
                    "预约（签到码在取号机“预约签到”使用）",
                    "Book an appointment (the code checks in at the kiosk)",
                ),
                [
                    ("line", tr("业务线", "Line"), line),
                    ("date", tr("日期", "Date"), today),
                    ("time", tr("开始时间（如 09:30）", "Start (e.g. 09:30)"), ""),
                    ("name", tr("姓名", "Name"), ""),
                    ("phone", tr("手机号", "Mobile"), ""),
                ],
            ),
            done,
        )

    def run_action_worker(self, key: str, action: Any, done_text: str) -> None:
        """Run a manager's command ``action(engine, hall_id, request_id)`` exactly once: caught in a
        lost connection it is retried with the same request id, and pressed again with the same
        ``key`` (the command and its arguments) after an unconfirmed end it repeats that id."""
        engine, hall_id = self.app.engine, self.app.hall.id  # type: ignore[attr-defined]
        run_call(
            self,
            pressed_once(
                self.unconfirmed,
                key,
                lambda request_id: action(engine, hall_id, request_id),
                retrying=lambda: self.app.call_from_thread(self._say, pending_text(), error=True),
            ),
            done=lambda _: self._say(done_text),
            failed=lambda text: self._say(text, error=True),
            group="board-action",
            exclusive=False,
        )


def _parse_lines(text: str) -> list[tuple[str, int]]:
    parsed = []
    for entry in text.replace(",", " ").replace("，", " ").split():
        code, _, weight = entry.partition(":")
        if weight and not weight.isdigit():
            raise ValueError(
                tr(
                    f"{entry}：冒号后的权重须为整数，如 BIZ:2",
                    f"{entry}: the weight after ':' must be a whole number",
                )
            )
        parsed.append((lookup.code(code), int(weight or 1)))
    if not parsed:
        raise ValueError(tr("至少填写一条业务线", "give at least one line"))
    return parsed


def _lights_text(engine: Any, hall_id: int) -> str:
    """The hall's electronic supervision lights (yellow / red counts)."""
    from window_terminal.core.supervision import lights_summary

    try:
        counts = lights_summary(engine, hall_id)
    except Exception:
        return tr("[dim]电子监察：暂不可用[/]", "[dim]supervision: unavailable[/]")
    total = counts.get("total", counts)  # per kind, plus the hall's total
    yellow, red = int(total.get("yellow", 0)), int(total.get("red", 0))
    return tr(
        f"电子监察 [yellow]黄灯 {yellow}[/] / [red]红灯 {red}[/]",
        f"Supervision [yellow]yellow {yellow}[/] / [red]red {red}[/]",
    )
