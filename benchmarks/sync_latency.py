"""Sync latency: from a committed change in one process to its event arriving in another.

Peers (separate processes, like counter PCs and kiosks) each issue a ticket at random intervals of
2–10 s and note the moment ``take_ticket`` returned (the commit). A follower process waits in
``Feed.poll`` (PostgreSQL: LISTEN/NOTIFY; SQLite: PRAGMA data_version) and notes when each event
arrived. Both use ``time.time()`` on the same machine. Last line: one JSON object.

    WT_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
        /work/venv/bin/python benchmarks/sync_latency.py [--seconds 70] [--peers 6]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import percentile, prepare_hall, scratch_postgres, scratch_sqlite  # noqa: E402

TARGETS_P99_MS = {"pg": 50.0, "sqlite": 300.0}
LINES = ("BIZ", "FOOD", "SOC", "HPF", "POP", "CONS", "GEN", "TAX")


def _peer(url: str, hall_id: int, seed: int, start_at: float, seconds: float, out) -> None:
    from window_terminal.core import queueing as q
    from window_terminal.db.engine import make_engine

    engine = make_engine(url, pool_size=1)
    rng = random.Random(seed)
    committed: list[tuple[int, float]] = []
    moment = start_at
    while True:
        moment += rng.uniform(2.0, 10.0)
        if moment > start_at + seconds:
            break
        time.sleep(max(0.0, moment - time.time()))
        ticket = q.take_ticket(engine, hall_id, rng.choice(LINES), actor="C001")
        committed.append((ticket.id, time.time()))
    out.put(("peer", committed))
    engine.dispose()


def _follower(url: str, hall_id: int, after: int, until: float, out) -> None:
    from window_terminal.db.engine import make_engine
    from window_terminal.db.feed import Feed, FeedUnavailable

    engine = make_engine(url, pool_size=1)
    feed = Feed(engine, hall_id, after=after)
    feed.poll(timeout=0)  # connect (and start listening) before the first change
    arrived: dict[int, float] = {}
    while time.time() < until:
        try:
            events = feed.poll(timeout=5.0)
        except FeedUnavailable:
            time.sleep(0.1)
            continue
        now = time.time()
        for event in events:
            if event.kind == "ticket.issued":
                arrived[event.payload["ticket_id"]] = now
    feed.close()
    out.put(("follower", arrived))
    engine.dispose()


def measure(url: str, peers: int, seconds: float) -> list[float]:
    from sqlalchemy import select

    from window_terminal.db.engine import read_session
    from window_terminal.db.models import Hall

    engine, hall_id = prepare_hall(url)
    with read_session(engine) as s:
        after = s.execute(select(Hall.event_seq).where(Hall.id == hall_id)).scalar_one()
    engine.dispose()

    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start_at = time.time() + 5.0  # interpreters start first
    until = start_at + seconds + 3.0
    procs = [ctx.Process(target=_follower, args=(url, hall_id, after, until, out))]
    procs += [ctx.Process(target=_peer, args=(url, hall_id, i, start_at, seconds, out)) for i in range(peers)]
    for p in procs:
        p.start()
    committed: list[tuple[int, float]] = []
    arrived: dict[int, float] = {}
    for _ in procs:
        kind, data = out.get(timeout=seconds + 120)
        if kind == "peer":
            committed.extend(data)
        else:
            arrived = data
    for p in procs:
        p.join(30)
    missing = [ticket_id for ticket_id, _ in committed if ticket_id not in arrived]
    if missing:
        raise SystemExit(f"{len(missing)} committed changes never reached the follower: {missing[:10]}")
    return [(arrived[ticket_id] - at) * 1000 for ticket_id, at in committed]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=70.0, help="how long the peers work, per database")
    parser.add_argument("--peers", type=int, default=6)
    args = parser.parse_args()

    figures: dict[str, float | int | bool] = {}
    for name, scratch in (("pg", scratch_postgres("wt_bench_sync")), ("sqlite", scratch_sqlite())):
        with scratch as url:
            samples = measure(url, args.peers, args.seconds)
        p50, p99 = statistics.median(samples), percentile(samples, 99)
        print(
            f"{name}: {len(samples)} changes, p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(samples):.1f} ms",
            flush=True,
        )
        figures.update(
            {
                f"{name}_p50_ms": round(p50, 1),
                f"{name}_p99_ms": round(p99, 1),
                f"{name}_samples": len(samples),
                f"{name}_target_p99_ms": TARGETS_P99_MS[name],
                f"{name}_meets_target": p99 < TARGETS_P99_MS[name],
            }
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
