"""One front-matter key edited in place, every other byte kept: the syndication links `[site] write_back` writes.

The edit is a splice of the one key's lines into the file as it is: every other
byte (comments, key order, quoting, anchors, the body, a BOM, CRLF line ends)
stays, and the result is parsed again and compared with the original (`_verify`).
YAML, TOML (`+++`) and JSON front matter each have a module. `masked_digest` is the
content hash change detection uses while write-back is on: the front matter
without the key, and the body; an edit of the key alone is never a change.
The policy (what to write, when, the ledger's record of it) is `syndicate.engine.writeback`.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syndicate.content.fmedit.common import WriteBackError, locate
from syndicate.content.fmedit.jsonkeys import _json_edit
from syndicate.content.fmedit.tomlkeys import _toml_edit
from syndicate.content.fmedit.yamlkeys import _yaml_edit
from syndicate.errors import SyndicateError

if TYPE_CHECKING:
    from syndicate.config import Config

log = logging.getLogger(__name__)

__all__ = ["WriteBackError", "digest_for", "edit", "listed", "masked_digest", "merged", "value_of", "without"]


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
