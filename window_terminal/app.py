"""The Textual app and its factory, shared by the CLI (``wt …``) and the tests.

    app = make_app("counter", settings=settings, engine=engine, hall=hall, window=3)
    app.run()                       # or: async with app.run_test() as pilot: …

``screen`` names the first screen: ``home`` (login, then the screen for the staff member's role),
``counter``, ``board``, ``display``, ``kiosk``, ``backoffice``, ``rate`` or ``status``. Screen
modules are imported only when used. ``now`` may be injected (tests, snapshots); otherwise the
app's clock is the database's, measured once at start-up and carried forward.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from textual.app import App
from textual.command import Provider
from textual.screen import Screen

from window_terminal.config import Settings
from window_terminal.core.hall import HallRef
from window_terminal.db.clock import to_local
from window_terminal.i18n import set_language

SCREENS: dict[str, str] = {
    "status": "window_terminal.screens.status:StatusScreen",
    "home": "window_terminal.screens.login:LoginScreen",
    "counter": "window_terminal.screens.counter:CounterScreen",
    "board": "window_terminal.screens.board:BoardScreen",
    "display": "window_terminal.screens.display:DisplayScreen",
    "kiosk": "window_terminal.screens.kiosk:KioskScreen",
    "backoffice": "window_terminal.screens.backoffice:BackofficeScreen",
    "rate": "window_terminal.screens.rate:RateScreen",
}


def screen_class(name: str) -> type[Screen[Any]]:
    try:
        target = SCREENS[name]
    except KeyError:
        raise ValueError(f"unknown screen {name!r}; choose one of {', '.join(SCREENS)}") from None
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def _screen_commands() -> type[Provider]:
    from window_terminal.screens.palette import ScreenCommands

    return ScreenCommands


class WindowTerminalApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "Window Terminal"
    # One palette in the screen's language, with pinyin-initial search (not Textual's English system commands).
    COMMANDS = {_screen_commands}  # noqa: RUF012  # Textual's own class attribute

    def __init__(
        self,
        first_screen: str,
        *,
        settings: Settings,
        engine: Engine,
        hall: HallRef,
        now: Callable[[], datetime] | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        set_language(settings.language)
        self.settings = settings
        self.engine = engine
        self.hall = hall
        self.options = options or {}
        self._injected_now = now
        self._skew = timedelta(0)
        self._skew_measured = False
        self.first_screen = first_screen
        self.title = hall.name

    def now(self) -> datetime:
        """The hall's local time by the database clock (for display: elapsed and waiting times)."""
        if self._injected_now is not None:
            return self._injected_now()
        if not self._skew_measured:
            self.measure_clock()
        return to_local(datetime.utcnow() + self._skew, self.hall.timezone)  # noqa: DTZ003

    def measure_clock(self) -> None:
        """Measure how far this PC's clock is from the database's (cheap; called from workers)."""
        from window_terminal.db.clock import db_now
        from window_terminal.db.engine import read_session

        try:
            start = time.monotonic()
            with read_session(self.engine) as session:
                database = db_now(session)
            latency = timedelta(seconds=(time.monotonic() - start) / 2)
            self._skew = database - latency - datetime.utcnow()  # noqa: DTZ003
        except Exception:
            self._skew = timedelta(0)
        self._skew_measured = True

    def on_mount(self) -> None:
        self.push_screen(screen_class(self.first_screen)(**self.options))

    def action_help_quit(self) -> None:
        """Ctrl+C does not quit (it copies in a field): say how to quit, in the screen's language."""
        from window_terminal.i18n import tr

        keys = [
            key
            for key, active in self.active_bindings.items()
            if active.binding.action in ("quit", "app.quit")
        ]
        key = keys[0] if keys else "ctrl+q"
        self.notify(tr(f"按 {key} 退出", f"Press {key} to quit"), title=tr("要退出吗？", "Quit?"))

    def open_screen(self, name: str, **options: Any) -> None:
        self.push_screen(screen_class(name)(**options))


def make_app(
    screen: str = "home",
    *,
    settings: Settings,
    engine: Engine,
    hall: HallRef,
    now: Callable[[], datetime] | None = None,
    **options: Any,
) -> WindowTerminalApp:
    screen_class(screen)  # fail early on an unknown name
    return WindowTerminalApp(screen, settings=settings, engine=engine, hall=hall, now=now, options=options)
