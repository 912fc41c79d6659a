"""Shared fixtures: real databases (a SQLite file; a PostgreSQL database per test), the demo hall.

PostgreSQL tests use ``WT_TEST_POSTGRES_URL`` (e.g. postgresql://postgres@127.0.0.1:5432/test).
Without it they skip — unless ``WT_REQUIRE_POSTGRES=1`` (set by CI), where they fail instead.
Each test gets its own database, cloned from a template that is migrated and has the demo hall
loaded once per test process.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, text

from benchmarks._common import always_open_queue
from window_terminal.core.hall import HallRef, load_hall, resolve_hall
from window_terminal.db import clock
from window_terminal.db.engine import make_engine
from window_terminal.db.migrate import upgrade

# Hypothesis (the fuzz tests, tests/test_fuzz_inputs.py): CI runs a fixed, modest budget; the long
# run is benchmarks/fuzz_inputs.py. Examples that failed are kept in .hypothesis/ (not in git) and
# tried first next time; each shrunk failure also becomes a regular test.
settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("dev", parent=settings.get_profile("ci"), derandomize=False, max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

REPO = Path(__file__).resolve().parents[1]
# The demo hall as the tests load it: the same definition, open at every hour of every day, so that
# no test depends on the time of day or the weekday it runs on (CI runs at any hour); the service day
# still ends at midnight. Tests of the opening hours set them (tests/factories.py ``set_hours``) or
# load ``DEMO_QUEUE``, the demo hall as shipped.
QUEUE = always_open_queue()
PG_URL = os.environ.get("WT_TEST_POSTGRES_URL")


def pg_admin_url() -> str:
    from window_terminal.config import normalize_database_url

    if not PG_URL:
        if os.environ.get("WT_REQUIRE_POSTGRES") == "1":
            pytest.fail(
                "WT_TEST_POSTGRES_URL is not set but WT_REQUIRE_POSTGRES=1: the PostgreSQL tests must run"
            )
        pytest.skip("WT_TEST_POSTGRES_URL not set")
    return normalize_database_url(PG_URL)


def _pg_url_for(database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(pg_admin_url()).set(database=database).render_as_string(hide_password=False)


def _pg_execute(sql: str) -> None:
    admin = make_engine(pg_admin_url()).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(sql))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    load_hall(engine, QUEUE)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    pg_admin_url()
    name = f"wt_tmpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _pg_execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(_pg_url_for(name))
    upgrade(engine)
    load_hall(engine, QUEUE)
    engine.dispose()
    yield name
    _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _fresh_url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "hall.sqlite3"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"wt_t_{uuid.uuid4().hex[:12]}"
    _pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield _pg_url_for(name)
    finally:
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database with the demo hall loaded — on SQLite and on PostgreSQL."""
    yield from _fresh_url(request.param, request, tmp_path)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database with no schema at all (for migration tests) — on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    name = f"wt_m_{uuid.uuid4().hex[:10]}"
    _pg_execute(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url_for(name)
    finally:
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from _fresh_url("sqlite", request, tmp_path)


@pytest.fixture
def pg_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from _fresh_url("postgres", request, tmp_path)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def hall(engine: Engine) -> HallRef:
    return resolve_hall(engine, None)


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Default PDFs, drafts and databases go to the test's folder, never the user's data folder."""
    monkeypatch.setenv("WT_DATA_DIR", str(tmp_path / "wt-data"))


# The day every snapshot is taken on: a snapshot shows case numbers, dates and waits, so its clock is
# injected (a Monday, 10:00 in the hall's time zone), never the day the suite happens to run.
SNAPSHOT_DAY = date(2026, 12, 7)


@pytest.fixture(autouse=True)
def _reset_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    clock.set_offset(timedelta(0))
    if "snap_compare" in request.fixturenames:
        from tests.factories import set_clock_to

        set_clock_to(SNAPSHOT_DAY)  # a test may still set its own day after this
    yield
    clock.set_offset(timedelta(0))


class HallClock:
    """The database clock, moved so that the hall's local time reads ``local`` (no mock: the real
    database still answers ``now``; only the offset every reader adds is set, see db/clock.py)."""

    def __init__(self, engine: Engine, timezone: str) -> None:
        self.engine = engine
        self.timezone = timezone

    def set(self, local: datetime) -> None:
        from window_terminal.db.clock import db_now, zone
        from window_terminal.db.engine import read_session

        clock.set_offset(timedelta(0))
        with read_session(self.engine) as s:
            real = db_now(s)
        target = local.replace(tzinfo=zone(self.timezone)).astimezone(UTC).replace(tzinfo=None)
        clock.set_offset(target - real)


@pytest.fixture
def hall_clock(engine: Engine, hall: HallRef) -> HallClock:
    """``hall_clock.set(datetime(2026, 1, 5, 23, 59))``: the hall's local time (Asia/Shanghai) by the
    database clock. Tests of "today" set it on both sides of local midnight, and between 00:00 and
    08:00 local, where the UTC date is still yesterday's."""
    return HallClock(engine, hall.timezone)


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for running `wt` in a subprocess against the test database, with hall manager
    M001 signed in (as `wt login M001` would); `signed_out_env` has nobody signed in."""
    env = signed_out_env(db_url, tmp_path)
    sign_in(env, "M001")
    return env


def signed_out_env(db_url: str, tmp_path: Path) -> dict[str, str]:
    # the test clock (WT_TEST_CLOCK_OFFSET) follows into `wt` processes: they see the same hour
    env = {k: v for k, v in os.environ.items() if not k.startswith("WT_") or k == "WT_TEST_CLOCK_OFFSET"}
    env.update(
        WT_DATABASE_URL=db_url, WT_DATA_DIR=str(tmp_path / "data"), WT_CONFIG=str(tmp_path / "none.toml")
    )
    return env


DEMO_PIN = "1234"  # every demo staff member's initial PIN (queue/staff.toml)
TEST_PIN = "246813"  # what the tests change it to


def sign_in(env: dict[str, str], code: str) -> None:
    """Sign ``code`` in for the `wt` processes run with ``env``: the initial PIN changed, then the
    session written where `wt login` writes it (the same core functions, without a terminal)."""
    from benchmarks._common import sign_in_on_this_pc

    sign_in_on_this_pc(env["WT_DATABASE_URL"], Path(env["WT_DATA_DIR"]), code, TEST_PIN)
