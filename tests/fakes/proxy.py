"""A fault-injecting loopback proxy in front of a real platform server (Ghost, WordPress).

Every request goes on to `upstream` as it came and its answer comes back as the
server gave it, unless a fault of `tests/fakes/server.py` says otherwise:
`fail_next` and `rate_limit_next` answer without forwarding, `delay_next`
forwards and answers late (`delay_answer`), `lose_next` forwards (the server
commits) and then drops the connection, `chaos` mixes them; `requests` is what
the proxy received.
"""
from __future__ import annotations

from typing import Any, ClassVar

import httpx

from tests.fakes.server import FakeServer, Reply, Request

# hop-by-hop headers and those httpx sets itself (RFC 9110 §7.6.1)
HOP = frozenset({"host", "content-length", "connection", "keep-alive", "transfer-encoding", "accept-encoding", "te",
                 "upgrade", "proxy-connection"})
DROP_BACK = frozenset({"content-length", "connection", "keep-alive", "transfer-encoding", "content-encoding"})


class Forwarding(FakeServer):
    """`Forwarding(upstream)`: `url` is the proxy's; requests go on to `upstream`."""

    delay_answer: ClassVar[bool] = True

    def __init__(self, upstream: str, *, timeout: float = 30.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.upstream = upstream.rstrip("/")
        self._client = httpx.Client(timeout=timeout)

    def stop(self) -> None:
        super().stop()
        self._client.close()

    def forward(self, request: Request) -> httpx.Response:
        headers = {k: v for k, v in request.headers.items() if k not in HOP}
        query = [(k, v) for k, values in request.query.items() for v in values]
        return self._client.request(request.method, self.upstream + request.path, params=query, headers=headers,
                                    content=request.body)

    @staticmethod
    def relay(answer: httpx.Response) -> Reply:
        return Reply(answer.status_code, answer.content,
                     {k: v for k, v in answer.headers.items() if k.lower() not in DROP_BACK})

    def handle(self, request: Request) -> Reply:
        return self.relay(self.forward(request))
