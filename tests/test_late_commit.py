"""A create that lands *after* the engine looked for it (issue: the chaos contract case, found by load).

The fake drops the connection without an answer and holds the write in transit (`hold_next`); the engine
sees a lost answer (the row stays `creating`), its next attempt's `find` sees nothing, and it creates
again; then the held write lands (`release()`). Nothing here waits on a clock: the order is forced.

Two copies of one post is the worst outcome there is. These platforms take no key that would refuse a
second create, so the engine trusts an empty `find` only once `lost_create_settle` seconds have passed
since the answer was lost (on its own clock, moved by hand here): until then the unit is deferred.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from syndicate.testing import ConnectorContract
from tests import test_micropub, test_slack  # modules: their classes are collected there, not here

CASES = [test_micropub.TestMicropubContract, test_slack.TestSlackFindContract]


@pytest.mark.parametrize("case", CASES, ids=["micropub", "slack-find"])
def test_a_create_that_lands_after_the_find_is_not_duplicated(case: type[ConnectorContract], tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    contract = case()
    with contract.fake() as server:
        syn = contract.syndicator(server, tmp_path, monkeypatch)
        post = contract.post_in(syn, 1)
        server.hold_next(1, method="POST")
        first = syn.attempt(post, "t")
        assert first.status == "retry", first  # the answer was lost: the outcome is unknown
        row = syn.ledger.get(post.id, "t")
        assert row is not None and row.state == "creating"
        again: Any = syn.run_inline(post, "t", sleep=lambda s: None)
        assert again.status == "deferred" and "may still land" in again.reason, again
        row = syn.ledger.get(post.id, "t")
        assert row is not None and row.state == "deferred" and row.deferred_until is not None
        server.release()  # the first create lands now, after the engine looked for it
        server.quiesce()
        assert contract.live(server) == 1
        # the settle time passes: the next attempt finds the copy that landed and records it, no second create
        syn.clock.advance(syn.connector("t").abilities.lost_create_settle + 1)  # type: ignore[attr-defined]
        syn.ledger.update(post.id, "t", deferred_until=None)
        final = syn.run_inline(post, "t", sleep=lambda s: None)
        assert final.status == "done", final
        server.quiesce()
        assert contract.live(server) == 1
        row = syn.ledger.get(post.id, "t")
        assert row is not None and row.state == "published" and row.remote_url


@pytest.mark.parametrize("case", CASES, ids=["micropub", "slack-find"])
def test_a_lost_create_that_never_lands_is_sent_again_once_settled(case: type[ConnectorContract], tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The other half: a create that was lost and never lands is not waited for forever."""
    contract = case()
    with contract.fake() as server:
        syn = contract.syndicator(server, tmp_path, monkeypatch)
        post = contract.post_in(syn, 3)
        server.hold_next(1, method="POST")
        assert syn.attempt(post, "t").status == "retry"
        server.drop_held()  # the write never lands
        assert syn.run_inline(post, "t", sleep=lambda s: None).status == "deferred"
        syn.clock.advance(syn.connector("t").abilities.lost_create_settle - 5)  # type: ignore[attr-defined]
        syn.ledger.update(post.id, "t", deferred_until=None)
        assert syn.run_inline(post, "t", sleep=lambda s: None).status == "deferred"  # not yet
        assert contract.live(server) == 0
        syn.clock.advance(10)  # type: ignore[attr-defined]
        syn.ledger.update(post.id, "t", deferred_until=None)
        assert syn.run_inline(post, "t", sleep=lambda s: None).status == "done"
        server.quiesce()
        assert contract.live(server) == 1


@pytest.mark.parametrize("case", CASES, ids=["micropub", "slack-find"])
def test_a_create_whose_sender_died_is_waited_for_too(case: type[ConnectorContract], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The process that sent the create dies before it can say the answer was lost (no `lost_at`): the row
    is `creating`, and its last change (the intent) stands for the loss."""
    contract = case()
    with contract.fake() as server:
        syn = contract.syndicator(server, tmp_path, monkeypatch)
        post = contract.post_in(syn, 5)
        server.hold_next(1, method="POST")
        assert syn.attempt(post, "t").status == "retry"
        row = syn.ledger.get(post.id, "t")
        assert row is not None and row.state == "creating"
        # what a process killed mid-create leaves: the intent, and nothing said about its answer
        syn.ledger.update(post.id, "t", remote_extra={k: v for k, v in row.remote_extra.items() if k != "lost_at"})
        again: Any = syn.run_inline(post, "t", sleep=lambda s: None)
        assert again.status == "deferred" and "may still land" in again.reason, again
        server.release()  # the dead process's create lands now
        server.quiesce()
        syn.clock.advance(syn.connector("t").abilities.lost_create_settle + 1)  # type: ignore[attr-defined]
        syn.ledger.update(post.id, "t", deferred_until=None)
        assert syn.run_inline(post, "t", sleep=lambda s: None).status == "done"
        server.quiesce()
        assert contract.live(server) == 1


def test_held_writes_land_only_when_released(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fault itself: nothing lands while held, the client hears no answer, `release()` commits it."""
    contract = test_micropub.TestMicropubContract()
    with contract.fake() as server:
        syn = contract.syndicator(server, tmp_path, monkeypatch)
        post = contract.post_in(syn, 2)
        server.hold_next(1, method="POST")
        first = syn.attempt(post, "t")
        assert first.status == "retry" and "lost" in (first.error or ""), first
        server.quiesce()
        assert contract.live(server) == 0
        server.release()
        assert contract.live(server) == 1


@pytest.mark.parametrize("case", CASES, ids=["micropub", "slack-find"])
def test_a_lost_create_deferred_by_a_429_while_finding_still_finds_first(case: type[ConnectorContract],
                                                                       tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A `creating` row whose `find` met a long Retry-After becomes `deferred`: it must still look before it
    sends, or the copy that landed is made twice."""
    contract = case()
    with contract.fake() as server:
        syn = contract.syndicator(server, tmp_path, monkeypatch)
        post = contract.post_in(syn, 4)
        server.lose_next(1, method="POST")  # committed, the answer lost
        assert syn.attempt(post, "t").status == "retry"
        server.rate_limit_next(1, retry_after=3600, method="GET")  # the lookup is refused for an hour
        deferred = syn.run_inline(post, "t", sleep=lambda s: None)
        assert deferred.status == "deferred", deferred
        row = syn.ledger.get(post.id, "t")
        assert row is not None and row.state == "deferred"
        syn.ledger.update(post.id, "t", deferred_until=None)  # the hour has passed
        final = syn.run_inline(post, "t", sleep=lambda s: None)
        assert final.status == "done", final
        server.quiesce()
        assert contract.live(server) == 1
