"""What a shortcode / Liquid tag / component *means*, whatever syntax wrote it.

Hugo's built-ins: https://gohugo.io/content-management/shortcodes/ ; the same
meanings serve Jekyll plugins, Zola shortcodes, MDX components and the
`[site.shortcodes]` map (`{ img = "figure", yt = "youtube" }`).
"""
from __future__ import annotations

import re
import textwrap

from syndicate.content.markdown.context import Context
from syndicate.content.markdown.tags import Tag
from syndicate.content.xref import DEAD, resolve

_YT_ID = re.compile(r"(?:youtu\.be/|youtube(?:-nocookie)?\.com/(?:embed/|shorts/|live/|v/|watch\?(?:.*&)?v=))([\w-]{6,})")
_VIMEO_ID = re.compile(r"vimeo\.com/(?:video/|channels/[\w-]+/)?(\d+)")
_TWEET = re.compile(r"(?:twitter|x)\.com/([\w]+)/status(?:es)?/(\d+)")
_BARE_ID = re.compile(r"^[\w-]+$")
_LINK_KINDS = {"ref": "hugo", "relref": "hugo", "post_url": "post_url", "link": "link"}

BOXES = frozenset(
    "details note notice callout admonition alert tip warning info hint caution important danger "
    "aside spoiler collapse expand box message quote blockquote".split()
)
DROP = frozenset({"drop", "remove", "ignore", "comment", "toc", "more"})
KEEP = frozenset({"inner", "keep"})
MAIN_PARAMS = ("name", "title", "text", "label", "term", "value", "content")  # in order, after the first positional
MEANINGS = frozenset(
    {"figure", "img", "image", "youtube", "vimeo", "x", "tweet", "twitter", "gist", "instagram", "highlight", "code",
     "ref", "relref", "param", "link", "post_url"} | BOXES | DROP | KEEP
)


def youtube_id(value: str) -> str:
    m = _YT_ID.search(value)
    return m.group(1) if m else value.strip()


def vimeo_id(value: str) -> str:
    m = _VIMEO_ID.search(value)
    return m.group(1) if m else value.strip()


def image(tag: Tag, ctx: Context, inner: str | None, what: str) -> str:
    src = tag.get("src", "image", "url", "file", "path", "img", pos=0 if tag.style != "jsx" else None)
    if not src or src.startswith("{"):
        if inner is not None and inner.strip():  # a figure around its own image: the image, then the caption
            cap = " ".join(_plain(tag.get("caption", "title")).split())
            return "\n\n" + textwrap.dedent(inner.strip("\n")) + (f"\n\n*{cap}*" if cap else "") + "\n\n"
        if inner is not None:
            return inner
        ctx.warn(f"{what} has no literal src: removed" if src else f"{what} has no src: removed")
        return ""
    caption = tag.get("caption")
    title = tag.get("title")
    alt = tag.get("alt", pos=1 if "alt" not in tag.named and len(tag.positional) > 1 and tag.style in ("<", "%") else None)
    alt = alt or _plain(caption) or title
    below = caption or title
    out = ctx.image_md(src, alt=alt, title=title if title and title != below else "", caption=below, link=tag.get("link"))
    return out + (inner or "")


def _plain(text: str) -> str:
    return re.sub(r"[*_`]|<[^>]+>", "", text) if text else ""


def box(tag: Tag, inner: str | None, meaning: str) -> str:
    title = tag.get("title", "summary", "header", "heading", "label")
    if not title and tag.positional:
        title = tag.positional[0] if meaning in ("details", "spoiler", "collapse", "expand") or len(tag.positional) == 1 and " " in tag.positional[0] else ""
        if not title and len(tag.positional) > 1:
            title = tag.positional[1]
    head = f"\n\n**{' '.join(title.split())}**\n\n" if title else "\n\n"
    return head + (inner or "").strip("\n") + "\n\n"


def render(meaning: str, tag: Tag, inner: str | None, raw_inner: str | None, ctx: Context, what: str) -> str | None:
    """Render `tag` as the built-in `meaning`; None when the meaning is unknown."""
    if meaning in ("figure", "img", "image"):
        return image(tag, ctx, inner, what)
    if meaning == "youtube":
        vid = youtube_id(tag.get("id", "src", "url", "video", pos=0))
        if not vid:
            ctx.warn(f"{what} has no video id: removed")
            return inner or ""
        return ctx.embed("youtube", vid, f"https://www.youtube.com/watch?v={vid}")
    if meaning == "vimeo":
        vid = vimeo_id(tag.get("id", "src", "url", "video", pos=0))
        if not vid:
            ctx.warn(f"{what} has no video id: removed")
            return inner or ""
        return ctx.embed("vimeo", vid, f"https://vimeo.com/{vid}")
    if meaning in ("x", "tweet", "twitter"):
        return _tweet(tag, ctx, what)
    if meaning == "gist":
        user, gid, file = tag.get("user", pos=0), tag.get("id", pos=1), tag.get("file", pos=2)
        if "/" in user and not gid:
            user, _, gid = user.rpartition("/")
            user = user.rsplit("/", 1)[-1]
        if not user or not gid:
            ctx.warn(f"{what} needs a user and an id: removed")
            return ""
        anchor = "#file-" + re.sub(r"[^\w-]", "-", file).lower() if file else ""
        return ctx.embed("gist", f"{user}/{gid}", f"https://gist.github.com/{user}/{gid}{anchor}")
    if meaning == "instagram":
        pid = tag.get("id", pos=0).strip("/").rsplit("/", 1)[-1]
        if not pid:
            ctx.warn(f"{what} has no post id: removed")
            return ""
        return ctx.embed("instagram", pid, f"https://www.instagram.com/p/{pid}/")
    if meaning in ("highlight", "code"):
        lang = tag.get("lang", "language", pos=0)
        code = ctx.restore(raw_inner if raw_inner is not None else tag.get("code"))
        return ctx.protect(ctx.fenced(code, lang), code="block")
    if meaning in _LINK_KINDS:
        target = tag.get("path", "page", pos=0) or tag.raw.strip()
        if not target:
            ctx.warn(f"{what} has no target: removed")
            return ""
        return post_link(ctx, _LINK_KINDS[meaning], target, what)
    if meaning == "param":
        key = tag.get("name", "key", pos=0)
        value = ctx.param(key) if key else None
        if value is None:
            ctx.warn(f"{what}: front matter has no {key!r}: removed")
            return ""
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    if meaning in BOXES:
        return box(tag, inner, meaning)
    if meaning in DROP:
        return ""
    if meaning in KEEP:
        return inner or ""
    return None


def post_link(ctx: Context, kind: str, target: str, what: str) -> str:
    """The published URL of the post a link names (`syndicate.content.xref`), or `DEAD` with a warning: the link
    pass then drops the link and keeps its text, so no copy links to a page that does not exist."""
    found = resolve(kind, ctx.post, target)
    if found.url is not None:
        return found.url
    ctx.warn(f"{what}: {found.problem}; the link is removed, its text kept")
    return DEAD


def _tweet(tag: Tag, ctx: Context, what: str) -> str:
    user, tid = tag.get("user", "username"), tag.get("id")
    for value in (*tag.positional, tag.get("url", "src")):
        m = _TWEET.search(value)
        if m:
            user, tid = m.group(1), m.group(2)
            break
    if not tid:
        nums = [p for p in tag.positional if p.isdigit()]
        tid = nums[0] if nums else ""
        if not user:
            user = next((p for p in tag.positional if not p.isdigit() and _BARE_ID.match(p)), "")
    if not tid:
        ctx.warn(f"{what} has no post id: removed")
        return ""
    url = f"https://x.com/{user or 'i'}/status/{tid}" if user else f"https://x.com/i/status/{tid}"
    return ctx.embed("x", tid, url)


def generic(tag: Tag, inner: str | None, ctx: Context, what: str) -> str:
    """An unknown tag: image-like params → image; else as `unknown`."""
    if any(k in tag.named for k in ("src", "image")) and tag.style != "liquid":
        return image(tag, ctx, inner, what)
    return unknown(tag, inner, ctx, what)


def main_argument(tag: Tag) -> str:
    """What a tag is about, as text: its first positional parameter, else the first of `MAIN_PARAMS`."""
    for value in (*tag.positional[:1], *(tag.named[k] for k in MAIN_PARAMS if k in tag.named)):
        value = " ".join(value.split())
        if value and not value.startswith("{"):  # a JSX/Liquid expression is no text
            return value
    return ""


def unknown(tag: Tag, inner: str | None, ctx: Context, what: str) -> str:
    """An unknown tag: paired → its inner Markdown; lone in a sentence → its main argument; else removed.

    `install {{< man "systemd-coredump" 8 >}}, then` keeps "systemd-coredump": a
    tag inside a line stands for a word of the sentence. On a line of its own
    (`{{< subscribe >}}`) there is no sentence to keep whole: it goes.
    """
    if inner is not None:
        return inner
    if tag.inline and (text := main_argument(tag)):
        ctx.warn(f"unknown {what} kept as its text {text!r} (map it in [site.shortcodes] to render it)")
        return text
    ctx.warn(f"unknown {what} removed (map it in [site.shortcodes] to render it)")
    return ""
