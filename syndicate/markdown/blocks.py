"""A small, fast CommonMark block scanner for plain text and excerpts (no inline parse).

It follows the CommonMark block rules closely enough for prose
(https://spec.commonmark.org/0.31.2/#blocks-and-inlines): fences, indented code,
ATX/setext headings, quotes, lists, tables, HTML blocks, link definitions.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_FENCE = re.compile(r"^ {0,3}(`{3,}(?!.*`)|~{3,})")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_HR = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_QUOTE = re.compile(r"^ {0,3}> ?")
_ITEM = re.compile(r"^( {0,3})([-+*]|\d{1,9}[.)])([ \t]+|$)")
_HTML_START = re.compile(
    r"^ {0,3}<(?:/?(?:address|article|aside|blockquote|body|caption|center|col|colgroup|dd|details|dialog|dir|div|dl|dt|"
    r"fieldset|figcaption|figure|footer|form|h[1-6]|header|hr|iframe|legend|li|main|menu|nav|ol|p|picture|pre|section|"
    r"source|summary|table|tbody|td|tfoot|th|thead|tr|ul|video|audio|center|noscript|img|br)(?:[\s/>]|$)|!--|\?|![A-Za-z])",
    re.I,
)
# CommonMark HTML blocks 1 and 2, which end at their closing tag, not at a blank line
_HTML_RAW = re.compile(r"^ {0,3}<(pre|script|style|textarea|!--)(?:[\s>]|$)?", re.I)
_HTML_END = {name: re.compile(rf"</{name}>", re.I) for name in ("pre", "script", "style", "textarea")} | {"!--": re.compile("-->")}
_HTML_TAG_LINE = re.compile(r"^ {0,3}</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>[ \t]*$")
_DELIM_ROW = re.compile(r"^ {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
_DEF = re.compile(r"^ {0,3}\[([^\]^][^\]]*)\]:[ \t]*\S")
MAX_DEPTH = 32
_FOOTNOTE = re.compile(r"^ {0,3}\[\^([^\]]+)\]:[ \t]*(.*)$")


@dataclass
class Block:
    kind: str  # para | heading | code | html | quote | list | table | footnote | hr
    lines: list[str] = field(default_factory=list)
    children: list[Block] = field(default_factory=list)  # quote: blocks; list: one "item" block per item
    marker: str = ""  # list item marker, footnote label


def _indent(line: str) -> int:
    n = 0
    for ch in line:
        if ch == " ":
            n += 1
        elif ch == "\t":
            n += 4 - n % 4
        else:
            break
    return n


def _dedent(line: str, width: int) -> str:
    n, i = 0, 0
    while i < len(line) and n < width and line[i] in " \t":
        n += 1 if line[i] == " " else 4 - n % 4
        i += 1
    return line[i:]


def _interrupts(line: str) -> bool:
    """Whether `line` starts a block that may interrupt a paragraph."""
    s = line.lstrip(" ")
    if not s:
        return True
    c = s[0]
    if c == "#":
        return bool(_ATX.match(line))
    if c in "`~":
        return bool(_FENCE.match(line))
    if c == ">":
        return len(line) - len(s) < 4
    if c == "<":
        return bool(_HTML_START.match(line))
    if c in "-*_" and _HR.match(line):
        return True
    if c in "-+*" or c == "1":
        m = _ITEM.match(line)
        return bool(m and m.group(3) and line[m.end():].strip() and m.group(2)[0] in "-+*1")
    return False


def scan(lines: list[str], defs: set[str] | None = None, depth: int = 0) -> list[Block]:
    """Blocks of `lines` (no line endings); link-definition labels go into `defs`."""
    out: list[Block] = []
    if depth > MAX_DEPTH:  # hostile nesting: the rest is one paragraph
        return [Block("para", [x.strip() for x in lines if x.strip()])] if any(x.strip() for x in lines) else []
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        s = line.strip()
        if not s:
            i += 1
            continue
        ind = _indent(line)
        if ind >= 4:
            j = i
            body: list[str] = []
            while j < n and (not lines[j].strip() or _indent(lines[j]) >= 4):
                body.append(_dedent(lines[j], 4))
                j += 1
            while body and not body[-1].strip():
                body.pop()
            out.append(Block("code", body))
            i = j
            continue
        c = s[0]
        if c in "`~" and (m := _FENCE.match(line)):
            fence = m.group(1)
            j = i + 1
            while j < n:
                t = lines[j].strip()
                if t.startswith(fence[0] * len(fence)) and not t.strip(fence[0]) and _indent(lines[j]) < 4:
                    break
                j += 1
            out.append(Block("code", [_dedent(x, ind) for x in lines[i + 1:j]]))
            i = j + 1
            continue
        if c == "#" and (m := _ATX.match(line)):
            out.append(Block("heading", [m.group(2) or ""]))
            i += 1
            continue
        if c in "-*_" and _HR.match(line):
            out.append(Block("hr"))
            i += 1
            continue
        if c == ">":
            j, inner = i, []
            while j < n and lines[j].strip():
                q = _QUOTE.match(lines[j])
                inner.append(lines[j][q.end():] if q else lines[j])
                j += 1
            out.append(Block("quote", children=scan(inner, defs, depth + 1)))
            i = j
            continue
        if c == "<" and (_HTML_START.match(line) or _HTML_TAG_LINE.match(line)):
            j = i
            raw = _HTML_RAW.match(line)
            end = _HTML_END.get(raw.group(1).lower()) if raw else None
            if raw and end is not None:  # <pre>, <script>, <style>, <textarea>, comments: to their end, blank lines and all
                while j < n and not end.search(lines[j], 0 if j > i else raw.end()):
                    j += 1
                j = min(j + 1, n)
            while j < n and lines[j].strip():
                j += 1
            out.append(Block("html", lines[i:j]))
            i = j
            continue
        if c == "[":
            if m := _FOOTNOTE.match(line):
                j, body = i + 1, [m.group(2)]
                while j < n and (lines[j].strip() and not _interrupts(lines[j]) and not _FOOTNOTE.match(lines[j])):
                    body.append(lines[j].strip())
                    j += 1
                out.append(Block("footnote", body, marker=m.group(1)))
                i = j
                continue
            if m := _DEF.match(line):
                if defs is not None:
                    defs.add(" ".join(m.group(1).split()).casefold())
                i += 1
                continue
        if m := _ITEM.match(line):
            i = _list(lines, i, out, defs, depth)
            continue
        if "|" in line and i + 1 < n and "-" in lines[i + 1] and _DELIM_ROW.match(lines[i + 1]):
            j = i + 2
            while j < n and lines[j].strip() and "|" in lines[j]:
                j += 1
            out.append(Block("table", [lines[i], *lines[i + 2:j]]))
            i = j
            continue
        j, para = i + 1, [line.lstrip()]
        kind = "para"
        while j < n:
            nxt = lines[j]
            if (nxt.lstrip()[:1] in "=-") and _SETEXT.match(nxt):
                kind = "heading"
                j += 1
                break
            if not nxt.strip() or _interrupts(nxt):
                break
            para.append(nxt.lstrip())
            j += 1
        out.append(Block(kind, para if kind == "para" else [" ".join(x.strip() for x in para)]))
        i = j
    return out


def _list(lines: list[str], i: int, out: list[Block], defs: set[str] | None, depth: int) -> int:
    """Consume consecutive list items starting at `i`; append one list block."""
    n = len(lines)
    items: list[Block] = []
    while i < n:
        m = _ITEM.match(lines[i])
        if not m:
            break
        width = len(m.group(0)) if m.group(3) and len(m.group(3)) <= 4 else len(m.group(1)) + len(m.group(2)) + 1
        body = [lines[i][len(m.group(0)):] if m.group(3) else ""]
        j = i + 1
        prev_blank = False
        while j < n:
            nxt = lines[j]
            if not nxt.strip():
                body.append("")
                prev_blank = True
                j += 1
                continue
            if _indent(nxt) >= width:
                body.append(_dedent(nxt, width))
            elif not prev_blank and not _interrupts(nxt) and not _ITEM.match(nxt):
                body.append(nxt.strip())  # lazy continuation
            else:
                break
            prev_blank = False
            j += 1
        while body and not body[-1].strip():
            body.pop()
        items.append(Block("item", children=scan(body, defs, depth + 1), marker=m.group(2)))
        i = j
        if i < n and not _ITEM.match(lines[i]):
            break
    out.append(Block("list", children=items))
    return i
