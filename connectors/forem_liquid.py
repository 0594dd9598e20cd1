"""Forem (dev.to) Liquid: bodies made safe for Forem's Liquid pass, and embeds as Forem's own tags.

Forem runs every article body through Liquid: unknown tags and `{{ variables }}`
fail the article (forem/forem#14028, #6673). Everything Liquid-looking outside
code is wrapped in `{% raw %}…{% endraw %}`; existing raw blocks are kept.
Where the code blocks are comes from the one scan (`syndicate.content.markdown.scan`):
a `Document` carries it from `prepare`, a bare string is scanned once.
Forem's embed tags: https://dev.to/p/editor_guide
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from syndicate.content.markdown.anchors import forem_ids, id_map, local_markdown
from syndicate.content.markdown.convert import Renders, for_platform
from syndicate.content.markdown.document import Document, Embed
from syndicate.content.markdown.scan import code_ranges

# Forem renders Markdown with Redcarpet: tables, strikethrough, autolinks and footnotes on, no
# definition lists and no task lists (forem/forem app/lib/constants/redcarpet.rb)
FOREM = Renders(footnote=True)

# Forem protects code spans before Liquid runs and Liquid keeps raw blocks: one left-to-right
# pass, the leftmost wins (modelled in tests/fakes/devto.py). Forem finds spans with a pattern
# that ignores backslash escapes, so its spans, not CommonMark's, decide what Liquid sees.
_PROTECTED = re.compile(
    r"\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}"  # an existing raw block
    # a code span, within its paragraph: a run of backticks (its first one not after a backtick), then
    # text, whole backtick runs and line breaks not ending the paragraph, up to a run as long
    r"|(`(?<!``)`*+)(?:[^`\n]++|`++|\n(?![ \t]*\n))+?(?<!`)\1(?!`)",
    re.DOTALL,
)
# Within one line and without backticks: a wrap never spans two blocks nor
# pairs with a stray backtick (a lone `%}` or `}}` is plain text to Liquid).
_LIQUID = re.compile(r"\{%[^\n`]*?%\}|\{\{[^\n`]*?\}\}|\{%|\{\{")
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{6,20}")
_DIGITS = re.compile(r"\d{1,15}")
_SAFE_URL = re.compile(r"https?://[^\s{}%]+")


def _wrap(match: re.Match[str]) -> str:
    text = match.group(0)
    if "endraw" in text:  # cannot sit inside raw: show the brace as an entity
        return text.replace("{", "&#123;")
    return "{% raw %}" + text + "{% endraw %}"


def escape_text(text: str) -> str:
    """Text outside code blocks: every Liquid tag or variable wrapped; code spans and raw blocks kept."""
    if "{%" not in text and "{{" not in text:
        return text
    out, pos = [], 0
    for m in _protected(text):
        out.append(_liquid_wrapped(text[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_liquid_wrapped(text[pos:]))
    return "".join(out)


def _protected(text: str) -> Iterator[re.Match[str]]:
    """`_PROTECTED.finditer(text)`, trying only where a match can start: at a backtick or a `{%` (the regex
    engine tries every place), each found by `str.find` and kept while it is not behind."""
    pos = 0
    tick = brace = -2
    match = _PROTECTED.match
    while True:
        if -1 < tick < pos or tick == -2:
            tick = text.find("`", pos)
        if -1 < brace < pos or brace == -2:
            brace = text.find("{%", pos)
        if tick < 0 and brace < 0:
            return
        start = brace if tick < 0 or -1 < brace < tick else tick
        m = match(text, start)  # its look-behind sees the text before, as finditer's does
        if m is None:
            pos = start + 1
        else:
            yield m
            pos = m.end()  # never empty


def _liquid_wrapped(text: str) -> str:
    # every _LIQUID match starts with "{%" or "{{": a piece holding neither is left as it is
    return _LIQUID.sub(_wrap, text) if "{%" in text or "{{" in text else text


def _escape(text: str, code: list[tuple[int, int, str]]) -> str:
    """`text` escaped outside its code blocks (the spans are Forem's, see `_PROTECTED`)."""
    out: list[str] = []
    pos = 0
    for a, b, kind in code:
        if kind != "block":
            continue
        out.append(escape_text(text[pos:a]))
        out.append(text[a:b])
        pos = b
    out.append(escape_text(text[pos:]))
    return "".join(out)


def liquid_safe(markdown: str) -> str:
    """Wrap every Liquid tag or variable outside code in `{% raw %}…{% endraw %}`.

    Code blocks come from the shared scan (one scan of `markdown`), code spans
    are the ones Forem itself protects.
    """
    if "{%" not in markdown and "{{" not in markdown:
        return markdown
    return _escape(markdown, code_ranges(markdown))


def liquid_embed(embed: Embed) -> str:
    """Forem's own Liquid tag for an embed, else its plain URL."""
    url = embed.url if _SAFE_URL.fullmatch(embed.url or "") else None
    if embed.kind == "youtube" and _YOUTUBE_ID.fullmatch(embed.id):
        return f"{{% youtube {embed.id} %}}"
    if embed.kind == "vimeo" and _DIGITS.fullmatch(embed.id):
        return f"{{% vimeo {embed.id} %}}"
    if url is None:
        return embed.url
    if embed.kind == "gist":
        return f"{{% gist {url} %}}"
    if embed.kind == "codepen":
        return f"{{% codepen {url} %}}"
    return f"{{% embed {url} %}}"


def forem_markdown(document: Document, page: str = "") -> str:
    """The article body for Forem: what Redcarpet lacks converted, Liquid outside code escaped, embeds as Forem tags;
    links to a heading of the post on its `page` made in-page where Forem's anchor for the heading is known."""
    ids: dict[str, str] = {}
    if page and f"{page}#" in document.source:
        found = document.headings()
        ids = id_map(found, forem_ids(found))
    document = for_platform(document, FOREM)
    parts: list[str] = []
    for k, seg in enumerate(document.segments):
        if isinstance(seg, Embed):
            parts.append(liquid_embed(seg))  # our own tags: never escaped
            continue
        blocks: list[tuple[int, int, str]] | None = None
        if ids and page in seg:
            relinked = local_markdown(seg, page, ids, document.code_ranges(k))
            if relinked != seg:  # the code after a shortened link is found again
                seg, blocks = relinked, [r for r in code_ranges(relinked) if r[2] == "block"]
        if "{%" in seg or "{{" in seg:
            parts.append(_escape(seg, document.code_blocks(k) if blocks is None else blocks))  # the spans are Forem's own
        else:
            parts.append(seg)
    body = "".join(parts)
    if body.lstrip().startswith("---"):
        # a leading thematic break would read as front matter on dev.to
        body = body.lstrip().replace("---", "***", 1)
    return body
