"""Hostile clients for the webhook's defences: slow requests (a byte a second), huge forged bodies.

`Flood` runs its clients on an asyncio loop in a thread of its own, so a test
can make its valid deliveries from the main thread meanwhile. Each slow client
reconnects when the server drops it, so the pressure stays on. The pacing
(a byte a second) is the load itself, not a synchronisation: tests wait on
the counters here and on the server's /metrics.
"""
from __future__ import annotations

import asyncio
import contextlib
import resource
import threading
from collections.abc import Iterator

PREFIX = b"POST /hooks/github HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\n"


def raise_open_files(wanted: int) -> tuple[int, int] | None:
    """Raise this process's soft open-file limit to `wanted` (within the hard one); the old limits, or None."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return (soft, hard)
    if hard != resource.RLIM_INFINITY and hard < wanted:
        return None
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return (soft, hard)


@contextlib.contextmanager
def open_files(wanted: int) -> Iterator[bool]:
    """`wanted` descriptors for this process while inside; yields False when the hard limit forbids it."""
    old = raise_open_files(wanted)
    try:
        yield old is not None
    finally:
        if old is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, old)


class Flood:
    """`headers` clients trickling their request line and headers, `bodies` trickling a forged body."""

    def __init__(self, port: int, *, headers: int, bodies: int = 0, rate: float = 1.0) -> None:
        self.port = port
        self.headers = headers
        self.bodies = bodies
        self.delay = 1.0 / rate
        self.open = 0  # connections open now
        self.opened = 0
        self.dropped = 0  # closed by the server
        self.answers: dict[bytes, int] = {}  # the status lines the server sent before closing
        self.refused = 0
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="flood", daemon=True)

    def start(self) -> Flood:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())
        self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        tasks = [asyncio.ensure_future(self._client(i < self.bodies)) for i in range(self.headers + self.bodies)]
        await self._stop.wait()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _client(self, body: bool) -> None:
        assert self._stop is not None
        while not self._stop.is_set():
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                self.refused += 1
                await asyncio.sleep(self.delay)
                continue
            self.open += 1
            self.opened += 1
            reading = asyncio.ensure_future(reader.read(64))
            try:
                if body:  # the headers at once (a forged signature), then a megabyte a byte at a time
                    writer.write(PREFIX + b"X-Hub-Signature-256: sha256=" + b"0" * 64
                                 + b"\r\nContent-Length: 1048576\r\n\r\n")
                payload = b"x" * 1048576 if body else PREFIX
                for i in range(len(payload)):
                    writer.write(payload[i:i + 1])
                    done, _ = await asyncio.wait({reading}, timeout=self.delay)
                    if done:
                        break
                answer = await reading
                line = answer.split(b"\r\n", 1)[0]
                self.answers[line] = self.answers.get(line, 0) + 1
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                reading.cancel()
                self.open -= 1
                self.dropped += not self._stop.is_set()
                writer.close()
