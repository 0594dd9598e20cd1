"""State shared by the expansion passes of one post: protected text, embeds, warnings, URLs.

Protected regions (code, `{% raw %}`, literal shortcode text) are swapped for
private-use placeholders so that no later pass can touch them; embeds are
placeholders too until the body is split into `Document.segments`.
"""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from syndicate.content.markdown.document import CodeRange, Embed
from syndicate.content.markdown.embed import EMBED_CLOSE, EMBED_OPEN

if TYPE_CHECKING:
    from syndicate.content.post import Post

PROTECT_OPEN, PROTECT_CLOSE = "\ue000", "\ue001"
PROTECTED = re.compile("\ue000(\\d+)\ue001")
_PERMA_TOKEN = re.compile(r":([a-z_]+)|\{([a-z_]+)\}")
_DATE_SLUG = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(.+)$")
_BACKTICKS = re.compile(r"`{3,}")
_MARKUP = re.compile(r"[*_`]+|<[^>]+>")


class Context:
    """One post's expansion state; every pass reads and writes it."""

    __slots__ = ("post", "site_url", "base_path", "origin", "warnings", "embeds", "store", "code", "_seen")

    def __init__(self, post: Post) -> None:
        self.post = post
        self.site_url = post.site.url.rstrip("/")
        parts = urlsplit(self.site_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.base_path = parts.path.rstrip("/")
        self.warnings: list[str] = []
        self.embeds: list[Embed] = []
        self.store: list[str] = []
        self.code: list[list[CodeRange]] = []  # per stored literal: its code (offsets in it)
        self._seen: set[str] = set()

    # --- placeholders -------------------------------------------------------
    def protect(self, literal: str, code: str = "") -> str:
        """Store `literal` (placeholders inside it are resolved first); return its placeholder.

        `code`: the literal is code ("block" or "span"), which renderers never touch;
        code protected inside a literal stays code.
        """
        ranges: list[CodeRange] = []
        if PROTECT_OPEN in literal:
            literal, ranges = self.restore_tracked(literal)
        self.store.append(literal)
        self.code.append([(0, len(literal), code)] if code else ranges)
        return f"{PROTECT_OPEN}{len(self.store) - 1}{PROTECT_CLOSE}"

    def restore(self, text: str) -> str:
        if PROTECT_OPEN not in text:
            return text
        store = self.store
        return PROTECTED.sub(lambda m: store[int(m.group(1))], text)

    def restore_tracked(self, text: str) -> tuple[str, list[CodeRange]]:
        """`text` restored, and where the code is in the result."""
        if PROTECT_OPEN not in text:
            return text, []
        out: list[str] = []
        ranges: list[CodeRange] = []
        pos = size = 0
        for m in PROTECTED.finditer(text):
            out.append(text[pos:m.start()])
            size += m.start() - pos
            k = int(m.group(1))
            ranges.extend((size + a, size + b, kind) for a, b, kind in self.code[k])
            out.append(self.store[k])
            size += len(self.store[k])
            pos = m.end()
        out.append(text[pos:])
        return "".join(out), ranges

    def embed(self, kind: str, id: str, url: str) -> str:
        """An embed standing on its own line (as a block between blank lines)."""
        self.embeds.append(Embed(kind, id, url))
        return f"\n\n{EMBED_OPEN}{len(self.embeds) - 1}{EMBED_CLOSE}\n\n"

    def warn(self, message: str) -> None:
        if message not in self._seen:
            self._seen.add(message)
            self.warnings.append(message)

    # --- Markdown builders --------------------------------------------------
    @staticmethod
    def image_md(src: str, alt: str = "", title: str = "", caption: str = "", link: str = "") -> str:
        """An image (optionally linked and captioned) as a Markdown block."""
        alt = " ".join(alt.split()).replace("[", "\\[").replace("]", "\\]")
        dest = f"<{src}>" if any(c in src for c in " ()<>") else src
        t = ' "' + title.replace('"', '\\"') + '"' if title else ""
        md = f"![{alt}]({dest}{t})"
        if link:
            md = f"[{md}]({link})"
        if caption:
            plain = " ".join(_MARKUP.sub("", caption).split())
            md += f"\n*{plain}*" if plain else ""
        return f"\n\n{md}\n\n"

    @staticmethod
    def fenced(code: str, lang: str = "") -> str:
        code = code.strip("\n")
        longest = max((len(m) for m in _BACKTICKS.findall(code)), default=2)
        fence = "`" * max(3, longest + 1)
        return f"\n\n{fence}{lang}\n{code}\n{fence}\n\n"

    # --- URLs ---------------------------------------------------------------
    def param(self, key: str) -> Any:
        """A front-matter value by dotted key (None when absent)."""
        value: Any = self.post.front_matter
        for part in key.split("."):
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, dict) and part.lower() in {k.lower() for k in value if isinstance(k, str)}:
                value = next(v for k, v in value.items() if isinstance(k, str) and k.lower() == part.lower())
            else:
                return None
        return value

    def page_url(self, slug: str, section: str = "", date: datetime | None = None, what: str = "") -> str:
        """The URL of another post from the site's permalink; approximate (with a warning) otherwise."""
        pattern = self.post.site.permalink
        values = dict.fromkeys(("slug", "title", "filename", "contentbasename", "slugorfilename", "slugorcontentbasename"), slug)
        values.update(section=section, sections=section, categories="", output_ext=".html")
        if date is not None:
            values.update(year=f"{date.year:04d}", month=f"{date.month:02d}", day=f"{date.day:02d}",
                          i_month=str(date.month), i_day=str(date.day), short_year=f"{date.year % 100:02d}")
        if pattern:
            missing = False

            def fill(m: re.Match[str]) -> str:
                nonlocal missing
                key = m.group(1) or m.group(2)
                if key not in values:
                    missing = True
                    return ""
                return values[key]

            path = _PERMA_TOKEN.sub(fill, pattern)
            if not missing:
                path = re.sub(r"/{2,}", "/", "/" + path.lstrip("/"))
                if not path.endswith("/") and "." not in path.rsplit("/", 1)[-1]:
                    path += "/"
                return self.site_url + path
        hint = "the permalink needs a date this reference lacks" if pattern else "set site.permalink"
        if date is not None and not pattern:
            self.warn(f"{what}: URL approximated as /{values['year']}/{values['month']}/{values['day']}/{slug}/ ({hint})")
            return f"{self.site_url}/{values['year']}/{values['month']}/{values['day']}/{slug}/"
        self.warn(f"{what}: URL approximated as /{slug}/ ({hint})")
        return f"{self.site_url}/{slug}/"

    def ref_url(self, target: str, what: str) -> str:
        """`ref`/`relref`/`@/` target ("posts/other.md#x", "other") → absolute URL."""
        target = target.strip().strip("\"'")
        path, _, frag = target.partition("#")
        frag = f"#{frag}" if frag else ""
        if not path:
            return frag or self.post.url
        p = PurePosixPath(path.lstrip("/"))
        stem = p.stem if p.suffix in (".md", ".mdx", ".markdown", ".html") else p.name
        if stem in ("index", "_index") and p.parent.name:
            stem = p.parent.name
        parts = [x for x in p.parent.parts if x not in ("..", ".")]
        section = parts[0] if parts else ""
        date = None
        m = _DATE_SLUG.match(stem)
        if m:
            try:
                date = datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                stem = m.group(4)
            except ValueError:
                date = None
        return self.page_url(stem, section, date, what) + frag
