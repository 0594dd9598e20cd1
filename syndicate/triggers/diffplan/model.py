"""What a plan says: each (post, target) entry, the alerts at its top, the report."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from syndicate.errors import SyndicateError

if TYPE_CHECKING:
    pass

MARKER = "<!-- syndicate-plan -->"
FORMAT_VERSION = 1
ACTIONS = ("create", "update", "delete", "held", "skip")
NO_LEDGER = "no ledger reachable: planned from the diff alone"
GIT_TIMEOUT = 120.0
# the engine's actions, as a plan shows them
_SHOWN = {"create": "create", "update": "update", "repost": "update", "delete": "delete", "skip": "skip",
          "defer": "held", "check": "held", "error": "skip"}
# written empty when a tree is read: what a plan needs of them is that they exist
MEDIA = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".heic", ".heif", ".tif", ".tiff", ".bmp",
                   ".ico", ".psd", ".mp4", ".mov", ".webm", ".mkv", ".avi", ".mp3", ".wav", ".ogg", ".m4a",
                   ".flac", ".pdf", ".zip", ".gz", ".tgz", ".xz", ".bz2", ".7z", ".woff", ".woff2", ".ttf",
                   ".otf", ".eot"})
_CUT_WORDS = ("cut to fit", "shortened", "the platform keeps")  # fitting's notes of a text, title or tags cut


class PlanError(SyndicateError):
    """A range that cannot be planned (not a git repository, an unknown ref): exit 2."""


class NoNetwork(SyndicateError):
    """A plan sends nothing: a connector that asked for an HTTP client gets this instead."""


def _no_http() -> Any:
    raise NoNetwork("a plan sends nothing (no request is made to plan)")


@dataclass
class Entry:
    """One (post, target) of the plan."""

    path: str
    target: str
    action: str
    reason: str
    change: str  # added | modified | renamed | deleted
    post_id: str
    title: str
    url: str
    old_path: str | None = None
    type: str = ""
    text: str | None = None  # the fitted text of a social post (its parts joined by a blank line)
    parts: list[str] = field(default_factory=list)
    cost_usd: float | None = None
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Alert:
    """What stands at the top of a plan: a draft published, a mass deletion, a post over a limit."""

    kind: str  # publishes_draft | mass_deletion | over_limit | refused | unreadable | shared_url
    message: str
    path: str | None = None
    target: str | None = None


@dataclass
class Report:
    base: str
    head: str
    base_commit: str
    head_commit: str
    ledger: str | None  # the ledger read (password masked), or None
    note: str | None  # why no ledger was used
    alerts: list[Alert] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    budgets: dict[str, float] = field(default_factory=dict)  # target -> its monthly_budget (USD), where set

    def summary(self) -> dict[str, Any]:
        counts = {a: sum(e.action == a for e in self.entries) for a in ACTIONS}
        by_target: dict[str, float] = {}
        for e in self.entries:
            if e.cost_usd and e.action in ("create", "update"):
                by_target[e.target] = round(by_target.get(e.target, 0.0) + e.cost_usd, 6)
        return {**counts, "cost_usd": round(sum(by_target.values()), 6),
                "cost_by_target": {t: {"cost_usd": c, "monthly_budget_usd": self.budgets.get(t)}
                                   for t, c in sorted(by_target.items())}}

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION,
            "base": {"ref": self.base, "commit": self.base_commit},
            "head": {"ref": self.head, "commit": self.head_commit},
            "ledger": {"reachable": self.ledger is not None, "url": self.ledger, "note": self.note},
            "alerts": [dataclasses.asdict(a) for a in self.alerts],
            "entries": [e.as_dict() for e in self.entries],
            "summary": self.summary(),
            "errors": [{"path": p, "error": e} for p, e in self.errors],
        }
