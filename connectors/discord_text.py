"""Discord's text rules: Markdown escaping, the webhook URL, and one embed fitted to its limits.

Message content and embed titles and descriptions are Discord Markdown
(support.discord.com "Markdown Text 101"): a plain title such as
`2 * 3 = 6` or `__init__` must be escaped to show as written. Embed limits
(developers/resources/message#embed-object-embed-limits): title 256,
description 4096, footer 2048, author name 256 characters, and 6000 in total
over those fields of every embed; leading and trailing whitespace is trimmed
before counting.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

from syndicate.content.text import find_urls, truncate

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FOOTER_MAX = 2048
AUTHOR_MAX = 256
EMBED_TOTAL = 6000
THREAD_NAME_MAX = 100  # IncomingWebhookRequestPartial.thread_name maxLength

# characters Discord's Markdown gives a meaning anywhere in a line
_INLINE = re.compile(r"([\\*_~`|\[\]<>])")
# and at the start of a line: quotes, headings, subtext, lists
_LINE_START = re.compile(r"^([ \t]*)(#{1,3} |-# |[-+] )", re.MULTILINE)
_NUMBERED = re.compile(r"^([ \t]*\d+)([.)] )", re.MULTILINE)
# /api[/vN]/webhooks/{id}/{token}: the URL "Copy Webhook URL" gives (developers/resources/webhook)
_WEBHOOK_PATH = re.compile(r"^(?:/api(?:/v\d+)?)?/webhooks/(\d{1,20})/([A-Za-z0-9_-]{1,200})/?$")
_ANY = re.compile(r"[\\*_~`|\[\]<>]|^[ \t]*(?:[#+-]|\d+[.)])", re.MULTILINE)  # anything to escape at all
_SNOWFLAKE = re.compile(r"^\d{1,20}$")
_JUMP = re.compile(r"/channels/(?:\d+|@me)/(\d{1,20})/(\d{1,20})/?$")


def escape(text: str) -> str:
    """`text` shown as written in Discord Markdown: every formatting character escaped, URLs left whole."""
    if not text or not _ANY.search(text):
        return text
    out: list[str] = []
    pos = 0
    for start, end in find_urls(text):
        out.append(_escape_plain(text[pos:start]))
        out.append(text[start:end])  # an escaped `_` inside a link would break it
        pos = end
    out.append(_escape_plain(text[pos:]))
    return "".join(out)


def _escape_plain(text: str) -> str:
    text = _INLINE.sub(r"\\\1", text)  # `>` and `*` at a line start are escaped here already
    text = _NUMBERED.sub(r"\1\\\2", text)
    return _LINE_START.sub(r"\1\\\2", text)


def fit_escaped(text: str, limit: int) -> str:
    """`text` escaped and shortened (before escaping, so no escape is cut in two) to `limit` characters."""
    shown = escape(text)
    if len(shown.strip()) <= limit:
        return shown
    budget = limit
    while budget > 0:
        shown = escape(truncate(text, budget, "characters"))
        if len(shown.strip()) <= limit:
            return shown
        budget -= max(1, len(shown.strip()) - limit)
    return ""


@lru_cache(maxsize=64)
def webhook_parts(url: str) -> tuple[str, str, str | None] | None:
    """(webhook id, token, thread_id from `?thread_id=`) of a webhook URL, or None when it is not one."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
        return None
    match = _WEBHOOK_PATH.match(parts.path)
    if match is None:
        return None
    query = parse_qs(parts.query, keep_blank_values=True)
    if set(query) - {"thread_id", "wait"}:
        return None
    threads = query.get("thread_id") or []
    thread = threads[0] if threads else None
    if thread is not None and not _SNOWFLAKE.match(thread):
        return None
    return match.group(1), match.group(2), thread


def is_snowflake(value: str) -> bool:
    return bool(_SNOWFLAKE.match(value))


def jump_ids(url: str | None) -> tuple[str, str] | None:
    """(channel id, message id) of a message link ("Copy Message Link"), or None."""
    match = _JUMP.search(urlsplit(url).path) if url else None
    return (match.group(1), match.group(2)) if match else None


def embed_total(embed: dict[str, Any]) -> int:
    """The characters an embed counts against the 6000 total, as Discord counts them (trimmed)."""
    total = len(str(embed.get("title") or "").strip()) + len(str(embed.get("description") or "").strip())
    total += len(str((embed.get("footer") or {}).get("text") or "").strip())
    total += len(str((embed.get("author") or {}).get("name") or "").strip())
    for item in embed.get("fields") or []:
        total += len(str(item.get("name") or "").strip()) + len(str(item.get("value") or "").strip())
    return total


def fitted_embed(title: str, description: str, footer: str, author: str) -> tuple[dict[str, Any], list[str]]:
    """The embed's text fields, each within its limit and all within the total (the description gives way)."""
    warnings: list[str] = []
    embed: dict[str, Any] = {"title": fit_escaped(title, TITLE_MAX)}
    if embed["title"] != escape(title):
        warnings.append(f"embed title shortened to {TITLE_MAX} characters")
    if author:
        embed["author"] = {"name": truncate(author, AUTHOR_MAX, "characters")}  # author names show no Markdown
    if footer:
        embed["footer"] = {"text": truncate(footer, FOOTER_MAX, "characters")}
    room = min(DESCRIPTION_MAX, EMBED_TOTAL - embed_total(embed))
    if description:
        shown = fit_escaped(description, room)
        if shown != escape(description):
            warnings.append(f"embed description shortened to {room} characters")
        if shown:
            embed["description"] = shown
    return embed, warnings
