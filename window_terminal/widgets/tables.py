"""DataTable helpers: fixed-width columns in the UI language; keyed rows that are added once and
afterwards touch only the cells whose text changed; ``LiveTable``, which then repaints only those cells."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from rich.errors import MarkupError
from rich.style import Style
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


def _cell_width(value: object) -> int:
    """Cells a DataTable value takes on screen (a string is read as markup, as DataTable does)."""
    if isinstance(value, Text):
        return value.cell_len
    try:
        return Text.from_markup(str(value)).cell_len
    except MarkupError:
        return cell_len(str(value))


class LiveTable(DataTable[CellType]):
    """A DataTable for live figures: a cell update repaints that cell, not the whole table.

    ``DataTable.update_cell`` repaints every visible row (and, with ``update_width``, measures the
    column again) for each changed cell. On the board — 50 windows whose times move every second and
    a call every few seconds — that was a full-table frame each time (17 kB at 160×70), the wait
    between a call committed elsewhere and the frame showing it (benchmarks/board_refresh.py).
    Here a cell of a fixed-width column (whose width never follows its content), or a new value that
    fits its auto-width column, marks only the cell's region dirty; a value wider than its auto-width
    column takes the usual path, so such a column still grows as before.

    And a cell whose text did not change is not rendered again: DataTable keys its cell cache on a
    counter that every update bumps, so the board's one-second tick (a time cell in each of 50
    rows) rendered all 400 cells again, 150–280 ms of the app's thread on a busy 2-core machine,
    during which a call waited. This cache is keyed on the cell's value and everything else the
    cell's look depends on, and emptied whenever DataTable empties its own.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._cells: dict[tuple[Any, ...], Any] = {}  # before DataTable's watchers clear it
        super().__init__(*args, **kwargs)

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

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> Any:
        if row_index < 0 or column_index < 0:  # header and row labels: as DataTable renders them
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        value = self._data[row_key][column_key]
        key = (
            row_index,  # the segments carry the cell's coordinates (mouse meta)
            column_index,
            row_key,
            column_key,
            value,
            base_style,
            width,
            cursor,
            hover,
            self.rows[row_key].height,
            self.show_cursor,
            self._show_hover_cursor,
            self.fixed_rows,
            self.fixed_columns,
            self.cursor_foreground_priority,
            self.cursor_background_priority,
            self._pseudo_class_state,
        )
        try:
            return self._cells[key]
        except TypeError:  # a value that cannot be a key (rich Text): as DataTable does
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        except KeyError:
            if len(self._cells) > 8 * (self.row_count + 1) * max(1, len(self.columns)):
                self._cells.clear()  # values gone by: a few renders of each cell are kept, not a day's
            lines = self._cells[key] = super()._render_cell(
                row_index, column_index, base_style, width, cursor, hover
            )
            return lines

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._cells.clear()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cells.clear()
