"""Leases that follow live processes (issue 13.30), on SQLite and on real PostgreSQL.

A real process takes a row and is SIGKILLed: its row is taken over at once,
with no wait for the lease to run out; a live holder keeps it, and whoever is
turned away is told who holds it and until when. Renewal is driven by hand
(`Keeper.renew_now`, an injected clock), never by waiting.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import pytest

from syndicate.engine import lease
from syndicate.state.ledger import Ledger, utcnow
from tests.harness import ROOT

HOLD = """
import sys
from syndicate.engine.lease import unit_owner
from syndicate.state.ledger import Ledger
ledger = Ledger(sys.argv[1], site="blog.example")
owner = unit_owner()
row = ledger.acquire(sys.argv[2], sys.argv[3], None, owner, ttl=float(sys.argv[4]))
print(owner if row is not None else "refused", flush=True)
sys.stdin.read()  # hold until killed
"""


class Holder:
    """A real process that takes the lease on one row and keeps it until it is killed."""

    def __init__(self, url: str, post_id: str = "p1", target: str = "devto", ttl: float = 3600) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen([sys.executable, "-c", HOLD, url, post_id, target, str(ttl)], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.owner = self.proc.stdout.readline().strip()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.kill()


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    led = Ledger(ledger_url, site="blog.example")
    yield led
    led.dispose()


@pytest.fixture
def holders() -> Iterator[list[Holder]]:
    started: list[Holder] = []
    yield started
    for h in started:
        h.stop()


def test_a_killed_holders_row_is_taken_over_at_once(ledger: Ledger, ledger_url: str, holders: list[Holder]) -> None:
    holder = Holder(ledger_url)
    holders.append(holder)
    assert lease.parse(holder.owner) is not None and lease.parse(holder.owner).pid == holder.proc.pid  # type: ignore[union-attr]
    me = lease.unit_owner()
    # alive: the hour-long lease keeps everyone else out, however they ask
    assert ledger.acquire("p1", "devto", None, me, take=lease.taken_over) is None
    row = ledger.get("p1", "devto")
    assert row is not None and lease.held(row.lease_owner, row.lease_until)
    said = lease.describe(row.lease_owner, row.lease_until)
    assert said.startswith(f"pid {holder.proc.pid} on ") and " until " in said

    holder.kill()  # SIGKILL: nothing released, the lease still has an hour to run
    row = ledger.get("p1", "devto")
    assert row is not None and row.lease_owner == holder.owner and row.lease_until > utcnow() + timedelta(minutes=50)
    assert not lease.held(row.lease_owner, row.lease_until)
    assert ledger.acquire("p1", "devto", None, lease.unit_owner(), take=None) is None  # the expiry alone: still held
    taken = ledger.acquire("p1", "devto", None, me, take=lease.taken_over)
    assert taken is not None and taken.lease_owner == me


def test_only_one_of_two_takers_wins_a_dead_holders_row(ledger: Ledger, ledger_url: str,
                                                         holders: list[Holder]) -> None:
    holder = Holder(ledger_url)
    holders.append(holder)
    holder.kill()
    first, second = lease.unit_owner(), lease.unit_owner()
    assert ledger.acquire("p1", "devto", None, first, take=lease.taken_over) is not None
    assert ledger.acquire("p1", "devto", None, second, take=lease.taken_over) is None  # the winner is alive


def test_a_reused_pid_or_a_holder_elsewhere_is_judged_rightly() -> None:
    me = lease.parse(lease.process_owner())
    assert me is not None and lease.alive(lease.process_owner()) is True
    if me.start:  # Linux: the same pid with another start time is another process, so the holder is gone
        reused = lease.SEP.join([me.host, me.node, str(me.pid), str(int(me.start) + 1), "u1"])
        assert lease.alive(reused) is False
    elsewhere = lease.SEP.join(["other-host", "0000000000", str(me.pid), me.start, "u1"])
    assert lease.alive(elsewhere) is None  # another machine: only its expiry tells
    until = utcnow() + timedelta(seconds=30)
    assert lease.held(elsewhere, until) and not lease.held(elsewhere, utcnow() - timedelta(seconds=1))
    assert lease.alive("web-1:4242") is None  # an owner written by an older version
    assert lease.describe("web-1:4242", None) == "web-1:4242"


def test_a_working_unit_keeps_its_lease_and_a_stuck_one_lets_it_go(ledger: Ledger, caplog) -> None:
    now = [0.0]
    keeper = lease.Keeper(clock=lambda: now[0])
    owner = lease.unit_owner()
    first = ledger.acquire("p1", "devto", "content/a.md", owner, ttl=30)
    assert first is not None and first.lease_until is not None
    with keeper.hold(ledger, "p1", "devto", owner, ttl=30, limit=100):
        ledger.update("p1", "devto", lease_until=utcnow() + timedelta(seconds=5))  # about to lapse
        now[0] = 60.0
        keeper.renew_now()  # the renewal thread's step
        renewed = ledger.get("p1", "devto")
        assert renewed is not None and renewed.lease_until > utcnow() + timedelta(seconds=25)  # type: ignore[operator]
        ledger.update("p1", "devto", lease_until=utcnow() + timedelta(seconds=5))
        now[0] = 101.0  # past the unit's limit: renewal stops, the lease runs out by itself
        keeper.renew_now()
        kept = ledger.get("p1", "devto")
        assert kept is not None and kept.lease_until < utcnow() + timedelta(seconds=6)  # type: ignore[operator]
    assert "run past its limit" in caplog.text
    other = lease.unit_owner()
    assert ledger.acquire("p1", "devto", None, other, ttl=30) is None  # its own until it lapses (or is let go)
    ledger.release("p1", "devto", owner)
    assert ledger.acquire("p1", "devto", None, other, ttl=30) is not None
    assert not ledger.renew("p1", "devto", owner, 30)  # the row is another's now: a renewal says so


def test_a_lease_its_unit_just_let_go_is_not_reported_lost(ledger: Ledger, caplog) -> None:
    """The renewal thread takes its list of leases, then the unit's final statement releases the row before
    the thread renews it: that renewal fails, and it is no error. A row another process took is one."""
    keeper = lease.Keeper(clock=lambda: 0.0)
    owner = lease.unit_owner()
    assert ledger.acquire("p1", "devto", "content/a.md", owner, ttl=30) is not None
    with caplog.at_level("DEBUG", logger="syndicate.engine.lease"), \
            keeper.hold(ledger, "p1", "devto", owner, ttl=30, limit=100):
        ledger.record_published("p1", "devto", "1", "https://dev.to/a", {}, "h", first=True, release=True)
        keeper.renew_now()  # the thread's step, between the release and the end of the unit's block
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text
    assert "let its lease go" in caplog.text

    caplog.clear()
    mine, other = lease.unit_owner(), lease.unit_owner()
    assert ledger.acquire("p2", "devto", "content/b.md", mine, ttl=30) is not None
    with keeper.hold(ledger, "p2", "devto", mine, ttl=30, limit=100):
        ledger.update("p2", "devto", lease_owner=other)  # taken over (as `take` does for a holder thought dead)
        keeper.renew_now()
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors and "the lease was lost" in errors[0], caplog.text


def test_the_unfinished_rows_are_those_some_work_was_started_on(ledger: Ledger) -> None:
    ledger.ensure("draft", "devto", "content/draft.md")  # planned, skipped, released: nothing to resume
    ledger.acquire("killed", "devto", "content/killed.md", "gone|x|1|1|u", ttl=30)  # a unit that never finished
    ledger.ensure("queued", "devto", "content/queued.md")
    ledger.update("queued", "devto", state="queued")
    ledger.ensure("creating", "devto", "content/creating.md")
    ledger.record_intent("creating", "devto", "k", "h")
    ledger.ensure("due", "devto", "content/due.md")
    ledger.defer("due", "devto", utcnow() - timedelta(seconds=1), "rate limited")
    ledger.ensure("later", "devto", "content/later.md")
    ledger.defer("later", "devto", utcnow() + timedelta(hours=1), "rate limited")
    ledger.ensure("done", "devto", "content/done.md")
    ledger.record_published("done", "devto", "1", "u", {}, "h", first=True)
    assert sorted(r.post_id for r in ledger.unfinished()) == ["creating", "due", "killed", "queued"]
