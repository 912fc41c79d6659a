"""Mutation score of the core's rule homes: would the tests notice a bug planted in the rule?

    python benchmarks/mutation_score.py                     # every rule home, one after another
    python benchmarks/mutation_score.py --module idcheck    # one (repeatable)
    python benchmarks/mutation_score.py --survivors         # also print each survivor's diff

The tool is mutmut 3 (a test dependency). For each rule home it makes a scratch project in
``.mutation/<home>/`` (git-ignored): links to ``window_terminal``, ``tests``, ``queue`` and
``setup.py``, and a copy of ``pyproject.toml`` with a ``[tool.mutmut]`` section naming the one source
file to mutate and the few test files that exercise it. mutmut copies that into ``mutants/``, runs
the selected tests once to learn which test calls which function, then plants one mutant at a time
and runs only the tests that reach the mutated function, in a forked child (no new interpreter per
mutant). A rule home that is only part of a file (the calling rule in ``core/queueing.py``, the
one-time rule in ``core/intake.py``) is restricted to its functions by mutant name.

Budget: the machine has two cores shared by several people, so every run is ``nice -n 10`` with one
child at a time, SQLite only (``WT_TEST_POSTGRES_URL`` is dropped: the rules are the same code on
both databases), and each home runs in a few minutes. Afterwards, to read one survivor:

    cd .mutation/idcheck && ../../.venv/bin/mutmut show window_terminal.core.idcheck.x_check_digit__mutmut_7

Last line: ``{"mutants": N, "killed": K, "survived": S, "score": K/N, "by_module": {...}, ...}``.
Killed counts mutants whose tests failed or timed out; every other outcome (survived, no test
reached it, suspicious) counts against the score. Target: score >= 0.90 on each rule home.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"
TARGET = 0.90


@dataclass(frozen=True)
class Home:
    """A rule home: the file mutmut mutates, the tests that judge it, and (optionally) its functions."""

    source: str
    tests: tuple[str, ...]  # pytest arguments: test files, and ``-k`` to keep to the fast ones
    functions: tuple[str, ...] = ()  # mutmut's mangled names (fnmatch); empty: the whole file

    @property
    def dotted(self) -> str:
        return self.source.removesuffix(".py").replace("/", ".")

    def patterns(self) -> list[str]:
        return [f"{self.dotted}.{name}__mutmut_*" for name in self.functions]


DEADLINE_TESTS = (
    "tests/test_deadlines.py",
    "tests/test_deadline_service.py",
    "-k",
    "not well_under_a_second",
)

# (the CLI tests of test_reports.py start `wt` processes, 15-30 s each, and test no aggregate)
REPORT_TESTS = ("tests/test_reports.py", "-k", "not cli")

HOMES: dict[str, Home] = {
    "idcheck": Home("window_terminal/core/idcheck.py", ("tests/test_idcheck.py",)),
    # The masking rules only: the every-surface tests of test_privacy.py render screens and PDFs.
    "privacy": Home(
        "window_terminal/core/privacy.py",
        (
            "tests/test_privacy.py",
            "-k",
            "keeps or hidden or blank or document_person or boundaries or private_file",
        ),
    ),
    # (the timed test of test_deadlines.py cannot pass under mutmut's tracing: left out)
    "workdays": Home("window_terminal/core/workdays.py", (*DEADLINE_TESTS,)),
    "deadlines": Home("window_terminal/core/deadlines.py", (*DEADLINE_TESTS,)),
    # The calling rule: the queue key, which ticket a window calls next, who is ahead, the wait.
    "queueing": Home(
        "window_terminal/core/queueing.py",
        # (test_call_rule.py compares the rule with the PostgreSQL procedure: it runs on PostgreSQL only)
        ("tests/test_queue_order.py", "tests/test_queueing.py", "-k", "not migration_0006"),
        (
            "x_queue_key_at",
            "x__choose_next",
            "x__line_head",
            "x__people_ahead",
            "x__serving_windows",
            "x_estimate_wait_minutes",
            "x_waiting_by_line",
        ),
    ),
    # The one-time rule: what a notice lists (the gaps), and that a supplement may only bring what it
    # listed (Art. 32); the other outcomes of _apply_outcome are tested but not mutated here (budget).
    "intake": Home(
        "window_terminal/core/intake.py",
        ("tests/test_intake.py", "-k", "notice or supplement or frozen or article_32 or override"),
        ("x__gaps", "x_supplement"),
    ),
    # The report's aggregates: waiting and service times, percentiles, rates.
    "reports": Home(
        "window_terminal/core/reports/queries.py",
        REPORT_TESTS,
        (
            "x__minutes",
            "x__stat_row",
            "x__set_totals",
            "x__light_counts",
            "x__sqlite_percentile",
            "x_ticket_stats_sql",  # (grouped_stats_sql is PostgreSQL's GROUPING SETS: not on SQLite)
        ),
    ),
    "indicators": Home(
        "window_terminal/core/reports/indicators.py",
        REPORT_TESTS,
        ("x_pct", "x__add_good_rates", "x__rating_counts"),
    ),
}

KILLED = {1, 3, 24, -24, 36, 152, 255}  # tests failed, pytest error, or timed out (mutmut's codes)


def _mutmut() -> str:
    here = Path(sys.executable).parent / "mutmut"
    return str(here) if here.exists() else "mutmut"


def _prepare(name: str, home: Home, *, keep: bool) -> Path:
    work = WORK / name
    if work.exists() and not keep:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    for entry in ("window_terminal", "tests", "queue", "setup.py", "benchmarks", "tools"):
        link = work / entry
        if not link.exists():
            link.symlink_to(ROOT / entry)
    settings = {
        "source_paths": ["window_terminal"],
        "only_mutate": [home.source],
        "pytest_add_cli_args_test_selection": list(home.tests),
        "pytest_add_cli_args": ["-p", "no:randomly", "-p", "no:cacheprovider", "-q"],
        "also_copy": ["queue", "setup.py", "benchmarks", "tools"],
    }
    lines = ["", "[tool.mutmut]"] + [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    (work / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text() + "\n".join(lines) + "\n")
    return work


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WT_TEST_POSTGRES", "WT_REQUIRE_"))}
    env["TEXTUAL_ANIMATIONS"] = "none"
    return env


def _results(work: Path, home: Home) -> dict[str, int | None]:
    """{mutant name: mutmut exit code} for the home's mutants (None: not run)."""
    import fnmatch

    meta = work / "mutants" / (home.source + ".meta")
    codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
    patterns = home.patterns()
    if patterns:
        codes = {k: v for k, v in codes.items() if any(fnmatch.fnmatch(k, p) for p in patterns)}
    return codes


def run_home(name: str, home: Home, *, keep: bool, survivors: bool) -> dict[str, Any]:
    work = _prepare(name, home, keep=keep)
    started = time.monotonic()
    command = ["nice", "-n", "10", _mutmut(), "run", "--max-children", "1", *home.patterns()]
    log = work / "run.log"
    with log.open("w") as out:
        done = subprocess.run(command, cwd=work, env=_environment(), stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"mutmut failed on {name} (exit {done.returncode}); see {log}\n{tail}")
    codes = _results(work, home)
    killed = sorted(k for k, v in codes.items() if v in KILLED)
    left = sorted(k for k, v in codes.items() if v not in KILLED)
    n = len(codes)
    figures: dict[str, Any] = {
        "mutants": n,
        "killed": len(killed),
        "survived": len(left),
        "score": round(len(killed) / n, 4) if n else None,
        "seconds": round(time.monotonic() - started, 1),
        "survivors": left,
    }
    print(f"{name}: {len(killed)}/{n} killed, score {figures['score']} in {figures['seconds']} s", flush=True)
    for mutant in left:
        print(f"  survived: {mutant} (exit {codes[mutant]})", flush=True)
        if survivors:
            shown = subprocess.run(
                [_mutmut(), "show", mutant], cwd=work, env=_environment(), capture_output=True, text=True
            )
            print("    " + shown.stdout.replace("\n", "\n    "), flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--module", action="append", choices=sorted(HOMES), help="one rule home (repeatable)")
    parser.add_argument("--survivors", action="store_true", help="print each survivor's diff")
    parser.add_argument("--keep", action="store_true", help="reuse .mutation/<home> (mutmut's own cache)")
    args = parser.parse_args()
    names = args.module or list(HOMES)
    by_module = {
        name: run_home(name, HOMES[name], keep=args.keep, survivors=args.survivors) for name in names
    }
    mutants = sum(m["mutants"] for m in by_module.values())
    killed = sum(m["killed"] for m in by_module.values())
    summary = {
        "mutants": mutants,
        "killed": killed,
        "survived": mutants - killed,
        "score": round(killed / mutants, 4) if mutants else None,
        "by_module": {
            name: {k: v for k, v in m.items() if k != "survivors"} | {"survivors": len(m["survivors"])}
            for name, m in by_module.items()
        },
        "target_per_module": TARGET,
        "all_passed": all(m["score"] is not None and m["score"] >= TARGET for m in by_module.values()),
    }
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
