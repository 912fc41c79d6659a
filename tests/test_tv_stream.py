"""The hall TV without a browser: its stream resumes exactly once, its voice queue, its scopes, its HTTP.

The stream and the server run over real databases (SQLite and PostgreSQL), the server in this
process on a real socket (aiohttp's test server); what a browser does is in test_tv_browser.py.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from window_terminal.core import displays, hallview, voice
from window_terminal.core import queueing as q
from window_terminal.core.hall import HallDefinitionError, HallRef, read_definition
from window_terminal.db.clock import get_offset
from window_terminal.db.feed import Feed, Position
from window_terminal.web.stream import DisplayStream, Message, parse_since

from .conftest import QUEUE

NOW = datetime(2026, 12, 2, 2, 0)


def open_windows(engine: Engine, hall: HallRef, *numbers: int) -> None:
    for number in numbers:
        q.set_window_status(engine, hall.id, number, "open", actor="M001")


def call(engine: Engine, hall: HallRef, window: int) -> q.TicketInfo:
    """Call the next ticket at ``window`` and start serving it (so the window can call again)."""
    info = q.call_next(engine, hall.id, window, actor="M001")
    assert info is not None
    q.start_service(engine, hall.id, window, actor="M001")
    return info


def stream_for(engine: Engine, hall: HallRef, **scope: str) -> DisplayStream:
    view = hallview.load_view(engine, hall.id, keep_calls=40)
    return DisplayStream(
        view,
        displays.resolve_scope(view, view.settings, **scope),
        clock=lambda: datetime.now(UTC).replace(tzinfo=None) + get_offset(),  # the database clock's now
    )


def follow(engine: Engine, hall: HallRef, stream: DisplayStream, after: Position) -> list[Message]:
    """What the server sends for everything in the feed after ``after`` (until the feed is quiet)."""
    feed = Feed(engine, hall.id, after=after)
    out: list[Message] = []
    try:
        while events := feed.fetch():
            out.extend(stream.apply(events))
    finally:
        feed.close()
    return out


def last_id(messages: list[Message], start: int) -> int:
    ids = [m.id for m in messages if m.id is not None]
    return max(ids, default=start)


def test_a_page_that_reconnects_gets_every_call_made_while_away_once_in_order(engine, hall):
    """The TV loses its connection (server restart, network cut); three calls are made meanwhile.
    On reconnecting with its last id it is sent exactly those three, in call order, then lives on."""
    open_windows(engine, hall, 1, 2, 3)
    for _ in range(8):
        q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    first = call(engine, hall, 1)

    page = stream_for(engine, hall)
    opening, after = page.opening(None)
    assert [m.event for m in opening] == ["snapshot"]
    assert opening[0].id == after.seq
    assert [c["number"] for c in opening[0].data["calls"]] == [first.number]
    assert all(c["audio"] is None for c in opening[0].data["calls"])  # history is shown, not said
    seen = after.seq

    live = call(engine, hall, 2)
    messages = follow(engine, hall, page, seen)
    assert [m.data["number"] for m in messages if m.event == "call"] == [live.number]
    seen = last_id(messages, seen)

    # -- the page is away; calls are made --
    away = [call(engine, hall, w).number for w in (3, 1, 2)]
    q.take_ticket(engine, hall.id, "FOOD", actor="C001")

    again = stream_for(engine, hall)
    opening, after = again.opening(seen)
    assert [m.event for m in opening] == ["state"] and opening[0].id is None  # no id until caught up
    assert after.seq == seen
    messages = follow(engine, hall, again, after)
    calls = [m for m in messages if m.event == "call"]
    assert [m.data["number"] for m in calls] == away
    assert [m.id for m in calls] == sorted(m.id for m in calls)
    assert all(m.data["audio"] for m in calls)  # recent enough to be said
    assert messages[-1].event == "state" and messages[-1].id == again.view.cursor

    # Reconnecting again with the newest id sends no call twice.
    third = stream_for(engine, hall)
    _, after = third.opening(last_id(messages, seen))
    assert [m for m in follow(engine, hall, third, after) if m.event == "call"] == []


def test_a_call_that_reaches_the_tv_too_late_is_shown_but_not_said(engine, hall):
    """After a long outage the backlog is shown, not read aloud over the live calls."""
    open_windows(engine, hall, 1)
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    view = hallview.load_view(engine, hall.id)
    late = datetime.now(UTC).replace(tzinfo=None) + get_offset() + timedelta(minutes=10)  # heard 10 min on
    page = DisplayStream(view, displays.resolve_scope(view, view.settings), clock=lambda: late)
    _, after = page.opening(None)
    number = call(engine, hall, 1).number
    calls = [m for m in follow(engine, hall, page, after) if m.event == "call"]
    assert [(m.data["number"], m.data["audio"]) for m in calls] == [(number, None)]
    assert page.queue.skipped == [(calls[0].id, "old")]


def test_an_id_the_hall_never_reached_gets_a_fresh_snapshot(engine, hall):
    page = stream_for(engine, hall)
    opening, after = page.opening(page.view.cursor + 1000)  # a restored or replaced database
    assert opening[0].event == "snapshot" and after.seq == page.view.cursor


def test_the_resume_point_comes_from_last_event_id_or_since():
    assert parse_since("41", None) == 41
    assert parse_since(None, "7") == 7
    assert parse_since("", "7") == 7
    assert parse_since(None, None) is None
    with pytest.raises(ValueError, match="not a feed sequence number"):
        parse_since("abc", None)


def test_a_tv_limited_to_some_lines_shows_only_their_calls_and_counts(engine, hall):
    open_windows(engine, hall, 1, 4)
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    q.take_ticket(engine, hall.id, "FOOD", actor="C001")
    page = stream_for(engine, hall, lines="b")  # FOOD by its ticket prefix, typed in lower case
    _, after = page.opening(None)
    call(engine, hall, 1)  # BIZ
    food = call(engine, hall, 4)  # FOOD
    messages = follow(engine, hall, page, after)
    assert [m.data["number"] for m in messages if m.event == "call"] == [food.number]
    assert [row["line"] for row in page.state()["waiting"]] == ["FOOD"]
    # The id still moves past the calls it does not show: the page resumes after them.
    assert last_id(messages, after.seq) == page.view.cursor


def test_bad_scopes_name_the_problem_and_the_valid_values(engine, hall):
    view = hallview.load_view(engine, hall.id)
    with pytest.raises(displays.BadScope) as bad:
        displays.resolve_scope(view, view.settings, lines="BIZ,NOPE")
    assert "NOPE" in bad.value.en and "BIZ (A)" in bad.value.en
    with pytest.raises(displays.BadScope) as bad:
        displays.resolve_scope(view, view.settings, windows="1,x,99")
    assert "x, 99" in bad.value.en and "windows are 1," in bad.value.en
    with pytest.raises(displays.BadScope):
        displays.resolve_scope(view, view.settings, display="TV 1")


def test_display_entries_in_the_hall_definition_are_checked_and_used(tmp_path, engine, hall):
    folder = tmp_path / "queue"
    shutil.copytree(QUEUE, folder)
    text = (folder / "hall.toml").read_text(encoding="utf-8")
    bad = text + '\n[[display]]\nid = "F1"\nlines = ["BIZ", "NOPE"]\n\n[[display]]\nid = "f1"\nwindows = 3\n'
    (folder / "hall.toml").write_text(bad, encoding="utf-8")
    with pytest.raises(HallDefinitionError) as error:
        read_definition(folder)
    problems = "\n".join(error.value.problems)
    assert "[[display]] #1: lines: no line NOPE" in problems
    assert "[[display]] #2: id: 'F1' is used by another [[display]]" in problems
    assert "[[display]] #2: windows: must be a list" in problems

    good = text + '\n[[display]]\nid = "floor2"\nname = "二楼"\nwindows = [4, 5]\n'
    (folder / "hall.toml").write_text(good, encoding="utf-8")
    from window_terminal.core.hall import load_hall, resolve_hall

    load_hall(engine, folder)
    settings = resolve_hall(engine, None).settings
    view = hallview.load_view(engine, hall.id)
    scope = displays.resolve_scope(view, settings, display="FLOOR2")
    assert scope.windows == {4, 5} and scope.lines is None
    with pytest.raises(displays.BadScope, match="FLOOR2"):
        displays.resolve_scope(view, settings, display="floor3")  # a typo is refused, not shown everything


# --- the voice queue ---------------------------------------------------------------------------


def _call(seq: int, age_s: float = 0.0) -> tuple[hallview.Call, float]:
    return hallview.Call(
        seq, "ticket.called", f"A{seq:03d}", 3, "BIZ", f"请A{seq:03d}号到3号窗口办理", NOW
    ), age_s


def test_each_call_is_announced_once_in_call_order_and_an_old_one_is_not_said():
    queue = voice.AnnouncementQueue({"thresholds": {"announce_max_age_seconds": 60, "announce_repeat": 2}})
    for call, age in (_call(5), _call(6, 61.0), _call(7), _call(7), _call(4), _call(8)):
        queue.offer(call, age)
    said = []
    while (item := queue.next()) is not None:
        said.append((item.seq, item.repeat))
    assert said == [(5, 2), (7, 2), (8, 2)]
    assert queue.skipped == [(6, "old"), (7, "seen"), (4, "seen")]


def test_a_hall_that_wants_no_voice_says_nothing():
    queue = voice.AnnouncementQueue({"thresholds": {"announce_repeat": 0}})
    assert queue.offer(*_call(1)) is None and queue.next() is None


def _tone(path: Path, seconds: float, frequency: float, rate: int = 16000) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * frequency * i / rate)))
            for i in range(int(rate * seconds))
        )
        out.writeframes(frames)


def test_a_recorded_voice_pack_is_pieced_together_longest_segment_first(tmp_path):
    pack = tmp_path / "voice"
    pack.mkdir()
    for name in ("请", "A", "0", "1", "3", "号", "到", "号窗口办理"):
        _tone(pack / f"{name}.wav", 0.1, 440)
    pieces = voice.split_into_segments("请A001号到3号窗口办理", voice.voice_pack_segments(pack))
    assert [p.stem for p in pieces] == ["请", "A", "0", "0", "1", "号", "到", "3", "号窗口办理"]
    path = voice.call_audio(
        "请A001号到3号窗口办理", settings={}, cache_dir=tmp_path / "cache", voice_pack=pack
    )
    chime = sum(seconds for _, seconds in voice.CHIME_NOTES)
    assert voice.duration_seconds(path) == pytest.approx(chime + 2 * voice.PAUSE_SECONDS + 0.9, abs=0.01)
    with pytest.raises(voice.VoiceError, match="lacks 9.wav"):
        voice.call_audio("请A009号", settings={}, cache_dir=tmp_path / "cache", voice_pack=pack)


def test_espeak_ng_says_the_call_offline_and_the_file_is_cached(tmp_path):
    if shutil.which("espeak-ng") is None:
        if os.environ.get("WT_REQUIRE_BROWSER") == "1":
            pytest.fail("espeak-ng is missing but WT_REQUIRE_BROWSER=1: apt-get install espeak-ng")
        pytest.skip("espeak-ng is not installed")
    settings = {"thresholds": {"announce_repeat": 2}}
    once = voice.call_audio("请A001号到3号窗口办理", settings={}, cache_dir=tmp_path)
    twice = voice.call_audio("请A001号到3号窗口办理", settings=settings, cache_dir=tmp_path)
    assert voice.call_audio("请A001号到3号窗口办理", settings={}, cache_dir=tmp_path) == once
    one, two = voice.duration_seconds(once), voice.duration_seconds(twice)
    assert 2.0 < one < 15.0
    assert two == pytest.approx(
        2 * one - sum(s for _, s in voice.CHIME_NOTES) - voice.PAUSE_SECONDS, abs=0.05
    )
    with wave.open(str(once), "rb") as w:
        samples = struct.unpack(f"<{w.getnframes()}h", w.readframes(w.getnframes()))
    rms = math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768
    assert rms > 0.02, "the announcement is silent"


# --- the server over HTTP ----------------------------------------------------------------------


async def _with_server(engine: Engine, hall: HallRef, tmp_path: Path, body) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from window_terminal.web.server import DisplayServer

    server = DisplayServer(engine, hall, cache_dir=tmp_path / "voice", beat_seconds=0.2)
    async with TestClient(TestServer(server.app())) as client:
        await body(client)


async def _read_events(response, count: int, timeout: float = 10.0) -> list[tuple[str | None, str, dict]]:
    """The first ``count`` SSE messages (id, event, data) of a stream, beats left out."""
    out: list[tuple[str | None, str, dict]] = []
    fields: dict[str, str] = {}
    async with asyncio.timeout(timeout):
        while len(out) < count:
            line = (await response.content.readline()).decode().rstrip("\n")
            if line:
                key, _, value = line.partition(": ")
                fields[key] = value
            elif "event" in fields:
                if fields["event"] != "beat":
                    out.append((fields.get("id"), fields["event"], json.loads(fields["data"])))
                fields = {}
            else:
                fields = {}
    return out


def test_the_server_resumes_from_last_event_id_and_answers_bad_input_with_400(engine, hall, tmp_path):
    open_windows(engine, hall, 1, 2)
    for _ in range(4):
        q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    call(engine, hall, 1)
    cursor = displays.feed.current_cursor(engine, hall.id)
    missed = [call(engine, hall, w).number for w in (1, 2)]

    async def body(client) -> None:
        page = await client.get("/?lines=BIZ,XYZ")
        assert page.status == 400 and "XYZ" in await page.text()
        page = await client.get("/?hall=nowhere")
        assert page.status == 400 and "nowhere" in await page.text()
        page = await client.get("/events?since=x1")
        assert page.status == 400
        page = await client.get("/")
        html = await page.text()
        assert page.status == 200 and "window.WT_CONFIG" in html and "http" not in html.split("<body>")[0]

        stream = await client.get("/events", headers={"Last-Event-ID": str(cursor)})
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        messages = await _read_events(stream, 4)
        assert [m[1] for m in messages] == ["state", "call", "call", "state"]
        assert [m[2]["number"] for m in messages[1:3]] == missed
        stream.close()

        audio = await client.get(str(messages[1][2]["audio"]))
        assert audio.status == 200 and audio.headers["Content-Type"] == "audio/wav"
        assert (await audio.read())[:4] == b"RIFF"
        assert (await client.get("/audio/1.wav")).status == 404  # hall.loaded: not a call

        beat = await client.post("/heartbeat?display=TV7", json={"display": "tv7", "last_seq": cursor})
        assert beat.status == 200
        bad = await client.post("/heartbeat", data="nonsense")
        assert bad.status == 400

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    asyncio.run(_with_server(engine, hall, tmp_path, body))
    rows = displays.display_status(engine, hall.id, hall.settings)
    assert [(r.display_id, r.last_seq, r.state) for r in rows] == [("TV7", cursor, "ok")]


def test_wt_serve_display_refuses_an_unknown_hall_and_a_missing_voice_pack(cli_env, tmp_path):
    wt = [sys.executable, "-m", "window_terminal.cli"]
    result = subprocess.run(
        [*wt, "--hall", "nowhere", "serve", "display"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "nowhere" in result.stderr
    result = subprocess.run(
        [*wt, "serve", "display", "--voice-pack", str(tmp_path / "none")],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "voice pack" in result.stderr


def test_a_heartbeat_is_one_row_per_display_not_an_event(engine, hall):
    from window_terminal.db.engine import read_session
    from window_terminal.db.models import DisplayHeartbeat, Event

    before = displays.feed.current_cursor(engine, hall.id)
    for _ in range(3):
        displays.record_heartbeat(engine, hall.id, "TV1", last_seq=before)
    with read_session(engine) as s:
        assert len(s.execute(select(DisplayHeartbeat)).all()) == 1
        assert s.execute(select(Event).where(Event.seq > before)).first() is None
    assert displays.feed.current_cursor(engine, hall.id) == before


def test_a_call_not_yet_numbered_when_the_page_opens_is_shown_once_and_not_said_twice(pg_url):
    """PostgreSQL's fast path commits a call, then numbers it: a TV opening in between shows it once."""
    from sqlalchemy import text

    from window_terminal.core.hall import resolve_hall
    from window_terminal.db.engine import make_engine

    engine = make_engine(pg_url)
    hall = resolve_hall(engine, None)
    open_windows(engine, hall, 1)
    first = q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    q.take_ticket(engine, hall.id, "BIZ", actor="C001")
    with engine.begin() as conn:  # the call committed, its events not yet numbered
        conn.execute(text("SELECT wt_call_next(:h, 1, NULL, 'tv-race', 0)"), {"h": hall.id})
    page = stream_for(engine, hall)
    opening, after = page.opening(None)
    assert [c["number"] for c in opening[0].data["calls"]] == [first.number]
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SELECT wt_sequence(:h)"), {"h": hall.id})
    q.start_service(engine, hall.id, 1, actor="M001")  # window 1 is the manager's (open_windows)
    second = call(engine, hall, 1)
    calls = [m.data["number"] for m in follow(engine, hall, page, after) if m.event == "call"]
    assert calls == [second.number]
    engine.dispose()
