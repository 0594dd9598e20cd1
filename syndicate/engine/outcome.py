"""What a unit of work returns and the rules around it: `Outcome`, the one `RetryPolicy`, the
deterministic idempotency key, and the `Redactor` that keeps secrets out of logs and the ledger.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from syndicate.config import Config, Secret

if TYPE_CHECKING:
    from syndicate.contract import Remote

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


_UNSHOWN = ("retry_in", "rate_limited", "follow", "siblings")


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
    # the units this one asks for (`syndicate.engine.follow`): targets of the same post whose copy names this one
    follow: list[str] = field(default_factory=list)
    # a connector that `wants_siblings`: the post's copies on other targets as its plan saw them (what the send
    # hands it, and what `follow_ups` compares with the ledger once the unit is done)
    siblings: dict[str, Remote] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in _UNSHOWN}


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


def changed(out: Outcome) -> bool:
    """Whether a unit's outcome changed a copy (made, updated or removed it): a write-back may be due."""
    return out.status == "done" and out.action not in ("skip", "wait", "error", "check", "defer")


def idempotency_key(post_id: str, target: str, revision: int, part: int = 0) -> str:
    """Deterministic per (post, target, revision, part): a retry of a create reuses it."""
    key = f"{post_id}.{target}.r{revision}"
    return key if part == 0 else f"{key}.p{part}"


def owner_id() -> str:
    """This process as a lease owner (`syndicate.engine.lease`): its rows are free at once if it dies."""
    from syndicate.engine.lease import process_owner

    return process_owner()
