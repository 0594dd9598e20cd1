"""Code spans of one paragraph or heading, with CommonMark's precedence.

Backslash escapes, raw HTML and autolinks are read first (a backtick inside
them opens no span); a run of backticks then closes at the next run of the
same length. https://spec.commonmark.org/0.31.2/#code-spans
"""
from __future__ import annotations

import re
from bisect import bisect_right

_ATTR = r"""(?:\s+[A-Za-z_:][\w.:-]*(?:\s*=\s*(?:[^\s"'=<>`]+|'[^']*'|"[^"]*"))?)"""
OPEN_TAG = rf"<[A-Za-z][A-Za-z0-9-]*{_ATTR}*\s*/?>"
CLOSE_TAG = r"</[A-Za-z][A-Za-z0-9-]*\s*>"
_INLINE_SKIP = re.compile(
    rf"{OPEN_TAG}|{CLOSE_TAG}|<!-->|<!--->|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<![A-Za-z][^>]*>|<!\[CDATA\[[\s\S]*?\]\]>"
    r"|<[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*>|<[\w.!#$%&'*+/=?^`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*>"
)
_SPECIAL = re.compile(r"[`\\<]")
_SPECIAL_SKIP = re.compile(r"[`\\<{]")


def spans(pieces: list[tuple[int, str]], first: int, skip: re.Pattern[str] | None) -> list[tuple[int, int, int, int]]:
    """(start, end, first line, last line) of each code span of one paragraph or heading.

    `pieces`: its lines, each with its offset in the text; `first`: the number of its first line.
    """
    out: list[tuple[int, int, int, int]] = []
    s = "\n".join(p[1] for p in pieces)
    if "`" not in s:
        return out
    starts = []  # char index in `s` where each piece starts
    pos = 0
    for _, piece in pieces:
        starts.append(pos)
        pos += len(piece) + 1

    def where(k: int) -> tuple[int, int]:
        line = bisect_right(starts, k) - 1
        return pieces[line][0] + k - starts[line], first + line

    i, n = 0, len(s)
    special = _SPECIAL if skip is None or "{" not in s else _SPECIAL_SKIP
    while (m := special.search(s, i)) is not None:
        j = m.start()
        ch = s[j]
        if ch == "{":
            t = skip.match(s, j) if skip is not None else None
            i = t.end() if t else j + 1
            continue
        if ch == "\\":
            i = j + 2
            continue
        if ch == "<":
            t = _INLINE_SKIP.match(s, j)
            i = t.end() if t else j + 1
            continue
        k = j
        while k < n and s[k] == "`":
            k += 1
        size = k - j
        close = k
        while True:
            close = s.find("`" * size, close)
            if close < 0:
                i = k
                break
            e = close
            while e < n and s[e] == "`":
                e += 1
            if e - close == size:
                (a, la), (b, lb) = where(j), where(e - 1)
                out.append((a, b + 1, la, lb + 1))
                i = e
                break
            close = e
    return out
