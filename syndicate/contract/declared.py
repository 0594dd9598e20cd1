"""What a connector declares of its platform: text, tag and media limits, rate limits, abilities."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from syndicate.content.media.types import MediaPolicy
from syndicate.state.limits import RateLimit

if TYPE_CHECKING:

    pass


# --- declared limits ------------------------------------------------------------

Counting = Literal["characters", "graphemes", "x-weighted", "utf8-bytes", "emoji-bytes", "utf16"]




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
    # seconds a create whose answer was lost may still land (the platform was still working on it): an
    # empty `find` within that time waits instead of creating again. 0 where the platform itself refuses a
    # second create of the same copy (an idempotency key, a unique canonical URL, a record key from the post)
    lost_create_settle: float = 120.0
