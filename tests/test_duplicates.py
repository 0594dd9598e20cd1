"""Two posts with one canonical URL (or one id) are never sent: push, the watcher's scan and the webhook's sync."""
from __future__ import annotations

import os
from pathlib import Path

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
