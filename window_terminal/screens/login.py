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
from window_terminal.errors import DomainError
from window_terminal.i18n import language, tr, tr_lazy
from window_terminal.screens.keys import LocalizedKeys
from window_terminal.screens.work import run_call


class LoginScreen(LocalizedKeys, Screen[None]):
    BINDINGS = [("escape", "app.quit", tr_lazy("退出", "Quit"))]
    DEFAULT_CSS = """
    LoginScreen { align: center middle; }
    LoginScreen #box { width: 60; height: auto; border: thick $accent; padding: 1 2; }
    LoginScreen .title { text-style: bold; width: 100%; content-align: center middle; }
    LoginScreen .error { color: $error; height: auto; }
    """

    def __init__(self, window: int | None = None, target: str | None = None, **options: Any) -> None:
        super().__init__()
        self.window = window
        self.target = target  # the screen to open after sign-in (None: the role's home screen)
        self.options = options

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
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#staff_code", Input).focus()

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        order = ["staff_code", "pin", "window"]
        key = event.input.id or ""
        if key in order[:-1] and not self.query_one("#pin", Input).value:
            self.query_one(f"#{order[order.index(key) + 1]}", Input).focus()
            return
        self.sign_in()

    @on(Button.Pressed, "#login")
    def pressed(self) -> None:
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
            failed=self.error,
            group="login",
        )

    def error(self, text: str) -> None:
        self.query_one("#login_error", Label).update(
            text + tr("（PIN 已清空，请重新输入）", " (the PIN was cleared: type it again)")
        )
        self.query_one("#pin", Input).value = ""
        self.query_one("#pin", Input).focus()

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
            try:
                options["window"] = lookup.window_number(window_text)
            except DomainError as exc:
                self.query_one("#login_error", Label).update(exc.text(language()))
                self.query_one("#window", Input).focus()
                return
        elif home == "backoffice":
            options.setdefault("department", staff.department)
        self.app.open_screen(home, **options)  # type: ignore[attr-defined]
