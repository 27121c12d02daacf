"""Sending SMS through the real twilio client, at a configurable API base URL, without blocking.

The seam is twilio's own: `twilio.rest.Client` takes an `http_client`. `_BaseUrlHttpClient` is
twilio's `AsyncTwilioHttpClient` that sends requests meant for `https://api.twilio.com` (or a
regional `api.<edge>.<region>.twilio.com`) to `[sms] api_base_url` instead, path unchanged, so a
local fake server sees exactly the requests Twilio would. Its aiohttp session goes through the
proxy the environment names for that base URL (HTTPS_PROXY / NO_PROXY, bot/channels/proxy.py).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels.proxy import proxy_for

if TYPE_CHECKING:
    from scheduling.common.config import SmsSettings

TWILIO_API_BASE_URL = "https://api.twilio.com"
MAX_VALIDITY_PERIOD_S = 36_000  # Twilio's upper bound (and its default)
DEFAULT_TIMEOUT_S = 10.0
LOOKUP_PAGE = 50  # messages to one number looked at when asking what Twilio accepted
CLOCK_SLACK = timedelta(minutes=2)  # Twilio's clock against ours

# Error codes that no retry will cure: the recipient, the number or the message is the problem.
# 2xxxx come back from the create request; 3xxxx arrive later in status callbacks (ErrorCode).
PERMANENT_ERROR_CODES: frozenset[int] = frozenset(
    {
        21211,  # invalid 'To' phone number
        21212,  # invalid 'From' phone number
        21401,  # invalid phone number
        21408,  # SMS not enabled for the region
        21602,  # message body is required
        21603,  # 'From' or 'MessagingServiceSid' required
        21604,  # 'To' phone number is required
        21606,  # 'From' is not an SMS-capable Twilio number
        21608,  # 'To' not verified (trial account)
        21610,  # recipient unsubscribed (replied STOP)
        21612,  # 'To' not reachable by SMS
        21614,  # 'To' is not a mobile number
        21617,  # body exceeds 1,600 characters
        21635,  # 'To' is a landline
        30004,  # message blocked (by the recipient or carrier)
        30005,  # unknown destination handset (number does not exist)
        30006,  # landline or unreachable carrier
        30007,  # filtered by the carrier as spam
        30032,  # toll-free number not verified
        30036,  # validity period expired in Twilio's queue (too late to matter)
        90007,  # validity period outside 1..36,000 s
    }
)
# Worth another try: queue overflow, handset off or out of coverage, unknown carrier error,
# a missing segment, and the API's own overload answers.
TRANSIENT_ERROR_CODES: frozenset[int] = frozenset({20429, 20500, 20503, 30001, 30003, 30008, 30009})
AUTH_ERROR_CODES: frozenset[int] = frozenset({20003})


def is_permanent_error_code(code: int | None) -> bool:
    """True when a Twilio error code (from the API or a status callback) is not worth a retry."""
    return code is not None and code in PERMANENT_ERROR_CODES


class SmsError(Exception):
    """Sending an SMS failed. `code` is Twilio's error code, `status` the HTTP status, if any."""

    def __init__(
        self, message: str, code: int | None = None, status: int | None = None, *,
        uncertain: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.uncertain = uncertain  # the request may have reached Twilio (no answer came)


class SmsPermanentError(SmsError):
    """Twilio refused this message for good (opted out, invalid or non-mobile number, ...)."""


class SmsTransientError(SmsError):
    """The message may go through later: rate limited, Twilio down, network error or time-out."""


class SmsAuthError(SmsTransientError):
    """Twilio rejected the credentials: nothing can be sent until the configuration is fixed.

    Transient for the message (it stays queued and is retried), but worth an operator's alarm.
    """


@dataclass(frozen=True, slots=True)
class SentSms:
    """What Twilio answered for an accepted message."""

    sid: str
    status: str


class _BaseUrlHttpClient(AsyncTwilioHttpClient):
    """twilio's aiohttp client, pointed at another API base URL and with a default time-out."""

    def __init__(self, api_base_url: str, timeout: float) -> None:
        # twilio's own session ignores its proxy_url: a session of ours, with the proxy
        super().__init__(timeout=timeout, pool_connections=False)
        self.session = aiohttp.ClientSession(proxy=proxy_for(api_base_url))
        base = urlsplit(api_base_url)
        self._scheme, self._netloc, self._prefix = base.scheme, base.netloc, base.path.rstrip("/")
        self._rewrite = api_base_url.rstrip("/") != TWILIO_API_BASE_URL

    def rewrite(self, url: str) -> str:
        """The URL with Twilio's API host replaced by the configured base (path kept)."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if not self._rewrite or not (host == "api.twilio.com" or _is_regional_api(host)):
            return url
        return urlunsplit(
            (self._scheme, self._netloc, self._prefix + parts.path, parts.query, parts.fragment)
        )

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - twilio's HttpClient signature
        allow_redirects: bool = False,
    ) -> Response:
        """Send the request to the rewritten URL; the client's time-out unless one is given.

        Credentials go in as an Authorization header: twilio would wrap them in aiohttp's
        BasicAuth, which aiohttp 3.14 deprecates (a warning on every send).
        """
        if auth is not None:
            headers = {**(headers or {}), "Authorization": _basic_auth(*auth)}
        return await super().request(
            method,
            self.rewrite(url),
            params=params,
            data=data,
            headers=headers,
            auth=None,
            timeout=self.timeout if timeout is None else timeout,
            allow_redirects=allow_redirects,
        )


def _basic_auth(user: str, password: str) -> str:
    """The value of a basic-auth Authorization header."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _is_regional_api(host: str) -> bool:
    """True for api.<edge>.<region>.twilio.com and api.<region>.twilio.com."""
    return host.startswith("api.") and host.endswith(".twilio.com")


class TwilioSender:
    """Sends SMS with twilio's REST client over aiohttp. Close it with `await close()`."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        api_base_url: str = TWILIO_API_BASE_URL,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        status_callback_url: str | None = None,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        if not account_sid or not auth_token:
            raise ValueError("account_sid and auth_token are required")
        if not from_number and not messaging_service_sid:
            raise ValueError("from_number or messaging_service_sid is required")
        if not api_base_url.startswith(("https://", "http://")):
            raise ValueError(f"api_base_url must be an http(s) URL, got {api_base_url!r}")
        self.account_sid = account_sid
        self.api_base_url = api_base_url.rstrip("/")
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.status_callback_url = status_callback_url
        self._auth_token = auth_token
        self._timeout_s = timeout_s
        self._http: _BaseUrlHttpClient | None = None
        self._client: Client | None = None

    @classmethod
    def from_settings(cls, sms: SmsSettings, public_url: str | None) -> TwilioSender:
        """A sender for `[sms]`; status callbacks go to `<public_url>/sms/status` when known."""
        if sms.account_sid is None or sms.auth_token is None:
            raise ValueError("[sms] account_sid and auth_token are required to send SMS")
        return cls(
            account_sid=sms.account_sid,
            auth_token=sms.auth_token.get_secret_value(),
            api_base_url=sms.api_base_url,
            from_number=sms.from_number,
            messaging_service_sid=sms.messaging_service_sid,
            status_callback_url=f"{public_url.rstrip('/')}/sms/status" if public_url else None,
        )

    def __repr__(self) -> str:
        sender = self.from_number or self.messaging_service_sid
        return (
            f"TwilioSender(account_sid={self.account_sid!r}, auth_token='***', "
            f"api_base_url={self.api_base_url!r}, sender={sender!r})"
        )

    def _twilio(self) -> Client:
        """The twilio client, made on first use (its aiohttp session needs a running loop)."""
        if self._client is None:
            self._http = _BaseUrlHttpClient(self.api_base_url, self._timeout_s)
            # A non-empty environment keeps TWILIO_EDGE / TWILIO_REGION from os.environ out.
            self._client = Client(
                self.account_sid,
                self._auth_token,
                http_client=self._http,
                environment={"TWILIO_VANDRA": "1"},
            )
        return self._client

    async def send(self, to: str, body: str, validity_period_s: int | None = None) -> SentSms:
        """Send `body` to `to` (E.164) as it is; drop it unsent after `validity_period_s` queued.

        Raises SmsPermanentError, SmsTransientError (or its SmsAuthError), never twilio's own.
        """
        kwargs: dict[str, Any] = {"to": to, "body": body}
        if self.from_number:
            kwargs["from_"] = self.from_number
        if self.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.messaging_service_sid
        if self.status_callback_url:
            kwargs["status_callback"] = self.status_callback_url
        if validity_period_s is not None:
            if validity_period_s < 1:
                raise ValueError(f"validity_period_s must be at least 1, got {validity_period_s}")
            kwargs["validity_period"] = min(validity_period_s, MAX_VALIDITY_PERIOD_S)
        try:
            message = await self._twilio().messages.create_async(**kwargs)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise self._api_error(exc) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            # Refused before connecting: not sent. Anything later: Twilio may have accepted it.
            uncertain = not isinstance(exc, aiohttp.ClientConnectorError)
            text = self._scrub(f"network error: {_describe(exc)}")
            raise SmsTransientError(text, uncertain=uncertain) from exc
        except TwilioException as exc:
            raise SmsTransientError(self._scrub(f"twilio client error: {exc}")) from exc
        return SentSms(sid=str(message.sid), status=str(message.status))

    async def accepted_since(self, to: str, body: str, since: datetime) -> list[SentSms]:
        """The messages Twilio accepted for ``to`` with exactly this ``body`` since ``since``
        (less ``CLOCK_SLACK``), oldest first: the Messages list for that To, newest first.

        Not filtered on ``DateSent``: a message still queued at Twilio has no DateSent yet, and
        the filter only knows whole days; ``date_created`` is compared here instead.
        """
        kwargs: dict[str, Any] = {"to": to, "limit": LOOKUP_PAGE, "page_size": LOOKUP_PAGE}
        if self.from_number:
            kwargs["from_"] = self.from_number
        try:
            messages = await self._twilio().messages.list_async(**kwargs)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise SmsTransientError(self._api_error(exc).message) from exc
        except (TimeoutError, aiohttp.ClientError, TwilioException) as exc:
            raise SmsTransientError(self._scrub(f"network error: {_describe(exc)}")) from exc
        cutoff = since - CLOCK_SLACK
        found = [
            m for m in messages
            if _same_body(m.body, body) and m.date_created is not None and m.date_created >= cutoff
            and str(m.direction or "").startswith("outbound")
        ]
        found.sort(key=lambda m: m.date_created)
        return [SentSms(sid=str(m.sid), status=str(m.status)) for m in found]

    def _api_error(self, exc: TwilioRestException | TwilioServiceException) -> SmsError:
        """Our exception for an error answer from the API."""
        status = int(exc.status) if exc.status is not None else None
        # twilio puts the HTTP status into `code` when the body had no error code of its own.
        code = exc.code if isinstance(exc.code, int) and exc.code >= 10_000 else None
        if isinstance(exc, TwilioServiceException):
            text = exc.title + (f": {exc.detail}" if exc.detail else "")
        else:
            text = str(exc.msg).removeprefix("Unable to create record: ")
        message = self._scrub(f"Twilio error {code or '-'} (HTTP {status}): {text}")
        if status == 401 or code in AUTH_ERROR_CODES:
            return SmsAuthError(message, code, status)
        if status is not None and (status == 429 or status >= 500):
            return SmsTransientError(message, code, status)
        if code in TRANSIENT_ERROR_CODES:
            return SmsTransientError(message, code, status)
        return SmsPermanentError(message, code, status)

    def _scrub(self, text: str) -> str:
        """`text` with the auth token masked, in case anything echoed it."""
        return text.replace(self._auth_token, "***")

    async def close(self) -> None:
        """Close the HTTP session; safe to call twice or without having sent anything."""
        http, self._http, self._client = self._http, None, None
        if http is not None:
            await http.close()


def _same_body(theirs: str | None, ours: str) -> bool:
    """Twilio's copy of a body is ours (a trial account puts a notice before it)."""
    return theirs is not None and (theirs == ours or theirs.endswith(ours))


def _describe(exc: BaseException) -> str:
    """A short description of a network error (its type, and its text when it has one)."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def validate_twilio_signature(
    auth_token: str,
    url: str,
    params: Mapping[str, str] | Any,
    signature: str | None,
) -> bool:
    """True when `signature` (X-Twilio-Signature) signs `url` and the form `params`.

    `url` is the full URL Twilio requested, query string included; `params` the POST form as a
    dict or a multidict (Starlette's FormData). A missing or empty signature is invalid.
    """
    if not signature or not auth_token:
        return False
    return bool(RequestValidator(auth_token).validate(url, params, signature))


__all__ = [
    "PERMANENT_ERROR_CODES",
    "TRANSIENT_ERROR_CODES",
    "SentSms",
    "SmsAuthError",
    "SmsError",
    "SmsPermanentError",
    "SmsTransientError",
    "TwilioSender",
    "is_permanent_error_code",
    "validate_twilio_signature",
]
