"""No silent glyph loss: every character of a document is checked against the fonts that render it
before the document is stored; characters the main font lacks (CJK Extension B: 𠮷 U+20BB7) are drawn
from the fallback chain (fonts-hanazono); a character no font has refuses the issue, naming it."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import ImageChops
from sqlalchemy import func, select

from tests.test_art32_enforced import checks
from tests.test_documents_render import dark_pixels, needs_pdftoppm, page_png, pdf_text
from window_terminal.core import intake as ik
from window_terminal.core.documents import render_pdf, sample_snapshot
from window_terminal.db.engine import read_session
from window_terminal.db.models import Case
from window_terminal.errors import DomainError

YOSHINOYA = ik.Applicant("𠮷野家", "resident_id", "11010519491231002X", "13800138000")
EXT_G = "\U00031350"  # CJK Extension G (Unicode 13, 2020): in no installed font


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
    someone = ik.Applicant(f"王{EXT_G}", "resident_id", "11010519491231002X", "13800138000")
    with read_session(engine) as s:
        before = s.execute(select(func.count()).select_from(Case)).scalar_one()
    with pytest.raises(DomainError) as err:
        ik.submit(
            engine, hall.id, applicant=someone, item=item.code, materials=mats, outcome="accept", actor="C001"
        )
    assert err.value.code == "glyph_missing"
    assert "U+31350" in err.value.zh and "fonts-hanazono" in err.value.zh and "U+31350" in err.value.en
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
