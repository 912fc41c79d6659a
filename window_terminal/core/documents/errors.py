"""Errors of the document layer: each names the problem and the fix, in English and in Chinese."""

from __future__ import annotations


class DocumentError(Exception):
    """A document cannot be rendered or printed.

    ``str(error)`` holds the English and the Chinese message; ``.en`` / ``.zh`` / ``.text(language)``
    give one language, like :class:`window_terminal.errors.DomainError`.
    """

    def __init__(self, en: str, zh: str | None = None) -> None:
        self.en = en
        self.zh = zh or en
        super().__init__(en if zh is None else f"{en}\n{zh}")

    def text(self, language: str = "zh") -> str:
        return self.zh if language == "zh" else self.en


class FontNotFound(DocumentError):
    """No usable (embeddable, TrueType-outline) Chinese font was found."""


class PrintError(DocumentError):
    """A printer could not be reached or refused the job."""
