"""Shared fixtures: real PostgreSQL and Redis, a ledger on each backend.

And the session's set-up: a temporary HOME (tests/isolation.py; the session
fails if the real home gains anything under syndicate's folders), and the
peers the collected tests use installed before any test runs (tests/peers.py).
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings

from tests import isolation, peers
from tests.harness import Workers, pg_schema
from tests.paths import SHARED

# nothing in the project folder (.hypothesis/): a test writes only into temporary folders. Hypothesis
# reads its storage folder lazily (its unicode tables are cached there), so this takes effect here.
if "HYPOTHESIS_STORAGE_DIRECTORY" not in os.environ:  # the controller makes it; xdist workers inherit it
    os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = tempfile.mkdtemp(prefix="syndicate-hypothesis-")
    atexit.register(shutil.rmtree, os.environ["HYPOTHESIS_STORAGE_DIRECTORY"], True)
settings.register_profile("syndicate", database=None)
settings.load_profile("syndicate")

PG_URL = os.environ.get("SYNDICATE_TEST_PG", "postgresql://postgres:postgres@127.0.0.1:5432/syndicate_test")
REDIS_URL = os.environ.get("SYNDICATE_TEST_REDIS", "redis://127.0.0.1:6379/15")
WORKER_ENV = {"DEVTO_API_KEY": "devto-test-key", "MASTODON_ACCESS_TOKEN": "mastodon-test-token"}
__all__ = ["PG_URL", "REDIS_URL", "SHARED", "WORKER_ENV"]
_isolated: isolation.Isolation | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _isolated
    if not hasattr(config, "workerinput"):  # xdist workers inherit the controller's environment
        _isolated = isolation.isolate()


def _say(config: pytest.Config) -> Callable[[str], None]:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    return reporter.write_line if reporter is not None else print


def pytest_collection_finish(session: pytest.Session) -> None:
    """Without xdist: install the peers the selected tests use, before the first test (and its timeout)."""
    if not hasattr(session.config, "workerinput") and not session.config.option.collectonly:
        peers.ensure(peers.needed([item.nodeid for item in session.items]), _say(session.config))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: object, ids: list[str]) -> None:
    """With xdist: the same, in the controller, before it hands out the first test."""
    peers.ensure(peers.needed(ids), _say(node.config))  # type: ignore[attr-defined]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The real home (under syndicate's folders) and the project's folders must have gained nothing: that
    fails the session."""
    if _isolated is None:
        return
    written = isolation.gained(_isolated.before, isolation.snapshot(_isolated.watched))
    if written:
        _say(session.config)(f"\nFAILED: tests wrote outside their temporary folders ({len(written)} path(s)): "
                             + ", ".join(written[:10]))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config: pytest.Config) -> None:
    if _isolated is not None and not any(_isolated.run_dir.glob("peer-*.failed")):
        shutil.rmtree(_isolated.run_dir, ignore_errors=True)


def _pg_admin() -> sa.Engine:
    return sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def pg_available() -> str:
    """The test database URL; fails loudly (not skips) when PostgreSQL is down: CI must have it."""
    engine = _pg_admin()
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL.split('@')[-1]}: run ./dev test ({exc.orig})")
    finally:
        engine.dispose()
    return PG_URL


@pytest.fixture
def pg_url(pg_available: str) -> Iterator[str]:
    """A URL whose connections use a fresh schema of their own, dropped afterwards."""
    url, drop = pg_schema(pg_available, "t_")
    yield url
    drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def redis_url() -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: run ./dev test ({exc})")
    yield REDIS_URL
    client.close()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., Workers]]:
    started: list[Workers] = []

    def make(config: Path, **kwargs: object) -> Workers:
        w = Workers(config, log_dir=tmp_path, extra_env=WORKER_ENV, **kwargs)  # type: ignore[arg-type]
        started.append(w)
        return w

    yield make
    for w in started:
        w.stop()

