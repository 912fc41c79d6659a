"""Running a core call from a screen: off the event loop, every failure caught and shown inline.

    run_call(self, lambda: queueing.call_next(...), done=self.show_called, failed=self.say,
             group="counter-action", busy=True)
    run_call(self, lambda: hallview.load_view(...), done=self.show_snapshot, failed=self.say,
             group="board-load", retry=True)

This is the one home for what every screen needs from a worker:

- the call runs in a Textual thread worker (``exclusive`` in its ``group``), never on the loop;
- ``busy=True`` ignores a second press while one call runs, and the flag is reset whatever the
  outcome — a failure never leaves a screen deaf to its keys;
- a refusal (``DomainError``, ``DocumentError``) shows its text in the screen's language; anything else (the database
  went away, a bug) shows one line saying the action failed — through ``failed``, the screen's own
  inline message area;
- ``retry=True`` (first loads and refreshes) tries again after 0.5 s, 1 s, 2 s … (capped; the
  rule is ``db.retry.reconnect_delay``), telling ``offline`` (default: ``failed``) that it is
  reconnecting, until the database answers; then ``recovered`` (to clear what ``offline``
  showed) and ``done`` run as if nothing had happened. Refusals are not retried: the
  same question gets the same answer.

``done`` and ``failed`` run on the app's thread; nothing is delivered once the worker is
cancelled (the screen closed, or a newer call in the same group replaced it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from textual.dom import DOMNode
from textual.worker import Worker, get_current_worker

from window_terminal.core.documents.errors import DocumentError
from window_terminal.db import links
from window_terminal.db.clock import server_clock
from window_terminal.db.retry import configuration_problem, reconnect_delay
from window_terminal.db.storage import StorageFault
from window_terminal.db.unit import deadline_of, expiring_request_id
from window_terminal.errors import DomainError, first_line
from window_terminal.i18n import language, tr

T = TypeVar("T")
# Refusals carry their own words in both languages; the same call would be refused again. A damaged
# database file or a full disk (db/storage.py) is one too: nothing was written, and waiting will not
# mend it — never "connection lost".
REFUSALS = (DomainError, DocumentError, StorageFault)
COMMAND_RETRY_S = 12.0  # a command caught in a lost connection is retried (same request id) this long
COMMAND_DEADLINE_S = 10.0  # … and the server runs it within this long of the press, or never (db/unit.py)
DEADLINE_MARGIN_S = 0.5  # "not confirmed" only this long after the deadline, by the server's clock


def unconfirmed(exc: BaseException) -> DomainError:
    """The words for a command whose outcome a lost connection hid (after ``COMMAND_RETRY_S``)."""
    error = DomainError(
        "连接中断：本次操作未确认是否完成。恢复连接后请再按一次同一个键——系统会沿用同一请求编号，不会重复办理",
        "connection lost: this action is not confirmed. When the connection is back, press the same "
        "key again: it repeats the same request and never runs twice",
        code="unconfirmed",
    )
    error.__cause__ = exc
    return error


def pending_text() -> str:
    """What a person reads while a command caught in a lost connection is retried."""
    return tr(
        "连接中断：刚才的操作未确认，正在以同一请求编号重试（不会重复办理）…",
        "connection lost: the last action is not confirmed, retrying with the same request id "
        "(it never runs twice)…",
    )


def pressed_once(
    pending: dict[str, str],
    key: str,
    call: Callable[[str], T],
    *,
    retrying: Callable[[], Any] | None = None,
) -> Callable[[], T]:
    """The worker body of one press of ``key`` that must run exactly once (:func:`once`).

    Its request id is new, unless the last press of ``key`` ended not confirmed: then it is that
    one's, kept in ``pending`` (the screen's dict) — so pressing again repeats, never doubles. A new
    id carries its deadline (``db.unit.expiring_request_id``): the server runs it within
    ``COMMAND_DEADLINE_S`` or never. When the repeated id comes back refused as late, the first press
    provably never ran (the server refuses it for ever): the press runs once more, as a new command."""
    request_id = pending.get(key) or expiring_request_id(COMMAND_DEADLINE_S)

    def run() -> T:
        pending[key] = request_id
        try:
            try:
                result = once(call, request_id, retrying=retrying)
            except DomainError as exc:
                if exc.code != "late" or request_id == pending.get(f"{key}:fresh"):
                    raise
                fresh = expiring_request_id(COMMAND_DEADLINE_S)  # the old one never ran, never will
                pending[key] = pending[f"{key}:fresh"] = fresh
                result = once(call, fresh, retrying=retrying)
        except REFUSALS as exc:
            if getattr(exc, "code", None) != "unconfirmed":
                pending.pop(key, None)
                pending.pop(f"{key}:fresh", None)
            raise
        pending.pop(key, None)
        pending.pop(f"{key}:fresh", None)
        return result

    return run


def once(
    call: Callable[[str], T],
    request_id: str,
    *,
    retrying: Callable[[], Any] | None = None,
    deadline: float = links.COUNTER_DEADLINE_S,
) -> T:
    """(worker thread) ``call(request_id)``: a command that must run exactly once.

    A failure that is not a refusal (the connection reset, or a dead link cut by its deadline,
    db/links.py) is retried with the SAME request id for ``COMMAND_RETRY_S``, calling ``retrying``
    before each retry; the database runs a request id once (db/unit.py, migration 0004), so a
    retry finds the first result or runs it now — never twice. Then :func:`unconfirmed` is raised
    (the caller keeps the id for the next press) — never before the request's own deadline has
    passed on the server's clock (``db.unit.deadline_of``): once a person reads "not confirmed", the
    server can no longer run it. A refusal and a configuration error are raised at once. Each round
    trip has at most ``deadline`` seconds."""
    give_up: float | None = None
    attempt = 0
    while True:
        try:
            with links.deadline(deadline):
                return call(request_id)
        except REFUSALS:
            raise
        except Exception as exc:
            give_up = give_up or time.monotonic() + COMMAND_RETRY_S
            if configuration_problem(exc) or (time.monotonic() >= give_up and _past_deadline(request_id)):
                raise unconfirmed(exc) from exc
            if retrying is not None:
                retrying()
            time.sleep(reconnect_delay(attempt))
            attempt += 1


def _past_deadline(request_id: str) -> bool:
    """Has the server's clock, as this PC reads it and allowing for the reading's error, passed the
    request's deadline? (No deadline: yes.)"""
    deadline = deadline_of(request_id)
    if deadline is None:
        return True
    now = server_clock()
    if now is None:
        return time.time() > deadline + DEADLINE_MARGIN_S
    return now[0] - now[1] > deadline + DEADLINE_MARGIN_S


def failure_text(exc: BaseException) -> str:
    """What a person reads when a call failed: a refusal's own words, or one line of the cause."""
    if isinstance(exc, REFUSALS):
        return exc.text(language())
    cause = first_line(exc)
    return tr(f"操作失败：{cause}", f"the action failed: {cause}")


def reconnecting_text(exc: BaseException, seconds: float) -> str:
    cause = first_line(exc, 100)
    return tr(
        f"数据库不可用，{seconds:g}秒后重连…（{cause}）",
        f"database unavailable, reconnecting in {seconds:g} s… ({cause})",
    )


def run_call(
    node: DOMNode,
    call: Callable[[], T],
    *,
    done: Callable[[T], Any] | None = None,
    failed: Callable[[str], Any] | None = None,
    offline: Callable[[str], Any] | None = None,
    recovered: Callable[[], Any] | None = None,
    group: str,
    busy: bool = False,
    retry: bool = False,
    exclusive: bool = True,
) -> Worker[None] | None:
    """Run ``call`` in a thread worker; see the module docstring. None when ignored as busy."""
    if busy:
        if getattr(node, "busy", False):
            return None
        node.busy = True  # type: ignore[attr-defined]  # the screen's own flag, read by its keys
    app = node.app
    report_offline = offline or failed

    def deliver(
        worker: Worker[None], callback: Callable[..., Any] | None, *args: Any, back: bool = False
    ) -> None:
        def on_loop() -> None:
            if busy:
                node.busy = False  # type: ignore[attr-defined]  # as above
            if worker.is_cancelled:
                return
            if back and recovered is not None:
                recovered()
            if callback is not None:
                callback(*args)

        try:
            app.call_from_thread(on_loop)
        except RuntimeError:  # the app is shutting down: nobody left to tell
            pass

    def wait(worker: Worker[None], seconds: float) -> bool:
        """Sleep ``seconds`` unless cancelled meanwhile; True when still wanted."""
        end = time.monotonic() + seconds
        while not worker.is_cancelled and time.monotonic() < end:
            time.sleep(min(0.1, max(0.0, end - time.monotonic())))
        return not worker.is_cancelled

    def run() -> None:
        worker = get_current_worker()
        attempt = 0
        while True:
            try:
                result = call()
            except REFUSALS as exc:
                deliver(worker, failed, failure_text(exc))
                return
            except Exception as exc:
                if not retry:
                    deliver(worker, failed, failure_text(exc))
                    return
                seconds = reconnect_delay(attempt)
                attempt += 1
                if report_offline is not None and not worker.is_cancelled:
                    try:
                        app.call_from_thread(report_offline, reconnecting_text(exc, seconds))
                    except RuntimeError:
                        return
                if not wait(worker, seconds):
                    deliver(worker, None)
                    return
                continue
            deliver(worker, done, result, back=attempt > 0)
            return

    return node.run_worker(
        run, thread=True, exclusive=exclusive, group=group, exit_on_error=False, name=group
    )
