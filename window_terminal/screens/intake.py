"""The intake screen (受理): applicant, service item, materials checklist, exactly one outcome.

Also the return visit of a case with a one-time notice (``case_no=``): only the listed materials
are checked, and the one-time rule is enforced by the domain (``intake.supplement``).
The form is saved as a local draft on every change (debounced) and restored when reopened.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from window_terminal.core import drafts, intake
from window_terminal.i18n import language, tr, tr_lazy
from window_terminal.screens.keys import LocalizedKeys
from window_terminal.screens.work import pending_text, pressed_once, run_call
from window_terminal.widgets.lists import ChoiceList
from window_terminal.widgets.tables import add_columns

ID_TYPES = [
    ("resident_id", "居民身份证", "Resident ID"),
    ("passport", "护照", "Passport"),
    ("hk_macao_permit", "港澳居民来往内地通行证", "HK/Macao permit"),
    ("taiwan_permit", "台湾居民来往大陆通行证", "Taiwan permit"),
    ("foreign_permanent", "外国人永久居留身份证", "Foreign permanent resident ID"),
    ("credit_code", "统一社会信用代码", "Credit code"),
]
STATUS_TEXT = {
    "received": ("已收", "received"),
    "missing": ("缺少", "missing"),
    "defective": ("不合格", "defective"),
    "commitment": ("告知承诺", "commitment"),
    "deferred": ("容缺后补", "deferred"),
    "not_applicable": ("不适用", "n/a"),
}


# One key per state of a material (shown in the footer while the checklist has the focus).
STATE_KEYS = [
    ("1", "received", "已收", "recv"),
    ("2", "missing", "缺少", "missing"),
    ("3", "defective", "不合格", "defective"),
    ("4", "commitment", "承诺", "commit"),
    ("5", "deferred", "容缺", "defer"),
    ("0", "not_applicable", "不适用", "n/a"),
]
_COUNTS = Binding.Group(tr_lazy("原件", "orig"), compact=True)
_COPIES = Binding.Group(tr_lazy("复印", "copies"), compact=True)


class MaterialsTable(DataTable):
    """The checklist: 1-5/0 set a material's state, space cycles it, +/- originals, ]/[ copies."""

    BINDINGS = [
        *[Binding(key, f"state('{state}')", tr_lazy(zh, en)) for key, state, zh, en in STATE_KEYS],
        Binding("space", "cycle", tr_lazy("切换状态", "Cycle status"), show=False),
        Binding(
            "plus,equals_sign",
            "count(1, 0)",
            tr_lazy("原件+1", "Originals +1"),
            key_display="+",
            group=_COUNTS,
        ),
        Binding("minus", "count(-1, 0)", tr_lazy("原件-1", "Originals -1"), key_display="-", group=_COUNTS),
        Binding(
            "right_square_bracket",
            "count(0, 1)",
            tr_lazy("复印件+1", "Copies +1"),
            key_display="]",
            group=_COPIES,
        ),
        Binding(
            "left_square_bracket",
            "count(0, -1)",
            tr_lazy("复印件-1", "Copies -1"),
            key_display="[",
            group=_COPIES,
        ),
        # shown on the material's detail line under the table (the footer is full at 80 columns)
        Binding("n", "note", tr_lazy("补正说明", "Correction note"), show=False),
    ]

    def action_note(self) -> None:
        self.screen.edit_note(self.cursor_row)  # type: ignore[attr-defined]

    def action_cycle(self) -> None:
        self.screen.cycle_material(self.cursor_row)  # type: ignore[attr-defined]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only the states the highlighted material allows are offered (and shown in the footer)."""
        if action == "state" and parameters:
            return self.screen.state_allowed(self.cursor_row, str(parameters[0]))  # type: ignore[attr-defined]
        return True

    def action_state(self, state: str) -> None:
        self.screen.set_material_state(self.cursor_row, state)  # type: ignore[attr-defined]

    def action_count(self, originals: int, copies: int) -> None:
        self.screen.change_count(self.cursor_row, originals, copies)  # type: ignore[attr-defined]


class SearchInput(Input):
    """The item search: Up/Down move the result list while the clerk keeps typing."""

    BINDINGS = [
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
    ]

    def action_move(self, step: int) -> None:
        self.screen.move_result(step)  # type: ignore[attr-defined]


class IntakeScreen(LocalizedKeys, Screen[dict[str, Any] | None]):
    # The outcome keys are written on their buttons; the footer keeps room for the checklist's keys.
    BINDINGS = [
        Binding("f5", "outcome('accept')", tr_lazy("受理", "Accept"), key_display="F5", show=False),
        Binding(
            "f6", "outcome('notice')", tr_lazy("一次性告知", "One-time notice"), key_display="F6", show=False
        ),
        Binding(
            "f7", "outcome('deficiency')", tr_lazy("容缺受理", "Deficiency"), key_display="F7", show=False
        ),
        Binding(
            "f8",
            "outcome('non_acceptance')",
            tr_lazy("不予受理", "Non-acceptance"),
            key_display="F8",
            show=False,
        ),
        Binding("f3", "cycle_id_type", tr_lazy("证件类型", "ID type"), key_display="F3", show=False),
        Binding("f4", "find_item", tr_lazy("事项", "Item"), key_display="F4"),
        Binding("f9", "toggle_agent", tr_lazy("代理人", "Agent"), key_display="F9"),
        Binding("escape", "leave", tr_lazy("返回", "Back")),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    DEFAULT_CSS = """
    IntakeScreen #intake_header { height: 1; background: $primary; padding: 0 1; }
    IntakeScreen #form { width: 48; padding: 0 1; }
    IntakeScreen.-narrow #form { width: 30; padding: 0 0 0 1; }
    IntakeScreen #right { width: 1fr; padding: 0 1; }
    IntakeScreen Input { height: 3; }
    IntakeScreen .caption { text-style: bold; }
    IntakeScreen .error { color: $error; height: auto; width: 100%; background: transparent; }
    IntakeScreen #id_type { height: 1; width: 100%; border: none; min-width: 10; }
    IntakeScreen #agent_box { height: auto; display: none; }
    IntakeScreen #agent_box.shown { display: block; }
    IntakeScreen #item_results { height: 5; }
    IntakeScreen.-narrow #item_results { height: 4; }
    IntakeScreen #item_label { height: auto; max-height: 2; }
    IntakeScreen #materials { height: 1fr; }
    IntakeScreen #material_detail { height: auto; max-height: 2; color: $text-muted; }
    IntakeScreen #earlier { height: auto; max-height: 4; color: $warning; text-style: bold; display: none; }
    IntakeScreen #earlier.shown { display: block; }
    IntakeScreen #outcomes { height: 1; }
    IntakeScreen #outcomes Button { margin: 0 1 0 0; min-width: 6 !important; width: auto; height: 1; padding: 0; }
    IntakeScreen #message { height: auto; max-height: 3; padding: 0 1; color: $warning; }
    """

    def __init__(
        self,
        window: int | None = None,
        staff_code: str | None = None,
        ticket: dict[str, Any] | None = None,
        case_no: str | None = None,
        **_: Any,
    ) -> None:
        super().__init__()
        self.window = window
        self.staff_code = staff_code
        self.ticket = ticket
        self.case_no = case_no
        self.item: intake.ItemInfo | None = None
        self.checks: list[intake.MaterialCheck] = []
        self.in_notice: set[int] = set()
        self.id_type = "resident_id"
        self.request_id = uuid.uuid4().hex
        self.unconfirmed: dict[str, str] = {}  # command -> request id of a send whose end is unknown
        self.busy = False
        self.done = False
        self.index: Any = None
        self._draft_timer: Any = None
        self._restoring = False
        self.result: intake.CaseResult | None = None
        self.shown_errors: set[str] = set()
        self.draft_key = drafts.draft_key(
            ticket_id=ticket["ticket_id"] if ticket else None, window=window, case_no=case_no
        )

    # --- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(self.header_text(), id="intake_header")
        with Horizontal():
            with VerticalScroll(id="form"):
                yield Label(tr("申请人姓名 *", "Applicant name *"), classes="caption")
                yield Input(id="name")
                yield Label("", id="name_error", classes="error")
                yield Button(self.id_type_label(), id="id_type")
                yield Input(placeholder=tr("证件号码", "ID number"), id="id_number")
                yield Label("", id="id_number_error", classes="error")
                yield Input(
                    placeholder=tr("联系电话（手机或固话）", "Phone (mobile or landline)"), id="phone"
                )
                yield Label("", id="phone_error", classes="error")
                yield Label(
                    tr("代理人（可选）F9", "Agent (optional) F9"), classes="caption", id="agent_caption"
                )
                with Vertical(id="agent_box"):
                    yield Input(placeholder=tr("代理人姓名", "Agent name"), id="agent_name")
                    yield Input(placeholder=tr("代理人身份证号", "Agent resident ID"), id="agent_id_number")
                    yield Label("", id="agent_error", classes="error")
                    yield Input(placeholder=tr("代理人电话", "Agent phone"), id="agent_phone")
            with Vertical(id="right"):
                yield SearchInput(
                    placeholder=tr(
                        "F4 事项：名称、编码或拼音首字母 yyzz",
                        "F4 item: name, code or initials (yyzz)",
                    ),
                    id="item_search",
                )
                yield ChoiceList(id="item_results")
                yield Static(tr("未选择事项", "no item chosen"), id="item_label")
                yield MaterialsTable(id="materials", cursor_type="row", zebra_stripes=True)
                yield Static("", id="material_detail")
                yield Static("", id="earlier", markup=False)
                with Horizontal(id="outcomes"):
                    if self.case_no:
                        yield Button(
                            tr("F5 补正收件", "F5 Supplement"),
                            id="supplement",
                            variant="success",
                            compact=True,
                        )
                        yield Button(
                            tr("管理员授权再次告知", "Manager override"),
                            id="override",
                            variant="warning",
                            compact=True,
                        )
                    else:
                        yield Button(tr("F5 受理", "F5 Accept"), id="accept", variant="success", compact=True)
                        yield Button(tr("F6 告知", "F6 Notice"), id="notice", variant="warning", compact=True)
                        yield Button(
                            tr("F7 容缺", "F7 Deficient"), id="deficiency", variant="primary", compact=True
                        )
                        yield Button(
                            tr("F8 不予受理", "F8 Refuse"), id="non_acceptance", variant="error", compact=True
                        )
        yield Static("", id="message", markup=False)
        yield Footer(compact=True)

    def header_text(self) -> str:
        who = (
            tr(f"排队号 {self.ticket['number']}", f"ticket {self.ticket['number']}")
            if self.ticket
            else tr("散客（无排队号）", "walk-in (no ticket)")
        )
        mode = (
            tr(f"补正回访 {self.case_no}", f"return visit {self.case_no}")
            if self.case_no
            else tr("受理收件", "Intake")
        )
        window = tr(f"{self.window}号窗口", f"window {self.window}") if self.window else ""
        return f"{mode}  |  {window}  |  {who}"

    def id_type_label(self) -> str:
        name = next((tr(zh, en) for key, zh, en in ID_TYPES if key == self.id_type), self.id_type)
        return tr(f"F3 证件类型：{name}", f"F3 ID type: {name}")

    def on_mount(self) -> None:
        self.query_one("#id_type", Button).can_focus = False  # F3 switches it: Tab goes name → ID → phone
        add_columns(
            self.query_one("#materials", MaterialsTable),
            [
                ("name", "材料", "Material", 20),
                ("required", "必需", "Req", 4),
                ("status", "状态", "Status", 9),
                ("originals", "原件", "Orig", 4),
                ("copies", "复印", "Copy", 4),
            ],
        )
        self.query_one("#name", Input).focus()
        self.load()
        self.start_service()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The return visit checks listed materials only: no other outcome, no applicant edits."""
        if self.case_no and (
            (action == "outcome" and parameters and parameters[0] != "accept")
            or action in ("cycle_id_type", "find_item", "toggle_agent")
        ):
            return False
        return True

    def on_resize(self) -> None:
        self.call_after_refresh(self.fit_name_column)

    def fit_name_column(self) -> None:
        """The material's name takes what the other columns leave (names were cut even at 160 columns)."""
        from textual.widgets.data_table import ColumnKey

        table = self.query_one("#materials", MaterialsTable)
        if "name" not in {k.value for k in table.columns}:
            return
        others = sum(c.width + 2 for k, c in table.columns.items() if k.value != "name")
        width = max(12, table.size.width - others - 2 - 1)  # its own padding, the scroll bar
        column = table.columns[ColumnKey("name")]
        if column.width != width:
            column.width = width
            table._require_update_dimensions = True
            table.refresh()

    def start_service(self) -> None:
        """Opening the intake puts a called ticket in service (the counter and board show 办理中)."""
        from window_terminal.core import queueing

        if not self.ticket or self.ticket.get("status") != "called" or self.window is None:
            return
        app = self.app
        run_call(
            self,
            lambda: queueing.start_service(
                app.engine,  # type: ignore[attr-defined]
                app.hall.id,  # type: ignore[attr-defined]
                self.window or 0,
                actor=self.staff_code,
                request_id=self.request_id + "-start",
            ),
            done=lambda info: self.ticket.update(status=info.status) if self.ticket else None,
            failed=self.say,
            group="intake-start",
        )

    def action_find_item(self) -> None:
        field = self.query_one("#item_search", Input)
        if not field.disabled:
            field.focus()

    def action_toggle_agent(self) -> None:
        if self.case_no:
            return
        box = self.query_one("#agent_box")
        box.toggle_class("shown")
        if box.has_class("shown"):
            self.query_one("#agent_name", Input).focus()

    # --- loading --------------------------------------------------------------------------------

    def load(self) -> None:
        """The catalogue, and the case or the draft's item; retried until the database answers."""
        from window_terminal.core.catalogue import catalogue_index

        app = self.app
        engine, hall_id = app.engine, app.hall.id  # type: ignore[attr-defined]

        def read() -> tuple[Any, dict[str, Any] | None, Any]:
            draft = drafts.load_draft(app.settings.drafts_path, self.draft_key)  # type: ignore[attr-defined]
            self.index = catalogue_index(engine, hall_id)
            if self.case_no:
                return "case", draft, intake.case_view(engine, hall_id, self.case_no)
            item = None
            if draft and draft.get("item"):
                item = intake.item_info(engine, hall_id, draft["item"])
            elif self.ticket and self.ticket.get("service_item_id"):
                item = intake.item_info(engine, hall_id, int(self.ticket["service_item_id"]))
            return "item", draft, item

        def loaded(result: tuple[Any, dict[str, Any] | None, Any]) -> None:
            kind, draft, value = result
            self.say("")
            if kind == "case":
                self.show_case(value, draft)
            else:
                self.restore(draft, value)

        run_call(
            self,
            read,
            done=loaded,
            failed=self.say,
            offline=lambda text: self.say(
                text + tr("；表单内容会保存为草稿", "; the form is kept as a draft")
            ),
            group="intake-load",
            retry=True,
        )

    def restore(self, draft: dict[str, Any] | None, item: intake.ItemInfo | None) -> None:
        self._restoring = True
        if draft:
            for key in ("name", "id_number", "phone", "agent_name", "agent_id_number", "agent_phone"):
                self.query_one(f"#{key}", Input).value = draft.get(key, "")
            self.id_type = draft.get("id_type", "resident_id")
            if draft.get("agent_name"):
                self.query_one("#agent_box").add_class("shown")
            self.query_one("#id_type", Button).label = self.id_type_label()
            self.say(tr("已恢复未完成的草稿", "restored the unfinished draft"))
        self.results(self.query_one("#item_search", Input).value)
        if item is not None:
            checks = None
            if draft and draft.get("checks") and draft.get("item") == item.code:
                checks = [intake.MaterialCheck(**c) for c in draft["checks"]]
            self.set_item(item, checks)
        self.call_after_refresh(self._restored)

    def _restored(self) -> None:
        self._restoring = False
        self.look_for_earlier()

    # --- the applicant's earlier one-time notice (Art. 32: once per applicant and item) ----------

    def look_for_earlier(self) -> None:
        """Before the clerk decides: has this applicant an earlier notice for this item still
        awaiting its supplement? Read from the core once the applicant's details and the item are
        known; shown above the outcome keys."""
        if self.case_no or self.item is None or intake.applicant_problems(self.applicant()):
            self.show_earlier(None)
            return
        app = self.app
        applicant, item_id = self.applicant(), self.item.id
        run_call(
            self,
            lambda: intake.earlier_notice(app.engine, app.hall.id, applicant, item_id),  # type: ignore[attr-defined]
            done=self.show_earlier,
            failed=self.say,
            group="intake-earlier",
        )

    def show_earlier(self, earlier: dict[str, Any] | None) -> None:
        box = self.query_one("#earlier", Static)
        box.set_class(earlier is not None, "shown")
        if earlier is None:
            box.update("")
            return
        listed = "、".join(earlier["materials"])
        box.update(
            tr(
                f"已告知 {earlier['notice'] or ''} 须补正：{listed}（办件 {earlier['case_no']}，"
                f"{earlier['received_on']}）。不得再告知其他材料；受理本件将终结原办件",
                f"Already notified {earlier['notice'] or ''}: {', '.join(earlier['materials'])} (case "
                f"{earlier['case_no']}, {earlier['received_on']}). Nothing else may be asked for; "
                "accepting here closes that case",
            )
        )

    def show_case(self, view: intake.CaseView, draft: dict[str, Any] | None) -> None:
        case = view.case
        self._restoring = True
        for key, value in (
            ("name", case["applicant_name"]),
            ("id_number", case["id_number"]),
            ("phone", case["phone"]),
            ("agent_name", case["agent_name"]),
            ("agent_id_number", case["agent_id_number"]),
            ("agent_phone", case["agent_phone"]),
        ):
            widget = self.query_one(f"#{key}", Input)
            widget.value = value
            widget.disabled = True
        if case["agent_name"]:
            self.query_one("#agent_box").add_class("shown")
        self.query_one("#item_search", Input).disabled = True
        self.query_one("#item_search", Input).display = False  # the case's item is fixed: room for its list
        self.query_one("#item_results", OptionList).display = False
        self.in_notice = {m["material_id"] for m in view.materials if m["in_notice"]}
        self.query_one("#agent_caption", Label).display = bool(case["agent_name"])
        checks = [
            intake.MaterialCheck(m["material_id"], m["status"], m["originals"], m["copies"], m["note"])
            for m in view.materials
        ]
        if draft and draft.get("checks"):
            checks = [intake.MaterialCheck(**c) for c in draft["checks"]]
        self.set_item(view.item, checks)
        self.say(
            tr(
                f"一次性告知书所列材料（标 ▶）：{len(self.in_notice)} 项。只核对所列材料；跑动次数 {len(view.visits)}",
                f"materials on the one-time notice (marked ▶): {len(self.in_notice)}; visits so far {len(view.visits)}",
            )
        )
        table = self.query_one("#materials", MaterialsTable)
        table.focus()
        listed = [row for row, m in enumerate(view.item.materials) if m.id in self.in_notice]
        if listed:
            table.move_cursor(row=listed[0])
        self.call_after_refresh(self._restored)

    # --- the item and its materials -------------------------------------------------------------

    @on(Input.Changed, "#item_search")
    def search_changed(self, event: Input.Changed) -> None:
        self.results(event.value)
        self.changed()

    def results(self, query: str) -> None:
        if self.index is None:
            return
        found = self.index.search(query, limit=20)
        options = self.query_one("#item_results", OptionList)
        options.clear_options()
        options.add_options([Option(f"{e.code}  {e.name}", id=str(e.id)) for e in found])
        if found:
            options.highlighted = 0  # Enter takes the highlighted one; Down moves to the next

    def move_result(self, step: int) -> None:
        options = self.query_one("#item_results", OptionList)
        if not options.option_count:
            return
        current = options.highlighted if options.highlighted is not None else -1
        options.highlighted = max(0, min(options.option_count - 1, current + step))

    @on(Input.Submitted, "#item_search")
    def search_submitted(self, _: Input.Submitted) -> None:
        options = self.query_one("#item_results", OptionList)
        if options.option_count:
            self.choose_item(int(options.get_option_at_index(options.highlighted or 0).id or 0))
        else:
            self.say(
                tr(
                    "没有找到事项：换个名称、编码或拼音首字母",
                    "no item found: try another name, code or initials",
                )
            )

    @on(OptionList.OptionSelected, "#item_results")
    def item_selected(self, event: OptionList.OptionSelected) -> None:
        self.choose_item(int(event.option.id or 0))

    def choose_item(self, item_id: int) -> None:
        app = self.app
        run_call(
            self,
            lambda: intake.item_info(app.engine, app.hall.id, item_id),  # type: ignore[attr-defined]
            done=self.item_chosen,
            failed=self.say,
            group="intake-item",
        )

    def item_chosen(self, item: intake.ItemInfo) -> None:
        """The item is confirmed: its checklist takes the focus (1-5/0 set each material's state)."""
        self.set_item(item, None)
        table = self.query_one("#materials", MaterialsTable)
        table.focus()
        table.move_cursor(row=0)

    def set_item(self, item: intake.ItemInfo, checks: list[intake.MaterialCheck] | None) -> None:
        self.item = item
        self.checks = checks or intake.default_checks(item)
        flags = []
        if item.deficiency_allowed:
            flags.append(tr("可容缺", "deficiency ok"))
        if item.commitment_allowed:
            flags.append(tr("可告知承诺", "commitment ok"))
        self.query_one("#item_label", Static).update(
            f"[b]{item.code} {item.name}[/b]  "
            + tr(f"承诺{item.promised_days}个工作日", f"promised in {item.promised_days} working days")
            + (tr(f"（{'，'.join(flags)}）", f" ({', '.join(flags)})") if flags else "")
        )
        table = self.query_one("#materials", MaterialsTable)
        table.clear()
        by_id = {c.material_id: c for c in self.checks}
        for m in item.materials:
            check = by_id.get(m.id) or intake.MaterialCheck(m.id, "not_applicable")
            mark = "▶" if m.id in self.in_notice else ""
            table.add_row(
                f"{mark}{m.name}",
                "*" if m.required else "",
                tr(*STATUS_TEXT[check.status]),
                str(check.originals),
                str(check.copies),
                key=str(m.id),
            )
        self.call_after_refresh(self.fit_name_column)
        self.show_detail(0)
        self.changed()
        if not self._restoring:
            self.look_for_earlier()

    @on(DataTable.RowHighlighted, "#materials")
    def material_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail(event.cursor_row)
        event.data_table.refresh_bindings()

    def state_allowed(self, row: int, state: str) -> bool:
        if self.item is None or not (0 <= row < len(self.item.materials)):
            return state in ("received", "missing", "defective")
        return state in self._allowed(self.item.materials[row])

    def show_detail(self, row: int) -> None:
        """The highlighted material in full (a narrow table cuts long names) and the states it allows."""
        detail = self.query_one("#material_detail", Static)
        if self.item is None or not (0 <= row < len(self.item.materials)):
            detail.update("")
            return
        material = self.item.materials[row]
        keys = " ".join(
            f"{key}{tr(zh, en)}" for key, state, zh, en in STATE_KEYS if state in self._allowed(material)
        )
        note = f"N{tr('补正说明', ' correction note')}"
        detail.update(f"{material.name}  [dim]{keys} {note}[/dim]")

    def _allowed(self, material: intake.MaterialInfo) -> list[str]:
        assert self.item is not None
        states = ["received", "missing", "defective"]
        if material.commitment and self.item.commitment_allowed:
            states.append("commitment")
        if material.tolerable and self.item.deficiency_allowed:
            states.append("deferred")
        if not material.required:
            states.append("not_applicable")
        return states

    def cycle_material(self, row: int) -> None:
        if self.item is None or not (0 <= row < len(self.item.materials)):
            return
        material = self.item.materials[row]
        check = next(c for c in self.checks if c.material_id == material.id)
        states = self._allowed(material)
        check.status = (
            states[(states.index(check.status) + 1) % len(states)] if check.status in states else states[0]
        )
        if check.status == "received" and check.originals + check.copies == 0:
            check.originals, check.copies = material.originals, material.copies
        self._show_check(check)

    def set_material_state(self, row: int, state: str) -> None:
        """One key per state: 2 marks 缺少, 1 puts it back to 已收 — no cycling through the others."""
        if self.item is None or not (0 <= row < len(self.item.materials)):
            return
        material = self.item.materials[row]
        if state not in self._allowed(material):
            name = tr(*STATUS_TEXT[state])
            self.say(tr(f"「{material.name}」不能设为{name}", f"{material.name!r} cannot be set to {name}"))
            return
        check = next(c for c in self.checks if c.material_id == material.id)
        check.status = state
        if state == "received" and check.originals + check.copies == 0:
            check.originals, check.copies = material.originals, material.copies
        self.say("")
        self._show_check(check)

    def edit_note(self, row: int) -> None:
        """N on a material: the clerk's specific correction (printed on the one-time notice beside
        the catalogue's requirement, Art. 32: say *what* must be supplemented)."""
        from window_terminal.screens.dialogs import AskDialog

        if self.item is None or not (0 <= row < len(self.item.materials)):
            return
        material = self.item.materials[row]
        check = next(c for c in self.checks if c.material_id == material.id)
        need = material.requirement or material.form

        def typed(note: str | None) -> None:
            if note is None:
                return
            check.note = note
            if check.status not in ("missing", "defective"):
                check.status = "defective"  # a note says what to correct: the material is not as required
                self._show_check(check)
            self.changed()
            self.say(tr(f"已记录“{material.name}”的补正说明：{note}", f"note for {material.name!r}: {note}"))

        self.app.push_screen(
            AskDialog(
                tr(f"“{material.name}”补正说明", f"Correction note for {material.name}")
                + (f"\n{tr('要求', 'required')}：{need}" if need else ""),
                tr("如：第3栏漏填门牌号；复印件未加盖公章", "e.g. box 3 lacks the house number"),
                value=check.note,
            ),
            typed,
        )

    def change_count(self, row: int, originals: int, copies: int) -> None:
        if self.item is None or not (0 <= row < len(self.item.materials)):
            return
        check = next(c for c in self.checks if c.material_id == self.item.materials[row].id)
        check.originals = max(0, check.originals + originals)
        check.copies = max(0, check.copies + copies)
        self._show_check(check)

    def _show_check(self, check: intake.MaterialCheck) -> None:
        table = self.query_one("#materials", MaterialsTable)
        key = str(check.material_id)
        table.update_cell(key, "status", tr(*STATUS_TEXT[check.status]))
        table.update_cell(key, "originals", str(check.originals))
        table.update_cell(key, "copies", str(check.copies))
        self.changed()

    # --- the applicant --------------------------------------------------------------------------

    def action_cycle_id_type(self) -> None:
        if self.case_no:
            return
        keys = [k for k, *_ in ID_TYPES]
        self.id_type = keys[(keys.index(self.id_type) + 1) % len(keys)]
        self.query_one("#id_type", Button).label = self.id_type_label()
        self.changed()

    @on(Button.Pressed, "#id_type")
    def id_type_pressed(self) -> None:
        self.action_cycle_id_type()

    def applicant(self) -> intake.Applicant:
        v = {k: self.query_one(f"#{k}", Input).value for k in ("name", "id_number", "phone")}
        return intake.Applicant(v["name"], self.id_type, v["id_number"], v["phone"])

    def agent(self) -> intake.Applicant | None:
        name = self.query_one("#agent_name", Input).value
        if not name.strip():
            return None
        return intake.Applicant(
            name,
            "resident_id",
            self.query_one("#agent_id_number", Input).value,
            self.query_one("#agent_phone", Input).value,
        )

    def validate_form(self) -> bool:
        """Show every problem under its field; True when the form can be sent."""
        problems = intake.applicant_problems(self.applicant())
        agent = self.agent()
        agent_problems = intake.applicant_problems(agent, prefix="agent_") if agent else {}
        lang = language()
        self.shown_errors = set(problems)
        for key in ("name", "id_number", "phone"):
            self.query_one(f"#{key}_error", Label).update(problems[key].text(lang) if key in problems else "")
        self.query_one("#agent_error", Label).update(
            "；".join(p.text(lang) for p in agent_problems.values()) if agent_problems else ""
        )
        if problems or agent_problems:
            first = next(iter(problems or agent_problems))
            widget_id = first if first in ("name", "id_number", "phone") else "agent_name"
            self.query_one(f"#{widget_id}", Input).focus()
            return False
        return True

    @on(Input.Changed, "#name, #id_number, #phone, #agent_name, #agent_id_number, #agent_phone")
    def field_changed(self, event: Input.Changed) -> None:
        key = event.input.id or ""
        if key in ("name", "id_number", "phone") and not self._restoring:
            self.look_for_earlier()
        if key in ("name", "id_number", "phone"):
            if key in self.shown_errors:
                problems = intake.applicant_problems(self.applicant())
                self.query_one(f"#{key}_error", Label).update(
                    problems[key].text(language()) if key in problems else ""
                )
                if key not in problems:
                    self.shown_errors.discard(key)
        self.changed()

    @on(Input.Blurred, "#id_number")
    def id_blurred(self, event: Input.Blurred) -> None:
        if event.value.strip():
            problems = intake.applicant_problems(self.applicant())
            self.query_one("#id_number_error", Label).update(
                problems["id_number"].text(language()) if "id_number" in problems else ""
            )
            if "id_number" in problems:
                self.shown_errors.add("id_number")

    # --- drafts ---------------------------------------------------------------------------------

    def changed(self) -> None:
        if self._restoring or self.done:
            return
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(0.4, self.save_draft)

    def draft_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            k: self.query_one(f"#{k}", Input).value
            for k in ("name", "id_number", "phone", "agent_name", "agent_id_number", "agent_phone")
        }
        data["id_type"] = self.id_type
        data["item"] = self.item.code if self.item else None
        data["checks"] = [vars(c) for c in self.checks]
        return data

    def save_draft(self) -> None:
        if self.done:
            return
        data = self.draft_data()
        folder = self.app.settings.drafts_path  # type: ignore[attr-defined]
        self.run_worker(
            lambda: drafts.save_draft(folder, self.draft_key, data),
            thread=True,
            group="draft",
            exit_on_error=False,
        )

    def action_leave(self) -> None:
        if self._draft_timer is not None:
            self._draft_timer.stop()
        if not self.done:
            drafts.save_draft(self.app.settings.drafts_path, self.draft_key, self.draft_data())  # type: ignore[attr-defined]
        self.dismiss(self.result.as_dict() if self.result else None)

    # --- outcomes -------------------------------------------------------------------------------

    @on(Button.Pressed, "#accept, #notice, #deficiency, #non_acceptance, #supplement")
    def outcome_pressed(self, event: Button.Pressed) -> None:
        self.action_outcome(event.button.id or "")

    @on(Button.Pressed, "#override")
    def override_pressed(self) -> None:
        from window_terminal.screens.dialogs import OverrideDialog

        def chosen(values: dict[str, str] | None) -> None:
            if values:
                self.send_supplement(intake.Override(values["manager"], values["pin"], values["reason"]))

        self.app.push_screen(OverrideDialog(), chosen)

    def action_outcome(self, outcome: str) -> None:
        if self.busy or self.done:
            return
        if self.case_no:
            if outcome in ("accept", "supplement"):
                self.send_supplement(None)
            return
        if not self.validate_form():
            self.say(tr("请先更正标红的申请人信息", "correct the applicant details marked in red first"))
            return
        if self.item is None:
            self.say(
                tr(
                    "请先选择事项（在事项框中输入名称或拼音首字母）",
                    "choose the service item first (type its name or initials)",
                )
            )
            self.query_one("#item_search", Input).focus()
            return
        if outcome == "non_acceptance":
            self.ask_non_acceptance()
            return
        if outcome == "notice":
            self.confirm_notice()
            return
        self.send(outcome, {})

    def confirm_notice(self) -> None:
        """The one-time notice is issued once and frozen (Art. 32): show its list, ask once."""
        from window_terminal.screens.dialogs import ConfirmDialog

        assert self.item is not None
        names = {m.id: m.name for m in self.item.materials}
        listed = [
            f"· {names.get(c.material_id, c.material_id)}"
            + tr(f"（{STATUS_TEXT[c.status][0]}）", f" ({STATUS_TEXT[c.status][1]})")
            + (tr(f"：{c.note}", f": {c.note}") if c.note else "")
            for c in self.checks
            if c.status in ("missing", "defective")
        ]
        self.app.push_screen(
            ConfirmDialog(
                tr(
                    f"出具一次性告知书：{self.item.name}，须补正 {len(listed)} 项",
                    f"Issue the one-time notice: {self.item.name}, {len(listed)} item(s) to supply",
                ),
                listed
                + [
                    tr(
                        "告知书出具后即固定，不得再告知其他材料（行政许可法第三十二条）。",
                        "Once issued the notice is frozen: nothing else may be asked for later (Art. 32).",
                    )
                ],
                tr("确认出具", "Issue it"),
            ),
            lambda ok: self.send("notice", {}) if ok else None,
        )

    def ask_non_acceptance(self) -> None:
        from window_terminal.screens.dialogs import NonAcceptanceDialog

        assert self.item is not None
        transfer_to = None
        if self.ticket and self.item.line and self.item.line != self.ticket.get("line"):
            transfer_to = (self.item.line, self.item.line)

        def chosen(values: dict[str, Any] | None) -> None:
            if not values:
                return
            if "transfer" in values:
                self.transfer(values["transfer"])
                return
            from window_terminal.screens.dialogs import ConfirmDialog

            self.app.push_screen(
                ConfirmDialog(
                    tr("出具不予受理通知书", "Issue the notice of non-acceptance"),
                    [
                        tr(
                            f"事项：{self.item.name if self.item else ''}",
                            f"Item: {self.item.name if self.item else ''}",
                        ),
                        tr(f"理由：{values.get('reason', '')}", f"Reason: {values.get('reason', '')}"),
                        tr(
                            "通知书将告知申请人申请行政复议（60日）或提起行政诉讼（6个月）的权利。",
                            "The notice tells the applicant of their appeal rights (60 days / 6 months).",
                        ),
                    ],
                    tr("确认出具", "Issue it"),
                ),
                lambda ok: self.send("non_acceptance", values) if ok else None,
            )

        self.app.push_screen(NonAcceptanceDialog(transfer_to), chosen)

    def transfer(self, line_code: str) -> None:
        from window_terminal.core import queueing

        app = self.app
        ticket_ref = f"#{self.ticket['ticket_id']}" if self.ticket else ""
        self.submit(
            "transfer",
            lambda request_id: queueing.transfer(
                app.engine,  # type: ignore[attr-defined]
                app.hall.id,  # type: ignore[attr-defined]
                line_code,
                ticket_ref=ticket_ref,
                reason=tr("不属本窗口业务，转号办理", "belongs to another line"),
                actor=self.staff_code,
                request_id=request_id,
            ),
            self.transferred,
        )

    def submit(self, key: str, call: Callable[[str], Any], done: Callable[[Any], None]) -> None:
        """Send the form's outcome ``call(request_id)`` exactly once: further outcome keys wait until
        it succeeded or failed; caught in a lost connection it is retried with the same request id,
        and sent again after an unconfirmed end it repeats that id (``key``: which command)."""
        run_call(
            self,
            pressed_once(
                self.unconfirmed,
                key,
                call,
                retrying=lambda: self.app.call_from_thread(self.say, pending_text()),
            ),
            done=done,
            failed=self.failed,
            group="intake-send",
            busy=True,
        )

    def transferred(self, info: Any) -> None:
        self.done = True
        drafts.remove_draft(self.app.settings.drafts_path, self.draft_key)  # type: ignore[attr-defined]
        self.say(
            tr(
                f"{info.number} 已转至 {info.line}，保留排队位置",
                f"{info.number} transferred to {info.line}, keeping its place",
            )
        )
        self.dismiss({"transferred": info.line})

    def send(self, outcome: str, extra: dict[str, Any]) -> None:
        app = self.app
        self.submit(
            "submit",
            lambda request_id: intake.submit(
                app.engine,  # type: ignore[attr-defined]
                app.hall.id,  # type: ignore[attr-defined]
                applicant=self.applicant(),
                agent=self.agent(),
                item=self.item.id if self.item else 0,
                materials=list(self.checks),
                outcome=outcome,
                ticket_id=self.ticket["ticket_id"] if self.ticket else None,
                window=self.window,
                actor=self.staff_code,
                reason=extra.get("reason", ""),
                reason_kind=extra.get("reason_kind", ""),
                competent_office=extra.get("competent_office", ""),
                request_id=request_id,
            ),
            self.finished,
        )

    def send_supplement(self, override: intake.Override | None) -> None:
        app = self.app
        self.submit(
            "supplement",
            lambda request_id: intake.supplement(
                app.engine,  # type: ignore[attr-defined]
                app.hall.id,  # type: ignore[attr-defined]
                self.case_no or "",
                list(self.checks),
                window=self.window,
                actor=self.staff_code,
                ticket_id=self.ticket["ticket_id"] if self.ticket else None,
                override=override,
                request_id=request_id,
            ),
            self.finished,
        )

    def failed(self, text: str) -> None:
        self.say(text + tr("（草稿已保存，可重试）", " (the draft is kept; try again)"))

    def finished(self, result: intake.CaseResult) -> None:
        from window_terminal.screens.print_dialog import DocumentPreview

        self.result = result
        if result.document is None:
            self.say(
                tr(
                    f"已记录来访（跑动 {result.visits} 次）；所列材料仍未补齐",
                    f"visit recorded ({result.visits}); listed materials still missing",
                )
            )
            return
        self.done = True
        drafts.remove_draft(self.app.settings.drafts_path, self.draft_key)  # type: ignore[attr-defined]
        earlier = result.extra.get("earlier")
        self.say(
            tr(
                f"办件编号 {result.case_no}，文书 {result.document_number}",
                f"case {result.case_no}, document {result.document_number}",
            )
            + (
                tr(
                    f"；同一申请人本事项已有一次性告知书 {earlier['notice']}（办件 {earlier['case_no']}）",
                    f"; this applicant already has one-time notice {earlier['notice']} (case {earlier['case_no']})",
                )
                if earlier
                else ""
            )
        )
        # The issued document, previewed exactly as stored: P prints it, D saves a PDF.
        if result.document_number is None:
            self.dismiss(result.as_dict())
            return
        self.app.push_screen(
            DocumentPreview(result.document_number, window=self.window, actor=self.staff_code),
            lambda _: self.dismiss(result.as_dict()),
        )

    def say(self, text: str) -> None:
        self.query_one("#message", Static).update(text)
