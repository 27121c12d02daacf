"""The full privacy notice on the web: ``<public_url>/integritet`` (Swedish) and ``/privacy``
(English), rendered from docs/privacy.md with the kommun's details from ``[privacy]``
(``controller``, ``contact``, ``dpo``) and the retention periods from the configuration.

The consent question links here (``privacy_url``). The notice is plain Markdown (headings,
lists, paragraphs, bold and italics, links); this renders just that, escaping everything else.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Route

from scheduling.common.config import Settings

NOTICE = Path(__file__).resolve().parent.parent / "docs" / "privacy.md"
PATHS = {"sv": "/integritet", "en": "/privacy"}
SECTIONS = {"sv": "## Svenska", "en": "## English"}


def privacy_url(settings: Settings, language: str) -> str | None:
    """Where the full notice is, or None when vandra has no public address."""
    base = settings.http.public_url
    if not base:
        return None
    return base.rstrip("/") + PATHS.get(language, PATHS["sv"])


def filled_in(text: str, settings: Settings) -> str:
    """The notice with the kommun's details and the configured periods in place of the
    bracketed blanks (blanks without a configured value stay as they are)."""
    privacy, walks = settings.privacy, settings.walks
    values = {
        ("kommunens namn", "name of the kommun"): privacy.controller,
        ("kontaktuppgifter till samordnaren", "coordinator's contact details"): privacy.contact,
        ("kontaktuppgifter", "contact details"): privacy.dpo,
        ("minimiålder", "minimum age"): str(walks.min_age),
        ("90",): str(privacy.report_text_retention_days),
        ("730",): str(privacy.inactive_person_days),
    }
    for blanks, value in values.items():
        if value is None:
            continue
        for blank in blanks:
            for variant in {blank, blank[:1].upper() + blank[1:]}:
                text = text.replace(f"*[{variant}]*", value)
    return text


def section(text: str, language: str) -> str:
    """One language's part of the notice (from its heading to the next language's)."""
    start = text.find(SECTIONS[language])
    if start < 0:
        return text
    others = [text.find(h, start + 1) for h in SECTIONS.values() if h != SECTIONS[language]]
    ends = [i for i in others if i > start]
    return text[start : min(ends)] if ends else text[start:]


_INLINE = (
    (re.compile(r"\*\*(.+?)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"\*(.+?)\*"), r"<em>\1</em>"),
    (re.compile(r"`(.+?)`"), r"<code>\1</code>"),
    (re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+|#[\w-]+)\)"), r'<a href="\2">\1</a>'),
)


def _inline(text: str) -> str:
    out = html.escape(text, quote=False)
    for pattern, replacement in _INLINE:
        out = pattern.sub(replacement, out)
    return out


def to_html(markdown: str) -> str:
    """Headings, bullet lists and paragraphs (lines folded), everything escaped."""
    blocks: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            blocks.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for raw in markdown.splitlines():
        line = raw.strip()
        heading = re.match(r"^(#{1,4})\s+(.*)$", line)
        if not line or line == "---" or heading:
            flush()
            if heading:
                level = len(heading.group(1))
                blocks.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif line.startswith("- "):
            if paragraph:
                flush()
            items.append(line[2:])
        elif items and raw.startswith("  "):
            items[-1] += " " + line
        else:
            paragraph.append(line)
    flush()
    return "\n".join(blocks)


def page(settings: Settings, language: str) -> str:
    text = section(filled_in(NOTICE.read_text(encoding="utf-8"), settings), language)
    title = "Integritet" if language == "sv" else "Privacy"
    return (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>vandra – {title}</title></head><body><main>{to_html(text)}</main></body></html>"
    )


def privacy_routes(settings: Settings) -> list[BaseRoute]:
    """``GET /integritet`` and ``GET /privacy``."""

    def handler(language: str):  # type: ignore[no-untyped-def]
        async def serve(request: Request) -> HTMLResponse:
            return HTMLResponse(page(settings, language))

        return serve

    return [Route(path, handler(lang), methods=["GET"]) for lang, path in PATHS.items()]
