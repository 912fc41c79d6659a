"""Writing a report to files: CSV (UTF-8 with BOM, for Excel), JSON, and XLSX (one sheet per table)."""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

from window_terminal.core.reports.queries import Report, Table
from window_terminal.i18n import tr

FORMATS = ("table", "csv", "json", "xlsx")


def cell_text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return tr("是", "yes") if value else ""
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def heading(report: Report) -> str:
    period = (
        report.date_from.isoformat()
        if report.date_from == report.date_to
        else f"{report.date_from} — {report.date_to}"
    )
    return f"{report.hall_name} ({report.hall})  {period}"


def write_csv(report: Report, path: Path) -> None:
    """One file, one section per table: a title row, a header row, the data, a blank row."""
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([heading(report)])
        writer.writerow([])
        for table in report.tables:
            writer.writerow([f"# {table.title}"])
            writer.writerow([header for _, header in table.columns])
            for row in table.rows:
                writer.writerow(["" if row.get(k) is None else row.get(k) for k, _ in table.columns])
            writer.writerow([])


def write_json(report: Report, path: Path) -> None:
    path.write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=2, default=str), encoding="utf-8")


_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def sheet_name(table: Table) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\ ."""
    return _SHEET_BAD.sub("_", table.title)[:31] or table.key[:31]


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def write_xlsx(report: Report, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, LineChart, Reference
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    used: set[str] = set()
    for table in report.tables:
        name = sheet_name(table)
        while name in used:
            name = name[:28] + f"_{len(used)}"
        used.add(name)
        ws = wb.create_sheet(name)
        ws.append([header for _, header in table.columns])
        for cell in ws[1]:
            cell.font = bold
            cell.fill = fill
        for row in table.rows:
            ws.append([row.get(k) for k, _ in table.columns])
        ws.freeze_panes = "A2"
        for i, (key, header) in enumerate(table.columns, start=1):
            values = [header] + [cell_text(r.get(key)) for r in table.rows[:500]]
            width = max(_display_width(v) for v in values)
            ws.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 6), 60)
        if table.key == "by_hour" and table.rows:
            n = len(table.rows) + 1
            chart = BarChart()
            chart.title = tr("各时段到达与办结", "Arrivals vs served by hour")
            chart.y_axis.title = tr("人数", "tickets")
            chart.x_axis.title = tr("时段", "hour")
            chart.add_data(Reference(ws, min_col=2, min_row=1, max_row=n), titles_from_data=True)
            chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=n))
            served = LineChart()
            served.add_data(Reference(ws, min_col=3, min_row=1, max_row=n), titles_from_data=True)
            chart += served
            chart.width, chart.height = 22, 11
            ws.add_chart(chart, f"{get_column_letter(len(table.columns) + 2)}2")
    info = wb.create_sheet(tr("说明", "About"), 0)
    info.append([tr("报表", "report"), report.kind])
    info.append([tr("大厅", "hall"), f"{report.hall_name} ({report.hall})"])
    info.append([tr("起", "from"), report.date_from.isoformat()])
    info.append([tr("止", "to"), report.date_to.isoformat()])
    info.append([tr("生成时间", "generated at"), report.generated_at])
    info.append(
        [
            tr("含个人信息", "personal data"),
            tr("是", "yes") if report.personal_data else tr("否（已脱敏）", "no (masked)"),
        ]
    )
    info.column_dimensions["A"].width = 16
    info.column_dimensions["B"].width = 40
    wb.save(path)


def write(report: Report, fmt: str, path: Path) -> None:
    {"csv": write_csv, "json": write_json, "xlsx": write_xlsx}[fmt](report, path)
