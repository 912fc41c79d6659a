"""How long to wait before trying a lost database again, and what waiting cannot fix: one rule for
screens, feeds and the CLI.

0.5 s, 1 s, 2 s, 4 s, then every 8 s: quick enough that a blip goes unnoticed, slow enough that a
hall of counters does not hammer a database that is restarting.

A database that is down, restarting, failing over or behind a dead link comes back by itself, so
callers wait and retry. A refused password, a missing permission, an unknown database or role, or a
malformed URL does not, nor a damaged database file or a full disk (db/storage.py):
:func:`configuration_problem` names those, and callers say so and stop.
"""

from __future__ import annotations

FIRST_DELAY = 0.5
MAX_DELAY = 8.0

# SQLSTATEs and libpq messages that retrying will not change
_CONFIG_STATES = {
    "42501": "permission denied",
    "28000": "the server refused this user",
    "28P01": "the password was refused",
    "3D000": "the database does not exist",
    "42P01": "a table is missing (run `wt db upgrade`)",
    "42883": "a function is missing (run `wt db upgrade`)",
}
_CONFIG_WORDS = (
    ("password authentication failed", "the password was refused"),
    ("no pg_hba.conf entry", "the server's pg_hba.conf does not admit this PC"),
    ("permission denied", "permission denied"),
    ("does not exist", "the database or user does not exist"),
    ("invalid connection option", "the database URL has an invalid option"),
    ("invalid dsn", "the database URL is malformed"),
    ("invalid integer value", "the database URL is malformed"),
    ('missing "="', "the database URL is malformed"),
    (
        "certificate verify failed",
        "the server's certificate is not signed by the hall's CA: check sslrootcert in the URL (docs/tls.md)",
    ),
    (
        "does not match host name",
        "the server's certificate names another host: check the URL's host (docs/tls.md)",
    ),
    ("root certificate file", "the hall CA's certificate file (sslrootcert) cannot be read (docs/tls.md)"),
    ("server does not support ssl", "the server does not speak TLS: turn ssl on (docs/tls.md)"),
)


def reconnect_delay(attempt: int) -> float:
    """Seconds to wait before retry number ``attempt`` (0 for the first retry)."""
    return min(FIRST_DELAY * 2.0 ** min(max(attempt, 0), 16), MAX_DELAY)


def configuration_problem(exc: BaseException) -> str | None:
    """What is wrong, when ``exc`` is an error that waiting will not fix; None when it may pass."""
    from window_terminal.db.storage import storage_fault

    if fault := storage_fault(exc):  # a damaged file, a full disk: named by db/storage.py
        return fault.en
    seen: BaseException | None = exc
    while seen is not None:
        state = getattr(seen, "sqlstate", None)
        if isinstance(state, str) and state in _CONFIG_STATES:
            return _CONFIG_STATES[state]
        seen = getattr(seen, "orig", None) or seen.__cause__
    text = str(exc).lower()
    for words, meaning in _CONFIG_WORDS:
        if words in text:
            return meaning
    return None
