"""Helpers several connectors share: URL checks. (Tag shapes are the engine's: syndicate.fitting.)"""
from __future__ import annotations

from urllib.parse import urlsplit


def is_http_url(value: str | None) -> bool:
    """True for an absolute http(s) URL with a host."""
    if not value:
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def same_url(a: str | None, b: str | None) -> bool:
    """URLs equal up to a trailing slash and the scheme/host case."""
    if not a or not b:
        return False

    def norm(u: str) -> str:
        p = urlsplit(u.strip())
        path = p.path.rstrip("/")
        return f"{p.scheme.lower()}://{p.netloc.lower()}{path}" + (f"?{p.query}" if p.query else "")

    try:
        return norm(a) == norm(b)
    except ValueError:
        return False
