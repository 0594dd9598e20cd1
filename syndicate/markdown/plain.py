"""Markdown → plain text for social posts and excerpts.

Choices: link text is kept (never the URL), autolinks and bare URLs stay as the
URL, images are dropped (platforms attach them separately), code is kept
verbatim, headings become their own paragraph, bullets become "•", table cells
are joined with " | ", HTML tags are stripped and entities decoded. Soft line
breaks become a space, or nothing between CJK characters.
"""
from __future__ import annotations

import html
import re
import unicodedata

from syndicate.markdown.blocks import Block, scan

_CODE = re.compile(r"(?<![`\\])(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)>")
_LABEL = r"(?:\\.|[^\\\[\]]|\[(?:\\.|[^\\\[\]])*\])*"
_DEST = r"(?:<[^<>\n]*>|(?:\\.|[^\s()\\]|\((?:\\.|[^\s()\\])*\))*)"
_TITLE = r"""(?:\s+(?:"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|\((?:\\.|[^()\\])*\)))?"""
_IMAGE = re.compile(rf"!\[{_LABEL}\](?:\(\s*{_DEST}{_TITLE}\s*\)|\[[^\]]*\])?")
_LINK = re.compile(rf"\[({_LABEL})\](?:\(\s*{_DEST}{_TITLE}\s*\)|\[([^\]]*)\])?")
_FOOTREF = re.compile(r"\[\^[^\]\s]+\]")
_BLOCK_TAG = re.compile(
    r"</?(?:p|div|li|ul|ol|dl|dd|dt|tr|td|th|table|thead|tbody|tfoot|caption|h[1-6]|pre|blockquote|figure|figcaption|"
    r"details|summary|section|article|aside|header|footer|main|nav|hr|video|audio|picture|iframe)\b[^<>]*>|<!--.*?-->",
    re.I | re.S,
)
_BR = re.compile(r"<br\s*/?>", re.I)
_TAG = re.compile(r"</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>|<!--.*?-->", re.S)
# spans are bounded (and single-line: soft breaks are joined first) so hostile input stays linear
_STRONG = re.compile(r"\*\*(?=\S)([^\n]{1,400}?)(?<=\S)\*\*|(?<!\w)__(?=\S)([^\n]{1,400}?)(?<=\S)__(?!\w)")
_EM = re.compile(r"(?<![\\*\w])\*(?=[^\s*])([^\n]{1,400}?)(?<=[^\s\\])\*(?![*\w])|(?<![\\\w])_(?=[^\s_])([^\n]{1,400}?)(?<=[^\s\\])_(?!\w)")
_STRIKE = re.compile(r"~~(?=\S)([^\n]{1,400}?)(?<=\S)~~")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_HOLD = re.compile("\ue004(\\d+)\ue005")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def _wide(ch: str) -> bool:
    return ord(ch) >= 0x2E80 and unicodedata.east_asian_width(ch) in "WF"


def join_lines(lines: list[str]) -> str:
    """A paragraph's lines joined: hard breaks → newline, soft breaks → space (none between CJK)."""
    if len(lines) == 1:
        return lines[0].strip()
    parts: list[str] = []
    for k, line in enumerate(lines):
        if k == len(lines) - 1:
            parts.append(line.strip())
            break
        hard = line.endswith("  ") or line.rstrip(" ").endswith("\\")
        text = line.rstrip()
        if hard and text.endswith("\\"):
            text = text[:-1]
        text = text.strip()
        parts.append(text)
        nxt = lines[k + 1].strip()
        if hard:
            parts.append("\n")
        elif text and nxt and _wide(text[-1]) and _wide(nxt[0]):
            continue
        else:
            parts.append(" ")
    return "".join(parts)


def inline(text: str, defs: set[str]) -> str:
    """Inline Markdown → plain text."""
    held: list[str] = []
    if "\ue004" in text:
        text = text.replace("\ue004", "")  # our hold mark, never real text

    def hold(value: str) -> str:
        held.append(value)
        return f"\ue004{len(held) - 1}\ue005"

    if "`" in text:
        text = _CODE.sub(lambda m: hold(m.group(2).strip(" ") if m.group(2).strip(" ") else m.group(2)), text)
    if "<" in text:
        text = _AUTOLINK.sub(lambda m: hold(m.group(1)), text)
    if "[" in text:
        if "![" in text:
            text = _IMAGE.sub("", text)
        text = _FOOTREF.sub("", text)
        text = _LINK.sub(lambda m: _link(m, defs), text)
    if "<" in text:
        text = _BR.sub("\n", text)
        text = _TAG.sub("", text)
    if "*" in text or "_" in text:
        text = _STRONG.sub(lambda m: m.group(1) or m.group(2), text)
        text = _EM.sub(lambda m: m.group(1) or m.group(2), text)
    if "~~" in text:
        text = _STRIKE.sub(r"\1", text)
    if "\\" in text:
        text = _ESCAPE.sub(r"\1", text)
    if "&" in text:
        text = html.unescape(text)
    if held:
        text = _HOLD.sub(lambda m: held[int(m.group(1))], text)
    return text


def _link(m: re.Match[str], defs: set[str]) -> str:
    label = m.group(1)
    whole = m.group(0)
    if whole.endswith(("]", ")")) and len(whole) > len(label) + 2:
        return label
    if " ".join(label.split()).casefold() in defs:
        return label
    return whole


def html_text(raw: str, defs: set[str]) -> str:
    """Raw HTML as plain text: tags out, one line per element; Markdown written inside it as text too."""
    raw = _TAG.sub("", _BLOCK_TAG.sub("\n", _BR.sub("\n", raw)))  # inline elements do not break a line
    return "\n".join(t for x in raw.split("\n") if x.strip() and (t := inline(x.strip(), defs).strip()))


def render_blocks(blocks: list[Block], defs: set[str], depth: int = 0) -> list[str]:
    """Plain text of each block (empty ones left out)."""
    out: list[str] = []
    for b in blocks:
        kind = b.kind
        if kind == "para":
            text = inline(join_lines(b.lines), defs).strip()
        elif kind == "heading":
            text = inline(b.lines[0], defs).strip()
        elif kind == "code":
            text = "\n".join(b.lines).strip("\n")
        elif kind == "html":
            text = html_text("\n".join(b.lines), defs)
        elif kind == "quote":
            text = "\n\n".join(render_blocks(b.children, defs, depth))
        elif kind == "list":
            rows = []
            for item in b.children:
                marker = "•" if item.marker in "-+*" else item.marker
                body = "\n".join(render_blocks(item.children, defs, depth + 1))
                body = body.replace("\n", "\n" + " " * (len(marker) + 1))
                rows.append(f"{marker} {body}".rstrip())
            text = "\n".join(rows)
            if depth:
                text = "\n".join("  " + r for r in text.split("\n"))
        elif kind == "table":
            rows = []
            for row in b.lines:
                cells = [inline(c.strip(), defs) for c in _CELL_SPLIT.split(row.strip().strip("|"))]
                rows.append(" | ".join(cells).strip())
            text = "\n".join(rows)
        elif kind == "footnote":
            text = f"[{b.marker}] " + inline(join_lines(b.lines), defs).strip()
        else:
            continue
        if text:
            out.append(text)
    return out


def to_text(markdown: str) -> str:
    """The whole body as plain text, paragraphs separated by a blank line."""
    defs: set[str] = set()
    blocks = scan(markdown.split("\n"), defs)
    return "\n\n".join(render_blocks(blocks, defs))


_DEF = re.compile(r"^ {0,3}\[([^\]^][^\]]*)\]:[ \t]*\S", re.M)
_HTML_LINE = re.compile(r"^ {0,3}<[A-Za-z/!]", re.M)
_P = re.compile(r"<p(?:\s[^>]*)?>(.*?)</p\s*>", re.S | re.I)
_SKIP_START = ("![", "[![", "<img", "<figure", "<picture", "<video")


def first_paragraph(markdown: str) -> str:
    """The first real paragraph as plain text, whitespace collapsed.

    In a body written mostly as raw HTML, the first `<p>` with text counts as a
    paragraph too (never `<pre>`, code or the text of other elements). Only as
    much of the body is scanned as it takes to find it.
    """
    lines = markdown.split("\n")
    defs = {" ".join(m.group(1).split()).casefold() for m in _DEF.finditer(markdown)} if "]:" in markdown else set()
    mostly_html = _mostly_html(markdown)
    size = 80
    while True:
        whole = size >= len(lines)
        blocks = scan(lines if whole else lines[:size], set())
        para, first_p = _first(blocks if whole else blocks[:-1], defs, mostly_html)  # the last block may go on
        if para is not None:
            return para
        if whole:
            return first_p
        size *= 4


def _mostly_html(markdown: str) -> bool:
    """Whether most non-blank lines are raw HTML (start with a tag)."""
    if "<" not in markdown:
        return False
    tags = len(_HTML_LINE.findall(markdown))
    return tags * 2 > markdown.count("\n") + 1 - markdown.count("\n\n")  # about the non-blank lines


def _first(blocks: list[Block], defs: set[str], mostly_html: bool) -> tuple[str | None, str]:
    """The first paragraph's text in `blocks` (None: none), and the first `<p>`'s (a fallback)."""
    first_p = ""
    in_pre = 0  # inside a raw <pre> that blank lines cut into several blocks
    for b in blocks:
        low = "\n".join(b.lines).lower() if b.kind in ("html", "para") else ""
        was_pre = in_pre
        if "pre" in low:
            in_pre = max(0, in_pre + low.count("<pre") - low.count("</pre>"))
            if b.kind == "para" and (was_pre or in_pre or "</pre>" in low):
                continue
        elif was_pre:
            continue
        if b.kind == "html" and "<p" in low:
            for m in _P.finditer("\n".join(b.lines)):
                text = " ".join(html_text(m.group(1), defs).split())
                if text:
                    if mostly_html:
                        return text, text
                    first_p = first_p or text
                    break
        if b.kind != "para" or b.lines[0].lstrip().startswith(_SKIP_START):
            continue
        text = " ".join(inline(join_lines(b.lines), defs).split())
        if text:
            return text, first_p
    return None, first_p
