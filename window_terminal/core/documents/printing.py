"""Printers and printing: which printer a window or the kiosk uses, and sending a stored document to it.

Printers are configured in the hall definition (``queue/``)::

    # windows.toml — per window
    printer = { kind = "pdf", dir = "/var/spool/wt/w3" }          # PDF files in a folder
    printer = { kind = "lp", queue = "counter3" }                 # the system print queue (CUPS `lp`)
    printer = { kind = "escpos", target = "network:192.0.2.10:9100" }   # thermal ticket printer

    # hall.toml — the ticket kiosk
    [kiosk]
    printer = { kind = "escpos", target = "file:/dev/usb/lp0" }

With nothing configured, documents are written as PDF files to ``<data dir>/documents``.
A target given by hand (``wt doc print --printer``) may be ``pdf:DIR``, ``lp:QUEUE``, or an ESC/POS
target (``file:PATH``, ``network:HOST:PORT``, ``usb:VID:PID``).

A failed print never loses the document: it was stored when it was issued. The failure is recorded on
the document (``last_print_error``) and as a ``document.print_failed`` event, and the returned
:class:`PrintResult` carries a message that names the problem and the fix. No Textual here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from window_terminal.core import access, lookup
from window_terminal.core.document_store import TITLES, get_document
from window_terminal.core.privacy import mask_name
from window_terminal.db.clock import local_midnight_utc, to_local
from window_terminal.db.engine import read_session
from window_terminal.db.models import Case, Document, Hall, Window
from window_terminal.db.unit import Unit
from window_terminal.errors import DomainError, NotFound

from .errors import DocumentError, PrintError

KINDS = ("pdf", "lp", "escpos")
ESCPOS_SCHEMES = ("file", "network", "usb")
LP_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Printer:
    """Where a document goes: a PDF folder, a system print queue, or an ESC/POS ticket printer."""

    kind: str  # pdf | lp | escpos
    dir: str = ""  # pdf
    queue: str = ""  # lp
    target: str = ""  # escpos: file:PATH | network:HOST:PORT | usb:VID:PID
    encoding: str = "gb18030"  # escpos
    options: tuple[str, ...] = ()  # lp: extra `-o` options, e.g. ("media=A4", "sides=one-sided")
    source: str = ""  # where it was configured, for messages

    def describe(self) -> str:
        if self.kind == "pdf":
            return f"pdf:{self.dir}"
        if self.kind == "lp":
            return f"lp:{self.queue}"
        return self.target


@dataclass
class PrintResult:
    """The outcome of one print: ``ok``, where it went, and on failure the message for the screen."""

    ok: bool
    path_or_target: str
    error_text: str = ""
    number: str = ""
    printer: str = ""
    error: DocumentError | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "number": self.number,
            "printer": self.printer,
            "path_or_target": self.path_or_target,
            "error": self.error_text,
        }


def default_pdf_dir() -> Path:
    from window_terminal.config import data_dir

    return data_dir() / "documents"


def _bad_config(where: str, problem_en: str, problem_zh: str) -> DomainError:
    example = 'printer = { kind = "pdf", dir = "/var/spool/wt" } | { kind = "lp", queue = "counter3" } | '
    example += '{ kind = "escpos", target = "network:192.0.2.10:9100" }'
    return DomainError(
        f"{where} 的打印机设置有误：{problem_zh}。示例：{example}",
        f"{where}: printer setting is wrong: {problem_en}. Example: {example}",
        code="bad_printer",
    )


def parse_printer(value: Any, where: str = "printer") -> Printer:
    """A printer from its TOML table (or a target string such as ``lp:counter3``)."""
    if isinstance(value, str):
        return parse_target(value, where)
    if not isinstance(value, dict):
        raise _bad_config(
            where, f"expected a table, not {value!r}", f"应为一个表（{{ kind = ... }}），而不是 {value!r}"
        )
    kind = value.get("kind")
    if kind not in KINDS:
        raise _bad_config(
            where,
            f"kind must be one of {', '.join(KINDS)}, not {kind!r}",
            f"kind 应为 pdf、lp 或 escpos，而不是 {kind!r}",
        )
    if kind == "pdf":
        folder = value.get("dir") or str(default_pdf_dir())
        if not isinstance(folder, str):
            raise _bad_config(where, "dir must be a folder path in quotes", "dir 应为带引号的文件夹路径")
        return Printer("pdf", dir=os.path.expanduser(folder), source=where)
    if kind == "lp":
        queue = value.get("queue")
        if not isinstance(queue, str) or not queue.strip():
            raise _bad_config(
                where,
                "an lp printer needs queue = the CUPS queue name (see `lpstat -p`)",
                "lp 打印机需要 queue = 打印队列名（见 lpstat -p）",
            )
        options = value.get("options") or []
        if isinstance(options, str):
            options = [options]
        return Printer("lp", queue=queue.strip(), options=tuple(str(o) for o in options), source=where)
    target = value.get("target")
    if not isinstance(target, str) or target.partition(":")[0].lower() not in ESCPOS_SCHEMES:
        raise _bad_config(
            where,
            "an escpos printer needs target = file:PATH, network:HOST:PORT or usb:VID:PID",
            "escpos 打印机需要 target = file:路径、network:主机:端口 或 usb:厂商ID:产品ID",
        )
    encoding = value.get("encoding", "gb18030")
    return Printer("escpos", target=target.strip(), encoding=str(encoding), source=where)


def parse_target(text: str, where: str = "--printer") -> Printer:
    """``pdf:DIR``, ``lp:QUEUE`` or an ESC/POS target (``file:``, ``network:``, ``usb:``)."""
    scheme, sep, rest = text.strip().partition(":")
    scheme = scheme.lower()
    if sep and rest.strip():
        if scheme == "pdf":
            return Printer("pdf", dir=os.path.expanduser(rest.strip()), source=where)
        if scheme == "lp":
            return Printer("lp", queue=rest.strip(), source=where)
        if scheme in ESCPOS_SCHEMES:
            return Printer("escpos", target=text.strip(), source=where)
    raise _bad_config(
        where,
        f"{text!r} is not a printer; use pdf:DIR, lp:QUEUE, file:PATH, network:HOST:PORT or usb:VID:PID",
        f"{text!r} 不是有效的打印机；应为 pdf:文件夹、lp:打印队列、file:路径、network:主机:端口 或 usb:厂商ID:产品ID",
    )


def configured_printer(
    engine: Engine, hall_id: int, *, window: int | None = None, kiosk: bool = False
) -> Printer:
    """The printer of ``window`` (windows.toml) or of the kiosk (hall.toml [kiosk]); PDF files by default."""
    with read_session(engine) as session:
        if window is not None:
            settings = session.execute(
                select(Window.settings).where(Window.hall_id == hall_id, Window.number == window)
            ).scalar_one_or_none()
            if settings is None:
                raise NotFound(
                    f"没有 {window} 号窗口：请核对窗口号（见 queue/windows.toml）",
                    f"no window {window}: check the window number (see queue/windows.toml)",
                )
            if (settings or {}).get("printer") is not None:
                return parse_printer(settings["printer"], f"windows.toml 窗口 {window} / window {window}")
        if kiosk:
            hall_settings = session.execute(
                select(Hall.settings).where(Hall.id == hall_id)
            ).scalar_one_or_none()
            kiosk_settings = (hall_settings or {}).get("kiosk") or {}
            if kiosk_settings.get("printer") is not None:
                return parse_printer(kiosk_settings["printer"], "hall.toml [kiosk]")
    return Printer("pdf", dir=str(default_pdf_dir()), source="default")


# --- rendering and sending -------------------------------------------------------------------------


def render_for(printer: Printer, snapshot: dict[str, Any], *, font: str | None = None) -> bytes:
    """The bytes ``printer`` takes for ``snapshot``: ESC/POS for a ticket printer, PDF otherwise."""
    if printer.kind == "escpos":
        if snapshot.get("kind") != "ticket":
            raise PrintError(
                f"The ticket printer {printer.describe()} prints queue tickets only; print notices on an A4 "
                'printer (a window\'s printer = { kind = "lp" } or "pdf", or --printer lp:QUEUE).',
                f"小票打印机 {printer.describe()} 只能打印排队小票；通知书请用A4打印机"
                "（窗口的 printer 设为 lp 或 pdf，或 --printer lp:打印队列）。",
            )
        from .escpos import ticket_escpos_bytes

        return ticket_escpos_bytes(snapshot, encoding=printer.encoding)
    from .render import render_pdf

    return render_pdf(snapshot, font=font)


def write_pdf_file(data: bytes, path: Path) -> Path:
    """Write ``data`` to ``path`` (atomically); an unwritable place raises a :class:`PrintError`."""
    path = Path(path).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".wt-", suffix=".pdf", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise PrintError(
            f"Cannot write the PDF to {path} ({reason}). Choose a folder that exists and that this user may "
            "write to, or fix the folder's permissions.",
            f"无法将PDF写入 {path}（{reason}）。请选择存在且当前用户有写入权限的文件夹，或修改该文件夹的权限。",
        ) from exc
    return path


def _send_lp(data: bytes, printer: Printer, number: str) -> str:
    lp = shutil.which("lp")
    if lp is None:
        raise PrintError(
            f"The system print command `lp` is missing, so the queue {printer.queue!r} cannot be used. Install "
            "CUPS (`apt-get install cups-client cups`), or give this window a PDF printer "
            '(printer = { kind = "pdf", dir = "..." }).',
            f"系统打印命令 lp 不存在，无法使用打印队列 {printer.queue!r}。请安装 CUPS（apt-get install cups-client cups），"
            '或将本窗口打印机设为 PDF（printer = { kind = "pdf", dir = "..." }）。',
        )
    with tempfile.TemporaryDirectory(prefix="wt-print-") as folder:
        path = Path(folder) / f"{number}.pdf"
        path.write_bytes(data)
        command = [lp, "-d", printer.queue, "-t", number]
        for option in printer.options:
            command += ["-o", option]
        try:
            done = subprocess.run(
                [*command, str(path)], capture_output=True, text=True, timeout=LP_TIMEOUT_SECONDS, check=False
            )
            reason = (done.stderr or done.stdout).strip()
        except (OSError, subprocess.TimeoutExpired) as exc:
            done = None
            reason = str(exc)
    if done is None or done.returncode != 0:
        raise PrintError(
            f"The print queue {printer.queue!r} refused the job ({reason or 'no reason given'}). Check the queue "
            "name with `lpstat -p`, that the printer is switched on and enabled (`cupsenable "
            f"{printer.queue}`), then print again.",
            f"打印队列 {printer.queue!r} 拒绝了打印任务（{reason or '未说明原因'}）。请用 lpstat -p 核对队列名，"
            f"确认打印机已开机并已启用（cupsenable {printer.queue}），然后重新打印。",
        )
    job = done.stdout.strip()
    return f"lp:{printer.queue}" + (f" ({job})" if job else "")


def send(data: bytes, printer: Printer, number: str) -> str:
    """Send rendered bytes to ``printer``; returns the file written or the target; raises PrintError."""
    if printer.kind == "pdf":
        return str(write_pdf_file(data, Path(printer.dir) / f"{number}.pdf"))
    if printer.kind == "lp":
        return _send_lp(data, printer, number)
    from .escpos import print_escpos

    print_escpos(data, printer.target)
    return printer.target


def _window_id(engine: Engine, hall_id: int, window: int | None) -> int | None:
    if window is None:
        return None
    with read_session(engine) as session:
        return session.execute(
            select(Window.id).where(Window.hall_id == hall_id, Window.number == window)
        ).scalar_one_or_none()


def _record(
    engine: Engine,
    hall_id: int,
    document_id: int,
    payload: dict[str, Any],
    error: str,
    window_id: int | None,
    actor: str | None,
) -> None:
    def action(unit: Unit) -> None:
        document = unit.session.get(Document, document_id)
        assert document is not None
        if error:
            document.last_print_error = error
            unit.emit("document.print_failed", {**payload, "error": error}, window_id=window_id)
        else:
            document.printed_count = (document.printed_count or 0) + 1
            document.last_print_error = ""
            unit.emit(
                "document.printed", {**payload, "printed_count": document.printed_count}, window_id=window_id
            )
        unit.session.add(document)

    access.run_as(engine, hall_id, "document.print", action, actor)


def print_document(
    engine: Engine,
    hall_id: int,
    number: str,
    *,
    window: int | None = None,
    kiosk: bool = False,
    target: str | None = None,
    font: str | None = None,
    actor: str | None,
    language: str = "zh",
) -> PrintResult:
    """Print the stored snapshot of document ``number`` on the printer of ``window`` / the kiosk /
    ``target``; records the print (or the failure) on the document and as an event.

    An unknown number raises :class:`NotFound`; every printing problem (bad printer setting, missing
    font, unreachable printer) is returned as ``PrintResult(ok=False, error_text=…)`` — the document
    stays stored and can be printed again.
    """
    document = get_document(engine, hall_id, number)
    assert document.id is not None
    window_id = _window_id(engine, hall_id, window)
    printer_text = target or ""
    try:
        printer = (
            parse_target(target)
            if target
            else configured_printer(engine, hall_id, window=window, kiosk=kiosk)
        )
        printer_text = printer.describe()
        data = render_for(printer, dict(document.payload), font=font)
        where = send(data, printer, document.number)
    except (DocumentError, DomainError) as exc:
        error = exc if isinstance(exc, DocumentError) else PrintError(exc.en, exc.zh)
        stored = f"{error.zh}\n{error.en}" if error.zh != error.en else error.en
        payload = {"number": document.number, "kind": document.kind, "printer": printer_text}
        _record(engine, hall_id, document.id, payload, stored, window_id, actor)
        return PrintResult(False, printer_text, error.text(language), document.number, printer_text, error)
    payload = {"number": document.number, "kind": document.kind, "printer": printer_text, "where": where}
    _record(engine, hall_id, document.id, payload, "", window_id, actor)
    return PrintResult(True, where, "", document.number, printer_text)


def save_pdf(
    engine: Engine, hall_id: int, number: str, out: str | os.PathLike[str], *, font: str | None = None
) -> Path:
    """Write the stored document as a PDF file at ``out`` (a folder means ``out/NUMBER.pdf``)."""
    document = get_document(engine, hall_id, number)
    from .render import render_pdf

    data = render_pdf(dict(document.payload), font=font)
    path = Path(out).expanduser()
    if path.is_dir():
        path = path / f"{document.number}.pdf"
    return write_pdf_file(data, path)


# --- listing ---------------------------------------------------------------------------------------


def document_row(document: Document, case_no: str | None, timezone: str) -> dict[str, Any]:
    payload = document.payload or {}
    applicant = payload.get("applicant") or {}
    return {
        "number": document.number,
        "kind": document.kind,
        "title": payload.get("title") or TITLES.get(document.kind, document.kind),
        "case_no": case_no,
        # a list shows many people at once: the one masking rule (the document itself keeps the name)
        "applicant": mask_name(applicant.get("name", "")) if isinstance(applicant, dict) else "",
        "issued_at": to_local(document.issued_at, timezone).isoformat(timespec="seconds"),
        "printed_count": document.printed_count,
        "last_print_error": document.last_print_error,
    }


def document_info(engine: Engine, hall_id: int, number: str) -> dict[str, Any]:
    """One document: its list row plus the frozen snapshot (``payload``)."""
    document = get_document(engine, hall_id, number)
    with read_session(engine) as session:
        tz = session.execute(select(Hall.timezone).where(Hall.id == hall_id)).scalar_one()
        case_no = (
            session.execute(select(Case.case_no).where(Case.id == document.case_id)).scalar_one_or_none()
            if document.case_id
            else None
        )
    return {**document_row(document, case_no, tz), "payload": document.payload}


def list_documents(
    engine: Engine, hall_id: int, *, case_no: str | None = None, day: date | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """Documents of the hall, newest first; only one case's (by case number or query code) or one day's."""
    with read_session(engine) as session:
        tz = session.execute(select(Hall.timezone).where(Hall.id == hall_id)).scalar_one()
        stmt = (
            select(Document, Case.case_no)
            .outerjoin(Case, Case.id == Document.case_id)
            .where(Document.hall_id == hall_id)
            .order_by(Document.issued_at.desc(), Document.id.desc())
            .limit(limit)
        )
        if case_no:
            case_id = lookup.case(session, hall_id, case_no).id
            stmt = stmt.where(Document.case_id == case_id)
        if day is not None:
            start = local_midnight_utc(day, tz)
            end = local_midnight_utc(date.fromordinal(day.toordinal() + 1), tz)
            stmt = stmt.where(Document.issued_at >= start, Document.issued_at < end)
        rows = session.execute(stmt).all()
        return [document_row(document, no, tz) for document, no in rows]


__all__ = [
    "Printer",
    "PrintResult",
    "configured_printer",
    "default_pdf_dir",
    "document_info",
    "list_documents",
    "parse_printer",
    "parse_target",
    "print_document",
    "render_for",
    "save_pdf",
    "send",
    "write_pdf_file",
]
