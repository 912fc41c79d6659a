"""The shared widgets' own behaviour."""

from __future__ import annotations

import asyncio

import pytest
from textual.app import App, ComposeResult
from textual.widgets import OptionList

from window_terminal.widgets.lists import ChoiceList


def _page_through_a_list_with_no_room(kind: type[OptionList]) -> int | None:
    class Squeezed(App[None]):
        CSS = "OptionList { height: 0; }"

        def compose(self) -> ComposeResult:
            yield kind(*(f"事项 {i}" for i in range(30)))

    async def run() -> int | None:
        app = Squeezed()
        async with app.run_test(size=(80, 24)) as pilot:
            options = app.query_one(kind)
            options.focus()
            options.highlighted = 3
            await pilot.press("pageup", "pagedown", "pageup")
            return options.highlighted

    return asyncio.run(run())


def test_paging_a_choice_list_with_no_room_keeps_its_place() -> None:
    # Shrunk from benchmarks/fuzz_inputs.py (kiosk, seed 1, key 5990): PageUp on the item results
    # squeezed to no height raised KeyError inside Textual's OptionList and crashed the kiosk.
    assert _page_through_a_list_with_no_room(ChoiceList) == 3


def test_textuals_own_list_still_needs_the_guard() -> None:
    # If Textual fixes this, ChoiceList can go: this test will then fail and say so.
    with pytest.raises(KeyError):
        _page_through_a_list_with_no_room(OptionList)
