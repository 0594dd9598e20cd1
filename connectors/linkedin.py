"""LinkedIn: each post shared by a member or an organization page, as an article share (Posts API).

API: learn.microsoft.com/linkedin/marketing/community-management/shares/posts-api (create, partial
update, delete), images-api (initializeUpload, then PUT the bytes), little-text-format, comments
(socialActions/{urn}/comments) and /versioning; PLATFORMS.md §9 and issue 15.

Every call carries `LinkedIn-Version: YYYYMM` and `X-Restli-Protocol-Version: 2.0.0`. LinkedIn
sunsets a version about a year after its release and then answers 426 NONEXISTENT_VERSION: that is
a permanent error naming the `version` key, and `notices` warns a month ahead.

A post is an article share: `content.article` holds the canonical URL (`source`), the title, the
excerpt and the cover, uploaded through the Images API, as `thumbnail` (LinkedIn scrapes nothing for
an API post). The new post's URN is the `x-restli-id` header. With `link = "first_comment"` the post
is the text alone and the link goes in the first comment: the post's URN is kept in the intent before
the comment, so a retry comments and never posts twice. Only the commentary of a post can be edited
(PARTIAL_UPDATE), so the commentary carries the title. The commentary is little text (see
connectors/linkedin_text.py), fitted to 3,000 characters as the reader sees it.
"""
from __future__ import annotations

import hashlib
import logging
import time as _time
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

import regex
from pydantic import Field, field_validator, model_validator

from connectors.linkedin_text import commentary, link_text
from syndicate.auth import Bearer
from syndicate.config import HttpUrl, Secret, TargetOptions
from syndicate.content.text import truncate
from syndicate.contract import (
    Abilities,
    AuthFailed,
    Connector,
    ConnectorError,
    Draft,
    Facts,
    Limits,
    MediaItem,
    MediaPolicy,
    Notice,
    OutcomeUnknown,
    Part,
    Permanent,
    RateLimit,
    RateLimited,
    Remote,
    Request,
    SendContext,
    TagRules,
    TextLimit,
    Transient,
    raise_for_status,
    retry_after_from,
)
from syndicate.engine.social import DEFAULT, FIELDS, checked, plain, social_template

if TYPE_CHECKING:
    import httpx

    from syndicate.content.post import Post
    from syndicate.contract import FittedMedia

log = logging.getLogger(__name__)

DEFAULT_BASE = "https://api.linkedin.com"
# the latest monthly version when this was written (December 2026); versions live about 12 months
DEFAULT_VERSION = "202611"
PROTOCOL = "2.0.0"
POSTS = "/rest/posts"
POST = "/rest/posts/{urn}"
IMAGES = "/rest/images"
COMMENTS = "/rest/socialActions/{urn}/comments"
INTROSPECT = "/oauth/v2/introspectToken"  # on the OAuth host (`oauth_url`), with the app's credentials
USERINFO = "/v2/userinfo"  # OpenID Connect: the cheapest authenticated read (see build_verify)
FEED = "https://www.linkedin.com/feed/update/{urn}/"
DEFAULT_TEMPLATE = DEFAULT  # "{title}\n\n{excerpt}\n\n{url}\n\n{hashtags}": the title too, as edits only reach it
TEXT_MAX = 3000
# article fields: no limit documented in what we saw; kept short, as LinkedIn's card shows them
TITLE_MAX = 400
DESCRIPTION_MAX = 1000
SUNSET_MONTHS = 12  # /versioning: "each version ... supported for a minimum of one year"
WARN_MONTHS = 11  # `status` warns a month before that
TOKEN_WARN_DAYS = 7  # a member token lives 60 days (no refresh token outside LinkedIn's partner programs)
_PERSON = regex.compile(r"^urn:li:person:[A-Za-z0-9_-]+$")
_ORGANIZATION = regex.compile(r"^urn:li:organization:\d+$")
_VERSION = regex.compile(r"^(20\d\d)(0[1-9]|1[0-2])$")
_HASHTAGS = TagRules(style="hashtag")


def _months(version: str) -> int:
    m = _VERSION.match(version)
    if m is None:
        raise ValueError(version)
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


class LinkedInOptions(TargetOptions):
    base_url: HttpUrl = Field(default=DEFAULT_BASE, description="The LinkedIn API host.")
    access_token: Secret = Field(description="A member access token with w_member_social (a person) or "
                                 "w_organization_social (a page); it lives 60 days.")
    author: str = Field(description='Who posts: "urn:li:person:ID" or "urn:li:organization:ID".')
    version: str = Field(default=DEFAULT_VERSION, description="The API version, YYYYMM (LinkedIn-Version); "
                         "LinkedIn sunsets a version about a year after its release.")
    template: str = Field(default=DEFAULT_TEMPLATE, description="The commentary, from {title} {excerpt} {url} "
                          "{hashtags}; it holds the title, as an edit can only change the commentary.")
    link: Literal["article", "first_comment"] = Field(
        default="article", description="article: the post is an article card; first_comment: the text alone, "
                                       "and the link in the first comment.")
    visibility: Literal["PUBLIC", "CONNECTIONS", "LOGGED_IN"] = Field(default="PUBLIC",
                                                                      description="Who sees the post.")
    token_expires: date | None = Field(default=None, description="The day the access token expires (60 days "
                                       "after it was made), for `status` to warn 7 days ahead.")
    client_id: str | None = Field(default=None, description="The app's client id: with client_secret, the token's "
                                  "expiry is learnt from LinkedIn's token introspection.")
    client_secret: Secret | None = Field(default=None, description="The app's client secret (token introspection).")
    oauth_url: HttpUrl = Field(default="https://www.linkedin.com", description="The LinkedIn OAuth host.")

    @field_validator("template")
    @classmethod
    def _template(cls, value: str) -> str:
        return checked(value)

    @field_validator("author")
    @classmethod
    def _author(cls, value: str) -> str:
        if not (_PERSON.match(value) or _ORGANIZATION.match(value)):
            raise ValueError('a person or organization URN: "urn:li:person:AbC123xyz" (the `sub` of /v2/userinfo) '
                             'or "urn:li:organization:2414183" (the number in the page admin URL)')
        return value

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        value = str(value).strip()
        if not _VERSION.match(value) or _months(value) < _months("202206"):
            raise ValueError(f'a version as YYYYMM, e.g. "{DEFAULT_VERSION}" (versioned APIs began with 202206)')
        return value

    @model_validator(mode="after")
    def _client(self) -> LinkedInOptions:
        if bool(self.client_id) != bool(self.client_secret):
            raise ValueError("client_id and client_secret go together (token introspection)")
        return self

    @model_validator(mode="after")
    def _audience(self) -> LinkedInOptions:
        if self.visibility == "CONNECTIONS" and self.author.startswith("urn:li:organization:"):
            raise ValueError('visibility = "CONNECTIONS" is for a person: a page posts PUBLIC or LOGGED_IN')
        return self


class LinkedIn(Connector):
    """Article shares on a LinkedIn profile or page, through the versioned Posts API."""

    type = "linkedin"
    options = LinkedInOptions
    auth = Bearer("access_token")
    limits = Limits(
        text=TextLimit(TEXT_MAX, "characters"),  # counted as the reader sees it, before escaping
        title_max=TITLE_MAX,
        tags=_HASHTAGS,
        # Images API: JPG, GIF, PNG under 36,152,320 pixels; 5 MB (third-party, PLATFORMS.md §9 e)
        media=MediaPolicy(max_bytes=5 * 1024 * 1024, max_pixels=36_152_319, formats=("jpeg", "png", "gif"),
                          max_count=1),
        # Share on LinkedIn: 150 member posts a day (developer portal figure; an app may see less: rate_limits)
        rates=(RateLimit("create", 150, 86400),),
        template=DEFAULT_TEMPLATE,
        template_fields=FIELDS,
    )
    abilities = Abilities(
        can_update=True,  # PARTIAL_UPDATE of the commentary, at any age
        delete="delete",
        can_find=False,  # listing a member's posts needs r_member_social, a closed permission
        find_hint="look at the recent activity of the profile or page on linkedin.com; if the post is there, "
                  "`syndicate resolve --url` with its link (… > Copy link to post)",
    )

    _warned = False

    def _url(self, path: str, **names: str) -> str:
        return self.base + path.format(**{k: quote(v, safe="") for k, v in names.items()})

    def _headers(self, **extra: str) -> dict[str, str]:
        return {"LinkedIn-Version": str(self.option("version", DEFAULT_VERSION)),
                "X-Restli-Protocol-Version": PROTOCOL, **extra}

    def _request(self, method: str, url: str, **kwargs: Any) -> Request:
        headers = self._headers(**kwargs.pop("headers", {}))
        return Request(method, url, headers=headers, **kwargs)

    # --- pure -------------------------------------------------------------------------------------

    def render(self, post: Post, facts: Facts | None = None) -> Draft:
        over = post.control.override(self.name, self.type)
        mode = over.get("link") or self.option("link", "article")
        if mode not in ("article", "first_comment"):
            mode = "article"
        # first_comment: the link stays out of the text (the comment carries it)
        template = social_template(post, self, _HASHTAGS, DEFAULT_TEMPLATE, link=mode == "article")
        fields: dict[str, Any] = {}
        media: list[MediaItem] = []
        if mode == "article":
            article = {"source": post.url,
                       "title": truncate(plain(str(over.get("title") or post.title)) or post.url, TITLE_MAX,
                                         "characters")}
            description = plain(str(over.get("description") or post.excerpt))
            if description:
                article["description"] = truncate(description, DESCRIPTION_MAX, "characters")
            fields["article"] = article
            cover = post.cover
            if cover is not None and (cover.url or cover.src):
                media.append(MediaItem("cover", str(cover.url or cover.src), cover.alt, cover.path))
        else:
            fields["comment"] = post.url
        return Draft(self.type, fields=fields, parts=[Part(template=template, media=media)])

    def build_create(self, draft: Draft, key: str, ctx: SendContext) -> Request:
        part = draft.parts[ctx.part]
        body: dict[str, Any] = {
            "author": self.option("author"),
            "commentary": commentary(part.text or ""),
            "visibility": self.option("visibility", "PUBLIC"),
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                             "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        article = draft.fields.get("article")
        if article:
            content = dict(article)
            image = next((m for m in part.media if m.source in ctx.media), None)
            if image is not None:
                content["thumbnail"] = ctx.media[image.source]
            body["content"] = {"article": content}
        return self._request("POST", self._url(POSTS), json=body, kind="create", idempotent=False)

    def preview_create(self, draft: Draft, key: str, ctx: SendContext) -> list[Request]:
        """The post, then its comment; an uploaded cover shows as "<upload: ...>" in `thumbnail`."""
        shown = [self.build_create(draft, key, ctx)]
        if "comment" in draft.fields:
            shown.append(self._comment_request("<post urn>", str(draft.fields["comment"])))
        return shown

    def build_update(self, remote: Remote, draft: Draft, ctx: SendContext) -> Request:
        """Only the commentary can change (PARTIAL_UPDATE): the article card stays as it was made."""
        text = commentary(draft.parts[0].text or "") if draft.parts else ""
        return self._request("POST", self._url(POST, urn=str(remote.id)),
                             headers={"X-RestLi-Method": "PARTIAL_UPDATE"},
                             json={"patch": {"$set": {"commentary": text}}}, kind="update")

    def build_delete(self, remote: Remote) -> Request:
        return self._request("DELETE", self._url(POST, urn=str(remote.id)), headers={"X-RestLi-Method": "DELETE"},
                             kind="delete")

    def build_verify(self) -> Request:
        """GET /v2/userinfo: one read with no side effect and no post quota, for any token with `openid`."""
        return self._request("GET", self._url(USERINFO), kind="read")

    def parse_remote(self, response: httpx.Response, ctx: SendContext) -> Remote:
        urn = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id")
        if not urn:
            raise KeyError("x-restli-id")
        return Remote(urn, FEED.format(urn=urn))

    def _init_request(self) -> Request:
        return self._request("POST", self._url(IMAGES), params={"action": "initializeUpload"},
                             json={"initializeUploadRequest": {"owner": self.option("author")}}, kind="media")

    def _comment_request(self, urn: str, link: str) -> Request:
        body = {"actor": self.option("author"), "object": urn, "message": {"text": link_text(link)}}
        return self._request("POST", self._url(COMMENTS, urn=urn), json=body, kind="comment", idempotent=False)

    # --- facts: the token's expiry, from LinkedIn's token introspection ------------------------------

    def facts_scope(self) -> str:
        value = self.option("access_token")
        token = value.reveal() if isinstance(value, Secret) else str(value or "")
        return f"{self.type} {self.base} {hashlib.sha256(token.encode()).hexdigest()[:12]}"

    def fetch_facts(self) -> Facts | None:
        """POST /oauth/v2/introspectToken (client_id, client_secret, token): when the token expires."""
        secret = self.option("client_secret")
        client_secret = secret.reveal() if isinstance(secret, Secret) else ""
        if not self.option("client_id") or not client_secret:
            return None
        value = self.option("access_token")
        token = value.reveal() if isinstance(value, Secret) else ""
        if not token:
            return None
        import httpx

        url = str(self.option("oauth_url") or "https://www.linkedin.com").rstrip("/") + INTROSPECT
        try:  # sent as it is, not through `send`: the app's credentials are the authentication
            response = self.http.post(url, data={"client_id": str(self.option("client_id")),
                                                 "client_secret": client_secret, "token": token})
        except httpx.HTTPError as exc:
            raise Transient(f"{self.name}: token introspection: no answer ({type(exc).__name__})") from None
        if response.status_code in (400, 401, 403):
            raise AuthFailed(f"{self.name}: token introspection refused (HTTP {response.status_code}): "
                             "check client_id and client_secret")
        if response.status_code >= 300:
            raise Transient(f"{self.name}: token introspection answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise Transient(f"{self.name}: token introspection answered no JSON") from None
        if not isinstance(body, dict):
            return None
        if body.get("active") is False:
            return {"token_active": False}
        expires = body.get("expires_at")
        return {"token_active": True, "token_expires_at": float(expires)} if isinstance(expires, int | float) else None

    # --- I/O --------------------------------------------------------------------------------------

    def upload(self, item: MediaItem, fitted: FittedMedia) -> str:
        """initializeUpload for the author, then PUT the bytes to the upload URL: the image URN."""
        answer = self.send(self._init_request())
        try:
            value = answer.json()["value"]
            upload_url, image = str(value["uploadUrl"]), str(value["image"])
        except (ValueError, KeyError, TypeError):
            raise Transient(f"{self.name}: initializeUpload answered without an upload URL") from None
        if not upload_url.startswith(("https://", "http://")):
            raise Transient(f"{self.name}: initializeUpload answered an unusable upload URL")
        self.send(self._request("PUT", upload_url, content=fitted.data,
                                headers={"Content-Type": "application/octet-stream"}, kind="media"))
        return image

    def create(self, draft: Draft, key: str, ctx: SendContext | None = None) -> Remote:
        ctx = ctx or SendContext()
        self._log_notices(ctx.facts)
        link = draft.fields.get("comment")
        if not link:
            return super().create(draft, key, ctx)
        urn = ctx.progress.get("post")
        if urn:  # an earlier try made the post: only its comment is left
            remote = Remote(str(urn), FEED.format(urn=urn))
        else:
            remote = super().create(draft, key, ctx)
            if ctx.record is not None:
                ctx.record({"post": remote.id})
        return self._comment(remote, str(link), ctx)

    def _comment(self, remote: Remote, link: str, ctx: SendContext) -> Remote:
        """The link as the post's first comment; a retry after an answered failure comments once more."""
        urn = str(remote.id)
        request = self._comment_request(urn, link)
        if ctx.progress.get("commenting") and self._commented(urn, link):
            return remote
        if ctx.record is not None:
            ctx.record({"post": urn, "commenting": True})
        try:
            self.send(request)
        except OutcomeUnknown:
            seen = self._commented(urn, link)
            if seen is None:  # the comments cannot be read: better no second comment
                log.warning("%s: the comment with the link on %s may be missing (its answer was lost)",
                            self.name, urn)
                return Remote(remote.id, remote.url, {**remote.extra, "comment": "unknown"})
            if not seen:
                self.send(request)
        except (AuthFailed, RateLimited, Transient):
            raise  # the post is kept in the intent: the next try only comments
        except Permanent as exc:  # the post exists: keep it, and say the comment was refused
            log.warning("%s: the post %s was made, its comment with the link was refused: %s", self.name, urn, exc)
            return Remote(remote.id, remote.url, {**remote.extra, "comment": "refused"})
        return remote

    def _commented(self, urn: str, link: str) -> bool | None:
        """Whether the author's comment with `link` is on the post; None when the comments cannot be read
        (a member's comments need r_member_social, which LinkedIn grants to few apps)."""
        try:
            answer = self.send(self._request("GET", self._url(COMMENTS, urn=urn), kind="read"))
            elements = answer.json().get("elements") or []
        except (ConnectorError, ValueError, AttributeError):
            return None
        author = self.option("author")
        for element in elements if isinstance(elements, list) else []:
            if not isinstance(element, dict) or element.get("actor") != author:
                continue
            text = (element.get("message") or {}).get("text") if isinstance(element.get("message"), dict) else None
            if isinstance(text, str) and text in (link, link_text(link)):
                return True
        return False

    def update(self, remote: Remote, draft: Draft, ctx: SendContext | None = None) -> Remote:
        """PARTIAL_UPDATE answers 204 with nothing: the copy stays what it was."""
        ctx = ctx or SendContext()
        self._log_notices(ctx.facts)
        self.send(self.build_update(remote, draft, ctx))
        return remote

    # --- errors and notices -------------------------------------------------------------------------

    def check(self, response: httpx.Response) -> None:
        """LinkedIn errors: {"status", "code", "serviceErrorCode", "message"}."""
        status = response.status_code
        if status < 400:
            return
        try:
            body = response.json()
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        code = str(body.get("code") or "")
        said = str(body.get("message") or "")[:300]
        what = f"{self.name}: HTTP {status}" + (f": {said}" if said else "") + (f" ({code})" if code else "")
        version = self.option("version", DEFAULT_VERSION)
        if status == 426 or code == "NONEXISTENT_VERSION":
            raise Permanent(f"{what}: LinkedIn no longer serves API version {version}; set `version` in "
                            f"[targets.{self.name}] to a current YYYYMM (e.g. {DEFAULT_VERSION}), see docs/linkedin.md")
        if code == "VERSION_MISSING":
            raise Permanent(f"{what}: the LinkedIn-Version header was refused; check `version`")
        if status == 401:
            raise AuthFailed(f"{what} (the access_token was refused: expired after its 60 days, or revoked; "
                             "make a new one, see docs/linkedin.md)")
        if status == 403:
            raise AuthFailed(f"{what} (the token may not post as {self.option('author')}: w_member_social for a "
                             "person, w_organization_social and a page admin role for an organization)")
        if status == 429:
            wait = retry_after_from(response)
            if wait is None and "DAY limit" in said:  # a daily limit: LinkedIn resets them at midnight UTC
                wait = 86400.0 - _time.time() % 86400.0
            raise RateLimited(what, wait)
        raise_for_status(response, self.name)

    def notices(self, facts: Facts | None, now: datetime) -> list[Notice]:
        """The token's expiry (7 days ahead) and the version's sunset (a month ahead)."""
        out: list[Notice] = []
        expires = self.option("token_expires")
        learnt = (facts or {}).get("token_expires_at")
        if (facts or {}).get("token_active") is False:
            out.append(Notice("error", f"{self.name}: LinkedIn says the access token is no longer active: make a "
                                       "new one and set access_token (docs/linkedin.md)"))
        elif not isinstance(expires, date) and isinstance(learnt, int | float):
            expires = datetime.fromtimestamp(learnt, UTC).date()
        if isinstance(expires, date):
            until = datetime.combine(expires, time(0, 0), UTC)
            left = (until - now).total_seconds()
            if left <= 0:
                out.append(Notice("error", f"{self.name}: the access token expired on {expires.isoformat()}: make a "
                                           "new one and set access_token and token_expires (docs/linkedin.md)", until))
            elif left <= TOKEN_WARN_DAYS * 86400:
                out.append(Notice("warn", f"{self.name}: the access token expires on {expires.isoformat()}: make a "
                                          "new one before then (docs/linkedin.md)", until))
        version = str(self.option("version", DEFAULT_VERSION))
        try:
            age = now.year * 12 + now.month - 1 - _months(version)
        except ValueError:
            return out
        end = _months(version) + SUNSET_MONTHS  # about a year after its release
        sunset = datetime(end // 12, end % 12 + 1, 1, tzinfo=UTC)
        if age >= SUNSET_MONTHS:
            out.append(Notice("error", f"{self.name}: LinkedIn API version {version} is over a year old and likely "
                                       f"sunset: set `version` to a current YYYYMM (docs/linkedin.md)", sunset))
        elif age >= WARN_MONTHS:
            out.append(Notice("warn", f"{self.name}: LinkedIn API version {version} is sunset around "
                                      f"{sunset.date().isoformat()}: set `version` to a current YYYYMM", sunset))
        return out

    def _log_notices(self, facts: Facts | None) -> None:
        """`status`'s warnings in the log too, once per connector (a worker's run)."""
        if self._warned:
            return
        self._warned = True
        for notice in self.notices(facts, datetime.now(UTC)):
            log.warning("%s", notice.message)
