"""No silent glyph loss: every character of a document is checked against the fonts that render it
before the document is stored; characters the main font lacks (CJK Extension B: 𠮷 U+20BB7) are drawn
from the fallback chain (fonts-hanazono, fonts-babelstone-han for Extensions G and H); a character no
font has refuses the issue, naming it and a fix that is not already installed — except on the receipt
of materials, which is never refused: the character is printed as a placeholder and named."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import ImageChops
from sqlalchemy import func, select

from tests.test_art32_enforced import checks
from tests.test_documents_render import dark_pixels, needs_pdftoppm, page_png, pdf_text
from window_terminal.core import intake as ik
from window_terminal.core.document_store import get_document
from window_terminal.core.documents import fonts, render_pdf, sample_snapshot
from window_terminal.db.engine import read_session
from window_terminal.db.models import Case
from window_terminal.errors import DomainError

YOSHINOYA = ik.Applicant("𠮷野家", "resident_id", "11010519491231002X", "13800138000")
# CJK Extension I (Unicode 15.1, 2023): in none of the chain's fonts (BabelStone Han 15.0.5 stops at H)
NO_FONT = "\U0002ebf0"
BIANG = "\U00030ede"  # 𰻞 of 𰻞𰻞面, CJK Extension G: BabelStone Han (fonts-babelstone-han) has it


def test_an_extension_b_name_is_issued_and_printed_in_full(engine, hall):
    item, mats = checks(engine, hall, "GA-0001")
    r = ik.submit(
        engine, hall.id, applicant=YOSHINOYA, item=item.code, materials=mats, outcome=None, actor="C001"
    )
    assert r.document["applicant"]["name"] == "𠮷野家"
    pdf = render_pdf(r.document)
    assert "𠮷野家：" in pdf_text(pdf)
    assert b"+HanaMinA" in pdf  # the fallback font (fonts-hanazono) is embedded


def test_a_character_no_font_has_refuses_the_issue_and_names_it(engine, hall):
    item, mats = checks(engine, hall, "GA-0001")
    someone = ik.Applicant(f"王{NO_FONT}", "resident_id", "11010519491231002X", "13800138000")
    with read_session(engine) as s:
        before = s.execute(select(func.count()).select_from(Case)).scalar_one()
    with pytest.raises(DomainError) as err:
        ik.submit(
            engine, hall.id, applicant=someone, item=item.code, materials=mats, outcome="accept", actor="C001"
        )
    assert err.value.code == "glyph_missing"
    assert "U+2EBF0" in err.value.zh and "U+2EBF0" in err.value.en
    for package, path, _ in fonts.FALLBACK_PACKAGES:  # the fix named is one that is not done yet
        assert (package in err.value.zh.split("均不含该字")[-1]) == (not path.is_file()), package
        assert (package in err.value.en.split("lack it")[-1]) == (not path.is_file()), package
    assert fonts.FALLBACK_ENV_VAR in err.value.zh
    with read_session(engine) as s:
        assert s.execute(select(func.count()).select_from(Case)).scalar_one() == before  # nothing written


@needs_pdftoppm
def test_the_fallback_glyph_has_ink_and_is_not_a_box(tmp_path: Path) -> None:
    shapes = {}
    for title in ("𠮷", "吉", "口", "\u3000"):
        snap = sample_snapshot("completion_notice")
        snap["title"] = title
        img = page_png(render_pdf(snap), tmp_path, f"t{ord(title)}", dpi=150)
        shapes[title] = img.crop((0, int(img.height * 0.08), img.width, int(img.height * 0.16)))
    ink = ImageChops.difference(shapes["𠮷"], shapes["\u3000"]).getbbox()
    assert ink is not None and dark_pixels(shapes["𠮷"].crop(ink)) > 50  # drawn, not blank
    assert ImageChops.difference(shapes["𠮷"], shapes["口"]).getbbox() is not None  # not a box
    assert ImageChops.difference(shapes["𠮷"], shapes["吉"]).getbbox() is not None  # its own glyph


def test_the_receipt_of_materials_is_never_refused_and_names_what_no_font_has(engine, hall):
    """The materials are in the clerk's hands: the receipt is issued, the Art. 32 clock starts, and
    the character no font has is printed as a placeholder and named by its code point."""
    item, mats = checks(engine, hall, "GA-0001")
    someone = ik.Applicant(f"王{NO_FONT}", "resident_id", "11010519491231002X", "13800138000")
    r = ik.submit(
        engine, hall.id, applicant=someone, item=item.code, materials=mats, outcome=None, actor="C001"
    )
    assert r.document["kind"] == "materials_receipt"
    assert r.document["applicant"]["name"] == f"王{NO_FONT}"  # the record keeps the character
    with read_session(engine) as s:
        case = s.execute(select(Case).where(Case.case_no == r.case_no)).scalar_one()
        assert case.status == "submitted" and case.received_at is not None  # Art. 32's clock runs
    stored = get_document(engine, hall.id, r.document["number"]).payload
    text = pdf_text(render_pdf(stored))
    assert f"王{fonts.PLACEHOLDER}" in text and "U+2EBF0" in text  # marked and named, not dropped
    assert NO_FONT not in text


@pytest.mark.skipif(
    not fonts.FALLBACK_PACKAGES[1][1].is_file(), reason="fonts-babelstone-han is not installed (.ci/run)"
)
def test_an_extension_g_name_prints_from_babelstone_han(engine, hall):
    item, mats = checks(engine, hall, "GA-0001")
    someone = ik.Applicant(f"{BIANG}{BIANG}", "resident_id", "11010519491231002X", "13800138000")
    r = ik.submit(
        engine, hall.id, applicant=someone, item=item.code, materials=mats, outcome="accept", actor="C001"
    )
    pdf = render_pdf(r.document)
    assert f"{BIANG}{BIANG}：" in pdf_text(pdf) and fonts.PLACEHOLDER not in pdf_text(pdf)
    assert b"+BabelStoneHan" in pdf
