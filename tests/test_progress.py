"""The progress bar of long runs (issue 16): counts per state and per target, on a terminal only.

The bar is rendered to a Rich console forced to be a terminal (a `StringIO`
behind it), and end to end through the real `syndicate` app against the
dev.to and Mastodon fakes with `TTY_COMPATIBLE=1` (Rich's own switch) making
both streams terminals. With `--json`, `--no-progress` or a plain pipe, no bar.
"""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from syndicate.cli import app
from syndicate.triggers.progress import Tracker
from tests.test_push import fakes, site, write  # noqa: F401  (fixtures)

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
BAR = "━"  # Rich's bar is drawn with this character


def plain(text: str) -> str:
    return ANSI.sub("", text)


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, plain(result.stderr)


def test_the_bar_shows_counts_per_state_and_per_target() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100, color_system=None)
    tracker = Tracker(console, "push", auto_refresh=False)
    tracker.expect(["devto", "mastodon"], 3)
    with tracker:
        assert tracker.drawing
        for result in ({"target": "devto", "action": "create", "status": "done"},
                       {"target": "devto", "action": "create", "status": "done"},
                       {"target": "devto", "action": "create", "status": "failed", "error": "422"},
                       {"target": "mastodon", "action": "update", "status": "done"},
                       {"target": "mastodon", "action": "skip", "status": "skipped", "reason": "unchanged"}):
            tracker.done(result)
        tracker.refresh()
        frame = plain(screen.getvalue()).split("push")[-1]  # the last frame drawn
    assert BAR in frame and "5/6" in frame
    assert "2 created, 1 updated, 1 unchanged, 1 failed" in frame
    assert re.search(r"devto\s+3/3\s+2 created\s+1 failed", frame), frame
    assert re.search(r"mastodon\s+2/3\s+1 updated\s+1 unchanged", frame), frame


def test_no_console_or_one_unit_draws_nothing_and_still_counts() -> None:
    tracker = Tracker(None, "push")
    tracker.expect(["devto"], 5)
    with tracker:
        tracker.done({"target": "devto", "action": "create", "status": "done"})
        assert not tracker.drawing
    assert tracker.counts == {"created": 1}
    screen = io.StringIO()
    single = Tracker(Console(file=screen, force_terminal=True), "push")
    single.expect(["devto"], 1)
    with single:
        assert not single.drawing  # one post: done before a bar would help
    assert screen.getvalue() == ""


def test_push_of_a_folder_draws_the_bar_on_a_terminal_only(site: Path, fakes,  # noqa: F811
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    _devto, masto = fakes
    for i in range(3):
        write(site, f"p{i}.md", f"title: Post {i}\ndate: 2024-03-0{i + 1}")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    masto.fail_next(1, 422, method="POST")  # refused at once: one failed, no backoff
    code, out, err = cli("push", str(site / "content"))
    assert code == 1, out + err
    assert BAR in err and "6/6" in err, err
    assert "5 created, 1 failed" in err
    assert re.search(r"devto\s+3/3\s+3 created", err), err
    assert re.search(r"mastodon\s+3/3\s+2 created\s+1 failed", err), err
    assert plain(out).strip().splitlines()[-1] == "5 created, 1 failed"  # the summary line, as before

    write(site, "p3.md", "title: Post 3\ndate: 2024-03-04")
    write(site, "p4.md", "title: Post 4\ndate: 2024-03-05")
    code, out, err = cli("push", str(site / "content"), "--json")
    assert BAR not in err and "/10" not in err, err
    assert {r["status"] for r in json.loads(out)["results"]} >= {"done"}  # stdout is JSON alone

    write(site, "p5.md", "title: Post 5\ndate: 2024-03-06")
    code, out, err = cli("push", str(site / "content"), "--no-progress")
    assert BAR not in err, err
    assert plain(out).strip().splitlines()[-1].startswith("2 created")

    monkeypatch.delenv("TTY_COMPATIBLE")  # CliRunner's streams are no terminals: piped
    write(site, "p6.md", "title: Post 6\ndate: 2024-03-07")
    code, out, err = cli("push", str(site / "content"))
    assert BAR not in err, err
    assert out.strip().splitlines()[-1].startswith("2 created")


def test_a_first_watch_backfill_and_baseline_draw_the_bar(site: Path, fakes,  # noqa: F811
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    for i in range(5):
        write(site, f"b{i}.md", f"title: Back {i}\ndate: 2024-03-0{i + 1}")
    code, out, err = cli("watch", "--once", "--backfill")
    assert code == 0, out + err
    assert "backfill" in err and BAR in err and "10/10" in err, err
    assert "10 created" in err and re.search(r"devto\s+5/5\s+5 created", err), err
    assert plain(out).strip().splitlines()[-1] == "10 created"

    code, out, err = cli("watch", "--once", "--json")  # nothing new; and --json never draws
    assert BAR not in err and json.loads(out)["results"] == []

    for i in range(3):
        write(site, f"old{i}.md", f"title: Old {i}\ndate: 2023-01-0{i + 1}")
    code, out, err = cli("baseline", str(site / "content" / "posts"))
    assert code == 0, out + err
    assert "baseline" in err and BAR in err and "6 baselined" in err, err
    assert re.search(r"mastodon\s+\d+/\d+\s+3 baselined", err), err


def test_a_push_of_one_post_draws_no_bar(site: Path, fakes, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    post = write(site, "one.md", "title: One\ndate: 2024-03-01")
    code, out, err = cli("push", str(post))
    assert code == 0, out + err
    assert BAR not in err and plain(out).strip().splitlines()[-1] == "2 created"
