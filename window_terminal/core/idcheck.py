"""Checking personal data: resident ID numbers (GB 11643-1999), unified social credit codes
(GB 32100-2015) and phone numbers.

check_resident_id("11010519491231002X")   # → normalized number, or DomainError naming the fix
check_credit_code("91350100M000100Y43")   # → the same for a company's 统一社会信用代码

Masking them for display lives in ``window_terminal.core.privacy``.

What the clerk typed is first read the way ``core.lookup.typed`` reads anything typed (full-width
digits become ASCII, pasted zero-width characters and surrounding whitespace go); spaces inside are
dropped. After that only ASCII digits count as digits: ``str.isdigit`` also says yes to ``²`` and to
Arabic-Indic digits, which ``int()`` then refuses or the database would store as typed.
"""

from __future__ import annotations

import re
from datetime import date

from window_terminal.core.lookup import typed
from window_terminal.errors import DomainError

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
ID_TYPES = ("resident_id", "passport", "hk_macao_permit", "taiwan_permit", "foreign_permanent", "credit_code")

MOBILE_NUMBER = re.compile(r"^1[3-9]\d{9}$", re.ASCII)  # a mainland mobile number, as stored
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$", re.ASCII)
_RESIDENT_ID = re.compile(r"\d{17}[\dX]", re.ASCII)

# The first two digits of a resident ID number: the province-level region (GB/T 2260), and 81/82/83
# for the residence permits of Hong Kong, Macao and Taiwan residents.
REGION_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)


def _typed_number(number: str) -> str:
    """An ID number as typed, read plainly: half-width, no invisible characters, no spaces, upper-case."""
    return re.sub(r"\s+", "", typed(number)).upper()


def check_digit(first17: str) -> str:
    """The GB 11643 check character for the first 17 (ASCII) digits."""
    if not re.fullmatch(r"\d{17}", first17, re.ASCII):
        raise ValueError(f"check_digit needs 17 ASCII digits, not {first17!r}")
    total = sum(int(ch) * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def birth_date(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def check_resident_id(number: str, *, today: date | None = None) -> str:
    """The 18-character resident ID number, upper-cased, or ``DomainError`` saying what is wrong."""
    value = _typed_number(number)
    if not value:
        raise DomainError("请填写身份证号", "enter the ID number", code="id_empty")
    if len(value) == 15 and value.isdigit():
        raise DomainError(
            "这是15位旧身份证号：请使用18位居民身份证号",
            "this is an old 15-digit ID number: use the 18-character resident ID number",
            code="id_length",
        )
    if len(value) != 18:
        raise DomainError(
            f"身份证号应为18位，现为{len(value)}位：请核对",
            f"a resident ID number has 18 characters, this one has {len(value)}: check it",
            code="id_length",
        )
    if not _RESIDENT_ID.fullmatch(value):
        raise DomainError(
            "身份证号前17位须为数字（0-9），最后一位为数字或X",
            "the first 17 characters must be digits (0-9) and the last a digit or X",
            code="id_format",
        )
    if value[:2] not in REGION_CODES:
        raise DomainError(
            f"身份证号前两位 {value[:2]} 不是有效的省级行政区划代码：请核对前两位",
            f"the first two digits {value[:2]} are not a province code (GB/T 2260): check them",
            code="id_region",
        )
    born = birth_date(value)
    if born is None or born.year < 1900 or (today is not None and born > today):
        raise DomainError(
            "身份证号中的出生日期（第7-14位）无效：请核对",
            "the birth date in the ID number (characters 7-14) is not a valid date: check it",
            code="id_birth_date",
        )
    if check_digit(value[:17]) != value[17]:
        raise DomainError(
            "身份证号校验位不正确，请核对最后一位",
            "ID number check digit is wrong; check the last character",
            code="id_check_digit",
        )
    return value


# GB 32100-2015, 统一社会信用代码: 18 characters from 31 (the digits and the capital letters but I,
# O, Z, S and V): 1 registration authority, 1 kind of organisation under it, 6 digits of the
# registering authority's administrative division (GB/T 2260), 9 of the organisation's own code
# (GB 11714), 1 check character: 31 minus the weighted sum (weights 3^i mod 31) modulo 31.
CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, 17, …
_CREDIT_CODE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}", re.ASCII)

# 登记管理部门代码 → its 机构类别代码 (GB 32100-2015 Table 1, with the authorities added since):
# 1 机构编制, 2 外交, 3 司法行政, 4 文化, 5 民政, 6 旅游, 7 宗教, 8 工会, 9 市场监管 (工商),
# A 中央军委改革和编制办公室, N 农业, Y 其他.
CREDIT_CODE_KINDS: dict[str, str] = {
    "1": "1239",
    "2": "19",
    "3": "123459",
    "4": "19",
    "5": "1239",
    "6": "129",
    "7": "129",
    "8": "19",
    "9": "123",
    "A": "19",
    "N": "1239",
    "Y": "1",
}


def credit_code_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a unified social credit code."""
    if len(first17) != 17 or any(ch not in CREDIT_CODE_CHARS for ch in first17):
        raise ValueError(
            f"credit_code_check_char needs 17 characters of {CREDIT_CODE_CHARS}, not {first17!r}"
        )
    total = sum(CREDIT_CODE_CHARS.index(ch) * w for ch, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def check_credit_code(number: str) -> str:
    """The 18-character unified social credit code (统一社会信用代码), upper-cased, or ``DomainError``
    naming what is wrong: its length, a character outside the code's 31, the registration authority
    or kind of organisation (the first two), or the check character (the last)."""
    value = _typed_number(number)
    if not value:
        raise DomainError("请填写统一社会信用代码", "enter the unified social credit code", code="id_empty")
    if len(value) != 18:
        raise DomainError(
            f"统一社会信用代码应为18位，现为{len(value)}位：请核对",
            f"a unified social credit code has 18 characters, this one has {len(value)}: check it",
            code="id_length",
        )
    if not _CREDIT_CODE.fullmatch(value):
        wrong = next((ch for ch in value if ch not in CREDIT_CODE_CHARS), "")
        why_zh = f"含有“{wrong}”，" if wrong else "第3-8位须为数字，"
        why_en = f"{wrong!r} is not used in it" if wrong else "characters 3-8 must be digits"
        raise DomainError(
            f"统一社会信用代码{why_zh}只能由数字和除I、O、Z、S、V以外的大写字母组成：请核对",
            f"{why_en}: a unified social credit code has digits and capital letters except I, O, Z, S, V; check it",
            code="id_format",
        )
    kinds = CREDIT_CODE_KINDS.get(value[0])
    if kinds is None or value[1] not in kinds:
        raise DomainError(
            f"统一社会信用代码前两位 {value[:2]} 不是有效的登记管理部门和机构类别代码：请核对前两位",
            f"the first two characters {value[:2]} are not a registration authority and kind of "
            "organisation (GB 32100): check them",
            code="id_credit_kind",
        )
    if credit_code_check_char(value[:17]) != value[17]:
        raise DomainError(
            "统一社会信用代码校验位不正确，请核对最后一位",
            "unified social credit code check character is wrong; check the last character",
            code="id_check_digit",
        )
    return value


def check_id_number(id_type: str, number: str, *, today: date | None = None) -> str:
    """Validate an ID number of any supported type; returns it normalized."""
    if id_type not in ID_TYPES:
        raise DomainError(f"证件类型 {id_type} 无效", f"unknown ID type {id_type!r}; use one of {ID_TYPES}")
    if id_type == "resident_id":
        return check_resident_id(number, today=today)
    if id_type == "credit_code":
        return check_credit_code(number)
    value = _typed_number(number)
    if not value:
        raise DomainError("请填写证件号码", "enter the ID number", code="id_empty")
    if not re.fullmatch(r"[A-Z0-9()\-]{5,30}", value):
        raise DomainError(
            "证件号码只能包含字母、数字，长度5-30位：请核对",
            "the ID number may contain only letters and digits (5-30): check it",
            code="id_format",
        )
    return value


def check_phone(phone: str, *, required: bool = False) -> str:
    """An 11-digit mobile number or a landline with area code (028-84452345); '' if optional and empty."""
    value = re.sub(r"\s+", "", typed(phone))
    if not value:
        if required:
            raise DomainError("请填写联系电话", "enter a phone number", code="phone_empty")
        return ""
    if MOBILE_NUMBER.match(value) or _LANDLINE.match(value):
        return value
    raise DomainError(
        "电话号码格式不正确：手机号为11位（如13800000000），固话需带区号（如028-84452345）",
        "phone number not valid: a mobile has 11 digits (13800000000), a landline needs its area code (028-84452345)",
        code="phone_format",
    )
