"""`preview`: the exact requests a plan's action would send, media ids as placeholders, secrets masked.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from syndicate.contract import Connector, MediaItem, Remote, SendContext
from syndicate.engine.outcome import idempotency_key
from syndicate.engine.parts import Parts
from syndicate.engine.plan import Plan

if TYPE_CHECKING:

    pass

log = logging.getLogger(__name__)


class Previewing(Parts):
    """The requests a plan would send (a mixin of `runner.Syndicator`)."""

    def requests(self, p: Plan) -> list[dict[str, Any]]:
        """The exact requests the plan's action would send (media ids as placeholders), secrets masked.

        A builder that fails (a platform it would have to ask first) shows no request and says why.
        """
        try:
            return self._requests(p)
        except Exception as exc:  # a preview never crashes on one target
            p.warnings.append(f"request not shown: {self.redact(str(exc)) or type(exc).__name__}")
            return []

    def _requests(self, p: Plan) -> list[dict[str, Any]]:
        """The exact requests the plan's action would send (media ids as placeholders), secrets masked."""
        if p.draft is None and p.action != "delete":
            return []
        conn = self.connector(p.target)
        row = p.row
        remote = Remote(row.remote_id, row.remote_url, row.remote_extra) if row is not None else Remote(None)
        shown: list[dict[str, Any]] = []
        if p.action == "delete":
            shown.append(conn.build_delete(remote).shown())
        elif p.draft is not None and p.action in ("create", "update", "repost"):
            if p.action == "repost":
                shown.append(conn.build_delete(remote).shown())
            key = idempotency_key(p.post.id, p.target, row.revision if row is not None else 1)
            thread: list[Remote] = []
            for i, part in enumerate(p.draft.parts or [None]):
                items = part.media if part is not None else p.draft.media
                ctx = SendContext(media=_placeholders(conn, items), part=i, thread=list(thread), preview=True,
                                  facts=self.facts(p.target))  # as a send gets them (`attempt`)
                if p.action == "update" and i == 0:
                    shown.append(conn.build_update(remote, p.draft, ctx).shown())
                else:
                    pkey = idempotency_key(p.post.id, p.target, 1, i) if i else key
                    shown.extend(r.shown() for r in conn.preview_create(p.draft, pkey, ctx))
                thread.append(Remote(f"<part {i + 1}>"))
        import json

        return json.loads(self.redact(json.dumps(shown, ensure_ascii=False)))


def _placeholders(conn: Connector, items: list[MediaItem]) -> dict[str, str]:
    """What `preview` shows for media: the URL itself (fetched by the platform) or an upload placeholder."""
    if conn.abilities.needs_public_media_url:
        return {m.source: m.source for m in items}
    if type(conn).upload is Connector.upload:
        return {}
    policy = conn.limits.media
    return {m.source: f"<upload: {m.source}>" for m in items[: policy.max_count if policy else None]}
