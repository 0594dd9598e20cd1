"""`Connector`: the base class every platform module subclasses."""
from __future__ import annotations

import builtins
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from syndicate.content.media.types import FittedMedia, MediaItem, MediaSource
from syndicate.contract.declared import Abilities, Limits
from syndicate.contract.http import raise_for_status
from syndicate.contract.values import Draft, Facts, Notice, Remote, Request, SendContext, Throttle
from syndicate.errors import (
    AuthFailed,
    ConnectorError,
    NotCreated,
    NotFound,
    OutcomeUnknown,
    Permanent,
    RateLimited,
    Transient,
)

if TYPE_CHECKING:
    import httpx

    from syndicate.auth import Auth
    from syndicate.config import TargetConfig
    from syndicate.config.schema import TargetOptions
    from syndicate.content.post import Post

# httpx logs every request at INFO with its whole URL ("HTTP Request: POST https://..."), and a
# worker logs at INFO: a URL may hold a credential (a Discord webhook's token, a Telegram bot's)
logging.getLogger("httpx").setLevel(logging.WARNING)


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
    # True: the draft names this post's copies on other targets (standard.site's bskyPostRef): the engine
    # gives the plan those copies (`linked`), fills SendContext.siblings, and when one of them changes (made,
    # edited, reposted) it plans this target's copy again, which is updated if its draft changed with it
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

    def linked(self, draft: Draft, siblings: dict[str, Remote]) -> Draft:
        """`wants_siblings`: `draft` with what it takes from this post's copies on other targets (`siblings`,
        by target type and by name), so that a sibling that changes changes the draft's content hash. Pure."""
        return draft

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
            finally:
                if self.throttle is not None:
                    self.throttle.landed()  # by now the platform has counted it, however late it arrived
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
        headers = dict(request.headers)
        url, params = request.url, request.params
        if params and self.auth is not None and self.auth.signs_query:
            import httpx

            url, params = str(httpx.URL(url, params=params)), None  # the signature covers the query
        if self.auth is not None:  # a credential not set fails here: a preview then never imports the client
            form = request.data if request.data and not request.files else None
            url, headers = self.auth.apply(self, url, headers, method=request.method.upper(),
                                           form={str(k): str(v) for k, v in form.items()} if form else None)
        import httpx

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
