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


def _timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wt_bench_cli_") as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WT_")}
        env.update(
            WT_DATABASE_URL=f"sqlite:///{folder}/hall.sqlite3",
            WT_CONFIG=f"{folder}/none.toml",
            WT_DATA_DIR=f"{folder}/data",
            PYTHONPATH=str(REPO),
        )
        wt = [sys.executable, "-m", "window_terminal.cli"]
        subprocess.run([*wt, "demo"], env=env, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        command = [*wt, "queue", "status", "--json"]
        floor = [sys.executable, "-c", "import sqlmodel, typer"]
        _timed(command, env)  # warm the OS file cache and the bytecode cache
        ours, reference = [], []
        for _ in range(args.runs):  # interleaved, so both see the same load
            ours.append(_timed(command, env))
            reference.append(_timed(floor, env))
    median, floor_median = statistics.median(ours), statistics.median(reference)
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
                "target_median_s": TARGET_S,
                "meets_target": median < TARGET_S,
            }
        )
    )


if __name__ == "__main__":
    main()
