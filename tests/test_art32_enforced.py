"""Art. 32 enforced: the receipt of materials starts the clock; past the limit the application IS
accepted as of the receipt; "once" holds per applicant and item; breaches count on the day they occur.

Dates hand-checked against the 2026 arrangement (国办发明电〔2025〕7号): National Day 10-01..10-07 off,
10-10 (Saturday) a make-up working day. Received Wednesday 2026-09-30: the five working days are
10-08, 10-09, 10-10, 10-12, 10-13 → the notice limit ends 10-13; deemed accepted from 10-14. Item
GA-0001 (promised 7, statutory 15 working days) counted from 09-30: promised 10-15 (10-08, 09, 10,
12, 13, 14, 15), statutory 10-27 (… 10-16, 19, 20, 21, 22, 23, 26, 27).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.test_intake import checks
from window_terminal.core import intake as ik
from window_terminal.core.reports.queries import period_report
from window_terminal.core.supervision import watch_list
from window_terminal.db import clock
from window_terminal.db.clock import db_now, local_midnight_utc
from window_terminal.db.engine import read_session
from window_terminal.db.models import Case, Document, Event
from window_terminal.errors import DomainError

ZHANG = ik.Applicant("张三", "resident_id", "11010519491231002X", "13800138000")
RECEIVED = date(2026, 9, 30)


def at(engine, hall, day: date, hour: int = 10) -> None:
    """Land the database clock on ``day`` at ``hour`` in the hall's time zone."""
    clock.set_offset(timedelta(0))
    with read_session(engine) as s:
        now = db_now(s)
    clock.set_offset(local_midnight_utc(day, hall.timezone) + timedelta(hours=hour) - now)


def received(engine, hall, **statuses):
    at(engine, hall, RECEIVED)
    item, mats = checks(engine, hall, "GA-0001", **statuses)
    return ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome=None, window=1, actor="C001"
    )


def headline(engine, hall, day: date) -> dict:
    report = period_report(engine, hall.id, day, day)
    return {r["figure"]: r["value"] for r in report.table("headline").rows}


def test_materials_taken_in_without_an_outcome_get_a_receipt_that_starts_the_clock(engine, hall):
    r = received(engine, hall)
    doc = r.document
    assert r.status == "submitted" and doc["kind"] == "materials_receipt" and doc["title"] == "收件凭证"
    assert doc["dates"]["received"] == "2026-09-30" and doc["dates"]["notice_due"] == "2026-10-13"
    assert doc["received_at"].startswith("2026-09-30T10:00")
    assert doc["applicant"]["name"] == "张三" and doc["item"]["code"] == "GA-0001"
    assert {m["name"] for m in doc["materials_received"]} >= {"居住证申领登记表", "申请人身份证件"}
    assert all({"originals", "copies"} <= set(m) for m in doc["materials_received"])


def test_on_the_last_day_of_the_limit_a_clerk_may_still_issue_the_notice(engine, hall):
    r = received(engine, hall, 合法稳定住所证明="missing")
    at(engine, hall, date(2026, 10, 13))
    done = ik.conclude(engine, hall.id, r.case_no, "notice", actor="C001")
    assert done.status == "notice_issued" and not done.notice_breach
    # the notice went out in time: Art. 32's clock stopped, nothing shows red for it afterwards
    at(engine, hall, date(2026, 10, 20))
    assert [e for e in watch_list(engine, hall.id) if e["case_no"] == r.case_no] == []


def test_past_the_limit_a_clerk_cannot_issue_a_notice_and_the_acceptance_dates_from_the_receipt(engine, hall):
    r = received(engine, hall, 合法稳定住所证明="missing")
    at(engine, hall, date(2026, 10, 14))
    (light,) = [e for e in watch_list(engine, hall.id) if e["case_no"] == r.case_no]
    assert light["kind"] == "notice" and light["light"] == "red" and light["deadline"] == "2026-10-13"
    for outcome in ("notice", "non_acceptance"):
        with pytest.raises(DomainError) as err:
            ik.conclude(engine, hall.id, r.case_no, outcome, reason_kind="no_licence_needed", actor="C001")
        assert err.value.code == "deemed_accepted" and "第三十二条" in err.value.zh
    at(engine, hall, date(2026, 10, 16))  # keyed two days later still counts from 09-30
    item, mats = checks(engine, hall, "GA-0001")
    done = ik.conclude(engine, hall.id, r.case_no, "accept", materials=mats, actor="C001")
    assert done.status == "accepted" and done.promised_date == "2026-10-15"
    assert done.document["dates"]["accepted"] == "2026-09-30"
    assert done.document["dates"]["statutory"] == "2026-10-27" and done.document["deemed"] is True
    with read_session(engine) as s:
        case = s.execute(select(Case).where(Case.case_no == r.case_no)).scalar_one()
        event = s.execute(select(Event).where(Event.kind == "case.deemed_accepted")).scalar_one()
    assert case.deemed_accepted and case.accepted_on == RECEIVED and case.statutory_date == date(2026, 10, 27)
    assert event.payload["deemed_on"] == "2026-10-14" and event.payload["notice_due"] == "2026-10-13"


def test_the_sweep_accepts_every_overdue_submission_as_of_its_receipt(engine, hall):
    r = received(engine, hall)
    at(engine, hall, date(2026, 10, 13))
    assert ik.apply_deemed_acceptances(engine, hall.id, actor="C001") == []  # the last day: not yet
    at(engine, hall, date(2026, 10, 14))
    (done,) = ik.apply_deemed_acceptances(engine, hall.id, actor="C001")
    assert done["case_no"] == r.case_no and done["accepted_on"] == "2026-09-30"
    assert done["promised_date"] == "2026-10-15"
    assert ik.apply_deemed_acceptances(engine, hall.id, actor="C001") == []  # once
    with read_session(engine) as s:
        doc = s.execute(select(Document).where(Document.number == done["document"])).scalar_one()
    assert doc.kind == "acceptance_notice" and doc.payload["deemed"] is True
    assert doc.payload["dates"]["accepted"] == "2026-09-30"
    assert [
        e for e in watch_list(engine, hall.id) if e["case_no"] == r.case_no and e["kind"] == "notice"
    ] == []


def test_a_manager_may_record_a_late_notice_counted_as_a_breach_on_its_own_day(engine, hall):
    r = received(engine, hall, 合法稳定住所证明="missing")
    at(engine, hall, date(2026, 10, 15))
    late = ik.conclude(engine, hall.id, r.case_no, "notice", actor="M001")
    assert late.status == "notice_issued" and late.notice_breach
    with read_session(engine) as s:
        breach = s.execute(select(Event).where(Event.kind == "case.notice_breach")).scalar_one()
    assert breach.payload["route"] == "late_notice"
    at(engine, hall, date(2026, 10, 20))
    # each on the day it happened: deemed on 10-14, the late notice on 10-15; none on the receipt day
    assert headline(engine, hall, RECEIVED)["notice_breaches"] == 0
    assert headline(engine, hall, RECEIVED)["deemed_acceptances"] == 0
    assert headline(engine, hall, date(2026, 10, 14))["deemed_acceptances"] == 1
    assert headline(engine, hall, date(2026, 10, 14))["notice_breaches"] == 0
    assert headline(engine, hall, date(2026, 10, 15))["notice_breaches"] == 1


def test_a_daily_report_does_not_change_after_the_fact(engine, hall):
    r = received(engine, hall, 合法稳定住所证明="missing")
    ik.conclude(engine, hall.id, r.case_no, "notice", actor="C001")  # in time, on the receipt day
    before = headline(engine, hall, RECEIVED)
    item, mats = checks(engine, hall, "GA-0001", 合法稳定住所证明="missing")
    other = next(m for m in item.materials if m.name == "居住证申领登记表")
    at(engine, hall, date(2026, 10, 9))
    ik.supplement(
        engine,
        hall.id,
        r.case_no,
        [ik.MaterialCheck(other.id, "missing")],
        override=ik.Override("M001", "1234", "表格版本更新"),
        actor="C001",
    )
    assert headline(engine, hall, RECEIVED) == before and before["notice_breaches"] == 0
    assert headline(engine, hall, date(2026, 10, 9))["notice_breaches"] == 1


def test_a_new_case_for_the_same_applicant_and_item_is_linked_and_cannot_notify_again(engine, hall):
    at(engine, hall, RECEIVED)
    item, mats = checks(engine, hall, "GA-0001", 合法稳定住所证明="missing")
    first = ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome="notice", actor="C001"
    )
    at(engine, hall, date(2026, 10, 9))
    _, more = checks(engine, hall, "GA-0001", 合法稳定住所证明="missing", 居住证申领登记表="defective")
    with pytest.raises(DomainError) as err:
        ik.submit(
            engine, hall.id, applicant=ZHANG, item=item.code, materials=more, outcome="notice", actor="C002"
        )
    assert err.value.code == "notice_once_applicant"
    assert (
        first.document_number in err.value.zh and "合法稳定住所证明" in err.value.zh
    )  # the earlier notice shown
    # what the earlier notice already said may be repeated (nothing new is asked)
    again = ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome="notice", actor="C002"
    )
    assert not again.notice_breach and again.extra["earlier"]["notice"] == first.document_number
    # a manager's override lets it through, as the same breach as a second notice on one case
    second = ik.submit(
        engine,
        hall.id,
        applicant=ZHANG,
        item=item.code,
        materials=more,
        outcome="notice",
        override=ik.Override("M001", "1234", "申请人更换了表格版本"),
        actor="C002",
    )
    assert second.notice_breach and second.extra["earlier"]["case_no"] == first.case_no
    with read_session(engine) as s:
        linked = s.execute(select(Case).where(Case.case_no == second.case_no)).scalar_one()
        breach = s.execute(select(Event).where(Event.kind == "case.notice_breach")).scalar_one()
    assert linked.earlier_case_id == first.case_id and breach.payload["route"] == "earlier_case"
    assert headline(engine, hall, date(2026, 10, 9))["notice_breaches"] == 1
    # another applicant is not linked
    li = ik.Applicant("李四", "resident_id", "110105198001010016", "13900139000")
    other = ik.submit(
        engine, hall.id, applicant=li, item=item.code, materials=more, outcome="notice", actor="C002"
    )
    assert "earlier" not in other.extra and not other.notice_breach
