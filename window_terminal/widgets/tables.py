"""DataTable helpers: fixed-width columns in the UI language; keyed rows that are added once and
afterwards touch only the cells whose text changed; ``LiveTable``, which then repaints only those cells."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.errors import MarkupError
from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import CellType, ColumnKey, RowKey

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


class LiveTable(DataTable[CellType]):
    """A DataTable for live figures: a cell update repaints that cell, not the whole table.

    ``DataTable.update_cell`` repaints every visible row (and, with ``update_width``, measures the
    column again) for each changed cell. On the board — 50 windows whose times move every second and
    a call every few seconds — that was a full-table frame each time (17 kB at 160×70), the wait
    between a call committed elsewhere and the frame showing it (benchmarks/board_refresh.py).
    Here a cell of a fixed-width column (whose width never follows its content), or a new value that
    fits its auto-width column, marks only the cell's region dirty; a value wider than its auto-width
    column takes the usual path, so such a column still grows as before.
    """

    def update_cell(
        self,
        row_key: RowKey | str,
        column_key: ColumnKey | str,
        value: CellType,
        *,
        update_width: bool = False,
    ) -> None:
        column = self.columns.get(ColumnKey(column_key) if isinstance(column_key, str) else column_key)
        width = _cell_width(value)
        if column is None or (column.auto_width and width > column.content_width):
            super().update_cell(row_key, column_key, value, update_width=update_width)
            return
        row_key = RowKey(row_key) if isinstance(row_key, str) else row_key
        # The cell's data and the render caches' generation, as DataTable.update_cell sets them
        # (textual is pinned), then a repaint of the cell's region alone.
        self._data[row_key][column.key] = value
        self._update_count += 1
        self.refresh_coordinate(Coordinate(self.get_row_index(row_key), self.get_column_index(column.key)))


def _cell_width(value: object) -> int:
    """Cells a DataTable value takes on screen (a string is read as markup, as DataTable does)."""
    if isinstance(value, Text):
        return value.cell_len
    try:
        return Text.from_markup(str(value)).cell_len
    except MarkupError:
        return cell_len(str(value))
