"""ESC/POS queue tickets for 80 mm thermal printers, and sending bytes to a printer.

Chinese text is written as raw GB18030 bytes (``_raw``), not through python-escpos's "magic" code-page
switching: that path emits ESC t code-page changes and only recognises CJK text by a regex over
U+4E00–U+9FA5, so punctuation such as "：" or "（" alone would come out as "?". Chinese printers
(Xprinter, GP, SNBC …) read GB18030/GBK in Chinese character mode, selected with ``FS &``.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from typing import Any

from . import content as c
from .errors import DocumentError, PrintError

ESC = b"\x1b"
GS = b"\x1d"
FS = b"\x1c"
CHINESE_MODE_ON = FS + b"&"  # select Chinese (double-byte) character mode
_CJK_ENCODINGS = {"gb18030", "gbk", "gb2312", "big5", "big5hkscs", "cp936", "cp950"}
DEFAULT_NETWORK_PORT = 9100
TARGET_FORMS = "file:/dev/usb/lp0, network:192.168.1.50:9100 or usb:0x0416:0x5011"


def ticket_escpos_bytes(
    snapshot: Mapping[str, Any],
    *,
    encoding: str = "gb18030",
    qr_size: int = 6,
    chinese_mode: bool | None = None,
) -> bytes:
    """ESC/POS bytes of a queue ticket: centred hall name, a 4×4 size number, line, people ahead, wait,
    time, a native QR code (``GS ( k``), the hints and a full cut.

    ``encoding`` is the printer's character set (GB18030 by default); ``chinese_mode`` sends ``FS &``
    (default: on for Chinese encodings).
    """
    from escpos.constants import QR_ECLEVEL_M
    from escpos.printer import Dummy

    ticket = c.build_ticket(snapshot)
    try:
        codec = codecs.lookup(encoding).name
    except LookupError as exc:
        raise DocumentError(
            f"Unknown printer encoding {encoding!r}; use gb18030 (or gbk, big5, utf-8).",
            f"未知的打印机编码 {encoding!r}，请使用 gb18030。",
        ) from exc
    if chinese_mode is None:
        chinese_mode = codec.replace("-", "").replace("_", "") in _CJK_ENCODINGS

    p = Dummy()

    def write(text: str) -> None:
        p._raw(text.encode(codec, errors="replace") + b"\n")

    p.hw("INIT")  # ESC @
    if chinese_mode:
        p._raw(CHINESE_MODE_ON)
    p.set(align="center", bold=True, double_height=True)
    write(ticket.hall)
    p.set(normal_textsize=True, bold=False)
    write("-" * 42)
    write(ticket.title)
    p.set(custom_size=True, width=4, height=4, bold=True)  # GS ! 0x33
    write(ticket.number)
    p.set(custom_size=True, width=1, height=1, bold=False)  # GS ! 0x00
    for i, line in enumerate(ticket.lines):
        if i == 0 and ticket.line:
            p.set(double_width=True, double_height=True, bold=True)  # ESC ! 0x30
            write(ticket.line)
            p.set(normal_textsize=True, bold=False)
        else:
            write(line)
    p._raw(b"\n")
    p.qr(ticket.qr_payload, ec=QR_ECLEVEL_M, size=max(1, min(qr_size, 16)), native=True)
    write(ticket.qr_payload)
    write("-" * 42)
    for i, hint in enumerate(ticket.hints):
        p.set(bold=i == 0)
        write(hint)
    p.set(bold=False, align="left")
    p.cut()  # feed, then GS V 0 (full cut): always the last command
    output: bytes = p.output  # python-escpos is untyped
    return output


def _parse_target(target: str) -> tuple[str, str]:
    scheme, sep, rest = target.partition(":")
    scheme = scheme.strip().lower()
    if not sep or scheme not in ("file", "network", "usb") or not rest.strip():
        raise PrintError(
            f"Unknown printer target {target!r}. Use {TARGET_FORMS}.",
            f"无法识别的打印机设置 {target!r}，应为 file:/dev/usb/lp0、network:192.168.1.50:9100 或 usb:0x0416:0x5011。",
        )
    return scheme, rest.strip()


def _print_file(data: bytes, path: str) -> None:
    from escpos.printer import File

    if path.startswith("//"):
        path = path[2:]  # file:///dev/usb/lp0
    printer = File(devfile=path)
    try:
        printer.open()
        printer._raw(data)
        printer.close()
    except Exception as exc:
        raise PrintError(
            f"Cannot write to the ticket printer file:{path} ({_reason(exc)}). Check that the device or "
            "directory exists and that this user may write to it (for /dev/usb/lp0 add the user to the "
            "'lp' group), or configure another printer target.",
            f"无法写入小票打印机 file:{path}（{_reason(exc)}）。请确认设备或目录存在、当前用户有写入权限"
            "（/dev/usb/lp0 需将用户加入 lp 组），或更换打印机设置。",
        ) from exc


def _print_network(data: bytes, address: str, timeout: float) -> None:
    from escpos.printer import Network

    host, port_text = address, ""
    if address.startswith("["):  # [IPv6]:port
        host, _, port_text = address[1:].partition("]")
        port_text = port_text.lstrip(":")
    elif address.count(":") == 1:
        host, port_text = address.split(":")
    try:
        port = int(port_text) if port_text else DEFAULT_NETWORK_PORT
    except ValueError:
        raise PrintError(
            f"Bad port in printer target network:{address}; use network:HOST:PORT, e.g. network:192.168.1.50:9100.",
            f"打印机地址 network:{address} 的端口无效，应为 network:主机:端口，例如 network:192.168.1.50:9100。",
        ) from None
    printer = Network(host=host, port=port, timeout=timeout)
    try:
        printer.open()
        printer._raw(data)
        printer.close()
    except Exception as exc:
        raise PrintError(
            f"Cannot reach the network ticket printer at {host}:{port} ({_reason(exc)}). Check that the "
            "printer is switched on and connected to the network, that the address and port (usually 9100) "
            "are right, and that no firewall blocks the connection.",
            f"无法连接网络小票打印机 {host}:{port}（{_reason(exc)}）。请检查打印机是否开机并已联网、"
            "IP地址和端口（通常为9100）是否正确、防火墙是否阻止连接。",
        ) from exc


def _print_usb(data: bytes, ids: str, timeout: float) -> None:
    try:
        vid_text, pid_text = ids.split(":")
        vid, pid = int(vid_text, 16), int(pid_text, 16)
    except ValueError:
        raise PrintError(
            f"Bad USB printer target usb:{ids}; use usb:VENDOR:PRODUCT in hex as shown by `lsusb`, "
            "e.g. usb:0x0416:0x5011.",
            f"USB打印机设置 usb:{ids} 无效，应为 usb:厂商ID:产品ID（十六进制，见 lsusb），例如 usb:0x0416:0x5011。",
        ) from None
    name = f"usb:{vid:04x}:{pid:04x}"
    try:
        import usb.core  # noqa: F401  (pyusb, optional)
    except ImportError:
        raise PrintError(
            f"Printing to the USB ticket printer {name} needs pyusb and libusb: `pip install pyusb` and "
            "`apt-get install libusb-1.0-0`; or use the printer's device file (file:/dev/usb/lp0) or its "
            "network port (network:HOST:9100).",
            f"USB小票打印机 {name} 需要 pyusb 和 libusb：请执行 `pip install pyusb` 和 "
            "`apt-get install libusb-1.0-0`，或改用设备文件（file:/dev/usb/lp0）或网络端口（network:主机:9100）。",
        ) from None
    from escpos.printer import Usb

    try:
        printer = Usb(idVendor=vid, idProduct=pid, timeout=int(timeout * 1000))
        printer.open()
        printer._raw(data)
        printer.close()
    except Exception as exc:
        raise PrintError(
            f"Cannot print to the USB ticket printer {name} ({_reason(exc)}). Check the cable and power, "
            "that `lsusb` lists the printer with these ids, and that this user may access it (udev rule), "
            "or use file:/dev/usb/lp0.",
            f"无法使用USB小票打印机 {name}（{_reason(exc)}）。请检查连接线和电源、lsusb 中的设备ID，"
            "以及当前用户的USB访问权限（udev规则），或改用 file:/dev/usb/lp0。",
        ) from exc


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def print_escpos(data: bytes, target: str, *, timeout: float = 10.0) -> None:
    """Send ESC/POS ``data`` to ``target``: ``file:PATH``, ``network:HOST[:PORT]`` or ``usb:VID:PID``.

    Every failure raises :class:`.PrintError` naming the printer and the fix (English and Chinese).
    """
    scheme, rest = _parse_target(target)
    if scheme == "file":
        _print_file(data, rest)
    elif scheme == "network":
        _print_network(data, rest, timeout)
    else:
        _print_usb(data, rest, timeout)
