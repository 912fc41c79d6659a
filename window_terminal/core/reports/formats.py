"""Writing a report to files: CSV (UTF-8 with BOM, for Excel), JSON, and XLSX (one sheet per table)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

from window_terminal.core.reports.queries import Report, Table
from window_terminal.i18n import tr

FORMATS = ("table", "csv", "json", "xlsx", "pdf")
#: formats that need a file (--out)
FILE_FORMATS = ("xlsx", "pdf")


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


def write_xlsx(report: Report, path: Path) -> None:
    from window_terminal.core.reports.workbook import write_xlsx as write_workbook

    write_workbook(report, path)


def write_pdf(report: Report, path: Path) -> None:
    from window_terminal.core.reports.printable import write_pdf as write_printable

    write_printable(report, path)


def write(report: Report, fmt: str, path: Path) -> None:
    {"csv": write_csv, "json": write_json, "xlsx": write_xlsx, "pdf": write_pdf}[fmt](report, path)
