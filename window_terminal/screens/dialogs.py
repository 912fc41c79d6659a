"""Small modal dialogs of the counter and the intake: pick a line or a ticket, look up a case,
non-acceptance, manager override, document preview."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from window_terminal.i18n import tr, tr_lazy
from window_terminal.screens.keys import LocalizedKeys
from window_terminal.widgets.lists import ChoiceList

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 80; height: auto; max-height: 34; border: thick $accent; background: $surface; padding: 0 1; }}
{name} .title {{ text-style: bold; padding: 0 0 1 0; }}
{name} .error {{ color: $error; height: auto; }}
{name} Horizontal {{ height: auto; }}
{name} Button {{ margin: 0 1 0 0; }}
{name} OptionList {{ height: auto; max-height: 16; }}
"""


class PickDialog(LocalizedKeys, ModalScreen[str | None]):
    """Choose one of a few options (a line to transfer to, a parked ticket to call back)."""

    DEFAULT_CSS = DIALOG_CSS.format(name="PickDialog")
    BINDINGS = [("escape", "cancel", tr_lazy("取消", "Cancel"))]

    def __init__(self, title: str, options: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.options = options

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title")
            if self.options:
                yield ChoiceList(*(Option(label, id=key) for key, label in self.options), id="pick")
            else:
                yield Label(tr("（没有可选项）", "(nothing to choose)"))

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class AskDialog(LocalizedKeys, ModalScreen[str | None]):
    """One line of input (a case number, query code or ID number)."""

    DEFAULT_CSS = DIALOG_CSS.format(name="AskDialog")
    BINDINGS = [("escape", "cancel", tr_lazy("取消", "Cancel"))]

    def __init__(self, title: str, placeholder: str = "", value: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.placeholder = placeholder
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title")
            yield Input(value=self.value, placeholder=self.placeholder, id="ask")

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TextDialog(LocalizedKeys, ModalScreen[str | None]):
    """A text to read (document preview, case status) with a few buttons; returns the button id."""

    DEFAULT_CSS = (
        DIALOG_CSS.format(name="TextDialog")
        + """
    TextDialog > Vertical { width: 90; }
    TextDialog VerticalScroll { height: auto; max-height: 26; }
    """
    )
    BINDINGS = [("escape", "close", tr_lazy("关闭", "Close")), ("enter", "enter", tr_lazy("确定", "OK"))]

    def __init__(
        self,
        title: str,
        text: str,
        buttons: list[tuple[str, str]] | None = None,
        default: str | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.buttons = buttons or []
        self.default = default  # the button Enter presses (it says so); otherwise Enter closes

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title", id="dialog_title")
            with VerticalScroll():
                yield Static(self.text, id="dialog_text", markup=False)
            with Horizontal():
                for key, label in self.buttons:
                    if key == self.default:
                        yield Button(f"{label} (Enter)", id=key, variant="success")
                    else:
                        yield Button(label, id=key)
                yield Button(
                    tr("关闭 (Esc)", "Close (Esc)"),
                    id="close",
                    variant="default" if self.default else "primary",
                )

    def on_mount(self) -> None:
        if self.default:
            self.query_one(f"#{self.default}", Button).focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None if event.button.id == "close" else event.button.id)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_enter(self) -> None:
        """Enter presses the default button (记录取件 on a decided case); without one it closes."""
        focused = self.focused
        if isinstance(focused, Button):
            focused.press()
            return
        self.dismiss(self.default)


class NonAcceptanceDialog(LocalizedKeys, ModalScreen[dict[str, Any] | None]):
    """不予受理: the reason (no licence needed / another office's competence) — or a transfer."""

    DEFAULT_CSS = DIALOG_CSS.format(name="NonAcceptanceDialog")
    BINDINGS = [("escape", "cancel", tr_lazy("取消", "Cancel"))]

    def __init__(self, transfer_to: tuple[str, str] | None = None) -> None:
        super().__init__()
        self.transfer_to = transfer_to

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(tr("不予受理", "Non-acceptance"), classes="title")
            if self.transfer_to:
                code, name = self.transfer_to
                yield Label(
                    tr(
                        f"该事项属本大厅“{name}”（{code}）办理：建议转号，保留排队位置",
                        f"this item belongs to line {code} ({name}) of this hall: transfer the ticket, it keeps its place",
                    )
                )
                yield Button(tr(f"转至 {code} 办理", f"Transfer to {code}"), id="transfer", variant="success")
            yield Input(
                placeholder=tr("有权机关（非本机关职权时必填）", "Competent office (required if not ours)"),
                id="office",
            )
            yield Input(placeholder=tr("理由（可选，留空用标准表述）", "Reason (optional)"), id="reason")
            yield Label("", classes="error", id="dialog_error")
            with Horizontal():
                yield Button(tr("不需要取得许可", "No licence needed"), id="no_licence_needed")
                yield Button(tr("非本机关职权", "Not our competence"), id="not_competent", variant="warning")
                yield Button(tr("取消", "Cancel"), id="cancel")

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        key = event.button.id
        if key == "cancel":
            self.dismiss(None)
        elif key == "transfer" and self.transfer_to:
            self.dismiss({"transfer": self.transfer_to[0]})
        else:
            office = self.query_one("#office", Input).value.strip()
            if key == "not_competent" and not office:
                self.query_one("#dialog_error", Label).update(
                    tr(
                        "请填写有权机关名称（申请人应向哪个机关申请）",
                        "name the competent office the applicant should go to",
                    )
                )
                self.query_one("#office", Input).focus()
                return
            reason = self.query_one("#reason", Input).value.strip()
            self.dismiss({"reason_kind": key, "competent_office": office, "reason": reason})

    def action_cancel(self) -> None:
        self.dismiss(None)


class OverrideDialog(LocalizedKeys, ModalScreen[dict[str, str] | None]):
    """A hall manager authorises a second one-time notice (recorded and reported as a breach)."""

    DEFAULT_CSS = DIALOG_CSS.format(name="OverrideDialog")
    BINDINGS = [("escape", "cancel", tr_lazy("取消", "Cancel"))]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                tr(
                    "管理员授权再次告知（将记为违规）",
                    "Manager override: second notice (recorded as a breach)",
                ),
                classes="title",
            )
            yield Input(placeholder=tr("管理员工号", "Manager staff code"), id="manager")
            yield Input(placeholder="PIN", password=True, id="pin")
            yield Input(placeholder=tr("原因（必填）", "Reason (required)"), id="reason")
            yield Label("", classes="error", id="dialog_error")
            with Horizontal():
                yield Button(tr("授权", "Authorise"), id="ok", variant="warning")
                yield Button(tr("取消", "Cancel"), id="cancel")

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.dismiss(None)
            return
        values = {k: self.query_one(f"#{k}", Input).value.strip() for k in ("manager", "pin", "reason")}
        if not all(values.values()):
            self.query_one("#dialog_error", Label).update(
                tr("请填写管理员工号、PIN 和原因", "enter the manager's code, PIN and a reason")
            )
            return
        self.dismiss(values)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PinChangeDialog(LocalizedKeys, ModalScreen[Any]):
    """The first sign-in with an initial PIN: choose a new PIN (twice) before anything else."""

    DEFAULT_CSS = DIALOG_CSS.format(name="PinChangeDialog")
    BINDINGS = [("escape", "cancel", tr_lazy("取消", "Cancel"))]

    def __init__(self, staff: Any, old_pin: str) -> None:
        super().__init__()
        self.staff = staff
        self.old_pin = old_pin

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                tr(
                    f"{self.staff.name}：首次登录，请设置新的PIN（至少6位数字）",
                    f"{self.staff.name}: first sign-in, choose a new PIN (6 digits or more)",
                ),
                classes="title",
            )
            yield Input(placeholder=tr("新PIN", "new PIN"), password=True, id="new_pin")
            yield Input(placeholder=tr("再次输入新PIN", "new PIN again"), password=True, id="again")
            yield Label("", id="pin_error", classes="error")
            with Horizontal():
                yield Button(tr("确定", "OK"), id="ok", variant="primary")
                yield Button(tr("取消", "Cancel"), id="cancel")

    def on_mount(self) -> None:
        self.query_one("#new_pin", Input).focus()

    @on(Input.Submitted, "#new_pin")
    def next_field(self) -> None:
        self.query_one("#again", Input).focus()

    @on(Input.Submitted, "#again")
    @on(Button.Pressed, "#ok")
    def submit(self) -> None:
        from window_terminal.core.staff import change_pin
        from window_terminal.screens.work import run_call

        new = self.query_one("#new_pin", Input).value
        again = self.query_one("#again", Input).value
        if new != again:
            self._error(tr("两次输入的新PIN不一致", "the two new PINs differ"))
            return
        engine, hall_id = self.app.engine, self.app.hall.id  # type: ignore[attr-defined]
        code, old = self.staff.code, self.old_pin
        run_call(
            self,
            lambda: change_pin(engine, hall_id, code, old, new),
            done=self.dismiss,
            failed=self._error,
            group="pin",
        )

    def _error(self, text: str) -> None:
        self.query_one("#pin_error", Label).update(text)
        for field in ("#new_pin", "#again"):
            self.query_one(field, Input).value = ""
        self.query_one("#new_pin", Input).focus()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(LocalizedKeys, ModalScreen[bool]):
    """Before an outcome that cannot be taken back: what will be issued, and one question. Enter (the
    focused confirm button) issues it; Esc goes back with nothing done."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmDialog")
    BINDINGS = [("escape", "cancel", tr_lazy("取消", "Cancel"))]

    def __init__(self, title: str, lines: list[str], confirm: str) -> None:
        super().__init__()
        self.title_text = title
        self.lines = lines
        self.confirm_label = confirm

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title")
            with VerticalScroll(id="confirm_body"):
                for line in self.lines:
                    yield Static(line)
            with Horizontal():
                yield Button(self.confirm_label, id="confirm", variant="warning")
                yield Button(tr("返回修改", "Go back"), id="cancel")

    def on_mount(self) -> None:
        self.query_one("#confirm", Button).focus()

    @on(Button.Pressed, "#confirm")
    def confirmed(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
