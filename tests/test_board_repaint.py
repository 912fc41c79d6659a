"""The board repaints only what changed: a call elsewhere is a few cells on the terminal, not a frame
of the whole table (the wait benchmarks/board_refresh.py measures came from painting that frame)."""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine
from textual.app import App, ComposeResult
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from benchmarks.measure import FrameClock, now
from window_terminal.app import make_app
from window_terminal.config import Settings
from window_terminal.core import queueing as q
from window_terminal.core.hall import resolve_hall
from window_terminal.widgets.tables import LiveTable


def test_a_call_committed_elsewhere_repaints_its_window_row_not_the_board(
    db_url: str, engine: Engine
) -> None:
    hall = resolve_hall(engine, None)
    for number in range(1, 15):
        q.set_window_status(engine, hall.id, number, "open", actor="M001")
    for _ in range(30):
        q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    app = make_app("board", settings=Settings(database_url=db_url), engine=engine, hall=hall)

    def look() -> dict[str, str]:
        table = app.screen.query_one("#windows", DataTable)
        return {str(key.value): str(table.get_cell(key, "ticket")) for key in table.rows}

    clock = FrameClock(app, look)

    async def run() -> None:
        async with app.run_test(headless=False, size=(160, 50)):
            await clock.wait(lambda seen: bool(seen) and len(seen) == 14, after=0, timeout=30)
            await asyncio.sleep(0.5)
            whole_board = max(frame.size for frame in clock.frames)
            start = now()
            called = q.call_next(engine, hall.id, 3, actor="M001")  # the manager opened window 3
            at = await clock.wait(
                lambda seen: called.number in (seen or {}).get("3", ""), after=start, timeout=30
            )
            frame = next(f for f in clock.frames if f.at == at)
            # Before LiveTable the frame showing a call held the whole windows table (≈ 40% of the board).
            assert frame.size < whole_board / 10, (frame.size, whole_board)

    asyncio.run(run())


def test_a_value_wider_than_its_auto_width_column_still_widens_it() -> None:
    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield LiveTable()

    async def run() -> None:
        app = One()
        async with app.run_test() as pilot:
            table = app.query_one(LiveTable)
            table.add_column("号", key="n")  # as wide as its content
            table.add_row("A001", key="r")
            column = table.columns[ColumnKey("n")]
            table.update_cell("r", "n", "A002", update_width=True)  # fits: the cell alone
            await pilot.pause()
            assert table.get_cell("r", "n") == "A002" and column.content_width == 4
            table.update_cell("r", "n", "A002 已呼叫", update_width=True)  # 11 cells wide
            await pilot.pause()
            assert table.get_cell("r", "n") == "A002 已呼叫" and column.content_width == 11

    asyncio.run(run())


def test_a_cell_whose_text_did_not_change_is_not_rendered_again(monkeypatch) -> None:
    """The board's tick moves one time cell per row: the other cells of those rows stay rendered."""

    class Grid(App[None]):
        def compose(self) -> ComposeResult:
            yield LiveTable()

    rendered: list[tuple[int, int]] = []
    render = DataTable._render_cell

    def counting(self, row_index, column_index, *args, **kwargs):  # type: ignore[no-untyped-def]
        rendered.append((row_index, column_index))
        return render(self, row_index, column_index, *args, **kwargs)

    async def run() -> None:
        app = Grid()
        async with app.run_test(size=(80, 30)) as pilot:
            table = app.query_one(LiveTable)
            for key, width in (("window", 6), ("ticket", 12), ("idle", 6)):
                table.add_column(key, key=key, width=width)
            for row in range(20):
                table.add_row(str(row), f"A{row:03d}", "0:01", key=str(row))
            await pilot.pause()
            monkeypatch.setattr(DataTable, "_render_cell", counting)
            for row in range(20):
                table.update_cell(str(row), "idle", "0:02")
            await pilot.pause()
            body = [cell for cell in rendered if cell[0] >= 0]
            assert sorted(set(body)) == [(row, 2) for row in range(20)]
            assert table.get_cell("7", "idle") == "0:02"

    asyncio.run(run())
