"""Tokens a platform hands out at run time (refreshed OAuth tokens), shared by every worker.

Some platforms rotate credentials: X's OAuth 2.0 refresh token is single-use
(each refresh returns a new one), a Threads long-lived token must be
refreshed before its 60 days run out. A token refreshed by one worker must be
the one every other worker uses next, and must survive a restart, or the
account is locked out until someone logs in again by hand.

`TokenStore` keeps them in a file of the data folder (mode 0600, never in the
ledger, never logged) under an exclusive `flock`, and in Redis too when one is
configured, so that workers on other machines see the newest. A read takes the
newest record of the two (by `issued`). `refresh(account, make)` runs `make`
under a lock (Redis `SET NX` lock across machines, the file lock on this one),
after re-reading, so two workers never spend one refresh token twice.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FILE_NAME = "tokens.json"
LOCK_SECONDS = 60.0  # the longest a refresh may hold the lock


@dataclass
class Token:
    """A credential obtained at run time: `value` (an access token), maybe a `refresh` token."""

    value: str
    expires: float | None = None  # epoch seconds; None: no known expiry
    refresh: str | None = None
    issued: float = field(default_factory=time.time)
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:  # never the token itself
        return f"Token(expires={self.expires!r}, issued={self.issued!r})"

    def valid(self, now: float | None = None, margin: float = 60.0) -> bool:
        """Usable for at least `margin` more seconds."""
        return self.expires is None or self.expires - margin > (time.time() if now is None else now)


class TokenStore:
    """Run-time tokens per account: a 0600 file in the data folder, and Redis when configured."""

    def __init__(self, folder: Path, redis_url: str | None = None, prefix: str = "syndicate:token:") -> None:
        self.path = Path(folder) / FILE_NAME
        self._prefix = prefix
        self._redis: Any = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url)

    # --- reading and writing ---------------------------------------------------------------

    def get(self, account: str) -> Token | None:
        """The newest record of `account` in the file and in Redis."""
        found = [t for t in (self._file_get(account), self._redis_get(account)) if t is not None]
        return max(found, key=lambda t: t.issued) if found else None

    def put(self, account: str, token: Token) -> None:
        with self._file_lock():
            data = self._read()
            data[account] = asdict(token)
            self._write(data)
        if self._redis is not None:
            self._redis.set(self._prefix + account, json.dumps(asdict(token)), ex=_ttl(token))

    def drop(self, account: str) -> None:
        with self._file_lock():
            data = self._read()
            if data.pop(account, None) is not None:
                self._write(data)
        if self._redis is not None:
            self._redis.delete(self._prefix + account)

    def refresh(self, account: str, make: Callable[[Token | None], Token],
                still_good: Callable[[Token], bool] | None = None) -> Token:
        """Run `make(current)` once, under the store's lock, unless another worker already did.

        `still_good(token)` (default: `Token.valid`) decides, after the lock is taken and the
        store read again, whether the token another worker just wrote can be used as it is.
        """
        check = still_good or (lambda t: t.valid())
        with self._cluster_lock(account), self._file_lock():
            current = self._newest_locked(account)
            if current is not None and check(current):
                return current
            token = make(current)
            data = self._read()
            data[account] = asdict(token)
            self._write(data)
        if self._redis is not None:
            self._redis.set(self._prefix + account, json.dumps(asdict(token)), ex=_ttl(token))
        return token

    # --- the file ----------------------------------------------------------------------------

    def _newest_locked(self, account: str) -> Token | None:
        found = [t for t in (_token(self._read().get(account)), self._redis_get(account)) if t is not None]
        return max(found, key=lambda t: t.issued) if found else None

    def _file_get(self, account: str) -> Token | None:
        if not self.path.exists():
            return None
        with self._file_lock(shared=True):
            return _token(self._read().get(account))

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return {}  # a damaged file is replaced by the next write
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, Any]) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)

    @contextlib.contextmanager
    def _file_lock(self, shared: bool = False) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    # --- Redis ------------------------------------------------------------------------------

    def _redis_get(self, account: str) -> Token | None:
        if self._redis is None:
            return None
        raw = self._redis.get(self._prefix + account)
        return _token(json.loads(raw)) if raw else None

    @contextlib.contextmanager
    def _cluster_lock(self, account: str) -> Iterator[None]:
        if self._redis is None:
            yield
            return
        lock = self._redis.lock(self._prefix + account + ":lock", timeout=LOCK_SECONDS, blocking_timeout=LOCK_SECONDS)
        if not lock.acquire():
            raise TimeoutError(f"another worker has been refreshing the token of {account.split('|')[0]} "
                               f"for {LOCK_SECONDS:g}s")
        try:
            yield
        finally:
            with contextlib.suppress(Exception):  # expired meanwhile: nothing to release
                lock.release()


def _token(data: Any) -> Token | None:
    if not isinstance(data, dict) or not isinstance(data.get("value"), str):
        return None
    return Token(value=data["value"], expires=data.get("expires"), refresh=data.get("refresh"),
                 issued=float(data.get("issued") or 0.0), extra=dict(data.get("extra") or {}))


def _ttl(token: Token) -> int | None:
    """How long Redis keeps a record: none while it holds a refresh token (it outlives the access token)."""
    if token.refresh or token.expires is None:
        return None
    return max(1, int(token.expires - time.time()))
