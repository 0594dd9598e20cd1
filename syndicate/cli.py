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
from typer.core import TyperGroup

from syndicate import __version__
from syndicate.errors import ConfigError, SyndicateError
from syndicate.triggers import output
from syndicate.triggers.output import STYLES, console, emit_json, emit_results, errors_json, say

if TYPE_CHECKING:
    from syndicate.config import Config
    from syndicate.engine.runner import Syndicator


class _Group(TyperGroup):
    """The commands' `--help` lists flags bare: typer renders a `<bool>` type beside each one."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _bare_flags(command, ctx)
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _bare_flags(self, ctx)
        super().format_help(ctx, formatter)


def _bare_flags(command: Any, ctx: Any) -> None:
    for param in command.get_params(ctx):  # --help included: it is made on the first call
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""


app = typer.Typer(cls=_Group, add_completion=False, no_args_is_help=True,
                  help="Cross-post your site's posts, exactly once.")
log = logging.getLogger("syndicate")

ConfigOpt = typer.Option(None, "--config", "-c", metavar="FILE", help="syndicate.toml (default: $SYNDICATE_CONFIG, then the nearest upward)")
JsonOpt = typer.Option(False, "--json", help="machine-readable output")
ToOpt = typer.Option(None, "--to", "-t", metavar="TARGET", help="only this target (repeatable)")

_console = console  # the names the commands use
AllOpt = typer.Option(False, "--all", help="list unchanged posts too (default: only what changed, and a summary)")


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
_where = "the configured [state] url"  # the ledger, for the disk-full line (set once the config is read)


def _config(path: Optional[Path], *, strict: bool, near: Optional[list[Path]] = None,
            readonly: bool = False) -> Config:
    """The config by --config, $SYNDICATE_CONFIG, upward from here, else upward from the posts named.
    `readonly`: a command that writes nothing (not even the data folder)."""
    from syndicate.config import find_config
    from syndicate.content.permalinks import check_site
    from syndicate.registry import load_config

    global _where
    try:
        config = load_config(find_config(path, near=near or ()), strict=strict, readonly=readonly)
        check_site(config.site)  # the generator's own config: a URL pattern it cannot expand exits 2 here
    except ConfigError as exc:
        raise _fail(str(exc), label="config error") from None
    from syndicate.state.ledger.full import where

    _where = where(config.state_url)
    if strict:  # a sending run: the others still go out
        for name, reason in config.skipped.items():
            log.warning("targets.%s is skipped: %s", name, reason)
    return config


def _syndicator(config: Config, *, readonly: bool = False) -> Syndicator:
    from syndicate.engine.runner import Syndicator

    try:
        return Syndicator(config, readonly=readonly, ledger=None if readonly else _ledger(config))
    except ConfigError as exc:
        raise _fail(str(exc), label="config error") from None


def _ledger(config: Config) -> Any:
    """The site's ledger, opened before anything is done (another site's ledger is refused: exit 2)."""
    from syndicate.state.ledger import open_ledger

    try:
        return open_ledger(config)
    except ConfigError as exc:
        raise _fail(str(exc), label="config error") from None


def _collect(paths: list[Path], config: Config) -> list[Path]:
    """Files named, and the content files inside folders named."""
    from syndicate.content.loader import discover

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
    from syndicate.content.loader import in_content, load_post, unique

    posts, errors = [], []
    for path in files:
        if path.resolve().is_relative_to(config.site.root) and not in_content(path, config):
            globs = ", ".join(config.site.content)
            errors.append((path, f"{path}: not a post of this site: it matches none of [site] content ({globs}); "
                                 "list pages and hidden or build folders never count; refused"))
            continue
        try:
            posts.append(load_post(path, config.site))
        except SyndicateError as exc:
            errors.append((path, str(exc)))
        except OSError as exc:
            errors.append((path, f"{path}: cannot read: {exc.strerror}"))
    posts, clashes = unique(posts, config.site)  # two posts with one URL: neither is sent
    return posts, errors + [(path, str(exc)) for path, exc in clashes]


def _exit(posts: list[Any], errors: list[tuple[Path, str]], failed: bool) -> typer.Exit:
    """1 when something failed or was refused, 2 when nothing named could be used at all."""
    return typer.Exit(2 if errors and not posts else 1 if errors or failed else 0)


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
            say(f"  {req['method']} {req['url']}")
            lines = json.dumps(req.get("json"), ensure_ascii=False, indent=2).splitlines()
            for line in lines[:40]:
                say("    " + line)
            if len(lines) > 40:
                say("    …")
        for w in entry.get("warnings") or []:
            own = f"{name}: "  # the target is named above
            say("  ", ("warning: ", "yellow"), output.bounded(w[len(own):] if w.startswith(own) else w))


def _known_targets(config: Config, names: Optional[list[str]], *, sending: bool = True) -> None:
    """Exit 2 naming each target that is not configured, with the near miss; `sending`: a target
    skipped for want of credentials is an error too (a preview shows it, saying it would be skipped)."""
    from syndicate.config.describe import nearest

    skipped = [f"{n} is skipped: {config.skipped[n]}" for n in names or [] if n in config.skipped]
    if skipped and sending:  # named on purpose: an error, not a warning
        raise _fail("target " + "; ".join(skipped))
    unknown = [n for n in names or [] if n not in config.targets]
    if not unknown:
        return
    said = []
    for name in unknown:
        near = nearest(name, config.targets)
        said.append(f"{name} (did you mean {near}?)" if near else name)
    raise _fail(f"unknown target(s): {', '.join(said)}; configured: {', '.join(config.targets) or 'none'}")


def _targets(syn: Syndicator, to: Optional[list[str]], *, sending: bool = True) -> list[str]:
    _known_targets(syn.config, to, sending=sending)
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
    config = _config(config_path, strict=False, near=paths, readonly=True)
    syn = _syndicator(config, readonly=True)
    targets = _targets(syn, to, sending=False)
    posts, errors = _load(_collect(paths, config), config)
    results = _previews(syn, posts, targets)
    if as_json:
        emit_json({"posts": results, "errors": errors_json(errors), "log": _logged.messages})
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
        results = _previews(syn, posts, targets, force)
        if as_json:
            emit_json({"posts": results, "errors": errors_json(errors), "log": _logged.messages})
        else:
            for res in results:
                if show_all or not _unchanged(res):
                    _print_preview(res)
            output.errors(errors)
            say((f"dry run, nothing was sent: {output.plan_summary(_plan_rows(results))}", "bold"))
        failed = any(e["action"] == "error" for r in results for e in r["targets"].values())
        raise _exit(posts, errors, failed)

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

    run = inline.run(syn, posts, targets, force=force)
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


def _notice_rows(config: Config) -> list[dict[str, Any]]:
    """A row per target notice (token expiry, version sunset, spent budget), for `status`."""
    try:
        notices = _syndicator(config, readonly=True).notices()
    except Exception as exc:  # status still shows the rows
        log.warning("target notices could not be read: %s", type(exc).__name__)
        return []
    return [{"post_id": None, "path": None, "target": name, "state": "notice", "level": n.level, "remote_id": None,
             "remote_url": None, "attempts": 0, "last_error": None, "error_kind": None, "reason": n.message,
             "deferred_until": n.until.isoformat() if n.until else None, "defer_reason": None, "updated_at": None}
            for name, n in notices]


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
    config = _config(config_path, strict=False, near=paths, readonly=True)
    from syndicate.state.ledger.peek import peek_for

    peek = peek_for(config.state_url, config.site_id)
    if peek is not None and not peek.path.exists():  # nothing recorded: no ledger is made just to say so
        skipped = _skipped_rows(config) + _notice_rows(config)
        if as_json:
            emit_json(skipped)
        elif skipped:
            output.table(("post", "target", "state", "remote / detail"), [_status_row(d) for d in skipped])
        else:
            say(("nothing recorded yet", "dim"))
        raise typer.Exit(0)
    ledger = _ledger(config)
    ids = None
    if paths:
        posts, errors = _load(_collect(paths, config), config)
        output.errors(errors)
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
    _unsent_states(config, data)
    skipped = _skipped_rows(config) + _notice_rows(config)
    data[:0] = skipped
    if as_json:
        emit_json(data)
        raise typer.Exit(0)
    if not data:
        say(("nothing recorded yet", "dim"))
        raise typer.Exit(0)
    from syndicate.engine import lease

    output.table(("post", "target", "state", "remote / detail"),
                 [_status_row(d, lease.next_step(row, config) if row is not None and lease.unfinished(row) else None)
                  for row, d in zip([None] * len(skipped) + list(rows), data, strict=True)])
    _held_note(ledger)


def _status_row(d: dict[str, Any], next_step: str | None = None) -> list[tuple[str, str]]:
    """One row of `status`; `next_step`: for an unfinished row, who has it or when it is taken up again."""
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
        reason = str(d["defer_reason"] or "")
        detail = reason if reason.startswith("not due until") else f"until {d['deferred_until']}: {reason}"
    elif d["state"] in ("check", "deleted", "baseline", "draft", "hidden", "opted out", "skipped", "notice"):
        detail = str(d["reason"] or d["last_error"] or "")
        if d["state"] == "notice":
            state = str(d.get("level") or "info")
            style = {"error": "red", "warn": "yellow"}.get(state, "dim")
    elif next_step:  # who has it, or when the periodic job takes it up: never a stale promise
        detail = next_step
    else:
        detail = str(d["remote_url"] or d["last_error"] or "")
    return [(str(d["path"] or d["post_id"] or "(every post)"), ""), (str(d["target"]), ""), (state, style), (detail, "")]


def _unsent_states(config: Config, data: list[dict[str, Any]]) -> None:
    """A row never sent (`new`) says why from its post: `draft`, `hidden` (why) or `opted out`."""
    from syndicate.content.loader import load_post
    from syndicate.state.ledger import utcnow

    posts: dict[str, Any] = {}
    now = utcnow()
    for d in data:
        if d["state"] != "new" or not d["path"]:
            continue
        if d["path"] not in posts:
            try:
                posts[d["path"]] = load_post(config.site.root / d["path"], config.site)
            except (SyndicateError, OSError, UnicodeDecodeError):
                posts[d["path"]] = None
        post = posts[d["path"]]
        target = config.targets.get(d["target"])
        if post is None:
            continue
        hidden = post.visible_at(now)
        if post.draft:
            d["state"], d["reason"] = "draft", hidden or "draft"
        elif hidden:
            d["state"], d["reason"] = "hidden", hidden
        elif target is not None and not post.control.allows(target.name, target.type):
            d["state"], d["reason"] = "opted out", "opted out in front matter"


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
    states = ["failed"] if failed else ["failed", "deferred", "creating"]
    ids = None
    errors: list[tuple[Path, str]] = []
    if paths:
        posts, errors = _load(_collect(paths, config), config)
        ids = [p.id for p in posts]
    rows = [r for r in syn.ledger.all(ids, states) if not target or r.target in target]
    results: list[dict[str, Any]] = []
    failures = 0
    from syndicate.engine import lease

    for row in rows:
        if row.target not in config.targets:
            continue
        if lease.held(row.lease_owner, row.lease_until):  # someone is on it now: say who, and until when
            results.append({"path": row.post_path, "target": row.target, "status": "held",
                            "error": f"{lease.LEASED}: {lease.describe(row.lease_owner, row.lease_until)}"})
            continue
        if row.state != "creating":  # `creating` keeps its unknown outcome: find() runs first
            values: dict[str, Any] = {"deferred_until": None, "defer_reason": None}
            if config.broker:
                values["state"] = "queued"
            syn.ledger.update(row.post_id, row.target, **values)
        if config.broker:
            from syndicate.engine.tasks import configure, publish

            configure(config)
            res = publish.delay(row.post_path or "", row.post_id, row.target, False)
            results.append({"path": row.post_path, "target": row.target, "action": "retry", "status": "queued",
                            "task": res.id})
            continue
        from syndicate.content.loader import load_post

        try:
            post = load_post(config.site.root / (row.post_path or ""), config.site)
        except (SyndicateError, OSError) as exc:
            failures += 1
            results.append({"path": row.post_path, "target": row.target, "action": "retry", "status": "failed",
                            "error": str(exc)})
            continue
        outcome = syn.run_inline(post, row.target)
        failures += outcome.status in ("failed", "waiting", "check")
        results.append(outcome.as_dict())
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


def _since(value: Optional[str]) -> Any:
    if value is None:
        return None
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(f"--since {value!r}: not a date (YYYY-MM-DD)") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _watcher(config_path: Optional[Path], *, stderr: bool = False, near: Optional[list[Path]] = None,
             **kwargs: Any) -> Any:
    from syndicate.triggers.watch import Watcher

    config = _config(config_path, strict=True, near=near)
    if config.broker:
        from syndicate.engine.tasks import check_broker, configure

        configure(config)
        problem = check_broker()
        if problem:
            raise _fail(f"the broker {_safe_url(config.broker)} does not answer ({problem}); "
                        "start it, or remove [queue] broker to run in-process")
    return Watcher(config, syn=_syndicator(config), echo=lambda line: say(line, stderr=stderr), **kwargs)


@app.command()
def watch(
    once: bool = typer.Option(False, "--once", help="one reconcile scan, applied, then exit (cron, CI)"),
    backfill: bool = typer.Option(False, "--backfill", help="first start: send every existing post"),
    baseline_: bool = typer.Option(False, "--baseline", help="first start: record existing posts, send none"),
    since: Optional[str] = typer.Option(None, "--since", help="with --baseline: only posts dated before DATE"),
    config_path: Optional[Path] = ConfigOpt,
    as_json: bool = typer.Option(False, "--json", help="with --once: machine-readable output (the log on stderr)"),
) -> None:
    """Follow the site's files: new, edited, moved, unpublished and deleted posts reach every target."""
    from syndicate.triggers.watch import Refused

    if backfill and baseline_:
        raise _fail("--backfill or --baseline, not both")
    if since and not baseline_:
        raise _fail("--since goes with --baseline")
    if as_json and not once:
        raise _fail("--json goes with --once")
    w = _watcher(config_path, first_run="backfill" if backfill else "baseline" if baseline_ else None,
                 since=_since(since), stderr=as_json)
    try:
        if once:
            scan = w.reconcile(first=True)
            errors = [(Path(p), e) for p, e in scan.errors]
            if as_json:
                emit_results(w.results, errors, _logged.messages)
            else:
                say((output.summary(w.results), "bold"))
            # held deletions wait for a person (`push --apply-deletes`), as a failure does
            raise typer.Exit(1 if w.failures or scan.held else 0)
        raise typer.Exit(w.run())
    except Refused as exc:
        raise _fail(str(exc), label="refused") from None


@app.command()
def baseline(
    paths: Optional[list[Path]] = typer.Argument(None, help="post files or folders (default: the whole site)"),
    since: Optional[str] = typer.Option(None, "--since", help="only posts dated before DATE"),
    config_path: Optional[Path] = ConfigOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Record existing posts as known without sending them; later edits of them are not sent either."""
    from syndicate.triggers.watch import baseline as mark
    from syndicate.triggers.watch import baselined

    w = _watcher(config_path, near=paths)
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


def _held_note(ledger: Any) -> None:
    from syndicate.engine.reconcile import GONE, HELD

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
    from syndicate.triggers.webhook.app import Service, create_app
    from syndicate.triggers.webhook.guard import serve as run

    config = _config(config_path, strict=True)
    if config.webhook is None:
        raise _fail("no [webhook] section: `serve` needs at least secret and repo (docs/webhook.md)")
    if config.broker:
        from syndicate.engine.tasks import check_broker, configure

        configure(config)
        problem = check_broker()
        if problem:
            raise _fail(f"the broker {_safe_url(config.broker)} does not answer ({problem}); "
                        "start it, or remove [queue] broker to sync in this process")
    service = Service(config)  # a clear error before listening: no git, an empty secret, an unknown branch
    logging.getLogger("syndicate").setLevel(logging.INFO)  # each sync says what it sent
    say(f"serving the webhook for {service.name} ({service.branch}) on http://{host}:{port}/hooks/HOST")
    trusted = ",".join(config.webhook.trusted_proxies)
    run(create_app(service=service), service.guard, host=host, port=port, proxy_headers=proxy_headers,
        trusted=trusted if proxy_headers else "")


def _worker_app(config_path: Optional[Path]) -> Any:
    import os

    config = _config(config_path, strict=True)
    if not config.broker:
        raise _fail("no broker: set [queue] broker in syndicate.toml or $SYNDICATE_BROKER_URL")
    _ledger(config).dispose()  # a ledger refused to this site: said at start, not once per task
    if config.path:
        os.environ["SYNDICATE_CONFIG"] = str(config.path)  # for the pool's child processes
    from syndicate.engine.tasks import configure

    return configure(config)


@app.command()
def worker(
    pool: str = typer.Option("threads", help="threads (default: the tasks wait on HTTP), prefork, solo"),
    concurrency: int = typer.Option(16, "--concurrency", "-C", help="tasks at once"),
    beat: bool = typer.Option(False, "--beat", "-B", help="also run the periodic jobs"),
    loglevel: str = typer.Option("info", "--loglevel", "-l"),
    config_path: Optional[Path] = ConfigOpt,
) -> None:
    """Start a Celery worker (the same as `celery -A syndicate.engine.tasks worker`)."""
    celery_app = _worker_app(config_path)
    argv = ["worker", f"--pool={pool}", f"--concurrency={concurrency}", f"--loglevel={loglevel}"]
    if beat:
        argv += ["-B", f"--schedule={_beat_schedule(celery_app)}"]
    raise typer.Exit(_celery(celery_app, argv))


@app.command()
def beat(
    loglevel: str = typer.Option("info", "--loglevel", "-l"),
    config_path: Optional[Path] = ConfigOpt,
) -> None:
    """Run the periodic jobs: enqueue deferred rows and future posts when they become due."""
    celery_app = _worker_app(config_path)
    raise typer.Exit(_celery(celery_app, ["beat", f"--loglevel={loglevel}", f"--schedule={_beat_schedule(celery_app)}"]))


def _celery(celery_app: Any, argv: list[str]) -> int:
    """Run a `celery` command on our app and return its exit code.

    `app.worker_main` and `app.start` drop it, so a worker that stopped on an
    unrecoverable error (or a cold shutdown) would exit 0 and look finished to a supervisor.
    """
    from celery.bin.celery import celery as command

    command.params[0].default = celery_app
    try:
        code = command.main(args=argv, standalone_mode=False, auto_envvar_prefix="CELERY")
    finally:
        command.params[0].default = None
    return code if isinstance(code, int) else 0


def _beat_schedule(celery_app: Any) -> str:
    """The beat's schedule file, in the data directory (never inside a read-only site)."""
    from syndicate.engine.tasks import _shared

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
    except Exception as exc:
        from syndicate.state.ledger.full import ledger_full

        full = ledger_full(exc, _where)  # a disk already full under the ledger: one line, no traceback
        if full is None:
            raise
        say(("error: ", "red"), full, stderr=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
