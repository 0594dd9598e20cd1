"""`Ledger`: every read and write of one site's rows of the ledger, each one short transaction."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from syndicate.state.ledger.beside import CHUNK, Beside
from syndicate.state.ledger.migrate import ensure_schema, make_engine
from syndicate.state.ledger.schema import Row, files, parts, rows, utcnow
from syndicate.state.ledger.sites import SiteConflict, join

if TYPE_CHECKING:
    from syndicate.config import Config

__all__ = ["CHUNK", "Ledger", "SiteConflict", "open_ledger", "shown_url"]

# A unit's statements (`syndicate.engine.runner`: claim, intent, result, release), built once:
# per call only their parameters change, so SQLAlchemy neither builds nor hashes a statement, and
# each runs alone in autocommit (one round trip, no BEGIN and COMMIT around it). The SET columns
# of an UPDATE are the parameters given beside the key's `k_*` ones.
_KEY = sa.and_(rows.c.site == sa.bindparam("k_site"), rows.c.post_id == sa.bindparam("k_post"),
               rows.c.target == sa.bindparam("k_target"))
_GET = sa.select(rows).where(_KEY)
_HOLDER = sa.select(rows.c.lease_owner).where(_KEY)
_FREE = sa.or_(rows.c.lease_until.is_(None), rows.c.lease_until < sa.bindparam("k_now"),
               rows.c.lease_owner == sa.bindparam("k_owner"))
_CLAIM = rows.update().where(_KEY, _FREE).returning(*rows.c)
_TAKE = rows.update().where(_KEY, rows.c.lease_owner == sa.bindparam("k_held")).returning(*rows.c)
_SET = rows.update().where(_KEY)
_INTENT = rows.update().where(_KEY).values(attempts=rows.c.attempts + 1)
_MINE = rows.update().where(_KEY, rows.c.lease_owner == sa.bindparam("k_owner"))


def open_ledger(config: Config, *, engine: Engine | None = None) -> Ledger:
    """The ledger of `config`'s site (`[state]` url, site and shared); a refusal names the config file."""
    try:
        return Ledger(config.state_url, site=config.site_id, shared=config.shared_ledger, engine=engine)
    except SiteConflict as exc:
        raise SiteConflict(f"{config.path}: {exc}") from None


def shown_url(url: str) -> str:
    """The ledger's URL for messages: a database password masked."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


class Ledger(Beside):
    """One site's rows of the ledger on SQLite or PostgreSQL; every method is one short transaction.

    `site` names the site (see `syndicate.config.site_key`); a ledger another site
    uses is refused (`SiteConflict`) unless `shared`.
    """

    def __init__(self, url: str, *, site: str, shared: bool = False, engine: Engine | None = None) -> None:
        if not site:
            raise ValueError("a ledger is opened for a site: `site` must not be empty")
        self.url = url
        self.site = site
        self.engine = engine or make_engine(url)
        ensure_schema(self.engine)
        join(self.engine, site, shared=shared, now=utcnow(), where=shown_url(url))
        # one statement, one implicit transaction: the unit's reads and writes (see `_KEY`)
        self._auto = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    def _key(self, post_id: str, target: str) -> dict[str, Any]:
        return {"k_site": self.site, "k_post": post_id, "k_target": target}

    def dispose(self) -> None:
        self.engine.dispose()

    # rows: reads
    def get(self, post_id: str, target: str) -> Row | None:
        with self._auto.connect() as conn:
            m = conn.execute(_GET, self._key(post_id, target)).mappings().first()
        return Row.from_db(m) if m else None

    def all(self, post_ids: list[str] | None = None, states: list[str] | None = None) -> list[Row]:
        query = sa.select(rows).where(rows.c.site == self.site).order_by(rows.c.post_path, rows.c.target)
        if post_ids is not None:
            query = query.where(rows.c.post_id.in_(post_ids))
        if states is not None:
            query = query.where(rows.c.state.in_(states))
        with self.engine.connect() as conn:
            return [Row.from_db(m) for m in conn.execute(query).mappings()]

    def due(self, now: datetime | None = None, limit: int = 500) -> list[Row]:
        """Deferred rows whose time has come."""
        now = now or utcnow()
        query = (
            sa.select(rows)
            .where(rows.c.site == self.site, rows.c.state == "deferred", rows.c.deferred_until <= now)
            .order_by(rows.c.deferred_until)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [Row.from_db(m) for m in conn.execute(query).mappings()]

    def counts(self) -> list[tuple[str, str, int]]:
        """(target, state, number of rows) of this site."""
        query = (sa.select(rows.c.target, rows.c.state, sa.func.count()).where(rows.c.site == self.site)
                 .group_by(rows.c.target, rows.c.state))
        with self.engine.connect() as conn:
            return [(target, state, int(n)) for target, state, n in conn.execute(query)]

    def stale(self, older_than: timedelta, now: datetime | None = None, limit: int = 500) -> list[Row]:
        """Rows left `new`, `queued` or `creating` with no live lease for longer than `older_than`.

        A task can be lost between the broker and a worker (a broker restart
        without persistence, a purge, a retry held by a killed worker); the
        periodic job sends these again. The ledger, not the broker, is the
        memory of what is still to do. `check` rows are never among them.
        """
        now = now or utcnow()
        query = (
            sa.select(rows)
            .where(
                rows.c.site == self.site,
                rows.c.state.in_(["new", "queued", "creating"]),
                rows.c.updated_at < now - older_than,
                sa.or_(rows.c.lease_until.is_(None), rows.c.lease_until < now),
            )
            .order_by(rows.c.updated_at)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [Row.from_db(m) for m in conn.execute(query).mappings()]

    # rows: writes
    def ensure(self, post_id: str, target: str, post_path: str | None) -> None:
        """Create the row if missing (state `new`), or refresh its path after a rename.

        Ids come from the canonical URL, so a renamed file keeps its rows; a
        post whose URL changed (a slug that follows the title) keeps them
        through its unchanged path, adopted here under the new id, parts included.
        """
        with self.engine.begin() as conn:
            self._ensure(conn, post_id, target, post_path, utcnow())

    def _ensure(self, conn: Connection, post_id: str, target: str, post_path: str | None, now: datetime) -> None:
        found = conn.execute(sa.select(rows.c.post_path).where(self._pk(rows, post_id, target))).first()
        if found is None and post_path:
            # same file, new id (a URL that follows the title changed): the same post
            old = conn.execute(
                sa.select(rows.c.post_id)
                .where(rows.c.site == self.site, rows.c.post_path == post_path, rows.c.target == target,
                       rows.c.post_id != post_id)
            ).first()
            if old is not None:
                conn.execute(rows.update().where(self._pk(rows, old[0], target)).values(post_id=post_id, updated_at=now))
                conn.execute(parts.update().where(self._pk(parts, old[0], target)).values(post_id=post_id))
                return
        if found is None:
            try:
                with conn.begin_nested():
                    conn.execute(
                        rows.insert().values(
                            site=self.site, post_id=post_id, target=target, post_path=post_path, state="new",
                            revision=1, attempts=0, created_at=now, updated_at=now,
                        )
                    )
            except sa.exc.IntegrityError:
                pass  # another worker inserted it first: fine
        elif post_path and found[0] != post_path:
            conn.execute(rows.update().where(self._pk(rows, post_id, target)).values(post_path=post_path))

    def acquire(self, post_id: str, target: str, post_path: str | None, owner: str, ttl: float = 30.0, *,
                take: Callable[[str], bool] | None = None) -> Row | None:
        """Claim the row (creating it if new) and return it; None if another holder keeps it.

        One conditional `UPDATE ... RETURNING` in the common case: the claim,
        the path refresh and the read of the row in a single round trip. A lease
        expires by itself (its holder renews it while it works); `take(owner)`
        True lets a live lease go at once too (its process is known dead), by a
        compare-and-set on that owner, so two takers cannot both win.
        """
        key = self._key(post_id, target)
        for _ in range(2):
            now = utcnow()
            values: dict[str, Any] = {"lease_owner": owner, "lease_until": now + timedelta(seconds=ttl)}
            if post_path:
                values["post_path"] = post_path
            # each statement alone is atomic; the take-over is a compare-and-set on the holder
            with self._auto.connect() as conn:
                m = conn.execute(_CLAIM, {**key, **values, "k_now": now, "k_owner": owner}).mappings().first()
                if m is not None:
                    return Row.from_db(m)
                held = conn.execute(_HOLDER, key).first()
                if held is not None and held[0] is not None and take is not None and take(held[0]):
                    m = conn.execute(_TAKE, {**key, **values, "k_held": held[0]}).mappings().first()
                    return Row.from_db(m) if m is not None else None
            if held is not None:
                return None  # held by another worker
            self.ensure(post_id, target, post_path)
        return None

    def renew(self, post_id: str, target: str, owner: str, ttl: float) -> bool:
        """Extend `owner`'s lease by `ttl` from now; False when the row is no longer its own."""
        with self._auto.connect() as conn:
            done = conn.execute(_MINE, {**self._key(post_id, target), "k_owner": owner,
                                        "lease_until": utcnow() + timedelta(seconds=ttl)})
        return done.rowcount == 1

    def release(self, post_id: str, target: str, owner: str) -> None:
        with self._auto.connect() as conn:
            conn.execute(_MINE, {**self._key(post_id, target), "k_owner": owner, "lease_owner": None,
                                 "lease_until": None})

    def unfinished(self, now: datetime | None = None) -> list[Row]:
        """Rows whose work was started or asked for and is not done, whoever left them: `queued`,
        `creating`, `deferred` rows whose time has come, and `new` rows a unit took up (a lease never
        released, an attempt, an error). A `new` row nothing ever tried (a draft) is not among them.
        Leases are not looked at: the caller decides."""
        now = now or utcnow()
        tried = sa.or_(rows.c.lease_owner.is_not(None), rows.c.attempts > 0, rows.c.last_error.is_not(None))
        query = (
            sa.select(rows)
            .where(rows.c.site == self.site)
            .where(sa.or_(rows.c.state.in_(["queued", "creating"]),
                          sa.and_(rows.c.state == "new", tried),
                          sa.and_(rows.c.state == "deferred", rows.c.deferred_until <= now)))
            .order_by(rows.c.post_path, rows.c.target)
        )
        with self.engine.connect() as conn:
            return [Row.from_db(m) for m in conn.execute(query).mappings()]

    def untracked_paths(self) -> dict[str, set[str]]:
        """post_path -> post ids of rows not `deleted` whose path the `files` table does not hold:
        posts that `push` or a webhook sent and no watcher has seen (deletion detection covers them)."""
        known = sa.select(files.c.path).where(files.c.site == rows.c.site, files.c.path == rows.c.post_path).exists()
        query = (
            sa.select(rows.c.post_path, rows.c.post_id).distinct()
            .where(rows.c.site == self.site, rows.c.state != "deleted", rows.c.post_path.is_not(None), ~known)
        )
        out: dict[str, set[str]] = {}
        with self.engine.connect() as conn:
            for path, post_id in conn.execute(query):
                out.setdefault(path, set()).add(post_id)
        return out

    def ids_at(self, post_path: str) -> list[str]:
        """The post ids of the rows (not `deleted`) recorded at `post_path`."""
        query = sa.select(rows.c.post_id).distinct().where(rows.c.site == self.site, rows.c.post_path == post_path,
                                                           rows.c.state != "deleted")
        with self.engine.connect() as conn:
            return sorted(r[0] for r in conn.execute(query))

    def update(self, post_id: str, target: str, **values: Any) -> None:
        if "remote_extra" in values:
            values["remote_extra"] = json.dumps(values["remote_extra"] or {}, sort_keys=True)
        values["updated_at"] = utcnow()
        if any(isinstance(v, sa.ColumnElement) for v in values.values()):  # an expression: built here
            with self.engine.begin() as conn:
                conn.execute(rows.update().where(self._pk(rows, post_id, target)).values(**values))
            return
        with self._auto.connect() as conn:
            conn.execute(_SET, {**self._key(post_id, target), **values})

    def record_intent(self, post_id: str, target: str, key: str, content_hash: str) -> None:
        """Committed before `create` is called: from here the outcome is unknown until recorded."""
        values = {"state": "creating", "idem_key": key, "content_hash": content_hash, "last_error": None,
                  "error_kind": None, "deferred_until": None, "defer_reason": None, "reason": None,
                  "deleted_at": None, "updated_at": utcnow()}
        with self._auto.connect() as conn:
            conn.execute(_INTENT, {**self._key(post_id, target), **values})  # attempts + 1 too

    def record_published(
        self, post_id: str, target: str, remote_id: str | None, remote_url: str | None,
        extra: dict[str, Any], content_hash: str, *, first: bool, release: bool = False,
    ) -> None:
        values: dict[str, Any] = {
            "state": "published", "remote_id": remote_id, "remote_url": remote_url, "remote_extra": extra,
            "content_hash": content_hash, "last_error": None, "error_kind": None, "deferred_until": None,
            "defer_reason": None, "reason": None,
        }
        if release:
            values.update(lease_owner=None, lease_until=None)
        if first:
            values["published_at"] = utcnow()
        self.update(post_id, target, **values)

    def record_failure(self, post_id: str, target: str, kind: str, message: str, *, keep_state: bool | None = None) -> None:
        """A failure, with the platform's message. The row becomes `failed`, except that
        `keep_state` (by default: when the row is `published`, `creating` or `check`) leaves
        the state as it is, because the copy on the platform did not change."""
        values: dict[str, Any] = {"last_error": message[:2000], "error_kind": kind}
        if keep_state is None:
            row = self.get(post_id, target)
            keep_state = row is not None and row.state in ("published", "creating", "check")
        if not keep_state:
            values["state"] = "failed"
        self.update(post_id, target, **values)

    def defer(self, post_id: str, target: str, until: datetime, reason: str) -> None:
        self.update(post_id, target, state="deferred", deferred_until=until, defer_reason=reason)

    # rows: the states a human settles
    def mark_check(self, post_id: str, target: str, reason: str) -> None:
        """Outcome unknown and the platform cannot be asked: never sent again until `resolve`."""
        self.update(post_id, target, state="check", reason=reason)

    def mark_deleted(self, post_id: str, target: str, reason: str) -> None:
        """The copy is gone. Clears what pointed at it (parts too) and starts a new revision,
        so a later re-create gets a fresh key and is never "unchanged" against the deleted copy."""
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                rows.update().where(self._pk(rows, post_id, target)).values(
                    state="deleted", deleted_at=now, reason=reason, revision=rows.c.revision + 1,
                    remote_id=None, remote_url=None, remote_extra=None, idem_key=None, content_hash=None,
                    parts_total=None, last_error=None, error_kind=None, deferred_until=None,
                    defer_reason=None, updated_at=now,
                )
            )
            conn.execute(parts.delete().where(self._pk(parts, post_id, target)))

    def mark_baseline(self, post_id: str, target: str, post_path: str | None, content_hash: str | None = None,
                      reason: str = "first-run baseline") -> bool:
        """Known and deliberately never sent (creates the row if needed).

        False, and nothing changed, when the row points at a copy or at an unknown
        outcome (`published`, `creating`, `check`): that record must not be lost.
        """
        now = utcnow()
        with self.engine.begin() as conn:
            self._ensure(conn, post_id, target, post_path, now)
            done = conn.execute(
                rows.update()
                .where(self._pk(rows, post_id, target), rows.c.state.not_in(["published", "creating", "check"]))
                .values(state="baseline", content_hash=content_hash, reason=reason, updated_at=now)
            )
        return done.rowcount == 1

    def resolve(self, post_id: str, target: str, *, found: bool, remote_id: str | None = None,
                remote_url: str | None = None) -> bool:
        """Settle a `check` row by hand: `found` (with its id or URL when known) -> `published`;
        not found -> `new` with the next revision, so the create gets a fresh key.
        False when the row is not in `check`."""
        now = utcnow()
        values: dict[str, Any] = {"reason": None, "last_error": None, "error_kind": None, "updated_at": now}
        if found:
            values.update(state="published", remote_id=remote_id, remote_url=remote_url,
                          published_at=sa.func.coalesce(rows.c.published_at, now))
        else:
            values.update(state="new", revision=rows.c.revision + 1, idem_key=None, content_hash=None,
                          remote_id=None, remote_url=None, remote_extra=None)
        with self.engine.begin() as conn:
            done = conn.execute(
                rows.update().where(self._pk(rows, post_id, target), rows.c.state == "check").values(**values)
            )
        return done.rowcount == 1

    def _upsert(self, table: sa.Table) -> Any:
        """INSERT ... ON CONFLICT (primary key) DO UPDATE every other column, on either backend."""
        stmt: Any
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects import postgresql

            stmt = postgresql.insert(table)
        else:
            from sqlalchemy.dialects import sqlite

            stmt = sqlite.insert(table)
        keys = [c.name for c in table.primary_key.columns]
        return stmt.on_conflict_do_update(
            index_elements=keys, set_={c.name: stmt.excluded[c.name] for c in table.c if c.name not in keys}
        )
