"""A city on one PostgreSQL: many halls, many windows, at a real service day's pace.

Every hall (``--halls``, default 50) is the demo hall with ``windows / halls`` windows, in one
database of its own on the benchmark server. Each window works a 120 s cycle, as a counter does on
average: **finish** the ticket in hand (or, one time in ten, **transfer** it to another line),
**call** the next ticket, **start** serving it 2 s later. Tickets **arrive** at each hall at the
same rate its windows call them (Poisson), and a **display** per hall follows the hall's feed.
Before the clock starts, every window is given a ticket in hand and every line a backlog, as fast
as the server takes it (the day "compressed" to its steady state; not measured).

The load runs open-loop: each command is sent at its scheduled time from one of ``--workers``
processes (each owning a share of the windows), whatever the others are doing, so a slow server
shows as latency, not as a slower pace. Measured:

- ``call_p99_ms``: p99 of ``call_next`` as the counter sees it (the call's own duration);
- ``display_p99_ms``: p99 from the moment a call was sent to the moment the hall's display process
  read its ``ticket.called`` event (CLOCK_MONOTONIC is one clock for every process of the machine);
- ``duplicates``: calls of a ticket beyond its transfers + 1 (from the database's log), ``lost_events``: events of a hall
  its display did not read exactly once, in order;
- ``late_p99_s``: how late the generator sent commands (p99); above 1 s the pace was not kept and
  the step fails: the figure would flatter the server.

``--windows`` takes one number or a rising list (``5000,10000,15000``): each step on a fresh
database; ``windows`` in the last line is the largest step that met every target.

    WT_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
        python benchmarks/city_load.py [--halls 50] [--windows 10000] [--seconds 90] [--workers 8]

Last line: ``{"halls": …, "windows": …, "call_p99_ms": …, "display_p99_ms": …, "duplicates": 0,
"lost_events": 0, …}``.
"""

from __future__ import annotations

import argparse
import heapq
import json
import multiprocessing
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import percentile, queue_folder_with_windows, scratch_postgres  # noqa: E402
from call_throughput import _pre_issue  # noqa: E402

CYCLE_S = 120.0  # one call per window every 120 s on average
START_AFTER_S = 2.0
TRANSFER_SHARE = 0.1
TARGETS = {"call_p99_ms": 50.0, "display_p99_ms": 100.0, "late_p99_s": 1.0}
ACTOR = "M001"


# --- set-up -----------------------------------------------------------------------------------------


def _load_halls(url: str, halls: int, per_hall: int) -> list[tuple[int, list[int], list[str]]]:
    """Load ``halls`` copies of the demo hall; (hall id, window numbers, line codes) of each."""
    import tomllib

    from sqlalchemy import select, text

    from window_terminal.core.hall import load_hall
    from window_terminal.db.engine import make_engine, read_session
    from window_terminal.db.migrate import upgrade
    from window_terminal.db.models import Hall, Line

    engine = make_engine(url)
    upgrade(engine)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = queue_folder_with_windows(Path(tmp), per_hall)
        hall_toml = (folder / "hall.toml").read_text(encoding="utf-8")
        code = tomllib.loads(hall_toml)["hall"]["code"]
        for i in range(halls):
            (folder / "hall.toml").write_text(
                hall_toml.replace(f'code = "{code}"', f'code = "city{i:03d}"', 1), encoding="utf-8"
            )
            load_hall(engine, folder)
    with engine.begin() as conn:
        conn.execute(text("UPDATE \"window\" SET status = 'open', status_since = now() AT TIME ZONE 'UTC'"))
    with read_session(engine) as s:
        for hall_id in s.execute(select(Hall.id).order_by(Hall.id)).scalars():
            windows = list(
                s.execute(
                    text('SELECT number FROM "window" WHERE hall_id = :h ORDER BY number'), {"h": hall_id}
                ).scalars()
            )
            lines = list(s.execute(select(Line.code).where(Line.hall_id == hall_id)).scalars())
            out.append((int(hall_id), windows, lines))
    # a backlog in every line: numbers 001…N of today, the counters told so that arrivals go on from N
    backlog = max(10, per_hall * 2 // max(1, len(out[0][2])))
    from window_terminal.db.engine import write_session

    for hall_id, _windows, _lines in out:
        _pre_issue(engine, hall_id, backlog)
        with write_session(engine) as s:
            s.execute(
                text(
                    "INSERT INTO ticket_counter (hall_id, line_id, service_day, last_seq) "
                    "SELECT hall_id, line_id, service_day, max(seq) FROM ticket WHERE hall_id = :h "
                    "GROUP BY hall_id, line_id, service_day"
                ),
                {"h": hall_id},
            )
    engine.dispose()
    return out


# --- the counters -------------------------------------------------------------------------------------


def _worker(url: str, share: list[tuple[int, int]], lines: dict[int, list[str]], arrivals: list[tuple[int, float]],
            go_file: str, seconds: float, seed: int, out: str, ready) -> None:  # fmt: skip
    """Counters of ``share`` (hall id, window) and the arrivals of some halls, open loop from the
    instant written in ``go_file`` (once every process is ready)."""
    from window_terminal.core import queueing as q
    from window_terminal.db.engine import make_engine
    from window_terminal.errors import DomainError

    rng = random.Random(seed)
    engine = make_engine(url, pool_size=1)
    # steady state first: a ticket in hand at every window (not measured)
    for hall_id, window in share:
        try:
            q.call_next(engine, hall_id, window, actor=ACTOR)
            q.start_service(engine, hall_id, window, actor=ACTOR)
        except DomainError:
            pass
    ready.put(1)
    plan: list[tuple[float, int, str, int, int]] = []  # (at, tiebreak, what, hall, window)
    n = 0
    for hall_id, window in share:
        phase = rng.uniform(0, CYCLE_S)
        at = phase
        while at < seconds:
            plan.append((at, (n := n + 1), "finish", hall_id, window))
            plan.append((at + 0.001, (n := n + 1), "call", hall_id, window))
            plan.append((at + START_AFTER_S, (n := n + 1), "start", hall_id, window))
            at += CYCLE_S * rng.uniform(0.8, 1.2)
    for hall_id, rate in arrivals:
        at = rng.expovariate(rate)
        while at < seconds:
            plan.append((at, (n := n + 1), "arrive", hall_id, 0))
            at += rng.expovariate(rate)
    heapq.heapify(plan)
    while not Path(go_file).exists():
        time.sleep(0.01)
    time.sleep(0.02)
    go_at = float(Path(go_file).read_text())
    calls: list[tuple[int, int, float, float]] = []  # hall, ticket id, sent (monotonic), duration
    late: list[float] = []
    refused: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    while time.monotonic() < go_at:
        time.sleep(0.01)
    while plan:
        at, _, what, hall_id, window = heapq.heappop(plan)
        due = go_at + at
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        sent = time.monotonic()
        late.append(max(0.0, sent - due))
        try:
            if what == "call":
                info = q.call_next(engine, hall_id, window, actor=ACTOR)
                took = time.monotonic() - sent
                if info is not None:
                    calls.append((hall_id, info.id, sent, took))
                else:
                    refused["nobody waiting"] += 1
            elif what == "start":
                q.start_service(engine, hall_id, window, actor=ACTOR)
            elif what == "finish":
                if rng.random() < TRANSFER_SHARE:
                    what = "transfer"
                    q.transfer(engine, hall_id, rng.choice(lines[hall_id]), window_number=window, actor=ACTOR)
                else:
                    q.finish(engine, hall_id, window, actor=ACTOR)
            else:
                q.take_ticket(engine, hall_id, rng.choice(lines[hall_id]), actor=ACTOR)
            counts[what] += 1
        except DomainError as exc:
            refused[f"{what}: {exc.code or type(exc).__name__}"] += 1
        except Exception as exc:
            errors[f"{what}: {type(exc).__name__}: {str(exc)[:120]}"] += 1
    engine.dispose()
    Path(out).write_text(
        json.dumps({"calls": calls, "late": late, "refused": refused, "errors": errors, "counts": counts}),
        encoding="utf-8",
    )


# --- the displays ---------------------------------------------------------------------------------------


def _displays(url: str, halls: list[tuple[int, int]], stop: str, out: str, ready) -> None:
    """The displays of ``halls`` on one PC: one ``Feed`` per hall, woken by ONE shared ``LISTEN``
    connection (docs/scaling.md: one LISTEN per PC, the payload names the hall) and read through
    one pooled connection — a city's displays must not hold a connection each."""
    from window_terminal.db import links
    from window_terminal.db.engine import conninfo, make_engine
    from window_terminal.db.feed import Feed
    from window_terminal.db.unit import NOTIFY_CHANNEL

    engine = make_engine(url, pool_size=1)
    feeds = {hall_id: Feed(engine, hall_id, after=after) for hall_id, after in halls}
    seen: dict[int, list[int]] = defaultdict(list)
    called: list[tuple[int, int, float]] = []

    def read(hall_id: int) -> None:
        for event in feeds[hall_id].fetch():
            seen[hall_id].append(event.seq)
            if event.kind == "ticket.called":
                called.append((hall_id, int(event.payload["ticket_id"]), time.monotonic()))

    listen = links.connect(conninfo(engine), autocommit=True, application_name="window-terminal-feed")
    listen.execute(f"LISTEN {NOTIFY_CHANNEL}")
    for hall_id in feeds:
        read(hall_id)
    ready.put(1)
    while not Path(stop).exists():
        woken: list[int] = []
        for note in listen.notifies(timeout=0.5, stop_after=1):
            woken.append(int(note.payload.split(":")[0]))
        for note in listen.notifies(timeout=0):
            woken.append(int(note.payload.split(":")[0]))
        for hall_id in dict.fromkeys(woken):
            if hall_id in feeds:
                read(hall_id)
    for hall_id in feeds:  # the tail (and anything numbered by a later command)
        read(hall_id)
    listen.close()
    engine.dispose()
    Path(out).write_text(json.dumps({"seen": seen, "called": called}), encoding="utf-8")


# --- one step ---------------------------------------------------------------------------------------------


def measure(windows: int, halls: int, seconds: float, workers: int, display_procs: int) -> dict[str, Any]:
    from sqlalchemy import text

    from window_terminal.db.engine import make_engine

    per_hall = max(1, windows // halls)
    with scratch_postgres("wt_city") as url, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        setup_started = time.monotonic()
        layout = _load_halls(url, halls, per_hall)
        ctx = multiprocessing.get_context("spawn")
        ready = ctx.Queue()
        pairs = [(hall_id, w) for hall_id, ws, _ in layout for w in ws]
        random.Random(1).shuffle(pairs)
        lines = {hall_id: codes for hall_id, _, codes in layout}
        rate = {hall_id: len(ws) / CYCLE_S for hall_id, ws, _ in layout}
        # the workers warm up first, then all start at one instant
        procs = []
        shares = [pairs[k::workers] for k in range(workers)]
        hall_ids = [h for h, _, _ in layout]
        arrival_shares = [[(h, rate[h]) for h in hall_ids[k::workers]] for k in range(workers)]
        go_file = work / "go"
        for k in range(workers):
            procs.append(
                ctx.Process(
                    target=_worker,
                    args=(url, shares[k], lines, arrival_shares[k], str(go_file), seconds, k, str(work / f"w{k}.json"), ready),
                )
            )  # fmt: skip
        for p in procs:
            p.start()
        for _ in procs:
            ready.get(timeout=1800)
        # displays start after the warm-up, from the feed's current position
        engine = make_engine(url)
        with engine.connect() as conn:
            cursors = dict(conn.execute(text("SELECT id, event_seq FROM hall")).all())
        stop = work / "stop"
        dprocs = []
        for k in range(display_procs):
            mine = [(h, int(cursors[h] or 0)) for h in hall_ids[k::display_procs]]
            dprocs.append(
                ctx.Process(target=_displays, args=(url, mine, str(stop), str(work / f"d{k}.json"), ready))
            )
        for p in dprocs:
            p.start()
        for _ in dprocs:
            ready.get(timeout=600)
        setup_s = time.monotonic() - setup_started
        (work / "go.tmp").write_text(repr(time.monotonic() + 1.0))
        (work / "go.tmp").rename(go_file)
        for p in procs:
            p.join(seconds + 600)
        time.sleep(2.0)
        stop.touch()
        for p in dprocs:
            p.join(120)
        results = [json.loads((work / f"w{k}.json").read_text()) for k in range(workers)]
        shown = [json.loads((work / f"d{k}.json").read_text()) for k in range(display_procs)]
        with engine.connect() as conn:
            # a transferred ticket waits again and is rightly called again: a duplicate is a call
            # more than (transfers + 1) of the ticket
            duplicates = conn.execute(
                text(
                    "SELECT COALESCE(sum(GREATEST(0, called - transferred - 1)), 0) FROM ("
                    " SELECT count(*) FILTER (WHERE kind = 'ticket.called') AS called,"
                    " count(*) FILTER (WHERE kind = 'ticket.transferred') AS transferred"
                    " FROM event WHERE kind IN ('ticket.called', 'ticket.transferred')"
                    " GROUP BY hall_id, payload->>'ticket_id') x"
                )
            ).scalar_one()
            log = defaultdict(list)
            for hall_id, seq in conn.execute(
                text("SELECT e.hall_id, e.seq FROM event e JOIN (VALUES " + ",".join(
                    f"({h}, {int(cursors[h] or 0)})" for h in hall_ids) + ") c(h, s) ON e.hall_id = c.h AND e.seq > c.s "
                     "ORDER BY e.hall_id, e.seq")
            ).all():  # fmt: skip
                log[hall_id].append(seq)
        engine.dispose()

    seen = defaultdict(list)
    for d in shown:
        for hall_id, seqs in d["seen"].items():
            seen[int(hall_id)] += seqs
    lost_events = sum(
        abs(len(log[h]) - len(seen[h])) + (0 if seen[h] == log[h] else 1) * (len(log[h]) > 0)
        for h in hall_ids
    )
    sent = {(h, t): (at, took) for r in results for h, t, at, took in r["calls"]}
    call_ms = sorted(took * 1000 for at, took in sent.values())
    display_ms = sorted(
        (seen_at - sent[(h, t)][0]) * 1000 for d in shown for h, t, seen_at in d["called"] if (h, t) in sent
    )
    late = sorted(x for r in results for x in r["late"])
    counts: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    for r in results:
        counts.update(r["counts"])
        refused.update(r["refused"])
        errors.update(r["errors"])
    figures = {
        "halls": halls,
        "windows": per_hall * halls,
        "call_p99_ms": round(percentile(call_ms, 99), 1) if call_ms else None,
        "call_p50_ms": round(percentile(call_ms, 50), 1) if call_ms else None,
        "display_p99_ms": round(percentile(display_ms, 99), 1) if display_ms else None,
        "display_p50_ms": round(percentile(display_ms, 50), 1) if display_ms else None,
        "duplicates": int(duplicates),
        "lost_events": int(lost_events),
        "late_p99_s": round(percentile(late, 99), 3) if late else None,
        "calls": len(call_ms),
        "calls_per_s": round(len(call_ms) / seconds, 1),
        "commands_per_s": round(sum(counts.values()) / seconds, 1),
        "counts": dict(counts),
        "refused": dict(refused.most_common(6)),
        "errors": dict(errors.most_common(6)),
        "seconds": seconds,
        "setup_s": round(setup_s, 1),
    }
    figures["passed"] = bool(
        call_ms
        and display_ms
        and figures["call_p99_ms"] < TARGETS["call_p99_ms"]
        and figures["display_p99_ms"] < TARGETS["display_p99_ms"]
        and figures["late_p99_s"] < TARGETS["late_p99_s"]
        and figures["duplicates"] == 0
        and figures["lost_events"] == 0
        and not errors
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--halls", type=int, default=50)
    parser.add_argument("--windows", default="10000", help="one number, or a rising list: 5000,10000,15000")
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--displays", type=int, default=2, help="display processes (halls shared out)")
    args = parser.parse_args()
    steps = [int(x) for x in str(args.windows).split(",")]
    best: dict[str, Any] | None = None
    last: dict[str, Any] | None = None
    for windows in steps:
        last = measure(windows, args.halls, args.seconds, args.workers, args.displays)
        print(json.dumps(last, ensure_ascii=False), flush=True)
        if not last["passed"]:
            break
        best = last
    chosen = best or last
    assert chosen is not None
    summary = {
        "halls": chosen["halls"],
        "windows": chosen["windows"] if best else 0,
        "call_p99_ms": chosen["call_p99_ms"],
        "display_p99_ms": chosen["display_p99_ms"],
        "duplicates": chosen["duplicates"],
        "lost_events": chosen["lost_events"],
        "largest_step_tried": last["windows"] if last else None,
        "late_p99_s": chosen["late_p99_s"],
        "calls_per_s": chosen["calls_per_s"],
        "commands_per_s": chosen["commands_per_s"],
        "targets": {**TARGETS, "windows": ">= 10000", "duplicates": 0, "lost_events": 0},
        "all_passed": bool(best) and best["windows"] >= 10_000,
    }
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
