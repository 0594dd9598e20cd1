"""Discord: each post announced in a channel through an incoming webhook, as one embed.

API: https://discord.com/developers/docs/resources/webhook (execute, edit and
delete a webhook message), /resources/message#embed-object-embed-limits and
/topics/rate-limits; spec ../shared/specs/discord/openapi.json; PLATFORMS.md §12.
The webhook URL is the credential (its token is in the path): requests name
it `{webhook}` and the auth puts it in, so previews, errors and the ledger
never hold it.

Executed with `?wait=true` (else Discord answers 204 with no message id).
The message is the target's `template` (default: the link) and one embed:
title (linking to the post), description (the excerpt), the cover as its
thumbnail (or image), the tags as footer, the date as timestamp, and a
colour. `allowed_mentions: {parse: []}` goes with every create *and* edit:
an edit without it re-parses the content with the default allowances
(webhook.mdx "Edit Webhook Message"), so `@everyone` in a title would ping.
A webhook can neither list nor search messages, so a lost create goes to
`check` (`syndicate resolve --url` takes the "Copy Message Link" URL).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlencode, urlsplit

from pydantic import AfterValidator, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from connectors.common import is_http_url
from connectors.discord_text import (
    THREAD_NAME_MAX,
    escape,
    fitted_embed,
    is_snowflake,
    jump_ids,
    webhook_parts,
)
from syndicate.auth import Auth
from syndicate.config import HttpUrl, Secret, TargetOptions
from syndicate.config.schema import Kind
from syndicate.content.text import truncate
from syndicate.contract import (
    Abilities,
    AuthFailed,
    Connector,
    Draft,
    Facts,
    Limits,
    MediaItem,
    MediaPolicy,
    NotFound,
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
    retry_after_from,
)
from syndicate.engine.social import checked, plain, social_template

if TYPE_CHECKING:
    import httpx

    from syndicate.content.post import Post

DEFAULT_BASE = "https://discord.com/api/v10"  # an unversioned /api/ URL gets Discord's old default version
WEBHOOK = "/webhooks/{webhook}"
MESSAGE = "/webhooks/{webhook}/messages/{id}"
JUMP = "{web}/channels/{guild}/{channel}/{id}"
CONTENT_MAX = 2000  # content: "up to 2000 characters"
DEFAULT_TEMPLATE = "{url}"
SUPPRESS_NOTIFICATIONS = 1 << 12  # message flags (developers/resources/message#message-object-message-flags)
# developers/topics/opcodes-and-status-codes#json
UNKNOWN_WEBHOOK = 10015
UNKNOWN_MESSAGE = 10008
FORUM_NEEDS_THREAD = 220001
_HASHTAGS = TagRules(style="hashtag")  # {hashtags}: plain text on Discord, for a template that wants them
_WEBHOOK_HELP = ('the URL from Discord\'s channel settings > Integrations > Webhooks > Copy Webhook URL, '
                 'like "https://discord.com/api/webhooks/ID/TOKEN", usually "${DISCORD_WEBHOOK_URL}"')


def _webhook_url(value: Secret) -> Secret:
    raw = value.reveal()
    if raw and webhook_parts(raw) is None:  # empty: a lenient load (preview) or "required" says so
        raise PydanticCustomError("webhook_url", "not a Discord webhook URL", {"allowed": _WEBHOOK_HELP})
    return value


def _colour(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0xFFFFFF:
        return value
    if isinstance(value, str):
        text = value.strip().removeprefix("#")
        if len(text) == 6 and all(c in "0123456789abcdefABCDEF" for c in text):
            return int(text, 16)
    raise PydanticCustomError("colour", "not a colour", {"allowed": 'a hex colour like "#5865F2", or 0 to 16777215'})


class DiscordOptions(TargetOptions):
    webhook_url: Annotated[Secret, AfterValidator(_webhook_url)] = Field(
        description="The channel's webhook URL (a secret: its token is in it).")
    base_url: HttpUrl = Field(default=DEFAULT_BASE, description="The API root (a proxy or a Discord-compatible server).")
    template: str = Field(default=DEFAULT_TEMPLATE, description="The message text above the embed: "
                          "{title} {excerpt} {url} {hashtags}; must hold {url}, or be \"\" (the card alone).")
    color: Annotated[int, Kind('colour "#RRGGBB"')] | None = Field(default=None, description="The embed's colour "
                                                                   "(default: none).")
    cover: Literal["thumbnail", "image", "none"] = Field(default="thumbnail", description="Where the cover shows.")
    username: str | None = Field(default=None, min_length=1, max_length=80, description="Post under this name "
                                 "instead of the webhook's own.")
    avatar_url: HttpUrl | None = Field(default=None, description="Post with this avatar instead of the webhook's own.")
    thread_id: str | None = Field(default=None, description="Post in this thread of the webhook's channel.")
    forum: bool = Field(default=False, description="The webhook's channel is a forum: each post opens a thread "
                        "named after its title.")
    silent: bool = Field(default=False, description="Send without push notifications (@silent).")

    @field_validator("template")
    @classmethod
    def _template(cls, value: str) -> str:
        return value if value == "" else checked(value)  # "": the card alone, no message text

    @field_validator("color", mode="before")
    @classmethod
    def _color(cls, value: Any) -> int | None:
        return _colour(value)

    @field_validator("username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        # webhook.mdx "Create Webhook": a name may not contain "clyde" or "discord"
        if value is not None and any(word in value.lower() for word in ("clyde", "discord")):
            raise ValueError('Discord refuses a name containing "clyde" or "discord"')
        return value

    @field_validator("thread_id")
    @classmethod
    def _thread(cls, value: str | None) -> str | None:
        if value is not None and not is_snowflake(value):
            raise ValueError('a thread id is a number (Copy Thread ID), e.g. "1190263530224181318"')
        return value

    @model_validator(mode="after")
    def _one_place(self) -> DiscordOptions:
        if self.forum and self.thread_id:
            raise ValueError("forum = true opens a thread per post: leave thread_id out")
        return self


@dataclass(frozen=True)
class WebhookToken(Auth):
    """The webhook URL holds the credential: `{webhook}` in a request URL becomes "ID/TOKEN"."""

    option: str

    @property
    def secrets(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.option,)

    def apply(self, conn: Connector, url: str, headers: dict[str, str], *, method: str = "GET",
              form: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
        parts = webhook_parts(conn.secret(self.option))
        if parts is None:
            raise AuthFailed(f"target {conn.name!r}: webhook_url is not a Discord webhook URL")
        return url.replace("{webhook}", f"{parts[0]}/{parts[1]}"), headers


class Discord(Connector):
    """Announcements in a Discord channel (or forum, or thread) through its webhook."""

    type = "discord"
    options = DiscordOptions
    auth = WebhookToken("webhook_url")
    limits = Limits(
        text=TextLimit(CONTENT_MAX, "characters"),
        title_max=256,
        # Discord fetches embed images itself (http(s) only); its media proxy documents no size
        media=MediaPolicy(max_bytes=10 * 1024 * 1024, max_count=1, alt_max_length=1024),
        # Discord says to read the headers rather than hard-code limits, and the engine does; these are
        # what a webhook meets: its bucket of 5 per 2 s (X-RateLimit-Limit 5, Reset-After 2) and a
        # per-channel 30 messages a minute that only shows in a 429 (discord-api-docs#367, #1454)
        rates=(RateLimit("request", 5, 2), RateLimit("create", 30, 60)),
        template=DEFAULT_TEMPLATE,
        template_fields=frozenset({"title", "excerpt", "url", "hashtags"}),
    )
    abilities = Abilities(
        can_update=True,  # PATCH /webhooks/{id}/{token}/messages/{message.id}, at any age
        delete="delete",
        can_find=False,  # a webhook cannot list a channel's messages
        needs_public_media_url=True,
        find_hint="look in the Discord channel for the announcement; if it is there, "
                  "`syndicate resolve --url` with its Copy Message Link",
    )

    # --- facts: where the webhook posts (its token and URL are never kept) ----------------

    def facts_scope(self) -> str:
        parts = webhook_parts(self._webhook_url())
        mark = hashlib.sha256(parts[0].encode()).hexdigest()[:12] if parts else "-"
        return f"{self.type} {self.base} {mark}"

    def fetch_facts(self) -> Facts | None:
        """The webhook's guild and channel (GET /webhooks/{id}/{token}), for links to its messages."""
        if not self._webhook_url():
            return None  # a preview without credentials: nothing to ask
        response = self.send(self.build_verify())
        try:
            body = response.json()
            guild, channel = body.get("guild_id"), body.get("channel_id")
        except (ValueError, AttributeError):
            raise Transient(f"{self.name}: unreadable webhook description") from None
        return {"guild_id": str(guild) if guild else None, "channel_id": str(channel) if channel else None}

    def build_verify(self) -> Request:
        return Request("GET", self.base + WEBHOOK, kind="read")

    def _webhook_url(self) -> str:
        value = self.option("webhook_url")
        return value.reveal() if isinstance(value, Secret) else str(value or "")

    # --- pure -----------------------------------------------------------------------------

    def render(self, post: Post, facts: Facts | None = None) -> Draft:
        over = post.control.override(self.name, self.type)
        template = social_template(post, self, _HASHTAGS, DEFAULT_TEMPLATE)
        if "title" in template.values:  # the template's fields are plain text: shown as written
            for name in ("title", "excerpt", "hashtags"):
                template.values[name] = escape(template.values[name])
        template.values["url"] = f"<{post.url}>"  # the embed is the preview: no second one from the link
        title = plain(str(over.get("title") or post.title)) or post.url
        description = plain(str(over.get("description") or post.excerpt))
        tags = list(dict.fromkeys(plain(t) for t in [*post.tags, *post.categories] if plain(t)))
        embed, warnings = fitted_embed(title, description, " · ".join(tags), ", ".join(post.authors))
        embed["url"] = post.url
        date = post.date or post.publish_date
        if date is not None:
            embed["timestamp"] = date.isoformat()
        colour = self.option("color")
        if colour is not None:
            embed["color"] = colour
        fields: dict[str, Any] = {"embed": embed}
        if self.option("forum"):
            fields["thread_name"] = truncate(title, THREAD_NAME_MAX, "characters")
        media: list[MediaItem] = []
        cover = post.cover
        if cover is not None and self.option("cover", "thumbnail") != "none":
            if is_http_url(cover.url):
                media.append(MediaItem("cover", str(cover.url), cover.alt, cover.path))
            else:
                warnings.append("cover has no absolute http(s) URL: the embed shows none")
        bare = self.option("template") == "" and not over.get("text")
        parts = [] if bare else [Part(template=template)]
        return Draft(self.type, fields=fields, parts=parts, media=media, warnings=warnings)

    def _body(self, draft: Draft, ctx: SendContext) -> dict[str, Any]:
        embed = dict(draft.fields["embed"])
        for item in draft.media:
            image: dict[str, Any] = {"url": ctx.media.get(item.source, item.source)}
            if item.alt:
                image["description"] = truncate(item.alt, 1024, "characters")
            embed["image" if self.option("cover") == "image" else "thumbnail"] = image
        text = draft.parts[0].text if draft.parts else None
        body: dict[str, Any] = {"content": text} if text else {}
        return {**body, "embeds": [embed], "allowed_mentions": {"parse": []}}

    def build_create(self, draft: Draft, key: str, ctx: SendContext) -> Request:
        body = self._body(draft, ctx)
        for name in ("username", "avatar_url"):
            if self.option(name):
                body[name] = self.option(name)
        if draft.fields.get("thread_name"):
            body["thread_name"] = draft.fields["thread_name"]
        if self.option("silent"):
            body["flags"] = SUPPRESS_NOTIFICATIONS
        # the query is in the URL, not `params`: a preview shows the whole address sent
        url = self.base + WEBHOOK + "?" + urlencode({"wait": "true", **self._thread(None)})
        return Request("POST", url, json=body, kind="create", idempotent=False)

    def build_update(self, remote: Remote, draft: Draft, ctx: SendContext) -> Request:
        # username, avatar and thread name cannot change: IncomingWebhookUpdateRequestPartial has none
        return Request("PATCH", self._message_url(remote), json=self._body(draft, ctx), kind="update")

    def build_delete(self, remote: Remote) -> Request:
        return Request("DELETE", self._message_url(remote), kind="delete")

    def _message_url(self, remote: Remote) -> str:
        thread = self._thread(remote)
        url = self.base + MESSAGE.format(webhook="{webhook}", id=self._message_id(remote))
        return url + "?" + urlencode(thread) if thread else url

    def parse_remote(self, response: httpx.Response, ctx: SendContext) -> Remote:
        body = response.json()
        message, channel = str(body["id"]), str(body["channel_id"])
        extra: dict[str, Any] = {"channel_id": channel}
        if self.option("forum") or self._thread(None):
            extra["thread_id"] = channel  # a forum post's thread, or the configured one
        guild = (ctx.facts or {}).get("guild_id")
        url = JUMP.format(web=self._web(), guild=guild, channel=channel, id=message) if guild else None
        return Remote(message, url, extra)

    def _message_id(self, remote: Remote) -> str:
        if remote.id and is_snowflake(str(remote.id)):
            return str(remote.id)
        ids = jump_ids(remote.url)  # a copy recorded by `syndicate resolve --url`
        if ids is None:
            raise Permanent(f"{self.name}: no Discord message id recorded (got {remote.id!r}); "
                            "`syndicate resolve --id` with the message's id")
        return ids[1]

    def _thread(self, remote: Remote | None) -> dict[str, str]:
        """`thread_id` for a request: the copy's own thread, else the configured one."""
        thread = (remote.extra.get("thread_id") if remote is not None else None) or self.option("thread_id")
        if thread is None:
            parts = webhook_parts(self._webhook_url())
            thread = parts[2] if parts else None
        if thread is None and remote is not None and self.option("forum"):
            ids = jump_ids(remote.url)
            thread = ids[0] if ids else None
        return {"thread_id": str(thread)} if thread else {}

    def _web(self) -> str:
        """Where people open a message: discord.com for Discord's API, else the API's own host."""
        parts = urlsplit(self.base)
        host = parts.netloc.lower()
        if host == "discord.com" or host.endswith((".discord.com", "discordapp.com")):
            return "https://discord.com"
        return f"{parts.scheme}://{parts.netloc}"

    # --- errors: Discord's JSON error shape -------------------------------------------------

    def check(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        try:
            body = response.json()
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        code = body.get("code")
        detail = _detail(body) or response.reason_phrase
        what = f"{self.name}: HTTP {status}: {detail}"
        if status == 429:
            wait = body.get("retry_after")  # seconds, to the millisecond; Retry-After is rounded up
            scope = response.headers.get("x-ratelimit-scope")
            raise RateLimited(what + (f" (scope {scope})" if scope else ""),
                              float(wait) if isinstance(wait, (int, float)) else retry_after_from(response))
        if code == UNKNOWN_WEBHOOK or status in (401, 403):
            # rate-limits.mdx: a webhook answering 404 must not be used again
            raise AuthFailed(f"{what}; the webhook is gone or its token is wrong: copy its URL into webhook_url again")
        if code == FORUM_NEEDS_THREAD:
            raise Permanent(f"{what}; the webhook posts to a forum: set forum = true (or thread_id)")
        if status in (404, 410):
            raise NotFound(what)
        if status in (408, 425) or status >= 500:
            raise Transient(what)
        raise Permanent(what)


def _detail(body: dict[str, Any], limit: int = 300) -> str:
    """Discord's message, with the first field errors of a 50035 (`errors.embeds.0.title._errors`)."""
    message = str(body.get("message") or "")
    found: list[str] = []

    def walk(node: Any, path: list[str]) -> None:
        if not isinstance(node, dict) or len(found) >= 3:
            return
        for item in node.get("_errors") or []:
            if isinstance(item, dict):
                found.append(f"{'.'.join(path) or 'body'}: {item.get('message') or item.get('code')}")
        for key, child in node.items():
            if key != "_errors":
                walk(child, [*path, str(key)])

    walk(body.get("errors"), [])
    return "; ".join([message, *found] if message else found)[:limit]
