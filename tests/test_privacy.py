"""Masking personal data: one rule per kind of data (core/privacy.py), and the same masked person on
every surface that shows one — ``wt case show``, a notice, the overdue report's CSV, the back office
and the public case status. The hall TV shows none of it."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import stat
from datetime import date, datetime, timedelta

import pytest
from typer.testing import CliRunner

from tests.factories import SINGLE_DEPT_ITEM, approve, make_accepted_case, set_clock_to, tasks_of
from window_terminal.core import privacy
from window_terminal.core.privacy import mask_address, mask_id_number, mask_name, mask_phone

ID_NUMBER, NAME, PHONE = "11010519491231002X", "张晓梅", "13812345678"
MASKED_ID, MASKED_NAME, MASKED_PHONE = "1101**********002X", "张**", "138****5678"
ACCEPTED = date(2026, 3, 2)


# --- the rules ----------------------------------------------------------------------------------


def test_id_number_keeps_the_first_and_last_four_and_its_length() -> None:
    assert mask_id_number(ID_NUMBER) == MASKED_ID
    assert mask_id_number("110105194912310") == "1101*******2310"  # 15-digit old ID
    assert mask_id_number("E12345678") == "E123*5678"  # a passport
    assert mask_id_number("  11010519491231002x\t") == MASKED_ID  # whitespace, lower-case x
    assert mask_id_number("１１０１０５１９４９１２３１００２Ｘ") == MASKED_ID  # full-width
    assert mask_id_number("1101 0519 4912 3100 2X") == MASKED_ID  # typed in groups


@pytest.mark.parametrize("short", ["1", "1234", "12345678"])
def test_a_short_id_number_is_hidden_whole(short: str) -> None:
    assert mask_id_number(short) == "*" * len(short)


def test_name_keeps_the_surname_only() -> None:
    assert mask_name(NAME) == MASKED_NAME
    assert mask_name("李四") == "李*"
    assert mask_name("王") == "王"
    assert mask_name("欧阳娜娜") == "欧阳**"
    assert mask_name("诸葛亮") == "诸葛*"
    assert mask_name("司马") == "司*"  # a two-character name: 司 is the surname, 马 the given name
    assert mask_name("　张晓梅 ") == MASKED_NAME  # full-width and ASCII spaces around it


def test_a_long_name_is_masked_to_a_bounded_length_revealing_no_more() -> None:
    # Found by hand (issue 28): a 200-character company name came out as one character and 199 stars.
    company = "成都" + "某" * 192 + "科技有限公司"
    assert len(company) == 200
    assert mask_name(company) == "成****"
    assert mask_name("爱新觉罗溥仪") == "爱****"  # was 爱*****: the length is no longer told either
    assert mask_name("欧阳" + "某" * 50) == "欧阳****"
    for name in ("张晓梅", "李四", "欧阳娜娜", "王", "司马"):  # personal names read as before
        assert mask_name(name) == name[: len(privacy.surname(name))] + "*" * (
            len(name) - len(privacy.surname(name))
        )


def test_phone_mobile_keeps_3_and_4_other_numbers_keep_the_last_4() -> None:
    assert mask_phone(PHONE) == MASKED_PHONE
    assert mask_phone("13800001234") == "138****1234"
    assert mask_phone("+86 138-1234-5678") == MASKED_PHONE
    assert mask_phone("１３８１２３４５６７８") == MASKED_PHONE  # full-width digits
    assert mask_phone("028-84452345") == "***-****2345"
    assert mask_phone("02884452345") == "*******2345"  # not a mobile: only the last 4
    assert mask_phone("1234") == "****" and mask_phone("12") == "**"


def test_address_keeps_the_first_six_characters() -> None:
    assert mask_address("四川省成都市锦江区红星路1号") == "四川省成都市****"
    assert mask_address("  北京市东城区景山前街4号 ") == "北京市东城区****"
    assert mask_address("成都市锦江区") == "成都市锦江区"  # nothing beyond a city and district


@pytest.mark.parametrize("fn", [mask_id_number, mask_name, mask_phone, mask_address])
@pytest.mark.parametrize("odd", [None, "", "   ", "　", "\t\n"])
def test_empty_and_blank_input_masks_to_nothing(fn, odd) -> None:  # type: ignore[no-untyped-def]
    assert fn(odd) == ""


def test_a_document_person_carries_the_full_name_and_masked_numbers() -> None:
    assert privacy.masked_person(NAME, "resident_id", ID_NUMBER, PHONE) == {
        "name": NAME,
        "id_type": "resident_id",
        "id_number": MASKED_ID,
        "phone": MASKED_PHONE,
    }
    assert privacy.masked_person("", "resident_id", "", "") is None  # no agent


def test_the_mask_boundaries_are_exact() -> None:
    # one past each boundary: 7 characters of address, 5 digits of phone
    assert mask_address("成都市锦江区红") == "成都市锦江区****"
    assert mask_phone("12345") == "*2345"
    # a letter or a Chinese character among the digits is hidden too, separators stay
    assert mask_phone("028-8445-2345x") == "***-****-2345*"
    assert mask_phone("8445转2345") == "****" + "*" + "2345"


def test_a_private_file_is_written_whole_for_this_user_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import stat

    target = tmp_path / "drafts" / "deep" / "walkin.json"
    assert privacy.write_private_file(target, "张晓梅 11010519491231002X") == target
    assert target.read_text(encoding="utf-8") == "张晓梅 11010519491231002X"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    # an earlier file readable by others is replaced by a 0600 one, whatever the umask
    target.chmod(0o644)
    old = os.umask(0)
    try:
        privacy.write_private_file(target, "second")
    finally:
        os.umask(old)
    assert target.read_text(encoding="utf-8") == "second"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["walkin.json"]  # no temporary left
    # a write that fails leaves the old file as it was and no temporary file
    with pytest.raises(UnicodeEncodeError):
        privacy.write_private_file(target, "bad \ud800")
    assert target.read_text(encoding="utf-8") == "second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["walkin.json"]


def test_a_private_file_is_never_readable_by_others_even_while_it_is_written(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The temporary file is created 0600: another user cannot open it during the write (and keep the
    descriptor) before the chmod that follows. Seen by the mode of the file at the moment it is
    written, with the umask letting everything through."""
    seen: list[int] = []
    real_fdopen = os.fdopen

    def spying_fdopen(fd, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(os, "fdopen", spying_fdopen)
    old = os.umask(0)
    try:
        privacy.write_private_file(tmp_path / "drafts" / "walkin.json", "秘密")
    finally:
        os.umask(old)
    assert seen == [0o600]


# --- the same person on every surface -------------------------------------------------------------


def wt(env: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    from window_terminal.cli import app

    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def _case(engine, hall):  # type: ignore[no-untyped-def]
    set_clock_to(ACCEPTED)
    return make_accepted_case(
        engine,
        hall.id,
        SINGLE_DEPT_ITEM,
        accepted_on=ACCEPTED,
        applicant_name=NAME,
        id_number=ID_NUMBER,
        phone=PHONE,
    )


def _never_whole(*outputs: str) -> None:
    for output in outputs:
        assert ID_NUMBER not in output and PHONE not in output, output


def test_wt_case_show_masks_name_id_and_phone(engine, hall, cli_env) -> None:  # type: ignore[no-untyped-def]
    case = _case(engine, hall)
    output = wt(cli_env, "case", "show", case.case_no, "--json")
    shown = json.loads(output)
    assert (shown["applicant"], shown["id_number"], shown["phone"]) == (MASKED_NAME, MASKED_ID, MASKED_PHONE)
    _never_whole(output)
    assert NAME not in output


def test_wt_case_list_masks_the_name_as_wt_case_show_does(engine, hall, cli_env) -> None:  # type: ignore[no-untyped-def]
    # Found by hand (issue 28): `wt case list` showed 张晓梅 where `wt case show` showed 张**.
    from tests.factories import make_submitted_case

    case = _case(engine, hall)
    waiting = make_submitted_case(engine, hall.id, SINGLE_DEPT_ITEM, received_on=ACCEPTED)  # 李建国
    listed = json.loads(wt(cli_env, "case", "list", "--json"))
    assert {r["case_no"]: r["applicant"] for r in listed} == {
        case.case_no: MASKED_NAME,
        waiting.case_no: "李**",
    }
    pending = json.loads(wt(cli_env, "case", "list", "--pending", "--json"))
    assert [(r["case_no"], r["applicant"]) for r in pending] == [(waiting.case_no, "李**")]
    for output in (wt(cli_env, "case", "list"), wt(cli_env, "case", "list", "--pending")):
        assert NAME not in output and "李建国" not in output
        _never_whole(output)
    looked_up = wt(cli_env, "case", "lookup", case.case_no, "--json")
    assert json.loads(looked_up)["case"]["applicant_name"] == MASKED_NAME and NAME not in looked_up


def test_wt_case_lookup_masks_id_and_phone_the_same_way(engine, hall, cli_env) -> None:  # type: ignore[no-untyped-def]
    case = _case(engine, hall)
    output = wt(cli_env, "case", "lookup", case.case_no, "--json")
    looked_up = json.loads(output)["case"]
    assert (looked_up["id_number"], looked_up["phone"]) == (MASKED_ID, MASKED_PHONE)
    _never_whole(output)


def test_the_public_case_status_masks_the_same_way(engine, hall, cli_env) -> None:  # type: ignore[no-untyped-def]
    case = _case(engine, hall)
    output = wt(cli_env, "case", "status", case.query_code, "--json")
    status = json.loads(output)
    assert (status["applicant"], status["id_number"]) == (MASKED_NAME, MASKED_ID)
    _never_whole(output, wt(cli_env, "case", "status", case.query_code))
    assert NAME not in output


def test_the_back_office_task_list_masks_the_same_way(engine, hall) -> None:  # type: ignore[no-untyped-def]
    from window_terminal.core import review

    _case(engine, hall)
    [task] = review.list_tasks(engine, hall.id, "SCJG")
    assert task["applicant"] == MASKED_NAME


def _accept_at_the_counter(engine, hall) -> str:  # type: ignore[no-untyped-def]
    from window_terminal.core import intake

    item = intake.item_info(engine, hall.id, SINGLE_DEPT_ITEM)
    result = intake.submit(
        engine,
        hall.id,
        applicant=intake.Applicant(NAME, "resident_id", ID_NUMBER, PHONE),
        item=item.code,
        materials=intake.default_checks(item),
        outcome="accept",
        window=1,
        actor="C001",
    )
    assert result.document is not None
    return str(result.document["number"])


def test_a_counter_notice_shows_the_same_masked_numbers(engine, hall, cli_env) -> None:  # type: ignore[no-untyped-def]
    number = _accept_at_the_counter(engine, hall)
    text = wt(cli_env, "doc", "show", number)
    assert NAME in text  # the notice is addressed to the applicant by name
    assert MASKED_ID in text and MASKED_PHONE in text
    _never_whole(text, wt(cli_env, "doc", "show", number, "--json"))


def test_the_document_list_names_each_applicant_by_the_masked_name(engine, hall, cli_env) -> None:  # type: ignore[no-untyped-def]
    number = _accept_at_the_counter(engine, hall)
    listed = json.loads(wt(cli_env, "doc", "list", "--json"))
    assert [(r["number"], r["applicant"]) for r in listed] == [(number, MASKED_NAME)]
    table = wt(cli_env, "doc", "list")
    assert MASKED_NAME in table and NAME not in table
    _never_whole(table)


def test_a_back_office_notice_shows_the_same_masked_numbers(engine, hall, cli_env) -> None:  # type: ignore[no-untyped-def]
    from window_terminal.core import review

    case = _case(engine, hall)
    task = tasks_of(engine, case.id)["SCJG"]
    review.claim(engine, hall.id, task.id, actor="R001")
    *_, number = approve(engine, hall.id, task.id, "R001")["documents"]  # the decision, the notice
    text = wt(cli_env, "doc", "show", number)
    assert MASKED_ID in text and MASKED_PHONE in text
    _never_whole(text, wt(cli_env, "doc", "show", number, "--json"))


def test_the_overdue_report_csv_masks_the_same_way(engine, hall, cli_env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    case = _case(engine, hall)
    set_clock_to(ACCEPTED + timedelta(days=90))  # long past the promised date: a red light
    out = tmp_path / "overdue.csv"
    wt(cli_env, "report", "overdue", "-f", "csv", "-o", str(out))
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = [row for row in csv.reader(fh) if case.case_no in row]
    assert rows and all(MASKED_NAME in row and MASKED_PHONE in row for row in rows)
    _never_whole(out.read_text(encoding="utf-8-sig"))
    assert NAME not in out.read_text(encoding="utf-8-sig")


def test_the_back_office_screen_shows_the_same_masked_applicant(sqlite_url, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.test_backoffice_screen import settle
    from window_terminal.app import make_app
    from window_terminal.config import load_settings
    from window_terminal.core.hall import resolve_hall
    from window_terminal.db.engine import make_engine

    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    engine = make_engine(sqlite_url)
    hall = resolve_hall(engine, None)
    _case(engine, hall)
    app = make_app(
        "backoffice",
        settings=load_settings(database_url=sqlite_url),
        engine=engine,
        hall=hall,
        now=lambda: datetime(2026, 3, 2, 10, 0),
        department="SCJG",
        staff_code="R001",
    )

    async def inner() -> str:
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            screen = app.screen
            table = screen.query_one("#tasks")
            row = " ".join(str(cell) for cell in table.get_row_at(0))
            detail = str(screen.query_one("#detail").render())
            return row + "\n" + detail

    shown = asyncio.run(inner())
    engine.dispose()
    assert MASKED_NAME in shown and f"{MASKED_NAME}  {MASKED_ID}" in shown, shown
    _never_whole(shown)
    assert NAME not in shown


def test_the_hall_tv_view_carries_no_personal_data(engine, hall) -> None:  # type: ignore[no-untyped-def]
    from window_terminal.core.hallview import load_view

    _case(engine, hall)
    view = repr(vars(load_view(engine, hall.id)))
    for value in (ID_NUMBER, PHONE, NAME, MASKED_ID, MASKED_PHONE, MASKED_NAME):
        assert value not in view
