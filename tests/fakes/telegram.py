"""A fake Telegram Bot API that refuses what Telegram refuses.

Rules from core.telegram.org/bots/api and bots/faq (PLATFORMS.md §14), each checked here
on its own, with Telegram's own error texts:
- `/bot<token>/<method>` (method names in any case): an unknown token is 401 Unauthorized,
  a malformed one 404 Not Found; parameters as JSON, a form or the query string;
- `chat_id` "@username" or a numeric id; an unknown chat is 400 "chat not found", a chat the
  bot was removed from 403 "bot was kicked", a group that became a supergroup 400 with
  `parameters.migrate_to_chat_id`;
- HTML parse mode parsed as Telegram does: only its tags, every `<` part of a tag, tags closed
  in order, entities decoded (else 400 "can't parse entities: ..."); the text is kept as shown;
- lengths counted after parsing, in UTF-16 code units, trimmed: a message 1-4096 ("message is
  too long", "message text is empty"), a caption 0-1024 ("message caption is too long");
- `photo` an http(s) URL; `link_preview_options` a LinkPreviewOptions object;
- edits by the matching method ("there is no text in the message to edit"), an edit that
  changes nothing 400 "message is not modified", a missing message "message to edit not found";
- deleteMessage only under 48 hours after the message's date, by an injected clock;
- with `time_scale`: about 1 message a second and 20 a minute per chat; a 429 says
  `parameters.retry_after` in its body (and no Retry-After header).
"""
from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.server import FakeServer, Reply, Request

BOT_ID = 7012345678
TOKEN = f"{BOT_ID}:AAH4kq9-Zx3L0pQw8s7DfGhJkLmN1oPqRsT"
CHANNEL = "@blogchannel"
CHANNEL_ID = -1001234567890
PRIVATE_ID = -1009876543210  # a private channel: no username
GROUP_ID = -4123456789  # a basic group
KICKED = "@kickedchannel"
OLD_GROUP_ID = -4000000001  # upgraded: now MIGRATED_ID
MIGRATED_ID = -1005555555555
CAPTION_MAX = 1024
TEXT_MAX = 4096
DELETE_WINDOW = 48 * 3600
_PATH = re.compile(r"^/bot([^/]*)/([A-Za-z]+)/?$")
_TOKEN_SHAPE = re.compile(r"^\d+:[\w-]+$")
_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "tg-emoji",
         "code", "pre", "blockquote"}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(#x[0-9A-Fa-f]{1,6}|#\d{1,7}|[A-Za-z]{2,8});")
_PREVIEW_KEYS = {"is_disabled": bool, "url": str, "prefer_small_media": bool, "prefer_large_media": bool,
                 "show_above_text": bool}


class ParseError(ValueError):
    pass


def parse_html(text: str) -> tuple[str, list[str]]:
    """(the text as shown, the tags used) of an HTML parse-mode text; ParseError as Telegram words it."""
    out: list[str] = []
    stack: list[str] = []
    used: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "&":
            m = _ENTITY.match(text, i)
            if m:
                name = m.group(1)
                if name.startswith("#x"):
                    out.append(chr(int(name[2:], 16)))
                elif name.startswith("#"):
                    out.append(chr(int(name[1:])))
                elif name in _NAMED:
                    out.append(_NAMED[name])
                else:
                    out.append(m.group(0))  # an unknown entity stays as written
                i = m.end()
                continue
            out.append(c)  # Telegram keeps a lone "&"
            i += 1
            continue
        if c != "<":
            out.append(c)
            i += 1
            continue
        at = len(text[:i].encode("utf-8"))
        end = text.find(">", i)
        if end < 0:
            raise ParseError(f"Unclosed start tag at byte offset {at}")
        inner = text[i + 1:end]
        if inner.startswith("/"):
            name = inner[1:].strip().lower()
            if not stack:
                raise ParseError(f'Unexpected end tag at byte offset {at}')
            if name != stack[-1]:
                raise ParseError(f'Unmatched end tag at byte offset {at}, expected "</{stack[-1]}>", found '
                                 f'"</{name}>"')
            stack.pop()
        else:
            m2 = re.match(r"([A-Za-z0-9-]*)", inner)
            name = (m2.group(1) if m2 else "").lower()
            if name not in _TAGS:
                raise ParseError(f'Unsupported start tag "{name}" at byte offset {at}')
            rest = inner[len(name):]
            if rest and not rest[0].isspace():
                raise ParseError(f'Unsupported start tag "{inner.split()[0]}" at byte offset {at}')
            if name == "a" and "href=" not in rest:
                raise ParseError(f"Can't find end of href attribute at byte offset {at}")
            stack.append(name)
            used.append(name)
        i = end + 1
    if stack:
        raise ParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out), used


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class FakeTelegram(FakeServer):
    def __init__(self, *, now: Callable[[], float] = time.time, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.now = now  # the messages' clock: dates and the 48 h delete window
        self.tokens = {TOKEN}
        self.chats: dict[int, dict[str, Any]] = {
            CHANNEL_ID: {"id": CHANNEL_ID, "type": "channel", "title": "The blog", "username": CHANNEL[1:]},
            PRIVATE_ID: {"id": PRIVATE_ID, "type": "channel", "title": "Private blog"},
            GROUP_ID: {"id": GROUP_ID, "type": "group", "title": "Readers"},
            MIGRATED_ID: {"id": MIGRATED_ID, "type": "supergroup", "title": "Readers (super)"},
        }
        self.kicked = {KICKED}
        self.unreachable: set[str] = set()  # photo URLs Telegram cannot fetch
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._next: dict[int, int] = {}
        self._sent: dict[int, list[float]] = {}  # chat -> times of its recent messages (with time_scale)
        self.answers: list[int] = []

    @property
    def live(self) -> list[dict[str, Any]]:
        return [m for m in self.messages.values() if not m["deleted"]]

    # --- Telegram's shapes ----------------------------------------------------------------------

    def error_body(self, status: int, message: str) -> Any:
        words = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}
        return {"ok": False, "error_code": status,
                "description": message if status in (401, 404) else f"{words.get(status, 'Error')}: {message}"}

    def _err(self, status: int, message: str, **parameters: Any) -> Reply:
        body = self.error_body(status, message)
        if parameters:
            body["parameters"] = parameters
        return Reply(status, body)

    def rate_limited(self, retry_after: float, limit: int, reset: float) -> Reply:
        # whole seconds, in the body only; a fake on scaled time says its real wait
        wait: float = max(1, math.ceil(retry_after)) if self.time_scale is None else round(max(retry_after, 0.001), 3)
        return Reply(429, {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {wait}",
                           "parameters": {"retry_after": wait}})

    def _ok(self, result: Any) -> Reply:
        return Reply(200, {"ok": True, "result": result})

    # --- routes ---------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        reply = self._handle(request)
        self.answers.append(reply.status)
        return reply

    def _params(self, request: Request) -> dict[str, Any] | Reply:
        params: dict[str, Any] = {k: v[0] for k, v in request.query.items()}
        ctype = request.headers.get("content-type", "")
        if request.body:
            if ctype.startswith("application/json"):
                try:
                    body = json.loads(request.body)
                except ValueError:
                    return self._err(400, "can't parse JSON object")
                if not isinstance(body, dict):
                    return self._err(400, "can't parse JSON object")
                params.update(body)
            elif ctype.startswith("application/x-www-form-urlencoded"):
                params.update({k: v[0] for k, v in parse_qs(request.body.decode()).items()})
            else:
                return self._err(400, "unsupported request body")
        return params

    def _handle(self, request: Request) -> Reply:
        match = _PATH.match(request.path)
        if match is None:
            return self._err(404, "Not Found")
        token, method = match.group(1), match.group(2).lower()
        if not _TOKEN_SHAPE.match(token):
            return self._err(404, "Not Found")
        if token not in self.tokens:
            return self._err(401, "Unauthorized")
        params = self._params(request)
        if isinstance(params, Reply):
            return params
        if method == "getme":
            return self._ok({"id": BOT_ID, "is_bot": True, "first_name": "Blog", "username": "blog_bot",
                             "can_join_groups": True, "can_read_all_group_messages": False,
                             "supports_inline_queries": False})
        routes = {"sendmessage": self._send, "sendphoto": self._send, "editmessagetext": self._edit,
                  "editmessagecaption": self._edit, "editmessagemedia": self._edit, "deletemessage": self._delete}
        route = routes.get(method)
        if route is None:
            return self._err(404, "Not Found")
        chat = self._chat(params.get("chat_id"))
        if isinstance(chat, Reply):
            return chat
        return route(method, chat, params)

    def _chat(self, value: Any) -> dict[str, Any] | Reply:
        if value in (None, ""):
            return self._err(400, "chat_id is empty")
        text = str(value)
        if text in self.kicked:
            return self._err(403, "bot was kicked from the channel chat")
        if text.startswith("@"):
            for chat in self.chats.values():
                if chat.get("username", "").lower() == text[1:].lower():
                    return chat
            return self._err(400, "chat not found")
        try:
            ident = int(text)
        except ValueError:
            return self._err(400, "chat not found")
        if ident == OLD_GROUP_ID:
            return self._err(400, "group chat was upgraded to a supergroup chat", migrate_to_chat_id=MIGRATED_ID)
        return self.chats.get(ident) or self._err(400, "chat not found")

    def _shown(self, params: dict[str, Any], key: str) -> str | Reply:
        """The text as Telegram shows it: parsed in its parse mode, trimmed."""
        raw = params.get(key)
        if raw is None:
            return ""
        if not isinstance(raw, str):
            return self._err(400, f"{key} must be a string")
        mode = params.get("parse_mode")
        if mode in (None, ""):
            return raw.strip()
        if str(mode).lower() != "html":
            return self._err(400, f"unsupported parse_mode {mode}")
        try:
            shown, _tags = parse_html(raw)
        except ParseError as exc:
            return self._err(400, f"can't parse entities: {exc}")
        return shown.strip()

    def _text(self, params: dict[str, Any]) -> str | Reply:
        text = self._shown(params, "text")
        if isinstance(text, Reply):
            return text
        if not text:
            return self._err(400, "message text is empty")
        if utf16(text) > TEXT_MAX:
            return self._err(400, "message is too long")
        preview = params.get("link_preview_options")
        if preview is not None:
            if isinstance(preview, str):
                try:
                    preview = json.loads(preview)
                except ValueError:
                    return self._err(400, "can't parse link preview options JSON object")
            if not isinstance(preview, dict) or any(k not in _PREVIEW_KEYS or not isinstance(v, _PREVIEW_KEYS[k])
                                                    for k, v in preview.items()):
                return self._err(400, "can't parse link preview options")
        return text

    def _caption(self, params: dict[str, Any]) -> str | Reply:
        caption = self._shown(params, "caption")
        if isinstance(caption, str) and utf16(caption) > CAPTION_MAX:
            return self._err(400, "message caption is too long")
        return caption

    def _photo(self, value: Any) -> str | Reply:
        if not isinstance(value, str) or not re.match(r"^https?://[^/\s]+", value):
            return self._err(400, "wrong HTTP URL specified" if isinstance(value, str) else "there is no photo in "
                             "the request")
        if value in self.unreachable:
            return self._err(400, "failed to get HTTP URL content")
        return value

    def _limited(self, chat: dict[str, Any]) -> Reply | None:
        """About one message a second and 20 a minute per chat (bots/faq), scaled.

        Both are "about": the windows are held a little short (a second as 0.7 s, a minute as 57 s), so
        that requests spaced right by the client but jittered in transit are not refused.
        """
        if self.time_scale is None:
            return None
        now = time.time()
        minute, second = 57.0 * self.time_scale, 0.7 * self.time_scale
        sent = [t for t in self._sent.get(chat["id"], []) if t > now - minute]
        self._sent[chat["id"]] = sent
        if len(sent) >= 20:
            return self.rate_limited(sent[-20] + minute - now, 20, 0)
        if sent and sent[-1] > now - second:
            return self.rate_limited(sent[-1] + second - now, 1, 0)
        sent.append(now)
        return None

    def _send(self, method: str, chat: dict[str, Any], params: dict[str, Any]) -> Reply:
        message: dict[str, Any] = {"chat": chat, "date": int(self.now()), "deleted": False, "edits": 0}
        if method == "sendphoto":
            photo = self._photo(params.get("photo"))
            if isinstance(photo, Reply):
                return photo
            caption = self._caption(params)
            if isinstance(caption, Reply):
                return caption
            message.update(photo=photo, caption=caption)
        else:
            text = self._text(params)
            if isinstance(text, Reply):
                return text
            message.update(text=text, preview=params.get("link_preview_options"))
        limited = self._limited(chat)
        if limited is not None:
            return limited
        mid = self._next[chat["id"]] = self._next.get(chat["id"], 0) + 1
        message.update(message_id=mid, silent=bool(params.get("disable_notification")),
                       thread=params.get("message_thread_id"))
        self.messages[(chat["id"], mid)] = message
        return self._ok(self._view(message))

    def _find(self, chat: dict[str, Any], params: dict[str, Any], what: str) -> dict[str, Any] | Reply:
        try:
            mid = int(params.get("message_id") or 0)
        except (TypeError, ValueError):
            return self._err(400, "message identifier is not specified")
        message = self.messages.get((chat["id"], mid))
        if message is None or message["deleted"]:
            return self._err(400, f"message to {what} not found")
        return message

    def _edit(self, method: str, chat: dict[str, Any], params: dict[str, Any]) -> Reply:
        message = self._find(chat, params, "edit")
        if isinstance(message, Reply):
            return message
        change: dict[str, Any]
        if method == "editmessagetext":
            if "text" not in message:
                return self._err(400, "there is no text in the message to edit")
            text = self._text(params)
            if isinstance(text, Reply):
                return text
            change = {"text": text, "preview": params.get("link_preview_options")}
        elif method == "editmessagecaption":
            if "photo" not in message:
                return self._err(400, "there is no caption in the message to edit")
            caption = self._caption(params)
            if isinstance(caption, Reply):
                return caption
            change = {"caption": caption}
        else:
            media = params.get("media")
            if not isinstance(media, dict) or media.get("type") != "photo":
                return self._err(400, "can't parse InputMedia: media type is not specified")
            if "photo" not in message:
                return self._err(400, "there is no media in the message to edit")
            photo = self._photo(media.get("media"))
            if isinstance(photo, Reply):
                return photo
            caption = self._caption(media)
            if isinstance(caption, Reply):
                return caption
            change = {"photo": photo, "caption": caption}
        if all(message.get(k) == v for k, v in change.items()):
            return self._err(400, "message is not modified: specified new message content and reply markup are "
                             "exactly the same as a current content and reply markup of the message")
        limited = self._limited(chat)
        if limited is not None:
            return limited
        message.update(change)
        message["edits"] += 1
        message["edit_date"] = int(self.now())
        return self._ok(self._view(message))

    def _delete(self, method: str, chat: dict[str, Any], params: dict[str, Any]) -> Reply:
        message = self._find(chat, params, "delete")
        if isinstance(message, Reply):
            return message
        if self.now() - message["date"] >= DELETE_WINDOW:
            return self._err(400, "message can't be deleted for everyone")
        message["deleted"] = True
        return self._ok(True)

    def _view(self, m: dict[str, Any]) -> dict[str, Any]:
        chat = {k: v for k, v in m["chat"].items()}
        out: dict[str, Any] = {"message_id": m["message_id"], "chat": chat, "date": m["date"]}
        if chat["type"] == "channel":
            out["sender_chat"] = chat
        else:
            out["from"] = {"id": BOT_ID, "is_bot": True, "first_name": "Blog", "username": "blog_bot"}
        if "photo" in m:
            out["photo"] = [{"file_id": f"AgAC{m['message_id']}", "file_unique_id": "u", "width": 90, "height": 90}]
            if m["caption"]:
                out["caption"] = m["caption"]
        else:
            out["text"] = m["text"]
        if m.get("edit_date"):
            out["edit_date"] = m["edit_date"]
        return out


def shown(text: str) -> str:
    """What a client shows for an HTML parse-mode text (the fake's parse)."""
    return parse_html(text)[0]


__all__ = ["FakeTelegram", "TOKEN", "CHANNEL", "CHANNEL_ID", "parse_html", "shown", "utf16"]
