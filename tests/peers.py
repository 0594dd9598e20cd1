"""The real platform servers of ../shared/peers: installed once per machine before any test runs.

A peer's first start installs it (Ghost, WordPress and the Bluesky PDS take
minutes). That must not happen inside a test, under pytest-timeout's limit:
`ensure()` runs from a pytest set-up hook (tests/conftest.py) for the peers
the collected tests use, with its own limit and a progress line. The peer
scripts cache the install in `$PEERS_CACHE` (default ~/.cache/syndicate-peers);
a stamp there, keyed on the peer's scripts, says it is done. `running()` then
starts one instance per test session (per xdist worker) in seconds.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.paths import SHARED

INSTALL_LIMIT = float(os.environ.get("SYNDICATE_PEER_INSTALL_TIMEOUT", "3600"))  # seconds, each peer (Ghost: 2 min idle, 28 min at load 20)
START_LIMIT = 300.0  # an installed peer starts in 2-7 s; this only bounds a hang


@dataclass(frozen=True)
class Peer:
    name: str
    module: str  # the test module that uses it
    stop_key: str  # what stop.sh takes from start.sh's JSON
    env_keys: tuple[str, ...] = ()  # variables that change what gets installed
    root: Path | None = None  # its scripts' folder (default ../shared/peers/NAME)

    @property
    def dir(self) -> Path:
        return self.root or SHARED / "peers" / self.name


PEERS = {p.name: p for p in (
    Peer("ghost", "test_ghost_peer.py", "run_dir", ("GHOST_VERSION", "GHOST_FALLBACK_NODE")),
    Peer("wordpress", "test_wordpress_peer.py", "run_dir", ("WP_DEB_VERSION",)),
    Peer("bluesky-pds", "test_bluesky_peer.py", "pid"),
)}


def outer_env() -> dict[str, str]:
    """The environment the test session started with: the peers keep the real HOME (npm's config and cache)."""
    env = dict(os.environ)
    saved = os.environ.get("SYNDICATE_TEST_OUTER_ENV")
    for key, value in (json.loads(saved) if saved else {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    env["PEERS_CACHE"] = str(cache_dir())
    return env


def cache_dir() -> Path:
    """Where the peer scripts keep their installs (`$PEERS_CACHE`, else ~/.cache/syndicate-peers)."""
    if os.environ.get("PEERS_CACHE"):
        return Path(os.environ["PEERS_CACHE"])
    home = os.environ.get("SYNDICATE_TEST_REAL_HOME") or str(Path.home())
    return Path(home) / ".cache" / "syndicate-peers"


def _key(peer: Peer) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in peer.dir.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(peer.dir)).encode() + b"\0" + path.read_bytes())
    for name in peer.env_keys:
        digest.update(f"{name}={os.environ.get(name, '')}".encode())
    return digest.hexdigest()


def _stamp(peer: Peer) -> Path:
    return cache_dir() / ".syndicate-ready" / peer.name


def installed(peer: Peer) -> bool:
    stamp = _stamp(peer)
    return stamp.is_file() and stamp.read_text().strip() == _key(peer)


def needed(test_files: list[str]) -> list[Peer]:
    """The peers the given test files (names or node ids) use."""
    names = {Path(f.split("::", 1)[0]).name for f in test_files}
    return [p for p in PEERS.values() if p.module in names]


def _run(cmd: list[str], log: Path, limit: float) -> str:
    """Run a peer script, its stderr to `log`; its stdout, or RuntimeError naming the log's tail."""
    with log.open("ab") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=outer_env(), start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise RuntimeError(f"{cmd[1]} took over {limit:.0f} s (log: {log})") from None
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-5:]
        raise RuntimeError(f"{cmd[1]} exited {proc.returncode} (log: {log}): " + " | ".join(tail))
    return out.decode()


def _install(peer: Peer, log: Path) -> None:
    """Start the peer once (the script installs what is missing, under a lock of its own) and stop it."""
    out = _run(["bash", str(peer.dir / "start.sh")], log, INSTALL_LIMIT)
    info = json.loads(out.strip().splitlines()[-1])
    _run(["bash", str(peer.dir / "stop.sh"), str(info[peer.stop_key])], log, 120)


def run_dir() -> Path:
    """This test session's scratch folder (tests/conftest.py makes it): install logs, failures."""
    return Path(os.environ["SYNDICATE_TEST_RUN_DIR"])


def _failure(peer: Peer) -> Path:
    return run_dir() / f"peer-{peer.name}.failed"


def ensure(peers: list[Peer], say: Callable[[str], None]) -> None:
    """Install every peer of `peers` that is not installed yet, in parallel, saying what happens.

    A failure is recorded for this session: the peer's tests then fail with it
    (they do not skip: CI must run them), and nobody installs it again.
    """
    todo = [p for p in peers if not installed(p) and not _failure(p).exists()]
    if not todo:
        return
    cache = cache_dir()
    (cache / ".syndicate-ready").mkdir(parents=True, exist_ok=True)
    logs = run_dir()
    say(f"installing test peers {', '.join(p.name for p in todo)} into {cache} "
        f"(first run on this machine: minutes; limit {INSTALL_LIMIT:.0f} s each; logs in {logs})")
    started = time.monotonic()
    done, said = threading.Event(), threading.Lock()
    left = {p.name for p in todo}

    def tell(line: str) -> None:
        with said:
            say(line)

    def one(peer: Peer) -> None:
        lock = (cache / ".syndicate-ready" / f"{peer.name}.lock").open("w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another session may be installing it: wait for it
            if installed(peer):
                return
            t0 = time.monotonic()
            try:
                _install(peer, logs / f"peer-{peer.name}.log")
            except (RuntimeError, OSError, ValueError, KeyError) as exc:
                _failure(peer).write_text(str(exc))
                tell(f"  {peer.name}: FAILED after {time.monotonic() - t0:.0f} s: {exc}")
                return
            _stamp(peer).write_text(_key(peer))
            tell(f"  {peer.name}: installed in {time.monotonic() - t0:.0f} s")
        finally:
            lock.close()
            with said:
                left.discard(peer.name)
                if not left:
                    done.set()

    threads = [threading.Thread(target=one, args=(p,), daemon=True) for p in todo]
    for t in threads:
        t.start()
    while not done.wait(30):
        with said:
            say(f"  ... still installing {', '.join(sorted(left))} ({time.monotonic() - started:.0f} s)")
    for t in threads:
        t.join()


def running(name: str) -> Iterator[dict[str, Any]]:
    """One started instance of the peer for a test session (the body of a session fixture)."""
    peer = PEERS[name]
    failed = _failure(peer)
    if failed.exists():
        pytest.fail(f"the {name} peer could not be installed: {failed.read_text()}", pytrace=False)
    log = run_dir() / f"peer-{name}-{os.getpid()}.log"
    try:
        info: dict[str, Any] = json.loads(_run(["bash", str(peer.dir / "start.sh")], log, START_LIMIT)
                                          .strip().splitlines()[-1])
    except (RuntimeError, ValueError) as exc:
        pytest.fail(f"the {name} peer did not start: {exc}", pytrace=False)
    try:
        yield info
    finally:
        _run(["bash", str(peer.dir / "stop.sh"), str(info[peer.stop_key])], log, 120)
