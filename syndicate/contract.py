"""The connector contract: what every platform module implements and declares.

A connector knows one platform. It declares its limits as data (`Limits`,
`MediaPolicy`), renders a post with a pure `render(post) -> Draft`, and turns
the platform's responses into the error classes below, which tell the
scheduler what to do next.
"""
from __future__ import annotations

import email.utils
import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

import httpx

if TYPE_CHECKING:
    from syndicate.config import TargetConfig
    from syndicate.post import Post


from syndicate.errors import (  # noqa: E402  (the engine's tree, re-exported)
    AuthFailed,
    ConnectorError,
    NotFound,
    OutcomeUnknown,
    Permanent,
    RateLimited,
    Throttled,
    Transient,
)


# --- declared limits ------------------------------------------------------

Counting = Literal["characters", "graphemes", "x-weighted", "utf8-bytes"]


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
    upload: bool = True  # False: the platform only takes URLs (dev.to)


@dataclass(frozen=True)
class RateLimit:
    """A documented limit: `amount` requests of `kind` per `seconds`, per account."""

    kind: str  # "create", "update", "request", "media", "write-points"...
    amount: int
    seconds: int
    cost: int = 1


@dataclass(frozen=True)
class Limits:
    text_max: int | None = None
    counting: Counting = "characters"
    url_weight: int | None = None  # every URL counts as this many (Mastodon, X: 23)
    title_max: int | None = None
    tags_max: int | None = None
    media: MediaPolicy | None = None
    can_update: bool = True
    can_delete: bool = True
    can_thread: bool = False
    rates: tuple[RateLimit, ...] = ()


# --- values passed around ---------------------------------------------------


@dataclass
class MediaItem:
    """An image a draft wants attached or referenced: where it comes from and its alt."""

    role: Literal["cover", "inline"]
    source: str  # absolute URL or a path inside the site
    alt: str | None = None


@dataclass
class Draft:
    """What a connector would send for a post: the request body and what goes with it."""

    target_type: str
    payload: dict[str, Any]
    text: str | None = None  # the human-visible text (statuses); None for articles
    media: list[MediaItem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def content_hash(self) -> str:
        """Stable hash of what would be published; a change means an update is due."""
        blob = json.dumps(
            {"payload": self.payload, "media": [(m.role, m.source, m.alt) for m in self.media]},
            sort_keys=True,
            ensure_ascii=False,
            default=str,
        )
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class Remote:
    """The copy of a post on a platform."""

    id: str
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
    """Gives a connector the bytes of an image, fitted to its policy (syndicate.media)."""

    def fitted(self, item: MediaItem, policy: MediaPolicy) -> FittedMedia: ...


@dataclass
class RequestPreview:
    method: str
    url: str
    json: Any


# --- the connector ------------------------------------------------------------


class Connector:
    """Base class. Subclasses set `type`, `limits`, `required`, `secrets`."""

    type: ClassVar[str] = ""
    limits: ClassVar[Limits] = Limits()
    required: ClassVar[tuple[str, ...]] = ()  # option keys that must be set
    secrets: ClassVar[tuple[str, ...]] = ()  # option keys that hold secrets
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(
        self, target: TargetConfig, http: httpx.Client | None = None, media: MediaSource | None = None
    ) -> None:
        self.target = target
        self.http = http if http is not None else httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0))
        self.media = media  # None: no uploads (preview, or a platform that takes URLs)
        self.throttle: Throttle | None = None  # the shared rate limiter, when there is one

    @property
    def name(self) -> str:
        return self.target.name

    def option(self, key: str, default: Any = None) -> Any:
        if key in self.target.options:
            return self.target.options[key]
        return self.defaults.get(key, default)

    def secret(self, key: str) -> str:
        value = self.option(key)
        if value is None:
            raise AuthFailed(f"target {self.name!r}: no {key} configured")
        return value.reveal() if hasattr(value, "reveal") else str(value)

    # pure
    def render(self, post: Post) -> Draft:
        raise NotImplementedError

    def preview(self, draft: Draft, remote: Remote | None = None) -> RequestPreview:
        """The request `create` (or `update`, given `remote`) would send; no secrets."""
        raise NotImplementedError

    # I/O
    def prepare(self) -> None:
        """Optional: read instance limits once before a batch (e.g. Mastodon's max_characters)."""

    def create(self, draft: Draft, key: str) -> Remote:
        raise NotImplementedError

    def update(self, remote: Remote, draft: Draft) -> Remote:
        raise NotImplementedError

    def find(self, post: Post, key: str) -> Remote | None:
        return None

    def delete(self, remote: Remote) -> None:
        raise NotImplementedError

    # helpers for subclasses
    def send(self, method: str, url: str, *, idempotent: bool, kind: str | None = None, **kwargs: Any) -> httpx.Response:
        """Send one request and map failures to the error classes.

        A non-idempotent request (a create) whose response is lost raises
        `OutcomeUnknown`, so that the caller calls `find()` before trying again.
        `kind` names the rate-limit bucket ("create", "update", "media"...;
        by default from the method); with a shared throttle, a call that must
        wait raises `RateLimited` before anything is sent.
        """
        kind = kind or _KIND_BY_METHOD.get(method.upper(), "request")
        if self.throttle is not None:
            self.throttle.before(kind)
        try:
            response = self.http.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise Transient(f"{self.name}: cannot connect ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            cls = Transient if idempotent else OutcomeUnknown
            raise cls(f"{self.name}: response lost ({type(exc).__name__})") from None
        if self.throttle is not None:
            self.throttle.after(response, kind)
        raise_for_status(response, self.name)
        return response


_KIND_BY_METHOD = {"GET": "read", "HEAD": "read", "POST": "create", "PUT": "update", "PATCH": "update",
                   "DELETE": "delete"}


class Throttle(Protocol):
    """A rate limiter shared by every worker (syndicate.ratelimit.Throttle)."""

    def before(self, kind: str) -> None: ...  # raises RateLimited(retry_after) when the call must wait

    def after(self, response: httpx.Response, kind: str) -> None: ...  # learns from rate-limit headers


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
            # Mastodon sends an ISO 8601 timestamp
            from datetime import datetime

            try:
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
        text = response.text.strip().replace("\n", " ")
        return text[:limit]
    if isinstance(body, dict):
        for key in ("error", "errors", "message", "error_description", "detail"):
            if key in body:
                return str(body[key])[:limit]
    return json.dumps(body, ensure_ascii=False)[:limit]


def raise_for_status(response: httpx.Response, name: str) -> None:
    """Map an HTTP status to the error classes; return on 2xx/3xx."""
    status = response.status_code
    if status < 400:
        return
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
