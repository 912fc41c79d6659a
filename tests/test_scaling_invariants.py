"""What sharing servers between halls needs (docs/scaling.md): every hall-owned table carries
``hall_id``, and no transaction writes two halls.

The first is read off the schema. The second is watched on a real PostgreSQL: a row trigger on
every table notes (transaction id, hall) for each row written, while two demo halls are loaded and
worked — the demo generator runs a day of tickets, calls, cases, reviews and ratings through the
core commands — and then no transaction may have written rows of two halls. This is what lets a
table be partitioned by ``hall_id`` and a hall live on one node of a distributed database
(Citus: ``create_distributed_table(…, 'hall_id')``) without a single cross-node transaction.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

from window_terminal.core.demo import build_demo
from window_terminal.db import models  # noqa: F401 - registers every table
from window_terminal.db.engine import make_engine
from window_terminal.db.migrate import upgrade

QUEUE = Path(__file__).resolve().parents[1] / "queue"
# the one table whose rows ARE halls: its id is the hall id (the distribution column)
HALL_TABLE = "hall"


def hall_owned_tables() -> list[str]:
    return [t.name for t in SQLModel.metadata.sorted_tables if t.name != HALL_TABLE]


def test_every_hall_owned_table_carries_hall_id():
    missing = [
        t.name for t in SQLModel.metadata.sorted_tables if t.name != HALL_TABLE and "hall_id" not in t.c
    ]
    assert not missing, (
        f"tables without hall_id (they cannot be partitioned or distributed by hall): {missing}"
    )
    for table in SQLModel.metadata.sorted_tables:
        if table.name != HALL_TABLE:
            assert not table.c.hall_id.nullable, f"{table.name}.hall_id may be NULL: a row of no hall"


_AUDIT = """
CREATE TABLE wt_test_writes (txid bigint, tbl text, hall_id bigint);
CREATE FUNCTION wt_test_note_write() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE row jsonb := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
BEGIN
    INSERT INTO wt_test_writes VALUES (txid_current(), TG_TABLE_NAME,
        (row ->> (CASE WHEN TG_TABLE_NAME = 'hall' THEN 'id' ELSE 'hall_id' END))::bigint);
    RETURN NULL;
END $$;
"""


@pytest.mark.postgres
@pytest.mark.parametrize("empty_url", ["postgres"], indirect=True)
def test_no_transaction_writes_two_halls(empty_url, tmp_path):
    engine = make_engine(empty_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(_AUDIT)
        for table in [HALL_TABLE, *hall_owned_tables()]:
            conn.exec_driver_sql(
                f'CREATE TRIGGER wt_test_note AFTER INSERT OR UPDATE OR DELETE ON "{table}" '
                "FOR EACH ROW EXECUTE FUNCTION wt_test_note_write()"
            )
    second = tmp_path / "queue2"
    shutil.copytree(QUEUE, second)
    hall_toml = (second / "hall.toml").read_text(encoding="utf-8")
    code = tomllib.loads(hall_toml)["hall"]["code"]
    (second / "hall.toml").write_text(
        hall_toml.replace(f'code = "{code}"', 'code = "second"', 1), encoding="utf-8"
    )
    try:
        build_demo(engine, QUEUE, days=1)
        build_demo(engine, second, days=0, seed=8)
        with engine.connect() as conn:
            halls = conn.execute(text("SELECT count(DISTINCT hall_id) FROM wt_test_writes")).scalar_one()
            tables = set(conn.execute(text("SELECT DISTINCT tbl FROM wt_test_writes")).scalars())
            mixed = conn.execute(
                text(
                    "SELECT txid, array_agg(DISTINCT hall_id), array_agg(DISTINCT tbl) FROM wt_test_writes "
                    "GROUP BY txid HAVING count(DISTINCT hall_id) > 1 LIMIT 5"
                )
            ).all()
            nameless = conn.execute(
                text("SELECT DISTINCT tbl FROM wt_test_writes WHERE hall_id IS NULL")
            ).scalars()
            nameless = list(nameless)
    finally:
        engine.dispose()
    assert halls == 2 and {"ticket", "event", "case"} <= tables, (halls, tables)  # the watch saw real work
    assert not nameless, f"rows written without a hall: {nameless}"
    assert not mixed, f"transactions that wrote two halls: {mixed}"
