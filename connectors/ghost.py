"""Ghost: posts through the Admin API, as HTML, with images uploaded to the site.

API: https://ghost.org/docs/admin-api/ (posts, images, JWT tokens). The Admin
API lives under `{base_url}/ghost/api/admin/`. Every request carries a short
HS256 JWT signed with the Admin API key (`GhostToken`) and `Accept-Version`.

A post is created with `?source=html` (Ghost converts the HTML to its own
editor format). An update must send the `updated_at` Ghost last returned, or
Ghost answers 409 UpdateCollisionError; the connector then re-reads the post
and tries once more. The idempotency key is kept in an internal tag
(`#syndicate-<hash>`, hidden from readers), so a lost create is found again.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

from connectors.common import is_http_url
from syndicate.auth import Account, Auth, account_of
from syndicate.config import HttpUrl, Secret, TargetOptions
from syndicate.content.markdown.anchors import ghost_ids, id_map, local_html
from syndicate.content.markdown.plain import plain_field
from syndicate.content.markdown.render import BACKREFS, FOOTNOTES
from syndicate.content.text import truncate
from syndicate.contract import (
    Abilities,
    Connector,
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
    raise_for_status,
)
from syndicate.engine.fitting import shape_tags, tag_names, title_of
from syndicate.errors import AuthFailed, MediaError, NotFound, Permanent

if TYPE_CHECKING:
    import httpx

    from syndicate.content.post import Post

ADMIN = "/ghost/api/admin"
POSTS = ADMIN + "/posts/"
POST = ADMIN + "/posts/{id}/"
POST_BY_SLUG = ADMIN + "/posts/slug/{slug}/"
IMAGES = ADMIN + "/images/upload/"
ACCEPT_VERSION = "v5.0"
# Ghost's schema (ghost/core/core/server/data/schema/schema.js, 5.130): posts.title
# is validated to 255 characters, custom_excerpt to 300, tags.name to 191 (and may
# not start with a comma), posts_meta.feature_image_alt to 191.
TITLE_MAX = 255
TAG_MAX = 191
EXCERPT_MAX = 300
ALT_MAX = 191
TOKEN_TTL = 300  # Ghost refuses a token whose exp is more than 5 minutes after iat
TOKEN_MARGIN = 60  # a cached token is re-signed this long before it expires
KEY_TAG = "#syndicate-"  # a name starting with "#" makes an internal tag (never shown to readers)

_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_SRC = re.compile(r"""(\ssrc\s*=\s*)("[^"]*"|'[^']*')""", re.IGNORECASE)


class GhostOptions(TargetOptions):
    base_url: HttpUrl
    admin_api_key: Secret
    status: Literal["published", "draft"] = "published"
    accept_version: str = ACCEPT_VERSION


class UpdateCollision(Permanent):
    """Ghost answered 409: the post changed since the `updated_at` we sent."""


# --- auth -----------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign_admin_token(key: str, now: float, ttl: int = TOKEN_TTL) -> str:
    """An Admin API JWT: HS256 over the key's hex secret, `kid` = the key's id, audience `/admin/`."""
    key_id, _, secret = key.partition(":")
    try:
        raw = bytes.fromhex(secret)
    except ValueError:
        raw = b""
    if not key_id or not raw:
        raise AuthFailed("admin_api_key must look like '<id>:<hex secret>' (Ghost admin → Integrations)")
    header = {"alg": "HS256", "typ": "JWT", "kid": key_id}
    iat = int(now)
    payload = {"iat": iat, "exp": iat + min(ttl, TOKEN_TTL), "aud": "/admin/"}
    signing = b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + \
        b64url(json.dumps(payload, separators=(",", ":")).encode())
    digest = hmac.new(raw, signing.encode("ascii"), hashlib.sha256).digest()
    return signing + "." + b64url(digest)


class GhostToken(Auth):
    """`Authorization: Ghost <jwt>` signed from `admin_api_key`, reused until a minute before it expires."""

    refreshable = True  # a refused token (clock skew, expiry) is signed afresh once
    secrets = ("admin_api_key",)

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def apply(self, conn: Account, url: str, headers: dict[str, str], *, method: str = "GET",
              form: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
        account, now = account_of(conn), self.clock()
        with self._lock:
            hit = self._tokens.get(account)
        if hit is None or hit[1] - TOKEN_MARGIN <= now:
            hit = (sign_admin_token(conn.secret("admin_api_key"), now), int(now) + TOKEN_TTL)
            with self._lock:
                self._tokens[account] = hit
        version = str(conn.option("accept_version") or ACCEPT_VERSION)
        return url, {**headers, "Authorization": "Ghost " + hit[0], "Accept-Version": version}

    def invalidate(self, conn: Account) -> None:
        with self._lock:
            self._tokens.pop(account_of(conn), None)

    def __repr__(self) -> str:
        return "GhostToken()"


# --- HTML -----------------------------------------------------------------------------


def _same_src(a: str, b: str) -> bool:
    return unquote(a) == unquote(b)


def rewrite_images(body: str, mapping: dict[str, str]) -> str:
    """Every `<img src>` found in `mapping` (source → uploaded URL) points to its upload; alt is untouched."""
    if not mapping:
        return body

    def one_img(tag: re.Match[str]) -> str:
        def one_src(m: re.Match[str]) -> str:
            src = html.unescape(m.group(2)[1:-1])
            for old, new in mapping.items():
                if new and _same_src(src, old):
                    return f'{m.group(1)}"{html.escape(new, quote=True)}"'
            return m.group(0)

        return _SRC.sub(one_src, tag.group(0), count=1)

    return _IMG.sub(one_img, body)


def key_tag(key: str) -> str:
    """The internal tag that carries an idempotency key (a hash: tag names are short and public to staff)."""
    return KEY_TAG + hashlib.sha256(key.encode()).hexdigest()[:16]


def tag_slug(name: str) -> str:
    # Ghost slugifies "#x" to "hash-x" (tryghost/string slugify; docs: "internal tags")
    return "hash-" + name[1:]


# --- the connector ----------------------------------------------------------------------


class Ghost(Connector):
    """Posts on a Ghost site (`base_url`), published or as drafts."""

    type = "ghost"
    options = GhostOptions
    auth = GhostToken()
    limits = Limits(
        title_max=TITLE_MAX,
        tags=TagRules(max=None, style="name", max_length=TAG_MAX),
        # uploads.images in ghost/core/core/shared/config/overrides.json: jpg/png/gif/webp (+svg, ico);
        # the size cap is the front proxy's (ghost-cli's nginx: client_max_body_size 50m).
        media=MediaPolicy(max_bytes=20 * 1024 * 1024, formats=("jpeg", "png", "gif", "webp"), max_count=64),
    )
    abilities = Abilities(
        can_update=True,
        delete="delete",
        can_find=True,  # by slug, then by the internal key tag
        find_hint="look under Posts in the Ghost admin",
    )

    def api(self, path: str) -> str:
        return self.base + path

    # --- pure -----------------------------------------------------------------------------

    def render(self, post: Post, facts: Facts | None = None) -> Draft:
        over = post.control.override(self.name, self.type)
        title, warnings = title_of(plain_field(post.title), self.limits, over)
        names = tag_names([*post.tags, *post.categories], over)
        # a leading "#" would make a reader's tag internal (hidden): keep tags public
        names = [str(n).lstrip("#").replace(",", " ") for n in names]
        assert self.limits.tags is not None
        tags, tag_warnings = shape_tags(names, self.limits.tags)
        warnings += tag_warnings
        fields: dict[str, Any] = {
            "title": title,
            "slug": post.slug,
            "html": _in_page(post),
            "status": str(over.get("status") or self.option("status", "published")),
            "canonical_url": post.url,
            "tags": [{"name": t} for t in tags],
        }
        excerpt = " ".join(str(over.get("description") or post.excerpt).split())
        if excerpt:
            if len(excerpt) > EXCERPT_MAX:
                excerpt = truncate(excerpt, EXCERPT_MAX, "characters")
                warnings.append(f"excerpt shortened to {EXCERPT_MAX} characters")
            fields["custom_excerpt"] = excerpt
        media: list[MediaItem] = []
        cover = post.cover
        if cover is not None and (cover.path is not None or is_http_url(cover.url)):
            source = str(cover.url or cover.src)
            media.append(MediaItem("cover", source, cover.alt, cover.path))
            fields["feature_image"] = source
            if cover.alt:
                fields["feature_image_alt"] = truncate(" ".join(cover.alt.split()), ALT_MAX, "characters")
        elif cover is not None:
            warnings.append("cover has neither a local file nor a public URL; feature_image left out")
        for image in post.document.images:
            source = str(image.url or image.src)
            if any(m.source == source for m in media):
                continue
            if image.path is None and not is_http_url(image.url):
                warnings.append(f"image {image.src!r} has no local file or public URL: left as written")
                continue
            media.append(MediaItem("inline", source, image.alt, image.path))
            if not (image.alt or "").strip():
                warnings.append(f"image {image.src!r} has no alt text in the post")
        return Draft(self.type, fields=fields, media=media, warnings=warnings)

    def _post(self, draft: Draft, media: dict[str, str]) -> dict[str, Any]:
        post = dict(draft.fields)
        post["html"] = rewrite_images(post["html"], media)
        cover = post.get("feature_image")
        if cover:
            post["feature_image"] = media.get(cover, cover)
        return post

    def build_create(self, draft: Draft, key: str, ctx: SendContext) -> Request:
        post = self._post(draft, ctx.media)
        post["tags"] = [*post["tags"], {"name": key_tag(key)}]
        return Request("POST", self.api(POSTS), json={"posts": [post]}, params={"source": "html"},
                       idempotent=False)

    def build_update(self, remote: Remote, draft: Draft, ctx: SendContext) -> Request:
        known = remote.extra.get("media") or {}
        post = self._post(draft, {**ctx.media, **known})
        post.pop("status", None)  # set once, at creation: an editor who published a draft in Ghost decides
        tag = remote.extra.get("tag")
        if tag:  # PUT replaces the tag list: keep the key tag, or a later find misses the post
            post["tags"] = [*post["tags"], {"name": tag}]
        post["updated_at"] = remote.extra.get("updated_at")
        return Request("PUT", self.api(POST.format(id=remote.id)), json={"posts": [post]},
                       params={"source": "html"})

    def build_verify(self) -> Request | None:
        """One post's id (an integration's Admin API key is no staff user: `users/me` answers 404)."""
        return Request("GET", self.api(POSTS), params={"limit": "1", "fields": "id"}, kind="read")

    def build_delete(self, remote: Remote) -> Request:
        return Request("DELETE", self.api(POST.format(id=remote.id)))

    def parse_remote(self, response: httpx.Response, ctx: SendContext) -> Remote:
        return _remote(response.json()["posts"][0])

    def check(self, response: httpx.Response) -> None:
        if response.status_code == 409:
            raise UpdateCollision(f"{self.name}: HTTP 409: the post changed on Ghost since it was read")
        raise_for_status(response, self.name)

    # --- I/O ------------------------------------------------------------------------------

    def upload(self, item: MediaItem, fitted: FittedMedia) -> str:
        """POST /images/upload/ (multipart `file`); the answer is the image's URL on the site."""
        files = {"file": (fitted.filename, fitted.data, fitted.mime)}
        data = {"purpose": "image", "ref": item.source[:200]}
        response = self.send(Request("POST", self.api(IMAGES), data=data, files=files, kind="media"))
        try:
            return str(response.json()["images"][0]["url"])
        except (ValueError, KeyError, IndexError, TypeError):
            raise Transient(f"{self.name}: image upload answered without a URL") from None

    def create(self, draft: Draft, key: str, ctx: SendContext | None = None) -> Remote:
        ctx = ctx or SendContext()
        remote = super().create(draft, key, ctx)
        remote.extra["media"] = _uploaded(draft, ctx.media)
        return remote

    def update(self, remote: Remote, draft: Draft, ctx: SendContext | None = None) -> Remote:
        """PUT with the last `updated_at`; images not uploaded yet are uploaded here; a 409 re-reads once."""
        ctx = replace(ctx or SendContext())
        ctx.media = {**(remote.extra.get("media") or {}), **ctx.media}
        self._upload_missing(draft, ctx)
        if not remote.extra.get("updated_at"):
            remote = self._read(remote)
        try:
            result = super().update(remote, draft, ctx)
        except UpdateCollision:
            result = super().update(self._read(remote), draft, ctx)
        result.extra["media"] = _uploaded(draft, ctx.media)
        return result

    def _upload_missing(self, draft: Draft, ctx: SendContext) -> None:
        """The engine uploads before a create only: an update's new images are uploaded here."""
        policy = self.limits.media
        if self.media is None or policy is None:
            return  # no media source (preview): new images keep their site URL
        for item in draft.media:
            if item.source in ctx.media:
                continue
            local = replace(item, source=str(item.path)) if item.path is not None else item
            try:
                fitted = self.media.fitted(local, policy)
            except MediaError:
                continue  # the image stays at its site URL
            ctx.media[item.source] = self.upload(item, fitted)

    def _read(self, remote: Remote) -> Remote:
        response = self.send(Request("GET", self.api(POST.format(id=remote.id)), params={"include": "tags"}))
        fresh = _remote(response.json()["posts"][0])
        return Remote(remote.id, fresh.url or remote.url, {**remote.extra, **fresh.extra})

    def find(self, post: Post, key: str) -> Remote | None:
        """The post by its slug when it carries our key tag, else any post with the key tag."""
        tag = key_tag(key)
        try:
            response = self.send(Request("GET", self.api(POST_BY_SLUG.format(slug=post.slug)),
                                         params={"include": "tags"}))
            item = response.json()["posts"][0]
            if any(t.get("name") == tag for t in item.get("tags") or []):
                return _remote(item)
        except NotFound:
            pass
        except (ValueError, KeyError, IndexError, TypeError):
            raise Transient(f"{self.name}: unreadable post") from None
        response = self.send(Request("GET", self.api(POSTS), params={
            "filter": f"tag:{tag_slug(tag)}", "include": "tags", "limit": 1}))
        try:
            items = response.json()["posts"]
        except (ValueError, KeyError, TypeError):
            raise Transient(f"{self.name}: unreadable post list") from None
        return _remote(items[0]) if items else None


def _remote(item: dict[str, Any]) -> Remote:
    tags = [str(t.get("name")) for t in item.get("tags") or [] if str(t.get("name", "")).startswith(KEY_TAG)]
    extra: dict[str, Any] = {"updated_at": item.get("updated_at"), "slug": item.get("slug")}
    if tags:
        extra["tag"] = tags[0]
    return Remote(str(item["id"]), item.get("url"), extra)


def _uploaded(draft: Draft, media: dict[str, str]) -> dict[str, str]:
    """The uploads worth remembering: real URLs (not preview placeholders) of this draft's images."""
    sources = {m.source for m in draft.media}
    return {k: v for k, v in media.items() if k in sources and is_http_url(v)}


def _in_page(post: Post) -> str:
    """The post's HTML, its links to its own headings pointed at the ids Ghost will give them.

    Ghost drops every id of the HTML it converts but those inside an HTML card: the footnotes (last, as the
    renderer puts them) go in one, so that a note's number still leads to it; the links back to the numbers,
    whose ids are dropped, are left out."""
    text = post.document.html()
    if f"{post.page}#" in text:
        found = post.document.headings()
        text = local_html(text, post.page, id_map(found, ghost_ids(found)))
    at = text.rfind(FOOTNOTES)
    if at >= 0:
        text = f"{text[:at]}<!--kg-card-begin: html-->\n{BACKREFS.sub('', text[at:])}<!--kg-card-end: html-->\n"
    return text
