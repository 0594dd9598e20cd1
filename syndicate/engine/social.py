"""The text of a social post: one template language for every network that announces a post.

A target's `template` (Mastodon's, Bluesky's, X's, LinkedIn's...) names the
fields `{title}`, `{excerpt}`, `{url}` and `{hashtags}`; the engine fills and
fits it (`syndicate.engine.fitting`). A post may replace the text for one target or
one type with `syndicate: {mastodon: {text: "..."}}`: the post's URL stays
where the author put it, else it is appended. Titles and excerpts are plain
text: whitespace collapsed, HTML entities decoded (`&amp;` is `&`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from syndicate.content.markdown.plain import plain_field
from syndicate.contract import TagRules, Template
from syndicate.engine.fitting import checked_template, hashtags

if TYPE_CHECKING:
    from syndicate.content.post import Post
    from syndicate.contract import Connector

FIELDS = frozenset({"title", "excerpt", "url", "hashtags"})
DEFAULT = "{title}\n\n{excerpt}\n\n{url}\n\n{hashtags}"

__all__ = ["DEFAULT", "FIELDS", "checked", "plain", "social_template"]


def plain(text: str | None) -> str:
    """A one-line plain-text field: entities decoded, whitespace collapsed."""
    return plain_field(str(text or ""))


def checked(template: str) -> str:
    """A template that names only the known fields (for a connector's options validator)."""
    return checked_template(template, FIELDS)


def social_template(post: Post, conn: Connector, tags: TagRules | None, default: str = DEFAULT,
                    *, link: bool = True, extra: dict[str, Any] | None = None) -> Template:
    """The `Template` of the first part of `post` on `conn`: the post's override, else the target's template.

    `link=False` leaves the URL out of an override's text (a platform that carries the link apart,
    such as X with `link = "none"` or LinkedIn's article card); the template's `{url}` is then "".
    """
    over = post.control.override(conn.name, conn.type)
    url = post.url if link else ""
    text = over.get("text")
    if text:
        if not link:
            return Template("{text}", {"text": str(text)}, ("text",))
        before, found, after = str(text).partition(post.url)
        return Template("{text}{url}{after}" if found else "{text}\n\n{url}",
                        {"text": before, "url": post.url, "after": after}, ("after", "text"))
    values = {
        "title": plain(post.title),
        "excerpt": plain(post.excerpt),
        "url": url,
        "hashtags": " ".join(hashtags([*post.tags, *post.categories], tags)) if tags is not None else "",
        **(extra or {}),
    }
    return Template(str(conn.option("template") or default), values)
