"""Bluesky connector: record keys, facets, records checked against the lexicons, sessions, the contract.

The real PDS cases are in tests/test_bluesky_peer.py; here the fake PDS
(tests/fakes/bluesky.py) checks every record it receives against the lexicons.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connectors.atproto import LINK_WEIGHT, is_tid, rich_text, short_link, tid_from_key
from connectors.bluesky import Bluesky
from syndicate import registry
from syndicate.auth import TokenCache
from syndicate.config import Secret, TargetConfig
from syndicate.content.post import Image
from syndicate.contract import Draft, Remote, SendContext, Transient, retry_after_from
from syndicate.engine.fitting import fit_draft
from syndicate.engine.runner import idempotency_key
from syndicate.testing import ConnectorContract, make_post, nasty_posts
from tests.fakes.bluesky import DID, HANDLE, FakeBluesky
from tests.fakes.bluesky_lexicon import check, facet_problems

PASSWORD = "bsky-app-pass-4242"
BLOB = {"$type": "blob", "ref": {"$link": "bafkreiabcdefghijklmnopqrstuvwxyz234567abcdefghijklmn"},
        "mimeType": "image/jpeg", "size": 54321}


@pytest.fixture(autouse=True)
def _registered() -> None:
    registry.register(Bluesky)


def connector(base: str = "https://pds.example", http: httpx.Client | None = None, **options: Any) -> Bluesky:
    opts: dict[str, Any] = {"base_url": base, "identifier": HANDLE, "app_password": Secret(PASSWORD), **options}
    return Bluesky(TargetConfig("bluesky", "bluesky", opts), http=http)


def fitted(c: Bluesky, post: Any) -> Draft:
    limits = c.limits_for(None)
    return fit_draft(c.render(post), limits, thread=int(c.option("max_thread", 4)) if c.option("thread") else 1)


def valid(record: dict[str, Any]) -> None:
    problems = check("app.bsky.feed.post", record) + facet_problems(record)
    assert not problems, (problems, record)


# --- record keys and facets ---------------------------------------------------------------


def test_tids_are_valid_deterministic_and_distinct() -> None:
    keys = [idempotency_key(f"post-{n}", "bluesky", r, p) for n in range(200) for r in (1, 2) for p in (0, 1, 2)]
    tids = [tid_from_key(k) for k in keys]
    assert all(is_tid(t) and len(t) == 13 for t in tids)
    assert tids == [tid_from_key(k) for k in keys]
    assert len(set(tids)) == len(keys)
    assert not is_tid("3jzfcijpj2z2a!") and not is_tid("kjzfcijpj2z2a")  # the top bit must be zero


@pytest.mark.parametrize(("url", "shown"), [
    ("https://blog.example/posts/a/", "blog.example/posts/a/"),
    ("https://www.example.com/", "example.com"),
    ("http://example.com", "example.com"),
    ("https://blog.example/" + "very-long-path/" * 30, "blog.example/very-long-path/ver…"),
])
def test_short_links(url: str, shown: str) -> None:
    assert short_link(url) == shown
    assert len(short_link(url)) <= LINK_WEIGHT


@pytest.mark.parametrize(("text", "uris"), [
    ("Read 👨‍👩‍👧 this https://blog.example/posts/a-very-long-slug-indeed/?x=1 now #Python #日本語",
     ["https://blog.example/posts/a-very-long-slug-indeed/?x=1"]),
    ("日本語のテキスト https://blog.example/日本。 #タグ。 end", ["https://blog.example/日本"]),
    ("بیشتر: https://blog.example/fa/بیشتر/؛ و #پایتون", ["https://blog.example/fa/بیشتر/"]),
    ("سلام دنیا 👋🏽 https://blog.example/fa/salam/ #برنامه‌نویسی #پایتون!", ["https://blog.example/fa/salam/"]),
    ("שלום עולם #עברית (https://blog.example/he/) #123 #️⃣ a#b https://x.example/#frag",
     ["https://blog.example/he/", "https://x.example/#frag"]),
    ("e\u0301\u0301 #café\u0301 https://blog.example/" + "p/" * 100 + ".", ["https://blog.example/" + "p/" * 100]),
])
def test_facets_point_at_exact_bytes(text: str, uris: list[str]) -> None:
    out, facets = rich_text(text)
    data = out.encode("utf-8")
    assert not facet_problems({"text": out, "facets": facets})
    links = [f for f in facets if f["features"][0]["$type"].endswith("#link")]
    tags = [f for f in facets if f["features"][0]["$type"].endswith("#tag")]
    assert [f["features"][0]["uri"] for f in links] == uris
    assert tags, "every case has a tag"
    for f in links:
        shown = data[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode("utf-8")
        assert shown == short_link(f["features"][0]["uri"])
    for f in tags:
        shown = data[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode("utf-8")
        assert shown == "#" + f["features"][0]["tag"]
        assert not f["features"][0]["tag"].isdigit()
    for f in facets:
        valid({"$type": "app.bsky.feed.post", "text": out, "createdAt": "2024-01-01T00:00:00.000Z",
               "facets": [f]})


def test_tag_rules() -> None:
    _, facets = rich_text("#123 #️⃣ a#b #ok. #پایتون! #برنامه\u200cنویسی https://x.example/#frag")
    assert [f["features"][0]["tag"] for f in facets if "tag" in f["features"][0]] == ["ok", "پایتون", "برنامه"]


# --- render and records ---------------------------------------------------------------------


def test_every_nasty_record_is_valid() -> None:
    for thread in (False, True):
        c = connector(thread=thread)
        for post in nasty_posts():
            post.lang = post.lang or "en"
            draft = fitted(c, post)
            thread_so_far: list[Remote] = []
            for i, _part in enumerate(draft.parts):
                media = {m.source: json.dumps({"blob": BLOB, "width": 8, "height": 8}) for m in _part.media}
                ctx = SendContext(media=media, part=i, thread=list(thread_so_far))
                body = c.build_create(draft, idempotency_key(post.id, "bluesky", 1, i), ctx).json
                assert not check("com.atproto.repo.putRecord", body)
                valid(body["record"])
                assert is_tid(body["rkey"])
                thread_so_far.append(Remote(f"at://{DID}/app.bsky.feed.post/{body['rkey']}", None,
                                            {"cid": "bafyreib" + "a" * 50}))
            if thread:
                assert len(draft.parts) <= 4


def test_card_thumb_and_reply_refs() -> None:
    c = connector(thread=True)
    post = make_post(1, summary="word " * 200, lang="de",
                     cover=Image(src="cover.jpg", url="https://blog.example/cover.jpg", alt="A cover"))
    draft = fitted(c, post)
    assert len(draft.parts) > 1
    stored = json.dumps({"blob": BLOB, "width": 8, "height": 8})
    first = c.record(draft, SendContext(media={"https://blog.example/cover.jpg": stored}))
    assert first["embed"]["external"]["thumb"] == BLOB and first["langs"] == ["de"]
    assert first["embed"]["external"]["uri"] == post.url and "reply" not in first
    root = Remote(f"at://{DID}/app.bsky.feed.post/3aaaaaaaaaaaa", None, {"cid": "bafyreiroot0000"})
    second = Remote(f"at://{DID}/app.bsky.feed.post/3aaaaaaaaaaab", None, {"cid": "bafyreisecond00"})
    third = c.record(draft, SendContext(part=2, thread=[root, second]))
    assert third["reply"] == {"root": {"uri": root.id, "cid": "bafyreiroot0000"},
                              "parent": {"uri": second.id, "cid": "bafyreisecond00"}}
    assert "embed" not in third  # the card goes on the first post only
    valid(first)
    valid(third)


def test_images_mode_carries_alt_and_aspect() -> None:
    c = connector(embed="images")
    post = make_post(2, body="![A cat on a mat](https://blog.example/cat.png)\n\n![](https://blog.example/dog.png)\n")
    draft = fitted(c, post)
    media = draft.parts[0].media
    assert [(m.source, m.alt) for m in media] == [("https://blog.example/cat.png", "A cat on a mat"),
                                                 ("https://blog.example/dog.png", None)]
    assert any("no alt text" in w for w in draft.warnings)
    stored = {m.source: json.dumps({"blob": BLOB, "width": 1200, "height": 800}) for m in media}
    record = c.record(draft, SendContext(media=stored))
    assert record["embed"]["images"][0] == {"image": BLOB, "alt": "A cat on a mat",
                                            "aspectRatio": {"width": 1200, "height": 800}}
    images, card = c.limits_for(None).media, connector().limits_for(None).media
    assert images is not None and images.max_bytes == 2_000_000 and images.max_count == 4
    assert card is not None and card.max_bytes == 1_000_000
    valid(record)


def test_a_long_url_fits_because_it_shows_short() -> None:
    c = connector()
    post = make_post(3, url="https://blog.example/" + "very-long-path/" * 30, title="T " * 200)
    record = c.record(fitted(c, post), SendContext())
    valid(record)
    link = next(f for f in record["facets"] if "uri" in f["features"][0])
    assert link["features"][0]["uri"] == post.url


def test_write_points_are_declared_as_data() -> None:
    c = connector()
    costs = {r.kind: r.cost for r in c.limits.rates if r.seconds == 3600}
    assert costs == {"write-points:create": 3, "write-points:update": 2, "write-points:delete": 1}
    draft = fitted(c, make_post(4))
    remote = Remote(f"at://{DID}/app.bsky.feed.post/3aaaaaaaaaaaa", None, {"cid": "x"})
    assert c.build_create(draft, "k", SendContext()).kind == "create"
    assert c.build_update(remote, draft, SendContext()).kind == "update"
    assert c.build_delete(remote).kind == "delete"
    assert c.build_update(remote, draft, SendContext()).json["rkey"] == "3aaaaaaaaaaaa"


def test_rate_limit_reset_is_an_epoch() -> None:
    response = httpx.Response(429, headers={"RateLimit-Reset": "1700000030", "RateLimit-Remaining": "0"})
    assert retry_after_from(response, now=1_700_000_000.0) == pytest.approx(30)


# --- sessions against the fake PDS ------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeBluesky]:
    server = FakeBluesky(PASSWORD)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def live_connector(fake: FakeBluesky) -> Bluesky:
    c = connector(fake.url, http=httpx.Client(timeout=5))
    c.tokens = TokenCache(None)
    return c


def test_session_is_cached_and_refreshed_on_expiry(fake: FakeBluesky) -> None:
    c = live_connector(fake)
    post = make_post(5)
    draft = fitted(c, post)
    remote = c.create(draft, "post-5.bluesky.r1", SendContext())
    assert c.find(post, "post-5.bluesky.r1") is not None and fake.logins == 1
    fake.expire_sessions()
    with pytest.raises(Transient, match="session expired"):
        c.update(remote, draft, SendContext())
    c.update(remote, draft, SendContext())  # logs in again with the refresh token, not the password
    paths = [r.path.rsplit(".", 1)[-1] for r in fake.requests if "server." in r.path]
    assert paths == ["createSession", "refreshSession"]
    assert PASSWORD not in repr(vars(c)) and PASSWORD not in repr(fake.requests)


def test_a_refresh_token_used_elsewhere_falls_back_to_the_password(fake: FakeBluesky) -> None:
    c = live_connector(fake)
    draft = fitted(c, make_post(9))
    remote = c.create(draft, "post-9.bluesky.r1", SendContext())
    fake.expire_sessions()
    fake.refresh.clear()  # another worker refreshed first: the PDS rotated the refresh token
    with pytest.raises(Transient):
        c.update(remote, draft, SendContext())
    c.update(remote, draft, SendContext())
    paths = [r.path.rsplit(".", 1)[-1] for r in fake.requests if "server." in r.path]
    assert paths == ["createSession", "refreshSession", "createSession"]


def test_a_session_token_valid_for_minutes_is_kept_for_less(fake: FakeBluesky) -> None:
    c = live_connector(fake)
    token, ttl = c.login()
    assert token and 0 < ttl <= fake.access_ttl - 60 + 1


def test_identical_put_writes_nothing(fake: FakeBluesky) -> None:
    c = live_connector(fake)
    draft = fitted(c, make_post(6))
    first = c.create(draft, "post-6.bluesky.r1", SendContext())
    writes = fake.writes
    again = c.create(draft, "post-6.bluesky.r1", SendContext())
    assert again.id == first.id and again.extra["cid"] == first.extra["cid"] and fake.writes == writes


def test_wrong_password_is_auth_failed_without_the_secret(fake: FakeBluesky) -> None:
    from syndicate.errors import AuthFailed

    c = Bluesky(TargetConfig("bluesky", "bluesky", {"base_url": fake.url, "identifier": HANDLE,
                                                    "app_password": Secret("nope-nope-nope")}),
                http=httpx.Client(timeout=5))
    c.tokens = TokenCache(None)
    with pytest.raises(AuthFailed) as err:
        c.find(make_post(7), "k")
    assert "nope-nope-nope" not in str(err.value)


# --- the contract suite, against the fake PDS --------------------------------------------------


class TestBlueskyContract(ConnectorContract):
    connector_type = "bluesky"
    secret = PASSWORD
    env = {"BLUESKY_APP_PASSWORD": PASSWORD}
    wrong_env = {"BLUESKY_APP_PASSWORD": "wrong-pass-123"}

    def fake(self) -> FakeBluesky:
        return FakeBluesky(PASSWORD)

    def options(self, fake: Any) -> dict[str, Any]:
        return {"base_url": fake.url, "identifier": HANDLE, "app_password": "${BLUESKY_APP_PASSWORD}"}

    def live(self, fake: Any) -> int:
        return len(fake.live)

    def tags(self, draft: Draft) -> list[str]:
        return [w for w in (draft.text or "").split() if w.startswith("#")]


def test_the_fake_refuses_what_the_pds_refuses(fake: FakeBluesky) -> None:
    c = live_connector(fake)
    draft = fitted(c, make_post(8))
    body = c.build_create(draft, "k", SendContext()).json
    token, _ = c.login()
    auth = {"Authorization": "Bearer " + token}
    client = httpx.Client(timeout=5)
    bad = [
        {**body, "rkey": "not-a-tid"},
        {**body, "record": {**body["record"], "text": "x" * 301}},
        {**body, "record": {**body["record"], "facets": [{"index": {"byteStart": 5, "byteEnd": 999},
                                                           "features": [{"$type": "app.bsky.richtext.facet#tag",
                                                                         "tag": "x"}]}]}},
        {**body, "record": {**body["record"], "embed": {"$type": "app.bsky.embed.external", "external": {
            "uri": "https://x.example", "title": "t", "description": "d", "thumb": BLOB}}}},
    ]
    for item in bad:
        answer = client.post(fake.url + "/xrpc/com.atproto.repo.putRecord", json=item, headers=auth)
        assert answer.status_code == 400, item
    assert client.post(fake.url + "/xrpc/com.atproto.repo.putRecord", json=body, headers=auth).status_code == 200


def test_a_found_copy_whose_update_failed_is_finished(fake: FakeBluesky, tmp_path: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """syndicate/engine/plan.py: a copy found after a lost create is brought in line even under on_edit = skip."""
    contract = TestBlueskyContract()
    syn = contract.syndicator(fake, tmp_path, monkeypatch)
    post = contract.post_in(syn, 50)
    fake.lose_next(1, path="/xrpc/com.atproto.repo.putRecord")
    assert syn.attempt(post, "t").status == "retry"  # the put landed, its answer was lost
    fake.fail_next(1, 503, path="/xrpc/com.atproto.repo.putRecord")
    assert syn.attempt(post, "t").status == "retry"  # found by getRecord; the update to the draft failed
    row = syn.ledger.get(post.id, "t")
    assert row is not None and row.state == "published" and row.content_hash == ""
    assert syn.plan_for(post, "t").action == "update"
    assert syn.run_inline(post, "t", sleep=lambda s: None).status == "done"
    assert syn.plan_for(post, "t").reason == "unchanged" and len(fake.live) == 1
