"""Printing stored documents: PDFs, reprints, ticket printers, failures, query by code, the preview."""

from __future__ import annotations

import asyncio
import io
import json
import re
import shutil
import socket
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from tests.conftest import QUEUE
from tests.factories import set_clock_to
from window_terminal.config import Settings
from window_terminal.core.document_store import get_document, issue_document
from window_terminal.core.documents import sample_snapshot
from window_terminal.core.documents.printing import print_document
from window_terminal.core.hall import HallRef, load_hall
from window_terminal.db.engine import read_session
from window_terminal.db.models import Case, Event, Hall, ServiceItem, Visit
from window_terminal.db.unit import Unit, run_command

KINDS = (
    "acceptance_notice",
    "one_time_notice",
    "deficiency_acceptance_notice",
    "non_acceptance_notice",
    "completion_notice",
    "refusal_notice",
    "ticket",
)
ID_NUMBER = "510104199003071237"  # valid: its check digit is right (was 123X, which fails it)


def payload_for(kind: str, **changes: Any) -> dict[str, Any]:
    payload = sample_snapshot(kind)
    if kind == "ticket":
        payload["ticket_number"] = payload["number"]  # the stored number becomes the document number
    payload.update(changes)
    return payload


def issue(engine: Engine, hall_ref: HallRef, kind: str, *, case_id: int | None = None, **changes: Any) -> str:
    return run_command(
        engine,
        hall_ref.id,
        "test.issue",
        lambda unit: issue_document(unit, kind, payload_for(kind, **changes), case_id=case_id).number,
    )


def wt(env: dict[str, str], *args: str):
    from window_terminal.cli import app

    return CliRunner().invoke(app, list(args), env=env)


def pdf_text(path: Path) -> str:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reload_hall(
    engine: Engine, tmp_path: Path, *, name: str | None = None, extra_hall: str = "", window3: str = ""
) -> None:
    """Load an edited copy of the demo hall definition (as a hall manager would after editing queue/)."""
    folder = tmp_path / "queue"
    if not folder.exists():
        shutil.copytree(QUEUE, folder)
    hall_toml = folder / "hall.toml"
    text = hall_toml.read_text(encoding="utf-8")
    if name:
        text = text.replace('name = "锦江区政务服务中心"', f'name = "{name}"', 1)
    hall_toml.write_text(text + "\n" + extra_hall, encoding="utf-8")
    if window3:
        windows = folder / "windows.toml"
        text = windows.read_text(encoding="utf-8")
        anchor = 'number = 3\nname = "3号窗口"\n'
        assert anchor in text
        windows.write_text(text.replace(anchor, anchor + window3 + "\n", 1), encoding="utf-8")
    load_hall(engine, folder)


def events(engine: Engine, hall: HallRef, kind: str) -> list[dict[str, Any]]:
    with read_session(engine) as session:
        return [
            e.payload
            for e in session.execute(
                select(Event).where(Event.hall_id == hall.id, Event.kind == kind)
            ).scalars()
        ]


# --- PDFs ------------------------------------------------------------------------------------------


def test_every_document_kind_saved_as_pdf_shows_its_number_and_applicant(engine, hall, cli_env, tmp_path):
    for kind in KINDS:
        number = issue(engine, hall, kind)
        out = tmp_path / f"{kind}.pdf"
        result = wt(cli_env, "doc", "pdf", number, "--out", str(out))
        assert result.exit_code == 0, result.output
        text = pdf_text(out)
        if kind == "ticket":  # a ticket shows its queue number; the document number is for the records
            assert "A007" in text
        else:
            assert number in text and "张晓梅" in text, kind
        if kind == "one_time_notice":
            for material in sample_snapshot(kind)["materials_missing"]:
                assert material["name"] in text


def test_wt_doc_show_prints_the_document_as_issued(engine, hall, cli_env):
    number = issue(engine, hall, "one_time_notice")
    shown = wt(cli_env, "doc", "show", number.lower())
    assert shown.exit_code == 0, shown.output
    assert number in shown.output and "张晓梅" in shown.output and "经营场所平面布局图" in shown.output
    data = json.loads(wt(cli_env, "doc", "show", number, "--json").output)
    assert data["payload"]["number"] == number and data["printed_count"] == 0
    listed = json.loads(wt(cli_env, "doc", "list", "--json").output)
    assert [d["number"] for d in listed] == [number]


def test_reprint_is_byte_identical_even_after_the_hall_is_renamed(engine, hall, tmp_path):
    with read_session(engine) as session:
        hall_name = session.get(Hall, hall.id).name
    number = issue(engine, hall, "acceptance_notice", hall=hall_name)
    first = print_document(engine, hall.id, number, target=f"pdf:{tmp_path / 'first'}", actor="C001")
    assert first.ok, first.error_text

    reload_hall(engine, tmp_path, name="锦江区政务服务中心（新址）")
    with read_session(engine) as session:
        assert session.get(Hall, hall.id).name == "锦江区政务服务中心（新址）"

    again = print_document(engine, hall.id, number, target=f"pdf:{tmp_path / 'again'}", actor="C001")
    assert again.ok, again.error_text
    assert Path(again.path_or_target).read_bytes() == Path(first.path_or_target).read_bytes()
    assert "（新址）" not in pdf_text(Path(again.path_or_target))
    document = get_document(engine, hall.id, number)
    assert document.printed_count == 2 and document.last_print_error == ""
    assert [e["number"] for e in events(engine, hall, "document.printed")] == [number, number]


def test_with_no_printer_configured_a_window_prints_pdf_files_to_the_data_folder(
    engine, hall, tmp_path, monkeypatch
):
    monkeypatch.setenv("WT_DATA_DIR", str(tmp_path / "data"))
    number = issue(engine, hall, "completion_notice")
    result = print_document(engine, hall.id, number, window=1, actor="C001")
    assert result.ok, result.error_text
    assert Path(result.path_or_target) == tmp_path / "data" / "documents" / f"{number}.pdf"


# --- ticket printers --------------------------------------------------------------------------------


def test_kiosk_and_window_ticket_printers_receive_the_ticket_number_in_gb18030(engine, hall, tmp_path):
    kiosk_file, window_file = tmp_path / "kiosk.bin", tmp_path / "window3.bin"
    reload_hall(
        engine,
        tmp_path,
        extra_hall=f'[kiosk]\nprinter = {{ kind = "escpos", target = "file:{kiosk_file}" }}\n',
        window3=f'printer = {{ kind = "escpos", target = "file:{window_file}" }}',
    )
    number = issue(engine, hall, "ticket")

    at_kiosk = print_document(engine, hall.id, number, kiosk=True, actor="C001")
    at_window = print_document(engine, hall.id, number, window=3, actor="C001")
    assert at_kiosk.ok and at_window.ok, (at_kiosk.error_text, at_window.error_text)
    for path in (kiosk_file, window_file):
        data = path.read_bytes()
        assert b"A007" in data
        assert "商事登记".encode("gb18030") in data
        assert data.endswith(b"\x1dV\x00")  # full cut last

    notice = issue(engine, hall, "acceptance_notice")
    refused = print_document(engine, hall.id, notice, kiosk=True, actor="C001")
    assert not refused.ok and "小票打印机" in refused.error_text


def test_dead_network_printer_fails_clearly_and_the_document_stays_stored(engine, hall, cli_env):
    number = issue(engine, hall, "ticket")
    target = f"network:127.0.0.1:{dead_port()}"

    result = print_document(engine, hall.id, number, target=target, actor="C001")
    assert not result.ok
    assert "127.0.0.1" in result.error_text and "打印机" in result.error_text

    document = get_document(engine, hall.id, number)
    assert document.payload["ticket_number"] == "A007"
    assert "127.0.0.1" in document.last_print_error and document.printed_count == 0
    failed = events(engine, hall, "document.print_failed")
    assert failed and failed[-1]["number"] == number and failed[-1]["printer"] == target

    cli = wt(cli_env, "doc", "print", number, "--printer", target)
    assert cli.exit_code == 2
    assert "127.0.0.1" in cli.output and "Traceback" not in cli.output

    again = wt(
        cli_env, "doc", "print", number, "--printer", "pdf:" + str(Path(cli_env["WT_DATA_DIR"]) / "out")
    )
    assert again.exit_code == 0, again.output
    assert get_document(engine, hall.id, number).last_print_error == ""


@pytest.mark.parametrize(
    "args, message",
    [
        (["doc", "show", "JINJ-SL-20990101-0001"], "没有编号为"),
        (["doc", "print", "JINJ-SL-20990101-0001"], "没有编号为"),
        (["doc", "pdf", "JINJ-SL-20990101-0001", "--out", "x.pdf"], "没有编号为"),
        (["doc", "list", "--date", "yesterday"], "2026-11-21"),
        (["case", "status", "NOPE-NOPE"], "查询码"),
    ],
)
def test_bad_input_exits_2_with_a_message(cli_env, args, message):
    result = wt(cli_env, *args)
    assert result.exit_code == 2 and message in result.output


def test_pdf_to_an_unwritable_place_exits_2_naming_the_path(engine, hall, cli_env, tmp_path):
    number = issue(engine, hall, "refusal_notice")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = wt(cli_env, "doc", "pdf", number, "--out", str(blocker / "x.pdf"))
    assert result.exit_code == 2 and str(blocker) in result.output
    assert get_document(engine, hall.id, number).number == number


# --- query by code ----------------------------------------------------------------------------------


def make_case(engine: Engine, hall: HallRef) -> tuple[str, str]:
    def action(unit: Unit) -> tuple[str, str]:
        item = (
            unit.session.execute(
                select(ServiceItem).where(ServiceItem.hall_id == unit.hall_id).order_by(ServiceItem.code)
            )
            .scalars()
            .first()
        )
        assert item is not None
        case = Case(
            hall_id=unit.hall_id,
            case_no="JJ20261121-0031",
            query_code="Q7K4M9PX",
            item_id=item.id,
            status="accepted",
            outcome="accepted",
            applicant_name="张晓梅",
            id_number=ID_NUMBER,
            phone="13812345678",
            received_at=unit.now,
            received_on=unit.today,
            accepted_at=unit.now,
            accepted_on=unit.today,
        )
        unit.session.add(case)
        unit.session.flush()
        unit.session.add(Visit(hall_id=unit.hall_id, case_id=case.id, purpose="submit", at=unit.now))
        number = issue_document(
            unit, "acceptance_notice", payload_for("acceptance_notice"), case_id=case.id
        ).number
        return case.query_code, number

    return run_command(engine, hall.id, "test.case", action)


def test_case_status_by_query_code_shows_progress_without_the_id_number(engine, hall, cli_env):
    set_clock_to(date(2026, 3, 2))  # accepted Mon Mar 2: GA-0001 promises 7 working days
    code, number = make_case(engine, hall)

    data = json.loads(wt(cli_env, "case", "status", code.lower(), "--json").output)
    assert data["case_no"] == "JJ20261121-0031" and data["status_zh"] == "已受理"
    assert data["applicant"] == "张**" and data["id_number"] == "5101**********1237"
    assert data["visits"] == 1
    assert [d["number"] for d in data["documents"]] == [number]
    # (was: a light checked to be one of the three, and only if there was a deadline at all)
    deadline = data["deadline"]
    assert (deadline["deadline"], deadline["remaining_working_days"], deadline["light"]) == (
        "2026-03-11",
        7,
        "green",
    )

    text = wt(cli_env, "case", "status", "JJ20261121-0031")
    assert text.exit_code == 0, text.output
    assert "已受理" in text.output and number in text.output
    for output in (text.output, json.dumps(data, ensure_ascii=False)):
        assert ID_NUMBER not in output and "张晓梅" not in output and "13812345678" not in output

    listed = json.loads(wt(cli_env, "doc", "list", "--case", "JJ20261121-0031", "--json").output)
    assert [d["number"] for d in listed] == [number]


# --- the preview modal --------------------------------------------------------------------------------


def test_document_preview_shows_the_text_prints_and_reports_a_dead_printer(
    engine, hall, db_url, tmp_path, monkeypatch
):
    from textual.widgets import Static

    from window_terminal.app import make_app
    from window_terminal.screens.print_dialog import DocumentPreview

    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    number = issue(engine, hall, "one_time_notice")
    pdf_path = tmp_path / "saved.pdf"

    async def settle(pilot) -> None:
        # the status screen's feed follower runs for ever: wait for the dialog's workers only
        for worker in list(pilot.app.workers):
            if worker.group.startswith("document-"):
                await worker.wait()
        await pilot.pause()

    async def run() -> None:
        app = make_app("status", settings=Settings(database_url=db_url), engine=engine, hall=hall)
        async with app.run_test(size=(120, 36)) as pilot:
            preview = DocumentPreview(
                number, target=f"pdf:{tmp_path / 'printed'}", pdf_path=pdf_path, actor="C001"
            )
            await app.push_screen(preview)
            await pilot.pause()
            await settle(pilot)
            await pilot.pause()
            shown = str(preview.query_one("#preview-text", Static).render())
            assert number in shown and "张晓梅" in shown and "食品安全管理人员健康证明" in shown

            await pilot.press("p")
            await settle(pilot)
            await pilot.pause()
            assert (tmp_path / "printed" / f"{number}.pdf").exists()
            assert "已打印" in str(preview.query_one("#preview-message", Static).render())

            await pilot.press("d")
            await settle(pilot)
            await pilot.pause()
            assert pdf_path.read_bytes().startswith(b"%PDF")

            preview.target = f"network:127.0.0.1:{dead_port()}"
            await pilot.press("p")
            await settle(pilot)
            await pilot.pause()
            message = preview.query_one("#preview-message", Static)
            assert message.has_class("error") and "127.0.0.1" in str(message.render())

            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is not preview

    asyncio.run(run())
    assert get_document(engine, hall.id, number).printed_count == 1


def test_every_document_in_the_demo_history_renders_and_names_its_case(sqlite_url):
    """A newcomer trying `wt doc print` on the demo hall gets real notices, not an error."""
    import io

    from pypdf import PdfReader
    from sqlalchemy import select

    from tests.conftest import QUEUE
    from window_terminal.core.demo import build_demo
    from window_terminal.core.documents import render_pdf
    from window_terminal.core.idcheck import check_resident_id
    from window_terminal.db.engine import make_engine, read_session
    from window_terminal.db.models import Case, Document

    engine = make_engine(sqlite_url)
    build_demo(engine, QUEUE, days=1)
    with read_session(engine) as s:
        documents = s.execute(select(Document)).scalars().all()
    kinds = {d.kind for d in documents}
    assert {"acceptance_notice", "one_time_notice"} <= kinds
    for kind in kinds:
        document = next(d for d in documents if d.kind == kind)
        text = "".join(
            page.extract_text() for page in PdfReader(io.BytesIO(render_pdf(document.payload))).pages
        )
        assert document.number in text and document.payload["case_no"] in text, kind
        # the applicant's ID number, masked as the counter prints it (made up, but a valid GB 11643 one)
        masked = document.payload["applicant"]["id_number"]
        assert re.fullmatch(r"5\d{3}\*{10}[\dX]{4}", masked) and masked in text, kind
    with read_session(engine) as s:
        numbers = s.execute(select(Case.id_number)).scalars().all()
    assert numbers and all(check_resident_id(n) == n for n in numbers)
    engine.dispose()
