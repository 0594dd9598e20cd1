"""The post's text with its BOM and line ends kept aside, the front matter located in it, and the errors."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from syndicate.errors import SyndicateError

if TYPE_CHECKING:
    pass

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


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    """Just past the newline of the line holding `index` (or the end of the text)."""
    nl = text.find("\n", index)
    return len(text) if nl < 0 else nl + 1


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
