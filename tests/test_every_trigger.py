"""Issue 13.2 and 13.34 for the triggers the first tests left out: the webhook's sync and `watch --once`.

- 13.2: deletion detection covers the rows the webhook's sync wrote. A push that deletes a post takes its
  copies down at that sync (a deletion in a commit is deliberate: `delete_grace` does not apply, as
  docs/webhook.md says), and the mass-change guard (`max_deletes`) holds a bigger one. A site that moves
  from the webhook to a scheduled `watch --once` on the same ledger (README, "Cron / CI") sees a post
  deleted there wait out `delete_grace`, then go, with the guard as usual.
- 13.34: a row a platform deferred (a 429 with `Retry-After: 3600`) is not sent by `watch --once` nor by
  the webhook's sync, even when its post is saved meanwhile, and is sent once the hour has passed.

A real bare git repository, the webhook's sync (`Syncer`, as `serve` and the worker run it) in this
process, `syndicate` commands as subprocesses, the dev.to and Mastodon fakes. The hour passes by moving
times in the ledger, never by waiting.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from syndicate.engine.reconcile import GONE
from syndicate.registry import load_config
from syndicate.state.ledger import Ledger, utcnow
from syndicate.state.ledger.schema import rate_pauses
from syndicate.triggers.gitsync import Syncer
from tests.fakes.devto import FakeDevTo
from tests.fakes.mastodon import FakeMastodon
from tests.test_watch import make_site
from tests.test_webhook import ENV, ROOT, SPECS, Repo, git, post_text, write_config
from tests.test_webhook_e2e import counts

pytestmark = pytest.mark.skipif(not SPECS.exists(), reason="../shared/specs not beside the repo")


@pytest.fixture
def fakes() -> Iterator[tuple[FakeDevTo, FakeMastodon]]:
    with FakeDevTo() as devto, FakeMastodon() as masto:
        yield devto, masto  # type: ignore[misc]


def hook_config(folder: Path, repo: Repo, devto: FakeDevTo, masto: FakeMastodon, ledger_url: str,
                watch: str = "") -> Path:
    """The webhook's config (the site is its checkout), with a `[watch]` table of its own."""
    path = write_config(folder, repo.bare, devto=devto.url, masto=masto.url, ledger=ledger_url)
    if watch:
        path.write_text(path.read_text(encoding="utf-8") + f"\n[watch]\n{watch}\n", encoding="utf-8")
    return path


def site_config(root: Path, devto: FakeDevTo, masto: FakeMastodon, ledger_url: str, **watch: str) -> Path:
    """A plain site config (no webhook) for a working copy at `root`, on the given ledger: the watcher tests' own."""
    return make_site(root, devto, masto, ledger_url, **watch) / "syndicate.toml"


def _run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT), "SYNDICATE_CONFIG": str(config), "COLUMNS": "400"}
    for name in ("SYNDICATE_BROKER_URL", "SYNDICATE_REDIS_URL", "SYNDICATE_STATE_URL"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "syndicate.cli", *args], cwd=config.parent, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def cli(config: Path, *args: str) -> tuple[int, str]:
    done = _run(config, *args)
    return done.returncode, done.stdout + done.stderr


def watch_once(config: Path) -> tuple[int, dict[str, list[dict[str, Any]]], str]:
    """`watch --once --json`: the exit code, each target's results, and the log (stderr)."""
    done = _run(config, "watch", "--once", "--json")
    assert done.stdout.strip(), done.stderr
    by_target: dict[str, list[dict[str, Any]]] = {}
    for result in json.loads(done.stdout)["results"]:
        by_target.setdefault(result["target"], []).append(result)
    return done.returncode, by_target, done.stderr


def syncer(config: Path) -> Syncer:
    return Syncer(load_config(config, env={**os.environ, **ENV}), echo=lambda line: None)


def sync(s: Syncer, bases: list[tuple[str, str]] | None = None) -> list[str]:
    """One delivery's sync (the first names its push's `before..after`); the lines it said."""
    s.syncs.request(s.key, bases=bases or ())
    done = s.run()
    state = s.syncs.get(s.key)
    assert state is not None and state.error is None, state
    return [line for outcome in done for line in outcome.lines]


def published_by_the_webhook(repo: Repo, s: Syncer, names: list[str]) -> None:
    """A blog already on its host, then one push adding `names`: the webhook's sync sends exactly those."""
    repo.write("README.md", "a blog\n")
    repo.commit("the blog so far")
    repo.push()
    for name in names:
        repo.write(f"content/posts/{name}.md", post_text(name.capitalize()))
    repo.commit("new posts")
    before, after = repo.push()
    lines = sync(s, [(before, after)])
    assert sum(line.startswith("new content/posts/") for line in lines) == len(names), lines


def states(ledger_url: str) -> dict[str, set[str]]:
    """post path -> the states of its rows."""
    ledger = Ledger(ledger_url, site="blog.example")
    try:
        out: dict[str, set[str]] = {}
        for row in ledger.all():
            out.setdefault(row.post_path or "", set()).add(row.state)
        return out
    finally:
        ledger.dispose()


# --- 13.2: the rows the webhook wrote ----------------------------------------------------------------


def test_posts_the_webhook_published_go_when_a_push_deletes_them_and_the_guard_holds_a_mass_deletion(
        tmp_path: Path, fakes: tuple[FakeDevTo, FakeMastodon], ledger_url: str) -> None:
    devto, masto = fakes
    repo = Repo(tmp_path / "git")
    # an hour's grace is configured: a commit's deletion is deliberate and does not wait for it (docs/webhook.md)
    config = hook_config(tmp_path / "site", repo, devto, masto, ledger_url,
                         watch='delete_grace = "1h"\nmax_deletes = 2')
    s = syncer(config)
    try:
        published_by_the_webhook(repo, s, ["alpha", "beta", "gamma", "delta", "omega"])
        assert len(devto.articles) == 5 and len(masto.live) == 5
        assert all(st == {"published"} for st in states(ledger_url).values())

        git(repo.work, "rm", "-q", "content/posts/alpha.md")
        repo.commit("no alpha")
        repo.push()
        lines = sync(s)
        assert "removed content/posts/alpha.md → devto: delete, mastodon: delete" in lines, lines
        assert counts(devto, masto)["devto unpublish"] == 1 and len(masto.live) == 4
        assert states(ledger_url)["content/posts/alpha.md"] == {"deleted"}

        # three at once, more than max_deletes = 2: held for a person, nothing removed
        for name in ("beta", "gamma", "delta"):
            git(repo.work, "rm", "-q", f"content/posts/{name}.md")
        repo.commit("three gone")
        repo.push()
        lines = sync(s)
        assert any(line.startswith("held: 3 deletion(s) wait for `syndicate push --apply-deletes`")
                   for line in lines), lines
        assert not any(line.startswith("removed") for line in lines), lines
        assert counts(devto, masto)["devto unpublish"] == 1 and len(masto.live) == 4
        code, out = cli(config, "status")
        assert "held" in out and "content/posts/beta.md" in out, out

        code, out = cli(config, "push", "--apply-deletes")
        assert code == 0, out
        assert counts(devto, masto)["devto unpublish"] == 4
        assert [st["text"].split("\n")[0] for st in masto.live] == ["Omega"]
        after = states(ledger_url)
        assert {p: after[p] for p in after if p != "content/posts/omega.md"} == {
            f"content/posts/{n}.md": {"deleted"} for n in ("alpha", "beta", "gamma", "delta")}
        assert after["content/posts/omega.md"] == {"published"}
    finally:
        s.syn.ledger.dispose()


def test_posts_the_webhook_published_and_deleted_under_watch_once_wait_out_the_grace_and_the_guard(
        tmp_path: Path, fakes: tuple[FakeDevTo, FakeMastodon], ledger_url: str) -> None:
    """The site moves from the webhook to a scheduled `watch --once` (README, "Cron / CI") on the same ledger:
    the rows the webhook's sync wrote are the watcher's to take down, after `delete_grace`, under the guard."""
    devto, masto = fakes
    repo = Repo(tmp_path / "git")
    s = syncer(hook_config(tmp_path / "server", repo, devto, masto, ledger_url))
    try:
        published_by_the_webhook(repo, s, ["alpha", "beta", "gamma", "delta", "omega"])
    finally:
        s.syn.ledger.dispose()
    assert len(devto.articles) == 5 and len(masto.live) == 5

    # the scheduled job's checkout of the same repository: the working clone
    config = site_config(repo.work, devto, masto, ledger_url, delete_grace='"1h"', max_deletes="2")
    code, out = cli(config, "watch", "--once")
    assert code == 0 and "alpha.md" not in out, out  # the webhook's posts, known as they are: nothing to do
    assert counts(devto, masto)["devto POST"] == 5

    git(repo.work, "rm", "-q", "content/posts/alpha.md")
    code, out = cli(config, "watch", "--once")
    assert "deleted content/posts/alpha.md: its copies go in 3600s" in out, out
    code, out = cli(config, "status")
    assert "1 deletion(s) in their grace period" in out and "content/posts/alpha.md" in out, out
    assert len(masto.live) == 5 and counts(devto, masto)["devto unpublish"] == 0  # nothing goes within the hour

    ledger = Ledger(ledger_url, site="blog.example")  # the hour passes: the deletion was seen two hours ago
    try:
        gone = ledger.files()["content/posts/alpha.md"]
        assert gone.size == GONE
        ledger.put_files([replace(gone, seen_at=utcnow() - timedelta(hours=2))])
    finally:
        ledger.dispose()
    code, out = cli(config, "watch", "--once")
    assert "removed content/posts/alpha.md → devto: delete, mastodon: delete" in out, out
    assert len(masto.live) == 4 and counts(devto, masto)["devto unpublish"] == 1
    code, out = cli(config, "watch", "--once")
    assert "alpha.md" not in out, out  # done: said once

    for name in ("beta", "gamma", "delta"):  # three at once, more than max_deletes = 2
        git(repo.work, "rm", "-q", f"content/posts/{name}.md")
    code, out = cli(config, "watch", "--once")
    assert code == 1 and "held: 3 deletion(s) wait for `syndicate push --apply-deletes`" in out, out
    assert len(masto.live) == 4
    code, out = cli(config, "push", "--apply-deletes")
    assert code == 0 and [st["text"].split("\n")[0] for st in masto.live] == ["Omega"], out
    assert counts(devto, masto)["devto unpublish"] == 4


# --- 13.34: a platform's Retry-After holds for watch --once and the webhook's sync -----------------


def forget_the_pause(ledger_url: str) -> None:
    """The limiter's own memory of the platform's Retry-After (a pause in the ledger's database, a second
    guard: tests/test_ratelimit.py) is gone, as when `push --now` lifted the account's pause for another
    post or the pause was kept in a worker's Redis: the row's deferral alone must hold it."""
    ledger = Ledger(ledger_url, site="blog.example")
    try:
        with ledger.engine.begin() as conn:
            conn.execute(sa.delete(rate_pauses))
    finally:
        ledger.dispose()


def pass_the_hour(ledger_url: str, path: str, target: str) -> None:
    """The platform's hour passes without waiting for it: the row's deferral and the pause move into the past."""
    ledger = Ledger(ledger_url, site="blog.example")
    try:
        (row,) = [r for r in ledger.all() if r.post_path == path and r.target == target]
        assert row.state == "deferred" and row.deferred_until is not None
        assert row.deferred_until > utcnow() + timedelta(minutes=50)  # the platform's hour, not a countdown
        ledger.update(row.post_id, target, deferred_until=utcnow() - timedelta(seconds=1))
    finally:
        ledger.dispose()
    forget_the_pause(ledger_url)


def creates(devto: FakeDevTo) -> int:
    return sum(1 for r in devto.requests if r.method == "POST")


def test_watch_once_holds_a_row_a_platform_deferred_until_its_time_even_when_the_post_is_saved(
        tmp_path: Path, fakes: tuple[FakeDevTo, FakeMastodon], ledger_url: str) -> None:
    devto, masto = fakes
    site = tmp_path / "site"
    post = site / "content" / "posts" / "busy.md"
    post.parent.mkdir(parents=True)
    post.write_text(post_text("Busy"), encoding="utf-8")
    config = site_config(site, devto, masto, ledger_url)
    devto.rate_limit_next(1, retry_after=3600, method="POST")
    code, results, log = watch_once(config)
    assert [r["status"] for r in results["devto"]] == ["deferred"], (results, log)
    assert [r["status"] for r in results["mastodon"]] == ["done"], (results, log)
    assert creates(devto) == 1 and not devto.articles

    # the post is saved within the hour: Mastodon's copy is updated, dev.to's row is held by the platform's hour
    post.write_text(post_text("Busy", "An edited paragraph."), encoding="utf-8")
    code, results, log = watch_once(config)
    assert [r["status"] for r in results["mastodon"]] == ["done"], (results, log)
    assert [r["status"] for r in results["devto"]] == ["deferred"], (results, log)
    assert "`push --now` sends it at once" in results["devto"][0]["reason"], results  # the row's own deferral
    assert creates(devto) == 1 and not devto.articles  # nothing sent to dev.to
    assert "An edited paragraph." in masto.live[0]["text"]

    forget_the_pause(ledger_url)  # saved again, with only the row's deferral left to hold it
    post.write_text(post_text("Busy", "Edited again."), encoding="utf-8")
    code, results, log = watch_once(config)
    assert [r["status"] for r in results["devto"]] == ["deferred"], (results, log)
    assert creates(devto) == 1 and not devto.articles
    assert states(ledger_url)["content/posts/busy.md"] == {"deferred", "published"}

    pass_the_hour(ledger_url, "content/posts/busy.md", "devto")
    code, results, log = watch_once(config)  # nothing changed on disk: the due row is taken up by itself
    assert code == 0 and [r["status"] for r in results["devto"]] == ["done"], (results, log)
    assert len(devto.articles) == 1 and "Edited again." in next(iter(devto.articles.values()))["body_markdown"]
    assert states(ledger_url)["content/posts/busy.md"] == {"published"}


def test_the_webhook_sync_holds_a_row_a_platform_deferred_until_its_time(
        tmp_path: Path, fakes: tuple[FakeDevTo, FakeMastodon], ledger_url: str) -> None:
    devto, masto = fakes
    repo = Repo(tmp_path / "git")
    s = syncer(hook_config(tmp_path / "site", repo, devto, masto, ledger_url))
    try:
        devto.rate_limit_next(1, retry_after=3600, method="POST")
        published_by_the_webhook(repo, s, ["busy"])
        assert creates(devto) == 1 and not devto.articles and len(masto.live) == 1
        assert states(ledger_url)["content/posts/busy.md"] == {"deferred", "published"}

        # a push edits the post within the hour: Mastodon's copy is updated, dev.to's row is held
        forget_the_pause(ledger_url)  # only the row's deferral holds it
        repo.write("content/posts/busy.md", post_text("Busy", "An edited paragraph."))
        repo.commit("edit busy")
        repo.push()
        lines = sync(s)
        assert any(line.startswith("saved content/posts/busy.md") and "devto: defer deferred" in line
                   and "mastodon: update" in line for line in lines), lines
        assert creates(devto) == 1 and not devto.articles
        assert "An edited paragraph." in masto.live[0]["text"]

        # the hour has passed: the next push that names the post sends it (a sync reconciles only what its
        # push changed; between pushes, `serve`'s own thread or a worker's periodic job sends it: below)
        pass_the_hour(ledger_url, "content/posts/busy.md", "devto")
        repo.write("content/posts/busy.md", post_text("Busy", "Edited again."))
        repo.commit("edit busy again")
        repo.push()
        lines = sync(s)
        assert any(line.startswith("saved content/posts/busy.md") and "devto: create" in line for line in lines), lines
        assert len(devto.articles) == 1 and "Edited again." in next(iter(devto.articles.values()))["body_markdown"]
        assert states(ledger_url)["content/posts/busy.md"] == {"published"}
    finally:
        s.syn.ledger.dispose()


def test_serve_without_a_broker_sends_a_deferred_row_when_its_time_comes_without_a_push(
        tmp_path: Path, fakes: tuple[FakeDevTo, FakeMastodon], ledger_url: str) -> None:
    """`serve` with no broker has no worker's periodic job: its sync thread sends the rows whose deferral has
    passed between pushes (before, such a row waited for the next push that touched its post)."""
    from syndicate.triggers.webhook.app import Background
    from tests.test_worker import wait_until

    devto, masto = fakes
    repo = Repo(tmp_path / "git")
    config = hook_config(tmp_path / "site", repo, devto, masto, ledger_url)
    s = syncer(config)
    try:
        devto.rate_limit_next(1, retry_after=3600, method="POST")
        published_by_the_webhook(repo, s, ["busy"])
        assert creates(devto) == 1 and not devto.articles and len(masto.live) == 1
        forget_the_pause(ledger_url)  # only the row's deferral holds it
        s.run_due()
        assert creates(devto) == 1  # within the hour: nothing sent
        pass_the_hour(ledger_url, "content/posts/busy.md", "devto")
        background = Background(load_config(config, env={**os.environ, **ENV}), s.branch, due_every=0.05)
        try:
            wait_until(lambda: len(devto.articles) == 1, 60, "the deferred dev.to row sent by serve's thread")
        finally:
            background.close()
        assert states(ledger_url)["content/posts/busy.md"] == {"published"}
        assert creates(devto) == 2 and len(masto.live) == 1  # the one create owed, nothing else
    finally:
        s.syn.ledger.dispose()
