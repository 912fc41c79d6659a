"""A list of choices that pages safely when it has no room (Textual's OptionList, one guard added)."""

from __future__ import annotations

from textual.widgets import OptionList


class ChoiceList(OptionList):
    """Textual's ``OptionList``; PageUp/PageDown do nothing while the list has no room to show a line.

    Textual lays out an option list's lines only once it has a visible area; a list squeezed to no
    height (a small terminal, or results replaced between two key presses) then has no lines, and
    paging looked up the highlighted option's line and raised ``KeyError`` — the kiosk crashed after
    a few thousand random keys in ``benchmarks/fuzz_inputs.py``. With no room there is nothing to
    page through, so the keys are ignored; everything else is Textual's.
    """

    def action_page_up(self) -> None:
        if self.scrollable_content_region:
            super().action_page_up()

    def action_page_down(self) -> None:
        if self.scrollable_content_region:
            super().action_page_down()
