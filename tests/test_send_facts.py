"""The engine hands a connector's request builders the instance facts `render` got (`SendContext.facts`)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from syndicate import registry
from syndicate.contract import Facts, Remote, SendContext
from tests.fakes.notes import FakeNotes
from tests.notes_connector import Notes
from tests.test_abilities import nosleep, post, syndicator


class FactsNotes(Notes):
    """Learns a fact of its instance (once), and keeps in each copy what `parse_remote` was told."""

    type = "factsnotes"
    fetched = 0

    def fetch_facts(self) -> Facts | None:
        FactsNotes.fetched += 1
        return {"host": "notes.example"}

    def parse_remote(self, response: httpx.Response, ctx: SendContext) -> Remote:
        remote = super().parse_remote(response, ctx)
        remote.extra = {"facts": ctx.facts}
        return remote


@pytest.fixture(autouse=True)
def _registered() -> Iterator[None]:
    registry.register(FactsNotes)
    yield


def test_parse_remote_sees_the_facts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeNotes(max_length=500) as fake:
        syn = syndicator(tmp_path, monkeypatch, fake, kind="factsnotes")
        FactsNotes.fetched = 0
        for n in (1, 2):
            assert syn.run_inline(post(syn, n), "n", sleep=nosleep).status == "done"
        rows: list[Any] = [syn.ledger.get(f"post-{n}", "n") for n in (1, 2)]
        assert [r.remote_extra for r in rows] == [{"facts": {"host": "notes.example"}}] * 2
        assert FactsNotes.fetched == 1  # fetched once, then from the process and the ledger
