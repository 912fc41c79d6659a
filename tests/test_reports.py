"""Supervisor reports: figures against hand-computed values, each file format read back, CLI bad input."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from window_terminal.core.hall import HallRef
from window_terminal.core.queueing import queue_key_at
from window_terminal.core.reports import formats
from window_terminal.core.reports.queries import (
    clerk_report,
    overdue_report,
    period_report,
)
from window_terminal.db.models import (
    Case,
    Document,
    Event,
    Line,
    Rating,
    Rectification,
    ReviewTask,
    ServiceItem,
    Staff,
    Ticket,
    Visit,
    Window,
)

DAY = date(2026, 11, 20)  # a Friday; the hall is UTC+8, so 09:00 local = 01:00 UTC


def utc(hour: int, minute: int = 0, day: int = 20) -> datetime:
    return datetime(2026, 11, day, hour, minute)


def _seed(engine: Engine, hall: HallRef) -> dict[str, int]:
    with Session(engine) as s:
        lines = {ln.code: ln for ln in s.exec(select(Line).where(Line.hall_id == hall.id)).scalars()}
        windows = {w.number: w.id for w in s.exec(select(Window).where(Window.hall_id == hall.id)).scalars()}
        clerks = (
            s.exec(select(Staff).where(Staff.hall_id == hall.id, Staff.role == "clerk").order_by(Staff.code))
            .scalars()
            .all()
        )
        item = s.exec(select(ServiceItem).where(ServiceItem.hall_id == hall.id)).scalars().first()
        biz, food = lines["BIZ"], lines["FOOD"]

        def ticket(
            line,
            seq,
            issued,
            status,
            called=None,
            started=None,
            finished=None,
            window=None,
            staff=None,
            transfers=0,
            day=DAY,
            latest_call=None,
        ):
            s.add(
                Ticket(
                    hall_id=hall.id,
                    service_day=day,
                    line_id=line.id,
                    original_line_id=line.id,
                    line_code_at_issue=line.code,
                    seq=seq,
                    number=f"{line.prefix}{seq:03d}",
                    eligible_at=issued,
                    queue_key=queue_key_at(issued),
                    status=status,
                    issued_at=issued,
                    called_at=latest_call or called,  # a recall or a call-back moves called_at only
                    first_called_at=called,
                    started_at=started,
                    finished_at=finished,
                    window_id=windows[window] if window else None,
                    staff_id=staff.id if staff else None,
                    transfer_count=transfers,
                )
            )

        a, b = clerks[0], clerks[1]
        ticket(biz, 1, utc(1, 0), "done", utc(1, 10), utc(1, 11), utc(1, 21), 1, a)  # wait 10, service 10
        # The wait is measured from the FIRST call: recalls and call-backs move called_at, not the wait.
        # recalled at 01:45 → still a wait of 30 (15 more would be counted from the latest call)
        ticket(biz, 2, utc(1, 5), "done", utc(1, 35), utc(1, 36), utc(1, 56), 1, a, latest_call=utc(1, 45))
        # recalled three times, the last at 01:31, then a no-show: wait 5, not 11
        ticket(
            biz, 3, utc(1, 20), "no_show", utc(1, 25), window=2, staff=b, transfers=1, latest_call=utc(1, 31)
        )
        ticket(biz, 4, utc(2, 0), "cancelled")
        # parked and called back at 02:40: wait 2, not 30; service 40 from the first start
        ticket(food, 1, utc(2, 10), "done", utc(2, 12), utc(2, 12), utc(2, 52), 2, b, latest_call=utc(2, 40))
        ticket(
            biz,
            1,
            utc(1, 0, day=19),
            "done",
            utc(1, 1, day=19),
            utc(1, 1, day=19),
            utc(1, 2, day=19),
            1,
            a,
            day=date(2026, 11, 19),
        )  # another day: must not count

        quick = (
            s.exec(select(ServiceItem).where(ServiceItem.hall_id == hall.id, ServiceItem.promised_days <= 2))
            .scalars()
            .first()
        )

        def case(n, status, **kw):  # type: ignore[no-untyped-def]
            c = Case(
                hall_id=hall.id,
                case_no=f"JJ20261120-{n:04d}",
                query_code=f"Q{n}",
                item_id=kw.pop("item_id", item.id),
                status=status,
                applicant_name="张三丰",
                phone="13812345678",
                received_at=utc(1),
                received_on=kw.pop("received_on", DAY),
                staff_id=a.id,
                **kw,
            )
            s.add(c)
            s.flush()
            return c

        c1 = case(
            1,
            "completed",
            outcome="accepted",
            accepted_on=DAY,
            accepted_at=utc(1),
            decided_at=utc(5),
            decision="approved",
            completed_at=utc(7),
        )
        case(
            2,
            "accepted",
            outcome="deficiency",
            accepted_on=DAY,
            accepted_at=utc(1),
            supplement_deadline=DAY,
            promised_date=date(2026, 11, 19),
        )  # supplement overdue; the stale stored promised date is ignored: green by its real deadline
        c3 = case(
            3,
            "completed",
            outcome="commitment",
            commitment=True,
            accepted_on=DAY,
            accepted_at=utc(1),
            decided_at=utc(6),
            decision="refused",
            completed_at=utc(8),
        )
        c4 = case(4, "not_accepted", outcome="not_accepted")
        c5 = case(5, "notice_issued", notice_breach=True)
        c6 = case(
            6,
            "in_review",
            outcome="accepted",
            accepted_on=DAY,
            accepted_at=utc(1),
            item_id=quick.id,
            promised_date=date(2026, 11, 23),
        )  # a quick item (at most 2 working days) accepted today: yellow
        case(
            7,
            "in_review",
            outcome="accepted",
            item_id=quick.id,
            received_on=date(2026, 11, 2),
            accepted_on=date(2026, 11, 2),
            accepted_at=utc(1),
        )  # accepted weeks ago on a quick item: red
        s.add(Visit(hall_id=hall.id, case_id=c1.id, purpose="submit", at=utc(1)))
        s.add(Visit(hall_id=hall.id, case_id=c3.id, purpose="submit", at=utc(1)))
        s.add(Visit(hall_id=hall.id, case_id=c3.id, purpose="pickup", at=utc(8)))
        for n, (kind, cid, payload) in enumerate(
            [
                ("non_acceptance_notice", c4.id, {"reason_kind": "not_competent"}),
                ("one_time_notice", c5.id, {}),
                ("one_time_notice", c5.id, {}),
            ]
        ):
            s.add(
                Document(
                    hall_id=hall.id, number=f"D{n}", kind=kind, case_id=cid, payload=payload, issued_at=utc(3)
                )
            )
        # a breach counts on the day of its event (the override), not on the day of receipt
        from window_terminal.db.models import Event

        for n, at in ((1, utc(3)), (2, utc(3, day=21))):
            s.add(
                Event(
                    hall_id=hall.id,
                    seq=90_000 + n,
                    kind="case.notice_breach",
                    payload={"case_no": c5.case_no, "route": "second_notice"},
                    created_at=at,
                )
            )
        dept_id = s.exec(select(ServiceItem.id)).first()  # any department id below
        from window_terminal.db.models import Department

        dept_id = s.exec(select(Department.id).where(Department.hall_id == hall.id)).scalars().first()
        s.add(ReviewTask(hall_id=hall.id, case_id=c6.id, department_id=dept_id, created_at=utc(4)))
        ratings = [Rating(hall_id=hall.id, level=lvl, staff_id=a.id, at=utc(9)) for lvl in (5, 5, 1)]
        s.add_all(ratings)
        s.flush()
        s.add(
            Rectification(
                hall_id=hall.id, rating_id=ratings[2].id, due_date=date(2026, 12, 11), opened_at=utc(9)
            )
        )
        s.commit()
        return {"clerk_a": a.code}


@pytest.fixture
def seeded(engine: Engine, hall: HallRef) -> dict[str, int]:
    return _seed(engine, hall)


def test_daily_queue_figures_match_hand_computed_values(engine: Engine, hall: HallRef, seeded) -> None:
    report = period_report(engine, hall.id, DAY, DAY)
    (total,) = report.table("queue_total").rows
    assert (total["issued"], total["served"], total["no_show"], total["transferred"], total["cancelled"]) == (
        5,
        3,
        1,
        1,
        1,
    )
    # waits 2, 5, 10, 30 min; service 10, 20, 40 min (percentiles interpolated like percentile_cont)
    assert total["wait_mean_min"] == 11.75
    assert total["wait_median_min"] == 7.5
    assert total["wait_p90_min"] == 24.0
    assert total["wait_max_min"] == 30.0
    assert total["service_mean_min"] == 23.33
    assert total["service_median_min"] == 20.0
    assert total["service_p90_min"] == 36.0
    assert total["service_max_min"] == 40.0
    assert total["within_target_pct"] == 66.7  # 2 of 3 served waited ≤ 20 min
    by_line = {r["line"]: r for r in report.table("by_line").rows}
    assert by_line["BIZ"]["issued"] == 4 and by_line["FOOD"]["issued"] == 1
    assert by_line["FOOD"]["wait_median_min"] == 2.0
    by_window = {r["window"]: r["issued"] for r in report.table("by_window").rows}
    assert by_window[1] == 2 and by_window[2] == 2
    hours = {r["hour"]: (r["arrivals"], r["served_in_hour"]) for r in report.table("by_hour").rows}
    assert hours == {"09:00": (3, 2), "10:00": (2, 1)}


def test_daily_case_figures_match_hand_computed_values(engine: Engine, hall: HallRef, seeded) -> None:
    report = period_report(engine, hall.id, DAY, DAY)
    cases = {r["figure"]: r["value"] for r in report.table("cases").rows}
    assert cases["accepted"] == 4
    assert cases["notices"] == 2
    assert cases["notice_breaches"] == 1
    assert cases["deficiency_acceptances"] == 1
    assert cases["overdue_supplements"] == 1
    assert cases["commitments"] == 1
    assert cases["not_accepted"] == 1
    assert cases["handoffs"] == 1
    assert (cases["decided"], cases["refused"], cases["completed"]) == (2, 1, 2)
    assert (cases["overdue_yellow"], cases["overdue_red"]) == (1, 1)
    assert cases["one_visit_cases"] == 1 and cases["one_visit_rate_pct"] == 50.0  # the pickup counts
    assert cases["open_rectifications"] == 1
    assert report.table("non_acceptance").rows[0]["reason_kind"] == "not_competent"
    levels = {r["level"]: r["count"] for r in report.table("ratings").rows}
    assert levels == {5: 2, 4: 0, 3: 0, 2: 0, 1: 1}


def test_clerk_and_overdue_reports_name_the_right_people(engine: Engine, hall: HallRef, seeded) -> None:
    clerks = {r["clerk"]: r for r in clerk_report(engine, hall.id, DAY, DAY).tables[0].rows}
    a = clerks[seeded["clerk_a"]]
    assert (a["issued"], a["served"], a["cases_accepted"], a["ratings"], a["bad_ratings"]) == (2, 2, 4, 3, 1)
    masked = overdue_report(engine, hall.id).tables[0].rows
    assert {r["case_no"] for r in masked} >= {"JJ20261120-0002", "JJ20261120-0007"}
    assert [(r["phone"], r["applicant"]) for r in masked] == [("138****5678", "张**")] * len(masked)
    plain = overdue_report(engine, hall.id, include_personal_data=True).tables[0].rows
    assert any(r["applicant"] == "张三丰" for r in plain)


def test_a_day_without_data_gives_empty_tables(engine: Engine, hall: HallRef) -> None:
    report = period_report(engine, hall.id, date(2026, 1, 5), date(2026, 1, 5))
    assert report.table("by_line").rows == [] and report.table("by_hour").rows == []
    assert report.table("queue_total").rows == []


def test_each_format_reads_back(engine: Engine, hall: HallRef, seeded, tmp_path) -> None:
    from openpyxl import load_workbook

    report = period_report(engine, hall.id, DAY, DAY)
    path = tmp_path / "day.csv"
    formats.write_csv(report, path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    head = rows.index(["# 排队总览"])
    assert rows[head + 1][0] == "取号" and rows[head + 2][:2] == ["5", "3"]

    formats.write_json(report, tmp_path / "day.json")
    data = json.loads((tmp_path / "day.json").read_text(encoding="utf-8"))
    assert data["tables"]["queue_total"]["rows"][0]["wait_median_min"] == 7.5
    assert data["date_from"] == "2026-11-20"

    formats.write_xlsx(report, tmp_path / "day.xlsx")
    wb = load_workbook(tmp_path / "day.xlsx")
    # the layout (title block, sheets, print set-up) is checked in test_report_files.py
    cells = {c.value: c for row in wb["概况"].iter_rows() for c in row if c.value is not None}
    issued = cells["取号"]
    assert wb["概况"].cell(issued.row, issued.column + 1).value == 5


def _wt(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "wt"), *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_cli_bad_input_exits_2_with_a_clear_message(cli_env: dict[str, str], tmp_path) -> None:
    bad_date = _wt(cli_env, "report", "daily", "--date", "2026-13-40")
    assert bad_date.returncode == 2 and "YYYY-MM-DD" in bad_date.stderr
    backwards = _wt(cli_env, "report", "range", "--from", "2026-11-20", "--to", "2026-11-01")
    assert backwards.returncode == 2 and "swap" in backwards.stderr
    hall = _wt(cli_env, "--hall", "nowhere", "report", "daily", "--date", "2026-11-20")
    assert hall.returncode == 2 and "nowhere" in hall.stderr
    out = _wt(
        cli_env, "report", "daily", "--date", "2026-11-20", "-f", "csv", "-o", str(tmp_path / "no" / "x.csv")
    )
    assert out.returncode == 2 and "does not exist" in out.stderr


def test_cli_exports_an_empty_day_and_audits_personal_data(
    cli_env: dict[str, str], engine: Engine, hall: HallRef, tmp_path
) -> None:
    target = tmp_path / "empty.json"
    done = _wt(cli_env, "report", "daily", "--date", "2026-01-05", "-f", "json", "-o", str(target))
    assert done.returncode == 0, done.stderr
    assert json.loads(target.read_text(encoding="utf-8"))["tables"]["by_line"]["rows"] == []
    done = _wt(
        cli_env, "report", "overdue", "-f", "json", "-o", str(tmp_path / "o.json"), "--include-personal-data"
    )
    assert done.returncode == 0, done.stderr
    with Session(engine) as s:
        kinds = s.exec(select(Event.kind).where(Event.hall_id == hall.id)).scalars().all()
    assert "report.personal_data_exported" in kinds


def test_the_overdue_table_shows_words_on_screen_and_keeps_codes_in_files(
    engine: Engine, hall: HallRef, seeded, tmp_path
) -> None:
    from rich.console import Console

    from window_terminal.commands import report_tables
    from window_terminal.core.supervision import KIND_LABELS

    report = overdue_report(engine, hall.id)
    rows = report.tables[0].rows
    assert rows and {r["light"] for r in rows} == {"red"}
    console = Console(record=True, width=200)
    console.print(report_tables.rich_tables(report))
    screen = console.export_text()
    assert "红灯" in screen and all(KIND_LABELS[r["kind"]][0] in screen for r in rows)
    assert " red " not in screen and not any(f" {r['kind']} " in screen for r in rows)
    formats.write_csv(report, tmp_path / "overdue.csv")
    with open(tmp_path / "overdue.csv", encoding="utf-8-sig", newline="") as fh:
        sections: list[list[list[str]]] = [[]]  # the heading, the list, then the case counts
        for row in csv.reader(fh):
            sections[-1].append(row) if row else sections.append([])
    listed = {row[0] for row in sections[1]}
    assert listed & {"red", "yellow", "红灯", "黄灯"} == {"red"}
    counted = {row[0]: row[1] for row in sections[2][2:]}  # after its title and header rows
    assert counted["red"] == str(len({r["case_no"] for r in rows})) and counted["yellow"] == "0"


def test_good_rates_count_level_three_as_good_by_line_window_and_clerk(
    engine: Engine, hall: HallRef, seeded
) -> None:
    # Two more ratings, tied to BIZ A001 of the day (window 1, clerk a): a 3 (基本满意: good) and a 2.
    with Session(engine) as s:
        biz = s.exec(select(Line).where(Line.hall_id == hall.id, Line.code == "BIZ")).scalars().one()
        a001 = (
            s.exec(select(Ticket).where(Ticket.line_id == biz.id, Ticket.seq == 1, Ticket.service_day == DAY))
            .scalars()
            .one()
        )
        clerk = s.exec(select(Staff).where(Staff.code == seeded["clerk_a"])).scalars().one()
        s.add(
            Rating(
                hall_id=hall.id,
                level=3,
                ticket_id=a001.id,
                window_id=a001.window_id,
                staff_id=clerk.id,
                at=utc(9),
            )
        )
        s.add(Rating(hall_id=hall.id, level=2, window_id=a001.window_id, staff_id=clerk.id, at=utc(9, 5)))
        s.add(
            Rating(hall_id=hall.id, level=5, staff_id=clerk.id, at=utc(1, day=21))
        )  # the next day: not counted
        s.commit()
    report = period_report(engine, hall.id, DAY, DAY)
    head = {r["figure"]: r["value"] for r in report.table("headline").rows}
    assert (head["ratings"], head["good_rate_pct"]) == (5, 60.0)  # 5, 5, 3 good of 5, 5, 1, 3, 2
    by_clerk = {r["clerk"]: r for r in report.table("by_clerk").rows}
    assert (by_clerk[seeded["clerk_a"]]["ratings"], by_clerk[seeded["clerk_a"]]["good_rate_pct"]) == (5, 60.0)
    by_line = {r["line"]: r for r in report.table("by_line").rows}
    assert (by_line["BIZ"]["ratings"], by_line["BIZ"]["good_rate_pct"]) == (
        1,
        100.0,
    )  # only the 3 has a ticket
    assert (by_line["FOOD"]["ratings"], by_line["FOOD"]["good_rate_pct"]) == (0, None)
    by_window = {r["window"]: r for r in report.table("by_window").rows}
    assert (by_window[1]["ratings"], by_window[1]["good_rate_pct"]) == (2, 50.0)
    assert (by_window[2]["ratings"], by_window[2]["good_rate_pct"]) == (0, None)
    # the 合计 rows are the hall's own figures, not averages of the rows above
    total = report.table("by_line").total
    assert (total["issued"], total["wait_median_min"], total["ratings"], total["good_rate_pct"]) == (
        5,
        7.5,
        5,
        60.0,
    )
    hours = report.table("by_hour").total
    assert (hours["arrivals"], hours["served_in_hour"], hours["wait_max_min"]) == (5, 3, 30.0)
    levels = report.table("ratings")
    assert {r["level"]: r["count"] for r in levels.rows} == {5: 2, 4: 0, 3: 1, 2: 1, 1: 1}
    assert (levels.total["count"], levels.total["pct"]) == (5, 100.0)


def test_every_total_row_is_the_whole_hall_s_own_figure(engine: Engine, hall: HallRef, seeded) -> None:
    """The 合计 rows, exactly: the hall's queue row (a median of the hall, not of the rows above),
    the headline's ratings, the sums of arrivals and services by hour, of ratings and refusals."""
    report = period_report(engine, hall.id, DAY, DAY)
    (hall_row,) = report.table("queue_total").rows
    head = {r["figure"]: r["value"] for r in report.table("headline").rows}
    assert (head["ratings"], head["good_rate_pct"]) == (3, 66.7)  # 5, 5 and 1
    for key, first in (("by_line", "line"), ("by_window", "window"), ("by_clerk", "clerk")):
        assert report.table(key).total == {first: "全厅合计", **hall_row, "ratings": 3, "good_rate_pct": 66.7}
    assert report.table("by_hour").total == {
        "hour": "全厅合计",
        "arrivals": 5,
        "served_in_hour": 3,
        "wait_mean_min": 11.75,
        "wait_median_min": 7.5,
        "wait_p90_min": 24.0,
        "wait_max_min": 30.0,
    }
    assert report.table("ratings").total == {"label": "合计", "count": 3, "pct": 100.0}
    assert report.table("non_acceptance").total == {"label": "合计", "count": 1}
    empty = period_report(engine, hall.id, date(2026, 1, 5), date(2026, 1, 5))
    assert [empty.table(k).total for k in ("by_line", "by_window", "by_clerk", "by_hour")] == [None] * 4
    assert empty.table("ratings").total == {"label": "合计", "count": 0, "pct": None}
    assert empty.table("non_acceptance").total == {"label": "合计", "count": 0}


def test_every_open_case_shows_red_once_its_deadline_is_long_past(
    engine: Engine, hall: HallRef, seeded
) -> None:
    """Sixty days on, the seed's three open accepted cases (one accepted, two in review) are all red;
    the decided, refused and unaccepted ones are not counted."""
    later = DAY + timedelta(days=60)
    cases = {
        r["figure"]: r["value"] for r in period_report(engine, hall.id, later, later).table("cases").rows
    }
    assert (cases["overdue_yellow"], cases["overdue_red"]) == (0, 3)


def test_the_line_window_and_clerk_tables_end_with_ratings_and_good_rate_in_both_languages(
    engine: Engine, hall: HallRef, seeded
) -> None:
    from window_terminal.i18n import language, set_language

    before = language()
    try:
        for lang, headers in (("zh", ("评价数", "好评率%")), ("en", ("ratings", "good %"))):
            set_language(lang)
            report = period_report(engine, hall.id, DAY, DAY)
            for key, first in (("by_line", "line"), ("by_window", "window"), ("by_clerk", "clerk")):
                columns = report.table(key).columns
                assert columns[0][0] == first and len({k for k, _ in columns}) == len(columns)
                assert columns[-2:] == [("ratings", headers[0]), ("good_rate_pct", headers[1])]
    finally:
        set_language(before)


def test_the_total_rows_are_labelled_in_english_too(engine: Engine, hall: HallRef, seeded) -> None:
    from window_terminal.i18n import language, set_language

    before = language()
    set_language("en")
    try:
        report = period_report(engine, hall.id, DAY, DAY)
    finally:
        set_language(before)
    labels = [report.table("by_line").total["line"], report.table("by_hour").total["hour"]]
    labels += [report.table("ratings").total["label"], report.table("non_acceptance").total["label"]]
    assert labels == ["whole hall", "whole hall", "total", "total"]
