"""The deadline service: every legal time limit of a case, and the supervision light it shows.

This is the one home of "which day is a case due, and is it green, yellow or red". Intake, review,
supervision, ratings, case status, the board, the back office and every report ask it; none counts
days itself. The working-day arithmetic (holidays, 调休, hall overrides) is :mod:`.workdays`.

The rules (行政许可法):

* **Promised and statutory dates** (承诺/法定时限, Art. 42): counted from the acceptance day, which is
  not counted; working days only (Art. 82); days under a suspension (Art. 45: inspection, testing,
  expert review, hearing) do not count; an approved extension (Art. 42: +10, joint handling +15)
  adds working days to the **statutory** limit only — the promised date is the hall's own promise,
  which no extension moves, so a promise once missed stays missed (a red case never turns green by
  an extension). Always *recomputed* from ``accepted_on``, the suspensions and ``extension_days`` —
  the stored ``promised_date``/``statutory_date`` are a snapshot for documents and may be stale (an
  open suspension, a calendar override loaded later).
* **Acceptance day**: ``accepted_on``; for a case deemed accepted (Art. 32(1)(4)) that is the
  receipt day, fixed whatever follows (``core.intake.deemed_acceptance`` decides and ``_accept``
  records it). Only a recorded suspension or extension moves a date counted from it.
* **Notice limit** (Art. 32): the one-time notice is due within ``notice_limit_days`` (5) working days
  of receipt; once that has passed without a notice the application is *deemed accepted* from the
  day the materials were received.
* **Deficiency supplement** (容缺受理): deferred materials are due ``DEFICIENCY_DAYS`` working days after
  acceptance, never later than the promised date. The date printed on the notice is what the applicant
  was told, so the light of a supplement reads the stored date.
* **Rectification** of a bad rating (GB/T 39735): ``rectification_days`` (15) working days.
* **Result issue** (Art. 44): the licence is issued and served within ten working days of the decision.
* **Light** (电子监察): red once overdue, yellow while the working days left are at most ``yellow_days``
  (the deadline day itself is yellow), green otherwise.

The thresholds (``yellow_days``, ``notice_limit_days``, ``rectification_days``) are the hall's
``[thresholds]`` in ``queue/hall.toml``, with their defaults in ``queueing.DEFAULT_THRESHOLDS`` — read
here through :class:`Thresholds`, nowhere else.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from window_terminal.core.queueing import threshold
from window_terminal.core.workdays import Deadline, WorkCalendar, hall_calendar, package_year_range
from window_terminal.db.clock import db_now, local_day
from window_terminal.db.models import Case, Hall, ServiceItem, Suspension

__all__ = [
    "DEFICIENCY_DAYS",
    "EXTENSION_DAYS",
    "JOINT_EXTENSION_DAYS",
    "RESULT_ISSUE_DAYS",
    "CaseDeadlines",
    "Deadline",
    "HallDeadlines",
    "Interval",
    "Light",
    "Reading",
    "Thresholds",
    "WorkCalendar",
    "case_deadlines",
    "deemed_accepted",
    "hall_today",
    "light",
    "notice_deadline",
    "package_year_range",
    "read_light",
    "rectification_deadline",
    "result_issue_deadline",
    "supplement_deadline",
    "suspensions_by_case",
]

Light = Literal["green", "yellow", "red"]
Interval = tuple[date, date | None]  # a suspension: first day, last day (None: still suspended)

DEFICIENCY_DAYS = 5  # 容缺: deferred materials within five working days (capped by the promised date)
RESULT_ISSUE_DAYS = 10  # Art. 44: the licence within ten working days of the decision
EXTENSION_DAYS = 10  # Art. 42(1): twenty working days, extendable by ten with approval
JOINT_EXTENSION_DAYS = 15  # Art. 42(2): joint handling, forty-five days extendable by fifteen


@dataclass(frozen=True)
class Thresholds:
    """The hall's deadline thresholds (``[thresholds]`` of hall.toml, defaults in one place)."""

    yellow_days: int
    notice_limit_days: int
    rectification_days: int

    @classmethod
    def of(cls, settings: Mapping[str, Any] | None) -> Thresholds:
        values = dict(settings or {})
        return cls(
            yellow_days=int(threshold(values, "yellow_days")),
            notice_limit_days=int(threshold(values, "notice_limit_days")),
            rectification_days=int(threshold(values, "rectification_days")),
        )


@dataclass(frozen=True)
class CaseDeadlines:
    promised: Deadline
    statutory: Deadline

    @property
    def provisional(self) -> bool:
        return self.promised.provisional or self.statutory.provisional


@dataclass(frozen=True)
class Reading:
    """What a deadline shows today: the date, working days left (negative: overdue), the light."""

    deadline: date
    remaining_working_days: int
    light: Light
    provisional: bool


# --- the rules, over a calendar ---------------------------------------------------------------------


def case_deadlines(
    calendar: WorkCalendar,
    start: date,
    promised_days: int,
    statutory_days: int,
    *,
    suspensions: Sequence[Interval] = (),
    extension_days: int = 0,
    today: date | None = None,
) -> CaseDeadlines:
    """Promised and statutory dates from the acceptance day ``start`` (not counted), suspended days
    excluded (Art. 45), the extension added to the statutory limit only (Art. 42 extends the legal
    period, not the hall's promise). ``today`` ends open suspensions."""
    kwargs: dict[str, Any] = {"suspensions": list(suspensions)}
    if today is not None:
        kwargs["today"] = today
    return CaseDeadlines(
        calendar.add_working_days(start, promised_days, **kwargs),
        calendar.add_working_days(start, statutory_days, extension_days=extension_days or 0, **kwargs),
    )


def notice_deadline(calendar: WorkCalendar, received_on: date, limit_days: int) -> Deadline:
    """Art. 32: the last day for the one-time notice, ``limit_days`` working days after receipt."""
    return calendar.add_working_days(received_on, limit_days)


def deemed_accepted(calendar: WorkCalendar, received_on: date, limit_days: int, today: date) -> bool:
    """Art. 32: no notice by the limit → the application counts as accepted from ``received_on``."""
    return today > notice_deadline(calendar, received_on, limit_days).date


def supplement_deadline(
    calendar: WorkCalendar, accepted_on: date, promised: date | None, days: int = DEFICIENCY_DAYS
) -> Deadline:
    """容缺受理: deferred materials ``days`` working days after acceptance, no later than the promised date."""
    soon = calendar.add_working_days(accepted_on, days)
    if promised is not None and promised < soon.date:
        return Deadline(promised, soon.provisional)
    return soon


def rectification_deadline(calendar: WorkCalendar, opened_on: date, days: int) -> Deadline:
    """A bad rating's rectification item is due ``days`` working days after it was opened."""
    return calendar.add_working_days(opened_on, days)


def result_issue_deadline(
    calendar: WorkCalendar, decided_on: date, days: int = RESULT_ISSUE_DAYS
) -> Deadline:
    """Art. 44: the licence is issued and served within ten working days of the decision."""
    return calendar.add_working_days(decided_on, days)


def light(remaining_working_days: int, yellow_days: int) -> Light:
    """Electronic-supervision light (电子监察): red when overdue (remaining < 0), yellow when
    ``0 <= remaining <= yellow_days`` (the deadline day itself is yellow), green otherwise."""
    if remaining_working_days < 0:
        return "red"
    if remaining_working_days <= yellow_days:
        return "yellow"
    return "green"


def read_light(calendar: WorkCalendar, deadline: Deadline, today: date, yellow_days: int) -> Reading:
    """The light of ``deadline`` on ``today``: the one place a remaining count becomes a colour."""
    remaining = calendar.remaining_working_days(today, deadline.date)
    return Reading(deadline.date, remaining, light(remaining, yellow_days), bool(deadline.provisional))


# --- the service for one hall ------------------------------------------------------------------------


def hall_today(session: Session, hall_id: int) -> date:
    """Today in the hall's time zone, by the database clock."""
    tz = session.execute(select(Hall.timezone).where(Hall.id == hall_id)).scalar_one()
    return local_day(db_now(session), tz)


def suspensions_by_case(session: Session, case_ids: Iterable[int]) -> dict[int, list[Interval]]:
    """Every suspension interval of the given cases, keyed by case id."""
    ids = list(case_ids)
    found: dict[int, list[Interval]] = defaultdict(list)
    if not ids:
        return found
    for case_id, start, end in session.execute(
        select(Suspension.case_id, Suspension.started_on, Suspension.ended_on).where(
            Suspension.case_id.in_(ids)
        )
    ):
        found[case_id].append((start, end))
    return found


@dataclass(frozen=True)
class HallDeadlines:
    """One hall's deadlines as of ``today``: its calendar and thresholds, loaded once per read."""

    calendar: WorkCalendar
    thresholds: Thresholds
    today: date

    @classmethod
    def load(cls, session: Session, hall_id: int, today: date | None = None) -> HallDeadlines:
        settings, tz = session.execute(select(Hall.settings, Hall.timezone).where(Hall.id == hall_id)).one()
        if today is None:
            today = local_day(db_now(session), tz)
        return cls(hall_calendar(session, hall_id), Thresholds.of(settings), today)

    def of_case(self, case: Case, item: ServiceItem, suspensions: Sequence[Interval] = ()) -> CaseDeadlines:
        """Promised and statutory dates of a case, recomputed (never the stored columns)."""
        return case_deadlines(
            self.calendar,
            case.accepted_on or case.received_on,
            item.promised_days,
            item.statutory_days,
            suspensions=suspensions,
            extension_days=case.extension_days or 0,
            today=self.today,
        )

    def notice(self, received_on: date) -> Deadline:
        return notice_deadline(self.calendar, received_on, self.thresholds.notice_limit_days)

    def deemed_accepted(self, received_on: date) -> bool:
        return deemed_accepted(self.calendar, received_on, self.thresholds.notice_limit_days, self.today)

    def supplement(self, accepted_on: date, promised: date | None) -> Deadline:
        return supplement_deadline(self.calendar, accepted_on, promised)

    def rectification(self, opened_on: date) -> Deadline:
        return rectification_deadline(self.calendar, opened_on, self.thresholds.rectification_days)

    def result_issue(self, decided_on: date) -> Deadline:
        return result_issue_deadline(self.calendar, decided_on)

    def stored(self, day: date) -> Deadline:
        """A date fixed earlier (printed on a notice): provisional if the calendar does not know the day."""
        return Deadline(day, not self.calendar.is_known(day))

    def read(self, deadline: Deadline) -> Reading:
        return read_light(self.calendar, deadline, self.today, self.thresholds.yellow_days)
