"""Mastodon (and compatible servers): one status per post, linking to it.

API: https://docs.joinmastodon.org/methods/statuses/ and /methods/media/
(specs/mastodon/schema.json); facts in PLATFORMS.md §6. Text is counted in
grapheme clusters, every URL as `characters_reserved_per_url` (23), against
the server's `configuration.statuses.max_characters` (GET /api/v2/instance,
fetched once and cached in the ledger as the instance's facts).

A per-post override `syndicate: {mastodon: {text: ...}}` replaces the
template's output; the post URL stays where the author put it (else it is
appended), and the whole is fitted like a template.

`find` can only look at the account's 40 most recent statuses (the API has no
search by URL for one's own posts); a retry with the same `Idempotency-Key`
within the hour the server keeps it returns the first status instead of a
duplicate.
"""
from __future__ import annotations

import html
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from pydantic import PositiveInt, field_validator

from syndicate.auth import Bearer
from syndicate.config import HttpUrl, Secret, TargetOptions
from syndicate.content.text import count, truncate
from syndicate.contract import (
    Abilities,
    Connector,
    Draft,
    Facts,
    FittedMedia,
    Limits,
    MediaItem,
    MediaPolicy,
    Part,
    RateLimit,
    Remote,
    Request,
    SendContext,
    TagRules,
    TextLimit,
    Transient,
)
from syndicate.engine.fitting import checked_template
from syndicate.engine.social import social_template

if TYPE_CHECKING:
    import httpx

    from syndicate.content.post import Post

INSTANCE = "/api/v2/instance"
STATUSES = "/api/v1/statuses"
STATUS = "/api/v1/statuses/{id}"
MEDIA_UPLOAD = "/api/v2/media"
MEDIA = "/api/v1/media/{id}"
VERIFY = "/api/v1/accounts/verify_credentials"
ACCOUNT_STATUSES = "/api/v1/accounts/{id}/statuses"

DEFAULT_MAX = 500  # docs: entities/Instance "max_characters"
URL_WEIGHT = 23  # characters_reserved_per_url
FIND_LIMIT = 40  # the documented maximum of `limit` on account statuses
POLL_TRIES = 30
SPOILER_SPARE = 40  # graphemes a long content warning must leave besides the URL
DEFAULT_TEMPLATE = "{title}\n\n{excerpt}\n\n{url}\n\n{hashtags}"
TEMPLATE_FIELDS = frozenset({"title", "excerpt", "url", "hashtags"})

_MEDIA = MediaPolicy(
    max_bytes=16 * 1024 * 1024,  # image_size_limit in the docs example
    max_pixels=33_177_600,  # image_matrix_limit
    formats=("jpeg", "png", "gif", "webp"),
    max_count=4,  # max_media_attachments
    alt_max_length=1500,  # description_limit
)


class MastodonOptions(TargetOptions):
    base_url: HttpUrl
    access_token: Secret
    template: str = DEFAULT_TEMPLATE
    visibility: Literal["public", "unlisted", "private", "direct"] = "public"
    max_characters: PositiveInt | None = None
    spoiler_text: str | None = None
    language: str | None = None

    @field_validator("template")
    @classmethod
    def _template(cls, value: str) -> str:
        return checked_template(value, TEMPLATE_FIELDS)


class Mastodon(Connector):
    """Statuses on a Mastodon server (`base_url`)."""

    type = "mastodon"
    options = MastodonOptions
    auth = Bearer("access_token")
    limits = Limits(
        text=TextLimit(DEFAULT_MAX, "graphemes", URL_WEIGHT, mentions_local=True),
        tags=TagRules(style="hashtag"),
        media=_MEDIA,
        # docs api/rate-limits: 300 requests / 5 min; media 30 / 30 min; deletes 30 / 30 min
        rates=(RateLimit("request", 300, 300), RateLimit("media", 30, 1800), RateLimit("delete", 30, 1800)),
        template=DEFAULT_TEMPLATE,
        template_fields=TEMPLATE_FIELDS,
    )
    abilities = Abilities(
        can_update=True,  # PUT /api/v1/statuses/:id, Mastodon 3.5+
        delete="delete",
        can_find=True,
        find_hint="look at the account's recent statuses",
        lost_create_settle=0,  # the create's Idempotency-Key: a second create returns the first status
    )

    # --- facts and limits ---------------------------------------------------------------

    def fetch_facts(self) -> Facts | None:
        """The server's limits (GET /api/v2/instance, public)."""
        response = self.send(Request("GET", self.base + INSTANCE))
        try:
            config = response.json().get("configuration") or {}
        except (ValueError, AttributeError):
            raise Transient(f"{self.name}: unreadable instance description") from None
        statuses = config.get("statuses") or {}
        media = config.get("media_attachments") or {}
        types = media.get("supported_mime_types")
        return {
            "max_characters": _int(statuses.get("max_characters"), DEFAULT_MAX),
            "characters_reserved_per_url": _int(statuses.get("characters_reserved_per_url"), URL_WEIGHT),
            "max_media_attachments": _int(statuses.get("max_media_attachments"), _MEDIA.max_count),
            "image_size_limit": _int(media.get("image_size_limit"), _MEDIA.max_bytes),
            "image_matrix_limit": _int(media.get("image_matrix_limit"), _MEDIA.max_pixels or 0),
            "description_limit": _int(media.get("description_limit"), _MEDIA.alt_max_length or 1500),
            "supported_mime_types": [str(t) for t in types] if isinstance(types, list) else None,
        }

    def limits_for(self, facts: Facts | None) -> Limits:
        facts = facts or {}
        declared = self.limits
        assert declared.text is not None
        maximum = self.option("max_characters") or facts.get("max_characters") or DEFAULT_MAX
        url_weight = facts.get("characters_reserved_per_url") or URL_WEIGHT
        policy = _MEDIA
        if facts:
            policy = replace(
                _MEDIA, max_bytes=facts["image_size_limit"], max_pixels=facts["image_matrix_limit"],
                max_count=facts["max_media_attachments"], alt_max_length=facts["description_limit"],
            )
            types = facts.get("supported_mime_types")
            if types:
                formats = tuple(f for f in _MEDIA.formats if f"image/{f}" in types)
                policy = replace(policy, formats=formats or _MEDIA.formats)
        return replace(declared, text=replace(declared.text, max=int(maximum), url_weight=int(url_weight)),
                       media=policy)

    # --- pure -----------------------------------------------------------------------------

    def render(self, post: Post, facts: Facts | None = None) -> Draft:
        limits = self.limits_for(facts)
        assert limits.text is not None
        over = post.control.override(self.name, self.type)
        warnings: list[str] = []
        spoiler = str(over.get("spoiler_text", self.option("spoiler_text")) or "")
        room = limits.text.max - limits.text.url_weight - SPOILER_SPARE  # type: ignore[operator]
        if spoiler and _count(spoiler, limits) > room:
            spoiler = truncate(spoiler, max(room, 0), "graphemes", limits.text.url_weight)
            warnings.append("spoiler_text shortened to leave room for the status")
        template = social_template(post, self, limits.tags, DEFAULT_TEMPLATE)
        template.reserve = _count(spoiler, limits)
        fields: dict[str, Any] = {"visibility": str(over.get("visibility") or self.option("visibility", "public"))}
        lang = over.get("language") or post.lang or self.option("language")
        if lang:
            fields["language"] = str(lang).split("-")[0].lower()
        if spoiler:
            fields["spoiler_text"] = spoiler
        media: list[MediaItem] = []
        cover = post.cover
        if cover is not None and (cover.url or cover.src):
            # uploaded from the local file when the site has it (no need to be deployed), else fetched
            media.append(MediaItem("cover", str(cover.url or cover.src), cover.alt, cover.path))
        return Draft(self.type, fields=fields, parts=[Part(template=template, media=media)], warnings=warnings)

    def build_create(self, draft: Draft, key: str, ctx: SendContext) -> Request:
        part = draft.parts[ctx.part]
        body: dict[str, Any] = {"status": part.text, **draft.fields, **part.fields}
        media_ids = [ctx.media[m.source] for m in part.media if m.source in ctx.media]
        if media_ids:
            body["media_ids"] = media_ids
        if ctx.thread:
            body["in_reply_to_id"] = ctx.thread[-1].id
        return Request("POST", self.base + STATUSES, json=body, headers={"Idempotency-Key": key}, idempotent=False)

    def build_update(self, remote: Remote, draft: Draft, ctx: SendContext) -> Request:
        # visibility cannot change on edit (PUT /api/v1/statuses/:id has no such parameter)
        part = draft.parts[ctx.part]
        body = {k: v for k, v in {"status": part.text, **draft.fields, **part.fields}.items() if k != "visibility"}
        media_ids = [ctx.media[m.source] for m in part.media if m.source in ctx.media] or remote.extra.get("media_ids")
        if media_ids:
            body["media_ids"] = list(media_ids)
        return Request("PUT", self.base + STATUS.format(id=remote.id), json=body)

    def build_verify(self) -> Request | None:
        """The account the token belongs to (scope read:accounts): a read, nothing made."""
        return Request("GET", self.base + "/api/v1/accounts/verify_credentials", kind="read")

    def build_delete(self, remote: Remote) -> Request:
        return Request("DELETE", self.base + STATUS.format(id=remote.id), kind="delete")

    def parse_remote(self, response: httpx.Response, ctx: SendContext) -> Remote:
        body = response.json()
        media_ids = [ctx.media[k] for k in ctx.media] if not ctx.preview else []
        return Remote(str(body["id"]), body.get("url"), {"media_ids": media_ids} if media_ids else {})

    # --- I/O ------------------------------------------------------------------------------

    def find(self, post: Post, key: str) -> Remote | None:
        me = self.send(Request("GET", self.base + VERIFY))
        try:
            account = str(me.json()["id"])
        except (ValueError, KeyError, TypeError):
            raise Transient(f"{self.name}: unreadable account") from None
        listing = self.send(Request("GET", self.base + ACCOUNT_STATUSES.format(id=account),
                                    params={"limit": FIND_LIMIT}))
        try:
            statuses = listing.json()
        except ValueError:
            raise Transient(f"{self.name}: unreadable status list") from None
        needles = {post.url, html.escape(post.url, quote=True)}
        for status in statuses if isinstance(statuses, list) else []:
            content = str(status.get("content") or "") if isinstance(status, dict) else ""
            if any(n in content for n in needles):
                media_ids = [str(m["id"]) for m in status.get("media_attachments") or []
                             if isinstance(m, dict) and "id" in m]
                return Remote(str(status["id"]), status.get("url"), {"media_ids": media_ids} if media_ids else {})
        return None

    def upload(self, item: MediaItem, fitted: FittedMedia) -> str:
        data: dict[str, str] = {}
        if fitted.alt:
            data["description"] = fitted.alt  # cut to the instance's description_limit by the engine
        files = {"file": (fitted.filename, fitted.data, fitted.mime)}
        # a lost upload response only orphans an attachment: retry freely
        response = self.send(Request("POST", self.base + MEDIA_UPLOAD, data=data, files=files, kind="media"))
        try:
            media_id = str(response.json()["id"])
        except (ValueError, KeyError, TypeError):
            raise Transient(f"{self.name}: media upload answered without an id") from None
        status, delay = response.status_code, 0.05
        for _ in range(POLL_TRIES):
            if status not in (202, 206):
                return media_id
            time.sleep(delay)  # the server is still processing the file (docs: 206 Partial Content)
            delay = min(delay * 2, 2.0)
            status = self.send(Request("GET", self.base + MEDIA.format(id=media_id))).status_code
        if status in (202, 206):
            raise Transient(f"{self.name}: media {media_id} still processing")
        return media_id


def _count(text: str, limits: Limits) -> int:
    assert limits.text is not None
    return count(text, "graphemes", limits.text.url_weight) if text else 0


def _int(value: Any, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default
