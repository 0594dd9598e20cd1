"""Raw HTML made safe, and every link and image made absolute (images collected on the way).

Relative URLs resolve against the post's own URL (page-bundle resources sit
beside the post), root-absolute ones against `site.url`. An image's local file
is looked up beside the post and in the static folders, never outside the site
root (symlinks resolved, `..` refused).
"""
from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Literal
from urllib.parse import urljoin, urlsplit

from syndicate.content.markdown.builtins import post_link, vimeo_id, youtube_id
from syndicate.content.markdown.context import Context
from syndicate.content.markdown.sanitize import maybe_unsafe, unsafe_scheme, warn_unsafe
from syndicate.content.permalinks import site_info
from syndicate.content.resolve import SiteFiles, served_path
from syndicate.content.source import Image
from syndicate.content.xref import DEAD

# Before expansion only: script/style bodies and comments hold `{{ }}` and `{% %}` that are not ours
# to expand. The sanitising itself is nh3's, after expansion (syndicate/content/markdown/sanitize.py).
_HIDDEN = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>|<!--.*?-->", re.S | re.I)
_IFRAME = re.compile(r"<iframe\b(?P<attrs>[^>]*)>(?:.*?</iframe\s*>)?", re.S | re.I)
_ATTR = re.compile(r"""(\s+)([\w:.-]+)(?:(\s*=\s*)("[^"]*"|'[^']*'|[^\s"'>`]+))?""")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_DEST = r"(?:<[^<>\n\ue000-\ue003]*>|(?:\\.|[^\s()\\\ue000-\ue003]|\((?:\\.|[^\s()\\\ue000-\ue003])*\))+)"  # never a placeholder
_TITLE = r"""(?:"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|\((?:\\.|[^()\\])*\))"""
_LABEL = r"(?:\\.|[^\\\[\]]|\[(?:\\.|[^\\\[\]])*\])*"
_DEF = re.compile(rf"^[ ]{{0,3}}\[(?P<label>[^\]\n^][^\]]*)\]:[ \t]*\n?[ \t]*(?P<dest>{_DEST})", re.M)
_LINKS = re.compile(
    rf"(?:(?P<img>!\[(?P<alt>{_LABEL})\]\([ \t]*\n?[ \t]*(?P<idest>{_DEST})?(?:\s+(?P<ititle>{_TITLE}))?\s*\))"
    rf"|(?P<refimg>!\[(?P<ralt>{_LABEL})\](?:\[(?P<rref>[^\]]*)\])?)"
    rf"|(?P<link>\]\([ \t]*\n?[ \t]*)(?P<ldest>{_DEST})"
    rf"|(?P<def>^[ ]{{0,3}}\[[^\]\n^][^\]]*\]:[ \t]*\n?[ \t]*)(?P<ddest>{_DEST})"
    r"|(?P<tag><[A-Za-z][\w-]*\s[^<>]*>)"
    r"|(?P<auto><(?P<aurl>[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*)>))",
    re.M,
)
_LINK_TAIL = re.compile(rf"(?:\s+{_TITLE})?\s*\)")
_CANDIDATE = re.compile(r"!\[|\]\(|<[A-Za-z]|^ {0,3}\[(?!\^)", re.M)  # where _LINKS may match
_CANDIDATE_NO_DEF = re.compile(r"!\[|\]\(|<[A-Za-z]")  # the same without "]:" in the text: no definition can match
_DEF_LINE = re.compile(r"\n( {0,3}\[(?!\^))")  # _CANDIDATE's last choice after a line break (group 1)
_URL_ATTRS = frozenset({"src", "href", "poster", "data-src", "action", "cite"})
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_SOURCE = (".md", ".mdx", ".markdown")  # a link to one of these names another post's source file
# a relative path urljoin only appends: no scheme, query, fragment or params, no empty, "." or ".." segment
# (but a leading "./"), nothing it would quote or split on
_PLAIN_PATH = re.compile(r"(?:\./)*((?:(?!\.\.?(?:/|$))[A-Za-z0-9_.~!$&'*+,=@%-]+/)*(?!\.\.?(?:/|$))[A-Za-z0-9_.~!$&'*+,=@%-]+/?)")


def clean_html(text: str, ctx: Context) -> str:
    """Before expansion: `<script>`/`<style>` and comments out; YouTube/Vimeo iframes → embeds, others → links."""
    if "<" not in text:
        return text
    low = text.lower()
    if "<script" in low or "<style" in low or "<!--" in text:
        text = _HIDDEN.sub("", text)
    if "<iframe" in low:
        text = _IFRAME.sub(lambda m: _iframe(m.group("attrs"), ctx), text)
    return text


def _iframe(attrs: str, ctx: Context) -> str:
    values = {m.group(2).lower(): _attr_value(m.group(4)) for m in _ATTR.finditer(attrs) if m.group(4)}
    src = values.get("src") or values.get("data-src") or ""
    if "youtube" in src or "youtu.be" in src:
        vid = youtube_id(src)
        return ctx.embed("youtube", vid, f"https://www.youtube.com/watch?v={vid}")
    if "vimeo.com" in src:
        vid = vimeo_id(src)
        return ctx.embed("vimeo", vid, f"https://vimeo.com/{vid}")
    if not src:
        ctx.warn("<iframe> without src removed")
        return ""
    url = html.escape(Resolver(ctx).url(src))
    ctx.warn(f"<iframe> of {urlsplit(src).netloc or src!r} replaced by a link")
    return f'<a href="{url}">{html.escape(values.get("title") or url)}</a>'


def _attr_value(raw: str) -> str:
    if raw[:1] in "\"'":
        raw = raw[1:-1]
    return html.unescape(raw) if "&" in raw else raw


class Resolver:
    """Resolves URLs and local image files for one post."""

    __slots__ = ("ctx", "base", "_files", "_plain_base")

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        url = ctx.post.url or ctx.site_url + "/"
        last = url.rsplit("/", 1)[-1]
        self.base = url if url.endswith("/") or "." in last else url + "/"
        self._files: SiteFiles | None = None
        self._plain_base: bool | None = None  # whether urljoin appends a plain relative path to `base` as it is

    def join(self, url: str) -> str:
        """`urljoin(base, url)`; a plain relative path (`img.png`, `./a/b.png`) appended without parsing."""
        m = _PLAIN_PATH.fullmatch(url)
        if m is not None:
            if self._plain_base is None:
                self._plain_base = self.base.endswith("/") and urljoin(self.base, "a/b") == self.base + "a/b"
            if self._plain_base:
                return self.base + m.group(1)
        return urljoin(self.base, url)

    def url(self, url: str) -> str:
        """Absolute URL for `url` as written in the post."""
        if not url or _SCHEME.match(url):
            return url
        if url[0] == "#":  # a place in this post: on its page, where the generator put the ids (a copy that has
            if url == "#" or url.lower() == "#top":  # the place too links in-page again: `anchors.local_html`)
                return url  # the top of whichever page shows it (HTML's "top" fragment)
            return self.ctx.post.page + url
        if url[0] == "?":
            return url
        if DEAD in url:
            return DEAD
        if url.startswith("//"):
            return "https:" + url
        if url.startswith("@/"):
            return post_link(self.ctx, "zola", url[2:], f"internal link {url!r}")
        if url[0] == "/":
            bp = self.ctx.base_path
            if bp and (url == bp or url.startswith(bp + "/")):
                return self.ctx.origin + url
            return self.ctx.site_url + url
        path = url.split("#", 1)[0].split("?", 1)[0]
        if path.lower().endswith(_SOURCE):
            return post_link(self.ctx, "file", url, f"link to {path!r}")
        return self.join(url)

    def files(self) -> SiteFiles:
        if self._files is None:
            self._files = site_info(self.ctx.post.site).files
        return self._files

    def local(self, src: str, absolute: str) -> Path | None | Literal[False]:
        """The image's file inside the site root, if it exists there (the loader's cover lookup, too);
        False when the reference leaves the site root: the image is refused (`refused_image`)."""
        served = served_path(absolute, self.ctx.site_url)
        if served is None and _SCHEME.match(src):
            return None
        found = self.files().find(src, self.ctx.post.bundle_dir, served)
        if found.refused:
            self.ctx.warn(refused_image(self.ctx.post.path, src))
            return False
        return found.path


def refused_image(path: Path, src: str) -> str:
    """The one warning for an image that resolves outside the site root, wherever the post names it
    (cover or body): the image is left out of every copy."""
    return f"{path}: image {src!r} resolves outside the site root; refused and left out of the post"


def _norm_label(label: str) -> str:
    return " ".join(label.split()).casefold()


def absolutise(text: str, ctx: Context) -> tuple[str, list[Image]]:
    """Make every link/image URL absolute; return the text and its images in order."""
    res = Resolver(ctx)
    images: list[Image] = []
    defs: dict[str, str] = {}
    dead: set[str] = set()
    if "]:" in text:
        for d in _DEF.finditer(text):
            defs.setdefault(_norm_label(d.group("label")), d.group("dest"))

    def image(src: str, alt: str | None, title: str | None) -> str | None:
        """The image's absolute URL, recorded; None when it is refused (it must leave the text)."""
        url = res.url(src)
        path = res.local(src, url)
        if path is False:
            return None
        images.append(Image(src=src, url=url, path=path, alt=alt or None, title=title or None))
        return url

    def sub(m: re.Match[str]) -> str:
        if m.group("img") is not None:
            dest = m.group("idest") or ""
            raw = dest[1:-1] if dest.startswith("<") else _ESCAPED.sub(r"\1", dest)
            alt = _ESCAPED.sub(r"\1", m.group("alt"))
            title = m.group("ititle")
            title_text = _ESCAPED.sub(r"\1", title[1:-1]) if title else None
            if (scheme := unsafe_scheme(raw)) is not None:
                warn_unsafe(ctx, "image", scheme)
                return ""
            url = image(raw, alt, title_text)
            if url is None:
                return ""
            out = f"<{url}>" if (" " in url or dest.startswith("<")) else url
            return f"![{m.group('alt')}]({out}{' ' + title if title else ''})"
        if m.group("refimg") is not None:
            alt = m.group("ralt")
            dest = defs.get(_norm_label(m.group("rref") or alt))
            if dest is not None and unsafe_scheme(dest) is None:
                if image(dest[1:-1] if dest.startswith("<") else dest, _ESCAPED.sub(r"\1", alt), None) is None:
                    return ""
            return m.group(0)
        if m.group("def") is not None:
            if maybe_unsafe(m.group("ddest")) and (
                    scheme := unsafe_scheme(_plain_dest(m.group("ddest")))) is not None:
                warn_unsafe(ctx, "link", scheme)
                return m.group("def") + "<>"
            dest = _dest(m.group("ddest"), res)
            if DEAD in dest:  # its references lose their link below
                dead.add(_norm_label(m.group("def").strip()[1:].split("]:", 1)[0]))
                return m.group("def") + "<>"
            if res.local(_plain_dest(m.group("ddest")), dest) is False:  # a refused image's URL goes too
                return m.group("def") + "<>"
            return m.group("def") + dest
        if m.group("auto") is not None:
            if (scheme := unsafe_scheme(m.group("aurl"))) is not None:
                warn_unsafe(ctx, "link", scheme)
                return m.group("aurl").replace(":", "\\:", 1)  # text, never a link again
            return m.group(0)
        return _tag(m.group("tag"), res, image)

    if "](" in text or "]:" in text or "<" in text or "![" in text:
        out: list[str] = []
        pos = at = 0
        match = _LINKS.match
        candidates = _candidates(text)
        while (start := candidates(at)) >= 0:
            m = match(text, start)
            if m is None or m.end() == start:
                at = start + 1
                continue
            if m.group("link") is not None and maybe_unsafe(m.group("ldest")) and (
                    scheme := unsafe_scheme(_plain_dest(m.group("ldest")))) is not None:
                opener = _opener(text, m.start(), pos)
                tail = _LINK_TAIL.match(text, m.end())
                if opener is not None and tail is not None:  # the link goes, its text stays
                    warn_unsafe(ctx, "link", scheme)
                    out.append(text[pos:opener])
                    out.append(text[opener + 1:m.start()])
                    pos = at = tail.end()
                    continue
            if m.group("link") is not None:
                dest = _dest(m.group("ldest"), res)
                opener = _opener(text, m.start(), pos) if DEAD in dest else None
                tail = _LINK_TAIL.match(text, m.end()) if opener is not None else None
                if opener is not None and tail is not None:  # no such post: the link goes, its text stays
                    out.append(text[pos:opener])
                    out.append(text[opener + 1:m.start()])
                    pos = at = tail.end()
                    continue
                out.append(text[pos:m.start()])
                out.append(m.group("link") + dest)
                pos = at = m.end()
                continue
            out.append(text[pos:m.start()])
            out.append(sub(m))
            pos = at = m.end()
        out.append(text[pos:])
        text = "".join(out)
    if dead:
        text = _unlink(text, dead)
    if DEAD in text:
        text = text.replace(DEAD, "")  # a bare `{{< ref >}}` outside any link
    return text, images


def _candidates(text: str) -> Callable[[int], int]:
    """`at` → where `_CANDIDATE.search(text, at)` matches (-1: nowhere). Its line-start choice (a
    definition's `[` at the start of a line) is taken apart: with it the regex engine tries the pattern
    at every character; its places are found once, from the line breaks."""
    search = _CANDIDATE_NO_DEF.search
    if "]:" not in text:
        def plain(at: int) -> int:
            c = search(text, at)
            return -1 if c is None else c.start()
        return plain
    lines = [0] if _DEF_LINE.match("\n" + text[:5]) else []
    lines += [m.start(1) for m in _DEF_LINE.finditer(text)]
    k = 0
    ahead = -2  # the last place `search` found (-1: none left), kept while it is not behind `at`

    def with_lines(at: int) -> int:
        nonlocal k, ahead
        if ahead != -1 and ahead < at:
            c = search(text, at)
            ahead = -1 if c is None else c.start()
        while k < len(lines) and lines[k] < at:  # `at` only grows
            k += 1
        if k < len(lines) and (ahead < 0 or lines[k] < ahead):
            return lines[k]
        return ahead
    return with_lines


def _unlink(text: str, labels: set[str]) -> str:
    """Reference links whose definition names no post: `[text][label]`, `[label][]`, `[label]` → their text."""
    def full(m: re.Match[str]) -> str:
        return m.group(1) if _norm_label(m.group(2) or m.group(1)) in labels else m.group(0)

    text = re.sub(r"(?<![\]!\\])\[([^\[\]\n]+)\]\[([^\[\]\n]*)\]", full, text)

    def short(m: re.Match[str]) -> str:
        return m.group(1) if _norm_label(m.group(1)) in labels else m.group(0)

    return re.sub(r"(?<![\]!\\])\[([^\[\]\n]+)\](?![\[(:])", short, text)


def _plain_dest(dest: str) -> str:
    return dest[1:-1] if dest.startswith("<") else _ESCAPED.sub(r"\1", dest)


def _opener(text: str, end: int, start: int) -> int | None:
    """Index of the `[` that opens the link text ending at `end` (not before `start`)."""
    depth = 0
    for i in range(end - 1, start - 1, -1):
        ch = text[i]
        if i and text[i - 1] == "\\":
            continue
        if ch == "]":
            depth += 1
        elif ch == "[":
            if not depth:
                return i
            depth -= 1
    return None


def _dest(dest: str, res: Resolver) -> str:
    if dest.startswith("<"):
        return "<" + res.url(dest[1:-1]) + ">"
    url = res.url(_ESCAPED.sub(r"\1", dest))
    return url.replace("(", "%28").replace(")", "%29") if url != dest else dest


def _tag(tag: str, res: Resolver, image: Callable[[str, str | None, str | None], str | None]) -> str:
    """One HTML start tag: URLs absolute, `on*` handlers and `javascript:` URLs removed."""
    name = tag[1:].split(None, 1)[0].lower().rstrip("/>")
    attrs: dict[str, str] = {}

    def attr(m: re.Match[str]) -> str:
        key = m.group(2).lower()
        raw = m.group(4)
        if key.startswith("on"):
            return ""
        if raw is None:
            return m.group(0)
        value = _attr_value(raw)
        attrs[key] = value
        if key in _URL_ATTRS:
            if value.strip().lower().startswith(("javascript:", "vbscript:", "data:text")):
                return ""
            new = res.url(value.strip())
            if new == DEAD:  # `<a href="other.md">` to no post: the element stays, without its link
                return ""
            if key == "src" and name == "img":
                attrs["@src"] = value.strip()
                attrs[key] = new
            return f'{m.group(1)}{m.group(2)}="{html.escape(new)}"'
        if key == "srcset":
            parts = [p.strip().split(None, 1) for p in value.split(",") if p.strip()]
            joined = ", ".join(" ".join([res.url(p[0]), *p[1:]]) for p in parts)
            return f'{m.group(1)}{m.group(2)}="{html.escape(joined)}"'
        return m.group(0)

    head, body = tag[: len(name) + 1], tag[len(name) + 1:]
    out = head + _ATTR.sub(attr, body)
    if name == "img" and "@src" in attrs and image(attrs["@src"], attrs.get("alt"), attrs.get("title")) is None:
        return ""  # refused: the element goes with it
    return out
