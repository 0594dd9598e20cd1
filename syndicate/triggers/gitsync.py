"""The webhook's sync: fetch the configured repository, diff what the push changed, reconcile those paths.

The git CLI does the work, by subprocess with an argument list (never a
shell). The checkout is shallow (`--depth=1`): each sync fetches the branch's
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

A token reaches git through a credential helper reading an environment
variable of the git process only: never in a URL, an argument or a log.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from syndicate.config.repokey import repo_key, repo_name  # noqa: F401  (the webhook imports them from here)
from syndicate.errors import ConfigError, SyndicateError
from syndicate.state.ledger.rows import utcnow

if TYPE_CHECKING:
    from syndicate.config import Config
    from syndicate.config.schema import Secret
    from syndicate.engine.reconcile import Scan
    from syndicate.engine.runner import Syndicator
    from syndicate.state.ledger.syncs import SyncRow
    from syndicate.triggers.watch import Watcher

log = logging.getLogger(__name__)

SYNCED_REF = "refs/syndicate/synced"
LEASE_SECONDS = 900.0
LIVE_POLL = 5.0  # seconds between looks at a new post's URL (`wait_live`)
GIT_TIMEOUT = 600.0
SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
TOKEN_ENV = "SYNDICATE_GIT_TOKEN"
WRITE_BACK_TRAILER = "Syndicate-Write-Back"  # marks the commits `[site] write_back` makes
# git runs the helper through the shell itself; the token stays in the git process's environment
HELPER = '!f() { test "$1" = get || exit 0; echo "username=%s"; echo "password=${%s}"; }; f'


class GitError(SyndicateError):
    """A git command failed: the message has git's own words, without credentials."""


def git_binary() -> str:
    """The git executable, or a clear start-up error."""
    found = shutil.which("git")
    if found is None:
        raise ConfigError("`git` is not installed or not on PATH: the webhook's sync runs the git CLI "
                          "(install git, e.g. `apt-get install git`)")
    return found


def _user_for(repo: str) -> str:
    host = (urlsplit(repo).hostname or "") if "://" in repo else ""
    # https://docs.gitlab.com/user/profile/personal_access_tokens/ (any non-blank user; oauth2 is customary),
    # https://support.atlassian.com/bitbucket-cloud/docs/using-access-tokens/ (x-token-auth)
    if "gitlab" in host:
        return "oauth2"
    if "bitbucket" in host:
        return "x-token-auth"
    return "x-access-token"


@dataclass
class Change:
    """One line of `git diff --name-status -M`: status A/M/D/R/C/T and the path (and the old one)."""

    status: str
    path: str
    old_path: str | None = None


class Git:
    """The git CLI on one checkout, fetching one configured repository."""

    def __init__(self, repo: str, checkout: Path, token: Secret | None = None, timeout: float = GIT_TIMEOUT) -> None:
        self.binary = git_binary()
        self.repo = repo
        self.checkout = checkout
        self.timeout = timeout
        self.env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS": "",
                    "LC_ALL": "C"}
        self.env.pop(TOKEN_ENV, None)
        self.config: list[str] = ["-c", "advice.detachedHead=false", "-c", "core.quotePath=false"]
        if token:
            self.env[TOKEN_ENV] = token.reveal()
            self.config += ["-c", "credential.helper=", "-c",
                            "credential.helper=" + HELPER % (_user_for(repo), TOKEN_ENV)]

    def run(self, *args: str, cwd: Path | None = None) -> str:
        argv = [self.binary, *self.config, *args]
        try:
            done = subprocess.run(argv, cwd=cwd or self.checkout, env=self.env, capture_output=True,
                                  text=True, timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired:
            raise GitError(f"git {args[0]}: no answer in {self.timeout:g}s") from None
        if done.returncode != 0:
            raise GitError(f"git {args[0]} failed: {self._clean(done.stderr)}")
        return done.stdout

    def _clean(self, text: str) -> str:
        token = self.env.get(TOKEN_ENV)
        if token:
            text = text.replace(token, "**********")
        return re.sub(r"://[^/@\s]+@", "://***@", text).strip()[-500:]

    def default_branch(self) -> str:
        """The repository's default branch, from its HEAD."""
        out = self.run("ls-remote", "--symref", "--", self.repo, "HEAD", cwd=Path.cwd())
        for line in out.splitlines():
            if line.startswith("ref: refs/heads/") and line.endswith("\tHEAD"):
                return line[len("ref: refs/heads/"):-len("\tHEAD")]
        raise GitError(f"cannot tell the default branch of {self._clean(self.repo)}: set [webhook] branch")

    def fetch(self, branch: str) -> str:
        """Fetch the branch's tip (shallow) into the checkout; returns its commit."""
        if not (self.checkout / ".git").is_dir():
            self.checkout.mkdir(parents=True, exist_ok=True)
            self.run("init", "-q", str(self.checkout), cwd=self.checkout)
        local = f"refs/remotes/origin/{branch}"
        self.run("fetch", "-q", "--depth=1", "--no-tags", "--no-write-fetch-head", "--", self.repo,
                 f"+refs/heads/{branch}:{local}")
        return self.run("rev-parse", "--verify", f"{local}^{{commit}}").strip()

    def fetch_commit(self, commit: str) -> bool:
        """Fetch one commit by its id (shallow); False when the repository will not give it (force-pushed away)."""
        if self.has(commit):
            return True
        try:
            self.run("fetch", "-q", "--depth=1", "--no-tags", "--no-write-fetch-head", "--", self.repo, commit)
        except GitError:
            return False
        return self.has(commit)

    def has(self, commit: str) -> bool:
        try:
            self.run("cat-file", "-e", f"{commit}^{{commit}}")
        except GitError:
            return False
        return True

    def diff(self, base: str, tip: str) -> list[Change]:
        out = self.run("diff", "--name-status", "-M", "-z", base, tip, "--")
        fields = out.split("\0")
        changes: list[Change] = []
        i = 0
        while i < len(fields) and fields[i]:
            status = fields[i][0]
            if status in "RC":
                changes.append(Change(status, fields[i + 2], fields[i + 1]))
                i += 3
            else:
                changes.append(Change(status, fields[i + 1]))
                i += 2
        return changes

    def commit_and_push(self, paths: list[str], message: str, author: str, branch: str) -> str:
        """Commit `paths` (relative to the checkout) on the checked-out tip as `author` ("Name <email>"),
        with the write-back trailer, and push it to `branch`; returns the new commit."""
        name, email = author[:author.rindex("<")].strip(), author[author.rindex("<") + 1:].rstrip(">").strip()
        self.run("add", "--", *paths)
        who = ["-c", f"user.name={name}", "-c", f"user.email={email}"]
        saved = dict(self.env)
        self.env.update({"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
                         "GIT_COMMITTER_EMAIL": email})
        try:
            self.run(*who, "commit", "-q", "--no-verify", "-m", message, "-m", f"{WRITE_BACK_TRAILER}: yes",
                     "--", *paths)
        finally:
            self.env = saved
        commit = self.run("rev-parse", "--verify", "HEAD^{commit}").strip()
        self.run("push", "-q", "--no-verify", "--", self.repo, f"{commit}:refs/heads/{branch}")
        self.run("update-ref", f"refs/remotes/origin/{branch}", commit)
        self.run("update-ref", SYNCED_REF, commit)
        return commit

    def switch(self, tip: str, *, synced: bool = True) -> None:
        """The working tree at `tip` (files outside git's index, like a build's output, are left alone)."""
        self.run("checkout", "-q", "-f", "--detach", tip)
        if synced:
            self.run("update-ref", SYNCED_REF, tip)


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
