"""The webhook's parts alone: signatures, payloads per host, the replay memory and the sync lock on both ledgers,
the git side (diff, token handling), the first-sync rule and the mass-change guard."""
from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicate.config.schema import Secret
from syndicate.errors import ConfigError
from syndicate.registry import load_config
from syndicate.state.ledger import Ledger, utcnow
from syndicate.state.ledger.syncs import Deliveries, Syncs
from syndicate.triggers.gitsync import HELPER, TOKEN_ENV, Git, GitError, Syncer, repo_name
from syndicate.triggers.webhook.app import HOSTS, verified
from syndicate.triggers.webhook.hosts import BadPayload, parse_push
from tests.test_webhook import ENV, NAME, SECRET, ZERO, Repo, git, payload, post_text, write_config

A = "a" * 40
B = "b" * 40


def test_signatures_per_host_are_checked_against_the_raw_body() -> None:
    body = b'{"ref": "refs/heads/main"}'
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    key = SECRET.encode()
    assert verified(HOSTS["github"], key, f"sha256={digest}", body)
    assert verified(HOSTS["bitbucket"], key, f"sha256={digest}", body)
    assert verified(HOSTS["gitea"], key, digest, body) and verified(HOSTS["forgejo"], key, digest, body)
    assert not verified(HOSTS["github"], key, digest, body)  # the prefix is part of GitHub's header
    assert not verified(HOSTS["github"], key, f"sha256={digest}", body + b" ")
    assert not verified(HOSTS["gitea"], key, digest, body.replace(b"main", b"dev"))
    assert verified(HOSTS["gitlab"], key, SECRET, b"anything")
    assert not verified(HOSTS["gitlab"], key, SECRET + "x", b"anything")


def test_payloads_give_only_the_ref_the_commits_and_the_name() -> None:
    for host in ("github", "gitea", "gitlab"):
        push = parse_push(host, payload(host, A, B, clone_url="https://evil.example/x.git"), "main")
        assert (push.ref, push.before, push.after, push.repository) == ("refs/heads/main", A, B, NAME)
    assert parse_push("github", payload("github", A, B, forced=True), "main").forced
    bitbucket: dict[str, Any] = {"repository": {"full_name": NAME}, "push": {"changes": [
        {"new": {"type": "branch", "name": "dev", "target": {"hash": A}}, "old": None},
        {"new": {"type": "branch", "name": "main", "target": {"hash": B}},
         "old": {"type": "branch", "name": "main", "target": {"hash": A}}, "forced": True},
    ]}}
    push = parse_push("bitbucket", bitbucket, "main")
    assert (push.ref, push.before, push.after, push.forced) == ("refs/heads/main", A, B, True)
    new_branch = parse_push("bitbucket", {**bitbucket, "push": {"changes": bitbucket["push"]["changes"][:1]}}, "main")
    assert (new_branch.ref, new_branch.before) == ("refs/heads/dev", ZERO)
    bads: list[Any] = [[], {"ref": "refs/heads/main"}, {**payload("github", A, B), "before": "../../etc"},
                {**payload("github", A, B), "repository": "me/blog"}]
    for bad in bads:
        with pytest.raises(BadPayload):
            parse_push("github", bad, "main")


def test_repo_names_come_from_the_url() -> None:
    assert repo_name("https://github.com/me/blog.git") == "me/blog"
    assert repo_name("git@gitlab.com:group/sub/blog.git") == "sub/blog"
    assert repo_name("file:///srv/git/me/blog.git/") == "me/blog"
    assert repo_name("/srv/git/blog") == "git/blog"


def test_a_delivery_is_remembered_once_and_a_commit_is_synced_once(ledger_url: str) -> None:
    led = Ledger(ledger_url, site="blog.example")
    seen = Deliveries(led)
    now = utcnow()
    assert seen.remember("d1", "github", "refs/heads/main", A, B, now) == "new"
    assert seen.remember("d1", "github", "refs/heads/main", A, B, now) == "duplicate"
    assert seen.remember("d2", "gitea", "refs/heads/main", A, B, now) == "same commit"
    # a day later both are forgotten (purged on the next delivery)
    later = now + timedelta(hours=25)
    fresh = Deliveries(led)
    assert fresh.remember("d3", "github", "refs/heads/main", A, B, later) == "new"
    assert fresh.remember("d1", "github", "refs/heads/main", A, A, later) == "new"
    led.dispose()


def test_pushes_during_a_sync_fold_into_the_next_and_two_never_run_at_once(ledger_url: str) -> None:
    led = Ledger(ledger_url, site="blog.example")
    syncs = Syncs(led)
    assert syncs.acquire("r", "w1", 60) is None  # nothing requested
    syncs.request("r")
    first = syncs.acquire("r", "w1", 60)
    assert first is not None and first.requested == 1
    syncs.request("r", full=True)  # arrives while w1 syncs
    assert syncs.acquire("r", "w2", 60) is None  # the lock
    assert not syncs.finish("r", "w1", first, commit=A, error=None)  # not released: one more push came
    second = syncs.acquire("r", "w1", 60)
    assert second is not None and second.requested == 2 and second.full
    assert syncs.finish("r", "w1", second, commit=B, error=None)
    state = syncs.get("r")
    assert state is not None and (state.commit, state.owner, state.done, state.full) == (B, None, 2, False)
    # an expired lease is taken over
    syncs.request("r")
    assert syncs.acquire("r", "dead", 60) is not None
    assert syncs.acquire("r", "w2", 60, now=utcnow() + timedelta(seconds=61)) is not None
    led.dispose()


def test_concurrent_requests_are_all_counted(ledger_url: str) -> None:
    led = Ledger(ledger_url, site="blog.example")
    syncs = Syncs(led)
    def ten() -> None:
        for _ in range(10):
            syncs.request("c")

    threads = [threading.Thread(target=ten) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    state = syncs.get("c")
    assert state is not None and state.requested == 40
    led.dispose()


def test_the_push_counter_commits_concurrent_pushes_in_batches(tmp_path: Path) -> None:
    import asyncio

    from syndicate.triggers.webhook.replay import PushCounter

    led = Ledger(f"sqlite:///{tmp_path / 'state.db'}", site="blog.example")
    syncs = Syncs(led)
    counter = PushCounter(syncs, "g")

    async def many() -> list[int]:
        return list(await asyncio.gather(*(counter.add() for _ in range(50))))

    waiting = asyncio.run(many())
    state = syncs.get("g")
    assert state is not None and state.requested == 50
    assert sorted(waiting) == list(range(50))  # each push knows how many were waiting before it
    assert syncs.request("g", count=3) == 50
    led.dispose()


def test_the_token_reaches_git_only_through_the_helper(tmp_path: Path) -> None:
    g = Git("https://git.example/me/blog.git", tmp_path, Secret("tok-123"))
    assert g.env[TOKEN_ENV] == "tok-123"
    assert not any("tok-123" in arg for arg in g.config)
    assert HELPER % ("x-access-token", TOKEN_ENV) in g.config[-1]
    # the helper, as git itself runs it, answers with the token from the environment
    done = subprocess.run([g.binary, *g.config, "credential", "fill"], input="protocol=https\nhost=git.example\n\n",
                          env=g.env, capture_output=True, text=True, check=True)
    assert "username=x-access-token\npassword=tok-123\n" in done.stdout
    with pytest.raises(GitError) as caught:
        g.run("ls-remote", "https://user:pw@127.0.0.1:9/x.git", cwd=tmp_path)
    assert "pw@" not in str(caught.value) and "tok-123" not in str(caught.value)


def test_the_diff_has_renames_and_every_commit(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "git")
    repo.write("a.md", "alpha\n" * 20)
    repo.write("b.md", "beta\n")
    base = repo.commit("one")
    git(repo.work, "mv", "a.md", "c.md")
    git(repo.work, "rm", "-q", "b.md")
    for i in range(25):
        repo.write(f"n{i}.md", f"{i}\n")
        repo.commit(f"n{i}")
    repo.push()
    g = Git(str(repo.bare), tmp_path / "checkout")
    tip = g.fetch("main")
    assert g.has(tip) and not g.has(base)  # shallow: only the tip is fetched
    g2 = Git(str(repo.bare), tmp_path / "full")
    git(tmp_path, "clone", "-q", str(repo.bare), str(tmp_path / "full"))
    changes = {(c.status, c.path, c.old_path) for c in g2.diff(base, tip)}
    assert ("R", "c.md", "a.md") in changes and ("D", "b.md", None) in changes
    assert sum(1 for c in changes if c[0] == "A") == 25


def _syncer(tmp_path: Path, repo: Repo, extra: str = "") -> Syncer:
    config = load_config(write_config(tmp_path / "site", repo.bare, extra=extra), env={**os.environ, **ENV})
    return Syncer(config, echo=lambda line: None)


def test_a_first_sync_of_a_big_site_refuses_or_baselines(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "git")
    for i in range(5):
        repo.write(f"content/posts/p{i}.md", post_text(f"Post {i}"))
    repo.commit("five")
    repo.push()
    syncer = _syncer(tmp_path, repo)
    syncer.syncs.request(syncer.key)
    assert syncer.run() == []
    state = syncer.syncs.get(syncer.key)
    assert state is not None and state.error is not None and 'first_run = "baseline"' in state.error
    assert state.owner is None  # the lock is free again

    baseline = _syncer(tmp_path, repo, extra='first_run = "baseline"')
    baseline.syncs.request(baseline.key)
    [done] = baseline.run()
    assert done.full
    assert {r.state for r in baseline.syn.ledger.all()} == {"baseline"}


def test_a_push_deleting_many_posts_is_held_by_the_guard(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "git")
    for i in range(8):
        repo.write(f"content/posts/p{i}.md", post_text(f"Post {i}"))
    repo.commit("eight")
    repo.push()
    syncer = _syncer(tmp_path, repo, extra='first_run = "baseline"')
    syncer.syncs.request(syncer.key)
    syncer.run()
    for i in range(8):
        git(repo.work, "rm", "-q", f"content/posts/p{i}.md")
    repo.write("content/posts/keep.md", post_text("Keep", extra="draft: true\n"))
    repo.commit("delete all")
    repo.push()
    syncer.syncs.request(syncer.key)
    [done] = syncer.run()
    assert not done.full
    assert any("held: 8 deletion(s)" in line for line in done.lines)


def test_a_sync_needs_a_webhook_section(tmp_path: Path) -> None:
    (tmp_path / "syndicate.toml").write_text('[site]\nurl = "https://blog.example"\n', encoding="utf-8")
    with pytest.raises(ConfigError):
        Syncer(load_config(tmp_path / "syndicate.toml", check_connectors=False))


def test_wait_live_holds_the_create_until_the_site_answers(tmp_path: Path) -> None:
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.fakes.devto import FakeDevTo
    from tests.test_webhook import wait_for

    state = {"live": False, "looks": 0}

    class Site(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state["looks"] += 1
            self.send_response(200 if state["live"] else 404)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    site = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    repo = Repo(tmp_path / "git")
    repo.write("content/posts/alpha.md", post_text("Alpha"))
    repo.commit("alpha")
    repo.push()
    with FakeDevTo() as devto:
        path = write_config(tmp_path / "site", repo.bare, devto=devto.url, extra="wait_live = true")
        text = path.read_text(encoding="utf-8").replace('url = "https://blog.example"',
                                                        f'url = "http://127.0.0.1:{site.server_port}"')
        text = text.replace("[targets.mastodon]", "[targets.mastodon]\nenabled = false")
        text += '\n[media]\nallow = ["127.0.0.1"]\n'  # the loopback site may be looked at
        path.write_text(text, encoding="utf-8")
        config = load_config(path, env={**os.environ, **ENV})
        syncer = Syncer(config, echo=lambda line: None, sleep=lambda s: time.sleep(0.02))
        syncer.syncs.request(syncer.key)
        worker = threading.Thread(target=syncer.run)
        worker.start()
        wait_for("the site looked at twice", lambda: state["looks"] >= 2)
        assert not [r for r in devto.requests if r.method == "POST"]  # not live yet: nothing sent
        state["live"] = True
        worker.join(60)
        assert [r.method for r in devto.requests].count("POST") == 1
    site.shutdown()
