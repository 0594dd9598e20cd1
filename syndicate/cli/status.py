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
from syndicate.cli.app import ConfigOpt, JsonOpt, _collect, _config, _ledger, _load, _syndicator, app, log


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
