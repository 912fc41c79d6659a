"""The `wt` CLI as a script would use it: JSON out, exit 2 with a clear message on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import QUEUE

WT = [sys.executable, "-m", "window_terminal.cli"]


def wt(env, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*WT, *args], env=env, capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"wt {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result


def test_take_call_and_status_from_a_shell(cli_env):
    taken = json.loads(wt(cli_env, "ticket", "take", "BIZ", "--json").stdout)
    assert taken["number"] == "A001" and taken["people_ahead"] == 0
    wt(cli_env, "window", "open", "2")
    called = json.loads(wt(cli_env, "call", "next", "--window", "2", "--json").stdout)
    assert called["number"] == "A001" and called["window"] == 2
    status = json.loads(wt(cli_env, "queue", "status", "--json").stdout)
    w2 = next(w for w in status["windows"] if w["window"] == 2)
    assert w2["ticket"] == "A001"
    events = [json.loads(line) for line in wt(cli_env, "events").stdout.splitlines()]
    assert [e["kind"] for e in events][-3:] == ["ticket.issued", "window.status", "ticket.called"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["ticket", "take", "NOPE"], "没有业务线 NOPE"),
        (["call", "next", "--window", "3"], "wt window open 3"),
        (["call", "next", "--window", "99"], "没有 99 号窗口"),
        (["call", "finish", "--window", "2"], "请先叫号"),
        (["ticket", "take", "BIZ", "--priority", " "], "绿色通道需填写原因"),
        (["ticket", "take", "BIZ", "--priority", ""], "绿色通道需填写原因"),
        (["ticket", "take", "BIZ", "--priority", "\u200b"], "绿色通道需填写原因"),
        (["--hall", "nowhere", "queue", "status"], "没有大厅 nowhere"),
        (["review", "list", "--dept", "NOPE"], "没有部门 NOPE"),
        (["rectification", "close", "9999", "--note", "x"], "没有整改事项 #9999"),
        (["report", "daily", "--date", "2026-13-01"], "2026-13-01"),
        (["doc", "show", "NOPE-1"], "NOPE-1"),
    ],
)
def test_bad_input_exits_2_and_names_the_problem(cli_env, args, message):
    result = wt(cli_env, *args, check=False)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_english_messages_with_lang_en(cli_env):
    result = wt(cli_env, "--lang", "en", "ticket", "take", "NOPE", check=False)
    assert result.returncode == 2 and "no line 'NOPE'" in result.stderr


def test_a_closed_line_refuses_tickets(cli_env):
    wt(cli_env, "line", "close", "BIZ")
    result = wt(cli_env, "ticket", "take", "BIZ", check=False)
    assert result.returncode == 2 and "暂停取号" in result.stderr


def test_a_database_behind_is_refused_until_upgraded(tmp_path: Path, cli_env):
    env = dict(cli_env, WT_DATABASE_URL=f"sqlite:///{tmp_path / 'old.sqlite3'}")
    refused = wt(env, "queue", "status", check=False)
    assert refused.returncode == 2 and "wt db upgrade" in refused.stderr
    assert "→" in wt(env, "db", "upgrade").stdout
    assert "already at" in wt(env, "db", "upgrade").stdout
    loaded = json.loads(wt(env, "hall", "load", str(QUEUE), "--json").stdout)
    assert loaded["windows"] >= 12


def test_bad_hall_definition_exits_2_naming_the_file(tmp_path: Path, cli_env):
    folder = tmp_path / "q"
    folder.mkdir()
    (folder / "hall.toml").write_text("[hall]\ncode = 'x'\n", encoding="utf-8")
    result = wt(cli_env, "hall", "load", str(folder), check=False)
    assert result.returncode == 2
    assert "lines.toml: missing file" in result.stderr and "hall.toml: [hall]: name" in result.stderr


def test_the_language_option_speaks_english_in_reports_too(cli_env):
    assert "临期与超期" in wt(cli_env, "report", "overdue").stdout
    english = wt(cli_env, "--lang", "en", "report", "overdue").stdout
    assert "Near and past deadline" in english and "临期与超期" not in english
    assert "Near and past deadline" in wt({**cli_env, "WT_LANGUAGE": "en"}, "report", "overdue").stdout


def test_a_ticket_is_printed_in_the_chosen_language(cli_env):
    chinese = wt(cli_env, "ticket", "take", "BIZ").stdout
    assert "A001" in chinese and "等候" in chinese and "前面 0 人" in chinese and "waiting" not in chinese
    english = wt(cli_env, "--lang", "en", "ticket", "show", "A001").stdout
    assert "A001" in english and "waiting" in english and "0 ahead" in english and "等候" not in english


def test_window_states_and_ticket_states_are_said_in_the_chosen_language(cli_env, engine, hall):
    """Found by a tester: `wt window pause 4` said "4号窗口: paused" in both languages, and a refused
    call named the raw state ("当前状态为 no_show")."""
    zh = wt(cli_env, "window", "pause", "4")
    assert zh.stdout.strip() == "4号窗口：暂停", zh.stdout
    en = wt(cli_env, "--lang", "en", "window", "open", "4")
    assert en.stdout.strip() == "window 4: open", en.stdout
    from window_terminal.core import queueing as q

    t = q.take_ticket(engine, hall.id, "BIZ", actor="M001")
    q.cancel(engine, hall.id, t.number, actor="M001")
    refused = wt(cli_env, "call", "ticket", t.number, "--window", "4", check=False)
    assert refused.returncode == 2 and "已取消" in refused.stderr and "cancelled" not in refused.stderr, (
        refused.stderr
    )
