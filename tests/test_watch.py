"""`syndicate watch` as a real subprocess on a temporary site, against the dev.to and Mastodon fakes.

Every wait is on a condition (what a fake received, a line of the watcher's
log) with a generous deadline; the grace period comes from the config.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fakes.devto import FakeDevTo
from tests.fakes.mastodon import FakeMastodon

ROOT = Path(__file__).resolve().parents[1]
ENV = {"DEVTO_API_KEY": "devto-test-key", "MASTODON_ACCESS_TOKEN": "mastodon-test-token"}
DEADLINE = 60.0


def make_site(root: Path, devto: FakeDevTo, masto: FakeMastodon, ledger_url: str, **watch: str) -> Path:
    (root / "content" / "posts").mkdir(parents=True, exist_ok=True)
    extra = "\n".join(f"{k} = {v}" for k, v in {"debounce_ms": "100", **watch}.items())
    (root / "syndicate.toml").write_text(
        f"""
[site]
url = "https://blog.example"
content = ["content/posts/**/*.md"]
permalink = "/posts/:slug/"

[state]
url = "{ledger_url}"

[watch]
{extra}

[queue]
rate_time_scale = 0.01  # the client-side limiter (Redis or embedded) paces dev.to's 10 creates per 30 s in 1 s

[targets.devto]
api_key = "${{DEVTO_API_KEY}}"
base_url = "{devto.url}"

[targets.mastodon]
base_url = "{masto.url}"
access_token = "${{MASTODON_ACCESS_TOKEN}}"
""",
        encoding="utf-8",
    )
    return root


def post_text(title: str, body: str = "A first paragraph.", extra: str = "") -> str:
    return f"---\ntitle: {title}\ndate: 2024-03-01\n{extra}---\n\n{body}\n"


def write(site: Path, rel: str, text: str) -> Path:
    path = site / "content" / "posts" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def wait_for(what: str, cond: Callable[[], object], deadline: float = DEADLINE) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def writes(fake: FakeDevTo | FakeMastodon, method: str) -> list[str]:
    return [r.path for r in fake.requests if r.method == method]


def devto_puts(devto: FakeDevTo) -> list[dict[str, object]]:
    return [json.loads(r.body) for r in devto.requests if r.method == "PUT"]


class Proc:
    """The watcher as a subprocess; its log lines gathered from a file, for condition waits."""

    def __init__(self, site: Path, *args: str, name: str = "watch") -> None:
        self.log = site / f".{name}.log"
        env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT), "SYNDICATE_CONFIG": str(site / "syndicate.toml"),
               "COLUMNS": "400"}
        env.pop("SYNDICATE_BROKER_URL", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "syndicate.cli", "watch", *args], cwd=site, env=env,
            stdout=self.log.open("w"), stderr=subprocess.STDOUT,
        )

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_line(self, needle: str, count: int = 1) -> None:
        wait_for(f"{needle!r} in the log:\n{self.text()}", lambda: self.text().count(needle) >= count)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(30)


def cli(site: Path, *args: str) -> tuple[int, str]:
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT), "SYNDICATE_CONFIG": str(site / "syndicate.toml"),
           "COLUMNS": "400"}
    env.pop("SYNDICATE_BROKER_URL", None)
    done = subprocess.run([sys.executable, "-m", "syndicate.cli", *args], cwd=site, env=env,
                          capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


@pytest.fixture
def fakes() -> Iterator[tuple[FakeDevTo, FakeMastodon]]:
    with FakeDevTo() as devto, FakeMastodon() as masto:
        yield devto, masto  # type: ignore[misc]


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    started: list[Proc] = []
    yield started
    for p in started:
        if p.proc.poll() is None:
            p.proc.kill()
            p.proc.wait(10)


def test_edits_renames_and_deletions_reach_every_target_exactly_once(
        tmp_path: Path, fakes: tuple[FakeDevTo, FakeMastodon], ledger_url: str, procs: list[Proc]) -> None:
    devto, masto = fakes
    site = make_site(tmp_path, devto, masto, ledger_url, delete_grace='"1s"')
    watcher = Proc(site)
    procs.append(watcher)
    watcher.wait_line("watching")

    # create
    a = write(site, "alpha.md", post_text("Alpha"))
    wait_for("alpha on both", lambda: len(devto.articles) == 1 and len(masto.live) == 1)

    # edit: one PUT per target
    a.write_text(post_text("Alpha", "An edited paragraph."), encoding="utf-8")
    wait_for("alpha edited", lambda: "An edited" in masto.live[0]["text"]
             and "An edited" in next(iter(devto.articles.values()))["body_markdown"])
    assert len(writes(masto, "PUT")) == 1 and len(writes(devto, "PUT")) == 1

    # vim-style save: a new file renamed over the old one, a swap file and `4913` beside it
    swap = site / "content" / "posts" / ".alpha.md.swp"
    swap.write_bytes(b"\x00vim swap")
    probe = site / "content" / "posts" / "4913"
    probe.write_text("", encoding="utf-8")
    probe.unlink()
    tmp = site / "content" / "posts" / "alpha.md.new~"
    tmp.write_text(post_text("Alpha", "Saved the vim way."), encoding="utf-8")
    os.replace(tmp, a)
    wait_for("vim save", lambda: "vim way" in masto.live[0]["text"])
    swap.unlink()

    # truncate, then write: one change, the half-written (empty) file is never sent
    with a.open("w", encoding="utf-8") as fh:
        fh.flush()
        fh.write(post_text("Alpha", "Truncated then written."))
    wait_for("truncate+write", lambda: "Truncated then" in masto.live[0]["text"])
    assert len(writes(masto, "PUT")) == 3 and len(writes(devto, "PUT")) == 3

    # git mv with an explicit id: the same post, nothing sent (unchanged)
    b = write(site, "beta.md", post_text("Beta", extra="syndicate_id: beta-post\n"))
    wait_for("beta on both", lambda: len(devto.articles) == 2 and len(masto.live) == 2)
    puts = len(writes(devto, "PUT")) + len(writes(masto, "PUT"))
    watcher_log = watcher.text().count("moved")
    b.rename(site / "content" / "posts" / "beta-renamed.md")
    wait_for("the move seen", lambda: watcher.text().count("moved") > watcher_log)
    # the same post: its URL followed the file name, so each copy is updated once, never duplicated
    wait_for("the new URL sent", lambda: len(writes(devto, "PUT")) + len(writes(masto, "PUT")) == puts + 2)
    assert len(writes(devto, "POST")) == 2 and len(writes(masto, "POST")) == 2

    # a page bundle folder renamed: the slug (and URL) changes with it; updated in place
    write(site, "gamma/index.md", post_text("Gamma"))
    wait_for("gamma on both", lambda: len(devto.articles) == 3 and len(masto.live) == 3)
    (site / "content" / "posts" / "gamma").rename(site / "content" / "posts" / "gamma-two")
    wait_for("gamma's canonical URL updated", lambda: any(
        a["canonical_url"].endswith("/posts/gamma-two/") for a in devto.articles.values()))
    assert len(writes(devto, "POST")) == 3 and len(writes(masto, "POST")) == 3

    # draft again: removed from Mastodon, unpublished on dev.to
    a.write_text(post_text("Alpha", "Truncated then written.", extra="draft: true\n"), encoding="utf-8")
    wait_for("alpha withdrawn", lambda: len(masto.live) == 2 and any(
        p.get("article", {}).get("published") is False for p in devto_puts(devto)))

    # deletion (grace 1s): the copies go
    deletes_before = len(writes(masto, "DELETE"))
    (site / "content" / "posts" / "beta-renamed.md").unlink()
    wait_for("beta removed", lambda: len(writes(masto, "DELETE")) == deletes_before + 1)
    assert len(masto.live) == 1
    assert sum(1 for p in devto_puts(devto) if p.get("article", {}).get("published") is False) == 2

    assert watcher.stop() == 0
    assert "stopped" in watcher.text()
    assert len(writes(devto, "POST")) == 3 and len(writes(masto, "POST")) == 3  # exactly one create each


def test_restore_within_grace_cancels_and_a_mass_deletion_is_held(
        tmp_path: Path, fakes: tuple[FakeDevTo, FakeMastodon], procs: list[Proc]) -> None:
    devto, masto = fakes
    site = make_site(tmp_path, devto, masto, f"sqlite:///{tmp_path / 'state.db'}", delete_grace='"1h"')
    for i in range(22):
        write(site, f"p{i:02}.md", post_text(f"Post {i}"))
    code, out = cli(site, "watch", "--once", "--backfill")
    assert code == 0, out
    assert len(masto.live) == 22

    watcher = Proc(site)
    procs.append(watcher)
    watcher.wait_line("watching")
    # deleted, then back within the grace period (a branch switch): nothing is deleted
    p0 = site / "content" / "posts" / "p00.md"
    saved = p0.read_text(encoding="utf-8")
    p0.unlink()
    watcher.wait_line("deleted content/posts/p00.md")
    p0.write_text(saved, encoding="utf-8")
    watcher.wait_line("restored content/posts/p00.md")

    # 20 files at once: the guard holds them all
    for i in range(2, 22):
        (site / "content" / "posts" / f"p{i:02}.md").unlink()
    watcher.wait_line("held: 20 deletion(s)")
    assert watcher.stop() == 0
    assert not writes(masto, "DELETE") and len(masto.live) == 22

    code, out = cli(site, "status")
    assert "20 deletion(s) held" in out, out
    code, out = cli(site, "watch", "--once")  # the guard does not lapse by itself
    assert not writes(masto, "DELETE")
    code, out = cli(site, "push", "--apply-deletes")
    assert code == 0, out
    assert len(writes(masto, "DELETE")) == 20 and len(masto.live) == 2
    code, out = cli(site, "watch", "--once")  # recorded: never re-created
    assert len(writes(masto, "POST")) == 22


def test_a_post_added_while_stopped_is_caught_at_restart_and_two_watchers_do_not_double(
        tmp_path: Path, fakes: tuple[FakeDevTo, FakeMastodon], procs: list[Proc], pg_url: str) -> None:
    devto, masto = fakes
    site = make_site(tmp_path, devto, masto, pg_url)
    write(site, "first.md", post_text("First"))
    code, out = cli(site, "watch", "--once")
    assert code == 0, out
    write(site, "while-down.md", post_text("While down"))  # nobody watching
    one, two = Proc(site, name="one"), Proc(site, name="two")
    procs.extend([one, two])
    wait_for("caught at restart", lambda: len(masto.live) == 2 and len(devto.articles) == 2)
    one.wait_line("watching")
    two.wait_line("watching")
    for i in range(5):
        write(site, f"both-{i}.md", post_text(f"Both {i}"))
    wait_for("five more", lambda: len(masto.live) == 7 and len(devto.articles) == 7)
    time.sleep(0)  # both watchers have seen the events by the time the fakes hold them
    assert one.stop() == 0 and two.stop() == 0
    assert len(writes(masto, "POST")) == 7 and len(writes(devto, "POST")) == 7


def test_first_start_refuses_then_baselines_or_backfills(
        tmp_path: Path, fakes: tuple[FakeDevTo, FakeMastodon]) -> None:
    devto, masto = fakes
    for mode in ("refuse", "baseline", "since", "backfill"):
        site = make_site(tmp_path / mode, devto, masto, f"sqlite:///{tmp_path / mode / 'state.db'}")
        for i in range(50):
            write(site, f"p{i:02}.md", post_text(f"{mode} {i}").replace("2024-03-01", f"2024-01-{i % 28 + 1:02}"))
        posts = len(writes(masto, "POST"))
        if mode == "refuse":
            code, out = cli(site, "watch", "--once")
            assert code == 2 and "--baseline" in out and "--backfill" in out, out
            assert len(writes(masto, "POST")) == posts
        elif mode == "baseline":
            code, out = cli(site, "watch", "--once", "--baseline")
            assert code == 0, out
            assert len(writes(masto, "POST")) == posts
            write(site, "p00.md", post_text("edited, still baselined"))
            write(site, "fresh.md", post_text("A new one"))
            code, out = cli(site, "watch", "--once")
            assert len(writes(masto, "POST")) == posts + 1  # only the new post
            code, out = cli(site, "status")
            assert "baseline" in out
        elif mode == "since":
            code, out = cli(site, "watch", "--once", "--baseline", "--since", "2024-01-15")
            assert code == 0, out
            # days 15..28 of January go out: i % 28 + 1 >= 15
            assert len(writes(masto, "POST")) == posts + sum(1 for i in range(50) if i % 28 + 1 >= 15)
        else:
            code, out = cli(site, "watch", "--once", "--backfill")
            assert code == 0, out
            assert len(writes(masto, "POST")) == posts + 50


def test_a_broken_post_is_reported_once_and_stops_nothing(
        tmp_path: Path, fakes: tuple[FakeDevTo, FakeMastodon]) -> None:
    devto, masto = fakes
    site = make_site(tmp_path, devto, masto, f"sqlite:///{tmp_path / 'state.db'}")
    write(site, "bad.md", "---\ntitle: [unclosed\n---\nbody\n")
    write(site, "good.md", post_text("Good"))
    code, out = cli(site, "watch", "--once")
    assert code == 1 and "bad.md" in out, out
    assert len(masto.live) == 1
    code, out = cli(site, "watch", "--once")
    assert code == 0 and "bad.md" not in out, out  # once per change, not once per scan
    shutil.rmtree(site / "content")  # the content folder unmounted: the guard, not deletions
    code, out = cli(site, "watch", "--once")
    assert "held: 2 deletion(s)" in out, out  # the broken file too: it may have been a post
    assert not writes(masto, "DELETE")


def test_a_file_written_all_the_time_in_the_tree_does_not_hold_the_watcher_up(
        tmp_path: Path, fakes: tuple[FakeDevTo, FakeMastodon], ledger_url: str, procs: list[Proc]) -> None:
    """A build cache (or a ledger) in the site's folder written every few milliseconds: each batch of events
    is about it alone and filtered out, yet a saved post is still sent (the loop gets every batch)."""
    import threading

    devto, masto = fakes
    site = make_site(tmp_path, devto, masto, ledger_url)
    watcher = Proc(site)
    procs.append(watcher)
    watcher.wait_line("watching")
    busy = site / "resources" / "_gen" / "cache.bin"
    busy.parent.mkdir(parents=True)
    stop = threading.Event()

    def churn() -> None:
        n = 0
        while not stop.is_set():
            busy.write_bytes(n.to_bytes(8, "little"))
            n += 1
            stop.wait(0.005)

    writer = threading.Thread(target=churn, daemon=True)
    writer.start()
    try:
        write(site, "alpha.md", post_text("Alpha"))
        wait_for(f"alpha on both:\n{watcher.text()}", lambda: len(devto.articles) == 1 and len(masto.live) == 1)
        write(site, "beta.md", post_text("Beta"))
        wait_for("beta on both", lambda: len(devto.articles) == 2 and len(masto.live) == 2)
    finally:
        stop.set()
        writer.join(10)
    assert watcher.stop() == 0
