"""standard.site's `bskyPostRef` names the Bluesky post announcing the same post, whatever the order the
targets ran in: a Bluesky post made (or edited) after the document updates the document in place, through
the engine's plan, lease and record (`syndicate.engine.follow`).

In-process here, on the fake PDS (one server for both collections); the same with Celery workers in
tests/test_worker.py::test_workers_give_the_document_the_ref_of_a_later_bluesky_post, and on the real PDS
in tests/test_bluesky_peer.py::test_standard_site_document_gets_the_ref_of_a_later_bluesky_post.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connectors.bluesky import Bluesky
from connectors.standard_site import StandardSite
from syndicate import registry
from syndicate.content.post import Post
from syndicate.engine import inline
from syndicate.engine.runner import Syndicator
from syndicate.registry import load_config
from syndicate.testing import StaticMedia
from tests.fakes.bluesky import HANDLE
from tests.fakes.server import Reply, Request
from tests.fakes.standard_site import DOCUMENT, FakeStandardSite
from tests.test_standard_site import CONTRACT, PASSWORD, no_sleep, valid

POST = "app.bsky.feed.post"


class GatedPDS(FakeStandardSite):
    """Runs `before` once, when the next document write arrives and before it is handled: another unit,
    whole, between this unit's plan and its record."""

    before: Callable[[], None] | None = None

    def dispatch(self, request: Request) -> tuple[Reply | None, bool]:
        if self.before is not None and request.path.endswith("putRecord") \
                and (request.json() or {}).get("collection") == DOCUMENT:
            hook, self.before = self.before, None
            hook()
        return super().dispatch(request)


@pytest.fixture(autouse=True)
def _registered() -> None:
    registry.register(StandardSite)
    registry.register(Bluesky)


@pytest.fixture
def fake() -> Any:
    with GatedPDS(PASSWORD) as server:
        yield server


def both(fake: FakeStandardSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **bluesky: str) -> Syndicator:
    """Target `t` (standard.site) and target `b` (Bluesky) on one account of the fake PDS."""
    CONTRACT.syndicator(fake, tmp_path, monkeypatch, timeout=30.0)  # writes the config, sets the password
    config = tmp_path / "site" / "syndicate.toml"
    with config.open("a", encoding="utf-8") as f:
        f.write(f'\n[targets.b]\ntype = "bluesky"\nbase_url = "{fake.url}"\nidentifier = "{HANDLE}"\n'
                'app_password = "${BLUESKY_APP_PASSWORD}"\n' + "".join(f'{k} = "{v}"\n' for k, v in bluesky.items()))
    return Syndicator(load_config(config), media=StaticMedia())


def document(fake: FakeStandardSite, syn: Syndicator, post: Post) -> dict[str, Any]:
    row = syn.ledger.get(post.id, "t")
    assert row is not None and row.state == "published" and row.remote_id
    doc = fake.documents[row.remote_id.rsplit("/", 1)[1]]
    valid(doc)
    return doc


def announcement(fake: FakeStandardSite, syn: Syndicator, post: Post) -> dict[str, str]:
    """The strong ref of the post's Bluesky copy, as the PDS holds it."""
    row = syn.ledger.get(post.id, "b")
    assert row is not None and row.state == "published" and row.remote_id
    cid, _value = fake.repo[(POST, row.remote_id.rsplit("/", 1)[1])]
    assert row.remote_extra["cid"] == cid
    return {"uri": row.remote_id, "cid": cid}


def document_writes(fake: FakeStandardSite) -> int:
    return sum(1 for r in fake.requests if r.path.endswith("putRecord") and r.json()["collection"] == DOCUMENT)


def test_a_bluesky_post_made_after_the_document_is_named_by_it(fake: GatedPDS, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    syn = both(fake, tmp_path, monkeypatch)
    post = CONTRACT.post_in(syn, 1)
    assert syn.run_inline(post, "t", sleep=no_sleep).action == "create"
    assert "bskyPostRef" not in document(fake, syn, post)  # no Bluesky post yet
    first = dict(fake.documents)
    assert syn.run_inline(post, "b", sleep=no_sleep).status == "done"
    doc = document(fake, syn, post)
    assert doc["bskyPostRef"] == announcement(fake, syn, post)
    assert fake.documents.keys() == first.keys(), "the same document, updated in place"
    assert document_writes(fake) == 2
    assert {k: v for k, v in doc.items() if k != "bskyPostRef"} == next(iter(first.values()))
    # recorded as sent: nothing more to do, and a preview shows the ref
    plan = syn.plan_for(post, "t")
    assert plan.action == "skip" and plan.reason == "unchanged"
    shown = syn.requests(syn.plan_for(post, "t", force=True))
    assert shown[0]["json"]["record"]["bskyPostRef"] == doc["bskyPostRef"]
    assert syn.run_inline(post, "b", sleep=no_sleep).reason == "unchanged"
    assert document_writes(fake) == 2


def test_in_the_usual_order_the_document_is_written_once_with_the_ref(fake: GatedPDS, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    syn = both(fake, tmp_path, monkeypatch)
    post = CONTRACT.post_in(syn, 2)
    assert syn.run_inline(post, "b", sleep=no_sleep).status == "done"
    assert syn.run_inline(post, "t", sleep=no_sleep).action == "create"
    assert document(fake, syn, post)["bskyPostRef"] == announcement(fake, syn, post)
    assert document_writes(fake) == 1
    assert syn.plan_for(post, "t").reason == "unchanged"


def test_a_document_planned_before_the_bluesky_post_and_recorded_after_it_gets_the_ref(
        fake: GatedPDS, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The race: the document's unit plans with no Bluesky post; the Bluesky unit runs whole while the
    document's write is on the wire (so it finds no document recorded to ask for); the document's unit,
    once recorded, sees the Bluesky post and plans itself again."""
    syn = both(fake, tmp_path, monkeypatch)
    post = CONTRACT.post_in(syn, 3)
    seen: list[Any] = []

    def bluesky_meanwhile() -> None:
        seen.append(syn.run_inline(post, "b", sleep=no_sleep))
        row = syn.ledger.get(post.id, "t")
        assert row is not None and row.state == "creating"  # the document is not recorded yet

    fake.before = bluesky_meanwhile
    out = syn.run_inline(post, "t", sleep=no_sleep)
    assert out.action == "create" and out.status == "done" and seen[0].status == "done"
    assert document(fake, syn, post)["bskyPostRef"] == announcement(fake, syn, post)
    assert len(fake.documents) == 1 and syn.plan_for(post, "t").reason == "unchanged"


def test_an_edit_of_the_document_racing_the_bluesky_post_is_not_taken_for_an_edit_elsewhere(
        fake: GatedPDS, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Bluesky unit asks for the document while the document's own unit (an edit) holds its row in this
    very process: the unit asked for waits its turn (no second write racing the first, whose `swapRecord`
    would then fail as if the document had been changed in another app); the edit's unit finishes it."""
    syn = both(fake, tmp_path, monkeypatch)
    post = CONTRACT.post_in(syn, 4)
    assert syn.run_inline(post, "t", sleep=no_sleep).action == "create"
    edited = CONTRACT.post_in(syn, 4, title="An edited title")
    fake.before = lambda: syn.run_inline(edited, "b", sleep=no_sleep)
    out = syn.run_inline(edited, "t", sleep=no_sleep)
    assert (out.action, out.status, out.error) == ("update", "done", None)
    doc = document(fake, syn, edited)
    assert doc["title"] == "An edited title" and doc["bskyPostRef"] == announcement(fake, syn, edited)
    row = syn.ledger.get(post.id, "t")
    assert row is not None and row.last_error is None
    assert syn.plan_for(edited, "t").reason == "unchanged"


def test_a_bluesky_edit_gives_the_document_the_new_cid(fake: GatedPDS, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    syn = both(fake, tmp_path, monkeypatch, on_edit="update")
    post = CONTRACT.post_in(syn, 5)
    for target in ("b", "t"):
        assert syn.run_inline(post, target, sleep=no_sleep).status == "done"
    before = announcement(fake, syn, post)
    edited = CONTRACT.post_in(syn, 5, title="Edited")
    for target in ("t", "b"):  # the document first: it still names the Bluesky post as it was
        assert syn.run_inline(edited, target, sleep=no_sleep).action == "update"
    after = announcement(fake, syn, edited)
    assert after["uri"] == before["uri"] and after["cid"] != before["cid"]
    assert document(fake, syn, edited)["bskyPostRef"] == after, "the strong ref names the record as it is now"


def test_a_push_names_the_bluesky_posts_whatever_the_order(fake: GatedPDS, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """`syndicate push` without a broker: every target on its own thread, in any order; then the
    documents first and Bluesky in a later push (`--to`)."""
    syn = both(fake, tmp_path, monkeypatch)
    posts = [CONTRACT.post_in(syn, 10 + i) for i in range(6)]
    run = inline.run(syn, posts, ["t", "b"])
    assert [o.status for o in run.outcomes] == ["done"] * 12
    later = [CONTRACT.post_in(syn, 20 + i) for i in range(3)]
    assert [o.action for o in inline.run(syn, later, ["t"]).outcomes] == ["create"] * 3
    assert all("bskyPostRef" not in document(fake, syn, p) for p in later)
    run = inline.run(syn, later, ["b"])
    assert [(o.target, o.action) for o in run.outcomes] == [("b", "create")] * 3  # what was asked for
    for post in [*posts, *later]:
        assert document(fake, syn, post)["bskyPostRef"] == announcement(fake, syn, post)
        assert syn.plan_for(post, "t").reason == "unchanged"
    assert len(fake.documents) == 9
