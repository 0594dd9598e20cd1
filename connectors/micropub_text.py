"""A Micropub note's HTML (as micro.blog counts it), and how a listed entry is known as a post's copy."""
from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from connectors.common import same_url
from syndicate.content.text import find_urls
from syndicate.engine.social import plain

if TYPE_CHECKING:
    from syndicate.content.post import Post

# micro.blog counts the text of the HTML, not its tags: a link shows at most this many characters
LINK_SHOWN = 30


def is_copy(props: dict[str, Any], post: Post) -> bool:
    """Whether a listed entry's properties are this post's copy."""
    if any(same_url(str(u), post.url) for u in props.get("syndication") or []):
        return True
    href = html.escape(post.url)
    for value in props.get("content") or []:
        text = " ".join(str(v) for v in value.values()) if isinstance(value, dict) else str(value)
        if post.url in text or href in text:
            return True
    date = post.date or post.publish_date
    names = [plain(str(n)) for n in props.get("name") or []]
    return bool(date and plain(post.title) in names and date.isoformat() in [str(p) for p in props.get("published") or []])


def note_html(text: str) -> str:
    """A note's text as HTML: escaped, paragraphs on blank lines, `<br>` on single ones, URLs linked.

    A link shows its URL without the scheme, cut to `LINK_SHOWN` characters (as Mastodon shows one), so
    the text micro.blog counts is the text the limit counted.
    """
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(f"<p>{'<br>'.join(_linked(line) for line in p.strip().split(chr(10)))}</p>" for p in paragraphs)


def _linked(line: str) -> str:
    out, last = [], 0
    for start, end in find_urls(line):
        url = line[start:end]
        out += [html.escape(line[last:start], quote=False),
                f'<a href="{html.escape(url)}">{html.escape(_shown(url), quote=False)}</a>']
        last = end
    out.append(html.escape(line[last:], quote=False))
    return "".join(out)


def _shown(url: str) -> str:
    bare = url.split("://", 1)[-1]
    return bare if len(bare) <= LINK_SHOWN else bare[: LINK_SHOWN - 1] + "\u2026"
