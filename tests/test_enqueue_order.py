"""The order `push` hands (post, target) units to the broker (issue 15's backfill to fifteen targets).

A backfill's total is bounded by its slowest target: the posts past that target's first window can go
only one window after the first ones went. Queued post by post, the slowest target's first window is
spread over the whole queue's start (one unit in fifteen); queued first, it is taken at once.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import WORKER_ENV
from tests.fakes.devto import FakeDevTo
from tests.fakes.mastodon import FakeMastodon
from tests.harness import ROOT, RedisServer, write_config, write_site

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


def queued_targets(broker_url: str) -> list[str]:
    """The target of each task on the broker's queue, oldest first (kombu LPUSHes, workers BRPOP)."""
    import redis

    client = redis.Redis.from_url(broker_url)
    try:
        messages = client.lrange("syndicate", 0, -1)  # the [queue] name's default
    finally:
        client.close()
    targets = []
    for raw in reversed(messages):
        args = json.loads(raw)["headers"]["argsrepr"]  # "('content/posts/post-0000.md', 'p_…', 'devto', False)"
        targets.append(args.split(", ")[2].strip("'"))
    return targets


def test_the_target_with_the_slowest_limit_is_queued_first(tmp_path: Path, broker: RedisServer,
                                                           pg_url: str) -> None:
    with FakeDevTo() as devto, FakeMastodon() as masto:
        write_site(tmp_path, 12)  # dev.to: 10 creates per 30 s, so 12 need a second window; Mastodon: none
        lines = ["[targets.mastodon]", f'base_url = "{masto.url}"', 'access_token = "${MASTODON_ACCESS_TOKEN}"', "",
                 "[targets.devto]", 'api_key = "${DEVTO_API_KEY}"', f'base_url = "{devto.url}"', ""]
        config = write_config(tmp_path, lines, state_url=pg_url, broker=broker.url, queue={"scan_interval": 1})
        env = {**os.environ, **WORKER_ENV, "SYNDICATE_CONFIG": str(config)}
        env.pop("SYNDICATE_BROKER_URL", None)
        result = subprocess.run([sys.executable, "-m", "syndicate.cli", "push", str(tmp_path / "content"), "--json"],
                                env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        # the report keeps the posts' order, each post's targets in the config's order
        reported = [r["target"] for r in json.loads(result.stdout)["results"]]
        assert reported == ["mastodon", "devto"] * 12
        # the broker gets dev.to's twelve first: its first ten are taken at once, the last two a window later
        assert queued_targets(broker.url) == ["devto"] * 12 + ["mastodon"] * 12
        assert devto.articles == {} or not devto.articles  # nothing is sent without a worker


def test_one_post_keeps_the_config_order(tmp_path: Path, broker: RedisServer, pg_url: str) -> None:
    with FakeDevTo() as devto, FakeMastodon() as masto:
        write_site(tmp_path, 1)
        lines = ["[targets.mastodon]", f'base_url = "{masto.url}"', 'access_token = "${MASTODON_ACCESS_TOKEN}"', "",
                 "[targets.devto]", 'api_key = "${DEVTO_API_KEY}"', f'base_url = "{devto.url}"', ""]
        config = write_config(tmp_path, lines, state_url=pg_url, broker=broker.url, queue={"scan_interval": 1})
        env = {**os.environ, **WORKER_ENV, "SYNDICATE_CONFIG": str(config)}
        env.pop("SYNDICATE_BROKER_URL", None)
        result = subprocess.run([sys.executable, "-m", "syndicate.cli", "push", str(tmp_path / "content"), "--json"],
                                env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert queued_targets(broker.url) == ["mastodon", "devto"]  # one window holds one post everywhere
