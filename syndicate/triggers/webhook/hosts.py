"""A push delivery's payload, read per git host into the few fields the webhook trusts it for.

The payload is untrusted input even when signed: only the ref, the two commit
ids (checked to be commit ids), the repository's full name (compared with
`[webhook] name`) and the force flag are read. No URL in it is ever used.

Payloads: https://docs.github.com/en/webhooks/webhook-events-and-payloads#push,
https://docs.gitlab.com/user/project/integrations/webhook_events/#push-events,
https://docs.gitea.com/usage/webhooks (the GitHub shape),
https://support.atlassian.com/bitbucket-cloud/docs/event-payloads/#Push
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from syndicate.errors import SyndicateError
from syndicate.triggers.gitsync import SHA

ZERO = "0" * 40


class BadPayload(SyndicateError):
    """A push payload without the fields a push has (answered 400)."""


@dataclass(frozen=True)
class Push:
    """What a push delivery says: the ref, the commits before and after, the repository's name."""

    ref: str
    before: str
    after: str
    repository: str
    forced: bool = False


def _text(data: Any, *keys: str) -> str:
    for key in keys:
        if not isinstance(data, dict):
            raise BadPayload(f"no {'.'.join(keys)}")
        data = data.get(key)
    if not isinstance(data, str) or not data:
        raise BadPayload(f"no {'.'.join(keys)}")
    return data


def _commit(value: str, field: str) -> str:
    value = value.lower()
    if not SHA.match(value):
        raise BadPayload(f"{field} is not a commit id")
    return value


def parse_push(host: str, payload: Any, branch: str) -> Push:
    """The push in `payload` (for Bitbucket, the change to `branch` if there is one)."""
    if not isinstance(payload, dict):
        raise BadPayload("not a JSON object")
    if host == "bitbucket":
        return _bitbucket(payload, branch)
    name = _text(payload, "project", "path_with_namespace") if host == "gitlab" else \
        _text(payload, "repository", "full_name")
    return Push(
        ref=_text(payload, "ref"), before=_commit(_text(payload, "before"), "before"),
        after=_commit(_text(payload, "after"), "after"), repository=name,
        forced=payload.get("forced") is True,
    )


def _bitbucket(payload: dict[str, Any], branch: str) -> Push:
    name = _text(payload, "repository", "full_name")
    changes = payload.get("push", {}).get("changes") if isinstance(payload.get("push"), dict) else None
    if not isinstance(changes, list) or not changes:
        raise BadPayload("no push.changes")
    chosen: dict[str, Any] | None = None
    for change in changes:
        if not isinstance(change, dict):
            raise BadPayload("push.changes holds a non-object")
        side = change.get("new") or change.get("old")
        if isinstance(side, dict) and side.get("type") == "branch" and side.get("name") == branch:
            chosen = change
    chosen = chosen or changes[-1]
    new, old = chosen.get("new"), chosen.get("old")
    side = new if isinstance(new, dict) else old
    if not isinstance(side, dict):
        raise BadPayload("a change without new or old")
    kind = "heads" if side.get("type") == "branch" else "tags"
    ref = f"refs/{kind}/{_text(side, 'name')}"
    after = _commit(_text(new, "target", "hash"), "new.target.hash") if isinstance(new, dict) else ZERO
    before = _commit(_text(old, "target", "hash"), "old.target.hash") if isinstance(old, dict) else ZERO
    return Push(ref=ref, before=before, after=after, repository=name, forced=chosen.get("forced") is True)
