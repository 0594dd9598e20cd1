"""Throughput of the Markdown pipeline over the shared corpus (posts/s on one core).

Usage: .venv/bin/python bench/bench_markdown.py [CORPUS_DIR] [ROUNDS]

Reports, best of ROUNDS: one markdown-it-py parse of each body, bare and with the
dialect plugins (footnote, definition list, task list, table, strikethrough: the
yardstick); the markdown-it-pyrs tree with and without those plugins (what the
dialect costs); prepare + markdown() + text(); prepare + html() for the blogs; the
dev.to + Mastodon path (prepare, the Liquid-safe article body with Forem embeds,
the excerpt); the code scan alone; and what nh3 costs per post. Runs against older
trees too (PYTHONPATH=/path/to/old/tree) so that before/after numbers come from the
same script.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import frontmatter
from markdown_it import MarkdownIt

from syndicate.config import SiteConfig
from syndicate.content.markdown import RENDERER, Document, prepare
from syndicate.content.post import Post

CORPUS = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "corpus"
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5


def load() -> list[Post]:
    site = SiteConfig(url="https://blog.example.org", root=CORPUS)
    posts = []
    for path in sorted(CORPUS.rglob("*.md")):
        if path.name == "README.md" and path.parent == CORPUS:
            continue
        raw = path.read_text(encoding="utf-8")
        if raw.startswith("+++"):
            raw = "---\n---\n" + raw.split("+++", 2)[2]  # Zola TOML front matter: body only
        fm = frontmatter.loads(raw)
        slug = path.parent.name if path.stem in ("index", "_index") else path.stem
        posts.append(Post(id=slug, path=path, title=str(fm.get("title", slug)), slug=slug,
                          url=f"{site.url}/blog/{slug}/", body=fm.content, site=site,
                          front_matter=dict(fm.metadata), renderer=RENDERER))
    return posts


def devto_body() -> Callable[[Document], str]:
    """The dev.to article body: the shared module where it exists, else dev.to's own escaping."""
    try:
        from connectors.forem_liquid import forem_markdown

        return forem_markdown
    except ImportError:
        from connectors.devto import liquid_embed, liquid_safe

        return lambda doc: liquid_safe(doc.markdown(embed=liquid_embed))


def best(posts: list[Post], one: Callable[[Post], object]) -> float:
    rate = 0.0
    for _ in range(ROUNDS):
        start = time.process_time()
        for post in posts:
            one(post)
        rate = max(rate, len(posts) / (time.process_time() - start))
    return rate


def main() -> None:
    posts = load()
    size = sum(len(p.body.encode()) for p in posts) / len(posts)
    md = MarkdownIt("commonmark")
    body = devto_body()

    def pipeline(post: Post) -> None:
        doc = prepare(post)
        doc.markdown()
        doc.text()

    def devto_mastodon(post: Post) -> None:
        doc = prepare(post)  # once per post, as Post.document caches it
        body(doc)
        _ = doc.first_paragraph  # Mastodon's status: title, excerpt, URL, tags

    from mdit_py_plugins.deflist import deflist_plugin
    from mdit_py_plugins.footnote import footnote_plugin
    from mdit_py_plugins.tasklists import tasklists_plugin

    plugged = (MarkdownIt("commonmark").enable(["table", "strikethrough"]).use(footnote_plugin).use(deflist_plugin)
               .use(tasklists_plugin))
    parse = best(posts, lambda p: md.parse(p.body))
    parse_plugged = best(posts, lambda p: plugged.parse(p.body))
    print(f"{len(posts)} posts, average {size / 1024:.1f} KiB; best of {ROUNDS}")
    print(f"markdown-it-py parse, CommonMark:    {parse:.0f} posts/s")
    print(f"markdown-it-py parse + plugins:      {parse_plugged:.0f} posts/s (the yardstick)")
    try:
        from markdown_it_pyrs import MarkdownIt as Rs

        bare = Rs("commonmark")
        dialect = Rs("commonmark").enable_many(["linkify", "autolink_ext", "footnote", "table", "strikethrough",
                                               "deflist", "tasklist", "replacements", "smartquotes"])
        t_bare, t_dialect = best(posts, lambda p: bare.tree(p.body)), best(posts, lambda p: dialect.tree(p.body))
        print(f"markdown-it-pyrs tree, CommonMark:   {t_bare:.0f} posts/s")
        print(f"markdown-it-pyrs tree, Hugo dialect: {t_dialect:.0f} posts/s "
              f"(the plugins cost {(1 / t_dialect - 1 / t_bare) * 1e6:.0f} µs per post)")
        print(f"markdown-it-pyrs render, Hugo dialect: {best(posts, lambda p: dialect.render(p.body)):.0f} posts/s")
    except ImportError:
        pass
    print(f"prepare + markdown() + text():       {best(posts, pipeline):.0f} posts/s")
    def blog(post: Post) -> None:
        doc = prepare(post)
        doc.html()
        _ = doc.summary

    print(f"prepare + html() + summary:          {best(posts, blog):.0f} posts/s")
    both = best(posts, devto_mastodon)
    print(f"dev.to body + Mastodon excerpt:      {both:.0f} posts/s ({both / parse_plugged:.2f}x the yardstick)")
    print(f"prepare + first_paragraph:           {best(posts, lambda p: prepare(p).first_paragraph):.0f} posts/s")
    try:
        from syndicate.content.markdown.context import Context
        from syndicate.content.markdown.protect import protect_code
        from syndicate.content.markdown.sanitize import sanitize
        from syndicate.content.markdown.scan import scan
    except ImportError:
        return
    print(f"code scan alone:                     {best(posts, lambda p: scan(p.body)):.0f} posts/s")
    texts = [(protect_code(p.body, Context(p)), Context(p)) for p in posts]
    spent = float("inf")
    for _ in range(ROUNDS):
        start = time.process_time()
        for text, ctx in texts:
            sanitize(text, ctx)
        spent = min(spent, time.process_time() - start)
    with_html = sum(1 for text, _ in texts if "<" in text)
    print(f"nh3 sanitising: {spent / len(posts) * 1e6:.0f} µs per post on average ({with_html} of {len(posts)} posts have '<')")


if __name__ == "__main__":
    main()
