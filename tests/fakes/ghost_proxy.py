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
from tests.fakes.proxy import Forwarding


class GhostProxy(Forwarding):
    """`GhostProxy(ghost_url)`: `url` is the proxy's; requests go on to `ghost_url`."""

    def error_body(self, status: int, message: str) -> Any:
        # Ghost's error shape (ghost/core/core/server/web/shared/middleware/error-handler)
        return {"errors": [{"message": message, "type": "InternalServerError" if status >= 500 else "TooManyRequestsError"}]}


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
