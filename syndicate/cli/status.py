"""`syndicate status`: every (post, target) row, what needs attention first."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from syndicate.errors import SyndicateError
from syndicate.triggers import output
from syndicate.triggers.output import STYLES, emit_json, say

if TYPE_CHECKING:
    from syndicate.config import Config
from syndicate.cli.app import ConfigOpt, JsonOpt, _collect, _config, _fail, _ledger, _load, _syndicator, app, log


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
    state: Optional[list[str]] = typer.Option(None, "--state", "-s", metavar="STATE",
                                              help="only rows in this state (repeatable)"),
    target: Optional[list[str]] = typer.Option(None, "--target", "-t", metavar="TARGET",
                                               help="only this target (repeatable)"),
) -> None:
    """Each post × target: state, remote URL, last error; what needs attention first."""
    from syndicate.triggers import statusview

    states = [statusview.normal_state(s) for s in state or []]
    bad = statusview.unknown(states, statusview.STATES)
    if bad:
        raise _fail(f"--state {', '.join(bad)}: unknown; allowed: {', '.join(statusview.STATES)}")
    config = _config(config_path, strict=False, near=paths, readonly=True)

    def shown(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return statusview.ordered(r for r in rows if statusview.keep(r, states, target))

    from syndicate.state.ledger.peek import peek_for

    peek = peek_for(config.state_url, config.site_id)
    if peek is not None and not peek.path.exists():  # nothing recorded: no ledger is made just to say so
        _known_status_targets(config, target, [])
        skipped = shown([{**d, "stale": False} for d in _skipped_rows(config) + _notice_rows(config)])
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
    _known_status_targets(config, target, rows)
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
    from syndicate.engine import lease
    from syndicate.state.ledger import utcnow

    now = utcnow()
    for row, d in zip(rows, data, strict=True):
        d["stale"] = statusview.is_stale(row, config, now)
        d["next"] = lease.next_step(row, config, now) if lease.unfinished(row) else None
    deletions = statusview.deletion_rows(ledger, config)
    if ids is not None:
        deletions = [d for d in deletions if d["post_id"] in ids]
    everything = _skipped_rows(config) + _notice_rows(config) + data + deletions
    for d in everything:
        d.setdefault("stale", False)
    data = shown(everything)
    if as_json:
        emit_json([{k: v for k, v in d.items() if k != "next"} for d in data])
        raise typer.Exit(0)
    if not data:
        say(("nothing recorded yet" if not everything else "no row matches", "dim"))
        raise typer.Exit(0)
    output.table(("post", "target", "state", "remote / detail"), [_status_row(d, d.get("next")) for d in data])
    _held_note(ledger)


def _known_status_targets(config: Config, names: Optional[list[str]], rows: list[Any]) -> None:
    """`status --target`: a configured target (skipped ones too) or one the ledger has rows of; else exit 2."""
    allowed = sorted({*config.targets, *config.skipped, *(r.target for r in rows)})
    bad = [n for n in names or [] if n not in allowed]
    if bad:
        raise _fail(f"--target {', '.join(bad)}: unknown; allowed: {', '.join(allowed) or 'none configured'}")


def _status_row(d: dict[str, Any], next_step: str | None = None) -> list[tuple[str, str]]:
    """One row of `status`; `next_step`: for an unfinished row, who has it or when it is taken up again."""
    state = str(d["state"])
    style = STYLES.get(state, "dim")
    if state in _STATE_NOTES:
        state += f" ({_STATE_NOTES[state]})"
    if d.get("stale"):  # asked for, and nobody is on it
        state, style = f"{state} (stale)", "red"
    if d["state"] == "published" and d["last_error"]:
        style, state = "red", "published, last update failed"
        detail = f"{d['remote_url']} — {d['last_error']}"
    elif d["state"] == "failed":
        detail = str(d["last_error"] or "")
    elif d["state"] == "deferred":
        reason = str(d["defer_reason"] or "")
        detail = reason if reason.startswith("not due until") else f"until {d['deferred_until']}: {reason}"
    elif d["state"] in ("check", "deleted", "baseline", "draft", "hidden", "opted out", "skipped", "notice",
                        "held", "deleting"):
        detail = str(d["reason"] or d["last_error"] or "")
        if d["state"] == "notice":
            state = str(d.get("level") or "info")
            style = {"error": "red", "warn": "yellow"}.get(state, "dim")
    elif next_step:  # who has it, or when the periodic job takes it up: never a stale promise
        detail = next_step
    else:
        detail = str(d["remote_url"] or d["last_error"] or "")
    target = str(d["target"]) if d["target"] is not None else ", ".join(d.get("targets") or []) or "(no copy)"
    return [(str(d["path"] or d["post_id"] or "(every post)"), ""), (target, ""), (state, style), (detail, "")]


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
