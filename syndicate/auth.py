"""Declarative auth: a connector names how it authenticates, the engine applies it.

    auth = Bearer("access_token")            # Authorization: Bearer <token>
    auth = HeaderKey("api-key", "api_key")   # api-key: <key>
    auth = Basic("username", "app_password")
    auth = TokenInUrl("bot_token")           # "{token}" in the URL is replaced
    auth = Session()                         # the connector's login()/refresh(), cached per account

Sessions (and any token a connector derives, such as a signed JWT) are kept in
a `TokenCache` per account: in the process, and in Redis when one is
configured, so that every worker shares one login.
"""
from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from syndicate.contract import Connector


class Auth:
    """How a request is authenticated; `secrets` names the options that hold credentials."""

    refreshable = False
    secrets: tuple[str, ...] = ()

    def apply(self, conn: Connector, url: str, headers: dict[str, str]) -> tuple[str, dict[str, str]]:
        raise NotImplementedError

    def invalidate(self, conn: Connector) -> None:
        """Forget a cached session (it was refused); the next `apply` logs in again."""


@dataclass(frozen=True)
class Bearer(Auth):
    option: str

    @property
    def secrets(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.option,)

    def apply(self, conn: Connector, url: str, headers: dict[str, str]) -> tuple[str, dict[str, str]]:
        return url, {**headers, "Authorization": "Bearer " + conn.secret(self.option)}


@dataclass(frozen=True)
class HeaderKey(Auth):
    header: str
    option: str

    @property
    def secrets(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.option,)

    def apply(self, conn: Connector, url: str, headers: dict[str, str]) -> tuple[str, dict[str, str]]:
        return url, {**headers, self.header: conn.secret(self.option)}


@dataclass(frozen=True)
class Basic(Auth):
    user_option: str
    password_option: str

    @property
    def secrets(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.password_option,)

    def apply(self, conn: Connector, url: str, headers: dict[str, str]) -> tuple[str, dict[str, str]]:
        pair = f"{conn.option(self.user_option) or ''}:{conn.secret(self.password_option)}"
        return url, {**headers, "Authorization": "Basic " + base64.b64encode(pair.encode()).decode("ascii")}


@dataclass(frozen=True)
class TokenInUrl(Auth):
    """The credential is part of the URL (`{token}`), or the whole URL is the secret (a webhook)."""

    option: str

    @property
    def secrets(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.option,)

    def apply(self, conn: Connector, url: str, headers: dict[str, str]) -> tuple[str, dict[str, str]]:
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

    def apply(self, conn: Connector, url: str, headers: dict[str, str]) -> tuple[str, dict[str, str]]:
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


def account_of(conn: Connector) -> str:
    """One key per account: type, base URL and a short hash of its credentials (never the credentials)."""
    names = conn.auth.secrets if conn.auth is not None else ()
    material = "\x00".join(
        str(conn.option(n).reveal() if hasattr(conn.option(n), "reveal") else conn.option(n) or "") for n in names
    )
    user = str(conn.option("identifier") or conn.option("username") or "")
    digest = hashlib.sha256(f"{user}\x00{material}".encode()).hexdigest()[:16]
    return f"{conn.type}|{conn.base}|{digest}"


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
