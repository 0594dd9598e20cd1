"""What `syndicate serve` logs, and how little of it a flood can produce.

- `Throttle`, a logging filter: each kind of line (logger, level, message
  template) passes once per `window` seconds; the ones held back are counted,
  and the next that passes says how many ("(+1,099 more like it in 10s)").
  A flood of 1,100 timed-out clients is a handful of lines, not 252 MB.
- `on_loop_error`, the event loop's exception handler: running out of file
  descriptors on accept() is one line without a traceback; anything else is
  logged once per kind, with its traceback the first time.
- `setup` sends INFO and up from syndicate, uvicorn and asyncio to stderr
  through one throttled handler.
"""
from __future__ import annotations

import asyncio
import errno
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("syndicate.triggers.webhook.app")

WINDOW = 10.0  # seconds: one line per kind per window
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
OUT_OF = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class Throttle(logging.Filter):
    """One line per kind per `window`; the next one that passes tells how many were held back."""

    def __init__(self, window: float = WINDOW, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.window = window
        self.clock = clock
        self._kinds: dict[tuple[str, int, str], tuple[float, int]] = {}  # kind -> (when it last passed, held back)

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "throttle", True):  # a verified push's own lines: as many as there are pushes
            return True
        kind = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        last = self._kinds.get(kind)
        if last is not None and now - last[0] < self.window:
            self._kinds[kind] = (last[0], last[1] + 1)
            return False
        if last is not None and last[1]:
            record.msg = f"{record.msg} (+{last[1]:,} more like it in {now - last[0]:.0f}s)"
            record.exc_info = record.exc_text = None  # its traceback was shown the first time
        if len(self._kinds) > 1000:  # kinds are templates: this only bounds a pathological caller
            self._kinds.clear()
        self._kinds[kind] = (now, 0)
        return True


def setup(level: int = logging.INFO) -> logging.Handler:
    """Throttled lines on stderr for syndicate (INFO), uvicorn and asyncio (WARNING); returns the handler."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(Throttle())
    for name, at in (("syndicate", level), ("uvicorn", logging.WARNING), ("asyncio", logging.WARNING)):
        logger = logging.getLogger(name)
        logger.handlers = [h for h in logger.handlers if not getattr(h, "syndicate_throttled", False)]
        handler.syndicate_throttled = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(at)
        logger.propagate = False
    return handler


def on_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The event loop's exception handler: short, throttled lines."""
    exc = context.get("exception")
    message = str(context.get("message") or "error in the event loop")
    if isinstance(exc, OSError) and exc.errno in OUT_OF:
        log.warning("cannot accept a connection: %s (%s); accepting again in a second", message,
                    errno.errorcode.get(exc.errno or 0, exc.errno))
        return
    if isinstance(exc, (ConnectionError, TimeoutError)):
        log.info("event loop: " + message.replace("%", "%%") + ": %s", exc)
        return
    log.error("event loop: " + message.replace("%", "%%") + ": %s", exc, exc_info=exc)
