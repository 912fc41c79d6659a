"""A period report as a printable PDF (reportlab): A4 landscape, the same figures as the workbook.

Page 1: the title block, the headline indicators and a chart of arrivals, served and waits by hour.
Then every table of the report, headers repeated on each page, 合计 rows in bold, the hall's words for
codes. The Chinese font is the documents module's (:func:`core.documents.fonts.load_cjk_font`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from window_terminal.core.reports.queries import Report, Table
from window_terminal.core.reports.workbook import (
    DECIMAL2,
    MINUTES,
    PERCENT,
    number_format,
    shown_columns,
    shown_value,
    title_lines,
)
from window_terminal.i18n import tr


def cell_words(table: Table, row: dict[str, Any], key: str) -> str:
    """A cell as printed: the workbook's words and number formats, — for nothing."""
    value = shown_value(table, row, key)
    if value is None:
        return "—"
    fmt = number_format(table, row, key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if fmt == PERCENT:
            return f"{float(value):.1f}%"
        if fmt == MINUTES:
            return f"{float(value):.1f}"
        if fmt == DECIMAL2:
            return f"{float(value):.2f}"
        return f"{value:,}" if isinstance(value, int) else f"{value:.1f}"
    return str(value)


def write_pdf(report: Report, path: Path, *, font: str | os.PathLike[str] | None = None) -> None:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer
    from reportlab.platypus import Table as PdfTable

    from window_terminal.core.documents.fonts import load_cjk_font

    name = load_cjk_font(font).name
    page = landscape(A4)
    margin = 12 * mm
    width = page[0] - 2 * margin
    title = ParagraphStyle("t", fontName=name, fontSize=16, leading=20, spaceAfter=2)
    sub = ParagraphStyle("s", fontName=name, fontSize=9, leading=12, textColor=colors.HexColor("#404040"))
    h2 = ParagraphStyle(
        "h", fontName=name, fontSize=11, leading=15, spaceBefore=6, spaceAfter=3, keepWithNext=1
    )
    lines = title_lines(report)
    tables = {t.key: t for t in report.tables}

    story: list[Any] = [
        Paragraph(lines[0], title),
        *(Paragraph(x, sub) for x in lines[1:]),
        Spacer(1, 4 * mm),
    ]
    if "headline" in tables:
        story.append(Paragraph(tables["headline"].title, h2))
        story.append(_headline_grid(tables["headline"], name, width))
        story.append(Spacer(1, 4 * mm))
    if "by_hour" in tables and tables["by_hour"].rows:
        story.append(Paragraph(tr("各时段到达、办结与等候", "Arrivals, served and waits by hour"), h2))
        story.append(_hour_charts(tables["by_hour"], name, width))
    story.append(PageBreak())
    for table in report.tables:
        if table.key == "headline":
            continue
        story.append(Paragraph(table.title, h2))
        story.append(_table(table, name, width, PdfTable))

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(name, 8)
        canvas.setFillColor(colors.HexColor("#606060"))
        canvas.drawString(margin, 7 * mm, f"{report.hall_name}　{lines[1]}")
        canvas.drawRightString(page[0] - margin, 7 * mm, tr(f"第 {doc.page} 页", f"page {doc.page}"))
        canvas.restoreState()

    doc = SimpleDocTemplate(
        str(path),
        pagesize=page,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=lines[0],
        author=report.hall_name,
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)


def _style(font: str, header_rows: int, total_row: int | None) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import TableStyle

    commands: list[Any] = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("FONTSIZE", (0, 0), (-1, -1), 7.5),
        ("LEADING", (0, 0), (-1, -1), 9),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#808080")),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#DDEBF7")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (0, header_rows), (-1, -1), "RIGHT"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    if total_row is not None:
        commands += [
            ("BACKGROUND", (0, total_row), (-1, total_row), colors.HexColor("#F2F2F2")),
            ("LINEABOVE", (0, total_row), (-1, total_row), 1.0, colors.black),
        ]
    return TableStyle(commands)


def _table(table: Table, font: str, width: float, pdf_table: Any) -> Any:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph

    head = ParagraphStyle("th", fontName=font, fontSize=7.5, leading=9, alignment=1)
    cols = shown_columns(table)
    data: list[list[Any]] = [[Paragraph(h, head) for _k, h in cols]]
    for row in table.rows:
        data.append([cell_words(table, row, k) for k, _h in cols])
    if not table.rows:
        data.append([tr("（无数据）", "(no data)")] + [""] * (len(cols) - 1))
    total_row = None
    if table.total is not None and table.rows:
        total_row = len(data)
        data.append(
            ["" if table.total.get(k) is None else cell_words(table, table.total, k) for k, _h in cols]
        )
    text_cols = [
        i for i, (k, _h) in enumerate(cols) if all(isinstance(r.get(k), str) for r in table.rows[:50])
    ]
    weights = [3.0 if i in text_cols else 1.0 for i in range(len(cols))]
    scale = min(width / sum(weights), 60.0)
    out = pdf_table(data, colWidths=[w * scale for w in weights], repeatRows=1, hAlign="LEFT")
    style = _style(font, 1, total_row)
    for i in text_cols:
        style.add("ALIGN", (i, 1), (i, -1), "LEFT")
    out.setStyle(style)
    return out


def _headline_grid(table: Table, font: str, width: float) -> Any:
    """The headline indicators in three label/value pairs per row."""
    from reportlab.platypus import Table as PdfTable

    pairs = [(r["label"], cell_words(table, r, "value")) for r in table.rows]
    per_row = 3
    data: list[list[str]] = []
    for i in range(0, len(pairs), per_row):
        chunk = pairs[i : i + per_row]
        row: list[str] = []
        for label, value in chunk:
            row += [label, value]
        row += [""] * (2 * per_row - len(row))
        data.append(row)
    unit = width / (per_row * 4)
    out = PdfTable(
        data, colWidths=[unit * 3 if c % 2 == 0 else unit for c in range(2 * per_row)], hAlign="LEFT"
    )
    style = _style(font, 0, None)
    style.add("FONTSIZE", (0, 0), (-1, -1), 9)
    style.add("LEADING", (0, 0), (-1, -1), 12)
    for c in range(0, 2 * per_row, 2):
        style.add("ALIGN", (c, 0), (c, -1), "LEFT")
        style.add("BACKGROUND", (c, 0), (c, -1), "#F2F2F2")
    out.setStyle(style)
    return out


def _hour_charts(table: Table, font: str, width: float) -> Any:
    """Two charts side by side: arrivals and served per hour (bars); mean and P90 wait (lines)."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.charts.linecharts import HorizontalLineChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    hours = [r["hour"][:2] for r in table.rows]
    half = width / 2 - 10
    height = 200
    drawing = Drawing(width, height)

    def frame(chart: Any, x: float, title: str) -> None:
        chart.x, chart.y, chart.width, chart.height = x + 40, 45, half - 60, height - 80
        chart.categoryAxis.categoryNames = hours
        chart.categoryAxis.labels.fontName = font
        chart.categoryAxis.labels.fontSize = 7
        chart.valueAxis.labels.fontName = font
        chart.valueAxis.labels.fontSize = 7
        chart.valueAxis.valueMin = 0
        drawing.add(chart)
        drawing.add(String(x + half / 2, height - 14, title, fontName=font, fontSize=9, textAnchor="middle"))

    bars = VerticalBarChart()
    bars.data = [[r["arrivals"] or 0 for r in table.rows], [r["served_in_hour"] or 0 for r in table.rows]]
    bars.bars[0].fillColor = colors.HexColor("#4F81BD")
    bars.bars[1].fillColor = colors.HexColor("#C0504D")
    frame(bars, 0, tr("到达与办结（人）", "arrivals and served (tickets)"))
    waits = HorizontalLineChart()
    waits.data = [
        [r["wait_mean_min"] or 0 for r in table.rows],
        [r["wait_p90_min"] or 0 for r in table.rows],
    ]
    waits.lines[0].strokeColor = colors.HexColor("#9BBB59")
    waits.lines[1].strokeColor = colors.HexColor("#F79646")
    waits.lines[0].strokeWidth = waits.lines[1].strokeWidth = 1.5
    frame(waits, half + 20, tr("等候时间（分钟）", "waiting time (min)"))

    def legend(x: float, items: list[tuple[Any, str]]) -> None:
        lg = Legend()
        lg.x, lg.y = x + 50, 18
        lg.fontName, lg.fontSize = font, 8
        lg.alignment = "right"
        lg.columnMaximum = 1
        lg.colorNamePairs = items
        drawing.add(lg)

    legend(
        0,
        [
            (bars.bars[0].fillColor, tr("到达(取号)", "arrivals")),
            (bars.bars[1].fillColor, tr("办结", "served")),
        ],
    )
    legend(
        half + 20,
        [
            (waits.lines[0].strokeColor, tr("平均等候", "mean wait")),
            (waits.lines[1].strokeColor, tr("等候P90", "wait P90")),
        ],
    )
    return drawing
