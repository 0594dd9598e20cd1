"""What `syndicate status` lists, in which order, and its `--state` / `--target` filters.

The rows are the ledger's (post, target) rows as dicts (the `status --json`
shape), the targets' own lines (`skipped`, `notice`), and one row per file
deletion that waits: `held` (the watcher's mass-change guard holds it until
`syndicate push --apply-deletes`) or `deleting` (in its grace period).

What needs a person comes first, each group in the order it came:

1. `failed`, `check` and "published, last update failed";
2. `held` deletions;
3. stale rows: work started or asked for that nobody is doing (no live lease)
   and that is overdue (with a broker: older than `lease.stale_after`);
4. the targets' lines: `notice` and `skipped`;
5. the rest.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from syndicate.config import Config
    from syndicate.state.ledger import Ledger
    from syndicate.state.ledger.rows import Row

# every state a `status` row can have, in the order `--help` and the error list them
STATES = ("failed", "check", "held", "deleting", "new", "queued", "creating", "deferred", "published",
          "baseline", "draft", "hidden", "opted out", "deleted", "skipped", "notice")
GROUPS = ("failed", "held", "stale", "notices", "rest")
HELD_REASON = "deletion held by the mass-change guard: `syndicate push --apply-deletes` carries it out"


def group(row: dict[str, Any]) -> int:
    """The row's place in `GROUPS` (0 first)."""
    state = row.get("state")
    if state in ("failed", "check") or (state == "published" and row.get("last_error")):
        return 0
    if state == "held":
        return 1
    if row.get("stale"):
        return 2
    if state in ("notice", "skipped"):
        return 3
    return 4


def ordered(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """What needs attention first; stable within a group (sorted() is stable)."""
    return sorted(rows, key=group)


def is_stale(row: Row, config: Config, now: datetime) -> bool:
    """Work on the row was started or asked for, nobody live holds it, and it is overdue: without a
    broker nothing sends it until the next run; with one, no worker took it within `stale_after`."""
    from syndicate.engine import lease

    if not lease.unfinished(row) or lease.held(row.lease_owner, row.lease_until, now):
        return False
    if not config.broker:
        return True
    since = row.updated_at or now
    return now - since >= timedelta(seconds=lease.stale_after(config))


def deletion_rows(ledger: Ledger, config: Config) -> list[dict[str, Any]]:
    """A row per file deletion that waits: `held` by the guard, or `deleting` in its grace period.
    `targets` are the targets that hold a row of the post (whose copies the deletion takes)."""
    from syndicate.engine.reconcile import GONE, HELD

    grace = float(config.watch.delete_grace)
    out: list[dict[str, Any]] = []
    for f in sorted(ledger.files().values(), key=lambda r: r.path):
        if f.size not in (HELD, GONE):
            continue
        ids = sorted({*([f.post_id] if f.post_id else []), *ledger.ids_at(f.path)})
        targets = sorted({r.target for r in ledger.all(ids)} if ids else set())
        held = f.size == HELD
        until = None if held or f.seen_at is None else f.seen_at + timedelta(seconds=grace)
        reason = HELD_REASON if held else (
            "file deleted: its copies go after [watch] delete_grace"
            + (f" (at {until:%Y-%m-%d %H:%M:%S} UTC) unless it comes back" if until else ""))
        out.append({
            "post_id": ids[0] if ids else f.post_id, "path": f.path, "target": None, "targets": targets,
            "state": "held" if held else "deleting", "remote_id": None, "remote_url": None, "attempts": 0,
            "last_error": None, "error_kind": None, "reason": reason,
            "deferred_until": until.isoformat() if until else None, "defer_reason": None,
            "updated_at": f.seen_at.isoformat() if f.seen_at else None,
        })
    return out


def unknown(values: Sequence[str] | None, allowed: Iterable[str]) -> list[str]:
    """The values not in `allowed`."""
    known = set(allowed)
    return [v for v in values or [] if v not in known]


def normal_state(value: str) -> str:
    """`opted-out` and `opted_out` say `opted out` (a shell word without quotes)."""
    return "opted out" if value.replace("-", " ").replace("_", " ") == "opted out" else value


def keep(row: dict[str, Any], states: Sequence[str] | None, targets: Sequence[str] | None) -> bool:
    """Whether the row passes `--state` and `--target` (a deletion row: any of its targets)."""
    if states and row.get("state") not in states:
        return False
    if targets:
        names = {row.get("target")} | set(row.get("targets") or [])
        return bool(names & set(targets))
    return True
