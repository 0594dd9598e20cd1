"""The connector contract: what a platform module declares, and what the engine does for it.

A connector knows one platform. It *declares* its limits (`Limits`), its
abilities (`Abilities`), its auth (`syndicate.auth`) and its options (a
pydantic model), and it implements four small pure pieces:

- `render(post, facts) -> Draft`: the post in the platform's shape; text that
  must fit a limit is left as a `Template` and fitted by the engine;
- `build_create(draft, key, ctx)` / `build_update(remote, draft, ctx)` /
  `build_delete(remote)`: the exact `Request` to send, so that `preview` shows
  what `create` sends;
- `parse_remote(response, ctx) -> Remote`.

The engine (`syndicate.engine.runner`) fits the text, uploads media, sends requests
(auth, shared rate limits, error mapping), records every step in the ledger,
and runs every connector through `syndicate.testing`'s contract suite.
"""
from __future__ import annotations

import builtins
import email.utils
import hashlib
import html
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from syndicate.errors import (
    AuthFailed,
    ConnectorError,
    NotCreated,
    NotFound,
    OutcomeUnknown,
    Permanent,
    RateLimited,
    RenderError,
    Throttled,
    Transient,
)

if TYPE_CHECKING:
    import httpx

    from syndicate.auth import Auth
    from syndicate.config import TargetConfig
    from syndicate.config.schema import TargetOptions
    from syndicate.content.post import Post

__all__ = [
    "Abilities", "AuthFailed", "Connector", "ConnectorError", "Draft", "Facts", "FittedMedia", "Limits",
    "MediaItem", "MediaPolicy", "MediaSource", "NotCreated", "NotFound", "Notice", "OutcomeUnknown", "Part", "Permanent", "RateLimit",
    "RateLimited", "Remote", "RenderError", "Request", "SendContext", "TagRules", "Template", "TextLimit",
    "Throttle", "Throttled", "Transient",
]

# httpx logs every request at INFO with its whole URL ("HTTP Request: POST https://..."), and a
# worker logs at INFO: a URL may hold a credential (a Discord webhook's token, a Telegram bot's)
logging.getLogger("httpx").setLevel(logging.WARNING)

# --- declared limits ------------------------------------------------------------

Counting = Literal["characters", "graphemes", "x-weighted", "utf8-bytes", "emoji-bytes", "utf16"]


@dataclass(frozen=True)
class MediaPolicy:
    """What a platform accepts for one image."""

    max_bytes: int
    max_pixels: int | None = None
    max_width: int | None = None
    max_height: int | None = None
    formats: tuple[str, ...] = ("jpeg", "png", "gif", "webp")
    max_count: int = 4
    alt_required: bool = False
    alt_max_length: int | None = None


@dataclass(frozen=True)
class RateLimit:
    """A documented limit: `amount` requests of `kind` per `seconds`, per account."""

    kind: str  # "create", "update", "request", "media", "write-points"...
    amount: int
    seconds: int
    cost: int = 1


@dataclass(frozen=True)
class TextLimit:
    """How long a text may be and how the platform counts it."""

    max: int
    counting: Counting = "characters"
    url_weight: int | None = None  # every URL counts as this many (Mastodon, X: 23)
    mentions_local: bool = False  # `@user@domain` counts as `@user` (Mastodon)
    max_bytes: int | None = None  # a second limit in UTF-8 bytes (Bluesky: 3000)


@dataclass(frozen=True)
class TagRules:
    """How many tags a platform keeps and in which shape."""

    max: int | None = None
    style: Literal["alnum", "hashtag", "name"] = "name"
    max_length: int | None = None


@dataclass(frozen=True)
class Limits:
    """A platform's limits as data; the engine enforces them for every connector."""

    text: TextLimit | None = None  # the status text (social platforms)
    title_max: int | None = None
    tags: TagRules | None = None
    media: MediaPolicy | None = None
    rates: tuple[RateLimit, ...] = ()
    template: str | None = None  # the default template of a status
    template_fields: frozenset[str] = frozenset()  # the fields a template may use


@dataclass(frozen=True)
class Abilities:
    """What a platform can do with a copy once it exists; the plan honours each."""

    can_update: bool = True
    delete: Literal["delete", "unpublish", "none"] = "delete"
    can_find: bool = False  # can look up a copy by key/URL after a lost response
    edit_window: float | None = None  # seconds after creation edits are allowed (None: always)
    threads: bool = False  # a long text may become a thread of parts
    returns_id: bool = True  # False: a create answers with no id (Slack webhooks)
    needs_public_media_url: bool = False  # images are fetched by the platform from a URL
    on_edit: Literal["update", "skip", "repost"] = "update"  # the default per-target `on_edit`
    find_hint: str = ""  # what a person should check when the outcome is unknown
    delete_window: float | None = None  # seconds after creation a copy can still be deleted (None: always)
    max_edits: int | None = None  # edits a copy takes in all (X: 5 within its edit window; None: no limit)


# --- values passed around ---------------------------------------------------------


@dataclass
class MediaItem:
    """An image a draft carries: where it is published (`source`), its local file, its alt.

    `source` is a URL or the src as the post wrote it: it is what the content
    hash sees. `path` is the local file when the site has it; it never reaches
    the hash, so moving the site folder changes nothing.
    """

    role: Literal["cover", "inline"]
    source: str
    alt: str | None = None
    path: Path | None = None


@dataclass
class Template:
    """A text the engine fits: `template` filled from `values`, shortening `shrink` fields in order."""

    template: str
    values: dict[str, str]
    shrink: tuple[str, ...] = ("excerpt", "hashtags", "title")
    reserve: int = 0  # counted units taken by something else (a content warning)
    max: int | None = None  # this text's own limit when lower than the platform's (Telegram: a photo's caption)


@dataclass
class Part:
    """One post of a draft: a single status, or one post of a thread."""

    text: str | None = None  # the fitted text (filled by the engine from `template`)
    template: Template | None = None
    media: list[MediaItem] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)  # per-part platform fields


@dataclass
class Draft:
    """What a connector would publish for a post, before it becomes a request."""

    target_type: str
    fields: dict[str, Any] = field(default_factory=dict)  # the platform's fields (an article, a status's options)
    parts: list[Part] = field(default_factory=list)  # statuses: one part, or several for a thread
    media: list[MediaItem] = field(default_factory=list)  # article images (cover, body)
    warnings: list[str] = field(default_factory=list)

    @property
    def text(self) -> str | None:
        """The human-visible text of the first part (statuses); None for articles."""
        return self.parts[0].text if self.parts else None

    @property
    def all_media(self) -> list[MediaItem]:
        return [*self.media, *(m for p in self.parts for m in p.media)]

    def public(self) -> dict[str, Any]:
        """Exactly what the platform receives, with no local paths: the content hash's input."""
        return {
            "fields": self.fields,
            "parts": [{"text": p.text, "fields": p.fields, "media": [(m.role, m.source, m.alt) for m in p.media]}
                      for p in self.parts],
            "media": [(m.role, m.source, m.alt) for m in self.media],
        }

    def content_hash(self) -> str:
        """Stable hash of what would be published; a change means an update is due."""
        blob = json.dumps(self.public(), sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def part_hash(self, index: int) -> str:
        blob = json.dumps({"fields": self.fields, "part": self.public()["parts"][index]}, sort_keys=True,
                          ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class Remote:
    """The copy of a post on a platform."""

    id: str | None
    url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class FittedMedia:
    """An image fitted to a platform's policy: cleaned bytes ready to upload."""

    data: bytes
    mime: str  # "image/jpeg"
    width: int
    height: int
    filename: str  # "cover.jpg"
    alt: str | None = None


class MediaSource(Protocol):
    """Gives a connector the bytes of an image, fitted to its policy (syndicate.content.media)."""

    def fitted(self, item: MediaItem, policy: MediaPolicy) -> FittedMedia: ...


@dataclass
class Request:
    """One HTTP request, exactly as it is sent (auth headers are added by the engine)."""

    method: str
    url: str
    json: Any = None
    params: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] | None = None
    files: dict[str, Any] | None = None
    kind: str | None = None  # the rate-limit bucket (default: from the method)
    idempotent: bool = True  # False: a lost response leaves the outcome unknown
    content: bytes | None = None  # a raw body (an upload of bytes), instead of json/data/files
    price: float | None = None  # what the platform charges for this request, in USD (X)

    def shown(self) -> dict[str, Any]:
        """The request for `preview`: method, URL, body (secrets are masked by the caller)."""
        out: dict[str, Any] = {"method": self.method, "url": self.url, "json": self.json}
        if self.params:
            out["params"] = self.params
        extra = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
        if extra:
            out["headers"] = extra
        if self.data:
            out["data"] = self.data
        if self.content is not None:
            out["content"] = f"<{len(self.content)} bytes>"
        if self.price is not None:
            out["price_usd"] = self.price
        return out


@dataclass
class SendContext:
    """What a request builder may need besides the draft: uploads done, the thread so far."""

    media: dict[str, str] = field(default_factory=dict)  # MediaItem.source -> remote media id or URL
    part: int = 0
    thread: list[Remote] = field(default_factory=list)  # remotes of the parts already posted
    preview: bool = False  # True: media ids are placeholders; nothing was uploaded
    siblings: dict[str, Remote] = field(default_factory=dict)  # this post's copies on other targets, by type
    # a create of several steps (Threads: container, then publish) keeps each step in the intent with
    # `record(data)` before the next; a retry under the same key gets it back as `progress`
    progress: dict[str, Any] = field(default_factory=dict)
    record: Callable[[dict[str, Any]], None] | None = None
    facts: Facts | None = None  # what the engine learnt of the instance (as `render` got them)


@dataclass(frozen=True)
class Notice:
    """Something `status` and `doctor` show about a target: a token about to expire, a spent budget."""

    level: Literal["info", "warn", "error"]
    message: str
    until: datetime | None = None  # when it happens or resets, if known


Facts = dict[str, Any]  # what the engine learnt of an instance (its limits), cached in the ledger


class Throttle(Protocol):
    """A rate limiter shared by every worker (syndicate.state.ratelimit.Throttle)."""

    def before(self, kind: str) -> None: ...  # raises Throttled(retry_after) when the call must wait

    def after(self, response: httpx.Response, kind: str) -> None: ...  # learns from rate-limit headers


# --- the connector ----------------------------------------------------------------

_KIND_BY_METHOD = {"GET": "read", "HEAD": "read", "POST": "create", "PUT": "update", "PATCH": "update",
                   "DELETE": "delete"}


class Connector:
    """Base class: declarations as class attributes, pure builders, and the engine's send.

    Subclasses set `type`, `limits`, `abilities`, `auth` and `options`, and
    implement `render`, `build_create`, `parse_remote`, and where the
    abilities say so `build_update`, `build_delete` and `find`.
    """

    type: ClassVar[str] = ""
    limits: ClassVar[Limits] = Limits()
    abilities: ClassVar[Abilities] = Abilities()
    auth: ClassVar[Auth | None] = None
    options: ClassVar[builtins.type[TargetOptions] | None] = None  # this platform's config keys
    facts_ttl: ClassVar[float] = 24 * 3600.0  # how long fetched instance facts stay fresh
    # True: the engine fills SendContext.siblings (one ledger read per send; standard.site's bskyPostRef)
    wants_siblings: ClassVar[bool] = False

    def __init__(self, target: TargetConfig, http: httpx.Client | None = None,
                 media: MediaSource | None = None) -> None:
        self.target = target
        self._http = http
        self.make_http: Callable[[], httpx.Client] | None = None  # the engine's shared client, made on first use
        self.media = media  # None: no uploads (preview)
        self.throttle: Throttle | None = None  # the shared rate limiter, when there is one
        self.tokens: Any = None  # the engine's token cache (syndicate.auth.TokenCache)
        self.token_store: Any = None  # rotating credentials (syndicate.state.tokens.TokenStore)
        self.budget: Any = None  # a monthly spending limit for priced requests (syndicate.state.budget.Budget)

    @property
    def http(self) -> httpx.Client:
        """The HTTP client, made on first use (a connector used only to render needs none)."""
        if self._http is None:
            if self.make_http is not None:
                self._http = self.make_http()
            else:
                import httpx

                self._http = httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0))
        return self._http

    @property
    def name(self) -> str:
        return self.target.name

    def option(self, key: str, default: Any = None) -> Any:
        value = self.target.options.get(key)
        return default if value is None else value

    def secret(self, key: str) -> str:
        value = self.option(key)
        revealed = value.reveal() if hasattr(value, "reveal") else (str(value) if value is not None else "")
        if not revealed:
            raise AuthFailed(f"target {self.name!r}: no {key} configured")
        return revealed

    @property
    def base(self) -> str:
        return str(self.option("base_url") or "").rstrip("/")

    # --- declared, possibly adjusted by the instance's facts (pure) ---

    def limits_for(self, facts: Facts | None) -> Limits:
        """The limits in force: the declared ones, adjusted by the instance's facts and the options."""
        return self.limits

    def facts_scope(self) -> str:
        return f"{self.type} {self.base}"

    def fetch_facts(self) -> Facts | None:
        """Optional I/O: what this instance says of itself (its limits). None: nothing to learn."""
        return None

    # --- pure ---

    def render(self, post: Post, facts: Facts | None = None) -> Draft:
        raise NotImplementedError

    def build_create(self, draft: Draft, key: str, ctx: SendContext) -> Request:
        raise NotImplementedError

    def preview_create(self, draft: Draft, key: str, ctx: SendContext) -> list[Request]:
        """Every request a create sends, in order, for `preview`: a create of several steps overrides it."""
        return [self.build_create(draft, key, ctx)]

    def build_update(self, remote: Remote, draft: Draft, ctx: SendContext) -> Request:
        raise NotImplementedError(f"{self.type} cannot update")

    def build_delete(self, remote: Remote) -> Request:
        raise NotImplementedError(f"{self.type} cannot delete")

    def parse_remote(self, response: httpx.Response, ctx: SendContext) -> Remote:
        """The copy a create or update answered with; a connector whose platform returns no id keeps this."""
        return Remote(None)

    def build_verify(self) -> Request | None:
        """The cheapest authenticated read (`doctor` sends it to check the credentials); None: nothing to ask."""
        return None

    def notices(self, facts: Facts | None, now: datetime) -> list[Notice]:
        """What `status` and `doctor` should say about this target now: expiries, sunsets, budgets (no I/O)."""
        return []

    # --- I/O hooks a connector may override ---

    def find(self, post: Post, key: str) -> Remote | None:
        """Look up a copy created under `key` (only where `abilities.can_find`)."""
        return None

    def upload(self, item: MediaItem, fitted: FittedMedia) -> str:
        """Upload one fitted image; return the platform's media id (or URL)."""
        raise NotImplementedError(f"{self.type} takes no uploads")

    def recover(self, exc: ConnectorError, draft: Draft, key: str) -> Remote | None:
        """A create was refused: return the existing copy when the refusal says there is one."""
        return None

    # --- sending (the engine's) ---

    def send(self, request: Request) -> httpx.Response:
        """Send one request with auth and the shared limiter; map failures to the error classes.

        A non-idempotent request (a create) whose response is lost raises
        `OutcomeUnknown`, so that the caller calls `find()` before trying again.
        A refused session token is refreshed once.
        """
        kind = request.kind or _KIND_BY_METHOD.get(request.method.upper(), "request")
        for attempt in range(2):
            if self.throttle is not None:
                self.throttle.before(kind)
            price = request.price if self.budget is not None and request.price else None
            if price is not None:
                self.budget.charge(price)  # raises Throttled until the month's budget resets
            try:
                response = self._transmit(request)
            except Transient as exc:
                if price is not None and not isinstance(exc, OutcomeUnknown):
                    self.budget.refund(price)  # never sent: never charged
                raise
            if price is not None and response.status_code >= 400:
                self.budget.refund(price)  # refused: the platform charges nothing
            if self.throttle is not None:
                self.throttle.after(response, kind)
            if attempt == 0 and response.status_code == 401 and self.auth is not None and self.auth.refreshable:
                self.auth.invalidate(self)  # a session token may have expired: log in again, once
                continue
            break
        self.check(response)
        return response

    def _transmit(self, request: Request) -> httpx.Response:
        import httpx

        headers = dict(request.headers)
        url, params = request.url, request.params
        if params and self.auth is not None and self.auth.signs_query:
            url, params = str(httpx.URL(url, params=params)), None  # the signature covers the query
        if self.auth is not None:
            form = request.data if request.data and not request.files else None
            url, headers = self.auth.apply(self, url, headers, method=request.method.upper(),
                                           form={str(k): str(v) for k, v in form.items()} if form else None)
        try:
            if request.content is not None:
                return self.http.request(request.method, url, content=request.content, params=params,
                                         headers=headers)
            return self.http.request(
                request.method, url, json=request.json, params=params, headers=headers,
                data=request.data, files=request.files,
            )
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            # refused before a byte was sent: never a lost answer, and no retry can help
            raise Permanent(f"{self.name}: request not sent, the URL is unusable: {exc} (check base_url)") from None
        except httpx.LocalProtocolError as exc:  # a header the client refuses to send (its text may hold one)
            raise Permanent(f"{self.name}: request not sent ({type(exc).__name__})") from None
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # refused before the request went out: nothing can have been made
            raise NotCreated(f"{self.name}: cannot connect ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            cls = Transient if request.idempotent else OutcomeUnknown
            raise cls(f"{self.name}: response lost ({type(exc).__name__})") from None

    def check(self, response: httpx.Response) -> None:
        """Map an error response to the error classes (override for platforms with errors in 200s)."""
        raise_for_status(response, self.name)

    def create(self, draft: Draft, key: str, ctx: SendContext | None = None) -> Remote:
        ctx = ctx or SendContext()
        request = self.build_create(draft, key, ctx)
        request.idempotent = False
        try:
            response = self.send(request)
        except (Permanent, RateLimited) as exc:
            if isinstance(exc, NotFound) or isinstance(exc, RateLimited):
                raise
            found = self.recover(exc, draft, key)
            if found is None:
                raise
            return self.update(found, draft, ctx) if self.abilities.can_update else found
        return self._parsed(response, ctx, OutcomeUnknown)

    def update(self, remote: Remote, draft: Draft, ctx: SendContext | None = None) -> Remote:
        ctx = ctx or SendContext()
        response = self.send(self.build_update(remote, draft, ctx))
        parsed = self._parsed(response, ctx, Transient)
        return Remote(parsed.id or remote.id, parsed.url or remote.url, {**remote.extra, **parsed.extra})

    def delete(self, remote: Remote) -> None:
        try:
            self.send(self.build_delete(remote))
        except NotFound:
            return  # already gone: that is what we wanted

    def _parsed(self, response: httpx.Response, ctx: SendContext, failure: builtins.type[Transient]) -> Remote:
        try:
            remote = self.parse_remote(response, ctx)
        except (ValueError, KeyError, TypeError):
            raise failure(f"{self.name}: HTTP {response.status_code} answered without an id") from None
        if remote.id is None and self.abilities.returns_id:
            raise failure(f"{self.name}: HTTP {response.status_code} answered without an id")
        return remote

    def with_limits(self, **changes: Any) -> Limits:
        return replace(self.limits, **changes)


# --- HTTP error mapping -----------------------------------------------------------------


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def retry_after_from(response: httpx.Response, now: float | None = None) -> float | None:
    """Wait time from Retry-After, else from a rate-limit reset header."""
    wait = parse_retry_after(response.headers.get("retry-after"), now)
    if wait is not None:
        return wait
    now = now if now is not None else time.time()
    for header in ("x-ratelimit-reset", "ratelimit-reset"):
        raw = response.headers.get(header)
        if not raw:
            continue
        try:
            number = float(raw)
        except ValueError:
            try:  # Mastodon sends an ISO 8601 timestamp
                number = datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
        # a large number is an epoch timestamp, a small one a delta
        return max(0.0, number - now) if number > 1e9 else max(0.0, number)
    return None


def error_detail(response: httpx.Response, limit: int = 300) -> str:
    """A short, secret-free description of an error response."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip().replace("\n", " ")[:limit]
    if isinstance(body, dict):
        for key in ("error", "errors", "message", "error_description", "detail"):
            if key in body:
                return str(body[key])[:limit]
    return json.dumps(body, ensure_ascii=False)[:limit]


_TITLE = re.compile(r"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)


def page_summary(response: httpx.Response, limit: int = 120) -> str:
    """A non-JSON error answer in one short line: status line, content type, the page's <title>."""
    reason = response.reason_phrase or ""
    kind = (response.headers.get("content-type") or "no content type").split(";")[0].strip()
    line = f"HTTP {response.status_code}" + (f" {reason}" if reason else "") + f" ({kind})"
    match = _TITLE.search(response.text[:65536]) if response.content else None
    title = " ".join(html.unescape(match.group(1)).split())[:limit] if match else ""
    return f"{line}: {title}" if title and title != f"{response.status_code} {reason}".strip() else line


def proves_not_created(response: httpx.Response) -> bool:
    """A 5xx that is an HTML page, not the platform's API answer: a proxy or load balancer
    refused the request before the application saw it, so nothing was made. A 504 is left out: the
    application may have taken the request and not answered in time."""
    if response.status_code < 500 or response.status_code == 504:
        return False
    kind = (response.headers.get("content-type") or "").split(";")[0].strip().lower()
    return kind in ("text/html", "application/xhtml+xml")


def raise_for_status(response: httpx.Response, name: str) -> None:
    """Map an HTTP status to the error classes; return on 2xx/3xx."""
    status = response.status_code
    if status < 400:
        return
    if proves_not_created(response):
        raise NotCreated(f"{name}: {page_summary(response)}")
    detail = error_detail(response)
    what = f"{name}: HTTP {status}" + (f": {detail}" if detail else "")
    if status == 429:
        raise RateLimited(what, retry_after_from(response))
    if status in (401, 403):
        raise AuthFailed(what)
    if status in (404, 410):
        raise NotFound(what)
    if status in (408, 425) or status >= 500:
        raise Transient(what)
    raise Permanent(what)
