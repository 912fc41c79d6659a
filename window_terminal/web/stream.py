"""What one hall TV page receives, as Server-Sent Events: built from the feed, resumable, exactly once.

    stream = DisplayStream(view, scope, settings, clock=now_utc)
    messages, after = stream.opening(since)       # since: the page's Last-Event-ID / ?since=
    feed = Feed(engine, hall_id, after=after)
    messages = stream.apply(feed.poll(1.0))       # then stream.beat() every couple of seconds

Every message that moves the page along the feed carries the feed's sequence number as its SSE
``id``, so a page that reconnects with the last id it saw (``Last-Event-ID`` or ``?since=``) is sent
exactly what it missed: each call made while it was away once, in order (from the event log, not
from the snapshot, which only holds the last few), then the current waiting counts. A page with no
id, or with an id the hall has never reached (a restored database), gets a fresh snapshot.

The contents are the display read model's (``core.hallview``: ``shown_calls``, ``shown_waiting``,
``call_of``), limited by the TV's scope (``core.displays``); what is said aloud is decided by the
page's announcement queue (``core.voice``). Only ticket numbers, windows, line names and the
manager's broadcast appear: never a name, an ID number or a phone number.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from window_terminal.core import hallview, queueing
from window_terminal.core.displays import DisplayScope
from window_terminal.core.voice import AnnouncementQueue
from window_terminal.db.clock import epoch_seconds, to_local
from window_terminal.db.feed import FeedEvent, Position


@dataclass(frozen=True)
class Message:
    event: str
    data: dict[str, Any]
    id: int | None = None

    def encode(self) -> bytes:
        head = f"id: {self.id}\n" if self.id is not None else ""
        body = json.dumps(self.data, ensure_ascii=False, separators=(",", ":"))
        return f"{head}event: {self.event}\ndata: {body}\n\n".encode()


def parse_since(header: str | None, param: str | None) -> int | None:
    """The page's resume point: ``Last-Event-ID`` (set by the browser) or ``?since=``; None for none."""
    for value in (header, param):
        if value is not None and value.strip():
            text = value.strip()
            if not text.isdecimal():
                raise ValueError(f"since: {text!r} is not a feed sequence number (a whole number)")
            return int(text)
    return None


class DisplayStream:
    def __init__(
        self,
        view: hallview.HallView,
        scope: DisplayScope,
        *,
        clock: Callable[[], datetime],
        audio_query: dict[str, str] | None = None,
    ) -> None:
        self.view = view
        self.scope = scope
        self.clock = clock  # the database clock's now, naive UTC
        self.settings = view.settings
        self.calls_shown = int(queueing.threshold(self.settings, "display_calls"))
        self.queue = AnnouncementQueue(self.settings, after=view.cursor)
        self.audio_query = "?" + urlencode(audio_query) if audio_query else ""
        self.sent_calls: list[int] = []

    # -- the opening -------------------------------------------------------------------------------

    def opening(self, since: int | None) -> tuple[list[Message], Position]:
        """The first messages of a connection and the feed position to follow from."""
        view = self.view
        if since is None or since <= 0 or since > view.cursor:
            # The snapshot's calls include those committed but not yet numbered (feed.Position):
            # the feed from the view's position does not bring them again.
            return [self.snapshot()], view.position
        # Resuming: the calls in (since, cursor] come from the feed next, each once; the state
        # now carries no id, so a cut during the catch-up resumes from the last call delivered.
        self.queue.after = since
        return [Message("state", self.state())], Position(since)

    def snapshot(self) -> Message:
        calls = self.view.shown_calls(self.calls_shown, self._shows)
        data = {**self.state(), "calls": [self._call(c, speak=False).data for c in calls]}
        return Message("snapshot", data, self.view.cursor)

    def state(self) -> dict[str, Any]:
        return {
            "waiting": [
                {"line": code, "name": name, "waiting": waiting}
                for code, name, waiting in self.view.shown_waiting(
                    lambda c: self.scope.shows_line(c, self.view)
                )
            ],
            "broadcast": self.view.broadcast,
            "scope": self.scope.describe(),
        }

    # -- following the feed ------------------------------------------------------------------------

    def apply(self, events: Iterable[FeedEvent]) -> list[Message]:
        """Messages for a batch of feed events: each call in scope, then the state (id = last seq)."""
        out: list[Message] = []
        last = None
        # appointments whose slot has begun join the waiting (no event says so)
        changed = bool(self.view.release_due(self.clock().replace(tzinfo=UTC)))
        for event in events:
            last = event.seq
            if self.view.position.holds(event):
                # Already in the snapshot this connection loaded: a call made while the page was away.
                calls = (
                    [hallview.call_of(event.seq, event.kind, event.payload, event.created_at, self.settings)]
                    if event.kind in hallview.CALL_KINDS
                    else []
                )
            else:
                changes = self.view.apply(event)
                calls = changes.new_calls
                changed = changed or bool(changes)
            for call in calls:
                if self._shows(call):
                    out.append(self._call(call, speak=True))
        if last is not None:
            out.append(Message("state", self.state() if changed else {}, last))
        elif changed:
            out.append(Message("state", self.state()))
        return out

    def beat(self) -> Message:
        """The heartbeat: the server and the database are answering (and the hall's clock)."""
        return Message("beat", {"now": int(epoch_seconds(self.clock()) * 1000), "cursor": self.view.cursor})

    # -- helpers -----------------------------------------------------------------------------------

    def _shows(self, call: hallview.Call) -> bool:
        return self.scope.shows_call(call.line, call.window)

    def _call(self, call: hallview.Call, *, speak: bool) -> Message:
        said = None
        if speak:
            age = (self.clock() - call.at).total_seconds()
            said = self.queue.offer(call, age)
            self.sent_calls.append(call.seq)
        data = {
            "seq": call.seq,
            "number": call.number,
            "window": call.window,
            "line": call.line,
            "text": call.text,
            "recall": call.kind == "ticket.recalled",
            "at": to_local(call.at, self.view.timezone).strftime("%H:%M"),
            "audio": f"/audio/{call.seq}.wav{self.audio_query}" if said is not None else None,
        }
        return Message("call", data, call.seq if speak else None)
