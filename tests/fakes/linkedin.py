"""A fake LinkedIn API (api.linkedin.com, versioned /rest) that refuses what the real one refuses.

Rules (PLATFORMS.md §9; learn.microsoft.com/linkedin: posts-api, images-api, little-text-format,
comments, versioning; issue 15):
- every API call (/rest, /v2) needs `LinkedIn-Version: YYYYMM` and `X-Restli-Protocol-Version: 2.0.0`
  (400 VERSION_MISSING / 400 without the protocol); a version older than 12 months, or one not yet
  released, by the fake's own calendar (`today`, injected) answers 426 NONEXISTENT_VERSION;
- `Authorization: Bearer` with a known token (401 INVALID_ACCESS_TOKEN); the token's member may post
  as itself or as a page it administers (403 otherwise);
- POST /rest/posts: known fields only, URNs in their shapes, `lifecycleState` PUBLISHED, an article
  with `source` and `title` and, if any, an uploaded image URN as `thumbnail` (422 otherwise). The
  commentary is parsed as little text and STORED CUT at the first unescaped reserved character, as
  LinkedIn does silently (201 all the same); more than 3,000 visible characters is a 422. The id is
  the `x-restli-id` header;
- POST /rest/posts/{urn} with `X-RestLi-Method: PARTIAL_UPDATE` and {"patch": {"$set": {...}}}: only
  `commentary` may be set (422 otherwise); DELETE with `X-RestLi-Method: DELETE` (204, also when
  already deleted);
- POST /rest/images?action=initializeUpload, then PUT the bytes to the answered upload URL;
- POST/GET /rest/socialActions/{urn}/comments (reading a member's needs r_member_social: `readers`);
  GET /v2/userinfo; POST /oauth/v2/introspectToken (the OAuth host's, with the app's client id and
  secret: no version headers there);
- 150 posts a day per member (`rates`, when `time_scale` is set): 429 without Retry-After, as LinkedIn.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import parse_qs, unquote

import regex

from tests.fakes.server import FakeServer, Reply, Request

TODAY = date(2026, 12, 7)
RESERVED = "\\|{}@[]()<>#*_~"
TEXT_MAX = 3000
UPLOAD_MAX = 5 * 1024 * 1024
PERSON = regex.compile(r"^urn:li:person:[A-Za-z0-9_-]+$")
ORGANIZATION = regex.compile(r"^urn:li:organization:\d+$")
IMAGE = regex.compile(r"^urn:li:image:[A-Za-z0-9_-]+$")
POST_URN = regex.compile(r"^urn:li:(share|ugcPost):\d+$")
POST_FIELDS = {"author", "commentary", "visibility", "distribution", "content", "lifecycleState",
               "isReshareDisabledByAuthor", "contentLandingPage", "contentCallToActionLabel", "adContext",
               "container", "reshareContext"}
ARTICLE_FIELDS = {"source", "title", "description", "thumbnail", "thumbnailAltText"}
HASHTAG_OPEN = "{hashtag|\\#|"


def little(text: str) -> tuple[str, bool]:
    """The text a reader sees of a little-format commentary, and whether LinkedIn cut it there."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 < len(text) and text[i + 1] in RESERVED:
                out.append(text[i + 1])
                i += 2
                continue
            return "".join(out), True
        if text.startswith(HASHTAG_OPEN, i):
            name, end = _template_text(text, i + len(HASHTAG_OPEN))
            if name is None or not name:
                return "".join(out), True
            out.append("#" + name)
            i = end
            continue
        if c in RESERVED:
            return "".join(out), True
        out.append(c)
        i += 1
    return "".join(out), False


def _template_text(text: str, i: int) -> tuple[str | None, int]:
    out: list[str] = []
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] in RESERVED:
            out.append(text[i + 1])
            i += 2
        elif c == "}":
            return "".join(out), i + 1
        elif c in RESERVED:
            return None, i
        else:
            out.append(c)
            i += 1
    return None, i


class FakeLinkedIn(FakeServer):
    rates = {"create": (150, 86400)}

    def __init__(self, tokens: dict[str, str] | None = None, *, today: Callable[[], date] = lambda: TODAY,
                 admin_of: dict[str, set[str]] | None = None, readers: set[str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tokens = dict(tokens or {"li-test-token": "AbC123xyz"})  # token -> person id
        self.admin_of = admin_of if admin_of is not None else {"AbC123xyz": {"urn:li:organization:2414183"}}
        self.today = today
        self.readers = set(readers or ())  # tokens with r_member_social (a closed permission): none by default
        self.posts: dict[str, dict[str, Any]] = {}
        self.images: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, list[dict[str, Any]]] = {}
        self._ids = itertools.count(7_100_000_000_000_000_001)
        self.clients = {"li-client": "li-client-secret"}  # the app's client id -> secret (introspection)
        start = datetime.combine(TODAY, time(0, 0), UTC).timestamp()
        self.expires_at = {token: int(start) + 50 * 86400 for token in self.tokens}  # 10 days old of 60

    @property
    def live(self) -> list[dict[str, Any]]:
        return [p for p in self.posts.values() if not p["deleted"]]

    # the base's hooks -------------------------------------------------------------------------

    def account_of(self, request: Request) -> str:
        return self.tokens.get(self._bearer(request), "anonymous")

    def rate_kind(self, request: Request) -> str | None:
        return "create" if request.method == "POST" and request.path == "/rest/posts" else None

    def error_body(self, status: int, message: str) -> Any:
        return {"status": status, "message": message}

    def window_limited(self, retry_after: float, limit: int, reset: float) -> Reply:
        # LinkedIn sends no Retry-After: its daily limits reset at midnight UTC
        return Reply(429, {"status": 429, "message": "Resource level throttle MEMBER DAY limit for calls to this "
                                                     "resource is reached."})

    @staticmethod
    def _bearer(request: Request) -> str:
        auth = request.headers.get("authorization", "")
        return auth[7:] if auth.startswith("Bearer ") else ""

    def _err(self, status: int, message: str, code: str | None = None) -> Reply:
        body: dict[str, Any] = {"status": status, "message": message}
        if code:
            body["code"] = code
        return Reply(status, body)

    # routes -------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        path = request.path
        if request.method == "POST" and path == "/oauth/v2/introspectToken":
            return self._introspect(request)
        if request.method == "PUT" and path.startswith("/dms-uploads/"):
            return self._upload(request, path.rsplit("/", 1)[-1])
        refused = self._versioned(request)
        if refused is not None:
            return refused
        member = self.tokens.get(self._bearer(request))
        if member is None:
            return self._err(401, "Invalid access token", "INVALID_ACCESS_TOKEN")
        if path == "/v2/userinfo" and request.method == "GET":
            return Reply(200, {"sub": member, "name": "Ada Example", "email_verified": True})
        if path == "/rest/posts" and request.method == "POST":
            return self._create(request, member)
        if path == "/rest/images" and request.method == "POST" and request.param("action") == "initializeUpload":
            return self._initialize(request, member)
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[:2] == ["rest", "posts"]:
            return self._one_post(request, member, unquote(parts[2]))
        if len(parts) == 4 and parts[:2] == ["rest", "socialActions"] and parts[3] == "comments":
            return self._comments(request, member, unquote(parts[2]))
        return self._err(404, f"No route for {request.method} {path}", "RESOURCE_NOT_FOUND")

    def _introspect(self, request: Request) -> Reply:
        """www.linkedin.com/oauth/v2/introspectToken: the app's credentials and the token, form-encoded."""
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if self.clients.get(form.get("client_id", "")) != form.get("client_secret") or not form.get("client_secret"):
            return Reply(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
        token = form.get("token", "")
        if token not in self.tokens:
            return Reply(200, {"active": False, "status": "revoked"})
        expires = self.expires_at.get(token, 0)
        return Reply(200, {"active": True, "client_id": form["client_id"], "status": "active", "auth_type": "3L",
                           "authorized_at": expires - 60 * 86400, "created_at": expires - 60 * 86400,
                           "expires_at": expires, "scope": "openid,profile,w_member_social"})

    def _versioned(self, request: Request) -> Reply | None:
        version = request.headers.get("linkedin-version")
        if not version:
            return self._err(400, "A version must be present. Please specify a version by adding the "
                                  "LinkedIn-Version header.", "VERSION_MISSING")
        if request.headers.get("x-restli-protocol-version") != "2.0.0":
            return self._err(400, "The X-Restli-Protocol-Version header must be 2.0.0", "ILLEGAL_ARGUMENT")
        m = regex.match(r"^(\d{4})(\d{2})$", version)
        today = self.today()
        if m is None or not 1 <= int(m.group(2)) <= 12:
            return self._err(426, f"Requested version {version} is not active", "NONEXISTENT_VERSION")
        age = today.year * 12 + today.month - (int(m.group(1)) * 12 + int(m.group(2)))
        if not 0 <= age <= 12:
            return self._err(426, f"Requested version {version} is not active", "NONEXISTENT_VERSION")
        return None

    def _may_post_as(self, member: str, urn: Any) -> bool:
        if not isinstance(urn, str):
            return False
        return urn == f"urn:li:person:{member}" or urn in self.admin_of.get(member, set())

    def _may_read(self, request: Request, member: str, post: dict[str, Any]) -> bool:
        """A member's posts and comments need r_member_social; a page's, a role on the page."""
        if str(post["author"]).startswith("urn:li:organization:"):
            return post["author"] in self.admin_of.get(member, set())
        return self._bearer(request) in self.readers

    def _create(self, request: Request, member: str) -> Reply:
        try:
            body = request.json()
        except ValueError:
            return self._err(400, "Malformed JSON body")
        if not isinstance(body, dict):
            return self._err(400, "The body must be an object")
        unknown = sorted(set(body) - POST_FIELDS)
        if unknown:
            return self._err(422, f"Unrecognized field /{unknown[0]}", "UNPROCESSABLE_ENTITY")
        author = body.get("author")
        if not isinstance(author, str) or not (PERSON.match(author) or ORGANIZATION.match(author)):
            return self._err(422, f"/author: {author!r} is not a person or organization URN")
        if not self._may_post_as(member, author):
            return self._err(403, f"Not enough permissions to post as {author}", "ACCESS_DENIED")
        if body.get("lifecycleState") != "PUBLISHED":
            return self._err(422, "/lifecycleState must be PUBLISHED")
        visibility = body.get("visibility")
        if visibility not in ("PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER"):
            return self._err(422, f"/visibility: {visibility!r} is not a Visibility")
        if visibility == "CONNECTIONS" and not author.startswith("urn:li:person:"):
            return self._err(422, "/visibility CONNECTIONS is only for a person")
        distribution = body.get("distribution")
        if not isinstance(distribution, dict) or distribution.get("feedDistribution") not in ("MAIN_FEED", "NONE"):
            return self._err(422, "/distribution/feedDistribution is required (MAIN_FEED or NONE)")
        raw = body.get("commentary", "")
        if not isinstance(raw, str):
            return self._err(422, "/commentary must be a string")
        text, cut = little(raw)
        if len(text) > TEXT_MAX:
            return self._err(422, f"/commentary: {len(text)} characters, at most {TEXT_MAX}")
        article = None
        content = body.get("content")
        if content is not None:
            if not isinstance(content, dict) or set(content) != {"article"}:
                return self._err(422, "/content: this fake takes an article")
            article = content["article"]
            refused = self._article(article, author)
            if refused is not None:
                return refused
        urn = f"urn:li:share:{next(self._ids)}"
        self.posts[urn] = {"id": urn, "author": author, "member": member, "commentary": raw, "text": text,
                           "cut": cut, "visibility": visibility, "article": article, "deleted": False,
                           "edits": 0}
        return Reply(201, b"", {"x-restli-id": urn, "x-linkedin-id": urn})

    def _article(self, article: Any, author: str) -> Reply | None:
        if not isinstance(article, dict):
            return self._err(422, "/content/article must be an object")
        unknown = sorted(set(article) - ARTICLE_FIELDS)
        if unknown:
            return self._err(422, f"Unrecognized field /content/article/{unknown[0]}")
        source = article.get("source")
        if not isinstance(source, str) or not source.startswith(("http://", "https://")):
            return self._err(422, "/content/article/source must be a URL")
        if not isinstance(article.get("title"), str) or not article["title"].strip():
            return self._err(422, "/content/article/title is required (the API scrapes nothing)")
        thumbnail = article.get("thumbnail")
        if thumbnail is not None:
            image = self.images.get(str(thumbnail))
            if not isinstance(thumbnail, str) or not IMAGE.match(thumbnail):
                return self._err(422, f"/content/article/thumbnail: {thumbnail!r} is not an image URN")
            if image is None or image["owner"] != author or image["status"] != "AVAILABLE":
                return self._err(422, f"/content/article/thumbnail: image {thumbnail} is not AVAILABLE for {author}")
        return None

    def _one_post(self, request: Request, member: str, urn: str) -> Reply:
        if not POST_URN.match(urn):
            return self._err(400, f"{urn!r} is not a post URN", "ILLEGAL_ARGUMENT")
        post = self.posts.get(urn)
        method = request.headers.get("x-restli-method", "").upper()
        if request.method == "DELETE":
            if method != "DELETE":
                return self._err(400, "X-RestLi-Method: DELETE is required")
            if post is not None and not self._may_post_as(member, post["author"]):
                return self._err(403, "Not enough permissions to delete this post", "ACCESS_DENIED")
            if post is not None:
                post["deleted"] = True
            return Reply(204, b"")
        if post is None or post["deleted"]:
            return self._err(404, f"Post {urn} does not exist", "RESOURCE_NOT_FOUND")
        if request.method == "GET":
            if not self._may_read(request, member, post):
                return self._err(403, f"Not enough permissions to access: GET /posts/{urn}", "ACCESS_DENIED")
            return Reply(200, {"id": urn, "author": post["author"], "commentary": post["commentary"],
                               "lifecycleState": "PUBLISHED"})
        if request.method != "POST" or method != "PARTIAL_UPDATE":
            return self._err(405, "Use POST with X-RestLi-Method: PARTIAL_UPDATE")
        if not self._may_post_as(member, post["author"]):
            return self._err(403, "Not enough permissions to update this post", "ACCESS_DENIED")
        try:
            body = request.json()
        except ValueError:
            return self._err(400, "Malformed JSON body")
        patch = body.get("patch") if isinstance(body, dict) else None
        if not isinstance(patch, dict) or set(patch) != {"$set"} or not isinstance(patch["$set"], dict):
            return self._err(422, 'The body must be {"patch": {"$set": {...}}}')
        fields = set(patch["$set"])
        if not fields or fields - {"commentary"}:
            return self._err(422, f"Only commentary can be updated, not {sorted(fields - {'commentary'})}")
        raw = patch["$set"]["commentary"]
        if not isinstance(raw, str):
            return self._err(422, "/commentary must be a string")
        text, cut = little(raw)
        if len(text) > TEXT_MAX:
            return self._err(422, f"/commentary: {len(text)} characters, at most {TEXT_MAX}")
        post.update(commentary=raw, text=text, cut=cut, edits=post["edits"] + 1)
        return Reply(204, b"")

    def _initialize(self, request: Request, member: str) -> Reply:
        body = request.json()
        owner = ((body or {}).get("initializeUploadRequest") or {}).get("owner") if isinstance(body, dict) else None
        if not isinstance(owner, str) or not (PERSON.match(owner) or ORGANIZATION.match(owner)):
            return self._err(422, "/initializeUploadRequest/owner must be a person or organization URN")
        if not self._may_post_as(member, owner):
            return self._err(403, f"Not enough permissions to upload for {owner}", "ACCESS_DENIED")
        n = next(self._ids)
        urn, token = f"urn:li:image:D4E10AQ{n}", f"up{n}"
        self.images[urn] = {"owner": owner, "status": "WAITING_UPLOAD", "token": token, "size": 0}
        return Reply(200, {"value": {"uploadUrlExpiresAt": 1_900_000_000_000, "image": urn,
                                     "uploadUrl": f"{self.url}/dms-uploads/{token}"}})

    def _upload(self, request: Request, token: str) -> Reply:
        if self._bearer(request) not in self.tokens:
            return self._err(401, "Invalid access token", "INVALID_ACCESS_TOKEN")
        image = next((i for i in self.images.values() if i["token"] == token), None)
        if image is None or image["status"] != "WAITING_UPLOAD":
            return self._err(400, "The upload URL is unknown or used")
        if not request.body or len(request.body) > UPLOAD_MAX:
            return self._err(400, f"An image of 1 to {UPLOAD_MAX} bytes")
        image.update(status="AVAILABLE", size=len(request.body))
        return Reply(201, b"")

    def _comments(self, request: Request, member: str, urn: str) -> Reply:
        post = self.posts.get(urn)
        if post is None or post["deleted"]:
            return self._err(404, f"Post {urn} does not exist", "RESOURCE_NOT_FOUND")
        found = self.comments.setdefault(urn, [])
        if request.method == "GET":
            if not self._may_read(request, member, post):
                return self._err(403, f"Not enough permissions to access: GET /socialActions/{urn}/comments",
                                 "ACCESS_DENIED")
            return Reply(200, {"elements": found, "paging": {"count": len(found), "start": 0}})
        if request.method != "POST":
            return self._err(405, "Method not allowed")
        body = request.json()
        if not isinstance(body, dict) or body.get("object") != urn:
            return self._err(422, "/object must be the post's URN")
        if not self._may_post_as(member, body.get("actor")):
            return self._err(403, "Not enough permissions to comment as that actor", "ACCESS_DENIED")
        message = body.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("text"), str) or not message["text"]:
            return self._err(422, "/message/text is required")
        text, cut = little(message["text"])
        cid = f"urn:li:comment:({urn},{next(self._ids)})"
        found.append({"id": cid, "actor": body["actor"], "object": urn, "message": {"text": message["text"]},
                      "shown": text, "cut": cut})
        return Reply(201, {"id": cid}, {"x-restli-id": cid})
