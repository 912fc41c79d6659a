"""Boot in any order: what waits for a database that does not answer yet, and what is named at once.

A screen started before its database waits for it, saying why (``migrate.reach`` with no time
limit, as ``wt counter``/``wt display``/``wt serve`` call it); a CLI command waits a few seconds
(``WT_DB_WAIT_S``) and exits 2 naming the problem; a refused user, a missing database or a missing
permission is not waited on — the CLI names it, and a feed refused it stops ("reconnecting" for ever
was the old answer).
"""

from __future__ import annotations

import subprocess
import threading
import uuid

import pytest
from sqlalchemy.engine import make_url

from tests.blackhole import BlackHole
from tests.conftest import _pg_execute, signed_out_env
from tests.test_board import WT
from window_terminal.db.engine import make_engine
from window_terminal.db.feed import Feed, FeedRefused
from window_terminal.db.migrate import reach

pytestmark = pytest.mark.postgres


def test_a_screen_waits_for_a_database_that_comes_later_saying_why(pg_url):
    url = make_url(pg_url)
    with BlackHole((url.host or "127.0.0.1", url.port or 5432)) as hole:
        hole.stop()  # the server's PC is still booting: nothing answers
        engine = make_engine(url.set(host="127.0.0.1", port=hole.port).render_as_string(hide_password=False))
        reasons: list[str] = []
        waited = threading.Event()
        answer: list[str | None] = []

        def on_wait(reason: str, _seconds: float) -> None:
            reasons.append(reason)
            waited.set()

        thread = threading.Thread(target=lambda: answer.append(reach(engine, wait=None, on_wait=on_wait)))
        thread.start()
        assert waited.wait(60), "the screen did not say it was waiting"
        assert not answer  # still waiting, not given up
        hole.resume()
        thread.join(60)
        engine.dispose()
    assert answer and answer[0], "the screen did not go on once the database answered"
    assert "timeout" in reasons[0] or "connection" in reasons[0]


def test_the_cli_waits_briefly_then_exits_2_naming_the_problem(tmp_path):
    with BlackHole(("127.0.0.1", 9)) as hole:  # port 9: nothing listens; the link hangs instead
        hole.stop()
        env = signed_out_env(f"postgresql://postgres@127.0.0.1:{hole.port}/wt", tmp_path)
        env["WT_DB_WAIT_S"] = "1"
        done = subprocess.run([*WT, "queue", "status"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "cannot reach the database" in done.stderr and "after waiting 1 s" in done.stderr


def test_a_refused_user_is_named_at_once_not_waited_on(pg_url, tmp_path):
    bad = make_url(pg_url).set(username=f"nobody_{uuid.uuid4().hex[:8]}")
    env = signed_out_env(bad.render_as_string(hide_password=False), tmp_path)
    env["WT_DB_WAIT_S"] = "600"  # were it waited on, the test would time out
    done = subprocess.run([*WT, "queue", "status"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "does not exist" in done.stderr and "waiting will not fix this" in done.stderr


def test_a_feed_without_permission_says_so_instead_of_reconnecting_for_ever(pg_url):
    role = f"wt_noread_{uuid.uuid4().hex[:8]}"
    database = make_url(pg_url).database
    _pg_execute(f'CREATE ROLE "{role}" LOGIN')
    _pg_execute(f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"')
    engine = make_engine(make_url(pg_url).set(username=role).render_as_string(hide_password=False))
    feed = Feed(engine, 1)
    try:
        with pytest.raises(FeedRefused) as refused:
            feed.poll(timeout=0.1)
        assert refused.value.problem == "permission denied"
        with pytest.raises(FeedRefused):  # and follow() gives up too instead of retrying
            next(iter(feed.follow(timeout=30)))
    finally:
        feed.close()
        engine.dispose()
        _pg_execute(f'DROP OWNED BY "{role}"')
        _pg_execute(f'DROP ROLE "{role}"')


def test_db_status_names_the_primary_and_an_unreachable_node(pg_url, tmp_path):
    """`wt db status` asks each node of a multi-host URL itself (docs/failover.md)."""
    import json

    url = make_url(pg_url)
    here = f"{url.host}:{url.port or 5432}"
    with BlackHole(("127.0.0.1", 9)) as hole:  # a second node that is down
        multi = f"postgresql://{url.username}@{here},127.0.0.1:{hole.port}/{url.database}?target_session_attrs=read-write"
        env = signed_out_env(multi, tmp_path)
        done = subprocess.run(
            [*WT, "db", "status", "--json"], env=env, capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert status["primary"] == here
    assert [n["role"] for n in status["nodes"]] == ["primary", "unreachable"]
