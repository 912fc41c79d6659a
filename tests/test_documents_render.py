"""Documents: real PDFs (reportlab), real rasterising (pdftoppm), real QR decoding (zxing-cpp), real
ESC/POS bytes written through python-escpos printers. No mocks."""

from __future__ import annotations

import io
import re
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image, ImageChops
from pypdf import PdfReader

from window_terminal.core.documents import (
    PROVISIONAL_NOTE,
    DocumentError,
    FontNotFound,
    PrintError,
    document_text,
    find_cjk_font,
    print_escpos,
    render_pdf,
    sample_snapshot,
    ticket_escpos_bytes,
)
from window_terminal.core.documents import fonts as fonts_module
from window_terminal.core.documents.content import NOTICE_KINDS
from window_terminal.core.documents.text import display_width

GS_SIZE = b"\x1d!"  # GS ! n — character size
ESC_MODE = b"\x1b!"  # ESC ! n — print mode (bit 4/5: double height/width)
GS_CUT = b"\x1dV"  # GS V m — cut

needs_pdftoppm = pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="pdftoppm missing: apt-get install poppler-utils"
)


# --- helpers -----------------------------------------------------------------------------------------


def pdf_text(pdf: bytes) -> str:
    """All text of the PDF with whitespace removed (extraction may split lines anywhere)."""
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", "", "".join(page.extract_text() or "" for page in reader.pages))


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def page_png(pdf: bytes, tmp_path: Path, name: str = "page", dpi: int = 100) -> Image.Image:
    src = tmp_path / f"{name}.pdf"
    src.write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(src),
            str(tmp_path / name),
        ],
        check=True,
        capture_output=True,
    )
    return Image.open(tmp_path / f"{name}.png").convert("RGB")


def decode_qr(image: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def dark_pixels(image: Image.Image) -> int:
    return sum(image.convert("L").histogram()[:128])


@pytest.fixture
def one_time() -> dict[str, Any]:
    snap = sample_snapshot("one_time_notice")
    assert len(snap["materials_missing"]) >= 3
    return snap


# --- notices: content ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(NOTICE_KINDS))
def test_every_notice_kind_shows_number_applicant_item_and_title(kind: str) -> None:
    snap = sample_snapshot(kind)
    pdf = render_pdf(snap)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert snap["number"] in text
    assert snap["applicant"]["name"] in text
    assert flat(snap["item"]["name"]) in text
    assert NOTICE_KINDS[kind] in text
    assert snap["office"] in text
    assert "盖章处" in text
    assert snap["query_code"] in text
    assert "扫码或凭查询码查询办理进度" in text
    assert "3号窗口" in text and "王芳" in text
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].mediabox) == 4
    assert abs(float(PdfReader(io.BytesIO(pdf)).pages[0].mediabox.width) - 595.27) < 1  # A4


def test_title_from_snapshot_wins_over_the_default() -> None:
    snap = sample_snapshot("one_time_notice")
    snap["title"] = "补正材料通知书"
    assert "补正材料通知书" in pdf_text(render_pdf(snap))


def test_one_time_notice_lists_every_missing_item_numbered_with_form_and_deadline(
    one_time: dict[str, Any],
) -> None:
    text = pdf_text(render_pdf(one_time))
    missing = one_time["materials_missing"]
    assert f"共{len(missing)}项" in text
    positions = []
    for i, m in enumerate(missing, 1):
        assert flat(m["name"]) in text, m["name"]
        assert flat(m["form"]) in text, m["form"]
        assert flat(m["reason"]) in text, m["reason"]
        positions.append(text.index(f"{i}{flat(m['name'])}"))  # numbered row: "1法定代表人身份证明…"
    assert positions == sorted(positions)
    assert "第三十二条第一款第（四）项" in text
    # provisional computed deadline, Chinese date format
    assert f"2027年1月4日{PROVISIONAL_NOTE}" in text
    for m in one_time["materials_received"]:
        assert flat(m["name"]) in text


def test_deficiency_notice_shows_deferred_items_and_supplement_deadline() -> None:
    snap = sample_snapshot("deficiency_acceptance_notice")
    text = pdf_text(render_pdf(snap))
    for m in snap["materials_deferred"]:
        assert flat(m["name"]) in text
        assert flat(m["form"]) in text
    assert "补齐期限：请于2026年11月26日前补齐上述材料" in text
    assert "容缺材料补齐前，本机关不出具办理结果" in text
    assert "2026年11月27日" in text  # promised date


def test_acceptance_notice_shows_agent_materials_commitments_and_dates() -> None:
    snap = sample_snapshot("acceptance_notice")
    snap["provisional"] = True
    text = pdf_text(render_pdf(snap))
    assert snap["agent"]["name"] in text
    assert snap["agent"]["id_number"] in text
    for m in snap["materials_received"]:
        assert flat(m["name"]) in text
    assert "食品安全管理制度文本" in text and "告知承诺" in text
    assert f"2026年11月27日{PROVISIONAL_NOTE}" in text  # computed promised date
    assert f"2026年12月18日{PROVISIONAL_NOTE}" in text  # computed statutory date
    assert "2026年11月21日" in text
    assert "5个工作日" in text and "20个工作日" in text


def test_non_acceptance_names_the_competent_office_and_the_appeal_rights() -> None:
    snap = sample_snapshot("non_acceptance_notice")
    text = pdf_text(render_pdf(snap))
    assert "成都市交通运输局" in text
    assert "不属于本机关职权范围" in text
    assert "第三十二条第一款第（二）项" in text
    assert (
        "如不服本决定，可在收到本通知书之日起60日内向成都市锦江区人民政府申请行政复议，"
        "或者在6个月内向成都铁路运输第一法院提起行政诉讼。"
    ) in text


def test_non_acceptance_always_has_appeal_rights_even_without_appeal_data() -> None:
    snap = sample_snapshot("non_acceptance_notice")
    snap.update(
        appeal=None, reason_kind="no_licence_needed", competent_office=None, reason="该经营活动无需办理许可。"
    )
    text = pdf_text(render_pdf(snap))
    assert "依法不需要取得行政许可" in text
    assert "第三十二条第一款第（一）项" in text
    assert "如不服本决定，可在收到本通知书之日起60日内" in text
    assert "或者在6个月内向" in text and "提起行政诉讼" in text


def test_refusal_notice_gives_reason_and_appeal_rights() -> None:
    snap = sample_snapshot("refusal_notice")
    text = pdf_text(render_pdf(snap))
    assert "不予行政许可" in text
    assert "第三十八条第二款" in text
    assert "经营场所与有毒、有害场所" in text
    assert "如不服本决定，可在收到本决定书之日起60日内向成都市锦江区人民政府申请行政复议" in text


def test_completion_notice_pickup_and_post() -> None:
    snap = sample_snapshot("completion_notice")
    text = pdf_text(render_pdf(snap))
    assert "8号窗口" in text and "2026年11月27日" in text and "办理完结" in text
    snap["delivery"] = {"method": "post", "window": None, "tracking_no": "SF1234567890"}
    text = pdf_text(render_pdf(snap))
    assert "SF1234567890" in text and "邮寄" in text


def test_notes_and_absent_optional_keys() -> None:
    snap = {
        "kind": "acceptance_notice",
        "number": "JJ-SL-20261121-0099",
        "applicant": {"name": "赵六"},
        "item": {"name": "个体工商户设立登记"},
        "notes": ["第一条备注", "第二条备注"],
    }
    text = pdf_text(render_pdf(snap))
    assert "JJ-SL-20261121-0099" in text and "赵六" in text and "第一条备注" in text and "第二条备注" in text


def test_rendering_is_reproducible_byte_for_byte() -> None:
    snap = sample_snapshot("acceptance_notice")
    assert render_pdf(snap) == render_pdf(sample_snapshot("acceptance_notice"))


def test_unknown_kind_is_a_document_error() -> None:
    with pytest.raises(DocumentError, match="Unknown document kind"):
        render_pdf({"kind": "love_letter", "number": "X"})


# --- notices: the font is embedded and the glyphs are real ---------------------------------------------


def test_cjk_font_is_embedded_truetype() -> None:
    reader = PdfReader(io.BytesIO(render_pdf(sample_snapshot("one_time_notice"))))
    embedded = []
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        font = font.get_object()
        descriptors = [font.get("/FontDescriptor")]
        descriptors += [d.get_object().get("/FontDescriptor") for d in font.get("/DescendantFonts", [])]
        for desc in descriptors:
            if desc is not None and "/FontFile2" in desc.get_object():
                embedded.append(str(font["/BaseFont"]))
    assert embedded, "no embedded TrueType font"


@needs_pdftoppm
def test_chinese_glyphs_are_drawn_not_empty_boxes(one_time: dict[str, Any], tmp_path: Path) -> None:
    """Two notices that differ only in the applicant's name: with tofu (every missing glyph the same
    box) the pages would be pixel-identical."""
    a, b = dict(one_time), dict(one_time)
    a["applicant"] = {**one_time["applicant"], "name": "张晓梅"}
    b["applicant"] = {**one_time["applicant"], "name": "李建国"}
    img_a = page_png(render_pdf(a), tmp_path, "a")
    img_b = page_png(render_pdf(b), tmp_path, "b")
    bbox = ImageChops.difference(img_a, img_b).getbbox()
    assert bbox is not None, "different Chinese names render identically: glyphs are missing (tofu)"
    assert dark_pixels(img_a.crop(bbox)) > 20 and dark_pixels(img_b.crop(bbox)) > 20
    # the difference is confined to where the name is written, not the whole page
    width, height = img_a.size
    assert (bbox[2] - bbox[0]) * (bbox[3] - bbox[1]) < width * height / 4


@needs_pdftoppm
def test_two_different_characters_have_different_ink(tmp_path: Path) -> None:
    """A single-character title: 受 and 理 must not look alike."""
    shapes = []
    for title in ("受", "理"):
        snap = sample_snapshot("completion_notice")
        snap["title"] = title
        img = page_png(render_pdf(snap), tmp_path, f"t{ord(title)}", dpi=150)
        shapes.append(img.crop((0, int(img.height * 0.08), img.width, int(img.height * 0.16))))
    diff = ImageChops.difference(*shapes).getbbox()
    assert diff is not None
    assert dark_pixels(shapes[0]) > 50 and dark_pixels(shapes[1]) > 50


# --- QR ---------------------------------------------------------------------------------------------


@needs_pdftoppm
@pytest.mark.parametrize("kind", ["one_time_notice", "non_acceptance_notice"])
def test_notice_qr_decodes_to_the_query_code(kind: str, tmp_path: Path) -> None:
    snap = sample_snapshot(kind)
    snap["query_code"] = "JJQ-8F3K2M"
    image = page_png(render_pdf(snap), tmp_path)
    assert decode_qr(image) == ["JJQ-8F3K2M"]


@needs_pdftoppm
def test_one_time_notice_sample_png_written_for_review(one_time: dict[str, Any], tmp_path: Path) -> None:
    pdf = render_pdf(one_time)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1  # the sample fits on one A4 page
    image = page_png(pdf, tmp_path, "sample")
    assert image.size == (827, 1170)  # A4 at 100 dpi
    assert decode_qr(image) == [one_time["query_code"]]


# --- ticket PDF -------------------------------------------------------------------------------------


@needs_pdftoppm
def test_ticket_pdf_is_80mm_wide_and_its_qr_decodes(tmp_path: Path) -> None:
    snap = sample_snapshot("ticket")
    pdf = render_pdf(snap)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 226.77) < 0.1
    assert 90 * 72 / 25.4 < float(box.height) < 160 * 72 / 25.4
    text = pdf_text(pdf)
    for part in (
        "锦江区政务服务中心",
        "A007",
        "商事登记",
        "您前面还有5人等候",
        "预计等候约18分钟",
        "过号请重新取号",
    ):
        assert part in text
    assert "2026-11-2110:32" in text
    # no query_code: the QR carries the ticket number and its unique id
    assert decode_qr(page_png(pdf, tmp_path, "ticket", dpi=150)) == ["A007-18342"]


@needs_pdftoppm
def test_ticket_with_query_code_priority_and_appointment(tmp_path: Path) -> None:
    snap = sample_snapshot("ticket")
    snap.update(query_code="T-5XQ9", priority=True, appointment_code="YY20261121-031")
    pdf = render_pdf(snap)
    text = pdf_text(pdf)
    assert "绿色通道" in text and "YY20261121-031" in text
    assert decode_qr(page_png(pdf, tmp_path, "ticket", dpi=150)) == ["T-5XQ9"]


# --- ESC/POS ----------------------------------------------------------------------------------------


def test_escpos_ticket_written_to_a_file_printer(tmp_path: Path) -> None:
    snap = sample_snapshot("ticket")
    data = ticket_escpos_bytes(snap)
    out = tmp_path / "lp0"
    print_escpos(data, f"file:{out}")
    raw = out.read_bytes()
    assert raw == data
    assert raw.startswith(b"\x1b@")  # ESC @ initialise
    number = "A007".encode("gb18030")
    line = "商事登记".encode("gb18030")
    assert line in raw and "锦江区政务服务中心".encode("gb18030") in raw
    assert "您前面还有 5 人等候".encode("gb18030") in raw and "过号请重新取号".encode("gb18030") in raw
    assert "商事登记".encode() not in raw  # not UTF-8
    assert b"\x1bt" not in raw  # no code-page switching (ESC t) — raw GB18030 throughout
    # the last size command before the number enlarges the text
    at = raw.index(number + b"\n")
    before = raw[:at]
    size_at = max(before.rfind(GS_SIZE), before.rfind(ESC_MODE))
    assert size_at >= 0
    command, n = before[size_at : size_at + 2], before[size_at + 2]
    assert (command == GS_SIZE and n & 0x77 and n != 0) or (command == ESC_MODE and n & 0x30)
    # native QR (GS ( k) with the ticket's payload, then the cut as the very last command
    assert b"\x1d(k" in raw and b"A007-18342" in raw
    assert raw.endswith((GS_CUT + b"\x00", GS_CUT + b"\x01", GS_CUT + b"A\x00", GS_CUT + b"B\x00"))


def test_escpos_other_encoding_and_unknown_encoding() -> None:
    snap = sample_snapshot("ticket")
    utf8 = ticket_escpos_bytes(snap, encoding="utf-8")
    assert "商事登记".encode() in utf8 and b"\x1c&" not in utf8  # no Chinese mode for a UTF-8 printer
    assert b"\x1c&" in ticket_escpos_bytes(snap)  # FS & (Chinese character mode) for GB18030
    with pytest.raises(DocumentError, match="Unknown printer encoding"):
        ticket_escpos_bytes(snap, encoding="klingon")


def test_escpos_rejects_a_notice() -> None:
    with pytest.raises(DocumentError):
        ticket_escpos_bytes(sample_snapshot("acceptance_notice"))


def _unused_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_network_printer_on_a_closed_port_is_a_clear_print_error() -> None:
    port = _unused_port()
    with pytest.raises(PrintError) as info:
        print_escpos(b"\x1b@hello", f"network:127.0.0.1:{port}", timeout=3)
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message
    assert "9100" in message and "switched on" in message
    assert "无法连接网络小票打印机" in message
    assert "Traceback" not in message


def test_network_printer_receives_the_bytes() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        data = ticket_escpos_bytes(sample_snapshot("ticket"))
        print_escpos(data, f"network:127.0.0.1:{port}", timeout=3)  # kernel accepts into the backlog
        conn, _ = server.accept()
        with conn:
            conn.settimeout(3)
            received = b""
            while chunk := conn.recv(65536):
                received += chunk
    assert received == data


@pytest.mark.parametrize(
    ("target", "needle"),
    [
        ("lpt1", "Unknown printer target"),
        ("bluetooth:00:11", "Unknown printer target"),
        ("network:127.0.0.1:notaport", "Bad port"),
        ("usb:zz:yy", "Bad USB printer target"),
        ("usb:0x0416:0x5011", "usb:0416:5011"),
        ("file:/nonexistent-dir/lp0", "file:/nonexistent-dir/lp0"),
    ],
)
def test_bad_printer_targets_are_print_errors(target: str, needle: str) -> None:
    with pytest.raises(PrintError) as info:
        print_escpos(b"\x1b@", target, timeout=1)
    assert needle in str(info.value)


# --- fonts ------------------------------------------------------------------------------------------


def test_find_cjk_font_returns_a_usable_font() -> None:
    path = find_cjk_font()
    assert path.is_file()


def test_font_not_found_message_names_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WT_CJK_FONT", str(tmp_path / "missing.ttf"))
    monkeypatch.setattr(fonts_module, "DEFAULT_FONT_PATHS", [])
    monkeypatch.setattr(fonts_module, "USE_FONTCONFIG", False)
    with pytest.raises(FontNotFound) as info:
        find_cjk_font()
    message = str(info.value)
    assert "apt-get install fonts-wqy-microhei" in message
    assert "WT_CJK_FONT" in message and "cjk_font" in message
    assert "未找到可用的中文字体" in message
    assert isinstance(info.value, DocumentError)
    with pytest.raises(FontNotFound):
        render_pdf(sample_snapshot("acceptance_notice"))


def test_cff_and_non_chinese_fonts_are_skipped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cff = tmp_path / "NotoSansCJK-Regular.otf"
    cff.write_bytes(b"OTTO" + bytes(64))  # an OpenType/CFF header: reportlab cannot embed it
    assert find_cjk_font(cff) != cff  # skipped, the next usable font is taken
    monkeypatch.delenv("WT_CJK_FONT", raising=False)
    monkeypatch.setattr(
        fonts_module, "DEFAULT_FONT_PATHS", [Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")]
    )
    monkeypatch.setattr(fonts_module, "USE_FONTCONFIG", False)
    with pytest.raises(FontNotFound) as info:
        find_cjk_font(cff)
    assert "CFF" in str(info.value)
    if Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").exists():
        assert "no Chinese glyphs" in str(info.value)


def test_configured_font_is_used(tmp_path: Path) -> None:
    path = find_cjk_font()
    assert find_cjk_font(str(path)) == path
    assert render_pdf(sample_snapshot("ticket"), font=path).startswith(b"%PDF")


# --- text preview -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(NOTICE_KINDS))
def test_document_text_says_what_the_pdf_says(kind: str) -> None:
    snap = sample_snapshot(kind)
    text = document_text(snap)
    assert snap["number"] in text and snap["applicant"]["name"] in text and snap["item"]["name"] in text
    assert NOTICE_KINDS[kind] in text
    assert snap["query_code"] in text and "扫码或凭查询码查询办理进度" in text
    assert "（盖章）" in text and "王芳" in text
    assert all(display_width(line) <= 78 for line in text.splitlines())
    if kind in ("non_acceptance_notice", "refusal_notice"):
        assert "申请行政复议" in flat(text) and "提起行政诉讼" in flat(text)


def test_document_text_of_one_time_notice_and_ticket(one_time: dict[str, Any]) -> None:
    text = flat(document_text(one_time))
    for i, m in enumerate(one_time["materials_missing"], 1):
        assert flat(f"{i} {m['name']}") in text
    assert f"2027年1月4日{PROVISIONAL_NOTE}" in text
    ticket = document_text(sample_snapshot("ticket"))
    assert "A007" in ticket and "商事登记" in ticket and "过号请重新取号" in ticket
    assert "您前面还有 5 人等候" in ticket
