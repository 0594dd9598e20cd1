"""The `syndicate` command: push, preview, status, retry, worker, beat.

Exit codes: 0 all done, 1 some (post, target) failed, 2 usage or config error.
Human output is Rich tables; `--json` is for scripts.
"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from syndicate.config import Config, ConfigError, find_config, load_config

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Cross-post your site's posts, exactly once.")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
log = logging.getLogger("syndicate")

ConfigOpt = typer.Option(None, "--config", "-c", help="syndicate.toml (default: $SYNDICATE_CONFIG, then the nearest upward)")
JsonOpt = typer.Option(False, "--json", help="machine-readable output")
ToOpt = typer.Option(None, "--to", "-t", help="only this target (repeatable)")


class Exit(typer.Exit):
    pass


def _config(path: Optional[Path], *, strict: bool) -> Config:
    try:
        return load_config(find_config(path), strict=strict)
    except ConfigError as exc:
        err.print(f"[red]config error:[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(2) from None


def _collect(paths: list[Path], config: Config) -> list[Path]:
    """Files named, and the content files inside folders named."""
    from syndicate.loader import discover

    files: list[Path] = []
    content = None
    for raw in paths:
        path = raw.resolve()
        if path.is_dir():
            if content is None:
                content = [p.resolve() for p in discover(config)]
            inside = [p for p in content if p.is_relative_to(path)]
            if not inside:
                inside = sorted(p for ext in ("*.md", "*.mdx", "*.markdown") for p in path.rglob(ext))
            files.extend(inside)
        elif path.is_file():
            files.append(path)
        else:
            err.print(f"[red]error:[/red] {raw}: no such file or folder", highlight=False)
            raise typer.Exit(2)
    seen: set[Path] = set()
    return [p for p in files if not (p in seen or seen.add(p))]


def _load(files: list[Path], config: Config) -> tuple[list[Any], list[tuple[Path, str]]]:
    from syndicate.loader import load_post
    from syndicate.post import PostError

    posts, errors = [], []
    for path in files:
        try:
            posts.append(load_post(path, config.site))
        except PostError as exc:
            errors.append((path, str(exc)))
    return posts, errors


def _post_json(post: Any) -> dict[str, Any]:
    return {
        "id": post.id,
        "path": str(post.path),
        "title": post.title,
        "slug": post.slug,
        "url": post.url,
        "date": post.date.isoformat() if post.date else None,
        "updated": post.updated.isoformat() if post.updated else None,
        "tags": post.tags,
        "categories": post.categories,
        "summary": post.excerpt,
        "cover": ({"src": post.cover.src, "url": post.cover.url, "alt": post.cover.alt} if post.cover else None),
        "lang": post.lang,
        "series": post.series,
        "authors": post.authors,
        "draft": post.draft,
        "hidden": post.hidden,
    }


def _preview_target(syn: Any, post: Any, target: str, force: bool = False) -> dict[str, Any]:
    from syndicate.runner import Redactor

    redact: Redactor = syn.redact
    conn = syn.connector(target)
    p = syn.plan_for(post, target, force=force)
    entry: dict[str, Any] = {"action": p.action, "reason": p.reason, "request": None, "warnings": p.warnings}
    if p.draft is not None:
        from syndicate.contract import Remote

        remote = None
        if p.action == "update" and p.row is not None and p.row.remote_id:
            remote = Remote(p.row.remote_id, p.row.remote_url, p.row.remote_extra)
        req = conn.preview(p.draft, remote)
        entry["request"] = json.loads(redact(json.dumps({"method": req.method, "url": req.url, "json": req.json})))
    return entry


@app.command()
def preview(
    paths: list[Path] = typer.Argument(..., help="post files or folders"),
    to: Optional[list[str]] = ToOpt,
    config_path: Optional[Path] = ConfigOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Show what would be sent to each target. Nothing is sent or recorded."""
    config = _config(config_path, strict=False)
    syn = _syndicator(config)
    targets = _targets(syn, to)
    posts, errors = _load(_collect(paths, config), config)
    results = [
        {"post": _post_json(post), "targets": {t: _preview_target(syn, post, t) for t in targets}} for post in posts
    ]
    if as_json:
        payload: Any = results[0] if len(results) == 1 and not errors else {
            "posts": results, "errors": [{"path": str(p), "error": e} for p, e in errors]}
        out.print_json(data=payload) if sys.stdout.isatty() else print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        for res in results:
            _print_preview(res)
        _print_errors(errors)
    raise typer.Exit(2 if errors and not posts else 0)


def _print_preview(res: dict[str, Any]) -> None:
    post = res["post"]
    out.rule(f"[bold]{post['title']}[/bold]  [dim]{post['url']}[/dim]")
    for name, entry in res["targets"].items():
        colour = {"create": "green", "update": "yellow", "delete": "red"}.get(entry["action"], "dim")
        out.print(f"[bold]{name}[/bold]: [{colour}]{entry['action']}[/{colour}] — {entry['reason']}", highlight=False)
        req = entry.get("request")
        if req:
            out.print(f"  {req['method']} {req['url']}", highlight=False, markup=False)
            body = json.dumps(req["json"], ensure_ascii=False, indent=2)
            lines = body.splitlines()
            shown = "\n".join("    " + line for line in lines[:40])
            out.print(shown + ("\n    …" if len(lines) > 40 else ""), highlight=False, markup=False)
        for w in entry.get("warnings") or []:
            out.print(f"  [yellow]warning:[/yellow] {w}", highlight=False)


def _print_errors(errors: list[tuple[Path, str]]) -> None:
    for path, message in errors:
        err.print(f"[red]skipped[/red] {message}", highlight=False)


def _syndicator(config: Config) -> Any:
    from syndicate.runner import Syndicator

    return Syndicator(config)


def _targets(syn: Any, to: Optional[list[str]]) -> list[str]:
    try:
        return syn.targets_for(to)
    except KeyError as exc:
        err.print(f"[red]error:[/red] {exc.args[0]}", highlight=False)
        raise typer.Exit(2) from None


@app.command()
def push(
    paths: list[Path] = typer.Argument(..., help="post files or folders"),
    to: Optional[list[str]] = ToOpt,
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="show what would be sent; send nothing"),
    force: bool = typer.Option(False, "--force", help="send even if unchanged since the last push"),
    config_path: Optional[Path] = ConfigOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Publish or update now (queued to the workers when a broker is configured)."""
    config = _config(config_path, strict=not dry_run)
    syn = _syndicator(config)
    targets = _targets(syn, to)
    posts, errors = _load(_collect(paths, config), config)
    if dry_run:
        results = [{"post": _post_json(p), "targets": {t: _preview_target(syn, p, t, force) for t in targets}}
                   for p in posts]
        if as_json:
            print(json.dumps({"posts": results, "errors": [{"path": str(p), "error": e} for p, e in errors]},
                             ensure_ascii=False, indent=2))
        else:
            for res in results:
                _print_preview(res)
            _print_errors(errors)
            out.print(f"\n[dim]dry run: {len(posts)} post(s) × {len(targets)} target(s); nothing was sent[/dim]")
        raise typer.Exit(1 if errors else 0)

    if config.broker:
        from syndicate.tasks import enqueue

        queued = enqueue(syn, posts, targets, force=force)
        rows = [{"post": q[0], "target": q[1], "task": q[2]} for q in queued]
        if as_json:
            print(json.dumps({"queued": rows, "errors": [{"path": str(p), "error": e} for p, e in errors]}, indent=2))
        else:
            for r in rows:
                out.print(f"queued {r['post']} → {r['target']} ({r['task']})", highlight=False)
            _print_errors(errors)
        raise typer.Exit(1 if errors else 0)

    outcomes = [syn.run_inline(post, target, force=force) for post in posts for target in targets]
    failed = [o for o in outcomes if o.status == "failed"] or errors
    if as_json:
        print(json.dumps({"results": [o.as_dict() for o in outcomes],
                          "errors": [{"path": str(p), "error": e} for p, e in errors]}, ensure_ascii=False, indent=2))
    else:
        table = Table("post", "target", "action", "result", "detail")
        for o in outcomes:
            colour = {"done": "green", "failed": "red", "deferred": "yellow"}.get(o.status, "dim")
            detail = o.error or o.remote_url or o.reason
            table.add_row(o.path, o.target, o.action, f"[{colour}]{o.status}[/{colour}]", detail)
        out.print(table)
        for o in outcomes:
            for w in o.warnings:
                out.print(f"[yellow]warning[/yellow] {o.path} → {o.target}: {w}", highlight=False)
        _print_errors(errors)
    raise typer.Exit(1 if failed else 0)


@app.command()
def status(
    paths: Optional[list[Path]] = typer.Argument(None, help="only these posts"),
    config_path: Optional[Path] = ConfigOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Each post × target: state, remote URL, last error."""
    config = _config(config_path, strict=False)
    from syndicate.ledger import Ledger

    ledger = Ledger(config.state_url)
    ids = None
    if paths:
        posts, errors = _load(_collect(paths, config), config)
        _print_errors(errors)
        ids = [p.id for p in posts]
    rows = ledger.all(ids)
    data = [
        {
            "post_id": r.post_id, "path": r.post_path, "target": r.target, "state": r.state,
            "remote_id": r.remote_id, "remote_url": r.remote_url, "attempts": r.attempts,
            "last_error": r.last_error, "error_kind": r.error_kind,
            "deferred_until": r.deferred_until.isoformat() if r.deferred_until else None,
            "defer_reason": r.defer_reason,
            "updated_at": r.updated_at.isoformat() if r.updated_at else None,
        }
        for r in rows
    ]
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        raise typer.Exit(0)
    table = Table("post", "target", "state", "remote / detail")
    for d in data:
        colour = {"published": "green", "failed": "red", "deferred": "yellow", "creating": "yellow"}.get(d["state"], "dim")
        state = d["state"] + (" (outcome unknown)" if d["state"] == "creating" else "")
        if d["state"] == "published" and d["last_error"]:
            colour, state = "red", "published, last update failed"
            d["remote_url"] = f"{d['remote_url']} — {d['last_error']}"
        if d["state"] == "failed":
            detail = d["last_error"] or ""
        elif d["state"] == "deferred":
            detail = f"until {d['deferred_until']}: {d['defer_reason']}"
        else:
            detail = d["remote_url"] or d["last_error"] or ""
        table.add_row(d["path"] or d["post_id"], d["target"], f"[{colour}]{state}[/{colour}]", detail)
    out.print(table if data else "[dim]nothing recorded yet[/dim]")


@app.command()
def retry(
    paths: Optional[list[Path]] = typer.Argument(None, help="only these posts"),
    target: Optional[list[str]] = typer.Option(None, "--target", "-t", help="only this target (repeatable)"),
    failed: bool = typer.Option(False, "--failed", help="only rows that failed (default: failed and deferred)"),
    config_path: Optional[Path] = ConfigOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Re-queue failed (and deferred) rows; runs them in-process without a broker."""
    config = _config(config_path, strict=True)
    syn = _syndicator(config)
    states = ["failed"] if failed else ["failed", "deferred", "creating"]
    ids = None
    if paths:
        posts, errors = _load(_collect(paths, config), config)
        _print_errors(errors)
        ids = [p.id for p in posts]
    rows = [r for r in syn.ledger.all(ids, states) if not target or r.target in target]
    results: list[dict[str, Any]] = []
    failures = 0
    for row in rows:
        if row.target not in config.targets:
            continue
        if row.state != "creating":  # `creating` keeps its unknown outcome: find() runs first
            values: dict[str, Any] = {"deferred_until": None, "defer_reason": None}
            if config.broker:
                values["state"] = "queued"
            syn.ledger.update(row.post_id, row.target, **values)
        if config.broker:
            from syndicate.tasks import configure, publish

            configure(config)
            res = publish.delay(row.post_path or "", row.post_id, row.target, False)
            results.append({"path": row.post_path, "target": row.target, "status": "queued", "task": res.id})
            continue
        from syndicate.loader import load_post
        from syndicate.post import PostError

        try:
            post = load_post(config.site.root / (row.post_path or ""), config.site)
        except (PostError, OSError) as exc:
            failures += 1
            results.append({"path": row.post_path, "target": row.target, "status": "failed", "error": str(exc)})
            continue
        outcome = syn.run_inline(post, row.target)
        failures += outcome.status == "failed"
        results.append(outcome.as_dict())
    if as_json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        for r in results:
            out.print(f"{r.get('path')} → {r.get('target')}: {r.get('status')} {r.get('error') or r.get('remote_url') or ''}",
                      highlight=False)
        if not results:
            out.print("[dim]nothing to retry[/dim]")
    raise typer.Exit(1 if failures else 0)


def _worker_app(config_path: Optional[Path]) -> Any:
    import os

    config = _config(config_path, strict=True)
    if not config.broker:
        err.print("[red]error:[/red] no broker: set [queue] broker in syndicate.toml or $SYNDICATE_BROKER_URL")
        raise typer.Exit(2)
    if config.path:
        os.environ["SYNDICATE_CONFIG"] = str(config.path)  # for the pool's child processes
    from syndicate.tasks import configure

    return configure(config)


@app.command()
def worker(
    pool: str = typer.Option("threads", help="threads (default: the tasks wait on HTTP), prefork, solo"),
    concurrency: int = typer.Option(16, "--concurrency", "-C", help="tasks at once"),
    beat: bool = typer.Option(False, "--beat", "-B", help="also run the periodic jobs"),
    loglevel: str = typer.Option("info", "--loglevel", "-l"),
    config_path: Optional[Path] = ConfigOpt,
) -> None:
    """Start a Celery worker (the same as `celery -A syndicate.tasks worker`)."""
    celery_app = _worker_app(config_path)
    argv = ["worker", f"--pool={pool}", f"--concurrency={concurrency}", f"--loglevel={loglevel}"]
    celery_app.worker_main(argv + (["-B"] if beat else []))


@app.command()
def beat(
    loglevel: str = typer.Option("info", "--loglevel", "-l"),
    config_path: Optional[Path] = ConfigOpt,
) -> None:
    """Run the periodic jobs: enqueue deferred rows and future posts when they become due."""
    celery_app = _worker_app(config_path)
    celery_app.start(["beat", f"--loglevel={loglevel}", "--schedule=/tmp/syndicate-beat-schedule"])


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":
    main()
