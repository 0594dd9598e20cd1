"""`syndicate watch`: a saved, moved, unpublished or deleted post reaches every target by itself.

A reconcile scan (`syndicate.engine.reconcile`) runs at start and every `[watch]
rescan`; between scans, filesystem events from `watchfiles` (inotify through
the Rust `notify` crate) are debounced per file and scanned alone. Each change
is planned and sent like `push` does: queued to the workers when a broker is
configured, run in this process otherwise. Deletions wait out `delete_grace`
and stop at the mass-change guard (`max_deletes`) until `push --apply-deletes`.

A first start on a site with more than `first_run_limit` due posts refuses,
unless told to `--baseline` them (known, never sent) or `--backfill` them.
"""
from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from syndicate.engine.reconcile import HELD, KEPT, Found, Scan, Scanner, is_junk
from syndicate.errors import SyndicateError
from syndicate.state.ledger import FileRow, utcnow
from syndicate.triggers.firstrun import REFUSAL, Refused, baseline, baselined
from syndicate.triggers.output import bounded

if TYPE_CHECKING:
    from syndicate.config import Config
    from syndicate.engine.runner import Syndicator
    from syndicate.triggers.progress import Tracker

class Watcher:
    """One site's watcher; `echo` gets one line per change, `clock` is injectable."""

    def __init__(self, config: Config, *, syn: Syndicator | None = None, echo: Callable[[str], None] = print,
                 clock: Callable[[], datetime] = utcnow, first_run: str | None = None,
                 since: datetime | None = None, tracker: Tracker | None = None) -> None:
        from syndicate.engine.runner import Syndicator

        self.config = config
        self.syn = syn or Syndicator(config)
        self.echo = echo
        self.clock = clock
        self.first_run = first_run  # None | "baseline" | "backfill"
        self.since = since
        self.targets = self.syn.targets_for(None)
        self.scanner = Scanner(config, self.syn.ledger, clock=clock)
        self.stop = threading.Event()
        self.failures = 0
        self.results: list[dict[str, Any]] = []  # the (post, target) results of the last scan: --json, the summary
        self._held_shown = -1
        self.tracker = tracker  # the first scan's progress bar (`syndicate watch` in a terminal)
        self._tracking: Tracker | None = None
        self._next_grace: float | None = None
        if config.broker:
            from syndicate.engine.tasks import configure

            configure(config)

    # --- one scan, applied ---------------------------------------------------------------

    def reconcile(self, only: Iterable[Path] | None = None, *, first: bool = False) -> Scan:
        """Scan (all files, or `only` these) and apply what changed; a full scan then revisits
        every unfinished row (`revisit`). Returns the scan (`results`: this scan's)."""
        self.results = []  # a long-running watcher keeps only the last scan's
        fresh = first and not self.syn.ledger.files() and not self.syn.ledger.all()
        scan = self.scanner.scan(only)
        tracker = self.tracker if first and len(scan.changed) > 1 else None
        if tracker is not None:  # a first scan with work to do: the bar counts each (post, target)
            tracker.expect(self.targets, len(scan.changed))
            tracker.start()
        self._tracking = tracker
        try:
            if fresh:
                self._first_start(scan)
            self.apply(scan)
            if only is None and not self.stop.is_set():
                self.revisit(scan)
                self.write_back_again()
        finally:
            self._tracking = None
            if tracker is not None:
                tracker.stop()
        return scan

    def _add(self, *results: dict[str, Any]) -> None:
        """Results of this scan: kept for --json and the summary, and told to the progress bar."""
        self.results += results
        if self._tracking is not None:
            for result in results:
                self._tracking.done(result)

    def write_back_again(self) -> None:
        """`[site] write_back` failed earlier (a read-only site, a file saved meanwhile): a full scan tries
        every post's links again (the webhook's sync does its own pass, in its checkout)."""
        if not self.config.site.write_back or self.config.webhook is not None:
            return
        from syndicate.engine.writeback import failure, write_back_all

        if failure(self.config, self.syn.ledger) is None:
            return
        for _post_id, result in write_back_all(self.config, self.syn.ledger, warn=self.echo):
            self.echo(f"write-back {result.path}: {len(result.urls)} link(s)")

    def _first_start(self, scan: Scan) -> None:
        now = self.clock()
        if self.first_run == "baseline":  # told to: none is sent, however few there are
            kept = baseline(self.syn, [f.post for f in scan.changed], self.targets, since=self.since, now=now,
                            on_result=self._tracking.done if self._tracking is not None else None)
            self.results += baselined(self.syn, [f.post for f in scan.changed if f.post.id in kept], self.targets)
            scan.changed = [f for f in scan.changed if f.post.id not in kept]
            self.echo(f"baselined {len(kept)} existing post(s): known, never sent")
            return
        due = [f for f in scan.changed if f.post.visible_at(now) is None and f.post.due(now) and f.post.control.enabled]
        if len(due) <= self.config.watch.first_run_limit or self.first_run == "backfill":
            return
        raise Refused(REFUSAL.format(n=len(due)))

    def apply(self, scan: Scan) -> None:
        for warning in scan.warnings:
            self.echo(f"warning: {warning}")
        for path, reason in scan.errors:
            self.failures += 1
            self.echo(f"skipped {path}: {reason}")
        for path in scan.cancelled:
            self.echo(f"restored {path}: its pending deletion is cancelled")
        for i, found in enumerate(scan.changed):
            if self.stop.is_set():  # the rest are not recorded as seen: the next start sends them
                left = {f.path for f in list(scan.changed)[i:]}
                scan.put = [r for r in scan.put if r.path not in left]
                break
            start = len(self.results)
            line = self._send(found)
            if line is not None:
                self.echo(line)
            for warning in dict.fromkeys(w for r in self.results[start:] for w in r.get("warnings") or []):
                self.echo(f"warning {found.path}: {bounded(warning)}")
        grace = float(self.config.watch.delete_grace)
        for row in scan.vanished:
            self.echo(f"deleted {row.path}: its copies go in {grace:g}s unless it comes back")
        if scan.vanished:
            soonest = time.monotonic() + grace
            self._next_grace = min(self._next_grace or soonest, soonest)
        for row in scan.due:
            self.echo(self.remove(row.post_id, row.path, "file deleted"))
            self._settle(scan, row)
        if len(scan.held) != self._held_shown:
            self._held_shown = len(scan.held)
            if scan.held:
                self.echo(f"held: {len(scan.held)} deletion(s) wait for `syndicate push --apply-deletes` "
                          f"(more than max_deletes = {self.config.watch.max_deletes} at once, or the content "
                          f"folder is gone): {', '.join(r.path for r in scan.held[:5])}"
                          + (" …" if len(scan.held) > 5 else ""))
        scan.commit(self.syn.ledger)

    def _send(self, found: Found, targets: list[str] | None = None) -> str | None:
        """Send one changed post to `targets` (default: all); the line to echo, or None when nothing changed."""
        post, syn = found.post, self.syn
        targets = targets or self.targets
        if found.old_id:  # renamed, and the URL changed with it: the rows follow the file
            for target in self.targets:
                syn.ledger.update(found.old_id, target, post_path=found.path)
                syn.ledger.ensure(post.id, target, found.path)
        kind = found.kind
        if kind == "new" and any(syn.ledger.get(post.id, t) is not None for t in self.targets):
            kind = "known"  # new to the watcher only: push or a webhook sent it before
        head = f"{kind} {found.path}" + (f" (was {found.old_path})" if found.old_path else "")
        results: list[str] = []
        quiet = True
        if self.config.broker:
            from syndicate.engine.plan import target_warnings
            from syndicate.engine.tasks import enqueue

            for warning in target_warnings(post.control, syn.target_types):  # the workers plan the rest
                self.echo(f"warning {found.path}: {warning}")
            queued = enqueue(syn, [post], targets)
            self._add(*({"post_id": post.id, "path": q["post"], "target": q["target"], "action": q.get("action"),
                         "status": q["status"], "reason": q["detail"]} for q in queued))
            done = {q["target"]: q["status"] for q in queued}
            results = [f"{t}: {done.get(t, 'nothing to do')}" for t in targets]
            quiet = not done
            self.failures += sum(s == "failed" for s in done.values())
        else:
            for target in targets:
                outcome = syn.run_inline(post, target)
                self._add(outcome.as_dict())
                unchanged = outcome.status == "skipped" and outcome.reason == "unchanged"
                quiet = quiet and unchanged
                what = outcome.action if outcome.status in ("done", "skipped") else f"{outcome.action} {outcome.status}"
                if outcome.status in ("failed", "waiting", "check"):
                    self.failures += 1
                    what += f" ({outcome.error or outcome.reason})"
                elif outcome.status == "skipped" and outcome.reason:
                    what += f" ({outcome.reason})"  # a skip always says why
                results.append(f"{target}: {what}")
        if quiet and kind == "known":
            return None  # already on every target as it is: nothing to tell
        return f"{head} → {', '.join(results)}"

    def remove(self, post_id: str | None, path: str, reason: str) -> str:
        """Remove the copies of a post whose file is gone, per target (`on_delete`)."""
        ids = sorted({*([post_id] if post_id else []), *self.syn.ledger.ids_at(path)})
        if not ids:
            return f"removed {path}: it was never a post"
        if self._tracking is not None:
            self._tracking.expect(self.targets, len(ids))
        results = []
        for pid in ids:
            for target in self.targets:
                if self.config.broker:
                    from syndicate.engine.tasks import remove

                    remove.delay(pid, target, reason)
                    results.append(f"{target}: queued")
                    self._add({"post_id": pid, "path": path, "target": target, "action": "delete",
                               "status": "queued", "reason": reason})
                    continue
                outcome = self.syn.remove_inline(pid, target, reason)
                self._add({**outcome.as_dict(), "path": outcome.path or path})
                self.failures += outcome.status == "failed"
                what = outcome.action + (" failed" if outcome.status == "failed" else "")
                results.append(f"{target}: {what}" + (f" ({outcome.reason})" if outcome.action == "skip" else ""))
        return f"removed {path} → {', '.join(results)}"

    def _settle(self, scan: Scan, row: FileRow) -> None:
        """After a removal: forget the file, or keep a `KEPT` marker while copies stay (a policy kept
        them, or a removal is queued), so that the ledger's rows are not taken for a new deletion."""
        if self.config.broker or self.syn.ledger.ids_at(row.path):
            scan.put.append(replace(row, size=KEPT, mtime_ns=0, inode=0, seen_at=self.clock()))
        else:
            scan.drop.append(row.path)

    def apply_held(self) -> int:
        """`push --apply-deletes`: carry out the deletions the mass-change guard held."""
        held = [r for r in self.syn.ledger.files().values() if r.size == HELD]
        settled = Scan()
        for row in held:
            self.echo(self.remove(row.post_id, row.path, "file deleted (confirmed)"))
            self._settle(settled, row)
        settled.commit(self.syn.ledger)
        return len(held)

    def revisit(self, scan: Scan) -> None:
        """Carry on with every unfinished row, whoever left it (`new`, `queued`, `creating`, `deferred`
        and due): a process killed mid-unit, a unit skipped for a lease, a task the broker lost.

        A row a live process holds is skipped, saying who holds it until when; with a broker, a
        `queued` or `creating` row is left to its task until `lease.stale_after` has passed."""
        from syndicate.content.loader import load_post
        from syndicate.engine import lease

        now = utcnow()
        sent = {f.post.id for f in scan.changed}
        gone = {r.path for r in [*scan.vanished, *scan.due, *scan.held]}
        stale = timedelta(seconds=lease.stale_after(self.config))
        todo: dict[str, list[str]] = {}
        for row in self.syn.ledger.unfinished(self.clock()):
            path = row.post_path
            if row.post_id in sent or row.target not in self.targets or not path or path in gone:
                continue
            if lease.held(row.lease_owner, row.lease_until, now):
                self.echo(f"unfinished {path} → {row.target}: skip ({lease.LEASED}: "
                          f"{lease.describe(row.lease_owner, row.lease_until, now)})")
                continue
            waiting = row.state in ("queued", "creating") and row.updated_at is not None
            if self.config.broker and waiting and now - row.updated_at < stale:
                continue  # its task has it; the periodic job sends it again if the task was lost
            todo.setdefault(path, []).append(row.target)
        if self._tracking is not None:
            for targets in todo.values():
                self._tracking.expect(targets)
        for path, targets in todo.items():
            if self.stop.is_set():
                return
            if not (self.config.site.root / path).is_file():
                continue  # gone: the deletion takes it from here
            try:
                post = load_post(self.config.site.root / path, self.config.site)
            except (SyndicateError, OSError) as exc:
                self.failures += 1
                self.echo(f"skipped {path}: {exc}")
                continue
            line = self._send(Found(path, post, "unfinished"), targets)
            if line is not None:
                self.echo(line)

    def run_due(self) -> None:
        """In-process only: send the deferred rows whose time has come (the worker's beat does it otherwise)."""
        from syndicate.content.loader import load_post

        for row in self.syn.ledger.due(self.clock()):
            try:
                post = load_post(self.config.site.root / (row.post_path or ""), self.config.site)
            except (SyndicateError, OSError) as exc:
                self.echo(f"skipped {row.post_path}: {exc}")
                continue
            outcome = self.syn.run_inline(post, row.target)
            self.echo(f"due {row.post_path} → {row.target}: {outcome.action} {outcome.status}")

    # --- the loop ---------------------------------------------------------------------------

    def run(self) -> int:
        """Scan, then follow events until SIGTERM/SIGINT; returns the exit code."""
        import watchfiles

        self._signals()
        # no `watch_filter`: watchfiles drops a batch that filters to nothing without yielding, so a file
        # written all the time in the tree (a ledger, a build cache) would hold the loop — its debounced
        # saves, rescans and due runs — for as long as it is written; the loop filters instead
        events = watchfiles.watch(
            self.config.site.root, watch_filter=None, stop_event=self.stop, yield_on_timeout=True,
            rust_timeout=max(20, min(200, self.config.watch.debounce_ms // 2 or 20)), step=20,
            debounce=max(50, self.config.watch.debounce_ms), ignore_permission_denied=True,
        )
        first = next(events, set())  # the watcher is armed first: a save during the first scan is not missed
        try:
            scan = self.reconcile(first=True)
        except BaseException:
            events.close()
            raise
        self.echo(f"watching {scan.stats['files']} file(s) under {self.config.site.root}")
        debounce = self.config.watch.debounce_ms / 1000.0
        rescan = float(self.config.watch.rescan)
        next_rescan = time.monotonic() + rescan
        next_due = time.monotonic() + 60.0
        pending: dict[Path, float] = {}
        full = False
        for changes in itertools.chain([first], events):
            now = time.monotonic()
            for change, raw in changes:
                if not self._wanted(change, raw):
                    continue
                path = Path(raw)
                if self.scanner.matches(path):
                    pending[path] = now
                else:
                    full = True  # a folder renamed or removed: only a full scan sees what it held
                    pending[path] = now
            ready = [p for p, t in pending.items() if now - t >= debounce]
            if ready:
                for p in ready:
                    del pending[p]
                if full and not pending:
                    full = False
                    self.reconcile()
                else:
                    self.reconcile([p for p in ready if self.scanner.matches(p)])
            if now >= next_rescan:
                next_rescan = now + rescan
                self.reconcile()
            if self._next_grace is not None and now >= self._next_grace:
                self._next_grace = None
                self.reconcile([])
            if not self.config.broker and now >= next_due:
                next_due = now + 60.0
                self.run_due()
        self.echo("stopped")
        return 0

    def _wanted(self, _change: Any, raw: str) -> bool:
        path = Path(raw)
        if is_junk(path.name):
            return False
        return self.scanner.matches(path) or not path.suffix or path.is_dir()

    def _signals(self) -> None:
        def handle(signum: int, _frame: FrameType | None) -> None:
            if self.stop.is_set():
                os._exit(128 + signum)  # a second signal: at once (the ledger has the state)
            self.stop.set()
            self.echo("stopping: finishing the current unit (again to exit at once)")

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, handle)
            signal.signal(signal.SIGINT, handle)
