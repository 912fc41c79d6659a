"""Staff login: staff code + PIN, locked for 15 minutes after 5 failures (database clock).

The PIN is checked outside the hall's write lock (PBKDF2 is slow on purpose); the outcome —
success, failure or lockout — is then recorded as one command with its event.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from window_terminal.core import access, lookup
from window_terminal.core.auth import hash_pin, new_pin_problem, pin_is_initial, verify_pin
from window_terminal.db.clock import db_now, to_local
from window_terminal.db.engine import read_session
from window_terminal.db.models import Department, Hall, Staff
from window_terminal.db.unit import Unit, run_command
from window_terminal.errors import DomainError, NotFound

MAX_FAILURES = 5
LOCK_MINUTES = 15
HOME_SCREENS = {"clerk": "counter", "manager": "board", "reviewer": "backoffice", "supervisor": "status"}


@dataclass(frozen=True)
class StaffInfo:
    id: int
    code: str
    name: str
    role: str
    department: str | None
    pin_initial: bool = False  # the hall definition's PIN: to be changed before anything else

    @property
    def home(self) -> str:
        return HOME_SCREENS.get(self.role, "status")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _unknown(code: str) -> DomainError:
    return DomainError(
        f"工号 {code} 不存在或已停用：请核对工号",
        f"no active staff member {code!r}: check the staff code",
        code="login",
    )


def login(engine: Engine, hall_id: int, code: str, pin: str) -> StaffInfo:
    """The staff member for ``code`` if ``pin`` is right; ``DomainError`` otherwise (failures counted)."""
    if not lookup.typed(code) or not pin:
        raise DomainError("请输入工号和PIN", "enter your staff code and PIN", code="login")
    with read_session(engine) as s:
        try:
            staff = lookup.staff(s, hall_id, code)
        except NotFound:
            raise _unknown(lookup.typed(code)) from None
        now = db_now(s)
        if staff.locked_until is not None and staff.locked_until > now:
            raise _locked(s, hall_id, staff.locked_until)
    ok = verify_pin(pin, staff.pin_hash)

    def action(unit: Unit) -> dict[str, Any]:
        row = unit.session.get(Staff, staff.id)
        assert row is not None
        if row.locked_until is not None and row.locked_until > unit.now:
            return {"ok": False, "locked_until": row.locked_until.isoformat()}
        if ok:
            row.failed_logins = 0
            row.locked_until = None
            unit.emit("staff.login", {"staff": row.code, "role": row.role})
            return {"ok": True}
        row.failed_logins += 1
        unit.emit("staff.login_failed", {"staff": row.code, "failures": row.failed_logins})
        if row.failed_logins >= MAX_FAILURES:
            row.locked_until = unit.now + timedelta(minutes=LOCK_MINUTES)
            row.failed_logins = 0
            unit.emit("staff.locked", {"staff": row.code, "until": row.locked_until.isoformat()})
            return {"ok": False, "locked_until": row.locked_until.isoformat()}
        return {"ok": False, "left": MAX_FAILURES - row.failed_logins}

    result = run_command(engine, hall_id, "staff.login", action, staff_id=staff.id)
    if result["ok"]:
        with read_session(engine) as s:
            dept = s.get(Department, staff.department_id) if staff.department_id else None
        return StaffInfo(
            staff.id or 0,
            staff.code,
            staff.name,
            staff.role,
            dept.code if dept else None,
            pin_is_initial(staff.pin_hash),
        )
    if "locked_until" in result:
        from datetime import datetime

        with read_session(engine) as s:
            raise _locked(s, hall_id, datetime.fromisoformat(result["locked_until"]))
    raise DomainError(
        f"PIN 不正确：还可尝试 {result['left']} 次，之后锁定{LOCK_MINUTES}分钟",
        f"wrong PIN: {result['left']} more attempts before a {LOCK_MINUTES}-minute lock",
        code="login",
    )


def _locked(session: Any, hall_id: int, until: Any) -> DomainError:
    hall = session.get(Hall, hall_id)
    local = to_local(until, hall.timezone if hall else "Asia/Shanghai")
    return DomainError(
        f"连续输错PIN，已锁定至 {local:%H:%M}：请稍后再试，或请大厅管理员解锁",
        f"too many wrong PINs: locked until {local:%H:%M}; try later or ask the hall manager to unlock you",
        code="locked",
    )


def change_pin(engine: Engine, hall_id: int, code: str, old_pin: str, new_pin: str) -> StaffInfo:
    """Replace a staff member's PIN (the initial one must be changed at the first sign-in). The old
    PIN is checked like a sign-in (failures counted); neither PIN is ever stored or logged."""
    staff = login(engine, hall_id, code, old_pin)
    problem = new_pin_problem(new_pin, old_pin)
    if problem is not None:
        raise DomainError(*problem, code="weak_pin")
    stored = hash_pin(new_pin)

    def action(unit: Unit) -> None:
        row = unit.session.get(Staff, staff.id)
        assert row is not None
        row.pin_hash = stored
        unit.emit("staff.pin_changed", {"staff": row.code})

    access.run_as(engine, hall_id, "staff.change_pin", action, staff.code)
    return replace(staff, pin_initial=False)


def unlock(engine: Engine, hall_id: int, code: str, *, actor: str | None) -> dict[str, Any]:
    """A hall manager lifts a staff member's lockout after too many wrong PINs (recorded)."""

    def action(unit: Unit) -> dict[str, Any]:
        row = lookup.staff(unit.session, unit.hall_id, code)
        was_locked = row.locked_until is not None and row.locked_until > unit.now
        row.locked_until = None
        row.failed_logins = 0
        unit.emit("staff.unlocked", {"staff": row.code, "was_locked": was_locked})
        return {"staff": row.code, "name": row.name, "was_locked": was_locked}

    return access.run_as(engine, hall_id, "staff.unlock", action, actor)
