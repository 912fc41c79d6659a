"""Every typed value has a bound, and a vocabulary where the hall has one (issue 28).

A window number of 20 digits crashed `wt call next` with a traceback on SQLite (an overflowed
INTEGER) and, on PostgreSQL, was blamed on the counter procedure ("run wt db upgrade"); a
300-character priority reason was stored and printed on the slip; a 500-character request id was
accepted. Now each is refused before any SQL with a ``DomainError`` naming the bound and the fix
(``core/lookup.py``), the CLI exits 2 with that message, and nothing is written; the priority
lane's reasons come from ``hall.toml`` ``[priority] reasons``.
"""

from __future__ import annotations

import asyncio
import shutil

import pytest
from sqlalchemy import select

from tests.conftest import QUEUE
from tests.fuzz_kit import Env, refused_without_writing, table_counts, today_of
from tests.test_access import wt
from tests.test_board import screen_app, wait_until
from tests.test_kiosk import lines_ready, page
from window_terminal.core import lookup
from window_terminal.core import queueing as q
from window_terminal.core.hall import HallDefinitionError, load_hall, read_definition
from window_terminal.db.engine import read_session
from window_terminal.db.models import Ticket
from window_terminal.errors import DomainError

TWENTY_DIGITS = 12345678901234567890
WINDOW_COMMANDS = ("call_next", "recall", "no_show", "start_service", "finish", "park")


def env_of(engine, hall, tmp_path) -> Env:
    return Env(engine, hall, today_of(engine, hall), tmp_path)


# --- the bounds themselves ------------------------------------------------------------------------


@pytest.mark.parametrize("value", [TWENTY_DIGITS, 0, -3, 1000, True, "12345678901234567890", "0", "1000"])
def test_a_window_number_out_of_1_to_999_is_refused_naming_the_range(value):
    with pytest.raises(DomainError) as err:
        lookup.window_number(value)
    assert err.value.code == "bad_window"
    assert "1-999" in err.value.zh and "1 to 999" in err.value.en


def test_a_request_id_is_1_to_80_visible_characters():
    assert lookup.request_id(None) is None
    assert lookup.request_id(" ａ1-b2 ") == "a1-b2"
    assert lookup.request_id("r" * 80) == "r" * 80
    for bad in ("r" * 81, "r" * 500, "", "   ", "two words"):
        with pytest.raises(DomainError) as err:
            lookup.request_id(bad)
        assert err.value.code == "bad_request_id" and "80" in err.value.zh and "80" in err.value.en


def test_a_note_and_a_code_have_a_bound_that_is_named():
    assert lookup.note("复印件" * 100) == "复印件" * 100
    with pytest.raises(DomainError) as err:
        lookup.note("长" * 501, what=("取消原因", "the cancel reason"))
    assert err.value.code == "too_long" and "取消原因" in err.value.zh and "500" in err.value.en
    with pytest.raises(DomainError) as err:
        lookup.code("A" * 65)
    assert err.value.code == "too_long" and "64" in err.value.zh


def test_a_priority_reason_comes_from_the_vocabulary_in_either_language():
    assert lookup.priority_reason(None, " ＥＬＤＥＲＬＹ ") == "老年人"
    assert lookup.priority_reason({}, "军人") == "军人"
    with pytest.raises(DomainError) as err:
        lookup.priority_reason(None, "老" * 300)
    assert err.value.code == "bad_priority_reason"
    assert "老年人" in err.value.zh and "hall.toml" in err.value.en and len(err.value.zh) < 200


# --- the core, on both databases: refused before any SQL, nothing written ---------------------


@pytest.mark.parametrize("command", WINDOW_COMMANDS)
def test_a_20_digit_window_is_refused_by_every_window_command(engine, hall, tmp_path, command):
    # PostgreSQL ran call_next and the in-hand commands in its procedure and called the overflow a
    # broken procedure ("run wt db upgrade"); SQLite raised OverflowError.
    env = env_of(engine, hall, tmp_path)
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    before = table_counts(engine)
    with pytest.raises(DomainError) as err:
        getattr(q, command)(engine, hall.id, TWENTY_DIGITS, actor="M001")
    assert err.value.code == "bad_window"
    refused_without_writing(env, before, err.value)


def test_a_20_digit_window_is_refused_by_call_back_transfer_and_opening(engine, hall, tmp_path):
    env = env_of(engine, hall, tmp_path)
    ticket = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    before = table_counts(engine)
    calls = (
        lambda: q.call_ticket(engine, hall.id, TWENTY_DIGITS, ticket.number, actor="M001"),
        lambda: q.transfer(engine, hall.id, "GEN", window_number=TWENTY_DIGITS, actor="M001"),
        lambda: q.set_window_status(engine, hall.id, TWENTY_DIGITS, "open", actor="M001"),
        lambda: q.set_window_lines(engine, hall.id, TWENTY_DIGITS, ["BIZ"], actor="M001"),
    )
    for call in calls:
        with pytest.raises(DomainError) as err:
            call()
        assert err.value.code == "bad_window"
        refused_without_writing(env, before, err.value)


def test_a_500_character_request_id_is_refused_and_writes_nothing(engine, hall, tmp_path):
    env = env_of(engine, hall, tmp_path)
    q.set_window_status(engine, hall.id, 1, "open", actor="M001")
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    before = table_counts(engine)
    calls = (
        lambda: q.take_ticket(engine, hall.id, "BIZ", actor="C001", request_id="r" * 500),
        lambda: q.call_next(engine, hall.id, 1, actor="M001", request_id="r" * 500),  # PG: the fast path
        lambda: q.cancel(engine, hall.id, "A001", actor="M001", request_id="r" * 500),
    )
    for call in calls:
        with pytest.raises(DomainError) as err:
            call()
        assert err.value.code == "bad_request_id"
        refused_without_writing(env, before, err.value)
    done = q.call_next(engine, hall.id, 1, actor="M001", request_id="r" * 80)
    assert done is not None and done.number == "A001"


def test_a_300_character_priority_reason_is_refused_and_a_known_one_stored_in_chinese(engine, hall, tmp_path):
    env = env_of(engine, hall, tmp_path)
    before = table_counts(engine)
    with pytest.raises(DomainError) as err:
        q.take_ticket(engine, hall.id, "BIZ", kind="priority", priority_reason="老" * 300, actor="C001")
    assert err.value.code == "bad_priority_reason"
    refused_without_writing(env, before, err.value)
    info = q.take_ticket(engine, hall.id, "BIZ", kind="priority", priority_reason="elderly", actor="C001")
    assert info.priority_reason == "老年人"


def test_reasons_typed_at_a_window_are_bounded(engine, hall, tmp_path):
    env = env_of(engine, hall, tmp_path)
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    before = table_counts(engine)
    for call in (
        lambda: q.cancel(engine, hall.id, "A001", reason="长" * 501, actor="M001"),
        lambda: q.move_forward(engine, hall.id, "A001", reason="长" * 501, actor="M001"),
        lambda: q.transfer(engine, hall.id, "GEN", ticket_ref="A001", reason="长" * 501, actor="M001"),
    ):
        with pytest.raises(DomainError) as err:
            call()
        assert err.value.code == "too_long"
        refused_without_writing(env, before, err.value)


# --- the hall's vocabulary: hall.toml [priority] reasons, validated by `wt hall load` ----------


def hall_with_reasons(tmp_path, reasons: str):
    folder = tmp_path / "queue"
    shutil.copytree(QUEUE, folder)
    hall_toml = folder / "hall.toml"
    text = hall_toml.read_text(encoding="utf-8")
    start = text.index("[priority]")
    end = text.index("]\n", text.index("reasons = [", start)) + 2
    hall_toml.write_text(text[:start] + f"[priority]\nreasons = {reasons}\n" + text[end:], encoding="utf-8")
    return folder


def test_the_demo_hall_lists_its_priority_reasons():
    reasons = read_definition(QUEUE).priority["reasons"]
    assert [r["zh"] for r in reasons] == [zh for zh, _ in lookup.DEFAULT_PRIORITY_REASONS]


@pytest.mark.parametrize(
    ("reasons", "problem"),
    [
        (
            '[{ zh = "老年人" }, { zh = "老年人" }]',
            "hall.toml: [priority]: reasons zh '老年人' appears twice",
        ),
        ("[]", "hall.toml: [priority]: reasons: list the priority lane's reasons"),
        ('["老年人"]', "hall.toml: [priority]: reasons #1: must be a table"),
        ('[{ en = "Elderly" }]', "hall.toml: [priority]: reasons #1: zh: required text is missing"),
        (f'[{{ zh = "{"老" * 21}" }}]', "hall.toml: [priority]: reasons #1: zh: at most 20 characters"),
    ],
)
def test_a_bad_list_of_priority_reasons_is_named_by_hall_load(tmp_path, reasons, problem):
    with pytest.raises(HallDefinitionError) as err:
        read_definition(hall_with_reasons(tmp_path, reasons))
    assert any(p.startswith(problem) for p in err.value.problems), err.value.problems


def test_a_hall_takes_only_its_own_priority_reasons(engine, hall, tmp_path):
    load_hall(engine, hall_with_reasons(tmp_path, '[{ zh = "行动不便", en = "Reduced mobility" }]'))
    info = q.take_ticket(engine, hall.id, "BIZ", kind="priority", priority_reason="行动不便", actor="C001")
    assert info.priority_reason == "行动不便"
    with pytest.raises(DomainError) as err:
        q.take_ticket(engine, hall.id, "BIZ", kind="priority", priority_reason="老年人", actor="C001")
    assert "行动不便" in err.value.zh and "Reduced mobility" in err.value.en


def test_the_kiosk_offers_the_halls_own_priority_reasons(engine, hall, db_url, tmp_path):
    load_hall(engine, hall_with_reasons(tmp_path, '[{ zh = "行动不便", en = "Reduced mobility" }]'))
    app = screen_app("kiosk", engine, db_url)

    async def run() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await lines_ready(pilot)
            assert len(app.screen.query("#reasons Button")) == 1
            await pilot.press("f2")
            await pilot.click("#reason-0")
            await pilot.click("#line-SOC")
            await wait_until(pilot, lambda: page(app) == "ticket")
            assert "绿色通道：行动不便" in str(app.screen.query_one("#ticket-line").render())

    asyncio.run(run())
    with read_session(engine) as s:
        assert s.execute(select(Ticket.priority_reason)).scalars().all() == ["行动不便"]


# --- the CLI: exit 2 with the message, never a traceback --------------------------------------


def test_the_cli_refuses_values_out_of_bounds_with_exit_2(cli_env, engine):
    for args, words in (
        (["call", "next", "--window", str(TWENTY_DIGITS)], "1-999"),
        (["call", "finish", "--window", "-1"], "1-999"),
        (["counter", "--window", str(TWENTY_DIGITS)], "1-999"),  # refused before the screen starts
        (["ticket", "take", "BIZ", "--priority", "老" * 300], "老年人、残疾人"),
        (["ticket", "take", "BIZ", "--request-id", "r" * 500], "80"),
    ):
        done = wt(cli_env, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert words in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert "wt db upgrade" not in done.stderr
    with read_session(engine) as s:
        assert s.execute(select(Ticket)).first() is None
