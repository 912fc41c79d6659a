"""The hall's database fails over under load (pg_auto_failover): nothing lost, nothing run twice.

A monitor and two nodes start on local ports (benchmarks/_cluster.py); counters in three processes
call and start tickets through the multi-host URL while a feed follower in another process logs
what it sees; the primary node is killed with SIGKILL; the monitor promotes the standby; the
clients follow it by themselves. Every call a counter was told succeeded is in the new primary's
log exactly once, no ticket is called twice, every command either succeeded or was refused with
words, and the follower saw every committed event exactly once, in order. (How fast: the figure
is benchmarks/failover.py's ``recovery_s``.)
"""

from __future__ import annotations

import os

import pytest

from benchmarks import _cluster
from benchmarks.failover import run

pytestmark = pytest.mark.postgres


def test_the_standby_takes_over_and_no_call_is_lost_or_made_twice():
    reason = _cluster.unavailable()
    if reason:
        if os.environ.get("WT_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"WT_REQUIRE_POSTGRES=1 but the failover cluster cannot start: {reason}")
        pytest.skip(reason)
    for _ in range(3):  # a kill that happened to catch no command in flight proves nothing: again
        result = run(callers=3, before=3.0, after=2.0)
        if result["calls_retried"] >= 1:
            break
    assert result["lost_calls"] == 0, result
    assert result["duplicate_calls"] == 0, result
    assert result["calls_retried"] >= 1, (
        "no call was caught in the failover: the test proved nothing",
        result,
    )
    assert result["recovery_s"] is not None, "no call succeeded on the new primary"
    assert all(r["outcome"] == "refused" and r["text"] for r in result["refused"]), result["refused"]
    assert result["follower_ok"], result
    assert result["events_seen_by_follower"] == result["events"] > 0
    # `wt db status` named the primary before and after, and the standby replicated synchronously
    assert result["status_primary"] == ["node1", "node2"], result
    assert result["status_replicas_before"] in ([("streaming", "quorum")], [("streaming", "sync")]), result
