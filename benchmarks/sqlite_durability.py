"""What a counter waits for a call on the embedded (SQLite) hall, with ``synchronous=FULL`` (the
product: a commit is on the disk when it returns) beside ``synchronous=NORMAL`` (before: WAL's last
commits may be lost to a power cut), in the same run, on the same file. Last line: one JSON object.

One counter calls the next ticket and starts it, over and over, on a hall with enough waiting tickets;
each call is timed from the moment it is due (the previous command returned: a clerk presses F2 as
soon as the screen answers) until ``call_next`` returns (committed). The two settings alternate in
blocks of 20 calls, so the machine's noise falls on both alike. The reference is NORMAL in this run.

    .venv/bin/python benchmarks/sqlite_durability.py [--calls 400] [--folder DIR]

``--folder`` puts the file on another disk (the default is a temporary folder: often tmpfs-backed
/tmp in containers, where an fsync costs nothing; point it at the hall PC's real disk to see the
cost there).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import QUEUE  # noqa: E402
from measure import Report, describe_machine, latency_figures, ms  # noqa: E402

TARGET_P99_MS = 50.0  # the counter's frame budget: the call must leave room for the paint
BLOCK = 20


def _engine(url: str, synchronous: str):
    from sqlalchemy import event

    from window_terminal.db.engine import make_engine

    engine = make_engine(url)
    if synchronous != "FULL":

        @event.listens_for(engine, "connect")
        def _before(dbapi_connection, _record) -> None:  # runs after the product's own listener
            dbapi_connection.execute(f"PRAGMA synchronous={synchronous}")

    with engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == {"FULL": 2, "NORMAL": 1}[synchronous]
    return engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=400, help="calls per setting (200+ for a p99)")
    parser.add_argument("--folder", type=Path, default=None, help="where the SQLite file lives")
    args = parser.parse_args()

    from window_terminal.core import queueing as q
    from window_terminal.core.hall import load_hall, resolve_hall
    from window_terminal.db.migrate import upgrade

    folder = Path(tempfile.mkdtemp(prefix="wt_durable_", dir=args.folder))
    try:
        url = f"sqlite:///{folder / 'hall.sqlite3'}"
        setup = _engine(url, "FULL")
        upgrade(setup)
        load_hall(setup, QUEUE)
        hall = resolve_hall(setup, None)
        q.set_window_status(setup, hall.id, 2, "open", actor="C002")
        for _ in range(args.calls * 2 + 10):
            q.take_ticket(setup, hall.id, "BIZ", actor="M001")
        setup.dispose()

        engines = {name: _engine(url, name) for name in ("FULL", "NORMAL")}
        samples: dict[str, list[float]] = {name: [] for name in engines}
        while min(len(s) for s in samples.values()) < args.calls:
            for name, engine in engines.items():
                for _ in range(BLOCK):
                    due = time.perf_counter()  # the previous command returned: this one is due now
                    q.call_next(engine, hall.id, 2, actor="C002")
                    samples[name].append(ms(time.perf_counter() - due))
                    q.start_service(engine, hall.id, 2, actor="C002")
        for engine in engines.values():
            engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    report = Report("sqlite_durability")
    report.add({"folder": str(args.folder or tempfile.gettempdir()), **describe_machine()})
    report.add(latency_figures("call_full", samples["FULL"]))
    report.add(latency_figures("call_normal_reference", samples["NORMAL"]))
    full, normal = report.figures["call_full_p50_ms"], report.figures["call_normal_reference_p50_ms"]
    report.add({"full_costs_p50_ms": round(full - normal, 2)})
    report.target("call_full_p99_ms", TARGET_P99_MS)
    report.finish()


if __name__ == "__main__":
    main()
