"""``wt demo``: the shipped hall, staff at the windows, a live queue and some history.

History (``--days N`` working days before today) is simulated in memory and written one day per
transaction with set-based inserts — fast enough for a year; today's live queue goes through the real
queue engine (``queueing``), so the screens have something to call.
"""

from __future__ import annotations

import heapq
import math
import random
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select

from window_terminal.core import queueing
from window_terminal.core.deadlines import HallDeadlines
from window_terminal.core.document_store import KIND_CODES, TITLES
from window_terminal.core.hall import load_hall
from window_terminal.core.idcheck import check_digit
from window_terminal.core.intake import new_query_code
from window_terminal.core.privacy import masked_person
from window_terminal.core.workdays import hall_calendar
from window_terminal.db import clock
from window_terminal.db.engine import read_session
from window_terminal.db.models import (
    Case,
    Document,
    Hall,
    ItemDepartment,
    Line,
    Material,
    Rating,
    Rectification,
    ReviewTask,
    ServiceItem,
    Staff,
    Ticket,
    Visit,
    Window,
    WindowLine,
)
from window_terminal.db.unit import Unit, run_command

OPEN_HOUR, CLOSE_HOUR = 9, 17


def arrival_rate(hour: float) -> float:
    """Arrivals per minute across the day: peaks mid-morning (10:00) and mid-afternoon (15:00)."""
    return 0.25 + 1.1 * math.exp(-((hour - 10.0) ** 2) / 1.2) + 0.8 * math.exp(-((hour - 15.0) ** 2) / 1.0)


def build_demo(
    engine: Engine, path: Path, *, days: int = 1, seed: int = 7, if_empty: bool = False
) -> dict[str, Any]:
    with read_session(engine) as s:
        existing = s.execute(select(func.count()).select_from(Hall)).scalar_one()
    if if_empty and existing:
        return {"skipped": "the database already has a hall"}
    loaded = load_hall(engine, path)
    hall_id = loaded["hall_id"]
    rng = random.Random(seed)
    with read_session(engine) as s:
        hall = s.get(Hall, hall_id)
        assert hall is not None
        tz = hall.timezone
        real_now = clock.db_now(s) - clock.get_offset()
        today = clock.local_day(real_now, tz)
        already = s.execute(
            select(func.count()).select_from(Ticket).where(Ticket.hall_id == hall_id)
        ).scalar_one()
    generated = 0
    if not already:
        history: list[date] = []
        day = today
        while len(history) < days:
            day -= timedelta(days=1)
            if day.weekday() < 5:
                history.insert(0, day)
        for day in history:
            generated += simulate_day(engine, hall_id, day, tz, real_now, rng)
        clock.set_offset(timedelta(0))
        generated += _live_queue(engine, hall_id, rng)
    return {**loaded, "history_tickets": generated}


def _staffing(engine: Engine, hall_id: int) -> list[tuple[int, str]]:
    with read_session(engine) as s:
        windows = (
            s.execute(
                select(Window.number).where(Window.hall_id == hall_id, Window.active).order_by(Window.number)
            )
            .scalars()
            .all()
        )
        clerks = (
            s.execute(
                select(Staff.code)
                .where(Staff.hall_id == hall_id, Staff.role == "clerk", Staff.active)
                .order_by(Staff.code)
            )
            .scalars()
            .all()
        )
    return list(zip(windows, clerks, strict=False))


def _line_codes(engine: Engine, hall_id: int) -> list[tuple[str, float]]:
    with read_session(engine) as s:
        rows = s.execute(
            select(Line.code, Line.avg_service_minutes)
            .join(WindowLine, WindowLine.line_id == Line.id)
            .where(Line.hall_id == hall_id, Line.active)
            .distinct()
        ).all()
    return sorted((code, float(avg)) for code, avg in rows)


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
# Chengdu districts (锦江, 青羊, 金牛, 武侯, 成华) and two nearby cities, for made-up ID numbers
DEMO_REGIONS = ("510104", "510105", "510106", "510107", "510108", "510603", "511102")
GIVEN = ("伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "杰", "涛", "明", "超", "秀英", "建华", "晓东")
RATING_LEVELS = (5, 4, 3, 2, 1)
RATING_WEIGHTS = (62, 25, 8, 3, 2)


def _catalogue(engine: Engine, hall_id: int) -> dict[str, Any]:
    """Lines, windows with their lines and clerks, items by line, departments by item — one read."""
    with read_session(engine) as s:
        lines = {
            r.id: r
            for r in s.execute(
                select(Line.id, Line.code, Line.prefix, Line.avg_service_minutes).where(
                    Line.hall_id == hall_id, Line.active
                )
            ).all()
        }
        serves: dict[int, list[int]] = {}
        for window_id, line_id in s.execute(
            select(WindowLine.window_id, WindowLine.line_id).where(WindowLine.hall_id == hall_id)
        ).all():
            if line_id in lines:
                serves.setdefault(window_id, []).append(line_id)
        windows = s.execute(
            select(Window.id, Window.number)
            .where(Window.hall_id == hall_id, Window.active)
            .order_by(Window.number)
        ).all()
        clerks = (
            s.execute(
                select(Staff.id)
                .where(Staff.hall_id == hall_id, Staff.role == "clerk", Staff.active)
                .order_by(Staff.code)
            )
            .scalars()
            .all()
        )
        items: dict[int, list[Any]] = {}
        for item in s.execute(
            select(
                ServiceItem.id,
                ServiceItem.line_id,
                ServiceItem.promised_days,
                ServiceItem.statutory_days,
                ServiceItem.deficiency_allowed,
                ServiceItem.commitment_allowed,
            ).where(ServiceItem.hall_id == hall_id, ServiceItem.active)
        ).all():
            items.setdefault(item.line_id, []).append(item)
        departments: dict[int, list[int]] = {}
        for item_id, dept_id in s.execute(
            select(ItemDepartment.item_id, ItemDepartment.department_id).where(
                ItemDepartment.hall_id == hall_id
            )
        ).all():
            departments.setdefault(item_id, []).append(dept_id)
        calendar = hall_calendar(s, hall_id)
        deadlines = HallDeadlines.load(s, hall_id)
    staffed = [(w.id, clerk) for w, clerk in zip(windows, clerks, strict=False) if serves.get(w.id)]
    return {
        "lines": lines,
        "serves": serves,
        "staffed": staffed,
        "items": items,
        "departments": departments,
        "calendar": calendar,
        "deadlines": deadlines,
    }


def simulate_day(
    engine: Engine, hall_id: int, day: date, tz: str, real_now: datetime, rng: random.Random
) -> int:
    """One working day simulated in memory and written in one transaction (set-based inserts).

    Arrivals peak mid-morning and mid-afternoon; each window serves its lines first come, first served,
    with the line's own service time; some tickets are no-shows, cancelled or were transferred from
    the wrong line; about a third of the served tickets lodge a case (accepted, deficiency, commitment,
    one-time notice, non-acceptance), which is handed off, decided and completed as the days pass;
    ratings follow visits, and bad ratings open rectifications.
    """
    cat = _catalogue(engine, hall_id)
    lines, serves, staffed = cat["lines"], cat["serves"], cat["staffed"]
    start = clock.local_midnight_utc(day, tz) + timedelta(hours=OPEN_HOUR)
    end = start + timedelta(hours=CLOSE_HOUR - OPEN_HOUR)
    line_ids = sorted(lines)
    weights = [3 if lines[i].code in ("BIZ", "SOC", "GEN") else 1 for i in line_ids]
    waiting: dict[int, list[tuple[datetime, int]]] = {i: [] for i in line_ids}
    tickets: list[dict[str, Any]] = []
    seqs: dict[int, int] = {}
    heap: list[tuple[datetime, int, str, Any]] = []
    counter = 0
    moment = start
    while True:
        hour = OPEN_HOUR + (moment - start).total_seconds() / 3600
        moment += timedelta(minutes=rng.expovariate(arrival_rate(hour)))
        if moment >= end:
            break
        line_id = rng.choices(line_ids, weights)[0]
        seqs[line_id] = seqs.get(line_id, 0) + 1
        line = lines[line_id]
        wrong = rng.random() < 0.03
        original = rng.choice(line_ids) if wrong else line_id
        priority = rng.random() < 0.05
        tickets.append(
            {
                "hall_id": hall_id,
                "service_day": day,
                "line_id": line_id,
                "original_line_id": original,
                "line_code_at_issue": line.code,
                "seq": seqs[line_id],
                "number": f"{line.prefix}{seqs[line_id]:03d}",
                "kind": "priority" if priority else "normal",
                "priority_reason": "老年人" if priority else "",
                "eligible_at": moment,
                "queue_key": queueing.queue_key_at(moment),
                "status": "waiting",
                "issued_at": moment,
                "transfer_count": 1 if wrong and original != line_id else 0,
                "recall_count": 0,
                "note": "",
                "service_item_id": rng.choice(cat["items"][line_id]).id
                if cat["items"].get(line_id)
                else None,
            }
        )
        heapq.heappush(waiting[line_id], (moment, len(tickets) - 1))
    for window_id, clerk in staffed:
        counter += 1
        heapq.heappush(
            heap, (start + timedelta(seconds=rng.uniform(0, 120)), counter, "free", (window_id, clerk))
        )
    # Windows free up; each takes the earliest ticket already issued in its lines.
    while heap:
        moment, _, _, (window_id, clerk) = heapq.heappop(heap)
        if moment > end + timedelta(minutes=45):
            continue
        best = None
        for line_id in serves[window_id]:
            queue = waiting[line_id]
            if queue and queue[0][0] <= moment and (best is None or queue[0][0] < best[0]):
                best = (queue[0][0], line_id)
        counter += 1
        if best is None:
            heapq.heappush(
                heap, (moment + timedelta(minutes=rng.uniform(0.5, 2)), counter, "free", (window_id, clerk))
            )
            continue
        _, index = heapq.heappop(waiting[best[1]])
        t = tickets[index]
        t.update(called_at=moment, first_called_at=moment, window_id=window_id, staff_id=clerk)
        if rng.random() < 0.05:
            t.update(status="no_show", recall_count=2)
            heapq.heappush(heap, (moment + timedelta(minutes=1.5), counter, "free", (window_id, clerk)))
            continue
        avg = float(lines[best[1]].avg_service_minutes)
        service = max(1.0, rng.gauss(avg, avg / 3))
        begin = moment + timedelta(seconds=rng.uniform(15, 60))
        t.update(status="done", started_at=begin, finished_at=begin + timedelta(minutes=service))
        heapq.heappush(
            heap,
            (t["finished_at"] + timedelta(seconds=rng.uniform(10, 60)), counter, "free", (window_id, clerk)),
        )
    for line_queue in waiting.values():  # still waiting at closing time: they gave up
        for _, index in line_queue:
            tickets[index]["status"] = "cancelled"
            tickets[index]["note"] = "闭厅未办理"
    keys = set().union(*(t.keys() for t in tickets)) if tickets else set()
    rows = [{k: t.get(k) for k in keys} for t in tickets]

    def action(unit: Unit) -> int:
        if rows:
            unit.session.execute(insert(Ticket), rows)
        ids = dict(
            unit.session.execute(
                select(Ticket.number, Ticket.id).where(Ticket.hall_id == hall_id, Ticket.service_day == day)
            ).all()
        )
        made = _cases_for_day(unit, hall_id, day, tz, real_now, rng, tickets, ids, cat)
        unit.emit("demo.history_generated", {"day": day.isoformat(), "tickets": len(rows), **made})
        return len(rows)

    return run_command(engine, hall_id, "demo.history", action)


def _person(rng: random.Random) -> tuple[str, str, str]:
    """A made-up applicant: name, mobile number, and a resident ID number that passes GB 11643."""
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    phone = "1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9))
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
    first17 = f"{rng.choice(DEMO_REGIONS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return name, phone, first17 + check_digit(first17)


def _document_details(session: Any, hall_id: int) -> dict[str, Any]:
    """What a document snapshot names: the hall, items with their materials, windows and clerks."""
    hall = session.get(Hall, hall_id)
    items = {
        r.id: dict(r._mapping)
        for r in session.execute(
            select(
                ServiceItem.id,
                ServiceItem.code,
                ServiceItem.name,
                ServiceItem.statutory_days,
                ServiceItem.promised_days,
            ).where(ServiceItem.hall_id == hall_id)
        )
    }
    materials: dict[int, list[dict[str, Any]]] = {}
    for r in session.execute(
        select(Material.item_id, Material.name, Material.form, Material.originals, Material.copies)
        .where(Material.hall_id == hall_id, Material.active)
        .order_by(Material.item_id, Material.position)
    ):
        materials.setdefault(r.item_id, []).append(dict(r._mapping))
    settings = hall.settings or {}
    return {
        "hall": hall.name,
        "office": hall.office,
        "items": items,
        "materials": materials,
        "windows": dict(
            session.execute(select(Window.id, Window.number).where(Window.hall_id == hall_id)).all()
        ),
        "staff": dict(session.execute(select(Staff.id, Staff.name).where(Staff.hall_id == hall_id)).all()),
        "appeal": {
            "reconsideration_days": 60,
            "reconsideration_body": settings.get("reconsideration_body", ""),
            "lawsuit_months": 6,
            "court": settings.get("court", ""),
        },
    }


def _cases_for_day(
    unit: Unit,
    hall_id: int,
    day: date,
    tz: str,
    real_now: datetime,
    rng: random.Random,
    tickets: list[dict[str, Any]],
    ids: dict[str, int],
    cat: dict[str, Any],
) -> dict[str, int]:
    """Cases, documents, visits, review tasks, ratings and rectifications for the day's served tickets."""
    session = unit.session
    calendar = cat["calendar"]
    deadlines = cat["deadlines"]
    lines = cat["lines"]
    items_by_id = {i.id: i for items in cat["items"].values() for i in items}
    counts = {"cases": 0, "ratings": 0}
    doc_seq = 0

    details = _document_details(session, hall_id)

    def document(kind: str, case: Case, at: datetime, payload: dict[str, Any]) -> None:
        """A complete snapshot, as the counter would have issued it, so demo documents print."""
        nonlocal doc_seq
        doc_seq += 1
        number = f"DEMO-{KIND_CODES[kind]}-{day:%Y%m%d}-{doc_seq:04d}"
        item = details["items"][payload.pop("item_id", case.item_id)]
        materials = details["materials"].get(item["id"], [])
        snapshot: dict[str, Any] = {
            "demo": True,
            "kind": kind,
            "number": number,
            "title": TITLES[kind],
            "issued_at": clock.to_local(at, tz).isoformat(timespec="seconds"),
            "hall": details["hall"],
            "office": details["office"],
            "case_no": case.case_no,
            "query_code": case.query_code,
            "applicant": masked_person(case.applicant_name, "resident_id", case.id_number, case.phone),
            "agent": None,
            "item": {k: item[k] for k in ("code", "name", "statutory_days", "promised_days")},
            "dates": {
                "received": day.isoformat(),
                **({"accepted": day.isoformat()} if case.accepted_on else {}),
                **({"promised": case.promised_date.isoformat()} if case.promised_date else {}),
                **({"statutory": case.statutory_date.isoformat()} if case.statutory_date else {}),
            },
            "window": details["windows"].get(case.window_id),
            "clerk": details["staff"].get(case.staff_id, ""),
        }
        if kind == "one_time_notice":
            snapshot["materials_missing"] = [
                {"name": m["name"], "form": m["form"], "reason": "未提交"} for m in materials[-2:]
            ]
            snapshot["materials_received"] = [
                {"name": m["name"], "originals": m["originals"], "copies": m["copies"]}
                for m in materials[:-2]
            ]
        elif kind == "non_acceptance_notice":
            snapshot["appeal"] = details["appeal"]
            snapshot["competent_office"] = case.competent_office
        else:
            snapshot["materials_received"] = [
                {"name": m["name"], "originals": m["originals"], "copies": m["copies"]} for m in materials
            ]
        snapshot.update(payload)
        session.add(
            Document(
                hall_id=hall_id,
                number=number,
                kind=kind,
                case_id=case.id,
                payload=snapshot,
                issued_at=at,
                staff_id=case.staff_id,
            )
        )

    n = 0
    for t in tickets:
        if t["status"] != "done":
            continue
        ticket_id = ids.get(t["number"])
        if rng.random() < 0.45:
            counts["ratings"] += 1
            level = rng.choices(RATING_LEVELS, RATING_WEIGHTS)[0]
            rating = Rating(
                hall_id=hall_id,
                level=level,
                comment="" if level > 2 else rng.choice(("等候时间太长", "材料要求没讲清楚", "态度一般")),
                ticket_id=ticket_id,
                window_id=t["window_id"],
                staff_id=t["staff_id"],
                at=t["finished_at"] + timedelta(seconds=30),
            )
            session.add(rating)
            if level <= 2:
                session.flush()
                due = deadlines.rectification(day).date
                closed = clock.local_midnight_utc(day + timedelta(days=7), tz)
                session.add(
                    Rectification(
                        hall_id=hall_id,
                        rating_id=rating.id,  # type: ignore[arg-type]  # flushed: the id is set
                        due_date=due,
                        status="closed" if closed < real_now else "open",
                        note="已约谈窗口人员并改进告知方式" if closed < real_now else "",
                        opened_at=rating.at,
                        closed_at=closed if closed < real_now else None,
                    )
                )
        item_id = t.get("service_item_id")
        if item_id is None or lines[t["line_id"]].code == "GEN" or rng.random() > 0.4:
            continue
        item = items_by_id[item_id]
        n += 1
        name, phone, id_number = _person(rng)
        at = t["finished_at"]
        roll = rng.random()
        case = Case(
            hall_id=hall_id,
            case_no=f"DEMO{day:%Y%m%d}-{n:04d}",
            query_code=new_query_code(session, hall_id, rng),
            item_id=item_id,
            applicant_name=name,
            id_number=id_number,
            phone=phone,
            received_at=at,
            received_on=day,
            ticket_id=ticket_id,
            window_id=t["window_id"],
            staff_id=t["staff_id"],
        )
        if roll < 0.12:
            case.status, case.outcome = "notice_issued", None
            case.notice_breach = rng.random() < 0.04
        elif roll < 0.17:
            case.status, case.outcome = "not_accepted", "not_accepted"
            case.reason = "不属于本机关职权范围" if rng.random() < 0.6 else "依法不需要取得行政许可"
            case.competent_office = "成都市市场监督管理局" if case.reason.startswith("不属于") else ""
        else:
            case.status = "accepted"
            case.outcome = "accepted"
            if item.deficiency_allowed and rng.random() < 0.3:
                case.outcome = "deficiency"
            elif item.commitment_allowed and rng.random() < 0.4:
                case.outcome, case.commitment = "commitment", True
            case.accepted_at, case.accepted_on = at, day
            both = deadlines.of_case(case, item)
            case.promised_date, case.deadline_provisional = both.promised.date, both.provisional
            case.statutory_date = both.statutory.date
            if case.outcome == "deficiency":
                case.supplement_deadline = deadlines.supplement(day, case.promised_date).date
                arrives = clock.local_midnight_utc(day + timedelta(days=rng.randint(1, 9)), tz) + timedelta(
                    hours=2
                )
                if rng.random() < 0.85 and arrives < real_now:
                    case.supplement_received_at = arrives
        session.add(case)
        session.flush()
        counts["cases"] += 1
        session.add(
            Visit(
                hall_id=hall_id,
                case_id=case.id,  # type: ignore[arg-type]  # flushed: the id is set
                purpose="submit",
                ticket_id=ticket_id,
                window_id=t["window_id"],
                staff_id=t["staff_id"],
                at=at,
            )
        )
        if case.status == "notice_issued":
            document("one_time_notice", case, at, {"item_id": item_id})
            if case.notice_breach:
                document(
                    "one_time_notice", case, at + timedelta(days=2), {"item_id": item_id, "override": True}
                )
            continue
        if case.status == "not_accepted":
            kind = "not_competent" if case.competent_office else "no_licence_needed"
            document("non_acceptance_notice", case, at, {"reason_kind": kind, "reason": case.reason})
            continue
        document(
            "deficiency_acceptance_notice" if case.outcome == "deficiency" else "acceptance_notice",
            case,
            at,
            {"item_id": item_id},
        )
        departments = cat["departments"].get(item_id) or []
        if not departments or item.promised_days == 0:
            case.status, case.decision = "completed", "approved"
            case.decided_at = case.completed_at = at
            continue
        case.status = "in_review"
        decided_day = calendar.add_working_days(
            day, max(1, round(item.promised_days * rng.uniform(0.3, 1.15)))
        ).date
        decided_at = clock.local_midnight_utc(decided_day, tz) + timedelta(hours=rng.uniform(1, 8))
        done = decided_at < real_now and (
            case.outcome != "deficiency" or case.supplement_received_at is not None
        )
        for dept in departments:
            session.add(
                ReviewTask(
                    hall_id=hall_id,
                    case_id=case.id,  # type: ignore[arg-type]  # flushed: the id is set
                    department_id=dept,
                    status=("refused" if rng.random() < 0.04 else "approved") if done else "pending",
                    created_at=at + timedelta(minutes=5),
                    decided_at=decided_at if done else None,
                )
            )
        if not done:
            continue
        case.decision = "refused" if rng.random() < 0.04 else "approved"
        case.status, case.decided_at = "decided", decided_at
        pickup = rng.random() < 0.4
        handed = decided_at + timedelta(days=rng.choice((0, 1, 3)), hours=1)
        if handed < real_now:
            case.status, case.completed_at = "completed", handed
            case.delivery = "pickup" if pickup else "post"
            if pickup:
                session.add(Visit(hall_id=hall_id, case_id=case.id, purpose="pickup", at=handed))  # type: ignore[arg-type]  # flushed: the id is set
            else:
                case.tracking_no = f"SF{rng.randrange(10**11):011d}"
    return counts


def _live_queue(engine: Engine, hall_id: int, rng: random.Random) -> int:
    """Today: most windows open with their clerk, a queue waiting, a few tickets in hand."""
    staffing = _staffing(engine, hall_id)
    lines = [code for code, _ in _line_codes(engine, hall_id)]
    for number, clerk in staffing:
        queueing.set_window_status(engine, hall_id, number, "open", actor=clerk)
        if number % 7 == 0:
            queueing.set_window_status(engine, hall_id, number, "paused", actor=clerk)
    issued = 0
    for _ in range(36):
        code = rng.choice(lines)
        priority = rng.random() < 0.08
        queueing.take_ticket(
            engine,
            hall_id,
            code,
            kind="priority" if priority else "normal",
            priority_reason="残疾人" if priority else "",
            actor=staffing[0][1],  # the first clerk hands out numbers before the kiosk is set up
        )
        issued += 1
    for number, clerk in staffing[: len(staffing) // 2]:
        if number % 7 == 0:
            continue
        ticket = queueing.call_next(engine, hall_id, number, actor=clerk)
        if ticket is not None and number % 2:
            queueing.start_service(engine, hall_id, number, actor=clerk)
    return issued
