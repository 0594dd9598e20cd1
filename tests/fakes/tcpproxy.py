"""A TCP proxy on loopback for broker faults: it forwards, pauses, or drops and refuses.

`TcpProxy(port)` listens on a free port of its own and forwards every byte to
`127.0.0.1:port` (a real Redis). `pause()` holds every byte both ways and
accepts new connections without forwarding them (a partition: nothing is
refused, nothing answers); `drop()` resets every connection and each new one on arrival
(the server vanished), and `refuse_after(n)` does so after n more connections;
`resume()` forwards again. `TcpProxy(None)` forwards
nowhere: it accepts and never answers (a broker that hangs).
"""
from __future__ import annotations

import selectors
import socket
import struct
import threading


def _reset(sock: socket.socket) -> None:
    """Close with a TCP RST, as a vanished host's kernel answers."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class TcpProxy:
    """One thread, one selector; `url(scheme, db)` is the address clients use."""

    def __init__(self, upstream_port: int | None) -> None:
        self.upstream = upstream_port
        self.mode = "forward"  # "forward" | "pause" | "drop"
        self._lock = threading.Lock()
        self._sel = selectors.DefaultSelector()
        self._pairs: dict[socket.socket, socket.socket | None] = {}  # client -> upstream (None: held)
        self._held: dict[tuple[socket.socket, str], bytearray] = {}  # (client, "up"|"down") -> bytes held
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self.accepted = 0
        self.refused = 0  # connections reset on arrival while dropped
        self._budget: int | None = None  # `refuse_after`: connections still forwarded
        self._listen(0)
        self._thread = threading.Thread(target=self._run, name="tcpproxy", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self._port

    def url(self, scheme: str = "redis", db: int | None = None) -> str:
        return f"{scheme}://127.0.0.1:{self._port}" + (f"/{db}" if db is not None else "")

    # --- faults -------------------------------------------------------------------------

    def pause(self) -> None:
        with self._lock:
            self.mode = "pause"
        self._wake()

    def drop(self) -> None:
        """Reset every connection, and each new one as soon as it is made (counted in `refused`), until `resume`."""
        with self._lock:
            self.mode = "drop"
        self._wake()

    def refuse_after(self, n: int) -> None:
        """Forward the next `n` connections, then `drop` (a broker that goes away after a first check)."""
        with self._lock:
            self._budget = self.accepted + n

    def resume(self) -> None:
        with self._lock:
            self.mode = "forward"
            self._budget = None
        self._wake()

    def close(self) -> None:
        self._stop.set()
        self._wake()
        self._thread.join(10)

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the loop -------------------------------------------------------------------------

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass

    def _listen(self, port: int) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
        sock.setblocking(False)
        self._port = sock.getsockname()[1]
        self._listener = sock
        self._sel.register(sock, selectors.EVENT_READ, "listen")

    def _unlisten(self) -> None:
        if self._listener is not None:
            self._sel.unregister(self._listener)
            self._listener.close()
            self._listener = None

    def _run(self) -> None:
        applied = "forward"
        while not self._stop.is_set():
            with self._lock:
                mode = self.mode
            if mode != applied:
                self._apply(mode)
                applied = mode
            for key, _events in self._sel.select(timeout=0.5):
                if key.data == "wake":
                    self._wake_r.recv(4096)
                elif key.data == "listen":
                    self._accept(mode)
                else:
                    self._relay(key.fileobj, mode)  # type: ignore[arg-type]
        for sock in [*self._pairs, *(u for u in self._pairs.values() if u is not None)]:
            sock.close()
        self._unlisten()
        self._sel.close()

    def _apply(self, mode: str) -> None:
        if mode == "drop":
            for client in list(self._pairs):
                self._close_pair(client, rst=True)
        elif self._listener is None:
            self._listen(self._port)
        if mode == "forward":  # connect the held clients, deliver what was held
            for client, up in list(self._pairs.items()):
                if up is None:
                    self._connect(client)
                up = self._pairs.get(client)
                if up is not None and self._held.get((client, "up")):
                    self._send(up, bytes(self._held.pop((client, "up"))))
                if client in self._pairs and self._held.get((client, "down")):
                    self._send(client, bytes(self._held.pop((client, "down"))))

    def _accept(self, mode: str) -> None:
        assert self._listener is not None
        try:
            client, _ = self._listener.accept()
        except OSError:
            return
        self.accepted += 1
        if mode == "drop":
            self.refused += 1  # a client trying to reconnect: the test can wait on this count
            _reset(client)
            return
        if self._budget is not None and self.accepted > self._budget:
            _reset(client)
            with self._lock:
                self.mode = "drop"
            return
        client.setblocking(False)
        self._pairs[client] = None
        self._sel.register(client, selectors.EVENT_READ, ("client", client))
        if mode == "forward":
            self._connect(client)

    def _connect(self, client: socket.socket) -> None:
        if self.upstream is None:
            return  # a broker that accepts and never answers
        try:
            up = socket.create_connection(("127.0.0.1", self.upstream), timeout=5)
        except OSError:
            self._close_pair(client, rst=True)
            return
        up.setblocking(False)
        self._pairs[client] = up
        self._sel.register(up, selectors.EVENT_READ, ("upstream", client))

    def _relay(self, sock: socket.socket, mode: str) -> None:
        side, client = self._sel.get_key(sock).data
        try:
            data = sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._close_pair(client)
            return
        direction = "up" if side == "client" else "down"
        dest = self._pairs.get(client) if direction == "up" else client
        if self.upstream is None:
            return  # swallowed: nobody answers
        if mode == "forward" and dest is not None:
            self._send(dest, data)
        else:
            self._held.setdefault((client, direction), bytearray()).extend(data)

    def _send(self, dest: socket.socket, data: bytes) -> None:
        try:
            dest.setblocking(True)
            dest.sendall(data)
            dest.setblocking(False)
        except OSError:
            pass

    def _close_pair(self, client: socket.socket, *, rst: bool = False) -> None:
        up = self._pairs.pop(client, None)
        self._held.pop((client, "up"), None)
        self._held.pop((client, "down"), None)
        for sock in (client, up):
            if sock is None:
                continue
            try:
                self._sel.unregister(sock)
            except (KeyError, ValueError):
                pass
            if rst:
                _reset(sock)
            else:
                sock.close()
