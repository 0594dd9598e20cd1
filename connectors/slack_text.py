"""Slack's text rules: escaping for mrkdwn, the <url|label> link, Block Kit limits, and the ids of a message.

Formatting (docs.slack.dev/messaging/formatting-message-text, "Escaping text"):
`&`, `<` and `>` are control characters in mrkdwn and in a message's `text`;
a literal one is sent as `&amp;`, `&lt;`, `&gt;` (only those three: other
entities are shown as written). A link is `<https://url|label>`. A
`plain_text` object (the header) is not parsed, so it is sent as written.

Block Kit limits (docs.slack.dev/reference/block-kit/blocks/...): at most 50
blocks a message; header text (plain_text) 150 characters; section text
3,000; image `image_url` 3,000 and `alt_text` 2,000 (required); `block_id`
255. The top-level `text` is truncated past 40,000 characters and
chat.postMessage refuses a longer one as `msg_too_long`.
"""
from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote, urlsplit

from syndicate.content.text import ELLIPSIS

BLOCKS_MAX = 50
HEADER_MAX = 150
SECTION_MAX = 3000
IMAGE_URL_MAX = 3000
ALT_MAX = 2000
BLOCK_ID_MAX = 255
TEXT_MAX = 40_000

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_CONTROL = re.compile(r"[&<>]")
_CUT_ENTITY = re.compile(r"&(?:a|am|amp|l|lt|g|gt)?" + ELLIPSIS)  # an entity the fitting cut in two
# hooks.slack.com/services/T…/B…/secret: the URL "Copy Webhook URL" gives (docs.slack.dev/messaging/sending-
# messages-using-incoming-webhooks); workflow webhooks (/triggers/…) take another body and are not these
_WEBHOOK_PATH = re.compile(r"^/services/(T[A-Z0-9]+)/(B[A-Z0-9]+)/([A-Za-z0-9]+)/?$")
# a message's "Copy link": https://TEAM.slack.com/archives/C…/p1712345678000200 (ts without its dot)
_PERMALINK = re.compile(r"/archives/([CDG][A-Z0-9]+)/p(\d{10})(\d{6})/?$")
_TS = re.compile(r"^\d{10}\.\d{6}$")
_CHANNEL_ID = re.compile(r"^[CDG][A-Z0-9]{6,}$")


def escape(text: str) -> str:
    """`text` shown as written in mrkdwn: `&`, `<` and `>` as entities."""
    if not text or not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: _ESCAPES[m.group(0)], text)


def mend(text: str) -> str:
    """`text` whose fitted fields may end in a cut entity (`&am…`): the cut dropped, the ellipsis kept."""
    return _CUT_ENTITY.sub(ELLIPSIS, text) if "&" in text else text


def link(url: str, label: str | None = None) -> str:
    """Slack's link form `<url|label>`: the URL with `|`, `<`, `>` percent-encoded and `&` escaped."""
    target = escape(quote(url, safe=":/?#[]@!$&'()*+,;=%~-._"))
    shown = label if label is not None else _display(url)
    return f"<{target}|{escape(shown)}>" if shown else f"<{target}>"


def _display(url: str) -> str:
    """The URL as a label: no scheme, no trailing slash (`blog.example/posts/x`)."""
    parts = urlsplit(url)
    shown = parts.netloc + parts.path.rstrip("/")
    return shown + (f"?{parts.query}" if parts.query else "")


@lru_cache(maxsize=64)
def webhook_parts(url: str) -> tuple[str, str, str] | None:
    """(team id, bot id, secret) of an incoming webhook URL, or None when it is not one."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        return None
    match = _WEBHOOK_PATH.match(parts.path)
    return (match.group(1), match.group(2), match.group(3)) if match else None


def permalink_ids(url: str | None) -> tuple[str, str] | None:
    """(channel id, ts) of a message's permalink ("Copy link"), or None."""
    match = _PERMALINK.search(urlsplit(url).path) if url else None
    return (match.group(1), f"{match.group(2)}.{match.group(3)}") if match else None


def permalink(team_url: str, channel: str, ts: str) -> str:
    """The web link of a message, as "Copy link" gives it."""
    return f"{team_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"


def is_ts(value: str) -> bool:
    return bool(_TS.match(value))


def is_channel_id(value: str) -> bool:
    return bool(_CHANNEL_ID.match(value))
