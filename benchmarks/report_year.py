"""A year of a busy hall on PostgreSQL: time `wt report range` beside the same aggregate written by hand in psql.

    WT_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test python benchmarks/report_year.py [--tickets N]

Creates a scratch database, migrates it, loads the demo hall from queue/, bulk-inserts the tickets with one
set-based ``INSERT … SELECT generate_series`` (no engine round trips), runs the real CLI in a subprocess
(``--format json --out FILE``) and ``psql -f`` with the hand-written SQL, then drops the database.
The last line is one JSON object: tickets, report_s, sql_s, ratio, target_ratio, generate_s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from window_terminal.config import normalize_database_url  # noqa: E402
from window_terminal.core.hall import load_hall  # noqa: E402
from window_terminal.db.engine import make_engine  # noqa: E402
from window_terminal.db.migrate import upgrade  # noqa: E402

HAND_SQL = """
\\set ON_ERROR_STOP on
\\o /dev/null
{dims}
SELECT EXTRACT(HOUR FROM ((finished_at AT TIME ZONE 'UTC') AT TIME ZONE 'Asia/Shanghai'))::int AS h, COUNT(*)
FROM ticket WHERE hall_id = {hall} AND service_day BETWEEN '{d1}' AND '{d2}' AND status = 'done' GROUP BY 1;
SELECT COUNT(*) FROM "case" WHERE hall_id = {hall} AND accepted_on BETWEEN '{d1}' AND '{d2}';
"""

DIM_SQL = """
SELECT {group} AS g, COUNT(*),
  SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'no_show' THEN 1 ELSE 0 END),
  SUM(CASE WHEN transfer_count > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END),
  SUM(CASE WHEN status = 'done' AND EXTRACT(EPOCH FROM (first_called_at - issued_at)) <= 1200 THEN 1 ELSE 0 END),
  AVG(EXTRACT(EPOCH FROM (first_called_at - issued_at))), MAX(EXTRACT(EPOCH FROM (first_called_at - issued_at))),
  AVG(EXTRACT(EPOCH FROM (finished_at - started_at))), MAX(EXTRACT(EPOCH FROM (finished_at - started_at))),
  percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (first_called_at - issued_at))),
  percentile_cont(0.9) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (first_called_at - issued_at))),
  percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (finished_at - started_at))),
  percentile_cont(0.9) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (finished_at - started_at)))
FROM ticket WHERE hall_id = {hall} AND service_day BETWEEN '{d1}' AND '{d2}' GROUP BY 1;
"""

GROUPS = (
    "0",
    "line_id",
    "window_id",
    "staff_id",
    "EXTRACT(HOUR FROM ((issued_at AT TIME ZONE 'UTC') AT TIME ZONE 'Asia/Shanghai'))::int",
)

GENERATE = """
INSERT INTO ticket (hall_id, service_day, line_id, original_line_id, line_code_at_issue, seq, number, kind,
    priority_reason, eligible_at, queue_key, status, issued_at, called_at, first_called_at, started_at,
    finished_at, window_id, staff_id, recall_count, transfer_count, note)
SELECT :hall, d.day, l.id, l.id, l.code, g.seq, l.prefix || lpad(g.seq::text, 3, '0'), 'normal', '',
    x.issued, EXTRACT(EPOCH FROM x.issued), x.status, x.issued,
    x.called, x.called,
    CASE WHEN x.status = 'done' THEN x.called + interval '1 minute' END,
    CASE WHEN x.status = 'done' THEN x.called + interval '1 minute' + x.service END,
    CASE WHEN x.status <> 'cancelled' THEN (:windows)[1 + (g.seq + l.id) % :nw] END,
    CASE WHEN x.status <> 'cancelled' THEN (:staff)[1 + (g.seq + l.id) % :nw] END,
    0, CASE WHEN x.r < 0.03 THEN 1 ELSE 0 END, ''
FROM unnest(CAST(:days AS date[])) AS d(day)
CROSS JOIN (SELECT id, code, prefix FROM line WHERE hall_id = :hall AND active) l
CROSS JOIN generate_series(1, :per) AS g(seq)
CROSS JOIN LATERAL (
    SELECT r,
        d.day::timestamp + interval '1 hour' + (g.seq::float8 / :per) * interval '8 hours' AS issued,
        CASE WHEN r < 0.04 THEN 'no_show' WHEN r < 0.05 THEN 'cancelled' ELSE 'done' END AS status,
        CASE WHEN r >= 0.04 AND r < 0.05 THEN NULL
             ELSE d.day::timestamp + interval '1 hour' + (g.seq::float8 / :per) * interval '8 hours'
                  + (random() * 40) * interval '1 minute' END AS called,
        (3 + random() * 25) * interval '1 minute' AS service
    FROM (SELECT random() + 0 * g.seq + 0 * l.id AS r) rr
) x
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=3_000_000)
    args = parser.parse_args()
    admin_url = normalize_database_url(
        os.environ.get("WT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    name = f"wt_bench_report_{uuid.uuid4().hex[:8]}"
    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name)
    try:
        engine = make_engine(url.render_as_string(hide_password=False))
        upgrade(engine)
        hall_id = load_hall(engine, REPO / "queue")["hall_id"]
        end = date.today() - timedelta(days=1)
        days = [end - timedelta(days=i) for i in range(365) if (end - timedelta(days=i)).weekday() < 5]
        days.sort()
        with engine.connect() as conn:
            nlines = conn.execute(
                text("SELECT COUNT(*) FROM line WHERE hall_id = :h AND active"), {"h": hall_id}
            ).scalar_one()
            windows = (
                conn.execute(
                    text('SELECT id FROM "window" WHERE hall_id = :h ORDER BY number'), {"h": hall_id}
                )
                .scalars()
                .all()
            )
            staff = (
                conn.execute(
                    text("SELECT id FROM staff WHERE hall_id = :h AND role = 'clerk' ORDER BY code"),
                    {"h": hall_id},
                )
                .scalars()
                .all()
            )
        nw = min(len(windows), len(staff))
        per = max(1, -(-args.tickets // (len(days) * nlines)))
        t0 = time.perf_counter()
        with engine.begin() as conn:
            # Secondary indexes are built once after the bulk load (much faster than row by row).
            conn.execute(text("DROP INDEX IF EXISTS ix_ticket_waiting"))
            conn.execute(text("DROP INDEX IF EXISTS ix_ticket_day"))
            conn.execute(
                text(GENERATE),
                {
                    "hall": hall_id,
                    "days": days,
                    "per": per,
                    "windows": list(windows[:nw]),
                    "staff": list(staff[:nw]),
                    "nw": nw,
                },
            )
            conn.execute(
                text("CREATE INDEX ix_ticket_waiting ON ticket (hall_id, status, line_id, queue_key)")
            )
            conn.execute(text("CREATE INDEX ix_ticket_day ON ticket (hall_id, service_day)"))
            conn.execute(text("ANALYZE ticket"))
        generate_s = time.perf_counter() - t0
        with engine.connect() as conn:
            tickets = conn.execute(text("SELECT COUNT(*) FROM ticket")).scalar_one()
        engine.dispose()
        print(f"generated {tickets} tickets over {len(days)} days in {generate_s:.1f}s", file=sys.stderr)
        d1, d2 = days[0].isoformat(), days[-1].isoformat()
        env = {k: v for k, v in os.environ.items() if not k.startswith("WT_")}
        env["WT_DATABASE_URL"] = url.render_as_string(hide_password=False)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "year.json"
            wt = str(Path(sys.executable).parent / "wt")
            t0 = time.perf_counter()
            subprocess.run(
                [wt, "report", "range", "--from", d1, "--to", d2, "--format", "json", "--out", str(out)],
                env=env,
                check=True,
                capture_output=True,
            )
            report_s = time.perf_counter() - t0
            served = json.loads(out.read_text(encoding="utf-8"))["tables"]["queue_total"]["rows"][0]["issued"]
            sql_file = Path(tmp) / "hand.sql"
            dims = "".join(DIM_SQL.format(group=g, hall=hall_id, d1=d1, d2=d2) for g in GROUPS)
            sql_file.write_text(HAND_SQL.format(dims=dims, hall=hall_id, d1=d1, d2=d2), encoding="utf-8")
            psql_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
            t0 = time.perf_counter()
            subprocess.run(["psql", psql_url, "-q", "-f", str(sql_file)], check=True, capture_output=True)
            sql_s = time.perf_counter() - t0
        assert served == tickets, (served, tickets)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    print(
        json.dumps(
            {
                "tickets": tickets,
                "days": len(days),
                "generate_s": round(generate_s, 2),
                "report_s": round(report_s, 3),
                "sql_s": round(sql_s, 3),
                "ratio": round(report_s / sql_s, 3),
                "target_ratio": 1.5,
            }
        )
    )


if __name__ == "__main__":
    main()
