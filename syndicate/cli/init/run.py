"""`syndicate init`, the part between the command line and the file: detect, ask, write, prove it loads.

`detect` tries each generator's reader in turn (`syndicate.cli.init.ssg`: Hugo, Zola,
Jekyll, in the loader's own order; `syndicate.cli.init.ssgjs`: Astro, Eleventy, Gatsby, Next.js).

The file written is loaded back with `syndicate.config.load_config` and the
loader's own discovery lists what it finds, so what `init` reports is what
every later command will see. A file that would not load is removed again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import typer
from pydantic_core import PydanticCustomError

from syndicate.cli.init.ssg import SKIP_DIRS, USUAL, ZOLA_FILES, Plan, content_globs, hugo_or_zola, jekyll
from syndicate.cli.init.ssgjs import CONFIG_FILES, astro, eleventy, gatsby, nextjs
from syndicate.cli.init.writer import render
from syndicate.config import ConfigError
from syndicate.config.schema import _http_url
from syndicate.content.permalinks import _HUGO_FILES as HUGO_FILES
from syndicate.content.resolve import DEFAULT_STATIC
from syndicate.registry import load_config
from syndicate.triggers.output import say


@dataclass
class Written:
    """What `init` wrote and what the loader then finds with it."""

    plan: Plan
    path: Path
    posts: int = 0  # live posts (not drafts, not hidden): what a baseline records
    files: list[Path] = field(default_factory=list)  # every file the globs take


def detect(root: Path) -> Plan:
    """The site at `root`, read by its generator's rules; `ConfigError` when it is no site we know."""
    root = root.resolve()
    for finder in (hugo_or_zola, jekyll, astro, eleventy, gatsby, nextjs):
        plan = finder(root)
        if plan is not None:
            if not plan.static:  # the folders the generator serves at the site root, those that exist
                served = ("public",) if plan.ssg == "next" else DEFAULT_STATIC.get(plan.ssg, DEFAULT_STATIC[None])
                plan.static = [d for d in served if d != "." and (root / d).is_dir()]
            if not plan.content:  # no post yet: the generator's usual folder
                folder = USUAL[plan.ssg]
                plan.content = content_globs(root, [folder], (".md",))
                plan.notes.append(f"no post found yet: {folder}/ is where {plan.label} sites usually keep them")
            return plan
    known = "Hugo (hugo.toml, config.toml...), Jekyll (_config.yml), Zola (config.toml with base_url), " \
            "Astro (astro.config.*), Eleventy (.eleventy.js, eleventy.config.*), Gatsby (gatsby-config.*), " \
            "Next.js (next.config.*)"
    below = sorted(child.name for child in root.iterdir() if child.is_dir() and not child.name.startswith(".")
                   and child.name not in SKIP_DIRS and _has_config(child))
    hint = f"; {', '.join(below)} below has one: run `syndicate init {below[0]}`" if below else ""
    raise ConfigError(f"{root}: not a site folder: no generator config found (looked for {known}){hint}")


def _has_config(folder: Path) -> bool:
    """Whether `folder` holds a generator's config file (a site kept in a subfolder of a repository)."""
    return any((folder / name).is_file() for name in (*HUGO_FILES, *ZOLA_FILES, "_config.yml", "_config.yaml",
                                                      *CONFIG_FILES))


def check_url(value: str, where: str) -> str:
    """`value` as [site] url takes it, or a `ConfigError` naming `where` it came from."""
    try:
        return _http_url(value.strip())
    except PydanticCustomError as exc:
        allowed = exc.context.get("allowed") if exc.context else None
        raise ConfigError(f"{where}: {value!r} is {exc.message()}" + (f" (allowed: {allowed})" if allowed else "")) \
            from None


def run(root: Path, target: Path, *, url: str | None, yes: bool) -> Written:
    """Detect the site at `root`, settle its URL, write `target` and load it back."""
    plan = detect(root)
    say(("found: ", "bold"), f"{plan.label} site ({plan.config_file})")
    url_from: str | None = "--url"
    if url is not None:
        site_url = check_url(url, "--url")
        url_from = None
    elif plan.url and yes:
        site_url, url_from = check_url(plan.url, plan.url_from or plan.config_file), plan.url_from
    elif yes:
        raise ConfigError(f"{plan.config_file} names no site URL (http:// or https://); pass --url https://...")
    else:
        answer = typer.prompt("The site's public URL", default=plan.url or None)
        site_url = check_url(answer, "the site's URL")
        url_from = plan.url_from if plan.url and answer.strip().rstrip("/") == plan.url else None
    text = render(plan, site_url, url_from)
    target.write_text(text, encoding="utf-8")
    try:
        written = _prove(plan, target)
    except Exception:
        target.unlink(missing_ok=True)
        raise
    say(("wrote: ", "bold"), str(target))
    say("  posts: ", ", ".join(plan.content), f" → {len(written.files)} file(s), {written.posts} published")
    if plan.left_out:
        say("  left out: ", ", ".join(dict.fromkeys(plan.left_out)))
    if not written.files:
        say(("warning: ", "yellow"), "no post found yet; edit [site] content if your posts live elsewhere")
    return written


def _prove(plan: Plan, target: Path) -> Written:
    """Load the file as every command does and list the posts its globs take."""
    from syndicate.content.loader import discover, load_post
    from syndicate.content.post import PostError
    from syndicate.state.ledger import utcnow

    try:
        config = load_config(target, strict=False, readonly=True)
    except ConfigError as exc:
        raise ConfigError(f"the config written does not load ({exc}); nothing was kept") from None
    files = discover(config)
    now, live = utcnow(), 0
    for path in files:  # the front matter is enough to tell a published post (no body is rendered)
        try:
            post = load_post(path, config.site, light=True)
        except (PostError, OSError):
            continue
        live += post.visible_at(now) is None and post.due(now)
    return Written(plan, target, posts=live, files=files)
