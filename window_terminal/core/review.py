"""The back office (后台审批): review tasks from acceptance to the result in the applicant's hands.

An accepted case has one review task per department of its service item (several = parallel review,
并联审批). Task states::

    pending ──claim──▶ claimed ──approve──▶ approved
       │                  │ ╰──refuse (reason)──▶ refused   (decides the whole case as refused)
       │                  ╰──return──▶ returned              (case back to the counter: on-site correction)
       ╰──suspend (Art. 45)──▶ suspended ──resume──▶ pending / claimed

The case is decided when every task is decided: approved only if all approved; one refusal decides
it as refused at once (the other open tasks are closed as ``cancelled``). A decision issues its
document: the completion notice (办结通知书, result ready at a window) or the refusal decision
(不予行政许可决定书, with appeal rights). ``record_pickup`` (a visit) or ``record_posted`` (tracking
number) hands the result over and completes the case. A case accepted with minor deficiencies
(容缺受理) gets no result until its deferred materials have arrived.

Every action is one ``run_command``: one transaction, its events, idempotent under a request id.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from window_terminal.core import access, lookup
from window_terminal.core.deadlines import (
    EXTENSION_DAYS,
    JOINT_EXTENSION_DAYS,
    HallDeadlines,
    Reading,
    hall_today,
    suspensions_by_case,
)
from window_terminal.core.document_store import TITLES, issue_document
from window_terminal.core.intake import case_links as intake_links
from window_terminal.core.privacy import mask_id_number, mask_name, mask_phone, masked_person
from window_terminal.core.supervision import (
    OPEN_TASK_STATES,
    case_light,
    task_lights,
)
from window_terminal.db.clock import to_local
from window_terminal.db.engine import read_session
from window_terminal.db.models import (
    Case,
    CaseMaterial,
    Department,
    Document,
    Extension,
    Hall,
    Material,
    ReviewTask,
    ServiceItem,
    Staff,
    Suspension,
    Visit,
    Window,
    stored_id,
    typed_row_id,
)
from window_terminal.db.unit import Unit
from window_terminal.errors import DomainError, NotFound

SUSPENSION_KINDS: dict[str, tuple[str, str]] = {
    "inspection": ("现场核查", "inspection"),
    "testing": ("检验检测", "testing"),
    "expert_review": ("专家评审", "expert review"),
    "hearing": ("听证", "hearing"),
}
TASK_STATES: dict[str, tuple[str, str]] = {
    "pending": ("待认领", "pending"),
    "claimed": ("审查中", "claimed"),
    "suspended": ("暂停计时", "suspended"),
    "approved": ("同意", "approved"),
    "refused": ("不予许可", "refused"),
    "returned": ("退回窗口", "returned"),
    "cancelled": ("已终止", "cancelled"),
}
REVIEWABLE_CASE_STATES = ("accepted", "in_review")


# --- look-ups -------------------------------------------------------------------------------------


def find_case(session: Session, hall_id: int, ref: str | int) -> Case:
    """A case by number, query code or id (``123`` / ``#123``)."""
    return lookup.case(session, hall_id, ref, row_id=True)


def _task(session: Session, hall_id: int, task_id: int) -> ReviewTask:
    typed = typed_row_id(task_id)
    task = session.get(ReviewTask, typed) if typed is not None else None
    if task is None or task.hall_id != hall_id:
        raise NotFound(
            f"没有审批任务 #{task_id}：用 wt review list --dept 部门 查看任务号",
            f"no review task #{task_id}: see the task ids with `wt review list --dept CODE`",
        )
    return task


def _dept_code(session: Session, department_id: int) -> str:
    dept = session.get(Department, department_id)
    return dept.code if dept else "?"


# --- reading --------------------------------------------------------------------------------------


def list_tasks(
    engine: Engine,
    hall_id: int,
    department_code: str,
    *,
    statuses: tuple[str, ...] = OPEN_TASK_STATES,
    today: date | None = None,
) -> list[dict[str, Any]]:
    """The department's review tasks, most urgent first (by deadline), each with its light."""
    with read_session(engine) as session:
        dept = lookup.department(session, hall_id, department_code)
        today = today or hall_today(session, hall_id)
        rows = session.execute(
            select(ReviewTask, Case, ServiceItem)
            .join(Case, Case.id == ReviewTask.case_id)
            .join(ServiceItem, ServiceItem.id == Case.item_id)
            .where(
                ReviewTask.hall_id == hall_id,
                ReviewTask.department_id == dept.id,
                ReviewTask.status.in_(statuses),
            )
        ).all()
        lights = task_lights(session, hall_id, [t for t, _, _ in rows], today)
        reviewers = dict(session.execute(select(Staff.id, Staff.name).where(Staff.hall_id == hall_id)).all())
        counts = dict(
            session.execute(
                select(ReviewTask.case_id, func.count())
                .where(ReviewTask.case_id.in_([c.id for _, c, _ in rows] or [-1]))
                .group_by(ReviewTask.case_id)
            ).all()
        )
    out = []
    for task, case, item in rows:
        lit = lights.get(task.id, {})
        out.append(
            {
                "task_id": task.id,
                "case_id": case.id,
                "case_no": case.case_no,
                "item": item.name,
                "item_code": item.code,
                "department": dept.code,
                "applicant": mask_name(case.applicant_name),
                "status": task.status,
                "reviewer": reviewers.get(task.reviewer_id, "") if task.reviewer_id else "",
                "accepted_on": case.accepted_on.isoformat() if case.accepted_on else None,
                "deadline": lit.get("deadline")
                or (case.promised_date.isoformat() if case.promised_date else None),
                "remaining_working_days": lit.get("remaining_working_days"),
                "light": lit.get("light", ""),
                "provisional": bool(lit.get("provisional", case.deadline_provisional)),
                "parallel": int(counts.get(case.id, 1)),
            }
        )
    out.sort(key=lambda r: (r["deadline"] or "9999-12-31", r["task_id"]))
    return out


def case_detail(engine: Engine, hall_id: int, ref: str | int, *, today: date | None = None) -> dict[str, Any]:
    """Everything the reviewer needs about one case, personal data masked."""
    with read_session(engine) as session:
        case = find_case(session, hall_id, ref)
        today = today or hall_today(session, hall_id)
        item = session.get(ServiceItem, case.item_id)
        assert item is not None
        materials = session.execute(
            select(
                Material.name,
                CaseMaterial.status,
                CaseMaterial.originals,
                CaseMaterial.copies,
                CaseMaterial.note,
            )
            .join(Material, Material.id == CaseMaterial.material_id)
            .where(CaseMaterial.case_id == case.id)
            .order_by(Material.position, Material.id)
        ).all()
        suspensions = (
            session.execute(select(Suspension).where(Suspension.case_id == case.id).order_by(Suspension.id))
            .scalars()
            .all()
        )
        tasks = session.execute(
            select(ReviewTask, Department.code, Department.name)
            .join(Department, Department.id == ReviewTask.department_id)
            .where(ReviewTask.case_id == case.id)
            .order_by(Department.code)
        ).all()
        visits = session.execute(
            select(func.count()).select_from(Visit).where(Visit.case_id == case.id)
        ).scalar_one()
        extensions = session.execute(select(Extension).where(Extension.case_id == case.id)).scalars().all()
        documents = session.execute(
            select(Document.number, Document.kind).where(Document.case_id == case.id).order_by(Document.id)
        ).all()
        promised = statutory = None
        provisional = case.deadline_provisional
        reading: Reading | None = None
        if case.accepted_on is not None:
            both, reading, _ = case_light(session, hall_id, case, item, today)
            promised, statutory = both.promised.date.isoformat(), both.statutory.date.isoformat()
            provisional = both.provisional
    return {
        "case_id": case.id,
        "case_no": case.case_no,
        "status": case.status,
        "outcome": case.outcome,
        "decision": case.decision,
        "item": item.name,
        "item_code": item.code,
        "applicant": mask_name(case.applicant_name),
        "id_number": mask_id_number(case.id_number),
        "phone": mask_phone(case.phone),
        "agent": mask_name(case.agent_name) if case.agent_name else "",
        "received_on": case.received_on.isoformat(),
        "accepted_on": case.accepted_on.isoformat() if case.accepted_on else None,
        "deemed_accepted": case.deemed_accepted,
        "notice_breach": case.notice_breach,
        "earlier_case_id": case.earlier_case_id,
        **intake_links(session, case),
        "promised_date": promised,
        "statutory_date": statutory,
        "provisional": bool(provisional),
        "light": reading.light if reading else "",
        "remaining_working_days": reading.remaining_working_days if reading else None,
        "extension_days": case.extension_days,
        "supplement_deadline": case.supplement_deadline.isoformat() if case.supplement_deadline else None,
        "supplement_received": case.supplement_received_at is not None,
        "materials": [
            {"name": m.name, "status": m.status, "originals": m.originals, "copies": m.copies, "note": m.note}
            for m in materials
        ],
        "tasks": [
            {
                "task_id": t.id,
                "department": code,
                "department_name": name,
                "status": t.status,
                "reason": t.reason,
            }
            for t, code, name in tasks
        ],
        "suspensions": [
            {
                "kind": s.kind,
                "reason": s.reason,
                "expected_days": s.expected_days,
                "started_on": s.started_on.isoformat(),
                "ended_on": s.ended_on.isoformat() if s.ended_on else None,
            }
            for s in suspensions
        ],
        "extensions": [{"days": e.days, "approver": e.approver, "reason": e.reason} for e in extensions],
        "visits": int(visits),
        "documents": [{"number": n, "kind": k} for n, k in documents],
        "delivery": case.delivery,
        "tracking_no": case.tracking_no,
        "reason": case.reason,
    }


# --- helpers for the commands ----------------------------------------------------------------------


def _payload(task: ReviewTask, case: Case, dept: str, **extra: Any) -> dict[str, Any]:
    return {
        "task_id": task.id,
        "case_id": case.id,
        "case_no": case.case_no,
        "department": dept,
        "status": task.status,
        **extra,
    }


def _result(task: ReviewTask, case: Case, documents: list[str] | None = None) -> dict[str, Any]:
    return {
        "task_id": task.id,
        "task_status": task.status,
        "case_no": case.case_no,
        "case_status": case.status,
        "decision": case.decision,
        "documents": documents or [],
    }


def _require_reviewable(case: Case) -> None:
    if case.status not in REVIEWABLE_CASE_STATES:
        raise DomainError(
            f"办件 {case.case_no} 当前状态为 {case.status}，不能审批",
            f"case {case.case_no} is {case.status}: it cannot be reviewed now",
            code="bad_state",
        )


def _require_actor(session: Session, task: ReviewTask, staff: Staff | None) -> None:
    if staff is None:
        return
    if task.status == "claimed" and task.reviewer_id not in (None, staff.id):
        other = session.get(Staff, task.reviewer_id)
        raise DomainError(
            f"任务 #{task.id} 已由 {other.name if other else '他人'} 认领",
            f"task #{task.id} is claimed by {other.code if other else 'someone else'}",
            code="claimed_by_other",
        )


def _load(unit: Unit, task_id: int) -> tuple[ReviewTask, Case, Staff | None, str]:
    s = unit.session
    task = _task(s, unit.hall_id, task_id)
    case = s.get(Case, task.case_id)
    assert case is not None
    staff = s.get(Staff, unit.staff_id) if unit.staff_id else None  # checked by access.run_as
    if staff is not None and staff.role == "reviewer" and staff.department_id != task.department_id:
        raise DomainError(
            f"{staff.name}（{staff.code}）不属于本任务的部门 {_dept_code(s, task.department_id)}",
            f"{staff.code} does not belong to this task's department {_dept_code(s, task.department_id)}",
            code="wrong_department",
        )
    return task, case, staff, _dept_code(s, task.department_id)


def _load_to_act(unit: Unit, task_id: int) -> tuple[ReviewTask, Case, Staff | None, str]:
    """The task and its case, checked: the case is still under review and this reviewer may act."""
    task, case, staff, dept = _load(unit, task_id)
    _require_reviewable(case)
    _require_actor(unit.session, task, staff)
    return task, case, staff, dept


def _require_open_task(task: ReviewTask, action_zh: str, action_en: str) -> None:
    if task.status not in ("pending", "claimed"):
        raise DomainError(
            f"任务 #{task.id} 当前为 {task.status}，不能{action_zh}",
            f"task #{task.id} is {task.status}: only pending or claimed tasks can be {action_en}",
            code="bad_state",
        )


def _document_base(unit: Unit, case: Case) -> dict[str, Any]:
    s = unit.session
    hall = s.get(Hall, unit.hall_id)
    item = s.get(ServiceItem, case.item_id)
    assert hall is not None and item is not None
    window = s.get(Window, case.window_id) if case.window_id else None
    return {
        "hall": hall.name,
        "office": hall.office,
        "case_no": case.case_no,
        "query_code": case.query_code,
        "applicant": masked_person(case.applicant_name, case.id_type, case.id_number, case.phone),
        "agent": masked_person(case.agent_name, "resident_id", case.agent_id_number, case.agent_phone),
        "item": {
            "code": item.code,
            "name": item.name,
            "statutory_days": item.statutory_days,
            "promised_days": item.promised_days,
        },
        "window": window.number if window else None,
        "provisional": case.deadline_provisional,
        "dates": {
            "received": case.received_on.isoformat(),
            "accepted": case.accepted_on.isoformat() if case.accepted_on else None,
            "decided": unit.today.isoformat(),
        },
        "notes": [],
    }


def _result_blocked(case: Case) -> bool:
    return case.outcome == "deficiency" and case.supplement_received_at is None


def _completion_notice(
    unit: Unit, case: Case, *, method: str, window: int | None, tracking_no: str = ""
) -> str:
    payload = _document_base(unit, case)
    if case.decided_at is not None:
        from window_terminal.db.clock import local_day

        payload["dates"]["decided"] = local_day(case.decided_at, unit.timezone).isoformat()
    payload["dates"]["ready"] = unit.today.isoformat()
    payload["delivery"] = {"method": method, "window": window, "tracking_no": tracking_no or None}
    if window is not None:
        payload["window"] = window
    return issue_document(unit, "completion_notice", payload, case_id=case.id).number


def _decide_case_if_done(unit: Unit, case: Case) -> list[str]:
    """Decide the case once every task is decided; returns the numbers of the documents issued."""
    s = unit.session
    tasks = s.execute(select(ReviewTask).where(ReviewTask.case_id == case.id)).scalars().all()
    refused = [t for t in tasks if t.status == "refused"]
    documents: list[str] = []
    if refused:
        for t in tasks:
            if t.status in OPEN_TASK_STATES:
                t.status = "cancelled"
                t.decided_at = unit.now
                t.reason = "另一部门已作出不予许可决定"
                for sus in s.execute(
                    select(Suspension).where(Suspension.task_id == t.id, Suspension.ended_on.is_(None))
                ).scalars():
                    sus.ended_on = unit.today
        case.decision = "refused"
        case.reason = "；".join(f"{_dept_code(s, t.department_id)}：{t.reason}" for t in refused)
    elif tasks and all(t.status == "approved" for t in tasks):
        case.decision = "approved"
    else:
        return documents
    case.status = "decided"
    case.decided_at = unit.now
    if case.decision == "refused":
        hall = s.get(Hall, unit.hall_id)
        settings = (hall.settings if hall else None) or {}
        payload = _document_base(unit, case)
        payload["reason"] = case.reason
        payload["appeal"] = {
            "reconsideration_days": 60,
            "reconsideration_body": settings.get("reconsideration_body", ""),
            "lawsuit_months": 6,
            "court": settings.get("court", ""),
        }
        documents.append(issue_document(unit, "refusal_notice", payload, case_id=case.id).number)
    else:
        item = s.get(ServiceItem, case.item_id)
        if item is not None and item.kind == "licence":
            # Art. 38(1): a written decision to grant; Art. 44: the licence within ten working days
            payload = _document_base(unit, case)
            payload["dates"]["issue_by"] = (
                HallDeadlines.load(s, unit.hall_id, unit.today).result_issue(unit.today).date.isoformat()
            )
            documents.append(issue_document(unit, "approval_decision", payload, case_id=case.id).number)
    if case.decision == "approved" and not _result_blocked(case):
        window = s.get(Window, case.window_id) if case.window_id else None
        documents.append(
            _completion_notice(
                unit, case, method=case.delivery or "pickup", window=window.number if window else None
            )
        )
    unit.emit(
        "case.decided",
        {"case_id": case.id, "case_no": case.case_no, "decision": case.decision, "documents": documents},
    )
    return documents


def _store_deadlines(unit: Unit, case: Case, *, statutory_only: bool = False) -> None:
    """Store the case's dates as they stand today; an extension (Art. 42) stores the statutory one only:
    whatever else the day has changed of the promised date (a clock still stopped) is stored by the
    suspension's own events, never by an extension."""
    s = unit.session
    item = s.get(ServiceItem, case.item_id)
    if item is None or case.accepted_on is None:
        return
    intervals = suspensions_by_case(s, [stored_id(case)]).get(stored_id(case), [])
    both = HallDeadlines.load(s, unit.hall_id, unit.today).of_case(case, item, intervals)
    if not statutory_only:
        case.promised_date = both.promised.date
    case.statutory_date = both.statutory.date
    case.deadline_provisional = both.provisional


def _command(
    engine: Engine,
    hall_id: int,
    name: str,
    action: Callable[[Unit], dict[str, Any]],
    request_id: str | None,
    actor: str | None,
) -> dict[str, Any]:
    return access.run_as(engine, hall_id, name, action, actor, request_id=request_id)


# --- reviewer actions ----------------------------------------------------------------------------


def claim(
    engine: Engine,
    hall_id: int,
    task_id: int,
    *,
    actor: str | None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Take a pending task as one's own (认领)."""

    def action(unit: Unit) -> dict[str, Any]:
        task, case, staff, dept = _load_to_act(unit, task_id)
        if task.status == "claimed" and staff is not None and task.reviewer_id == staff.id:
            return _result(task, case)
        if task.status != "pending":
            raise DomainError(
                f"任务 #{task.id} 当前为“{TASK_STATES.get(task.status, (task.status,))[0]}”，不能认领",
                f"task #{task.id} is {task.status}: only pending tasks can be claimed",
                code="bad_state",
            )
        task.status = "claimed"
        task.reviewer_id = staff.id if staff else None
        task.claimed_at = unit.now
        case.status = "in_review"
        unit.emit("review.claimed", _payload(task, case, dept))
        return _result(task, case)

    return _command(engine, hall_id, "review.claim", action, request_id, actor)


def _decide(
    engine: Engine,
    hall_id: int,
    task_id: int,
    verdict: str,
    reason: str,
    actor: str | None,
    request_id: str | None,
) -> dict[str, Any]:
    def action(unit: Unit) -> dict[str, Any]:
        task, case, staff, dept = _load_to_act(unit, task_id)
        if task.status == "suspended":
            raise DomainError(
                f"任务 #{task.id} 正在暂停计时（特别程序）：请先恢复计时再作决定",
                f"task #{task.id} is suspended: resume it before deciding",
                code="bad_state",
            )
        if task.status not in ("pending", "claimed"):
            raise DomainError(
                f"任务 #{task.id} 已处理（{TASK_STATES.get(task.status, (task.status,))[0]}）",
                f"task #{task.id} is already {task.status}",
                code="bad_state",
            )
        if task.status == "pending":  # a decision has one named reviewer, who took the task first
            raise DomainError(
                f"任务 #{task.id} 尚未认领：请先认领（c）再作决定",
                f"task #{task.id} is not claimed: claim it first, then decide",
                code="not_claimed",
            )
        task.status = verdict
        task.reason = reason
        task.decided_at = unit.now
        case.status = "in_review"
        unit.emit(f"review.{verdict}", _payload(task, case, dept, reason=reason))
        documents = _decide_case_if_done(unit, case)
        return _result(task, case, documents)

    return _command(engine, hall_id, f"review.{verdict}", action, request_id, actor)


def approve(
    engine: Engine,
    hall_id: int,
    task_id: int,
    *,
    note: str = "",
    actor: str | None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """This department agrees, with the reviewer's opinion (审批意见); the case is decided when every
    department has decided. The task must have been claimed by this reviewer."""
    if not lookup.note(note):
        raise DomainError(
            "同意须填写审批意见", "an approval needs the reviewer's opinion", code="opinion_required"
        )
    return _decide(engine, hall_id, task_id, "approved", lookup.note(note), actor, request_id)


def refuse(
    engine: Engine,
    hall_id: int,
    task_id: int,
    reason: str,
    *,
    actor: str | None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """This department refuses (reason required): the case is decided as refused and the refusal
    decision (with reconsideration / lawsuit rights) is issued."""
    if not lookup.note(reason):
        raise DomainError(
            "不予许可必须说明理由：请填写具体的事实和依据",
            "a refusal needs a reason: state the facts and the legal basis",
            code="reason_required",
        )
    return _decide(engine, hall_id, task_id, "refused", lookup.note(reason), actor, request_id)


def return_to_counter(
    engine: Engine,
    hall_id: int,
    task_id: int,
    reason: str,
    *,
    actor: str | None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Send the case back to the counter for an on-site correction (case status ``returned``)."""
    if not lookup.note(reason):
        raise DomainError(
            "退回窗口须写明需要更正的内容",
            "say what must be corrected when returning a case",
            code="reason_required",
        )

    def action(unit: Unit) -> dict[str, Any]:
        task, case, staff, dept = _load_to_act(unit, task_id)
        _require_open_task(task, "退回", "returned")
        task.status = "returned"
        task.reason = lookup.note(reason)
        task.decided_at = unit.now
        case.status = "returned"
        unit.emit("review.returned", _payload(task, case, dept, reason=task.reason))
        return _result(task, case)

    return _command(engine, hall_id, "review.return", action, request_id, actor)


def suspend(
    engine: Engine,
    hall_id: int,
    task_id: int,
    kind: str,
    reason: str,
    expected_days: int,
    *,
    actor: str | None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Stop the clock for inspection, testing, expert review or a hearing (Art. 45)."""
    if kind not in SUSPENSION_KINDS:
        names = "、".join(f"{k}（{z}）" for k, (z, _) in SUSPENSION_KINDS.items())
        raise DomainError(
            f"暂停计时的类型只能是：{names}",
            f"the kind must be one of: {', '.join(SUSPENSION_KINDS)}",
            code="bad_kind",
        )
    if not lookup.note(reason):
        raise DomainError("暂停计时须写明理由", "a suspension needs a reason", code="reason_required")
    if not 1 <= int(expected_days) <= 365:
        raise DomainError(
            "预计天数须在 1 到 365 之间", "expected days must be between 1 and 365", code="bad_days"
        )

    def action(unit: Unit) -> dict[str, Any]:
        task, case, staff, dept = _load_to_act(unit, task_id)
        _require_open_task(task, "暂停计时", "suspended")
        task.status = "suspended"
        unit.session.add(
            Suspension(
                hall_id=unit.hall_id,
                case_id=case.id,  # type: ignore[arg-type]  # a stored case: the id is set
                task_id=task.id,
                kind=kind,
                reason=lookup.note(reason),
                expected_days=int(expected_days),
                started_on=unit.today,
                staff_id=unit.staff_id,
            )
        )
        unit.session.flush()
        unit.emit(
            "review.suspended",
            _payload(
                task, case, dept, kind=kind, reason=lookup.note(reason), expected_days=int(expected_days)
            ),
        )
        # Art. 45: the applicant is told in writing the time that does not count
        payload = _document_base(unit, case)
        payload["dates"].pop("decided", None)
        payload["suspension"] = {
            "kind": kind,
            "kind_name": SUSPENSION_KINDS[kind][0],
            "reason": lookup.note(reason),
            "expected_days": int(expected_days),
            "started_on": unit.today.isoformat(),
            "department": dept,
        }
        notice = issue_document(unit, "suspension_notice", payload, case_id=case.id)
        return _result(task, case, [notice.number])

    return _command(engine, hall_id, "review.suspend", action, request_id, actor)


def resume(
    engine: Engine,
    hall_id: int,
    task_id: int,
    *,
    actor: str | None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Restart the clock: the suspended days (start to today, inclusive) do not count."""

    def action(unit: Unit) -> dict[str, Any]:
        task, case, staff, dept = _load(unit, task_id)
        if task.status != "suspended":
            raise DomainError(
                f"任务 #{task.id} 没有暂停计时",
                f"task #{task.id} is not suspended",
                code="bad_state",
            )
        open_one = (
            unit.session.execute(
                select(Suspension).where(Suspension.task_id == task.id, Suspension.ended_on.is_(None))
            )
            .scalars()
            .all()
        )
        for sus in open_one:
            sus.ended_on = unit.today
        task.status = "claimed" if task.reviewer_id else "pending"
        unit.session.flush()
        _store_deadlines(unit, case)
        unit.emit(
            "review.resumed",
            _payload(
                task,
                case,
                dept,
                promised_date=str(case.promised_date),
                statutory_date=str(case.statutory_date),
            ),
        )
        return _result(task, case)

    return _command(engine, hall_id, "review.resume", action, request_id, actor)


def extension_allowance(session: Session, case: Case) -> int:
    """Art. 42: +10 working days; +15 for joint handling (several departments)."""
    departments = session.execute(
        select(func.count()).select_from(ReviewTask).where(ReviewTask.case_id == case.id)
    ).scalar_one()
    return JOINT_EXTENSION_DAYS if departments > 1 else EXTENSION_DAYS


def _case_departments(session: Session, case: Case) -> dict[int, str]:
    """The departments that decide ``case`` (those with a review task on it): id → code."""
    rows = session.execute(
        select(Department.id, Department.code)
        .join(ReviewTask, ReviewTask.department_id == Department.id)
        .where(ReviewTask.case_id == case.id)
        .order_by(Department.code)
    ).all()
    return {int(dept_id): code for dept_id, code in rows if dept_id is not None}


def _deciding_department(session: Session, case: Case, staff: Staff | None) -> int:
    """Art. 42: the extension is decided by the case's own department — the actor's department
    must be one that decides the case (a 人社局 reviewer cannot extend a 市场监管 case)."""
    departments = _case_departments(session, case)
    mine = staff.department_id if staff is not None else None
    if mine is None or mine not in departments:
        who = f"{staff.name}（{staff.code}）" if staff is not None else "（未知）"
        own = _dept_code(session, mine) if mine is not None else "—"
        names = "、".join(departments.values()) or "—"
        raise DomainError(
            f"{who}属于 {own}，办件 {case.case_no} 由 {names} 审批：延期只能由本办件的审批部门决定"
            "（《行政许可法》第四十二条）",
            f"{staff.code if staff is not None else '?'} belongs to {own}, but case {case.case_no} is "
            f"decided by {', '.join(departments.values()) or '-'}: only the case's own department may "
            "extend it (Art. 42)",
            code="wrong_department",
        )
    return mine


def _approver(unit: Unit, text: str, department_id: int) -> Staff:
    """Art. 42: the extension is approved by the head of the office (本行政机关负责人) — a named
    staff member, active, whose role holds ``case.approve_extension``, named an approver by the hall
    definition (staff.toml ``approves_extensions``), of the department that decides."""
    s = unit.session
    try:
        person = lookup.staff(s, unit.hall_id, text)
    except NotFound as exc:
        raise DomainError(
            f"{exc.zh}；批准人须是本部门有权批准延期的负责人，请填写其工号",
            f"{exc.en}; the approver is a head of the department who may approve extensions: give "
            "their staff code",
            code="approver_unknown",
        ) from None
    named = access.extension_approvers(unit.settings)
    approvers = _approvers_of(s, unit.hall_id, department_id, named)
    known = "、".join(f"{a['code']} {a['name']}" for a in approvers) or "—"
    known_en = ", ".join(a["code"] for a in approvers) or "none"
    dept = _dept_code(s, department_id)
    if not access.may(person.role, access.APPROVE_EXTENSION) or person.code.upper() not in named:
        raise DomainError(
            f"{person.name}（{person.code}）无权批准延期：{dept} 可批准延期的是 {known}"
            "（大厅定义 staff.toml 的 approves_extensions）",
            f"{person.code} may not approve extensions; in {dept} they are: {known_en} "
            "(approves_extensions in the hall's staff.toml)",
            code="approver_not_allowed",
        )
    if person.department_id != department_id:
        raise DomainError(
            f"{person.name}（{person.code}）不是 {dept} 的负责人：延期由本部门负责人批准，可选 {known}",
            f"{person.code} is not a head of {dept}: the department's own head approves; "
            f"choose one of {known_en}",
            code="approver_not_allowed",
        )
    return person


def _approvers_of(
    session: Session, hall_id: int, department_id: int, named: frozenset[str]
) -> list[dict[str, str]]:
    rows = session.execute(
        select(Staff.code, Staff.name, Staff.role)
        .where(
            Staff.hall_id == hall_id,
            Staff.department_id == department_id,
            Staff.active,
            Staff.code.in_(sorted(named) or [""]),
        )
        .order_by(Staff.code)
    ).all()
    return [
        {"code": code, "name": name}
        for code, name, role in rows
        if access.may(role, access.APPROVE_EXTENSION)
    ]


def extension_approvers(engine: Engine, hall_id: int, department_code: str) -> list[dict[str, str]]:
    """Who may approve an extension for a department (for the back office to offer): code and name."""
    with read_session(engine) as s:
        dept = lookup.department(s, hall_id, department_code)
        hall = s.get(Hall, hall_id)
        named = access.extension_approvers((hall.settings if hall else None) or {})
        return _approvers_of(s, hall_id, stored_id(dept), named)


def extend(
    engine: Engine,
    hall_id: int,
    case_ref: str | int,
    *,
    approver: str,
    reason: str,
    days: int = EXTENSION_DAYS,
    actor: str | None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Extend the statutory time limit once, by at most the law's allowance, with a reason — only
    while the statutory period runs (Art. 42); issues the 延期通知书 (in the name of the case's issuing
    department) telling the applicant why and the new date.

    Decided by the case's own department (the actor's department decides the case) and approved by
    ``approver``, the staff code of a head of that department named in staff.toml
    (``approves_extensions``; the role holds ``case.approve_extension``). It moves the statutory date
    only: the promised date is the hall's promise, and one already missed stays missed."""
    if not lookup.typed(approver):
        raise DomainError(
            "延期须经本部门负责人批准：请填写批准人的工号",
            "an extension needs an approver: give the staff code of the department head who approved it",
            code="approver_required",
        )
    if not lookup.note(reason):
        raise DomainError("延期须写明理由", "an extension needs a reason", code="reason_required")

    def action(unit: Unit) -> dict[str, Any]:
        s = unit.session
        case = find_case(s, unit.hall_id, case_ref)
        if case.status not in ("accepted", "in_review", "returned"):
            raise DomainError(
                f"办件 {case.case_no} 当前为 {case.status}，不能延期",
                f"case {case.case_no} is {case.status}: only cases under review can be extended",
                code="bad_state",
            )
        staff = s.get(Staff, unit.staff_id) if unit.staff_id else None
        department_id = _deciding_department(s, case, staff)
        head = _approver(unit, approver, department_id)
        allowance = extension_allowance(s, case)
        if not 1 <= int(days) <= allowance:
            raise DomainError(
                f"延期天数须在 1 到 {allowance} 个工作日之间（《行政许可法》第四十二条）",
                f"an extension is 1 to {allowance} working days (Administrative Licensing Law Art. 42)",
                code="bad_days",
            )
        if s.execute(select(Extension.id).where(Extension.case_id == case.id)).first() is not None:
            raise DomainError(
                f"办件 {case.case_no} 已延期过一次：依法只能延期一次",
                f"case {case.case_no} was already extended: the law allows one extension",
                code="already_extended",
            )
        item = s.get(ServiceItem, case.item_id)
        assert item is not None
        intervals = suspensions_by_case(s, [stored_id(case)]).get(stored_id(case), [])
        before = HallDeadlines.load(s, unit.hall_id, unit.today).of_case(case, item, intervals)
        if unit.today > before.statutory.date:
            raise DomainError(
                f"办件 {case.case_no} 的法定期限已于{before.statutory.date:%Y-%m-%d}届满：依《行政许可法》"
                "第四十二条，延期须在法定期限内决定并告知申请人，期满后不能再延期",
                f"case {case.case_no}'s statutory period ended on {before.statutory.date}: under Art. 42 an "
                "extension is decided and told to the applicant within the period, not after it",
                code="period_over",
            )
        approved_by = f"{head.name}（{head.code}）"
        department = _dept_code(s, department_id)
        s.add(
            Extension(
                hall_id=unit.hall_id,
                case_id=case.id,  # type: ignore[arg-type]  # a stored case: the id is set
                days=int(days),
                approver=approved_by,
                reason=lookup.note(reason),
                at=unit.now,
                staff_id=unit.staff_id,
            )
        )
        case.extension_days = (case.extension_days or 0) + int(days)
        s.flush()
        _store_deadlines(unit, case, statutory_only=True)  # the promised date is not the law's to move
        unit.emit(
            "case.extended",
            {
                "case_id": case.id,
                "case_no": case.case_no,
                "days": int(days),
                "department": department,
                "approver": approved_by,
                "approver_code": head.code,
                "reason": lookup.note(reason),
                "promised_date": str(case.promised_date),
                "statutory_date": str(case.statutory_date),
            },
        )
        payload = _document_base(unit, case)
        payload["dates"].pop("decided", None)
        payload["dates"]["promised"] = str(case.promised_date)
        payload["dates"]["statutory"] = str(case.statutory_date)
        payload["provisional"] = case.deadline_provisional
        payload["extension"] = {
            "days": int(days),
            "approver": approved_by,
            "department": department,
            "reason": lookup.note(reason),
            "statutory_before": before.statutory.date.isoformat(),
            "promised_before": before.promised.date.isoformat(),
            "joint": allowance == JOINT_EXTENSION_DAYS,
        }
        notice = issue_document(unit, "extension_notice", payload, case_id=case.id)
        return {
            "case_no": case.case_no,
            "extension_days": case.extension_days,
            "department": department,
            "approver": approved_by,
            "promised_date": str(case.promised_date),
            "statutory_date": str(case.statutory_date),
            "provisional": case.deadline_provisional,
            "documents": [notice.number],
        }

    return _command(engine, hall_id, "case.extend", action, request_id, actor)


# --- handing over the result ---------------------------------------------------------------------


def _require_result_ready(case: Case) -> None:
    if case.status == "completed":
        raise DomainError(
            f"办件 {case.case_no} 的结果已经交付（已办结），无需再次记录取件",
            f"case {case.case_no}: the result was already handed over (completed); nothing to record",
            code="bad_state",
        )
    if case.status != "decided":
        from window_terminal.core.case_status import STATUS_LABELS

        zh, en = STATUS_LABELS.get(case.status, (case.status, case.status))
        raise DomainError(
            f"办件 {case.case_no} 尚未作出决定（当前：{zh}），没有可交付的结果",
            f"case {case.case_no} is not decided yet ({en}): there is no result to hand over",
            code="bad_state",
        )
    if _result_blocked(case):
        deadline = f"（补齐期限 {case.supplement_deadline}）" if case.supplement_deadline else ""
        raise DomainError(
            f"办件 {case.case_no} 为容缺受理，容缺材料尚未补齐{deadline}：补齐后才能出证",
            f"case {case.case_no} was accepted with deferred materials that have not arrived"
            f"{' (due ' + str(case.supplement_deadline) + ')' if case.supplement_deadline else ''}: "
            "record the supplement first, then hand over the result",
            code="supplement_missing",
        )


def record_pickup(
    engine: Engine,
    hall_id: int,
    case_ref: str | int,
    window_number: int,
    *,
    ticket_id: int | None = None,
    actor: str | None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The applicant collects the result at a window: a visit (purpose ``pickup``); the case is completed."""

    def action(unit: Unit) -> dict[str, Any]:
        s = unit.session
        case = find_case(s, unit.hall_id, case_ref)
        window = lookup.window(s, unit.hall_id, window_number)
        _require_result_ready(case)
        documents = []
        has_notice = s.execute(
            select(Document.id).where(
                Document.case_id == case.id, Document.kind.in_(("completion_notice", "refusal_notice"))
            )
        ).first()
        if has_notice is None:
            documents.append(_completion_notice(unit, case, method="pickup", window=window.number))
        visit = Visit(
            hall_id=unit.hall_id,
            case_id=case.id,  # type: ignore[arg-type]  # a stored case: the id is set
            purpose="pickup",
            ticket_id=ticket_id,
            window_id=window.id,
            staff_id=unit.staff_id,
            at=unit.now,
        )
        s.add(visit)
        case.status = "completed"
        case.completed_at = unit.now
        case.delivery = "pickup"
        s.flush()
        unit.emit(
            "case.picked_up",
            {"case_id": case.id, "case_no": case.case_no, "visit_id": visit.id, "window": window.number},
            window_id=window.id,
        )
        return {
            "case_no": case.case_no,
            "case_status": case.status,
            "visit_id": visit.id,
            "documents": documents,
        }

    return _command(engine, hall_id, "case.pickup", action, request_id, actor)


def record_posted(
    engine: Engine,
    hall_id: int,
    case_ref: str | int,
    tracking_no: str,
    *,
    address: str = "",
    actor: str | None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The result was posted (EMS): records the tracking number, issues the notice and the 送达回证
    (proof of delivery: what was served, to whom, where, how, when; signed by the recipient and the
    server), completes the case."""
    tracking = lookup.note(tracking_no)
    if not tracking:
        raise DomainError("请填写邮件单号", "give the postal tracking number", code="tracking_required")

    def action(unit: Unit) -> dict[str, Any]:
        s = unit.session
        case = find_case(s, unit.hall_id, case_ref)
        _require_result_ready(case)
        documents = []
        if case.decision == "approved":
            documents.append(_completion_notice(unit, case, method="post", window=None, tracking_no=tracking))
        served = s.execute(
            select(Document.number, Document.kind)
            .where(
                Document.case_id == case.id,
                Document.kind.in_(("approval_decision", "refusal_notice", "completion_notice")),
            )
            .order_by(Document.id)
        ).all()
        payload = _document_base(unit, case)
        payload["dates"].pop("decided", None)
        payload["delivery"] = {
            "method": "post",
            "tracking_no": tracking,
            "address": lookup.note(address),
            "documents": [{"number": n, "title": TITLES[k]} for n, k in served if n not in documents]
            + [{"number": n, "title": TITLES["completion_notice"]} for n in documents],
            "sent_at": to_local(unit.now, unit.timezone).isoformat(timespec="seconds"),
        }
        documents.append(issue_document(unit, "service_receipt", payload, case_id=case.id).number)
        case.status = "completed"
        case.completed_at = unit.now
        case.delivery = "post"
        case.tracking_no = tracking
        unit.emit("case.posted", {"case_id": case.id, "case_no": case.case_no, "tracking_no": tracking})
        return {
            "case_no": case.case_no,
            "case_status": case.status,
            "tracking_no": tracking,
            "documents": documents,
        }

    return _command(engine, hall_id, "case.post", action, request_id, actor)
