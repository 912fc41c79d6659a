"""Simulated weeks of a two-hall database, every invariant of the hall checked after every step (issue 28).

    nice -n 10 .venv/bin/python benchmarks/hall_weeks.py --steps 100000 --seed 1 --database sqlite
    nice -n 10 .venv/bin/python benchmarks/hall_weeks.py --steps 100000 --seed 1 --database postgresql

A seeded random walk over tests/hall/operations.py (arrivals, calls, transfers, every intake outcome,
reviews by the right and the wrong department, extensions, suspensions, pickups, ratings, the clock
jumping by minutes, hours and days over weekends and holidays) on a fresh database holding two halls;
after each step tests/hall/invariants.py checks the hall it touched (both after a clock step). The
same seed gives the same steps and, on the same code, the same hall.

For every invariant that fails, the steps up to its first failure are shrunk (delta debugging, each
try replayed on a fresh database, ``--shrink-seconds`` per invariant) and the shortest sequence found
is printed with what each step did. PostgreSQL: a scratch database on the server of
``--postgres-url`` (default WT_TEST_POSTGRES_URL), dropped at the end. SQLite: a file in
``--scratch`` (default: a temporary folder).

Last line: {"steps", "days", "invariants", "violations", "database", "steps_per_second",
"steps_per_cpu_second", "failed"} (steps per second of this process's own CPU time: a figure that a
busy machine bends less):
invariants = invariant checks run, violations = (step, invariant) pairs that failed, failed = the
same per invariant.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.hall.databases import Databases  # noqa: E402
from tests.hall.operations import CLOCK_OPERATIONS, Simulation, Step, random_steps  # noqa: E402


def shape(text: str) -> str:
    """A violation without its numbers, dates and ticket numbers: the same defect seen again."""
    return re.sub(r"[A-Z]*\d[\w\-:.]*", "#", text)


def replay(databases: Databases, steps: list[Step], invariant: str) -> int | None:
    """Run ``steps`` on a fresh database; the index of the first step after which ``invariant``
    failed, or None."""
    url = databases.fresh()
    sim = Simulation(url, only=frozenset({invariant}))
    try:
        for i, step in enumerate(steps):
            if invariant in sim.run(step).violations:
                return i
        return None
    finally:
        sim.close()
        databases.drop(url)


def shrink(
    databases: Databases, steps: list[Step], invariant: str, seconds: float, idle: set[int] | None = None
) -> list[Step]:
    """The shortest sequence found (within ``seconds``) whose run still breaks ``invariant``:
    first without the steps that did nothing (``idle``: refused, or nothing to do), then delta
    debugging — drop chunks of steps, halving the chunk while nothing can be dropped."""
    deadline = time.monotonic() + seconds
    if idle:
        busy = [s for i, s in enumerate(steps) if i not in idle]
        found = replay(databases, busy, invariant)
        if found is not None:
            steps = busy[: found + 1]
    found = replay(databases, steps, invariant)
    if found is None:
        return steps  # not reproduced on a fresh database: the full prefix is the repro
    steps = steps[: found + 1]
    for hall in (0, 1):  # most defects need one hall only (and the clock)
        one = [s for s in steps if s.hall == hall or s.operation in CLOCK_OPERATIONS]
        end = replay(databases, one, invariant) if len(one) < len(steps) else None
        if end is not None:
            steps = one[: end + 1]
            break
    chunk = max(1, len(steps) // 2)
    while chunk >= 1 and time.monotonic() < deadline:
        i = 0
        dropped = False
        while i < len(steps) and time.monotonic() < deadline:
            trial = steps[:i] + steps[i + chunk :]
            end = replay(databases, trial, invariant) if trial else None
            if end is not None:
                steps = trial[: end + 1]
                dropped = True
            else:
                i += chunk
        if not dropped:
            chunk //= 2
    return steps


def describe(databases: Databases, steps: list[Step], invariant: str) -> list[str]:
    """What each step of a repro did, and what the invariant said after the last."""
    url = databases.fresh()
    sim = Simulation(url)
    lines = []
    try:
        for step in steps:
            out = sim.run(step)
            lines.append(f"    {step}  # {out.said}")
            if invariant in out.violations:
                lines += [f"    → {invariant}: {v}" for v in out.violations[invariant][:4]]
                break
    finally:
        sim.close()
        databases.drop(url)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("WT_TEST_POSTGRES_URL"))
    parser.add_argument("--scratch", type=Path, default=None, help="folder for the SQLite files")
    parser.add_argument(
        "--shrink-seconds", type=float, default=120.0, help="per failing invariant (0: no shrinking)"
    )
    parser.add_argument("--progress", type=int, default=10_000, help="print a line every N steps")
    args = parser.parse_args()
    if args.database == "postgresql" and not args.postgres_url:
        parser.error("--database postgresql needs --postgres-url or WT_TEST_POSTGRES_URL")

    folder = Path(tempfile.mkdtemp(prefix="hall-weeks-", dir=args.scratch))
    databases = Databases(args.database, args.postgres_url, folder=folder)
    steps = random_steps(args.seed, args.steps)
    try:
        run(args, databases, steps)
    finally:
        databases.close()  # every scratch database, even after ^C


def run(args: argparse.Namespace, databases: Databases, steps: list[Step]) -> None:
    failed: Counter[str] = Counter()
    first: dict[str, tuple[int, list[str]]] = {}
    idle: set[int] = set()  # steps that changed nothing (refused, or nothing to do)
    # (invariant, the message without its numbers) → [count, first step, first message]
    kinds: dict[tuple[str, str], list[Any]] = {}
    started = time.monotonic()
    url = databases.fresh()
    sim = Simulation(url)
    try:
        setup_s = time.monotonic() - started
        started = time.monotonic()
        cpu_started = time.process_time()
        for i, step in enumerate(steps):
            out = sim.run(step)
            if ": refused: " in out.said or ": nothing to do " in out.said:
                idle.add(i)
            for name, found in out.violations.items():
                failed[name] += 1
                first.setdefault(name, (i, found))
                for text in found:
                    kind = kinds.setdefault((name, shape(text)), [0, i, text])
                    kind[0] += 1
            if args.progress and (i + 1) % args.progress == 0:
                rate = (i + 1) / (time.monotonic() - started)
                print(
                    f"{i + 1} steps, {len(sim.days)} days, {rate:.1f} steps/s, failing: {dict(failed)}",
                    flush=True,
                )
        elapsed = time.monotonic() - started
        cpu = time.process_time() - cpu_started  # this process only (not the PostgreSQL server's)
        days = len(sim.days)
        checked = sim.invariants_checked
    finally:
        sim.close()
        databases.drop(url)

    print(
        f"{args.steps} steps over {days} days in {elapsed:.0f} s ({args.steps / elapsed:.1f} steps/s; setup {setup_s:.1f} s)"
    )
    print(f"{checked} invariant checks, {sum(failed.values())} violations")
    if kinds:
        print("\nkinds of violation (count, first step, first message):")
        for (name, _), (count, index, text) in sorted(kinds.items(), key=lambda kv: kv[1][1]):
            print(f"  {name} ×{count} from step {index}: {text[:300]}")
    for name, (index, found) in sorted(first.items(), key=lambda kv: kv[1][0]):
        print(f"\n{name}: {failed[name]} step(s), first after step {index}:")
        for text in found[:3]:
            print(f"  {text}")
        if args.shrink_seconds > 0:
            short = shrink(databases, steps[: index + 1], name, args.shrink_seconds, idle)
            print(f"  shortest sequence found ({len(short)} steps):")
            print("\n".join(describe(databases, short, name)), flush=True)
    print(
        json.dumps(
            {
                "steps": args.steps,
                "days": days,
                "invariants": checked,
                "violations": sum(failed.values()),
                "database": args.database,
                "steps_per_second": round(args.steps / elapsed, 1),
                "steps_per_cpu_second": round(args.steps / cpu, 1) if cpu else None,
                "failed": dict(failed),
            }
        )
    )


if __name__ == "__main__":
    main()
