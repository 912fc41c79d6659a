"""Plain monospace text of a document, for the terminal preview and ``wt doc show``.

Chinese characters take two terminal columns; alignment uses display width, and only ASCII rules
are drawn (box-drawing characters have ambiguous width in Chinese terminals).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from . import content as c

# Characters that must not begin a line (禁则).
_NO_LINE_START = set("，。、；：？！）》」』”’％,.;:?!)]}%")


def display_width(text: str) -> int:
    """Terminal columns taken by ``text`` (wide/fullwidth characters count 2)."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def _pad(text: str, width: int, align: str = "left") -> str:
    gap = max(0, width - display_width(text))
    if align == "center":
        return " " * (gap // 2) + text + " " * (gap - gap // 2)
    if align == "right":
        return " " * gap + text
    return text + " " * gap


_TOKEN = re.compile(r"[A-Za-z0-9*#@._/:+\-]+|.", re.S)


def wrap(text: str, width: int) -> list[str]:
    """Break ``text`` into lines of at most ``width`` columns: CJK between any two characters, Latin
    words and numbers (ID numbers, case numbers) kept whole, no punctuation at the start of a line."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, used = "", 0
        for token in _TOKEN.findall(paragraph):
            w = display_width(token)
            if len(token) > 1 and w > width:  # a word longer than a line: split it anywhere
                for ch in token:
                    if used + display_width(ch) > width and line:
                        lines.append(line.rstrip())
                        line, used = "", 0
                    line += ch
                    used += display_width(ch)
                continue
            if used + w > width and line and token not in _NO_LINE_START:
                lines.append(line.rstrip())
                line, used = "", 0
                if token == " ":
                    continue
            line += token
            used += w
        lines.append(line.rstrip())
    return lines


def _field_grid(block: c.FieldGrid, width: int) -> list[str]:
    out: list[str] = []
    if block.heading:
        out.append(block.heading)
    half = width // 2
    pending: str | None = None
    for f in block.fields:
        cell = f"{f.label}：{f.value}"
        if f.wide or display_width(cell) > half - 2:
            if pending is not None:
                out.append(pending)
                pending = None
            out += wrap(cell, width)
        elif pending is None:
            pending = cell
        else:
            out.append(_pad(pending, half) + cell)
            pending = None
    if pending is not None:
        out.append(pending)
    return out


def _table(block: c.Table, width: int) -> list[str]:
    out: list[str] = []
    if block.heading:
        out.append(block.heading)
    gap = 2
    natural = [
        max([display_width(col.title)] + [display_width(row[i]) for row in block.rows])
        for i, col in enumerate(block.columns)
    ]
    avail = width - gap * (len(block.columns) - 1)
    widths = list(natural)
    if sum(widths) > avail:  # shrink the widest columns, keep short ones (序号) whole
        total = sum(col.width for col in block.columns)
        widths = [
            min(n, max(display_width(col.title), int(avail * col.width / total)))
            for n, col in zip(natural, block.columns)
        ]
        spare = avail - sum(widths)
        for i in sorted(range(len(widths)), key=lambda i: natural[i] - widths[i], reverse=True):
            if spare <= 0:
                break
            extra = min(spare, natural[i] - widths[i])
            widths[i] += extra
            spare -= extra
    sep = " " * gap

    def line(cells: list[list[str]], aligns: list[str]) -> list[str]:
        rows = max(len(cell) for cell in cells)
        return [
            sep.join(
                _pad(cell[r] if r < len(cell) else "", w, a) for cell, w, a in zip(cells, widths, aligns)
            ).rstrip()
            for r in range(rows)
        ]

    aligns = [col.align for col in block.columns]
    out += line([wrap(col.title, w) for col, w in zip(block.columns, widths)], aligns)
    out.append(sep.join("-" * w for w in widths))
    for row in block.rows:
        out += line([wrap(text, w) for text, w in zip(row, widths)], aligns)
    if block.footer:
        out += wrap(block.footer, width)
    return out


def _notice_text(n: c.Notice, width: int) -> str:
    number = f"编号：{n.number}"
    out = [_pad(n.hall, width - display_width(number)) + number, "=" * width]
    if n.office:
        out.append(_pad(n.office, width, "center").rstrip())
    out += [_pad(n.title, width, "center").rstrip(), ""]
    for block in n.blocks:
        if isinstance(block, c.FieldGrid | c.Table) and out[-1] != "":
            out.append("")
        if isinstance(block, c.FieldGrid):
            out += _field_grid(block, width) + [""]
        elif isinstance(block, c.Table):
            out += _table(block, width) + [""]
        else:
            text = ("　　" if block.indent else "") + block.text
            out += wrap(text, width)
    if out[-1] != "":
        out.append("")
    out.append("-" * width)
    if n.qr_payload:
        out.append(f"查询码：{n.query_code or n.qr_payload}（{c.QR_HINT}）")
    meta = [
        s
        for s in (
            f"经办窗口：{n.window}" if n.window else "",
            f"经办人：{n.clerk}" if n.clerk else "",
            f"出具时间：{n.issued}" if n.issued else "",
        )
        if s
    ]
    if meta:
        out.append("    ".join(meta))
    if n.receipt_line:
        out.append(_pad("申请人（代理人）签收：", width // 2) + "签收日期：　　年　　月　　日")
    out.append("")
    seal = f"{n.seal or n.office}（盖章）"
    date_line = n.issued_date or "　　年　　月　　日"
    right = max(display_width(seal), display_width(date_line)) + 2
    out.append(_pad("", width - right) + _pad(seal, right, "center").rstrip())
    out.append(_pad("", width - right) + _pad(date_line, right, "center").rstrip())
    return "\n".join(line.rstrip() for line in out) + "\n"


def _ticket_text(t: c.Ticket, width: int) -> str:
    width = min(width, 40)

    def center(s: str) -> str:
        return _pad(s, width, "center").rstrip()

    out = [center(t.hall), "-" * width, center(t.title), "", center(t.number), ""]
    out += [center(line) for line in t.lines]
    out += ["", center(f"查询码：{t.qr_payload}"), "-" * width]
    out += [center(h) for h in t.hints]
    return "\n".join(out) + "\n"


def document_text(snapshot: Mapping[str, Any], *, width: int = 78) -> str:
    """The document as monospace Chinese text of at most ``width`` columns (same content as the PDF)."""
    doc = c.build(snapshot)
    if isinstance(doc, c.Ticket):
        return _ticket_text(doc, width)
    return _notice_text(doc, width)
