"""Find code (fenced, indented, inline, `<pre>`/`<code>`) and swap it for placeholders.

Everything that is code to CommonMark stays byte-for-byte as written, so a
`{{closure}}` or a `{{< figure >}}` in a code block is never expanded. The only
exception is Hugo's comment form `{{</* x */>}}`, which Hugo itself prints as
`{{< x >}}` wherever it stands (that is what it exists for).
"""
from __future__ import annotations

import re

from syndicate.markdown.blocks import _indent
from syndicate.markdown.context import Context
from syndicate.markdown.shortcodes import HUGO_TAG

_FENCE_OPEN = re.compile(r"^((?:[ \t]*>)*[ \t]*(?:(?:[-+*]|\d{1,9}[.)])[ \t]+)?)(`{3,}(?!.*`)|~{3,})")
_LIST_ITEM = re.compile(r"^ {0,3}(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)")
_CODE_SPAN = re.compile(r"(?<![`\\])(?P<ticks>`+)(?!`)((?:(?!\n[ \t]*\n).)+?)(?<!`)(?P=ticks)(?!`)", re.S)
_SPAN_OR_SHORTCODE = re.compile(rf"(?P<sc>{HUGO_TAG.pattern})|{_CODE_SPAN.pattern}", re.S)
_HTML_CODE = re.compile(r"<(pre|code)\b[^>]*>.*?</\1\s*>", re.S | re.I)
_COMMENT_FORM = re.compile(r"\{\{([<%])/\*(.*?)\*/([>%])\}\}", re.S)


def unescape_comment_form(text: str) -> str:
    """`{{</* x */>}}` → `{{< x >}}`, as Hugo prints it."""
    if "/*" not in text:
        return text
    return _COMMENT_FORM.sub(lambda m: "{{" + m.group(1) + m.group(2) + m.group(3) + "}}", text)


def protect_code(body: str, ctx: Context) -> str:
    """The body with every code block, code span and `<pre>`/`<code>` element protected."""
    lines = body.splitlines(keepends=True)
    out: list[str] = []
    chunk: list[str] = []  # consecutive non-code lines
    i, n = 0, len(lines)
    prev_blank, in_list = True, False

    def flush() -> None:
        if chunk:
            out.append(_protect_inline("".join(chunk), ctx))
            chunk.clear()

    while i < n:
        line = lines[i]
        stripped = line.strip()
        m = _FENCE_OPEN.match(line) if ("`" in line or "~" in line) else None
        if m:
            fence = m.group(2)
            char, size = fence[0], len(fence)
            j = i + 1
            while j < n:
                s = lines[j].lstrip(" \t>").rstrip()
                if s.startswith(char * size) and not s.strip(char):
                    break
                j += 1
            end = min(j + 1, n)
            flush()
            out.append(ctx.protect(unescape_comment_form("".join(lines[i:end]))))
            i, prev_blank = end, False
            continue
        if not stripped:
            chunk.append(line)
            prev_blank = True
            i += 1
            continue
        ind = _indent(line)
        if ind >= 4 and prev_blank and not in_list:
            j = i
            last = i
            while j < n and (not lines[j].strip() or _indent(lines[j]) >= 4):
                if lines[j].strip():
                    last = j
                j += 1
            flush()
            out.append(ctx.protect(unescape_comment_form("".join(lines[i:last + 1]))))
            i, prev_blank = last + 1, False
            continue
        if _LIST_ITEM.match(line):
            in_list = True
        elif ind == 0 and prev_blank:
            in_list = False
        chunk.append(line)
        prev_blank = False
        i += 1
    flush()
    return "".join(out)


def _protect_inline(text: str, ctx: Context) -> str:
    if "<" in text and ("<pre" in text or "<code" in text or "<PRE" in text):
        text = _HTML_CODE.sub(lambda m: ctx.protect(unescape_comment_form(m.group(0))), text)
    if "`" in text:
        if "{{<" in text or "{{%" in text:
            # a backtick inside a shortcode tag quotes a parameter; the earlier match wins
            text = _SPAN_OR_SHORTCODE.sub(lambda m: m.group(0) if m.group("sc") else ctx.protect(unescape_comment_form(m.group(0))), text)
        else:
            text = _CODE_SPAN.sub(lambda m: ctx.protect(unescape_comment_form(m.group(0))), text)
    if "/*" in text:
        text = _COMMENT_FORM.sub(lambda m: ctx.protect("{{" + m.group(1) + m.group(2) + m.group(3) + "}}"), text)
    return text
