"""PDF rendering with reportlab platypus: A4 notices and 80 mm queue tickets.

The Chinese font is embedded (subset) from a TrueType font found by :mod:`.fonts`. Output is
byte-for-byte reproducible for the same snapshot (reportlab's *invariant* mode), so a reprint of a
frozen snapshot is exactly what the applicant received.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import ttfonts as _ttfonts
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus import paragraph as _paragraph
from reportlab.platypus.flowables import HRFlowable

from . import content as c
from .fonts import FontChain, load_font_chain, marked, undrawable_in

# reportlab's CJK line breaking knows the Japanese "cannot start a line" characters but not the
# Chinese full-width comma, colon, semicolon etc.; without them a line may begin with "，".
_CN_NO_LINE_START = "，；：？！、。）》」』”’％"
if not set(_CN_NO_LINE_START) <= set(_paragraph.ALL_CANNOT_START):
    _paragraph.ALL_CANNOT_START = _paragraph.ALL_CANNOT_START + _CN_NO_LINE_START


def _utf16_hex(code: int) -> str:
    return chr(code).encode("utf-16-be").hex().upper()


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab's ToUnicode CMap writes ``<%04X>``, a broken entry for a character beyond the BMP
    (𠮷 U+20BB7 came out as ``<20BB7>``: text extraction and search lost it). The PDF reference wants
    UTF-16BE, a surrogate pair there: ``<D842DFB7>``."""
    entries = [f"<{i:02X}> <{_utf16_hex(v)}>" for i, v in enumerate(subset)]
    return "\n".join(
        [
            "/CIDInit /ProcSet findresource begin",
            "12 dict begin",
            "begincmap",
            "/CIDSystemInfo",
            f"<< /Registry ({fontname})",
            f"/Ordering ({fontname})",
            "/Supplement 0",
            ">> def",
            f"/CMapName /{fontname} def",
            "/CMapType 2 def",
            "1 begincodespacerange",
            f"<00> <{len(subset) - 1:02X}>",
            "endcodespacerange",
            f"{len(subset)} beginbfchar",
            *entries,
            "endbfchar",
            "endcmap",
            "CMapName currentdict /CMap defineresource pop",
            "end",
            "end",
        ]
    )


_ttfonts.makeToUnicodeCMap = _to_unicode_cmap
NBSP = "\u00a0"
BLANK_DATE = f"{NBSP * 6}年{NBSP * 4}月{NBSP * 4}日"

TICKET_WIDTH = 80 * mm
INK = colors.HexColor("#111111")
GRID = colors.HexColor("#555555")
SHADE = colors.HexColor("#eeeeee")
FAINT = colors.HexColor("#9a9a9a")


class BoldParagraph(Paragraph):
    """A paragraph drawn with fill+stroke (text render mode 2): a bold face for fonts that have none.

    The text stays extractable exactly once (unlike double-printing with an offset).
    """

    def draw(self) -> None:
        canv = self.canv
        canv.saveState()
        canv.setStrokeColor(self.style.textColor)
        canv.setLineWidth(self.style.fontSize * 0.035)
        canv._code.append("2 Tr")  # text state lives in the graphics state (reportlab is untyped)
        super().draw()
        canv.restoreState()


class SealArea(Flowable):
    """The issuing office, the date and a dashed circle marking where the official seal goes."""

    def __init__(self, font: str, office: str, date_text: str, width: float, height: float = 35 * mm) -> None:
        super().__init__()
        self.font, self.office, self.date_text = font, office, date_text
        self.width, self.height = width, height

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        return self.width, self.height

    def draw(self) -> None:
        canv = self.canv
        cx, cy, r = self.width / 2, self.height / 2 + 1 * mm, 17 * mm
        canv.saveState()
        canv.setStrokeColor(FAINT)
        canv.setLineWidth(0.6)
        canv.setDash(3, 2)
        canv.circle(cx, cy, r, stroke=1, fill=0)
        canv.setFillColor(FAINT)
        canv.setFont(self.font, 9)
        canv.drawCentredString(cx, cy + r - 7 * mm, "盖章处")
        canv.restoreState()
        canv.setFillColor(INK)
        size = 11.0
        while size > 7 and canv.stringWidth(self.office, self.font, size) > self.width:
            size -= 0.5
        canv.setFont(self.font, size)
        canv.drawCentredString(cx, cy - 2 * mm, self.office)
        canv.setFont(self.font, 11)
        canv.drawCentredString(cx, cy - 9 * mm, self.date_text or BLANK_DATE)


def _qr(payload: str, size: float) -> Drawing:
    """A vector QR code (error correction M, 4-module quiet zone) of ``size`` points square."""
    widget = QrCodeWidget(payload, barLevel="M", barBorder=4)
    x1, y1, x2, y2 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x2 - x1), 0, 0, size / (y2 - y1), 0, 0])
    drawing.add(widget)
    return drawing


class _Styles:
    def __init__(self, font: str) -> None:
        def ps(name: str, **kw: Any) -> ParagraphStyle:
            base: dict[str, Any] = {
                "fontName": font,
                "fontSize": 10.5,
                "leading": 16.5,
                "textColor": INK,
                "wordWrap": "CJK",
            }
            base.update(kw)
            return ParagraphStyle(name, **base)

        self.font = font
        self.small = ps("small", fontSize=9, leading=12, textColor=colors.HexColor("#444444"))
        self.small_right = ps("small_right", fontSize=9.5, leading=12, alignment=TA_RIGHT)
        self.office = ps("office", fontSize=14, leading=19, alignment=TA_CENTER, spaceBefore=0)
        self.title = ps("title", fontSize=22, leading=28, alignment=TA_CENTER, spaceBefore=2, spaceAfter=8)
        self.body = ps("body", firstLineIndent=21, spaceBefore=1, spaceAfter=1)
        self.body_flat = ps("body_flat", spaceBefore=3, spaceAfter=1)
        self.strong = ps("strong", spaceBefore=3, spaceAfter=1)
        self.heading = ps("heading", fontSize=11, leading=16, spaceBefore=6, spaceAfter=3, keepWithNext=1)
        self.cell = ps("cell", fontSize=10, leading=13.5)
        self.cell_center = ps("cell_center", fontSize=10, leading=13.5, alignment=TA_CENTER)
        self.label = ps("label", fontSize=10, leading=13.5, alignment=TA_CENTER)
        self.foot = ps("foot", fontSize=10, leading=16)
        self.qr_code = ps("qr_code", fontSize=9.5, leading=12, alignment=TA_CENTER)
        self.qr_hint = ps("qr_hint", fontSize=8, leading=10, alignment=TA_CENTER)


#: the fallback chain of each main font (by its reportlab name), set by :func:`render_pdf`
_CHAINS: dict[str, FontChain] = {}


def markup(text: str, font: str) -> str:
    """``text`` as paragraph markup: escaped, and every run of characters the main ``font`` lacks set
    in the first fallback font that has them (e.g. 𠮷 U+20BB7 in 花園明朝), so nothing prints blank."""
    chain = _CHAINS.get(font)
    if chain is None:
        return escape(text)
    out: list[str] = []
    run, run_font = "", font
    for ch in text:
        wanted = chain.font_for(ch) or font
        if wanted != run_font and run:
            out.append(escape(run) if run_font == font else f'<font name="{run_font}">{escape(run)}</font>')
            run = ""
        run_font = wanted
        run += ch
    if run:
        out.append(escape(run) if run_font == font else f'<font name="{run_font}">{escape(run)}</font>')
    return "".join(out)


def _p(text: str, style: ParagraphStyle, bold: bool = False) -> Paragraph:
    cls = BoldParagraph if bold else Paragraph
    return cls(markup(text, style.fontName), style)


_CELL_STYLE = [
    ("GRID", (0, 0), (-1, -1), 0.5, GRID),
    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ("TOPPADDING", (0, 0), (-1, -1), 2.5),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
]


def _field_grid(block: c.FieldGrid, st: _Styles, width: float) -> list[Flowable]:
    label_w = 26 * mm
    value_w = (width - 2 * label_w) / 2
    rows: list[list[Any]] = []
    spans: list[int] = []
    pending: list[Any] = []
    for f in block.fields:
        cells = [_p(f.label, st.label), _p(f.value, st.cell)]
        if f.wide:
            if pending:
                spans.append(len(rows))
                rows.append(pending + ["", ""])
                pending = []
            spans.append(len(rows))
            rows.append(cells + ["", ""])
        else:
            pending += cells
            if len(pending) == 4:
                rows.append(pending)
                pending = []
    if pending:
        spans.append(len(rows))
        rows.append(pending + ["", ""])
    style: list[tuple[Any, ...]] = [
        *_CELL_STYLE,
        ("BACKGROUND", (0, 0), (0, -1), SHADE),
        ("BACKGROUND", (2, 0), (2, -1), SHADE),
    ]
    for row in spans:
        style += [("SPAN", (1, row), (3, row)), ("BACKGROUND", (1, row), (3, row), colors.white)]
    table = Table(rows, colWidths=[label_w, value_w, label_w, value_w], style=TableStyle(style))
    out: list[Flowable] = []
    if block.heading:
        out.append(_p(block.heading, st.heading, bold=True))
    out += [table, Spacer(1, 3)]
    return out


def _column_widths(block: c.Table, font: str, width: float) -> list[float]:
    """Centred (numeric) columns get their natural width; text columns share the rest by weight."""
    pad = 12.0
    fixed: dict[int, float] = {}
    for i, col in enumerate(block.columns):
        if col.align == "center":
            texts = [col.title] + [row[i] for row in block.rows]
            fixed[i] = max(stringWidth(t, font, 10) for t in texts) + pad
    rest = width - sum(fixed.values())
    weight = sum(col.width for i, col in enumerate(block.columns) if i not in fixed) or 1.0
    return [fixed.get(i, rest * col.width / weight) for i, col in enumerate(block.columns)]


def _table(block: c.Table, st: _Styles, width: float) -> list[Flowable]:
    header = [_p(col.title, st.label, bold=True) for col in block.columns]
    body = [
        [
            _p(text, st.cell_center if col.align == "center" else st.cell)
            for text, col in zip(row, block.columns)
        ]
        for row in block.rows
    ]
    table = Table(
        [header, *body],
        colWidths=_column_widths(block, st.font, width),
        repeatRows=1,
        style=TableStyle([*_CELL_STYLE, ("BACKGROUND", (0, 0), (-1, 0), SHADE)]),
    )
    out: list[Flowable] = []
    if block.heading:
        out.append(_p(block.heading, st.heading, bold=True))
    out.append(table)
    if block.footer:
        out.append(_p(block.footer, st.strong, bold=True))
    out.append(Spacer(1, 3))
    return out


def _sign_line(label: str, st: _Styles, width: float) -> Table:
    """``label`` followed by a ruled blank to sign on."""
    label_w = stringWidth(label, st.font, st.foot.fontSize) + 2
    return Table(
        [[_p(label, st.foot), ""]],
        colWidths=[label_w, max(20.0, width - label_w)],
        style=TableStyle(
            [
                ("LINEBELOW", (1, 0), (1, 0), 0.5, INK),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
            ]
        ),
        hAlign="LEFT",
    )


def _footer_block(notice: c.Notice, st: _Styles, width: float) -> Flowable:
    qr_w, seal_w = 40 * mm, 62 * mm
    info_w = width - qr_w - seal_w
    qr_cell: list[Flowable] = []
    if notice.qr_payload:
        qr_cell = [
            _qr(notice.qr_payload, 28 * mm),
            _p(notice.query_code or notice.qr_payload, st.qr_code),
            _p(c.QR_HINT, st.qr_hint),
        ]
    info: list[Flowable] = []
    if notice.window:
        info.append(_p(f"经办窗口：{notice.window}", st.foot))
    if notice.clerk:
        info.append(_p(f"经办人：{notice.clerk}", st.foot))
    if notice.issued:
        info.append(_p(f"出具时间：{notice.issued}", st.foot))
    if notice.receipt_line:
        info += [
            Spacer(1, 10),
            _sign_line("申请人（代理人）签收：", st, info_w - 16),
            Spacer(1, 6),
            _p(f"签收日期：{BLANK_DATE}", st.foot),
        ]
    seal = SealArea(st.font, notice.seal or notice.office, notice.issued_date, seal_w - 4)
    table = Table(
        [[qr_cell, info, seal]],
        colWidths=[qr_w, info_w, seal_w],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (0, 0), 0),
                ("LEFTPADDING", (2, 0), (2, 0), 2),
                ("RIGHTPADDING", (2, 0), (2, 0), 2),
            ]
        ),
    )
    return KeepTogether(
        [Spacer(1, 6), HRFlowable(width="100%", thickness=0.5, color=GRID, spaceAfter=2), table]
    )


def _notice_story(notice: c.Notice, st: _Styles, width: float) -> list[Flowable]:
    head = Table(
        [[_p(notice.hall, st.small), _p(f"编号：{notice.number}", st.small_right)]],
        colWidths=[width * 0.45, width * 0.55],
        style=TableStyle(
            [
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
            ]
        ),
    )
    story: list[Flowable] = [
        head,
        HRFlowable(width="100%", thickness=0.8, color=INK, spaceBefore=2, spaceAfter=8),
    ]
    if notice.office:
        story.append(_p(notice.office, st.office))
    story.append(_p(notice.title, st.title, bold=True))
    for block in notice.blocks:
        if isinstance(block, c.FieldGrid):
            story += _field_grid(block, st, width)
        elif isinstance(block, c.Table):
            story += _table(block, st, width)
        elif block.strong:
            story.append(_p(block.text, st.strong, bold=True))
        else:
            story.append(_p(block.text, st.body if block.indent else st.body_flat))
    story.append(_footer_block(notice, st, width))
    return story


def _font_name(font: str | os.PathLike[str] | None) -> str:
    chain = load_font_chain(font)
    _CHAINS[chain.primary.name] = chain
    return chain.primary.name


def _render_notice(notice: c.Notice, font: str) -> bytes:
    st = _Styles(font)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=22 * mm,
        rightMargin=22 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"{notice.title} {notice.number}",
        author=notice.office,
        subject=c.KINDS[notice.kind],
        creator="Window Terminal",
        producer="Window Terminal (reportlab)",
        invariant=1,
    )

    def page_footer(canv: Canvas, doc: SimpleDocTemplate) -> None:
        canv.saveState()
        canv.setFont(font, 8.5)
        canv.setFillColor(FAINT)
        canv.drawCentredString(A4[0] / 2, 10 * mm, f"— {doc.page} —")
        canv.drawRightString(A4[0] - 22 * mm, 10 * mm, notice.number)
        canv.restoreState()

    doc.build(_notice_story(notice, st, doc.width), onFirstPage=page_footer, onLaterPages=page_footer)
    return buf.getvalue()


def _ticket_story(t: c.Ticket, font: str, width: float) -> list[Flowable]:
    def ps(name: str, size: float, leading: float, **kw: Any) -> ParagraphStyle:
        return ParagraphStyle(
            name,
            fontName=font,
            fontSize=size,
            leading=leading,
            alignment=TA_CENTER,
            textColor=INK,
            wordWrap="CJK",
            **kw,
        )

    number_size = 52.0 if len(t.number) <= 5 else 36.0
    story: list[Flowable] = [
        _p(t.hall, ps("hall", 12, 16), bold=True),
        HRFlowable(width="100%", thickness=0.6, color=INK, dash=(2, 2), spaceBefore=4, spaceAfter=4),
        _p(t.title, ps("label", 9, 12)),
        _p(t.number, ps("number", number_size, number_size * 1.15), bold=True),
    ]
    info = ps("info", 10.5, 15)
    for i, line in enumerate(t.lines):
        if i == 0 and t.line:
            story.append(_p(t.line, ps("line", 15, 20, spaceAfter=3), bold=True))
        else:
            story.append(_p(line, info))
    story += [Spacer(1, 4), _qr(t.qr_payload, 30 * mm)]
    story.append(_p(t.qr_payload, ps("code", 8, 10)))
    story.append(HRFlowable(width="100%", thickness=0.6, color=INK, dash=(2, 2), spaceBefore=4, spaceAfter=4))
    for i, hint in enumerate(t.hints):
        story.append(_p(hint, ps(f"hint{i}", 11 if i == 0 else 9, 15 if i == 0 else 12), bold=i == 0))
    for f in story:
        f.hAlign = "CENTER"
    return story


def _render_ticket(ticket: c.Ticket, font: str) -> bytes:
    margin = 4 * mm
    frame_pad = 6  # SimpleDocTemplate's frame padding on every side
    width = TICKET_WIDTH - 2 * margin - 2 * frame_pad
    story = _ticket_story(ticket, font, width)
    height = 0.0
    for f in story:
        height += f.wrap(width, 10_000)[1] + f.getSpaceBefore() + f.getSpaceAfter()
    page_h = height + 2 * margin + 2 * frame_pad + 8
    story = _ticket_story(ticket, font, width)  # fresh flowables: wrap() caches layout state
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=(TICKET_WIDTH, page_h),
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=f"排队号 {ticket.number}",
        author=ticket.hall,
        subject="排队小票",
        creator="Window Terminal",
        producer="Window Terminal (reportlab)",
        invariant=1,
    )
    doc.build(story)
    return buf.getvalue()


def render_pdf(snapshot: Mapping[str, Any], *, font: str | os.PathLike[str] | None = None) -> bytes:
    """Render a document snapshot to PDF bytes: A4 for notices, an 80 mm wide slip for ``kind="ticket"``.

    ``font`` is the configured Chinese font path (``cjk_font``); see :func:`.fonts.find_cjk_font` for the
    search order. A character no font of the chain has is printed as a placeholder and named in a note
    (:func:`.fonts.marked`). Raises :class:`.FontNotFound` when no usable font exists and
    :class:`.DocumentError` for a snapshot of unknown kind.
    """
    font_name = _font_name(font)
    missing = undrawable_in(snapshot, font)
    if missing:  # only a receipt of materials is ever issued so (document_store): marked and named
        snapshot = marked(snapshot, missing)
    doc = c.build(snapshot)
    if isinstance(doc, c.Ticket):
        return _render_ticket(doc, font_name)
    return _render_notice(doc, font_name)


__all__ = ["TICKET_WIDTH", "render_pdf"]
