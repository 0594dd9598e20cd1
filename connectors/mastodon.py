"""Mastodon (and compatible servers): one status per post, linking to it.

API: https://docs.joinmastodon.org/methods/statuses/ and /methods/media/
(specs/mastodon/schema.json); facts in PLATFORMS.md §6. Text is counted in
grapheme clusters, every URL as `characters_reserved_per_url` (23), against
the server's `configuration.statuses.max_characters` (GET /api/v2/instance).

A per-post override `syndicate: {mastodon: {text: ...}}` replaces the
template's output; the post URL stays where the author put it (else it is
appended), and the whole is fitted like a template: the text shortens, the
URL stays whole.

`find` can only look at the account's 40 most recent statuses (the API has no
search by URL for one's own posts); an older lost create is not found, but a
retry with the same `Idempotency-Key` within the hour the server keeps it
returns the first status instead of a duplicate.
"""
from __future__ import annotations

import html
import time
from dataclasses import replace
import logging
from typing import TYPE_CHECKING, Any

from syndicate.contract import (
    Connector,
    Draft,
    FittedMedia,
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
from connectors.common import hashtags, is_http_url
from syndicate.config import ConfigError
from syndicate.media.errors import MediaError
from syndicate.text import count, fit_template, template_fields, truncate

if TYPE_CHECKING:
    import httpx

    from syndicate.post import Post

INSTANCE = "/api/v2/instance"
log = logging.getLogger(__name__)
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
VISIBILITIES = ("public", "unlisted", "private", "direct")

_MEDIA = MediaPolicy(
    max_bytes=16 * 1024 * 1024,  # image_size_limit in the docs example
    max_pixels=33_177_600,  # image_matrix_limit
    formats=("jpeg", "png", "gif", "webp"),
    max_count=4,  # max_media_attachments
    alt_max_length=1500,  # description_limit
)


class Mastodon(Connector):
    """Statuses on a Mastodon server (`base_url`)."""

    type = "mastodon"
    required = ("base_url", "access_token")
    secrets = ("access_token",)
    defaults = {"template": DEFAULT_TEMPLATE, "visibility": "public"}
    limits = Limits(
        text_max=DEFAULT_MAX,
        counting="graphemes",
        url_weight=URL_WEIGHT,
        media=_MEDIA,
        can_update=True,  # PUT /api/v1/statuses/:id, Mastodon 3.5+
        can_delete=True,
        # docs api/rate-limits: 300 requests / 5 min; media 30 / 30 min; deletes 30 / 30 min
        rates=(RateLimit("request", 300, 300), RateLimit("media", 30, 1800), RateLimit("delete", 30, 1800)),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        try:
            self.max_characters = int(self.option("max_characters") or DEFAULT_MAX)
        except (TypeError, ValueError):
            raise ConfigError(f"targets.{self.name}.max_characters must be a number") from None
        self.url_weight = URL_WEIGHT
        self.mime_types: tuple[str, ...] | None = None
        self._prepared = False
        self._apply_limits()
        try:
            names = set(template_fields(str(self.option("template"))))
        except ValueError as exc:
            raise ConfigError(f"targets.{self.name}.template is malformed: {exc}") from None
        if not names <= TEMPLATE_FIELDS or "url" not in names:
            raise ConfigError(
                f"targets.{self.name}.template must contain {{url}} and use only "
                + ", ".join("{" + n + "}" for n in sorted(TEMPLATE_FIELDS))
            )
        visibility = self.option("visibility")
        if visibility not in VISIBILITIES:
            raise ConfigError(f"targets.{self.name}.visibility must be one of {', '.join(VISIBILITIES)}, got {visibility!r}")

    def _apply_limits(self, media: MediaPolicy | None = None) -> None:
        # instance attribute shadowing the class-level declaration
        self.limits = replace(  # type: ignore[misc]
            type(self).limits, text_max=self.max_characters, url_weight=self.url_weight, media=media or self.limits.media
        )

    @property
    def base(self) -> str:
        return str(self.option("base_url")).rstrip("/")

    def _headers(self) -> dict[str, str]:
        return {"Authorization": "Bearer " + self.secret("access_token")}

    # I/O: instance limits -------------------------------------------------------

    def prepare(self) -> None:
        """Read the server's limits once (GET /api/v2/instance)."""
        if self._prepared:
            return
        response = self.send("GET", self.base + INSTANCE, idempotent=True, headers=self._headers())
        try:
            config = response.json().get("configuration") or {}
        except (ValueError, AttributeError):
            raise Transient(f"{self.name}: unreadable instance description") from None
        statuses = config.get("statuses") or {}
        media = config.get("media_attachments") or {}
        if not self.option("max_characters"):
            self.max_characters = _int(statuses.get("max_characters"), DEFAULT_MAX)
        self.url_weight = _int(statuses.get("characters_reserved_per_url"), URL_WEIGHT)
        policy = replace(
            _MEDIA,
            max_bytes=_int(media.get("image_size_limit"), _MEDIA.max_bytes),
            max_pixels=_int(media.get("image_matrix_limit"), _MEDIA.max_pixels or 0),
            max_count=_int(statuses.get("max_media_attachments"), _MEDIA.max_count),
            alt_max_length=_int(media.get("description_limit"), _MEDIA.alt_max_length or 1500),
        )
        types = media.get("supported_mime_types")
        if isinstance(types, list):
            self.mime_types = tuple(str(t) for t in types)
            formats = tuple(f for f in _MEDIA.formats if f"image/{f}" in self.mime_types)
            policy = replace(policy, formats=formats or _MEDIA.formats)
        self._apply_limits(policy)
        self._prepared = True

    # pure -----------------------------------------------------------------------

    def render(self, post: Post) -> Draft:
        over = post.control.override(self.name, self.type)
        fields = {
            "title": " ".join(post.title.split()),
            "excerpt": _excerpt(post),
            "url": post.url,
            "hashtags": " ".join(hashtags([*post.tags, *post.categories])),
        }
        warnings: list[str] = []
        spoiler = str(over.get("spoiler_text", self.option("spoiler_text")) or "")
        room = self.max_characters - self.url_weight - SPOILER_SPARE  # the status keeps at least this much
        if spoiler and self._count(spoiler) > room:
            spoiler = truncate(spoiler, max(room, 0), "graphemes", self.url_weight)
            warnings.append("spoiler_text shortened to leave room for the status")
        budget = self.max_characters - self._count(spoiler)
        text = over.get("text")
        try:
            if text:
                # the author's text, with the link where they put it (else appended)
                before, found, after = str(text).partition(post.url)
                template = "{text}{url}{after}" if found else "{text}\n\n{url}"
                values = {"text": before, "url": post.url, "after": after}
                status = fit_template(template, values, budget, "graphemes", self.url_weight, ("after", "text"))
            else:
                template = str(self.option("template"))
                status = fit_template(template, fields, budget, "graphemes", self.url_weight)
        except (ValueError, KeyError, IndexError) as exc:
            raise Permanent(f"{self.name}: cannot fit the status: {exc}") from None
        payload: dict[str, Any] = {"status": status, "visibility": str(over.get("visibility") or self.option("visibility"))}
        lang = over.get("language") or post.lang or self.option("language")
        if lang:
            payload["language"] = str(lang).split("-")[0].lower()
        if spoiler:
            payload["spoiler_text"] = spoiler
        media: list[MediaItem] = []
        if post.cover is not None:
            # the local file when the site has it (no need for the site to be deployed), else the URL
            cover = post.cover
            source = str(cover.path) if cover.path else (cover.url if is_http_url(cover.url) else cover.src)
            if source:
                media.append(MediaItem("cover", source, cover.alt))  # a missing alt: the plan warns
        return Draft(self.type, payload, text=status, media=media, warnings=warnings)

    def _count(self, text: str) -> int:
        return count(text, "graphemes", self.url_weight) if text else 0

    def preview(self, draft: Draft, remote: Remote | None = None) -> RequestPreview:
        if remote is None:
            return RequestPreview("POST", self.base + STATUSES, draft.payload)
        return RequestPreview("PUT", self.base + STATUS.format(id=remote.id), self._edit_payload(draft, remote))

    # I/O: statuses ------------------------------------------------------------------

    def create(self, draft: Draft, key: str) -> Remote:
        media_ids = self._upload_all(draft) if self.media is not None and draft.media else []
        payload = dict(draft.payload)
        if media_ids:
            payload["media_ids"] = media_ids
        headers = {**self._headers(), "Idempotency-Key": key}
        response = self.send("POST", self.base + STATUSES, idempotent=False, json=payload, headers=headers)
        return self._remote(response, media_ids, OutcomeUnknown)

    def update(self, remote: Remote, draft: Draft) -> Remote:
        url = self.base + STATUS.format(id=remote.id)
        response = self.send("PUT", url, idempotent=True, json=self._edit_payload(draft, remote), headers=self._headers())
        return self._remote(response, list(remote.extra.get("media_ids") or []), Transient)

    def find(self, post: Post, key: str) -> Remote | None:
        me = self.send("GET", self.base + VERIFY, idempotent=True, headers=self._headers())
        try:
            account = str(me.json()["id"])
        except (ValueError, KeyError, TypeError):
            raise Transient(f"{self.name}: unreadable account") from None
        listing = self.send(
            "GET", self.base + ACCOUNT_STATUSES.format(id=account), idempotent=True,
            params={"limit": FIND_LIMIT}, headers=self._headers(),
        )
        try:
            statuses = listing.json()
        except ValueError:
            raise Transient(f"{self.name}: unreadable status list") from None
        needles = {post.url, html.escape(post.url, quote=True)}
        for status in statuses if isinstance(statuses, list) else []:
            content = str(status.get("content") or "") if isinstance(status, dict) else ""
            if any(n in content for n in needles):
                media_ids = [str(m["id"]) for m in status.get("media_attachments") or [] if isinstance(m, dict) and "id" in m]
                return Remote(str(status["id"]), status.get("url"), {"media_ids": media_ids})
        return None

    def delete(self, remote: Remote) -> None:
        try:
            self.send("DELETE", self.base + STATUS.format(id=remote.id), idempotent=True, headers=self._headers())
        except NotFound:
            return  # already gone

    # helpers ----------------------------------------------------------------------

    def _edit_payload(self, draft: Draft, remote: Remote) -> dict[str, Any]:
        # visibility cannot change on edit (PUT /api/v1/statuses/:id has no such parameter)
        payload = {k: v for k, v in draft.payload.items() if k != "visibility"}
        media_ids = remote.extra.get("media_ids")
        if media_ids:
            payload["media_ids"] = list(media_ids)
        return payload

    def _remote(self, response: httpx.Response, media_ids: list[str], failure: type[Transient]) -> Remote:
        try:
            body = response.json()
            return Remote(str(body["id"]), body.get("url"), {"media_ids": media_ids})
        except (ValueError, KeyError, TypeError):
            raise failure(f"{self.name}: HTTP {response.status_code} without a status id") from None

    def _upload_all(self, draft: Draft) -> list[str]:
        assert self.media is not None
        policy = self.limits.media or _MEDIA
        ids = []
        for item in draft.media[: policy.max_count]:
            try:
                fitted = self.media.fitted(item, policy)
            except MediaError as exc:  # one bad image must not sink the post
                if exc.transient:
                    raise Transient(f"{self.name}: image {item.source}: {exc}") from None
                log.warning("%s: image left out: %s", self.name, exc)
                continue
            ids.append(self._upload(fitted, policy))
        return ids

    def _upload(self, fitted: FittedMedia, policy: MediaPolicy) -> str:
        data: dict[str, str] = {}
        if fitted.alt:
            data["description"] = fitted.alt[: policy.alt_max_length or None]
        files = {"file": (fitted.filename, fitted.data, fitted.mime)}
        # a lost upload response only orphans an attachment: retry freely
        response = self.send(
            "POST", self.base + MEDIA_UPLOAD, idempotent=True, kind="media", data=data, files=files, headers=self._headers()
        )
        try:
            media_id = str(response.json()["id"])
        except (ValueError, KeyError, TypeError):
            raise Transient(f"{self.name}: media upload answered without an id") from None
        status, delay = response.status_code, 0.05
        for _ in range(POLL_TRIES):
            if status not in (202, 206):
                return media_id
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
            status = self.send("GET", self.base + MEDIA.format(id=media_id), idempotent=True, headers=self._headers()).status_code
        if status in (202, 206):
            raise Transient(f"{self.name}: media {media_id} still processing")
        return media_id


def _int(value: Any, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


def _excerpt(post: Post) -> str:
    try:
        text = post.excerpt
    except NotImplementedError:  # the Markdown pipeline placeholder
        text = post.summary
    return " ".join(str(text or "").split())
