"""The syntax tree → plain text, for social posts, summaries and excerpts.

Choices: link text is kept (never the URL), autolinks and bare URLs stay as the
URL, images are dropped (platforms attach them separately), code is kept
verbatim, headings become their own paragraph, bullets become "•", task items
"☐"/"☑", table cells are joined with " | ", HTML tags are stripped and entities
decoded, footnotes follow the text as "[1] …". Soft line breaks become a space,
or nothing between CJK characters.
"""
from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from syndicate.content.markdown.dialect import DEFAULT, Dialect
from syndicate.content.markdown.embed import EMBEDDED
from syndicate.content.markdown.tree import Node, parse

_SOFT = "\ue00b"  # a soft line break, until its neighbours are known
_SOFT_AT = re.compile(f"(.?){_SOFT}(.?)", re.S)
_BLOCK_TAG = re.compile(
    r"</?(?:p|div|li|ul|ol|dl|dd|dt|tr|td|th|table|thead|tbody|tfoot|caption|h[1-6]|pre|blockquote|figure|figcaption|"
    r"details|summary|section|article|aside|header|footer|main|nav|hr|video|audio|picture|iframe)\b[^<>]*>|<!--.*?-->",
    re.I | re.S,
)
_BR = re.compile(r"<br\s*/?>", re.I)
_TAG = re.compile(r"</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>|<!--.*?-->", re.S)
_P = re.compile(r"<p(?:\s[^>]*)?>(.*?)</p\s*>", re.S | re.I)
_HTML_LINE = re.compile(r"^ {0,3}<[A-Za-z/!]", re.M)
_SKIP_TAGS = ("<img", "<figure", "<picture", "<video")
_INLINE_MD = re.compile(r"!?\[([^\]\n]*)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)|\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)|`")


def _wide(ch: str) -> bool:
    return ord(ch) >= 0x2E80 and unicodedata.east_asian_width(ch) in "WF"


def _soft(m: re.Match[str]) -> str:
    return _joined(m.group(1), m.group(2))


def _joined(a: str, b: str) -> str:
    return a + b if a and b and _wide(a) and _wide(b) else f"{a} {b}"


def _soften(text: str) -> str:
    """`_SOFT_AT.sub(_soft, text)`, each match found from its mark (the pattern, which starts with `.?`, is
    tried at every character by the regex engine)."""
    out: list[str] = []
    pos, n = 0, len(text)
    i = text.find(_SOFT)
    while i >= 0:
        if i > pos:  # the character before the mark (no mark: `i` is the first after `pos`)
            a, start = text[i - 1], i - 1
        elif i + 1 < n and text[i + 1] == _SOFT:  # `.?` takes this mark when the next one follows it
            a, start, i = _SOFT, i, i + 1
        else:
            a, start = "", i
        b = text[i + 1:i + 2]  # any character, a mark too (re.S)
        out.append(text[pos:start])
        out.append(_joined(a, b))
        pos = i + 1 + len(b)
        i = text.find(_SOFT, pos)
    out.append(text[pos:])
    return "".join(out)


def html_text(raw: str) -> str:
    """Raw HTML as plain text: tags out, one line per element; Markdown written inside it read as text too."""
    raw = _TAG.sub("", _BLOCK_TAG.sub("\n", _BR.sub("\n", raw)))  # inline elements do not break a line
    lines = (_INLINE_MD.sub(lambda m: m.group(1) or "", x.strip()) for x in raw.split("\n") if x.strip())
    return "\n".join(html.unescape(x).strip() for x in lines if x.strip())


class TextRenderer:
    """One tree → plain text."""

    def __init__(self, dialect: Dialect, embed_urls: list[str]) -> None:
        self.dialect = dialect
        self.embed_urls = embed_urls
        self.numbers: dict[Any, int] = {}  # footnote def_id → number, in order of first reference

    def document(self, root: Node) -> str:
        parts = self.blocks([c for c in root.children if c.name != "footnote_container"])
        notes = next((c for c in root.children if c.name == "footnote_container"), None)
        if notes is not None and self.numbers:
            defs = {d.meta.get("def_id"): d for d in notes.children}
            for def_id, n in sorted(self.numbers.items(), key=lambda kv: kv[1]):
                if def_id in defs:
                    parts.append(f"[{n}] " + "\n".join(self.blocks(list(defs[def_id].children))))
        return "\n\n".join(parts)

    def blocks(self, nodes: Sequence[Node], depth: int = 0) -> list[str]:
        out = []
        for node in nodes:
            text = self.block(node, depth)
            if text:
                out.append(text)
        return out

    def block(self, node: Node, depth: int = 0) -> str:
        name = node.name
        if depth > MAX_DEPTH:  # hostile nesting: the rest is its text
            return flat_text(node)
        if name == "paragraph":
            url = self.embed_url(node)
            return url if url is not None else self.inline(node.children)
        if name in ("heading", "lheading"):
            return self.inline(node.children)
        if name in ("fence", "code_block"):
            return str(node.meta.get("content", "")).strip("\n")
        if name == "html_block":
            return html_text(node.meta["content"]) if self.dialect.html else ""
        if name == "blockquote":
            return "\n\n".join(self.blocks(list(node.children), depth + 1))
        if name in ("bullet_list", "ordered_list"):
            return self.list_block(node, depth)
        if name == "table":
            rows = []
            for part in node.children:
                for row in part.children:
                    rows.append(" | ".join(self.inline(c.children) for c in row.children).strip())
            return "\n".join(rows)
        if name == "definition_list":
            lines = []
            for child in node.children:
                lines.append(self.inline(child.children) if child.name == "definition_term"
                             else "\n".join(self.item(child, depth)))
            return "\n".join(x for x in lines if x)
        if name in _SKIP_BLOCKS:
            return ""
        return self.inline([node]) if name in _INLINE_NAMES else "\n\n".join(self.blocks(list(node.children), depth))

    def item(self, node: Node, depth: int) -> list[str]:
        """A list item's or definition's children as lines (tight paragraphs are bare inlines)."""
        out: list[str] = []
        run: list[Node] = []
        for child in node.children:
            if child.name in _INLINE_NAMES or child.name == "todo_checkbox":
                run.append(child)
                continue
            if run:
                out.append(self.inline(run))
                run = []
            text = self.block(child, depth + 1)
            if text:
                out.append(text)
        if run:
            out.append(self.inline(run))
        return [x for x in out if x]

    def list_block(self, node: Node, depth: int) -> str:
        ordered = node.name == "ordered_list"
        n = int(node.meta.get("start") or 1) if ordered else 0
        delim = str(node.meta.get("marker") or ".") if ordered else ""
        rows = []
        for item in node.children:
            marker = f"{n}{delim}" if ordered else "•"
            n += 1
            body = "\n".join(self.item(item, depth)).replace("\n", "\n" + " " * (len(marker) + 1))
            rows.append(f"{marker} {body}".rstrip())
        text = "\n".join(rows)
        return "\n".join("  " + r for r in text.split("\n")) if depth else text

    def inline(self, nodes: Sequence[Node]) -> str:
        parts: list[str] = []
        self._inline(nodes, parts)
        text = "".join(parts)
        return (_soften(text) if _SOFT in text else text).strip()

    def _inline(self, nodes: Sequence[Node], parts: list[str], depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            parts.extend(flat_text(n) for n in nodes)
            return
        for node in nodes:
            name = node.name
            if name in ("text", "text_special", "code_inline"):
                parts.append(node.meta["content"] if name != "code_inline"
                             else "".join(c.meta.get("content", "") for c in node.children))
            elif name == "softbreak":
                parts.append(_SOFT)
            elif name == "hardbreak":
                parts.append("\n")
            elif name == "html_inline":
                if _BR.match(node.meta["content"]):
                    parts.append("\n")
            elif name == "todo_checkbox":
                parts.append("☑" if node.meta.get("checked") else "☐")
            elif name == "footnote_ref":
                self.numbers.setdefault(node.meta.get("def_id"), len(self.numbers) + 1)
            elif name not in ("image", "footnote_ref_anchor"):
                self._inline(node.children, parts, depth + 1)

    def embed_url(self, node: Node) -> str | None:
        """The URL of the embed a paragraph stands for ("" when unknown); None for any other paragraph."""
        k = embed_index(node)
        if k is None:
            return None
        return self.embed_urls[k] if k < len(self.embed_urls) else ""


def embed_index(node: Node) -> int | None:
    """The embed a paragraph holding only an embed placeholder stands for."""
    kids = node.children
    if len(kids) == 1 and kids[0].name == "text" and "\ue002" in (content := kids[0].meta["content"]):
        m = EMBEDDED.fullmatch(content.strip())
        if m is not None:
            return int(m.group(1))
    return None


MAX_DEPTH = 48  # deeper nesting (hostile input) is read as flat text: Python's stack stays shallow


def flat_text(node: Node) -> str:
    """All the text under `node`, with no structure (walked by the parser's own iterator)."""
    return " ".join(str(n.meta["content"]) for n in node.walk() if n.name in ("text", "text_special")
                    and isinstance(n.meta.get("content"), str))


_INLINE_NAMES = frozenset({"text", "text_special", "code_inline", "softbreak", "hardbreak", "html_inline", "em",
                           "strong", "strikethrough", "link", "autolink", "linkify", "image", "footnote_ref",
                           "footnote_inline"})
_SKIP_BLOCKS = frozenset({"hr", "front_matter", "footnote_container"})


def tree_text(root: Node, dialect: Dialect, embed_urls: list[str]) -> str:
    """The whole tree as plain text, paragraphs separated by a blank line."""
    return TextRenderer(dialect, embed_urls).document(root)


def to_text(markdown: str, dialect: Dialect = DEFAULT) -> str:
    """Markdown (a front-matter summary, a title) as plain text."""
    return tree_text(parse(markdown, dialect), dialect, [])


def plain_field(text: str) -> str:
    """A plain-text field (a title): entities decoded, whitespace collapsed."""
    if len(text) > 4096:
        return _plain_field(text)
    return _plain_fields(text)  # every target of a post asks for its title and excerpt


def _plain_field(text: str) -> str:
    return " ".join((html.unescape(text) if "&" in text else text).split())


_plain_fields = lru_cache(maxsize=1024)(_plain_field)


def first_paragraph(root: Node, dialect: Dialect, source: str, before: int | None = None) -> str:
    """The first real paragraph (not a heading, image, code or embed) as plain text, whitespace collapsed.

    In a body written mostly as raw HTML, the first `<p>` with text counts as a paragraph
    too (never `<pre>`). `before`: only blocks starting before this byte offset count.
    """
    renderer = TextRenderer(dialect, [])
    first_p = ""
    mostly_html = _mostly_html(source)
    in_pre = 0  # inside a raw <pre> that blank lines cut into several blocks
    for node in root.children:
        if before is not None and node.srcmap is not None and node.srcmap[0] >= before:
            break
        raw = _raw_html(node)
        was_pre = in_pre
        if "pre" in raw:
            in_pre = max(0, in_pre + raw.count("<pre") - raw.count("</pre"))
        if node.name == "paragraph" and (was_pre or in_pre or "</pre" in raw):
            continue
        if node.name == "html_block" and dialect.html and "<p" in (raw := node.meta["content"]).lower():
            for m in _P.finditer(raw):
                text = " ".join(html_text(m.group(1)).split())
                if text:
                    if mostly_html:
                        return text
                    first_p = first_p or text
                    break
        if node.name != "paragraph" or embed_index(node) is not None or _starts_with_image(node):
            continue
        text = " ".join(renderer.inline(node.children).split())
        if text:
            return text
    return first_p


def summary_text(root: Node, dialect: Dialect, before: int) -> str:
    """The text of the top-level blocks that start before byte `before` (the summary divider), embeds left out."""
    renderer = TextRenderer(dialect, [])
    kept = [n for n in root.children if n.srcmap is not None and n.srcmap[0] < before and n.name != "footnote_container"
            and not (n.name == "paragraph" and embed_index(n) is not None)]
    return " ".join("\n".join(renderer.blocks(kept)).split())


def _raw_html(node: Node) -> str:
    """The raw HTML of a top-level block, lowercased (a paragraph's inline tags)."""
    if node.name == "html_block":
        return str(node.meta["content"]).lower()
    if node.name == "paragraph":
        return "".join(str(c.meta["content"]) for c in node.children if c.name == "html_inline").lower()
    return ""


def _starts_with_image(node: Node) -> bool:
    for child in node.children:
        name = child.name
        if name == "text" and not child.meta["content"].strip():
            continue
        if name == "image":
            return True
        if name == "link":
            return bool(child.children) and child.children[0].name == "image"
        if name == "html_inline":
            return str(child.meta["content"]).lower().startswith(_SKIP_TAGS)
        return False
    return False


def _mostly_html(markdown: str) -> bool:
    """Whether most non-blank lines are raw HTML (start with a tag)."""
    if "<" not in markdown:
        return False
    tags = len(_HTML_LINE.findall(markdown))
    return tags * 2 > markdown.count("\n") + 1 - markdown.count("\n\n")  # about the non-blank lines
