"""The audit trail: who did what, where and when (``list_events``), and whether the event log is
still what the application wrote (``verify_chain``).

The event log is the audit trail: every event carries its actor (``staff_id``, or the public
``device``), the window where it applies and the database time. Each event is hashed over its
content and the previous event's hash in its hall (the canonical text and the hash: ``db/chain.py``;
on PostgreSQL the same in SQL, migration 0008). ``verify_chain`` walks a hall's log in order and
names every event that was altered, deleted or inserted behind the application's back.

What the chain can tell: an event whose content changed (its hash no longer matches), an event
missing from the middle or the end of the log (a gap in the numbers, or the log ends before the
hall's counter), an event slipped in (beyond the hall's counter, or one whose removal makes the
rest of the chain whole again). What it cannot: someone with write access who rewrites every hash
after the change *and* the hall's counter and head. Against that, note the head that
``verify_chain`` reports (seq and hash) somewhere else — a printed daily report, another system —
and pass it back (``expect``): the chain proves every earlier event unchanged since.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Text, cast, select

from window_terminal.core import lookup, privacy
from window_terminal.core.access import DEVICE_PREFIX, OS_USER_PREFIX
from window_terminal.db.chain import GENESIS, event_hash
from window_terminal.db.engine import snapshot_session
from window_terminal.db.models import Event, Hall, Staff, Window
from window_terminal.db.unit import SYSTEM
from window_terminal.errors import DomainError, NotFound

# --- verifying the chain -------------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    """One place the chain does not hold: ``kind`` is altered | deleted | inserted."""

    kind: str
    seq: int
    event_id: int | None
    zh: str
    en: str

    def text(self, language: str = "zh") -> str:
        return self.zh if language == "zh" else self.en


@dataclass(frozen=True)
class ChainReport:
    hall_code: str
    checked: int  # events read
    counter: int  # the hall's event counter
    head_seq: int  # the last event of the hall's own chain (within its counter) …
    head_hash: str  # … and its hash: one event's pair, to note elsewhere and pass back later
    problems: tuple[Break, ...] = ()  # every break, in the log's order

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def problem(self) -> Break | None:
        """The first break."""
        return self.problems[0] if self.problems else None

    def text(self, language: str = "zh") -> str:
        if self.problems:
            lines = [p.text(language) for p in self.problems]
            if len(lines) == 1:
                return lines[0]
            head = (
                f"大厅 {self.hall_code} 的事件日志有 {len(lines)} 处断裂："
                if language == "zh"
                else f"hall {self.hall_code}: the event log breaks in {len(lines)} places:"
            )
            return "\n".join([head, *(f"  {n}. {line}" for n, line in enumerate(lines, 1))])
        if language == "zh":
            return (
                f"大厅 {self.hall_code} 的事件日志完整：共 {self.checked} 条事件，哈希链无断裂；"
                f"链头 #{self.head_seq} {self.head_hash or '（空）'}"
            )
        return (
            f"hall {self.hall_code}: the event log is intact, {self.checked} events, the hash chain holds; "
            f"head #{self.head_seq} {self.head_hash or '(empty)'}"
        )


@dataclass(frozen=True)
class _Stored:
    id: int
    seq: int
    kind: str
    payload: str
    staff_id: int | None
    device: str | None
    window_id: int | None
    request_id: str | None
    created_at: datetime
    hash: str | None

    def hash_after(self, hall_id: int, prev: str, *, seq: int | None = None) -> str | None:
        """The hash this event should carry after ``prev`` (at ``seq``, by default its own)."""
        try:
            return event_hash(
                hall_id=hall_id,
                seq=self.seq if seq is None else seq,
                kind=self.kind,
                payload=self.payload,
                staff_id=self.staff_id,
                device=self.device,
                window_id=self.window_id,
                request_id=self.request_id,
                created_at=self.created_at,
                prev=prev,
            )
        except (TypeError, ValueError):  # a value no application could have written
            return None


def _stored_events(session: Any, hall_id: int) -> Iterator[_Stored]:
    rows = session.execute(
        select(
            Event.id,
            Event.seq,
            Event.kind,
            cast(Event.payload, Text),  # the stored text, byte for byte: what was hashed
            Event.staff_id,
            Event.device,
            Event.window_id,
            Event.request_id,
            Event.created_at,
            Event.hash,
        )
        .where(Event.hall_id == hall_id, Event.seq.is_not(None))
        .order_by(Event.seq)
        .execution_options(yield_per=2000)
    )
    for row in rows:
        yield _Stored(*row)


def _altered(e: _Stored) -> Break:
    return Break(
        "altered",
        e.seq,
        e.id,
        f"第 #{e.seq} 号事件（id {e.id}，{e.kind}）被改动：内容与其哈希不符。请从备份核对该事件并查明谁改动了数据库",
        f"event #{e.seq} (id {e.id}, {e.kind}) was altered: its content no longer matches its hash. "
        "Compare it with a backup and find out who changed the database",
    )


def _deleted(seq: int, following: _Stored | None, last: int | None = None) -> Break:
    """Events ``seq`` … ``last`` (default: just ``seq``) are missing."""
    after_zh = f"（其后为 #{following.seq}）" if following else "（日志末尾）"
    after_en = f" (the next is #{following.seq})" if following else " (at the end of the log)"
    if last is None or last == seq:
        what_zh, what_en = f"第 #{seq} 号事件被删除", f"event #{seq} was deleted"
    else:
        what_zh = f"第 #{seq}–#{last} 号事件（{last - seq + 1} 条）被删除"
        what_en = f"events #{seq}–#{last} ({last - seq + 1}) were deleted"
    return Break(
        "deleted",
        seq,
        None,
        f"{what_zh}{after_zh}：日志编号在此中断。请从备份恢复并查明谁改动了数据库",
        f"{what_en}{after_en}: the log's numbers break here. "
        "Restore it from a backup and find out who changed the database",
    )


def _inserted(e: _Stored, why_zh: str, why_en: str) -> Break:
    return Break(
        "inserted",
        e.seq,
        e.id,
        f"第 #{e.seq} 号事件（id {e.id}，{e.kind}）是被插入的：{why_zh}。它不是本系统写入的，请查明来源",
        f"event #{e.seq} (id {e.id}, {e.kind}) was inserted: {why_en}. "
        "The application did not write it; find out where it came from",
    )


class _Lookahead:
    """The stored events one by one, with a look at the next (a year's log is never held whole)."""

    def __init__(self, events: Iterator[_Stored]) -> None:
        self._events = events
        self._next: _Stored | None = next(events, None)

    def __iter__(self) -> Iterator[_Stored]:
        while self._next is not None:
            current, self._next = self._next, next(self._events, None)
            yield current

    def peek(self) -> _Stored | None:
        return self._next


def verify_chain(engine: Engine, hall_id: int, *, expect: tuple[int, str] | None = None) -> ChainReport:
    """Walk the hall's log in ``seq`` order in one snapshot; every break, in order.

    After a break the walk takes up the chain again where it can, so one run names every event that
    was altered, deleted or inserted: an altered event still carries the hash the next one was chained
    to (the walk goes on from it); after a gap the first event left cannot be checked against the
    deleted one before it (the walk goes on from it); an event inserted with the rest renumbered shifts
    every later number by one (the walk checks them at their old numbers).

    ``expect`` = (seq, hash) noted from an earlier report: that event must still carry that hash."""
    with snapshot_session(engine) as session:
        hall = session.execute(
            select(Hall.code, Hall.event_seq, Hall.event_hash).where(Hall.id == hall_id)
        ).one_or_none()
        if hall is None:
            raise NotFound(f"大厅 #{hall_id} 不存在", f"hall #{hall_id} does not exist")
        code, counter, recorded_head = hall[0], int(hall[1] or 0), hall[2] or ""
        problems: list[Break] = []
        prev, expected_seq, checked = GENESIS, 1, 0
        shift = 0  # events inserted with the rest renumbered, so far
        last: _Stored | None = None  # the event before, and the hash before it
        before_last = GENESIS
        head: _Stored | None = None
        expect_seen = expect is None
        events = _Lookahead(_stored_events(session, hall_id))
        for e in events:
            checked += 1
            if e.seq > counter:  # not in the hall's own chain: never its head
                problems.append(
                    _inserted(
                        e,
                        f"编号超出大厅的事件计数 #{counter}",
                        f"its number is beyond the hall's event counter #{counter}",
                    )
                )
                continue
            head = e
            after_gap = e.seq > expected_seq
            if after_gap:
                problems.append(_deleted(expected_seq, e, e.seq - 1))
            expected_seq = e.seq + 1
            if expect is not None and e.seq == expect[0]:
                expect_seen = True
                if e.hash != expect[1]:
                    problems.append(_altered(e))
            if e.hash is not None and e.hash_after(hall_id, prev, seq=e.seq - shift) == e.hash:
                last, before_last, prev = e, prev, e.hash
                continue
            if after_gap:  # chained to a deleted event: nothing to check it against; go on from it
                last, before_last, prev = e, prev, e.hash or prev
                continue
            wrong = _first_wrong(hall_id, e, prev, last, before_last, events.peek(), shift)
            problems.append(wrong)
            if wrong.kind == "inserted" and wrong.event_id == e.id:
                shift += 1  # e is the stranger: the chain goes on from the event before it
            elif wrong.kind == "inserted":
                shift += 1  # the event before was the stranger: e follows the one before that
                last, before_last, prev = e, before_last, e.hash or prev
            else:
                last, before_last, prev = e, prev, e.hash or prev  # the next was chained to e's hash
        if expected_seq <= counter:
            problems.append(_deleted(expected_seq, None, counter))
        if head is not None and recorded_head != (head.hash or ""):
            problems.append(
                Break(
                    "altered",
                    head.seq,
                    None,
                    f"大厅记录的链头与最后一条事件 #{head.seq} 的哈希不符：日志末尾被改动",
                    f"the hall's recorded chain head does not match the hash of the last event "
                    f"#{head.seq}: the end of the log was changed",
                )
            )
        if not expect_seen:
            assert expect is not None
            problems.append(_deleted(expect[0], None))
        return ChainReport(
            code,
            checked,
            counter,
            head.seq if head else 0,
            (head.hash or "") if head else "",
            tuple(problems),
        )


def _first_wrong(
    hall_id: int,
    e: _Stored,
    prev: str,
    last: _Stored | None,
    before_last: str,
    after: _Stored | None,
    shift: int,
) -> Break:
    """``e`` does not fit the chain: altered, or inserted with the events after it renumbered —
    then the chain is whole without the inserted one (``e`` itself, or ``last`` when its forger
    hashed it to fit and ``e`` is the renumbered event that came after)."""

    def fits_one_place_back(event: _Stored | None, prev_hash: str) -> bool:
        return (
            event is not None
            and event.hash is not None
            and event.hash_after(hall_id, prev_hash, seq=event.seq - shift - 1) == event.hash
        )

    why = ("去掉它后，后面的事件与哈希链重新吻合", "without it the events after it fit the chain again")
    if last is not None and fits_one_place_back(e, before_last):
        return _inserted(last, *why)
    if fits_one_place_back(after, prev):
        return _inserted(e, *why)
    return _altered(e)


def parse_anchor(text: str) -> tuple[int, str]:
    """``SEQ:HASH`` as ``verify_chain`` reports it → (seq, hash); refuses anything else."""
    seq, _, digest = text.strip().partition(":")
    digest = digest.strip().lower()
    if not seq.strip().isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise DomainError(
            f"链头 {text!r} 格式不对：请写成 序号:哈希，例如 1234:{'0' * 8}…（64 位十六进制，取自上次核验的输出）",
            f"chain head {text!r} is not valid: write it as SEQ:HASH, e.g. 1234:{'0' * 8}… "
            "(64 hex digits, from an earlier verify's output)",
        )
    return int(seq), digest


# --- listing -------------------------------------------------------------------------------------

# payload keys that hold a citizen's personal data, and how each is masked (core/privacy.py)
_PERSONAL = {
    "name": privacy.mask_name,
    "applicant": privacy.mask_name,
    "applicant_name": privacy.mask_name,
    "agent": privacy.mask_name,
    "agent_name": privacy.mask_name,
    "id_number": privacy.mask_id_number,
    "agent_id_number": privacy.mask_id_number,
    "phone": privacy.mask_phone,
    "address": privacy.mask_address,
}


def masked_payload(value: Any) -> Any:
    """The payload with every personal value masked (by key, at any depth)."""
    if isinstance(value, dict):
        return {
            k: (_PERSONAL[k](v) if k in _PERSONAL and isinstance(v, str) else masked_payload(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [masked_payload(v) for v in value]
    return value


@dataclass
class AuditFilter:
    """What a person asked for; every field optional, all of them must hold."""

    staff: str | None = None  # staff code
    case: str | None = None  # case number or query code
    ticket: str | None = None  # ticket id (#123) or today's number (A001)
    window: str | None = None  # window number
    kinds: Sequence[str] = field(default_factory=tuple)  # event kinds, or a prefix ending in "." (ticket.)
    since: datetime | None = None  # database time (naive UTC), inclusive
    until: datetime | None = None  # exclusive
    limit: int = 500  # the newest this many


def actor_of_device(device: str | None) -> str:
    """How the audit names an actor with no staff member: a public device (``device:KIOSK1``), the
    system itself (the close of day, ``db.unit.SYSTEM``), or the OS user who loaded the hall (its
    ``os:`` mark kept); "" when no one is recorded."""
    if not device:
        return ""
    if device == SYSTEM:
        return "system (系统)"
    return device if device.startswith(OS_USER_PREFIX) else DEVICE_PREFIX + device


@dataclass(frozen=True)
class AuditRow:
    seq: int
    at: datetime  # naive UTC, database time
    kind: str
    actor: str  # "C004 刘洋", "device:KIOSK1", "os:root" (who loaded the hall), "system (系统)", or ""
    staff_code: str | None
    device: str | None
    window: int | None
    request_id: str | None
    payload: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "kind": self.kind,
            "actor": self.actor,
            "staff": self.staff_code,
            "device": self.device,
            "window": self.window,
            "request_id": self.request_id,
            "payload": self.payload,
        }


COLUMNS = ("seq", "at", "kind", "actor", "window", "request_id", "payload")


def _matches_kind(kind: str, wanted: Sequence[str]) -> bool:
    return not wanted or any(kind == w or (w.endswith(".") and kind.startswith(w)) for w in wanted)


def _touches(payload: dict[str, Any], *, case: Any = None, ticket: Any = None) -> bool:
    if case is not None:
        if payload.get("case_id") != case.id and payload.get("case_no") != case.case_no:
            return False
    if ticket is not None:
        if payload.get("ticket_id") != ticket.id and ticket.id not in (payload.get("tickets") or []):
            return False
    return True


def list_events(
    engine: Engine, hall_id: int, wanted: AuditFilter, *, today: Any = None, personal_data: bool = False
) -> list[AuditRow]:
    """The hall's events that ``wanted`` selects, oldest first (at most ``wanted.limit``, the newest).

    Staff, window and time are filtered in the database; kind, case and ticket on the payload.
    Personal data in payloads is masked unless ``personal_data``."""
    if wanted.limit < 1:
        raise DomainError("条数须为正整数", "--limit must be a positive number")
    with snapshot_session(engine) as session:
        stmt = select(
            Event.seq,
            Event.created_at,
            Event.kind,
            Event.staff_id,
            Event.device,
            Event.window_id,
            Event.request_id,
            Event.payload,
        ).where(Event.hall_id == hall_id, Event.seq.is_not(None))
        if wanted.staff:
            stmt = stmt.where(Event.staff_id == lookup.staff(session, hall_id, wanted.staff).id)
        if wanted.window:
            stmt = stmt.where(Event.window_id == lookup.window(session, hall_id, wanted.window).id)
        if wanted.since:
            stmt = stmt.where(Event.created_at >= wanted.since)
        if wanted.until:
            stmt = stmt.where(Event.created_at < wanted.until)
        case = lookup.case(session, hall_id, wanted.case, row_id=True) if wanted.case else None
        ticket = None
        if wanted.ticket:
            from window_terminal.db.clock import db_now, local_day

            tz = session.execute(select(Hall.timezone).where(Hall.id == hall_id)).scalar_one()
            ticket = lookup.ticket(session, hall_id, wanted.ticket, today or local_day(db_now(session), tz))
        stmt = stmt.order_by(Event.seq.desc()).execution_options(yield_per=2000)
        picked = []
        for row in session.execute(stmt):
            payload = row[7] or {}
            if _matches_kind(row[2], wanted.kinds) and _touches(payload, case=case, ticket=ticket):
                picked.append(row)
                if len(picked) >= wanted.limit:
                    break
        staff = {
            r[0]: (r[1], r[2])
            for r in session.execute(select(Staff.id, Staff.code, Staff.name).where(Staff.hall_id == hall_id))
        }
        windows = {
            r[0]: r[1]
            for r in session.execute(select(Window.id, Window.number).where(Window.hall_id == hall_id))
        }
    rows = []
    for seq, at, kind, staff_id, device, window_id, request_id, payload in reversed(picked):
        code, name = staff.get(staff_id, (None, None)) if staff_id is not None else (None, None)
        actor = f"{code} {name}" if code else actor_of_device(device)
        shown = payload if personal_data else masked_payload(payload)
        rows.append(
            AuditRow(seq, at, kind, actor, code, device, windows.get(window_id), request_id, shown or {})
        )
    return rows


def payload_cell(payload: dict[str, Any]) -> str:
    """A payload on one line, for a table or a CSV cell."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
