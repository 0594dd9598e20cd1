"""Hugo shortcodes (`{{< x >}}`, `{{% x %}}`) and Zola shortcodes (`{{ x() }}`, `{% x() %}…{% end %}`).

Hugo: https://gohugo.io/content-management/shortcodes/
Zola: https://www.getzola.org/documentation/content/shortcodes/
"""
from __future__ import annotations

import re

from syndicate.content.markdown import builtins
from syndicate.content.markdown.context import Context
from syndicate.content.markdown.tags import Tag, expand, inline_at, parse_params

HUGO_TAG = re.compile(
    r"""\{\{(?P<d>[<%])-?\s*(?P<close>/)?\s*(?P<name>[A-Za-z0-9_][\w.:/-]*)"""
    r"""(?P<params>(?:"(?:[^"\\]|\\.)*"|`[^`]*`|[^"`{}]|\{(?!\{)|\}(?!\}))*?)"""
    r"""\s*(?P<self>/)?\s*-?[>%]\}\}"""
)
_ZOLA_ARGS = r"""(?P<args>(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`|[^"'`()]|\([^()]*\))*)"""
_ZOLA = re.compile(
    r"\{\{-?\s*(?P<iname>[A-Za-z_]\w*)\(" + _ZOLA_ARGS.replace("args", "iargs") + r"\)\s*-?\}\}"
    r"|\{%-?\s*(?P<bname>[A-Za-z_]\w*)\(" + _ZOLA_ARGS.replace("args", "bargs") + r"\)\s*-?%\}"
    r"|(?P<end>\{%-?\s*end\s*-?%\})"
)
_ZOLA_ARG = re.compile(
    r"""(\w+)\s*=\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`|\[[^\]]*\]|[^,\s)]+)"""
)


def _meaning(name: str, ctx: Context) -> str:
    mapped = ctx.post.site.shortcodes.get(name)
    if mapped is None:
        return name
    if mapped not in builtins.MEANINGS:
        ctx.warn(f"site.shortcodes maps {name!r} to unknown meaning {mapped!r}")
    return mapped


def _render(tag: Tag, inner: str | None, raw_inner: str | None, ctx: Context, what: str) -> str:
    meaning = _meaning(tag.name, ctx)
    out = builtins.render(meaning, tag, inner, raw_inner, ctx, what)
    return builtins.generic(tag, inner, ctx, what) if out is None else out


def expand_hugo(text: str, ctx: Context) -> str:
    """Expand every Hugo shortcode outside protected regions."""
    tags: list[Tag] = []
    for m in HUGO_TAG.finditer(text):
        tag = Tag(m.start(), m.end(), m.group("name"), closing=bool(m.group("close")),
                  self_closing=bool(m.group("self")), raw=m.group("params"), style=m.group("d"),
                  inline=inline_at(text, m.start(), m.end()))
        parse_params(tag.raw, tag)
        tags.append(tag)

    def render(tag: Tag, inner: str | None, raw_inner: str | None) -> str:
        return _render(tag, inner, raw_inner, ctx, f"shortcode {tag.name!r}")

    def stray(tag: Tag) -> str:
        ctx.warn(f"closing shortcode '/{tag.name}' without an opening one removed")
        return ""

    return expand(text, tags, render, stray=stray)


def expand_zola(text: str, ctx: Context) -> str:
    """Expand Zola's inline and block shortcodes."""
    tags: list[Tag] = []
    for m in _ZOLA.finditer(text):
        if m.group("end"):
            tags.append(Tag(m.start(), m.end(), "end", closing=True, style="zola"))
            continue
        inline = m.group("iname") is not None
        tag = Tag(m.start(), m.end(), m.group("iname") if inline else m.group("bname"),
                  self_closing=inline, raw=m.group("iargs") if inline else m.group("bargs"), style="zola",
                  inline=inline_at(text, m.start(), m.end()))
        for a in _ZOLA_ARG.finditer(tag.raw):
            value = a.group(2)
            tag.named[a.group(1)] = value[1:-1] if value[:1] in "\"'`" and len(value) > 1 else value
        tags.append(tag)

    def render(tag: Tag, inner: str | None, raw_inner: str | None) -> str:
        return _render(tag, inner, raw_inner, ctx, f"shortcode {tag.name!r}")

    def stray(tag: Tag) -> str:
        ctx.warn("'{% end %}' without an opening shortcode removed")
        return ""

    return expand(text, tags, render, any_closer=True, stray=stray)


def has_hugo(text: str) -> bool:
    return "{{<" in text or "{{%" in text


def has_zola(text: str) -> bool:
    return ("{{" in text or "{%" in text) and "(" in text
