"""Electronic supervision: deadlines across holidays, suspensions and extensions; lights over time."""

from __future__ import annotations

from datetime import date

import pytest

from tests.factories import (
    JOINT_ITEM,
    SINGLE_DEPT_ITEM,
    approve,
    make_accepted_case,
    make_submitted_case,
    set_clock_to,
    tasks_of,
)
from window_terminal.core import review, supervision

# SCJG-0006 食品经营许可证核发: promised 5, statutory 10 working days.
DEADLINES = [
    # (scenario, accepted on, action, promised, statutory, provisional)
    (
        "National Day 2025: Oct 1-8 off, Sat Oct 11 works",
        "2025-09-30",
        None,
        "2025-10-14",
        "2025-10-21",
        False,
    ),
    (
        "Spring Festival 2026: Sat Feb 14 and Sat Feb 28 work",
        "2026-02-13",
        None,
        "2026-02-27",
        "2026-03-05",
        False,
    ),
    ("suspended Wed-Fri for an inspection", "2026-03-02", "suspend", "2026-03-12", "2026-03-19", False),
    ("extended by 10 working days (Art. 42)", "2026-03-02", "extend", "2026-03-09", "2026-03-30", False),
    (
        "2031: beyond the calendar package, Mon-Fri fallback",
        "2031-03-03",
        None,
        "2031-03-10",
        "2031-03-17",
        True,
    ),
]


@pytest.mark.parametrize(
    ("scenario", "accepted", "action", "promised", "statutory", "provisional"),
    DEADLINES,
    ids=[d[0][:20] for d in DEADLINES],
)
def test_case_deadlines_count_working_days_only(
    engine, hall, scenario, accepted, action, promised, statutory, provisional
):
    accepted_on = date.fromisoformat(accepted)
    set_clock_to(accepted_on)
    case = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=accepted_on)
    task = tasks_of(engine, case.id)["SCJG"]
    if action == "suspend":
        set_clock_to(date(2026, 3, 4))
        review.suspend(engine, hall.id, task.id, "inspection", "现场核查", 3, actor="R001")
        set_clock_to(date(2026, 3, 6))
        review.resume(engine, hall.id, task.id, actor="R001")
    elif action == "extend":
        review.extend(
            engine, hall.id, case.case_no, approver="S002", reason="情况复杂", days=10, actor="R001"
        )
    detail = review.case_detail(engine, hall.id, case.case_no)
    assert (detail["promised_date"], detail["statutory_date"], detail["provisional"]) == (
        promised,
        statutory,
        provisional,
    )
    [watched] = supervision.watch_list(engine, hall.id, kinds=("case",))
    assert watched["deadline"] == promised and watched["statutory_deadline"] == statutory
    assert watched["provisional"] is provisional


def _lights(engine, hall, today):
    set_clock_to(today)
    return {(e["kind"], e["case_no"]): e["light"] for e in supervision.watch_list(engine, hall.id)}


def test_lights_turn_yellow_then_red_as_the_database_clock_moves(engine, hall):
    set_clock_to(date(2026, 3, 2))
    case = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=date(2026, 3, 2))  # due Mon 3/9
    deficient = make_accepted_case(
        engine,
        hall.id,
        JOINT_ITEM,
        accepted_on=date(2026, 3, 2),
        outcome="deficiency",
        supplement_deadline=date(2026, 3, 4),
    )
    waiting = make_submitted_case(
        engine, hall.id, SINGLE_DEPT_ITEM, received_on=date(2026, 3, 2)
    )  # notice due 3/9
    monday = _lights(engine, hall, date(2026, 3, 2))
    assert monday[("task", case.case_no)] == "green" and monday[("case", case.case_no)] == "green"
    assert monday[("supplement", deficient.case_no)] == "yellow"  # 2 working days left = threshold
    assert monday[("notice", waiting.case_no)] == "green"
    thursday = _lights(engine, hall, date(2026, 3, 5))
    assert thursday[("task", case.case_no)] == "yellow" and thursday[("notice", waiting.case_no)] == "yellow"
    assert thursday[("supplement", deficient.case_no)] == "red"
    tuesday = _lights(engine, hall, date(2026, 3, 10))
    assert {light for (kind, no), light in tuesday.items() if no in (case.case_no, waiting.case_no)} == {
        "red"
    }

    overdue = supervision.overdue(engine, hall.id)
    first = next(e for e in overdue if e["kind"] == "task" and e["case_no"] == case.case_no)
    assert {
        k: first[k]
        for k in ("kind", "item", "department", "deadline", "remaining_working_days", "light", "provisional")
    } == {
        "kind": "task",
        "item": "食品经营许可证核发",
        "department": "SCJG",
        "deadline": "2026-03-09",
        "remaining_working_days": -1,
        "light": "red",
        "provisional": False,
    }
    assert all(e["light"] != "green" for e in overdue)
    summary = supervision.lights_summary(engine, hall.id)
    assert summary["task"]["red"] == 3 and summary["notice"]["red"] == 1 and summary["supplement"]["red"] == 1
    # Issue 28: the total counted entries ("red 8": a case, its tasks, its deferred materials, each
    # once). It counts cases, each once at its worst light: case, deficient and waiting.
    assert sum(summary[k]["red"] for k in supervision.KINDS) > 3
    assert summary["total"]["red"] == 3 and summary["total"]["yellow"] == 0
    assert supervision.count_cases(overdue) == {"green": 0, "yellow": 0, "red": 3}


def test_a_suspended_task_keeps_its_light_still_while_the_clock_is_stopped(engine, hall):
    set_clock_to(date(2026, 3, 2))
    case = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=date(2026, 3, 2))
    review.suspend(engine, hall.id, tasks_of(engine, case.id)["SCJG"].id, "testing", "送检", 10, actor="R001")
    assert _lights(engine, hall, date(2026, 3, 20))[("task", case.case_no)] == "green"


def test_a_decided_case_leaves_the_overdue_list(engine, hall):
    set_clock_to(date(2026, 3, 20))
    case = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=date(2026, 3, 2))
    assert {e["kind"] for e in supervision.overdue(engine, hall.id)} == {"task", "case"}
    approve(engine, hall.id, tasks_of(engine, case.id)["SCJG"].id, "R001")
    assert supervision.overdue(engine, hall.id) == []
