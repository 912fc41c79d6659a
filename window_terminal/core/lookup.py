"""Finding a row from what a person types: the one normalisation and the look-ups every caller uses.

A clerk types ``c002`` at the sign-in, a reviewer pastes ``C002`` with a trailing space, a kiosk's
Chinese input method sends full-width ``Ｃ００２`` with an ideographic space: all three mean the same
staff member, and every screen, command and report must find them the same way. So the rule lives
here, once:

* ``typed`` — NFKC (full-width letters, digits, ``＃`` and the ideographic space become their
  half-width forms), invisible characters pasted from other systems (zero-width spaces and joiners,
  the byte-order mark, the soft hyphen, control characters such as NUL) go, then surrounding
  whitespace goes;
* ``code`` — ``typed``, upper-cased: staff, line, department, service item, ticket, case and query
  codes, document numbers are stored upper-case and are case-insensitive to a person;
* ``hall_code`` — ``typed``, lower-cased: hall codes are stored lower-case.

Every typed value has a bound, checked here before any SQL (a 20-digit window number overflowed
SQLite's integers and PostgreSQL's; a 500-character request id and a 300-character priority reason
were stored): window numbers 1-999 (``window_number``), codes ``MAX_CODE`` characters (``code``),
request ids ``MAX_REQUEST_ID`` visible characters (``request_id``), free text ``MAX_NOTE``
characters (``note``); and a vocabulary where the hall has one: the priority lane's reasons come from
``hall.toml`` ``[priority] reasons`` (``priority_reason``). A value out of bounds is a
``DomainError`` (code ``too_long``, ``bad_window``, ``bad_request_id``, ``bad_priority_reason``)
naming the bound.

Each look-up raises ``NotFound`` naming what was typed and where to see the valid values.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from window_terminal.db.models import (
    Case,
    Department,
    Hall,
    Line,
    ServiceItem,
    Staff,
    Ticket,
    Window,
    typed_row_id,
)
from window_terminal.errors import DomainError, NotFound

# --- the normalisation ----------------------------------------------------------------------------


# Characters that show as nothing: a paste from a web page or a spreadsheet carries them invisibly
# (U+200B zero-width space, U+200C/U+200D joiners, U+2060 word joiner, U+FEFF byte-order mark,
# U+00AD soft hyphen), and a code with one inside would otherwise never be found.
# Control characters (NUL, DEL, ESC …) are never part of what was meant, and PostgreSQL refuses NUL
# in text outright; whitespace among them (tab, line ends) is left to the trimming.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad")) | dict.fromkeys(
    c for c in range(0xA0) if unicodedata.category(chr(c)) == "Cc" and not chr(c).isspace()
)


def typed(text: str | int | None) -> str:
    """What a person typed, as one canonical string: half-width (NFKC), no invisible characters,
    no surrounding whitespace."""
    if text is None:
        return ""
    return unicodedata.normalize("NFKC", str(text)).translate(_INVISIBLE).strip()


# --- the bounds of what a person types ---------------------------------------------------------

MAX_WINDOW = 999  # windows.toml numbers windows 1-999 (core/hall.py validates the same range)
MAX_CODE = 64  # staff, line, department, item, ticket, case, query, appointment codes, document numbers
MAX_REQUEST_ID = 80  # request_log.request_id
MAX_NOTE = 500  # a note, reason, comment or address typed at a counter, a board or a back office


def _shown(text: str, width: int = 12) -> str:
    """The start of a long value, to name it in a message without echoing all of it."""
    return text if len(text) <= width else text[:width] + "…"


def too_long(text: str, limit: int, what: tuple[str, str]) -> DomainError:
    """The refusal of a typed value longer than its bound, naming the field, the bound and the fix."""
    zh, en = what
    return DomainError(
        f"{zh}“{_shown(text)}”过长（{len(text)}个字符）：最多{limit}个字符，请核对后重新输入",
        f"{en} {_shown(text)!r} is too long ({len(text)} characters): at most {limit}; "
        "check it and type it again",
        code="too_long",
    )


def note(
    text: str | None, *, limit: int = MAX_NOTE, what: tuple[str, str] = ("输入的文字", "the text")
) -> str:
    """Free text as kept (a note, a reason, a comment): as typed, line breaks and tabs kept, but no
    invisible or control characters (PostgreSQL refuses NUL) and no surrounding whitespace. Not
    NFKC: a note keeps the characters the clerk chose. At most ``limit`` characters."""
    if text is None:
        return ""
    value = str(text).translate(_INVISIBLE).strip()
    if len(value) > limit:
        raise too_long(value, limit, what)
    return value


def code(text: str | int | None) -> str:
    """A case-insensitive code as stored (upper-case): ``" ｃ００２ "`` → ``"C002"``; at most
    ``MAX_CODE`` characters (no code of the hall is longer)."""
    value = typed(text).upper()
    if len(value) > MAX_CODE:
        raise too_long(value, MAX_CODE, ("编号", "the code"))
    return value


def hall_code(text: str | int | None) -> str:
    """A hall code as stored (lower-case): ``"JinJiang "`` → ``"jinjiang"``."""
    value = typed(text).lower()
    if len(value) > MAX_CODE:
        raise too_long(value, MAX_CODE, ("大厅代码", "the hall code"))
    return value


def _bad_window(value: str) -> DomainError:
    return DomainError(
        f"没有 {_shown(value, 24)} 号窗口：窗口号为1-{MAX_WINDOW}，请输入窗口上方的号码，如 3",
        f"no window {_shown(value, 24)}: window numbers run from 1 to {MAX_WINDOW}; "
        "type the number above the window, like 3",
        code="bad_window",
    )


def window_number(text: str | int) -> int:
    """A window number from what was typed (``3``, ``" ３ "``) or given (an int from a command line
    or a screen): 1-999, or a clear error before any SQL (a 20-digit number overflowed SQLite's
    integers and PostgreSQL's)."""
    if isinstance(text, bool):
        raise _bad_window(str(text))
    if isinstance(text, int):
        if not 1 <= text <= MAX_WINDOW:
            raise _bad_window(str(text))
        return text
    value = typed(text)
    if not value.isdecimal():
        raise DomainError(
            f"窗口号 {_shown(value) or '（空）'} 不是数字：请输入窗口上方的号码，如 3",
            f"window {_shown(value) or '(empty)'!r} is not a number: type the number above the window, "
            "like 3",
            code="bad_window",
        )
    if len(value) > len(str(MAX_WINDOW)) or not 1 <= int(value) <= MAX_WINDOW:
        raise _bad_window(value)
    return int(value)


def request_id(text: str | None) -> str | None:
    """A request id (``--request-id``, or one a screen made) as stored: ``typed``, 1-80 visible
    characters with no spaces inside; None when none was given."""
    if text is None:
        return None
    value = typed(text)
    if not value or len(value) > MAX_REQUEST_ID or any(ch.isspace() for ch in value):
        raise DomainError(
            f"请求编号“{_shown(value)}”无效：须为1-{MAX_REQUEST_ID}个可见字符、不含空格（如 a1b2c3），"
            "或不填（系统自动生成）",
            f"request id {_shown(value)!r} is not valid: give 1-{MAX_REQUEST_ID} visible characters "
            "without spaces (like a1b2c3), or leave it out (one is made for you)",
            code="bad_request_id",
        )
    return value


# The priority lane's reasons when a hall's definition lists none (hall.toml ``[priority] reasons``).
DEFAULT_PRIORITY_REASONS: tuple[tuple[str, str], ...] = (
    ("老年人", "Elderly"),
    ("残疾人", "Disabled"),
    ("军人", "Military"),
    ("孕妇", "Pregnant"),
    ("怀抱婴儿", "With an infant"),
    ("其他困难", "Other hardship"),
)


def priority_reasons(settings: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """The reasons a hall accepts for its priority lane, (Chinese, English), in the kiosk's order."""
    listed = (settings or {}).get("priority_reasons")
    if not listed:
        return list(DEFAULT_PRIORITY_REASONS)
    return [(str(r["zh"]), str(r.get("en") or r["zh"])) for r in listed]


def priority_reason(settings: Mapping[str, Any] | None, text: str | None) -> str:
    """The reason of the hall's vocabulary typed (its Chinese or English words, any width or case),
    as stored: the Chinese words. A reason the hall does not list is refused, naming those it does."""
    wanted = typed(text).casefold()
    reasons = priority_reasons(settings)
    for zh, en in reasons:
        if wanted in (typed(zh).casefold(), typed(en).casefold()):
            return zh
    if wanted:
        problem_zh = f"绿色通道原因“{_shown(typed(text))}”不在本大厅的原因中"
        problem_en = f"{_shown(typed(text))!r} is not one of this hall's priority reasons"
    else:
        problem_zh, problem_en = "绿色通道需选择原因", "the priority lane needs a reason"
    raise DomainError(
        f"{problem_zh}：可选 {'、'.join(zh for zh, _ in reasons)}（大厅定义 hall.toml 的 [priority] reasons）",
        f"{problem_en}: choose one of {', '.join(en for _, en in reasons)} (hall.toml [priority] reasons)",
        code="bad_priority_reason",
    )


# --- the look-ups ---------------------------------------------------------------------------------


def hall(halls: Sequence[Hall], text: str) -> Hall:
    """The hall named by ``text`` among ``halls`` (all of the database's halls)."""
    wanted = hall_code(text)
    for row in halls:
        if row.code == wanted:
            return row
    known = ", ".join(h.code for h in halls) or "none yet"
    raise NotFound(
        f"数据库中没有大厅 {typed(text)}（已有：{known}）：请检查 --hall / WT_HALL，或先运行 wt hall load",
        f"no hall {typed(text)!r} in the database (halls: {known}): check --hall / WT_HALL, "
        "or run `wt hall load` first",
    )


def staff(session: Session, hall_id: int, text: str) -> Staff:
    """The active staff member whose code was typed."""
    wanted = code(text)
    row = (
        session.execute(
            select(Staff).where(Staff.hall_id == hall_id, Staff.code == wanted, Staff.active)
        ).scalar_one_or_none()
        if wanted
        else None
    )
    if row is None:
        raise NotFound(
            f"没有在岗工作人员 {typed(text) or '（空）'}：请核对工号（如 C002，见大厅定义 staff.toml）",
            f"no active staff member {typed(text)!r}: check the staff code (like C002; "
            "the hall's staff.toml lists them)",
        )
    return row


def optional_staff(session: Session, hall_id: int, text: str | None) -> Staff | None:
    """The staff member typed, or None when nobody was named (a blank field)."""
    return staff(session, hall_id, text) if text is not None and typed(text) else None


def staff_id(session: Session, hall_id: int, text: str | None) -> int | None:
    """The id of the staff member typed, or None when nobody was named."""
    row = optional_staff(session, hall_id, text)
    return row.id if row is not None else None


def line(session: Session, hall_id: int, text: str) -> Line:
    """The active line whose code was typed (``biz``, ``ＢＩＺ``)."""
    wanted = code(text)
    row = session.execute(
        select(Line).where(Line.hall_id == hall_id, Line.code == wanted, Line.active)
    ).scalar_one_or_none()
    if row is None:
        known = ", ".join(
            session.execute(
                select(Line.code).where(Line.hall_id == hall_id, Line.active).order_by(Line.sort_order)
            ).scalars()
        )
        raise NotFound(
            f"没有业务线 {typed(text)}；可选：{known}（wt queue status 可查看）",
            f"no line {typed(text)!r}; known lines: {known} (see `wt queue status`)",
        )
    return row


def window(session: Session, hall_id: int, text: str | int) -> Window:
    """The active window whose number was typed."""
    number = window_number(text)
    row = session.execute(
        select(Window).where(Window.hall_id == hall_id, Window.number == number, Window.active)
    ).scalar_one_or_none()
    if row is None:
        known = ", ".join(
            str(n)
            for n in session.execute(
                select(Window.number).where(Window.hall_id == hall_id, Window.active).order_by(Window.number)
            ).scalars()
        )
        raise NotFound(
            f"没有 {number} 号窗口；本大厅窗口：{known}",
            f"no window {number}; this hall's windows are: {known}",
        )
    return row


def department(session: Session, hall_id: int, text: str) -> Department:
    """The department whose code was typed (``scjg``)."""
    wanted = code(text)
    row = session.execute(
        select(Department).where(Department.hall_id == hall_id, Department.code == wanted)
    ).scalar_one_or_none()
    if row is None:
        known = ", ".join(
            session.execute(
                select(Department.code).where(Department.hall_id == hall_id).order_by(Department.code)
            ).scalars()
        )
        raise NotFound(
            f"没有部门 {typed(text)}；可选：{known}",
            f"no department {typed(text)!r}; known: {known}",
        )
    return row


def service_item(session: Session, hall_id: int, ref: str | int) -> ServiceItem:
    """A service item by its row id (an int from a screen) or by the code typed."""
    if isinstance(ref, int):
        item = session.get(ServiceItem, ref)
        if item is not None and item.hall_id == hall_id:
            return item
    else:
        item = session.execute(
            select(ServiceItem).where(ServiceItem.hall_id == hall_id, ServiceItem.code == code(ref))
        ).scalar_one_or_none()
        if item is not None:
            return item
    raise NotFound(
        f"没有事项 {typed(ref)}：请在事项搜索框中输入名称、编码或拼音首字母",
        f"no service item {typed(ref)!r}: search the catalogue by name, code or pinyin initials",
    )


def ticket(session: Session, hall_id: int, ref: str | int, today: date) -> Ticket:
    """A ticket by id (``123`` or ``#123``) or by today's number (``A001``, ``a001``, ``Ａ００１``)."""
    text = typed(ref)
    if text.startswith("#") or text.isdigit():
        typed_id = typed_row_id(text)
        found = session.get(Ticket, typed_id) if typed_id is not None else None
        if found is not None and found.hall_id == hall_id:
            return found
    else:
        found = session.execute(
            select(Ticket)
            .where(Ticket.hall_id == hall_id, Ticket.service_day == today, Ticket.number == code(text))
            .order_by(Ticket.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        if found is not None:
            return found
    raise NotFound(
        f"找不到今天的号 {text}：请核对号码（如 A001）或用票号 #id（wt queue status 可查看）",
        f"no ticket {text!r} today: check the number (like A001) or use the ticket id #id "
        "(see `wt queue status`)",
    )


def case(
    session: Session, hall_id: int, ref: str | int, *, row_id: bool = False, id_number: bool = False
) -> Case:
    """The case named by ``ref``: case number or query code (any case); with ``row_id`` also ``#123``;
    with ``id_number`` also the applicant's ID number (their latest case). The public status query
    allows neither, so a guessable id or someone else's ID number finds nothing there."""
    text = typed(ref)
    wanted = code(text)
    matches = [Case.case_no == wanted, Case.query_code == wanted]
    if id_number:
        matches.append(Case.id_number == wanted)
    found = session.execute(
        select(Case).where(Case.hall_id == hall_id, or_(*matches)).order_by(Case.id.desc()).limit(1)
    ).scalar_one_or_none()
    # A row id only where nothing typed matched as a code: a query code may be all digits, and a
    # number too big for the id column is simply not an id (PostgreSQL refuses it outright).
    typed_id = typed_row_id(text) if found is None and row_id else None
    if typed_id is not None:
        by_id = session.get(Case, typed_id)
        if by_id is not None and by_id.hall_id == hall_id:
            found = by_id
    if found is None:
        kinds_zh = "办件编号、查询码" + ("或身份证号" if id_number else "")
        kinds_en = "case number, query code" + (" or ID number" if id_number else "")
        raise NotFound(
            f"找不到办件 {text}：请核对{kinds_zh}（通知书右上角与二维码下方）",
            f"no case {text!r}: check the {kinds_en} (top right of the notice, under the QR code)",
        )
    return found
