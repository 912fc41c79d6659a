"""Appointments (预约): slots per line with a capacity, booking, cancelling, a day's list, the import
of a day's bookings as the provincial platform exports them, and the rules of checking in.

- A slot is ``appointment_slot_minutes`` long (hall.toml ``[thresholds]``, default 30) and starts on a
  multiple of it from midnight, local time; each line takes ``appointment_capacity`` bookings per slot
  (an integer for every line, or a table ``{BIZ = 4, default = 2}``).
- Checking in (the kiosk's 预约签到, ``wt ticket take --appointment CODE``) issues an appointment
  ticket that is callable from its slot's start (``queueing.take_ticket``); it is refused for a
  cancelled booking, on another day, and once the slot start plus ``appointment_grace_minutes``
  (default 15) has passed — the booking is then a no-show, read from the clock, never stored.

Times are stored as naive UTC like every instant; people type and read the hall's local time.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from window_terminal.core import access, lookup
from window_terminal.core.idcheck import check_phone
from window_terminal.core.queueing import DEFAULT_THRESHOLDS, require_open_hours, threshold
from window_terminal.db.clock import db_now, local_midnight_utc, to_local
from window_terminal.db.engine import read_session
from window_terminal.db.models import Appointment, Hall, Line, Ticket
from window_terminal.db.unit import Unit
from window_terminal.errors import DomainError, NotFound

STATE_WORDS = {
    "booked": ("已预约", "booked"),
    "checked_in": ("已签到", "checked in"),
    "cancelled": ("已取消", "cancelled"),
    "no_show": ("过号未到", "no-show"),
}

# The provincial platform's export: these headers (Chinese or English) name the columns.
CSV_COLUMNS = {
    "code": ("预约号", "预约码", "code"),
    "name": ("姓名", "申请人", "name"),
    "phone": ("手机号", "联系电话", "phone"),
    "line": ("业务线", "业务类型", "line"),
    "date": ("预约日期", "date"),
    "time": ("开始时间", "预约时段", "time"),
}


def capacity(settings: dict[str, Any], line_code: str) -> int:
    value = threshold(settings, "appointment_capacity")
    if isinstance(value, dict):
        return int(value.get(line_code) or value.get("default") or DEFAULT_THRESHOLDS["appointment_capacity"])
    return int(value)


def parse_slot(day_text: str, time_text: str) -> tuple[date, time]:
    """``2026-12-07`` and ``09:30`` (a range ``09:30-10:00`` takes its start); a clear error otherwise."""
    try:
        day = date.fromisoformat(lookup.typed(day_text).replace("/", "-"))
    except ValueError:
        raise DomainError(
            f"预约日期 {day_text} 无法识别：请写成 2026-12-07",
            f"appointment date {day_text!r} not understood: write it like 2026-12-07",
            code="bad_slot",
        ) from None
    start = lookup.typed(time_text).replace("：", ":").split("-")[0].split("~")[0].strip()
    try:
        hour, minute = (int(x) for x in start.split(":"))
        return day, time(hour, minute)
    except ValueError:
        raise DomainError(
            f"预约时间 {time_text} 无法识别：请写成 09:30",
            f"appointment time {time_text!r} not understood: write it like 09:30",
            code="bad_slot",
        ) from None


def state(appointment: Appointment, now: datetime, settings: dict[str, Any]) -> str:
    """booked | checked_in | cancelled | no_show (past the slot start plus the grace minutes)."""
    if appointment.status == "cancelled":
        return "cancelled"
    if appointment.ticket_id is not None:
        return "checked_in"
    grace = timedelta(minutes=int(threshold(settings, "appointment_grace_minutes")))
    return "no_show" if now > appointment.slot_start + grace else "booked"


def check_in_refusal(appointment: Appointment, now: datetime, settings: dict[str, Any], tz: str) -> None:
    """Why this booking cannot be checked in now (raised), or nothing."""
    shown = to_local(appointment.slot_start, tz)
    if appointment.status == "cancelled":
        raise DomainError(
            f"预约 {appointment.code} 已取消：请取普通号，或重新预约",
            f"appointment {appointment.code} was cancelled: take a normal ticket or book again",
            code="appointment_cancelled",
        )
    if to_local(now, tz).date() != shown.date():
        raise DomainError(
            f"预约 {appointment.code} 在 {shown:%Y-%m-%d %H:%M}，不是今天：请在预约当天签到",
            f"appointment {appointment.code} is on {shown:%Y-%m-%d %H:%M}, not today: check in on that day",
            code="appointment_day",
        )
    if state(appointment, now, settings) == "no_show":
        grace = int(threshold(settings, "appointment_grace_minutes"))
        raise DomainError(
            f"预约 {appointment.code}（{shown:%H:%M}）已超过{grace}分钟未签到，按过号处理：请取普通号",
            f"appointment {appointment.code} ({shown:%H:%M}) is more than {grace} minutes late "
            "and counts as a no-show: take a normal ticket",
            code="appointment_no_show",
        )


@dataclass(frozen=True)
class Booking:
    line: str
    day: date
    start: time
    name: str = ""
    phone: str = ""
    code: str | None = None


def _slot_start(unit: Unit, booking: Booking) -> datetime:
    minutes = max(1, int(threshold(unit.settings, "appointment_slot_minutes")))
    if (booking.start.hour * 60 + booking.start.minute) % minutes:
        raise DomainError(
            f"{booking.start:%H:%M} 不是预约时段的开始：时段每{minutes}分钟一个（如 09:00、09:{minutes % 60:02d}）",
            f"{booking.start:%H:%M} is not the start of a slot: slots are {minutes} minutes long "
            f"(09:00, 09:{minutes % 60:02d}, …)",
            code="bad_slot",
        )
    offset = timedelta(hours=booking.start.hour, minutes=booking.start.minute)
    return local_midnight_utc(booking.day, unit.timezone) + offset


def _book(unit: Unit, booking: Booking, source: str) -> dict[str, Any]:
    """One booking inside ``unit``: the slot in the future and not full, the code unused."""
    s = unit.session
    line = lookup.line(s, unit.hall_id, booking.line)
    start = _slot_start(unit, booking)
    # a slot outside the hall's (or the line's) opening hours: no booking, except by a manager
    require_open_hours(
        unit,
        line.code,
        to_local(start, unit.timezone),
        ("预约该时段", "booking for that slot"),
        ("请选择办理时间内的时段", "choose a slot within them"),
    )
    minutes = max(1, int(threshold(unit.settings, "appointment_slot_minutes")))
    grace = int(threshold(unit.settings, "appointment_grace_minutes"))
    # over, or so late that its check-in would already be refused (the grace rule of ``state``)
    if start + timedelta(minutes=minutes) <= unit.now or unit.now > start + timedelta(minutes=grace):
        raise DomainError(
            f"{booking.day} {booking.start:%H:%M} 的时段已经过去（开始{grace}分钟后不再签到）：请选择以后的时段",
            f"the slot {booking.day} {booking.start:%H:%M} is over (no check-in later than {grace} minutes "
            "after its start): choose a later one",
            code="slot_past",
        )
    taken = s.execute(
        select(func.count())
        .select_from(Appointment)
        .where(
            Appointment.hall_id == unit.hall_id,
            Appointment.line_id == line.id,
            Appointment.slot_start == start,
            Appointment.status != "cancelled",
        )
    ).scalar_one()
    room = capacity(unit.settings, line.code)
    if taken >= room:
        raise DomainError(
            f"{line.name} {booking.day} {booking.start:%H:%M} 的时段已约满（{room}个）：请换一个时段",
            f"{line.code} {booking.day} {booking.start:%H:%M} is full ({room} bookings): choose another slot",
            code="slot_full",
        )
    phone = check_phone(booking.phone)  # optional; refused when typed wrong
    if booking.code:
        new_code = lookup.code(booking.code)
        clash = s.execute(
            select(Appointment.id).where(Appointment.hall_id == unit.hall_id, Appointment.code == new_code)
        ).first()
        if clash is not None:
            raise DomainError(
                f"预约码 {new_code} 已存在：同一预约不能导入两次",
                f"appointment code {new_code} exists already: a booking cannot be imported twice",
                code="appointment_exists",
            )
    else:
        count = s.execute(
            select(func.count()).select_from(Appointment).where(Appointment.hall_id == unit.hall_id)
        ).scalar_one()
        new_code = f"Y{line.prefix}{count + 1:05d}"
    s.add(
        Appointment(
            hall_id=unit.hall_id,
            code=new_code,
            line_id=line.id,  # type: ignore[arg-type]  # a stored row: the id is set
            slot_start=start,
            slot_end=start + timedelta(minutes=minutes),
            name=lookup.note(booking.name),
            phone=phone,
            source=source,
        )
    )
    s.flush()
    unit.emit("appointment.booked", {"code": new_code, "line": line.code, "slot_start": start.isoformat()})
    return {
        "code": new_code,
        "line": line.code,
        "slot": f"{booking.day} {booking.start:%H:%M}",
        "slot_start_utc": start.isoformat(),
    }


def book(
    engine: Engine,
    hall_id: int,
    booking: Booking,
    *,
    source: str = "cli",
    actor: str | None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Book one slot; the check-in code the applicant takes to the kiosk."""
    return access.run_as(
        engine,
        hall_id,
        "appointment.book",
        lambda unit: _book(unit, booking, source),
        actor,
        request_id=request_id,
    )


def import_csv(engine: Engine, hall_id: int, path: Path, *, actor: str | None) -> list[dict[str, Any]]:
    """A day's bookings from the provincial platform's CSV (UTF-8, with or without BOM, or GB18030).

    All or nothing: a row that cannot be booked names its line in the file and nothing is written."""
    rows = read_csv(path)

    def action(unit: Unit) -> list[dict[str, Any]]:
        done = []
        for number, booking in rows:
            try:
                done.append(_book(unit, booking, "import"))
            except DomainError as exc:
                raise DomainError(
                    f"{path.name} 第{number}行：{exc.zh}（未导入任何预约）",
                    f"{path.name} line {number}: {exc.en} (nothing was imported)",
                    code=exc.code,
                ) from None
        return done

    return access.run_as(engine, hall_id, "appointment.import", action, actor)


def read_csv(path: Path) -> list[tuple[int, Booking]]:
    raw = Path(path).read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise DomainError("无法读取文件编码", "cannot read the file's encoding")
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    where: dict[str, int] = {}
    for key, names in CSV_COLUMNS.items():
        for i, h in enumerate(header):
            if h in names or h.lower() in names:
                where[key] = i
                break
    missing = [CSV_COLUMNS[k][0] for k in ("line", "date", "time") if k not in where]
    if missing:
        raise DomainError(
            f"{Path(path).name}：缺少列 {'、'.join(missing)}（需要 业务线、预约日期、开始时间；可选 预约号、姓名、手机号）",
            f"{Path(path).name}: missing column(s) {', '.join(missing)} (needed: 业务线, 预约日期, 开始时间; "
            "optional: 预约号, 姓名, 手机号)",
            code="bad_csv",
        )
    rows = []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue

        def cell(key: str, cells: list[str] = cells) -> str:
            i = where.get(key)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        try:
            day, start = parse_slot(cell("date"), cell("time"))
        except DomainError as exc:
            raise DomainError(
                f"{Path(path).name} 第{number}行：{exc.zh}",
                f"{Path(path).name} line {number}: {exc.en}",
                code=exc.code,
            ) from None
        rows.append(
            (number, Booking(cell("line"), day, start, cell("name"), cell("phone"), cell("code") or None))
        )
    return rows


def cancel(
    engine: Engine, hall_id: int, code: str, *, actor: str | None, request_id: str | None = None
) -> dict[str, Any]:
    """Cancel a booking (its slot frees); refused once checked in — that ticket is in the queue."""

    def action(unit: Unit) -> dict[str, Any]:
        row = _find(unit.session, unit.hall_id, code)
        if row.ticket_id is not None:
            ticket = unit.session.get(Ticket, row.ticket_id)
            raise DomainError(
                f"预约 {row.code} 已签到（{ticket.number if ticket else ''}号）：请在窗口处理该号，不能取消预约",
                f"appointment {row.code} is checked in (ticket {ticket.number if ticket else ''}): "
                "handle the ticket at the window instead",
                code="appointment_checked_in",
            )
        if row.status != "cancelled":
            row.status = "cancelled"
            row.cancelled_at = unit.now
            unit.emit("appointment.cancelled", {"code": row.code})
        return {"code": row.code, "status": row.status}

    return access.run_as(engine, hall_id, "appointment.cancel", action, actor, request_id=request_id)


def _find(session: Session, hall_id: int, code: str) -> Appointment:
    row: Appointment | None = session.execute(
        select(Appointment).where(Appointment.hall_id == hall_id, Appointment.code == lookup.code(code))
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(
            f"预约码 {lookup.typed(code)} 不存在：请核对短信中的预约码（wt appointment list 可查看）",
            f"appointment code {lookup.typed(code)!r} not found: check the code (see `wt appointment list`)",
        )
    return row


def list_day(engine: Engine, hall_id: int, day: date | None = None) -> list[dict[str, Any]]:
    """The bookings of a day (today by the database clock), by slot, each with its state in words."""
    from window_terminal.core.privacy import mask_name, mask_phone

    with read_session(engine) as s:
        hall = s.get(Hall, hall_id)
        assert hall is not None
        now = db_now(s)
        day = day or to_local(now, hall.timezone).date()
        start = local_midnight_utc(day, hall.timezone)
        rows = s.execute(
            select(Appointment, Line.code, Ticket.number)
            .join(Line, Line.id == Appointment.line_id)
            .outerjoin(Ticket, Ticket.id == Appointment.ticket_id)
            .where(
                Appointment.hall_id == hall_id,
                Appointment.slot_start >= start,
                Appointment.slot_start < start + timedelta(days=1),
            )
            .order_by(Appointment.slot_start, Line.code, Appointment.code)
        ).all()
        settings = hall.settings
        tz = hall.timezone
    return [
        {
            "code": a.code,
            "line": line,
            "slot": f"{to_local(a.slot_start, tz):%H:%M}-{to_local(a.slot_end, tz):%H:%M}",
            "name": mask_name(a.name) if a.name else "",
            "phone": mask_phone(a.phone) if a.phone else "",
            "state": state(a, now, settings),
            "ticket": number or "",
            "source": a.source,
        }
        for a, line, number in rows
    ]
