"""AT Protocol helpers for the Bluesky connector: record keys (TIDs), rich-text facets, link display.

- TID: https://atproto.com/specs/tid (13 characters of base32-sortable, the
  top bit zero). Ours is a hash of the idempotency key, so a retry, a resumed
  thread or `find` lands on the same record key; the PDS checks the syntax only.
- Facets: https://atproto.com/specs/lexicon app.bsky.richtext.facet; offsets
  are UTF-8 byte offsets into the record's text, end exclusive.
- A link (running to the next space, so a non-ASCII path stays whole)
  shows as host and path, cut to `LINK_WEIGHT` graphemes with "…"; its
  facet carries the full URI (as Bluesky's own app does with long links).
"""
from __future__ import annotations

import hashlib
from typing import Any

import regex

from syndicate.text import find_urls

TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID_SYNTAX = regex.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
LINK_WEIGHT = 32  # graphemes a link's shown text may take; the fitter counts every URL as this many
TAG_MAX_GRAPHEMES = 64  # app.bsky.richtext.facet#tag maxGraphemes
TAG_MAX_BYTES = 640  # app.bsky.richtext.facet#tag maxLength

# A hashtag starts at the text's start or after white space, then runs to the next space or
# invisible joiner; trailing punctuation is not part of it, nor is a tag of digits only.
# The rule follows Bluesky's client (atproto packages/api/src/rich-text/util.ts, TAG_REGEX):
# ZWNJ/ZWJ/soft hyphen/word joiner end a tag, and "#\ufe0f" (the keycap emoji) is none.
_INVISIBLE = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"
_TAG = regex.compile(rf"(?:^|(?<=\s))[#\uff03](?!\ufe0f)([^\s{_INVISIBLE}]+)")
_TRAILING_PUNCT = regex.compile(r"\p{P}+$")
_GRAPHEME = regex.compile(r"\X")
_DIGITS = regex.compile(r"^\d+$")
_REST = regex.compile(r"\S*")
# not part of a link when they end it: ASCII (as syndicate.text) and Arabic-script punctuation, closing quotes
_LINK_TRAILING = ".,:;!?'\")]*\u060c\u061b\u061f\u06d4\u00bb\u201d\u2019\u3002\u3001"


def tid_from_key(key: str) -> str:
    """A valid TID derived from `key` alone: the same key always gives the same record key."""
    number = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") & ((1 << 63) - 1)
    chars = []
    for _ in range(13):
        chars.append(TID_ALPHABET[number & 31])
        number >>= 5
    return "".join(reversed(chars))


def is_tid(value: str) -> bool:
    return bool(TID_SYNTAX.match(value))


def short_link(url: str, weight: int = LINK_WEIGHT) -> str:
    """How a link shows in a post: no scheme, no `www.`, at most `weight` characters ("…" when cut)."""
    shown = url.split("://", 1)[-1]
    if shown.startswith("www."):
        shown = shown[4:]
    if shown.endswith("/") and shown.count("/") == 1:
        shown = shown[:-1]  # a bare host
    graphemes = _GRAPHEME.findall(shown)
    if len(graphemes) > weight:
        shown = "".join(graphemes[: weight - 1]) + "…"
    return shown


def _host(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return regex.split(r"[/?#]", rest, maxsplit=1)[0]


def rich_text(text: str, *, shorten: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """The record text (links shortened when `shorten`) and its link and tag facets, by byte offset."""
    out: list[str] = []
    facets: list[dict[str, Any]] = []
    taken: list[tuple[int, int]] = []  # byte spans of links, where no tag may start
    size = pos = 0
    for start, end in find_urls(text):
        if start < pos:
            continue  # inside the previous link, which ran on past find_urls's ASCII
        # find_urls stops at the first non-ASCII character; a path in Persian or Japanese runs on
        # to the next space (a link counts as LINK_WEIGHT either way, so the fit still holds)
        tail = _REST.match(text, end)
        if tail is not None and tail.end() > end:
            end = len(text[: tail.end()].rstrip(_LINK_TRAILING))
            end = max(end, start + 1)
        url = text[start:end]
        if not _host(url):
            continue  # a bare scheme, or a host find_urls cannot read (IDN): no link
        before = text[pos:start]
        out.append(before)
        size += len(before.encode("utf-8"))
        shown = short_link(url) if shorten else url
        width = len(shown.encode("utf-8"))
        facets.append(_facet(size, size + width, {"$type": "app.bsky.richtext.facet#link", "uri": url}))
        taken.append((size, size + width))
        out.append(shown)
        size += width
        pos = end
    out.append(text[pos:])
    result = "".join(out)
    facets.extend(_tags(result, taken))
    facets.sort(key=lambda f: f["index"]["byteStart"])
    return result, facets


def _tags(text: str, taken: list[tuple[int, int]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for m in _TAG.finditer(text):
        tag = _TRAILING_PUNCT.sub("", m.group(1))
        if not tag or _DIGITS.match(tag):
            continue
        if len(regex.findall(r"\X", tag)) > TAG_MAX_GRAPHEMES or len(tag.encode("utf-8")) > TAG_MAX_BYTES:
            continue
        start = len(text[: m.start()].encode("utf-8"))
        end = start + len(text[m.start() : m.start(1)].encode("utf-8")) + len(tag.encode("utf-8"))
        if any(s < end and start < e for s, e in taken):
            continue
        found.append(_facet(start, end, {"$type": "app.bsky.richtext.facet#tag", "tag": tag}))
    return found


def _facet(start: int, end: int, feature: dict[str, Any]) -> dict[str, Any]:
    return {"index": {"byteStart": start, "byteEnd": end}, "features": [feature]}


def rkey_of(uri: str) -> str:
    """The record key of an `at://did/collection/rkey` URI."""
    return uri.rstrip("/").rsplit("/", 1)[-1]


def repo_of(uri: str) -> str:
    """The repository (DID) of an `at://` URI."""
    return uri.removeprefix("at://").split("/", 1)[0]
