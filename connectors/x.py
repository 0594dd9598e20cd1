"""X (Twitter API v2): one post per blog post, or a thread of replies, on a pay-per-use account.

API: docs.x.com — posts (POST /2/tweets createPosts, DELETE /2/tweets/{id}), edits
(`edit_options.previous_post_id`), media (POST /2/media/upload, POST /2/media/metadata for the
alt text), GET /2/users/me; spec ../shared/specs/x/openapi.json (xdk v2.167); PLATFORMS.md §8
and issue 15.

- Text: 280 weighted characters, counted by twitter-text (v3: NFC first, a URL 23, CJK and
  emoji 2; `syndicate.content.text` "x-weighted"). A long text becomes a reply chain with `thread = true`.
- `link = "inline"` puts the post's URL in the text, `"none"` leaves it out (a cheaper post).
- Edits: 5 within 30 minutes of the post (Abilities), each one a new post id; the Remote keeps
  the chain of ids (`extra.chain`) and the number of edits (`extra.edits`, read by the plan).
- Pay-per-use: each post request carries its price (`prices`, USD, overridable); with
  `monthly_budget` the engine's `syndicate.state.budget` holds a post that would pass it until the
  1st of next month. `preview` shows every request's `price_usd`.
- X has no idempotency key and no cheap lookup by text (a posted URL comes back as t.co), so a
  lost create goes to `check`: a person looks at the profile, then `syndicate resolve`.
"""
from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, field_validator, model_validator

from connectors.x_auth import OAUTH1_KEYS, XAuth, XToken
from syndicate.config import HttpUrl, Secret, TargetOptions
from syndicate.contract import (
    Abilities,
    AuthFailed,
    Draft,
    Facts,
    FittedMedia,
    Limits,
    MediaItem,
    MediaPolicy,
    NotFound,
    Notice,
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
)
from syndicate.engine.social import FIELDS, checked, social_template

if TYPE_CHECKING:
    import httpx

    from syndicate.content.post import Post

POSTS = "/2/tweets"
POST = "/2/tweets/{id}"
UPLOAD = "/2/media/upload"
METADATA = "/2/media/metadata"
ME = "/2/users/me"
STATUS_URL = "https://x.com/i/status/{id}"
DEFAULT_TEMPLATE = "{title}\n\n{excerpt}\n\n{url}\n\n{hashtags}"
TEXT_MAX = 280
URL_WEIGHT = 23
ALT_MAX = 1000  # CreateMediaMetadata alt_text (docs: at most 1,000 characters)
EDIT_WINDOW = 30 * 60.0
MAX_EDITS = 5
PRICE_POST = 0.015  # USD, pay-per-use (issue 15, late 2026)
PRICE_POST_WITH_URL = 0.20
_RESET_FAMILIES = ("x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour")


class XPrices(BaseModel):
    """What X charges per request, in USD."""

    model_config = ConfigDict(extra="forbid")

    post: NonNegativeFloat = Field(default=PRICE_POST, description="A post (or an edit) without a URL.")
    post_with_url: NonNegativeFloat = Field(default=PRICE_POST_WITH_URL, description="A post with a URL.")


class XOptions(TargetOptions):
    base_url: HttpUrl = Field(default="https://api.x.com", description="The X API host.")
    api_key: Secret | None = Field(default=None, description="OAuth 1.0a: the app's API key (consumer key).")
    api_secret: Secret | None = Field(default=None, description="OAuth 1.0a: the app's API key secret.")
    access_token: Secret | None = Field(default=None, description="OAuth 1.0a: the user's access token.")
    access_secret: Secret | None = Field(default=None, description="OAuth 1.0a: the user's access token secret.")
    client_id: str | None = Field(default=None, description="OAuth 2.0: the app's client id.")
    client_secret: Secret | None = Field(
        default=None, description="OAuth 2.0: the client secret (confidential clients only).")
    refresh_token: Secret | None = Field(
        default=None, description="OAuth 2.0: a refresh token (scope offline.access); rotated on every refresh.")
    template: str = Field(default=DEFAULT_TEMPLATE, description="The text, from {title} {excerpt} {url} {hashtags}.")
    link: Literal["inline", "none"] = Field(
        default="inline", description="inline: the post's URL in the text; none: no URL (a cheaper post).")
    prices: XPrices = Field(default_factory=XPrices, description="USD per request, e.g. { post = 0.015, "
                                                                "post_with_url = 0.20 }.")
    monthly_budget: NonNegativeFloat | None = Field(
        default=None, description="USD a month for every worker together; a post past it waits for the 1st.")
    embed: Literal["image", "none"] = Field(default="image", description="image: the cover, with its alt text.")
    thread: bool = Field(default=False, description="A text too long for one post becomes a thread of replies.")
    max_thread: int = Field(default=4, ge=1, le=25, description="At most this many posts in a thread.")

    @field_validator("template")
    @classmethod
    def _template(cls, value: str) -> str:
        return checked(value)

    @model_validator(mode="after")
    def _credentials(self) -> XOptions:
        one = [k for k in OAUTH1_KEYS if getattr(self, k) is not None]
        two = self.refresh_token is not None or self.client_id is not None
        if one and two:
            raise ValueError("set either the four OAuth 1.0a keys (api_key, api_secret, access_token, "
                             "access_secret) or OAuth 2.0's client_id and refresh_token, not both")
        if two and (self.refresh_token is None or not self.client_id):
            raise ValueError("OAuth 2.0 needs both client_id and refresh_token")
        if not two and len(one) != len(OAUTH1_KEYS):
            missing = [k for k in OAUTH1_KEYS if getattr(self, k) is None]
            raise ValueError(f"OAuth 1.0a needs {', '.join(missing)} too (or use client_id and refresh_token)")
        return self


class X(XToken):
    """Posts on X as one user, by OAuth 1.0a or an OAuth 2.0 refresh token."""

    type = "x"
    options = XOptions
    auth = XAuth()
    limits = Limits(
        text=TextLimit(TEXT_MAX, "x-weighted", URL_WEIGHT),
        tags=TagRules(max=3, style="hashtag"),
        # media best-practices: images ≤ 5 MB (JPG, PNG, GIF, WEBP), up to 4 per post
        media=MediaPolicy(max_bytes=5 * 1024 * 1024, formats=("jpeg", "png", "gif", "webp"), max_count=4,
                          alt_max_length=ALT_MAX),
        # rate-limits.mdx: POST /2/tweets 100 / 15 min per user (10,000 / 24 h per app);
        # DELETE 50 / 15 min per user; POST /2/media/upload 500 / 15 min per user
        rates=(RateLimit("create", 100, 900), RateLimit("create", 10_000, 86_400),
               RateLimit("delete", 50, 900), RateLimit("media", 500, 900)),
        template=DEFAULT_TEMPLATE,
        template_fields=FIELDS,
    )
    abilities = Abilities(
        can_update=True,
        delete="delete",
        can_find=False,  # no idempotency key, and a lookup by text would not match (URLs become t.co)
        edit_window=EDIT_WINDOW,
        max_edits=MAX_EDITS,
        threads=True,
        find_hint="look at the account's posts on x.com",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clock: Callable[[], float] = time.time  # tests inject it

    # --- pure ---------------------------------------------------------------------------------

    def render(self, post: Post, facts: Facts | None = None) -> Draft:
        limits = self.limits_for(facts)
        over = post.control.override(self.name, self.type)
        link = str(over.get("link") or self.option("link", "inline"))
        template = social_template(post, self, limits.tags, DEFAULT_TEMPLATE, link=link == "inline")
        media: list[MediaItem] = []
        cover = post.cover
        embed = over.get("embed") or self.option("embed", "image")
        if embed == "image" and cover is not None and (cover.url or cover.src):
            media.append(MediaItem("cover", str(cover.url or cover.src), cover.alt, cover.path))
        return Draft(self.type, parts=[Part(template=template, media=media)])

    def price_of(self, text: str | None) -> float:
        """What one post with `text` costs: more when X finds a URL in it (a bare example.com too)."""
        prices = self.option("prices") or XPrices()
        if isinstance(prices, dict):
            prices = XPrices(**prices)
        return float(prices.post_with_url if has_url(text or "") else prices.post)

    def _body(self, draft: Draft, ctx: SendContext) -> dict[str, Any]:
        part = draft.parts[ctx.part]
        body: dict[str, Any] = {"text": part.text or ""}
        media_ids = [ctx.media[m.source] for m in part.media if m.source in ctx.media]
        if media_ids:
            body["media"] = {"media_ids": media_ids[:4]}
        return body

    def build_create(self, draft: Draft, key: str, ctx: SendContext) -> Request:
        body = self._body(draft, ctx)
        if ctx.thread:
            body["reply"] = {"in_reply_to_tweet_id": str(ctx.thread[-1].id)}
        return Request("POST", self.base + POSTS, json=body, kind="create", idempotent=False,
                       price=self.price_of(body["text"]))

    def build_update(self, remote: Remote, draft: Draft, ctx: SendContext) -> Request:
        """An edit is a new post naming the one it replaces (each edit is priced as a post)."""
        body = self._body(draft, ctx)
        if "media" not in body and remote.extra.get("media_ids"):
            body["media"] = {"media_ids": list(remote.extra["media_ids"])}
        body["edit_options"] = {"previous_post_id": str(remote.id)}
        return Request("POST", self.base + POSTS, json=body, kind="create", idempotent=False,
                       price=self.price_of(body["text"]))

    def build_delete(self, remote: Remote) -> Request:
        return Request("DELETE", self.base + POST.format(id=remote.id), kind="delete")

    def build_verify(self) -> Request | None:
        return Request("GET", self.base + ME)

    def parse_remote(self, response: httpx.Response, ctx: SendContext) -> Remote:
        data = response.json()["data"]
        post_id = str(data["id"])
        media_ids = [ctx.media[k] for k in ctx.media] if ctx.media and not ctx.preview else []
        extra: dict[str, Any] = {"media_ids": media_ids} if media_ids else {}
        return Remote(post_id, STATUS_URL.format(id=post_id), extra)

    # --- I/O ------------------------------------------------------------------------------------

    def update(self, remote: Remote, draft: Draft, ctx: SendContext | None = None) -> Remote:
        """Edit: X answers with a new post id; the chain of ids and the count of edits are kept."""
        ctx = ctx or SendContext()
        response = self.send(self.build_update(remote, draft, ctx))
        # a lost answer leaves the new id unknown (the next try would edit a replaced post)
        parsed = self._parsed(response, ctx, OutcomeUnknown)
        chain = [str(i) for i in remote.extra.get("chain") or [remote.id]]
        edits = int(remote.extra.get("edits") or 0) + 1
        extra = {**remote.extra, **parsed.extra, "chain": [*chain, str(parsed.id)], "edits": edits}
        return Remote(parsed.id, parsed.url, extra)

    def delete(self, remote: Remote) -> None:
        try:
            response = self.send(self.build_delete(remote))
        except NotFound:
            return  # already gone
        data = _json(response).get("data")
        if isinstance(data, dict) and data.get("deleted") is False:
            raise Transient(f"{self.name}: post {remote.id} was not deleted (X said deleted: false)")

    def upload(self, item: MediaItem, fitted: FittedMedia) -> str:
        """POST /2/media/upload (one request: an image is at most 5 MB), then its alt text."""
        category = "tweet_gif" if fitted.mime == "image/gif" else "tweet_image"
        response = self.send(Request("POST", self.base + UPLOAD, data={"media_category": category},
                                     files={"media": (fitted.filename, fitted.data, fitted.mime)}, kind="media"))
        data = _json(response).get("data")
        media_id = str(data.get("id") or "") if isinstance(data, dict) else ""
        if not media_id:
            raise Transient(f"{self.name}: the media upload answered without an id")
        if fitted.alt:
            self.send(Request("POST", self.base + METADATA, kind="media", json={
                "id": media_id, "metadata": {"alt_text": {"text": fitted.alt[:ALT_MAX]}}}))
        return media_id

    def billed_account(self) -> str:
        """Whom X bills: the developer app (its API key or client id, hashed), whoever's token posts; a
        user token authorised again keeps counting against the same budget."""
        key = self.option("api_key")
        app = str(self.option("client_id") or "") if self.option("refresh_token") else (
            key.reveal() if hasattr(key, "reveal") else str(key or ""))  # unset in a preview: no error here
        return f"{self.type}|{self.base}|app-{hashlib.sha256(app.encode()).hexdigest()[:16]}"

    # --- status ---------------------------------------------------------------------------------

    def notices(self, facts: Facts | None, now: datetime) -> list[Notice]:
        """The month's budget: spent (an error until the 1st), or nearly spent (a warning)."""
        budget = self.budget
        if budget is None:
            return []
        from syndicate.state.budget import resets_at

        stamp = now.timestamp()
        left = budget.left(stamp)
        reset = resets_at(stamp)
        day = reset.date().isoformat()
        cheapest = self.price_of("")
        if left < max(cheapest, 1e-9):
            return [Notice("error", f"{self.name}: the monthly_budget of {budget.limit:.2f} USD is spent; posts "
                                    f"wait until it resets on {day}", reset)]
        if left < self.price_of("https://x.com") * 5:
            return [Notice("warn", f"{self.name}: {left:.2f} USD of the monthly_budget is left until {day}",
                           reset)]
        return []

    # --- errors ---------------------------------------------------------------------------------

    def check(self, response: httpx.Response) -> None:
        """X's problems ({title, detail, type, status}) and v1-style {errors: [{code, message}]}."""
        status = response.status_code
        if status < 400:
            return
        said = _said(response)
        what = f"{self.name}: HTTP {status}: {said}"
        if status == 429:
            raise RateLimited(what, self._retry_after(response))
        if status == 401:
            mode = "client_id/refresh_token" if self.option("refresh_token") else ", ".join(OAUTH1_KEYS)
            raise AuthFailed(f"{what} (the credentials were refused: check {mode}, docs/x.md)")
        lower = said.lower()
        if status == 403:
            if "duplicate" in lower:
                raise Permanent(f"{what} (X refuses a post whose text repeats a recent one of this account)")
            if any(w in lower for w in ("permission", "not permitted", "oauth1", "client-forbidden",
                                        "not configured")):
                raise AuthFailed(f"{what} (the app needs Read and write permission, or the token the "
                                 "tweet.write scope)")
            raise Permanent(what)
        if status == 402:
            raise Permanent(f"{what} (the X account has no credits left: top it up in the developer console)")
        if status in (404, 410):
            raise NotFound(what)
        if status in (408, 425) or status >= 500:
            raise Transient(what)
        raise Permanent(what)

    def _retry_after(self, response: httpx.Response) -> float | None:
        """Retry-After when sent, else until the reset of a window with nothing left (x-rate-limit-reset,
        and the 24-hour x-user-limit / x-app-limit ones)."""
        from syndicate.contract import parse_retry_after

        now = self.clock()
        after = parse_retry_after(response.headers.get("retry-after"), now)
        if after is not None:
            return after
        waits = []
        for family in _RESET_FAMILIES:
            remaining, reset = response.headers.get(f"{family}-remaining"), response.headers.get(f"{family}-reset")
            if reset is None or (remaining is not None and remaining.strip() not in ("0", "")):
                continue
            try:
                waits.append(max(0.0, float(reset) - now))
            except ValueError:
                continue
        return max(1.0, max(waits)) if waits else None


def has_url(text: str) -> bool:
    """Whether X may find a URL in `text`, for the price: what twitter-text's extractor finds (a bare
    `example.com` too), and any http(s):// link besides (on a TLD the extractor does not know, X may
    still charge for it: a budget errs on the dear side)."""
    if "." not in text:
        return False
    if "http://" in text.lower() or "https://" in text.lower():
        return True
    from twitter_text import extract_urls

    return bool(extract_urls(text))


def _said(response: httpx.Response) -> str:
    body = _json(response)
    parts: list[str] = []
    for key in ("title", "detail"):
        if body.get(key):
            parts.append(str(body[key]))
    errors = body.get("errors")
    if isinstance(errors, list):
        for error in errors[:3]:
            if isinstance(error, dict):
                parts.append(str(error.get("message") or error.get("detail") or ""))
    if body.get("type") and body.get("type") != "about:blank":
        parts.append(f"({body['type']})")
    return " ".join(p for p in parts if p)[:300] or response.reason_phrase


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
