"""Login: staff code + PIN, then the screen of the staff member's role."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static

from window_terminal.errors import DomainError
from window_terminal.i18n import language, tr


class LoginScreen(Screen[None]):
    BINDINGS = [("escape", "app.quit", tr("退出", "Quit"))]
    DEFAULT_CSS = """
    LoginScreen { align: center middle; }
    LoginScreen #box { width: 60; height: auto; border: thick $accent; padding: 1 2; }
    LoginScreen .title { text-style: bold; width: 100%; content-align: center middle; }
    LoginScreen .error { color: $error; height: auto; }
    """

    def __init__(self, window: int | None = None, **options: Any) -> None:
        super().__init__()
        self.window = window
        self.options = options

    def compose(self) -> ComposeResult:
        with Vertical(id="box"):
            yield Static(self.app.hall.name, classes="title")  # type: ignore[attr-defined]  # WindowTerminalApp's attribute; self.app is typed App
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
        window_text = self.query_one("#window", Input).value.strip()
        self.check(code, pin, window_text)

    @work(thread=True, exclusive=True, group="login", exit_on_error=False)
    def check(self, code: str, pin: str, window_text: str) -> None:
        from window_terminal.core.staff import login

        app = self.app
        try:
            staff = login(app.engine, app.hall.id, code, pin)  # type: ignore[attr-defined]  # WindowTerminalApp's attribute; self.app is typed App
        except DomainError as exc:
            app.call_from_thread(self.error, exc.text(language()))
            return
        except Exception as exc:
            app.call_from_thread(self.error, tr(f"数据库不可用：{exc}", f"database unavailable: {exc}")[:200])
            return
        app.call_from_thread(self.signed_in, staff, window_text)

    def error(self, text: str) -> None:
        self.query_one("#login_error", Label).update(text)
        self.query_one("#pin", Input).value = ""
        self.query_one("#pin", Input).focus()

    def signed_in(self, staff: Any, window_text: str) -> None:
        self.query_one("#pin", Input).value = ""
        home = staff.home
        options: dict[str, Any] = {"staff_code": staff.code}
        if home == "counter":
            if not window_text.isdigit():
                self.query_one("#login_error", Label).update(
                    tr("请填写您所在的窗口号（数字）", "enter the number of your window")
                )
                self.query_one("#window", Input).focus()
                return
            options["window"] = int(window_text)
        elif home == "backoffice":
            options["department"] = staff.department
        self.app.open_screen(home, **options)  # type: ignore[attr-defined]  # WindowTerminalApp's attribute; self.app is typed App
