"""MDX: ESM `import`/`export` blocks, `{/* comments */}` and JSX components (capitalised tags).

MDX syntax: https://mdxjs.com/docs/what-is-mdx/ — an ESM block starts a line with
`import`/`export` and runs to the next blank line.
"""
from __future__ import annotations

import re
import textwrap

from syndicate.content.markdown import builtins
from syndicate.content.markdown.context import Context
from syndicate.content.markdown.tags import Tag, expand, parse_params

_ESM = re.compile(r"^(?:import|export)\b[^\n]*(?:\n(?![ \t]*\n)[^\n]*)*\n?", re.M)
_COMMENT = re.compile(r"\{/\*.*?\*/\}", re.S)
_BRACES = r"\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\}"
_JSX = re.compile(
    r"<(?P<close>/)?(?P<name>[A-Z][\w.]*)(?P<props>(?:\s+[\w:.-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|" + _BRACES + r"))?"
    r"|\s*" + _BRACES + r")*)\s*(?P<self>/)?>"
)
# a lowercase (HTML) element written as JSX: its attributes, `className`, `{…}` values
_HTML_TAG = re.compile(r"<(?P<name>[a-z][\w-]*)(?P<attrs>(?:\s+[\w:.-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|" + _BRACES + r"))?)*)\s*(?P<end>/?)>")
_JSX_ATTR = re.compile(r"(\s+)([\w:.-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|" + _BRACES + r"))?")
_LITERAL = re.compile(r"""\{\s*(?:"([^"\\]*)"|'([^'\\]*)'|`([^`$\\]*)`|(-?\d+(?:\.\d+)?))\s*\}""")
_EXPRESSION = re.compile(_BRACES)
# HTML elements whose children MDX parses as Markdown; alone on a line, they get blank lines around
# them so that CommonMark does too (https://mdxjs.com/docs/what-is-mdx/#interleaving)
_CONTAINERS = ("div|section|article|aside|figure|figcaption|details|summary|center|header|footer|main|nav|"
               "blockquote|li|ul|ol|dl|dd|dt|table|tbody|thead|tr|td|th|picture|video")
_OPEN_LINE = re.compile(rf"^([ \t]*<(?:{_CONTAINERS})\b[^<>]*>)[ \t]*(?=\S)(.*?)(?:(</(?:{_CONTAINERS})>)[ \t]*)?$"
                        r"|^[ \t]*(</?[a-z][\w-]*\b[^<>]*>)[ \t]*$", re.M)  # any element alone on its line is a flow element
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

    text = expand(text, tags, render)
    if "<" in text:
        text = _HTML_TAG.sub(_html_tag, text)
        text = _OPEN_LINE.sub(_blank_lines, text)
    if "{" in text:
        text = _expressions(text, ctx)
    return text


def _html_tag(m: re.Match[str]) -> str:
    """An HTML element written as JSX, as HTML: `className` → `class`, literal `{…}` values quoted, the rest dropped."""
    attrs = m.group("attrs")
    if "{" not in attrs and "className" not in attrs and "htmlFor" not in attrs:
        return m.group(0)
    kept: list[str] = []
    for a in _JSX_ATTR.finditer(attrs):
        name, value = a.group(2), a.group(3)
        name = {"className": "class", "htmlFor": "for"}.get(name, name)
        if value is not None and value.startswith("{"):
            lit = _LITERAL.fullmatch(value)
            if lit is None:
                continue  # an expression (`style={{ maxWidth: 300 }}`): nothing HTML can hold
            value = '"' + next(g for g in lit.groups() if g is not None).replace('"', "&quot;") + '"'
        kept.append(f" {name}" + (f"={value}" if value is not None else ""))
    return f"<{m.group('name')}{''.join(kept)}{' /' if m.group('end') else ''}>"


def _blank_lines(m: re.Match[str]) -> str:
    if m.group(4):  # a tag alone on its line
        return f"\n{m.group(4)}\n"
    head, body, close = m.group(1), m.group(2), m.group(3)
    return f"{head}\n\n{body}\n\n{close}\n" if close else f"{head}\n\n{body}"


def _expressions(text: str, ctx: Context) -> str:
    """JSX expressions in the text: a literal (`{' '}`, `{"text"}`) is its value, anything else goes."""
    def one(m: re.Match[str]) -> str:
        lit = _LITERAL.fullmatch(m.group(0))
        if lit is not None:
            return next(g for g in lit.groups() if g is not None)
        ctx.warn(f"JSX expression {_short(m.group(0))} removed")
        return ""

    return _EXPRESSION.sub(one, text)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:37] + "...}"


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
        return "\n\n" + textwrap.dedent(inner.strip("\n")) + "\n\n"  # JSX indentation is no code
    ctx.warn(f"{what} dropped")
    return ""


def is_mdx(format: str, suffix: str) -> bool:
    return format == "mdx" or suffix.lower() == ".mdx"
