"""Front matter, read safely: YAML `---`, TOML `+++` and JSON `{ }` blocks.

Splitting uses python-frontmatter's handlers; parsing is ours, so that hostile
input fails one post with a clear `PostError` instead of hanging the scan:
YAML goes through libyaml's safe loader, and any document that uses anchors is
re-read by a pure-Python safe loader that measures the expanded size of every
node (a "billion laughs" alias bomb is refused after a few thousand nodes, not
after a billion); TOML goes through `tomllib`, JSON through `json`.
`view`/`lookup` read the result by lowercased, dotted keys.
"""
from __future__ import annotations

import json
import re
import tomllib
import zlib
from pathlib import Path
from typing import Any

import yaml
from frontmatter.default_handlers import BaseHandler, JSONHandler, YAMLHandler
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from syndicate.errors import PostError

MAX_FILE_BYTES = 8 * 1024 * 1024  # a post larger than this is not a blog post
MAX_FRONT_MATTER_CHARS = 256 * 1024
MAX_YAML_NODES = 20_000  # expanded node count; real front matter has < 200
TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
FALSE_WORDS = frozenset({"false", "no", "off", "0", "none"})

try:
    _FastLoader: type = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _FastLoader = yaml.SafeLoader


class _YamlBomb(yaml.YAMLError):
    pass


class BoundedSafeLoader(yaml.SafeLoader):
    """SafeLoader that refuses recursive aliases and documents that expand past a node budget."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._weights: dict[int, int] = {}

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        alias = self.check_event(AliasEvent)
        if alias:
            anchor = self.peek_event().anchor
            target = self.anchors.get(anchor)
            if target is not None and id(target) not in self._weights:
                raise _YamlBomb(f"recursive alias *{anchor}")
        node = super().compose_node(parent, index)
        weight = self._weights.get(id(node))
        if weight is None:
            get = self._weights.get
            if isinstance(node, ScalarNode):
                weight = 1
            elif isinstance(node, SequenceNode):
                weight = 1 + sum(get(id(child), 1) for child in node.value)
            elif isinstance(node, MappingNode):
                weight = 1 + sum(get(id(k), 1) + get(id(v), 1) for k, v in node.value)
            else:
                weight = 1
            self._weights[id(node)] = weight
        if weight > MAX_YAML_NODES:
            raise _YamlBomb(f"aliases expand to more than {MAX_YAML_NODES} nodes")
        return node


class SafeYAMLHandler(YAMLHandler):
    """YAML front matter, parsed safely with an alias-expansion budget."""

    def load(self, fm: str, **kwargs: object) -> Any:
        if "&" in fm and "*" in fm:
            return yaml.load(fm, Loader=BoundedSafeLoader)
        return yaml.load(fm, Loader=_FastLoader)


class TomlHandler(BaseHandler):
    """TOML front matter (Hugo, Zola) through the standard library's `tomllib`."""

    FM_BOUNDARY = re.compile(r"^\+{3,}[ \t]*$", re.MULTILINE)
    START_DELIMITER = END_DELIMITER = "+++"

    def load(self, fm: str, **kwargs: object) -> Any:
        return tomllib.loads(fm)


_YAML = SafeYAMLHandler(fm_boundary=re.compile(r"^-{3,}[ \t]*$", re.MULTILINE))
_TOML = TomlHandler()
_JSON = JSONHandler()


def read_text(path: Path, data: bytes | None = None) -> str:
    """The file as text: UTF-8 (a BOM is dropped), LF line ends; clear errors otherwise. `data`: the
    file's bytes when the caller has read them already (the worker hashes them first)."""
    return _read(path, data)[0]


def read_checked(path: Path, data: bytes | None = None) -> tuple[str, tuple[int, int]]:
    """`read_text`, with a check of the bytes read (length, CRC-32): whether the file still holds them
    later (a post's body is read again when needed, `Post.body`) costs one read, not a parse."""
    text, data = _read(path, data)
    return text, (len(data), zlib.crc32(data))


def _read(path: Path, data: bytes | None = None) -> tuple[str, bytes]:
    if data is not None:
        if len(data) > MAX_FILE_BYTES:
            raise PostError(f"{path}: file too large ({len(data)} bytes; limit {MAX_FILE_BYTES})")
    else:
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                raise PostError(f"{path}: file too large ({size} bytes; limit {MAX_FILE_BYTES})")
            data = path.read_bytes()
        except OSError as exc:
            raise PostError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PostError(f"{path}: not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, data


def split(text: str, path: Path) -> tuple[dict[str, Any], str, str]:
    """(front matter, body, format) where format is "yaml" | "toml" | "json"."""
    head = text.lstrip("\n")
    handler: Any
    if head.startswith("---"):
        handler, kind = _YAML, "yaml"
    elif head.startswith("+++"):
        handler, kind = _TOML, "toml"
    elif head.startswith("{") and _JSON.detect(head):
        handler, kind = _JSON, "json"
    else:
        raise PostError(f"{path}: no front matter (skipped: a post starts with ---, +++ or {{)")
    if not handler.detect(head):
        raise PostError(f"{path}: no front matter (the first line is not a bare {handler.START_DELIMITER or '{'})")
    try:
        raw, body = handler.split(head)
    except ValueError:
        raise PostError(f"{path}: {kind.upper()} front matter is never closed") from None
    if len(raw) > MAX_FRONT_MATTER_CHARS:
        raise PostError(f"{path}: front matter too large ({len(raw)} characters)")
    try:
        data = handler.load(raw)
    except _YamlBomb as exc:
        raise PostError(f"{path}: YAML front matter refused: {exc}") from None
    except yaml.YAMLError as exc:
        raise PostError(f"{path}: invalid YAML front matter: {_first_line(exc)}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PostError(f"{path}: invalid TOML front matter: {exc}") from None
    except json.JSONDecodeError as exc:
        raise PostError(f"{path}: invalid JSON front matter: {exc}") from None
    except RecursionError:
        raise PostError(f"{path}: front matter nested too deeply") from None
    except ValueError as exc:  # YAML timestamps such as 2019-02-30
        raise PostError(f"{path}: invalid {kind.upper()} front matter: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PostError(f"{path}: front matter is a {type(data).__name__}, not a mapping of keys")
    if body.startswith("\n"):
        body = body[1:]
    return data, body, kind


def _first_line(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is not None:
        return f"{problem} (front matter line {mark.line + 2}, column {mark.column + 1})"
    return str(problem)


# --- reading it: case-insensitive keys (Hugo's are), dotted paths into tables ---------------------

def view(fm: dict[str, Any]) -> dict[str, Any]:
    """The front matter keyed by lowercased names (Hugo's keys are case-insensitive; a lowercase key wins a clash)."""
    view: dict[str, Any] = {}
    for key, value in fm.items():
        if isinstance(key, str):
            low = key.lower()
            if low == key or low not in view:
                view[low] = value
    return view


def spelled(fm: dict[str, Any], key: str | None) -> str | None:
    """The front-matter key as the post spells it, for messages."""
    top = (key or "").split(".", 1)[0]
    spelled = next((k for k in fm if isinstance(k, str) and k.lower() == top), top)
    return None if key is None else spelled + key[len(top):]


def lookup(view: dict[str, Any], key: str) -> Any:
    """A (lowercased, maybe dotted) key of the `view`; nested tables match case-insensitively too."""
    value = view.get(key)
    if value is not None or "." not in key:
        return value
    node: Any = view
    for part in key.split("."):
        if not isinstance(node, dict):
            return None
        found = node.get(part)
        if found is None:
            found = next((v for k, v in node.items() if isinstance(k, str) and k.lower() == part), None)
        if found is None:
            return None
        node = found
    return node


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def is_flag(value: Any) -> bool:
    """`published: true` (or "yes"...) is a flag, not a date."""
    return isinstance(value, bool) or (isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS)
