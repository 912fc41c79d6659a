"""The headline indicators a hall is judged by — the one home of their definitions.

Each figure is defined here once and shown by every report (daily, range, month; table, CSV, JSON,
XLSX, PDF). The definitions (see also docs/reports.md):

**好差评** (GB/T 39734-2020 《政务服务"一次一评""一事一评"工作规范》, appendix B, public evaluation
figures; levels per GB/T 39735-2020): a *good* rating is 非常满意, 满意 or 基本满意 (level ≥ 3), a *bad*
rating 不满意 or 非常不满意 (level ≤ 2).

- ``good_rate_pct`` 好评率 = good ratings / all ratings given in the period;
- ``bad_ratings`` 差评数;
- ``rectified_pct`` 差评整改率 = bad ratings of the period whose rectification is closed by the end of
  the period / bad ratings of the period;
- ``rectified_on_time_pct`` 整改及时率 = those closed on or before their due date / those closed;
- ``rating_coverage_pct`` 评价覆盖率 = ratings / tickets served in the period;
- a callback rate (回访率) needs callback records, which the hall does not keep yet: not reported.

**最多跑一次** ``one_visit_rate_pct``: cases completed in the period with exactly one visit (pickup visits
count) / cases completed in the period.

**Waits vs target**: ``within_target_pct`` = served tickets that waited at most the hall's
``wait_target_minutes`` / served tickets; ``wait_mean_min`` beside ``wait_target_min``.

**Promised date** (承诺时限): cases decided in the period, by the local day of the decision against the
promised date recomputed by :mod:`core.deadlines` (suspensions and extensions included):
``promised_ahead`` (before it), ``promised_on`` (on it), ``promised_past`` (after it);
``promised_kept_pct`` = (ahead + on) / decided.

**Art. 32** (行政许可法第三十二条), each counted on the day it happens, so a past day's report never
changes: ``notice_breaches`` = ``case.notice_breach`` events in the period (a second, different notice by
a manager override, a notice through a new case of the same applicant and item, a notice after the
limit); ``deemed_acceptances`` = cases whose notice limit ended the day before a day of the period with no
outcome document (notice, acceptance, non-acceptance) issued by then — the application counts as
accepted from receipt.

Per department (the department that issues the case's documents: the item's ``issuer``, else its first
department — ``core.document_store.issuing_department``), and good rate per line, window and clerk.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from window_terminal.core.queueing import threshold
from window_terminal.db import clock
from window_terminal.i18n import tr

if TYPE_CHECKING:
    from window_terminal.core.reports.queries import Table, _Period


def pct(part: int, whole: int) -> float | None:
    """A share in percent, one decimal; ``None`` (shown as —) when there is nothing to divide."""
    return round(100.0 * part / whole, 1) if whole else None


#: (key, (zh, en), unit) — the order of the headline table; ``unit``: count | pct | min
HEADLINE: list[tuple[str, tuple[str, str], str]] = [
    ("ratings", ("评价数", "ratings"), "count"),
    ("good_rate_pct", ("好评率", "good-rating rate"), "pct"),
    ("bad_ratings", ("差评数", "bad ratings"), "count"),
    ("rectified_pct", ("差评整改率", "bad ratings rectified"), "pct"),
    ("rectified_on_time_pct", ("整改及时率", "rectified on time"), "pct"),
    ("rating_coverage_pct", ("评价覆盖率（评价数/办结数）", "rating coverage (ratings/served)"), "pct"),
    ("one_visit_rate_pct", ("最多跑一次率", "one-visit rate"), "pct"),
    ("within_target_pct", ("等候达标率", "waits within target"), "pct"),
    ("wait_mean_min", ("平均等候（分钟）", "mean wait (min)"), "min"),
    ("wait_target_min", ("等候目标（分钟）", "wait target (min)"), "min"),
    ("decided", ("审批办结", "decided"), "count"),
    ("promised_ahead", ("提前办结", "decided before the promised date"), "count"),
    ("promised_on", ("按期办结（当日）", "decided on the promised date"), "count"),
    ("promised_past", ("超期办结", "decided after the promised date"), "count"),
    ("promised_kept_pct", ("承诺时限内办结率", "decided within the promised date"), "pct"),
    ("notice_breaches", ("违反一次性告知", "one-time notice breaches"), "count"),
    ("deemed_acceptances", ("视为受理（第三十二条）", "deemed acceptances (Art. 32)"), "count"),
]

UNITS = {key: unit for key, _label, unit in HEADLINE}


@dataclass
class _Tally:
    accepted: int = 0
    decided: int = 0
    ahead: int = 0
    on: int = 0
    past: int = 0
    breaches: int = 0
    deemed: int = 0
    completed: int = 0
    one_visit: int = 0
    ratings: int = 0
    good: int = 0
    extra: dict[str, int] = field(default_factory=dict)


def _rating_counts(session: Session, q: dict[str, Any], group: str) -> dict[Any, tuple[int, int]]:
    """(ratings, good ratings) per ``group`` expression over rating ``r`` joined to its ticket ``t``."""
    rows = session.execute(
        text(
            f"SELECT {group} AS g, COUNT(*), SUM(CASE WHEN r.level >= 3 THEN 1 ELSE 0 END) "
            "FROM rating r LEFT JOIN ticket t ON t.id = r.ticket_id "
            "WHERE r.hall_id = :hall AND r.at >= :t1 AND r.at < :t2 GROUP BY 1"
        ),
        q,
    ).all()
    return {g: (int(n), int(good or 0)) for g, n, good in rows}


def indicator_tables(session: Session, p: _Period, queue: dict[str, Table]) -> list[Table]:
    """The headline table and the per-department table; adds the good rate to the line, window and
    clerk tables in ``queue`` (by key)."""
    from window_terminal.core.deadlines import HallDeadlines, suspensions_by_case
    from window_terminal.core.document_store import issuing_departments
    from window_terminal.core.reports.queries import Table
    from window_terminal.db.models import Case, ServiceItem

    q = p.params()
    deadlines = HallDeadlines.load(session, p.hall_id, today=p.d2)
    # a case counts under the department in whose name its documents go out (the item's issuer)
    dept_of_item = issuing_departments(session, p.hall_id)
    departments = {
        int(k): (code, name)
        for k, code, name in session.execute(
            text("SELECT id, code, name FROM department WHERE hall_id = :hall ORDER BY code"), q
        ).all()
    }
    tally: dict[int | None, _Tally] = defaultdict(_Tally)
    hall = _Tally()

    def add(dept: int | None, attr: str, n: int = 1) -> None:
        setattr(tally[dept], attr, getattr(tally[dept], attr) + n)
        setattr(hall, attr, getattr(hall, attr) + n)

    for item_id, n in session.execute(
        text(
            'SELECT item_id, COUNT(*) FROM "case" WHERE hall_id = :hall AND accepted_on >= :d1 '
            "AND accepted_on <= :d2 GROUP BY item_id"
        ),
        q,
    ).all():
        add(dept_of_item.get(int(item_id)), "accepted", int(n))

    # promised-date performance: decided cases, recomputed promised dates
    decided = session.execute(
        select(Case, ServiceItem)
        .join(ServiceItem, ServiceItem.id == Case.item_id)
        .where(Case.hall_id == p.hall_id, Case.decided_at >= q["t1"], Case.decided_at < q["t2"])
    ).all()
    suspended = suspensions_by_case(session, [c.id for c, _ in decided if c.id is not None])
    for case, item in decided:
        dept = dept_of_item.get(item.id or 0)
        add(dept, "decided")
        assert case.decided_at is not None
        promised = deadlines.of_case(case, item, suspended.get(case.id or 0, ())).promised.date
        decided_on = clock.local_day(case.decided_at, p.tz)
        add(dept, "ahead" if decided_on < promised else "on" if decided_on == promised else "past")

    # Art. 32, each counted on the day it happens so a past report never changes: a breach (a
    # second or late notice) on the day of its event; a deemed acceptance on the first day after the
    # notice limit, when no outcome document had been issued by the limit's last day.
    for case_item, n in breaches_by_item(session, q).items():
        add(dept_of_item.get(case_item), "breaches", n)
    for item_id in deemed_items(session, p, deadlines):
        add(dept_of_item.get(item_id), "deemed")

    # 最多跑一次
    for item_id, visits in session.execute(
        text(
            'SELECT c.item_id, (SELECT COUNT(*) FROM visit v WHERE v.case_id = c.id) FROM "case" c '
            "WHERE c.hall_id = :hall AND c.completed_at >= :t1 AND c.completed_at < :t2"
        ),
        q,
    ).all():
        dept = dept_of_item.get(int(item_id))
        add(dept, "completed")
        if int(visits) == 1:
            add(dept, "one_visit")

    # 好差评 by department (the case's item), hall totals, bad ratings and their rectification
    for item_id, n, good in session.execute(
        text(
            "SELECT c.item_id, COUNT(*), SUM(CASE WHEN r.level >= 3 THEN 1 ELSE 0 END) FROM rating r "
            'JOIN "case" c ON c.id = r.case_id WHERE r.hall_id = :hall AND r.at >= :t1 AND r.at < :t2 '
            "GROUP BY c.item_id"
        ),
        q,
    ).all():
        dept = dept_of_item.get(int(item_id))
        tally[dept].ratings += int(n)
        tally[dept].good += int(good or 0)
    total_ratings, total_good = session.execute(
        text(
            "SELECT COUNT(*), SUM(CASE WHEN level >= 3 THEN 1 ELSE 0 END) FROM rating "
            "WHERE hall_id = :hall AND at >= :t1 AND at < :t2"
        ),
        q,
    ).one()
    hall.ratings, hall.good = int(total_ratings or 0), int(total_good or 0)
    bad = rectified = on_time = 0
    for closed_at, due in session.execute(
        text(
            "SELECT x.closed_at, x.due_date FROM rating r LEFT JOIN rectification x ON x.rating_id = r.id "
            "WHERE r.hall_id = :hall AND r.at >= :t1 AND r.at < :t2 AND r.level <= 2"
        ),
        q,
    ).all():
        bad += 1
        closed = _instant(closed_at)
        if closed is not None and closed < q["t2"]:
            rectified += 1
            if due is not None and clock.local_day(closed, p.tz) <= _day(due):
                on_time += 1

    total = queue.get("queue_total")
    total_row = total.rows[0] if total is not None and total.rows else {}
    served = int(total_row.get("served") or 0)
    target = int(threshold(p.settings, "wait_target_minutes"))
    values: dict[str, Any] = {
        "ratings": hall.ratings,
        "good_rate_pct": pct(hall.good, hall.ratings),
        "bad_ratings": bad,
        "rectified_pct": pct(rectified, bad),
        "rectified_on_time_pct": pct(on_time, rectified),
        "rating_coverage_pct": pct(hall.ratings, served),
        "one_visit_rate_pct": pct(hall.one_visit, hall.completed),
        "within_target_pct": total_row.get("within_target_pct"),
        "wait_mean_min": total_row.get("wait_mean_min"),
        "wait_target_min": target,
        "decided": hall.decided,
        "promised_ahead": hall.ahead,
        "promised_on": hall.on,
        "promised_past": hall.past,
        "promised_kept_pct": pct(hall.ahead + hall.on, hall.decided),
        "notice_breaches": hall.breaches,
        "deemed_acceptances": hall.deemed,
    }
    headline = Table(
        "headline",
        tr("主要指标", "Headline indicators"),
        [("label", tr("指标", "indicator")), ("value", tr("数值", "value"))],
        [{"figure": k, "label": tr(*label), "value": values[k], "unit": unit} for k, label, unit in HEADLINE],
    )
    dept_rows: list[dict[str, Any]] = []
    for dept_id in [d for d in departments if d in tally] + ([None] if None in tally else []):
        t = tally[dept_id]
        code, name = (
            departments.get(dept_id, ("—", tr("未指定部门", "no department")))
            if dept_id
            else (
                "—",
                tr("未指定部门", "no department"),
            )
        )
        dept_rows.append(
            {
                "department": code,
                "department_name": name,
                "accepted": t.accepted,
                "decided": t.decided,
                "promised_ahead": t.ahead,
                "promised_on": t.on,
                "promised_past": t.past,
                "promised_kept_pct": pct(t.ahead + t.on, t.decided),
                "notice_breaches": t.breaches,
                "deemed_acceptances": t.deemed,
                "one_visit_rate_pct": pct(t.one_visit, t.completed),
                "ratings": t.ratings,
                "good_rate_pct": pct(t.good, t.ratings),
            }
        )
    by_department = Table(
        "by_department",
        tr("按部门", "By department"),
        [
            ("department", tr("部门代码", "department")),
            ("department_name", tr("部门", "name")),
            ("accepted", tr("受理", "accepted")),
            ("decided", tr("审批办结", "decided")),
            ("promised_ahead", tr("提前", "ahead")),
            ("promised_on", tr("按期", "on the day")),
            ("promised_past", tr("超期", "late")),
            ("promised_kept_pct", tr("承诺时限内%", "kept %")),
            ("notice_breaches", tr("违反一次性告知", "notice breaches")),
            ("deemed_acceptances", tr("视为受理", "deemed accepted")),
            ("one_visit_rate_pct", tr("最多跑一次%", "one visit %")),
            ("ratings", tr("评价数", "ratings")),
            ("good_rate_pct", tr("好评率%", "good %")),
        ],
        dept_rows,
    )
    if dept_rows:
        ratings = sum(r["ratings"] for r in dept_rows)
        by_department.total = {
            "department": tr("合计", "total"),
            **{
                k: sum(r[k] for r in dept_rows)
                for k in ("accepted", "decided", "promised_ahead", "promised_on")
            },
            **{
                k: sum(r[k] for r in dept_rows)
                for k in ("promised_past", "notice_breaches", "deemed_acceptances")
            },
            "promised_kept_pct": values["promised_kept_pct"],
            "one_visit_rate_pct": values["one_visit_rate_pct"],
            "ratings": ratings,
            "good_rate_pct": pct(sum(t.good for t in tally.values()), ratings),
        }
    _add_good_rates(session, q, queue)
    return [headline, by_department]


OUTCOME_DOCUMENTS = (
    "one_time_notice",
    "acceptance_notice",
    "deficiency_acceptance_notice",
    "non_acceptance_notice",
)
#: how far before the period a case may have been received and still fall deemed inside it (five
#: working days across the longest holiday, with room to spare)
DEEMED_LOOKBACK_DAYS = 40


def breaches_by_item(session: Session, q: dict[str, Any]) -> dict[int, int]:
    """Art. 32 breaches (``case.notice_breach`` events) in the period ``q[t1, t2)``, per service item."""
    from window_terminal.db.models import Case, Event

    found: dict[int, int] = defaultdict(int)
    payloads = (
        session.execute(
            select(Event.payload).where(
                Event.hall_id == q["hall"],
                Event.kind == "case.notice_breach",
                Event.created_at >= q["t1"],
                Event.created_at < q["t2"],
            )
        )
        .scalars()
        .all()
    )
    numbers = [str((payload or {}).get("case_no", "")) for payload in payloads]
    items = dict(
        session.execute(
            select(Case.case_no, Case.item_id).where(
                Case.hall_id == q["hall"], Case.case_no.in_(numbers or [""])
            )
        ).all()
    )
    for number in numbers:
        if number in items:
            found[int(items[number])] += 1
    return found


def deemed_items(session: Session, p: _Period, deadlines: Any) -> list[int]:
    """The item of every case deemed accepted (Art. 32) on a day of the period: the day after its
    notice limit, with no outcome document issued by the limit's last day, up to the hall's today."""
    from window_terminal.core.deadlines import hall_today

    today = hall_today(session, p.hall_id)
    kinds = ", ".join(f"'{k}'" for k in OUTCOME_DOCUMENTS)
    first_outcome = (
        f"(SELECT MIN(d.issued_at) FROM document d WHERE d.case_id = c.id AND d.kind IN ({kinds}))"
    )
    out = []
    for item_id, received_on, outcome_at in session.execute(
        text(
            f'SELECT c.item_id, c.received_on, {first_outcome} FROM "case" c '
            "WHERE c.hall_id = :hall AND c.received_on >= :d0 AND c.received_on <= :d2"
        ),
        {**p.params(), "d0": p.d1 - timedelta(days=DEEMED_LOOKBACK_DAYS)},
    ).all():
        limit = deadlines.notice(_day(received_on)).date
        deemed_on = limit + timedelta(days=1)
        if not (p.d1 <= deemed_on <= p.d2) or deemed_on > today:
            continue
        outcome = _instant(outcome_at)
        if outcome is None or clock.local_day(outcome, p.tz) > limit:
            out.append(int(item_id))
    return out


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _instant(value: Any) -> datetime | None:
    """A timestamp column as naive UTC (SQLite hands back text)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _add_good_rates(session: Session, q: dict[str, Any], queue: dict[str, Table]) -> None:
    groups = {
        "by_line": ("t.line_id", "line"),
        "by_window": ("r.window_id", "window"),
        "by_clerk": ("r.staff_id", "clerk"),
    }
    lookups = {
        "by_line": "SELECT id, code FROM line WHERE hall_id = :hall",
        "by_window": 'SELECT id, number FROM "window" WHERE hall_id = :hall',
        "by_clerk": "SELECT id, code FROM staff WHERE hall_id = :hall",
    }
    for key, (expr, column) in groups.items():
        table = queue[key]
        names: dict[Any, Any] = dict(session.execute(text(lookups[key]), q).all())
        counts = {names[g]: v for g, v in _rating_counts(session, q, expr).items() if g is not None}
        for row in table.rows:
            n, good = counts.get(row[column], (0, 0))
            row["ratings"] = n
            row["good_rate_pct"] = pct(good, n)
        table.columns += [("ratings", tr("评价数", "ratings")), ("good_rate_pct", tr("好评率%", "good %"))]
