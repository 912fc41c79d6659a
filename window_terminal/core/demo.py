"""``wt demo``: the shipped hall, staff at the windows, a live queue and some history.

History (``--days N`` working days before today): each day's queue is played through the queue engine
(kiosk tickets, windows calling with the hall's calling rule, starting, finishing, transferring,
recalling) with the database clock moved to the moment of each key press; then the
day's cases, documents, material checks, visits, back-office decisions, pickups, ratings and
rectifications are made by the domain's own functions (``intake``, ``review``, ``ratings``) with the
database clock moved to the moment each happened — so every notice says what the rules make it say,
and follow-ups (supplements, decisions, pickups) happen on the later days they fall on. Today's live
queue goes through the real queue engine (``queueing``), so the screens have something to call.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from window_terminal.core import access, queueing
from window_terminal.core.deadlines import HallDeadlines
from window_terminal.core.hall import load_hall
from window_terminal.core.idcheck import check_digit
from window_terminal.core.workdays import hall_calendar
from window_terminal.db import clock
from window_terminal.db.engine import read_session
from window_terminal.db.models import (
    Case,
    Hall,
    ItemDepartment,
    Line,
    Material,
    ReviewTask,
    ServiceItem,
    Staff,
    Ticket,
    Window,
    WindowLine,
)
from window_terminal.errors import DomainError

OPEN_HOUR, CLOSE_HOUR = 9, 17
DEMO_ADDRESSES = (
    "四川省成都市锦江区春熙路南段8号",
    "四川省成都市锦江区东大街下东大街段100号",
    "四川省成都市锦江区红星路三段1号",
    "四川省成都市锦江区三色路38号",
)


def arrival_rate(hour: float) -> float:
    """Arrivals per minute across the day: peaks mid-morning (10:00) and mid-afternoon (15:00)."""
    return 0.25 + 1.1 * math.exp(-((hour - 10.0) ** 2) / 1.2) + 0.8 * math.exp(-((hour - 15.0) ** 2) / 1.0)


def build_demo(
    engine: Engine,
    path: Path,
    *,
    days: int = 1,
    seed: int = 7,
    if_empty: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Load the hall at ``path``, play ``days`` working days of history through the domain's
    functions, and leave today's live queue; ``progress`` hears a line per day played."""
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
        calendar = hall_calendar(s, hall_id)
        already = s.execute(
            select(func.count()).select_from(Ticket).where(Ticket.hall_id == hall_id)
        ).scalar_one()
    generated = 0
    if not already:
        history: list[date] = []
        day = today
        while len(history) < days:
            day -= timedelta(days=1)
            if calendar.is_workday(day):  # the hall's working days (holidays, 调休), its opening hours
                history.insert(0, day)
        agenda = _Agenda()
        try:
            if history:
                _unanswered_submission(engine, hall_id, history[0], tz, rng)
            for number, day in enumerate(history, 1):
                played = simulate_day(engine, hall_id, day, tz, rng, agenda)
                generated += played
                if progress:
                    progress(f"{number}/{len(history)} {day.isoformat()}: {played} tickets")
        finally:
            clock.set_offset(timedelta(0))
        generated += _live_queue(engine, hall_id, rng)
    return {**loaded, "history_tickets": generated}


def _unanswered_submission(engine: Engine, hall_id: int, first: date, tz: str, rng: random.Random) -> None:
    """One submission taken in (收件凭证) seven working days before the history and never answered:
    the first history day's sweep accepts it as of its receipt (Art. 32), so a newcomer sees a
    deemed acceptance beside the ordinary ones."""
    from window_terminal.core import intake

    with read_session(engine) as s:
        calendar = hall_calendar(s, hall_id)
        item_id = s.execute(
            select(ServiceItem.id).where(ServiceItem.hall_id == hall_id, ServiceItem.code == "GA-0001")
        ).scalar_one_or_none()
    if item_id is None:
        return
    received = first - timedelta(days=1)
    worked = 0
    while worked < 7:
        if calendar.is_workday(received):
            worked += 1
        if worked < 7:
            received -= timedelta(days=1)
    number, clerk = _staffing(engine, hall_id)[0]
    item = intake.item_info(engine, hall_id, item_id)
    name, phone, id_number = _person(rng)
    _at(engine, clock.local_midnight_utc(received, tz) + timedelta(hours=10, minutes=30))
    intake.submit(
        engine,
        hall_id,
        applicant=intake.Applicant(name, "resident_id", id_number, phone),
        item=item_id,
        materials=intake.default_checks(item),
        outcome=None,
        window=number,
        actor=clerk,
    )


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


def _manager(engine: Engine, hall_id: int) -> str | None:
    with read_session(engine) as s:
        return s.execute(
            select(Staff.code)
            .where(Staff.hall_id == hall_id, Staff.role == "manager", Staff.active)
            .order_by(Staff.code)
            .limit(1)
        ).scalar_one_or_none()


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
        "people": _people(engine, hall_id),
        "lines": lines,
        "serves": serves,
        "staffed": staffed,
        "items": items,
        "departments": departments,
        "calendar": calendar,
        "deadlines": deadlines,
    }


def simulate_day(
    engine: Engine, hall_id: int, day: date, tz: str, rng: random.Random, agenda: _Agenda
) -> int:
    """One working day, played through the queue engine with the database clock at each moment.

    Arrivals peak mid-morning and mid-afternoon and take their ticket at the kiosk; each staffed
    window opens, calls with the hall's own calling rule (``queueing.call_next``), starts, finishes
    with the line's service time, and closes at the end of the day; some tickets are no-shows after a
    recall, some were taken on the wrong line and are transferred keeping their place, and those still
    waiting at closing time are ended unserved by the close of day. Every row and every event is what the engine writes for the
    same key presses. Then about a fifth of the served tickets lodge a case (accepted, deficiency,
    commitment, one-time notice, non-acceptance), handed off, decided and completed as the days pass;
    ratings follow visits, and bad ratings open rectifications.
    """
    cat = _catalogue(engine, hall_id)
    lines, serves, staffed = cat["lines"], cat["serves"], cat["staffed"]
    line_of = {line.code: line_id for line_id, line in lines.items()}
    people = cat["people"]
    window_no, codes = people["windows"], people["codes"]
    kiosk = people["kiosk"] or codes[staffed[0][1]]
    start = clock.local_midnight_utc(day, tz) + timedelta(hours=OPEN_HOUR)
    end = start + timedelta(hours=CLOSE_HOUR - OPEN_HOUR)
    line_ids = sorted(lines)
    weights = [3 if lines[i].code in ("BIZ", "SOC", "GEN") else 1 for i in line_ids]
    agenda_q: list[tuple[datetime, int, str, Any]] = []
    order = 0

    def at(moment: datetime, what: str, data: Any) -> None:
        nonlocal order
        order += 1
        heapq.heappush(agenda_q, (moment, order, what, data))

    moment = start
    while True:
        hour = OPEN_HOUR + (moment - start).total_seconds() / 3600
        moment += timedelta(minutes=rng.expovariate(arrival_rate(hour)))
        if moment >= end:
            break
        line_id = rng.choices(line_ids, weights)[0]
        wrong = rng.random() < 0.03
        items = cat["items"].get(line_id)
        at(
            moment,
            "arrive",
            {
                "line": line_id,
                "taken_on": rng.choice(line_ids) if wrong else line_id,
                "priority": rng.random() < 0.05,
                "item": rng.choice(items).id if items else None,
            },
        )
    for window_id, clerk in staffed:
        at(start - timedelta(minutes=rng.uniform(1, 10)), "open", (window_id, clerk))
    issued = 0
    wrong_line: dict[str, str] = {}  # ticket number -> the line its holder really needs
    idle: dict[int, Any] = {}  # windows with nobody to call, by id: they call when someone arrives

    def wake(line_id: int, moment: datetime) -> None:
        for window_id in [w for w in idle if line_id in serves[w]]:
            at(moment + timedelta(seconds=rng.uniform(5, 30)), "free", idle.pop(window_id))

    while agenda_q:
        moment, _, what, data = heapq.heappop(agenda_q)
        _at(engine, moment)
        if what == "arrive":
            wanted = lines[data["line"]].code
            ticket = queueing.take_ticket(
                engine,
                hall_id,
                lines[data["taken_on"]].code,
                kind="priority" if data["priority"] else "normal",
                priority_reason="老年人" if data["priority"] else "",
                service_item_id=data["item"] if data["taken_on"] == data["line"] else None,
                actor=kiosk,
            )
            issued += 1
            if data["taken_on"] != data["line"]:
                wrong_line[ticket.number] = wanted
            wake(data["taken_on"], moment)
            continue
        window_id, clerk = data
        number, code = window_no[window_id], codes[clerk]
        if what == "open":
            queueing.set_window_status(engine, hall_id, number, "open", actor=code)
            at(start + timedelta(seconds=rng.uniform(0, 120)), "free", data)
        elif what == "free":
            if moment > end + timedelta(minutes=45):
                queueing.set_window_status(engine, hall_id, number, "closed", actor=code)
                continue
            called = queueing.call_next(engine, hall_id, number, actor=code)
            if called is None:
                idle[window_id] = data
            elif called.number in wrong_line:
                # taken on the wrong line: sent to the right one, keeping its place (只设路标)
                target = wrong_line.pop(called.number)
                queueing.transfer(engine, hall_id, target, window_number=number, reason="取错号", actor=code)
                wake(line_of[target], moment)
                at(moment + timedelta(seconds=rng.uniform(20, 60)), "free", data)
            elif rng.random() < 0.05:
                at(moment + timedelta(seconds=rng.uniform(30, 60)), "recall", data)
            else:
                at(moment + timedelta(seconds=rng.uniform(15, 60)), "start", data)
        elif what == "recall":
            queueing.recall(engine, hall_id, number, actor=code)
            at(moment + timedelta(seconds=rng.uniform(30, 60)), "no_show", data)
        elif what == "no_show":
            queueing.no_show(engine, hall_id, number, actor=code)
            at(moment + timedelta(seconds=rng.uniform(10, 40)), "free", data)
        elif what == "start":
            in_hand = queueing.start_service(engine, hall_id, number, actor=code)
            avg = float(lines[line_of[in_hand.line]].avg_service_minutes)
            at(moment + timedelta(minutes=max(1.0, rng.gauss(avg, avg / 3))), "finish", data)
        elif what == "finish":
            queueing.finish(engine, hall_id, number, actor=code)
            at(moment + timedelta(seconds=rng.uniform(10, 60)), "free", data)
    _at(engine, end + timedelta(minutes=45))
    for window_id, clerk in idle.values():  # the rest close at the end of the day
        queueing.set_window_status(engine, hall_id, window_no[window_id], "closed", actor=codes[clerk])
    _at(engine, end + timedelta(hours=1))
    queueing.close_day(engine, hall_id)  # still waiting at closing time: gone home, unserved
    with read_session(engine) as s:
        rows = s.execute(
            select(
                Ticket.id,
                Ticket.number,
                Ticket.status,
                Ticket.line_id,
                Ticket.window_id,
                Ticket.staff_id,
                Ticket.started_at,
                Ticket.finished_at,
                Ticket.service_item_id,
            ).where(Ticket.hall_id == hall_id, Ticket.service_day == day)
        ).all()
    tickets = [dict(r._mapping) for r in rows]
    ids = {t["number"]: t["id"] for t in tickets}
    _cases_for_day(engine, hall_id, day, tz, rng, tickets, ids, cat, agenda)
    return issued


def _person(rng: random.Random) -> tuple[str, str, str]:
    """A made-up applicant: name, mobile number, and a resident ID number that passes GB 11643."""
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    phone = "1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9))
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
    first17 = f"{rng.choice(DEMO_REGIONS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return name, phone, first17 + check_digit(first17)


# --- cases, documents, ratings: through the counter's and the back office's own functions ----------


@dataclass
class _Agenda:
    """What the demo hall still has to do on later days: follow-ups keyed by service day."""

    by_day: dict[date, list[tuple[float, str, dict[str, Any]]]] = field(default_factory=dict)
    specials: list[str] = field(default_factory=lambda: ["suspend", "extend"])  # shown once each

    def add(self, day: date, hour: float, what: str, **details: Any) -> None:
        self.by_day.setdefault(day, []).append((hour, what, details))

    def due(self, day: date) -> list[tuple[float, str, dict[str, Any]]]:
        return sorted(self.by_day.pop(day, []), key=lambda x: x[0])


def _at(engine: Engine, moment: datetime) -> None:
    """Move the database clock (as every domain function reads it) to ``moment`` (naive UTC)."""
    clock.set_offset(timedelta(0))
    with read_session(engine) as s:
        real = clock.db_now(s)
    clock.set_offset(moment - real)


def _people(engine: Engine, hall_id: int) -> dict[str, Any]:
    with read_session(engine) as s:
        staff = s.execute(
            select(Staff.id, Staff.code, Staff.role, Staff.department_id).where(
                Staff.hall_id == hall_id, Staff.active
            )
        ).all()
        windows = dict(s.execute(select(Window.id, Window.number).where(Window.hall_id == hall_id)).all())
        hall = s.get(Hall, hall_id)
        devices = ((hall.settings if hall else None) or {}).get("devices") or []
        rating_devices = [str(d["id"]).upper() for d in devices if d.get("kind") == "rating"]
        kiosks = [str(d["id"]).upper() for d in devices if d.get("kind") == "kiosk"]
        materials: dict[int, list[Any]] = {}
        for m in s.execute(
            select(Material)
            .where(Material.hall_id == hall_id, Material.active)
            .order_by(Material.item_id, Material.position)
        ).scalars():
            materials.setdefault(m.item_id, []).append(m)
    reviewers: dict[int, str] = {}
    approvers: dict[int, str] = {}  # a department's head who approves extensions (staff.toml)
    named = access.extension_approvers((hall.settings if hall else None) or {})
    for _id, code, role, dept in staff:
        if role == "reviewer" and dept is not None:
            reviewers.setdefault(dept, code)
        if code.upper() in named and dept is not None and access.may(role, access.APPROVE_EXTENSION):
            approvers.setdefault(dept, code)
    return {
        "codes": {i: code for i, code, _r, _d in staff},
        "managers": [code for _i, code, role, _d in staff if role == "manager"],
        "reviewers": reviewers,
        "approvers": approvers,
        # the applicants rate on the windows' rating screen (a hall.toml device), else the clerk records it
        "rater": f"device:{rating_devices[0]}" if rating_devices else None,
        # arrivals take their ticket at the hall's kiosk (a hall.toml device), else a clerk hands it out
        "kiosk": f"device:{kiosks[0]}" if kiosks else None,
        "windows": windows,
        "materials": materials,
    }


def _checks(materials: list[Any], rng: random.Random, outcome: str | None) -> list[Any] | None:
    """The clerk's material check for ``outcome``; None when the item's materials cannot give it."""
    from window_terminal.core.intake import MaterialCheck

    def received(m: Any) -> Any:
        return MaterialCheck(m.id, "received", m.originals, m.copies)

    checks = [received(m) for m in materials]
    required = [i for i, m in enumerate(materials) if m.required]
    if outcome == "notice":
        if not required:
            return None
        for i in rng.sample(required, min(len(required), rng.choice((1, 1, 2)))):
            m = materials[i]
            reason = rng.choice(("未提交", "缺少原件核验", "未加盖公章", "复印件不清晰"))
            checks[i] = MaterialCheck(m.id, "missing" if reason == "未提交" else "defective", note=reason)
        return checks
    if outcome == "deficiency":
        tolerable = [i for i, m in enumerate(materials) if m.tolerable]
        if not tolerable:
            return None
        for i in tolerable[:2]:
            checks[i] = MaterialCheck(materials[i].id, "deferred", note="容缺后补")
        return checks
    if outcome == "commitment":
        promised = [i for i, m in enumerate(materials) if m.commitment]
        if not promised:
            return None
        for i in promised:
            checks[i] = MaterialCheck(materials[i].id, "commitment", note="申请人书面承诺")
        return checks
    return checks


def _cases_for_day(
    engine: Engine,
    hall_id: int,
    day: date,
    tz: str,
    rng: random.Random,
    tickets: list[dict[str, Any]],
    ids: dict[str, int],
    cat: dict[str, Any],
    agenda: _Agenda,
) -> dict[str, int]:
    """The day's cases, documents, visits, review decisions, pickups, ratings and rectifications, each
    made by the function the counter, the back office or the rating screen calls, at its time of day:
    every document and material row is what the rules make, never written here."""
    from window_terminal.core import intake, ratings, review
    from window_terminal.core.intake import Applicant, MaterialCheck

    people = cat["people"]
    calendar = cat["calendar"]
    lines = cat["lines"]
    items_by_id = {i.id: i for items in cat["items"].values() for i in items}
    counts = {"cases": 0, "ratings": 0, "follow_ups": 0}
    midnight = clock.local_midnight_utc(day, tz)
    window_of = people["windows"]

    def clerk_at(window_id: int | None) -> tuple[int, str | None]:
        staffed = dict(cat["staffed"])
        wid = window_id if window_id in staffed else rng.choice(cat["staffed"])[0]
        return window_of[wid], people["codes"].get(staffed[wid])

    def later(days: int, hour: float, what: str, **details: Any) -> None:
        when = day if days <= 0 else calendar.add_working_days(day, days).date
        agenda.add(when, hour, what, **details)

    def follow_up(hour: float, what: str, d: dict[str, Any]) -> None:
        _at(engine, midnight + timedelta(hours=hour))
        counts["follow_ups"] += 1
        number, code = clerk_at(d.get("window_id"))
        if what == "conclude":
            intake.conclude(engine, hall_id, d["case_no"], "accept", window=number, actor=code)
            _after_acceptance(d["case_no"], d["item_id"], later, rng, items_by_id, hour)
        elif what == "supplement":
            given = [MaterialCheck(mid, "received", o, c) for mid, o, c in d["materials"]]
            intake.supplement(engine, hall_id, d["case_no"], given, window=number, actor=code)
            _after_acceptance(d["case_no"], d["item_id"], later, rng, items_by_id, hour)
        elif what == "deferred":
            intake.record_supplement(engine, hall_id, d["case_no"], window=number, actor=code)
        elif what == "decide":
            with read_session(engine) as s:
                case = s.execute(
                    select(Case).where(Case.hall_id == hall_id, Case.case_no == d["case_no"])
                ).scalar_one()
                if case.outcome == "deficiency" and case.supplement_received_at is None:
                    later(2, hour, "decide", **d)  # the result waits for the deferred materials
                    return
                tasks = s.execute(
                    select(ReviewTask.id, ReviewTask.department_id).where(
                        ReviewTask.case_id == case.id,
                        ReviewTask.status.in_(("pending", "claimed")),
                    )
                ).all()
            special = agenda.specials.pop(0) if tasks and agenda.specials and not d.get("done") else None
            if special == "suspend":  # Art. 45: an on-site inspection stops the clock for two days
                task_id, dept = tasks[0]
                reviewer = people["reviewers"].get(dept)
                review.claim(engine, hall_id, task_id, actor=reviewer)
                review.suspend(
                    engine,
                    hall_id,
                    task_id,
                    "inspection",
                    "核查经营场所与申请材料是否一致",
                    2,
                    actor=reviewer,
                )
                later(2, hour, "resume", task_id=task_id, reviewer=reviewer, **d)
                return
            first_dept = tasks[0][1] if tasks else None
            head = people["approvers"].get(first_dept)
            if special == "extend" and head:  # Art. 42: the department's reviewer, its head approves
                try:
                    review.extend(
                        engine,
                        hall_id,
                        d["case_no"],
                        approver=head,
                        reason="需组织专家论证，无法在法定期限内作出决定",
                        actor=people["reviewers"].get(first_dept),
                    )
                except DomainError:  # already past its statutory period: decided as it stands
                    pass
                else:
                    later(2, hour, "decide", done=True, **d)
                    return
            for task_id, dept in tasks:
                reviewer = people["reviewers"].get(dept)
                review.claim(engine, hall_id, task_id, actor=reviewer)
                if rng.random() < 0.03:  # a refusal decides the whole case: the other tasks close
                    review.refuse(
                        engine,
                        hall_id,
                        task_id,
                        "申请材料与实际情况不符，经核查不予许可",
                        actor=reviewer,
                    )
                    break
                else:
                    review.approve(
                        engine, hall_id, task_id, note="材料齐全，符合法定条件，同意", actor=reviewer
                    )
            if tasks:
                if rng.random() < 0.25:  # most results go by post (free EMS): one trip only
                    later(rng.choice((1, 1, 2, 3)), rng.uniform(1.5, 7.5), "pickup", case_no=d["case_no"])
                else:
                    later(1, 7.5, "post", case_no=d["case_no"])
        elif what == "resume":
            review.resume(engine, hall_id, d["task_id"], actor=d["reviewer"])
            later(1, hour, "decide", done=True, case_no=d["case_no"], item_id=d["item_id"])
        elif what == "deem":  # the daily Art. 32 sweep: unanswered submissions past five working days
            for deemed in intake.apply_deemed_acceptances(engine, hall_id, actor=code):
                item_id = _item_of(engine, hall_id, deemed["case_no"])
                _after_acceptance(deemed["case_no"], item_id, later, rng, items_by_id, hour)
        elif what == "pickup":
            review.record_pickup(engine, hall_id, d["case_no"], number, actor=code)
        elif what == "post":
            review.record_posted(
                engine,
                hall_id,
                d["case_no"],
                f"EMS{rng.randrange(10**11):011d}CN",
                address=rng.choice(DEMO_ADDRESSES),
                actor=code,
            )
        elif what == "rectify" and people["managers"]:
            ratings.close_rectification(
                engine,
                hall_id,
                d["rectification_id"],
                "已约谈窗口人员，改进告知方式并回访申请人",
                actor=people["managers"][0],
            )

    def visitors() -> None:
        """The day's visitors: a case for some served tickets, a rating from many."""
        for t in sorted((t for t in tickets if t["status"] == "done"), key=lambda t: t["finished_at"]):
            ticket_id = ids.get(t["number"])
            item_id = t.get("service_item_id")
            number, code = window_of[t["window_id"]], people["codes"].get(t["staff_id"])
            if item_id is not None and lines[t["line_id"]].code != "GEN" and rng.random() < 0.2:
                item = items_by_id[item_id]
                materials = people["materials"].get(item_id, [])
                roll = rng.random()
                outcome: str | None = (
                    "notice"
                    if roll < 0.15
                    else "non_acceptance"
                    if roll < 0.19
                    else None
                    if roll < 0.25
                    else "deficiency"
                    if roll < 0.40 and item.deficiency_allowed
                    else "commitment"
                    if roll < 0.55 and item.commitment_allowed
                    else "accept"
                )
                checks = _checks(materials, rng, outcome) if materials else None
                if checks is None:
                    outcome, checks = "accept", _checks(materials, rng, "accept") or []
                name, phone, id_number = _person(rng)
                _at(engine, t["started_at"] + timedelta(minutes=1))
                result = intake.submit(
                    engine,
                    hall_id,
                    applicant=Applicant(name, "resident_id", id_number, phone),
                    item=item_id,
                    materials=checks,
                    outcome={"commitment": "accept"}.get(outcome or "", outcome),
                    ticket_id=ticket_id,
                    window=number,
                    actor=code,
                    reason_kind="no_licence_needed" if outcome == "non_acceptance" else "",
                )
                counts["cases"] += 1
                case_no = result.case_no
                if outcome is None:
                    if rng.random() < 0.9:  # decided within the five working days of Art. 32
                        later(
                            rng.randint(1, 3), rng.uniform(1, 7), "conclude", case_no=case_no, item_id=item_id
                        )
                elif outcome == "notice":
                    missing = [
                        (c.material_id, m.originals, m.copies)
                        for c, m in zip(checks, materials, strict=False)
                        if c.status in ("missing", "defective")
                    ]
                    if rng.random() < 0.85:
                        later(
                            rng.randint(1, 4),
                            rng.uniform(1, 7),
                            "supplement",
                            case_no=case_no,
                            item_id=item_id,
                            materials=missing,
                            window_id=t["window_id"],
                        )
                elif outcome == "deficiency":
                    if rng.random() < 0.85:
                        later(rng.randint(1, 3), rng.uniform(1, 7), "deferred", case_no=case_no)
                    _after_acceptance(
                        case_no, item_id, later, rng, items_by_id, _hours(t["started_at"], midnight)
                    )
                elif outcome in ("accept", "commitment"):
                    _after_acceptance(
                        case_no, item_id, later, rng, items_by_id, _hours(t["started_at"], midnight)
                    )
            if rng.random() < 0.45:
                _at(engine, t["finished_at"] + timedelta(seconds=30))
                level = rng.choices(RATING_LEVELS, RATING_WEIGHTS)[0]
                comment = "" if level > 2 else rng.choice(("等候时间太长", "材料要求没讲清楚", "态度一般"))
                made = ratings.rate(
                    engine,
                    hall_id,
                    number,
                    level,
                    comment,
                    ticket_id=ticket_id,
                    actor=people["rater"] or code,
                )
                counts["ratings"] += 1
                if made.get("rectification_id") and rng.random() < 0.8:
                    later(rng.randint(1, 4), 8.0, "rectify", rectification_id=made["rectification_id"])

    # follow-ups due today (supplements, decisions, pickups, closed rectifications), then the day's
    # visitors, then what they made due today (the decision on an immediate item)
    follow_up(8.5, "deem", {})
    for hour, what, d in agenda.due(day):
        follow_up(hour, what, d)
    visitors()
    for hour, what, d in agenda.due(day):
        follow_up(hour, what, d)
    return counts


def _item_of(engine: Engine, hall_id: int, case_no: str) -> int:
    with read_session(engine) as s:
        return int(
            s.execute(
                select(Case.item_id).where(Case.hall_id == hall_id, Case.case_no == case_no)
            ).scalar_one()
        )


def _hours(moment: datetime, midnight: datetime) -> float:
    return (moment - midnight).total_seconds() / 3600


def _after_acceptance(
    case_no: str, item_id: int, later: Any, rng: random.Random, items: dict[int, Any], now: float
) -> None:
    """Schedule the back office's decision: mostly before the promised date, some on it, a few late;
    an immediate item (即办, 0 days) is decided within the hour."""
    promised = int(items[item_id].promised_days or 0)
    if promised == 0:
        later(0, now + rng.uniform(0.2, 1.0), "decide", case_no=case_no, item_id=item_id)
        return
    roll = rng.random()
    days = rng.randint(1, max(1, promised - 1)) if roll < 0.75 else promised if roll < 0.95 else promised + 1
    later(days, rng.uniform(1.5, 7.5), "decide", case_no=case_no, item_id=item_id)


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
            # the manager hands out numbers before the kiosk is set up: at any hour (core/hours.py)
            actor=_manager(engine, hall_id) or staffing[0][1],
        )
        issued += 1
    for number, clerk in staffing[: len(staffing) // 2]:
        if number % 7 == 0:
            continue
        ticket = queueing.call_next(engine, hall_id, number, actor=clerk)
        if ticket is not None and number % 2:
            queueing.start_service(engine, hall_id, number, actor=clerk)
    return issued
