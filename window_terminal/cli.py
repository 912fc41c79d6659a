"""``wt``: every command of Window Terminal. Heavy modules are imported inside the commands.

Exit codes: 0 done; 2 bad input (unknown line/window/ticket, closed line, bad TOML, a database
behind the program's schema) with a message that names the problem and the fix; 1 anything else.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from window_terminal.config import Settings
    from window_terminal.core.hall import HallRef
    from window_terminal.core.sessions import SignedIn

app = typer.Typer(
    help="Window Terminal — counters, queue, back office and reports for a government service hall.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The database: migrations.")
hall_app = typer.Typer(help="The hall definition (queue/ folder).")
ticket_app = typer.Typer(help="Take and manage tickets.")
call_app = typer.Typer(help="Call tickets to a window.")
queue_app = typer.Typer(help="See the queue.")
window_app = typer.Typer(help="Open, pause and close windows.")
line_app = typer.Typer(help="Open and close lines for new tickets.")
day_app = typer.Typer(help="The service day: its close (run by a timer at the hall's closing time).")
app.add_typer(db_app, name="db")
app.add_typer(hall_app, name="hall")
app.add_typer(ticket_app, name="ticket")
app.add_typer(call_app, name="call")
app.add_typer(queue_app, name="queue")
app.add_typer(window_app, name="window")
app.add_typer(line_app, name="line")
app.add_typer(day_app, name="day")


@dataclass
class Context:
    """What every command needs: settings, and on demand an engine and the hall."""

    db: str | None = None
    hall_code: str | None = None
    language: str | None = None
    _settings: Settings | None = None
    _engine: Engine | None = None
    _schema_checked: bool = False
    _hall: HallRef | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    # a database that does not answer yet is waited for this long (None: a screen waits for ever)
    db_wait: float | None = field(default_factory=lambda: _db_wait_seconds())
    on_db_wait: Any = None  # called (reason, seconds) before each retry

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from window_terminal.config import load_settings
            from window_terminal.i18n import set_language

            self._settings = load_settings(database_url=self.db, hall=self.hall_code, language=self.language)
            set_language(self._settings.language)  # tables, reports and messages in the chosen language
        return self._settings

    def engine(self, *, check_schema: bool = True) -> Engine:
        if self._engine is None:
            from window_terminal.db.engine import make_engine

            self._engine = make_engine(self.settings.database_url)
        if check_schema and not self._schema_checked:  # once per command, however many reads it makes
            from window_terminal.config import default_database_url
            from window_terminal.db.migrate import current_revision, ensure_current, upgrade

            if (
                self.settings.database_url == default_database_url()
                and current_revision(self._engine) is None
            ):
                upgrade(self._engine)  # the embedded default is created on first use
            ensure_current(self._engine, wait=self.db_wait, on_wait=self.on_db_wait)
            self._schema_checked = True
        return self._engine

    def signed_in(self) -> SignedIn:
        """Who is signed in on this PC by `wt login` (``DomainError`` naming `wt login` when nobody)."""
        from window_terminal.core.sessions import current

        settings = self.settings
        return current(
            self.engine(), self.hall().id, settings.session_path, idle_minutes=settings.session_idle_minutes
        )

    def actor(self) -> str:
        """The actor of a state-changing command: the signed-in staff member's code."""
        return self.signed_in().code

    def hall(self) -> HallRef:
        if self._hall is None:
            from window_terminal.core.hall import resolve_hall

            self._hall = resolve_hall(self.engine(), self.settings.hall)
        return self._hall


CLI_DB_WAIT_S = 6.0  # a command waits this long for a database that does not answer, then exits 2


def _db_wait_seconds() -> float:
    import os

    try:
        return float(os.environ.get("WT_DB_WAIT_S", CLI_DB_WAIT_S))
    except ValueError:
        return CLI_DB_WAIT_S


def _say_waiting(reason: str, seconds: float) -> None:
    """A screen started before its database: say why it waits (on the terminal, before the UI)."""
    from window_terminal.i18n import tr

    typer.echo(
        tr(
            f"正在等待数据库（{seconds:g}秒后重试，按 Ctrl+C 退出）：{reason}",
            f"waiting for the database (retrying in {seconds:g} s, Ctrl+C to quit): {reason}",
        ),
        err=True,
    )


def boot_in_any_order(c: Context) -> None:
    """A screen started before its database waits for it, saying why (a PC switched on before the
    server); a refused password or permission is named at once (exit 2), never waited on."""
    c.db_wait, c.on_db_wait = None, _say_waiting


def _ctx(ctx: typer.Context) -> Context:
    return ctx.ensure_object(Context)


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def run(ctx: typer.Context, fn):
    """Run a domain call, turning refusals into a clear message and exit code 2."""
    from window_terminal.config import ConfigError
    from window_terminal.db.engine import DatabaseError
    from window_terminal.db.storage import StorageFault
    from window_terminal.errors import DomainError

    c = _ctx(ctx)
    try:
        return fn(c)
    except (DomainError, StorageFault) as exc:
        raise fail(exc.text(c.settings.language)) from None
    except (ConfigError, DatabaseError) as exc:
        raise fail(str(exc)) from None
    except ValueError as exc:
        raise fail(str(exc)) from None


def emit(data: Any, as_json: bool, render=None) -> None:
    if as_json or render is None:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        render(data)


JSON = typer.Option(False, "--json", help="Print JSON instead of a table.")
REQUEST = typer.Option(None, "--request-id", help="Idempotency key: repeating it repeats nothing.")


@app.callback(invoke_without_command=True)
def main_callback(
    ctx: typer.Context,
    db: str = typer.Option(
        None, "--db", help="Database URL (sqlite:///PATH or postgresql://…); or WT_DATABASE_URL."
    ),
    hall: str = typer.Option(None, "--hall", help="Hall code; or WT_HALL. May be left out with one hall."),
    lang: str = typer.Option(None, "--lang", help="zh (default) or en; or WT_LANGUAGE."),
) -> None:
    ctx.obj = Context(db=db, hall_code=hall, language=lang)
    if ctx.invoked_subcommand is None:
        _launch(ctx, "home")


def _launch(ctx: typer.Context, screen: str, **options: Any) -> None:
    """Start a screen as ``screen_plan`` says."""

    def go(c: Context) -> None:
        from window_terminal.app import make_app

        boot_in_any_order(c)
        first, settings = screen_plan(c, screen, options)
        make_app(first, settings=c.settings, engine=c.engine(), hall=c.hall(), **settings).run()

    run(ctx, go)


def screen_plan(c: Context, screen: str, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The first screen and its options. A staff screen opens for the person signed in on this PC
    (`wt login`) when their role may use it, and otherwise starts with the sign-in screen, which then
    opens it (always, with ``sign_in_here``: each browser of `wt serve board`); a public device's
    screen (kiosk, rating) runs as a device of the hall definition."""
    from window_terminal.core import access
    from window_terminal.errors import DomainError

    options = dict(options)
    if screen in access.STAFF_SCREENS:
        if options.pop("sign_in_here", False):  # a browser's session: its own sign-in, never this PC's
            return "home", {**options, "target": screen}
        try:
            signed = c.signed_in()
        except DomainError:
            return "home", {**options, "target": screen}
        if access.may_open(signed.role, screen):
            return screen, {**options, "staff_code": signed.code}
        return "home", {**options, "target": screen}
    if screen in access.DEVICE_SCREENS:
        options["device"] = access.device_for(c.hall().settings, screen, options.get("device"))
    return screen, options


# --- db and hall ---------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Bring the configured database to the newest schema (safe to repeat)."""

    def go(c: Context) -> None:
        from window_terminal.db.migrate import upgrade

        before, after = upgrade(c.engine(check_schema=False))
        where = c.engine(check_schema=False).url.render_as_string(hide_password=True)
        typer.echo(
            f"{where}: {before or 'empty'} → {after}" if before != after else f"{where}: already at {after}"
        )

    run(ctx, go)


@db_app.command("url")
def db_url(ctx: typer.Context) -> None:
    """Print the database URL in use (password hidden)."""
    from sqlalchemy.engine import make_url

    typer.echo(make_url(_ctx(ctx).settings.database_url).render_as_string(hide_password=True))


@db_app.command("status")
def db_status(ctx: typer.Context, as_json: bool = JSON) -> None:
    """Each database node of the URL: which is primary, and the replication state (docs/failover.md).
    Exit 1 when no node accepts writes."""

    def go(c: Context) -> dict[str, Any]:
        from window_terminal.db.status import database_status

        return database_status(c.engine(check_schema=False))

    status = run(ctx, go)
    emit(status, as_json, _render_db_status)
    if status["kind"] == "postgresql" and status["primary"] is None:
        raise typer.Exit(1)


def _render_db_status(status: dict[str, Any]) -> None:
    if status["kind"] == "sqlite":
        typer.echo(f"SQLite file {status['path']} (one PC, no replication)")
        return
    nodes = status["nodes"]
    typer.echo(
        f"primary: {status['primary'] or 'NONE — no node accepts writes'}  ({len(nodes)} node(s) in the URL)"
    )
    for node in nodes:
        where = f"{node['host']}:{node['port']}"
        if node["role"] == "unreachable":
            typer.echo(f"  {where:<22} unreachable  {node['error']}")
            continue
        typer.echo(f"  {where:<22} {node['role']:<8} PostgreSQL {node['version']}")
        if node["role"] == "primary":
            typer.echo(
                f"      synchronous_standby_names: {node['synchronous_standby_names'] or '(none: commits do not wait)'}"
            )
            for r in node["replicas"]:
                typer.echo(
                    f"      → {r['name']} {r['address'] or ''}  {r['state']}  {r['sync']}  "
                    f"lag {r['lag_s']} s, {r['behind_bytes'] or 0} bytes behind"
                )
            if not node["replicas"]:
                typer.echo(
                    "      → no standby connected: no failover possible, commits are on this node only"
                )
        else:
            recv = node["receiving"]
            typer.echo(f"      receiving: {recv.get('status')} from {recv.get('from', '?')}")


@hall_app.command("load")
def hall_load(
    ctx: typer.Context,
    path: Path = typer.Argument(Path("queue"), help="The queue/ folder."),
    as_json: bool = JSON,
) -> None:
    """Load or update the hall definition (idempotent; validates everything first)."""

    def go(c: Context) -> dict[str, Any]:
        from window_terminal.core.hall import load_hall

        return load_hall(c.engine(), path)

    result = run(ctx, go)
    emit(
        result,
        as_json,
        lambda r: typer.echo(
            f"{r['hall']}: {r['lines']} lines, {r['windows']} windows, {r['departments']} departments, "
            f"{r['staff']} staff, {r['items']} items, {r['materials']} materials — "
            f"{r['created']} created, {r['updated']} updated, {r['deactivated']} deactivated"
        ),
    )


@app.command("demo")
def demo(
    ctx: typer.Context,
    path: Path = typer.Option(None, "--path", help="Hall definition folder (default: the shipped queue/)."),
    days: int = typer.Option(1, "--days", min=0, max=400, help="Days of history to generate before today."),
    seed: int = typer.Option(7, "--seed", help="Random seed for the generated history."),
    if_empty: bool = typer.Option(
        False, "--if-empty", help="Do nothing when the database already has a hall."
    ),
) -> None:
    """A demo hall with staff, open windows, a queue and a day of history, ready to try."""

    def go(c: Context) -> dict[str, Any]:
        from window_terminal.core.demo import build_demo
        from window_terminal.core.hall import demo_hall_folder
        from window_terminal.db.migrate import upgrade

        engine = c.engine(check_schema=False)
        upgrade(engine)
        folder = path or demo_hall_folder()
        return build_demo(
            engine,
            folder,
            days=days,
            seed=seed,
            if_empty=if_empty,
            progress=lambda line: typer.echo(f"demo: {line}", err=True),  # a day takes seconds
        )

    result = run(ctx, go)
    typer.echo(json.dumps(result, ensure_ascii=False))


# --- tickets and calls ---------------------------------------------------------------------------


def _print_ticket(info: Any) -> None:
    from rich.console import Console

    if info is None:
        Console().print("[yellow]没有等候的号 / nobody is waiting[/]")
        return
    from window_terminal.core.queueing import TICKET_STATES
    from window_terminal.i18n import tr, tr_code

    data = info.as_dict() if hasattr(info, "as_dict") else info
    status = tr_code(TICKET_STATES, data["status"])
    parts = [f"[bold]{data['number']}[/] {data['line_name']} ({data['line']})", status]
    if data.get("window"):
        parts.append(tr(f"→ {data['window']}号窗口", f"→ window {data['window']}"))
    if data.get("expected_at"):
        slot = data["expected_at"][11:16]  # an appointment booked for later: its slot is the estimate
        parts.append(tr(f"预约时段 {slot} 起叫号", f"called from its slot at {slot}"))
    elif data.get("people_ahead") is not None:
        ahead, minutes = data["people_ahead"], data["estimated_wait_minutes"]
        parts.append(tr(f"前面 {ahead} 人，约 {minutes} 分钟", f"{ahead} ahead, about {minutes} min"))
    Console().print("  ".join(parts))


def _ticket_result(info: Any, as_json: bool) -> None:
    emit(info.as_dict() if info is not None else None, as_json, lambda _: _print_ticket(info))


@ticket_app.command("take")
def ticket_take(
    ctx: typer.Context,
    line: str = typer.Argument(None, help="Line code (see `wt queue status`)."),
    priority: str = typer.Option(
        None, "--priority", help="Priority lane (绿色通道) with its reason, e.g. 老年人."
    ),
    appointment: str = typer.Option(None, "--appointment", help="Appointment check-in code."),
    request_id: str = REQUEST,
    as_json: bool = JSON,
) -> None:
    """Take a ticket in a line (normal, priority lane, or appointment check-in)."""
    from window_terminal.core import queueing

    if not line and not appointment:
        raise fail("name a line (like `wt ticket take BIZ`) or give --appointment CODE")
    # An option given at all chooses the kind: `--priority ""` asks for the priority lane without a
    # reason, which the core refuses; it must not quietly become a normal ticket.
    kind = "appointment" if appointment is not None else "priority" if priority is not None else "normal"
    info = run(
        ctx,
        lambda c: queueing.take_ticket(
            c.engine(),
            c.hall().id,
            line,
            kind=kind,
            priority_reason=priority or "",
            appointment_code=appointment,
            actor=c.actor(),
            request_id=request_id,
        ),
    )
    _ticket_result(info, as_json)


@ticket_app.command("show")
def ticket_show(
    ctx: typer.Context, ticket: str = typer.Argument(..., help="A001 (today) or #id."), as_json: bool = JSON
) -> None:
    """Show one ticket with its place in line."""
    from window_terminal.core import queueing

    _ticket_result(run(ctx, lambda c: queueing.ticket_info(c.engine(), c.hall().id, ticket)), as_json)


@ticket_app.command("cancel")
def ticket_cancel(
    ctx: typer.Context,
    ticket: str = typer.Argument(...),
    reason: str = typer.Option("", "--reason"),
    request_id: str = REQUEST,
    as_json: bool = JSON,
) -> None:
    """Cancel a waiting or parked ticket."""
    from window_terminal.core import queueing

    _ticket_result(
        run(
            ctx,
            lambda c: queueing.cancel(
                c.engine(), c.hall().id, ticket, reason=reason, actor=c.actor(), request_id=request_id
            ),
        ),
        as_json,
    )


@ticket_app.command("forward")
def ticket_forward(
    ctx: typer.Context,
    ticket: str = typer.Argument(...),
    reason: str = typer.Option(..., "--reason"),
    request_id: str = REQUEST,
    as_json: bool = JSON,
) -> None:
    """Move a waiting ticket to the head of its line (a reason is recorded)."""
    from window_terminal.core import queueing

    _ticket_result(
        run(
            ctx,
            lambda c: queueing.move_forward(
                c.engine(), c.hall().id, ticket, reason=reason, actor=c.actor(), request_id=request_id
            ),
        ),
        as_json,
    )


WINDOW = typer.Option(
    None,
    "--window",
    "-w",
    help="Window number (default: the window you are signed in at, `wt login --window`).",
)


def _at_window(c: Context, window: int | None) -> int:
    """The window a window command acts at: the one named, or the one the person is signed in at."""
    if window is not None:
        return window
    from window_terminal.core.access import window_of

    return window_of(c.engine(), c.hall().id, c.actor())


def _window_command(name: str, fn_name: str, doc: str) -> None:
    def command(
        ctx: typer.Context,
        window: int | None = WINDOW,
        request_id: str = REQUEST,
        as_json: bool = JSON,
    ) -> None:
        from window_terminal.core import queueing

        fn = getattr(queueing, fn_name)
        window = run(ctx, lambda c: _at_window(c, window))
        info = run(ctx, lambda c: fn(c.engine(), c.hall().id, window, actor=c.actor(), request_id=request_id))
        if info is None and not as_json:
            from rich.console import Console

            from window_terminal.i18n import tr

            why = run(ctx, lambda c: queueing.nothing_to_call(c.engine(), c.hall().id, window))
            Console().print(f"[yellow]{tr(*why)}[/]")
            return
        _ticket_result(info, as_json)

    command.__doc__ = doc
    call_app.command(name)(command)


_window_command(
    "next", "call_next", "Call the next ticket to the window (a ticket being served there is finished)."
)
_window_command("recall", "recall", "Call the ticket in hand again (counted; too many recalls → no-show).")
_window_command("no-show", "no_show", "Mark the ticket in hand as a no-show (过号).")
_window_command("start", "start_service", "Start serving the ticket in hand.")
_window_command("finish", "finish", "Finish the ticket in hand.")
_window_command("park", "park", "Park the ticket in hand (挂起); call it back with `wt call ticket`.")


@day_app.command("close")
def day_close(ctx: typer.Context, as_json: bool = JSON) -> None:
    """Close the service day: every ticket of a past day, and of today once the hall's closing time
    has passed, still waiting, called or parked ends as unserved (the system acts; no sign-in).
    Missed runs are caught up before the first ticket taken or called the next day."""
    from rich.console import Console

    from window_terminal.core import queueing
    from window_terminal.i18n import tr

    result = run(ctx, lambda c: queueing.close_day(c.engine(), c.hall().id))

    def render(data: dict[str, Any]) -> None:
        numbers = "、".join(data["tickets"][:20]) + ("…" if len(data["tickets"]) > 20 else "")
        Console().print(
            tr(
                f"已结束 {data['through']} 及以前的服务日：{data['unserved']} 个号记为日终未办 {numbers}",
                f"service days through {data['through']} closed: {data['unserved']} tickets ended unserved "
                f"{numbers}",
            )
        )

    emit(result, as_json, render)


@call_app.command("ticket")
def call_specific(
    ctx: typer.Context,
    ticket: str = typer.Argument(..., help="A001 or #id"),
    window: int | None = WINDOW,
    request_id: str = REQUEST,
    as_json: bool = JSON,
) -> None:
    """Call a specific waiting or parked ticket (call back)."""
    from window_terminal.core import queueing

    window = run(ctx, lambda c: _at_window(c, window))
    _ticket_result(
        run(
            ctx,
            lambda c: queueing.call_ticket(
                c.engine(), c.hall().id, window, ticket, actor=c.actor(), request_id=request_id
            ),
        ),
        as_json,
    )


@call_app.command("transfer")
def call_transfer(
    ctx: typer.Context,
    to: str = typer.Option(..., "--to", help="Target line code."),
    window: int = typer.Option(None, "--window", "-w", help="Transfer the ticket in hand at this window."),
    ticket: str = typer.Option(None, "--ticket", help="Or transfer this waiting ticket."),
    reason: str = typer.Option("", "--reason"),
    request_id: str = REQUEST,
    as_json: bool = JSON,
) -> None:
    """Send a ticket to another line; it keeps its place (只设路标，不设路障)."""
    from window_terminal.core import queueing

    if window is None and ticket is None:
        raise fail("give --window N (the ticket in hand) or --ticket A001")
    _ticket_result(
        run(
            ctx,
            lambda c: queueing.transfer(
                c.engine(),
                c.hall().id,
                to,
                window_number=window,
                ticket_ref=ticket,
                reason=reason,
                actor=c.actor(),
                request_id=request_id,
            ),
        ),
        as_json,
    )


def _window_said(r: dict[str, Any]) -> str:
    from window_terminal.core.hallview import window_state_word
    from window_terminal.i18n import tr

    return tr(
        f"{r['window']}号窗口：{window_state_word(r['status'])}",
        f"window {r['window']}: {window_state_word(r['status'])}",
    )


def _window_state(status: str) -> None:
    def command(
        ctx: typer.Context,
        window: int = typer.Argument(..., help="Window number."),
        request_id: str = REQUEST,
        as_json: bool = JSON,
    ) -> None:
        from window_terminal.core import queueing

        emit(
            run(
                ctx,
                lambda c: queueing.set_window_status(
                    c.engine(), c.hall().id, window, status, actor=c.actor(), request_id=request_id
                ),
            ),
            as_json,
            lambda r: typer.echo(_window_said(r)),
        )

    command.__doc__ = f"Set a window {status}."
    window_app.command({"open": "open", "paused": "pause", "closed": "close"}[status])(command)


for _status in ("open", "paused", "closed"):
    _window_state(_status)


@window_app.command("lines")
def window_lines(
    ctx: typer.Context,
    window: int = typer.Argument(...),
    lines: list[str] = typer.Argument(..., help="CODE or CODE:WEIGHT, e.g. BIZ:2 GEN"),
    as_json: bool = JSON,
) -> None:
    """Change which lines a window serves."""
    from window_terminal.core import queueing

    parsed = []
    for entry in lines:
        code, _, weight = entry.partition(":")
        if weight and not weight.isdigit():
            raise fail(f"{entry!r}: the weight after ':' must be a whole number, like BIZ:2")
        parsed.append((code, int(weight or 1)))
    emit(
        run(
            ctx, lambda c: queueing.set_window_lines(c.engine(), c.hall().id, window, parsed, actor=c.actor())
        ),
        as_json,
        lambda r: typer.echo(json.dumps(r, ensure_ascii=False)),
    )


def _line_state(is_open: bool) -> None:
    def command(ctx: typer.Context, line: str = typer.Argument(...), as_json: bool = JSON) -> None:
        from window_terminal.core import queueing

        emit(
            run(
                ctx, lambda c: queueing.set_line_open(c.engine(), c.hall().id, line, is_open, actor=c.actor())
            ),
            as_json,
            lambda r: typer.echo(f"{r['line']}: {'open' if r['open'] else 'closed'}"),
        )

    command.__doc__ = (
        "Open a line for new tickets."
        if is_open
        else "Close a line for new tickets (waiting tickets are still served)."
    )
    line_app.command("open" if is_open else "close")(command)


_line_state(True)
_line_state(False)


@app.command("broadcast")
def broadcast_cmd(
    ctx: typer.Context, message: str = typer.Argument("", help="Empty clears it."), as_json: bool = JSON
) -> None:
    """Show a short message on the hall display."""
    from window_terminal.core import queueing

    emit(
        run(ctx, lambda c: queueing.broadcast(c.engine(), c.hall().id, message, actor=c.actor())),
        as_json,
        lambda r: typer.echo(r["message"] or "(cleared)"),
    )


@queue_app.command("status")
def queue_status_cmd(
    ctx: typer.Context,
    as_json: bool = JSON,
    watch: bool = typer.Option(False, "--watch", help="Keep the table up to date as the queue changes."),
) -> None:
    """Lines and windows right now: waiting, longest wait, estimated wait, ticket in hand."""
    from window_terminal.core import queueing

    if watch:
        return _watch_status(ctx)
    data = run(ctx, lambda c: queueing.queue_status(c.engine(), c.hall().id))
    emit(data, as_json, _render_status)


def _status_tables(data: dict[str, Any]):
    from rich.console import Group
    from rich.table import Table

    from window_terminal.i18n import tr

    def minutes(seconds: int) -> str:
        return f"{seconds // 60}:{seconds % 60:02d}"

    lines = Table(title=f"{data['name']}  {data['now']}", title_justify="left")
    for col in (
        tr("业务线", "line"),
        tr("名称", "name"),
        tr("状态", "status"),
        tr("等候", "waiting"),
        tr("预约", "booked"),
        tr("最长等候", "longest wait"),
        tr("预计(分)", "est. min"),
        tr("开放窗口", "open windows"),
        tr("今日已办", "served today"),
    ):
        lines.add_column(col)
    for r in data["lines"]:
        lines.add_row(
            r["line"],
            r["name"],
            tr("开", "open") if r["open"] else f"[red]{tr('停', 'closed')}[/]",
            str(r["waiting"]),
            f"{r['booked']}@{r['next_booked']}" if r.get("booked") else "",  # due later, from HH:MM
            minutes(r["longest_wait_s"]),
            str(r["estimated_wait_min"]),
            str(r["open_windows"]),
            str(r["served_today"]),
        )
    windows = Table()
    for col in (
        tr("窗口", "window"),
        tr("状态", "status"),
        tr("工作人员", "staff"),
        tr("业务线", "lines"),
        tr("当前号", "in hand"),
        tr("办理时长", "for"),
    ):
        windows.add_column(col)
    from window_terminal.core.hallview import window_state_word

    colour = {"open": "green", "paused": "yellow", "closed": "dim"}
    for w in data["windows"]:
        windows.add_row(
            str(w["window"]),
            f"[{colour[w['status']]}]{window_state_word(w['status'])}[/]"
            if w["status"] in colour
            else w["status"],
            w["staff"] or "",
            ",".join(w["lines"]),
            w["ticket"] or "",
            minutes(w["in_hand_s"]) if w["in_hand_s"] is not None else "",
        )
    return Group(lines, windows)


def _render_status(data: dict[str, Any]) -> None:
    from rich.console import Console

    Console().print(_status_tables(data))


def _watch_status(ctx: typer.Context) -> None:
    """Redraw the status on every change; a lost connection is said on stderr and retried."""

    def go(c: Context) -> None:
        import time

        from rich.live import Live

        from window_terminal.core import queueing
        from window_terminal.db.engine import DatabaseError
        from window_terminal.db.feed import Feed
        from window_terminal.db.retry import configuration_problem, reconnect_delay
        from window_terminal.errors import DomainError, first_line
        from window_terminal.i18n import tr

        engine, hall = c.engine(), c.hall()
        feed = Feed(engine, hall.id)
        caught_up = False
        failures = 0
        try:
            with Live("", auto_refresh=False) as live:
                while True:
                    try:
                        if not caught_up:
                            feed.fetch()  # skip the day's history: only changes wake us
                            caught_up = True
                        live.update(_status_tables(queueing.queue_status(engine, hall.id)), refresh=True)
                        if failures:
                            typer.echo(tr("已重新连接数据库", "reconnected to the database"), err=True)
                        failures = 0
                        feed.poll(timeout=5)
                    except DomainError:
                        raise
                    except Exception as exc:
                        if problem := configuration_problem(exc):  # waiting will not fix it: say so, exit 2
                            raise DatabaseError(f"{problem}: {first_line(exc)}") from exc
                        cause = first_line(exc)
                        delay = reconnect_delay(failures)
                        if not failures:
                            typer.echo(
                                tr(
                                    f"与数据库的连接中断（{cause}），{delay:g}秒后重试…（Ctrl-C 退出）",
                                    f"lost the connection to the database ({cause}); retrying in "
                                    f"{delay:g} s… (Ctrl-C to quit)",
                                ),
                                err=True,
                            )
                        failures += 1
                        time.sleep(delay)
        except KeyboardInterrupt:
            pass
        finally:
            feed.close()

    run(ctx, go)


@app.command("events")
def events_cmd(
    ctx: typer.Context,
    after: int = typer.Option(0, "--after", help="Start after this sequence number."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep waiting for new events."),
    limit: int = typer.Option(200, "--limit"),
) -> None:
    """The hall's event log (the audit trail), one JSON object a line."""

    def go(c: Context) -> None:
        from window_terminal.db.feed import Feed

        feed = Feed(c.engine(), c.hall().id, after=after, batch=limit)
        events = feed.follow() if follow else iter(feed.fetch())
        try:
            for event in events:
                typer.echo(
                    json.dumps(
                        {
                            "seq": event.seq,
                            "kind": event.kind,
                            "at": event.created_at.isoformat(),
                            "staff_id": event.staff_id,
                            "device": event.device,
                            "window_id": event.window_id,
                            "payload": event.payload,
                        },
                        ensure_ascii=False,
                    )
                )
                sys.stdout.flush()
        except KeyboardInterrupt:
            pass

    run(ctx, go)


def _register_areas() -> None:
    import importlib

    from window_terminal.commands import AREAS

    for area in AREAS:
        importlib.import_module(f"window_terminal.commands.{area}").register(app)


_register_areas()


def main() -> None:
    app()


if __name__ == "__main__":
    # `python -m window_terminal.cli`: run the imported module's app, not this __main__ copy's
    # (two copies would hold two Context classes and lose the global options).
    from window_terminal.cli import main as _main

    _main()
