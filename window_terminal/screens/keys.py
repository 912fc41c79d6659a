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

from window_terminal.i18n import shown, tr


def _description(action: str, description: str) -> str:
    if action in ("command_palette", "app.command_palette"):
        return tr("命令", "commands")  # Textual writes "palette" whatever the language
    return shown(description)


class LocalizedKeys(Screen[Any]):  # a mixin: the screen itself gives the result type
    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        return {
            key: active._replace(
                binding=replace(
                    active.binding,
                    description=_description(active.binding.action, active.binding.description),
                    group=(
                        replace(active.binding.group, description=shown(active.binding.group.description))
                        if active.binding.group is not None
                        else None
                    ),
                )
            )
            for key, active in super().active_bindings.items()
        }
