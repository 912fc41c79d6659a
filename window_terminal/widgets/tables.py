"""Keyed DataTable rows: add a row once, afterwards touch only the cells whose text changed."""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import DataTable


def sync_row(table: DataTable, key: str, cells: Sequence[object]) -> None:
    """Add the row ``key`` or update just its changed cells (never clear and rebuild)."""
    if key not in table.rows:
        table.add_row(*cells, key=key)
        return
    for column, value in zip(table.columns, cells, strict=False):
        if table.get_cell(key, column) != value:
            table.update_cell(key, column, value, update_width=True)
