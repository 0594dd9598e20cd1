"""Declarative auth: a connector names how it authenticates, the engine applies it.

    auth = Bearer("access_token")            # Authorization: Bearer <token>
    auth = HeaderKey("api-key", "api_key")   # api-key: <key>
    auth = Basic("username", "app_password")
    auth = TokenInUrl("bot_token")           # "{token}" in the URL is replaced
    auth = Session()                         # the connector's login()/refresh(), cached per account
    auth = OAuth1("api_key", "api_secret", "access_token", "access_secret")   # RFC 5849, HMAC-SHA1
    auth = Refreshing("refresh_token")       # a rotating token: the connector's renew(), shared by every worker

Sessions (and any token a connector derives, such as a signed JWT) are kept in
a `TokenCache` per account: in the process, and in Redis when one is
configured, so that every worker shares one login.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

if TYPE_CHECKING:
    from syndicate.contract import Connector
    from syndicate.state.tokens import Token, TokenStore


class Auth:
    """How a request is authenticated; `secrets` names the options that hold credentials."""

    refreshable = False
    signs_query = False  # True: the query string is part of a signature (apply gets the full URL)
    secrets: tuple[str, ...] = ()

    def apply(self, conn: Connector, url: str, headers: dict[str, str], *, method: str = "GET",
              form: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
        raise NotImplementedError

    def invalidate(self, conn: Connector) -> None:
        """Forget a cached session (it was refused); the next `apply` logs in again."""


@dataclass(frozen=True)
class Bearer(Auth):
    option: str

    @property
    def secrets(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.option,)

    def apply(self, conn: Connector, url: str, headers: dict[str, str], *, method: str = "GET",
              form: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
        return url, {**headers, "Authorization": "Bearer " + conn.secret(self.option)}


@dataclass(frozen=True)
class HeaderKey(Auth):
    header: str
    option: str

    @property
    def secrets(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.option,)

    def apply(self, conn: Connector, url: str, headers: dict[str, str], *, method: str = "GET",
              form: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
        return url, {**headers, self.header: conn.secret(self.option)}


@dataclass(frozen=True)
class Basic(Auth):
    user_option: str
    password_option: str

    @property
    def secrets(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.password_option,)

    def apply(self, conn: Connector, url: str, headers: dict[str, str], *, method: str = "GET",
              form: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
        pair = f"{conn.option(self.user_option) or ''}:{conn.secret(self.password_option)}"
        return url, {**headers, "Authorization": "Basic " + base64.b64encode(pair.encode()).decode("ascii")}


@dataclass(frozen=True)
class TokenInUrl(Auth):
    """The credential is part of the URL (`{token}`), or the whole URL is the secret (a webhook)."""

    option: str

    @property
    def secrets(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.option,)

    def apply(self, conn: Connector, url: str, headers: dict[str, str], *, method: str = "GET",
              form: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
        return url.replace("{token}", conn.secret(self.option)), headers


@dataclass(frozen=True)
class Session(Auth):
    """A login that yields a token: `conn.login() -> (token, ttl)`, optionally `conn.refresh(token)`."""

    secret_options: tuple[str, ...] = ()
    header: str = "Authorization"
    scheme: str = "Bearer "
    refreshable = True

    @property
    def secrets(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.secret_options

    def apply(self, conn: Connector, url: str, headers: dict[str, str], *, method: str = "GET",
              form: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
        cache = conn.tokens if conn.tokens is not None else _LOCAL
        token = cache.get(account_of(conn))
        if token is None:
            value, ttl = conn.login()  # type: ignore[attr-defined]
            cache.put(account_of(conn), value, ttl)
            token = value
        return url, {**headers, self.header: self.scheme + token}

    def invalidate(self, conn: Connector) -> None:
        cache = conn.tokens if conn.tokens is not None else _LOCAL
        cache.drop(account_of(conn))


@dataclass(frozen=True)
class OAuth1(Auth):
    """OAuth 1.0a user context (RFC 5849 §3), HMAC-SHA1: X's `api_key`/`api_secret` + access token/secret.

    The signature covers the method, the URL and its query, and the `oauth_*` parameters; a JSON or
    multipart body is not part of it (§3.4.1.3.1: only form-encoded bodies are).
    """

    consumer_key: str
    consumer_secret: str
    token: str
    token_secret: str
    signs_query = True

    @property
    def secrets(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.consumer_secret, self.token_secret, self.token)

    def apply(self, conn: Connector, url: str, headers: dict[str, str], *, method: str = "GET",
              form: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
        header = oauth1_header(
            method=method, url=url, form=form,
            consumer_key=conn.secret(self.consumer_key), consumer_secret=conn.secret(self.consumer_secret),
            token=conn.secret(self.token), token_secret=conn.secret(self.token_secret),
        )
        return url, {**headers, "Authorization": header}


def _pct(value: str) -> str:
    return quote(value, safe="-._~")


def oauth1_header(*, method: str, url: str, consumer_key: str, consumer_secret: str, token: str,
                  token_secret: str, form: dict[str, str] | None = None, nonce: str | None = None,
                  timestamp: int | None = None) -> str:
    """The `Authorization: OAuth ...` value for one request (RFC 5849 §3.4.1 base string, HMAC-SHA1)."""
    parts = urlsplit(url)
    oauth = {
        "oauth_consumer_key": consumer_key, "oauth_nonce": nonce or secrets.token_hex(16),
        "oauth_signature_method": "HMAC-SHA1", "oauth_timestamp": str(timestamp or int(time.time())),
        "oauth_token": token, "oauth_version": "1.0",
    }
    pairs = [*parse_qsl(parts.query, keep_blank_values=True), *oauth.items(), *(form or {}).items()]
    normal = "&".join(f"{k}={v}" for k, v in sorted((_pct(k), _pct(v)) for k, v in pairs))
    base_url = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", "", ""))
    base = "&".join((method.upper(), _pct(base_url), _pct(normal)))
    key = f"{_pct(consumer_secret)}&{_pct(token_secret)}"
    oauth["oauth_signature"] = base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()).decode()
    return "OAuth " + ", ".join(f'{_pct(k)}="{_pct(v)}"' for k, v in sorted(oauth.items()))


@dataclass(frozen=True)
class Refreshing(Auth):
    """A credential the platform rotates: the config holds the first one (`seed`), the engine the newest.

    The connector implements `renew(current: Token | None, seed: str) -> Token` (one call to the
    platform's refresh endpoint) and may implement `token_good(token) -> bool` (default: valid for
    a minute more). Tokens live in the engine's `TokenStore` (data folder + Redis), so a token
    refreshed by one worker is the one every worker uses; a seed changed in the config (the user
    authorised again) starts a new chain. `param` puts the token in the query instead of a header.
    """

    seed: str
    extra_secrets: tuple[str, ...] = ()
    header: str = "Authorization"
    scheme: str = "Bearer "
    param: str | None = None
    refreshable = True

    @property
    def secrets(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.seed, *self.extra_secrets)

    def current(self, conn: Connector, *, refused: str | None = None) -> Token:
        """The token to use now, renewed under the store's lock when it is not good (or was `refused`)."""
        store = _store(conn)
        account = account_of(conn)
        seed = conn.secret(self.seed)
        mark = hashlib.sha256(seed.encode()).hexdigest()[:16]

        def good(token: Token) -> bool:
            if token.extra.get("seed") != mark or (refused is not None and token.value == refused):
                return False
            check = getattr(conn, "token_good", None)
            return bool(check(token)) if check is not None else token.valid()

        token = store.get(account)
        if token is not None and good(token):
            return token

        def make(current: Token | None) -> Token:
            chain = current if current is not None and current.extra.get("seed") == mark else None
            fresh: Token = conn.renew(chain, seed)  # type: ignore[attr-defined]
            fresh.extra = {**fresh.extra, "seed": mark}
            return fresh

        return store.refresh(account, make, still_good=good)

    def apply(self, conn: Connector, url: str, headers: dict[str, str], *, method: str = "GET",
              form: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
        token = self.current(conn)
        if self.param:
            parts = urlsplit(url)
            query = "&".join(q for q in (parts.query, f"{self.param}={quote(token.value, safe='')}") if q)
            return urlunsplit(parts._replace(query=query)), headers
        return url, {**headers, self.header: self.scheme + token.value}

    def invalidate(self, conn: Connector) -> None:
        store = _store(conn)
        token = store.get(account_of(conn))
        if token is not None:
            self.current(conn, refused=token.value)


def _store(conn: Connector) -> TokenStore:
    store = getattr(conn, "token_store", None)
    if store is None:
        from syndicate.errors import AuthFailed

        raise AuthFailed(f"target {conn.name!r}: no token store (the engine sets one up)")
    return store


def account_of(conn: Connector) -> str:
    """One key per account: type (or `account_kind`), base URL and a short hash of its credentials (never them)."""
    names = conn.auth.secrets if conn.auth is not None else ()
    material = "\x00".join(
        str(conn.option(n).reveal() if hasattr(conn.option(n), "reveal") else conn.option(n) or "") for n in names
    )
    user = str(conn.option("identifier") or conn.option("username") or "")
    digest = hashlib.sha256(f"{user}\x00{material}".encode()).hexdigest()[:16]
    kind = getattr(conn, "account_kind", "") or conn.type  # connectors on one account may share its session
    return f"{kind}|{conn.base}|{digest}"


class TokenCache:
    """Session tokens per account: in this process, and in Redis when `redis_url` is given."""

    def __init__(self, redis_url: str | None = None, prefix: str = "syndicate:session:") -> None:
        self._local: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._prefix = prefix
        self._redis: Any = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url)

    def get(self, account: str) -> str | None:
        with self._lock:
            hit = self._local.get(account)
        if hit is not None and hit[1] > time.time():
            return hit[0]
        if self._redis is not None:
            raw = self._redis.get(self._prefix + account)
            if raw:
                data = json.loads(raw)
                with self._lock:
                    self._local[account] = (data["t"], float(data["e"]))
                return str(data["t"])
        return None

    def put(self, account: str, token: str, ttl: float) -> None:
        expires = time.time() + max(1.0, ttl)
        with self._lock:
            self._local[account] = (token, expires)
        if self._redis is not None:
            self._redis.set(self._prefix + account, json.dumps({"t": token, "e": expires}), px=int(max(1.0, ttl) * 1000))

    def drop(self, account: str) -> None:
        with self._lock:
            self._local.pop(account, None)
        if self._redis is not None:
            self._redis.delete(self._prefix + account)


_LOCAL = TokenCache()
