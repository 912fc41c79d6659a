"""Key labels follow the language: an English hall sees English keys in every footer.

``BINDINGS`` are evaluated when a screen module is imported, before the app sets the language;
their labels are ``tr_lazy`` texts that ``LocalizedKeys`` translates when the footer draws them.
"""

from __future__ import annotations

import ast
import asyncio
import re
from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets._footer import FooterKey

from window_terminal.app import SCREENS, make_app
from window_terminal.config import Settings
from window_terminal.core.hall import resolve_hall
from window_terminal.db.engine import make_engine

CJK = re.compile(r"[\u3400-\u9fff]")
SCREENS_DIR = Path(__file__).resolve().parents[1] / "window_terminal" / "screens"
OPTIONS = {
    "counter": {"window": 2, "staff_code": "C002"},
    "backoffice": {"department": "SCJG"},
    "rate": {"window": 2},
}


def _dialogs():
    from window_terminal.screens import dialogs
    from window_terminal.screens.backoffice import ReasonModal
    from window_terminal.screens.board import PromptModal
    from window_terminal.screens.intake import IntakeScreen
    from window_terminal.screens.print_dialog import DocumentPreview

    return {
        "pick": lambda: dialogs.PickDialog("t", [("a", "a")]),
        "ask": lambda: dialogs.AskDialog("t"),
        "text": lambda: dialogs.TextDialog("t", "x"),
        "non_acceptance": lambda: dialogs.NonAcceptanceDialog(),
        "override": lambda: dialogs.OverrideDialog(),
        "reason": lambda: ReasonModal("t", ("reason",)),
        "prompt": lambda: PromptModal("t", [("x", "x", "")]),
        "intake": lambda: IntakeScreen(window=2, staff_code="C002"),
        "preview": lambda: DocumentPreview("X-0001", window=2),
    }


@pytest.fixture
def env(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    engine = make_engine(sqlite_url)
    yield engine, sqlite_url, tmp_path
    engine.dispose()


def footer_labels(env, language: str, screen: str, pushed=None) -> list[str]:
    engine, url, tmp_path = env
    settings = replace(Settings(database_url=url, drafts_dir=str(tmp_path / "drafts")), language=language)
    app = make_app(
        screen, settings=settings, engine=engine, hall=resolve_hall(engine, None), **OPTIONS.get(screen, {})
    )
    labels: list[str] = []

    async def inner():
        async with app.run_test(size=(160, 40)) as pilot:
            await pilot.pause(0.3)
            if pushed is not None:
                app.push_screen(pushed())
                await pilot.pause(0.3)
            labels.extend(str(key.description) for key in app.screen.query(FooterKey))
            labels.extend(
                str(active.binding.description)
                for active in app.screen.active_bindings.values()
                if active.binding.description
            )

    asyncio.run(inner())
    return labels


@pytest.mark.parametrize("screen", sorted(SCREENS))
def test_every_screen_shows_its_keys_in_english_when_the_hall_is_english(env, screen):
    english = footer_labels(env, "en", screen)
    assert english or screen == "rate"  # the rating pad shows its keys as buttons
    assert not [label for label in english if CJK.search(label)], english


@pytest.mark.parametrize("dialog", sorted(_dialogs()))
def test_every_dialog_shows_its_keys_in_english_when_the_hall_is_english(env, dialog):
    english = footer_labels(env, "en", "status", _dialogs()[dialog])
    assert english
    assert not [label for label in english if CJK.search(label)], english


def test_the_counter_footer_reads_call_in_english_and_jiaohao_by_default(env):
    assert "Call" in footer_labels(env, "en", "counter")
    chinese = footer_labels(env, "zh", "counter")
    assert "叫号" in chinese and "Call" not in chinese


def test_no_screen_translates_a_text_at_import_time():
    """``tr`` outside a function runs at import, before the language is set: use ``tr_lazy``."""
    found = []
    for path in sorted(SCREENS_DIR.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))

        def walk(node: ast.AST, in_function: bool) -> None:
            for child in ast.iter_child_nodes(node):
                inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                if (
                    isinstance(child, ast.Call)
                    and getattr(child.func, "id", None) == "tr"
                    and not in_function
                ):
                    found.append(f"{path.name}:{child.lineno}")  # noqa: B023
                walk(child, inside)

        walk(tree, False)
    assert found == []
