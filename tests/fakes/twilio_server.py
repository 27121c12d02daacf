"""Kept so that tests may import the fake from here; it lives in the installed `fakes` package."""

from fakes.twilio_server import *  # noqa: F403
