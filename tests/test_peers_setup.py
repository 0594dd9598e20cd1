"""A peer's first install happens before the tests, not inside one under pytest-timeout (issue 13.11).

Each case runs a small pytest session of its own (with this project's
conftest hooks, 2 xdist workers and a 1 s per-test timeout) against a fake
peer whose first start takes 3 s to "install", in an empty `PEERS_CACHE`.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests import isolation, peers
from tests.paths import ROOT

START = """#!/usr/bin/env bash
set -eu
C="$PEERS_CACHE/fake"; mkdir -p "$C"
echo x >> "$C/attempts"
if [ -n "${FAKE_PEER_BROKEN:-}" ]; then echo "npm ERR! network unreachable" >&2; exit 1; fi
if [ ! -f "$C/installed" ]; then sleep 3; touch "$C/installed"; echo x >> "$C/installs"; fi
sleep 600 </dev/null >/dev/null 2>&1 &
echo '{"pid": '$!'}'
"""
CONFTEST = """
from pathlib import Path
from tests import peers
from tests.conftest import (pytest_collection_finish, pytest_configure, pytest_sessionfinish, pytest_unconfigure,
                            pytest_xdist_node_collection_finished)
peers.PEERS["fake"] = peers.Peer("fake", "test_fake_peer.py", "pid", root=Path(__file__).parent / "fakepeer")
"""
TESTS = """
import os
from pathlib import Path

import pytest
from tests import peers

@pytest.fixture(scope="session")
def fake_peer():
    yield from peers.running("fake")

@pytest.mark.parametrize("n", range(4))
def test_uses_the_peer(fake_peer, n):
    assert fake_peer["pid"] > 0
    if n == 0 and os.environ.get("ELSEWHERE"):  # what another test of the outer session writes meanwhile
        Path(os.environ["ELSEWHERE"]).mkdir(parents=True)
"""


def session(folder: Path, cache: Path, **env: str) -> subprocess.CompletedProcess[str]:
    if not (folder / "conftest.py").exists():
        (folder / "fakepeer").mkdir(parents=True)
        (folder / "fakepeer" / "start.sh").write_text(START)
        (folder / "fakepeer" / "stop.sh").write_text('kill "$1"\n')
        (folder / "conftest.py").write_text(CONFTEST)
        (folder / "test_fake_peer.py").write_text(TESTS)
    # TMPDIR: the inner session's scratch folder (kept when an install failed, for its log) stays in ours
    # HOME: a home of its own. The inner session checks that its "real" home gained nothing; given ours, it
    # would see what this session's other tests legitimately write into it meanwhile (a preview's data folder)
    home = folder.parent / "home"
    home.mkdir(exist_ok=True)
    xdg = {key: str(home / rel) for key, rel in isolation.XDG.items()}
    run_env = {**os.environ, "PEERS_CACHE": str(cache), "PYTHONPATH": str(ROOT), "TMPDIR": str(folder.parent),
               "HOME": str(home), **xdg, **env}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "-o", "timeout=1",
         "--rootdir", str(folder), str(folder)],
        cwd=folder, env=run_env, capture_output=True, text=True, timeout=240,
    )


def lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_first_install_runs_once_before_the_tests_and_their_timeout(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    # the outer session's home (a temporary one) gains a data folder while the inner session runs, as when
    # another test previews a site there: that is no write of the inner session's (CI failed on it once)
    elsewhere = Path(os.environ["HOME"]) / ".local" / "state" / "syndicate" / f"elsewhere-{tmp_path.name}"
    try:
        first = session(tmp_path / "s", cache, ELSEWHERE=str(elsewhere))
    finally:
        shutil.rmtree(elsewhere, ignore_errors=True)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "4 passed" in first.stdout
    assert "installing test peers fake" in first.stdout
    assert re.search(r"fake: installed in \d+ s", first.stdout)
    assert lines(cache / "fake" / "installs") == 1  # one install across the two workers
    # the next session finds it installed: no install step, no progress line
    again = session(tmp_path / "s", cache)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "installing test peers" not in again.stdout
    assert lines(cache / "fake" / "installs") == 1


def test_an_install_that_fails_fails_the_peer_tests_once_with_its_reason(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    run = session(tmp_path / "s", cache, FAKE_PEER_BROKEN="1")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "FAILED after" in run.stdout and "npm ERR! network unreachable" in run.stdout
    assert "4 errors" in run.stdout  # errors, not skips: CI must not pass without its peers
    assert "the fake peer could not be installed" in run.stdout
    assert lines(cache / "fake" / "attempts") == 1  # the workers did not try again
    assert not (cache / ".syndicate-ready" / "fake").exists()


def test_every_peer_test_module_is_known_to_the_set_up_step() -> None:
    users = {m.group(1): path.name for path in (ROOT / "tests").glob("test_*.py") if path.name != Path(__file__).name
             for m in re.finditer(r'peers\.running\("([\w-]+)"\)', path.read_text(encoding="utf-8"))}
    assert users == {name: peer.module for name, peer in peers.PEERS.items()}
    for peer in peers.PEERS.values():
        assert (peer.dir / "start.sh").is_file() and (peer.dir / "stop.sh").is_file(), peer.dir
