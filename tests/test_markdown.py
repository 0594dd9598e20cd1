"""The Markdown pipeline: shortcodes, Liquid, Zola, MDX, raw HTML, URLs, images, text, excerpts."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate.config import SiteConfig
from syndicate.content.markdown import RENDERER, Document, Embed, prepare
from syndicate.content.post import Post

SITE_URL = "https://example.com"
POST_URL = "https://example.com/posts/hello/"
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def make(body: str, *, root: Path | None = None, path: Path | None = None, fmt: str = "markdown",
         front: dict | None = None, shortcodes: dict | None = None, permalink: str | None = None,
         url: str = POST_URL, site_url: str = SITE_URL, static: list[str] | None = None) -> Post:
    root = root or Path("/nonexistent-site")
    site = SiteConfig(url=site_url, root=root, permalink=permalink, shortcodes=shortcodes or {}, static=static or [])
    return Post(id="hello", path=path or root / "content" / "posts" / "hello" / "index.md", title="Hello",
                slug="hello", url=url, body=body, site=site, format=fmt, front_matter=front or {}, renderer=RENDERER)


def doc(body: str, **kw: object) -> Document:
    return prepare(make(body, **kw))  # type: ignore[arg-type]


# --- Hugo shortcodes --------------------------------------------------------------

def test_figure_becomes_image_with_alt_and_caption() -> None:
    d = doc('Intro.\n\n{{< figure src="chart.png" alt="A chart" caption="Sales in **2024**" >}}\n\nAfter.')
    md = d.markdown()
    assert "![A chart](https://example.com/posts/hello/chart.png)" in md
    assert "*Sales in 2024*" in md
    assert "{{<" not in md
    assert [(i.src, i.url, i.alt) for i in d.images] == [("chart.png", "https://example.com/posts/hello/chart.png", "A chart")]


def test_figure_alt_falls_back_to_caption_then_title_and_link_wraps() -> None:
    d = doc('{{< figure src="/img/a.jpg" caption="The caption" >}}\n\n'
            '{{< figure src="b.jpg" title="Only a title" link="https://example.org/big" >}}')
    assert [i.alt for i in d.images] == ["The caption", "Only a title"]
    assert d.images[0].url == "https://example.com/img/a.jpg"
    assert "[![Only a title](https://example.com/posts/hello/b.jpg)](https://example.org/big)" in d.markdown()
    assert "*Only a title*" in d.markdown()


def test_self_closing_unquoted_and_backtick_params() -> None:
    d = doc('{{< figure src=/images/x.png alt=Hello />}}\n\n'
            '{{< figure src=`my "quoted".png` alt=`He said "hi"` />}}')
    assert [(i.src, i.alt) for i in d.images] == [("/images/x.png", "Hello"), ('my "quoted".png', 'He said "hi"')]
    assert d.images[1].url == "https://example.com/posts/hello/my%20%22quoted%22.png" or d.images[1].url.endswith('my "quoted".png')
    assert d.warnings == []


def test_youtube_positional_and_named_become_embeds() -> None:
    d = doc("Watch:\n\n{{< youtube dQw4w9WgXcQ >}}\n\n{{<youtube id=\"coPrhP_7lVU\">}}\n\nDone.")
    assert d.embeds == [Embed("youtube", "dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
                        Embed("youtube", "coPrhP_7lVU", "https://www.youtube.com/watch?v=coPrhP_7lVU")]
    md = d.markdown()
    assert "\nhttps://www.youtube.com/watch?v=dQw4w9WgXcQ\n" in md  # on its own line
    styled = d.markdown(embed=lambda e: f"{{% embed {e.url} %}}" if e.kind == "youtube" else e.url)
    assert "{% embed https://www.youtube.com/watch?v=coPrhP_7lVU %}" in styled


def test_social_and_code_embeds() -> None:
    d = doc('{{< x user="SanDiegoZoo" id="1453110110599868418" >}}\n\n{{< tweet 877500564405444608 >}}\n\n'
            "{{< gist spf13 7896402 img.html >}}\n\n{{< instagram BWNjjyYFxVx >}}\n\n{{< vimeo 146022717 >}}")
    assert [(e.kind, e.id, e.url) for e in d.embeds] == [
        ("x", "1453110110599868418", "https://x.com/SanDiegoZoo/status/1453110110599868418"),
        ("x", "877500564405444608", "https://x.com/i/status/877500564405444608"),
        ("gist", "spf13/7896402", "https://gist.github.com/spf13/7896402#file-img-html"),
        ("instagram", "BWNjjyYFxVx", "https://www.instagram.com/p/BWNjjyYFxVx/"),
        ("vimeo", "146022717", "https://vimeo.com/146022717"),
    ]


def test_paired_highlight_becomes_fenced_code_kept_literally() -> None:
    d = doc('{{< highlight go "linenos=table" >}}\nfunc main() { fmt.Println("{{x}}") }\n{{< /highlight >}}')
    assert '```go\nfunc main() { fmt.Println("{{x}}") }\n```' in d.markdown()


def test_percent_form_param_and_paired_notice_with_title() -> None:
    d = doc('By {{% param author %}} at {{% param "event.city" %}}.\n\n'
            '{{% notice warning "Read this" %}}\nInner *Markdown* with {{< param author >}}.\n{{% /notice %}}',
            front={"author": "Ada", "event": {"city": "Oslo"}})
    md = d.markdown()
    assert "By Ada at Oslo." in md
    assert "**Read this**" in md and "Inner *Markdown* with Ada." in md
    assert "notice" not in md


def test_param_missing_warns_with_its_name() -> None:
    d = doc("[post]: <{{% param canonical_url %}}>")
    assert any("canonical_url" in w for w in d.warnings)


def test_comment_form_prints_the_shortcode_literally() -> None:
    d = doc('Use {{</* figure src="x.png" */>}} or {{%/* note */%}}.')
    assert 'Use {{< figure src="x.png" >}} or {{% note %}}.' in d.markdown()
    assert d.images == [] and d.warnings == []


def test_unknown_shortcodes() -> None:
    d = doc('Hi {{< subscribe >}} there.\n\n{{< tabs >}}\nInside **tab**\n{{< /tabs >}}\n\n'
            '{{< bannerimg src="/b.png" alt="Banner" >}}')
    assert "unknown shortcode 'subscribe' removed (map it in [site.shortcodes] to render it)" in d.warnings
    assert len(d.warnings) == 1
    md = d.markdown()
    assert "Inside **tab**" in md and "tabs" not in md and "subscribe" not in md
    assert [(i.url, i.alt) for i in d.images] == [("https://example.com/b.png", "Banner")]


def test_docsy_comment_shortcode_hides_its_content() -> None:
    d = doc("Visible.\n\n{{< comment >}}\nNote to self\n{{< /comment >}}\n\nAlso visible.")
    assert "Note to self" not in d.markdown() and "Also visible." in d.markdown()


def test_nested_shortcodes_expand_inside_out() -> None:
    d = doc('{{< details "More" >}}\n{{< figure src="n.png" alt="Nested" >}}\n{{< /details >}}')
    assert "**More**" in d.markdown()
    assert [i.alt for i in d.images] == ["Nested"]


def test_ref_and_relref_to_no_post_drop_the_link_and_keep_the_text() -> None:
    """Links to posts that exist are tested on real sites in tests/test_xref.py; with no such post there is
    no URL to give, and no guessed one either."""
    d = doc('See [other]({{< ref "posts/other-post.md" >}}) and [part]({{< relref "other-post#setup" >}}).',
            permalink="/posts/:slug/")
    assert d.markdown() == "See other and part."
    assert any("ref" in w and "other-post" in w and "link is removed" in w for w in d.warnings)


def test_site_shortcode_map() -> None:
    d = doc('{{< yt abcdefghijk >}}\n\n{{< pic src="p.png" alt="Pic" >}}\n\n{{< sponsor >}}',
            shortcodes={"yt": "youtube", "pic": "figure", "sponsor": "drop"})
    assert [e.id for e in d.embeds] == ["abcdefghijk"]
    assert [i.alt for i in d.images] == ["Pic"]
    assert d.warnings == []


# --- code is never touched ----------------------------------------------------------

CODE_BODY = """Text before.

```rust
std::rt::lang_start::{{closure}}
{{< figure src="no.png" >}}
{% include x.html %} {{ toc() }} <script>x()</script> ![img](rel.png)
```

    indented {{< youtube abc >}} {% raw %}
    <iframe src="https://www.youtube.com/embed/zzzzzzzzzzz"></iframe>

Inline `{{< figure src="y.png" >}}` and ``{{% param x %}}`` stay.

~~~
{{ figure(src="z.png") }}
~~~
"""


def test_code_blocks_and_inline_code_are_untouched() -> None:
    d = doc(CODE_BODY)
    md = d.markdown()
    for chunk in ("```rust\nstd::rt::lang_start::{{closure}}\n{{< figure src=\"no.png\" >}}\n"
                  "{% include x.html %} {{ toc() }} <script>x()</script> ![img](rel.png)\n```",
                  "    indented {{< youtube abc >}} {% raw %}\n    <iframe src=\"https://www.youtube.com/embed/zzzzzzzzzzz\"></iframe>",
                  '`{{< figure src="y.png" >}}`', "``{{% param x %}}``", '~~~\n{{ figure(src="z.png") }}\n~~~'):
        assert chunk in md
    assert d.images == [] and d.embeds == [] and d.warnings == []
    assert md == CODE_BODY


def test_code_inside_list_and_quote_is_untouched() -> None:
    body = "- step:\n  ```sh\n  echo {{< x >}}\n  ```\n\n> ```\n> {{% y %}}\n> ```\n"
    d = doc(body)
    assert d.markdown() == body and d.warnings == []


# --- Jekyll Liquid ------------------------------------------------------------------

def test_liquid_highlight_raw_and_urls() -> None:
    body = ("{% highlight ruby linenos %}\ndef hi = puts '{{ x }}'\n{% endhighlight %}\n\n"
            "{% raw %}Use {{ page.title }} and {% include a.html %} in templates.{% endraw %}\n\n"
            "Read [the older post]({% post_url 2019-05-01-first-steps %}) and [about]({{ site.baseurl }}{% link about.md %}).\n\n"
            "![logo]({{ site.url }}{{ site.baseurl }}/assets/logo.png) on {{ site.url }} titled {{ page.title }}.")
    d = doc(body, site_url="https://example.com/blog", url="https://example.com/blog/2020/01/02/hello/",
            permalink="/:year/:month/:day/:title/", front={"title": "Liquid!"})
    md = d.markdown()
    assert "```ruby\ndef hi = puts '{{ x }}'\n```" in md
    assert "Use {{ page.title }} and {% include a.html %} in templates." in md
    assert "Read the older post and about." in md  # no such posts here: links dropped, text kept
    assert "![logo](https://example.com/blog/assets/logo.png)" in md
    assert "on https://example.com/blog titled Liquid!." in md
    assert [w.split(":")[0] for w in d.warnings] == ["{% post_url 2019-05-01-first-steps %}", "{% link about.md %}"]


def test_liquid_post_url_to_no_post_is_never_guessed() -> None:
    d = doc("[x]({% post_url 2019-05-01-first-steps %})")
    assert d.markdown() == "x"
    assert any("post_url" in w and "no post" in w for w in d.warnings)


def test_liquid_include_youtube_figure_and_unknown_tags() -> None:
    d = doc('{% include_cached toc.html %}\n\n{% youtube dQw4w9WgXcQ %}\n\n'
            '{% figure caption:"A cat" %}\n![cat](cat.jpg)\n{% endfigure %}\n\n{% signup %}\n\n'
            '{% notice tip %}\nBe kind.\n{% endnotice %}')
    assert any("include_cached" in w and "toc.html" in w for w in d.warnings)
    assert "unknown Liquid tag 'signup' removed (map it in [site.shortcodes] to render it)" in d.warnings
    assert [e.id for e in d.embeds] == ["dQw4w9WgXcQ"]
    md = d.markdown()
    assert "![cat](https://example.com/posts/hello/cat.jpg)\n*A cat*" in md
    assert "Be kind." in md and "{%" not in md


# --- Zola -------------------------------------------------------------------------

def test_zola_shortcodes() -> None:
    d = doc('{{ figure(src="f.png", alt="Fig", caption="Cap") }}\n\n{{ youtube(id="dQw4w9WgXcQ", autoplay=true) }}\n\n'
            '{% note(title="Careful") %}\nBody **here**.\n{% end %}\n\n{{ stars(n=5) }}')
    assert [(i.url, i.alt) for i in d.images] == [("https://example.com/posts/hello/f.png", "Fig")]
    assert [e.id for e in d.embeds] == ["dQw4w9WgXcQ"]
    md = d.markdown()
    assert "**Careful**" in md and "Body **here**." in md and "{% end %}" not in md
    assert "unknown shortcode 'stars' removed (map it in [site.shortcodes] to render it)" in d.warnings


def test_zola_internal_link_to_no_post_keeps_its_text() -> None:
    d = doc("[intro](@/blog/intro.md#start)", permalink="/blog/:slug/")
    assert d.markdown() == "intro"


# --- MDX --------------------------------------------------------------------------

MDX = """import { BlogImage } from '../components/BlogImage'
import {
  Callout,
  Video,
} from "@/components";
export const meta = {
  title: 'x',
}

# Title

{/* a note for editors */}

<BlogImage src="./diagram.png" alt="The diagram" />

<Video src="https://www.youtube.com/watch?v=dQw4w9WgXcQ" />

<Callout type="info" title="Tip">
Some **inner** Markdown.
</Callout>

<Counter start={3} onClick={() => go(1)} />

Plain <b>html</b> stays.
"""


def test_mdx_esm_comments_and_components() -> None:
    d = doc(MDX, fmt="mdx", path=Path("/nonexistent-site/src/content/blog/hello.mdx"))
    md = d.markdown()
    assert "import" not in md and "export" not in md and "editors" not in md
    assert [(i.url, i.alt) for i in d.images] == [("https://example.com/posts/hello/diagram.png", "The diagram")]
    assert [e.id for e in d.embeds] == ["dQw4w9WgXcQ"]
    assert "**Tip**" in md and "Some **inner** Markdown." in md and "Callout" not in md
    assert "component <Counter> dropped" in d.warnings
    assert "Plain <b>html</b> stays." in md


def test_mdx_rules_do_not_apply_to_markdown() -> None:
    body = "import this\n\n<Thing />\n"
    # the ESM line stays text; <Thing /> is raw HTML to CommonMark, sanitised away like any unknown element
    assert doc(body).markdown() == "import this\n\n"
    assert doc(body, fmt="mdx").markdown() == ""


# --- raw HTML -----------------------------------------------------------------------

def test_script_style_dropped_iframes_become_embeds() -> None:
    body = ('<script async src="https://x.example/t.js"></script>\nText <style>.a{color:red}</style>here.\n\n'
            '<div class="video">\n<iframe width="560" src="https://www.youtube-nocookie.com/embed/abcDEF12345?rel=0"></iframe>\n</div>\n\n'
            '<iframe src="https://player.vimeo.com/video/76979871" allowfullscreen></iframe>\n\n'
            '<iframe src="https://maps.example.net/embed?x=1"></iframe>\n\n'
            '<img src="pic.png" alt="A pic" onerror="steal()"> <a href="javascript:alert(1)">bad</a>\n\n'
            "<details><summary>More</summary>Hidden</details>\n\n<object data=\"x.swf\"><param name=a></object><embed src=\"y.swf\">")
    d = doc(body)
    assert "swf" not in d.markdown()
    md = d.markdown()
    assert "<script" not in md and "t.js" not in md and "color:red" not in md and "<style" not in md
    assert [(e.kind, e.id) for e in d.embeds] == [("youtube", "abcDEF12345"), ("vimeo", "76979871")]
    assert '<a href="https://maps.example.net/embed?x=1">' in md
    assert any("maps.example.net" in w for w in d.warnings)
    assert "onerror" not in md and "javascript:" not in md
    assert '<img src="https://example.com/posts/hello/pic.png" alt="A pic">' in md
    assert [(i.url, i.alt) for i in d.images] == [("https://example.com/posts/hello/pic.png", "A pic")]
    assert "<details><summary>More</summary>Hidden</details>" in md


# --- links and images ----------------------------------------------------------------

def test_links_are_made_absolute() -> None:
    body = ("[rel](other/) [up](../list/) [root](/about/) [anchor](#top) [section](#usage) [mail](mailto:a@b.c) "
            "[abs](https://x.org/p) [proto](//cdn.x.org/a) [ref][r] [md](../second-post.md)\n\n"
            '<a href="/contact">c</a>\n\n[r]: /refs/target "Title"\n')
    md = doc(body).markdown()
    for expected in ("(https://example.com/posts/hello/other/)", "(https://example.com/posts/list/)",
                     "(https://example.com/about/)", "(#top)", f"({POST_URL}#usage)", "(mailto:a@b.c)", "(https://x.org/p)",
                     "(https://cdn.x.org/a)", '[r]: https://example.com/refs/target "Title"',
                     '<a href="https://example.com/contact">', "[ref][r] md\n"):
        assert expected in md
    assert ".md" not in md  # a source file that is no post: never a `.md` URL


def test_images_collected_in_order_with_local_paths(tmp_path: Path) -> None:
    bundle = tmp_path / "content" / "posts" / "hello"
    bundle.mkdir(parents=True)
    (bundle / "local.png").write_bytes(b"png")
    (tmp_path / "static" / "img").mkdir(parents=True)
    (tmp_path / "static" / "img" / "s.png").write_bytes(b"png")
    body = ('![First](local.png "T1")\n\n<img src="/img/s.png" alt="Second">\n\n'
            "{{< figure src=\"missing.png\" alt=\"Third\" >}}\n\n![Fourth][logo]\n\n"
            "![](https://cdn.example.net/x.png)\n\n[logo]: https://example.com/img/s.png\n")
    d = doc(body, root=tmp_path)
    got = [(i.alt, i.url, i.path, i.title) for i in d.images]
    assert got == [
        ("First", "https://example.com/posts/hello/local.png", (bundle / "local.png").resolve(), "T1"),
        ("Second", "https://example.com/img/s.png", (tmp_path / "static/img/s.png").resolve(), None),
        ("Third", "https://example.com/posts/hello/missing.png", None, None),
        ("Fourth", "https://example.com/img/s.png", (tmp_path / "static/img/s.png").resolve(), None),
        (None, "https://cdn.example.net/x.png", None, None),
    ]


def test_traversal_and_symlinks_outside_the_site_are_refused(tmp_path: Path) -> None:
    site = tmp_path / "site"
    bundle = site / "content" / "posts" / "hello"
    bundle.mkdir(parents=True)
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"secret")
    os.symlink(secret, bundle / "link.png")
    d = doc("![a](../../../../secret.png)\n\n![b](link.png)\n\n![c](/../../secret.png)", root=site)
    assert d.images == [] and "secret" not in d.markdown() and "link.png" not in d.markdown()  # refused: left out
    assert sum("outside the site root" in w for w in d.warnings) >= 2


# --- text and excerpts -----------------------------------------------------------------

REALISTIC = """# Shipping the thing

![hero](hero.png)
*Our office*

We **finally** shipped [the new API](https://x.org/api) &mdash; see `client.get()` for
the details_with_underscores and <em>more</em>.

## Steps

1. Install it
2. Run `make`:

   ```sh
   make all
   ```

- one
- two with [a ref][r]

| Name | Value |
|------|-------|
| a    | 1     |

> A quote with ~~old~~ new text.

<div class="note">HTML &amp; entities</div>

[r]: https://x.org/r
"""


def test_text_is_plain() -> None:
    text = doc(REALISTIC).text()
    assert text.startswith("Shipping the thing\n\nOur office\n\nWe finally shipped the new API — see client.get() for the details_with_underscores and more.")
    for piece in ("1. Install it", "2. Run make:", "make all", "• one\n• two with a ref", "Name | Value\na | 1",
                  "A quote with old new text.", "HTML & entities"):
        assert piece in text
    for markup in ("**", "](", "![", "<div", "```", "# ", "&amp;", "https://x.org/api", "|---"):
        assert markup not in text
    assert "\n\n\n" not in text


def test_first_paragraph_skips_headings_images_code_html_and_embeds() -> None:
    body = ("# Title\n\n{{< figure src=\"a.png\" caption=\"Cap\" >}}\n\n```\ncode\n```\n\n<div>html</div>\n\n"
            "{{< youtube dQw4w9WgXcQ >}}\n\n{{< toc >}}\n\nThe  *real*\nfirst [paragraph](x).\n\nSecond.")
    assert doc(body).first_paragraph == "The real first paragraph."


@pytest.mark.parametrize(("body", "expected"), [
    ("東京で**会議**が\nありました。\n\n次の段落。", "東京で会議がありました。"),
    ("שלום [עולם](https://x.org) 🌍\nשורה שנייה", "שלום עולם 🌍 שורה שנייה"),
    ("مرحبا بكم في *المدونة*", "مرحبا بكم في المدونة"),
    ("Emoji 👩‍👩‍👧 family &amp; flags 🇯🇵 ok", "Emoji 👩‍👩‍👧 family & flags 🇯🇵 ok"),
    ("Windows line\r\nendings\r\n", "Windows line endings"),
])
def test_text_and_excerpt_multilingual(body: str, expected: str) -> None:
    d = doc(body)
    assert d.first_paragraph == expected
    assert d.text().startswith(expected.split(" ")[0])


def test_html_rendering() -> None:
    d = doc("A ~~b~~ c.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n{{< youtube dQw4w9WgXcQ >}}\n\nEnd.")
    out = d.html()
    assert "<del>b</del>" in out and "<table>" in out and "<td>1</td>" in out
    assert '<p><a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ">' in out
    custom = d.html(embed=lambda e: f'<iframe src="https://www.youtube.com/embed/{e.id}"></iframe>\n')
    assert '<iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ"></iframe>' in custom
    assert custom.index("<iframe") < custom.index("End.")


# --- robustness ------------------------------------------------------------------------

@pytest.mark.timeout(20)
@pytest.mark.parametrize("body", [
    "{{<" * 3000, "{{< x " + "a=\"b\" " * 2000, "[" * 5000 + "](" * 2000, "`" * 5001, "<" * 5000 + "iframe",
    "{% " * 4000, "![" * 3000 + "x", "<Foo " + "a={" * 2000, "*_" * 5000, "\ue000" * 100 + "\ue0011\ue001",
    "- " * 3000 + "x", "> " * 3000 + "x", "    x\n" * 3000, "*a " * 20000, "~~a " * 20000, "__a " * 20000,
    ("{{< x " + "y" * 50 + "\n") * 3000, "<Foo " + "a={b} " * 5000,
])
def test_hostile_input_finishes_without_crashing(body: str) -> None:
    d = prepare(make(body, fmt="mdx"))
    d.text()
    assert isinstance(d.first_paragraph, str)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*"ab {}<>%/*`[]()!#-_\n\"'=", "{{<", ">}}", "{%", "%}", "\u6771", "    "]), max_size=80).map("".join))
def test_any_text_prepares_and_code_survives(noise: str) -> None:
    fenced = "```\n" + noise.replace("`", "'").replace("~", "-") + "\n```\n"
    d = prepare(make(noise + "\n\n" + fenced, fmt="mdx"))
    d.text()
    _ = d.first_paragraph
    assert d.markdown().endswith(fenced)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus absent")
def test_whole_corpus() -> None:
    import re

    import frontmatter

    fence = re.compile(r"^ {0,3}(```|~~~)[^\n]*\n.*?^ {0,3}\1[^\n]*$|`[^`\n]+`", re.S | re.M)
    site = SiteConfig(url="https://blog.example.org", root=CORPUS)
    count = 0
    for path in sorted(CORPUS.rglob("*.md")):
        if path.parent == CORPUS:
            continue
        raw = path.read_text(encoding="utf-8")
        body = raw.split("+++", 2)[2] if raw.startswith("+++") else frontmatter.loads(raw).content
        post = Post(id=path.stem, path=path, title=path.stem, slug=path.stem, url=f"{site.url}/x/{path.stem}/",
                    body=body, site=site, format="markdown", renderer=RENDERER)
        d = prepare(post)
        md = d.markdown()
        d.text()
        assert "{{<" not in fence.sub("", md), path
        assert "{{%" not in fence.sub("", md), path
        count += 1
    assert count >= 50


def test_heading_attributes_and_kramdown_ials_are_removed() -> None:
    d = doc("## Setup {#setup}\n\nText with {#not-a-heading}\n{: .note}\n\n# Title {.big}\n")
    assert d.markdown() == "## Setup\n\nText with {#not-a-heading}\n\n# Title\n"


def test_liquid_highlight_protects_hugo_looking_code() -> None:
    d = doc('{% highlight html %}\n{{< figure src="a.png" >}}\n{% endhighlight %}')
    assert d.markdown().strip() == '```html\n{{< figure src="a.png" >}}\n```'
    assert d.images == [] and d.warnings == []


def test_inline_jsx_component_keeps_the_paragraph() -> None:
    d = doc("Press <Kbd>Ctrl</Kbd> then <Kbd>C</Kbd>.\n", fmt="mdx")
    assert d.markdown() == "Press Ctrl then C.\n"


def test_post_document_is_cached_and_feeds_the_excerpt() -> None:
    post = make("# Hi\n\n![x](x.png)\n\nFirst *words* here.\n\nMore.")
    assert post.document is post.document
    assert post.excerpt == "First words here."
    other = make("First *words* here.")
    other.summary = "From **front** matter"
    assert other.excerpt == "From front matter"  # the summary wins, as plain text


def test_more_shapes_img_gist_filters_and_jsx_braces() -> None:
    d = doc('{{< img src="i.png" alt="Img" >}} tags: {{< param tags >}}\n\n{% gist octocat/6cad326836d38bd3a7ae %}\n\n'
            "![x]({{ '/assets/x.png' | relative_url }})", front={"tags": ["a", "b"]}, site_url="https://example.com/blog")
    assert [(i.alt, i.url) for i in d.images] == [("Img", "https://example.com/posts/hello/i.png"),
                                                  ("x", "https://example.com/blog/assets/x.png")]
    assert "tags: a, b" in d.markdown()
    assert [(e.kind, e.id) for e in d.embeds] == [("gist", "octocat/6cad326836d38bd3a7ae")]
    m = doc("<Figure src={'/img/f.png'} alt={\"Braced\"} width={600} />", fmt="mdx")
    assert [(i.url, i.alt) for i in m.images] == [("https://example.com/img/f.png", "Braced")]


def test_warnings_name_their_subject() -> None:
    d = doc('{{< newsletter >}}\n\n{% signup form %}\n\n{{ stars(n=3) }}\n\n<Widget />\n\n{% include footer.html %}', fmt="mdx")
    joined = " ".join(d.warnings)
    for name in ("newsletter", "signup", "stars", "Widget", "footer.html"):
        assert name in joined
    assert len(d.warnings) == 5


def test_private_use_marks_in_the_body_cannot_forge_placeholders() -> None:
    d = doc("a \ue0000\ue001 b \ue0020\ue003 c `x` \ue0040\ue005 d\n")
    assert d.embeds == [] and "`x`" in d.markdown()
    assert "a" in d.text() and d.first_paragraph.startswith("a")


def test_jsx_expression_src_and_liquid_capture() -> None:
    d = doc("<BlogImage src={hero} alt=\"Hero\" />\n\nText.", fmt="mdx")
    assert d.images == [] and d.warnings == ["component <BlogImage> has no literal src: removed"]
    liquid = doc("{% capture note %}Hidden{% endcapture %}Shown {% comment %}secret{% endcomment %}")
    assert liquid.markdown().strip() == "Shown" and liquid.warnings == []


def test_param_in_link_definition_as_in_docsy_posts() -> None:
    d = doc("See the [original post].\n\n[original post]: <{{% param canonical_url %}}>\n",
            front={"canonical_url": "https://www.cncf.io/blog/2021/03/26/python/"})
    assert "[original post]: <https://www.cncf.io/blog/2021/03/26/python/>" in d.markdown()
    assert d.text() == "See the original post." and d.warnings == []


def test_document_built_by_hand_renders_every_output() -> None:
    d = Document(segments=["## Hi\n\nSome *text*.\n\n", Embed("youtube", "abc", "https://youtu.be/abc"), "\n\nEnd.\n"])
    assert d.text() == "Hi\n\nSome text.\n\nhttps://youtu.be/abc\n\nEnd."
    assert d.first_paragraph == "Some text."
    assert '<a href="https://youtu.be/abc">' in d.html() and "<h2>Hi</h2>" in d.html()


# --- sanitising (nh3) and unsafe URL schemes ------------------------------------------

def test_nh3_drops_script_style_and_handlers_and_keeps_the_safe_html() -> None:
    body = ('<div onclick="steal()" class="box">\n\n**Markdown** inside.\n\n</div>\n\n'
            '<details open><summary>More</summary>\n\nHidden *text*.\n\n</details>\n\n'
            '<table><tr><td onmouseover="x()">cell</td></tr></table>\n\n'
            '<figure><img src="a.png" alt="A" onerror="y()"><figcaption>Cap</figcaption></figure>\n\n'
            '<noscript><img src="tracker.gif"></noscript><SCRIPT>evil()</SCRIPT><svg onload="z()"></svg>\n\n'
            'Prose with a > b and <3 and a [link](/x).\n')
    d = doc(body)
    md = d.markdown()
    for bad in ("onclick", "steal", "onmouseover", "onerror", "evil", "tracker", "onload", "<svg"):
        assert bad not in md, bad
    assert '<div class="box">\n\n**Markdown** inside.\n\n</div>' in md
    assert '<details open=""><summary>More</summary>\n\nHidden *text*.\n\n</details>' in md
    assert "<td>cell</td>" in md and "<figcaption>Cap</figcaption>" in md
    assert '<img src="https://example.com/posts/hello/a.png" alt="A">' in md
    assert "Prose with a > b and <3 and a [link](https://example.com/x)." in md  # Markdown left alone
    assert [i.alt for i in d.images] == ["A"]


def test_unsafe_schemes_are_removed_from_markdown_and_html_with_a_warning() -> None:
    d = doc('A [bad link](javascript:alert(1) "t") and [ok](/x). ![pixel](data:image/png;base64,AAAA) '
            '<vbscript:msgbox>\n\n[ref]: file:///etc/passwd\n\n'
            '<a href="jav&#x09;ascript:evil()">html link</a> <img src="data:text/html,x" alt="i">\n')
    md = d.markdown()
    assert "javascript" not in md
    assert "A bad link and [ok](https://example.com/x)." in md  # the text stays, the link goes
    assert "data:" not in md and "file:" not in md and "evil" not in md and "pixel" not in md
    assert "<a>html link</a>" in md and "[ref]: <>" in md
    assert "vbscript\\:msgbox" in md  # an autolink no more, just its text
    assert d.images == []
    assert set(d.warnings) == {
        "link with unsafe scheme javascript: removed", "image with unsafe scheme data: removed",
        "link with unsafe scheme vbscript: removed", "link with unsafe scheme file: removed",
    }
    assert d.text().startswith("A bad link and ok.")


def test_iframes_still_become_embeds_before_sanitising() -> None:
    d = doc('<iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ" onload="x()"></iframe>\n')
    assert [(e.kind, e.id) for e in d.embeds] == [("youtube", "dQw4w9WgXcQ")]
    assert "iframe" not in d.markdown()


# --- summary ---------------------------------------------------------------------------

@pytest.mark.parametrize("divider", ["<!--more-->", "<!-- more -->", "<!--More-->"])
def test_summary_divider_takes_all_the_text_above_it(divider: str) -> None:
    d = doc(f"# Title\n\nFirst *para*.\n\nSecond [para](/p).\n\n{divider}\n\nThe rest.\n")
    assert d.summary == d.first_paragraph == "Title First para. Second para."
    assert "more" not in d.markdown().lower() and "The rest." in d.markdown()


def test_summary_divider_in_code_is_code_and_custom_separators() -> None:
    d = doc("Intro `<!--more-->` here.\n\n    <!--more-->\n\nNext.\n")
    assert d.summary == "Intro <!--more--> here."
    jekyll = doc("One.\n\nTwo.\n\n<!--excerpt-->\n\nThree.\n", front={"excerpt_separator": "<!--excerpt-->"})
    assert jekyll.summary == "One. Two."
    assert doc("One.\n\nTwo.\n", front={"excerpt_separator": "\n\n"}).summary == "One."  # Jekyll's default
    assert doc("One.\n\nTwo.\n", front={"excerpt_separator": "<!--cut-->"}).summary == "One."  # absent: first paragraph


def test_html_bodied_post_summary_is_the_first_p_never_pre() -> None:
    body = ('<div class="post">\n<p align="center"><img src="x.png"></p>\n<pre><code>x = 1\n\n'
            'y = 2</code></pre>\n\n<p>The <a href="/a">real</a> intro &amp; more.</p>\n<p>Second.</p>\n</div>\n')
    assert doc(body).summary == "The real intro & more."


def test_markdown_link_inside_inline_html_is_its_text() -> None:
    assert doc('Read it in <span lang="zh">[Chinese](https://example.com/zh)</span>.\n').text() == "Read it in Chinese."
    assert doc('<span class="lang">\n[Chinese](https://example.com/zh)\n</span>\n').text() == "Chinese"


# --- unknown shortcodes keep the sentence whole ----------------------------------------

@pytest.mark.parametrize("body", [
    'install {{< man name="systemd-coredump" section="8" >}}, after which',
    "install {{< man systemd-coredump 8 >}}, after which",
    "install {% man systemd-coredump %}, after which",
    'install {{ man(name="systemd-coredump", section=8) }}, after which',
])
def test_unknown_lone_shortcode_in_a_sentence_keeps_its_main_argument(body: str) -> None:
    d = doc(body)
    assert d.text() == "install systemd-coredump, after which"
    assert len(d.warnings) == 1 and "'systemd-coredump'" in d.warnings[0] and "[site.shortcodes]" in d.warnings[0]


def test_unknown_shortcode_on_its_own_line_or_paired() -> None:
    assert doc("Text.\n\n{{< subscribe list=\"x\" >}}\n").text() == "Text."
    assert doc("A {{< kbd >}}Ctrl{{< /kbd >}} key.").text() == "A Ctrl key."
    assert doc("A {% kbd %}Ctrl{% endkbd %} key.").text() == "A Ctrl key."


def test_indented_code_right_under_a_heading_is_protected() -> None:
    d = doc("## Usage\n    {{< not-a-shortcode >}} {{ x }}\n")
    assert d.markdown() == "## Usage\n    {{< not-a-shortcode >}} {{ x }}\n" and d.warnings == []


def test_raw_pre_and_code_elements_are_sanitised_but_never_expanded() -> None:
    d = doc('<pre onclick="evil()" class="x">{{< figure src="a.png" >}} a < b\n<b onmouseover="y()">x</b></pre>\n\n'
            'Inline <code onclick="z()">{{ var }}</code>.\n')
    md = d.markdown()
    assert "onclick" not in md and "onmouseover" not in md and "evil" not in md
    assert '<pre class="x">{{< figure src="a.png" >}} a < b\n<b>x</b></pre>' in md
    assert "<code>{{ var }}</code>" in md and d.images == []


def test_an_unclosed_script_or_style_tag_does_not_swallow_the_rest_of_the_post() -> None:
    d = doc("Use the <script> tag, or <style> or <plaintext>, with care.\n\nThe rest <b>stays</b>.\n")
    assert d.text() == "Use the  tag, or  or , with care.\n\nThe rest stays."
