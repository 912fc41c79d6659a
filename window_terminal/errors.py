"""Errors a person sees: each names the problem and the fix, in Chinese and in English."""

from __future__ import annotations


class DomainError(Exception):
    """A refused action (illegal move, bad input, unknown name). Never half-written: raised before commit."""

    def __init__(self, zh: str, en: str, *, code: str = "refused") -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en
        self.code = code

    def text(self, language: str = "zh") -> str:
        return self.zh if language == "zh" else self.en

    def __str__(self) -> str:
        return self.en


class NotFound(DomainError):
    def __init__(self, zh: str, en: str) -> None:
        super().__init__(zh, en, code="not_found")


def first_line(exc: BaseException, limit: int = 160) -> str:
    """One line of an unexpected error for a person to read (driver errors carry pages of context)."""
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:limit]
