"""The command palette (Ctrl+P): the keys of the screen in front, in its language, found by name,
by action or by pinyin initials — "jh" finds 叫号, "ycxgz" finds 一次性告知.

One provider for every screen: it lists what the footer and the key panel list (the screen's and
its focused widget's active bindings, already in the screen's language through ``LocalizedKeys``),
so the palette never offers a command the screen would refuse, nor one in the other language.
Textual's own system commands (theme, screenshot, in English) are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from window_terminal.i18n import shown


@lru_cache(maxsize=512)
def _pinyin(label: str) -> tuple[str, str]:
    """(full pinyin, initials) of a label; the catalogue's rule (core/hall.py)."""
    from window_terminal.core.hall import pinyin_keys

    return pinyin_keys(label)


class ScreenCommands(Provider):
    def _commands(self) -> Iterator[tuple[str, str, str, Callable[[], Any]]]:
        screen = self.screen
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if binding.action in ("command_palette", "app.command_palette") or not binding.description:
                continue
            if not active.enabled:
                continue
            label = shown(binding.description)
            if (label, binding.action) in seen:  # type: ignore[comparison-overlap]
                continue
            seen.add((label, binding.action))  # type: ignore[arg-type]
            key = binding.key_display or self.app.get_key_display(binding)
            yield label, key, binding.action, _runner(self.app, binding.action, active.node)

    async def discover(self) -> Hits:
        for label, key, _, run in self._commands():
            yield DiscoveryHit(f"{label}  [{key}]", run, help=key)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        typed = query.strip().lower().replace(" ", "")
        for label, key, action, run in self._commands():
            score = max(matcher.match(label), matcher.match(action) * 0.5)
            if typed.isascii() and typed.isalpha():
                full, initials = _pinyin(label)
                if initials.startswith(typed):
                    score = max(score, 1.0)
                elif typed in initials or typed in full:
                    score = max(score, 0.8)
            if score > 0:
                yield Hit(score, f"{label}  [{key}]", run, help=key)


def _runner(app: Any, action: str, node: Any) -> Callable[[], Any]:
    return lambda: app.run_action(action, node)
