"""YAML front matter: one key's lines replaced through the parser's own positions."""
from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from syndicate.content.fmedit.common import _PLAIN_URL, WriteBackError, _line_end, _line_start

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


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
