"""What every unit needs, made lazily and kept for many units: config, ledger, HTTP client, media,
one connector per target (with its shared limiter, tokens and budget), the instance facts, and the
lease on a row (`_claim`, `_renewed`, `_held_reason`). The base of `runner.Syndicator`.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syndicate import registry
from syndicate.config import Config
from syndicate.contract import Connector, Facts, Notice
from syndicate.engine.lease import LEASED
from syndicate.engine.outcome import AUTH_PAUSE, Redactor, RetryPolicy
from syndicate.errors import (
    AuthFailed,
    Permanent,
    RateLimited,
    Transient,
)
from syndicate.state.ledger import Row, utcnow

if TYPE_CHECKING:
    import httpx

    from syndicate.content.post import Post
    from syndicate.state.ledger import Ledger
    from syndicate.state.ledger.peek import Peek

log = logging.getLogger(__name__)


class Parts:
    """Config + ledger + one connector per target; cheap to reuse for many units."""

    def __init__(self, config: Config, *, ledger: Ledger | None = None, http: httpx.Client | None = None,
                 media: Any = None, policy: RetryPolicy | None = None, readonly: bool = False) -> None:
        self.config = config
        self._ledger = ledger
        self.readonly = readonly  # a preview: reads the ledger, records nothing
        self._http = http
        self._media = media
        self.redact = Redactor(config)
        self.policy = policy or RetryPolicy()
        self._connectors: dict[str, Connector] = {}
        self._facts: dict[str, Facts | None] = {}
        self._stopped: dict[str, tuple[str, float]] = {}  # target -> (why, until)
        self._limiter: Any = None
        self._tokens: Any = None
        self._token_file: Any = None
        self._spending: Any = None
        self._live_client: Any = None
        self._live_tries: dict[str, int] = {}
        self._relpaths: dict[Path, str] = {}  # a post's path -> its path in the site (`relpath`)
        # how long a worker holds a row; longer than any one attempt's HTTP calls,
        # short enough that a killed worker's row is taken over soon after
        self.lease_seconds = float(config.queue.lease_seconds)

    # --- lazily made parts (a preview of one post needs no database pool or HTTP client) ---

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            from syndicate.state.ledger.store import open_ledger

            self._ledger = open_ledger(self.config)
        return self._ledger

    @property
    def reader(self) -> Ledger | Peek:
        """Where plans read rows and facts: a read-only SQLite peek for a preview, else the ledger."""
        if self.readonly and self._ledger is None:
            from syndicate.state.ledger.peek import peek_for

            peek = peek_for(self.config.state_url, self.config.site_id)
            if peek is not None:
                return peek
        return self.ledger

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = self.new_http()
        return self._http

    def new_http(self) -> httpx.Client:
        """A client with the configured timeouts (the in-process run makes one per target)."""
        import httpx

        timeout = float(self.config.http.timeout)
        return httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"User-Agent": "syndicate/" + _version()},
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )

    @property
    def media(self) -> Any:
        if self._media is None:
            from syndicate.content.media import pipeline_for

            self._media = pipeline_for(self.config)
        return self._media

    def connector(self, target: str) -> Connector:
        if target not in self._connectors:
            cfg = self.config.targets[target]
            cls = registry.get(cfg.type)
            conn = cls(cfg, self._http, None)
            conn.make_http = lambda: self.http  # one client for every connector, made on first request
            conn.throttle = self._throttle(conn)
            conn.tokens = self._token_cache()
            conn.token_store = self._token_store()
            conn.budget = self._budget(conn)
            self._connectors[target] = conn
        return self._connectors[target]

    def _token_cache(self) -> Any:
        if self._tokens is None:
            from syndicate.auth import TokenCache

            self._tokens = TokenCache(self.config.redis_url)
        return self._tokens

    def _token_store(self) -> Any:
        """Rotating credentials (Threads, X OAuth 2.0): a file in the data folder, and Redis when configured."""
        if self._token_file is None:
            from syndicate.state.tokens import TokenStore

            self._token_file = TokenStore(self.config.data_dir, self.config.redis_url)
        return self._token_file

    def _budget(self, conn: Connector) -> Any:
        """The monthly spending limit of a target with priced requests (`monthly_budget`), shared like the limiter."""
        limit = conn.option("monthly_budget")
        if limit is None:
            return None
        from syndicate.auth import account_of
        from syndicate.state.budget import Budget, spending_for

        if self._spending is None:
            self._spending = spending_for(self.config.redis_url, self.config.data_dir)
        # whom the platform bills (X: the developer app), else the account of the credentials
        scope = getattr(conn, "billed_account", None)
        return Budget(self._spending, scope() if callable(scope) else account_of(conn), float(limit), conn.name)

    def _throttle(self, conn: Connector) -> Any:
        """The shared rate limiter for this target's account: in Redis when configured, else in the
        ledger's database (`syndicate.state.ratesql`); a preview sends nothing and needs none."""
        if self.readonly:
            return None
        from syndicate.auth import account_of
        from syndicate.state.ratelimit import RateLimiter, Throttle, effective_rates

        if self._limiter is None:
            scale = float(self.config.queue.rate_time_scale)
            if self.config.redis_url:
                self._limiter = RateLimiter(self.config.redis_url, time_scale=scale)
            else:
                from syndicate.state.ratesql import SqlRateLimiter

                self._limiter = SqlRateLimiter(lambda: self.ledger.engine, time_scale=scale)
        rates = effective_rates(conn.limits.rates, conn.option("rate_limits") or {},
                                where=f"targets.{conn.name}.rate_limits")
        return Throttle(self._limiter, account_of(conn), rates)

    @property
    def target_types(self) -> dict[str, str]:
        """Every configured target's name -> type (the plan checks a post's front-matter names against it)."""
        return {name: t.type for name, t in self.config.targets.items()}

    def targets_for(self, only: list[str] | None) -> list[str]:
        names = list(self.config.targets)
        if only:
            unknown = [t for t in only if t not in self.config.targets]
            skipped = [f"{t} is skipped: {self.config.skipped[t]}" for t in unknown if t in self.config.skipped]
            if skipped:  # named on purpose: an error, not a warning
                raise KeyError("target " + "; ".join(skipped))
            if unknown:
                raise KeyError(f"unknown target(s): {', '.join(unknown)} (configured: {', '.join(names) or 'none'})")
            names = [t for t in names if t in only]
        return names

    def relpath(self, post: Post) -> str:
        """The post's path in the site (as the ledger keeps it); resolved once per path and process."""
        known = self._relpaths.get(post.path)
        if known is not None:
            return known
        try:
            rel = str(post.path.resolve().relative_to(self.config.site.root))
        except ValueError:
            rel = str(post.path)
        if len(self._relpaths) >= 4096:
            self._relpaths.clear()
        self._relpaths[post.path] = rel
        return rel

    # --- facts: what an instance says of itself, fetched once and kept in the ledger ---

    def facts(self, target: str, *, warn: list[str] | None = None) -> Facts | None:
        """The instance's facts for `target`: from this process, the ledger, or fetched (then cached)."""
        if target in self._facts:
            return self._facts[target]
        conn = self.connector(target)
        if type(conn).fetch_facts is Connector.fetch_facts:
            self._facts[target] = None
            return None
        scope = conn.facts_scope()
        facts = self.reader.get_fact(scope)
        if facts is None:
            try:
                facts = conn.fetch_facts()
            except (Transient, RateLimited, Permanent, AuthFailed) as exc:
                if warn is not None:
                    warn.append(f"instance limits unknown ({self.redact(str(exc))}): the declared defaults apply")
                self._facts[target] = None  # not asked again in this run
                return None
            if facts is not None:
                self.reader.put_fact(scope, facts, conn.facts_ttl)
        self._facts[target] = facts
        return facts

    def notices(self, now: datetime | None = None) -> list[tuple[str, Notice]]:
        """What each target has to say for `status` (a token about to expire, a retired API version, a spent
        budget), from what is known here: cached facts only, nothing is fetched."""
        out: list[tuple[str, Notice]] = []
        for name in self.config.targets:
            try:
                conn = self.connector(name)
                facts = self._facts.get(name)
                if facts is None and type(conn).fetch_facts is not Connector.fetch_facts:
                    facts = self.reader.get_fact(conn.facts_scope())
                out += [(name, n) for n in conn.notices(facts, now or utcnow())]
            except Exception as exc:  # a notice never stops `status`
                out.append((name, Notice("warn", f"{name}: its notices could not be read ({self.redact(str(exc))})")))
        if self.config.site.write_back:  # a site the links could not be written into (read-only...)
            from syndicate.engine.writeback import failed_scope

            try:
                failed = self.reader.get_fact(failed_scope(self.config.site_id))
            except Exception:
                failed = None
            if failed and failed.get("message"):
                out.append(("write-back", Notice("warn", f"write-back: {failed['message']}")))
        return out

    # --- the lease: held while the unit runs, renewed by one thread, taken from a dead holder ---

    def _claim(self, post_id: str, target: str, path: str | None, owner: str) -> Row | None:
        from syndicate.engine.lease import taken_over

        return self.ledger.acquire(post_id, target, path, owner, ttl=self.lease_seconds, take=taken_over)

    def _renewed(self, post_id: str, target: str, owner: str) -> Any:
        from syndicate.engine.lease import keeper, unit_limit

        return keeper.hold(self.ledger, post_id, target, owner, self.lease_seconds, unit_limit(self.config))

    def _held_reason(self, post_id: str, target: str) -> str:
        """Why a unit was skipped for a lease: who holds the row, and until when."""
        from syndicate.engine.lease import describe

        row = self.ledger.get(post_id, target)
        holder = describe(row.lease_owner, row.lease_until) if row is not None else "a process that just let it go"
        return f"{LEASED}: {holder}; that process finishes it (should it die, the next run takes over)"

    # --- a target whose credentials were refused waits, once per run ---

    def _stop(self, target: str, why: str) -> None:
        self._stopped[target] = (why, time.monotonic() + AUTH_PAUSE)
        log.error("%s: credentials refused; every other post on this target waits: %s", target, why)

    def _stop_reason(self, target: str) -> str | None:
        hit = self._stopped.get(target)
        if hit is None:
            return None
        if hit[1] < time.monotonic():
            del self._stopped[target]
            return None
        return hit[0]


def _version() -> str:
    from syndicate import __version__

    return __version__
