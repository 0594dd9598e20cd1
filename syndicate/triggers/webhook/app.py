"""`syndicate serve`: the git host's push webhook, verified, answered at once, synced in the background.

    uvicorn syndicate.triggers.webhook.app:app       # or: syndicate serve [--host H] [--port P]

POST /hooks/{github,gitlab,gitea,forgejo,bitbucket}; GET /healthz; GET /metrics.
The signature (or GitLab's token) is checked, in constant time, before the
body is parsed; the body is streamed into the HMAC and a spool, refused past
`max_body`, and read only with one of `max_unverified` slots
(`syndicate.triggers.webhook.body`); the connections' deadlines and cap are in
`syndicate.triggers.webhook.guard`.
A verified push to the configured branch of the configured repository is
remembered by its delivery id for 24 h (Redis when configured, else the
ledger), counted as one more push in the ledger's `syncs` row, and answered
202; one `syndicate.sync` task is queued (a background thread without a
broker). The payload only names commits: what is fetched is `[webhook] repo`.

Signatures: https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries,
https://docs.gitlab.com/user/project/integrations/webhooks/#custom-headers,
https://forgejo.org/docs/latest/user/webhooks/,
https://support.atlassian.com/bitbucket-cloud/docs/manage-webhooks/#Secure-webhooks
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from syndicate.errors import ConfigError, SyndicateError
from syndicate.triggers.gitsync import Git, git_binary, repo_key, repo_name
from syndicate.triggers.webhook.body import Body, Busy, Evicted, Slots, TooLarge, read_body
from syndicate.triggers.webhook.guard import Guard
from syndicate.triggers.webhook.hosts import BadPayload, Push, parse_push
from syndicate.triggers.webhook.log import on_loop_error
from syndicate.triggers.webhook.replay import LedgerReplays, PushCounter, RedisReplays

if TYPE_CHECKING:
    from syndicate.config import Config
    from syndicate.triggers.web import StatusPage

log = logging.getLogger("syndicate.triggers.webhook.app")

REQUEUE_AFTER = 30.0  # seconds: pushes waiting longer than this for a queued sync queue another


@dataclass(frozen=True)
class Host:
    """How one git host signs and names its deliveries."""

    signature: str  # the header with the HMAC-SHA256 of the body (or GitLab's token)
    prefix: str  # before the hex digest in that header
    event: str  # the header naming the event
    push: frozenset[str]
    delivery: str  # the header with the delivery's id
    token: bool = False  # GitLab: the header is the secret itself


HOSTS = {
    "github": Host("x-hub-signature-256", "sha256=", "x-github-event", frozenset({"push"}), "x-github-delivery"),
    "gitea": Host("x-gitea-signature", "", "x-gitea-event", frozenset({"push"}), "x-gitea-delivery"),
    "forgejo": Host("x-forgejo-signature", "", "x-forgejo-event", frozenset({"push"}), "x-forgejo-delivery"),
    "gitlab": Host("x-gitlab-token", "", "x-gitlab-event", frozenset({"Push Hook"}), "x-gitlab-event-uuid", True),
    "bitbucket": Host("x-hub-signature", "sha256=", "x-event-key", frozenset({"repo:push"}), "x-request-uuid"),
}


def verified(host: Host, key: bytes, given: str, body: bytes) -> bool:
    """The signature header against the secret, compared in constant time."""
    if host.token:
        return hmac.compare_digest(given.encode(), key)
    return signed(host, given, hmac.new(key, body, hashlib.sha256).hexdigest())


def signed(host: Host, given: str, digest: str) -> bool:
    """The signature header against the body's HMAC-SHA256 (hex), compared in constant time."""
    if not given.startswith(host.prefix):
        return False
    return hmac.compare_digest(given.strip().lower().encode(), (host.prefix + digest).encode())


class Service:
    """Everything a delivery needs, built once at start: a clear error here means the server does not start."""

    def __init__(self, config: Config, *, start_thread: bool = True) -> None:
        from syndicate.state.ledger import open_ledger
        from syndicate.state.ledger.syncs import Deliveries, Syncs

        hook = config.webhook
        if hook is None:
            raise ConfigError(f"{config.path}: [webhook] is required by `syndicate serve` (secret, repo)")
        if not hook.secret:
            raise ConfigError(f"{config.path}: webhook.secret is empty: set it (usually \"${{WEBHOOK_SECRET}}\")")
        git_binary()
        self.config = config
        self.hook = hook
        self.key = hook.secret.reveal().encode()
        self.name = (hook.name or repo_name(hook.repo)).casefold()
        self.repo = repo_key(hook)
        self.branch = hook.branch or Git(hook.repo, Path(hook.checkout or "."), hook.token).default_branch()
        self.ledger = open_ledger(config)
        self.syncs = Syncs(self.ledger)
        self.replays: RedisReplays | LedgerReplays = (
            RedisReplays(config.redis_url, f"{config.site_id}:{self.repo}") if config.redis_url
            else LedgerReplays(Deliveries(self.ledger)))
        self.counter = PushCounter(self.syncs, self.repo)
        self.worker: Background | None = None
        if config.broker:
            from syndicate.engine.tasks import configure

            configure(config)
        elif start_thread:
            self.worker = Background(config, self.branch)
        self.guard = Guard(header_timeout=float(hook.header_timeout), body_timeout=float(hook.body_timeout),
                           max_unverified=hook.max_unverified)
        self.slots = Slots(hook.max_unverified)
        self.counts: dict[tuple[str, str], int] = {}
        self._queued_at = float("-inf")

    async def accept(self, host: str, delivery: str, push: Push) -> str:
        """Record a verified push and start its sync; returns what the sender is told."""
        verdict = await self.replays.remember(delivery, host, push.ref, push.before, push.after)
        if verdict != "new":
            return verdict
        full = push.forced or set(push.before) <= {"0"}
        waiting = await self.counter.add(full=full, base=None if full else (push.before, push.after))
        if self.worker is not None:
            self.worker.wake()
            return "queued"
        now = time.monotonic()
        # a sync already queued or running takes this push too; a lost task costs at most REQUEUE_AFTER
        if waiting == 0 or now - self._queued_at > REQUEUE_AFTER:
            from syndicate.triggers.synctask import sync

            self._queued_at = now
            await run_in_threadpool(sync.delay)
        return "queued"

    def health(self) -> tuple[bool, dict[str, Any]]:
        import sqlalchemy as sa

        out: dict[str, Any] = {"branch": self.branch, "repository": self.repo}
        ok = True
        try:
            with self.ledger.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            out["ledger"] = "ok"
        except sa.exc.SQLAlchemyError as exc:
            ok, out["ledger"] = False, type(exc).__name__
        if self.config.broker:
            from syndicate.engine.tasks import check_broker

            problem = check_broker(timeout=1.0)
            ok = ok and problem is None
            out["broker"] = problem or "ok"
        else:
            out["broker"] = "none (syncs run in this process)"
        row = self.syncs.get(self.repo) if out["ledger"] == "ok" else None
        if row is not None:
            out["last_sync"] = {"commit": row.commit, "at": row.synced_at.isoformat() if row.synced_at else None,
                                "error": row.error}
            out["pending"] = row.requested - row.done
        return ok, out

    def count(self, host: str, result: str) -> None:
        self.counts[(host, result)] = self.counts.get((host, result), 0) + 1

    async def aclose(self) -> None:
        await self.replays.aclose()
        self.close()

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()
        self.ledger.dispose()


class Background:
    """Without a broker: one thread runs the syncs, woken by each accepted push, and every `due_every`
    seconds without one sends the deferred rows whose time has come (a worker's periodic job does it
    otherwise): a row a platform deferred for an hour goes out after the hour, pushed or not."""

    def __init__(self, config: Config, branch: str, *, due_every: float = 60.0) -> None:
        self.config = config
        self.branch = branch
        self.due_every = due_every
        self.event = threading.Event()
        self.stopping = False
        self.thread = threading.Thread(target=self._loop, name="syndicate-sync", daemon=True)
        self.thread.start()
        self.wake()  # pushes left over from before a restart

    def wake(self) -> None:
        self.event.set()

    def close(self) -> None:
        self.stopping = True
        self.event.set()
        self.thread.join(timeout=30)

    def _loop(self) -> None:
        from syndicate.triggers.gitsync import Syncer

        syncer: Syncer | None = None
        while not self.stopping:
            pushed = self.event.wait(self.due_every)
            self.event.clear()
            if self.stopping:
                return
            try:
                syncer = syncer or Syncer(self.config, echo=sync_line, branch=self.branch)
                if pushed:
                    syncer.run()
                else:
                    syncer.run_due()
            except SyndicateError as exc:
                log.warning("sync failed: %s", exc)
            except Exception:  # the thread must outlive one bad sync; the ledger keeps the pushes
                log.exception("sync crashed")


def sync_line(line: str) -> None:
    """A sync's line in the log: what went out at INFO; a failure, a warning or a hold at WARNING."""
    trouble = line.startswith(("sync failed", "warning", "skipped", "held", "refused")) or " failed" in line
    log.log(logging.WARNING if trouble else logging.INFO, "%s", line, extra={"throttle": False})


# --- the app -------------------------------------------------------------------------


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _answer(text: str, status: int, *, close: bool = False, **headers: str) -> Response:
    """A short plain answer; `close` when the body was not read to its end (the connection cannot be reused)."""
    if close:
        headers["connection"] = "close"
    return PlainTextResponse(text[:200], status_code=status, headers=headers or None)


async def hook(request: Request) -> Response:
    name = request.path_params["host"]
    host = HOSTS.get(name)
    if host is None:
        return _answer("unknown host", 404, close=True)
    service = _service(request)
    given = request.headers.get(host.signature)
    if not given or (host.token and not verified(host, service.key, given, b"")):
        service.count(name, "unsigned" if not given else "forged")
        return _answer("missing signature" if not given else "bad signature", 401, close=True)
    conn = request.scope.get("extensions", {}).get("syndicate.connection")
    deadline = (conn.request_at if conn is not None else time.monotonic()) + service.guard.body_timeout
    try:  # GitLab's token is checked already: its body needs no slot among the unverified ones
        body = await read_body(request, key=None if host.token else service.key, cap=service.hook.max_body,
                               deadline=deadline, slots=None if host.token else service.slots)
    except TooLarge:
        service.count(name, "too large")
        return _answer("payload too large", 413, close=True)
    except Busy:
        service.count(name, "busy")
        log.info("answered 503 to a delivery from %s: no slot for its body in %gs (max_unverified = %d)",
                 _client(request), service.guard.body_timeout, service.hook.max_unverified)
        return _answer("busy: too many deliveries at once", 503, close=True, **{"retry-after": "5"})
    except TimeoutError:  # plain uvicorn; under `syndicate serve` the connection's own deadline closes it
        service.count(name, "body timeout")
        log.info("answered 408 to %s: its body did not arrive in %gs (body_timeout)", _client(request),
                 service.guard.body_timeout)
        return _answer("request timeout: the body did not arrive in time", 408, close=True)
    except (ClientDisconnect, Evicted):
        why = getattr(conn, "closed_why", None)  # closed by the server (timeout, eviction): logged there
        service.count(name, why or "client went away")
        if why is None:
            service.guard.count("client went away")
            log.info("a client went away mid-body: %s", _client(request))
        return _answer("", 400, close=True)  # nobody is there to read it
    try:
        return await _delivered(request, service, name, host, given, body)
    finally:
        body.close()


async def _delivered(request: Request, service: Service, name: str, host: Host, given: str, body: Body) -> Response:
    if not host.token and not signed(host, given, body.digest):
        service.count(name, "forged")
        return _answer("bad signature", 401)
    if request.headers.get(host.event, "") not in host.push:
        service.count(name, "not a push")
        return Response(status_code=204)
    try:
        push = parse_push(name, json.loads(body.bytes()), service.branch)
    except (ValueError, BadPayload) as exc:
        service.count(name, "malformed")
        return _answer(f"bad payload: {exc}", 400)
    if push.repository.casefold() != service.name:
        service.count(name, "ignored")
        return _answer(f"ignored: repository {push.repository}", 202)
    if push.ref != f"refs/heads/{service.branch}":
        service.count(name, "ignored")
        return _answer(f"ignored: branch {push.ref.removeprefix('refs/heads/')}", 202)
    if set(push.after) <= {"0"}:
        service.count(name, "ignored")
        return _answer("ignored: branch deleted", 202)
    delivery = request.headers.get(host.delivery) or "body:" + body.digest
    verdict = await service.accept(name, delivery[:200], push)
    service.count(name, "accepted" if verdict == "queued" else "duplicate")
    return _answer(verdict if verdict in ("queued", "duplicate") else f"duplicate: {verdict}", 202)


def _client(request: Request) -> str:
    client = request.client
    return f"{client.host}:{client.port}" if client else "?"


async def healthz(request: Request) -> Response:
    ok, report = await run_in_threadpool(_service(request).health)
    return JSONResponse({"ok": ok, **report}, status_code=200 if ok else 503)


async def metrics(request: Request) -> Response:
    from syndicate.triggers.webhook.metrics import render

    body, content_type = await run_in_threadpool(render, _service(request))
    return Response(body, media_type=content_type)


def create_app(config: Config | None = None, *, service: Service | None = None,
               web: StatusPage | None = None) -> Starlette:
    """The ASGI app for `service` (or one built for `config`, else for the config found as the CLI finds it);
    with `web`, the status page at `/` too (`syndicate.triggers.web`)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        from syndicate.config import find_config
        from syndicate.registry import load_config

        nonlocal service
        service = service or Service(config or load_config(find_config(None)))
        app.state.service = service
        app.state.web = web
        asyncio.get_running_loop().set_exception_handler(on_loop_error)
        try:
            yield {"syndicate.guard": service.guard}  # uvicorn hands it to each connection (GuardedProtocol)
        finally:
            await service.aclose()
            if web is not None:
                web.close()

    routes = [
        Route("/hooks/{host}", hook, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
    if web is not None:
        from syndicate.triggers.web import routes as page_routes

        routes += page_routes()
    return Starlette(routes=routes, lifespan=lifespan)


app = create_app()

__all__ = ["HOSTS", "Service", "app", "create_app", "signed", "verified"]
