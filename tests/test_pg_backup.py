"""A PostgreSQL hall backed up by pgBackRest and restored to the second (issue 29): the restore drill.

A real server with its WAL archived into two repositories (the second stands for another host), a
morning of traffic, the disk destroyed, the data restored from the other host's repository to a
moment between two commits: every event committed up to that moment is back, none after it, the
audit chain verifies, and the hall works on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from benchmarks._archived import ArchivedCluster, unavailable
from tests.conftest import QUEUE, REPO
from window_terminal.core import queueing as q
from window_terminal.core.audit import verify_chain
from window_terminal.core.hall import load_hall, resolve_hall
from window_terminal.db.clock import db_now, to_local
from window_terminal.db.engine import make_engine, read_session
from window_terminal.db.migrate import upgrade
from window_terminal.db.models import Event

pytestmark = pytest.mark.postgres


@pytest.fixture
def cluster():
    reason = unavailable()
    if reason:
        if os.environ.get("WT_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"the restore drill cannot run: {reason}")
        pytest.skip(reason)
    with ArchivedCluster.started() as started:
        yield started


def wt(cluster, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "window_terminal.cli", *args],
        env=cluster.env(), cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def events(engine, hall_id: int) -> list[tuple[int, str, str]]:
    with read_session(engine) as s:
        return [tuple(r) for r in s.execute(
            select(Event.seq, Event.kind, Event.hash).where(Event.hall_id == hall_id).order_by(Event.seq)
        )]  # fmt: skip


def traffic(engine, hall_id: int, tickets: int) -> None:
    for _ in range(tickets):
        q.take_ticket(engine, hall_id, "BIZ", actor="M001")
    q.call_next(engine, hall_id, 2, actor="C002")
    q.start_service(engine, hall_id, 2, actor="C002")


def test_a_destroyed_server_is_restored_to_the_second_from_the_other_hosts_copy(cluster):
    engine = make_engine(cluster.url)
    upgrade(engine)
    load_hall(engine, QUEUE)
    hall = resolve_hall(engine, None)
    q.set_window_status(engine, hall.id, 2, "open", actor="C002")

    made = wt(cluster, "db", "backup", "--kind", "full", "--json")
    assert made.returncode == 0, made.stderr
    backups = json.loads(made.stdout)["backups"]
    assert {b["repo"] for b in backups} == {1, 2}  # a copy here and one on the other host

    traffic(engine, hall.id, 8)
    with read_session(engine) as s:
        moment = db_now(s).replace(microsecond=0) + timedelta(seconds=1)  # the second to restore to
    while True:  # nothing more is committed before that second is past
        with read_session(engine) as s:
            if db_now(s) > moment + timedelta(milliseconds=500):
                break
        time.sleep(0.1)
    kept = events(engine, hall.id)
    traffic(engine, hall.id, 5)  # committed after the moment: a restore to it must not bring these
    later = events(engine, hall.id)
    assert len(later) > len(kept)
    engine.dispose()
    cluster.switch_wal()

    cluster.destroy()
    local = to_local(moment, hall.timezone).strftime("%Y-%m-%d %H:%M:%S")
    refused = wt(cluster, "db", "restore", "--to", local, "--pg-data", str(cluster.data), "--repo", "2")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    restored = wt(
        cluster,
        "db",
        "restore",
        "--to",
        local,
        "--pg-data",
        str(cluster.data),
        "--repo",
        "2",
        "--yes",
        "--json",
    )
    assert restored.returncode == 0, restored.stderr
    cluster.start()

    engine = make_engine(cluster.url)
    try:
        assert events(engine, hall.id) == kept  # every event up to the second, none after it
        report = verify_chain(engine, hall.id)
        assert report.intact, report.text("en")
        assert q.take_ticket(engine, hall.id, "BIZ", actor="M001") is not None  # the hall works on
    finally:
        engine.dispose()


def test_restoring_over_a_running_server_is_refused(cluster):
    done = wt(cluster, "db", "restore", "--pg-data", str(cluster.data), "--yes")
    assert done.returncode == 2
    assert "running" in done.stderr and "stop it first" in done.stderr
