"""What the dialect's extensions cost in the whole render, per post, on ../shared/corpus.

    .venv/bin/python bench/bench_dialect.py [ROUNDS]

The corpus is laid out as bench/check_defects.py lays it out, with its generators' configs
(goldmark for opentelemetry.io, pulldown-cmark for the Rust blog). Each post is expanded and
rendered to HTML, platform Markdown and plain text (`prepare`, `html()`, `markdown()`,
`text()`), once in its own dialect and once with every extension off (bare CommonMark, raw HTML
as the dialect says); best of 3 x ROUNDS for each, alternated, in CPU time of this process.
"""
from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

BARE = dict(footnote=False, table=False, strikethrough=False, linkify=False, deflist=False, tasklist=False,
            typographer=False)


def main() -> None:
    import check_defects

    import syndicate.content.markdown as pipeline
    from syndicate.content.loader import load_posts
    from syndicate.content.markdown.dialect import dialect_of
    from syndicate.registry import load_config

    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as tmp:
        posts = []
        blogs = sorted(p for p in check_defects.CORPUS.iterdir() if p.is_dir())
        for site in check_defects.lay_out(Path(tmp), True, blogs):
            posts += load_posts(load_config(site / "syndicate.toml", env={}, strict=False))[0]

        def per_post(bare: bool) -> float:
            pipeline.dialect_of = (lambda p: replace(dialect_of(p), **BARE)) if bare else dialect_of  # type: ignore[assignment, arg-type]
            best = float("inf")
            for _ in range(rounds):
                start = time.process_time()
                for post in posts:
                    doc = pipeline.prepare(post)
                    doc.html()
                    doc.markdown()
                    doc.text()
                best = min(best, time.process_time() - start)
            return best / len(posts) * 1e6

        ons, offs = [], []
        for _ in range(3):  # alternated, so that a busier spell of the machine weighs on both
            ons.append(per_post(False))
            offs.append(per_post(True))
        on, off = min(ons), min(offs)
        pipeline.dialect_of = dialect_of
    print(f"{len(posts)} posts ({', '.join(sorted({dialect_of(p).name for p in posts}))}), best of 3 x {rounds}, alternated:")
    print(f"  in their dialects {on:.0f} µs per post, in bare CommonMark {off:.0f} µs per post: "
          f"the extensions cost {on - off:.0f} µs per post ({100 * (on - off) / off:.0f}%)")


if __name__ == "__main__":
    main()
