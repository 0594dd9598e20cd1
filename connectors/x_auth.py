"""X's two ways to post as a user: OAuth 1.0a user context, or an OAuth 2.0 user token kept fresh.

- OAuth 1.0a (`api_key`, `api_secret`, `access_token`, `access_secret`): every request is
  signed (RFC 5849, HMAC-SHA1) by `syndicate.auth.OAuth1`. The keys never expire.
- OAuth 2.0 (`client_id` + `refresh_token`, and `client_secret` for a confidential client):
  `POST /2/oauth2/token` with `grant_type=refresh_token` answers an access token for 2 hours
  and a *new* refresh token; the old one is spent (docs.x.com "OAuth 2.0 Authorization Code
  Flow with PKCE": "refresh_token ... allows an application to obtain a new access token without
  prompting the user", single use). `syndicate.auth.Refreshing` keeps the newest pair in the
  engine's `TokenStore` (data folder + Redis) and calls `renew` under its lock, so one worker
  refreshes and every worker uses the result; a spent refresh token is never sent twice.

`XAuth` picks the mode from the options: a `refresh_token` means OAuth 2.0.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from syndicate.auth import Auth, OAuth1, Refreshing
from syndicate.contract import AuthFailed, Connector, Transient
from syndicate.state.tokens import Token

if TYPE_CHECKING:
    import httpx

TOKEN_PATH = "/2/oauth2/token"
ACCESS_LIFETIME = 7200.0  # what an access token gets when the answer does not say (2 hours)
OAUTH1_KEYS = ("api_key", "api_secret", "access_token", "access_secret")
OAUTH2_KEYS = ("client_id", "refresh_token")


@dataclass(frozen=True)
class XAuth(Auth):
    """OAuth 1.0a when the four keys are set, else OAuth 2.0 with a rotating refresh token."""

    oauth1: OAuth1 = field(default_factory=lambda: OAuth1(*OAUTH1_KEYS))
    oauth2: Refreshing = field(default_factory=lambda: Refreshing("refresh_token", ("client_secret",)))
    refreshable = True  # a refused OAuth 2.0 access token is renewed once (OAuth 1.0a: signed afresh)
    signs_query = True  # OAuth 1.0a signs the query string

    @property
    def secrets(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("api_key", "api_secret", "access_token", "access_secret", "refresh_token", "client_secret")

    def mode(self, conn: Connector) -> Auth:
        return self.oauth2 if conn.option("refresh_token") else self.oauth1

    def apply(self, conn: Connector, url: str, headers: dict[str, str], *, method: str = "GET",
              form: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
        return self.mode(conn).apply(conn, url, headers, method=method, form=form)

    def invalidate(self, conn: Connector) -> None:
        self.mode(conn).invalidate(conn)


class XToken(Connector):
    """`renew` for the OAuth 2.0 mode (`Refreshing("refresh_token")`): one refresh, the new pair kept."""

    clock: Any

    def token_good(self, token: Token) -> bool:
        return token.valid(self.clock(), margin=120.0)

    def renew(self, current: Token | None, seed: str) -> Token:
        """A fresh access token from the newest refresh token (the configured one the first time)."""
        refresh = current.refresh if current is not None and current.refresh else seed
        body = self._refresh(refresh)
        access, fresh = body.get("access_token"), body.get("refresh_token")
        if not isinstance(access, str) or not access:
            raise Transient(f"{self.name}: the token refresh answered without an access token")
        try:
            lifetime = float(body.get("expires_in") or ACCESS_LIFETIME)
        except (TypeError, ValueError):
            lifetime = ACCESS_LIFETIME
        now = self.clock()
        # X rotates the refresh token: keep the new one (the old one is spent)
        return Token(value=access, expires=now + lifetime, refresh=str(fresh) if fresh else refresh, issued=now)

    def _refresh(self, refresh: str) -> dict[str, Any]:
        # sent as it is, not through `send`: this call makes the credential `send` would add
        import httpx

        form = {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": str(self.option("client_id"))}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        secret = self.option("client_secret")
        if secret is not None:  # a confidential client authenticates with Basic auth
            pair = f"{self.option('client_id')}:{self.secret('client_secret')}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        try:
            response = self.http.post(self.base + TOKEN_PATH, data=form, headers=headers)
        except httpx.HTTPError as exc:
            raise Transient(f"{self.name}: token refresh: no answer ({type(exc).__name__})") from None
        if response.status_code in (400, 401):
            raise AuthFailed(f"{self.name}: HTTP {response.status_code}: the refresh_token was refused "
                             f"({_oauth_error(response)}): it was revoked, or spent by a copy of this config "
                             "without the shared token store; authorise the app again and set a new "
                             "refresh_token (docs/x.md)")
        self.check(response)
        return _json(response)


def _oauth_error(response: httpx.Response) -> str:
    body = _json(response)
    return str(body.get("error") or "no reason given")[:80]


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
