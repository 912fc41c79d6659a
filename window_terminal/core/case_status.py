"""Query by code: the query code (or case number) printed on a notice finds the case's status.

What it shows is what a citizen may see with only the paper in hand: the status, the item, the dates,
the deadline light, how many visits, which documents were issued — never the full personal data
(the name and the ID number are masked). No Textual here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, func, select

from window_terminal.core import lookup
from window_terminal.core.document_store import TITLES
from window_terminal.core.privacy import mask_id_number, mask_name
from window_terminal.db.clock import to_local
from window_terminal.db.engine import read_session
from window_terminal.db.models import Case, Document, Hall, ServiceItem, Visit

STATUS_LABELS: dict[str, tuple[str, str]] = {
    "submitted": ("已收件，待受理", "received, awaiting acceptance"),
    "notice_issued": ("已一次性告知，待补正材料", "one-time notice issued, awaiting supplement"),
    "accepted": ("已受理", "accepted"),
    "in_review": ("审批中", "under review"),
    "returned": ("退回补充", "returned for more information"),
    "decided": ("已作出决定，待领取", "decided, awaiting pickup"),
    "completed": ("已办结", "completed"),
    "not_accepted": ("不予受理", "not accepted"),
    "withdrawn": ("已撤回", "withdrawn"),
    # the applicant's later case for the same item was accepted: this one's notice is answered there
    "superseded": ("已由后续办件受理，本件终结", "closed: accepted as a later case"),
}
DECISION_LABELS = {"approved": ("准予许可", "approved"), "refused": ("不予许可", "refused")}
LIGHT_LABELS = {
    "green": ("正常", "on time"),
    "yellow": ("临近期限", "close to the deadline"),
    "red": ("已超期", "overdue"),
}


def _iso(value: date | datetime | None, timezone: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return to_local(value, timezone).isoformat(timespec="seconds")
    return value.isoformat()


def _deadline(
    session: Any, hall_id: int, case: Case, item: ServiceItem, settings: dict[str, Any]
) -> dict[str, Any] | None:
    """The supervision light of an open, accepted case."""
    from window_terminal.core.supervision import OPEN_CASE_STATES, case_light

    if case.status not in OPEN_CASE_STATES or case.accepted_on is None:
        return None

    both, reading, suspensions = case_light(session, hall_id, case, item)
    colour = reading.light
    return {
        "light": colour,
        "light_zh": LIGHT_LABELS[colour][0],
        "light_en": LIGHT_LABELS[colour][1],
        "deadline": reading.deadline.isoformat(),
        "statutory_deadline": both.statutory.date.isoformat(),
        "remaining_working_days": reading.remaining_working_days,
        "provisional": reading.provisional,
        "suspended": any(end is None for _, end in suspensions),
    }


def case_status(engine: Engine, hall_id: int, code: str) -> dict[str, Any]:
    """A case's public status by its query code (or case number); personal data masked."""
    with read_session(engine) as session:
        case = lookup.case(session, hall_id, code)
        hall = session.get(Hall, hall_id)
        item = session.get(ServiceItem, case.item_id)
        assert hall is not None and item is not None
        tz = hall.timezone
        visits = session.execute(
            select(func.count()).select_from(Visit).where(Visit.case_id == case.id)
        ).scalar_one()
        documents = session.execute(
            select(Document.number, Document.kind, Document.issued_at)
            .where(Document.hall_id == hall_id, Document.case_id == case.id)
            .order_by(Document.issued_at, Document.id)
        ).all()
        deadline = _deadline(session, hall_id, case, item, hall.settings or {})
        from window_terminal.core.intake import case_links

        links = case_links(session, case)
    status_zh, status_en = STATUS_LABELS.get(case.status, (case.status, case.status))
    decision = DECISION_LABELS.get(case.decision or "")
    return {
        "case_no": case.case_no,
        "query_code": case.query_code,
        "hall": hall.name,
        "status": case.status,
        "status_zh": status_zh,
        "status_en": status_en,
        "decision": case.decision,
        "decision_zh": decision[0] if decision else None,
        "decision_en": decision[1] if decision else None,
        "item": {"code": item.code, "name": item.name, "promised_days": item.promised_days},
        "applicant": mask_name(case.applicant_name),
        "id_number": mask_id_number(case.id_number),
        "dates": {
            "received": _iso(case.received_on, tz),
            "accepted": _iso(case.accepted_on, tz),
            "promised": _iso(case.promised_date, tz),
            "statutory": _iso(case.statutory_date, tz),
            "supplement_deadline": _iso(case.supplement_deadline, tz),
            "decided": _iso(case.decided_at, tz),
            "completed": _iso(case.completed_at, tz),
        },
        "deadline": deadline,
        "superseded_by": links["superseded_by"],
        "visits": int(visits),
        "documents": [
            {"number": n, "kind": k, "title": TITLES.get(k, k), "issued_at": _iso(at, tz)}
            for n, k, at in documents
        ],
    }


def status_text(data: dict[str, Any], language: str = "zh") -> str:
    """The status as a few lines of text (``wt case status``)."""
    zh = language != "en"

    def label(z: str, e: str) -> str:
        return z if zh else e

    dates = data["dates"]
    lines = [
        f"{label('办件编号', 'Case')} {data['case_no']}   {label('查询码', 'Query code')} {data['query_code']}",
        f"{label('状态', 'Status')} {data['status_zh'] if zh else data['status_en']}"
        + (
            f"（{data['decision_zh']}）"
            if zh and data["decision_zh"]
            else f" ({data['decision_en']})"
            if data["decision_en"]
            else ""
        ),
        f"{label('事项', 'Item')} {data['item']['name']}（{data['item']['code']}）",
        f"{label('申请人', 'Applicant')} {data['applicant']}  {data['id_number']}",
        f"{label('收件', 'Received')} {dates['received'] or '-'}  {label('受理', 'Accepted')} {dates['accepted'] or '-'}  "
        f"{label('承诺办结', 'Promised')} {dates['promised'] or '-'}",
    ]
    if data.get("superseded_by"):
        lines.append(
            label(f"已由办件 {data['superseded_by']} 受理", f"accepted as case {data['superseded_by']}")
        )
    deadline = data.get("deadline")
    if deadline:
        light = deadline["light_zh"] if zh else deadline["light_en"]
        lines.append(
            f"{label('期限', 'Deadline')} {deadline['deadline']}  {light}  "
            f"{label('剩余工作日', 'working days left')} {deadline['remaining_working_days']}"
        )
    lines.append(f"{label('跑动次数', 'Visits')} {data['visits']}")
    lines.append(label("文书：", "Documents:"))
    lines += [f"  {d['number']}  {d['title']}  {d['issued_at']}" for d in data["documents"]] or [
        label("  （无）", "  (none)")
    ]
    return "\n".join(lines)
