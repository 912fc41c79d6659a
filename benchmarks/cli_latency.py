"""How long a supervisor waits for a data command: `wt queue status --json` on the demo hall (SQLite).

Each run is a fresh process, as a shell starts it. The reference is the floor every data command
pays: a Python process that only imports the libraries the command cannot do without (SQLModel, which
brings SQLAlchemy and pydantic, and Typer), so the ratio shows what our own code adds on a noisy
machine. Target: the median under 0.5 s (issue 12).

    python benchmarks/cli_latency.py [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_S = 0.5

# The second reference: the least any command on this stack can do. Python starts, Typer parses one
# `--json` option, our SQLModel table definitions are imported (the ORM mapping of every table is
# built at import), and one row set is read from the same database file. What `wt queue status`
# costs beyond this is what our own code adds; if this alone is near the target, the target is the
# stack's ceiling, not our code's.
STACK_FLOOR = """
import json, os, typer
from sqlalchemy import select
from sqlmodel import Session, create_engine
from window_terminal.db.models import Hall
app = typer.Typer()
@app.command()
def status(as_json: bool = typer.Option(False, "--json")) -> None:
    with Session(create_engine(os.environ["WT_DATABASE_URL"])) as session:
        halls = session.execute(select(Hall)).scalars().all()
    typer.echo(json.dumps([hall.code for hall in halls]))
app()
"""


def _timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wt_bench_cli_") as folder:
        # PYTHONDONTWRITEBYTECODE (set on some machines) would make every run compile our modules from
        # source: an installed package has its bytecode, so the warm-up run below must be allowed to write it.
        env = {
            k: v for k, v in os.environ.items() if not k.startswith("WT_") and k != "PYTHONDONTWRITEBYTECODE"
        }
        env.update(
            WT_DATABASE_URL=f"sqlite:///{folder}/hall.sqlite3",
            WT_CONFIG=f"{folder}/none.toml",
            WT_DATA_DIR=f"{folder}/data",
            PYTHONPATH=str(REPO),
        )
        # What a supervisor types: the installed `wt` script (one import of the CLI), else the package's
        # __main__ (`python -m window_terminal.cli` would execute cli.py twice, as __main__ and as itself).
        script = Path(sys.executable).with_name("wt")
        wt = [str(script)] if script.exists() else [sys.executable, "-m", "window_terminal"]
        subprocess.run([*wt, "demo"], env=env, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        command = [*wt, "queue", "status", "--json"]
        floor = [sys.executable, "-c", "import sqlmodel, typer"]
        stack = [sys.executable, "-c", STACK_FLOOR, "--json"]
        _timed(command, env)  # warm the OS file cache and the bytecode cache
        _timed(stack, env)
        ours, reference, stack_runs = [], [], []
        for _ in range(args.runs):  # interleaved, so all three see the same load
            ours.append(_timed(command, env))
            reference.append(_timed(floor, env))
            stack_runs.append(_timed(stack, env))
    median, floor_median = statistics.median(ours), statistics.median(reference)
    stack_median = statistics.median(stack_runs)
    print(
        json.dumps(
            {
                "benchmark": "cli_latency",
                "command": "wt queue status --json",
                "runs": args.runs,
                "median_s": round(median, 3),
                "p90_s": round(sorted(ours)[int(0.9 * (len(ours) - 1))], 3),
                "reference_import_floor_median_s": round(floor_median, 3),
                "ratio_to_floor": round(median / floor_median, 2),
                "reference_stack_floor_median_s": round(stack_median, 3),
                "ratio_to_stack_floor": round(median / stack_median, 2),
                "ours_beyond_stack_s": round(median - stack_median, 3),
                "target_median_s": TARGET_S,
                "meets_target": median < TARGET_S,
            }
        )
    )


if __name__ == "__main__":
    main()
