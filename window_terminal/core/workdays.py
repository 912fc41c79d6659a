"""The hall's working-day calendar: the holiday package plus the hall's overrides from queue/."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from window_terminal.core.deadlines import WorkCalendar
from window_terminal.db.models import CalendarOverride


def hall_calendar(session: Session, hall_id: int) -> WorkCalendar:
    overrides = dict(
        session.execute(
            select(CalendarOverride.day, CalendarOverride.workday).where(CalendarOverride.hall_id == hall_id)
        ).all()
    )
    return WorkCalendar(overrides)
