"""`syndicate plan --diff`: how long a pull request's plan takes on a large site (issue 16).

    .venv/bin/python bench/bench_plan.py [--posts 2000] [--changed 25] [--images 200] [--rounds 3]

Builds a git repository in a temporary folder: a site of --posts posts (a fifth
with a local cover image of --image-kb), committed, then a commit that edits
--changed posts, adds five and deletes three. Plans BASE..HEAD against three
targets (devto, mastodon, x; no ledger: planned from the diff alone) in
process, best of --rounds, and splits the time into reading git (both trees
written out with `git archive`) and planning; then once as the command a
workflow runs (`syndicate plan --format markdown`, a new process). Nothing is
sent: every target points at a closed port.
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from syndicate.registry import load_config  # noqa: E402
from syndicate.triggers import diffplan  # noqa: E402
from syndicate.triggers.diffplan.git import Repo  # noqa: E402

GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.org", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@example.org"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, env=GIT_ENV, capture_output=True, text=True,
                          check=True).stdout.strip()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post(i: int, body: str = "", cover: bool = False) -> str:
    lines = [f"title: Post number {i}", f"date: 2024-01-{1 + i % 28:02}", "tags: [python, testing]",
             "description: A short summary of the post, as most posts have one."]
    if cover:
        lines.append(f"image: /img/cover-{i}.jpg")
    text = body or "A paragraph with a [link](https://example.org) and some words.\n\n" * 8
    return "---\n" + "\n".join(lines) + "\n---\n\n" + text


def build(tmp: Path, posts: int, changed: int, image_kb: int) -> tuple[Path, str, str]:
    repo = tmp / "repo"
    content = repo / "site" / "content" / "posts"
    images = repo / "site" / "static" / "img"
    content.mkdir(parents=True)
    images.mkdir(parents=True)
    port = closed_port()
    (repo / "syndicate.toml").write_text(f"""
[site]
url = "https://blog.example"
root = "site"
content = ["content/posts/*.md"]
permalink = "/posts/:slug/"
static = ["static"]

[state]
url = "sqlite:///{tmp / 'no-ledger' / 'state.db'}"

[targets.devto]
api_key = "x"
base_url = "http://127.0.0.1:{port}"

[targets.mastodon]
base_url = "http://127.0.0.1:{port}"
access_token = "x"

[targets.x]
type = "x"
base_url = "http://127.0.0.1:{port}"
api_key = "a"
api_secret = "b"
access_token = "c"
access_secret = "d"
""", encoding="utf-8")
    blob = os.urandom(image_kb * 1024)
    for i in range(posts):
        cover = i % 5 == 0
        (content / f"post-{i:05}.md").write_text(post(i, cover=cover), encoding="utf-8")
        if cover:
            (images / f"cover-{i}.jpg").write_bytes(blob[: image_kb * 1024 - i % 97] + bytes([i % 251]))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    base = git(repo, "rev-parse", "HEAD")
    for i in range(changed):
        (content / f"post-{i * 7:05}.md").write_text(post(i * 7, "Rewritten.\n"), encoding="utf-8")
    for i in range(5):
        (content / f"new-{i}.md").write_text(post(posts + i), encoding="utf-8")
    for i in range(3):
        (content / f"post-{posts - 1 - i:05}.md").unlink()
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "head")
    return repo, base, git(repo, "rev-parse", "HEAD")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--changed", type=int, default=25)
    parser.add_argument("--image-kb", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-plan-") as tmp:
        t0 = time.perf_counter()
        repo, base, head = build(Path(tmp), args.posts, args.changed, args.image_kb)
        print(f"site: {args.posts} posts, {args.posts // 5} covers of {args.image_kb} KB "
              f"(built in {time.perf_counter() - t0:.1f}s)")
        config = load_config(repo / "syndicate.toml", strict=False, readonly=True)
        repo_git = Repo(config.site.root)
        best_git, best_all = float("inf"), float("inf")
        report = None
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as out:
                t = time.perf_counter()
                repo_git.extract(base, Path(out) / "base")
                repo_git.extract(head, Path(out) / "head")
                best_git = min(best_git, time.perf_counter() - t)
            t = time.perf_counter()
            report = diffplan.plan_range(config, f"{base}..{head}")
            best_all = min(best_all, time.perf_counter() - t)
        assert report is not None
        s = report.summary()
        print(f"plan: {len(report.entries)} (post, target) — {s['create']} create, {s['update']} update, "
              f"{s['delete']} delete, {s['skip']} skip; cost ${s['cost_usd']:.2f}")
        print(f"in process, best of {args.rounds}: {best_all:.2f}s (git archive of both trees {best_git:.2f}s, "
              f"planning {best_all - best_git:.2f}s)")
        exe = Path(sys.executable).parent / "syndicate"
        t = time.perf_counter()
        done = subprocess.run([str(exe), "plan", "--diff", f"{base}..{head}", "--format", "markdown"], cwd=repo,
                              capture_output=True, text=True, check=False)
        took = time.perf_counter() - t
        assert done.returncode == 0, done.stderr
        print(f"`syndicate plan --format markdown` as a new process: {took:.2f}s, {len(done.stdout):,} characters")


if __name__ == "__main__":
    main()
