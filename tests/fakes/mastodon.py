"""A fake Mastodon server that counts and refuses like the real one.

Rules from PLATFORMS.md §6 and specs/mastodon/schema.json: Bearer token,
`GET /api/v2/instance` limits, status length in grapheme clusters with each URL
as 23 and `@user@domain` as `@user` (counted here on its own, not with
syndicate.content.text, so a bug there shows), `Idempotency-Key` per token, edits that
drop media unless `media_ids` is sent again (UpdateStatusService), media
uploads that may answer 202 then 206 until processed, and the documented rate
limits (300 requests / 5 min, 30 uploads and 30 deletes / 30 min).
"""
from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import jsonschema
import regex

from tests.fakes.server import FakeServer, Reply, Request
from tests.paths import SHARED

SPEC = SHARED / "specs" / "mastodon" / "schema.json"
_URL = regex.compile(r"https?://[^\s<>\"]+", regex.IGNORECASE)
# app/models/account.rb MENTION_RE
_MENTION = regex.compile(r"(?<![=/\w])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@\w+(?:[.-]+\w+)*)?", regex.IGNORECASE)
_MAGIC = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF8": "image/gif", b"RIFF": "image/webp"}


@lru_cache(maxsize=1)
def _spec() -> dict[str, Any]:
    return json.loads(SPEC.read_text())


@lru_cache(maxsize=1)
def status_validator() -> jsonschema.Draft202012Validator:
    # The spec's oneOf(Text, Media, Poll) rejects a status with text *and* media
    # (both branches match), which Mastodon accepts: anyOf says what it means.
    spec = _spec()
    names = ("TextStatus", "MediaStatus", "PollStatus")
    schema = {"anyOf": [{"$ref": f"#/components/schemas/{n}"} for n in names], "components": spec["components"]}
    return jsonschema.Draft202012Validator(schema)


@lru_cache(maxsize=1)
def edit_validator() -> jsonschema.Draft202012Validator:
    body = _spec()["paths"]["/api/v1/statuses/{id}"]["put"]["requestBody"]
    return jsonschema.Draft202012Validator(body["content"]["application/json"]["schema"])


def mastodon_length(text: str) -> int:
    """StatusLengthValidator: URLs as 23, mentions without their domain, then grapheme clusters."""

    def url(m: regex.Match[str]) -> str:
        found = m.group(0)
        trimmed = found.rstrip(".,:;!?'\")]*")
        if trimmed.endswith("://") and len(trimmed) <= len("https://"):  # a bare scheme is no link
            return found
        return "x" * 23 + found[len(trimmed):]

    text = _URL.sub(url, text)
    text = _MENTION.sub(lambda m: "@" + m.group(1), text)
    return len(regex.findall(r"\X", text))


def _html(text: str) -> str:
    def para(block: str) -> str:
        out, pos = [], 0
        for m in _URL.finditer(block):
            out.append(html.escape(block[pos : m.start()]))
            link = html.escape(m.group(0), quote=True)
            out.append(f'<a href="{link}" rel="nofollow noopener" target="_blank">{link}</a>')
            pos = m.end()
        out.append(html.escape(block[pos:]))
        return "<p>" + "".join(out).replace("\n", "<br />") + "</p>"

    return "".join(para(b) for b in text.split("\n\n") if b)


class FakeMastodon(FakeServer):
    rates = {"request": (300, 300), "media": (30, 1800), "delete": (30, 1800)}

    def __init__(self, tokens: dict[str, str] | None = None, *, max_characters: int = 500,
                 description_limit: int = 1500, image_size_limit: int = 16 * 1024 * 1024,
                 media_async: bool = False, media_polls: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tokens = tokens or {"mastodon-test-token": "alice"}  # token -> username
        self.max_characters = max_characters
        self.description_limit = description_limit
        self.image_size_limit = image_size_limit
        self.media_async = media_async
        self.media_polls = media_polls
        self.statuses: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.idempotency: dict[tuple[str, str], str] = {}
        self._ids = 110_000_000_000_000_000

    def _new_id(self) -> str:
        self._ids += 1
        return str(self._ids)

    def account_of(self, request: Request) -> str:
        return request.headers.get("authorization", "anonymous")

    def rate_kind(self, request: Request) -> str | None:
        if request.method == "POST" and request.path == "/api/v2/media":
            return "media"
        if request.method == "DELETE" and request.path.startswith("/api/v1/statuses/"):
            return "delete"
        return "request"

    def error_body(self, status: int, message: str) -> Any:
        return {"error": message}

    def window_limited(self, retry_after: float, limit: int, reset: float) -> Reply:
        # Mastodon sends X-RateLimit-* with an ISO 8601 reset time, no Retry-After
        when = datetime.fromtimestamp(reset, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return Reply(429, {"error": "Too many requests"},
                     {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": when})

    def _err(self, status: int, message: str) -> Reply:
        return Reply(status, {"error": message})

    @property
    def live(self) -> list[dict[str, Any]]:
        """Statuses not deleted, oldest first."""
        return [s for s in self.statuses.values() if not s["deleted"]]

    # views ---------------------------------------------------------------------------

    def _media_view(self, m: dict[str, Any]) -> dict[str, Any]:
        done = m["polls_left"] <= 0
        return {"id": m["id"], "type": "image", "description": m["description"],
                "url": f"{self.url}/media/{m['id']}" if done else None, "preview_url": None}

    def _view(self, s: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": s["id"], "created_at": s["created_at"], "edited_at": s["edited_at"], "uri": f"{self.url}/users/{s['user']}/statuses/{s['id']}",
            "url": f"{self.url}/@{s['user']}/{s['id']}", "content": _html(s["text"]), "spoiler_text": s["spoiler_text"],
            "visibility": s["visibility"], "language": s["language"],
            "media_attachments": [self._media_view(self.media[i]) for i in s["media_ids"]],
            "account": {"id": s["user"], "username": s["user"], "acct": s["user"]},
        }

    # routes --------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        auth = request.headers.get("authorization", "")
        user = self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        if user is None:
            return self._err(401, "The access token is invalid")
        method, path = request.method, request.path
        if path == "/api/v2/instance" and method == "GET":
            return Reply(200, self._instance())
        if path == "/api/v1/accounts/verify_credentials" and method == "GET":
            return Reply(200, {"id": user, "username": user, "acct": user})
        if path == "/api/v1/statuses" and method == "POST":
            return self._create(request, user, auth)
        if path == "/api/v2/media" and method == "POST":
            return self._upload(request, user)
        parts = path.strip("/").split("/")
        if parts[:3] == ["api", "v1", "media"] and len(parts) == 4 and method == "GET":
            m = self.media.get(parts[3])
            if m is None or m["user"] != user:
                return self._err(404, "Record not found")
            if m["polls_left"] > 0:
                m["polls_left"] -= 1
                return Reply(206, self._media_view(m))
            return Reply(200, self._media_view(m))
        if parts[:3] == ["api", "v1", "accounts"] and len(parts) == 5 and parts[4] == "statuses" and method == "GET":
            return self._account_statuses(request, parts[3])
        if parts[:3] == ["api", "v1", "statuses"] and len(parts) == 4:
            status = self.statuses.get(parts[3])
            if status is None or status["deleted"]:
                return self._err(404, "Record not found")
            if method == "GET":
                return Reply(200, self._view(status))
            if status["user"] != user:
                return self._err(404, "Record not found")
            if method == "PUT":
                return self._edit(request, status)
            if method == "DELETE":
                status["deleted"] = True
                return Reply(200, {**self._view(status), "text": status["text"]})
        return self._err(404, "Record not found")

    def _instance(self) -> dict[str, Any]:
        return {
            "domain": "fake.example", "title": "Fake Mastodon", "version": "4.4.0",
            "configuration": {
                "urls": {"streaming": "wss://fake.example"},
                "statuses": {"max_characters": self.max_characters, "max_media_attachments": 4,
                             "characters_reserved_per_url": 23},
                "media_attachments": {
                    "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp"],
                    "description_limit": self.description_limit, "image_size_limit": self.image_size_limit,
                    "image_matrix_limit": 33177600, "video_size_limit": 103809024,
                },
            },
        }

    def _check_text(self, text: str, spoiler: str, media_ids: list[str], user: str) -> Reply | None:
        if not text.strip() and not media_ids:
            return self._err(422, "Validation failed: Text can't be blank")
        if mastodon_length(text) + mastodon_length(spoiler) > self.max_characters:
            return self._err(422, f"Validation failed: Text character limit of {self.max_characters} exceeded")
        if len(media_ids) > 4:
            return self._err(422, "Validation failed: Media attachments too many (maximum is 4)")
        for mid in media_ids:
            m = self.media.get(str(mid))
            if m is None or m["user"] != user:
                return self._err(422, f"Validation failed: unknown media {mid}")
            if m["polls_left"] > 0:
                return self._err(422, "Cannot attach files that have not finished processing. Try again in a moment!")
        return None

    def _body(self, request: Request, validator: jsonschema.Draft202012Validator) -> dict[str, Any] | Reply:
        try:
            body = request.json()
        except ValueError:
            return self._err(400, "the request body is not valid JSON")
        if not isinstance(body, dict):
            return self._err(422, "Validation failed: body must be an object")
        error = jsonschema.exceptions.best_match(validator.iter_errors(body))
        if error is not None:
            return self._err(422, f"Validation failed: {'/'.join(map(str, error.path)) or 'body'}: {error.message}")
        return body

    def _create(self, request: Request, user: str, auth: str) -> Reply:
        key = request.headers.get("idempotency-key")
        if key and (auth, key) in self.idempotency:
            return Reply(200, self._view(self.statuses[self.idempotency[(auth, key)]]))
        body = self._body(request, status_validator())
        if isinstance(body, Reply):
            return body
        text, spoiler = body.get("status") or "", body.get("spoiler_text") or ""
        media_ids = [str(i) for i in body.get("media_ids") or []]
        problem = self._check_text(text, spoiler, media_ids, user)
        if problem:
            return problem
        sid = self._new_id()
        self.statuses[sid] = {
            "id": sid, "user": user, "text": text, "spoiler_text": spoiler, "visibility": body.get("visibility", "public"),
            "language": body.get("language"), "media_ids": media_ids, "created_at": _now(), "edited_at": None,
            "deleted": False, "idempotency_key": key,
        }
        if key:
            self.idempotency[(auth, key)] = sid
        return Reply(200, self._view(self.statuses[sid]))

    def _edit(self, request: Request, status: dict[str, Any]) -> Reply:
        body = self._body(request, edit_validator())
        if isinstance(body, Reply):
            return body
        text = body.get("status", status["text"]) or ""
        spoiler = body.get("spoiler_text", status["spoiler_text"]) or ""
        media_ids = [str(i) for i in body.get("media_ids") or []]  # omitted: media removed
        problem = self._check_text(text, spoiler, media_ids, status["user"])
        if problem:
            return problem
        status.update(text=text, spoiler_text=spoiler, media_ids=media_ids, edited_at=_now(),
                      language=body.get("language", status["language"]))
        return Reply(200, self._view(status))

    def _account_statuses(self, request: Request, account: str) -> Reply:
        try:
            limit = min(40, max(1, int(request.param("limit", "20") or 20)))
        except ValueError:
            return self._err(400, "limit must be an integer")
        max_id = request.param("max_id")
        items = [s for s in reversed(self.live) if s["user"] == account and (max_id is None or int(s["id"]) < int(max_id))]
        return Reply(200, [self._view(s) for s in items[:limit]])

    def _upload(self, request: Request, user: str) -> Reply:
        form = request.form()
        if "file" not in form:
            return self._err(422, "Validation failed: File can't be blank")
        _, data = form["file"]
        mime = next((m for magic, m in _MAGIC.items() if data.startswith(magic)), None)
        if mime is None:
            return self._err(422, "Validation failed: File content type is invalid")
        if len(data) > self.image_size_limit:
            return self._err(422, f"Validation failed: File file size must be less than {self.image_size_limit} bytes")
        description = form.get("description", (None, b""))[1].decode("utf-8", "replace")
        if len(description) > self.description_limit:
            return self._err(422, f"Validation failed: Description is too long (maximum is {self.description_limit} characters)")
        mid = self._new_id()
        polls = self.media_polls if self.media_async else 0
        self.media[mid] = {"id": mid, "user": user, "data": data, "mime": mime, "description": description or None,
                           "polls_left": polls}
        return Reply(202 if polls else 200, self._media_view(self.media[mid]))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
