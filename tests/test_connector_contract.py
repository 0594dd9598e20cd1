"""The connector contract, run for every built-in connector against its fake server.

Each class subclasses `syndicate.testing.ConnectorContract` and gets every
case; a third-party connector does the same in its own tests.
"""
from __future__ import annotations

from typing import Any

import httpx
import pytest

from syndicate import registry
from syndicate.contract import Draft
from syndicate.testing import ConnectorContract
from tests.fakes.devto import FakeDevTo
from tests.fakes.mastodon import FakeMastodon

DEVTO_KEY = "devto-test-key"
MASTODON_TOKEN = "mastodon-test-token"


class TestDevToContract(ConnectorContract):
    connector_type = "devto"
    secret = DEVTO_KEY
    env = {"DEVTO_API_KEY": DEVTO_KEY}
    wrong_env = {"DEVTO_API_KEY": "wrong-key-123"}

    def fake(self) -> FakeDevTo:
        return FakeDevTo()

    def options(self, fake: Any) -> dict[str, Any]:
        return {"api_key": "${DEVTO_API_KEY}", "base_url": fake.url}

    def live(self, fake: Any) -> int:
        return sum(1 for a in fake.articles.values() if a["published"])

    def title(self, draft: Draft) -> str | None:
        return str(draft.fields["article"]["title"])

    def tags(self, draft: Draft) -> list[str]:
        return [t for t in draft.fields["article"]["tags"].split(",") if t]


class TestMastodonContract(ConnectorContract):
    connector_type = "mastodon"
    secret = MASTODON_TOKEN
    env = {"MASTODON_ACCESS_TOKEN": MASTODON_TOKEN}
    wrong_env = {"MASTODON_ACCESS_TOKEN": "wrong-token-123"}

    def fake(self) -> FakeMastodon:
        return FakeMastodon()

    def options(self, fake: Any) -> dict[str, Any]:
        return {"access_token": "${MASTODON_ACCESS_TOKEN}", "base_url": fake.url}

    def live(self, fake: Any) -> int:
        return len(fake.live)

    def tags(self, draft: Draft) -> list[str]:
        return [w for w in (draft.text or "").split() if w.startswith("#")]


def test_every_installed_connector_has_a_contract_class() -> None:
    import re
    from pathlib import Path

    covered: set[str] = set()
    for path in Path(__file__).parent.glob("test_*.py"):  # each ConnectorContract subclass names its type
        covered.update(re.findall(r'^    connector_type = "([a-z0-9_]+)"', path.read_text(encoding="utf-8"), re.M))
    assert set(registry.installed()) <= covered, "a connector without its contract tests"


def test_fake_server_faults_filter_and_expire() -> None:
    with FakeMastodon() as fake:
        client = httpx.Client(timeout=2)
        auth = {"Authorization": f"Bearer {MASTODON_TOKEN}"}
        fake.fail_next(2, 502, method="POST")
        assert client.get(fake.url + "/api/v2/instance", headers=auth).status_code == 200  # a GET is not a POST
        for _ in range(2):
            assert client.post(fake.url + "/api/v1/statuses", headers=auth, json={"status": "x"}).status_code == 502
        assert client.post(fake.url + "/api/v1/statuses", headers=auth, json={"status": "x"}).status_code == 200
        fake.lose_next(1)
        assert client.get(fake.url + "/api/v2/instance", headers=auth).status_code == 200  # lose hits writes only
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(fake.url + "/api/v1/statuses", headers=auth, json={"status": "y"})
        assert len(fake.live) == 2  # committed before the drop
        assert client.get(fake.url + "/api/v2/instance").status_code == 401
