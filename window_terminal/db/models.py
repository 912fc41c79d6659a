"""The shared database: every table a hall needs, each row scoped by ``hall_id``.

Timestamps are naive UTC taken from the database clock (see ``db.clock``); calendar dates
(``service_day``, deadlines) are in the hall's own time zone.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import NaiveDatetime
from sqlalchemy import JSON, BigInteger, Column, Index, Integer, UniqueConstraint, text
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig

MAX_ROW_ID = 2**31 - 1  # integer primary keys: a typed number above this is no row's id


def typed_row_id(ref: str | int) -> int | None:
    """The row id a person typed (``123`` or ``#123``); None when the text cannot be one: not
    digits, or beyond the integer keys (PostgreSQL would refuse the query, not find nothing)."""
    digits = str(ref).strip().removeprefix("#")
    return int(digits) if digits.isdigit() and int(digits) <= MAX_ROW_ID else None


def stored_id(row: Any) -> int:
    """The primary key of a row read from, or flushed to, the database: set there, never None."""
    value = row.id
    if value is None:
        raise ValueError(f"{type(row).__name__} has no id yet: flush it first")
    return int(value)


class Table(SQLModel):
    """The base of every table: pydantic builds a model's validators on first use, not at import.

    Rows are built by the ORM and by the domain's own constructors, which do not validate; building
    the validators of all the tables up front cost a third of a second of every command's start.
    """

    model_config = SQLModelConfig(defer_build=True)


# --- the hall and its definition (loaded from queue/) -------------------------------------------


class Hall(Table, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=40)
    name: str
    office: str = ""
    address: str = ""
    phone: str = ""
    timezone: str = "Asia/Shanghai"
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    event_seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    event_hash: str = Field(default="", max_length=64)  # the hash of the hall's last event (db/chain.py)
    broadcast: str = ""
    broadcast_at: NaiveDatetime | None = None
    created_at: NaiveDatetime | None = None


class Department(Table, table=True):
    __table_args__ = (UniqueConstraint("hall_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    code: str = Field(max_length=40)
    name: str
    office: str = ""  # the issuing office named on its documents (出具机关); "" → the hall's office
    seal: str = ""  # the seal under which it issues (印章名称); "" → the office
    abbr: str = ""  # the office's short name in document numbers (机关代字), e.g. 锦审批
    active: bool = True


class Line(Table, table=True):
    __table_args__ = (UniqueConstraint("hall_id", "code"), UniqueConstraint("hall_id", "prefix"))
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    code: str = Field(max_length=40)
    name: str
    prefix: str = Field(max_length=1)
    priority_policy: str = "interleave"  # strict | interleave | none
    priority_every: int = 3
    target_wait_minutes: int = 20
    avg_service_minutes: float = 10.0
    is_open: bool = True
    sort_order: int = 0
    priority_streak: int = 0  # consecutive privileged calls, for the interleave policy
    active: bool = True


class Window(Table, table=True):
    __table_args__ = (UniqueConstraint("hall_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    number: int
    name: str = ""
    status: str = "closed"  # open | paused | closed
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    status_since: NaiveDatetime | None = None
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    active: bool = True


class WindowLine(Table, table=True):
    __tablename__ = "window_line"
    hall_id: int = Field(foreign_key="hall.id", index=True)
    window_id: int = Field(foreign_key="window.id", primary_key=True)
    line_id: int = Field(foreign_key="line.id", primary_key=True, index=True)  # the windows of a line (0011)
    weight: int = 1


class Staff(Table, table=True):
    __table_args__ = (UniqueConstraint("hall_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    code: str = Field(max_length=40)
    name: str
    role: str  # clerk | manager | reviewer | supervisor
    department_id: int | None = Field(default=None, foreign_key="department.id")
    pin_hash: str = ""
    failed_logins: int = 0
    locked_until: NaiveDatetime | None = None
    active: bool = True


class ServiceItem(Table, table=True):
    __tablename__ = "service_item"
    __table_args__ = (UniqueConstraint("hall_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    code: str = Field(max_length=60)
    name: str
    pinyin: str = ""  # full pinyin, no tones, for search
    initials: str = ""  # pinyin initials (yyzz), for search
    line_id: int = Field(foreign_key="line.id")
    statutory_days: int = 20
    promised_days: int = 10
    deficiency_allowed: bool = False
    commitment_allowed: bool = False
    fee: str = ""
    basis: str = ""
    kind: str = "licence"  # licence (行政许可) | public_service (公共服务) | other (其他行政权力)
    issuer: str = ""  # the department code whose office issues the item's documents ("" → the first)
    active: bool = True


class ItemDepartment(Table, table=True):
    __tablename__ = "item_department"
    hall_id: int = Field(foreign_key="hall.id", index=True)
    item_id: int = Field(foreign_key="service_item.id", primary_key=True)
    department_id: int = Field(foreign_key="department.id", primary_key=True)


class Material(Table, table=True):
    __table_args__ = (UniqueConstraint("item_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    item_id: int = Field(foreign_key="service_item.id", index=True)
    position: int = 0
    name: str
    originals: int = 1
    copies: int = 0
    required: bool = True
    tolerable: bool = False
    commitment: bool = False
    form: str = ""
    requirement: str = ""  # what is needed (seal, originals to check, validity): printed on the notice
    active: bool = True


class CalendarOverride(Table, table=True):
    __tablename__ = "calendar_override"
    hall_id: int = Field(foreign_key="hall.id", primary_key=True)
    day: date = Field(primary_key=True)
    workday: bool
    note: str = ""


# --- the queue ------------------------------------------------------------------------------------


class Ticket(Table, table=True):
    __table_args__ = (
        UniqueConstraint("hall_id", "service_day", "line_code_at_issue", "seq"),
        # waiting tickets by line, tickets in hand by status: every "by status" question of a hall
        Index("ix_ticket_waiting", "hall_id", "status", "line_id", "queue_key"),
        # the head of a line by kind (privileged first), waiting tickets only: a call or a start
        # does not touch it
        Index(
            "ix_ticket_line_kind",
            "hall_id",
            "line_id",
            "kind",
            "queue_key",
            "id",
            postgresql_where=text("status = 'waiting'"),
            sqlite_where=text("status = 'waiting'"),
        ),
        Index("ix_ticket_day", "hall_id", "service_day"),
    )
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id")
    service_day: date
    line_id: int = Field(foreign_key="line.id")
    original_line_id: int = Field(foreign_key="line.id")
    line_code_at_issue: str
    seq: int
    number: str  # A001 (display only; ``id`` is the identity)
    kind: str = "normal"  # normal | priority | appointment
    priority_reason: str = ""
    appointment_code: str | None = None
    eligible_at: NaiveDatetime  # appointments: from their slot; others: issue time
    queue_key: float  # place in line: epoch seconds of first issue (kept on transfer); smaller = earlier
    status: str = "waiting"  # waiting | called | serving | parked | done | no_show | cancelled
    issued_at: NaiveDatetime
    called_at: NaiveDatetime | None = None
    first_called_at: NaiveDatetime | None = None
    started_at: NaiveDatetime | None = None
    finished_at: NaiveDatetime | None = None
    window_id: int | None = Field(default=None, foreign_key="window.id")
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    recall_count: int = 0
    transfer_count: int = 0
    service_item_id: int | None = Field(default=None, foreign_key="service_item.id")
    note: str = ""


class TicketCounter(Table, table=True):
    """Per line and service day, the last number handed out (reset by the day changing)."""

    __tablename__ = "ticket_counter"
    hall_id: int = Field(foreign_key="hall.id", primary_key=True)
    line_id: int = Field(foreign_key="line.id", primary_key=True)
    service_day: date = Field(primary_key=True)
    last_seq: int = 0


class Appointment(Table, table=True):
    __table_args__ = (UniqueConstraint("hall_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    code: str
    line_id: int = Field(foreign_key="line.id")
    slot_start: NaiveDatetime
    slot_end: NaiveDatetime
    name: str = ""
    phone: str = ""
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    status: str = "booked"  # booked | cancelled (a no-show is read from the clock: core/appointments.py)
    cancelled_at: NaiveDatetime | None = None
    source: str = ""  # counter | kiosk | cli | import (the provincial platform's CSV)


# --- the sync layer -------------------------------------------------------------------------------


class Event(Table, table=True):
    """The per-hall, gap-free, totally ordered event log; also the audit trail.

    ``seq`` is the event's place in its hall's log. Commands on the Python path number their events
    in their own transaction; the PostgreSQL counter functions insert theirs unnumbered (``seq`` is
    NULL) and number them right after their commit (``wt_sequence``, see migration 0004), so the
    counters of a hall never wait for each other's commits. Readers follow ``seq`` and never see an
    unnumbered event. No foreign key to ``hall``: its check would lock the hall row for every event.

    ``hash`` chains each event to the one before it in its hall (``db/chain.py``, migration 0008);
    on PostgreSQL triggers refuse to change or delete a numbered event.
    """

    __table_args__ = (
        Index(
            "ux_event_hall_seq",
            "hall_id",
            "seq",
            unique=True,
            postgresql_where=text("seq IS NOT NULL"),
            sqlite_where=text("seq IS NOT NULL"),
        ),
        Index(
            "ix_event_pending",
            "hall_id",
            "id",
            postgresql_where=text("seq IS NULL"),
            sqlite_where=text("seq IS NULL"),
        ),
    )
    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    hall_id: int
    seq: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    kind: str
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    staff_id: int | None = None
    device: str | None = Field(
        default=None, max_length=60
    )  # a public device that acted (kiosk, display, rating), or "os:<user>" who loaded the hall
    window_id: int | None = None
    request_id: str | None = None
    created_at: NaiveDatetime
    hash: str | None = Field(default=None, max_length=64)  # chained to the previous event: db/chain.py


class RequestLog(Table, table=True):
    """Idempotency: the result of each request id, written in the same transaction as its effect,
    with the command and window it belongs to (any other use of the id is refused: ``db.unit``).

    No foreign key to ``hall``: its check would lock the hall row for every command (migration 0004).
    """

    __tablename__ = "request_log"
    hall_id: int = Field(primary_key=True)
    request_id: str = Field(primary_key=True, max_length=80)
    command: str
    window_number: int | None = None  # the window it acted at: an id answers only its own command there
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: NaiveDatetime


# --- cases: intake at the counter, review in the back office, results --------------------------


class Case(Table, table=True):
    """One application (办件) from first submission to result; survives several visits."""

    __table_args__ = (
        UniqueConstraint("hall_id", "case_no"),
        UniqueConstraint("hall_id", "query_code"),
        Index("ix_case_status", "hall_id", "status"),
        Index("ix_case_applicant", "hall_id", "id_number"),
    )
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id")
    case_no: str  # printed case number, e.g. JJ20261121-0007
    query_code: str  # short code on the QR: status look-up without personal data
    item_id: int = Field(foreign_key="service_item.id")
    # submitted | notice_issued (awaiting supplement) | accepted | in_review | returned | decided |
    # completed (result handed over / posted) | not_accepted | withdrawn
    status: str = "submitted"
    outcome: str | None = None  # accepted | deficiency | commitment | not_accepted | corrected
    decision: str | None = None  # approved | refused (back office)
    applicant_name: str
    id_type: str = "resident_id"  # resident_id | passport | hk_macao_permit | taiwan_permit | foreign_permanent | credit_code
    id_number: str = ""
    phone: str = ""
    agent_name: str = ""
    agent_id_number: str = ""
    agent_phone: str = ""
    received_at: NaiveDatetime  # first submission (Art. 32: the 5-working-day clock starts here)
    received_on: date
    accepted_at: NaiveDatetime | None = None
    accepted_on: date | None = None
    promised_date: date | None = None
    statutory_date: date | None = None
    deadline_provisional: bool = False
    supplement_deadline: date | None = None  # 容缺: deferred materials due
    supplement_received_at: NaiveDatetime | None = None
    extension_days: int = 0
    decided_at: NaiveDatetime | None = None
    completed_at: NaiveDatetime | None = None
    delivery: str | None = None  # pickup | post
    tracking_no: str = ""
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    window_id: int | None = Field(default=None, foreign_key="window.id")
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    commitment: bool = False
    notice_breach: bool = False  # a second, different one-time notice was issued by override
    deemed_accepted: bool = False  # Art. 32: no notice within the limit → accepted as of receipt
    earlier_case_id: int | None = (
        None  # the case of the same applicant+item awaiting a supplement (soft link)
    )
    reason: str = ""  # non-acceptance / refusal reason
    competent_office: str = ""
    request_id: str | None = None


class CaseMaterial(Table, table=True):
    """One material of a case as checked at the counter."""

    __tablename__ = "case_material"
    __table_args__ = (UniqueConstraint("case_id", "material_id"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    material_id: int = Field(foreign_key="material.id")
    # received | missing | defective | commitment | deferred (容缺) | not_applicable
    status: str = "missing"
    originals: int = 0
    copies: int = 0
    note: str = ""  # what is wrong with it / the form required
    in_notice: bool = False  # listed on the one-time notice (frozen)
    supplemented_at: NaiveDatetime | None = None


class Visit(Table, table=True):
    """Each time the applicant appears at a counter for a case (最多跑一次 counts these)."""

    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    purpose: str  # submit | supplement | pickup | correction | enquiry
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    window_id: int | None = Field(default=None, foreign_key="window.id")
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    at: NaiveDatetime


class Document(Table, table=True):
    """An immutable, numbered snapshot of what the applicant received (reprints show exactly this)."""

    __table_args__ = (UniqueConstraint("hall_id", "number"), Index("ix_document_case", "hall_id", "case_id"))
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id")
    number: str
    # acceptance_notice | one_time_notice | deficiency_acceptance_notice | non_acceptance_notice |
    # completion_notice | refusal_notice | ticket
    kind: str
    case_id: int | None = Field(default=None, foreign_key="case.id")
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    issued_at: NaiveDatetime
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    printed_count: int = 0
    last_print_error: str = ""


class DocumentCounter(Table, table=True):
    """Per hall, kind and day: the last document number handed out."""

    __tablename__ = "document_counter"
    hall_id: int = Field(foreign_key="hall.id", primary_key=True)
    kind: str = Field(primary_key=True)
    day: date = Field(primary_key=True)
    last_seq: int = 0


class ReviewTask(Table, table=True):
    """One department's part of a case (several = parallel review, 并联审批)."""

    __tablename__ = "review_task"
    __table_args__ = (
        UniqueConstraint("case_id", "department_id"),
        Index("ix_review_dept", "hall_id", "department_id", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id")
    case_id: int = Field(foreign_key="case.id", index=True)
    department_id: int = Field(foreign_key="department.id")
    # pending | claimed | suspended | approved | refused | returned
    status: str = "pending"
    reviewer_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: NaiveDatetime
    claimed_at: NaiveDatetime | None = None
    decided_at: NaiveDatetime | None = None
    reason: str = ""


class Suspension(Table, table=True):
    """The clock stopped for inspection, testing, expert review or a hearing (Art. 45)."""

    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    task_id: int | None = Field(default=None, foreign_key="review_task.id")
    kind: str  # inspection | testing | expert_review | hearing
    reason: str
    expected_days: int = 0
    started_on: date
    ended_on: date | None = None
    staff_id: int | None = Field(default=None, foreign_key="staff.id")


class Extension(Table, table=True):
    """An extension of the statutory limit (Art. 42: +10 working days, approved)."""

    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    days: int
    approver: str
    reason: str
    at: NaiveDatetime
    staff_id: int | None = Field(default=None, foreign_key="staff.id")


class Rating(Table, table=True):
    """好差评 (GB/T 39735-2020): 5 非常满意 … 1 非常不满意, one per visit."""

    __table_args__ = (Index("ix_rating_day", "hall_id", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id")
    level: int  # 1..5
    comment: str = ""
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", unique=True)
    visit_id: int | None = Field(default=None, foreign_key="visit.id", unique=True)
    case_id: int | None = Field(default=None, foreign_key="case.id")
    window_id: int | None = Field(default=None, foreign_key="window.id")
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    at: NaiveDatetime


class Rectification(Table, table=True):
    """Every bad rating opens one; a manager closes it with a note."""

    id: int | None = Field(default=None, primary_key=True)
    hall_id: int = Field(foreign_key="hall.id", index=True)
    rating_id: int = Field(foreign_key="rating.id", unique=True)
    due_date: date
    status: str = "open"  # open | closed
    note: str = ""
    opened_at: NaiveDatetime
    closed_at: NaiveDatetime | None = None
    closed_by: int | None = Field(default=None, foreign_key="staff.id")


# --- the hall TVs ------------------------------------------------------------------------------


class DisplayHeartbeat(Table, table=True):
    """The last heartbeat of each hall TV page: which display, how far along the feed, when.

    One row per display, overwritten every few seconds by the page (``core.displays``); not an
    event: a heartbeat changes nothing in the hall, and the feed and the audit trail stay quiet.
    ``hall_seq`` is the hall's feed cursor when the beat arrived: a display whose ``last_seq`` is
    still below the previous beat's ``hall_seq`` has fallen behind (``behind``).
    """

    __tablename__ = "display_heartbeat"
    hall_id: int = Field(primary_key=True, foreign_key="hall.id")
    display_id: str = Field(primary_key=True, max_length=60)
    scope: str = ""
    address: str = ""
    last_seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    hall_seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    behind: bool = False
    first_seen_at: NaiveDatetime
    seen_at: NaiveDatetime
