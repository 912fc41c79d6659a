"""Test factories: cases as the counter would leave them, written through ``run_command`` so that the
events exist (the counter's own module is tested elsewhere; these only set the stage)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from window_terminal.core.workdays import hall_calendar
from window_terminal.db.clock import local_midnight_utc
from window_terminal.db.models import (
    Case,
    CaseMaterial,
    ItemDepartment,
    Material,
    ReviewTask,
    ServiceItem,
    Visit,
)
from window_terminal.db.unit import Unit, run_command

SINGLE_DEPT_ITEM = "SCJG-0006"  # 食品经营许可证核发 — SCJG only
JOINT_ITEM = "XZSP-0001"  # 营业执照与食品经营许可证联办 — SCJG + XZSP (parallel review)
FOUR_DEPT_ITEM = "XZSP-0004"  # 企业开办“一件事” — SCJG, RSJ, GJJ, SW


# The demo hall's reviewer of each department (queue/staff.toml): a reviewer acts for their own only.
REVIEWERS = {
    "SCJG": "R001",
    "RSJ": "R002",
    "GJJ": "R003",
    "GA": "R004",
    "GHZY": "R005",
    "ZJ": "R006",
    "WJ": "R007",
    "SW": "R008",
    "XZSP": "R009",
}


def _moment(day: date, tz: str) -> datetime:
    return local_midnight_utc(day, tz) + timedelta(hours=10)


def make_accepted_case(
    engine: Engine,
    hall_id: int,
    item_code: str,
    *,
    accepted_on: date,
    applicant_name: str = "张晓梅",
    id_number: str = "510104199003071237",  # a valid number: the check digit is exercised (issue 20)
    phone: str = "13812345678",
    outcome: str = "accepted",
    supplement_deadline: date | None = None,
    status: str = "accepted",
    window_id: int | None = None,
) -> Case:
    """An accepted case with one pending review task per department of the item (parallel review)."""

    def action(unit: Unit) -> Case:
        s = unit.session
        item = s.execute(
            select(ServiceItem).where(ServiceItem.hall_id == hall_id, ServiceItem.code == item_code)
        ).scalar_one()
        calendar = hall_calendar(s, hall_id)
        promised = calendar.add_working_days(accepted_on, item.promised_days)
        statutory = calendar.add_working_days(accepted_on, item.statutory_days)
        n = s.execute(select(func.count()).select_from(Case).where(Case.hall_id == hall_id)).scalar_one() + 1
        moment = _moment(accepted_on, unit.timezone)
        case = Case(
            hall_id=hall_id,
            case_no=f"JJ{accepted_on:%Y%m%d}-{n:04d}",
            query_code=uuid.uuid4().hex[:10].upper(),
            item_id=item.id,
            status=status,
            outcome=outcome,
            applicant_name=applicant_name,
            id_number=id_number,
            phone=phone,
            received_at=moment,
            received_on=accepted_on,
            accepted_at=moment,
            accepted_on=accepted_on,
            promised_date=promised.date,
            statutory_date=statutory.date,
            deadline_provisional=promised.provisional or statutory.provisional,
            supplement_deadline=supplement_deadline,
            window_id=window_id,
        )
        s.add(case)
        s.flush()
        for material in s.execute(
            select(Material).where(Material.item_id == item.id, Material.active).order_by(Material.position)
        ).scalars():
            deferred = outcome == "deficiency" and material.tolerable
            s.add(
                CaseMaterial(
                    hall_id=hall_id,
                    case_id=case.id,
                    material_id=material.id,
                    status="deferred" if deferred else "received",
                    originals=0 if deferred else material.originals,
                    copies=0 if deferred else material.copies,
                )
            )
        for (department_id,) in s.execute(
            select(ItemDepartment.department_id).where(ItemDepartment.item_id == item.id)
        ).all():
            s.add(
                ReviewTask(hall_id=hall_id, case_id=case.id, department_id=department_id, created_at=unit.now)
            )
        s.add(Visit(hall_id=hall_id, case_id=case.id, purpose="submit", at=moment))
        s.flush()
        unit.emit("case.accepted", {"case_id": case.id, "case_no": case.case_no, "test_factory": True})
        return case

    return run_command(engine, hall_id, "test.make_case", action)


def make_submitted_case(
    engine: Engine,
    hall_id: int,
    item_code: str,
    *,
    received_on: date,
    status: str = "submitted",
    outcome: str | None = None,
) -> Case:
    """A submission still waiting on its one-time notice (Art. 32's five working days)."""

    def action(unit: Unit) -> Case:
        s = unit.session
        item = s.execute(
            select(ServiceItem).where(ServiceItem.hall_id == hall_id, ServiceItem.code == item_code)
        ).scalar_one()
        n = s.execute(select(func.count()).select_from(Case).where(Case.hall_id == hall_id)).scalar_one() + 1
        case = Case(
            hall_id=hall_id,
            case_no=f"JJ{received_on:%Y%m%d}-{n:04d}",
            query_code=uuid.uuid4().hex[:10].upper(),
            item_id=item.id,
            status=status,
            outcome=outcome,
            applicant_name="李建国",
            received_at=_moment(received_on, unit.timezone),
            received_on=received_on,
        )
        s.add(case)
        s.flush()
        unit.emit("case.submitted", {"case_id": case.id, "case_no": case.case_no, "test_factory": True})
        return case

    return run_command(engine, hall_id, "test.make_submission", action)


def set_clock_to(day: date, hour: int = 10) -> timedelta:
    """Move the database clock so that the hall's local date is ``day`` (Asia/Shanghai, 10:00);
    returns the offset set (to move relative to that moment)."""
    from window_terminal.db import clock

    target = local_midnight_utc(day, "Asia/Shanghai") + timedelta(hours=hour)
    clock.set_offset(timedelta(0))
    real = datetime.utcnow()  # noqa: DTZ003 - only to compute an offset from the database's clock
    # SQLite's clock has milliseconds (truncated): read to the microsecond here, a call made within
    # the same millisecond saw a time just before ``target`` (an appointment's slot not yet begun)
    real = real.replace(microsecond=real.microsecond // 1000 * 1000)
    offset = target - real - clock.get_offset()  # less an outer WT_TEST_CLOCK_OFFSET
    clock.set_offset(offset)
    return offset


def tasks_of(engine: Engine, case_id: int) -> dict[str, Any]:
    """{department code: task} for a case."""
    from window_terminal.db.engine import read_session
    from window_terminal.db.models import Department

    with read_session(engine) as s:
        rows = s.execute(
            select(Department.code, ReviewTask)
            .join(ReviewTask, ReviewTask.department_id == Department.id)
            .where(ReviewTask.case_id == case_id)
        ).all()
    return dict(rows)


def approve(
    engine: Engine, hall_id: int, task_id: int, actor: str, note: str = "材料齐全，同意"
) -> dict[str, Any]:
    """A reviewer's approval as the back office makes it: the task claimed first, then decided with
    an opinion."""
    from window_terminal.core import review

    review.claim(engine, hall_id, task_id, actor=actor)
    return review.approve(engine, hall_id, task_id, note=note, actor=actor)


def seed_appointment(
    engine: Engine, hall_id: int, line_code: str, slot_start: datetime, *, minutes: int = 30
) -> str:
    """A booking whose slot starts at any instant ``slot_start`` (naive UTC); its check-in code.

    The booking rules (slots on the hall's grid, in the future, not full) live in
    ``core.appointments.book`` and are tested in test_appointments.py; tests of the calling rule
    need a slot a few minutes either side of the database's clock, so they seed the row here."""
    from window_terminal.core import lookup
    from window_terminal.db.models import Appointment

    def action(unit: Unit) -> str:
        line = lookup.line(unit.session, unit.hall_id, line_code)
        count = unit.session.execute(
            select(func.count()).select_from(Appointment).where(Appointment.hall_id == unit.hall_id)
        ).scalar_one()
        code = f"SEED{count + 1:04d}"  # a stage's own code: the product's numbering is core.appointments'
        unit.session.add(
            Appointment(
                hall_id=unit.hall_id,
                code=code,
                line_id=line.id,
                slot_start=slot_start,
                slot_end=slot_start + timedelta(minutes=minutes),
                source="cli",
            )
        )
        unit.emit("appointment.booked", {"code": code, "line": line.code})  # (no instant: runs are compared)
        return code

    return run_command(engine, hall_id, "appointment.book", action)


def set_hours(engine: Engine, hall_id: int, hours: dict[str, Any] | None) -> None:
    """Give the test hall opening hours (hall.toml ``[hours]``, as ``wt hall load`` stores them);
    None: open at every hour. The tests' hall is loaded open at every hour (conftest ``QUEUE``)."""
    from window_terminal.core import hours as opening
    from window_terminal.db.engine import write_session
    from window_terminal.db.models import Hall

    assert not opening.problems(hours), opening.problems(hours)
    with write_session(engine) as s:
        hall = s.get(Hall, hall_id)
        assert hall is not None
        settings = dict(hall.settings or {})
        if hours is None:
            settings.pop("hours", None)
        else:
            settings["hours"] = hours
        hall.settings = settings
