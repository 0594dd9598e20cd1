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
from syndicate.content.media.types import FittedMedia, MediaItem, MediaPolicy, MediaSource
from syndicate.contract.connector import Connector
from syndicate.contract.declared import Abilities, Counting, Limits, TagRules, TextLimit
from syndicate.contract.http import error_detail, page_summary, proves_not_created, raise_for_status, retry_after_from
from syndicate.contract.values import Draft, Facts, Notice, Part, Remote, Request, SendContext, Template, Throttle
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
from syndicate.state.limits import RateLimit, parse_retry_after

__all__ = [
    "Abilities", "AuthFailed", "Connector", "ConnectorError", "Counting", "Draft", "Facts", "FittedMedia", "Limits",
    "MediaItem", "MediaPolicy", "MediaSource", "NotCreated", "NotFound", "Notice", "OutcomeUnknown", "Part", "Permanent",
    "RateLimit", "RateLimited", "Remote", "RenderError", "Request", "SendContext", "TagRules", "Template", "TextLimit",
    "Throttle", "Throttled", "Transient", "error_detail", "page_summary", "parse_retry_after", "proves_not_created",
    "raise_for_status", "retry_after_from",
]
