"""Defects found when the project was tried as a new user would; each test failed before its fix."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from syndicate import __version__
from syndicate.cli import app
from tests.test_push import fakes, run, site, write, writes  # noqa: F401  (fixtures)


def test_a_post_drafted_then_published_again_is_recreated_after_a_failed_try(site: Path, fakes) -> None:  # noqa: F811
    devto, masto = fakes
    post = write(site, "again.md", "title: Again\ndate: 2024-03-01")
    assert run("push", str(post), "--to", "mastodon")[0] == 0
    (first,) = masto.live
    write(site, "again.md", "title: Again\ndate: 2024-03-01\ndraft: true")
    assert run("push", str(post), "--to", "mastodon")[0] == 0
    assert masto.live == []
    write(site, "again.md", "title: Again\ndate: 2024-03-01")
    masto.fail_next(10, 503, method="POST")
    code, output = run("push", str(post), "--to", "mastodon", "--json")
    assert code == 1
    masto.calm()
    code, output = run("push", str(post), "--to", "mastodon", "--json")
    assert code == 0, output
    (result,) = json.loads(output)["results"]
    assert result["action"] == "create" and result["status"] == "done"
    (second,) = masto.live
    assert second["id"] != first["id"]
    keys = [s["idempotency_key"] for s in masto.statuses.values()]
    assert len(set(keys)) == 2  # the re-create has a key of its own


def test_brackets_in_titles_paths_and_messages_print_as_written(site: Path, fakes,  # noqa: F811
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    folder = site / "content" / "posts" / "[wip]"
    folder.mkdir()
    (folder / "index.md").write_text("---\ntitle: Mounting [/usr] separately\ndate: 2024-03-01\n---\n\nBody.\n",
                                     encoding="utf-8")
    code, output = run("push", str(folder / "index.md"))
    assert code == 0, output
    assert "content/posts/[wip]/index.md" in output
    code, output = run("preview", str(folder / "index.md"))
    assert code == 0 and "Mounting [/usr] separately" in output
    code, output = run("status")
    assert "[wip]" in output


def test_a_config_error_keeps_its_brackets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "syndicate.toml").write_text('[site]\nurl = "https://blog.example"\n[media.rehost]\nbucket = 3\n',
                                             encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["push", "--dry-run", "."])
    assert result.exit_code == 2
    assert "media.rehost" in result.output and "Traceback" not in result.output


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"syndicate {__version__}"


def test_one_post_that_cannot_render_fails_alone(site: Path, fakes, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    devto, masto = fakes
    good = write(site, "good.md", "title: Good\ndate: 2024-03-01")
    bad = write(site, "bad.md", "title: Bad\ndate: 2024-03-01")
    from connectors.mastodon import Mastodon

    original = Mastodon.render

    def render(self, post, facts=None):  # type: ignore[no-untyped-def]
        if post.title == "Bad":
            raise ValueError("this post cannot be rendered")
        return original(self, post, facts)

    monkeypatch.setattr(Mastodon, "render", render)
    code, output = run("preview", str(site / "content"), "--json")
    data = json.loads(output)
    by_title = {p["post"]["title"]: p["targets"] for p in data["posts"]}
    assert by_title["Bad"]["mastodon"]["action"] == "error"
    assert "cannot be rendered" in by_title["Bad"]["mastodon"]["reason"]
    assert by_title["Good"]["mastodon"]["action"] == "create" and by_title["Bad"]["devto"]["action"] == "create"
    code, output = run("push", str(good), str(bad), "--json")
    assert code == 1
    results = {(r["path"], r["target"]): r for r in json.loads(output)["results"]}
    assert results[("content/posts/bad.md", "mastodon")]["status"] == "failed"
    assert results[("content/posts/good.md", "mastodon")]["status"] == "done"
    assert len(masto.live) == 1 and len(devto.articles) == 2
    code, output = run("retry", "--failed", "--json")
    assert any(r["path"] == "content/posts/bad.md" for r in json.loads(output)["results"])  # `retry --failed` sees it


def test_an_image_that_cannot_be_fetched_leaves_nothing_creating(site: Path, fakes) -> None:  # noqa: F811
    devto, masto = fakes
    post = write(site, "img.md", "title: Img\ndate: 2024-03-01\ncover: https://nowhere.invalid/cover.png")
    code, output = run("push", str(post), "--to", "devto", "--json")
    assert code == 1
    (result,) = json.loads(output)["results"]
    assert result["status"] == "failed"
    status = {r["target"]: r for r in json.loads(run("status", "--json")[1])}
    assert status["devto"]["state"] == "failed"  # not `creating`: nothing was sent
    assert not writes(devto)
    listings = [r for r in devto.requests if r.path.endswith("/articles/me/all")]
    assert listings == []  # nothing to find: no request ever left


def test_missing_alt_is_warned_once(site: Path, fakes) -> None:  # noqa: F811
    post = write(site, "alt.md", "title: Alt\ndate: 2024-03-01", body="![](https://example.org/a.png)\n\nText.\n")
    code, output = run("preview", str(post), "--json")
    (data,) = json.loads(output)["posts"]
    for entry in data["targets"].values():
        assert sum("without alt text" in w for w in entry["warnings"]) == 1
