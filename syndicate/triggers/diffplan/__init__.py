"""`syndicate plan --diff BASE..HEAD`: what merging a range of commits would send, read from git alone.

Nothing is sent and nothing is written: the two trees are read with `git
archive` into a temporary folder (the working tree and the repository are
left as they are, so a read-only checkout is fine), the changed post files come
from `git diff --name-status -M` between the two commits, and each (post,
target) is planned by the same `syndicate.engine.plan.plan` that `push` and the
watcher use. The connectors are made without an HTTP client (any attempt to
use one fails): instance facts come from the ledger's cache or the declared
defaults, never from the platform.

Against the ledger (`[state]`, read-only) when it answers; otherwise the BASE
tree stands in for it: a post shown at BASE is taken as sent, its BASE text as
what was sent, and the plan says so at the top.

The same post across a rename is the same post id (`loader.post_id`: the
front matter's `syndicate_id`/`id`/`uuid`/`guid`, else the canonical URL's
path), as the ledger keys its rows. A rename that keeps the id is an update of
the same copies. One that changes it keeps the copies only when the file is
unchanged (the watcher pairs a moved file by its content hash and its rows
follow); otherwise the old id's copies are deleted and the post is created anew.
"""
from syndicate.triggers.diffplan.model import (
           FORMAT_VERSION,
           MARKER,
           NO_LEDGER,
           Alert,
           Entry,
           NoNetwork,
           PlanError,
           Report,
)
from syndicate.triggers.diffplan.planner import plan_range, read_ledger
from syndicate.triggers.diffplan.render import as_json, as_markdown, as_text, render

__all__ = ["FORMAT_VERSION", "MARKER", "NO_LEDGER", "Alert", "Entry", "NoNetwork", "PlanError", "Report", "as_json", "as_markdown", "as_text", "plan_range",
           "read_ledger", "render"]
