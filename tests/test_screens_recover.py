"""Screens and ``wt queue status --watch`` that recover when the database comes back.

The database is really unavailable, not mocked: a SQLite file is moved away and a folder put in
its place (sqlite cannot open a folder, even for root), then moved back; a PostgreSQL backend is
terminated with ``pg_terminate_backend``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from textual.widgets import Button, DataTable

from tests import test_counter_screen
from tests.test_board import WT, wait_until
from tests.test_counter_screen import (
    SIZE,
    call_and_open_intake,
    choose_item,
    counter_app,
    fill_applicant,
    press,
    text_of,
)
from window_terminal.app import make_app
from window_terminal.core import queueing as q
from window_terminal.db.engine import make_engine, read_session
from window_terminal.db.models import Ticket


def sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or "")


def cut(path: Path) -> None:
    """Make the SQLite database unavailable: the file moves away, a folder takes its name."""
    os.replace(path, path.with_name(path.name + ".away"))
    path.mkdir()


def mend(path: Path) -> None:
    path.rmdir()
    os.replace(path.with_name(path.name + ".away"), path)


# the counter tests' fixture under its own name here: a SQLite hall, its engine and settings
counter_env = test_counter_screen.env


def unavailable_with_one_ticket(env, sqlite_url) -> Path:
    """A hall with one ticket waiting whose database is then made unavailable; returns its path."""
    engine, hall, _ = env
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    engine.dispose()
    path = sqlite_path(sqlite_url)
    cut(path)
    return path


def test_a_counter_started_without_its_database_recovers_and_calls(counter_env, sqlite_url):
    """A counter PC switched on before the database: it says so, then works by itself."""
    env = counter_env
    engine, hall, _ = env
    path = unavailable_with_one_ticket(env, sqlite_url)

    async def inner():
        app = counter_app(env)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: "重连" in text_of(app, "#message"))
            assert "中断" in text_of(app, "#header")
            mend(path)
            await wait_until(pilot, lambda: "已连接" in text_of(app, "#header"))
            await wait_until(pilot, lambda: app.screen.feed_started)
            await press(pilot, "f2")
            await wait_until(pilot, lambda: "A001" in text_of(app, "#current"))
            # the feed follows the hall: a ticket taken elsewhere shows in the line's count
            lines = app.screen.query_one("#lines", DataTable)
            before = lines.get_row("BIZ")[2]
            q.take_ticket(engine, hall.id, "BIZ", actor="C001")
            await wait_until(pilot, lambda: lines.get_row("BIZ")[2] != before)

    asyncio.run(inner())
    assert q.window_in_hand(engine, hall.id, 2).number == "A001"


def test_a_board_started_without_its_database_says_so_and_recovers(counter_env, sqlite_url):
    env = counter_env
    engine, hall, settings = env
    path = unavailable_with_one_ticket(env, sqlite_url)

    async def inner():
        app = make_app("board", settings=settings, engine=engine, hall=hall)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: "重连" in text_of(app, "#connection"))
            assert app.screen.query_one("#connection").has_class("offline")
            mend(path)
            await wait_until(pilot, lambda: app.screen.view is not None)
            await wait_until(pilot, lambda: not app.screen.query_one("#connection").has_class("offline"))
            assert app.screen.query_one("#lines", DataTable).get_row("BIZ")[3] == "1"

    asyncio.run(inner())


def test_a_failed_transfer_leaves_the_intake_usable(counter_env, sqlite_url):
    """The database drops during a transfer: the clerk is told it is being retried, and it goes
    through, once, when the database is back."""
    env = counter_env
    engine, hall, _ = env
    ticket = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    path = sqlite_path(sqlite_url)

    async def inner():
        app = counter_app(env)
        async with app.run_test(size=SIZE) as pilot:
            await call_and_open_intake(pilot)
            await fill_applicant(pilot)
            await choose_item(pilot, "shbzksl")  # 社会保障卡申领: line SOC, not this window's
            await press(pilot, "f8")
            cut(path)
            engine.dispose()  # pooled connections to the moved file go: the next one fails
            app.screen.query_one("#transfer", Button).press()
            intake = app.screen_stack[-2]
            # the clerk is told it is retried with the same request id (screens/work.once) …
            await wait_until(pilot, lambda: "同一请求编号" in str(intake.query_one("#message").render()))
            assert type(app.screen).__name__ == "IntakeScreen" and intake.busy
            assert list(intake.unconfirmed) == ["transfer"]
            mend(path)
            # … and once the database is back the retry goes through by itself, once
            await wait_until(pilot, lambda: type(app.screen).__name__ == "CounterScreen")

    asyncio.run(inner())
    with read_session(engine) as s:
        moved = s.get(Ticket, ticket.id)
    assert moved.transfer_count == 1 and moved.status == "waiting"


# --- wt queue status --watch ---------------------------------------------------------------------


def _backends(admin, database: str, name: str = "window-terminal%") -> list[int]:
    with admin.connect() as conn:
        return list(
            conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = :db AND application_name LIKE :name"),
                {"db": database, "name": name},
            ).scalars()
        )


def _wait_for(check, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


@pytest.mark.postgres
def test_queue_status_watch_survives_a_dropped_connection_and_quits_on_ctrl_c(pg_url, tmp_path):
    from tests.conftest import pg_admin_url

    database = make_url(pg_url).database
    env = {k: v for k, v in os.environ.items() if not k.startswith("WT_")}
    env.update(
        WT_DATABASE_URL=pg_url,
        WT_DATA_DIR=str(tmp_path / "data"),
        WT_CONFIG=str(tmp_path / "none.toml"),
        WT_LANGUAGE="en",
    )
    err_path = tmp_path / "stderr.txt"
    admin = make_engine(pg_admin_url()).execution_options(isolation_level="AUTOCOMMIT")
    with err_path.open("w") as err:
        proc = subprocess.Popen(
            [*WT, "queue", "status", "--watch"], env=env, stdout=subprocess.DEVNULL, stderr=err
        )
    try:
        # the watcher listens for changes on its own connection: wait until it does, then cut it
        _wait_for(lambda: bool(_backends(admin, database, "window-terminal-feed")))
        time.sleep(0.5)
        with admin.connect() as conn:
            for pid in _backends(admin, database):
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        _wait_for(lambda: "lost the connection" in err_path.read_text() or proc.poll() is not None)
        assert proc.poll() is None, err_path.read_text()
        _wait_for(lambda: "reconnected" in err_path.read_text() or proc.poll() is not None)
        assert proc.poll() is None, err_path.read_text()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        admin.dispose()
    assert "Traceback" not in err_path.read_text()
