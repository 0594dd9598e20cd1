"""One unit asking for another: a copy that names the post's other copies (standard.site's `bskyPostRef`,
the Bluesky post announcing the same post) is planned again when one of them changes, whatever the order
the targets ran in (in-process every target runs on its own thread; Celery tasks run in any order).

The connector says what it takes from the other copies (`Connector.linked`, for a connector that
`wants_siblings`): it is part of the draft, so of the content hash, and a changed one is a changed draft,
updated in place through the ordinary plan, claim and record. Two checks ask for that plan:

- a unit that made, edited, reposted or removed a copy (`changed`) asks for each target of the same
  post whose copy exists and takes something from this one;
- a unit of a target that `wants_siblings` reads the other copies again when it is done: if what it takes
  from them is not what its plan took (a sibling was recorded meanwhile), it asks for itself again.

Each unit records its copy before it reads the others', so of two units racing, at least one sees the
other's: the Bluesky unit finds the document recorded, or the document's unit finds the Bluesky post. An
asked-for unit that finds its row held by a live unit is skipped: that unit's own check covers it.

`Outcome.follow` carries the targets asked for; the caller runs them: `Syndicator.run_inline` after its
own unit (the same thread and sleep), the Celery task queues one `syndicate.publish` for each.
"""
from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from syndicate import registry
from syndicate.contract import Connector, Remote
from syndicate.engine.outcome import Outcome, changed
from syndicate.engine.parts import Parts
from syndicate.engine.plan import has_copy, linked_view, siblings_of
from syndicate.state.ledger import Row

if TYPE_CHECKING:
    from syndicate.content.post import Post

FOLLOW_DEPTH = 3  # units asked for by units asked for...: each asks only on a change, so this is a guard


class Following(Parts):
    """Which units a unit asks for (a mixin of `runner.Syndicator`)."""

    def _post_rows(self, post_id: str, *, reading: bool = False) -> list[Row]:
        """Every ledger row of a post (`reading`: through `reader`, which a preview may have instead)."""
        source = self.reader if reading else self.ledger
        every = getattr(source, "all", None)  # a preview's read-only peek reads one row at a time
        if every is not None:
            return list(every([post_id]))
        return [r for t in self.config.targets if (r := source.get(post_id, t)) is not None]

    def _siblings(self, conn: Connector, post_id: str, *, reading: bool = False) -> dict[str, Remote]:
        """This post's copies on the other targets, by target type (and by name); {} unless `wants_siblings`."""
        if not conn.wants_siblings:
            return {}
        return siblings_of(self._post_rows(post_id, reading=reading), conn.name, self.target_types)

    @cached_property
    def _linking(self) -> list[str]:
        """The configured targets whose connector `wants_siblings` (by class: nothing is made for it); asked
        after every unit, and the config does not change under a Syndicator."""
        out = []
        for name, cfg in self.config.targets.items():
            try:
                if registry.get(cfg.type).wants_siblings:
                    out.append(name)
            except KeyError:
                continue
        return out

    def follow_ups(self, post: Post, target: str, out: Outcome) -> list[str]:
        """The targets of `post` that `out` (a unit of `target`, final) asks to be planned again."""
        linking = self._linking
        if not linking or out.status not in ("done", "skipped"):
            return []
        asked: list[str] = []
        rows: list[Row] | None = None
        types = self.target_types
        if out.siblings is not None and target in linking:
            rows = self._post_rows(post.id)
            conn = self.connector(target)
            if linked_view(conn, siblings_of(rows, target, types)) != linked_view(conn, out.siblings):
                asked.append(target)  # a sibling was recorded since this unit's plan
        if changed(out):
            rows = rows if rows is not None else self._post_rows(post.id)
            by_target = {r.target: r for r in rows}
            without = [r for r in rows if r.target != target]
            for dep in linking:
                if dep == target or dep in asked or not has_copy(by_target.get(dep)):
                    continue
                conn = self.connector(dep)
                if out.action == "delete" or (linked_view(conn, siblings_of(rows, dep, types))
                                              != linked_view(conn, siblings_of(without, dep, types))):
                    asked.append(dep)
        return asked
