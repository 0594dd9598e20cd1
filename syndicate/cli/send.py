"""The commands that send or record one run: preview, push, retry, resolve, baseline."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from syndicate.triggers import output
from syndicate.triggers.output import STYLES, emit_json, emit_results, errors_json, say

if TYPE_CHECKING:
    from syndicate.engine.runner import Syndicator
from syndicate.cli.app import (
    AllOpt,
    ConfigOpt,
    JsonOpt,
    NoProgressOpt,
    ToOpt,
    _collect,
    _config,
    _console,
    _exit,
    _fail,
    _known_targets,
    _ledger,
    _load,
    _logged,
    _safe_url,
    _since,
    _syndicator,
    _targets,
    _watcher,
    app,
    log,
)


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


def _previews(syn: Syndicator, posts: list[Any], targets: list[str], force: bool = False) -> Iterator[dict[str, Any]]:
    """Each post's preview in turn: printed as it comes, a site's worth of requests is never held at once."""
    for post in posts:
        yield {"post": _post_json(post), "targets": {t: _preview_target(syn, post, t, force) for t in targets}}


def _print_preview(res: dict[str, Any]) -> None:
    from rich.rule import Rule
    from rich.text import Text

    post = res["post"]
    title = Text(post["title"], style="bold")
    title.append("  " + post["url"], style="dim")
    if _console().is_terminal:
        _console().print(Rule(title))
    else:  # piped: a rule would cut the title and its URL to the width
        _console().print(Text("── ", style="dim") + title, crop=False)
    for name, entry in res["targets"].items():
        say((name, "bold"), ": ", (entry["action"], STYLES.get(entry["action"], "dim")), " — ", entry["reason"])
        for req in entry.get("requests") or []:
            lines = json.dumps(req.get("json"), ensure_ascii=False, indent=2).splitlines()
            block = [f"  {req['method']} {req['url']}", *("    " + line for line in lines[:40])]
            if len(lines) > 40:
                block.append("    …")
            say("\n".join(block))  # one print of the request (a print per line was most of a preview's work)
        for w in entry.get("warnings") or []:
            own = f"{name}: "  # the target is named above
            say("  ", ("warning: ", "yellow"), output.bounded(w[len(own):] if w.startswith(own) else w))


@app.command()
def preview(
    paths: list[Path] = typer.Argument(..., help="post files or folders"),
    to: Optional[list[str]] = ToOpt,
    config_path: Optional[Path] = ConfigOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Show the exact requests each target would get. Nothing is sent or recorded."""
    config = _config(config_path, strict=False, near=paths, readonly=True)
    syn = _syndicator(config, readonly=True)
    targets = _targets(syn, to, sending=False)
    posts, errors = _load(_collect(paths, config), config)
    results = _previews(syn, posts, targets)
    if as_json:
        emit_json({"posts": list(results), "errors": errors_json(errors), "log": _logged.messages})
    else:
        for res in results:
            _print_preview(res)
        output.errors(errors)
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
    show_all: bool = AllOpt,
    now: bool = typer.Option(False, "--now", help="send rows a platform deferred (Retry-After) without waiting"),
    no_progress: bool = NoProgressOpt,
) -> None:
    """Publish or update now (queued to the workers when a broker is configured)."""
    if apply_deletes:
        _apply_deletes(config_path)
    if not paths:
        raise _fail("name the post files or folders to push (or --apply-deletes)")
    config = _config(config_path, strict=not dry_run, near=paths, readonly=dry_run)
    syn = _syndicator(config, readonly=dry_run)
    targets = _targets(syn, to, sending=not dry_run)
    posts, errors = _load(_collect(paths, config), config)
    if dry_run:
        rows: list[tuple[str, str]] = []
        if as_json:
            results = list(_previews(syn, posts, targets, force))
            rows = _plan_rows(results)
            emit_json({"posts": results, "errors": errors_json(errors), "log": _logged.messages})
        else:
            for res in _previews(syn, posts, targets, force):
                rows.extend(_plan_rows([res]))
                if show_all or not _unchanged(res):
                    _print_preview(res)
            output.errors(errors)
            say((f"dry run, nothing was sent: {output.plan_summary(rows)}", "bold"))
        raise _exit(posts, errors, any(action == "error" for action, _reason in rows))

    if now:
        _undefer(syn, posts, targets)
    if config.broker:
        from syndicate.engine.tasks import check_broker, configure, enqueue

        configure(config)
        problem = check_broker()
        if problem:
            raise _fail(f"the broker {syn.redact(_safe_url(config.broker))} does not answer ({problem}); "
                        "start it, or remove [queue] broker to run in-process")
        from kombu.exceptions import OperationalError

        from syndicate.engine.plan import target_warnings

        for post in posts:  # the workers plan the rest; a post opted out by a typo must still be told
            for warning in target_warnings(post.control, syn.target_types):
                log.warning("%s: %s", syn.relpath(post), warning)
        try:
            queued = _queued(enqueue(syn, posts, targets, force=force))
        except OperationalError as exc:  # the broker went away after the check
            raise _fail(f"the broker {syn.redact(_safe_url(config.broker))} stopped answering while queueing "
                        f"({exc}); run the push again when it is back: nothing is sent twice", code=1) from None
        _report(queued, errors, as_json, show_all)
        raise _exit(posts, errors, any(q["status"] == "failed" for q in queued))

    from syndicate.engine import inline
    from syndicate.triggers import progress

    # a long run only: several posts (one post is done before a bar would help)
    tracker = progress.tracker("push", as_json=as_json, enabled=not no_progress and len(posts) > 1)
    tracker.expect(targets, len(posts))
    with tracker:
        run = inline.run(syn, posts, targets, force=force, on_result=tracker.done)
    if run.stop.ledger and as_json:
        _logged.messages.append(run.stop.ledger)
    _report([o.as_dict() for o in run.outcomes], errors, as_json, show_all)
    if run.stop.ledger and not as_json:
        say(("error: ", "red"), run.stop.ledger, stderr=True)
    if run.stop.reason == inline.INTERRUPTED:
        raise typer.Exit(130)
    unfinished = [o for o in run.outcomes if o.status in ("failed", "waiting", "check", "left", "interrupted")]
    raise _exit(posts, errors, bool(unfinished))


def _undefer(syn: Syndicator, posts: list[Any], targets: list[str]) -> None:
    """`push --now`: the rows a platform deferred (a 429's Retry-After) are sent without waiting."""
    from syndicate.engine.plan import held_until
    from syndicate.state.ledger import utcnow

    now = utcnow()
    lifted: set[str] = set()
    for post in posts:
        for target in targets:
            row = syn.ledger.get(post.id, target)
            if held_until(row, now) is not None:
                syn.ledger.update(post.id, target, deferred_until=None, defer_reason=None)
                lifted.add(target)
    for target in lifted:  # and the pause the platform's Retry-After set in the client-side limiter
        throttle = syn.connector(target).throttle
        if throttle is not None and hasattr(throttle, "lift"):
            throttle.lift()


def _report(results: list[dict[str, Any]], errors: list[tuple[Path, str]], as_json: bool,
            show_all: bool = False) -> None:
    """The results of a run: `--json`, or the table (changes only unless `show_all`) and the summary."""
    if as_json:
        emit_results(results, errors, _logged.messages)
        return
    output.results(results, show_all=show_all)
    output.errors(errors)


def _queued(queued: list[dict[str, str]]) -> list[dict[str, Any]]:
    """`tasks.enqueue`'s answers as results (path, target, action, status, reason or task)."""
    return [{"path": q["post"], "target": q["target"], "action": q.get("action", ""), "status": q["status"],
             ("task" if q["status"] == "queued" else "reason"): q["detail"]} for q in queued]


def _unchanged(preview: dict[str, Any]) -> bool:
    return all(e["action"] == "skip" and e["reason"] == "unchanged" for e in preview["targets"].values())


def _plan_rows(previews: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["action"], e["reason"]) for r in previews for e in r["targets"].values()]


@app.command()
def retry(
    paths: Optional[list[Path]] = typer.Argument(None, help="only these posts"),
    target: Optional[list[str]] = typer.Option(None, "--target", "-t", help="only this target (repeatable)"),
    failed: bool = typer.Option(False, "--failed", help="only rows that failed (default: failed and deferred)"),
    config_path: Optional[Path] = ConfigOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Re-queue failed (and deferred) rows; runs them in-process without a broker."""
    config = _config(config_path, strict=True, near=paths)
    _known_targets(config, target)
    syn = _syndicator(config)
    ids = None
    errors: list[tuple[Path, str]] = []
    if paths:
        posts, errors = _load(_collect(paths, config), config)
        ids = [p.id for p in posts]
    from syndicate.engine.retry import retry_candidates, retry_rows

    results, failures = retry_rows(config, syn, retry_candidates(syn, ids, target, failed_only=failed))
    if results or as_json:
        _report(results, errors, as_json, show_all=True)
    else:
        output.errors(errors)
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
    as_json: bool = JsonOpt,
) -> None:
    """Settle a `check` row after looking on the platform: the copy exists (--url), or not (--not-posted)."""
    if bool(remote_url or remote_id) == not_posted:
        raise _fail("say what you found: --url URL (and --id ID) for a copy that exists, or --not-posted")
    config = _config(config_path, strict=False, near=[path])
    _known_targets(config, [target])
    posts, errors = _load(_collect([path], config), config)
    if errors or not posts:
        raise _fail(errors[0][1] if errors else f"{path}: not a post")
    ledger = _ledger(config)
    row = ledger.get(posts[0].id, target)
    if row is None or row.state != "check":
        raise _fail(f"{path} → {target} is not waiting for a check (state: {row.state if row else 'none'})")
    ledger.resolve(posts[0].id, target, found=not not_posted, remote_id=remote_id, remote_url=remote_url)
    found = bool(remote_url or remote_id)
    result = {"post_id": posts[0].id, "path": row.post_path or str(path), "target": target, "action": "resolve",
              "status": "done", "reason": "published: the copy exists" if found else "not posted: created again next",
              "remote_url": remote_url}
    if as_json:
        emit_results([result], [], _logged.messages)
        return
    say(f"{path} → {target}: ", ("published" if found else "will be created again", "green"))


@app.command()
def baseline(
    paths: Optional[list[Path]] = typer.Argument(None, help="post files or folders (default: the whole site)"),
    since: Optional[str] = typer.Option(None, "--since", help="only posts dated before DATE"),
    config_path: Optional[Path] = ConfigOpt,
    as_json: bool = JsonOpt,
    no_progress: bool = NoProgressOpt,
) -> None:
    """Record existing posts as known without sending them; later edits of them are not sent either."""
    from syndicate.triggers import progress
    from syndicate.triggers.watch import baseline as mark
    from syndicate.triggers.watch import baselined

    w = _watcher(config_path, near=paths)
    config = w.config
    if paths:
        files = _collect(paths, config)
        scan = w.scanner.scan(files)
    else:
        scan = w.scanner.scan()
    tracker = progress.tracker("baseline", as_json=as_json, enabled=not no_progress and len(scan.changed) > 1)
    tracker.expect(w.targets, len(scan.changed))
    with tracker:
        kept = mark(w.syn, [f.post for f in scan.changed], w.targets, since=_since(since), on_result=tracker.done)
    sent = {f.path for f in scan.changed if f.post.id not in kept}
    scan.put = [r for r in scan.put if r.path not in sent]  # not baselined: the watcher still sends them
    scan.vanished, scan.due = [], []
    w.syn.ledger.put_files(scan.put)
    errors = [(Path(p), e) for p, e in scan.errors]
    if as_json:
        emit_results(baselined(w.syn, [f.post for f in scan.changed if f.post.id in kept], w.targets), errors,
                     _logged.messages)
    else:
        output.errors(errors)
        say(f"baselined {len(kept)} post(s) × {len(w.targets)} target(s): known, never sent")
    raise typer.Exit(1 if scan.errors else 0)


def _apply_deletes(config_path: Optional[Path]) -> None:
    w = _watcher(config_path)
    count = w.apply_held()
    if not count:
        say(("no held deletions", "dim"))
    raise typer.Exit(1 if w.failures else 0)
