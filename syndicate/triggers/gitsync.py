"""The webhook's sync: fetch the configured repository, diff what the push changed, reconcile those paths.

The git CLI does the work (`syndicate.triggers.gitrepo`). The checkout is shallow (`--depth=1`): each sync fetches the branch's
tip, and the diff is between two trees that are both on disk (the last synced
commit is kept by `refs/syndicate/synced`), so it needs no history and covers
any number of commits, renames included (`git diff --name-status -M`). A
payload's own commit list stops at 20 commits (GitHub) and omits renames, so
it is never used.

The changed paths are reconciled by the watcher (`syndicate.triggers.watch.Watcher`):
new, edited, renamed, unpublished and deleted posts are planned exactly as
`watch` plans them, with its mass-change guard. A deletion in a commit is
deliberate: the watcher's `delete_grace` does not apply here. A first sync
diffs from the first push's `before`, whose tree is taken as published
(`Syncer.take_as_published`). A force-push, a new branch or a lost checkout
reconciles the whole tree against the ledger (a first one under the
watcher's first-start rule).
"""
from __future__ import annotations

import dataclasses
import logging
import os
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from syndicate.config.repokey import repo_key, repo_name  # noqa: F401  (the webhook imports them from here)
from syndicate.errors import ConfigError, SyndicateError
from syndicate.state.ledger.rows import utcnow
from syndicate.triggers.gitrepo import (  # noqa: F401  (imported from here by the webhook and tests)
    GIT_TIMEOUT,
    HELPER,
    SHA,
    SYNCED_REF,
    TOKEN_ENV,
    WRITE_BACK_TRAILER,
    Change,
    Git,
    GitError,
    git_binary,
)

if TYPE_CHECKING:
    from syndicate.config import Config
    from syndicate.engine.reconcile import Scan
    from syndicate.engine.runner import Syndicator
    from syndicate.state.ledger.syncs import SyncRow
    from syndicate.triggers.watch import Watcher

log = logging.getLogger(__name__)

LEASE_SECONDS = 900.0
LIVE_POLL = 5.0  # seconds between looks at a new post's URL (`wait_live`)


@dataclass
class Outcome:
    """What one sync did."""

    commit: str
    full: bool
    paths: int
    lines: list[str] = dataclasses.field(default_factory=list)


class Syncer:
    """Syncs the configured repository's branch; `run` holds the lock and folds in pushes that arrive meanwhile."""

    def __init__(self, config: Config, *, syn: Syndicator | None = None, echo: Callable[[str], None] | None = None,
                 branch: str | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        from syndicate.engine.runner import Syndicator
        from syndicate.state.ledger.syncs import Syncs

        if config.webhook is None:
            raise ConfigError(f"{config.path}: [webhook] is required to sync a repository")
        self.hook = config.webhook
        # a deletion in a commit is deliberate: no grace period (the mass-change guard stays)
        self.config = dataclasses.replace(config, watch=config.watch.model_copy(update={"delete_grace": 0.0}))
        self.syn = syn or Syndicator(config)
        self.echo = echo or log.info
        self.git = Git(self.hook.repo, Path(self.hook.checkout or ".syndicate/repo"), self.hook.token)
        self.key = repo_key(self.hook)
        self.syncs = Syncs(self.syn.ledger)
        self._branch = branch or self.hook.branch
        self.clock = clock
        self.sleep = sleep

    @property
    def branch(self) -> str:
        if self._branch is None:
            self._branch = self.git.default_branch()
        return self._branch

    def run(self) -> list[Outcome]:
        """Sync while pushes are waiting; nothing when another sync holds the lock (it will see them)."""
        owner = f"{os.getpid()}:{uuid.uuid4().hex[:12]}"
        done: list[Outcome] = []
        ttl = LEASE_SECONDS + (float(self.config.watch.wait_live_timeout) if self.config.watch.wait_live else 0.0)
        row = self.syncs.acquire(self.key, owner, ttl)
        try:
            while row is not None:
                commit, error = None, None
                try:
                    outcome = self.once(row)
                    commit = outcome.commit
                    done.append(outcome)
                except SyndicateError as exc:
                    error = str(exc)
                    self.echo(f"sync failed: {error}")
                if self.syncs.finish(self.key, owner, row, commit=commit, error=error):
                    row = None
                    break
                row = self.syncs.acquire(self.key, owner, ttl)
        finally:
            if row is not None:  # an unexpected error: free the lock for the next push
                self.syncs.release(self.key, owner)
        return done

    def run_due(self) -> None:
        """Without a broker: send the deferred rows whose time has come, from the checkout as last synced
        (nothing while a sync holds the repository: it is switching the checkout)."""
        from syndicate.triggers.watch import Watcher

        owner = f"{os.getpid()}:{uuid.uuid4().hex[:12]}"
        if not self.syncs.hold(self.key, owner, LEASE_SECONDS):
            return
        try:
            Watcher(self.config, syn=self.syn, echo=self.echo).run_due()
        finally:
            self.syncs.release(self.key, owner)

    def once(self, row: SyncRow) -> Outcome:
        """One sync of the branch's tip against the last synced commit (before the first: the first push's base)."""
        from syndicate.triggers.firstrun import Refused
        from syndicate.triggers.watch import Watcher

        tip = self.git.fetch(self.branch)
        lines: list[str] = []
        first = {"refuse": None, "baseline": "baseline", "backfill": "backfill"}[self.hook.first_run]
        watcher = Watcher(self.config, syn=self.syn, echo=lines.append, first_run=first)
        base = row.commit
        if base is None and not row.full and row.base:  # a first sync of an ordinary push: before..after
            if self.git.fetch_commit(row.base):
                self.git.switch(row.base, synced=False)
                self.take_as_published(watcher, row.base)
                base = row.base
            else:
                self.echo(f"first sync: the push's base {row.base[:12]} cannot be fetched (force-pushed away?): "
                          "the whole tree is reconciled")
        full = row.full or base is None or not self.git.has(base)
        changes = [] if full or base is None else self.git.diff(base, tip)
        self.git.switch(tip)
        if self.config.watch.wait_live:
            plain_apply = watcher.apply

            def apply_when_live(scan: Scan) -> None:
                self.wait_live(scan, lines.append)
                plain_apply(scan)

            watcher.apply = apply_when_live  # type: ignore[method-assign]
        paths = None
        if not full:
            names = {c.path for c in changes} | {c.old_path for c in changes if c.old_path}
            paths = [self.git.checkout / name for name in sorted(names)]
        try:
            scan = watcher.reconcile(paths, first=base is None)
        except Refused as exc:
            count = re.search(r"(\d+) existing", str(exc))
            n = count.group(1) if count else "many"
            raise Refused(
                f"first sync: {n} existing posts are due and the ledger is empty; nothing was sent. "
                'Set [webhook] first_run = "baseline" (record them, send none) or "backfill" (send them all), '
                "or run `syndicate baseline` once") from None
        if self.config.site.write_back:
            tip = self.write_back(tip, lines.append) or tip
        for line in lines:
            self.echo(line)
        self.echo(f"synced {tip[:12]}" + (" (whole tree)" if full else f" ({len(changes)} changed path(s))"))
        return Outcome(tip, full, scan.stats["files"], lines)

    def write_back(self, tip: str, echo: Callable[[str], None]) -> str | None:
        """`[site] write_back` in the checkout: every post with a copy (or a copy gone) gets its list brought
        up to date, and the edits go back to the branch as one commit (`[webhook] write_back_message`,
        `write_back_author`). Returns the pushed commit, None when nothing changed or the push failed.

        The push comes back as a webhook delivery; its sync diffs from this commit (synced here), and the
        hash change detection uses leaves the write-back key out, so it sends nothing and writes nothing.
        """
        from syndicate.engine.writeback import clear_failure, record_failure, remember, write_back_all

        ledger, root = self.syn.ledger, self.config.site.root
        changed = write_back_all(self.config, ledger, remember_written=False, warn=echo)
        if not changed:
            return None
        names = sorted({(root / r.path).resolve().relative_to(self.git.checkout.resolve()).as_posix()
                        for _, r in changed})
        try:
            commit = self.git.commit_and_push(names, self.hook.write_back_message, self.hook.write_back_author,
                                              self.branch)
        except GitError as exc:
            record_failure(self.config, ledger, f"the write-back commit was not pushed ({exc}); the next sync "
                                                "tries again")
            echo(f"warning: write-back not pushed: {exc}")
            self.git.switch(tip)
            return None
        for post_id, result in changed:
            remember(self.config, ledger, post_id, result)
        clear_failure(self.config, ledger)
        echo(f"write-back {commit[:12]}: syndication links in {len(names)} post(s) pushed to {self.branch}")
        return commit

    def take_as_published(self, watcher: Watcher, commit: str) -> None:
        """A first sync's starting point: the posts in the tree at `commit` (checked out) were there before.

        Those the site showed are baselined, as `syndicate baseline` does: known, never sent, nor their
        later edits, on each target the post allows and that has no row yet. A post dated later is
        planned (deferred until its date), drafts and expired ones only recorded, so a push that
        publishes them sends them. Every file is recorded, so renames and deletions pair up later.
        """
        scan = watcher.scanner.scan()
        now = watcher.clock()
        shown = [f.post for f in scan.changed if f.post.visible_at(now) is None and f.post.due(now)]
        ledger, kept = self.syn.ledger, 0
        why = f"baseline: in the tree at {commit[:12]}, before the first push the webhook synced"
        for post in shown:
            targets = [t for t in watcher.targets if post.control.allows(t, self.config.targets[t].type)
                       and ledger.get(post.id, t) is None]
            for target in targets:
                ledger.mark_baseline(post.id, target, self.syn.relpath(post), reason=why)
            kept += bool(targets)
        scan.changed = [f for f in scan.changed if f.post.visible_at(now) is None and not f.post.due(now)]
        scan.errors, scan.warnings, scan.cancelled = [], [], []
        scan.vanished, scan.due, scan.held, scan.drop = [], [], [], []
        scan.put = [r for r in scan.put if r.size >= 0]
        watcher.apply(scan)
        watcher.echo(f"first sync: {len(shown)} post(s) at {commit[:12]} taken as published ({kept} baselined: "
                     f"known, never sent); {len(scan.changed)} dated later, planned for their date")

    def wait_live(self, scan: Scan, echo: Callable[[str], None]) -> None:
        """Hold the creates until each new post's URL answers (the host builds the site after the push).

        Past `[watch] wait_live_timeout` they are sent anyway, with a warning: the diff of a later
        push would not name them again.
        """
        now = utcnow()
        waiting = {f.post.url for f in scan.changed
                   if f.kind == "new" and f.post.url and f.post.due(now) and f.post.visible_at(now) is None}
        deadline = self.clock() + float(self.config.watch.wait_live_timeout)
        while waiting:
            for url in sorted(waiting):
                if self.syn.is_live(url):  # SSRF-safe: a private site only through [media] allow
                    waiting.discard(url)
            if not waiting:
                return
            if self.clock() >= deadline:
                echo(f"warning: {len(waiting)} post(s) not live after {self.config.watch.wait_live_timeout:g}s, "
                     f"sent anyway: {', '.join(sorted(waiting)[:3])}")
                return
            self.sleep(LIVE_POLL)
