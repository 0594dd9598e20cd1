"""The Threads token: a long-lived user token, refreshed before its 60 days run out, shared by every worker.

developers.facebook.com/docs/threads/get-started/long-lived-tokens: a long-lived token is valid
for 60 days; it "can be refreshed as long as [it is] at least 24 hours old but [has] not expired"
(GET /refresh_access_token?grant_type=th_refresh_token&access_token=...), and the refreshed token
is valid for 60 days from then. `syndicate.auth.Refreshing` keeps the newest token in the engine's
`TokenStore` (data folder + Redis) and calls `renew` under its lock, so one worker refreshes and
every worker uses the result.

The configured token's age is unknown, so it is used as it is for a day after it is first seen,
then refreshed (it is at least 24 hours old by then): the answer says when the new one expires.
From then on it is refreshed when less than `refresh_before` is left.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from syndicate.auth import account_of
from syndicate.contract import AuthFailed, Connector, Facts, Notice, Transient
from syndicate.state.tokens import Token

if TYPE_CHECKING:
    import httpx

REFRESH = "/refresh_access_token"
MIN_AGE = 24 * 3600.0  # a token younger than this cannot be refreshed
LIFETIME = 60 * 86400.0  # what a refreshed token gets when the answer does not say
WARN_AHEAD = 7 * 86400.0  # `status` and `doctor` warn this long before the token expires


class ThreadsToken(Connector):
    """`renew` and `token_good` for `Refreshing("access_token")`, and the token's notices."""

    clock: Callable[[], float]

    def token_good(self, token: Token) -> bool:
        now = self.clock()
        if not token.valid(now):
            return False
        if now - token.issued < MIN_AGE:
            return True  # too young to be refreshed: use it as it is
        if token.expires is None:
            return False  # the configured token, a day after it was first seen: refresh it (and learn its expiry)
        return token.expires - now > float(self.option("refresh_before", 30 * 86400.0))

    def renew(self, current: Token | None, seed: str) -> Token:
        """The configured token the first time it is seen; afterwards, the current one refreshed."""
        now = self.clock()
        if current is None:
            return Token(value=seed, expires=None, issued=now, extra={"configured": True})
        body = self._refresh(current.value)
        value, lifetime = body.get("access_token"), body.get("expires_in")
        if not isinstance(value, str) or not value:
            raise Transient(f"{self.name}: the token refresh answered without a token")
        try:
            seconds = float(lifetime) if lifetime is not None else LIFETIME
        except (TypeError, ValueError):
            seconds = LIFETIME
        return Token(value=value, expires=now + seconds, issued=now)

    def _refresh(self, token: str) -> dict[str, Any]:
        # sent as it is, not through `send`: the token to refresh is the credential (no auth header)
        import httpx

        try:
            response = self.http.get(self.base + REFRESH, params={"grant_type": "th_refresh_token",
                                                                 "access_token": token})
        except httpx.HTTPError as exc:
            raise Transient(f"{self.name}: token refresh: no answer ({type(exc).__name__})") from None
        self.check(response)
        return json_body(response)

    def notices(self, facts: Facts | None, now: datetime) -> list[Notice]:
        """The token's expiry: a warning 7 days ahead, an error once it has passed."""
        token = self._stored()
        if token is None:
            return []
        if token.expires is None:
            return [Notice("info", f"{self.name}: the access token's expiry is known after its first refresh, "
                                   "a day after it was first used")]
        until = datetime.fromtimestamp(token.expires, UTC)
        left = token.expires - now.timestamp()
        day = until.date().isoformat()
        if left <= 0:
            return [Notice("error", f"{self.name}: the access token expired on {day}: set a new long-lived "
                                    "access_token (docs/threads.md)", until)]
        if left <= WARN_AHEAD:
            return [Notice("warn", f"{self.name}: the access token expires on {day}; it is refreshed on the "
                                   "next request to Threads (a post, or `syndicate doctor`)", until)]
        return []

    def _stored(self) -> Token | None:
        store = self.token_store
        if store is None:
            return None
        try:
            seed = self.secret("access_token")
        except AuthFailed:
            return None
        token: Token | None = store.get(account_of(self))
        mark = hashlib.sha256(seed.encode()).hexdigest()[:16]  # the chain of this configured token only
        return token if token is not None and token.extra.get("seed") == mark else None


def json_body(response: httpx.Response) -> dict[str, Any]:
    """The JSON object of an answer, or {} when it is none."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
