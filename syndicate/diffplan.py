"""`syndicate plan --diff BASE..HEAD`: what merging a range of commits would send, read from git alone.

Nothing is sent and nothing is written: the two trees are read with `git
archive` into a temporary folder (the working tree and the repository are
left as they are, so a read-only checkout is fine), the changed post files come
from `git diff --name-status -M` between the two commits, and each (post,
target) is planned by the same `syndicate.engine.plan.plan` that `push` and the
watcher use. The connectors are made without an HTTP client (any attempt to
use one fails): instance facts come from the ledger's cache or the declared
defaults, never from the platform.

Against the ledger (`[state]`, read-only) when it answers; otherwise the BASE
tree stands in for it: a post shown at BASE is taken as sent, its BASE text as
what was sent, and the plan says so at the top.

The same post across a rename is the same post id (`loader.post_id`: the
front matter's `syndicate_id`/`id`/`uuid`/`guid`, else the canonical URL's
path), as the ledger keys its rows. A rename that keeps the id is an update of
the same copies. One that changes it keeps the copies only when the file is
unchanged (the watcher pairs a moved file by its content hash and its rows
follow); otherwise the old id's copies are deleted and the post is created anew.
"""
from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syndicate.errors import SyndicateError

if TYPE_CHECKING:
    from syndicate.config import Config
    from syndicate.content.post import Post
    from syndicate.contract import Connector
    from syndicate.engine.plan import Plan
    from syndicate.state.ledger.rows import Row

MARKER = "<!-- syndicate-plan -->"
FORMAT_VERSION = 1
ACTIONS = ("create", "update", "delete", "held", "skip")
NO_LEDGER = "no ledger reachable: planned from the diff alone"
GIT_TIMEOUT = 120.0
# the engine's actions, as a plan shows them
_SHOWN = {"create": "create", "update": "update", "repost": "update", "delete": "delete", "skip": "skip",
          "defer": "held", "check": "held", "error": "skip"}
# written empty when a tree is read: what a plan needs of them is that they exist
MEDIA = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".heic", ".heif", ".tif", ".tiff", ".bmp",
                   ".ico", ".psd", ".mp4", ".mov", ".webm", ".mkv", ".avi", ".mp3", ".wav", ".ogg", ".m4a",
                   ".flac", ".pdf", ".zip", ".gz", ".tgz", ".xz", ".bz2", ".7z", ".woff", ".woff2", ".ttf",
                   ".otf", ".eot"})
_CUT_WORDS = ("cut to fit", "shortened", "the platform keeps")  # fitting's notes of a text, title or tags cut


class PlanError(SyndicateError):
    """A range that cannot be planned (not a git repository, an unknown ref): exit 2."""


class NoNetwork(SyndicateError):
    """A plan sends nothing: a connector that asked for an HTTP client gets this instead."""


def _no_http() -> Any:
    raise NoNetwork("a plan sends nothing (no request is made to plan)")


@dataclass
class Entry:
    """One (post, target) of the plan."""

    path: str
    target: str
    action: str
    reason: str
    change: str  # added | modified | renamed | deleted
    post_id: str
    title: str
    url: str
    old_path: str | None = None
    type: str = ""
    text: str | None = None  # the fitted text of a social post (its parts joined by a blank line)
    parts: list[str] = field(default_factory=list)
    cost_usd: float | None = None
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Alert:
    """What stands at the top of a plan: a draft published, a mass deletion, a post over a limit."""

    kind: str  # publishes_draft | mass_deletion | over_limit | refused | unreadable
    message: str
    path: str | None = None
    target: str | None = None


@dataclass
class Report:
    base: str
    head: str
    base_commit: str
    head_commit: str
    ledger: str | None  # the ledger read (password masked), or None
    note: str | None  # why no ledger was used
    alerts: list[Alert] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    budgets: dict[str, float] = field(default_factory=dict)  # target -> its monthly_budget (USD), where set

    def summary(self) -> dict[str, Any]:
        counts = {a: sum(e.action == a for e in self.entries) for a in ACTIONS}
        by_target: dict[str, float] = {}
        for e in self.entries:
            if e.cost_usd and e.action in ("create", "update"):
                by_target[e.target] = round(by_target.get(e.target, 0.0) + e.cost_usd, 6)
        return {**counts, "cost_usd": round(sum(by_target.values()), 6),
                "cost_by_target": {t: {"cost_usd": c, "monthly_budget_usd": self.budgets.get(t)}
                                   for t, c in sorted(by_target.items())}}

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION,
            "base": {"ref": self.base, "commit": self.base_commit},
            "head": {"ref": self.head, "commit": self.head_commit},
            "ledger": {"reachable": self.ledger is not None, "url": self.ledger, "note": self.note},
            "alerts": [dataclasses.asdict(a) for a in self.alerts],
            "entries": [e.as_dict() for e in self.entries],
            "summary": self.summary(),
            "errors": [{"path": p, "error": e} for p, e in self.errors],
        }


# --- git -------------------------------------------------------------------------------------


class Repo:
    """Read-only git on the repository that holds the site: rev-parse, diff, archive."""

    def __init__(self, where: Path) -> None:
        from syndicate.triggers.gitsync import git_binary

        self.binary = git_binary()
        self.where = where
        if not where.is_dir():
            raise PlanError(f"{where}: the site folder does not exist")
        try:
            top = self._run("rev-parse", "--show-toplevel", cwd=where).decode().strip()
        except PlanError as exc:
            said = str(exc)
            if "not a git repository" in said:
                raise PlanError(f"{where}: not inside a git repository (plan reads the range from git)") from None
            raise PlanError(f"{where}: git cannot read this repository: {said}") from None
        self.top = Path(top)
        try:
            self.prefix = where.resolve().relative_to(self.top.resolve()).as_posix()
        except ValueError:
            self.prefix = "."
        if self.prefix == ".":
            self.prefix = ""

    def _run(self, *args: str, cwd: Path | None = None) -> bytes:
        env = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}
        import os

        try:
            done = subprocess.run([self.binary, "-c", "core.quotePath=false", *args], cwd=cwd or self.top,
                                  env={**os.environ, **env}, capture_output=True, timeout=GIT_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise PlanError(f"git {args[0]}: no answer in {GIT_TIMEOUT:g}s") from None
        if done.returncode != 0:
            raise PlanError(f"git {args[0]} failed: {done.stderr.decode(errors='replace').strip()[-400:]}")
        return done.stdout

    def commit(self, ref: str) -> str:
        if not ref or ref.startswith("-"):
            raise PlanError(f"{ref!r}: not a git ref")
        try:
            return self._run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}").decode().strip()
        except PlanError:
            raise PlanError(f"unknown ref {ref!r}: no such commit, branch or tag in {self.top} "
                            "(in CI, check out with fetch-depth: 0 so that the base is there)") from None

    def range(self, spec: str) -> tuple[str, str, str, str]:
        """BASE..HEAD (or BASE...HEAD: from their merge base) -> (base ref, head ref, base commit, head commit)."""
        three = "..." in spec
        sep = "..." if three else ".."
        if sep not in spec:
            raise PlanError(f"--diff {spec!r}: give a range, BASE..HEAD (e.g. origin/main..HEAD)")
        base, head = spec.split(sep, 1)
        base, head = base or "HEAD", head or "HEAD"
        if ".." in head:
            raise PlanError(f"--diff {spec!r}: one range only, BASE..HEAD")
        b, h = self.commit(base), self.commit(head)
        if three:
            try:
                b = self._run("merge-base", b, h).decode().strip()
            except PlanError:
                raise PlanError(f"--diff {spec!r}: {base} and {head} have no common ancestor") from None
        return base, head, b, h

    def changes(self, base: str, head: str) -> list[tuple[str, str, str | None]]:
        """(status letter, path, old path) under the site folder, paths relative to the site root."""
        out = self._run("diff", "--name-status", "-M", "-z", "--no-ext-diff", base, head, "--",
                        self.prefix or ".").decode("utf-8", errors="surrogateescape")
        fields = out.split("\0")
        found: list[tuple[str, str, str | None]] = []
        i = 0
        while i < len(fields) and fields[i]:
            status = fields[i][0]
            if status in "RC":
                found.append((status, self._rel(fields[i + 2]), self._rel(fields[i + 1])))
                i += 3
            else:
                found.append((status, self._rel(fields[i + 1]), None))
                i += 2
        return found

    def _rel(self, path: str) -> str:
        return path[len(self.prefix) + 1:] if self.prefix and path.startswith(self.prefix + "/") else path

    def extract(self, commit: str, into: Path) -> Path:
        """The site folder at `commit`, written under `into` (git archive: the repository is only read).

        Media files (images, video, fonts, archives: `MEDIA`) are written empty: planning needs to know
        that an image is there (its URL, whether it is the site's), never its bytes, and a site's images
        are most of its size.
        """
        into.mkdir(parents=True, exist_ok=True)
        root = into / self.prefix if self.prefix else into
        where = self.prefix or "."
        listed = self._run("ls-tree", "-r", "-z", "--full-tree", commit, "--", where).decode(
            "utf-8", errors="surrogateescape")
        if listed.strip("\0"):
            skip = [f":(exclude,glob,icase)**/*{ext}" for ext in sorted(MEDIA)]
            data = self._run("archive", "--format=tar", commit, "--", where, *skip)
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
                tar.extractall(into, filter="data")
            for line in listed.split("\0"):
                meta, _, path = line.partition("\t")
                if not path or not meta.startswith("100") or Path(path).suffix.lower() not in MEDIA:
                    continue
                target = into / path
                if target.resolve().is_relative_to(into.resolve()):
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.touch()
        root.mkdir(parents=True, exist_ok=True)
        return root


# --- the ledger, read-only ---------------------------------------------------------------------


class LedgerView:
    """One site's rows and cached facts, read once; nothing is written (a missing ledger is not made)."""

    def __init__(self, rows: list[Row], facts: dict[str, dict[str, Any]]) -> None:
        self.rows = {(r.post_id, r.target): r for r in rows}
        self.facts = facts

    def get(self, post_id: str, target: str) -> Row | None:
        return self.rows.get((post_id, target))

    def ids_at(self, path: str) -> list[str]:
        return sorted({r.post_id for r in self.rows.values() if r.post_path == path and r.state != "deleted"})


def read_ledger(config: Config) -> tuple[LedgerView | None, str | None, str | None]:
    """(the view, the URL shown, None) when the ledger answers; else (None, None, why not)."""
    import sqlalchemy as sa

    from syndicate.state.ledger.rows import Row
    from syndicate.state.ledger.schema import facts, rows
    from syndicate.state.ledger.store import shown_url

    url = config.state_url
    shown = shown_url(url)
    if url.startswith("sqlite:"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if not path or path == ":memory:" or not Path(path).is_file():
            return None, None, f"{NO_LEDGER} (no ledger at {shown})"
        engine = sa.create_engine(f"sqlite:///file:{Path(path).resolve()}?mode=ro&uri=true")
    else:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        engine = sa.create_engine(url, connect_args={"connect_timeout": 5}, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            found = [Row.from_db(m) for m in conn.execute(sa.select(rows).where(rows.c.site == config.site_id))
                     .mappings()]
            cached = {scope: json.loads(data) for scope, data in conn.execute(sa.select(facts.c.scope, facts.c.data))}
    except sa.exc.SQLAlchemyError as exc:
        why = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
        return None, None, f"{NO_LEDGER} ({shown} does not answer: {why})"
    finally:
        engine.dispose()
    return LedgerView(found, cached), shown, None


# --- planning ---------------------------------------------------------------------------------


@dataclass
class _Side:
    config: Config
    posts: dict[str, Post]  # path (relative to the site root) -> post
    errors: dict[str, str]


def plan_range(config: Config, spec: str, *, now: datetime | None = None, use_ledger: bool = True) -> Report:
    """Plan what merging `spec` (BASE..HEAD) would send. Raises `PlanError` for a range that cannot be read."""
    from syndicate.state.ledger.rows import utcnow

    now = now or utcnow()
    repo = Repo(config.site.root)
    base_ref, head_ref, base, head = repo.range(spec)
    changes = repo.changes(base, head)
    view, shown, note = read_ledger(config) if use_ledger else (None, None, f"{NO_LEDGER} (--no-ledger)")
    report = Report(base_ref, head_ref, base, head, shown, note)
    with _trees(repo, base, head) as (base_root, head_root):
        wanted_base = {old or path for status, path, old in changes if status in "DMRT"}
        wanted_head = {path for status, path, _ in changes if status in "AMRTC"}
        before = _load(config, base_root, wanted_base)
        after = _load(config, head_root, wanted_head)
        _Planner(config, report, view, before, after, now).run(changes)
        _scrub(report, [before.config.site.root, after.config.site.root])
    return report


def _scrub(report: Report, roots: list[Path]) -> None:
    """The temporary folders' paths out of every message: a path is shown relative to the site root."""
    def clean(text: str) -> str:
        for root in roots:
            text = text.replace(f"{root}/", "").replace(str(root), ".")
        return text

    for e in report.entries:
        e.reason, e.warnings = clean(e.reason), [clean(w) for w in e.warnings]
    for a in report.alerts:
        a.message = clean(a.message)
    report.errors = [(p, clean(m)) for p, m in report.errors]


@contextmanager
def _trees(repo: Repo, base: str, head: str) -> Iterator[tuple[Path, Path]]:
    with tempfile.TemporaryDirectory(prefix="syndicate-plan-") as tmp:
        yield repo.extract(base, Path(tmp) / "base"), repo.extract(head, Path(tmp) / "head")


def _load(config: Config, root: Path, paths: set[str]) -> _Side:
    from syndicate.content.loader import in_content, load_post, reset_cache

    site = dataclasses.replace(config.site, root=root.resolve())
    side = dataclasses.replace(config, site=site)
    reset_cache()
    posts: dict[str, Post] = {}
    errors: dict[str, str] = {}
    for rel in sorted(paths):
        path = site.root / rel
        if not path.is_file() or not in_content(path, side):
            continue
        try:
            posts[rel] = load_post(path, site)
        except (SyndicateError, OSError, UnicodeDecodeError) as exc:
            errors[rel] = str(exc)
    return _Side(side, posts, errors)


class _Planner:
    def __init__(self, config: Config, report: Report, view: LedgerView | None, before: _Side, after: _Side,
                 now: datetime) -> None:
        from syndicate import registry

        self.config = config
        self.report = report
        self.view = view
        self.before = before
        self.after = after
        self.now = now
        self.targets = list(config.targets)
        self.types = {name: t.type for name, t in config.targets.items()}
        self.connectors: dict[str, Connector] = {}
        for name, target in config.targets.items():
            conn = registry.get(target.type)(target, None, None)
            conn.make_http = _no_http  # a plan sends nothing: a client asked for is an error
            self.connectors[name] = conn
        self.facts = {name: self._facts(conn) for name, conn in self.connectors.items()}
        for name, conn in self.connectors.items():
            if conn.option("monthly_budget") is not None:
                report.budgets[name] = float(conn.option("monthly_budget"))
        self._syn: Any = None

    def _facts(self, conn: Connector) -> dict[str, Any] | None:
        from syndicate.contract import Connector as Base

        if self.view is None or type(conn).fetch_facts is Base.fetch_facts:
            return None
        return self.view.facts.get(conn.facts_scope())

    def run(self, changes: list[tuple[str, str, str | None]]) -> None:
        before, after = self.before.posts, self.after.posts
        for path, why in {**self.after.errors}.items():
            self.report.errors.append((path, why))
            self.report.alerts.append(Alert("unreadable", f"{path}: cannot be read at HEAD, nothing is sent for it: "
                                                          f"{why}", path))
        added: dict[str, Post] = {}  # post id -> a post new at HEAD
        gone: dict[str, tuple[str, Post]] = {}  # post id -> (path at BASE, post) of a file deleted
        pairs: list[tuple[str, str | None, str, Post | None, Post]] = []  # (change, old path, path, old, new)
        for status, path, old in changes:
            old_path = old if status == "R" else path if status in "MT" else None
            was = before.get(old_path) if old_path else None
            now = after.get(path) if status != "D" else None
            if status == "D":
                was = before.get(path)
                if was is not None:
                    gone[was.id] = (path, was)
                continue
            if now is None:  # no post at HEAD (not a post file, or unreadable)
                if was is not None and old_path is not None and old_path not in self.after.errors \
                        and path not in self.after.errors:
                    gone[was.id] = (old_path, was)
                continue
            if was is None:
                added[now.id] = now
                pairs.append(("added", None, path, None, now))
            else:
                pairs.append(("renamed" if status == "R" else "modified", old_path if status == "R" else None, path,
                              was, now))
        # a post deleted in one place and added in another under the same id is one post that moved
        for pid in list(added):
            if pid in gone:
                old_path, was = gone.pop(pid)
                pairs = [("renamed", old_path, p, was, n) if n is added[pid] and c == "added" else (c, o, p, w, n)
                         for c, o, p, w, n in pairs]
        for change, old_path, path, was, now in pairs:
            old_id = None
            if change == "modified" and was is not None and was.id != now.id:
                old_id = was.id  # same file, new URL: the ledger adopts the file's rows under the new id
            if change == "renamed" and was is not None and was.id != now.id:
                if _same_file(was, now):  # the watcher pairs it by hash: the rows follow the file
                    old_id = was.id
                else:  # a new post for every platform, as the watcher sees it (it pairs by id or hash only)
                    gone[was.id] = (old_path or path, was)
                    now.warnings.append(
                        f"git reads this as a rename of {old_path}, but its URL changed ({was.url} → {now.url}) and "
                        f"so did its text: it is posted anew and the old copies are deleted; if it is the same "
                        f"post, put `syndicate_id: {was.id}` in its front matter to keep them")
                    change, old_path, was = "added", None, None
            self._post(change, old_path, path, was, now, old_id)
        self._deletions(gone)
        self._alerts()

    # one post at HEAD, on every target
    def _post(self, change: str, old_path: str | None, path: str, was: Post | None, now: Post,
              old_id: str | None) -> None:
        from syndicate.engine.plan import plan

        if was is not None and was.draft and not now.draft and now.visible_at(self.now) is None:
            self.report.alerts.append(Alert("publishes_draft", f"this PR publishes a draft: {path} ({now.title})",
                                            path))
        for target in self.targets:
            conn = self.connectors[target]
            row = self._row(now.id, target, old_id, was, conn)
            p = plan(now, conn, row, self.now, facts=self.facts[target], targets=self.types)
            entry = self._entry(p, change, path, old_path, now)
            if row is not None and self.view is None and entry.action in ("update", "skip") and p.action != "error":
                entry.reason += " (taken as sent at BASE: no ledger)"
            self.report.entries.append(entry)

    def _row(self, post_id: str, target: str, old_id: str | None, was: Post | None, conn: Connector) -> Row | None:
        """The ledger's row; without a ledger, one made from BASE: a post shown there was sent, as it was."""
        from syndicate.engine.fitting import fit_draft
        from syndicate.engine.plan import _thread
        from syndicate.state.ledger.rows import Row

        if self.view is not None:
            row = self.view.get(post_id, target)
            if row is None and old_id:
                row = self.view.get(old_id, target)
            return row
        if was is None or was.visible_at(self.now) is not None or not was.due(self.now) \
                or not was.control.allows(target, conn.type):
            return None
        try:
            draft = fit_draft(conn.render(was, self.facts[target]), conn.limits_for(self.facts[target]),
                              thread=_thread(conn))
            digest = draft.content_hash()
        except Exception:  # BASE's text cannot render: whatever was sent, HEAD's differs from it
            digest = ""
        return Row(post_id, target, "published", post_path=None, content_hash=digest or "?",
                   published_at=self.now, remote_id="(unknown)")

    def _entry(self, p: Plan, change: str, path: str, old_path: str | None, post: Post) -> Entry:
        action = _SHOWN.get(p.action, p.action)
        entry = Entry(path, p.target, action, p.reason, change, post.id, post.title, post.url, old_path,
                      self.types[p.target], warnings=list(p.warnings))
        draft = p.draft
        if draft is not None and draft.parts and any(part.text for part in draft.parts):
            entry.parts = [part.text or "" for part in draft.parts]
            entry.text = "\n\n".join(entry.parts)
        if p.action in ("create", "update", "repost"):
            entry.cost_usd = self._cost(p)
        cuts = [w for w in (draft.warnings if draft is not None else []) if any(k in w for k in _CUT_WORDS)]
        if p.action == "error":
            self.report.alerts.append(Alert("refused", f"{path} → {p.target}: {p.reason}", path, p.target))
        elif cuts and action in ("create", "update"):
            self.report.alerts.append(Alert("over_limit", f"{path} → {p.target} is over {self.types[p.target]}'s "
                                                          f"limit: {'; '.join(cuts)}", path, p.target))
        return entry

    def _cost(self, p: Plan) -> float | None:
        """What the platform charges for the plan's requests (X), from the requests the connector builds."""
        if self._syn is None:
            from syndicate.engine.runner import Syndicator

            self._syn = Syndicator(self.config, readonly=True)
            self._syn._connectors.update(self.connectors)  # no client, no budget, no limiter
            self._syn._facts.update(self.facts)
        shown = self._syn.requests(p)
        prices = [float(r["price_usd"]) for r in shown if isinstance(r, dict) and r.get("price_usd") is not None]
        return round(sum(prices), 6) if prices else None

    def _deletions(self, gone: dict[str, tuple[str, Post]]) -> None:
        from syndicate.engine.plan import delete_too_late, has_copy

        entries: list[Entry] = []
        for pid, (path, was) in sorted(gone.items(), key=lambda kv: kv[1][0]):
            ids = sorted({pid, *(self.view.ids_at(path) if self.view is not None else [])})
            for target in self.targets:
                conn = self.connectors[target]
                able = conn.abilities
                policy = conn.option("on_delete") or ("delete" if able.delete != "none" else "keep")
                for post_id in ids:
                    row = self.view.get(post_id, target) if self.view is not None else None
                    if self.view is None:
                        shown = (was.visible_at(self.now) is None and was.due(self.now)
                                 and was.control.allows(target, conn.type))
                        copy = shown
                        why = "" if shown else f"it was {was.visible_at(self.now) or 'not due or opted out'} at BASE"
                    else:
                        copy = has_copy(row)
                        why = "nothing recorded" if row is None else "already deleted" if row.state == "deleted" \
                            else "nothing had been sent"
                    entry = Entry(path, target, "skip", "", "deleted", post_id, was.title, was.url, None, conn.type)
                    if not copy:
                        entry.reason = f"file deleted: {why}"
                    elif policy == "keep" or able.delete == "none":
                        keep = "on_delete = keep" if policy == "keep" else f"{conn.type} cannot delete"
                        entry.reason = f"file deleted; {keep}: the copy stays"
                    elif row is not None and delete_too_late(conn, row, self.now):
                        entry.reason = f"file deleted; {delete_too_late(conn, row, self.now)}: the copy stays"
                    else:
                        how = "unpublish" if able.delete == "unpublish" or policy == "unpublish" else "delete"
                        entry.action, entry.reason = "delete", f"file deleted: {how} the copy"
                        if self.view is None:
                            entry.reason += " (taken as sent at BASE: no ledger)"
                    entries.append(entry)
        limit = self.config.watch.max_deletes
        if len(gone) > limit:
            for entry in entries:
                if entry.action == "delete":
                    entry.action = "held"
                    entry.reason = (f"file deleted: held by the mass-change guard ({len(gone)} posts deleted, more "
                                    f"than [watch] max_deletes = {limit}) until `syndicate push --apply-deletes`")
            self.report.alerts.append(Alert(
                "mass_deletion", f"mass deletion: this PR deletes {len(gone)} posts (more than [watch] max_deletes = "
                f"{limit}); their copies are held until someone runs `syndicate push --apply-deletes`"))
        self.report.entries.extend(entries)

    def _alerts(self) -> None:
        order = {"publishes_draft": 0, "mass_deletion": 1, "over_limit": 2, "refused": 3, "unreadable": 4}
        self.report.alerts.sort(key=lambda a: order.get(a.kind, 9))


def _same_file(a: Post, b: Post) -> bool:
    try:
        return a.path.read_bytes() == b.path.read_bytes()
    except OSError:
        return False


# --- output -----------------------------------------------------------------------------------


_ICON = {"publishes_draft": "📝", "mass_deletion": "🗑️", "over_limit": "✂️", "refused": "⛔", "unreadable": "⛔"}


ALERTS_SHOWN = 10  # of one kind, at the top of text and markdown (JSON has them all)


def _top(report: Report) -> list[str]:
    """The alerts to print: at most `ALERTS_SHOWN` of a kind, then how many more."""
    out: list[str] = []
    kinds = list(dict.fromkeys(a.kind for a in report.alerts))
    for kind in kinds:
        same = [a for a in report.alerts if a.kind == kind]
        out += [a.message for a in same[:ALERTS_SHOWN]]
        if len(same) > ALERTS_SHOWN:
            out.append(f"… and {len(same) - ALERTS_SHOWN} more of these ({kind.replace('_', ' ')}: see below)")
    return out


def _short(commit: str) -> str:
    return commit[:12]


def _entries_sorted(report: Report) -> list[Entry]:
    order = {a: i for i, a in enumerate(ACTIONS)}
    return sorted(report.entries, key=lambda e: (order.get(e.action, 9), e.path, e.target))


def _summary_line(report: Report) -> str:
    s = report.summary()
    line = ", ".join(f"{s[a]} {a}" for a in ACTIONS)
    if s["cost_usd"]:
        line += f"; cost ${s['cost_usd']:.4f}"
        costs = []
        for target, c in s["cost_by_target"].items():
            budget = c["monthly_budget_usd"]
            costs.append(f"{target} ${c['cost_usd']:.4f}" + (f" of a ${budget:g} monthly budget" if budget else ""))
        line += f" ({', '.join(costs)})"
    return line


def _once(entries: list[Entry]) -> list[tuple[Entry, str]]:
    """Each warning once per post: a post's own (an image without alt text) is not repeated for each target."""
    seen: set[tuple[str, str]] = set()
    out = []
    for e in entries:
        for w in e.warnings:
            if (e.path, w) not in seen:
                seen.add((e.path, w))
                out.append((e, w))
    return out


def as_text(report: Report) -> str:
    base = _short(report.base) if report.base == report.base_commit else report.base
    head = _short(report.head) if report.head == report.head_commit else report.head
    shown = f"{base}..{head}"
    commits = f"{_short(report.base_commit)}..{_short(report.head_commit)}"
    out = [f"plan for {shown}" + (f" ({commits})" if shown != commits else "")]
    out.append(f"ledger: {report.ledger}" if report.ledger else (report.note or NO_LEDGER))
    for message in _top(report):
        out.append(f"!! {message}")
    if not report.entries:
        out.append("no post changes in this range: nothing would be sent")
    said: set[tuple[str, str]] = set()
    for e in _entries_sorted(report):
        head = f"{e.action:<7} {e.path} → {e.target}: {e.reason}"
        if e.old_path:
            head += f" (was {e.old_path})"
        if e.cost_usd:
            head += f" [${e.cost_usd:.4f}]"
        out.append(head)
        if e.text is not None and e.action in ("create", "update"):
            for i, part in enumerate(e.parts):
                label = f"  part {i + 1}/{len(e.parts)}: " if len(e.parts) > 1 else "  text: "
                out.append(label + "\n".join(("        " + line).rstrip() if i else line
                                              for i, line in enumerate(part.split("\n"))))
        for w in e.warnings:
            if (e.path, w) not in said:
                said.add((e.path, w))
                out.append(f"  warning: {w}")
    out.append(_summary_line(report))
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def _fence(text: str) -> str:
    longest = max((len(run) for run in text.split("\n") for run in _runs(run)), default=0)
    return "`" * max(3, longest + 1)


def _runs(line: str) -> list[str]:
    runs, cur = [], ""
    for ch in line:
        if ch == "`":
            cur += ch
        elif cur:
            runs.append(cur)
            cur = ""
    return [*runs, cur] if cur else runs


COMMENT_MAX = 60_000  # GitHub takes a comment of at most 65,536 characters


def as_markdown(report: Report, *, texts: bool = True) -> str:
    """The plan as a pull-request comment; past `COMMENT_MAX` the fitted texts are left out (the table stays)."""
    shown = _markdown(report, texts=texts)
    if texts and len(shown) > COMMENT_MAX:
        shown = _markdown(report, texts=False)
    return shown


def _markdown(report: Report, *, texts: bool) -> str:
    out = [MARKER, f"### syndicate plan: `{_short(report.base_commit)}..{_short(report.head_commit)}`", ""]
    icons = {a.message: _ICON.get(a.kind, "⚠️") for a in report.alerts}
    for message in _top(report):
        out.append(f"> {icons.get(message, '⚠️')} **{_cell(message)}**")
        out.append(">")
    if report.alerts:
        out.pop()
        out.append("")
    out.append(f"Ledger: `{report.ledger}`" if report.ledger else f"_{_cell(report.note or NO_LEDGER)}_")
    out.append("")
    entries = _entries_sorted(report)
    if not entries:
        out.append("No post changes in this range: nothing would be sent.")
    else:
        out += ["| post | target | action | reason | cost |", "|---|---|---|---|---|"]
        for e in entries:
            post = f"`{_cell(e.path)}`" + (f" (was `{_cell(e.old_path)}`)" if e.old_path else "")
            cost = f"${e.cost_usd:.4f}" if e.cost_usd else ""
            out.append(f"| {post} | {_cell(e.target)} | **{e.action}** | {_cell(e.reason)} | {cost} |")
        out.append("")
        social = [e for e in entries if e.text is not None and e.action in ("create", "update")]
        if social and not texts:
            out += ["_The fitted texts are left out: the plan is too long for one comment "
                    "(`syndicate plan --format text` shows them)._", ""]
        for e in social if texts else []:
            fence = _fence(e.text or "")
            out += [f"<details><summary>{_cell(e.target)}: {_cell(e.title)} ({e.action})</summary>", "",
                    f"{fence}text", e.text or "", fence, "", "</details>", ""]
        warned = _once(entries)
        if warned:
            out += ["<details><summary>warnings</summary>", ""]
            out += [f"- `{_cell(e.path)}` → {_cell(e.target)}: {_cell(w)}" for e, w in warned]
            out += ["", "</details>", ""]
    for path, why in report.errors:
        out.append(f"- ⛔ `{_cell(path)}`: {_cell(why)}")
    out.append(f"**{_summary_line(report)}** · sent nothing: this is a plan")
    return "\n".join(out) + "\n"


def as_json(report: Report) -> str:
    return json.dumps(report.as_dict(), ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def render(report: Report, fmt: str) -> str:
    if fmt == "markdown":
        return as_markdown(report)
    if fmt == "json":
        return as_json(report)
    return as_text(report)


__all__ = ["MARKER", "NO_LEDGER", "PlanError", "Report", "plan_range", "render"]
