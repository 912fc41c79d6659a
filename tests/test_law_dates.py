"""Dates the law fixes never move (issue 28), and the earlier notice of the same applicant and item.

* Art. 32(1)(4): once the notice limit passed without a notice, the application counts as accepted
  on the receipt day whatever follows — a late notice a manager records (a breach) and the later
  supplement neither move the acceptance date nor any date counted from it; the record and the
  report agree.
* Art. 42: an extension is decided by the case's own department, approved by a named head of that
  department who may approve (staff.toml ``approves_extensions``), and moves the statutory date only;
  a promise already missed stays missed.
* Art. 32 "once" per applicant and item: the clerk sees the earlier notice in the intake before
  deciding, and accepting the new case closes the earlier one, visibly.

Dates hand-checked against the 2026 arrangement. GA-0001 (promised 7, statutory 15 working days)
received Wednesday 09-30: National Day 10-01..10-07 off, Saturday 10-10 a make-up working day; the
notice limit ends 10-13; counted from 09-30 the promised date is 10-15 and the statutory 10-27.
SCJG-0006 (promised 5, statutory 10) accepted Monday 03-02: promised 03-09, statutory 03-16; an
extension of 10 working days: statutory 03-30, promised still 03-09.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import date

import pytest
from sqlalchemy import func, select, update
from textual.widgets import Input

from tests.conftest import QUEUE, sign_in, signed_out_env
from tests.factories import SINGLE_DEPT_ITEM, make_accepted_case, set_clock_to, tasks_of
from tests.test_art32_enforced import RECEIVED, ZHANG, at, headline, received
from tests.test_backoffice_screen import _app as backoffice_app
from tests.test_backoffice_screen import settle as backoffice_settle
from tests.test_cli import wt
from tests.test_counter_screen import (
    GOOD_ID,
    call_and_open_intake,
    choose_item,
    counter_app,
    fill_applicant,
    press,
    preview_shown,
    settle,
    text_of,
)
from tests.test_documents_render import pdf_text
from tests.test_intake import checks
from window_terminal.config import Settings
from window_terminal.core import intake as ik
from window_terminal.core import queueing as q
from window_terminal.core import review
from window_terminal.core.case_status import case_status
from window_terminal.core.document_store import get_document
from window_terminal.core.documents import render_pdf
from window_terminal.core.hall import HallDefinitionError, load_hall, resolve_hall
from window_terminal.core.reports.queries import period_report
from window_terminal.core.supervision import watch_list
from window_terminal.db import clock
from window_terminal.db.engine import make_engine, read_session, write_session
from window_terminal.db.models import Case, Document, Event, Extension
from window_terminal.errors import DomainError

MON = date(2026, 3, 2)


def the_case(engine, case_no: str) -> Case:
    with read_session(engine) as s:
        return s.execute(select(Case).where(Case.case_no == case_no)).scalar_one()


def deemed_records(engine) -> int:
    with read_session(engine) as s:
        return int(s.execute(select(func.count()).select_from(Case).where(Case.deemed_accepted)).scalar_one())


def supplied(engine, hall, case_no: str) -> ik.CaseResult:
    """The applicant brings the material the notice listed (合法稳定住所证明)."""
    item = ik.item_info(engine, hall.id, "GA-0001")
    material = next(m for m in item.materials if m.name.startswith("合法稳定住所证明"))
    return ik.supplement(engine, hall.id, case_no, [ik.MaterialCheck(material.id, "received")], actor="C001")


# --- Art. 32(1)(4): deemed acceptance fixes the acceptance date ---------------------------------------


def test_a_supplement_after_a_late_notice_keeps_the_acceptance_on_the_receipt_day(engine, hall):
    r = received(engine, hall, 合法稳定住所证明="missing")
    at(engine, hall, date(2026, 10, 15))  # past the limit (10-13): accepted by law on 09-30
    late = ik.conclude(engine, hall.id, r.case_no, "notice", actor="M001")
    assert late.status == "notice_issued" and late.notice_breach  # the breach is still counted
    assert the_case(engine, r.case_no).deemed_accepted  # the record says so at once
    at(engine, hall, date(2026, 10, 23))  # the supplement, a week later
    done = supplied(engine, hall, r.case_no)
    assert done.status == "accepted" and done.promised_date == "2026-10-15"
    assert done.document["dates"]["accepted"] == "2026-09-30" and done.document["deemed"] is True
    assert done.document["dates"]["statutory"] == "2026-10-27"
    case = the_case(engine, r.case_no)
    assert (case.accepted_on, case.promised_date, case.statutory_date) == (
        RECEIVED,
        date(2026, 10, 15),
        date(2026, 10, 27),
    )
    detail = review.case_detail(engine, hall.id, r.case_no)
    assert detail["deemed_accepted"] is True and detail["accepted_on"] == "2026-09-30"
    assert (detail["promised_date"], detail["statutory_date"]) == ("2026-10-15", "2026-10-27")
    # the record and the report agree: one deemed acceptance, on 10-14, and one breach, on 10-15
    assert headline(engine, hall, date(2026, 10, 14))["deemed_acceptances"] == 1
    whole = period_report(engine, hall.id, RECEIVED, date(2026, 10, 23))
    figures = {r["figure"]: r["value"] for r in whole.table("headline").rows}
    assert figures["deemed_acceptances"] == deemed_records(engine) == 1
    assert figures["notice_breaches"] == 1
    # accepted on the receipt day: it is counted as accepted on 09-30, not on the supplement day
    accepted = {
        r["figure"]: r["value"]
        for r in period_report(engine, hall.id, RECEIVED, RECEIVED).table("cases").rows
    }
    assert accepted["accepted"] == 1


def test_a_late_notice_on_record_without_the_mark_still_dates_the_acceptance_from_the_receipt(engine, hall):
    """The rule is the notice's date, not only the mark: a late notice recorded before the mark was
    written (older data) is deemed when the supplement comes, and the mark is written then."""
    r = received(engine, hall, 合法稳定住所证明="missing")
    at(engine, hall, date(2026, 10, 15))
    ik.conclude(engine, hall.id, r.case_no, "notice", actor="M001")
    with write_session(engine) as s:  # as a record written before this rule was
        s.execute(update(Case).where(Case.case_no == r.case_no).values(deemed_accepted=False))
    at(engine, hall, date(2026, 10, 23))
    done = supplied(engine, hall, r.case_no)
    case = the_case(engine, r.case_no)
    assert case.deemed_accepted and case.accepted_on == RECEIVED and done.promised_date == "2026-10-15"
    with read_session(engine) as s:
        kinds = s.execute(select(Event.kind).where(Event.kind == "case.deemed_accepted")).scalars().all()
    assert len(kinds) == 2  # the first mark (reset above) and the one the supplement wrote


def test_a_notice_in_time_then_the_supplement_accepts_on_the_supplement_day(engine, hall):
    """The other side of the rule: a notice within the limit stops Art. 32's clock; the acceptance
    is the day the materials are complete."""
    r = received(engine, hall, 合法稳定住所证明="missing")
    at(engine, hall, date(2026, 10, 13))  # the last day of the limit
    ik.conclude(engine, hall.id, r.case_no, "notice", actor="C001")
    at(engine, hall, date(2026, 10, 23))
    supplied(engine, hall, r.case_no)
    case = the_case(engine, r.case_no)
    assert not case.deemed_accepted and case.accepted_on == date(2026, 10, 23)
    assert deemed_records(engine) == 0
    assert headline(engine, hall, date(2026, 10, 14))["deemed_acceptances"] == 0


# --- Art. 42: the case's own department, a named approver, the statutory date only -----------------------


def accepted_case(engine, hall):
    set_clock_to(MON)
    return make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=MON)  # SCJG only


def no_extension(engine, case) -> None:
    with read_session(engine) as s:
        assert s.execute(select(Extension.id).where(Extension.case_id == case.id)).first() is None
        kinds = s.execute(select(Document.kind).where(Document.case_id == case.id)).scalars().all()
    assert "extension_notice" not in kinds
    assert the_case(engine, case.case_no).extension_days in (0, None)


def test_an_extension_by_another_department_is_refused(engine, hall):
    case = accepted_case(engine, hall)
    set_clock_to(date(2026, 3, 5))
    for actor in ("R002", "M001"):  # a 人社局 reviewer; a hall manager of 行政审批局
        with pytest.raises(DomainError) as err:
            review.extend(engine, hall.id, case.case_no, approver="S002", reason="需专家论证", actor=actor)
        assert err.value.code == "wrong_department" and "SCJG" in err.value.zh, err.value.zh
    no_extension(engine, case)


@pytest.mark.parametrize(
    ("approver", "code"),
    [
        ("C002", "approver_not_allowed"),  # a clerk of SCJG: the role may not approve
        ("R001", "approver_not_allowed"),  # SCJG's reviewer: not named an approver in staff.toml
        ("S003", "approver_not_allowed"),  # the head of 人社局: not this case's department
        ("王局长", "approver_unknown"),  # free text: nobody
    ],
    ids=["clerk", "not-named", "other-department", "free-text"],
)
def test_an_approver_without_the_permission_is_refused(engine, hall, approver, code):
    case = accepted_case(engine, hall)
    set_clock_to(date(2026, 3, 5))
    with pytest.raises(DomainError) as err:
        review.extend(engine, hall.id, case.case_no, approver=approver, reason="需专家论证", actor="R001")
    assert err.value.code == code, err.value.zh
    assert "S002" in err.value.zh or code == "approver_unknown"  # names who may approve
    no_extension(engine, case)


def test_an_extension_moves_the_statutory_date_only_in_the_departments_name(engine, hall):
    case = accepted_case(engine, hall)
    set_clock_to(date(2026, 3, 5))
    result = review.extend(engine, hall.id, case.case_no, approver="s002", reason="需专家论证", actor="R001")
    assert (result["promised_date"], result["statutory_date"]) == ("2026-03-09", "2026-03-30")
    assert result["approver"] == "李明（S002）" and result["department"] == "SCJG"
    doc = get_document(engine, hall.id, result["documents"][0])
    assert (
        doc.payload["issuer_department"] == "SCJG" and doc.payload["office"] == "成都市锦江区市场监督管理局"
    )
    assert doc.payload["extension"]["approver"] == "李明（S002）"
    text = pdf_text(render_pdf(doc.payload))
    assert "不因延期改变" in text and "2026年3月9日" in text and "2026年3月30日" in text
    detail = review.case_detail(engine, hall.id, case.case_no)
    assert (detail["promised_date"], detail["statutory_date"]) == ("2026-03-09", "2026-03-30")
    stored = the_case(engine, case.case_no)
    assert (stored.promised_date, stored.statutory_date) == (date(2026, 3, 9), date(2026, 3, 30))


def test_a_lapsed_promise_stays_missed_after_an_extension(engine, hall):
    case = accepted_case(engine, hall)
    set_clock_to(date(2026, 3, 10))  # the promise (03-09) lapsed; the statutory period runs to 03-16

    def light() -> str:
        (entry,) = [e for e in watch_list(engine, hall.id, kinds=("case",)) if e["case_no"] == case.case_no]
        return entry["light"]

    assert light() == "red"
    review.extend(engine, hall.id, case.case_no, approver="S002", reason="需专家论证", actor="R001")
    assert light() == "red"  # a red case does not turn green
    assert review.case_detail(engine, hall.id, case.case_no)["light"] == "red"
    task = tasks_of(engine, case.id)["SCJG"]
    review.claim(engine, hall.id, task.id, actor="R001")
    review.approve(engine, hall.id, task.id, note="同意", actor="R001")
    figures = headline(engine, hall, date(2026, 3, 10))
    assert (figures["decided"], figures["promised_past"]) == (1, 1)  # the missed promise is counted


def test_the_hall_definition_names_who_may_approve_and_refuses_a_clerk(engine, hall, tmp_path):
    folder = tmp_path / "queue"
    shutil.copytree(QUEUE, folder)
    staff = folder / "staff.toml"
    text = staff.read_text(encoding="utf-8")
    first = 'role = "clerk"\ndepartment = "XZSP"\n'
    assert first in text
    staff.write_text(text.replace(first, first + "approves_extensions = true\n", 1), encoding="utf-8")
    with pytest.raises(HallDefinitionError) as err:
        load_hall(engine, folder)
    assert any(
        p.startswith("staff.toml: [[staff]] #1: approves_extensions: only a reviewer, supervisor")
        for p in err.value.problems
    ), err.value.problems
    assert [a["code"] for a in review.extension_approvers(engine, hall.id, "SCJG")] == ["S002"]


def test_the_cli_refuses_a_wrong_approver_with_exit_2(db_url, tmp_path, engine, hall):
    case = accepted_case(engine, hall)
    set_clock_to(date(2026, 3, 5))
    env = signed_out_env(db_url, tmp_path)
    env["WT_TEST_CLOCK_OFFSET"] = str(clock.get_offset().total_seconds())  # the same day in `wt`
    sign_in(env, "R001")
    bad = wt(env, "review", "extend", case.case_no, "--approver", "R001", "--reason", "复杂", check=False)
    assert bad.returncode == 2 and "S002" in bad.stderr and "Traceback" not in bad.stderr
    no_extension(engine, case)
    good = wt(env, "review", "extend", case.case_no, "--approver", "S002", "--reason", "复杂", "--json")
    assert json.loads(good.stdout)["statutory_date"] == "2026-03-30"


# --- Art. 32 "once" per applicant and item: the earlier case -------------------------------------------


def test_accepting_a_new_case_closes_the_earlier_notice_visibly(engine, hall):
    at(engine, hall, RECEIVED)
    item, missing = checks(engine, hall, "GA-0001", 合法稳定住所证明="missing")
    first = ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=missing, outcome="notice", actor="C001"
    )
    at(engine, hall, date(2026, 10, 9))
    shown = ik.earlier_notice(engine, hall.id, ZHANG, item.code)  # what the intake shows first
    assert shown is not None and shown["notice"] == first.document_number
    assert shown["case_no"] == first.case_no and shown["materials"] == ["合法稳定住所证明"]
    _, complete = checks(engine, hall, "GA-0001")
    second = ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=complete, outcome="accept", actor="C002"
    )
    assert second.status == "accepted"
    earlier = the_case(engine, first.case_no)
    assert earlier.status == "superseded"  # no longer "notice issued" for ever
    assert ik.earlier_notice(engine, hall.id, ZHANG, item.code) is None
    with read_session(engine) as s:
        (event,) = s.execute(select(Event).where(Event.kind == "case.superseded")).scalars().all()
    assert event.payload["case_no"] == first.case_no and event.payload["by_case_no"] == second.case_no
    assert event.payload["notice"] == first.document_number
    # shown on the case: at the counter, in the back office, on the public status
    assert ik.case_view(engine, hall.id, first.case_no).case["superseded_by"] == second.case_no
    assert ik.case_view(engine, hall.id, second.case_no).case["earlier_case_no"] == first.case_no
    assert review.case_detail(engine, hall.id, first.case_no)["superseded_by"] == second.case_no
    status = case_status(engine, hall.id, first.query_code)
    assert status["status_zh"].startswith("已由后续办件受理") and status["superseded_by"] == second.case_no
    # counted on the day it was closed; the earlier case is not counted as accepted
    cases = {
        r["figure"]: r["value"]
        for r in period_report(engine, hall.id, date(2026, 10, 9), date(2026, 10, 9)).table("cases").rows
    }
    assert (cases["notices_superseded"], cases["accepted"]) == (1, 1)
    before = {
        r["figure"]: r["value"]
        for r in period_report(engine, hall.id, RECEIVED, RECEIVED).table("cases").rows
    }
    assert before["notices_superseded"] == 0
    # another applicant's case is left alone
    li = ik.Applicant("李四", "resident_id", "110105198001010016", "13900139000")
    ik.submit(
        engine, hall.id, applicant=li, item=item.code, materials=missing, outcome="notice", actor="C002"
    )
    ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=complete, outcome="accept", actor="C002"
    )
    with read_session(engine) as s:
        statuses = s.execute(select(Case.applicant_name, Case.status).order_by(Case.id)).all()
    assert [tuple(r) for r in statuses][-2:] == [("李四", "notice_issued"), ("张三", "accepted")]


# --- the screens ------------------------------------------------------------------------------------


def test_the_intake_shows_the_earlier_notice_before_the_clerk_decides(tmp_path, monkeypatch, sqlite_url):
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    engine = make_engine(sqlite_url)
    hall = resolve_hall(engine, None)
    env = (engine, hall, Settings(database_url=sqlite_url, drafts_dir=str(tmp_path / "drafts")))
    set_clock_to(date(2026, 3, 2), hour=9)
    item, missing = checks(engine, hall, "GA-0001", 合法稳定住所证明="missing")
    applicant = ik.Applicant("张三", "resident_id", GOOD_ID, "13800138000")
    first = ik.submit(
        engine,
        hall.id,
        applicant=applicant,
        item=item.code,
        materials=missing,
        outcome="notice",
        actor="C001",
    )
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")

    async def inner():
        app = counter_app(env)
        async with app.run_test(size=(120, 36)) as pilot:
            await call_and_open_intake(pilot)
            await choose_item(pilot, "jzzbl")  # 居住证办理
            await settle(pilot)
            assert text_of(app, "#earlier") == ""  # nobody named yet
            await fill_applicant(pilot)
            await settle(pilot)
            shown = text_of(app, "#earlier")
            assert first.document_number in shown and first.case_no in shown and "合法稳定住所证明" in shown
            assert app.screen.query_one("#earlier").display
            await press(pilot, "f5")  # accept: every material is in hand this time
            await preview_shown(pilot)

    try:
        asyncio.run(inner())
        assert the_case(engine, first.case_no).status == "superseded"
    finally:
        engine.dispose()


def test_the_back_office_refuses_an_approver_code_inline(tmp_path, monkeypatch, sqlite_url):
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    engine = make_engine(sqlite_url)
    hall = resolve_hall(engine, None)
    case = accepted_case(engine, hall)
    set_clock_to(date(2026, 3, 5))

    async def inner():
        app = backoffice_app(engine, hall, department="SCJG", staff_code="R001")
        async with app.run_test(size=(120, 36)) as pilot:
            await backoffice_settle(pilot)
            await pilot.press("e")
            await backoffice_settle(pilot)
            assert type(app.screen).__name__ == "ReasonModal"
            assert "S002" in str(app.screen.query_one("#approvers").render())
            app.screen.query_one("#approver", Input).value = "R001"
            app.screen.query_one("#reason", Input).value = "需专家论证"
            await pilot.press("enter")
            await backoffice_settle(pilot)
            assert type(app.screen).__name__ == "ReasonModal"  # still open, the problem named
            assert "R001" in str(app.screen.query_one("#problem").render())
            app.screen.query_one("#approver", Input).value = "s002"
            await pilot.press("enter")
            await backoffice_settle(pilot)
            assert type(app.screen).__name__ == "BackofficeScreen"

    try:
        asyncio.run(inner())
        stored = the_case(engine, case.case_no)
        assert (stored.extension_days, stored.promised_date) == (10, date(2026, 3, 9))
    finally:
        engine.dispose()


def test_an_extension_during_an_open_suspension_leaves_the_stored_promised_date(engine, hall):
    """Found by the simulated weeks: an extension stored every date as it stood that day, so with the
    clock stopped (Art. 45) it moved the stored promised date too, in the extension's name."""
    case = accepted_case(engine, hall)
    task = tasks_of(engine, case.id)["SCJG"]
    review.claim(engine, hall.id, task.id, actor="R001")
    set_clock_to(date(2026, 3, 4))
    review.suspend(engine, hall.id, task.id, "inspection", "现场核查", 5, actor="R001")
    before = the_case(engine, case.case_no)
    set_clock_to(date(2026, 3, 6))  # two working days with the clock stopped
    review.extend(engine, hall.id, case.case_no, approver="S002", reason="需专家论证", actor="R001")
    after = the_case(engine, case.case_no)
    assert after.promised_date == before.promised_date
    assert after.statutory_date != before.statutory_date
