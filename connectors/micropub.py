"""Micropub (W3C Recommendation, 2017-05-23): each post as an h-entry on an IndieWeb site or micro.blog.

Spec: https://www.w3.org/TR/micropub/ (§3.3 create, §3.4 update, §3.5 delete,
§3.6 media endpoint, §3.7 querying, §4 errors, §5.3 discovery); micro.blog:
help.micro.blog "Posting API" and "Timeline display rules"; PLATFORMS.md §11.

The endpoint is `endpoint`, or found from `site_url` (`Link` header or
`<link rel="micropub">`, see `connectors.micropub_discovery`); the media
endpoint comes from `GET ?q=config`. Both are the target's facts, cached in
the ledger, so discovery is not repeated per post. Every request goes through
a client that reaches public addresses only (`allow` lists exceptions).

A create is JSON: `{"type": ["h-entry"], "properties": {...}}`, every value
an array. `post_type = "note"` (default) sends the target's template as
`content.html` with no `name`, so micro.blog shows it in full in the timeline
(at most 300 characters without a title); `"article"` sends `name`, the
post's HTML as `content.html` and `summary`. Both send `category`, `photo`
(`{"value", "alt"}`), `published` and `mp-slug`. The post's own URL goes in
`syndication`, with its copies on the other targets: the IndieWeb's mark of
the same post elsewhere (as PESOS clients such as OwnYourGram send it);
`url` is the permalink the server assigns, so a client never sends it. The
answer's `Location` (201 Created or 202 Accepted) is the copy's URL and id.

There is no idempotency key in the spec. A lost create is settled by
`GET ?q=source` (the list form micro.blog and Indiekit answer): the entry
whose `syndication` holds the post's URL is the copy.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urljoin

from pydantic import Field, PositiveInt, field_validator, model_validator

from connectors.common import is_http_url
from connectors.micropub_discovery import discover, pinned_client
from connectors.micropub_text import LINK_SHOWN, is_copy, note_html
from syndicate.auth import Bearer
from syndicate.config import HttpUrl, Secret, TargetOptions
from syndicate.contract import (
    Abilities,
    AuthFailed,
    Connector,
    Draft,
    Facts,
    FittedMedia,
    Limits,
    MediaItem,
    MediaPolicy,
    NotFound,
    Notice,
    Part,
    Permanent,
    RateLimited,
    Remote,
    Request,
    SendContext,
    TagRules,
    TextLimit,
    Transient,
    error_detail,
    retry_after_from,
)
from syndicate.engine.fitting import shape_tags, tag_names
from syndicate.engine.social import FIELDS, checked, plain, social_template
from syndicate.errors import MediaRefused, MediaUnavailable

if TYPE_CHECKING:
    import httpx

    from syndicate.content.post import Post

NOTE_MAX = 300  # micro.blog timeline: a post with no title is shown in full up to 300 characters
DEFAULT_TEMPLATE = "{title}\n\n{excerpt}\n\n{url}"
SOURCE_LIMIT = 40  # entries read back by `find`
# the properties an update manages: those a create may send (`published` and `mp-slug` never change)
MANAGED = ("name", "content", "summary", "category", "photo", "syndication")
_TAGS = TagRules(style="name")


class MicropubOptions(TargetOptions):
    site_url: HttpUrl | None = Field(default=None, description="The site whose home page names its Micropub "
                                     "endpoint (discovered; ignored when endpoint is set).")
    endpoint: HttpUrl | None = Field(default=None, description="The Micropub endpoint itself, e.g. "
                                     "https://micro.blog/micropub (this platform's base_url).")
    token: Secret = Field(description="A bearer token with the create, update, delete and media scopes "
                          "(micro.blog: an app token).")
    post_type: Literal["note", "article"] = Field(
        default="note", description="note: the template as the text, no title; article: title, the post's HTML "
                                    "and summary.")
    template: str = Field(default=DEFAULT_TEMPLATE, description="A note's text, from {title} {excerpt} {url} "
                          "{hashtags}.")
    max_characters: PositiveInt = Field(default=NOTE_MAX, description="A note's length (micro.blog shows 300 "
                                        "in full).")
    allow: list[str] = Field(default_factory=list, description="Hosts, addresses or CIDRs that may be reached "
                             "although private (an intranet site; tests).")

    @field_validator("template")
    @classmethod
    def _template(cls, value: str) -> str:
        return checked(value)

    @model_validator(mode="after")
    def _where(self) -> MicropubOptions:
        if not self.site_url and not self.endpoint:
            raise ValueError("set site_url (the endpoint is discovered from it) or endpoint")
        return self


class Micropub(Connector):
    """Posts as h-entries through a Micropub endpoint (`endpoint`, or discovered from `site_url`)."""

    type = "micropub"
    options = MicropubOptions
    auth = Bearer("token")
    limits = Limits(
        text=TextLimit(NOTE_MAX, "characters", LINK_SHOWN),
        tags=_TAGS,
        # server-defined (spec §3.6); micro.blog resizes what it gets. A common upload cap is 10 MiB
        media=MediaPolicy(max_bytes=10 * 1024 * 1024, max_count=4),
        rates=(),  # none in the spec, none documented by micro.blog
        template=DEFAULT_TEMPLATE,
        template_fields=FIELDS,
    )
    abilities = Abilities(
        can_update=True,  # action=update with replace (§3.4)
        delete="delete",  # action=delete (§3.5)
        can_find=True,  # q=source, by the post's URL in `syndication`
        find_hint="look at the site's latest posts",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._known: Facts = {}  # the endpoints, once learnt (facts, or discovered in this process)
        self._pinned: httpx.Client | None = None

    # --- where to send -------------------------------------------------------------------

    @property
    def base(self) -> str:
        return str(self.option("endpoint") or self.option("site_url") or "").rstrip("/")

    @property
    def http(self) -> httpx.Client:
        """Every request, discovery included, through the client that refuses private addresses."""
        if self._pinned is None:
            timeout = 30.0
            if self.make_http is not None:
                timeout = self.make_http().timeout.read or timeout
            self._pinned = pinned_client([str(a) for a in self.option("allow") or []], timeout)
        return self._pinned

    def _transmit(self, request: Request) -> httpx.Response:
        try:
            return super()._transmit(request)
        except MediaRefused as exc:  # the pinned client refused the address: never as configured
            why = str(exc).split(";")[0]
            raise Permanent(f"{self.name}: {why} (a private host: list it in `allow`)") from None
        except MediaUnavailable as exc:
            raise Transient(f"{self.name}: cannot connect ({exc})") from None

    def facts_scope(self) -> str:
        mark = hashlib.sha256(self._token().encode()).hexdigest()[:12] if self._token() else "-"
        return f"{self.type} {self.base} {mark}"  # q=config may differ per token (micro.blog's blogs)

    def fetch_facts(self) -> Facts | None:
        """The endpoint (discovered) and what `q=config` says: the media endpoint, the syndication targets."""
        if not self._token():
            return None  # a preview without credentials: nothing to ask
        endpoint = self._endpoint(None)
        try:
            config = self.send(self._config_request(endpoint)).json()
        except Permanent:  # a server that answers no q=config (400): no media endpoint, photos go by URL
            config = {}
        except ValueError:
            raise Transient(f"{self.name}: unreadable q=config answer") from None
        config = config if isinstance(config, dict) else {}
        media = config.get("media-endpoint")
        facts: Facts = {"endpoint": endpoint,
                        "media_endpoint": urljoin(endpoint, media) if isinstance(media, str) and media else None,
                        "syndicate_to": [str(t.get("uid")) for t in config.get("syndicate-to") or []
                                         if isinstance(t, dict) and t.get("uid")]}
        self._known = facts
        return facts

    def limits_for(self, facts: Facts | None) -> Limits:
        if facts:
            self._known = {**self._known, **facts}  # what upload() needs: the engine passes facts here first
        if self.option("post_type", "note") == "article":
            return self.with_limits(text=None)
        assert self.limits.text is not None
        return self.with_limits(text=TextLimit(int(self.option("max_characters", NOTE_MAX)), "characters",
                                               LINK_SHOWN))

    def _token(self) -> str:
        value = self.option("token")
        return value.reveal() if isinstance(value, Secret) else str(value or "")

    def _endpoint(self, facts: Facts | None) -> str:
        """The endpoint: configured, else from the facts, else discovered now (once per process)."""
        configured = self.option("endpoint")
        if configured:
            return str(configured)
        found = (facts or {}).get("endpoint") or self._known.get("endpoint")
        if found:
            return str(found)
        endpoint = discover(self.http, str(self.option("site_url")), self.name)
        self._known = {**self._known, "endpoint": endpoint}
        return endpoint

    def _media_endpoint(self) -> str | None:
        if "media_endpoint" not in self._known:
            self.fetch_facts()
        found = self._known.get("media_endpoint")
        return str(found) if found else None

    def _config_request(self, endpoint: str) -> Request:
        return Request("GET", endpoint, params={"q": "config"}, headers={"Accept": "application/json"}, kind="read")

    # --- pure ------------------------------------------------------------------------------

    def render(self, post: Post, facts: Facts | None = None) -> Draft:
        over = post.control.override(self.name, self.type)
        warnings: list[str] = []
        names, tag_warnings = shape_tags(tag_names([*post.tags, *post.categories], over), _TAGS)
        warnings += tag_warnings
        props: dict[str, Any] = {}
        if names:
            props["category"] = names
        date = post.date or post.publish_date
        if date is not None:
            props["published"] = [date.isoformat()]
        if post.slug:
            props["mp-slug"] = [post.slug]
        media: list[MediaItem] = []
        cover = post.cover
        if cover is not None and (is_http_url(cover.url) or cover.path is not None):
            media.append(MediaItem("cover", str(cover.url or cover.src), cover.alt, cover.path))
        elif cover is not None:
            warnings.append(f"cover {cover.src!r} has neither a file nor a public URL: no photo")
        kind = str(over.get("post_type") or self.option("post_type", "note"))
        if kind == "article":
            props["name"] = [plain(str(over.get("title") or post.title)) or post.url]
            props["content"] = [{"html": post.document.html()}]
            summary = plain(str(over.get("summary") or post.excerpt))
            if summary:
                props["summary"] = [summary]
            return Draft(self.type, fields={"properties": props, "url": post.url}, media=media, warnings=warnings)
        template = social_template(post, self, _TAGS, DEFAULT_TEMPLATE)
        return Draft(self.type, fields={"properties": props, "url": post.url}, parts=[Part(template=template)], media=media,
                     warnings=warnings)

    def _properties(self, draft: Draft, ctx: SendContext, syndication: bool) -> dict[str, Any]:
        props = dict(draft.fields["properties"])
        text = draft.parts[0].text if draft.parts else None
        if text is not None:
            props["content"] = [{"html": note_html(text)}]
        photos: list[dict[str, str]] = []
        for item in draft.media:
            url = ctx.media.get(item.source) or (item.source if is_http_url(item.source) else None)
            if url:
                photos.append({"value": url, **({"alt": item.alt} if item.alt else {})})
        if photos:
            props["photo"] = photos
        if syndication:
            original = draft.fields.get("url")
            copies = [r.url for r in ctx.siblings.values() if r.url and is_http_url(r.url)]
            props["syndication"] = list(dict.fromkeys([u for u in [original, *copies] if u]))
        return props

    def build_create(self, draft: Draft, key: str, ctx: SendContext) -> Request:
        body = {"type": ["h-entry"], "properties": self._properties(draft, ctx, True)}
        return Request("POST", self._endpoint(ctx.facts), json=body, kind="create", idempotent=False)

    def build_update(self, remote: Remote, draft: Draft, ctx: SendContext) -> Request:
        props = self._properties(draft, ctx, True)
        props.pop("published", None)
        props.pop("mp-slug", None)
        body: dict[str, Any] = {"action": "update", "url": self._url_of(remote), "replace": props}
        gone = [name for name in MANAGED if name not in props]
        if gone:
            body["delete"] = gone  # a cover or summary taken away is taken away there too
        return Request("POST", self._endpoint(ctx.facts), json=body, kind="update")

    def build_delete(self, remote: Remote) -> Request:
        return Request("POST", self._endpoint(None), json={"action": "delete", "url": self._url_of(remote)},
                       kind="delete")

    def build_verify(self) -> Request | None:
        return self._config_request(self._endpoint(None))

    def parse_remote(self, response: httpx.Response, ctx: SendContext) -> Remote:
        location = response.headers.get("location")
        if not location:
            raise ValueError("no Location")
        url = urljoin(str(response.url), location)
        return Remote(url, url)

    def notices(self, facts: Facts | None, now: datetime) -> list[Notice]:
        if facts and not facts.get("media_endpoint"):
            return [Notice("info", f"{self.name}: the endpoint names no media endpoint: photos go by their "
                                   "public URL")]
        return []

    def _url_of(self, remote: Remote) -> str:
        url = remote.url or remote.id
        if not url or not is_http_url(str(url)):
            raise Permanent(f"{self.name}: no URL recorded for the copy (got {url!r}); `syndicate resolve --url`")
        return str(url)

    # --- I/O -------------------------------------------------------------------------------

    def update(self, remote: Remote, draft: Draft, ctx: SendContext | None = None) -> Remote:
        """200/204: the same URL; 201 + Location: the server moved the post (§3.4)."""
        ctx = ctx or SendContext()
        response = self.send(self.build_update(remote, draft, ctx))
        location = response.headers.get("location")
        if response.status_code == 201 and location:
            url = urljoin(str(response.url), location)
            return Remote(url, url, dict(remote.extra))
        return remote

    def find(self, post: Post, key: str) -> Remote | None:
        """The copy among the latest entries (q=source, list form): its `syndication` holds the post's URL.

        A server that lists entries without `syndication` (or leaves out the properties it does not
        keep) is matched on the post's URL in the content (a note), else on the title and date (an article).
        """
        unlisted = (f"{self.name}: a create's outcome is unknown and the endpoint lists no posts (q=source); "
                    f"{self.abilities.find_hint}, then `syndicate resolve`")
        try:
            response = self.send(Request("GET", self._endpoint(None), params={"q": "source", "limit": SOURCE_LIMIT},
                                         headers={"Accept": "application/json"}, kind="read"))
        except Permanent as exc:  # the list form of q=source is an extension (micro.blog, Indiekit)
            raise Permanent(f"{unlisted} ({exc})") from None
        try:
            items = response.json().get("items")
        except (ValueError, AttributeError):
            raise Transient(f"{self.name}: unreadable q=source answer") from None
        if not isinstance(items, list):
            raise Permanent(unlisted)
        for item in items:
            props = item.get("properties") if isinstance(item, dict) else None
            if isinstance(props, dict) and is_copy(props, post):
                urls = [str(u) for u in props.get("url") or [] if is_http_url(str(u))]
                if urls:
                    return Remote(urls[0], urls[0])
        return None

    def upload(self, item: MediaItem, fitted: FittedMedia) -> str:
        """To the media endpoint (§3.6: one `file` part; 201 or 202 + Location); none: the image's own URL."""
        media = self._media_endpoint()
        if media is None:
            if is_http_url(item.source):
                return item.source
            raise Permanent(f"{self.name}: image {item.source} has no public URL and the endpoint names no "
                            "media endpoint")
        files = {"file": (fitted.filename, fitted.data, fitted.mime)}
        # a lost answer only orphans a file: sent again freely
        response = self.send(Request("POST", media, files=files, kind="media"))
        location = response.headers.get("location")
        if response.status_code not in (201, 202) or not location:
            raise Transient(f"{self.name}: the media endpoint answered HTTP {response.status_code} with no Location")
        return urljoin(str(response.url), location)

    # --- errors (§4: {"error": ..., "error_description": ...}) ------------------------------

    def check(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        try:
            body = response.json()
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        error = str(body.get("error") or "")
        said = str(body.get("error_description") or "")[:300] or error_detail(response)
        what = f"{self.name}: HTTP {status}" + (f" {error}" if error else "") + (f": {said}" if said else "")
        if status == 429:
            raise RateLimited(what, retry_after_from(response))
        if error == "insufficient_scope":
            raise AuthFailed(f"{what} (the token lacks a scope this needs: issue one with the create, update, "
                             "delete and media scopes)")
        if error == "unauthorized" or status == 401:
            raise AuthFailed(f"{what} (no token was accepted: set `token`, see docs/micropub.md)")
        if error == "forbidden" or status == 403:
            raise AuthFailed(f"{what} (the token was refused, or may not post to this site)")
        if status in (404, 410):
            raise NotFound(what)
        if status in (408, 425) or status >= 500:
            raise Transient(what)
        raise Permanent(what)  # invalid_request (400) and the rest: this content is refused
