"""DataTable helpers: fixed-width columns in the UI language; keyed rows that are added once and
afterwards touch only the cells whose text changed."""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import DataTable

from window_terminal.i18n import tr

Column = tuple[str, str, str, int]  # (key, zh, en, width)


def add_columns(table: DataTable, columns: Sequence[Column]) -> None:
    """Fixed widths, so columns do not jump as the numbers change during the day."""
    for key, zh, en, width in columns:
        table.add_column(tr(zh, en), key=key, width=width)


def sync_row(table: DataTable, key: str, cells: Sequence[object]) -> None:
    """Add the row ``key`` or update just its changed cells (never clear and rebuild)."""
    if key not in table.rows:
        table.add_row(*cells, key=key)
        return
    for column, value in zip(table.columns, cells, strict=False):
        if table.get_cell(key, column) != value:
            table.update_cell(key, column, value, update_width=True)
