"""Masking report text: personal identity numbers, phone numbers and e-mail addresses."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduling.common.masking import (
    EMAIL,
    PERSONNUMMER,
    PHONE,
    SUMMARY_MAX_LENGTH,
    MaskResult,
    cap_length,
    is_personnummer,
    luhn_valid,
    mask_report_text,
    mask_summary,
)

PROPERTY = settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
NO_DIGITS = st.text(alphabet=st.characters(exclude_categories=["Nd", "Cs"]), max_size=40)


def check_digit(nine: str) -> str:
    """The Luhn check digit that completes nine digits."""
    return next(str(d) for d in range(10) if luhn_valid(nine + str(d)))


@st.composite
def personnummer(draw: st.DrawFn) -> str:
    """A valid personnummer or samordningsnummer in any of its written forms."""
    year = draw(st.integers(1900, 2025))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, 28)) + draw(st.sampled_from([0, 60]))
    serial = draw(st.integers(0, 999))
    nine = f"{year % 100:02d}{month:02d}{day:02d}{serial:03d}"
    ten = nine + check_digit(nine)
    century = draw(st.sampled_from(["", str(year // 100)]))
    separator = draw(st.sampled_from(["", "-", "+", " "]))
    return f"{century}{ten[:6]}{separator}{ten[6:]}"


@pytest.mark.parametrize(
    "number",
    ["811218-9876", "8112189876", "19811218-9876", "198112189876", "811218+9876", "701063-2391"],
)
def test_known_personnummer_forms_are_masked(number: str) -> None:
    """10 or 12 digits, with or without - or +, and samordningsnummer are all masked."""
    result = mask_report_text(f"Pojken sa {number}, typ.")
    assert result.text == "Pojken sa [personnummer], typ."
    assert result.masked == [PERSONNUMMER]


@pytest.mark.parametrize(
    "number",
    ["070-123 45 67", "0701234567", "+46 70 123 45 67", "+46701234567", "08-123 456 78",
     "0480-45 00 00", "0046 70 123 45 67", "+44 20 7946 0958", "+1 415 555 2671"],
)  # fmt: skip
def test_swedish_and_international_phone_numbers_are_masked(number: str) -> None:
    """Mobile, landline and international numbers in their usual spellings are masked."""
    result = mask_report_text(f"Ring {number} om det behövs")
    assert result.text == "Ring [telefon] om det behövs"
    assert result.masked == [PHONE]


def test_number_glued_to_a_word_is_still_masked() -> None:
    """A phone number written straight after a word is found all the same."""
    assert mask_report_text("tel0701234567!").text == "tel[telefon]!"


def test_email_addresses_are_masked_and_kinds_listed_once_in_order() -> None:
    """Every kind found is listed once, whatever order and number it appeared in."""
    result = mask_report_text("a.b@kalmar.se, 0701234567, c@d.com och 811218-9876")
    assert result.text == "[e-post], [telefon], [e-post] och [personnummer]"
    assert result.masked == [PERSONNUMMER, PHONE, EMAIL]


@pytest.mark.parametrize(
    "text",
    [
        "12 fre 28/11 21-01 Baronen 3/8",
        "Passet 2026-11-28 21:00-01:00, vi var 4 vuxna och mötte 11-30 ungdomar.",
        "Ring 112 vid nödläge, polisen 114 14.",
        "Kvitto 8112189875 (fel kontrollsiffra), order 1234567890123.",
        "Trasig lampa vid Storgatan 12, 3 glasflaskor.",
    ],
)
def test_times_counts_and_digit_runs_failing_luhn_are_left_alone(text: str) -> None:
    """Dates, times, emergency numbers and random digit runs are not masked."""
    assert mask_report_text(text) == MaskResult(text, [])


def test_cap_length_cuts_with_an_ellipsis_and_drops_a_split_number() -> None:
    """A cut ends in "…" within the limit and never leaves half a number behind."""
    assert cap_length("kort", 10) == "kort"
    assert cap_length("abcdefghijkl", 5) == "abcd…"
    assert cap_length("Ring mig på 0701234567 i kväll", 20) == "Ring mig på…"
    assert cap_length("se [telefon] sen", 8) == "se…"


def test_mask_summary_masks_then_caps_at_280() -> None:
    """A long summary is masked and fits the 280 characters a report summary may hold."""
    result = mask_summary("Ring 070-123 45 67. " * 40)
    assert len(result.text) <= SUMMARY_MAX_LENGTH
    assert "070" not in result.text and result.masked == [PHONE]


NUMBERISH = st.text(alphabet="0123456789012345678901234567890123456789 -+()@._aeks", max_size=120)


@PROPERTY
@given(st.one_of(st.text(), NUMBERISH))
def test_any_text_is_masked_without_error_and_idempotently(text: str) -> None:
    """Any text: no exception, and masking the result again changes nothing."""
    once = mask_report_text(text)
    assert mask_report_text(once.text) == MaskResult(once.text, [])
    assert set(once.masked) <= {PERSONNUMMER, PHONE, EMAIL}


@PROPERTY
@given(st.lists(st.tuples(NO_DIGITS, personnummer()), min_size=1, max_size=4), NO_DIGITS)
def test_no_valid_personnummer_survives(parts: list[tuple[str, str]], tail: str) -> None:
    """Valid personal identity numbers among any other text never reach the output."""
    text = "".join(f"{filler} {number} " for filler, number in parts) + tail
    result = mask_report_text(text)
    for _, number in parts:
        assert number not in result.text
    assert PERSONNUMMER in result.masked


@PROPERTY
@given(st.lists(st.tuples(NO_DIGITS, st.emails()), min_size=1, max_size=3), NO_DIGITS)
def test_no_email_address_survives(parts: list[tuple[str, str]], tail: str) -> None:
    """E-mail addresses among any other text never reach the output."""
    text = "".join(f"{filler} {address} " for filler, address in parts) + tail
    result = mask_report_text(text)
    for _, address in parts:
        assert address not in result.text
    assert EMAIL in result.masked


@PROPERTY
@given(st.from_regex(r"\A[0-9]{10}\Z"))
def test_ten_digits_are_a_personnummer_only_with_a_date_and_a_valid_check(digits: str) -> None:
    """Masked as a personnummer exactly when date-shaped and passing the Luhn check."""
    expected = is_personnummer(digits)
    month, day = int(digits[2:4]), int(digits[4:6])
    assert expected == (
        1 <= month <= 12 and (1 <= day <= 31 or 61 <= day <= 91) and luhn_valid(digits)
    )
    assert (PERSONNUMMER in mask_report_text(f"nr {digits} slut").masked) == expected


@PROPERTY
@given(st.text(max_size=600), st.integers(1, 300))
def test_mask_summary_output_fits_and_holds_nothing_to_mask(text: str, limit: int) -> None:
    """Capped summaries fit the limit and leave nothing for a further mask to find."""
    result = mask_summary(text, limit)
    assert len(result.text) <= limit
    assert mask_report_text(result.text).masked == []
