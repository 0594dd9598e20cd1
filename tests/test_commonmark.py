"""The code scan (syndicate.content.markdown.scan) against the CommonMark spec's own examples.

For each example of the sections that decide what is code, the regions found
must be what markdown-it-py's full CommonMark parse marks as code: the same
fenced and indented code blocks (lines), HTML blocks (lines) and code spans
(contents). markdown-it is only the oracle here; the pipeline does not use it
for scanning (it is 4x slower, see bench/bench_markdown.py).
Examples: ../shared/specs/commonmark/spec.json (spec 0.31.2, see SOURCES.md).
"""
from __future__ import annotations

import json
import re
from typing import Any

import pytest
from markdown_it import MarkdownIt

from syndicate.content.markdown.scan import scan
from tests.paths import SHARED

SPEC = SHARED / "specs" / "commonmark" / "spec.json"
SECTIONS = {"Fenced code blocks", "Indented code blocks", "HTML blocks", "Code spans", "Tabs", "List items",
            "Block quotes", "Lists", "ATX headings", "Setext headings", "Thematic breaks", "Paragraphs",
            "Backslash escapes", "Raw HTML", "Autolinks", "Precedence", "Blank lines"}
EXAMPLES = [e for e in json.loads(SPEC.read_text(encoding="utf-8")) if e["section"] in SECTIONS]
_MD = MarkdownIt("commonmark")
_PREFIX = re.compile(r"\n[ \t]*(?:>[ \t]?)*[ \t]*")


def oracle(markdown: str) -> dict[str, Any]:
    blocks, html, spans = [], [], []

    def walk(tokens: list[Any]) -> None:
        for t in tokens:
            if t.type in ("fence", "code_block") and t.map:
                blocks.append(("fence" if t.type == "fence" else "indented", t.map[0], t.map[1]))
            elif t.type == "html_block" and t.map:
                html.append((t.map[0], t.map[1]))
            elif t.type == "code_inline":
                spans.append(t.content)
            if t.children:
                walk(t.children)

    walk(_MD.parse(markdown))
    return {"blocks": sorted(blocks), "html": sorted(html), "spans": sorted(spans)}


def span_content(raw: str) -> str:
    size = len(raw) - len(raw.lstrip("`"))
    inner = _PREFIX.sub("\n", raw[size:-size]).replace("\n", " ")
    if len(inner) > 1 and inner[0] == inner[-1] == " " and inner.strip(" "):
        inner = inner[1:-1]
    return inner


def found(markdown: str) -> dict[str, Any]:
    regions = scan(markdown)
    return {
        "blocks": sorted((r.kind, r.first, r.last) for r in regions if r.kind in ("fence", "indented")),
        "html": sorted((r.first, r.last) for r in regions if r.kind == "html"),
        "spans": sorted(span_content(markdown[r.start:r.end]) for r in regions if r.kind == "span"),
    }


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"{e['example']}-{e['section'][:12]}")
def test_scan_matches_the_spec(example: dict[str, Any]) -> None:
    md = example["markdown"]
    assert found(md) == oracle(md), md


def test_regions_are_exact_source_ranges() -> None:
    text = "# Head\n    code under a heading\n\nA `span` and ``two ` ticks``.\n\n```py\nx = {{ y }}\n```\n"
    got = [(r.kind, text[r.start:r.end]) for r in scan(text)]
    assert got == [
        ("indented", "    code under a heading"),
        ("span", "`span`"),
        ("span", "``two ` ticks``"),
        ("fence", "```py\nx = {{ y }}\n```"),
    ]


def test_indented_code_cannot_interrupt_a_paragraph_but_follows_a_heading() -> None:
    assert [r.kind for r in scan("Para\n    not code\n")] == []
    assert [r.kind for r in scan("## Usage\n    $ make\n")] == ["indented"]
    assert [r.kind for r in scan("Usage\n-----\n    $ make\n")] == ["indented"]
