"""A fake Hashnode GraphQL API that validates every request against the real schema.

Each POST is parsed and validated against specs/hashnode/schema.graphql with
graphql-core (`build_schema`, `validate`), its variables coerced to the
declared input types (an unknown field or a wrong type is refused), then
executed by resolvers over in-memory publications and posts. Errors come back
the way Hashnode sends them (PLATFORMS.md §2): HTTP 200 with
`errors[].extensions.code` (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND,
BAD_USER_INPUT); a document that does not parse or validate is HTTP 400, as
Apollo servers answer. Rules: a token for every mutation, writes only by the
publication's members and on a Pro publication, ≤ 15 tags, a 100 KB body and
query depth ≤ 10 (errors-and-limits.md). The fake's own assumptions, where
Hashnode documents nothing: a slug already used in the publication is
refused, and tag slugs are lowercase ASCII words joined by hyphens.
"""
from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    SelectionSetNode,
    build_schema,
    execute_sync,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values

from tests.fakes.server import FakeServer, Reply, Request
from tests.paths import SHARED

SCHEMA = SHARED / "specs" / "hashnode" / "schema.graphql"
MAX_BODY = 100 * 1024
MAX_DEPTH = 10
MAX_TAGS = 15
_OBJECT_ID = re.compile(r"[0-9a-f]{24}")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_URL = re.compile(r"https?://[^\s/]+\S*")


def _object_id(value: Any) -> str:
    if not isinstance(value, str) or not _OBJECT_ID.fullmatch(value):
        raise GraphQLError(f"ObjectId cannot represent value: {value!r}")
    return value


@lru_cache(maxsize=1)
def schema() -> GraphQLSchema:
    built = build_schema(SCHEMA.read_text(encoding="utf-8"))
    object_id = built.type_map["ObjectId"]
    assert isinstance(object_id, GraphQLScalarType)
    for hook in ("parse_value", "coerce_input_value"):  # graphql-core 3.2 calls the first, 3.3 the second
        setattr(object_id, hook, _object_id)
    return built


def _depth(selection: SelectionSetNode | None) -> int:
    if selection is None:
        return 0
    return 1 + max((_depth(s.selection_set) for s in selection.selections if isinstance(s, FieldNode)), default=0)


def _error(code: str, message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


class FakeHashnode(FakeServer):
    PUBLICATION = "65f0c0ffee00000000000001"  # alice's, on the Pro plan
    OTHER = "65f0c0ffee00000000000002"  # bob's: alice's token cannot write to it
    FREE = "65f0c0ffee00000000000003"  # alice's, without the Pro plan

    def __init__(self, tokens: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tokens = tokens or {"hashnode-test-token": "alice"}
        self.publications: dict[str, dict[str, Any]] = {
            self.PUBLICATION: {"members": {"alice"}, "pro": True, "host": "alice.hashnode.dev"},
            self.OTHER: {"members": {"bob"}, "pro": True, "host": "bob.hashnode.dev"},
            self.FREE: {"members": {"alice"}, "pro": False, "host": "free.hashnode.dev"},
        }
        self.posts: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)

    def account_of(self, request: Request) -> str:
        return request.headers.get("authorization", "anonymous")

    # --- HTTP ----------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        if request.method != "POST" or request.path not in ("/", ""):
            return Reply(404, {"errors": [{"message": "Not found"}]})
        if len(request.body) > MAX_BODY:
            return Reply(413, {"errors": [{"message": "Request body larger than 100 KB"}]})
        try:
            body = request.json()
            query, variables = body["query"], body.get("variables") or {}
            document = parse(query)
        except (ValueError, KeyError, TypeError, GraphQLError) as exc:
            return self._refused("GRAPHQL_PARSE_FAILED", f"cannot parse the request: {exc}")
        problems = validate(schema(), document)
        if problems:
            return self._refused("GRAPHQL_VALIDATION_FAILED", problems[0].message)
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) != 1:
            return self._refused("GRAPHQL_VALIDATION_FAILED", "send exactly one operation")
        operation = operations[0]
        if _depth(operation.selection_set) > MAX_DEPTH:
            return self._refused("GRAPHQL_VALIDATION_FAILED", f"query depth over {MAX_DEPTH}")
        coerced = get_variable_values(schema(), operation.variable_definitions or (), variables)
        if isinstance(coerced, list):
            return self._refused("BAD_USER_INPUT", coerced[0].message)
        auth = request.headers.get("authorization", "").strip()
        token = auth[len("bearer "):].strip() if auth.lower().startswith("bearer ") else auth
        context = {"user": self.tokens.get(token), "token": bool(token)}
        if context["token"] and context["user"] is None:
            return Reply(200, {"data": None, "errors": [
                {"message": "Invalid access token", "extensions": {"code": "UNAUTHENTICATED"}}]})
        result = execute_sync(schema(), document, root_value=self._root(), context_value=context,
                         variable_values=variables)
        out: dict[str, Any] = {"data": result.data}
        if result.errors:
            out["errors"] = [e.formatted for e in result.errors]
        return Reply(200, out)

    def _refused(self, code: str, message: str) -> Reply:
        return Reply(400, {"errors": [{"message": message, "extensions": {"code": code}}]})

    # --- resolvers -------------------------------------------------------------------

    def _root(self) -> dict[str, Any]:
        return {"publication": self._publication, "post": self._post_by_id, "me": self._me,
                "publishPost": self._publish, "updatePost": self._update}

    def _me(self, info: Any) -> dict[str, Any]:
        user = info.context["user"]
        if user is None:  # no token at all (a wrong one was refused before)
            raise _error("UNAUTHENTICATED", "You must be logged in")
        return {"id": f"user-{user}", "username": user, "name": user, "email": f"{user}@example.com"}

    def _publication(self, info: Any, id: str | None = None, host: str | None = None) -> dict[str, Any] | None:
        pid = id or next((k for k, p in self.publications.items() if p["host"] == host), None)
        if pid is None or pid not in self.publications:
            return None
        pub = self.publications[pid]
        mine = [p for p in self.posts.values() if p["publication"] == pid]

        def post(info: Any, slug: str) -> dict[str, Any] | None:
            return next((self._view(p) for p in mine if p["slug"] == slug), None)

        def posts(info: Any, first: int, after: str | None = None, filter: Any = None) -> dict[str, Any]:
            if not 1 <= first <= 50:
                raise _error("BAD_USER_INPUT", "first must be between 1 and 50")
            ordered = sorted(mine, key=lambda p: p["n"], reverse=True)  # newest first
            start = int(after) if after and after.isdigit() else 0
            chunk = ordered[start:start + first]
            more = start + first < len(ordered)
            return {"edges": [{"node": self._view(p), "cursor": str(start + i + 1)} for i, p in enumerate(chunk)],
                    "pageInfo": {"hasNextPage": more, "endCursor": str(start + len(chunk)) if chunk else None},
                    "totalDocuments": len(ordered)}

        return {"id": pid, "title": pid, "url": f"https://{pub['host']}", "isTeam": False, "post": post,
                "posts": posts}

    def _post_by_id(self, info: Any, id: str) -> dict[str, Any] | None:
        post = self.posts.get(id)
        return self._view(post) if post else None

    def _writer(self, info: Any, publication: str) -> str:
        user = info.context["user"]
        if user is None:
            raise _error("UNAUTHENTICATED", "You must be logged in to do this")
        pub = self.publications.get(publication)
        if pub is None:
            raise _error("NOT_FOUND", "Publication not found")
        if user not in pub["members"]:
            raise _error("FORBIDDEN", "You are not allowed to publish to this publication")
        if not pub["pro"]:
            raise _error("FORBIDDEN", "Publication does not have an active Pro plan")
        return str(user)

    def _publish(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        user = self._writer(info, input["publicationId"])
        post: dict[str, Any] = {"publication": input["publicationId"], "author": user, "title": "",
                                "contentMarkdown": "", "slug": None, "tags": [], "coverImage": None,
                                "originalArticleURL": None, "publishedAt": _now(), "updatedAt": None}
        self._apply(post, input)
        n = next(self._ids)
        post["n"] = n
        post["id"] = f"{n:024x}"
        self.posts[post["id"]] = post
        return {"post": self._view(post)}

    def _update(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        existing = self.posts.get(str(input["id"]))
        if existing is None:
            raise _error("NOT_FOUND", "Post not found")
        self._writer(info, existing["publication"])
        post = dict(existing)
        self._apply(post, {k: v for k, v in input.items() if k != "id"})
        post["updatedAt"] = _now()
        self.posts[post["id"]] = post
        return {"post": self._view(post)}

    def _apply(self, post: dict[str, Any], given: dict[str, Any]) -> None:
        for key in ("title", "contentMarkdown", "coverImage", "originalArticleURL", "slug"):
            if given.get(key) is not None:
                post[key] = given[key]
        if given.get("tags") is not None:
            post["tags"] = given["tags"]
        if not post["title"].strip():
            raise _error("BAD_USER_INPUT", "Title is required")
        if not post["contentMarkdown"].strip():
            raise _error("BAD_USER_INPUT", "Content is required")
        if len(post["tags"]) > MAX_TAGS:
            raise _error("BAD_USER_INPUT", f"A post can have at most {MAX_TAGS} tags")
        for tag in post["tags"]:
            if not _SLUG.fullmatch(tag["slug"]):
                raise _error("BAD_USER_INPUT", f"Invalid tag slug {tag['slug']!r}")
        for key in ("coverImage", "originalArticleURL"):
            if post[key] is not None and not _URL.fullmatch(post[key]):
                raise _error("BAD_USER_INPUT", f"{key} must be a valid URL")
        if not post["slug"]:
            post["slug"] = re.sub(r"[^a-z0-9]+", "-", post["title"].lower()).strip("-")[:60] or "post"
        elif not _SLUG.fullmatch(post["slug"]):
            raise _error("BAD_USER_INPUT", f"Invalid slug {post['slug']!r}")
        for other in self.posts.values():
            if other["publication"] == post["publication"] and other["slug"] == post["slug"] \
                    and other.get("id") != post.get("id"):
                raise _error("BAD_USER_INPUT", "A post with this slug already exists in the publication")

    def _view(self, p: dict[str, Any]) -> dict[str, Any]:
        host = self.publications[p["publication"]]["host"]
        markdown = p["contentMarkdown"]
        return {
            "id": p["id"], "cuid": p["id"], "title": p["title"], "slug": p["slug"],
            "url": f"https://{host}/{p['slug']}", "canonicalUrl": p["originalArticleURL"],
            "content": {"markdown": markdown, "html": markdown, "text": markdown}, "brief": markdown[:150],
            "coverImage": {"url": p["coverImage"]} if p["coverImage"] else None,
            "tags": [{"id": t["slug"], "slug": t["slug"], "name": t.get("name") or t["slug"], "followersCount": 0,
                      "postsCount": 1} for t in p["tags"]],
            "publishedAt": p["publishedAt"], "updatedAt": p["updatedAt"], "reactionCount": 0, "responseCount": 0,
            "replyCount": 0, "readTimeInMinutes": 1,
            "author": {"id": p["author"], "username": p["author"], "name": p["author"], "followersCount": 0,
                       "followingsCount": 0},
        }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
