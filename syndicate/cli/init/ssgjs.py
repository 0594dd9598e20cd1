"""`syndicate init` for the JavaScript generators: Astro, Eleventy, Gatsby and Next.js.

Their config is JavaScript, read with patterns (never run): Astro's `site` and
content collections (`syndicate.content.routes`), Eleventy's `dir.input` and the
directory data file that tags the posts, Gatsby's `siteMetadata.siteUrl` and
`gatsby-source-filesystem` folders, Next.js's posts folder and `[slug]` route.
"""
from __future__ import annotations

import posixpath
import re
from pathlib import Path

from syndicate.cli.init.ssg import (
    POST_FOLDERS,
    URL_LITERAL,
    Plan,
    choose,
    content_globs,
    first_file,
    js_value,
    named_folders,
    other_folders,
    post_files,
    probe,
    read_small,
    walk,
)
from syndicate.content.routes import read_astro, read_gatsby

_ASTRO = ("astro.config.mjs", "astro.config.ts", "astro.config.js", "astro.config.mts", "astro.config.cjs")
_ELEVENTY = (".eleventy.js", ".eleventy.cjs", "eleventy.config.js", "eleventy.config.mjs", "eleventy.config.cjs",
             "eleventy.config.ts")
_GATSBY = ("gatsby-config.js", "gatsby-config.ts", "gatsby-config.mjs")
_NEXT = ("next.config.js", "next.config.mjs", "next.config.ts", "next.config.cjs")
CONFIG_FILES = (*_ASTRO, *_ELEVENTY, *_GATSBY, *_NEXT)
_INPUT = re.compile(r"""\binput\s*:\s*['"`]([^'"`]+)['"`]""")
_INCLUDES = re.compile(r"""\b(includes|layouts|data)\s*:\s*['"`]([^'"`]+)['"`]""")
_TAGS = re.compile(r"""["']?tags["']?\s*[:=]\s*(\[[^\]]*\]|["'][^"']*["'])""")
_TRAILING = re.compile(r"\btrailingSlash\s*:\s*true\b")


# --- Astro --------------------------------------------------------------------------------------------------------


def astro(root: Path) -> Plan | None:
    name = first_file(root, _ASTRO)
    if name is None:
        return None
    plan = Plan("astro", "Astro", name)
    text = read_small(root / name) or ""
    m = re.search(rf"\bsite\s*:\s*{URL_LITERAL}", text)
    if m:
        plan.url, plan.url_from = m.group(1).rstrip("/"), f"{name} site"
    else:  # `site: SITE.website`, the value in src/config.ts or src/consts.ts (AstroPaper and others)
        ref = re.search(r"\bsite\s*:\s*[\w.]*?(\w+)\s*[,}\n]", text)
        if ref:
            files = tuple(f"src/{n}.{e}" for n in ("config", "consts", "constants", "site.config", "site")
                          for e in ("ts", "js", "mjs"))
            got = js_value(root, files, (ref.group(1), "website", "site", "url", "siteUrl"))
            if got:
                plan.url, plan.url_from = got[0].rstrip("/"), got[1]
    astro = read_astro(root)
    info = probe(root)
    colls = astro.collections
    served = {r.collection for r in astro.routes}
    names = [n for n in POST_FOLDERS if n in colls] or [n for n in colls if n in served]
    folders = [colls[n] for n in names if (root / colls[n]).is_dir()]
    if not folders:
        folders, left = choose(root, "src/content", info) if (root / "src/content").is_dir() else ([], [])
        plan.left_out += left
    if not folders:  # Markdown pages: src/pages/blog/*.md
        named = named_folders(root, "src/pages")
        folders = [f"src/pages/{n}" for n in named]
    if not folders:
        folders = ["src/content/blog"]
    plan.content = []
    for folder in folders:
        globs = content_globs(root, [folder], (".md", ".mdx"))
        if folder.startswith("src/content/") and folder.count("/") == 2 and not _glob_base(root, folder):
            # a collection without a glob() loader: Astro leaves out files and folders named _x (partials)
            globs = [g.replace("/**/*", "/[!_]*") for g in globs] + [g.replace("/**/*", "/[!_]*/**/[!_]*")
                                                                      for g in globs]
            plan.notes.append(f"{folder}: files and folders named _x are not entries (Astro's rule)")
        plan.content += globs
    plan.left_out += [colls[n] for n in colls if colls[n] not in folders and (root / colls[n]).is_dir()]
    routes = [r.file for r in astro.routes if r.collection in names]
    if routes:
        plan.permalink_from = f"the route {routes[0]}"
    return plan


def _glob_base(root: Path, folder: str) -> bool:
    """Whether a `glob()` loader names `folder` as its base (Astro 5's content layer)."""
    for name in ("src/content.config.ts", "src/content.config.js", "src/content.config.mjs",
                 "src/content/config.ts", "src/content/config.js", "src/content/config.mjs"):
        text = read_small(root / name)
        if text and re.search(rf"""\bbase\s*:\s*['"`](?:\./)?{re.escape(folder)}/?['"`]""", text):
            return True
    return False


# --- Eleventy -----------------------------------------------------------------------------------------------------


def eleventy(root: Path) -> Plan | None:
    name = first_file(root, _ELEVENTY)
    if name is None:
        return None
    plan = Plan("eleventy", "Eleventy", name)
    text = read_small(root / name) or ""
    m = _INPUT.search(text)
    source = m.group(1).strip().removeprefix("./").strip("/") if m else ""
    source = "" if source == "." else source
    dirs = {k: v.strip().removeprefix("./").strip("/") for k, v in _INCLUDES.findall(text)}
    data_dir = dirs.get("data", "_data")
    prefix = f"{source}/" if source else ""
    data_files = tuple(posixpath.normpath(f"{prefix}{data_dir}/{n}.{e}")
                       for n in ("metadata", "site", "siteData", "config") for e in ("json", "js", "cjs", "mjs"))
    got = js_value(root, data_files, ("url", "siteUrl", "baseUrl", "base_url"))
    if got:
        plan.url, plan.url_from = got[0].rstrip("/"), got[1]
    base = root / source if source else root
    tagged = []
    for data in sorted(walk(base)):
        if data.parent == base:
            continue
        folder = data.parent.name
        if data.name in (f"{folder}.json", f"{folder}.11tydata.json", f"{folder}.11tydata.js",
                         f"{folder}.11tydata.cjs", f"{folder}.11tydata.mjs"):
            tags = _TAGS.search(read_small(data) or "")
            if tags and re.search(r"\b(posts?|blog|articles?)\b", tags.group(1)):
                tagged.append(data.parent.relative_to(root).as_posix())
    if tagged:
        folders = tagged
        plan.notes.append("posts: the folder(s) whose directory data file tags them as posts ("
                          + ", ".join(f"{f}/{Path(f).name}.11tydata.*" for f in tagged) + ")")
    else:
        folders, left = choose(root, source or ".", probe(root))
        folders = [f.removeprefix("./") for f in folders]
        plan.left_out += left
    plan.content = content_globs(root, folders, (".md",))
    plan.left_out += [f for f in other_folders(root, source or ".", folders)
                      if Path(f).name not in (dirs.get("includes", "_includes"), dirs.get("layouts", ""), data_dir)]
    if len(folders) == 1:  # Eleventy serves a file at its path under the input folder
        under = (Path(folders[0]).relative_to(source) if source else Path(folders[0])).as_posix()
        plan.permalink = "/:filename/" if under in (".", "") else f"/{under.strip('/')}/:filename/"
        plan.permalink_from = "Eleventy's default: the file's path under the input folder"
    return plan


# --- Gatsby -------------------------------------------------------------------------------------------------------


def gatsby(root: Path) -> Plan | None:
    name = first_file(root, _GATSBY)
    if name is None:
        return None
    plan = Plan("gatsby", "Gatsby", name)
    got = js_value(root, (name,), ("siteUrl", "siteURL", "url"))
    if got:
        plan.url, plan.url_from = got[0].rstrip("/"), f"{name} siteMetadata.{got[1].split()[-1]}"
    gatsby = read_gatsby(root)
    sources = [s for s in gatsby.sources if (root / s).is_dir() and post_files(root / s)
               and not s.startswith("src/pages")]
    named = [s for s in sources if any(n in Path(s).parts for n in POST_FOLDERS)]
    folders = named or sources
    if not folders:
        folders, left = choose(root, "content", probe(root)) if (root / "content").is_dir() else (["content/blog"], [])
        plan.left_out += left
    plan.left_out += [s for s in sources if s not in folders]
    plan.content = content_globs(root, folders, (".md", ".mdx"))
    if gatsby.prefix or gatsby.sources:
        plan.permalink_from = "gatsby-node's createFilePath" + (f" under {gatsby.prefix}" if gatsby.prefix else "")
    return plan


# --- Next.js ------------------------------------------------------------------------------------------------------

_NEXT_FOLDERS = ("_posts", "posts", "content/posts", "content/blog", "data/blog", "data/posts", "src/content/posts",
                 "src/content/blog", "app/blog/posts", "src/app/blog/posts", "src/posts", "blog", "src/blog")
_NEXT_URL_FILES = ("data/siteMetadata.js", "data/siteMetadata.ts", "data/siteMetadata.mjs", "site.config.js",
                   "site.config.ts", "lib/constants.ts", "lib/constants.js", "src/config.ts", "src/config.js",
                   "config/site.ts", "config/site.js", "src/lib/constants.ts", "next-sitemap.config.js",
                   "app/sitemap.ts", "app/sitemap.js", ".env", ".env.production", "package.json")
_NEXT_ROUTE = re.compile(r"^(?:src/)?(app|pages)/(.*?)/?\[(?:\.\.\.)?(\w+)\](?:/page)?\.(?:tsx|jsx|ts|js|mdx)$")


def nextjs(root: Path) -> Plan | None:
    name = first_file(root, _NEXT)
    if name is None:
        return None
    plan = Plan("next", "Next.js", name)
    got = js_value(root, _NEXT_URL_FILES, ("siteUrl", "siteURL", "SITE_URL", "NEXT_PUBLIC_SITE_URL", "baseUrl",
                                           "BASE_URL", "homepage"))
    if got:
        plan.url, plan.url_from = got[0].rstrip("/"), got[1]
    folders = [f for f in _NEXT_FOLDERS if (root / f).is_dir() and post_files(root / f)]
    folders = [f for f in folders if not any(f.startswith(o + "/") for o in folders if o != f)]
    if not folders and (root / "content").is_dir():
        folders, left = choose(root, "content", probe(root))
        plan.left_out += left
    plan.content = content_globs(root, folders or ["posts"], (".md", ".mdx"))
    trailing = bool(_TRAILING.search(read_small(root / name) or ""))
    routes = []
    for kind in ("app", "pages", "src/app", "src/pages"):
        folder = root / kind
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            m = _NEXT_ROUTE.match(path.relative_to(root).as_posix())
            if m and m.group(3) in ("slug", "id", "post", "path"):
                prefix = "/".join(p for p in m.group(2).split("/") if p and not p.startswith("("))
                routes.append((prefix, path.relative_to(root).as_posix()))
    routes.sort(key=lambda r: (not any(n in r[0].split("/") for n in POST_FOLDERS), r[1]))
    if routes:
        prefix, file = routes[0]
        plan.permalink = "/" + (prefix + "/" if prefix else "") + ":slug" + ("/" if trailing else "")
        plan.permalink_from = f"the route {file}" + (" (trailingSlash: true)" if trailing else "")
    else:
        plan.notes.append("no dynamic route ([slug]) found under app/ or pages/: set permalink to your posts' URLs")
    plan.notes.append("drafts: front matter draft: true, published: false or status: draft are never sent")
    return plan
