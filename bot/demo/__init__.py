"""``vandra demo``: the whole mission offline, in under a minute, on a fresh example database.

A Kalmar weekend is seeded (IFK Kalmar and a private initiative, centre areas, next weekend's
Friday and Saturday night shifts). Volunteers use Telegram (the real python-telegram-bot client
against a local stand-in for the Bot API) and SMS (Twilio-signed webhook requests in, the real
twilio client out to a local stand-in). On an accelerated clock: sign-ups, a waitlist and its
promotion, a staffing alert, reminders, check-in and check-out, reports. It ends with the
coordinator's statistics, an XLSX export and a dashboard link.

vandra itself is built by ``bot.bootstrap`` as for ``vandra run``: the same channels, senders,
HTTP routes and tick steps; only the clock is the demo's, and it ticks when the story says so.
"""

from bot.demo.play import run_demo

__all__ = ["run_demo"]
