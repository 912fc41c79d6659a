"""Reports on a terminal: Rich tables for ``wt report …`` (the core's formats write files only)."""

from __future__ import annotations

from typing import Any

from window_terminal.core.reports.formats import cell_text, heading
from window_terminal.core.reports.queries import Report, Table
from window_terminal.i18n import tr


def rich_tables(report: Report) -> Any:
    from rich.console import Group
    from rich.table import Table as RichTable
    from rich.text import Text

    parts: list[Any] = [Text(heading(report), style="bold")]
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
        return Text(tr(*words) if words else cell_text(value), style=style)
    if keys == ("value",) and "unit" in row:  # a headline indicator: 96.4%, not 96.4
        from window_terminal.core.reports.printable import cell_words

        return cell_words(table, row, "value")
    return "/".join(cell_text(row.get(k)) for k in keys)


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
