"""zh-CN by default, English with a setting: every visible string is written as ``tr(zh, en)``."""

from __future__ import annotations

_language = "zh"


def set_language(language: str) -> None:
    global _language
    _language = "en" if language == "en" else "zh"


def language() -> str:
    return _language


def tr(zh: str, en: str) -> str:
    return en if _language == "en" else zh


def tr_code(words: dict[str, tuple[str, str]], code: str) -> str:
    """The words for ``code`` in a table of (zh, en) pairs — a status, a kind — or the code itself
    when the table does not know it."""
    zh, en = words.get(code, (code, code))
    return tr(zh, en)


class LazyText(str):
    """A text written at import time but shown later: its value is the Chinese, ``en`` the English.

    Key labels in ``BINDINGS`` are evaluated when a screen module is imported, before the app has
    set the language; ``shown(text)`` picks the language in force when the label is drawn.
    """

    en: str

    def __new__(cls, zh: str, en: str) -> LazyText:
        text = super().__new__(cls, zh)
        text.en = en
        return text


def tr_lazy(zh: str, en: str) -> str:
    """``tr`` for texts fixed at import time (key labels): decided when shown, see ``shown``."""
    return LazyText(zh, en)


def shown(text: str) -> str:
    """A text in the current language: a ``tr_lazy`` text translated now, any other unchanged."""
    return tr(text, text.en) if isinstance(text, LazyText) else text
