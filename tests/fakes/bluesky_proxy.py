"""A loopback proxy in front of the real PDS that adds the contract suite's faults.

Every request goes on to the PDS (../shared/peers/bluesky-pds) as it came,
and its answer comes back as the PDS gave it, unless a fault of
tests/fakes/server.py says otherwise: `fail_next`, `rate_limit_next`,
`lose_next` (the PDS commits, then the connection drops), `chaos`, `calm`, and
`requests`. `live` counts the post records written through this proxy that
still exist on the PDS, so tests sharing one PDS do not see each other's.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx

from tests.fakes.bluesky import SessionsUnfaulted
from tests.fakes.server import Reply, Request

_HOP = {"host", "content-length", "connection", "accept-encoding", "transfer-encoding", "keep-alive"}
_KEEP = {"content-type", "retry-after", "www-authenticate"}
POST = "app.bsky.feed.post"


class PdsProxy(SessionsUnfaulted):
    def __init__(self, pds: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pds = pds
        self.client = httpx.Client(base_url=pds["url"], timeout=30)
        self.rkeys: set[str] = set()  # post records written through this proxy

    def stop(self) -> None:
        super().stop()
        self.client.close()

    def handle(self, request: Request) -> Reply:
        if request.path.endswith("com.atproto.repo.putRecord") and request.method == "POST":
            try:
                body = request.json()
                if isinstance(body, dict) and body.get("collection") == POST:
                    self.rkeys.add(str(body.get("rkey")))
            except ValueError:
                pass
        url = request.path + ("?" + urlencode(request.query, doseq=True) if request.query else "")
        headers = {k: v for k, v in request.headers.items() if k not in _HOP}
        answer = self.client.request(request.method, url, headers=headers, content=request.body)
        kept = {k: v for k, v in answer.headers.items() if k.lower() in _KEEP or k.lower().startswith("ratelimit-")}
        return Reply(answer.status_code, answer.content, kept)

    def live(self) -> int:
        found = 0
        for rkey in sorted(self.rkeys):
            answer = self.client.get("/xrpc/com.atproto.repo.getRecord",
                                     params={"repo": self.pds["did"], "collection": POST, "rkey": rkey})
            found += answer.status_code == 200
        return found
