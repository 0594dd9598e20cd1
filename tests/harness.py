"""Real processes for worker tests: a private Redis, Celery workers, a generated site."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pg_schema(url: str, prefix: str) -> tuple[str, Callable[[], None]]:
    """A URL of the PostgreSQL at `url` whose connections use a fresh schema of their own, and the call that
    drops it (tests' `pg_url` fixture, the benches' ledgers)."""
    import uuid

    import sqlalchemy as sa

    schema = prefix + uuid.uuid4().hex[:12]
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"create schema {schema}"))

    def drop() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text(f"drop schema {schema} cascade"))
        engine.dispose()

    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}", drop


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """A redis-server of our own on a free port, with an append-only file so a restart keeps the queue."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.dir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (./dev test installs it)")
        self.binary = binary

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


class Workers:
    """Celery worker processes started the way a user starts them (`celery -A syndicate.engine.tasks worker`)."""

    def __init__(self, config: Path, *, pool: str = "threads", concurrency: int = 8, log_dir: Path,
                 extra_env: dict[str, str] | None = None) -> None:
        self.config = config
        self.pool = pool
        self.concurrency = concurrency
        self.log_dir = log_dir
        self.env = {**os.environ, "SYNDICATE_CONFIG": str(config), **(extra_env or {})}
        self.env["PYTHONPATH"] = str(ROOT) + os.pathsep + self.env.get("PYTHONPATH", "")
        self.procs: list[subprocess.Popen[bytes]] = []
        self.beat_pids: set[int] = set()
        self.started = 0

    def start(self, n: int = 1, beat: bool = False) -> None:
        for _ in range(n):
            self.started += 1
            log = open(self.log_dir / f"worker-{self.started}.log", "wb")
            args = [sys.executable, "-m", "celery", "-A", "syndicate.engine.tasks", "worker",
                    f"--pool={self.pool}", f"--concurrency={self.concurrency}", "--loglevel=WARNING",
                    "--without-gossip", "--without-mingle", "-n", f"w{self.started}@%h"]
            if beat:
                args += ["-B", "-s", str(self.log_dir / f"beat-{self.started}")]
            proc = subprocess.Popen(args, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            self.procs.append(proc)
            if beat:
                self.beat_pids.add(proc.pid)

    def kill_one(self, index: int) -> bool:
        """SIGKILL one worker (and its children); True if it was running the periodic jobs."""
        proc = self.procs.pop(index % len(self.procs))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        had_beat = proc.pid in self.beat_pids
        self.beat_pids.discard(proc.pid)
        return had_beat

    def revive(self) -> int:
        """Restart workers that exited on their own, as a supervisor (Docker, systemd) would."""
        dead = [p for p in self.procs if p.poll() is not None]
        for proc in dead:
            self.procs.remove(proc)
            had_beat = proc.pid in self.beat_pids
            self.beat_pids.discard(proc.pid)
            self.start(1, beat=had_beat)
        return len(dead)

    def stop(self) -> None:
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        self.procs = []


def write_site(root: Path, n: int, *, prefix: str = "post") -> list[Path]:
    """A Hugo-like site of `n` small, valid, distinct posts."""
    posts = root / "content" / "posts"
    posts.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = posts / f"{prefix}-{i:04d}.md"
        path.write_text(
            f"---\ntitle: \"{prefix.title()} number {i}\"\ndate: 2024-01-{1 + i % 28:02d}T10:00:00Z\n"
            f"tags: [python, testing]\ndescription: \"Post {i} of a generated site.\"\n---\n\n"
            f"Body of post {i}. It has a [link](https://example.org/{i}) and `code`.\n",
            encoding="utf-8",
        )
        paths.append(path)
    return paths


def write_config(root: Path, targets: Iterable[str], *, state_url: str, broker: str | None = None,
                 queue: dict[str, object] | None = None, extra: Iterable[str] = ()) -> Path:
    lines = ["[site]", 'url = "https://blog.example"', 'content = ["content/posts/*.md"]',
             'permalink = "/posts/:slug/"', "", "[state]", f'url = "{state_url}"', ""]
    if broker:
        lines += ["[queue]", f'broker = "{broker}"']
        for key, value in (queue or {}).items():
            lines.append(f"{key} = {value!r}" if not isinstance(value, str) else f'{key} = "{value}"')
        lines.append("")
    lines += list(extra) + [""] + list(targets)
    path = root / "syndicate.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
