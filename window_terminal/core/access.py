"""Who may do what: the one home of roles and public devices, checked in the core for every command.

Every state change names its actor: a signed-in staff member's code (``"C004"``) or a public device
configured in the hall's ``hall.toml`` (``"device:KIOSK1"``). Loading the hall definition itself
(``wt hall load``), before any staff member exists to sign in, names the administrator's OS user
(``"os:root"``, :func:`os_user`), stored where a device would be. The core looks the actor up inside the
command's own transaction — the role is the one stored at that moment, never what a caller claims —
checks it against ``PERMISSIONS`` and records it on every event of the command. The same refusal
reaches the CLI, a screen and a direct call of the domain function, because they all come here.

Authentication (the PIN, the session) is the front ends' part: a screen signs its user in with
``core.staff.login``; the CLI keeps a session made by ``wt login`` (``core.sessions``).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine, select
from sqlmodel import Session

from window_terminal.core import lookup
from window_terminal.db.models import Hall, Staff, Window
from window_terminal.db.unit import Unit, run_command
from window_terminal.errors import DomainError, NotFound

T = TypeVar("T")

DEVICE_PREFIX = "device:"
OS_USER_PREFIX = "os:"  # the OS account that ran a command no staff member can: loading the hall


def os_user() -> str:
    """``os:<login name>`` of the process's OS user (``os:uid1000`` when the system names none)."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError):
        name = ""
    return OS_USER_PREFIX + (name or f"uid{os.getuid()}")[:57]  # event.device holds 60 characters


ROLES: dict[str, tuple[str, str]] = {
    "clerk": ("窗口工作人员", "counter clerk"),
    "manager": ("大厅管理员", "hall manager"),
    "reviewer": ("后台审批人员", "back-office reviewer"),
    "supervisor": ("督查人员", "supervisor"),
}
DEVICE_KINDS: dict[str, tuple[str, str]] = {
    "kiosk": ("取号机", "ticket kiosk"),
    "display": ("大厅显示屏", "hall display"),
    "rating": ("评价器", "rating screen"),
}

APPROVE_EXTENSION = "case.approve_extension"

COUNTER = frozenset({"clerk", "manager"})
MANAGER = frozenset({"manager"})
REVIEW = frozenset({"reviewer"})

# Command name (as given to run_command) → the roles, or "device:<kind>", that may run it.
PERMISSIONS: dict[str, frozenset[str]] = {
    # the queue at a window
    "ticket.take": COUNTER | {"device:kiosk"},
    "appointment.book": COUNTER | {"device:kiosk"},
    "appointment.cancel": COUNTER,
    "appointment.import": MANAGER,
    "call.next": COUNTER,
    "call.ticket": COUNTER,
    "call.recall": COUNTER,
    "call.no_show": COUNTER,
    "call.start": COUNTER,
    "call.finish": COUNTER,
    "call.park": COUNTER,
    "call.transfer": COUNTER,
    "ticket.cancel": COUNTER,
    "window.status": COUNTER,
    # the hall manager's levers
    "ticket.move_forward": MANAGER,
    "line.status": MANAGER,
    "window.lines": MANAGER,
    "hall.broadcast": MANAGER,
    "staff.unlock": MANAGER,
    # one's own session and PIN
    "staff.change_pin": frozenset(ROLES),
    "staff.logout": frozenset(ROLES),
    # the counter's intake of a case
    "case.submit": COUNTER,
    "case.conclude": COUNTER,
    "case.supplement": COUNTER,
    "case.record_supplement": COUNTER,
    "case.visit": COUNTER,
    "case.pickup": COUNTER,
    "case.post": COUNTER,
    "case.override_once": MANAGER,
    "case.deem": COUNTER
    | {
        "supervisor"
    },  # Art. 32: record the deemed acceptances that are due  # a second one-time notice for one submission: a recorded breach
    # the back office decides (reviewers of the task's department only: see review.py)
    "review.claim": REVIEW,
    "review.approved": REVIEW,
    "review.refused": REVIEW,
    "review.return": REVIEW,
    "review.suspend": REVIEW,
    "review.resume": REVIEW,
    "case.extend": REVIEW | MANAGER,  # and only by the case's own department: see review.extend
    # approving an extension (Art. 42: 本行政机关负责人): held by the role, given to the named
    # people of staff.toml (approves_extensions = true) — never a name typed as free text
    APPROVE_EXTENSION: REVIEW | {"supervisor"},
    # ratings (好差评): the applicant at the window's rating screen; rectification by the managers
    "rating.add": COUNTER | {"device:rating"},
    "rectification.close": MANAGER | {"supervisor"},
    # documents
    "document.print": COUNTER | REVIEW | MANAGER | {"device:kiosk"},  # the kiosk prints its slips
}


# The commands done AT a window (its number given): a clerk does them only at the window they are
# signed in at — the window whose clerk they are (``Window.staff_id``, set when they open it: the
# counter screen's sign-in, `wt window open N`, `wt login CODE --window N`); a manager may act at any
# window, and the event records the manager as its actor. "window.status" takes a window: a clerk
# opens, pauses or closes only a window that has no clerk or is their own, and while signed in at
# one window cannot take another (close it first). A window a manager opened is free to take.
AT_OWN_WINDOW = frozenset(
    {"call.next", "call.ticket", "call.recall", "call.no_show", "call.start", "call.finish", "call.park",
     "call.transfer"}
)  # fmt: skip
TAKES_A_WINDOW = frozenset({"window.status"})


# Which staff screens each role may open; the public devices' screens and their device kind.
STAFF_SCREENS: dict[str, frozenset[str]] = {
    "counter": COUNTER,
    "board": MANAGER,
    "backoffice": REVIEW | MANAGER,
    "status": frozenset(ROLES),
}
DEVICE_SCREENS: dict[str, str] = {"kiosk": "kiosk", "rate": "rating"}


def may_open(role: str, screen: str) -> bool:
    return role in STAFF_SCREENS.get(screen, frozenset())


def device_for(settings: dict[str, Any], screen: str, wanted: str | None = None) -> str:
    """The actor of a public screen: ``device:<id>`` of the hall's device for it (the one named, or
    the only one of its kind); ``DomainError`` naming the fix when there is none."""
    kind = DEVICE_SCREENS[screen]
    fitting = {key: d for key, d in devices(settings).items() if d.get("kind") == kind}
    if wanted:
        key = lookup.code(wanted)
        if key not in fitting:
            known = ", ".join(sorted(fitting)) or "（无 / none）"
            raise DomainError(
                f"大厅定义中没有{DEVICE_KINDS[kind][0]}设备 {key}：已登记的有 {known}",
                f"no {DEVICE_KINDS[kind][1]} device {key!r} in the hall definition; known: {known}",
                code="unknown_device",
            )
        return DEVICE_PREFIX + key
    if len(fitting) != 1:
        zh, en = DEVICE_KINDS[kind]
        raise DomainError(
            f'请用 --device 指定{zh}设备（hall.toml 的 [[device]]，kind = "{kind}"）：'
            f"已登记 {', '.join(sorted(fitting)) or '无'}",
            f"name the {en} with --device (a [[device]] of kind {kind!r} in hall.toml); "
            f"known: {', '.join(sorted(fitting)) or 'none'}",
            code="unknown_device",
        )
    return DEVICE_PREFIX + next(iter(fitting))


@dataclass(frozen=True)
class Acting:
    """The actor of a command, as stored: a staff member or a configured public device."""

    code: str  # staff code, or the device id
    role: str  # a role of ROLES, or "device:<kind>"
    staff_id: int | None = None
    name: str = ""
    department_id: int | None = None
    window: int | None = None  # a rating screen's window

    @property
    def device(self) -> str | None:
        return self.code if self.role.startswith(DEVICE_PREFIX) else None

    @property
    def actor(self) -> str:
        return DEVICE_PREFIX + self.code if self.device else self.code


def role_name(role: str) -> tuple[str, str]:
    if role.startswith(DEVICE_PREFIX):
        return DEVICE_KINDS.get(role[len(DEVICE_PREFIX) :], (role, role))
    return ROLES.get(role, (role, role))


def may(role: str, command: str) -> bool:
    """Whether ``role`` (or ``device:<kind>``) may run ``command``: for screens to offer only what works."""
    return role in PERMISSIONS.get(command, frozenset())


def sign_in_needed() -> DomainError:
    return DomainError(
        "请先登录：在终端运行 wt login 工号（或在屏幕上登录）",
        "sign in first: run `wt login CODE` (or sign in on the screen)",
        code="not_signed_in",
    )


def devices(settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The hall's public devices (hall.toml ``[[device]]``) by id."""
    return {str(d["id"]).upper(): d for d in settings.get("devices") or []}


def extension_approvers(settings: dict[str, Any]) -> frozenset[str]:
    """The staff codes the hall definition names as approvers of extensions (staff.toml
    ``approves_extensions = true``, kept in the hall's settings by ``core.hall``)."""
    return frozenset(str(code).upper() for code in settings.get("extension_approvers") or [])


def approver_problem(role: Any, department: Any) -> str | None:
    """Why a person of staff.toml cannot be named an approver of extensions (None when they can):
    their role must hold ``APPROVE_EXTENSION`` and they must belong to a department (the office
    whose head approves, Art. 42)."""
    if not may(str(role), APPROVE_EXTENSION):
        roles = ", ".join(sorted(PERMISSIONS[APPROVE_EXTENSION]))
        return f"approves_extensions: only a {roles} may approve extensions, not a {role}"
    if not department:
        return "approves_extensions: an approver needs a department (the office whose head approves)"
    return None


def resolve(session: Session, hall_id: int, actor: str | None) -> Acting:
    """The actor named, looked up now: an active staff member, or a device of the hall definition."""
    if actor is None or not lookup.typed(actor):
        raise sign_in_needed()
    text = lookup.typed(actor)
    if text.lower().startswith(DEVICE_PREFIX):
        wanted = lookup.code(text[len(DEVICE_PREFIX) :])
        hall = session.get(Hall, hall_id)
        device = devices((hall.settings if hall else None) or {}).get(wanted)
        if device is None:
            raise DomainError(
                f"设备 {wanted or '（空）'} 不在大厅定义中：在 hall.toml 的 [[device]] 中登记它",
                f"device {wanted!r} is not in the hall definition: add it as a [[device]] in hall.toml",
                code="unknown_device",
            )
        return Acting(
            code=wanted,
            role=DEVICE_PREFIX + str(device["kind"]),
            name=str(device.get("name", wanted)),
            window=device.get("window"),
        )
    try:
        staff: Staff = lookup.staff(session, hall_id, text)
    except NotFound:
        raise DomainError(
            f"工号 {text} 不存在或已停用：请重新登录",
            f"no active staff member {text!r}: sign in again",
            code="not_signed_in",
        ) from None
    assert staff.id is not None
    return Acting(
        code=staff.code,
        role=staff.role,
        staff_id=staff.id,
        name=staff.name,
        department_id=staff.department_id,
    )


def require(acting: Acting, command: str) -> None:
    """Refuse ``command`` to an actor whose role may not run it (the table ``PERMISSIONS``)."""
    if may(acting.role, command):
        return
    allowed = sorted(PERMISSIONS.get(command, frozenset()))
    who_zh, who_en = role_name(acting.role)
    need_zh = "、".join(role_name(r)[0] for r in allowed) or "（无人）"
    need_en = ", ".join(role_name(r)[1] for r in allowed) or "nobody"
    who = (
        f"{acting.name}（{acting.code}，{who_zh}）"
        if acting.name and acting.name != acting.code
        else f"{acting.code}（{who_zh}）"
    )
    raise DomainError(
        f"{who}无权执行“{command}”：需要{need_zh}",
        f"{acting.code} ({who_en}) may not do {command}: it needs a {need_en}",
        code="forbidden",
    )


def signed_in_window(
    session: Session, hall_id: int, staff_id: int, *, besides: int | None = None
) -> int | None:
    """The number of the window a staff member is signed in at (its clerk, not closed), if any."""
    stmt = select(Window.number).where(
        Window.hall_id == hall_id, Window.staff_id == staff_id, Window.status != "closed", Window.active
    )
    if besides is not None:
        stmt = stmt.where(Window.number != besides)
    return session.execute(stmt.order_by(Window.number).limit(1)).scalar_one_or_none()


def window_of(engine: Engine, hall_id: int, staff_code: str) -> int:
    """The window ``staff_code`` is signed in at (``wt login CODE --window N``, or a counter opened
    there): where their window commands go when they name none. ``DomainError`` when there is none."""
    from window_terminal.db.engine import read_session

    with read_session(engine) as s:
        staff_id = s.execute(
            select(Staff.id).where(Staff.hall_id == hall_id, Staff.code == lookup.code(staff_code))
        ).scalar_one_or_none()
        number = signed_in_window(s, hall_id, staff_id) if staff_id is not None else None
    if number is None:
        raise DomainError(
            f"{staff_code} 没有登录在任何窗口：请用 --window 指定窗口号，或先在窗口登录（wt login {staff_code} --window 窗口号）",
            f"{staff_code} is signed in at no window: name one with --window N, or sign in at it first "
            f"(`wt login {staff_code} --window N`)",
            code="no_window",
        )
    return number


def require_window(session: Session, hall_id: int, acting: Acting, command: str, number: int) -> None:
    """A clerk acts only at the window they are signed in at (``AT_OWN_WINDOW``) and takes a window
    only when it is free and they hold no other (``TAKES_A_WINDOW``); a manager acts at any window."""
    if acting.role in MANAGER or acting.staff_id is None or command not in AT_OWN_WINDOW | TAKES_A_WINDOW:
        return
    window = lookup.window(session, hall_id, number)
    if window.staff_id == acting.staff_id:
        return
    if command in AT_OWN_WINDOW and window.status == "closed":
        return  # nothing is done at a closed window: the command's own refusal says to open it
    mine = signed_in_window(session, hall_id, acting.staff_id, besides=number)
    if command in TAKES_A_WINDOW:
        other = session.get(Staff, window.staff_id) if window.staff_id is not None else None
        if other is not None and window.status != "closed" and other.role not in MANAGER:
            who, who_en = f"{other.name}（{other.code}）", other.code
            raise DomainError(
                f"{number} 号窗口由{who}登录使用：请在自己的窗口操作，或请大厅管理员关闭该窗口",
                f"window {number} is signed in to by {who_en}: work at your own window, or ask the hall "
                "manager to close that window",
                code="not_your_window",
            )
        if mine is None:
            return
        raise DomainError(
            f"{acting.code} 已在 {mine} 号窗口登录：请先关闭 {mine} 号窗口（wt window close {mine}）再到 "
            f"{number} 号窗口",
            f"{acting.code} is signed in at window {mine}: close it first (`wt window close {mine}`), "
            f"then take window {number}",
            code="not_your_window",
        )
    if mine is None:
        raise DomainError(
            f"{acting.code} 未在 {number} 号窗口登录：请先开窗（wt window open {number}，或在柜台界面登录该窗口）",
            f"{acting.code} is not signed in at window {number}: open it first (`wt window open {number}`, "
            "or sign in at that window on the counter screen)",
            code="not_your_window",
        )
    raise DomainError(
        f"{acting.code} 登录在 {mine} 号窗口，只能为 {mine} 号窗口叫号和办理；{number} 号窗口的操作请由该窗口人员"
        "或大厅管理员办理",
        f"{acting.code} is signed in at window {mine} and calls and serves there only; window {number}'s "
        "commands are for its own clerk or a hall manager",
        code="not_your_window",
    )


# The PostgreSQL counter procedures run on a connection of their own, outside ``run_as``: they read
# the actor's row, and the clerk of the window acted at, on that connection right before the call
# (one statement, no ORM session). The procedure itself does not check the window's clerk: a window
# changes hands only when it is closed and opened again, which this read sees unless it happens in
# the instant between the two statements.
FAST_PATH_ACTOR_SQL = (
    "SELECT s.id, s.role, w.staff_id FROM staff s"
    ' LEFT JOIN "window" w ON w.hall_id = s.hall_id AND w.number = %(window)s AND w.active'
    " WHERE s.hall_id = %(hall_id)s AND s.code = %(actor_code)s AND s.active"
)


def fast_path_may(role: str, staff_id: int, window_staff_id: int | None, command: str) -> bool:
    """Whether the fast path may run ``command`` for this actor at this window (else the Python path
    answers, with its refusal in words): ``PERMISSIONS``, and a clerk only at their own window."""
    if not may(role, command):
        return False
    return role in MANAGER or command not in AT_OWN_WINDOW or window_staff_id == staff_id


def fast_path_code(actor: str | None) -> str | None:
    """The staff code the fast path looks up for ``actor``; None when only ``run_as`` can judge it
    (nobody named, or a device), so the Python path answers, with its refusal."""
    text = lookup.typed(actor or "")
    if not text or text.lower().startswith(DEVICE_PREFIX):
        return None
    return lookup.code(text)


def authorize(unit: Unit, command: str, actor: str | None) -> Acting:
    """Inside a command's transaction: look up and check the actor, and record it on the unit (and
    so on every event the command appends)."""
    acting = resolve(unit.session, unit.hall_id, actor)
    require(acting, command)
    unit.staff_id = acting.staff_id
    unit.device = acting.device
    return acting


def run_as(
    engine: Engine,
    hall_id: int,
    command: str,
    action: Callable[[Unit], T],
    actor: str | None,
    *,
    request_id: str | None = None,
    window: int | None = None,
    encode: Callable[[T], Any] | None = None,
    decode: Callable[[Any], T] | None = None,
) -> T:
    """``run_command`` for a command someone does: the actor checked first, in the same transaction.
    The request id and the window number are bounded first, before any SQL (``lookup``)."""
    request_id = lookup.request_id(request_id)
    if window is not None:
        window = lookup.window_number(window)

    def guarded(unit: Unit) -> T:
        acting = authorize(unit, command, actor)
        if window is not None:
            require_window(unit.session, unit.hall_id, acting, command, window)
        return action(unit)

    return run_command(
        engine, hall_id, command, guarded, request_id=request_id, window=window, encode=encode, decode=decode
    )
