"""Sign-in: staff code + PIN, then the screen asked for (``target``) or the staff member's home screen.

Every staff screen started without a valid `wt login` session starts here. A PIN still at its
initial value (from the hall definition) must be changed before any screen opens.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static

from window_terminal.core import lookup
from window_terminal.i18n import tr, tr_lazy
from window_terminal.screens.keys import LocalizedKeys
from window_terminal.screens.work import run_call


class LoginScreen(LocalizedKeys, Screen[None]):
    BINDINGS = [("escape", "app.quit", tr_lazy("退出", "Quit"))]
    DEFAULT_CSS = """
    LoginScreen { align: center middle; }
    LoginScreen #box { width: 60; height: auto; border: thick $accent; padding: 1 2; }
    LoginScreen .title { text-style: bold; width: 100%; content-align: center middle; }
    LoginScreen .error { color: $error; height: auto; width: 100%; background: transparent; }
    """

    def __init__(self, window: int | None = None, target: str | None = None, **options: Any) -> None:
        super().__init__()
        self.window = window
        self.target = target  # the screen to open after sign-in (None: the role's home screen)
        self.options = options
        self.pending: Any = None  # signed in, the counter's window still to be typed

    def compose(self) -> ComposeResult:
        with Vertical(id="box"):
            yield Static(self.app.hall.name, classes="title")  # type: ignore[attr-defined]
            yield Label(tr("工作人员登录", "Staff sign-in"), classes="title")
            yield Input(placeholder=tr("工号（如 C001）", "Staff code (e.g. C001)"), id="staff_code")
            yield Input(placeholder="PIN", password=True, id="pin")
            yield Input(
                value=str(self.window) if self.window else "",
                placeholder=tr("窗口号（窗口人员填写）", "Window number (counter clerks)"),
                id="window",
            )
            yield Label("", id="login_error", classes="error")
            yield Button(tr("登录", "Sign in"), id="login", variant="primary")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#staff_code", Input).focus()

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        """Enter goes to the next empty field; it signs in from the PIN only when no window is needed.

        A counter clerk's window is asked for after the PIN was checked (``pending``): the PIN is not
        typed twice, and Enter in the PIN field never opens a counter without its window.
        """
        key = event.input.id or ""
        if key == "staff_code":
            self.pending = None
            if not self.query_one("#pin", Input).value:
                self.query_one("#pin", Input).focus()
                return
        if key == "window" and self.pending is not None:
            self.signed_in(self.pending, event.value, "")
            return
        self.sign_in()

    @on(Input.Changed, "#staff_code")
    def code_changed(self) -> None:
        self.pending = None  # another person: the PIN must be checked again

    @on(Button.Pressed, "#login")
    def pressed(self) -> None:
        if self.pending is not None:
            self.signed_in(self.pending, self.query_one("#window", Input).value, "")
            return
        self.sign_in()

    def sign_in(self) -> None:
        code = self.query_one("#staff_code", Input).value
        pin = self.query_one("#pin", Input).value
        window_text = self.query_one("#window", Input).value
        self.check(code, pin, window_text)

    def check(self, code: str, pin: str, window_text: str) -> None:
        from window_terminal.core.staff import login

        engine, hall_id = self.app.engine, self.app.hall.id  # type: ignore[attr-defined]
        run_call(
            self,
            lambda: login(engine, hall_id, code, pin),
            done=lambda staff: self.signed_in(staff, window_text, pin),
            failed=lambda text: self.error(text, cleared=bool(pin)),
            group="login",
        )

    def error(self, text: str, cleared: bool = True) -> None:
        self.query_one("#login_error", Label).update(
            text
            + (tr("（PIN 已清空，请重新输入）", " (the PIN was cleared: type it again)") if cleared else "")
        )
        pin = self.query_one("#pin", Input)
        pin.value = ""
        if self.query_one("#staff_code", Input).value.strip():
            pin.focus()
        else:
            self.query_one("#staff_code", Input).focus()

    def ask_window(self, staff: Any, text: str) -> None:
        """The PIN was right; the window is missing or wrong: ask for it, keeping the sign-in."""
        self.pending = staff
        self.query_one("#login_error", Label).update(text)
        field = self.query_one("#window", Input)
        field.focus()
        field.action_select_all()

    def signed_in(self, staff: Any, window_text: str, pin: str) -> None:
        self.query_one("#pin", Input).value = ""
        if staff.pin_initial:
            from window_terminal.screens.dialogs import PinChangeDialog

            def changed(result: Any) -> None:
                if result is None:
                    self.query_one("#login_error", Label).update(
                        tr("须先修改初始PIN才能继续", "the initial PIN must be changed to go on")
                    )
                    return
                self.signed_in(result, window_text, "")

            self.app.push_screen(PinChangeDialog(staff, pin), changed)
            return
        from window_terminal.core import access

        home = self.target or staff.home
        if home in access.STAFF_SCREENS and not access.may_open(staff.role, home):
            zh, en = access.role_name(staff.role)
            self.query_one("#login_error", Label).update(
                tr(f"{staff.name}（{zh}）不能使用此界面", f"{staff.code} ({en}) cannot use this screen")
            )
            return
        options: dict[str, Any] = {**self.options, "staff_code": staff.code}
        if home == "counter":
            if not lookup.typed(window_text):
                self.ask_window(
                    staff,
                    tr(
                        f"{staff.name}，PIN 正确：请输入窗口号后按回车",
                        f"{staff.code}: PIN accepted; type your window number and press Enter",
                    ),
                )
                return
            self.open_counter(staff, window_text, options)
            return
        if home == "backoffice":
            options.setdefault("department", staff.department)
        self.app.open_screen(home, **options)  # type: ignore[attr-defined]

    def open_counter(self, staff: Any, window_text: str, options: dict[str, Any]) -> None:
        """Open the counter only for a window of this hall (window 99 used to hang on "connecting")."""
        from window_terminal.core.intake import counter_view

        engine, hall_id = self.app.engine, self.app.hall.id  # type: ignore[attr-defined]

        def check() -> int:
            number = lookup.window_number(window_text)
            counter_view(engine, hall_id, number, recent=0)  # refuses a window the hall does not have
            return number

        def opened(number: int) -> None:
            self.pending = None
            self.app.open_screen("counter", **{**options, "window": number})  # type: ignore[attr-defined]

        run_call(
            self, check, done=opened, failed=lambda text: self.ask_window(staff, text), group="login-window"
        )
