"""`wt board`, `wt display`, `wt kiosk` and `wt serve display|board` (see commands/__init__.py)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""

    @app.command("board")
    def board(
        ctx: typer.Context,
        sign_in_here: bool = typer.Option(
            False,
            "--sign-in-here",
            hidden=True,
            help="Always start with the sign-in screen: never the session of this PC (`wt serve board`).",
        ),
    ) -> None:
        """The hall manager's board: every line and window live, alerts, and the fixes."""
        from window_terminal.cli import _launch

        _launch(ctx, "board", sign_in_here=sign_in_here)

    @app.command("display")
    def display(ctx: typer.Context) -> None:
        """The public call display for the hall TV (no personal data)."""
        from window_terminal.cli import _launch

        _launch(ctx, "display")

    @app.command("kiosk")
    def kiosk(
        ctx: typer.Context,
        device: str = typer.Option(
            None, "--device", help="The kiosk of hall.toml [[device]] (default: the only one)."
        ),
    ) -> None:
        """The ticket kiosk at the entrance: take a number by line, service item or appointment. It
        runs as a public device and can only issue tickets."""
        from window_terminal.cli import _launch

        _launch(ctx, "kiosk", device=device)

    @app.command("serve")
    def serve(
        ctx: typer.Context,
        screen: str = typer.Argument(..., help="display or board"),
        host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (default: this PC only)."),
        port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
        public_url: str = typer.Option(
            None, "--public-url", help="The address browsers use, e.g. http://192.168.1.20:8000 (board)."
        ),
        voice_pack: Path = typer.Option(
            None, "--voice-pack", help="Folder of recorded call segments (display; default espeak-ng)."
        ),
    ) -> None:
        """Serve the hall TV page (display: HTML, live) or the board (textual-serve) in a browser."""
        from window_terminal.cli import Context, fail, run
        from window_terminal.serve import SERVABLE

        if screen not in SERVABLE:
            raise fail(
                f"cannot serve {screen!r}: choose one of {', '.join(SERVABLE)}, like `wt serve display`"
            )

        def go(c: Context) -> None:
            from window_terminal.cli import boot_in_any_order
            from window_terminal.serve import serve as run_server

            boot_in_any_order(c)
            hall = c.hall()  # check the database and the hall before serving
            if screen == "display":
                from window_terminal.config import data_dir
                from window_terminal.web.server import serve_display

                pack = voice_pack or (Path(c.settings.voice_pack) if c.settings.voice_pack else None)
                if pack is not None and not pack.is_dir():
                    raise ValueError(
                        f"voice pack {pack} is not a folder: give the folder of recorded segments (--voice-pack)"
                    )
                serve_display(
                    c.engine(),
                    hall,
                    host=host,
                    port=port,
                    cache_dir=data_dir() / "voice",
                    voice_pack=pack,
                    language=c.settings.language,
                )
                return
            run_server(
                screen,
                database_url=c.settings.database_url,
                hall=hall.code,
                title=f"{hall.name} · {screen}",
                host=host,
                port=port,
                public_url=public_url,
                language=c.settings.language,
            )

        run(ctx, go)
