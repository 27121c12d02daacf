"""A fake Twilio REST API on 127.0.0.1, run by uvicorn inside the test's own event loop.

    async with FakeTwilioServer(ACCOUNT_SID, AUTH_TOKEN) as tw:
        sender = TwilioSender(ACCOUNT_SID, AUTH_TOKEN, tw.base_url, from_number="+46700000000")
        ...
        sms = await tw.wait_for_sms("+46701234567")
        await tw.deliver_status(sms.sid, "delivered")

It answers `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` as Twilio does (basic auth,
form fields, the message resource JSON, Twilio's error JSON and codes), lists messages
(`GET` the same path with `To`, `From`, `DateSent`, `DateSent<`, `DateSent>`, `PageSize`; newest
first) and can post signed status callbacks back. `answer_after_accepting(0.3)` answers 0.3 s
after a message is accepted (as the real API takes a few hundred ms); `hang_after_accepting()`
accepts and never answers, so the client times out not knowing. `signed_inbound_form` builds
an inbound-SMS webhook as Twilio posts it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
import secrets
import socket
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from fakes.sms_segments import encoding, segments

TEST_ACCOUNT_SID = "AC" + "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
TEST_AUTH_TOKEN = "5ecre7-t0ken-" + "9b8a7c6d5e4f3a2b1c0d"
TEST_FROM_NUMBER = "+46766860000"
API_VERSION = "2010-04-01"
MAX_BODY_CHARS = 1600
E164 = re.compile(r"\+[1-9]\d{1,14}")

_ERROR_MESSAGES: dict[int, str] = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    20503: "Service Unavailable",
    21211: "Invalid 'To' Phone Number: {to}",
    21602: "Message body is required.",
    21603: "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    90007: "Invalid validity period value",
}
_CODE_FOR_STATUS = {429: 20429, 500: 20500, 503: 20503}
_DATE_SENT_KEYS = ("DateSent", "DateSent<", "DateSent>")
_SENT_STATUSES = frozenset({"sent", "delivered", "undelivered", "read"})
HANG_S = 3600.0  # "never" answering: the client gives up first


class LocalAsgiServer:
    """Serve an ASGI app with uvicorn on 127.0.0.1 (a free port) inside the running loop.

    `async with LocalAsgiServer(app) as base_url:` gives "http://127.0.0.1:PORT".
    """

    def __init__(self, app: Any) -> None:
        self._socket: socket.socket | None = None
        config = uvicorn.Config(
            app,
            lifespan="off",
            ws="none",
            http="h11",
            log_config=None,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> str:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        while not self._server.started:
            if self._task.done():
                await self._task  # raises what stopped it
                raise RuntimeError("uvicorn stopped during start-up")
            await asyncio.sleep(0.005)
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._task is not None:
                self._server.should_exit = True
                await self._task
        finally:
            if self._socket is not None:
                self._socket.close()


@dataclass
class FakeSms:
    """One message the fake accepted."""

    sid: str
    account_sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    validity_period: int | None
    status_callback: str | None
    segments: int
    encoding: str
    status: str
    date_created: datetime
    error_code: int | None = None
    status_history: list[str] = field(default_factory=list)
    date_sent: datetime | None = None  # set once a status callback says it left Twilio

    def matches(self, query: dict[str, str]) -> bool:
        """True when this message passes the Messages list's filters (``To``, ``From``,
        ``DateSent``, ``DateSent<``, ``DateSent>``; a date or an ISO 8601 moment, in UTC)."""
        if "To" in query and query["To"] != self.to:
            return False
        if "From" in query and query["From"] != self.from_:
            return False
        bounds = {key: _moment(query[key]) for key in _DATE_SENT_KEYS if key in query}
        if not bounds:
            return True
        if self.date_sent is None:
            return False  # as Twilio: a message not yet sent has no DateSent
        sent = self.date_sent
        if "DateSent" in bounds and sent.date() != bounds["DateSent"].date():
            return False
        if "DateSent>" in bounds and sent < bounds["DateSent>"]:
            return False
        return not ("DateSent<" in bounds and sent > bounds["DateSent<"])

    def resource(self) -> dict[str, Any]:
        """The message resource JSON Twilio answers with."""
        created = _rfc2822(self.date_created)
        sent = _rfc2822(self.date_sent) if self.date_sent else None
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": created,
            "date_sent": sent,
            "date_updated": created,
            "direction": "outbound-api",
            "error_code": self.error_code,
            "error_message": None,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(self.segments),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {
                "media": f"{uri}/Media.json",
                "feedback": f"{uri}/Feedback.json",
            },
            "to": self.to,
            "uri": f"{uri}.json",
        }


@dataclass
class _Failure:
    status: int
    code: int | None


class FakeTwilioServer:
    """The fake Twilio API, as an async context manager; `base_url` once entered."""

    def __init__(
        self, account_sid: str = TEST_ACCOUNT_SID, auth_token: str = TEST_AUTH_TOKEN
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sent: list[FakeSms] = []
        self.requests = 0  # every POST to Messages.json, accepted or not
        self._opted_out: set[str] = set()
        self._failures: deque[_Failure] = deque()
        self._delays: deque[float] = deque()
        self.latency_after_accept = 0.0  # seconds between accepting a message and answering
        self._hang_after_accept = 0  # the next this many accepted sends get no answer at all
        self.lists = 0  # every GET of the Messages list
        self._returned: dict[str, int] = {}
        self._changed = asyncio.Condition()
        self._local: LocalAsgiServer | None = None
        self._http: httpx.AsyncClient | None = None
        self._base_url: str | None = None
        self.app = Starlette(
            routes=[
                Route(
                    f"/{API_VERSION}/Accounts/{{account_sid}}/Messages.json",
                    self._create_message,
                    methods=["POST"],
                ),
                Route(
                    f"/{API_VERSION}/Accounts/{{account_sid}}/Messages.json",
                    self._list_messages,
                    methods=["GET"],
                ),
                Route(
                    f"/{API_VERSION}/Accounts/{{account_sid}}/Messages/{{sid}}.json",
                    self._fetch_message,
                    methods=["GET"],
                ),
            ]
        )

    def __repr__(self) -> str:
        return f"FakeTwilioServer(account_sid={self.account_sid!r}, base_url={self._base_url!r})"

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT, to use as `[sms] api_base_url`."""
        if self._base_url is None:
            raise RuntimeError("FakeTwilioServer is not running: use `async with`")
        return self._base_url

    # --- controls ------------------------------------------------------------------------

    def opt_out(self, number: str) -> None:
        """Make `number` an unsubscribed recipient: sends to it fail with 400 / 21610."""
        self._opted_out.add(number)

    def opt_in(self, number: str) -> None:
        """Undo `opt_out` (the person texted START)."""
        self._opted_out.discard(number)

    def fail_next(self, status: int = 500, count: int = 1, code: int | None = None) -> None:
        """Answer the next `count` authenticated sends with HTTP `status` and Twilio's error."""
        for _ in range(count):
            self._failures.append(_Failure(status, code or _CODE_FOR_STATUS.get(status)))

    def delay_next(self, seconds: float, count: int = 1) -> None:
        """Hold the next `count` sends for `seconds` before answering (to provoke time-outs)."""
        self._delays.extend([seconds] * count)

    def answer_after_accepting(self, seconds: float) -> None:
        """Accept each message at once (it is in ``sent`` and in the Messages list), then wait
        ``seconds`` before answering, as the real API does (a few hundred ms)."""
        self.latency_after_accept = seconds

    def hang_after_accepting(self, count: int = 1) -> None:
        """Accept the next ``count`` messages and never answer: the client times out (or
        drops the connection) not knowing the message went out."""
        self._hang_after_accept += count

    def sent_to(self, number: str) -> list[FakeSms]:
        """Every message accepted for `number`, oldest first."""
        return [sms for sms in self.sent if sms.to == number]

    def message(self, sid: str) -> FakeSms:
        """The accepted message with this sid."""
        for sms in self.sent:
            if sms.sid == sid:
                return sms
        raise KeyError(sid)

    async def wait_for_sms(
        self,
        to: str,
        timeout: float = 5.0,  # noqa: ASYNC109 - the helper's documented signature
    ) -> FakeSms:
        """The next message to `to` not yet returned by this method, waiting up to `timeout` s."""

        async def next_one() -> FakeSms:
            async with self._changed:
                while True:
                    seen = self._returned.get(to, 0)
                    messages = self.sent_to(to)
                    if len(messages) > seen:
                        self._returned[to] = seen + 1
                        return messages[seen]
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(next_one(), timeout)
        except TimeoutError:
            sent = [(sms.to, sms.body[:40]) for sms in self.sent]
            raise AssertionError(f"no new SMS to {to} within {timeout}s; sent: {sent}") from None

    async def deliver_status(
        self, message_sid: str, status: str, error_code: int | None = None
    ) -> httpx.Response:
        """POST a signed status callback for a message, as Twilio does; returns the answer."""
        sms = self.message(message_sid)
        if sms.status_callback is None:
            raise AssertionError(f"message {message_sid} was sent without a StatusCallback")
        sms.status, sms.error_code = status, error_code
        if status in _SENT_STATUSES and sms.date_sent is None:
            sms.date_sent = datetime.now(UTC)
        sms.status_history.append(status)
        params = {
            "AccountSid": sms.account_sid,
            "ApiVersion": API_VERSION,
            "From": sms.from_ or TEST_FROM_NUMBER,
            "MessageSid": sms.sid,
            "MessageStatus": status,
            "SmsSid": sms.sid,
            "SmsStatus": status,
            "To": sms.to,
        }
        if sms.messaging_service_sid:
            params["MessagingServiceSid"] = sms.messaging_service_sid
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        headers = _twilio_headers(self.auth_token, sms.status_callback, params)
        assert self._http is not None, "FakeTwilioServer is not running"
        return await self._http.post(sms.status_callback, data=params, headers=headers)

    # --- lifecycle -----------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        self._local = LocalAsgiServer(self.app)
        self._base_url = await self._local.__aenter__()
        self._http = httpx.AsyncClient(trust_env=False, timeout=5.0)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._http is not None:
            await self._http.aclose()
        if self._local is not None:
            await self._local.__aexit__(exc_type, exc, tb)
        self._base_url = None

    # --- the API -------------------------------------------------------------------------

    async def _create_message(self, request: Request) -> Response:
        self.requests += 1
        if self._delays:
            await asyncio.sleep(self._delays.popleft())
        account_sid = request.path_params["account_sid"]
        if not self._authorised(request, account_sid):
            return _error(401, 20003, {"detail": "Your AccountSid or AuthToken was incorrect."})
        if self._failures:
            failure = self._failures.popleft()
            return _error(failure.status, failure.code)
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        problem = self._refusal(form)
        if problem is not None:
            return problem
        sms = self._record(form)
        async with self._changed:
            self.sent.append(sms)
            self._changed.notify_all()
        if self._hang_after_accept:
            self._hang_after_accept -= 1
            await asyncio.sleep(HANG_S)  # cancelled when the client hangs up
        if self.latency_after_accept:
            await asyncio.sleep(self.latency_after_accept)
        return JSONResponse(sms.resource(), status_code=201)

    async def _list_messages(self, request: Request) -> Response:
        """The Messages list, newest first, one page of ``PageSize`` (50 by default)."""
        self.lists += 1
        account_sid = request.path_params["account_sid"]
        if not self._authorised(request, account_sid):
            return _error(401, 20003, {"detail": "Your AccountSid or AuthToken was incorrect."})
        query = dict(request.query_params)
        size = int(query.get("PageSize", "50")) if query.get("PageSize", "50").isdigit() else 50
        found = [sms for sms in reversed(self.sent) if sms.matches(query)][: max(1, size)]
        uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages.json"
        return JSONResponse(
            {
                "messages": [sms.resource() for sms in found],
                "end": max(0, len(found) - 1),
                "first_page_uri": f"{uri}?PageSize={size}&Page=0",
                "next_page_uri": None,
                "page": 0,
                "page_size": size,
                "previous_page_uri": None,
                "start": 0,
                "uri": f"{uri}?PageSize={size}&Page=0",
            }
        )

    async def _fetch_message(self, request: Request) -> Response:
        if not self._authorised(request, request.path_params["account_sid"]):
            return _error(401, 20003, {"detail": "Your AccountSid or AuthToken was incorrect."})
        try:
            return JSONResponse(self.message(request.path_params["sid"]).resource())
        except KeyError:
            return _error(404, 20404)

    def _authorised(self, request: Request, account_sid: str) -> bool:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return (
            secrets.compare_digest(user, self.account_sid)
            and secrets.compare_digest(password.encode(), self.auth_token.encode())
            and account_sid == self.account_sid
        )

    def _refusal(self, form: dict[str, str]) -> Response | None:
        """Twilio's 400 answer for a send it would refuse, or None."""
        to = form.get("To", "")
        if not to:
            return _error(400, 21604)
        if not E164.fullmatch(to):
            return _error(400, 21211, to=to)
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return _error(400, 21603)
        body = form.get("Body", "")
        if not body:
            return _error(400, 21602)
        if len(body) > MAX_BODY_CHARS:
            return _error(400, 21617)
        validity = form.get("ValidityPeriod")
        if validity is not None and not (validity.isdigit() and 1 <= int(validity) <= 36_000):
            return _error(400, 90007)
        if to in self._opted_out:
            return _error(400, 21610)
        return None

    def _record(self, form: dict[str, str]) -> FakeSms:
        body = form["Body"]
        from_ = form.get("From") or None
        validity = form.get("ValidityPeriod")
        status = "queued" if from_ else "accepted"
        return FakeSms(
            sid="SM" + secrets.token_hex(16),
            account_sid=self.account_sid,
            to=form["To"],
            from_=from_,
            messaging_service_sid=form.get("MessagingServiceSid") or None,
            body=body,
            validity_period=int(validity) if validity is not None else None,
            status_callback=form.get("StatusCallback") or None,
            segments=segments(body),
            encoding=encoding(body),
            status=status,
            date_created=datetime.now(UTC),
            status_history=[status],
        )


def signed_inbound_form(
    auth_token: str,
    url: str,
    from_number: str,
    body: str,
    message_sid: str | None = None,
    *,
    to_number: str = TEST_FROM_NUMBER,
    account_sid: str = TEST_ACCOUNT_SID,
) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and form of an inbound-SMS webhook as Twilio posts it to `url`, signed.

    `url` must be the full URL the app checks the signature against (public URL, path, query).
    Post it with e.g. `client.post(path, data=form, headers=headers)`.
    """
    sid = message_sid or "SM" + secrets.token_hex(16)
    form = {
        "ToCountry": "SE",
        "ToState": "",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": body,
        "FromCountry": "SE",
        "To": to_number,
        "ToZip": "",
        "NumSegments": str(segments(body)),
        "MessageSid": sid,
        "AccountSid": account_sid,
        "From": from_number,
        "ApiVersion": API_VERSION,
    }
    return _twilio_headers(auth_token, url, form), form


def _twilio_headers(auth_token: str, url: str, params: dict[str, str]) -> dict[str, str]:
    """The headers Twilio's webhook requests carry, signature included."""
    return {
        "X-Twilio-Signature": RequestValidator(auth_token).compute_signature(url, params),
        "I-Twilio-Idempotency-Token": secrets.token_hex(16),
        "User-Agent": "TwilioProxy/1.1",
        "Accept": "*/*",
    }


def _error(
    status: int, code: int | None, extra: dict[str, str] | None = None, **fmt: str
) -> Response:
    """Twilio's JSON error body."""
    message = _ERROR_MESSAGES.get(code or 0, "Error").format(**fmt)
    payload: dict[str, Any] = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}" if code else None,
        "status": status,
        **(extra or {}),
    }
    headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if status == 401 else None
    return JSONResponse(payload, status_code=status, headers=headers)


def _moment(text: str) -> datetime:
    """A ``DateSent`` filter's value: ``YYYY-MM-DD`` (midnight) or an ISO 8601 moment, UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _rfc2822(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
