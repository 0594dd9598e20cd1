"""Forem's Liquid: escaping a Markdown body so dev.to renders it as written, and embeds as Liquid tags."""
from __future__ import annotations

import re

from markdown_it import MarkdownIt

from syndicate.markdown.document import Embed

_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{6,20}")
_DIGITS = re.compile(r"\d{1,15}")
_SAFE_URL = re.compile(r"https?://[^\s{}%]+")

# --- Liquid escaping -----------------------------------------------------------
# dev.to runs every body through Liquid: unknown tags and {{ variables }} fail
# the article (forem/forem#14028, #6673). Everything Liquid-looking outside code
# is wrapped in {% raw %}; existing raw blocks are kept as they are.
# Only block structure is needed (which lines are code): the inline pass is
# most of a parse's cost and is switched off.
# Headings, rules and link definitions cannot hold code: their rules are off too.
_MD = MarkdownIt("commonmark").disable(["inline", "text_join", "heading", "lheading", "hr", "reference"],
                                       ignoreInvalid=True)
_CODE_BLOCKS = frozenset({"fence", "code_block"})
_INLINE_PROTECTED = re.compile(
    r"\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}"  # an existing raw block
    r"|(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)",  # an inline code span
    re.DOTALL,
)
# Within one line and without backticks: a wrap never spans two blocks nor
# pairs with a code span's backtick (a stray `%}` or `}}` is plain text to Liquid).
_LIQUID = re.compile(r"\{%[^\n`]*?%\}|\{\{[^\n`]*?\}\}|\{%|\{\{")


def _blocks(markdown: str) -> list[tuple[bool, str]]:
    """(is_code, text) for each block: code blocks, inline blocks (paragraphs...), other lines."""
    lines = markdown.splitlines(keepends=True)
    kind: list[int] = [0] * len(lines)  # 0 loose line, -1 code, n > 0 the n-th inline block
    n = 0
    for token in _MD.parse(markdown):
        if token.map is None:
            continue
        start, end = token.map
        if token.type in _CODE_BLOCKS:
            kind[start:end] = [-1] * (end - start)
        elif token.type == "inline":
            n += 1
            kind[start:end] = [n if k != -1 else -1 for k in kind[start:end]]
    out: list[tuple[bool, str]] = []
    for i, line in enumerate(lines):
        if out and kind[i] > 0 and kind[i] == kind[i - 1]:
            out[-1] = (False, out[-1][1] + line)
        else:
            out.append((kind[i] == -1, line))
    return out


def _wrap(match: re.Match[str]) -> str:
    text = match.group(0)
    if "endraw" in text:  # cannot sit inside raw: show the brace as an entity
        return text.replace("{", "&#123;")
    return "{% raw %}" + text + "{% endraw %}"


def _escape_text(text: str) -> str:
    out, pos = [], 0
    for m in _INLINE_PROTECTED.finditer(text):
        out.append(_LIQUID.sub(_wrap, text[pos : m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_LIQUID.sub(_wrap, text[pos:]))
    return "".join(out)


def liquid_safe(markdown: str) -> str:
    """Wrap every Liquid tag or variable outside code in `{% raw %}…{% endraw %}`.

    Code blocks come from a CommonMark parse; code spans and existing raw
    blocks are kept within each paragraph (a span never crosses blocks).
    """
    if "{%" not in markdown and "{{" not in markdown:
        return markdown
    return "".join(
        text if code or ("{%" not in text and "{{" not in text) else _escape_text(text)
        for code, text in _blocks(markdown)
    )


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


