"""Key labels that follow the language: the footer and the key panel show ``tr_lazy`` labels now.

    class CounterScreen(LocalizedKeys, Screen[None]):
        BINDINGS = [Binding("f2", "call_next", tr_lazy("叫号", "Call"))]

``BINDINGS`` are evaluated when a module is imported, before the app sets the language, so their
labels are written with ``tr_lazy``. Textual's footer and key panel read every label of a screen
(its own and its widgets') through ``Screen.active_bindings``; this mixin translates them there.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual.binding import ActiveBinding
from textual.screen import Screen

from window_terminal.i18n import shown


class LocalizedKeys(Screen[Any]):  # a mixin: the screen itself gives the result type
    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        return {
            key: active._replace(
                binding=replace(active.binding, description=shown(active.binding.description))
            )
            for key, active in super().active_bindings.items()
        }
