"""Slack: each post announced in a channel as a Block Kit message, by a bot token or an incoming webhook.

API: docs.slack.dev/reference/methods/chat.postMessage, chat.update, chat.delete, auth.test;
docs.slack.dev/messaging/sending-messages-using-incoming-webhooks; /apis/web-api/rate-limits;
/reference/block-kit/blocks; PLATFORMS.md §13 and issue 15.

Two ways in:
- `bot_token` + `channel`: chat.postMessage answers with the channel's id and
  the message's `ts`, both kept (the copy's id is "CHANNEL/TS"), so an edit is
  chat.update and a delete chat.delete. auth.test is the credential check, and
  gives the workspace URL that a message's permalink is made from.
- `webhook_url`: the URL is the credential (requests name it `{webhook_url}`
  and the auth puts it in, so previews, errors and the ledger never hold it).
  A webhook answers "ok" and nothing else: it is create-only, posted once;
  edits and deletes are "not propagated".

The Web API answers errors as HTTP 200 with `{"ok": false, "error": "..."}`
(and a 429 with Retry-After when rate limited); a webhook answers a plain-text
code with a 4xx. Both are mapped onto the error classes in `check`.
"""
from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from connectors.common import is_http_url
from connectors.slack_errors import check_response
from connectors.slack_text import (
    ALT_MAX,
    HEADER_MAX,
    IMAGE_URL_MAX,
    SECTION_MAX,
    TEXT_MAX,
    escape,
    is_channel_id,
    is_ts,
    link,
    mend,
    permalink,
    permalink_ids,
    webhook_parts,
)
from syndicate.auth import Auth
from syndicate.config import HttpUrl, Secret, TargetOptions
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
    Notice,
    Part,
    Permanent,
    RateLimit,
    Remote,
    Request,
    SendContext,
    TagRules,
    TextLimit,
    Transient,
)
from syndicate.engine.social import FIELDS, checked, plain, social_template

if TYPE_CHECKING:
    from datetime import datetime

    import httpx

    from syndicate.content.post import Post

DEFAULT_BASE = "https://slack.com/api"
POST_MESSAGE = "/chat.postMessage"
UPDATE = "/chat.update"
DELETE = "/chat.delete"
AUTH_TEST = "/auth.test"
HISTORY = "/conversations.history"
EVENT = "syndicate_post"  # the metadata event_type a create carries, with the create's key
HISTORY_LIMIT = 15  # what conversations.history returns at most to a non-Marketplace app (2025 limits)
WEBHOOK = "{webhook_url}"  # replaced by the auth with the secret URL
DEFAULT_TEMPLATE = "{excerpt}\n\n{url}"  # the header block carries the title
_HASHTAGS = TagRules(style="hashtag")
_WEBHOOK_HELP = ('the URL from the app\'s "Incoming Webhooks" page, like '
                 '"https://hooks.slack.com/services/T…/B…/…", usually "${SLACK_WEBHOOK_URL}"')
_TOKEN_HELP = 'a bot token "xoxb-…" (OAuth & Permissions), usually "${SLACK_BOT_TOKEN}"'


def _webhook_url(value: Secret | None) -> Secret | None:
    raw = value.reveal() if value is not None else ""
    if raw and webhook_parts(raw) is None:  # empty: a lenient load (preview) or the model check says so
        raise PydanticCustomError("webhook_url", "not a Slack incoming webhook URL", {"allowed": _WEBHOOK_HELP})
    return value


def _bot_token(value: Secret | None) -> Secret | None:
    raw = value.reveal() if value is not None else ""
    if raw and not raw.startswith(("xoxb-", "xoxp-", "xoxe.")):
        raise PydanticCustomError("bot_token", "not a Slack token", {"allowed": _TOKEN_HELP})
    return value


class SlackOptions(TargetOptions):
    bot_token: Annotated[Secret | None, AfterValidator(_bot_token)] = Field(
        default=None, description="A bot token (xoxb-…) with chat:write; with `channel`. Or use webhook_url.")
    channel: str | None = Field(default=None, min_length=1, description="Where the bot posts: a channel id "
                                "(C…, as \"Copy link\" shows it) or a #name; the bot must be a member.")
    webhook_url: Annotated[Secret | None, AfterValidator(_webhook_url)] = Field(
        default=None, description="An incoming webhook URL (a secret): create-only, no edits or deletes.")
    base_url: HttpUrl = Field(default=DEFAULT_BASE, description="The Web API root (a proxy, or a Slack-compatible "
                              "server); not used by a webhook.")
    template: str = Field(default=DEFAULT_TEMPLATE, description="The section under the title: "
                          "{title} {excerpt} {url} {hashtags}; must hold {url}.")
    cover: Literal["image", "none"] = Field(default="image", description="image: the cover as an image block.")
    unfurl: bool = Field(default=False, description="Let Slack add its own preview of the link too.")
    find: bool = Field(default=False, description="A lost create is looked up in the channel's latest messages "
                       "(needs channels:history, or groups:history for a private channel; channel as an id).")

    @field_validator("template")
    @classmethod
    def _template(cls, value: str) -> str:
        return checked(value)

    @model_validator(mode="after")
    def _one_way(self) -> SlackOptions:
        if self.bot_token is not None and self.webhook_url is not None:
            raise ValueError("set bot_token + channel, or webhook_url: not both")
        if self.bot_token is None and self.webhook_url is None:
            raise ValueError("set bot_token + channel (edits and deletes follow the post), "
                             "or webhook_url (create-only)")
        if self.bot_token is not None and not self.channel:
            raise ValueError("bot_token needs channel: the channel id (C…) or #name the bot posts in")
        if self.webhook_url is not None and self.channel:
            raise ValueError("a webhook posts to its own channel: leave channel out (or use bot_token)")
        if self.find and (self.bot_token is None or not is_channel_id(str(self.channel or ""))):
            raise ValueError("find = true reads the channel's history: it needs bot_token and channel as an id "
                             "(C…, from the channel's details), not a #name")
        return self


class SlackAuth(Auth):
    """A bot token as `Authorization: Bearer`, or the webhook URL put in for `{webhook_url}`."""

    secrets = ("bot_token", "webhook_url")

    def apply(self, conn: Connector, url: str, headers: dict[str, str], *, method: str = "GET",
              form: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
        if url.startswith(WEBHOOK):
            raw = conn.secret("webhook_url")
            if webhook_parts(raw) is None:
                raise AuthFailed(f"target {conn.name!r}: webhook_url is not a Slack incoming webhook URL")
            return raw + url[len(WEBHOOK):], headers
        return url, {**headers, "Authorization": "Bearer " + conn.secret("bot_token")}


BOT_ABILITIES = Abilities(
    can_update=True,  # chat.update, at any age, for the app's own messages
    delete="delete",  # chat.delete
    can_find=False,  # finding a message needs channels:history: with `find = true` only (else `check`)
    needs_public_media_url=True,  # an image block is fetched by Slack from its URL
    find_hint="look in the Slack channel for the announcement; if it is there, "
              "`syndicate resolve --url` with its \"Copy link\"",
)
WEBHOOK_ABILITIES = Abilities(
    can_update=False,  # a webhook answers "ok", no ts: nothing to edit (not propagated)
    delete="none",
    can_find=False,
    returns_id=False,
    needs_public_media_url=True,
    find_hint="look in the Slack channel for the announcement; if it is there, `syndicate resolve --url` with "
              "its \"Copy link\" (a webhook message is never edited or deleted)",
)


class Slack(Connector):
    """Announcements in a Slack channel: header, section and image blocks, by bot token or webhook."""

    type = "slack"
    options = SlackOptions
    auth = SlackAuth()
    limits = Limits(
        text=TextLimit(SECTION_MAX, "characters"),  # the section's mrkdwn text, escaped, as Slack counts it
        title_max=HEADER_MAX,
        media=MediaPolicy(max_bytes=10 * 1024 * 1024, max_count=1, alt_max_length=ALT_MAX),
        # rate-limits: chat.postMessage "1 message per second per channel, short bursts allowed"
        # (webhooks alike); chat.update and chat.delete are Tier 3 (50+ a minute)
        rates=(RateLimit("create", 1, 1), RateLimit("update", 50, 60), RateLimit("delete", 50, 60)),
        template=DEFAULT_TEMPLATE,
        template_fields=FIELDS,
    )
    abilities = BOT_ABILITIES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.webhook:
            self.abilities = WEBHOOK_ABILITIES  # type: ignore[misc]  # this target's, by its credentials
        elif self.option("find"):
            self.abilities = replace(BOT_ABILITIES, can_find=True)  # type: ignore[misc]

    @property
    def webhook(self) -> bool:
        """True: this target posts through an incoming webhook (create-only)."""
        return self.option("webhook_url") is not None and self.option("bot_token") is None

    # --- facts: the workspace's URL, for permalinks (no token kept) ---------------------------

    def facts_scope(self) -> str:
        token = self.option("bot_token")
        raw = token.reveal() if isinstance(token, Secret) else ""
        mark = hashlib.sha256(raw.encode()).hexdigest()[:12] if raw else "-"
        return f"{self.type} {self.base} {mark}"

    def fetch_facts(self) -> Facts | None:
        """auth.test: the workspace URL and ids (a webhook has nothing to ask)."""
        if self.webhook or not self.option("bot_token"):
            return None
        request = self.build_verify()
        assert request is not None
        body = self.send(request).json()
        if not isinstance(body, dict):
            raise Transient(f"{self.name}: unreadable auth.test answer")
        return {key: body.get(key) for key in ("url", "team_id", "user_id", "bot_id")}

    def build_verify(self) -> Request | None:
        if self.webhook:
            return None  # a webhook has no read: anything sent to it is posted
        return Request("GET", self.base + AUTH_TEST, kind="read")

    def notices(self, facts: Facts | None, now: datetime) -> list[Notice]:
        if self.webhook:
            return [Notice("info", f"{self.name}: an incoming webhook: edits and deletes are not propagated "
                                   "(use bot_token + channel for them)")]
        return []

    # --- pure ---------------------------------------------------------------------------------

    def render(self, post: Post, facts: Facts | None = None) -> Draft:
        over = post.control.override(self.name, self.type)
        template = social_template(post, self, _HASHTAGS, DEFAULT_TEMPLATE)
        for name, value in template.values.items():  # plain text (or the author's own mrkdwn): & < > escaped
            template.values[name] = escape(value)
        template.values["url"] = link(post.url)
        title = plain(str(over.get("title") or post.title)) or post.url
        header = truncate(title, HEADER_MAX, "characters")
        warnings = [f"header shortened to {HEADER_MAX} characters"] if header != title else []
        media: list[MediaItem] = []
        cover = post.cover
        if cover is not None and self.option("cover", "image") != "none":
            if is_http_url(cover.url) and len(str(cover.url)) <= IMAGE_URL_MAX:
                media.append(MediaItem("cover", str(cover.url), cover.alt, cover.path))
            else:
                warnings.append("cover has no absolute http(s) URL (of at most 3000 characters): no image block")
        return Draft(self.type, fields={"header": header}, parts=[Part(template=template)], media=media,
                     warnings=warnings)

    def _message(self, draft: Draft, ctx: SendContext) -> dict[str, Any]:
        """The blocks and the `text` fallback (what notifications and old clients show)."""
        header = str(draft.fields["header"])
        section = mend(draft.parts[0].text or "") if draft.parts else ""
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}},
            {"type": "section", "text": {"type": "mrkdwn", "text": section}},
        ]
        for item in draft.media:
            alt = truncate(item.alt or header, ALT_MAX, "characters")  # alt_text is required
            blocks.append({"type": "image", "image_url": ctx.media.get(item.source, item.source), "alt_text": alt})
        fallback = truncate(f"{escape(header)}\n{section}", TEXT_MAX, "characters")
        return {"text": fallback, "blocks": blocks}

    def build_create(self, draft: Draft, key: str, ctx: SendContext) -> Request:
        body = self._message(draft, ctx)
        unfurl = bool(self.option("unfurl", False))
        body.update(unfurl_links=unfurl, unfurl_media=unfurl)
        if self.webhook:
            return Request("POST", WEBHOOK, json=body, kind="create", idempotent=False)
        # the key rides along as message metadata: `find` knows the message by it after a lost answer
        body["metadata"] = {"event_type": EVENT, "event_payload": {"key": key}}
        return Request("POST", self.base + POST_MESSAGE, json={"channel": self.option("channel"), **body},
                       kind="create", idempotent=False)

    def build_update(self, remote: Remote, draft: Draft, ctx: SendContext) -> Request:
        channel, ts = self._ids(remote)
        return Request("POST", self.base + UPDATE, json={"channel": channel, "ts": ts, **self._message(draft, ctx)},
                       kind="update")

    def build_delete(self, remote: Remote) -> Request:
        channel, ts = self._ids(remote)
        return Request("POST", self.base + DELETE, json={"channel": channel, "ts": ts}, kind="delete")

    def parse_remote(self, response: httpx.Response, ctx: SendContext) -> Remote:
        if self.webhook:
            return Remote(None)  # "ok": no id, nothing to edit or delete
        body = response.json()
        channel, ts = str(body["channel"]), str(body["ts"])
        team = (ctx.facts or {}).get("url")
        url = permalink(str(team), channel, ts) if team else None
        return Remote(f"{channel}/{ts}", url, {"channel": channel, "ts": ts})

    def find(self, post: Post, key: str) -> Remote | None:
        """The message created under `key`, among the channel's latest (only with `find = true`)."""
        if self.webhook or not self.option("find"):
            return None
        channel = str(self.option("channel"))
        request = Request("GET", self.base + HISTORY, kind="read", params={
            "channel": channel, "limit": HISTORY_LIMIT, "include_all_metadata": "true"})
        messages = self.send(request).json().get("messages")
        for message in messages if isinstance(messages, list) else []:
            meta = message.get("metadata") if isinstance(message, dict) else None
            if isinstance(meta, dict) and meta.get("event_type") == EVENT and isinstance(
                    meta.get("event_payload"), dict) and meta["event_payload"].get("key") == key and message.get("ts"):
                ts = str(message["ts"])
                return Remote(f"{channel}/{ts}", None, {"channel": channel, "ts": ts})
        return None

    def _ids(self, remote: Remote) -> tuple[str, str]:
        """(channel id, ts) of a copy: its id "C…/ts", its extra, or a permalink recorded by `resolve --url`."""
        rid = str(remote.id or "")
        channel, _, ts = rid.rpartition("/")
        if channel and is_ts(ts):
            return channel, ts
        if remote.extra.get("channel") and remote.extra.get("ts"):
            return str(remote.extra["channel"]), str(remote.extra["ts"])
        found = permalink_ids(remote.url)
        if found is not None:
            return found
        configured = str(self.option("channel") or "")
        if is_ts(rid) and is_channel_id(configured):  # `resolve --id` with the bare ts
            return configured, rid
        raise Permanent(f"{self.name}: no Slack message recorded (got {remote.id!r}); `syndicate resolve --url` "
                        "with the message's \"Copy link\"")

    # --- errors: ok:false in a 200, or a webhook's plain-text code --------------------------------

    def check(self, response: httpx.Response) -> None:
        check_response(response, self.name, webhook=self.webhook)
