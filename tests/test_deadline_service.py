"""The deadline service (core/deadlines.py): each date rule, and one light everywhere.

If these fail, a clerk, a reviewer, the hall manager and the supervisor would read different
deadlines or different lights for the same case — or a date would ignore a Chinese holiday.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from tests.factories import SINGLE_DEPT_ITEM, make_accepted_case, make_submitted_case, set_clock_to, tasks_of
from window_terminal.core import case_status, review, supervision
from window_terminal.core.deadlines import (
    DEFICIENCY_DAYS,
    EXTENSION_DAYS,
    JOINT_EXTENSION_DAYS,
    RESULT_ISSUE_DAYS,
    Deadline,
    HallDeadlines,
    Thresholds,
    case_deadlines,
    deemed_accepted,
    light,
    notice_deadline,
    read_light,
    rectification_deadline,
    result_issue_deadline,
    supplement_deadline,
)
from window_terminal.core.intake import pending_notice_cases
from window_terminal.core.queueing import DEFAULT_THRESHOLDS
from window_terminal.core.reports.queries import overdue_report, period_report
from window_terminal.core.workdays import WorkCalendar
from window_terminal.db.engine import read_session, write_session
from window_terminal.db.models import CalendarOverride, Case, Hall
from window_terminal.screens.board import _lights_text

CAL = WorkCalendar()
D = date.fromisoformat


# --- each date rule ---------------------------------------------------------------------------------


def test_promised_and_statutory_dates_skip_national_day_and_count_the_make_up_saturday() -> None:
    # accepted Tue 2025-09-30; Oct 1-8 off; Sat Oct 11 is a make-up working day (调休)
    both = case_deadlines(CAL, D("2025-09-30"), 5, 10)
    assert (both.promised.date, both.statutory.date) == (D("2025-10-14"), D("2025-10-21"))
    assert not both.provisional


def test_a_suspension_moves_both_limits_and_an_extension_the_statutory_one_only() -> None:
    plain = case_deadlines(CAL, D("2026-03-02"), 5, 10)
    moved = case_deadlines(
        CAL, D("2026-03-02"), 5, 10, suspensions=[(D("2026-03-04"), D("2026-03-06"))], extension_days=10
    )
    assert (plain.promised.date, plain.statutory.date) == (D("2026-03-09"), D("2026-03-16"))
    # three working days suspended (Art. 45) from both; ten added (Art. 42) to the statutory limit only:
    # the promised date is the hall's promise, which an extension never moves
    assert (moved.promised.date, moved.statutory.date) == (D("2026-03-12"), D("2026-04-02"))


def test_an_open_suspension_stops_the_clock_through_today() -> None:
    both = case_deadlines(
        CAL, D("2026-03-02"), 5, 10, suspensions=[(D("2026-03-04"), None)], today=D("2026-03-10")
    )
    # counted: Tue 3/3; suspended Wed 3/4 … Tue 3/10; then 3/11, 3/12, 3/13 and the 5th, Mon 3/16
    assert both.promised.date == D("2026-03-16")


def test_notice_limit_is_five_working_days_over_the_spring_festival_and_then_deemed_accepted() -> None:
    # received Fri 2026-02-13; Feb 15-23 off; Sat Feb 14 and Sat Feb 28 are make-up working days
    due = notice_deadline(CAL, D("2026-02-13"), 5)
    assert due.date == D("2026-02-27")
    assert not deemed_accepted(CAL, D("2026-02-13"), 5, D("2026-02-27"))
    assert deemed_accepted(CAL, D("2026-02-13"), 5, D("2026-02-28"))
    assert read_light(CAL, due, D("2026-02-28"), 2).light == "red"  # deemed accepted = red notice light


def test_supplement_date_is_five_working_days_but_never_after_the_promised_date() -> None:
    assert DEFICIENCY_DAYS == 5
    assert supplement_deadline(CAL, D("2026-03-02"), D("2026-03-30")).date == D("2026-03-09")
    assert supplement_deadline(CAL, D("2026-03-02"), D("2026-03-04")).date == D("2026-03-04")
    assert supplement_deadline(CAL, D("2026-03-02"), None).date == D("2026-03-09")


def test_rectification_is_due_fifteen_working_days_later_across_labour_day() -> None:
    # opened Wed 2026-04-29; May 1-5 off, Sat May 9 works
    assert rectification_deadline(CAL, D("2026-04-29"), 15).date == D("2026-05-22")


def test_result_is_issued_within_ten_working_days_of_the_decision() -> None:
    assert RESULT_ISSUE_DAYS == 10  # Art. 44
    # decided Fri 2025-09-26: Sun 9/28, 9/29, 9/30 (Oct 1-8 off), 10/9, 10/10, Sat 10/11 (调休),
    # 10/13, 10/14, 10/15 and the tenth, Thu 10/16
    assert result_issue_deadline(CAL, D("2025-09-26")).date == D("2025-10-16")


def test_light_is_yellow_from_the_threshold_to_the_deadline_day_then_red() -> None:
    due = CAL.add_working_days(D("2026-03-02"), 5)  # Mon 3/9
    assert read_light(CAL, due, D("2026-03-04"), 2).light == "green"
    assert read_light(CAL, due, D("2026-03-05"), 2).light == "yellow"
    assert read_light(CAL, due, D("2026-03-09"), 2).remaining_working_days == 0
    assert read_light(CAL, due, D("2026-03-09"), 2).light == "yellow"
    assert read_light(CAL, due, D("2026-03-10"), 2).light == "red"
    assert light(3, 2) == "green" and light(-1, 2) == "red"


def test_thresholds_have_one_set_of_defaults_and_follow_the_hall() -> None:
    assert Thresholds.of({}) == Thresholds(
        DEFAULT_THRESHOLDS["yellow_days"],
        DEFAULT_THRESHOLDS["notice_limit_days"],
        DEFAULT_THRESHOLDS["rectification_days"],
    )
    assert Thresholds.of({"thresholds": {"yellow_days": 4}}).yellow_days == 4


# --- one light everywhere ---------------------------------------------------------------------------


def _everywhere(engine, hall_id: int, case_no: str, day: date) -> dict[str, object]:
    """The light of one case as each part of the product shows it."""
    watched = {e["kind"]: e for e in supervision.watch_list(engine, hall_id) if e["case_no"] == case_no}
    [task] = [t for t in review.list_tasks(engine, hall_id, "SCJG") if t["case_no"] == case_no]
    status = case_status.case_status(engine, hall_id, case_no)
    detail = review.case_detail(engine, hall_id, case_no)
    overdue = {
        r["kind"]: r["light"]
        for r in overdue_report(engine, hall_id).tables[0].rows
        if r["case_no"] == case_no
    }
    figures = {r["figure"]: r["value"] for r in period_report(engine, hall_id, day, day).table("cases").rows}
    report_light = "red" if figures["overdue_red"] else "yellow" if figures["overdue_yellow"] else "green"
    return {
        "supervision case": watched["case"]["light"],
        "supervision task": watched["task"]["light"],
        "back office list": task["light"],
        "back office detail": detail["light"],
        "case status": status["deadline"]["light"],
        "overdue report case": overdue.get("case", "green"),
        "overdue report task": overdue.get("task", "green"),
        "daily report": report_light,
    }


def test_a_working_saturday_loaded_after_acceptance_turns_every_view_red(engine, hall) -> None:
    """The stored promised date (Mon 3/9) predates the hall's calendar override that makes Sat 3/7 a
    working day: the real deadline is 3/7, so on 3/9 the case is overdue — everywhere, including the
    daily report, which used to count the stale stored date as yellow."""
    set_clock_to(D("2026-03-02"))
    case = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=D("2026-03-02"))
    assert case.promised_date == D("2026-03-09")
    with write_session(engine) as s:
        s.add(CalendarOverride(hall_id=hall.id, day=D("2026-03-07"), workday=True, note="调休上班"))
    set_clock_to(D("2026-03-09"))
    seen = _everywhere(engine, hall.id, case.case_no, D("2026-03-09"))
    assert set(seen.values()) == {"red"}, seen
    summary = supervision.lights_summary(engine, hall.id)
    # one case: it and its review task are both red, but the board counts cases (was 2, issue 28)
    assert summary["total"]["red"] == 1 and summary["case"]["red"] == summary["task"]["red"] == 1
    cases = overdue_report(engine, hall.id).table("overdue_cases")
    assert {r["light"]: r["cases"] for r in cases.rows} == {"red": 1, "yellow": 0}
    assert f"红灯 {summary['total']['red']}" in _lights_text(engine, hall.id) or (
        f"red {summary['total']['red']}" in _lights_text(engine, hall.id)
    )


def test_an_open_suspension_keeps_every_view_green_though_the_stored_date_has_passed(engine, hall) -> None:
    set_clock_to(D("2026-03-02"))
    case = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=D("2026-03-02"))
    set_clock_to(D("2026-03-03"))
    review.suspend(engine, hall.id, tasks_of(engine, case.id)["SCJG"].id, "testing", "送检", 20, actor="R001")
    set_clock_to(D("2026-03-12"))  # stored promised date 3/9 has passed; the clock stopped on 3/3
    with read_session(engine) as s:
        assert s.execute(select(Case.promised_date).where(Case.id == case.id)).scalar_one() == D("2026-03-09")
    seen = _everywhere(engine, hall.id, case.case_no, D("2026-03-12"))
    assert set(seen.values()) == {"green"}, seen


def test_a_changed_yellow_threshold_reaches_every_view(engine, hall) -> None:
    set_clock_to(D("2026-03-02"))
    case = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=D("2026-03-02"))  # due 3/9
    set_clock_to(D("2026-03-04"))  # 3 working days left: green at the default of 2
    assert set(_everywhere(engine, hall.id, case.case_no, D("2026-03-04")).values()) == {"green"}
    with write_session(engine) as s:
        settings = dict(s.execute(select(Hall.settings).where(Hall.id == hall.id)).scalar_one() or {})
        settings["thresholds"] = {**(settings.get("thresholds") or {}), "yellow_days": 3}
        s.execute(update(Hall).where(Hall.id == hall.id).values(settings=settings))
    assert set(_everywhere(engine, hall.id, case.case_no, D("2026-03-04")).values()) == {"yellow"}


def test_pending_notices_read_the_same_notice_light_as_supervision(engine, hall) -> None:
    set_clock_to(D("2026-03-02"))
    waiting = make_submitted_case(engine, hall.id, SINGLE_DEPT_ITEM, received_on=D("2026-03-02"))  # due 3/9
    states = {"green": "ok", "yellow": "due_soon", "red": "deemed_accepted"}
    for day in ("2026-03-04", "2026-03-05", "2026-03-06", "2026-03-10"):
        set_clock_to(D(day))
        [notice] = [e for e in supervision.watch_list(engine, hall.id, kinds=("notice",))]
        [row] = [r for r in pending_notice_cases(engine, hall.id) if r["case_no"] == waiting.case_no]
        assert (row["notice_due"], row["working_days_left"]) == (
            notice["deadline"],
            notice["remaining_working_days"],
        )
        assert row["state"] == states[notice["light"]], day


@pytest.mark.parametrize("day", ["2026-03-02", "2026-03-09"])
def test_hall_deadlines_take_today_from_the_database_clock(engine, hall, day) -> None:
    set_clock_to(D(day))
    with read_session(engine) as s:
        assert HallDeadlines.load(s, hall.id).today == D(day)


# --- every deadline kind over the 2026 holidays, counted by hand (issue 20) ---------------------------
#
# The 2026 arrangement (State Council notice; chinesecalendar 1.11 agrees, checked day by day):
# New Year Jan 1-3 (Sun Jan 4 works); Spring Festival Feb 15-23 (Sat Feb 14, Sat Feb 28 work);
# Qingming Apr 4-6; Labour Day May 1-5 (Sat May 9 works); Dragon Boat Jun 19-21; Mid-Autumn
# Sep 25-27 (Sun Sep 20 works); National Day Oct 1-7 (Sat Oct 10 works).


def test_the_2026_arrangement_is_what_the_calendar_uses() -> None:
    weekday_holidays, weekend_workdays = [], []
    day = D("2026-01-01")
    while day.year == 2026:
        if day.weekday() < 5 and not CAL.is_workday(day):
            weekday_holidays.append(day.isoformat()[5:])
        if day.weekday() >= 5 and CAL.is_workday(day):
            weekend_workdays.append(day.isoformat()[5:])
        day = date.fromordinal(day.toordinal() + 1)
    assert weekday_holidays == [
        "01-01", "01-02",
        "02-16", "02-17", "02-18", "02-19", "02-20", "02-23",
        "04-06",
        "05-01", "05-04", "05-05",
        "06-19",
        "09-25",
        "10-01", "10-02", "10-05", "10-06", "10-07",
    ]  # fmt: skip
    assert weekend_workdays == ["01-04", "02-14", "02-28", "05-09", "09-20", "10-10"]


def test_promised_and_statutory_dates_over_qingming_and_labour_day_2026() -> None:
    # accepted Thu Apr 2: Apr 3 (1), Apr 4-6 off, Apr 7-10 (2-5) → promised Fri Apr 10;
    # Apr 13-17 (6-10), 20-24 (11-15), 27-30 (16-19), May 1-5 off, Wed May 6 (20) → statutory
    both = case_deadlines(CAL, D("2026-04-02"), 5, 20)
    assert (both.promised, both.statutory) == (
        Deadline(D("2026-04-10"), False),
        Deadline(D("2026-05-06"), False),
    )


def test_an_extension_adds_ten_and_a_joint_extension_fifteen_working_days_2026() -> None:
    # the promised 5 stay: Apr 3, 7, 8, 9, Fri Apr 10 (Qingming Apr 4-6); statutory +10 → 30:
    # May 6 (20), 7, 8, Sat May 9 (23), 11-15, 18, Tue May 19 (30)
    ext = case_deadlines(CAL, D("2026-04-02"), 5, 20, extension_days=EXTENSION_DAYS)
    assert (ext.promised.date, ext.statutory.date) == (D("2026-04-10"), D("2026-05-19"))
    # +15: statutory 35: May 7, 8, 9 (23), 11-15 (28), 18-22 (33), 25, Tue May 26; promised as before
    joint = case_deadlines(CAL, D("2026-04-02"), 5, 20, extension_days=JOINT_EXTENSION_DAYS)
    assert (joint.promised.date, joint.statutory.date) == (D("2026-04-10"), D("2026-05-26"))
    assert (EXTENSION_DAYS, JOINT_EXTENSION_DAYS) == (10, 15)  # Art. 42 (1) and (2)


def test_a_closed_suspension_skips_its_working_days_only_2026() -> None:
    # suspended Tue Apr 7 - Wed Apr 8: Apr 3 (1), Apr 9, 10, 13, Tue Apr 14 (5); statutory two days later
    both = case_deadlines(CAL, D("2026-04-02"), 5, 20, suspensions=[(D("2026-04-07"), D("2026-04-08"))])
    assert (both.promised.date, both.statutory.date) == (D("2026-04-14"), D("2026-05-08"))


def test_an_open_suspension_through_mid_autumn_and_national_day_2026() -> None:
    # accepted Wed Sep 23, suspended from Thu Sep 24, still open on Tue Sep 29: Sep 30 (1), Oct 1-7 off,
    # Oct 8, 9, Sat Oct 10 (4), Mon Oct 12 (5); statutory: Oct 13-16, 19-23, 26-30, Mon Nov 2 (20)
    both = case_deadlines(
        CAL, D("2026-09-23"), 5, 20, suspensions=[(D("2026-09-24"), None)], today=D("2026-09-29")
    )
    assert (both.promised.date, both.statutory.date) == (D("2026-10-12"), D("2026-11-02"))


def test_the_notice_limit_over_the_dragon_boat_festival_2026() -> None:
    # received Thu Jun 18: Jun 19-21 off, Jun 22-26 (1-5) → Fri Jun 26 (calendar days: Jun 23)
    due = notice_deadline(CAL, D("2026-06-18"), 5)
    assert due == Deadline(D("2026-06-26"), False)
    assert not deemed_accepted(CAL, D("2026-06-18"), 5, D("2026-06-26"))
    assert deemed_accepted(CAL, D("2026-06-18"), 5, D("2026-06-27"))
    readings = [read_light(CAL, due, D(day), 2) for day in ("2026-06-18", "2026-06-24", "2026-06-26")]
    assert [(r.remaining_working_days, r.light) for r in readings] == [
        (5, "green"),
        (2, "yellow"),
        (0, "yellow"),
    ]
    late = [read_light(CAL, due, D(day), 2) for day in ("2026-06-27", "2026-06-29", "2026-06-30")]
    assert [(r.remaining_working_days, r.light) for r in late] == [(-1, "red"), (-1, "red"), (-2, "red")]


def test_the_supplement_date_over_mid_autumn_and_national_day_2026() -> None:
    # accepted Wed Sep 23: Sep 24 (1), Sep 25-27 off, Sep 28, 29, 30 (4), Oct 1-7 off, Thu Oct 8 (5)
    assert supplement_deadline(CAL, D("2026-09-23"), None) == Deadline(D("2026-10-08"), False)
    assert supplement_deadline(CAL, D("2026-09-23"), D("2026-09-30")).date == D("2026-09-30")  # capped
    assert supplement_deadline(CAL, D("2026-09-23"), D("2026-10-08")).date == D("2026-10-08")  # equal: kept


def test_rectification_counts_both_make_up_days_of_the_autumn_2026() -> None:
    # opened Fri Sep 18: Sun Sep 20 (1), 21-24 (5), 28-30 (8), Oct 8, 9, Sat Oct 10 (11), 12-15 (15)
    assert rectification_deadline(CAL, D("2026-09-18"), 15) == Deadline(D("2026-10-15"), False)


def test_the_result_is_issued_ten_working_days_after_a_decision_before_labour_day_2026() -> None:
    # decided Tue Apr 28: Apr 29, 30 (2), May 1-5 off, May 6-8 (5), Sat May 9 (6), 11-14 (10)
    assert result_issue_deadline(CAL, D("2026-04-28")) == Deadline(D("2026-05-14"), False)
    assert result_issue_deadline(CAL, D("2026-04-28"), 3).date == D("2026-05-06")


def test_the_halls_service_applies_each_rule_with_the_halls_thresholds() -> None:
    from window_terminal.db.models import ServiceItem

    thresholds = Thresholds(yellow_days=3, notice_limit_days=4, rectification_days=12)
    svc = HallDeadlines(CAL, thresholds, D("2026-06-24"))
    # notice: 4 working days after Thu Jun 18 → Jun 22, 23, 24, Thu Jun 25
    assert svc.notice(D("2026-06-18")) == Deadline(D("2026-06-25"), False)
    assert not svc.deemed_accepted(D("2026-06-18"))  # Jun 24: still inside
    assert HallDeadlines(CAL, thresholds, D("2026-06-26")).deemed_accepted(D("2026-06-18"))
    assert svc.supplement(D("2026-09-23"), None) == Deadline(D("2026-10-08"), False)
    assert svc.supplement(D("2026-09-23"), D("2026-09-30")).date == D("2026-09-30")
    # rectification: 12 working days after Fri Sep 18 → Sun Sep 20 (1) … Oct 8, 9, Sat Oct 10 (11), Oct 12
    assert svc.rectification(D("2026-09-18")) == Deadline(D("2026-10-12"), False)
    assert svc.result_issue(D("2026-04-28")) == Deadline(D("2026-05-14"), False)
    assert svc.stored(D("2026-06-26")) == Deadline(D("2026-06-26"), False)
    assert svc.stored(D("2031-06-26")) == Deadline(D("2031-06-26"), True)  # a year the package lacks
    reading = svc.read(svc.notice(D("2026-06-18")))
    assert (reading.deadline, reading.remaining_working_days, reading.light) == (D("2026-06-25"), 1, "yellow")
    assert reading.provisional is False
    assert read_light(CAL, Deadline(D("2031-06-26"), True), D("2031-06-20"), 2).provisional is True

    item = ServiceItem(promised_days=5, statutory_days=20)
    received_only = Case(received_on=D("2026-04-02"), accepted_on=None, extension_days=None)
    both = svc.of_case(received_only, item)  # not accepted yet: counted from receipt
    assert (both.promised.date, both.statutory.date) == (D("2026-04-10"), D("2026-05-06"))
    extended = Case(received_on=D("2026-04-01"), accepted_on=D("2026-04-02"), extension_days=10)
    both = svc.of_case(extended, item, [(D("2026-04-07"), D("2026-04-08"))])
    assert (both.promised.date, both.statutory.date) == (D("2026-04-14"), D("2026-05-21"))
    # an open suspension ends on the service's today (not the real date)
    open_ = HallDeadlines(CAL, thresholds, D("2026-09-29")).of_case(
        Case(received_on=D("2026-09-23"), accepted_on=D("2026-09-23"), extension_days=0),
        item,
        [(D("2026-09-24"), None)],
    )
    assert open_.promised.date == D("2026-10-12")


def test_a_supplement_due_on_the_promised_day_keeps_that_day() -> None:
    # five working days after Mon Mar 2 is Mon Mar 9; promised the same day: either way Mar 9,
    # and a provisional promised date stays provisional
    assert supplement_deadline(CAL, D("2026-03-02"), D("2026-03-09")) == Deadline(D("2026-03-09"), False)
    far = supplement_deadline(CAL, D("2031-03-03"), D("2031-03-04"))
    assert far == Deadline(D("2031-03-04"), True)


def test_suspensions_are_read_with_their_ends(engine, hall) -> None:
    from window_terminal.core.deadlines import suspensions_by_case
    from window_terminal.db.models import Suspension

    set_clock_to(D("2026-03-02"))
    case = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=D("2026-03-02"))
    with write_session(engine) as s:
        s.add(
            Suspension(
                hall_id=hall.id,
                case_id=case.id,
                kind="inspection",
                reason="送检",
                started_on=D("2026-03-04"),
                ended_on=D("2026-03-06"),
            )
        )
        s.add(
            Suspension(
                hall_id=hall.id,
                case_id=case.id,
                kind="hearing",
                reason="听证",
                started_on=D("2026-03-10"),
                ended_on=None,
            )
        )
    with read_session(engine) as s:
        found = suspensions_by_case(s, [case.id])
        assert sorted(found[case.id], key=lambda iv: iv[0]) == [
            (D("2026-03-04"), D("2026-03-06")),
            (D("2026-03-10"), None),
        ]
        assert dict(suspensions_by_case(s, [])) == {}
