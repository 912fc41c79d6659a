"""Electronic supervision (电子监察): a green, yellow or red light for everything that has a deadline.

What is watched, and against which deadline:

* ``task``       — an open review task (pending / claimed / suspended): the case's promised date;
* ``case``       — an accepted case not yet decided: the promised date (the statutory date rides along);
* ``supplement`` — a case accepted with minor deficiencies (容缺) whose deferred materials have not
  arrived: ``case.supplement_deadline``;
* ``notice``     — a submission still waiting on its one-time notice (status ``submitted`` without an
  outcome, or ``notice_issued``): Art. 32's five working days from ``received_on``
  (``thresholds.notice_limit_days``).

Case deadlines are never trusted from the stored columns: they are recomputed from ``accepted_on`` with
the hall's calendar (holidays, 调休, overrides), suspensions excluded (Art. 45) and extensions added
(Art. 42) — so a suspension or an extension shows at once. Yellow when the remaining working days fall
to ``thresholds.yellow_days``, red when overdue. A deadline computed over a year the calendar package
does not know is flagged ``provisional`` (never an error).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from window_terminal.core import lookup
from window_terminal.core.deadlines import Deadline, WorkCalendar, light
from window_terminal.core.queueing import threshold
from window_terminal.core.workdays import hall_calendar
from window_terminal.db.clock import db_now, local_day
from window_terminal.db.engine import read_session
from window_terminal.db.models import (
    Case,
    Department,
    Hall,
    ItemDepartment,
    ReviewTask,
    ServiceItem,
    Suspension,
)

KINDS = ("task", "case", "supplement", "notice")
KIND_LABELS = {
    "task": ("审查任务", "review task"),
    "case": ("办件", "case"),
    "supplement": ("容缺补正", "deferred materials"),
    "notice": ("一次性告知", "one-time notice"),
}
OPEN_TASK_STATES = ("pending", "claimed", "suspended")
OPEN_CASE_STATES = ("accepted", "in_review", "returned")
LIGHTS = ("green", "yellow", "red")
_LIGHT_ORDER = {"red": 0, "yellow": 1, "green": 2}

Interval = tuple[date, date | None]


def hall_today(session: Session, hall_id: int) -> date:
    """Today in the hall's time zone, by the database clock."""
    tz = session.execute(select(Hall.timezone).where(Hall.id == hall_id)).scalar_one()
    return local_day(db_now(session), tz)


def case_deadlines(
    calendar: WorkCalendar,
    case: Case,
    item: ServiceItem,
    suspensions: Sequence[Interval] = (),
    *,
    today: date | None = None,
) -> tuple[Deadline, Deadline]:
    """(promised, statutory) for an accepted case: from ``accepted_on``, the acceptance day not counted,
    suspended days excluded, the case's extension days added to both limits."""
    start = case.accepted_on or case.received_on
    kwargs: dict[str, Any] = {"suspensions": list(suspensions), "extension_days": case.extension_days or 0}
    if today is not None:
        kwargs["today"] = today
    promised = calendar.add_working_days(start, item.promised_days, **kwargs)
    statutory = calendar.add_working_days(start, item.statutory_days, **kwargs)
    return promised, statutory


def suspensions_by_case(session: Session, case_ids: Iterable[int]) -> dict[int, list[Interval]]:
    ids = list(case_ids)
    found: dict[int, list[Interval]] = defaultdict(list)
    if not ids:
        return found
    for case_id, start, end in session.execute(
        select(Suspension.case_id, Suspension.started_on, Suspension.ended_on).where(
            Suspension.case_id.in_(ids)
        )
    ):
        found[case_id].append((start, end))
    return found


def _entry(
    kind: str,
    case: Case,
    item: ServiceItem,
    department: str,
    deadline: Deadline,
    calendar: WorkCalendar,
    today: date,
    yellow_days: int,
    **extra: Any,
) -> dict[str, Any]:
    remaining = calendar.remaining_working_days(today, deadline.date)
    return {
        "kind": kind,
        "case_id": case.id,
        "case_no": case.case_no,
        "item": item.name,
        "item_code": item.code,
        "department": department,
        "deadline": deadline.date.isoformat(),
        "remaining_working_days": remaining,
        "light": light(remaining, yellow_days),
        "provisional": bool(deadline.provisional),
        **extra,
    }


def watch_list(
    engine: Engine,
    hall_id: int,
    *,
    today: date | None = None,
    kinds: Sequence[str] = KINDS,
    department_code: str | None = None,
) -> list[dict[str, Any]]:
    """Every watched item with its light, worst first (red, yellow, green), then by deadline."""
    with read_session(engine) as session:
        return _watch(session, hall_id, today or hall_today(session, hall_id), kinds, department_code)


def _watch(
    session: Session, hall_id: int, today: date, kinds: Sequence[str], department_code: str | None
) -> list[dict[str, Any]]:
    settings = session.execute(select(Hall.settings).where(Hall.id == hall_id)).scalar_one() or {}
    yellow_days = int(threshold(settings, "yellow_days"))
    notice_days = int(threshold(settings, "notice_limit_days"))
    calendar = hall_calendar(session, hall_id)
    departments = dict(
        session.execute(select(Department.id, Department.code).where(Department.hall_id == hall_id)).all()
    )
    wanted_case_states = list(OPEN_CASE_STATES) + ["submitted", "notice_issued", "decided"]
    rows = session.execute(
        select(Case, ServiceItem)
        .join(ServiceItem, ServiceItem.id == Case.item_id)
        .where(Case.hall_id == hall_id, Case.status.in_(wanted_case_states))
    ).all()
    cases = {case.id: (case, item) for case, item in rows}
    item_depts: dict[int, list[str]] = defaultdict(list)
    for item_id, dept_id in session.execute(
        select(ItemDepartment.item_id, ItemDepartment.department_id).where(ItemDepartment.hall_id == hall_id)
    ):
        item_depts[item_id].append(departments.get(dept_id, "?"))
    suspended = suspensions_by_case(session, [c.id for c, _ in cases.values() if c.accepted_on is not None])
    deadlines: dict[int, tuple[Deadline, Deadline]] = {}

    def deadlines_of(case: Case, item: ServiceItem) -> tuple[Deadline, Deadline]:
        if case.id not in deadlines:
            deadlines[case.id] = case_deadlines(calendar, case, item, suspended.get(case.id, ()), today=today)
        return deadlines[case.id]

    out: list[dict[str, Any]] = []
    if "task" in kinds:
        query = select(ReviewTask).where(
            ReviewTask.hall_id == hall_id, ReviewTask.status.in_(OPEN_TASK_STATES)
        )
        if department_code:
            dept_id = next((i for i, c in departments.items() if c == lookup.code(department_code)), -1)
            query = query.where(ReviewTask.department_id == dept_id)
        for task in session.execute(query).scalars():
            pair = cases.get(task.case_id)
            if pair is None or pair[0].accepted_on is None:
                continue
            case, item = pair
            promised, _ = deadlines_of(case, item)
            out.append(
                _entry(
                    "task",
                    case,
                    item,
                    departments.get(task.department_id, "?"),
                    promised,
                    calendar,
                    today,
                    yellow_days,
                    task_id=task.id,
                    status=task.status,
                )
            )
    for case, item in cases.values():
        joined = ",".join(sorted(item_depts.get(item.id, [])))
        if department_code and lookup.code(department_code) not in item_depts.get(item.id, []):
            continue
        if "case" in kinds and case.status in OPEN_CASE_STATES and case.accepted_on is not None:
            promised, statutory = deadlines_of(case, item)
            entry = _entry(
                "case", case, item, joined, promised, calendar, today, yellow_days, status=case.status
            )
            entry["statutory_deadline"] = statutory.date.isoformat()
            entry["provisional"] = entry["provisional"] or statutory.provisional
            out.append(entry)
        if (
            "supplement" in kinds
            and case.outcome == "deficiency"
            and case.supplement_received_at is None
            and case.supplement_deadline is not None
            and case.status not in ("completed", "withdrawn", "not_accepted")
        ):
            deadline = Deadline(case.supplement_deadline, not calendar.is_known(case.supplement_deadline))
            out.append(
                _entry(
                    "supplement",
                    case,
                    item,
                    joined,
                    deadline,
                    calendar,
                    today,
                    yellow_days,
                    status=case.status,
                )
            )
        if "notice" in kinds and (
            (case.status == "submitted" and case.outcome is None) or case.status == "notice_issued"
        ):
            deadline = calendar.add_working_days(case.received_on, notice_days)
            out.append(
                _entry(
                    "notice", case, item, joined, deadline, calendar, today, yellow_days, status=case.status
                )
            )
    out.sort(key=lambda e: (_LIGHT_ORDER[e["light"]], e["deadline"], KINDS.index(e["kind"]), e["case_no"]))
    return out


def overdue(engine: Engine, hall_id: int, today: date | None = None) -> list[dict[str, Any]]:
    """Everything near (yellow) or over (red) its deadline, worst first. Each item is a plain dict:
    kind (task|case|supplement|notice), case_no, item, department, deadline (ISO date),
    remaining_working_days, light, provisional — plus case_id, item_code, status and (tasks) task_id."""
    return [e for e in watch_list(engine, hall_id, today=today) if e["light"] != "green"]


def lights_summary(engine: Engine, hall_id: int, today: date | None = None) -> dict[str, Any]:
    """Counts for the manager's board: per kind and in total, green / yellow / red, and provisional."""
    summary: dict[str, Any] = {kind: dict.fromkeys(LIGHTS, 0) for kind in (*KINDS, "total")}
    provisional = 0
    for entry in watch_list(engine, hall_id, today=today):
        summary[entry["kind"]][entry["light"]] += 1
        summary["total"][entry["light"]] += 1
        provisional += bool(entry["provisional"])
    summary["provisional"] = provisional
    return summary


def task_lights(
    session: Session, hall_id: int, tasks: Sequence[ReviewTask], today: date
) -> dict[int, dict[str, Any]]:
    """Light for each given task (used by the back-office list), keyed by task id."""
    if not tasks:
        return {}
    found = {e["task_id"]: e for e in _watch(session, hall_id, today, ("task",), None) if "task_id" in e}
    return {t.id: found[t.id] for t in tasks if t.id in found}


__all__ = [
    "case_deadlines",
    "hall_today",
    "lights_summary",
    "overdue",
    "suspensions_by_case",
    "watch_list",
]
