"""A fake Bluesky PDS that checks every record against the lexicons, for the contract suite.

What it does as PDS 0.5.35 does (../shared/peers/bluesky-pds/README.md):
createSession / refreshSession with an app password, an expired access token
as 400 `ExpiredToken`, `putRecord` checked against app.bsky.feed.post (via
tests/fakes/bluesky_lexicon.py) with TID record keys, an identical put a no-op
(same cid, no commit), `getRecord` 400 `RecordNotFound`, `deleteRecord` of a
missing record 200 `{}`, `uploadBlob` up to 5 MiB with blob refs that must
exist and fit the lexicon's maxSize. 429s carry `RateLimit-*` with an epoch
reset (and Retry-After, so that the contract's wait is exact).

Faults (`lose_next`) hit record writes, never a session login: the contract
means a create that committed and lost its answer, and a login commits nothing
(`SessionsUnfaulted`, shared with the proxy in tests/fakes/bluesky_proxy.py).
"""
from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any

from tests.fakes.bluesky_lexicon import check, facet_problems
from tests.fakes.server import FakeServer, Reply, Request, _Fault

HANDLE = "alice.test"
DID = "did:plc:fakealice0000000000000"
MAX_BLOB = 5 * 1024 * 1024
POST = "app.bsky.feed.post"


def _jwt(kind: str, serial: int, ttl: float) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return ".".join([part({"alg": "HS256"}), part({"scope": kind, "exp": int(time.time() + ttl), "n": serial}), "sig"])


def cid_of(value: Any) -> str:
    return "bafyrei" + hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:52]


class SessionsUnfaulted(FakeServer):
    """Injected losses hit record writes only: a session login commits nothing (other faults hit it too)."""

    def _pick_faults(self, request: Request) -> list[_Fault]:
        if not request.path.startswith("/xrpc/com.atproto.server."):
            return super()._pick_faults(request)
        with self.lock:  # a pending loss waits for the next record write
            kept = [f for f in self._faults if f.kind == "lose"]
            self._faults = [f for f in self._faults if f.kind != "lose"]
            try:
                picked = super()._pick_faults(request)
            finally:
                self._faults.extend(kept)
        return [f for f in picked if f.kind != "lose"]


class FakeBluesky(SessionsUnfaulted):
    def __init__(self, password: str = "app-pass-1234", *, access_ttl: float = 7200.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.password = password
        self.access_ttl = access_ttl
        self.records: dict[str, tuple[str, dict[str, Any]]] = {}  # rkey -> (cid, value)
        self.blobs: dict[str, tuple[str, int]] = {}  # cid -> (mime, size)
        self.access: dict[str, float] = {}  # token -> expiry
        self.refresh: set[str] = set()
        self.logins = 0
        self.writes = 0  # commits (an identical put makes none)

    @property
    def live(self) -> dict[str, dict[str, Any]]:
        return {k: v for k, (_c, v) in self.records.items()}

    def error_body(self, status: int, message: str) -> Any:
        return {"error": "RateLimitExceeded" if status == 429 else "InternalServerError", "message": message}

    def rate_limited(self, retry_after: float, limit: int, reset: float) -> Reply:
        reply = super().rate_limited(retry_after, limit, reset)
        reply.headers.update({"RateLimit-Limit": str(limit), "RateLimit-Remaining": "0",
                              "RateLimit-Reset": str(int(reset)), "RateLimit-Policy": f"{limit};w=300"})
        return reply

    # --- dispatch ---------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        method = request.path.removeprefix("/xrpc/")
        if method == "com.atproto.server.createSession":
            return self._create_session(request)
        if method == "com.atproto.server.refreshSession":
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            if token not in self.refresh:
                return _error(400, "ExpiredToken", "Token has expired")
            self.refresh.discard(token)
            return Reply(200, self._session())
        if method == "com.atproto.repo.getRecord":
            rkey = request.param("rkey") or ""
            if request.param("repo") not in (HANDLE, DID) or rkey not in self.records:
                return _error(400, "RecordNotFound", f"Could not locate record: at://{DID}/{POST}/{rkey}")
            cid, value = self.records[rkey]
            return Reply(200, {"uri": f"at://{DID}/{POST}/{rkey}", "cid": cid, "value": value})
        refused = self._authorized(request)
        if refused is not None:
            return refused
        if method == "com.atproto.server.getSession":
            return Reply(200, {"handle": HANDLE, "did": DID, "active": True})
        if method == "com.atproto.repo.uploadBlob":
            return self._upload(request)
        if method == "com.atproto.repo.putRecord":
            return self._put(request.json())
        if method == "com.atproto.repo.deleteRecord":
            body = request.json()
            problems = check("com.atproto.repo.deleteRecord", body)
            if problems:
                return _error(400, "InvalidRequest", "Input/" + problems[0])
            if self.records.pop(str(body.get("rkey")), None) is not None:
                self.writes += 1
            return Reply(200, {})  # a missing record too
        return _error(501, "MethodNotImplemented", f"Method Not Implemented: {method}")

    def _session(self) -> dict[str, Any]:
        self.logins += 1
        access, refresh = _jwt("access", self.logins, self.access_ttl), _jwt("refresh", self.logins, 86400)
        self.access[access] = time.time() + self.access_ttl
        self.refresh.add(refresh)
        return {"accessJwt": access, "refreshJwt": refresh, "handle": HANDLE, "did": DID, "active": True}

    def _create_session(self, request: Request) -> Reply:
        body = request.json() or {}
        if body.get("identifier") not in (HANDLE, DID) or body.get("password") != self.password:
            return _error(401, "AuthenticationRequired", "Invalid identifier or password")
        return Reply(200, self._session())

    def _authorized(self, request: Request) -> Reply | None:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        expiry = self.access.get(token)
        if expiry is None:
            return _error(401, "AuthenticationRequired", "Authentication Required")
        if expiry < time.time():
            return _error(400, "ExpiredToken", "Token has expired")
        return None

    def expire_sessions(self) -> None:
        """Every access token issued so far is now expired (a refresh token still works)."""
        with self.lock:
            self.access = {t: 0.0 for t in self.access}

    def _upload(self, request: Request) -> Reply:
        if len(request.body) > MAX_BLOB:
            return _error(400, "BlobTooLarge", "This file is too large. It is 5 MB but the maximum size is 5 MB")
        mime = request.headers.get("content-type", "application/octet-stream")
        cid = "bafkrei" + hashlib.sha256(request.body).hexdigest()[:52]
        self.blobs[cid] = (mime, len(request.body))
        return Reply(200, {"blob": {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime,
                                    "size": len(request.body)}})

    def _put(self, body: Any) -> Reply:
        problems = check("com.atproto.repo.putRecord", body)
        if problems:
            return _error(400, "InvalidRequest", "Input/" + problems[0])
        if body["repo"] not in (HANDLE, DID):
            return _error(400, "InvalidRequest", "Input/repo: not this account")
        if body["collection"] != POST:
            return _error(400, "InvalidRequest", "only posts here")
        record = body["record"]
        problems = check(POST, record) + facet_problems(record) + self._blob_problems(record)
        if not _is_tid(body["rkey"]):
            problems.append("Invalid record key for app.bsky.feed.post: must be a TID")
        if problems:
            return _error(400, "InvalidRequest", f"Invalid {POST} record: " + problems[0].replace("$", "$.record", 1))
        rkey, uri = body["rkey"], f"at://{DID}/{POST}/{body['rkey']}"
        cid = cid_of(record)
        if rkey in self.records and self.records[rkey][0] == cid:
            return Reply(200, {"uri": uri, "cid": cid, "validationStatus": "valid"})  # no-op: no commit
        self.records[rkey] = (cid, record)
        self.writes += 1
        return Reply(200, {"uri": uri, "cid": cid, "commit": {"cid": cid_of([rkey, cid]), "rev": str(self.writes)},
                           "validationStatus": "valid"})

    def _blob_problems(self, record: dict[str, Any]) -> list[str]:
        embed = record.get("embed") or {}
        refs = []
        if embed.get("$type") == "app.bsky.embed.external" and "thumb" in (embed.get("external") or {}):
            refs.append(embed["external"]["thumb"])
        refs += [i.get("image") for i in embed.get("images") or [] if isinstance(i, dict)]
        out = []
        for ref in refs:
            link = ((ref or {}).get("ref") or {}).get("$link") if isinstance(ref, dict) else None
            stored = self.blobs.get(str(link))
            if stored is None:
                out.append(f"Could not find blob: {link}")
            elif (ref.get("mimeType"), ref.get("size")) != stored:
                out.append(f"blob {link} does not match its upload")
        return out


def _is_tid(rkey: str) -> bool:
    from tests.fakes.bluesky_lexicon import _FORMATS

    return bool(_FORMATS["tid"].match(rkey))


def _error(status: int, error: str, message: str) -> Reply:
    return Reply(status, {"error": error, "message": message})
