"""A report as a workbook a supervisor can hand to the head of the centre (XLSX, openpyxl).

Every sheet opens with a title block (hall, report, period, generated at by the database clock, masked
or not); tables carry Chinese headers and words, never codes; a 合计 row (the hall's own figures);
number formats by kind (counts, minutes with one decimal, percentages); thin borders; frozen headers;
column widths from the text; A4 landscape, fitted to the page width, print titles repeated on every
page. A period report is laid out on three sheets so that it prints on a few pages: 概况 (headline
indicators, queue overview, cases, ratings), 分组统计 (line, window, clerk, department) and 按时段 (table
and chart, the chart below the table on the same page). The overdue sheet colours red and yellow rows.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

from window_terminal.core.reports.indicators import UNITS
from window_terminal.core.reports.queries import Report, Table
from window_terminal.i18n import tr, tr_code

COUNT, MINUTES, PERCENT, DECIMAL2 = "#,##0", "0.0", '0.0"%"', "0.00"
RED_FILL, YELLOW_FILL = "FFC7CE", "FFEB9C"
HEADER_FILL, TOTAL_FILL, SECTION_FILL = "DDEBF7", "F2F2F2", "BDD7EE"

KIND_TITLES = {
    "daily": ("服务大厅日报", "Daily report"),
    "range": ("服务大厅区间报表", "Period report"),
    "month": ("服务大厅月报", "Monthly report"),
    "overdue": ("临期与超期办件（电子监察）", "Near and past deadline (supervision)"),
    "clerks": ("工作人员统计", "Clerks"),
}

# columns that are not shown in the workbook: codes whose words are in another column
_HIDDEN = {"cases": {"figure"}, "non_acceptance": {"reason_kind"}, "headline": {"figure"}}
_UNIT_FORMATS = {"count": COUNT, "pct": PERCENT, "min": MINUTES}


def report_title(report: Report) -> str:
    return tr_code(KIND_TITLES, report.kind)


def period_text(report: Report) -> str:
    if report.date_from == report.date_to:
        return report.date_from.isoformat()
    return tr(
        f"{report.date_from.isoformat()} 至 {report.date_to.isoformat()}",
        f"{report.date_from.isoformat()} to {report.date_to.isoformat()}",
    )


def title_lines(report: Report) -> list[str]:
    """The title block, the same on every sheet and on the first page of the PDF."""
    masked = (
        tr("含个人信息（已记录审计）", "personal data included (audited)")
        if report.personal_data
        else tr("个人信息已脱敏", "personal data masked")
    )
    return [
        f"{report.hall_name}　{report_title(report)}",
        tr(f"统计期间：{period_text(report)}", f"Period: {period_text(report)}"),
        tr(
            f"生成时间：{report.generated_at}（数据库时钟）　{masked}　大厅代码：{report.hall}",
            f"Generated {report.generated_at} (database clock)  {masked}  hall {report.hall}",
        ),
    ]


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def shown_columns(table: Table) -> list[tuple[str, str]]:
    hidden = _HIDDEN.get(table.key, set())
    return [(k, h) for k, h in table.columns if k not in hidden]


def shown_value(table: Table, row: dict[str, Any], key: str) -> Any:
    """A cell as a person reads it: words for codes, 是/否 for flags; numbers stay numbers."""
    value = row.get(key)
    words = table.labels.get(key, {}).get(str(value))
    if words:
        return tr(*words)
    if isinstance(value, bool):
        return tr("是", "yes") if value else tr("否", "no")
    return value


def number_format(table: Table, row: dict[str, Any], key: str) -> str | None:
    if key == "value" and "figure" in row:
        unit = row.get("unit") or UNITS.get(row["figure"])
        if unit:
            return _UNIT_FORMATS[unit]
        figure = str(row["figure"])
        return PERCENT if figure.endswith("_pct") else DECIMAL2 if figure == "mean_visits" else COUNT
    if key.endswith("_pct") or key == "pct":
        return PERCENT
    if key.endswith("_min"):
        return MINUTES
    if key in ("rating_mean",):
        return DECIMAL2
    if isinstance(row.get(key), int) and not isinstance(row.get(key), bool):
        return COUNT
    return None


class _Sheet:
    """Writes tables one below (or beside) the other on one worksheet and remembers widths."""

    def __init__(self, ws: Any, report: Report, span: int) -> None:
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        self.ws = ws
        self.widths: dict[int, int] = {}
        thin = Side(style="thin", color="808080")
        self.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        self.total_border = Border(left=thin, right=thin, top=Side(style="medium"), bottom=thin)
        self.bold = Font(bold=True)
        self.fill = {
            c: PatternFill("solid", fgColor=c)
            for c in (HEADER_FILL, TOTAL_FILL, SECTION_FILL, RED_FILL, YELLOW_FILL)
        }
        self.wrap = Alignment(wrap_text=True, vertical="center", horizontal="center")
        lines = title_lines(report)
        ws.append([lines[0]])
        ws["A1"].font = Font(bold=True, size=16)
        for line in lines[1:]:
            ws.append([line])
            ws.cell(ws.max_row, 1).font = Font(size=10, color="404040")
        for r in range(1, len(lines) + 1):
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=max(span, 2))
        ws.row_dimensions[1].height = 24
        self.row = len(lines) + 2  # one blank row after the title block
        self.title_rows = len(lines)

    def table(self, table: Table, *, row: int | None = None, col: int = 1, fills: bool = False) -> int:
        """Write ``table`` with its title at (row, col); returns the row after it."""
        from openpyxl.styles import Font

        ws = self.ws
        r = self.row if row is None else row
        cols = shown_columns(table)
        ws.cell(r, col, table.title).font = Font(bold=True, size=12)
        r += 1
        header_row = r
        for i, (_key, header) in enumerate(cols):
            cell = ws.cell(r, col + i, header)
            cell.font, cell.fill, cell.border, cell.alignment = (
                self.bold,
                self.fill[HEADER_FILL],
                self.border,
                self.wrap,
            )
            self._width(col + i, header, header=True)
        ws.row_dimensions[r].height = 30
        r += 1
        if not table.rows:
            cell = ws.cell(r, col, tr("（无数据）", "(no data)"))
            cell.border = self.border
            r += 1
        for data in table.rows:
            fill = self.fill.get({"red": RED_FILL, "yellow": YELLOW_FILL}.get(str(data.get("light")), ""))
            for i, (key, _header) in enumerate(cols):
                value = shown_value(table, data, key)
                cell = ws.cell(r, col + i, "—" if value is None else value)
                cell.border = self.border
                fmt = number_format(table, data, key)
                if fmt:
                    cell.number_format = fmt
                if fills and fill is not None:
                    cell.fill = fill
                self._width(col + i, _text(value))
            r += 1
        if table.total is not None and table.rows:
            for i, (key, _header) in enumerate(cols):
                value = table.total.get(key)
                cell = ws.cell(r, col + i, value)
                cell.font, cell.fill, cell.border = self.bold, self.fill[TOTAL_FILL], self.total_border
                fmt = number_format(table, table.total, key)
                if fmt and value is not None:
                    cell.number_format = fmt
                self._width(col + i, _text(value))
            r += 1
        if row is None:
            self.row = r + 1
        self.header_row = header_row
        return r + 1

    def _width(self, col: int, text: str, header: bool = False) -> None:
        w = display_width(text)
        if header:
            w = min(w, 12)  # headers wrap inside their cell
        self.widths[col] = max(self.widths.get(col, 0), w)

    def finish(self, *, freeze_row: int, print_rows: str, fit_height: int = 0) -> None:
        from openpyxl.utils import get_column_letter

        ws = self.ws
        for col, w in self.widths.items():
            ws.column_dimensions[get_column_letter(col)].width = min(max(w + 2, 7), 40)
        ws.freeze_panes = f"A{freeze_row}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = fit_height
        ws.print_title_rows = print_rows
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.page_margins.top = ws.page_margins.bottom = 0.5
        ws.print_options.horizontalCentered = True
        ws.oddFooter.center.text = "&P / &N"
        ws.oddFooter.right.text = "&A"


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _span(tables: list[Table]) -> int:
    return max((len(shown_columns(t)) for t in tables), default=2)


def write_xlsx(report: Report, path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    keys = {t.key for t in report.tables}
    if {"headline", "queue_total", "by_hour"} <= keys:
        _period_workbook(wb, report)
    else:
        for table in report.tables:
            ws = wb.create_sheet(_sheet_name(table.title))
            sheet = _Sheet(ws, report, len(shown_columns(table)))
            sheet.table(table, fills=table.key == "overdue")
            first_header = sheet.title_rows + 3
            sheet.finish(freeze_row=first_header + 1, print_rows=f"{first_header - 1}:{first_header}")
    wb.save(path)


def _sheet_name(title: str) -> str:
    import re

    return re.sub(r"[\[\]:*?/\\]", "_", title)[:31]


def _period_workbook(wb: Any, report: Report) -> None:
    t = {table.key: table for table in report.tables}
    # 概况: headline indicators and case figures side by side, then the queue overview and ratings
    ws = wb.create_sheet(tr("概况", "Overview"))
    sheet = _Sheet(ws, report, 8)
    start = sheet.row
    ends = [
        sheet.table(t["headline"], row=start, col=1),
        sheet.table(t["cases"], row=start, col=4),
        sheet.table(_transposed(t["queue_total"]), row=start, col=7),
    ]
    r = max(ends)
    sheet.table(t["ratings"], row=r, col=1)
    sheet.table(t["non_acceptance"], row=r, col=7)
    sheet.finish(freeze_row=sheet.title_rows + 1, print_rows=f"1:{sheet.title_rows}", fit_height=1)
    # 分组统计: line, window, clerk, department stacked
    groups = [t[k] for k in ("by_line", "by_window", "by_clerk", "by_department")]
    ws = wb.create_sheet(tr("分组统计", "By group"))
    sheet = _Sheet(ws, report, _span(groups))
    for table in groups:
        sheet.table(table)
    sheet.finish(freeze_row=sheet.title_rows + 1, print_rows=f"1:{sheet.title_rows}")
    # 按时段: the table, its chart below it on the same page
    hours = t["by_hour"]
    ws = wb.create_sheet(tr("按时段", "By hour"))
    sheet = _Sheet(ws, report, len(hours.columns))
    end = sheet.table(hours)
    header = sheet.header_row
    if hours.rows:
        _hour_chart(ws, header, header + len(hours.rows), f"A{end}")
    sheet.finish(freeze_row=header + 1, print_rows=f"{header}:{header}", fit_height=1)


def _transposed(table: Table) -> Table:
    """A one-row table as label/value rows, so a wide overview reads down a narrow column."""
    row = table.rows[0] if table.rows else {}
    rows = [
        {"figure": key, "label": header, "value": row.get(key), "unit": _unit_of(key)}
        for key, header in table.columns
    ]
    cols = [("label", tr("指标", "figure")), ("value", tr("数值", "value"))]
    return Table(table.key, table.title, cols, rows if table.rows else [])


def _unit_of(key: str) -> str:
    return "pct" if key.endswith("_pct") else "min" if key.endswith("_min") else "count"


def _hour_chart(ws: Any, header: int, last: int, anchor: str) -> None:
    """Arrivals and served per hour as bars, the mean wait as a line on a second axis (not smoothed)."""
    from openpyxl.chart import BarChart, LineChart, Reference

    bars = BarChart()
    bars.title = tr("各时段到达、办结与平均等候", "Arrivals, served and mean wait by hour")
    bars.y_axis.title = tr("人数", "tickets")
    bars.x_axis.title = tr("时段", "hour")
    bars.add_data(Reference(ws, min_col=2, max_col=3, min_row=header, max_row=last), titles_from_data=True)
    bars.set_categories(Reference(ws, min_col=1, min_row=header + 1, max_row=last))
    wait = LineChart()
    wait.add_data(Reference(ws, min_col=4, min_row=header, max_row=last), titles_from_data=True)
    wait.y_axis.axId = 200
    wait.y_axis.title = tr("平均等候（分钟）", "mean wait (min)")
    wait.y_axis.crosses = "max"
    for series in wait.series:
        series.smooth = False
    wait.x_axis.delete = True
    bars.x_axis.delete = False
    bars.y_axis.delete = False
    wait.y_axis.delete = False
    bars += wait
    bars.width, bars.height = 24, 10
    bars.legend.position = "b"
    ws.add_chart(bars, anchor)
