"""`syndicate serve`'s status page: `/`, a table of posts × targets, behind HTTP Basic auth.

Each row shows its state, a link to the copy, the last error and when; a failed
row has a retry button (a POST carrying a CSRF token) that goes through the
`retry` command's own function (`syndicate.engine.retry.retry_rows`). The table filters
by state and by target (`/?state=failed&target=mastodon`); a banner shows held
deletions and what the targets warn of (credentials missing here, a token about
to expire). The page reads the ledger and writes nothing else.

Server-rendered HTML, no script: every value from a post, a path or a platform
is escaped. The CSRF token is an HMAC (a key made at start) of the user and a
random nonce kept in a SameSite=Strict cookie.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import logging
import secrets
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from syndicate.config import Config
    from syndicate.engine.runner import Syndicator

log = logging.getLogger("syndicate.triggers.web")

COOKIE = "syndicate_csrf"
MAX_FORM = 8192  # bytes: the retry form is three short fields
SHOWN = ("retried", "held", "failed", "nothing")  # the words a retry's redirect may carry back to the page
HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
}


def loopback(host: str) -> bool:
    """Whether `serve --host` listens on this machine only."""
    if host.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def start_problem(config: Config, host: str) -> str | None:
    """Why the status page may not be served on `host` (a public address without a password, or a password
    configured that came out empty), else None."""
    if not config.web.enabled or config.web.password:
        return None
    raw = config.raw.get("web")
    if isinstance(raw, dict) and raw.get("password") is not None:  # "${VAR}" with VAR unset: never open by mistake
        return (f"{config.path}: [web] password is empty (got {raw['password']!r} with its variable unset or "
                "empty): set it, or remove the key to serve the page without one on loopback")
    if not loopback(host):
        return (f"{config.path}: [web] password is required to serve the status page on {host} (not loopback): "
                'set [web] password (usually "${SYNDICATE_WEB_PASSWORD}") or $SYNDICATE_WEB_PASSWORD, '
                "listen on 127.0.0.1, or set [web] enabled = false to serve only the webhook")
    return None


class StatusPage:
    """What the page needs, built once at start: the ledger, the credentials, the CSRF key."""

    def __init__(self, config: Config) -> None:
        from syndicate.state.ledger import open_ledger

        self.config = config
        self.user = config.web.user.encode()
        password = config.web.password
        self.password = password.reveal().encode() if password else None
        self.key = secrets.token_bytes(32)
        self.ledger = open_ledger(config)
        self._lock = threading.Lock()  # one retry at a time; its Syndicator is made on the first
        self._reading = threading.Lock()  # the notices' (read-only) Syndicator, made on the first page
        self._syn: Syndicator | None = None
        self._reader: Syndicator | None = None
        self._titles: dict[str, tuple[int, str]] = {}  # post path -> (mtime_ns, title): read again when it changes

    def close(self) -> None:
        self.ledger.dispose()

    # --- access ---------------------------------------------------------------------

    def authorized(self, request: Request) -> bool:
        """HTTP Basic, compared in constant time; no password (loopback only, checked at start): open."""
        if self.password is None:
            return True
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.casefold() != "basic":
            return False
        try:
            user, sep, given = base64.b64decode(encoded.strip(), validate=True).partition(b":")
        except (binascii.Error, ValueError):
            return False
        # digests first: the comparison takes as long whatever the lengths given
        same_user = hmac.compare_digest(hashlib.sha256(user).digest(), hashlib.sha256(self.user).digest())
        same_password = hmac.compare_digest(hashlib.sha256(given).digest(), hashlib.sha256(self.password).digest())
        return bool(sep) and same_user and same_password

    def token(self, nonce: str) -> str:
        return hmac.new(self.key, self.user + b"\0" + nonce.encode(), hashlib.sha256).hexdigest()

    def token_ok(self, nonce: str | None, given: str) -> bool:
        return bool(nonce) and hmac.compare_digest(self.token(nonce or "").encode(), given.encode())

    # --- reading --------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The rows, the held deletions and the targets' warnings, as the page shows them."""
        from syndicate.engine.reconcile import GONE, HELD

        rows = self.ledger.all()
        files = self.ledger.files().values()
        return {
            "rows": rows,
            "titles": self.titles({r.post_path for r in rows if r.post_path}),
            "held": sorted(f.path for f in files if f.size == HELD),
            "grace": sorted(f.path for f in files if f.size == GONE),
            "warnings": self.warnings(),
        }

    def titles(self, paths: set[str]) -> dict[str, str]:
        """Each post's title, read from the site (cached until the file changes); none for a file that is gone."""
        from syndicate.content.loader import load_post
        from syndicate.errors import SyndicateError

        out: dict[str, str] = {}
        for path in paths:
            file = self.config.site.root / path
            try:
                mtime = file.stat().st_mtime_ns
            except OSError:
                continue
            known = self._titles.get(path)
            if known is None or known[0] != mtime:
                try:
                    known = (mtime, load_post(file, self.config.site, light=True).title or "")
                except (SyndicateError, OSError, UnicodeDecodeError):
                    known = (mtime, "")
                self._titles[path] = known
            out[path] = known[1]
        return out

    def warnings(self) -> list[tuple[str, str, str]]:
        """(target, level, message): targets left out for missing credentials, and each target's notices."""
        out = [(name, "error", f"left out of every run here: {reason}") for name, reason in self.config.skipped.items()]
        try:
            with self._reading:
                if self._reader is None:
                    from syndicate.engine.runner import Syndicator

                    self._reader = Syndicator(self.config, readonly=True)
                notices = self._reader.notices()
        except Exception as exc:  # the page still shows the rows
            log.warning("target notices could not be read: %s", type(exc).__name__)
            return out
        return out + [(name, n.level, n.message.removeprefix(f"{name}: ")) for name, n in notices]

    # --- writing (the CLI's own retry) -------------------------------------------------

    def retry(self, post_id: str, target: str) -> str:
        """Retry one row through `syndicate.engine.retry.retry_rows` (the `retry` command's own); one of SHOWN."""
        from syndicate.engine.retry import retry_candidates, retry_rows

        with self._lock:
            if self._syn is None:
                from syndicate.engine.runner import Syndicator

                self._syn = Syndicator(self.config, ledger=self.ledger)
            rows = [r for r in retry_candidates(self._syn, [post_id], [target]) if r.post_id == post_id]
            if not rows:
                return "nothing"
            results, failures = retry_rows(self.config, self._syn, rows)
        if not results:
            return "nothing"
        status = str(results[0].get("status"))
        return "held" if status == "held" else "failed" if failures else "retried"


# --- rendering ----------------------------------------------------------------------

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#222}
h1{font-size:1.3rem}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.error{color:#a00;max-width:40rem;overflow-wrap:anywhere}
.state{font-weight:600}.s-failed{color:#a00}.s-published{color:#070}.s-deferred,.s-creating,.s-check{color:#a60}
.banner{padding:.6rem .8rem;margin:.5rem 0;border-radius:4px}.warn{background:#fff4d6}.error-b{background:#fde2e2}
.info{background:#e6f0ff}form.filters{margin:1rem 0}form.inline{margin:0}small{color:#666}
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def _link(url: str | None) -> str:
    if not url:
        return ""
    if not url.startswith(("https://", "http://")):  # a platform's odd URL is shown, never followed
        return _e(url)
    return f'<a href="{_e(url)}" rel="noopener noreferrer">{_e(url)}</a>'


def _post(path: str | None, post_id: str, titles: dict[str, str]) -> str:
    title = titles.get(path or "")
    where = _e(path or post_id)
    return f'<span class="title">{_e(title)}</span><br><small>{where}</small>' if title else where


def _options(name: str, values: list[str], chosen: str) -> str:
    items = [f'<option value=""{"" if chosen else " selected"}>every {name}</option>']
    items += [f'<option value="{_e(v)}"{" selected" if v == chosen else ""}>{_e(v)}</option>' for v in values]
    return f'<label>{name} <select name="{name}" id="filter-{name}">{"".join(items)}</select></label>'


def render(page: StatusPage, snap: dict[str, Any], state: str, target: str, token: str, said: str) -> str:
    """The whole page; every value is escaped (post titles and errors are not to be trusted)."""
    rows = snap["rows"]
    states = sorted({r.state for r in rows} | ({state} if state else set()))
    targets = sorted({r.target for r in rows} | set(page.config.targets) | ({target} if target else set()))
    shown = [r for r in rows if (not state or r.state == state) and (not target or r.target == target)]
    banners: list[str] = []
    if snap["held"]:
        banners.append(f'<div class="banner error-b" id="held">{len(snap["held"])} deletion(s) held by the '
                       "mass-change guard (run <code>syndicate push --apply-deletes</code> to carry them out): "
                       f'{_e(", ".join(snap["held"]))}</div>')
    if snap["grace"]:
        banners.append(f'<div class="banner warn" id="grace">{len(snap["grace"])} deletion(s) in their grace '
                       f'period: {_e(", ".join(snap["grace"]))}</div>')
    for name, level, message in snap["warnings"]:
        css = {"error": "error-b", "warn": "warn"}.get(level, "info")
        banners.append(f'<div class="banner {css} notice">{_e(name)}: {_e(message)}</div>')
    if said in SHOWN:
        text = {"retried": "retry: done (queued, or sent here without a broker)",
                "held": "retry: another process holds that row now", "failed": "retry: it failed again",
                "nothing": "retry: nothing to retry there"}[said]
        banners.append(f'<div class="banner info" id="said">{_e(text)}</div>')
    query = {k: v for k, v in (("state", state), ("target", target)) if v}
    back = _e(urlencode(query))
    body = []
    for r in shown:
        error = r.last_error or ""
        button = ""
        if r.state == "failed" and r.target in page.config.targets:
            button = (f'<form class="inline" method="post" action="/retry">'
                      f'<input type="hidden" name="csrf" value="{_e(token)}">'
                      f'<input type="hidden" name="post" value="{_e(r.post_id)}">'
                      f'<input type="hidden" name="target" value="{_e(r.target)}">'
                      f'<input type="hidden" name="back" value="{back}">'
                      f'<button type="submit">retry</button></form>')
        body.append(
            f'<tr data-post="{_e(r.post_id)}" data-target="{_e(r.target)}" data-state="{_e(r.state)}">'
            f"<td>{_post(r.post_path, r.post_id, snap['titles'])}</td><td>{_e(r.target)}</td>"
            f'<td class="state s-{_e(r.state)}">{_e(r.state)}</td><td>{_link(r.remote_url)}</td>'
            f'<td class="error">{_e(error)}</td><td>{_e(_when(r.updated_at)) if error else ""}</td>'
            f"<td>{button}</td></tr>")
    empty = '<tr><td colspan="7"><small>no rows</small></td></tr>' if not body else ""
    site = _e(page.config.site.url)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>syndicate: {site}</title><style>{STYLE}</style></head>
<body><h1>syndicate — {site}</h1>
{"".join(banners)}
<form class="filters" method="get" action="/">{_options("state", states, state)} {_options("target", targets, target)}
<button type="submit">filter</button> <small>{len(shown)} of {len(rows)} row(s)</small></form>
<table id="rows"><thead><tr><th>post</th><th>target</th><th>state</th><th>copy</th><th>last error</th>
<th>when</th><th></th></tr></thead>
<tbody>{"".join(body)}{empty}</tbody></table>
</body></html>
"""


# --- the routes ---------------------------------------------------------------------


def _page(request: Request) -> StatusPage:
    page: StatusPage = request.app.state.web
    return page


def _refused() -> Response:
    return PlainTextResponse("authentication required", status_code=401,
                             headers={"www-authenticate": 'Basic realm="syndicate", charset="UTF-8"'})


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


async def index(request: Request) -> Response:
    page = _page(request)
    if not page.authorized(request):
        return _refused()
    nonce = request.cookies.get(COOKIE) or ""
    fresh = not nonce or len(nonce) > 64
    if fresh:
        nonce = secrets.token_urlsafe(24)
    snap = await run_in_threadpool(page.snapshot)
    q = request.query_params
    html = render(page, snap, q.get("state", ""), q.get("target", ""), page.token(nonce), q.get("said", ""))
    response = HTMLResponse(html, headers=HEADERS)
    if fresh:
        response.set_cookie(COOKIE, nonce, httponly=True, samesite="strict", secure=_secure(request), path="/")
    return response


async def retry(request: Request) -> Response:
    page = _page(request)
    if not page.authorized(request):
        return _refused()
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return PlainTextResponse("expected a form", status_code=415)
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_FORM:
            return PlainTextResponse("form too large", status_code=413)
    form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}
    if not page.token_ok(request.cookies.get(COOKIE), form.get("csrf", "")):
        return PlainTextResponse("bad or missing CSRF token: reload the page and try again", status_code=403)
    post, target = form.get("post", ""), form.get("target", "")
    if not post or not target:
        return PlainTextResponse("post and target are required", status_code=400)
    said = await run_in_threadpool(page.retry, post, target)
    back = {k: v[0] for k, v in parse_qs(form.get("back", "")).items() if k in ("state", "target")}
    return RedirectResponse("/?" + urlencode({**back, "said": said}), status_code=303, headers=HEADERS)


def routes() -> list[Route]:
    """The page's routes, for an app whose `state.web` is a `StatusPage`."""
    return [Route("/", index, methods=["GET"]), Route("/retry", retry, methods=["POST"])]


def create_app(page: StatusPage) -> Starlette:
    """The status page alone (no [webhook] configured), with a /healthz of the ledger."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.web = page
        try:
            yield
        finally:
            page.close()

    async def healthz(request: Request) -> Response:
        def check() -> bool:
            import sqlalchemy as sa

            try:
                with page.ledger.engine.connect() as conn:
                    conn.execute(sa.text("SELECT 1"))
                return True
            except sa.exc.SQLAlchemyError:
                return False

        ok = await run_in_threadpool(check)
        return JSONResponse({"ok": ok, "ledger": "ok" if ok else "unreachable"}, status_code=200 if ok else 503)

    return Starlette(routes=[*routes(), Route("/healthz", healthz, methods=["GET"])], lifespan=lifespan)


__all__ = ["StatusPage", "create_app", "loopback", "render", "routes", "start_problem"]
