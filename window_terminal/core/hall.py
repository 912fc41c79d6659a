"""The hall definition in ``queue/`` (TOML): validate everything, then load it in one transaction.

Files: ``hall.toml`` (hall, thresholds, calendar overrides), ``lines.toml``, ``windows.toml``,
``departments.toml``, ``staff.toml`` and ``catalogue/*.toml`` (service items with materials).
Loading is idempotent: rows are matched by code; a second load of the same files changes nothing;
an edit updates the rows; something removed from the files is deactivated, never deleted (old
tickets and cases still point at it). On any error nothing is written, and each problem is named
as ``file: key: problem``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlmodel import Session

from window_terminal.core import hours, lookup
from window_terminal.core.access import approver_problem, os_user
from window_terminal.core.auth import hash_pin, pin_is_initial, verify_pin
from window_terminal.core.displays import display_id, validate_entries
from window_terminal.core.document_store import (
    ITEM_KINDS,
    item_kind,
    number_template_problem,
    query_url_problem,
)
from window_terminal.db.engine import read_session, write_session
from window_terminal.db.models import (
    CalendarOverride,
    Department,
    Hall,
    ItemDepartment,
    Line,
    Material,
    ServiceItem,
    Staff,
    Window,
    WindowLine,
)
from window_terminal.db.unit import Unit, run_command
from window_terminal.errors import DomainError, NotFound

ROLES = ("clerk", "manager", "reviewer", "supervisor")
POLICIES = ("strict", "interleave", "none")
CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,59}$")
HALL_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class HallDefinitionError(DomainError):
    def __init__(self, problems: list[str]) -> None:
        listing = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"大厅定义有 {len(problems)} 处错误，未写入任何数据：\n{listing}",
            f"the hall definition has {len(problems)} problem(s); nothing was written:\n{listing}",
            code="bad_definition",
        )
        self.problems = problems


@dataclass
class Definition:
    hall: dict[str, Any]
    thresholds: dict[str, Any]
    calendar: list[dict[str, Any]]
    lines: list[dict[str, Any]]
    windows: list[dict[str, Any]]
    departments: list[dict[str, Any]]
    staff: list[dict[str, Any]]
    items: list[dict[str, Any]]
    sources: dict[str, str] = field(default_factory=dict)  # item code -> file
    kiosk: dict[str, Any] = field(default_factory=dict)  # hall.toml [kiosk], e.g. its printer
    devices: Any = field(default_factory=list)  # hall.toml [[device]]: the public devices (kiosk, rating)
    displays: Any = field(default_factory=list)  # hall.toml [[display]]: the hall TVs' scopes
    documents: dict[str, Any] = field(default_factory=dict)  # hall.toml [documents]: numbers, QR address
    hours: Any = None  # hall.toml [hours]: opening hours (core/hours.py); None: open at every hour
    # Files that could not be read (missing, not TOML, not UTF-8): what refers into them is not checked, or
    # every reference would be reported as missing (one lost bracket gave 86 false errors).
    unreadable: set[str] = field(default_factory=set)
    priority: dict[str, Any] = field(default_factory=dict)  # hall.toml [priority]: the lane's reasons


def pinyin_keys(name: str) -> tuple[str, str]:
    """(full pinyin, initials) for search: 营业执照 → ("yingyezhizhao", "yyzz")."""
    from pypinyin import Style, lazy_pinyin

    clean = re.sub(r"[（）()《》“”、，,\s]", "", name)
    full = "".join(lazy_pinyin(clean, style=Style.NORMAL, errors="ignore")).lower()
    initials = "".join(lazy_pinyin(clean, style=Style.FIRST_LETTER, errors="ignore")).lower()
    return full, initials


# --- reading and validating ----------------------------------------------------------------------


def _toml_error(name: str, exc: tomllib.TOMLDecodeError) -> str:
    """A TOML syntax error with its file, line and column, and what was not checked because of it."""
    message = str(exc)
    at = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    where = name
    if at:
        message = message[: at.start()]
        where = f"{name} line {at.group(1)}, column {at.group(2)}"
    return (
        f"{where}: not valid TOML: {message}; correct it there (what refers to {name} is checked "
        "once it reads)"
    )


def read_definition(path: Path) -> Definition:
    """Parse and validate every file; raise ``HallDefinitionError`` listing all problems.

    A file that is missing or cannot be read is named once (a syntax error with its line and column);
    the checks that look into it from other files are skipped (``Definition.unreadable``)."""
    problems: list[str] = []
    unreadable: set[str] = set()
    path = Path(path)
    if not path.is_dir():
        raise HallDefinitionError([f"{path}: not a folder; give the queue/ folder that holds hall.toml"])

    def load(name: str, required: bool = True) -> dict[str, Any]:
        file = path / name
        if not file.exists():
            if required:
                problems.append(f"{name}: missing file")
                unreadable.add(name)
            return {}
        try:
            return tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            problems.append(_toml_error(name, exc))
        except UnicodeDecodeError:
            problems.append(f"{name}: not UTF-8 text; save it as UTF-8")
        unreadable.add(name)
        return {}

    hall_doc = load("hall.toml")
    hall = _table(problems, "hall.toml: [hall]", hall_doc.get("hall"))
    thresholds = _table(problems, "hall.toml: [thresholds]", hall_doc.get("thresholds"))
    calendar = _tables(problems, "hall.toml: [[calendar]]", hall_doc.get("calendar"))
    lines = _tables(problems, "lines.toml: [[line]]", load("lines.toml").get("line"))
    windows = _tables(problems, "windows.toml: [[window]]", load("windows.toml").get("window"))
    departments = _tables(
        problems, "departments.toml: [[department]]", load("departments.toml").get("department")
    )
    staff = _tables(problems, "staff.toml: [[staff]]", load("staff.toml", required=False).get("staff"))
    items: list[dict[str, Any]] = []
    sources: dict[str, str] = {}
    catalogue = path / "catalogue"
    for file in sorted(catalogue.glob("*.toml")) if catalogue.is_dir() else []:
        rel = f"catalogue/{file.name}"
        for item in _tables(problems, f"{rel}: [[item]]", load(rel).get("item")):
            item = dict(item)
            item["material"] = _tables(
                problems, f"{rel}: [[item]] {item.get('code', '')}: [[item.material]]", item.get("material")
            )
            item["_file"] = rel
            items.append(item)
    definition = Definition(hall, thresholds, calendar, lines, windows, departments, staff, items, sources)
    definition.kiosk = _table(problems, "hall.toml: [kiosk]", hall_doc.get("kiosk"))
    definition.devices = hall_doc.get("device") or []
    definition.displays = hall_doc.get("display") or []
    definition.documents = _table(problems, "hall.toml: [documents]", hall_doc.get("documents"))
    definition.hours = hall_doc.get("hours")
    definition.unreadable = unreadable
    definition.priority = _table(problems, "hall.toml: [priority]", hall_doc.get("priority"))
    problems.extend(validate(definition))
    if problems:
        raise HallDefinitionError(problems)
    return definition


def _devices(p: list[str], entries: Any, windows: list[int] | None) -> None:
    """hall.toml ``[[device]]``: id (unique), kind (kiosk | display | rating), optional name and window."""
    from window_terminal.core.access import DEVICE_KINDS

    if not isinstance(entries, list):
        p.append("hall.toml: device: write each device as a [[device]] table")
        return
    ids = []
    for i, entry in enumerate(entries):
        where = f"hall.toml: [[device]] #{i + 1}"
        if not isinstance(entry, dict):
            p.append(f"{where}: must be a table with id and kind")
            continue
        ids.append(
            _text(p, where, {**entry, "id": str(entry.get("id", "")).strip().upper()}, "id", pattern=CODE)
        )
        kind = entry.get("kind")
        if not isinstance(kind, str) or kind not in DEVICE_KINDS:  # a list is not a kind (nor hashable)
            p.append(f"{where}: kind: must be one of {', '.join(DEVICE_KINDS)}, not {kind!r}")
        _optional_text(p, where, entry, "name")
        window = entry.get("window")
        if window is not None and (
            isinstance(window, bool)
            or not isinstance(window, int)
            or (windows is not None and window not in windows)  # None: windows.toml unreadable
        ):
            p.append(f"{where}: window: {window!r} is not a window number in windows.toml")
    _unique(p, "hall.toml [[device]]", "id", ids)


PRIORITY_REASON_MAX = 20  # characters of a priority reason's words (it is printed on the slip)


def _priority_reasons(p: list[str], priority: dict[str, Any]) -> None:
    """hall.toml ``[priority] reasons``: the priority lane's reasons, each ``{ zh = "…", en = "…" }``
    (zh required, unique; both at most 20 characters); left out, ``lookup.DEFAULT_PRIORITY_REASONS``."""
    where = "hall.toml: [priority]"
    for key in priority:
        if key != "reasons":
            p.append(f"{where}: {key}: unknown setting; the setting is reasons")
    reasons = priority.get("reasons")
    if reasons is None:
        return
    example = '[{ zh = "老年人", en = "Elderly" }]'
    if not isinstance(reasons, list) or not reasons:
        p.append(f"{where}: reasons: list the priority lane's reasons, like reasons = {example}")
        return
    names = []
    for i, entry in enumerate(reasons):
        at = f"{where}: reasons #{i + 1}"
        if not isinstance(entry, dict):
            p.append(f"{at}: must be a table like {example[1:-1]}, not {entry!r}")
            continue
        names.append(_text(p, at, entry, "zh").strip())
        _optional_text(p, at, entry, "en")
        for key in ("zh", "en"):
            if isinstance(entry.get(key), str) and len(entry[key].strip()) > PRIORITY_REASON_MAX:
                p.append(f"{at}: {key}: at most {PRIORITY_REASON_MAX} characters (it is printed on the slip)")
        for key in entry:
            if key not in ("zh", "en"):
                p.append(f"{at}: {key}: unknown key; a reason has zh and en")
    _unique(p, where, "reasons zh", [n for n in names if n])


def _table(problems: list[str], where: str, value: Any) -> dict[str, Any]:
    """A TOML table (``[hall]``); anything else is named as a problem and read as empty."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{where}: must be a table of keys and values, not {value!r}")
        return {}
    return dict(value)


def _tables(problems: list[str], where: str, value: Any) -> list[dict[str, Any]]:
    """An array of tables (``[[line]]``): each entry must be a table; the others are named."""
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(f"{where}: write each entry as its own {where.rpartition(': ')[2]} table")
        return []
    for i, entry in enumerate(value):
        if not isinstance(entry, dict):
            problems.append(f"{where} #{i + 1}: must be a table of keys and values, not {entry!r}")
    return [dict(entry) for entry in value if isinstance(entry, dict)]


def _text(
    problems: list[str], where: str, obj: dict[str, Any], key: str, *, pattern: re.Pattern[str] | None = None
) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: {key}: required text is missing")
        return ""
    if pattern is not None and not pattern.match(value):
        problems.append(f"{where}: {key}: {value!r} is not a valid code ({pattern.pattern})")
    return value


def _optional_text(problems: list[str], where: str, obj: dict[str, Any], *keys: str) -> None:
    """Text that may be left out (an office, a fee, a material's form) must be text when given."""
    for key in keys:
        value = obj.get(key)
        if value is not None and not isinstance(value, str):
            problems.append(f'{where}: {key}: must be text in quotes, like {key} = "…", not {value!r}')


def _int(
    problems: list[str], where: str, obj: dict[str, Any], key: str, default: int | None, lo: int, hi: int
) -> int:
    value = obj.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        problems.append(f"{where}: {key}: must be a whole number from {lo} to {hi}, not {value!r}")
        return lo
    return value


def _bool(problems: list[str], where: str, obj: dict[str, Any], key: str, default: bool) -> bool:
    value = obj.get(key, default)
    if not isinstance(value, bool):
        problems.append(f"{where}: {key}: must be true or false, not {value!r}")
        return default
    return value


def _unique(
    problems: list[str], where: str, key: str, values: list[str], entries: list[str] | None = None
) -> None:
    """Each value once; a repeated one names both entries that hold it (``entries[i]`` is how the
    i-th value's entry is called, e.g. ``[[line]] #3 TAX``). Missing values ("") were named already."""
    first: dict[str, int] = {}
    for i, value in enumerate(values):
        if value == "":
            continue
        if value in first:
            both = f": {entries[first[value]]} and {entries[i]}" if entries else ""
            problems.append(f"{where}: {key} {value!r} appears twice{both}")
        first.setdefault(value, i)


def _printer(problems: list[str], where: str, value: Any) -> None:
    """A printer setting is checked at load, not first at print time in front of an applicant."""
    from window_terminal.core.documents.printing import parse_printer

    try:
        parse_printer(value, where)
    except DomainError as exc:
        problems.append(exc.en)


def _timezone(problems: list[str], value: Any) -> None:
    """The hall's time zone must be one the system knows, or every local time would fail later."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        if not isinstance(value, str) or not value.strip():
            raise ValueError
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        problems.append(
            f"hall.toml: [hall]: timezone: {value!r} is not an IANA time zone; "
            'China uses timezone = "Asia/Shanghai"'
        )


def _documents(problems: list[str], documents: dict[str, Any]) -> None:
    """hall.toml [documents]: the number template and the QR query address, checked at load."""
    where = "hall.toml: [documents]"
    for key in documents:
        if key not in ("number_template", "query_url"):
            problems.append(
                f"{where}: {key}: unknown setting; the settings are number_template and query_url"
            )
    if "number_template" in documents:
        why = number_template_problem(documents["number_template"])
        if why:
            problems.append(f"{where}: number_template: {why}")
    if "query_url" in documents:
        why = query_url_problem(documents["query_url"])
        if why:
            problems.append(f"{where}: query_url: {why}")


def validate(d: Definition) -> list[str]:
    p: list[str] = []

    def readable(name: str) -> bool:
        return name not in d.unreadable

    if readable("hall.toml"):
        _text(p, "hall.toml: [hall]", d.hall, "code", pattern=HALL_CODE)
        _text(p, "hall.toml: [hall]", d.hall, "name")
    for key in (
        "wait_target_minutes",
        "recalls_before_no_show",
        "idle_alert_minutes",
        "yellow_days",
        "notice_limit_days",
        "rectification_days",
        "display_calls",
        "highlight_seconds",
        "kiosk_timeout_seconds",
        "announce_repeat",
        "announce_max_age_seconds",
        "voice_speed",
        "display_stale_seconds",
        "appointment_slot_minutes",
        "appointment_grace_minutes",
    ):
        if key in d.thresholds:
            _int(p, "hall.toml: [thresholds]", d.thresholds, key, None, 0, 10_000)
    if "call_template" in d.thresholds:
        template = d.thresholds["call_template"]
        if not isinstance(template, str) or "{number}" not in template or "{window}" not in template:
            p.append("hall.toml: [thresholds]: call_template: must contain {number} and {window}")
    _optional_text(
        p, "hall.toml: [hall]", d.hall, "office", "address", "phone", "reconsideration_body", "court"
    )
    _timezone(p, d.hall.get("timezone", "Asia/Shanghai"))
    calendar_days: dict[date, tuple[int, bool, str]] = {}
    for i, entry in enumerate(d.calendar):
        where = f"hall.toml: [[calendar]] #{i + 1}"
        day = entry.get("date")
        parsed: date | None = None
        if isinstance(day, str):
            try:
                parsed = date.fromisoformat(day)
            except ValueError:
                p.append(f"{where}: date: {day!r} is not a date like 2027-01-01")
        elif isinstance(day, date) and not isinstance(day, datetime):
            parsed = day
        else:
            p.append(f"{where}: date: required, like 2027-01-01")
        workday = _bool(p, where, entry, "workday", False)
        _optional_text(p, where, entry, "note")
        note = str(entry.get("note", ""))
        if parsed is None:
            continue
        earlier = calendar_days.get(parsed)
        if earlier is not None and earlier[1:] != (workday, note):
            p.append(
                f"{where}: date: {parsed} is also [[calendar]] #{earlier[0]} with a different "
                "workday or note; keep one entry per date"
            )
        calendar_days.setdefault(parsed, (i + 1, workday, note))

    line_codes, prefixes, line_entries = [], [], []
    for i, line in enumerate(d.lines):
        where = f"lines.toml: [[line]] #{i + 1}"
        line_entries.append(f"[[line]] #{i + 1} {line.get('code', '')}".rstrip())
        line_codes.append(_text(p, where, line, "code", pattern=CODE))
        _text(p, where, line, "name")
        prefix = _text(p, where, line, "prefix")
        if prefix and not re.fullmatch(r"[A-Z]", prefix):
            p.append(f"{where}: prefix: {prefix!r} must be one uppercase letter A–Z")
        prefixes.append(prefix)
        policy = line.get("priority_policy", "interleave")
        if policy not in POLICIES:
            p.append(f"{where}: priority_policy: {policy!r} must be one of {', '.join(POLICIES)}")
        _int(p, where, line, "priority_every", 3, 1, 100)
        _int(p, where, line, "target_wait_minutes", 20, 1, 600)
        avg = line.get("avg_service_minutes", 10)
        if isinstance(avg, bool) or not isinstance(avg, int | float) or not 0 < avg <= 600:
            p.append(f"{where}: avg_service_minutes: must be a number of minutes above 0, not {avg!r}")
    if not d.lines and readable("lines.toml"):
        p.append("lines.toml: no [[line]] defined; a hall needs at least one line")
    _unique(p, "lines.toml", "code", line_codes, line_entries)
    _unique(p, "lines.toml", "prefix", prefixes, line_entries)

    numbers, window_entries = [], []
    served: set[str] = set()
    for i, window in enumerate(d.windows):
        window_entries.append(f"[[window]] #{i + 1}")
        where = f"windows.toml: [[window]] #{i + 1}"
        numbers.append(str(_int(p, where, window, "number", None, 1, 999)))
        _optional_text(p, where, window, "name")
        entries = window.get("lines")
        if not isinstance(entries, list) or not entries:
            p.append(
                f'{where}: lines: list the lines this window serves, like [{{ code = "BIZ", weight = 1 }}]'
            )
            continue
        for entry in entries:
            code = entry if isinstance(entry, str) else entry.get("code") if isinstance(entry, dict) else None
            if code not in line_codes:
                if readable("lines.toml"):
                    p.append(f"{where}: lines: {code!r} is not a line in lines.toml")
            else:
                served.add(code)
            if isinstance(entry, dict):
                _int(p, where, entry, "weight", 1, 1, 100)
        if window.get("printer") is not None:
            _printer(p, where, window["printer"])
    _unique(p, "windows.toml", "number", numbers, window_entries)
    if d.kiosk.get("printer") is not None:
        _printer(p, "hall.toml: [kiosk]", d.kiosk["printer"])
    window_numbers = [int(n) for n in numbers if n.isdecimal()] if readable("windows.toml") else None
    _devices(p, d.devices, window_numbers)
    p.extend(hours.problems(d.hours, {c for c in line_codes if c} if readable("lines.toml") else None))
    if readable("lines.toml") and window_numbers is not None:
        p.extend(
            validate_entries(
                d.displays, [c for c in line_codes if c], [x for x in prefixes if x], window_numbers
            )
        )
        for code in line_codes:
            if code and code not in served:
                p.append(f"lines.toml: line {code!r} is served by no window in windows.toml")

    dept_codes, dept_entries = [], []
    for i, dept in enumerate(d.departments):
        where = f"departments.toml: [[department]] #{i + 1}"
        dept_entries.append(f"[[department]] #{i + 1}")
        dept_codes.append(_text(p, where, dept, "code", pattern=CODE))
        _text(p, where, dept, "name")
        _optional_text(p, where, dept, "office", "seal", "abbr")
        if dept.get("seal") and not dept.get("office"):
            p.append(f'{where}: seal: give the issuing office (office = "…") the seal belongs to')
    _unique(p, "departments.toml", "code", dept_codes, dept_entries)
    _documents(p, d.documents)
    _priority_reasons(p, d.priority)

    staff_codes = []
    for i, person in enumerate(d.staff):
        where = f"staff.toml: [[staff]] #{i + 1}"
        staff_codes.append(_text(p, where, person, "code", pattern=CODE))
        _text(p, where, person, "name")
        _optional_text(p, where, person, "pin_hash")
        role = person.get("role")
        if role not in ROLES:
            p.append(f"{where}: role: {role!r} must be one of {', '.join(ROLES)}")
        dept_code = person.get("department")
        if dept_code is not None and dept_code not in dept_codes and readable("departments.toml"):
            p.append(f"{where}: department: {dept_code!r} is not in departments.toml")
        if role == "reviewer" and dept_code is None:
            p.append(f"{where}: department: a reviewer needs a department")
        if _bool(p, where, person, "approves_extensions", False):
            problem = approver_problem(role, dept_code)
            p.extend([f"{where}: {problem}"] if problem else [])
        pin = person.get("pin")
        if pin is not None and not (isinstance(pin, str) and re.fullmatch(r"\d{4,8}", pin)):
            p.append(f'{where}: pin: must be 4 to 8 digits in quotes, like "1234"')
        if pin is None and not person.get("pin_hash"):
            p.append(f"{where}: pin: give pin (4–8 digits) or pin_hash")
    _unique(p, "staff.toml", "code", staff_codes, [f"[[staff]] #{i + 1}" for i in range(len(d.staff))])

    item_codes = []
    for i, item in enumerate(d.items):
        where = f"{item.get('_file')}: [[item]] #{i + 1} {item.get('code', '')}".rstrip()
        item_codes.append(_text(p, where, item, "code", pattern=CODE))
        _text(p, where, item, "name")
        _optional_text(p, where, item, "fee", "basis", "issuer")
        kind = item.get("kind", "licence")
        if item_kind(kind) is None:
            known = " | ".join(f'"{code}" ({name})' for code, name in ITEM_KINDS.items())
            p.append(f"{where}: kind: {kind!r} is not a kind of service item; use one of {known}")
        elif item_kind(kind) == "licence" and not str(item.get("basis") or "").strip():
            p.append(f'{where}: basis: a licence (行政许可) needs its legal basis, like basis = "《…》第…条"')
        depts = item.get("departments")
        if not isinstance(depts, list) or not depts:
            p.append(f"{where}: departments: list one or more department codes")
        else:
            for dept in depts:
                if dept not in dept_codes and readable("departments.toml"):
                    p.append(f"{where}: departments: {dept!r} is not in departments.toml")
            if item.get("issuer") is not None and item.get("issuer") not in depts:
                p.append(
                    f"{where}: issuer: {item.get('issuer')!r} must be one of the item's departments {depts}"
                )
        if item.get("line") not in line_codes and readable("lines.toml"):
            p.append(f"{where}: line: {item.get('line')!r} is not a line in lines.toml")
        statutory = _int(p, where, item, "statutory_days", None, 1, 120)
        promised = _int(p, where, item, "promised_days", None, 0, 120)
        if promised > statutory:
            p.append(f"{where}: promised_days ({promised}) must not exceed statutory_days ({statutory})")
        deficiency = _bool(p, where, item, "deficiency_allowed", False)
        commitment = _bool(p, where, item, "commitment_allowed", False)
        materials = item.get("material") or []
        if not materials:
            p.append(f"{where}: no [[item.material]]: list the materials the applicant brings")
        core = 0
        names = []
        for j, material in enumerate(materials):
            mwhere = f"{where}: material #{j + 1}"
            names.append(_text(p, mwhere, material, "name"))
            _optional_text(p, mwhere, material, "form", "requirement")
            _int(p, mwhere, material, "originals", 1, 0, 99)
            _int(p, mwhere, material, "copies", 0, 0, 99)
            required = _bool(p, mwhere, material, "required", True)
            tolerable = _bool(p, mwhere, material, "tolerable", False)
            if _bool(p, mwhere, material, "commitment", False) and not commitment:
                p.append(f"{mwhere}: commitment = true needs commitment_allowed = true on the item")
            if tolerable and not deficiency:
                p.append(f"{mwhere}: tolerable = true needs deficiency_allowed = true on the item")
            if required and not tolerable:
                core += 1
        if materials and core == 0:
            p.append(f"{where}: needs at least one required, non-tolerable (core) material")
        _unique(p, where, "material name", names)
    _unique(
        p,
        "catalogue",
        "item code",
        item_codes,
        [f"{x.get('_file')} [[item]] #{i + 1}" for i, x in enumerate(d.items)],
    )
    return p


# --- loading -------------------------------------------------------------------------------------


def demo_hall_folder() -> Path:
    """The demo hall's definition: ``queue/`` shipped inside the package as ``window_terminal.demo_hall``.

    A ``queue/`` folder in the current directory wins, so a hall's own definition is used where it
    is kept; otherwise the copy installed with the package (editable or not) is.
    """
    here = Path("queue")
    if (here / "hall.toml").is_file():
        return here
    from importlib.util import find_spec

    spec = find_spec("window_terminal.demo_hall")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    # An editable install (setuptools cannot map a namespace folder into a regular package
    # there): the package is the source checkout, and queue/ sits beside it.
    return Path(__file__).resolve().parents[2] / "queue"


def load_hall(engine: Engine, path: Path, *, loaded_by: str | None = None) -> dict[str, Any]:
    """Validate ``path`` and load it; returns counts of what was created, updated and deactivated.

    The ``hall.loaded`` event names who loaded: ``loaded_by``, by default the OS user running this
    (``os:root``, ``access.os_user``) — the hall's staff may not exist yet, so no one can sign in."""
    definition = read_definition(path)
    code = definition.hall["code"]
    with write_session(engine) as session:
        hall = session.execute(select(Hall).where(Hall.code == code)).scalar_one_or_none()
        if hall is None:
            from window_terminal.db.clock import db_now

            hall = Hall(code=code, name=definition.hall["name"], settings={}, created_at=db_now(session))
            session.add(hall)
            session.flush()
        hall_id = hall.id
    assert hall_id is not None
    result = run_command(
        engine, hall_id, "hall.load", lambda unit: _apply(unit, definition), device=loaded_by or os_user()
    )
    return {"hall": code, "hall_id": hall_id, **result}


class _Counter:
    def __init__(self) -> None:
        self.created = self.updated = self.deactivated = 0

    def sync(self, row: Any, values: dict[str, Any]) -> None:
        changed = False
        for key, value in values.items():
            if getattr(row, key) != value:
                setattr(row, key, value)
                changed = True
        if changed:
            self.updated += 1


def _upsert(
    session: Session, model: Any, hall_id: int, key: str, wanted: dict[str, dict[str, Any]], counter: _Counter
) -> dict[str, Any]:
    existing = {
        getattr(r, key): r for r in session.execute(select(model).where(model.hall_id == hall_id)).scalars()
    }
    rows = {}
    for k, values in wanted.items():
        row = existing.get(k)
        if row is None:
            row = model(hall_id=hall_id, **{key: k}, **values)
            session.add(row)
            counter.created += 1
        else:
            counter.sync(row, {**values, "active": True})
        rows[k] = row
    for k, row in existing.items():
        if k not in wanted and row.active:
            row.active = False
            counter.deactivated += 1
    session.flush()
    return rows


def _apply(unit: Unit, d: Definition) -> dict[str, Any]:
    s, hall_id = unit.session, unit.hall_id
    c = _Counter()
    hall = s.get(Hall, hall_id)
    assert hall is not None
    settings = {
        "thresholds": d.thresholds,
        "reconsideration_body": d.hall.get("reconsideration_body", ""),
        "court": d.hall.get("court", ""),
    }
    settings["extension_approvers"] = sorted(x["code"] for x in d.staff if x.get("approves_extensions"))
    if d.kiosk:
        settings["kiosk"] = d.kiosk
    if d.devices:
        settings["devices"] = [{**entry, "id": str(entry["id"]).strip().upper()} for entry in d.devices]
    if d.documents:
        settings["documents"] = d.documents
    if d.hours:
        settings["hours"] = d.hours
    if d.priority.get("reasons"):
        settings["priority_reasons"] = [
            {"zh": r["zh"].strip(), "en": str(r.get("en") or r["zh"]).strip()} for r in d.priority["reasons"]
        ]
    if d.displays:
        settings["displays"] = [{**entry, "id": display_id(entry["id"])} for entry in d.displays]
    c.sync(
        hall,
        {
            "name": d.hall["name"],
            "office": d.hall.get("office", ""),
            "address": d.hall.get("address", ""),
            "phone": d.hall.get("phone", ""),
            "timezone": d.hall.get("timezone", "Asia/Shanghai"),
            "settings": settings,
        },
    )
    c.updated = min(c.updated, 1)

    wanted_days = {}
    for entry in d.calendar:
        day = entry["date"] if isinstance(entry["date"], date) else date.fromisoformat(entry["date"])
        wanted_days[day] = (bool(entry.get("workday", False)), str(entry.get("note", "")))
    existing_days = {
        o.day: o
        for o in s.execute(select(CalendarOverride).where(CalendarOverride.hall_id == hall_id)).scalars()
    }
    for day, (workday, note) in wanted_days.items():
        row = existing_days.get(day)
        if row is None:
            s.add(CalendarOverride(hall_id=hall_id, day=day, workday=workday, note=note))
            c.created += 1
        else:
            c.sync(row, {"workday": workday, "note": note})
    for day, row in existing_days.items():
        if day not in wanted_days:
            s.delete(row)
            c.deactivated += 1

    depts = _upsert(
        s,
        Department,
        hall_id,
        "code",
        {
            x["code"]: {
                "name": x["name"],
                "office": x.get("office", ""),
                "seal": x.get("seal", ""),
                "abbr": x.get("abbr", ""),
            }
            for x in d.departments
        },
        c,
    )
    lines = _upsert(
        s,
        Line,
        hall_id,
        "code",
        {
            x["code"]: {
                "name": x["name"],
                "prefix": x["prefix"],
                "priority_policy": x.get("priority_policy", "interleave"),
                "priority_every": x.get("priority_every", 3),
                "target_wait_minutes": x.get("target_wait_minutes", 20),
                "avg_service_minutes": float(x.get("avg_service_minutes", 10)),
                "sort_order": i,
            }
            for i, x in enumerate(d.lines)
        },
        c,
    )
    windows = _upsert(
        s,
        Window,
        hall_id,
        "number",
        {
            x["number"]: {
                "name": x.get("name", f"{x['number']}号窗口"),
                "settings": {k: v for k, v in x.items() if k not in ("number", "name", "lines")},
            }
            for x in d.windows
        },
        c,
    )
    existing_links = {
        (link.window_id, link.line_id): link
        for link in s.execute(select(WindowLine).where(WindowLine.hall_id == hall_id)).scalars()
    }
    wanted_links = {}
    for x in d.windows:
        for entry in x["lines"]:
            code, weight = (entry, 1) if isinstance(entry, str) else (entry["code"], entry.get("weight", 1))
            wanted_links[(windows[x["number"]].id, lines[code].id)] = weight
    for key, weight in wanted_links.items():
        link = existing_links.get(key)
        if link is None:
            s.add(WindowLine(hall_id=hall_id, window_id=key[0], line_id=key[1], weight=weight))
            c.created += 1
        else:
            c.sync(link, {"weight": weight})
    for key, link in existing_links.items():
        if key not in wanted_links:
            s.delete(link)
            c.deactivated += 1

    old_staff = {p.code: p for p in s.execute(select(Staff).where(Staff.hall_id == hall_id)).scalars()}
    staff_values = {}
    for x in d.staff:
        pin_hash = x.get("pin_hash") or ""
        if x.get("pin") is not None:
            current = old_staff.get(x["code"])
            # The TOML PIN seeds a new person's initial PIN; a PIN the person has changed is kept.
            keep = current is not None and (
                not pin_is_initial(current.pin_hash) or verify_pin(x["pin"], current.pin_hash)
            )
            pin_hash = current.pin_hash if keep and current else hash_pin(x["pin"], initial=True)
        staff_values[x["code"]] = {
            "name": x["name"],
            "role": x["role"],
            "department_id": depts[x["department"]].id if x.get("department") else None,
            "pin_hash": pin_hash,
        }
    _upsert(s, Staff, hall_id, "code", staff_values, c)

    item_values = {}
    for x in d.items:
        full, initials = pinyin_keys(x["name"])
        item_values[x["code"]] = {
            "name": x["name"],
            "pinyin": full,
            "initials": initials,
            "line_id": lines[x["line"]].id,
            "statutory_days": x["statutory_days"],
            "promised_days": x["promised_days"],
            "deficiency_allowed": x.get("deficiency_allowed", False),
            "commitment_allowed": x.get("commitment_allowed", False),
            "fee": x.get("fee", ""),
            "basis": x.get("basis", ""),
            "kind": item_kind(x.get("kind", "licence")),
            "issuer": x.get("issuer") or x["departments"][0],
        }
    items = _upsert(s, ServiceItem, hall_id, "code", item_values, c)

    existing_item_depts = {
        (r.item_id, r.department_id)
        for r in s.execute(select(ItemDepartment).where(ItemDepartment.hall_id == hall_id)).scalars()
    }
    wanted_item_depts = {(items[x["code"]].id, depts[code].id) for x in d.items for code in x["departments"]}
    for item_id, dept_id in wanted_item_depts - existing_item_depts:
        s.add(ItemDepartment(hall_id=hall_id, item_id=item_id, department_id=dept_id))
        c.created += 1
    for item_id, dept_id in existing_item_depts - wanted_item_depts:
        s.execute(
            delete(ItemDepartment).where(
                ItemDepartment.item_id == item_id, ItemDepartment.department_id == dept_id
            )
        )
        c.deactivated += 1

    existing_materials = {
        (m.item_id, m.name): m
        for m in s.execute(select(Material).where(Material.hall_id == hall_id)).scalars()
    }
    wanted_materials = set()
    for x in d.items:
        item_id = items[x["code"]].id
        for position, m in enumerate(x.get("material") or []):
            key = (item_id, m["name"])
            wanted_materials.add(key)
            values = {
                "position": position,
                "originals": m.get("originals", 1),
                "copies": m.get("copies", 0),
                "required": m.get("required", True),
                "tolerable": m.get("tolerable", False),
                "commitment": m.get("commitment", False),
                "form": m.get("form", ""),
                "requirement": m.get("requirement", ""),
                "active": True,
            }
            row = existing_materials.get(key)
            if row is None:
                s.add(Material(hall_id=hall_id, item_id=item_id, name=m["name"], **values))
                c.created += 1
            else:
                c.sync(row, values)
    for key, row in existing_materials.items():
        if key not in wanted_materials and row.active:
            row.active = False
            c.deactivated += 1

    counts = {"created": c.created, "updated": c.updated, "deactivated": c.deactivated}
    summary = {
        "lines": len(d.lines),
        "windows": len(d.windows),
        "departments": len(d.departments),
        "staff": len(d.staff),
        "items": len(d.items),
        "materials": sum(len(x.get("material") or []) for x in d.items),
    }
    if any(counts.values()):
        unit.emit("hall.loaded", {**counts, **summary})
    return {**counts, **summary}


# --- which hall ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HallRef:
    id: int
    code: str
    name: str
    timezone: str
    settings: dict[str, Any]


def resolve_hall(engine: Engine, code: str | None) -> HallRef:
    """The hall named by ``code``, or the only hall in the database when ``code`` is None."""
    with read_session(engine) as session:
        halls = session.execute(select(Hall).order_by(Hall.code)).scalars().all()
    if code:
        hall = lookup.hall(halls, code)
        return HallRef(hall.id, hall.code, hall.name, hall.timezone, hall.settings or {})  # type: ignore[arg-type]
    if not halls:
        raise NotFound(
            "数据库中还没有大厅：运行 wt hall load queue/ 或 wt demo",
            "the database has no hall yet: run `wt hall load queue/` or `wt demo`",
        )
    if len(halls) > 1:
        known = ", ".join(h.code for h in halls)
        raise DomainError(
            f"数据库中有多个大厅（{known}）：请用 --hall 或 WT_HALL 指定",
            f"the database holds several halls ({known}): choose one with --hall or WT_HALL",
            code="ambiguous_hall",
        )
    hall = halls[0]
    return HallRef(hall.id, hall.code, hall.name, hall.timezone, hall.settings or {})
