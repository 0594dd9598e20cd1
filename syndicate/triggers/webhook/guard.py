"""The webhook's connections, kept from starving it: read deadlines, a connection cap, no EMFILE on accept.

uvicorn (h11) times out idle keep-alive connections and can cap concurrency
with 503s, but a client that sends its request a byte a second is never
timed out, and once every descriptor is taken asyncio fails each accept()
with a traceback while valid pushes wait. Around it:

- `GuardedProtocol` (uvicorn's `H11Protocol`, extended): a connection must
  complete its request line and headers within `[webhook] header_timeout` of
  opening (or of its last answer), and then its body within `body_timeout`,
  else it gets 408 and is closed. After the headers, reading pauses until the
  app asks for the body (`webhook_body` reads it only once it holds a slot),
  and no read takes more than 16 KiB: a connection's memory does not depend
  on what its client sends.
- `Guard`: every connection by phase (waiting for a request, sending an
  unverified body, being answered). At `max_connections` (the open-file limit
  less a reserve for the ledger, Redis, git and spooled bodies) a new
  connection takes the place of the one that has waited longest without
  completing its request; if every connection is being answered, the new one
  gets 503 and is closed.
- `GuardedSocket`: the listening socket asks the guard before each accept(),
  so the process does not run out of descriptors there.

Why around uvicorn rather than a server of our own: the HTTP parsing, ASGI and
keep-alive stay uvicorn's; these classes only add deadlines and admission.
"""
from __future__ import annotations

import asyncio
import collections
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("syndicate.triggers.webhook.app")

READ_SIZE = 16 * 1024  # bytes per read from a socket (asyncio's default is 256 KiB)
IDLE, BODY, BUSY = "waiting for a request", "sending its body", "being answered"
TIMEOUT_408 = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
BUSY_503 = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nretry-after: 5\r\nconnection: close\r\n\r\n"


def open_file_limit() -> int:
    import resource

    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY else 65536


class Guard:
    """Every connection of one server, by phase, and the counts `/metrics` shows."""

    def __init__(self, *, header_timeout: float, body_timeout: float, max_unverified: int,
                 max_connections: int | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        limit = open_file_limit()
        reserve = max(64, limit // 8) + max_unverified
        self.max_connections = max_connections or max(8, limit - reserve)
        self.slack = max(4, reserve // 2)  # evicted connections may still hold descriptors for a loop turn
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self.clock = clock
        self.conns: dict[GuardedProtocol, None] = {}  # oldest phase first
        self.accepting: collections.deque[float] = collections.deque()  # accepted, not yet made
        self.closing = 0
        self.dropped: dict[str, int] = {}

    def count(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1

    # --- admission -------------------------------------------------------------------------

    def room(self) -> str:
        """Before an accept(): "ok", "later" (evicted ones are closing) or "shed" (answer 503)."""
        now = self.clock()
        while self.accepting and now - self.accepting[0] > 10.0:  # never made (a failed handshake)
            self.accepting.popleft()
        used = len(self.conns) + len(self.accepting)
        if used < self.max_connections:
            return "ok"
        victim = self.oldest_waiting()
        if victim is not None:
            victim.drop("evicted (new connection)")
            return "ok" if used < self.max_connections + self.slack else "later"
        return "later" if self.closing else "shed"

    def oldest_waiting(self) -> GuardedProtocol | None:
        """The connection that has waited longest without completing its request (idle or unverified body)."""
        for conn in self.conns:
            if conn.phase != BUSY and not conn.dropping and not conn.transport.is_closing():
                return conn
        return None

    def accepted(self) -> None:
        self.accepting.append(self.clock())

    def made(self, conn: GuardedProtocol) -> None:
        if self.accepting:
            self.accepting.popleft()
        self.conns[conn] = None
        if len(self.conns) > self.max_connections + self.slack:  # accepted without asking (plain uvicorn)
            (self.oldest_waiting() or conn).drop("evicted (new connection)")

    def moved(self, conn: GuardedProtocol) -> None:
        self.conns.pop(conn, None)
        self.conns[conn] = None

    def lost(self, conn: GuardedProtocol) -> None:
        self.conns.pop(conn, None)
        if conn.dropping:
            self.closing -= 1


class GuardedProtocol(H11Protocol):
    """uvicorn's h11 protocol with a header deadline, a pause before the body, and its place in the `Guard`."""

    def __init__(self, config: Any, server_state: Any, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        guard = app_state.get("syndicate.guard")
        self.guard: Guard = guard if isinstance(guard, Guard) else DEFAULT
        self.phase = IDLE
        self.since = 0.0
        self.request_at = 0.0  # when the current request's headers were in
        self.dropping = False
        self.closed_why: str | None = None  # why the server closed it (the app then logs nothing more)
        self.partial = False  # bytes of a request came in since the last answer (or the connection)
        self.answered = 0
        self._deadline: asyncio.TimerHandle | None = None
        self._cycle: Any = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if hasattr(transport, "max_size"):  # asyncio's selector transport: bytes per recv()
            transport.max_size = READ_SIZE
        self.since = self.guard.clock()
        self.guard.made(self)
        self._arm()

    def data_received(self, data: bytes) -> None:
        self.partial = True
        super().data_received(data)
        self._follow()

    def on_response_complete(self) -> None:
        self.answered += 1
        self.partial = False
        super().on_response_complete()
        self._follow()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self.guard.lost(self)
        super().connection_lost(exc)

    def _follow(self) -> None:
        """After h11 moved on: the phase now, a new request's scope extended, the deadline (re)armed."""
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            phase = IDLE
        elif self.conn.their_state is h11.SEND_BODY:
            phase = BODY
        else:
            phase = BUSY
        if cycle is not None and cycle is not self._cycle:  # a new request: its headers are in
            self._cycle = cycle
            self.request_at = self.guard.clock()
            extensions: dict[str, Any] = cycle.scope.setdefault("extensions", {})
            extensions["syndicate.connection"] = self
            if phase == BODY:
                self.flow.pause_reading()  # the app resumes it when it reads the body (`receive`)
        if phase == self.phase:
            return
        self.phase, self.since = phase, self.guard.clock()
        self.guard.moved(self)
        self._arm()

    def _arm(self) -> None:
        """The deadline of the phase: the headers' while waiting for a request, the body's while it comes."""
        self._disarm()
        if self.phase == IDLE:
            self._deadline = self.loop.call_later(self.guard.header_timeout, self._late)
        elif self.phase == BODY:
            self._deadline = self.loop.call_later(self.request_at + self.guard.body_timeout - self.guard.clock(),
                                                  self._late)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _late(self) -> None:
        self._deadline = None
        if self.phase == BUSY or self.transport.is_closing():
            return
        if self.phase == IDLE and self.answered and not self.partial:  # an idle keep-alive connection
            self.transport.close()
            return
        what, key, limit = (("header timeout", "no complete request", self.guard.header_timeout) if self.phase == IDLE
                            else ("body timeout", "its body did not arrive", self.guard.body_timeout))
        self.closed_why = what
        self.guard.count(what)
        log.info("answered 408 to %s and closed: %s in %gs (%s)", _peer(self.client), key, limit,
                 what.replace(" ", "_"))
        self.transport.write(TIMEOUT_408)
        self.transport.close()

    def drop(self, reason: str) -> None:
        """Close at once (its descriptor is freed on the next loop turn); the app sees a disconnect."""
        if self.dropping or self.transport is None or self.transport.is_closing():
            return
        self.dropping = True
        self.closed_why = reason
        self.guard.closing += 1
        self.guard.count(reason)
        log.info("dropped a connection from %s (%s): %s", _peer(self.client), self.phase, reason)
        self.transport.abort()


class GuardedSocket(socket.socket):
    """The listening socket: each accept() asks the `Guard` first, so descriptors never run out there."""

    guard: Guard

    def accept(self) -> tuple[socket.socket, Any]:
        verdict = self.guard.room()
        if verdict == "later":  # the evicted ones close on the next loop turn; the client waits in the backlog
            raise BlockingIOError
        conn, addr = super().accept()
        if verdict == "shed":
            self.guard.count("refused (all busy)")
            log.warning("refused a connection from %s: all %d connections are being answered", _peer(addr),
                        len(self.guard.conns))
            try:
                conn.send(BUSY_503, socket.MSG_DONTWAIT)
            except OSError:
                pass
            conn.close()
            raise BlockingIOError
        self.guard.accepted()
        return conn, addr


def listen(host: str, port: int, guard: Guard) -> GuardedSocket:
    """A listening socket on (host, port) whose accept() the guard admits."""
    family, kind, proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = GuardedSocket(family, kind, proto)
    sock.guard = guard
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.set_inheritable(True)
    return sock


def serve(app: Any, guard: Guard, *, host: str, port: int, proxy_headers: bool, trusted: str) -> None:
    """Run `app` under uvicorn with the guarded protocol and socket, logging through `webhook_log`."""
    import uvicorn

    from syndicate.errors import SyndicateError
    from syndicate.triggers.webhook.log import setup

    setup()
    try:
        sock = listen(host, port, guard)
    except OSError as exc:
        raise SyndicateError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    config = uvicorn.Config(app, host=host, port=port, http=GuardedProtocol, proxy_headers=proxy_headers,
                            forwarded_allow_ips=trusted, access_log=False, log_config=None, server_header=False,
                            lifespan="on", timeout_graceful_shutdown=10)
    uvicorn.Server(config).run(sockets=[sock])


def _peer(client: Any) -> str:
    if isinstance(client, tuple) and len(client) >= 2:
        return f"{client[0]}:{client[1]}"
    return "?"


DEFAULT = Guard(header_timeout=10.0, body_timeout=30.0, max_unverified=16)  # `uvicorn --http` without our app
