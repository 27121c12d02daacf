"""The catalogues: Swedish and English have the same keys and placeholders."""

from __future__ import annotations

import string

from bot.i18n import catalogue, error_text, t
from scheduling.common.errors import DomainError


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_languages_have_the_same_keys() -> None:
    """Every Swedish text has an English twin and the other way round."""
    assert set(catalogue("sv")) == set(catalogue("en"))


def test_both_languages_fill_in_the_same_values() -> None:
    """A text uses the same {placeholders} in both languages."""
    english = catalogue("en")
    for key, swedish in catalogue("sv").items():
        assert placeholders(swedish) == placeholders(english[key]), key


def test_permission_refusal_uses_the_contract_words() -> None:
    """A refusal for lack of role says "behörighet" (sv) / "permission" (en)."""
    error = DomainError("permission_denied", action="shifts.add")
    assert "behörighet" in error_text("sv", error)
    assert "permission" in error_text("en", error)


def test_unknown_language_falls_back_to_swedish_and_unknown_error_is_generic() -> None:
    """Swedish is the default; an error without text still reads politely."""
    assert t("fi", "error.shift_started", shift=3) == t("sv", "error.shift_started", shift=3)
    assert "no_such_code" in error_text("en", DomainError("no_such_code"))


def test_privacy_texts_fit_sms() -> None:
    """The privacy texts that may go by SMS use GSM-7 characters only, in both languages."""
    from bot.channels.gsm7 import is_gsm7

    for language in ("sv", "en"):
        for key, text in catalogue(language).items():
            if key.startswith("privacy."):
                assert is_gsm7(text), (language, key)


def test_a_value_not_given_stays_a_visible_placeholder() -> None:
    """A text whose value the caller did not give keeps its ``{name}`` rather than fail
    (``str.format_map`` with a lenient mapping); given values are filled in."""
    from bot.i18n import t

    assert "{code}" in t("sv", "error.generic")
    assert t("sv", "error.generic", code="x") == "Det gick inte (x)."
