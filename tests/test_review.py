"""The back office on SQLite and PostgreSQL: parallel review, refusals, suspension, extension, results."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.factories import (
    FOUR_DEPT_ITEM,
    JOINT_ITEM,
    REVIEWERS,
    SINGLE_DEPT_ITEM,
    approve,
    make_accepted_case,
    set_clock_to,
    tasks_of,
)
from window_terminal.core import review
from window_terminal.core.document_store import get_document
from window_terminal.db.engine import read_session
from window_terminal.db.models import Case, Document, Event, Extension, Suspension, Visit
from window_terminal.errors import DomainError

MON = date(2026, 3, 2)


def _case(engine, case_id):
    with read_session(engine) as s:
        return s.get(Case, case_id)


def test_joint_case_is_decided_only_when_every_department_has_approved(engine, hall):
    set_clock_to(MON)
    case = make_accepted_case(engine, hall.id, JOINT_ITEM, accepted_on=MON)
    tasks = tasks_of(engine, case.id)
    assert sorted(tasks) == ["SCJG", "XZSP"]
    review.claim(engine, hall.id, tasks["SCJG"].id, actor="R001")
    first = approve(engine, hall.id, tasks["SCJG"].id, "R001")
    assert first["case_status"] == "in_review" and first["decision"] is None and first["documents"] == []
    second = approve(engine, hall.id, tasks["XZSP"].id, "R009")
    assert second["case_status"] == "decided" and second["decision"] == "approved"
    decision, number = second["documents"]  # Art. 38: the written decision, then "come and collect"
    assert get_document(engine, hall.id, decision).kind == "approval_decision"
    assert get_document(engine, hall.id, number).kind == "completion_notice"
    with read_session(engine) as s:
        kinds = (
            s.execute(select(Event.kind).where(Event.hall_id == hall.id).order_by(Event.seq)).scalars().all()
        )
    assert kinds[-7:] == [
        "review.claimed",
        "review.approved",
        "review.claimed",
        "review.approved",
        "document.issued",
        "document.issued",
        "case.decided",
    ]


def test_four_department_case_waits_for_the_last_department(engine, hall):
    set_clock_to(MON)
    case = make_accepted_case(engine, hall.id, FOUR_DEPT_ITEM, accepted_on=MON)
    tasks = tasks_of(engine, case.id)
    assert sorted(tasks) == ["GJJ", "RSJ", "SCJG", "SW"]
    for code in ("SCJG", "RSJ", "GJJ"):
        assert approve(engine, hall.id, tasks[code].id, REVIEWERS[code])["case_status"] == "in_review"
    assert approve(engine, hall.id, tasks["SW"].id, "R008")["decision"] == "approved"


def test_one_refusal_decides_the_joint_case_with_appeal_rights(engine, hall):
    set_clock_to(MON)
    case = make_accepted_case(engine, hall.id, JOINT_ITEM, accepted_on=MON)
    tasks = tasks_of(engine, case.id)
    review.claim(engine, hall.id, tasks["SCJG"].id, actor="R001")
    result = review.refuse(engine, hall.id, tasks["SCJG"].id, "经营场所与污染源距离不符合要求", actor="R001")
    assert result["case_status"] == "decided" and result["decision"] == "refused"
    doc = get_document(engine, hall.id, result["documents"][0])
    assert doc.kind == "refusal_notice"
    assert doc.payload["appeal"]["reconsideration_days"] == 60
    assert doc.payload["appeal"]["reconsideration_body"] == "成都市锦江区人民政府"
    assert doc.payload["appeal"]["lawsuit_months"] == 6
    assert doc.payload["appeal"]["court"] == "成都市锦江区人民法院"
    assert "污染源" in doc.payload["reason"]
    assert tasks_of(engine, case.id)["XZSP"].status == "cancelled"
    with pytest.raises(DomainError):
        review.approve(engine, hall.id, tasks["XZSP"].id, note="同意", actor="R009")


def test_refusal_without_a_reason_is_refused(engine, hall):
    case = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=MON)
    with pytest.raises(DomainError) as err:
        review.refuse(engine, hall.id, tasks_of(engine, case.id)["SCJG"].id, "  ", actor="R001")
    assert "理由" in err.value.zh


def test_a_task_claimed_by_one_reviewer_cannot_be_decided_by_another(engine, hall):
    set_clock_to(MON)
    case = make_accepted_case(engine, hall.id, JOINT_ITEM, accepted_on=MON)
    task = tasks_of(engine, case.id)["SCJG"]
    review.claim(engine, hall.id, task.id, actor="R001")
    with pytest.raises(DomainError) as err:
        review.approve(engine, hall.id, task.id, note="同意", actor="R009")
    assert err.value.code == "wrong_department"  # R009 reviews for XZSP, not SCJG (was: either code)
    again = review.claim(engine, hall.id, task.id, actor="R001", request_id="same")
    assert review.claim(engine, hall.id, task.id, actor="R001", request_id="same") == again


def test_return_to_counter_marks_the_case_returned(engine, hall):
    case = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=MON)
    result = review.return_to_counter(
        engine, hall.id, tasks_of(engine, case.id)["SCJG"].id, "申请书签字缺失", actor="R001"
    )
    assert result["case_status"] == "returned" and _case(engine, case.id).status == "returned"


def test_suspension_stops_the_clock_and_resuming_moves_the_deadline(engine, hall):
    set_clock_to(MON)
    case = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=MON)
    before = _case(engine, case.id).promised_date
    task = tasks_of(engine, case.id)["SCJG"]
    set_clock_to(date(2026, 3, 4))  # Wednesday
    review.suspend(engine, hall.id, task.id, "inspection", "现场核查经营场所", 3, actor="R001")
    with pytest.raises(DomainError):
        review.approve(engine, hall.id, task.id, note="同意", actor="R001")
    set_clock_to(date(2026, 3, 6))  # Friday: Wed, Thu, Fri do not count
    review.resume(engine, hall.id, task.id, actor="R001")
    after = _case(engine, case.id).promised_date
    assert review.case_detail(engine, hall.id, case.case_no)["suspensions"][0]["ended_on"] == "2026-03-06"
    assert (before, after) == (date(2026, 3, 9), date(2026, 3, 12))  # promised: 5 working days
    with read_session(engine) as s:
        assert s.execute(select(Suspension.kind)).scalars().all() == ["inspection"]


def test_suspension_needs_a_known_kind(engine, hall):
    case = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=MON)
    with pytest.raises(DomainError) as err:
        review.suspend(engine, hall.id, tasks_of(engine, case.id)["SCJG"].id, "holiday", "x", 2, actor="R001")
    assert "inspection" in err.value.en


def test_extension_is_once_at_most_ten_days_with_an_approver(engine, hall):
    set_clock_to(MON)
    case = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=MON)
    with pytest.raises(DomainError):
        review.extend(engine, hall.id, case.case_no, approver="", reason="需专家论证", actor="R001")
    with pytest.raises(DomainError) as err:
        review.extend(
            engine, hall.id, case.case_no, approver="S002", reason="需专家论证", days=11, actor="R001"
        )
    assert "42" in err.value.en
    result = review.extend(
        engine, hall.id, case.case_no, approver="S002", reason="情况复杂", days=10, actor="R001"
    )
    assert result["extension_days"] == 10 and result["statutory_date"] == "2026-03-30"  # 10 + 10 working days
    with pytest.raises(DomainError) as err:
        review.extend(engine, hall.id, case.case_no, approver="S002", reason="再次", days=1, actor="R001")
    assert err.value.code == "already_extended"
    with read_session(engine) as s:
        assert s.execute(select(Extension.approver)).scalars().all() == ["李明（S002）"]


def test_pickup_is_a_visit_and_completes_the_case(engine, hall):
    set_clock_to(MON)
    case = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=MON)
    with pytest.raises(DomainError):
        review.record_pickup(engine, hall.id, case.case_no, 3, actor="C001")
    approve(engine, hall.id, tasks_of(engine, case.id)["SCJG"].id, "R001")
    result = review.record_pickup(engine, hall.id, case.case_no, 3, actor="C001")
    assert result["case_status"] == "completed"
    assert review.case_detail(engine, hall.id, case.case_no)["visits"] == 2
    with read_session(engine) as s:
        assert s.execute(
            select(Visit.purpose).where(Visit.case_id == case.id).order_by(Visit.id)
        ).scalars().all() == [
            "submit",
            "pickup",
        ]


def test_posted_result_records_the_tracking_number(engine, hall):
    case = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=MON)
    approve(engine, hall.id, tasks_of(engine, case.id)["SCJG"].id, "R001")
    result = review.record_posted(engine, hall.id, case.case_no, "EMS1234567890", actor="C001")
    doc = get_document(engine, hall.id, result["documents"][0])
    assert doc.payload["delivery"] == {"method": "post", "window": None, "tracking_no": "EMS1234567890"}
    assert _case(engine, case.id).status == "completed"


def test_deficiency_case_gets_no_result_until_the_supplement_arrives(engine, hall):
    set_clock_to(MON)
    case = make_accepted_case(
        engine,
        hall.id,
        JOINT_ITEM,
        accepted_on=MON,
        outcome="deficiency",
        supplement_deadline=date(2026, 3, 6),
    )
    tasks = tasks_of(engine, case.id)
    approve(engine, hall.id, tasks["SCJG"].id, "R001")
    decided = approve(engine, hall.id, tasks["XZSP"].id, "R009")
    # the written decision (Art. 38), but no "come and collect" yet
    assert decided["decision"] == "approved"
    assert [get_document(engine, hall.id, n).kind for n in decided["documents"]] == ["approval_decision"]
    with pytest.raises(DomainError) as err:
        review.record_pickup(engine, hall.id, case.case_no, 3, actor="C001")
    assert err.value.code == "supplement_missing" and "容缺" in err.value.zh
    with pytest.raises(DomainError):
        review.record_posted(engine, hall.id, case.case_no, "EMS1", actor="C001")
    from window_terminal.db.engine import write_session

    with write_session(engine) as s:
        s.get(Case, case.id).supplement_received_at = s.get(Case, case.id).accepted_at
    result = review.record_pickup(engine, hall.id, case.case_no, 3, actor="C001")
    assert result["case_status"] == "completed" and len(result["documents"]) == 1
    with read_session(engine) as s:
        assert s.execute(
            select(Document.kind).where(Document.case_id == case.id).order_by(Document.id)
        ).scalars().all() == ["approval_decision", "completion_notice"]


def test_task_list_is_ordered_by_deadline_and_masks_the_applicant(engine, hall):
    set_clock_to(date(2026, 3, 20))
    late = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=date(2026, 3, 19))
    early = make_accepted_case(
        engine, hall.id, JOINT_ITEM, accepted_on=date(2026, 3, 2), applicant_name="王小明"
    )
    rows = review.list_tasks(engine, hall.id, "scjg")
    assert [r["case_no"] for r in rows] == [early.case_no, late.case_no]
    assert rows[0]["applicant"] == "王**" and rows[0]["parallel"] == 2
    assert rows[0]["light"] == "red" and rows[1]["light"] == "green"
    with pytest.raises(DomainError):
        review.list_tasks(engine, hall.id, "NOPE")


def test_one_case_lookup_the_public_status_query_never_finds_a_case_by_id_number(engine, hall):
    from datetime import date

    from tests.factories import make_accepted_case
    from window_terminal.core import case_status, intake
    from window_terminal.db.engine import read_session
    from window_terminal.errors import NotFound

    case = make_accepted_case(engine, hall.id, "SCJG-0001", accepted_on=date(2026, 11, 20))
    with read_session(engine) as s:
        assert review.find_case(s, hall.id, case.query_code.lower()).id == case.id
        assert review.find_case(s, hall.id, f"#{case.id}").id == case.id
    assert intake.case_view(engine, hall.id, case.id_number).case["case_no"] == case.case_no
    assert case_status.case_status(engine, hall.id, case.query_code)["case_no"] == case.case_no
    with pytest.raises(NotFound):
        case_status.case_status(engine, hall.id, case.id_number)
    with pytest.raises(NotFound):
        case_status.case_status(engine, hall.id, str(case.id))


def test_find_case_all_digit_query_codes_and_oversized_numbers(engine, hall):
    """A query code may be all digits: it is matched as a code before anyone reads it as a row id,
    and a number too big for the id column is just not found (PostgreSQL used to refuse the query)."""
    from datetime import date

    from sqlmodel import Session

    from tests.factories import make_accepted_case
    from window_terminal.core import case_status
    from window_terminal.db.engine import read_session
    from window_terminal.db.models import Case
    from window_terminal.errors import NotFound

    first = make_accepted_case(engine, hall.id, "SCJG-0001", accepted_on=date(2026, 11, 20))
    second = make_accepted_case(engine, hall.id, "SCJG-0001", accepted_on=date(2026, 11, 20))
    with Session(engine) as s:
        row = s.get(Case, second.id)
        row.query_code = str(first.id)  # a code that reads as the first case's row id
        s.add(row)
        big = s.get(Case, first.id)
        big.query_code = "9601702992"
        s.add(big)
        s.commit()
    with read_session(engine) as s:
        assert review.find_case(s, hall.id, str(first.id)).id == second.id
        assert review.find_case(s, hall.id, f"#{first.id}").id == first.id
        assert review.find_case(s, hall.id, "9601702992").id == first.id
        with pytest.raises(NotFound):
            review.find_case(s, hall.id, "99999999999")
    assert case_status.case_status(engine, hall.id, "9601702992")["case_no"] == first.case_no
    with pytest.raises(NotFound):
        case_status.case_status(engine, hall.id, "#99999999999")


def test_ids_too_big_for_the_key_are_not_found_rather_than_refused_by_the_database(engine, hall):
    """Task, rectification, visit and ticket ids typed by a person: a number beyond the integer
    keys is simply not found (PostgreSQL used to refuse the query with 'integer out of range')."""
    from datetime import date

    from window_terminal.core import queueing, ratings
    from window_terminal.db.engine import read_session
    from window_terminal.errors import NotFound

    huge = 99_999_999_999
    with pytest.raises(NotFound):
        review.claim(engine, hall.id, huge, actor="R001")
    with pytest.raises(NotFound):
        ratings.close_rectification(engine, hall.id, huge, "done", actor="M001")
    with pytest.raises(NotFound):
        ratings.rate(engine, hall.id, 1, 5, ticket_id=huge, actor="device:RATE")
    with pytest.raises(NotFound):
        ratings.rate(engine, hall.id, 1, 5, visit_id=huge, actor="device:RATE")
    with read_session(engine) as s, pytest.raises(NotFound):
        queueing.find_ticket(s, hall.id, f"#{huge}", date(2026, 11, 20))
