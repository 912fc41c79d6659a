"""Look-ups on SQLite and PostgreSQL: what a person types finds the same row on every screen.

A clerk who types ``c002`` at the counter, a reviewer whose input method sends full-width
``Ｒ００１``, a citizen who types a query code in lower case: each must be found, the same way, at
the counter, in the back office and at the status query — not refused in one place and accepted in
another.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.conftest import QUEUE
from tests.factories import SINGLE_DEPT_ITEM, make_accepted_case, set_clock_to, tasks_of
from window_terminal.core import intake as ik
from window_terminal.core import lookup, review
from window_terminal.core import queueing as q
from window_terminal.core.case_status import case_status
from window_terminal.core.hall import resolve_hall
from window_terminal.core.staff import login
from window_terminal.db.engine import read_session
from window_terminal.db.models import Case, Event, ReviewTask, Staff
from window_terminal.errors import DomainError, NotFound

# What people really type for staff member C002: lower case, stray spaces, a Chinese input
# method's full-width letters and digits, an ideographic space (U+3000).
C002_AS_TYPED = ["c002", " C002 ", "Ｃ００２", "\u3000ｃ００２\u3000"]
MON = date(2026, 3, 2)


def test_the_one_normalisation():
    assert lookup.code(" ｃ００２\u3000") == "C002"
    assert lookup.code("ａ００１") == "A001"
    assert lookup.hall_code(" JinJiang ") == "jinjiang"
    assert lookup.typed("＃１２") == "#12"
    assert lookup.window_number(" ３ ") == 3


@pytest.mark.parametrize("typed", C002_AS_TYPED)
def test_staff_code_as_typed_signs_in_at_the_counter(engine, hall, typed):
    """A clerk who types her code in lower case or full width is signed in, not told it does not exist."""
    staff = login(engine, hall.id, typed, "1234")
    assert staff.code == "C002"


@pytest.mark.parametrize("typed", C002_AS_TYPED)
def test_staff_code_as_typed_opens_a_window_and_calls(engine, hall, typed):
    """Opening the window and calling with the typed code records C002 as the actor of both."""
    q.set_window_status(engine, hall.id, 2, "open", actor=typed)
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    called = q.call_next(engine, hall.id, 2, actor=typed)
    assert called is not None and called.number == "A001"
    with read_session(engine) as s:
        c002 = s.execute(select(Staff.id).where(Staff.hall_id == hall.id, Staff.code == "C002")).scalar_one()
        actors = (
            s.execute(
                select(Event.staff_id).where(
                    Event.hall_id == hall.id, Event.kind.in_(["window.status", "ticket.called"])
                )
            )
            .scalars()
            .all()
        )
    assert actors and set(actors) == {c002}


@pytest.mark.parametrize("typed", C002_AS_TYPED)
def test_staff_code_as_typed_receives_an_application_at_the_counter(engine, hall, typed):
    item = ik.item_info(engine, hall.id, "XZSP-0001")
    result = ik.submit(
        engine,
        hall.id,
        applicant=ik.Applicant("张三", "resident_id", "11010519491231002X", "13800138000"),
        item=item.code,
        materials=ik.default_checks(item),
        outcome="accept",
        window=2,
        actor=typed,
    )
    with read_session(engine) as s:
        case = s.get(Case, result.case_id)
        staff = s.get(Staff, case.staff_id)
    assert staff.code == "C002"


@pytest.mark.parametrize("typed", ["r001", " R001 ", "Ｒ００１", "\u3000ｒ００１"])
def test_staff_code_as_typed_is_found_in_review_alike(engine, hall, typed):
    set_clock_to(MON)
    case = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=MON)
    [task] = tasks_of(engine, case.id).values()
    review.claim(engine, hall.id, task.id, actor=typed)
    with read_session(engine) as s:
        reviewer = s.get(Staff, s.get(ReviewTask, task.id).reviewer_id)
    assert reviewer.code == "R001"


def test_the_counter_and_review_find_the_same_staff_members(engine, hall):
    """One look-up: every typed form names one row, and an unknown code says how to find valid ones."""
    with read_session(engine) as s:
        ids = {lookup.staff(s, hall.id, typed).id for typed in C002_AS_TYPED}
        assert len(ids) == 1
        with pytest.raises(NotFound) as caught:
            lookup.staff(s, hall.id, " c999 ")
    assert "c999" in caught.value.en and "staff.toml" in caught.value.en
    assert "c999" in caught.value.zh


@pytest.mark.parametrize("typed", ["biz", "ＢＩＺ", " ｂｉｚ\u3000"])
def test_line_code_in_lower_case_or_full_width_takes_a_ticket(engine, hall, typed):
    assert q.take_ticket(engine, hall.id, typed, actor="C001").line == "BIZ"


@pytest.mark.parametrize("typed", ["a001", "Ａ００１", " ａ００１ ", "＃{id}"])
def test_ticket_number_in_lower_case_or_full_width_is_found(engine, hall, typed):
    ticket = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    ref = typed.replace("{id}", "".join(chr(ord(d) + 0xFEE0) for d in str(ticket.id)))
    assert q.ticket_info(engine, hall.id, ref).id == ticket.id
    q.set_window_status(engine, hall.id, 2, "open", actor="C002")
    assert q.call_ticket(engine, hall.id, 2, ref, actor="c002").id == ticket.id


@pytest.mark.parametrize("typed", ["2", " ２ ", "\u3000２"])
def test_window_number_as_typed_is_found(engine, hall, typed):
    with read_session(engine) as s:
        assert lookup.window(s, hall.id, typed).number == 2


def test_a_window_that_is_not_a_number_says_so(engine, hall):
    with read_session(engine) as s, pytest.raises(DomainError) as caught:
        lookup.window(s, hall.id, "二")
    assert "not a number" in caught.value.en


@pytest.mark.parametrize("typed", ["scjg", "ＳＣＪＧ", " ｓｃｊｇ "])
def test_department_code_as_typed_lists_its_review_tasks(engine, hall, typed):
    set_clock_to(MON)
    make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=MON)
    assert len(review.list_tasks(engine, hall.id, typed, today=MON)) == 1


@pytest.mark.parametrize("typed", ["JINJIANG", " jinjiang ", "ｊｉｎｊｉａｎｇ"])
def test_hall_code_as_typed_is_found(engine, hall, typed):
    assert resolve_hall(engine, typed).id == hall.id


def test_an_unknown_hall_names_what_was_typed_and_the_known_halls(engine, hall):
    with pytest.raises(NotFound) as caught:
        resolve_hall(engine, " nowhere ")
    assert "'nowhere'" in caught.value.en and "jinjiang" in caught.value.en


@pytest.mark.parametrize("form", ["lower", "full_width", "spaces"])
def test_query_code_as_typed_finds_the_case_status(engine, hall, form):
    set_clock_to(MON)
    case = make_accepted_case(engine, hall.id, SINGLE_DEPT_ITEM, accepted_on=MON)
    code = case.query_code
    typed = {
        "lower": code.lower(),
        "full_width": "".join(chr(ord(c) + 0xFEE0) for c in code),
        "spaces": f"\u3000{code} ",
    }[form]
    assert case_status(engine, hall.id, typed)["case_no"] == case.case_no
    with read_session(engine) as s:
        assert lookup.case(s, hall.id, typed).id == case.id
        assert review.case_detail(engine, hall.id, typed)["case_no"] == case.case_no


def test_every_demo_case_is_found_by_its_query_code(db_url, tmp_path, monkeypatch):
    """`wt demo`, then `wt case status <code>` for any code on a demo notice: found, not 'no case'."""
    from typer.testing import CliRunner

    from window_terminal.cli import app
    from window_terminal.core.demo import build_demo
    from window_terminal.core.intake import QUERY_ALPHABET
    from window_terminal.db.engine import make_engine

    engine = make_engine(db_url)
    build_demo(engine, QUEUE, days=1)
    demo_hall = resolve_hall(engine, None)
    with read_session(engine) as s:
        codes = s.execute(select(Case.query_code, Case.case_no).where(Case.hall_id == demo_hall.id)).all()
    assert len(codes) > 20
    for code, case_no in codes:
        assert set(code) <= set(QUERY_ALPHABET), code  # the one query-code format
        assert case_status(engine, demo_hall.id, code)["case_no"] == case_no
        assert case_status(engine, demo_hall.id, f" {code.lower()} ")["case_no"] == case_no
    monkeypatch.setenv("WT_DATABASE_URL", db_url)
    monkeypatch.setenv("WT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WT_CONFIG", str(tmp_path / "none.toml"))
    runner = CliRunner()
    for code, case_no in codes:
        result = runner.invoke(app, ["case", "status", code, "--json"])
        assert result.exit_code == 0, (code, result.output)
        assert case_no in result.output


@pytest.mark.parametrize("typed", ["ＧＡ－０００１", "\u3000ｙｙｚｚ"])
def test_catalogue_search_typed_in_full_width_finds_the_item(engine, hall, typed):
    """A kiosk or counter whose input method is in full-width mode still finds 居住证 / 营业执照."""
    from window_terminal.core.catalogue import catalogue_index

    found = catalogue_index(engine, hall.id, refresh=True).search(typed)
    assert found and (found[0].code == "GA-0001" or found[0].name.startswith("营业执照"))
