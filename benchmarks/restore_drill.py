"""The restore drill for a year of a busy hall: what is lost and how long the hall stands still when
its database dies. Last line: one JSON object ``{"database", "rpo_s", "rto_s", "events_lost",
"chain_ok", …}``.

1. A year of history is written in bulk (``--days`` service days of ``--tickets`` tickets, each
   issued, called, started and finished: four hash-chained events, as the application chains them),
   then the hall's routine backup is taken (SQLite: ``wt db backup``'s copy, verified; PostgreSQL: a
   pgBackRest full backup, the WAL archived continuously with ``archive_timeout`` =
   ``--archive-timeout``).
2. The hall works for ``--live-seconds``: tickets taken and called through the core, each commit's
   database time noted.
3. The database dies at once (SQLite: the file and its journal deleted; PostgreSQL: the server killed
   and its data folder deleted, the WAL segment in progress never archived).
4. The restore a hall's IT person runs (SQLite: ``wt db restore``'s newest verified copy; PostgreSQL:
   pgBackRest's restore of everything archived, from the other host's repository, then the server
   started), until the first ticket is taken again.

``rpo_s``: the database time between the last event restored and the death (what the hall must redo);
``events_lost``: committed events not restored; ``rto_s``: from the death until a ticket is taken
again; ``chain_ok``: ``wt audit verify`` on the restored log. Reference in the same run: copying the
database's bytes once (``reference_copy_s``), the least any restore costs on this disk.

SQLite's loss window is the time since its last copy: here the copy is taken just before the live
traffic, so ``rpo_s`` is the live period; a hall copying hourly loses at most an hour (docs/backup.md).

    .venv/bin/python benchmarks/restore_drill.py --database sqlite|postgresql [--days 250] [--tickets 300]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import QUEUE, REPO  # noqa: E402
from measure import Report, describe_machine  # noqa: E402

EVENTS_PER_TICKET = ("ticket.issued", "ticket.called", "ticket.started", "ticket.finished")
BATCH = 5000


def write_history(engine, hall_id: int, days: int, tickets: int) -> int:
    """``days`` service days before today, ``tickets`` a day: tickets and their hash-chained events."""
    from sqlalchemy import insert, select, update

    from window_terminal.db.chain import event_hash
    from window_terminal.db.clock import db_now
    from window_terminal.db.engine import read_session, write_session
    from window_terminal.db.models import Event, Hall, Line, Ticket

    with read_session(engine) as s:
        line = s.execute(select(Line).where(Line.hall_id == hall_id, Line.code == "BIZ")).scalar_one()
        hall = s.get(Hall, hall_id)
        seq, prev = int(hall.event_seq or 0), hall.event_hash or ""
        today = db_now(s).replace(hour=1, minute=0, second=0, microsecond=0)
    written = 0
    for back in range(days, 0, -1):
        opening = today - timedelta(days=back)
        ticket_rows, event_rows = [], []
        with write_session(engine) as s:
            first_id = (s.execute(select(Ticket.id).order_by(Ticket.id.desc()).limit(1)).scalar() or 0) + 1
        for n in range(tickets):
            issued = opening + timedelta(seconds=n * 90)
            ticket_id = first_id + n
            number = f"{line.prefix}{n + 1:03d}"
            ticket_rows.append(
                dict(
                    id=ticket_id, hall_id=hall_id, service_day=opening.date(), line_id=line.id,
                    original_line_id=line.id, line_code_at_issue=line.code, seq=n + 1, number=number,
                    eligible_at=issued, queue_key=issued.timestamp(), status="done", issued_at=issued,
                    called_at=issued + timedelta(minutes=9), first_called_at=issued + timedelta(minutes=9),
                    started_at=issued + timedelta(minutes=10), finished_at=issued + timedelta(minutes=16),
                )
            )  # fmt: skip
            for k, kind in enumerate(EVENTS_PER_TICKET):
                seq += 1
                at = issued + timedelta(minutes=(0, 9, 10, 16)[k])
                payload = json.dumps(
                    {
                        "ticket_id": ticket_id,
                        "number": number,
                        "line": line.code,
                        "window": 2,
                        "history": True,
                    }
                )
                digest = event_hash(
                    hall_id=hall_id, seq=seq, kind=kind, payload=payload, staff_id=None, device="drill",
                    window_id=None, request_id=None, created_at=at, prev=prev,
                )  # fmt: skip
                event_rows.append(
                    dict(hall_id=hall_id, seq=seq, kind=kind, payload=json.loads(payload), device="drill",
                         created_at=at, hash=digest)
                )  # fmt: skip
                prev = digest
        with write_session(engine) as s:
            s.execute(insert(Ticket), ticket_rows)
            for i in range(0, len(event_rows), BATCH):
                s.execute(insert(Event), event_rows[i : i + BATCH])
            s.execute(update(Hall).where(Hall.id == hall_id).values(event_seq=seq, event_hash=prev))
        written += len(event_rows)
    if engine.dialect.name == "postgresql":  # the ids were given: move the ticket id sequence past them
        from sqlalchemy import text

        with write_session(engine) as s:
            s.execute(
                text("SELECT setval(pg_get_serial_sequence('ticket', 'id'), (SELECT max(id) FROM ticket))")
            )
    return written


def live_traffic(engine, hall_id: int, seconds: float) -> None:
    """A counter at work: a ticket taken, the one being served finished and the next called, started."""
    from window_terminal.core import queueing as q

    q.set_window_status(engine, hall_id, 2, "open", actor="C002")
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        q.take_ticket(engine, hall_id, "BIZ", actor="M001")
        q.call_next(engine, hall_id, 2, actor="C002")
        q.start_service(engine, hall_id, 2, actor="C002")
        time.sleep(0.2)


def facts(engine, hall_id: int) -> tuple[int, datetime | None]:
    from sqlalchemy import func, select

    from window_terminal.db.engine import read_session
    from window_terminal.db.models import Event

    with read_session(engine) as s:
        count, last = s.execute(
            select(func.count(), func.max(Event.created_at)).where(Event.hall_id == hall_id)
        ).one()
    return int(count), last


def back_at_work(engine, hall_id: int, died: float, died_at: datetime, committed: int) -> dict:
    """The restored database until a ticket is taken again: what came back, what was lost, how long."""
    from window_terminal.core import queueing as q
    from window_terminal.core.audit import verify_chain

    try:
        restored, last = facts(engine, hall_id)
        q.take_ticket(engine, hall_id, "BIZ", actor="M001")
        rto = time.perf_counter() - died
        chain_ok = verify_chain(engine, hall_id).intact
    finally:
        engine.dispose()
    return dict(
        rpo_s=round((died_at - last).total_seconds(), 1), rto_s=round(rto, 2),
        events_lost=committed - restored, chain_ok=chain_ok,
    )  # fmt: skip


def drill_sqlite(args) -> dict:
    from window_terminal.core import backups
    from window_terminal.core.hall import load_hall, resolve_hall
    from window_terminal.db.clock import db_now
    from window_terminal.db.engine import make_engine, read_session
    from window_terminal.db.migrate import upgrade

    folder = Path(tempfile.mkdtemp(prefix="wt_drill_"))
    try:
        path = folder / "hall.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        load_hall(engine, QUEUE)
        hall = resolve_hall(engine, None)
        history = write_history(engine, hall.id, args.days, args.tickets)
        backups.backup(engine, folder / "copies")
        started = time.perf_counter()
        shutil.copyfile(path, folder / "reference.copy")
        reference = time.perf_counter() - started
        live_traffic(engine, hall.id, args.live_seconds)
        committed, _ = facts(engine, hall.id)
        with read_session(engine) as s:
            died_at = db_now(s)
        size = sum(p.stat().st_size for p in folder.glob("hall.sqlite3*"))
        engine.dispose()
        for name in ("hall.sqlite3", "hall.sqlite3-wal", "hall.sqlite3-shm"):
            (folder / name).unlink(missing_ok=True)  # the disk died
        died = time.perf_counter()
        engine = make_engine(f"sqlite:///{path}")
        backups.restore(engine, folder / "copies")
        recovered = back_at_work(make_engine(f"sqlite:///{path}"), hall.id, died, died_at, committed)
        return dict(
            database="sqlite", history_events=history, database_mb=round(size / 1e6, 1),
            reference_copy_s=round(reference, 2), **recovered,
        )  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def drill_postgresql(args) -> dict:
    from _archived import ArchivedCluster

    from window_terminal.core.hall import load_hall, resolve_hall
    from window_terminal.db.clock import db_now
    from window_terminal.db.engine import make_engine, read_session
    from window_terminal.db.migrate import upgrade

    def wt(cluster, *argv: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "window_terminal.cli", *argv],
            env=cluster.env(), cwd=REPO, capture_output=True, text=True, timeout=3600,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"wt {' '.join(argv)} failed: {done.stderr}")

    with ArchivedCluster.started(archive_timeout=args.archive_timeout) as cluster:
        engine = make_engine(cluster.url)
        upgrade(engine)
        load_hall(engine, QUEUE)
        hall = resolve_hall(engine, None)
        history = write_history(engine, hall.id, args.days, args.tickets)
        size = cluster.sql("wt", "SELECT pg_database_size('wt')")[0][0]
        wt(cluster, "db", "backup", "--kind", "full")
        started = time.perf_counter()
        reference_dir = cluster.base / "reference"
        shutil.copytree(cluster.data, reference_dir, ignore=shutil.ignore_patterns("postmaster.pid"))
        reference = time.perf_counter() - started
        shutil.rmtree(reference_dir)
        live_traffic(engine, hall.id, args.live_seconds)
        committed, _ = facts(engine, hall.id)
        with read_session(engine) as s:
            died_at = db_now(s)
        engine.dispose()
        cluster.destroy()  # killed: the WAL segment in progress is never archived
        died = time.perf_counter()
        wt(cluster, "db", "restore", "--pg-data", str(cluster.data), "--repo", "2", "--yes")
        cluster.start()
        recovered = back_at_work(make_engine(cluster.url), hall.id, died, died_at, committed)
        return dict(
            database="postgresql", history_events=history, database_mb=round(size / 1e6, 1),
            archive_timeout_s=args.archive_timeout, reference_copy_s=round(reference, 2), **recovered,
        )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--days", type=int, default=250, help="service days of history (a year: 250)")
    parser.add_argument("--tickets", type=int, default=300, help="tickets a day")
    parser.add_argument("--live-seconds", type=float, default=30.0)
    parser.add_argument("--archive-timeout", type=int, default=10, help="PostgreSQL archive_timeout (s)")
    args = parser.parse_args()
    os.environ.setdefault("WT_DATA_DIR", tempfile.mkdtemp(prefix="wt_drill_data_"))
    figures = drill_sqlite(args) if args.database == "sqlite" else drill_postgresql(args)
    report = Report("restore_drill")
    report.add({**figures, "days": args.days, "tickets_a_day": args.tickets, **describe_machine()})
    report.target("rto_s", 600.0)  # the hall back within ten minutes
    report.finish()


if __name__ == "__main__":
    main()
