"""Raw HTML in a Markdown body made safe with nh3 (ammonia), the Markdown around it left alone.

nh3 parses HTML, and Markdown is not HTML (`> quote`, `a < b`, blank lines), so
it sees an *HTML view* of the body: every raw HTML tag as written, and every
other stretch of text as an opaque placeholder (whitespace kept, so table
and list structure parse as in a browser). After cleaning, the placeholders
are put back. nh3 drops `<script>`/`<style>` with their content, event
handlers, unknown tags (keeping their text) and URLs whose scheme is not
allowed; the unsafe URLs are reported here first, one warning each.
nh3: https://nh3.readthedocs.io/ ; CommonMark raw HTML: https://spec.commonmark.org/0.31.2/#raw-html
"""
from __future__ import annotations

import html
import re

import nh3

from syndicate.content.markdown.context import Context

# Schemes a link or image may keep: nh3's (ammonia's) defaults, which leave out
# javascript:, vbscript:, data: and file:.
SAFE_SCHEMES = frozenset(nh3.ALLOWED_URL_SCHEMES)
_SAFE_PREFIXES = ("https://", "http://", "mailto:", "/", "#", "<https://", "<http://")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")
_ATTR = r"""(?:\s+[A-Za-z_:][\w.:-]*(?:\s*=\s*(?:[^\s"'=<>`]+|'[^']*'|"[^"]*"))?)"""
_TAG = re.compile(rf"<[A-Za-z][A-Za-z0-9-]*{_ATTR}*\s*/?>|</[A-Za-z][A-Za-z0-9-]*\s*>|<!--[\s\S]*?-->|<![A-Za-z][^>]*>")
_HAS_TAG = re.compile(r"</?[A-Za-z]|<!")
_URL_ATTR = re.compile(r"""\s(href|src|poster|cite|action|formaction|srcset|data-src|xlink:href)\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+)""", re.I)
_NAME = re.compile(r"<(?:pre|listing)[\s>]", re.I)
_HOLD_OPEN, _HOLD_CLOSE = "\ue006", "\ue007"
_HELD = re.compile("\ue006(\\d+)\ue007")
_END = "\ue006end\ue007"

TAGS = frozenset(nh3.ALLOWED_TAGS) | {
    "video", "audio", "source", "track", "picture", "section", "main", "tfoot", "input", "figure", "figcaption",
}
# elements whose content HTML reads as raw text up to their closing tag
_SWALLOWING = frozenset({"script", "style", "noscript", "template", "textarea", "title", "xmp", "noembed", "noframes",
                         "plaintext", "iframe", "select", "object", "applet"})
CLEAN_CONTENT = frozenset({"script", "style", "noscript", "template", "object", "applet", "textarea", "select"})
_COMMON = {"title", "lang", "dir", "id", "class", "align"}
ATTRIBUTES: dict[str, set[str]] = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
for _tag, _extra in {
    "*": _COMMON,
    "a": {"href", "hreflang", "name", "target"},
    "img": {"src", "srcset", "sizes", "alt", "width", "height", "loading", "data-src"},
    "video": {"src", "poster", "controls", "width", "height", "autoplay", "loop", "muted", "playsinline"},
    "audio": {"src", "controls", "loop"},
    "source": {"src", "srcset", "sizes", "type", "media"},
    "track": {"src", "kind", "srclang", "label", "default"},
    "details": {"open"},
    "input": {"type", "checked", "disabled"},
}.items():
    ATTRIBUTES.setdefault(_tag, set()).update(_extra)


def unsafe_scheme(url: str) -> str | None:
    """The scheme of `url` (as a browser reads it: entities, tabs and controls ignored) when not allowed."""
    if ":" not in url or url.startswith(_SAFE_PREFIXES):
        return None
    plain = _INVISIBLE.sub("", html.unescape(url) if "&" in url else url)
    m = _SCHEME.match(plain)
    if m is None:
        return None
    scheme = m.group(1).lower()
    return None if scheme in SAFE_SCHEMES else scheme


def maybe_unsafe(url: str) -> bool:
    """A quick look: whether `url` as written (escapes and all) could have an unsafe scheme."""
    return ":" in url and not url.startswith(_SAFE_PREFIXES)


def warn_unsafe(ctx: Context, what: str, scheme: str) -> None:
    ctx.warn(f"{what} with unsafe scheme {scheme}: removed")


def sanitize(text: str, ctx: Context, jsx: bool = False) -> str:
    """`text` with its raw HTML cleaned by nh3; `jsx`: capitalised tags are components, left alone."""
    if "<" not in text or not _HAS_TAG.search(text):
        return text
    held: list[str] = []
    view: list[str] = []
    pos = 0

    eats_newline = False  # HTML drops a newline right after <pre> (and <listing>): give it one to drop

    def hold(chunk: str) -> None:
        if eats_newline and chunk.startswith("\n"):
            chunk = "\n" + chunk
        if not chunk.strip():
            view.append(chunk)  # whitespace shapes tables and lists: nh3 sees it
            return
        lead = chunk[: len(chunk) - len(chunk.lstrip())]
        trail = chunk[len(chunk.rstrip()):]
        held.append(chunk.strip())
        view.append(f"{lead}{_HOLD_OPEN}{len(held) - 1}{_HOLD_CLOSE}{trail}")

    found = False
    for m in _TAG.finditer(text):
        tag = m.group(0)
        if jsx and tag[2 if tag[1] == "/" else 1].isupper():
            continue  # an MDX component, expanded later
        name = tag[1:].split(None, 1)[0].rstrip("/>").lower() if tag[1] != "/" else ""
        if name in _SWALLOWING and not tag.endswith("/>") and (
                name == "plaintext" or re.search(rf"</{name}\s*>", text[m.end():], re.I) is None):
            # never closed: HTML would read the rest of the post as its content and nh3 drop it all
            hold(text[pos:m.start()])
            pos = m.end()
            continue
        found = True
        hold(text[pos:m.start()])
        if "=" in tag:
            _report(tag, ctx)
        view.append(tag)
        eats_newline = _NAME.match(tag) is not None
        pos = m.end()
    if not found:
        return text
    hold(text[pos:])
    view.append(_END)  # what nh3 adds after it closes elements left open: not ours, cut off
    cleaned = nh3.clean("".join(view), tags=set(TAGS), clean_content_tags=set(CLEAN_CONTENT),
                        attributes={k: set(v) for k, v in ATTRIBUTES.items()}, link_rel=None,
                        url_schemes=set(SAFE_SCHEMES), strip_comments=True)
    end = cleaned.rfind(_END)
    if end >= 0:
        cleaned = cleaned[:end]
    return _HELD.sub(lambda m: held[int(m.group(1))], cleaned)


def _report(tag: str, ctx: Context) -> None:
    name = tag[1:].split(None, 1)[0].rstrip("/>").lower()
    for m in _URL_ATTR.finditer(tag):
        value = m.group(2).strip("\"'")
        urls = [p.strip().split(None, 1)[0] for p in value.split(",") if p.strip()] if m.group(1).lower() == "srcset" else [value]
        for url in urls:
            scheme = unsafe_scheme(url)
            if scheme is not None:
                warn_unsafe(ctx, "image" if name in ("img", "source", "video", "picture") else "link", scheme)
