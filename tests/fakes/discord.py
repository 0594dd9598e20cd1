"""A fake Discord API for incoming webhooks that refuses what Discord refuses.

Rules from developers/resources/webhook.mdx, message.mdx and topics/rate-limits.mdx
(PLATFORMS.md §12), each body validated against the OpenAPI spec
(../shared/specs/discord/openapi.json), and counted here on its own:
- `/api/v10/webhooks/{id}/{token}`: an unknown id is 404 Unknown Webhook
  (10015), a wrong token 401 Invalid Webhook Token (50027);
- execute answers 204 with no message unless `?wait=true`; a forum channel
  needs `thread_name` or `thread_id` (220001); a message in a thread is found
  only with its `thread_id` (else 10008 Unknown Message);
- embed limits after trimming (title 256, description 4096, footer 2048,
  author 256, 6000 in all), http(s) image URLs, fields a webhook may not set,
  and webhook names without "clyde" or "discord";
- mentions: with no `allowed_mentions` (on an edit too) `@everyone` pings;
- rate limits (with `time_scale`): a bucket of 5 per 2 s per webhook and route,
  with `X-RateLimit-*` on every answer, and a per-channel 30 messages a
  minute that only shows in its 429 (`X-RateLimit-Scope: shared`).
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from tests.fakes.server import FakeServer, Reply, Request

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "specs" / "discord" / "openapi.json"
WEBHOOK_ID = "223704706495545344"
TOKEN = "3d89bb7572e0fb30d8128367b3b1b44fecd1726de135cbe28a41f8b2f777c372ba2939e72279b94526ff5d1bd4358d65cf11"
GUILD_ID = "199737254929760256"
CHANNEL_ID = "199737254929760257"
_ROUTE = re.compile(r"^/api/v10/webhooks/(\d+)/([^/]+)(?:/messages/(\d+))?/?$")
_EMBED_FORBIDDEN = {"provider", "video"}  # webhook.mdx: a webhook sets every embed field but these
_IMAGE_FORBIDDEN = {"height", "width", "proxy_url"}
_ESCAPE = re.compile(r"\\([^0-9A-Za-z\s])")  # simple-markdown's escape rule, as Discord's client uses
_URL = re.compile(r"https?://[^\s<]+[^<.,:;\"')\]\s]")  # the url rule of Discord's Markdown
_MARKS = re.compile(r"\*\*|__|~~|\|\||\*|_|`|\[[^\]]*\]\([^)]*\)|^\s*(?:>|#{1,3} |-# |[-*+] |\d+[.)] )", re.M)


@lru_cache(maxsize=1)
def _spec() -> dict[str, Any]:
    return json.loads(SPEC.read_text(encoding="utf-8"))


@lru_cache(maxsize=2)
def validator(operation: str) -> jsonschema.Draft202012Validator:
    """The request body schema of "execute" (POST) or "edit" (PATCH), as the spec states it."""
    paths = _spec()["paths"]
    if operation == "execute":
        body = paths["/webhooks/{webhook_id}/{webhook_token}"]["post"]["requestBody"]
    else:
        body = paths["/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"]["patch"]["requestBody"]
    schema = {**body["content"]["application/json"]["schema"], "components": _spec()["components"]}
    return jsonschema.Draft202012Validator(schema)


def shown(text: str) -> tuple[str, bool]:
    """What Discord shows for Markdown `text`, and whether any of it was formatting (read on its own).

    A link is taken first (simple-markdown's `url` rule), so an `_` inside one formats nothing.
    """
    plain = _URL.sub("link", _ESCAPE.sub("x", text))
    return _ESCAPE.sub(r"\1", text), bool(_MARKS.search(plain))


def _problem(error: jsonschema.ValidationError) -> str:
    """Discord's words for a schema error (never the value itself)."""
    if error.validator in ("maxLength", "maxItems"):
        return f"Must be {error.validator_value} or fewer in length."
    if error.validator in ("minLength", "minItems"):
        return f"Must be {error.validator_value} or more in length."
    if error.validator in ("maximum", "minimum"):
        return f"Must be {'at most' if error.validator == 'maximum' else 'at least'} {error.validator_value}."
    return f"Invalid value ({error.validator})."


def _trimmed(value: Any) -> int:
    return len(str(value or "").strip())


class FakeDiscord(FakeServer):
    def __init__(self, *, forum: bool = False, threads: tuple[str, ...] = (), bucket: tuple[int, float] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # (requests, seconds) of each route's bucket; default 5 per 2 s, scaled. Discord may change it
        # at any time (rate-limits.mdx: "should not be hard coded"), so a test may set another
        self.bucket = bucket
        self.webhooks = {WEBHOOK_ID: {"token": TOKEN, "guild_id": GUILD_ID, "channel_id": CHANNEL_ID,
                                      "name": "Blog", "forum": forum}}
        self.threads: dict[str, dict[str, Any]] = {t: {"id": t, "name": "thread", "parent": CHANNEL_ID}
                                                    for t in threads}
        self.messages: dict[str, dict[str, Any]] = {}
        self._ids = 1_190_000_000_000_000_000
        self._buckets: dict[tuple[str, str], list[float]] = {}  # (webhook, route) -> [remaining, reset]
        self._channel: dict[str, list[float]] = {}  # channel -> sends in the last minute
        self.answers: list[int] = []  # the status of every answer the rules gave (injected faults aside)

    @property
    def api(self) -> str:
        return self.url + "/api/v10"

    @property
    def webhook_url(self) -> str:
        return f"https://discord.com/api/webhooks/{WEBHOOK_ID}/{TOKEN}"

    @property
    def live(self) -> list[dict[str, Any]]:
        return [m for m in self.messages.values() if not m["deleted"]]

    def _new_id(self) -> str:
        self._ids += 1
        return str(self._ids)

    # --- Discord's error and rate-limit shapes ---------------------------------------------

    def error_body(self, status: int, message: str) -> Any:
        return {"message": message, "code": 0}

    def _err(self, status: int, message: str, code: int, errors: dict[str, Any] | None = None) -> Reply:
        body: dict[str, Any] = {"message": message, "code": code}
        if errors:
            body["errors"] = errors
        return Reply(status, body)

    def _form(self, field: str, message: str) -> Reply:
        tree: dict[str, Any] = {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH", "message": message}]}
        for key in reversed(field.split(".")):
            tree = {key: tree}
        return self._err(400, "Invalid Form Body", 50035, tree)

    def rate_limited(self, retry_after: float, limit: int, reset: float, scope: str = "user") -> Reply:
        return Reply(429, {"message": "You are being rate limited.", "retry_after": round(retry_after, 3),
                           "global": False},
                     {"Retry-After": str(max(1, math.ceil(retry_after))), "X-RateLimit-Limit": str(limit),
                      "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": f"{reset:.3f}",
                      "X-RateLimit-Reset-After": f"{retry_after:.3f}", "X-RateLimit-Scope": scope,
                      "X-RateLimit-Bucket": "fake"})

    def _bucket(self, webhook: str, route: str) -> tuple[Reply | None, dict[str, str]]:
        """Take one request from the route's bucket: a 429, or the headers to send."""
        if self.time_scale is None:
            return None, {}
        limit, window = self.bucket or (5, 2.0 * self.time_scale)
        now = time.time()
        bucket = self._buckets.get((webhook, route))
        if bucket is None or now >= bucket[1]:
            bucket = self._buckets[(webhook, route)] = [float(limit), now + window]
        name = hashlib.sha256(route.encode()).hexdigest()[:16]
        if bucket[0] <= 0:
            reply = self.rate_limited(bucket[1] - now, limit, bucket[1])
            reply.headers["X-RateLimit-Bucket"] = name
            return reply, {}
        bucket[0] -= 1
        return None, {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(int(bucket[0])),
                      "X-RateLimit-Reset": f"{bucket[1]:.3f}", "X-RateLimit-Reset-After": f"{bucket[1] - now:.3f}",
                      "X-RateLimit-Bucket": name}

    def _channel_full(self, channel: str) -> Reply | None:
        """The per-channel 30 messages a minute: seen in no header until it refuses."""
        if self.time_scale is None:
            return None
        now, window = time.time(), 60.0 * self.time_scale
        sends = [t for t in self._channel.get(channel, []) if t > now - window]
        self._channel[channel] = sends
        if len(sends) >= 30:
            return self.rate_limited(sends[0] + window - now, 30, sends[0] + window, scope="shared")
        sends.append(now)
        return None

    # --- routes -------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        reply = self._handle(request)
        self.answers.append(reply.status)
        return reply

    def _handle(self, request: Request) -> Reply:
        match = _ROUTE.match(request.path)
        if match is None:
            return self._err(404, "404: Not Found", 0)
        webhook_id, token, message_id = match.groups()
        hook = self.webhooks.get(webhook_id)
        if hook is None:
            return self._err(404, "Unknown Webhook", 10015)
        if token != hook["token"]:
            return self._err(401, "Invalid Webhook Token", 50027)
        route = f"{request.method} {'message' if message_id else 'webhook'}"
        limited, headers = self._bucket(webhook_id, route)
        if limited is not None:
            return limited
        reply = self._route(request, webhook_id, hook, message_id)
        reply.headers.update(headers)
        return reply

    def _route(self, request: Request, webhook_id: str, hook: dict[str, Any], message_id: str | None) -> Reply:
        if message_id is None:
            if request.method == "GET":
                return Reply(200, {"id": webhook_id, "type": 1, "guild_id": hook["guild_id"],
                                   "channel_id": hook["channel_id"], "name": hook["name"], "avatar": None,
                                   "application_id": None, "token": hook["token"]})
            if request.method == "POST":
                return self._execute(request, webhook_id, hook)
            return self._err(405, "405: Method Not Allowed", 0)
        message = self.messages.get(message_id)
        thread = request.param("thread_id")
        if (message is None or message["deleted"] or message["webhook_id"] != webhook_id
                or message["thread_id"] != thread):
            return self._err(404, "Unknown Message", 10008)  # a thread's message needs its thread_id
        if request.method == "GET":
            return Reply(200, self._view(message))
        if request.method == "DELETE":
            message["deleted"] = True
            return Reply(204, b"")
        if request.method == "PATCH":
            return self._edit(request, message)
        return self._err(405, "405: Method Not Allowed", 0)

    def _body(self, request: Request, operation: str) -> dict[str, Any] | Reply:
        if not request.headers.get("content-type", "").startswith("application/json"):
            return self._err(400, "Cannot send an empty message", 50006)
        try:
            body = request.json()
        except ValueError:
            return self._err(400, "The request body contains invalid JSON.", 50109)
        if not isinstance(body, dict):
            return self._form("body", "Must be an object.")
        error = jsonschema.exceptions.best_match(validator(operation).iter_errors(body))
        while error is not None and error.context:  # anyOf(execute, edit): the branch that came nearest
            error = jsonschema.exceptions.best_match(error.context)
        if error is not None:
            return self._form(".".join(map(str, error.absolute_path)) or "body", _problem(error))
        return self._check(body)

    def _check(self, body: dict[str, Any]) -> dict[str, Any] | Reply:
        """The rules the schema does not hold: trimmed embed limits, the total, image schemes, names."""
        embeds = body.get("embeds") or []
        total = 0
        for i, embed in enumerate(embeds):
            for key in set(embed) & _EMBED_FORBIDDEN:
                return self._form(f"embeds.{i}.{key}", "A webhook cannot set this field.")
            if embed.get("type") not in (None, "rich"):
                return self._form(f"embeds.{i}.type", "Webhook embeds are rich.")
            limits = {"title": 256, "description": 4096}
            for key, most in limits.items():
                if _trimmed(embed.get(key)) > most:
                    return self._form(f"embeds.{i}.{key}", f"Must be {most} or fewer in length.")
            if _trimmed((embed.get("footer") or {}).get("text")) > 2048:
                return self._form(f"embeds.{i}.footer.text", "Must be 2048 or fewer in length.")
            if _trimmed((embed.get("author") or {}).get("name")) > 256:
                return self._form(f"embeds.{i}.author.name", "Must be 256 or fewer in length.")
            for key in ("url", "image", "thumbnail"):
                value = embed.get(key)
                url = value.get("url") if isinstance(value, dict) else value
                if isinstance(value, dict) and set(value) & _IMAGE_FORBIDDEN:
                    return self._form(f"embeds.{i}.{key}", "A webhook cannot set a size.")
                if url is not None and not re.match(r"^(https?://|attachment://)", str(url)):
                    return self._form(f"embeds.{i}.{key}.url", "Scheme must be one of ('http', 'https').")
            total += sum(_trimmed(embed.get(k)) for k in ("title", "description"))
            total += _trimmed((embed.get("footer") or {}).get("text")) + _trimmed((embed.get("author") or {}).get("name"))
            total += sum(_trimmed(f.get("name")) + _trimmed(f.get("value")) for f in embed.get("fields") or [])
        if total > 6000:
            return self._form("embeds", "Embed size exceeds maximum size of 6000")
        name = str(body.get("username") or "")
        if "clyde" in name.lower() or "discord" in name.lower():
            return self._form("username", 'Username cannot contain "clyde" or "discord"')
        return body

    def _pings(self, content: str, allowed: Any) -> bool:
        """Whether `@everyone`/`@here` in the content notify (no `allowed_mentions`: the defaults do)."""
        everyone = "@everyone" in content or "@here" in content
        if not isinstance(allowed, dict):
            return everyone
        return everyone and "everyone" in (allowed.get("parse") or [])

    def _execute(self, request: Request, webhook_id: str, hook: dict[str, Any]) -> Reply:
        body = self._body(request, "execute")
        if isinstance(body, Reply):
            return body
        if not body.get("content") and not body.get("embeds"):
            return self._err(400, "Cannot send an empty message", 50006)
        thread = request.param("thread_id")
        channel = hook["channel_id"]
        if thread is not None:
            if thread not in self.threads:
                return self._err(400, "Unknown Channel", 10003)
            channel = thread
        elif hook["forum"]:
            if not body.get("thread_name"):
                return self._err(400, "Webhooks posted to forum channels must have a thread_name or thread_id",
                                 220001)
        elif body.get("thread_name"):
            return self._err(400, "Webhooks can only create threads in forum channels", 220003)
        full = self._channel_full(hook["channel_id"])
        if full is not None:
            return full
        mid = self._new_id()
        if hook["forum"] and thread is None:  # a forum post's thread has the id of its first message
            self.threads[mid] = {"id": mid, "name": body["thread_name"], "parent": hook["channel_id"]}
            channel = thread = mid
        self.messages[mid] = {
            "id": mid, "webhook_id": webhook_id, "channel_id": channel, "thread_id": thread,
            "content": body.get("content") or "", "embeds": body.get("embeds") or [],
            "username": body.get("username") or hook["name"], "flags": body.get("flags") or 0,
            "mention_everyone": self._pings(body.get("content") or "", body.get("allowed_mentions")),
            "timestamp": _now(), "edited_timestamp": None, "deleted": False, "edits": 0,
        }
        if request.param("wait") not in ("true", "True", "1"):
            return Reply(204, b"")  # sent, but nothing says which message it is
        return Reply(200, self._view(self.messages[mid]))

    def _edit(self, request: Request, message: dict[str, Any]) -> Reply:
        body = self._body(request, "edit")
        if isinstance(body, Reply):
            return body
        for key in ("username", "avatar_url", "thread_name"):
            if key in body:
                return self._form(key, "A webhook message's author and thread cannot be edited.")
        if "content" in body:
            message["content"] = body["content"] or ""
        if "embeds" in body:
            message["embeds"] = body["embeds"] or []
        # webhook.mdx: an edit re-parses mentions, with the default allowances unless it says otherwise
        message["mention_everyone"] = self._pings(message["content"], body.get("allowed_mentions"))
        message["edited_timestamp"] = _now()
        message["edits"] += 1
        return Reply(200, self._view(message))

    def _view(self, m: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": m["id"], "type": 0, "channel_id": m["channel_id"], "content": m["content"], "embeds": m["embeds"],
            "author": {"id": m["webhook_id"], "username": m["username"], "bot": True}, "webhook_id": m["webhook_id"],
            "mentions": [], "mention_roles": [], "mention_everyone": m["mention_everyone"], "attachments": [],
            "timestamp": m["timestamp"], "edited_timestamp": m["edited_timestamp"], "flags": m["flags"],
            "components": [], "pinned": False, "tts": False,
        }


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="milliseconds")
