"""The unit of work: carry out the plan for one (post, target), exactly once.

`Syndicator` holds what every unit needs (config, ledger, connectors, media,
facts) and is shared by the CLI (in-process) and the Celery tasks: both call
`attempt`, which does one try and asks the one `RetryPolicy` what comes next
(retry after so long, defer to the ledger, or give up). `run_inline` loops on
it for `syndicate push` without a broker; the Celery task re-queues itself.

Order of a create: media are checked or uploaded first (nothing is recorded
while nothing was sent), then the intent is committed with a deterministic key,
then the request goes out. A lost response leaves the row `creating`: the next
attempt calls `find` where the platform can look a post up, and moves the row
to `check` where it cannot (a person looks, then `syndicate resolve`).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from syndicate.engine.follow import FOLLOW_DEPTH
from syndicate.engine.lease import LEASED, unit_owner
from syndicate.engine.outcome import (
    _COUNTDOWN,
    AUTH_PAUSE,
    MASK,
    Outcome,
    Redactor,
    RetryPolicy,
    _Deferred,
    changed,
    idempotency_key,
    owner_id,
)
from syndicate.engine.parts import Parts
from syndicate.engine.plan import PLATFORM_DEFERRAL, Plan, plan
from syndicate.engine.preview import Previewing
from syndicate.engine.removal import Removal
from syndicate.engine.sending import Sending
from syndicate.errors import AuthFailed, Permanent, RateLimited, Throttled, Transient
from syndicate.state.ledger import Row, utcnow

if TYPE_CHECKING:
    from syndicate.content.post import Post

__all__ = [
    "AUTH_PAUSE", "MASK", "LEASED", "Outcome", "changed", "Parts", "Redactor", "RetryPolicy", "Syndicator", "Transient",
    "idempotency_key", "owner_id",
]

log = logging.getLogger(__name__)


class Syndicator(Previewing, Sending, Removal):
    """Config + ledger + one connector per target; cheap to reuse for many units.

    Its parts live beside it: `parts` (what is made once: connectors, facts, the lease),
    `preview` (the requests a plan would send), `sending` (create, update, media),
    `removal` (deletes); here, one attempt and the retry policy around it.
    """

    def plan_for(self, post: Post, target: str, *, force: bool = False, row: Row | None = None,
                 now: datetime | None = None) -> Plan:
        conn = self.connector(target)
        if row is None:
            row = self.reader.get(post.id, target)
        notes: list[str] = []
        facts = self.facts(target, warn=notes)
        siblings = self._siblings(conn, post.id, reading=True) if conn.wants_siblings else None
        p = plan(post, conn, row, now or utcnow(), force=force, facts=facts, targets=self.target_types,
                 siblings=siblings)
        p.warnings = [*notes, *p.warnings]
        return p

    # --- one attempt ----------------------------------------------------------------------

    def attempt(self, post: Post, target: str, *, force: bool = False, tries: int = 0, waits: int = 0,
                owner: str | None = None, max_wait: float | None = None) -> Outcome:
        """One try at one (post, target), and what comes next by the one retry policy.

        Returns a final outcome, or one with status "retry" and `retry_in`
        seconds; a wait beyond `max_wait` is deferred to the ledger instead.
        """
        limit = self.policy.max_wait if max_wait is None else max_wait
        path = self.relpath(post)
        try:
            return self.execute(post, target, force=force, owner=owner)
        except RateLimited as exc:
            wait = exc.retry_after if exc.retry_after is not None else self.policy.backoff(waits)
            if wait <= limit and waits < self.policy.max_waits:
                return Outcome(post.id, path, target, "retry", "retry", "rate limited", error=self.redact(str(exc)),
                               retry_in=wait, rate_limited=True)
            until = utcnow() + timedelta(seconds=wait)
            kind = "our shared limit" if isinstance(exc, Throttled) else PLATFORM_DEFERRAL
            # the row keeps its `until`; a countdown said now would be a stale promise when read later
            said = _COUNTDOWN.sub("", self.redact(str(exc)))
            self.ledger.defer(post.id, target, until, f"{kind}: {said}")
            return Outcome(post.id, path, target, "retry", "deferred",
                           f"rate limited: deferred until {until.isoformat(timespec='seconds')}")
        except Transient as exc:
            message = self.redact(str(exc))
            if tries + 1 >= self.policy.max_tries:
                self.ledger.record_failure(post.id, target, "transient",
                                           f"gave up after {tries + 1} attempts: {message}")
                return Outcome(post.id, path, target, "retry", "failed", "retries exhausted", error=message)
            return Outcome(post.id, path, target, "retry", "retry", "transient failure", error=message,
                           retry_in=self.policy.backoff(tries))

    def run_inline(self, post: Post, target: str, *, force: bool = False,
                   sleep: Callable[[float], None] = time.sleep, follow: bool = True,
                   owner: str | None = None) -> Outcome:
        """`attempt` until it is final, sleeping between tries (no broker); then, with `follow`, the
        units it asks for (`follow_up`). `owner`: the lease's holder (default: this process)."""
        tries = waits = 0
        while True:
            outcome = self.attempt(post, target, force=force, tries=tries, waits=waits, owner=owner)
            if outcome.status != "retry":
                if follow:
                    self.follow_up(post, outcome, sleep=sleep)
                return outcome
            assert outcome.retry_in is not None
            sleep(outcome.retry_in)
            if outcome.rate_limited:
                waits += 1
            else:
                tries += 1

    def follow_up(self, post: Post, outcome: Outcome, *, sleep: Callable[[float], None] = time.sleep,
                  depth: int = 0) -> None:
        """Run in this process, each to its end, the units `outcome` asks for (`syndicate.engine.follow`)."""
        if depth >= FOLLOW_DEPTH:
            return
        for target in outcome.follow:
            # its own lease holder: a unit of that row still running in this process (another target's
            # thread) keeps it, and finishes it itself (`syndicate.engine.follow`)
            then = self.run_inline(post, target, sleep=sleep, follow=False, owner=unit_owner())
            log.info("%s → %s: %s %s, after %s (%s)", self.relpath(post), target, then.action, then.status,
                     outcome.target, then.reason or then.error or "")
            self.follow_up(post, then, sleep=sleep, depth=depth + 1)

    def execute(self, post: Post, target: str, *, force: bool = False, owner: str | None = None) -> Outcome:
        """One attempt at one (post, target). Raises Transient/RateLimited for the retry policy.

        Permanent, render and auth errors are recorded in the ledger and
        returned as a failed outcome; they are not retried. With `[site] write_back`, a final outcome
        brings the post's list of copies' URLs up to date (never failing the unit).
        """
        out = self._execute(post, target, force=force, owner=owner)
        if out.status in ("done", "skipped") and out.action != "wait":
            self.write_back(post, changed=changed(out))
        out.follow = self.follow_ups(post, target, out)
        return out

    def write_back(self, post: Post, *, changed: bool = True) -> None:
        """`[site] write_back`: the copies' URLs into the post's front matter (`syndicate.engine.writeback`).
        In webhook mode the sync does it in its checkout, and commits and pushes it."""
        if not self.config.site.write_back or self.readonly:
            return
        if self.config.webhook is not None:  # the sync writes (and pushes) in its checkout, under its lock;
            return  # a worker asks for one (`syndicate.engine.tasks.publish`)
        from syndicate.engine.writeback import owed, try_write_back

        if changed or owed(self.config, self.ledger, post.id):  # a unit that changed nothing reads no file
            try_write_back(self.config, self.ledger, post.id, post.path)

    def _execute(self, post: Post, target: str, *, force: bool = False, owner: str | None = None) -> Outcome:
        owner = owner or owner_id()
        path = self.relpath(post)
        stopped = self._stop_reason(target)
        if stopped:
            return Outcome(post.id, path, target, "wait", "waiting",
                           f"{target} refused our credentials earlier in this run; nothing sent", error=stopped)
        row = self._claim(post.id, target, path, owner)
        if row is None:
            return Outcome(post.id, path, target, "skip", "skipped", self._held_reason(post.id, target))
        released: list[bool] = []
        try:
            with self._renewed(post.id, target, owner):
                return self._execute_claimed(post, target, path, force, row, released)
        except AuthFailed as exc:
            message = self.redact(str(exc))
            self._stop(target, message)
            self.ledger.record_failure(post.id, target, "auth", message)
            return Outcome(post.id, path, target, "error", "failed", "auth", error=message)
        except _Deferred as wait:
            until = utcnow() + timedelta(seconds=wait.seconds)
            self.ledger.defer(post.id, target, until, wait.reason)
            return Outcome(post.id, path, target, "create", "deferred", wait.reason)
        except Permanent as exc:
            message = self.redact(str(exc))
            # a refused update leaves the published copy as it was: `published` stays visible
            self.ledger.record_failure(post.id, target, "permanent", message)
            return Outcome(post.id, path, target, "error", "failed", "permanent", error=message)
        except (Transient, RateLimited) as exc:
            # the state stays as it is (`creating` keeps the outcome unknown); remember why
            self.ledger.update(post.id, target, last_error=self.redact(str(exc)),
                               error_kind="rate-limited" if isinstance(exc, RateLimited) else "transient")
            raise
        finally:
            if not released:  # the final record of a success releases the row in the same statement
                self.ledger.release(post.id, target, owner)

    def _execute_claimed(self, post: Post, target: str, path: str, force: bool, row: Row,
                         released: list[bool]) -> Outcome:
        conn = self.connector(target)
        siblings = self._siblings(conn, post.id) if conn.wants_siblings else None
        p = plan(post, conn, row, utcnow(), force=force, facts=self.facts(target), targets=self.target_types,
                 siblings=siblings)
        out = Outcome(post.id, path, target, p.action, "skipped", p.reason, warnings=p.warnings)
        out.siblings = siblings
        if p.action == "skip":
            out.remote_url = row.remote_url
            return out
        if p.action == "error":
            self.ledger.record_failure(post.id, target, "render", p.reason, keep_state=row.state == "published")
            out.status, out.error = "failed", p.reason
            return out
        if p.action == "check":
            if row.state != "check":
                self.ledger.mark_check(post.id, target, p.reason.split(":")[0])
            out.status = "check"
            return out
        if p.action == "defer":
            assert p.until is not None
            if not p.held:
                self.ledger.defer(post.id, target, p.until, p.reason)
            out.status = "deferred"
            return out
        if p.action in ("delete", "repost"):
            self._delete(conn, post, target, row, p.reason)
            if p.action == "delete":
                out.status = "done"
                return out
            row = self.ledger.get(post.id, target) or row
        assert p.draft is not None
        if p.action in ("create", "repost"):
            remote = self._create(conn, post, target, row, p.draft, out)
        else:
            remote = self._update(conn, post, target, row, p.draft, out)
        released.append(True)
        out.status, out.remote_url = "done", remote.url or row.remote_url
        return out
