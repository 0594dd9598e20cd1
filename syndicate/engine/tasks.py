"""Celery app and tasks: the same unit of work as `syndicate push`, through a broker.

One task per (post, target); its arguments are ids (the post's path in the
site and its stable id, the target's name), never objects. Tasks run with
`acks_late` and `reject_on_worker_lost`: a killed worker's task is delivered
again, and the ledger (claim + recorded intent + `find`) makes that harmless.

No countdown is ever longer than `lease.max_countdown`, well under the Redis
visibility timeout: Celery on Redis redelivers ETA tasks held past it
(celery/celery#2599, kombu#337). Longer waits go into the ledger as
`deferred_until`, and the periodic `syndicate.due` task enqueues them. The
visibility timeout itself is the longest task the engine allows
(`lease.visibility_timeout`), so a task held by a worker that lost its broker
comes back in minutes, not hours; the periodic job also sends again any row
left unfinished with no live lease (`lease.stale_after`).

    celery -A syndicate.engine.tasks worker        # or: syndicate worker
    celery -A syndicate.engine.tasks beat          # or: syndicate beat / worker -B
"""
from __future__ import annotations

import hashlib
import logging
import os
import random
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn

from celery import Celery, Task
from sqlalchemy import exc as sa_exc

from syndicate.config import Config, ConfigError, find_config
from syndicate.engine.lease import LEASED, unit_owner
from syndicate.engine.runner import AUTH_PAUSE
from syndicate.errors import PostError
from syndicate.registry import load_config
from syndicate.state.ledger import utcnow
from syndicate.state.ping import ping_redis

log = logging.getLogger(__name__)

VISIBILITY_TIMEOUT = 3600  # seconds, before `configure` (a worker with no config at all)
MAX_COUNTDOWN = 120  # never schedule further ahead than this through the broker
BROKER_TIMEOUT = 5.0  # seconds: connecting to the broker, or its answer to a command

app = Celery("syndicate")
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    task_acks_on_failure_or_timeout=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    task_default_queue="syndicate",
    task_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    broker_connection_max_retries=None,  # a broker outage is waited out, however long
    broker_connection_timeout=BROKER_TIMEOUT,
    broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
    worker_hijack_root_logger=False,
    # no remote control: its broadcast channel is Redis pub/sub, and kombu's pub/sub
    # reconnect after a broker restart kills the worker ("'NoneType' object has no
    # attribute 'hostname'" in kombu.transport.redis._connparams)
    worker_enable_remote_control=False,
    beat_schedule={"syndicate-due": {"task": "syndicate.due", "schedule": 60.0}},
    timezone="UTC",
    # the webhook's `syndicate.sync` task lives beside the sync it runs (it uses this module's enqueue)
    include=["syndicate.triggers.synctask"],
)

_shared: dict[str, Any] = {}
_lock = threading.RLock()  # `syndicator()` loads the config (`_config()`) while holding it
POST_TTL = 10.0  # seconds a loaded post serves its other targets' tasks (`_load_post`)
INDEX_TTL = 60.0  # seconds before a worker lists the site again for posts sharing a URL (`_load_post`)
_posts: dict[tuple[str, bytes], tuple[float, Any]] = {}


def configure(config: Config) -> Celery:
    """Point the app at the config's broker and queue settings."""
    from syndicate.engine import lease

    queue = config.queue
    vt = lease.visibility_timeout(config)
    app.conf.update(
        broker_url=config.broker,
        task_default_queue=queue.name,
        broker_transport_options=_transport_options(config.broker or "", vt),
        beat_schedule={"syndicate-due": {"task": "syndicate.due", "schedule": float(queue.scan_interval)}},
    )
    _shared["config"] = config
    _shared["max_countdown"] = lease.max_countdown(config)
    # a row new, queued or creating for longer than this with no live lease is sent again
    _shared["stale_after"] = lease.stale_after(config)
    return app


def _transport_options(broker: str, vt: float) -> dict[str, Any]:
    """The visibility timeout, and for Redis a deadline on every connect and command, so that a
    broker that accepts connections and never answers is an error, not a hang."""
    options: dict[str, Any] = {"visibility_timeout": int(vt)}
    if broker.startswith(("redis://", "rediss://", "unix://")):
        options.update(socket_connect_timeout=BROKER_TIMEOUT, socket_timeout=max(30.0, 6 * BROKER_TIMEOUT),
                       socket_keepalive=True, retry_on_timeout=True)
    return options


def _config() -> Config:
    if "config" not in _shared:
        with _lock:
            if "config" not in _shared:
                configure(load_config(find_config(None)))
    return _shared["config"]


def syndicator() -> Any:
    """One Syndicator per process (its HTTP client and DB pool are thread-safe)."""
    if "syndicator" not in _shared:
        with _lock:
            if "syndicator" not in _shared:
                from syndicate.engine.runner import Syndicator

                _shared["syndicator"] = Syndicator(_config())
    return _shared["syndicator"]


def _retry_later(task: Task, args: tuple[Any, ...], seconds: float) -> NoReturn:
    raise task.retry(countdown=seconds, max_retries=None, args=args)


@app.task(bind=True, name="syndicate.publish", acks_late=True, reject_on_worker_lost=True, max_retries=None)
def publish(self: Task, post_path: str, post_id: str, target: str, force: bool = False,
            tries: int = 0, waits: int = 0) -> dict[str, Any]:
    """Carry out the plan for one (post, target): the same `attempt` and retry policy as `syndicate push`.

    `tries` counts transient failures so far and `waits` rate-limit waits;
    a wait the broker should not hold (over `max_countdown`) goes to the ledger.
    """
    syn = syndicator()
    path = Path(post_path)
    if not path.is_absolute():
        path = syn.config.site.root / path
    try:
        post = _load_post(path, syn.config.site)
    except PostError as exc:
        syn.ledger.ensure(post_id, target, post_path)
        syn.ledger.record_failure(post_id, target, "post", str(exc))
        return {"status": "failed", "error": str(exc)}
    if post.id != post_id:
        log.warning("%s: the post's id changed from %s to %s since it was queued", post_path, post_id, post.id)
    try:
        outcome = syn.attempt(post, target, force=force, tries=tries, waits=waits, owner=unit_owner(),
                              max_wait=_shared.get("max_countdown", MAX_COUNTDOWN))
    except sa_exc.OperationalError as exc:
        # the ledger's database went away (restart, failover): the pool reconnects on the retry
        log.warning("ledger unavailable, retrying: %s", type(exc.orig).__name__ if exc.orig else exc)
        _retry_later(self, (post_path, post_id, target, force, tries, waits + 1), syn.policy.backoff(min(waits, 6)))
    if outcome.status == "retry":
        assert outcome.retry_in is not None
        wait = outcome.retry_in
        if outcome.rate_limited:
            wait += random.uniform(0.0, 0.01)  # the limiter gave this task its own slot already
            _retry_later(self, (post_path, post_id, target, force, tries, waits + 1), wait)
        _retry_later(self, (post_path, post_id, target, force, tries + 1, waits), wait)
    if outcome.status == "skipped" and outcome.reason.startswith(LEASED):
        # the row is held by a live worker elsewhere (a dead one's is taken over): come back after its lease
        if waits < syn.policy.max_waits:
            _retry_later(self, (post_path, post_id, target, force, tries, waits + 1),
                         min(30.0, syn.policy.backoff(min(waits, 4)) + 1.0))
        syn.ledger.defer(post.id, target, utcnow() + timedelta(seconds=60), "held by another worker")
        return {"status": "deferred"}
    if outcome.status == "waiting":
        # the target's credentials were refused: the row waits for the periodic job
        syn.ledger.defer(post.id, target, utcnow() + timedelta(seconds=AUTH_PAUSE), outcome.reason)
    for asked in outcome.follow:  # a copy of the same post that names this one (`syndicate.engine.follow`)
        publish.delay(post_path, post.id, asked)
    _ask_for_write_back(syn, outcome)
    return outcome.as_dict()


def _ask_for_write_back(syn: Any, outcome: Any) -> None:
    """Webhook mode with `[site] write_back`: a copy made, updated or removed asks for a sync, whose pass
    writes the links in the checkout and pushes them (once for many units: a queued sync takes them all)."""
    from syndicate.engine.runner import changed

    config = syn.config
    if config.webhook is None or not config.site.write_back or not changed(outcome):
        return
    from syndicate.config.repokey import repo_key
    from syndicate.state.ledger.syncs import Syncs

    if Syncs(syn.ledger).request(repo_key(config.webhook)) == 0:
        app.send_task("syndicate.sync")
def _load_post(path: Path, site: Any) -> Any:
    """The post in the file at `path`, read and parsed once for all its targets' tasks: a post loaded in
    this process from the very same bytes less than POST_TTL seconds ago is that post (its parsed
    Markdown too); any change to the file is another post. What else the loader looks at (a cover
    image's file) is looked at again after POST_TTL."""
    from syndicate.content.loader import load_post, unique

    try:
        data = path.read_bytes()
    except OSError:
        return load_post(path, site)  # which says what is wrong with it
    key = (str(path), hashlib.blake2b(data, digest_size=16).digest())
    now = time.monotonic()
    hit = _posts.get(key)
    if hit is not None and now - hit[0] < POST_TTL:
        return hit[1]
    post = load_post(path, site, data=data)  # the bytes just hashed: one read of the file
    # a post that came to share its URL since it was planned (or since the periodic job's re-send was)
    _kept, clashes = unique([post], site, max_age=INDEX_TTL)
    if clashes:
        raise clashes[0][1]
    if len(_posts) >= 256:
        for old in [k for k, (at, _) in list(_posts.items()) if now - at >= POST_TTL] or list(_posts):
            _posts.pop(old, None)
    _posts[key] = (now, post)
    return post


_counter: Any = None  # the noop's Redis client, one per process (a client per task would raise the floor)


@app.task(name="syndicate.noop")
def noop(counter: str) -> None:
    """Count one and do nothing else: the floor of a task's cost (bench/bench_worker.py overhead)."""
    global _counter
    if _counter is None:
        import redis

        _counter = redis.Redis.from_url(app.conf.broker_url)
    _counter.incr(counter)


@app.task(bind=True, name="syndicate.remove", acks_late=True, reject_on_worker_lost=True, max_retries=None)
def remove(self: Task, post_id: str, target: str, reason: str, tries: int = 0) -> dict[str, Any]:
    """Remove the copy of a post whose file was deleted (`Syndicator.remove`, by `on_delete`)."""
    from syndicate.errors import RateLimited, Transient

    syn = syndicator()
    try:
        return syn.remove(post_id, target, reason).as_dict()
    except RateLimited as exc:
        wait = exc.retry_after if exc.retry_after is not None else syn.policy.backoff(tries)
        _retry_later(self, (post_id, target, reason, tries), min(wait, _shared.get("max_countdown", MAX_COUNTDOWN)))
    except Transient:
        if tries + 1 >= syn.policy.max_tries:
            syn.ledger.record_failure(post_id, target, "transient", "gave up removing the copy", keep_state=True)
            return {"status": "failed"}
        _retry_later(self, (post_id, target, reason, tries + 1), syn.policy.backoff(tries))


@app.task(name="syndicate.due")
def due() -> int:
    """Enqueue what has become due: deferred rows and future posts whose date arrived."""
    syn = syndicator()
    count = 0
    for row in syn.ledger.due(utcnow()):
        syn.ledger.update(row.post_id, row.target, state="queued", deferred_until=None, defer_reason=None)
        publish.delay(row.post_path or "", row.post_id, row.target)
        count += 1
    stale_after = timedelta(seconds=_shared.get("stale_after", VISIBILITY_TIMEOUT + 60))
    for row in syn.ledger.stale(stale_after):
        # `creating` stays as it is: its outcome is unknown and the task finds first
        syn.ledger.update(row.post_id, row.target, last_error="re-sent: no worker took it in time")
        publish.delay(row.post_path or "", row.post_id, row.target)
        count += 1
    return count


def enqueue(syn: Any, posts: list[Any], targets: list[str], *, force: bool = False) -> list[dict[str, str]]:
    """Queue one task per (post, target) that has something to send; returns what was done with each
    (post by post, each post's targets in the config's order).

    The broker gets the units of the target whose declared limits need the longest for them first
    (`slowest_first`): a backfill lasts as long as its slowest target, whose later windows can start
    only once its first one is used."""
    configure(syn.config)
    queued: list[dict[str, str]] = []
    sends: list[tuple[str, Any, str, dict[str, str]]] = []
    for post in posts:
        for target in targets:
            p = syn.plan_for(post, target, force=force)
            if p.action == "skip":
                continue
            path = syn.relpath(post)
            syn.ledger.ensure(post.id, target, path)
            if p.action == "error":
                syn.ledger.record_failure(post.id, target, "render", p.reason)
                queued.append({"post": path, "target": target, "action": p.action, "status": "failed",
                               "detail": p.reason})
                continue
            if p.action == "check":
                queued.append({"post": path, "target": target, "action": p.action, "status": "check",
                               "detail": p.reason})
                continue
            if p.action == "defer":
                assert p.until is not None
                if not p.held:
                    syn.ledger.defer(post.id, target, p.until, p.reason)
                queued.append({"post": path, "target": target, "action": p.action, "status": "deferred",
                               "detail": p.reason})
                continue
            answer = {"post": path, "target": target, "action": p.action, "status": "queued", "detail": ""}
            queued.append(answer)
            sends.append((path, post, target, answer))
    for path, post, target, answer in slowest_first(syn, sends):
        row = syn.ledger.get(post.id, target)
        if row is not None and row.state in ("new", "deferred", "failed"):
            syn.ledger.update(post.id, target, state="queued", deferred_until=None, defer_reason=None)
        answer["detail"] = publish.delay(path, post.id, target, force).id
    return queued


def slowest_first(syn: Any, sends: list[Any]) -> list[Any]:
    """`sends` ((path, post, target, ...) in post order), the target whose declared create limits need the
    longest for its share first; targets one window holds keep their order (a single post: all of them)."""
    from syndicate.registry import get
    from syndicate.state.ratequota import effective_rates, least_seconds

    counts: dict[str, int] = {}
    for send in sends:
        counts[send[2]] = counts.get(send[2], 0) + 1
    need: dict[str, float] = {}
    for target, n in counts.items():
        cfg = syn.config.targets[target]
        try:
            rates = effective_rates(get(cfg.type).limits.rates, cfg.options.get("rate_limits") or {})
        except (ConfigError, KeyError):  # an order is only a preference: the config's own checks say what is wrong
            rates = ()
        need[target] = least_seconds(rates, n)
    return sorted(sends, key=lambda send: -need[send[2]])  # stable: post order kept within a target


def check_broker(timeout: float = BROKER_TIMEOUT) -> str | None:
    """None when the broker answers within `timeout` seconds; else what was waited for, and why not.

    Redis is asked for a PING with a deadline on the connect and on the answer;
    any other broker is connected to in a thread that is given up at the deadline.
    """
    url = str(app.conf.broker_url or "")
    if url.startswith(("redis://", "rediss://", "unix://")):
        return ping_redis(url, timeout)
    found: list[str | None] = []

    def connect() -> None:
        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=timeout)
            found.append(None)
        except Exception as exc:  # kombu raises many kinds here; all mean "unreachable"
            found.append(f"{type(exc).__name__}: {exc}")

    thread = threading.Thread(target=connect, name="broker-check", daemon=True)
    thread.start()
    thread.join(timeout * 2)
    if not found:
        return f"no connection within {timeout * 2:g}s"
    return found[0]



def _autoconfigure() -> None:
    """`celery -A syndicate.engine.tasks worker`: find the config the same way the CLI does."""
    try:
        config = load_config(find_config(None))
    except ConfigError:
        broker = os.environ.get("SYNDICATE_BROKER_URL")
        if broker:
            app.conf.broker_url = broker
        return
    configure(config)


_autoconfigure()

