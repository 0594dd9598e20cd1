"""A watcher's first start on a site whose ledger is empty: refuse to flood, or baseline the posts.

More than `first_run_limit` due posts and no `--baseline` or `--backfill`: `Refused`, saying which flag
to pass. `baseline` records posts as known and never sent (`watch --baseline`, `syndicate baseline`, the
webhook's first sync).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from syndicate.errors import SyndicateError
from syndicate.state.ledger import utcnow

if TYPE_CHECKING:
    from syndicate.engine.runner import Syndicator

REFUSAL = (
    "first start: {n} existing posts are due and the ledger is empty; nothing was sent.\n"
    "  syndicate watch --baseline             record them as known, send none (only new posts go out)\n"
    "  syndicate watch --baseline --since D   the same for posts dated before D; newer ones are sent\n"
    "  syndicate watch --backfill             send them all (under the rate limits)"
)


class Refused(SyndicateError):
    """A first start that would flood: the message says which flag to pass."""


def baseline(syn: Syndicator, posts: list[Any], targets: list[str], *, since: datetime | None = None,
             now: datetime | None = None, on_result: Callable[[dict[str, Any]], None] | None = None) -> set[str]:
    """Record the live `posts` (those dated before `since`, when given) as known and never sent; returns
    their ids. A draft or a post not yet due is left alone: it goes out when it is published.
    `on_result` is told each (post, target) marked, as `baselined` reports it (the progress bar)."""
    kept: set[str] = set()
    now = now or utcnow()
    for post in posts:
        if post.visible_at(now) is not None or not post.due(now):
            continue
        if since is not None and (post.date is None or post.date >= since):
            continue
        for target in targets:
            syn.ledger.mark_baseline(post.id, target, syn.relpath(post))
            if on_result is not None:
                on_result(baselined(syn, [post], [target])[0])
        kept.add(post.id)
    return kept


def baselined(syn: Syndicator, posts: list[Any], targets: list[str]) -> list[dict[str, Any]]:
    """The results of a baseline, one per (post, target), as `--json` reports them."""
    return [{"post_id": p.id, "path": syn.relpath(p), "target": t, "action": "baseline", "status": "done",
             "reason": "known, never sent"} for p in posts for t in targets]
