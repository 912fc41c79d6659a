"""The hall TV server (``wt serve display``): the page, its live stream, its voice, its heartbeats.

    GET  /                 the page (?display=TV1&lines=A,B&windows=1,2&hall=code)
    GET  /events           Server-Sent Events from the hall's feed (Last-Event-ID or ?since= resumes)
    GET  /audio/<seq>.wav  the announcement of one call: chime + call text, made offline
    POST /heartbeat        the page reports in: {"display": "TV1", "last_seq": 812}
    GET  /healthz          "ok" when the server and the database answer

Bad input (an unknown hall, display, line or window; a malformed ?since=) is answered with HTTP 400
and a text naming the problem and the fix; a database that cannot be reached with 503 — the page
retries for ever, with backoff, and meanwhile shows its last calls under a "reconnecting" banner.
Database work runs in a thread pool of its own, never on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import Engine

from window_terminal.core import displays, hallview, lookup, queueing, voice
from window_terminal.core.hall import HallRef, resolve_hall
from window_terminal.db.clock import db_now
from window_terminal.db.engine import read_session
from window_terminal.db.feed import Feed, FeedUnavailable
from window_terminal.errors import DomainError, first_line
from window_terminal.i18n import tr
from window_terminal.web.stream import DisplayStream, Message, parse_since

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
BEAT_SECONDS = 2.0  # the server's heartbeat on each stream
STALE_SECONDS = 5.0  # the page shows its banner after this long without one
POLL_SECONDS = 1.0
PAGE_HEARTBEAT_SECONDS = 5.0  # the page reports in this often
SCOPE_PARAMS = ("hall", "display", "lines", "windows")


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def labels() -> dict[str, str]:
    """The page's fixed texts in the server's language (``--lang``)."""
    return {
        "now_calling": tr("请以下号码办理", "Now calling"),
        "number_suffix": tr("号", ""),
        "to_window": tr("到", "to window"),
        "window_suffix": tr("号窗口", ""),
        "recent": tr("最近呼叫", "Recent calls"),
        "waiting": tr("等候人数", "Waiting"),
        "people": tr("人", ""),
        "none_yet": tr("请留意叫号", "Please watch for your number"),
        "stale": tr("连接中断，正在重连", "Connection lost, reconnecting"),
        "sound": tr("点击开启声音", "Click to enable sound"),
        "again": tr("重呼", "again"),
        "window_short": tr("窗口", "Window"),
    }


class DisplayServer:
    def __init__(
        self,
        engine: Engine,
        hall: HallRef,
        *,
        cache_dir: Path,
        voice_pack: Path | None = None,
        beat_seconds: float = BEAT_SECONDS,
        language: str = "zh",
    ) -> None:
        self.engine = engine
        self.hall = hall
        self.cache_dir = cache_dir
        self.voice_pack = voice_pack
        self.beat_seconds = beat_seconds
        self.language = language
        self.pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="wt-tv")
        self.page = (STATIC / "display.html").read_text(encoding="utf-8")

    def app(self) -> web.Application:
        app = web.Application()
        app.add_routes(
            [
                web.get("/", self.index),
                web.get("/events", self.events),
                web.get("/audio/{seq}.wav", self.audio),
                web.post("/heartbeat", self.heartbeat),
                web.get("/healthz", self.healthz),
                web.get("/static/{name}", self.static),
                web.get("/favicon.ico", self.favicon),
            ]
        )
        app.on_shutdown.append(self._shutdown)
        return app

    async def _shutdown(self, _app: web.Application) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    # -- request → hall, scope ------------------------------------------------------------------

    def _hall_of(self, request: web.Request) -> HallRef:
        code = request.query.get("hall")
        if not code or lookup.hall_code(code) == self.hall.code:
            return self.hall
        return resolve_hall(self.engine, code)

    def _load(
        self, request: web.Request
    ) -> tuple[HallRef, hallview.HallView, displays.DisplayScope, timedelta]:
        """The hall, its display read model, this page's scope and the database clock's offset."""
        hall = self._hall_of(request)
        keep = max(40, 5 * int(queueing.threshold(hall.settings, "display_calls")))
        view = hallview.load_view(self.engine, hall.id, keep_calls=keep)
        scope = displays.resolve_scope(
            view,
            view.settings,
            display=request.query.get("display"),
            lines=request.query.get("lines"),
            windows=request.query.get("windows"),
        )
        with read_session(self.engine) as session:
            offset = db_now(session) - _utc_now()
        return hall, view, scope, offset

    async def _load_or_answer(self, request: web.Request) -> Any:
        try:
            return await self._run(self._load, request)
        except DomainError as exc:
            raise web.HTTPBadRequest(text=exc.text(self.language)) from None
        except Exception as exc:
            log.warning("the hall TV cannot load the hall: %s", first_line(exc))
            raise web.HTTPServiceUnavailable(
                text=tr(
                    f"数据库暂时无法访问，正在重试：{first_line(exc)}",
                    f"the database cannot be reached right now; retrying: {first_line(exc)}",
                )
            ) from None

    # -- the page --------------------------------------------------------------------------------

    async def index(self, request: web.Request) -> web.Response:
        hall, view, scope, _ = await self._load_or_answer(request)
        query = {k: request.query[k] for k in SCOPE_PARAMS if request.query.get(k)}
        config = {
            "hall": {"code": hall.code, "name": hall.name},
            "display": scope.display_id,
            "scope": scope.describe(),
            "query": query,
            "labels": labels(),
            "lang": self.language,
            "calls_shown": int(queueing.threshold(view.settings, "display_calls")),
            "stale_ms": int(STALE_SECONDS * 1000),
            "heartbeat_ms": int(PAGE_HEARTBEAT_SECONDS * 1000),
            "timezone": view.timezone,
        }
        script = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
        html = (
            self.page.replace("{{lang}}", "en" if self.language == "en" else "zh-CN")
            .replace("{{title}}", f"{hall.name} · {tr('叫号', 'calls')}")
            .replace("/*WT_CONFIG*/", f"window.WT_CONFIG = {script};")
        )
        return web.Response(text=html, content_type="text/html", headers={"Cache-Control": "no-cache"})

    async def static(self, request: web.Request) -> web.FileResponse:
        name = request.match_info["name"]
        path = STATIC / name
        if "/" in name or name.startswith(".") or not path.is_file() or path.suffix not in (".css", ".js"):
            raise web.HTTPNotFound(text=f"no such file: {name}")
        return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

    async def favicon(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def healthz(self, request: web.Request) -> web.Response:
        def check() -> None:
            with read_session(self.engine) as session:
                db_now(session)

        try:
            await self._run(check)
        except Exception as exc:
            raise web.HTTPServiceUnavailable(text=f"database: {first_line(exc)}") from None
        return web.Response(text="ok")

    # -- the live stream -------------------------------------------------------------------------

    async def events(self, request: web.Request) -> web.StreamResponse:
        try:
            since = parse_since(request.headers.get("Last-Event-ID"), request.query.get("since"))
        except ValueError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        hall, view, scope, offset = await self._load_or_answer(request)
        query = {k: request.query[k] for k in ("hall",) if request.query.get(k)}
        stream = DisplayStream(view, scope, clock=lambda: _utc_now() + offset, audio_query=query)
        messages, after = stream.opening(since)
        opening = b"retry: 1000\n\n" + b"".join(m.encode() for m in messages) + stream.beat().encode()
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        feed = Feed(self.engine, hall.id, after=after)
        pending: Future[Any] | None = None
        try:
            await response.write(opening)
            last_beat = time.monotonic()
            online = True
            while True:
                # The thread's own future: cancelling the awaiting task does not stop a poll under
                # way, and the feed is closed only after it returns (closing a SQLite connection
                # another thread is using crashes the process).
                pending = self.pool.submit(feed.poll, POLL_SECONDS)
                try:
                    events = await asyncio.wrap_future(pending)
                except FeedUnavailable as exc:
                    pending = None
                    if online:
                        online = False
                        log.warning("the hall TV's feed lost the database: %s", first_line(exc))
                        await response.write(Message("offline", {"reason": first_line(exc)}).encode())
                    await asyncio.sleep(POLL_SECONDS)
                    continue
                pending = None
                online = True
                out = stream.apply(events)
                for message in out:
                    if message.event == "call" and message.data.get("audio"):
                        self._prepare_audio(hall, str(message.data["text"]))
                if time.monotonic() - last_beat >= self.beat_seconds:
                    out.append(stream.beat())
                    last_beat = time.monotonic()
                if out:
                    await response.write(b"".join(m.encode() for m in out))
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            if pending is not None:
                pending.add_done_callback(lambda _: feed.close())  # at once if it is done
            else:
                feed.close()
        return response

    # -- voice -----------------------------------------------------------------------------------

    def _audio_file(self, hall: HallRef, text: str) -> Path:
        try:
            return voice.call_audio(
                text, settings=hall.settings, cache_dir=self.cache_dir, voice_pack=self.voice_pack
            )
        except voice.VoiceError:
            if self.voice_pack is None:
                raise
            log.warning("the voice pack cannot say %r; espeak-ng says it instead", text, exc_info=True)
            return voice.call_audio(text, settings=hall.settings, cache_dir=self.cache_dir)

    def _prepare_audio(self, hall: HallRef, text: str) -> None:
        """Start making the announcement now, so the page's request finds it ready."""

        def made(future: Future[Path]) -> None:
            if future.exception() is not None:
                log.warning("voice: %s", future.exception())

        self.pool.submit(self._audio_file, hall, text).add_done_callback(made)

    async def audio(self, request: web.Request) -> web.FileResponse:
        seq_text = request.match_info["seq"]
        if not seq_text.isdecimal():
            raise web.HTTPBadRequest(text=f"{seq_text!r} is not a call's sequence number")
        try:
            hall = await self._run(self._hall_of, request)
            call = await self._run(hallview.call_at, self.engine, hall.id, int(seq_text))
        except DomainError as exc:
            raise web.HTTPBadRequest(text=exc.text(self.language)) from None
        if call is None:
            raise web.HTTPNotFound(text=f"event {seq_text} of hall {hall.code} is not a call")
        try:
            path = await self._run(self._audio_file, hall, call.text)
        except voice.VoiceError as exc:
            raise web.HTTPServiceUnavailable(text=exc.text(self.language)) from None
        return web.FileResponse(path, headers={"Content-Type": "audio/wav", "Cache-Control": "max-age=86400"})

    # -- heartbeats from the pages ---------------------------------------------------------------

    async def heartbeat(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            last_seq = int(body.get("last_seq") or 0)
        except (ValueError, TypeError, AttributeError):
            raise web.HTTPBadRequest(text='send JSON like {"display": "TV1", "last_seq": 812}') from None

        def record() -> displays.DisplayStatus:
            hall = self._hall_of(request)
            scope_text = " ".join(
                f"{k}={request.query[k]}" for k in ("lines", "windows") if request.query.get(k)
            )
            return displays.record_heartbeat(
                self.engine,
                hall.id,
                str(body.get("display") or request.query.get("display") or "TV"),
                last_seq=last_seq,
                scope=scope_text or "all",
                address=request.remote or "",
            )

        try:
            status = await self._run(record)
        except DomainError as exc:
            raise web.HTTPBadRequest(text=exc.text(self.language)) from None
        except Exception as exc:
            raise web.HTTPServiceUnavailable(text=f"database: {first_line(exc)}") from None
        return web.json_response({"display": status.display_id, "behind": status.state == "behind"})


def serve_display(
    engine: Engine,
    hall: HallRef,
    *,
    host: str,
    port: int,
    cache_dir: Path,
    voice_pack: Path | None = None,
    language: str = "zh",
) -> None:
    """Run the hall TV server until Ctrl+C or SIGTERM."""
    server = DisplayServer(engine, hall, cache_dir=cache_dir, voice_pack=voice_pack, language=language)
    print(f"hall TV page for {hall.name}: http://{host}:{port}/", flush=True)
    web.run_app(server.app(), host=host, port=port, shutdown_timeout=1.0, print=None, access_log=None)
