"""The hall's database fails over under load: nothing lost, nothing twice, back within seconds.

A pg_auto_failover monitor and two database nodes start on local ports (benchmarks/_cluster.py:
node1 primary, node2 its synchronous standby). Counters in several processes call and start
tickets through the multi-host URL, each command with its own request id, retried with THE SAME
id after any error until the database answers; a feed follower in another process logs every
event it sees. Then node1 dies (SIGKILL to its keeper, postmaster and backends), the monitor
promotes node2, and the clients find it by themselves (``target_session_attrs=read-write``).

Checked on the new primary afterwards:

- ``lost_calls``: calls a counter was told succeeded that the database does not have;
- ``duplicate_calls``: tickets called more than once, or a request id that called twice;
- ``follower_ok``: the follower saw every event of the log exactly once, in order;
- ``recovery_s``: from the kill to the first call that succeeds on the new primary (target < 30 s).

    python benchmarks/failover.py [--callers 3] [--before 4] [--after 8]

Needs pg_autoctl (Debian: postgresql-15-auto-failover); as root the nodes run as ``postgres``.
Last line: ``{"lost_calls": 0, "duplicate_calls": 0, "recovery_s": …, …}``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cluster import FailoverCluster  # noqa: E402
from _common import QUEUE  # noqa: E402
from call_throughput import _pre_issue  # noqa: E402

TARGET_RECOVERY_S = 30.0
PACE_S = 0.02  # between a counter's commands
GIVE_UP_S = 90.0  # a command still unanswered after this long counts as refused (said so)


def _counter(url: str, hall_id: int, window: int, stop: str, out: str) -> None:
    """One counter PC: call, start, call, … each command retried with its own id until answered."""
    from window_terminal.core import queueing as q
    from window_terminal.db.engine import make_engine
    from window_terminal.errors import DomainError

    engine = make_engine(url, pool_size=1)
    n = 0
    with open(out, "a", encoding="utf-8") as log:

        def note(**row: Any) -> None:
            log.write(json.dumps(row) + "\n")
            log.flush()

        while not Path(stop).exists():
            for command in ("call", "start"):
                n += 1
                rid = f"w{window}-{n}"
                first = time.time()
                errors = 0
                while True:
                    try:
                        if command == "call":
                            info = q.call_next(engine, hall_id, window, actor="M001", request_id=rid)
                        else:
                            info = q.start_service(engine, hall_id, window, actor="M001", request_id=rid)
                    except DomainError as exc:
                        note(rid=rid, command=command, outcome="refused", text=str(exc), t=time.time())
                        break
                    except Exception as exc:  # the database went away: same request id again
                        errors += 1
                        if time.time() - first > GIVE_UP_S:
                            note(
                                rid=rid,
                                command=command,
                                outcome="gave_up",
                                text=str(exc)[:200],
                                t=time.time(),
                            )
                            break
                        time.sleep(0.2)
                        continue
                    note(
                        rid=rid,
                        command=command,
                        outcome="ok",
                        ticket=info.id if info else None,
                        retried=errors,
                        t=time.time(),
                    )
                    break
                time.sleep(PACE_S)
    engine.dispose()


def _follower(url: str, hall_id: int, after: int, stop: str, out: str) -> None:
    from window_terminal.db.engine import make_engine
    from window_terminal.db.feed import Feed

    engine = make_engine(url, pool_size=1)
    feed = Feed(engine, hall_id, after=after)
    with open(out, "a", encoding="utf-8") as log:
        while not Path(stop).exists():
            for event in feed.follow(timeout=0.5, idle=0.5):
                log.write(json.dumps([event.seq, event.kind, event.event_id]) + "\n")
                log.flush()
        # catch up with the end of the log before stopping
        for event in feed.follow(timeout=3, idle=0.5):
            log.write(json.dumps([event.seq, event.kind, event.event_id]) + "\n")
    feed.close()
    engine.dispose()


def _prepare(url: str, callers: int, tickets: int) -> tuple[int, int]:
    from window_terminal.core import queueing as q
    from window_terminal.core.hall import load_hall, resolve_hall
    from window_terminal.db.engine import make_engine
    from window_terminal.db.feed import current_cursor
    from window_terminal.db.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    load_hall(engine, QUEUE)
    hall_id = resolve_hall(engine, None).id
    for window in range(1, callers + 1):
        q.set_window_status(engine, hall_id, window, "open", actor="M001")
    _pre_issue(engine, hall_id, tickets)
    cursor = current_cursor(engine, hall_id)
    engine.dispose()
    return hall_id, cursor


def _status(url: str) -> dict[str, Any]:
    from window_terminal.db.engine import make_engine
    from window_terminal.db.status import database_status

    engine = make_engine(url, pool_size=1)
    try:
        return database_status(engine)
    finally:
        engine.dispose()


def _rows(path: Path) -> list[Any]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run(callers: int = 3, before: float = 4.0, after: float = 8.0, tickets: int = 999) -> dict[str, Any]:
    """Start the cluster, run the load, kill the primary, check everything; the figures."""
    import psycopg

    with FailoverCluster.started() as cluster, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = cluster.url
        hall_id, cursor = _prepare(url, callers, tickets)
        stop = str(work / "stop")
        ctx = multiprocessing.get_context("spawn")
        procs = [
            ctx.Process(target=_counter, args=(url, hall_id, w, stop, str(work / f"counter{w}.jsonl")))
            for w in range(1, callers + 1)
        ]
        procs.append(
            ctx.Process(target=_follower, args=(url, hall_id, cursor, stop, str(work / "feed.jsonl")))
        )
        for p in procs:
            p.start()
        # the load is running before the kill: every counter has had a call answered (a process takes
        # seconds to start on a loaded machine, and a kill before any call would catch nothing)
        started = time.time() + GIVE_UP_S
        while time.time() < started and not all(
            any(r["outcome"] == "ok" for r in _rows(work / f"counter{w}.jsonl"))
            for w in range(1, callers + 1)
        ):
            time.sleep(0.2)
        time.sleep(before)
        status_before = _status(url)
        killed_at = time.time()
        cluster.kill("node1")
        cluster.wait_for_primary("node2")
        promoted_s = time.time() - killed_at
        # the load goes on until every counter has succeeded on the new primary, and a bit more
        deadline = time.time() + GIVE_UP_S
        while time.time() < deadline:
            if all(
                any(r["outcome"] == "ok" and r["t"] > killed_at for r in _rows(work / f"counter{w}.jsonl"))
                for w in range(1, callers + 1)
            ):
                break
            time.sleep(0.5)
        time.sleep(after)
        Path(stop).touch()
        for p in procs:
            p.join(60)
            if p.is_alive():
                p.kill()
        rows = [r for w in range(1, callers + 1) for r in _rows(work / f"counter{w}.jsonl")]
        seen = _rows(work / "feed.jsonl")
        status_after = _status(url)
        nodes = {f"127.0.0.1:{cluster.ports[n]}": n for n in ("node1", "node2")}

        with psycopg.connect(cluster.node_url("node2"), autocommit=True) as conn:
            log = conn.execute(
                "SELECT seq, kind, id, request_id, payload->>'ticket_id' FROM event "
                "WHERE hall_id = %s AND seq > %s ORDER BY seq",
                (hall_id, cursor),
            ).fetchall()
            unnumbered = conn.execute(
                "SELECT count(*) FROM event WHERE hall_id = %s AND seq IS NULL", (hall_id,)
            ).fetchone()
        called_by_rid = Counter(r[3] for r in log if r[1] == "ticket.called")
        called_tickets = Counter(r[4] for r in log if r[1] == "ticket.called")
        confirmed = [r for r in rows if r["outcome"] == "ok" and r["command"] == "call" and r["ticket"]]
        lost = [r["rid"] for r in confirmed if called_by_rid[r["rid"]] != 1]
        duplicates = sum(c - 1 for c in called_tickets.values() if c > 1) + sum(
            c - 1 for c in called_by_rid.values() if c > 1
        )
        after_kill = [
            r["t"] for r in rows if r["outcome"] == "ok" and r["command"] == "call" and r["t"] > killed_at
        ]
        recovery = (min(after_kill) - killed_at) if after_kill else None
        follower_ok = [s[0] for s in seen] == [r[0] for r in log] and [s[2] for s in seen] == [
            r[2] for r in log
        ]
        return {
            "lost_calls": len(lost),
            "duplicate_calls": duplicates,
            "recovery_s": round(recovery, 2) if recovery is not None else None,
            "promotion_s": round(promoted_s, 2),
            "calls_confirmed": len(confirmed),
            "calls_retried": sum(1 for r in confirmed if r["retried"]),
            "refused": [r for r in rows if r["outcome"] != "ok"],
            "events": len(log),
            "events_seen_by_follower": len(seen),
            "follower_ok": follower_ok,
            "unnumbered_left": int(unnumbered[0]) if unnumbered else None,
            "lost_request_ids": lost[:10],
            # what `wt db status` said before the kill and after the failover
            "status_primary": [nodes.get(status_before["primary"]), nodes.get(status_after["primary"])],
            "status_replicas_before": [
                (r["state"], r["sync"]) for n in status_before["nodes"] for r in n["replicas"]
            ],
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--callers", type=int, default=3)
    parser.add_argument("--before", type=float, default=4.0, help="seconds of load before the kill")
    parser.add_argument("--after", type=float, default=8.0, help="seconds of load after recovery")
    args = parser.parse_args()
    result = run(args.callers, args.before, args.after)
    result["targets"] = {"lost_calls": 0, "duplicate_calls": 0, "recovery_s": f"< {TARGET_RECOVERY_S:g}"}
    result["all_passed"] = (
        result["lost_calls"] == 0
        and result["duplicate_calls"] == 0
        and result["recovery_s"] is not None
        and result["recovery_s"] < TARGET_RECOVERY_S
        and result["follower_ok"]
    )
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
