"""The unit of work: carry out the plan for one (post, target), exactly once.

`Syndicator` holds what every unit needs (config, ledger, connectors, media)
and is shared by the CLI (in-process) and the Celery tasks. `execute` does one
attempt and raises the connector's error for the caller's retry policy;
`run_inline` wraps it with tenacity for `syndicate push` without a broker.
"""
from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from syndicate import registry
from syndicate.contract import (
    AuthFailed,
    Connector,
    NotFound,
    Permanent,
    RateLimited,
    Remote,
    Transient,
)
from syndicate.config import Config, Secret
from syndicate.ledger import Ledger, Row, utcnow
from syndicate.plan import Plan, plan
from syndicate.post import Post

log = logging.getLogger(__name__)
MASK = "**********"


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
    status: str  # "done" | "skipped" | "failed" | "deferred" | "retry"
    reason: str = ""
    remote_url: str | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def idempotency_key(post_id: str, target: str, revision: int) -> str:
    """Deterministic per (post, target, revision): a retry of a create reuses it."""
    return f"{post_id}.{target}.r{revision}"


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Syndicator:
    """Config + ledger + one connector per target; cheap to reuse for many units."""

    def __init__(self, config: Config, *, ledger: Ledger | None = None, http: httpx.Client | None = None,
                 media: Any = None) -> None:
        self.config = config
        self.ledger = ledger if ledger is not None else Ledger(config.state_url)
        http_cfg = config.raw.get("http", {}) if isinstance(config.raw.get("http"), dict) else {}
        timeout = float(http_cfg.get("timeout", 30.0))
        self.http = http or httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"User-Agent": "syndicate/0.1"},
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )
        self.media = media if media is not None else _default_media(config)
        self.redact = Redactor(config)
        self._connectors: dict[str, Connector] = {}
        self._prepared: set[str] = set()
        self._limiter: Any = None
        queue = config.raw.get("queue", {})
        # how long a worker holds a row; longer than any one attempt's HTTP calls,
        # short enough that a killed worker's row is taken over soon after
        self.lease_seconds = float(queue.get("lease_seconds", 120)) if isinstance(queue, dict) else 120.0

    def connector(self, target: str) -> Connector:
        if target not in self._connectors:
            cfg = self.config.targets[target]
            cls = registry.get(cfg.type)
            conn = cls(cfg, self.http, self.media)
            conn.throttle = self._throttle(conn)
            self._connectors[target] = conn
        return self._connectors[target]

    def _throttle(self, conn: Connector) -> Any:
        """The shared rate limiter for this target's account, when Redis is configured."""
        if not self.config.redis_url:
            return None
        from syndicate.ratelimit import RateLimiter, Throttle, account_key, effective_rates

        if self._limiter is None:
            queue = self.config.raw.get("queue", {})
            scale = float(queue.get("rate_time_scale", 1.0)) if isinstance(queue, dict) else 1.0
            self._limiter = RateLimiter(self.config.redis_url, time_scale=scale)
        token = next((conn.option(k) for k in conn.secrets if conn.option(k) is not None), None)
        account = account_key(conn.type, str(conn.option("base_url", "")), token)
        rates = effective_rates(conn.limits.rates, conn.option("rate_limits") or {}, where=f"targets.{conn.name}.rate_limits")
        return Throttle(self._limiter, account, rates)

    def prepared(self, target: str) -> Connector:
        """The connector after its one-time I/O set-up (instance limits)."""
        conn = self.connector(target)
        if target not in self._prepared:
            conn.prepare()
            self._prepared.add(target)
        return conn

    def targets_for(self, only: list[str] | None) -> list[str]:
        names = list(self.config.targets)
        if only:
            unknown = [t for t in only if t not in self.config.targets]
            if unknown:
                raise KeyError(f"unknown target(s): {', '.join(unknown)} (configured: {', '.join(names) or 'none'})")
            names = [t for t in names if t in only]
        return names

    def relpath(self, post: Post) -> str:
        try:
            return str(post.path.resolve().relative_to(self.config.site.root))
        except ValueError:
            return str(post.path)

    def plan_for(self, post: Post, target: str, *, force: bool = False, row: Row | None = None,
                 now: datetime | None = None) -> Plan:
        conn = self.connector(target)
        if row is None:
            row = self.ledger.get(post.id, target)
        return plan(post, conn, row, now or utcnow(), force=force)

    # --- one attempt ------------------------------------------------------

    def execute(self, post: Post, target: str, *, force: bool = False, owner: str | None = None) -> Outcome:
        """One attempt at one (post, target). Raises Transient/RateLimited for the retry policy.

        Permanent and auth errors are recorded in the ledger and returned as a
        failed outcome; they are not retried.
        """
        owner = owner or owner_id()
        path = self.relpath(post)
        row = self.ledger.acquire(post.id, target, path, owner, ttl=self.lease_seconds)
        if row is None:
            return Outcome(post.id, path, target, "skip", "skipped", "another worker holds this post for this target")
        released: list[bool] = []
        try:
            return self._execute_claimed(post, target, path, force, row, released)
        except (Permanent, AuthFailed) as exc:
            kind = "auth" if isinstance(exc, AuthFailed) else "permanent"
            message = self.redact(str(exc))
            # a refused update leaves the published copy as it was: `published` stays visible
            self.ledger.record_failure(post.id, target, kind, message)
            return Outcome(post.id, path, target, "error", "failed", kind, error=message)
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
        conn = self.prepared(target)
        p = plan(post, conn, row, utcnow(), force=force)
        out = Outcome(post.id, path, target, p.action, "skipped", p.reason, warnings=p.warnings)
        if p.action == "skip":
            if row is not None and row.remote_url:
                out.remote_url = row.remote_url
            return out
        if p.action == "defer":
            assert p.until is not None
            self.ledger.defer(post.id, target, p.until, p.reason)
            out.status = "deferred"
            return out
        if p.action == "delete":
            assert row.remote_id is not None
            try:
                conn.delete(Remote(row.remote_id, row.remote_url, row.remote_extra))
            except NotFound:
                pass  # already gone: that is what we wanted
            self.ledger.update(post.id, target, state="deleted", last_error=None, error_kind=None)
            out.status = "done"
            return out
        assert p.draft is not None
        digest = p.draft.content_hash()
        if p.action == "create":
            key = idempotency_key(post.id, target, row.revision)
            remote: Remote | None = None
            if row.state == "creating":
                remote = conn.find(post, row.idem_key or key)
                key = row.idem_key or key
            if remote is None:
                self.ledger.record_intent(post.id, target, key, digest)
                try:
                    remote = conn.create(p.draft, key)
                except (Permanent, AuthFailed, RateLimited):
                    # refused: nothing landed, so the next create may start afresh
                    self.ledger.update(post.id, target, state="new")
                    raise
                # any other error (a lost response, a 5xx) leaves the row `creating`:
                # the outcome is unknown, and the next attempt finds before it creates
                self.ledger.record_published(post.id, target, remote.id, remote.url, remote.extra, digest, first=True,
                                             release=True)
                released.append(True)
            else:
                # an earlier attempt landed; bring it in line with the current draft
                self.ledger.record_published(post.id, target, remote.id, remote.url, remote.extra, "", first=True)
                if conn.limits.can_update:
                    remote = conn.update(remote, p.draft)
                    self.ledger.record_published(post.id, target, remote.id, remote.url, remote.extra, digest, first=False)
            out.status, out.remote_url = "done", remote.url
            return out
        # update
        assert row.remote_id is not None
        try:
            remote = conn.update(Remote(row.remote_id, row.remote_url, row.remote_extra), p.draft)
        except NotFound:
            # the copy was deleted on the platform: the next attempt creates a new one
            self.ledger.update(post.id, target, state="new", remote_id=None, remote_url=None,
                               revision=row.revision + 1)
            raise Transient(f"{target}: the copy was deleted on the platform; it will be created again") from None
        self.ledger.record_published(post.id, target, remote.id, remote.url or row.remote_url, remote.extra, digest,
                                     first=False, release=True)
        released.append(True)
        out.status, out.remote_url = "done", remote.url or row.remote_url
        return out

    # --- in-process, with retries -----------------------------------------

    def run_inline(self, post: Post, target: str, *, force: bool = False, max_attempts: int = 5,
                   max_wait: float = 120.0, sleep: Any = time.sleep) -> Outcome:
        """`execute` with retries: backoff with jitter for transient errors, Retry-After for 429s.

        A wait longer than `max_wait` is not slept through: the row is deferred
        and the periodic job (or the next push) picks it up.
        """
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

        backoff = wait_exponential_jitter(multiplier=0.5, max=30.0)

        def wait(state: Any) -> float:
            exc = state.outcome.exception()
            if isinstance(exc, RateLimited) and exc.retry_after is not None:
                return exc.retry_after
            return float(backoff(state))

        retrying = Retrying(
            retry=retry_if_exception_type((Transient, RateLimited)),
            stop=stop_after_attempt(max_attempts),
            wait=wait,
            sleep=lambda seconds: self._sleep_or_defer(seconds, max_wait, sleep),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self.execute(post, target, force=force)
        except _TooLong as long_wait:
            until = datetime.fromtimestamp(time.time() + long_wait.seconds, tz=utcnow().tzinfo)
            self.ledger.defer(post.id, target, until, f"rate limited for {long_wait.seconds:.0f}s")
            return Outcome(post.id, self.relpath(post), target, "retry", "deferred",
                           f"rate limited: deferred until {until.isoformat(timespec='seconds')}")
        except (Transient, RateLimited) as exc:
            message = self.redact(str(exc))
            self.ledger.record_failure(post.id, target, "transient", f"gave up after {max_attempts} attempts: {message}")
            return Outcome(post.id, self.relpath(post), target, "retry", "failed", "retries exhausted", error=message)
        raise AssertionError("unreachable")

    @staticmethod
    def _sleep_or_defer(seconds: float, max_wait: float, sleep: Any) -> None:
        if seconds > max_wait:
            raise _TooLong(seconds)
        sleep(seconds)


class _TooLong(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def _default_media(config: Config) -> Any:
    """The media pipeline for uploads, if it is installed and usable (else None: no uploads)."""
    try:
        from syndicate.media import pipeline_for  # type: ignore[attr-defined]
    except ImportError:
        return None
    return pipeline_for(config)

