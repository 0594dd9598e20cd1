"""What the engine does with the abilities the newer platforms declare (issue 15):
an edit count (X: 5 edits), a delete window (Telegram: 48 h), and the post's copies on
other targets handed to a connector that asks for them (standard.site's bskyPostRef)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from syndicate import registry
from syndicate.contract import Abilities, Draft, Remote, Request, SendContext
from syndicate.engine.runner import Syndicator
from syndicate.registry import load_config
from syndicate.state.ledger import utcnow
from tests.fakes.notes import FakeNotes
from tests.notes_connector import Notes
from tests.test_abilities import TOKEN, nosleep, post, syndicator


class Edited(Notes):
    """Edits in place, at most twice (X allows five)."""

    type = "edited"
    abilities = Abilities(can_update=True, delete="delete", can_find=False, max_edits=2, find_hint="look")

    def build_update(self, remote: Remote, draft: Draft, ctx: SendContext) -> Request:
        return Request("PUT", f"{self.base}/notes/{remote.id}", json={"text": draft.parts[0].text})


class Windowed(Notes):
    """Deletes only within an hour of posting (Telegram: 48 h)."""

    type = "windowed"
    abilities = Abilities(can_update=False, delete="delete", can_find=False, delete_window=3600.0, find_hint="look")


class Referring(Notes):
    """Asks for the post's other copies, and names the `notes` one in what it sends."""

    type = "referring"
    wants_siblings = True
    seen: ClassVar[list[dict[str, Remote]]] = []

    def build_create(self, draft: Draft, key: str, ctx: SendContext) -> Request:
        type(self).seen.append(dict(ctx.siblings))
        return super().build_create(draft, key, ctx)


@pytest.fixture(autouse=True)
def _registered() -> Iterator[None]:
    for kind in (Notes, Edited, Windowed, Referring):
        registry.register(kind)
    yield


def test_edits_are_counted_and_the_platforms_limit_stops_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeNotes(max_length=500) as fake:
        syn = syndicator(tmp_path, monkeypatch, fake, kind="edited")
        assert syn.run_inline(post(syn), "n", sleep=nosleep).status == "done"
        outcomes = []
        for n in range(4):
            outcomes.append(syn.run_inline(post(syn, title=f"Edit {n}"), "n", sleep=nosleep))
        row = syn.ledger.get("post-1", "n")
        assert row is not None and row.remote_extra["edits"] == 2
        assert [o.status for o in outcomes[:2]] == ["done", "done"]
        assert all(o.status == "skipped" and "takes 2 edits and 2 were made: not propagated" in o.reason
                   for o in outcomes[2:]), [o.reason for o in outcomes]
        (note,) = fake.notes.values()
        assert note["text"].startswith("Edit 1")  # the third edit never reached the platform


def test_a_copy_past_the_delete_window_is_left_and_said_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeNotes(max_length=500) as fake:
        syn = syndicator(tmp_path, monkeypatch, fake, kind="windowed")
        for n in (1, 2):
            assert syn.run_inline(post(syn, n), "n", sleep=nosleep).status == "done"
        syn.ledger.update("post-1", "n", published_at=utcnow() - timedelta(hours=2))
        late = syn.remove("post-1", "n", "the post's file was deleted")
        assert late.status == "skipped" and "deletes only within 1 h of posting" in late.reason
        assert "not propagated" in late.reason
        fresh = syn.remove("post-2", "n", "the post's file was deleted")
        assert fresh.status == "done"
        assert [n["id"] for n in fake.notes.values()] == ["1"]  # the late copy stays, the fresh one is gone


def test_a_connector_that_asks_gets_the_posts_other_copies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTES_TOKEN", TOKEN)
    with FakeNotes(max_length=500) as fake:
        site = tmp_path / "site"
        (site / "content").mkdir(parents=True)
        (site / "syndicate.toml").write_text(
            f'[site]\nurl = "https://blog.example"\n[state]\nurl = "sqlite:///{tmp_path}/state.db"\n'
            f'[targets.a]\ntype = "notes"\nbase_url = "{fake.url}"\ntoken = "${{NOTES_TOKEN}}"\n'
            f'[targets.b]\ntype = "referring"\nbase_url = "{fake.url}"\ntoken = "${{NOTES_TOKEN}}"\n',
            encoding="utf-8")
        syn = Syndicator(load_config(site / "syndicate.toml"))
        Referring.seen = []
        p: Any = post(syn)
        assert syn.run_inline(p, "b", sleep=nosleep).status == "done"  # no other copy yet
        assert syn.run_inline(p, "a", sleep=nosleep).status == "done"
        q: Any = post(syn, 2)
        assert syn.run_inline(q, "a", sleep=nosleep).status == "done"
        assert syn.run_inline(q, "b", sleep=nosleep).status == "done"
        first, second = Referring.seen
        assert first == {}
        row = syn.ledger.get("post-2", "a")
        assert row is not None
        assert second["notes"].id == row.remote_id == second["a"].id and "b" not in second
