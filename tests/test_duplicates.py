"""Two posts with one canonical URL (or one id) are never sent: push, the watcher's scan and the webhook's sync."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from syndicate.config import Config, SiteConfig
from syndicate.content.loader import load_posts, reset_cache
from syndicate.registry import load_config
from syndicate.triggers.gitsync import Syncer
from syndicate.triggers.watch import Watcher
from tests.fakes.devto import FakeDevTo
from tests.fakes.mastodon import FakeMastodon
from tests.test_push import fakes, run, site, write, writes  # noqa: F401 (fixtures)
from tests.test_webhook import ENV, Repo, post_text, write_config


def test_load_posts_stops_both_posts_and_names_both_files(tmp_path: Path) -> None:
    root = tmp_path / "blog"
    (root / "content" / "posts").mkdir(parents=True)
    (root / "content" / "posts" / "rc-bugs.md").write_text("---\ntitle: RC bugs\n---\nx\n", encoding="utf-8")
    (root / "content" / "posts" / "later.md").write_text("---\ntitle: Later\nslug: rc-bugs\n---\nx\n", encoding="utf-8")
    (root / "content" / "posts" / "fine.md").write_text("---\ntitle: Fine\n---\nx\n", encoding="utf-8")
    reset_cache()
    posts, errors = load_posts(Config(path=None, site=SiteConfig(url="https://b.example", root=root.resolve())))
    assert [p.path.name for p in posts] == ["fine.md"]
    assert len(errors) == 2
    for error in map(str, errors):
        assert "rc-bugs.md" in error and "later.md" in error and "same URL https://b.example/posts/rc-bugs/" in error


def test_push_of_a_folder_sends_neither_post(site: Path, fakes: tuple[FakeDevTo, FakeMastodon]) -> None:  # noqa: F811
    devto, masto = fakes
    write(site, "one.md", "title: One\nslug: shared")
    write(site, "two.md", "title: Two\nslug: shared")
    write(site, "three.md", "title: Three")
    code, output = run("push", str(site / "content" / "posts"))
    assert code == 1
    assert "one.md" in output and "two.md" in output and "same URL" in output
    assert len(devto.articles) == 1 and len(masto.live) == 1  # only "three"
    assert "Three" in next(iter(devto.articles.values()))["title"]


def test_push_of_one_file_that_takes_another_posts_url(site: Path, fakes: tuple[FakeDevTo, FakeMastodon]) -> None:  # noqa: F811
    devto, masto = fakes
    first = write(site, "first.md", "title: First\nslug: taken")
    assert run("push", str(first))[0] == 0
    sent = writes(devto) + writes(masto)
    second = write(site, "second.md", "title: Second\nslug: taken")
    code, output = run("push", str(second))
    assert code == 2 and "first.md" in output and "second.md" in output, output  # nothing named was usable
    assert writes(devto) + writes(masto) == sent  # not even an update of the first post's copy


def test_the_watchers_scan_stops_both_until_one_is_fixed(site: Path, fakes: tuple[FakeDevTo, FakeMastodon]) -> None:  # noqa: F811
    devto, masto = fakes
    config = load_config(site / "syndicate.toml")
    lines: list[str] = []
    watcher = Watcher(config, echo=lines.append)
    write(site, "a.md", "title: A\nslug: same")
    write(site, "b.md", "title: B\nslug: same")
    watcher.reconcile(first=True)
    assert not devto.articles and not masto.live
    assert sum("same URL" in line for line in lines) == 2, lines
    lines.clear()
    watcher.reconcile()  # still shared: still stopped, still said
    assert not devto.articles and sum("same URL" in line for line in lines) == 2
    write(site, "b.md", "title: B\nslug: different")  # the index sees the change by its stat
    watcher.reconcile()
    assert len(devto.articles) == 2 and len(masto.live) == 2


def test_the_webhook_sync_sends_neither(tmp_path: Path) -> None:
    with FakeDevTo() as devto, FakeMastodon() as masto:
        repo = Repo(tmp_path / "git")
        repo.write("content/posts/old.md", post_text("Old", extra="slug: taken\n"))
        repo.commit("one")
        repo.push()
        cfg = write_config(tmp_path / "site", repo.bare, devto=devto.url, masto=masto.url)
        syncer = Syncer(load_config(cfg, env={**os.environ, **ENV}), echo=lambda line: None)
        syncer.syncs.request(syncer.key)
        syncer.run()
        assert len(devto.articles) == 1 and len(masto.live) == 1
        sent = [r.path for r in devto.requests + masto.requests if r.method != "GET"]
        repo.write("content/posts/new.md", post_text("New", extra="slug: taken\n"))
        repo.commit("a second post on the first one's URL")
        repo.push()
        syncer.syncs.request(syncer.key)
        [done] = syncer.run()
        assert any("new.md" in line and "old.md" in line and "same URL" in line for line in done.lines), done.lines
        assert [r.path for r in devto.requests + masto.requests if r.method != "GET"] == sent


def test_retry_does_not_send_a_post_that_came_to_share_its_url(site: Path, fakes: tuple[FakeDevTo, FakeMastodon]) -> None:  # noqa: F811
    devto, masto = fakes
    devto.fail_next(1, 422, method="POST")  # refused: the first post's dev.to row is failed
    first = write(site, "first.md", "title: First\nslug: taken")
    assert run("push", str(first))[0] == 1
    assert not devto.articles and len(masto.live) == 1
    write(site, "second.md", "title: Second\nslug: taken")  # then another post takes its URL
    code, output = run("retry", "--failed")
    assert code == 1, output
    assert "first.md" in output and "second.md" in output and "same URL" in output, output
    assert not devto.articles  # neither is sent, as the plan says
    (site / "content" / "posts" / "second.md").unlink()
    code, output = run("retry", "--failed")
    assert code == 0 and len(devto.articles) == 1, output  # the clash gone, the retry goes through


def test_a_worker_does_not_send_a_post_that_came_to_share_its_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A task queued before another post took its post's URL (or re-sent by the periodic job) fails with the
    plan's error instead of sending."""
    from syndicate.content import siteindex
    from syndicate.engine import tasks
    from syndicate.errors import PostError

    now = [1000.0]
    monkeypatch.setattr(siteindex, "clock", lambda: now[0])
    root = tmp_path / "blog"
    (root / "content" / "posts").mkdir(parents=True)
    first = root / "content" / "posts" / "first.md"
    first.write_text("---\ntitle: First\nslug: taken\n---\nx\n", encoding="utf-8")
    (root / "content" / "posts" / "other.md").write_text("---\ntitle: Other\n---\nx\n", encoding="utf-8")
    reset_cache()
    blog = SiteConfig(url="https://b.example", root=root.resolve())
    assert tasks._load_post(first, blog).url == "https://b.example/posts/taken/"  # the worker lists the site
    # a new file takes the URL; the plan stops both, so no task of this worker ever loads it
    (root / "content" / "posts" / "second.md").write_text("---\ntitle: Second\nslug: taken\n---\nx\n", encoding="utf-8")
    first.write_text("---\ntitle: First, edited\nslug: taken\n---\nx\n", encoding="utf-8")
    now[0] += tasks.INDEX_TTL  # the listing is old: the worker looks at the folders again
    with pytest.raises(PostError, match="same URL") as err:
        tasks._load_post(first, blog)
    assert "second.md" in str(err.value)
