"""Electronic supervision (电子监察): a green, yellow or red light for everything that has a deadline.

What is watched, and against which deadline:

* ``task``       — an open review task (pending / claimed / suspended): the case's promised date;
* ``case``       — an accepted case not yet decided: the promised date (the statutory date rides along);
* ``supplement`` — a case accepted with minor deficiencies (容缺) whose deferred materials have not
  arrived: ``case.supplement_deadline``;
* ``notice``     — a submission still waiting on its one-time notice (status ``submitted`` without an
  outcome; once the notice is issued the clock has stopped): Art. 32's five working days from ``received_on``
  (``thresholds.notice_limit_days``).

Case deadlines are never trusted from the stored columns: they are recomputed from ``accepted_on`` with
the hall's calendar (holidays, 调休, overrides), suspensions excluded (Art. 45) and extensions added
(Art. 42) — so a suspension or an extension shows at once. Yellow when the remaining working days fall
to ``thresholds.yellow_days``, red when overdue. A deadline computed over a year the calendar package
does not know is flagged ``provisional`` (never an error).

Every date, remaining count and light here comes from :mod:`window_terminal.core.deadlines`; the board,
the back office, case status and the reports read their lights through this module, so they agree.

One case can be watched several times over (the case, each of its review tasks, its deferred
materials): a count of *cases* by light counts each case once, at its worst light
(:func:`lights_of_cases`) — "yellow 84" on the board is 84 cases, not a case and its task counted twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from window_terminal.core import lookup
from window_terminal.core.deadlines import (
    CaseDeadlines,
    Deadline,
    HallDeadlines,
    Interval,
    Reading,
    hall_today,
    suspensions_by_case,
)
from window_terminal.db.engine import read_session
from window_terminal.db.models import (
    Case,
    Department,
    ItemDepartment,
    ReviewTask,
    ServiceItem,
    stored_id,
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


def _entry(
    kind: str,
    case: Case,
    item: ServiceItem,
    department: str,
    deadline: Deadline,
    service: HallDeadlines,
    **extra: Any,
) -> dict[str, Any]:
    reading = service.read(deadline)
    return {
        "kind": kind,
        "case_id": case.id,
        "case_no": case.case_no,
        "item": item.name,
        "item_code": item.code,
        "department": department,
        "deadline": reading.deadline.isoformat(),
        "remaining_working_days": reading.remaining_working_days,
        "light": reading.light,
        "provisional": reading.provisional,
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
        return watch(session, hall_id, today=today, kinds=kinds, department_code=department_code)


def watch(
    session: Session,
    hall_id: int,
    *,
    today: date | None = None,
    kinds: Sequence[str] = KINDS,
    department_code: str | None = None,
    task_ids: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """:func:`watch_list` inside the caller's read transaction (reports, the back office)."""
    service = HallDeadlines.load(session, hall_id, today)
    departments: dict[int, str] = {
        dept_id: code
        for dept_id, code in session.execute(
            select(Department.id, Department.code).where(Department.hall_id == hall_id)
        )
        if dept_id is not None
    }
    wanted_case_states = list(OPEN_CASE_STATES) + ["submitted", "notice_issued", "decided"]
    rows = session.execute(
        select(Case, ServiceItem)
        .join(ServiceItem, ServiceItem.id == Case.item_id)
        .where(Case.hall_id == hall_id, Case.status.in_(wanted_case_states))
    ).all()
    cases: dict[int, tuple[Case, ServiceItem]] = {stored_id(case): (case, item) for case, item in rows}
    item_depts: dict[int, list[str]] = defaultdict(list)
    for item_id, dept_id in session.execute(
        select(ItemDepartment.item_id, ItemDepartment.department_id).where(ItemDepartment.hall_id == hall_id)
    ):
        item_depts[item_id].append(departments.get(dept_id, "?"))
    suspended = suspensions_by_case(session, [i for i, (c, _) in cases.items() if c.accepted_on is not None])
    deadlines: dict[int, CaseDeadlines] = {}

    def deadlines_of(case: Case, item: ServiceItem) -> CaseDeadlines:
        key = stored_id(case)
        if key not in deadlines:
            deadlines[key] = service.of_case(case, item, suspended.get(key, ()))
        return deadlines[key]

    out: list[dict[str, Any]] = []
    if "task" in kinds:
        query = select(ReviewTask).where(
            ReviewTask.hall_id == hall_id, ReviewTask.status.in_(OPEN_TASK_STATES)
        )
        if department_code:
            wanted = next((i for i, c in departments.items() if c == lookup.code(department_code)), -1)
            query = query.where(ReviewTask.department_id == wanted)
        if task_ids is not None:
            query = query.where(ReviewTask.id.in_(list(task_ids) or [-1]))
        for task in session.execute(query).scalars():
            pair = cases.get(task.case_id)
            if pair is None or pair[0].accepted_on is None:
                continue
            case, item = pair
            out.append(
                _entry(
                    "task",
                    case,
                    item,
                    departments.get(task.department_id, "?"),
                    deadlines_of(case, item).promised,
                    service,
                    task_id=task.id,
                    status=task.status,
                )
            )
    for case, item in cases.values():
        depts = item_depts.get(stored_id(item), [])
        joined = ",".join(sorted(depts))
        if department_code and lookup.code(department_code) not in depts:
            continue
        if "case" in kinds and case.status in OPEN_CASE_STATES and case.accepted_on is not None:
            both = deadlines_of(case, item)
            entry = _entry("case", case, item, joined, both.promised, service, status=case.status)
            entry["statutory_deadline"] = both.statutory.date.isoformat()
            entry["accepted_on"] = case.accepted_on.isoformat()
            entry["provisional"] = both.provisional
            out.append(entry)
        if (
            "supplement" in kinds
            and case.outcome == "deficiency"
            and case.supplement_received_at is None
            and case.supplement_deadline is not None
            and case.status not in ("completed", "withdrawn", "not_accepted")
        ):
            # the date printed on the deficiency-acceptance notice is what the applicant was told
            deadline = service.stored(case.supplement_deadline)
            out.append(_entry("supplement", case, item, joined, deadline, service, status=case.status))
        # Art. 32's clock runs only until the notice (or another outcome) is issued: a case whose
        # notice went out in time waits on the applicant, and is nobody's lateness.
        if "notice" in kinds and case.status == "submitted" and case.outcome is None:
            deadline = service.notice(case.received_on)
            out.append(_entry("notice", case, item, joined, deadline, service, status=case.status))
    out.sort(key=lambda e: (_LIGHT_ORDER[e["light"]], e["deadline"], KINDS.index(e["kind"]), e["case_no"]))
    return out


def case_light(
    session: Session, hall_id: int, case: Case, item: ServiceItem, today: date | None = None
) -> tuple[CaseDeadlines, Reading, list[Interval]]:
    """(deadlines, reading of the promised date, suspensions) of one accepted case — the same numbers as
    its ``case`` entry in :func:`watch_list`."""
    service = HallDeadlines.load(session, hall_id, today)
    suspensions = suspensions_by_case(session, [case.id] if case.id is not None else []).get(case.id or 0, [])
    both = service.of_case(case, item, suspensions)
    return both, service.read(both.promised), suspensions


def overdue(engine: Engine, hall_id: int, today: date | None = None) -> list[dict[str, Any]]:
    """Everything near (yellow) or over (red) its deadline, worst first. Each item is a plain dict:
    kind (task|case|supplement|notice), case_no, item, department, deadline (ISO date),
    remaining_working_days, light, provisional — plus case_id, item_code, status and (tasks) task_id."""
    return [e for e in watch_list(engine, hall_id, today=today) if e["light"] != "green"]


def lights_of_cases(entries: Sequence[dict[str, Any]]) -> dict[int, str]:
    """Case id → its worst light over the given watch entries (its own, its tasks', …)."""
    worst: dict[int, str] = {}
    for entry in entries:
        case_id, light = entry["case_id"], entry["light"]
        if case_id not in worst or _LIGHT_ORDER[light] < _LIGHT_ORDER[worst[case_id]]:
            worst[case_id] = light
    return worst


def count_cases(entries: Sequence[dict[str, Any]]) -> dict[str, int]:
    """How many cases show each light, each case once at its worst light."""
    counts = dict.fromkeys(LIGHTS, 0)
    for light in lights_of_cases(entries).values():
        counts[light] += 1
    return counts


def lights_summary(engine: Engine, hall_id: int, today: date | None = None) -> dict[str, Any]:
    """Counts for the manager's board: per kind (entries: each review task is one), green / yellow /
    red; ``total``: cases, each once at its worst light; and how many entries are provisional."""
    summary: dict[str, Any] = {kind: dict.fromkeys(LIGHTS, 0) for kind in KINDS}
    entries = watch_list(engine, hall_id, today=today)
    for entry in entries:
        summary[entry["kind"]][entry["light"]] += 1
    summary["total"] = count_cases(entries)
    summary["provisional"] = sum(bool(entry["provisional"]) for entry in entries)
    return summary


def task_lights(
    session: Session, hall_id: int, tasks: Sequence[ReviewTask], today: date
) -> dict[int, dict[str, Any]]:
    """Light for each given task (used by the back-office list), keyed by task id."""
    if not tasks:
        return {}
    ids = [t.id for t in tasks if t.id is not None]
    found = watch(session, hall_id, today=today, kinds=("task",), task_ids=ids)
    return {e["task_id"]: e for e in found if "task_id" in e}


__all__ = [
    "case_light",
    "count_cases",
    "hall_today",
    "lights_of_cases",
    "lights_summary",
    "overdue",
    "task_lights",
    "watch",
    "watch_list",
]
