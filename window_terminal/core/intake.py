"""Intake at the counter (受理): a submission, its materials checklist, exactly one legal outcome.

Where is a case accepted? ``submit`` (first visit; with ``outcome``) or ``conclude`` (a submission
received earlier without an outcome), ``supplement`` (the applicant returns with what the one-time
notice listed) and ``record_supplement`` (the deferred materials of a 容缺 acceptance). Every change
runs through ``db.unit.run_command``: one transaction, its events, idempotent under a request id —
accepting twice (double key press, retry) creates one case.

Outcomes (exactly one per submission), each issuing a numbered document snapshot:

- ``accept``        → 受理通知书 (``commitment`` when some proof is replaced by a 告知承诺)
- ``notice``        → 一次性告知书: every missing/defective material, frozen (Art. 32)
- ``deficiency``    → 容缺受理通知书: only tolerable materials deferred, with a supplement deadline
- ``non_acceptance``→ 不予受理通知书: no licence needed / another office's competence, appeal rights

Accepted cases are handed off at once: one review task per department of the item.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from window_terminal.core import access, lookup, queueing
from window_terminal.core.deadlines import HallDeadlines
from window_terminal.core.document_store import issue_document, next_daily_number
from window_terminal.core.idcheck import check_id_number, check_phone
from window_terminal.core.privacy import mask_id_number, mask_name, mask_phone, masked_person
from window_terminal.db import feed
from window_terminal.db.clock import db_now, local_day, to_local
from window_terminal.db.engine import read_session, snapshot_session
from window_terminal.db.models import (
    Case,
    CaseMaterial,
    Department,
    Document,
    Hall,
    ItemDepartment,
    Line,
    Material,
    ReviewTask,
    ServiceItem,
    Staff,
    Ticket,
    Visit,
    Window,
    stored_id,
)
from window_terminal.db.unit import Unit
from window_terminal.errors import DomainError, NotFound

OUTCOMES = ("accept", "notice", "deficiency", "non_acceptance")
MATERIAL_STATES = ("received", "missing", "defective", "commitment", "deferred", "not_applicable")
REASON_KINDS = ("no_licence_needed", "not_competent")
QUERY_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
NOTICE_STATES = {"green": "ok", "yellow": "due_soon", "red": "deemed_accepted"}
ART32 = "《行政许可法》第三十二条"


# --- inputs -----------------------------------------------------------------------------------


@dataclass
class Applicant:
    name: str
    id_type: str = "resident_id"
    id_number: str = ""
    phone: str = ""


@dataclass
class MaterialCheck:
    material_id: int
    status: str = "received"
    originals: int = 0
    copies: int = 0
    note: str = ""


@dataclass
class Override:
    """A hall manager's authorisation of a second one-time notice (recorded as a breach)."""

    manager_code: str
    pin: str
    reason: str


def applicant_problems(
    applicant: Applicant, *, today: date | None = None, prefix: str = ""
) -> dict[str, DomainError]:
    """Field name → what is wrong (for inline errors on the form); empty when all is well."""
    problems: dict[str, DomainError] = {}
    if not lookup.typed(applicant.name):
        problems[prefix + "name"] = DomainError(
            "请填写申请人姓名", "enter the applicant's name", code="name_empty"
        )
    try:
        check_id_number(applicant.id_type, applicant.id_number, today=today)
    except DomainError as exc:
        problems[prefix + "id_number"] = exc
    try:
        check_phone(applicant.phone)
    except DomainError as exc:
        problems[prefix + "phone"] = exc
    return problems


APPLICANT = ("申请人", "applicant")
AGENT = ("代理人", "agent")


def _normalized(applicant: Applicant, today: date, who: tuple[str, str]) -> Applicant:
    """The applicant (or agent) as stored, or the first problem named for whom it is, in each
    language with that language's word: "申请人：…" / "applicant: …"."""
    problems = applicant_problems(applicant, today=today)
    if problems:
        first = next(iter(problems.values()))
        raise DomainError(f"{who[0]}：{first.zh}", f"{who[1]}: {first.en}", code=first.code)
    return Applicant(
        lookup.typed(applicant.name),
        applicant.id_type,
        check_id_number(applicant.id_type, applicant.id_number, today=today),
        check_phone(applicant.phone),
    )


# --- reading the catalogue -----------------------------------------------------------------------


@dataclass(frozen=True)
class MaterialInfo:
    id: int
    name: str
    originals: int
    copies: int
    required: bool
    tolerable: bool
    commitment: bool
    form: str
    requirement: str = ""  # what the catalogue requires (seal, originals to check, validity)


@dataclass(frozen=True)
class ItemInfo:
    id: int
    code: str
    name: str
    line: str
    statutory_days: int
    promised_days: int
    deficiency_allowed: bool
    commitment_allowed: bool
    materials: tuple[MaterialInfo, ...]
    departments: tuple[str, ...] = ()


def _materials(session: Session, item_id: int) -> list[Material]:
    return list(
        session.execute(
            select(Material)
            .where(Material.item_id == item_id, Material.active)
            .order_by(Material.position, Material.id)
        ).scalars()
    )


def item_info(engine: Engine, hall_id: int, ref: str | int) -> ItemInfo:
    """A service item with its materials checklist (for the intake form)."""
    with read_session(engine) as s:
        item = lookup.service_item(s, hall_id, ref)
        line = s.get(Line, item.line_id)
        depts = s.execute(
            select(Department.code)
            .join(ItemDepartment, ItemDepartment.department_id == Department.id)
            .where(ItemDepartment.item_id == item.id)
            .order_by(Department.code)
        ).scalars()
        return ItemInfo(
            id=item.id or 0,
            code=item.code,
            name=item.name,
            line=line.code if line else "",
            statutory_days=item.statutory_days,
            promised_days=item.promised_days,
            deficiency_allowed=item.deficiency_allowed,
            commitment_allowed=item.commitment_allowed,
            materials=tuple(
                MaterialInfo(
                    m.id or 0,
                    m.name,
                    m.originals,
                    m.copies,
                    m.required,
                    m.tolerable,
                    m.commitment,
                    m.form,
                    m.requirement,
                )
                for m in _materials(s, item.id)  # type: ignore[arg-type]  # a stored row: the id is set
            ),
            departments=tuple(depts),
        )


def default_checks(item: ItemInfo) -> list[MaterialCheck]:
    """The checklist as a clerk starts it: required materials received as asked, the rest not applicable."""
    return [
        MaterialCheck(m.id, "received", m.originals, m.copies)
        if m.required
        else MaterialCheck(m.id, "not_applicable", 0, 0)
        for m in item.materials
    ]


# --- numbers --------------------------------------------------------------------------------------


def _next_case_seq(session: Session, hall_id: int, day: date) -> int:
    return next_daily_number(session, hall_id, "case", day)


def new_query_code(session: Session, hall_id: int, rng: random.Random | None = None) -> str:
    """A case's query code: 8 characters of ``QUERY_ALPHABET`` (upper case, nothing to misread),
    unique in the hall. Unguessable by default; the demo passes its seeded ``rng`` to be repeatable."""
    choice = rng.choice if rng is not None else secrets.choice
    while True:
        code = "".join(choice(QUERY_ALPHABET) for _ in range(8))
        taken = session.execute(
            select(Case.id).where(Case.hall_id == hall_id, Case.query_code == code)
        ).scalar_one_or_none()
        if taken is None:
            return code


# --- building a case ------------------------------------------------------------------------------


@dataclass
class _Ctx:
    unit: Unit
    hall: Hall
    item: ServiceItem
    materials: dict[int, Material]
    window: Window | None
    staff: Staff | None


def _context(unit: Unit, item_ref: str | int, window_number: int | None) -> _Ctx:
    s = unit.session
    hall = s.get(Hall, unit.hall_id)
    assert hall is not None
    item = lookup.service_item(s, unit.hall_id, item_ref)
    window = None
    if window_number is not None:
        window = lookup.window(s, unit.hall_id, window_number)
    staff = s.get(Staff, unit.staff_id) if unit.staff_id else None
    return _Ctx(unit, hall, item, {m.id: m for m in _materials(s, item.id)}, window, staff)  # type: ignore[misc, arg-type]  # stored rows: ids are set


def _check_materials(ctx: _Ctx, checks: Sequence[MaterialCheck]) -> dict[int, MaterialCheck]:
    by_id: dict[int, MaterialCheck] = {}
    for check in checks:
        material = ctx.materials.get(check.material_id)
        if material is None:
            raise DomainError(
                f"材料 #{check.material_id} 不属于事项 {ctx.item.name}",
                f"material #{check.material_id} does not belong to item {ctx.item.code}",
            )
        if check.status not in MATERIAL_STATES:
            raise DomainError(
                f"材料状态 {check.status} 无效", f"material status must be one of {MATERIAL_STATES}"
            )
        if check.status == "commitment" and not (material.commitment and ctx.item.commitment_allowed):
            raise DomainError(
                f"“{material.name}”不适用告知承诺：请收取材料，或出具一次性告知书",
                f"{material.name!r} cannot be replaced by a commitment: take the material or issue a one-time notice",
                code="commitment_not_allowed",
            )
        if check.status == "deferred" and not (material.tolerable and ctx.item.deficiency_allowed):
            raise DomainError(
                f"“{material.name}”不在容缺清单内：只有可容缺材料可以后补",
                f"{material.name!r} is not a tolerable material: only those may be supplied later",
                code="deferral_not_allowed",
            )
        if check.status == "received" and check.originals + check.copies == 0:
            check = MaterialCheck(
                check.material_id, "received", material.originals, material.copies, check.note
            )
        by_id[check.material_id] = replace(check, note=lookup.note(check.note))
    for material_id, material in ctx.materials.items():
        if material_id not in by_id:
            by_id[material_id] = MaterialCheck(
                material_id, "missing" if material.required else "not_applicable"
            )
    return by_id


def _gaps(ctx: _Ctx, checks: dict[int, MaterialCheck]) -> tuple[list[Material], list[Material]]:
    """(missing or defective materials, deferred materials)."""
    missing = [ctx.materials[i] for i, c in checks.items() if c.status in ("missing", "defective")]
    deferred = [ctx.materials[i] for i, c in checks.items() if c.status == "deferred"]
    return missing, deferred


def _snapshot(
    ctx: _Ctx, case: Case, rows: Sequence[CaseMaterial], *, notes: Iterable[str] = ()
) -> dict[str, Any]:
    by_material = {r.material_id: r for r in rows}
    ordered = [(m, by_material[m.id]) for m in ctx.materials.values() if m.id in by_material]
    window_number = ctx.window.number if ctx.window else None
    if window_number is None and case.window_id:
        w = ctx.unit.session.get(Window, case.window_id)
        window_number = w.number if w else None
    return {
        "hall": ctx.hall.name,
        "office": ctx.hall.office,
        "case_no": case.case_no,
        "query_code": case.query_code,
        "applicant": masked_person(case.applicant_name, case.id_type, case.id_number, case.phone),
        "agent": masked_person(case.agent_name, "resident_id", case.agent_id_number, case.agent_phone),
        "item": {
            "code": ctx.item.code,
            "name": ctx.item.name,
            "statutory_days": ctx.item.statutory_days,
            "promised_days": ctx.item.promised_days,
        },
        "materials_received": [
            {"name": m.name, "originals": r.originals, "copies": r.copies}
            for m, r in ordered
            if r.status == "received"
        ],
        "materials_missing": [
            {
                "name": m.name,
                "form": m.form,
                "requirement": m.requirement,
                "status": r.status,
                "note": r.note,
                "reason": missing_reason(r.status, r.note),
            }
            for m, r in ordered
            if r.status in ("missing", "defective") and r.in_notice
        ],
        "materials_deferred": [
            {"name": m.name, "form": m.form} for m, r in ordered if r.status == "deferred"
        ],
        "commitments": [{"name": m.name} for m, r in ordered if r.status == "commitment"],
        "dates": {
            "received": case.received_on.isoformat(),
            "accepted": case.accepted_on.isoformat() if case.accepted_on else None,
            "promised": case.promised_date.isoformat() if case.promised_date else None,
            "statutory": case.statutory_date.isoformat() if case.statutory_date else None,
            "supplement_deadline": case.supplement_deadline.isoformat() if case.supplement_deadline else None,
        },
        "provisional": case.deadline_provisional,
        "reason": case.reason,
        "reason_kind": "",
        "competent_office": case.competent_office,
        "appeal": {
            "reconsideration_days": 60,
            "reconsideration_body": ctx.hall.settings.get("reconsideration_body", "")
            if ctx.hall.settings
            else "",
            "lawsuit_months": 6,
            "court": ctx.hall.settings.get("court", "") if ctx.hall.settings else "",
        },
        "window": window_number,
        "clerk": ctx.staff.name if ctx.staff else "",
        "notes": list(notes),
    }


def missing_reason(status: str, note: str) -> str:
    """Why a material is on the one-time notice: not handed in / not as required, and the clerk's note
    on what exactly to correct (Art. 32: the notice says *what* must be supplemented)."""
    what = "不符合要求" if status == "defective" else "未提交"
    return f"{what}：{note}" if note else what


def _visit(unit: Unit, case: Case, purpose: str, ticket_id: int | None, window: Window | None) -> Visit:
    visit = Visit(
        hall_id=unit.hall_id,
        case_id=case.id,  # type: ignore[arg-type]  # a stored row: the id is set
        purpose=purpose,
        ticket_id=ticket_id,
        window_id=window.id if window else None,
        staff_id=unit.staff_id,
        at=unit.now,
    )
    unit.session.add(visit)
    unit.session.flush()
    unit.emit(
        "case.visit",
        {"case_no": case.case_no, "purpose": purpose, "ticket_id": ticket_id},
        window_id=window.id if window else None,
    )
    return visit


def _visit_count(session: Session, case_id: int) -> int:
    return int(
        session.execute(select(func.count()).select_from(Visit).where(Visit.case_id == case_id)).scalar_one()
    )


def _accept(ctx: _Ctx, case: Case, outcome: str) -> None:
    """Set the acceptance dates and hand the case to its departments.

    Past Art. 32's notice limit the application already counts as accepted from the day the
    materials were received: it is then dated (and every deadline counted) from ``received_on``.
    """
    unit = ctx.unit
    if not case.deemed_accepted:
        limit = deemed_acceptance(unit.session, unit.hall_id, case, today=unit.today)
        if limit is not None:  # a notice recorded late, or none by the limit: accepted by law
            _deem(unit, case, limit)
    case.status = "accepted"
    case.outcome = outcome
    case.accepted_at = unit.now
    case.accepted_on = case.received_on if case.deemed_accepted else unit.today
    both = HallDeadlines.load(unit.session, unit.hall_id, unit.today).of_case(case, ctx.item)
    case.promised_date = both.promised.date
    case.statutory_date = both.statutory.date
    case.deadline_provisional = both.provisional
    departments = (
        unit.session.execute(
            select(Department)
            .join(ItemDepartment, ItemDepartment.department_id == Department.id)
            .where(ItemDepartment.item_id == ctx.item.id)
            .order_by(Department.code)
        )
        .scalars()
        .all()
    )
    for department in departments:
        exists = unit.session.execute(
            select(ReviewTask.id).where(
                ReviewTask.case_id == case.id, ReviewTask.department_id == department.id
            )
        ).scalar_one_or_none()
        if exists is None:
            unit.session.add(
                ReviewTask(
                    hall_id=unit.hall_id,
                    case_id=case.id,  # type: ignore[arg-type]  # a stored row: the id is set
                    department_id=department.id,
                    status="pending",
                    created_at=unit.now,
                )
            )
    unit.session.flush()
    unit.emit(
        "case.accepted",
        {
            "case_no": case.case_no,
            "outcome": outcome,
            "accepted_on": case.accepted_on.isoformat(),
            "deemed": case.deemed_accepted,
            "promised_date": case.promised_date.isoformat(),
        },
        window_id=ctx.window.id if ctx.window else None,
    )
    unit.emit(
        "case.handed_off",
        {"case_no": case.case_no, "case_id": case.id, "departments": [d.code for d in departments]},
        window_id=ctx.window.id if ctx.window else None,
    )
    _supersede_earlier(unit, case)


def _supersede_earlier(unit: Unit, case: Case) -> None:
    """The same applicant's earlier case for this item, still awaiting the supplement its one-time
    notice asked for, is closed now that the application is accepted as ``case``: status
    ``superseded``, linked both ways (``case.earlier_case_id``; ``superseded_by`` in the case views),
    and a ``case.superseded`` event — it no longer waits for ever as "notice issued"."""
    who = Applicant(case.applicant_name, case.id_type, case.id_number, case.phone)
    for earlier in _awaiting_supplement(unit.session, unit.hall_id, case.item_id, who):
        if earlier.id == case.id:
            continue
        earlier.status = "superseded"
        unit.session.flush()
        unit.emit(
            "case.superseded",
            {
                "case_no": earlier.case_no,
                "case_id": earlier.id,
                "by_case_no": case.case_no,
                "by_case_id": case.id,
                "notice": _earlier_view(unit.session, earlier)["notice"],
            },
        )


def _override_manager(engine: Engine, hall_id: int, override: Override | None) -> int | None:
    """The staff id of the manager authorising ``override`` (PIN and role checked); None without one."""
    if override is None:
        return None
    from window_terminal.core.staff import login

    if not override.reason.strip():
        raise DomainError("管理员授权须填写原因", "a manager override needs a reason", code="override_reason")
    manager = login(engine, hall_id, override.manager_code, override.pin)
    access.require(
        access.Acting(code=manager.code, role=manager.role, staff_id=manager.id, name=manager.name),
        "case.override_once",
    )
    return manager.id


def _actor_is_manager(unit: Unit) -> bool:
    staff = unit.session.get(Staff, unit.staff_id) if unit.staff_id else None
    return staff is not None and staff.role == "manager"


def _breach(
    unit: Unit,
    case: Case,
    route: str,
    materials: Sequence[str],
    *,
    manager_id: int | None,
    override: Override | None,
) -> None:
    """Art. 32/72: a one-time notice the law does not allow, recorded as a breach on the day it happens."""
    case.notice_breach = True
    unit.emit(
        "case.notice_breach",
        {
            "case_no": case.case_no,
            "route": route,  # second_notice | earlier_case | late_notice
            "manager_id": manager_id if manager_id is not None else unit.staff_id,
            "manager": override.manager_code if override else None,
            "reason": override.reason.strip() if override else "",
            "materials": list(materials),
        },
    )


def _late_notice_limit(unit: Unit, case: Case) -> date | None:
    """Art. 32: the last day of the notice limit of a submission still without an outcome, once it
    has passed (the application is then deemed accepted from ``received_on``); None otherwise."""
    if case.status != "submitted":
        return None
    service = HallDeadlines.load(unit.session, unit.hall_id, unit.today)
    if not service.deemed_accepted(case.received_on):
        return None
    return service.notice(case.received_on).date


#: the documents that end Art. 32's notice limit: the one-time notice or an outcome
OUTCOME_DOCUMENTS = (
    "one_time_notice",
    "acceptance_notice",
    "deficiency_acceptance_notice",
    "non_acceptance_notice",
)


def deemed_acceptance(
    session: Session, hall_id: int, case: Case, *, today: date | None = None
) -> date | None:
    """Art. 32(1)(4): the last day of the notice limit when the application counts as accepted from
    its receipt day; None when it does not.

    It does once the limit has passed with no one-time notice and no outcome issued by its last day —
    whatever happens later: a notice a manager records late (a breach), a supplement, an acceptance.
    The acceptance date is then ``received_on`` and every legal date counts from it (``_accept``).
    ``case.deemed_accepted`` records it (``_deem``); this is the rule the record is written by, and
    the report's 视为受理 (``reports.indicators.deemed_items``) counts the same cases."""
    if case.deemed_accepted:
        return HallDeadlines.load(session, hall_id, today).notice(case.received_on).date
    service = HallDeadlines.load(session, hall_id, today)
    limit = service.notice(case.received_on).date
    tz = session.execute(select(Hall.timezone).where(Hall.id == hall_id)).scalar_one()
    first = session.execute(
        select(func.min(Document.issued_at)).where(
            Document.case_id == case.id, Document.kind.in_(OUTCOME_DOCUMENTS)
        )
    ).scalar_one_or_none()
    if first is None:
        return limit if service.today > limit else None
    return limit if local_day(first, tz) > limit else None


def _deem(unit: Unit, case: Case, limit: date) -> None:
    """Record Art. 32's deemed acceptance: accepted as of the receipt date (``_accept`` dates it)."""
    case.deemed_accepted = True
    unit.emit(
        "case.deemed_accepted",
        {
            "case_no": case.case_no,
            "received_on": case.received_on.isoformat(),
            "notice_due": limit.isoformat(),
            "deemed_on": (limit + timedelta(days=1)).isoformat(),
        },
    )


def _awaiting_supplement(session: Session, hall_id: int, item_id: int, who: Applicant) -> list[Case]:
    """The cases of the same applicant and item still awaiting a supplement, oldest first (the
    applicant is the same person by ID number, or by name and phone when no number was given)."""
    query = select(Case).where(
        Case.hall_id == hall_id, Case.item_id == item_id, Case.status == "notice_issued"
    )
    if who.id_number:
        query = query.where(Case.id_type == who.id_type, Case.id_number == who.id_number)
    else:
        query = query.where(Case.applicant_name == who.name, Case.phone == who.phone)
    return list(session.execute(query.order_by(Case.id)).scalars())


def _earlier_case(session: Session, hall_id: int, item_id: int, who: Applicant) -> Case | None:
    """The first case of the same applicant and item still awaiting its supplement: its notice is the
    one "once" refers to (Art. 32 holds per applicant and item, not only per case record)."""
    found = _awaiting_supplement(session, hall_id, item_id, who)
    return found[0] if found else None


def earlier_notice(
    engine: Engine, hall_id: int, applicant: Applicant, item: str | int
) -> dict[str, Any] | None:
    """The one-time notice already issued to this applicant for this item and still awaiting its
    supplement (case number, notice number, receipt day, the materials it listed) — shown in the
    intake before the clerk decides (Art. 32: "once" holds per applicant and item). None when there
    is none, or while the applicant's details are not complete enough to tell."""
    with read_session(engine) as s:
        hall = s.get(Hall, hall_id)
        if hall is None:
            raise NotFound(f"大厅 #{hall_id} 不存在", f"hall #{hall_id} does not exist")
        service_item = lookup.service_item(s, hall_id, item)
        try:
            who = _normalized(applicant, local_day(db_now(s), hall.timezone), APPLICANT)
        except DomainError:
            return None
        earlier = _earlier_case(s, hall_id, stored_id(service_item), who)
        return _earlier_view(s, earlier) if earlier is not None else None


def _earlier_view(session: Session, earlier: Case) -> dict[str, Any]:
    """The earlier case and its one-time notice, as the clerk is shown them."""
    notice = session.execute(
        select(Document.number)
        .where(Document.case_id == earlier.id, Document.kind == "one_time_notice")
        .order_by(Document.id)
        .limit(1)
    ).scalar_one_or_none()
    names = (
        session.execute(
            select(Material.name)
            .join(CaseMaterial, CaseMaterial.material_id == Material.id)
            .where(CaseMaterial.case_id == earlier.id, CaseMaterial.in_notice)
            .order_by(Material.position, Material.id)
        )
        .scalars()
        .all()
    )
    return {
        "case_no": earlier.case_no,
        "notice": notice,
        "received_on": earlier.received_on.isoformat(),
        "materials": list(names),
    }


def _rows(session: Session, case_id: int) -> list[CaseMaterial]:
    return list(session.execute(select(CaseMaterial).where(CaseMaterial.case_id == case_id)).scalars())


def _apply_outcome(
    ctx: _Ctx,
    case: Case,
    checks: dict[int, MaterialCheck],
    outcome: str,
    *,
    reason: str,
    reason_kind: str,
    competent_office: str,
    override: Override | None = None,
    manager_id: int | None = None,
) -> Document:
    unit = ctx.unit
    if outcome not in OUTCOMES:
        raise DomainError(f"办理结果 {outcome} 无效", f"outcome must be one of {OUTCOMES}")
    missing, deferred = _gaps(ctx, checks)
    rows = {r.material_id: r for r in _rows(unit.session, case.id)}  # type: ignore[arg-type]  # a stored row: the id is set
    for material_id, check in checks.items():
        row = rows.get(material_id)
        if row is None:
            row = CaseMaterial(hall_id=unit.hall_id, case_id=case.id, material_id=material_id)  # type: ignore[arg-type]  # a stored row: the id is set
            unit.session.add(row)
            rows[material_id] = row
        row.status = check.status
        row.originals = check.originals if check.status == "received" else 0
        row.copies = check.copies if check.status == "received" else 0
        row.note = check.note
    names = "、".join(m.name for m in missing)
    kind: str
    notes: list[str] = []
    if outcome == "accept":
        if missing or deferred:
            raise DomainError(
                f"材料不齐（{names or '、'.join(m.name for m in deferred)}）：请出具一次性告知书，或对可容缺材料办理容缺受理",
                f"materials incomplete ({', '.join(m.name for m in missing + deferred)}): "
                "issue a one-time notice, or accept with deferred tolerable materials",
                code="materials_incomplete",
            )
        commitment = any(c.status == "commitment" for c in checks.values())
        case.commitment = commitment
        _accept(ctx, case, "commitment" if commitment else "accepted")
        kind = "acceptance_notice"
        if commitment:
            notes.append("申请人已书面承诺符合条件，告知承诺替代相应证明材料；承诺不实的依法承担责任。")
            unit.emit("case.commitment", {"case_no": case.case_no})
    elif outcome == "notice":
        if not missing:
            raise DomainError(
                "没有标记为缺少或不合格的材料：一次性告知书须列明需补正的全部材料",
                "no material is marked missing or defective: the one-time notice must list what to supply",
                code="nothing_missing",
            )
        earlier = unit.session.get(Case, case.earlier_case_id) if case.earlier_case_id else None
        if earlier is not None and earlier.status == "notice_issued":
            told = {r.material_id for r in _rows(unit.session, stored_id(earlier)) if r.in_notice}
            new_items = [m for m in missing if m.id not in told]
            if new_items:
                seen = _earlier_view(unit.session, earlier)
                if override is None:
                    raise DomainError(
                        f"该申请人此前已就本事项出具一次性告知书 {seen['notice'] or ''}（办件 {earlier.case_no}，"
                        f"告知补正：{'、'.join(seen['materials'])}）：依{ART32}，补正内容须一次性告知，"
                        f"不得以新办件再次告知“{'、'.join(m.name for m in new_items)}”。请按原告知书办理补正；"
                        "如确需再次告知，请大厅管理员授权",
                        f"this applicant already has a one-time notice {seen['notice'] or ''} for this item "
                        f"(case {earlier.case_no}: {', '.join(seen['materials'])}); under Art. 32 everything "
                        "is notified once, not again through a new case: take the supplement on the earlier "
                        "case, or have a hall manager authorise a second notice",
                        code="notice_once_applicant",
                    )
                _breach(
                    unit,
                    case,
                    "earlier_case",
                    [m.name for m in new_items],
                    manager_id=manager_id,
                    override=override,
                )
                notes.append(f"经大厅管理员授权再次告知（原因：{override.reason.strip()}）。")
        for m in missing:
            rows[m.id].in_notice = True  # type: ignore[index]  # a stored row: the id is set
        case.status = "notice_issued"
        case.outcome = None
        kind = "one_time_notice"
        notes.append("本告知书一次性告知需补正的全部材料；补齐后即予受理。")
        unit.emit(
            "case.notice_issued",
            {"case_no": case.case_no, "materials": [m.name for m in missing]},
            window_id=ctx.window.id if ctx.window else None,
        )
    elif outcome == "deficiency":
        if not ctx.item.deficiency_allowed:
            raise DomainError(
                f"事项“{ctx.item.name}”不适用容缺受理：请出具一次性告知书",
                f"item {ctx.item.code} does not allow acceptance with deficiencies: issue a one-time notice",
                code="deficiency_not_allowed",
            )
        if missing:
            raise DomainError(
                f"核心材料不齐（{names}）：不能容缺受理，请出具一次性告知书",
                f"core materials missing ({', '.join(m.name for m in missing)}): issue a one-time notice instead",
                code="core_missing",
            )
        if not deferred:
            raise DomainError(
                "没有标记为容缺（后补）的材料：材料齐全时请直接受理",
                "no material is marked deferred: accept the case directly",
                code="nothing_deferred",
            )
        _accept(ctx, case, "deficiency")
        service = HallDeadlines.load(unit.session, unit.hall_id, unit.today)
        case.supplement_deadline = service.supplement(unit.today, case.promised_date).date
        kind = "deficiency_acceptance_notice"
        notes.append("请在补交期限前补齐容缺材料；补齐前不发放办理结果。")
    else:
        if reason_kind not in REASON_KINDS:
            raise DomainError(
                "请选择不予受理的理由：不需要取得行政许可，或不属于本机关职权范围",
                f"choose the reason for non-acceptance: one of {REASON_KINDS}",
                code="reason_kind",
            )
        if reason_kind == "not_competent" and not lookup.note(competent_office):
            raise DomainError(
                "不属于本机关职权范围时须告知有权机关：请填写有权机关名称",
                "when the matter is another office's competence, name that office",
                code="competent_office",
            )
        case.status = "not_accepted"
        case.outcome = "not_accepted"
        case.competent_office = lookup.note(competent_office)
        case.reason = lookup.note(reason) or (
            "申请事项依法不需要取得行政许可"
            if reason_kind == "no_licence_needed"
            else f"申请事项不属于本机关职权范围，请向{case.competent_office}申请"
        )
        kind = "non_acceptance_notice"
        unit.emit(
            "case.not_accepted",
            {"case_no": case.case_no, "reason_kind": reason_kind},
            window_id=ctx.window.id if ctx.window else None,
        )
    unit.session.flush()
    payload = _snapshot(ctx, case, list(rows.values()), notes=notes)
    payload["reason_kind"] = reason_kind if outcome == "non_acceptance" else ""
    if outcome == "non_acceptance":
        payload["reason"] = lookup.note(reason)  # as typed: the notice states the legal ground itself
    payload["deemed"] = case.deemed_accepted
    return issue_document(
        unit,
        kind,
        payload,
        case_id=case.id,
        ticket_id=case.ticket_id,
        window_id=ctx.window.id if ctx.window else None,
    )


# --- results --------------------------------------------------------------------------------------


@dataclass
class CaseResult:
    case_id: int
    case_no: str
    query_code: str
    status: str
    outcome: str | None
    visits: int
    document_number: str | None = None
    document: dict[str, Any] | None = None
    promised_date: str | None = None
    supplement_deadline: str | None = None
    notice_breach: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CaseResult:
        return cls(**data)


def _result(session: Session, case: Case, document: Document | None) -> CaseResult:
    return CaseResult(
        case_id=case.id or 0,
        case_no=case.case_no,
        query_code=case.query_code,
        status=case.status,
        outcome=case.outcome,
        visits=_visit_count(session, case.id),  # type: ignore[arg-type]  # a stored row: the id is set
        document_number=document.number if document else None,
        document=dict(document.payload) if document else None,
        promised_date=case.promised_date.isoformat() if case.promised_date else None,
        supplement_deadline=case.supplement_deadline.isoformat() if case.supplement_deadline else None,
        notice_breach=case.notice_breach,
    )


def _run(
    engine: Engine,
    hall_id: int,
    name: str,
    action: Callable[[Unit], CaseResult],
    request_id: str | None,
    actor: str | None,
) -> CaseResult:
    return access.run_as(
        engine,
        hall_id,
        name,
        action,
        actor,
        request_id=request_id,
        encode=lambda r: r.as_dict(),
        decode=CaseResult.from_dict,
    )


# --- commands -------------------------------------------------------------------------------------


def submit(
    engine: Engine,
    hall_id: int,
    *,
    applicant: Applicant,
    item: str | int,
    materials: Sequence[MaterialCheck],
    outcome: str | None,
    agent: Applicant | None = None,
    ticket_id: int | None = None,
    window: int | None = None,
    actor: str | None,
    reason: str = "",
    reason_kind: str = "",
    competent_office: str = "",
    override: Override | None = None,
    request_id: str | None = None,
) -> CaseResult:
    """A first submission at the counter: creates the case, records the visit, applies ``outcome``.

    ``outcome=None`` only receives the materials and issues the 收件凭证 (receipt of materials), whose
    date starts Art. 32's clock: the office then has 5 working days to decide (``pending_notice_cases``,
    ``conclude``; past them ``apply_deemed_acceptances``).

    A case for an applicant and item that already await a supplement is linked to that earlier case
    (``CaseResult.extra["earlier"]``): a one-time notice on it may not ask for anything the earlier
    notice did not (Art. 32 "once"), except by a manager's ``override`` — recorded as a breach.
    """
    manager_id = _override_manager(engine, hall_id, override)

    def action(unit: Unit) -> CaseResult:
        who = _normalized(applicant, unit.today, APPLICANT)
        rep = _normalized(agent, unit.today, AGENT) if agent and lookup.typed(agent.name) else None
        ctx = _context(unit, item, window)
        checks = _check_materials(ctx, materials)
        if ticket_id is not None:
            ticket = unit.session.get(Ticket, ticket_id)
            if ticket is None or ticket.hall_id != unit.hall_id:
                raise NotFound(f"排队号 #{ticket_id} 不存在", f"ticket #{ticket_id} does not exist")
            ticket.service_item_id = ctx.item.id
        seq = _next_case_seq(unit.session, unit.hall_id, unit.today)
        case = Case(
            hall_id=unit.hall_id,
            case_no=f"{unit.hall_code.upper()[:4]}{unit.today:%Y%m%d}{seq:04d}",
            query_code=new_query_code(unit.session, unit.hall_id),
            item_id=ctx.item.id,  # type: ignore[arg-type]
            status="submitted",
            applicant_name=who.name,
            id_type=who.id_type,
            id_number=who.id_number,
            phone=who.phone,
            agent_name=rep.name if rep else "",
            agent_id_number=rep.id_number if rep else "",
            agent_phone=rep.phone if rep else "",
            received_at=unit.now,
            received_on=unit.today,
            ticket_id=ticket_id,
            window_id=ctx.window.id if ctx.window else None,
            staff_id=unit.staff_id,
            request_id=unit.request_id,
        )
        earlier = _earlier_case(unit.session, unit.hall_id, stored_id(ctx.item), who)
        case.earlier_case_id = earlier.id if earlier else None
        unit.session.add(case)
        unit.session.flush()
        unit.emit(
            "case.submitted",
            {
                "case_no": case.case_no,
                "item": ctx.item.code,
                "ticket_id": ticket_id,
                "earlier_case": earlier.case_no if earlier else None,
            },
            window_id=ctx.window.id if ctx.window else None,
        )
        _visit(unit, case, "submit", ticket_id, ctx.window)
        document = None
        if outcome is None:
            for material_id, check in checks.items():
                unit.session.add(
                    CaseMaterial(
                        hall_id=unit.hall_id,
                        case_id=case.id,  # type: ignore[arg-type]  # a stored row: the id is set
                        material_id=material_id,
                        status=check.status,
                        originals=check.originals,
                        copies=check.copies,
                        note=check.note,
                    )
                )
            unit.session.flush()
            document = _receipt(ctx, case)
        else:
            document = _apply_outcome(
                ctx,
                case,
                checks,
                outcome,
                reason=reason,
                reason_kind=reason_kind,
                competent_office=competent_office,
                override=override,
                manager_id=manager_id,
            )
        result = _result(unit.session, case, document)
        if earlier is not None:
            result.extra["earlier"] = _earlier_view(unit.session, earlier)
        return result

    return _run(engine, hall_id, "case.submit", action, request_id, actor)


def _receipt(ctx: _Ctx, case: Case) -> Document:
    """收件凭证: materials taken in without an outcome on the spot; its date starts Art. 32's clock."""
    unit = ctx.unit
    payload = _snapshot(ctx, case, _rows(unit.session, stored_id(case)))
    limit = HallDeadlines.load(unit.session, unit.hall_id, unit.today).notice(case.received_on)
    payload["dates"]["notice_due"] = limit.date.isoformat()
    payload["notice_limit_days"] = HallDeadlines.load(
        unit.session, unit.hall_id, unit.today
    ).thresholds.notice_limit_days
    payload["received_at"] = to_local(case.received_at, unit.timezone).isoformat(timespec="seconds")
    return issue_document(
        unit,
        "materials_receipt",
        payload,
        case_id=case.id,
        ticket_id=case.ticket_id,
        window_id=ctx.window.id if ctx.window else None,
    )


def _case(session: Session, hall_id: int, ref: str) -> Case:
    return lookup.case(session, hall_id, ref, id_number=True)


def conclude(
    engine: Engine,
    hall_id: int,
    case_ref: str,
    outcome: str,
    *,
    materials: Sequence[MaterialCheck] = (),
    window: int | None = None,
    actor: str | None,
    reason: str = "",
    reason_kind: str = "",
    competent_office: str = "",
    override: Override | None = None,
    request_id: str | None = None,
) -> CaseResult:
    """The outcome for a submission received earlier without one.

    Within Art. 32's five working days any outcome. Past them the application already counts as
    accepted from the day the materials were received: ``accept``/``deficiency`` are dated from that
    day (and so is every deadline); a one-time notice or a non-acceptance is refused to a clerk — a
    hall manager (signed in, or by ``override``) may still record one, counted as a breach. The case
    is deemed accepted all the same (``deemed_acceptance``): when the supplement that notice asks for
    arrives, the acceptance is still dated on the receipt day and every date counts from it.
    """
    manager_id = _override_manager(engine, hall_id, override)

    def action(unit: Unit) -> CaseResult:
        case = _case(unit.session, unit.hall_id, case_ref)
        if case.status != "submitted":
            raise DomainError(
                f"办件 {case.case_no} 已有结果（{case.status}）",
                f"case {case.case_no} already has an outcome",
            )
        ctx = _context(unit, case.item_id, window)
        limit = _late_notice_limit(unit, case)
        late_breach = False
        if limit is not None:
            if outcome in ("notice", "non_acceptance"):
                if override is None and not _actor_is_manager(unit):
                    raise DomainError(
                        f"办件 {case.case_no} 于{case.received_on:%Y-%m-%d}收件，告知期限已于"
                        f"{limit:%Y-%m-%d}届满：依{ART32}，逾期未告知的，自收到申请材料之日起即为受理，"
                        "不能再出具一次性告知书或不予受理通知书。请予以受理（受理日期为收件日）；"
                        "如确需补记，请大厅管理员办理（记为违规）",
                        f"case {case.case_no} was received on {case.received_on}; the notice limit ended on "
                        f"{limit}: under Art. 32 it already counts as accepted from the receipt date. Accept "
                        "it (dated from the receipt); only a hall manager may still record a notice, as a breach",
                        code="deemed_accepted",
                    )
                late_breach = True
            # accepted by law from the receipt day, whatever is recorded now: a late notice is a
            # breach and never moves the acceptance date or a date counted from it (Art. 32(1)(4))
            _deem(unit, case, limit)
        given = list(materials) or [
            MaterialCheck(r.material_id, r.status, r.originals, r.copies, r.note)
            for r in _rows(unit.session, case.id)  # type: ignore[arg-type]  # a stored row: the id is set
        ]
        checks = _check_materials(ctx, given)
        document = _apply_outcome(
            ctx,
            case,
            checks,
            outcome,
            reason=reason,
            reason_kind=reason_kind,
            competent_office=competent_office,
            override=override,
            manager_id=manager_id,
        )
        if late_breach:
            _breach(
                unit,
                case,
                "late_notice",
                [m.name for m in _gaps(ctx, checks)[0]],
                manager_id=manager_id,
                override=override,
            )
        return _result(unit.session, case, document)

    return _run(engine, hall_id, "case.conclude", action, request_id, actor)


def apply_deemed_acceptances(
    engine: Engine, hall_id: int, *, actor: str | None, request_id: str | None = None
) -> list[dict[str, Any]]:
    """Art. 32: every submission whose notice limit has passed without an outcome is accepted as of
    its receipt date — recorded (``case.deemed_accepted``), handed off, and an acceptance notice dated
    from the receipt issued. Safe to run any time (the board, ``wt case deem``, a daily timer)."""

    def action(unit: Unit) -> list[dict[str, Any]]:
        done = []
        pending = (
            unit.session.execute(
                select(Case).where(Case.hall_id == unit.hall_id, Case.status == "submitted").order_by(Case.id)
            )
            .scalars()
            .all()
        )
        for case in pending:
            limit = _late_notice_limit(unit, case)
            if limit is None:
                continue
            ctx = _context(unit, case.item_id, None)
            _deem(unit, case, limit)
            _accept(ctx, case, "accepted")
            payload = _snapshot(ctx, case, _rows(unit.session, stored_id(case)))
            payload["deemed"] = True
            document = issue_document(
                unit, "acceptance_notice", payload, case_id=case.id, ticket_id=case.ticket_id
            )
            done.append(
                {
                    "case_no": case.case_no,
                    "received_on": case.received_on.isoformat(),
                    "notice_due": limit.isoformat(),
                    "accepted_on": case.received_on.isoformat(),
                    "promised_date": case.promised_date.isoformat() if case.promised_date else None,
                    "document": document.number,
                }
            )
        return done

    return access.run_as(engine, hall_id, "case.deem", action, actor, request_id=request_id)


def supplement(
    engine: Engine,
    hall_id: int,
    case_ref: str,
    materials: Sequence[MaterialCheck],
    *,
    window: int | None = None,
    actor: str | None,
    ticket_id: int | None = None,
    override: Override | None = None,
    request_id: str | None = None,
) -> CaseResult:
    """The applicant returns after a one-time notice: only the listed materials are checked.

    When every listed material is now received the case is accepted (same case, one more visit).
    A material not on the notice cannot be declared missing now (Art. 32: notify everything once);
    a manager ``override`` allows a second notice and records it as a breach.
    """
    manager_id = _override_manager(engine, hall_id, override)

    def action(unit: Unit) -> CaseResult:
        case = _case(unit.session, unit.hall_id, case_ref)
        if case.status != "notice_issued":
            raise DomainError(
                f"办件 {case.case_no} 当前状态为 {case.status}，不是待补正",
                f"case {case.case_no} is {case.status}, not awaiting a supplement",
                code="bad_state",
            )
        ctx = _context(unit, case.item_id, window)
        rows = {r.material_id: r for r in _rows(unit.session, case.id)}  # type: ignore[arg-type]  # a stored row: the id is set
        given = {c.material_id: c for c in materials}
        new_missing = [
            ctx.materials[i]
            for i, c in given.items()
            if c.status in ("missing", "defective") and i in rows and not rows[i].in_notice
        ]
        if new_missing and override is None:
            names = "、".join(m.name for m in new_missing)
            raise DomainError(
                f"“{names}”不在已出具的一次性告知书中：依{ART32}，补正材料须一次性告知，"
                "不得再次要求新的材料；如确需再次告知，请大厅管理员授权",
                f"{', '.join(m.name for m in new_missing)} not on the one-time notice already issued: under "
                "Art. 32 of the Administrative Licensing Law everything must be notified once; "
                "a hall manager must authorise a second notice",
                code="notice_frozen",
            )
        _visit(unit, case, "supplement", ticket_id, ctx.window)
        for material_id, row in rows.items():
            check = given.get(material_id)
            if check is None or not (row.in_notice or material_id in {m.id for m in new_missing}):
                continue
            row.status = check.status
            row.note = check.note
            if check.status == "received":
                material = ctx.materials[material_id]
                row.originals = check.originals or material.originals
                row.copies = check.copies or material.copies
                row.supplemented_at = unit.now
        unit.session.flush()
        still = [r for r in rows.values() if r.in_notice and r.status in ("missing", "defective")]
        document = None
        if new_missing:
            assert override is not None  # refused above without one
            for m in new_missing:
                rows[m.id].in_notice = True  # type: ignore[index]  # a stored row: the id is set
            _breach(
                unit,
                case,
                "second_notice",
                [m.name for m in new_missing],
                manager_id=manager_id,
                override=override,
            )
            unit.session.flush()
            payload = _snapshot(
                ctx,
                case,
                list(rows.values()),
                notes=[f"经大厅管理员授权再次告知（原因：{override.reason.strip()}）。"],
            )
            document = issue_document(unit, "one_time_notice", payload, case_id=case.id, ticket_id=ticket_id)
        elif not still:
            _accept(ctx, case, "accepted")
            payload = _snapshot(ctx, case, list(rows.values()), notes=["补正材料已收齐，予以受理。"])
            payload["deemed"] = case.deemed_accepted  # the notice came late: dated from the receipt
            document = issue_document(
                unit,
                "acceptance_notice",
                payload,
                case_id=case.id,
                ticket_id=ticket_id,
                window_id=ctx.window.id if ctx.window else None,
            )
        else:
            unit.emit("case.supplement_partial", {"case_no": case.case_no, "still_missing": len(still)})
        return _result(unit.session, case, document)

    return _run(engine, hall_id, "case.supplement", action, request_id, actor)


def record_supplement(
    engine: Engine,
    hall_id: int,
    case_ref: str,
    *,
    window: int | None = None,
    actor: str | None,
    ticket_id: int | None = None,
    request_id: str | None = None,
) -> CaseResult:
    """The deferred materials of a 容缺 acceptance arrive: the result may now be issued."""

    def action(unit: Unit) -> CaseResult:
        case = _case(unit.session, unit.hall_id, case_ref)
        rows = [r for r in _rows(unit.session, case.id) if r.status == "deferred"]  # type: ignore[arg-type]  # a stored row: the id is set
        if case.outcome != "deficiency" or not rows:
            raise DomainError(
                f"办件 {case.case_no} 没有待补交的容缺材料",
                f"case {case.case_no} has no deferred materials to supply",
            )
        ctx = _context(unit, case.item_id, window)
        _visit(unit, case, "supplement", ticket_id, ctx.window)
        for row in rows:
            material = ctx.materials.get(row.material_id)
            row.status = "received"
            row.originals = material.originals if material else 1
            row.copies = material.copies if material else 0
            row.supplemented_at = unit.now
        case.supplement_received_at = unit.now
        unit.emit("case.supplement_received", {"case_no": case.case_no, "materials": len(rows)})
        return _result(unit.session, case, None)

    return _run(engine, hall_id, "case.record_supplement", action, request_id, actor)


def record_visit(
    engine: Engine,
    hall_id: int,
    case_ref: str,
    purpose: str = "pickup",
    *,
    window: int | None = None,
    actor: str | None,
    ticket_id: int | None = None,
    request_id: str | None = None,
) -> CaseResult:
    """An appearance at the counter for a case (pickup, enquiry, correction)."""
    if purpose not in ("pickup", "enquiry", "correction", "supplement"):
        raise DomainError(
            f"来访目的 {purpose} 无效", "purpose must be pickup, enquiry, correction or supplement"
        )

    def action(unit: Unit) -> CaseResult:
        case = _case(unit.session, unit.hall_id, case_ref)
        ctx = _context(unit, case.item_id, window)
        _visit(unit, case, purpose, ticket_id, ctx.window)
        return _result(unit.session, case, None)

    return _run(engine, hall_id, "case.visit", action, request_id, actor)


# --- reading cases --------------------------------------------------------------------------------


@dataclass
class CaseView:
    case: dict[str, Any]
    item: ItemInfo
    materials: list[dict[str, Any]]
    visits: list[dict[str, Any]]
    documents: list[dict[str, Any]]
    tasks: list[dict[str, Any]]

    def as_dict(self, *, masked: bool = True) -> dict[str, Any]:
        data = asdict(self)
        if masked:
            data["case"]["applicant_name"] = mask_name(data["case"]["applicant_name"])
            data["case"]["agent_name"] = mask_name(data["case"]["agent_name"])
            data["case"]["id_number"] = mask_id_number(data["case"]["id_number"])
            data["case"]["phone"] = mask_phone(data["case"]["phone"])
            data["case"]["agent_id_number"] = mask_id_number(data["case"]["agent_id_number"])
            data["case"]["agent_phone"] = mask_phone(data["case"]["agent_phone"])
        return data


def case_links(session: Session, case: Case) -> dict[str, str | None]:
    """The cases linked through Art. 32's "once" per applicant and item: the earlier case whose
    notice this one followed (``earlier_case_no``) and the later case accepted in place of this one
    (``superseded_by``)."""
    earlier = session.get(Case, case.earlier_case_id) if case.earlier_case_id else None
    later = None
    if case.status == "superseded":
        query = select(Case.case_no).where(
            Case.hall_id == case.hall_id,
            Case.item_id == case.item_id,
            Case.id > case.id,
            Case.accepted_on.is_not(None),
        )
        if case.id_number:  # the same person as ``_awaiting_supplement`` tells them
            query = query.where(Case.id_type == case.id_type, Case.id_number == case.id_number)
        else:
            query = query.where(Case.applicant_name == case.applicant_name, Case.phone == case.phone)
        later = session.execute(query.order_by(Case.accepted_at, Case.id).limit(1)).scalar_one_or_none()
    return {"earlier_case_no": earlier.case_no if earlier else None, "superseded_by": later}


def cases_of(engine: Engine, hall_id: int, ref: str) -> list[dict[str, Any]]:
    """Every case an ID number names, open ones first then newest (one case for a number or code).

    A person with several cases is asked which one: taking the latest silently handed a result
    to the wrong case."""
    from window_terminal.db.models import ServiceItem

    with read_session(engine) as s:
        first = _case(s, hall_id, ref)
        rows = (
            s.execute(
                select(Case, ServiceItem.name)
                .join(ServiceItem, ServiceItem.id == Case.item_id)
                .where(Case.hall_id == hall_id, Case.id_number == first.id_number)
                .order_by(Case.id.desc())
            ).all()
            if lookup.code(lookup.typed(ref)) not in (first.case_no, first.query_code)
            else [(first, s.get(ServiceItem, first.item_id).name)]  # type: ignore[union-attr]  # a case's item exists
        )
    closed = ("completed", "not_accepted", "superseded")
    found = [
        {"case_no": c.case_no, "item": name, "status": c.status, "received_on": str(c.received_on or "")}
        for c, name in rows
    ]
    return sorted(found, key=lambda c: c["status"] in closed)


def case_view(engine: Engine, hall_id: int, ref: str) -> CaseView:
    """A case by case number, query code or the applicant's ID number (the latest one)."""
    with read_session(engine) as s:
        case = _case(s, hall_id, ref)
        rows = {r.material_id: r for r in _rows(s, case.id)}  # type: ignore[arg-type]  # a stored row: the id is set
        visits = (
            s.execute(select(Visit).where(Visit.case_id == case.id).order_by(Visit.at, Visit.id))
            .scalars()
            .all()
        )
        hall = s.get(Hall, hall_id)
        assert hall is not None
        documents = s.execute(
            select(Document.number, Document.kind, Document.issued_at)
            .where(Document.hall_id == hall_id, Document.case_id == case.id)
            .order_by(Document.id)
        ).all()
        tasks = s.execute(
            select(Department.code, Department.name, ReviewTask.status)
            .join(Department, Department.id == ReviewTask.department_id)
            .where(ReviewTask.case_id == case.id)
            .order_by(Department.code)
        ).all()
        window_numbers = dict(
            s.execute(select(Window.id, Window.number).where(Window.hall_id == hall_id)).all()
        )
        data = case.model_dump()
        data.update(case_links(s, case))
        for key, value in list(data.items()):
            if isinstance(value, date):
                data[key] = value.isoformat()
    item = item_info(engine, hall_id, case.item_id)
    return CaseView(
        case=data,
        item=item,
        materials=[
            {
                "material_id": m.id,
                "name": m.name,
                "form": m.form,
                "required": m.required,
                "status": rows[m.id].status if m.id in rows else "missing",
                "originals": rows[m.id].originals if m.id in rows else 0,
                "copies": rows[m.id].copies if m.id in rows else 0,
                "note": rows[m.id].note if m.id in rows else "",
                "in_notice": rows[m.id].in_notice if m.id in rows else False,
            }
            for m in item.materials
        ],
        visits=[
            {
                "purpose": v.purpose,
                "at": to_local(v.at, hall.timezone).isoformat(timespec="seconds"),
                "window": window_numbers.get(v.window_id),
            }
            for v in visits
        ],
        documents=[
            {"number": n, "kind": k, "issued_at": to_local(at, hall.timezone).isoformat(timespec="seconds")}
            for n, k, at in documents
        ],
        tasks=[{"department": code, "name": name, "status": status} for code, name, status in tasks],
    )


def list_cases(
    engine: Engine, hall_id: int, *, status: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The latest cases (masked personal data), newest first."""
    with read_session(engine) as s:
        visits = (
            select(Visit.case_id, func.count().label("n"))
            .where(Visit.hall_id == hall_id)
            .group_by(Visit.case_id)
        ).subquery()
        stmt = (
            select(Case, ServiceItem.name, visits.c.n)
            .join(ServiceItem, ServiceItem.id == Case.item_id)
            .outerjoin(visits, visits.c.case_id == Case.id)
            .where(Case.hall_id == hall_id)
            .order_by(Case.id.desc())
            .limit(limit)
        )
        if status:
            stmt = stmt.where(Case.status == status)
        return [
            {
                "case_no": c.case_no,
                "query_code": c.query_code,
                "item": name,
                "applicant": mask_name(c.applicant_name),
                "id_number": mask_id_number(c.id_number),
                "status": c.status,
                "outcome": c.outcome,
                "received_on": c.received_on.isoformat(),
                "promised_date": c.promised_date.isoformat() if c.promised_date else None,
                "visits": int(n or 0),
                "notice_breach": c.notice_breach,
            }
            for c, name, n in s.execute(stmt).all()
        ]


def pending_notice_cases(engine: Engine, hall_id: int) -> list[dict[str, Any]]:
    """Submissions still without an outcome, with the working days left of Art. 32's five.

    ``state``: ``ok`` | ``due_soon`` (the notice light is yellow) | ``deemed_accepted`` (red: past the
    limit, the law deems the application accepted from the day the materials were received). The
    date, the count and the state are the supervision light of the ``notice`` kind (core.deadlines).
    """
    with read_session(engine) as s:
        hall = s.get(Hall, hall_id)
        if hall is None:
            raise NotFound(f"大厅 #{hall_id} 不存在", f"hall #{hall_id} does not exist")
        service = HallDeadlines.load(s, hall_id)
        cases = s.execute(
            select(Case, ServiceItem.name)
            .join(ServiceItem, ServiceItem.id == Case.item_id)
            .where(Case.hall_id == hall_id, Case.status == "submitted")
            .order_by(Case.received_at)
        ).all()
        out = []
        for case, item_name in cases:
            reading = service.read(service.notice(case.received_on))
            due, left = reading.deadline, reading.remaining_working_days
            state = NOTICE_STATES[reading.light]
            out.append(
                {
                    "case_no": case.case_no,
                    "item": item_name,
                    "applicant": mask_name(case.applicant_name),
                    "received_on": case.received_on.isoformat(),
                    "notice_due": due.isoformat(),
                    "working_days_left": left,
                    "state": state,
                }
            )
        return out


# --- the counter's own view -----------------------------------------------------------------------


def counter_view(engine: Engine, hall_id: int, window_number: int, *, recent: int = 8) -> dict[str, Any]:
    """What a counter screen shows: its window, the lines it serves, the ticket in hand, recent tickets."""
    from window_terminal.db.models import WindowLine

    with snapshot_session(engine) as s:
        hall = s.get(Hall, hall_id)
        assert hall is not None
        now = db_now(s)
        window = lookup.window(s, hall_id, window_number)
        lines = s.execute(
            select(Line, WindowLine.weight)
            .join(WindowLine, WindowLine.line_id == Line.id)
            .where(WindowLine.window_id == window.id, Line.active)
            .order_by(Line.sort_order, Line.code)
        ).all()
        waiting = queueing.waiting_by_line(s, hall_id, now)
        line_codes = dict(s.execute(select(Line.id, Line.code).where(Line.hall_id == hall_id)).all())
        tickets = (
            s.execute(
                select(Ticket)
                .where(
                    Ticket.hall_id == hall_id,
                    Ticket.window_id == window.id,
                    Ticket.service_day == local_day(now, hall.timezone),  # today's tickets only
                )
                .order_by(Ticket.called_at.desc().nulls_last(), Ticket.id.desc())
                .limit(recent + 1)
            )
            .scalars()
            .all()
        )
        in_hand = queueing.in_hand(s, window)  # past midnight too: the one in-hand rule
        parked = (
            s.execute(
                select(Ticket)
                .where(Ticket.hall_id == hall_id, Ticket.status == "parked", Ticket.window_id == window.id)
                .order_by(Ticket.called_at)
            )
            .scalars()
            .all()
        )
        staff = s.get(Staff, window.staff_id) if window.staff_id else None
        all_lines = s.execute(
            select(Line.code, Line.name).where(Line.hall_id == hall_id, Line.active).order_by(Line.sort_order)
        ).all()

        def local(moment: Any) -> str | None:
            return to_local(moment, hall.timezone).isoformat(timespec="seconds") if moment else None

        def ticket(t: Ticket) -> dict[str, Any]:
            return {
                "ticket_id": t.id,
                "number": t.number,
                "line": line_codes.get(t.line_id, ""),
                "status": t.status,
                "kind": t.kind,
                "called_at": local(t.called_at),
                "recalls": t.recall_count,
                "service_item_id": t.service_item_id,
            }

        return {
            "hall": hall.name,
            "hall_code": hall.code,
            "event_seq": feed.cursor(s, hall_id),
            "window": window.number,
            "window_status": window.status,
            "staff": staff.name if staff else None,
            "staff_code": staff.code if staff else None,
            "now": local(now),
            "lines": [
                {
                    "line": line.code,
                    "name": line.name,
                    "weight": weight,
                    "open": line.is_open,
                    "waiting": waiting.get(line.id, queueing.LineWaiting()).waiting,
                    "callable_now": waiting.get(line.id, queueing.LineWaiting()).callable_now,
                    "longest_wait_s": int((now - oldest).total_seconds())
                    if (oldest := waiting.get(line.id, queueing.LineWaiting()).oldest)
                    else 0,
                }
                for line, weight in lines
            ],
            "in_hand": ticket(in_hand) if in_hand else None,
            "recent": [ticket(t) for t in tickets if in_hand is None or t.id != in_hand.id][:recent],
            "parked": [ticket(t) for t in parked],
            "all_lines": [{"line": code, "name": name} for code, name in all_lines],
        }
