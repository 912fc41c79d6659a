"""Simulated hall days: what people do, each as a small adapter over the real core API.

A step is ``Step(operation, hall, seed)``: the operation's name (a key of :data:`OPERATIONS`), the
hall it happens in (0 or 1: two halls share the database) and the seed of its own choices (which
window, which ticket, which outcome). The same steps on a fresh database do the same things, so a
failing run can be replayed and shrunk (hypothesis's state machine in tests/test_hall_weeks.py, or
:func:`shrink` in benchmarks/hall_weeks.py).

Every adapter calls the core as a front end would (never the database), chooses its target from
what the core reads back, and returns one line saying what it did. A refusal of the core
(``DomainError``) is an ordinary outcome; any other exception is a defect. An adapter raises
:class:`NotNow` when there is nothing to do it to (no ticket in hand, no case awaiting a supplement).

To plug in a new operation, write ``def my_step(sim, hall, rng) -> str`` and add it to
``OPERATIONS`` with its weight — one line. Operations whose API is not on main yet look it up with
``getattr`` and raise ``NotNow`` until it exists (see ``close_the_day``).
"""

from __future__ import annotations

import random
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine

from tests.hall import invariants
from tests.hall.databases import HALL_CODES
from window_terminal.core import appointments, intake, queueing, ratings, review
from window_terminal.core.hall import resolve_hall
from window_terminal.db import clock
from window_terminal.db.clock import local_midnight_utc
from window_terminal.db.engine import make_engine
from window_terminal.errors import DomainError

LINES = ("BIZ", "FOOD", "SOC", "HPF", "POP", "CONS", "GEN", "TAX")
WINDOWS = tuple(range(1, 15))
KIOSK = "device:KIOSK1"
RATING = "device:RATE"
MANAGER = "M001"
SUPERVISOR = "S001"
DEMO_PIN = "1234"  # queue/staff.toml: every demo staff member's initial PIN
# Items chosen for their rules: 容缺 (SCJG-0006), 告知承诺 (SCJG-0002), a joint item reviewed by two
# departments in parallel (XZSP-0001), a plain one (GA-0001).
ITEMS = ("SCJG-0006", "SCJG-0002", "XZSP-0001", "GA-0001")
REVIEWERS = {"SCJG": "R001", "RSJ": "R002", "GJJ": "R003", "GA": "R004", "XZSP": "R009", "WJ": "R007"}
START = datetime(2026, 9, 28, 8, 30)  # a Monday, three days before the National Day holiday
STEP_TIME = timedelta(seconds=10)  # every step takes this long in the hall, besides the clock's own steps


def clerk_of(window: int) -> str:
    """The clerk who works at ``window`` (C001 at window 1 …)."""
    return f"C{window:03d}"


def id_number(serial: int) -> str:
    """A valid resident ID number (GB 11643 check character) for the ``serial``-th applicant."""
    base = f"510104{1970 + serial % 40:04d}0{1 + serial % 9}1{serial % 10}{100 + serial % 900:03d}"[:17]
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(base, weights, strict=True))
    return base + "10X98765432"[total % 11]


APPLICANTS = tuple(
    intake.Applicant(name, "resident_id", id_number(i), "")
    for i, name in enumerate(("张晓梅", "李建国", "王磊", "赵敏"))
)


class NotNow(Exception):
    """Nothing to do this operation to at this moment (not a refusal: the step is skipped)."""


@dataclass(frozen=True)
class Step:
    operation: str
    hall: int
    seed: int

    def __str__(self) -> str:
        return f"{self.operation}(hall={self.hall}, seed={self.seed})"


@dataclass
class HallModel:
    """What the simulated people of one hall remember: their cases and bookings (by number)."""

    hall_id: int
    code: str
    items: dict[str, intake.ItemInfo]
    cases: dict[str, str] = field(default_factory=dict)  # case_no → its status as last seen
    applicant_of: dict[str, tuple[int, str]] = field(default_factory=dict)  # case_no → (applicant, item)
    bookings: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    step: Step
    said: str
    violations: dict[str, list[str]]


def open_the_halls(engine: Engine) -> None:
    """The first morning (``START``): every clerk opens their window, in both halls (done once, in
    the template database every run is cloned from: tests/hall/databases.py)."""
    from window_terminal.db.engine import read_session

    with read_session(engine) as s:
        real = clock.db_now(s) - clock.get_offset()
    opening = START - timedelta(minutes=1) - datetime.combine(START.date(), time())
    clock.set_offset(local_midnight_utc(START.date(), "Asia/Shanghai") + opening - real)
    try:
        for code in HALL_CODES:
            hall_id = resolve_hall(engine, code).id
            for window in WINDOWS:
                queueing.set_window_status(engine, hall_id, window, "open", actor=clerk_of(window))
    finally:
        clock.set_offset(timedelta(0))


class Simulation:
    """Two halls in one database, a clock that only moves forward, the invariants after each step."""

    def __init__(self, url: str, *, check: bool = True, only: frozenset[str] | None = None) -> None:
        self.url = url
        self.only = only  # the invariants to check (None: all)
        self.engine: Engine = make_engine(url)
        self.check = check
        self.halls: list[HallModel] = []
        self.watches: list[invariants.HallWatch] = []
        self.days: set[date] = set()
        self.invariants_checked = 0
        self.time = START
        self.set_local_time(START)
        for code in HALL_CODES:
            ref = resolve_hall(self.engine, code)
            items = {code_: intake.item_info(self.engine, ref.id, code_) for code_ in ITEMS}
            self.halls.append(HallModel(ref.id, ref.code, items))
        if check:
            self.watches = [invariants.HallWatch.start(self.engine, m.hall_id) for m in self.halls]
        self.days.add(self.local_now().date())

    # -- the clock ---------------------------------------------------------------------------------

    def local_now(self) -> datetime:
        """The halls' local time (Asia/Shanghai), as the simulation has set it."""
        return self.time

    def set_local_time(self, local: datetime) -> None:
        """Move the database clock (db/clock.py ``set_offset``) so the halls' local time reads ``local``.

        The simulated time is the steps' own: each step starts at the time the steps before it
        set, whatever the real time, so a replay does the same things (no timing luck)."""
        before, self.time = self.time, local
        self._pin_clock()
        if before is not None and local.date() > before.date():
            for model in self.halls:  # the server's timer closes each day that ended, however time passed
                run_close_day(self, model)

    def _pin_clock(self) -> None:
        target = local_midnight_utc(self.time.date(), "Asia/Shanghai") + (
            self.time - datetime.combine(self.time.date(), time())
        )
        real = datetime.now(UTC).replace(tzinfo=None)
        real = real.replace(microsecond=real.microsecond // 1000 * 1000)  # SQLite's clock: milliseconds
        clock.set_offset(target - real)

    def advance(self, delta: timedelta) -> None:
        self.set_local_time(self.time + delta)

    # -- steps -------------------------------------------------------------------------------------

    def run(self, step: Step) -> Outcome:
        model = self.halls[step.hall % len(self.halls)]
        operation = OPERATIONS[step.operation][0]
        rng = random.Random(step.seed)
        violations: dict[str, list[str]] = {}
        self.advance(STEP_TIME)
        try:
            said = operation(self, model, rng)
        except NotNow as exc:
            said = f"nothing to do ({exc})"
        except DomainError as exc:
            said = f"refused: {exc.en}"
        except Exception as exc:  # a traceback in the core is a defect, whatever the input
            said = f"crashed: {exc!r}"
            violations["no_operation_crashes"] = [
                f"{step.operation} raised {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=6)}"
            ]
        if said.startswith("VIOLATION "):
            name, _, text = said[len("VIOLATION ") :].partition(": ")
            violations.setdefault(name, []).append(text)
        self.days.add(self.local_now().date())
        if self.check:
            halls = (
                self.watches
                if step.operation in CLOCK_OPERATIONS
                else [self.watches[step.hall % len(self.watches)]]
            )
            for watch in halls:
                before = watch.checked
                moved = step.operation in CLOCK_OPERATIONS
                for name, found in invariants.check_hall(watch, time_moved=moved, only=self.only).items():
                    violations.setdefault(name, []).extend(f"[{watch.code}] {v}" for v in found)
                self.invariants_checked += watch.checked - before
        return Outcome(step, f"[{model.code}] {step.operation}: {said}", violations)

    def close(self) -> None:
        self.engine.dispose()


Operation = Callable[[Simulation, HallModel, random.Random], str]


# --- helpers ---------------------------------------------------------------------------------------


def _in_hand(sim: Simulation, hall: HallModel, window: int) -> queueing.TicketInfo:
    ticket = queueing.window_in_hand(sim.engine, hall.hall_id, window)
    if ticket is None:
        raise NotNow(f"window {window} has no ticket in hand")
    return ticket


def _busy_window(sim: Simulation, hall: HallModel, rng: random.Random, *states: str) -> tuple[int, int]:
    """A window with a ticket in hand (in one of ``states``): (window, ticket id)."""
    rows = [
        w
        for w in queueing.queue_status(sim.engine, hall.hall_id)["windows"]
        if w["ticket_id"] is not None and (not states or w["ticket_status"] in states)
    ]
    if not rows:
        raise NotNow("no window has a ticket in hand")
    row = rng.choice(rows)
    return int(row["window"]), int(row["ticket_id"])


def _waiting(sim: Simulation, hall: HallModel, rng: random.Random, *states: str) -> dict[str, Any]:
    rows = [
        t for t in queueing.waiting_tickets(sim.engine, hall.hall_id) if not states or t["status"] in states
    ]
    if not rows:
        raise NotNow("nobody is waiting")
    return rng.choice(rows)


def _case(hall: HallModel, rng: random.Random, *statuses: str) -> str:
    found = sorted(no for no, status in hall.cases.items() if status in statuses)
    if not found:
        raise NotNow(f"no case is {'/'.join(statuses)}")
    return rng.choice(found)


def _checks(item: intake.ItemInfo, kind: str, rng: random.Random) -> list[intake.MaterialCheck]:
    """The clerk's checklist: all there, one required material missing, tolerable ones deferred
    (容缺), or commitments in place of proof (告知承诺)."""
    checks = intake.default_checks(item)
    materials = {m.id: m for m in item.materials}
    if kind == "missing":
        required = [c for c in checks if materials[c.material_id].required]
        for c in rng.sample(required, k=min(len(required), rng.choice((1, 1, 2)))):
            c.status, c.originals, c.copies, c.note = "missing", 0, 0, "未带"
    elif kind == "deferred":
        for c in checks:
            if materials[c.material_id].tolerable:
                c.status, c.originals, c.copies = "deferred", 0, 0
    elif kind == "commitment":
        for c in checks:
            if materials[c.material_id].commitment:
                c.status, c.originals, c.copies = "commitment", 0, 0
    return checks


def _remember(hall: HallModel, result: intake.CaseResult) -> str:
    hall.cases[result.case_no] = result.status
    return f"case {result.case_no} {result.status}" + (
        f" ({result.document_number})" if result.document_number else ""
    )


def _refresh(sim: Simulation, hall: HallModel, case_no: str) -> dict[str, Any]:
    detail = review.case_detail(sim.engine, hall.hall_id, case_no)
    hall.cases[case_no] = detail["status"]
    return detail


# --- the queue -------------------------------------------------------------------------------------


def kiosk_ticket(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    """An arrival takes a number at the kiosk."""
    t = queueing.take_ticket(sim.engine, hall.hall_id, rng.choice(LINES), actor=KIOSK)
    return f"{t.number} issued ({t.people_ahead} ahead)"


def priority_ticket(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    """The priority lane (绿色通道), issued by a clerk or the kiosk."""
    t = queueing.take_ticket(
        sim.engine,
        hall.hall_id,
        rng.choice(LINES),
        kind="priority",
        priority_reason=rng.choice(("老年人", "残疾人", "军人")),
        actor=rng.choice((KIOSK, clerk_of(rng.choice(WINDOWS)))),
    )
    return f"priority {t.number} issued"


def book_appointment(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    """A booking for a slot later today or in the next days."""
    now = sim.local_now()
    day = now.date() + timedelta(days=rng.choice((0, 0, 1, 2)))
    start = time(rng.randrange(8, 18), rng.choice((0, 30)))
    done = appointments.book(
        sim.engine,
        hall.hall_id,
        appointments.Booking(rng.choice(LINES), day, start),
        source="kiosk",
        actor=KIOSK,
    )
    hall.bookings.append(done["code"])
    return f"booked {done['code']} for {done['slot']}"


def appointment_check_in(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    """A booked applicant checks in at the kiosk (an appointment ticket, callable from its slot)."""
    if not hall.bookings:
        raise NotNow("no booking")
    code = rng.choice(hall.bookings)
    t = queueing.take_ticket(sim.engine, hall.hall_id, kind="appointment", appointment_code=code, actor=KIOSK)
    return f"appointment {code} checked in as {t.number}"


def call_next(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    """A clerk calls the next ticket to their window."""
    window = rng.choice(WINDOWS)
    t = queueing.call_next(sim.engine, hall.hall_id, window, actor=clerk_of(window))
    return f"window {window} called {t.number if t else 'nobody'}"


def call_a_ticket(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    """A clerk calls a particular waiting or parked ticket (a parked one is called back)."""
    target = _waiting(sim, hall, rng)
    window = rng.choice(WINDOWS)
    t = queueing.call_ticket(sim.engine, hall.hall_id, window, target["ticket_id"], actor=clerk_of(window))
    return f"window {window} called {t.number} ({target['status']})"


def recall(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    window, _ = _busy_window(sim, hall, rng, "called")
    t = queueing.recall(sim.engine, hall.hall_id, window, actor=clerk_of(window))
    return f"window {window} recalled {t.number} → {t.status}"


def start_service(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    window, _ = _busy_window(sim, hall, rng, "called")
    t = queueing.start_service(sim.engine, hall.hall_id, window, actor=clerk_of(window))
    return f"window {window} serves {t.number}"


def finish(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    window, _ = _busy_window(sim, hall, rng)
    t = queueing.finish(sim.engine, hall.hall_id, window, actor=clerk_of(window))
    return f"window {window} finished {t.number}"


def no_show(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    window, _ = _busy_window(sim, hall, rng, "called")
    t = queueing.no_show(sim.engine, hall.hall_id, window, actor=clerk_of(window))
    return f"window {window}: {t.number} no-show"


def park(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    window, _ = _busy_window(sim, hall, rng)
    t = queueing.park(sim.engine, hall.hall_id, window, actor=clerk_of(window))
    return f"window {window} parked {t.number}"


def transfer_in_hand(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    """The applicant is at the wrong window: their ticket goes to the right line, keeping its place."""
    window, _ = _busy_window(sim, hall, rng)
    t = queueing.transfer(
        sim.engine, hall.hall_id, rng.choice(LINES), window_number=window, actor=clerk_of(window)
    )
    return f"window {window} transferred {t.number} to {t.line}"


def transfer_waiting(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    target = _waiting(sim, hall, rng)
    t = queueing.transfer(
        sim.engine,
        hall.hall_id,
        rng.choice(LINES),
        ticket_ref=target["ticket_id"],
        actor=clerk_of(rng.choice(WINDOWS)),
    )
    return f"{t.number} transferred to {t.line}"


def cancel_ticket(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    target = _waiting(sim, hall, rng)
    t = queueing.cancel(
        sim.engine, hall.hall_id, target["ticket_id"], reason="离开", actor=clerk_of(rng.choice(WINDOWS))
    )
    return f"{t.number} cancelled"


def move_forward(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    """The manager moves a waiting ticket to the head of its line; a clerk may not (must be refused)."""
    target = _waiting(sim, hall, rng, "waiting")
    if rng.random() < 0.2:
        try:
            queueing.move_forward(
                sim.engine, hall.hall_id, target["ticket_id"], reason="急事", actor=clerk_of(1)
            )
        except DomainError:
            return f"a clerk moving {target['number']} forward was refused, as it must be"
        return f"VIOLATION only_a_manager_moves_a_ticket_forward: clerk C001 moved {target['number']} forward"
    t = queueing.move_forward(sim.engine, hall.hall_id, target["ticket_id"], reason="身体不适", actor=MANAGER)
    return f"manager moved {t.number} forward"


def window_status(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    window = rng.choice(WINDOWS)
    status = rng.choice(("open", "open", "open", "paused", "closed"))
    queueing.set_window_status(sim.engine, hall.hall_id, window, status, actor=clerk_of(window))
    return f"window {window} {status}"


# --- intake ----------------------------------------------------------------------------------------


def submit_case(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    """An applicant hands in an application: every intake outcome, with or without a ticket in hand."""
    person = rng.randrange(len(APPLICANTS))
    item = hall.items[rng.choice(ITEMS)]
    outcome, kind = rng.choice(
        (
            ("accept", "complete"),
            ("accept", "commitment"),
            ("notice", "missing"),
            ("notice", "missing"),
            ("deficiency", "deferred"),
            ("non_acceptance", "complete"),
            (None, "complete"),
            (None, "missing"),
            (None, "missing"),
        )
    )
    window = rng.choice(WINDOWS)
    ticket_id = None
    held = queueing.window_in_hand(sim.engine, hall.hall_id, window)
    if held is not None:
        ticket_id = held.id
    result = intake.submit(
        sim.engine,
        hall.hall_id,
        applicant=APPLICANTS[person],
        item=item.code,
        materials=_checks(item, kind, rng),
        outcome=outcome,
        window=window,
        ticket_id=ticket_id,
        actor=clerk_of(window),
        reason_kind="not_competent" if outcome == "non_acceptance" else "",
        competent_office="成都市公安局" if outcome == "non_acceptance" else "",
    )
    hall.applicant_of[result.case_no] = (person, item.code)
    return f"{outcome or 'receipt'} ({kind}) of {item.code} → " + _remember(hall, result)


def new_case_same_applicant(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    """The applicant of a case awaiting a supplement comes back with a new application for the same
    item; sometimes a manager authorises a second notice (a recorded breach)."""
    case_no = _case(hall, rng, "notice_issued")
    person, item_code = hall.applicant_of.get(case_no, (0, ITEMS[0]))
    item = hall.items[item_code]
    window = rng.choice(WINDOWS)
    override = intake.Override(MANAGER, DEMO_PIN, "申请人材料变更") if rng.random() < 0.3 else None
    result = intake.submit(
        sim.engine,
        hall.hall_id,
        applicant=APPLICANTS[person],
        item=item.code,
        materials=_checks(item, rng.choice(("missing", "complete")), rng),
        outcome=rng.choice(("notice", "accept", None)),
        window=window,
        actor=clerk_of(window),
        override=override,
    )
    hall.applicant_of[result.case_no] = (person, item.code)
    return f"again {item.code} (override={override is not None}) → " + _remember(hall, result)


def conclude_receipt(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    """The outcome of a receipt of materials, within the notice limit or late (a manager may still
    record a late notice, a breach)."""
    case_no = _case(hall, rng, "submitted")
    outcome = rng.choice(("accept", "notice", "notice", "non_acceptance", "deficiency"))
    actor = MANAGER if rng.random() < 0.3 else clerk_of(rng.choice(WINDOWS))
    detail = _refresh(sim, hall, case_no)
    item = hall.items[detail["item_code"]]
    kind = {
        "accept": "complete",
        "notice": "missing",
        "non_acceptance": "complete",
        "deficiency": "deferred",
    }[outcome]
    result = intake.conclude(
        sim.engine,
        hall.hall_id,
        case_no,
        outcome,
        materials=_checks(item, kind, rng),
        actor=actor,
        reason_kind="no_licence_needed" if outcome == "non_acceptance" else "",
    )
    return f"{outcome} by {actor} → " + _remember(hall, result)


def late_notice(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    """The hall manager records a one-time notice for a receipt, past the notice limit or not (a
    late one is a breach, and the application already counts as accepted from its receipt)."""
    case_no = _case(hall, rng, "submitted")
    item = hall.items[_refresh(sim, hall, case_no)["item_code"]]
    result = intake.conclude(
        sim.engine, hall.hall_id, case_no, "notice", materials=_checks(item, "missing", rng), actor=MANAGER
    )
    return f"manager's notice (breach={result.notice_breach}) → " + _remember(hall, result)


def supplement(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    """The applicant brings what the one-time notice asked for (all of it, or part)."""
    case_no = _case(hall, rng, "notice_issued")
    detail = _refresh(sim, hall, case_no)
    item = hall.items[detail["item_code"]]
    names = {m.name: m.id for m in item.materials}
    given = []
    for m in detail["materials"]:
        if m["status"] in ("missing", "defective"):
            status = "received" if rng.random() < 0.8 else "missing"
            given.append(intake.MaterialCheck(names[m["name"]], status, 1, 0))
    window = rng.choice(WINDOWS)
    result = intake.supplement(
        sim.engine, hall.hall_id, case_no, given, window=window, actor=clerk_of(window)
    )
    return "supplement → " + _remember(hall, result)


def deferred_materials_arrive(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    """The deferred materials of a 容缺 acceptance arrive."""
    found = sorted(no for no, st in hall.cases.items() if st in ("accepted", "in_review", "decided"))
    if not found:
        raise NotNow("no accepted case")
    case_no = rng.choice(found)
    window = rng.choice(WINDOWS)
    result = intake.record_supplement(
        sim.engine, hall.hall_id, case_no, window=window, actor=clerk_of(window)
    )
    return "deferred materials in → " + _remember(hall, result)


def deem_due_cases(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    """`wt case deem`: every receipt past its notice limit is accepted as of its receipt date."""
    done = intake.apply_deemed_acceptances(
        sim.engine, hall.hall_id, actor=rng.choice((SUPERVISOR, clerk_of(1)))
    )
    for row in done:
        hall.cases[row["case_no"]] = "accepted"
    return f"deemed {len(done)} case(s) accepted: {[r['case_no'] for r in done]}"


# --- the back office ---------------------------------------------------------------------------------


def _task(sim: Simulation, hall: HallModel, rng: random.Random, *states: str) -> tuple[str, dict[str, Any]]:
    case_no = _case(hall, rng, "accepted", "in_review", "returned")
    detail = _refresh(sim, hall, case_no)
    tasks = [t for t in detail["tasks"] if t["status"] in states]
    if not tasks:
        raise NotNow(f"case {case_no} has no {'/'.join(states)} task")
    return case_no, rng.choice(tasks)


def review_task(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    """A reviewer of the task's department claims and decides it (approve, refuse, return)."""
    case_no, task = _task(sim, hall, rng, "pending", "claimed")
    reviewer = REVIEWERS.get(task["department"], "R001")
    if task["status"] == "pending":
        review.claim(sim.engine, hall.hall_id, task["task_id"], actor=reviewer)
    verdict = rng.choice(("approve", "approve", "approve", "refuse", "return"))
    if verdict == "approve":
        r = review.approve(sim.engine, hall.hall_id, task["task_id"], note="材料齐全，同意", actor=reviewer)
    elif verdict == "refuse":
        r = review.refuse(sim.engine, hall.hall_id, task["task_id"], "不符合法定条件", actor=reviewer)
    else:
        r = review.return_to_counter(
            sim.engine, hall.hall_id, task["task_id"], "申请表签名缺失", actor=reviewer
        )
    hall.cases[case_no] = r["case_status"]
    return f"{task['department']} {verdict} on {case_no} → {r['case_status']}"


def review_by_the_wrong_department(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    """A reviewer of another department tries to claim, suspend or extend a case: refused."""
    case_no, task = _task(sim, hall, rng, "pending", "claimed")
    own = {t["department"] for t in _refresh(sim, hall, case_no)["tasks"]}
    wrong = next(code for dept, code in REVIEWERS.items() if dept not in own)
    what = rng.choice(("claim", "suspend", "extend"))
    try:
        if what == "claim":
            review.claim(sim.engine, hall.hall_id, task["task_id"], actor=wrong)
        elif what == "suspend":
            review.suspend(
                sim.engine, hall.hall_id, task["task_id"], "inspection", "现场核查", 3, actor=wrong
            )
        else:
            extend(sim, hall, case_no, wrong)
    except DomainError:
        return f"{wrong} ({what}, {case_no} of {task['department']}) refused, as it must be"
    return f"VIOLATION the_wrong_department_is_refused: {wrong} could {what} case {case_no} of {task['department']}"


def extend(
    sim: Simulation, hall: HallModel, case_no: str, actor: str, department: str | None = None
) -> dict[str, Any]:
    """The one call of ``review.extend`` (Art. 42), approved by a head of ``department`` (the
    acting reviewer's own, by default) who may approve (staff.toml ``approves_extensions``)."""
    dept = department or next((d for d, code in REVIEWERS.items() if code == actor), "XZSP")
    heads = review.extension_approvers(sim.engine, hall.hall_id, dept)
    approver = heads[0]["code"] if heads else "S001"
    return review.extend(
        sim.engine, hall.hall_id, case_no, approver=approver, reason="需要现场核查", days=5, actor=actor
    )


def extend_time_limit(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    """The case's own department extends the statutory period (Art. 42)."""
    case_no, task = _task(sim, hall, rng, "pending", "claimed", "suspended")
    r = extend(sim, hall, case_no, REVIEWERS.get(task["department"], "R001"))
    return f"{case_no} extended: promised {r['promised_date']}, statutory {r['statutory_date']}"


def suspend_clock(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    case_no, task = _task(sim, hall, rng, "pending", "claimed")
    reviewer = REVIEWERS.get(task["department"], "R001")
    review.suspend(
        sim.engine,
        hall.hall_id,
        task["task_id"],
        rng.choice(("inspection", "testing")),
        "专家评审",
        rng.randint(1, 5),
        actor=reviewer,
    )
    return f"{case_no} suspended by {task['department']}"


def resume_clock(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    case_no, task = _task(sim, hall, rng, "suspended")
    r = review.resume(
        sim.engine, hall.hall_id, task["task_id"], actor=REVIEWERS.get(task["department"], "R001")
    )
    return f"{case_no} resumed ({r['task_status']})"


def hand_over_result(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    """The applicant picks the result up at a window, or it is posted."""
    case_no = _case(hall, rng, "decided")
    window = rng.choice(WINDOWS)
    if rng.random() < 0.7:
        r = review.record_pickup(sim.engine, hall.hall_id, case_no, window, actor=clerk_of(window))
    else:
        r = review.record_posted(sim.engine, hall.hall_id, case_no, "EMS1234567890", actor=clerk_of(window))
    hall.cases[case_no] = r["case_status"]
    return f"{case_no} handed over → {r['case_status']}"


# --- ratings -----------------------------------------------------------------------------------------


def rate_service(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    """The applicant rates the window's last service (a bad rating opens a rectification)."""
    window = rng.choice(WINDOWS)
    level = rng.choice((5, 5, 4, 3, 2, 1))
    ratings.rate(sim.engine, hall.hall_id, window, level, actor=RATING)
    return f"window {window} rated {level}"


def close_rectification(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    items = ratings.list_rectifications(sim.engine, hall.hall_id)
    if not items:
        raise NotNow("no open rectification")
    item = rng.choice(items)
    ratings.close_rectification(sim.engine, hall.hall_id, int(item["id"]), "已约谈整改", actor=MANAGER)
    return f"rectification #{item['id']} closed"


# --- the day and the clock -----------------------------------------------------------------------------


def minutes_pass(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    minutes = rng.choice((2, 5, 10, 20, 40))
    sim.advance(timedelta(minutes=minutes))
    return f"{minutes} minutes pass"


def hours_pass(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    hours = rng.randint(1, 6)
    sim.advance(timedelta(hours=hours))
    return f"{hours} hours pass"


def days_pass(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    """Whole days pass: weekends, holidays, the notice limit of a receipt, a promised date."""
    days = rng.choice((1, 1, 2, 3, 6))
    sim.advance(timedelta(days=days))
    return f"{days} day(s) pass"


def next_morning(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    """Past midnight to the next morning's opening (08:30)."""
    now = sim.local_now()
    morning = datetime.combine(now.date() + timedelta(days=1), time(8, 30, rng.randrange(60)))
    sim.set_local_time(morning)
    return f"next morning {morning:%Y-%m-%d %H:%M}"


def just_before_midnight(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    now = sim.local_now()
    late = datetime.combine(now.date(), time(23, 59, 30))
    if late <= now:
        raise NotNow("already past 23:59")
    sim.set_local_time(late)
    return "23:59:30"


def run_close_day(sim: Simulation, hall: HallModel) -> str | None:
    """The one call of the close of day (every ticket of a past service day, and of today after
    closing time, ended by the system: ``wt day close``, run by the server's timer)."""
    return f"day closed: {queueing.close_day(sim.engine, hall.hall_id)}"


def close_the_day(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    """The close of day run by hand (`wt` or the board) at any moment: it must end only past days."""
    return run_close_day(sim, hall) or ""


def ticket_outside_opening_hours(sim: Simulation, hall: HallModel, rng: random.Random) -> str:
    """Before opening (06:42) the kiosk refuses a ticket (the demo hall's hours: hall.toml [hours])."""
    now = sim.local_now()
    sim.set_local_time(datetime.combine(now.date() + timedelta(days=1), time(6, 42)))
    try:
        t = queueing.take_ticket(sim.engine, hall.hall_id, rng.choice(LINES), actor=KIOSK)
    except DomainError:
        return "06:42: the kiosk refused a ticket, as it must"
    return f"VIOLATION no_ticket_outside_opening_hours: the kiosk issued {t.number} at 06:42"


# Name → (adapter, weight in the random walk). Clock steps check both halls; others the one acted in.
OPERATIONS: dict[str, tuple[Operation, int]] = {
    "kiosk_ticket": (kiosk_ticket, 40),
    "priority_ticket": (priority_ticket, 6),
    "book_appointment": (book_appointment, 6),
    "appointment_check_in": (appointment_check_in, 6),
    "call_next": (call_next, 36),
    "call_a_ticket": (call_a_ticket, 6),
    "recall": (recall, 6),
    "start_service": (start_service, 18),
    "finish": (finish, 18),
    "no_show": (no_show, 6),
    "park": (park, 3),
    "transfer_in_hand": (transfer_in_hand, 3),
    "transfer_waiting": (transfer_waiting, 3),
    "cancel_ticket": (cancel_ticket, 3),
    "move_forward": (move_forward, 3),
    "window_status": (window_status, 3),
    "submit_case": (submit_case, 18),
    "new_case_same_applicant": (new_case_same_applicant, 3),
    "conclude_receipt": (conclude_receipt, 6),
    "late_notice": (late_notice, 2),
    "supplement": (supplement, 6),
    "deferred_materials_arrive": (deferred_materials_arrive, 3),
    "deem_due_cases": (deem_due_cases, 3),
    "review_task": (review_task, 15),
    "review_by_the_wrong_department": (review_by_the_wrong_department, 3),
    "extend_time_limit": (extend_time_limit, 3),
    "suspend_clock": (suspend_clock, 3),
    "resume_clock": (resume_clock, 3),
    "hand_over_result": (hand_over_result, 6),
    "rate_service": (rate_service, 6),
    "close_rectification": (close_rectification, 2),
    "minutes_pass": (minutes_pass, 24),
    "hours_pass": (hours_pass, 2),
    "days_pass": (days_pass, 1),
    "next_morning": (next_morning, 2),
    "just_before_midnight": (just_before_midnight, 1),
    "close_the_day": (close_the_day, 2),
    "ticket_outside_opening_hours": (ticket_outside_opening_hours, 1),
}
CLOCK_OPERATIONS = frozenset(
    {
        "minutes_pass",
        "hours_pass",
        "days_pass",
        "next_morning",
        "just_before_midnight",
        "close_the_day",
        "ticket_outside_opening_hours",
    }
)


def random_steps(seed: int, count: int) -> list[Step]:
    """``count`` steps of a seeded random walk over :data:`OPERATIONS` (by weight), both halls."""
    rng = random.Random(seed)
    names = list(OPERATIONS)
    weights = [OPERATIONS[n][1] for n in names]
    return [
        Step(name, rng.choice((0, 0, 0, 1)), rng.randrange(1 << 30))
        for name in rng.choices(names, weights=weights, k=count)
    ]
