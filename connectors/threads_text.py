"""What Threads allows in a post's text and topic: at most 5 links, one topic tag of its own shape.

Sources: developers.facebook.com/docs/threads — create-posts/text-attachments ("All unique
URLs found in the text field are counted as links"; since 2025-12-22 more than 5 fail with
THREADS_API__LINK_LIMIT_EXCEEDED; a `link_attachment_url` equal to a text URL counts once)
and the `topic_tag` parameter (1 to 50 characters, no `.` and no `&`; PLATFORMS.md §10).

Threads counts a bare `example.com` as a link too. We count every http(s) URL and every
`name.tld` with a letters-only TLD: a superset of what a linkifier finds (`Node.js` counts),
so a text we send never holds more links than Threads allows.
"""
from __future__ import annotations

from collections.abc import Iterable

import regex

from syndicate.content.templates import template_fields
from syndicate.content.text import ELLIPSIS, find_urls, truncate
from syndicate.contract import RenderError, Template

LINKS_MAX = 5
TOPIC_MAX = 50

# a host without a scheme: labels, then a TLD of letters; not inside a URL, a path or an address
_BARE = regex.compile(r"(?<![\w@./:%#-])(?:[\w-]+\.)+[^\W\d_]{2,}(?![\w-])(?:/[^\s]*)?")
_TRAILING = ".,:;!?'\")]*"
_NOT_TOPIC = regex.compile(r"[.&]")
_WORDY = regex.compile(r"[\p{L}\p{N}]")

__all__ = ["LINKS_MAX", "TOPIC_MAX", "keep_links", "links", "topic_tag"]


def link_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, link) of every link Threads may count in `text`, in order."""
    if "." not in text:
        return []
    spans = [(s, e, text[s:e]) for s, e in find_urls(text)]
    taken = [(s, e) for s, e, _ in spans]
    for m in _BARE.finditer(text):
        start, end = m.span()
        while end > start and text[end - 1] in _TRAILING:
            end -= 1
        if "." in text[start:end] and not any(s < end and start < e for s, e in taken):
            spans.append((start, end, text[start:end]))
    return sorted(spans)


def links(text: str) -> set[str]:
    """The unique links of `text` as Threads counts them (conservatively)."""
    return {link for _, _, link in link_spans(text)}


def keep_links(template: Template, always: Iterable[str]) -> list[str]:
    """Cut the template's fields so that the text holds at most `LINKS_MAX` unique links.

    `always` are links the post carries anyway (its URL, the link attachment). Fields are cut in
    the template's shrink order, just before the first link there is no room for; returns the
    names of the fields cut. RenderError when even that cannot make room.
    """
    used = list(dict.fromkeys(template_fields(template.template)))
    values = template.values
    keep = set(always)

    def found(names: Iterable[str]) -> set[str]:
        return keep.union(*(links(values.get(n) or "") for n in names))

    if len(found(used)) <= LINKS_MAX:
        return []
    cut: list[str] = []
    for name in template.shrink:
        value = values.get(name) or ""
        if name not in used or not value or not links(value) - keep:
            continue
        others = found(n for n in used if n != name)
        room, new = LINKS_MAX - len(others), set[str]()
        for start, _end, link in link_spans(value):
            if link in others or link in new:
                continue
            if len(new) >= room:
                head = value[:start].rstrip(" \t\r\n,;:–—-(")
                values[name] = head + ELLIPSIS if head else ""
                cut.append(name)
                break
            new.add(link)
        if len(found(used)) <= LINKS_MAX:
            return cut
    raise RenderError(f"the text holds {len(found(used))} links; Threads takes at most {LINKS_MAX}")


def topic_tag(names: Iterable[str]) -> str | None:
    """The first name that makes a topic: `&` as "and", no `.`, at most 50 characters; None if none does."""
    for name in names:
        if not _WORDY.search(str(name)):
            continue  # punctuation only: no topic
        text = " ".join(_NOT_TOPIC.sub(lambda m: " and " if m.group(0) == "&" else "", str(name)).split())
        if text:
            return truncate(text, TOPIC_MAX, "characters", ellipsis="").strip() or None
    return None
