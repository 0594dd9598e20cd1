"""A loopback proxy in front of a real WordPress, with the fake servers' faults and request log.

Every request is forwarded to WordPress and its answer relayed, unless a fault
says otherwise (`tests/fakes/server.py`): `fail_next` and `rate_limit_next`
answer without forwarding, `delay_next` forwards and answers late, `lose_next` forwards (WordPress commits) and then
drops the connection unanswered, `chaos` mixes them. `requests` is what the
proxy received, so a test can count term lookups. `live()` counts the posts
created through this proxy that WordPress shows as published.
"""
from __future__ import annotations

import json
import time
from typing import Any

import httpx

from tests.fakes.server import FakeServer, Reply, Request

_HOP = {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "accept-encoding", "te",
        "upgrade", "proxy-connection"}
_DROP_BACK = {"content-length", "transfer-encoding", "connection", "keep-alive", "content-encoding"}


class WordPressProxy(FakeServer):
    """Start with `with WordPressProxy(upstream, user, app_password) as proxy:`; point a target at `proxy.url`."""

    def __init__(self, upstream: str, user: str, app_password: str) -> None:
        super().__init__()
        self.upstream = upstream.rstrip("/")
        self._auth = (user, app_password)
        self._client = httpx.Client(timeout=60)
        self.created: list[int] = []  # ids of the posts created through the proxy, in order

    def __enter__(self) -> WordPressProxy:
        self.start()
        return self

    def stop(self) -> None:
        super().stop()
        self._client.close()

    def handle(self, request: Request) -> Reply:
        headers = {k: v for k, v in request.headers.items() if k not in _HOP}
        upstream = self._client.request(request.method, self.upstream + request.path, params=request.query,
                                        headers=headers, content=request.body)
        if request.method == "POST" and request.path.rstrip("/") == "/wp-json/wp/v2/posts" and \
                upstream.status_code == 201:
            self.created.append(int(upstream.json()["id"]))
        back = {k: v for k, v in upstream.headers.items() if k.lower() not in _DROP_BACK}
        return Reply(upstream.status_code, upstream.content, back)

    def dispatch(self, request: Request) -> tuple[Reply | None, bool]:
        """As the fakes do, except that a delay holds the *answer*: WordPress commits first.

        A request held in transit past the client's timeout and committed after the
        client's follow-up `find` cannot be told apart from a new one on WordPress (it
        has no idempotency key); a slow answer to a committed write can, and is tested.
        """
        with self.lock:
            self.requests.append(request)
        faults = self._pick_faults(request)
        for fault in faults:
            if fault.kind == "fail":
                return Reply(int(fault.value), self.error_body(int(fault.value), "Service Unavailable")), False
            if fault.kind == "rate":
                return self.rate_limited(fault.value, 1, time.time() + fault.value), False
        with self.lock:
            reply = self.handle(request)
        for fault in faults:
            if fault.kind == "delay":
                self._stopping.wait(fault.value)
        return reply, any(f.kind == "lose" for f in faults)

    def error_body(self, status: int, message: str) -> Any:
        return {"code": "proxy_fault", "message": message, "data": {"status": status}}

    # --- reading WordPress directly (not through the proxy, not logged) ---

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._client.request(method, self.upstream + "/wp-json" + path, auth=self._auth, **kwargs)
        response.raise_for_status()
        return response

    def posts(self, ids: list[int] | None = None, status: str = "publish,future,draft,pending,private,trash"
              ) -> list[dict[str, Any]]:
        wanted = self.created if ids is None else ids
        if not wanted:
            return []
        out: list[dict[str, Any]] = []
        for start in range(0, len(wanted), 100):
            chunk = wanted[start:start + 100]
            out += self.admin("GET", "/wp/v2/posts", params={
                "include": ",".join(map(str, chunk)), "status": status, "context": "edit", "per_page": 100}).json()
        return out

    def live(self) -> int:
        return sum(1 for p in self.posts() if p["status"] == "publish")

    def term_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path.startswith(("/wp-json/wp/v2/tags", "/wp-json/wp/v2/categories"))]

    def log(self) -> str:
        return json.dumps([f"{r.method} {r.path}" for r in self.requests])
