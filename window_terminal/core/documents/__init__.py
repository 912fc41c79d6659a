"""Documents: notices and queue tickets rendered from their frozen JSON snapshots.

- :func:`render_pdf` — A4 PDF notices and 80 mm ticket slips, with an embedded Chinese font and a QR code.
- :func:`document_text` — the same content as monospace Chinese text (terminal preview, ``wt doc show``).
- :func:`ticket_escpos_bytes` / :func:`print_escpos` — ESC/POS tickets for thermal printers (GB18030).
- :func:`find_cjk_font` — the Chinese font used for PDFs.

No Textual here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .content import KINDS, NOTICE_KINDS, PROVISIONAL_NOTE, QR_HINT, TICKET_HINT, cn_date, qr_payload
from .errors import DocumentError, FontNotFound, PrintError
from .fonts import find_cjk_font, load_cjk_font
from .samples import sample_snapshot
from .text import document_text

if TYPE_CHECKING:
    from .escpos import print_escpos, ticket_escpos_bytes
    from .render import render_pdf

# reportlab and python-escpos load only when a PDF or a ticket is actually made.
_LAZY = {"render_pdf": ".render", "ticket_escpos_bytes": ".escpos", "print_escpos": ".escpos"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "KINDS",
    "NOTICE_KINDS",
    "PROVISIONAL_NOTE",
    "QR_HINT",
    "TICKET_HINT",
    "DocumentError",
    "FontNotFound",
    "PrintError",
    "cn_date",
    "document_text",
    "find_cjk_font",
    "load_cjk_font",
    "print_escpos",
    "qr_payload",
    "render_pdf",
    "sample_snapshot",
    "ticket_escpos_bytes",
]
