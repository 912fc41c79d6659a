"""Fair order by the database clock: a ticket's place is its true instant, whatever the time zone
of the PC that issued or calls it — on SQLite and PostgreSQL, from real processes."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.conftest import QUEUE
from window_terminal.core import queueing as q
from window_terminal.core.hall import load_hall, resolve_hall
from window_terminal.db import clock
from window_terminal.db.engine import make_engine, read_session, write_session
from window_terminal.db.migrate import upgrade
from window_terminal.db.models import Ticket

WT = [sys.executable, "-m", "window_terminal.cli"]
ZONES = ["UTC", "Asia/Shanghai", "America/New_York", "UTC", "Asia/Shanghai"]


def wt(env: dict[str, str], tz: str, *args: str) -> dict:
    result = subprocess.run(
        [*WT, *args, "--json"], env={**env, "TZ": tz}, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_tickets_from_pcs_in_different_time_zones_are_called_in_the_order_they_were_taken(
    db_url, cli_env, engine, hall
):
    """A kiosk set to Asia/Shanghai must not jump the queue of one set to UTC (and be told 0 ahead)."""
    q.set_window_status(engine, hall.id, 2, "open", actor="C002")  # window 2 serves BIZ only
    taken = [wt(cli_env, tz, "ticket", "take", "BIZ") for tz in ZONES]
    assert [t["people_ahead"] for t in taken] == [0, 1, 2, 3, 4]
    called = []
    for n, tz in enumerate(reversed(ZONES)):  # the counter PC's zone changes too
        called.append(wt(cli_env, tz, "call", "next", "--window", "2")["number"])
        if n < len(ZONES) - 1:
            wt(cli_env, tz, "call", "start", "--window", "2")
    assert called == [t["number"] for t in taken]


def _old_key(moment: datetime, tz: str) -> float:
    """What the code before 0006 stored on a PC set to ``tz``: naive UTC read as local time."""
    return moment.replace(tzinfo=ZoneInfo(tz)).timestamp()


def _downgrade(engine, revision: str) -> None:
    from alembic import command

    from window_terminal.db.migrate import _config

    config = _config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_migration_0006_puts_keys_written_in_other_time_zones_back_in_true_order(empty_url):
    engine = make_engine(empty_url)
    try:
        upgrade(engine)
        load_hall(engine, QUEUE)
        hall = resolve_hall(engine, None)
        # BIZ: taken on PCs set to UTC, Shanghai, New York, two seconds apart
        biz = [q.take_ticket(engine, hall.id, "BIZ", actor="C001") for _ in ZONES[:3]]
        # GEN: both from New York; the second moved forward by a New York PC (head key - 1)
        gen = [q.take_ticket(engine, hall.id, "GEN", actor="C001") for _ in range(2)]
        # back to the schema before 0006 (today's code cannot write to it), then the old keys
        _downgrade(engine, "0005")
        with write_session(engine) as s:
            rows = {t.id: t for t in s.execute(select(Ticket)).scalars()}
            base = datetime(2026, 12, 2, 14, 52, 46, 250000)
            for n, (info, tz) in enumerate(zip(biz, ZONES[:3], strict=True)):
                moment = base + timedelta(seconds=2 * n)
                rows[info.id].issued_at = rows[info.id].eligible_at = moment
                rows[info.id].queue_key = _old_key(moment, tz)
            for n, info in enumerate(gen):
                moment = base + timedelta(seconds=10 + n)
                rows[info.id].issued_at = rows[info.id].eligible_at = moment
                rows[info.id].queue_key = _old_key(moment, "America/New_York")
            rows[gen[1].id].queue_key = rows[gen[0].id].queue_key - 1.0
        with read_session(engine) as s:  # the defect, as stored: Shanghai first, New York last
            keys = dict(s.execute(select(Ticket.id, Ticket.queue_key)).all())
        assert keys[biz[1].id] < keys[biz[0].id] < keys[biz[2].id]

        upgrade(engine)
        with read_session(engine) as s:
            keys = dict(s.execute(select(Ticket.id, Ticket.queue_key)).all())
        assert [keys[i.id] for i in biz] == [
            clock.epoch_seconds(base + timedelta(seconds=2 * n)) for n in range(3)
        ]
        assert (
            keys[gen[1].id] == keys[gen[0].id] - 1.0 == clock.epoch_seconds(base + timedelta(seconds=10)) - 1
        )
        assert [q.ticket_info(engine, hall.id, i.id).people_ahead for i in biz] == [0, 1, 2]
        assert [q.ticket_info(engine, hall.id, i.id).people_ahead for i in gen] == [1, 0]
        q.set_window_status(engine, hall.id, 2, "open", actor="C002")
        called = []
        for _ in biz:
            called.append(q.call_next(engine, hall.id, 2, actor="C002").number)
            q.start_service(engine, hall.id, 2, actor="C002")
        assert called == [i.number for i in biz]
    finally:
        engine.dispose()


def test_a_key_explained_by_no_time_zone_is_left_alone():
    from window_terminal.db.migrate import revision_module

    corrected_keys = revision_module("0006_queue_keys_are_utc_epoch.py").corrected_keys
    base = 1_800_000_000.123456
    rows = [
        (1, 1, base - 28800, base),  # Shanghai PC
        (2, 1, base, base),  # UTC PC: unchanged
        (3, 1, base - 1234.5, base + 60),  # neither a zone nor one second ahead of a known key
        (4, 1, base + 18000 - 1.0, base + 99),  # moved ahead of a head written in New York (5)
        (5, 1, base + 18000, base),
    ]
    assert corrected_keys(rows) == {1: base, 4: base - 1.0, 5: base}
