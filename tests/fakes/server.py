"""A small base for fake platform servers: real HTTP on 127.0.0.1, thread-safe state.

A subclass implements `handle(request) -> Reply` (called under `self.lock`) and
may declare documented rate limits (`rates`, enforced per account in sliding
windows scaled by `time_scale`). Tests inject faults: `fail_next`,
`rate_limit_next`, `delay_next`, `lose_next` (commit, then drop the connection
without answering), `hold_next` (drop the connection, commit at `release()`),
or a seeded random `chaos` mode. `quiesce()` waits until no request is in flight.
"""
from __future__ import annotations

import email.parser
import email.policy
import json
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

_SECRET_HEADERS = {"authorization", "api-key", "cookie"}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def form(self) -> dict[str, tuple[str | None, bytes]]:
        """multipart/form-data fields: name -> (filename, bytes)."""
        ctype = self.headers.get("content-type", "")
        if not ctype.startswith("multipart/form-data"):
            return {}
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + self.body
        )
        out: dict[str, tuple[str | None, bytes]] = {}
        for part in message.iter_parts():  # type: ignore[attr-defined]
            name = part.get_param("name", header="content-disposition")
            if name:
                out[str(name)] = (part.get_filename(), part.get_payload(decode=True) or b"")
        return out

    def __repr__(self) -> str:
        shown = {k: ("***" if k in _SECRET_HEADERS else v) for k, v in self.headers.items()}
        return f"Request({self.method} {self.path} {shown})"


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON-serialisable, or bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Fault:
    kind: str  # "fail" | "page" | "rate" | "delay" | "lose" | "hold"
    left: int
    value: float = 0.0
    method: str | None = None
    path: str | None = None

    def applies(self, request: Request) -> bool:
        if self.method and request.method != self.method:
            return False
        if self.path and not request.path.startswith(self.path):
            return False
        return self.kind not in ("lose", "hold") or request.method != "GET"


class FakeServer:
    """Start with `start()` or `with FakeServer() as server:`; `url` is its base URL."""

    rates: ClassVar[dict[str, tuple[int, float]]] = {}  # kind -> (amount, seconds)
    # True: a delay fault holds the *answer* (the write is committed first). A proxy in front of a
    # platform with no idempotency key sets it: a request held in transit past the client's timeout
    # and committed after the client's `find` cannot be told from a new post there.
    delay_answer: ClassVar[bool] = False

    def __init__(self, *, latency: float = 0.0, time_scale: float | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.latency = latency
        self.time_scale = time_scale  # None: documented rate limits off
        self.clock = clock  # the rate-limit windows' time (a test may freeze it)
        self.requests: list[Request] = []
        self._faults: list[_Fault] = []
        self._chaos: tuple[float, float, float, float, float] | None = None
        self._rng = random.Random(0)
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._stopping = threading.Event()
        self._calmed = threading.Event()  # set by `calm()`: held requests go on at once
        self._busy = threading.Condition(self.lock)
        self._inflight = 0  # requests received and not yet answered (or dropped)
        self._held: list[Request] = []  # writes `hold_next` took: committed by `release()` or `calm()`
        self.journal: list[tuple[str, str, str]] = []  # (method, path, injected fault) for failure messages
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle ------------------------------------------------------------------

    def start(self) -> FakeServer:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = _Quiet(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name=type(self).__name__, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # fault injection --------------------------------------------------------------

    def _add(self, fault: _Fault) -> None:
        with self.lock:
            self._faults.append(fault)
            self._calmed.clear()

    def fail_next(self, n: int = 1, status: int = 503, *, method: str | None = None, path: str | None = None) -> None:
        self._add(_Fault("fail", n, status, method, path))

    def page_next(self, n: int = 1, status: int = 502, *, method: str | None = None, path: str | None = None) -> None:
        """The next `n` requests get a proxy's HTML error page (nothing reaches the platform)."""
        self._add(_Fault("page", n, status, method, path))

    def rate_limit_next(self, n: int = 1, retry_after: float = 1, *, method: str | None = None, path: str | None = None) -> None:
        self._add(_Fault("rate", n, retry_after, method, path))

    def delay_next(self, n: int = 1, seconds: float = 1.0, *, method: str | None = None, path: str | None = None) -> None:
        self._add(_Fault("delay", n, seconds, method, path))

    def lose_next(self, n: int = 1, *, method: str | None = None, path: str | None = None) -> None:
        """The next `n` writes are committed, then the connection drops unanswered."""
        self._add(_Fault("lose", n, 0, method, path))

    def hold_next(self, n: int = 1, *, method: str | None = None, path: str | None = None) -> None:
        """The next `n` writes are held in transit: the connection drops unanswered at once, and the write
        lands later, when the test calls `release()` (or `calm()`). No clock: a late commit, in order."""
        self._add(_Fault("hold", n, 0, method, path))

    def release(self) -> None:
        """Commit the writes `hold_next` (or a chaos timeout) held, in the order they came."""
        with self.lock:
            held, self._held = self._held, []
            for request in held:
                self.handle(request)

    def drop_held(self) -> None:
        """Forget the held writes: they never land (a request that died in transit)."""
        with self.lock:
            self._held = []

    def quiesce(self, timeout: float = 60.0) -> None:
        """Wait until every request received has been answered or dropped (a condition, not a sleep)."""
        with self._busy:
            if not self._busy.wait_for(lambda: self._inflight == 0, timeout):
                raise AssertionError(f"{self._inflight} request(s) still in flight after {timeout}s")

    def chaos(self, p_5xx: float = 0.0, p_429: float = 0.0, p_timeout: float = 0.0, p_lost: float = 0.0,
              seed: int = 0, timeout: float = 2.0) -> None:
        """Random faults on every request from now on (`p_lost` only hits writes)."""
        with self.lock:
            self._chaos = (p_5xx, p_429, p_timeout, p_lost, timeout)
            self._rng = random.Random(seed)
            self._calmed.clear()

    def calm(self) -> None:
        """No more injected faults."""
        with self.lock:
            self._faults.clear()
            self._chaos = None
        self._calmed.set()  # a delayed request goes on now
        self.release()

    def _pick_faults(self, request: Request) -> list[_Fault]:
        with self.lock:
            picked: list[_Fault] = []
            for fault in self._faults:
                if fault.left > 0 and fault.applies(request) and all(f.kind != fault.kind for f in picked):
                    fault.left -= 1
                    picked.append(fault)
            self._faults = [f for f in self._faults if f.left > 0]
            if self._chaos and not picked:
                p_5xx, p_429, p_timeout, p_lost, timeout = self._chaos
                roll = self._rng.random()
                if roll < p_5xx:
                    picked.append(_Fault("fail", 1, 503))
                elif roll < p_5xx + p_429:
                    picked.append(_Fault("rate", 1, 1))
                elif roll < p_5xx + p_429 + p_timeout:
                    # a request held past the client's patience, with no clock: the client hears nothing
                    # at once, and the request (a write) lands later, at `calm()`. A proxy (delay_answer)
                    # forwards to a real server, so it commits first and answers late instead.
                    picked.append(_Fault("delay", 1, timeout) if self.delay_answer else _Fault("hold", 1))
                elif roll < p_5xx + p_429 + p_timeout + p_lost and request.method != "GET":
                    picked.append(_Fault("lose", 1))
            return picked

    # documented rate limits ----------------------------------------------------------

    def rate_kind(self, request: Request) -> str | None:
        """Which of `rates` this request counts against (subclasses)."""
        return None

    def account_of(self, request: Request) -> str:
        """Whose limits a request counts against (subclasses: from the credentials)."""
        return "anonymous"

    def error_body(self, status: int, message: str) -> Any:
        return {"error": message, "status": status}

    def rate_limited(self, retry_after: float, limit: int, reset: float) -> Reply:
        wait = max(1, math.ceil(retry_after))
        return Reply(
            429,
            self.error_body(429, f"Rate limit reached, try again in {wait} seconds"),
            {"Retry-After": str(wait), "X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0",
             "X-RateLimit-Reset": str(int(reset))},
        )

    def window_limited(self, retry_after: float, limit: int, reset: float) -> Reply:
        """The 429 for a documented limit (subclasses: the platform's own headers)."""
        return self.rate_limited(retry_after, limit, reset)

    def _check_window(self, request: Request) -> Reply | None:
        if self.time_scale is None:
            return None
        kind = self.rate_kind(request)
        if kind is None or kind not in self.rates:
            return None
        amount, seconds = self.rates[kind]
        window = seconds * self.time_scale
        now = self.clock()
        with self.lock:
            hits = self._windows.setdefault((self.account_of(request), kind), deque())
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= amount:
                reset = hits[0] + window
                return self.window_limited(reset - now, amount, reset)
            hits.append(now)
        return None

    # dispatch -----------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        raise NotImplementedError

    def dispatch(self, request: Request) -> tuple[Reply | None, bool]:
        """The reply and whether to drop the connection instead of answering."""
        with self.lock:
            self.requests.append(request)
        if self.latency:
            self._stopping.wait(self.latency)
        lose = False
        delay = 0.0
        faults = self._pick_faults(request)
        with self.lock:
            self.journal.append((request.method, request.path, "+".join(f.kind for f in faults) or "-"))
        for fault in faults:
            if fault.kind == "hold":
                with self.lock:
                    self._held.append(request)  # lands at `release()`; the client hears nothing
                return None, True
            if fault.kind == "fail":
                return Reply(int(fault.value), self.error_body(int(fault.value), "Service Unavailable")), False
            if fault.kind == "page":
                return proxy_page(int(fault.value)), False
            if fault.kind == "rate":
                return self.rate_limited(fault.value, 1, time.time() + fault.value), False
            if fault.kind == "delay":
                if not self.delay_answer:
                    self._wait(fault.value)
                delay += fault.value
            if fault.kind == "lose":
                lose = True
        limited = self._check_window(request)
        if limited is not None:
            return limited, False
        with self.lock:
            reply = self.handle(request)
        if self.delay_answer and delay:
            self._wait(delay)
        return reply, lose

    def _wait(self, seconds: float) -> None:
        """A held request's wait: cut short by `calm()` or `stop()`."""
        deadline = time.monotonic() + seconds
        while not (self._stopping.is_set() or self._calmed.is_set()):
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._calmed.wait(min(left, 0.05))


def proxy_page(status: int) -> Reply:
    """What nginx in front of a platform answers when the application behind it is down."""
    from http import HTTPStatus

    phrase = HTTPStatus(status).phrase
    style = "body { font-family: sans-serif; } " * 40  # a real page is long; the error must stay short
    page = (f"<html>\n<head><title>{status} {phrase}</title><style>{style}</style></head>\n<body>\n"
            f"<center><h1>{status} {phrase}</h1></center>\n<hr><center>nginx/1.25.3</center>\n</body>\n</html>\n")
    return Reply(status, page.encode(), {"Content-Type": "text/html"})


class _Quiet(ThreadingHTTPServer):
    # a real server's listen backlog (nginx: 511), not socketserver's 5: a burst of new connections from
    # 32 worker threads must not overflow the accept queue while this process's GIL is busy elsewhere
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], OSError):  # a client that hung up is normal here
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave together: no 40 ms delayed-ACK stalls
    wbufsize = 1 << 16
    fake: ClassVar[FakeServer]

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            self.command, split.path, parse_qs(split.query), {k.lower(): v for k, v in self.headers.items()}, body
        )
        fake = self.fake
        with fake._busy:
            fake._inflight += 1
        try:
            self._answer(request)
        finally:
            with fake._busy:
                fake._inflight -= 1
                fake._busy.notify_all()

    def _answer(self, request: Request) -> None:
        try:
            reply, lose = self.fake.dispatch(request)
        except Exception as exc:  # a bug in a fake must show, not hang the client
            reply, lose = Reply(500, {"error": f"fake server error: {type(exc).__name__}: {exc}"}), False
        if lose or reply is None:
            self.close_connection = True
            return
        data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            if not isinstance(reply.body, bytes):
                self.send_header("Content-Type", "application/json; charset=utf-8")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            self.close_connection = True  # the client gave up (timeout)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass
