"""dev.to (and any Forem): articles through the Forem API v1.

API: https://developers.forem.com/api/v1 (specs/forem/api_v1.json); facts and
limits in PLATFORMS.md §1. The API lives under `{base_url}/api`, is
authenticated with an `api-key` header and needs
`Accept: application/vnd.forem.api-v1+json`.

There is no DELETE in v1, and `PUT /articles/{id}/unpublish` needs the admin
role, so a delete sets `published: false` (the article stays, hidden).
dev.to fetches images by URL and caches a failed fetch for good, so the
engine checks every image URL before an article goes out
(`needs_public_media_url`).
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from connectors.common import public_images, same_url
from connectors.forem_liquid import forem_markdown
from syndicate.auth import HeaderKey
from syndicate.config import HttpUrl, Secret, TargetOptions
from syndicate.content.markdown.plain import plain_field
from syndicate.contract import (
    Abilities,
    Connector,
    ConnectorError,
    Draft,
    Facts,
    Limits,
    MediaPolicy,
    RateLimit,
    Remote,
    Request,
    SendContext,
    TagRules,
    Transient,
)
from syndicate.engine.fitting import shape_tags, tag_names, title_of

if TYPE_CHECKING:
    import httpx

    from syndicate.content.post import Post

ACCEPT = "application/vnd.forem.api-v1+json"
ARTICLES = "/articles"
ARTICLE = "/articles/{id}"
MY_ARTICLES = "/articles/me/all"
PER_PAGE = 100  # newest first: a lost create is on the first page (the maximum is 1000)
MAX_PAGES = 200
TITLE_MAX = 128  # forem/forem app/models/article.rb
TAGS_MAX = 4  # article.rb validate_tag: "exceed the maximum of 4 tags"

# A 422 saying an article with this canonical URL exists: an earlier attempt landed.
_TAKEN = re.compile(r"canonical.url.*(taken|exists)", re.IGNORECASE)


class DevToOptions(TargetOptions):
    api_key: Secret
    base_url: HttpUrl = "https://dev.to"
    organization_id: int | None = None


class DevTo(Connector):
    """Articles on dev.to or another Forem (`base_url`)."""

    type = "devto"
    options = DevToOptions
    auth = HeaderKey("api-key", "api_key")
    limits = Limits(
        title_max=TITLE_MAX,
        tags=TagRules(max=TAGS_MAX, style="alnum"),
        # dev.to takes image URLs only (no upload API); sizes are undocumented.
        media=MediaPolicy(max_bytes=25 * 1024 * 1024, max_count=1),
        rates=(RateLimit("create", 10, 30), RateLimit("update", 30, 30)),  # PLATFORMS.md §1 (g)
    )
    abilities = Abilities(
        can_update=True,
        delete="unpublish",  # see the module docstring
        can_find=True,  # by canonical_url among the account's articles
        needs_public_media_url=True,
        find_hint="look at your dev.to dashboard",
        lost_create_settle=0,  # a second article with the same canonical_url is refused (422, then found)
    )

    @property
    def api(self) -> str:
        return self.base + "/api"

    # --- pure -----------------------------------------------------------------------------

    def render(self, post: Post, facts: Facts | None = None) -> Draft:
        over = post.control.override(self.name, self.type)
        title, warnings = title_of(plain_field(post.title), self.limits, over)
        assert self.limits.tags is not None
        tags, tag_warnings = shape_tags(tag_names([*post.tags, *post.categories], over), self.limits.tags)
        warnings += tag_warnings

        body = forem_markdown(post.document, post.page)  # Liquid outside code escaped, embeds as Forem's own tags

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
        # dev.to fetches images by URL: each is checked by the engine before the article goes out
        cover_url, media, image_warnings = public_images(post, "dev.to", "main_image")
        if cover_url:
            article["main_image"] = cover_url
        warnings += image_warnings
        org = self.option("organization_id")
        if org is not None:
            article["organization_id"] = int(org)
        return Draft(self.type, fields={"article": article}, media=media, warnings=warnings)

    def _body(self, draft: Draft, ctx: SendContext) -> dict[str, Any]:
        """The article with every image URL replaced by the one the engine checked or rehosted."""
        article = dict(draft.fields["article"])
        for old, new in ctx.media.items():
            if new and new != old:
                article["body_markdown"] = article["body_markdown"].replace(old, new)
                if article.get("main_image") == old:
                    article["main_image"] = new
        return {"article": article}

    def build_create(self, draft: Draft, key: str, ctx: SendContext) -> Request:
        return Request("POST", self.api + ARTICLES, json=self._body(draft, ctx), headers={"Accept": ACCEPT},
                       idempotent=False)

    def build_update(self, remote: Remote, draft: Draft, ctx: SendContext) -> Request:
        return Request("PUT", self.api + ARTICLE.format(id=remote.id), json=self._body(draft, ctx),
                       headers={"Accept": ACCEPT})

    def build_verify(self) -> Request | None:
        """One of the key owner's own articles (the smallest authenticated read Forem has)."""
        return Request("GET", self.api + MY_ARTICLES, params={"per_page": 1}, headers={"Accept": ACCEPT}, kind="read")

    def build_delete(self, remote: Remote) -> Request:
        """Unpublish (`published: false`): v1 has no DELETE for ordinary users."""
        return Request("PUT", self.api + ARTICLE.format(id=remote.id), json={"article": {"published": False}},
                       headers={"Accept": ACCEPT}, kind="update")

    def parse_remote(self, response: httpx.Response, ctx: SendContext) -> Remote:
        body = response.json()
        return Remote(str(body["id"]), body.get("url"), {"published": body.get("published_at") is not None})

    # --- I/O ------------------------------------------------------------------------------

    def recover(self, exc: ConnectorError, draft: Draft, key: str) -> Remote | None:
        """A 422 "canonical URL taken": an earlier attempt landed; bring that article in step."""
        canonical = draft.fields.get("article", {}).get("canonical_url")
        if canonical and _TAKEN.search(exc.message):
            return self._find_canonical(canonical)
        return None

    def find(self, post: Post, key: str) -> Remote | None:
        return self._find_canonical(post.url)

    def _find_canonical(self, canonical: str) -> Remote | None:
        for page in range(1, MAX_PAGES + 1):
            response = self.send(Request("GET", self.api + MY_ARTICLES, params={"per_page": PER_PAGE, "page": page},
                                         headers={"Accept": ACCEPT}))
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
