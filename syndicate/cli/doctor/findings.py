"""What `doctor` found: each check's finding, the report, and the scrubber every text passes through."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:

    from syndicate.config import Config


State = Literal["ok", "warn", "fail", "skip"]
STATES: tuple[State, ...] = ("fail", "warn", "ok", "skip")
DEFAULT_TIMEOUT = 10.0
MAX_IMAGES = 10  # of the sample post: a gallery of 80 is not checked one by one
MASK = "**********"
ORDER = ("config", "posts", "credentials", "notice", "budget", "broker", "redis", "ledger", "site", "canonical",
         "images")  # the report's order of checks
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/@:\s]*:)[^@/\s]+@")


@dataclass
class Finding:
    """One row of the report: a check, what it looked at, its state, what was seen and how to fix it."""

    check: str
    what: str
    state: State
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(f.state == "fail" for f in self.findings)

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for f in self.findings if f.state == s) for s in STATES}

    def summary(self) -> str:
        """"1 to fix, 2 warnings, 9 ok" (only what occurs)."""
        counts = self.counts()
        words = {"fail": "to fix", "warn": "warning" + ("s" if counts["warn"] != 1 else ""), "ok": "ok",
                 "skip": "not checked"}
        return ", ".join(f"{counts[s]} {words[s]}" for s in STATES if counts[s]) or "nothing checked"

    def as_json(self) -> dict[str, Any]:
        return {"ok": not self.failed, "summary": self.counts(), "checks": [f.as_dict() for f in self.findings]}


# --- secrets ----------------------------------------------------------------------------------------


class Scrub:
    """Every configured secret (targets, `[media.rehost]`) and every URL password, masked."""

    def __init__(self, config: Config) -> None:
        from syndicate.config import Secret
        from syndicate.engine.runner import Redactor

        self._targets = Redactor(config)
        values: set[str] = set()
        rehost = config.media.rehost
        if rehost is not None:
            for value in dict(rehost).values():
                if isinstance(value, Secret) and len(value.reveal()) >= 4:
                    values.add(value.reveal())
        for url in (config.broker, config.redis_url, config.state_url):
            password = _password(url)
            if password and len(password) >= 4:
                values.add(password)
        self._values = sorted(values, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        text = self._targets(text)
        for value in self._values:
            text = text.replace(value, MASK)
        return _URL_PASSWORD.sub(lambda m: m.group("head") + MASK + "@", text)


def _password(url: str | None) -> str | None:
    if not url:
        return None
    from urllib.parse import unquote, urlsplit

    try:
        raw = urlsplit(url).password
    except ValueError:
        return None
    return unquote(raw) if raw else None


def shown_url(url: str) -> str:
    """A URL for the report: no password, no query string (it may hold a token)."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an unreadable URL)"
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(":" + parts.password + "@", ":" + MASK + "@", 1)
    return urlunsplit(parts._replace(netloc=netloc, query="", fragment=""))
