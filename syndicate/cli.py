"""The `syndicate` command: push, preview, status, retry, resolve, watch, baseline, serve, worker, beat.

Exit codes: 0 all done, 1 some (post, target) failed, 2 usage or config error.
Human output is Rich; every piece of text that comes from a post, a path or a
message is passed as plain `Text`, never as markup, so brackets print as
written. `--json` is for scripts. Heavy modules (SQLAlchemy, Celery, Pillow,
the connectors) are imported only by the commands that need them.
"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from syndicate import __version__
from syndicate.errors import ConfigError, SyndicateError

if TYPE_CHECKING:
    from rich.console import Console

    from syndicate.config import Config
    from syndicate.runner import Outcome, Syndicator

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Cross-post your site's posts, exactly once.")
log = logging.getLogger("syndicate")

ConfigOpt = typer.Option(None, "--config", "-c", help="syndicate.toml (default: $SYNDICATE_CONFIG, then the nearest upward)")
JsonOpt = typer.Option(False, "--json", help="machine-readable output")
ToOpt = typer.Option(None, "--to", "-t", help="only this target (repeatable)")

_consoles: dict[tuple[bool, int], Console] = {}
STYLES = {"create": "green", "update": "yellow", "delete": "red", "repost": "yellow", "error": "red",
          "check": "magenta", "done": "green", "failed": "red", "deferred": "yellow", "waiting": "yellow",
          "published": "green", "creating": "yellow", "baseline": "cyan", "deleted": "dim", "skipped": "red"}


def _console(stderr: bool = False) -> Console:
    key = (stderr, id(sys.stderr if stderr else sys.stdout))  # a new stream (a test runner's) gets its own
    if key not in _consoles:
        from rich.console import Console

        _consoles[key] = Console(stderr=stderr, soft_wrap=True, highlight=False)
    return _consoles[key]


def say(*chunks: Any, stderr: bool = False) -> None:
    """Print `chunks` (plain strings, or (text, style) pairs) with no markup parsing at all."""
    from rich.text import Text

    line = Text()
    for chunk in chunks:
        if isinstance(chunk, tuple):
            line.append(str(chunk[0]), style=chunk[1])
        else:
            line.append(str(chunk))
    _console(stderr).print(line)


def _fail(message: str, code: int = 2, label: str = "error") -> typer.Exit:
    say((f"{label}: ", "red"), message, stderr=True)
    return typer.Exit(code)


class _Collect(logging.Handler):
    """Warnings logged during a command, so that `--json` carries them too."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


_logged = _Collect()


def _config(path: Optional[Path], *, strict: bool) -> Config:
    from syndicate.config import find_config, load_config

    try:
        config = load_config(find_config(path), strict=strict)
    except ConfigError as exc:
        raise _fail(str(exc), label="config error") from None
    if strict:  # a sending run: the others still go out
        for name, reason in config.skipped.items():
            log.warning("targets.%s is skipped: %s", name, reason)
    return config


def _syndicator(config: Config, *, readonly: bool = False) -> Syndicator:
    from syndicate.runner import Syndicator

    try:
        return Syndicator(config, readonly=readonly)
    except ConfigError as exc:
        raise _fail(str(exc), label="config error") from None


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
            raise _fail(f"{raw}: no such file or folder")
    seen: set[Path] = set()
    return [p for p in files if not (p in seen or seen.add(p))]  # type: ignore[func-returns-value]


def _load(files: list[Path], config: Config) -> tuple[list[Any], list[tuple[Path, str]]]:
    from syndicate.loader import load_post

    posts, errors = [], []
    for path in files:
        try:
            posts.append(load_post(path, config.site))
        except SyndicateError as exc:
            errors.append((path, str(exc)))
        except OSError as exc:
            errors.append((path, f"{path}: cannot read: {exc.strerror}"))
    return posts, errors


def _post_json(post: Any) -> dict[str, Any]:
    return {
        "id": post.id, "path": str(post.path), "title": post.title, "slug": post.slug, "url": post.url,
        "date": post.date.isoformat() if post.date else None,
        "updated": post.updated.isoformat() if post.updated else None,
        "tags": post.tags, "categories": post.categories, "summary": post.excerpt,
        "cover": ({"src": post.cover.src, "url": post.cover.url, "alt": post.cover.alt} if post.cover else None),
        "lang": post.lang, "series": post.series, "authors": post.authors, "draft": post.draft,
        "hidden": post.hidden,
    }


def _preview_target(syn: Syndicator, post: Any, target: str, force: bool = False) -> dict[str, Any]:
    p = syn.plan_for(post, target, force=force)
    requests = syn.requests(p)
    return {"action": p.action, "reason": syn.redact(p.reason), "request": requests[0] if requests else None,
            "requests": requests, "warnings": [syn.redact(w) for w in p.warnings]}


def _previews(syn: Syndicator, posts: list[Any], targets: list[str], force: bool = False) -> list[dict[str, Any]]:
    return [{"post": _post_json(post), "targets": {t: _preview_target(syn, post, t, force) for t in targets}}
            for post in posts]


def _errors_json(errors: list[tuple[Path, str]]) -> list[dict[str, str]]:
    return [{"path": str(p), "error": e} for p, e in errors]


def _emit_json(payload: Any) -> None:
    print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


def _print_preview(res: dict[str, Any]) -> None:
    from rich.rule import Rule
    from rich.text import Text

    post = res["post"]
    title = Text(post["title"], style="bold")
    title.append("  " + post["url"], style="dim")
    _console().print(Rule(title))
    for name, entry in res["targets"].items():
        say((name, "bold"), ": ", (entry["action"], STYLES.get(entry["action"], "dim")), " — ", entry["reason"])
        for req in entry.get("requests") or []:
            say(f"  {req['method']} {req['url']}")
            lines = json.dumps(req.get("json"), ensure_ascii=False, indent=2).splitlines()
            for line in lines[:40]:
                say("    " + line)
            if len(lines) > 40:
                say("    …")
        for w in entry.get("warnings") or []:
            say("  ", ("warning: ", "yellow"), w)


def _print_errors(errors: list[tuple[Path, str]]) -> None:
    for _path, message in errors:
        say(("skipped ", "red"), message, stderr=True)


def _targets(syn: Syndicator, to: Optional[list[str]]) -> list[str]:
    try:
        return syn.targets_for(to)
    except KeyError as exc:
        raise _fail(str(exc.args[0])) from None


def _version(value: bool) -> None:
    if value:
        print(f"syndicate {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="print the version and exit")) -> None:
    """Cross-post your site's posts, exactly once."""


@app.command()
def preview(
    paths: list[Path] = typer.Argument(..., help="post files or folders"),
    to: Optional[list[str]] = ToOpt,
    config_path: Optional[Path] = ConfigOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Show the exact requests each target would get. Nothing is sent or recorded."""
    config = _config(config_path, strict=False)
    syn = _syndicator(config, readonly=True)
    targets = _targets(syn, to)
    posts, errors = _load(_collect(paths, config), config)
    results = _previews(syn, posts, targets)
    if as_json:
        _emit_json({"posts": results, "errors": _errors_json(errors), "log": _logged.messages})
    else:
        for res in results:
            _print_preview(res)
        _print_errors(errors)
    raise typer.Exit(2 if errors and not posts else 0)


@app.command()
def push(
    paths: Optional[list[Path]] = typer.Argument(None, help="post files or folders"),
    to: Optional[list[str]] = ToOpt,
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="show what would be sent; send nothing"),
    force: bool = typer.Option(False, "--force", help="send even if unchanged since the last push"),
    config_path: Optional[Path] = ConfigOpt,
    as_json: bool = JsonOpt,
    apply_deletes: bool = typer.Option(False, "--apply-deletes",
                                       help="carry out the deletions the watcher's mass-change guard holds"),
) -> None:
    """Publish or update now (queued to the workers when a broker is configured)."""
    if apply_deletes:
        _apply_deletes(config_path)
    if not paths:
        raise _fail("name the post files or folders to push (or --apply-deletes)")
    config = _config(config_path, strict=not dry_run)
    syn = _syndicator(config, readonly=dry_run)
    targets = _targets(syn, to)
    posts, errors = _load(_collect(paths, config), config)
    if dry_run:
        results = _previews(syn, posts, targets, force)
        if as_json:
            _emit_json({"posts": results, "errors": _errors_json(errors), "log": _logged.messages})
        else:
            for res in results:
                _print_preview(res)
            _print_errors(errors)
            say((f"\ndry run: {len(posts)} post(s) × {len(targets)} target(s); nothing was sent", "dim"))
        failed = any(e["action"] == "error" for r in results for e in r["targets"].values())
        raise typer.Exit(1 if errors or failed else 0)

    if config.broker:
        from syndicate.tasks import check_broker, configure, enqueue

        configure(config)
        problem = check_broker()
        if problem:
            raise _fail(f"the broker {syn.redact(_safe_url(config.broker))} does not answer ({problem}); "
                        "start it, or remove [queue] broker to run in-process")
        queued = enqueue(syn, posts, targets, force=force)
        if as_json:
            _emit_json({"queued": queued, "errors": _errors_json(errors), "log": _logged.messages})
        else:
            for q in queued:
                say(q["status"] + " ", q["post"], " → ", q["target"], f" ({q['detail']})")
            _print_errors(errors)
        raise typer.Exit(1 if errors or any(q["status"] == "failed" for q in queued) else 0)

    outcomes = [syn.run_inline(post, target, force=force) for post in posts for target in targets]
    _report(outcomes, errors, as_json)
    unfinished = [o for o in outcomes if o.status in ("failed", "waiting", "check")]
    raise typer.Exit(1 if unfinished or errors else 0)


def _report(outcomes: list[Outcome], errors: list[tuple[Path, str]], as_json: bool) -> None:
    if as_json:
        _emit_json({"results": [o.as_dict() for o in outcomes], "errors": _errors_json(errors),
                    "log": _logged.messages})
        return
    from rich.table import Table
    from rich.text import Text

    table = Table("post", "target", "action", "result", "detail")
    table.columns[0].overflow = "fold"
    table.columns[4].overflow = "fold"
    for o in outcomes:
        detail = o.error or o.remote_url or o.reason
        table.add_row(Text(o.path), Text(o.target), Text(o.action), Text(o.status, style=STYLES.get(o.status, "dim")),
                      Text(detail or ""))
    _console().print(table)
    shown: set[tuple[str, str]] = set()
    for o in outcomes:
        for w in o.warnings:
            if (o.path, w) not in shown:  # a post's own warnings once, not once per target
                shown.add((o.path, w))
                say(("warning ", "yellow"), o.path, ": ", w)
    _print_errors(errors)


def _skipped_rows(config: Config) -> list[dict[str, Any]]:
    """A row per target that a sending run leaves out (its credentials are missing here), for `status`."""
    return [{"post_id": None, "path": None, "target": name, "state": "skipped", "remote_id": None, "remote_url": None,
             "attempts": 0, "last_error": None, "error_kind": None, "reason": reason, "deferred_until": None,
             "defer_reason": None, "updated_at": None} for name, reason in config.skipped.items()]


_STATE_NOTES = {
    "creating": "outcome unknown: the next attempt looks before it creates",
    "check": "outcome unknown and the platform cannot be searched: look, then `syndicate resolve`",
    "baseline": "known, never sent",
    "skipped": "the whole target: nothing is sent to it",
}


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
            "last_error": r.last_error, "error_kind": r.error_kind, "reason": r.reason,
            "deferred_until": r.deferred_until.isoformat() if r.deferred_until else None,
            "defer_reason": r.defer_reason,
            "updated_at": r.updated_at.isoformat() if r.updated_at else None,
        }
        for r in rows
    ]
    data[:0] = _skipped_rows(config)
    if as_json:
        _emit_json(data)
        raise typer.Exit(0)
    if not data:
        say(("nothing recorded yet", "dim"))
        raise typer.Exit(0)
    from rich.table import Table
    from rich.text import Text

    table = Table("post", "target", "state", "remote / detail")
    table.columns[0].overflow = "fold"
    table.columns[3].overflow = "fold"
    for d in data:
        state = str(d["state"])
        style = STYLES.get(state, "dim")
        if state in _STATE_NOTES:
            state += f" ({_STATE_NOTES[state]})"
        if d["state"] == "published" and d["last_error"]:
            style, state = "red", "published, last update failed"
            detail = f"{d['remote_url']} — {d['last_error']}"
        elif d["state"] == "failed":
            detail = str(d["last_error"] or "")
        elif d["state"] == "deferred":
            detail = f"until {d['deferred_until']}: {d['defer_reason']}"
        elif d["state"] in ("check", "deleted", "baseline", "skipped"):
            detail = str(d["reason"] or d["last_error"] or "")
        else:
            detail = str(d["remote_url"] or d["last_error"] or "")
        table.add_row(Text(str(d["path"] or d["post_id"] or "(every post)")), Text(str(d["target"])),
                      Text(state, style=style), Text(detail))
    _console().print(table)
    _held_note(ledger)


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

        try:
            post = load_post(config.site.root / (row.post_path or ""), config.site)
        except (SyndicateError, OSError) as exc:
            failures += 1
            results.append({"path": row.post_path, "target": row.target, "status": "failed", "error": str(exc)})
            continue
        outcome = syn.run_inline(post, row.target)
        failures += outcome.status in ("failed", "waiting", "check")
        results.append(outcome.as_dict())
    if as_json:
        _emit_json(results)
    else:
        for r in results:
            say(f"{r.get('path')} → {r.get('target')}: ", (str(r.get("status")), STYLES.get(str(r.get("status")), "")),
                " ", str(r.get("error") or r.get("remote_url") or ""))
        if not results:
            say(("nothing to retry", "dim"))
    raise typer.Exit(1 if failures else 0)


@app.command()
def resolve(
    path: Path = typer.Argument(..., help="the post whose outcome you checked"),
    target: str = typer.Option(..., "--target", "-t", help="the target you checked"),
    remote_url: Optional[str] = typer.Option(None, "--url", help="the copy you found (its URL)"),
    remote_id: Optional[str] = typer.Option(None, "--id", help="the copy's id on the platform, if known"),
    not_posted: bool = typer.Option(False, "--not-posted", help="you looked: there is no copy; create it again"),
    config_path: Optional[Path] = ConfigOpt,
) -> None:
    """Settle a `check` row after looking on the platform: the copy exists (--url), or not (--not-posted)."""
    if bool(remote_url or remote_id) == not_posted:
        raise _fail("say what you found: --url URL (and --id ID) for a copy that exists, or --not-posted")
    config = _config(config_path, strict=False)
    posts, errors = _load(_collect([path], config), config)
    if errors or not posts:
        raise _fail(errors[0][1] if errors else f"{path}: not a post")
    from syndicate.ledger import Ledger

    ledger = Ledger(config.state_url)
    row = ledger.get(posts[0].id, target)
    if row is None or row.state != "check":
        raise _fail(f"{path} → {target} is not waiting for a check (state: {row.state if row else 'none'})")
    ledger.resolve(posts[0].id, target, found=not not_posted, remote_id=remote_id, remote_url=remote_url)
    say(f"{path} → {target}: ", ("published" if remote_url or remote_id else "will be created again", "green"))


def _since(value: Optional[str]) -> Any:
    if value is None:
        return None
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(f"--since {value!r}: not a date (YYYY-MM-DD)") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _watcher(config_path: Optional[Path], **kwargs: Any) -> Any:
    from syndicate.watch import Watcher

    config = _config(config_path, strict=True)
    if config.broker:
        from syndicate.tasks import check_broker, configure

        configure(config)
        problem = check_broker()
        if problem:
            raise _fail(f"the broker {_safe_url(config.broker)} does not answer ({problem}); "
                        "start it, or remove [queue] broker to run in-process")
    return Watcher(config, syn=_syndicator(config), echo=lambda line: say(line), **kwargs)


@app.command()
def watch(
    once: bool = typer.Option(False, "--once", help="one reconcile scan, applied, then exit (cron, CI)"),
    backfill: bool = typer.Option(False, "--backfill", help="first start: send every existing post"),
    baseline_: bool = typer.Option(False, "--baseline", help="first start: record existing posts, send none"),
    since: Optional[str] = typer.Option(None, "--since", help="with --baseline: only posts dated before DATE"),
    config_path: Optional[Path] = ConfigOpt,
) -> None:
    """Follow the site's files: new, edited, moved, unpublished and deleted posts reach every target."""
    from syndicate.watch import Refused

    if backfill and baseline_:
        raise _fail("--backfill or --baseline, not both")
    if since and not baseline_:
        raise _fail("--since goes with --baseline")
    w = _watcher(config_path, first_run="backfill" if backfill else "baseline" if baseline_ else None,
                 since=_since(since))
    try:
        if once:
            w.reconcile(first=True)
            raise typer.Exit(1 if w.failures else 0)
        raise typer.Exit(w.run())
    except Refused as exc:
        raise _fail(str(exc), label="refused") from None


@app.command()
def baseline(
    paths: Optional[list[Path]] = typer.Argument(None, help="post files or folders (default: the whole site)"),
    since: Optional[str] = typer.Option(None, "--since", help="only posts dated before DATE"),
    config_path: Optional[Path] = ConfigOpt,
) -> None:
    """Record existing posts as known without sending them; later edits of them are not sent either."""
    from syndicate.watch import baseline as mark

    w = _watcher(config_path)
    config = w.config
    if paths:
        files = _collect(paths, config)
        scan = w.scanner.scan(files)
    else:
        scan = w.scanner.scan()
    kept = mark(w.syn, [f.post for f in scan.changed], w.targets, since=_since(since))
    sent = {f.path for f in scan.changed if f.post.id not in kept}
    scan.put = [r for r in scan.put if r.path not in sent]  # not baselined: the watcher still sends them
    scan.vanished, scan.due = [], []
    w.syn.ledger.put_files(scan.put)
    _print_errors([(Path(p), e) for p, e in scan.errors])
    say(f"baselined {len(kept)} post(s) × {len(w.targets)} target(s): known, never sent")
    raise typer.Exit(1 if scan.errors else 0)


def _apply_deletes(config_path: Optional[Path]) -> None:
    w = _watcher(config_path)
    count = w.apply_held()
    if not count:
        say(("no held deletions", "dim"))
    raise typer.Exit(1 if w.failures else 0)


def _held_note(ledger: Any) -> None:
    from syndicate.reconcile import GONE, HELD

    rows = ledger.files().values()
    held = [r.path for r in rows if r.size == HELD]
    waiting = [r.path for r in rows if r.size == GONE]
    if held:
        say((f"{len(held)} deletion(s) held by the mass-change guard", "red"),
            " (run `syndicate push --apply-deletes` to carry them out): ", ", ".join(held))
    if waiting:
        say((f"{len(waiting)} deletion(s) in their grace period", "yellow"), ": ", ", ".join(waiting))


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="the address to listen on"),
    port: int = typer.Option(8080, "--port", help="the port to listen on"),
    proxy_headers: bool = typer.Option(False, "--proxy-headers",
                                       help="honour X-Forwarded-* from [webhook] trusted_proxies only"),
    config_path: Optional[Path] = ConfigOpt,
) -> None:
    """Serve the git host's push webhook: each push syncs exactly what it changed (docs/webhook.md)."""
    import uvicorn

    from syndicate.webhook import Service, create_app

    config = _config(config_path, strict=True)
    if config.webhook is None:
        raise _fail("no [webhook] section: `serve` needs at least secret and repo (docs/webhook.md)")
    if config.broker:
        from syndicate.tasks import check_broker, configure

        configure(config)
        problem = check_broker()
        if problem:
            raise _fail(f"the broker {_safe_url(config.broker)} does not answer ({problem}); "
                        "start it, or remove [queue] broker to sync in this process")
    service = Service(config)  # a clear error before listening: no git, an empty secret, an unknown branch
    say(f"serving the webhook for {service.name} ({service.branch}) on http://{host}:{port}/hooks/HOST")
    trusted = ",".join(config.webhook.trusted_proxies)
    uvicorn.run(create_app(service=service), host=host, port=port, proxy_headers=proxy_headers,
                forwarded_allow_ips=trusted if proxy_headers else "", access_log=False,
                log_level="warning", server_header=False, lifespan="on")


def _worker_app(config_path: Optional[Path]) -> Any:
    import os

    config = _config(config_path, strict=True)
    if not config.broker:
        raise _fail("no broker: set [queue] broker in syndicate.toml or $SYNDICATE_BROKER_URL")
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
    if beat:
        argv += ["-B", f"--schedule={_beat_schedule(celery_app)}"]
    celery_app.worker_main(argv)


@app.command()
def beat(
    loglevel: str = typer.Option("info", "--loglevel", "-l"),
    config_path: Optional[Path] = ConfigOpt,
) -> None:
    """Run the periodic jobs: enqueue deferred rows and future posts when they become due."""
    celery_app = _worker_app(config_path)
    celery_app.start(["beat", f"--loglevel={loglevel}", f"--schedule={_beat_schedule(celery_app)}"])


def _beat_schedule(celery_app: Any) -> str:
    """The beat's schedule file, in the data directory (never inside a read-only site)."""
    from syndicate.tasks import _shared

    config = _shared["config"]
    folder = Path(config.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / "celerybeat-schedule")


def _safe_url(url: str) -> str:
    """A URL without its password, for messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        host = parts.hostname or ""
        netloc = f"{parts.username}:****@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().addHandler(_logged)
    try:
        app()
    except SyndicateError as exc:  # anything that escaped a command is still a clear message, not a traceback
        say(("error: ", "red"), str(exc), stderr=True)
        sys.exit(2 if isinstance(exc, ConfigError) else 1)


if __name__ == "__main__":
    main()
