"""Canonical URLs as each generator publishes them: Astro routes, Gatsby i18n, Hugo's keys and date prefixes, tokens."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from syndicate.cli import app
from syndicate.config import Config, ConfigError, SiteConfig
from syndicate.config.urltokens import expand, go_format, unknown
from syndicate.content.loader import load_post, reset_cache
from syndicate.content.routes import createfilepath, entry_slug, github_slug
from syndicate.registry import load_config

SITE = "https://blog.example.org"


@pytest.fixture(autouse=True)
def _fresh_cache():
    reset_cache()
    yield
    reset_cache()


def build(root: Path, files: dict[str, str]) -> SiteConfig:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return SiteConfig(url=SITE, root=root.resolve(), content=["**/*.md", "**/*.mdx", "**/*.html", "**/*.markdown"])


def url(site: SiteConfig, rel: str) -> str:
    return load_post(site.root / rel, site).url


POST = "---\ntitle: A post\ndate: 2023-12-30\n---\nBody.\n"

# --- Astro: read the route ------------------------------------------------------------------------

ASTRO_ROUTE = """---
import { getCollection } from "astro:content";
export async function getStaticPaths() {
  const posts = await getCollection("blog");
  return posts.map((post) => ({ params: { slug: post.slug }, props: { post } }));
}
const { post } = Astro.props;
---
<h1>{post.data.title}</h1>
"""


def test_astro_collection_served_under_the_route_folder(tmp_path):
    """ddev.com's shape: `src/pages/blog/[...slug].astro` serves the blog collection under /blog/."""
    site = build(tmp_path, {
        "astro.config.mjs": "export default defineConfig({ site: 'https://ddev.com' })\n",
        "src/content/config.ts": "export const collections = { 'blog': blogCollection, 'authors': authors };\n",
        "src/pages/blog/[...slug].astro": ASTRO_ROUTE,
        "src/pages/blog/[page].astro": "---\nexport async function getStaticPaths({ paginate }) {\n"
                                       "  return paginate(await getCollection('blog'), { pageSize: 6 })\n}\n---\n",
        "src/content/blog/2023-review/index.md": POST,
        "src/content/blog/Hello World.md": POST,
        "src/content/blog/custom.md": "---\ntitle: C\nslug: my-custom/path\n---\nx\n",
        "src/pages/about/team.md": POST,
    })
    assert url(site, "src/content/blog/2023-review/index.md") == f"{SITE}/blog/2023-review/"
    assert url(site, "src/content/blog/Hello World.md") == f"{SITE}/blog/hello-world/"
    assert url(site, "src/content/blog/custom.md") == f"{SITE}/blog/my-custom/path/"
    assert url(site, "src/pages/about/team.md") == f"{SITE}/about/team/"


def test_astro5_glob_loader_id_route_trailing_slash_never(tmp_path):
    site = build(tmp_path, {
        "package.json": '{"dependencies": {"astro": "^5.1.0"}}',
        "astro.config.ts": "export default defineConfig({ trailingSlash: 'never' })\n",
        "src/content.config.ts": (
            "import { glob } from 'astro/loaders';\n"
            "const posts = defineCollection({\n  loader: glob({ pattern: '**/*.md', base: './src/data/posts' }),\n"
            "  schema: z.object({ title: z.string() }),\n});\n"
            "export const collections = { posts };\n"),
        "src/pages/posts/[...id].astro": ASTRO_ROUTE.replace('"blog"', '"posts"').replace("slug: post.slug", "id: post.id"),
        "src/data/posts/2024/First Steps.md": POST,
    })
    assert url(site, "src/data/posts/2024/First Steps.md") == f"{SITE}/posts/2024/first-steps"


def test_astro_single_segment_route_and_file_format(tmp_path):
    site = build(tmp_path, {
        "astro.config.mjs": "export default { build: { format: 'file' } }\n",
        "src/pages/notes/[slug].astro": ASTRO_ROUTE.replace('"blog"', '"notes"'),
        "src/content/notes/tiny.md": POST,
    })
    assert url(site, "src/content/notes/tiny.md") == f"{SITE}/notes/tiny.html"


def test_astro_collection_without_a_route_warns(tmp_path):
    site = build(tmp_path, {"astro.config.mjs": "export default {}\n", "src/content/drafts/x.md": POST})
    post = load_post(site.root / "src/content/drafts/x.md", site)
    assert any("no route" in w and "getCollection('drafts')" in w for w in post.warnings)


def test_entry_slug_and_github_slug():
    assert entry_slug("2023-review/index.md") == "2023-review"
    assert entry_slug("Nested/Some Post.mdx") == "nested/some-post"
    assert github_slug("Version 1.0: What's new?") == "version-10-whats-new"


# --- Gatsby i18n ----------------------------------------------------------------------------------

GATSBY_CONFIG = """module.exports = {
  plugins: [
    { resolve: `gatsby-source-filesystem`, options: { path: `${__dirname}/content/blog`, name: 'blog' } },
    { resolve: 'gatsby-plugin-i18n', options: { langKeyDefault: 'en', useLangKeyLayout: false } },
  ],
}
"""


def test_gatsby_translations_keep_their_language_prefix(tmp_path):
    """overreacted's shape: content/blog/my-post/index.es.md is served at /es/my-post/."""
    site = build(tmp_path, {
        "gatsby-config.js": GATSBY_CONFIG,
        "gatsby-node.js": "createPage({ path: post.node.fields.slug, component: blogPost })\n",
        "content/blog/my-post/index.md": POST,
        "content/blog/my-post/index.es.md": POST,
        "content/blog/my-post/index.pt-br.md": POST,
        "content/blog/2019/nested/index.md": POST,
    })
    assert url(site, "content/blog/my-post/index.md") == f"{SITE}/my-post/"
    assert url(site, "content/blog/my-post/index.es.md") == f"{SITE}/es/my-post/"
    assert url(site, "content/blog/my-post/index.pt-br.md") == f"{SITE}/pt-br/my-post/"
    assert url(site, "content/blog/2019/nested/index.md") == f"{SITE}/2019/nested/"


def test_gatsby_create_page_prefix(tmp_path):
    site = build(tmp_path, {
        "gatsby-config.js": GATSBY_CONFIG.replace("content/blog", "posts"),
        "gatsby-node.js": "createPage({ path: `/blog${node.fields.slug}`, component })\n",
        "posts/hello/index.md": POST,
        "posts/hello/index.fr.md": POST,
    })
    assert url(site, "posts/hello/index.md") == f"{SITE}/blog/hello/"
    assert url(site, "posts/hello/index.fr.md") == f"{SITE}/fr/blog/hello/"


def test_createfilepath():
    assert createfilepath("my-post/index.md") == "/my-post/"
    assert createfilepath("my-post/index.es.md") == "/my-post/"
    assert createfilepath("2019-01-01-x.md") == "/2019-01-01-x/"


# --- Hugo: `url` and `slug`, never `permalink`; date prefixes kept ---------------------------------

def test_hugo_html_content_ignores_a_jekyll_era_permalink(tmp_path):
    """stapelberg's shape: .html content files carried over from Jekyll keep `permalink:`, which Hugo ignores."""
    site = build(tmp_path, {
        "config.toml": 'baseURL = "https://michael.example/"\n',
        "content/posts/2009-01-01-old.html": "---\ntitle: Old\ndate: 2009-01-01\npermalink: /2009/old.html\n---\n<p>x</p>\n",
        "content/posts/moved.html": "---\ntitle: Moved\nurl: /kept/here.html\npermalink: /ignored/\n---\n<p>x</p>\n",
        "content/posts/slugged.html": "---\ntitle: S\nslug: nice-name\npermalink: /ignored/\n---\n<p>x</p>\n",
    })
    assert url(site, "content/posts/2009-01-01-old.html") == f"{SITE}/posts/2009-01-01-old/"
    assert url(site, "content/posts/moved.html") == f"{SITE}/kept/here.html"
    assert url(site, "content/posts/slugged.html") == f"{SITE}/posts/nice-name/"


def test_hugo_without_permalinks_keeps_the_date_prefix(tmp_path):
    """Two posts named rc-bugs a year apart never collapse onto one /posts/rc-bugs/."""
    files = {
        "content/posts/2007-08-21-rc-bugs.markdown": "---\ntitle: RC bugs\ndate: 2007-08-21\n---\nx\n",
        "content/posts/2008-08-21-rc-bugs.markdown": "---\ntitle: RC bugs\ndate: 2008-08-21\n---\nx\n",
    }
    for config in ({"hugo.toml": 'baseURL = "https://m.example/"\n'}, {}):  # with and without the site's config
        root = tmp_path / str(len(config))
        site = build(root, {**files, **config})
        reset_cache()
        urls = {url(site, rel) for rel in files}
        assert urls == {f"{SITE}/posts/2007-08-21-rc-bugs/", f"{SITE}/posts/2008-08-21-rc-bugs/"}


def test_hugo_filename_date_source_takes_the_prefix_off(tmp_path):
    site = build(tmp_path, {
        "hugo.toml": 'baseURL = "https://m.example/"\n[frontmatter]\ndate = [":filename", ":default"]\n',
        "content/posts/2007-08-21-rc-bugs.md": "---\ntitle: RC bugs\n---\nx\n",
    })
    assert url(site, "content/posts/2007-08-21-rc-bugs.md") == f"{SITE}/posts/rc-bugs/"


def test_hugo_permalink_go_layouts_and_section_slices(tmp_path):
    site = build(tmp_path, {
        "hugo.toml": ('baseURL = "https://m.example/"\n[permalinks]\nposts = "/:2006/:01/:slug/"\n'
                      'docs = "/:sections[1:]/:filename/"\n'),
        "content/posts/a.md": "---\ntitle: Hello There\ndate: 2021-03-04\n---\nx\n",
        "content/docs/guide/setup/intro.md": "---\ntitle: Intro\n---\nx\n",
    })
    assert url(site, "content/posts/a.md") == f"{SITE}/2021/03/hello-there/"
    assert url(site, "content/docs/guide/setup/intro.md") == f"{SITE}/guide/setup/intro/"


# --- unknown permalink tokens exit 2 ---------------------------------------------------------------

def test_unknown_token_in_site_permalink_is_a_config_error(tmp_path):
    cfg = tmp_path / "syndicate.toml"
    cfg.write_text(f'[site]\nurl = "{SITE}"\npermalink = "/:yeer/:slug/"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    message = str(err.value)
    assert str(cfg) in message and "site.permalink" in message and ":yeer" in message and ":year" in message


@pytest.mark.parametrize(("files", "where", "key"), [
    ({"hugo.toml": 'baseURL = "https://x/"\n[permalinks]\nposts = "/:yeer/:slug/"\n'}, "hugo.toml", "permalinks.posts"),
    ({"hugo.toml": 'baseURL = "https://x/"\n[permalinks.page]\nposts = "/:slugg/"\n'}, "hugo.toml", "permalinks.page.posts"),
    ({"_config.yml": "permalink: /:yeer/:title/\n"}, "_config.yml", "permalink"),
])
def test_unknown_token_in_the_generators_config_exits_2(tmp_path, monkeypatch, files, where, key):
    build(tmp_path, {**files, "content/posts/a.md": POST,
                     "syndicate.toml": f'[site]\nurl = "{SITE}"\ncontent = ["content/**/*.md"]\n'})
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SYNDICATE_CONFIG", raising=False)
    result = CliRunner().invoke(app, ["push", "--dry-run", "content/posts/a.md"])
    assert result.exit_code == 2, result.output
    assert where in result.output and key in result.output and "unknown token" in result.output
    assert "%3A" not in result.output


def test_jekyll_front_matter_permalink_with_an_unknown_token_fails_the_post(tmp_path):
    site = build(tmp_path, {"_config.yml": "title: x\n", "_posts/2020-01-01-a.md": "---\ntitle: A\npermalink: /:yeer/a/\n---\nx\n"})
    with pytest.raises(Exception, match=r"permalink: unknown token :yeer"):
        load_post(site.root / "_posts/2020-01-01-a.md", site)


def test_token_vocabularies():
    assert unknown("/:year/:2006-01/:sections[1:]/:slug/", "hugo") == []
    assert unknown("/:yeer/:slug/", "hugo") == [":yeer"]
    assert unknown("/:categories/:year/:month/:day/:title:output_ext", "jekyll") == []
    assert unknown("/:weekdayname/", "jekyll") == [":weekdayname"]
    from datetime import datetime
    d = datetime(2019, 11, 9, 23, 1, 42)
    assert go_format("2006-01-02 Jan Mon _2 3PM", d) == "2019-11-09 Nov Sat  9 11PM"
    assert expand("/:sections[last]/:slug/", {"slug": "x"}, "hugo", sections=["a", "b"]) == "/b/x/"


def test_every_site_token_expands(tmp_path):
    """Each token `[site] permalink` accepts has a value: none survives into a URL as `%3A`."""
    from syndicate.config.urltokens import OURS
    pattern = "/" + "/".join(":" + t for t in sorted(OURS)) + "/"
    site = build(tmp_path, {"content/posts/a.md": "---\ntitle: A\ndate: 2020-02-03\ncategories: [x]\n---\nx\n"})
    site.permalink = pattern
    assert ":" not in url(site, "content/posts/a.md").split("://", 1)[1]


def test_unknown_generator_serves_the_folder_path(tmp_path):
    cfg = Config(path=None, site=build(tmp_path, {"content/posts/a.md": POST}))
    assert url(cfg.site, "content/posts/a.md") == f"{SITE}/posts/a/"
