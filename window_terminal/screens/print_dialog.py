"""DocumentPreview: a modal that shows a stored document as issued, prints it or saves it as PDF.

Any screen pushes it: ``self.app.push_screen(DocumentPreview(number, window=3))``. The document is
loaded, printed and saved in thread workers; print errors show inline in red and the document stays
stored (it can be printed again). Dismisses with the number of successful prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from window_terminal.core import lookup
from window_terminal.i18n import language, tr, tr_lazy
from window_terminal.screens.keys import LocalizedKeys
from window_terminal.screens.work import run_call


class DocumentPreview(LocalizedKeys, ModalScreen[int]):
    """Preview of document ``number``: P print, D save PDF, Esc close."""

    BINDINGS = [
        Binding("p", "print_document", tr_lazy("打印", "Print")),
        Binding("d", "save_pdf", tr_lazy("保存PDF", "Save PDF")),
        Binding("escape", "close", tr_lazy("关闭", "Close")),
    ]
    DEFAULT_CSS = """
    DocumentPreview { align: center middle; }
    DocumentPreview #preview-box {
        width: 90; max-width: 100%; height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    DocumentPreview #preview-title { height: 1; text-style: bold; }
    DocumentPreview #preview-scroll { height: 1fr; border: round $panel; }
    DocumentPreview #preview-text { width: auto; }
    DocumentPreview #preview-message { height: auto; min-height: 1; }
    DocumentPreview #preview-message.error { color: $error; text-style: bold; }
    DocumentPreview #preview-message.ok { color: $success; }
    DocumentPreview #preview-buttons { height: 3; align-horizontal: right; }
    DocumentPreview #preview-buttons Button { margin-left: 1; min-width: 12; }
    """

    def __init__(
        self,
        number: str,
        *,
        window: int | None = None,
        kiosk: bool = False,
        target: str | None = None,
        pdf_path: str | Path | None = None,
        actor: str | None = None,
    ) -> None:
        super().__init__()
        self.actor = actor  # who prints: recorded with the print
        self.number = lookup.code(number)
        self.window = window
        self.kiosk = kiosk
        self.target = target
        self.pdf_path = Path(pdf_path) if pdf_path else None
        self.printed = 0
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="preview-box"):
            yield Static(tr(f"文书 {self.number}", f"Document {self.number}"), id="preview-title")
            with VerticalScroll(id="preview-scroll"):
                yield Static(tr("正在读取…", "Loading…"), id="preview-text", markup=False)
            yield Static("", id="preview-message", markup=False)
            with Horizontal(id="preview-buttons"):
                yield Button(tr("打印 P", "Print P"), id="preview-print", variant="primary", disabled=True)
                yield Button(tr("保存PDF D", "Save PDF D"), id="preview-pdf", disabled=True)
                yield Button(tr("关闭 Esc", "Close Esc"), id="preview-close")

    def on_mount(self) -> None:
        self.query_one("#preview-scroll").focus()
        self.load_document()

    # --- workers ---------------------------------------------------------------------------------

    @property
    def _font(self) -> str | None:
        settings = getattr(self.app, "settings", None)
        return getattr(settings, "cjk_font", None)

    def load_document(self) -> None:
        from window_terminal.core.document_store import get_document
        from window_terminal.core.documents import document_text

        engine, hall_id = self.app.engine, self.app.hall.id  # type: ignore[attr-defined]

        def read() -> tuple[str, str, int, str]:
            document = get_document(engine, hall_id, self.number)
            text = document_text(document.payload)
            payload = document.payload
            title = " ".join(
                part
                for part in (
                    payload.get("title", ""),
                    self.number,
                    tr(f"办件编号 {payload['case_no']}", f"case {payload['case_no']}")
                    if payload.get("case_no")
                    else "",
                )
                if part
            )
            return title, text, document.printed_count, document.last_print_error

        run_call(
            self,
            read,
            done=lambda loaded: self._show_document(*loaded),
            failed=lambda text: self._show_error(text, loaded=False),
            group="document-preview",
            retry=True,
        )

    def run_print(self) -> None:
        from window_terminal.core.documents.printing import print_document

        engine, hall_id = self.app.engine, self.app.hall.id  # type: ignore[attr-defined]
        lang = language()

        def printed(result: Any) -> None:
            if result.ok:
                self.printed += 1
                self._show_ok(tr(f"已打印：{result.path_or_target}", f"Printed: {result.path_or_target}"))
            else:
                self._show_error(
                    tr(
                        f"打印失败（文书已保存，可重新打印）：{result.error_text}",
                        f"Printing failed (the document is kept; print again): {result.error_text}",
                    )
                )

        run_call(
            self,
            lambda: print_document(
                engine,
                hall_id,
                self.number,
                window=self.window,
                kiosk=self.kiosk,
                target=self.target,
                font=self._font,
                actor=self.actor,
                language=lang,
            ),
            done=printed,
            failed=self._show_error,
            group="document-print",
            busy=True,
        )

    def run_save_pdf(self, path: Path) -> None:
        from window_terminal.core.documents.printing import save_pdf

        engine, hall_id = self.app.engine, self.app.hall.id  # type: ignore[attr-defined]
        run_call(
            self,
            lambda: save_pdf(engine, hall_id, self.number, path, font=self._font),
            done=lambda written: self._show_ok(tr(f"已保存PDF：{written}", f"PDF saved: {written}")),
            failed=self._show_error,
            group="document-pdf",
            busy=True,
        )

    # --- on the app's thread ---------------------------------------------------------------------

    def _show_document(self, title: str, text: str, printed_count: int, last_error: str) -> None:
        self.query_one("#preview-title", Static).update(title)
        self.query_one("#preview-text", Static).update(text)
        self.query_one("#preview-print", Button).disabled = False
        self.query_one("#preview-pdf", Button).disabled = False
        if last_error:
            self._show_error(
                tr(
                    f"上次打印失败：{last_error.splitlines()[0]}",
                    f"Last print failed: {last_error.splitlines()[-1]}",
                )
            )
        else:
            self._message(
                tr(
                    f"已打印 {printed_count} 次；PDF 将保存到 {self._pdf_path()}",
                    f"printed {printed_count} time(s); PDF goes to {self._pdf_path()}",
                ),
                "",
            )

    def _show_error(self, text: str, *, loaded: bool = True) -> None:
        if not loaded:
            self.query_one("#preview-text", Static).update("")
        self._message(text, "error")

    def _show_ok(self, text: str) -> None:
        self._message(text, "ok")

    def _message(self, text: str, kind: str) -> None:
        message = self.query_one("#preview-message", Static)
        message.set_classes(kind)
        message.update(text)

    def _pdf_path(self) -> Path:
        if self.pdf_path is not None:
            return self.pdf_path
        from window_terminal.core.documents.printing import default_pdf_dir

        return default_pdf_dir() / f"{self.number}.pdf"

    # --- actions ---------------------------------------------------------------------------------

    def action_print_document(self) -> None:
        if self.query_one("#preview-print", Button).disabled or self.busy:
            return
        self._message(tr("正在打印…", "Printing…"), "")
        self.run_print()

    def action_save_pdf(self) -> None:
        if self.query_one("#preview-pdf", Button).disabled or self.busy:
            return
        path = self._pdf_path()
        self._message(tr(f"正在保存到 {path}…", f"Saving to {path}…"), "")
        self.run_save_pdf(path)

    def action_close(self) -> None:
        self.dismiss(self.printed)

    @on(Button.Pressed, "#preview-print")
    def _print_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_print_document()

    @on(Button.Pressed, "#preview-pdf")
    def _pdf_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_save_pdf()

    @on(Button.Pressed, "#preview-close")
    def _close_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_close()
