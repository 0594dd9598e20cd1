"""`syndicate health`: the containers' healthcheck (issue 16), against a real Redis, PostgreSQL and worker."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from syndicate.engine.health import HEARTBEAT_EVERY, heartbeat_file
from tests.fakes.tcpproxy import TcpProxy
from tests.harness import ROOT, RedisServer, free_port, write_config, write_site
from tests.test_worker import wait_until

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
SYNDICATE = Path(sys.executable).with_name("syndicate")


def health(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    return subprocess.run([str(SYNDICATE), "health", "--config", str(config), *args], capture_output=True,
                          text=True, timeout=60, env={**env, "COLUMNS": "200"}, cwd=config.parent)


def site(tmp_path: Path, *, state_url: str, broker: str | None) -> Path:
    write_site(tmp_path, 1)
    return write_config(tmp_path, [], state_url=state_url, broker=broker)


def wait_for(check: Callable[[], object], what: str, timeout: float = 60) -> None:
    wait_until(lambda: bool(check()), timeout, what)




@pytest.fixture
def broker(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()

def test_healthy_when_the_broker_and_the_ledger_answer(tmp_path: Path, broker: RedisServer, pg_url: str) -> None:
    run = health(site(tmp_path, state_url=pg_url, broker=f"{broker.url}/0"))
    assert run.returncode == 0, run.stderr
    assert "healthy" in run.stdout and run.stderr == ""


def test_a_broker_that_does_not_answer_is_unhealthy_and_its_password_is_not_shown(tmp_path: Path,
                                                                                   pg_url: str) -> None:
    dead = free_port()
    run = health(site(tmp_path, state_url=pg_url, broker=f"redis://:hunter2broker@127.0.0.1:{dead}/0"))
    assert run.returncode == 1, run.stdout
    assert f"unhealthy: the broker redis://:****@127.0.0.1:{dead}/0 does not answer" in run.stderr
    assert "hunter2broker" not in run.stdout + run.stderr
    assert "Traceback" not in run.stderr


def test_a_ledger_that_does_not_answer_is_unhealthy(tmp_path: Path, broker: RedisServer) -> None:
    dead = free_port()
    run = health(site(tmp_path, state_url=f"postgresql://syndicate:hunter2pg@127.0.0.1:{dead}/syndicate",
                      broker=f"{broker.url}/0"))
    assert run.returncode == 1, run.stdout
    assert f"unhealthy: the ledger postgresql://syndicate:****@127.0.0.1:{dead}/syndicate does not answer" in run.stderr
    assert "broker" not in run.stderr  # the broker answered: only what failed is named
    assert "hunter2pg" not in run.stdout + run.stderr


def test_a_worker_heartbeat_must_exist_and_be_recent(tmp_path: Path, broker: RedisServer) -> None:
    config = site(tmp_path, state_url=f"sqlite:///{tmp_path / 'state.db'}", broker=f"{broker.url}/0")
    beat = tmp_path / ".syndicate" / "workers" / "w1@box"
    missing = health(config, "--worker", "--node", "w1@box")
    assert missing.returncode == 1 and f"no worker heartbeat at {beat}" in missing.stderr
    beat.parent.mkdir(parents=True)
    beat.touch()
    assert health(config, "--worker", "--node", "w1@box").returncode == 0
    old = time.time() - 300
    os.utime(beat, (old, old))
    stale = health(config, "--worker", "--node", "w1@box")
    assert stale.returncode == 1
    said = re.search(r"the worker's last heartbeat was (\d+)s ago \(more than 60s\)", stale.stderr)
    assert said and int(said.group(1)) >= 300, stale.stderr
    assert health(config, "--worker", "--node", "w1@box", "--max-age", "3600").returncode == 0
    assert not (tmp_path / ".syndicate" / "state.db").exists()  # a check writes nothing


def start_worker(tmp_path: Path, config: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    with open(tmp_path / "worker.log", "wb") as log:
        return subprocess.Popen([str(SYNDICATE), "worker", "--concurrency", "2", "--loglevel", "warning",
                                 "--config", str(config)], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop_worker(proc: subprocess.Popen[bytes]) -> int:
    os.killpg(proc.pid, signal.SIGTERM)
    return proc.wait(60)


def test_a_running_worker_beats_and_a_stopped_one_does_not(tmp_path: Path, broker: RedisServer) -> None:
    config = site(tmp_path, state_url=f"sqlite:///{tmp_path / 'state.db'}", broker=f"{broker.url}/0")
    proc = start_worker(tmp_path, config)
    beat = heartbeat_file(tmp_path / ".syndicate")  # celery@HOSTNAME: the name `syndicate worker` starts with

    def say() -> str:
        return (tmp_path / "worker.log").read_text(errors="replace")[-3000:]

    try:
        wait_for(beat.exists, "the worker's first heartbeat")
        assert health(config, "--worker").returncode == 0, say()
        old = time.time() - 300
        os.utime(beat, (old, old))
        assert health(config, "--worker").returncode == 1
        # the consumer's loop touches it again by itself
        wait_for(lambda: beat.stat().st_mtime > old + 1, "the next heartbeat", timeout=HEARTBEAT_EVERY * 4)
        assert health(config, "--worker").returncode == 0, say()
    finally:
        code = stop_worker(proc)
    assert code == 0, say()
    assert not beat.exists()  # a worker that stopped is not healthy
    stopped = health(config, "--worker")
    assert stopped.returncode == 1 and "no worker heartbeat" in stopped.stderr


def test_a_worker_that_lost_its_broker_is_unhealthy_until_it_is_back(tmp_path: Path, broker: RedisServer) -> None:
    with TcpProxy(broker.port) as proxy:
        config = site(tmp_path, state_url=f"sqlite:///{tmp_path / 'state.db'}", broker=proxy.url(db=0))
        proc = start_worker(tmp_path, config)
        beat = heartbeat_file(tmp_path / ".syndicate")
        try:
            wait_for(beat.exists, "the worker's first heartbeat")
            proxy.drop()  # Redis vanishes: connections reset, new ones refused; the worker waits for it
            wait_for(lambda: not beat.exists(), "the heartbeat to stop")
            lost = health(config, "--worker")
            assert lost.returncode == 1 and "the broker" in lost.stderr and "no worker heartbeat" in lost.stderr
            assert proc.poll() is None  # alive, reconnecting: unhealthy, not dead
            proxy.resume()
            wait_for(beat.exists, "the heartbeat after the broker came back", timeout=120)
            assert health(config, "--worker").returncode == 0
        finally:
            stop_worker(proc)
