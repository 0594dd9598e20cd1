"""`syndicate init` on a large site: detecting the generator and choosing the globs (issue 16).

    .venv/bin/python bench/bench_init.py [--posts 5000] [--pages 2000] [--rounds 3]

Builds a Hugo site in a temporary folder: --posts dated posts under
content/blog/<year>/ (a fifth of them page bundles with an image), --pages
undated docs pages under content/docs/, a node_modules folder of 20,000
Markdown files that must not be read, and a Zola site of the same posts with
no posts folder named (so the posts are told apart by their dates). Reports
the best-of-rounds time of `syndicate.cli.init.ssg.detect` and of the whole `init` (the file
written, loaded back and the posts discovered; no baseline).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from typer.testing import CliRunner  # noqa: E402

from syndicate.cli import app  # noqa: E402
from syndicate.cli.init.run import detect  # noqa: E402


def build(root: Path, posts: int, pages: int, zola: bool) -> None:
    (root / ("config.toml" if zola else "hugo.toml")).write_text(
        'base_url = "https://bench.example.org"\n' if zola else 'baseURL = "https://bench.example.org/"\n')
    blog = root / "content" / ("" if zola else "blog")
    for i in range(posts):
        year = 2000 + i % 25
        folder = blog / str(year)
        if i % 5 == 0:
            folder = folder / f"post-{i}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "cover.png").write_bytes(b"png")
            path = folder / "index.md"
        else:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"post-{i}.md"
        path.write_text(f'+++\ntitle = "Post {i}"\ndate = {year}-0{1 + i % 9}-1{i % 9}\n+++\n\nBody {i}.\n')
    docs = root / "content" / "docs"
    for i in range(pages):
        folder = docs / f"section-{i % 40}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"page-{i}.md").write_text(f'+++\ntitle = "Page {i}"\n+++\n\nText.\n')
    modules = root / "node_modules"
    for i in range(200):
        folder = modules / f"pkg-{i}" / "docs"
        folder.mkdir(parents=True)
        for j in range(100):
            (folder / f"readme-{j}.md").write_text("# readme\n")


def best(rounds: int, fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def whole(root: Path) -> None:
    """`syndicate init`, answering the prompts with their defaults and declining the baseline."""
    (root / "syndicate.toml").unlink(missing_ok=True)
    result = CliRunner().invoke(app, ["init", str(root)], input="\nn\n")
    assert result.exit_code == 0, result.output
    shutil.rmtree(root / ".syndicate", ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for zola in (False, True):
        with tempfile.TemporaryDirectory(prefix="bench-init-") as tmp:
            root = Path(tmp)
            build(root, args.posts, args.pages, zola)
            plan = detect(root)
            t_detect = best(args.rounds, lambda site=root: detect(site))
            t_init = best(args.rounds, lambda site=root: whole(site))
            kind = "zola (by dates)" if zola else "hugo (named)"
            print(f"{kind:16} {args.posts} posts + {args.pages} pages + 20000 in node_modules: "
                  f"globs {plan.content if len(plan.content) < 4 else f'{len(plan.content)} folders'}; detect {t_detect:.2f}s, init (write, load, discover) {t_init:.2f}s")


if __name__ == "__main__":
    main()
