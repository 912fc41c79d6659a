"""Local drafts of half-filled intakes: they survive closing the app and a database outage.

One JSON file per draft in ``settings.drafts_path``, keyed by what the intake is for
(``ticket-123``, ``walkin-w3``, ``case-JINJ202611210001``); written atomically, removed when the
intake finishes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from window_terminal.core.privacy import write_private_file


def draft_key(*, ticket_id: int | None = None, window: int | None = None, case_no: str | None = None) -> str:
    if case_no:
        return f"case-{case_no}"
    if ticket_id is not None:
        return f"ticket-{ticket_id}"
    return f"walkin-w{window or 0}"


def _path(folder: Path, key: str) -> Path:
    return Path(folder) / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', key)}.json"


def save_draft(folder: Path, key: str, data: dict[str, Any]) -> Path:
    """Keep ``data`` (it may hold an applicant's ID number) readable by this OS user only, until the
    intake finishes and ``remove_draft`` deletes it."""
    return write_private_file(_path(folder, key), json.dumps(data, ensure_ascii=False, indent=1))


def load_draft(folder: Path, key: str) -> dict[str, Any] | None:
    path = _path(folder, key)
    try:
        return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]  # json.loads is Any: a draft is the dict save_draft wrote
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def remove_draft(folder: Path, key: str) -> None:
    try:
        _path(folder, key).unlink()
    except FileNotFoundError:
        pass
