"""Hashnode: articles on a publication through the GraphQL API.

API: https://apidocs.hashnode.com (schema: specs/hashnode/schema.graphql);
facts in PLATFORMS.md §2. Every call is a POST of `{query, variables}` to
`base_url`; errors arrive with HTTP 200 in `errors[].extensions.code`, so
`check` maps them (UNAUTHENTICATED/FORBIDDEN → AuthFailed, NOT_FOUND →
NotFound, BAD_USER_INPUT → Permanent, INTERNAL_SERVER_ERROR → Transient).

Create is `publishPost` with `originalArticleURL` (the canonical URL), update is
`updatePost` by id. The API has no idempotency key: `find` looks the post up
by its slug, then among the publication's posts, and takes only a post whose
canonical URL is the post's own. The schema has no mutation that deletes or
unpublishes a post (only `deleteDraft`), so a post withdrawn on the site stays
on Hashnode until a person removes it there (docs/hashnode.md).
"""
from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any

from pydantic import Field

from connectors.common import public_images, same_url
from syndicate.auth import Bearer
from syndicate.config import HttpUrl, Secret, TargetOptions
from syndicate.content.markdown.convert import Renders, for_platform
from syndicate.content.markdown.document import Embed
from syndicate.content.markdown.plain import plain_field
from syndicate.contract import (
    Abilities,
    AuthFailed,
    Connector,
    ConnectorError,
    Draft,
    Facts,
    Limits,
    MediaPolicy,
    NotFound,
    Permanent,
    RateLimit,
    Remote,
    Request,
    SendContext,
    TagRules,
    Transient,
    raise_for_status,
)
from syndicate.engine.fitting import SPECIAL_TAGS, listed, shape_tags, tag_names

if TYPE_CHECKING:
    import httpx

    from syndicate.content.post import Post

TAGS_MAX_API = 15  # schema.graphql PublishPostInput.tags: "max 15"
TAGS_DEFAULT = 5  # the Hashnode editor's own rule; posts with more cannot be edited there unchanged
PAGE_SIZE = 20
# Hashnode's editor writes GitHub-flavoured Markdown (tables, strikethrough, task lists); footnotes and
# definition lists are not in what it documents, so they are converted (a choice: no public source says more)
HASHNODE = Renders(tasklist=True)
MAX_PAGES = 50
_POST_FIELDS = "id slug url canonicalUrl"
PUBLISH = ("mutation PublishPost($input: PublishPostInput!) "
           f"{{ publishPost(input: $input) {{ post {{ {_POST_FIELDS} }} }} }}")
UPDATE = ("mutation UpdatePost($input: UpdatePostInput!) "
          f"{{ updatePost(input: $input) {{ post {{ {_POST_FIELDS} }} }} }}")
BY_SLUG = ("query PostBySlug($publication: ObjectId!, $slug: String!) "
           f"{{ publication(id: $publication) {{ post(slug: $slug) {{ {_POST_FIELDS} }} }} }}")
POSTS = ("query PublicationPosts($publication: ObjectId!, $first: Int!, $after: String) "
         "{ publication(id: $publication) { posts(first: $first, after: $after) "
         f"{{ edges {{ node {{ {_POST_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }} }}")

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
# Our own fake's wording; the real API's answer to a taken slug is undocumented (PLATFORMS.md §2 (f)).
_TAKEN = re.compile(r"slug.*(taken|exists)", re.IGNORECASE)


class HashnodeOptions(TargetOptions):
    token: Secret = Field(description="A personal access token (hashnode.com/settings/developer).")
    publication_id: str = Field(description="The publication's id (its dashboard URL holds it).")
    base_url: HttpUrl = Field(default="https://gql.hashnode.com", description="The GraphQL endpoint.")
    max_tags: int = Field(default=TAGS_DEFAULT, ge=0, le=TAGS_MAX_API,
                          description="Tags kept per post (the editor's rule is 5, the API's 15).")


def tag_slug(name: str) -> str:
    """`Machine Learning` → `machine-learning`, `C++` → `cpp`, `Café` → `cafe`; may return ""."""
    special = SPECIAL_TAGS.get(name.strip().casefold())
    if special:
        return special
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return _NOT_SLUG.sub("-", folded.lower()).strip("-")


def embed_markdown(embed: Embed) -> str:
    """Hashnode's own embed line, `%[URL]` (its editor writes and exports embeds this way)."""
    return f"%[{embed.url}]"


def graphql_error(name: str, errors: list[Any], publication: str | None) -> ConnectorError:
    """The error class for a GraphQL `errors` list (the first error decides)."""
    first: dict[str, Any] = errors[0] if errors and isinstance(errors[0], dict) else {}
    extensions = first.get("extensions")
    if not isinstance(extensions, dict):
        extensions = {}
    code = str(extensions.get("code") or "")
    message = " ".join(str(first.get("message") or "no message").split())[:300]
    what = f"{name}: {code or 'GraphQL error'}: {message}"
    if code == "UNAUTHENTICATED":
        return AuthFailed(f"{what} (Hashnode refused the token)")
    if code == "FORBIDDEN":
        return AuthFailed(f"{what} (the token cannot write to publication {publication}: its user must be a "
                          "member allowed to publish, and the API may need the publication on the Pro plan)")
    if code == "NOT_FOUND":
        return NotFound(what)
    if code == "INTERNAL_SERVER_ERROR":
        return Transient(what)
    return Permanent(what)  # BAD_USER_INPUT, GRAPHQL_VALIDATION_FAILED and anything unknown: never retried


class Hashnode(Connector):
    """Articles on one Hashnode publication (`publication_id`)."""

    type = "hashnode"
    options = HashnodeOptions
    auth = Bearer("token")  # "Bearer" is optional for Hashnode, and accepted (PLATFORMS.md §2 (b))
    limits = Limits(
        tags=TagRules(max=TAGS_DEFAULT, style="name"),
        # images are fetched by URL; the upload API takes image/* but SVG, ≤ 8 MB (PLATFORMS.md §2 (e))
        media=MediaPolicy(max_bytes=8 * 1024 * 1024, formats=("jpeg", "png", "gif", "webp"), max_count=1),
        # advisory, "not currently enforced" (PLATFORMS.md §2 (g)): one budget for every mutation
        rates=(RateLimit("mutations:create", 500, 60), RateLimit("mutations:update", 500, 60),
               RateLimit("read", 20_000, 60)),
    )
    abilities = Abilities(
        can_update=True,
        delete="none",  # no removePost/unpublish mutation in the schema
        can_find=True,  # by slug and canonical URL among the publication's posts
        needs_public_media_url=True,
        find_hint="look at your Hashnode publication's posts",
    )

    @property
    def endpoint(self) -> str:
        return self.base or "https://gql.hashnode.com"

    @property
    def publication(self) -> str:
        return str(self.option("publication_id") or "")

    def limits_for(self, facts: Facts | None) -> Limits:
        wanted = self.option("max_tags", TAGS_DEFAULT)
        return self.with_limits(tags=TagRules(max=int(wanted), style="name"))

    # --- pure -----------------------------------------------------------------------------

    def render(self, post: Post, facts: Facts | None = None) -> Draft:
        over = post.control.override(self.name, self.type)
        warnings: list[str] = []
        title = plain_field(str(over.get("title") or post.title)) or post.slug
        tags, tag_warnings = self._tags(tag_names([*post.tags, *post.categories], over), facts)
        warnings += tag_warnings

        fields: dict[str, Any] = {
            "publicationId": self.publication,
            "title": title,
            "contentMarkdown": for_platform(post.document, HASHNODE).markdown(embed_markdown),
            "originalArticleURL": post.url,
        }
        slug = tag_slug(str(over.get("slug") or post.slug))
        if slug:
            fields["slug"] = slug
        if tags:
            fields["tags"] = tags
        # Hashnode shows images from their URLs: each is checked by the engine before the post goes out
        cover_url, media, image_warnings = public_images(post, "Hashnode", "coverImage")
        if cover_url:
            fields["coverImage"] = cover_url
        warnings += image_warnings
        return Draft(self.type, fields={"input": fields}, media=media, warnings=warnings)

    def _tags(self, names: list[str], facts: Facts | None) -> tuple[list[dict[str, str]], list[str]]:
        """{slug, name} pairs: one per slug, at most `max_tags`; names with no usable slug left out."""
        by_slug: dict[str, str] = {}
        dropped: list[str] = []
        for name in names:
            clean = " ".join(name.split())
            slug = tag_slug(clean)
            if not slug:
                dropped.append(clean)
            elif slug not in by_slug:
                by_slug[slug] = clean
        rules = self.limits_for(facts).tags
        assert rules is not None
        kept, warnings = shape_tags(list(by_slug.values()), rules)
        if dropped:
            warnings.append("tags with no ASCII slug left out: " + listed(repr(d) for d in dropped))
        slugs = {name: slug for slug, name in by_slug.items()}
        return [{"slug": slugs[name], "name": name} for name in kept], warnings

    def _input(self, draft: Draft, ctx: SendContext) -> dict[str, Any]:
        """The post's fields with every image URL replaced by the one the engine checked or rehosted."""
        fields = dict(draft.fields["input"])
        for old, new in ctx.media.items():
            if new and new != old:
                fields["contentMarkdown"] = fields["contentMarkdown"].replace(old, new)
                if fields.get("coverImage") == old:
                    fields["coverImage"] = new
        return fields

    def build_create(self, draft: Draft, key: str, ctx: SendContext) -> Request:
        body = {"query": PUBLISH, "variables": {"input": self._input(draft, ctx)}}
        return Request("POST", self.endpoint, json=body, kind="create", idempotent=False)

    def build_update(self, remote: Remote, draft: Draft, ctx: SendContext) -> Request:
        fields = {k: v for k, v in self._input(draft, ctx).items() if k != "publicationId"}
        body = {"query": UPDATE, "variables": {"input": {"id": remote.id, **fields}}}
        return Request("POST", self.endpoint, json=body, kind="update")

    def build_verify(self) -> Request | None:
        """`me`: the token's user (a query, nothing written)."""
        return Request("POST", self.endpoint, json={"query": "query Verify { me { id username } }"}, kind="read")

    def parse_remote(self, response: httpx.Response, ctx: SendContext) -> Remote:
        data = response.json()["data"]
        payload = data.get("publishPost") or data.get("updatePost")
        node = payload["post"]
        return _remote(node)

    def check(self, response: httpx.Response) -> None:
        """HTTP errors as usual; then GraphQL's `errors`, which arrive with HTTP 200."""
        if 300 <= response.status_code < 400:
            where = response.headers.get("location", "elsewhere")
            raise Permanent(f"{self.name}: HTTP {response.status_code}: the API moved to {where}; set base_url")
        if response.status_code >= 400:
            try:
                errors = response.json().get("errors")
            except (ValueError, AttributeError):
                errors = None
            if response.status_code == 400 and errors:  # a query the server could not parse or validate
                raise graphql_error(self.name, errors, self.publication)
            raise_for_status(response, self.name)
        try:
            body = response.json()
        except ValueError:
            return  # parse_remote (or find) decides what an unreadable answer means
        if isinstance(body, dict) and body.get("errors"):
            raise graphql_error(self.name, list(body["errors"]), self.publication)

    # --- I/O ------------------------------------------------------------------------------

    def recover(self, exc: ConnectorError, draft: Draft, key: str) -> Remote | None:
        """A refused create whose slug is taken: an earlier attempt may have landed."""
        fields = draft.fields.get("input", {})
        if _TAKEN.search(exc.message):
            return self._find(fields.get("slug"), str(fields.get("originalArticleURL") or ""))
        return None

    def find(self, post: Post, key: str) -> Remote | None:
        over = post.control.override(self.name, self.type)
        return self._find(tag_slug(str(over.get("slug") or post.slug)) or None, post.url)

    def _find(self, slug: str | None, canonical: str) -> Remote | None:
        if slug:
            data = self._query(BY_SLUG, {"publication": self.publication, "slug": slug})
            node = (data.get("publication") or {}).get("post")
            if isinstance(node, dict) and same_url(node.get("canonicalUrl"), canonical):
                return _remote(node)
        after: str | None = None
        for _page in range(MAX_PAGES):
            data = self._query(POSTS, {"publication": self.publication, "first": PAGE_SIZE, "after": after})
            publication = data.get("publication")
            if not isinstance(publication, dict):
                raise Permanent(f"{self.name}: no publication {self.publication!r} on Hashnode")
            try:
                posts = publication["posts"]
                nodes = [edge["node"] for edge in posts["edges"]]
                info = posts["pageInfo"]
            except (KeyError, TypeError):
                raise Transient(f"{self.name}: unexpected post list") from None
            for node in nodes:
                if same_url(node.get("canonicalUrl"), canonical):
                    return _remote(node)
            if not info.get("hasNextPage") or not info.get("endCursor"):
                return None
            after = str(info["endCursor"])
        return None

    def _query(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = self.send(Request("POST", self.endpoint, json={"query": query, "variables": variables},
                                     kind="read"))
        try:
            data = response.json()["data"]
        except (ValueError, KeyError, TypeError):
            raise Transient(f"{self.name}: unreadable GraphQL answer (HTTP {response.status_code})") from None
        if not isinstance(data, dict):
            raise Transient(f"{self.name}: GraphQL answered without data")
        return data


def _remote(node: dict[str, Any]) -> Remote:
    return Remote(str(node["id"]), node.get("url"), {"slug": node.get("slug")})
