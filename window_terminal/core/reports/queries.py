"""The supervisor's figures, aggregated in SQL (GROUP BY, window functions) — never by looping over tickets.

Definitions (days are the hall's local service days; timestamps are naive UTC):

- **issued**: tickets whose ``service_day`` is in the period; **served**: status ``done``; **no-show**:
  status ``no_show``; **transferred**: ``transfer_count > 0``; **cancelled**: status ``cancelled``;
  **unserved**: status ``unserved`` (ended by the close of day while waiting, called or parked).
- **waiting time**: ``first_called_at`` (else ``called_at``) − ``issued_at``, over tickets that were called;
  **service time**: ``finished_at`` − ``started_at``. Mean, median and 90th percentile (linear interpolation,
  as PostgreSQL's ``percentile_cont``; on SQLite the same value from ``ROW_NUMBER() OVER``), max — in minutes.
- **within target**: served tickets whose waiting time ≤ the hall's ``wait_target_minutes``, over served.
- Tickets are grouped by their current line (after any transfer), the window and clerk that called them,
  and the local hour they were issued (arrivals) / finished (served).
- Cases: accepted = ``accepted_on`` in the period; notices = one-time notice documents issued in the period;
  breaches = ``case.notice_breach`` events in the period (the day each breach happened); deficiency acceptances = accepted in the
  period with outcome ``deficiency``, of which overdue = supplement deadline on or before the period's last
  day and no supplement received by the end of that deadline day; commitments = accepted in the period
  with ``commitment``; non-acceptances = non-acceptance notices issued in the period, by ``reason_kind``;
  handoffs = review tasks created in the period; decided / refused / completed by their timestamps;
  overdue yellow/red = open cases (accepted, in review, returned) as of the period's last day by the
  light of their recomputed promised date (core.deadlines, the same as on the board); one-visit rate =
  completed cases in the period with exactly one visit (pickup visits count) over completed cases;
  ratings by level given in the period; open rectifications at its end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from window_terminal.core.privacy import mask_name, mask_phone
from window_terminal.core.queueing import threshold
from window_terminal.db import clock
from window_terminal.db.engine import read_session
from window_terminal.i18n import tr

OPEN_CASE_STATUSES = ("accepted", "in_review", "returned")


@dataclass
class Table:
    key: str
    title: str
    columns: list[tuple[str, str]]  # (key, header)
    rows: list[dict[str, Any]] = field(default_factory=list)
    # terminal view only: a column's codes shown as words (zh, en) and in a style
    labels: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    styles: dict[str, dict[str, str]] = field(default_factory=dict)
    # the hall's figures for the whole table (a 合计 row): medians and rates are the hall's own,
    # never sums or means of the rows
    total: dict[str, Any] | None = None


@dataclass
class Report:
    kind: str
    hall: str
    hall_name: str
    date_from: date
    date_to: date
    generated_at: str
    tables: list[Table]
    personal_data: bool = False

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["date_from"] = self.date_from.isoformat()
        data["date_to"] = self.date_to.isoformat()
        data["tables"] = {
            t.key: {"title": t.title, "columns": [c for c, _ in t.columns], "rows": t.rows, "total": t.total}
            for t in self.tables
        }
        return data


# --- the queue -----------------------------------------------------------------------------------


def _utc_offset_seconds(day: date, tz: str) -> int:
    start = datetime(day.year, day.month, day.day, 12, tzinfo=clock.zone(tz))
    offset = start.utcoffset()
    return int(offset.total_seconds()) if offset else 0


def _exprs(dialect: str) -> dict[str, str]:
    if dialect == "postgresql":
        return {
            "wait": "EXTRACT(EPOCH FROM (COALESCE(first_called_at, called_at) - issued_at))",
            "svc": "EXTRACT(EPOCH FROM (finished_at - started_at))",
            "issued_hour": "CAST(EXTRACT(HOUR FROM ((issued_at AT TIME ZONE 'UTC') AT TIME ZONE :tz)) AS INTEGER)",
            "finished_hour": (
                "CAST(EXTRACT(HOUR FROM ((finished_at AT TIME ZONE 'UTC') AT TIME ZONE :tz)) AS INTEGER)"
            ),
        }
    return {
        "wait": "((julianday(COALESCE(first_called_at, called_at)) - julianday(issued_at)) * 86400.0)",
        "svc": "((julianday(finished_at) - julianday(started_at)) * 86400.0)",
        "issued_hour": "CAST(strftime('%H', issued_at, :tzmod) AS INTEGER)",
        "finished_hour": "CAST(strftime('%H', finished_at, :tzmod) AS INTEGER)",
    }


def _sqlite_percentile(p: float, value: str, rn: str, n: str) -> str:
    """Linear-interpolated percentile of ``value`` inside a GROUP BY, from ROW_NUMBER()/COUNT() OVER."""
    pos = f"(1 + {p} * (MAX({n}) - 1))"
    lo = f"MAX(CASE WHEN {rn} = CAST(1 + {p} * ({n} - 1) AS INTEGER) THEN {value} END)"
    hi = f"MAX(CASE WHEN {rn} = CAST(1 + {p} * ({n} - 1) AS INTEGER) + 1 THEN {value} END)"
    return f"({lo} + COALESCE(({pos} - CAST({pos} AS INTEGER)) * ({hi} - {lo}), 0))"


def ticket_stats_sql(dialect: str, group: str) -> str:
    """One aggregate over the period's tickets grouped by ``group`` (an expression; '0' for the total)."""
    e = _exprs(dialect)
    base = f"""
        SELECT {group} AS g, status, transfer_count,
               CASE WHEN COALESCE(first_called_at, called_at) IS NOT NULL THEN {e["wait"]} END AS wait_s,
               CASE WHEN started_at IS NOT NULL AND finished_at IS NOT NULL THEN {e["svc"]} END AS svc_s
        FROM ticket
        WHERE hall_id = :hall AND service_day >= :d1 AND service_day <= :d2
    """
    counts = """
        COUNT(*) AS issued,
        SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END) AS served,
        SUM(CASE WHEN status = 'no_show' THEN 1 ELSE 0 END) AS no_show,
        SUM(CASE WHEN transfer_count > 0 THEN 1 ELSE 0 END) AS transferred,
        SUM(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled,
        SUM(CASE WHEN status = 'unserved' THEN 1 ELSE 0 END) AS unserved,
        SUM(CASE WHEN status = 'done' AND wait_s <= :target THEN 1 ELSE 0 END) AS within_target,
        AVG(wait_s) AS wait_mean, MAX(wait_s) AS wait_max,
        AVG(svc_s) AS svc_mean, MAX(svc_s) AS svc_max
    """
    if dialect == "postgresql":
        return f"""
            WITH t AS ({base})
            SELECT g, {counts},
                percentile_cont(0.5) WITHIN GROUP (ORDER BY wait_s) AS wait_median,
                percentile_cont(0.9) WITHIN GROUP (ORDER BY wait_s) AS wait_p90,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY svc_s) AS svc_median,
                percentile_cont(0.9) WITHIN GROUP (ORDER BY svc_s) AS svc_p90
            FROM t GROUP BY g ORDER BY g
        """
    return f"""
        WITH t AS ({base}),
        r AS (
            SELECT t.*,
                ROW_NUMBER() OVER (PARTITION BY g ORDER BY wait_s IS NULL, wait_s) AS wrn,
                COUNT(wait_s) OVER (PARTITION BY g) AS wn,
                ROW_NUMBER() OVER (PARTITION BY g ORDER BY svc_s IS NULL, svc_s) AS srn,
                COUNT(svc_s) OVER (PARTITION BY g) AS sn
            FROM t
        )
        SELECT g, {counts},
            {_sqlite_percentile(0.5, "wait_s", "wrn", "wn")} AS wait_median,
            {_sqlite_percentile(0.9, "wait_s", "wrn", "wn")} AS wait_p90,
            {_sqlite_percentile(0.5, "svc_s", "srn", "sn")} AS svc_median,
            {_sqlite_percentile(0.9, "svc_s", "srn", "sn")} AS svc_p90
        FROM r GROUP BY g ORDER BY g
    """


STAT_COLUMNS = [
    ("issued", ("取号", "issued")),
    ("served", ("已办结", "served")),
    ("no_show", ("过号", "no-show")),
    ("transferred", ("转移", "transferred")),
    ("cancelled", ("取消", "cancelled")),
    ("unserved", ("日终未办", "unserved")),
    ("wait_mean_min", ("平均等候(分)", "wait mean (min)")),
    ("wait_median_min", ("等候中位数(分)", "wait median (min)")),
    ("wait_p90_min", ("等候P90(分)", "wait p90 (min)")),
    ("wait_max_min", ("最长等候(分)", "wait max (min)")),
    ("service_mean_min", ("平均办理(分)", "service mean (min)")),
    ("service_median_min", ("办理中位数(分)", "service median (min)")),
    ("service_p90_min", ("办理P90(分)", "service p90 (min)")),
    ("service_max_min", ("最长办理(分)", "service max (min)")),
    ("within_target_pct", ("达标率%", "within target %")),
]


def _minutes(seconds: Any) -> float | None:
    return None if seconds is None else round(float(seconds) / 60.0, 2)


def _stat_row(row: Any) -> dict[str, Any]:
    m = row._mapping
    served = int(m["served"] or 0)
    return {
        "issued": int(m["issued"] or 0),
        "served": served,
        "no_show": int(m["no_show"] or 0),
        "transferred": int(m["transferred"] or 0),
        "cancelled": int(m["cancelled"] or 0),
        "unserved": int(m["unserved"] or 0),
        "wait_mean_min": _minutes(m["wait_mean"]),
        "wait_median_min": _minutes(m["wait_median"]),
        "wait_p90_min": _minutes(m["wait_p90"]),
        "wait_max_min": _minutes(m["wait_max"]),
        "service_mean_min": _minutes(m["svc_mean"]),
        "service_median_min": _minutes(m["svc_median"]),
        "service_p90_min": _minutes(m["svc_p90"]),
        "service_max_min": _minutes(m["svc_max"]),
        "within_target_pct": round(100.0 * int(m["within_target"] or 0) / served, 1) if served else None,
    }


@dataclass
class _Period:
    hall_id: int
    d1: date
    d2: date
    tz: str
    settings: dict[str, Any]

    @property
    def start_utc(self) -> datetime:
        return clock.local_midnight_utc(self.d1, self.tz)

    @property
    def end_utc(self) -> datetime:
        return clock.local_midnight_utc(self.d2 + timedelta(days=1), self.tz)

    def params(self, **extra: Any) -> dict[str, Any]:
        offset = _utc_offset_seconds(self.d1, self.tz)
        target = int(threshold(self.settings, "wait_target_minutes")) * 60
        return {
            "hall": self.hall_id,
            "d1": self.d1,
            "d2": self.d2,
            "t1": self.start_utc,
            "t2": self.end_utc,
            "tz": self.tz,
            "tzmod": f"{offset:+d} seconds",
            "target": target,
            **extra,
        }


@dataclass
class _Grouped:
    """One group of the GROUPING SETS scan, shaped like a row of :func:`ticket_stats_sql`."""

    g: Any
    _mapping: dict[str, Any]


_SETS = {"total": "()", "line": "(line_id)", "window": "(window_id)", "clerk": "(staff_id)", "hour": "(ih)"}


def grouped_stats_sql(dims: tuple[str, ...]) -> str:
    """PostgreSQL: every dimension's figures and the served count by finishing hour in ONE scan of the
    period's tickets (GROUPING SETS); ``GROUPING(...)`` tells the sets apart, so a NULL window (a ticket
    never called) stays its own group."""
    e = _exprs("postgresql")
    sets = ", ".join([_SETS[d] for d in dims] + (["(fh)"] if "hour" in dims else []))
    return f"""
        WITH t AS (
            SELECT line_id, window_id, staff_id, status, transfer_count,
                   {e["issued_hour"]} AS ih,
                   CASE WHEN status = 'done' AND finished_at IS NOT NULL THEN {e["finished_hour"]} END AS fh,
                   {e["wait"]} AS wait_s,  -- NULL when never called: no CASE needed
                   {e["svc"]} AS svc_s
            FROM ticket
            WHERE hall_id = :hall AND service_day >= :d1 AND service_day <= :d2
        )
        SELECT GROUPING(line_id, window_id, staff_id, ih, fh) AS gid, line_id, window_id, staff_id, ih, fh,
            COUNT(*) AS issued,
            COUNT(*) FILTER (WHERE status = 'done') AS served,
            COUNT(*) FILTER (WHERE status = 'no_show') AS no_show,
            COUNT(*) FILTER (WHERE transfer_count > 0) AS transferred,
            COUNT(*) FILTER (WHERE status = 'cancelled') AS cancelled,
            COUNT(*) FILTER (WHERE status = 'unserved') AS unserved,
            COUNT(*) FILTER (WHERE status = 'done' AND wait_s <= :target) AS within_target,
            AVG(wait_s) AS wait_mean, MAX(wait_s) AS wait_max,
            AVG(svc_s) AS svc_mean, MAX(svc_s) AS svc_max,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY wait_s) AS wait_median,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY wait_s) AS wait_p90,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY svc_s) AS svc_median,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY svc_s) AS svc_p90
        FROM t GROUP BY GROUPING SETS ({sets})
    """


# GROUPING(line_id, window_id, staff_id, ih, fh): a bit is 1 where the column is NOT grouped
_GID = {
    "total": 0b11111,
    "line": 0b01111,
    "window": 0b10111,
    "clerk": 0b11011,
    "hour": 0b11101,
    "served_hour": 0b11110,
}
_KEY = {"line": "line_id", "window": "window_id", "clerk": "staff_id", "hour": "ih", "served_hour": "fh"}


def _grouped_stats(session: Session, p: _Period, dims: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {d: [] for d in dims}
    served: dict[int, int] = {}
    dim_of = {gid: d for d, gid in _GID.items()}
    rows = session.execute(text(grouped_stats_sql(dims)), p.params()).mappings().all()
    for m in sorted(
        rows,
        key=lambda m: tuple(
            (v is None, v) for v in (m["line_id"], m["window_id"], m["staff_id"], m["ih"], m["fh"])
        ),
    ):
        dim = dim_of[int(m["gid"])]
        if dim == "served_hour":
            if m["fh"] is not None:
                served[int(m["fh"])] = int(m["served"] or 0)
            continue
        if dim == "total" and not m["issued"]:
            continue  # no tickets: no total row, as the per-dimension query gives
        out[dim].append(_Grouped(0 if dim == "total" else m[_KEY[dim]], dict(m)))
    if "hour" in dims:
        out["served_hour"] = served
    return out


def _names(session: Session, sql: str, hall_id: int) -> dict[Any, str]:
    return {k: v for k, v in session.execute(text(sql), {"hall": hall_id}).all()}


def _queue_tables(session: Session, p: _Period, *, dims: tuple[str, ...]) -> list[Table]:
    dialect = session.get_bind().dialect.name
    e = _exprs(dialect)
    groups = {
        "total": "0",
        "line": "line_id",
        "window": "window_id",
        "clerk": "staff_id",
        "hour": e["issued_hour"],
    }
    stat_cols = [(k, tr(*h)) for k, h in STAT_COLUMNS]
    none_label = tr("(未叫号)", "(not called)")
    tables: list[Table] = []
    by_dim = _grouped_stats(session, p, dims) if dialect == "postgresql" and len(dims) > 1 else {}
    for dim in dims:
        rows = by_dim.get(dim)
        if rows is None:
            rows = session.execute(text(ticket_stats_sql(dialect, groups[dim])), p.params()).all()
        if dim == "total":
            tables.append(
                Table(
                    "queue_total", tr("排队总览", "Queue overview"), stat_cols, [_stat_row(r) for r in rows]
                )
            )
        elif dim == "line":
            names = {
                k: (code, name)
                for k, code, name in session.execute(
                    text("SELECT id, code, name FROM line WHERE hall_id = :hall"), {"hall": p.hall_id}
                ).all()
            }
            out = [
                {
                    "line": names.get(r.g, ("?", ""))[0],
                    "line_name": names.get(r.g, ("?", ""))[1],
                    **_stat_row(r),
                }
                for r in rows
            ]
            cols = [("line", tr("业务线", "line")), ("line_name", tr("名称", "name"))]
            tables.append(Table("by_line", tr("按业务线", "By line"), cols + stat_cols, out))
        elif dim == "window":
            numbers = _names(session, 'SELECT id, number FROM "window" WHERE hall_id = :hall', p.hall_id)
            out = [
                {"window": numbers.get(r.g, none_label) if r.g is not None else none_label, **_stat_row(r)}
                for r in rows
            ]
            tables.append(
                Table(
                    "by_window",
                    tr("按窗口", "By window"),
                    [("window", tr("窗口", "window"))] + stat_cols,
                    out,
                )
            )
        elif dim == "clerk":
            staff = {
                k: (code, name)
                for k, code, name in session.execute(
                    text("SELECT id, code, name FROM staff WHERE hall_id = :hall"), {"hall": p.hall_id}
                ).all()
            }
            out = []
            for r in rows:
                code, name = staff.get(r.g, (none_label, "")) if r.g is not None else (none_label, "")
                out.append({"clerk": code, "clerk_name": name, **_stat_row(r)})
            cols = [("clerk", tr("工号", "staff code")), ("clerk_name", tr("姓名", "name"))]
            tables.append(Table("by_clerk", tr("按工作人员", "By clerk"), cols + stat_cols, out))
        elif dim == "hour":
            served: dict[int, int] = by_dim.get("served_hour") or dict(
                session.execute(
                    text(
                        f"SELECT {e['finished_hour']} AS h, COUNT(*) FROM ticket WHERE hall_id = :hall "
                        "AND service_day >= :d1 AND service_day <= :d2 AND status = 'done' "
                        "AND finished_at IS NOT NULL GROUP BY 1"
                    ),
                    p.params(),
                ).all()
            )
            by_hour = {int(r.g): _stat_row(r) for r in rows if r.g is not None}
            out = []
            for hour in sorted(set(by_hour) | {int(h) for h in served if h is not None}):
                stats = by_hour.get(hour) or {
                    k: (
                        0
                        if k in ("issued", "served", "no_show", "transferred", "cancelled", "unserved")
                        else None
                    )
                    for k, _ in STAT_COLUMNS
                }
                out.append(
                    {
                        "hour": f"{hour:02d}:00",
                        "arrivals": stats["issued"],
                        "served_in_hour": int(served.get(hour, 0)),
                        "wait_mean_min": stats["wait_mean_min"],
                        "wait_median_min": stats["wait_median_min"],
                        "wait_p90_min": stats["wait_p90_min"],
                        "wait_max_min": stats["wait_max_min"],
                    }
                )
            cols = [
                ("hour", tr("时段", "hour")),
                ("arrivals", tr("到达(取号)", "arrivals")),
                ("served_in_hour", tr("办结", "served")),
                ("wait_mean_min", tr("平均等候(分)", "wait mean (min)")),
                ("wait_median_min", tr("等候中位数(分)", "wait median (min)")),
                ("wait_p90_min", tr("等候P90(分)", "wait p90 (min)")),
                ("wait_max_min", tr("最长等候(分)", "wait max (min)")),
            ]
            tables.append(
                Table("by_hour", tr("按时段（到达与办结）", "By hour (arrivals vs served)"), cols, out)
            )
    return tables


# --- cases ---------------------------------------------------------------------------------------


def _scalar(session: Session, sql: str, params: dict[str, Any]) -> int:
    return int(session.execute(text(sql), params).scalar() or 0)


def _light_counts(session: Session, p: _Period) -> dict[str, int]:
    """Open cases accepted by the period's last day, by the supervision light they show on that day —
    the same ``case`` entries (recomputed deadlines, the hall's thresholds) as the board and
    ``wt report overdue``, never the stored promised dates."""
    from window_terminal.core.supervision import LIGHTS, watch

    counts = dict.fromkeys(LIGHTS, 0)
    last_day = p.d2.isoformat()
    for entry in watch(session, p.hall_id, today=p.d2, kinds=("case",)):
        if entry["accepted_on"] <= last_day:
            counts[entry["light"]] += 1
    return counts


def _case_tables(session: Session, p: _Period) -> list[Table]:
    from window_terminal.core.reports.indicators import breaches_by_item

    q = p.params()
    accepted = (
        'SELECT COUNT(*) FROM "case" WHERE hall_id = :hall AND accepted_on >= :d1 AND accepted_on <= :d2'
    )
    completed_cases = (
        'SELECT c.id, (SELECT COUNT(*) FROM visit v WHERE v.case_id = c.id) AS visits FROM "case" c '
        "WHERE c.hall_id = :hall AND c.completed_at >= :t1 AND c.completed_at < :t2"
    )
    one_visit = session.execute(
        text(
            f"SELECT COUNT(*), SUM(CASE WHEN visits = 1 THEN 1 ELSE 0 END), AVG(visits) FROM ({completed_cases}) x"
        ),
        q,
    ).one()
    completed_n = int(one_visit[0] or 0)
    one_n = int(one_visit[1] or 0)
    lights = _light_counts(session, p)
    figures: list[tuple[str, str, Any]] = [
        ("accepted", tr("受理", "accepted"), _scalar(session, accepted, q)),
        (
            "notices",
            tr("一次性告知书", "one-time notices issued"),
            _scalar(
                session,
                "SELECT COUNT(*) FROM document WHERE hall_id = :hall AND kind = 'one_time_notice' "
                "AND issued_at >= :t1 AND issued_at < :t2",
                q,
            ),
        ),
        (
            # an earlier case of the applicant and item, closed when a later case was accepted
            # (core.intake: case.superseded), on the day it was closed
            "notices_superseded",
            tr("告知后以新办件受理", "notices answered by a later case"),
            _scalar(
                session,
                "SELECT COUNT(*) FROM event WHERE hall_id = :hall AND kind = 'case.superseded' "
                "AND created_at >= :t1 AND created_at < :t2",
                q,
            ),
        ),
        (
            "notice_breaches",
            tr("违反一次性告知", "one-time rule breaches"),
            sum(breaches_by_item(session, q).values()),
        ),
        (
            "deficiency_acceptances",
            tr("容缺受理", "deficiency acceptances"),
            _scalar(session, accepted + " AND outcome = 'deficiency'", q),
        ),
        (
            "overdue_supplements",
            tr("容缺逾期未补", "overdue supplements"),
            _scalar(
                session,
                accepted + " AND outcome = 'deficiency' AND supplement_deadline IS NOT NULL "
                "AND supplement_deadline <= :d2 AND (supplement_received_at IS NULL OR "
                "supplement_received_at >= :t2)",
                q,
            ),
        ),
        ("commitments", tr("告知承诺", "commitments"), _scalar(session, accepted + " AND commitment", q)),
        (
            "not_accepted",
            tr("不予受理", "non-acceptances"),
            _scalar(
                session,
                "SELECT COUNT(*) FROM document WHERE hall_id = :hall AND kind = 'non_acceptance_notice' "
                "AND issued_at >= :t1 AND issued_at < :t2",
                q,
            ),
        ),
        (
            "handoffs",
            tr("流转后台", "handoffs (review tasks)"),
            _scalar(
                session,
                "SELECT COUNT(*) FROM review_task WHERE hall_id = :hall AND created_at >= :t1 AND created_at < :t2",
                q,
            ),
        ),
        (
            "decided",
            tr("审批办结", "decided"),
            _scalar(
                session,
                'SELECT COUNT(*) FROM "case" WHERE hall_id = :hall AND decided_at >= :t1 AND decided_at < :t2',
                q,
            ),
        ),
        (
            "refused",
            tr("不予许可", "refused"),
            _scalar(
                session,
                'SELECT COUNT(*) FROM "case" WHERE hall_id = :hall AND decided_at >= :t1 AND decided_at < :t2 '
                "AND decision = 'refused'",
                q,
            ),
        ),
        ("completed", tr("已办结送达", "completed"), completed_n),
        ("overdue_yellow", tr("黄灯（临近期限）", "yellow light (near deadline)"), lights["yellow"]),
        ("overdue_red", tr("红灯（已超期）", "red light (overdue)"), lights["red"]),
        ("one_visit_cases", tr("只跑一次的办件", "completed with one visit"), one_n),
        (
            "one_visit_rate_pct",
            tr("最多跑一次率%", "one-visit rate %"),
            round(100.0 * one_n / completed_n, 1) if completed_n else None,
        ),
        (
            "mean_visits",
            tr("平均跑动次数", "mean visits per completed case"),
            round(float(one_visit[2]), 2) if one_visit[2] is not None else None,
        ),
        (
            "open_rectifications",
            tr("未完成整改", "open rectifications"),
            _scalar(
                session,
                "SELECT COUNT(*) FROM rectification WHERE hall_id = :hall AND opened_at < :t2 "
                "AND (closed_at IS NULL OR closed_at >= :t2)",
                q,
            ),
        ),
    ]
    cases = Table(
        "cases",
        tr("办件", "Cases"),
        [("figure", tr("指标", "figure")), ("label", tr("说明", "label")), ("value", tr("数值", "value"))],
        [{"figure": k, "label": label, "value": v} for k, label, v in figures],
    )
    reason_expr = (
        "payload->>'reason_kind'"
        if session.get_bind().dialect.name == "postgresql"
        else "json_extract(payload, '$.reason_kind')"
    )
    reason_labels = {
        "no_licence_needed": tr("依法不需要取得行政许可", "no licence needed"),
        "not_competent": tr("不属于本机关职权范围", "not this office's competence"),
    }
    reasons = session.execute(
        text(
            f"SELECT COALESCE({reason_expr}, 'other') AS k, COUNT(*) FROM document WHERE hall_id = :hall "
            "AND kind = 'non_acceptance_notice' AND issued_at >= :t1 AND issued_at < :t2 GROUP BY 1 ORDER BY 1"
        ),
        q,
    ).all()
    non_acceptance = Table(
        "non_acceptance",
        tr("不予受理（按原因）", "Non-acceptances by reason"),
        [
            ("reason_kind", tr("原因", "reason")),
            ("label", tr("说明", "label")),
            ("count", tr("件数", "count")),
        ],
        [{"reason_kind": k, "label": reason_labels.get(k, k), "count": int(n)} for k, n in reasons],
    )
    level_labels = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
    levels: dict[int, int] = dict(
        session.execute(
            text(
                "SELECT level, COUNT(*) FROM rating WHERE hall_id = :hall AND at >= :t1 AND at < :t2 GROUP BY level"
            ),
            q,
        ).all()
    )
    total = sum(int(n) for n in levels.values())
    ratings = Table(
        "ratings",
        tr("好差评（按等级）", "Ratings by level"),
        [
            ("level", tr("等级", "level")),
            ("label", tr("评价", "label")),
            ("count", tr("件数", "count")),
            ("pct", "%"),
        ],
        [
            {
                "level": lvl,
                "label": level_labels[lvl],
                "count": int(levels.get(lvl, 0)),
                "pct": round(100.0 * int(levels.get(lvl, 0)) / total, 1) if total else None,
            }
            for lvl in (5, 4, 3, 2, 1)
        ],
    )
    return [cases, non_acceptance, ratings]


# --- entry points --------------------------------------------------------------------------------


def _hall(session: Session, hall_id: int) -> tuple[str, str, str, dict[str, Any]]:
    row = session.execute(
        text("SELECT code, name, timezone, settings FROM hall WHERE id = :hall"), {"hall": hall_id}
    ).one_or_none()
    if row is None:
        raise ValueError(f"hall #{hall_id} does not exist")
    settings = row[3]
    if isinstance(settings, str):
        import json

        settings = json.loads(settings)
    return row[0], row[1], row[2], settings or {}


def check_period(date_from: date, date_to: date) -> None:
    if date_to < date_from:
        raise ValueError(
            tr(
                f"日期范围无效：结束日期 {date_to} 早于开始日期 {date_from}；请交换 --from 与 --to",
                f"invalid range: it ends ({date_to}) before it starts ({date_from}); swap --from and --to",
            )
        )


def month_period(day: date) -> tuple[date, date]:
    """The first and last day of ``day``'s calendar month."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


Progress = Callable[[str], None]


def period_report(
    engine: Engine,
    hall_id: int,
    date_from: date,
    date_to: date,
    *,
    kind: str = "range",
    progress: Progress | None = None,
) -> Report:
    """Queue and case figures for the hall's local service days ``date_from`` … ``date_to``."""
    check_period(date_from, date_to)
    step = progress or (lambda _label: None)
    with read_session(engine) as session:
        code, name, tz, settings = _hall(session, hall_id)
        p = _Period(hall_id, date_from, date_to, tz, settings)
        tables: list[Table] = []
        tables += _queue_tables(session, p, dims=("total", "line", "window", "clerk", "hour"))
        step("queue")
        tables += _case_tables(session, p)
        step("cases")
        from window_terminal.core.reports.indicators import indicator_tables

        headline, by_department = indicator_tables(session, p, {t.key: t for t in tables})
        tables = [headline, *tables, by_department]
        _set_totals({t.key: t for t in tables})
        step("indicators")
        now = clock.to_local(clock.db_now(session), tz).isoformat(timespec="seconds")
    return Report(kind, code, name, date_from, date_to, now, tables)


REPORT_STEPS = 3


def _set_totals(tables: dict[str, Table]) -> None:
    """The 合计 row of each table: the hall's own figures (``queue_total``, the headline), so a median
    or a rate in it is the hall's, not an average of the rows above."""
    hall = tables["queue_total"].rows[0] if tables["queue_total"].rows else {}
    head = {r["figure"]: r["value"] for r in tables["headline"].rows}
    label = tr("全厅合计", "whole hall")
    for key, first in (("by_line", "line"), ("by_window", "window"), ("by_clerk", "clerk")):
        if tables[key].rows:
            tables[key].total = {
                first: label,
                **hall,
                "ratings": head["ratings"],
                "good_rate_pct": head["good_rate_pct"],
            }
    hours = tables["by_hour"]
    if hours.rows:
        hours.total = {
            "hour": label,
            "arrivals": sum(r["arrivals"] for r in hours.rows),
            "served_in_hour": sum(r["served_in_hour"] for r in hours.rows),
            **{k: hall.get(k) for k in ("wait_mean_min", "wait_median_min", "wait_p90_min", "wait_max_min")},
        }
    ratings = tables["ratings"]
    count = sum(r["count"] for r in ratings.rows)
    ratings.total = {"label": tr("合计", "total"), "count": count, "pct": 100.0 if count else None}
    refusals = tables["non_acceptance"]
    refusals.total = {"label": tr("合计", "total"), "count": sum(r["count"] for r in refusals.rows)}


def clerk_report(engine: Engine, hall_id: int, date_from: date, date_to: date) -> Report:
    """Per clerk: queue figures, cases accepted and ratings received."""
    check_period(date_from, date_to)
    with read_session(engine) as session:
        code, name, tz, settings = _hall(session, hall_id)
        p = _Period(hall_id, date_from, date_to, tz, settings)
        (table,) = _queue_tables(session, p, dims=("clerk",))
        q = p.params()
        staff_codes = _names(session, "SELECT id, code FROM staff WHERE hall_id = :hall", hall_id)
        accepted = {
            staff_codes.get(k): int(n)
            for k, n in session.execute(
                text(
                    'SELECT staff_id, COUNT(*) FROM "case" WHERE hall_id = :hall AND accepted_on >= :d1 '
                    "AND accepted_on <= :d2 GROUP BY staff_id"
                ),
                q,
            ).all()
        }
        rated = {
            staff_codes.get(k): (int(n), float(avg) if avg is not None else None, int(bad or 0))
            for k, n, avg, bad in session.execute(
                text(
                    "SELECT staff_id, COUNT(*), AVG(level), SUM(CASE WHEN level <= 2 THEN 1 ELSE 0 END) FROM rating "
                    "WHERE hall_id = :hall AND at >= :t1 AND at < :t2 GROUP BY staff_id"
                ),
                q,
            ).all()
        }
        for row in table.rows:
            n, avg, bad = rated.get(row["clerk"], (0, None, 0))
            row["cases_accepted"] = accepted.get(row["clerk"], 0)
            row["ratings"] = n
            row["rating_mean"] = round(avg, 2) if avg is not None else None
            row["bad_ratings"] = bad
        table.columns += [
            ("cases_accepted", tr("受理办件", "cases accepted")),
            ("ratings", tr("评价数", "ratings")),
            ("rating_mean", tr("平均评分", "mean rating")),
            ("bad_ratings", tr("差评", "bad ratings")),
        ]
        now = clock.to_local(clock.db_now(session), tz).isoformat(timespec="seconds")
    return Report("clerks", code, name, date_from, date_to, now, [table])


def overdue_report(engine: Engine, hall_id: int, *, include_personal_data: bool = False) -> Report:
    """Cases and review tasks near (yellow) or past (red) their deadline, most urgent first; then the
    number of cases by light, each case once at its worst light (a case and its review task are two
    rows of the first table, one case of the second)."""
    from window_terminal.core.supervision import KIND_LABELS, count_cases, overdue

    with read_session(engine) as session:
        code, name, tz, _settings = _hall(session, hall_id)
        today = clock.local_day(clock.db_now(session), tz)
    items = [dict(i) for i in overdue(engine, hall_id, today) if i.get("light") in ("yellow", "red")]
    with read_session(engine) as session:
        nos = sorted({i["case_no"] for i in items if i.get("case_no")})
        people: dict[str, tuple[str, str]] = {}
        for chunk in (nos[i : i + 500] for i in range(0, len(nos), 500)):
            marks = ", ".join(f":n{j}" for j in range(len(chunk)))
            for case_no, applicant, phone in session.execute(
                text(
                    f'SELECT case_no, applicant_name, phone FROM "case" WHERE hall_id = :hall AND case_no IN ({marks})'
                ),
                {"hall": hall_id, **{f"n{j}": v for j, v in enumerate(chunk)}},
            ).all():
                people[case_no] = (applicant, phone)
    rows = []
    for i in sorted(items, key=lambda i: (i.get("remaining_working_days", 0), str(i.get("case_no")))):
        applicant, phone = people.get(i.get("case_no", ""), ("", ""))
        if not include_personal_data:
            applicant, phone = mask_name(applicant), mask_phone(phone)
        deadline = i.get("deadline")
        rows.append(
            {
                "light": i.get("light"),
                "kind": i.get("kind", "case"),
                "case_no": i.get("case_no"),
                "item": i.get("item", ""),
                "department": i.get("department", ""),
                "deadline": deadline.isoformat() if isinstance(deadline, date) else deadline,
                "remaining_working_days": i.get("remaining_working_days"),
                "provisional": bool(i.get("provisional", False)),
                "applicant": applicant,
                "phone": phone,
            }
        )
    cols = [
        ("light", tr("灯", "light")),
        ("kind", tr("类别", "kind")),
        ("case_no", tr("办件编号", "case no")),
        ("item", tr("事项", "item")),
        ("department", tr("部门", "department")),
        ("deadline", tr("期限", "deadline")),
        ("remaining_working_days", tr("剩余工作日", "working days left")),
        ("provisional", tr("暂定", "provisional")),
        ("applicant", tr("申请人", "applicant")),
        ("phone", tr("电话", "phone")),
    ]
    table = Table(
        "overdue",
        tr("临期与超期（电子监察）", "Near and past deadline (supervision)"),
        cols,
        rows,
        # the terminal shows words; CSV, JSON and XLSX keep the codes (filters, pivot tables)
        labels={
            "light": {"yellow": ("黄灯", "yellow"), "red": ("红灯", "red")},
            "kind": KIND_LABELS,
        },
        styles={"light": {"yellow": "bold yellow", "red": "bold red"}},
    )
    by_case = count_cases(items)
    cases = Table(
        "overdue_cases",
        tr("按办件计（取最严重的灯）", "By case (its worst light)"),
        [("light", tr("灯", "light")), ("cases", tr("办件数（每件计一次）", "cases (each once)"))],
        [{"light": light, "cases": by_case[light]} for light in ("red", "yellow")],
        labels={"light": {"yellow": ("黄灯", "yellow"), "red": ("红灯", "red")}},
        styles={"light": {"yellow": "bold yellow", "red": "bold red"}},
        total={"light": tr("合计", "total"), "cases": by_case["red"] + by_case["yellow"]},
    )
    return Report(
        "overdue", code, name, today, today, today.isoformat(), [table, cases], include_personal_data
    )
