"""What to do for each (post, target), and why.

Pure: takes a post, a connector (for `render` and its declared abilities), the
instance's facts and the ledger row, and returns a `Plan`. Nothing is sent or
recorded here. The decision follows the row's *state* (published, creating,
deleted, check, baseline...), never the mere presence of a remote id: a Slack
message exists without one.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from syndicate.config.describe import suggest
from syndicate.contract import Connector, Draft, Facts, Remote
from syndicate.engine.fitting import fit_draft

if TYPE_CHECKING:
    from syndicate.content.post import Control, Post
    from syndicate.state.ledger import Row

Action = Literal["create", "update", "delete", "repost", "skip", "defer", "check", "error"]

# states in which a copy exists on the platform (its remote id may be None: Slack)
_UNSENT = frozenset({"new", "deleted", "baseline", "check"})


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
    held: bool = False  # for "defer": the row's own deferral (already in the ledger), kept as it is


def has_copy(row: Row | None) -> bool:
    """A copy exists on the platform: the row was published once and not deleted since."""
    return row is not None and row.state not in _UNSENT and row.published_at is not None


PLATFORM_DEFERRAL = "platform rate limit"  # the start of a deferral's reason set by a platform's 429


def held_until(row: Row | None, now: datetime) -> datetime | None:
    """When a row a platform deferred (a 429's Retry-After) may be sent again, while that time is
    still ahead: every trigger (push, watch, webhook, a queued task) honours it, unless `push --now`
    clears it. Other deferrals are not held here: a post's future date is its front matter's, and
    our own limiter's wait is the limiter's to keep (it refuses a call that has no slot)."""
    if row is None or row.state != "deferred" or row.deferred_until is None or row.deferred_until <= now:
        return None
    if not (row.defer_reason or "").startswith(PLATFORM_DEFERRAL):
        return None
    return row.deferred_until


def plan(post: Post, connector: Connector, row: Row | None, now: datetime, *, force: bool = False,
         facts: Facts | None = None, targets: Mapping[str, str] | None = None,
         siblings: dict[str, Remote] | None = None) -> Plan:
    """Decide the action for one (post, target). `force` re-sends an unchanged draft.

    `targets` (every configured target's name -> type) checks the names the post's
    front matter gives (`syndicate:`): each unknown one is a warning with the near miss.
    `siblings` (the post's copies on the other targets, `siblings_of`) go into the draft
    of a connector that `wants_siblings` (`Connector.linked`), and so into its content hash.
    """
    p = _plan(post, connector, row, now, force=force, facts=facts, siblings=siblings)
    if targets is not None:
        p.warnings = [*target_warnings(post.control, targets), *p.warnings]
    return p


def target_warnings(control: Control, targets: Mapping[str, str]) -> list[str]:
    """The names in `syndicate:` (only, skip, overrides) that are neither a configured target nor its type."""
    known = set(targets) | set(targets.values())
    configured = ", ".join(targets) or "none"
    out = []
    for name in dict.fromkeys([*(control.only or []), *control.skip]):
        if name not in known:
            out.append(f"syndicate: {name!r} is not a configured target{suggest(name, known)} "
                       f"(configured: {configured})")
    for name in control.overrides:
        if name not in known:
            out.append(f"syndicate.{name}: overrides for a target that is not configured, ignored"
                       f"{suggest(name, known)} (configured: {configured})")
    return out


def siblings_of(rows: Iterable[Row], target: str, types: Mapping[str, str]) -> dict[str, Remote]:
    """The copies of a post (`rows`: its ledger rows) on the configured targets other than `target`, by
    target type (the first of each, by name) and by name: those that exist (`has_copy`), edited or not."""
    out: dict[str, Remote] = {}
    for row in sorted(rows, key=lambda r: r.target):
        if row.target == target or row.target not in types or not has_copy(row):
            continue
        remote = Remote(row.remote_id, row.remote_url, dict(row.remote_extra or {}))
        out.setdefault(types[row.target], remote)
        out[row.target] = remote
    return out


def linked_view(connector: Connector, siblings: dict[str, Remote]) -> str:
    """What a connector that `wants_siblings` takes from `siblings`, as a comparable value (its fields of an
    empty draft): equal views mean the copy would not change with them."""
    if not connector.wants_siblings:
        return ""
    return connector.linked(Draft(connector.type), siblings).content_hash()


def _plan(post: Post, connector: Connector, row: Row | None, now: datetime, *, force: bool,
          facts: Facts | None, siblings: dict[str, Remote] | None = None) -> Plan:
    name = connector.name
    able = connector.abilities
    copy = has_copy(row)
    state = row.state if row is not None else "new"

    if state == "baseline" and not force:
        return Plan(post, name, "skip", "baselined: known, never sent (edits are not sent either)", row=row)
    if state == "check":
        why = (row.reason if row is not None and row.reason else "") or "a create's outcome is unknown"
        return Plan(post, name, "check", f"{why}: {able.find_hint or 'look on the platform'}; "
                                         f"then `syndicate resolve`", row=row)
    hidden = post.visible_at(now)
    if hidden:
        if not copy:
            return Plan(post, name, "skip", str(hidden), row=row)
        policy = connector.option("on_unpublish")
        if policy == "keep":
            return Plan(post, name, "skip", f"post is {hidden}; on_unpublish = keep leaves the copy", row=row)
        if able.delete == "none":
            return Plan(post, name, "skip", f"post is {hidden}, but {connector.type} cannot delete: the copy stays",
                        row=row)
        late = delete_too_late(connector, row, now)
        if late:
            return Plan(post, name, "skip", f"post is {hidden}, but {late}: the copy stays (not propagated)",
                        row=row)
        how = "unpublish" if able.delete == "unpublish" or policy == "unpublish" else "remove"
        return Plan(post, name, "delete", f"post is now {hidden}: {how} the copy", row=row)
    if not post.control.allows(name, connector.type):
        if copy:
            return Plan(post, name, "skip", "opted out in front matter (the existing copy is left as is)", row=row)
        return Plan(post, name, "skip", "opted out in front matter", row=row)
    if not post.due(now):
        assert post.due_at is not None
        return Plan(post, name, "defer", f"not due until {post.due_at.isoformat()}", row=row, until=post.due_at)
    waiting = held_until(row, now)
    if waiting is not None:
        assert row is not None
        return Plan(post, name, "defer", f"{row.defer_reason or 'deferred'} (held until "
                    f"{waiting.isoformat(timespec='seconds')}; `push --now` sends it at once)",
                    row=row, until=waiting, held=True)

    try:
        draft = fit_draft(connector.render(post, facts), connector.limits_for(facts), thread=_thread(connector))
        if siblings is not None and connector.wants_siblings:
            draft = connector.linked(draft, siblings)
        # the draft's own warnings (tags kept, a text cut) are this target's: they say so. (The document
        # may have been let go since the render and be made again: a file changed meanwhile is refused here.)
        warnings = [*post.warnings, *post.document.warnings, *(f"{name}: {w}" for w in draft.warnings),
                    *_missing_alt(post, draft)]
    except Exception as exc:  # a post that cannot render fails alone, with the message
        message = str(exc) or type(exc).__name__
        return Plan(post, name, "error", f"cannot render for {name}: {message}", row=row)
    warnings = list(dict.fromkeys(warnings))
    digest = draft.content_hash()

    if state == "creating" and not copy:
        if not able.can_find:
            return Plan(post, name, "check", "a create's outcome is unknown and "
                        f"{connector.type} cannot look a post up: {able.find_hint or 'look on the platform'}; "
                        "then `syndicate resolve`", draft, row, warnings)
        return Plan(post, name, "create", "an earlier create has an unknown outcome: find it first", draft, row,
                    warnings)
    if not copy:
        reason = "retrying after a failure" if state == "failed" else "not yet on this target"
        return Plan(post, name, "create", reason, draft, row, warnings)
    assert row is not None
    if row.content_hash == digest and not force:
        return Plan(post, name, "skip", "unchanged", draft, row, warnings)
    on_edit = connector.option("on_edit") or able.on_edit
    if row.content_hash == "" and able.can_update and state == "published":
        # a copy found after a lost create whose update to the draft failed (runner._create): finish it
        return Plan(post, name, "update", "bringing a found copy in line with the post", draft, row, warnings)
    if not able.can_update and on_edit != "repost":
        return Plan(post, name, "skip", f"changed, but not propagated ({connector.type} cannot edit)", draft, row,
                    warnings)
    if on_edit == "skip" and not force:
        return Plan(post, name, "skip", "changed, but on_edit = skip: the copy stays as first sent", draft, row,
                    warnings)
    if able.edit_window is not None and row.published_at is not None and on_edit != "repost":
        if now - row.published_at > timedelta(seconds=able.edit_window):
            return Plan(post, name, "skip", f"changed, but not propagated: {connector.type} edits only within "
                                            f"{_span(able.edit_window)} of posting", draft, row, warnings)
    edits = int((row.remote_extra or {}).get("edits") or 0)
    if able.max_edits is not None and edits >= able.max_edits and on_edit != "repost":
        return Plan(post, name, "skip", f"changed, but {connector.type} takes {able.max_edits} edits and "
                                        f"{edits} were made: not propagated", draft, row, warnings)
    if on_edit == "repost":
        return Plan(post, name, "repost", "changed: on_edit = repost deletes the copy and posts anew", draft, row,
                    warnings)
    reason = "forced" if force and row.content_hash == digest else "changed since last sent"
    if state == "failed":
        reason = "retrying after a failure"
    return Plan(post, name, "update", reason, draft, row, warnings)


def delete_too_late(connector: Connector, row: Row | None, now: datetime) -> str | None:
    """Why the copy can no longer be deleted (a platform's delete window has passed), or None."""
    window = connector.abilities.delete_window
    if window is None or row is None or row.published_at is None:
        return None
    if now - row.published_at <= timedelta(seconds=window):
        return None
    return f"{connector.type} deletes only within {_span(window)} of posting"


def _span(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def _thread(connector: Connector) -> int:
    """How many posts a long text may become (1: no thread)."""
    if not connector.abilities.threads or not connector.option("thread"):
        return 1
    return int(connector.option("max_thread") or 4)


def _missing_alt(post: Post, draft: Draft) -> list[str]:
    """Images without alt text: one warning each, so the author can add it."""
    out = []
    seen: set[str] = set()
    for item in draft.all_media:
        if not (item.alt or "").strip() and item.source not in seen:
            seen.add(item.source)
            out.append(f"image without alt text: {item.source}")
    cover = post.cover
    if cover is not None and not (cover.alt or "").strip() and not any(m.role == "cover" for m in draft.all_media):
        out.append(f"cover image without alt text: {cover.src}")
    for image in post.document.images:
        if not (image.alt or "").strip() and image.url not in seen and image.src not in seen:
            seen.add(image.url or image.src)
            out.append(f"image without alt text: {image.src}")
    return out
