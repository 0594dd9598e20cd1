"""LinkedIn's account side: the access token's expiry, the API version's sunset, and LinkedIn's errors.

A member token lives 60 days; with the app's client_id and client_secret its expiry is learnt from
token introspection, else `token_expires` says it. A version is served about a year after its
release, then answers 426 NONEXISTENT_VERSION. `status` warns ahead of both; the base of `LinkedIn`
(connectors/linkedin.py).
"""
from __future__ import annotations

import hashlib
import logging
import time as _time
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

import regex

from syndicate.config import Secret
from syndicate.contract import (
    AuthFailed,
    Connector,
    Facts,
    Notice,
    Permanent,
    RateLimited,
    Transient,
    raise_for_status,
    retry_after_from,
)

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("connectors.linkedin")  # the connector's logger, as before this module was split off

# the latest monthly version when this was written (December 2026); versions live about 12 months
DEFAULT_VERSION = "202611"
INTROSPECT = "/oauth/v2/introspectToken"  # on the OAuth host (`oauth_url`), with the app's credentials
SUNSET_MONTHS = 12  # /versioning: "each version ... supported for a minimum of one year"
WARN_MONTHS = 11  # `status` warns a month before that
TOKEN_WARN_DAYS = 7  # a member token lives 60 days (no refresh token outside LinkedIn's partner programs)
VERSION = regex.compile(r"^(20\d\d)(0[1-9]|1[0-2])$")


def version_months(version: str) -> int:
    m = VERSION.match(version)
    if m is None:
        raise ValueError(version)
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


class LinkedInAccount(Connector):
    """The token and the API version of a LinkedIn target: their facts, notices and errors."""

    _warned = False

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
            age = now.year * 12 + now.month - 1 - version_months(version)
        except ValueError:
            return out
        end = version_months(version) + SUNSET_MONTHS  # about a year after its release
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
