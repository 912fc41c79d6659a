"""The right issuer, basis and number on every document; requirement text on the one-time notice;
the hall loader checks the new fields. Rendered PDFs are read back (pypdf) and rasterised (pdftoppm)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.test_art32_enforced import ZHANG, at, checks
from tests.test_documents_render import needs_pdftoppm, page_png, pdf_text
from tests.test_hall_load import copy_queue
from window_terminal.core import intake as ik
from window_terminal.core.document_store import get_document
from window_terminal.core.documents import render_pdf
from window_terminal.core.hall import HallDefinitionError, load_hall

LAW = "《中华人民共和国行政许可法》"


def test_a_police_item_is_issued_by_the_police_with_its_own_number_and_basis(engine, hall):
    at(engine, hall, date(2026, 11, 20))
    item, mats = checks(engine, hall, "GA-0004")  # 普通护照签发: a licence of 公安
    r = ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome="accept", actor="C001"
    )
    doc = r.document
    assert doc["office"] == "成都市公安局锦江区分局" and doc["issuer_department"] == "GA"
    assert r.document_number == "锦公受〔2026〕第0001号"
    assert doc["item"]["kind"] == "licence" and "护照法" in doc["item"]["basis"]
    assert doc["qr_url"] == f"https://zwfw.example.gov.cn/jinjiang/cx?code={r.query_code}"
    text = pdf_text(render_pdf(doc))
    assert "成都市公安局锦江区分局" in text and "锦公受〔2026〕第0001号" in text
    assert "成都市锦江区行政审批局" not in text
    assert f"{LAW}第三十二条第一款第（五）项" in text and "护照法" in text
    # a typed number with ordinary brackets finds it
    assert get_document(engine, hall.id, "锦公受[2026]第0001号").number == r.document_number


def test_a_public_service_does_not_cite_the_licensing_law(engine, hall):
    item, mats = checks(engine, hall, "GJJ-0003")  # 住房公积金提取: a public service of 公积金
    r = ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome="accept", actor="C001"
    )
    doc = r.document
    assert doc["item"]["kind"] == "public_service"
    assert (
        doc["office"] == "成都住房公积金管理中心"
        and doc["seal"] == "成都住房公积金管理中心锦江管理部业务专用章"
    )
    text = pdf_text(render_pdf(doc))
    assert "行政许可法" not in text and doc["item"]["basis"].replace(" ", "") in text
    assert "业务专用章" in text


def test_a_joint_item_names_its_configured_issuer(engine, hall):
    item, mats = checks(engine, hall, "XZSP-0001")  # SCJG + XZSP, issuer = XZSP
    r = ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome="accept", actor="C001"
    )
    assert r.document["office"] == "成都市锦江区行政审批局" and r.document_number.startswith("锦审批受〔")


def test_numbers_run_per_issuer_and_kind_and_restart_every_year(engine, hall):
    at(engine, hall, date(2026, 12, 31))
    item, mats = checks(engine, hall, "GA-0004")
    numbers = [
        ik.submit(
            engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome="accept", actor="C001"
        ).document_number
        for _ in range(2)
    ]
    receipt = ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome=None, actor="C001"
    )
    at(engine, hall, date(2027, 1, 4))
    next_year = ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome="accept", actor="C001"
    )
    assert numbers == ["锦公受〔2026〕第0001号", "锦公受〔2026〕第0002号"]
    assert receipt.document_number == "锦公收〔2026〕第0001号"
    assert next_year.document_number == "锦公受〔2027〕第0001号"


def test_the_one_time_notice_says_what_each_material_needs_and_the_clerks_note(engine, hall, tmp_path):
    item, mats = checks(engine, hall, "GA-0001")
    by_name = {m.name: (m, c) for m, c in zip(item.materials, mats, strict=True)}
    form, form_check = by_name["居住证申领登记表"]
    home, home_check = by_name["合法稳定住所证明"]
    form_check.status, form_check.note = "defective", "第3栏现居住地址漏填门牌号"
    home_check.status = "missing"
    r = ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome="notice", actor="C001"
    )
    listed = {m["name"]: m for m in r.document["materials_missing"]}
    assert listed["居住证申领登记表"]["requirement"] == form.requirement != ""
    assert listed["居住证申领登记表"]["reason"] == "不符合要求：第3栏现居住地址漏填门牌号"
    assert listed["合法稳定住所证明"]["reason"] == "未提交"
    pdf = render_pdf(r.document)
    text = pdf_text(pdf)
    assert "第3栏现居住地址漏填门牌号" in text and form.requirement.replace(" ", "")[:12] in text
    assert home.form.replace(" ", "")[:10] in text


def test_a_blank_non_acceptance_reason_states_the_ground_once(engine, hall):
    item, mats = checks(engine, hall, "XZSP-0006")
    r = ik.submit(
        engine,
        hall.id,
        applicant=ZHANG,
        item=item.code,
        materials=mats,
        outcome="non_acceptance",
        reason_kind="no_licence_needed",
        actor="C001",
    )
    text = pdf_text(render_pdf(r.document))
    assert text.count("不需要取得行政许可") == 1
    restated = dict(r.document, reason="申请事项依法不需要取得行政许可。")
    assert pdf_text(render_pdf(restated)).count("不需要取得行政许可") == 1


@needs_pdftoppm
def test_issued_documents_rasterise_with_ink(engine, hall, tmp_path: Path):
    item, mats = checks(engine, hall, "GA-0001")
    r = ik.submit(
        engine, hall.id, applicant=ZHANG, item=item.code, materials=mats, outcome=None, actor="C001"
    )
    image = page_png(render_pdf(r.document), tmp_path, "receipt")
    dark = sum(image.convert("L").histogram()[:70])
    assert dark > 5000


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "catalogue/ga.toml",
            'kind = "公共服务"',
            'kind = "便民服务"',
            "catalogue/ga.toml: [[item]] #1 GA-0001: kind:",
        ),
        (
            "catalogue/ga.toml",
            'basis = "《中华人民共和国护照法》',
            'fee_note = "《中华人民共和国护照法》',
            "catalogue/ga.toml: [[item]] #4 GA-0004: basis: a licence",
        ),
        (
            "catalogue/xzsp.toml",
            'issuer = "XZSP"',
            'issuer = "GA"',
            "catalogue/xzsp.toml: [[item]] #43 XZSP-0001: issuer:",
        ),
        (
            "departments.toml",
            'office = "成都市锦江区人力资源和社会保障局"\n',
            "",
            "departments.toml: [[department]] #2: seal:",
        ),
        ("hall.toml", "第{seq:04d}号", "第号", "hall.toml: [documents]: number_template: must contain {seq}"),
        (
            "hall.toml",
            "https://zwfw.example.gov.cn/jinjiang/cx?code={code}",
            "zwfw/cx",
            "hall.toml: [documents]: query_url:",
        ),
        (
            "catalogue/ga.toml",
            '  requirement = "',
            "  requirement = 3 # ",
            "catalogue/ga.toml: [[item]] #1 GA-0001: material #1: requirement",
        ),
    ],
    ids=[
        "kind",
        "licence-basis",
        "issuer",
        "seal-without-office",
        "number-template",
        "query-url",
        "requirement",
    ],
)
def test_the_loader_checks_issuers_kinds_requirements_and_document_settings(
    engine, hall, tmp_path, file, old, new, expected
):
    folder = copy_queue(tmp_path)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    if file == "departments.toml" and "seal" in expected:
        text = text.replace('abbr = "锦人社"', 'seal = "人社章"\nabbr = "锦人社"')
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(HallDefinitionError) as err:
        load_hall(engine, folder)
    assert any(p.startswith(expected) for p in err.value.problems), err.value.problems


def test_a_deemed_acceptance_cites_article_32_only_for_a_licence():
    from window_terminal.core.documents import sample_snapshot

    snap = sample_snapshot("acceptance_notice")
    snap["deemed"] = True
    licence = pdf_text(render_pdf(snap))
    assert f"{LAW}第三十二条第一款第（四）项" in licence and "即为受理" in licence
    assert "申请材料齐全" not in licence  # it was never found complete: it is accepted by law
    snap["item"] = {**snap["item"], "kind": "public_service", "basis": "《住房公积金管理条例》"}
    service = pdf_text(render_pdf(snap))
    assert "行政许可法" not in service and "即为受理" in service and "《住房公积金管理条例》" in service


def test_the_report_counts_a_case_under_the_department_that_issues_its_notices(engine, hall):
    """Issue 28: the department table counted a case under its item's lowest department id (市场监管
    for a joint item), while its notices went out in 区行政审批局's name, which had no row at all."""
    from window_terminal.core.reports.queries import period_report

    day = date(2026, 11, 20)
    at(engine, hall, day)
    joint, joint_mats = checks(engine, hall, "XZSP-0001")  # SCJG + XZSP, issuer = "XZSP"
    first, first_mats = checks(engine, hall, "SCJG-0006")  # SCJG alone
    issued = [
        ik.submit(engine, hall.id, applicant=ZHANG, item=code, materials=mats, outcome="accept", actor="C001")
        for code, mats in ((joint.code, joint_mats), (first.code, first_mats))
    ]
    assert [r.document["issuer_department"] for r in issued] == ["XZSP", "SCJG"]
    rows = period_report(engine, hall.id, day, day).table("by_department").rows
    assert {r["department"]: r["accepted"] for r in rows if r["accepted"]} == {"XZSP": 1, "SCJG": 1}
