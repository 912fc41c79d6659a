"""``wt demo``: the shipped hall, staff at the windows, a live queue and some history.

History is made by the real queue engine, not by writing rows directly: the database clock is
shifted back (``db.clock.set_offset``) and a day of arrivals and calls is replayed through
``queueing``, so every ticket, event and waiting time is one the engine itself produced.
"""

from __future__ import annotations

import heapq
import math
import random
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from window_terminal import queueing
from window_terminal.db import clock
from window_terminal.db.engine import read_session
from window_terminal.db.models import Hall, Line, Staff, Ticket, Window, WindowLine
from window_terminal.errors import DomainError
from window_terminal.hall import load_hall

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


def simulate_day(
    engine: Engine, hall_id: int, day: date, tz: str, real_now: datetime, rng: random.Random
) -> int:
    """Replay one working day through the engine with the clock shifted to that day."""
    start = clock.local_midnight_utc(day, tz) + timedelta(hours=OPEN_HOUR)
    end = start + timedelta(hours=CLOSE_HOUR - OPEN_HOUR)

    def at(moment: datetime) -> None:
        clock.set_offset(moment - real_now)

    staffing = _staffing(engine, hall_id)
    lines = _line_codes(engine, hall_id)
    weights = [3 if code in ("BIZ", "SOC", "GEN") else 1 for code, _ in lines]
    avg = dict(lines)
    at(start - timedelta(minutes=5))
    for number, clerk in staffing:
        queueing.set_window_status(engine, hall_id, number, "open", staff_code=clerk)
    heap: list[tuple[datetime, int, str, Any]] = []
    counter = 0
    moment = start
    while moment < end:
        hour = OPEN_HOUR + (moment - start).total_seconds() / 3600
        moment += timedelta(minutes=rng.expovariate(arrival_rate(hour)))
        if moment < end:
            code = rng.choices([c for c, _ in lines], weights)[0]
            counter += 1
            heapq.heappush(heap, (moment, counter, "arrive", code))
    for number, _ in staffing:
        counter += 1
        heapq.heappush(heap, (start + timedelta(seconds=rng.uniform(0, 120)), counter, "free", number))
    issued = 0
    while heap:
        moment, _, what, arg = heapq.heappop(heap)
        at(moment)
        if what == "arrive":
            priority = rng.random() < 0.05
            try:
                queueing.take_ticket(
                    engine,
                    hall_id,
                    arg,
                    kind="priority" if priority else "normal",
                    priority_reason="老年人" if priority else "",
                )
                issued += 1
            except DomainError:
                pass
        elif what == "free":
            if moment > end + timedelta(minutes=30):
                continue
            try:
                ticket = queueing.call_next(engine, hall_id, arg)
            except DomainError:
                ticket = None
            counter += 1
            if ticket is None:
                heapq.heappush(heap, (moment + timedelta(minutes=rng.uniform(1, 3)), counter, "free", arg))
                continue
            if rng.random() < 0.06:
                queueing.recall(engine, hall_id, arg)
                queueing.no_show(engine, hall_id, arg)
                heapq.heappush(heap, (moment + timedelta(minutes=1), counter, "free", arg))
                continue
            queueing.start_service(engine, hall_id, arg)
            service = max(1.0, rng.gauss(avg.get(ticket.line, 10.0), avg.get(ticket.line, 10.0) / 3))
            counter += 1
            heapq.heappush(heap, (moment + timedelta(minutes=service), counter, "finish", arg))
        elif what == "finish":
            queueing.finish(engine, hall_id, arg)
            counter += 1
            heapq.heappush(heap, (moment + timedelta(seconds=rng.uniform(10, 60)), counter, "free", arg))
    at(end + timedelta(hours=1))
    for number, _ in staffing:
        try:
            queueing.set_window_status(engine, hall_id, number, "closed")
        except DomainError:
            pass
    return issued


def _live_queue(engine: Engine, hall_id: int, rng: random.Random) -> int:
    """Today: most windows open with their clerk, a queue waiting, a few tickets in hand."""
    staffing = _staffing(engine, hall_id)
    lines = [code for code, _ in _line_codes(engine, hall_id)]
    for number, clerk in staffing:
        queueing.set_window_status(engine, hall_id, number, "open", staff_code=clerk)
        if number % 7 == 0:
            queueing.set_window_status(engine, hall_id, number, "paused", staff_code=clerk)
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
        )
        issued += 1
    for number, _ in staffing[: len(staffing) // 2]:
        if number % 7 == 0:
            continue
        ticket = queueing.call_next(engine, hall_id, number)
        if ticket is not None and number % 2:
            queueing.start_service(engine, hall_id, number)
    return issued
