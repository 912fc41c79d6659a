"""Finding a service item as the clerk types: by name, code, full pinyin or pinyin initials.

    index = catalogue_index(engine, hall_id)   # built once per hall, kept in memory
    index.search("yyzz")                        # → 营业执照…, fast enough for every keystroke

The index is plain lists of lower-cased keys scanned with ``in`` — over a thousand items that is
well under a millisecond; ranking puts code and initials prefixes first.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, select

from window_terminal.core import lookup
from window_terminal.db.engine import read_session
from window_terminal.db.models import Line, ServiceItem


@dataclass(frozen=True)
class CatalogueEntry:
    id: int
    code: str
    name: str
    line: str
    pinyin: str = ""
    initials: str = ""
    promised_days: int = 0
    line_name: str = ""


class CatalogueIndex:
    def __init__(self, entries: Iterable[CatalogueEntry]) -> None:
        self.entries = list(entries)
        self._keys = [
            (e.code.lower(), e.name.lower(), e.pinyin.lower(), e.initials.lower()) for e in self.entries
        ]

    def __len__(self) -> int:
        return len(self.entries)

    def search(self, query: str, limit: int = 30) -> list[CatalogueEntry]:
        """Items matching every word of ``query``; best first (prefix of code/initials/name/pinyin)."""
        terms = lookup.typed(query).lower().split()
        if not terms:
            return self.entries[:limit]
        scored: list[tuple[int, int]] = []
        for position, (code, name, pinyin, initials) in enumerate(self._keys):
            score = 0
            for term in terms:
                if code.startswith(term) or initials.startswith(term):
                    score += 0
                elif name.startswith(term) or pinyin.startswith(term):
                    score += 1
                elif term in name or term in initials or term in code:
                    score += 2
                elif term in pinyin:
                    score += 3
                else:
                    break
            else:
                scored.append((score, position))
        scored.sort()
        return [self.entries[p] for _, p in scored[:limit]]


_cache: dict[tuple[str, int], CatalogueIndex] = {}
_lock = threading.Lock()


def load_entries(engine: Engine, hall_id: int) -> list[CatalogueEntry]:
    with read_session(engine) as s:
        rows = s.execute(
            select(ServiceItem, Line.code, Line.name)
            .join(Line, Line.id == ServiceItem.line_id)
            .where(ServiceItem.hall_id == hall_id, ServiceItem.active, Line.active)
            .order_by(Line.sort_order, ServiceItem.code)  # by line, as the hall lists them
        ).all()
    return [
        CatalogueEntry(i.id or 0, i.code, i.name, line, i.pinyin, i.initials, i.promised_days, line_name)
        for i, line, line_name in rows
    ]


def catalogue_index(engine: Engine, hall_id: int, *, refresh: bool = False) -> CatalogueIndex:
    """The hall's index, built on first use (``refresh=True`` after ``wt hall load``)."""
    key = (engine.url.render_as_string(hide_password=True), hall_id)
    with _lock:
        index = _cache.get(key)
    if index is None or refresh:
        index = CatalogueIndex(load_entries(engine, hall_id))
        with _lock:
            _cache[key] = index
    return index
