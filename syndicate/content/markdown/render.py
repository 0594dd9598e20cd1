"""The syntax tree → HTML, as the site's generator renders it.

Footnotes take goldmark's shape (`<sup id="fnref:1">`, a `<div class="footnotes">` list at the
end, numbered in order of first reference); task items are disabled checkboxes; raw HTML is
omitted when the dialect says so (goldmark without `unsafe`). Embeds stand in the tree as
paragraphs holding only their placeholder and are rendered by the caller's style (default: a
paragraph linking to the embed's URL).
"""
from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from typing import Any

from syndicate.content.markdown.dialect import Dialect
from syndicate.content.markdown.embed import EMBEDDED, Embed, EmbedStyle
from syndicate.content.markdown.plain import MAX_DEPTH, flat_text
from syndicate.content.markdown.tree import Node

_ALIGN = {"left": ' align="left"', "right": ' align="right"', "center": ' align="center"'}
_BACKREF = '&#160;<a href="#{ref}" class="footnote-backref" role="doc-backlink">&#x21a9;&#xfe0e;</a>'
FOOTNOTES = '<div class="footnotes" role="doc-endnotes">'  # the notes, rendered last
# each link back from a note to its number (a copy whose platform drops the numbers' ids leaves them out)
_SPACE, _, _LINK = _BACKREF.partition("<a ")  # an empty note's link comes without the space
BACKREFS = re.compile(f"(?:{re.escape(_SPACE)})?" + re.escape("<a " + _LINK).replace(re.escape("{ref}"), '[^"]*'))


def link_paragraph(embed: Embed) -> str:
    url = html.escape(embed.url)
    return f'<p><a href="{url}">{url}</a></p>\n'


def esc(text: str) -> str:
    return html.escape(text, quote=False) if ("&" in text or "<" in text or ">" in text) else text


def attr(text: str) -> str:
    return html.escape(text)


class HtmlRenderer:
    """One tree → HTML; `embeds` are the document's, indexed by their placeholders."""

    def __init__(self, dialect: Dialect, embeds: list[Embed], style: EmbedStyle | None = None,
                 source: bytes = b"", ids: dict[tuple[int, int], str] | None = None) -> None:
        self.dialect = dialect
        self.ids = ids or {}  # heading srcmap → the id its generator gives it
        self.source = source  # the parsed text as UTF-8 (node srcmaps are offsets into it)
        self.embeds = embeds
        self.style = style or link_paragraph
        self.numbers: dict[Any, int] = {}  # footnote def_id → its number (order of first reference)
        self.refs: dict[Any, int] = {}  # footnote def_id → how many references it has had
        self.depth = 0
        self.out: list[str] = []

    def render(self, root: Node) -> str:
        out = self.out
        footnotes: Node | None = None
        for node in root.children:
            if node.name == "footnote_container":
                footnotes = node
            else:
                self.block(node, False)
        if footnotes is not None and self.numbers:
            self.footnotes(footnotes)
        return "".join(out)

    # --- blocks ---------------------------------------------------------------------------
    def block(self, node: Node, tight: bool) -> None:
        name = node.name
        out = self.out
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:  # hostile nesting: the rest is its text
                out.append(f"<p>{esc(flat_text(node))}</p>\n")
            else:
                self._block(node, name, tight)
        finally:
            self.depth -= 1

    def _block(self, node: Node, name: str, tight: bool) -> None:
        out = self.out
        if name == "paragraph":
            kids = node.children
            if len(kids) == 1 and kids[0].name == "text" and "\ue002" in (content := kids[0].meta["content"]):
                m = EMBEDDED.fullmatch(content.strip())
                if m is not None and int(m.group(1)) < len(self.embeds):
                    out.append(self.style(self.embeds[int(m.group(1))]))
                    return
            if tight:
                self.inlines(kids)
                out.append("\n")
            else:
                out.append("<p>")
                self.inlines(kids)
                out.append("</p>\n")
        elif name in ("heading", "lheading"):
            level = node.meta["level"]
            hid = self.ids.get(node.srcmap) if node.srcmap else None
            out.append(f'<h{level} id="{attr(hid)}">' if hid else f"<h{level}>")
            self.inlines(node.children)
            out.append(f"</h{level}>\n")
        elif name in ("fence", "code_block"):
            info = (node.meta.get("info") or "").strip().split(None, 1)
            lang = info[0].strip("{}.").split(",")[0] if info else ""
            cls = f' class="language-{attr(lang)}"' if lang else ""
            out.append(f"<pre><code{cls}>{esc(node.meta['content'])}</code></pre>\n")
        elif name == "html_block":
            if self.dialect.html:
                out.append(node.meta["content"])
        elif name == "blockquote":
            out.append("<blockquote>\n")
            self.blocks(node.children, False)
            out.append("</blockquote>\n")
        elif name in ("bullet_list", "ordered_list"):
            self.list_block(node)
        elif name == "hr":
            out.append("<hr />\n")
        elif name == "table":
            self.table(node)
        elif name == "definition_list":
            out.append("<dl>\n")
            loose = self.loose(node)
            for child in node.children:
                if child.name == "definition_term":
                    out.append("<dt>")
                    self.inlines(child.children)
                    out.append("</dt>\n")
                else:
                    out.append("<dd>")
                    self.items(child.children, loose)
                    out.append("</dd>\n")
            out.append("</dl>\n")
        elif name == "front_matter":
            return
        elif name in _INLINE:  # an inline node where a block was expected
            self.inlines([node])
        else:  # a node type we do not know: its content
            self.blocks(node.children, tight)

    def blocks(self, nodes: Sequence[Node], tight: bool) -> None:
        for node in nodes:
            self.block(node, tight)

    def items(self, nodes: Sequence[Node], loose: bool = False) -> None:
        """A list item's or definition's children: tight paragraphs are hidden (their inlines stand alone)."""
        out = self.out
        pending: list[Node] = []

        def flush() -> None:
            out.append("<p>" if loose else "")
            self.inlines(pending)
            out.append("</p>\n" if loose else "")
            pending.clear()

        for node in nodes:
            if _INLINE.get(node.name) is not None or node.name == "todo_checkbox":
                pending.append(node)
                continue
            if pending:
                flush()
                out.append("" if loose else "\n")
            self.block(node, False)
        if pending:
            flush()

    def loose(self, node: Node) -> bool:
        """Whether a definition list has a blank line between a term and its definitions (its `<dd>` hold `<p>`)."""
        src = self.source
        kids = node.children
        for a, b in zip(kids, kids[1:]):
            if a.name == "definition_term" and b.name != "definition_term" and a.srcmap and b.srcmap:
                gap = src[a.srcmap[1]:b.srcmap[0]]
                if gap.count(b"\n") >= 2 and b"\n\n" in gap.replace(b" ", b"").replace(b"\t", b""):
                    return True
        return False

    def list_block(self, node: Node) -> None:
        out = self.out
        if node.name == "ordered_list":
            start = node.meta.get("start", 1)
            out.append("<ol>\n" if start in (1, None) else f'<ol start="{start}">\n')
        else:
            out.append("<ul>\n")
        for item in node.children:
            out.append("<li>")
            self.items(item.children)
            out.append("</li>\n")
        out.append("</ol>\n" if node.name == "ordered_list" else "</ul>\n")

    def table(self, node: Node) -> None:
        out = self.out
        aligns = node.meta.get("alignments") or []
        out.append("<table>\n")
        for part in node.children:
            tag = "th" if part.name == "thead" else "td"
            out.append(f"<{part.name}>\n")
            for row in part.children:
                out.append("<tr>\n")
                for k, cell in enumerate(row.children):
                    align = _ALIGN.get(aligns[k], "") if k < len(aligns) else ""
                    out.append(f"<{tag}{align}>")
                    self.inlines(cell.children)
                    out.append(f"</{tag}>\n")
                out.append("</tr>\n")
            out.append(f"</{part.name}>\n")
        out.append("</table>\n")

    def footnotes(self, container: Node) -> None:
        out = self.out
        defs = {d.meta.get("def_id"): d for d in container.children}
        out.append(f"{FOOTNOTES}\n<hr>\n<ol>\n")
        for def_id, n in sorted(self.numbers.items(), key=lambda kv: kv[1]):
            node = defs.get(def_id)
            if node is None:
                continue
            out.append(f'<li id="fn:{n}">\n')
            kids = list(node.children)
            back = "".join(_BACKREF.format(ref=_ref_id(n, k)) for k in range(self.refs.get(def_id, 1)))
            for k, child in enumerate(kids):
                if k == len(kids) - 1 and child.name == "paragraph":
                    out.append("<p>")
                    self.inlines(child.children)
                    out.append(back + "</p>\n")
                else:
                    self.block(child, False)
            if not kids or kids[-1].name != "paragraph":
                out.append(f"<p>{back[6:]}</p>\n")
            out.append("</li>\n")
        out.append("</ol>\n</div>\n")

    # --- inlines --------------------------------------------------------------------------
    def inlines(self, nodes: Sequence[Node]) -> None:
        if self.depth > MAX_DEPTH:
            self.out.append(esc(" ".join(flat_text(n) for n in nodes)))
            return
        self.depth += 1
        try:
            self._inlines(nodes)
        finally:
            self.depth -= 1

    def _inlines(self, nodes: Sequence[Node]) -> None:
        out = self.out
        for node in nodes:
            name = node.name
            if name == "text":  # most nodes: inline here, as HtmlRenderer.text renders it
                content = node.meta["content"]
                out.append(html.escape(content, quote=False)
                           if ("&" in content or "<" in content or ">" in content) else content)
                continue
            if name == "softbreak":
                out.append("\n")
                continue
            handler = _INLINE.get(name)
            if handler is None:
                if node.name == "todo_checkbox":
                    checked = ' checked=""' if node.meta.get("checked") else ""
                    self.out.append(f'<input{checked} disabled="" type="checkbox" />')
                elif node.name != "footnote_ref_anchor":
                    self.inlines(node.children)
            else:
                handler(self, node)

    def text(self, node: Node) -> None:
        self.out.append(esc(node.meta["content"]))

    def link(self, node: Node) -> None:
        title = node.meta.get("title")
        t = f' title="{attr(title)}"' if title else ""
        self.out.append(f'<a href="{attr(node.meta["url"])}"{t}>')
        self.inlines(node.children)
        self.out.append("</a>")

    def image(self, node: Node) -> None:
        title = node.meta.get("title")
        t = f' title="{attr(title)}"' if title else ""
        self.out.append(f'<img src="{attr(node.meta["url"])}" alt="{attr(plain_alt(node))}"{t} />')

    def code(self, node: Node) -> None:
        self.out.append(f"<code>{esc(''.join(c.meta.get('content', '') for c in node.children))}</code>")

    def raw(self, node: Node) -> None:
        if self.dialect.html:
            self.out.append(node.meta["content"])

    def footnote_ref(self, node: Node) -> None:
        def_id = node.meta.get("def_id")
        n = self.numbers.setdefault(def_id, len(self.numbers) + 1)
        k = self.refs[def_id] = self.refs.get(def_id, 0) + 1
        self.out.append(f'<sup id="{_ref_id(n, k - 1)}"><a href="#fn:{n}" class="footnote-ref" role="doc-noteref">{n}</a></sup>')


def _ref_id(n: int, k: int) -> str:
    """goldmark's id of the `k`-th (from 0) reference to footnote `n`."""
    return f"fnref:{n}" if k == 0 else f"fnref{k}:{n}"


def plain_alt(node: Node) -> str:
    """An image's alt text: the plain text of its description."""
    parts: list[str] = []
    for child in node.walk(include_self=False):
        content = child.meta.get("content")
        if isinstance(content, str) and child.name in ("text", "text_special", "code_inline"):
            parts.append(content)
    return "".join(parts)


def _tag(tag: str) -> Callable[[HtmlRenderer, Node], None]:
    def render(self: HtmlRenderer, node: Node) -> None:
        self.out.append(f"<{tag}>")
        self.inlines(node.children)
        self.out.append(f"</{tag}>")

    return render


def _const(text: str) -> Callable[[HtmlRenderer, Node], None]:
    def render(self: HtmlRenderer, node: Node) -> None:
        self.out.append(text)

    return render


def _footnote_inline(self: HtmlRenderer, node: Node) -> None:
    self.inlines(node.children)


_INLINE: dict[str, Callable[[HtmlRenderer, Node], None]] = {
    "text": HtmlRenderer.text, "text_special": HtmlRenderer.text, "em": _tag("em"), "strong": _tag("strong"),
    "strikethrough": _tag("del"), "link": HtmlRenderer.link, "autolink": HtmlRenderer.link,
    "linkify": HtmlRenderer.link, "image": HtmlRenderer.image, "code_inline": HtmlRenderer.code,
    "html_inline": HtmlRenderer.raw, "softbreak": _const("\n"), "hardbreak": _const("<br />\n"),
    "footnote_ref": HtmlRenderer.footnote_ref, "footnote_inline": _footnote_inline,
}


def to_html(root: Node, dialect: Dialect, embeds: list[Embed], style: EmbedStyle | None = None,
            source: bytes = b"", ids: dict[tuple[int, int], str] | None = None) -> str:
    """HTML of the tree `root` parsed from `source` (UTF-8); embeds rendered by `style` (default: a link paragraph);
    headings with the ids `ids` gives them (by their srcmap)."""
    return HtmlRenderer(dialect, embeds, style, source, ids).render(root)
