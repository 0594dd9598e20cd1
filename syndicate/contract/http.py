"""HTTP answers read into the error classes: status codes, Retry-After and rate-limit resets, error bodies."""
from __future__ import annotations

import html
import json
import re
import time
from datetime import datetime
from typing import TYPE_CHECKING

from syndicate.errors import (
    AuthFailed,
    NotCreated,
    NotFound,
    Permanent,
    RateLimited,
    Transient,
)
from syndicate.state.limits import parse_retry_after

if TYPE_CHECKING:
    import httpx



# --- HTTP error mapping -----------------------------------------------------------------



def retry_after_from(response: httpx.Response, now: float | None = None) -> float | None:
    """Wait time from Retry-After, else from a rate-limit reset header."""
    wait = parse_retry_after(response.headers.get("retry-after"), now)
    if wait is not None:
        return wait
    now = now if now is not None else time.time()
    for header in ("x-ratelimit-reset", "ratelimit-reset"):
        raw = response.headers.get(header)
        if not raw:
            continue
        try:
            number = float(raw)
        except ValueError:
            try:  # Mastodon sends an ISO 8601 timestamp
                number = datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
        # a large number is an epoch timestamp, a small one a delta
        return max(0.0, number - now) if number > 1e9 else max(0.0, number)
    return None


def error_detail(response: httpx.Response, limit: int = 300) -> str:
    """A short, secret-free description of an error response."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip().replace("\n", " ")[:limit]
    if isinstance(body, dict):
        for key in ("error", "errors", "message", "error_description", "detail"):
            if key in body:
                return str(body[key])[:limit]
    return json.dumps(body, ensure_ascii=False)[:limit]


_TITLE = re.compile(r"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)


def page_summary(response: httpx.Response, limit: int = 120) -> str:
    """A non-JSON error answer in one short line: status line, content type, the page's <title>."""
    reason = response.reason_phrase or ""
    kind = (response.headers.get("content-type") or "no content type").split(";")[0].strip()
    line = f"HTTP {response.status_code}" + (f" {reason}" if reason else "") + f" ({kind})"
    match = _TITLE.search(response.text[:65536]) if response.content else None
    title = " ".join(html.unescape(match.group(1)).split())[:limit] if match else ""
    return f"{line}: {title}" if title and title != f"{response.status_code} {reason}".strip() else line


def proves_not_created(response: httpx.Response) -> bool:
    """A 5xx that is an HTML page, not the platform's API answer: a proxy or load balancer
    refused the request before the application saw it, so nothing was made. A 504 is left out: the
    application may have taken the request and not answered in time."""
    if response.status_code < 500 or response.status_code == 504:
        return False
    kind = (response.headers.get("content-type") or "").split(";")[0].strip().lower()
    return kind in ("text/html", "application/xhtml+xml")


def raise_for_status(response: httpx.Response, name: str) -> None:
    """Map an HTTP status to the error classes; return on 2xx/3xx."""
    status = response.status_code
    if status < 400:
        return
    if proves_not_created(response):
        raise NotCreated(f"{name}: {page_summary(response)}")
    detail = error_detail(response)
    what = f"{name}: HTTP {status}" + (f": {detail}" if detail else "")
    if status == 429:
        raise RateLimited(what, retry_after_from(response))
    if status in (401, 403):
        raise AuthFailed(what)
    if status in (404, 410):
        raise NotFound(what)
    if status in (408, 425) or status >= 500:
        raise Transient(what)
    raise Permanent(what)
