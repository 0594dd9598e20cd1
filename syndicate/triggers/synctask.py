"""The `syndicate.sync` Celery task: the webhook's sync, run by a worker.

Kept out of `syndicate.engine.tasks` (which loads it through the app's `include`):
the sync plans through the watcher, and the watcher queues through
`syndicate.engine.tasks`, so importing the sync from there would make a cycle.
"""
from __future__ import annotations

from typing import Any

from syndicate.engine.tasks import _config, app, log, syndicator


@app.task(name="syndicate.sync", acks_late=True, reject_on_worker_lost=True)
def sync() -> dict[str, Any]:
    """Fetch the configured repository and reconcile what changed (`syndicate.triggers.gitsync.Syncer.run`).

    Idempotent: while another sync holds the repository's lease, this one does nothing,
    and the holder takes the waiting pushes before it lets go.
    """
    from syndicate.triggers.gitsync import Syncer

    done = Syncer(_config(), syn=syndicator(), echo=log.info).run()
    return {"syncs": len(done), "commit": done[-1].commit if done else None}
