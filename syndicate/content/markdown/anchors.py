"""Heading ids, as the site's generator makes them: what a post's in-page links (`[see](#setup)`) point at.

A copy keeps a link into the post only where the heading it names is there too. The generator's
rule for each heading's id is named by `Dialect.anchors`:

- `github` (Hugo's default `markup.goldmark.parser.autoHeadingIDType`), `github-ascii` and
  `blackfriday`: goldmark takes the heading's raw source line (Markdown syntax and all), and Hugo
  keeps letters, digits and `_`, lowercased, turns spaces and `-` into `-`, and numbers repeats `-1`,
  `-2`... skipping ids already taken (https://gohugo.io/configuration/markup/#autoheadingidtype);
- `kramdown` and `kramdown-gfm` (Jekyll): kramdown's `auto_ids` from the heading's text; the GFM
  parser keeps word characters, `-` and blanks and turns blanks into `-`
  (https://kramdown.gettalong.org/converter/html.html#auto-ids, kramdown-parser-gfm);
- `zola-on`, `zola-safe`, `zola-off`: Zola's `slugify.anchors` (ASCII slug, unsafe characters
  stripped, or the text as it is; repeats `-1`, `-2`) (https://www.getzola.org/documentation/getting-started/configuration/#slugification-strategies);
- `github-slugger` (Astro, which gives every Markdown heading an id with github-slugger).

`{#id}` written on a heading wins (Hugo, kramdown, Zola). A heading whose id cannot be known for
certain from what the pipeline has (its line was rewritten by the expansion, or a transliteration
we do not have) gets None: links to it keep pointing at the post on the site, which always works.
"""
from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

if TYPE_CHECKING:
    from syndicate.content.markdown.tree import Node

# the ids the author wrote on ATX headings (`{#id}`), keyed by the heading's text as written and how many ATX
# headings of that text came before it
Explicit = dict[tuple[str, int], str]


@dataclass(frozen=True)
class Heading:
    level: int
    at: tuple[int, int] | None  # the heading's srcmap: which node of the tree it is
    text: str  # the heading's text (inline markup gone, code spans' text kept)
    id: str | None  # the generator's id; None where the site makes none or it cannot be known


_ATX_OPEN = re.compile(r"^[ \t]*#{1,6}(?:[ \t]+|$)")
_ATX_CLOSE = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")
# a line the expansion may have rewritten (links made absolute, shortcodes, raw HTML, placeholders): its raw
# form, which goldmark's ids are made from, is no longer known
_REWRITTEN = re.compile(r"\]\(|\]\[|[<{\\\ue000-\ue00f]|!\[")
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)")  # code is never rewritten
_GITHUB_KEEP = r"[^\p{L}\p{Nd}_ -]+"  # `_unicode`
_KRAMDOWN_GFM_DROP = r"[^\p{L}\p{M}\p{N}\p{Pc}\- \t]+"  # `_unicode`
_SLUGGER_DROP = r"[^\p{L}\p{M}\p{N}\p{Pc} -]+"  # `_unicode`
_KRAMDOWN_LEAD = re.compile(r"^[^a-zA-Z]+")
_KRAMDOWN_DROP = re.compile(r"[^a-zA-Z0-9 -]+")
_ZOLA_UNSAFE = frozenset('"#%<>[\\]()^`{|}')


@cache
def _unicode(pattern: str) -> Any:
    import regex  # the standard library has no \p{...} classes

    return regex.compile(pattern)


def _github(line: str, ascii_only: bool = False) -> str | None:
    text = line.strip()
    if ascii_only:
        text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
        text = "".join(c for c in text if c.isascii())
    return _unicode(_GITHUB_KEEP).sub("", text).lower().replace(" ", "-")


def _blackfriday(line: str) -> str | None:
    out: list[str] = []
    dash = False
    for c in line:
        if c.isalpha() or unicodedata.category(c).startswith("N"):
            if dash and out:
                out.append("-")
            dash = False
            out.append(c.lower())
        else:
            dash = True
    return "".join(out)


def _kramdown_gfm(text: str) -> str | None:
    return _unicode(_KRAMDOWN_GFM_DROP).sub("", text.lower()).replace(" ", "-").replace("\t", "-")


def _kramdown(text: str) -> str | None:
    text = _KRAMDOWN_DROP.sub("", _KRAMDOWN_LEAD.sub("", text))
    return text.replace(" ", "-").lower() or "section"


def _ascii_slug(text: str) -> str | None:
    """The `slug` crate's `slugify` (Zola): ASCII letters and digits, lowercased; every other run one `-`.
    Non-ASCII letters are transliterated by `deunicode`: only those that decompose to ASCII are known here."""
    out: list[str] = []
    dash = True
    for c in text:
        if not c.isascii():
            base = "".join(x for x in unicodedata.normalize("NFKD", c) if not unicodedata.combining(x))
            if base.isascii():
                c = base
            elif unicodedata.category(c)[0] in "PZ":
                c = "-"  # punctuation and blanks: a separator in any transliteration (symbols may be words: © → "(c)")
            else:
                return None
        for x in c:
            if x.isascii() and x.isalnum():
                out.append(x.lower())
                dash = False
            elif not dash:
                out.append("-")
                dash = True
    return "".join(out).rstrip("-")


def _zola_safe(text: str) -> str | None:
    return "".join(c for c in text.replace(" ", "_") if c not in _ZOLA_UNSAFE)


def _slugger(text: str) -> str | None:
    return _unicode(_SLUGGER_DROP).sub("", text.lower()).replace(" ", "-")


# rule → (the id of one heading, from its raw line (True) or its text, how repeats are numbered)
_RULES: dict[str, tuple[Callable[[str], str | None], bool, str]] = {
    "github": (_github, True, "hugo"),
    "github-ascii": (lambda s: _github(s, ascii_only=True), True, "hugo"),
    "blackfriday": (_blackfriday, True, "hugo"),
    "kramdown": (_kramdown, False, "kramdown"),
    "kramdown-gfm": (_kramdown_gfm, False, "kramdown-gfm"),
    "zola-on": (_ascii_slug, False, "zola"),
    "zola-safe": (_zola_safe, False, "zola"),
    "zola-off": (lambda s: s, False, "zola"),
    "github-slugger": (_slugger, False, "slugger"),
}
RULES = frozenset(_RULES)


class _Pool:
    """The ids given so far, and how the generator numbers a repeat."""

    def __init__(self, style: str) -> None:
        self.style = style
        self.taken: set[str] = set()
        self.counts: dict[str, int] = {}

    def put(self, given: str) -> None:
        self.taken.add(given)

    def new(self, base: str) -> str:
        style, taken = self.style, self.taken
        if style == "hugo" and not base:
            base = "heading"
        if style == "kramdown-gfm":  # a counter per text, blind to the ids it makes
            n = self.counts[base] = self.counts.get(base, -1) + 1
            out = f"{base}-{n}" if n else base
        elif style == "kramdown":
            if base in self.counts:
                self.counts[base] += 1
                out = f"{base}-{self.counts[base]}"
            else:
                self.counts[base] = 0
                out = base
        elif style == "slugger":
            out = base
            while out in self.counts:
                self.counts[base] += 1
                out = f"{base}-{self.counts[base]}"
            self.counts[out] = 0
        else:  # Hugo and Zola: the first free `-1`, `-2`...
            out, k = base, 0
            while out in taken:
                k += 1
                out = f"{base}-{k}"
        taken.add(out)
        return out


def heading_text(node: Node) -> str:
    """The text of a heading: text and code spans' content, a line break as a newline; images' alt left out."""
    parts: list[str] = []
    for n in _inlines(node):
        name = n.name
        if name in ("text", "text_special"):
            content = n.meta.get("content")
            if isinstance(content, str):
                parts.append(content)
        elif name in ("softbreak", "hardbreak"):
            parts.append("\n")
    return "".join(parts)


def _inlines(node: Node) -> Iterator[Node]:
    for child in node.children:
        if child.name == "image":
            continue
        yield child
        yield from _inlines(child)


def headings(nodes: list[Node], source: bytes, rule: str, explicit: Explicit) -> list[Heading]:
    """The heading `nodes` (in order) with the id the generator gives each (None where unknown)."""
    found = _RULES.get(rule)
    pool = _Pool(found[2]) if found else None
    seen: dict[str, int] = {}
    out: list[Heading] = []
    for node in nodes:
        line = _line(node, source)
        text = heading_text(node)
        given: str | None = None
        written: str | None = None
        if explicit and line is not None and node.name == "heading":
            n = seen[line] = seen.get(line, -1) + 1
            written = explicit.get((line, n))
        if written is not None:
            given = written  # written on the heading: taken in its turn, as the generators do
            if pool is not None:
                pool.put(given)
        elif found is not None and pool is not None:
            make, raw, _ = found
            if raw:
                source_text = line if line is not None and not _REWRITTEN.search(_CODE_SPAN.sub("", line)) else None
            else:
                source_text = None if any(c.name == "image" for c in node.walk()) else text
            base = make(source_text) if source_text is not None else None
            given = (pool.new(base) or None) if base is not None else None  # an empty id: none at all
        out.append(Heading(int(node.meta.get("level") or 0), node.srcmap, text, given))
    return out


def _line(node: Node, source: bytes) -> str | None:
    """The heading's content as written (its last line; an ATX heading's `#`s gone), or None."""
    if not node.srcmap:
        return None
    block = source[node.srcmap[0]:node.srcmap[1]].decode("utf-8", "replace")
    if node.name == "heading":
        return explicit_key(block.split("\n", 1)[0])
    lines = block.split("\n")[:-1]  # a setext heading: its text lines, the underline gone
    return lines[-1].strip(" \t") if lines else None


def explicit_key(heading_line: str) -> str:
    """An ATX heading's content: its line without the `#`s (the key `headings` matches a `{#id}` by, from the line
    `strip_attributes` left)."""
    return _ATX_CLOSE.sub("", _ATX_OPEN.sub("", heading_line, count=1), count=1).strip(" \t")


# --- the copies' own ids ---------------------------------------------------------------------------
# Ghost renders every heading with an id of its own, whatever the HTML sent had (@tryghost/kg-utils' slugify
# for Ghost 4+, numbered -1, -2 by the Lexical renderer); seen on the Ghost test peer
_GHOST_DROP = re.compile(r"[\]\[!\"#$%&'()*+,./:;<=>?@\\^_{|}~]")
_GHOST_DASHES = re.compile(r"^-|-{2,}|-$")
# Forem (dev.to) names each heading `<a name>` from its text: lowercased, emoji and punctuation gone, blanks
# dashed (app/lib/redcarpet/render/html_rouge.rb); a heading with characters whose handling there is not
# certain here (those HTML escapes, which its sanitizer may give back as entities; emoji and other symbols
# beyond ASCII) is left unknown
_FOREM_DROP = r"[\p{P}$+<=>^`|~]"  # `_unicode`
_FOREM_UNSURE = r"[&<>\"'\p{Cf}]|(?=[^\x00-\x7f])\p{S}"  # `_unicode`


def ghost_ids(found: list[Heading]) -> list[str | None]:
    """The id Ghost gives each heading of a post created from our HTML."""
    used: dict[str, int] = {}
    out: list[str | None] = []
    for h in found:
        s = _GHOST_DASHES.sub("", re.sub(r"\s+", "-", _GHOST_DROP.sub("", h.text.strip().lower())))
        base = quote(s, safe="-_.!~*'()")
        if base in used:
            out.append(f"{base}-{used[base]}")
            used[base] += 1
        else:
            used[base] = 1
            out.append(base)
    return [x or None for x in out]


def forem_ids(found: list[Heading]) -> list[str | None]:
    """The anchor name dev.to gives each heading of the article's Markdown (None where not certain)."""
    out: list[str | None] = []
    for h in found:
        if _unicode(_FOREM_UNSURE).search(h.text):
            out.append(None)
            continue
        out.append(_RUBY_BLANKS.sub("-", _unicode(_FOREM_DROP).sub("", h.text.lower().strip(" \t\r\n\f\v\0"))) or None)
    return out


def id_map(found: list[Heading], theirs: list[str | None]) -> dict[str, str]:
    """The generator's id → the copy's, for each heading both are known for. Where the copy names two headings
    alike (Forem does not number repeats), a link to the later one would land on the first: it is left out,
    and goes to the post's page."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for h, copy in zip(found, theirs):
        if h.id and copy and copy not in taken:
            out.setdefault(h.id, copy)
        if copy:
            taken.add(copy)
    return out


_RUBY_BLANKS = re.compile(r"[ \t\r\n\f\v]+")  # Ruby's \s is ASCII
_HREF = re.compile(r'href="([^"#]*)#([^"]*)"')
_ID = re.compile(r'\sid="([^"]+)"')


def html_ids(text: str) -> dict[str, str]:
    """Every `id` the HTML carries, mapped to itself (a copy that keeps the HTML's ids keeps these)."""
    return {m.group(1): m.group(1) for m in _ID.finditer(text)} if ' id="' in text else {}


def local_html(text: str, page: str, ids: dict[str, str]) -> str:
    """Links to `page#x` whose target the copy has (`ids`: x → its id there) made `#id`: in-page again."""
    if not ids or not page or page not in text:
        return text

    def sub(m: re.Match[str]) -> str:
        if html.unescape(m.group(1)) != page:
            return m.group(0)
        frag = html.unescape(m.group(2))
        mine = ids.get(frag) or ids.get(unquote(frag))
        return f'href="#{html.escape(mine)}"' if mine else m.group(0)

    return _HREF.sub(sub, text)


def local_markdown(text: str, page: str, ids: dict[str, str], code: Sequence[tuple[int, int, str]] = ()) -> str:
    """The same for Markdown text: `](page#x)`, `](<page#x>)` and `[ref]: page#x`, never inside `code`
    (its ranges in `text`)."""
    if not ids or not page or page not in text:
        return text
    pattern = re.compile(r"(\]\(\s*<?|^[ ]{0,3}\[[^\]\n]+\]:[ \t]*<?)" + re.escape(page) + r"#([^\s)>\"]+)", re.M)

    def sub(m: re.Match[str]) -> str:
        if any(a <= m.start() < b for a, b, _ in code):
            return m.group(0)
        frag = m.group(2)
        mine = ids.get(frag) or ids.get(unquote(frag))
        return f"{m.group(1)}#{mine}" if mine else m.group(0)

    return pattern.sub(sub, text)
