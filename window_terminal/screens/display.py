"""The hall TV (``wt display``): the latest calls in large characters, waiting counts, the broadcast.

Only ticket numbers, window numbers, line names and the manager's broadcast appear here — never a
name, an ID number or a phone number. Each new call is highlighted for ``highlight_seconds`` and
announced with the hall's optional announce command.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import RenderResult
from rich.segment import Segment
from rich.style import Style
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.renderables.digits import DIGITS, DIGITS3X3, DIGITS3X3_BOLD
from textual.renderables.digits import Digits as DigitsRenderable
from textual.screen import Screen
from textual.widgets import Digits, Static

from window_terminal.core import hallview, queueing
from window_terminal.core.announce import announce
from window_terminal.db.clock import to_local
from window_terminal.i18n import tr, tr_lazy
from window_terminal.screens.keys import LocalizedKeys
from window_terminal.screens.live import follow_feed, show_connection
from window_terminal.screens.messages import ConnectionChanged, HallEvents
from window_terminal.screens.work import run_call

# Letters that Textual's Digits font lacks (line prefixes go A–Z), in the same 3×3 style.
EXTRA_GLYPHS: dict[str, tuple[str, str, str]] = {
    "G": ("┏━╸", "┃╺┓", "┗━┛"),
    "H": ("╻ ╻", "┣━┫", "╹ ╹"),
    "I": ("╺┳╸", " ┃ ", "╺┻╸"),
    "J": ("  ╻", "  ┃", "┗━┛"),
    "K": ("╻ ╻", "┣┳┛", "╹┗╸"),
    "L": ("╻  ", "┃  ", "┗━╸"),
    "M": ("┏┳┓", "┃┃┃", "╹╹╹"),
    "N": ("┏━┓", "┃ ┃", "╹ ╹"),
    "O": ("┏━┓", "┃ ┃", "┗━┛"),
    "P": ("┏━┓", "┣━┛", "╹  "),
    "Q": ("┏━┓", "┃ ┃", "┗━╋"),
    "R": ("┏━┓", "┣┳┛", "╹┗╸"),
    "S": ("┏━╸", "┗━┓", "╺━┛"),
    "T": ("╺┳╸", " ┃ ", " ╹ "),
    "U": ("╻ ╻", "┃ ┃", "┗━┛"),
    "V": ("╻ ╻", "┃ ┃", "┗━┛"),
    "W": ("╻╻╻", "┃┃┃", "┗┻┛"),
    "X": ("╻ ╻", "╺╋╸", "╹ ╹"),
    "Y": ("╻ ╻", "┗┳┛", " ╹ "),
    "Z": ("╺━┓", "┏━┛", "┗━╸"),
}


class _TicketDigitsRenderable(DigitsRenderable):
    def render(self, style: Style) -> RenderResult:
        rows: list[list[str]] = [[], [], []]
        font = DIGITS3X3_BOLD if style.bold else DIGITS3X3
        for character in self._text.upper():
            if character in EXTRA_GLYPHS:
                glyph = EXTRA_GLYPHS[character]
            elif character in DIGITS:
                position = DIGITS.index(character) * 3
                glyph = (font[position].ljust(3), font[position + 1].ljust(3), font[position + 2].ljust(3))
            else:
                glyph = (" ", " ", character)
            for row, piece in zip(rows, glyph, strict=True):
                row.append(piece)
        for row in rows:
            yield Segment("".join(row), style)
            yield Segment.line()

    @classmethod
    def get_width(cls, text: str) -> int:
        return sum(3 if c in DIGITS or c in EXTRA_GLYPHS else 1 for c in text.upper())


class TicketDigits(Digits):
    """Textual's ``Digits`` with every letter a line prefix may use."""

    def render(self) -> RenderResult:  # type: ignore[override]
        from rich.align import Align

        align = self.styles.text_align if self.styles.text_align in ("left", "center", "right") else "left"
        return Align(_TicketDigitsRenderable(self.value, self.rich_style), align, self.rich_style)  # type: ignore[return-value]  # Align is a Rich renderable; the stub types render() narrower

    def get_content_width(self, container: Any, viewport: Any) -> int:
        return _TicketDigitsRenderable.get_width(self.value)


class DisplayScreen(LocalizedKeys, Screen[None]):
    BINDINGS = [("q", "app.quit", tr_lazy("退出", "Quit")), ("escape", "app.quit", tr_lazy("退出", "Quit"))]
    DEFAULT_CSS = """
    DisplayScreen { background: $background; }
    DisplayScreen #connection { height: auto; padding: 0 1; display: none; }
    DisplayScreen #connection.offline { display: block; background: $error; color: $text; text-style: bold; }
    DisplayScreen #title { height: 3; content-align: center middle; text-style: bold; background: $primary;
                           color: $text; }
    DisplayScreen #main { height: 1fr; }
    DisplayScreen #newest { width: 3fr; height: 1fr; align: center middle; border: heavy $primary; padding: 1 2; }
    DisplayScreen #newest.fresh { border: heavy $warning; background: $warning 20%; }
    DisplayScreen #newest-label { width: 100%; content-align: center middle; height: 1; }
    DisplayScreen #big { height: 5; align: center middle; width: 100%; }
    DisplayScreen #big Digits { width: auto; margin: 1 1; text-style: bold; }
    DisplayScreen #big Static { width: auto; height: 5; content-align: center middle; text-style: bold; }
    DisplayScreen #call-text { width: 100%; height: 3; content-align: center middle; text-style: bold; }
    DisplayScreen #recent { width: 2fr; height: 1fr; border: round $primary; padding: 0 1; }
    DisplayScreen .call-row { height: 1; }
    DisplayScreen .call-row.newest { text-style: bold; color: $warning; }
    DisplayScreen #waiting { height: auto; border: round $secondary; padding: 0 1; }
    DisplayScreen #broadcast { height: 3; content-align: center middle; background: $accent 30%;
                               text-style: bold; }
    """

    def __init__(self, **_: Any) -> None:
        super().__init__()
        self.view: hallview.HallView | None = None
        self._shown: dict[str, str] = {}
        self._highlight_timer: Any = None

    def compose(self) -> ComposeResult:
        yield Static("", id="connection")
        yield Static(self.app.hall.name + tr(" · 叫号", " · calls"), id="title")  # type: ignore[attr-defined]
        with Horizontal(id="main"):
            with Vertical(id="newest"):
                yield Static(tr("请以下号码办理", "Now calling"), id="newest-label")
                with Horizontal(id="big"):
                    yield TicketDigits("", id="number")
                    yield Static(tr("号 → ", " → window "), id="arrow")  # "B011 → window 5"
                    yield Digits("", id="window")
                    yield Static(tr("号窗口", ""), id="window-label")
                yield Static(tr("正在读取…", "Loading…"), id="call-text")
            with Vertical(id="recent"):
                yield Static(tr("[b]最近呼叫[/]", "[b]Recent calls[/]"))
                for i in range(self._calls_shown()):
                    yield Static("", id=f"call-{i}", classes="call-row")
        yield Static("", id="waiting")
        yield Static("", id="broadcast")

    def _calls_shown(self) -> int:
        return int(queueing.threshold(self.app.hall.settings, "display_calls"))  # type: ignore[attr-defined]

    def on_mount(self) -> None:
        self.load_snapshot()

    def load_snapshot(self) -> None:
        """The hall's view; a display switched on before the database says so and waits."""
        engine, hall_id = self.app.engine, self.app.hall.id  # type: ignore[attr-defined]
        keep = self._calls_shown()
        run_call(
            self,
            lambda: hallview.load_view(engine, hall_id, keep_calls=keep),
            done=self.show_snapshot,
            failed=lambda text: show_connection(self, False, text),
            recovered=lambda: show_connection(self, True),
            group="display-load",
            retry=True,
        )

    def show_snapshot(self, view: hallview.HallView) -> None:
        self.view = view
        self.redraw(hallview.Changes(set(view.lines), set(), True, True))
        follow_feed(self, self.app.engine, self.app.hall.id, after=view.position, poll_seconds=0.5)  # type: ignore[attr-defined]

    @on(HallEvents)
    def hall_events(self, message: HallEvents) -> None:
        if self.view is None:
            return
        changes = self.view.apply_all(message.events)
        if changes:
            self.redraw(changes)
        command = getattr(self.app.settings, "announce_command", None)  # type: ignore[attr-defined]
        for call in changes.new_calls:
            announce(command, call.text, on_error=self._announce_failed)

    def _announce_failed(self, text: str) -> None:
        self.app.call_from_thread(self.log.warning, text)

    @on(ConnectionChanged)
    def connection(self, message: ConnectionChanged) -> None:
        show_connection(
            self,
            message.connected,
            tr("连接中断，正在重连…", "Connection lost, reconnecting…"),
            problem=message.problem,
        )

    def _set(self, selector: str, text: str) -> None:
        if self._shown.get(selector) != text:
            self._shown[selector] = text
            self.query_one(selector, Static).update(text)

    def redraw(self, changes: hallview.Changes) -> None:
        view = self.view
        if view is None:
            return
        with self.app.batch_update():
            if changes.calls:
                self._show_calls(view)
            if changes.lines:
                self._show_waiting(view)
            if changes.broadcast:
                self._set("#broadcast", view.broadcast)
                self.query_one("#broadcast").display = bool(view.broadcast)

    def _show_calls(self, view: hallview.HallView) -> None:
        calls = view.shown_calls(self._calls_shown())
        newest = calls[0] if calls else None
        number = self.query_one("#number", TicketDigits)
        window = self.query_one("#window", Digits)
        if newest is None:
            number.update("")
            window.update("")
            self._set("#call-text", tr("请留意叫号", "Please watch for your number"))
        else:
            if number.value != newest.number:
                number.update(newest.number)
            if window.value != str(newest.window):
                window.update(str(newest.window))
            self._set("#call-text", newest.text)
        for i in range(self._calls_shown()):
            text = ""
            if i < len(calls):
                call = calls[i]
                at = to_local(call.at, view.timezone).strftime("%H:%M")
                again = tr(" 重呼", " again") if call.kind == "ticket.recalled" else ""
                where = tr(f"{call.window:>2}号窗口", f"window {call.window:<2}")
                text = f"{call.number:<6} → {where}{again}   {at}"
            self._set(f"#call-{i}", text)
            self.query_one(f"#call-{i}").set_class(i == 0 and bool(text), "newest")
        self._highlight(newest)

    def _highlight(self, newest: hallview.Call | None) -> None:
        panel = self.query_one("#newest")
        if self._highlight_timer is not None:
            self._highlight_timer.stop()
            self._highlight_timer = None
        if newest is None:
            panel.remove_class("fresh")
            return
        seconds = float(queueing.threshold(self.app.hall.settings, "highlight_seconds"))  # type: ignore[attr-defined]
        now: datetime = self.app.now()  # type: ignore[attr-defined]
        age = (hallview.utc_naive(now, self.view.timezone) - newest.at).total_seconds() if self.view else 0
        left = seconds - max(0.0, age)
        panel.set_class(left > 0, "fresh")
        if left > 0:
            self._highlight_timer = self.set_timer(left, lambda: panel.remove_class("fresh"))

    def _show_waiting(self, view: hallview.HallView) -> None:
        now: datetime = self.app.now()  # type: ignore[attr-defined]
        shown = view.shown_waiting(now=now)
        parts = [f"{name} [b]{waiting}[/]{tr('人', '')}" for _, name, waiting in shown]
        self._set("#waiting", tr("等候人数  ", "Waiting  ") + "   ".join(parts))
