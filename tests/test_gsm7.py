"""GSM-7 SMS text: what fits, transliteration and segment counts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.channels.gsm7 import encoding, is_gsm7, segments, septets, to_gsm7

SWEDISH = (
    "Hej Åsa! Ditt pass – fredag 21:00 vid Stortorget – börjar snart. "
    "Svara JA 12. Tack för att du går’"
)


def test_swedish_letters_are_gsm7() -> None:
    """å ä ö Å Ä Ö é É ü Ü ñ Ñ and the rest of the basic table are GSM-7."""
    assert is_gsm7("åäöÅÄÖéÉüÜñÑ@£$¥èùìòÇØøÆæßΔΦΓΛΩΠΨΣΘΞ¡¿§¤\n\r")


@pytest.mark.parametrize("text", ["–", "’", "…", "á", "👍", "\u200b", "\t", "ç"])
def test_common_non_gsm_characters_are_not_gsm7(text: str) -> None:
    """Dashes, curly quotes, ellipses, other accents, emoji and zero-width spaces are not GSM-7."""
    assert not is_gsm7(text)


def test_extension_characters_are_gsm7_and_cost_two_septets() -> None:
    """^ { } \\ [ ~ ] | € are in the extension table and cost two septets each."""
    assert is_gsm7("^{}\\[~]|€")
    assert septets("^{}\\[~]|€") == 18
    assert septets("a€") == 3


@pytest.mark.parametrize(
    ("length", "expected"), [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (1530, 10)]
)
def test_gsm7_segments_at_boundaries(length: int, expected: int) -> None:
    """GSM-7: 160 septets fit one SMS; longer texts take 153 per part."""
    assert segments("a" * length) == expected


@pytest.mark.parametrize(("length", "expected"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3)])
def test_ucs2_segments_at_boundaries(length: int, expected: int) -> None:
    """UCS-2: 70 code units fit one SMS; longer texts take 67 per part."""
    assert segments("ж" * length) == expected


def test_extension_characters_count_double_towards_segments() -> None:
    """80 euro signs are 160 septets (one SMS); 81 are 162 (two)."""
    assert segments("€" * 80) == 1
    assert segments("€" * 81) == 2
    assert segments("a" * 159 + "€") == 2


def test_an_extension_character_is_never_split_between_parts() -> None:
    """A part holding 152 septets cannot take a two-septet character: it starts the next part."""
    assert segments("a" * 152 + "€" + "a" * 152) == 3
    assert segments("a" * 151 + "€" + "a" * 153) == 2


def test_ucs2_counts_utf16_code_units() -> None:
    """Emoji outside the BMP count two UTF-16 units: 35 of them fill one UCS-2 SMS."""
    assert segments("😀" * 35) == 1
    assert segments("😀" * 36) == 2
    assert encoding("😀") == "UCS-2"


def test_empty_text_is_one_segment() -> None:
    """An empty text still takes one SMS."""
    assert segments("") == 1


def test_transliteration_keeps_a_swedish_text_in_one_segment() -> None:
    """Replacing "–" and "’" turns a two-segment UCS-2 text into one GSM-7 SMS, åäö kept."""
    assert (encoding(SWEDISH), segments(SWEDISH)) == ("UCS-2", 2)

    plain = to_gsm7(SWEDISH)

    assert plain == SWEDISH.replace("–", "-").replace("’", "'")
    assert (encoding(plain), segments(plain)) == ("GSM-7", 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("“citat” ‘enkel’ „tysk“ «fransk»", '"citat" \'enkel\' "tysk" "fransk"'),
        ("vänta…", "vänta..."),
        ("a\u00a0b\u2009c\u202fd", "a b c d"),
        ("zero\u200bwidth\u200d\ufeff", "zerowidth"),
        ("áàâãā íóúý ç", "aàaaa iouy c"),
        ("åäöÅÄÖéÉüÜñÑ", "åäöÅÄÖéÉüÜñÑ"),
        ("a\u030angel", "ångel"),  # decomposed å (as macOS writes it) is composed, kept
        ("Łódź", "Lodz"),
        ("ﬁ ½ ™", "fi 1/2 TM"),
        ("Tack 👍🏽!", "Tack !"),
        ("محمد och 李", "? och ?"),
        ("tab\there", "tab here"),
    ],
)
def test_to_gsm7_transliterates(text: str, expected: str) -> None:
    """Common non-GSM characters become their plain GSM-7 forms; GSM-7 letters stay."""
    assert to_gsm7(text) == expected


def test_to_gsm7_keeps_gsm7_text_unchanged() -> None:
    """Text that already is GSM-7 (extension characters included) passes through untouched."""
    text = "Pass 12: [fre] 21-01 {Baronen} ~3/8 | 50€ ^_^ \\o/ @Åsa\n"

    assert to_gsm7(text) == text


@given(st.text())
def test_to_gsm7_always_yields_gsm7(text: str) -> None:
    """to_gsm7 never raises, and its result is GSM-7 and stable under a second pass."""
    plain = to_gsm7(text)

    assert is_gsm7(plain)
    assert to_gsm7(plain) == plain


@given(st.text(alphabet=st.characters(codec="utf-8")))
def test_segments_never_raises(text: str) -> None:
    """segments() gives at least one SMS for any text."""
    assert segments(text) >= 1
