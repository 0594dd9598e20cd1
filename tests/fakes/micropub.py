"""A fake Micropub site (W3C Micropub, 2017-05-23, and micro.blog's documented behaviour).

Rules enforced, each from the spec unless marked:
- discovery (§5.3): `GET /` (the home page, optionally after a redirect) names
  the endpoint by `<link rel="micropub">` (`discovery="html"`, a relative href)
  or by a `Link` header (`discovery="header"`);
- auth (§4.1, §4.2): a Bearer token in `Authorization` *or* an `access_token`
  form field, never both (400 invalid_request); none: 401 unauthorized; an
  unknown token: 403 forbidden; a token without the action's scope (create,
  update, delete, media): 401 insufficient_scope;
- `GET ?q=config` (§3.7.1) gives `media-endpoint` and `syndicate-to`; `q=source`
  gives one post's properties (`url=`), or with no `url` the latest posts as
  `{"items": [...]}` (micro.blog's and Indiekit's list form, `limit`);
- create (§3.3.2 JSON): `type` is `["h-entry"]`; `properties` an object whose
  every value is a non-empty array; `content` holds strings or `{"html"}` /
  `{"value"}` objects; `photo` URLs or `{"value", "alt"}` objects of http(s)
  URLs; `name`, `summary`, `category`, `published` (ISO 8601) and `syndication`
  (http(s) URLs) arrays of strings; `mp-*` commands honoured (mp-slug). The answer
  is 201 Created (or 202 Accepted with `accepted="202"`) with `Location`;
- update (§3.4): `url` of an existing post, `replace`/`add` objects of arrays,
  `delete` an array of names or an object of arrays; 204 No Content;
- delete (§3.5): `url` of an existing post; 204; an unknown URL is 400
  invalid_request;
- media endpoint (§3.6): multipart with exactly one part, named `file`; 201
  (or 202 with `media_accepted="202"`) + `Location`;
- micro.blog: a post with no `name` longer than 300 characters of text (tags
  stripped) is counted in `truncated` (shown cut in the timeline).
Errors are `{"error": ..., "error_description": ...}` (§4.3).
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from itertools import count
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.server import FakeServer, Reply, Request

TOKEN = "micropub-test-token"
SCOPES = ("create", "update", "delete", "media")
_TAGS = re.compile(r"<[^>]+>")
_STRINGS = ("name", "summary", "category", "published", "syndication", "url")


class FakeMicropub(FakeServer):
    def __init__(self, *, discovery: str = "html", accepted: str = "201", media_accepted: str = "201",
                 redirect: bool = False, media: bool = True, listing: bool = True, config: bool = True,
                 list_syndication: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.discovery = discovery  # "html" | "header" | "none"
        self.accepted = accepted
        self.media_accepted = media_accepted
        self.redirect = redirect
        self.media = media  # False: q=config names no media endpoint
        self.listing = listing  # False: q=source without url is refused (servers without the list form)
        # False: q=source lists entries without `syndication` (a server that keeps only what it shows)
        self.list_syndication = list_syndication
        self.config = config  # False: q=config is refused (400), as by a server that implements no queries
        self.tokens: dict[str, tuple[str, ...]] = {TOKEN: SCOPES}
        self.posts: dict[str, dict[str, Any]] = {}  # url -> {"properties", "deleted"}
        self.files: dict[str, bytes] = {}
        self.truncated: list[str] = []
        self._ids = count(1)

    @property
    def site(self) -> str:
        return self.url + "/"

    @property
    def endpoint(self) -> str:
        return self.url + "/micropub"

    @property
    def live(self) -> list[dict[str, Any]]:
        return [p for p in self.posts.values() if not p["deleted"]]

    def error_body(self, status: int, message: str) -> Any:
        return {"error": "rate_limited" if status == 429 else "server_error", "error_description": message}

    @staticmethod
    def _err(status: int, error: str, description: str) -> Reply:
        return Reply(status, {"error": error, "error_description": description})

    # routes --------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        if request.method == "GET" and request.path in ("/", "/home"):
            return self._home(request)
        if request.path == "/micropub":
            return self._micropub(request)
        if request.path == "/media" and request.method == "POST":
            return self._media(request)
        if request.method == "GET" and request.path in self._paths():
            post = self._paths()[request.path]
            return Reply(410 if post["deleted"] else 200, b"<html><body class=h-entry></body></html>",
                         {"Content-Type": "text/html"})
        return self._err(404, "not_found", f"no route {request.method} {request.path}")

    def _paths(self) -> dict[str, dict[str, Any]]:
        return {urlsplit(u).path: p for u, p in self.posts.items()}

    def _home(self, request: Request) -> Reply:
        if self.redirect and request.path == "/":
            return Reply(302, b"", {"Location": "/home"})
        headers = {"Content-Type": "text/html; charset=utf-8"}
        head = '<meta charset="utf-8"><title>A site</title>'
        if self.discovery in ("header", "both"):
            headers["Link"] = '<https://webmention.example/wm>; rel="webmention", </micropub>; rel="micropub"'
        if self.discovery == "both":
            head += '<link rel="micropub" href="https://elsewhere.example/micropub">'
        elif self.discovery == "html":
            head += '<link rel="authorization_endpoint" href="https://indieauth.example/auth">' \
                    '<link rel="micropub" href="micropub">'
        return Reply(200, f"<!doctype html><html><head>{head}</head><body>Hi</body></html>".encode(), headers)

    def _auth(self, request: Request, form: dict[str, list[str]] | None, scope: str | None) -> Reply | None:
        header = request.headers.get("authorization", "")
        in_body = (form or {}).get("access_token")
        if header and in_body:
            return self._err(400, "invalid_request", "the token may not be both in the header and the body")
        token = header[7:] if header.startswith("Bearer ") else (in_body[0] if in_body else None)
        if not token:
            return self._err(401, "unauthorized", "No access token was provided in the request")
        if token not in self.tokens:
            return self._err(403, "forbidden", "The access token is not valid for this site")
        if scope is not None and scope not in self.tokens[token]:
            return self._err(401, "insufficient_scope", f"The token does not have the '{scope}' scope")
        return None

    def _micropub(self, request: Request) -> Reply:
        if request.method == "GET":
            refused = self._auth(request, None, None)
            if refused is not None:
                return refused
            q = request.param("q")
            if q == "config" and self.config:
                config: dict[str, Any] = {"syndicate-to": [{"uid": "https://social.example/@me", "name": "@me"}]}
                if self.media:
                    config["media-endpoint"] = "/media"  # relative: resolved against the endpoint
                return Reply(200, config)
            if q == "source":
                return self._source(request)
            return self._err(400, "invalid_request", f"unknown query {q!r}")
        if request.method != "POST":
            return self._err(405, "invalid_request", "use GET or POST")
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("application/json"):
            try:
                body = json.loads(request.body)
            except ValueError:
                return self._err(400, "invalid_request", "the body is not JSON")
            if not isinstance(body, dict):
                return self._err(400, "invalid_request", "the body is not a JSON object")
            refused = self._auth(request, None, _scope(body))
            if refused is not None:
                return refused
        elif ctype.startswith("application/x-www-form-urlencoded"):
            form = parse_qs(request.body.decode())
            refused = self._auth(request, form, "delete" if form.get("action") == ["delete"] else "create")
            if refused is not None:
                return refused
            return self._err(400, "invalid_request", "this fake takes JSON creates and updates only")
        else:
            return self._err(415, "invalid_request", f"unsupported content type {ctype!r}")
        action = body.get("action")
        if action is None:
            return self._create(body)
        if action == "update":
            return self._update(body)
        if action == "delete":
            return self._delete(body)
        return self._err(400, "invalid_request", f"unknown action {action!r}")

    def _source(self, request: Request) -> Reply:
        url = request.param("url")
        if url is not None:
            post = self.posts.get(url)
            if post is None or post["deleted"]:
                return self._err(400, "invalid_request", "no post at that URL")
            return Reply(200, {"type": ["h-entry"], "properties": post["properties"]})
        if not self.listing:
            return self._err(400, "invalid_request", "q=source needs a url")
        limit = int(request.param("limit") or "10")
        items = [{"type": ["h-entry"], "properties": {k: v for k, v in p["properties"].items()
                                                      if self.list_syndication or k != "syndication"}}
                 for p in reversed(self.live)][:limit]
        return Reply(200, {"items": items})

    # create, update, delete ---------------------------------------------------------------

    def _create(self, body: dict[str, Any]) -> Reply:
        if body.get("type") != ["h-entry"]:
            return self._err(400, "invalid_request", "type must be [\"h-entry\"]")
        props = body.get("properties")
        problem = _check_properties(props)
        if problem:
            return self._err(400, "invalid_request", problem)
        assert isinstance(props, dict)
        if not props.get("content") and not props.get("name") and not props.get("photo"):
            return self._err(400, "invalid_request", "a post needs content, a name or a photo")
        slug = (props.get("mp-slug") or [f"entry-{next(self._ids)}"])[0]
        path = f"/posts/{slug}"
        while self.url + path in self.posts:
            path = f"/posts/{slug}-{next(self._ids)}"
        url = self.url + path
        stored = {k: v for k, v in props.items() if not k.startswith("mp-")}
        stored["url"] = [url]
        self.posts[url] = {"properties": stored, "deleted": False}
        self._timeline(url)
        return Reply(202 if self.accepted == "202" else 201, b"", {"Location": path if self.accepted == "202" else url})

    def _timeline(self, url: str) -> None:
        props = self.posts[url]["properties"]
        if props.get("name"):
            return
        text = " ".join(_TAGS.sub("", str(c.get("html") if isinstance(c, dict) else c)) for c in props["content"])
        import html as _html

        if len(_html.unescape(text)) > 300:
            self.truncated.append(url)

    def _target(self, body: dict[str, Any]) -> tuple[str, dict[str, Any]] | Reply:
        url = body.get("url")
        if not isinstance(url, str):
            return self._err(400, "invalid_request", "url is required")
        post = self.posts.get(url)
        if post is None or post["deleted"]:
            return self._err(400, "invalid_request", f"no post at {url}")
        return url, post

    def _update(self, body: dict[str, Any]) -> Reply:
        found = self._target(body)
        if isinstance(found, Reply):
            return found
        url, post = found
        if not any(k in body for k in ("replace", "add", "delete")):
            return self._err(400, "invalid_request", "an update needs replace, add or delete")
        props = dict(post["properties"])
        for op in ("replace", "add"):
            if op not in body:
                continue
            values = body[op]
            problem = _check_properties(values)
            if problem:
                return self._err(400, "invalid_request", f"{op}: {problem}")
            for name, value in values.items():
                props[name] = list(value) if op == "replace" else [*props.get(name, []), *value]
        gone = body.get("delete")
        if gone is not None:
            if isinstance(gone, list) and all(isinstance(n, str) for n in gone):
                for name in gone:
                    props.pop(name, None)
            elif isinstance(gone, dict) and all(isinstance(v, list) for v in gone.values()):
                for name, values in gone.items():
                    props[name] = [v for v in props.get(name, []) if v not in values]
            else:
                return self._err(400, "invalid_request", "delete must be an array of names or an object of arrays")
        if "url" in props and props["url"] != [url]:
            return self._err(400, "invalid_request", "the url property cannot change")
        post["properties"] = props
        return Reply(204, b"")

    def _delete(self, body: dict[str, Any]) -> Reply:
        found = self._target(body)
        if isinstance(found, Reply):
            return found
        found[1]["deleted"] = True
        return Reply(204, b"")

    def _media(self, request: Request) -> Reply:
        refused = self._auth(request, None, "media")
        if refused is not None:
            return refused
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return self._err(400, "invalid_request", "the media endpoint takes multipart/form-data")
        parts = request.form()
        if list(parts) != ["file"]:
            return self._err(400, "invalid_request", "exactly one part, named file")
        filename, data = parts["file"]
        if not data:
            return self._err(400, "invalid_request", "the file is empty")
        url = f"{self.url}/media/{next(self._ids)}-{filename or 'file'}"
        self.files[url] = data
        return Reply(202 if self.media_accepted == "202" else 201, b"", {"Location": url})


def _scope(body: dict[str, Any]) -> str:
    action = body.get("action")
    return str(action) if action in ("update", "delete", "undelete") else "create"


def _http(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://")) and bool(urlsplit(value).netloc)


def _check_properties(props: Any) -> str | None:
    """Why `props` is not a Micropub JSON properties object, or None."""
    if not isinstance(props, dict) or not props:
        return "properties must be a non-empty object"
    for name, values in props.items():
        if not isinstance(values, list) or not values:
            return f"property {name} must be a non-empty array"
        if name in _STRINGS and not all(isinstance(v, str) and v.strip() for v in values):
            return f"property {name} must hold non-empty strings"
        if name == "content":
            for v in values:
                if isinstance(v, dict) and (set(v) - {"html", "value"} or not any(isinstance(x, str) for x in v.values())):
                    return "content objects hold html or value strings"
                if not isinstance(v, (str, dict)):
                    return "content holds strings or objects"
        if name == "photo":
            for v in values:
                if isinstance(v, dict):
                    if set(v) - {"value", "alt"} or not _http(v.get("value")):
                        return "photo objects are {value: an http(s) URL, alt}"
                    if "alt" in v and not isinstance(v["alt"], str):
                        return "photo alt must be a string"
                elif not _http(v):
                    return "photo values are http(s) URLs"
        if name == "syndication" and not all(_http(v) for v in values):
            return "syndication values are http(s) URLs"
        if name == "published":
            try:
                datetime.fromisoformat(values[0])
            except ValueError:
                return "published must be an ISO 8601 date"
        if name.startswith("mp-") and name not in ("mp-slug", "mp-syndicate-to", "mp-destination"):
            return f"unknown command {name}"
    return None
