"""In-page links (`[see](#setup)`): each copy links to a heading it has, or to the place on the post's page.

The generator's heading ids are checked against real output: the links the corpus's authors wrote against
their generator (Hugo, Zola) must all name a heading id computed here, and kramdown-parser-gfm's own
test case. Ghost's ids are checked on the real Ghost (tests/test_ghost_peer.py), WordPress keeping ours on
the real WordPress (tests/test_wordpress_peer.py).
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import pytest

from syndicate.content.loader import load_posts
from syndicate.content.markdown.anchors import (
    Explicit,
    Heading,
    forem_ids,
    ghost_ids,
    headings,
    local_html,
    local_markdown,
)
from syndicate.content.markdown.attrs import strip_attributes
from syndicate.content.markdown.dialect import Dialect
from syndicate.content.markdown.document import _heading_nodes
from syndicate.content.markdown.tree import parse
from syndicate.registry import load_config
from tests.paths import SHARED
from tests.test_dialects import bodies, render, site

CORPUS = SHARED / "corpus"
IN_PAGE = re.compile(r"\]\(#([^)\s]+)\)")


def ids_of(markdown: str, rule: str) -> list[str | None]:
    explicit: Explicit = {}
    markdown = strip_attributes(markdown, explicit)
    tree = parse(markdown, Dialect("test", anchors=rule))
    return [h.id for h in headings(_heading_nodes(tree), markdown.encode(), rule, explicit)]


# --- the generators' ids ---------------------------------------------------------------------------------------

@pytest.mark.skipif(not CORPUS.is_dir(), reason="no ../shared/corpus beside the project")
def test_every_in_page_link_of_the_corpus_names_a_heading_id_its_generator_gives(tmp_path: Path) -> None:
    """52 links in 8 posts, written by their authors against Hugo's and Zola's real output."""
    configs = {"open-telemetry+opentelemetry.io": ("hugo.toml", 'baseURL = "https://opentelemetry.io/"\n'),
               "rust-lang+blog.rust-lang.org": ("config.toml", 'base_url = "https://blog.rust-lang.org"\n')}
    links = 0
    explicit = 0
    for blog, (name, text) in configs.items():
        root = tmp_path / blog
        shutil.copytree(CORPUS / blog / "content", root / "content", ignore=shutil.ignore_patterns("*.png", "*.jpg"))
        (root / name).write_text(text, encoding="utf-8")
        (root / "syndicate.toml").write_text('[site]\nurl = "https://blog.example"\ncontent = ["content/**/*.md"]\n',
                                             encoding="utf-8")
        posts, errors = load_posts(load_config(root / "syndicate.toml"))
        assert posts and not errors
        for post in posts:
            found = post.document.headings()
            ids = {h.id for h in found}
            for frag in IN_PAGE.findall(post.body):
                assert unquote(frag) in ids, (post.path.name, frag, [(h.text, h.id) for h in found])
                links += 1
            written = re.findall(r"^#+ .*\{#([^}]+)\}\s*$", post.body, re.M)
            for given in written:
                assert given in ids, (post.path.name, given)
            explicit += len(written)
    assert links == 52 and explicit > 20


def test_kramdown_gfm_ids_as_its_parser_gives_them() -> None:
    """kramdown-parser-gfm's test case header_ids (the cases whose source is plain)."""
    md = ("### test {#myid}\n\n### variable_name\n\n### abc def öúß\n\n### 192 abc 192\n\n### ;.;;\n\n"
          "### variable_name\n\n### variable_name\n\n### ;;\n\n### before \tafter tab\n\n### with `code`\n")
    assert ids_of(md, "kramdown-gfm") == [
        "myid", "variable_name", "abc-def-öúß", "192-abc-192", None, "variable_name-1", "variable_name-2", "-1",
        "before--after-tab", "with-code"]


def test_kramdown_ids_written_on_the_heading_or_the_line_after_it() -> None:
    md = "## One {#first}\n\n## Two\n{: #second .wide}\n\nText.\n{: #a-paragraph}\n\n## Three\n"
    assert ids_of(md, "kramdown-gfm") == ["first", "second", "three"]


def test_hugo_ids_come_from_the_raw_line_and_repeats_skip_taken_ids() -> None:
    md = ("## Using `foo` *now*\n\n## A -- B\n\n## Same\n\n## Same {#same-1}\n\n## Same\n\n## 日本語のテキスト\n\n"
          "## !!!\n\nSetext *one*\n---\n")
    assert ids_of(md, "github") == [
        "using-foo-now", "a----b", "same", "same-1", "same-2", "日本語のテキスト", "heading", "setext-one"]
    assert ids_of("## Ünïcode Straße\n", "github-ascii") == ["unicode-strae"]
    assert ids_of("## A -- B, c!\n", "blackfriday") == ["a-b-c"]


def test_a_heading_the_expansion_rewrote_has_no_known_id() -> None:
    """goldmark takes the line as written; a link made absolute or raw HTML changed it: no id is guessed."""
    assert ids_of("## See [the docs](https://blog.example/docs/)\n\n## Keep `<b>` in code\n", "github") == [
        None, "keep-b-in-code"]


def test_zola_and_astro_ids() -> None:
    md = "## Hello, World!\n\n## Hello, World!\n\n## Café au lait\n\n## Привет\n"
    assert ids_of(md, "zola-on") == ["hello-world", "hello-world-1", "cafe-au-lait", None]  # no transliteration here
    assert ids_of("## a (b) c\n", "zola-safe") == ["a_b_c"]
    assert ids_of("## “Quoted” — done…\n\n## Made © us\n", "zola-on") == ["quoted-done", None]  # © is "(c)" there
    assert ids_of("## I ♥ unicode\n\n## I ♥ unicode\n\n## Привет non-latin\n", "github-slugger") == [
        "i--unicode", "i--unicode-1", "привет-non-latin"]
    assert ids_of("## Anything\n", "") == [None]  # the generator makes none (Eleventy, Gatsby)


@pytest.mark.parametrize("config, rule", [
    ({"hugo.toml": 'baseURL = "https://blog.example/"\n'}, "github"),
    ({"hugo.toml": 'baseURL = "https://b/"\n[markup.goldmark.parser]\nautoHeadingIDType = "github-ascii"\n'},
     "github-ascii"),
    ({"hugo.toml": 'baseURL = "https://b/"\n[markup.goldmark.parser]\nautoHeadingID = false\n'}, ""),
    ({"config.toml": 'base_url = "https://b"\n[slugify]\nanchors = "safe"\n'}, "zola-safe"),
    ({"_config.yml": "title: x\n"}, "kramdown-gfm"),
    ({"_config.yml": "kramdown:\n  auto_ids: false\n"}, ""),
    ({"_config.yml": "kramdown:\n  input: kramdown\n"}, "kramdown"),
    ({"astro.config.mjs": "export default {}\n"}, "github-slugger"),
    ({".eleventy.js": "module.exports = {}\n"}, ""),
    ({"gatsby-config.js": "module.exports = {plugins: []}\n"}, ""),
    ({"gatsby-config.js": "module.exports = {plugins: [{resolve: 'gatsby-transformer-remark', options: {plugins: "
                          "['gatsby-remark-autolink-headers']}}]}\n"}, "github-slugger"),
])
def test_the_rule_is_read_from_the_generators_config(tmp_path: Path, config: dict[str, str], rule: str) -> None:
    where = "_posts/2024-01-01-p.md" if "_config.yml" in config else "content/p.md"
    root = site(tmp_path, {**config, where: "---\ntitle: P\ndate: 2024-01-01\n---\n## A heading\n"})
    posts, errors = load_posts(load_config(root / "syndicate.toml"))
    assert not errors
    assert posts[0].document.dialect.anchors == rule


# --- the copies ------------------------------------------------------------------------------------------------

POST = """---
title: Anchors
date: 2024-01-01
---
See [the setup](#setup-steps), [again](#setup-steps-1), [mine](#mine), [code](#using-foo) and [gone](#nope).

## Setup steps

## Setup steps

## Custom heading {#mine}

## Using `foo`

```
[x](#setup-steps)
```
"""


def test_each_copy_links_in_page_where_it_has_the_heading_else_to_the_post(tmp_path: Path) -> None:
    root = site(tmp_path, {"hugo.toml": 'baseURL = "https://blog.example/"\n', "content/posts/anchors.md": POST})
    r = render(root, "content/posts/anchors.md")
    page = r["post"].url
    b = bodies(r)
    wp = b["wordpress"]  # our ids are kept: every link to a heading stays in the page
    for frag in ("setup-steps", "setup-steps-1", "mine", "using-foo"):
        assert f'href="#{frag}"' in wp and f'id="{frag}"' in wp
    assert f'href="{page}#nope"' in wp  # no such place in the copy: the post's page
    ghost = b["ghost"]  # Ghost gives its own ids (from the heading's text): the links follow them
    assert 'href="#setup-steps"' in ghost and 'href="#setup-steps-1"' in ghost
    assert 'href="#custom-heading"' in ghost and 'href="#using-foo"' in ghost
    devto = b["devto"]  # Forem names each heading from its text, repeats alike: the second goes to the page
    assert "[the setup](#setup-steps)" in devto and "[mine](#custom-heading)" in devto
    assert f"[again]({page}#setup-steps-1)" in devto and f"[gone]({page}#nope)" in devto
    assert "```\n[x](#setup-steps)\n```" in devto  # code is never touched
    for name in ("medium", "hashnode"):  # ids not kept or not known: the place on the post's page
        assert f"{page}#setup-steps" in b[name] and f"{page}#mine" in b[name], name
        outside_code = b[name].split("```")[0].split("<pre>")[0]
        assert 'href="#' not in outside_code and "](#" not in outside_code, name


def test_ghost_and_forem_ids() -> None:
    """Ghost's rule as the real Ghost 5 applied it (the peer test publishes these headings too)."""
    texts = ["Setup steps", "Setup steps", "What's new? C++ & Go — “quoted” 日本語 Ünïcode", "Using foo() with bar",
             "Step-by-step   guide_1"]
    found = [Heading(2, None, t, None) for t in texts]
    assert ghost_ids(found) == [
        "setup-steps", "setup-steps-1",
        "whats-new-c-go-%E2%80%94-%E2%80%9Cquoted%E2%80%9D-%E6%97%A5%E6%9C%AC%E8%AA%9E-%C3%BCn%C3%AFcode",
        "using-foo-with-bar", "step-by-step-guide1"]
    assert forem_ids(found) == ["setup-steps", "setup-steps", None, "using-foo-with-bar", "stepbystep-guide1"]


def test_links_are_rewritten_only_for_this_page_and_known_places() -> None:
    page = "https://blog.example/p/"
    html = (f'<a href="{page}#a">1</a> <a href="https://other.example/p/#a">2</a> <a href="{page}#b">3</a> '
            f'<a href="{page}#%C3%BC">4</a>')
    assert local_html(html, page, {"a": "x", "ü": "u"}) == (
        '<a href="#x">1</a> <a href="https://other.example/p/#a">2</a> '
        f'<a href="{page}#b">3</a> <a href="#u">4</a>')
    md = f"[a]({page}#a) `[c]({page}#a)` [d](<{page}#a>)\n\n[ref]: {page}#a\n"
    code = [(md.index("`"), md.rindex("`") + 1, "span")]
    assert local_markdown(md, page, {"a": "x"}, code) == f"[a](#x) `[c]({page}#a)` [d](<#x>)\n\n[ref]: #x\n"


def test_kramdowns_table_of_contents_is_left_out_with_a_warning(tmp_path: Path) -> None:
    post = "---\ntitle: T\n---\n* Will be replaced by the ToC\n{:toc}\n\n## First part\n\nText.\n\n* a list\n* kept\n"
    root = site(tmp_path, {"_config.yml": "title: x\n", "_posts/2024-01-01-t.md": post})
    r = render(root, "_posts/2024-01-01-t.md")
    b = bodies(r)
    assert "ToC" not in b["wordpress"] and "ToC" not in b["devto"] and "toc}" not in b["devto"]
    assert "<li>a list</li>" in b["wordpress"] and "* a list\n* kept" in b["devto"]
    assert any("{:toc}" in w for w in r["warnings"])


def test_a_hugo_ref_to_a_place_in_the_same_post_is_an_in_page_link(tmp_path: Path) -> None:
    """`{{< ref "#x" >}}` names this page: its own URL on the site (not a canonical URL set elsewhere)."""
    post = ("---\ntitle: T\ndate: 2024-01-01\ncanonical_url: https://elsewhere.example/t\n---\n"
            'See [below]({{< ref "#first-part" >}}).\n\n## First part\n\nText.\n')
    root = site(tmp_path, {"hugo.toml": 'baseURL = "https://blog.example/"\n', "content/posts/t.md": post})
    r = render(root, "content/posts/t.md")
    b = bodies(r)
    assert '<a href="#first-part">below</a>' in b["wordpress"]
    assert f'<a href="{r["post"].page}#first-part">below</a>' in b["medium"]
    assert r["post"].page != r["post"].url == "https://elsewhere.example/t"
