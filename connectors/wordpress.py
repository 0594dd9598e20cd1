"""WordPress (self-hosted or any site with the core REST API): posts as HTML through /wp-json/wp/v2.

API: https://developer.wordpress.org/rest-api/reference/posts/ (and /media/,
/tags/, /categories/). Auth is an application password over HTTP Basic
(https://make.wordpress.org/core/2020/11/05/application-passwords-integration-guide/).

Tags and categories are sent by id. Each distinct name is looked up once per
process and account, then cached, so a backfill looks up each term once: a
search (a read); when the name is not there, a `POST` creates it, and a
`term_exists` answer (WordPress 6.1: HTTP 400, `data.term_id`; a name with
`&` is stored escaped and missed by the search) names the existing id.
Preview never writes: it shows `<new tag: name>` for terms not on the site. Term lookups happen in the request builders,
because the ids are part of the exact request.

The idempotency key goes into a registered post meta key (`key_meta`) when
the site exposes it in the REST schema, else into an HTML comment marker at
the end of the content; `find` looks by slug, then by a search for the key.
The canonical link goes into Yoast's or Rank Math's canonical meta when the
site exposes that meta through REST, else into a short footer.
"""
from __future__ import annotations

import html
import json
import string
import threading
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import PositiveInt, field_validator

from connectors.common import is_http_url
from connectors.wordpress_html import footer, key_in, marker, media_entry, rewrite_images, wordpress_safe
from syndicate.auth import Basic, account_of
from syndicate.config import HttpUrl, Secret, TargetOptions
from syndicate.content.markdown.anchors import html_ids, local_html
from syndicate.content.markdown.plain import plain_field
from syndicate.contract import (
    Abilities,
    Connector,
    ConnectorError,
    Draft,
    Facts,
    FittedMedia,
    Limits,
    MediaItem,
    MediaPolicy,
    Remote,
    Request,
    SendContext,
    TagRules,
    Transient,
)
from syndicate.engine.fitting import shape_tags

if TYPE_CHECKING:
    import httpx

    from syndicate.content.post import Post

POSTS = "/wp/v2/posts"
POST = "/wp/v2/posts/{id}"
MEDIA = "/wp/v2/media"
TAXONOMIES = {"tags": "/wp/v2/tags", "categories": "/wp/v2/categories"}
FIND_STATUSES = "publish,future,draft,pending,private"
TERM_NAME_MAX = 200  # wp_insert_term: "A name can be at most 200 characters" (wp-includes/taxonomy.php)
DEFAULT_FOOTER = 'Originally published at <a href="{url}">{site}</a>.'
# SEO plugins' canonical post meta, written through REST only where the site registers it there
SEO_CANONICAL = {"yoast": "_yoast_wpseo_canonical", "rankmath": "rank_math_canonical_url"}
SEO_NAMESPACES = {"yoast/v1": "yoast", "rankmath/v1": "rankmath"}

_TERMS: dict[tuple[str, str, str], int] = {}  # (account, taxonomy, casefolded name) -> term id, per process
_TERMS_LOCK = threading.Lock()


class WordPressOptions(TargetOptions):
    base_url: HttpUrl
    username: str
    app_password: Secret
    status: Literal["publish", "draft", "pending", "private"] = "publish"
    force_delete: bool = False  # false: deleted copies go to the trash
    canonical_footer: str = DEFAULT_FOOTER  # {url}, {site}, {title}; "" for none
    key_meta: str = "syndicate_key"  # a post meta key registered with show_in_rest, if the site has one
    max_upload_bytes: PositiveInt = 2 * 1024 * 1024  # PHP's default upload_max_filesize (2M)

    @field_validator("canonical_footer")
    @classmethod
    def _footer(cls, value: str) -> str:
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError as exc:
            raise ValueError(f"malformed footer: {exc}") from None
        if not names <= {"url", "site", "title"}:
            raise ValueError("may use only {url}, {site} and {title}")
        return value


class WordPress(Connector):
    """Posts on a WordPress site (`base_url`, the REST API under /wp-json/)."""

    type = "wordpress"
    options = WordPressOptions
    auth = Basic("username", "app_password")
    limits = Limits(
        tags=TagRules(style="name", max_length=TERM_NAME_MAX),
        media=MediaPolicy(max_bytes=2 * 1024 * 1024, formats=("jpeg", "png", "gif", "webp"), max_count=50),
    )
    abilities = Abilities(
        can_update=True,
        delete="delete",
        can_find=True,  # by slug, then by the key (meta or content marker)
        find_hint="look under Posts in wp-admin (every status)",
    )

    @property
    def api(self) -> str:
        base = self.base
        return base if base.endswith("/wp-json") else base + "/wp-json"

    def limits_for(self, facts: Facts | None) -> Limits:
        assert self.limits.media is not None
        media = MediaPolicy(**{**vars(self.limits.media), "max_bytes": int(self.option("max_upload_bytes", 2 << 20))})
        return self.with_limits(media=media)

    def fetch_facts(self) -> Facts | None:
        """Which SEO plugin the site runs and which post meta keys REST may write."""
        index = self.send(Request("GET", self.api + "/"))
        schema = self.send(Request("OPTIONS", self.api + POSTS, kind="read"))
        try:
            namespaces = index.json().get("namespaces") or []
            props = (schema.json().get("schema") or {}).get("properties") or {}
        except (ValueError, AttributeError):
            raise Transient(f"{self.name}: unreadable REST index") from None
        meta = sorted(((props.get("meta") or {}).get("properties") or {}).keys())
        seo = next((SEO_NAMESPACES[n] for n in namespaces if n in SEO_NAMESPACES), None)
        if seo is None and "yoast_head" in props:
            seo = "yoast"
        return {"seo": seo, "meta": meta}

    # --- pure -----------------------------------------------------------------------------

    def render(self, post: Post, facts: Facts | None = None) -> Draft:
        over = post.control.override(self.name, self.type)
        warnings: list[str] = []
        meta_keys = set((facts or {}).get("meta") or [])
        title = plain_field(str(over.get("title") or post.title))  # escaped once below: never "&amp;amp;"
        assert self.limits.tags is not None
        tags, tag_warnings = shape_tags(_names(over.get("tags"), post.tags), self.limits.tags)
        categories, cat_warnings = shape_tags(_names(over.get("categories"), post.categories), self.limits.tags)
        warnings += tag_warnings + cat_warnings

        content = wordpress_safe(post.document.html())
        if f"{post.page}#" in content:  # WordPress keeps the ids: links to them in-page again
            content = local_html(content, post.page, html_ids(content))
        fields: dict[str, Any] = {"title": html.escape(title, quote=False), "slug": post.slug,
                                  "status": str(over.get("status") or self.option("status", "publish")),
                                  "excerpt": html.escape(str(over.get("excerpt") or post.excerpt), quote=False)}
        meta: dict[str, str] = {}
        seo_key = SEO_CANONICAL.get(str((facts or {}).get("seo")))
        if seo_key is not None and seo_key in meta_keys:
            meta[seo_key] = post.url
        else:
            if (facts or {}).get("seo"):
                warnings.append(f"{facts and facts['seo']} canonical meta is not writable through REST: footer used")
            site = urlsplit(post.url).netloc or post.url
            content += footer(str(self.option("canonical_footer", DEFAULT_FOOTER)), post.url, site, title)
        fields["content"] = content
        media: list[MediaItem] = []
        cover = post.cover
        if cover is not None and (is_http_url(cover.url) or cover.path is not None):
            media.append(MediaItem("cover", str(cover.url or cover.src), cover.alt, cover.path))
        for image in post.document.images:
            source = str(image.url or image.src)
            if not (is_http_url(image.url) or image.path is not None):
                warnings.append(f"image {image.src!r} has neither a file nor a public URL: left as written")
            elif all(m.source != source or m.role != "inline" for m in media):
                media.append(MediaItem("inline", source, image.alt, image.path))
        key_meta = str(self.option("key_meta", "syndicate_key"))
        return Draft(self.type, fields={"post": fields, "meta": meta, "tags": tags, "categories": categories,
                                        "key_meta": key_meta if key_meta in meta_keys else None},
                     media=media, warnings=warnings)

    def _body(self, draft: Draft, key: str | None, ctx: SendContext, known: dict[str, Any]) -> dict[str, Any]:
        body = dict(draft.fields["post"])
        uploaded = {**known, **{s: e for s, v in ctx.media.items() if (e := media_entry(v)) is not None}}
        inline = {m.source: uploaded[m.source] for m in draft.media if m.role == "inline" and m.source in uploaded}
        shown = {m.source: ctx.media[m.source] for m in draft.media  # a preview: what the upload will replace
                 if ctx.preview and m.role == "inline" and m.source not in inline and m.source in ctx.media}
        content = rewrite_images(body["content"], inline, shown)
        meta = dict(draft.fields.get("meta") or {})
        if key is not None and draft.fields.get("key_meta"):
            meta[draft.fields["key_meta"]] = key
        elif key is not None:
            content += marker(key)
        body["content"] = content
        if meta:
            body["meta"] = meta
        cover = next((m for m in draft.media if m.role == "cover"), None)
        if cover is not None:
            entry = uploaded.get(cover.source)
            if entry is not None:
                body["featured_media"] = int(entry["id"])
            elif ctx.preview and cover.source in ctx.media:
                body["featured_media"] = ctx.media[cover.source]
        for taxonomy in TAXONOMIES:
            names = draft.fields.get(taxonomy) or []
            body[taxonomy] = [self.term_id(taxonomy, name, create=not ctx.preview) for name in names]
        return body

    def build_create(self, draft: Draft, key: str, ctx: SendContext) -> Request:
        return Request("POST", self.api + POSTS, json=self._body(draft, key, ctx, {}), idempotent=False)

    def build_update(self, remote: Remote, draft: Draft, ctx: SendContext) -> Request:
        # the engine uploads no media on an update: the copies made at create are reused
        known = {s: e for s, e in (remote.extra.get("media") or {}).items() if isinstance(e, dict)}
        key = remote.extra.get("key")
        return Request("POST", self.api + POST.format(id=remote.id),
                       json=self._body(draft, str(key) if key else None, ctx, known), kind="update")

    def build_verify(self) -> Request | None:
        """The user the application password belongs to (`context=edit` needs the login)."""
        return Request("GET", self.api + "/wp/v2/users/me", params={"context": "edit"}, kind="read")

    def build_delete(self, remote: Remote) -> Request:
        params = {"force": "true"} if self.option("force_delete", False) else None
        return Request("DELETE", self.api + POST.format(id=remote.id), params=params)

    def parse_remote(self, response: httpx.Response, ctx: SendContext) -> Remote:
        body = response.json()
        extra: dict[str, Any] = {"status": body.get("status")}
        key = _key_of(body, str(self.option("key_meta", "syndicate_key")))
        if key:
            extra["key"] = key
        uploaded = {s: e for s, v in ctx.media.items() if (e := media_entry(v)) is not None}
        if uploaded:
            extra["media"] = uploaded
        return Remote(str(body["id"]), body.get("link"), extra)

    # --- I/O ------------------------------------------------------------------------------

    def check(self, response: httpx.Response) -> None:
        """A `term_exists` refusal is an answer (it names the existing term), not an error."""
        if response.status_code == 400 and _code(response) == "term_exists":
            return
        super().check(response)

    def term_id(self, taxonomy: str, name: str, *, create: bool = True) -> int | str:
        """The id of a tag or category by name (cached per process); created when missing and `create`."""
        cache_key = (account_of(self), taxonomy, name.casefold())
        with _TERMS_LOCK:
            hit = _TERMS.get(cache_key)
        if hit is not None:
            return hit
        url = self.api + TAXONOMIES[taxonomy]
        # a search first: an existing term costs one read, no write
        try:
            response = self.send(Request("GET", url, params={"search": name, "per_page": 100}))
        except ConnectorError:
            if create:
                raise
            # a preview without credentials (or without the site): the term by name
            return f"<{'category' if taxonomy == 'categories' else 'tag'}: {name}>"
        found = [t for t in _list(response) if html.unescape(str(t.get("name"))).casefold() == name.casefold()]
        if found:
            term = int(found[0]["id"])
        elif not create:  # preview: never a write
            return f"<new {'category' if taxonomy == 'categories' else 'tag'}: {name}>"
        else:
            response = self.send(Request("POST", url, json={"name": name}, kind="create"))
            try:
                body = response.json()
                term = int(body["data"]["term_id"] if response.status_code == 400 else body["id"])
            except (ValueError, KeyError, TypeError):
                raise Transient(f"{self.name}: unreadable answer creating {taxonomy} {name!r}") from None
        with _TERMS_LOCK:
            _TERMS[cache_key] = term
        return term

    def upload(self, item: MediaItem, fitted: FittedMedia) -> str:
        """POST /wp/v2/media (multipart) with `alt_text`; returns {"id", "url"} as JSON."""
        stem = PurePosixPath(urlsplit(item.source).path).stem or "image"
        suffix = PurePosixPath(fitted.filename).suffix or ".jpg"
        params = {"alt_text": fitted.alt or item.alt or ""}
        response = self.send(Request("POST", self.api + MEDIA, params=params, kind="media",
                                     files={"file": (stem + suffix, fitted.data, fitted.mime)}))
        try:
            body = response.json()
            return json.dumps({"id": int(body["id"]), "url": body.get("source_url")})
        except (ValueError, KeyError, TypeError):
            raise Transient(f"{self.name}: media upload answered without an id") from None

    def find(self, post: Post, key: str) -> Remote | None:
        """The copy created under `key`: among the posts with the slug, else by a search for the key."""
        key_meta = str(self.option("key_meta", "syndicate_key"))
        for params in ({"slug": post.slug}, {"search": key}):
            response = self.send(Request("GET", self.api + POSTS, params={
                **params, "status": FIND_STATUSES, "context": "edit", "per_page": 100}))
            try:
                items = response.json()
            except ValueError:
                raise Transient(f"{self.name}: unreadable post list") from None
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and _key_of(item, key_meta) == key:
                    return Remote(str(item["id"]), item.get("link"), {"status": item.get("status"), "key": key})
        return None


def _names(override: Any, default: list[str]) -> list[str]:
    if override is None:
        return list(default)
    if isinstance(override, str):
        return override.split(",")
    return [str(n) for n in override] if isinstance(override, (list, tuple)) else [str(override)]


def _key_of(body: dict[str, Any], key_meta: str) -> str | None:
    """The idempotency key a post carries: in its meta, else in its content's marker (edit context)."""
    meta = body.get("meta")
    if isinstance(meta, dict) and meta.get(key_meta):
        return str(meta[key_meta])
    content = body.get("content")
    raw = content.get("raw") if isinstance(content, dict) else None
    return key_in(str(raw)) if raw else None


def _list(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        items = response.json()
    except ValueError:
        raise Transient("unreadable term list") from None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return str(body.get("code")) if isinstance(body, dict) else None
