"""standard.site connector: documents and the publication, checked against the lexicons, through the engine.

The fake PDS (tests/fakes/standard_site.py) checks every record against the standard.site
lexicons (tests/fakes/lexicons/); the real PDS cases are the test_standard_site_* tests
of tests/test_bluesky_peer.py (the same PDS as the Bluesky target's).
"""
from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.atproto import is_tid, rkey_of, tid_from_key
from connectors.standard_site import StandardSite
from connectors.standard_site_repo import DOCUMENT, PUBLICATION, publication_rkey
from syndicate import registry
from syndicate.config import Secret, TargetConfig
from syndicate.content.post import Image
from syndicate.contract import Draft, Remote, SendContext
from syndicate.engine.runner import Syndicator, idempotency_key
from syndicate.registry import load_config
from syndicate.testing import ConnectorContract, StaticMedia, make_post, nasty_posts
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
        draft = c.linked(c.render(post, {"did": DID}), {"bluesky": BSKY})
        media = {m.source: json.dumps({"blob": BLOB}) for m in draft.media}
        body = c.build_create(draft, idempotency_key(post.id, "t", 1), SendContext(media=media,
                                                                                   facts={"did": DID})).json
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
    assert c.linked(draft, {"bluesky": Remote(BSKY.id)}) == draft
    assert c.linked(draft, {"mastodon": Remote("123", None, {"cid": "x"})}) == draft
    # the ref is the draft's (what the plan hashes), never read from the send's context
    assert "bskyPostRef" not in c.record(draft, SendContext(siblings={"bluesky": BSKY}))
    assert c.record(c.linked(draft, {"bluesky": BSKY}), SendContext())["bskyPostRef"] == {
        "uri": BSKY.id, "cid": BSKY.extra["cid"]}
    assert c.linked(draft, {"bluesky": BSKY}).content_hash() != draft.content_hash()


def test_limits_hold_for_long_fields() -> None:
    c = connector()
    post = make_post(4, title="👨‍👩‍👧 " * 200, summary="👍🏽 " * 2000, tags=["t" * 80, "ok", "日本語" * 20])
    record = c.record(c.render(post), SendContext(facts={"did": DID}))
    valid(record)
    assert len(record["description"].encode()) <= 3000
    assert record["tags"] == ["t" * 50, "ok", ("日本語" * 20)[:33]]  # 99 bytes


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


# --- the publication: created once, found again ------------------------------------------------


def test_the_publication_is_created_once_for_every_worker(fake: FakeStandardSite, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    first = syndicator(fake, tmp_path / "a", monkeypatch)
    second = syndicator(fake, tmp_path / "b", monkeypatch)  # another worker, another process's memory
    for n, syn in ((1, first), (2, second), (3, first), (4, second)):
        assert syn.run_inline(CONTRACT.post_in(syn, n), "t", sleep=no_sleep).status == "done"
    assert list(fake.publications) == [publication_rkey(SITE)]
    assert fake.publications[publication_rkey(SITE)] == {"$type": PUBLICATION, "url": SITE, "name": "A blog"}
    puts = [r for r in fake.requests if r.path.endswith("putRecord") and r.json()["collection"] == PUBLICATION]
    assert len(puts) == 1, "the second worker found the publication instead of writing it again"
    site = f"at://{DID}/{PUBLICATION}/{publication_rkey(SITE)}"
    assert len(fake.documents) == 4 and all(d["site"] == site for d in fake.documents.values())
    assert not fake.dangling()


def test_an_existing_publication_for_the_site_is_adopted(fake: FakeStandardSite, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # made by another app (its own TID), for the same URL with a trailing slash
    fake.repo[(PUBLICATION, "3kotherapp222")] = ("bafyreiother", {"$type": PUBLICATION, "url": SITE + "/",
                                                                  "name": "Made elsewhere"})
    syn = syndicator(fake, tmp_path, monkeypatch)
    post = CONTRACT.post_in(syn, 7)
    shown = syn.requests(syn.plan_for(post, "t"))
    assert len(shown) == 1, "the preview writes no publication: one exists"
    assert shown[0]["json"]["record"]["site"] == f"at://{DID}/{PUBLICATION}/3kotherapp222"
    assert syn.run_inline(post, "t", sleep=no_sleep).status == "done"
    assert list(fake.publications) == ["3kotherapp222"]
    assert fake.publications["3kotherapp222"]["name"] == "Made elsewhere", "another app's record is left alone"
    assert next(iter(fake.documents.values()))["site"] == f"at://{DID}/{PUBLICATION}/3kotherapp222"


def test_a_renamed_publication_is_rewritten_in_place(fake: FakeStandardSite, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    syn = syndicator(fake, tmp_path / "a", monkeypatch)
    assert syn.run_inline(CONTRACT.post_in(syn, 1), "t", sleep=no_sleep).status == "done"
    syn = syndicator(fake, tmp_path / "b", monkeypatch, publication_name="A new name",
                     publication_description="Notes.")
    assert syn.run_inline(CONTRACT.post_in(syn, 2), "t", sleep=no_sleep).status == "done"
    assert fake.publications == {publication_rkey(SITE): {"$type": PUBLICATION, "url": SITE,
                                                          "name": "A new name", "description": "Notes."}}


def test_the_first_preview_shows_the_publication_it_will_write(fake: FakeStandardSite, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    syn = syndicator(fake, tmp_path, monkeypatch)
    post = CONTRACT.post_in(syn, 8, date=datetime(2026, 3, 1, 9, 30, tzinfo=UTC))
    shown = syn.requests(syn.plan_for(post, "t"))
    assert [s["json"]["collection"] for s in shown] == [DOCUMENT, PUBLICATION]
    assert not [r for r in fake.requests if r.method == "POST"], "a preview wrote or logged in"
    assert syn.run_inline(post, "t", sleep=no_sleep).status == "done"
    sent = [r.json() for r in fake.requests if r.path.endswith("putRecord")]
    assert sent == [s["json"] for s in shown]


# --- documents: keys, edits, deletes ----------------------------------------------------------


def test_document_key_is_derived_from_the_post(fake: FakeStandardSite, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    syn = syndicator(fake, tmp_path, monkeypatch)
    post = CONTRACT.post_in(syn, 9)
    assert syn.run_inline(post, "t", sleep=no_sleep).status == "done"
    row = syn.ledger.get(post.id, "t")
    assert row is not None and row.remote_id == f"at://{DID}/{DOCUMENT}/{tid_from_key(idempotency_key(post.id, 't', 1))}"
    assert rkey_of(row.remote_id) in fake.documents


def test_edits_rewrite_the_record_in_place_with_swap(fake: FakeStandardSite, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    syn = syndicator(fake, tmp_path, monkeypatch)
    post = CONTRACT.post_in(syn, 10)
    assert syn.run_inline(post, "t", sleep=no_sleep).status == "done"
    row = syn.ledger.get(post.id, "t")
    assert row is not None
    rkey, first_cid, published = rkey_of(str(row.remote_id)), row.remote_extra["cid"], row.remote_extra["publishedAt"]
    edited = CONTRACT.post_in(syn, 10, title="A new title", summary="New words.")
    assert syn.run_inline(edited, "t", sleep=no_sleep).status == "done"
    put = [r.json() for r in fake.requests if r.path.endswith("putRecord")][-1]
    assert put["rkey"] == rkey and put["swapRecord"] == first_cid
    assert list(fake.documents) == [rkey]
    doc = fake.documents[rkey]
    assert doc["title"] == "A new title" and doc["description"] == "New words." and doc["publishedAt"] == published
    row = syn.ledger.get(post.id, "t")
    assert row is not None and row.remote_extra["cid"] != first_cid


def test_a_lost_edit_is_done_when_the_record_holds_it(fake: FakeStandardSite, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    syn = syndicator(fake, tmp_path, monkeypatch)
    post = CONTRACT.post_in(syn, 11)
    assert syn.run_inline(post, "t", sleep=no_sleep).status == "done"
    edited = CONTRACT.post_in(syn, 11, title="Edited once")
    fake.lose_next(1, path="/xrpc/com.atproto.repo.putRecord")
    assert syn.run_inline(edited, "t", sleep=no_sleep).status == "done"  # InvalidSwap, then read back: ours
    assert [d["title"] for d in fake.documents.values()] == ["Edited once"]


def test_a_record_changed_elsewhere_is_not_overwritten(fake: FakeStandardSite, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    syn = syndicator(fake, tmp_path, monkeypatch)
    post = CONTRACT.post_in(syn, 12)
    assert syn.run_inline(post, "t", sleep=no_sleep).status == "done"
    rkey = next(iter(fake.documents))
    fake.edit_elsewhere(rkey, title="Fixed by hand in another app")
    outcome = syn.run_inline(CONTRACT.post_in(syn, 12, title="Edited here"), "t", sleep=no_sleep)
    assert outcome.status == "failed" and "changed outside syndicate" in str(outcome.as_dict())
    assert fake.documents[rkey]["title"] == "Fixed by hand in another app"


def test_delete_removes_the_record_and_keeps_the_publication(fake: FakeStandardSite, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    syn = syndicator(fake, tmp_path, monkeypatch)
    post = CONTRACT.post_in(syn, 13)
    assert syn.run_inline(post, "t", sleep=no_sleep).status == "done"
    outcome = syn.run_inline(CONTRACT.post_in(syn, 13, hidden="draft", draft=True), "t", sleep=no_sleep)
    assert outcome.action == "delete" and outcome.status == "done"
    assert fake.documents == {} and len(fake.publications) == 1
    delete = [r.json() for r in fake.requests if r.path.endswith("deleteRecord")]
    assert delete and delete[-1]["collection"] == DOCUMENT


def test_a_lost_document_write_is_found_and_its_publication_written(fake: FakeStandardSite, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    syn = syndicator(fake, tmp_path, monkeypatch)
    post = CONTRACT.post_in(syn, 14)
    fake.lose_next(1, path="/xrpc/com.atproto.repo.putRecord")
    assert syn.attempt(post, "t").status == "retry"
    assert len(fake.documents) == 1 and fake.publications == {}
    fresh = syndicator(fake, tmp_path, monkeypatch)  # a restarted worker: nothing in memory
    assert fresh.run_inline(post, "t", sleep=no_sleep).status == "done"
    assert len(fake.documents) == 1 and len(fake.publications) == 1 and not fake.dangling()


def test_the_cover_is_uploaded_as_a_blob(fake: FakeStandardSite, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    syn = syndicator(fake, tmp_path, monkeypatch)
    post = CONTRACT.post_in(syn, 15, cover=Image(src="cover.png", url="https://blog.example/cover.png", alt="c"))
    assert syn.run_inline(post, "t", sleep=no_sleep).status == "done"
    doc = next(iter(fake.documents.values()))
    assert doc["coverImage"]["ref"]["$link"] in fake.blobs
    assert syn.run_inline(CONTRACT.post_in(syn, 15, title="New", cover=post.cover), "t",
                          sleep=no_sleep).status == "done"
    assert len(fake.blobs) == 1, "an edit keeps the uploaded cover"
    assert next(iter(fake.documents.values()))["coverImage"] == doc["coverImage"]


# --- the Bluesky announcement, the shared session -------------------------------------------------


def test_bsky_post_ref_points_at_the_bluesky_sibling(fake: FakeStandardSite, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    syn = syndicator(fake, tmp_path, monkeypatch)
    conn = syn.connector("t")
    post = CONTRACT.post_in(syn, 16)
    draft = conn.linked(conn.render(post, syn.facts("t")), {"bluesky": BSKY})
    remote = conn.create(draft, "k-16", SendContext(facts=syn.facts("t")))
    doc = fake.documents[rkey_of(str(remote.id))]
    assert doc["bskyPostRef"] == {"uri": BSKY.id, "cid": BSKY.extra["cid"]}
    valid(doc)


def test_one_session_for_the_bluesky_and_standard_site_targets(fake: FakeStandardSite, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from connectors.bluesky import Bluesky
    from syndicate.auth import account_of

    registry.register(Bluesky)
    syn = syndicator(fake, tmp_path, monkeypatch)
    bsky = Bluesky(TargetConfig("b", "bluesky", dict(syn.connector("t").target.options)))
    assert account_of(bsky) == account_of(syn.connector("t"))
    other = connector(base=fake.url, identifier="someone.else")
    assert account_of(other) != account_of(syn.connector("t"))


def test_the_password_never_shows(fake: FakeStandardSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    syn = syndicator(fake, tmp_path, monkeypatch)
    post = CONTRACT.post_in(syn, 17)
    shown = json.dumps(syn.requests(syn.plan_for(post, "t")))
    outcome = syn.run_inline(post, "t", sleep=no_sleep)
    row = syn.ledger.get(post.id, "t")
    assert PASSWORD not in shown + json.dumps(outcome.as_dict()) + caplog.text + repr(row)
    assert PASSWORD not in json.dumps(list(fake.documents.values()) + list(fake.publications.values()))


def test_verify_is_an_authenticated_read(fake: FakeStandardSite) -> None:
    c = connector(base=fake.url)
    request = c.build_verify()
    assert request is not None and request.method == "GET"
    assert c.send(request).json()["did"] == DID


def test_both_targets_on_one_account_log_in_once(fake: FakeStandardSite, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from connectors.bluesky import Bluesky

    registry.register(Bluesky)
    syn = syndicator(fake, tmp_path, monkeypatch)
    config = syn.config.path
    assert config is not None
    with config.open("a", encoding="utf-8") as f:
        f.write(f'\n[targets.b]\ntype = "bluesky"\nbase_url = "{fake.url}"\nidentifier = "{HANDLE}"\n'
                'app_password = "${BLUESKY_APP_PASSWORD}"\n')
    syn = Syndicator(load_config(config), media=StaticMedia())
    for n in (18, 19):
        post = CONTRACT.post_in(syn, n)
        assert syn.run_inline(post, "b", sleep=no_sleep).status == "done"
        assert syn.run_inline(post, "t", sleep=no_sleep).status == "done"
    assert fake.logins == 1, "the standard.site target used the Bluesky target's session"
    assert len(fake.of("app.bsky.feed.post")) == 2 and len(fake.documents) == 2


def test_under_chaos_every_document_has_its_publication(fake: FakeStandardSite, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    syn = CONTRACT.syndicator(fake, tmp_path, monkeypatch, timeout=1.0)
    fake.chaos(p_5xx=0.2, p_429=0.1, p_timeout=0.0, p_lost=0.3, seed=11, timeout=1.5)
    posts = [CONTRACT.post_in(syn, 300 + i) for i in range(8)]
    for post in posts:
        for _round in range(30):
            outcome = syn.run_inline(post, "t", sleep=no_sleep)
            if outcome.status in ("done", "check"):
                break
            syn.ledger.update(post.id, "t", deferred_until=None)
    fake.calm()
    assert len(fake.documents) == len(posts) and len(fake.publications) == 1
    assert not fake.dangling()


def test_notices_say_where_the_documents_go() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    c = connector(publication_url=SITE + "/")
    assert connector().notices({"did": DID, "publications": {}}, now) == []  # the URL comes with a post
    assert "first document writes it" in c.notices({"did": DID, "publications": {}}, now)[0].message
    other = {SITE: {"uri": f"at://{DID}/{PUBLICATION}/3kotherapp222", "exists": True}}
    assert "made by another app" in c.notices({"did": DID, "publications": other}, now)[0].message
    ours = {SITE: {"uri": f"at://{DID}/{PUBLICATION}/{publication_rkey(SITE)}", "exists": True}}
    assert c.notices({"did": DID, "publications": ours}, now) == []


@pytest.mark.parametrize(("content", "words"), [("markdown", 110_000), ("markdown", 240_000), ("none", 240_000)])
def test_a_long_post_fits_the_pds_body_limit(fake: FakeStandardSite, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch, content: str, words: int) -> None:
    syn = syndicator(fake, tmp_path, monkeypatch, content=content)
    body = "\n\n".join(f"Paragraph {i} with *some* words, “quotes” and 日本語." + " word" * 40
                       for i in range(words // 40))
    post = CONTRACT.post_in(syn, 20, body=body)
    p = syn.plan_for(post, "t")
    assert p.draft is not None and any("a PDS takes 1,000 KB" in w for w in p.draft.warnings)
    assert syn.run_inline(post, "t", sleep=no_sleep).status == "done"
    doc = next(iter(fake.documents.values()))
    valid(doc)
    sent = [r for r in fake.requests if r.path.endswith("putRecord")][0]
    assert len(sent.body) <= 1_000_000
    if content == "markdown" and words == 110_000:  # the Markdown fits once the plain text is left out
        assert "textContent" not in doc and doc["content"]["text"]["markdown"].rstrip().endswith("word")
    elif content == "markdown":
        assert len(sent.body) > 990_000, "cut no more than needed"
        assert "textContent" not in doc and doc["content"]["text"]["markdown"].endswith(f"({post.url})\n")
    else:
        assert "content" not in doc and doc["textContent"].endswith(post.url)
