"""Syndication links written back into the post (IndieWeb `u-syndication`), when `[site] write_back` is on.

Once a copy exists, its URL goes into the post's front matter under `[site]
write_back_key` (default `syndication`), so a theme can print "Also on: …".
The edit is a splice of the one key's lines into the file as it is: every other
byte (comments, key order, quoting, anchors, the body, a BOM, CRLF line ends)
stays, and the result is parsed again and compared with the original before it
replaces the file (temp file + rename, same permissions). A file that cannot be
edited safely is left alone with a warning; a publish is never lost for it.

The list is merged, never overwritten: URLs the user wrote by hand stay where
they are, a copy's URL is appended (targets in config order), and a URL this
program wrote for a copy that is gone is taken out. What was written is kept in
the ledger's `facts` (`written_scope`), so a hand-added URL is never mistaken
for one of ours. Writing the same list again changes nothing: not even mtime.

`masked_digest` is the content hash change detection uses while write-back is
on: the front matter without the key, and the body. An edit of the key alone
(ours, or a webhook's push of our commit) is never a change; a body edit is.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from syndicate.errors import SyndicateError

if TYPE_CHECKING:
    from syndicate.config import Config
    from syndicate.state.ledger import Ledger

log = logging.getLogger(__name__)

DEFAULT_KEY = "syndication"
FOREVER = 100 * 365 * 24 * 3600.0  # the facts table's TTL for what we wrote: kept as long as the ledger
FAILED_TTL = 7 * 24 * 3600.0  # a write-back failure is shown by `status` this long (or until one succeeds)
_YAML_BOUNDARY = re.compile(r"^-{3,}[ \t]*$", re.MULTILINE)
_TOML_BOUNDARY = re.compile(r"^\+{3,}[ \t]*$", re.MULTILINE)
_PLAIN_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$")
_BARE_TOML_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


class WriteBackError(SyndicateError):
    """The file could not be edited safely; it was left as it was."""


# --- the file as text: BOM and line ends kept aside, the front matter located -------------------------

@dataclass
class Text:
    """A post file's text with LF line ends; `encode` gives back the bytes in the file's own style."""

    text: str
    bom: bool = False
    crlf: bool = False

    @classmethod
    def decode(cls, data: bytes, where: str) -> Text:
        bom = data.startswith(b"\xef\xbb\xbf")
        try:
            text = data[3:].decode("utf-8") if bom else data.decode("utf-8")
        except UnicodeDecodeError:
            raise WriteBackError(f"{where}: not UTF-8; left as it was") from None
        crlf = "\r\n" in text
        if crlf:
            if text.count("\r") != text.count("\r\n"):
                raise WriteBackError(f"{where}: mixed line ends; left as it was")
            text = text.replace("\r\n", "\n")
        elif "\r" in text:
            raise WriteBackError(f"{where}: old Mac line ends (CR); left as it was")
        return cls(text, bom, crlf)

    def encode(self, text: str) -> bytes:
        if self.crlf:
            text = text.replace("\n", "\r\n")
        return (b"\xef\xbb\xbf" if self.bom else b"") + text.encode("utf-8")


def locate(text: str, where: str) -> tuple[str, int, int]:
    """(kind, start, end): the front matter's own text is `text[start:end]` (YAML and TOML: between the
    delimiter lines; JSON: the whole object)."""
    lead = len(text) - len(text.lstrip("\n"))
    head = text[lead:]
    if head.startswith("{"):
        end = _json_object_end(text, lead)
        if end is None:
            raise WriteBackError(f"{where}: JSON front matter is never closed")
        return "json", lead, end
    for kind, boundary in (("yaml", _YAML_BOUNDARY), ("toml", _TOML_BOUNDARY)):
        first = boundary.match(text, lead)
        if first is None:
            continue
        start = first.end() + 1
        if start > len(text):
            break
        close = boundary.search(text, start)
        if close is None:
            raise WriteBackError(f"{where}: {kind.upper()} front matter is never closed")
        if close.start() == start - 1 or close.start() < start:  # "---\n---": empty front matter
            return kind, start, start
        return kind, start, close.start()
    raise WriteBackError(f"{where}: no front matter")


# --- the list ------------------------------------------------------------------------------------------

def listed(value: Any) -> list[Any]:
    """The key's value as a list (a lone URL is a list of one; nothing is an empty list)."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return list(value)
    return [value]


def merged(current: Sequence[Any], ours: Sequence[str], written: Sequence[str]) -> list[Any]:
    """The new list: the current entries in their order, less those we wrote whose copy is gone, and
    our copies' URLs not yet there (in config order among ours). A hand-written entry (never written by
    us) always stays."""
    mine, wrote = set(ours), set(written)
    out: list[Any] = []
    for item in current:
        if isinstance(item, str) and item in wrote and item not in mine:
            continue
        if item in out and isinstance(item, str):
            continue
        out.append(item)
    rank = {url: i for i, url in enumerate(dict.fromkeys(ours))}
    for url in rank:  # a new copy goes before the first of ours from a later target: config order,
        if url in out:  # whichever unit finished first, and nothing already there moves
            continue
        later = next((i for i, item in enumerate(out) if isinstance(item, str) and rank.get(item, -1) > rank[url]),
                     None)
        out.insert(len(out) if later is None else later, url)
    return out


def value_of(fm: dict[str, Any], key: str) -> tuple[bool, Any]:
    """(present, value) of the key; `table.key` reads inside a table (Zola's `extra.syndication`)."""
    if "." in key:
        table, sub = key.split(".", 1)
        spelled = _key_of(fm, table)
        inner = fm.get(spelled) if spelled is not None else None
        return value_of(inner, sub) if isinstance(inner, dict) else (False, None)
    spelled = _key_of(fm, key)
    return (spelled is not None, fm.get(spelled) if spelled is not None else None)


def without(fm: dict[str, Any], key: str) -> dict[str, Any]:
    """The front matter less the key (a table left empty by it stays, as an empty table)."""
    if "." in key:
        table, sub = key.split(".", 1)
        spelled = _key_of(fm, table)
        if spelled is None or not isinstance(fm.get(spelled), dict):
            return dict(fm)
        return {k: (without(v, sub) if k == spelled else v) for k, v in fm.items()}
    spelled = _key_of(fm, key)
    return {k: v for k, v in fm.items() if k != spelled}


def _rest(fm: dict[str, Any], key: str) -> dict[str, Any]:
    """`without`, and a table the key alone made (left empty) dropped too: what is not the write-back's."""
    rest = without(fm, key)
    if "." in key:
        table = _key_of(rest, key.split(".", 1)[0])
        if table is not None and rest[table] == {}:
            del rest[table]
    return rest


def _key_of(fm: dict[str, Any], key: str) -> str | None:
    """The key as the file spells it (case-insensitive, as Hugo reads keys)."""
    low = key.lower()
    if key in fm:
        return key
    return next((k for k in fm if isinstance(k, str) and k.lower() == low), None)


# --- editing: one key's lines replaced, all else byte for byte ----------------------------------------

def edit(text: str, key: str, urls: Sequence[Any], where: str = "post") -> str:
    """`text` with the front-matter `key` set to `urls` (removed when empty); verified by parsing it again."""
    from syndicate.content.frontmatter import split

    kind, start, end = locate(text, where)
    fm_text = text[start:end]
    if "." in key and (kind != "toml" or key.count(".") > 1):
        raise WriteBackError(f"{where}: a dotted write_back_key ({key}) is written into TOML front matter "
                             "only (one table deep, e.g. Zola's extra.syndication); left as it was")
    if kind == "yaml":
        new_fm = _yaml_edit(fm_text, key, list(urls), where)
    elif kind == "toml":
        new_fm = _toml_edit(fm_text, key, list(urls), where)
    else:
        new_fm = _json_edit(fm_text, key, list(urls), where)
    out = text[:start] + new_fm + text[end:]
    _verify(split, text, out, key, list(urls), where)
    return out


def _verify(split: Any, before: str, after: str, key: str, urls: list[Any], where: str) -> None:
    path = Path(where)
    try:
        fm0, body0, kind0 = split(before, path)
        fm1, body1, kind1 = split(after, path)
    except SyndicateError as exc:
        raise WriteBackError(f"{where}: the edited front matter does not parse ({exc}); left as it was") from None
    rest0, rest1 = _rest(fm0, key), _rest(fm1, key)
    got = listed(value_of(fm1, key)[1])
    if body0 != body1 or kind0 != kind1 or rest0 != rest1 or got != list(urls) or list(rest0) != list(rest1):
        raise WriteBackError(f"{where}: the edit would change more than `{key}`; left as it was")


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    """Just past the newline of the line holding `index` (or the end of the text)."""
    nl = text.find("\n", index)
    return len(text) if nl < 0 else nl + 1


def _yaml_scalar(value: Any) -> str:
    """A URL as a plain YAML scalar where it reads back the same (as written by hand), else double-quoted."""
    if isinstance(value, str) and _PLAIN_URL.match(value) and not value.endswith(":"):
        try:
            if yaml.safe_load(f"- {value}\n") == [value]:
                return value
        except yaml.YAMLError:
            pass
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def _yaml_root(fm: str, where: str) -> MappingNode | None:
    from syndicate.content.frontmatter import BoundedSafeLoader

    try:
        root = yaml.compose(fm, Loader=BoundedSafeLoader)
    except yaml.YAMLError as exc:
        raise WriteBackError(f"{where}: invalid YAML front matter ({str(exc).splitlines()[0]}); left as it was") \
            from None
    if root is None:
        return None
    if not isinstance(root, MappingNode) or root.flow_style:
        raise WriteBackError(f"{where}: the front matter is not a block mapping; left as it was")
    return root


def _yaml_edit(fm: str, key: str, urls: list[Any], where: str) -> str:
    root = _yaml_root(fm, where)
    found: tuple[ScalarNode, Node] | None = None
    if root is not None:
        low = key.lower()
        for k, v in root.value:
            if isinstance(k, ScalarNode) and isinstance(k.value, str) and k.value.lower() == low:
                if k.value == key or found is None:
                    found = (k, v)
    if found is None:
        if not urls:
            return fm
        block = f"{key}:\n" + "".join(f"  - {_yaml_scalar(u)}\n" for u in urls)
        if fm and not fm.endswith("\n"):
            fm += "\n"
        return fm + block
    k, v = found
    if k.start_mark.column != 0:
        raise WriteBackError(f"{where}: `{key}` is not a top-level key at the start of its line; left as it was")
    start = k.start_mark.index
    end = _line_end(fm, max(v.end_mark.index - 1, v.start_mark.index)) if v.end_mark.column != 0 \
        else v.end_mark.index
    end = _give_back_trailing(fm, start, end)
    spelled = fm[start:k.end_mark.index]  # the key as written, quotes and all
    if not urls:
        return fm[:start] + fm[end:]
    if isinstance(v, SequenceNode) and not v.flow_style and v.value:
        return fm[:start] + _yaml_block_items(fm, start, end, v, urls) + fm[end:]
    indent = "  "
    block = f"{spelled}:\n" + "".join(f"{indent}- {_yaml_scalar(u)}\n" for u in urls)
    return fm[:start] + block + fm[end:]


def _give_back_trailing(fm: str, start: int, end: int) -> int:
    """Comment and blank lines at the end of a key's region belong to what follows: left in place."""
    lines = fm[start:end].split("\n")
    trail = lines.pop() if lines and lines[-1] == "" else None
    while len(lines) > 1 and (not lines[-1].strip() or lines[-1].lstrip().startswith("#")):
        lines.pop()
    kept = "\n".join(lines) + ("\n" if trail is not None or len(lines) else "")
    return start + len(kept)


def _yaml_block_items(fm: str, start: int, end: int, seq: SequenceNode, urls: list[Any]) -> str:
    """A block sequence rewritten item by item: kept items keep their own lines (quotes, comments)."""
    starts = [_line_start(fm, item.start_mark.index) for item in seq.value]
    chunks = [fm[at:(starts[i + 1] if i + 1 < len(starts) else end)] for i, at in enumerate(starts)]
    first = fm[starts[0]:_line_end(fm, starts[0])]
    indent = first[:len(first) - len(first.lstrip(" "))]
    out = fm[start:starts[0]]  # the key's line and any comment before the first item
    remaining = list(urls)
    for chunk in chunks:  # merged() never reorders: a kept item is the next one wanted, or it is gone
        if remaining and _loaded_item(chunk) == remaining[0]:
            out += chunk if chunk.endswith("\n") else chunk + "\n"
            remaining.pop(0)
    return out + "".join(f"{indent}- {_yaml_scalar(u)}\n" for u in remaining)


def _loaded_item(chunk: str) -> Any:
    try:
        data = yaml.safe_load(chunk)
    except yaml.YAMLError:
        return object()
    return data[0] if isinstance(data, list) and len(data) == 1 else object()


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


# --- JSON: members found by a scanner over the top-level object ---------------------------------------

def _json_object_end(text: str, i: int) -> int | None:
    depth, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i = _json_string_end(text, i)
            continue
        if c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _json_string_end(text: str, i: int) -> int:
    k = i + 1
    while k < len(text) and text[k] != '"':
        k += 2 if text[k] == "\\" else 1
    return k + 1


@dataclass
class _Member:
    key: str
    key_start: int
    value_start: int
    value_end: int  # past the value's last character


def _json_members(fm: str) -> list[_Member]:
    members: list[_Member] = []
    i = fm.index("{") + 1
    n = len(fm)
    while i < n:
        while i < n and fm[i] in " \t\n,":
            i += 1
        if i >= n or fm[i] == "}":
            break
        key_start = i
        key_end = _json_string_end(fm, i)
        key = json.loads(fm[key_start:key_end])
        colon = fm.index(":", key_end)
        v = colon + 1
        while fm[v] in " \t\n":
            v += 1
        k, depth = v, 0
        while k < n:
            c = fm[k]
            if c == '"':
                k = _json_string_end(fm, k)
                if depth == 0:
                    break
                continue
            if c in "{[":
                depth += 1
            elif c in "}]":
                if depth == 0:
                    break
                depth -= 1
                if depth == 0:
                    k += 1
                    break
            elif c in ",\n" and depth == 0:
                break
            k += 1
        end = k
        while fm[end - 1] in " \t":
            end -= 1
        members.append(_Member(key, key_start, v, end))
        i = k
    return members


def _json_render(urls: list[Any], column: int | None) -> str:
    if column is None:
        return json.dumps(urls, ensure_ascii=False)
    unit = max(column, 2)
    text = json.dumps(urls, ensure_ascii=False, indent=unit)
    return text.replace("\n", "\n" + " " * column) if text.endswith("]") and "\n" in text else text


def _json_edit(fm: str, key: str, urls: list[Any], where: str) -> str:
    try:
        members = _json_members(fm)
    except (ValueError, IndexError):
        raise WriteBackError(f"{where}: invalid JSON front matter; left as it was") from None
    multi = "\n" in fm.strip()
    low = key.lower()
    idx = next((i for i, m in enumerate(members) if m.key == key), None)
    if idx is None:
        idx = next((i for i, m in enumerate(members) if m.key.lower() == low), None)
    if idx is not None:
        m = members[idx]
        column = m.key_start - _line_start(fm, m.key_start) if "\n" in fm[m.value_start:m.value_end] else None
        if urls:
            return fm[:m.value_start] + _json_render(urls, column) + fm[m.value_end:]
        if idx > 0:
            return fm[:members[idx - 1].value_end] + fm[m.value_end:]
        if len(members) > 1:
            return fm[:m.key_start] + fm[members[1].key_start:]
        return fm[:m.key_start] + fm[m.value_end:]
    if not urls:
        return fm
    close = fm.rindex("}")
    if not members:
        return fm[:close] + f"{json.dumps(key)}: {_json_render(urls, None)}" + fm[close:]
    last = members[-1]
    if multi:
        column = members[0].key_start - _line_start(fm, members[0].key_start)
        return (fm[:last.value_end] + f",\n{' ' * column}{json.dumps(key)}: {_json_render(urls, column)}"
                + fm[last.value_end:])
    return fm[:last.value_end] + f", {json.dumps(key)}: {_json_render(urls, None)}" + fm[last.value_end:]


# --- the hash change detection uses -------------------------------------------------------------------

def masked_digest(data: bytes, key: str, where: str = "post") -> str:
    """sha256 of the post less the write-back key: the front matter's other keys (parsed, in order)
    and the body. Any file that does not parse is hashed as its bytes."""
    from syndicate.content.frontmatter import split

    try:
        text = data.decode("utf-8-sig").replace("\r\n", "\n")
        fm, body, kind = split(text, Path(where))
        rest = [[str(k), v] for k, v in _rest(fm, key).items()]
        blob = json.dumps([kind, rest, body], default=repr, ensure_ascii=False)
    except (SyndicateError, UnicodeDecodeError, TypeError, ValueError, RecursionError):
        return hashlib.sha256(data).hexdigest()
    return hashlib.sha256(b"masked\0" + blob.encode("utf-8")).hexdigest()


def digest_for(config: Config | None) -> Any:
    """The file-hash function of a site: masked while write-back is on, else the bytes' sha256."""
    site = getattr(config, "site", None)
    if site is None or not getattr(site, "write_back", False):
        return lambda data: hashlib.sha256(data).hexdigest()
    key = site.write_back_key
    return lambda data: masked_digest(data, key)


# --- one post's write-back ------------------------------------------------------------------------------

@dataclass
class Result:
    path: str  # relative to the site root
    changed: bool
    urls: list[Any]
    reason: str = ""
    mine: list[str] | None = None  # our copies' URLs now, and those written before (`remember`)
    wrote: list[str] | None = None


def written_scope(site_id: str, post_id: str) -> str:
    return f"writeback|{site_id}|{post_id}"[:300]


def failed_scope(site_id: str) -> str:
    return f"writeback-failed|{site_id}"[:300]


def ours(config: Config, ledger: Ledger, post_id: str) -> list[str]:
    """The URLs of the post's live copies, targets in config order."""
    return _ours(config, ledger.all([post_id]))


def _ours(config: Config, found: list[Any]) -> list[str]:
    rows = {r.target: r for r in found}
    out = []
    for target in config.targets:
        row = rows.get(target)
        if row is not None and row.state == "published" and row.remote_url:
            out.append(row.remote_url)
    return list(dict.fromkeys(out))


def owed(config: Config, ledger: Ledger, post_id: str, rows: list[Any] | None = None) -> bool:
    """Whether the post's file may lack a change: its live copies are not those last written (a new copy,
    a copy gone, a write that failed). Two small queries, no file read: a unit that changed nothing asks
    this before it opens the file."""
    mine = ours(config, ledger, post_id) if rows is None else _ours(config, rows)
    wrote = (ledger.get_fact(written_scope(config.site_id, post_id)) or {}).get("urls") or []
    return sorted(mine) != sorted(wrote)


def write_back(config: Config, ledger: Ledger, post_id: str, path: Path, *, now: Any = None,
               remember_written: bool = True) -> Result:
    """Bring the post's list up to date with the ledger. Raises `WriteBackError` (the file is left as it was).

    `remember_written` False: the caller records what was written (`remember`) once it is kept for good
    (the webhook: once the commit is pushed)."""
    with _locked(config):  # one write-back at a time: two targets' units finishing together never race
        for tries in range(3):
            try:
                return _write_back(config, ledger, post_id, path, now, remember_written)
            except _Changed:
                if tries == 2:
                    raise WriteBackError(f"{_shown(config, path)}: kept changing while its links were written; "
                                         "the next change writes them") from None
    raise AssertionError("unreachable")


class _Changed(WriteBackError):
    """The file changed between its reading and its replacing: read it again."""


_THREAD_LOCK = threading.Lock()


@contextmanager
def _locked(config: Config) -> Iterator[None]:
    """This process's lock, then the data folder's lock file (other processes and workers of this site)."""
    with _THREAD_LOCK:
        try:
            config.data_dir.mkdir(parents=True, exist_ok=True)
            fh = open(config.data_dir / "writeback.lock", "a+b")
        except OSError:
            yield  # a read-only data folder: the in-process lock is all there is
            return
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            yield
        finally:
            fh.close()


def _write_back(config: Config, ledger: Ledger, post_id: str, path: Path, now: Any,
                remember_written: bool) -> Result:
    from syndicate.content.frontmatter import split
    from syndicate.content.loader import load_post
    from syndicate.content.post import PostError

    key = config.site.write_back_key
    where = _shown(config, path)
    real = path.resolve()  # a symlinked post: its target is edited, the link stays a link
    try:
        st = real.stat()
        data = real.read_bytes()
    except FileNotFoundError:
        return Result(where, False, [], "the file is gone")
    except OSError as exc:
        raise WriteBackError(f"{where}: cannot read ({exc.strerror or exc}); links not written") from None
    try:
        post = load_post(path, config.site, light=True)
    except PostError as exc:
        return Result(where, False, [], f"not a post now ({exc})")
    if post.id != post_id:
        return Result(where, False, [], "the file is another post's now: not its source")
    from syndicate.state.ledger import utcnow

    if post.draft or post.visible_at(now or utcnow()) is not None:
        return Result(where, False, [], "a draft or hidden post: never written into")
    text = Text.decode(data, where)
    fm, _body, _kind = split(text.text, path)
    current = listed(value_of(fm, key)[1])
    scope = written_scope(config.site_id, post_id)
    wrote = (ledger.get_fact(scope) or {}).get("urls") or []
    mine = ours(config, ledger, post_id)
    new = merged(current, mine, wrote)
    if new == current:
        result = Result(where, False, new, "up to date", mine, wrote)
    else:
        out = edit(text.text, key, new, where)
        replace_file(real, text.encode(out), st, where)
        log.info("write-back %s: %s = %s", where, key, ", ".join(map(str, new)) or "(removed)")
        result = Result(where, True, new, "", mine, wrote)
    if remember_written or not result.changed:
        remember(config, ledger, post_id, result)
    return result


def remember(config: Config, ledger: Ledger, post_id: str, result: Result) -> None:
    """Keep which URLs are ours (written for a copy), so that a copy gone takes its URL out with it."""
    mine, wrote = result.mine or [], result.wrote or []
    if sorted(mine) != sorted(wrote):
        ledger.put_fact(written_scope(config.site_id, post_id), {"urls": mine}, FOREVER)


def _shown(config: Config, path: Path) -> str:
    try:
        return path.resolve().relative_to(config.site.root).as_posix()
    except ValueError:
        return str(path)


def replace_file(path: Path, data: bytes, before: os.stat_result, where: str | None = None) -> None:
    """Write `data` to `path` atomically (temp file beside it, then rename), keeping its mode and owner;
    refused when the file changed since `before` was taken (a save in between is never overwritten)."""
    where = where or path.name
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".syndicate-tmp", dir=path.parent)
    except OSError as exc:
        raise WriteBackError(f"{where}: cannot write ({exc.strerror or exc}); the copies are published and "
                             "recorded, their links were not written") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, before.st_mode & 0o7777)
        try:
            os.chown(tmp, before.st_uid, before.st_gid)
        except OSError:
            pass  # not ours to give away: the file keeps the writer's owner
        now = path.stat()
        if (now.st_size, now.st_mtime_ns, now.st_ino) != (before.st_size, before.st_mtime_ns, before.st_ino):
            raise _Changed(f"{where}: changed while its links were written")
        os.replace(tmp, path)
    except OSError as exc:
        raise WriteBackError(f"{where}: cannot write ({exc.strerror or exc}); the copies are published and "
                             "recorded, their links were not written") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def record_failure(config: Config, ledger: Ledger, message: str) -> None:
    """Keep a write-back failure for `status` (and the log)."""
    log.warning("write-back: %s", message)
    try:
        ledger.put_fact(failed_scope(config.site_id), {"message": message[:500]}, FAILED_TTL)
    except Exception:  # the warning is logged already; a full disk must not fail the publish
        log.warning("write-back: the failure could not be recorded for status")


def clear_failure(config: Config, ledger: Ledger) -> None:
    scope = failed_scope(config.site_id)
    if ledger.get_fact(scope) is not None:
        ledger.put_fact(scope, {}, 0.0)


def try_write_back(config: Config, ledger: Ledger, post_id: str, path: Path) -> Result | None:
    """`write_back`, with any failure logged and kept for `status` instead of raised."""
    try:
        result = write_back(config, ledger, post_id, path)
    except WriteBackError as exc:
        record_failure(config, ledger, str(exc))
        return None
    except Exception as exc:  # never lose a publish to a write-back bug
        record_failure(config, ledger, f"{_shown(config, path)}: {type(exc).__name__}: {exc}")
        return None
    if result.changed:
        clear_failure(config, ledger)
    return result


def write_back_all(config: Config, ledger: Ledger, *, remember_written: bool = True,
                   warn: Any = None) -> list[tuple[str, Result]]:
    """Every post with a copy (or a copy gone) brought up to date: the webhook's pass after each sync, and
    the watcher's after a write-back failed (a read-only site made writable again). Returns the
    (post id, result) of the files changed; a file that fails is recorded for `status` and skipped."""
    root = config.site.root
    paths: dict[str, str] = {}
    by_post: dict[str, list[Any]] = {}
    for row in ledger.all(states=["published", "deleted"]):
        by_post.setdefault(row.post_id, []).append(row)
        if row.post_path and not Path(row.post_path).is_absolute():
            paths.setdefault(row.post_id, row.post_path)
    changed: list[tuple[str, Result]] = []
    failed = False
    for post_id, rel in sorted(paths.items()):
        if not owed(config, ledger, post_id, by_post[post_id]):
            continue  # its file has what was last written: not even read
        try:
            result = write_back(config, ledger, post_id, root / rel, remember_written=remember_written)
        except WriteBackError as exc:
            failed = True
            record_failure(config, ledger, str(exc))
            if warn is not None:
                warn(f"warning: {exc}")
            continue
        if result.changed:
            changed.append((post_id, result))
    if not failed:
        clear_failure(config, ledger)
    return changed


def failure(config: Config, ledger: Any) -> str | None:
    """The last write-back failure `status` shows, if any."""
    found = ledger.get_fact(failed_scope(config.site_id))
    message = (found or {}).get("message")
    return str(message) if message else None
