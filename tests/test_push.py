"""`syndicate push / preview / status` end to end, in-process, against the fake platforms."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from syndicate.cli import app
from tests.fakes.devto import FakeDevTo
from tests.fakes.mastodon import FakeMastodon

DEVTO_KEY = "devto-test-key"
MASTO_TOKEN = "mastodon-test-token"


@pytest.fixture
def fakes() -> Iterator[tuple[FakeDevTo, FakeMastodon]]:
    with FakeDevTo() as devto, FakeMastodon() as masto:
        yield devto, masto  # type: ignore[misc]


@pytest.fixture
def site(tmp_path: Path, fakes: tuple[FakeDevTo, FakeMastodon], ledger_url: str,
         monkeypatch: pytest.MonkeyPatch) -> Path:
    devto, masto = fakes
    (tmp_path / "content" / "posts").mkdir(parents=True)
    (tmp_path / "syndicate.toml").write_text(
        f"""
[site]
url = "https://blog.example"
content = ["content/posts/**/*.md"]
permalink = "/posts/:slug/"

[state]
url = "{ledger_url}"

[targets.devto]
api_key = "${{DEVTO_API_KEY}}"
base_url = "{devto.url}"

[targets.mastodon]
base_url = "{masto.url}"
access_token = "${{MASTODON_ACCESS_TOKEN}}"
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("DEVTO_API_KEY", DEVTO_KEY)
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", MASTO_TOKEN)
    monkeypatch.delenv("SYNDICATE_CONFIG", raising=False)
    monkeypatch.delenv("SYNDICATE_BROKER_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(site: Path, name: str, front: str, body: str = "A first paragraph with a [link](https://example.org).\n") -> Path:
    path = site / "content" / "posts" / name
    path.write_text(f"---\n{front.strip()}\n---\n\n{body}", encoding="utf-8")
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def writes(fake: FakeDevTo | FakeMastodon) -> list[str]:
    return [f"{r.method} {r.path}" for r in fake.requests if r.method in ("POST", "PUT", "DELETE")]


def test_push_publishes_once_updates_in_place_and_sends_nothing_when_unchanged(site: Path, fakes) -> None:
    devto, masto = fakes
    post = write(site, "hello.md", 'title: Hello world\ndate: 2024-03-01\ntags: [python, "Machine Learning"]')
    code, output = run("push", str(post))
    assert code == 0, output
    assert len(devto.articles) == 1 and len(masto.live) == 1
    article = next(iter(devto.articles.values()))
    assert article["canonical_url"] == "https://blog.example/posts/hello/"
    assert "https://blog.example/posts/hello/" in masto.live[0]["text"]

    before = (len(writes(devto)), len(writes(masto)))
    code, output = run("push", str(post))
    assert code == 0, output
    assert (len(writes(devto)), len(writes(masto))) == before  # nothing sent for an unchanged post

    post.write_text(post.read_text().replace("A first paragraph", "An edited paragraph"), encoding="utf-8")
    code, output = run("push", str(post))
    assert code == 0, output
    assert len(devto.articles) == 1 and len(masto.live) == 1  # updated in place, not duplicated
    assert "An edited paragraph" in next(iter(devto.articles.values()))["body_markdown"]
    assert "An edited paragraph" in masto.live[0]["text"]
    assert writes(devto)[-1].startswith("PUT /api/articles/") and writes(masto)[-1].startswith("PUT /api/v1/statuses/")


def test_a_lost_response_on_create_is_found_not_duplicated(site: Path, fakes) -> None:
    devto, masto = fakes
    post = write(site, "lost.md", "title: Lost and found\ndate: 2024-03-01")
    devto.lose_next(1, method="POST")
    masto.lose_next(1, method="POST")
    code, output = run("push", str(post))
    assert code == 0, output
    assert len(devto.articles) == 1 and len(masto.live) == 1


def test_one_failing_target_does_not_stop_the_other_and_is_not_shown_as_success(
        site: Path, fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    devto, masto = fakes
    monkeypatch.setenv("DEVTO_API_KEY", "wrong-key-0123456789")
    post = write(site, "half.md", "title: Half way\ndate: 2024-03-01")
    code, output = run("push", str(post))
    assert code == 1
    assert "wrong-key-0123456789" not in output
    assert len(masto.live) == 1 and not devto.articles
    code, output = run("status", "--json")
    rows = {r["target"]: r for r in json.loads(output)}
    assert rows["devto"]["state"] == "failed" and "401" in rows["devto"]["last_error"]
    assert rows["mastodon"]["state"] == "published" and rows["mastodon"]["remote_url"]
    assert "wrong-key-0123456789" not in output


def test_drafts_never_go_out_and_a_post_made_draft_is_taken_down(site: Path, fakes) -> None:
    devto, masto = fakes
    draft = write(site, "draft.md", "title: Not yet\ndate: 2024-03-01\ndraft: true")
    code, output = run("push", str(draft))
    assert code == 0, output
    assert not devto.requests or not writes(devto)
    assert not writes(masto)

    post = write(site, "retract.md", "title: Said too soon\ndate: 2024-03-01")
    assert run("push", str(post))[0] == 0
    post.write_text(post.read_text().replace("date: 2024-03-01", "date: 2024-03-01\ndraft: true"), encoding="utf-8")
    code, output = run("push", str(post))
    assert code == 0, output
    assert masto.live == []  # deleted
    assert all(not a["published"] for a in devto.articles.values())  # dev.to: unpublished


def test_future_posts_are_deferred_not_sent(site: Path, fakes) -> None:
    devto, masto = fakes
    post = write(site, "later.md", "title: Later\ndate: 2099-01-01")
    code, output = run("push", str(post), "--json")
    assert code == 0, output
    assert not writes(devto) and not writes(masto)
    results = json.loads(output)["results"]
    assert {r["status"] for r in results} == {"deferred"}
    rows = json.loads(run("status", "--json")[1])
    assert {r["state"] for r in rows} == {"deferred"} and rows[0]["deferred_until"].startswith("2099-01-01")


def test_429_with_retry_after_is_honoured(site: Path, fakes) -> None:
    devto, masto = fakes
    post = write(site, "busy.md", "title: Busy server\ndate: 2024-03-01")
    devto.rate_limit_next(1, retry_after=1, method="POST")
    started = time.monotonic()
    code, output = run("push", str(post), "--to", "devto")
    waited = time.monotonic() - started
    assert code == 0, output
    posts = [r for r in devto.requests if r.method == "POST"]
    assert len(posts) == 2 and waited >= 0.95  # a lower bound: it waited as told, not a speed claim
    assert len(devto.articles) == 1


def test_a_broken_post_fails_alone_naming_the_file(site: Path, fakes) -> None:
    devto, masto = fakes
    good = write(site, "good.md", "title: Good\ndate: 2024-03-01")
    bad = site / "content" / "posts" / "bad.md"
    bad.write_text("---\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    code, output = run("push", str(site / "content" / "posts"))
    assert code == 1
    assert "bad.md" in output
    assert len(devto.articles) == 1 and len(masto.live) == 1
    assert good.exists()


def test_preview_json_sends_and_records_nothing_and_masks_secrets(site: Path, fakes) -> None:
    devto, masto = fakes
    post = write(site, "peek.md", "title: Peek\ndate: 2024-03-01\ntags: [python]")
    code, output = run("preview", str(post), "--json")
    assert code == 0, output
    whole = json.loads(output)
    assert set(whole) == {"posts", "errors", "log"}  # one shape for one file or a folder
    (data,) = whole["posts"]
    assert data["post"]["title"] == "Peek" and data["post"]["url"] == "https://blog.example/posts/peek/"
    entry = data["targets"]["devto"]
    assert entry["action"] == "create" and entry["request"]["method"] == "POST"
    assert entry["request"]["json"]["article"]["canonical_url"] == "https://blog.example/posts/peek/"
    assert data["targets"]["mastodon"]["request"]["url"].endswith("/api/v1/statuses")
    assert DEVTO_KEY not in output and MASTO_TOKEN not in output
    assert not writes(devto) and not writes(masto)
    assert json.loads(run("status", "--json")[1]) == []


def test_push_without_credentials_fails_at_start(site: Path, fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEVTO_API_KEY")
    post = write(site, "x.md", "title: X\ndate: 2024-03-01")
    code, output = run("push", "--to", "devto", str(post))
    assert code == 2
    assert "devto is skipped: $DEVTO_API_KEY is not set" in output
    assert not fakes[0].requests and not fakes[1].requests
    code, output = run("push", "--dry-run", str(post))
    assert code == 0, output  # a dry run needs no credentials
