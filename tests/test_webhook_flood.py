"""The webhook cannot be starved (issue 13.36): slow clients, huge forged bodies and disconnects, against a real
`syndicate serve` subprocess; and the parts alone (body slots, log throttle) with an injected clock.

Every wait is on a condition: a socket's answer, a counter of the flood, a line in the server's log.
"""
from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import re
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from syndicate.triggers.webhook.body import Slots
from syndicate.triggers.webhook.guard import BODY, BUSY, IDLE, Guard
from syndicate.triggers.webhook.log import Throttle, on_loop_error
from tests.conftest import REDIS_URL
from tests.flood import Flood, open_files
from tests.test_webhook import Repo, Server, deliver, headers, payload, wait_for, write_config

SLOW = 1100
NOFILE = 256  # the server's open-file limit: far fewer than the clients


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for s in started:
        s.stop()


def metric(server: Server, name: str, **labels: str) -> float:
    text = server.http.get("/metrics").text
    want = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")
    for line in text.splitlines():
        if line.startswith(want + " "):
            return float(line.split()[-1])
    return 0.0


def test_valid_pushes_and_healthz_are_answered_during_a_flood_of_slow_clients(
        tmp_path: Path, servers: list[Server]) -> None:
    import redis

    with open_files(SLOW + 1024) as ok:
        if not ok:
            pytest.skip(f"this machine's hard open-file limit is below {SLOW + 1024}")
        queue = f"webhook-flood-{uuid.uuid4().hex[:8]}"
        server = Server(write_config(tmp_path / "site", Repo(tmp_path / "git").bare, broker=REDIS_URL, queue=queue),
                        nofile=NOFILE)
        servers.append(server)
        server.http = httpx.Client(base_url=server.url, timeout=30, limits=httpx.Limits(max_keepalive_connections=0))
        cap = metric(server, "syndicate_webhook_connections_max")
        assert 0 < cap < NOFILE
        # 1,000 clients trickle their headers and 100 their (forged) bodies, a byte a second, reconnecting
        flood = Flood(server.port, headers=SLOW - 100, bodies=100).start()
        try:
            wait_for("the server to be full and evicting", lambda: flood.dropped >= 2 * NOFILE, deadline=120)
            for _ in range(10):
                r = deliver(server, "github", payload("github", "a" * 40, os.urandom(20).hex()))
                assert (r.status_code, r.text) == (202, "queued")
                assert server.http.get("/healthz").status_code == 200
            assert metric(server, "syndicate_webhook_connections") < NOFILE - 16
            assert metric(server, "syndicate_webhook_dropped_total", reason="evicted (new connection)") > 0
        finally:
            flood.stop()
        redis.Redis.from_url(REDIS_URL).delete(queue)
    log = server.text()
    assert "Traceback" not in log and "out of system resource" not in log
    assert len(log.splitlines()) < 50, log  # one line per kind of event per 10 s, with a count


def _config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "site", Repo(tmp_path / "git").bare, broker=REDIS_URL,
                        queue=f"webhook-flood-{uuid.uuid4().hex[:8]}",
                        extra='header_timeout = "1s"\nbody_timeout = "1s"')


def _answer(sock: socket.socket) -> bytes:
    sock.settimeout(60)  # a deadline, not a wait: the server answers after its own timeout
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    return data


def test_slow_headers_and_slow_bodies_get_408_and_a_disconnect_is_one_info_line(
        tmp_path: Path, servers: list[Server]) -> None:
    server = Server(_config(tmp_path))
    servers.append(server)
    with socket.create_connection(("127.0.0.1", server.port)) as slow_headers:
        slow_headers.sendall(b"POST /hooks/github HTTP/1.1\r\nHost: x\r\n")
        assert _answer(slow_headers).startswith(b"HTTP/1.1 408 ")
    with socket.create_connection(("127.0.0.1", server.port)) as slow_body:
        slow_body.sendall(b"POST /hooks/github HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: sha256=00\r\n"
                          b"Content-Length: 100\r\n\r\n" + b"{" * 10)
        assert _answer(slow_body).startswith(b"HTTP/1.1 408 ")
    with socket.create_connection(("127.0.0.1", server.port)) as gone:
        gone.sendall(b"POST /hooks/github HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: sha256=00\r\n"
                     b"Content-Length: 100\r\n\r\n" + b"{" * 10)
    wait_for("the disconnect in the log", lambda: "went away mid-body" in server.text())
    assert metric(server, "syndicate_webhook_dropped_total", reason="header timeout") == 1
    assert metric(server, "syndicate_webhook_dropped_total", reason="body timeout") == 1
    assert metric(server, "syndicate_webhook_dropped_total", reason="client went away") == 1
    # a good delivery still goes through on the same server
    # a commit of its own: Redis remembers an `after` for 24 h, across sessions sharing the test database
    r = deliver(server, "github", payload("github", "a" * 40, os.urandom(20).hex()))
    assert (r.status_code, r.text) == (202, "queued")
    log = server.text()
    assert "Traceback" not in log and "Exception in ASGI" not in log
    gone_lines = [line for line in log.splitlines() if "went away" in line]
    assert len(gone_lines) == 1 and " INFO " in gone_lines[0]


def test_huge_forged_bodies_are_refused_without_holding_them(tmp_path: Path, servers: list[Server]) -> None:
    server = Server(write_config(tmp_path / "site", Repo(tmp_path / "git").bare, broker=REDIS_URL,
                                 queue=f"webhook-flood-{uuid.uuid4().hex[:8]}", extra="max_unverified = 2"))
    servers.append(server)
    body = json.dumps({"padding": "x" * (4 << 20)}).encode()
    forged = headers("github", body, secret="not the secret")

    async def send_all() -> list[int]:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            answers = await asyncio.gather(*(http.post("/hooks/github", content=body, headers=forged)
                                             for _ in range(6)), return_exceptions=True)
        return [a.status_code if not isinstance(a, BaseException) else 0 for a in answers]

    statuses = asyncio.run(send_all())
    assert set(statuses) <= {401, 0} and 401 in statuses  # refused, or closed when a newer body took the slot
    assert metric(server, "syndicate_webhook_deliveries_total", host="github", result="forged") >= 1
    assert metric(server, "syndicate_webhook_unverified_bodies") == 0


# --- the parts alone ---------------------------------------------------------------------------


class Conn:
    def __init__(self) -> None:
        self.dropped: list[str] = []

    def drop(self, reason: str) -> None:
        self.dropped.append(reason)


def test_body_slots_are_capped_and_the_slowest_gives_way() -> None:
    now = [100.0]
    slots = Slots(2, clock=lambda: now[0], grace=1.0)
    a, b, c = Conn(), Conn(), Conn()

    async def scenario() -> None:
        first = await slots.take(a, deadline=now[0] + 30)
        second = await slots.take(b, deadline=now[0] + 30)
        assert first is not None and second is not None
        # both young: a third cannot take a slot, and gives up at its deadline
        assert await slots.take(c, deadline=now[0]) is None
        now[0] += 5
        first.received, second.received = 5, 50_000  # a byte a second against a real sender
        third = await slots.take(c, deadline=now[0] + 30)
        assert third is not None and first.evicted and a.dropped and not second.evicted
        assert len(slots.held) == 2 and slots.evictions == 1
        # a waiter is woken by a release (the injected clock stands still: no holder ever gets slow)
        one = Slots(1, clock=lambda: now[0], grace=1.0)
        held = await one.take(Conn(), deadline=now[0] + 30)
        assert held is not None
        waiting = asyncio.ensure_future(one.take(Conn(), deadline=now[0] + 30))
        await asyncio.sleep(0)
        assert not waiting.done()
        one.release(held)
        assert await asyncio.wait_for(waiting, 30) is not None

    asyncio.run(scenario())


def _record(msg: str, *args: object, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord("syndicate.triggers.webhook.app", level, __file__, 1, msg, args, None)


def test_the_log_throttle_passes_one_line_per_kind_per_window_and_counts_the_rest() -> None:
    now = [0.0]
    throttle = Throttle(window=10.0, clock=lambda: now[0])
    template = "closed a connection from %s: no complete request in %gs (header_timeout)"
    passed = [throttle.filter(_record(template, f"10.0.0.{i}:5", 10.0)) for i in range(1100)]
    assert passed.count(True) == 1
    assert throttle.filter(_record("another kind of line %s", "x"))  # kinds are counted apart
    now[0] = 10.5
    later = _record(template, "10.0.0.1:5", 10.0)
    assert throttle.filter(later)
    assert later.getMessage().endswith("(+1,099 more like it in 10s)")
    assert not throttle.filter(_record(template, "10.0.0.2:5", 10.0))
    # a verified push's sync lines all share one template; every one of them is shown
    lines = [_record("%s", f"new content/posts/{i}.md → devto: create") for i in range(3)]
    for line in lines:
        line.throttle = False
    assert all(throttle.filter(line) for line in lines)


def test_running_out_of_descriptors_on_accept_is_one_line_without_a_traceback(
        caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.new_event_loop()
    try:
        with caplog.at_level(logging.INFO, logger="syndicate.triggers.webhook.app"):
            on_loop_error(loop, {"message": "socket.accept() out of system resource",
                                 "exception": OSError(errno.EMFILE, "Too many open files")})
    finally:
        loop.close()
    [record] = caplog.records
    assert record.exc_info is None and re.search(r"cannot accept a connection: .*EMFILE", record.getMessage())


class FakeTransport:
    def __init__(self) -> None:
        self.closing = False

    def is_closing(self) -> bool:
        return self.closing


class FakeConnection:
    """What the guard reads of a connection, and its `drop`."""

    def __init__(self, guard: Guard, phase: str) -> None:
        self.guard, self.phase, self.dropping, self.transport = guard, phase, False, FakeTransport()

    def drop(self, reason: str) -> None:
        self.dropping, self.transport.closing = True, True
        self.guard.closing += 1
        self.guard.count(reason)


def test_at_the_cap_the_longest_waiting_connection_gives_way_and_busy_ones_never_do() -> None:
    guard = Guard(header_timeout=10, body_timeout=30, max_unverified=2, max_connections=3, clock=lambda: 0.0)
    guard.slack = 1
    busy, idle, body = FakeConnection(guard, BUSY), FakeConnection(guard, IDLE), FakeConnection(guard, BODY)
    for conn in (busy, idle, body):  # in this order: `busy` is the oldest
        guard.made(conn)
    assert guard.room() == "ok" and idle.dropping and not busy.dropping  # the oldest that is not being answered
    guard.accepted()
    assert guard.room() == "later" and body.dropping  # past the slack: wait a loop turn for the closes
    for conn in (idle, body):
        guard.lost(conn)
    assert guard.closing == 0 and guard.room() == "ok"
    guard.made(FakeConnection(guard, BUSY))
    guard.made(FakeConnection(guard, BUSY))
    assert guard.room() == "shed"  # every connection is being answered: the new one is refused
    assert guard.dropped == {"evicted (new connection)": 2}
