"""Sync latency: from a change committed in one process to its event arriving in another.

Peers (separate processes, like counter PCs and kiosks) each issue a ticket at random intervals
(0.5–2.5 s by default: six peers give ~240 changes a minute, enough for a p99) and stamp each one
before ``take_ticket`` starts and after it returned; the commit lies in between. A follower process
waits in ``Feed.poll`` (PostgreSQL: LISTEN/NOTIFY; SQLite: PRAGMA data_version) and stamps each
event's arrival. All stamps are ``measure.now()`` (CLOCK_MONOTONIC, one clock for every process).
``{db}_p50_ms`` / ``{db}_p99_ms``: start → arrival (can only overstate); ``{db}_from_return_*``:
return → arrival (can only understate). A change that never arrives, or a negative latency, fails
the run. Targets: PostgreSQL p99 < 50 ms, SQLite p99 < 300 ms. Last line: one JSON object.

    WT_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python benchmarks/sync_latency.py [--seconds 60] [--peers 6]
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import prepare_hall, scratch_postgres, scratch_sqlite  # noqa: E402
from measure import MachineProbe, Report, RunFailed, describe_machine, latency_figures, ms, now  # noqa: E402

TARGETS_P99_MS = {"pg": 50.0, "sqlite": 300.0}
LINES = ("BIZ", "FOOD", "SOC", "HPF", "POP", "CONS", "GEN", "TAX")


def _peer(
    url: str, hall_id: int, seed: int, seconds: float, interval: tuple[float, float], ready, out
) -> None:
    from window_terminal.core import queueing as q
    from window_terminal.db.engine import make_engine

    engine = make_engine(url, pool_size=1)
    rng = random.Random(seed)
    committed: list[tuple[int, float, float]] = []
    with engine.connect():  # connected before the clock starts
        pass
    ready.wait()  # every process is up and the follower listens
    start_at = moment = now()
    while True:
        moment += rng.uniform(*interval)
        if moment > start_at + seconds:
            break
        time.sleep(max(0.0, moment - now()))
        start = now()
        ticket = q.take_ticket(engine, hall_id, rng.choice(LINES), actor="C001")
        committed.append((ticket.id, start, now()))
    out.put(("peer", committed))
    engine.dispose()


def _follower(url: str, hall_id: int, after: int, seconds: float, ready, out) -> None:
    from window_terminal.db.engine import make_engine
    from window_terminal.db.feed import Feed, FeedUnavailable

    engine = make_engine(url, pool_size=1)
    feed = Feed(engine, hall_id, after=after)
    events = feed.poll(timeout=0)  # connect and start listening before the first change
    assert not events, "the follower starts after the hall's last event"
    arrived: dict[int, float] = {}
    ready.wait()
    until = now() + seconds + 3.0
    while now() < until:
        try:
            events = feed.poll(timeout=5.0)
        except FeedUnavailable:
            time.sleep(0.1)
            continue
        at = now()
        for event in events:
            if event.kind == "ticket.issued":
                arrived[event.payload["ticket_id"]] = at
    feed.close()
    out.put(("follower", arrived))
    engine.dispose()


def measure(
    url: str, peers: int, seconds: float, interval: tuple[float, float]
) -> tuple[list[float], list[float]]:
    """(start → arrival, return → arrival) in ms for every change the peers committed."""
    from sqlalchemy import select

    from window_terminal.db.engine import read_session
    from window_terminal.db.models import Hall

    engine, hall_id = prepare_hall(url)
    with read_session(engine) as s:
        after = s.execute(select(Hall.event_seq).where(Hall.id == hall_id)).scalar_one()
    engine.dispose()

    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    ready = ctx.Barrier(peers + 1)  # the clock starts when every process is up
    procs = [ctx.Process(target=_follower, args=(url, hall_id, after, seconds, ready, out))]
    procs += [
        ctx.Process(target=_peer, args=(url, hall_id, i, seconds, interval, ready, out)) for i in range(peers)
    ]
    for p in procs:
        p.start()
    committed: list[tuple[int, float, float]] = []
    arrived: dict[int, float] = {}
    for _ in procs:
        kind, data = out.get(timeout=seconds + 120)
        if kind == "peer":
            committed.extend(data)
        else:
            arrived = data
    for p in procs:
        p.join(30)
    missing = [ticket_id for ticket_id, _, _ in committed if ticket_id not in arrived]
    if missing:
        raise RunFailed(f"{len(missing)} committed changes never reached the follower: {missing[:10]}")
    upper = [ms(arrived[ticket_id] - start) for ticket_id, start, _ in committed]
    lower = [ms(arrived[ticket_id] - returned) for ticket_id, _, returned in committed]
    return upper, lower


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the peers work, per database")
    parser.add_argument("--peers", type=int, default=6)
    parser.add_argument("--min-interval", type=float, default=0.5, help="seconds between a peer's changes")
    parser.add_argument("--max-interval", type=float, default=2.5)
    args = parser.parse_args()

    report = Report("sync_latency")
    report.add(describe_machine())
    total = 0
    with MachineProbe() as probe:
        for name, scratch in (("pg", scratch_postgres("wt_bench_sync")), ("sqlite", scratch_sqlite())):
            with scratch as url:
                upper, lower = measure(url, args.peers, args.seconds, (args.min_interval, args.max_interval))
            report.add(latency_figures(name, upper, lower_bounds_ms=lower))
            total += len(upper)
    report.add(probe.figures())
    report.add({"samples": total, "peers": args.peers})
    for name, target in TARGETS_P99_MS.items():
        report.target(f"{name}_p99_ms", target)
    report.finish()


if __name__ == "__main__":
    main()
