"""Personal identity codes: shape, date, century signs, check character."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.domain.identity_code import (
    CENTURY_SIGNS,
    identity_code_problem,
    is_temporary_identity_code,
    is_valid_identity_code,
    make_identity_code,
    scrub_identity_codes,
)


@pytest.mark.parametrize("code", ["010594Y9032", "020504B904H", "120390-912T", "230715A931C", "311299+9905"])
def test_known_fictitious_codes_are_valid(code: str) -> None:
    """The codes used in examples pass every check."""
    assert identity_code_problem(code) is None
    assert is_temporary_identity_code(code)


@pytest.mark.parametrize("sign", sorted(CENTURY_SIGNS))
def test_every_century_sign_is_accepted_for_its_century(sign: str) -> None:
    """Each sign, including the letters added in 2023, makes a valid code for a date in its century."""
    year = CENTURY_SIGNS[sign] + 95 if CENTURY_SIGNS[sign] < 2000 else CENTURY_SIGNS[sign] + 5
    code = make_identity_code(dt.date(year, 6, 15), 950, sign)
    assert code[6] == sign
    assert is_valid_identity_code(code)


def test_signs_differ_but_check_character_is_the_same() -> None:
    """Two people may differ only by the century sign: both codes are valid."""
    assert is_valid_identity_code("010594Y9032")
    assert is_valid_identity_code("010594-9032")


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("010594Y9033", "the check character does not match"),
        ("310290-912T", "the date of birth is not a calendar date"),
        ("010594G9032", "not of the form"),
        ("010594Y903", "not of the form"),
        ("010594y9032", "not of the form"),
        ("010594Y0001", "individual number 000 and 001"),
        ("", "not of the form"),
    ],
)
def test_invalid_codes_say_why(code: str, reason: str) -> None:
    """Each kind of fault is named, without echoing the code."""
    problem = identity_code_problem(code)
    assert problem is not None
    assert reason in problem.reason
    assert code == "" or code not in problem.reason


def test_a_sign_from_another_century_is_refused_when_building() -> None:
    """make_identity_code refuses a sign that does not fit the year."""
    with pytest.raises(ValueError, match="does not fit"):
        make_identity_code(dt.date(1990, 1, 1), 950, "A")


@given(
    st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2099, 12, 31)),
    st.integers(min_value=900, max_value=999),
)
def test_built_codes_are_always_valid(birth_date: dt.date, individual: int) -> None:
    """Property: every code built from a date and a temporary number is valid and temporary."""
    code = make_identity_code(birth_date, individual)
    assert is_temporary_identity_code(code)


@given(st.text(max_size=40))
def test_validation_never_crashes(text: str) -> None:
    """Property: any string gets an answer, never an exception."""
    assert isinstance(is_valid_identity_code(text), bool)


def test_scrubbing_masks_codes_in_free_text() -> None:
    """Anything shaped like a code is masked before text is logged or echoed."""
    assert scrub_identity_codes("value '010594Y9032' is bad") == "value '[identity code]' is bad"


@pytest.mark.parametrize("code", ["010594Y9032\n", "٠١٠٥٩٤Y9032", "０10594Y9032", " 010594Y9032"])
def test_only_ascii_digits_and_nothing_around_them_make_a_code(code: str) -> None:
    """Other scripts' digits or a trailing newline would look up another person's pseudonym: refused."""
    assert identity_code_problem(code) is not None
