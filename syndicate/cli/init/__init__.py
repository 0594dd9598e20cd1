"""`syndicate init`: a commented syndicate.toml for the site here, then the baseline it offers.

`ssg` (Hugo, Zola, Jekyll) and `ssgjs` (Astro, Eleventy, Gatsby, Next.js) read each generator's own
config for the site's URL and the folders its posts are in; `writer` writes the commented file;
`run` detects, asks, writes and loads the file back to count the posts.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from syndicate.cli.app import _fail, app
from syndicate.cli.send import baseline
from syndicate.errors import ConfigError
from syndicate.triggers.output import say


@app.command()
def init(
    path: Optional[Path] = typer.Argument(None, help="the site's folder (default: the current one)"),
    url: Optional[str] = typer.Option(None, "--url", help="the site's public URL (default: the generator's config)"),
    yes: bool = typer.Option(False, "--yes", "-y", help="take every default and ask nothing (for scripts)"),
    force: bool = typer.Option(False, "--force", help="replace an existing syndicate.toml"),
) -> None:
    """Write a commented syndicate.toml for the site here (generator, posts, URL), then offer a baseline."""
    from syndicate.cli.init.run import run
    from syndicate.config import CONFIG_NAME

    root = (path or Path.cwd()).resolve()
    if not root.is_dir():
        raise _fail(f"{path}: no such folder")
    target = root / CONFIG_NAME
    if target.exists() and not force:
        raise _fail(f"{target}: already exists; nothing was written (--force replaces it)")
    try:
        written = run(root, target, url=url, yes=yes)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    code = 0
    if written.posts and (yes or typer.confirm(
            f"Record the {written.posts} post(s) already published as known, so the first run does not send "
            "them to every platform?", default=True)):
        try:
            baseline(paths=None, since=None, config_path=target, as_json=False, no_progress=False)
        except typer.Exit as exc:
            code = exc.exit_code or 0  # 1: a post could not be read (said above); the rest are recorded
        say("  the ledger knows these posts now: once a target is set up, only posts added or edited from now "
            "on go out")
    elif written.posts:
        say("  not baselined: a first `syndicate watch` with more than [watch] first_run_limit due posts refuses "
            "until told --baseline or --backfill")
    ignore = root / ".gitignore"
    if (root / ".syndicate").is_dir() and (root / ".git").exists() and ".syndicate" not in (
            ignore.read_text(encoding="utf-8", errors="replace") if ignore.is_file() else ""):
        say("  the data folder .syndicate/ is beside the config: add it to .gitignore")
    say("next: uncomment a target in ", str(target), ", export its variable, then `syndicate watch`")
    raise typer.Exit(code)
