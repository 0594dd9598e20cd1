"""The values a connector and the engine hand each other: templates, parts, drafts, remotes, requests."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from syndicate.content.media.types import MediaItem

if TYPE_CHECKING:
    import httpx



# --- values passed around ---------------------------------------------------------



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

    def landed(self) -> None: ...  # the granted call was answered (or failed): the platform has counted it
