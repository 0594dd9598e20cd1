"""A loopback proxy in front of a real Ghost, with the fault methods of `tests/fakes/server.py`.

Every request is forwarded to Ghost and Ghost's answer is relayed, unless a
fault says otherwise: `fail_next`/`rate_limit_next` answer without forwarding,
`lose_next` forwards (Ghost commits) and then drops the connection, `chaos`
mixes them. As in the fakes, one request is forwarded at a time (under the
server's lock), so a read that follows a lost write sees the write committed.
`requests` lists what the proxy received. `GhostAdmin` talks to
the same Ghost directly (no faults) so that tests can read back what landed.
"""
from __future__ import annotations

import time
from typing import Any

import httpx

from connectors.ghost import ACCEPT_VERSION, POST, POSTS, sign_admin_token
from tests.fakes.server import FakeServer, Reply, Request

# hop-by-hop headers and those httpx sets itself (RFC 9110 §7.6.1)
_DROP = {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "accept-encoding", "te",
         "upgrade", "proxy-connection"}
_DROP_BACK = {"content-length", "connection", "keep-alive", "transfer-encoding", "content-encoding"}


class GhostProxy(FakeServer):
    """`GhostProxy(ghost_url)`: `url` is the proxy's; requests go on to `ghost_url`."""

    def __init__(self, upstream: str, *, timeout: float = 30.0) -> None:
        super().__init__()
        self.upstream = upstream.rstrip("/")
        self._client = httpx.Client(timeout=timeout)

    def stop(self) -> None:
        super().stop()
        self._client.close()

    def error_body(self, status: int, message: str) -> Any:
        # Ghost's error shape (ghost/core/core/server/web/shared/middleware/error-handler)
        return {"errors": [{"message": message, "type": "InternalServerError" if status >= 500 else "TooManyRequestsError"}]}

    def handle(self, request: Request) -> Reply:
        headers = {k: v for k, v in request.headers.items() if k not in _DROP}
        query: list[tuple[str, str | int | float | bool | None]] = [(k, v) for k, values in request.query.items() for v in values]
        answer = self._client.request(request.method, self.upstream + request.path, params=query, headers=headers,
                                      content=request.body)
        back = {k: v for k, v in answer.headers.items() if k.lower() not in _DROP_BACK}
        return Reply(answer.status_code, answer.content, back)


    def dispatch(self, request: Request) -> tuple[Reply | None, bool]:
        """As the base class, except that a delay holds Ghost's *answer*: the request is forwarded first.

        A delay before forwarding would model a request that reaches Ghost after
        the client gave up and created again; Ghost has no idempotency key, so
        no connector can prevent that duplicate (see the test module).
        """
        with self.lock:
            self.requests.append(request)
        picked = self._pick_faults(request)
        for fault in picked:
            if fault.kind == "fail":
                return Reply(int(fault.value), self.error_body(int(fault.value), "Service Unavailable")), False
            if fault.kind == "rate":
                return self.rate_limited(fault.value, 1, time.time() + fault.value), False
        with self.lock:
            reply = self.handle(request)
        for fault in picked:
            if fault.kind == "delay":
                self._stopping.wait(fault.value)
        return reply, any(f.kind == "lose" for f in picked)


class GhostAdmin:
    """A direct Admin API client for tests: list, read and clear posts on the real Ghost."""

    def __init__(self, url: str, key: str, accept_version: str = ACCEPT_VERSION) -> None:
        self.url = url.rstrip("/")
        self.key = key
        self.accept_version = accept_version
        self.client = httpx.Client(timeout=30.0)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": "Ghost " + sign_admin_token(self.key, time.time()),
                   "Accept-Version": self.accept_version}
        return self.client.request(method, self.url + path, headers=headers, **kwargs)

    def posts(self, **params: Any) -> list[dict[str, Any]]:
        response = self.request("GET", POSTS, params={"limit": "all", "include": "tags", "formats": "html",
                                                      **params})
        response.raise_for_status()
        return list(response.json()["posts"])

    def post(self, post_id: str) -> dict[str, Any] | None:
        response = self.request("GET", POST.format(id=post_id), params={"include": "tags", "formats": "html"})
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return dict(response.json()["posts"][0])

    def live(self) -> int:
        """Published posts on the site."""
        return len(self.posts(filter="status:published"))

    def clear(self) -> None:
        """Delete every post (Ghost's starter content included)."""
        for post in self.posts():
            self.request("DELETE", POST.format(id=post["id"])).raise_for_status()

    def close(self) -> None:
        self.client.close()
