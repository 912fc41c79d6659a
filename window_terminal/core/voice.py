"""The hall TV's voice: which calls a display says, and the sound of each, made offline as WAV.

    queue = AnnouncementQueue(settings, after=last_seen)
    announcement = queue.offer(call, age_s=3.2)      # None: already said, or too old to say
    path = call_audio(call.text, settings=settings, cache_dir=folder, voice_pack=None)

One queue per display: each call is said once, in call order, never cut off by the next (the page
plays one file after another), and a call that reaches the display later than
``announce_max_age_seconds`` (after an outage) is shown but not said — the applicant it called has
long gone to the window or been marked absent, and a backlog read aloud would drown the live calls.

The sound of one call is one WAV file: a chime, then the call text (``core.queueing.call_text``,
the hall's template), ``announce_repeat`` times. The text is spoken by Debian's ``espeak-ng``
(Mandarin) by default, or — when the hall has recorded one — pieced together from a voice pack: a
folder of WAV segments named by what they say (``请.wav``, ``A.wav`` … ``Z.wav``, ``0.wav`` …
``9.wav``, ``号.wav``, ``到.wav``, ``号窗口办理.wav``), matched longest first, as commercial callers
do. Segments must share one format (16-bit PCM, one rate, one channel count). Files are cached by
their content, so a number called twice is synthesised once.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import shutil
import struct
import subprocess
import tempfile
import threading
import wave
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from window_terminal.core import queueing
from window_terminal.errors import DomainError

ESPEAK = "espeak-ng"
ESPEAK_VOICE = "cmn"  # Mandarin; espeak-ng's "zh" is an MBROLA voice Debian does not ship
CHIME_NOTES = ((880.0, 0.30), (659.25, 0.55))  # ding-dong, seconds
PAUSE_SECONDS = 0.35
SYNTH_TIMEOUT_SECONDS = 30
CACHE_VERSION = "1"


class VoiceError(DomainError):
    def __init__(self, zh: str, en: str) -> None:
        super().__init__(zh, en, code="voice")


class _Call(Protocol):
    @property
    def seq(self) -> int: ...
    @property
    def number(self) -> str: ...
    @property
    def window(self) -> int: ...
    @property
    def text(self) -> str: ...


# --- the queue -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Announcement:
    seq: int
    number: str
    window: int
    text: str
    repeat: int


class AnnouncementQueue:
    """The calls one display says: each once, in call order, none older than the configured age."""

    def __init__(self, settings: dict[str, Any], *, after: int = 0) -> None:
        self.after = after  # the last call seen (said or not): nothing at or before it is said
        self.repeat = int(queueing.threshold(settings, "announce_repeat"))
        self.max_age_s = float(queueing.threshold(settings, "announce_max_age_seconds"))
        self.pending: deque[Announcement] = deque()
        self.skipped: list[tuple[int, str]] = []  # (seq, why) — for the log and the tests

    def offer(self, call: _Call, age_s: float) -> Announcement | None:
        """Queue ``call`` to be said, or say why not (``skipped``); returns what was queued."""
        if call.seq <= self.after:
            self.skipped.append((call.seq, "seen"))
            return None
        self.after = call.seq
        if self.repeat <= 0:
            self.skipped.append((call.seq, "silent"))
            return None
        if age_s > self.max_age_s:
            self.skipped.append((call.seq, "old"))
            return None
        announcement = Announcement(call.seq, call.number, call.window, call.text, self.repeat)
        self.pending.append(announcement)
        return announcement

    def next(self) -> Announcement | None:
        """The next announcement to play (oldest call first), or None."""
        return self.pending.popleft() if self.pending else None


# --- the sound -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Format:
    channels: int
    width: int
    rate: int


def _read(data: bytes | Path) -> tuple[_Format, bytes]:
    try:
        with wave.open(io.BytesIO(data) if isinstance(data, bytes) else str(data), "rb") as w:
            return _Format(w.getnchannels(), w.getsampwidth(), w.getframerate()), w.readframes(w.getnframes())
    except (wave.Error, EOFError) as exc:
        where = "" if isinstance(data, bytes) else f"{data}: "
        raise VoiceError(
            f"{where}不是可用的 WAV 文件（{exc}）：请录制为 16 位 PCM WAV",
            f"{where}not a usable WAV file ({exc}): record it as 16-bit PCM WAV",
        ) from exc


def chime(fmt: _Format) -> bytes:
    """A two-note chime in ``fmt`` (16-bit PCM), each note fading out."""
    if fmt.width != 2:
        raise VoiceError("语音文件须为 16 位 PCM", "voice files must be 16-bit PCM")
    out = bytearray()
    for frequency, seconds in CHIME_NOTES:
        count = int(fmt.rate * seconds)
        for i in range(count):
            t = i / fmt.rate
            value = int(0.45 * 32767 * math.exp(-4.0 * t / seconds) * math.sin(2 * math.pi * frequency * t))
            out += struct.pack("<h", value) * fmt.channels
    return bytes(out)


def silence(fmt: _Format, seconds: float) -> bytes:
    return b"\x00" * (int(fmt.rate * seconds) * fmt.width * fmt.channels)


def espeak(text: str, speed: int) -> tuple[_Format, bytes]:
    """``text`` spoken by espeak-ng's Mandarin voice."""
    if shutil.which(ESPEAK) is None:
        raise VoiceError(
            "未安装 espeak-ng，无法合成叫号语音：请运行 apt-get install espeak-ng，或配置录音语音包",
            "espeak-ng is not installed, so calls cannot be spoken: apt-get install espeak-ng, "
            "or configure a recorded voice pack",
        )
    try:
        result = subprocess.run(
            [ESPEAK, "-v", ESPEAK_VOICE, "-s", str(speed), "--stdout", text],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=SYNTH_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise VoiceError("espeak-ng 超时", f"espeak-ng took over {SYNTH_TIMEOUT_SECONDS}s") from exc
    if result.returncode != 0 or not result.stdout:
        detail = result.stderr.decode("utf-8", "replace").strip()
        raise VoiceError(f"espeak-ng 失败：{detail}", f"espeak-ng failed: {detail or result.returncode}")
    # espeak-ng writes a WAV header with unknown lengths to a pipe; the wave module needs them.
    data = bytearray(result.stdout)
    if data[:4] == b"RIFF" and len(data) > 44:
        struct.pack_into("<I", data, 4, len(data) - 8)
        struct.pack_into("<I", data, 40, len(data) - 44)
    return _read(bytes(data))


def voice_pack_segments(folder: Path) -> dict[str, Path]:
    """The recorded segments of a voice pack: what each says (its file name) → its file."""
    if not folder.is_dir():
        raise VoiceError(
            f"语音包文件夹 {folder} 不存在：请检查 voice_pack 设置",
            f"voice pack folder {folder} does not exist: check the voice_pack setting",
        )
    return {path.stem.upper(): path for path in sorted(folder.glob("*.wav"))}


def split_into_segments(text: str, segments: dict[str, Path]) -> list[Path]:
    """``text`` as recorded pieces, longest match first; names what is missing."""
    pieces: list[Path] = []
    missing: list[str] = []
    upper = text.upper()
    longest = max((len(name) for name in segments), default=0)
    i = 0
    while i < len(upper):
        if upper[i].isspace():
            i += 1
            continue
        for size in range(min(longest, len(upper) - i), 0, -1):
            piece = segments.get(upper[i : i + size])
            if piece is not None:
                pieces.append(piece)
                i += size
                break
        else:
            missing.append(text[i])
            i += 1
    if missing:
        names = "、".join(f"{m}.wav" for m in dict.fromkeys(missing))
        raise VoiceError(
            f"语音包缺少录音：{names}（“{text}”）",
            f"the voice pack lacks {names.replace('、', ', ')} (for {text!r})",
        )
    return pieces


def from_voice_pack(text: str, folder: Path) -> tuple[_Format, bytes]:
    pieces = split_into_segments(text, voice_pack_segments(folder))
    fmt: _Format | None = None
    frames = bytearray()
    for piece in pieces:
        piece_fmt, data = _read(piece)
        if fmt is None:
            fmt = piece_fmt
        elif piece_fmt != fmt:
            raise VoiceError(
                f"语音包 {piece.name} 的格式与其他录音不同：请统一为同一采样率和声道",
                f"voice pack file {piece.name} differs in format from the others: use one rate and channel count",
            )
        frames += data
    assert fmt is not None
    return fmt, bytes(frames)


_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def call_audio(
    text: str, *, settings: dict[str, Any], cache_dir: Path, voice_pack: Path | None = None
) -> Path:
    """The WAV file for one call: chime, then ``text`` ``announce_repeat`` times (cached)."""
    repeat = max(1, int(queueing.threshold(settings, "announce_repeat")))
    speed = int(queueing.threshold(settings, "voice_speed"))
    source = f"pack:{voice_pack.resolve()}" if voice_pack else f"espeak:{ESPEAK_VOICE}:{speed}"
    key = hashlib.sha256(f"{CACHE_VERSION}|{text}|{repeat}|{source}".encode()).hexdigest()[:24]
    path = cache_dir / f"{key}.wav"
    with _locks_guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        if path.exists():
            return path
        fmt, speech = from_voice_pack(text, voice_pack) if voice_pack else espeak(text, speed)
        body = chime(fmt) + silence(fmt, PAUSE_SECONDS)
        body += (speech + silence(fmt, PAUSE_SECONDS)) * repeat
        cache_dir.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".part")
        os.close(handle)
        with wave.open(tmp, "wb") as out:
            out.setnchannels(fmt.channels)
            out.setsampwidth(fmt.width)
            out.setframerate(fmt.rate)
            out.writeframes(body)
        os.replace(tmp, path)
    return path


def duration_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate())
