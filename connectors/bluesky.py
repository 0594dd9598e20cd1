"""Bluesky (any AT Protocol PDS): one `app.bsky.feed.post` per post, with a link card.

API: https://docs.bsky.app/docs/api/ (com.atproto.server.createSession /
refreshSession, com.atproto.repo.putRecord / getRecord / deleteRecord /
uploadBlob); lexicons in ../shared/specs/bluesky/lexicons. Facts in
PLATFORMS.md: text ≤ 300 graphemes and ≤ 3000 UTF-8 bytes, an external
embed's thumb ≤ 1,000,000 bytes, images ≤ 2,000,000 bytes, up to 4.

Exactly once: every post goes out with `putRecord` under a record key derived
from the idempotency key (connectors.atproto.tid_from_key), so a retry writes
the same record again (an identical put is a no-op) and `find` is `getRecord`
on that key. Links show shortened with facets to the full URI; hashtags get
tag facets; the post's language becomes `langs`.
"""
from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from connectors.atproto import (
    DELETE_RECORD,
    GET_RECORD,
    LINK_WEIGHT,
    PUT_RECORD,
    AtprotoSession,
    repo_of,
    rich_text,
    rkey_of,
    tid_from_key,
)
from syndicate.auth import Session
from syndicate.config import HttpUrl, Secret, TargetOptions
from syndicate.contract import (
    Abilities,
    Draft,
    Facts,
    Limits,
    MediaItem,
    MediaPolicy,
    Part,
    Permanent,
    RateLimit,
    Remote,
    Request,
    SendContext,
    TagRules,
    TextLimit,
    Transient,
)
from syndicate.engine.fitting import checked_template
from syndicate.engine.social import plain, social_template

if TYPE_CHECKING:
    import httpx

    from syndicate.content.post import Post

POST = "app.bsky.feed.post"
APP_URL = "https://bsky.app/profile/{repo}/post/{rkey}"

DEFAULT_TEMPLATE = "{title}\n\n{excerpt}\n\n{url}\n\n{hashtags}"
TEMPLATE_FIELDS = frozenset({"title", "excerpt", "url", "hashtags"})
DESCRIPTION_MAX = 300  # graphemes of the card's description we send (the lexicon sets none)

_THUMB = MediaPolicy(max_bytes=1_000_000, formats=("jpeg", "png", "webp"), max_count=1)  # external#thumb maxSize
_IMAGES = MediaPolicy(max_bytes=2_000_000, formats=("jpeg", "png", "webp"), max_count=4)  # embed.images#image
_WRITES = (  # https://docs.bsky.app/docs/advanced-guides/rate-limits: points per account
    RateLimit("write-points:create", 5000, 3600, cost=3), RateLimit("write-points:create", 35000, 86400, cost=3),
    RateLimit("write-points:update", 5000, 3600, cost=2), RateLimit("write-points:update", 35000, 86400, cost=2),
    RateLimit("write-points:delete", 5000, 3600, cost=1), RateLimit("write-points:delete", 35000, 86400, cost=1),
    RateLimit("request", 3000, 300),  # per IP, all XRPC calls
)


class BlueskyOptions(TargetOptions):
    base_url: HttpUrl = Field(default="https://bsky.social", description="The account's PDS.")
    identifier: str = Field(description="The account's handle (me.bsky.social) or DID.")
    app_password: Secret = Field(description="An app password (Settings → Privacy and security → App passwords).")
    template: str = DEFAULT_TEMPLATE
    thread: bool = Field(default=False, description="A text too long for one post becomes a thread.")
    max_thread: int = Field(default=4, ge=1, le=25, description="At most this many posts in a thread.")
    embed: Literal["card", "images", "none"] = Field(
        default="card", description="card: the post's link card with its cover; images: up to 4 body images.")
    language: str | None = None

    @field_validator("template")
    @classmethod
    def _template(cls, value: str) -> str:
        return checked_template(value, TEMPLATE_FIELDS)


class Bluesky(AtprotoSession):
    """Posts on a Bluesky PDS (`base_url`) as `identifier`, with an app password."""

    type = "bluesky"
    options = BlueskyOptions
    auth = Session(secret_options=("app_password",))
    limits = Limits(
        # every URL counts as the graphemes its shortened text may take (short_link)
        text=TextLimit(300, "graphemes", url_weight=LINK_WEIGHT, max_bytes=3000),
        tags=TagRules(style="hashtag", max_length=64),
        media=_THUMB,
        rates=_WRITES,
        template=DEFAULT_TEMPLATE,
        template_fields=TEMPLATE_FIELDS,
    )
    abilities = Abilities(
        can_update=True, delete="delete", can_find=True, threads=True,
        on_edit="skip",  # Bluesky shows no edit history: a changed post would surprise its readers
        find_hint="look at the account's posts on bsky.app",
        lost_create_settle=0,  # the record key comes from the unit's key: a second create is refused
    )

    def limits_for(self, facts: Facts | None) -> Limits:
        mode = self.option("embed", "card")
        return replace(self.limits, media=_IMAGES if mode == "images" else _THUMB)

    # --- pure ---------------------------------------------------------------------------------

    def render(self, post: Post, facts: Facts | None = None) -> Draft:
        limits = self.limits_for(facts)
        over = post.control.override(self.name, self.type)
        warnings: list[str] = []
        template = social_template(post, self, limits.tags, DEFAULT_TEMPLATE)
        when = post.date or post.publish_date or post.updated
        fields: dict[str, Any] = {}
        if when is not None:
            fields["createdAt"] = _datetime(when.timestamp())
        lang = over.get("language") or post.lang or self.option("language")
        if lang:
            fields["langs"] = [str(lang)]
        media: list[MediaItem] = []
        mode = str(over.get("embed") or self.option("embed", "card"))
        if mode == "card":
            fields["card"] = {"uri": post.url, "title": plain(post.title),
                              "description": _cut(plain(post.excerpt), DESCRIPTION_MAX)}
            cover = post.cover
            if cover is not None and (cover.url or cover.src):
                media.append(MediaItem("cover", str(cover.url or cover.src), cover.alt, cover.path))
        elif mode == "images":
            for image in post.document.images[: _IMAGES.max_count]:
                source = str(image.url or image.src)
                if not image.alt:
                    warnings.append(f"image {image.src!r} has no alt text")
                media.append(MediaItem("inline", source, image.alt, image.path))
            if len(post.document.images) > _IMAGES.max_count:
                warnings.append(f"{len(post.document.images)} images; Bluesky shows {_IMAGES.max_count}")
        return Draft(self.type, fields=fields, parts=[Part(template=template, media=media)], warnings=warnings)

    def record(self, draft: Draft, ctx: SendContext, stored: dict[str, str] | None = None) -> dict[str, Any]:
        """The `app.bsky.feed.post` record of part `ctx.part` (`stored`: blob refs kept from before)."""
        part = draft.parts[ctx.part]
        text, facets = rich_text(part.text or "")
        created = draft.fields.get("createdAt") or _datetime(0.0)
        record: dict[str, Any] = {"$type": POST, "text": text, "createdAt": created}
        if facets:
            record["facets"] = facets
        if draft.fields.get("langs"):
            record["langs"] = list(draft.fields["langs"])
        if ctx.thread:
            root, parent = ctx.thread[0], ctx.thread[-1]
            record["reply"] = {"root": _ref(root), "parent": _ref(parent)}
        blobs = {**(stored or {}), **ctx.media}
        card = draft.fields.get("card")
        if ctx.part == 0 and card:
            external = dict(card)
            thumb = next((blobs[m.source] for m in part.media if m.source in blobs), None)
            if thumb is not None:
                external["thumb"] = _blob(thumb)
            record["embed"] = {"$type": "app.bsky.embed.external", "external": external}
        elif ctx.part == 0 and not card:
            images = [{"image": _blob(blobs[m.source]), "alt": m.alt or "", **_aspect(blobs[m.source])}
                      for m in part.media if m.source in blobs]
            if images:
                record["embed"] = {"$type": "app.bsky.embed.images", "images": images}
        return record

    def build_create(self, draft: Draft, key: str, ctx: SendContext) -> Request:
        body = {"repo": self._repo(), "collection": POST, "rkey": tid_from_key(key),
                "record": self.record(draft, ctx)}
        return Request("POST", self.base + PUT_RECORD, json=body, kind="create", idempotent=False)

    def build_update(self, remote: Remote, draft: Draft, ctx: SendContext) -> Request:
        assert remote.id is not None
        body = {"repo": repo_of(remote.id), "collection": POST, "rkey": rkey_of(remote.id),
                "record": self.record(draft, ctx, dict(remote.extra.get("media") or {}))}
        return Request("POST", self.base + PUT_RECORD, json=body, kind="update")

    def build_delete(self, remote: Remote) -> Request:
        assert remote.id is not None
        body = {"repo": repo_of(remote.id), "collection": POST, "rkey": rkey_of(remote.id)}
        return Request("POST", self.base + DELETE_RECORD, json=body, kind="delete")

    def parse_remote(self, response: httpx.Response, ctx: SendContext) -> Remote:
        body = response.json()
        uri, cid = str(body["uri"]), str(body["cid"])
        media = {} if ctx.preview else dict(ctx.media)
        return Remote(uri, APP_URL.format(repo=repo_of(uri), rkey=rkey_of(uri)),
                      {"cid": cid, **({"media": media} if media else {})})

    def _repo(self) -> str:
        return str(self.option("identifier"))

    # --- I/O ------------------------------------------------------------------------------------

    def find(self, post: Post, key: str) -> Remote | None:
        params = {"repo": self._repo(), "collection": POST, "rkey": tid_from_key(key)}
        try:
            response = self.send(Request("GET", self.base + GET_RECORD, params=params))
        except Permanent as exc:
            if "RecordNotFound" in str(exc):
                return None
            raise
        try:
            body = response.json()
            uri, cid, value = str(body["uri"]), str(body["cid"]), body.get("value") or {}
        except (ValueError, KeyError, TypeError):
            raise Transient(f"{self.name}: unreadable record") from None
        media = _stored_media(self.render(post).parts[0].media, value.get("embed") or {})
        return Remote(uri, APP_URL.format(repo=repo_of(uri), rkey=rkey_of(uri)),
                      {"cid": cid, **({"media": media} if media else {})})

def _datetime(epoch: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _cut(text: str, limit: int) -> str:
    from syndicate.content.text import truncate

    return truncate(text, limit, "graphemes") if text else ""


def _ref(remote: Remote) -> dict[str, str]:
    return {"uri": str(remote.id), "cid": str(remote.extra.get("cid") or "<cid>")}


def _blob(stored: str) -> Any:
    try:
        return json.loads(stored)["blob"]
    except (ValueError, KeyError, TypeError):
        return stored  # a preview's placeholder


def _aspect(stored: str) -> dict[str, Any]:
    try:
        data = json.loads(stored)
        return {"aspectRatio": {"width": int(data["width"]), "height": int(data["height"])}}
    except (ValueError, KeyError, TypeError):
        return {}


def _stored_media(items: list[MediaItem], embed: dict[str, Any]) -> dict[str, str]:
    """The blob refs a found record carries, by the sources of the draft's media."""
    blobs: list[tuple[Any, Any]] = []
    if embed.get("$type") == "app.bsky.embed.external":
        thumb = (embed.get("external") or {}).get("thumb")
        blobs = [(thumb, None)] if thumb else []
    elif embed.get("$type") == "app.bsky.embed.images":
        blobs = [(i.get("image"), i.get("aspectRatio")) for i in embed.get("images") or [] if isinstance(i, dict)]
    return {m.source: json.dumps({"blob": b[0], **(b[1] or {})}) for m, b in zip(items, blobs, strict=False) if b[0]}
