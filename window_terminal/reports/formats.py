"""Writing a report: Rich tables, CSV (UTF-8 with BOM, for Excel), JSON, and XLSX (one sheet per table)."""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

from window_terminal.i18n import tr
from window_terminal.reports.queries import Report, Table

FORMATS = ("table", "csv", "json", "xlsx")


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return tr("是", "yes") if value else ""
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _heading(report: Report) -> str:
    period = (
        report.date_from.isoformat()
        if report.date_from == report.date_to
        else f"{report.date_from} — {report.date_to}"
    )
    return f"{report.hall_name} ({report.hall})  {period}"


def rich_tables(report: Report) -> Any:
    from rich.console import Group
    from rich.table import Table as RichTable
    from rich.text import Text

    parts: list[Any] = [Text(_heading(report), style="bold")]
    for table in report.tables:
        rt = RichTable(title=table.title, title_justify="left", show_lines=False)
        columns = _compact_columns(table)
        for key, header, _keys in columns:
            if key in _WRAPPING:
                rt.add_column(header, overflow="fold", max_width=_WRAPPING[key])
            else:
                rt.add_column(header, no_wrap=True)
        for row in table.rows:
            rt.add_row(*(_terminal_cell(table, row, keys) for _key, _header, keys in columns))
        if not table.rows:
            rt.caption = tr("（无数据）", "(no data)")
        parts.append(rt)
    return Group(*parts)


# Long names wrap inside a bounded width, so codes, dates and numbers stay whole on a narrow screen.
_WRAPPING = {"item": 24, "item_name": 24, "department": 12, "name": 16}


def _terminal_cell(table: Table, row: dict[str, Any], keys: tuple[str, ...]) -> Any:
    from rich.text import Text

    if len(keys) == 1 and keys[0] in table.labels:
        value = row.get(keys[0])
        words = table.labels[keys[0]].get(str(value))
        style = table.styles.get(keys[0], {}).get(str(value), "")
        return Text(tr(*words) if words else _cell(value), style=style)
    return "/".join(_cell(row.get(k)) for k in keys)


_GROUPS = {
    "wait": (
        ("wait_mean_min", "wait_median_min", "wait_p90_min", "wait_max_min"),
        ("等候(分) 均/中/P90/最长", "wait min mean/med/p90/max"),
    ),
    "service": (
        ("service_mean_min", "service_median_min", "service_p90_min", "service_max_min"),
        ("办理(分) 均/中/P90/最长", "service min mean/med/p90/max"),
    ),
}


def _compact_columns(table: Table) -> list[tuple[str, str, tuple[str, ...]]]:
    """Terminal view: the four waiting (service) figures share one column, so a day fits the screen."""
    keys = [k for k, _ in table.columns]
    out: list[tuple[str, str, tuple[str, ...]]] = []
    for key, header in table.columns:
        group = next((g for g, (members, _) in _GROUPS.items() if key in members), None)
        if group is None:
            out.append((key, header, (key,)))
        elif key == _GROUPS[group][0][0]:
            members, (zh, en) = _GROUPS[group]
            out.append((group, tr(zh, en), tuple(m for m in members if m in keys)))
    return out


def print_tables(report: Report) -> None:
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 160))
    console.print(rich_tables(report))


def write_csv(report: Report, path: Path) -> None:
    """One file, one section per table: a title row, a header row, the data, a blank row."""
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([_heading(report)])
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
            values = [header] + [_cell(r.get(key)) for r in table.rows[:500]]
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
