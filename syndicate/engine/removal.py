"""Deleting copies: a plan's `delete` (and a `repost`'s first half), and `remove`, for a post whose
file is gone (no `Post` any more, only its rows), by each target's `on_delete`.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from syndicate.contract import Connector, Remote
from syndicate.engine.outcome import Outcome, owner_id
from syndicate.engine.parts import Parts
from syndicate.errors import (
    AuthFailed,
    NotFound,
    Permanent,
    RateLimited,
    Transient,
)
from syndicate.state.ledger import Row, utcnow

if TYPE_CHECKING:

    from syndicate.content.post import Post

log = logging.getLogger(__name__)


class Removal(Parts):
    """Deletes on the platform, recorded in the ledger (a mixin of `runner.Syndicator`)."""

    def _delete(self, conn: Connector, post: Post, target: str, row: Row, reason: str) -> None:
        parts = sorted(self.ledger.parts(post.id, target), key=lambda p: p.idx, reverse=True)
        for part in parts:
            if part.idx > 0 and part.state == "published":
                conn.delete(Remote(part.remote_id, part.remote_url, part.remote_extra))
        conn.delete(Remote(row.remote_id, row.remote_url, row.remote_extra))
        self.ledger.mark_deleted(post.id, target, reason)
        self.ledger.update(post.id, target, published_at=None)
        self.ledger.clear_parts(post.id, target)

    # --- a post whose file is gone: no Post object any more, only its rows ---

    def remove(self, post_id: str, target: str, reason: str, *, owner: str | None = None) -> Outcome:
        """Remove (or unpublish, or keep) the copy of a post whose file was deleted, by `on_delete`.

        Claims the row like any unit; a row without a copy is marked `deleted`
        with nothing sent, so no periodic job tries to send it later.
        Raises Transient/RateLimited for the retry policy.
        """
        from syndicate.engine.plan import delete_too_late, has_copy

        owner = owner or owner_id()
        row = self.ledger.get(post_id, target)
        path = row.post_path or "" if row is not None else ""
        if row is None or row.state == "deleted":
            return Outcome(post_id, path, target, "skip", "skipped", "nothing recorded" if row is None else "already deleted")
        conn = self.connector(target)
        able = conn.abilities
        policy = conn.option("on_delete") or ("delete" if able.delete != "none" else "keep")
        if has_copy(row) and (policy == "keep" or able.delete == "none"):
            why = "on_delete = keep" if policy == "keep" else f"{conn.type} cannot delete"
            return Outcome(post_id, path, target, "skip", "skipped", f"{reason}; {why}: the copy stays")
        late = delete_too_late(conn, row, utcnow()) if has_copy(row) else None
        if late:  # Telegram's 48 h: asking would only be refused
            return Outcome(post_id, path, target, "skip", "skipped",
                           f"{reason}; {late}: the copy stays (not propagated)")
        claimed = self._claim(post_id, target, None, owner)
        if claimed is None:
            return Outcome(post_id, path, target, "skip", "skipped", self._held_reason(post_id, target))
        try:
            with self._renewed(post_id, target, owner):
                if not has_copy(claimed):
                    self.ledger.mark_deleted(post_id, target, f"{reason} (never sent)")
                    return Outcome(post_id, path, target, "skip", "done", f"{reason}: nothing had been sent")
                try:
                    for part in sorted(self.ledger.parts(post_id, target), key=lambda p: p.idx, reverse=True):
                        if part.idx > 0 and part.state == "published":
                            conn.delete(Remote(part.remote_id, part.remote_url, part.remote_extra))
                    conn.delete(Remote(claimed.remote_id, claimed.remote_url, claimed.remote_extra))
                except NotFound:
                    pass  # already gone on the platform: the same end
                except (AuthFailed, Permanent) as exc:
                    message = self.redact(str(exc))
                    self.ledger.record_failure(post_id, target, "permanent", message, keep_state=True)
                    return Outcome(post_id, path, target, "delete", "failed", "refused", error=message)
                how = "unpublished" if able.delete == "unpublish" or policy == "unpublish" else "deleted"
                self.ledger.mark_deleted(post_id, target, f"{reason}: {how}")
                self.ledger.update(post_id, target, published_at=None)
                return Outcome(post_id, path, target, "delete", "done", f"{reason}: {how}")
        finally:
            self.ledger.release(post_id, target, owner)

    def remove_inline(self, post_id: str, target: str, reason: str,
                      sleep: Callable[[float], None] = time.sleep) -> Outcome:
        """`remove` until it is final, backing off on transient failures and rate limits (no broker)."""
        for tries in range(self.policy.max_tries):
            try:
                return self.remove(post_id, target, reason)
            except RateLimited as exc:
                sleep(min(exc.retry_after or self.policy.backoff(tries), self.policy.max_wait))
            except Transient:
                sleep(self.policy.backoff(tries))
        return Outcome(post_id, "", target, "delete", "failed", "retries exhausted")
