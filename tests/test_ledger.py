"""The ledger on SQLite and on real PostgreSQL: states, claims, deferrals, parts, facts, files."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from syndicate.state.ledger import FileRow, Ledger, utcnow


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    led = Ledger(ledger_url, site="blog.example")
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


def test_acquire_is_exclusive_until_released_or_expired(ledger: Ledger) -> None:
    row = ledger.acquire("p1", "devto", "a.md", "w1", ttl=60)  # creates the row
    assert row is not None and row.state == "new" and row.lease_owner == "w1"
    assert ledger.acquire("p1", "devto", "a.md", "w2", ttl=60) is None
    assert ledger.acquire("p1", "devto", None, "w1", ttl=60) is not None  # re-entrant for its holder
    ledger.release("p1", "devto", "w1")
    assert ledger.acquire("p1", "devto", None, "w2", ttl=-1) is not None  # a lease already expired
    assert ledger.acquire("p1", "devto", None, "w3", ttl=60) is not None  # a dead worker's lease is taken over


def test_concurrent_acquires_exactly_one_wins(ledger: Ledger) -> None:
    ledger.ensure("p1", "devto", "a.md")
    barrier = threading.Barrier(8)
    wins: list[str] = []

    def worker(name: str) -> None:
        barrier.wait()
        if ledger.acquire("p1", "devto", "a.md", name, ttl=60) is not None:
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


def test_a_new_id_at_the_same_path_adopts_the_rows_and_parts(ledger: Ledger) -> None:
    ledger.ensure("old-id", "devto", "content/a.md")
    ledger.record_published("old-id", "devto", "9", "u", {}, "h", first=True)
    ledger.record_part("old-id", "devto", 0, revision=1, idem_key="k0", state="published", remote_id="9")
    ledger.ensure("new-id", "devto", "content/a.md")
    assert ledger.get("old-id", "devto") is None and ledger.parts("old-id", "devto") == []
    row = ledger.get("new-id", "devto")
    assert row is not None and row.remote_id == "9"
    assert [p.remote_id for p in ledger.parts("new-id", "devto")] == ["9"]


def test_stale_leaves_check_baseline_and_deleted_rows_alone(ledger: Ledger) -> None:
    for pid in ("lost", "check", "base", "gone"):
        ledger.ensure(pid, "devto", f"{pid}.md")
    ledger.mark_check("check", "devto", "no find() on this platform")
    ledger.mark_baseline("base", "devto", "base.md")
    ledger.mark_deleted("gone", "devto", "draft: true")
    later = utcnow() + timedelta(hours=1)
    assert [r.post_id for r in ledger.stale(timedelta(minutes=5), now=later)] == ["lost"]
    assert ledger.due(later) == []


def test_mark_check_then_resolve_with_a_remote_id_publishes(ledger: Ledger) -> None:
    ledger.ensure("p1", "x", "a.md")
    ledger.record_intent("p1", "x", "p1.x.r1", "h1")
    ledger.mark_check("p1", "x", "response lost; X cannot look a post up")
    row = ledger.get("p1", "x")
    assert row is not None and (row.state, row.reason) == ("check", "response lost; X cannot look a post up")
    ledger.record_failure("p1", "x", "transient", "503")
    assert ledger.get("p1", "x").state == "check"  # type: ignore[union-attr]
    assert ledger.resolve("p1", "x", found=True, remote_id="123", remote_url="https://x.example/123")
    row = ledger.get("p1", "x")
    assert row is not None
    assert (row.state, row.remote_id, row.remote_url, row.reason, row.content_hash) == (
        "published", "123", "https://x.example/123", None, "h1")
    assert row.published_at is not None
    assert not ledger.resolve("p1", "x", found=False)  # only a `check` row can be resolved


def test_resolve_without_a_remote_id_starts_a_new_revision(ledger: Ledger) -> None:
    ledger.ensure("p1", "x", "a.md")
    ledger.record_intent("p1", "x", "p1.x.r1", "h1")
    ledger.mark_check("p1", "x", "unknown")
    assert ledger.resolve("p1", "x", found=False)
    row = ledger.get("p1", "x")
    assert row is not None
    assert (row.state, row.revision, row.idem_key, row.content_hash, row.reason) == ("new", 2, None, None, None)


def test_mark_deleted_clears_the_copy_and_bumps_the_revision(ledger: Ledger) -> None:
    ledger.ensure("p1", "mastodon", "a.md")
    ledger.record_intent("p1", "mastodon", "p1.mastodon.r1", "h1")
    ledger.record_published("p1", "mastodon", "42", "https://m/42", {"media_ids": ["7"]}, "h1", first=True)
    ledger.update("p1", "mastodon", parts_total=2)
    ledger.record_part("p1", "mastodon", 0, revision=1, idem_key="k0", state="published", remote_id="42")
    ledger.mark_deleted("p1", "mastodon", "removed from the site")
    row = ledger.get("p1", "mastodon")
    assert row is not None
    assert (row.state, row.reason, row.revision) == ("deleted", "removed from the site", 2)
    assert (row.remote_id, row.remote_url, row.remote_extra, row.idem_key, row.content_hash, row.parts_total) == (
        None, None, {}, None, None, None)
    assert row.deleted_at is not None and row.deleted_at.tzinfo is not None
    assert ledger.parts("p1", "mastodon") == []
    ledger.record_intent("p1", "mastodon", "p1.mastodon.r2", "h2")  # a re-create starts clean
    row = ledger.get("p1", "mastodon")
    assert row is not None and (row.state, row.reason, row.deleted_at) == ("creating", None, None)


def test_mark_baseline_creates_the_row_but_never_hides_a_copy(ledger: Ledger) -> None:
    assert ledger.mark_baseline("p1", "devto", "a.md", "h1")
    row = ledger.get("p1", "devto")
    assert row is not None and (row.state, row.post_path, row.content_hash, row.reason) == (
        "baseline", "a.md", "h1", "first-run baseline")
    ledger.ensure("p2", "devto", "b.md")
    ledger.record_published("p2", "devto", "9", "u", {}, "h", first=True)
    assert not ledger.mark_baseline("p2", "devto", "b.md")
    assert ledger.get("p2", "devto").state == "published"  # type: ignore[union-attr]


def test_parts_upsert_in_order_and_clear(ledger: Ledger) -> None:
    ledger.ensure("p1", "mastodon", "a.md")
    ledger.record_part("p1", "mastodon", 1, revision=1, idem_key="k1", state="creating", content_hash="c1")
    ledger.record_part("p1", "mastodon", 0, revision=1, idem_key="k0", state="published",
                       remote_id="10", remote_url="https://m/10", remote_extra={"media_ids": ["3"]}, content_hash="c0")
    ledger.record_part("p1", "mastodon", 1, revision=1, idem_key="k1", state="published", remote_id="11",
                       content_hash="c1")
    got = ledger.parts("p1", "mastodon")
    assert [(p.idx, p.state, p.remote_id) for p in got] == [(0, "published", "10"), (1, "published", "11")]
    assert got[0].remote_extra == {"media_ids": ["3"]} and got[1].remote_extra == {}
    assert (got[0].idem_key, got[0].content_hash, got[0].revision) == ("k0", "c0", 1)
    assert got[1].updated_at is not None and got[1].updated_at.tzinfo is not None
    assert ledger.parts("p1", "devto") == []
    ledger.clear_parts("p1", "mastodon")
    assert ledger.parts("p1", "mastodon") == []


def test_facts_expire(ledger: Ledger) -> None:
    now = utcnow()
    scope = "mastodon https://example.social"
    assert ledger.get_fact(scope) is None
    ledger.put_fact(scope, {"max_characters": 500}, 3600, now=now)
    assert ledger.get_fact(scope, now=now + timedelta(seconds=3599)) == {"max_characters": 500}
    assert ledger.get_fact(scope, now=now + timedelta(seconds=3600)) is None
    ledger.put_fact(scope, {"max_characters": 5000}, 60, now=now + timedelta(hours=2))
    assert ledger.get_fact(scope, now=now + timedelta(hours=2, seconds=1)) == {"max_characters": 5000}


def test_files_bulk_upsert_and_delete(ledger: Ledger) -> None:
    seen = [FileRow(f"content/{i}.md", i, 1_700_000_000_000_000_000 + i, 2**40 + i, f"{i:064x}") for i in range(10_000)]
    ledger.put_files(seen)
    ledger.put_files([FileRow("content/7.md", 99, 5, 6, "f" * 64, post_id="p7")])
    ledger.delete_files([f"content/{i}.md" for i in range(5000, 10_000)] + ["never-seen.md"])
    got = ledger.files()
    assert len(got) == 5000 and "content/5000.md" not in got
    assert got["content/3.md"] == FileRow("content/3.md", 3, 1_700_000_000_000_000_003, 2**40 + 3, f"{3:064x}",
                                          None, got["content/3.md"].seen_at)
    assert got["content/3.md"].seen_at is not None and got["content/3.md"].seen_at.tzinfo is not None
    seven = got["content/7.md"]
    assert (seven.size, seven.mtime_ns, seven.inode, seven.sha256, seven.post_id) == (99, 5, 6, "f" * 64, "p7")
    ledger.put_files([])
    ledger.delete_files([])
