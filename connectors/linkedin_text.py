"""LinkedIn's "little text format": the commentary of a post, escaped so that LinkedIn keeps all of it.

Source: learn.microsoft.com/linkedin/marketing/community-management/shares/little-text-format
(view li-lms-2026-05). The commentary of the Posts API is `little`: plain text in which
`\\ | { } @ [ ] ( ) < > # * _ ~` are reserved for its elements (mentions `@[Name](urn)`,
hashtags, templates) and must be backslash-escaped to be shown as text. LinkedIn does not refuse
an unescaped one: it cuts the post at the first of them and answers 201 (third-party reports agree:
the post publishes "successfully" with only its first sentence). A hashtag is written in the
HashtagTemplate form `{hashtag|\\#|name}`.

The text is fitted (3,000 characters) as the reader sees it, before it is escaped here: escaping
adds characters the reader never sees.
"""
from __future__ import annotations

import regex

RESERVED = frozenset("\\|{}@[]()<>#*_~")

# a hashtag as LinkedIn's composer makes one: `#` at the start or after a space, then a word
# holding a letter (so "C#" and "#1" stay text, escaped)
_HASHTAG = regex.compile(r"(?<!\S)#([\p{L}\p{M}\p{N}_]*\p{L}[\p{L}\p{M}\p{N}_]*)")
_RESERVED = regex.compile(r"[\\|{}@\[\]()<>#*_~]")

__all__ = ["RESERVED", "commentary", "escape", "hashtag", "link_text"]


def escape(text: str) -> str:
    """Every reserved character backslash-escaped: the text shows exactly as written."""
    return _RESERVED.sub(lambda m: "\\" + m.group(0), text)


def hashtag(name: str) -> str:
    """The HashtagTemplate form of `name` (without its `#`)."""
    return "{hashtag|\\#|" + escape(name) + "}"


def link_text(url: str) -> str:
    """A URL with no reserved character left: each one percent-encoded (`_` is `%5F`), which names the
    same resource. A comment's text is then the same whether LinkedIn reads it as little text or not
    (the Comments API does not say)."""
    return "".join(f"%{ord(c):02X}" if c in RESERVED else c for c in url)


def commentary(text: str) -> str:
    """`text` as little text: hashtags in their template form, every other reserved character escaped."""
    out: list[str] = []
    at = 0
    for m in _HASHTAG.finditer(text):
        out.append(escape(text[at:m.start()]))
        out.append(hashtag(m.group(1)))
        at = m.end()
    out.append(escape(text[at:]))
    return "".join(out)
