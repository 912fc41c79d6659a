"""Service ratings (好差评, GB/T 39735-2020) and the rectification of bad ones (差评整改).

Five levels: 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意 — one rating per visit / ticket.
A rating below 满意 (level 3 or lower) opens a rectification item due ``thresholds.rectification_days``
working days later (default 15); a hall manager closes it with a note.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from window_terminal.core import access, lookup
from window_terminal.core.deadlines import HallDeadlines, hall_today
from window_terminal.db.clock import local_day, to_local
from window_terminal.db.engine import read_session
from window_terminal.db.models import (
    Case,
    Hall,
    Rating,
    Rectification,
    Staff,
    Ticket,
    Visit,
    Window,
    typed_row_id,
)
from window_terminal.db.unit import Unit
from window_terminal.errors import DomainError, NotFound

LEVELS: dict[int, tuple[str, str]] = {
    5: ("非常满意", "Very satisfied"),
    4: ("满意", "Satisfied"),
    3: ("基本满意", "Fairly satisfied"),
    2: ("不满意", "Dissatisfied"),
    1: ("非常不满意", "Very dissatisfied"),
}
RECTIFY_AT_OR_BELOW = 3  # below 满意


def level_name(level: int, language: str = "zh") -> str:
    zh, en = LEVELS[level]
    return zh if language == "zh" else en


def _latest_finished(session: Session, window: Window, today: date) -> Ticket | None:
    """Today's last finished ticket at the window (yesterday's applicant is not at the counter)."""
    return session.execute(
        select(Ticket)
        .where(
            Ticket.hall_id == window.hall_id,
            Ticket.window_id == window.id,
            Ticket.status == "done",
            Ticket.service_day == today,
        )
        .order_by(Ticket.finished_at.desc(), Ticket.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def latest_service(engine: Engine, hall_id: int, window_number: int) -> dict[str, Any] | None:
    """The window's most recent finished ticket, and whether it has been rated (for the rating screen)."""
    with read_session(engine) as session:
        window = lookup.window(session, hall_id, window_number)
        ticket = _latest_finished(session, window, hall_today(session, hall_id))
        if ticket is None:
            return None
        rated = session.execute(
            select(Rating.level).where(Rating.ticket_id == ticket.id)
        ).scalar_one_or_none()
        clerk = session.get(Staff, ticket.staff_id) if ticket.staff_id else None
        return {
            "ticket_id": ticket.id,
            "number": ticket.number,
            "window": window.number,
            "clerk": clerk.name if clerk else "",
            "finished_at": ticket.finished_at.isoformat() if ticket.finished_at else None,
            "rated": rated is not None,
            "level": rated,
        }


def rate(
    engine: Engine,
    hall_id: int,
    window_number: int,
    level: int,
    comment: str = "",
    *,
    ticket_id: int | None = None,
    visit_id: int | None = None,
    actor: str | None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Record the applicant's rating of a visit (default: the window's most recent finished ticket)."""
    if level not in LEVELS:
        raise DomainError(
            "评价等级须为 1-5（5 非常满意 … 1 非常不满意）",
            "the level must be 1 to 5 (5 very satisfied … 1 very dissatisfied)",
            code="bad_level",
        )

    def action(unit: Unit) -> dict[str, Any]:
        s = unit.session
        window = lookup.window(s, unit.hall_id, window_number)
        ticket: Ticket | None = None
        visit: Visit | None = None
        if visit_id is not None:
            typed = typed_row_id(visit_id)
            visit = s.get(Visit, typed) if typed is not None else None
            if visit is None or visit.hall_id != unit.hall_id:
                raise NotFound(f"没有来访记录 #{visit_id}", f"no visit #{visit_id}")
            if visit.ticket_id:
                ticket = s.get(Ticket, visit.ticket_id)
        if ticket_id is not None:
            typed = typed_row_id(ticket_id)
            ticket = s.get(Ticket, typed) if typed is not None else None
            if ticket is None or ticket.hall_id != unit.hall_id:
                raise NotFound(f"没有排队号 #{ticket_id}", f"no ticket #{ticket_id}")
        if ticket is None and visit is None:
            ticket = _latest_finished(s, window, unit.today)
            if ticket is None:
                raise DomainError(
                    f"{window.number} 号窗口还没有办结的号，无可评价的服务",
                    f"window {window.number} has finished no ticket yet: there is no service to rate",
                    code="nothing_to_rate",
                )
        if visit is None and ticket is not None:
            visit = s.execute(
                select(Visit).where(Visit.ticket_id == ticket.id).order_by(Visit.id.desc()).limit(1)
            ).scalar_one_or_none()
        conditions = []
        if ticket is not None:
            conditions.append(Rating.ticket_id == ticket.id)
        if visit is not None:
            conditions.append(Rating.visit_id == visit.id)
        if s.execute(select(Rating.id).where(or_(*conditions))).first() is not None:
            label = ticket.number if ticket is not None else f"#{visit.id if visit else ''}"
            raise DomainError(
                f"{label} 号的这次服务已经评价过：每次服务只能评价一次",
                f"this service ({label}) has already been rated: one rating per visit",
                code="already_rated",
            )
        case_id = visit.case_id if visit is not None else None
        if case_id is None and ticket is not None:
            case_id = s.execute(
                select(Case.id).where(Case.ticket_id == ticket.id).limit(1)
            ).scalar_one_or_none()
        rating = Rating(
            hall_id=unit.hall_id,
            level=int(level),
            comment=lookup.note(comment),
            ticket_id=ticket.id if ticket is not None else None,
            visit_id=visit.id if visit is not None else None,
            case_id=case_id,
            window_id=window.id,
            staff_id=(ticket.staff_id if ticket is not None else None) or (visit.staff_id if visit else None),
            at=unit.now,
        )
        s.add(rating)
        s.flush()
        unit.emit(
            "rating.added",
            {
                "rating_id": rating.id,
                "level": rating.level,
                "ticket_id": rating.ticket_id,
                "window": window.number,
            },
            window_id=window.id,
        )
        result: dict[str, Any] = {
            "rating_id": rating.id,
            "level": rating.level,
            "level_name": LEVELS[rating.level][0],
            "ticket": ticket.number if ticket is not None else None,
            "window": window.number,
            "rectification_id": None,
            "due_date": None,
        }
        if rating.level <= RECTIFY_AT_OR_BELOW:
            due = HallDeadlines.load(s, unit.hall_id, unit.today).rectification(unit.today)
            item = Rectification(
                hall_id=unit.hall_id,
                rating_id=rating.id,  # type: ignore[arg-type]  # flushed: the id is set
                due_date=due.date,
                opened_at=unit.now,
            )
            s.add(item)
            s.flush()
            unit.emit(
                "rectification.opened",
                {"rectification_id": item.id, "rating_id": rating.id, "due_date": due.date.isoformat()},
                window_id=window.id,
            )
            result.update(
                rectification_id=item.id, due_date=due.date.isoformat(), provisional=due.provisional
            )
        return result

    return access.run_as(engine, hall_id, "rating.add", action, actor, request_id=request_id)


def close_rectification(
    engine: Engine,
    hall_id: int,
    rectification_id: int,
    note: str,
    *,
    actor: str | None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """A hall manager closes a rectification with a note saying what was done."""
    if not lookup.note(note):
        raise DomainError(
            "关闭整改须填写整改情况说明",
            "closing a rectification needs a note on what was done",
            code="note_required",
        )

    def action(unit: Unit) -> dict[str, Any]:
        s = unit.session
        staff = s.get(Staff, unit.staff_id)  # a manager or supervisor: checked by access.run_as
        assert staff is not None
        typed = typed_row_id(rectification_id)
        item = s.get(Rectification, typed) if typed is not None else None
        if item is None or item.hall_id != unit.hall_id:
            raise NotFound(
                f"没有整改事项 #{rectification_id}：用 wt rectification list 查看",
                f"no rectification #{rectification_id}: see `wt rectification list`",
            )
        if item.status == "closed":
            raise DomainError(
                f"整改事项 #{item.id} 已关闭",
                f"rectification #{item.id} is already closed",
                code="already_closed",
            )
        item.status = "closed"
        item.note = lookup.note(note)
        item.closed_at = unit.now
        item.closed_by = staff.id
        late = unit.today > item.due_date
        unit.emit("rectification.closed", {"rectification_id": item.id, "late": late, "note": item.note})
        return {"rectification_id": item.id, "status": item.status, "late": late, "closed_by": staff.code}

    return access.run_as(engine, hall_id, "rectification.close", action, actor, request_id=request_id)


def list_rectifications(
    engine: Engine, hall_id: int, *, status: str | None = "open", today: date | None = None
) -> list[dict[str, Any]]:
    """Rectification items (open by default), earliest due first, with the rating behind each."""
    with read_session(engine) as session:
        today = today or hall_today(session, hall_id)
        query = (
            select(Rectification, Rating, Ticket.number, Window.number, Staff.name)
            .join(Rating, Rating.id == Rectification.rating_id)
            .outerjoin(Ticket, Ticket.id == Rating.ticket_id)
            .outerjoin(Window, Window.id == Rating.window_id)
            .outerjoin(Staff, Staff.id == Rating.staff_id)
            .where(Rectification.hall_id == hall_id)
            .order_by(Rectification.due_date, Rectification.id)
        )
        if status:
            query = query.where(Rectification.status == status)
        rows = session.execute(query).all()
        zone = session.execute(select(Hall.timezone).where(Hall.id == hall_id)).scalar_one()
    return [
        {
            "id": item.id,
            "status": item.status,
            "due_date": item.due_date.isoformat(),
            "overdue": item.status == "open" and today > item.due_date,
            "level": rating.level,
            "level_name": LEVELS[rating.level][0],
            "comment": rating.comment,
            "ticket": number,
            "window": window,
            "clerk": clerk or "",
            "rated_on": local_day(rating.at, zone).isoformat(),
            "note": item.note,
            "closed_at": to_local(item.closed_at, zone).isoformat(timespec="minutes")
            if item.closed_at
            else None,
        }
        for item, rating, number, window, clerk in rows
    ]
