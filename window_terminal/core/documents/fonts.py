"""Finding and registering a Chinese font that reportlab can embed in a PDF.

reportlab's ``TTFont`` embeds TrueType-outline fonts only. CFF/PostScript-outline OpenType fonts —
every ``.otf`` and the Noto CJK ``.ttc`` collections of Debian's ``fonts-noto-cjk`` — are rejected with
"postscript outlines are not supported", so each candidate is actually loaded and checked for Chinese
glyphs; fonts that fail are skipped and the next one is tried.

Search order: the configured path (``cjk_font`` in the config), ``$WT_CJK_FONT``, the common install
paths in :data:`DEFAULT_FONT_PATHS`, then ``fc-list :lang=zh`` (when :data:`USE_FONTCONFIG`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import FontNotFound

log = logging.getLogger(__name__)

ENV_VAR = "WT_CJK_FONT"

#: Common places of Chinese TrueType fonts (Debian/Ubuntu/Kylin/UOS, Windows, macOS), best first.
#: Noto CJK is listed so that it is reported when skipped; reportlab cannot embed its CFF outlines.
DEFAULT_FONT_PATHS: list[Path] = [
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc"),
    Path("/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),
    Path("/usr/share/fonts/truetype/arphic/ukai.ttc"),
    Path("/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf"),
    Path("/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf"),
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"),
    Path("C:/Windows/Fonts/simsun.ttc"),
    Path("C:/Windows/Fonts/msyh.ttc"),
    Path("C:/Windows/Fonts/simhei.ttf"),
    Path("/System/Library/Fonts/STHeiti Light.ttc"),
    Path("/Library/Fonts/Arial Unicode.ttf"),
]

#: Ask fontconfig (``fc-list :lang=zh``) after the known paths.
USE_FONTCONFIG: bool = True

#: Characters a usable font must have (a font without them would print empty boxes).
_PROBE = "中文受理通知书号"

_lock = threading.Lock()
_cache: dict[tuple[str, int], CjkFont] = {}


@dataclass(frozen=True)
class CjkFont:
    """A registered reportlab font: use ``name`` as ``fontName``."""

    name: str
    path: Path
    subfont_index: int


def _candidates(configured: str | os.PathLike[str] | None) -> list[Path]:
    seen: set[str] = set()
    out: list[Path] = []

    def add(p: str | os.PathLike[str] | None) -> None:
        if not p:
            return
        path = Path(p).expanduser()
        key = str(path)
        if key not in seen:
            seen.add(key)
            out.append(path)

    add(configured)
    add(os.environ.get(ENV_VAR))
    for p in DEFAULT_FONT_PATHS:
        add(p)
    if USE_FONTCONFIG:
        for found in _fontconfig_paths():
            add(found)
    return out


def _fontconfig_paths() -> list[str]:
    exe = shutil.which("fc-list")
    if not exe:
        return []
    try:
        out = subprocess.run(
            [exe, ":lang=zh", "file"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    paths = sorted({line.split(":", 1)[0].strip() for line in out.splitlines() if line.strip()})
    # TrueType first: .otf is almost always CFF, which reportlab cannot use.
    return sorted(paths, key=lambda p: (p.lower().endswith(".otf"), p))


def _subfont_count(path: Path) -> int:
    """Number of faces in a TrueType collection (.ttc); 1 for a single font."""
    try:
        with path.open("rb") as fh:
            head = fh.read(12)
    except OSError:
        return 1
    if len(head) == 12 and head[:4] == b"ttcf":
        return max(1, min(int.from_bytes(head[8:12], "big"), 64))
    return 1


def _register(path: Path) -> tuple[CjkFont | None, str]:
    """Load ``path`` (every subfont of a .ttc) and register the first face with Chinese glyphs."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    if not path.is_file():
        return None, "no such file"
    errors: list[str] = []
    for index in range(_subfont_count(path)):
        key = (str(path.resolve()), index)
        if key in _cache:
            return _cache[key], "ok"
        name = "WTCJK-" + hashlib.sha1(f"{key[0]}#{index}".encode()).hexdigest()[:10]
        try:
            font = TTFont(name, str(path), subfontIndex=index)
        except TTFError as exc:
            reason = str(exc)
            if "postscript outlines" in reason.lower():
                reason = "CFF/PostScript outlines; reportlab embeds TrueType outlines only"
            errors.append(reason)
            continue
        except Exception as exc:  # a damaged file must not stop the search
            errors.append(f"{type(exc).__name__}: {exc}")
            continue
        cmap = font.face.charToGlyph
        if all(ord(ch) in cmap for ch in _PROBE):
            pdfmetrics.registerFont(font)
            pdfmetrics.registerFontFamily(name, normal=name, bold=name, italic=name, boldItalic=name)
            cjk = CjkFont(name=name, path=path, subfont_index=index)
            _cache[key] = cjk
            return cjk, "ok"
        errors.append("no Chinese glyphs")
    return None, "; ".join(dict.fromkeys(errors)) or "not loadable"


def _not_found(tried: list[tuple[Path, str]]) -> FontNotFound:
    detail = "; ".join(f"{p} ({why})" for p, why in tried if why != "no such file")
    en = (
        "No usable Chinese (CJK) font found for PDF documents. Install one: "
        "`apt-get install fonts-wqy-microhei` (or fonts-wqy-zenhei / fonts-arphic-uming), "
        f"or set {ENV_VAR} / cjk_font ([printing] cjk_font) in the config file to a TrueType .ttf/.ttc path. "
        "Note: Noto CJK (fonts-noto-cjk) and other .otf fonts use CFF outlines, which reportlab cannot embed."
    )
    if detail:
        en += f" Rejected: {detail}."
    zh = (
        "未找到可用的中文字体，无法生成PDF文书。请安装中文字体：`apt-get install fonts-wqy-microhei`"
        f"（或 fonts-wqy-zenhei / fonts-arphic-uming），或将环境变量 {ENV_VAR} 或配置文件中的 cjk_font "
        "设置为 TrueType 字体文件（.ttf/.ttc）的路径。注意：思源/Noto CJK 等 .otf 字体为 CFF 轮廓，reportlab 无法嵌入。"
    )
    return FontNotFound(en, zh)


def load_cjk_font(configured: str | os.PathLike[str] | None = None) -> CjkFont:
    """Find a Chinese font, register it with reportlab (embedded, subset) and return it.

    Raises :class:`FontNotFound` (English and Chinese message with the fix) when none works.
    """
    with _lock:
        tried: list[tuple[Path, str]] = []
        for path in _candidates(configured):
            font, why = _register(path)
            if font is not None:
                if tried and configured and tried[0][0] == Path(configured).expanduser():
                    log.warning("configured CJK font %s not usable (%s); using %s", *tried[0], path)
                return font
            tried.append((path, why))
            if why != "no such file":
                log.info("skipping font %s: %s", path, why)
        raise _not_found(tried)


def find_cjk_font(configured: str | os.PathLike[str] | None = None) -> Path:
    """The path of the first Chinese font that reportlab can really embed (see module docstring)."""
    return load_cjk_font(configured).path


# --- the fallback chain: characters the main font lacks (CJK Extension B and beyond) ---------------

FALLBACK_ENV_VAR = "WT_CJK_FALLBACK_FONTS"

#: TrueType fonts tried, in order, for a character the main font lacks. Debian's ``fonts-hanazono``
#: (花園明朝 A and B) covers CJK Unified Ideographs with Extensions A–F, e.g. U+20BB7 𠮷; Debian's
#: ``fonts-babelstone-han`` (BabelStone Han 15, TrueType outlines) adds Extensions G and H, e.g. the
#: 𰻞 (U+30EDE) of 𰻞𰻞面 in a name. GNU Unifont's plane-3 glyphs (``fonts-unifont``) ship as
#: CFF ``.otf`` files, which reportlab cannot embed.
FALLBACK_FONT_PATHS: list[Path] = [
    Path("/usr/share/fonts/truetype/hanazono/HanaMinA.ttf"),
    Path("/usr/share/fonts/truetype/hanazono/HanaMinB.ttf"),
    Path("/usr/share/fonts/truetype/babelstone/BabelStoneHan.ttf"),
    Path("/usr/share/fonts/truetype/unifont/unifont.ttf"),
    Path("C:/Windows/Fonts/simsunb.ttf"),
    Path("/Library/Fonts/Arial Unicode.ttf"),
]

#: characters that need no glyph: spacing and layout controls
_NO_GLYPH = frozenset("\n\r\t\u00a0\u200b\u200c\u200d\ufeff")

_cmaps: dict[str, frozenset[int]] = {}
_fallbacks: dict[str, CjkFont] = {}


@dataclass(frozen=True)
class FontChain:
    """The main font and its fallbacks, with the characters each can draw."""

    primary: CjkFont
    fallbacks: tuple[CjkFont, ...]

    def font_for(self, ch: str) -> str | None:
        """The name of the first font in the chain with a glyph for ``ch`` (None: no font has one)."""
        if ch in _NO_GLYPH or ch == " ":
            return self.primary.name
        code = ord(ch)
        for font in (self.primary, *self.fallbacks):
            if code in _cmaps.get(font.name, frozenset()):
                return font.name
        return None

    def missing(self, text: str) -> list[str]:
        """The characters of ``text`` no font of the chain can draw, each once, in order."""
        return list(dict.fromkeys(ch for ch in text if self.font_for(ch) is None))

    def missing_in_primary(self, text: str) -> list[str]:
        """Characters the main font lacks (drawn straight on the page, where no fallback applies)."""
        return list(dict.fromkeys(ch for ch in text if self.font_for(ch) != self.primary.name))


def _cmap_of(font: CjkFont) -> None:
    if font.name not in _cmaps:
        from reportlab.pdfbase.ttfonts import TTFont

        face = TTFont(font.name + "-cmap", str(font.path), subfontIndex=font.subfont_index).face
        _cmaps[font.name] = frozenset(face.charToGlyph)


def _register_fallback(path: Path) -> CjkFont | None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    key = str(path.resolve()) if path.is_file() else ""
    if not key:
        return None
    if key in _fallbacks:
        return _fallbacks[key]
    name = "WTFB-" + hashlib.sha1(key.encode()).hexdigest()[:10]
    try:
        font = TTFont(name, key)
    except Exception as exc:  # a damaged or CFF font must not stop the chain
        log.info("skipping fallback font %s: %s", path, exc)
        return None
    pdfmetrics.registerFont(font)
    _cmaps[name] = frozenset(font.face.charToGlyph)
    found = CjkFont(name=name, path=path, subfont_index=0)
    _fallbacks[key] = found
    return found


def load_font_chain(configured: str | os.PathLike[str] | None = None) -> FontChain:
    """The main Chinese font (:func:`load_cjk_font`) and the installed fallbacks
    (``$WT_CJK_FALLBACK_FONTS``, ``os.pathsep``-separated, then :data:`FALLBACK_FONT_PATHS`)."""
    primary = load_cjk_font(configured)
    with _lock:
        _cmap_of(primary)
        paths = [Path(p) for p in os.environ.get(FALLBACK_ENV_VAR, "").split(os.pathsep) if p.strip()]
        chain = []
        for path in [*paths, *FALLBACK_FONT_PATHS]:
            font = _register_fallback(path)
            if font is not None and font.path != primary.path and font not in chain:
                chain.append(font)
    return FontChain(primary, tuple(chain))


#: The Debian packages of the fallback chain, in the order to suggest them, with the file each
#: installs: a message never suggests a package whose font is already there.
FALLBACK_PACKAGES: list[tuple[str, Path, str]] = [
    ("fonts-hanazono", FALLBACK_FONT_PATHS[1], "CJK Extensions A–F"),
    ("fonts-babelstone-han", FALLBACK_FONT_PATHS[2], "CJK Extensions G–H"),
]


def glyph_problem(chars: list[str]) -> tuple[str, str]:
    """(zh, en) message naming characters no font can draw, and the fix: a Debian package of the
    fallback chain that is not installed yet, or (all of them are) a font file of one's own."""
    listed = "、".join(f"“{ch}”（U+{ord(ch):04X}）" for ch in chars)
    listed_en = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in chars)
    absent = [(name, covers) for name, path, covers in FALLBACK_PACKAGES if not path.is_file()]
    if absent:
        packages = " ".join(name for name, _ in absent)
        covers = "; ".join(f"{name}: {what}" for name, what in absent)
        fix_zh = (
            f"请安装收录生僻字的字体（`apt-get install {packages}`，{covers}），"
            f"或将含该字的 TrueType 字体文件路径加入环境变量 {FALLBACK_ENV_VAR}，然后重新出具。"
        )
        fix_en = (
            f"Install a font that may have it (`apt-get install {packages}`; {covers}), "
            f"or add a TrueType file that has it to {FALLBACK_ENV_VAR}, then issue again."
        )
    else:
        fix_zh = (
            "本机已安装的生僻字字体（fonts-hanazono、fonts-babelstone-han）均不含该字：请取得含该字的 "
            f"TrueType 字体文件（.ttf），将其路径加入环境变量 {FALLBACK_ENV_VAR}，然后重新出具。"
        )
        fix_en = (
            "the rare-character fonts installed here (fonts-hanazono, fonts-babelstone-han) lack it: "
            f"get a TrueType (.ttf) font that has it and add its path to {FALLBACK_ENV_VAR}, then issue again."
        )
    zh = f"文书中的字符 {listed} 没有任何已安装字体可以显示，出具会丢字，已拒绝出具。" + fix_zh
    en = (
        f"no installed font can draw {listed_en}: the document would lose the character, so it was not issued. "
        + fix_en
    )
    return zh, en


# --- what of a snapshot the fonts must draw, and marking what they cannot -------------------------

#: Fields drawn straight on the page in the main font (the number, the seal, the office).
PLAIN_FIELDS = ("number", "seal", "office")

#: Drawn where a character no font has stood (虚缺号), and explained in a note on the same document.
PLACEHOLDER = "□"


def snapshot_strings(value: Any) -> list[str]:
    """Every text of a document snapshot that is printed (the QR code's address is not drawn)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for k, v in value.items() if k != "qr_url" for t in snapshot_strings(v)]
    if isinstance(value, list | tuple):
        return [t for v in value for t in snapshot_strings(v)]
    return []


def undrawable_in(snapshot: Mapping[str, Any], configured: str | os.PathLike[str] | None = None) -> list[str]:
    """The characters of a document snapshot that would not print (see :func:`undrawable`)."""
    plain = [str(snapshot.get(k) or "") for k in PLAIN_FIELDS]
    return undrawable(snapshot_strings(dict(snapshot)), plain, configured)


def placeholder_note(chars: list[str]) -> str:
    """The note a document carries when ``chars`` were printed as the placeholder: each one named by
    its code point, so the reader knows a character stood there and which one."""
    listed = "、".join(f"U+{ord(ch):04X}" for ch in chars)
    return f"“{PLACEHOLDER}”处的字符（{listed}）现有字体均无法显示，以所收材料原件为准。"


def marked(snapshot: Mapping[str, Any], chars: list[str]) -> dict[str, Any]:
    """A copy of ``snapshot`` to print: every one of ``chars`` replaced by :data:`PLACEHOLDER`, and a
    note naming them (never a character dropped silently). The stored snapshot keeps them."""
    table = dict.fromkeys(map(ord, chars), PLACEHOLDER)

    def swap(value: Any, key: str = "") -> Any:
        if isinstance(value, str):
            return value if key == "qr_url" else value.translate(table)
        if isinstance(value, dict):
            return {k: swap(v, k) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [swap(v) for v in value]
        return value

    out: dict[str, Any] = swap(dict(snapshot))
    notes = snapshot.get("notes")
    notes = list(notes) if isinstance(notes, list | tuple) else [notes] if notes else []
    out["notes"] = [*(swap(n) for n in notes), placeholder_note(chars)]
    return out


def undrawable(
    texts: list[str], plain: list[str], configured: str | os.PathLike[str] | None = None
) -> list[str]:
    """Characters of ``texts`` that no font of the chain can draw, and of ``plain`` (drawn straight
    on the page: the number, the seal) that the main font cannot draw. The fallbacks are loaded only
    when the main font lacks a character."""
    primary = load_cjk_font(configured)
    with _lock:
        _cmap_of(primary)
    have = _cmaps[primary.name]
    odd = [
        ch
        for ch in dict.fromkeys("".join(texts) + "".join(plain))
        if ch not in _NO_GLYPH and ord(ch) not in have
    ]
    if not odd:
        return []
    chain = load_font_chain(configured)
    plain_chars = set("".join(plain))
    return [ch for ch in odd if ch in plain_chars or chain.font_for(ch) is None]
