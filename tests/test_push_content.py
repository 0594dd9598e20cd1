"""`push FILE` publishes only the site's posts: a file `[site] content` does not take is refused (issue 13.3).

Before, any Markdown file inside the root went out under a URL invented from
its name. Now each such file gets one line naming it and the globs, the
others go on; exit 1, or 2 when nothing named could be used.
"""
from __future__ import annotations

import json
from pathlib import Path

from tests import test_push
from tests.test_push import run, write, writes

fakes, site = test_push.fakes, test_push.site  # the fixtures: a site with dev.to and Mastodon fakes


def stray(root: Path, rel: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\ntitle: Not a post\ndate: 2024-03-01\n---\n\nNotes to self.\n", encoding="utf-8")
    return path


def test_a_file_outside_the_content_globs_is_refused_and_the_others_go_on(site: Path, fakes) -> None:
    devto, masto = fakes
    post = write(site, "hello.md", "title: Hello\ndate: 2024-03-01")
    notes = stray(site, "notes/idea.md")
    code, output = run("push", str(notes), str(post))
    assert code == 1, output
    said = " ".join(output.split())
    assert f"{notes}: not a post of this site" in said and "content/posts/**/*.md" in said
    assert [a["title"] for a in devto.articles.values()] == ["Hello"] and len(masto.live) == 1
    assert not any(b"Not a post" in (r.body or b"") for r in devto.requests + masto.requests)


def test_nothing_usable_exits_2_and_sends_nothing(site: Path, fakes) -> None:
    devto, masto = fakes
    notes = stray(site, "notes/idea.md")
    for args in (["push", str(notes)], ["push", str(site / "notes")], ["push", "--dry-run", str(notes)],
                 ["preview", str(notes)], ["push", str(stray(site, "content/posts/_index.md"))]):
        code, output = run(*args)
        assert code == 2, (args, output)
        assert "not a post of this site" in output, (args, output)
    assert writes(devto) == [] and writes(masto) == []
    code, output = run("status", "--json")
    assert code == 0 and json.loads(output) == []  # nothing recorded either


def test_a_file_outside_the_root_is_still_refused_as_outside(site: Path, fakes, tmp_path_factory) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "post.md"
    elsewhere.write_text("---\ntitle: Elsewhere\n---\n\nText.\n", encoding="utf-8")
    code, output = run("push", str(elsewhere))
    assert code == 2 and "outside the site root" in output


def test_in_content_agrees_with_discover_file_by_file(tmp_path: Path) -> None:
    from syndicate.content.loader import discover, in_content
    from syndicate.registry import load_config

    files = ["content/a.md", "content/x/y/b.md", "content/_index.md", "content/x/_index.fr.md", "content/.hid/c.md",
             "content/node_modules/d.md", "content/e.txt", "content/.dot.md", "content/x/Upper.MD",
             "_posts/2024-01-01-p.md", "_posts/sub/q.md", "public/keep/r.md", "public/s.md", "dist/t.md",
             "notes/n.md", "u.md", "src/content/blog/v.mdx"]
    for rel in files:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x", encoding="utf-8")
    (tmp_path / "content" / "folder.md").mkdir()  # a folder named like a post is not one
    (tmp_path / "syndicate.toml").write_text(
        '[site]\nurl = "https://blog.example"\ncontent = ["content/**/*.md", "_posts/*.md", "public/keep/*.md", '
        '"**/*.mdx", "dist/*.md"]\n[state]\ndir = "data"\n', encoding="utf-8")
    config = load_config(tmp_path / "syndicate.toml", check_connectors=False)
    listed = {p.relative_to(tmp_path).as_posix() for p in discover(config)}
    judged = {rel for rel in [*files, "content/folder.md"] if in_content(tmp_path / rel, config)}
    assert judged == listed
    assert listed == {"content/a.md", "content/x/y/b.md", "content/.dot.md", "_posts/2024-01-01-p.md",
                      "public/keep/r.md", "src/content/blog/v.mdx", "dist/t.md"}
