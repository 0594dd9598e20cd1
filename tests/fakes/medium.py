"""A fake Medium API v1 that enforces the documented rules of creating a post.

Rules from the Medium/medium-api-docs README (PLATFORMS.md §3): a Bearer
integration token (401 otherwise), `GET /v1/me`, `POST /v1/users/{authorId}/posts`
only as the token's own user and `POST /v1/publications/{id}/posts` only by a
writer of that publication (403), required `title`, `contentFormat` ("html"
or "markdown") and `content` (400), `publishStatus` public|draft|unlisted and
`canonicalUrl` an absolute URL. Where Medium silently drops data (more than 3
tags, a tag over 25 characters, a title over 100 characters), the fake
refuses with 400, so that a connector losing them shows. Errors have Medium's
shape: `{"errors": [{"message", "code"}]}`. There is no read, update or delete.
"""
from __future__ import annotations

import itertools
import re
from typing import Any

from tests.fakes.server import FakeServer, Reply, Request

FIELDS = {"title", "contentFormat", "content", "tags", "canonicalUrl", "publishStatus", "license",
          "notifyFollowers"}
FORMATS = {"html", "markdown"}
STATUSES = {"public", "draft", "unlisted"}
_URL = re.compile(r"https?://[^\s/]+\S*")
_USER_POSTS = re.compile(r"/v1/users/([^/]+)/posts")
_PUBLICATION_POSTS = re.compile(r"/v1/publications/([^/]+)/posts")


class FakeMedium(FakeServer):
    def __init__(self, tokens: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tokens = tokens or {"medium-test-token": "alice"}
        self.users = {"alice": "1f2e3d4c5b6a", "bob": "9a8b7c6d5e4f"}  # username -> user id
        self.publications = {"b45573563f5a": {"alice"}, "c0ffee000001": {"bob"}}  # id -> writers
        self.posts: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    def account_of(self, request: Request) -> str:
        return request.headers.get("authorization", "anonymous")

    def error_body(self, status: int, message: str) -> Any:
        return {"errors": [{"message": message, "code": status}]}

    def _err(self, status: int, message: str, code: int) -> Reply:
        return Reply(status, {"errors": [{"message": message, "code": code}]})

    @property
    def visible(self) -> list[dict[str, Any]]:
        return [p for p in self.posts if p["publishStatus"] != "draft"]

    def handle(self, request: Request) -> Reply:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return self._err(401, "An access token is required.", 6000)
        user = self.tokens.get(auth[len("Bearer "):])
        if user is None:
            return self._err(401, "Token was invalid.", 6003)
        if request.method == "GET" and request.path == "/v1/me":
            uid = self.users[user]
            return Reply(200, {"data": {"id": uid, "username": user, "name": user.title(),
                                        "url": f"https://medium.com/@{user}", "imageUrl": ""}})
        if request.method == "POST":
            m = _USER_POSTS.fullmatch(request.path)
            if m:
                if m.group(1) != self.users[user]:
                    return self._err(403, "You are not allowed to publish as this user.", 6027)
                return self._create(request, user, None)
            m = _PUBLICATION_POSTS.fullmatch(request.path)
            if m:
                writers = self.publications.get(m.group(1))
                if writers is None or user not in writers:
                    return self._err(403, "You are not allowed to publish to this publication.", 6028)
                return self._create(request, user, m.group(1))
        return self._err(404, "Not found.", 6002)

    def _create(self, request: Request, user: str, publication: str | None) -> Reply:
        try:
            body = request.json()
        except ValueError:
            return self._err(400, "The request body is not valid JSON.", 2001)
        problem = self._invalid(body)
        if problem:
            return self._err(400, problem, 2004)
        n = next(self._ids)
        post = {"id": f"{n:012x}", "title": body["title"], "authorId": self.users[user], "tags": body.get("tags", []),
                "content": body["content"], "contentFormat": body["contentFormat"],
                "canonicalUrl": body.get("canonicalUrl"), "publishStatus": body.get("publishStatus", "public"),
                "license": body.get("license", "all-rights-reserved"), "publicationId": publication,
                "url": f"https://medium.com/@{user}/{n:012x}", "publishedAt": 1_700_000_000_000 + n}
        self.posts.append(post)
        view = {k: v for k, v in post.items() if k not in ("content", "contentFormat", "publicationId")}
        if publication:
            view["publicationId"] = publication
        return Reply(201, {"data": view})

    def _invalid(self, body: Any) -> str | None:
        if not isinstance(body, dict):
            return "The request body must be a JSON object."
        unknown = set(body) - FIELDS
        if unknown:
            return f"Unknown fields: {', '.join(sorted(unknown))}."
        for key in ("title", "contentFormat", "content"):
            if not isinstance(body.get(key), str) or not body[key].strip():
                return f"Required field {key} was invalid or not specified."
        if len(body["title"]) > 100:
            return "title over 100 characters (Medium would ignore it)."
        if body["contentFormat"] not in FORMATS:
            return "contentFormat must be html or markdown."
        if body.get("publishStatus", "public") not in STATUSES:
            return "publishStatus must be public, draft or unlisted."
        tags = body.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
            return "tags must be a list of strings."
        if len(tags) > 3:
            return "more than 3 tags (Medium would use only the first three)."
        if any(len(t) > 25 for t in tags):
            return "a tag over 25 characters (Medium would ignore it)."
        canonical = body.get("canonicalUrl")
        if canonical is not None and not (isinstance(canonical, str) and _URL.fullmatch(canonical)):
            return "canonicalUrl must be an absolute URL."
        return None
