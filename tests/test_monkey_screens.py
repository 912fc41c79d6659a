"""Every screen, monkey-tested (issue 19): seeded random keys, pastes and resizes down to 80×24;
no exception, no screen left busy, no core call failing with anything but a refusal, and the
database consistent afterwards. The harness is tests/monkey.py; benchmarks/fuzz_inputs.py runs it
with far more keys."""

from __future__ import annotations

import asyncio

import pytest

from tests import monkey
from window_terminal.config import Settings
from window_terminal.core.hall import resolve_hall
from window_terminal.db.engine import make_engine

KEYS_IN_CI = 40


@pytest.fixture
def stage(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    engine = make_engine(sqlite_url)
    made = monkey.Stage(
        engine,
        resolve_hall(engine, None),
        Settings(database_url=sqlite_url, drafts_dir=str(tmp_path / "drafts")),
    )
    monkey.prepare(made)
    yield made
    engine.dispose()


@pytest.mark.parametrize("screen", monkey.SCREENS)
def test_random_keys_pastes_and_resizes_break_nothing(stage, screen):
    steps, problems = asyncio.run(monkey.monkey(stage, screen, seed=1, keys=KEYS_IN_CI))
    assert problems == []
    assert steps == KEYS_IN_CI, f"the {screen} screen quit after {steps} keys"


def test_the_monkey_notices_a_screen_whose_core_calls_fail(stage):
    # The harness itself must be able to fail: with the window table gone, the counter screen's
    # calls fail with a database error (not a refusal), and the monkey reports it.
    with stage.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE window RENAME TO window_gone")
    _, problems = asyncio.run(monkey.monkey(stage, "counter", seed=1, keys=10))
    assert any("a core call failed" in p or "crashed" in p for p in problems), problems
