"""The manager's board in a browser (``wt serve board``), with textual-serve.

Each browser tab that opens the page gets its own copy of the screen, started as
``<python> -m window_terminal.cli --db URL --hall CODE board``. The server binds to 127.0.0.1
unless told otherwise (``--host 0.0.0.0 --public-url http://192.168.1.20:8000`` on the hall's
network). The hall TV is not a terminal in a browser: ``wt serve display`` serves its own page
(``window_terminal.web``).
"""

from __future__ import annotations

import shlex
import sys

SERVABLE = ("display", "board")


def serve_command(screen: str, *, database_url: str, hall: str | None, language: str | None = None) -> str:
    """The shell command textual-serve runs for each browser session."""
    if screen not in SERVABLE:
        raise ValueError(f"cannot serve {screen!r}: choose one of {', '.join(SERVABLE)}")
    parts = [sys.executable, "-m", "window_terminal.cli", "--db", database_url]
    if hall:
        parts += ["--hall", hall]
    if language:
        parts += ["--lang", language]
    parts.append(screen)
    return " ".join(shlex.quote(p) for p in parts)


def serve(
    screen: str,
    *,
    database_url: str,
    hall: str | None,
    title: str,
    host: str = "127.0.0.1",
    port: int = 8000,
    public_url: str | None = None,
    language: str | None = None,
) -> None:
    """Run the web server until Ctrl+C (or SIGTERM)."""
    from textual_serve.server import Server

    command = serve_command(screen, database_url=database_url, hall=hall, language=language)
    Server(command=command, host=host, port=port, title=title, public_url=public_url).serve()
