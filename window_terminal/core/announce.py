"""The optional announcement for each call: a configured command such as a text-to-speech program.

    announce("espeak-ng -v zh {text}", "请A012号到3号窗口办理")

The command comes from ``settings.announce_command`` (``WT_ANNOUNCE_COMMAND``); ``{text}`` is
replaced by the call text as one argument (no shell is involved). The announcements of a process
run one after another, in the order they were asked for, on one background thread: calls that
arrive together are said in turn, never over each other, and a slow or missing program never
blocks the display; a failure is logged and handed to ``on_error`` (the display shows it), never
raised. (The hall TV page, ``wt serve display``, has its own queue and voice: ``core.voice``.)
"""

from __future__ import annotations

import logging
import queue
import shlex
import subprocess
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 30


def build_args(command: str, text: str) -> list[str]:
    """The program and its arguments, ``{text}`` replaced; the text is appended if not named."""
    args = shlex.split(command)
    if not any("{text}" in arg for arg in args):
        return [*args, text]
    return [arg.replace("{text}", text) for arg in args]


def announce(
    command: str | None, text: str, *, on_error: Callable[[str], None] | None = None
) -> threading.Thread | None:
    """Queue the announce command for ``text`` (said after those before it); ``None`` if none is configured."""
    if not command or not command.strip() or not text:
        return None
    try:
        args = build_args(command, text)
    except ValueError as exc:
        _failed(f"announce_command {command!r} cannot be parsed: {exc}; fix the quotes", on_error)
        return None

    _pending.put((args, on_error))
    return _worker()


_pending: queue.Queue[tuple[list[str], Callable[[str], None] | None]] = queue.Queue()
_thread: threading.Thread | None = None
_thread_lock = threading.Lock()


def _worker() -> threading.Thread:
    """The one thread that says this process's announcements, in order (started when first needed)."""
    global _thread
    with _thread_lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_say_in_turn, name="announce", daemon=True)
            _thread.start()
        return _thread


def _say_in_turn() -> None:
    while True:
        args, on_error = _pending.get()
        try:
            _run(args, on_error)
        finally:
            _pending.task_done()


def _run(args: list[str], on_error: Callable[[str], None] | None) -> None:
    try:
        result = subprocess.run(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        _failed(f"announce command {args[0]!r} not found: install it or change announce_command", on_error)
    except subprocess.TimeoutExpired:
        _failed(f"announce command {args[0]!r} took over {TIMEOUT_SECONDS}s and was stopped", on_error)
    except OSError as exc:
        _failed(f"announce command {args[0]!r} failed to start: {exc}", on_error)
    else:
        if result.returncode != 0:
            detail = (result.stderr or b"").decode("utf-8", "replace").strip().splitlines()
            _failed(
                f"announce command {args[0]!r} exited with {result.returncode}"
                + (f": {detail[-1]}" if detail else ""),
                on_error,
            )


def _failed(message: str, on_error: Callable[[str], None] | None) -> None:
    log.warning(message)
    if on_error is not None:
        try:
            on_error(message)
        except Exception:  # the display may be gone; the log keeps the message
            log.debug("on_error callback failed", exc_info=True)
