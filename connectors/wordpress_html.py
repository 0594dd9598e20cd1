"""The HTML a WordPress post receives: WordPress-safe text, images rewritten, the key marker.

WordPress filters post content on display (`the_content`): `do_shortcode`
runs any `[name]` it knows, even inside `<pre>`, and `wpautop` turns every
single newline outside `<pre>` into `<br />`. So brackets in text become
character references (`&#91;`, shown as `[`) and soft line breaks become
spaces. Seen on WordPress 6.1: `[gallery]` in a paragraph vanished and
`line one\\nline two` came back as `line one<br />`.
"""
from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import unquote

_PRE = re.compile(r"(<pre\b.*?</pre\s*>)", re.DOTALL | re.IGNORECASE)
_SAFE = re.compile(r"(<!--.*?-->|<[^>]*>)|([\[\]])|[ \t]*\n[ \t]*", re.DOTALL)
_BRACKETS = {"[": "&#91;", "]": "&#93;"}
_IMG = re.compile(r"<img\s[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r'\s(src|class)="([^"]*)"', re.IGNORECASE)
MARKER = "<!-- syndicate:{key} -->"
_MARKER = re.compile(r"<!-- syndicate:(\S+) -->")


_TAGS = re.compile(r"(<!--.*?-->|<[^>]*>)", re.DOTALL)
_TEXT = re.compile(r"([\[\]])|[ \t]*\n[ \t]*")
_BREAK = re.compile(r"\n[ \t]*")


def wordpress_safe(markup: str) -> str:
    """`markup` with no bracket WordPress could read as a shortcode and no soft break `wpautop` would keep."""
    parts = _PRE.split(markup)  # odd parts are `<pre>` elements: brackets escaped, line breaks kept
    for k, part in enumerate(parts):
        parts[k] = _pre_safe(part) if k % 2 else _outside(part)
    return "".join(parts)


def _pre_safe(part: str) -> str:
    """What `_SAFE.sub(_in_pre, part)` gives: the brackets outside its tags and comments escaped."""
    if "[" not in part and "]" not in part:
        return part
    pieces = _TAGS.split(part)  # the tags and comments _SAFE matches: its other matches hold no "<"
    for k in range(0, len(pieces), 2):
        pieces[k] = pieces[k].replace("[", "&#91;").replace("]", "&#93;")
    return "".join(pieces)


def _outside(part: str) -> str:
    """`part` (outside `<pre>`) with tags and comments as they are and the text between them made safe.

    The text between two tags (or a tag and either end) is what `_SAFE` would rewrite there: its
    edges touch a `>` or `<` or an end, so only where it holds nothing but `\n` is it kept whole.
    """
    pieces = _TAGS.split(part)  # even pieces are text, odd ones tags and comments
    for k in range(0, len(pieces), 2):
        text = pieces[k]
        if text and text != "\n" and ("\n" in text or "[" in text or "]" in text):
            pieces[k] = _text_safe(text)
    return "".join(pieces)


def _text_safe(s: str) -> str:
    """What `_TEXT.sub(_in_text, s)` gives, each blank run found from its line break (the pattern, which
    may start with a space, is tried at every character)."""
    if "\n" in s:
        out: list[str] = []
        pos, n = 0, len(s)
        for m in _BREAK.finditer(s):
            a, b = m.span()
            while a > pos and s[a - 1] in " \t":  # the spaces and tabs before it, back to the last run's end
                a -= 1
            out.append(s[pos:a])
            # only whitespace between two tags (see `_in_text`) stays as it is
            out.append(s[a:b] if (a == 0 or s[a - 1] == ">") and (b == n or s[b] == "<") else " ")
            pos = b
        out.append(s[pos:])
        s = "".join(out)
    if "[" in s or "]" in s:  # no blank run holds one: escaped after as in the same pass
        s = s.replace("[", "&#91;").replace("]", "&#93;")
    return s


def _in_text(m: re.Match[str]) -> str:
    if m.group(1) is not None:
        return _BRACKETS[m.group(1)]
    s, a, b = m.string, m.start(), m.end()
    if (a == 0 or s[a - 1] == ">") and (b == len(s) or s[b] == "<"):
        return m.group(0)  # only whitespace between two tags (see `_outside_pre`)
    return " "


def _outside_pre(m: re.Match[str]) -> str:
    if m.group(1) is not None:
        return m.group(1)  # a tag or a comment, as it is
    if m.group(2) is not None:
        return _BRACKETS[m.group(2)]
    s, a, b = m.string, m.start(), m.end()
    if (a == 0 or s[a - 1] == ">") and (b == len(s) or s[b] == "<"):
        return m.group(0)  # only whitespace between two tags: no text, nothing for wpautop to break
    return " "


def _in_pre(m: re.Match[str]) -> str:
    return _BRACKETS[m.group(2)] if m.group(2) is not None else m.group(0)


def media_entry(value: str) -> dict[str, Any] | None:
    """What `upload` returned for one image ({"id", "url"}); None for a preview placeholder."""
    try:
        entry = json.loads(value)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) and "id" in entry else None


def _same_src(a: str, b: str) -> bool:
    return unquote(html.unescape(a)) == unquote(b)


def rewrite_images(markup: str, uploaded: dict[str, dict[str, Any]], shown: dict[str, str] | None = None) -> str:
    """Each `<img>` whose src was uploaded points at the media library copy (alt untouched); a preview's
    `shown` placeholders (`<upload: SRC>`) stand where the upload's URL will be."""
    if not uploaded and not shown:
        return markup

    def one(match: re.Match[str]) -> str:
        tag = match.group(0)
        attrs = {m.group(1).lower(): m.group(2) for m in _ATTR.finditer(tag)}
        src = attrs.get("src")
        if src is None:
            return tag
        placeholder = next((p for source, p in (shown or {}).items() if _same_src(src, source)), None)
        if placeholder is not None:
            shown_src = placeholder.replace("&", "&amp;").replace('"', "&quot;")  # readable: `<` may stand in a value
            return tag.replace(f'src="{src}"', f'src="{shown_src}"', 1)
        hit = next((e for source, e in uploaded.items() if _same_src(src, source)), None)
        if hit is None or not hit.get("url"):
            return tag
        tag = tag.replace(f'src="{src}"', f'src="{html.escape(str(hit["url"]))}"', 1)
        css = f"wp-image-{int(hit['id'])}"  # WordPress adds srcset to images carrying this class
        if "class" in attrs:
            return tag.replace(f'class="{attrs["class"]}"', f'class="{attrs["class"]} {css}"', 1)
        return tag.replace("<img ", f'<img class="{css}" ', 1)

    return _IMG.sub(one, markup)


def marker(key: str) -> str:
    return MARKER.format(key=key)


def key_in(content: str) -> str | None:
    """The idempotency key a content carries in its marker, if any."""
    found = _MARKER.search(content or "")
    return found.group(1) if found else None


def footer(template: str, url: str, site: str, title: str) -> str:
    """The "Originally published at" paragraph; empty when the template is empty."""
    if not template.strip():
        return ""
    values = {"url": html.escape(url), "site": html.escape(site), "title": html.escape(title, quote=False)}
    return f'<p class="syndicate-canonical">{template.format_map(values)}</p>'
