"""dev.to (and any Forem): articles through the Forem API v1.

API: https://developers.forem.com/api/v1 (specs/forem/api_v1.json); facts and
limits in PLATFORMS.md §1. The API lives under `{base_url}/api`, is
authenticated with an `api-key` header and needs
`Accept: application/vnd.forem.api-v1+json`.

There is no DELETE in v1, and `PUT /articles/{id}/unpublish` needs the admin
role, so `delete` sets `published: false` (the article stays, hidden).
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from markdown_it import MarkdownIt

from syndicate.contract import (
    Connector,
    Draft,
    Limits,
    MediaItem,
    MediaPolicy,
    NotFound,
    OutcomeUnknown,
    Permanent,
    RateLimit,
    Remote,
    RequestPreview,
    Transient,
)
from connectors.common import alnum_tags, is_http_url, same_url
from syndicate.config import ConfigError
from syndicate.markdown.document import Embed
from syndicate.text import truncate

if TYPE_CHECKING:
    import httpx

    from syndicate.post import Post

ACCEPT = "application/vnd.forem.api-v1+json"
ARTICLES = "/articles"
ARTICLE = "/articles/{id}"
MY_ARTICLES = "/articles/me/all"
PER_PAGE = 1000  # the documented maximum (perPageParam30to1000)
MAX_PAGES = 100
TITLE_MAX = 128  # forem/forem app/models/article.rb
TAGS_MAX = 4  # article.rb validate_tag: "exceed the maximum of 4 tags"

# A 422 saying an article with this canonical URL exists: an earlier attempt landed.
_TAKEN = re.compile(r"canonical.url.*(taken|exists)", re.IGNORECASE)
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{6,20}")
_DIGITS = re.compile(r"\d{1,15}")
_SAFE_URL = re.compile(r"https?://[^\s{}%]+")

# --- Liquid escaping -----------------------------------------------------------
# dev.to runs every body through Liquid: unknown tags and {{ variables }} fail
# the article (forem/forem#14028, #6673). Everything Liquid-looking outside code
# is wrapped in {% raw %}; existing raw blocks are kept as they are.
# Only block structure is needed (which lines are code): the inline pass is
# most of a parse's cost and is switched off.
# Headings, rules and link definitions cannot hold code: their rules are off too.
_MD = MarkdownIt("commonmark").disable(["inline", "text_join", "heading", "lheading", "hr", "reference"],
                                       ignoreInvalid=True)
_CODE_BLOCKS = frozenset({"fence", "code_block"})
_INLINE_PROTECTED = re.compile(
    r"\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}"  # an existing raw block
    r"|(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)",  # an inline code span
    re.DOTALL,
)
# Within one line and without backticks: a wrap never spans two blocks nor
# pairs with a code span's backtick (a stray `%}` or `}}` is plain text to Liquid).
_LIQUID = re.compile(r"\{%[^\n`]*?%\}|\{\{[^\n`]*?\}\}|\{%|\{\{")
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")


def _blocks(markdown: str) -> list[tuple[bool, str]]:
    """(is_code, text) for each block: code blocks, inline blocks (paragraphs...), other lines."""
    lines = markdown.splitlines(keepends=True)
    kind: list[int] = [0] * len(lines)  # 0 loose line, -1 code, n > 0 the n-th inline block
    n = 0
    for token in _MD.parse(markdown):
        if token.map is None:
            continue
        start, end = token.map
        if token.type in _CODE_BLOCKS:
            kind[start:end] = [-1] * (end - start)
        elif token.type == "inline":
            n += 1
            kind[start:end] = [n if k != -1 else -1 for k in kind[start:end]]
    out: list[tuple[bool, str]] = []
    for i, line in enumerate(lines):
        if out and kind[i] > 0 and kind[i] == kind[i - 1]:
            out[-1] = (False, out[-1][1] + line)
        else:
            out.append((kind[i] == -1, line))
    return out


def _wrap(match: re.Match[str]) -> str:
    text = match.group(0)
    if "endraw" in text:  # cannot sit inside raw: show the brace as an entity
        return text.replace("{", "&#123;")
    return "{% raw %}" + text + "{% endraw %}"


def _escape_text(text: str) -> str:
    out, pos = [], 0
    for m in _INLINE_PROTECTED.finditer(text):
        out.append(_LIQUID.sub(_wrap, text[pos : m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_LIQUID.sub(_wrap, text[pos:]))
    return "".join(out)


def liquid_safe(markdown: str) -> str:
    """Wrap every Liquid tag or variable outside code in `{% raw %}…{% endraw %}`.

    Code blocks come from a CommonMark parse; code spans and existing raw
    blocks are kept within each paragraph (a span never crosses blocks).
    """
    if "{%" not in markdown and "{{" not in markdown:
        return markdown
    return "".join(
        text if code or ("{%" not in text and "{{" not in text) else _escape_text(text)
        for code, text in _blocks(markdown)
    )


def liquid_embed(embed: Embed) -> str:
    """Forem's own Liquid tag for an embed, else its plain URL."""
    url = embed.url if _SAFE_URL.fullmatch(embed.url or "") else None
    if embed.kind == "youtube" and _YOUTUBE_ID.fullmatch(embed.id):
        return f"{{% youtube {embed.id} %}}"
    if embed.kind == "vimeo" and _DIGITS.fullmatch(embed.id):
        return f"{{% vimeo {embed.id} %}}"
    if url is None:
        return embed.url
    if embed.kind == "gist":
        return f"{{% gist {url} %}}"
    if embed.kind == "codepen":
        return f"{{% codepen {url} %}}"
    return f"{{% embed {url} %}}"


# --- the connector -------------------------------------------------------------


class DevTo(Connector):
    """Articles on dev.to or another Forem (`base_url`)."""

    type = "devto"
    required = ("api_key",)
    secrets = ("api_key",)
    defaults = {"base_url": "https://dev.to"}
    limits = Limits(
        title_max=TITLE_MAX,
        counting="characters",
        tags_max=TAGS_MAX,
        # dev.to takes image URLs only (no upload API); sizes are undocumented.
        media=MediaPolicy(max_bytes=25 * 1024 * 1024, max_count=1, upload=False),
        can_update=True,
        can_delete=True,  # as unpublish: see the module docstring
        rates=(RateLimit("create", 10, 30), RateLimit("update", 30, 30)),  # PLATFORMS.md §1 (g)
    )

    @property
    def api(self) -> str:
        return str(self.option("base_url")).rstrip("/") + "/api"

    def _headers(self) -> dict[str, str]:
        return {"api-key": self.secret("api_key"), "Accept": ACCEPT}

    # pure ------------------------------------------------------------------

    def render(self, post: Post) -> Draft:
        over = post.control.override(self.name, self.type)
        warnings: list[str] = []
        title = " ".join(str(over.get("title") or post.title).split())
        if len(title) > TITLE_MAX:
            title = truncate(title, TITLE_MAX, "characters")
            warnings.append(f"title shortened to {TITLE_MAX} characters")
        raw_tags = over.get("tags")
        if isinstance(raw_tags, str):
            raw_tags = raw_tags.split(",")
        elif raw_tags is not None and not isinstance(raw_tags, (list, tuple)):
            raw_tags = [str(raw_tags)]
        names = list(raw_tags) if raw_tags is not None else [*post.tags, *post.categories]
        tags = alnum_tags(names, TAGS_MAX)

        embeds: list[str] = []

        def hold(embed: Embed) -> str:  # keep our own tags out of the escaping
            embeds.append(liquid_embed(embed))
            return f"\x00{len(embeds) - 1}\x00"

        # one escaping pass over the whole body (one block parse); placeholders hold the embeds
        pieces = _PLACEHOLDER.split(liquid_safe(post.document.markdown(embed=hold)))
        body = "".join((embeds[int(p)] if int(p) < len(embeds) else "") if i % 2 else p for i, p in enumerate(pieces))
        if body.lstrip().startswith("---"):
            # a leading thematic break would read as front matter on dev.to
            body = body.lstrip().replace("---", "***", 1)

        article: dict[str, Any] = {
            "title": title,
            "body_markdown": body,
            "published": bool(over.get("published", True)),
            "canonical_url": post.url,
            "tags": ",".join(tags),
        }
        description = str(over.get("description") or post.excerpt).strip()
        if description:
            article["description"] = description
        series = over.get("series", post.series)
        if series:
            article["series"] = str(series)
        media: list[MediaItem] = []
        cover = post.cover
        if cover is not None and is_http_url(cover.url):
            article["main_image"] = cover.url
            media.append(MediaItem("cover", str(cover.url), cover.alt))
        elif cover is not None:
            warnings.append("cover has no absolute http(s) URL; main_image left out")
        for image in post.document.images:
            # dev.to fetches images by URL: each must answer before the article goes out
            if is_http_url(image.url) and all(m.source != image.url for m in media):
                media.append(MediaItem("inline", str(image.url), image.alt))
            elif not is_http_url(image.url):
                warnings.append(f"image {image.src!r} has no public URL: dev.to cannot show it")
        org = self.option("organization_id")
        if org not in (None, ""):
            try:
                article["organization_id"] = int(org)
            except (TypeError, ValueError):
                raise ConfigError(f"targets.{self.name}.organization_id must be a number") from None
        return Draft(self.type, {"article": article}, media=media, warnings=warnings)

    def preview(self, draft: Draft, remote: Remote | None = None) -> RequestPreview:
        if remote is None:
            return RequestPreview("POST", self.api + ARTICLES, draft.payload)
        return RequestPreview("PUT", self.api + ARTICLE.format(id=remote.id), draft.payload)

    # I/O -------------------------------------------------------------------

    def reachable(self, draft: Draft) -> Draft:
        """The draft with every image URL checked: dev.to caches a failed fetch for good.

        An image that does not answer (the site not yet deployed, a private
        repository) is rehosted when the media pipeline has a store configured;
        otherwise the article waits (`Transient`) rather than go out broken.
        """
        if self.media is None or not hasattr(self.media, "check_url"):
            return draft
        swaps: dict[str, str] = {}
        for item in draft.media:
            problem = self.media.check_url(item.source)
            if problem is None:
                continue
            store = getattr(self.media, "rehost_store", None)
            if store is None:
                raise Transient(
                    f"{self.name}: image {item.source} does not answer ({problem}); not published yet, because "
                    "dev.to would keep the broken image (deploy the site, or configure [media.rehost])"
                )
            swaps[item.source] = self.media.rehost(item, self.limits.media or DevTo.limits.media)
        if not swaps:
            return draft
        article = dict(draft.payload["article"])
        for old, new in swaps.items():
            article["body_markdown"] = article["body_markdown"].replace(old, new)
            if article.get("main_image") == old:
                article["main_image"] = new
        return Draft(draft.target_type, {"article": article}, draft.text, draft.media, draft.warnings)

    def create(self, draft: Draft, key: str) -> Remote:
        draft = self.reachable(draft)
        try:
            response = self.send("POST", self.api + ARTICLES, idempotent=False, json=draft.payload, headers=self._headers())
        except Permanent as exc:
            canonical = draft.payload.get("article", {}).get("canonical_url")
            if canonical and not isinstance(exc, NotFound) and _TAKEN.search(exc.message):
                found = self._find_canonical(canonical)
                if found is not None:  # bring it in step (it may be older, or unpublished)
                    return self.update(found, draft)
            raise
        return self._remote(response, OutcomeUnknown)

    def update(self, remote: Remote, draft: Draft) -> Remote:
        draft = self.reachable(draft)
        url = self.api + ARTICLE.format(id=remote.id)
        response = self.send("PUT", url, idempotent=True, json=draft.payload, headers=self._headers())
        return self._remote(response, Transient)

    def find(self, post: Post, key: str) -> Remote | None:
        return self._find_canonical(post.url)

    def delete(self, remote: Remote) -> None:
        """Unpublish (`published: false`): v1 has no DELETE for ordinary users."""
        url = self.api + ARTICLE.format(id=remote.id)
        try:
            self.send("PUT", url, idempotent=True, json={"article": {"published": False}}, headers=self._headers())
        except NotFound:
            return

    def _find_canonical(self, canonical: str) -> Remote | None:
        for page in range(1, MAX_PAGES + 1):
            response = self.send(
                "GET",
                self.api + MY_ARTICLES,
                idempotent=True,
                params={"per_page": PER_PAGE, "page": page},
                headers=self._headers(),
            )
            try:
                items = response.json()
            except ValueError:
                raise Transient(f"{self.name}: unreadable article list") from None
            if not isinstance(items, list):
                raise Transient(f"{self.name}: unexpected article list")
            for item in items:
                if isinstance(item, dict) and same_url(item.get("canonical_url"), canonical):
                    return Remote(str(item["id"]), item.get("url"), {"published": item.get("published", True)})
            if len(items) < PER_PAGE:
                return None
        return None

    def _remote(self, response: httpx.Response, failure: type[Transient]) -> Remote:
        try:
            body = response.json()
            return Remote(str(body["id"]), body.get("url"), {"published": body.get("published_at") is not None})
        except (ValueError, KeyError, TypeError):
            raise failure(f"{self.name}: HTTP {response.status_code} without an article id") from None
