"""Issuing documents: an immutable, numbered snapshot per document, written in the same
transaction as the action that produced it. Reprinting renders exactly the stored payload.

Numbers: ``<HALL>-<KIND>-<YYYYMMDD>-<NNNN>`` per hall, kind and service day, e.g. JINJ-SL-20261121-0007.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.orm import Session

from window_terminal.core import lookup
from window_terminal.core.documents.content import KINDS
from window_terminal.db.clock import to_local
from window_terminal.db.engine import read_session
from window_terminal.db.models import Document, DocumentCounter
from window_terminal.db.unit import Unit
from window_terminal.errors import NotFound

KIND_CODES = {
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
    day = unit.today
    seq = next_daily_number(unit.session, unit.hall_id, kind, day)
    number = f"{unit.hall_code[:4].upper()}-{KIND_CODES[kind]}-{day:%Y%m%d}-{seq:04d}"
    snapshot = {
        "title": TITLES[kind],
        **payload,
        "kind": kind,
        "number": number,
        "issued_at": to_local(unit.now, unit.timezone).isoformat(timespec="seconds"),
    }
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
            select(Document).where(Document.hall_id == hall_id, Document.number == lookup.code(number))
        ).scalar_one_or_none()
    if document is None:
        raise NotFound(
            f"没有编号为 {lookup.typed(number)} 的文书：请核对文书右上角的编号（wt doc list 可查看）",
            f"no document numbered {lookup.typed(number)!r} (see `wt doc list`): check the number at the top right of the document",
        )
    return document
