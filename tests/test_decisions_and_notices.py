"""Art. 42 extension notice (only within the statutory period), Art. 45 suspension notice, Art. 38
decisions and the 送达回证 for a posted result: issued, numbered, stored, rendered and read back.

Dates hand-checked (2026, no holiday in March): SCJG-0006 (promised 5, statutory 10 working days)
accepted Monday 03-02 → promised 03-09, statutory 03-16; extended by 10 → statutory 03-30 (20
working days), the promised date stays 03-09 (an extension moves the statutory date only). Decided Thursday 03-05 → the licence is due by 03-19 (Art. 44: 10 days).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.factories import SINGLE_DEPT_ITEM, approve, make_accepted_case, set_clock_to, tasks_of
from tests.test_documents_render import dark_pixels, needs_pdftoppm, page_png, pdf_text
from window_terminal.core import review
from window_terminal.core.document_store import get_document
from window_terminal.core.documents import render_pdf
from window_terminal.errors import DomainError

MON = date(2026, 3, 2)
LAW = "《中华人民共和国行政许可法》"


def text_of(engine, hall, number: str) -> str:
    return pdf_text(render_pdf(get_document(engine, hall.id, number).payload))


def test_an_extension_within_the_period_is_told_in_writing_with_reason_approver_and_dates(engine, hall):
    set_clock_to(MON)
    case = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=MON)
    set_clock_to(date(2026, 3, 16))  # the last day of the statutory period: still allowed
    result = review.extend(
        engine, hall.id, case.case_no, approver="S002", reason="需组织专家论证", actor="R001"
    )
    assert result["statutory_date"] == "2026-03-30" and result["promised_date"] == "2026-03-09"
    (number,) = result["documents"]
    doc = get_document(engine, hall.id, number)
    assert doc.kind == "extension_notice" and number == "锦市监延〔2026〕第0001号"
    text = text_of(engine, hall, number)
    for expected in (
        "延期通知书",
        "需组织专家论证",
        "李明（S002）",  # the approver, a named head of the department (staff.toml)
        "10个工作日",
        f"{LAW}第四十二条第一款",
        "2026年3月16日",  # the period it was within
        "2026年3月30日",  # the new statutory date
        "成都市锦江区市场监督管理局",
    ):
        assert expected in text, expected
    detail = review.case_detail(engine, hall.id, case.case_no)
    assert {"number": number, "kind": "extension_notice"} in detail["documents"]  # wt case show


def test_an_extension_after_the_statutory_period_is_refused(engine, hall):
    set_clock_to(MON)
    case = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=MON)
    set_clock_to(date(2026, 3, 17))
    with pytest.raises(DomainError) as err:
        review.extend(engine, hall.id, case.case_no, approver="S002", reason="需组织专家论证", actor="R001")
    assert err.value.code == "period_over" and "第四十二条" in err.value.zh and "2026-03-16" in err.value.zh
    assert review.case_detail(engine, hall.id, case.case_no)["extension_days"] == 0


def test_a_suspension_tells_the_applicant_what_time_does_not_count(engine, hall):
    set_clock_to(MON)
    case = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=MON)
    set_clock_to(date(2026, 3, 4))
    task = tasks_of(engine, case.id)["SCJG"]
    review.claim(engine, hall.id, task.id, actor="R001")
    result = review.suspend(engine, hall.id, task.id, "inspection", "核查经营场所布局", 3, actor="R001")
    (number,) = result["documents"]
    assert get_document(engine, hall.id, number).kind == "suspension_notice"
    text = text_of(engine, hall, number)
    for expected in (
        "暂停计时告知书",
        "现场核查",
        "核查经营场所布局",
        "2026年3月4日",
        "3个工作日",
        "第四十五条",
        "不计算在办理期限内",
    ):
        assert expected in text, expected


def test_an_approved_licence_gets_a_written_decision_and_a_posted_result_a_proof_of_delivery(engine, hall):
    set_clock_to(MON)
    case = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=MON)
    set_clock_to(date(2026, 3, 5))
    decided = approve(engine, hall.id, tasks_of(engine, case.id)["SCJG"].id, "R001")
    decision, completion = decided["documents"]
    assert get_document(engine, hall.id, decision).kind == "approval_decision"
    text = text_of(engine, hall, decision)
    for expected in (
        "准予行政许可决定书",
        "决定准予行政许可",
        f"{LAW}第三十八条第一款",
        "十个工作日内",
        "2026年3月19日",
        "第四十四条",
    ):
        assert expected in text, expected
    posted = review.record_posted(
        engine, hall.id, case.case_no, "EMS9876543210", address="成都市锦江区红星路三段1号", actor="C001"
    )
    *_, receipt = posted["documents"]  # the posted result's notice, then the proof of delivery
    doc = get_document(engine, hall.id, receipt)
    assert doc.kind == "service_receipt"
    text = text_of(engine, hall, receipt)
    for expected in (
        "送达回证",
        "准予行政许可决定书",
        decision,
        completion,
        "成都市锦江区红星路三段1号",
        "邮寄送达",
        "EMS9876543210",
        "张晓梅",
        "签收",
    ):
        assert expected in text, expected


def test_a_refusal_states_reasons_and_appeal_rights(engine, hall):
    set_clock_to(MON)
    case = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=MON)
    task = tasks_of(engine, case.id)["SCJG"]
    review.claim(engine, hall.id, task.id, actor="R001")
    result = review.refuse(engine, hall.id, task.id, reason="经营场所与污染源距离不足25米", actor="R001")
    (number,) = result["documents"]
    text = text_of(engine, hall, number)
    for expected in (
        "不予行政许可决定书",
        "经营场所与污染源距离不足25米",
        "第三十八条第二款",
        "申请行政复议",
        "60日",
        "提起行政诉讼",
        "6个月",
    ):
        assert expected in text, expected


def test_a_public_service_gets_no_licence_decision(engine, hall):
    set_clock_to(MON)
    case = make_accepted_case(engine, hall.id, "GJJ-0003", accepted_on=MON)
    decided = approve(engine, hall.id, tasks_of(engine, case.id)["GJJ"].id, "R003")
    assert [get_document(engine, hall.id, n).kind for n in decided["documents"]] == ["completion_notice"]


@needs_pdftoppm
@pytest.mark.parametrize(
    "kind",
    ["approval_decision", "extension_notice", "suspension_notice", "service_receipt", "materials_receipt"],
)
def test_every_new_document_rasterises_with_ink(kind: str, tmp_path: Path) -> None:
    from window_terminal.core.documents import sample_snapshot

    image = page_png(render_pdf(sample_snapshot(kind)), tmp_path, kind)
    assert dark_pixels(image) > 5000


def test_the_demo_history_shows_every_document_kind(sqlite_url):
    """A newcomer's `wt demo --days 5` then `wt doc list`: every kind the law asks for is there,
    including a deemed acceptance (Art. 32) dated from its receipt."""
    from sqlalchemy import select

    from tests.conftest import QUEUE
    from window_terminal.core.demo import build_demo
    from window_terminal.core.document_store import KIND_WORDS
    from window_terminal.db.engine import make_engine, read_session
    from window_terminal.db.models import Case, Document

    engine = make_engine(sqlite_url)
    build_demo(engine, QUEUE, days=5)
    with read_session(engine) as s:
        kinds = set(s.execute(select(Document.kind)).scalars())
        deemed = s.execute(select(Case).where(Case.deemed_accepted)).scalars().all()
    assert set(KIND_WORDS) <= kinds, set(KIND_WORDS) - kinds
    assert deemed and all(c.accepted_on == c.received_on for c in deemed)
    engine.dispose()
