"""Issuing documents: an immutable, numbered snapshot per document, written in the same
transaction as the action that produced it. Reprinting renders exactly the stored payload.

This is the one home of *who* issues a document and *how it is numbered*:

* **Issuer** (出具机关): the office of the department that decides the case's item — the item's
  ``issuer`` department, else its first — with that department's seal name; the hall's ``office`` when
  the department names none. The item's ``kind`` (行政许可 / 公共服务 / 其他) and ``basis`` ride in the
  snapshot, so a document cites the law that applies (the Administrative Licensing Law only for a licence).
* **Numbers** follow the hall's ``[documents] number_template`` (default
  ``{dept}{word}〔{year}〕第{seq:04d}号``, e.g. ``锦审批受〔2026〕第0001号``): ``dept`` is the issuing
  department's short name (``abbr``), ``word`` the kind's word (:data:`KIND_WORDS`), ``seq`` counted per
  hall, kind and issuer, reset every year. Queue tickets keep ``<HALL>-PH-<YYYYMMDD>-<NNNN>``.
* **QR code**: the hall's ``[documents] query_url`` with ``{code}`` (the case's query code); the bare
  code when no URL is configured.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.orm import Session

from window_terminal.core import lookup
from window_terminal.core.documents.content import KINDS
from window_terminal.db.clock import to_local
from window_terminal.db.engine import read_session
from window_terminal.db.models import (
    Case,
    Department,
    Document,
    DocumentCounter,
    Hall,
    ItemDepartment,
    ServiceItem,
)
from window_terminal.db.unit import Unit
from window_terminal.errors import DomainError, NotFound

log = logging.getLogger(__name__)

KIND_CODES = {
    "approval_decision": "ZYXK",
    "extension_notice": "YQ",
    "suspension_notice": "ZT",
    "service_receipt": "SD",
    "materials_receipt": "SJ",
    "acceptance_notice": "SL",
    "one_time_notice": "BZ",
    "deficiency_acceptance_notice": "RQ",
    "non_acceptance_notice": "BSL",
    "completion_notice": "BJ",
    "refusal_notice": "BYXK",
    "ticket": "PH",
}

TITLES = KINDS  # each document kind's title, as the renderers print it

#: The word of each kind in a document number (文号中的类别字): 锦审批**受**〔2026〕第0001号
KIND_WORDS = {
    "materials_receipt": "收",
    "acceptance_notice": "受",
    "one_time_notice": "补",
    "deficiency_acceptance_notice": "容受",
    "non_acceptance_notice": "不受",
    "completion_notice": "结",
    "refusal_notice": "不许",
    "approval_decision": "准许",
    "extension_notice": "延",
    "suspension_notice": "停",
    "service_receipt": "送",
}
DEFAULT_NUMBER_TEMPLATE = "{dept}{word}〔{year}〕第{seq:04d}号"
#: service item kinds (事项类型): the code stored, the Chinese name in catalogue files and documents
ITEM_KINDS = {"licence": "行政许可", "public_service": "公共服务", "other": "其他行政权力"}


def item_kind(value: Any) -> str | None:
    """A catalogue ``kind`` (code or Chinese name) → its code; None when it is neither."""
    text = str(value or "").strip()
    if text in ITEM_KINDS:
        return text
    return next((code for code, name in ITEM_KINDS.items() if name == text), None)


def number_template_problem(template: Any) -> str | None:
    """Why a ``number_template`` cannot number documents (None when it can)."""
    if not isinstance(template, str) or not template.strip():
        return 'must be text, like "{dept}{word}〔{year}〕第{seq:04d}号"'
    if "{seq" not in template or "{year" not in template:
        return "must contain {seq} (or {seq:04d}) and {year}: numbers restart every year"
    try:
        template.format(dept="锦审批", word="受", year=2026, seq=1, hall="JINJ", kind="SL")
    except (KeyError, IndexError, ValueError) as exc:
        return f"cannot be filled in ({exc}); the fields are {{dept}} {{word}} {{year}} {{seq}} {{hall}} {{kind}}"
    return None


def query_url_problem(url: Any) -> str | None:
    """Why a ``query_url`` cannot go on a QR code (None when it can)."""
    if not isinstance(url, str) or not re.match(r"^https?://\S+$", url.strip()) or "{code}" not in url:
        return 'must be an http(s) address with {code}, like "https://zwfw.example.gov.cn/q?c={code}"'
    return None


def issuing_department(departments: list[Department], issuer: str) -> Department | None:
    """Of an item's departments (in id order), the one that issues its documents: the item's
    ``issuer`` department, else its first. The reports count a case under this department too."""
    return next((d for d in departments if d.code == issuer), departments[0] if departments else None)


def issuing_departments(session: Session, hall_id: int) -> dict[int, int]:
    """Item id → id of its issuing department (:func:`issuing_department`), for every item of the hall
    that has a department."""
    rows = session.execute(
        select(ItemDepartment.item_id, Department, ServiceItem.issuer)
        .join(Department, Department.id == ItemDepartment.department_id)
        .join(ServiceItem, ServiceItem.id == ItemDepartment.item_id)
        .where(ItemDepartment.hall_id == hall_id)
        .order_by(ItemDepartment.item_id, Department.id)
    ).all()
    by_item: dict[int, tuple[list[Department], str]] = {}
    for item_id, dept, issuer in rows:
        by_item.setdefault(int(item_id), ([], issuer or ""))[0].append(dept)
    out: dict[int, int] = {}
    for item_id, (depts, issuer) in by_item.items():
        chosen = issuing_department(depts, issuer)
        if chosen is not None and chosen.id is not None:
            out[item_id] = chosen.id
    return out


def _issuer(unit: Unit, case_id: int | None) -> dict[str, Any]:
    """The issuing office, seal and number prefix of a case's documents, and its item's kind and basis."""
    hall = unit.session.get(Hall, unit.hall_id)
    office = hall.office if hall and hall.office else (hall.name if hall else "")
    out: dict[str, Any] = {
        "office": office,
        "seal": office,
        "abbr": unit.hall_code[:4].upper(),
        "department": "",
    }
    case = unit.session.get(Case, case_id) if case_id is not None else None
    if case is None:
        return out
    item = unit.session.get(ServiceItem, case.item_id)
    if item is None:
        return out
    out["item_kind"] = item.kind
    out["basis"] = item.basis
    depts = (
        unit.session.execute(
            select(Department)
            .join(ItemDepartment, ItemDepartment.department_id == Department.id)
            .where(ItemDepartment.item_id == item.id)
            .order_by(Department.id)
        )
        .scalars()
        .all()
    )
    dept = issuing_department(list(depts), item.issuer)
    if dept is not None:
        out["department"] = dept.code
        if dept.office:
            out["office"] = dept.office
            out["seal"] = dept.seal or dept.office
        if dept.abbr:
            out["abbr"] = dept.abbr
    return out


def _document_number(unit: Unit, kind: str, issuer: dict[str, Any]) -> str:
    day = unit.today
    if kind not in KIND_WORDS:  # queue tickets: per day, many a day, never legal documents
        seq = next_daily_number(unit.session, unit.hall_id, kind, day)
        return f"{unit.hall_code[:4].upper()}-{KIND_CODES[kind]}-{day:%Y%m%d}-{seq:04d}"
    template = (unit.settings.get("documents") or {}).get("number_template") or DEFAULT_NUMBER_TEMPLATE
    seq = next_daily_number(unit.session, unit.hall_id, f"{kind}:{issuer['abbr']}", date(day.year, 1, 1))
    return str(
        template.format(
            dept=issuer["abbr"],
            word=KIND_WORDS[kind],
            year=day.year,
            seq=seq,
            hall=unit.hall_code[:4].upper(),
            kind=KIND_CODES[kind],
        )
    )


#: Documents never refused for their characters or the fonts: a receipt of materials states that the
#: materials are in the office's hands and starts Art. 32's clock. A character no font has is printed
#: as a placeholder and named in a note (``documents.fonts.marked``), never dropped silently.
NEVER_REFUSED = frozenset({"materials_receipt"})


def _check_glyphs(snapshot: dict[str, Any]) -> None:
    """Before a document is stored: every character must be drawable by the fonts that render it
    (the main Chinese font, then the fallback chain) — a legal document never loses a character.
    A receipt of materials is issued whatever the fonts (:data:`NEVER_REFUSED`)."""
    from window_terminal.core.documents.errors import FontNotFound
    from window_terminal.core.documents.fonts import glyph_problem, undrawable_in

    never_refused = snapshot.get("kind") in NEVER_REFUSED
    try:
        missing = undrawable_in(snapshot)
    except FontNotFound as exc:
        if never_refused:
            log.warning(
                "receipt %s stored without a Chinese font on this PC: %s", snapshot.get("number"), exc.en
            )
            return
        raise DomainError(exc.zh, exc.en, code="font_missing") from exc
    if missing and never_refused:
        log.warning(
            "receipt %s: %s printed as a placeholder, named in a note (no font has them)",
            snapshot.get("number"),
            ", ".join(f"U+{ord(ch):04X}" for ch in missing),
        )
        return
    if missing:
        zh, en = glyph_problem(missing)
        raise DomainError(zh, en, code="glyph_missing")


def typed_number(text: str) -> str:
    """A document number as typed → as stored: brackets of any shape become 〔〕, case folded."""
    value = lookup.code(text)
    for left in "[(（【［":
        value = value.replace(left, "〔")
    for right in "])）】］":
        value = value.replace(right, "〕")
    return value


def next_daily_number(session: Session, hall_id: int, kind: str, day: Any) -> int:
    """The next number of ``kind`` (a document kind, or e.g. ``case``) in the hall on ``day``."""
    value = session.execute(
        update(DocumentCounter)
        .where(DocumentCounter.hall_id == hall_id, DocumentCounter.kind == kind, DocumentCounter.day == day)
        .values(last_seq=DocumentCounter.last_seq + 1)
        .returning(DocumentCounter.last_seq)
    ).scalar_one_or_none()
    if value is not None:
        return int(value)
    session.execute(insert(DocumentCounter).values(hall_id=hall_id, kind=kind, day=day, last_seq=1))
    return 1


def issue_document(
    unit: Unit,
    kind: str,
    payload: dict[str, Any],
    *,
    case_id: int | None = None,
    ticket_id: int | None = None,
    window_id: int | None = None,
) -> Document:
    """Number and store a document snapshot inside the current command; emits ``document.issued``."""
    if kind not in KIND_CODES:
        raise ValueError(f"unknown document kind {kind!r}")
    issuer = _issuer(unit, case_id)
    number = _document_number(unit, kind, issuer)
    snapshot = {
        "title": TITLES[kind],
        **payload,
        "kind": kind,
        "number": number,
        "issued_at": to_local(unit.now, unit.timezone).isoformat(timespec="seconds"),
    }
    if kind in KIND_WORDS:
        snapshot["office"] = issuer["office"]
        snapshot["seal"] = issuer["seal"]
        snapshot["issuer_department"] = issuer["department"]
        if "item_kind" in issuer and isinstance(snapshot.get("item"), dict):
            snapshot["item"] = {**snapshot["item"], "kind": issuer["item_kind"], "basis": issuer["basis"]}
        url = (unit.settings.get("documents") or {}).get("query_url")
        if url and snapshot.get("query_code"):
            snapshot["qr_url"] = str(url).replace("{code}", str(snapshot["query_code"]))
        _check_glyphs(snapshot)  # a legal document; a queue slip prints on the ticket printer's own font
    document = Document(
        hall_id=unit.hall_id,
        number=number,
        kind=kind,
        case_id=case_id,
        ticket_id=ticket_id,
        payload=snapshot,
        issued_at=unit.now,
        staff_id=unit.staff_id,
    )
    unit.session.add(document)
    unit.session.flush()
    unit.emit(
        "document.issued",
        {"number": number, "kind": kind, "case_id": case_id, "ticket_id": ticket_id},
        window_id=window_id,
    )
    return document


def get_document(engine: Engine, hall_id: int, number: str) -> Document:
    with read_session(engine) as session:
        document: Document | None = session.execute(
            select(Document).where(Document.hall_id == hall_id, Document.number == typed_number(number))
        ).scalar_one_or_none()
    if document is None:
        raise NotFound(
            f"没有编号为 {lookup.typed(number)} 的文书：请核对文书右上角的编号（wt doc list 可查看）",
            f"no document numbered {lookup.typed(number)!r} (see `wt doc list`): check the number at the top right of the document",
        )
    return document
