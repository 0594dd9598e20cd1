"""Links between posts reach the linked post's published URL: the loader's own URL for that file, never a guess."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from syndicate.config import SiteConfig
from syndicate.content.loader import load_post, reset_cache
from syndicate.content.siteindex import index_for, logical

SITE = "https://blog.example.org"


@pytest.fixture(autouse=True)
def _fresh_cache():
    reset_cache()
    yield
    reset_cache()


def build(root: Path, files: dict[str, str], content: list[str] | None = None, **site: object) -> SiteConfig:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return SiteConfig(url=SITE, root=root.resolve(), content=content or ["content/**/*.md"], **site)  # type: ignore[arg-type]


def fm(title: str, body: str = "Text.", **keys: str) -> str:
    keys = {"date": "2023-05-06", **keys}
    extra = "".join(f"{k}: {v}\n" for k, v in keys.items() if v)
    return f"---\ntitle: {title}\n{extra}---\n\n{body}\n"


def rendered(site: SiteConfig, rel: str) -> tuple[str, list[str]]:
    post = load_post(site.root / rel, site)
    return post.document.markdown(), post.document.warnings


def url_of(site: SiteConfig, rel: str) -> str:
    return load_post(site.root / rel, site).url


# --- Zola `@/` -------------------------------------------------------------------------------------

def test_zola_internal_links_reach_the_linked_posts_path(tmp_path):
    """rust-lang's blog shape: `path = "2015/05/15/Rust-1.0"` posts linked with `@/`."""
    site = build(tmp_path, {
        "config.toml": 'base_url = "https://blog.rust-lang.org"\n',
        "content/Rust-1.0@0.md": '+++\ntitle = "Announcing Rust 1.0"\npath = "2015/05/15/Rust-1.0"\n+++\nHi.\n',
        "content/inside-rust/bundle/index.md": '+++\ntitle = "Bundle"\n+++\nHi.\n',
        "content/later.md": ('+++\ntitle = "Later"\n+++\nSee [1.0](@/Rust-1.0@0.md), [a part](@/Rust-1.0@0.md#stability),'
                             ' [the bundle](@/inside-rust/bundle/index.md) and [gone](@/nope.md).\n'),
    })
    md, warnings = rendered(site, "content/later.md")
    assert "[1.0](https://blog.example.org/2015/05/15/Rust-1.0/)" in md
    assert "[a part](https://blog.example.org/2015/05/15/Rust-1.0/#stability)" in md
    assert f"[the bundle]({url_of(site, 'content/inside-rust/bundle/index.md')})" in md
    assert "and gone." in md and "@/" not in md
    assert any("@/nope.md" in w and "link is removed" in w for w in warnings)



def test_zola_link_to_a_section_or_the_home_page(tmp_path):
    """`@/_index.md` is the home page and `@/inside-rust/_index.md` a section: their URLs, never `/_index/`."""
    site = build(tmp_path, {
        "config.toml": 'base_url = "https://blog.rust-lang.org"\n',
        "content/_index.md": '+++\ntitle = "Rust Blog"\n+++\n',
        "content/inside-rust/_index.md": '+++\ntitle = "Inside Rust"\n+++\n',
        "content/post.md": '+++\ntitle = "Post"\n+++\nSee [inside](@/inside-rust/_index.md) and [home](@/_index.md).\n',
    })
    md, warnings = rendered(site, "content/post.md")
    assert f"[inside]({SITE}/inside-rust/) and [home]({SITE}/)" in md and warnings == []

# --- Hugo ref / relref ----------------------------------------------------------------------------

HUGO = {
    "hugo.toml": ('baseURL = "https://example.org/"\ndefaultContentLanguage = "en"\n[permalinks]\n'
                  'posts = "/:year/:month/:slug/"\n[languages.en]\nweight = 1\n[languages.fr]\nweight = 2\n'),
    "content/posts/other-post.md": fm("Other post"),
    "content/posts/other-post.fr.md": fm("Autre article"),
    "content/posts/my-bundle/index.md": fm("A bundle", slug="bundled"),
    "content/posts/2023-review/index.md": fm("Review of 2023"),
    "content/about/_index.md": fm("About"),
    "content/notes/other-post.md": fm("Same name, another section"),
    "content/posts/unique-name.md": fm("Unique"),
}


def test_hugo_ref_forms(tmp_path):
    body = (
        '1 [abs]({{< ref "/posts/other-post.md" >}}) 2 [noext]({{< relref "/posts/other-post" >}})'
        ' 3 [rel]({{< ref "other-post" >}}) 4 [anchor]({{< ref "other-post.md#setup" >}})'
        ' 5 [bundle]({{< ref "my-bundle" >}}) 6 [bundle-index]({{< ref "/posts/my-bundle/index.md" >}})'
        ' 7 [section]({{< ref "/about" >}}) 8 [name]({{< ref "unique-name" >}}) 9 [self]({{< ref "#top" >}})'
        ' 10 [named]({{< ref path="2023-review" >}}) 11 [up]({{< ref "../notes/other-post" >}})'
    )
    site = build(tmp_path, {**HUGO, "content/posts/linking.md": fm("Linking", body)})
    md, warnings = rendered(site, "content/posts/linking.md")
    other = url_of(site, "content/posts/other-post.md")
    assert other == "https://blog.example.org/2023/05/other-post/"
    for label, want in [("abs", other), ("noext", other), ("rel", other), ("anchor", other + "#setup"),
                        ("bundle", url_of(site, "content/posts/my-bundle/index.md")),
                        ("bundle-index", url_of(site, "content/posts/my-bundle/index.md")),
                        ("section", "https://blog.example.org/about/"),
                        ("name", url_of(site, "content/posts/unique-name.md")),
                        ("self", url_of(site, "content/posts/linking.md") + "#top"),
                        ("named", url_of(site, "content/posts/2023-review/index.md")),
                        ("up", url_of(site, "content/notes/other-post.md"))]:
        assert f"[{label}]({want})" in md, label
    assert warnings == []


def test_hugo_ref_from_a_translation_goes_to_the_translation(tmp_path):
    site = build(tmp_path, {**HUGO, "content/posts/lien.fr.md": fm("Lien", '[là]({{< ref "other-post" >}})')})
    md, _ = rendered(site, "content/posts/lien.fr.md")
    assert f"[là]({url_of(site, 'content/posts/other-post.fr.md')})" in md
    assert "/fr/" in url_of(site, "content/posts/other-post.fr.md")


def test_hugo_ref_ambiguous_or_missing_drops_the_link(tmp_path):
    body = '[x]({{< ref "/notes/nothing" >}}) and [y]({{< relref "other-post" >}})'
    site = build(tmp_path, {**HUGO, "content/elsewhere/linking.md": fm("Linking", body)})
    md, warnings = rendered(site, "content/elsewhere/linking.md")
    assert md.strip() == "x and y"
    assert any("nothing" in w for w in warnings) and any("names 2 posts" in w for w in warnings)


# --- Jekyll post_url and link ---------------------------------------------------------------------

def test_jekyll_post_url_with_subfolder_and_link(tmp_path):
    site = build(tmp_path, {
        "_config.yml": "permalink: /:categories/:year/:month/:day/:title/\n",
        "_posts/2010-07-21-name.md": fm("Name", categories="[essays]", date=""),
        "_posts/travel/2011-01-02-trip.markdown": fm("Trip", date=""),
        "_posts/2012-03-04-mine.md": fm(
            "Mine", "[a]({% post_url 2010-07-21-name %}) [b]({% post_url /travel/2011-01-02-trip %})"
                    " [c]({{ site.baseurl }}{% link _posts/2010-07-21-name.md %}) [d]({% post_url 2099-01-01-none %})"),
    }, content=["_posts/**/*.md", "_posts/**/*.markdown"])
    md, warnings = rendered(site, "_posts/2012-03-04-mine.md")
    name = url_of(site, "_posts/2010-07-21-name.md")
    assert name == "https://blog.example.org/essays/2010/07/21/name/"
    assert f"[a]({name})" in md and f"[c]({name})" in md
    assert f"[b]({url_of(site, '_posts/travel/2011-01-02-trip.markdown')})" in md
    assert md.rstrip().endswith(" d")
    assert [w.split(":")[0] for w in warnings] == ["{% post_url 2099-01-01-none %}"]


# --- plain links to source files ------------------------------------------------------------------

def test_relative_links_to_source_files(tmp_path):
    body = ("[same folder](other-post.md) [bundle](2023-review/index.md#highlights) "
            '<a href="other-post.md">html</a>\n\n[ref link][r] and [readme](../../../README.md) '
            "[draft](draft.md)\n\n[r]: ./other-post.md\n")
    site = build(tmp_path, {
        "hugo.toml": 'baseURL = "https://example.org/"\n',
        "README.md": "# Not a post\n",
        "content/posts/other-post.md": fm("Other"),
        "content/posts/2023-review/index.md": fm("Review"),
        "content/posts/draft.md": fm("Draft", draft="true"),
        "content/posts/linking.md": fm("Linking", body),
        "content/posts/from-a-bundle/index.md": fm("Bundle", "[up](../2023-review/index.md#x) [sib](../other-post.md)"),
    })
    md, warnings = rendered(site, "content/posts/linking.md")
    other = url_of(site, "content/posts/other-post.md")
    from_bundle, _ = rendered(site, "content/posts/from-a-bundle/index.md")
    assert f"[up]({url_of(site, 'content/posts/2023-review/index.md')}#x) [sib]({other})" in from_bundle
    assert f"[same folder]({other})" in md and f'<a href="{other}">html</a>' in md
    assert f"[bundle]({url_of(site, 'content/posts/2023-review/index.md')}#highlights)" in md
    assert f"[r]: {other}" in md and "[ref link][r]" in md
    assert "[ref link][r] and readme draft" in md
    assert "draft" in md and "(draft" not in md and ".md" not in md
    assert any("README.md" in w and "no post" in w for w in warnings)
    assert any("draft.md is a draft" in w for w in warnings)


def test_a_dead_reference_definition_unlinks_its_references(tmp_path):
    site = build(tmp_path, {"content/posts/a.md": fm("A", "See [the old one][old] and [old].\n\n[old]: missing.md\n")})
    md, warnings = rendered(site, "content/posts/a.md")
    assert "See the old one and old." in md and "missing" not in md.replace("[old]: <>", "")
    assert len(warnings) == 1


# --- the index: the loader's URL, cheap, fresh ----------------------------------------------------

def test_a_changed_target_is_read_again_and_an_unchanged_one_is_not(tmp_path):
    site = build(tmp_path, {
        "content/posts/target.md": fm("Target", slug="first-slug"),
        "content/posts/a.md": fm("A", "[t](target.md)"),
        "content/posts/b.md": fm("B", "[t](target.md)"),
    })
    md, _ = rendered(site, "content/posts/a.md")
    assert "[t](https://blog.example.org/posts/first-slug/)" in md
    index = index_for(site)
    entry = index.entries["content/posts/target.md"]
    rendered(site, "content/posts/b.md")
    assert index.entries["content/posts/target.md"] is entry  # one stat, no read
    target = site.root / "content/posts/target.md"
    target.write_text(fm("Target", slug="second-slug-longer"), encoding="utf-8")
    os.utime(target, ns=(entry.stamp[1] + 10**9, entry.stamp[1] + 10**9))
    md, _ = rendered(site, "content/posts/a.md")
    assert "[t](https://blog.example.org/posts/second-slug-longer/)" in md


def test_a_post_without_links_never_reads_the_site(tmp_path):
    site = build(tmp_path, {"content/posts/a.md": fm("A", "[web](https://example.org) and [rel](img/x.png)"),
                            "content/posts/b.md": fm("B")})
    rendered(site, "content/posts/a.md")
    assert index_for(site).entries == {}


def test_hugo_logical_path():
    assert logical("posts/My Post.fr.md") == "posts/my-post"
    assert logical("posts/bundle/index.md") == "posts/bundle"
    assert logical("about/_index.md") == "about"


def test_a_post_outside_the_usual_content_folders_counts_when_the_globs_list_it(tmp_path):
    """An Astro 5 collection under src/data/ (a glob loader's base): a post because [site] content lists it."""
    site = build(tmp_path, {
        "src/data/blog/target.md": fm("Target"),
        "src/data/blog/linking.md": fm("Linking", "[t](target.md) and [n](../notes/n.md)"),
        "src/data/notes/n.md": fm("Not listed"),
    }, content=["src/data/blog/**/*.md"])
    md, warnings = rendered(site, "src/data/blog/linking.md")
    assert f"[t]({url_of(site, 'src/data/blog/target.md')})" in md and md.rstrip().endswith("and n")
    assert len(warnings) == 1 and "n.md is no post" in warnings[0]


def test_hugo_ref_across_language_folders(tmp_path):
    """opentelemetry.io's shape: content/en/ and content/ja/ hold each language's tree; a ref is per language."""
    site = build(tmp_path, {
        "hugo.toml": ('baseURL = "https://example.org/"\ndefaultContentLanguage = "en"\n'
                      "[languages.en]\ncontentDir = 'content/en'\n[languages.ja]\ncontentDir = 'content/ja'\n"),
        "content/en/blog/2024/otel/index.md": fm("OTel"),
        "content/ja/blog/2024/otel/index.md": fm("OTel ja", lang="ja"),
        "content/en/blog/2024/next.md": fm("Next", '[o]({{< ref "/blog/2024/otel" >}})'),
        "content/ja/blog/2024/next.md": fm("Next ja", '[o]({{< ref "/blog/2024/otel" >}})', lang="ja"),
    })
    en, _ = rendered(site, "content/en/blog/2024/next.md")
    ja, _ = rendered(site, "content/ja/blog/2024/next.md")
    assert f"[o]({url_of(site, 'content/en/blog/2024/otel/index.md')})" in en
    assert f"[o]({url_of(site, 'content/ja/blog/2024/otel/index.md')})" in ja
    assert "/ja/" in url_of(site, "content/ja/blog/2024/otel/index.md")
