"""The post's Markdown for a platform that renders Markdown itself: what it renders stays byte for byte.

Only the constructs the platform's renderer lacks are rewritten, at the places the one
parse (`Document.tree`, whose block source maps are exact) says they are:

- footnotes → superscript numbers in the text and a numbered list of the notes at the end;
- definition lists → each term in bold on its own line, its definitions below it;
- task list items → `☐` / `☑` in place of `[ ]` / `[x]`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from syndicate.content.markdown.document import Document, Embed
from syndicate.content.markdown.embed import EMBEDDED
from syndicate.content.markdown.tree import Node, exact

_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_TASK = re.compile(rb"[ \t]*(?:[-+*]|\d{1,9}[.)])[ \t]+(\[[ xX]\])")
_LABEL = re.compile(rb"[ \t]*\[\^[^\]]*\]:[ \t]*")
_DD = re.compile(rb"[ \t]*:[ \t]*")


@dataclass(frozen=True)
class Renders:
    """What a platform's own Markdown renderer renders beyond CommonMark (the rest is converted)."""

    footnote: bool = False
    deflist: bool = False
    tasklist: bool = False


def for_platform(doc: Document, renders: Renders) -> Document:
    """`doc` with what `renders` lacks rewritten as Markdown it has; `doc` itself when nothing needs it."""
    src = doc.source
    d = doc.dialect
    wants = ((d.footnote and not renders.footnote and "[^" in src)
             or (d.deflist and not renders.deflist and "\n:" in src)
             or (d.tasklist and not renders.tasklist and ("[ ]" in src or "[x]" in src or "[X]" in src)))
    if not wants or not exact(doc.tree, src):  # a defused parse's source maps are not the text's
        return doc
    data = src.encode("utf-8")
    edits: list[tuple[int, int, bytes]] = []
    notes: dict[Any, int] = {}
    bodies: dict[Any, bytes] = {}
    for node in doc.tree.walk():
        name = node.name
        if name == "footnote_ref" and not renders.footnote and d.footnote:
            n = notes.setdefault(node.meta.get("def_id"), len(notes) + 1)
            if node.srcmap:
                edits.append((*node.srcmap, str(n).translate(_SUPERSCRIPT).encode()))
        elif name == "footnote_inline" and not renders.footnote and node.srcmap:
            ref = node.children[0] if node.children else None
            def_id = ref.meta.get("def_id") if ref is not None else None
            n = notes.setdefault(def_id, len(notes) + 1)
            a, b = node.srcmap
            edits.append((a, b, str(n).translate(_SUPERSCRIPT).encode()))
            bodies[def_id] = data[a + 2:b - 1]
        elif name == "footnote_def" and not renders.footnote and node.srcmap:
            a, b = _whole_lines(data, *node.srcmap)
            edits.append((a, b, b""))
            bodies[node.meta.get("def_id")] = _dedent(_LABEL.sub(b"", data[a:b], count=1))
        elif name == "definition_list" and not renders.deflist and node.srcmap:
            edits.append((*_whole_lines(data, *node.srcmap), _definitions(node, data)))
        elif name == "list_item" and not renders.tasklist and node.srcmap and node.children \
                and node.children[0].name == "todo_checkbox":  # the checkbox itself has no source map
            m = _TASK.match(data, node.srcmap[0])
            if m is not None:
                box = "☑" if node.children[0].meta.get("checked") else "☐"
                edits.append((m.start(1), m.end(1), box.encode()))
    if not edits:
        return doc
    out = _apply(data, edits)
    if notes:
        listed = [(n, bodies.get(def_id, b"")) for def_id, n in sorted(notes.items(), key=lambda kv: kv[1])]
        tail = b"\n".join(f"{n}. ".encode() + body.strip().replace(b"\n", b"\n   ") for n, body in listed)
        out = out.rstrip(b"\n") + b"\n\n---\n\n" + tail + b"\n"
    return _document(doc, out.decode("utf-8"))


def _whole_lines(data: bytes, a: int, b: int) -> tuple[int, int]:
    """`a:b` widened to whole lines, with the line ending after it."""
    start = data.rfind(b"\n", 0, a) + 1
    end = data.find(b"\n", b)
    return start, len(data) if end < 0 else end + 1


def _dedent(body: bytes) -> bytes:
    """A footnote's or definition's continuation lines without their indentation (up to 4 columns)."""
    lines = body.split(b"\n")
    return b"\n".join([lines[0]] + [re.sub(rb"^(?: {1,4}|\t)", b"", line) for line in lines[1:]])


def _definitions(node: Node, data: bytes) -> bytes:
    """A definition list as bold terms, each followed by its definitions."""
    parts: list[bytes] = []
    end = 0
    for child in node.children:
        if not child.srcmap:
            continue
        a, b = child.srcmap
        a, end = max(a, end), b  # a definition's map may start at its term's (markdown-it-pyrs 0.4.0)
        text = data[a:b].strip()
        if child.name == "definition_term":
            parts.append(b"**" + text + b"**")
        else:
            body = _dedent(_DD.sub(b"", text, count=1))
            parts[-1:] = [parts[-1] + b"  \n" + body] if parts and parts[-1].endswith(b"**") else [body]
    return b"\n\n".join(parts) + b"\n\n"


def _apply(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """`data` with each (start, end, replacement) applied; an edit inside an earlier, wider one is dropped."""
    edits.sort(key=lambda e: (e[0], -e[1]))
    out: list[bytes] = []
    pos = 0
    for a, b, new in edits:
        if a < pos:
            continue
        out.append(data[pos:a])
        out.append(new)
        pos = b
    out.append(data[pos:])
    return b"".join(out)


def _document(doc: Document, text: str) -> Document:
    """A Document of `text` (embeds at their placeholders), with `doc`'s images, warnings and dialect."""
    segments: list[str | Embed] = []
    pos = 0
    for m in EMBEDDED.finditer(text):
        if m.start() > pos:
            segments.append(text[pos:m.start()])
        k = int(m.group(1))
        segments.append(doc.embeds[k] if k < len(doc.embeds) else m.group(0))
        pos = m.end()
    if pos < len(text):
        segments.append(text[pos:])
    return Document(segments=segments, images=doc.images, warnings=doc.warnings, dialect=doc.dialect)
