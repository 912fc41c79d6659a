"""Local drafts of half-filled intakes: they survive closing the app and a database outage.

One JSON file per draft in ``settings.drafts_path``, keyed by what the intake is for
(``ticket-123``, ``walkin-w3``, ``case-JINJ202611210001``); written atomically, removed when the
intake finishes.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any


def draft_key(*, ticket_id: int | None = None, window: int | None = None, case_no: str | None = None) -> str:
    if case_no:
        return f"case-{case_no}"
    if ticket_id is not None:
        return f"ticket-{ticket_id}"
    return f"walkin-w{window or 0}"


def _path(folder: Path, key: str) -> Path:
    return Path(folder) / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', key)}.json"


def save_draft(folder: Path, key: str, data: dict[str, Any]) -> Path:
    path = _path(folder, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return path


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
