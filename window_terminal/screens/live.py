"""Following the hall's feed from a screen: a thread worker that posts ``HallEvents``.

    class Board(Screen):
        def on_mount(self) -> None:
            follow_feed(self, self.app.engine, self.app.hall.id, after=cursor)

        @on(HallEvents)
        def apply(self, message: HallEvents) -> None: ...

The worker blocks in ``Feed.poll`` (LISTEN/NOTIFY or SQLite's data_version), never the event
loop. On a lost connection — reset, or a dead link cut by its deadline (db/links.py), within a few
seconds — it posts ``ConnectionChanged(False)``, backs off, and when the database answers again
(the same server, or the new primary after a failover) posts ``ConnectionChanged(True)`` and
catches up from its cursor. A refusal that waiting will not fix (``FeedRefused``: a permission or
set-up error) is posted once with its ``problem`` named, and the worker stops.
"""

from __future__ import annotations

import gc
import time

from sqlalchemy import Engine
from textual.dom import DOMNode
from textual.widgets import Static
from textual.worker import Worker, get_current_worker

from window_terminal.db.feed import Feed, FeedRefused, FeedUnavailable, Position
from window_terminal.db.retry import reconnect_delay
from window_terminal.errors import first_line
from window_terminal.i18n import tr
from window_terminal.screens.messages import ConnectionChanged, HallEvents


def follow_feed(
    node: DOMNode, engine: Engine, hall_id: int, *, after: int | Position, poll_seconds: float = 1.0
) -> Worker[None]:
    """Start following events after ``after``; events are posted to ``node``."""

    def run() -> None:
        worker = get_current_worker()
        feed = Feed(engine, hall_id, after=after)
        connected = True
        failures = 0
        try:
            while not worker.is_cancelled:
                try:
                    events = feed.poll(timeout=poll_seconds)
                except FeedRefused as exc:
                    node.post_message(ConnectionChanged(False, first_line(exc, 200), problem=exc.problem))
                    return
                except FeedUnavailable as exc:
                    if connected:
                        connected = False
                        node.post_message(ConnectionChanged(False, first_line(exc, 200)))
                    time.sleep(reconnect_delay(failures))
                    failures += 1
                    continue
                failures = 0
                if not connected:
                    connected = True
                    node.post_message(ConnectionChanged(True))
                if events and not worker.is_cancelled:
                    node.post_message(HallEvents(events))
        finally:
            feed.close()

    return node.run_worker(run, thread=True, exclusive=True, group="feed", exit_on_error=False, name="feed")


def show_connection(node: DOMNode, connected: bool, lost: str | None = None, problem: str = "") -> None:
    """The screen's ``#connection`` bar: empty while connected, ``lost`` (or the usual words) when
    not, and ``problem`` named (no "reconnecting") when waiting will not fix it."""
    bar = node.query_one("#connection", Static)
    bar.set_class(not connected, "offline")
    if connected:
        bar.update("")
    elif problem:
        bar.update(refused_text(problem))
    else:
        bar.update(lost or tr("数据库连接中断，正在重连…", "Database connection lost, reconnecting…"))


def refused_text(problem: str) -> str:
    """What a screen says when the database refuses it for good (the cause is in English: it is
    for the administrator who fixes it)."""
    return tr(
        f"数据库拒绝访问，不再重试：{problem}。请管理员检查数据库权限和设置，然后重新启动本屏幕",
        f"The database refuses this screen, not retrying: {problem}. Ask the administrator to check "
        "the database permissions and settings, then restart this screen",
    )


def settle_long_lived() -> None:
    """Call once a live screen has loaded: what exists now (the program, its widgets, the first
    view) lives as long as the screen, so it leaves the collector's full passes, which walked it all
    and stalled a key press or a call from elsewhere by 100–370 ms at a time on a busy 2-core
    machine (benchmarks/board_refresh.py, tui_latency.py). Later objects are collected as usual."""
    gc.collect()
    gc.freeze()


def release_long_lived() -> None:
    """The screen closes (inside a longer-lived process: tests, textual-serve): collect it again."""
    gc.unfreeze()
