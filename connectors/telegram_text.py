"""Telegram's text rules: HTML parse mode, UTF-16 counting, chat ids and links to a message.

Bot API "Formatting options" (core.telegram.org/bots/api#formatting-options), HTML style:
every `<`, `>` and `&` that is not part of a tag or an entity must be written `&lt;`, `&gt;`,
`&amp;`; only the tags b, strong, i, em, u, ins, s, strike, del, span class="tg-spoiler",
tg-spoiler, a href, tg-emoji, code, pre and blockquote exist; only the named entities
`&lt; &gt; &amp; &quot;` (and numeric ones) are known. Lengths are counted after entity
parsing: the text without its tags, an entity as the one character it stands for. Offsets of
message entities are in UTF-16 code units, and we count the limits in them too (a code point
past U+FFFF, such as most emoji, counts 2): never less than Telegram counts.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from syndicate.content.text import count, truncate

MESSAGE_MAX = 4096  # sendMessage `text`: 1-4096 characters after entities parsing
CAPTION_MAX = 1024  # sendPhoto `caption`: 0-1024 characters after entities parsing
# tags the HTML parse mode knows (bots/api#html-style)
TAGS = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
                  "tg-emoji", "code", "pre", "blockquote"})

_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{30,100}$")  # "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
_USERNAME = re.compile(r"^@[A-Za-z][A-Za-z0-9_]{3,31}$")  # @channelusername (5-32 characters)
_NUMERIC = re.compile(r"^-?\d{1,20}$")
_PUBLIC = re.compile(r"^/([A-Za-z][A-Za-z0-9_]{3,31})/(\d{1,12})/?$")  # t.me/channel/123
_PRIVATE = re.compile(r"^/c/(\d{1,20})/(?:\d{1,12}/)?(\d{1,12})/?$")  # t.me/c/1234567890/123 (a topic between)


def escape(text: str) -> str:
    """`text` as Telegram's HTML shows it as written: `&`, `<` and `>` as entities."""
    if not ("&" in text or "<" in text or ">" in text):
        return text
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def units(text: str) -> int:
    """The length Telegram holds against its limits, for a plain text: UTF-16 code units."""
    return count(text, "utf16")


def cut(text: str, limit: int) -> str:
    """`text` shortened (with an ellipsis, at a word) to `limit` UTF-16 code units."""
    return truncate(text, limit, "utf16")


def token_ok(token: str) -> bool:
    return bool(_TOKEN.match(token.strip()))


def chat_ok(chat: str) -> bool:
    return bool(_USERNAME.match(chat) or _NUMERIC.match(chat))


def chat_value(chat: str) -> int | str:
    """The `chat_id` as the API takes it: an integer id, or "@username"."""
    return int(chat) if _NUMERIC.match(chat) else chat


def message_link(chat: dict[str, object], message_id: int | str, web: str = "https://t.me") -> str | None:
    """Where people open a message: t.me/username/N for a public chat, t.me/c/ID/N for a private
    supergroup or channel (its id without -100), none for a basic group or a private chat."""
    username = chat.get("username")
    if username:
        return f"{web}/{username}/{message_id}"
    ident = str(chat.get("id") or "")
    if ident.startswith("-100"):
        return f"{web}/c/{ident[4:]}/{message_id}"
    return None


def link_ids(url: str | None) -> tuple[str, str] | None:
    """(chat id or "@username", message id) of a t.me message link ("Copy Post Link"), or None."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc.lower() not in ("t.me", "telegram.me", "www.t.me"):
        return None
    private = _PRIVATE.match(parts.path)
    if private:
        return "-100" + private.group(1), private.group(2)
    public = _PUBLIC.match(parts.path)
    if public and public.group(1).lower() != "c":
        return "@" + public.group(1), public.group(2)
    return None
