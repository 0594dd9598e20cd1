"""The HTML renderer against the generators' own extension cases, run as the CommonMark examples are.

goldmark's (Hugo's renderer) cases for footnote, table, strikethrough, linkify, definition
list and task list render in Hugo's dialect; cmark-gfm's extensions.txt (GitHub Flavored
Markdown, the dialect remark-gfm follows) in the GFM dialect. The HTML is compared as
structure: tags, attributes (order aside) and text, with whitespace runs collapsed and `id`s
and in-page `#…` links left out (each generator numbers its footnotes its own way).
Cases a dialect deliberately renders otherwise are skipped, each with its reason.
Sources: ../shared/specs/SOURCES.md ("markdown/").
"""
from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from syndicate.content.markdown.dialect import GOLDMARK, REMARK_GFM
from syndicate.content.markdown.render import to_html
from syndicate.content.markdown.tree import parse

SPECS = Path(__file__).resolve().parents[1].parent / "shared" / "specs" / "markdown"
HUGO = replace(GOLDMARK, html=True, typographer=False)  # as goldmark runs its extension tests
GFM = replace(REMARK_GFM, footnote=True)

# goldmark cases rendered otherwise, and why
MDRS = "markdown-it.rs (markdown-it-pyrs 0.4.0) differs: "
GOLDMARK_SKIPS = {
    ("footnote", "3"): "a footnote label with a tab and an empty one: goldmark drops both lines, markdown-it.rs "
                       "keeps them as text (a malformed case, no real post writes it)",
    ("strikethrough", "3"): MDRS + "a single `~` strikes nothing (goldmark and GFM accept `~Hi~`)",
    ("strikethrough", "4"): MDRS + "`~~~not~~~` strikes the inner `~~not~~`",
    ("linkify", "10"): MDRS + "bare e-mail addresses with `_` in the local part are cut at the `_`",
    ("linkify", "11"): MDRS + "a bare URL ends before `#sun,mon`",
    ("linkify", "13"): MDRS + "a bare URL ends before `:>`",
    ("linkify", "19"): MDRS + "a bare URL inside `__…__` takes the closing underscores",
    ("definition_list", "3"): MDRS + "one term per definition (PHP Markdown Extra's several terms are a paragraph)",
}
GFM_SKIPS = {
    "Strikethroughs": MDRS + "a single `~` strikes nothing (GFM accepts `~one~`)",
    "Footnotes": "every dialect's footnotes take goldmark's markup (checked by the goldmark cases); and "
                 "markdown-it.rs reads a definition starting after 7 spaces as indented code",
    "19": "`www.` links and bare e-mail addresses are not linked in a text with non-ASCII characters: "
          "markdown-it-autolink 0.2.0 panics on them (syndicate/content/markdown/tree.py), bare http(s) URLs still are",
    "HTML tag filter": "GFM's tag filter escapes <title>, <script>…: the copies' raw HTML goes through nh3 instead "
                       "(syndicate/content/markdown/sanitize.py), which removes those tags",
}


def goldmark_cases(name: str) -> list[tuple[str, str, str]]:
    text = (SPECS / "goldmark" / f"{name}.txt").read_text(encoding="utf-8")
    cases = []
    for chunk in re.split(r"^//= = = = = = = = = = = = = = = = = = = = = = = =//\s*$", text, flags=re.M):
        parts = re.split(r"^//- - - - - - - - -//\n?", chunk, flags=re.M)
        if len(parts) != 3:
            continue
        number = parts[0].strip().split(":")[0].strip()
        cases.append((number, parts[1].replace("\\t", "\t"), parts[2]))  # goldmark's cases write tabs as \\t
    return cases


def gfm_cases() -> list[tuple[str, str, str, str]]:
    text = (SPECS / "gfm" / "extensions.txt").read_text(encoding="utf-8")
    cases, section = [], ""
    fence = "`" * 32
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        if line.startswith(fence + " example"):
            j = lines.index(".", i + 1)
            k = lines.index(fence, j + 1)
            md = "\n".join(lines[i + 1:j]).replace("→", "\t") + "\n"
            out = "\n".join(lines[j + 1:k]).replace("→", "\t")
            cases.append((f"{len(cases) + 1}", section, md, out))
            i = k
        i += 1
    return cases


_VOID = frozenset({"br", "hr", "img", "input", "col", "area", "base", "embed", "source", "track", "wbr"})


class _Shape(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[tuple[str, ...]] = []
        self.text: list[str] = []

    def flush(self) -> None:
        text = " ".join("".join(self.text).split())
        if text:
            self.items.append(("text", text))
        self.text = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.flush()
        kept = sorted((k, v or "") for k, v in attrs if k != "id" and not (k == "href" and (v or "").startswith("#")))
        self.items.append(("start", tag, *(f"{k}={v}" for k, v in kept)))

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return  # `<br />` is read as a start and an end
        self.flush()
        self.items.append(("end", tag))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def shape(markup: str) -> list[tuple[str, ...]]:
    parser = _Shape()
    parser.feed(markup)
    parser.close()
    parser.flush()
    return parser.items


GOLDMARK_CASES = [(name, *case) for name in ("footnote", "table", "strikethrough", "linkify", "definition_list",
                                             "tasklist") for case in goldmark_cases(name)]


@pytest.mark.parametrize(("name", "number", "markdown", "expected"), [
    pytest.param(*c, id=f"{c[0]}-{c[1]}",
                 marks=[pytest.mark.skip(reason=GOLDMARK_SKIPS[c[0], c[1]])] if (c[0], c[1]) in GOLDMARK_SKIPS else [])
    for c in GOLDMARK_CASES])
def test_goldmark_cases(name: str, number: str, markdown: str, expected: str) -> None:
    got = to_html(parse(markdown, HUGO), HUGO, [], source=markdown.encode())
    assert shape(got) == shape(expected), f"{markdown!r}\n{got}"


@pytest.mark.parametrize(("number", "section", "markdown", "expected"), [
    pytest.param(*c, id=f"{c[0]}-{c[1][:20]}",
                 marks=[pytest.mark.skip(reason=GFM_SKIPS.get(c[0]) or GFM_SKIPS[c[1]])]
                 if c[0] in GFM_SKIPS or c[1] in GFM_SKIPS else [])
    for c in gfm_cases()])
def test_gfm_cases(number: str, section: str, markdown: str, expected: str) -> None:
    got = to_html(parse(markdown, GFM), GFM, [], source=markdown.encode())
    if expected.strip() == "<IGNORE>":
        return  # the case only asks for no crash
    assert shape(got) == shape(expected), f"{markdown!r}\n{got}"


def test_the_oracle_cases_are_all_there() -> None:
    assert len(GOLDMARK_CASES) >= 40 and len(gfm_cases()) >= 25
