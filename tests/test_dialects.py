"""Each post rendered in its own generator's dialect, and each platform's format from the one parse (issue 14).

Every fixture is shaped like a real post of the generator it names: a Hugo post with
footnotes and a table, a kramdown post with `{: .notice}`, an MDX post with `<Figure>`
children and `style={{…}}`, an Eleventy Nunjucks loop, a Liquid figure with broken quoting.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from syndicate.content.loader import load_posts
from syndicate.content.markdown.dialect import dialect_of, reset_cache
from syndicate.content.markdown.tree import parse
from syndicate.content.permalinks import reset_cache as reset_sites
from syndicate.engine.fitting import fit_draft
from syndicate.engine.plan import Plan
from syndicate.engine.runner import Syndicator
from syndicate.registry import load_config

TARGETS = (
    '[targets.devto]\napi_key = "x"\n'
    '[targets.hashnode]\ntoken = "h"\npublication_id = "65a1b2c3d4e5f60718293a4b"\n'
    '[targets.medium]\ntoken = "m"\n'
    '[targets.ghost]\nbase_url = "https://ghost.example"\nadmin_api_key = "a1:b2"\n'
    '[targets.wordpress]\nbase_url = "https://wp.example"\nusername = "me"\napp_password = "w"\n'
    '[targets.mastodon]\nbase_url = "https://m.example"\naccess_token = "y"\n'
    '[targets.bluesky]\nbase_url = "https://bsky.example"\nidentifier = "me.bsky.example"\napp_password = "z"\n'
)

HUGO_POST = """---
title: "Sampling, revisited"
date: 2024-05-01
---

Tail sampling keeps the traces that matter[^tail]. Head sampling is cheaper[^1].

| Strategy | Decided at | Cost |
|----------|:----------:|-----:|
| Head     | first span | low  |
| Tail     | collector  | high |

The old way is ~~deprecated~~ gone; see https://opentelemetry.io/docs/ for more.

<div class="alert">Raw <b>HTML</b> here.</div>

[^tail]: The collector buffers every span of a trace first.

    It then decides with the whole trace in view.
[^1]: Each service decides alone.
"""


def site(tmp_path: Path, files: dict[str, str]) -> Path:
    reset_cache()
    reset_sites()
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (tmp_path / "syndicate.toml").write_text(
        '[site]\nurl = "https://blog.example"\ncontent = ["content/**/*.md", "content/**/*.mdx", "_posts/*.md"]\n\n'
        + TARGETS, encoding="utf-8")
    return tmp_path


def render(root: Path, name: str) -> dict[str, Any]:
    """What each target would receive for the post at `name` (request JSON), and the post's warnings."""
    config = load_config(root / "syndicate.toml", env={}, strict=False)
    posts, errors = load_posts(config)
    assert not errors, errors
    (post,) = [p for p in posts if p.path == (root / name).resolve() or p.path == root / name]
    syn = Syndicator(config)
    out: dict[str, Any] = {"post": post, "warnings": post.document.warnings}
    for target in config.targets.values():
        conn = syn.connector(target.name)
        draft = fit_draft(conn.render(post, None), conn.limits_for(None))
        (request,) = syn.requests(Plan(post, target.name, "create", "test", draft))
        out[target.name] = request["json"]
    return out


def bodies(r: dict[str, Any]) -> dict[str, str]:
    return {"devto": r["devto"]["article"]["body_markdown"], "hashnode": r["hashnode"]["variables"]["input"]["contentMarkdown"],
            "medium": r["medium"]["content"], "ghost": r["ghost"]["posts"][0]["html"], "wordpress": r["wordpress"]["content"]}


# --- item 1 and 2: footnotes, tables, strikethrough, autolinks in the generator's dialect ---------------

def test_hugo_footnotes_and_table_render_in_every_html_target(tmp_path: Path) -> None:
    root = site(tmp_path, {"hugo.toml": 'baseURL = "https://blog.example/"\n', "content/posts/sampling.md": HUGO_POST})
    r = render(root, "content/posts/sampling.md")
    b = bodies(r)
    for target in ("medium", "ghost", "wordpress"):
        html = b[target]
        assert '<sup id="fnref:1"><a href="#fn:1" class="footnote-ref" role="doc-noteref">1</a></sup>' in html, target
        assert '<div class="footnotes" role="doc-endnotes">' in html and "The collector buffers every span" in html
        assert "[^" not in html and "&#91;^" not in html and 'href="The"' not in html
        assert '<th align="center">Decided at</th>' in html and '<td align="right">high</td>' in html
        assert "<del>deprecated</del>" in html
        assert '<a href="https://opentelemetry.io/docs/">https://opentelemetry.io/docs/</a>' in html
        assert "Raw <b>HTML</b>" not in html  # goldmark omits raw HTML unless `unsafe`, and so does the copy
        assert html.index("Tail sampling") < html.index('class="footnotes"')  # notes at the end, numbered by use
        assert html.index("The collector buffers") < html.index("Each service decides alone")


def test_raw_html_is_kept_when_hugo_is_unsafe(tmp_path: Path) -> None:
    config = 'baseURL = "https://blog.example/"\n[markup.goldmark.renderer]\nunsafe = true\n'
    root = site(tmp_path, {"hugo.toml": config, "content/posts/sampling.md": HUGO_POST})
    assert '<div class="alert">Raw <b>HTML</b> here.</div>' in bodies(render(root, "content/posts/sampling.md"))["ghost"]


def test_devto_keeps_footnotes_byte_for_byte_and_hashnode_gets_numbered_notes(tmp_path: Path) -> None:
    root = site(tmp_path, {"hugo.toml": 'baseURL = "https://blog.example/"\n', "content/posts/sampling.md": HUGO_POST})
    b = bodies(render(root, "content/posts/sampling.md"))
    body = HUGO_POST.split("---\n", 2)[2].lstrip("\n")
    assert b["devto"] == body  # Forem renders footnotes and tables itself (Redcarpet `footnotes: true`)
    hashnode = b["hashnode"]
    assert "matter¹. Head sampling is cheaper²." in hashnode and "[^" not in hashnode
    assert hashnode.endswith("---\n\n1. The collector buffers every span of a trace first.\n   \n"
                             "   It then decides with the whole trace in view.\n2. Each service decides alone.\n")
    assert "| Tail     | collector  | high |" in hashnode  # tables are Hashnode's own


def test_footnote_definition_never_becomes_a_link(tmp_path: Path) -> None:
    post = "---\ntitle: Notes\n---\n\nA claim[^note].\n\n[^note]: The source, page 4.\n"
    root = site(tmp_path, {"_config.yml": "title: x\n", "_posts/2024-01-02-notes.md": post})
    r = render(root, "_posts/2024-01-02-notes.md")
    for html in (bodies(r)[t] for t in ("ghost", "wordpress", "medium")):
        assert 'href="The"' not in html and "The source, page 4." in html and 'class="footnote-ref"' in html
    assert r["post"].document.text() == "A claim.\n\n[1] The source, page 4."


def test_extensions_the_config_turns_off_stay_text(tmp_path: Path) -> None:
    config = ('baseURL = "https://blog.example/"\n[markup.goldmark.extensions]\nfootnote = false\ntable = false\n'
              'typographer = false\n')
    root = site(tmp_path, {"hugo.toml": config, "content/posts/sampling.md": HUGO_POST})
    html = bodies(render(root, "content/posts/sampling.md"))["ghost"]
    assert "<table>" not in html and "<sup" not in html and "| Head     | first span | low  |" in html


@pytest.mark.parametrize(("files", "post", "expected"), [
    ({"hugo.yaml": "markup:\n  goldmark:\n    extensions:\n      typographer:\n        disable: true\n"}, "content/a.md",
     dict(name="goldmark", typographer=False, html=False, deflist=True)),
    ({"_config.yml": "markdown: kramdown\nkramdown:\n  input: kramdown\n"}, "_posts/2020-01-01-a.md",
     dict(name="kramdown", strikethrough=False, deflist=True, templates=True)),
    ({"_config.yml": "markdown: CommonMarkGhPages\n"}, "_posts/2020-01-01-a.md", dict(name="commonmark-gfm", footnote=False)),
    ({"config.toml": 'base_url = "https://x"\n[markdown]\nsmart_punctuation = true\n'}, "content/a.md",
     dict(name="pulldown-cmark", typographer=True, tasklist=True, linkify=False)),
    ({"astro.config.mjs": "export default defineConfig({ markdown: { smartypants: false } })\n"}, "src/content/blog/a.md",
     dict(name="remark-gfm", typographer=False, linkify=True)),
    ({"astro.config.mjs": "export default {}\n"}, "src/content/blog/a.mdx", dict(name="mdx", typographer=True, mdx=True)),
    ({".eleventy.js": "module.exports = {}\n"}, "posts/a.md", dict(name="markdown-it", footnote=False, templates=True)),
])
def test_the_generator_config_decides_the_dialect(tmp_path: Path, files: dict[str, str], post: str,
                                                  expected: dict[str, object]) -> None:
    from syndicate.config import SiteConfig
    from syndicate.content.post import Post

    root = site(tmp_path, files)
    p = Post(id="a", path=root / post, title="a", slug="a", url="https://x/a/", body="", site=SiteConfig(url="https://x", root=root),
             format="mdx" if post.endswith(".mdx") else "markdown")
    d = dialect_of(p)
    assert {k: getattr(d, k) for k in expected} == expected


def test_definition_and_task_lists_convert_where_the_platform_lacks_them(tmp_path: Path) -> None:
    post = ("---\ntitle: Glossary\n---\n\nSpan\n:   One unit of work.\n\nTrace\n:   A tree of spans.\n\n"
            "- [x] instrument the service\n- [ ] export to the collector\n")
    root = site(tmp_path, {"hugo.toml": 'baseURL = "https://blog.example/"\n', "content/posts/glossary.md": post})
    b = bodies(render(root, "content/posts/glossary.md"))
    assert "<dt>Span</dt>" in b["ghost"] and "<dd>One unit of work.</dd>" in b["ghost"]
    assert '<input checked="" disabled="" type="checkbox" /> instrument' in b["ghost"]
    for target in ("devto", "hashnode"):  # neither renders definition lists
        assert "**Span**  \nOne unit of work.\n\n**Trace**  \nA tree of spans." in b[target]
        assert "\n:" not in b[target]
    assert "- ☑ instrument the service\n- ☐ export to the collector" in b["devto"]  # Redcarpet has no task lists
    assert "- [x] instrument the service\n- [ ] export" in b["hashnode"]  # Hashnode's GFM has them



def test_a_hugo_html_content_file_keeps_its_html_where_goldmark_omits_raw_html(tmp_path: Path) -> None:
    """stapelberg's shape: a `.html` content file carried over from Jekyll; Hugo publishes its HTML as it is."""
    post = ("---\ntitle: Old post\ndate: 2009-01-01\npermalink: /2009/old.html\n---\n"
            "<p>An old post, with <a href=\"/about/\">a link</a> and *stars*.</p>\n\n<pre>\nmake install\n</pre>\n")
    root = site(tmp_path, {"config.toml": 'baseURL = "https://blog.example/"\n', "content/posts/2009-01-01-old.html": post})
    (root / "syndicate.toml").write_text((root / "syndicate.toml").read_text().replace('"_posts/*.md"', '"content/**/*.html"'))
    r = render(root, "content/posts/2009-01-01-old.html")
    for target in ("ghost", "wordpress", "medium"):
        html = bodies(r)[target]
        assert '<p>An old post, with <a href="https://blog.example/about/">a link</a> and *stars*.</p>' in html, target
        assert "make install" in html
    assert r["mastodon"]["status"].startswith("Old post\n\nAn old post, with a link and")

# --- item 4: MDX/JSX leftovers ----------------------------------------------------------------------

MDX_POST = """---
title: Write tests. Not too many. Mostly integration.
---
import Figure from '../components/figure'

I heard this from Guillermo Rauch.

<div style={{textAlign: 'center'}} className="trophy">
[![The Testing Trophy](https://res.example/trophy.png)](https://twitter.com/kentcdodds/status/960723172591992832)
</div>

<img src="/images/pyramid.png" alt="The testing pyramid" style={{ maxWidth: 300 }} />

<Figure caption="Cost and speed, by kind of test">
    ![A chart of cost against confidence](./chart.png)
</Figure>

<SubscribeForm />

Thanks{' '}for reading, {props.name}.
"""


def test_mdx_elements_become_their_markdown_children_or_html(tmp_path: Path) -> None:
    root = site(tmp_path, {"content/blog/write-tests.mdx": MDX_POST})
    r = render(root, "content/blog/write-tests.mdx")
    b = bodies(r)
    for target in ("devto", "hashnode"):
        md = b[target]
        assert "style=" not in md and "{{" not in md and "{'" not in md and "props" not in md and "className" not in md
        assert "[![The Testing Trophy](https://res.example/trophy.png)](https://twitter.com/" in md
        assert "![A chart of cost against confidence](https://blog.example/" in md and "*Cost and speed, by kind of test*" in md
        assert "Thanks for reading, ." in md
    for target in ("ghost", "wordpress", "medium"):
        html = b[target]
        assert re.search(r'<img src="[^"]*trophy\.png[^"]*" alt="The Testing Trophy"', html), target
        assert "&#91;" not in html.split('class="syndicate-canonical"')[0] and "](" not in html
        assert '<div class="trophy">' in html and "style" not in html
        assert "<pre>" not in html  # the indented JSX child is no code block
    assert "component <SubscribeForm> dropped" in r["warnings"]
    assert "JSX expression {props.name} removed" in r["warnings"]


# --- item 5: attribute lists, template loops, broken Liquid ------------------------------------------

def test_kramdown_attribute_lists_never_reach_a_copy(tmp_path: Path) -> None:
    post = ("---\ntitle: Notice boards\n---\n\n**Note:** the API changed in 2.0.\n{: .notice--warning}\n\n"
            'Read [the changelog](https://example.org/changes){:target="_blank"} and *this*{: .x}.\n\n'
            "## Upgrading {#upgrade}\n\n{::comment}\nnot for readers\n{:/comment}\n\nDone.\n")
    root = site(tmp_path, {"_config.yml": "markdown: kramdown\n", "_posts/2024-02-03-notice.md": post})
    r = render(root, "_posts/2024-02-03-notice.md")
    for target, body in bodies(r).items():
        assert "{:" not in body and "{#" not in body and "not for readers" not in body, target
        assert "the changelog" in body and "Upgrading" in body
    assert r["mastodon"]["status"].startswith("Notice boards\n\nNote: the API changed in 2.0.")


def test_goldmark_block_attributes_never_reach_a_copy(tmp_path: Path) -> None:
    post = "---\ntitle: T\n---\n\n| a | b |\n|---|---|\n| 1 | 2 |\n{.ot-table-first-col-50}\n\nAfter.\n"
    root = site(tmp_path, {"hugo.toml": 'baseURL = "https://blog.example/"\n', "content/posts/t.md": post})
    for body in bodies(render(root, "content/posts/t.md")).values():
        assert "{.ot" not in body


def test_an_eleventy_nunjucks_loop_is_removed_with_a_warning(tmp_path: Path) -> None:
    post = ("---\ntitle: Bird cage\ngallery:\n  - src: a.jpg\n---\n\nOur new cage.\n\n"
            '{% for img in gallery %}\n<img src="{{ img.src }}" alt="{{ img.alt }}">\n{% endfor %}\n\n'
            "{# a note to self #}\nMore text with {{ site.missing }} nothing.\n")
    root = site(tmp_path, {".eleventy.js": "module.exports = {}\n", "posts/cage.md": post})
    (root / "syndicate.toml").write_text((root / "syndicate.toml").read_text().replace('"_posts/*.md"', '"posts/*.md"'))
    r = render(root, "posts/cage.md")
    for target, body in bodies(r).items():
        text = body.replace("{% raw %}", "").replace("{% endraw %}", "")
        assert "{{" not in text and "{%" not in text and "{#" not in text and 'src=""' not in text, target
        assert "<img" not in text.split('class="syndicate-canonical"')[0]
        assert "Our new cage." in text and "More text with nothing." in text, target  # one space, not two
    assert any("Liquid loop '{% for img in gallery %}'" in w for w in r["warnings"])


@pytest.mark.parametrize(("text", "left"), [
    ("More text with {{ x }} nothing.", "More text with nothing."),
    ("Hello {{ x }}, world", "Hello, world"),
    ("(see {{ x }})", "(see)"),
    ("({{ x }} see)", "(see)"),
    ("a {{x}} {{y}} b", "a b"),
    ("a{{x}}b", "ab"),
    ("word{{ x }} next", "word next"),
    ("{{ x }} starts a line", "starts a line"),
    ("  {{ x }} continues an item", "  continues an item"),
    ("ends a line {{ x }}\nnext", "ends a line\nnext"),
    ("a hard break {{ x }}  \nnext", "a hard break  \nnext"),
    ("keeps  its own  spaces {{x}} here", "keeps  its own  spaces here"),
])
def test_a_removed_template_piece_leaves_one_space_where_it_stood(text: str, left: str) -> None:
    from syndicate.content.markdown.attrs import closing_gaps

    assert closing_gaps(re.compile(r"\{\{[^{}]*\}\}"), lambda m: "", text) == left
    assert closing_gaps(re.compile(r"\{\{[^{}]*\}\}"), lambda m: "v", "a {{x}} b") == "a v b"  # kept as given


def test_a_liquid_tag_with_broken_quoting_is_still_one_tag(tmp_path: Path) -> None:
    post = ("---\ntitle: Figures\n---\n\n{% figure caption:\"The ridge at dusk.\" class:\"third' %}\n"
            "![Ridge](/images/ridge.jpg)\n{% endfigure %}\n\nAfter.\n")
    root = site(tmp_path, {"_config.yml": "title: x\n", "_posts/2024-01-01-figures.md": post})
    r = render(root, "_posts/2024-01-01-figures.md")
    for target, body in bodies(r).items():
        assert "{%" not in body.replace("{% raw %}", "").replace("{% endraw %}", ""), target
        assert "ridge.jpg" in body and "The ridge at dusk." in body


# --- item 6: entities in plain-text fields -----------------------------------------------------------

def test_entities_in_a_title_are_decoded_in_plain_fields(tmp_path: Path) -> None:
    post = "---\ntitle: Wendy's bird cage &amp; flying birds\n---\n\nA cage &mdash; for birds &amp; more.\n"
    root = site(tmp_path, {"_config.yml": "title: x\n", "_posts/2024-01-01-cage.md": post})
    r = render(root, "_posts/2024-01-01-cage.md")
    status = r["mastodon"]["status"]
    assert status.startswith("Wendy's bird cage & flying birds\n\nA cage — for birds & more.")
    record = r["bluesky"]["record"]
    assert record["text"].startswith("Wendy's bird cage & flying birds")
    assert record["embed"]["external"]["title"] == "Wendy's bird cage & flying birds"
    assert r["devto"]["article"]["title"] == "Wendy's bird cage & flying birds"
    assert r["ghost"]["posts"][0]["title"] == "Wendy's bird cage & flying birds"
    assert r["hashnode"]["variables"]["input"]["title"] == "Wendy's bird cage & flying birds"
    assert "&amp;amp;" not in json.dumps(r["medium"])


OTHER_EIGHT = ('[targets.threads]\naccess_token = "t"\nuser_id = "17841400000000000"\n'
               '[targets.discord]\nwebhook_url = "https://discord.example/api/webhooks/1/x"\n'
               '[targets.micropub]\nendpoint = "https://micro.example/micropub"\ntoken = "p"\npost_type = "article"\n'
               '[targets.linkedin]\naccess_token = "l"\nauthor = "urn:li:person:AbC123xyz"\n'
               '[targets.slack]\nbot_token = "xoxb-s"\nchannel = "C0123456789"\n'
               '[targets.telegram]\nbot_token = "123456789:AAEtesttesttesttesttesttesttesttes"\nchat_id = "@blog"\n'
               '[targets.x]\napi_key = "k"\napi_secret = "s"\naccess_token = "a"\naccess_secret = "b"\n'
               '[targets.standard_site]\nidentifier = "me.bsky.example"\napp_password = "z"\npublication_name = "B"\n')


def test_entities_in_a_title_are_decoded_for_every_target(tmp_path: Path) -> None:
    """All fifteen: the title reaches each platform decoded, or escaped once where the platform's format is
    HTML-like (Slack's mrkdwn, Telegram's HTML mode, WordPress's title) — never escaped twice."""
    import html

    post = "---\ntitle: Wendy's bird cage &amp; flying birds\n---\n\nA cage &mdash; for birds &amp; more.\n"
    root = site(tmp_path, {"_config.yml": "title: x\n", "_posts/2024-01-01-cage.md": post})
    with (root / "syndicate.toml").open("a", encoding="utf-8") as f:
        f.write(OTHER_EIGHT)
    config = load_config(root / "syndicate.toml", env={}, strict=False)
    (loaded,), errors = load_posts(config)
    assert not errors and len(config.targets) == 15, (errors, list(config.targets))
    syn = Syndicator(config)
    title = "Wendy's bird cage & flying birds"
    for name in config.targets:
        conn = syn.connector(name)
        draft = fit_draft(conn.render(loaded, None), conn.limits_for(None))
        sent = json.dumps([r.get("json") or r.get("data") or r.get("content") for r in
                           syn.requests(Plan(loaded, name, "create", "test", draft))], ensure_ascii=False, default=str)
        assert "&amp;amp;" not in sent and "&amp;mdash;" not in sent, (name, sent)  # (a Markdown body keeps its &mdash;)
        assert json.dumps(title)[1:-1] in sent or html.escape(title, quote=False) in sent, (name, sent)


def test_entities_in_tags_are_decoded_before_they_become_hashtags(tmp_path: Path) -> None:
    post = "---\ntitle: Cages\ntags: [birds &amp; cages, caf&eacute;]\n---\n\nA cage.\n"
    root = site(tmp_path, {"_config.yml": "title: x\n", "_posts/2024-01-01-cage.md": post})
    r = render(root, "_posts/2024-01-01-cage.md")
    assert r["post"].tags == ["birds & cages", "café"]
    status = r["mastodon"]["status"]
    assert "Amp" not in status and "amp;" not in status and "eacute" not in status.lower(), status


# --- issue 13.23: <!--more--> -------------------------------------------------------------------------

def test_more_divider_leaves_no_run_of_blank_lines_in_devto(tmp_path: Path) -> None:
    post = "---\ntitle: T\n---\n\nThe summary.\n\n<!--more-->\n\nThe rest.\n"
    root = site(tmp_path, {"hugo.toml": 'baseURL = "https://blog.example/"\n', "content/posts/t.md": post})
    r = render(root, "content/posts/t.md")
    assert r["devto"]["article"]["body_markdown"] == "The summary.\n\nThe rest.\n"
    assert r["post"].document.summary == "The summary."


# --- the parser never takes a post down -----------------------------------------------------------------

@pytest.mark.parametrize("text", ["a [` b", "[`x", "see [a` and more", "x ^[`y", "[ ](http://~`<@^)~[/\"é`",
                                  "www.github.com/á and www.example.org"])
def test_inputs_that_panic_markdown_it_pyrs_still_parse(text: str) -> None:
    from syndicate.content.markdown.dialect import GOLDMARK
    from syndicate.content.markdown.plain import tree_text

    out = tree_text(parse(text, GOLDMARK), GOLDMARK, [])
    assert out.strip() and set(re.findall(r"[a-z]", out)) >= set(re.findall(r"[a-z]", text)) - {"h", "t", "p"}
