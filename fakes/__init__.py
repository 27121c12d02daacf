"""Local stand-ins for Telegram's Bot API and Twilio's REST API, on 127.0.0.1.

They let the tests, the benchmarks and ``vandra demo`` drive the real python-telegram-bot and
twilio clients with no network: every request is checked as the real service would check it.
"""
