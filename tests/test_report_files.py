"""Report files a supervisor hands upward: the workbook's structure and figures, the PDF's text, the
headline indicators against hand-computed values, and the printed page count through LibreOffice."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from sqlalchemy import Engine

from tests.test_reports import DAY, _seed
from window_terminal.core.hall import HallRef
from window_terminal.core.reports import formats
from window_terminal.core.reports.printable import cell_words
from window_terminal.core.reports.queries import month_period, overdue_report, period_report
from window_terminal.core.reports.workbook import PERCENT, shown_value


@pytest.fixture
def seeded(engine: Engine, hall: HallRef) -> dict[str, int]:
    return _seed(engine, hall)


def test_headline_indicators_match_hand_computed_values(engine: Engine, hall: HallRef, seeded) -> None:
    report = period_report(engine, hall.id, DAY, DAY)
    head = {r["figure"]: r["value"] for r in report.table("headline").rows}
    # ratings 5, 5, 1: two good of three; the one bad rating's rectification is still open
    assert (head["ratings"], head["good_rate_pct"], head["bad_ratings"]) == (3, 66.7, 1)
    assert head["rectified_pct"] == 0.0 and head["rectified_on_time_pct"] is None
    assert head["rating_coverage_pct"] == 100.0  # 3 ratings over 3 served tickets
    assert head["one_visit_rate_pct"] == 50.0 and head["within_target_pct"] == 66.7
    # both cases decided on the day they were accepted: ahead of their promised dates
    assert (head["decided"], head["promised_ahead"], head["promised_on"], head["promised_past"]) == (
        2,
        2,
        0,
        0,
    )
    assert head["notice_breaches"] == 1
    # case 5's notices came the same day: no deemed acceptance; nothing received without a notice
    assert head["deemed_acceptances"] == 0
    depts = report.table("by_department")
    accepted = {r["figure"]: r["value"] for r in report.table("cases").rows}["accepted"]
    assert sum(r["accepted"] for r in depts.rows) == accepted == 4  # by department, none lost
    assert depts.total is not None and depts.total["decided"] == 2
    clerks = {r["clerk"]: r for r in report.table("by_clerk").rows}
    assert clerks[seeded["clerk_a"]]["good_rate_pct"] == 66.7


def test_month_period_covers_the_calendar_month() -> None:
    from datetime import date

    assert month_period(date(2026, 2, 14)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert month_period(date(2026, 12, 31)) == (date(2026, 12, 1), date(2026, 12, 31))


def _cells(ws) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {str(c.value): c for row in ws.iter_rows() for c in row if c.value is not None}


def test_the_workbook_is_fit_to_hand_over(engine: Engine, hall: HallRef, seeded, tmp_path) -> None:
    from openpyxl import load_workbook

    report = period_report(engine, hall.id, DAY, DAY, kind="daily")
    formats.write_xlsx(report, tmp_path / "day.xlsx")
    formats.write_json(report, tmp_path / "day.json")
    data = json.loads((tmp_path / "day.json").read_text(encoding="utf-8"))
    wb = load_workbook(tmp_path / "day.xlsx")
    assert wb.sheetnames == ["概况", "分组统计", "按时段"]
    for ws in wb.worksheets:
        # a supervisor sees which hall, which report and when, on every sheet and every printed page
        assert "日报" in ws["A1"].value and report.hall_name in ws["A1"].value
        assert "2026-11-20" in ws["A2"].value and "数据库时钟" in ws["A3"].value and "脱敏" in ws["A3"].value
        assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
        assert ws.print_title_rows and ws.freeze_panes
    overview = wb["概况"]
    cells = _cells(overview)
    # every headline figure is on the sheet beside its Chinese label, with the same value as the JSON
    for row in data["tables"]["headline"]["rows"]:
        label = cells[row["label"]]
        value = overview.cell(label.row, label.column + 1)
        assert value.value == ("—" if row["value"] is None else row["value"])
        if row["unit"] == "pct" and row["value"] is not None:
            assert value.number_format == PERCENT
    # the 办件 sheet shows labels, never the English keys
    assert "accepted" not in cells and "notice_breaches" not in cells and "受理" in cells
    assert cells["违反一次性告知"] and cells["最多跑一次率%"]
    groups = wb["分组统计"]
    totals = [c for c in groups["A"] if c.value == "全厅合计"]
    assert len(totals) == 3 and all(c.font.b for c in totals)  # line, window, clerk
    assert "按部门" in _cells(groups)
    hours = wb["按时段"]
    assert len(hours._charts) == 1
    chart = hours._charts[0]
    anchor_row = chart.anchor._from.row + 1
    assert anchor_row > max(c.row for c in hours["A"] if c.value is not None)  # below the table, not beside


def test_the_overdue_sheet_is_coloured_and_in_words(engine: Engine, hall: HallRef, seeded, tmp_path) -> None:
    from openpyxl import load_workbook

    report = overdue_report(engine, hall.id)
    formats.write_xlsx(report, tmp_path / "overdue.xlsx")
    ws = load_workbook(tmp_path / "overdue.xlsx").worksheets[0]
    reds = [c for c in ws["A"] if c.value == "红灯"]
    assert len(reds) == len(report.tables[0].rows)
    assert all(c.fill.fgColor.rgb.endswith("FFC7CE") for c in reds)
    words = {c.value for c in ws["B"]}
    assert "办件" in words and "case" not in words and "red" not in {c.value for c in ws["A"]}
    assert "否" in {c.value for c in ws["H"]}  # 暂定 is 是/否, not True/False


def test_the_pdf_carries_the_json_figures(engine: Engine, hall: HallRef, seeded, tmp_path) -> None:
    from pypdf import PdfReader

    report = period_report(engine, hall.id, DAY, DAY, kind="daily")
    formats.write_pdf(report, tmp_path / "day.pdf")
    reader = PdfReader(tmp_path / "day.pdf")
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height)  # landscape
    assert round(float(box.width)) == 842 and round(float(box.height)) == 595  # A4
    first = reader.pages[0].extract_text().replace(" ", "")
    assert "服务大厅日报" in first and "2026-11-20" in first
    headline = report.table("headline")
    for row in headline.rows:  # every indicator on page 1, as the JSON has it
        assert row["label"].replace(" ", "") in first
        assert cell_words(headline, row, "value") in first
    rest = "".join(p.extract_text() for p in reader.pages[1:]).replace(" ", "")
    for key in ("by_line", "cases", "ratings", "by_department"):
        table = report.table(key)
        assert table.title.replace(" ", "") in rest
        for row in table.rows:
            label = shown_value(table, row, "label" if "label" in row else table.columns[0][0])
            assert str(label).replace(" ", "") in rest


def test_cli_writes_pdf_and_month(cli_env: dict[str, str], tmp_path) -> None:
    from tests.test_reports import _wt

    done = _wt(
        cli_env,
        "report",
        "range",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        "-f",
        "pdf",
        "-o",
        str(tmp_path / "r.pdf"),
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    month = _wt(cli_env, "report", "month", "--month", "2026-11", "-f", "json")
    assert month.returncode == 0, month.stderr
    data = json.loads(month.stdout)
    assert (data["date_from"], data["date_to"], data["kind"]) == ("2026-11-01", "2026-11-30", "month")
    assert "headline" in data["tables"]
    bad = _wt(cli_env, "report", "month", "--month", "2026-13")
    assert bad.returncode == 2 and "YYYY-MM" in bad.stderr
    need_out = _wt(cli_env, "report", "daily", "-f", "pdf")
    assert need_out.returncode == 2 and "--out" in need_out.stderr


@pytest.mark.skipif(
    shutil.which("libreoffice") is None, reason="LibreOffice is not installed (libreoffice-calc-nogui)"
)
def test_the_demo_daily_workbook_prints_on_at_most_four_a4_landscape_pages(sqlite_url: str, tmp_path) -> None:
    from pypdf import PdfReader
    from sqlalchemy import select

    from tests.conftest import QUEUE
    from window_terminal.core.demo import build_demo
    from window_terminal.db.engine import make_engine, read_session
    from window_terminal.db.models import Hall, Ticket

    engine = make_engine(sqlite_url)
    build_demo(engine, QUEUE, days=2)
    with read_session(engine) as s:
        hall_id = s.execute(select(Hall.id)).scalar_one()
        day = (
            s.execute(select(Ticket.service_day).where(Ticket.status == "done").order_by(Ticket.service_day))
            .scalars()
            .first()
        )
    report = period_report(engine, hall_id, day, day, kind="daily")
    assert report.table("queue_total").rows[0]["issued"] > 100  # a real day of the demo hall
    formats.write_xlsx(report, tmp_path / "day.xlsx")
    subprocess.run(
        [
            "libreoffice",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(tmp_path / "day.xlsx"),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pages = PdfReader(tmp_path / "day.pdf").pages
    assert 1 <= len(pages) <= 4
    for page in pages:
        assert float(page.mediabox.width) > float(page.mediabox.height)  # landscape
        assert round(float(page.mediabox.width)) == 842  # A4
    text = "".join(p.extract_text() for p in pages)
    assert "主要指标" in text and "按时段" in text and "全厅合计" in text


def test_the_demo_history_is_what_the_rules_make(sqlite_url: str) -> None:
    """A newcomer's demo: several days of cases whose notices, materials and dates agree with the rules
    (the issue found 容缺 notices listing 0 items, +20 days for every item, no material rows)."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from tests.conftest import QUEUE
    from window_terminal.core.deadlines import HallDeadlines
    from window_terminal.core.demo import build_demo
    from window_terminal.db.engine import make_engine, read_session
    from window_terminal.db.models import (
        Case,
        CaseMaterial,
        Document,
        Event,
        Hall,
        ReviewTask,
        ServiceItem,
        Ticket,
        Visit,
    )

    engine = make_engine(sqlite_url)
    build_demo(engine, QUEUE, days=3)
    with read_session(engine) as s:
        hall_id = s.execute(select(Hall.id)).scalar_one()
        cases = s.execute(select(Case)).scalars().all()
        days = sorted({c.received_on for c in cases})
        assert len(days) >= 3  # several days of history, not one
        deadlines = HallDeadlines.load(s, hall_id)
        items = {i.id: i for i in s.execute(select(ServiceItem)).scalars()}
        for case in cases:
            materials = s.execute(
                select(func.count()).select_from(CaseMaterial).where(CaseMaterial.case_id == case.id)
            ).scalar_one()
            assert materials > 0, case.case_no  # the back office's 材料 panel is never empty
            assert s.execute(
                select(func.count()).select_from(Visit).where(Visit.case_id == case.id)
            ).scalar_one()
            if case.accepted_on is not None:
                expected = deadlines.of_case(case, items[case.item_id])
                assert case.statutory_date == expected.statutory.date, case.case_no  # the item's own limit
        documents = s.execute(select(Document)).scalars().all()
        kinds = {d.kind for d in documents}
        assert {"acceptance_notice", "one_time_notice", "non_acceptance_notice"} <= kinds
        for d in documents:
            if d.kind == "deficiency_acceptance_notice":
                assert d.payload["materials_deferred"], d.number  # never "尚欠缺下列0项"
            if d.kind == "one_time_notice":
                assert d.payload["materials_missing"], d.number
            if d.kind == "non_acceptance_notice":
                # no applicant is sent to an office that has nothing to do with the item
                assert d.payload["reason_kind"] == "no_licence_needed" or d.payload["competent_office"]
        assert s.execute(select(func.count()).select_from(ReviewTask)).scalar_one() > 0
        # The queue's history was played through the queue engine: every ticket's life is in the event
        # log every screen follows (a bulk insert of ticket rows left the log with none of it).
        tickets = s.execute(select(Ticket.id, Ticket.status, Ticket.transfer_count)).all()
        events: dict[str, set[int]] = {}
        for kind, payload in s.execute(select(Event.kind, Event.payload).where(Event.kind.like("ticket.%"))):
            events.setdefault(kind, set()).add(payload["ticket_id"])
        assert len(tickets) > 300
        assert events["ticket.issued"] == {t.id for t in tickets}
        for status, kind in (
            ("done", "ticket.finished"),
            ("no_show", "ticket.no_show"),
            ("cancelled", "ticket.cancelled"),
        ):
            ended = {t.id for t in tickets if t.status == status}
            assert ended <= events.get(kind, set()), status
            assert ended or status == "cancelled", status  # served and no-shows every day
        assert {t.id for t in tickets if t.status == "done"} <= events["ticket.started"] & events[
            "ticket.called"
        ]
        assert {t.id for t in tickets if t.transfer_count} == events["ticket.transferred"] != set()
        assert "demo.history_generated" not in {k for (k,) in s.execute(select(Event.kind).distinct())}
    report = period_report(engine, hall_id, days[0], days[-1] + timedelta(days=0), kind="range")
    head = {r["figure"]: r["value"] for r in report.table("headline").rows}
    assert head["ratings"] > 0 and head["decided"] > 0 and head["one_visit_rate_pct"] is not None
    engine.dispose()
