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
