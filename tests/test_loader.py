"""Post loading: front matter formats, SSG conventions, messy inputs, hostile inputs."""
from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.config import Config, ConfigError, SiteConfig
from syndicate.content.loader import discover, load_post, load_posts, post_id, reset_cache
from syndicate.content.permalinks import slugify
from syndicate.content.post import PostError
from syndicate.registry import load_config
from tests.paths import SHARED

CORPUS = SHARED / "corpus"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
UTC = UTC
BERLIN_WINTER = timezone(timedelta(hours=1))
BERLIN_SUMMER = timezone(timedelta(hours=2))


@pytest.fixture(autouse=True)
def _fresh_cache():
    reset_cache()
    yield
    reset_cache()


def make_site(root: Path, files: dict[str, str | bytes], **site: object) -> Config:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    site.setdefault("content", ["content/**/*.md", "content/**/*.mdx", "_posts/**/*.md", "_drafts/**/*.md"])
    return Config(path=None, site=SiteConfig(url="https://blog.example", root=root.resolve(), **site))


def one(tmp_path: Path, text: str, rel: str = "content/posts/hello.md", extra: dict | None = None, **site: object):
    cfg = make_site(tmp_path, {rel: text, **(extra or {})}, **site)
    return load_post(tmp_path.resolve() / rel, cfg.site)


def fm(body: str = "Body text.\n", **keys: object) -> str:
    return "---\n" + yaml.safe_dump(keys, allow_unicode=True, sort_keys=False) + "---\n" + body


# --- front matter formats -------------------------------------------------------------------

def test_yaml_front_matter(tmp_path):
    post = one(tmp_path, "---\ntitle: Hello\ndate: 2020-01-02\ntags: [a, b]\n---\n\nFirst paragraph.\n")
    assert (post.title, post.tags) == ("Hello", ["a", "b"])
    assert post.date == datetime(2020, 1, 2, tzinfo=UTC)
    assert post.body == "\nFirst paragraph.\n"
    assert post.front_matter["tags"] == ["a", "b"]


def test_toml_front_matter_with_zola_taxonomies_and_extra(tmp_path):
    text = (
        '+++\ntitle = "Zola post"\ndate = 2021-03-14T10:00:00Z\ndescription = "Short."\n'
        '[taxonomies]\ntags = ["rust", "web"]\ncategories = ["tutorials"]\n'
        '[extra]\nimage = "https://cdn.example/z.png"\nhide_from_feed = true\n+++\nBody\n'
    )
    post = one(tmp_path, text)
    assert post.title == "Zola post"
    assert post.tags == ["rust", "web"] and post.categories == ["tutorials"]
    assert post.summary == "Short."
    assert post.cover is not None and post.cover.url == "https://cdn.example/z.png"
    assert post.hidden == "hidden from feed" and post.draft is False
    assert post.date == datetime(2021, 3, 14, 10, tzinfo=UTC)


def test_json_front_matter(tmp_path):
    text = '{\n  "title": "JSON post",\n  "date": "2019-02-03T04:05:06Z",\n  "tags": ["j"]\n}\nBody here\n'
    post = one(tmp_path, text)
    assert post.title == "JSON post" and post.tags == ["j"]
    assert post.date == datetime(2019, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert "Body here" in post.body


def test_crlf_and_bom(tmp_path):
    raw = "\ufeff---\r\ntitle: Windows\r\ntags: x, y\r\n---\r\nLine one\r\n".encode()
    post = one(tmp_path, raw)  # type: ignore[arg-type]
    assert post.title == "Windows" and post.tags == ["x", "y"] and "\r" not in post.body


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Just a note without front matter.\n", "no front matter"),
        ("", "no front matter"),
        ("---\ntitle: [unclosed\n---\nx", "invalid YAML"),
        ("---\ntitle: a\n  b: c\n---\nx", "invalid YAML"),
        ("+++\ntitle = \n+++\nx", "invalid TOML"),
        ('{\n"title": "x",\n}\nbody', "invalid JSON"),
        ("---\ntitle: never closed\nbody", "never closed"),
        ("---\n- a\n- b\n---\nx", "not a mapping"),
        ("---\ndate: 2020-01-01\n---\nx", "no title"),
        ("---\ntitle: '   '\n---\nx", "no title"),
        ("---\ntitle: ok\ndate: not a date\n---\nx", "date"),
        ("---\ntitle: ok\ndate: 2019-02-30\n---\nx", "day is out of range"),
    ],
)
def test_unusable_posts_raise_post_error_naming_the_file(tmp_path, text, problem):
    with pytest.raises(PostError) as err:
        one(tmp_path, text)
    assert str(err.value).startswith(str(tmp_path.resolve() / "content/posts/hello.md") + ":")
    assert problem in str(err.value)


def test_non_utf8_is_a_clear_error(tmp_path):
    with pytest.raises(PostError, match=r"hello\.md: not UTF-8 \(byte 0xe9"):
        one(tmp_path, "---\ntitle: caf\xe9\n---\n".encode("latin-1"))  # type: ignore[arg-type]


@pytest.mark.timeout(10)
def test_yaml_billion_laughs_is_refused_quickly(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    start = time.perf_counter()
    with pytest.raises(PostError, match="YAML front matter refused"):
        one(tmp_path, "---\n" + "\n".join(lines) + "\ntitle: boom\n---\nx")
    assert time.perf_counter() - start < 5  # generous: only guards against a hang


def test_recursive_yaml_alias_is_refused(tmp_path):
    with pytest.raises(PostError, match="recursive alias"):
        one(tmp_path, "---\ntitle: loop\nx: &x [1, *x]\n---\nbody")


def test_yaml_anchors_merge_keys_and_colon_keys_work(tmp_path):
    text = (
        "---\ntitle: Anchors\nimage: &img https://cdn.example/a.png\nsocial:\n  card: *img\n"
        "defaults: &d {lang: fr}\nmeta:\n  <<: *d\n  keywords: [x]\ncSpell:ignore: foo bar\n---\nb"
    )
    post = one(tmp_path, text)
    assert post.cover is not None and post.cover.url == "https://cdn.example/a.png"
    assert post.front_matter["social"]["card"] == "https://cdn.example/a.png"
    assert post.front_matter["cSpell:ignore"] == "foo bar"
    assert post.front_matter["meta"]["lang"] == "fr"


def test_oversized_file_is_refused(tmp_path, monkeypatch):
    from syndicate.content import frontmatter as fmparse

    monkeypatch.setattr(fmparse, "MAX_FILE_BYTES", 1000)
    with pytest.raises(PostError, match="too large"):
        one(tmp_path, fm(body="x" * 2000, title="Big"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(
    st.sampled_from(["title", "date", "tags", "categories", "slug", "image", "syndicate", "draft", "description",
                     "author", "lang", "url", "cover", "published", "extra", "id"]),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.dates(),
                 lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
                 max_leaves=6),
))
def test_any_front_matter_gives_a_post_or_a_post_error(tmp_path, data):
    try:
        text = fm(**{k: v for k, v in data.items()})
    except yaml.YAMLError:
        return
    try:
        post = one(tmp_path, text)
    except PostError as exc:
        assert "hello.md:" in str(exc)
    else:
        assert post.title.strip() and post.slug and post.url.startswith("https://")


# --- dates -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("'2012-10-02 21:19:08 +0200'", datetime(2012, 10, 2, 21, 19, 8, tzinfo=timezone(timedelta(hours=2)))),
        ("2012-10-02 21:19:08 -0530", datetime(2012, 10, 2, 21, 19, 8, tzinfo=timezone(-timedelta(hours=5, minutes=30)))),
        ("2020-06-01T08:00:00Z", datetime(2020, 6, 1, 8, tzinfo=UTC)),
        ("2020-06-01T08:00:00+09:00", datetime(2020, 6, 1, 8, tzinfo=timezone(timedelta(hours=9)))),
        ("2020-01-15", datetime(2020, 1, 15, tzinfo=BERLIN_WINTER)),  # YAML date object, site timezone
        ("2020-07-15 10:30:00", datetime(2020, 7, 15, 10, 30, tzinfo=BERLIN_SUMMER)),  # naive datetime
        ("'2020-07-15T10:30'", datetime(2020, 7, 15, 10, 30, tzinfo=BERLIN_SUMMER)),
        ("'Jul 08 2023'", datetime(2023, 7, 8, tzinfo=BERLIN_SUMMER)),
        ("'Tue, 02 Oct 2012 21:19:08 +0000'", datetime(2012, 10, 2, 21, 19, 8, tzinfo=UTC)),
    ],
)
def test_messy_dates(tmp_path, value, expected):
    post = one(tmp_path, f"---\ntitle: t\ndate: {value}\n---\nx", timezone="Europe/Berlin")
    assert post.date == expected
    assert post.date.utcoffset() == expected.utcoffset()


def test_astro_pub_and_updated_dates(tmp_path):
    post = one(tmp_path, fm(title="A", pubDate="2023-07-08T09:00:00Z", updatedDate="2023-07-10",
                            description="d", heroImage="https://cdn.example/h.jpg"))
    assert post.date == datetime(2023, 7, 8, 9, tzinfo=UTC)
    assert post.updated == datetime(2023, 7, 10, tzinfo=UTC)
    assert post.summary == "d" and post.cover.url == "https://cdn.example/h.jpg"


@pytest.mark.parametrize("key", ["lastmod", "last_modified_at", "modifiedDate", "updated"])
def test_updated_keys(tmp_path, key):
    post = one(tmp_path, f"---\ntitle: t\n{key}: 2021-05-06\n---\nx")
    assert post.updated == datetime(2021, 5, 6, tzinfo=UTC)


def test_unreadable_updated_is_only_a_warning(tmp_path):
    post = one(tmp_path, "---\ntitle: t\nlastmod: sometime\n---\nx")
    assert post.updated is None and any("lastmod" in w for w in post.warnings)


@pytest.mark.parametrize(
    ("rel", "slug", "day"),
    [
        ("_posts/2019-05-01-my-first-post.md", "my-first-post", datetime(2019, 5, 1, tzinfo=UTC)),
        ("content/posts/2019/05/01/slug.md", "slug", datetime(2019, 5, 1, tzinfo=UTC)),
        ("content/posts/trip/2017-03-08-index.md", "trip", datetime(2017, 3, 8, tzinfo=UTC)),
        ("content/posts/2018-11-30-winter-hike/index.md", "2018-11-30-winter-hike", datetime(2018, 11, 30, tzinfo=UTC)),
        ("content/posts/no-date-here.md", "no-date-here", None),
    ],
)
def test_date_and_slug_from_the_path(tmp_path, rel, slug, day):
    post = one(tmp_path, "---\ntitle: t\n---\nx", rel=rel)
    assert (post.slug, post.date) == (slug, day)


def test_front_matter_date_beats_the_file_name(tmp_path):
    post = one(tmp_path, "---\ntitle: t\ndate: 2020-02-02\n---\nx", rel="_posts/2019-05-01-x.md")
    assert post.date == datetime(2020, 2, 2, tzinfo=UTC)


def test_zola_date_from_path(tmp_path):
    post = one(tmp_path, '+++\npath = "2015/05/15/Rust-1.0"\ntitle = "Rust 1.0"\n+++\nx')
    assert post.date == datetime(2015, 5, 15, tzinfo=UTC)
    assert post.url == "https://blog.example/2015/05/15/Rust-1.0/"
    assert post.slug == "Rust-1.0"


def test_future_post_is_not_due(tmp_path):
    post = one(tmp_path, fm(title="Later", date="2099-01-01T00:00:00Z"))
    assert post.date == datetime(2099, 1, 1, tzinfo=UTC)
    assert not post.due(datetime.now(UTC)) and post.due(datetime(2099, 1, 2, tzinfo=UTC))


def test_unknown_timezone_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="Mars/Olympus"):
        one(tmp_path, fm(title="t"), timezone="Mars/Olympus")


# --- text fields -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("yaml_tags", "tags"),
    [
        ("[Python, Web]", ["Python", "Web"]),
        ("'python, web dev ,  testing'", ["python", "web dev", "testing"]),
        ("python web testing", ["python", "web", "testing"]),
        ("[a, a, b]", ["a", "b"]),
        ("[2024, rust]", ["2024", "rust"]),
    ],
)
def test_tags_shapes(tmp_path, yaml_tags, tags):
    assert one(tmp_path, f"---\ntitle: t\ntags: {yaml_tags}\n---\nx").tags == tags


@pytest.mark.parametrize(
    ("value", "categories"),
    [("Machine Learning", ["Machine Learning"]), ("[Review, Deep Learning]", ["Review", "Deep Learning"])],
)
def test_categories_list_or_single_string(tmp_path, value, categories):
    assert one(tmp_path, f"---\ntitle: t\ncategories: {value}\n---\nx").categories == categories


def test_keywords_are_tags_when_there_are_no_tags(tmp_path):
    assert one(tmp_path, fm(title="t", meta={"keywords": ["k1", "k2"]})).tags == ["k1", "k2"]


def test_titles_are_collapsed(tmp_path):
    folded = one(tmp_path, "---\ntitle: >\n  A folded\n  title\ndate: 2020-01-01\n---\nx")
    assert folded.title == "A folded title"
    toml = one(tmp_path, '+++\ntitle = """Multi\n   line   title\n"""\n+++\nx', rel="content/posts/b.md")
    assert toml.title == "Multi line title"


def test_slug_stays_a_string(tmp_path):
    assert one(tmp_path, "---\ntitle: t\nslug: '001'\n---\nx").slug == "001"


def test_summary_sources(tmp_path):
    assert one(tmp_path, fm(title="t", description="  Has *Markdown*.  ")).summary == "Has *Markdown*."
    assert one(tmp_path, fm(title="t", description=["One.", "Two."]), rel="content/b.md").summary == "One. Two."
    assert one(tmp_path, "---\ntitle: t\nexcerpt:\n---\nx", rel="content/c.md").summary == ""
    assert one(tmp_path, fm(title="t", excerpt="", spoiler="Spoils."), rel="content/d.md").summary == "Spoils."
    assert one(tmp_path, fm(title="t"), rel="content/e.md").summary == ""


def test_gatsby_seed_shape(tmp_path):
    seed = SHARED / "samples" / "seed-post.md"
    text = (seed.read_text() if seed.exists()
            else "---\ntitle: T\ndate: 2018-07-15\nhero: https://images.example/x.jpg\nexcerpt:\ntimeToRead: 3\n"
                 "categories:\n  - Review\ntags:\n  - Review\nauthors:\n  - Aadam\n---\nx")
    post = one(tmp_path, text)
    assert post.date == datetime(2018, 7, 15, tzinfo=UTC)
    assert post.cover is not None and post.cover.url.startswith("https://images.")
    assert post.authors == ["Aadam"] and post.summary == "" and "Review" in post.categories


def test_authors_shapes(tmp_path):
    docsy = one(tmp_path, fm(title="t", author="[Ana Li](https://github.com/ana) (ACME)"))
    assert docsy.authors == ["Ana Li (ACME)"]
    listed = one(tmp_path, fm(title="t", authors=[{"name": "Bo"}, "Cy", "Cy"]), rel="content/b.md")
    assert listed.authors == ["Bo", "Cy"]


# --- hidden, draft, control -------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "hidden", "draft"),
    [
        ("draft: true", "draft", True),
        ("published: false", "unpublished (published: false)", True),
        ("unlisted: true", "unlisted", False),
        ("archived: true", "archived", False),
        ("secret: true", "secret", False),
        ("extra:\n  hide_from_feed: true", "hidden from feed", False),
        ("draft: false\npublished: true", None, False),
    ],
)
def test_hidden_flags(tmp_path, text, hidden, draft):
    post = one(tmp_path, f"---\ntitle: t\n{text}\n---\nx")
    assert (post.hidden, post.draft) == (hidden, draft)


@pytest.mark.parametrize("rel", ["_drafts/idea.md", "content/drafts/idea.md"])
def test_drafts_folders_load_but_are_hidden(tmp_path, rel):
    cfg = make_site(tmp_path, {rel: fm(title="Idea"), "content/posts/ok.md": fm(title="Ok")})
    posts, errors = load_posts(cfg)
    assert not errors
    by_title = {p.title: p for p in posts}
    assert by_title["Idea"].draft and by_title["Idea"].hidden.startswith("draft")
    assert by_title["Ok"].hidden is None


def test_control_false(tmp_path):
    control = one(tmp_path, fm(title="t", syndicate=False)).control
    assert not control.allows("devto", "devto")


def test_control_only_list(tmp_path):
    control = one(tmp_path, fm(title="t", syndicate=["devto"])).control
    assert control.allows("devto", "devto") and not control.allows("mastodon", "mastodon")


def test_control_table_with_skip_and_override(tmp_path):
    text = fm(title="t", syndicate={"skip": ["mastodon"], "devto": {"title": "Other"}, "mastodon": {"text": "Hi"}})
    control = one(tmp_path, text).control
    assert not control.allows("mastodon", "mastodon") and control.allows("devto", "devto")
    assert control.override("mastodon", "mastodon") == {"text": "Hi"}
    assert control.override("devto", "devto") == {"title": "Other"}


def test_control_in_zola_extra(tmp_path):
    post = one(tmp_path, '+++\ntitle = "z"\n[extra]\nsyndicate = false\n+++\nx')
    assert post.control.enabled is False


def test_bad_control_is_refused(tmp_path):
    with pytest.raises(PostError, match="syndicate"):
        one(tmp_path, fm(title="t", syndicate=5))


# --- cover images ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("keys", "src", "alt"),
    [
        ({"image": "https://c.example/1.png", "image_alt": "one"}, "https://c.example/1.png", "one"),
        ({"image": {"path": "https://c.example/2.png", "caption": "two"}}, "https://c.example/2.png", "two"),
        ({"image": {"feature": "https://c.example/3.png", "alt": "three"}}, "https://c.example/3.png", "three"),
        ({"image": {"thumbnail": "https://c.example/t.png"}}, "https://c.example/t.png", None),
        ({"hero": "https://c.example/4.png", "hero_alt": "four"}, "https://c.example/4.png", "four"),
        ({"heroImage": "https://c.example/5.png", "heroImageAlt": "five"}, "https://c.example/5.png", "five"),
        ({"cover": {"image": "https://c.example/6.png", "alt": "six"}}, "https://c.example/6.png", "six"),
        ({"cover": "https://c.example/7.png", "imagealt": "seven"}, "https://c.example/7.png", "seven"),
        ({"featureImage": {"src": "https://c.example/8.png", "alt": "eight"}}, "https://c.example/8.png", "eight"),
        ({"featuredImage": "https://c.example/9.png"}, "https://c.example/9.png", None),
        ({"banner": "https://c.example/10.png", "bannerAlt": "ten"}, "https://c.example/10.png", "ten"),
        ({"extra": {"image": "https://c.example/11.png"}}, "https://c.example/11.png", None),
        ({"og_image": "https://c.example/12.png"}, "https://c.example/12.png", None),
        ({"images": ["https://c.example/13.png", "x.png"]}, "https://c.example/13.png", None),
    ],
)
def test_cover_keys(tmp_path, keys, src, alt):
    post = one(tmp_path, fm(title="t", **keys))
    assert post.cover is not None
    assert (post.cover.src, post.cover.url, post.cover.alt, post.cover.path) == (src, src, alt, None)


def test_bundle_cover_resolves_beside_the_post(tmp_path):
    post = one(tmp_path, fm(title="Trip", image="./ridge.jpg"), rel="content/posts/trip/index.md",
               extra={"content/posts/trip/ridge.jpg": b"\xff\xd8\xff\xe0fakejpeg"})
    assert post.slug == "trip" and post.url == "https://blog.example/posts/trip/"
    assert post.cover.path == (tmp_path / "content/posts/trip/ridge.jpg").resolve()
    assert post.cover.url == "https://blog.example/posts/trip/ridge.jpg"
    assert not post.warnings


def test_root_absolute_cover_resolves_in_static_folders(tmp_path):
    post = one(tmp_path, fm(title="t", heroImage="/images/h.png"), extra={"public/images/h.png": b"png"})
    assert post.cover.path == (tmp_path / "public/images/h.png").resolve()
    assert post.cover.url == "https://blog.example/images/h.png"
    configured = one(tmp_path, fm(title="t", image="/i/x.png"), rel="content/b.md",
                     extra={"site-assets/i/x.png": b"png"}, static=["site-assets"])
    assert configured.cover.path == (tmp_path / "site-assets/i/x.png").resolve()


def test_docsy_featured_image_in_a_bundle(tmp_path):
    post = one(tmp_path, fm(title="t"), rel="content/en/blog/2024/otel/index.md",
               extra={"content/en/blog/2024/otel/featured-card.png": b"png", "content/en/blog/2024/otel/a.png": b"p"})
    assert post.cover.path.name == "featured-card.png"


@pytest.mark.parametrize("src", ["../../../../etc/passwd", "/../../../etc/passwd", "../outside.png"])
def test_cover_outside_the_site_root_is_refused(tmp_path, src):
    root = tmp_path / "site"
    (tmp_path / "outside.png").write_bytes(b"secret")
    post = one(root, fm(title="t", image=src), rel="content/p.md")
    assert post.cover is None  # refused: no copy shows it
    assert any("outside the site root" in w for w in post.warnings)


def test_symlink_out_of_the_site_is_refused(tmp_path):
    root = tmp_path / "site"
    (tmp_path / "private").mkdir()
    (tmp_path / "private/key.png").write_bytes(b"secret")
    post_dir = root / "content/posts/p"
    post_dir.mkdir(parents=True)
    os.symlink(tmp_path / "private/key.png", post_dir / "cover.png")
    post = one(root, fm(title="t", image="cover.png"), rel="content/posts/p/index.md")
    assert post.cover is None and any("outside the site root" in w for w in post.warnings)
    os.symlink(tmp_path / "private/key.png", root / "content/posts/evil.md")
    with pytest.raises(PostError, match="outside the site root"):
        load_post(root / "content/posts/evil.md", make_site(root, {}).site)


def test_field_map_overrides_heuristics(tmp_path):
    text = fm(title="t", image="https://c.example/generic.png", bannerCloudinaryId="https://res.example/b.jpg",
              description="generic", meta={"description": "from meta"})
    post = one(tmp_path, text, fields={"cover": "bannerCloudinaryId", "summary": "meta.description"})
    assert post.cover.url == "https://res.example/b.jpg" and post.summary == "from meta"


def test_unknown_field_role_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="coverr"):
        one(tmp_path, fm(title="t"), fields={"coverr": "x"})


# --- canonical URLs --------------------------------------------------------------------------

def test_canonical_url_wins(tmp_path):
    post = one(tmp_path, fm(title="t", canonical_url="https://elsewhere.example/p", url="/mine/"))
    assert post.url == "https://elsewhere.example/p"
    assert one(tmp_path, fm(title="t", canonicalUrl="/moved/"), rel="content/b.md").url == "https://blog.example/moved/"


def test_url_and_permalink_keys(tmp_path):
    assert one(tmp_path, fm(title="t", url="/custom/path/")).url == "https://blog.example/custom/path/"
    jekyll = one(tmp_path, fm(title="t", permalink="/:year/:title/"), rel="_posts/2020-01-02-hello.md")
    assert jekyll.url == "https://blog.example/2020/hello/"


def test_site_permalink_pattern_tokens(tmp_path):
    text = fm(title="Ünïcode Title!", date="2021-09-08", slug="my-slug", categories=["Dev Ops", "Misc"])
    pattern = "/:year/:month/:day/:slug/:title/:section/:categories/"
    post = one(tmp_path, text, rel="content/articles/x.md", permalink=pattern)
    assert post.url == "https://blog.example/2021/09/08/my-slug/%C3%BCn%C3%AFcode-title/articles/dev-ops/misc/"


@pytest.mark.parametrize(
    ("name", "config"),
    [
        ("hugo.toml", 'baseURL = "https://x/"\n[permalinks]\nposts = "/:year/:month/:slug/"\n'),
        ("config.yaml", "baseURL: https://x/\npermalinks:\n  posts: /:year/:month/:slug/\n"),
        ("hugo.json", '{"baseURL": "https://x/", "permalinks": {"page": {"posts": "/:year/:month/:slug/"}}}'),
    ],
)
def test_hugo_permalinks_config(tmp_path, name, config):
    post = one(tmp_path, fm(title="Hello World", date="2022-03-04"), rel="content/posts/file-name.md",
               extra={name: config})
    assert post.url == "https://blog.example/2022/03/hello-world/"  # Hugo's :slug falls back to the title
    other = one(tmp_path, fm(title="About"), rel="content/pages/about.md")
    assert other.url == "https://blog.example/pages/about/"  # no pattern for this section: its path


def test_hugo_filename_and_contentbasename_tokens(tmp_path):
    extra = {"hugo.toml": '[permalinks]\nposts = "/p/:filename/"\nnotes = "/n/:contentbasename/"\n'}
    post = one(tmp_path, fm(title="T"), rel="content/posts/My File.md", extra=extra)
    assert post.url == "https://blog.example/p/My%20File/"
    bundle = one(tmp_path, fm(title="T"), rel="content/notes/bundle-dir/index.md")
    assert bundle.url == "https://blog.example/n/bundle-dir/"


def test_hugo_without_permalinks_uses_the_section_path(tmp_path):
    extra = {"config.toml": 'baseURL = "https://x/"\ntitle = "x"\n'}
    post = one(tmp_path, fm(title="Anything"), rel="content/posts/x.md", extra=extra)
    assert post.url == "https://blog.example/posts/x/"
    slugged = one(tmp_path, fm(title="A", slug="custom"), rel="content/posts/y.md")
    assert slugged.url == "https://blog.example/posts/custom/"


@pytest.mark.parametrize(
    ("permalink", "url"),
    [
        (None, "https://blog.example/dev/2019/05/01/my-post.html"),
        ("date", "https://blog.example/dev/2019/05/01/my-post.html"),
        ("pretty", "https://blog.example/dev/2019/05/01/my-post/"),
        ("ordinal", "https://blog.example/dev/2019/121/my-post.html"),
        ("none", "https://blog.example/dev/my-post.html"),
        ("/blog/:year/:title/", "https://blog.example/blog/2019/my-post/"),
    ],
)
def test_jekyll_config_permalinks(tmp_path, permalink, url):
    config = "title: x\n" + (f"permalink: {permalink}\n" if permalink else "")
    post = one(tmp_path, fm(title="Whatever", categories="dev"), rel="_posts/2019-05-01-my-post.md",
               extra={"_config.yml": config})
    assert post.url == url


def test_default_permalink_is_slug_for_other_generators(tmp_path):
    post = one(tmp_path, fm(title="T"), rel="content/blog/hello/index.md", extra={"gatsby-config.js": "module.exports = {}"})
    assert post.url == "https://blog.example/hello/"


def test_generator_config_is_read_once_per_scan(tmp_path):
    cfg = make_site(tmp_path, {"hugo.toml": '[permalinks]\nposts = "/a/:slug/"\n', "content/posts/x.md": fm(title="X")})
    assert load_post(tmp_path / "content/posts/x.md", cfg.site).url == "https://blog.example/a/x/"
    (tmp_path / "hugo.toml").write_text('[permalinks]\nposts = "/b/:slug/"\n')
    assert load_post(tmp_path / "content/posts/x.md", cfg.site).url == "https://blog.example/a/x/"  # cached
    posts, _ = load_posts(cfg)  # a new scan reads it again
    assert posts[0].url == "https://blog.example/b/x/"


def test_broken_generator_config_is_a_warning(tmp_path):
    post = one(tmp_path, fm(title="X"), rel="content/posts/x.md", extra={"hugo.toml": "permalinks = ["})
    assert post.url == "https://blog.example/posts/x/"  # no generator known, content/ tree: its path
    assert any("hugo.toml" in w for w in post.warnings)


# --- language ----------------------------------------------------------------------------------

def test_language_sources(tmp_path):
    files = {
        "content/en/blog/a.md": fm(title="A"),
        "content/ja/blog/a.md": fm(title="エー"),
        "content/posts/b.ja.md": fm(title="ビー"),
        "content/posts/c.md": fm(title="C", lang="pt_BR"),
        "content/posts/d.md": fm(title="D"),
    }
    posts, errors = load_posts(make_site(tmp_path, files, language="en"))
    assert not errors
    by_title = {p.title: p for p in posts}
    assert by_title["エー"].lang == "ja" and by_title["エー"].url == "https://blog.example/ja/blog/a/"
    assert by_title["A"].lang == "en" and by_title["A"].url == "https://blog.example/blog/a/"
    assert by_title["ビー"].lang == "ja" and by_title["ビー"].slug == "b"
    assert by_title["C"].lang == "pt-BR" and by_title["D"].lang == "en"
    assert len({p.id for p in posts}) == len(posts)


def test_slugify_keeps_cjk_and_lowercases():
    assert slugify("Hello, World!") == "hello-world"
    assert slugify("日本語の記事 タイトル") == "日本語の記事-タイトル"
    assert slugify("Don't panic") == "dont-panic"
    assert slugify("Rust 1.74.1") == "rust-1.74.1"


# --- ids -------------------------------------------------------------------------------------

def test_id_from_url_is_stable_and_shaped(tmp_path):
    post = one(tmp_path, fm(title="t", slug="kept"), rel="content/posts/old-name.md")
    assert post.id.startswith("p_") and len(post.id) == 18 and int(post.id[2:], 16) >= 0
    (tmp_path / "content/posts/old-name.md").rename(tmp_path / "content/posts/new-name.md")
    renamed = load_post(tmp_path.resolve() / "content/posts/new-name.md", post.site)
    assert renamed.id == post.id and renamed.url == post.url


def test_rename_without_slug_is_a_new_post(tmp_path):
    a = one(tmp_path, fm(title="t"), rel="content/posts/one.md")
    b = one(tmp_path, fm(title="t"), rel="content/posts/two.md")
    assert a.id != b.id


def test_explicit_id_survives_anything(tmp_path):
    a = one(tmp_path, fm(title="t", syndicate_id="post-42"), rel="content/posts/one.md")
    b = one(tmp_path, fm(title="t", syndicate_id="post-42", slug="x"), rel="content/other/two.md")
    assert a.id == b.id == "post-42"
    weird = one(tmp_path, fm(title="t", uuid="has spaces/and slashes"), rel="content/c.md")
    assert weird.id.startswith("p_") and " " not in weird.id


def test_id_ignores_host_and_trailing_slash():
    assert post_id("https://a.example/x/y/") == post_id("https://b.example/x/y")
    assert post_id("https://a.example/x/y/") != post_id("https://a.example/x/z/")


# --- discovery and batch loading --------------------------------------------------------------

def test_discover_globs_sorted_deduplicated(tmp_path):
    files = {
        "content/posts/b.md": fm(title="b"), "content/posts/a.md": fm(title="a"),
        "content/posts/deep/er/c.mdx": fm(title="c"), "content/posts/_index.md": fm(title="list"),
        "content/posts/_index.ja.md": fm(title="list ja"), "content/.hidden/x.md": fm(title="h"),
        "content/posts/notes.txt": "x", "public/built.md": fm(title="built"),
        "content/node_modules/pkg/readme.md": fm(title="nm"),
    }
    cfg = make_site(tmp_path, files, content=["content/**/*.md", "content/posts/*.md", "content/**/*.mdx", "**/built.md"])
    found = [p.relative_to(tmp_path.resolve()).as_posix() for p in discover(cfg)]
    assert found == ["content/posts/a.md", "content/posts/b.md", "content/posts/deep/er/c.mdx"]


def test_discover_refuses_patterns_leaving_the_root(tmp_path):
    with pytest.raises(ConfigError):
        discover(make_site(tmp_path, {}, content=["../**/*.md"]))


def test_broken_posts_fail_alone(tmp_path):
    files = {
        "content/a.md": fm(title="A"), "content/b.md": "---\ntitle: [broken\n---\n",
        "content/c.md": "no front matter here", "content/d.md": b"---\ntitle: \xff\n---\n",
        "content/e.md": fm(title="E"), "content/f.mdx": fm(title="F"),
    }
    posts, errors = load_posts(make_site(tmp_path, files))
    assert sorted(p.title for p in posts) == ["A", "E", "F"]
    assert sorted(str(e).split(":")[0].rsplit("/", 1)[1] for e in errors) == ["b.md", "c.md", "d.md"]
    assert next(p for p in posts if p.title == "F").format == "mdx"


def test_duplicate_urls_are_flagged(tmp_path):
    files = {"content/a.md": fm(title="A", url="/same/"), "content/b.md": fm(title="B", url="/same/")}
    posts, _ = load_posts(make_site(tmp_path, files))
    assert all(any("same id" in w for w in p.warnings) for p in posts)


# --- the example site and the corpus -----------------------------------------------------------

def test_example_site_loads():
    cfg = load_config(EXAMPLES / "syndicate.toml", env={}, check_connectors=False, strict=False, readonly=True)
    posts, errors = load_posts(cfg)
    assert not errors, errors
    assert len(posts) >= 14
    by_name = {p.path.name if p.path.stem != "index" else p.path.parent.name: p for p in posts}
    assert by_name["draft-ideas.md"].draft and by_name["draft-ideas.md"].hidden == "draft"
    assert not by_name["far-future.md"].due(datetime.now(UTC))
    assert by_name["site-only.md"].control.enabled is False
    release = by_name["release-notes-2-0.md"].control
    assert release.override("mastodon", "mastodon")["text"].startswith("Version 2.0")
    trip = by_name["mountain-trip"]
    assert trip.cover.path is not None and trip.cover.path.stat().st_size < 20_000
    assert trip.cover.url.endswith("/ridge.jpg")
    assert by_name["hugo-yaml.ja.md"].lang == "ja" and "/ja/" in by_name["hugo-yaml.ja.md"].url
    assert by_name["ramadan-lights.md"].lang == "ar"
    assert by_name["interactive-charts.mdx"].format == "mdx"
    assert by_name["2019-05-01-liquid-tags.md"].date.date().isoformat() == "2019-05-01"
    assert by_name["astro-islands.md"].cover.alt.startswith("A small landscape")  # via site.fields
    sale = by_name["2021-03-01-spring-sale.md"]  # Hugo: capitalised keys, a publish date, an expiry date
    assert sale.title.startswith("Spring sale") and sale.tags == ["events"]
    assert sale.url == "https://example.com/2021/03/spring-sale-on-workshop-seats/"
    assert not sale.due(datetime(2021, 3, 1, 12, tzinfo=UTC)) and sale.due(datetime(2021, 3, 2, 8, tzinfo=UTC))
    assert sale.visible_at(datetime(2021, 3, 15, tzinfo=UTC)) is None
    assert sale.visible_at(datetime.now(UTC)) == "expired on 2021-04-01"
    assert len({p.id for p in posts}) == len(posts)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="no ../shared/corpus beside the project")
@pytest.mark.parametrize("blog", ["rust-lang+blog.rust-lang.org", "open-telemetry+opentelemetry.io"])
def test_corpus_loads_without_crash(blog):
    root = CORPUS / blog
    cfg = Config(path=None, site=SiteConfig(url="https://blog.example", root=root, content=["content/**/*.md"]))
    posts, errors = load_posts(cfg)
    files = list(root.glob("content/**/*.md"))
    assert len(posts) + len(errors) == len(files) and len(posts) >= 0.9 * len(files)
    for post in posts:
        assert post.title and post.slug
        assert post.url.startswith("https://blog.example/") or post.url == post.front_matter.get("canonical_url")
    assert len({p.id for p in posts}) == len(posts)
    if blog.startswith("rust-lang"):
        for post in posts:
            raw = post.front_matter["path"]
            y, m, d = raw.split("/")[-4:-1] if raw.startswith("inside-rust/") else raw.split("/")[:3]
            assert post.date is not None and post.date.date().isoformat() == f"{y}-{m}-{d}"
            assert post.url == f"https://blog.example/{raw}/"


# --- Eleventy ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("permalink", "url", "warned"),
    [
        ("/notes/{{ page.fileSlug }}/", "https://blog.example/notes/my-note/", False),
        ("/t/{{ title | slugify }}/", "https://blog.example/t/a-title-here/", False),
        ("/{{ page.date | date: '%Y' }}/x/", "https://blog.example/my-note/", True),
    ],
)
def test_eleventy_permalink_templates(tmp_path, permalink, url, warned):
    extra = {".eleventy.js": "module.exports = {}"}
    post = one(tmp_path, fm(title="A Title Here", permalink=permalink), rel="posts/my-note.md", extra=extra,
               content=["posts/*.md"])
    assert post.url == url
    assert any("beyond me" in w for w in post.warnings) == warned


def test_eleventy_permalink_false_hides_the_post(tmp_path):
    assert one(tmp_path, fm(title="t", permalink=False)).hidden.startswith("not published")
    assert one(tmp_path, fm(title="t", eleventyExcludeFromCollections=True), rel="content/b.md").hidden


def test_blank_url_value_is_ignored(tmp_path):
    assert one(tmp_path, fm(title="t", url="   ")).url == "https://blog.example/posts/hello/"


# --- Hugo: dates from the config, date prefixes, publishing window ------------------------------

HUGO = 'baseURL = "https://x/"\n'
FILENAME_DATES = HUGO + '[frontmatter]\ndate = [":filename", ":default"]\n'


@pytest.mark.parametrize(
    ("config", "rel", "url"),
    [
        (HUGO, "content/posts/2020-06-06-x.md", "https://blog.example/posts/2020-06-06-x/"),
        (HUGO + '[permalinks]\nposts = "/:filename/"\n', "content/posts/2020-06-06-x.md",
         "https://blog.example/2020-06-06-x/"),
        (HUGO, "content/posts/2020-06-06-trip/index.md", "https://blog.example/posts/2020-06-06-trip/"),
        (FILENAME_DATES, "content/posts/2020-06-06-x.md", "https://blog.example/posts/x/"),
        (FILENAME_DATES, "content/posts/2020-06-06-trip/index.md", "https://blog.example/posts/trip/"),
        (FILENAME_DATES + '[permalinks]\nposts = "/:year/:slug/"\n', "content/posts/2020-06-06-x.md",
         "https://blog.example/2020/x/"),
        # `:filename` is the file's name, date and all, whatever the date source
        (FILENAME_DATES + '[permalinks]\nposts = "/:filename/"\n', "content/posts/2020-06-06-x.md",
         "https://blog.example/2020-06-06-x/"),
    ],
    ids=["default", "filename-token", "bundle", "filename-dates", "filename-dates-bundle", "filename-dates-slug",
         "filename-dates-filename-token"],
)
def test_hugo_keeps_a_date_prefix_unless_the_date_comes_from_the_file_name(tmp_path, config, rel, url):
    post = one(tmp_path, fm(title="Some Title"), rel=rel, extra={"hugo.toml": config})
    assert post.url == url
    assert post.date == datetime(2020, 6, 6, tzinfo=UTC)


def test_hugo_filename_date_only_when_it_wins(tmp_path):
    extra = {"config/_default/hugo.yaml": "baseURL: https://x/\nfrontmatter:\n  date: [date, ':filename']\n"}
    dated = one(tmp_path, fm(title="T", date="2021-01-01"), rel="content/posts/2020-06-06-x.md", extra=extra)
    assert dated.url == "https://blog.example/posts/2020-06-06-x/"  # `date` won: no slug from the name
    assert dated.date == datetime(2021, 1, 1, tzinfo=UTC)
    undated = one(tmp_path, fm(title="T"), rel="content/posts/2020-06-06-y.md")
    assert undated.url == "https://blog.example/posts/y/" and undated.date == datetime(2020, 6, 6, tzinfo=UTC)
    slugged = one(tmp_path, fm(title="T", slug="mine"), rel="content/posts/2020-06-06-z.md")
    assert slugged.url == "https://blog.example/posts/mine/"  # a front-matter slug beats the file name


def test_jekyll_and_zola_still_drop_the_date_prefix(tmp_path):
    jekyll = one(tmp_path, fm(title="T"), rel="_posts/2020-06-06-x.md", extra={"_config.yml": "title: x\n"})
    assert jekyll.url == "https://blog.example/2020/06/06/x.html"
    zola = one(tmp_path / "z", '+++\ntitle = "T"\n+++\n', rel="content/2020-06-06-x.md",
               extra={"config.toml": 'base_url = "https://x"\n'})
    assert zola.slug == "x"


@pytest.mark.parametrize("key", ["publishDate", "pubdate", "published", "PublishDate"])
def test_hugo_publish_date_in_the_future_is_not_yet_due(tmp_path, key):
    post = one(tmp_path, f"---\ntitle: t\ndate: 2020-01-01\n{key}: 2099-05-01T08:00:00Z\n---\nx",
               extra={"hugo.toml": HUGO})
    assert post.date == datetime(2020, 1, 1, tzinfo=UTC)  # the shown date stays
    assert post.publish_date == datetime(2099, 5, 1, 8, tzinfo=UTC)
    assert not post.due(datetime(2099, 5, 1, 7, tzinfo=UTC)) and post.due(datetime(2099, 5, 1, 8, tzinfo=UTC))
    assert post.visible_at(datetime(2030, 1, 1, tzinfo=UTC)) is None


def test_publish_date_alone_is_the_date(tmp_path):
    post = one(tmp_path, fm(title="t", publishDate="2099-01-01T00:00:00Z"), extra={"hugo.toml": HUGO})
    assert post.date == datetime(2099, 1, 1, tzinfo=UTC) and post.publish_date is None
    assert not post.due(datetime(2098, 1, 1, tzinfo=UTC))


def test_publish_date_counts_for_other_generators_too(tmp_path):
    post = one(tmp_path, fm(title="t", date="2020-01-01", publishDate="2099-01-01"))
    assert not post.due(datetime(2050, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize("key", ["expiryDate", "expirydate", "unpublishdate", "ExpiryDate"])
@pytest.mark.parametrize("hugo", [True, False])
def test_expiry_date_hides_the_post_once_past(tmp_path, key, hugo):
    post = one(tmp_path, f"---\ntitle: t\ndate: 2019-01-01\n{key}: 2020-01-01\n---\nx",
               extra={"hugo.toml": HUGO} if hugo else None)
    assert post.expires == datetime(2020, 1, 1, tzinfo=UTC)
    assert post.hidden is None  # expiry depends on the clock: visible_at
    assert post.visible_at(datetime(2019, 12, 31, tzinfo=UTC)) is None
    assert post.visible_at(datetime(2020, 1, 2, tzinfo=UTC)) == "expired on 2020-01-01"
    assert post.due(datetime(2020, 1, 2, tzinfo=UTC))


def test_visible_at_reports_static_reasons_first(tmp_path):
    post = one(tmp_path, fm(title="t", draft=True, expiryDate="2020-01-01"))
    assert post.visible_at(datetime(2030, 1, 1, tzinfo=UTC)) == "draft"


def test_hugo_front_matter_config_for_publish_and_expiry(tmp_path):
    config = HUGO + '[frontmatter]\npublishDate = ["goLive", ":default"]\nexpiryDate = ["sunset"]\n'
    post = one(tmp_path, fm(title="t", date="2020-01-01", goLive="2099-01-01", sunset="2100-01-01",
                            expiryDate="2000-01-01"), extra={"hugo.toml": config})
    assert post.publish_date == datetime(2099, 1, 1, tzinfo=UTC)
    assert post.expires == datetime(2100, 1, 1, tzinfo=UTC)  # `expiryDate` is not a source any more


def test_bad_publish_or_expiry_date_is_a_post_error(tmp_path):
    with pytest.raises(PostError, match="publishDate"):
        one(tmp_path, fm(title="t", publishDate="next week"), extra={"hugo.toml": HUGO})
    with pytest.raises(PostError, match="expiryDate"):
        one(tmp_path, fm(title="t", expiryDate="soon"), rel="content/b.md")


@pytest.mark.parametrize("hugo", [True, False])
def test_front_matter_keys_are_case_insensitive(tmp_path, hugo):
    text = "---\nTitle: Upper\nDate: 2020-02-03\nDraft: true\nTags: [a]\nSlug: up\n---\nx"
    post = one(tmp_path, text, extra={"hugo.toml": HUGO} if hugo else None)
    assert (post.title, post.date, post.draft, post.tags) == ("Upper", datetime(2020, 2, 3, tzinfo=UTC), True, ["a"])
    assert post.url == "https://blog.example/posts/up/"
    assert post.front_matter["Title"] == "Upper"  # the front matter itself is kept as written


def test_an_exact_lowercase_key_wins_a_case_clash(tmp_path):
    assert one(tmp_path, "---\nTitle: Upper\ntitle: lower\n---\nx").title == "lower"
    assert one(tmp_path, "---\ntitle: lower\nTitle: Upper\n---\nx", rel="content/b.md").title == "lower"


# --- each generator's publishing rules ---------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "hidden", "draft"),
    [
        ("permalink: false", "not published as a page (Eleventy permalink: false)", False),
        ("eleventyExcludeFromCollections: true", "excluded from collections (Eleventy eleventyExcludeFromCollections)",
         False),
        ("status: draft", "draft (status: draft)", True),
        ("status: Private", "private (status: private)", False),
        ("status: published", None, False),
        ("build:\n  render: never", "not rendered (build.render: never)", False),
        ("_build:\n  list: never", "not listed (build.list: never)", False),
        ("Published: false", "unpublished (published: false)", True),
        ("published: 2020-01-01", None, False),
    ],
)
def test_generator_hidden_rules(tmp_path, text, hidden, draft):
    post = one(tmp_path, f"---\ntitle: t\n{text}\n---\nx")
    assert (post.hidden, post.draft) == (hidden, draft)


def test_zola_and_astro_drafts(tmp_path):
    assert one(tmp_path, '+++\ntitle = "z"\ndraft = true\n+++\nx').hidden == "draft"
    astro = one(tmp_path, fm(title="a", pubDate="2023-01-01", draft=True), rel="src/content/blog/a.md",
                extra={"astro.config.mjs": "export default {}"}, content=["src/content/**/*.md"])
    assert astro.draft and astro.hidden == "draft"


def test_jekyll_future_post_is_not_due_until_its_date(tmp_path):
    for future in ("", "future: true\n"):
        root = tmp_path / (future.strip(": \n") or "default")
        post = one(root, fm(title="t"), rel="_posts/2099-03-04-later.md", extra={"_config.yml": "title: x\n" + future})
        assert not post.due(datetime(2099, 3, 3, tzinfo=UTC)) and post.due(datetime(2099, 3, 4, tzinfo=UTC))


# --- one image lookup for covers, body images and the media pipeline ----------------------------

@pytest.mark.parametrize(
    ("files", "site", "rel", "src", "expected"),
    [
        # Hugo: `[site] static` adds to the generator's folders, it does not replace them
        ({"hugo.toml": HUGO, "static/images/a.png": b"png"}, {"static": ["site-assets"]}, "content/posts/p.md",
         "/images/a.png", "static/images/a.png"),
        # Hugo serves static/, never its build output public/
        ({"hugo.toml": HUGO, "public/images/a.png": b"png"}, {}, "content/posts/p.md", "/images/a.png", None),
        # Jekyll serves the site root: a relative path written from _posts/ is found there
        ({"_config.yml": "title: x\n", "assets/a.png": b"png"}, {}, "_posts/2019-01-01-p.md", "assets/a.png",
         "assets/a.png"),
        # Astro and Eleventy: public/
        ({"astro.config.mjs": "", "public/a.png": b"png"}, {}, "content/posts/p.md", "/a.png", "public/a.png"),
        ({"hugo.toml": HUGO, "content/posts/b/pic one.png": b"png"}, {}, "content/posts/b/index.md",
         "pic%20one.png", "content/posts/b/pic one.png"),
    ],
)
def test_cover_and_body_image_resolve_to_the_same_file(tmp_path, files, site, rel, src, expected):
    from syndicate.content.media import LocalResolver
    from syndicate.content.permalinks import site_info

    post = one(tmp_path, fm(body=f"Text.\n\n![body]({src})\n", title="t", image=src), rel=rel, extra=files, **site)
    want = (tmp_path / expected).resolve() if expected else None
    assert post.cover.path == want
    assert [i.path for i in post.document.images] == [want]
    assert post.cover.url == post.document.images[0].url
    info = site_info(post.site)
    pipeline = LocalResolver(post.site.root, info.static_dirs)
    if want is not None:
        assert pipeline.resolve(src, post.path.parent) == want


def test_body_image_escaping_the_root_is_refused_like_the_cover(tmp_path):
    root = tmp_path / "site"
    (tmp_path / "secret.png").write_bytes(b"secret")
    post = one(root, fm(body="![x](../../secret.png)\n", title="t", image="../../secret.png"), rel="content/posts/p.md")
    assert post.cover is None and post.document.images == [] and "secret" not in post.document.markdown()
    assert any("outside the site root" in w for w in post.warnings)
    assert post.document.warnings == [w for w in post.warnings if "outside the site root" in w]  # the same words


# --- awkward file names ------------------------------------------------------------------------

@pytest.mark.parametrize("rel", ["content/posts/[wip]/index.md", "content/posts/my post [draft].md",
                                 "content/posts/a b/index.md", "content/[x]/[y].md"])
@pytest.mark.parametrize("generator", [None, "hugo.toml"])
def test_file_names_with_spaces_and_brackets_load(tmp_path, rel, generator):
    files = {rel: fm(body="![pic](pic.png)\n", title="T", image="pic.png"),
             str(Path(rel).parent / "pic.png"): b"png"}
    if generator:
        files[generator] = HUGO
    posts, errors = load_posts(make_site(tmp_path, files))
    assert not errors and len(posts) == 1
    post = posts[0]
    assert post.path == (tmp_path / rel).resolve() and post.title == "T"
    assert post.url.startswith("https://blog.example/") and " " not in post.url and "[" not in post.url
    assert post.cover.path == (tmp_path / rel).resolve().parent / "pic.png"
    assert post.document.images[0].path == post.cover.path
