"""A small Lexicon checker: a value against a lexicon definition from ../shared/specs/bluesky/lexicons.

It knows what our records use (https://atproto.com/specs/lexicon): object
(required, properties), string (maxLength in UTF-8 bytes, maxGraphemes,
formats), integer (minimum), boolean, array (maxLength), ref, union (by
`$type`, open unless `closed`), blob (accept, maxSize), unknown. A check
returns the list of problems, each with its path, as the PDS words them.
Written on its own (not with syndicate.content.text) so that a bug there shows.
"""
from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import regex

from tests.paths import SHARED

ROOT = SHARED / "specs" / "bluesky" / "lexicons"
LOCAL = Path(__file__).parent / "lexicons"  # lexicons the specs do not hold (standard.site, markpub.at)
_GRAPHEME = regex.compile(r"\X")
_FORMATS: dict[str, regex.Pattern[str]] = {
    "did": regex.compile(r"^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$"),
    "handle": regex.compile(r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"),
    "nsid": regex.compile(r"^[a-zA-Z]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)+$"),
    "at-uri": regex.compile(r"^at://[^/\s]+(/[a-zA-Z0-9.-]+(/[a-zA-Z0-9._~:-]{1,512})?)?$"),
    "uri": regex.compile(r"^[a-z][a-z0-9+.-]*:\S+$"),
    "cid": regex.compile(r"^[a-zA-Z0-9+=]{8,256}$"),
    "record-key": regex.compile(r"^[a-zA-Z0-9._:~-]{1,512}$"),
    "tid": regex.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$"),
    "language": regex.compile(r"^(i|[a-z]{2,3})(-[a-zA-Z0-9]+)*$"),
}


@cache
def lexicon(nsid: str) -> dict[str, Any]:
    name = nsid.replace(".", "/") + ".json"
    path = LOCAL / name if (LOCAL / name).is_file() else ROOT / name
    return json.loads(path.read_text())


def definition(ref: str, base: str = "") -> tuple[str, dict[str, Any]]:
    """(nsid, def) for `nsid#name`, `#name` (in `base`) or `nsid` (its main)."""
    nsid, _, name = ref.partition("#")
    nsid = nsid or base
    return nsid, lexicon(nsid)["defs"][name or "main"]


def check(nsid: str, value: Any) -> list[str]:
    """Problems of `value` as the `main` record or object of `nsid`; [] when valid."""
    _, main = definition(nsid)
    kind = main.get("type")
    schema = {"record": lambda: main["record"], "procedure": lambda: main["input"]["schema"],
              "query": lambda: {**main["parameters"], "type": "object"}}.get(str(kind), lambda: main)()
    problems: list[str] = []
    _value(schema, value, nsid, "$", problems)
    return problems


def _value(schema: dict[str, Any], value: Any, base: str, path: str, out: list[str]) -> None:
    kind = schema.get("type")
    if kind == "ref":
        nsid, target = definition(schema["ref"], base)
        _value(target, value, nsid, path, out)
    elif kind == "union":
        _union(schema, value, base, path, out)
    elif kind == "object":
        _object(schema, value, base, path, out)
    elif kind == "string":
        _string(schema, value, path, out)
    elif kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            out.append(f"{path} must be an integer")
        elif "minimum" in schema and value < schema["minimum"]:
            out.append(f"{path} can not be less than {schema['minimum']}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            out.append(f"{path} must be a boolean")
    elif kind == "array":
        if not isinstance(value, list):
            out.append(f"{path} must be an array")
            return
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            out.append(f"{path} must not have more than {schema['maxLength']} elements")
        for i, item in enumerate(value):
            _value(schema["items"], item, base, f"{path}/{i}", out)
    elif kind == "blob":
        _blob(schema, value, path, out)
    elif kind != "unknown":
        out.append(f"{path}: the checker does not know type {kind!r}")


def _object(schema: dict[str, Any], value: Any, base: str, path: str, out: list[str]) -> None:
    if not isinstance(value, dict):
        out.append(f"{path} must be an object")
        return
    for name in schema.get("required", []):
        if name not in value:
            out.append(f"{path} must have the property \"{name}\"")
    for name, sub in schema.get("properties", {}).items():
        if name in value and not (value[name] is None and name in schema.get("nullable", [])):
            _value(sub, value[name], base, f"{path}.{name}", out)


def _union(schema: dict[str, Any], value: Any, base: str, path: str, out: list[str]) -> None:
    if not isinstance(value, dict) or not isinstance(value.get("$type"), str):
        out.append(f"{path} must be an object which includes the \"$type\" property")
        return
    wanted = value["$type"]
    refs = {(r if not r.startswith("#") else base + r) for r in schema["refs"]}
    names = {r.removesuffix("#main") for r in refs}
    if wanted not in names:
        if schema.get("closed"):
            out.append(f"{path} $type must be one of {sorted(names)}")
        return
    nsid, target = definition(wanted, base)
    _value(target, value, nsid, path, out)


def _string(schema: dict[str, Any], value: Any, path: str, out: list[str]) -> None:
    if not isinstance(value, str):
        out.append(f"{path} must be a string")
        return
    size = len(value.encode("utf-8"))
    if "maxLength" in schema and size > schema["maxLength"]:
        out.append(f"{path} must not be longer than {schema['maxLength']} characters")
    graphemes = len(_GRAPHEME.findall(value))
    if "maxGraphemes" in schema and graphemes > schema["maxGraphemes"]:
        out.append(f"{path} must not be longer than {schema['maxGraphemes']} graphemes")
    fmt = schema.get("format")
    if fmt == "datetime":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
            ok = "T" in value and (value.endswith("Z") or "+" in value[10:] or "-" in value[10:])
        except ValueError:
            ok = False
        if not ok:
            out.append(f"{path} must be an valid atproto datetime")
    elif fmt == "at-identifier":
        if not (_FORMATS["did"].match(value) or _FORMATS["handle"].match(value)):
            out.append(f"{path} must be a valid did or a handle")
    elif fmt in _FORMATS and not _FORMATS[fmt].match(value):
        out.append(f"{path} must be a valid {fmt}")


def _blob(schema: dict[str, Any], value: Any, path: str, out: list[str]) -> None:
    if not isinstance(value, dict) or value.get("$type") != "blob":
        out.append(f"{path} should be a blob ref")
        return
    ref = value.get("ref")
    if not isinstance(ref, dict) or not isinstance(ref.get("$link"), str):
        out.append(f"{path}.ref must be a CID link")
    mime, size = value.get("mimeType"), value.get("size")
    if not isinstance(mime, str) or not isinstance(size, int):
        out.append(f"{path} must have a mimeType and a size")
        return
    accept = schema.get("accept")
    if accept and not any(mime == a or (a.endswith("/*") and mime.startswith(a[:-1])) for a in accept):
        out.append(f"{path} has a mimeType {mime} it does not accept")
    if "maxSize" in schema and size > schema["maxSize"]:
        out.append(f"{path} is too big (maximum {schema['maxSize']} bytes, got {size})")


def facet_problems(record: dict[str, Any]) -> list[str]:
    """What the lexicon cannot say: facet offsets inside the text, on character boundaries, in order."""
    data = str(record.get("text", "")).encode("utf-8")
    problems, last = [], 0
    for i, facet in enumerate(record.get("facets") or []):
        start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
        if not 0 <= start < end <= len(data) or start < last:
            problems.append(f"facet {i}: bytes {start}..{end} out of order or outside {len(data)}")
            continue
        try:
            data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"facet {i}: bytes {start}..{end} cut a character")
        last = end
    return problems
