"""The ledger on SQLite and on real PostgreSQL: states, claims, deferrals."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from syndicate.ledger import Ledger, utcnow


@pytest.fixture
def ledger(ledger_url: str) -> Ledger:
    led = Ledger(ledger_url)
    yield led
    led.dispose()


def test_ensure_creates_once_and_follows_a_rename(ledger: Ledger) -> None:
    ledger.ensure("p1", "devto", "content/a.md")
    ledger.ensure("p1", "devto", "content/a.md")
    ledger.ensure("p1", "devto", "content/b.md")
    rows = ledger.all()
    assert len(rows) == 1
    assert rows[0].state == "new" and rows[0].post_path == "content/b.md"


def test_intent_then_published_round_trip(ledger: Ledger) -> None:
    ledger.ensure("p1", "mastodon", "a.md")
    ledger.record_intent("p1", "mastodon", "p1.mastodon.r1", "h1")
    row = ledger.get("p1", "mastodon")
    assert row is not None and row.state == "creating" and row.idem_key == "p1.mastodon.r1" and row.attempts == 1
    ledger.record_published("p1", "mastodon", "42", "https://m.example/@a/42", {"media_ids": ["7"]}, "h1", first=True)
    row = ledger.get("p1", "mastodon")
    assert row is not None
    assert (row.state, row.remote_id, row.remote_extra, row.content_hash) == ("published", "42", {"media_ids": ["7"]}, "h1")
    assert row.published_at is not None and row.published_at.tzinfo is not None


def test_failure_keeps_a_published_copy_visible(ledger: Ledger) -> None:
    ledger.ensure("p1", "devto", "a.md")
    ledger.record_published("p1", "devto", "1", "u", {}, "h", first=True)
    ledger.record_failure("p1", "devto", "permanent", "422 bad tag", keep_state=True)
    row = ledger.get("p1", "devto")
    assert row is not None and row.state == "published" and row.last_error == "422 bad tag"
    ledger.record_failure("p1", "devto", "auth", "401", keep_state=False)
    assert ledger.get("p1", "devto").state == "failed"  # type: ignore[union-attr]


def test_claim_is_exclusive_until_released_or_expired(ledger: Ledger) -> None:
    ledger.ensure("p1", "devto", "a.md")
    assert ledger.claim("p1", "devto", "w1", ttl=60)
    assert not ledger.claim("p1", "devto", "w2", ttl=60)
    assert ledger.claim("p1", "devto", "w1", ttl=60)  # re-entrant for its holder
    ledger.release("p1", "devto", "w1")
    assert ledger.claim("p1", "devto", "w2", ttl=0.01)
    import time

    time.sleep(0.05)
    assert ledger.claim("p1", "devto", "w3", ttl=60)  # the expired lease of a dead worker is taken over


def test_concurrent_claims_exactly_one_wins(ledger: Ledger) -> None:
    ledger.ensure("p1", "devto", "a.md")
    barrier = threading.Barrier(8)
    wins: list[str] = []

    def worker(name: str) -> None:
        barrier.wait()
        if ledger.claim("p1", "devto", name, ttl=60):
            wins.append(name)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1


def test_due_returns_only_deferred_rows_whose_time_came(ledger: Ledger) -> None:
    now = utcnow()
    for pid, delta in (("past", -10), ("future", 3600)):
        ledger.ensure(pid, "devto", f"{pid}.md")
        ledger.defer(pid, "devto", now + timedelta(seconds=delta), "not due")
    due = ledger.due(now)
    assert [r.post_id for r in due] == ["past"]
    assert due[0].deferred_until is not None and due[0].deferred_until.tzinfo is not None


def test_a_new_id_at_the_same_path_adopts_the_rows(ledger: Ledger) -> None:
    ledger.ensure("old-id", "devto", "content/a.md")
    ledger.record_published("old-id", "devto", "9", "u", {}, "h", first=True)
    ledger.ensure("new-id", "devto", "content/a.md")
    assert ledger.get("old-id", "devto") is None
    row = ledger.get("new-id", "devto")
    assert row is not None and row.remote_id == "9"
