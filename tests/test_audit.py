"""The audit trail (issue 13): the event log's hash chain shows any change made behind the
application's back, PostgreSQL refuses such changes outright, a request id answers only its own
command, and `wt audit` lists who did what.

A supervisor who cannot trust `wt audit verify` cannot trust any complaint's answer: each test
here tampers with a real database the way a person with database access would, and checks that
verify names the event.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tests.test_cli import wt
from window_terminal.core import queueing as q
from window_terminal.core.audit import AuditFilter, list_events, masked_payload, verify_chain
from window_terminal.db.chain import event_hash
from window_terminal.db.engine import make_engine, read_session, write_session
from window_terminal.db.models import Event, Hall, Staff, Ticket
from window_terminal.db.roles import setup_roles
from window_terminal.errors import DomainError


def _a_morning(engine, hall_id: int) -> None:
    """A few minutes at window 2 (BIZ): tickets, calls (the fast path on PostgreSQL), a transfer."""
    q.set_window_status(engine, hall_id, 2, "open", actor="C002")
    for _ in range(4):
        q.take_ticket(engine, hall_id, "BIZ", actor="C001")
    q.call_next(engine, hall_id, 2, actor="C002")
    q.start_service(engine, hall_id, 2, actor="C002")
    q.call_next(engine, hall_id, 2, actor="C002")  # finishes the first, calls the second
    q.start_service(engine, hall_id, 2, actor="C002")
    q.finish(engine, hall_id, 2, actor="C002")
    q.broadcast(engine, hall_id, '请带好身份证 "原件"\n谢谢', actor="M001")


def _seqs(engine, hall_id: int) -> list[int]:
    with read_session(engine) as s:
        return list(
            s.execute(
                select(Event.seq).where(Event.hall_id == hall_id, Event.seq.is_not(None)).order_by(Event.seq)
            )
            .scalars()
            .all()
        )


def _behind_the_back(engine, sql: str, **params) -> None:
    """Run SQL as the database's superuser would, past the append-only triggers (PostgreSQL)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.execute(text(sql), params)


def test_an_untouched_log_verifies_with_every_event_in_the_chain(engine, hall, cli_env):
    _a_morning(engine, hall.id)
    seqs = _seqs(engine, hall.id)
    report = verify_chain(engine, hall.id)
    assert report.intact, report.text("en")
    assert report.checked == len(seqs) == seqs[-1] > 10
    with read_session(engine) as s:
        head = s.execute(select(Hall.event_hash).where(Hall.id == hall.id)).scalar_one()
    assert report.head_hash == head and len(head) == 64

    done = wt(cli_env, "audit", "verify")
    assert done.returncode == 0 and f"#{seqs[-1]}" in done.stdout and "完整" in done.stdout
    # the head noted today still holds tomorrow
    wt(cli_env, "audit", "verify", "--expect", f"{report.head_seq}:{report.head_hash}")


def test_an_event_changed_behind_the_applications_back_is_named(engine, hall, cli_env):
    _a_morning(engine, hall.id)
    target = _seqs(engine, hall.id)[5]
    _behind_the_back(
        engine,
        "UPDATE event SET staff_id = COALESCE(staff_id, 0) + 1 WHERE hall_id = :h AND seq = :s",
        h=hall.id,
        s=target,
    )
    report = verify_chain(engine, hall.id)
    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq) == ("altered", target)
    checked = wt(cli_env, "audit", "verify", check=False)
    assert checked.returncode == 1
    assert f"第 #{target} 号事件" in checked.stderr and "被改动" in checked.stderr
    english = wt(cli_env, "--lang", "en", "audit", "verify", "--json", check=False)
    problem = json.loads(english.stdout)["problem"]
    assert english.returncode == 1 and problem["kind"] == "altered" and problem["seq"] == target
    assert f"event #{target}" in problem["message"]


def test_a_payload_edited_by_one_character_is_named(engine, hall):
    _a_morning(engine, hall.id)
    with read_session(engine) as s:
        called = (
            s.execute(
                select(Event.seq)
                .where(Event.hall_id == hall.id, Event.kind == "ticket.called")
                .order_by(Event.seq)
            )
            .scalars()
            .first()
        )
    # the payload's text changes (A001 → A002); JSON-equal rewrites would be caught too
    edited = "REPLACE(CAST(payload AS TEXT), 'A001', 'A002')"
    if engine.dialect.name == "postgresql":
        edited = f"CAST({edited} AS json)"
    _behind_the_back(
        engine, f"UPDATE event SET payload = {edited} WHERE hall_id = :h AND seq = :s", h=hall.id, s=called
    )
    problem = verify_chain(engine, hall.id).problem
    assert problem is not None and (problem.kind, problem.seq) == ("altered", called)


def test_a_deleted_event_is_named_in_the_middle_and_at_the_end(engine, hall):
    _a_morning(engine, hall.id)
    seqs = _seqs(engine, hall.id)
    _behind_the_back(engine, "DELETE FROM event WHERE hall_id = :h AND seq = :s", h=hall.id, s=seqs[3])
    problem = verify_chain(engine, hall.id).problem
    assert problem is not None and (problem.kind, problem.seq) == ("deleted", seqs[3])
    assert f"#{seqs[3]}" in problem.zh and f"#{seqs[4]}" in problem.en  # where, and what follows

    _behind_the_back(engine, "DELETE FROM event WHERE hall_id = :h AND seq >= :s", h=hall.id, s=seqs[2])
    problem = verify_chain(engine, hall.id).problem
    assert problem is not None and (problem.kind, problem.seq) == ("deleted", seqs[2])
    assert "end of the log" in problem.en


def test_an_inserted_event_is_named_at_the_end_and_in_the_middle(engine, hall):
    _a_morning(engine, hall.id)
    seqs = _seqs(engine, hall.id)
    last = seqs[-1]
    with read_session(engine) as s:
        prev_hash = s.execute(
            select(Event.hash).where(Event.hall_id == hall.id, Event.seq == last)
        ).scalar_one()
    forged = {
        "h": hall.id,
        "kind": "ticket.finished",
        "payload": '{"number": "A009"}',
        "at": datetime(2026, 12, 1, 9, 0, 0),
    }

    def forge(seq: int, prev: str) -> str:  # a forger who knows the format still cannot hide it
        return event_hash(
            hall_id=hall.id,
            seq=seq,
            kind=forged["kind"],
            payload=forged["payload"],
            staff_id=None,
            device=None,
            window_id=None,
            request_id=None,
            created_at=forged["at"],
            prev=prev,
        )

    insert = (
        "INSERT INTO event (hall_id, seq, kind, payload, created_at, hash)"
        " VALUES (:h, :seq, :kind, :payload, :at, :hash)"
    )
    _behind_the_back(engine, insert, seq=last + 1, hash=forge(last + 1, prev_hash), **forged)
    problem = verify_chain(engine, hall.id).problem
    assert problem is not None and (problem.kind, problem.seq) == ("inserted", last + 1)
    _behind_the_back(engine, "DELETE FROM event WHERE hall_id = :h AND seq = :s", h=hall.id, s=last + 1)
    assert verify_chain(engine, hall.id).intact

    # in the middle: everything after it moved up one place (highest first: numbers are unique)
    k = seqs[4]
    with read_session(engine) as s:
        before = s.execute(
            select(Event.hash).where(Event.hall_id == hall.id, Event.seq == k - 1)
        ).scalar_one()
    for seq in reversed(seqs[4:]):
        _behind_the_back(
            engine, "UPDATE event SET seq = seq + 1 WHERE hall_id = :h AND seq = :s", h=hall.id, s=seq
        )
    _behind_the_back(engine, insert, seq=k, hash=forge(k, before), **forged)
    _behind_the_back(engine, "UPDATE hall SET event_seq = event_seq + 1 WHERE id = :h", h=hall.id)
    problem = verify_chain(engine, hall.id).problem
    assert problem is not None and (problem.kind, problem.seq) == ("inserted", k)


@pytest.mark.postgres
def test_python_and_postgresql_hash_the_same_text_alike(pg_url):
    engine = make_engine(pg_url)
    cases = [
        dict(
            kind="ticket.called", payload='{"a": 1}', staff_id=3, device=None, window_id=7, request_id="r-1"
        ),
        dict(
            kind='odd "kind"\\',
            payload='{"text" : "请A001号到3号窗口办理", "x": "\\n\\u0001"}',
            staff_id=None,
            device="KIOSK-东门",
            window_id=None,
            request_id=None,
        ),
        dict(
            kind="k\n\t\x01\x1f",
            payload="{}",
            staff_id=None,
            device="tab\there",
            window_id=0,
            request_id="é😀",
        ),
    ]
    try:
        with engine.connect() as conn:
            for i, case in enumerate(cases):
                for at in (datetime(2026, 12, 4, 8, 0, 0), datetime(2026, 1, 2, 3, 4, 5, 60)):
                    python = event_hash(hall_id=1, seq=10 + i, created_at=at, prev="ab" * 32, **case)
                    sql = conn.execute(
                        text(
                            "SELECT wt_event_hash(:prev, 1, :seq, :kind, :payload, :staff_id, :device,"
                            " :window_id, :request_id, :at)"
                        ),
                        {"prev": "ab" * 32, "seq": 10 + i, "at": at, **case},
                    ).scalar_one()
                    assert sql == python, case
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgresql_refuses_to_change_or_delete_a_numbered_event_even_for_the_owner(pg_url):
    engine = make_engine(pg_url)
    try:
        hall_id = q.take_ticket(engine, 1, "BIZ", actor="C001").id and 1
        for sql in (
            "UPDATE event SET kind = 'x' WHERE seq = 1",
            "UPDATE event SET seq = seq WHERE seq = 1",
            "DELETE FROM event WHERE seq = 1",
            "TRUNCATE event",
        ):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text(sql))
        assert verify_chain(engine, hall_id).intact
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_the_counter_role_works_but_cannot_change_the_log(pg_url):
    admin = make_engine(pg_url)
    role = f"wt_counter_{uuid.uuid4().hex[:8]}"
    try:
        made = setup_roles(admin, role, password="s3cret'%")
        assert made.created and made.administrator == "postgres"
        assert not setup_roles(admin, role).created  # safe to repeat
        counter = make_engine(make_url(pg_url).set(username=role).render_as_string(hide_password=False))
        try:
            _a_morning(counter, 1)  # fast path, Python path, numbering: all as the counter role
            assert verify_chain(counter, 1).intact
            for sql, refusal in (
                ("UPDATE event SET kind = 'x' WHERE seq = 1", "permission denied"),
                ("UPDATE event SET seq = 99 WHERE seq = 1", "append-only"),
                ("DELETE FROM event WHERE seq = 1", "permission denied"),
                ("ALTER TABLE event DISABLE TRIGGER USER", "must be owner"),
            ):
                with pytest.raises(DBAPIError, match=refusal), counter.begin() as conn:
                    conn.execute(text(sql))
        finally:
            counter.dispose()
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
        admin.dispose()


def test_a_request_id_answers_only_its_own_command_at_its_own_window(engine, hall):
    q.set_window_status(engine, hall.id, 2, "open", actor="C002")
    q.set_window_status(engine, hall.id, 3, "open", actor="C003")
    for _ in range(3):
        q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    first = q.call_next(engine, hall.id, 2, request_id="press-1", actor="C002")
    assert first is not None
    again = q.call_next(engine, hall.id, 2, request_id="press-1", actor="C002")  # a retry: the same answer
    assert again is not None and again.id == first.id
    q.start_service(engine, hall.id, 2, request_id="press-2", actor="C002")

    # the bug of issue 13: `finish` with a used id "succeeded" and finished nothing
    with pytest.raises(DomainError) as refused:
        q.finish(engine, hall.id, 2, request_id="press-1", actor="C002")
    assert refused.value.code == "request_reused"
    assert (
        "press-1" in refused.value.zh and "call.next" in refused.value.en and "window 2" in refused.value.en
    )
    with pytest.raises(DomainError, match="already used"):
        q.call_next(
            engine, hall.id, 3, request_id="press-1", actor="C003"
        )  # the same command at another window
    with pytest.raises(DomainError, match="already used"):
        q.take_ticket(engine, hall.id, "BIZ", request_id="press-2", actor="C001")  # a Python-path command
    with read_session(engine) as s:
        ticket = s.get(Ticket, first.id)
        assert ticket is not None and ticket.status == "serving"  # nothing was finished
        called_at_3 = s.execute(select(Ticket).where(Ticket.status == "called")).scalars().all()
        assert called_at_3 == []


def test_audit_lists_who_did_what_filtered_as_table_json_and_csv(engine, hall, cli_env):
    _a_morning(engine, hall.id)
    by_clerk = list_events(engine, hall.id, AuditFilter(staff="C002"))
    assert {r.kind for r in by_clerk} >= {
        "window.status",
        "ticket.called",
        "ticket.started",
        "ticket.finished",
    }
    assert all(r.actor.startswith("C002 ") for r in by_clerk)
    calls = list_events(engine, hall.id, AuditFilter(window="2", kinds=("ticket.called",)))
    assert [r.payload["number"] for r in calls] == ["A001", "A002"] and all(r.window == 2 for r in calls)
    with read_session(engine) as s:
        a001 = s.execute(select(Ticket.id).where(Ticket.number == "A001")).scalar_one()
    of_ticket = list_events(engine, hall.id, AuditFilter(ticket=f"#{a001}"))
    assert [r.kind for r in of_ticket] == [
        "ticket.issued",
        "ticket.called",
        "ticket.started",
        "ticket.finished",
    ]
    assert (
        list_events(engine, hall.id, AuditFilter(kinds=("ticket.",), limit=2))[-1].seq
        == _seqs(engine, hall.id)[-2]
    )

    table = wt(cli_env, "audit", "--staff", "C002", "--kind", "ticket.called")
    assert "ticket.called" in table.stdout and "C002" in table.stdout
    as_json = json.loads(wt(cli_env, "audit", "--window", "2", "--format", "json").stdout)
    assert {e["kind"] for e in as_json} >= {"ticket.called", "ticket.finished"}
    assert all(e["window"] == 2 for e in as_json)
    csv_text = wt(cli_env, "audit", "--kind", "hall.", "--format", "csv").stdout
    assert csv_text.startswith("\ufeffseq,at,kind,actor") and "hall.broadcast" in csv_text
    bad = wt(cli_env, "audit", "--since", "yesterday", check=False)
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
    unknown = wt(cli_env, "audit", "--staff", "Z999", check=False)
    assert unknown.returncode == 2


def test_personal_data_in_an_event_is_masked_unless_asked_for():
    payload = {"case_no": "X1", "applicant": {"name": "张晓梅", "id_number": "11010519491231002X"},
               "phone": "13812341234", "items": [{"name": "欧阳娜娜"}]}  # fmt: skip
    masked = masked_payload(payload)
    assert masked == {
        "case_no": "X1",
        "applicant": {"name": "张**", "id_number": "1101**********002X"},
        "phone": "138****1234",
        "items": [{"name": "欧阳**"}],
    }


def test_an_event_log_written_before_the_chain_is_chained_by_the_upgrade(empty_url):
    """A hall upgraded to 0008 verifies at once: its history is chained in order, and on PostgreSQL
    what the counters had left unnumbered is numbered into the chain."""
    from window_terminal.db.migrate import upgrade

    engine = make_engine(empty_url)
    try:
        upgrade(engine, "0007")
        with engine.begin() as conn:
            hall_id = conn.execute(
                text(
                    "INSERT INTO hall (code, name, office, address, phone, timezone, settings, event_seq,"
                    " broadcast) VALUES ('old', '老大厅', '', '', '', 'Asia/Shanghai', '{}', 3, '') RETURNING id"
                )
            ).scalar_one()
            events = [
                (1, "ticket.issued", '{"number": "A001", "ticket_id": 1}'),
                (2, "ticket.called", '{"number": "A001", "text": "请A001号到1号窗口办理"}'),
                (3, "hall.broadcast", '{"message": "\\u6b22\\u8fce"}'),
            ]
            if engine.dialect.name == "postgresql":
                events += [(None, "ticket.started", '{"number" : "A001"}'), (None, "ticket.finished", "{}")]
            for seq, kind, payload in events:
                conn.execute(
                    text(
                        "INSERT INTO event (hall_id, seq, kind, payload, staff_id, window_id, created_at)"
                        " VALUES (:h, :seq, :kind, :payload, 4, 1, :at)"
                    ),
                    {
                        "h": hall_id,
                        "seq": seq,
                        "kind": kind,
                        "payload": payload,
                        "at": datetime(2026, 12, 3, 1, 2, 3),
                    },
                )
        upgrade(engine)
        report = verify_chain(engine, hall_id)
        assert report.intact and report.checked == len(events), report.text("en")
        with write_session(engine) as s:  # a manager to act next
            s.add(Staff(hall_id=hall_id, code="M001", name="管理员", role="manager"))
        q.broadcast(engine, hall_id, "升级之后", actor="M001")  # the chain goes on from the old head
        assert verify_chain(engine, hall_id).checked == len(events) + 1
        assert verify_chain(engine, hall_id).intact
    finally:
        engine.dispose()


def test_three_tamperings_at_once_are_all_named_in_one_run_with_a_consistent_head(engine, hall, cli_env):
    """Altered in the middle, deleted further on, one slipped in at the end: one verify names all
    three, in order, and its head pairs one event's number with that event's hash."""
    _a_morning(engine, hall.id)
    seqs = _seqs(engine, hall.id)
    altered, deleted = seqs[3], seqs[7]
    _behind_the_back(
        engine,
        "UPDATE event SET staff_id = COALESCE(staff_id, 0) + 1 WHERE hall_id = :h AND seq = :s",
        h=hall.id,
        s=altered,
    )
    _behind_the_back(engine, "DELETE FROM event WHERE hall_id = :h AND seq = :s", h=hall.id, s=deleted)
    _behind_the_back(
        engine,
        "INSERT INTO event (hall_id, seq, kind, payload, created_at, hash)"
        " VALUES (:h, :seq, 'staff.unlock', '{}', :at, :hash)",
        h=hall.id,
        seq=seqs[-1] + 1,
        at=datetime(2026, 12, 1, 9, 0, 0),
        hash="0" * 64,
    )
    report = verify_chain(engine, hall.id)
    assert [(p.kind, p.seq) for p in report.problems] == [
        ("altered", altered),
        ("deleted", deleted),
        ("inserted", seqs[-1] + 1),
    ], report.text("en")
    with read_session(engine) as s:
        stored = s.execute(
            select(Event.hash).where(Event.hall_id == hall.id, Event.seq == report.head_seq)
        ).scalar_one()
    assert report.head_hash == stored  # the head is one event's pair, never a number beside another's hash
    english = wt(cli_env, "--lang", "en", "audit", "verify", "--json", check=False)
    said = json.loads(english.stdout)
    assert english.returncode == 1
    assert [p["kind"] for p in said["problems"]] == ["altered", "deleted", "inserted"]
    seq, _, digest = said["head"].partition(":")
    assert (int(seq), digest) == (report.head_seq, report.head_hash)


def test_a_deleted_run_of_events_is_named_once_as_a_range(engine, hall):
    _a_morning(engine, hall.id)
    seqs = _seqs(engine, hall.id)
    _behind_the_back(
        engine,
        "DELETE FROM event WHERE hall_id = :h AND seq BETWEEN :a AND :b",
        h=hall.id,
        a=seqs[2],
        b=seqs[5],
    )
    report = verify_chain(engine, hall.id)
    assert [(p.kind, p.seq) for p in report.problems] == [("deleted", seqs[2])], report.text("en")
    assert f"#{seqs[2]}–#{seqs[5]}" in report.problems[0].en


def test_hall_loaded_names_the_os_user_who_loaded_it(engine, hall, cli_env, tmp_path):
    """Issue 28: ``hall.loaded`` was the one event with no actor. It names the administrator's OS
    user (no staff member can sign in before the hall's staff are loaded), marked ``os:``."""
    import getpass
    import shutil

    from tests.conftest import QUEUE

    [first] = list_events(engine, hall.id, AuditFilter(kinds=("hall.loaded",)))
    assert first.actor == f"os:{getpass.getuser()}" and first.staff_code is None  # the fixture's load
    folder = tmp_path / "queue"
    shutil.copytree(QUEUE, folder)
    lines = folder / "lines.toml"
    lines.write_text(lines.read_text(encoding="utf-8").replace('name = "税务"', 'name = "税务服务"'), "utf-8")
    wt({**cli_env, "LOGNAME": "hallroot", "USER": "hallroot"}, "hall", "load", str(folder))
    listed = json.loads(wt(cli_env, "audit", "--kind", "hall.loaded", "--format", "json").stdout)
    assert [e["actor"] for e in listed] == [first.actor, "os:hallroot"]
    table = wt(cli_env, "audit", "--kind", "hall.loaded").stdout
    assert "os:hallroot" in table and "device:os" not in table
    assert verify_chain(engine, hall.id).intact
