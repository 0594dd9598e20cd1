"""Medium: a story per post through the (unsupported) Medium API v1.

API: https://github.com/Medium/medium-api-docs (a README, no spec); facts in
PLATFORMS.md §3. Medium's own docs say: "The Medium API is no longer
supported. We do not recommend using it." This target is for people who still
hold an integration token.

A story is created with `POST /v1/users/{authorId}/posts` (the id comes from
`GET /v1/me`, kept in the ledger as this account's facts) or, with
`publication_id`, `POST /v1/publications/{id}/posts`. The API has no update,
read, list or delete: the ledger is the only memory of a story, a create whose
answer was lost is never sent again (the row waits in state `check` for
`syndicate resolve`), and edits are not propagated.
"""
from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from connectors.common import is_http_url
from syndicate.auth import Bearer, account_of
from syndicate.config import HttpUrl, Secret, TargetOptions
from syndicate.content.markdown.convert import Renders, for_platform
from syndicate.content.markdown.plain import plain_field
from syndicate.contract import (
    Abilities,
    Connector,
    Draft,
    Facts,
    Limits,
    MediaItem,
    MediaPolicy,
    OutcomeUnknown,
    Remote,
    Request,
    SendContext,
    TagRules,
    Transient,
    raise_for_status,
)
from syndicate.engine.fitting import shape_tags, tag_names, title_of

if TYPE_CHECKING:
    import httpx

    from syndicate.content.post import Post

ME = "/v1/me"
USER_POSTS = "/v1/users/{id}/posts"
PUBLICATION_POSTS = "/v1/publications/{id}/posts"
TITLE_MAX = 100  # "titles longer than 100 characters will be ignored" (medium-api-docs README, Creating a post)
TAGS_MAX = 3  # "Only the first three will be used"
TAG_LENGTH = 25  # "Tags longer than 25 characters will be ignored"
MEDIUM_MARKDOWN = Renders()  # Medium's Markdown import knows no footnotes, definition or task lists
STATUSES = ("public", "draft", "unlisted")
AUTHOR_PLACEHOLDER = "{authorId from GET /v1/me}"


class MediumOptions(TargetOptions):
    token: Secret = Field(description="An integration token (Medium settings, Security and apps).")
    publication_id: str | None = Field(default=None, description="Post to this publication instead of the profile.")
    base_url: HttpUrl = Field(default="https://api.medium.com", description="The API's base URL.")
    publish_status: Literal["public", "draft", "unlisted"] = Field(default="public",
                                                                   description="How the story is published.")
    content_format: Literal["html", "markdown"] = Field(default="html", description="What `content` is sent as.")


class Medium(Connector):
    """Stories on a Medium profile, or in a publication (`publication_id`)."""

    type = "medium"
    options = MediumOptions
    auth = Bearer("token")
    limits = Limits(
        title_max=TITLE_MAX,
        tags=TagRules(max=TAGS_MAX, style="name", max_length=TAG_LENGTH),
        # Medium side-loads every <img src> in the content (README, Uploading an image); formats from /v1/images
        media=MediaPolicy(max_bytes=25 * 1024 * 1024, formats=("jpeg", "png", "gif"), max_count=1),
    )
    abilities = Abilities(
        can_update=False,
        delete="none",
        can_find=False,
        needs_public_media_url=True,
        find_hint="look at your Medium profile's stories",
    )
    facts_ttl = 30 * 24 * 3600.0  # the token's user id does not change

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._author: str | None = None  # the token's user id, once known

    # --- the author id: GET /v1/me, once per account --------------------------------

    def facts_scope(self) -> str:
        return f"medium me {account_of(self)}"  # one per token (a hash, never the token)

    def fetch_facts(self) -> Facts | None:
        if self.option("publication_id"):
            return None  # publication posts need no user id
        return {"user_id": self._me()}

    def _me(self) -> str:
        response = self.send(Request("GET", self.base + ME, kind="read"))
        try:
            return str(response.json()["data"]["id"])
        except (ValueError, KeyError, TypeError):
            raise Transient(f"{self.name}: GET {ME} answered without a user id") from None

    def author_id(self, ctx: SendContext) -> str:
        """The user id to post as; fetched when the facts did not hold it (never for a preview)."""
        if self._author is None and not ctx.preview:
            self._author = self._me()
        return self._author or AUTHOR_PLACEHOLDER

    # --- pure -----------------------------------------------------------------------------

    def render(self, post: Post, facts: Facts | None = None) -> Draft:
        if facts and facts.get("user_id") and self._author is None:
            self._author = str(facts["user_id"])  # remembered for build_create (it never reaches the draft)
        over = post.control.override(self.name, self.type)
        warnings: list[str] = []
        title, shortened = title_of(plain_field(post.title), self.limits, over)
        title = title or post.slug
        warnings += [f"{w} (Medium ignores a longer one)" for w in shortened]
        assert self.limits.tags is not None
        tags, tag_warnings = shape_tags(tag_names([*post.tags, *post.categories], over), self.limits.tags)
        tags = list(dict.fromkeys(t.strip() for t in tags))  # a tag cut at 25 may end in a space
        warnings += tag_warnings

        markdown = self.option("content_format", "html") == "markdown"
        media: list[MediaItem] = []
        cover = post.cover
        head = [f"# {title}\n\n" if markdown else f"<h1>{html.escape(title)}</h1>\n"]  # Medium shows no title else
        if cover is not None and is_http_url(cover.url):
            media.append(MediaItem("cover", str(cover.url), cover.alt, cover.path))
            alt = cover.alt or ""
            head.append(f"![{alt}]({cover.url})\n\n" if markdown else
                        f'<figure><img src="{html.escape(str(cover.url))}" alt="{html.escape(alt)}"></figure>\n')
        elif cover is not None:
            warnings.append("cover has no absolute http(s) URL; left out")
        for image in post.document.images:
            if is_http_url(image.url) and all(m.source != image.url for m in media):
                media.append(MediaItem("inline", str(image.url), image.alt, image.path))
            elif not is_http_url(image.url):
                warnings.append(f"image {image.src!r} has no public URL: Medium cannot show it")
        body = for_platform(post.document, MEDIUM_MARKDOWN).markdown() if markdown else post.document.html()
        story: dict[str, Any] = {
            "title": title,
            "contentFormat": "markdown" if markdown else "html",
            "content": "".join(head) + body,
            "canonicalUrl": post.url,
            "tags": tags,
            "publishStatus": self._status(over.get("publish_status"), warnings),
        }
        return Draft(self.type, fields={"story": story}, media=media, warnings=warnings)

    def _status(self, wanted: Any, warnings: list[str]) -> str:
        default = str(self.option("publish_status", "public"))
        if wanted is None or wanted == default:
            return default
        if wanted not in STATUSES:
            warnings.append(f"publish_status {wanted!r} is not one of {', '.join(STATUSES)}; {default} used")
            return default
        return str(wanted)

    def build_create(self, draft: Draft, key: str, ctx: SendContext) -> Request:
        story = dict(draft.fields["story"])
        for old, new in ctx.media.items():
            if new and new != old:
                story["content"] = story["content"].replace(old, new)
        publication = self.option("publication_id")
        if publication:
            url = self.base + PUBLICATION_POSTS.format(id=publication)
        else:
            url = self.base + USER_POSTS.format(id=self.author_id(ctx))
        return Request("POST", url, json=story, kind="create", idempotent=False)

    def check(self, response: httpx.Response) -> None:
        """As usual, but a gateway's 502/504 to a create leaves its outcome unknown."""
        # RFC 9110 §15.6.3, §15.6.5: the gateway had no valid answer from Medium, which may have stored
        # the story; with no way to look it up, the engine must not send it again
        if response.status_code in (502, 504) and response.request.method == "POST":
            raise OutcomeUnknown(f"{self.name}: HTTP {response.status_code} from a gateway: the story may exist")
        raise_for_status(response, self.name)

    def build_verify(self) -> Request | None:
        """`GET /v1/me`: the token's user."""
        return Request("GET", self.base + ME, kind="read")

    def parse_remote(self, response: httpx.Response, ctx: SendContext) -> Remote:
        data = response.json()["data"]
        return Remote(str(data["id"]), data.get("url"), {"publishStatus": data.get("publishStatus")})
