"""A fake Slack (Web API and incoming webhooks) that refuses what Slack refuses.

Rules from docs.slack.dev (chat.postMessage, chat.update, chat.delete, auth.test, Block Kit block
references, formatting "Escaping text", web-api rate limits, incoming webhooks) and PLATFORMS.md §13:
- Web API errors are HTTP 200 with `{"ok": false, "error": ...}`: a missing token `not_authed`, a
  wrong one `invalid_auth`, a revoked one `token_revoked`; an unknown channel `channel_not_found`, a
  channel the bot is not in `not_in_channel`, an archived one `is_archived`;
- Block Kit limits: at most 50 blocks; header plain_text 1-150; section text 1-3000; image with an
  http(s) `image_url` of at most 3000 and a required `alt_text` of at most 2000; block_id at most 255
  and unique; anything else is `invalid_blocks` with `response_metadata.messages`;
- `text` over 40,000 characters is `msg_too_long`; neither text nor blocks is `no_text`;
- escaping: in mrkdwn and `text`, a `<` must open a control sequence (`<https://…|label>`, `<@U…>`,
  `<#C…>`, `<!here>`) and `&` must be `&amp;` `&lt;` `&gt;`; anything else is what Slack mangles, and
  the message records it in `mangled` (what Slack would show is in `shown`);
- chat.update / chat.delete: an unknown or deleted ts is `message_not_found`, another app's message
  `cant_update_message` / `cant_delete_message`;
- rate limits (with `time_scale`): chat.postMessage 1 a second per channel with a short burst
  (`burst`), webhooks alike, chat.update and chat.delete 50 a minute (Tier 3); a 429 carries
  Retry-After;
- conversations.history (with `channels:history`, else `missing_scope`): newest first, a message's
  `metadata` only with `include_all_metadata`; chat.postMessage refuses metadata without an
  `event_type` and an `event_payload` (`invalid_metadata_format`);
- webhooks: `POST /services/T…/B…/secret` answers the text `ok`; an unknown one `no_service` (404),
  a bad body `invalid_payload` (400), an archived channel `channel_is_archived` (410).
"""
from __future__ import annotations

import html
import json
import math
import re
from typing import Any

from tests.fakes.server import FakeServer, Reply, Request

TOKEN = "xoxb-1111111111-2222222222-" + "s3cr3tT0k3nV4lu3xyzABCDE"
OTHER_TOKEN = "xoxb-9999999999-8888888888-" + "0therAppT0k3nXYZabcdefgh"  # another app in the same workspace
TEAM_ID = "T0FAKE0001"
BOT_ID = "B0FAKE0001"
BOT_USER = "U0FAKEBOT1"
CHANNEL_ID = "C0FAKECHAN1"
CHANNEL_NAME = "announcements"
WEBHOOK_PATH = f"/services/{TEAM_ID}/{BOT_ID}/"
WEBHOOK_SECRET = "hO0kS3cr3tV4lu3ABCDEFGHI"

_CONTROL = re.compile(r"<([^<>]*)>")
_VALID_CONTROL = re.compile(r"^(?:(?:https?://|mailto:)[^|\s]+(?:\|[^|]+)?|[@#][UWCG][A-Z0-9]+(?:\|[^|]*)?|"
                            r"!(?:here|channel|everyone)|!subteam\^[A-Z0-9]+(?:\|[^|]*)?|!date\^[^|]+\|[^|]+)$")
_ENTITY = re.compile(r"&(amp|lt|gt);")


def shown(text: str) -> tuple[str, list[str]]:
    """What Slack shows for mrkdwn `text`, and what in it Slack would mangle (an unescaped `&`, `<`, `>`)."""
    mangled: list[str] = []
    out: list[str] = []
    pos = 0
    for match in _CONTROL.finditer(text):
        out.append(text[pos:match.start()])
        inner = match.group(1)
        if _VALID_CONTROL.match(inner):
            target, _, label = inner.partition("|")
            out.append(label or target)
        else:
            mangled.append(f"<{inner}>")  # Slack would take it for a control sequence and drop or garble it
            out.append("")
        pos = match.end()
    out.append(text[pos:])
    visible = "".join(out)
    for i, char in enumerate(visible):
        if char in "<>":
            mangled.append(char)
        elif char == "&" and not _ENTITY.match(visible, i):
            mangled.append("&")
    return _ENTITY.sub(lambda m: html.unescape(m.group(0)), visible), mangled


class FakeSlack(FakeServer):
    rates = {"update": (50, 60.0), "delete": (50, 60.0)}  # Tier 3, per method (with time_scale)

    def __init__(self, *, burst: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.burst = burst  # the short burst the per-channel 1 a second allows
        self.tokens = {TOKEN: "A0THIS", OTHER_TOKEN: "A0OTHER"}  # token -> app
        self.scopes = {TOKEN: {"chat:write", "channels:history"}, OTHER_TOKEN: {"chat:write"}}
        self.revoked: set[str] = set()
        self.channels: dict[str, dict[str, Any]] = {
            CHANNEL_ID: {"name": CHANNEL_NAME, "member": True, "archived": False},
            "C0NOTMEMBER": {"name": "elsewhere", "member": False, "archived": False},
            "C0ARCHIVED1": {"name": "old", "archived": True, "member": True},
        }
        self.webhooks: dict[str, dict[str, Any]] = {WEBHOOK_SECRET: {"channel": CHANNEL_ID}}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._ts = 1_790_000_000_000_100
        self._sends: dict[str, tuple[float, float]] = {}  # channel -> (tokens, at): the 1/s bucket
        self.answers: list[int] = []  # the status of every answer the rules gave (injected faults aside)

    @property
    def api(self) -> str:
        return self.url + "/api"

    @property
    def webhook_url(self) -> str:
        return self.url + WEBHOOK_PATH + WEBHOOK_SECRET

    @property
    def live(self) -> list[dict[str, Any]]:
        return [m for m in self.messages.values() if not m["deleted"]]

    # --- Slack's shapes ---------------------------------------------------------------------------

    def error_body(self, status: int, message: str) -> Any:
        return {"ok": False, "error": "service_unavailable" if status >= 500 else "invalid_arguments"}

    def rate_limited(self, retry_after: float, limit: int, reset: float) -> Reply:
        return Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(max(1, math.ceil(retry_after)))})

    def rate_kind(self, request: Request) -> str | None:
        return {"/api/chat.update": "update", "/api/chat.delete": "delete"}.get(request.path)

    def account_of(self, request: Request) -> str:
        return self.tokens.get(_bearer(request) or "", "anonymous")

    @staticmethod
    def _fail(error: str, **extra: Any) -> Reply:
        return Reply(200, {"ok": False, "error": error, **extra})

    def _channel_full(self, channel: str) -> float | None:
        """chat.postMessage's 1 a second per channel with a short burst: the wait, or None (one taken)."""
        if self.time_scale is None:
            return None
        now, period = self.clock(), 1.0 * self.time_scale
        tokens, at = self._sends.get(channel, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) / period)
        if tokens < 1.0:
            self._sends[channel] = (tokens, now)
            return (1.0 - tokens) * period
        self._sends[channel] = (tokens - 1.0, now)
        return None

    # --- routes -----------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        reply = self._handle(request)
        self.answers.append(reply.status)
        return reply

    def _handle(self, request: Request) -> Reply:
        if request.path.startswith("/services/"):
            return self._webhook(request)
        if not request.path.startswith("/api/"):
            return Reply(404, b"Not Found", {"Content-Type": "text/plain"})
        method = request.path[len("/api/"):]
        if method not in ("auth.test", "chat.postMessage", "chat.update", "chat.delete", "conversations.history"):
            return self._fail("unknown_method")
        token = _bearer(request)
        if not token:
            return self._fail("not_authed")
        if token in self.revoked:
            return self._fail("token_revoked")
        if token not in self.tokens:
            return self._fail("invalid_auth")
        if method == "auth.test":
            return Reply(200, {"ok": True, "url": self.url + "/", "team": "Fake Team", "user": "blogbot",
                               "team_id": TEAM_ID, "user_id": BOT_USER, "bot_id": BOT_ID})
        if method == "conversations.history":
            return self._history(request, token)
        if request.method != "POST":
            return self._fail("invalid_request_method")  # write methods take POST only
        body = _body(request)
        if isinstance(body, Reply):
            return body
        channel = self._channel(body.get("channel"))
        if isinstance(channel, Reply):
            return channel
        app = self.tokens[token]
        if method == "chat.postMessage":
            return self._post(body, channel, app)
        ts = str(body.get("ts") or "")
        message = self.messages.get((channel, ts))
        if message is None or message["deleted"]:
            return self._fail("message_not_found")
        if method == "chat.delete":
            if message["app"] != app:
                return self._fail("cant_delete_message")
            message["deleted"] = True
            return Reply(200, {"ok": True, "channel": channel, "ts": ts})
        if message["app"] != app:
            return self._fail("cant_update_message")
        refused = self._content(body)
        if refused is not None:
            return refused
        stored = self._stored(body)
        if stored["metadata"] is None:
            del stored["metadata"]  # an update without metadata keeps the message's own
        message.update(stored)
        message["edits"] += 1
        return Reply(200, {"ok": True, "channel": channel, "ts": ts, "text": message["text"]})

    def _history(self, request: Request, token: str) -> Reply:
        """conversations.history: newest first, `limit` (default 100), metadata only when asked for."""
        if "channels:history" not in self.scopes.get(token, set()):
            return self._fail("missing_scope", needed="channels:history", provided=",".join(sorted(self.scopes[token])))
        channel = self._channel(request.param("channel"))
        if isinstance(channel, Reply):
            return channel
        try:
            limit = min(999, max(1, int(request.param("limit") or 100)))
        except ValueError:
            return self._fail("invalid_limit")
        metadata = request.param("include_all_metadata") in ("true", "1")
        found = sorted((m for m in self.messages.values() if m["channel"] == channel and not m["deleted"]),
                       key=lambda m: m["ts"], reverse=True)[:limit]
        out = []
        for m in found:
            item: dict[str, Any] = {"type": "message", "ts": m["ts"], "text": m["text"], "bot_id": BOT_ID}
            if metadata and m.get("metadata"):
                item["metadata"] = m["metadata"]
            out.append(item)
        return Reply(200, {"ok": True, "messages": out, "has_more": False})

    def _channel(self, value: Any) -> str | Reply:
        if not value:
            return self._fail("channel_not_found")
        name = str(value)
        found = name if name in self.channels else next(
            (cid for cid, c in self.channels.items() if f"#{c['name']}" == name or c["name"] == name), None)
        if found is None:
            return self._fail("channel_not_found")
        if self.channels[found]["archived"]:
            return self._fail("is_archived")
        if not self.channels[found]["member"]:
            return self._fail("not_in_channel")
        return found

    def _post(self, body: dict[str, Any], channel: str, app: str) -> Reply:
        refused = self._content(body)
        if refused is not None:
            return refused
        meta = body.get("metadata")
        if meta is not None and not (isinstance(meta, dict) and isinstance(meta.get("event_type"), str)
                                     and isinstance(meta.get("event_payload"), dict)):
            return self._fail("invalid_metadata_format")
        wait = self._channel_full(channel)
        if wait is not None:
            return self.rate_limited(wait, 1, self.clock() + wait)
        ts = self._new_ts()
        self.messages[(channel, ts)] = {"channel": channel, "ts": ts, "app": app, "deleted": False, "edits": 0,
                                        "via": "api", **self._stored(body)}
        return Reply(200, {"ok": True, "channel": channel, "ts": ts,
                           "message": {"type": "message", "bot_id": BOT_ID, "text": body.get("text") or "",
                                       "ts": ts, "blocks": body.get("blocks") or []}})

    def _webhook(self, request: Request) -> Reply:
        secret = request.path.rsplit("/", 1)[-1]
        hook = self.webhooks.get(secret) if request.path == WEBHOOK_PATH + secret else None
        if hook is None:
            return _text(404, "no_service")
        if request.method != "POST":
            return _text(405, "invalid_method")
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            return _text(400, "invalid_payload")
        if not isinstance(body, dict):
            return _text(400, "invalid_payload")
        channel = hook["channel"]
        if self.channels[channel]["archived"]:
            return _text(410, "channel_is_archived")
        if "channel" in body:  # new-style apps' webhooks cannot be pointed elsewhere
            return _text(403, "action_prohibited")
        refused = self._content(body)
        if refused is not None:
            error = refused.body["error"] if isinstance(refused.body, dict) else "invalid_payload"
            return _text(400, "no_text" if error == "no_text" else "invalid_payload" if error != "invalid_blocks"
                         else "invalid_blocks")
        wait = self._channel_full(channel)
        if wait is not None:
            return Reply(429, b"rate_limited", {"Content-Type": "text/plain", "Retry-After": str(max(1, math.ceil(wait)))})
        ts = self._new_ts()
        self.messages[(channel, ts)] = {"channel": channel, "ts": ts, "app": "webhook", "deleted": False, "edits": 0,
                                        "via": "webhook", **self._stored(body)}
        return _text(200, "ok")

    # --- the message's content --------------------------------------------------------------------

    def _content(self, body: dict[str, Any]) -> Reply | None:
        """`no_text`, `msg_too_long` or `invalid_blocks` (with Slack's pointer to the block), or None."""
        text, blocks = body.get("text"), body.get("blocks")
        if not text and not blocks:
            return self._fail("no_text")
        if text is not None and not isinstance(text, str):
            return self._fail("invalid_arguments")
        if text and len(text) > 40_000:
            return self._fail("msg_too_long")
        if blocks is None:
            return None
        problem = _blocks_problem(blocks)
        if problem is not None:
            return self._fail("invalid_blocks", response_metadata={"messages": [f"[ERROR] {problem}"]})
        return None

    def _stored(self, body: dict[str, Any]) -> dict[str, Any]:
        text = str(body.get("text") or "")
        blocks = body.get("blocks") or []
        mangled = shown(text)[1]
        visible: list[str] = []
        for block in blocks:
            obj = block.get("text") if isinstance(block.get("text"), dict) else None
            if obj is not None and obj.get("type") == "mrkdwn":
                seen, bad = shown(str(obj.get("text") or ""))
                visible.append(seen)
                mangled += bad
            elif obj is not None:
                visible.append(str(obj.get("text") or ""))  # plain_text is shown as written
        return {"text": text, "blocks": blocks, "shown": visible, "mangled": mangled,
                "unfurl_links": body.get("unfurl_links", True), "metadata": body.get("metadata")}

    def _new_ts(self) -> str:
        self._ts += 100
        raw = str(self._ts)
        return f"{raw[:10]}.{raw[10:]}"


def _blocks_problem(blocks: Any) -> str | None:
    if not isinstance(blocks, list):
        return "blocks must be an array [json-pointer:/blocks]"
    if len(blocks) > 50:
        return "no more than 50 items allowed [json-pointer:/blocks]"
    ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"[json-pointer:/blocks/{i}"
        if not isinstance(block, dict):
            return f"must be an object {where}]"
        block_id = block.get("block_id")
        if block_id is not None:
            if len(str(block_id)) > 255:
                return f"must be less than 256 characters {where}/block_id]"
            if block_id in ids:
                return f"block_id must be unique {where}/block_id]"
            ids.add(str(block_id))
        kind = block.get("type")
        if kind == "header":
            problem = _text_object(block.get("text"), 150, ("plain_text",))
            if problem:
                return f"{problem} {where}/text]"
        elif kind == "section":
            if block.get("text") is None and not block.get("fields"):
                return f"must provide text or fields {where}]"
            if block.get("text") is not None:
                problem = _text_object(block.get("text"), 3000, ("plain_text", "mrkdwn"))
                if problem:
                    return f"{problem} {where}/text]"
        elif kind == "image":
            url, alt = block.get("image_url"), block.get("alt_text")
            if not isinstance(url, str) or not re.match(r"^https?://", url):
                return f"must be a valid http(s) URL {where}/image_url]"
            if len(url) > 3000:
                return f"must be less than 3001 characters {where}/image_url]"
            if not isinstance(alt, str) or not alt:
                return f"missing required field: alt_text {where}]"
            if len(alt) > 2000:
                return f"must be less than 2001 characters {where}/alt_text]"
        elif kind not in ("divider", "context"):
            return f"unsupported type: {kind} {where}/type]"
    return None


def _text_object(obj: Any, most: int, types: tuple[str, ...]) -> str | None:
    if not isinstance(obj, dict) or obj.get("type") not in types:
        return f"must be a {' or '.join(types)} text object"
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return "must be more than 0 characters"
    if len(text) > most:
        return f"must be less than {most + 1} characters"
    return None


def _bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    return value[len("Bearer "):] if value.startswith("Bearer ") else None


def _body(request: Request) -> dict[str, Any] | Reply:
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("application/json"):
        return FakeSlack._fail("invalid_arguments")  # this fake takes the JSON form only
    try:
        body = request.json()
    except ValueError:
        return FakeSlack._fail("invalid_json")
    if not isinstance(body, dict):
        return FakeSlack._fail("invalid_json")
    return body


def _text(status: int, code: str) -> Reply:
    return Reply(status, code.encode(), {"Content-Type": "text/plain; charset=utf-8"})
