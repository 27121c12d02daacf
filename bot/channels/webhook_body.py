"""A webhook's body, read as a stream with a hard limit before anything looks at it.

Neither the ``Content-Length`` header (a chunked request has none) nor a form parser that
spools parts to disk bounds what an unauthenticated sender can make the process hold: the body
is read chunk by chunk and refused as soon as it passes the limit, whatever the transfer
encoding; the rest is never read (the server closes the connection). Forms are parsed here,
from the bounded bytes (``application/x-www-form-urlencoded`` only, multipart is refused), so
a signature can be checked before any other use of the fields (``docs/security.md``).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 100


class BodyRefused(Exception):
    """The body is not read or parsed: ``status`` says why (413 too large, 415 wrong type,
    400 unreadable)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


async def bounded_body(request: Request, limit: int) -> bytes:
    """The raw body, at most ``limit`` bytes; more raises ``BodyRefused(413)`` at once."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise BodyRefused(400)
        if int(declared) > limit:
            raise BodyRefused(413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyRefused(413)
        chunks.append(chunk)
    return b"".join(chunks)


def media_type(request: Request) -> str:
    """The content type without its parameters, in lower case."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def bounded_form(request: Request, limit: int) -> dict[str, str]:
    """An url-encoded form of at most ``limit`` bytes, as field -> value (the last of a
    repeated field). Any other content type (multipart above all) is ``BodyRefused(415)``,
    checked before a byte of the body is read."""
    if media_type(request) != FORM_TYPE:
        raise BodyRefused(415)
    body = await bounded_body(request, limit)
    try:
        text = body.decode("ascii")  # url-encoded: every byte beyond ASCII is percent-escaped
        pairs = parse_qsl(
            text, keep_blank_values=True, encoding="utf-8", errors="replace",
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise BodyRefused(400) from None
    return dict(pairs)
