"""Every field a person types, fuzzed (issue 19): a valid value or a refusal naming the fix, never a
crash, never a half-written command. The properties live in tests/fuzz_kit.py; here they run with
the CI budget (hypothesis profile ``ci``, set in conftest.py); benchmarks/fuzz_inputs.py runs them
longer. The failures they found are kept below them as plain tests, shrunk."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests import fuzz_kit as k
from tests.conftest import QUEUE, sign_in
from window_terminal.core import catalogue, idcheck, intake
from window_terminal.core.hall import resolve_hall
from window_terminal.db.engine import make_engine

ID_NUMBER = "11010519491231002X"
ANY_ID_TYPE = st.sampled_from([*idcheck.ID_TYPES, "", "RESIDENT_ID", "驾照"])


def make_env(url: str, tmp_path: Path) -> k.Env:
    engine = make_engine(url)
    hall = resolve_hall(engine, None)
    return k.Env(engine, hall, k.today_of(engine, hall), tmp_path)


@pytest.fixture
def env(sqlite_url, tmp_path):
    made = make_env(sqlite_url, tmp_path)
    yield made
    made.engine.dispose()


@pytest.fixture
def pg_env(pg_url, tmp_path):
    made = make_env(pg_url, tmp_path)
    yield made
    made.engine.dispose()


# --- pure rules -----------------------------------------------------------------------------------


@given(ANY_ID_TYPE, k.typed_text(ID_NUMBER, "E12345678", "91510104MA6CXXXX1X", max_size=24))
def test_an_id_number_of_any_type_is_normalised_or_refused(id_type, text):
    k.id_number_property(id_type, text)


@given(k.resident_ids(), st.lists(st.integers(0, 4), max_size=4))
def test_a_valid_resident_id_typed_any_way_is_the_same_number(number, how):
    k.disguised_id_property(number, how)


@given(k.typed_text("13800138000", "028-84452345", "028 8445 2345"))
def test_a_phone_number_is_normalised_or_refused(text):
    k.phone_property(text)


@given(k.typed_text(ID_NUMBER, "13800138000", "欧阳娜娜", "四川省成都市锦江区红星路1号"))
def test_masking_never_raises_and_never_shows_more_than_its_rule(text):
    k.mask_property(text)


@given(k.typed_text("张三"), ANY_ID_TYPE, k.typed_text(ID_NUMBER), k.typed_text("13800138000"))
def test_an_applicants_fields_are_each_fine_or_named(name, id_type, number, phone):
    k.applicant_property(name, id_type, number, phone)


def test_catalogue_search_takes_anything_typed(env):
    index = catalogue.catalogue_index(env.engine, env.hall.id, refresh=True)

    @given(k.typed_text("yyzz", "营业执照", "SCJG-001", "ying ye"))
    def run(query):
        k.search_property(index, query)

    run()


# --- commands on the database ---------------------------------------------------------------------

KINDS = st.sampled_from(["normal", "priority", "appointment", "", "PRIORITY"])


def test_taking_a_ticket_with_anything_typed(env):
    @given(
        k.typed_text("BIZ", "biz", "TAX"),
        KINDS,
        k.typed_text("老年人", "Elderly", "残疾人") | st.text(min_size=200, max_size=400),
        st.none() | k.typed_text("YA00001"),
    )
    def run(line, kind, reason, appointment):
        k.take_ticket_property(env, line, kind, reason, appointment)

    run()


# A window number as given: an int from the command line or a screen (any size), or text typed.
WINDOWS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.integers(-2, 1002),
    k.typed_text("3", "99999999999999999999", "１", "0"),
)
REQUEST_IDS = st.none() | k.typed_text("a1b2c3", max_size=120) | st.text(min_size=70, max_size=600)


def window_command_strategy():
    return (st.integers(0, len(k.WINDOW_COMMANDS) - 1), WINDOWS, REQUEST_IDS)


def test_window_commands_with_any_window_and_request_id(env):
    @given(*window_command_strategy())
    def run(which, window, request_id):
        k.window_command_property(env, which, window, request_id)

    run()


@pytest.mark.postgres
def test_window_commands_with_any_window_and_request_id_on_postgresql(pg_env):
    # the counter procedure's path: a number beyond int4 used to reach it and be blamed on it
    @given(*window_command_strategy())
    def run(which, window, request_id):
        k.window_command_property(pg_env, which, window, request_id)

    run()


@pytest.mark.postgres
def test_taking_a_ticket_with_anything_typed_on_postgresql(pg_env):
    @given(
        k.typed_text("BIZ"),
        KINDS,
        k.typed_text("老年人", "elderly", "军人") | st.text(min_size=200, max_size=400),
        st.none(),
    )
    def run(line, kind, reason, appointment):
        k.take_ticket_property(pg_env, line, kind, reason, appointment)

    run()


@st.composite
def applicants(draw):
    return intake.Applicant(
        draw(k.typed_text("张三", "欧阳娜娜")),
        draw(st.sampled_from(["resident_id", "resident_id", "passport", "credit_code", "nope"])),
        draw(k.typed_text(ID_NUMBER, "E12345678")),
        draw(k.typed_text("13800138000", "")),
    )


def submit_strategy():
    return (
        k.typed_text("SCJG-001", "scjg-001"),
        applicants(),
        st.none() | applicants(),
        st.sampled_from([None, "accept", "notice", "deficiency", "non_acceptance", "", "reject"]),
        k.typed_text("复印件", max_size=80),
        k.typed_text("不属于本机关职权范围", max_size=80),
        k.typed_text("成都市市场监督管理局"),
    )


def test_an_intake_with_anything_typed_is_a_case_or_a_refusal_that_writes_nothing(env):
    @given(st.tuples(*submit_strategy()))
    def run(args):
        k.submit_property(env, *args)

    run()


@pytest.mark.postgres
def test_an_intake_with_anything_typed_on_postgresql(pg_env):
    @given(st.tuples(*submit_strategy()))
    def run(args):
        k.submit_property(pg_env, *args)

    run()


def test_references_typed_anyhow_find_a_row_or_say_so(env):
    @given(k.typed_text("A001", "#1", "C002", "BIZ", "3", "scjg", ID_NUMBER))
    def run(text):
        k.reference_property(env, text)

    run()


@pytest.mark.postgres
def test_references_typed_anyhow_on_postgresql(pg_env):
    @given(k.typed_text("A001", "#1", "C002", "BIZ", "3", "99999999999999999999"))
    def run(text):
        k.reference_property(pg_env, text)

    run()


def test_signing_in_with_anything_typed(env):
    @given(k.typed_text("C002", "M001", "c002"), k.typed_text("1234", "0000"))
    def run(code, pin):
        k.login_property(env, code, pin)

    run()


def test_notes_and_reasons_with_anything_typed(env):
    @given(k.typed_text("申请人要求", max_size=200), k.typed_text("很好", max_size=200), st.integers(-1, 6))
    def run(reason, comment, level):
        k.reason_property(env, reason, comment, level)

    run()


# --- the CLI and the hall definition --------------------------------------------------------------


def test_cli_options_with_anything_typed_exit_0_or_2(sqlite_url, tmp_path):
    from typer.testing import CliRunner

    from window_terminal.cli import app

    made = make_env(sqlite_url, tmp_path)
    runner = CliRunner()
    env_vars = {
        "WT_DATABASE_URL": sqlite_url,
        "WT_CONFIG": str(tmp_path / "none.toml"),
        "WT_HALL": "",
        "WT_DATA_DIR": str(tmp_path / "data"),
    }
    sign_in(env_vars, "M001")  # a hall manager, so the commands get as far as their own checks

    @given(
        st.integers(0, len(k.CLI_COMMANDS) - 1),
        k.typed_text("BIZ", "A001", "2026-03-02", "json", "jinjiang", "scjg", "3", "99999999999999999999"),
        k.typed_text("2026-03-31", "x"),
    )
    def run(which, a, b):
        k.cli_property(runner, app, env_vars, made, which, a, b)

    try:
        run()
    finally:
        made.engine.dispose()


def test_a_hall_definition_with_edited_values_loads_or_names_each_problem(env):
    documents = k.hall_documents(QUEUE)

    @given(k.mutated_hall(documents), st.sampled_from([False, False, False, True]))
    def run(docs, load):
        k.hall_definition_property(env, docs, load)

    run()


# --- what the fuzzers found, shrunk, kept as plain tests --------------------------------------------


@pytest.mark.postgres
def test_a_nul_character_typed_as_a_ticket_number_is_not_found_on_postgresql(pg_env):
    # Shrunk: reference_property(text="\x00") — PostgreSQL refuses NUL in text, so the look-up
    # crashed with a DataError; lookup.typed now drops control characters.
    k.reference_property(pg_env, "\x00")
    k.reference_property(pg_env, "A0\x0001")


def test_a_hall_definition_with_a_value_where_a_table_belongs_names_it(env):
    # Shrunk: [[calendar]] entries and [hall] replaced by a string crashed validate() with
    # AttributeError ('str' object has no attribute 'get') / ValueError (dict() of a string).
    from window_terminal.core.hall import HallDefinitionError, read_definition

    docs = k.hall_documents(QUEUE)
    docs["hall.toml"]["calendar"] = ["0"]
    docs["hall.toml"]["hall"] = "0"
    docs["lines.toml"]["line"] = "0"
    docs["catalogue/scjg.toml"]["item"][0]["material"] = [1]
    for load in (False, True):
        k.hall_definition_property(env, docs, load)
    folder = env.tmp / "written"
    for name, doc in docs.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(k.toml_document(doc), encoding="utf-8")
    with pytest.raises(HallDefinitionError) as err:
        read_definition(folder)
    problems = err.value.problems
    assert "hall.toml: [hall]: must be a table of keys and values, not '0'" in problems
    assert "hall.toml: [[calendar]] #1: must be a table of keys and values, not '0'" in problems
    assert "lines.toml: [[line]]: write each entry as its own [[line]] table" in problems
    assert any(p.startswith("catalogue/scjg.toml: [[item]] SCJG") and "material]] #1" in p for p in problems)


def test_a_window_number_too_long_for_the_database_is_refused_not_a_crash(env):
    # Shrunk (benchmarks/fuzz_inputs.py, references): "99999999999999999999" typed as a window
    # overflowed SQLite's INTEGER (OverflowError) in lookup.window.
    from window_terminal.core import lookup
    from window_terminal.db.engine import read_session
    from window_terminal.errors import DomainError

    with read_session(env.engine) as s, pytest.raises(DomainError) as err:
        lookup.window(s, env.hall.id, "99999999999999999999")
    assert "1-999" in err.value.zh and "1 to 999" in err.value.en
    k.reference_property(env, "99999999999999999999")


@pytest.mark.postgres
def test_a_nul_in_a_material_note_on_postgresql_is_dropped_not_a_crash(pg_env):
    # Found by a directed run after the fuzzers' NUL finding: a clerk's note "n\x00" on a material
    # crashed the intake on PostgreSQL (DataError); free text now passes through lookup.note.
    info = intake.item_info(pg_env.engine, pg_env.hall.id, "SCJG-0006")
    checks = intake.default_checks(info)
    for check in checks:
        check.note = "复印件\x00\u200b\n"
    result = intake.submit(
        pg_env.engine,
        pg_env.hall.id,
        applicant=intake.Applicant("张三", "resident_id", ID_NUMBER, ""),
        item="SCJG-0006",
        materials=checks,
        outcome=None,
        window=2,
        actor="C002",
    )
    view = intake.case_view(pg_env.engine, pg_env.hall.id, result.case_no)
    assert {m["note"] for m in view.materials} == {"复印件"}


def test_a_reason_of_only_invisible_characters_is_no_reason():
    from window_terminal.core import lookup

    assert lookup.note("\u200b \ufeff\n") == ""
    assert lookup.note(" 第一行\n第二行\x00 ") == "第一行\n第二行"


def test_a_list_where_the_hall_definition_wants_text_is_named_not_stored(env):
    # Shrunk (benchmarks/fuzz_inputs.py, hall_definition, load=True): a material's form = [] passed
    # validation and crashed the load in the database (sqlite3.ProgrammingError: type 'list' is not
    # supported) — the same for every optional text of the definition.
    docs = k.hall_documents(QUEUE)
    docs["catalogue/scjg.toml"]["item"][0]["material"][0]["form"] = []
    docs["hall.toml"]["hall"]["office"] = 1
    docs["windows.toml"]["window"][0]["name"] = {"x": 1}
    k.hall_definition_property(env, docs, True)
    from window_terminal.core.hall import HallDefinitionError, read_definition

    folder = env.tmp / "written"
    for name, doc in docs.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(k.toml_document(doc), encoding="utf-8")
    with pytest.raises(HallDefinitionError) as err:
        read_definition(folder)
    assert 'hall.toml: [hall]: office: must be text in quotes, like office = "…", not 1' in err.value.problems
    assert any(": material #1: form: must be text in quotes" in p for p in err.value.problems)
    assert any(p.startswith("windows.toml: [[window]] #1: name: must be text") for p in err.value.problems)


def test_a_device_whose_kind_or_name_is_a_list_is_named_not_a_crash(env):
    # Shrunk (benchmarks/fuzz_inputs.py, hall_definition): [[device]] kind = [] crashed validate()
    # with TypeError (unhashable type: 'list') when it was looked up among the device kinds.
    from window_terminal.core.hall import HallDefinitionError, read_definition

    docs = k.hall_documents(QUEUE)
    docs["hall.toml"]["device"][0]["kind"] = []
    docs["hall.toml"]["device"][1]["name"] = ["x"]
    docs["hall.toml"]["device"][1]["window"] = True
    k.hall_definition_property(env, docs, True)
    folder = env.tmp / "devices"
    for name, doc in docs.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(k.toml_document(doc), encoding="utf-8")
    with pytest.raises(HallDefinitionError) as err:
        read_definition(folder)
    problems = err.value.problems
    assert any("[[device]] #1: kind: must be one of" in p and "not []" in p for p in problems), problems
    assert any("[[device]] #2: name: must be text" in p for p in problems), problems
    assert any("[[device]] #2: window: True is not a window number" in p for p in problems), problems
