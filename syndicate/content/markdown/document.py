"""The parsed, expanded body of a post: one parse, many outputs."""
from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from syndicate.content.markdown.dialect import DEFAULT, Dialect
from syndicate.content.markdown.embed import Embed, EmbedStyle

if TYPE_CHECKING:
    from syndicate.content.markdown.anchors import Explicit, Heading
    from syndicate.content.markdown.tree import Node
    from syndicate.content.source import Image


CodeRange = tuple[int, int, str]  # start, end, "block" | "span"
_TREES: OrderedDict[int, tuple[Document, Node]] = OrderedDict()
_TREES_KEPT = 8
# the HTML and plain text of the documents rendered last, as for the trees: every target of a post
# shares them, and a site's worth of them would not fit the memory budget (issue 17)
_OUTPUTS: OrderedDict[int, tuple[Document, dict[str, str]]] = OrderedDict()


def _char_offsets(data: bytes, offsets: list[int]) -> dict[int, int]:
    """Byte offsets (sorted) into UTF-8 `data` → character offsets, decoding each stretch once."""
    out: dict[int, int] = {}
    last_byte = last_char = 0
    for x in offsets:
        last_char += len(data[last_byte:x].decode("utf-8", "ignore"))
        last_byte = x
        out[x] = last_char
    return out


def _plain(embed: Embed) -> str:
    return embed.url


def _nothing(embed: Embed) -> str:
    return ""


# nodes that hold no block: inlines, and the blocks made of inlines only
_NO_BLOCKS = frozenset({"paragraph", "heading", "lheading", "table", "definition_term", "html_block", "hr",
                        "front_matter", "text", "text_special", "code_inline", "softbreak", "hardbreak", "html_inline",
                        "em", "strong", "strikethrough", "link", "autolink", "linkify", "image", "footnote_ref",
                        "footnote_inline", "footnote_ref_anchor", "todo_checkbox"})


def _heading_nodes(root: Node) -> list[Node]:
    """The headings under `root`, in document order (only the nodes that can hold blocks are visited)."""
    out: list[Node] = []
    stack = [iter(root.children)]
    while stack:
        for child in stack[-1]:
            name = child.name
            if name == "heading" or name == "lheading":
                out.append(child)
            elif name not in _NO_BLOCKS:
                stack.append(iter(child.children))
                break
        else:
            stack.pop()
    return out


def _blocks(root: Node, found: list[CodeRange]) -> None:
    """The code blocks under `root` (byte offsets, in no order): only the nodes that can hold blocks are visited."""
    stack = [root]
    while stack:
        for child in stack.pop().children:
            name = child.name
            if name == "fence" or name == "code_block":
                if child.srcmap:
                    found.append((*child.srcmap, "block"))
            elif name not in _NO_BLOCKS:
                stack.append(child)


@dataclass
class Document:
    """The post's Markdown (in its site's `dialect`) with every shortcode, Liquid tag and JSX component resolved.

    `segments` alternates Markdown text and `Embed`s (each embed stands on its
    own line); links and images in the text are absolute URLs already. The text
    is parsed once (`tree`); HTML, plain text and the summary all come from it.
    """

    segments: list[str | Embed] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)  # body images, in order, absolute, with alt
    warnings: list[str] = field(default_factory=list)
    # per segment, where its code is (offsets into the segment); None: scanned when first needed
    code: list[list[CodeRange]] | None = field(default=None, repr=False, compare=False)
    dialect: Dialect = DEFAULT
    summary_cut: int | None = None  # where the summary divider (`<!--more-->`) was, as an offset into `source`
    explicit_ids: Explicit = field(default_factory=dict)  # `{#id}` written on headings (`anchors.Explicit`)
    _cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def embeds(self) -> list[Embed]:
        """The embeds, in order."""
        return [s for s in self.segments if isinstance(s, Embed)]

    def markdown(self, embed: EmbedStyle | None = None, outside_code: Callable[[str], str] | None = None) -> str:
        """The body as Markdown; each embed rendered by `embed` (default: its URL).

        `outside_code` rewrites each stretch of text outside code (code blocks and
        spans are passed through untouched, and so are the rendered embeds).
        """
        style = embed or _plain
        if outside_code is None:
            return "".join(s if isinstance(s, str) else style(s) for s in self.segments)
        out: list[str] = []
        for k, seg in enumerate(self.segments):
            if not isinstance(seg, str):
                out.append(style(seg))
                continue
            pos = 0
            for a, b, _ in self.code_ranges(k):
                if a > pos:
                    out.append(outside_code(seg[pos:a]))
                out.append(seg[a:b])
                pos = b
            if pos < len(seg):
                out.append(outside_code(seg[pos:]))
        return "".join(out)

    def code_ranges(self, k: int) -> list[CodeRange]:
        """Where the code of text segment `k` is (start, end, "block" | "span"): from `prepare`'s scan, else the tree's."""
        if self.code is None or len(self.code) != len(self.segments):
            self.code = self._tree_code()
        return self.code[k]

    def code_blocks(self, k: int) -> list[CodeRange]:
        """The code blocks of text segment `k` (`code_ranges` without the spans), found without visiting the
        inlines when the spans are not known yet."""
        if self.code is not None and len(self.code) == len(self.segments):
            return [r for r in self.code[k] if r[2] == "block"]
        blocks = self._cache.get("blocks")
        if blocks is None:
            blocks = self._cache["blocks"] = self._tree_code(blocks_only=True)
        return list(blocks[k])

    def _tree_code(self, blocks_only: bool = False) -> list[list[CodeRange]]:
        """Each segment's code blocks and spans, from the one parse (a scan where it had to defuse the text)."""
        from syndicate.content.markdown.tree import exact

        source = self.source
        if not exact(self.tree, source):
            from syndicate.content.markdown.scan import code_ranges

            return [[r for r in code_ranges(s) if not blocks_only or r[2] == "block"] if isinstance(s, str) else []
                    for s in self.segments]
        data = self._bytes()
        found: list[tuple[int, int, str]] = []
        if blocks_only:
            _blocks(self.tree, found)
        else:
            for node in self.tree.walk():
                name = node.name
                if name in ("fence", "code_block", "code_inline") and node.srcmap:
                    a, b = node.srcmap
                    if name == "code_inline" and data[a:a + 1] != b"`":
                        continue  # a map that is off: never guess
                    found.append((a, b, "span" if name == "code_inline" else "block"))
        found.sort()
        ascii_only = len(data) == len(source)
        starts: list[int] = []  # each segment's first character in `source`
        pos = embeds = 0
        for seg in self.segments:
            starts.append(pos)
            if isinstance(seg, str):
                pos += len(seg)
            else:
                pos += len(f"\ue002{embeds}\ue003")
                embeds += 1
        chars = _char_offsets(data, sorted({x for a, b, _ in found for x in (a, b)})) if not ascii_only else {}
        out: list[list[CodeRange]] = [[] for _ in self.segments]
        for a, b, kind in found:
            if not ascii_only:
                a, b = chars[a], chars[b]
            k = bisect_right(starts, a) - 1  # the last segment starting at or before `a`
            seg = self.segments[k]
            if isinstance(seg, str) and b - starts[k] <= len(seg):
                out[k].append((a - starts[k], b - starts[k], kind))
        return out

    @property
    def source(self) -> str:
        """The text that is parsed: the segments, each embed as its placeholder paragraph (`\\ue002k\\ue003`)."""
        if len(self.segments) == 1 and isinstance(self.segments[0], str):
            return self.segments[0]
        parts: list[str] = []
        k = 0
        for seg in self.segments:
            if isinstance(seg, str):
                parts.append(seg)
            else:
                parts.append(f"\ue002{k}\ue003")
                k += 1
        return "".join(parts)

    @property
    def tree(self) -> Node:
        """The one parse of `source`, in the post's dialect.

        Held for the few documents rendered last (every target of a post renders in turn), not
        by the document: a site's worth of trees would not fit the memory budget; the outputs
        made from it are kept instead.
        """
        hit = _TREES.get(id(self))
        if hit is not None and hit[0] is self:
            _TREES.move_to_end(id(self))
            return hit[1]
        from syndicate.content.markdown.tree import parse

        tree = parse(self.source, self.dialect)
        _TREES[id(self)] = (self, tree)
        if len(_TREES) > _TREES_KEPT:
            _TREES.popitem(last=False)
        return tree

    def _bytes(self) -> bytes:
        return self.source.encode("utf-8")

    def _outputs(self) -> dict[str, str]:
        """The outputs rendered from this document's tree while it is among the last few rendered."""
        hit = _OUTPUTS.get(id(self))
        if hit is not None and hit[0] is self:
            _OUTPUTS.move_to_end(id(self))
            return hit[1]
        outputs: dict[str, str] = {}
        _OUTPUTS[id(self)] = (self, outputs)
        if len(_OUTPUTS) > _TREES_KEPT:
            _OUTPUTS.popitem(last=False)
        return outputs

    def html(self, embed: EmbedStyle | None = None) -> str:
        """HTML as the site's generator renders it; embeds via `embed` (default: a link paragraph)."""
        from syndicate.content.markdown.render import to_html

        if embed is not None:
            return to_html(self.tree, self.dialect, self.embeds, embed, self._bytes(), self._ids())
        # the default style is the same for every target: one render per post (Ghost, WordPress, ...)
        outputs = self._outputs()
        hit = outputs.get("html")
        if hit is None:
            hit = outputs["html"] = to_html(self.tree, self.dialect, self.embeds, None, self._bytes(), self._ids())
        return hit

    def headings(self) -> list[Heading]:
        """Every heading, in order, with the id the site's generator gives it (`anchors`)."""
        hit = self._cache.get("headings")
        if hit is None:
            from syndicate.content.markdown.anchors import headings
            from syndicate.content.markdown.tree import exact

            tree, data = self.tree, self._bytes()
            nodes = _heading_nodes(tree) if exact(tree, data) else []  # maps into a defused copy: none
            hit = self._cache["headings"] = headings(nodes, data, self.dialect.anchors, self.explicit_ids) if nodes else []
        return list(hit)

    def _ids(self) -> dict[tuple[int, int], str]:
        if not self.dialect.anchors and not self.explicit_ids:
            return {}  # the generator gives no heading an id, and the author wrote none
        return {h.at: h.id for h in self.headings() if h.id and h.at}

    def text(self) -> str:
        """Plain text: no markup, links as their text, images dropped, code kept, embeds as URLs."""
        outputs = self._outputs()
        hit = outputs.get("text")
        if hit is None:
            from syndicate.content.markdown.plain import tree_text

            hit = outputs["text"] = tree_text(self.tree, self.dialect, [e.url for e in self.embeds])
        return hit

    @property
    def summary(self) -> str:
        """The post's own summary as plain text, whitespace collapsed.

        All the text above the summary divider (`<!--more-->`, Jekyll's
        `excerpt_separator`) when there is one, else the first real paragraph
        (not a heading, image, code or embed; in an HTML body, the first `<p>`).
        """
        hit = self._cache.get("summary")
        if hit is None:
            from syndicate.content.markdown.plain import first_paragraph, summary_text

            text = ""
            if self.summary_cut is not None:
                cut = len(self.source[: self.summary_cut].encode("utf-8"))
                text = summary_text(self.tree, self.dialect, cut)
            hit = self._cache["summary"] = text or first_paragraph(self.tree, self.dialect, self.source)
        return str(hit)

    @property
    def first_paragraph(self) -> str:
        """The same as `summary` (what `Post.excerpt` reads): the divider wins over the first paragraph."""
        return self.summary
