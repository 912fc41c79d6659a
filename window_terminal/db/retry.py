"""How long to wait before trying a lost database again: one rule for screens, feeds and the CLI.

0.5 s, 1 s, 2 s, 4 s, then every 8 s: quick enough that a blip goes unnoticed, slow enough that a
hall of counters does not hammer a database that is restarting.
"""

from __future__ import annotations

FIRST_DELAY = 0.5
MAX_DELAY = 8.0


def reconnect_delay(attempt: int) -> float:
    """Seconds to wait before retry number ``attempt`` (0 for the first retry)."""
    return min(FIRST_DELAY * 2.0 ** min(max(attempt, 0), 16), MAX_DELAY)
