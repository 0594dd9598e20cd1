"""standard.site connector: documents and the publication, checked against the lexicons, through the engine.

The fake PDS (tests/fakes/standard_site.py) checks every record against the standard.site
lexicons (tests/fakes/lexicons/); the real PDS cases are in tests/test_standard_site_peer.py.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.atproto import is_tid
from connectors.standard_site import DOCUMENT, PUBLICATION, StandardSite, publication_rkey
from syndicate import registry
from syndicate.config import Secret, TargetConfig
from syndicate.contract import Draft, Remote, SendContext
from syndicate.post import Image
from syndicate.runner import Syndicator, idempotency_key
from syndicate.testing import ConnectorContract, make_post, nasty_posts
from tests.fakes.bluesky import DID, HANDLE
from tests.fakes.bluesky_lexicon import check
from tests.fakes.standard_site import FakeStandardSite

PASSWORD = "stdsite-app-pass-4242"
SITE = "https://blog.example"
BLOB = {"$type": "blob", "ref": {"$link": "bafkreiabcdefghijklmnopqrstuvwxyz234567abcdefghijklmn"},
        "mimeType": "image/png", "size": 54321}
BSKY = Remote(f"at://{DID}/app.bsky.feed.post/3lbskyannounc", "https://bsky.app/profile/x/post/3lbskyannounc",
              {"cid": "bafyreibskyannouncement000000000000000000000000000000"})


@pytest.fixture(autouse=True)
def _registered() -> None:
    registry.register(StandardSite)


class TestStandardSiteContract(ConnectorContract):
    connector_type = "standard_site"
    secret = PASSWORD
    env = {"BLUESKY_APP_PASSWORD": PASSWORD}
    wrong_env = {"BLUESKY_APP_PASSWORD": "wrong-pass-123"}

    def fake(self) -> FakeStandardSite:
        return FakeStandardSite(PASSWORD)

    def options(self, fake: Any) -> dict[str, Any]:
        return {"base_url": fake.url, "identifier": HANDLE, "app_password": "${BLUESKY_APP_PASSWORD}",
                "publication_name": "A blog"}

    def live(self, fake: Any) -> int:
        return len(fake.documents)

    def title(self, draft: Draft) -> str | None:
        return str(draft.fields["title"])

    def tags(self, draft: Draft) -> list[str]:
        return list(draft.fields.get("tags") or [])


CONTRACT = TestStandardSiteContract()


# --- helpers ------------------------------------------------------------------------------


@pytest.fixture
def fake() -> Any:
    with FakeStandardSite(PASSWORD) as server:
        yield server


def connector(base: str = "https://pds.example", **options: Any) -> StandardSite:
    opts: dict[str, Any] = {"base_url": base, "identifier": HANDLE, "app_password": Secret(PASSWORD), **options}
    return StandardSite(TargetConfig("standard_site", "standard_site", opts))


def syndicator(fake: FakeStandardSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **extra: Any) -> Syndicator:
    syn = CONTRACT.syndicator(fake, tmp_path, monkeypatch)
    for key, value in extra.items():
        syn.connector("t").target.options[key] = value
    return syn


def no_sleep(seconds: float) -> None:
    return None


def valid(record: dict[str, Any]) -> None:
    problems = check(DOCUMENT, record)
    assert not problems, (problems, record)


# --- records (pure) -------------------------------------------------------------------------


def test_every_nasty_document_is_valid() -> None:
    c = connector()
    for post in nasty_posts():
        draft = c.render(post, {"did": DID})
        media = {m.source: json.dumps({"blob": BLOB}) for m in draft.media}
        body = c.build_create(draft, idempotency_key(post.id, "t", 1), SendContext(media=media, siblings={
            "bluesky": BSKY}, facts={"did": DID})).json
        assert not check("com.atproto.repo.putRecord", body)
        record = body["record"]
        valid(record)
        assert is_tid(body["rkey"]) and body["repo"] == DID
        assert record["site"] == f"at://{DID}/{PUBLICATION}/{publication_rkey(SITE)}"
        assert record["bskyPostRef"] == {"uri": BSKY.id, "cid": BSKY.extra["cid"]}
        assert record["content"]["$type"] == "at.markpub.markdown"
        assert isinstance(record["content"]["text"]["markdown"], str)
        assert SITE + record["path"] == post.url


def test_document_fields() -> None:
    c = connector()
    post = make_post(3, title="Hello *there*", summary="A summary.", tags=["Python", "python", "Web Dev"],
                     categories=["Notes"], body="# Head\n\nSome **bold** text and a [link](https://x.example).\n",
                     cover=Image(src="cover.png", url="https://blog.example/cover.png", alt="A cover"))
    draft = c.render(post)
    record = c.record(draft, SendContext(media={"https://blog.example/cover.png": json.dumps({"blob": BLOB})},
                                         facts={"did": DID}))
    valid(record)
    assert record["title"] == post.title
    assert record["description"] == "A summary."
    assert record["tags"] == ["Python", "Web Dev", "Notes"]
    assert "**bold**" in record["content"]["text"]["markdown"]
    assert "**" not in record["textContent"] and "Some bold text" in record["textContent"]
    assert record["coverImage"] == BLOB
    assert record["publishedAt"].endswith("Z") and "bskyPostRef" not in record
    # a sibling with no cid is no strong ref; a sibling of another type is none either
    assert "bskyPostRef" not in c.record(draft, SendContext(siblings={"bluesky": Remote(BSKY.id)}))
    assert "bskyPostRef" not in c.record(draft, SendContext(siblings={"mastodon": Remote("123", None, {"cid": "x"})}))


def test_limits_hold_for_long_fields() -> None:
    c = connector()
    post = make_post(4, title="👨‍👩‍👧 " * 200, summary="👍🏽 " * 2000, tags=["t" * 80, "ok"])
    record = c.record(c.render(post), SendContext(facts={"did": DID}))
    valid(record)
    assert len(record["description"].encode()) <= 3000
    assert record["tags"] == ["t" * 50, "ok"]


def test_content_none_leaves_the_markdown_out() -> None:
    record = connector(content="none").record(connector(content="none").render(make_post(5)), SendContext())
    assert "content" not in record and record["textContent"]


def test_a_post_outside_the_site_has_no_path() -> None:
    c = connector(publication_url="https://other.example/blog/")
    draft = c.render(make_post(6))
    assert "path" not in draft.fields and any("not under" in w for w in draft.warnings)
    assert draft.fields["site_url"] == "https://other.example/blog"
    c = connector(publication_url="https://blog.example/")
    assert c.render(make_post(6)).fields["path"].startswith("/")
