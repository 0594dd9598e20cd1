"""A fake Threads API (graph.threads.net) that refuses what the real one refuses.

Rules (PLATFORMS.md §10; developers.facebook.com/docs/threads: posts, troubleshooting,
delete-posts, long-lived-tokens, text-attachments, overview; Graph API error handling):
- a user token as `Authorization: Bearer` or `access_token`; an unknown or expired one gets Graph's
  400 OAuthException, code 190. Long-lived tokens last 60 days; `GET /refresh_access_token`
  (grant_type=th_refresh_token) takes a token at least 24 hours old and not expired, and answers a
  new one valid 60 days from then. The fake's clock (`advance`) moves time for tokens and containers;
- `POST /{v}/{user}/threads` makes a container: TEXT (text required) or IMAGE (image_url); text of at
  most 500 characters where an emoji counts as its UTF-8 bytes (counted here with the `emoji`
  package, not syndicate.content.text, so a bug there shows); at most 5 unique links (twitter-text's
  extractor, plus a `link_attachment` unlike them all): THREADS_API__LINK_LIMIT_EXCEEDED; a
  `topic_tag` of 1-50 characters without `.` or `&`; `link_attachment` on TEXT only; unknown
  parameters refused;
- a container is IN_PROGRESS for `reads` status reads (`image_reads` for images), then FINISHED;
  PUBLISHED once published, EXPIRED 24 hours after it was made;
- `POST /{v}/{user}/threads_publish?creation_id=` publishes a FINISHED container, once (an unready
  one: code 24, subcode 4279009, as Meta answers); 250 per 24 hours; deletes 100 per 24 hours.
A lost "create" (`lose_next` without a path) is a lost publish: the request that makes the post.
"""
from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import emoji
from twitter_text.extract_urls import extract_urls

from tests.fakes.server import FakeServer, Reply, Request, _Fault

VERSION = "v1.0"
TOKEN_LIFE = 60 * 86400
CONTAINER_LIFE = 24 * 3600
KNOWN = {"media_type", "text", "image_url", "video_url", "is_carousel_item", "children", "reply_to_id",
         "link_attachment", "topic_tag", "alt_text", "reply_control", "quote_post_id", "location_id",
         "allowlisted_country_codes", "auto_publish_text", "text_entities", "text_attachment", "access_token"}


def threads_length(text: str) -> int:
    """Characters, where an emoji counts as its UTF-8 bytes (posts: "emojis are counted as ... bytes")."""
    found = [e["emoji"] for e in emoji.emoji_list(text)]
    return len(text) - sum(len(e) for e in found) + sum(len(e.encode("utf-8")) for e in found)


def link_count(text: str, attachment: str | None = None) -> int:
    """Unique links: every URL of the text, and a link attachment unlike all of them."""
    found = set(extract_urls(text))
    if attachment:
        found.add(attachment)
    return len(found)


@dataclass
class _PublishFault(_Fault):
    def applies(self, request: Request) -> bool:
        return request.method == "POST" and request.path.endswith("/threads_publish")


class FakeThreads(FakeServer):
    rates = {"publish": (250, 86400), "delete": (100, 86400)}

    def __init__(self, tokens: dict[str, str] | None = None, *, reads: int = 0, image_reads: int = 1,
                 token_age: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.offset = 0.0
        self.users = {"1789": "alice"}
        self.tokens: dict[str, dict[str, Any]] = {}
        for value, user in (tokens or {"threads-test-token": "1789"}).items():
            self.add_token(value, user, age=token_age)
        self.reads, self.image_reads = reads, image_reads
        self.containers: dict[str, dict[str, Any]] = {}
        self.posts: dict[str, dict[str, Any]] = {}
        self.refreshes = 0
        self.fail_containers: list[str] = []  # error messages: the next containers end in ERROR
        self._ids = itertools.count(17_900_000_000_000_001)

    # clock and tokens -------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def add_token(self, value: str, user: str, *, age: float = 0.0, life: float = TOKEN_LIFE) -> None:
        issued = self.now() - age
        self.tokens[value] = {"user": user, "issued": issued, "expires": issued + life}

    def _token(self, request: Request) -> tuple[str | None, dict[str, Any] | None]:
        auth = request.headers.get("authorization", "")
        value = auth[7:] if auth.startswith("Bearer ") else request.param("access_token")
        token = self.tokens.get(value or "")
        if token is None or token["expires"] <= self.now():
            return value, None
        return value, token

    @property
    def live(self) -> list[dict[str, Any]]:
        return [p for p in self.posts.values() if not p["deleted"]]

    # the base's hooks -----------------------------------------------------------------------

    def lose_next(self, n: int = 1, *, method: str | None = None, path: str | None = None) -> None:
        if path is None:
            self._add(_PublishFault("lose", n, 0, "POST", None))
        else:
            super().lose_next(n, method=method, path=path)

    def account_of(self, request: Request) -> str:
        _, token = self._token(request)
        return token["user"] if token else "anonymous"

    def rate_kind(self, request: Request) -> str | None:
        if request.method == "POST" and request.path.endswith("/threads_publish"):
            return "publish"
        return "delete" if request.method == "DELETE" else None

    def error_body(self, status: int, message: str) -> Any:
        code = {429: 4, 500: 1, 503: 2}.get(status, 100)
        return {"error": {"message": message, "type": "OAuthException" if code == 190 else "THApiException",
                          "code": code, "is_transient": code in (1, 2, 4), "fbtrace_id": "AFakeTrace"}}

    def window_limited(self, retry_after: float, limit: int, reset: float) -> Reply:
        # the documented limits answer as Graph does: a throttling error code, no Retry-After
        return Reply(400, {"error": {"message": "Application request limit reached", "type": "THApiException",
                                     "code": 4, "is_transient": True, "fbtrace_id": "AFakeTrace"}})

    def _err(self, message: str, code: int = 100, sub: int | None = None, status: int = 400) -> Reply:
        error: dict[str, Any] = {"message": message, "type": "OAuthException" if code == 190 else "THApiException",
                                 "code": code, "fbtrace_id": "AFakeTrace"}
        if sub is not None:
            error["error_subcode"] = sub
        return Reply(status, {"error": error})

    # routes --------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        if request.path == "/refresh_access_token" and request.method == "GET":
            return self._refresh(request)
        value, token = self._token(request)
        if token is None:
            return self._err("Error validating access token: the session is invalid or has expired", 190)
        parts = request.path.strip("/").split("/")
        if not parts or parts[0] != VERSION:
            return self._err(f"Unknown path components: /{parts[0] if parts else ''}", 2500)
        user = token["user"]
        if len(parts) == 3 and parts[1] in (user, "me") and request.method == "POST":
            if parts[2] == "threads":
                return self._create(request, user)
            if parts[2] == "threads_publish":
                return self._publish(request, user)
        if len(parts) == 3 and parts[1] in (user, "me") and parts[2] == "threads" and request.method == "GET":
            return self._list(request, user)
        if len(parts) == 2 and parts[1] in (user, "me") and request.method == "GET":
            return Reply(200, {"id": user, "username": self.users.get(user, "user")})
        if len(parts) == 2 and request.method == "GET":
            return self._get(request, parts[1], user)
        if len(parts) == 2 and request.method == "DELETE":
            post = self.posts.get(parts[1])
            if post is None or post["deleted"] or post["user"] != user:
                return self._missing(parts[1], "delete")
            post["deleted"] = True
            return Reply(200, {"success": True})
        return self._missing(parts[1] if len(parts) > 1 else "", request.method.lower())

    def _missing(self, node: str, verb: str) -> Reply:
        return self._err(f"Unsupported {verb} request. Object with ID '{node}' does not exist, cannot be loaded "
                         "due to missing permissions, or does not support this operation", 100, 33)

    def _params(self, request: Request) -> dict[str, Any] | Reply:
        params: dict[str, Any] = {k: v[0] for k, v in request.query.items()}
        ctype = request.headers.get("content-type", "")
        if request.body and ctype.startswith("application/json"):
            try:
                body = json.loads(request.body)
            except ValueError:
                return self._err("The request body is not valid JSON")
            if not isinstance(body, dict):
                return self._err("The request body must be an object")
            params.update(body)
        elif request.body:
            params.update({k: v[0] for k, v in parse_qs(request.body.decode()).items()})
        return params

    def _create(self, request: Request, user: str) -> Reply:
        params = self._params(request)
        if isinstance(params, Reply):
            return params
        unknown = sorted(set(params) - KNOWN)
        if unknown:
            return self._err(f"(#100) Param {unknown[0]} is not a valid parameter")
        kind, text = params.get("media_type"), params.get("text")
        if kind not in ("TEXT", "IMAGE"):
            return self._err("(#100) Param media_type must be one of {TEXT, IMAGE, VIDEO, CAROUSEL}")
        if kind == "TEXT" and not (isinstance(text, str) and text.strip()):
            return self._err("(#100) Param text is required for a TEXT post")
        if text is not None and not isinstance(text, str):
            return self._err("(#100) Param text must be a string")
        if text and threads_length(text) > 500:
            return self._err("(#100) Param text must be at most 500 characters long")
        attachment = params.get("link_attachment")
        if attachment is not None and kind != "TEXT":
            return self._err("(#100) Param link_attachment is only supported for TEXT posts")
        if link_count(text or "", attachment) > 5:
            return self._err("THREADS_API__LINK_LIMIT_EXCEEDED: posts may contain at most 5 links")
        topic = params.get("topic_tag")
        if topic is not None and (not isinstance(topic, str) or not 1 <= len(topic) <= 50 or "." in topic
                                  or "&" in topic):
            return self._err("(#100) Param topic_tag must be 1 to 50 characters, without periods or ampersands")
        if kind == "IMAGE":
            url = params.get("image_url")
            if not (isinstance(url, str) and url.startswith(("http://", "https://"))):
                return self._err("(#100) Param image_url must be a public http(s) URL")
            if len(str(params.get("alt_text") or "")) > 1000:
                return self._err("(#100) Param alt_text must be at most 1000 characters long")
        cid = str(next(self._ids))
        self.containers[cid] = {"id": cid, "user": user, "params": params, "made": self.now(), "status": "IN_PROGRESS",
                                "reads_left": self.image_reads if kind == "IMAGE" else self.reads, "media": None}
        if self.fail_containers:
            self.containers[cid].update(status="ERROR", error_message=self.fail_containers.pop(0))
        elif not self.containers[cid]["reads_left"]:
            self.containers[cid]["status"] = "FINISHED"
        return Reply(200, {"id": cid})

    def _status(self, c: dict[str, Any]) -> str:
        if c["status"] != "PUBLISHED" and self.now() - c["made"] > CONTAINER_LIFE:
            c["status"] = "EXPIRED"
        return str(c["status"])

    def _publish(self, request: Request, user: str) -> Reply:
        params = self._params(request)
        if isinstance(params, Reply):
            return params
        c = self.containers.get(str(params.get("creation_id") or ""))
        if c is None or c["user"] != user or self._status(c) == "IN_PROGRESS":
            return self._err("The requested resource does not exist", 24, 4279009)
        status = self._status(c)
        if status != "FINISHED":
            return self._err(f"(#100) The media container cannot be published: it is {status}")
        mid = str(next(self._ids))
        p = c["params"]
        self.posts[mid] = {
            "id": mid, "user": user, "text": p.get("text") or "", "media_type": p["media_type"],
            "topic_tag": p.get("topic_tag"), "image_url": p.get("image_url"), "alt_text": p.get("alt_text"),
            "link_attachment": p.get("link_attachment"), "container": c["id"], "deleted": False,
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(self.now())),
            "permalink": f"https://www.threads.net/@{self.users.get(user, 'user')}/post/C{int(mid):x}",
        }
        c["status"], c["media"] = "PUBLISHED", mid
        return Reply(200, {"id": mid})

    def _view(self, post: dict[str, Any], fields: str | None) -> dict[str, Any]:
        names = (fields or "id").split(",")
        view = {"id": post["id"], "permalink": post["permalink"], "text": post["text"], "timestamp": post["timestamp"],
                "media_type": "TEXT_POST" if post["media_type"] == "TEXT" else post["media_type"],
                "username": self.users.get(post["user"], "user"), "topic_tag": post["topic_tag"]}
        return {k: v for k, v in view.items() if k in names or k == "id"}

    def _get(self, request: Request, node: str, user: str) -> Reply:
        fields = request.param("fields")
        c = self.containers.get(node)
        if c is not None and c["user"] == user:
            if "status" not in (fields or ""):
                return Reply(200, {"id": node})
            if c["status"] == "IN_PROGRESS":
                c["reads_left"] -= 1
                if c["reads_left"] <= 0:
                    c["status"] = "FINISHED"
                    return Reply(200, {"id": node, "status": "IN_PROGRESS"})
            status = self._status(c)
            return Reply(200, {"id": node, "status": status, **({"error_message": c["error_message"]}
                                                                 if status == "ERROR" else {})})
        post = self.posts.get(node)
        if post is None or post["deleted"] or post["user"] != user:
            return self._missing(node, "get")
        return Reply(200, self._view(post, fields))

    def _list(self, request: Request, user: str) -> Reply:
        try:
            limit = max(1, min(100, int(request.param("limit", "25") or 25)))
        except ValueError:
            return self._err("(#100) Param limit must be an integer")
        mine = [p for p in reversed(self.live) if p["user"] == user][:limit]
        return Reply(200, {"data": [self._view(p, request.param("fields")) for p in mine], "paging": {}})

    def _refresh(self, request: Request) -> Reply:
        if request.param("grant_type") != "th_refresh_token":
            return self._err("(#100) Param grant_type must be th_refresh_token")
        old = self.tokens.get(request.param("access_token") or "")
        if old is None or old["expires"] <= self.now():
            return self._err("Error validating access token: the session is invalid or has expired", 190)
        if self.now() - old["issued"] < 24 * 3600:
            return self._err("(#100) The access token must be at least 24 hours old to be refreshed")
        self.refreshes += 1
        value = f"threads-refreshed-{self.refreshes}-{int(self.now())}"
        self.add_token(value, old["user"])
        return Reply(200, {"access_token": value, "token_type": "bearer", "expires_in": TOKEN_LIFE})
