"""What a document says: a snapshot (the frozen JSON dict) turned into titled blocks of Chinese text.

Both renderers — the PDF (:mod:`.render`) and the monospace text (:mod:`.text`) — draw these blocks,
so the printout and the on-screen preview always say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .errors import DocumentError

NOTICE_KINDS: dict[str, str] = {
    "materials_receipt": "收件凭证",
    "acceptance_notice": "受理通知书",
    "one_time_notice": "一次性告知书",
    "deficiency_acceptance_notice": "容缺受理通知书",
    "non_acceptance_notice": "不予受理通知书",
    "completion_notice": "办结通知书",
    "refusal_notice": "不予行政许可决定书",
    "approval_decision": "准予行政许可决定书",
    "extension_notice": "延期通知书",
    "suspension_notice": "暂停计时告知书",
    "service_receipt": "送达回证",
}
TICKET_KIND = "ticket"
KINDS: dict[str, str] = {**NOTICE_KINDS, TICKET_KIND: "排队小票"}

PROVISIONAL_NOTE = "（预计，节假日安排未公布）"
QR_HINT = "扫码或凭查询码查询办理进度"
TICKET_HINT = "过号请重新取号"
LAW = "《中华人民共和国行政许可法》"
CN_DIGITS = "一二三四五六七八九十"
#: the legal ground of each non-acceptance reason, as the notice states it (a reason saying the same
#: is not printed twice)
RESTATED = {"no_licence_needed": "不需要取得行政许可", "not_competent": "不属于本机关职权范围"}


# --- blocks -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    label: str
    value: str
    wide: bool = False  # takes a whole row of the grid


@dataclass(frozen=True)
class FieldGrid:
    fields: tuple[Field, ...]
    heading: str | None = None


@dataclass(frozen=True)
class Column:
    title: str
    width: float  # relative
    align: str = "left"  # left | center


@dataclass(frozen=True)
class Table:
    heading: str | None
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    footer: str | None = None  # a sentence under the table (e.g. the deadline)


@dataclass(frozen=True)
class Text:
    text: str
    indent: bool = True  # first-line indent of two characters, as in Chinese prose
    strong: bool = False


Block = FieldGrid | Table | Text


@dataclass(frozen=True)
class Notice:
    kind: str
    title: str
    number: str
    hall: str
    office: str
    issued: str  # "2026年11月21日 10:32"
    issued_date: str  # "2026年11月21日" or "" (the date under the seal)
    blocks: tuple[Block, ...]
    qr_payload: str | None
    query_code: str | None
    window: str | None  # "3号窗口"
    clerk: str | None
    receipt_line: bool = True  # applicant signs for receipt
    seal: str = ""  # the seal it is issued under (印章名称); "" → the office


@dataclass(frozen=True)
class Ticket:
    hall: str
    title: str
    number: str
    line: str
    people_ahead: int | None
    wait_minutes: int | None
    issued: str  # "2026-11-21 10:32"
    priority: bool
    appointment_code: str | None
    qr_payload: str
    hints: tuple[str, ...] = field(default_factory=tuple)
    slot: str = ""  # an appointment booked for later: the time of its slot, its estimate ("07:00")

    @property
    def lines(self) -> tuple[str, ...]:
        """The text lines under the big number, in print order."""
        out: list[str] = []
        if self.line:
            out.append(f"业务：{self.line}")
        if self.priority:
            out.append("【绿色通道】")
        if self.appointment_code:
            out.append(f"预约号：{self.appointment_code}")
        if self.slot:
            out.append(f"预约时段 {self.slot} 起叫号")
        if self.people_ahead is not None:
            out.append(f"您前面还有 {self.people_ahead} 人等候")
        if self.wait_minutes is not None:
            out.append(f"预计等候约 {self.wait_minutes} 分钟")
        if self.issued:
            out.append(f"取号时间：{self.issued}")
        return tuple(out)


# --- formatting helpers ---------------------------------------------------------------------------


ID_TYPE_LABELS = {
    "resident_id": "居民身份证",
    "passport": "护照",
    "hk_macao_permit": "港澳居民来往内地通行证",
    "taiwan_permit": "台湾居民来往大陆通行证",
    "foreign_permanent": "外国人永久居留身份证",
    "credit_code": "统一社会信用代码",
}


def id_type_label(value: Any) -> str:
    """The printed name of an ID type (snapshots store the code, e.g. ``resident_id``)."""
    text = _str(value)
    return ID_TYPE_LABELS.get(text, text)


def _str(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list | tuple) else ()


def cn_date(value: Any) -> str:
    """``"2026-11-21"`` (or a datetime string) → ``"2026年11月21日"``; unparsable text is returned as is."""
    text = _str(value)
    if not text:
        return ""
    try:
        d = date.fromisoformat(text[:10])
    except ValueError:
        return text
    return f"{d.year}年{d.month}月{d.day}日"


def _parse_dt(value: Any) -> datetime | None:
    text = _str(value)
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def cn_datetime(value: Any) -> str:
    """``"2026-11-21T10:32:05+08:00"`` → ``"2026年11月21日 10:32"`` (wall time as stored, no conversion)."""
    dt = _parse_dt(value)
    if dt is None:
        return _str(value)
    return f"{dt.year}年{dt.month}月{dt.day}日 {dt.hour:02d}:{dt.minute:02d}"


def cn_number(n: int) -> str:
    """Section numbers 1..99 → 一..九十九."""
    if n <= 10:
        return CN_DIGITS[n - 1]
    tens, ones = divmod(n, 10)
    return (CN_DIGITS[tens - 1] if tens > 1 else "") + "十" + (CN_DIGITS[ones - 1] if ones else "")


def _sentence(text: str) -> str:
    """Strip the final full stop so the text can be embedded in a longer sentence."""
    return text.strip().rstrip("。.；;，,")


def _window_label(value: Any) -> str | None:
    text = _str(value)
    if not text:
        return None
    return text if text.endswith("窗口") else f"{text}号窗口"


def qr_payload(snapshot: Mapping[str, Any]) -> str | None:
    """What the QR code encodes: the hall's query address for the case (``qr_url``, fixed when issued),
    else the bare query code; for a ticket without one, ``"<number>-<ticket_id>"``."""
    url = _str(snapshot.get("qr_url"))
    if url:
        return url
    code = _str(snapshot.get("query_code"))
    if code:
        return code
    if snapshot.get("kind") == TICKET_KIND:
        number = _str(snapshot.get("ticket_number") or snapshot.get("number"))
        ticket_id = _str(snapshot.get("ticket_id"))
        return "-".join(p for p in (number, ticket_id) if p) or None
    return None


# --- notices ---------------------------------------------------------------------------------------


class _Builder:
    def __init__(self, snap: Mapping[str, Any]) -> None:
        self.snap = snap
        self.blocks: list[Block] = []
        self.sections = 0
        self.provisional = bool(snap.get("provisional"))
        self.dates = _map(snap.get("dates"))
        self.item = _map(snap.get("item"))
        self.applicant = _map(snap.get("applicant"))
        # a licence (行政许可) cites the Administrative Licensing Law; other items their own basis.
        # Snapshots from before items had a kind were all treated as licences.
        self.licence = _str(self.item.get("kind")) in ("", "licence")
        self.basis = _str(self.item.get("basis"))

    def cite(self, article: str, *, basis: bool = True) -> str:
        """The ground: the Licensing Law's ``article`` for a licence, else the item's own basis
        (``basis=False``: nothing, where only the Licensing Law would say so — deemed acceptance)."""
        if self.licence:
            return f"根据{LAW}{article}的规定，"
        if not basis:
            return ""
        return f"根据{self.basis}等有关规定，" if self.basis else "根据有关规定，"

    # building blocks
    def heading(self, title: str) -> str:
        self.sections += 1
        return f"{cn_number(self.sections)}、{title}"

    def text(self, text: str, *, indent: bool = True, strong: bool = False) -> None:
        if text:
            self.blocks.append(Text(text, indent=indent, strong=strong))

    def computed(self, key: str) -> str:
        """A computed deadline in Chinese, with the provisional note when the calendar is not final."""
        value = cn_date(self.dates.get(key))
        if value and self.provisional:
            value += PROVISIONAL_NOTE
        return value

    # common parts
    @property
    def item_name(self) -> str:
        return _str(self.item.get("name")) or "行政许可"

    @property
    def received_phrase(self) -> str:
        received = cn_date(self.dates.get("received"))
        return f"你（单位）于{received}" if received else "你（单位）"

    def basic_info(self) -> None:
        a, agent, item = self.applicant, _map(self.snap.get("agent")), self.item
        fields = [
            Field("申请人", _str(a.get("name"))),
            Field("联系电话", _str(a.get("phone"))),
            Field("证件类型", id_type_label(a.get("id_type"))),
            Field("证件号码", _str(a.get("id_number"))),
        ]
        if _str(agent.get("name")):
            fields += [
                Field("代理人", _str(agent.get("name"))),
                Field("联系电话", _str(agent.get("phone"))),
                Field("证件类型", id_type_label(agent.get("id_type"))),
                Field("证件号码", _str(agent.get("id_number"))),
            ]
        fields.append(Field("申请事项", self.item_name, wide=True))
        if self.basis:
            fields.append(Field("办理依据", self.basis, wide=True))
        if _str(item.get("code")) or _str(self.snap.get("case_no")):
            fields += [
                Field("事项编码", _str(item.get("code"))),
                Field("办件编号", _str(self.snap.get("case_no"))),
            ]
        self.blocks.append(FieldGrid(tuple(fields)))
        name = _str(a.get("name"))
        if name:
            self.text(f"{name}：", indent=False)

    def received_materials(self) -> None:
        rows = []
        for i, m in enumerate(_list(self.snap.get("materials_received")), 1):
            m = _map(m)
            rows.append(
                (str(i), _str(m.get("name")), _str(m.get("originals") or 0), _str(m.get("copies") or 0))
            )
        if rows:
            cols = (
                Column("序号", 1, "center"),
                Column("材料名称", 9),
                Column("原件(份)", 1.6, "center"),
                Column("复印件(份)", 1.8, "center"),
            )
            self.blocks.append(Table(self.heading("已收取的申请材料"), cols, tuple(rows)))

    def commitments(self) -> None:
        rows = tuple(
            (str(i), _str(_map(c).get("name"))) for i, c in enumerate(_list(self.snap.get("commitments")), 1)
        )
        if rows:
            self.blocks.append(
                Table(
                    self.heading("以告知承诺方式办理的材料"),
                    (Column("序号", 1, "center"), Column("材料名称（以申请人签署的告知承诺书代替）", 12)),
                    rows,
                    footer="申请人已签署告知承诺书，应当按照承诺履行义务；承诺不实的，依法承担相应责任。",
                )
            )

    def time_limits_sentence(self) -> None:
        promised = self.item.get("promised_days")
        statutory = self.item.get("statutory_days")
        parts: list[str] = []
        if promised:
            parts.append(f"本机关将自受理之日起{promised}个工作日内作出决定")
            if statutory:
                parts[-1] += f"（法定办理时限为{statutory}个工作日）"
        elif statutory:
            parts.append(f"本机关将自受理之日起{statutory}个工作日内作出决定")
        if parts:
            self.text(
                parts[0] + "。依法需要听证、招标、拍卖、检验、检测、检疫、鉴定和专家评审的，"
                "所需时间不计算在上述期限内。"
            )

    def dates_section(
        self,
        *,
        supplement_label: str = "补正截止日期",
        limits: bool = True,
        skip: frozenset[str] = frozenset(),
    ) -> None:
        """Dates and deadlines; ``limits`` adds the item's promised/statutory time limits."""
        d, item = self.dates, (self.item if limits else {})
        fields: list[Field] = []
        if d.get("received"):
            fields.append(Field("收件日期", cn_date(d["received"])))
        if d.get("accepted"):
            fields.append(Field("受理日期", cn_date(d["accepted"])))
        if d.get("supplement_deadline"):
            fields.append(
                Field(supplement_label, self.computed("supplement_deadline"), wide=self.provisional)
            )
        for key, days_key, dated, undated in (
            ("promised", "promised_days", "承诺办结日期", "承诺时限"),
            ("statutory", "statutory_days", "法定办结期限", "法定时限"),
        ):
            if d.get(key):
                fields.append(Field(dated, self.computed(key), wide=self.provisional))
            elif item.get(days_key):
                fields.append(Field(undated, f"{item[days_key]}个工作日"))
        if d.get("decided"):
            fields.append(Field("办结日期", cn_date(d["decided"])))
        if d.get("ready") and "ready" not in skip:
            fields.append(Field("可领取日期", cn_date(d["ready"])))
        if fields:
            self.blocks.append(FieldGrid(tuple(fields), heading=self.heading("办理时限")))

    def appeal(self, document: str = "通知书") -> None:
        ap = _map(self.snap.get("appeal"))
        days = ap.get("reconsideration_days") or 60
        body = _str(ap.get("reconsideration_body")) or "依法有管辖权的行政复议机关"
        months = ap.get("lawsuit_months") or 6
        court = _str(ap.get("court")) or "有管辖权的人民法院"
        self.text(
            f"如不服本决定，可在收到本{document}之日起{days}日内向{body}申请行政复议，"
            f"或者在{months}个月内向{court}提起行政诉讼。"
        )

    def notes(self) -> None:
        notes = [n for n in (_str(x) for x in _list(self.snap.get("notes"))) if n]
        if len(notes) == 1:
            self.text(f"备注：{notes[0]}", indent=False)
        elif notes:
            self.text("备注：", indent=False)
            for i, n in enumerate(notes, 1):
                self.text(f"{i}. {n}")


def _receipt(b: _Builder) -> None:
    """收件凭证: materials taken in, no outcome on the spot. Its date starts Art. 32's clock."""
    received = cn_datetime(b.snap.get("received_at")) or cn_date(b.dates.get("received"))
    days = b.snap.get("notice_limit_days") or 5
    due = cn_date(b.dates.get("notice_due"))
    b.text(
        f"本机关于{received}收到你（单位）提交的“{b.item_name}”申请材料，将对申请材料进行审查。"
        "本凭证仅证明本机关收到上列材料，不是受理通知书。"
    )
    b.received_materials()
    b.text(
        f"申请材料不齐全或者不符合法定形式的，本机关将在收到申请材料之日起{days}个工作日内"
        + (f"（即{due}前）" if due else "")
        + f"一次告知需要补正的全部内容；逾期不告知的，{b.cite('第三十二条第一款第（四）项', basis=False)}"
        "自收到申请材料之日起即为受理。",
        strong=True,
    )
    fields = [Field("收件时间", received)]
    if due:
        fields.append(Field("告知期限", f"{due}前（{days}个工作日）"))
    b.blocks.append(FieldGrid(tuple(fields), heading=b.heading("收件及告知期限")))


def _acceptance(b: _Builder) -> None:
    accepted = cn_date(b.dates.get("accepted"))
    if b.snap.get("deemed"):
        received = cn_date(b.dates.get("received"))
        b.text(
            f"{b.received_phrase}提交的“{b.item_name}”申请，本机关未在收到申请材料之日起五个工作日内"
            f"一次告知需要补正的全部内容。{b.cite('第三十二条第一款第（四）项', basis=False)}"
            f"自收到申请材料之日（{received}）起即为受理，办理期限自该日起计算。"
        )
        b.time_limits_sentence()
        b.received_materials()
        b.commitments()
        b.dates_section()
        return
    b.text(
        f"{b.received_phrase}提交的“{b.item_name}”申请，经审查，申请材料齐全、符合法定形式。"
        f"{b.cite('第三十二条第一款第（五）项')}本机关决定予以受理"
        + (f"，受理日期为{accepted}。" if accepted else "。")
    )
    b.time_limits_sentence()
    b.received_materials()
    b.commitments()
    b.dates_section()


def _one_time(b: _Builder) -> None:
    missing = [_map(m) for m in _list(b.snap.get("materials_missing"))]
    b.text(
        f"{b.received_phrase}提交的“{b.item_name}”申请，申请材料不齐全或者不符合法定形式。"
        f"{b.cite('第三十二条第一款第（四）项')}现将需要补正的全部内容（共{len(missing)}项）一次性告知如下："
    )
    deadline = b.computed("supplement_deadline")
    rows = tuple(
        (str(i), _str(m.get("name")), requirement_text(m), _str(m.get("reason")))
        for i, m in enumerate(missing, 1)
    )
    b.blocks.append(
        Table(
            b.heading(f"需补正的材料（共{len(missing)}项）"),
            (
                Column("序号", 1, "center"),
                Column("材料名称", 5.2),
                Column("材料要求", 4.8),
                Column("补正原因及说明", 4.2),
            ),
            rows,
            footer=f"请于{deadline}前补正上述全部材料。" if deadline else None,
        )
    )
    b.received_materials()
    window = _window_label(b.snap.get("window"))
    where = f"{_str(b.snap.get('hall'))}{window or '窗口'}"
    b.text(
        "本告知书所列为需要补正的全部内容，本机关不再要求补正本告知书以外的材料。"
        f"请按上述要求补正全部材料后，携带本告知书到{where}提交；补正材料齐全、符合法定形式的，本机关依法予以受理。"
    )


def requirement_text(material: Mapping[str, Any]) -> str:
    """What the catalogue requires of a material: its form and its requirement, in one cell."""
    parts = [_str(material.get("form")), _str(material.get("requirement"))]
    return "；".join(_sentence(p) for p in parts if p) or "按办事指南要求提交"


def _deficiency(b: _Builder) -> None:
    accepted = cn_date(b.dates.get("accepted"))
    deferred = [_map(m) for m in _list(b.snap.get("materials_deferred"))]
    b.text(
        f"{b.received_phrase}提交的“{b.item_name}”申请，主要申请材料齐全、符合法定形式，"
        f"尚欠缺下列{len(deferred)}项非主要材料。根据容缺受理有关规定，本机关决定予以容缺受理"
        + (f"，受理日期为{accepted}。" if accepted else "。")
    )
    deadline = b.computed("supplement_deadline")
    rows = tuple((str(i), _str(m.get("name")), _str(m.get("form"))) for i, m in enumerate(deferred, 1))
    b.blocks.append(
        Table(
            b.heading(f"容缺材料（共{len(deferred)}项）"),
            (Column("序号", 1, "center"), Column("材料名称", 8.5), Column("要求形式", 5.2)),
            rows,
            footer=(f"补齐期限：请于{deadline}前补齐上述材料。" if deadline else "请尽快补齐上述材料。")
            + "容缺材料补齐前，本机关不出具办理结果。",
        )
    )
    b.time_limits_sentence()
    b.received_materials()
    b.commitments()
    b.dates_section(supplement_label="补齐期限")


def _non_acceptance(b: _Builder) -> None:
    reason = _sentence(_str(b.snap.get("reason")))
    kind = _str(b.snap.get("reason_kind"))
    office = _str(b.snap.get("competent_office"))
    if reason and RESTATED.get(kind, "\0") in reason:
        reason = ""  # the clerk's reason only restates the legal ground the notice states anyway
    lead = f"{b.received_phrase}提交的“{b.item_name}”申请，经审查，"
    if kind == "no_licence_needed":
        lead += (f"{reason}，" if reason else "") + (
            f"该申请事项依法不需要取得行政许可。{b.cite('第三十二条第一款第（一）项')}本机关决定不予受理。"
        )
    elif kind == "not_competent":
        lead += (f"{reason}，" if reason else "") + (
            f"该申请事项依法不属于本机关职权范围。{b.cite('第三十二条第一款第（二）项')}本机关决定不予受理。"
        )
        if office:
            lead += f"请向{office}提出申请。"
    else:
        lead += (f"{reason}。" if reason else "") + "本机关决定不予受理。"
    b.text(lead)
    if office:
        b.blocks.append(FieldGrid((Field("有权受理机关", office, wide=True),)))
    b.received_materials()
    b.dates_section(limits=False)
    b.appeal("通知书")


def _completion(b: _Builder) -> None:
    decided = cn_date(b.dates.get("decided"))
    case_no = _str(b.snap.get("case_no"))
    b.text(
        f"{b.received_phrase}提交的“{b.item_name}”申请"
        + (f"（办件编号：{case_no}）" if case_no else "")
        + (f"，本机关已于{decided}办理完结。" if decided else "，本机关已办理完结。")
    )
    delivery = _map(b.snap.get("delivery"))
    method = _str(delivery.get("method")) or "pickup"
    ready = cn_date(b.dates.get("ready"))
    fields: list[Field] = []
    if method == "post":
        tracking = _str(delivery.get("tracking_no"))
        b.text(
            "办理结果已通过邮寄方式送达" + (f"，邮件单号：{tracking}" if tracking else "") + "，请注意查收。"
        )
        fields.append(Field("送达方式", "邮寄送达"))
        if tracking:
            fields.append(Field("邮件单号", tracking))
    else:
        window = _window_label(delivery.get("window") or b.snap.get("window"))
        where = f"{_str(b.snap.get('hall'))}{window or '窗口'}"
        b.text(
            (f"请自{ready}起" if ready else "请") + f"持本通知书和本人有效身份证件到{where}领取办理结果；"
            "委托他人领取的，受托人还应当携带授权委托书及本人有效身份证件。"
        )
        fields.append(Field("领取方式", "窗口领取"))
        if window:
            fields.append(Field("领取窗口", window))
    if ready:
        fields.append(Field("可领取日期", ready))
    b.blocks.append(FieldGrid(tuple(fields), heading=b.heading("办理结果领取")))
    b.dates_section(limits=False, skip=frozenset({"ready"}))


def _refusal(b: _Builder) -> None:
    reason = _sentence(_str(b.snap.get("reason")))
    accepted = cn_date(b.dates.get("accepted"))
    b.text(
        f"{b.received_phrase}提出的“{b.item_name}”申请，本机关"
        + (f"已于{accepted}依法受理。" if accepted else "已依法受理。")
        + (f"经审查，{reason}。" if reason else "")
        + f"{b.cite('第三十八条第二款')}本机关决定不予"
        + ("行政许可。" if b.licence else "办理。")
    )
    office = _str(b.snap.get("competent_office"))
    if office:
        b.text(f"请向{office}咨询或者提出申请。")
    b.dates_section(limits=False)
    b.appeal("决定书")


def _accepted_lead(b: _Builder) -> str:
    accepted = cn_date(b.dates.get("accepted"))
    return f"{b.received_phrase}提出的“{b.item_name}”申请，本机关" + (
        f"已于{accepted}依法受理。" if accepted else "已依法受理。"
    )


def _approval(b: _Builder) -> None:
    """准予行政许可决定书 (Art. 38(1)); the licence is issued within ten working days (Art. 44)."""
    issue_by = cn_date(b.dates.get("issue_by"))
    b.text(
        _accepted_lead(b) + "经审查，你（单位）的申请符合法定条件、标准。"
        f"{b.cite('第三十八条第一款')}本机关决定准予行政许可。"
    )
    b.text(
        "本机关将自作出本决定之日起十个工作日内"
        + (f"（即{issue_by}前）" if issue_by else "")
        + "向你（单位）颁发、送达行政许可证件"
        + (f"（{LAW}第四十四条）" if b.licence else "")
        + "。请凭本决定书和有效身份证件领取，或按约定方式送达。"
    )
    b.dates_section(limits=False)


def _extension(b: _Builder) -> None:
    """延期通知书 (Art. 42): the reason, the approver, the days, the new dates — told within the period."""
    e = _map(b.snap.get("extension"))
    before = cn_date(e.get("statutory_before"))
    article = "第四十二条第二款" if e.get("joint") else "第四十二条第一款"
    b.text(
        _accepted_lead(b)
        + f"因{_sentence(_str(e.get('reason')))}，本机关不能在法定期限"
        + (f"（{before}）" if before else "")
        + f"内作出决定。经本机关负责人批准，{b.cite(article)}办理期限延长{e.get('days')}个工作日，现将延长期限的理由告知你（单位）。"
    )
    fields: tuple[Field, ...] = (
        Field("延期理由", _str(e.get("reason")), wide=True),
        Field("批准人", _str(e.get("approver"))),
        Field("延长期限", f"{e.get('days')}个工作日"),
        Field("原法定办结期限", before),
        Field("延期后法定办结期限", b.computed("statutory")),
    )
    if "department" in e:  # an extension moves the statutory date only (issue 28): the promise stands
        fields += (Field("承诺办结日期（不因延期改变）", b.computed("promised")),)
    else:  # a notice issued before that, reprinted exactly as the applicant received it
        fields += (
            Field("原承诺办结日期", cn_date(e.get("promised_before"))),
            Field("延期后承诺办结日期", b.computed("promised")),
        )
    b.blocks.append(FieldGrid(fields, heading=b.heading("延期情况")))


def _suspension(b: _Builder) -> None:
    """暂停计时告知书 / 特别程序告知书 (Art. 45): what does not count, from when, for how long."""
    sp = _map(b.snap.get("suspension"))
    what = _str(sp.get("kind_name")) or "特别程序"
    start = cn_date(sp.get("started_on"))
    days = sp.get("expected_days")
    b.text(
        _accepted_lead(b)
        + f"因需要进行{what}（{_sentence(_str(sp.get('reason')))}），本机关"
        + (f"自{start}起" if start else "")
        + "暂停计算办理期限"
        + (f"，预计需要{days}个工作日" if days else "")
        + f"。{b.cite('第四十五条')}{what}所需时间不计算在办理期限内。"
        f"{what}结束后恢复计算办理期限，本机关将告知调整后的办结日期。"
    )
    fields = (
        Field("特别程序", what),
        Field("暂停计时起始日", start),
        Field("预计所需时间", f"{days}个工作日" if days else ""),
        Field("事由", _str(sp.get("reason")), wide=True),
    )
    b.blocks.append(FieldGrid(fields, heading=b.heading("不计算在办理期限内的时间")))


def _service_receipt(b: _Builder) -> None:
    """送达回证: the documents served, the recipient, the address, the method, the time, signatures."""
    d = _map(b.snap.get("delivery"))
    served = [_map(x) for x in _list(d.get("documents"))]
    b.text(f"本机关就“{b.item_name}”申请，以邮寄方式向你（单位）送达下列文书：")
    b.blocks.append(
        Table(
            b.heading(f"送达文书（共{len(served)}件）"),
            (Column("序号", 1, "center"), Column("文书名称", 6), Column("文号", 6)),
            tuple((str(i), _str(x.get("title")), _str(x.get("number"))) for i, x in enumerate(served, 1)),
        )
    )
    fields = (
        Field("受送达人", _str(b.applicant.get("name"))),
        Field("送达方式", "邮寄送达"),
        Field("送达地址", _str(d.get("address")) or "申请时登记的送达地址", wide=True),
        Field("邮件单号", _str(d.get("tracking_no"))),
        Field("交寄时间", cn_datetime(d.get("sent_at"))),
        Field("送达人", _str(b.snap.get("clerk"))),
    )
    b.blocks.append(FieldGrid(fields, heading=b.heading("送达情况")))
    b.text("请受送达人收到上列文书后在本回证上签名（单位加盖公章）并注明签收日期，将本回证寄回本机关。")


_BUILDERS = {
    "materials_receipt": _receipt,
    "approval_decision": _approval,
    "extension_notice": _extension,
    "suspension_notice": _suspension,
    "service_receipt": _service_receipt,
    "acceptance_notice": _acceptance,
    "one_time_notice": _one_time,
    "deficiency_acceptance_notice": _deficiency,
    "non_acceptance_notice": _non_acceptance,
    "completion_notice": _completion,
    "refusal_notice": _refusal,
}


def _check(snapshot: Any) -> str:
    if not isinstance(snapshot, Mapping):
        raise DocumentError(
            f"A document snapshot must be a JSON object, not {type(snapshot).__name__}.",
            "文书快照必须是JSON对象。",
        )
    kind = _str(snapshot.get("kind"))
    if kind not in KINDS:
        raise DocumentError(
            f"Unknown document kind {kind!r}; expected one of: {', '.join(KINDS)}.",
            f"未知的文书类型 {kind!r}，应为：{'、'.join(f'{k}（{v}）' for k, v in KINDS.items())}。",
        )
    return kind


def build_notice(snapshot: Mapping[str, Any]) -> Notice:
    """The content of a notice (every kind except ``ticket``)."""
    kind = _check(snapshot)
    if kind == TICKET_KIND:
        raise DocumentError("A ticket is not a notice; use build_ticket().", "排队小票不是通知书。")
    b = _Builder(snapshot)
    b.basic_info()
    _BUILDERS[kind](b)
    b.notes()
    issued = _parse_dt(snapshot.get("issued_at"))
    return Notice(
        kind=kind,
        title=_str(snapshot.get("title")) or NOTICE_KINDS[kind],
        number=_str(snapshot.get("number")),
        hall=_str(snapshot.get("hall")),
        office=_str(snapshot.get("office")) or _str(snapshot.get("hall")),
        issued=cn_datetime(snapshot.get("issued_at")),
        issued_date=cn_date(issued.date().isoformat()) if issued else "",
        blocks=tuple(b.blocks),
        qr_payload=qr_payload(snapshot),
        query_code=_str(snapshot.get("query_code")) or None,
        window=_window_label(snapshot.get("window")),
        clerk=_str(snapshot.get("clerk")) or None,
        seal=_str(snapshot.get("seal")),
    )


def build_ticket(snapshot: Mapping[str, Any]) -> Ticket:
    if _check(snapshot) != TICKET_KIND:
        raise DocumentError("Not a ticket snapshot (kind must be 'ticket').", "不是排队小票。")
    dt = _parse_dt(snapshot.get("issued_at"))

    def opt_int(key: str) -> int | None:
        value = snapshot.get(key)
        try:
            return None if value is None or value == "" else int(value)
        except (TypeError, ValueError):
            return None

    return Ticket(
        hall=_str(snapshot.get("hall")),
        title=_str(snapshot.get("title")) or "排队号",
        # A stored ticket's "number" is its document number (document_store); the queue number
        # (A007) rides in "ticket_number".
        number=_str(snapshot.get("ticket_number") or snapshot.get("number")),
        line=_str(snapshot.get("line")),
        people_ahead=opt_int("people_ahead"),
        wait_minutes=opt_int("estimated_wait_minutes"),
        issued=dt.strftime("%Y-%m-%d %H:%M") if dt else _str(snapshot.get("issued_at")),
        priority=bool(snapshot.get("priority")),
        appointment_code=_str(snapshot.get("appointment_code")) or None,
        slot=_str(snapshot.get("expected_at"))[11:16],
        qr_payload=qr_payload(snapshot) or _str(snapshot.get("ticket_number") or snapshot.get("number")),
        hints=(TICKET_HINT, "请留意叫号屏及语音提示")
        + tuple(_str(n) for n in _list(snapshot.get("notes")) if _str(n)),
    )


def build(snapshot: Mapping[str, Any]) -> Notice | Ticket:
    return build_ticket(snapshot) if _check(snapshot) == TICKET_KIND else build_notice(snapshot)
