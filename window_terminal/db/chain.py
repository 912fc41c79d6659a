"""The hash chain of a hall's event log: what an event's hash covers, and how it is computed.

Each event stores ``hash`` = SHA-256 (hex) of one canonical text: its hall, place in the log
(``seq``), kind, payload, actor (``staff_id`` or public ``device``), window, request id, database
time, and the previous event's hash in the same hall (``GENESIS`` for the first). Changing, removing
or slipping in an event breaks the chain from that point on; ``core.audit.verify_chain`` finds where.

The hash is computed where the event gets its number, so the chain follows the log's order:

* SQLite (and nothing else): ``db.unit`` in the command's transaction, with ``event_hash`` below;
* PostgreSQL: ``wt_number_pending`` (migration 0008), for the counters' fast path and for
  ``db.unit`` alike, with the SQL function ``wt_event_hash`` — the same text, built in SQL.

The canonical text is a compact JSON array (no spaces; strings escaped as JSON does, non-ASCII
kept as it is — PostgreSQL's ``to_json(text)`` escapes exactly the same characters)::

    ["wt.event.1",hall_id,seq,kind,staff_id,device,window_id,request_id,"YYYY-MM-DDTHH:MM:SS.ffffff",payload,prev]

``payload`` is the payload's stored text, byte for byte as the database holds it (PostgreSQL's
``json`` type and SQLite's text keep it verbatim), written as a JSON string: the fast path's
``json_build_object`` and Python's ``json.dumps`` spell the same object differently, and re-reading
numbers through a float could change them; the stored text is what both sides see alike. Missing
values are ``null``. The first element names this format: a future one gets a new name.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

FORMAT = "wt.event.1"
GENESIS = ""  # the "previous hash" of a hall's first event


def payload_text(payload: dict[str, Any]) -> str:
    """The text a payload is stored as by ``db.unit`` (SQLAlchemy's JSON type: ``json.dumps``)."""
    return json.dumps(payload)


def timestamp_text(moment: datetime) -> str:
    """A naive UTC database time, always with six fractional digits (SQL: ``to_char(…, '…US')``)."""
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond:06d}"


def canonical(
    *,
    hall_id: int,
    seq: int,
    kind: str,
    payload: str,
    staff_id: int | None,
    device: str | None,
    window_id: int | None,
    request_id: str | None,
    created_at: datetime,
    prev: str,
) -> str:
    """The text an event's hash is taken over (see the module docstring); ``payload`` is its stored text."""
    fields = [
        FORMAT,
        hall_id,
        seq,
        kind,
        staff_id,
        device,
        window_id,
        request_id,
        timestamp_text(created_at),
        payload,
        prev,
    ]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


def event_hash(**fields: Any) -> str:
    """SHA-256 (hex) of ``canonical(**fields)``."""
    return hashlib.sha256(canonical(**fields).encode("utf-8")).hexdigest()
