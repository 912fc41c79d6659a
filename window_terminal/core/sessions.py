"""A staff member's sign-in session on this PC, for the CLI (``wt login`` / ``wt logout``) and for the
screens started from it: one JSON file per OS user, readable by that user only.

The file names the hall, the staff member and when the session ends, and carries a token: an HMAC
of those facts keyed by the staff member's stored PIN hash. A session is valid only while the token
matches — a hand-written or edited file, or one from before a PIN change, is refused — and only
until it expires: after ``idle_minutes`` without a command when that is set, and in any case at the
end of the service day it was opened on (the hall's local midnight, by the database clock).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from window_terminal.core import lookup
from window_terminal.core.privacy import write_private_file
from window_terminal.core.staff import StaffInfo, login
from window_terminal.db.clock import db_now, local_day, local_midnight_utc
from window_terminal.db.engine import read_session
from window_terminal.db.models import Hall
from window_terminal.errors import DomainError, NotFound

SESSION_FILE = "session.json"


def session_path(folder: Path) -> Path:
    return Path(folder) / SESSION_FILE


@dataclass(frozen=True)
class SignedIn:
    code: str
    name: str
    role: str
    hall_id: int
    ends_at: datetime  # naive UTC (database clock)

    def as_dict(self) -> dict[str, Any]:
        return {"staff": self.code, "name": self.name, "role": self.role, "ends_at": self.ends_at.isoformat()}


def _token(pin_hash: str, hall_id: int, code: str, opened: str, day_end: str) -> str:
    message = f"{hall_id}|{code}|{opened}|{day_end}".encode()
    return hmac.new(pin_hash.encode(), message, hashlib.sha256).hexdigest()


def not_signed_in(why_zh: str = "", why_en: str = "") -> DomainError:
    return DomainError(
        f"{why_zh}请先登录：wt login 工号",
        f"{why_en}sign in first: wt login CODE",
        code="not_signed_in",
    )


def open_session(engine: Engine, hall_id: int, folder: Path, code: str, pin: str) -> StaffInfo:
    """Sign in (the PIN checked and counted like any sign-in) and keep the session in ``folder``."""
    staff = login(engine, hall_id, code, pin)
    if staff.pin_initial:
        raise DomainError(
            "首次登录须先修改初始PIN：运行 wt pin change",
            "the initial PIN must be changed first: run `wt pin change`",
            code="pin_initial",
        )
    with read_session(engine) as s:
        row = lookup.staff(s, hall_id, staff.code)
        hall = s.get(Hall, hall_id)
        assert hall is not None
        now = db_now(s)
        day_end = local_midnight_utc(local_day(now, hall.timezone) + timedelta(days=1), hall.timezone)
        opened, ends = now.isoformat(), day_end.isoformat()
        data = {
            "hall_id": hall_id,
            "staff": staff.code,
            "opened": opened,
            "day_end": ends,
            "last_used": opened,
            "token": _token(row.pin_hash, hall_id, staff.code, opened, ends),
        }
    write_private_file(session_path(folder), json.dumps(data, ensure_ascii=False))
    return staff


def current(engine: Engine, hall_id: int, folder: Path, *, idle_minutes: int | None = None) -> SignedIn:
    """The signed-in staff member, checked against the database; ``DomainError`` when there is none,
    it expired, or the file is not one ``open_session`` wrote. A valid session is marked used."""
    path = session_path(folder)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        code, opened, day_end = str(data["staff"]), str(data["opened"]), str(data["day_end"])
        last_used = datetime.fromisoformat(str(data["last_used"]))
        session_hall = int(data["hall_id"])
        token = str(data["token"])
    except FileNotFoundError:
        raise not_signed_in() from None
    except (ValueError, KeyError, TypeError):
        raise not_signed_in("登录信息已损坏，", "the session file is damaged; ") from None
    if session_hall != hall_id:
        raise not_signed_in("当前登录属于另一个大厅，", "the session is for another hall; ")
    with read_session(engine) as s:
        try:
            row = lookup.staff(s, hall_id, code)
        except NotFound:
            raise not_signed_in(
                f"工号 {code} 已停用，", f"staff member {code} is no longer active; "
            ) from None
        now = db_now(s)
    if not hmac.compare_digest(token, _token(row.pin_hash, hall_id, code, opened, day_end)):
        raise not_signed_in(
            "登录信息无效（PIN 已修改或文件被改动），",
            "the session is not valid (PIN changed or file edited); ",
        )
    ends = datetime.fromisoformat(day_end)
    if idle_minutes:
        ends = min(ends, last_used + timedelta(minutes=idle_minutes))
    if now >= ends:
        path.unlink(missing_ok=True)
        raise not_signed_in("登录已过期，", "the session has expired; ")
    data["last_used"] = now.isoformat()
    write_private_file(path, json.dumps(data, ensure_ascii=False))
    return SignedIn(row.code, row.name, row.role, hall_id, ends)


def close_session(folder: Path) -> str | None:
    """Forget this PC's session; the staff code it was for, or None when there was none."""
    path = session_path(folder)
    try:
        code = str(json.loads(path.read_text(encoding="utf-8")).get("staff"))
    except (FileNotFoundError, ValueError, AttributeError):
        code = None
    try:
        os.unlink(path)
    except FileNotFoundError:
        return None
    return code
