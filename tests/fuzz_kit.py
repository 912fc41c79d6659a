"""What a person types, fuzzed: the strategies and the properties shared by the tests and the long run.

Every property here takes one drawn input and holds the same promise (issue 19): the result is a
valid value — normalised where the rule says so — or a refusal (``DomainError``) that names the
problem in both languages; never another exception, and a refused command writes nothing (every
table's row count, the event log included, is the same before and after).

``tests/test_fuzz_inputs.py`` runs each property with the CI budget (hypothesis profile ``ci``);
``benchmarks/fuzz_inputs.py`` runs the same functions far longer. ``INPUTS`` counts what they tried.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import re
import string
import tomllib
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlmodel import SQLModel

from window_terminal.core import catalogue, idcheck, intake, lookup, privacy, queueing, staff
from window_terminal.core.case_status import case_status
from window_terminal.core.hall import HallDefinitionError, HallRef, load_hall, read_definition
from window_terminal.db.engine import read_session
from window_terminal.errors import DomainError

INPUTS: Counter[str] = Counter()  # property name → inputs tried (the benchmark reports the sum)


class PartialWrite(AssertionError):
    """A refused command left rows behind."""


# --- what a person types --------------------------------------------------------------------------

# What clerks paste and kiosks send: invisible characters, full-width forms, other scripts' digits,
# superscripts, line ends, quotes and SQL-ish punctuation, combining marks, emoji, characters
# outside the BMP, NUL (which PostgreSQL refuses in text).
TRICKY = (
    "\u200b\u200c\u200d\ufeff\u00ad\u2060\u3000\u00a0 \t\n\r\x00\x7f²³¹¼"
    "١٢٣٤٥٦٧٨٩٠۱۲۳０１２３４５６７８９ＡＢＣＸｘ＃－"
    "#-—_%'\";\\/<>()（）[]{}$`*?^|~,.:=+&@!"
    "😀𠀀\u0301\u202e\u2028李张王欧阳锦江区营业执照"
)
ALPHABET = TRICKY + string.ascii_letters + string.digits


def disguise(value: str, how: list[int]) -> str:
    """``value`` as a person might enter it: full-width, wrapped in whitespace, with zero-width
    spaces inside, lower-cased. Each rule of ``how`` (0-4) is one such change."""
    for rule in how:
        if rule == 0:
            value = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in value)
        elif rule == 1:
            value = f" \u3000{value}\n"
        elif rule == 2 and value:
            value = value[0] + "\u200b" + value[1:]
        elif rule == 3:
            value = value.lower()
        elif rule == 4:
            value = f"\ufeff{value}\r\n"
    return value


def disguised(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(disguise, values, st.lists(st.integers(0, 4), max_size=3))


def typed_text(*known: str, max_size: int = 40) -> st.SearchStrategy[str]:
    """Anything a person could type into a field, biased towards ``known`` good values in disguise."""
    parts = [
        st.text(max_size=max_size),
        st.text(alphabet=st.sampled_from(ALPHABET), max_size=max_size),
    ]
    if known:
        parts.append(disguised(st.sampled_from(known)))
    return st.one_of(*parts)


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    """A valid resident ID number (right region, real date, right check digit)."""
    region = draw(st.sampled_from(sorted(idcheck.REGION_CODES)))
    rest = draw(st.text(alphabet="0123456789", min_size=4, max_size=4))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)))
    serial = draw(st.text(alphabet="0123456789", min_size=3, max_size=3))
    first17 = f"{region}{rest}{born:%Y%m%d}{serial}"
    return first17 + idcheck.check_digit(first17)


def refused(exc: DomainError) -> None:
    """A refusal a person can act on: words in both languages."""
    assert exc.zh.strip() and exc.en.strip(), f"a refusal without words: {exc!r}"


# --- checks on the database -----------------------------------------------------------------------


@dataclass
class Env:
    """A migrated database with the demo hall, and what a property needs to act in it."""

    engine: Engine
    hall: HallRef
    today: date
    tmp: Path


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows in every table: a refused command must leave all of them as they were."""
    with read_session(engine) as s:
        return {
            table.name: s.execute(select(func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables
        }


def refused_without_writing(env: Env, before: dict[str, int], exc: DomainError) -> None:
    refused(exc)
    after = table_counts(env.engine)
    if after != before:
        changed = {k: (before[k], after[k]) for k in after if before.get(k) != after[k]}
        raise PartialWrite(f"refused ({exc.en}) but rows changed: {changed}")


def consistency_problems(engine: Engine, hall_id: int) -> list[str]:
    """What a monkey or fuzzer must never leave: a ticket in no known state, a case with no or an
    unknown outcome, a gap or a repeat in the hall's event sequence."""
    from window_terminal.db.models import Case, Event, Ticket

    problems: list[str] = []
    ticket_states = {"waiting", "called", "serving", "parked", "done", "no_show", "cancelled"}
    case_states = {
        "submitted", "notice_issued", "accepted", "in_review", "returned", "decided", "completed",
        "not_accepted", "withdrawn",
    }  # fmt: skip
    outcomes = {None, "accepted", "deficiency", "commitment", "not_accepted", "corrected"}
    with read_session(engine) as s:
        for number, status in s.execute(
            select(Ticket.number, Ticket.status).where(Ticket.hall_id == hall_id)
        ):
            if status not in ticket_states:
                problems.append(f"ticket {number}: state {status!r}")
        rows = s.execute(select(Case.case_no, Case.status, Case.outcome).where(Case.hall_id == hall_id))
        for case_no, status, outcome in rows:
            if status not in case_states or outcome not in outcomes:
                problems.append(f"case {case_no}: state {status!r}, outcome {outcome!r}")
        seqs = [
            seq
            for (seq,) in s.execute(
                select(Event.seq).where(Event.hall_id == hall_id, Event.seq.is_not(None)).order_by(Event.seq)
            )
        ]
    if seqs and seqs != list(range(seqs[0], seqs[0] + len(seqs))):
        problems.append(f"event sequence has a gap or a repeat between {seqs[0]} and {seqs[-1]}")
    return problems


@st.composite
def credit_codes(draw: st.DrawFn) -> str:
    """A valid unified social credit code (GB 32100: authority and kind, 6 digits, check character)."""
    authority = draw(st.sampled_from(sorted(idcheck.CREDIT_CODE_KINDS)))
    kind = draw(st.sampled_from(idcheck.CREDIT_CODE_KINDS[authority]))
    region = draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
    organisation = draw(st.text(alphabet=idcheck.CREDIT_CODE_CHARS, min_size=9, max_size=9))
    first17 = f"{authority}{kind}{region}{organisation}"
    return first17 + idcheck.credit_code_check_char(first17)


# --- the properties: pure rules ------------------------------------------------------------------


def id_number_property(id_type: str, text: str) -> None:
    """An ID number of any type: the normalised number (stable, ASCII, no spaces) or a refusal."""
    INPUTS["id_number"] += 1
    try:
        value = idcheck.check_id_number(id_type, text)
    except DomainError as exc:
        refused(exc)
        return
    assert value.isascii() and value == value.strip() and " " not in value, value
    assert idcheck.check_id_number(id_type, value) == value, "normalising twice changed it"
    if id_type == "resident_id":
        assert re.fullmatch(r"\d{17}[\dX]", value) and idcheck.check_digit(value[:17]) == value[17]
    if id_type == "credit_code":
        assert len(value) == 18 and idcheck.credit_code_check_char(value[:17]) == value[17], value


def disguised_id_property(number: str, how: list[int]) -> None:
    """A valid resident ID number typed full-width, padded, with a zero-width space, lower-case x:
    accepted as the same number."""
    INPUTS["id_number_disguised"] += 1
    assert idcheck.check_resident_id(disguise(number, how)) == number


def phone_property(text: str) -> None:
    INPUTS["phone"] += 1
    try:
        value = idcheck.check_phone(text)
    except DomainError as exc:
        refused(exc)
        return
    assert value == "" or (value.isascii() and idcheck.check_phone(value) == value), value


def mask_property(text: str) -> None:
    """Masking never raises and never shows more than its rule allows."""
    INPUTS["mask"] += 1
    masked_id = privacy.mask_id_number(text)
    assert sum(c != privacy.MASK for c in masked_id) <= 8, masked_id
    masked_phone = privacy.mask_phone(text)
    assert sum(c.isdigit() for c in masked_phone) <= 7, masked_phone
    masked_name = privacy.mask_name(text)
    assert sum(c != privacy.MASK for c in masked_name) <= 2 or masked_name == text.strip(), masked_name
    masked_address = privacy.mask_address(text)
    assert len(masked_address) <= 10, masked_address


def applicant_property(name: str, id_type: str, id_number: str, phone: str) -> None:
    INPUTS["applicant"] += 1
    problems = intake.applicant_problems(intake.Applicant(name, id_type, id_number, phone))
    for exc in problems.values():
        refused(exc)


def search_property(index: catalogue.CatalogueIndex, query: str) -> None:
    INPUTS["catalogue_search"] += 1
    found = index.search(query)
    assert len(found) <= 30


# --- the properties: commands on a real database ------------------------------------------------


def take_ticket_property(env: Env, line: str, kind: str, reason: str, appointment: str | None) -> None:
    INPUTS["take_ticket"] += 1
    before = table_counts(env.engine)
    try:
        info = queueing.take_ticket(
            env.engine,
            env.hall.id,
            line,
            kind=kind,
            priority_reason=reason,
            appointment_code=appointment,
            actor="C001",
        )
    except DomainError as exc:
        refused_without_writing(env, before, exc)
        return
    assert info.number[:1].isascii() and info.number[:1].isupper(), info.number
    if kind == "priority":  # one of the hall's reasons (hall.toml [priority]), in its Chinese words
        assert info.priority_reason in [zh for zh, _ in lookup.priority_reasons(env.hall.settings)]
    else:
        assert info.priority_reason == "", "a reason stored on a ticket outside the priority lane"


WINDOW_COMMANDS = ("call_next", "recall", "no_show", "start_service", "finish", "park")


def window_command_property(env: Env, which: int, window: int | str, request_id: str | None) -> None:
    """A window command with any window number and request id (a manager may act at any window):
    done, or refused before anything is written — never an overflow, never "run wt db upgrade"."""
    INPUTS["window_command"] += 1
    before = table_counts(env.engine)
    command = getattr(queueing, WINDOW_COMMANDS[which])
    try:
        command(env.engine, env.hall.id, window, actor="M001", request_id=request_id)  # text or int, as given
    except DomainError as exc:
        refused_without_writing(env, before, exc)
        return
    assert 1 <= lookup.window_number(window) <= lookup.MAX_WINDOW
    assert request_id is None or len(lookup.request_id(request_id) or "") <= lookup.MAX_REQUEST_ID


def submit_property(
    env: Env,
    item: str,
    applicant: intake.Applicant,
    agent: intake.Applicant | None,
    outcome: str | None,
    note: str,
    reason: str,
    office: str,
) -> None:
    INPUTS["intake_submit"] += 1
    before = table_counts(env.engine)
    try:
        info = intake.item_info(env.engine, env.hall.id, item)
        checks = intake.default_checks(info)
        for check in checks:
            check.note = note
        result = intake.submit(
            env.engine,
            env.hall.id,
            applicant=applicant,
            agent=agent,
            item=item,
            materials=checks,
            outcome=outcome,
            window=2,
            actor="C002",
            reason=reason,
            reason_kind="not_competent" if outcome == "non_acceptance" else "",
            competent_office=office,
        )
    except DomainError as exc:
        refused_without_writing(env, before, exc)
        return
    with read_session(env.engine) as s:
        from window_terminal.db.models import Case

        case = s.execute(select(Case).where(Case.case_no == result.case_no)).scalar_one()
    assert case.id_number == idcheck.check_id_number(case.id_type, case.id_number)
    assert case.applicant_name == lookup.typed(case.applicant_name) and case.applicant_name
    assert case.phone == idcheck.check_phone(case.phone)


def reference_property(env: Env, text: str) -> None:
    """Ticket, case, staff, line, window and query-code look-ups: a row or ``NotFound``, no write."""
    INPUTS["references"] += 1
    before = table_counts(env.engine)
    calls = (
        lambda: queueing.ticket_info(env.engine, env.hall.id, text),
        lambda: case_status(env.engine, env.hall.id, text),
        lambda: intake.case_view(env.engine, env.hall.id, text),
        lambda: intake.item_info(env.engine, env.hall.id, text),
    )
    for call in calls:
        try:
            call()
        except DomainError as exc:
            refused(exc)
    with read_session(env.engine) as s:
        for find in (lookup.staff, lookup.line, lookup.window, lookup.department):
            try:
                find(s, env.hall.id, text)
            except DomainError as exc:
                refused(exc)
    assert table_counts(env.engine) == before, "a look-up wrote rows"


def login_property(env: Env, code: str, pin: str) -> None:
    """A sign-in: the staff member, or a refusal; an unknown code writes nothing."""
    INPUTS["login"] += 1
    before = table_counts(env.engine)
    try:
        who = staff.login(env.engine, env.hall.id, code, pin)
    except DomainError as exc:
        refused(exc)
        with read_session(env.engine) as s:
            try:
                lookup.staff(s, env.hall.id, code)
                known = True
            except DomainError:
                known = False
        if not known:
            refused_without_writing(env, before, exc)
        return
    assert who.code == lookup.code(code)


def reason_property(env: Env, reason: str, comment: str, level: int) -> None:
    """Notes and reasons: a cancel reason, a rating comment."""
    INPUTS["notes_reasons"] += 1
    ticket = queueing.take_ticket(env.engine, env.hall.id, "BIZ", actor="C001")
    before = table_counts(env.engine)
    try:
        queueing.cancel(env.engine, env.hall.id, f"#{ticket.id}", reason=reason, actor="M001")
    except DomainError as exc:
        refused_without_writing(env, before, exc)
    before = table_counts(env.engine)
    try:
        from window_terminal.core import ratings

        ratings.rate(env.engine, env.hall.id, 2, level, comment, actor="device:RATE")
    except DomainError as exc:
        refused_without_writing(env, before, exc)


# --- the CLI --------------------------------------------------------------------------------------

CLI_COMMANDS = (
    ("ticket", "take", "{0}"),
    ("ticket", "take", "BIZ", "--priority", "{0}"),
    ("ticket", "take", "--appointment", "{0}"),
    ("ticket", "show", "{0}"),
    ("ticket", "cancel", "{0}", "--reason", "{1}"),
    ("call", "next", "--window", "{0}"),
    ("call", "finish", "--window", "{0}", "--request-id", "{1}"),
    ("ticket", "take", "BIZ", "--request-id", "{0}"),
    ("case", "show", "{0}"),
    ("report", "daily", "--date", "{0}", "--json"),
    ("report", "range", "--from", "{0}", "--to", "{1}", "--json"),
    ("report", "daily", "--date", "2026-03-02", "--format", "{0}"),
    ("--hall", "{0}", "queue", "status", "--json"),
    ("review", "list", "--dept", "{0}"),
    ("doc", "show", "{0}"),
)


def cli_property(
    runner: Any, cli_app: Any, env_vars: dict[str, str], env: Env, which: int, a: str, b: str
) -> None:
    """A `wt` command with typed values: exit 0, or exit 2 with a message and nothing written."""
    INPUTS["cli"] += 1
    args = [part.format(a, b) for part in CLI_COMMANDS[which]]
    before = table_counts(env.engine)
    result = runner.invoke(cli_app, args, env=env_vars, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"wt {args!r} raised {result.exception!r}") from result.exception
    assert result.exit_code in (0, 2), (args, result.exit_code, result.output)
    if result.exit_code == 2:
        assert result.output.strip(), f"wt {args!r} refused without a word"
        after = table_counts(env.engine)
        if after != before:
            raise PartialWrite(f"wt {args!r} exited 2 but rows changed")


# --- the hall definition (queue/ TOML) ----------------------------------------------------------


def _toml_string(text: str) -> str:
    out = json.dumps(text, ensure_ascii=False)
    return re.sub(r"[\x7f\u2028\u2029]", lambda m: f"\\u{ord(m.group()):04x}", out)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_string(str(k))} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def toml_document(doc: dict[str, Any]) -> str:
    """A document tomllib reads back as ``doc`` (tables as sections, everything else inline)."""
    lines = [f"{_toml_string(k)} = {toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for key, value in doc.items():
        if isinstance(value, dict):
            lines.append(f"[{_toml_string(key)}]")
            lines.extend(f"{_toml_string(k)} = {toml_value(v)}" for k, v in value.items())
    return "\n".join(lines) + "\n"


def hall_documents(folder: Path) -> dict[str, dict[str, Any]]:
    """The demo hall's files, parsed: relative path → document."""
    files = [p for p in sorted(folder.rglob("*.toml"))]
    return {str(p.relative_to(folder)): tomllib.loads(p.read_text(encoding="utf-8")) for p in files}


toml_scalars = st.one_of(
    typed_text("Asia/Shanghai", "BIZ", "A", "C002", "1234", "2027-01-01", "scjg", "jinjiang"),
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-5, 1000),
    st.floats(allow_nan=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["code", "weight", "x"]), inner, max_size=3),
    ),
    max_leaves=6,
)


def _slots(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a document a value can be replaced, deleted or added."""
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_slots(value, (*path, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_slots(value, (*path, i)))
    return found


@st.composite
def mutated_hall(draw: st.DrawFn, documents: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The demo hall with one to three values replaced, removed or added."""
    docs = copy.deepcopy(documents)
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(sorted(docs)))
        slots = [s for s in _slots(docs[name]) if s]
        if not slots:  # an emptied document: give it a value again
            docs[name][draw(st.sampled_from(["hall", "line", "x"]))] = draw(toml_values)
            continue
        path = draw(st.sampled_from(slots))
        parent = docs[name]
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add", "copy"]))
        last = path[-1]
        if action == "replace":
            parent[last] = draw(toml_values)
        elif action == "delete":
            del parent[last]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["timezone", "pin", "code", "date", "lines", "x", "workday"]))] = (
                draw(toml_values)
            )
        elif action == "copy" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))  # a second [[calendar]], [[line]], … like one there
    return docs


_folders = itertools.count()


def hall_definition_property(env: Env, docs: dict[str, dict[str, Any]], load: bool) -> None:
    """A hall definition with edited values: loaded, or refused naming each problem, nothing written."""
    INPUTS["hall_definition"] += 1
    folder = env.tmp / f"hall-{next(_folders)}-{uuid.uuid4().hex[:6]}"
    for name, doc in docs.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(toml_document(doc), encoding="utf-8")
    before = table_counts(env.engine)
    try:
        if load:
            load_hall(env.engine, folder)
        else:
            read_definition(folder)
    except HallDefinitionError as exc:
        refused_without_writing(env, before, exc)
        assert exc.problems and all(p.strip() for p in exc.problems)
    except DomainError as exc:
        refused_without_writing(env, before, exc)


def today_of(engine: Engine, hall: HallRef) -> date:
    from window_terminal.db.clock import db_now, to_local

    with read_session(engine) as s:
        return to_local(db_now(s), hall.timezone).date()


def slot_start(env: Env) -> datetime:
    return datetime.combine(env.today, datetime.min.time()) + timedelta(hours=2)
