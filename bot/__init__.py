"""vandra's channels, dialogue and command line."""

import os

# python-telegram-bot: time periods (RetryAfter.retry_after, ...) as timedelta, the behaviour
# of its next major version, instead of a deprecation warning on every access.
os.environ.setdefault("PTB_TIMEDELTA", "true")
