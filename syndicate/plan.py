"""What to do for each (post, target), and why: create, update, delete or skip.

Pure: takes a post, a connector (for `render` and its declared abilities) and
the ledger row, and returns a `Plan`. Nothing is sent or recorded here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from syndicate.contract import Connector, Draft
from syndicate.ledger import Row
from syndicate.post import Post

Action = Literal["create", "update", "delete", "skip", "defer"]


@dataclass
class Plan:
    post: Post
    target: str
    action: Action
    reason: str
    draft: Draft | None = None
    row: Row | None = None
    warnings: list[str] = field(default_factory=list)
    until: datetime | None = None  # for "defer": when the post becomes due

    @property
    def sends(self) -> bool:
        return self.action in ("create", "update", "delete")


def plan(post: Post, connector: Connector, row: Row | None, now: datetime, *, force: bool = False) -> Plan:
    """Decide the action for one (post, target). `force` re-sends an unchanged draft."""
    name = connector.name
    has_copy = row is not None and row.remote_id is not None and row.state != "deleted"

    if post.hidden:
        if has_copy and connector.limits.can_delete:
            return Plan(post, name, "delete", f"post is now {post.hidden}: remove the copy", row=row)
        return Plan(post, name, "skip", post.hidden, row=row)
    if not post.control.allows(name, connector.type):
        if has_copy:
            return Plan(post, name, "skip", "opted out in front matter (the existing copy is left as is)", row=row)
        return Plan(post, name, "skip", "opted out in front matter", row=row)
    if not post.due(now):
        assert post.date is not None
        return Plan(post, name, "defer", f"not due until {post.date.isoformat()}", row=row, until=post.date)

    draft = connector.render(post)
    warnings = [*post.warnings, *post.document.warnings, *draft.warnings, *_missing_alt(post, draft)]
    digest = draft.content_hash()
    if row is None or row.state in ("new", "deleted") or (row.remote_id is None and row.state != "creating"):
        return Plan(post, name, "create", "not yet on this target", draft, row, warnings)
    if row.state == "creating" and row.remote_id is None:
        return Plan(post, name, "create", "an earlier create has an unknown outcome: find it first", draft, row, warnings)
    if row.remote_id is not None and row.content_hash == digest and not force:
        return Plan(post, name, "skip", "unchanged", draft, row, warnings)
    if not connector.limits.can_update:
        return Plan(post, name, "skip", f"changed, but {connector.type} cannot edit a published copy", draft, row, warnings)
    reason = "forced" if force and row.content_hash == digest else "changed since last sent"
    if row.state == "failed":
        reason = "retrying after a failure"
    return Plan(post, name, "update", reason, draft, row, warnings)


def _missing_alt(post: Post, draft: Draft) -> list[str]:
    """Images the draft carries that have no alt text: a warning, so the author can add it."""
    out = []
    for item in draft.media:
        if not (item.alt or "").strip():
            out.append(f"image without alt text: {item.source}")
    if post.cover is not None and not (post.cover.alt or "").strip() and not any(m.role == "cover" for m in draft.media):
        out.append(f"cover image without alt text: {post.cover.src}")
    for image in post.document.images:
        if not (image.alt or "").strip():
            out.append(f"image without alt text: {image.src}")
    return out
