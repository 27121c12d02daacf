"""The fake Twilio counts segments on its own; it must agree with vandra's GSM-7 module."""

from __future__ import annotations

import pytest

from bot.channels import gsm7
from fakes import sms_segments

TEXTS = [
    "",
    "Hej Åsa! Ditt pass fredag 21:00 vid Stortorget börjar snart. Svara JA 12.",
    "a" * 160,
    "a" * 161,
    "a" * 306,
    "a" * 307,
    "€" * 80,
    "a" * 152 + "€",  # the escape pair would straddle the end of the first part
    "Pass – fredag",  # an en dash: UCS-2
    "ж" * 70,
    "ж" * 71,
    "👍" * 35,
    "a" * 66 + "👍" + "a" * 10,  # the surrogate pair would straddle the end of the first part
]


@pytest.mark.parametrize("text", TEXTS)
def test_the_fake_counts_as_vandra_does(text: str) -> None:
    """Encoding and segment count of the fake Twilio equal bot.channels.gsm7's for each text."""
    assert sms_segments.encoding(text) == gsm7.encoding(text)
    assert sms_segments.segments(text) == gsm7.segments(text)


def test_the_fake_splits_long_texts() -> None:
    """A 161-character GSM-7 text is two SMS; 71 Cyrillic letters are two UCS-2 SMS."""
    assert sms_segments.segments("a" * 161) == 2
    assert sms_segments.segments("ж" * 71) == 2
