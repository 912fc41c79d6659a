"""The manager's board in a browser (``wt serve board``), with textual-serve.

Each browser tab that opens the page gets its own copy of the screen, started as
``<python> -m window_terminal.cli --db URL --hall CODE board --sign-in-here``: every browser signs
in with its own staff code and PIN, never with the session of the PC the server runs on, and the page
loads nothing from outside the hall (``hall_only_templates``). The server binds to 127.0.0.1
unless told otherwise (``--host 0.0.0.0 --public-url http://192.168.1.20:8000`` on the hall's
network). The hall TV is not a terminal in a browser: ``wt serve display`` serves its own page
(``window_terminal.web``).
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

SERVABLE = ("display", "board")


def serve_command(screen: str, *, database_url: str, hall: str | None, language: str | None = None) -> str:
    """The shell command textual-serve runs for each browser session.

    A staff screen always starts with its own sign-in (``--sign-in-here``): a browser on the hall's
    network never borrows the session of the PC the server runs on."""
    if screen not in SERVABLE:
        raise ValueError(f"cannot serve {screen!r}: choose one of {', '.join(SERVABLE)}")
    parts = [sys.executable, "-m", "window_terminal.cli", "--db", database_url]
    if hall:
        parts += ["--hall", hall]
    if language:
        parts += ["--lang", language]
    parts.append(screen)
    if screen == "board":
        parts.append("--sign-in-here")
    return " ".join(shlex.quote(p) for p in parts)


# textual-serve's page asks a public font service for Roboto Mono; a government network blocks it, and
# nothing of a hall's screens may come from outside the hall. The page is served from a copy of the
# package's template without that link (the terminal falls back to the browser's monospace font).
_OUTSIDE_FONT = re.compile(r'<link\s+rel="stylesheet"\s+href="https://fonts\.googleapis\.com/[^"]*"\s*/>')
_ANY_OUTSIDE = re.compile(r'(?:href|src)="(?:https?:)?//')


def hall_only_templates(folder: Path) -> Path:
    """A templates folder for textual-serve whose page loads nothing from outside the hall."""
    import textual_serve

    original = (Path(textual_serve.__file__).parent / "templates" / "app_index.html").read_text(
        encoding="utf-8"
    )
    page, removed = _OUTSIDE_FONT.subn("", original)
    if removed != 1 or _ANY_OUTSIDE.search(page):
        raise RuntimeError(
            "textual-serve's page template changed: check what it loads from outside the hall "
            "(window_terminal/serve.py hall_only_templates) before serving the board"
        )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app_index.html").write_text(page, encoding="utf-8")
    return folder


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
    import tempfile

    from textual_serve.server import Server

    command = serve_command(screen, database_url=database_url, hall=hall, language=language)
    with tempfile.TemporaryDirectory(prefix="wt-serve-") as folder:
        templates = hall_only_templates(Path(folder))
        Server(
            command=command,
            host=host,
            port=port,
            title=title,
            public_url=public_url,
            templates_path=templates,
        ).serve()
