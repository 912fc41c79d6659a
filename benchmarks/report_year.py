"""A year of a busy hall on PostgreSQL: the product's year report beside the best hand-written SQL.

    WT_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
        python benchmarks/report_year.py [--tickets 1000000 3000000] [--runs 3]

For each size: a scratch database, migrated, the demo hall loaded, the tickets bulk-inserted by one
set-based ``INSERT … SELECT generate_series`` (outside the timed part), indexes built and ANALYZEd.

Then, **in one process, on one engine**, alternating which goes first, ``--runs`` times each:

- the product: ``core.reports.queries.period_report`` for the year (every queue dimension, the hourly
  table, the case figures and the headline indicators — what ``wt report range`` computes);
- the reference: one hand-written ``GROUPING SETS`` scan of the year's tickets giving the total, per
  line, window, clerk, issue hour and finishing hour (counts, means, maxima and the four
  ``percentile_cont`` medians/P90s) — the least work a correct report can do.

``ratio`` = median product time / median reference time. ``figures_match``: every figure of the
product's queue tables equals the reference's (same rounding). The CLI is timed once as its own
process too (``cli_s``), with the interpreter's start-up (``wt --help``) reported separately
(``startup_s``). Memory: the peak resident size of this process (``peak_rss_mb``) and of the CLI
(``cli_peak_rss_mb``, by GNU time) — both stay flat from 1 M to 3 M tickets: the work is in the server. The last line is one JSON object with one entry per size.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from _common import prepare_hall, scratch_postgres  # noqa: E402  (puts the repository on sys.path)
from sqlalchemy import text

TARGET_RATIO = 1.2

REFERENCE = """
SELECT GROUPING(line_id, window_id, staff_id, ih, fh) AS gid, line_id, window_id, staff_id, ih, fh,
  COUNT(*) AS issued,
  COUNT(*) FILTER (WHERE status = 'done') AS served,
  COUNT(*) FILTER (WHERE status = 'no_show') AS no_show,
  COUNT(*) FILTER (WHERE transfer_count > 0) AS transferred,
  COUNT(*) FILTER (WHERE status = 'cancelled') AS cancelled,
  COUNT(*) FILTER (WHERE status = 'done' AND w <= :target) AS within_target,
  AVG(w) AS wait_mean, MAX(w) AS wait_max, AVG(s) AS svc_mean, MAX(s) AS svc_max,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY w) AS wait_median,
  percentile_cont(0.9) WITHIN GROUP (ORDER BY w) AS wait_p90,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY s) AS svc_median,
  percentile_cont(0.9) WITHIN GROUP (ORDER BY s) AS svc_p90
FROM (
  SELECT line_id, window_id, staff_id, status, transfer_count,
    EXTRACT(HOUR FROM (issued_at AT TIME ZONE 'UTC') AT TIME ZONE 'Asia/Shanghai')::int AS ih,
    CASE WHEN status = 'done' AND finished_at IS NOT NULL
         THEN EXTRACT(HOUR FROM (finished_at AT TIME ZONE 'UTC') AT TIME ZONE 'Asia/Shanghai')::int END AS fh,
    EXTRACT(EPOCH FROM COALESCE(first_called_at, called_at) - issued_at) AS w,
    EXTRACT(EPOCH FROM finished_at - started_at) AS s
  FROM ticket WHERE hall_id = :hall AND service_day BETWEEN :d1 AND :d2
) t
GROUP BY GROUPING SETS ((), (line_id), (window_id), (staff_id), (ih), (fh))
"""

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

STATS = ("issued", "served", "no_show", "transferred", "cancelled")
MINUTES = {
    "wait_mean_min": "wait_mean",
    "wait_median_min": "wait_median",
    "wait_p90_min": "wait_p90",
    "wait_max_min": "wait_max",
    "service_mean_min": "svc_mean",
    "service_median_min": "svc_median",
    "service_p90_min": "svc_p90",
    "service_max_min": "svc_max",
}
GID = {0b11111: "total", 0b01111: "line", 0b10111: "window", 0b11011: "clerk", 0b11101: "hour", 0b11110: "fh"}


def _minutes(seconds: Any) -> float | None:
    return None if seconds is None else round(float(seconds) / 60.0, 2)


def _figures(m: Any) -> dict[str, Any]:
    served = int(m["served"] or 0)
    out: dict[str, Any] = {k: int(m[k] or 0) for k in STATS}
    out.update({k: _minutes(m[v]) for k, v in MINUTES.items()})
    out["within_target_pct"] = round(100.0 * int(m["within_target"] or 0) / served, 1) if served else None
    return out


def generate(engine: Any, hall_id: int, tickets: int) -> tuple[list[date], float]:
    end = date.today() - timedelta(days=1)
    days = sorted(end - timedelta(days=i) for i in range(365) if (end - timedelta(days=i)).weekday() < 5)
    with engine.connect() as conn:
        nlines = conn.execute(
            text("SELECT COUNT(*) FROM line WHERE hall_id = :h AND active"), {"h": hall_id}
        ).scalar_one()
        windows = (
            conn.execute(text('SELECT id FROM "window" WHERE hall_id = :h ORDER BY number'), {"h": hall_id})
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
    per = max(1, -(-tickets // (len(days) * nlines)))
    t0 = time.perf_counter()
    with engine.begin() as conn:
        # secondary indexes are built once after the bulk load (much faster than row by row)
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
        conn.execute(text("CREATE INDEX ix_ticket_waiting ON ticket (hall_id, status, line_id, queue_key)"))
        conn.execute(text("CREATE INDEX ix_ticket_day ON ticket (hall_id, service_day)"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE ticket"))
    return days, time.perf_counter() - t0


def reference(engine: Any, hall_id: int, d1: date, d2: date) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(text(REFERENCE), {"hall": hall_id, "d1": d1, "d2": d2, "target": 20 * 60}).mappings()
        )


def compare(report: Any, rows: list[Any], engine: Any, hall_id: int) -> list[str]:
    """Every queue figure of the product against the reference; the differences, named."""
    with engine.connect() as conn:
        lines = dict(conn.execute(text("SELECT id, code FROM line WHERE hall_id = :h"), {"h": hall_id}).all())
        windows = dict(
            conn.execute(text('SELECT id, number FROM "window" WHERE hall_id = :h'), {"h": hall_id}).all()
        )
        staff = dict(
            conn.execute(text("SELECT id, code FROM staff WHERE hall_id = :h"), {"h": hall_id}).all()
        )
    expected: dict[tuple[str, Any], dict[str, Any]] = {}
    served_by_hour: dict[str, int] = {}
    for m in rows:
        dim = GID[int(m["gid"])]
        if dim == "fh":
            if m["fh"] is not None:
                served_by_hour[f"{int(m['fh']):02d}:00"] = int(m["served"])
            continue
        key = {
            "total": None,
            "line": lines.get(m["line_id"]),
            "window": windows.get(m["window_id"], "(未叫号)") if m["window_id"] is not None else None,
            "clerk": staff.get(m["staff_id"]) if m["staff_id"] is not None else None,
            "hour": f"{int(m['ih']):02d}:00" if m["ih"] is not None else None,
        }[dim]
        expected[(dim, key)] = _figures(m)
    problems: list[str] = []

    def check(dim: str, key: Any, got: dict[str, Any], fields: dict[str, str]) -> None:
        want = expected.get((dim, key))
        if want is None:
            problems.append(f"{dim} {key}: not in the reference")
            return
        for mine, theirs in fields.items():
            if got.get(mine) != want[theirs]:
                problems.append(f"{dim} {key} {mine}: {got.get(mine)} != {want[theirs]}")

    same = {k: k for k in (*STATS, *MINUTES, "within_target_pct")}
    check("total", None, report.table("queue_total").rows[0], same)
    for row in report.table("by_line").rows:
        check("line", row["line"], row, same)
    for row in report.table("by_window").rows:
        check("window", row["window"] if isinstance(row["window"], int) else None, row, same)
    for row in report.table("by_clerk").rows:
        check("clerk", row["clerk"] if row["clerk_name"] else None, row, same)
    hour_fields = {
        "arrivals": "issued",
        **{k: k for k in ("wait_mean_min", "wait_median_min", "wait_p90_min", "wait_max_min")},
    }
    for row in report.table("by_hour").rows:
        if (("hour", row["hour"])) in expected:
            check("hour", row["hour"], row, hour_fields)
        if row["served_in_hour"] != served_by_hour.get(row["hour"], 0):
            problems.append(
                f"hour {row['hour']} served: {row['served_in_hour']} != {served_by_hour.get(row['hour'])}"
            )
    groups = {d for d, _k in expected}
    counted = {
        "line": len(report.table("by_line").rows),
        "window": len(report.table("by_window").rows),
        "clerk": len(report.table("by_clerk").rows),
    }
    for dim, n in counted.items():
        if dim in groups and n != sum(1 for d, _k in expected if d == dim):
            problems.append(f"{dim}: {n} rows, the reference has {sum(1 for d, _k in expected if d == dim)}")
    return problems


def one_size(tickets: int, runs: int) -> dict[str, Any]:
    from window_terminal.core.reports.queries import period_report

    with scratch_postgres("wt_bench_report") as url:
        engine, hall_id = prepare_hall(url)
        days, generate_s = generate(engine, hall_id, tickets)
        d1, d2 = days[0], days[-1]
        with engine.connect() as conn:
            count = conn.execute(text("SELECT COUNT(*) FROM ticket")).scalar_one()
        print(f"{count} tickets over {len(days)} days in {generate_s:.1f}s", file=sys.stderr)
        reference(engine, hall_id, d1, d2)  # warm the cache: both measured runs read it warm
        product_s: list[float] = []
        reference_s: list[float] = []
        report = rows = None
        for i in range(runs):
            order = ("product", "reference") if i % 2 == 0 else ("reference", "product")
            for which in order:
                t0 = time.perf_counter()
                if which == "product":
                    report = period_report(engine, hall_id, d1, d2)
                    product_s.append(time.perf_counter() - t0)
                else:
                    rows = reference(engine, hall_id, d1, d2)
                    reference_s.append(time.perf_counter() - t0)
        assert report is not None and rows is not None
        problems = compare(report, rows, engine, hall_id)
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        engine.dispose()
        wt = str(Path(sys.executable).parent / "wt")
        env = {"WT_DATABASE_URL": url, "PATH": str(Path(sys.executable).parent)}
        t0 = time.perf_counter()
        subprocess.run([wt, "--help"], env=env, check=True, capture_output=True)
        startup_s = time.perf_counter() - t0
        with tempfile.TemporaryDirectory() as tmp:
            # the CLI's own peak memory: GNU time's %M (a forked child's ru_maxrss would count the
            # pages it shared with this process before exec)
            timer = (
                ["/usr/bin/time", "-f", "%M", "-o", str(Path(tmp) / "rss")]
                if Path("/usr/bin/time").exists()
                else []
            )
            t0 = time.perf_counter()
            subprocess.run(
                [
                    *timer,
                    wt,
                    "report",
                    "range",
                    "--from",
                    d1.isoformat(),
                    "--to",
                    d2.isoformat(),
                    "--format",
                    "json",
                    "--out",
                    str(Path(tmp) / "year.json"),
                ],
                env=env,
                check=True,
                capture_output=True,
            )
            cli_s = time.perf_counter() - t0
            cli_rss_mb = int((Path(tmp) / "rss").read_text().split()[-1]) / 1024 if timer else None
    product, ref = statistics.median(product_s), statistics.median(reference_s)
    return {
        "tickets": count,
        "days": len(days),
        "generate_s": round(generate_s, 1),
        "product_s": [round(x, 3) for x in product_s],
        "reference_s": [round(x, 3) for x in reference_s],
        "product_median_s": round(product, 3),
        "reference_median_s": round(ref, 3),
        "ratio": round(product / ref, 3),
        "figures_match": not problems,
        "mismatches": problems[:10],
        "cli_s": round(cli_s, 3),
        "startup_s": round(startup_s, 3),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "cli_peak_rss_mb": round(cli_rss_mb, 1) if cli_rss_mb is not None else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, nargs="+", default=[1_000_000, 3_000_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sizes = [one_size(n, args.runs) for n in args.tickets]
    print(
        json.dumps(
            {
                "sizes": sizes,
                "ratio": max(s["ratio"] for s in sizes),
                "figures_match": all(s["figures_match"] for s in sizes),
                "target_ratio": TARGET_RATIO,
                "all_passed": all(s["figures_match"] and s["ratio"] <= TARGET_RATIO for s in sizes),
            }
        )
    )


if __name__ == "__main__":
    main()
