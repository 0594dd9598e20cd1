"""The webhook's first delivery to a new server (issue 13.25): a push `before..after` syncs what it changed.

The tree at `before` is taken as published: its posts are baselined (known,
never sent), so setting up the webhook on a 300-post blog and pushing one new
post sends exactly that post. A zero `before` or a force-push still
reconciles the whole tree under the first-start rule. A real `syndicate serve`
subprocess, a real bare repository, the dev.to and Mastodon fakes.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from syndicate.registry import load_config
from syndicate.state.ledger import Ledger
from syndicate.state.ledger.syncs import Syncs
from syndicate.triggers.gitsync import Syncer
from tests.fakes.devto import FakeDevTo
from tests.fakes.mastodon import FakeMastodon
from tests.test_webhook import ENV, ZERO, Repo, Server, deliver, git, payload, post_text, write_config
from tests.test_webhook_e2e import counts

POSTS = 300


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


def blog(root: Path, posts: int) -> Repo:
    """A blog already on its host: `posts` published posts, a draft and one dated 2099, pushed."""
    repo = Repo(root)
    for i in range(posts):
        path = repo.work / f"content/posts/{i // 100:02}/post-{i:03}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(post_text(f"Post {i}", f"Paragraph {i}.", extra=f"slug: post-{i:03}\n"), encoding="utf-8")
    repo.write("content/posts/draft.md", post_text("Draft", extra="draft: true\n"))
    repo.write("content/posts/later.md", post_text("Later", extra="publishDate: 2099-01-01\n"))
    git(repo.work, "add", "-A")
    repo.commit("the blog so far")
    repo.push()
    return repo


def test_a_first_push_to_a_300_post_blog_sends_only_the_post_it_added(
        tmp_path: Path, fakes: tuple[FakeDevTo, FakeMastodon], servers: list[Server]) -> None:
    devto, masto = fakes
    repo = blog(tmp_path / "git", POSTS)
    config = write_config(tmp_path / "site", repo.bare, devto=devto.url, masto=masto.url)  # first_run: refuse
    server = Server(config)
    servers.append(server)

    repo.write("content/posts/hello.md", post_text("Hello webhook"))
    repo.commit("a new post")
    before, after = repo.push()
    assert before != ZERO
    r = deliver(server, "github", payload("github", before, after))
    assert (r.status_code, r.text) == (202, "queued")
    server.wait_synced(after)
    health = server.health()
    assert health["last_sync"]["error"] is None, server.text()
    assert counts(devto, masto) == {"devto POST": 1, "devto PUT": 0, "devto unpublish": 0, "masto POST": 1,
                                    "masto PUT": 0, "masto DELETE": 0}
    assert [a["title"] for a in devto.articles.values()] == ["Hello webhook"]

    ledger = Ledger(f"sqlite:///{tmp_path / 'site' / 'state.db'}", site="blog.example")
    try:
        states: dict[str, int] = {}
        for row in ledger.all():
            states[row.state] = states.get(row.state, 0) + 1
        # the 300 posts at `before`, on both targets, are known and never sent; the later one waits for its date
        assert states == {"baseline": 2 * POSTS, "published": 2, "deferred": 2}
        assert all("before the first push" in (r.reason or "") for r in ledger.all() if r.state == "baseline")
        assert not [r for r in ledger.all() if r.post_path == "content/posts/draft.md"]
    finally:
        ledger.dispose()

    # the next push: an edit of a baselined post (baselined: not sent), a rename of one that changes its URL
    # (the same post: not sent), and the draft made public (its first appearance: sent)
    repo.write("content/posts/00/post-001.md", post_text("Post 1", "Edited after the webhook came."))
    git(repo.work, "mv", "content/posts/00/post-002.md", "content/posts/renamed.md")
    repo.write("content/posts/draft.md", post_text("Draft", "Now public."))
    repo.commit("edit, rename, publish the draft")
    before, after = repo.push()
    assert deliver(server, "gitlab", payload("gitlab", before, after)).status_code == 202
    server.wait_synced(after)
    assert server.health()["last_sync"]["error"] is None
    assert counts(devto, masto) == {"devto POST": 2, "devto PUT": 0, "devto unpublish": 0, "masto POST": 2,
                                    "masto PUT": 0, "masto DELETE": 0}
    assert sorted(a["title"] for a in devto.articles.values()) == ["Draft", "Hello webhook"]


def _syncer(tmp_path: Path, repo: Repo, extra: str = "", fakes: tuple[FakeDevTo, FakeMastodon] | None = None) -> Syncer:
    urls = {"devto": fakes[0].url, "masto": fakes[1].url} if fakes else {}  # else a closed port: sends fail
    config = load_config(write_config(tmp_path / "site", repo.bare, extra=extra, **urls), env={**os.environ, **ENV})
    return Syncer(config, echo=lambda line: None)


def test_a_new_branch_a_force_push_or_a_lost_base_reconcile_the_whole_tree(
        tmp_path: Path, fakes: tuple[FakeDevTo, FakeMastodon]) -> None:
    repo = blog(tmp_path / "git", 6)
    base = repo.head()
    repo.write("content/posts/new.md", post_text("New"))
    repo.commit("new")
    _, after = repo.push()

    # a force-push (or a zero `before`): the whole tree, under the first-start rule (6 due posts > 3)
    syncer = _syncer(tmp_path / "a", repo)
    assert syncer.syncs.record(syncer.key, full=True, bases=[(base, after)]) == (0, False)
    assert syncer.run() == []
    state = syncer.syncs.get(syncer.key)
    assert state is not None and state.error is not None and "first sync: 7 existing posts" in state.error

    # a base the repository no longer has (force-pushed away, garbage-collected): the same
    syncer = _syncer(tmp_path / "b", repo)
    syncer.syncs.request(syncer.key, bases=[("e" * 40, after)])
    lines: list[str] = []
    syncer.echo = lines.append
    assert syncer.run() == []
    assert any("cannot be fetched" in line for line in lines)
    state = syncer.syncs.get(syncer.key)
    assert state is not None and state.error is not None and "first sync" in state.error and state.base == "e" * 40

    # the base as the push names it: only the new post (sent to the fakes: a closed port would have it
    # retried with backoff), and the base is forgotten once synced
    syncer = _syncer(tmp_path / "c", repo, fakes=fakes)
    syncer.syncs.request(syncer.key, bases=[(base, after)])
    [done] = syncer.run()
    assert not done.full and done.commit == after
    assert any("6 post(s) at" in line and "6 baselined" in line for line in done.lines), done.lines
    assert any(line.startswith("new content/posts/new.md") for line in done.lines), done.lines
    assert len(fakes[0].articles) == 1 and len(fakes[1].statuses) == 1  # the new post alone, on each target
    state = syncer.syncs.get(syncer.key)
    assert state is not None and (state.commit, state.base, state.error) == (after, None, None)
    assert syncer.syncs.record(syncer.key, bases=[(after, "f" * 40)]) == (0, True)  # synced: nothing noted
    assert (syncer.syncs.get(syncer.key) or state).base is None


def test_the_base_is_the_earliest_push_even_delivered_out_of_order(ledger_url: str) -> None:
    led = Ledger(ledger_url, site="blog.example")
    syncs = Syncs(led)
    a, b, c, d = ("a" * 40, "b" * 40, "c" * 40, "d" * 40)
    assert syncs.record("r", bases=[(b, c)]) == (0, False)  # B..C arrives first
    assert syncs.record("r", count=2, bases=[(c, d), (a, b)]) == (1, False)  # then C..D and, late, A..B
    state = syncs.get("r")
    assert state is not None and state.base == a and state.requested == 3
    row = syncs.acquire("r", "w", 60)
    assert row is not None and row.base == a
    assert syncs.finish("r", "w", row, commit=None, error="boom")
    state = syncs.get("r")
    assert state is not None and state.base == a and state.error == "boom"  # kept for the next sync
    led.dispose()
