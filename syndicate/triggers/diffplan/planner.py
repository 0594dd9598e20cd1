"""Each post of the range planned on each target, against the ledger or, without one, against BASE."""
from __future__ import annotations

import dataclasses
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syndicate.errors import SyndicateError
from syndicate.triggers.diffplan.git import Repo
from syndicate.triggers.diffplan.model import _CUT_WORDS, _SHOWN, NO_LEDGER, Alert, Entry, Report, _no_http

if TYPE_CHECKING:
    from syndicate.config import Config
    from syndicate.content.post import Post
    from syndicate.contract import Connector
    from syndicate.engine.plan import Plan
    from syndicate.state.ledger.rows import Row



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
    shared: frozenset[str] = frozenset()  # paths among `errors` stopped for sharing a URL or id with another post


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
    from syndicate.content.loader import in_content, load_post, reset_cache, unique

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
    # two posts with one URL or id are never sent (push and the watcher stop both): neither is planned
    _kept, clashes = unique(list(posts.values()), site)
    shared = set()
    for path, error in clashes:
        rel = path.relative_to(site.root).as_posix()
        posts.pop(rel, None)
        errors[rel] = str(error)
        shared.add(rel)
    return _Side(side, posts, errors, frozenset(shared))


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
            if path in self.after.shared:
                self.report.alerts.append(Alert("shared_url", why, path))
                continue
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
        from syndicate.engine.plan import plan, siblings_of

        if was is not None and was.draft and not now.draft and now.visible_at(self.now) is None:
            self.report.alerts.append(Alert("publishes_draft", f"this PR publishes a draft: {path} ({now.title})",
                                            path))
        for target in self.targets:
            conn = self.connectors[target]
            row = self._row(now.id, target, old_id, was, conn)
            siblings = None
            if conn.wants_siblings and self.view is not None:  # the copies its draft names (bskyPostRef)
                rows = [r for t in self.targets if (r := self._row(now.id, t, old_id, was, conn)) is not None]
                siblings = siblings_of(rows, target, self.types)
            p = plan(now, conn, row, self.now, facts=self.facts[target], targets=self.types, siblings=siblings)
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
