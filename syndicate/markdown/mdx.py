"""MDX: ESM `import`/`export` blocks, `{/* comments */}` and JSX components (capitalised tags).

MDX syntax: https://mdxjs.com/docs/what-is-mdx/ — an ESM block starts a line with
`import`/`export` and runs to the next blank line.
"""
from __future__ import annotations

import re

from syndicate.markdown import builtins
from syndicate.markdown.context import Context
from syndicate.markdown.tags import Tag, expand, parse_params

_ESM = re.compile(r"^(?:import|export)\b[^\n]*(?:\n(?![ \t]*\n)[^\n]*)*\n?", re.M)
_COMMENT = re.compile(r"\{/\*.*?\*/\}", re.S)
_BRACES = r"\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\}"
_JSX = re.compile(
    r"<(?P<close>/)?(?P<name>[A-Z][\w.]*)(?P<props>(?:\s+[\w:.-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|" + _BRACES + r"))?"
    r"|\s*" + _BRACES + r")*)\s*(?P<self>/)?>"
)
_MEANING = {"image": "figure", "img": "figure", "figure": "figure", "picture": "figure", "youtube": "youtube",
            "vimeo": "vimeo", "tweet": "x", "gist": "gist", "instagram": "instagram", "codeblock": "highlight"}
_VIDEO_HOSTS = re.compile(r"youtube\.com|youtu\.be|vimeo\.com")


def expand_mdx(text: str, ctx: Context) -> str:
    """Drop ESM and comments; render components by their meaning."""
    if "import" in text or "export" in text:
        text = _ESM.sub("", text)
    if "{/*" in text:
        text = _COMMENT.sub("", text)
    if "<" not in text:
        return text
    tags: list[Tag] = []
    for m in _JSX.finditer(text):
        tag = Tag(m.start(), m.end(), m.group("name"), closing=bool(m.group("close")),
                  self_closing=bool(m.group("self")), raw=m.group("props") or "", style="jsx")
        parse_params(tag.raw, tag)
        tags.append(tag)

    def render(tag: Tag, inner: str | None, raw_inner: str | None) -> str:
        return _render(tag, inner, raw_inner, ctx)

    return expand(text, tags, render)


def _meaning(tag: Tag, ctx: Context) -> str:
    mapped = ctx.post.site.shortcodes.get(tag.name)
    if mapped:
        return mapped
    low = tag.name.lower()
    for key, meaning in _MEANING.items():
        if key in low:
            return meaning
    if "video" in low or "embed" in low:
        src = tag.get("src", "url", "id")
        if _VIDEO_HOSTS.search(src):
            return "vimeo" if "vimeo" in src else "youtube"
    return ""


def _render(tag: Tag, inner: str | None, raw_inner: str | None, ctx: Context) -> str:
    what = f"component <{tag.name}>"
    meaning = _meaning(tag, ctx)
    if meaning:
        out = builtins.render(meaning, tag, inner, raw_inner, ctx, what)
        if out is not None:
            return out
    if "src" in tag.named and ("alt" in tag.named or meaning == "figure"):
        return builtins.image(tag, ctx, inner, what)
    if inner is not None:
        title = tag.get("title", "summary", "heading", "label")
        if title and not title.startswith("{"):
            return builtins.box(tag, inner, "callout")
        if raw_inner is not None and "\n" not in raw_inner:
            return inner  # an inline component: `Press <Kbd>Ctrl</Kbd>`
        return "\n\n" + inner.strip("\n") + "\n\n"
    ctx.warn(f"{what} dropped")
    return ""


def is_mdx(format: str, suffix: str) -> bool:
    return format == "mdx" or suffix.lower() == ".mdx"
