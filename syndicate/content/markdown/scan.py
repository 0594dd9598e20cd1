"""One scan of a Markdown text for its code: fenced and indented code blocks, code spans, HTML blocks.

A CommonMark 0.31.2 block pass reduced to what decides code (containers —
block quotes, list items — with laziness and tabs; fences; indented code;
the seven HTML block kinds; ATX/setext headings and thematic breaks, which end
paragraphs) and, inside paragraphs and headings, the code spans
(`syndicate.content.markdown.spans`). Proved against
the spec's own examples in tests/test_commonmark.py (markdown-it-py is the oracle).
Spec: https://spec.commonmark.org/0.31.2/
"""
from __future__ import annotations

import re
from typing import NamedTuple

from syndicate.content.markdown.spans import CLOSE_TAG as _CLOSE_TAG
from syndicate.content.markdown.spans import OPEN_TAG as _OPEN_TAG
from syndicate.content.markdown.spans import spans as _spans

CODE_KINDS = frozenset({"fence", "indented", "span"})


class Region(NamedTuple):
    """A stretch of the text: char offsets `start:end`, lines `first:last` (end exclusive)."""

    kind: str  # "fence" | "indented" | "span" | "html"
    start: int
    end: int
    first: int
    last: int


_FENCE = re.compile(r"(`{3,})(?=[^`]*$)|(~{3,})")
_ATX = re.compile(r"#{1,6}(?:[ \t]|$)")
_HR = re.compile(r"([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_SETEXT = re.compile(r"(?:=+|-+)[ \t]*$")
_ITEM = re.compile(r"([-+*]|(\d{1,9})[.)])(?=[ \t]|$)")
_BLOCK_NAMES = (
    "address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|details|dialog|dir|div|dl|"
    "dt|fieldset|figcaption|figure|footer|form|frame|frameset|h[1-6]|head|header|hr|html|iframe|legend|li|link|main|"
    "menu|menuitem|nav|noframes|ol|optgroup|option|p|param|search|section|summary|table|tbody|td|tfoot|th|thead|"
    "title|tr|track|ul"
)
_HTML_STARTS: tuple[tuple[re.Pattern[str], re.Pattern[str] | None], ...] = (
    (re.compile(r"<(?:pre|script|style|textarea)(?:[ \t>]|$)", re.I), re.compile(r"</(?:pre|script|style|textarea)>", re.I)),
    (re.compile(r"<!--"), re.compile(r"-->")),
    (re.compile(r"<\?"), re.compile(r"\?>")),
    (re.compile(r"<![A-Za-z]"), re.compile(r">")),
    (re.compile(r"<!\[CDATA\["), re.compile(r"\]\]>")),
    (re.compile(rf"</?(?:{_BLOCK_NAMES})(?:[ \t>]|/>|$)", re.I), None),
    (re.compile(rf"(?:{_OPEN_TAG}|{_CLOSE_TAG})[ \t]*$"), None),  # cannot interrupt a paragraph
)
_CONTAINER_START = frozenset(">-+*0123456789")
_BLOCKISH = frozenset(" \t>-+*#`~<=_0123456789") | {""}


class _Cursor:
    """A position in one line, in columns as well as characters (tabs stop every 4 columns)."""

    __slots__ = ("s", "i", "col", "partial")

    def __init__(self, s: str) -> None:
        self.s, self.i, self.col, self.partial = s, 0, 0, 0  # partial: columns left of the tab at s[i]

    def indent(self) -> int:
        s, i, col, n = self.s, self.i, self.col, self.partial
        if not n and (i >= len(s) or s[i] not in " \t"):
            return 0
        if n:
            col, i = col + n, i + 1
        while i < len(s) and s[i] in " \t":
            w = 1 if s[i] == " " else 4 - col % 4
            n, col, i = n + w, col + w, i + 1
        return n

    def consume(self, k: int) -> None:
        s = self.s
        while k > 0:
            if self.partial:
                take = min(k, self.partial)
                self.partial -= take
                self.col += take
                k -= take
                if not self.partial:
                    self.i += 1
            elif self.i < len(s) and s[self.i] == " ":
                self.i, self.col, k = self.i + 1, self.col + 1, k - 1
            elif self.i < len(s) and s[self.i] == "\t":
                self.partial = 4 - self.col % 4
            else:
                return

    def rest(self) -> str:
        """The line from the first non-blank character on."""
        return self.s[self.i:].lstrip(" \t")

    def first(self) -> int:
        """Char index of the first non-blank character (len(s) when blank)."""
        return len(self.s) - len(self.rest())

    def skip(self, n: int) -> None:
        """Move past the indent, then `n` more characters."""
        self.consume(self.indent())
        self.i += n
        self.col += n

    def copy(self) -> _Cursor:
        c = _Cursor(self.s)
        c.i, c.col, c.partial = self.i, self.col, self.partial
        return c


class _Box:
    __slots__ = ("quote", "width", "blank_start", "content")

    def __init__(self, quote: bool, width: int = 0, blank_start: bool = False) -> None:
        self.quote, self.width, self.blank_start, self.content = quote, width, blank_start, False


class _Leaf:
    __slots__ = ("kind", "depth", "start", "first", "end", "last", "fence", "close", "pieces")

    def __init__(self, kind: str, depth: int, start: int, first: int) -> None:
        self.kind, self.depth, self.start, self.first = kind, depth, start, first
        self.end, self.last = start, first + 1
        self.fence = ""
        self.close: re.Pattern[str] | None = None
        self.pieces: list[tuple[int, str]] = []  # paragraph lines: (offset in the text, content)


def _item(c: _Cursor, para: bool) -> tuple[int, bool] | None:
    """A list-item marker at the cursor: (content width in columns, starts blank), or None."""
    if c.indent() >= 4:
        return None
    rest = c.rest()
    m = _ITEM.match(rest)
    if not m or _HR.match(rest):
        return None
    blank = not rest[m.end():].strip(" \t")
    if para and (blank or (m.group(2) is not None and m.group(2) != "1")):
        return None
    start = c.col
    c.skip(m.end())
    spaces = c.indent()
    if blank or spaces >= 5:
        c.consume(1)
    else:
        c.consume(spaces)
    return c.col - start, blank


def _interrupts(c: _Cursor) -> bool:
    """Whether the rest of the line starts a block that ends a paragraph (a lazy line does not)."""
    if c.indent() >= 4:
        return False
    rest = c.rest()
    if not rest:
        return True
    ch = rest[0]
    if ch == ">":
        return True
    if ch in "`~" and _FENCE.match(rest):
        return True
    if ch == "#" and _ATX.match(rest):
        return True
    if ch in "-*_" and _HR.match(rest):
        return True
    if ch == "<" and any(start.match(rest) for start, _ in _HTML_STARTS[:6]):
        return True
    return _item(c.copy(), True) is not None


def scan(text: str, skip: re.Pattern[str] | None = None) -> list[Region]:
    """Every code block, code span and HTML block of `text`, in order of start.

    `skip`: inline text (starting with `{`) that holds no code span, such as a
    shortcode whose backticks quote a parameter; it wins like raw HTML does.
    """
    out: list[Region] = []
    boxes: list[_Box] = []
    leaf: _Leaf | None = None
    offset = 0

    def close() -> None:
        nonlocal leaf
        if leaf is None:
            return
        if leaf.kind == "para":
            if any("`" in piece for _, piece in leaf.pieces):
                out.extend(Region("span", *t) for t in _spans(leaf.pieces, leaf.first, skip))
        else:
            out.append(Region(leaf.kind, leaf.start, leaf.end, leaf.first, leaf.last))
        leaf = None

    lines = text.split("\n")
    if len(lines) > 1 and not lines[-1]:
        lines.pop()  # the text's final line ending ends no line
    for ln, line in enumerate(lines):
        if not boxes and leaf is not None and leaf.kind == "fence" and line.lstrip(" \t")[:1] != leaf.fence[0]:
            leaf.end, leaf.last = offset + len(line), ln + 1  # fast path: a line inside a fence
            offset += len(line) + 1
            continue
        if not boxes and (leaf is None or leaf.kind == "para") and not line.strip(" \t"):
            if leaf is not None:
                close()  # fast path: a blank line outside any container
            offset += len(line) + 1
            continue
        if not boxes and line[:1] not in _BLOCKISH and (leaf is None or leaf.kind in ("para", "fence")):
            # fast path: a line that can start nothing but a paragraph, outside any container
            if leaf is None:
                leaf = _Leaf("para", 0, offset, ln)
            if leaf.kind == "para":
                leaf.pieces.append((offset, line))
            else:
                leaf.end, leaf.last = offset + len(line), ln + 1
            offset += len(line) + 1
            continue
        if not boxes and line[:1] == "#" and (leaf is None or leaf.kind == "para") and _ATX.match(line):
            close()  # fast path: an ATX heading outside any container
            if "`" in line:
                out.extend(Region("span", *t) for t in _spans([(offset, line)], ln, skip))
            offset += len(line) + 1
            continue
        c = _Cursor(line)
        matched = 0
        for box in boxes:
            if box.quote:
                # markdown-it continues a block quote with a '>' however far indented (the spec stops at 3)
                if c.rest()[:1] == ">":
                    c.skip(1)
                    if c.partial or line[c.i:c.i + 1] in (" ", "\t"):
                        c.consume(1)
                else:
                    break
            elif not c.rest():
                if box.blank_start and not box.content:
                    break
            elif c.indent() >= box.width:
                c.consume(box.width)
            else:
                break
            matched += 1
        all_in = matched == len(boxes)
        blank = not c.rest()
        if leaf is not None and leaf.kind != "para" and all_in:
            if leaf.kind == "fence":
                m = _FENCE.match(c.rest()) if c.indent() < 4 else None
                done = bool(m and m.group(0)[0] == leaf.fence[0] and len(m.group(0)) >= len(leaf.fence)
                            and not c.rest()[m.end():].strip(" \t"))
                leaf.end, leaf.last = offset + len(line), ln + 1
                if done:
                    close()
                offset += len(line) + 1
                continue
            if leaf.kind == "html":
                if leaf.close is None and blank:
                    close()
                else:
                    leaf.end, leaf.last = offset + len(line), ln + 1
                    if leaf.close is not None and leaf.close.search(line, c.i):
                        close()
                    offset += len(line) + 1
                    continue
            elif leaf.kind == "indented":
                if blank or c.indent() >= 4:
                    if not blank:
                        leaf.end, leaf.last = offset + len(line), ln + 1
                    offset += len(line) + 1
                    continue
                close()
        if leaf is not None and leaf.kind == "para" and not all_in and not blank and not _interrupts(c.copy()):
            leaf.pieces.append((offset + c.first(), c.rest()))  # a lazy continuation line
            offset += len(line) + 1
            continue
        if not all_in:
            del boxes[matched:]
            if leaf is not None and leaf.depth > matched:
                close()
        # new containers
        while True:
            rest = c.rest()
            if rest[:1] not in _CONTAINER_START or c.indent() >= 4:
                break
            if rest[0] == ">":
                close()
                c.skip(1)
                if c.partial or line[c.i:c.i + 1] in (" ", "\t"):
                    c.consume(1)
                for box in boxes:
                    box.content = True
                boxes.append(_Box(True))
                continue
            para = leaf is not None and leaf.kind == "para"
            trial = c.copy()
            item = _item(trial, para)
            if item is None:
                break
            c = trial
            close()
            for box in boxes:
                box.content = True
            boxes.append(_Box(False, item[0], item[1]))
        depth = len(boxes)
        rest = c.rest()
        if not rest:
            if leaf is not None and leaf.kind == "para":
                close()
            offset += len(line) + 1
            continue
        for box in boxes:
            box.content = True
        at = offset + c.first()
        if c.indent() >= 4:
            if leaf is not None and leaf.kind == "para":
                leaf.pieces.append((at, rest))
            else:
                close()
                leaf = _Leaf("indented", depth, offset + c.i, ln)
                leaf.end = offset + len(line)
            offset += len(line) + 1
            continue
        ch = rest[0]
        if ch in "`~" and (m := _FENCE.match(rest)):
            close()
            leaf = _Leaf("fence", depth, at, ln)
            leaf.fence, leaf.end = m.group(0), offset + len(line)
        elif ch == "<" and (kind := _html_kind(rest, leaf is not None and leaf.kind == "para")) is not None:
            close()
            leaf = _Leaf("html", depth, at, ln)
            leaf.close, leaf.end = _HTML_STARTS[kind][1], offset + len(line)
            if leaf.close is not None and leaf.close.search(line, c.first()):
                close()
        elif ch == "#" and _ATX.match(rest):
            close()
            if "`" in rest:
                out.extend(Region("span", *t) for t in _spans([(at, rest)], ln, skip))
        elif leaf is not None and leaf.kind == "para" and ch in "=-" and _SETEXT.match(rest):
            close()
        elif ch in "-*_" and _HR.match(rest):
            close()
        elif leaf is not None and leaf.kind == "para":
            leaf.pieces.append((at, rest))
        else:
            close()
            leaf = _Leaf("para", depth, at, ln)
            leaf.pieces.append((at, rest))
        offset += len(line) + 1
    close()
    out.sort(key=lambda r: r.start)
    return out


def _html_kind(rest: str, para: bool) -> int | None:
    for k, (start, _) in enumerate(_HTML_STARTS):
        if start.match(rest) and not (para and k == 6):
            return k
    return None


def code_ranges(text: str) -> list[tuple[int, int, str]]:
    """`(start, end, "block" | "span")` of each code block and code span of `text`, in order."""
    if "`" not in text and "~~~" not in text and "    " not in text and "\t" not in text:
        return []
    return [(r.start, r.end, "span" if r.kind == "span" else "block") for r in scan(text) if r.kind in CODE_KINDS]
