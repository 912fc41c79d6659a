"""Resident ID numbers (GB 11643) and phone numbers: what the clerk is told when one is wrong."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz_kit import credit_codes
from window_terminal.core.idcheck import (
    CREDIT_CODE_CHARS,
    ID_TYPES,
    birth_date,
    check_credit_code,
    check_digit,
    check_id_number,
    check_phone,
    check_resident_id,
    credit_code_check_char,
)
from window_terminal.errors import DomainError


def test_a_correct_resident_id_passes_and_a_lowercase_x_is_accepted():
    assert check_resident_id("11010519491231002x") == "11010519491231002X"
    # (was ``check_digit(...) in "0123456789X"``, which holds whatever the weights are)
    assert check_digit("51010419900307123") == "7"


def test_a_wrong_last_character_is_named_as_the_check_digit():
    with pytest.raises(DomainError) as err:
        check_resident_id("110105194912310021")
    assert err.value.zh == "身份证号校验位不正确，请核对最后一位"
    assert err.value.code == "id_check_digit"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("", "id_empty"),
        ("1101051949123100", "id_length"),
        ("110105491231002", "id_length"),
        ("11010519491231002A", "id_format"),
        ("110105194913310020", "id_birth_date"),
    ],
)
def test_bad_resident_ids_say_what_is_wrong(number, code):
    with pytest.raises(DomainError) as err:
        check_resident_id(number)
    assert err.value.code == code


def test_a_birth_date_in_the_future_is_refused():
    first17 = "11010520300101001"
    with pytest.raises(DomainError) as err:
        check_resident_id(first17 + check_digit(first17), today=date(2026, 1, 1))
    assert err.value.code == "id_birth_date"
    with pytest.raises(DomainError) as err:  # the any-type entry passes today on
        check_id_number("resident_id", first17 + check_digit(first17), today=date(2026, 1, 1))
    assert err.value.code == "id_birth_date"


def test_passports_are_checked_for_shape_only():
    assert check_id_number("passport", "e12345678") == "E12345678"
    with pytest.raises(DomainError):
        check_id_number("passport", "")


def test_phone_numbers_mobile_or_landline():
    assert check_phone("13800138000") == "13800138000"
    assert check_phone("028-84452345") == "028-84452345"
    assert check_phone("") == ""
    for bad in ("1380013800", "23800138000", "84452345"):
        with pytest.raises(DomainError) as err:
            check_phone(bad)
        assert "11位" in err.value.zh


def test_a_superscript_two_in_an_id_number_is_read_as_a_digit_not_a_crash():
    # Found by hand (issue 19): ``²`` passed str.isdigit and then crashed check_digit's int().
    assert check_resident_id("1101051949123100²X") == "11010519491231002X"


def test_arabic_indic_digits_are_refused_not_stored_as_typed():
    with pytest.raises(DomainError) as err:
        check_resident_id("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X")
    assert err.value.code == "id_format"
    assert "0-9" in err.value.zh


def test_full_width_digits_and_a_pasted_zero_width_space_are_normalised():
    assert check_resident_id("\u200b１１０１０５１９４９１２３１００２ｘ\n") == "11010519491231002X"
    assert check_phone("１３８\u200b0013 8000") == "13800138000"


def test_an_id_number_whose_first_two_digits_name_no_province_is_refused():
    first17 = "99010519491231002"
    with pytest.raises(DomainError) as err:
        check_resident_id(first17 + check_digit(first17))
    assert err.value.code == "id_region"
    assert "前两位" in err.value.zh and "first two digits" in err.value.en


def test_check_digit_itself_refuses_anything_but_17_ascii_digits():
    with pytest.raises(ValueError):
        check_digit("1101051949123100²")


def test_a_phone_in_arabic_indic_digits_is_refused():
    with pytest.raises(DomainError) as err:
        check_phone("١٣٨٠٠١٣٨٠٠٠")
    assert err.value.code == "phone_format"


# --- every weight of the check digit, from the rule itself (issue 20) -----------------------------
#
# GB 11643: the character at position i (counted from the right, the check digit being position 1)
# carries the weight 2^(i-1) mod 11; the check character is the one whose value makes the weighted
# sum ≡ 1 (mod 11), written "X" for 10. Computed here from that definition, not typed as a table,
# so a wrong weight in the product's WEIGHTS cannot be copied into the test.


def _oracle_check_digit(first17: str) -> str:
    total = sum(int(ch) * pow(2, 17 - i, 11) for i, ch in enumerate(first17))
    value = (1 - total) % 11
    return "X" if value == 10 else str(value)


def resident_id(region: str = "510104", born: str = "19900307", seq: str = "123") -> str:
    """A valid 18-character resident ID number built from the rule (not typed)."""
    first17 = region + born + seq
    return first17 + _oracle_check_digit(first17)


def test_the_oracle_agrees_with_the_published_example() -> None:
    # GB 11643-1999's own example number; the one fixed fact the oracle is checked against.
    assert resident_id("110105", "19491231", "002") == "11010519491231002X"


@pytest.mark.parametrize("position", range(17))
def test_every_position_carries_its_own_weight(position: int) -> None:
    # Zeros everywhere except one digit: the check digit depends on that position's weight alone,
    # so a wrong weight at any position gives a different check character here.
    for digit in "123456789":
        first17 = "0" * position + digit + "0" * (16 - position)
        assert check_digit(first17) == _oracle_check_digit(first17), (position, digit)


@pytest.mark.parametrize("position", range(17))
def test_changing_any_one_digit_of_a_valid_number_is_caught(position: int) -> None:
    number = resident_id("510104", "19900307", "123")
    assert check_resident_id(number) == number
    # Region and birth date must stay valid for the check digit to be the reason: change only
    # positions whose new value keeps them plausible (the year's last digit, the sequence, ...).
    for digit in "0123456789":
        if digit == number[position]:
            continue
        changed = number[:position] + digit + number[position + 1 :]
        try:
            check_resident_id(changed)
        except DomainError as err:
            assert err.code in {"id_check_digit", "id_region", "id_birth_date"}, (changed, err.code)
            continue
        raise AssertionError(f"{changed} passed although digit {position + 1} was changed")


def test_every_check_character_including_x_is_produced_and_accepted() -> None:
    seen: dict[str, str] = {}
    for seq in range(200):
        number = resident_id("440106", "20010229"[:4] + "0228", f"{seq:03d}")
        seen.setdefault(number[-1], number)
    assert set(seen) == set("0123456789X")
    for char, number in seen.items():
        assert check_digit(number[:17]) == char
        assert check_resident_id(number.lower()) == number


def test_check_digit_takes_ascii_digits_only() -> None:
    with pytest.raises(ValueError, match="17 ASCII digits"):
        check_digit("１" * 17)  # full-width digits: \d without re.ASCII would take them
    with pytest.raises(ValueError, match="17 ASCII digits"):
        check_digit("1" * 16)


def test_birth_date_reads_characters_7_to_14() -> None:
    assert birth_date("11010519491231002X") == date(1949, 12, 31)
    assert birth_date("11010520000229002X") == date(2000, 2, 29)
    assert birth_date("11010519490230002X") is None  # 30 February


def test_the_birth_date_limits_are_1900_and_today_inclusive() -> None:
    check_resident_id(resident_id(born="19000101"))
    with pytest.raises(DomainError) as err:
        check_resident_id(resident_id(born="18991231"))
    assert err.value.code == "id_birth_date"
    born_today = resident_id(born="20260115")
    assert check_resident_id(born_today, today=date(2026, 1, 15)) == born_today
    with pytest.raises(DomainError) as err:
        check_resident_id(born_today, today=date(2026, 1, 14))
    assert err.value.code == "id_birth_date"


def test_residence_permits_of_hong_kong_macao_and_taiwan_residents_pass_and_other_regions_do_not() -> None:
    for region in ("810000", "820000", "830000", "710000", "650102"):
        number = resident_id(region)
        assert check_resident_id(number) == number
    for region in ("000000", "190000", "990000", "720000"):
        with pytest.raises(DomainError) as err:
            check_resident_id(resident_id(region))
        assert err.value.code == "id_region"


def test_spaces_typed_inside_are_dropped_not_replaced() -> None:
    number = resident_id()
    assert check_resident_id(" ".join([number[:6], number[6:14], number[14:]])) == number
    assert check_id_number("passport", "E 1234 5678") == "E12345678"


# What the clerk reads when a number is refused: code, Chinese and English, exactly.
REFUSALS = [
    (
        "",
        "id_empty",
        "请填写身份证号",
        "enter the ID number",
    ),
    (
        "110105491231002",
        "id_length",
        "这是15位旧身份证号：请使用18位居民身份证号",
        "this is an old 15-digit ID number: use the 18-character resident ID number",
    ),
    (
        "1101054912310021",
        "id_length",
        "身份证号应为18位，现为16位：请核对",
        "a resident ID number has 18 characters, this one has 16: check it",
    ),
    (
        "11010519491231002A",
        "id_format",
        "身份证号前17位须为数字（0-9），最后一位为数字或X",
        "the first 17 characters must be digits (0-9) and the last a digit or X",
    ),
    (
        "990105194912310020",
        "id_region",
        "身份证号前两位 99 不是有效的省级行政区划代码：请核对前两位",
        "the first two digits 99 are not a province code (GB/T 2260): check them",
    ),
    (
        "110105194913310020",
        "id_birth_date",
        "身份证号中的出生日期（第7-14位）无效：请核对",
        "the birth date in the ID number (characters 7-14) is not a valid date: check it",
    ),
    (
        "110105194912310021",
        "id_check_digit",
        "身份证号校验位不正确，请核对最后一位",
        "ID number check digit is wrong; check the last character",
    ),
]


@pytest.mark.parametrize(("number", "code", "zh", "en"), REFUSALS)
def test_each_refusal_says_exactly_what_is_wrong(number: str, code: str, zh: str, en: str) -> None:
    with pytest.raises(DomainError) as err:
        check_resident_id(number)
    assert (err.value.code, err.value.zh, err.value.en) == (code, zh, en)
    with pytest.raises(DomainError) as err:
        check_id_number("resident_id", number)  # the same check through the any-type entry
    assert (err.value.code, err.value.zh, err.value.en) == (code, zh, en)


def test_other_id_types_are_checked_for_shape_and_say_so() -> None:
    assert check_id_number("hk_macao_permit", "h1234567801") == "H1234567801"
    assert check_id_number("foreign_permanent", "(abc)-12345") == "(ABC)-12345"
    assert check_id_number("credit_code", "91350100m000100y43") == "91350100M000100Y43"
    cases = [
        (
            "driving_licence",
            "E12345678",
            "refused",
            "证件类型 driving_licence 无效",
            "unknown ID type 'driving_licence'; use one of " + str(ID_TYPES),
        ),
        ("passport", " ", "id_empty", "请填写证件号码", "enter the ID number"),
        (
            "credit_code",
            "9151010",
            "id_length",
            "统一社会信用代码应为18位，现为7位：请核对",
            "a unified social credit code has 18 characters, this one has 7: check it",
        ),
        (
            "passport",
            "E12",
            "id_format",
            "证件号码只能包含字母、数字，长度5-30位：请核对",
            "the ID number may contain only letters and digits (5-30): check it",
        ),
        (
            "passport",
            "E1234*678",
            "id_format",
            "证件号码只能包含字母、数字，长度5-30位：请核对",
            "the ID number may contain only letters and digits (5-30): check it",
        ),
        (
            "passport",
            "E" * 31,
            "id_format",
            "证件号码只能包含字母、数字，长度5-30位：请核对",
            "the ID number may contain only letters and digits (5-30): check it",
        ),
    ]
    for id_type, number, code, zh, en in cases:
        with pytest.raises(DomainError) as err:
            check_id_number(id_type, number)
        assert (err.value.code, err.value.zh, err.value.en) == (code, zh, en), (id_type, number)
    assert check_id_number("passport", "E" * 30) == "E" * 30
    assert check_id_number("passport", "E1234") == "E1234"


def test_phone_refusals_say_exactly_what_is_wrong() -> None:
    with pytest.raises(DomainError) as err:
        check_phone(" ", required=True)
    assert (err.value.code, err.value.zh, err.value.en) == (
        "phone_empty",
        "请填写联系电话",
        "enter a phone number",
    )
    with pytest.raises(DomainError) as err:
        check_phone("12345")
    assert (err.value.code, err.value.zh, err.value.en) == (
        "phone_format",
        "电话号码格式不正确：手机号为11位（如13800000000），固话需带区号（如028-84452345）",
        "phone number not valid: a mobile has 11 digits (13800000000), a landline needs its area code (028-84452345)",
    )
    assert check_phone(" 138 0013 8000 ") == "13800138000"
    assert check_phone("０２８-８４４５２３４５") == "028-84452345"  # full-width, read as typed


# --- unified social credit codes (统一社会信用代码, GB 32100-2015) ------------------------------------

# Codes printed on real business licences (their check characters verified by hand against the
# standard's weights): a Fuzhou company commonly cited as the example, Xiaomi and Huawei.
GENUINE_CREDIT_CODES = ("91350100M000100Y43", "91110108551385082Q", "914403001922038216")


@pytest.mark.parametrize("code", GENUINE_CREDIT_CODES)
def test_genuine_credit_codes_pass_typed_any_way(code: str) -> None:
    assert check_id_number("credit_code", code) == code
    assert check_credit_code(code.lower()) == code
    assert check_credit_code(" ".join([code[:8], code[8:17], code[17]])) == code
    assert check_credit_code("\u200b" + code.translate({ord(c): ord(c) + 0xFEE0 for c in code})) == code


def test_the_check_character_is_computed_with_the_standards_weights() -> None:
    assert credit_code_check_char("91350100M000100Y4") == "3"
    assert credit_code_check_char("91110108551385082") == "Q"
    # a weighted sum divisible by 31 gives "0" (31 - 0 wraps to 0), not an error or a 32nd character
    assert credit_code_check_char("91350100M000100Y3") == "0"
    with pytest.raises(ValueError):
        credit_code_check_char("91350100M000100I4")  # I is not one of the code's 31 characters


def test_a_credit_code_with_a_made_up_check_character_is_refused_naming_it() -> None:
    # Found by hand (issue 28): this code was accepted, only its shape was checked.
    with pytest.raises(DomainError) as err:
        check_id_number("credit_code", "91510104MA6C12345X")
    assert err.value.code == "id_check_digit"
    assert err.value.zh == "统一社会信用代码校验位不正确，请核对最后一位"
    assert err.value.en == "unified social credit code check character is wrong; check the last character"


@pytest.mark.parametrize(
    ("number", "code", "zh_part"),
    [
        ("", "id_empty", "请填写统一社会信用代码"),
        ("91350100M000100Y4", "id_length", "现为17位"),
        ("91350100M000I00Y43", "id_format", "含有“I”"),  # I, O, Z, S, V are not in the code
        ("913501O0M000100Y43", "id_format", "含有“O”"),
        ("91350A00M000100Y43", "id_format", "第3-8位须为数字"),
        ("B1350100M000100Y43", "id_credit_kind", "前两位 B1"),  # no registration authority B
        ("94350100M000100Y43", "id_credit_kind", "前两位 94"),  # 工商 registers kinds 1-3 only
    ],
)
def test_each_credit_code_refusal_names_the_problem(number: str, code: str, zh_part: str) -> None:
    with pytest.raises(DomainError) as err:
        check_credit_code(number)
    assert err.value.code == code and zh_part in err.value.zh, (err.value.code, err.value.zh)
    assert err.value.en and not any("\u4e00" <= ch <= "\u9fff" for ch in err.value.en), err.value.en


@given(credit_codes())
def test_every_well_formed_credit_code_passes(code: str) -> None:
    assert check_credit_code(code) == code


@given(credit_codes(), st.integers(0, 17), st.sampled_from(CREDIT_CODE_CHARS))
def test_any_one_character_changed_in_a_credit_code_is_refused(code: str, where: int, char: str) -> None:
    changed = code[:where] + char + code[where + 1 :]
    if changed == code:
        return
    with pytest.raises(DomainError):
        check_credit_code(changed)


@given(credit_codes(), st.integers(0, 16))
def test_two_neighbouring_characters_swapped_in_a_credit_code_are_refused(code: str, where: int) -> None:
    swapped = code[:where] + code[where + 1] + code[where] + code[where + 2 :]
    if swapped == code:
        return
    with pytest.raises(DomainError):
        check_credit_code(swapped)
