"""`wt login`, `wt logout`, `wt whoami`, `wt pin change`, `wt staff unlock` (see commands/__init__.py).

The PIN is read from the terminal without echo, or from standard input when that is not a terminal
(for scripts: ``printf '1234\\n' | wt login C004``); it is never taken as an argument, never printed,
never logged.
"""

from __future__ import annotations

import sys

import typer


def _read_secret(prompt: str) -> str:
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(prompt)
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""
    from window_terminal.commands import shared_group

    pin_app = shared_group(app, "pin", "Your PIN.")
    staff_app = shared_group(app, "staff", "Staff members: unlock after too many wrong PINs.")

    @app.command("login")
    def login_cmd(
        ctx: typer.Context,
        code: str = typer.Argument(..., help="Your staff code, e.g. C004."),
        window: int = typer.Option(
            None, "--window", "-w", help="The window you work at: opened for you; your calls go there."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Sign in on this PC: every command that changes something acts in your name until you sign
        out, stay idle too long, or the service day ends. The PIN is asked for without echo, or read
        from standard input in a script. With --window a clerk signs in at that window (it is opened
        for them): calls and every window command go to it (`wt window open N` does the same)."""
        from window_terminal.cli import Context, emit, run
        from window_terminal.i18n import tr

        pin = _read_secret("PIN: ")

        def go(c: Context) -> dict[str, object]:
            from window_terminal.core.sessions import open_session
            from window_terminal.db.clock import to_local

            open_session(c.engine(), c.hall().id, c.settings.session_path, code, pin)
            signed = c.signed_in()
            ends_local = to_local(signed.ends_at, c.hall().timezone)
            result = {**signed.as_dict(), "ends_local": f"{ends_local:%Y-%m-%d %H:%M}"}
            if window is not None:
                from window_terminal.core.queueing import set_window_status

                result["window"] = set_window_status(
                    c.engine(), c.hall().id, window, "open", actor=signed.code
                )["window"]
            return result

        result = run(ctx, go)
        emit(
            result,
            as_json,
            lambda r: typer.echo(
                tr(
                    f"已登录：{r['name']}（{r['staff']}），有效至 {r['ends_local']}"
                    + (f"，{r['window']}号窗口" if r.get("window") else ""),
                    f"signed in: {r['name']} ({r['staff']}) until {r['ends_local']}"
                    + (f", at window {r['window']}" if r.get("window") else ""),
                )
            ),
        )

    @app.command("logout")
    def logout_cmd(ctx: typer.Context) -> None:
        """Sign out on this PC."""
        from window_terminal.cli import Context, run
        from window_terminal.i18n import tr

        def go(c: Context) -> str | None:
            from window_terminal.core import access
            from window_terminal.core.sessions import close_session, current
            from window_terminal.errors import DomainError

            settings = c.settings
            try:  # an idle session can still be closed in its owner's name
                code = current(c.engine(), c.hall().id, settings.session_path).code
            except DomainError:
                return close_session(settings.session_path)
            access.run_as(
                c.engine(),
                c.hall().id,
                "staff.logout",
                lambda u: u.emit("staff.logout", {"staff": code}),
                code,
            )
            return close_session(settings.session_path)

        code = run(ctx, go)
        typer.echo(
            tr(f"已退出登录（{code}）", f"signed out ({code})") if code else tr("未登录", "not signed in")
        )

    @app.command("whoami")
    def whoami_cmd(
        ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")
    ) -> None:
        """Who is signed in on this PC (exit 2 when nobody is)."""
        from window_terminal.cli import Context, emit, run

        def go(c: Context) -> dict[str, object]:
            return c.signed_in().as_dict()

        emit(run(ctx, go), as_json, lambda r: typer.echo(f"{r['name']} ({r['staff']}, {r['role']})"))

    @pin_app.command("change")
    def pin_change(
        ctx: typer.Context, code: str = typer.Argument(..., help="Your staff code, e.g. C004.")
    ) -> None:
        """Change your PIN (the initial PIN from the hall definition must be changed first). Asks for
        the old PIN, then the new one twice."""
        from window_terminal.cli import Context, fail, run
        from window_terminal.i18n import tr

        old = _read_secret(tr("原PIN: ", "old PIN: "))
        new = _read_secret(tr("新PIN: ", "new PIN: "))
        again = _read_secret(tr("再次输入新PIN: ", "new PIN again: "))
        if new != again:
            raise fail(tr("两次输入的新PIN不一致：请重新运行", "the two new PINs differ: run it again"))

        def go(c: Context) -> None:
            from window_terminal.core.staff import change_pin

            change_pin(c.engine(), c.hall().id, code, old, new)

        run(ctx, go)
        typer.echo(
            tr("PIN 已修改：请用新PIN登录（wt login）", "PIN changed: sign in with the new PIN (wt login)")
        )

    @staff_app.command("unlock")
    def staff_unlock(
        ctx: typer.Context,
        code: str = typer.Argument(..., help="The locked-out staff member's code."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """A hall manager lets a locked-out staff member sign in again (recorded)."""
        from window_terminal.cli import Context, emit, run
        from window_terminal.i18n import tr

        def go(c: Context) -> dict[str, object]:
            from window_terminal.core.staff import unlock

            return unlock(c.engine(), c.hall().id, code, actor=c.actor())

        emit(
            run(ctx, go),
            as_json,
            lambda r: typer.echo(
                tr(f"已解锁 {r['name']}（{r['staff']}）", f"unlocked {r['name']} ({r['staff']})")
            ),
        )
