"""Resident ID numbers (GB 11643) and phone numbers: what the clerk is told when one is wrong."""

from __future__ import annotations

from datetime import date

import pytest

from window_terminal.core.idcheck import (
    check_digit,
    check_id_number,
    check_phone,
    check_resident_id,
)
from window_terminal.errors import DomainError


def test_a_correct_resident_id_passes_and_a_lowercase_x_is_accepted():
    assert check_resident_id("11010519491231002x") == "11010519491231002X"
    assert check_digit("51010419900307123") in "0123456789X"


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
