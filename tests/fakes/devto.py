"""A fake Forem (dev.to) API v1 that enforces the documented rules and errors.

Rules from PLATFORMS.md §1 and specs/forem/api_v1.json: `api-key` header
(401), the v1 `Accept` header (real Forem falls back to v0 without it; the
fake answers 406 so a client that forgets it fails), request bodies valid
against the `Article` schema (plus: unknown keys refused, where Rails would
silently drop them), title ≤ 128, at most 4 alphanumeric tags, a unique
canonical_url and body per user, and no Liquid outside code but Forem's own
tags (forem/forem#14028, #6673). Rates: 10 creates and 30 updates per 30 s.
"""
from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import jsonschema
from markdown_it import MarkdownIt

from tests.fakes.server import FakeServer, Reply, Request
from tests.paths import SHARED

SPEC = SHARED / "specs" / "forem" / "api_v1.json"
ACCEPT = "application/vnd.forem.api-v1+json"
KNOWN_TAGS = {
    "embed", "youtube", "vimeo", "gist", "github", "twitter", "tweet", "codepen", "codesandbox", "jsfiddle",
    "stackblitz", "replit", "glitch", "instagram", "speakerdeck", "slideshare", "spotify", "soundcloud",
    "twitch", "asciinema", "katex", "details", "spoiler", "collapsible", "link", "post", "user", "tag",
    "podcast", "dotnetfiddle", "kotlin", "runkit", "wikipedia", "reddit", "medium", "stackexchange",
}  # raw…endraw blocks are removed before the check; a stray one is an error
# Forem protects code spans before Liquid runs, and Liquid keeps raw blocks:
# one left-to-right pass, the leftmost of the two wins.
_PROTECTED = re.compile(
    r"\{%-?\s*raw\s*-?%\}[\s\S]*?\{%-?\s*endraw\s*-?%\}"
    r"|(?<!`)(`+)(?!`)(?:(?!\n[ \t]*\n)[\s\S])*?(?<!`)\1(?!`)"  # a code span stays in its paragraph
)
_TAG = re.compile(r"\{%-?\s*(\w*)")
_MD = MarkdownIt("commonmark")


def _nullable(schema: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` → JSON Schema type lists, recursively."""
    if isinstance(schema, dict):
        out = {k: _nullable(v) for k, v in schema.items() if k != "nullable"}
        if schema.get("nullable") and "type" in out:
            out["type"] = [out["type"], "null"]
        return out
    if isinstance(schema, list):
        return [_nullable(v) for v in schema]
    return schema


@lru_cache(maxsize=1)
def article_validator() -> jsonschema.Draft7Validator:
    schema = _nullable(copy.deepcopy(json.loads(SPEC.read_text())["components"]["schemas"]["Article"]))
    schema["additionalProperties"] = False
    schema["required"] = ["article"]
    schema["properties"]["article"]["additionalProperties"] = False
    return jsonschema.Draft7Validator(schema)


def liquid_error(body: str) -> str | None:
    """Why Forem's Liquid pass would fail `body`, or None."""
    if "{%" not in body and "{{" not in body:
        return None
    lines = body.splitlines(keepends=True)
    code: set[int] = set()
    for token in _MD.parse(body):
        if token.type in ("fence", "code_block") and token.map:
            code.update(range(*token.map))
    text = "".join(line for i, line in enumerate(lines) if i not in code)
    text = _PROTECTED.sub("", text)
    for m in _TAG.finditer(text):
        name = m.group(1)
        if not name:
            return "Liquid syntax error: Tag '{%' was not properly terminated"
        if name not in KNOWN_TAGS and not (name.startswith("end") and name[3:] in KNOWN_TAGS - {"raw"}):
            return f"Liquid syntax error: Unknown tag '{name}'"
    if "{{" in text:
        return "Liquid syntax error: Liquid variables are disabled"
    return None


class FakeDevTo(FakeServer):
    rates = {"create": (10, 30), "update": (30, 30)}

    def __init__(self, keys: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.keys = keys or {"devto-test-key": "alice"}  # api key -> username
        self.articles: dict[int, dict[str, Any]] = {}
        self._next_id = 1000

    # helpers ---------------------------------------------------------------------

    def account_of(self, request: Request) -> str:
        return request.headers.get("api-key", "anonymous")

    def rate_kind(self, request: Request) -> str | None:
        if request.method == "POST" and request.path == "/api/articles":
            return "create"
        if request.method == "PUT" and request.path.startswith("/api/articles/"):
            return "update"
        return None

    def _err(self, status: int, message: str) -> Reply:
        return Reply(status, self.error_body(status, message))

    def _view(self, a: dict[str, Any], *, index: bool = False) -> dict[str, Any]:
        tags = list(a["tags"])
        return {
            "type_of": "article", "id": a["id"], "title": a["title"], "description": a["description"],
            "slug": a["slug"], "path": f"/{a['user']}/{a['slug']}", "url": f"{self.url}/{a['user']}/{a['slug']}",
            "canonical_url": a["canonical_url"], "published": a["published"], "published_at": a["published_at"],
            "published_timestamp": a["published_at"] or "", "created_at": a["created_at"], "edited_at": a["edited_at"],
            "cover_image": a["main_image"], "body_markdown": a["body_markdown"], "series": a["series"],
            "tag_list": tags if index else ", ".join(tags), "tags": ", ".join(tags) if index else tags,
            "user": {"username": a["user"], "name": a["user"]},
        }

    # routes ------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        if not request.path.startswith("/api/"):
            return self._err(404, "not found")
        user = self.keys.get(request.headers.get("api-key", ""))
        if user is None:
            return self._err(401, "unauthorized")
        if ACCEPT not in request.headers.get("accept", ""):
            return self._err(406, f"this API needs the header Accept: {ACCEPT}")
        path = request.path[len("/api"):]
        if path == "/articles" and request.method == "POST":
            return self._write(request, user, None)
        if path == "/articles/me/all" and request.method == "GET":
            return self._mine(request, user)
        m = re.fullmatch(r"/articles/(\d+)", path)
        if m:
            article = self.articles.get(int(m.group(1)))
            if article is None or (article["user"] != user and request.method != "GET"):
                return self._err(404, "not found")
            if request.method == "PUT":
                return self._write(request, user, article)
            if request.method == "GET" and article["published"]:
                return Reply(200, self._view(article))
            return self._err(404, "not found")
        return self._err(404, "not found")

    def _mine(self, request: Request, user: str) -> Reply:
        try:
            page = int(request.param("page", "1") or 1)
            per_page = int(request.param("per_page", "30") or 30)
        except ValueError:
            return self._err(400, "page and per_page must be integers")
        if page < 1 or not 1 <= per_page <= 1000:
            return self._err(400, "per_page must be 1..1000 and page ≥ 1")
        mine = [a for a in self.articles.values() if a["user"] == user]
        # unpublished first (newest created first), then published (newest first)
        unpublished = sorted((a for a in mine if not a["published"]), key=lambda a: -a["id"])
        published = sorted((a for a in mine if a["published"]), key=lambda a: (a["published_at"], a["id"]), reverse=True)
        ordered = unpublished + published
        chunk = ordered[(page - 1) * per_page : page * per_page]
        return Reply(200, [self._view(a, index=True) for a in chunk])

    def _write(self, request: Request, user: str, existing: dict[str, Any] | None) -> Reply:
        try:
            body = request.json()
        except ValueError:
            return self._err(400, "the request body is not valid JSON")
        if not isinstance(body, dict) or not isinstance(body.get("article"), dict):
            return self._err(422, "param is missing or the value is empty: article")
        errors = sorted(article_validator().iter_errors(body), key=lambda e: list(e.path))
        if errors:
            where = "/".join(str(p) for p in errors[0].path) or "body"
            return self._err(422, f"{where}: {errors[0].message}")
        fields = body["article"]
        article = dict(existing) if existing else {
            "id": None, "user": user, "title": "", "body_markdown": "", "published": False, "description": "",
            "canonical_url": None, "tags": [], "series": None, "main_image": None, "published_at": None,
            "created_at": _now(), "edited_at": None, "slug": "",
        }
        for key in ("title", "body_markdown", "published", "description", "canonical_url", "series", "main_image"):
            if key in fields:
                article[key] = fields[key]
        if "tags" in fields:
            article["tags"] = [t.strip() for t in fields["tags"].split(",") if t.strip()]
        problem = self._validate(article, user)
        if problem:
            return self._err(422, problem)
        if article["published"] and not article["published_at"]:
            article["published_at"] = _now()
        if existing is None:
            self._next_id += 1
            article["id"] = self._next_id
            slug = re.sub(r"[^a-z0-9]+", "-", article["title"].lower()).strip("-")[:60] or "post"
            article["slug"] = f"{slug}-{self._next_id:x}"
        else:
            article["edited_at"] = _now()
        self.articles[article["id"]] = article
        return Reply(201 if existing is None else 200, self._view(article))

    def _validate(self, a: dict[str, Any], user: str) -> str | None:
        if not a["title"].strip():
            return "Title can't be blank"
        if len(a["title"]) > 128:
            return "Title is too long (maximum is 128 characters)"
        if len(a["tags"]) > 4:
            return "Tag list exceed the maximum of 4 tags"
        for tag in a["tags"]:
            if not (tag.isascii() and tag.isalnum()):
                return f'Tag "{tag}" contains non-alphanumeric or prohibited unicode characters'
        for key, label in (("canonical_url", "Canonical url"), ("main_image", "Main image")):
            if a[key] and not re.match(r"https?://[^\s/]+", a[key]):
                return f"{label} must be a valid URL"
        error = liquid_error(a["body_markdown"])
        if error:
            return error
        for other in self.articles.values():
            if other["user"] != user or other["id"] == a["id"]:
                continue
            if a["canonical_url"] and other["canonical_url"] == a["canonical_url"]:
                return "Canonical url has already been taken"
            if other["title"] == a["title"] and other["body_markdown"] == a["body_markdown"]:
                return "Body markdown has already been taken"
        return None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
