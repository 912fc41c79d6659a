"""Live queue status: every line and window of the hall, kept current from the sync layer."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from window_terminal.core import queueing
from window_terminal.i18n import tr, tr_lazy
from window_terminal.screens.keys import LocalizedKeys
from window_terminal.screens.live import follow_feed, show_connection
from window_terminal.screens.messages import ConnectionChanged, HallEvents
from window_terminal.screens.work import run_call
from window_terminal.widgets.tables import sync_row


class StatusScreen(LocalizedKeys, Screen[None]):
    BINDINGS = [("q", "app.quit", tr_lazy("退出", "Quit"))]
    DEFAULT_CSS = """
    StatusScreen DataTable { height: 1fr; }
    StatusScreen #connection { height: 1; padding: 0 1; }
    """

    def __init__(self, **_: Any) -> None:
        super().__init__()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="connection")
        yield DataTable(id="lines", cursor_type="row")
        yield DataTable(id="windows", cursor_type="row")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        lines = self.query_one("#lines", DataTable)
        lines.add_columns(
            *(
                tr(z, e)
                for z, e in [
                    ("业务线", "Line"),
                    ("名称", "Name"),
                    ("等候", "Waiting"),
                    ("最长等候", "Longest"),
                    ("预计(分)", "Est. min"),
                    ("开放窗口", "Windows"),
                ]
            )
        )
        windows = self.query_one("#windows", DataTable)
        windows.add_columns(
            *(
                tr(z, e)
                for z, e in [
                    ("窗口", "Window"),
                    ("状态", "Status"),
                    ("工作人员", "Clerk"),
                    ("当前号", "Ticket"),
                ]
            )
        )
        self.refresh_status()
        follow_feed(self, self.app.engine, self.app.hall.id, after=0)  # type: ignore[attr-defined]

    def refresh_status(self) -> None:
        engine, hall_id = self.app.engine, self.app.hall.id  # type: ignore[attr-defined]
        run_call(
            self,
            lambda: queueing.queue_status(engine, hall_id),
            done=self.show,
            failed=lambda text: show_connection(self, False, text),
            recovered=lambda: show_connection(self, True),
            group="status",
            retry=True,
        )

    def show(self, data: dict[str, Any]) -> None:
        lines = self.query_one("#lines", DataTable)
        windows = self.query_one("#windows", DataTable)
        with self.app.batch_update():
            for r in data["lines"]:
                cells = [
                    r["line"],
                    r["name"],
                    str(r["waiting"]),
                    f"{r['longest_wait_s'] // 60}:{r['longest_wait_s'] % 60:02d}",
                    str(r["estimated_wait_min"]),
                    str(r["open_windows"]),
                ]
                sync_row(lines, r["line"], cells)
            for w in data["windows"]:
                cells = [str(w["window"]), w["status"], w["staff"] or "", w["ticket"] or ""]
                sync_row(windows, str(w["window"]), cells)

    @on(HallEvents)
    def changed(self, _: HallEvents) -> None:
        self.refresh_status()

    @on(ConnectionChanged)
    def connection(self, message: ConnectionChanged) -> None:
        show_connection(self, message.connected, problem=message.problem)
        if message.connected:
            self.refresh_status()
