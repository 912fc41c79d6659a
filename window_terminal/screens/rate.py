"""The applicant's rating screen (好差评): five big buttons, keys 1-5 or a tap; thanks, then reset.

It mirrors the window's most recent finished ticket: when the clerk finishes a ticket, the screen
asks that applicant to rate the service.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Static

from window_terminal.core import ratings
from window_terminal.i18n import tr, tr_lazy
from window_terminal.screens.keys import LocalizedKeys
from window_terminal.screens.live import follow_feed
from window_terminal.screens.messages import HallEvents
from window_terminal.screens.work import run_call

VARIANTS = {5: "success", 4: "success", 3: "primary", 2: "warning", 1: "error"}
RESET_SECONDS = 6.0


class RateScreen(LocalizedKeys, Screen[None]):
    BINDINGS = [
        *(Binding(str(level), f"rate({level})", show=False) for level in ratings.LEVELS),
        Binding("q", "app.quit", tr_lazy("退出", "Quit"), show=False),
    ]
    DEFAULT_CSS = """
    RateScreen { align: center middle; }
    RateScreen #box { width: 100; height: auto; align-horizontal: center; }
    RateScreen #prompt { width: 100%; content-align: center middle; text-style: bold; height: 3; }
    RateScreen #service { width: 100%; content-align: center middle; height: 2; color: $text-muted; }
    RateScreen #levels { height: 5; width: 100%; align-horizontal: center; }
    RateScreen #levels Button { width: 19; height: 5; margin: 0 0; }
    RateScreen #thanks { width: 100%; content-align: center middle; height: 3; text-style: bold; }
    """

    def __init__(self, window: int, device: str | None = None, **_: Any) -> None:
        super().__init__()
        self.window = int(window)
        self.device = device  # "device:<id>" of the hall's rating screen: the actor of the rating
        self.service: dict[str, Any] | None = None
        self.following = False

    def compose(self) -> ComposeResult:
        with Vertical(id="box"):
            yield Static(tr("请您对本次服务作出评价", "Please rate our service"), id="prompt")
            yield Static("", id="service")
            with Horizontal(id="levels"):
                for level in sorted(ratings.LEVELS, reverse=True):
                    zh, en = ratings.LEVELS[level]
                    yield Button(f"{tr(zh, en)}\n[{level}]", id=f"level-{level}", variant=VARIANTS[level])  # type: ignore[arg-type]
            yield Static("", id="thanks")

    def on_mount(self) -> None:
        self.load_service()

    def load_service(self) -> None:
        """The service just given at this window; retried until the database answers."""
        from window_terminal.db.feed import current_cursor

        engine, hall_id = self.app.engine, self.app.hall.id  # type: ignore[attr-defined]
        following = self.following

        def read() -> tuple[int | None, Any]:
            cursor = None if following else current_cursor(engine, hall_id)
            return cursor, ratings.latest_service(engine, hall_id, self.window)

        def loaded(result: tuple[int | None, Any]) -> None:
            cursor, service = result
            if cursor is not None:
                self.start_feed(cursor)
            self.show_service(service)

        run_call(
            self,
            read,
            done=loaded,
            failed=self.query_one("#thanks", Static).update,
            group="service",
            retry=True,
        )

    def start_feed(self, cursor: int) -> None:
        if not self.following:
            self.following = True
            follow_feed(self, self.app.engine, self.app.hall.id, after=cursor)  # type: ignore[attr-defined]

    def show_service(self, service: dict[str, Any] | None) -> None:
        self.service = service
        line = self.query_one("#service", Static)
        if service is None:
            line.update(tr(f"{self.window}号窗口", f"Window {self.window}"))
        elif service["rated"]:
            line.update(
                tr(
                    f"{self.window}号窗口 · {service['number']}号 · 已评价",
                    f"Window {self.window} · {service['number']} · rated",
                )
            )
        else:
            clerk = f" · {service['clerk']}" if service["clerk"] else ""
            line.update(
                tr(
                    f"{self.window}号窗口 · {service['number']}号{clerk}",
                    f"Window {self.window} · {service['number']}{clerk}",
                )
            )
        self.query_one("#levels").display = service is not None and not service["rated"]

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        if event.button.id and event.button.id.startswith("level-"):
            self.action_rate(int(event.button.id.removeprefix("level-")))

    def action_rate(self, level: int) -> None:
        if self.service is None or self.service["rated"]:
            return
        # keys are the GB/T 39735 levels: 5 非常满意 … 1 非常不满意 (shown on each button)
        self.submit(self.service["ticket_id"], level)

    def submit(self, ticket_id: int, level: int) -> None:
        engine, hall_id = self.app.engine, self.app.hall.id  # type: ignore[attr-defined]
        run_call(
            self,
            lambda: ratings.rate(engine, hall_id, self.window, level, ticket_id=ticket_id, actor=self.device),
            done=lambda _: self.thank(tr("感谢您的评价！", "Thank you for your rating!")),
            failed=self.thank,
            group="rate",
        )

    def thank(self, text: str) -> None:
        self.query_one("#thanks", Static).update(text)
        self.query_one("#levels").display = False
        self.set_timer(RESET_SECONDS, self.reset)

    def reset(self) -> None:
        self.query_one("#thanks", Static).update("")
        self.load_service()

    @on(HallEvents)
    def changed(self, message: HallEvents) -> None:
        if any(e.kind in ("ticket.finished", "rating.added") for e in message.events):
            self.load_service()
