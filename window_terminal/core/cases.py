"""Finding a case from what a person types: its case number, its query code, and — where the
screen may see personal data — the applicant's ID number or the case's row id."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from window_terminal.db.models import Case, typed_row_id
from window_terminal.errors import NotFound


def find_case(
    session: Session, hall_id: int, ref: str | int, *, row_id: bool = False, id_number: bool = False
) -> Case:
    """The case named by ``ref``: case number or query code (any case); with ``row_id`` also ``#123``;
    with ``id_number`` also the applicant's ID number (their latest case). The public status query
    allows neither, so a guessable id or someone else's ID number finds nothing there."""
    text = str(ref).strip()
    code = text.upper()
    matches = [Case.case_no == code, Case.query_code == code]
    if id_number:
        matches.append(Case.id_number == code)
    case = session.execute(
        select(Case).where(Case.hall_id == hall_id, or_(*matches)).order_by(Case.id.desc()).limit(1)
    ).scalar_one_or_none()
    # A row id only where nothing typed matched as a code: a query code may be all digits, and a
    # number too big for the id column is simply not an id (PostgreSQL refuses it outright).
    typed = typed_row_id(text) if case is None and row_id else None
    if typed is not None:
        found = session.get(Case, typed)
        if found is not None and found.hall_id == hall_id:
            case = found
    if case is None:
        kinds_zh = "办件编号、查询码" + ("或身份证号" if id_number else "")
        kinds_en = "case number, query code" + (" or ID number" if id_number else "")
        raise NotFound(
            f"找不到办件 {text}：请核对{kinds_zh}（通知书右上角与二维码下方）",
            f"no case {text!r}: check the {kinds_en} (top right of the notice, under the QR code)",
        )
    return case
