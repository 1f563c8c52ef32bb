"""Finnish personal identity codes (henkilötunnus).

`DDMMYY` + century sign + `NNN` + check character. Century signs: `+` for the
1800s; `-`, `Y`, `X`, `W`, `V`, `U` for the 1900s; `A`-`F` for the 2000s (the
letters since 2023). The check character is the nine digits `DDMMYYNNN` as an
integer modulo 31, indexed into `0123456789ABCDEFHJKLMNPRSTUVWXY`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

CHECK_CHARACTERS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
CENTURY_SIGNS: dict[str, int] = {
    "+": 1800,
    "-": 1900,
    "Y": 1900,
    "X": 1900,
    "W": 1900,
    "V": 1900,
    "U": 1900,
    "A": 2000,
    "B": 2000,
    "C": 2000,
    "D": 2000,
    "E": 2000,
    "F": 2000,
}
# ASCII digits only, the whole string: `\d` and `$` would also take "٠١٠٥٩٤…" and a trailing newline.
_SHAPE = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{2})([-+A-FU-Y])([0-9]{3})([0-9A-Y])")
# Anything that looks like an identity code, for scrubbing free text.
FIRST_TEMPORARY_INDIVIDUAL_NUMBER = 900
LOOKS_LIKE_IDENTITY_CODE = re.compile(r"\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]")


@dataclass(frozen=True)
class IdentityCodeProblem:
    """Why a string is not a valid personal identity code (never echoes it)."""

    reason: str


def check_character(digits: str) -> str:
    """The check character for the nine digits `DDMMYYNNN`."""
    return CHECK_CHARACTERS[int(digits) % 31]


def identity_code_problem(code: str) -> IdentityCodeProblem | None:
    """Return what is wrong with `code`, or None if it is a valid code."""
    match = _SHAPE.fullmatch(code)
    if match is None:
        return IdentityCodeProblem("not of the form DDMMYY, century sign, NNN, check character")
    day, month, year, sign, individual, check = match.groups()
    try:
        dt.date(CENTURY_SIGNS[sign] + int(year), int(month), int(day))
    except ValueError:
        return IdentityCodeProblem("the date of birth is not a calendar date")
    if individual in ("000", "001"):
        return IdentityCodeProblem("individual number 000 and 001 are not in use")
    if check_character(day + month + year + individual) != check:
        return IdentityCodeProblem("the check character does not match")
    return None


def is_valid_identity_code(code: str) -> bool:
    """True if `code` is a well-formed personal identity code with a correct check character."""
    return identity_code_problem(code) is None


def is_temporary_identity_code(code: str) -> bool:
    """True for a valid code with an individual number 900-999 (used for tests)."""
    return is_valid_identity_code(code) and int(code[7:10]) >= FIRST_TEMPORARY_INDIVIDUAL_NUMBER


def make_identity_code(birth_date: dt.date, individual: int, sign: str | None = None) -> str:
    """Build a valid identity code; the default sign is the first one of the century."""
    century = birth_date.year // 100 * 100
    if sign is None:
        sign = next(s for s, c in CENTURY_SIGNS.items() if c == century)
    if CENTURY_SIGNS.get(sign) != century:
        raise ValueError(f"century sign {sign!r} does not fit year {birth_date.year}")
    digits = f"{birth_date:%d%m}{birth_date.year % 100:02d}{individual:03d}"
    return f"{digits[:6]}{sign}{digits[6:]}{check_character(digits)}"


def scrub_identity_codes(text: str) -> str:
    """Replace anything shaped like an identity code, so text can be logged or echoed."""
    return LOOKS_LIKE_IDENTITY_CODE.sub("[identity code]", text)
