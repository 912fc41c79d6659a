"""Masking personal data (个人信息脱敏): the one home of how a name, an ID number, a phone number
or an address is shown where the whole value is not needed.

Every screen, command, notice, report and export that shows personal data masked calls these
functions, so the same person reads the same everywhere (the back office, ``wt case show``, the
notices, ``wt report overdue`` and its CSV, the public case status). The public hall display shows
none of it at all.

The rules (the hall's decision, issue 12):

- **ID number** (any kind of certificate number): the first 4 and the last 4 characters stay, every
  character between them becomes ``*``, the length is kept: ``11010519491231002X`` →
  ``1101**********002X``. A value of 8 characters or fewer is all ``*`` (keeping 4 + 4 would show
  it whole).
- **Name**: the surname stays, every other character becomes ``*``: 张晓梅 → ``张**``, 李四 →
  ``李*``. The surname is the first character, or the first two for a compound surname of
  ``COMPOUND_SURNAMES`` (欧阳娜娜 → ``欧阳**``) when the name is longer than the surname. A
  one-character name has nothing to mask. At most ``NAME_MASK_MAX`` (4) stars follow: a person's
  name reads as before, a 200-character company name as ``成****``, not one character and 199 stars
  (a column of stars that reveals the name's length and pushes the rest of the row off the screen).
- **Phone**: a mainland mobile number (11 digits starting 13–19, optionally after +86 / 86) keeps
  the first 3 and the last 4 digits: ``138****1234`` (spaces and dashes in it are dropped). Any
  other number keeps its last 4 digits: every other digit becomes ``*``, separators stay
  (``028-84452345`` → ``***-****2345``). A number of 4 digits or fewer is all ``*``.
- **Address**: the first 6 characters stay (province and city, roughly) and the rest becomes
  ``****``: ``四川省成都市锦江区红星路1号`` → ``四川省成都市****``. An address of 6 characters or
  fewer is shown as it is.

Odd input never raises: ``None`` or an empty or blank value gives ``""``; surrounding whitespace
(also the full-width space) is dropped; full-width digits and letters in numbers (``１３８…``) are
read as their ASCII forms (NFKC), so the mask looks the same whichever way the clerk typed them.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from typing import Any

from window_terminal.core.idcheck import MOBILE_NUMBER
from window_terminal.db.storage import sync_path

MASK = "*"
NAME_MASK_MAX = 4  # stars after the surname: every personal name fits, a long company name is cut

# Two-character surnames that occur in practice (复姓). A name that starts with one keeps both.
COMPOUND_SURNAMES = frozenset(
    {
        "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
        "宇文", "司徒", "司空", "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "西门",
        "澹台", "公羊", "濮阳", "淳于", "单于", "太叔", "申屠", "钟离", "闾丘", "万俟",
        "赫连", "呼延", "百里", "东郭", "拓跋", "第五", "左丘", "闻人", "羊舌", "微生",
    }
)  # fmt: skip

_COUNTRY_CODE = re.compile(r"^\+?86(?=1\d{10}$)")
_PHONE_SEPARATORS = re.compile(r"[\s\-()（）]")
_WHITESPACE = re.compile(r"\s+")


def _text(value: object) -> str:
    """The value as a string without surrounding whitespace; ``None`` → ``""``."""
    return "" if value is None else str(value).strip()


def _number(value: object) -> str:
    """A typed number in its plain form: full-width → ASCII (NFKC), no whitespace inside."""
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", _text(value)))


def mask_id_number(value: str | None) -> str:
    """``11010519491231002X`` → ``1101**********002X``: first 4 and last 4 kept, length kept."""
    number = _number(value).upper()
    if len(number) <= 8:
        return MASK * len(number)
    return number[:4] + MASK * (len(number) - 8) + number[-4:]


def surname(name: str | None) -> str:
    """The surname of a name as the mask keeps it: 张晓梅 → 张, 欧阳娜娜 → 欧阳."""
    value = _text(name)
    if len(value) > 2 and value[:2] in COMPOUND_SURNAMES:
        return value[:2]
    return value[:1]


def mask_name(name: str | None) -> str:
    """张晓梅 → ``张**``, 李四 → ``李*``, 欧阳娜娜 → ``欧阳**``: the surname, then one ``*`` a character."""
    value = _text(name)
    kept = surname(value)
    return kept + MASK * min(len(value) - len(kept), NAME_MASK_MAX)


def mask_phone(phone: str | None) -> str:
    """A mobile → ``138****1234``; any other number keeps its last 4 digits (``***-****2345``)."""
    value = _number(phone)
    mobile = _COUNTRY_CODE.sub("", _PHONE_SEPARATORS.sub("", value))
    if MOBILE_NUMBER.match(mobile):
        return mobile[:3] + MASK * 4 + mobile[-4:]
    digits_seen = sum(ch.isdigit() for ch in value)
    if digits_seen <= 4:
        return MASK * len(value)
    masked, to_hide = [], digits_seen - 4
    for ch in value:
        if ch.isdigit() and to_hide > 0:
            masked.append(MASK)
            to_hide -= 1
        elif ch.isdigit() or not ch.isalnum():
            masked.append(ch)  # one of the last 4 digits, or a separator
        else:
            masked.append(MASK)  # a letter (an extension mark, a typo): never shown
    return "".join(masked)


def mask_address(address: str | None) -> str:
    """``四川省成都市锦江区红星路1号`` → ``四川省成都市****``: the first 6 characters, then ``****``."""
    value = _text(address)
    if len(value) <= 6:
        return value
    return value[:6] + MASK * 4


def masked_person(name: str, id_type: str, id_number: str, phone: str) -> dict[str, Any] | None:
    """A person as a notice or receipt carries them: the full name (the document is addressed to
    them), the ID number and phone masked. ``None`` when there is no such person (no agent)."""
    if not _text(name):
        return None
    return {
        "name": _text(name),
        "id_type": id_type,
        "id_number": mask_id_number(id_number),
        "phone": mask_phone(phone),
    }


def write_private_file(path: Path, text: str) -> Path:
    """Write a local file that holds personal data or a credential (an intake draft, a sign-in
    session): readable and writable by this OS user only (0600, its folder 0700), written whole or
    not at all (a temporary file, synced to the disk, renamed over it; the folder synced too)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())  # on the disk before it replaces the old one: a power cut leaves one whole
        os.chmod(tmp, 0o600)  # whatever the umask or an earlier file's mode
        os.replace(tmp, path)
        sync_path(path.parent)  # the rename itself survives a power cut
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
