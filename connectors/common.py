"""Helpers shared by connectors: tag and hashtag mapping, URL checks.

Platforms disagree on what a tag may hold: dev.to wants lowercase ASCII
alphanumerics (PLATFORMS.md §1 (d)), Mastodon hashtags take letters, digits
and underscores but not digits only (PLATFORMS.md §6 (d),
docs.joinmastodon.org/user/posting). Both start from the post's tags, then its
categories.
"""
from __future__ import annotations

import unicodedata
from typing import Iterable
from urllib.parse import urlsplit

import regex

# Names whose punctuation carries the meaning; mapped before stripping.
SPECIAL_TAGS = {
    "c++": "cpp",
    "c#": "csharp",
    "f#": "fsharp",
    ".net": "dotnet",
    "asp.net": "aspnet",
    "objective-c": "objectivec",
}

_NOT_ASCII_ALNUM = regex.compile(r"[^a-z0-9]+")
_WORDS = regex.compile(r"[\p{L}\p{M}\p{Nd}_]+")
_HAS_LETTER = regex.compile(r"[\p{L}_]")


def _special(name: str) -> str | None:
    return SPECIAL_TAGS.get(name.strip().casefold())


def alnum_tag(name: str) -> str:
    """`Machine Learning` → `machinelearning`, `C++` → `cpp`, `Café` → `cafe`; may return ""."""
    special = _special(name)
    if special:
        return special
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return _NOT_ASCII_ALNUM.sub("", folded.lower())


def alnum_tags(names: Iterable[str], limit: int | None = None) -> list[str]:
    """Mapped, deduplicated, non-empty tags in order, at most `limit`."""
    out: list[str] = []
    for name in names:
        tag = alnum_tag(str(name))
        if tag and tag not in out:
            out.append(tag)
            if limit is not None and len(out) >= limit:
                break
    return out


def hashtag(name: str) -> str | None:
    """`Machine Learning` → `MachineLearning`, `python` → `python`; None if no valid tag remains."""
    special = _special(name)
    if special:
        return special
    words = _WORDS.findall(unicodedata.normalize("NFC", name))
    if not words:
        return None
    if len(words) == 1:
        tag = words[0]
    else:
        tag = "".join(w[:1].upper() + w[1:] for w in words)
    if not _HAS_LETTER.search(tag) or unicodedata.category(tag[0]).startswith("M"):
        return None
    return tag


def hashtags(names: Iterable[str]) -> list[str]:
    """`#Tag` strings, deduplicated case-insensitively, in order."""
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        tag = hashtag(str(name))
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            out.append("#" + tag)
    return out


def is_http_url(value: str | None) -> bool:
    """True for an absolute http(s) URL with a host."""
    if not value:
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def same_url(a: str | None, b: str | None) -> bool:
    """URLs equal up to a trailing slash and the scheme/host case."""
    if not a or not b:
        return False

    def norm(u: str) -> str:
        p = urlsplit(u.strip())
        path = p.path.rstrip("/")
        return f"{p.scheme.lower()}://{p.netloc.lower()}{path}" + (f"?{p.query}" if p.query else "")

    try:
        return norm(a) == norm(b)
    except ValueError:
        return False
