"""End to end: pushes to a real bare repository reach the dev.to and Mastodon fakes as exactly what they changed.

The server syncs in its own background thread (no broker): a sync is finished,
its posts sent, when `/healthz` names its commit with nothing pending.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.devto import FakeDevTo
from tests.fakes.mastodon import FakeMastodon
from tests.test_webhook import ZERO, Repo, Server, deliver, git, payload, post_text, write_config


@pytest.fixture
def fakes() -> Iterator[tuple[FakeDevTo, FakeMastodon]]:
    with FakeDevTo() as devto, FakeMastodon() as masto:
        yield devto, masto  # type: ignore[misc]


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for s in started:
        s.stop()


def writes(fake: FakeDevTo | FakeMastodon, method: str) -> int:
    return sum(1 for r in fake.requests if r.method == method)


def counts(devto: FakeDevTo, masto: FakeMastodon) -> dict[str, int]:
    unpublished = sum(1 for r in devto.requests if r.method == "PUT"
                      and json.loads(r.body).get("article", {}).get("published") is False)
    return {"devto POST": writes(devto, "POST"), "devto PUT": writes(devto, "PUT") - unpublished,
            "devto unpublish": unpublished, "masto POST": writes(masto, "POST"), "masto PUT": writes(masto, "PUT"),
            "masto DELETE": writes(masto, "DELETE")}


def test_each_push_syncs_exactly_what_it_changed(
        tmp_path: Path, fakes: tuple[FakeDevTo, FakeMastodon], servers: list[Server]) -> None:
    devto, masto = fakes
    repo = Repo(tmp_path / "git")
    elsewhere = Repo(tmp_path / "other")  # what a payload's clone URL names: never fetched
    elsewhere.write("content/posts/intruder.md", post_text("Intruder"))
    elsewhere.commit("intruder")
    elsewhere.push()
    server = Server(write_config(tmp_path / "site", repo.bare, devto=devto.url, masto=masto.url))
    servers.append(server)

    # the first push: a new branch (before is all zeros), so the whole tree; two posts, under first_run_limit
    repo.write("content/posts/alpha.md", post_text("Alpha"))
    repo.write("content/posts/beta.md", post_text("Beta", extra="slug: beta\n"))
    repo.write("README.md", "not a post\n")
    repo.commit("two posts")
    before, after = repo.push()
    assert before == ZERO
    r = deliver(server, "github", payload("github", before, after, clone_url=str(elsewhere.bare)))
    assert (r.status_code, r.text) == (202, "queued")
    server.wait_synced(after)
    expected = {"devto POST": 2, "devto PUT": 0, "devto unpublish": 0, "masto POST": 2, "masto PUT": 0,
                "masto DELETE": 0}
    assert counts(devto, masto) == expected
    assert not any("Intruder" in a["title"] for a in devto.articles.values())

    # an edit and a `git mv` (the same post, same URL: nothing to send for it), by GitLab
    repo.write("content/posts/alpha.md", post_text("Alpha", "An edited paragraph."))
    (repo.work / "content/posts/2024").mkdir()
    git(repo.work, "mv", "content/posts/beta.md", "content/posts/2024/beta.md")
    repo.commit("edit alpha, move beta")
    before, after = repo.push()
    assert deliver(server, "gitlab", payload("gitlab", before, after, clone_url=str(elsewhere.bare))).status_code == 202
    server.wait_synced(after)
    expected.update({"devto PUT": 1, "masto PUT": 1})
    assert counts(devto, masto) == expected
    assert any("An edited" in a["body_markdown"] for a in devto.articles.values())

    # a new post, a deleted one and a draft, by Gitea: one create, one removal, one unpublish per target
    repo.write("content/posts/gamma.md", post_text("Gamma"))
    git(repo.work, "rm", "-q", "content/posts/alpha.md")
    repo.write("content/posts/2024/beta.md", post_text("Beta", extra="slug: beta\ndraft: true\n"))
    repo.commit("gamma, no alpha, beta draft")
    before, after = repo.push()
    assert deliver(server, "gitea", payload("gitea", before, after)).status_code == 202
    server.wait_synced(after)
    expected.update({"devto POST": 3, "masto POST": 3, "devto unpublish": 2, "masto DELETE": 2})
    assert counts(devto, masto) == expected
    assert [s["text"].split("\n")[0] for s in masto.live] == ["Gamma"]

    # 25 commits in one push (a payload lists 20 at most): the first one's post is not missed
    repo.write("content/posts/delta.md", post_text("Delta", "Version 0."))
    repo.commit("delta")
    for i in range(1, 24):
        repo.write("content/posts/delta.md", post_text("Delta", f"Version {i}."))
        repo.commit(f"delta {i}")
    repo.write("content/posts/epsilon.md", post_text("Epsilon"))
    repo.commit("epsilon")
    before, after = repo.push()
    assert git(repo.work, "rev-list", "--count", f"{before}..{after}") == "25"
    assert deliver(server, "forgejo", payload("forgejo", before, after)).status_code == 202
    server.wait_synced(after)
    expected.update({"devto POST": 5, "masto POST": 5})
    assert counts(devto, masto) == expected
    assert any("Version 23." in s["text"] for s in masto.live)

    # a force-push that drops the last two commits' posts and edits gamma: the whole tree is reconciled
    git(repo.work, "reset", "-q", "--hard", "HEAD~25")
    repo.write("content/posts/gamma.md", post_text("Gamma", "Rewritten history."))
    repo.commit("gamma rewritten")
    before, after = repo.push(force=True)
    assert deliver(server, "github", payload("github", before, after, forced=True)).status_code == 202
    server.wait_synced(after)
    expected.update({"devto PUT": 2, "masto PUT": 2, "devto unpublish": 4, "masto DELETE": 4})
    assert counts(devto, masto) == expected
    assert [s["text"].split("\n")[0] for s in masto.live] == ["Gamma"]
    assert "Rewritten history." in masto.live[0]["text"]

    # the same commit again under a new delivery id: nothing more
    assert deliver(server, "github", payload("github", before, after)).text.startswith("duplicate")
    assert counts(devto, masto) == expected


def test_with_a_broker_the_worker_syncs_and_publishes(
        tmp_path: Path, fakes: tuple[FakeDevTo, FakeMastodon], servers: list[Server], workers: Any) -> None:
    import uuid

    from tests.conftest import REDIS_URL
    from tests.test_webhook import wait_for

    devto, masto = fakes
    repo = Repo(tmp_path / "git")
    config = write_config(tmp_path / "site", repo.bare, devto=devto.url, masto=masto.url, broker=REDIS_URL,
                          queue=f"webhook-e2e-{uuid.uuid4().hex[:8]}")
    server = Server(config)
    servers.append(server)
    pool = workers(config)
    pool.start(1)

    repo.write("content/posts/alpha.md", post_text("Alpha"))
    repo.write("content/posts/beta.md", post_text("Beta"))
    repo.commit("two posts")
    before, after = repo.push()
    assert deliver(server, "github", payload("github", before, after)).status_code == 202
    wait_for("two creates on each", lambda: writes(devto, "POST") == 2 and writes(masto, "POST") == 2)
    server.wait_synced(after)

    repo.write("content/posts/beta.md", post_text("Beta", "Edited by a worker."))
    repo.commit("edit beta")
    before, after = repo.push()
    assert deliver(server, "gitea", payload("gitea", before, after)).status_code == 202
    wait_for("one update on each", lambda: writes(devto, "PUT") == 1 and writes(masto, "PUT") == 1)
    server.wait_synced(after)
    assert counts(devto, masto) == {"devto POST": 2, "devto PUT": 1, "devto unpublish": 0, "masto POST": 2,
                                    "masto PUT": 1, "masto DELETE": 0}
