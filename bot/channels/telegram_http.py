"""python-telegram-bot's HTTP requests over aiohttp instead of httpx.

python-telegram-bot lets an application bring its own ``BaseRequest``. vandra uses aiohttp
(already a dependency: twilio's async client is built on it) because each Bot API call through
httpx costs about twice the CPU (measured with ``bench/updates.py``, see bench/README.md); under
load a bot spends a large part of its time in these calls. Behaviour is the same as PTB's
``HTTPXRequest``: the same timeouts (PTB's defaults unless a call gives its own), form-encoded
parameters (nested values JSON-encoded by PTB) or multipart for uploads, and aiohttp's errors
mapped to PTB's ``TimedOut`` and ``NetworkError`` so retries and error handling do not change.
Requests go through the proxy the environment names (HTTPS_PROXY, NO_PROXY: channels/proxy.py).
"""

from __future__ import annotations

from urllib.parse import urlencode

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.channels.proxy import proxy_for

DEFAULT_TIMEOUT_S = 5.0
DEFAULT_MEDIA_WRITE_TIMEOUT_S = 20.0


class AiohttpRequest(BaseRequest):
    """A ``BaseRequest`` on one ``aiohttp.ClientSession`` with a bounded connection pool."""

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = DEFAULT_TIMEOUT_S,
        write_timeout: float | None = DEFAULT_TIMEOUT_S,
        connect_timeout: float | None = DEFAULT_TIMEOUT_S,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = DEFAULT_MEDIA_WRITE_TIMEOUT_S,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str | None] = {}  # by scheme and host, read at initialize

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=("Accept-Encoding",),
            )
            self._proxies.clear()

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        body, uploading = _body(request_data)
        timeout = self._timeout(
            uploading, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        try:
            async with session.request(
                method, url, data=body, timeout=timeout, proxy=self._proxy(url)
            ) as response:
                return response.status, await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


    def _proxy(self, url: str) -> str | None:
        """The proxy for ``url``'s scheme and host (looked up once per session)."""
        end = url.find("/", url.find("//") + 2)
        origin = url if end < 0 else url[:end]
        if origin not in self._proxies:
            self._proxies[origin] = proxy_for(origin)
        return self._proxies[origin]

    def _timeout(
        self,
        uploading: bool,
        read_timeout: object,
        write_timeout: object,
        connect_timeout: object,
        pool_timeout: object,
    ) -> aiohttp.ClientTimeout:
        """A call's timeouts (its own, else ours) in aiohttp's terms."""
        write = _chosen(
            write_timeout, self._media_write_timeout if uploading else self._write_timeout
        )
        read = _chosen(read_timeout, self._read_timeout)
        connect = _chosen(connect_timeout, self._connect_timeout)
        pool = _chosen(pool_timeout, self._pool_timeout)
        # aiohttp has no write timeout of its own: an upload's write allowance is added to
        # the read's (the answer comes once the body is sent); the wait for a pooled
        # connection counts in aiohttp's ``connect``.
        if uploading and read is not None:
            read += write or 0.0
        return aiohttp.ClientTimeout(
            total=None,
            connect=None if connect is None else connect + (pool or 0.0),
            sock_connect=connect,
            sock_read=read,
        )


Body = aiohttp.FormData | aiohttp.BytesPayload | dict[str, str] | None
FORM = "application/x-www-form-urlencoded"


def _body(request_data: RequestData | None) -> tuple[Body, bool]:
    """The request's body: its JSON parameters as form fields, or a multipart form with the
    files to upload; and whether there are files.

    The form fields are encoded here as aiohttp encodes a ``dict`` given as ``data`` (the
    same bytes, the same Content-Type), without the ``FormData`` and multipart writer it
    builds on the way for every request."""
    has_files = request_data is not None and request_data.contains_files
    uploads = request_data.multipart_data if request_data and has_files else None
    fields = request_data.json_parameters if request_data else None
    if not uploads:
        if not fields:
            return fields, False
        encoded = urlencode(fields, doseq=True).encode()
        return aiohttp.BytesPayload(encoded, content_type=FORM), False
    form = aiohttp.FormData()
    for name, value in (fields or {}).items():
        form.add_field(name, value)
    for name, part in uploads.items():
        filename, content, mime = _part(part)
        form.add_field(name, content, filename=filename, content_type=mime)
    return form, True

def _chosen(given: object, default: float | None) -> float | None:
    """A call's own timeout, or the default when it left it to us (PTB's ``DEFAULT_NONE``)."""
    if given is BaseRequest.DEFAULT_NONE:
        return default
    return None if given is None else float(given)  # type: ignore[arg-type]


def _part(part: object) -> tuple[str | None, bytes, str | None]:
    """One upload as PTB describes it: ``(filename, content[, mimetype])`` or bare content."""
    if isinstance(part, tuple):
        filename = part[0] if len(part) > 0 else None
        content = part[1] if len(part) > 1 else b""
        mime = part[2] if len(part) > 2 else None
        return filename, content, mime
    return None, part if isinstance(part, bytes) else bytes(str(part), "utf-8"), None
