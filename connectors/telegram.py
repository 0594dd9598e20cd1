"""Telegram: each post announced in a channel or group by a bot, as a photo with a caption or a message.

API: core.telegram.org/bots/api — sendMessage, sendPhoto, editMessageText, editMessageCaption,
editMessageMedia, deleteMessage, getMe, "Formatting options" (HTML style), LinkPreviewOptions,
ResponseParameters (retry_after, migrate_to_chat_id); limits in core.telegram.org/bots/faq
("My bot is hitting limits"); PLATFORMS.md §14.

The bot token is the credential and sits in the URL path (`/bot<token>/METHOD`): requests name
it `{token}` and the auth puts it in, so previews, errors and the ledger never hold it.

The text is the target's `template`, plain text fitted in UTF-16 code units (what Telegram counts
after parsing entities), then sent in HTML parse mode with `&`, `<` and `>` escaped, so a title
such as `a < b && c` shows as written. A post with a cover is `sendPhoto` (the cover by its public
URL) with a caption of at most 1,024; otherwise `sendMessage` of at most 4,096 with the post's link
preview. An edit uses the method matching how the copy was made (kept in the copy as `method`);
Telegram's "message is not modified" is the edit already done. A message can be deleted for 48 hours
only; after that a delete is "not propagated". There is no way to read a chat's messages back, so a
lost create goes to `check` (`syndicate resolve --url` takes the "Copy Post Link" URL).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, field_validator
from pydantic_core import PydanticCustomError

from connectors.common import is_http_url
from connectors.telegram_text import (
    CAPTION_MAX,
    MESSAGE_MAX,
    chat_ok,
    chat_value,
    cut,
    escape,
    link_ids,
    message_link,
    token_ok,
)
from syndicate.auth import TokenInUrl
from syndicate.config import HttpUrl, Secret, TargetOptions
from syndicate.content.text import ELLIPSIS
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
    Notice,
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
from syndicate.engine.social import DEFAULT, checked, social_template

if TYPE_CHECKING:
    from datetime import datetime

    import httpx

    from syndicate.content.post import Post

DEFAULT_BASE = "https://api.telegram.org"
METHOD = "/bot{token}/"  # + the method's name; "{token}" is filled by the auth, never shown
DELETE_WINDOW = 48 * 3600.0  # deleteMessage: "a message can only be deleted if it was sent less than 48 hours ago"
PHOTO_TYPES = (".jpg", ".jpeg", ".png", ".webp")
_HASHTAGS = TagRules(style="hashtag")
_TOKEN_HELP = ('the token @BotFather gave, like "123456789:AAE...", usually "${TELEGRAM_BOT_TOKEN}"')
_CHAT_HELP = '"@channelname", or a numeric id such as "-1001234567890"'


def _token(value: Secret) -> Secret:
    raw = value.reveal()
    if raw and not token_ok(raw):  # empty: a lenient load (preview) or "required" says so
        raise PydanticCustomError("bot_token", "not a Telegram bot token", {"allowed": _TOKEN_HELP})
    return value


def _chat(value: Any) -> str:
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not chat_ok(text):
        raise PydanticCustomError("chat_id", "not a Telegram chat", {"allowed": _CHAT_HELP})
    return text


class TelegramOptions(TargetOptions):
    bot_token: Annotated[Secret, AfterValidator(_token)] = Field(
        description="The bot's token from @BotFather (a secret: it goes in the URL path).")
    chat_id: Annotated[str, BeforeValidator(_chat)] = Field(
        description='Where the bot posts: "@channelname" or a numeric chat id ("-100...").')
    base_url: HttpUrl = Field(default=DEFAULT_BASE, description="The Bot API host (a proxy or a local Bot API "
                              "server).")
    template: str = Field(default=DEFAULT, description="The text, from {title} {excerpt} {url} {hashtags}.")
    cover: Literal["photo", "preview", "none"] = Field(
        default="photo", description="photo: the cover as a photo, the text as its caption (1,024); preview: a "
        "message with the post's link preview; none: a message with no preview.")
    bold_title: bool = Field(default=True, description="Show the title in bold when the text starts with it.")
    silent: bool = Field(default=False, description="Send without a notification sound (disable_notification).")
    message_thread_id: int | None = Field(default=None, ge=1, description="Post in this topic of a forum "
                                          "supergroup.")

    @field_validator("template")
    @classmethod
    def _template(cls, value: str) -> str:
        return checked(value)


class Telegram(Connector):
    """Announcements in a Telegram channel or group, sent by a bot that may post there."""

    type = "telegram"
    options = TelegramOptions
    auth = TokenInUrl("bot_token")
    limits = Limits(
        text=TextLimit(MESSAGE_MAX, "utf16"),  # a photo's caption: 1,024 (Template.max)
        tags=_HASHTAGS,
        # sendPhoto by URL: "5 MB max size for photos" (bots/api#sending-files); JPEG, PNG or WebP
        media=MediaPolicy(max_bytes=5 * 1024 * 1024, formats=("jpeg", "png", "webp"), max_count=1),
        # bots/faq: "avoid sending more than one message per second" in a chat, and "no more than 20
        # messages per minute to the same group"; an edit counts as a message there too
        rates=(RateLimit("messages:create", 20, 60), RateLimit("messages:update", 20, 60),
               RateLimit("chat:create", 1, 1), RateLimit("chat:update", 1, 1)),
        template=DEFAULT,
        template_fields=frozenset({"title", "excerpt", "url", "hashtags"}),
    )
    abilities = Abilities(
        can_update=True,  # editMessageText / editMessageCaption, at any age
        delete="delete",
        delete_window=DELETE_WINDOW,
        can_find=False,  # the Bot API cannot read a chat's messages
        needs_public_media_url=True,  # the cover is sent by URL and fetched by Telegram
        find_hint="look in the Telegram chat for the announcement; if it is there, "
                  "`syndicate resolve --url` with its Copy Post Link",
    )

    def _url(self, method: str) -> str:
        return self.base + METHOD + method

    def build_verify(self) -> Request:
        return Request("GET", self._url("getMe"), kind="read")

    def notices(self, facts: Facts | None, now: datetime) -> list[Notice]:
        """A bot token does not expire and the Bot API is free: only a basic group is worth a word."""
        chat = str(self.option("chat_id") or "")
        if chat.startswith("-") and not chat.startswith("-100"):
            return [Notice("info", f"chat {chat} is a basic group: its messages have no links, and its id "
                                   "changes if it becomes a supergroup (chat_id must then be set to the new one)")]
        return []

    # --- pure -----------------------------------------------------------------------------------

    def render(self, post: Post, facts: Facts | None = None) -> Draft:
        over = post.control.override(self.name, self.type)
        template = social_template(post, self, _HASHTAGS, DEFAULT)
        warnings: list[str] = []
        mode = over.get("cover") or self.option("cover", "photo")
        media: list[MediaItem] = []
        cover = post.cover
        if mode == "photo" and cover is not None:
            if is_http_url(cover.url) and _photo_ok(str(cover.url)):
                media.append(MediaItem("cover", str(cover.url), cover.alt, cover.path))
                template.max = CAPTION_MAX
            else:
                warnings.append(f"cover {cover.src} is not a public JPEG, PNG or WebP URL: "
                                "sent as a message with the link preview")
        # a message (and a photo's copy edited into one) shows the post's own card, whatever link comes first
        preview = {"is_disabled": True} if mode == "none" else {"url": post.url, "prefer_large_media": True}
        fields: dict[str, Any] = {"method": "sendPhoto" if media else "sendMessage", "link_preview_options": preview}
        if self.option("bold_title", True) and not over.get("text"):
            fields["title"] = template.values.get("title") or ""
        return Draft(self.type, fields=fields, parts=[Part(template=template)], media=media, warnings=warnings)

    def _common(self, draft: Draft) -> dict[str, Any]:
        body: dict[str, Any] = {"chat_id": chat_value(str(self.option("chat_id")))}
        if self.option("message_thread_id"):
            body["message_thread_id"] = self.option("message_thread_id")
        return body

    def build_create(self, draft: Draft, key: str, ctx: SendContext) -> Request:
        body = self._common(draft)
        text = draft.parts[0].text or ""
        photo = self._photo(draft, ctx)
        if photo is not None:
            body.update(photo=photo, caption=self._html(draft, cut(text, CAPTION_MAX)), parse_mode="HTML")
            method = "sendPhoto"
        else:
            body.update(text=self._html(draft, text), parse_mode="HTML",
                        link_preview_options=draft.fields["link_preview_options"])
            method = "sendMessage"
        if self.option("silent"):
            body["disable_notification"] = True
        return Request("POST", self._url(method), json=body, kind="create", idempotent=False)

    def build_update(self, remote: Remote, draft: Draft, ctx: SendContext) -> Request:
        chat, message = self._ids(remote)
        body: dict[str, Any] = {"chat_id": chat, "message_id": message}
        text = draft.parts[0].text or ""
        photo = self._photo(draft, ctx)
        kind = remote.extra.get("method") or ("caption" if photo is not None else "text")
        if kind == "caption":
            caption = self._html(draft, cut(text, CAPTION_MAX))  # a copy made as a photo keeps its 1,024
            if photo is not None and draft.media and draft.media[0].source != remote.extra.get("photo"):
                # a new cover: the photo and its caption in one edit
                body["media"] = {"type": "photo", "media": photo, "caption": caption, "parse_mode": "HTML"}
                return Request("POST", self._url("editMessageMedia"), json=body, kind="update")
            body.update(caption=caption, parse_mode="HTML")
            return Request("POST", self._url("editMessageCaption"), json=body, kind="update")
        body.update(text=self._html(draft, text), parse_mode="HTML",
                    link_preview_options=draft.fields["link_preview_options"])
        return Request("POST", self._url("editMessageText"), json=body, kind="update")

    def build_delete(self, remote: Remote) -> Request:
        chat, message = self._ids(remote)
        return Request("POST", self._url("deleteMessage"), json={"chat_id": chat, "message_id": message},
                       kind="delete")

    def _html(self, draft: Draft, text: str) -> str:
        """The fitted plain text in HTML parse mode: escaped, its first line bold when it is the title
        (whole, or cut with an ellipsis). Tags count nothing in Telegram's lengths."""
        title = str(draft.fields.get("title") or "")
        first, sep, rest = text.partition("\n")
        if title and first and (first == title or (first.endswith(ELLIPSIS)
                                                   and title.startswith(first[:-len(ELLIPSIS)].rstrip()))):
            return f"<b>{escape(first)}</b>{sep}{escape(rest)}"
        return escape(text)

    def _photo(self, draft: Draft, ctx: SendContext) -> str | None:
        item = draft.media[0] if draft.media else None
        return ctx.media.get(item.source, item.source) if item is not None else None

    def _ids(self, remote: Remote) -> tuple[int | str, int]:
        chat = remote.extra.get("chat_id")
        message = remote.id
        if message is None or not str(message).isdigit():
            ids = link_ids(remote.url)  # a copy recorded by `syndicate resolve --url`
            if ids is None:
                raise Permanent(f"{self.name}: no Telegram message id recorded (got {remote.id!r}); "
                                "`syndicate resolve --url` with the message's Copy Post Link")
            chat, message = chat or ids[0], ids[1]
        return chat_value(str(chat or self.option("chat_id"))), int(str(message))

    def parse_remote(self, response: httpx.Response, ctx: SendContext) -> Remote:
        result = response.json()["result"]
        if not isinstance(result, dict):  # an edit answers the message; `True` only for inline messages
            return Remote(None)
        chat = result.get("chat") or {}
        message = str(result["message_id"])
        extra: dict[str, Any] = {"chat_id": chat.get("id"), "method": "caption" if result.get("photo") else "text"}
        if result.get("photo") and ctx.media:
            extra["photo"] = next(iter(ctx.media))  # the cover's source, to see when it changes
        return Remote(message, message_link(chat, message), extra)

    # --- the edit that changes nothing is done ------------------------------------------------------

    def update(self, remote: Remote, draft: Draft, ctx: SendContext | None = None) -> Remote:
        try:
            return super().update(remote, draft, ctx)
        except _Unchanged:
            return remote
        except _OtherKind:
            if remote.extra.get("method"):
                raise
            # a copy recorded by hand (`resolve --url`) does not say whether it is a photo: the other method
            other = "text" if self._photo(draft, ctx or SendContext()) is not None else "caption"
            try:
                return super().update(Remote(remote.id, remote.url, {**remote.extra, "method": other}), draft, ctx)
            except _Unchanged:
                return Remote(remote.id, remote.url, {**remote.extra, "method": other})

    # --- errors: {"ok": false, "error_code": N, "description": "...", "parameters": {...}} ------------

    def check(self, response: httpx.Response) -> None:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        if status < 400 and body.get("ok") is not False:
            return
        said = str(body.get("description") or response.reason_phrase)[:300]
        what = f"{self.name}: HTTP {status}: {said}"
        found = body.get("parameters")
        params: dict[str, Any] = found if isinstance(found, dict) else {}
        low = said.lower()
        if status == 429:
            wait = params.get("retry_after")
            raise RateLimited(what, float(wait) if isinstance(wait, (int, float)) else retry_after_from(response))
        if params.get("migrate_to_chat_id"):
            raise Permanent(f"{what}; the group became a supergroup with a new id: set chat_id = "
                            f"\"{params['migrate_to_chat_id']}\"")
        if status == 401 or (status == 404 and low in ("not found", "")):
            # 404 "Not Found": a malformed token, or a base_url that is not the Bot API
            raise AuthFailed(f"{what}; the bot token was refused: copy it from @BotFather into bot_token "
                             "(and check base_url)")
        if "not modified" in low:
            raise _Unchanged(what)
        if any(f"there is no {kind} in the message" in low for kind in ("text", "caption", "media")):
            raise _OtherKind(f"{what}; the copy is not the kind of message it was recorded as")
        if status == 403:
            raise Permanent(f"{what}; the bot cannot post in chat {self.option('chat_id')}: add it to the chat "
                            "(a channel: as an administrator allowed to post messages)")
        if "chat not found" in low:
            raise Permanent(f"{what}; no chat {self.option('chat_id')} for this bot: check chat_id, and that the "
                            "bot was added to it")
        if "need administrator rights" in low or "not enough rights" in low:
            raise Permanent(f"{what}; make the bot an administrator of chat {self.option('chat_id')} allowed to "
                            "post, edit and delete messages")
        if "message to edit not found" in low or "message to delete not found" in low:
            raise NotFound(what)
        if "http url content" in low or "wrong file identifier/http url" in low or "web page content" in low:
            raise Permanent(f"{what}; Telegram could not fetch the cover (it must be public, JPEG, PNG or WebP, "
                            "at most 5 MB): fix it, or set cover = \"preview\"")
        if "can't be deleted" in low:
            raise Permanent(f"{what}; Telegram deletes only messages under 48 hours old: not propagated")
        if status in (408, 425) or status >= 500:
            raise Transient(what)
        raise Permanent(what)


class _Unchanged(Permanent):
    """Telegram's 400 "message is not modified": the copy already says what the edit would."""


class _OtherKind(Permanent):
    """An edit by the method of the other kind of message (a caption edit of a text, or the reverse)."""


def _photo_ok(source: str) -> bool:
    """A JPEG, PNG or WebP by its name, or a name that says nothing (Telegram reads the file itself)."""
    name = source.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1].lower()
    return "." not in name or name.endswith(PHOTO_TYPES)


__all__ = ["Telegram", "TelegramOptions"]
