"""Retrying failed (and deferred) rows: what `syndicate retry` and the status page's retry button both do.

With a broker each row is set `queued` and one `publish` task is sent; without one it is sent here,
in this process. A row another process holds a lease on is left to it (and said so).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from syndicate.errors import SyndicateError

if TYPE_CHECKING:
    from syndicate.config import Config
    from syndicate.engine.runner import Syndicator


RETRY_STATES = ("failed", "deferred", "creating")  # what `retry` takes up (`--failed`: only the first)


def retry_candidates(syn: Syndicator, ids: list[str] | None, targets: list[str] | None = None, *,
                     failed_only: bool = False) -> list[Any]:
    """The ledger rows `retry` would take up: failed (and deferred, creating) ones, of these posts and targets."""
    states = ["failed"] if failed_only else list(RETRY_STATES)
    return [r for r in syn.ledger.all(ids, states) if not targets or r.target in targets]


def retry_rows(config: Config, syn: Syndicator, rows: list[Any]) -> tuple[list[dict[str, Any]], int]:
    """Re-queue each row (a broker), else run it here; the results and how many failed again.

    The `retry` command's work (`syndicate.cli.retry`), and the status page's retry button's (`syndicate.triggers.web`).
    """
    results: list[dict[str, Any]] = []
    failures = 0
    from syndicate.engine import lease

    posts: dict[str, tuple[Any, str, str]] = {}  # post path -> the post (or None), why not loaded, its clash
    for row in rows:
        if row.target not in config.targets:
            continue
        path = row.post_path or ""
        if path not in posts:  # each post read once, and the site listed afresh once (the status page runs long)
            posts[path] = _load(config, path, relist=not posts)
        post, unloadable, clash = posts[path]
        if clash:  # a post that came to share its URL since: neither is sent, as the plan says
            failures += 1
            results.append({"path": row.post_path, "target": row.target, "action": "retry", "status": "failed",
                            "error": clash})
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
        if post is None:
            failures += 1
            results.append({"path": row.post_path, "target": row.target, "action": "retry", "status": "failed",
                            "error": unloadable})
            continue
        outcome = syn.run_inline(post, row.target)
        failures += outcome.status in ("failed", "waiting", "check")
        results.append(outcome.as_dict())
    return results, failures


def _load(config: Config, path: str, *, relist: bool) -> tuple[Any, str, str]:
    """The post at `path` (None when it cannot be loaded, and why) and why it is never sent, else "": it
    shares its canonical URL or id with another post of the site (`relist`: the site as it is now)."""
    from syndicate.content.loader import load_post, unique

    try:
        post = load_post(config.site.root / path, config.site)
    except (SyndicateError, OSError) as exc:
        return None, str(exc), ""  # a broker's task says what is wrong with it; here, the row fails with it
    _kept, clashes = unique([post], config.site, max_age=0 if relist else None)
    return post, "", str(clashes[0][1]) if clashes else ""


__all__ = ["RETRY_STATES", "retry_candidates", "retry_rows"]
