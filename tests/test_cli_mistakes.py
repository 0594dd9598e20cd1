"""Clear errors for the mistakes users make (issue 13: 6, 8, 9, 10, 20-22, 24, 39). Each runs the real
`syndicate` app, or the real config loader, against the fakes and a temporary site."""
from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from syndicate.config import ConfigError
from syndicate.registry import load_config
from tests.fakes.devto import FakeDevTo
from tests.fakes.mastodon import FakeMastodon
from tests.test_push import DEVTO_KEY, MASTO_TOKEN, fakes, run, site, write, writes  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[1]


def config_of(folder: Path, replace: tuple[str, str]) -> None:
    path = folder / "syndicate.toml"
    path.write_text(path.read_text().replace(*replace), encoding="utf-8")


# --- 6: front-matter target names are checked like config keys -------------------------------------


def test_front_matter_target_names_that_match_no_target_are_warned_with_the_near_miss(site: Path, fakes) -> None:  # noqa: F811
    devto, masto = fakes
    post = write(site, "typo.md", "title: Typo\ndate: 2024-03-01\nsyndicate: [devtoo, mastdon]")
    code, out = run("push", str(post))
    assert code == 0, out
    assert not writes(devto) and not writes(masto)  # the names opt out of everything, as written
    assert "content/posts/typo.md: syndicate: 'devtoo' is not a configured target; did you mean devto?" in out
    assert "'mastdon' is not a configured target; did you mean mastodon?" in out

    over = write(site, "over.md", "title: Over\ndate: 2024-03-01\nsyndicate:\n  devtoo: {title: Other}")
    code, out = run("preview", str(over), "--json")
    (data,) = json.loads(out)["posts"]
    for entry in data["targets"].values():
        assert any("syndicate.devtoo: overrides for a target that is not configured, ignored; did you mean devto?"
                   in w for w in entry["warnings"]), entry["warnings"]
    fine = write(site, "fine.md", "title: Fine\ndate: 2024-03-01\nsyndicate:\n  only: [devto]\n  mastodon: {text: x}")
    code, out = run("preview", str(fine), "--json")
    (data,) = json.loads(out)["posts"]
    assert not any("configured" in w for e in data["targets"].values() for w in e["warnings"])


# --- 8: a base_url without a scheme ------------------------------------------------------------------


def test_a_base_url_without_a_scheme_exits_2_naming_the_fix(site: Path, fakes) -> None:  # noqa: F811
    devto, masto = fakes
    config_of(site, (f'base_url = "{masto.url}"', 'base_url = "mastodon.social"'))
    post = write(site, "a.md", "title: A\ndate: 2024-03-01")
    code, out = run("push", str(post))
    assert code == 2, out
    assert "targets.mastodon.base_url: not an http(s) URL: the scheme is missing (got 'mastodon.social'" in out
    assert '"https://mastodon.social"' in out and "Traceback" not in out
    assert not devto.requests and not masto.requests


def test_a_request_that_never_left_is_failed_at_once_not_outcome_unknown(site: Path, fakes) -> None:  # noqa: F811
    from syndicate.config import find_config
    from syndicate.content.loader import load_post
    from syndicate.engine.runner import Syndicator

    config = load_config(find_config())
    config.targets["mastodon"].options["base_url"] = "mastodon.social"  # past the config's own check
    syn = Syndicator(config)
    post = load_post(write(site, "a.md", "title: A\ndate: 2024-03-01"), config.site)
    slept: list[float] = []
    outcome = syn.run_inline(post, "mastodon", sleep=slept.append)
    assert outcome.status == "failed" and slept == [], outcome  # no retry: nothing could have been sent
    assert "request not sent" in (outcome.error or "") and "base_url" in (outcome.error or "")
    row = syn.ledger.get(post.id, "mastodon")
    assert row is not None and row.state == "failed"  # never `creating`: the outcome is known


# --- 9: every config error in one run ---------------------------------------------------------------


def test_every_config_error_is_reported_in_one_run(tmp_path: Path) -> None:
    path = tmp_path / "syndicate.toml"
    path.write_text(
        '[site]\nurl = "https://blog.example"\ntimezone = "Mars/Olympus"\n'
        '[watch]\nrescan = "often"\n'
        '[queue]\nbroker = "localhost"\n'
        '[targets.devto]\napi_key = "${DEVTO_KEY}"\nbase_url = "dev.to"\n'
        '[targets.mastodon]\nbase_url = "https://m.example"\naccess_token = "${MASTO_TOKEN}"\nvisibilty = "public"\n',
        encoding="utf-8")
    env = {"XDG_STATE_HOME": str(tmp_path / "xdg"), "MASTO_TOKEN": ""}
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env)
    message = str(info.value)
    for key in ("site.timezone", "watch.rescan", "queue.broker", "targets.devto.base_url",
                "targets.mastodon.visibilty"):
        assert f"{path}: {key}: " in message, (key, message)
    # a credential the environment lacks is no config error: its target is skipped (13.27), and the reason
    # says whether the variable is unset or set but empty (13.9)
    path.write_text(
        '[site]\nurl = "https://blog.example"\n'
        '[targets.devto]\napi_key = "${DEVTO_KEY}"\n'
        '[targets.mastodon]\nbase_url = "https://m.example"\naccess_token = "${MASTO_TOKEN}"\n', encoding="utf-8")
    config = load_config(path, env=env)
    assert config.skipped == {"devto": "$DEVTO_KEY is not set", "mastodon": "$MASTO_TOKEN is empty"}
    assert not config.targets


def test_a_missing_site_and_a_bad_target_are_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "syndicate.toml"
    path.write_text('[targets.devto]\napikey = "k"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={"XDG_STATE_HOME": str(tmp_path / "xdg")})
    lines = str(info.value).splitlines()
    assert any("[site] is required" in line for line in lines)
    assert any("targets.devto.apikey: unknown key; did you mean api_key?" in line for line in lines)


# --- 10: retry and resolve reject unknown targets ----------------------------------------------------


def test_retry_and_resolve_reject_an_unknown_target_as_push_does(site: Path, fakes) -> None:  # noqa: F811
    post = write(site, "a.md", "title: A\ndate: 2024-03-01")
    for args in (["push", str(post), "--to", "devtoo"], ["retry", "--target", "devtoo"],
                 ["resolve", str(post), "--target", "devtoo", "--not-posted"]):
        code, out = run(*args)
        assert code == 2, (args, out)
        assert "unknown target(s): devtoo (did you mean devto?); configured: devto, mastodon" in out, (args, out)


def test_an_unknown_target_near_a_skipped_one_is_named_with_the_near_miss(
        site: Path, fakes, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.delenv("DEVTO_API_KEY")  # devto is skipped: the typo is still a near miss of it
    post = write(site, "a.md", "title: A\ndate: 2024-03-01")
    for args in (["push", str(post), "--to", "devtoo"], ["retry", "--target", "devtoo"]):
        code, out = run(*args)
        assert code == 2, (args, out)
        assert ("unknown target(s): devtoo (did you mean devto?); configured: mastodon; skipped: devto"
                in out), (args, out)


# --- 20: preview shows WordPress uploads; nothing writes into the site -------------------------------


def test_preview_shows_wordpress_body_images_as_uploads(site: Path, fakes) -> None:  # noqa: F811
    with (site / "syndicate.toml").open("a", encoding="utf-8") as f:
        f.write('\n[targets.wp]\ntype = "wordpress"\nbase_url = "http://127.0.0.1:9"\nusername = "me"\n'
                'app_password = "${WP_PASSWORD}"\n')
    (site / "static" / "images").mkdir(parents=True)
    (site / "static" / "images" / "map.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    config_of(site, ('permalink = "/posts/:slug/"', 'permalink = "/posts/:slug/"\nstatic = ["static"]'))
    post = write(site, "img.md", "title: Img\ndate: 2024-03-01", body="Text.\n\n![A map](/images/map.png)\n")
    code, out = run("preview", str(post), "--to", "wp", "--json")
    assert code == 0, out
    (data,) = json.loads(out)["posts"]
    content = data["targets"]["wp"]["request"]["json"]["content"]
    assert 'src="<upload: https://blog.example/images/map.png>"' in content, content
    assert 'src="https://blog.example/images/map.png"' not in content


def _snapshot(folder: Path) -> dict[str, tuple[int, bytes] | None]:
    out: dict[str, tuple[int, bytes] | None] = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        out[rel] = (path.stat().st_mtime_ns, path.read_bytes()) if path.is_file() else None
    return out


def test_preview_status_and_dry_run_write_nothing_into_a_read_only_site(
        tmp_path: Path, ledger_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeDevTo() as devto, FakeMastodon() as masto:
        site = tmp_path / "site"
        (site / "content" / "posts").mkdir(parents=True)
        (site / "syndicate.toml").write_text(
            f'[site]\nurl = "https://blog.example"\ncontent = ["content/posts/**/*.md"]\n'
            f'[targets.devto]\napi_key = "{DEVTO_KEY}"\nbase_url = "{devto.url}"\n'
            f'[targets.mastodon]\nbase_url = "{masto.url}"\naccess_token = "{MASTO_TOKEN}"\n', encoding="utf-8")
        post = write(site, "a.md", "title: A\ndate: 2024-03-01\ncover: cover.png", body="Text.\n\n![x](pic.png)\n")
        (post.parent / "cover.png").write_bytes(b"\x89PNG\r\n\x1a\n")
        write(site, "b.md", "title: B\ndate: 2024-03-01")
        monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
        monkeypatch.setenv("SYNDICATE_STATE_URL", ledger_url)
        monkeypatch.delenv("SYNDICATE_CONFIG", raising=False)
        monkeypatch.chdir(site)
        readers = (["preview", str(post)], ["preview", "content", "--json"], ["status"], ["status", "--json"],
                   ["push", "--dry-run", "content"], ["push", "--dry-run", "--json", str(post)])
        # the default data folder (beside the config when the site is writable): not even made by a reader
        before = _snapshot(site)
        for args in readers:
            code, out = run(*args)
            assert code == 0, (args, out)
        assert _snapshot(site) == before
        # with a ledger that holds rows (in the data folder, outside the site) and a read-only site
        monkeypatch.setenv("SYNDICATE_DATA", str(tmp_path / "data"))
        assert run("push", str(site / "content" / "posts" / "b.md"))[0] == 0
        sent = len(writes(devto)) + len(writes(masto))
        before = _snapshot(site)
        modes = {p: p.stat().st_mode for p in [site, *site.rglob("*")]}
        for p in modes:
            p.chmod(modes[p] & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        try:
            for args in readers:
                code, out = run(*args)
                assert code == 0, (args, out)
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        assert _snapshot(site) == before
        assert len(writes(devto)) + len(writes(masto)) == sent


# --- 21: watch --once with held deletions exits 1 ----------------------------------------------------


def test_watch_once_with_held_deletions_exits_1(site: Path, fakes) -> None:  # noqa: F811
    config_of(site, ("[state]", "[watch]\nmax_deletes = 1\n\n[state]"))
    posts = [write(site, f"p{i}.md", f"title: P{i}\ndate: 2024-03-01") for i in range(3)]
    code, out = run("watch", "--once")
    assert code == 0, out
    for p in posts[:2]:
        p.unlink()
    code, out = run("watch", "--once")
    assert code == 1, out
    assert "held: 2 deletion(s)" in out
    code, out = run("watch", "--once")
    assert code == 1, out  # still held: still waiting for a person


def test_serve_logs_ordinary_syncs_at_info(tmp_path: Path, fakes) -> None:  # noqa: F811
    from tests.test_webhook import SPECS, Repo, Server, deliver, payload, post_text, write_config

    if not SPECS.exists():
        pytest.skip("../shared/specs not beside the repo")
    devto, masto = fakes
    repo = Repo(tmp_path / "git")
    server = Server(write_config(tmp_path / "site", repo.bare, devto=devto.url, masto=masto.url))
    try:
        repo.write("content/posts/alpha.md", post_text("Alpha"))
        repo.commit("a post")
        before, after = repo.push()
        assert deliver(server, "github", payload("github", before, after)).status_code == 202
        server.wait_synced(after)
        log = server.text()
        assert f"INFO syndicate.triggers.webhook.app: synced {after[:12]}" in log, log
        assert "INFO syndicate.triggers.webhook.app: new content/posts/alpha.md → devto: create, mastodon: create" in log, log
        assert "WARNING" not in log, log
    finally:
        server.stop()


# --- 22: the config is found from the post's own folder ----------------------------------------------


def test_the_config_is_found_from_the_posts_folder_when_the_current_one_has_none(
        site: Path, fakes, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    post = write(site, "far.md", "title: Far\ndate: 2024-03-01")
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    monkeypatch.chdir(elsewhere)
    code, out = run("preview", str(post), "--json")
    assert code == 0, out
    assert json.loads(out)["posts"][0]["post"]["url"] == "https://blog.example/posts/far/"
    code, out = run("push", str(post))
    assert code == 0, out
    code, out = run("status", str(post))
    assert "content/posts/far.md" in out


# --- 24: the docs match behaviour ----------------------------------------------------------------------


def test_the_example_configs_try_it_line_runs(tmp_path: Path) -> None:
    text = (ROOT / "examples" / "syndicate.toml").read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if "Try it:" in line)
    command = shlex.split(line.split("Try it:", 1)[1])
    assert command[0] == "syndicate"
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "xdg"), "SYNDICATE_DATA": str(tmp_path / "data"),
           "COLUMNS": "200"}
    env.pop("SYNDICATE_CONFIG", None)
    done = subprocess.run([sys.executable, "-m", "syndicate.cli", *command[1:]], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "dev.to" in done.stdout or "devto" in done.stdout


def test_first_run_limit_is_documented_as_the_watcher_does_it() -> None:
    from syndicate.config.schema import WatchOptions

    desc = WatchOptions.model_fields["first_run_limit"].description or ""
    assert "refuse" in desc and "--baseline" in desc and "--backfill" in desc
    assert "marked as seen" not in desc


# --- 39: watch --baseline sends none, whatever the count ---------------------------------------------


def test_watch_baseline_on_a_two_post_site_sends_none(site: Path, fakes) -> None:  # noqa: F811
    devto, masto = fakes
    for i in range(2):
        write(site, f"p{i}.md", f"title: P{i}\ndate: 2024-03-01")
    write(site, "draft.md", "title: D\ndate: 2024-03-01\ndraft: true")
    code, out = run("watch", "--once", "--baseline")
    assert code == 0, out
    assert not writes(devto) and not writes(masto)
    assert "baselined 2 existing post(s)" in out
    rows = {(r["path"], r["target"]): r["state"] for r in json.loads(run("status", "--json")[1])}
    assert rows[("content/posts/p0.md", "devto")] == "baseline"
    write(site, "draft.md", "title: D\ndate: 2024-03-01")  # published later: it goes out, it was never baselined
    code, out = run("watch", "--once")
    assert code == 0, out
    assert len(devto.articles) == 1 and len(masto.live) == 1


def test_with_a_broker_push_still_warns_of_front_matter_target_names(site: Path, fakes) -> None:  # noqa: F811
    import uuid

    from tests.conftest import REDIS_URL

    config_of(site, ("[state]", f'[queue]\nbroker = "{REDIS_URL}"\nname = "h-cli-{uuid.uuid4().hex}"\n\n[state]'))
    post = write(site, "typo.md", "title: Typo\ndate: 2024-03-01\nsyndicate: [devtoo]")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the real command: its log is collected by main()
    done = subprocess.run([sys.executable, "-m", "syndicate.cli", "push", str(post), "--json"], cwd=site, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(done.stdout)
    assert data["results"] == []  # opted out of both: nothing queued
    assert any("'devtoo' is not a configured target; did you mean devto?" in line for line in data["log"]), data
    assert "content/posts/typo.md" in done.stderr
