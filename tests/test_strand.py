"""Nothing stranded (issue 13.2 and 13.30): every row the ledger holds is revisited, whoever wrote it.

Real processes against the dev.to and Mastodon fakes: a watcher SIGKILLed twice
mid-burst (a create held in flight each time) and restarted, a `push`
SIGKILLed and run again, a post sent by `push` and deleted afterwards. Every
wait is on a condition; the fakes count the creates.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from syndicate.state.ledger import Ledger
from tests import test_watch
from tests.fakes.devto import FakeDevTo
from tests.fakes.mastodon import FakeMastodon
from tests.test_watch import ENV, ROOT, Proc, cli, devto_puts, make_site, post_text, wait_for, write, writes

BURST = 24
fakes, procs = test_watch.fakes, test_watch.procs  # the watcher tests' fixtures


def creates(devto: FakeDevTo, masto: FakeMastodon) -> tuple[list[str], list[str]]:
    """What each fake holds: dev.to canonical URLs, Mastodon status texts."""
    return [a["canonical_url"] for a in devto.articles.values()], [s["text"] for s in masto.live]


def assert_each_once(devto: FakeDevTo, masto: FakeMastodon, n: int) -> None:
    canon, texts = creates(devto, masto)
    assert len(canon) == n == len(set(canon)), sorted(canon)
    assert len(texts) == n == len(set(texts))


def assert_all_published(url: str, n: int) -> None:
    ledger = Ledger(url, site="blog.example")
    rows = ledger.all()
    ledger.dispose()
    assert len(rows) == 2 * n and {r.state for r in rows} == {"published"}, {(r.post_path, r.target, r.state) for r in rows if r.state != "published"}
    assert all(r.remote_url for r in rows)  # nothing sent with no URL recorded


def no_silent_skip(log: str) -> None:
    """Every `skip` the watcher printed says why."""
    assert not re.search(r": skip(,|$)", log, re.M), log


def kill_mid_create(proc: Proc, fake: FakeDevTo | FakeMastodon, posts_before: int) -> None:
    """SIGKILL the watcher while a create it sent is held in flight by the fake."""
    wait_for("a held create to arrive", lambda: len(writes(fake, "POST")) > posts_before)
    proc.proc.send_signal(signal.SIGKILL)
    proc.proc.wait(10)


def test_a_watcher_killed_twice_mid_burst_strands_nothing(tmp_path: Path, ledger_url: str,
                                                          procs: list[Proc]) -> None:
    with FakeDevTo(latency=0.05) as devto, FakeMastodon(latency=0.05) as masto:
        site = make_site(tmp_path, devto, masto, ledger_url)
        first = Proc(site, name="watch-1")
        procs.append(first)
        first.wait_line("watching")
        # the first create on Mastodon is held past the kill: it commits on the fake after the watcher died
        masto.delay_next(1, seconds=3, method="POST", path="/api/v1/statuses")
        for i in range(BURST):  # 24 files saved at once
            write(site, f"p{i:02d}.md", post_text(f"Post {i}", f"Body {i}."))
        kill_mid_create(first, masto, 0)

        before = len(writes(devto, "POST"))
        devto.delay_next(1, seconds=3, method="POST", path="/api/articles")  # the next one on dev.to, too
        second = Proc(site, name="watch-2")
        procs.append(second)
        kill_mid_create(second, devto, before)

        third = Proc(site, name="watch-3")
        procs.append(third)
        third.wait_line("watching")
        wait_for("every post on both", lambda: len(devto.articles) == BURST and len(masto.live) == BURST)
        # the rows of the killed watchers were taken over at once, not after their lease ran out
        assert third.proc.poll() is None
        assert third.stop() == 0
    assert_each_once(devto, masto, BURST)
    assert_all_published(ledger_url, BURST)
    no_silent_skip(second.text() + third.text())


def test_a_push_killed_mid_run_is_finished_by_the_next_push(tmp_path: Path, fakes: tuple[FakeDevTo, FakeMastodon],
                                                            ledger_url: str) -> None:
    devto, masto = fakes
    site = make_site(tmp_path, devto, masto, ledger_url)
    for i in range(8):
        write(site, f"p{i}.md", post_text(f"Post {i}", f"Body {i}."))
    devto.delay_next(1, seconds=3, method="POST", path="/api/articles")
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT), "SYNDICATE_CONFIG": str(site / "syndicate.toml")}
    push = subprocess.Popen([sys.executable, "-m", "syndicate.cli", "push", "content/posts"], cwd=site, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for("the held create", lambda: len(writes(devto, "POST")) >= 1)
    push.send_signal(signal.SIGKILL)
    push.wait(10)
    code, out = cli(site, "push", "content/posts")  # at once: the killed push's lease is not waited out
    assert code == 0, out
    assert "held by another process" not in out
    assert_each_once(devto, masto, 8)
    assert_all_published(ledger_url, 8)


def test_a_post_pushed_then_deleted_is_taken_down_after_its_grace(tmp_path: Path,
                                                                  fakes: tuple[FakeDevTo, FakeMastodon],
                                                                  ledger_url: str) -> None:
    devto, masto = fakes
    site = make_site(tmp_path, devto, masto, ledger_url, delete_grace='"1h"')
    post = write(site, "alpha.md", post_text("Alpha"))
    write(site, "beta.md", post_text("Beta"))
    code, out = cli(site, "push", "content/posts")
    assert code == 0 and len(devto.articles) == 2 and len(masto.live) == 2, out
    post.unlink()  # deleted with no watcher running: only the ledger knows the post

    code, out = cli(site, "watch", "--once")
    assert "deleted content/posts/alpha.md: its copies go in 3600s" in out, out
    code, out = cli(site, "status")
    assert "1 deletion(s) in their grace period" in out and "content/posts/alpha.md" in out, out
    assert len(masto.live) == 2 and not devto_puts(devto)  # nothing goes before the grace is over

    toml = site / "syndicate.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('delete_grace = "1h"', 'delete_grace = "1ms"'),
                    encoding="utf-8")  # the hour passes
    code, out = cli(site, "watch", "--once")
    assert "removed content/posts/alpha.md → devto: delete, mastodon: delete" in out, out
    assert len(masto.live) == 1 and [p["article"]["published"] for p in devto_puts(devto)] == [False]  # unpublished
    code, out = cli(site, "watch", "--once")  # done: said once, never again
    assert "alpha.md" not in out, out


def test_a_mass_deletion_of_pushed_posts_is_held_by_the_guard(tmp_path: Path,
                                                              fakes: tuple[FakeDevTo, FakeMastodon]) -> None:
    devto, masto = fakes
    ledger_url = f"sqlite:///{tmp_path / 'state.db'}"  # the same queries as the test above, on both backends
    site = make_site(tmp_path, devto, masto, ledger_url, delete_grace='"1ms"', max_deletes="2")
    paths = [write(site, f"p{i}.md", post_text(f"Post {i}")) for i in range(4)]
    code, out = cli(site, "push", "content/posts")
    assert code == 0 and len(masto.live) == 4, out
    for path in paths[:3]:
        path.unlink()
    code, out = cli(site, "watch", "--once")
    assert "held: 3 deletion(s) wait for `syndicate push --apply-deletes`" in out, out
    assert len(masto.live) == 4
    code, out = cli(site, "push", "--apply-deletes")
    assert code == 0 and len(masto.live) == 1, out
    code, out = cli(site, "watch", "--once")
    assert "held" not in out and "deleted" not in out, out


def test_retry_on_a_leased_row_says_who_holds_it_until_when(tmp_path: Path,
                                                            fakes: tuple[FakeDevTo, FakeMastodon]) -> None:
    from tests.test_leases import Holder

    devto, masto = fakes
    ledger_url = f"sqlite:///{tmp_path / 'state.db'}"  # leases on both backends: tests/test_leases.py
    site = make_site(tmp_path, devto, masto, ledger_url)
    post = write(site, "alpha.md", post_text("Alpha"))
    masto.fail_next(1, status=422, method="POST")  # refused: the row is `failed`
    code, out = cli(site, "push", str(post), "--to", "mastodon")
    ledger = Ledger(ledger_url, site="blog.example")
    (row,) = ledger.all()
    assert row.state == "failed", out
    holder = Holder(ledger_url, row.post_id, "mastodon")
    try:
        assert holder.owner and holder.owner != "refused"
        code, out = cli(site, "retry", "--failed")
        assert f"held by another process: pid {holder.proc.pid} on " in out and " until " in out, out
        assert not masto.live
        holder.kill()  # the holder is gone: the next retry goes ahead at once
        code, out = cli(site, "retry", "--failed")
        assert code == 0 and len(masto.live) == 1, out
    finally:
        holder.stop()
        ledger.dispose()




def test_copies_kept_by_on_delete_are_not_taken_for_a_new_deletion(tmp_path: Path,
                                                                   fakes: tuple[FakeDevTo, FakeMastodon]) -> None:
    devto, masto = fakes
    site = make_site(tmp_path, devto, masto, f"sqlite:///{tmp_path / 'state.db'}", delete_grace='"1ms"')
    toml = site / "syndicate.toml"
    text = toml.read_text(encoding="utf-8")
    for table in ("[targets.devto]", "[targets.mastodon]"):
        text = text.replace(table, f'{table}\non_delete = "keep"')
    toml.write_text(text, encoding="utf-8")
    post = write(site, "alpha.md", post_text("Alpha"))
    write(site, "beta.md", post_text("Beta"))
    assert cli(site, "push", "content/posts")[0] == 0
    post.unlink()
    code, out = cli(site, "watch", "--once")
    assert "deleted content/posts/alpha.md" in out, out
    code, out = cli(site, "watch", "--once")  # the grace is over: on_delete = keep leaves both copies
    assert "removed content/posts/alpha.md → devto: skip (file deleted; on_delete = keep: the copy stays)" in out, out
    assert len(masto.live) == 2 and not devto_puts(devto)
    code, out = cli(site, "watch", "--once")  # settled: the rows that still point at copies are not news
    assert "alpha.md" not in out, out
