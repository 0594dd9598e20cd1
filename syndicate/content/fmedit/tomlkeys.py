"""TOML front matter: statements found by a small scanner (strings, comments, brackets)."""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from syndicate.content.fmedit.common import _BARE_TOML_KEY, WriteBackError, _line_end, _line_start

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


# --- TOML: statements found by a small scanner (strings, comments, brackets) ---------------------------

@dataclass
class _Stmt:
    key: str  # unquoted
    start: int  # line start
    end: int  # just past the statement's newline


def _toml_scan(fm: str, i: int = 0) -> tuple[list[_Stmt], int]:
    """The `key = value` statements from `i` on (the top level, or one table's) and where the next
    table header starts (or len)."""
    stmts: list[_Stmt] = []
    n = len(fm)
    while i < n:
        line_end = _line_end(fm, i)
        stripped = fm[i:line_end].strip()
        if not stripped or stripped.startswith("#"):
            i = line_end
            continue
        if stripped.startswith("["):
            return stmts, i
        eq = _toml_key_end(fm, i)
        if eq is None:
            raise WriteBackError("a TOML line that is neither a key, a table nor a comment")
        raw_key = fm[i:eq].strip()
        j = _toml_value_end(fm, eq + 1)
        stmts.append(_Stmt(_unquote(raw_key), i, j))
        i = j
    return stmts, n


def _toml_key_end(fm: str, i: int) -> int | None:
    quote = None
    while i < len(fm) and fm[i] != "\n":
        c = fm[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "=":
            return i
        i += 1
    return None


def _toml_value_end(fm: str, i: int) -> int:
    depth, n = 0, len(fm)
    while i < n:
        c = fm[i]
        if fm.startswith('"""', i) or fm.startswith("'''", i):
            q = fm[i:i + 3]
            k = i + 3
            while k < n:
                if q == '"""' and fm[k] == "\\":
                    k += 2
                    continue
                if fm.startswith(q, k):
                    while fm.startswith(q[0], k + 3):  # up to two quotes may end the string's content
                        k += 1
                    break
                k += 1
            i = k + 3
            continue
        if c in "\"'":
            k = i + 1
            while k < n and fm[k] != c and fm[k] != "\n":
                k += 2 if (c == '"' and fm[k] == "\\") else 1
            i = k + 1
            continue
        if c == "#":
            i = _line_end(fm, i) - 1
            continue
        if c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        elif c == "\n" and depth <= 0:
            return i + 1
        i += 1
    return n


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return json.loads(raw) if raw[0] == '"' else raw[1:-1]
    return raw


def _toml_key(key: str) -> str:
    return key if _BARE_TOML_KEY.match(key) else json.dumps(key)


def _toml_edit(fm: str, key: str, urls: list[Any], where: str) -> str:
    if not all(isinstance(u, str) for u in urls):
        raise WriteBackError(f"{where}: `{key}` holds entries that are not text; left as it was")
    section = 0
    if "." in key:
        table, key = key.split(".", 1)
        header = re.compile(r"^[ \t]*\[[ \t]*(" + re.escape(table) + "|\"" + re.escape(table) + "\")[ \t]*\\][ \t]*(#.*)?$",
                            re.MULTILINE | re.IGNORECASE)
        found_table = header.search(fm)
        if found_table is None:
            if not urls:
                return fm
            tail = "" if not fm or fm.endswith("\n") else "\n"
            return fm + tail + ("\n" if fm.strip() else "") + f"[{table}]\n" + _toml_render(_toml_key(key), urls, False)
        section = _line_end(fm, found_table.start())
    try:
        stmts, first_table = _toml_scan(fm, section)
    except WriteBackError as exc:
        raise WriteBackError(f"{where}: {exc}; left as it was") from None
    low = key.lower()
    found = next((s for s in stmts if s.key == key), None) or next((s for s in stmts if s.key.lower() == low), None)
    if found is not None:
        spelled = fm[found.start:_toml_key_end(fm, found.start) or found.start].strip()
        multi = "\n" in fm[found.start:found.end].rstrip("\n")
        if not urls:
            return fm[:found.start] + fm[found.end:]
        return fm[:found.start] + _toml_render(spelled, urls, multi) + fm[found.end:]
    if not urls:
        return fm
    at = first_table
    if at < len(fm):  # before the next table, and before the comments and blank lines that lead to it
        while at > section:
            prev = _line_start(fm, at - 1)
            line = fm[prev:at].strip()
            if line and not line.startswith("#"):
                break
            at = prev
    head = fm[:at]
    if head and not head.endswith("\n"):
        head += "\n"
    return head + _toml_render(_toml_key(key), urls, False) + fm[at:]


def _toml_render(spelled: str, urls: list[str], multi: bool) -> str:
    if multi:
        return f"{spelled} = [\n" + "".join(f"  {json.dumps(u, ensure_ascii=False)},\n" for u in urls) + "]\n"
    return f"{spelled} = [" + ", ".join(json.dumps(u, ensure_ascii=False) for u in urls) + "]\n"
