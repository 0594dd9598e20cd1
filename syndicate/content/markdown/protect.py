"""Swap the body's code (fenced, indented, spans, `<pre>`/`<code>`) for placeholders.

The code comes from the one scan (`syndicate.content.markdown.scan`), so a
`{{closure}}` or a `{{< figure >}}` in code is never expanded, and the
renderers later know where the code is without scanning again. The only
exception is Hugo's comment form `{{</* x */>}}`, which Hugo itself prints as
`{{< x >}}` wherever it stands (that is what it exists for).
"""
from __future__ import annotations

import re

from syndicate.content.markdown.context import Context
from syndicate.content.markdown.sanitize import sanitize
from syndicate.content.markdown.scan import CODE_KINDS, scan
from syndicate.content.markdown.shortcodes import HUGO_TAG

_HTML_CODE = re.compile(r"<(pre|code)\b[^>]*>.*?</\1\s*>", re.S | re.I)
_COMMENT_FORM = re.compile(r"\{\{([<%])/\*(.*?)\*/([>%])\}\}", re.S)


def unescape_comment_form(text: str) -> str:
    """`{{</* x */>}}` → `{{< x >}}`, as Hugo prints it."""
    if "/*" not in text:
        return text
    return _COMMENT_FORM.sub(lambda m: "{{" + m.group(1) + m.group(2) + m.group(3) + "}}", text)


def protect_code(body: str, ctx: Context) -> str:
    """The body with every code block, code span and `<pre>`/`<code>` element protected."""
    if "`" not in body and "~~~" not in body and "    " not in body and "\t" not in body:
        return _protect_text(body, ctx)  # nothing CommonMark could call code
    # a backtick inside a shortcode tag quotes a parameter: the tag wins
    skip = HUGO_TAG if "{{<" in body or "{{%" in body else None
    out: list[str] = []
    pos = 0
    for r in scan(body, skip):
        if r.kind not in CODE_KINDS:
            continue
        out.append(_protect_text(body[pos:r.start], ctx))
        out.append(ctx.protect(unescape_comment_form(body[r.start:r.end]), code="span" if r.kind == "span" else "block"))
        pos = r.end
    out.append(_protect_text(body[pos:], ctx))
    return "".join(out)


def _protect_text(text: str, ctx: Context) -> str:
    """HTML `<pre>`/`<code>` and the comment form, kept literally (not code to CommonMark)."""
    if "<" in text and ("<pre" in text or "<code" in text or "<PRE" in text):
        # kept from expansion, not from sanitising: its tags are cleaned now, its text stays as written
        text = _HTML_CODE.sub(lambda m: ctx.protect(sanitize(unescape_comment_form(m.group(0)), ctx)), text)
    if "/*" in text:
        text = _COMMENT_FORM.sub(lambda m: ctx.protect("{{" + m.group(1) + m.group(2) + m.group(3) + "}}"), text)
    return text
