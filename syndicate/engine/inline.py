"""The in-process push (no broker): every target at once, each on its own thread and connection pool.

`run` sends the (post, target) units of one `syndicate push` (or `retry`) with
one thread per target. A target's posts go out in order, one after the other,
as its rate limits want; a slow or waiting platform delays only its own rows.
A unit that asks for another (a Bluesky post made after the standard.site
document that names it: `syndicate.engine.follow`) runs it next, in its thread.
Each target gets its own `httpx.Client`, so a platform holding connections
open never takes another's from a shared pool.

A run stops early, and says why, when:

- the user presses Ctrl-C (`stop`): no new unit starts; a unit between two
  tries ends at once; a unit in the middle of a request finishes it (its
  outcome is recorded, so no row is left saying less than is known);
- a ledger write fails because the disk is full (`ledger_full`): no new send
  starts anywhere, since nothing it did could be recorded. A row that was in
  flight stays `creating`, and the next run settles it with `find`.

Units never started are reported as "not tried" with the reason, so the
summary says what was done and what was left.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from syndicate.engine.runner import Outcome
from syndicate.state.ledger.full import ledger_full, where

if TYPE_CHECKING:
    import httpx

    from syndicate.content.post import Post
    from syndicate.engine.runner import Syndicator

log = logging.getLogger(__name__)


class Interrupted(Exception):
    """Internal: the run was stopped while a unit waited between two tries."""


@dataclass
class Stop:
    """Why the run stopped early (first reason wins), shared by every target's thread."""

    event: threading.Event = field(default_factory=threading.Event)
    reason: str = ""
    ledger: str = ""  # the ledger-full line, when that is why
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, reason: str, *, ledger: str = "") -> None:
        with self._lock:
            if not self.event.is_set():
                self.reason, self.ledger = reason, ledger
                self.event.set()

    def is_set(self) -> bool:
        return self.event.is_set()

    def sleep(self, seconds: float) -> None:
        """`time.sleep` that ends the unit at once when the run is stopped."""
        if self.event.wait(max(0.0, seconds)):
            raise Interrupted(self.reason)


@dataclass
class Run:
    outcomes: list[Outcome]
    stop: Stop

    @property
    def stopped(self) -> bool:
        return self.stop.is_set()


Unit = Callable[["Post", str, Callable[[float], None]], Outcome]


def run(syn: Syndicator, posts: Sequence[Post], targets: Sequence[str], *, force: bool = False,
        stop: Stop | None = None, unit: Unit | None = None,
        on_result: Callable[[Outcome], None] | None = None) -> Run:
    """Send every (post, target); results in post-major order, as a serial run gives them.

    `unit` replaces `syn.run_inline` (tests). The first Ctrl-C stops the run (no new unit, no
    new try; requests on the wire finish and are recorded), a second one leaves at once.
    `on_result` is called with each unit's outcome as it is final, from that target's thread
    (the progress bar); an error it raises is logged, never taken for the unit's.
    """
    stop = stop or Stop()

    def one_unit(post: Post, target: str, sleep: Callable[[float], None]) -> Outcome:
        """The unit, then the units it asks for (`syndicate.engine.follow`), in this target's thread."""
        outcome = syn.run_inline(post, target, force=force, sleep=sleep, follow=False)
        if outcome.follow and not stop.is_set():
            try:
                syn.follow_up(post, outcome, sleep=sleep)
            except Interrupted:
                pass  # this unit's outcome stands; the row asked for says where it stopped
            except Exception as exc:
                full = ledger_full(exc, where(syn.config.state_url))
                if full is None:
                    raise
                stop.set("the ledger is full", ledger=full)
        return outcome

    work = unit or one_unit
    slots: dict[tuple[int, int], Outcome] = {}
    crashed: list[BaseException] = []
    restore = _own_clients(syn, targets)

    finished = [threading.Event() for _ in targets]

    def put(i: int, t: int, outcome: Outcome) -> None:
        slots[i, t] = outcome
        if on_result is not None:
            try:
                on_result(outcome)
            except Exception:  # a display's fault never changes what was sent
                log.debug("on_result failed", exc_info=True)

    def one_target(t: int, target: str) -> None:
        try:
            send_all(t, target)
        finally:
            finished[t].set()

    def send_all(t: int, target: str) -> None:
        for i, post in enumerate(posts):
            if stop.is_set():
                put(i, t, _left(syn, post, target, stop.reason))
                continue
            try:
                put(i, t, work(post, target, stop.sleep))
            except Interrupted:
                put(i, t, _interrupted(syn, post, target))
            except Exception as exc:  # a full disk is a fault to report; anything else is a bug, raised below
                full = ledger_full(exc, where(syn.config.state_url))
                if full is None:
                    crashed.append(exc)
                    stop.set("stopped by an error on another target")
                    put(i, t, _left(syn, post, target, "stopped by an error"))
                    continue
                stop.set("the ledger is full", ledger=full)
                put(i, t, Outcome(post.id, syn.relpath(post), target, "error", "failed", "ledger full",
                                  error="its outcome could not be recorded (the ledger is full); "
                                        "the next run settles it"))

    threads = [threading.Thread(target=one_target, args=(t, target), name=f"push-{target}", daemon=True)
               for t, target in enumerate(targets)]
    for thread in threads:
        thread.start()
    _wait(finished, stop)
    restore()
    if crashed:
        raise crashed[0]
    return Run([slots[i, t] for i in range(len(posts)) for t in range(len(targets)) if (i, t) in slots], stop)


def _wait(finished: list[threading.Event], stop: Stop) -> None:
    """Wait for every target's thread; a first KeyboardInterrupt stops the run, a second one is raised.
    (Events, not `Thread.join`: a join interrupted by a signal can leave `is_alive()` wrong.)"""
    for done in finished:
        while not done.is_set():
            try:
                done.wait(0.2)
            except KeyboardInterrupt:
                if stop.reason == INTERRUPTED:
                    raise
                stop.set(INTERRUPTED)
                log.warning("interrupted: finishing the requests already sent (Ctrl-C again to leave at once)")


INTERRUPTED = "interrupted (Ctrl-C)"


def _own_clients(syn: Syndicator, targets: Sequence[str]) -> Callable[[], None]:
    """One connection pool per target (unless the caller gave the Syndicator its own client);
    returns what closes them and gives the connectors back the shared one."""
    if getattr(syn, "_http", None) is not None:
        return lambda: None
    made: list[httpx.Client] = []
    conns = []
    lock = threading.Lock()
    for target in targets:
        conn = syn.connector(target)
        if getattr(conn, "_http", None) is not None:
            continue
        conns.append((conn, conn.make_http))

        def make() -> httpx.Client:
            client = syn.new_http()
            with lock:
                made.append(client)
            return client

        conn.make_http = make

    def restore() -> None:
        for conn, before in conns:
            conn.make_http, conn._http = before, None
        for client in made:
            client.close()

    return restore


def _left(syn: Syndicator, post: Post, target: str, why: str) -> Outcome:
    return Outcome(post.id, syn.relpath(post), target, "", "left", f"not tried: {why or 'stopped'}")


def _interrupted(syn: Syndicator, post: Post, target: str) -> Outcome:
    row = syn.ledger.get(post.id, target)
    state = row.state if row is not None else "new"
    said = {"creating": "outcome unknown: the next run looks it up before sending",
            "published": "the copy stays as it was"}.get(state, "nothing sent")
    return Outcome(post.id, syn.relpath(post), target, "", "interrupted",
                   f"stopped between tries ({state}: {said})",
                   error=row.last_error if row is not None else None)
