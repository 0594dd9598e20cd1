"""JSON front matter: members found by a scanner over the top-level object."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from syndicate.content.fmedit.common import WriteBackError, _json_string_end, _line_start

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


# --- JSON: members found by a scanner over the top-level object ---------------------------------------



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
