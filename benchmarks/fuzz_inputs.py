"""Every typed input fuzzed and every screen monkey-tested, longer than CI does (issue 19).

    nice -n 10 .venv/bin/python benchmarks/fuzz_inputs.py [--inputs 100000] [--keys 10000] [--seed 1]

The properties are tests/fuzz_kit.py's (the ones tests/test_fuzz_inputs.py runs with CI's small
budget): each drawn input must give a valid, normalised value or a refusal naming the fix, and a
refused command must leave every table as it was. ``--inputs`` is shared among them by weight (the
pure rules are cheap, the commands on the database dearer). The screens are tests/monkey.py's
harness: ``--keys`` random keys, pastes and resizes per screen, the database checked consistent
afterwards. Everything runs on a fresh SQLite hall (and the database commands also on PostgreSQL
when one is reachable at WT_TEST_POSTGRES_URL). Hypothesis keeps no example database here.

Last line: {"inputs": N, "crashes": 0, "partial_writes": 0, "screens_keys": M, "screen_crashes": 0}
(M is the smallest number of keys any one screen took); the lines before it name every failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

from benchmarks._common import prepare_hall, scratch_postgres, scratch_sqlite, sign_in_on_this_pc  # noqa: E402

# Share of --inputs per property: (name, weight, needs the database)
PLAN = [
    ("id_number", 300, False),
    ("id_number_disguised", 100, False),
    ("phone", 150, False),
    ("mask", 150, False),
    ("applicant", 150, False),
    ("catalogue_search", 100, True),
    ("take_ticket", 10, True),
    ("intake_submit", 10, True),
    ("references", 10, True),
    ("window_command", 10, True),
    ("login", 5, True),
    ("notes_reasons", 5, True),
    ("cli", 5, True),
    ("hall_definition", 5, True),
]


def property_tests(env, st, k):
    """name → a function of no arguments running one property under @given (settings applied later)."""
    from hypothesis import given
    from typer.testing import CliRunner

    from tests.conftest import QUEUE
    from window_terminal.cli import app as cli_app
    from window_terminal.core import catalogue, idcheck, intake

    any_type = st.sampled_from([*idcheck.ID_TYPES, "", "驾照"])
    the_id = "11010519491231002X"
    index = catalogue.catalogue_index(env.engine, env.hall.id, refresh=True)

    def applicant():
        return st.builds(
            intake.Applicant,
            k.typed_text("张三", "欧阳娜娜"),
            st.sampled_from(["resident_id", "passport", "credit_code", "nope"]),
            k.typed_text(the_id, "E12345678"),
            k.typed_text("13800138000", ""),
        )

    runner = CliRunner()
    cli_env = {
        "WT_DATABASE_URL": env.url,
        "WT_CONFIG": str(env.tmp / "none.toml"),
        "WT_HALL": "",
        "WT_DATA_DIR": str(env.tmp / "data"),
    }
    sign_in_on_this_pc(env.url, env.tmp / "data", "M001")  # the commands get as far as their own checks
    documents = k.hall_documents(QUEUE)
    return {
        "id_number": given(any_type, k.typed_text(the_id, "E12345678", max_size=24))(k.id_number_property),
        "id_number_disguised": given(k.resident_ids(), st.lists(st.integers(0, 4), max_size=4))(
            k.disguised_id_property
        ),
        "phone": given(k.typed_text("13800138000", "028-84452345"))(k.phone_property),
        "mask": given(k.typed_text(the_id, "13800138000", "欧阳娜娜"))(k.mask_property),
        "applicant": given(k.typed_text("张三"), any_type, k.typed_text(the_id), k.typed_text("13800138000"))(
            k.applicant_property
        ),
        "catalogue_search": given(k.typed_text("yyzz", "营业执照", "ying ye"))(
            lambda q: k.search_property(index, q)
        ),
        "take_ticket": given(
            k.typed_text("BIZ", "tax"),
            st.sampled_from(["normal", "priority", "appointment", ""]),
            k.typed_text("老年人", "Elderly") | st.text(min_size=200, max_size=400),
            st.none() | k.typed_text("YA00001"),
        )(lambda line, kind, reason, code: k.take_ticket_property(env, line, kind, reason, code)),
        "intake_submit": given(
            k.typed_text("SCJG-0006", "scjg-0006"),
            applicant(),
            st.none() | applicant(),
            st.sampled_from([None, "accept", "notice", "deficiency", "non_acceptance", ""]),
            k.typed_text("复印件", max_size=80),
            k.typed_text("不属于本机关职权范围", max_size=80),
            k.typed_text("成都市市场监督管理局"),
        )(
            lambda item, who, agent, outcome, note, why, office: k.submit_property(
                env, item, who, agent, outcome, note, why, office
            )
        ),
        "window_command": given(
            st.integers(0, len(k.WINDOW_COMMANDS) - 1),
            st.integers(-(2**70), 2**70) | st.integers(-2, 1002) | k.typed_text("3", "99999999999999999999"),
            st.none() | k.typed_text("a1b2c3", max_size=120) | st.text(min_size=70, max_size=600),
        )(lambda w, n, r: k.window_command_property(env, w, n, r)),
        "references": given(k.typed_text("A001", "#1", "C002", "BIZ", "3", "scjg", the_id))(
            lambda t: k.reference_property(env, t)
        ),
        "login": given(k.typed_text("C002", "M001"), k.typed_text("1234"))(
            lambda c, p: k.login_property(env, c, p)
        ),
        "notes_reasons": given(
            k.typed_text("申请人要求", max_size=200), k.typed_text("很好"), st.integers(-1, 6)
        )(lambda r, c, lv: k.reason_property(env, r, c, lv)),
        "cli": given(
            st.integers(0, len(k.CLI_COMMANDS) - 1),
            k.typed_text("BIZ", "A001", "2026-03-02", "json", "jinjiang", "3"),
            k.typed_text("2026-03-31"),
        )(lambda w, a, b: k.cli_property(runner, cli_app, cli_env, env, w, a, b)),
        "hall_definition": given(k.mutated_hall(documents), st.sampled_from([False, False, False, True]))(
            lambda d, load: k.hall_definition_property(env, d, load)
        ),
    }


def run_inputs(url: str, label: str, total: int, seed: int, database_only: bool) -> dict[str, int]:
    from hypothesis import HealthCheck, settings
    from hypothesis import strategies as st

    from tests import fuzz_kit as k
    from window_terminal.core.hall import resolve_hall

    engine, _ = prepare_hall(url)
    hall = resolve_hall(engine, None)
    tmp = Path(tempfile.mkdtemp(prefix="wt_fuzz_"))
    env = k.Env(engine, hall, k.today_of(engine, hall), tmp)
    env.url = url  # type: ignore[attr-defined]  # the CLI property's WT_DATABASE_URL
    tests = property_tests(env, st, k)
    weights = sum(w for _, w, _ in PLAN)
    found = {"crashes": 0, "partial_writes": 0}
    for name, weight, needs_db in PLAN:
        if database_only and not needs_db:
            continue
        examples = max(20, total * weight // weights)
        test = settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=False,
            suppress_health_check=list(HealthCheck),
        )(tests[name])
        start = time.monotonic()
        try:
            from hypothesis import seed as hseed

            hseed(seed)(test)()
        except k.PartialWrite as exc:
            found["partial_writes"] += 1
            print(f"[{label}] {name}: PARTIAL WRITE: {exc}", flush=True)
        except BaseException as exc:  # noqa: BLE001  # a falsified property: counted and named
            failures = list(exc.exceptions) if isinstance(exc, BaseExceptionGroup) else [exc]
            for failure in failures:
                partial = isinstance(failure, k.PartialWrite)
                found["partial_writes" if partial else "crashes"] += 1
                first = str(failure).splitlines()[0] if str(failure) else ""
                kind = "PARTIAL WRITE" if partial else "CRASH"
                print(f"[{label}] {name}: {kind}: {type(failure).__name__}: {first[:300]}", flush=True)
        print(
            f"[{label}] {name}: {k.INPUTS[name]} inputs so far, {time.monotonic() - start:.0f} s",
            flush=True,
        )
    engine.dispose()
    return found


def run_screens(keys: int, seed: int, burst: int, screens: list[str]) -> tuple[dict[str, int], int]:
    from tests import monkey
    from window_terminal.config import Settings
    from window_terminal.core.hall import resolve_hall

    steps: dict[str, int] = {}
    crashes = 0
    for screen in screens:
        with scratch_sqlite() as screen_url:
            engine, _ = prepare_hall(screen_url)
            with tempfile.TemporaryDirectory() as drafts:
                stage = monkey.Stage(
                    engine, resolve_hall(engine, None), Settings(database_url=screen_url, drafts_dir=drafts)
                )
                monkey.prepare(stage)
                start = time.monotonic()
                done, problems = asyncio.run(monkey.monkey(stage, screen, seed=seed, keys=keys, burst=burst))
            engine.dispose()
        steps[screen] = done
        crashes += len(problems)
        for problem in problems:
            print(f"[screens] {screen}: {problem}", flush=True)
        seconds = time.monotonic() - start
        print(f"[screens] {screen}: {done} keys, {seconds:.0f} s ({done / seconds:.0f} keys/s)", flush=True)
    return steps, crashes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--keys", type=int, default=10_000, help="random keys per screen")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--burst",
        type=int,
        default=20,
        help="keys typed before waiting for the app to go idle (1: Pilot's one key at a time, ~25 keys/s)",
    )
    parser.add_argument("--screens-only", action="store_true", help="skip the input properties")
    parser.add_argument("--screen", action="append", help="monkey only this screen (repeatable)")
    args = parser.parse_args()

    from tests import fuzz_kit as k

    started = time.monotonic()
    totals = {"crashes": 0, "partial_writes": 0}
    if not args.screens_only:
        with scratch_sqlite() as url:
            for key, value in run_inputs(url, "sqlite", args.inputs, args.seed, False).items():
                totals[key] += value
    if not args.no_postgres and not args.screens_only:
        try:
            with scratch_postgres("wt_fuzz") as url:
                for key, value in run_inputs(url, "postgres", args.inputs // 10, args.seed, True).items():
                    totals[key] += value
        except Exception as exc:  # noqa: BLE001  # no PostgreSQL here: say so, keep the SQLite figures
            print(f"[postgres] skipped: {type(exc).__name__}: {exc}", flush=True)
    from tests import monkey

    screens = args.screen or list(monkey.SCREENS)
    steps, screen_crashes = run_screens(args.keys, args.seed, args.burst, screens)
    print(
        json.dumps(
            {"seconds": round(time.monotonic() - started), "per_input": dict(k.INPUTS), "per_screen": steps}
        ),
        flush=True,
    )
    print(
        json.dumps(
            {
                "inputs": sum(k.INPUTS.values()),
                "crashes": totals["crashes"],
                "partial_writes": totals["partial_writes"],
                "screens_keys": min(steps.values()),
                "screen_crashes": screen_crashes,
            }
        )
    )


if __name__ == "__main__":
    main()
