"""The latency benchmarks still run against today's core (a benchmark that cannot start measures
nothing: display_latency's caller once crashed on a core argument that had become required).

A small run each, on both databases; the figures themselves are the benchmarks' business (README,
"Performance"), these check only that every sample was taken and the last line is the JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import pg_admin_url

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.postgres


def _run(script: str, *args: str) -> dict:
    env = {**os.environ, "WT_TEST_POSTGRES_URL": pg_admin_url()}
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_display_latency_takes_every_sample_on_both_databases() -> None:
    result = _run("display_latency.py", "--calls", "6")
    assert (result["sqlite_samples"], result["pg_samples"]) == (6, 6)
    assert result["sqlite_p99_ms"] is None  # fewer than 200 samples give no p99
    assert 0 < result["pg_p50_ms"] <= result["pg_max_ms"]


def test_sync_latency_takes_every_sample_on_both_databases() -> None:
    result = _run("sync_latency.py", "--seconds", "4", "--peers", "2")
    assert result["pg_samples"] > 0 and result["sqlite_samples"] > 0
    assert result["samples"] == result["pg_samples"] + result["sqlite_samples"]
