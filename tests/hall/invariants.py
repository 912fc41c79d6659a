"""The hall's invariants: what must hold of the whole hall after any step of any day.

Each invariant is one function named after its rule, with the rule in plain words as its docstring.
It reads the real database (and the event log since its last look) through a :class:`HallWatch`,
and returns the violations it found as sentences a person can read — an empty list when the rule
holds. :data:`INVARIANTS` lists them in the order they are checked; :func:`check_hall` runs them all.

They are cheap enough to run after every step of a simulated week: each reads only what the step
could have changed — the tickets still open, the cases named by the events since the last check —
and the per-day figures (the daily report against its recount) once, when the day is over.

To add one: write ``def my_rule(w: HallWatch, s: Session, events: list[FeedEvent]) -> list[str]``
with its rule as the docstring, and append it to ``INVARIANTS``. Keep it scoped (the open tickets,
the cases in ``w.touched``); remember what it needs across steps in a field of ``HallWatch``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from window_terminal.core import access, hallview, queueing
from window_terminal.core.deadlines import HallDeadlines
from window_terminal.db.clock import db_now, local_day, local_midnight_utc
from window_terminal.db.engine import read_session
from window_terminal.db.feed import Feed, FeedEvent
from window_terminal.db.models import (
    Case,
    CaseMaterial,
    Department,
    Document,
    Event,
    Hall,
    Line,
    ReviewTask,
    ServiceItem,
    Staff,
    Ticket,
)

OPEN_TICKET = ("waiting", "called", "serving", "parked")
CALLABLE_TICKET = ("waiting", "parked")
OPEN_CASE = ("accepted", "in_review", "returned")

# Which commands (core/access.py PERMISSIONS) may append an event of each kind: an event is allowed
# when its actor's role may run one of them. A kind missing here needs an actor, and no more.
EVENT_COMMANDS: dict[str, tuple[str, ...]] = {
    "ticket.issued": ("ticket.take",),
    "ticket.called": ("call.next", "call.ticket"),
    "ticket.called_back": ("call.ticket",),
    "ticket.recalled": ("call.recall",),
    "ticket.no_show": ("call.no_show", "call.recall"),
    "ticket.started": ("call.start",),
    "ticket.finished": ("call.finish", "call.next", "call.ticket"),
    "ticket.parked": ("call.park",),
    "ticket.transferred": ("call.transfer",),
    "ticket.cancelled": ("ticket.cancel",),
    "ticket.moved_forward": ("ticket.move_forward",),
    "appointment.booked": ("appointment.book", "appointment.import"),
    "appointment.cancelled": ("appointment.cancel",),
    "window.status": ("window.status",),
    "window.lines": ("window.lines",),
    "line.status": ("line.status",),
    "hall.broadcast": ("hall.broadcast",),
    "case.submitted": ("case.submit",),
    "case.accepted": ("case.submit", "case.conclude", "case.supplement", "case.deem"),
    "case.handed_off": ("case.submit", "case.conclude", "case.supplement", "case.deem"),
    "case.commitment": ("case.submit", "case.conclude"),
    "case.notice_issued": ("case.submit", "case.conclude"),
    "case.not_accepted": ("case.submit", "case.conclude"),
    "case.notice_breach": ("case.submit", "case.conclude", "case.supplement"),
    "case.deemed_accepted": ("case.conclude", "case.deem"),
    "case.supplement_partial": ("case.supplement",),
    "case.supplement_received": ("case.record_supplement",),
    "case.visit": ("case.submit", "case.conclude", "case.supplement", "case.record_supplement", "case.visit"),
    "case.decided": ("review.approved", "review.refused"),
    "case.extended": ("case.extend",),
    "case.picked_up": ("case.pickup",),
    "case.posted": ("case.post",),
    "review.claimed": ("review.claim",),
    "review.approved": ("review.approved",),
    "review.refused": ("review.refused",),
    "review.returned": ("review.return",),
    "review.suspended": ("review.suspend",),
    "review.resumed": ("review.resume",),
    "rating.added": ("rating.add",),
    "rectification.opened": ("rating.add",),
    "rectification.closed": ("rectification.close",),
    "document.printed": ("document.print",),
    "document.print_failed": ("document.print",),
}
# The back-office events a reviewer may only append for a task (or case) of their own department.
DEPARTMENT_EVENTS = ("review.", "case.extended", "case.decided")
# TODO(close_day): the close of day is done by the system, named as such; until core/queueing.py
# close_day exists nobody knows its spelling — these device names are taken as that actor.
SYSTEM_ACTORS = ("system", "device:system", "SYSTEM")


@dataclass
class CaseDates:
    accepted_on: date | None
    promised: date | None
    statutory: date | None


@dataclass
class HallWatch:
    """One hall as the invariants remember it between steps."""

    engine: Engine
    hall_id: int
    code: str
    timezone: str
    feed: Feed
    view: hallview.HallView  # the board/TV's live view: a snapshot and every event since
    day: date  # the service day of the last check
    day_start_seq: int  # the last event before that day's first check
    dates: dict[int, CaseDates] = field(default_factory=dict)
    missed: dict[int, date] = field(default_factory=dict)  # case → the promised date seen missed
    red: set[int] = field(default_factory=set)  # cases whose light was seen red
    in_hand: dict[int, int] = field(default_factory=dict)  # ticket → the event that called it
    staff: dict[int, tuple[str, int | None, str]] = field(default_factory=dict)  # id → (role, dept, code)
    departments: dict[str, int] = field(default_factory=dict)  # code → id
    line_ids: dict[str, int] = field(default_factory=dict)  # code → id
    devices: dict[str, str] = field(default_factory=dict)  # device id → its kind
    touched: set[int] = field(default_factory=set)  # cases named by this step's events
    closed_days: list[date] = field(default_factory=list)  # days over since the last check
    checked: int = 0  # invariant checks run
    status: dict[str, Any] = field(default_factory=dict)  # `queue status` at this check (read once)

    @classmethod
    def start(cls, engine: Engine, hall_id: int) -> HallWatch:
        view = hallview.load_view(engine, hall_id)
        with read_session(engine) as s:
            hall = s.get(Hall, hall_id)
            assert hall is not None
            today = local_day(db_now(s), hall.timezone)
            watch = cls(
                engine=engine,
                hall_id=hall_id,
                code=hall.code,
                timezone=hall.timezone,
                feed=Feed(engine, hall_id, after=view.position),
                view=view,
                day=today,
                day_start_seq=view.cursor,
            )
            watch.staff = {
                sid: (role, dept, code)
                for sid, role, dept, code in s.execute(
                    select(Staff.id, Staff.role, Staff.department_id, Staff.code).where(
                        Staff.hall_id == hall_id
                    )
                )
            }
            watch.departments = dict(
                s.execute(select(Department.code, Department.id).where(Department.hall_id == hall_id)).all()
            )
            watch.line_ids = dict(s.execute(select(Line.code, Line.id).where(Line.hall_id == hall_id)).all())
            watch.devices = {k: str(v.get("kind")) for k, v in access.devices(hall.settings or {}).items()}
        return watch


Invariant = Callable[[HallWatch, Session, list[FeedEvent]], list[str]]


# --- helpers ---------------------------------------------------------------------------------------


def _today(w: HallWatch, s: Session) -> tuple[datetime, date]:
    now = db_now(s)
    return now, local_day(now, w.timezone)


def _case_ids_named(s: Session, hall_id: int, events: list[FeedEvent]) -> set[int]:
    ids = {int(e.payload["case_id"]) for e in events if e.payload.get("case_id")}
    numbers = {
        str(e.payload["case_no"]) for e in events if e.payload.get("case_no") and not e.payload.get("case_id")
    }
    if numbers:
        ids |= set(
            s.execute(select(Case.id).where(Case.hall_id == hall_id, Case.case_no.in_(numbers))).scalars()
        )
    return ids


def _events_for_case(events: list[FeedEvent], case_id: int, case_no: str, kind: str) -> list[FeedEvent]:
    return [
        e
        for e in events
        if e.kind == kind and (e.payload.get("case_id") == case_id or e.payload.get("case_no") == case_no)
    ]


def _actor(w: HallWatch, e: FeedEvent) -> str:
    if e.staff_id is not None:
        role, _, code = w.staff.get(e.staff_id, ("?", None, f"#{e.staff_id}"))
        return f"{code} ({role})"
    return e.device or "nobody"


def _case_departments(s: Session, case_id: int) -> set[int]:
    return set(s.execute(select(ReviewTask.department_id).where(ReviewTask.case_id == case_id)).scalars())


# --- the queue -------------------------------------------------------------------------------------


def no_ticket_called_twice(w: HallWatch, s: Session, events: list[FeedEvent]) -> list[str]:
    """A ticket is called once: after a call it is served, parked, ended or transferred before anyone
    may call it again (a recall or a call-back of a parked ticket is not a second call)."""
    found = []
    for e in events:
        ticket_id = e.payload.get("ticket_id")
        if ticket_id is None:
            continue
        if e.kind == "ticket.called":
            if ticket_id in w.in_hand:
                found.append(
                    f"ticket {e.payload.get('number')} (#{ticket_id}) called again at window "
                    f"{e.payload.get('window')} (event {e.seq}) while still called since event {w.in_hand[ticket_id]}"
                )
            w.in_hand[ticket_id] = e.seq
        elif e.kind in ("ticket.transferred", "ticket.finished", "ticket.no_show", "ticket.cancelled"):
            w.in_hand.pop(ticket_id, None)
        elif e.kind == "ticket.parked":
            w.in_hand.pop(ticket_id, None)
    return found


def no_two_live_tickets_share_a_number(w: HallWatch, s: Session, events: list[FeedEvent]) -> list[str]:
    """No two open tickets (waiting, called, serving, parked) of a hall read the same number: the TV
    would call "请A001号…" for two people."""
    rows = s.execute(
        select(Ticket.number, func.count(), func.min(Ticket.service_day), func.max(Ticket.service_day))
        .where(Ticket.hall_id == w.hall_id, Ticket.status.in_(OPEN_TICKET))
        .group_by(Ticket.number)
        .having(func.count() > 1)
    ).all()
    return [f"{n} open tickets read {number} (service days {d1} … {d2})" for number, n, d1, d2 in rows]


def no_ticket_of_a_past_day_callable(w: HallWatch, s: Session, events: list[FeedEvent]) -> list[str]:
    """A ticket of a service day that is over is never callable (waiting or parked) again."""
    _, today = _today(w, s)
    rows = s.execute(
        select(Ticket.number, Ticket.service_day, Ticket.status)
        .where(
            Ticket.hall_id == w.hall_id,
            Ticket.status.in_(CALLABLE_TICKET),
            Ticket.service_day < today,
        )
        .order_by(Ticket.id)
        .limit(5)
    ).all()
    return [f"ticket {n} of {d} is still {st} on {today}" for n, d, st in rows]


def waiting_means_callable_now(w: HallWatch, s: Session, events: list[FeedEvent]) -> list[str]:
    """Everyone counted as waiting (``queue status``, the board, the counter, the TV) can be called
    now, and everyone who can be called now is counted: a ticket of today, waiting, from its slot."""
    now, today = _today(w, s)
    callable_now = dict(
        s.execute(
            select(Ticket.line_id, func.count())
            .where(
                Ticket.hall_id == w.hall_id,
                Ticket.status == "waiting",
                Ticket.service_day == today,
                Ticket.eligible_at <= now,
            )
            .group_by(Ticket.line_id)
        ).all()
    )
    status = w.status
    line_ids = w.line_ids
    found = []
    for row in status["lines"]:
        can = int(callable_now.get(line_ids[row["line"]], 0))
        if row["waiting"] != can:
            found.append(
                f"line {row['line']}: `queue status` counts {row['waiting']} waiting, {can} can be called now"
            )
    return found


def every_screen_shows_one_recomputation(w: HallWatch, s: Session, events: list[FeedEvent]) -> list[str]:
    """What the board and the TV show (the live view: a snapshot plus every event since), what
    ``queue status`` and the counter show (one window's, in turn), all equal one fresh recomputation
    from the database."""
    fresh = hallview.load_view(w.engine, w.hall_id)
    live = w.view
    # the screens' tick at the very instant the reload read the hall: an appointment's slot or
    # midnight falling between two readings of the clock is not a difference between them
    live.release_due(fresh.as_of or db_now(s).replace(tzinfo=UTC))
    found = []
    if live.day != fresh.day:
        found.append(f"the board still shows service day {live.day} while the hall is on {fresh.day}")
        w.view = fresh  # one report per day, then compare against what a reload shows
        live = fresh
    for code in fresh.lines:
        if live.waiting(code) != fresh.waiting(code):
            found.append(
                f"line {code}: the board shows {live.waiting(code)} waiting, a reload {fresh.waiting(code)}"
            )
    if live.shown_waiting() != fresh.shown_waiting():
        found.append(f"the TV shows waiting {live.shown_waiting()}, a reload {fresh.shown_waiting()}")
    live_open = {t.id: (t.status, t.line) for t in live.tickets.values()}
    fresh_open = {t.id: (t.status, t.line) for t in fresh.tickets.values()}
    if live_open != fresh_open:
        diff = sorted(set(live_open.items()) ^ set(fresh_open.items()))[:4]
        found.append(f"open tickets differ between the board and a reload: {diff}")
    for number, fw in fresh.windows.items():
        lw = live.windows.get(number)
        seen = (lw.status, lw.ticket_id, lw.ticket_status) if lw else None
        if seen != (fw.status, fw.ticket_id, fw.ticket_status):
            found.append(
                f"window {number}: the board shows {seen}, a reload {(fw.status, fw.ticket_id, fw.ticket_status)}"
            )
    if live.day == fresh.day and (live.arrivals, live.served) != (fresh.arrivals, fresh.served):
        found.append("the board's hourly arrivals/served differ from a reload")
    if live.day == fresh.day:
        live_calls = [(c.number, c.window) for c in live.calls][-5:]
        fresh_calls = [(c.number, c.window) for c in fresh.calls][-5:]
        if live_calls != fresh_calls:
            found.append(f"the TV's newest calls {live_calls} differ from a reload {fresh_calls}")
    status = w.status
    for row in status["lines"]:
        if row["line"] in fresh.lines and row["waiting"] != fresh.waiting(row["line"]):
            found.append(
                f"line {row['line']}: `queue status` says {row['waiting']} waiting, the board {fresh.waiting(row['line'])}"
            )
    for row in status["windows"]:
        fw = fresh.windows.get(row["window"])
        if fw is not None and row["ticket_id"] != fw.ticket_id:
            found.append(
                f"window {row['window']}: `queue status` has #{row['ticket_id']} in hand, the board #{fw.ticket_id}"
            )
    if fresh.windows:  # the counter of one window per check, in turn
        from window_terminal.core.intake import counter_view

        numbers = sorted(fresh.windows)
        number = numbers[w.checked % len(numbers)]
        counter = counter_view(w.engine, w.hall_id, number)
        in_hand = (counter["in_hand"] or {}).get("ticket_id")
        if in_hand != fresh.windows[number].ticket_id:
            found.append(
                f"window {number}: the counter has #{in_hand} in hand, the board #{fresh.windows[number].ticket_id}"
            )
        for row in counter["lines"]:
            if row["line"] in fresh.lines and row["waiting"] != fresh.waiting(row["line"]):
                found.append(
                    f"window {number}: the counter shows {row['waiting']} waiting in {row['line']}, "
                    f"the board {fresh.waiting(row['line'])}"
                )
    return found


# --- the law's dates -------------------------------------------------------------------------------


def deemed_acceptance_dates_from_receipt(w: HallWatch, s: Session, events: list[FeedEvent]) -> list[str]:
    """When no one-time notice went out within the notice limit after a receipt (Art. 32), the case
    is accepted as of the receipt date — recorded as deemed — whatever happened later."""
    if not w.touched:
        return []
    service = HallDeadlines.load(s, w.hall_id)
    found = []
    cases = s.execute(
        select(Case).where(
            Case.id.in_(w.touched), Case.accepted_on.is_not(None), Case.accepted_at.is_not(None)
        )
    ).scalars()
    for case in cases:
        limit = service.notice(case.received_on).date
        first_notice = s.execute(
            select(func.min(Document.issued_at)).where(
                Document.case_id == case.id, Document.kind == "one_time_notice"
            )
        ).scalar_one()
        noticed_in_time = first_notice is not None and local_day(first_notice, w.timezone) <= limit
        assert case.accepted_at is not None
        accepted_late = local_day(case.accepted_at, w.timezone) > limit
        if accepted_late and not noticed_in_time:
            if case.accepted_on != case.received_on:
                found.append(
                    f"case {case.case_no}: received {case.received_on}, no notice by {limit}, yet accepted on "
                    f"{case.accepted_on} (must be the receipt date)"
                )
            if not case.deemed_accepted:
                found.append(
                    f"case {case.case_no}: deemed accepted by law (no notice by {limit}) but deemed_accepted is false"
                )
    return found


def legal_dates_move_only_by_a_recorded_reason(
    w: HallWatch, s: Session, events: list[FeedEvent]
) -> list[str]:
    """A legal date, once set, never moves: the acceptance date never; the statutory date only by a
    recorded suspension (Art. 45) or an extension by the case's own department (Art. 42); the
    promised date only by a recorded suspension (an extension moves the statutory date only)."""
    found = []
    if not w.touched:
        return found
    for case in s.execute(select(Case).where(Case.id.in_(w.touched))).scalars():
        assert case.id is not None
        now = CaseDates(case.accepted_on, case.promised_date, case.statutory_date)
        before = w.dates.get(case.id)
        w.dates[case.id] = now
        if before is None:
            continue
        resumed = bool(_events_for_case(events, case.id, case.case_no, "review.resumed"))
        extended = _events_for_case(events, case.id, case.case_no, "case.extended")
        depts = _case_departments(s, case.id)
        right_extension = any(
            e.staff_id is not None
            and (
                w.staff.get(e.staff_id, ("", None, ""))[0] == "manager"
                or w.staff.get(e.staff_id, ("", None, ""))[1] in depts
            )
            for e in extended
        )
        if before.accepted_on is not None and now.accepted_on != before.accepted_on:
            found.append(
                f"case {case.case_no}: acceptance date moved {before.accepted_on} → {now.accepted_on}"
            )
        if before.promised is not None and now.promised != before.promised and not resumed:
            why = (
                " by an extension (Art. 42 extends the statutory date only)"
                if extended
                else " without a recorded reason"
            )
            found.append(f"case {case.case_no}: promised date moved {before.promised} → {now.promised}{why}")
        if (
            before.statutory is not None
            and now.statutory != before.statutory
            and not (resumed or right_extension)
        ):
            why = " by an extension of another department" if extended else " without a recorded reason"
            found.append(
                f"case {case.case_no}: statutory date moved {before.statutory} → {now.statutory}{why}"
            )
    return found


def missed_promise_stays_missed(w: HallWatch, s: Session, events: list[FeedEvent]) -> list[str]:
    """A promised date, once missed, stays missed; a light never turns green (or yellow) from red
    without a recorded reason (a suspension of the clock)."""
    from window_terminal.core.supervision import case_light

    _, today = _today(w, s)
    found = []
    ids = set(w.touched)
    if w.closed_days:  # the lights move with the days: every open case once a day
        ids |= set(
            s.execute(select(Case.id).where(Case.hall_id == w.hall_id, Case.status.in_(OPEN_CASE))).scalars()
        )
    ids |= set(w.missed) & ids
    if not ids:
        return found
    for case, item in s.execute(
        select(Case, ServiceItem)
        .join(ServiceItem, ServiceItem.id == Case.item_id)
        .where(Case.id.in_(ids), Case.status.in_(OPEN_CASE), Case.accepted_on.is_not(None))
    ).all():
        assert case.id is not None
        # the promised date as it reads today: a clock still stopped (an open suspension) moves it
        both, reading, suspensions = case_light(s, w.hall_id, case, item, today)
        promised = both.promised.date
        seen = w.missed.get(case.id)
        if seen is not None and promised >= today:
            found.append(
                f"case {case.case_no}: promise missed on {seen} now reads {promised} (no longer missed)"
            )
        if promised < today and seen is None:
            w.missed[case.id] = promised
        if reading.light == "red":
            w.red.add(case.id)
        elif case.id in w.red and not suspensions:
            found.append(
                f"case {case.case_no}: light turned {reading.light} from red without a recorded suspension"
            )
            w.red.discard(case.id)
    return found


def one_notice_per_applicant_and_item(w: HallWatch, s: Session, events: list[FeedEvent]) -> list[str]:
    """One-time notice (Art. 32): at most one per case, and a notice to an applicant who already
    awaits a supplement for the same item asks for nothing new — unless a manager's override is
    recorded as a breach (and counted)."""
    if not w.touched:
        return []
    found = []
    for case in s.execute(select(Case).where(Case.id.in_(w.touched))).scalars():
        notices = s.execute(
            select(func.count()).where(Document.case_id == case.id, Document.kind == "one_time_notice")
        ).scalar_one()
        breached = case.notice_breach  # set with its case.notice_breach event, in one transaction
        if notices > 1 and not breached:
            found.append(f"case {case.case_no}: {notices} one-time notices and no recorded override")
        earlier = s.get(Case, case.earlier_case_id) if notices and case.earlier_case_id else None
        if earlier is not None and earlier.status == "notice_issued":  # still awaiting its supplement
            told = set(
                s.execute(
                    select(CaseMaterial.material_id).where(
                        CaseMaterial.case_id == case.earlier_case_id, CaseMaterial.in_notice
                    )
                ).scalars()
            )
            asked = set(
                s.execute(
                    select(CaseMaterial.material_id).where(
                        CaseMaterial.case_id == case.id, CaseMaterial.in_notice
                    )
                ).scalars()
            )
            if told and not asked <= told and not breached:
                found.append(
                    f"case {case.case_no}: a second notice to the same applicant and item asks for "
                    f"{len(asked - told)} more material(s) with no recorded override"
                )
    return found


# --- who did what ----------------------------------------------------------------------------------


def every_event_has_an_allowed_actor(w: HallWatch, s: Session, events: list[FeedEvent]) -> list[str]:
    """Every event names its actor (a staff member, a public device, or the system for the close of
    day), and that actor's role may run a command that appends it (core/access.py PERMISSIONS); a
    reviewer acts only for their own department."""
    found = []
    for e in events:
        if e.staff_id is None and e.device is None:
            found.append(f"event {e.seq} {e.kind} has no actor")
            continue
        if e.staff_id is None and e.device in SYSTEM_ACTORS:
            continue
        if e.staff_id is not None:
            role, dept, code = w.staff.get(e.staff_id, ("unknown", None, f"#{e.staff_id}"))
        else:
            device = (e.device or "").upper()
            role, dept, code = access.DEVICE_PREFIX + w.devices.get(device, "unknown"), None, e.device or ""
        commands = EVENT_COMMANDS.get(e.kind)
        if commands is not None and not any(access.may(role, c) for c in commands):
            found.append(f"event {e.seq} {e.kind} by {code} ({role}), who may run none of {commands}")
        if role == "reviewer" and e.kind.startswith(DEPARTMENT_EVENTS):
            wanted = e.payload.get("department")
            if wanted is not None:
                ok = w.departments.get(str(wanted)) == dept
            else:
                case_id = e.payload.get("case_id")
                ok = case_id is None or dept in _case_departments(s, int(case_id))
            if not ok:
                found.append(
                    f"event {e.seq} {e.kind} of case {e.payload.get('case_no')} by {code}, a reviewer of another department"
                )
    return found


# --- the figures -----------------------------------------------------------------------------------


def _local_day_of(w: HallWatch, moment: datetime) -> date:
    return local_day(moment, w.timezone)


def report_equals_recount_from_events(w: HallWatch, s: Session, events: list[FeedEvent]) -> list[str]:
    """The daily report's figures for a day that is over equal a recount of that day from the event
    log: tickets issued, served, no-show, cancelled; cases accepted, notices, breaches, non-acceptances,
    decisions, refusals, completions; ratings by level."""
    from window_terminal.core.reports.queries import period_report

    found: list[str] = []
    for day in w.closed_days:
        start = local_midnight_utc(day, w.timezone)
        rows = s.execute(
            select(Event.kind, Event.payload, Event.created_at)
            .where(Event.hall_id == w.hall_id, Event.seq > w.day_start_seq)
            .order_by(Event.seq)
        ).all()
        issued: set[int] = set()
        last: dict[int, str] = {}
        count: Counter[str] = Counter()
        for kind, p, at in rows:
            on_day = at >= start and _local_day_of(w, at) == day
            tid = p.get("ticket_id")
            if kind == "ticket.issued" and on_day:
                issued.add(tid)
            if kind.startswith("ticket.") and tid is not None:
                last[tid] = kind
            if not on_day:
                if kind == "case.accepted" and p.get("accepted_on") == day.isoformat():
                    count["accepted"] += 1
                continue
            if kind == "case.accepted" and p.get("accepted_on") == day.isoformat():
                count["accepted"] += 1
            elif kind == "document.issued" and p.get("kind") == "one_time_notice":
                count["notices"] += 1
            elif kind == "document.issued" and p.get("kind") == "non_acceptance_notice":
                count["not_accepted"] += 1
            elif kind == "case.notice_breach":
                count["notice_breaches"] += 1
            elif kind == "case.decided":
                count["decided"] += 1
                count["refused"] += p.get("decision") == "refused"
            elif kind in ("case.picked_up", "case.posted"):
                count["completed"] += 1
            elif kind == "rating.added":
                count[f"rating{p.get('level')}"] += 1
        ends = {"ticket.finished": "served", "ticket.no_show": "no_show", "ticket.cancelled": "cancelled"}
        for tid in issued:
            count["issued"] += 1
            if last.get(tid) in ends:
                count[ends[last[tid]]] += 1
        report = period_report(w.engine, w.hall_id, day, day)
        total = report.table("queue_total").rows
        shown: dict[str, Any] = dict(total[0]) if total else {}
        shown.update({r["figure"]: r["value"] for r in report.table("cases").rows})
        shown.update({f"rating{r['level']}": r["count"] for r in report.table("ratings").rows})
        for key in (
            "issued",
            "served",
            "no_show",
            "cancelled",
            "accepted",
            "notices",
            "notice_breaches",
            "not_accepted",
            "decided",
            "refused",
            "completed",
            *(f"rating{level}" for level in range(1, 6)),
        ):
            if int(shown.get(key) or 0) != count[key]:
                found.append(
                    f"report of {day}: {key} = {shown.get(key) or 0}, the event log says {count[key]}"
                )
    return found


INVARIANTS: list[Invariant] = [
    no_ticket_called_twice,
    no_two_live_tickets_share_a_number,
    no_ticket_of_a_past_day_callable,
    waiting_means_callable_now,
    every_screen_shows_one_recomputation,
    deemed_acceptance_dates_from_receipt,
    legal_dates_move_only_by_a_recorded_reason,
    missed_promise_stays_missed,
    one_notice_per_applicant_and_item,
    every_event_has_an_allowed_actor,
    report_equals_recount_from_events,
]


# What only the queue, the windows or the clock can change: checked after a step that changed one of
# them (an event of these kinds, or time passing), not after a step in the back office.
QUEUE_INVARIANTS = frozenset({waiting_means_callable_now, every_screen_shows_one_recomputation})
QUEUE_EVENTS = ("ticket.", "window.", "line.", "hall.", "appointment.")


def _number_pending(w: HallWatch) -> None:
    """PostgreSQL: number what the counters' fast path committed unnumbered (wt_sequence), so the
    events of this step are all read now."""
    if w.engine.dialect.name != "postgresql":
        return
    with w.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SELECT wt_sequence(:hall_id)"), {"hall_id": w.hall_id})


def check_hall(
    w: HallWatch, *, time_moved: bool = True, only: frozenset[str] | None = None
) -> dict[str, list[str]]:
    """Run every invariant once over the hall's state now and the events since the last check;
    returns {invariant name: violations} for those that failed.

    With ``time_moved`` false (a step that did not move the clock) and no event since the last
    check, the hall is as it was when last checked: nothing is run (a refused command changes
    nothing, so there is nothing new to check). ``only`` names the invariants to run (a shrinking
    replay needs only the one it shrinks)."""
    _number_pending(w)
    cursor_before = w.feed.cursor
    events: list[FeedEvent] = []
    while True:
        batch = w.feed.fetch()
        events += batch
        if len(batch) < w.feed.batch:
            break
    failed: dict[str, list[str]] = {}
    if not events and not time_moved:
        return failed
    w.view.apply_all(events)  # the board and the TV follow the feed whatever happens
    queue_moved = time_moved or any(e.kind.startswith(QUEUE_EVENTS) for e in events)
    with read_session(w.engine) as s:
        if queue_moved:
            w.status = queueing.queue_status_in(s, w.hall_id)
        w.touched = _case_ids_named(s, w.hall_id, events)
        _, today = _today(w, s)
        w.closed_days = [w.day] if today != w.day else []
        for invariant in INVARIANTS:
            if only is not None and invariant.__name__ not in only:
                continue
            if invariant in QUEUE_INVARIANTS and not queue_moved:
                continue
            found = invariant(w, s, events)
            w.checked += 1
            if found:
                failed[invariant.__name__] = found
        if today != w.day:  # the new day's report counts from its first event on
            start = local_midnight_utc(today, w.timezone)
            w.day = today
            w.day_start_seq = max([cursor_before, *(e.seq for e in events if e.created_at < start)])
    return failed
