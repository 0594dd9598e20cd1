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
from typing import Any

import httpx

from tests.fakes.proxy import Forwarding
from tests.fakes.server import Reply, Request


class WordPressProxy(Forwarding):
    """Start with `with WordPressProxy(upstream, user, app_password) as proxy:`; point a target at `proxy.url`."""

    def __init__(self, upstream: str, user: str, app_password: str) -> None:
        super().__init__(upstream, timeout=60)
        self._auth = (user, app_password)
        self.created: list[int] = []  # ids of the posts created through the proxy, in order

    def __enter__(self) -> WordPressProxy:
        self.start()
        return self

    def handle(self, request: Request) -> Reply:
        upstream = self.forward(request)
        if request.method == "POST" and request.path.rstrip("/") == "/wp-json/wp/v2/posts" and \
                upstream.status_code == 201:
            self.created.append(int(upstream.json()["id"]))
        return self.relay(upstream)

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
