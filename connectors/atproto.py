"""AT Protocol helpers for the Bluesky and standard.site connectors: the session, record keys (TIDs),
rich-text facets, link display, blob uploads.

- Session (`AtprotoSession`): com.atproto.server.createSession with an app
  password, refreshSession with the kept refresh token; one session per
  account, shared by every target on it (Bluesky, standard.site) and every
  worker (the engine's token cache). An expired access token is a 400
  `ExpiredToken` (PDS xrpc-server auth), not a 401.

- TID: https://atproto.com/specs/tid (13 characters of base32-sortable, the
  top bit zero). Ours is a hash of the idempotency key, so a retry, a resumed
  thread or `find` lands on the same record key; the PDS checks the syntax only.
- Facets: https://atproto.com/specs/lexicon app.bsky.richtext.facet; offsets
  are UTF-8 byte offsets into the record's text, end exclusive.
- A link (running to the next space, so a non-ASCII path stays whole)
  shows as host and path, cut to `LINK_WEIGHT` graphemes with "…"; its
  facet carries the full URI (as Bluesky's own app does with long links).
"""
from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import regex

from syndicate.auth import account_of
from syndicate.content.text import find_urls
from syndicate.contract import (
    AuthFailed,
    Connector,
    FittedMedia,
    MediaItem,
    Permanent,
    Request,
    Transient,
    raise_for_status,
)

if TYPE_CHECKING:
    import httpx

XRPC = "/xrpc/"
CREATE_SESSION = XRPC + "com.atproto.server.createSession"
REFRESH_SESSION = XRPC + "com.atproto.server.refreshSession"
GET_SESSION = XRPC + "com.atproto.server.getSession"
PUT_RECORD = XRPC + "com.atproto.repo.putRecord"
GET_RECORD = XRPC + "com.atproto.repo.getRecord"
LIST_RECORDS = XRPC + "com.atproto.repo.listRecords"
DELETE_RECORD = XRPC + "com.atproto.repo.deleteRecord"
UPLOAD_BLOB = XRPC + "com.atproto.repo.uploadBlob"
LOGIN_TIMEOUT = 10.0  # seconds a session call may take (see _session_call)
SESSION_MARGIN = 60.0  # seconds before a token's `exp` that we log in again

TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID_SYNTAX = regex.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
LINK_WEIGHT = 32  # graphemes a link's shown text may take; the fitter counts every URL as this many
TAG_MAX_GRAPHEMES = 64  # app.bsky.richtext.facet#tag maxGraphemes
TAG_MAX_BYTES = 640  # app.bsky.richtext.facet#tag maxLength

# A hashtag starts at the text's start or after white space, then runs to the next space or
# invisible joiner; trailing punctuation is not part of it, nor is a tag of digits only.
# The rule follows Bluesky's client (atproto packages/api/src/rich-text/util.ts, TAG_REGEX):
# ZWNJ/ZWJ/soft hyphen/word joiner end a tag, and "#\ufe0f" (the keycap emoji) is none.
_INVISIBLE = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"
_TAG = regex.compile(rf"(?:^|(?<=\s))[#\uff03](?!\ufe0f)([^\s{_INVISIBLE}]+)")
_TRAILING_PUNCT = regex.compile(r"\p{P}+$")
_GRAPHEME = regex.compile(r"\X")
_DIGITS = regex.compile(r"^\d+$")
_REST = regex.compile(r"\S*")
# not part of a link when they end it: ASCII (as syndicate.content.text) and Arabic-script punctuation, closing quotes
_LINK_TRAILING = ".,:;!?'\")]*\u060c\u061b\u061f\u06d4\u00bb\u201d\u2019\u3002\u3001"


def tid_from_key(key: str) -> str:
    """A valid TID derived from `key` alone: the same key always gives the same record key."""
    number = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") & ((1 << 63) - 1)
    chars = []
    for _ in range(13):
        chars.append(TID_ALPHABET[number & 31])
        number >>= 5
    return "".join(reversed(chars))


def is_tid(value: str) -> bool:
    return bool(TID_SYNTAX.match(value))


def short_link(url: str, weight: int = LINK_WEIGHT) -> str:
    """How a link shows in a post: no scheme, no `www.`, at most `weight` characters ("…" when cut)."""
    shown = url.split("://", 1)[-1]
    if shown.startswith("www."):
        shown = shown[4:]
    if shown.endswith("/") and shown.count("/") == 1:
        shown = shown[:-1]  # a bare host
    graphemes = _GRAPHEME.findall(shown)
    if len(graphemes) > weight:
        shown = "".join(graphemes[: weight - 1]) + "…"
    return shown


def _host(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return regex.split(r"[/?#]", rest, maxsplit=1)[0]


def rich_text(text: str, *, shorten: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """The record text (links shortened when `shorten`) and its link and tag facets, by byte offset."""
    out: list[str] = []
    facets: list[dict[str, Any]] = []
    taken: list[tuple[int, int]] = []  # byte spans of links, where no tag may start
    size = pos = 0
    for start, end in find_urls(text):
        if start < pos:
            continue  # inside the previous link, which ran on past find_urls's ASCII
        # find_urls stops at the first non-ASCII character; a path in Persian or Japanese runs on
        # to the next space (a link counts as LINK_WEIGHT either way, so the fit still holds)
        tail = _REST.match(text, end)
        if tail is not None and tail.end() > end:
            end = len(text[: tail.end()].rstrip(_LINK_TRAILING))
            end = max(end, start + 1)
        url = text[start:end]
        if not _host(url):
            continue  # a bare scheme, or a host find_urls cannot read (IDN): no link
        before = text[pos:start]
        out.append(before)
        size += len(before.encode("utf-8"))
        shown = short_link(url) if shorten else url
        width = len(shown.encode("utf-8"))
        facets.append(_facet(size, size + width, {"$type": "app.bsky.richtext.facet#link", "uri": url}))
        taken.append((size, size + width))
        out.append(shown)
        size += width
        pos = end
    out.append(text[pos:])
    result = "".join(out)
    facets.extend(_tags(result, taken))
    facets.sort(key=lambda f: f["index"]["byteStart"])
    return result, facets


def _tags(text: str, taken: list[tuple[int, int]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for m in _TAG.finditer(text):
        tag = _TRAILING_PUNCT.sub("", m.group(1))
        if not tag or _DIGITS.match(tag):
            continue
        if len(regex.findall(r"\X", tag)) > TAG_MAX_GRAPHEMES or len(tag.encode("utf-8")) > TAG_MAX_BYTES:
            continue
        start = len(text[: m.start()].encode("utf-8"))
        end = start + len(text[m.start() : m.start(1)].encode("utf-8")) + len(tag.encode("utf-8"))
        if any(s < end and start < e for s, e in taken):
            continue
        found.append(_facet(start, end, {"$type": "app.bsky.richtext.facet#tag", "tag": tag}))
    return found


def _facet(start: int, end: int, feature: dict[str, Any]) -> dict[str, Any]:
    return {"index": {"byteStart": start, "byteEnd": end}, "features": [feature]}


def rkey_of(uri: str) -> str:
    """The record key of an `at://did/collection/rkey` URI."""
    return uri.rstrip("/").rsplit("/", 1)[-1]


def repo_of(uri: str) -> str:
    """The repository (DID) of an `at://` URI."""
    return uri.removeprefix("at://").split("/", 1)[0]


class AtprotoSession(Connector):
    """A connector on an AT Protocol account: the session, the repo's DID, blob uploads.

    `account_kind` makes every target on the same account (same PDS, identifier
    and app password) share one session and one refresh token, whatever its type.
    """

    account_kind: ClassVar[str] = "atproto"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.did: str | None = None  # the repository's DID, once a session said it

    def build_verify(self) -> Request | None:
        """`getSession`: the app password logs in and the session answers (for `doctor`)."""
        return Request("GET", self.base + GET_SESSION, kind="read")

    def login(self) -> tuple[str, float]:
        """An access token: refreshSession with a cached refresh token, else createSession."""
        cache = self.tokens
        refresh_key = account_of(self) + "|refresh"
        refresh = cache.get(refresh_key) if cache is not None else None
        body: dict[str, Any] | None = None
        if refresh:
            try:
                body = self._session_call(REFRESH_SESSION, headers={"Authorization": "Bearer " + refresh})
            except (AuthFailed, Permanent):
                body = None  # expired or revoked: log in with the app password
        if body is None:
            body = self._session_call(CREATE_SESSION, json={
                "identifier": str(self.option("identifier")), "password": self.secret("app_password")})
        if isinstance(body.get("did"), str):
            self.did = body["did"]
        try:
            access, refresh = str(body["accessJwt"]), str(body["refreshJwt"])
        except (KeyError, TypeError):
            raise Transient(f"{self.name}: the session answer has no tokens") from None
        if cache is not None:
            cache.put(refresh_key, refresh, _ttl(refresh, 3600.0))
        return access, _ttl(access, 600.0)

    def _session_call(self, path: str, **kwargs: Any) -> dict[str, Any]:
        import httpx

        # not through `send`: that would ask this session for a token. A login checks the password with
        # scrypt on the PDS (@atproto/pds account-manager/helpers/scrypt.ts): slower than any other call,
        # so it gets at least LOGIN_TIMEOUT whatever the configured [http] timeout
        timeout = self.http.timeout
        longer = httpx.Timeout(max(timeout.read or 0.0, LOGIN_TIMEOUT), connect=timeout.connect)
        try:
            response = self.http.post(self.base + path, timeout=longer, **kwargs)
        except httpx.TransportError as exc:
            raise Transient(f"{self.name}: session request failed ({type(exc).__name__})") from None
        if response.status_code == 400 and _error(response) in ("ExpiredToken", "InvalidToken"):
            raise AuthFailed(f"{self.name}: HTTP 400: {_error(response)}")  # a dead refresh token
        raise_for_status(response, self.name)
        try:
            data = response.json()
        except ValueError:
            raise Transient(f"{self.name}: unreadable session answer") from None
        return data if isinstance(data, dict) else {}

    def check(self, response: httpx.Response) -> None:
        # an expired access token is a 400 ExpiredToken, not a 401 (PDS xrpc-server auth)
        if response.status_code == 400 and _error(response) in ("ExpiredToken", "InvalidToken"):
            if self.auth is not None:
                self.auth.invalidate(self)
            raise Transient(f"{self.name}: session expired; logging in again")
        super().check(response)

    def upload(self, item: MediaItem, fitted: FittedMedia) -> str:
        request = _Raw("POST", self.base + UPLOAD_BLOB, headers={"Content-Type": fitted.mime}, kind="media",
                       content=fitted.data)
        response = self.send(request)
        try:
            blob = response.json()["blob"]
        except (ValueError, KeyError, TypeError):
            raise Transient(f"{self.name}: uploadBlob answered without a blob") from None
        # kept with its size, so that images carry their aspect ratio
        return json.dumps({"blob": blob, "width": fitted.width, "height": fitted.height})

    def _transmit(self, request: Request) -> httpx.Response:
        if not isinstance(request, _Raw):
            return super()._transmit(request)
        import httpx

        # uploadBlob takes the raw bytes as the body, which `Request` cannot carry (json/data/files)
        url, headers = request.url, dict(request.headers)
        if self.auth is not None:
            url, headers = self.auth.apply(self, url, headers)
        try:
            return self.http.request(request.method, url, content=request.content, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise Transient(f"{self.name}: cannot connect ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise Transient(f"{self.name}: upload response lost ({type(exc).__name__})") from None



@dataclass
class _Raw(Request):
    """A request whose body is raw bytes."""

    content: bytes = b""


def _error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error") or "") if isinstance(body, dict) else ""


def _ttl(jwt: str, default: float) -> float:
    """Seconds until a JWT's `exp`, less a margin; `default` when it cannot be read."""
    try:
        payload = jwt.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return max(1.0, float(claims["exp"]) - time.time() - SESSION_MARGIN)
    except (IndexError, ValueError, KeyError, TypeError):
        return default
