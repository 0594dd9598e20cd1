"""A fake X API v2 that refuses what X refuses.

Every request is matched to an operation of the OpenAPI spec (../shared/specs/x/openapi.json,
xdk v2.167) and its JSON or multipart body validated against the operation's schema. Rules of
PLATFORMS.md §8 and issue 15, each checked here on its own:
- auth: OAuth 1.0a signatures (RFC 5849 HMAC-SHA1, computed here independently: method, URL,
  query and oauth_* parameters; a nonce is used once; the timestamp within 5 minutes), or an
  OAuth 2.0 bearer token from POST /2/oauth2/token, which rotates the refresh token (a spent
  one is refused) and gives access tokens 2 hours;
- text: at most 280 weighted characters by twitter-text v3 (NFC, URLs 23, CJK/emoji 2), refused
  with 403 in X's problem shape; a text repeating a live post of the account is refused (403
  duplicate content);
- edits: `edit_options.previous_post_id` must be the latest version of a post of the account,
  at most 30 minutes after it was first posted and at most 5 times; each edit is a new id;
- replies: `reply.in_reply_to_tweet_id` must be a live post;
- media: upload (multipart or base64 JSON, ≤ 5 MB for images), alt text ≤ 1,000 characters
  via /2/media/metadata, at most 4 ids per post, each one this account uploaded;
- rate limits (with `time_scale`): 100 posts / 15 min, 50 deletes / 15 min, 500 uploads /
  15 min per user, in fixed windows as X counts them, with `x-rate-limit-limit/-remaining/-reset` (epoch seconds) on every answer
  and a 429 `{"errors":[{"code":88,...}]}` when spent. An injected fault (`rate_limit_next`)
  also sends Retry-After, so the contract suite can check an exact wait.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

import jsonschema

from tests.fakes.server import FakeServer, Reply, Request

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "specs" / "x" / "openapi.json"
USER_ID = "1849192746251"
USERNAME = "blogger"
API_KEY = "xvz1evFS4wEEPTGEFPHBog"
API_SECRET = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw"
ACCESS_TOKEN = "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb"
ACCESS_SECRET = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE"
CLIENT_ID = "rG9n6402A3dbUJKzXTNX4oWHJ"
REFRESH_TOKEN = "bWRWeVFOdDBvVmVCQ3BIMFBSMWxxLWVQSHg4QW8tcEZ2cTYwa3dFZlRpRFRBOjE3MDI"
EDIT_WINDOW = 30 * 60.0
MAX_EDITS = 5
TEXT_MAX = 280
ALT_MAX = 1000
IMAGE_MAX = 5 * 1024 * 1024
ACCESS_LIFETIME = 7200.0
TOKEN_PATH = "/2/oauth2/token"
_OPERATION = re.compile(r"\{[^}]+\}")


@lru_cache(maxsize=1)
def _spec() -> dict[str, Any]:
    return json.loads(SPEC.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _routes() -> list[tuple[re.Pattern[str], str, dict[str, Any]]]:
    out = []
    for path, item in _spec()["paths"].items():
        pattern = re.compile("^" + _OPERATION.sub("[^/]+", re.escape(path).replace(r"\{", "{").replace(r"\}", "}"))
                             + "$")
        out.append((pattern, path, item))
    return out


@lru_cache(maxsize=16)
def validator(schema: str) -> jsonschema.Draft202012Validator:
    """A validator for one component schema, its references resolved inside the spec."""
    return jsonschema.Draft202012Validator({"$ref": f"#/components/schemas/{schema}",
                                           "components": _spec()["components"]})


def operation(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    """The spec's path template and operation for a request, or None when the spec has none."""
    for pattern, template, item in _routes():
        if pattern.match(path) and method.lower() in item:
            return template, item[method.lower()]
    return None


def weighted(text: str) -> tuple[int, bool]:
    """twitter-text v3's weighted length and validity (NFC first)."""
    from twitter_text import parse_tweet

    result = parse_tweet(unicodedata.normalize("NFC", text))
    return int(result.weightedLength), bool(result.valid)


def _pct(value: str) -> str:
    return quote(value, safe="-._~")


def _problem(status: int, title: str, detail: str, kind: str = "about:blank") -> Reply:
    return Reply(status, {"title": title, "detail": detail, "type": kind, "status": status})


def _invalid(message: str, parameter: str = "body") -> Reply:
    return Reply(400, {"errors": [{"parameters": {parameter: []}, "message": message}],
                       "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                       "type": "https://api.x.com/2/problems/invalid-request"})


class FakeX(FakeServer):
    rates = {"create": (100, 900.0), "delete": (50, 900.0), "media": (500, 900.0)}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.offset = 0.0
        self.clock = self.now
        self.posts: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.nonces: set[tuple[str, str]] = set()
        self.refresh_tokens = {REFRESH_TOKEN}  # live refresh tokens (each single use)
        self.spent_refresh: set[str] = set()
        self.access_tokens: dict[str, float] = {}  # token -> expiry (fake clock)
        self.refreshes = 0
        self._fixed: dict[str, tuple[float, int]] = {}  # kind -> (window start, calls in it): X's fixed windows
        self.refuse_duplicates = True  # a benchmark posting one text many times turns it off
        self._ids = 1_860_000_000_000_000_000
        self.answers: list[int] = []

    # --- clock -------------------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.offset += seconds

    def _new_id(self) -> str:
        self._ids += 1
        return str(self._ids)

    @property
    def live(self) -> list[dict[str, Any]]:
        """Visible posts: the latest version of each, not deleted."""
        return [p for p in self.posts.values() if p["latest"] and not p["deleted"]]

    # --- faults: never on the token endpoint unless named -----------------------------------------

    def _pick_faults(self, request: Request) -> list[Any]:
        """Injected faults (and chaos) spare POST /2/oauth2/token unless a fault names that path: X spends a
        refresh token as it answers, so a lost answer there ends the chain (tested on its own)."""
        if request.path == TOKEN_PATH:
            with self.lock:
                named = [f for f in self._faults if f.path == TOKEN_PATH]
                if not named:
                    return []
        return super()._pick_faults(request)

    # --- rate limits: X's headers and 429 --------------------------------------------------------

    def rate_kind(self, request: Request) -> str | None:
        if request.method == "POST" and request.path == "/2/tweets":
            return "create"
        if request.method == "DELETE" and request.path.startswith("/2/tweets/"):
            return "delete"
        if request.method == "POST" and request.path.startswith("/2/media/upload"):
            return "media"
        return None

    def account_of(self, request: Request) -> str:
        return USER_ID

    def error_body(self, status: int, message: str) -> Any:
        return {"title": message, "detail": message, "type": "about:blank", "status": status}

    def rate_limited(self, retry_after: float, limit: int, reset: float) -> Reply:
        wait = max(1, int(retry_after + 0.999))
        return Reply(429, {"errors": [{"code": 88, "message": "Rate limit exceeded"}]},
                     {"Retry-After": str(wait), "x-rate-limit-limit": str(limit), "x-rate-limit-remaining": "0",
                      "x-rate-limit-reset": str(int(self.now() + wait))})

    def window_limited(self, retry_after: float, limit: int, reset: float) -> Reply:
        """A documented window is spent: X's 429, with no Retry-After (only the reset epoch)."""
        return Reply(429, {"errors": [{"code": 88, "message": "Rate limit exceeded"}]},
                     {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": "0",
                      "x-rate-limit-reset": str(int(reset) + 1)})

    def _check_window(self, request: Request) -> Reply | None:
        """X counts in fixed 15-minute windows: `x-rate-limit-reset` is the window's end, and at the reset
        `remaining` is the whole limit again (not a sliding log)."""
        if self.time_scale is None:
            return None
        kind = self.rate_kind(request)
        if kind is None or kind not in self.rates:
            return None
        amount, seconds = self.rates[kind]
        window, now = seconds * self.time_scale, self.clock()
        with self.lock:
            start, used = self._fixed.get(kind, (now, 0))
            if now >= start + window:
                start, used = now, 0
            if used >= amount:
                self._fixed[kind] = (start, used)
                return self.window_limited(start + window - now, amount, start + window)
            self._fixed[kind] = (start, used + 1)
        return None

    def _limit_headers(self, request: Request) -> dict[str, str]:
        kind = self.rate_kind(request)
        if self.time_scale is None or kind is None or kind not in self.rates:
            return {}
        amount, seconds = self.rates[kind]
        window = seconds * self.time_scale
        start, used = self._fixed.get(kind, (self.clock(), 0))
        if self.clock() >= start + window:
            start, used = self.clock(), 0
        return {"x-rate-limit-limit": str(amount), "x-rate-limit-remaining": str(max(0, amount - used)),
                "x-rate-limit-reset": str(int(start + window) + 1)}

    # --- dispatch -----------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        reply = self._handle(request)
        reply.headers.update(self._limit_headers(request))
        self.answers.append(reply.status)
        return reply

    def _handle(self, request: Request) -> Reply:
        if request.method == "POST" and request.path == TOKEN_PATH:
            return self._token(request)
        found = operation(request.method, request.path)
        if found is None:
            return _problem(404, "Not Found Error", f"No {request.method} {request.path} in the API")
        template, op = found
        for param in op.get("parameters") or []:
            if param.get("in") == "query" and param.get("required") and request.param(param["name"]) is None:
                return _invalid(f"The `{param['name']}` query parameter can not be empty", param["name"])
        refused = self._authenticate(request)
        if refused is not None:
            return refused
        route = (request.method, template)
        if route == ("POST", "/2/tweets"):
            return self._create(request)
        if route == ("DELETE", "/2/tweets/{id}"):
            return self._delete(request.path.rsplit("/", 1)[-1])
        if route == ("GET", "/2/tweets/{id}"):
            post = self.posts.get(request.path.rsplit("/", 1)[-1])
            if post is None or post["deleted"]:
                return self._not_found(request.path.rsplit("/", 1)[-1])
            return Reply(200, {"data": self._view(post)})
        if route == ("GET", "/2/users/me"):
            return Reply(200, {"data": {"id": USER_ID, "name": "A Blogger", "username": USERNAME}})
        if route == ("POST", "/2/media/upload"):
            return self._upload(request)
        if route == ("POST", "/2/media/metadata"):
            return self._metadata(request)
        return _problem(501, "Not Implemented", f"the fake does not serve {template}")

    # --- auth ----------------------------------------------------------------------------------

    def _authenticate(self, request: Request) -> Reply | None:
        header = request.headers.get("authorization", "")
        unauthorized = _problem(401, "Unauthorized", "Unauthorized")
        if header.startswith("Bearer "):
            expires = self.access_tokens.get(header[7:])
            return None if expires is not None and expires > self.now() else unauthorized
        if not header.startswith("OAuth "):
            return unauthorized
        params = {k: unquote(v) for k, v in re.findall(r'([\w]+)="([^"]*)"', header[6:])}
        if (params.get("oauth_consumer_key") != API_KEY or params.get("oauth_token") != ACCESS_TOKEN
                or params.get("oauth_signature_method") != "HMAC-SHA1" or params.get("oauth_version", "1.0") != "1.0"):
            return unauthorized
        try:
            stamp = int(params.get("oauth_timestamp") or "")
        except ValueError:
            return unauthorized
        if abs(stamp - time.time()) > 300:  # the signer's wall clock, not the fake's
            return unauthorized
        nonce = (params.get("oauth_nonce") or "", str(stamp))
        if not nonce[0] or nonce in self.nonces:
            return unauthorized  # a replayed request
        pairs = [(k, v) for k, vs in request.query.items() for v in vs]
        pairs += [(k, v) for k, v in params.items() if k != "oauth_signature"]
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            pairs += parse_qsl(request.body.decode(), keep_blank_values=True)
        normal = "&".join(f"{k}={v}" for k, v in sorted((_pct(k), _pct(v)) for k, v in pairs))
        base = "&".join(("POST" if request.method == "POST" else request.method, _pct(self.url + request.path),
                         _pct(normal)))
        key = f"{_pct(API_SECRET)}&{_pct(ACCESS_SECRET)}".encode()
        expected = base64.b64encode(hmac.new(key, base.encode(), hashlib.sha1).digest()).decode()
        if not hmac.compare_digest(expected, params.get("oauth_signature") or ""):
            return unauthorized
        self.nonces.add(nonce)
        return None

    def _token(self, request: Request) -> Reply:
        form = dict(parse_qsl(request.body.decode(), keep_blank_values=True))
        if form.get("grant_type") != "refresh_token" or form.get("client_id") != CLIENT_ID:
            return Reply(400, {"error": "invalid_request", "error_description": "Missing required parameter."})
        token = form.get("refresh_token") or ""
        if token not in self.refresh_tokens:
            return Reply(400, {"error": "invalid_request",
                               "error_description": "Value passed for the token was invalid."})
        self.refresh_tokens.discard(token)  # single use
        self.spent_refresh.add(token)
        self.refreshes += 1
        access = "acc-" + self._new_id()
        fresh = "ref-" + self._new_id()
        self.refresh_tokens.add(fresh)
        self.access_tokens[access] = self.now() + ACCESS_LIFETIME
        return Reply(200, {"token_type": "bearer", "expires_in": int(ACCESS_LIFETIME), "access_token": access,
                           "scope": "tweet.write users.read tweet.read offline.access media.write",
                           "refresh_token": fresh})

    # --- posts ---------------------------------------------------------------------------------

    def _json_body(self, request: Request, schema: str) -> dict[str, Any] | Reply:
        if not request.headers.get("content-type", "").startswith("application/json"):
            return _invalid("Content-Type must be application/json")
        try:
            body = request.json()
        except ValueError:
            return _invalid("The request body is not valid JSON.")
        if not isinstance(body, dict):
            return _invalid("The request body must be an object.")
        error = jsonschema.exceptions.best_match(validator(schema).iter_errors(body))
        if error is not None:
            where = ".".join(map(str, error.absolute_path)) or "body"
            return _invalid(f"$.{where}: {error.validator} failed", where)
        return body

    def _create(self, request: Request) -> Reply:
        body = self._json_body(request, "CreatePostsRequest")
        if isinstance(body, Reply):
            return body
        text = str(body.get("text") or "")
        media_ids = list((body.get("media") or {}).get("media_ids") or [])
        if not text and not media_ids:
            return _invalid("Post text or media is required", "text")
        length, valid = weighted(text) if text else (0, True)
        if text and (not valid or length > TEXT_MAX):
            return _problem(403, "Forbidden", f"Your post text is too long ({length} weighted characters; the most "
                                              f"is {TEXT_MAX}).")
        for media_id in media_ids:
            if media_id not in self.media:
                return _invalid(f"Your media IDs are invalid: {media_id}", "media.media_ids")
        edit = (body.get("edit_options") or {}).get("previous_post_id")
        previous = None
        if edit is not None:
            previous = self.posts.get(edit)
            if previous is None or previous["deleted"]:
                return self._not_found(edit)
            if not previous["latest"]:
                return _problem(403, "Forbidden", "You can only edit the latest version of a post.")
            first = self.posts[previous["history"][0]]
            if self.now() - first["created"] > EDIT_WINDOW:
                return _problem(403, "Forbidden", "This post is no longer editable: the edit window has closed.")
            if len(previous["history"]) > MAX_EDITS:
                return _problem(403, "Forbidden", "This post is no longer editable: it has been edited 5 times.")
        dup = unicodedata.normalize("NFC", text)
        for other in self.live if self.refuse_duplicates else ():
            if text and unicodedata.normalize("NFC", other["text"]) == dup and (previous is None
                                                                                 or other["id"] != previous["id"]):
                return _problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if reply_to is not None:
            parent = self.posts.get(reply_to)
            if parent is None or parent["deleted"]:
                return _problem(403, "Forbidden", "You attempted to reply to a post that is deleted or not visible "
                                                  "to you.")
        post_id = self._new_id()
        history = [*previous["history"], post_id] if previous is not None else [post_id]
        if previous is not None:
            previous["latest"] = False
            reply_to = previous["reply_to"]  # an edit stays where it was in its thread
        self.posts[post_id] = {"id": post_id, "text": text, "media_ids": media_ids, "reply_to": reply_to,
                               "history": history, "latest": True, "deleted": False, "created": self.now()}
        return Reply(201, {"data": self._view(self.posts[post_id])})

    def _view(self, post: dict[str, Any]) -> dict[str, Any]:
        return {"id": post["id"], "text": post["text"], "edit_history_post_ids": list(post["history"])}

    def _not_found(self, post_id: str) -> Reply:
        return Reply(404, {"errors": [{"value": post_id, "detail": f"Could not find post with id: [{post_id}].",
                                       "title": "Not Found Error", "resource_type": "tweet", "parameter": "id",
                                       "resource_id": post_id,
                                       "type": "https://api.x.com/2/problems/resource-not-found"}],
                           "title": "Not Found Error", "detail": f"Could not find post with id: [{post_id}].",
                           "type": "https://api.x.com/2/problems/resource-not-found", "status": 404})

    def _delete(self, post_id: str) -> Reply:
        post = self.posts.get(post_id)
        if post is None or post["deleted"]:
            return self._not_found(post_id)
        for version in post["history"]:  # every version of the post goes with it
            self.posts[version]["deleted"] = True
        return Reply(200, {"data": {"deleted": True}})

    # --- media ---------------------------------------------------------------------------------

    def _upload(self, request: Request) -> Reply:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("multipart/form-data"):
            form = request.form()
            fields: dict[str, Any] = {k: v[1].decode("latin-1") if k != "media" else "<bytes>"
                                      for k, v in form.items()}
            data = form["media"][1] if "media" in form else b""
        else:
            parsed = self._json_body(request, "MediaUploadRequest")
            if isinstance(parsed, Reply):
                return parsed
            fields = parsed
            try:
                data = base64.b64decode(str(parsed.get("media") or ""), validate=True)
            except ValueError:
                return _invalid("media must be base64 in a JSON body", "media")
        error = jsonschema.exceptions.best_match(validator("MediaUploadRequest").iter_errors(fields))
        if error is not None:
            return _invalid(f"$.{'.'.join(map(str, error.absolute_path)) or 'body'}: {error.validator} failed")
        if not data:
            return _invalid("media is empty", "media")
        category = fields["media_category"]
        if category == "tweet_image" and len(data) > IMAGE_MAX:
            return _invalid(f"File size exceeds {IMAGE_MAX} bytes.", "media")
        media_id = self._new_id()
        self.media[media_id] = {"id": media_id, "category": category, "size": len(data), "alt": None, "data": data}
        return Reply(200, {"data": {"id": media_id, "media_key": f"3_{media_id}", "size": len(data),
                                    "expires_after_secs": 86400}})

    def _metadata(self, request: Request) -> Reply:
        body = self._json_body(request, "CreateMediaMetadataRequest")
        if isinstance(body, Reply):
            return body
        media = self.media.get(str(body["id"]))
        if media is None:
            return _invalid(f"Unknown media id {body['id']}", "id")
        alt = ((body.get("metadata") or {}).get("alt_text") or {}).get("text")
        if alt is not None:
            if len(str(alt)) > ALT_MAX:
                return _invalid(f"alt_text.text must be at most {ALT_MAX} characters", "metadata.alt_text.text")
            media["alt"] = str(alt)
        return Reply(200, {"data": {"id": media["id"], "associated_metadata": True}})
