"""Threads (Meta): one post per blog post, made in three steps, by a long-lived token kept fresh.

API: developers.facebook.com/docs/threads — posts (POST /{user-id}/threads makes a media container,
POST /{user-id}/threads_publish publishes it), troubleshooting (GET /{container-id}?fields=status:
IN_PROGRESS, FINISHED, PUBLISHED, ERROR, EXPIRED), posts/delete-posts, get-started/long-lived-tokens
(GET /refresh_access_token?grant_type=th_refresh_token). Facts in PLATFORMS.md §10 and issue 15:
500 characters where an emoji counts as its UTF-8 bytes, at most 5 links, one topic tag, images by
public URL, no edit, 250 published posts and 100 deletes per 24 hours.

Exactly once: a container publishes once. Its id is kept in the intent (`SendContext.record`)
before it is published, so a retry after a lost publish reads the container first: PUBLISHED means
the post exists (it is looked up in the profile's latest posts, by its text), FINISHED or
IN_PROGRESS means it is published now, ERROR or EXPIRED means a new container. A lost answer to
the container's own creation publishes nothing (an unpublished container expires in 24 hours).
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from connectors.threads_auth import ThreadsToken, json_body
from connectors.threads_text import LINKS_MAX, keep_links, links, topic_tag
from syndicate.auth import Refreshing
from syndicate.config import HttpUrl, Secret, TargetOptions
from syndicate.config.schema import Duration
from syndicate.contract import (
    Abilities,
    AuthFailed,
    Draft,
    Facts,
    Limits,
    MediaItem,
    MediaPolicy,
    NotFound,
    OutcomeUnknown,
    Part,
    Permanent,
    RateLimit,
    RateLimited,
    Remote,
    Request,
    SendContext,
    TagRules,
    TextLimit,
    Transient,
    error_detail,
    raise_for_status,
    retry_after_from,
)
from syndicate.engine.fitting import tag_names
from syndicate.engine.social import FIELDS, checked, social_template

if TYPE_CHECKING:
    import httpx

    from syndicate.content.post import Post

CONTAINERS = "/{version}/{user}/threads"
PUBLISH = "/{version}/{user}/threads_publish"
NODE = "/{version}/{id}"
DEFAULT_TEMPLATE = "{title}\n\n{excerpt}\n\n{url}"  # the topic tag carries the post's tag
TEXT_MAX = 500
LATEST = 25  # posts read back to find a published container's post
POLL_CAP = 60.0  # troubleshooting: "query a container's status once per minute, for no more than 5 minutes"
IMAGE_TYPES = (".jpg", ".jpeg", ".png")
ALT_MAX = 1000  # `alt_text` (third-party mirror of Meta's specs, PLATFORMS.md §10 e)  # the image formats Threads takes (PLATFORMS.md §10 e)
# Graph API error codes (developers.facebook.com/docs/graph-api/guides/error-handling)
_THROTTLED = {4, 17, 32, 341, 613}
_TOKEN = {102, 190}
_TRANSIENT = {1, 2}


class ThreadsOptions(TargetOptions):
    base_url: HttpUrl = Field(default="https://graph.threads.net", description="The Threads API host.")
    access_token: Secret = Field(description="A long-lived Threads user access token (60 days, refreshed here).")
    user_id: str = Field(pattern=r"^(\d+|me)$", description="The Threads user id (digits), or me.")
    version: str = Field(default="v1.0", pattern=r"^v\d+\.\d+$", description="The API version in the path.")
    template: str = Field(default=DEFAULT_TEMPLATE, description="The text, from {title} {excerpt} {url} {hashtags}.")
    embed: Literal["image", "link"] = Field(
        default="image", description="image: the cover as the post's image; link: the post's link preview.")
    topic_tag: str | None = Field(
        default=None, description='The topic of every post; unset: the post\'s first tag; "": none.')
    poll_interval: Duration = Field(default=1.0, description="The first wait for a container; it doubles.")
    poll_timeout: Duration = Field(default=300.0, description="The longest wait for a container (at most 5 min).")
    refresh_before: Duration = Field(
        default=30 * 86400.0, description="The token is refreshed when it has less than this left (30 days).")

    @field_validator("template")
    @classmethod
    def _template(cls, value: str) -> str:
        return checked(value)

    @field_validator("poll_timeout")
    @classmethod
    def _poll_timeout(cls, value: float) -> float:
        if value > 300:
            raise ValueError("at most 5 minutes (300 s): the API keeps no container waiting longer")
        return value

    @field_validator("refresh_before")
    @classmethod
    def _refresh_before(cls, value: float) -> float:
        if not 86400 <= value <= 59 * 86400:
            raise ValueError("between 1 day and 59 days (a token lives 60 days)")
        return value


class Threads(ThreadsToken):
    """Posts on a Threads profile (`user_id`) with a long-lived token, refreshed before it expires."""

    type = "threads"
    options = ThreadsOptions
    auth = Refreshing("access_token")
    limits = Limits(
        text=TextLimit(TEXT_MAX, "emoji-bytes"),
        tags=TagRules(max=1, style="name", max_length=50),
        # third-party mirror of Meta's specs (PLATFORMS.md §10 e): JPEG/PNG, 8 MB, 320-1440 px wide
        media=MediaPolicy(max_bytes=8 * 1024 * 1024, max_width=1440, formats=("jpeg", "png"), max_count=1,
                          alt_max_length=ALT_MAX),
        # overview: 250 API-published posts per 24 h (enforced on threads_publish); delete-posts: 100 / 24 h
        rates=(RateLimit("publish", 250, 86400), RateLimit("delete", 100, 86400)),
        template=DEFAULT_TEMPLATE,
        template_fields=FIELDS,
    )
    abilities = Abilities(
        can_update=False,  # the API has no edit
        delete="delete",
        can_find=True,  # a lost create is settled by its container (see the module docstring)
        needs_public_media_url=True,
        find_hint="look at the profile's posts on threads.net",
        lost_create_settle=0,  # the container's own status says whether it was published
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sleep: Callable[[float], None] = time.sleep  # tests inject these
        self.clock: Callable[[], float] = time.time

    def _url(self, path: str, **names: str) -> str:
        return self.base + path.format(version=self.option("version", "v1.0"), user=self.option("user_id"), **names)

    # --- pure ---------------------------------------------------------------------------------

    def render(self, post: Post, facts: Facts | None = None) -> Draft:
        limits = self.limits_for(facts)
        over = post.control.override(self.name, self.type)
        warnings: list[str] = []
        template = social_template(post, self, limits.tags, DEFAULT_TEMPLATE)
        cut = keep_links(template, {post.url})
        if cut:
            warnings.append(f"Threads takes at most {LINKS_MAX} links: {', '.join(cut)} cut before the next one")
        fields: dict[str, Any] = {"link_attachment": post.url}  # the card, whatever link comes first
        chosen = over.get("topic_tag", self.option("topic_tag"))
        names = ([chosen] if chosen else []) if chosen is not None else tag_names([*post.tags, *post.categories], over)
        topic = topic_tag(names)
        if topic:
            fields["topic_tag"] = topic
        media: list[MediaItem] = []
        cover = post.cover
        embed = over.get("embed") or self.option("embed", "image")
        if embed == "image" and cover is not None and (cover.url or cover.src):
            source = str(cover.url or cover.src)
            if _image_ok(source):
                # fetched by Threads from its URL (or the rehost store's copy when it is not public)
                media.append(MediaItem("cover", source, cover.alt, cover.path))
            else:
                warnings.append(f"Threads takes JPEG and PNG images: cover {cover.src} left out, "
                                "the link preview shows instead")
        return Draft(self.type, fields=fields, parts=[Part(template=template, media=media)], warnings=warnings)

    def build_create(self, draft: Draft, key: str, ctx: SendContext) -> Request:
        """The container (step 1): its text, and its image or link preview."""
        part = draft.parts[ctx.part]
        body: dict[str, Any] = {"media_type": "TEXT", "text": part.text, **draft.fields, **part.fields}
        image = next((m for m in part.media if m.source in ctx.media), None)
        if image is not None:
            body.pop("link_attachment", None)  # only text posts take one
            body.update(media_type="IMAGE", image_url=ctx.media[image.source])
            if image.alt:
                body["alt_text"] = image.alt[:ALT_MAX]
        found = links(part.text or "") | ({str(body["link_attachment"])} if "link_attachment" in body else set())
        if len(found) > LINKS_MAX:
            raise Permanent(f"{self.name}: the text holds {len(found)} links; Threads takes at most {LINKS_MAX}")
        return Request("POST", self._url(CONTAINERS), json=body, kind="container")

    def preview_create(self, draft: Draft, key: str, ctx: SendContext) -> list[Request]:
        return [self.build_create(draft, key, ctx), self._status_request("<container>"),
                self._publish_request("<container>")]

    def build_delete(self, remote: Remote) -> Request:
        return Request("DELETE", self._url(NODE, id=str(remote.id)), kind="delete")

    def build_verify(self) -> Request | None:
        return Request("GET", self._url(NODE, id=str(self.option("user_id"))), params={"fields": "id,username"})

    def _status_request(self, container: str) -> Request:
        return Request("GET", self._url(NODE, id=container), params={"fields": "status,error_message"})

    def _publish_request(self, container: str) -> Request:
        return Request("POST", self._url(PUBLISH), params={"creation_id": container}, kind="publish",
                       idempotent=False)

    # --- the three steps ---------------------------------------------------------------------

    def find(self, post: Post, key: str) -> Remote | None:
        """Nothing to look up by key: `create` settles a lost create from the container kept in the intent."""
        return None

    def create(self, draft: Draft, key: str, ctx: SendContext | None = None) -> Remote:
        ctx = ctx or SendContext()
        request = self.build_create(draft, key, ctx)
        mark = hashlib.sha256(json.dumps(request.json, sort_keys=True).encode()).hexdigest()[:16]
        kept = ctx.progress if ctx.progress.get("mark") == mark else {}  # the same container content only
        container = str(kept["container"]) if kept.get("container") else None
        if container is not None:
            status, _ = self._status(container)
            if status == "PUBLISHED":
                return self._published(container, draft.parts[ctx.part].text or "")
            if status in ("ERROR", "EXPIRED"):
                container = None
        if container is None:
            container = self._container(request)
            if ctx.record is not None:
                ctx.record({"container": container, "mark": mark})
        if self._wait(container) == "PUBLISHED":
            return self._published(container, draft.parts[ctx.part].text or "")
        try:
            response = self.send(self._publish_request(container))
        except Permanent:
            # refused: if it says this container is published already, the post exists
            if self._status(container)[0] == "PUBLISHED":
                return self._published(container, draft.parts[ctx.part].text or "")
            raise
        media = json_body(response).get("id")
        if not media:
            raise OutcomeUnknown(f"{self.name}: the publish answered without an id")
        return self._remote(str(media))

    def _container(self, request: Request) -> str:
        # a lost answer here publishes nothing: the request may be sent again
        container = json_body(self.send(request)).get("id")
        if not container:
            raise Transient(f"{self.name}: the container was answered without an id")
        return str(container)

    def _status(self, container: str) -> tuple[str, str]:
        body = json_body(self.send(self._status_request(container)))
        return str(body.get("status") or ""), str(body.get("error_message") or "")

    def _wait(self, container: str) -> str:
        """Poll the container until it is FINISHED: quickly first, then backing off, at most `poll_timeout`."""
        delay = float(self.option("poll_interval", 1.0))
        deadline = self.clock() + float(self.option("poll_timeout", 300.0))
        while True:
            status, error = self._status(container)
            if status in ("FINISHED", "PUBLISHED"):
                return status
            if status == "ERROR":
                if error in ("", "UNKNOWN"):
                    raise Transient(f"{self.name}: container {container} failed ({error or 'no reason given'})")
                raise Permanent(f"{self.name}: Threads could not process the post: {error}")
            if status == "EXPIRED":
                raise Transient(f"{self.name}: container {container} expired before it was published")
            if self.clock() + delay > deadline:
                raise Transient(f"{self.name}: container {container} still {status or 'unknown'} after "
                                f"{self.option('poll_timeout', 300.0):g} s; it is checked again on the next try")
            self.sleep(delay)
            delay = min(delay * 2, POLL_CAP)

    def _remote(self, media: str) -> Remote:
        body = json_body(self.send(Request("GET", self._url(NODE, id=media), params={"fields": "id,permalink"})))
        return Remote(media, body.get("permalink"))

    def _published(self, container: str, text: str) -> Remote:
        """The post of a container that was published (its answer lost): the latest post with its text."""
        response = self.send(Request("GET", self._url(CONTAINERS), params={
            "fields": "id,permalink,text,timestamp", "limit": LATEST}))
        data = json_body(response).get("data")
        wanted = " ".join(text.split())
        for item in data if isinstance(data, list) else []:
            if isinstance(item, dict) and " ".join(str(item.get("text") or "").split()) == wanted and item.get("id"):
                return Remote(str(item["id"]), item.get("permalink"))
        raise Transient(f"{self.name}: container {container} is published, but its post is not among the "
                        f"latest {LATEST} yet")

    # --- errors --------------------------------------------------------------------------------

    def check(self, response: httpx.Response) -> None:
        """Graph API errors: {"error": {"message", "type", "code", "error_subcode", "is_transient"}}."""
        if response.status_code < 400:
            return
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            error = None
        if not isinstance(error, dict):
            raise_for_status(response, self.name)
            return
        code, sub = error.get("code"), error.get("error_subcode")
        said = str(error.get("error_user_msg") or error.get("message") or error_detail(response))[:300]
        what = f"{self.name}: HTTP {response.status_code}: {said} (code {code}" + (f", subcode {sub})" if sub else ")")
        if response.status_code == 429 or code in _THROTTLED:
            raise RateLimited(what, retry_after_from(response))
        if code in _TOKEN:
            raise AuthFailed(f"{what} (the access token was refused: expired or revoked; set a new long-lived "
                             "access_token, see docs/threads.md)")
        if code == 10 or (isinstance(code, int) and 200 <= code <= 299):
            raise AuthFailed(f"{what} (a permission is missing: threads_basic, threads_content_publish, "
                             "threads_delete)")
        if code in _TRANSIENT or error.get("is_transient") is True:
            raise Transient(what)
        if code == 24 and sub == 4279009:  # "Media Not Found": a container published before Meta has it all
            raise Transient(f"{what} (the container is not ready yet)")
        if code == 100 and sub == 33:  # "Object with ID ... does not exist"
            raise NotFound(what)
        raise_for_status(response, self.name)


def _image_ok(source: str) -> bool:
    """A JPEG or PNG by its name, or a name that says nothing (Threads reads the file itself)."""
    name = urlsplit(source).path.rsplit("/", 1)[-1].lower()
    return "." not in name or name.endswith(IMAGE_TYPES)
