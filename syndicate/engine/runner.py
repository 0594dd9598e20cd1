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
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from syndicate import registry
from syndicate.config import Config, Secret
from syndicate.contract import Connector, Draft, Facts, MediaItem, Notice, Remote, SendContext
from syndicate.engine.lease import LEASED
from syndicate.engine.plan import PLATFORM_DEFERRAL, Plan, plan
from syndicate.errors import (
    AuthFailed,
    MediaError,
    MediaRefused,
    NotCreated,
    NotFound,
    OutcomeUnknown,
    Permanent,
    RateLimited,
    SyndicateError,
    Throttled,
    Transient,
)
from syndicate.state.ledger import Row, utcnow

if TYPE_CHECKING:
    import httpx

    from syndicate.content.post import Post
    from syndicate.state.ledger import Ledger
    from syndicate.state.ledger.peek import Peek

log = logging.getLogger(__name__)
MASK = "**********"
AUTH_PAUSE = 300.0  # seconds a target waits after its credentials were refused
_COUNTDOWN = re.compile(r":? ?next slot in [0-9.]+s")  # the limiter's "next slot in 4.2s", true only when said


class Redactor:
    """Removes every configured secret from a string: the last guard before logs and the ledger."""

    def __init__(self, config: Config) -> None:
        values: set[str] = set()
        for target in config.targets.values():
            for value in target.options.values():
                if isinstance(value, Secret) and len(value.reveal()) >= 4:
                    values.add(value.reveal())
        self._values = sorted(values, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        return text


@dataclass
class Outcome:
    post_id: str
    path: str
    target: str
    action: str
    status: str  # "done" | "skipped" | "failed" | "deferred" | "check" | "waiting" | "retry"
    reason: str = ""
    remote_url: str | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    retry_in: float | None = None  # for "retry": seconds until the next try
    rate_limited: bool = False  # the retry is a rate-limit wait (counted apart from failures)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("retry_in", "rate_limited")}


@dataclass(frozen=True)
class RetryPolicy:
    """One retry policy for the in-process run and the Celery task alike.

    Transient failures back off exponentially with full jitter (tenacity's
    `wait_random_exponential`); a rate limit waits what the platform said
    (`Retry-After`); a wait longer than `max_wait` is deferred to the ledger,
    where the periodic job picks it up.
    """

    max_tries: int = 6  # transient failures of one unit, then it is marked failed
    max_waits: int = 200  # rate-limit waits of one unit, then the ledger takes over
    max_wait: float = 120.0
    backoff_base: float = 0.5
    backoff_cap: float = 60.0

    def backoff(self, tries: int) -> float:
        from tenacity import wait_random_exponential

        wait = wait_random_exponential(multiplier=self.backoff_base, max=self.backoff_cap)
        return float(wait(_Attempt(tries + 1)))  # type: ignore[arg-type]


class _Deferred(Exception):
    """Internal: the unit waits in the ledger for `seconds` (the periodic job takes it up again)."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(seconds, reason)
        self.seconds, self.reason = seconds, reason


@dataclass
class _Attempt:
    attempt_number: int


def idempotency_key(post_id: str, target: str, revision: int, part: int = 0) -> str:
    """Deterministic per (post, target, revision, part): a retry of a create reuses it."""
    key = f"{post_id}.{target}.r{revision}"
    return key if part == 0 else f"{key}.p{part}"


def owner_id() -> str:
    """This process as a lease owner (`syndicate.engine.lease`): its rows are free at once if it dies."""
    from syndicate.engine.lease import process_owner

    return process_owner()


class Syndicator:
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
        try:
            return str(post.path.resolve().relative_to(self.config.site.root))
        except ValueError:
            return str(post.path)

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
        return out

    def plan_for(self, post: Post, target: str, *, force: bool = False, row: Row | None = None,
                 now: datetime | None = None) -> Plan:
        conn = self.connector(target)
        if row is None:
            row = self.reader.get(post.id, target)
        notes: list[str] = []
        facts = self.facts(target, warn=notes)
        p = plan(post, conn, row, now or utcnow(), force=force, facts=facts, targets=self.target_types)
        p.warnings = [*notes, *p.warnings]
        return p

    def requests(self, p: Plan) -> list[dict[str, Any]]:
        """The exact requests the plan's action would send (media ids as placeholders), secrets masked.

        A builder that fails (a platform it would have to ask first) shows no request and says why.
        """
        try:
            return self._requests(p)
        except Exception as exc:  # a preview never crashes on one target
            p.warnings.append(f"request not shown: {self.redact(str(exc)) or type(exc).__name__}")
            return []

    def _requests(self, p: Plan) -> list[dict[str, Any]]:
        """The exact requests the plan's action would send (media ids as placeholders), secrets masked."""
        if p.draft is None and p.action != "delete":
            return []
        conn = self.connector(p.target)
        row = p.row
        remote = Remote(row.remote_id, row.remote_url, row.remote_extra) if row is not None else Remote(None)
        shown: list[dict[str, Any]] = []
        if p.action == "delete":
            shown.append(conn.build_delete(remote).shown())
        elif p.draft is not None and p.action in ("create", "update", "repost"):
            if p.action == "repost":
                shown.append(conn.build_delete(remote).shown())
            key = idempotency_key(p.post.id, p.target, row.revision if row is not None else 1)
            thread: list[Remote] = []
            for i, part in enumerate(p.draft.parts or [None]):
                items = part.media if part is not None else p.draft.media
                ctx = SendContext(media=_placeholders(conn, items), part=i, thread=list(thread), preview=True,
                                  facts=self.facts(p.target))  # as a send gets them (`attempt`)
                if p.action == "update" and i == 0:
                    shown.append(conn.build_update(remote, p.draft, ctx).shown())
                else:
                    pkey = idempotency_key(p.post.id, p.target, 1, i) if i else key
                    shown.extend(r.shown() for r in conn.preview_create(p.draft, pkey, ctx))
                thread.append(Remote(f"<part {i + 1}>"))
        import json

        return json.loads(self.redact(json.dumps(shown, ensure_ascii=False)))

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
                   sleep: Callable[[float], None] = time.sleep) -> Outcome:
        """`attempt` until it is final, sleeping between tries (no broker)."""
        tries = waits = 0
        while True:
            outcome = self.attempt(post, target, force=force, tries=tries, waits=waits)
            if outcome.status != "retry":
                return outcome
            assert outcome.retry_in is not None
            sleep(outcome.retry_in)
            if outcome.rate_limited:
                waits += 1
            else:
                tries += 1

    def execute(self, post: Post, target: str, *, force: bool = False, owner: str | None = None) -> Outcome:
        """One attempt at one (post, target). Raises Transient/RateLimited for the retry policy.

        Permanent, render and auth errors are recorded in the ledger and
        returned as a failed outcome; they are not retried.
        """
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

    def _execute_claimed(self, post: Post, target: str, path: str, force: bool, row: Row,
                         released: list[bool]) -> Outcome:
        conn = self.connector(target)
        p = plan(post, conn, row, utcnow(), force=force, facts=self.facts(target), targets=self.target_types)
        out = Outcome(post.id, path, target, p.action, "skipped", p.reason, warnings=p.warnings)
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

    # --- the steps ---------------------------------------------------------------------------

    def _create(self, conn: Connector, post: Post, target: str, row: Row, draft: Draft, out: Outcome) -> Remote:
        digest = draft.content_hash()
        key = row.idem_key if row.state == "creating" and row.idem_key else idempotency_key(post.id, target, row.revision)
        if len(draft.parts) > 1:
            return self._create_thread(conn, post, target, row, draft, key, digest, out)
        if row.state == "creating":
            found = conn.find(post, key)
            if found is not None:
                # an earlier attempt landed; bring it in line with the current draft
                self.ledger.record_published(post.id, target, found.id, found.url, found.extra, "", first=True)
                if conn.abilities.can_update:
                    found = conn.update(found, draft, self._send_context(conn, draft, draft.all_media, out))
                self.ledger.record_published(post.id, target, found.id, found.url, found.extra, digest,
                                             first=False, release=True)
                return found
        self._wait_live(post, target, row)  # before anything: a copy must not link to a 404
        ctx = self._send_context(conn, draft, draft.all_media, out)  # before the intent: nothing sent yet
        self.ledger.record_intent(post.id, target, key, digest)
        _resumable(ctx, row.remote_extra, key, lambda extra: self.ledger.update(post.id, target, remote_extra=extra))
        try:
            remote = conn.create(draft, key, ctx)
        except (Permanent, AuthFailed, RateLimited):
            # refused: nothing landed, so the next create may start afresh
            self.ledger.update(post.id, target, state="new")
            raise
        except Transient as exc:
            # a 5xx or no connection is an answer, not a lost one: where no `find` could settle a
            # `creating` row later, start afresh (a connector raises OutcomeUnknown when unsure);
            # an answer that proves nothing was made (NotCreated) starts afresh everywhere
            if isinstance(exc, NotCreated) or (not isinstance(exc, OutcomeUnknown) and not conn.abilities.can_find):
                self.ledger.update(post.id, target, state="new")
            raise
        # any other error (a lost response) leaves the row `creating`:
        # the outcome is unknown, and the next attempt finds before it creates
        if ctx.media and not conn.abilities.needs_public_media_url:
            remote.extra = {**remote.extra, "uploads": ctx.media}  # so an edit re-uploads nothing it has
        self.ledger.record_published(post.id, target, remote.id, remote.url, remote.extra, digest, first=True,
                                     release=True)
        return remote

    def _create_thread(self, conn: Connector, post: Post, target: str, row: Row, draft: Draft, key: str,
                       digest: str, out: Outcome) -> Remote:
        """Post each part in turn; a part already posted is kept, so a half-posted thread resumes."""
        done = {p.idx: p for p in self.ledger.parts(post.id, target) if p.revision == row.revision}
        if row.state != "creating":
            self.ledger.record_intent(post.id, target, key, digest)
        remotes: list[Remote] = []
        for i, part in enumerate(draft.parts):
            pkey = key if i == 0 else f"{key}.p{i}"
            prior = done.get(i)
            if prior is not None and prior.state == "published":
                remotes.append(Remote(prior.remote_id, prior.remote_url, prior.remote_extra))
                continue
            if prior is not None and prior.state == "creating":
                if not conn.abilities.can_find:
                    self.ledger.mark_check(post.id, target, f"part {i + 1} of the thread has an unknown outcome")
                    raise Permanent(f"{target}: part {i + 1} of the thread has an unknown outcome; "
                                    f"{conn.abilities.find_hint or 'look on the platform'}, then `syndicate resolve`")
                found = conn.find(post, pkey)
                if found is not None:
                    self.ledger.record_part(post.id, target, i, revision=row.revision, idem_key=pkey,
                                            state="published", remote_id=found.id, remote_url=found.url,
                                            remote_extra=found.extra, content_hash=draft.part_hash(i))
                    remotes.append(found)
                    continue
            ctx = self._send_context(conn, draft, part.media, out, part=i, thread=remotes)
            self.ledger.record_part(post.id, target, i, revision=row.revision, idem_key=pkey, state="creating")

            def save(extra: dict[str, Any], i: int = i, pkey: str = pkey) -> None:
                self.ledger.record_part(post.id, target, i, revision=row.revision, idem_key=pkey, state="creating",
                                        remote_extra=extra)

            _resumable(ctx, prior.remote_extra if prior is not None else None, pkey, save)
            try:
                remote = conn.create(draft, pkey, ctx)
            except (Permanent, AuthFailed, RateLimited, NotCreated):
                # refused: this part did not land; the thread resumes from here next time
                self.ledger.record_part(post.id, target, i, revision=row.revision, idem_key=pkey, state="refused")
                self.ledger.update(post.id, target, state="new" if i == 0 else "failed")
                raise
            self.ledger.record_part(post.id, target, i, revision=row.revision, idem_key=pkey, state="published",
                                    remote_id=remote.id, remote_url=remote.url, remote_extra=remote.extra,
                                    content_hash=draft.part_hash(i))
            remotes.append(remote)
        root = remotes[0]
        extra = {**root.extra, "parts": [r.id for r in remotes]}
        self.ledger.record_published(post.id, target, root.id, root.url, extra, digest, first=True, release=True)
        return Remote(root.id, root.url, extra)

    def _update(self, conn: Connector, post: Post, target: str, row: Row, draft: Draft, out: Outcome) -> Remote:
        digest = draft.content_hash()
        remote = Remote(row.remote_id, row.remote_url, row.remote_extra)
        try:
            if len(draft.parts) > 1 or row.remote_extra.get("parts"):
                remote = self._update_thread(conn, post, target, row, draft, out)
            else:
                ctx = SendContext(facts=self.facts(conn.name), siblings=self._siblings(conn, post.id))
                if conn.abilities.needs_public_media_url:
                    ctx = self._send_context(conn, draft, draft.all_media, out)
                elif type(conn).upload is not Connector.upload:
                    # upload only the images the copy does not have yet; the others keep their ids
                    known = dict(row.remote_extra.get("uploads") or {})
                    fresh = [m for m in draft.all_media if m.source not in known]
                    ctx = self._send_context(conn, draft, fresh, out)
                    ctx.media = {**known, **ctx.media}
                remote = conn.update(remote, draft, ctx)
                if ctx.media and not conn.abilities.needs_public_media_url:
                    remote.extra = {**remote.extra, "uploads": ctx.media}
            if conn.abilities.max_edits is not None:  # counted, so the plan stops at the platform's limit
                remote.extra = {**remote.extra, "edits": int((row.remote_extra or {}).get("edits") or 0) + 1}
        except NotFound:
            # the copy was deleted on the platform: the next attempt creates a new one
            self.ledger.mark_deleted(post.id, target, "the copy was deleted on the platform")
            self.ledger.update(post.id, target, published_at=None)
            raise Transient(f"{target}: the copy was deleted on the platform; it will be created again") from None
        self.ledger.record_published(post.id, target, remote.id, remote.url or row.remote_url, remote.extra, digest,
                                     first=False, release=True)
        return remote

    def _update_thread(self, conn: Connector, post: Post, target: str, row: Row, draft: Draft,
                       out: Outcome) -> Remote:
        """Update the parts both versions have, post the new ones, delete the ones no longer there."""
        old = sorted((p for p in self.ledger.parts(post.id, target) if p.state == "published"), key=lambda p: p.idx)
        key = row.idem_key or idempotency_key(post.id, target, row.revision)
        remotes: list[Remote] = []
        for i, _part in enumerate(draft.parts):
            ctx = self._send_context(conn, draft, [], out, part=i, thread=remotes)
            if i < len(old):
                prior = Remote(old[i].remote_id, old[i].remote_url, old[i].remote_extra)
                remote = conn.update(prior, draft, ctx)
            else:
                remote = conn.create(draft, f"{key}.p{i}", ctx)
            self.ledger.record_part(post.id, target, i, revision=row.revision, idem_key=key if i == 0 else f"{key}.p{i}",
                                    state="published", remote_id=remote.id, remote_url=remote.url,
                                    remote_extra=remote.extra, content_hash=draft.part_hash(i))
            remotes.append(remote)
        for extra in reversed(old[len(draft.parts):]):
            conn.delete(Remote(extra.remote_id, extra.remote_url, extra.remote_extra))
        root = remotes[0]
        return Remote(root.id, root.url, {**root.extra, "parts": [r.id for r in remotes]})

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

    # --- `[watch] wait_live`: a create waits until the post's page answers ---

    def _wait_live(self, post: Post, target: str, row: Row) -> None:
        """Raise `Throttled` (wait and try again) while the canonical URL does not answer 2xx; past
        `wait_live_timeout`, defer the row with the reason (the periodic job tries again)."""
        watch = self.config.watch
        if not watch.wait_live:
            return
        if self.is_live(post.url):
            self._live_tries.pop(post.url, None)  # a long-running worker keeps no count for live pages
            return
        waited = (utcnow() - row.created_at).total_seconds() if row.created_at is not None else 0.0
        if waited < float(watch.wait_live_timeout):
            self._live_tries[post.url] = tries = self._live_tries.get(post.url, 0) + 1
            raise Throttled(f"{post.url} does not answer yet (wait_live): not sent",
                            min(60.0, self.policy.backoff(tries)))
        raise _Deferred(float(watch.wait_live_timeout),
                        f"{post.url} did not answer within {watch.wait_live_timeout:g}s (wait_live)")

    def is_live(self, url: str) -> bool:
        """HEAD, then GET, through the SSRF-safe client: a private site only by `[media] allow`."""
        if self._live_client is None:
            from syndicate.content.media.fetch import safe_client
            from syndicate.content.media.safety import AddressPolicy

            self._live_client = safe_client(AddressPolicy.allowing(*self.config.media.allow),
                                            timeout=float(self.config.http.timeout))
        import httpx

        try:
            for method in ("HEAD", "GET"):
                with self._live_client.stream(method, url, follow_redirects=True) as response:
                    if 200 <= response.status_code < 300:
                        return True
        except (httpx.HTTPError, SyndicateError) as exc:
            log.info("wait_live: %s does not answer: %s", url, exc)
        return False

    def _siblings(self, conn: Connector, post_id: str) -> dict[str, Remote]:
        """This post's published copies on the other targets, by target type (and by name)."""
        if not conn.wants_siblings:
            return {}
        out: dict[str, Remote] = {}
        for row in self.ledger.all([post_id], states=["published"]):
            if row.target == conn.name or row.target not in self.config.targets:
                continue
            remote = Remote(row.remote_id, row.remote_url, dict(row.remote_extra or {}))
            out.setdefault(self.config.targets[row.target].type, remote)
            out[row.target] = remote
        return out

    # --- media: checked or uploaded before anything is recorded ---

    def _send_context(self, conn: Connector, draft: Draft, items: list[MediaItem], out: Outcome, *,
                      part: int = 0, thread: list[Remote] | None = None) -> SendContext:
        ctx = SendContext(part=part, thread=list(thread or []), facts=self.facts(conn.name),
                          siblings=self._siblings(conn, out.post_id))
        if not items:
            return ctx
        policy = conn.limits_for(self.facts(conn.name)).media
        if conn.abilities.needs_public_media_url:
            for item in items:
                ctx.media[item.source] = self._public_url(conn, item, policy)
            return ctx
        if type(conn).upload is Connector.upload or policy is None:
            return ctx
        for item in items[: policy.max_count]:
            local = replace(item, source=str(item.path)) if item.path is not None else item
            try:
                fitted = self.media.fitted(local, policy)
            except MediaRefused as exc:  # one bad image must not sink the post
                out.warnings.append(f"image left out: {exc}")
                continue
            except MediaError as exc:
                raise Transient(f"{conn.name}: image {item.source}: {exc}") from None
            if fitted.alt and policy.alt_max_length is not None:
                fitted = replace(fitted, alt=fitted.alt[: policy.alt_max_length])  # the platform's alt limit
            ctx.media[item.source] = conn.upload(item, fitted)
        return ctx

    def _public_url(self, conn: Connector, item: MediaItem, policy: Any) -> str:
        """The URL the platform will fetch: the image's own when it answers, else a rehosted copy."""
        media = self.media
        problem = media.probe(item.source)
        if problem is None:
            return item.source
        if isinstance(problem, MediaRefused) and item.path is None:
            raise Permanent(f"{conn.name}: image {item.source} can never be fetched: {problem}")
        if getattr(media, "rehost_store", None) is None:
            raise Transient(
                f"{conn.name}: image {item.source} does not answer ({problem}); not published yet, because "
                f"{conn.type} would keep the broken image (deploy the site, or configure [media.rehost])"
            )
        try:
            return str(media.rehost(item, policy, local=item.path))
        except MediaRefused as exc:
            raise Permanent(f"{conn.name}: image {item.source} cannot be rehosted: {exc}") from None
        except MediaError as exc:
            raise Transient(f"{conn.name}: image {item.source} cannot be rehosted yet: {exc}") from None

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


def _resumable(ctx: SendContext, kept: dict[str, Any] | None, key: str,
               save: Callable[[dict[str, Any]], None]) -> None:
    """Give `ctx` what an earlier try of this create recorded under the same key, and a way to record more."""
    prior = (kept or {}).get("progress")
    ctx.progress = dict(prior.get("data") or {}) if isinstance(prior, dict) and prior.get("key") == key else {}

    def record(data: dict[str, Any]) -> None:
        save({"progress": {"key": key, "data": data}})
        ctx.progress = dict(data)

    ctx.record = record


def _placeholders(conn: Connector, items: list[MediaItem]) -> dict[str, str]:
    """What `preview` shows for media: the URL itself (fetched by the platform) or an upload placeholder."""
    if conn.abilities.needs_public_media_url:
        return {m.source: m.source for m in items}
    if type(conn).upload is Connector.upload:
        return {}
    policy = conn.limits.media
    return {m.source: f"<upload: {m.source}>" for m in items[: policy.max_count if policy else None]}


def _version() -> str:
    from syndicate import __version__

    return __version__
