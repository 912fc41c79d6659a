"""Intake on SQLite and PostgreSQL: outcomes, documents, the one-time rule, visits and handoff."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from window_terminal.core import intake as ik
from window_terminal.core import queueing as q
from window_terminal.core.catalogue import CatalogueEntry, CatalogueIndex, catalogue_index
from window_terminal.core.staff import login
from window_terminal.db import clock
from window_terminal.db.clock import db_now, local_midnight_utc
from window_terminal.db.engine import read_session
from window_terminal.db.models import Case, CaseMaterial, Event, ReviewTask, Staff, Visit
from window_terminal.errors import DomainError

ZHANG = ik.Applicant("张三", "resident_id", "11010519491231002X", "13800138000")


def checks(engine, hall, code, **statuses):
    """The default checklist of an item, with some materials (by name prefix) set to a status."""
    item = ik.item_info(engine, hall.id, code)
    out = ik.default_checks(item)
    for prefix, status in statuses.items():
        for check, material in zip(out, item.materials, strict=True):
            if material.name.startswith(prefix):
                check.status = status
    return item, out


def test_full_acceptance_numbers_the_case_and_hands_it_to_every_department(engine, hall):
    item, mats = checks(engine, hall, "XZSP-0001")  # two departments: parallel review
    r = ik.submit(
        engine,
        hall.id,
        applicant=ZHANG,
        item=item.code,
        materials=mats,
        outcome="accept",
        window=1,
        actor="C001",
    )
    assert r.status == "accepted" and r.outcome == "accepted" and r.visits == 1
    assert r.case_no.startswith("JINJ") and len(r.case_no) == 16 and len(r.query_code) == 8
    doc = r.document
    assert doc["kind"] == "acceptance_notice" and doc["case_no"] == r.case_no
    assert (
        doc["applicant"]["id_number"] == "1101**********002X" and doc["applicant"]["phone"] == "138****8000"
    )
    assert doc["window"] == 1 and doc["clerk"] == "王芳" and doc["item"]["code"] == "XZSP-0001"
    assert len(doc["materials_received"]) == sum(1 for m in item.materials if m.required)
    for key in ("received", "accepted", "promised", "statutory", "supplement_deadline"):
        assert key in doc["dates"]
    assert doc["appeal"]["reconsideration_days"] == 60 and doc["appeal"]["court"]
    with read_session(engine) as s:
        tasks = s.execute(select(ReviewTask).where(ReviewTask.case_id == r.case_id)).scalars().all()
        kinds = set(s.execute(select(Event.kind)).scalars())
    assert len(tasks) == 2 and {t.status for t in tasks} == {"pending"}
    assert {"case.submitted", "case.accepted", "case.handed_off", "document.issued", "case.visit"} <= kinds


def test_accepting_twice_with_the_same_request_creates_one_case(engine, hall):
    item, mats = checks(engine, hall, "GA-0001")
    rid = uuid.uuid4().hex
    a = ik.submit(
        engine,
        hall.id,
        applicant=ZHANG,
        item=item.code,
        materials=mats,
        outcome="accept",
        request_id=rid,
        actor="C001",
    )
    b = ik.submit(
        engine,
        hall.id,
        applicant=ZHANG,
        item=item.code,
        materials=mats,
        outcome="accept",
        request_id=rid,
        actor="C001",
    )
    assert a == b
    with read_session(engine) as s:
        assert s.execute(select(func.count()).select_from(Case)).scalar_one() == 1


def test_accept_is_refused_while_a_required_material_is_missing(engine, hall):
    item, mats = checks(engine, hall, "GA-0001", 合法稳定住所证明="missing")
    with pytest.raises(DomainError) as err:
        ik.submit(
            engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome="accept", actor="C001"
        )
    assert "一次性告知书" in err.value.zh
    with read_session(engine) as s:
        assert s.execute(select(func.count()).select_from(Case)).scalar_one() == 0


def test_notice_then_return_visit_accepts_the_same_case_with_two_visits(engine, hall):
    item, mats = checks(engine, hall, "GA-0001", 合法稳定住所证明="missing", 申请人身份证件="defective")
    first = ik.submit(
        engine,
        hall.id,
        applicant=ZHANG,
        item=item.code,
        materials=mats,
        outcome="notice",
        window=6,
        actor="C001",
    )
    assert first.status == "notice_issued" and first.document["kind"] == "one_time_notice"
    listed = [m["name"] for m in first.document["materials_missing"]]
    assert listed == ["申请人身份证件", "合法稳定住所证明"]
    assert all(m["form"] for m in first.document["materials_missing"])
    # the applicant comes back with both, found by ID number
    view = ik.case_view(engine, hall.id, "11010519491231002X")
    assert view.case["case_no"] == first.case_no
    back = [ik.MaterialCheck(m["material_id"], "received") for m in view.materials if m["in_notice"]]
    done = ik.supplement(engine, hall.id, first.case_no, back, window=6, actor="C001")
    assert done.case_no == first.case_no and done.status == "accepted" and done.visits == 2
    with read_session(engine) as s:  # the return visit is recorded at window 6
        from window_terminal.db.models import Window

        at = s.execute(select(Visit.purpose, Window.number).join(Window, Window.id == Visit.window_id)).all()
        assert sorted(tuple(r) for r in at) == [("submit", 6), ("supplement", 6)]
    assert done.document["kind"] == "acceptance_notice"
    with read_session(engine) as s:
        assert s.execute(select(func.count()).select_from(Case)).scalar_one() == 1
        assert s.execute(select(func.count()).select_from(Visit)).scalar_one() == 2


def test_a_new_missing_material_after_the_notice_is_refused_under_article_32(engine, hall):
    item, mats = checks(engine, hall, "GA-0001", 合法稳定住所证明="missing")
    first = ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome="notice", actor="C001"
    )
    other = next(m for m in item.materials if m.name == "居住证申领登记表")
    with pytest.raises(DomainError) as err:
        ik.supplement(engine, hall.id, first.case_no, [ik.MaterialCheck(other.id, "missing")], actor="C001")
    assert "第三十二条" in err.value.zh and "Art. 32" in err.value.en
    with read_session(engine) as s:
        assert s.execute(select(func.count()).select_from(Visit)).scalar_one() == 1  # nothing written


def test_a_manager_override_allows_a_second_notice_recorded_as_a_breach(engine, hall):
    item, mats = checks(engine, hall, "GA-0001", 合法稳定住所证明="missing")
    first = ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome="notice", actor="C001"
    )
    other = next(m for m in item.materials if m.name == "居住证申领登记表")
    with pytest.raises(DomainError) as err:  # a clerk is not a manager
        ik.supplement(
            engine,
            hall.id,
            first.case_no,
            [ik.MaterialCheck(other.id, "missing")],
            override=ik.Override("C001", "1234", "表格版本更新"),
            actor="C001",
        )
    assert err.value.code == "forbidden" and "case.override_once" in err.value.zh
    r = ik.supplement(
        engine,
        hall.id,
        first.case_no,
        [ik.MaterialCheck(other.id, "missing")],
        override=ik.Override("M001", "1234", "表格版本更新"),
        actor="C001",
    )
    assert r.notice_breach and r.status == "notice_issued" and r.document["kind"] == "one_time_notice"
    assert {m["name"] for m in r.document["materials_missing"]} == {"合法稳定住所证明", "居住证申领登记表"}
    with read_session(engine) as s:
        breach = s.execute(select(Event).where(Event.kind == "case.notice_breach")).scalar_one()
    assert breach.payload["reason"] == "表格版本更新" and breach.payload["manager"] == "M001"
    with read_session(engine) as s:
        m001 = s.execute(select(Staff.id).where(Staff.hall_id == hall.id, Staff.code == "M001")).scalar_one()
    assert breach.payload == {
        "case_no": first.case_no,
        "manager_id": m001,
        "manager": "M001",
        "reason": "表格版本更新",
        "materials": ["居住证申领登记表"],
        "route": "second_notice",  # an override on the same case (issue 14: the linked-case route is another)
    }
    assert r.document["notes"] == ["经大厅管理员授权再次告知（原因：表格版本更新）。"]
    with read_session(engine) as s:
        from window_terminal.db.models import Document

        doc_case = s.execute(
            select(Document.case_id).where(Document.number == r.document_number)
        ).scalar_one()
        purposes = sorted(s.execute(select(Visit.purpose)).scalars())
    assert doc_case == r.case_id and purposes == ["submit", "supplement"]


def test_deficiency_acceptance_defers_tolerable_materials_until_a_supplement(engine, hall, hall_clock):
    hall_clock.set(datetime(2026, 9, 23, 10, 0))  # Wed; Sep 25-27 and Oct 1-7 off
    item, mats = checks(engine, hall, "SCJG-0006", 与食品经营相适应="deferred")
    r = ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome="deficiency", actor="C001"
    )
    assert r.status == "accepted" and r.outcome == "deficiency"
    doc = r.document
    assert doc["kind"] == "deficiency_acceptance_notice" and len(doc["materials_deferred"]) == 1
    # five working days (promised, and 容缺): Sep 24, 28, 29, 30, Oct 8 (was: "supplement <= promised")
    assert (doc["dates"]["supplement_deadline"], doc["dates"]["promised"]) == ("2026-10-08", "2026-10-08")
    assert (r.supplement_deadline, r.promised_date) == ("2026-10-08", "2026-10-08")
    after = ik.record_supplement(engine, hall.id, r.case_no, actor="C001")
    assert after.visits == 2
    with read_session(engine) as s:
        assert s.get(Case, r.case_id).supplement_received_at is not None
        assert "deferred" not in set(s.execute(select(CaseMaterial.status)).scalars())


def test_deficiency_is_refused_when_a_core_material_is_missing_or_not_tolerable(engine, hall):
    item, mats = checks(engine, hall, "SCJG-0006", 营业执照="deferred")
    with pytest.raises(DomainError) as err:
        ik.submit(
            engine,
            hall.id,
            applicant=ZHANG,
            item=item.code,
            materials=mats,
            outcome="deficiency",
            actor="C001",
        )
    assert err.value.code == "deferral_not_allowed"
    item, mats = checks(engine, hall, "GA-0001", 合法稳定住所证明="deferred")
    with pytest.raises(DomainError) as err:  # (was: any DomainError)
        ik.submit(
            engine,
            hall.id,
            applicant=ZHANG,
            item=item.code,
            materials=mats,
            outcome="deficiency",
            actor="C001",
        )
    assert err.value.code == "deferral_not_allowed"


def test_commitment_replaces_the_proof_and_is_recorded(engine, hall):
    item, mats = checks(engine, hall, "SCJG-0002", 经营场所使用证明="commitment")
    r = ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome="accept", actor="C001"
    )
    assert r.outcome == "commitment" and r.document["commitments"] == [{"name": "经营场所使用证明"}]
    with read_session(engine) as s:
        assert s.get(Case, r.case_id).commitment is True
    item, mats = checks(engine, hall, "GA-0001", 合法稳定住所证明="commitment")
    with pytest.raises(DomainError) as err:
        ik.submit(
            engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome="accept", actor="C001"
        )
    assert err.value.code == "commitment_not_allowed"


def test_non_acceptance_names_the_competent_office_and_appeal_rights(engine, hall):
    item, mats = checks(engine, hall, "GA-0001")
    with pytest.raises(DomainError) as err:  # (was: any DomainError)
        ik.submit(
            engine,
            hall.id,
            applicant=ZHANG,
            item=item.code,
            materials=mats,
            outcome="non_acceptance",
            reason_kind="not_competent",
            actor="C001",
        )
    assert err.value.code == "competent_office"
    r = ik.submit(
        engine,
        hall.id,
        applicant=ZHANG,
        item=item.code,
        materials=mats,
        outcome="non_acceptance",
        reason_kind="not_competent",
        competent_office="成都市公安局出入境管理支队",
        actor="C001",
    )
    doc = r.document
    assert r.status == "not_accepted" and doc["kind"] == "non_acceptance_notice"
    assert doc["competent_office"] == "成都市公安局出入境管理支队" and doc["reason_kind"] == "not_competent"
    assert doc["appeal"] == {
        "reconsideration_days": 60,
        "reconsideration_body": "成都市锦江区人民政府",
        "lawsuit_months": 6,
        "court": "成都市锦江区人民法院",
    }


def test_invalid_applicants_are_refused_before_anything_is_written(engine, hall):
    item, mats = checks(engine, hall, "GA-0001")
    for bad in (
        ik.Applicant("", "resident_id", "11010519491231002X"),
        ik.Applicant("张三", "resident_id", "110105194912310021"),
    ):
        with pytest.raises(DomainError):
            ik.submit(
                engine, hall.id, applicant=bad, item=item.code, materials=mats, outcome="accept", actor="C001"
            )
    problems = ik.applicant_problems(ik.Applicant("", "resident_id", "110105194912310021", "123"))
    assert set(problems) == {"name", "id_number", "phone"}


def test_acceptance_on_national_day_eve_skips_the_golden_week(engine, hall):
    # land the database clock on 2025-09-30 10:00 in the hall's time zone
    with read_session(engine) as s:
        now = db_now(s)
    target = local_midnight_utc(date(2025, 9, 30), hall.timezone) + timedelta(hours=10)
    clock.set_offset(target - now)
    item, mats = checks(engine, hall, "GA-0001")  # promised 7 working days
    r = ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome="accept", actor="C001"
    )
    # 10-01..10-08 off; 09-28 and 10-11 are make-up working days: 10-09, 10-10, 10-11, 10-13..10-16
    assert r.document["dates"]["accepted"] == "2025-09-30"
    assert r.promised_date == "2025-10-16"


def test_submissions_without_outcome_are_flagged_as_the_five_days_run_out(engine, hall, hall_clock):
    # Received Fri 2026-02-13. Spring Festival: Feb 15-23 off, Sat Feb 14 and Sat Feb 28 are make-up
    # working days. Five working days: Feb 14, 24, 25, 26, 27 — the notice is due Fri Feb 27 (five
    # calendar days would give Feb 18). The light is yellow from 2 working days left (yellow_days).
    item, mats = checks(engine, hall, "GA-0001")
    hall_clock.set(datetime(2026, 2, 13, 9, 30))
    r = ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome=None, actor="C001"
    )
    seen = []
    for day in (
        date(2026, 2, 13),
        date(2026, 2, 18),
        date(2026, 2, 24),
        date(2026, 2, 25),
        date(2026, 2, 27),
        date(2026, 2, 28),
    ):
        hall_clock.set(datetime.combine(day, datetime.min.time()).replace(hour=9))
        rows = ik.pending_notice_cases(engine, hall.id)
        assert [x["case_no"] for x in rows] == [r.case_no]
        assert (rows[0]["received_on"], rows[0]["notice_due"]) == ("2026-02-13", "2026-02-27")
        seen.append((day.day, rows[0]["working_days_left"], rows[0]["state"]))
    assert seen == [
        (13, 5, "ok"),
        (18, 4, "ok"),  # inside the holiday: Feb 14 counted, nothing since
        (24, 3, "ok"),
        (25, 2, "due_soon"),
        (27, 0, "due_soon"),  # the last day is still on time
        (28, -1, "deemed_accepted"),  # the make-up Saturday after it: too late
    ]
    done = ik.conclude(engine, hall.id, r.case_no, "accept", actor="C001")
    assert done.status == "accepted" and ik.pending_notice_cases(engine, hall.id) == []


def test_login_locks_after_five_wrong_pins(engine, hall):
    assert login(engine, hall.id, "c001", "1234").role == "clerk"
    for _ in range(5):
        with pytest.raises(DomainError):
            login(engine, hall.id, "C001", "0000")
    with pytest.raises(DomainError) as err:
        login(engine, hall.id, "C001", "1234")
    assert err.value.code == "locked"
    clock.set_offset(timedelta(minutes=16))
    assert login(engine, hall.id, "C001", "1234").name == "王芳"
    with read_session(engine) as s:
        assert (
            s.execute(select(func.count()).select_from(Event).where(Event.kind == "staff.login")).scalar_one()
            == 2
        )
        assert s.execute(select(Staff.failed_logins).where(Staff.code == "C001")).scalar_one() == 0


def test_catalogue_finds_items_by_initials_code_name_and_pinyin(engine, hall):
    index = catalogue_index(engine, hall.id, refresh=True)
    assert index.search("yyzz")[0].name.startswith("营业执照")
    assert index.search("ga-0001")[0].code == "GA-0001"
    assert index.search("居住证")[0].code == "GA-0001"
    assert index.search("juzhuzheng")[0].code == "GA-0001"
    assert index.search("zzzzqqq") == []
    big = CatalogueIndex(
        CatalogueEntry(i, f"X-{i:04d}", f"事项{i}", "BIZ", f"shixiang{i}", f"sx{i}") for i in range(1000)
    )
    assert len(big.search("sx99")) == 11


def test_counter_view_shows_the_window_its_lines_and_the_ticket_in_hand(engine, hall):
    q.set_window_status(engine, hall.id, 2, "open", actor="C002")
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    q.call_next(engine, hall.id, 2, actor="C002")
    view = ik.counter_view(engine, hall.id, 2)
    assert view["staff"] == "李静" and view["window_status"] == "open"
    assert [x["line"] for x in view["lines"]] == ["BIZ"] and view["lines"][0]["waiting"] == 1
    assert view["in_hand"]["number"] == "A001"
    assert datetime.fromisoformat(view["now"]).tzinfo is not None


def test_counter_view_keeps_a_ticket_called_before_midnight_in_hand(engine, hall):
    """Past local midnight the counter shows the ticket it still holds, until the close of its day
    (missed here: the next call of the day does it first) ends it as unserved, by the system."""
    from window_terminal.db.engine import write_session
    from window_terminal.db.models import Ticket

    q.set_window_status(engine, hall.id, 2, "open", actor="C002")
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    called = q.call_next(engine, hall.id, 2, actor="C002")
    with write_session(engine) as s:  # the ticket was taken (and called) yesterday
        ticket = s.get(Ticket, called.id)
        assert ticket is not None
        ticket.service_day = ticket.service_day - timedelta(days=1)
    view = ik.counter_view(engine, hall.id, 2)
    assert view["in_hand"] is not None and view["in_hand"]["number"] == called.number
    assert q.window_in_hand(engine, hall.id, 2).number == called.number
    assert q.call_next(engine, hall.id, 2, actor="C002") is None  # the past day closed first: none waits
    with read_session(engine) as s:
        assert s.get(Ticket, called.id).status == "unserved"
    assert ik.counter_view(engine, hall.id, 2)["in_hand"] is None


# --- the one-time rule, value by value (issue 20) ---------------------------------------------------


def _rows(engine, case_id):
    from window_terminal.db.models import Material

    with read_session(engine) as s:
        return {
            name: (row.status, row.in_notice, row.originals, row.copies, row.supplemented_at is not None)
            for row, name in s.execute(
                select(CaseMaterial, Material.name)
                .join(Material, Material.id == CaseMaterial.material_id)
                .where(CaseMaterial.case_id == case_id)
            ).all()
        }


def test_a_partial_supplement_keeps_the_notice_open_until_the_last_listed_material(engine, hall):
    item, mats = checks(engine, hall, "GA-0001", 合法稳定住所证明="missing", 申请人身份证件="defective")
    first = ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome="notice", actor="C001"
    )
    by_name = {m.name: m for m in item.materials}
    ident, home, form = by_name["申请人身份证件"], by_name["合法稳定住所证明"], by_name["居住证申领登记表"]
    before = _rows(engine, first.case_id)
    assert before["申请人身份证件"][:2] == ("defective", True) and before["合法稳定住所证明"][:2] == (
        "missing",
        True,
    )
    assert before["居住证申领登记表"][:2] == ("received", False)

    # brings the ID card only; also says the (received, unlisted) form is now "defective": ignored
    part = ik.supplement(
        engine,
        hall.id,
        first.case_no,
        [ik.MaterialCheck(ident.id, "received"), ik.MaterialCheck(form.id, "received", note="换新表")],
        actor="C001",
    )
    assert (part.status, part.document, part.visits, part.notice_breach) == ("notice_issued", None, 2, False)
    rows = _rows(engine, first.case_id)
    # a received material without counts takes the item's own (originals, copies); supplemented_at is set
    assert rows["申请人身份证件"] == ("received", True, ident.originals, ident.copies, True)
    assert rows["合法稳定住所证明"] == ("missing", True, 0, 0, False)
    assert rows["居住证申领登记表"] == before["居住证申领登记表"]  # not on the notice: untouched
    with read_session(engine) as s:
        partial = s.execute(select(Event).where(Event.kind == "case.supplement_partial")).scalar_one()
    assert partial.payload == {"case_no": first.case_no, "still_missing": 1}

    done = ik.supplement(
        engine,
        hall.id,
        first.case_no,
        [ik.MaterialCheck(home.id, "received", originals=2, copies=3)],
        actor="C001",
    )
    assert (done.status, done.outcome, done.visits) == ("accepted", "accepted", 3)
    assert done.document["kind"] == "acceptance_notice"
    assert _rows(engine, first.case_id)["合法稳定住所证明"] == ("received", True, 2, 3, True)


def test_the_frozen_notice_names_the_new_materials_and_writes_nothing(engine, hall):
    item, mats = checks(engine, hall, "GA-0001", 合法稳定住所证明="missing")
    first = ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome="notice", actor="C001"
    )
    by_name = {m.name: m for m in item.materials}
    new = [
        ik.MaterialCheck(by_name["居住证申领登记表"].id, "defective"),
        ik.MaterialCheck(by_name["申请人身份证件"].id, "missing"),
    ]
    with pytest.raises(DomainError) as err:
        ik.supplement(engine, hall.id, first.case_no, new, actor="C001")
    assert err.value.code == "notice_frozen"
    assert err.value.zh == (
        "“居住证申领登记表、申请人身份证件”不在已出具的一次性告知书中：依《行政许可法》第三十二条，"
        "补正材料须一次性告知，不得再次要求新的材料；如确需再次告知，请大厅管理员授权"
    )
    assert err.value.en == (
        "居住证申领登记表, 申请人身份证件 not on the one-time notice already issued: under Art. 32 of the "
        "Administrative Licensing Law everything must be notified once; a hall manager must authorise a second notice"
    )
    # a listed material may still be reported missing again: that is no new requirement
    again = ik.supplement(
        engine,
        hall.id,
        first.case_no,
        [ik.MaterialCheck(by_name["合法稳定住所证明"].id, "missing")],
        actor="C001",
    )
    assert (again.status, again.notice_breach, again.visits) == ("notice_issued", False, 2)
    with pytest.raises(DomainError) as err:  # an override needs a reason before anything else
        ik.supplement(
            engine, hall.id, first.case_no, new, override=ik.Override("M001", "1234", "  "), actor="C001"
        )
    assert (err.value.code, err.value.zh, err.value.en) == (
        "override_reason",
        "管理员授权须填写原因",
        "a manager override needs a reason",
    )
    with read_session(engine) as s:
        assert s.execute(select(func.count()).select_from(Visit)).scalar_one() == 2
        assert (
            s.execute(
                select(func.count()).select_from(Event).where(Event.kind == "case.notice_breach")
            ).scalar_one()
            == 0
        )


def test_a_supplement_is_refused_once_the_case_is_no_longer_awaiting_one(engine, hall):
    item, mats = checks(engine, hall, "GA-0001")
    r = ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome="accept", actor="C001"
    )
    with pytest.raises(DomainError) as err:
        ik.supplement(engine, hall.id, r.case_no, [], actor="C001")
    assert (err.value.code, err.value.zh, err.value.en) == (
        "bad_state",
        f"办件 {r.case_no} 当前状态为 accepted，不是待补正",
        f"case {r.case_no} is accepted, not awaiting a supplement",
    )


def test_a_notice_lists_every_missing_and_defective_material_and_freezes_them(engine, hall):
    item, mats = checks(engine, hall, "GA-0001", 合法稳定住所证明="missing", 申请人身份证件="defective")
    with pytest.raises(DomainError) as err:  # nothing marked: no notice
        ik.submit(
            engine,
            hall.id,
            applicant=ZHANG,
            item=item.code,
            materials=checks(engine, hall, "GA-0001")[1],
            outcome="notice",
            actor="C001",
        )
    assert (err.value.code, err.value.zh) == (
        "nothing_missing",
        "没有标记为缺少或不合格的材料：一次性告知书须列明需补正的全部材料",
    )
    r = ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome="notice", actor="C001"
    )
    assert (r.status, r.outcome) == ("notice_issued", None)
    assert r.document["notes"] == ["本告知书一次性告知需补正的全部材料；补齐后即予受理。"]
    with read_session(engine) as s:
        event = s.execute(select(Event).where(Event.kind == "case.notice_issued")).scalar_one()
    assert event.payload["materials"] == ["申请人身份证件", "合法稳定住所证明"]
    assert {name for name, row in _rows(engine, r.case_id).items() if row[1]} == {
        "申请人身份证件",
        "合法稳定住所证明",
    }


REFUSED_OUTCOMES = [
    (
        "GA-0001",
        {"合法稳定住所证明": "missing"},
        "accept",
        {},
        "materials_incomplete",
        "材料不齐（合法稳定住所证明）：请出具一次性告知书，或对可容缺材料办理容缺受理",
        "materials incomplete (合法稳定住所证明): issue a one-time notice, or accept with deferred tolerable materials",
    ),
    (
        "GA-0001",
        {"合法稳定住所证明": "deferred"},
        "deficiency",
        {},
        "deferral_not_allowed",
        "“合法稳定住所证明”不在容缺清单内：只有可容缺材料可以后补",
        "'合法稳定住所证明' is not a tolerable material: only those may be supplied later",
    ),
    (
        "SCJG-0006",
        {"营业执照": "missing"},
        "deficiency",
        {},
        "core_missing",
        "核心材料不齐（营业执照）：不能容缺受理，请出具一次性告知书",
        "core materials missing (营业执照): issue a one-time notice instead",
    ),
    (
        "SCJG-0006",
        {},
        "deficiency",
        {},
        "nothing_deferred",
        "没有标记为容缺（后补）的材料：材料齐全时请直接受理",
        "no material is marked deferred: accept the case directly",
    ),
    (
        "GA-0001",
        {},
        "non_acceptance",
        {"reason_kind": "other"},
        "reason_kind",
        "请选择不予受理的理由：不需要取得行政许可，或不属于本机关职权范围",
        "choose the reason for non-acceptance: one of ('no_licence_needed', 'not_competent')",
    ),
    (
        "GA-0001",
        {},
        "non_acceptance",
        {"reason_kind": "not_competent", "competent_office": "  "},
        "competent_office",
        "不属于本机关职权范围时须告知有权机关：请填写有权机关名称",
        "when the matter is another office's competence, name that office",
    ),
    (
        "GA-0001",
        {},
        "approve",
        {},
        "refused",
        "办理结果 approve 无效",
        "outcome must be one of ('accept', 'notice', 'deficiency', 'non_acceptance')",
    ),
]


@pytest.mark.parametrize(
    ("code", "statuses", "outcome", "extra", "err_code", "zh", "en"),
    REFUSED_OUTCOMES,
    ids=[row[4] for row in REFUSED_OUTCOMES],
)
def test_each_refused_outcome_says_exactly_why_and_writes_nothing(
    engine, hall, code, statuses, outcome, extra, err_code, zh, en
):
    item, mats = checks(engine, hall, code, **statuses)
    with pytest.raises(DomainError) as err:
        ik.submit(
            engine,
            hall.id,
            applicant=ZHANG,
            item=item.code,
            materials=mats,
            outcome=outcome,
            actor="C001",
            **extra,
        )
    assert (err.value.code, err.value.zh, err.value.en) == (err_code, zh, en)
    with read_session(engine) as s:
        assert s.execute(select(func.count()).select_from(Case)).scalar_one() == 0


def test_accepting_with_a_deferred_material_names_it_and_a_non_acceptance_gives_its_reason(engine, hall):
    item, mats = checks(engine, hall, "SCJG-0006", 与食品经营相适应="deferred")
    deferred = next(m.name for m in item.materials if m.name.startswith("与食品经营相适应"))
    with pytest.raises(DomainError) as err:
        ik.submit(
            engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome="accept", actor="C001"
        )
    assert err.value.zh == f"材料不齐（{deferred}）：请出具一次性告知书，或对可容缺材料办理容缺受理"
    assert f"materials incomplete ({deferred})" in err.value.en
    reasons = {}
    for kind in ("no_licence_needed", "not_competent"):
        item, mats = checks(engine, hall, "GA-0001")
        r = ik.submit(
            engine,
            hall.id,
            applicant=ZHANG,
            item=item.code,
            materials=mats,
            outcome="non_acceptance",
            reason_kind=kind,
            competent_office="市公安局",
            actor="C001",
        )
        assert (r.status, r.outcome, r.document["reason_kind"]) == ("not_accepted", "not_accepted", kind)
        reasons[kind] = (r.document["reason"], r.document["competent_office"])
    # No reason typed: the document keeps the clerk's words only (none), and the notice states the legal
    # ground of the kind once (issue 14: a default reason printed the sentence twice).
    assert reasons == {"no_licence_needed": ("", "市公安局"), "not_competent": ("", "市公安局")}


def test_a_supplement_that_completes_the_notice_records_the_ticket_window_and_acceptance(engine, hall):
    """The return visit's ticket and window are kept on the visit, on the acceptance notice and on its
    events; the notice says why the case is now accepted; a retry with the same request id is the
    same supplement, not a second visit."""
    from window_terminal.db.models import Document, Window

    item, mats = checks(engine, hall, "GA-0001", 合法稳定住所证明="missing", 申请人身份证件="defective")
    first = ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome="notice", actor="C001"
    )
    by_name = {m.name: m for m in item.materials}
    ident, home = by_name["申请人身份证件"], by_name["合法稳定住所证明"]
    # the listed ID card is still defective: the notice stays open and says how many are still missing
    still = ik.supplement(
        engine,
        hall.id,
        first.case_no,
        [ik.MaterialCheck(ident.id, "defective", note="已过有效期"), ik.MaterialCheck(home.id, "received")],
        actor="C001",
    )
    assert (still.status, still.document, still.visits) == ("notice_issued", None, 2)
    assert _rows(engine, first.case_id)["申请人身份证件"] == ("defective", True, 0, 0, False)
    with read_session(engine) as s:
        note = s.execute(
            select(CaseMaterial.note).where(
                CaseMaterial.case_id == first.case_id, CaseMaterial.material_id == ident.id
            )
        ).scalar_one()
        partial = s.execute(select(Event).where(Event.kind == "case.supplement_partial")).scalar_one()
    assert note == "已过有效期" and partial.payload == {"case_no": first.case_no, "still_missing": 1}

    ticket = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    request = str(uuid.uuid4())

    def bring_the_id_card() -> ik.CaseResult:
        return ik.supplement(
            engine,
            hall.id,
            first.case_no,
            [ik.MaterialCheck(ident.id, "received", originals=1, copies=2)],
            window=6,
            ticket_id=ticket.id,
            actor="C001",
            request_id=request,
        )

    done = bring_the_id_card()
    assert (done.status, done.outcome, done.visits) == ("accepted", "accepted", 3)
    assert done.document["kind"] == "acceptance_notice"
    assert done.document["notes"] == ["补正材料已收齐，予以受理。"]
    assert {m["name"] for m in done.document["materials_missing"]} == set()
    assert bring_the_id_card() == done  # a retry (same request id) gets the stored answer
    assert _rows(engine, first.case_id)["申请人身份证件"] == ("received", True, 1, 2, True)
    with read_session(engine) as s:
        window6 = s.execute(
            select(Window.id).where(Window.hall_id == hall.id, Window.number == 6)
        ).scalar_one()
        visits = s.execute(select(Visit.purpose, Visit.ticket_id, Visit.window_id).order_by(Visit.id)).all()
        doc = s.execute(select(Document).where(Document.number == done.document_number)).scalar_one()
        issued = s.execute(
            select(Event).where(
                Event.kind == "document.issued", Event.payload["number"].as_string() == doc.number
            )
        ).scalar_one()
        last_visit = s.execute(
            select(Event).where(Event.kind == "case.visit").order_by(Event.id.desc()).limit(1)
        ).scalar_one()
    assert [tuple(v) for v in visits] == [
        ("submit", None, None),
        ("supplement", None, None),
        ("supplement", ticket.id, window6),
    ]
    assert (doc.kind, doc.case_id, doc.ticket_id) == ("acceptance_notice", first.case_id, ticket.id)
    assert issued.window_id == window6 and issued.payload["ticket_id"] == ticket.id
    assert last_visit.payload == {"case_no": first.case_no, "purpose": "supplement", "ticket_id": ticket.id}
    assert last_visit.window_id == window6


def test_a_second_notice_under_override_freezes_the_new_material_and_keeps_the_ticket(engine, hall):
    """After a manager's second notice the new material is on the notice like the first ones: its
    return is checked, and the case is accepted once both are brought."""
    from window_terminal.db.models import Document

    item, mats = checks(engine, hall, "GA-0001", 合法稳定住所证明="missing")
    first = ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome="notice", actor="C001"
    )
    by_name = {m.name: m for m in item.materials}
    home, form = by_name["合法稳定住所证明"], by_name["居住证申领登记表"]
    before = _rows(engine, first.case_id)
    ticket = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    second = ik.supplement(
        engine,
        hall.id,
        first.case_no,
        [ik.MaterialCheck(form.id, "defective", note="旧版表格")],
        override=ik.Override("M001", "1234", "表格版本更新"),
        ticket_id=ticket.id,
        actor="C001",
    )
    assert (second.status, second.notice_breach) == ("notice_issued", True)
    rows = _rows(engine, first.case_id)
    # now on the notice (its counts from the first visit are kept: it was there, found wanting)
    assert rows["居住证申领登记表"] == ("defective", True, *before["居住证申领登记表"][2:4], False)
    assert rows["合法稳定住所证明"] == ("missing", True, 0, 0, False)
    with read_session(engine) as s:
        doc = s.execute(select(Document).where(Document.number == second.document_number)).scalar_one()
    assert (doc.kind, doc.ticket_id, doc.case_id) == ("one_time_notice", ticket.id, first.case_id)
    # the new material is listed now: bringing only it keeps the notice open, both close it
    part = ik.supplement(
        engine, hall.id, first.case_no, [ik.MaterialCheck(form.id, "received")], actor="C001"
    )
    assert (part.status, part.document, part.notice_breach) == ("notice_issued", None, True)
    done = ik.supplement(
        engine, hall.id, first.case_no, [ik.MaterialCheck(home.id, "received")], actor="C001"
    )
    assert (done.status, done.document["kind"], done.visits) == ("accepted", "acceptance_notice", 4)


def test_a_company_with_a_wrong_credit_code_is_refused_in_each_language_with_its_own_label(engine, hall):
    """Issue 28: a made-up 统一社会信用代码 was accepted, and an English refusal began "申请人: …"."""
    item, mats = checks(engine, hall, "XZSP-0001")
    company = ik.Applicant("成都某某科技有限公司", "credit_code", "91510104MA6C12345X", "028-84452345")
    with pytest.raises(DomainError) as err:
        ik.submit(
            engine,
            hall.id,
            applicant=company,
            item=item.code,
            materials=mats,
            outcome="accept",
            window=1,
            actor="C001",
        )
    assert err.value.zh == "申请人：统一社会信用代码校验位不正确，请核对最后一位"
    assert (
        err.value.en
        == "applicant: unified social credit code check character is wrong; check the last character"
    )
    bad_agent = ik.Applicant("李四", "resident_id", "110105194912310021", "")
    with pytest.raises(DomainError) as err:
        ik.submit(
            engine,
            hall.id,
            applicant=ZHANG,
            agent=bad_agent,
            item=item.code,
            materials=mats,
            outcome="accept",
            window=1,
            actor="C001",
        )
    assert err.value.en == "agent: ID number check digit is wrong; check the last character"
    assert err.value.zh == "代理人：身份证号校验位不正确，请核对最后一位"
    with read_session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0  # nothing half-written
    genuine = ik.Applicant("某某有限公司", "credit_code", "91350100m000100y43", "028-84452345")
    r = ik.submit(
        engine,
        hall.id,
        applicant=genuine,
        item=item.code,
        materials=mats,
        outcome="accept",
        window=1,
        actor="C001",
    )
    with read_session(engine) as s:
        assert s.get(Case, r.case_id).id_number == "91350100M000100Y43"
