"""`syndicate init`: one real-shaped repository per generator, built in a temporary folder.

Each has posts, and what must not be taken beside them: pages, partials and
layouts, a drafts folder, list pages (`_index.md`). The file `init` writes is
loaded with `load_config` and the loader's `discover` must list exactly the posts.
"""
from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from syndicate.cli import app
from syndicate.cli.init.run import detect
from syndicate.content.loader import discover
from syndicate.registry import load_config
from tests.paths import ROOT, SHARED

CORPUS = SHARED / "corpus"


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def yaml_post(title: str, date: str | None = "2024-03-01", extra: str = "") -> str:
    return f"---\ntitle: {title}\n" + (f"date: {date}\n" if date else "") + extra + "---\n\nBody of " + title + ".\n"


def toml_post(title: str, date: str | None = "2024-03-01", extra: str = "") -> str:
    return f'+++\ntitle = "{title}"\n' + (f"date = {date}\n" if date else "") + extra + "+++\n\nBody.\n"


def init(root: Path, *args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["init", str(root), *args], input=input, env={"COLUMNS": "200"})
    return result.exit_code, result.output


def found(root: Path) -> set[str]:
    config = load_config(root / "syndicate.toml", strict=False, readonly=True)
    return {p.relative_to(root).as_posix() for p in discover(config)}


def site(root: Path) -> dict:
    return tomllib.loads((root / "syndicate.toml").read_text())["site"]


# --- one repository per generator -------------------------------------------------------------------------------

HUGO_POSTS = ["content/posts/first.md", "content/posts/2023-05-01-second.md", "content/posts/trip/index.md"]


def hugo(root: Path) -> list[str]:
    write(root, {
        "hugo.toml": 'baseURL = "https://hugo.example.org/"\ntitle = "Mine"\nlanguageCode = "en-us"\n'
                     '[permalinks]\nposts = "/:year/:month/:slug/"\n',
        "content/_index.md": toml_post("Home", None),
        "content/about.md": toml_post("About", None),
        "content/posts/_index.md": toml_post("Posts", None),
        "content/posts/first.md": toml_post("First"),
        "content/posts/2023-05-01-second.md": toml_post("Second", "2023-05-01"),
        "content/posts/trip/index.md": toml_post("Trip"),
        "content/posts/trip/map-notes.md": toml_post("Map notes"),  # a leaf bundle's resource, not a page
        "content/posts/draft-one.md": toml_post("Draft", extra="draft = true\n"),
        "content/docs/setup.md": toml_post("Setup", None),
        "layouts/partials/header.md": "partial",
        "layouts/_default/single.html": "<html>",
        "themes/ananke/exampleSite/content/post/demo.md": toml_post("Theme demo"),
        "static/img/a.png": "png",
        "README.md": "# my blog\n",
    })
    return [*HUGO_POSTS, "content/posts/draft-one.md"]  # the draft is a post of the site, held by its front matter


def jekyll(root: Path) -> list[str]:
    write(root, {
        "_config.yml": "title: Mine\nurl: https://me.github.io\nbaseurl: /blog\npermalink: pretty\n"
                       "collections:\n  projects:\n    output: true\nexclude: [vendor]\n",
        "_posts/2024-01-02-hello.md": yaml_post("Hello", None),
        "_posts/2024-02-03-world.markdown": yaml_post("World", None),
        "_posts/2019/2019-12-31-old.md": yaml_post("Old", None),
        "travel/_posts/2022-07-01-rome.md": yaml_post("Rome", None),
        "_drafts/unfinished.md": yaml_post("Unfinished", None),
        "_projects/thing.md": yaml_post("Thing", None),
        "_includes/footer.md": "footer",
        "_layouts/post.html": "<html>",
        "about.md": yaml_post("About", None),
        "index.md": yaml_post("Home", None),
        "vendor/bundle/gems/minima/_posts/2016-01-01-demo.md": yaml_post("Gem demo", None),
        "_site/2024/01/02/hello/index.html": "<html>",
    })
    return ["_posts/2024-01-02-hello.md", "_posts/2024-02-03-world.markdown", "_posts/2019/2019-12-31-old.md",
            "travel/_posts/2022-07-01-rome.md"]


def zola(root: Path) -> list[str]:
    write(root, {
        "config.toml": 'base_url = "https://zola.example.net"\ntitle = "Mine"\ndefault_language = "fr"\n',
        "content/_index.md": toml_post("Home", None),
        "content/about.md": toml_post("About", None),
        "content/blog/_index.md": '+++\ntitle = "Blog"\nsort_by = "date"\n+++\n',
        "content/blog/first.md": toml_post("First"),
        "content/blog/second/index.md": toml_post("Second"),
        "content/blog/second/diagram.svg": "<svg/>",
        "content/projects/_index.md": toml_post("Projects", None),
        "content/projects/tool.md": toml_post("Tool", None),
        "templates/partials/nav.md": "nav",
        "templates/base.html": "<html>",
    })
    return ["content/blog/first.md", "content/blog/second/index.md"]


def astro(root: Path) -> list[str]:
    write(root, {
        "astro.config.mjs": "import { defineConfig } from 'astro/config';\n"
                            "export default defineConfig({\n  site: 'https://astro.example.com',\n});\n",
        "package.json": '{"dependencies": {"astro": "^5.1.0"}}',
        "src/content.config.ts": "import { defineCollection } from 'astro:content';\nimport { glob } from 'astro/loaders';\n"
                                 "const blog = defineCollection({ loader: glob({ base: './src/content/blog', pattern: '**/*.{md,mdx}' }) });\n"
                                 "const authors = defineCollection({ loader: glob({ base: './src/content/authors', pattern: '*.md' }) });\n"
                                 "export const collections = { blog, authors };\n",
        "src/content/blog/first-post.md": yaml_post("First", extra="pubDate: 2024-01-01\n"),
        "src/content/blog/using-mdx.mdx": yaml_post("MDX", extra="pubDate: 2024-02-01\n"),
        "src/content/authors/me.md": yaml_post("Me", None),
        "src/pages/about.md": yaml_post("About", None),
        "src/pages/blog/[...slug].astro": "---\nimport { getCollection } from 'astro:content';\n"
                                          "export async function getStaticPaths() {\n  const posts = await getCollection('blog');\n"
                                          "  return posts.map((post) => ({ params: { slug: post.id }, props: post }));\n}\n---\n",
        "src/components/Header.astro": "<header/>",
        "src/layouts/BlogPost.astro": "<article/>",
        "public/favicon.svg": "<svg/>",
    })
    return ["src/content/blog/first-post.md", "src/content/blog/using-mdx.mdx"]


def eleventy(root: Path) -> list[str]:
    write(root, {
        "eleventy.config.js": 'export default function (eleventyConfig) {}\n'
                              'export const config = { dir: { input: "content", includes: "../_includes", data: "../_data" } };\n',
        "_data/metadata.js": 'export default { title: "Mine", url: "https://eleventy.example.com/" };\n',
        "content/blog/blog.11tydata.js": 'export default { tags: ["posts"], layout: "layouts/post.njk" };\n',
        "content/blog/firstpost.md": yaml_post("First"),
        "content/blog/secondpost/secondpost.md": yaml_post("Second"),
        "content/about/index.md": yaml_post("About", None),
        "content/index.njk": "home",
        "content/notes/idea.md": yaml_post("An idea", None),
        "_includes/layouts/post.njk": "layout",
        "_includes/partial.md": "partial",
        "README.md": "# readme\n",
    })
    return ["content/blog/firstpost.md", "content/blog/secondpost/secondpost.md"]


def gatsby(root: Path) -> list[str]:
    write(root, {
        "gatsby-config.js": "module.exports = {\n  siteMetadata: {\n    title: `Mine`,\n"
                            "    siteUrl: `https://gatsby.example.com/`,\n  },\n  plugins: [\n"
                            "    { resolve: `gatsby-source-filesystem`, options: { path: `${__dirname}/content/blog`, name: `blog` } },\n"
                            "    { resolve: `gatsby-source-filesystem`, options: { path: `${__dirname}/src/images`, name: `images` } },\n"
                            "  ],\n};\n",
        "gatsby-node.js": "const { createFilePath } = require(`gatsby-source-filesystem`)\n",
        "content/blog/hello-world/index.md": yaml_post("Hello"),
        "content/blog/new-beginnings/index.mdx": yaml_post("New"),
        "content/pages/about.md": yaml_post("About", None),
        "src/pages/404.js": "export default () => null",
        "src/images/logo.png": "png",
        "README.md": "# readme\n",
    })
    return ["content/blog/hello-world/index.md", "content/blog/new-beginnings/index.mdx"]


def nextjs(root: Path) -> list[str]:
    write(root, {
        "next.config.js": "module.exports = { reactStrictMode: true }\n",
        "package.json": '{"name": "blog", "dependencies": {"next": "14.0.0"}}',
        "data/siteMetadata.js": "const siteMetadata = {\n  title: 'Mine',\n  siteUrl: 'https://next.example.dev',\n}\n",
        "data/blog/hello.mdx": yaml_post("Hello"),
        "data/blog/guide/deep.mdx": yaml_post("Deep"),
        "data/authors/default.md": yaml_post("Author", None),
        "app/blog/[...slug]/page.tsx": "export default function Page() {}",
        "app/about/page.tsx": "export default function About() {}",
        "components/MDXComponents.tsx": "export {}",
        "README.md": "# readme\n",
    })
    return ["data/blog/hello.mdx", "data/blog/guide/deep.mdx"]


SITES = {"hugo": hugo, "jekyll": jekyll, "zola": zola, "astro": astro, "eleventy": eleventy, "gatsby": gatsby,
         "next": nextjs}
URLS = {"hugo": "https://hugo.example.org", "jekyll": "https://me.github.io/blog", "zola": "https://zola.example.net",
        "astro": "https://astro.example.com", "eleventy": "https://eleventy.example.com",
        "gatsby": "https://gatsby.example.com", "next": "https://next.example.dev"}


@pytest.mark.parametrize("ssg", sorted(SITES))
def test_globs_take_exactly_the_posts(tmp_path: Path, ssg: str) -> None:
    expected = SITES[ssg](tmp_path)
    assert detect(tmp_path).ssg == ssg
    code, out = init(tmp_path, "--yes")
    assert code == 0, out
    assert found(tmp_path) == set(expected)
    assert site(tmp_path)["url"] == URLS[ssg]


def test_hugo_reads_its_own_rules(tmp_path: Path) -> None:
    hugo(tmp_path)
    init(tmp_path, "--yes")
    text = (tmp_path / "syndicate.toml").read_text()
    assert site(tmp_path)["content"] == ["content/posts/**/*.md"]
    assert site(tmp_path)["language"] == "en"
    assert "posts = /:year/:month/:slug/" in text  # the permalinks the loader will use, said in a comment
    assert "content/docs" in text  # left out, and said so
    config = load_config(tmp_path / "syndicate.toml", strict=False, readonly=True)
    from syndicate.content.loader import load_post

    post = load_post(tmp_path / "content/posts/first.md", config.site)
    assert post.url == "https://hugo.example.org/2024/03/first/"


def test_hugo_main_sections_and_content_dir(tmp_path: Path) -> None:
    write(tmp_path, {
        "config/_default/hugo.yaml": "baseURL: https://split.example.org/\ncontentDir: src\n",
        "config/_default/params.yaml": "mainSections: [writing]\n",
        "src/writing/a.md": yaml_post("A"),
        "src/blog/old-stub.md": yaml_post("Stub", None),
        "src/about.md": yaml_post("About", None),
    })
    code, out = init(tmp_path, "--yes")
    assert code == 0, out
    assert found(tmp_path) == {"src/writing/a.md"}


def test_hugo_language_folders(tmp_path: Path) -> None:
    write(tmp_path, {
        "hugo.yaml": "baseURL: https://multi.example.org\ndefaultContentLanguage: en\n",
        "content/en/blog/a.md": yaml_post("A"),
        "content/fr/blog/a.md": yaml_post("A fr"),
        "content/en/docs/guide.md": yaml_post("Guide", None),
        "content/en/_index.md": yaml_post("Home", None),
    })
    init(tmp_path, "--yes")
    assert found(tmp_path) == {"content/en/blog/a.md", "content/fr/blog/a.md"}


def test_zola_without_a_blog_folder_takes_the_dated_pages(tmp_path: Path) -> None:
    write(tmp_path, {
        "zola.toml": 'base_url = "https://z.example.org"\n',
        "content/_index.md": toml_post("Home", None),
        "content/one.md": '+++\npath = "2023/05/29/one"\ntitle = "One"\n+++\n',
        "content/two.md": '+++\npath = "2024/01/02/two"\ntitle = "Two"\n+++\n',
        "content/team/_index.md": toml_post("Team", None),
        "content/team/three.md": '+++\npath = "team/2024/02/03/three"\ntitle = "Three"\n+++\n',
        "content/legal/_index.md": toml_post("Legal", None),
        "content/legal/terms.md": toml_post("Terms", None),
        "content/legal/privacy.md": toml_post("Privacy", None),
    })
    code, out = init(tmp_path, "--yes")
    assert code == 0, out
    assert found(tmp_path) == {"content/one.md", "content/two.md", "content/team/three.md"}
    assert "content/legal" in (tmp_path / "syndicate.toml").read_text()


def test_next_permalink_from_its_route(tmp_path: Path) -> None:
    nextjs(tmp_path)
    init(tmp_path, "--yes")
    assert site(tmp_path)["permalink"] == "/blog/:slug"


def test_eleventy_permalink_is_the_path_under_input(tmp_path: Path) -> None:
    eleventy(tmp_path)
    init(tmp_path, "--yes")
    config = load_config(tmp_path / "syndicate.toml", strict=False, readonly=True)
    from syndicate.content.loader import load_post

    assert load_post(tmp_path / "content/blog/firstpost.md", config.site).url == \
        "https://eleventy.example.com/blog/firstpost/"


# --- the corpus: two real blogs --------------------------------------------------------------------------------


def test_corpus_zola_rust_blog(tmp_path: Path) -> None:
    src = CORPUS / "rust-lang+blog.rust-lang.org"
    if not src.is_dir():
        pytest.skip("../shared/corpus is not beside the project")
    shutil.copytree(src, tmp_path / "blog")
    root = tmp_path / "blog"
    posts = {p.relative_to(root).as_posix() for p in root.rglob("*.md")}
    write(root, {  # the rest of the repository, as it is there
        "zola.toml": '# https://www.getzola.org/documentation/getting-started/configuration/\n\n'
                     'base_url = "https://blog.rust-lang.org"\ncompile_sass = true\ngenerate_feeds = true\n'
                     'taxonomies = [{ name = "tags", render = false }]\n\n[extra]\n',
        "content/_index.md": '+++\ntitle = "Rust Blog"\ngenerate_feeds = true\n[extra]\nindex_title = "The Rust Blog"\n+++\n',
        "content/inside-rust/_index.md": '+++\ntitle = "Inside Rust Blog"\ngenerate_feeds = true\n+++\n',
        "templates/layout.html": "<html>", "templates/macros.html": "", "static/images/x.png": "png",
        "sass/app.scss": "", "README.md": "# blog.rust-lang.org\n",
    })
    code, out = init(root, "--yes")
    assert code == 0, out
    assert found(root) == posts
    assert site(root)["url"] == "https://blog.rust-lang.org"


def test_corpus_hugo_opentelemetry(tmp_path: Path) -> None:
    src = CORPUS / "open-telemetry+opentelemetry.io"
    if not src.is_dir():
        pytest.skip("../shared/corpus is not beside the project")
    shutil.copytree(src, tmp_path / "site")
    root = tmp_path / "site"
    posts = {p.relative_to(root).as_posix() for p in root.rglob("*.md")}
    mounts = "".join(f"  - source: content/{lang}\n    target: content\n    lang: {lang}\n"
                     for lang in ("en", "ja", "pt", "zh", "fr"))
    write(root, {  # the rest of the repository, shaped as it is there (config/_default, mounts, docs, pages)
        "config/_default/hugo.yaml": "baseURL: https://opentelemetry.io\ntitle: OpenTelemetry\ntheme: [docsy]\n"
                                     "defaultContentLanguage: en\nlanguages:\n  en:\n    languageName: English\n"
                                     "  ja:\n    languageName: Japanese\n  pt:\n    languageName: Portuguese\n"
                                     "  zh:\n    languageName: Chinese\n  fr:\n    languageName: French\n",
        "config/_default/module.yaml": "mounts:\n" + mounts
                                       + "  - source: tmp/otel/specification\n    target: content/docs/specs/otel\n",
        "content/en/_index.md": yaml_post("OpenTelemetry", None),
        "content/en/about.md": yaml_post("About", None),
        "content/en/blog/_index.md": yaml_post("Blog", None),
        "content/en/blog/2023/_index.md": yaml_post("2023", None),
        "content/en/docs/_index.md": yaml_post("Docs", None),
        "content/en/docs/concepts/signals.md": yaml_post("Signals", None),
        "content/en/docs/languages/go/getting-started.md": yaml_post("Go", None),
        "content/en/_includes/page-drifted-msg.md": "partial",
        "content/en/announcements/kubecon.md": yaml_post("KubeCon", None),
        "content/en/community/roadmap.md": yaml_post("Roadmap", None),
        "content/fr/docs/_index.md": yaml_post("Docs fr", None),
        "content/ja/docs/concepts/signals.md": yaml_post("Signals ja", None),
        "layouts/partials/hooks/head-end.html": "", "static/img/logo.png": "png",
    })
    bundle = next(p.parent for p in sorted(root.glob("content/en/blog/**/index.md")))
    write(bundle, {"diagram-source.md": "# a resource of the bundle, not a page\n"})  # as k8s-otel-expose has
    code, out = init(root, "--yes")
    assert code == 0, out
    assert found(root) == posts
    assert site(root)["url"] == "https://opentelemetry.io"


# --- refusals, URL, secrets, baseline ---------------------------------------------------------------------------


def test_not_a_site_is_refused(tmp_path: Path) -> None:
    write(tmp_path, {"notes/a.md": yaml_post("A"), "README.md": "# hi\n"})
    code, out = init(tmp_path, "--yes")
    assert code == 2
    assert "not a site folder" in out and "Traceback" not in out
    assert not (tmp_path / "syndicate.toml").exists()
    write(tmp_path, {"website/gatsby-config.js": "module.exports = {}\n"})  # a site kept in a subfolder
    code, out = init(tmp_path, "--yes")
    assert code == 2 and "syndicate init website" in out


def test_existing_config_is_kept_unless_forced(tmp_path: Path) -> None:
    hugo(tmp_path)
    (tmp_path / "syndicate.toml").write_text("# mine\n")
    code, out = init(tmp_path, "--yes")
    assert code == 2 and "already exists" in out
    assert (tmp_path / "syndicate.toml").read_text() == "# mine\n"
    code, out = init(tmp_path, "--yes", "--force")
    assert code == 0, out
    assert site(tmp_path)["url"] == URLS["hugo"]


def test_url_option_wins_and_is_checked(tmp_path: Path) -> None:
    hugo(tmp_path)
    code, out = init(tmp_path, "--yes", "--url", "https://www.mine.example/")
    assert code == 0, out
    assert site(tmp_path)["url"] == "https://www.mine.example"
    (tmp_path / "syndicate.toml").unlink()
    code, out = init(tmp_path, "--yes", "--url", "mine.example")
    assert code == 2 and "scheme is missing" in out
    assert not (tmp_path / "syndicate.toml").exists()


def test_no_url_anywhere_needs_the_option(tmp_path: Path) -> None:
    write(tmp_path, {"_config.yml": "title: Mine\n", "_posts/2024-01-01-a.md": yaml_post("A", None)})
    code, out = init(tmp_path, "--yes")
    assert code == 2 and "--url" in out
    assert not (tmp_path / "syndicate.toml").exists()
    code, out = init(tmp_path, input="https://asked.example.org\nn\n")  # asked, then no baseline
    assert code == 0, out
    assert site(tmp_path)["url"] == "https://asked.example.org"


def test_no_secret_in_the_file_and_documented_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", "tok-very-secret-123")
    hugo(tmp_path)
    init(tmp_path, "--yes")
    text = (tmp_path / "syndicate.toml").read_text()
    assert "tok-very-secret-123" not in text
    data = tomllib.loads(text)
    assert "targets" not in data  # every target written commented out
    names = set(re.findall(r"\$\{([A-Z0-9_]+)\}", text))
    assert {"MASTODON_ACCESS_TOKEN", "DEVTO_API_KEY", "BLUESKY_APP_PASSWORD"} <= names
    docs = (ROOT / "README.md").read_text() + "".join(p.read_text() for p in (ROOT / "docs").glob("*.md"))
    undocumented = sorted(n for n in names if "${" + n + "}" not in docs and n not in docs)
    assert not undocumented


def test_baseline_records_the_back_catalogue(tmp_path: Path) -> None:
    hugo(tmp_path)
    code, out = init(tmp_path, "--yes")
    assert code == 0, out
    assert "baselined 3 post(s)" in out  # the draft is not published: it will go out when it is
    from syndicate.state.ledger import open_ledger

    config = load_config(tmp_path / "syndicate.toml", strict=False)
    ledger = open_ledger(config)
    # the published posts' files, seen; not the draft (it goes out when published), nor the bundle's resource
    assert {r.path for r in ledger.files().values()} == set(HUGO_POSTS)


def test_baseline_declined_records_nothing(tmp_path: Path) -> None:
    hugo(tmp_path)
    code, out = init(tmp_path, input="\nn\n")  # the URL's default, then no
    assert code == 0, out
    assert "baselined 3" not in out and "not baselined" in out
    assert not (tmp_path / ".syndicate").exists()


# --- other shapes of the same generators ----------------------------------------------------------------------


def test_eleventy_classic_layout(tmp_path: Path) -> None:
    write(tmp_path, {  # input ".", posts/posts.json tags them, the site URL in _data/site.json
        ".eleventy.js": "module.exports = function(eleventyConfig) { return { passthroughFileCopy: true }; };\n",
        "_data/site.json": '{"title": "Mine", "url": "https://classic.example.org"}',
        "posts/posts.json": '{"layout": "post.njk", "tags": "posts"}',
        "posts/2020-01-01-new-year.md": yaml_post("New year", None),
        "posts/second.md": yaml_post("Second"),
        "index.md": yaml_post("Home", None),
        "about.md": yaml_post("About", None),
        "README.md": "# readme\n",
        "_includes/post.njk": "layout",
        "node_modules/some-theme/posts/demo.md": yaml_post("Demo"),
    })
    code, out = init(tmp_path, "--yes")
    assert code == 0, out
    assert found(tmp_path) == {"posts/2020-01-01-new-year.md", "posts/second.md"}
    assert site(tmp_path)["url"] == "https://classic.example.org"


def test_jekyll_collections_dir(tmp_path: Path) -> None:
    write(tmp_path, {
        "_config.yml": "url: https://coll.example.org\ncollections_dir: my_collections\n",
        "my_collections/_posts/2024-05-05-a.md": yaml_post("A", None),
        "my_collections/_drafts/b.md": yaml_post("B", None),
        "_posts/2010-01-01-ignored-by-jekyll.md": yaml_post("Old", None),
        "about.md": yaml_post("About", None),
    })
    code, out = init(tmp_path, "--yes")
    assert code == 0, out
    assert found(tmp_path) == {"my_collections/_posts/2024-05-05-a.md"}


def test_astro_site_from_a_constant_and_collection_folders(tmp_path: Path) -> None:
    write(tmp_path, {  # AstroPaper: site: SITE.website; Astro 4: every folder of src/content is a collection
        "astro.config.ts": 'import { SITE } from "./src/config";\nexport default defineConfig({\n  site: SITE.website,\n});\n',
        "src/config.ts": 'export const SITE = {\n  website: "https://paper.example.dev/",\n  author: "Me",\n};\n',
        "src/content/config.ts": "const posts = defineCollection({ type: 'content' });\nexport const collections = { posts };\n",
        "src/content/posts/adding-posts.md": yaml_post("Adding", extra="pubDatetime: 2024-01-01T00:00:00Z\n"),
        "src/content/posts/2024/second.mdx": yaml_post("Second", extra="pubDatetime: 2024-02-01T00:00:00Z\n"),
        "src/content/posts/_releases/v1.md": yaml_post("Release", extra="pubDatetime: 2024-02-01T00:00:00Z\n"),
        "src/content/posts/_partial.md": "a partial, not an entry\n",
        "src/pages/about.md": yaml_post("About", None),
        "src/pages/posts/[slug]/index.astro": "---\nconst posts = await getCollection('posts');\n---\n",
    })
    code, out = init(tmp_path, "--yes")
    assert code == 0, out
    assert site(tmp_path)["url"] == "https://paper.example.dev"
    # a legacy collection: Astro leaves out the files and folders named _x
    assert found(tmp_path) == {"src/content/posts/adding-posts.md", "src/content/posts/2024/second.mdx"}


def test_next_blog_starter_needs_a_url(tmp_path: Path) -> None:
    write(tmp_path, {  # vercel's blog-starter: _posts/*.md served by app/posts/[slug]/page.tsx, no site URL
        "next.config.mjs": "const nextConfig = { trailingSlash: true };\nexport default nextConfig;\n",
        "package.json": '{"name": "starter", "repository": {"url": "https://github.com/me/starter"}}',
        ".env.production": "BASE_URL=http://localhost:3000\n",  # neither is the site's URL
        "_posts/hello-world.md": yaml_post("Hello"),
        "_posts/dynamic-routing.md": yaml_post("Dynamic"),
        "src/app/posts/[slug]/page.tsx": "export default function Post() {}",
        "src/app/page.tsx": "export default function Index() {}",
        "README.md": "# blog starter\n",
        "node_modules/next/dist/docs/readme.md": yaml_post("Docs"),
    })
    code, out = init(tmp_path, "--yes")
    assert code == 2 and "--url" in out
    code, out = init(tmp_path, "--yes", "--url", "https://starter.example.com")
    assert code == 0, out
    assert found(tmp_path) == {"_posts/hello-world.md", "_posts/dynamic-routing.md"}
    assert site(tmp_path)["permalink"] == "/posts/:slug/"
    config = load_config(tmp_path / "syndicate.toml", strict=False, readonly=True)
    from syndicate.content.loader import load_post

    assert load_post(tmp_path / "_posts/hello-world.md", config.site).url == \
        "https://starter.example.com/posts/hello-world/"


def test_a_site_with_no_post_yet_gets_the_usual_folder(tmp_path: Path) -> None:
    write(tmp_path, {"hugo.toml": 'baseURL = "https://new.example.org/"\n', "content/_index.md": toml_post("Home", None)})
    code, out = init(tmp_path, "--yes")
    assert code == 0, out
    assert site(tmp_path)["content"] == ["content/posts/**/*.md"]
    assert "no post found yet" in out


def test_an_unreadable_generator_config_is_a_clear_refusal(tmp_path: Path) -> None:
    write(tmp_path, {"_config.yml": "title: [unclosed\n", "_posts/2024-01-01-a.md": yaml_post("A", None)})
    code, out = init(tmp_path, "--yes", "--url", "https://x.example.org")
    assert code == 2
    assert "_config.yml" in out and "Traceback" not in out
    assert not (tmp_path / "syndicate.toml").exists()


def test_hugo_a_language_with_its_own_content_dir(tmp_path: Path) -> None:
    write(tmp_path, {
        "hugo.toml": 'baseURL = "https://two.example.org/"\n[languages.en]\nweight = 1\n'
                     '[languages.fr]\ncontentDir = "content/fr"\n',
        "content/posts/a.md": toml_post("A"),
        "content/fr/posts/a.md": toml_post("A fr"),
        "content/fr/pages/mentions.md": toml_post("Mentions", None),
        "content/about.md": toml_post("About", None),
    })
    code, out = init(tmp_path, "--yes")
    assert code == 0, out
    assert found(tmp_path) == {"content/posts/a.md", "content/fr/posts/a.md"}


def test_a_git_repository_is_told_to_ignore_the_data_folder(tmp_path: Path) -> None:
    hugo(tmp_path)
    (tmp_path / ".git").mkdir()
    code, out = init(tmp_path, "--yes")
    assert code == 0, out
    assert "add it to .gitignore" in out


def test_the_baseline_is_the_default_answer(tmp_path: Path) -> None:
    zola(tmp_path)
    code, out = init(tmp_path, input="\n\n")  # the URL found, then Enter: yes
    assert code == 0, out
    assert "baselined 2 post(s)" in out
    assert site(tmp_path)["url"] == URLS["zola"]


def test_a_hugo_bundle_resource_is_no_post_for_the_other_commands(tmp_path: Path) -> None:
    hugo(tmp_path)
    init(tmp_path, "--yes")
    result = CliRunner().invoke(app, ["preview", str(tmp_path / "content/posts/trip/map-notes.md"), "--config",
                                      str(tmp_path / "syndicate.toml")], env={"COLUMNS": "300"})
    assert result.exit_code == 2
    assert "not a post of this site" in result.output and "leaf bundle" in result.output


@pytest.mark.parametrize(("ssg", "static"), [("hugo", ["static"]), ("astro", ["public"]), ("zola", [])])
def test_static_folders_the_generator_serves(tmp_path: Path, ssg: str, static: list[str]) -> None:
    SITES[ssg](tmp_path)
    init(tmp_path, "--yes")
    assert site(tmp_path).get("static", []) == static


def test_hugo_posts_one_level_down(tmp_path: Path) -> None:
    write(tmp_path, {  # one language folder, not declared: its blog section is still found
        "hugo.toml": 'baseURL = "https://one.example.org/"\n',
        "content/en/_index.md": toml_post("Home", None),
        "content/en/about.md": toml_post("About", "2020-01-01"),
        "content/en/blog/a.md": toml_post("A"),
        "content/en/blog/b.md": toml_post("B"),
    })
    code, out = init(tmp_path, "--yes")
    assert code == 0, out
    assert found(tmp_path) == {"content/en/blog/a.md", "content/en/blog/b.md"}
