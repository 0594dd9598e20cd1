"""`syndicate health`: what a container's healthcheck asks.

A worker started by `syndicate worker` touches a heartbeat file every
`HEARTBEAT_EVERY` seconds from its consumer's own event loop, in the data
folder (`workers/<node name>`): a worker whose loop is stuck, or that lost its
broker and is waiting for it, stops touching it. Celery's remote control
(`celery inspect ping`) is off in this project (see syndicate.engine.tasks), so the
file is how a healthcheck in the worker's container knows it is consuming.
"""
from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

from celery import bootsteps

HEARTBEAT_EVERY = 15.0  # seconds between two touches of the heartbeat file
MAX_AGE = 60.0  # seconds: an older heartbeat is a worker that stopped consuming


def heartbeat_file(data_dir: Path, node: str | None = None) -> Path:
    """The heartbeat of worker `node` (default: the one `syndicate worker` starts on this host)."""
    return Path(data_dir) / "workers" / (node or f"celery@{socket.gethostname()}")


def install(celery_app: Any, data_dir: Path) -> None:
    """Make the workers this app starts touch their heartbeat file."""

    class Heartbeat(bootsteps.StartStopStep):
        requires = {"celery.worker.consumer.tasks:Tasks"}  # consuming, not merely connected

        def __init__(self, parent: Any, **kwargs: Any) -> None:
            super().__init__(parent, **kwargs)
            self.tref: Any = None
            self.path: Path | None = None

        def start(self, parent: Any) -> None:
            self.path = heartbeat_file(data_dir, parent.hostname)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.beat()
            self.tref = parent.timer.call_repeatedly(HEARTBEAT_EVERY, self.beat)

        def beat(self) -> None:
            if self.path is not None:
                self.path.touch()

        def stop(self, parent: Any) -> None:
            if self.tref is not None:
                self.tref.cancel()
                self.tref = None
            if self.path is not None:  # a worker that stops is no longer healthy
                self.path.unlink(missing_ok=True)

        shutdown = stop

    celery_app.steps["consumer"].add(Heartbeat)


def worker_age(path: Path, now: float | None = None) -> float | None:
    """Seconds since the heartbeat at `path`, or None if there is none."""
    try:
        touched = path.stat().st_mtime
    except FileNotFoundError:
        return None
    return max(0.0, (time.time() if now is None else now) - touched)


def check_ledger(url: str, timeout: int = 5) -> str | None:
    """None when the ledger's database answers a trivial query; else why not (a SQLite file: None)."""
    if url.startswith("sqlite"):
        return None  # a file beside the process: nothing to reach
    import sqlalchemy as sa

    args = {"connect_timeout": timeout} if url.startswith("postgresql") else {}
    engine = sa.create_engine(url, connect_args=args, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    finally:
        engine.dispose()
    return None
