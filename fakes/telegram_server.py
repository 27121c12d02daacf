"""A fake Telegram Bot API server for tests and benchmarks, strict about the protocol.

Every request is checked against the vendored Bot API spec (``telegram-bot-api.json``, Bot
API 10.1): an unknown method, an unknown or missing parameter, a wrong type or a broken limit
is answered as Telegram answers it *and* recorded in ``violations``, so a test can assert that
the bot spoke the protocol correctly even when the bot swallowed the error.

In a test (the server runs in the test's own event loop)::

    async with FakeTelegramServer() as tg:
        tg.add_user(42, "Anna")
        bot = telegram.Bot(**tg.bot_kwargs())
        ...
        tg.send_text(42, "/start")
        reply = await tg.wait_for_message(42)
        tg.assert_no_violations()

In a benchmark (the server runs in a thread with its own loop, not competing with the bot)::

    with FakeTelegramServer(rate_limit_per_s=30) as tg:
        ...

or ``tg = FakeTelegramServer().start_in_thread()`` ... ``tg.stop_thread()``. The test controls
and ``wait_for_message``/``wait_until`` work from any thread and any event loop.

Controls: ``add_user``, ``send_text``, ``send_contact``, ``send_group_text``, ``press_button``,
``block_bot``/``unblock_bot``, ``migrate_group``, ``fail_next`` (500/429/"timeout"), and the
constructor's ``rate_limit_per_s``, ``per_chat_limit``, ``latency_s`` (every request is
handled that long after it arrives, like a round trip to Telegram's servers) and
``latency_after_s`` (the answer leaves that long after the request took effect: a process
killed meanwhile cannot know its message went out). Records:
``requests``, ``violations``, ``errors``, ``messages_to``/``last_message``, ``delivered`` (per
chat), ``callback_answers``, ``documents``, ``commands``/``commands_for``,
``webhook_deliveries``, ``chat_actions``, ``menu_buttons``, ``rate_limited``. A ``violation``
is a request the API forbids whatever the state (bad method, field, type, limit or markup);
refusals that depend on state (blocked user, message not modified, stale callback, injected
faults, rate limits) are only in ``errors``.

Requests are ``application/json``, ``application/x-www-form-urlencoded`` (python-telegram-bot sends
nested values JSON-encoded) or ``multipart/form-data`` (uploads); query-string parameters count too.
With a webhook set, updates are POSTed to it (with ``X-Telegram-Bot-Api-Secret-Token``) instead of
waiting for getUpdates.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import email.message
import functools
import html
import inspect
import itertools
import json
import logging
import math
import re
import socket
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple, Self, TypedDict, TypeVar

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

__all__ = [
    "DEFAULT_TOKEN",
    "SPEC_PATH",
    "ApiError",
    "ApiRequest",
    "BotApiSpec",
    "BotKwargs",
    "CallbackAnswer",
    "FakeTelegramServer",
    "SentDocument",
    "SentMessage",
    "UploadedFile",
    "WebhookDelivery",
    "scope_key",
    "serve_asgi",
]

logger = logging.getLogger(__name__)
SPEC_PATH = Path(__file__).with_name("telegram-bot-api.json")
DEFAULT_TOKEN = "7000000001:AAFakeTokenForVandraTests_0123456789"

T = TypeVar("T")

SCALAR_CHECKS: dict[str, Callable[[Any], bool]] = {
    "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "Boolean": lambda v: isinstance(v, bool),
    "String": lambda v: isinstance(v, str),
    "InputFile": lambda v: isinstance(v, str | UploadedFile),
}
#: Update kinds Telegram leaves out unless asked for in ``allowed_updates``.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note",
        "upload_video_note",
    }
)  # fmt: skip
HTML_TAGS = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
        "tg-emoji", "code", "pre", "blockquote", "tg-time",
    }
)  # fmt: skip
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_DISCRIMINATOR = re.compile(r'(?:must be|always) (?!one of)"?([a-z_]+)"?')
_HTML_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)(\s[^<>]*)?>")
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]+")
_ATTACH = re.compile(r"attach://([A-Za-z0-9_-]+)")
_ERROR_TEXTS = {
    401: "Unauthorized", 500: "Internal Server Error", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout",
}  # fmt: skip


# --------------------------------------------------------------------------------- values


class ApiError(Exception):
    """An error answer of the Bot API; ``violation`` marks a request the API itself forbids."""

    def __init__(
        self,
        status: int,
        description: str,
        *,
        violation: bool = False,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.violation = violation
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        """Return the JSON body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(problem: str) -> ApiError:
    """Return a 400 for a request that breaks the API's rules (a protocol violation)."""
    return ApiError(400, f"Bad Request: {problem}", violation=True)


def too_many_requests(retry_after: int) -> ApiError:
    """Return Telegram's 429 answer asking to wait ``retry_after`` seconds."""
    return ApiError(
        429,
        f"Too Many Requests: retry after {retry_after}",
        parameters={"retry_after": retry_after},
    )


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content: bytes
    mime_type: str


class BotKwargs(TypedDict):
    """Keyword arguments for ``telegram.Bot`` that point it at the fake."""

    token: str
    base_url: str
    base_file_url: str


class ApiRequest(NamedTuple):
    """One request as received: canonical method, decoded parameters, ``time.monotonic()``."""

    method: str
    params: dict[str, Any]
    at: float


@dataclass(frozen=True)
class SentDocument:
    """A document the bot sent."""

    chat_id: int
    message_id: int
    filename: str | None
    content: bytes | None
    caption: str | None
    mime_type: str | None
    file_id: str


@dataclass(eq=False)
class SentMessage:
    """A message the bot sent; edits update it in place (``text`` is after HTML parsing)."""

    chat_id: int
    message_id: int
    text: str | None
    raw_text: str | None
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    date: int
    sent_at: float
    caption: str | None = None
    document: SentDocument | None = None
    edit_count: int = 0
    deleted: bool = False

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Return the inline keyboard buttons, row by row, flattened."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]

    @property
    def inline_markup(self) -> dict[str, Any] | None:
        """Return the reply markup if it is an inline keyboard (what a Message carries)."""
        markup = self.reply_markup
        return markup if markup and "inline_keyboard" in markup else None

    def callback_data_for(self, label: str) -> str:
        """Return the callback data of the first button whose text contains ``label``."""
        for button in self.buttons:
            if label.casefold() in button["text"].casefold() and "callback_data" in button:
                return str(button["callback_data"])
        labels = [button["text"] for button in self.buttons]
        raise KeyError(f"no button with {label!r} in message {self.message_id}: {labels}")


@dataclass(frozen=True)
class CallbackAnswer:
    """An answerCallbackQuery call; ``latency_s`` is the time since the button was pressed."""

    callback_query_id: str
    user_id: int
    text: str | None
    show_alert: bool
    url: str | None
    latency_s: float


@dataclass(frozen=True)
class WebhookDelivery:
    """One update POSTed to the webhook: last HTTP status (0 = no connection) and attempts."""

    update_id: int
    status: int
    attempts: int


@dataclass
class _User:
    id: int
    first_name: str
    language_code: str | None
    username: str | None
    blocked: bool = False

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass(eq=False)
class _PendingUpdate:
    update: dict[str, Any]

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])

    @property
    def kind(self) -> str:
        return next(key for key in self.update if key != "update_id")


@dataclass
class _Callback:
    user_id: int
    injected_at: float
    answered: bool = False


@dataclass
class _Fault:
    status: int | Literal["timeout"]
    remaining: int
    retry_after: int
    delay: float
    description: str | None


@dataclass
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    last_error: str | None = None
    last_error_date: int | None = None


@dataclass
class _ApiCall:
    method: str
    params: dict[str, Any]
    request: Request


class _TokenBucket:
    """Allow ``rate`` calls per second with a burst of one second's worth."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.updated = time.monotonic()

    def take(self) -> int:
        """Take a token; return 0, or the whole seconds to wait when the bucket is empty."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0
        return max(1, math.ceil((1 - self.tokens) / self.rate))


def scope_key(scope: dict[str, Any] | None) -> str:
    """Name a BotCommandScope: ``default``, ``chat:42``, ``chat_member:-100:7``, ..."""
    if not scope:
        return "default"
    parts = [str(scope["type"])]
    parts += [str(scope[key]) for key in ("chat_id", "user_id") if key in scope]
    return ":".join(parts)


def utf16_len(text: str) -> int:
    """Return the length of ``text`` as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def html_to_plain(text: str) -> str:
    """Parse Telegram HTML into plain text, raising the 400 Telegram gives for bad markup."""
    stack: list[str] = []
    out: list[str] = []
    pos = 0
    while (start := text.find("<", pos)) != -1:
        out.append(text[pos:start])
        tag = _HTML_TAG.match(text, start)
        offset = len(text[:start].encode())
        if tag is None:
            raise bad_request(f'can\'t parse entities: unescaped "<" at byte offset {offset}')
        _check_html_tag(tag, stack, offset)
        pos = tag.end()
    out.append(text[pos:])
    if stack:
        raise bad_request(
            f"can't parse entities: can't find end tag corresponding to start tag \"{stack[-1]}\""
        )
    return html.unescape("".join(out))


def _check_html_tag(tag: re.Match[str], stack: list[str], offset: int) -> None:
    closing, name = tag.group(1) == "/", tag.group(2).lower()
    if name not in HTML_TAGS:
        kind = "end" if closing else "start"
        raise bad_request(
            f'can\'t parse entities: unsupported {kind} tag "{name}" at byte offset {offset}'
        )
    if not closing:
        stack.append(name)
    elif not stack or stack.pop() != name:
        raise bad_request(
            f"can't parse entities: unmatched end tag at byte offset {offset}, expected \"</"
            f'{stack[-1] if stack else ""}>", found "</{name}>"'
        )


def plain_text(text: str, parse_mode: str | None, has_entities: bool = False) -> str:
    """Return the text the user sees; HTML is parsed and checked, Markdown is passed through."""
    if parse_mode is None or has_entities:
        return text
    mode = parse_mode.lower()
    if mode == "html":
        return html_to_plain(text)
    if mode in {"markdown", "markdownv2"}:
        return text
    raise bad_request("unsupported parse_mode")


# --------------------------------------------------------------------------------- spec


class BotApiSpec:
    """The Bot API as data: method lookup and strict checks of parameters and nested objects."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.version: str = data.get("version", "?")
        self.methods: dict[str, dict[str, Any]] = data["methods"]
        self.types: dict[str, dict[str, Any]] = data["types"]
        self._by_lower = {name.lower(): spec for name, spec in self.methods.items()}

    @classmethod
    def load(cls, path: Path = SPEC_PATH) -> BotApiSpec:
        """Read the spec from ``path`` (the vendored JSON by default); parsed once per path."""
        return cls(_read_spec(path))

    def method(self, name: str) -> dict[str, Any] | None:
        """Return a method's spec; names are case-insensitive, as on Telegram."""
        return self._by_lower.get(name.lower())

    def parse_params(
        self, method: dict[str, Any], raw: dict[str, Any], files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        """Decode and check a request's parameters; raise a violation 400 on the first problem."""
        fields = {spec["name"]: spec for spec in method.get("fields", [])}
        self._reject_unknown(method["name"], fields, raw, files)
        params: dict[str, Any] = {}
        for name, spec in fields.items():
            if name in files:
                value: Any = files[name]
            elif name in raw:
                value = self._decode(name, raw[name], spec["types"])
            elif spec["required"]:
                raise bad_request(f"{name} is empty")
            else:
                continue
            if (problem := self.check_value(value, spec["types"], name)) is not None:
                raise bad_request(problem)
            params[name] = value
        return params

    def check_value(self, value: Any, types: list[str], path: str) -> str | None:
        """Return why ``value`` is none of ``types`` (spec type names), or None if it fits one."""
        problems: list[tuple[int, str]] = []
        for name in types:
            if (problem := self._check(value, name, path)) is None:
                return None
            problems.append((self._affinity(value, name), problem))
        return max(problems, key=lambda item: item[0])[1]

    def _reject_unknown(
        self,
        method: str,
        fields: dict[str, Any],
        raw: dict[str, Any],
        files: dict[str, UploadedFile],
    ) -> None:
        attached = {m for value in raw.values() for m in _ATTACH.findall(str(value))}
        for name in sorted({*raw, *files} - fields.keys()):
            if name not in files or name not in attached:
                raise bad_request(f'unknown parameter "{name}" for method {method}')

    def _decode(self, name: str, value: Any, types: list[str]) -> Any:
        """Turn a form string into the declared type; JSON bodies may carry strings too."""
        if not isinstance(value, str):
            return value
        structured = [t for t in types if t not in SCALAR_CHECKS]
        if structured and value.lstrip()[:1] in ("{", "["):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return _decode_scalar(value, types)

    def _check(self, value: Any, type_name: str, path: str) -> str | None:
        if type_name.startswith("Array of "):
            return self._check_array(value, type_name.removeprefix("Array of "), path)
        if (check := SCALAR_CHECKS.get(type_name)) is not None:
            return None if check(value) else f"{path} must be {type_name}"
        spec = self.types.get(type_name)
        if spec is None or not (spec.get("fields") or spec.get("subtypes")):
            is_object = isinstance(value, dict)
            return None if is_object else f"{path} must be a JSON object ({type_name})"
        if spec.get("subtypes"):
            return self.check_value(value, spec["subtypes"], path)
        return self._check_object(value, spec, path)

    def _check_array(self, value: Any, item_type: str, path: str) -> str | None:
        if not isinstance(value, list):
            return f"{path} must be a JSON array (Array of {item_type})"
        for index, item in enumerate(value):
            if (problem := self._check(item, item_type, f"{path}[{index}]")) is not None:
                return problem
        return None

    def _check_object(self, value: Any, spec: dict[str, Any], path: str) -> str | None:
        name = spec["name"]
        if not isinstance(value, dict):
            return f"{path} must be a JSON object ({name})"
        fields = {f["name"]: f for f in spec["fields"]}
        for key in value:
            if key not in fields:
                return f'{path}: unknown field "{key}" for {name}'
        for key, field_spec in fields.items():
            if key not in value:
                if field_spec["required"]:
                    return f"{path}.{key} is required in {name}"
                continue
            if (literal := _literal(field_spec)) is not None and value[key] != literal:
                return f'{path}.{key} must be "{literal}" in {name}'
            if problem := self.check_value(value[key], field_spec["types"], f"{path}.{key}"):
                return problem
        return _OBJECT_RULES.get(name, _no_rule)(value, path)

    def _affinity(self, value: Any, type_name: str) -> int:
        """Score how well ``value`` resembles ``type_name``, to report the likeliest problem."""
        if type_name.startswith("Array of "):
            return 1 if isinstance(value, list) else 0
        spec = self.types.get(type_name, {})
        if not isinstance(value, dict):
            return 0
        if spec.get("subtypes"):
            return max(self._affinity(value, sub) for sub in spec["subtypes"])
        fields = {f["name"]: f for f in spec.get("fields", [])}
        score = sum(1 for key in value if key in fields)
        literal = next((_literal(f) for f in fields.values() if _literal(f)), None)
        return score + (100 if literal and literal in value.values() else 0)


@functools.cache
def _read_spec(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _decode_scalar(value: str, types: list[str]) -> Any:
    """Decode a form string as Integer, Float or Boolean if declared, else keep the string."""
    if "Integer" in types and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    if "Float" in types:
        with contextlib.suppress(ValueError):
            return float(value)
    if "Boolean" in types and value.strip().lower() in {"true", "false", "1", "0"}:
        return value.strip().lower() in {"true", "1"}
    return value


def _literal(field_spec: dict[str, Any]) -> str | None:
    """Return the fixed value of a discriminator field (``type``/``status``/``source``)."""
    if field_spec["name"] not in {"type", "status", "source"} or not field_spec["required"]:
        return None
    match = _DISCRIMINATOR.search(field_spec["description"])
    return match.group(1) if match else None


def _no_rule(value: dict[str, Any], path: str) -> str | None:
    return None


def _inline_button_rule(button: dict[str, Any], path: str) -> str | None:
    """Exactly one action per inline button; callback_data is 1-64 bytes."""
    actions = set(button) - {"text", "icon_custom_emoji_id", "style"}
    if not actions:
        return f"text buttons are unallowed in the inline keyboard ({path})"
    if len(actions) > 1:
        return f"{path} must have exactly one action field, got {sorted(actions)}"
    if "callback_data" in button:
        size = len(str(button["callback_data"]).encode())
        if not 1 <= size <= 64:
            return f"BUTTON_DATA_INVALID: {path}.callback_data is {size} bytes (1-64 allowed)"
    return None


def _bot_command_rule(command: dict[str, Any], path: str) -> str | None:
    """Commands are 1-32 of [a-z0-9_]; descriptions 1-256 characters."""
    if not _COMMAND.fullmatch(str(command["command"])):
        return f"BOT_COMMAND_INVALID: {path}.command {command['command']!r}"
    if not 1 <= len(str(command["description"]).strip()) <= 256:
        return f"BOT_COMMAND_DESCRIPTION_INVALID: {path}.description must be 1-256 characters"
    return None


_OBJECT_RULES: dict[str, Callable[[dict[str, Any], str], str | None]] = {
    "InlineKeyboardButton": _inline_button_rule,
    "BotCommand": _bot_command_rule,
}


# --------------------------------------------------------------------------------- HTTP bits


async def read_params(request: Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Read query, JSON, urlencoded or multipart parameters and uploaded files of a request."""
    params: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    mime = content_type.split(";")[0].strip().lower()
    body = await request.body()
    if mime == "application/json":
        return params | _json_object(body), {}
    if mime == "application/x-www-form-urlencoded":
        return params | dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True)), {}
    if mime == "multipart/form-data":
        fields, files = parse_multipart(body, content_type)
        return params | fields, files
    if body:
        raise bad_request(f"unsupported Content-Type {mime!r}")
    return params, {}


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise bad_request("can't parse JSON body") from None
    if not isinstance(data, dict):
        raise bad_request("JSON body must be an object")
    return data


def _header_params(name: str, value: str) -> email.message.Message:
    message = email.message.Message()
    message[name] = value
    return message


def parse_multipart(
    body: bytes, content_type: str
) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    """Split a multipart/form-data body into text fields and file parts (stdlib only)."""
    boundary = _header_params("content-type", content_type).get_boundary()
    if not boundary:
        raise bad_request("multipart body without boundary")
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    for chunk in body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        _add_part(head.decode(), content.removesuffix(b"\r\n"), fields, files)
    return fields, files


def _add_part(
    head: str, content: bytes, fields: dict[str, str], files: dict[str, UploadedFile]
) -> None:
    headers = dict(
        (key.strip().lower(), value.strip())
        for key, _, value in (line.partition(":") for line in head.split("\r\n") if line)
    )
    disposition = _header_params("content-disposition", headers.get("content-disposition", ""))
    name = str(disposition.get_param("name", header="content-disposition") or "")
    filename = disposition.get_filename()
    if filename is None:
        fields[name] = content.decode()
    else:
        mime = headers.get("content-type", "application/octet-stream")
        files[name] = UploadedFile(filename, content, mime)


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its host and reports readiness."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()
        self.exit_requested = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Install no signal handlers: Ctrl-C belongs to the test runner or the benchmark."""
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start listening, then tell the waiting caller."""
        await super().startup(sockets=sockets)
        self.ready.set()

    async def main_loop(self) -> None:
        """Wait for :meth:`request_exit` instead of polling ``should_exit`` every 0.1 s."""
        await self.on_tick(0)
        await self.exit_requested.wait()

    def request_exit(self) -> None:
        """Ask the server to shut down."""
        self.should_exit = True
        self.exit_requested.set()


class _Served(NamedTuple):
    server: _QuietServer
    task: asyncio.Task[None]
    base_url: str


async def _start_serving(app: ASGIApp, host: str, port: int) -> _Served:
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that name it (else
    # Nagle plus delayed ACKs add ~40 ms to every answer).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        ws="none",
        timeout_graceful_shutdown=2,
    )
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    ready = asyncio.create_task(server.ready.wait())
    await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
    if not server.ready.is_set():
        ready.cancel()
        sock.close()
        task.result()  # raises what stopped it
        raise RuntimeError("uvicorn stopped before it started")
    return _Served(server, task, f"http://{host}:{port}")


async def _stop_serving(served: _Served) -> None:
    served.server.request_exit()
    await served.task


@contextlib.asynccontextmanager
async def serve_asgi(app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn in the running loop; yield its base URL (e.g. a webhook sink)."""
    served = await _start_serving(app, host, port)
    try:
        yield served.base_url
    finally:
        await _stop_serving(served)


# --------------------------------------------------------------------------------- server


class FakeTelegramServer:
    """A strict, stateful stand-in for api.telegram.org; see the module docstring for usage.

    Inspection attributes: ``requests``, ``violations``, ``errors``, ``callback_answers``,
    ``documents``, ``commands``, ``delivered``, ``rate_limited``, ``chat_actions``,
    ``menu_buttons``, ``webhook_deliveries``.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        username: str = "vandra_test_bot",
        first_name: str = "Vandra",
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit_per_s: float | None = None,
        per_chat_limit: bool = False,
        latency_s: float = 0.0,
        latency_after_s: float = 0.0,
        callback_ttl_s: float = 15.0,
        known_chats_only: bool = True,
        webhook_retries: int = 3,
        webhook_retry_delay_s: float = 0.05,
        webhook_timeout_s: float = 10.0,
        spec: BotApiSpec | None = None,
    ) -> None:
        self.token = token
        self.username = username
        self.first_name = first_name
        self.host = host
        self.port = port
        self.per_chat_limit = per_chat_limit
        self.latency_s = latency_s
        self.latency_after_s = latency_after_s
        self.callback_ttl_s = callback_ttl_s
        self.known_chats_only = known_chats_only
        self.webhook_retries = webhook_retries
        self.webhook_retry_delay_s = webhook_retry_delay_s
        self.webhook_timeout_s = webhook_timeout_s
        self.spec = spec or BotApiSpec.load()
        self.base_url = ""
        self._bucket = _TokenBucket(rate_limit_per_s) if rate_limit_per_s else None
        self._init_records()
        self._init_state()
        self._init_runtime()

    def _init_records(self) -> None:
        self.requests: list[ApiRequest] = []
        self.violations: list[str] = []
        self.errors: list[str] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.documents: list[SentDocument] = []
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.delivered: Counter[int] = Counter()
        self.rate_limited = 0
        self.chat_actions: list[tuple[int | str, str]] = []
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.webhook_deliveries: list[WebhookDelivery] = []

    def _init_state(self) -> None:
        self._users: dict[int, _User] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._migrated: dict[int, int] = {}
        self._messages: dict[int, dict[int, SentMessage]] = {}
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._read_cursor: dict[int, int] = {}
        self._pending: list[_PendingUpdate] = []
        self._update_ids = itertools.count(100_001)
        self._callback_ids = itertools.count(4_200_000_000_000_000_001)
        self._callbacks: dict[str, _Callback] = {}
        self._allowed_updates: frozenset[str] | None = None
        self._webhook: _Webhook | None = None
        self._faults: dict[str, list[_Fault]] = {}
        self._last_send: dict[int | str, float] = {}
        self._files: dict[str, SentDocument] = {}
        self._poll_generation = 0

    def _init_runtime(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._event = asyncio.Event()
        self._closing = asyncio.Event()
        self._served: _Served | None = None
        self._http: httpx.AsyncClient | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._thread_stop: asyncio.Event | None = None
        self._thread_error: BaseException | None = None
        self._handlers = self._build_handlers()

    # ----------------------------------------------------------------- lifecycle

    @property
    def bot_id(self) -> int:
        """Return the bot's user id (the number before the colon of the token)."""
        return int(self.token.split(":")[0])

    @property
    def bot_base_url(self) -> str:
        """Return the ``base_url`` for python-telegram-bot (it appends the token)."""
        return f"{self.base_url}/bot"

    @property
    def file_base_url(self) -> str:
        """Return the ``base_file_url`` for python-telegram-bot."""
        return f"{self.base_url}/file/bot"

    def bot_kwargs(self) -> BotKwargs:
        """Return keyword arguments for ``telegram.Bot(...)`` pointing at this server."""
        return {
            "token": self.token,
            "base_url": self.bot_base_url,
            "base_file_url": self.file_base_url,
        }

    async def start(self) -> Self:
        """Serve on 127.0.0.1 in the running loop; ``base_url`` is set when this returns."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._event, self._closing = asyncio.Event(), asyncio.Event()
        self._served = await _start_serving(self._app(), self.host, self.port)
        self.base_url = self._served.base_url
        self._webhook_task = asyncio.create_task(self._webhook_worker())
        return self

    async def stop(self) -> None:
        """Wake every waiting request, stop serving and close the webhook client."""
        self._closing.set()
        self._bump()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
        if self._served is not None:
            await _stop_serving(self._served)
        if self._http is not None:
            await self._http.aclose()
        self._served = self._http = self._webhook_task = None
        self._loop = self._loop_thread = None  # records stay readable from any thread
        self._event = asyncio.Event()  # not bound to the loop that served

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def start_in_thread(self, timeout: float = 10.0) -> Self:
        """Run the server in a daemon thread with its own event loop; return once it listens."""
        ready = threading.Event()
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._thread_main(ready)), name="fake-telegram", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("the fake Telegram server did not start")
        if self._thread_error is not None:
            raise RuntimeError("the fake Telegram server failed to start") from self._thread_error
        return self

    def stop_thread(self, timeout: float = 10.0) -> None:
        """Stop a server started with :meth:`start_in_thread` and join its thread."""
        if self._thread is None or self._loop is None or self._thread_stop is None:
            return
        self._loop.call_soon_threadsafe(self._thread_stop.set)
        self._thread.join(timeout)
        self._thread = None

    def __enter__(self) -> Self:
        return self.start_in_thread()

    def __exit__(self, *exc_info: object) -> None:
        self.stop_thread()

    async def _thread_main(self, ready: threading.Event) -> None:
        self._thread_stop = asyncio.Event()
        try:
            await self.start()
        except BaseException as error:
            self._thread_error = error
            ready.set()
            return
        ready.set()
        await self._thread_stop.wait()
        await self.stop()

    # ----------------------------------------------------------------- loop plumbing

    def _bump(self) -> None:
        """Wake everything waiting for a change (long polls, waits, the webhook worker)."""
        event, self._event = self._event, asyncio.Event()
        event.set()

    def _call(self, function: Callable[..., T], *args: Any) -> T:
        """Run ``function`` on the server's loop (directly when already there) and return."""
        if self._loop is None or threading.get_ident() == self._loop_thread:
            return function(*args)
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(function(*args))
            except BaseException as error:
                future.set_exception(error)

        self._loop.call_soon_threadsafe(run)
        return future.result(timeout=10)

    async def _on_server_loop(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Await ``coroutine`` on the server's loop, from that loop or from any other."""
        if self._loop is None or asyncio.get_running_loop() is self._loop:
            return await coroutine
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return await asyncio.wrap_future(future)

    async def _wait_changed(self, within: float | None) -> None:
        """Wait for the next :meth:`_bump`, at most ``within`` seconds."""
        event = self._event
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                await event.wait()

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake up when the server stops."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._closing.wait()

    # ----------------------------------------------------------------- test controls

    def add_user(
        self,
        user_id: int,
        first_name: str,
        language_code: str | None = "sv",
        username: str | None = None,
    ) -> None:
        """Create a Telegram user who has opened a private chat with the bot."""
        self._call(self._add_user, _User(user_id, first_name, language_code, username))

    def send_text(self, user_id: int, text: str) -> int:
        """Inject a private text message from ``user_id``; return its message id."""
        return self._call(self._inject_message, user_id, user_id, _text_content(text))

    def send_contact(
        self,
        user_id: int,
        phone_number: str,
        contact_user_id: int | None = None,
        first_name: str | None = None,
    ) -> int:
        """Inject a shared contact (by default the sender's own) in the private chat."""
        return self._call(self._inject_contact, user_id, phone_number, contact_user_id, first_name)

    def send_group_text(self, chat_id: int, user_id: int, text: str, title: str = "") -> int:
        """Inject a text message from ``user_id`` in group ``chat_id`` (created when new)."""
        return self._call(self._inject_group_text, chat_id, user_id, text, title)

    def edit_text(self, user_id: int, message_id: int, text: str) -> None:
        """Inject an ``edited_message``: ``user_id`` changed their private message's text."""
        self._call(self._inject_edit, user_id, message_id, _text_content(text))

    def press_button(
        self, user_id: int, message_id: int, callback_data: str, chat_id: int | None = None
    ) -> str:
        """Inject a callback query for a bot message (private chat by default); return its id."""
        return self._call(self._inject_callback, user_id, message_id, callback_data, chat_id)

    def block_bot(self, user_id: int) -> None:
        """Let ``user_id`` block the bot: a my_chat_member update, then 403 on sends."""
        self._call(self._set_blocked, user_id, True)

    def unblock_bot(self, user_id: int) -> None:
        """Let ``user_id`` unblock (restart) the bot: a my_chat_member update."""
        self._call(self._set_blocked, user_id, False)

    def migrate_group(self, old_id: int, new_id: int) -> None:
        """Upgrade group ``old_id`` to supergroup ``new_id``; the old id then answers 400."""
        self._call(self._migrate, old_id, new_id)

    def fail_next(
        self,
        method: str,
        status: int | Literal["timeout"] = 500,
        count: int = 1,
        *,
        retry_after: int = 1,
        delay: float = 10.0,
        description: str | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` (``"*"`` = any) fail.

        ``status`` is an HTTP error code (429 carries ``retry_after``) or ``"timeout"``: the call
        takes effect, but the answer is held for ``delay`` seconds, longer than the client waits
        (the lost-acknowledgement case that causes duplicates).
        """
        fault = _Fault(status, count, retry_after, delay, description)
        self._call(lambda: self._faults.setdefault(method.lower(), []).append(fault))

    # ----------------------------------------------------------------- inspection

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        """Return the bot's messages in ``chat_id`` as they are now (after edits, not deleted)."""
        return self._call(
            lambda: [m for m in self._messages.get(chat_id, {}).values() if not m.deleted]
        )

    def last_message(self, chat_id: int) -> SentMessage | None:
        """Return the bot's latest message in ``chat_id``, if any."""
        messages = self.messages_to(chat_id)
        return messages[-1] if messages else None

    def calls(self, method: str) -> list[dict[str, Any]]:
        """Return the parameters of every request of ``method`` so far."""
        return [request.params for request in list(self.requests) if request.method == method]

    def commands_for(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[str]:
        """Return the command names set for a scope and language (empty when none)."""
        return [c["command"] for c in self.commands.get((scope_key(scope), language_code), [])]

    def pending_updates(self) -> int:
        """Return how many injected updates are not yet confirmed or delivered."""
        return self._call(lambda: len(self._pending))

    def assert_no_violations(self) -> None:
        """Fail with the list of protocol violations, if there were any."""
        assert not self.violations, "Bot API violations:\n" + "\n".join(self.violations)

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Callable[[SentMessage], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a test-facing deadline, not a cancellation scope
    ) -> SentMessage:
        """Return the next bot message to ``chat_id`` (matching ``predicate``) not yet returned.

        Each call moves a per-chat cursor past the message it returns, so successive calls read
        the conversation in order. Raises TimeoutError naming what the chat did receive.
        """
        return await self._on_server_loop(self._wait_for_message(chat_id, predicate, timeout))

    async def wait_until(
        self,
        condition: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - a test-facing deadline, not a cancellation scope
    ) -> None:
        """Wait until ``condition()`` holds; it is re-checked whenever the fake's state changes."""
        await self._on_server_loop(self._wait_until(condition, timeout))

    async def _wait_for_message(
        self, chat_id: int, predicate: Callable[[SentMessage], bool] | None, within: float
    ) -> SentMessage:
        try:
            return await self._wait_for(lambda: self._next_unread(chat_id, predicate), within)
        except TimeoutError:
            seen = [m.text or m.caption for m in self._messages.get(chat_id, {}).values()]
            raise TimeoutError(
                f"no matching message to chat {chat_id} within {within}s; it got {seen}"
            ) from None

    async def _wait_until(self, condition: Callable[[], bool], within: float) -> None:
        try:
            await self._wait_for(lambda: True if condition() else None, within)
        except TimeoutError:
            raise TimeoutError(f"condition still false after {within}s") from None

    async def _wait_for(self, probe: Callable[[], T | None], within: float) -> T:
        async with asyncio.timeout(within):
            while True:
                event = self._event
                if (result := probe()) is not None:
                    return result
                await event.wait()

    def _next_unread(
        self, chat_id: int, predicate: Callable[[SentMessage], bool] | None
    ) -> SentMessage | None:
        messages = list(self._messages.get(chat_id, {}).values())
        for index in range(self._read_cursor.get(chat_id, 0), len(messages)):
            if predicate is None or predicate(messages[index]):
                self._read_cursor[chat_id] = index + 1
                return messages[index]
        return None

    # ----------------------------------------------------------------- injection internals

    def _add_user(self, user: _User) -> None:
        self._users[user.id] = user
        self._chats[user.id] = {"id": user.id, "type": "private", "first_name": user.first_name}
        if user.username:
            self._chats[user.id]["username"] = user.username

    def _user(self, user_id: int) -> _User:
        if user_id not in self._users:
            raise KeyError(f"unknown user {user_id}: call add_user() first")
        return self._users[user_id]

    def _enqueue(self, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), **payload}
        self._pending.append(_PendingUpdate(update))
        self._bump()
        return update

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _inject_message(self, chat_id: int, user_id: int, content: dict[str, Any]) -> int:
        user = self._user(user_id)
        if user.blocked and chat_id == user_id:
            raise ValueError(f"user {user_id} has blocked the bot: call unblock_bot() first")
        message_id = self._next_message_id(chat_id)
        message = {
            "message_id": message_id,
            "from": user.json(),
            "chat": self._chats[chat_id],
            "date": int(time.time()),
            **content,
        }
        self._enqueue({"message": message})
        return message_id

    def _inject_edit(self, user_id: int, message_id: int, content: dict[str, Any]) -> None:
        now = int(time.time())
        message = {
            "message_id": message_id,
            "from": self._user(user_id).json(),
            "chat": self._chats[user_id],
            "date": now,
            "edit_date": now,
            **content,
        }
        self._enqueue({"edited_message": message})

    def _inject_contact(
        self, user_id: int, phone: str, contact_user_id: int | None, first_name: str | None
    ) -> int:
        owner = self._users.get(contact_user_id or user_id)
        name = first_name or (owner.first_name if owner else "Kontakt")
        contact: dict[str, Any] = {"phone_number": phone, "first_name": name}
        if contact_user_id is not None or first_name is None:
            contact["user_id"] = contact_user_id or user_id
        return self._inject_message(user_id, user_id, {"contact": contact})

    def _inject_group_text(self, chat_id: int, user_id: int, text: str, title: str) -> int:
        if chat_id not in self._chats:
            self._chats[chat_id] = _group_chat(chat_id, title or f"Group {chat_id}")
        return self._inject_message(chat_id, user_id, _text_content(text))

    def _inject_callback(
        self, user_id: int, message_id: int, data: str, chat_id: int | None
    ) -> str:
        chat = user_id if chat_id is None else chat_id
        message = self._messages.get(chat, {}).get(message_id)
        if message is None or message.deleted:
            raise KeyError(f"the bot has no message {message_id} in chat {chat}")
        query_id = str(next(self._callback_ids))
        self._callbacks[query_id] = _Callback(user_id, time.monotonic())
        self._enqueue(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self._user(user_id).json(),
                    "message": self._message_json(message),
                    "chat_instance": str(abs(chat) * 7919),
                    "data": data,
                }
            }
        )
        return query_id

    def _set_blocked(self, user_id: int, blocked: bool) -> None:
        user = self._user(user_id)
        user.blocked = blocked
        member = {"status": "member", "user": self._bot_user_short()}
        kicked = {"status": "kicked", "user": self._bot_user_short(), "until_date": 0}
        old, new = (member, kicked) if blocked else (kicked, member)
        self._enqueue(
            {
                "my_chat_member": {
                    "chat": self._chats[user_id],
                    "from": user.json(),
                    "date": int(time.time()),
                    "old_chat_member": old,
                    "new_chat_member": new,
                }
            }
        )

    def _migrate(self, old_id: int, new_id: int) -> None:
        old_chat = self._chats.get(old_id) or _group_chat(old_id, f"Group {old_id}")
        self._chats[new_id] = _group_chat(new_id, old_chat.get("title", ""), "supergroup")
        self._migrated[old_id] = new_id
        for chat_id, key, other in (
            (old_id, "migrate_to_chat_id", new_id),
            (new_id, "migrate_from_chat_id", old_id),
        ):
            self._enqueue(
                {
                    "message": {
                        "message_id": self._next_message_id(chat_id),
                        "chat": self._chats.get(chat_id, old_chat),
                        "date": int(time.time()),
                        key: other,
                    }
                }
            )

    # ----------------------------------------------------------------- HTTP

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/bot{token}/{method}", self._api, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._file, methods=["GET"]),
                Route("/{path:path}", self._not_found, methods=["GET", "POST"]),
            ]
        )

    async def _api(self, request: Request) -> Response:
        call = _ApiCall(request.path_params["method"], {}, request)
        arrived = time.monotonic()
        try:
            try:
                await self._parse_call(call)
            finally:  # recorded before answering, so ``requests`` keeps the arrival order
                self.requests.append(ApiRequest(call.method, call.params, arrived))
            return await self._answer(call)
        except ApiError as error:
            return self._error_response(call.method, error)
        except Exception as error:  # a bug in the fake must fail the test, not hang it
            logger.exception("fake Telegram failed on %s", call.method)
            description = f"Internal Server Error: the fake failed: {error!r}"
            return self._error_response(call.method, ApiError(500, description, violation=True))
        finally:
            self._bump()

    async def _parse_call(self, call: _ApiCall) -> None:
        """Fill in the canonical method and decoded parameters, or raise what Telegram says."""
        self._check_token(call.request.path_params["token"])
        try:
            raw, files = await read_params(call.request)
        except UnicodeDecodeError:
            raise bad_request("request body is not valid UTF-8") from None
        call.params = raw | files
        spec = self.spec.method(call.method)
        if spec is None:
            raise ApiError(404, "Not Found: method not found", violation=True)
        call.method = spec["name"]
        call.params = self.spec.parse_params(spec, raw, files)
        self._check_rules(call.method, call.params)

    async def _answer(self, call: _ApiCall) -> Response:
        if self.latency_s > 0:  # the network between the bot and Telegram
            await self._sleep(self.latency_s)
        fault = self._take_fault(call.method)
        if fault is not None and fault.status != "timeout":
            raise _fault_error(fault)
        self._rate_limit(call.method, call.params)
        result = self._handler(call.method)(call)
        if inspect.isawaitable(result):
            result = await result
        if fault is not None:
            self._bump()
            await self._sleep(fault.delay)
        if self.latency_after_s > 0:  # done, and the answer is on its way back
            await self._sleep(self.latency_after_s)
        return JSONResponse({"ok": True, "result": result})

    def _error_response(self, method: str, error: ApiError) -> Response:
        line = f"{method}: {error.status} {error.description}"
        self.errors.append(line)
        if error.violation:
            self.violations.append(line)
        return JSONResponse(error.body(), status_code=error.status)

    async def _not_found(self, request: Request) -> Response:
        error = ApiError(404, "Not Found", violation=True)
        return self._error_response(f"{request.method} {request.url.path}", error)

    async def _file(self, request: Request) -> Response:
        path = request.path_params["path"]
        document = next((d for d in self._files.values() if _file_path(d) == path), None)
        if request.path_params["token"] != self.token or document is None:
            return self._error_response(f"GET file {path}", ApiError(404, "Not Found"))
        return Response(document.content or b"", media_type=document.mime_type)

    def _check_token(self, token: str) -> None:
        if not _TOKEN.fullmatch(token):
            raise ApiError(404, "Not Found", violation=True)
        if token != self.token:
            raise ApiError(401, "Unauthorized", violation=True)

    def _take_fault(self, method: str) -> _Fault | None:
        for key in (method.lower(), "*"):
            queue = self._faults.get(key)
            if queue:
                fault = queue[0]
                fault.remaining -= 1
                if fault.remaining <= 0:
                    queue.pop(0)
                return fault
        return None

    def _rate_limit(self, method: str, params: dict[str, Any]) -> None:
        sending = method.startswith(("send", "copy", "forward")) and method != "sendChatAction"
        if not (sending or method.startswith("edit")):
            return
        if self._bucket is not None and (wait := self._bucket.take()):
            self.rate_limited += 1
            raise too_many_requests(wait)
        if self.per_chat_limit and sending and "chat_id" in params:
            now, chat_id = time.monotonic(), params["chat_id"]
            if now - self._last_send.get(chat_id, -math.inf) < 1.0:
                self.rate_limited += 1
                raise too_many_requests(1)
            self._last_send[chat_id] = now

    # ----------------------------------------------------------------- per-method rules

    def _check_rules(self, method: str, params: dict[str, Any]) -> None:
        """Check the limits the spec states in prose (text length, command names, ...)."""
        rule = {
            "sendMessage": _text_rule,
            "editMessageText": _text_rule,
            "sendDocument": _caption_rule,
            "answerCallbackQuery": _answer_rule,
            "setMyCommands": _commands_rule,
            "setWebhook": _webhook_rule,
            "sendChatAction": _chat_action_rule,
        }.get(method)
        if rule is not None:
            rule(params)

    # ----------------------------------------------------------------- method handlers

    def _handler(self, method: str) -> Callable[[_ApiCall], Any]:
        """Return the handler of a spec-valid method; the rest answer a plain ``true``."""
        return self._handlers.get(method, _answer_true)

    def _build_handlers(self) -> dict[str, Callable[[_ApiCall], Any]]:
        return {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_text,
            "editMessageReplyMarkup": self._edit_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback,
            "sendDocument": self._send_document,
            "getFile": self._get_file,
            "setMyCommands": self._set_commands,
            "getMyCommands": self._get_commands,
            "deleteMyCommands": self._delete_commands,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._webhook_info,
            "sendChatAction": self._chat_action,
            "setChatMenuButton": self._set_menu_button,
            "getChatMenuButton": self._get_menu_button,
        }

    def _bot_user_short(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def _get_me(self, call: _ApiCall) -> dict[str, Any]:
        return self._bot_user_short() | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _get_updates(self, call: _ApiCall) -> list[dict[str, Any]]:
        if self._webhook is not None:
            raise ApiError(409, WEBHOOK_ACTIVE, violation=True)
        params = call.params
        offset, timeout = params.get("offset", 0), max(0, params.get("timeout", 0))
        limit = min(100, max(1, params.get("limit", 100)))
        if "allowed_updates" in params:
            self._allowed_updates = frozenset(params["allowed_updates"]) or None
        self._poll_generation += 1
        generation = self._poll_generation
        self._bump()  # an older long poll is now superseded
        self._confirm(offset)
        deadline = time.monotonic() + timeout
        while True:
            if generation != self._poll_generation:
                await _superseded(call.request)
            batch = self._take_batch(limit)
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0 or self._closing.is_set():
                return batch
            await self._wait_changed(remaining)

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            del self._pending[:offset]
        elif offset:
            self._pending = [u for u in self._pending if u.update_id >= offset]

    def _take_batch(self, limit: int) -> list[dict[str, Any]]:
        self._pending = [u for u in self._pending if self._allowed(u.kind)]
        return [u.update for u in self._pending[:limit]]

    def _allowed(self, kind: str) -> bool:
        if self._allowed_updates is None:
            return kind not in OPT_IN_UPDATES
        return kind in self._allowed_updates

    def _target_chat(self, chat_ref: int | str, *, sending: bool) -> dict[str, Any]:
        """Resolve a chat_id like Telegram: migrated groups, unknown chats, blocked users."""
        chat_id = self._resolve_chat_id(chat_ref)
        if chat_id in self._migrated:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                parameters={"migrate_to_chat_id": self._migrated[chat_id]},
            )
        if chat_id not in self._chats:
            if self.known_chats_only:
                raise ApiError(400, "Bad Request: chat not found")
            self._add_user(_User(chat_id, f"User {chat_id}", None, None))
        user = self._users.get(chat_id)
        if sending and user is not None and user.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return self._chats[chat_id]

    def _resolve_chat_id(self, chat_ref: int | str) -> int:
        if isinstance(chat_ref, int):
            return chat_ref
        name = chat_ref.removeprefix("@").lower()
        for chat_id, chat in self._chats.items():
            if str(chat.get("username", "")).lower() == name:
                return chat_id
        raise ApiError(400, "Bad Request: chat not found")

    def _store(self, chat_id: int, **fields: Any) -> SentMessage:
        message = SentMessage(
            chat_id=chat_id,
            message_id=self._next_message_id(chat_id),
            date=int(time.time()),
            sent_at=time.monotonic(),
            **fields,
        )
        self._messages.setdefault(chat_id, {})[message.message_id] = message
        self.delivered[chat_id] += 1
        return message

    def _send_message(self, call: _ApiCall) -> dict[str, Any]:
        params = call.params
        chat = self._target_chat(params["chat_id"], sending=True)
        text = plain_text(params["text"], params.get("parse_mode"), "entities" in params)
        message = self._store(
            chat["id"],
            text=text,
            raw_text=params["text"],
            parse_mode=params.get("parse_mode"),
            reply_markup=params.get("reply_markup"),
        )
        return self._message_json(message)

    def _message_json(self, message: SentMessage) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "from": self._bot_user_short(),
            "chat": self._chats.get(message.chat_id, {"id": message.chat_id, "type": "private"}),
            "date": message.date,
        }
        if message.text is not None:
            data["text"] = message.text
        if message.edit_count:
            data["edit_date"] = int(time.time())
        if message.document is not None:
            data["document"] = _document_json(message.document)
        if message.caption:
            data["caption"] = message.caption
        if message.inline_markup:
            data["reply_markup"] = message.inline_markup
        return data

    def _edit_target(self, params: dict[str, Any]) -> SentMessage:
        if "inline_message_id" in params:
            raise ApiError(400, "Bad Request: message to edit not found")
        if "chat_id" not in params or "message_id" not in params:
            raise bad_request("message identifier is not specified")
        chat = self._target_chat(params["chat_id"], sending=False)
        message = self._messages.get(chat["id"], {}).get(params["message_id"])
        if message is None or message.deleted:
            raise ApiError(400, "Bad Request: message to edit not found")
        return message

    def _edit_text(self, call: _ApiCall) -> dict[str, Any]:
        params = call.params
        message = self._edit_target(params)
        if message.text is None:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        raw = params.get("text", message.raw_text or "")
        text = plain_text(raw, params.get("parse_mode"), "entities" in params)
        markup = params.get("reply_markup")
        if (text, raw, markup) == (message.text, message.raw_text, message.inline_markup):
            raise ApiError(400, NOT_MODIFIED)
        message.text, message.raw_text, message.reply_markup = text, raw, markup
        message.parse_mode = params.get("parse_mode")
        message.edit_count += 1
        return self._message_json(message)

    def _edit_markup(self, call: _ApiCall) -> dict[str, Any]:
        message = self._edit_target(call.params)
        markup = call.params.get("reply_markup")
        if markup == message.inline_markup:
            raise ApiError(400, NOT_MODIFIED)
        message.reply_markup = markup
        message.edit_count += 1
        return self._message_json(message)

    def _delete_message(self, call: _ApiCall) -> bool:
        chat = self._target_chat(call.params["chat_id"], sending=False)
        message = self._messages.get(chat["id"], {}).get(call.params["message_id"])
        if message is None or message.deleted:
            raise ApiError(400, "Bad Request: message to delete not found")
        message.deleted = True
        return True

    def _answer_callback(self, call: _ApiCall) -> bool:
        params = call.params
        query = self._callbacks.get(params["callback_query_id"])
        now = time.monotonic()
        if query is None or query.answered or now - query.injected_at > self.callback_ttl_s:
            raise ApiError(400, QUERY_TOO_OLD)
        query.answered = True
        self.callback_answers.append(
            CallbackAnswer(
                params["callback_query_id"],
                query.user_id,
                params.get("text"),
                bool(params.get("show_alert", False)),
                params.get("url"),
                now - query.injected_at,
            )
        )
        return True

    def _send_document(self, call: _ApiCall) -> dict[str, Any]:
        params = call.params
        chat = self._target_chat(params["chat_id"], sending=True)
        caption = params.get("caption")
        if caption is not None:
            caption = plain_text(caption, params.get("parse_mode"), "caption_entities" in params)
        message = self._store(
            chat["id"],
            text=None,
            raw_text=None,
            caption=caption,
            parse_mode=params.get("parse_mode"),
            reply_markup=params.get("reply_markup"),
        )
        message.document = self._record_document(message, params["document"], caption)
        return self._message_json(message)

    def _record_document(
        self, message: SentMessage, document: UploadedFile | str, caption: str | None
    ) -> SentDocument:
        file_id = document if isinstance(document, str) else f"BQACAgQAAx-fake-{len(self._files)}"
        upload = document if isinstance(document, UploadedFile) else None
        sent = SentDocument(
            message.chat_id,
            message.message_id,
            upload.filename if upload else None,
            upload.content if upload else None,
            caption,
            upload.mime_type if upload else None,
            file_id,
        )
        self.documents.append(sent)
        self._files[file_id] = sent
        return sent

    def _get_file(self, call: _ApiCall) -> dict[str, Any]:
        document = self._files.get(call.params["file_id"])
        if document is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": document.file_id,
            "file_unique_id": _unique_id(document),
            "file_size": len(document.content or b""),
            "file_path": _file_path(document),
        }

    def _commands_key(self, params: dict[str, Any]) -> tuple[str, str]:
        return scope_key(params.get("scope")), params.get("language_code", "")

    def _set_commands(self, call: _ApiCall) -> bool:
        self.commands[self._commands_key(call.params)] = call.params["commands"]
        return True

    def _get_commands(self, call: _ApiCall) -> list[dict[str, Any]]:
        return self.commands.get(self._commands_key(call.params), [])

    def _delete_commands(self, call: _ApiCall) -> bool:
        self.commands.pop(self._commands_key(call.params), None)
        return True

    def _set_webhook(self, call: _ApiCall) -> bool:
        params = call.params
        if params.get("drop_pending_updates"):
            self._pending.clear()
        if "allowed_updates" in params:
            self._allowed_updates = frozenset(params["allowed_updates"]) or None
        if not params["url"]:
            self._webhook = None
            return True
        self._webhook = _Webhook(
            params["url"], params.get("secret_token"), params.get("max_connections", 40)
        )
        return True

    def _delete_webhook(self, call: _ApiCall) -> bool:
        self._webhook = None
        if call.params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    def _webhook_info(self, call: _ApiCall) -> dict[str, Any]:
        hook = self._webhook
        info: dict[str, Any] = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if hook.last_error:
                info |= {
                    "last_error_date": hook.last_error_date,
                    "last_error_message": hook.last_error,
                }
        if self._allowed_updates is not None:
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    def _chat_action(self, call: _ApiCall) -> bool:
        chat = self._target_chat(call.params["chat_id"], sending=True)
        self.chat_actions.append((chat["id"], call.params["action"]))
        return True

    def _set_menu_button(self, call: _ApiCall) -> bool:
        button = call.params.get("menu_button", {"type": "default"})
        self.menu_buttons[call.params.get("chat_id")] = button
        return True

    def _get_menu_button(self, call: _ApiCall) -> dict[str, Any]:
        chat_id = call.params.get("chat_id")
        return self.menu_buttons.get(chat_id) or self.menu_buttons.get(None) or {"type": "default"}

    # ----------------------------------------------------------------- webhook delivery

    async def _webhook_worker(self) -> None:
        """POST pending updates, in order, to the webhook while one is set."""
        while not self._closing.is_set():
            pending = self._pending[0] if self._webhook and self._pending else None
            if pending is None:
                await self._wait_changed(None)
            elif not self._allowed(pending.kind):
                self._pending.remove(pending)
            else:
                await self._deliver(pending)

    async def _deliver(self, pending: _PendingUpdate) -> None:
        status, attempts = 0, 0
        while self._webhook is not None and attempts <= self.webhook_retries:
            if attempts:
                await self._sleep(self.webhook_retry_delay_s * 2 ** (attempts - 1))
            attempts += 1
            status = await self._post_update(self._webhook, pending.update)
            if 200 <= status < 300:
                break
        if self._webhook is None and not 200 <= status < 300:
            return  # the webhook went away: the update stays for getUpdates
        self.webhook_deliveries.append(WebhookDelivery(pending.update_id, status, attempts))
        if pending in self._pending:
            self._pending.remove(pending)
        self._bump()

    async def _post_update(self, hook: _Webhook, update: dict[str, Any]) -> int:
        if self._http is None:  # made on first use: building its TLS context takes a while
            self._http = httpx.AsyncClient(timeout=self.webhook_timeout_s)
        secret = hook.secret_token
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        try:
            response = await self._http.post(hook.url, json=update, headers=headers)
        except httpx.HTTPError as error:
            status, problem = 0, f"Connection failed: {error!r}"
        else:
            status = response.status_code
            problem = f"Wrong response from the webhook: {status} {response.reason_phrase}"
        if not 200 <= status < 300:
            hook.last_error, hook.last_error_date = problem, int(time.time())
        return status


# --------------------------------------------------------------------------------- helpers


def _text_content(text: str) -> dict[str, Any]:
    """Build a message's text (and bot_command entity when it starts with a command)."""
    content: dict[str, Any] = {"text": text}
    if match := re.match(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?", text):
        length = utf16_len(match.group(0))
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return content


def _group_chat(chat_id: int, title: str, kind: str | None = None) -> dict[str, Any]:
    kind = kind or ("supergroup" if chat_id <= -1_000_000_000_000 else "group")
    return {"id": chat_id, "type": kind, "title": title}


def _unique_id(document: SentDocument) -> str:
    return f"AgAD{abs(hash(document.file_id)) % 10**8}"


def _file_path(document: SentDocument) -> str:
    return f"documents/file_{_unique_id(document)}_{document.filename or 'document'}"


def _document_json(document: SentDocument) -> dict[str, Any]:
    data: dict[str, Any] = {"file_id": document.file_id, "file_unique_id": _unique_id(document)}
    if document.filename:
        data["file_name"] = document.filename
    if document.mime_type:
        data["mime_type"] = document.mime_type
    if document.content is not None:
        data["file_size"] = len(document.content)
    return data


def _answer_true(call: _ApiCall) -> bool:
    return True


def _fault_error(fault: _Fault) -> ApiError:
    assert fault.status != "timeout"
    if fault.status == 429:
        return too_many_requests(fault.retry_after)
    description = fault.description or _ERROR_TEXTS.get(fault.status, "Injected failure")
    return ApiError(fault.status, description)


async def _superseded(request: Request) -> None:
    """End a long poll replaced by a newer one; a violation only if its client still waits."""
    still_waiting = not await request.is_disconnected()
    raise ApiError(409, "Conflict: terminated by other getUpdates request", violation=still_waiting)


def _text_rule(params: dict[str, Any]) -> None:
    if "text" not in params:
        if "rich_message" in params:
            return
        raise bad_request("message text is empty")
    text = plain_text(params["text"], params.get("parse_mode"), "entities" in params)
    if not text.strip():
        raise bad_request("message text is empty")
    if utf16_len(text) > 4096:
        raise bad_request(f"message is too long ({utf16_len(text)} > 4096 characters)")


def _caption_rule(params: dict[str, Any]) -> None:
    caption = params.get("caption")
    if caption is None:
        return
    text = plain_text(caption, params.get("parse_mode"), "caption_entities" in params)
    if utf16_len(text) > 1024:
        raise bad_request(f"message caption is too long ({utf16_len(text)} > 1024 characters)")


def _answer_rule(params: dict[str, Any]) -> None:
    if len(params.get("text") or "") > 200:
        raise bad_request("MESSAGE_TOO_LONG: callback answer text is over 200 characters")


def _commands_rule(params: dict[str, Any]) -> None:
    if len(params["commands"]) > 100:
        raise bad_request("too many commands (at most 100)")
    language = params.get("language_code", "")
    if language and not re.fullmatch(r"[a-z]{2}", language):
        raise bad_request(f"invalid language_code {language!r} (two-letter ISO 639-1)")


def _webhook_rule(params: dict[str, Any]) -> None:
    url, secret = params["url"], params.get("secret_token")
    parsed = urllib.parse.urlsplit(url)
    local = parsed.hostname in {"127.0.0.1", "localhost", "::1"}
    if url and not (parsed.scheme == "https" or (parsed.scheme == "http" and local)):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if secret is not None and not _SECRET.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters or is over 256 characters")


def _chat_action_rule(params: dict[str, Any]) -> None:
    if params["action"] not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
