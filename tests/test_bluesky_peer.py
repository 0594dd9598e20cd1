"""Bluesky against the real PDS (../shared/peers/bluesky-pds), through the engine as `syndicate push` runs it.

One PDS for the session (installed before the first test: tests/peers.py). Records are read
back with com.atproto.repo.getRecord / listRecords and blobs with
com.atproto.sync.getBlob: no AppView runs here.
"""
from __future__ import annotations

import io
import json
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import regex
from PIL import Image as PILImage

from connectors.atproto import is_tid, rkey_of, short_link, tid_from_key
from connectors.bluesky import Bluesky
from syndicate import registry
from syndicate.content.post import Image
from syndicate.contract import Draft
from syndicate.engine.runner import Syndicator
from syndicate.registry import load_config
from syndicate.testing import ConnectorContract, make_post
from tests import peers
from tests.fakes.bluesky_proxy import PdsProxy

POST = "app.bsky.feed.post"

pytestmark = pytest.mark.peer


@pytest.fixture(scope="session")
def pds() -> Iterator[dict[str, Any]]:
    yield from peers.running("bluesky-pds")


@pytest.fixture(autouse=True)
def _registered() -> None:
    registry.register(Bluesky)


class Site:
    """A site folder with a syndicate.toml for one Bluesky target on the PDS."""

    def __init__(self, pds: dict[str, Any], root: Path, monkeypatch: pytest.MonkeyPatch, **options: Any) -> None:
        monkeypatch.setenv("BLUESKY_PEER_PASSWORD", pds["password"])
        self.pds, self.root = pds, root
        (root / "content").mkdir(parents=True, exist_ok=True)
        (root / "static").mkdir(exist_ok=True)
        extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in options.items())
        (root / "syndicate.toml").write_text(
            f'[site]\nurl = "https://blog.example"\n\n[state]\nurl = "sqlite:///{root / "state.db"}"\n\n'
            f'[targets.bsky]\ntype = "bluesky"\nbase_url = "{pds["url"]}"\nidentifier = "{pds["handle"]}"\n'
            f'app_password = "${{BLUESKY_PEER_PASSWORD}}"\n{extra}', encoding="utf-8")

    def syndicator(self, http: httpx.Client | None = None) -> Syndicator:
        return Syndicator(load_config(self.root / "syndicate.toml"), http=http)

    def post(self, n: int, **changes: Any) -> Any:
        post = make_post(n, **changes)
        post.path = self.root / "content" / f"post-{n}.md"
        return post


def get_record(pds: dict[str, Any], rkey: str) -> dict[str, Any] | None:
    answer = httpx.get(pds["url"] + "/xrpc/com.atproto.repo.getRecord",
                       params={"repo": pds["did"], "collection": POST, "rkey": rkey}, timeout=10)
    if answer.status_code == 400 and answer.json().get("error") == "RecordNotFound":
        return None
    answer.raise_for_status()
    record: dict[str, Any] = answer.json()
    return record


def records(pds: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"repo": pds["did"], "collection": POST, "limit": 100}
        if cursor:
            params["cursor"] = cursor
        page = httpx.get(pds["url"] + "/xrpc/com.atproto.repo.listRecords", params=params, timeout=10).json()
        out += page["records"]
        cursor = page.get("cursor")
        if not cursor or not page["records"]:
            return out


def copies_of(pds: dict[str, Any], url: str) -> list[dict[str, Any]]:
    """The post records that link to `url` (by facet or card)."""
    def links(value: dict[str, Any]) -> bool:
        uris = [f["features"][0].get("uri") for f in value.get("facets") or []]
        card = ((value.get("embed") or {}).get("external") or {}).get("uri")
        return url in uris or card == url

    return [r for r in records(pds) if links(r["value"])]


def no_sleep(seconds: float) -> None:
    return None


# --- create, re-push, delete ---------------------------------------------------------------


def test_create_repush_and_delete(pds: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = Site(pds, tmp_path, monkeypatch)
    syn = site.syndicator()
    post = site.post(201, lang="en")
    outcome = syn.run_inline(post, "bsky", sleep=no_sleep)
    assert outcome.status == "done", outcome
    row = syn.ledger.get(post.id, "bsky")
    assert row is not None and row.remote_id is not None
    rkey = rkey_of(row.remote_id)
    assert is_tid(rkey) and rkey == tid_from_key(row.idem_key or "")
    stored = get_record(pds, rkey)
    assert stored is not None and stored["value"]["langs"] == ["en"]
    assert len(copies_of(pds, post.url)) == 1

    again = syn.run_inline(post, "bsky", sleep=no_sleep)
    assert again.reason == "unchanged"
    conn = syn.connector("bsky")
    p = syn.plan_for(post, "bsky")
    assert p.draft is not None
    second = conn.create(p.draft, row.idem_key or "", syn._send_context(conn, p.draft, p.draft.all_media, again))
    assert second.id == row.remote_id and second.extra["cid"] == stored["cid"]  # an identical put: no new record
    assert len(copies_of(pds, post.url)) == 1

    hidden = site.post(201, lang="en", hidden="draft", draft=True)
    gone = syn.run_inline(hidden, "bsky", sleep=no_sleep)
    assert gone.action == "delete" and gone.status == "done"
    assert get_record(pds, rkey) is None and copies_of(pds, post.url) == []


@pytest.mark.parametrize("policy", ["skip", "update", "repost"])
def test_edit_under_each_policy(pds: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                policy: str) -> None:
    n = {"skip": 211, "update": 212, "repost": 213}[policy]
    site = Site(pds, tmp_path, monkeypatch, on_edit=policy)
    syn = site.syndicator()
    post = site.post(n)
    assert syn.run_inline(post, "bsky", sleep=no_sleep).status == "done"
    first = syn.ledger.get(post.id, "bsky")
    assert first is not None and first.remote_id is not None
    edited = site.post(n, title="An edited title", summary="An edited summary.")
    outcome = syn.run_inline(edited, "bsky", sleep=no_sleep)
    copies = copies_of(pds, post.url)
    assert len(copies) == 1
    text = copies[0]["value"]["text"]
    if policy == "skip":
        assert outcome.action == "skip" and "on_edit = skip" in outcome.reason
        assert "An edited title" not in text and copies[0]["uri"] == first.remote_id
    elif policy == "update":
        assert outcome.action == "update" and outcome.status == "done"
        assert text.startswith("An edited title") and copies[0]["uri"] == first.remote_id
        assert copies[0]["value"]["embed"]["external"]["title"] == "An edited title"
    else:
        assert outcome.action == "repost" and outcome.status == "done"
        assert text.startswith("An edited title") and copies[0]["uri"] != first.remote_id
        assert get_record(pds, rkey_of(first.remote_id)) is None


def test_a_301_grapheme_title_is_fitted(pds: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = Site(pds, tmp_path, monkeypatch)
    syn = site.syndicator()
    title = "Fit \U0001F468\u200d\U0001F469\u200d\U0001F467 " * 50  # 6 graphemes each: 300, then one more
    title = title[:-1] + "X!"
    assert len(regex.findall(r"\X", title)) == 301
    post = site.post(221, title=title)
    outcome = syn.run_inline(post, "bsky", sleep=no_sleep)
    assert outcome.status == "done", outcome
    (copy,) = copies_of(pds, post.url)
    text = copy["value"]["text"]
    assert len(regex.findall(r"\X", text)) <= 300 and len(text.encode()) <= 3000
    assert "blog.example/posts/post-221/" in text  # the link stays whole


# --- media --------------------------------------------------------------------------------------


def big_jpeg(path: Path, size: int = 1_500_000) -> None:
    """A JPEG of about `size` bytes (noise compresses badly), with EXIF that must not reach the PDS."""
    rng = random.Random(5)
    side = 900
    while True:
        image = PILImage.frombytes("RGB", (side, side), bytes(rng.getrandbits(8) for _ in range(side * side * 3)))
        exif = PILImage.Exif()
        exif[0x010F] = "SecretCam"  # Make
        out = io.BytesIO()
        image.save(out, "JPEG", quality=90, exif=exif.tobytes())
        if out.tell() >= size:
            path.write_bytes(out.getvalue())
            return
        side += 150


def test_a_1_5_mb_cover_is_fitted_for_the_card(pds: dict[str, Any], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    site = Site(pds, tmp_path, monkeypatch)
    cover = site.root / "static" / "cover.jpg"
    big_jpeg(cover)
    assert cover.stat().st_size >= 1_500_000
    syn = site.syndicator()
    post = site.post(231, cover=Image(src="/cover.jpg", url="https://blog.example/cover.jpg", path=cover,
                                      alt="Noise"))
    outcome = syn.run_inline(post, "bsky", sleep=no_sleep)
    assert outcome.status == "done", outcome
    (copy,) = copies_of(pds, post.url)
    thumb = copy["value"]["embed"]["external"]["thumb"]
    assert thumb["size"] <= 1_000_000 and thumb["mimeType"].startswith("image/")
    blob = httpx.get(pds["url"] + "/xrpc/com.atproto.sync.getBlob",
                     params={"did": pds["did"], "cid": thumb["ref"]["$link"]}, timeout=10)
    assert blob.status_code == 200 and len(blob.content) == thumb["size"]
    assert b"SecretCam" not in blob.content
    with PILImage.open(io.BytesIO(blob.content)) as image:
        assert not image.getexif()


# --- facets, byte by byte -------------------------------------------------------------------------


def test_persian_post_with_emoji_and_hashtags(pds: dict[str, Any], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    site = Site(pds, tmp_path, monkeypatch)
    syn = site.syndicator()
    post = site.post(241, title="سلام دنیا 👋🏽 برنامه‌نویسی با پایتون 🐍", lang="fa",
                     summary="یادداشتی کوتاه دربارهٔ #پایتون و 👨‍👩‍👧 خانواده؛ بیشتر: https://blog.example/fa/بیشتر/",
                     url="https://blog.example/fa/posts/salam-donya/", tags=["پایتون", "برنامه نویسی", "Python"])
    outcome = syn.run_inline(post, "bsky", sleep=no_sleep)
    assert outcome.status == "done", outcome
    (copy,) = copies_of(pds, post.url)
    value = copy["value"]
    data = value["text"].encode("utf-8")
    assert value["langs"] == ["fa"]
    seen_tags, seen_links = [], []
    for facet in value["facets"]:
        start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
        piece = data[start:end].decode("utf-8")  # raises if an offset cuts a character
        feature = facet["features"][0]
        if feature["$type"] == "app.bsky.richtext.facet#tag":
            assert piece == "#" + feature["tag"]
            seen_tags.append(feature["tag"])
        else:
            assert feature["$type"] == "app.bsky.richtext.facet#link"
            assert piece == short_link(feature["uri"])
            seen_links.append(feature["uri"])
    # one tag in the summary, then the post's tags ("برنامه نویسی" joined: a tag has no space)
    assert seen_tags == ["پایتون", "پایتون", "برنامهنویسی", "Python"]
    assert seen_links == ["https://blog.example/fa/بیشتر/", post.url]  # a Persian path stays whole
    text = value["text"]
    for tag in seen_tags:  # every tag in the text has its facet, and nothing else does
        assert text.count("#" + tag) >= 1
    assert len(seen_tags) == len(regex.findall(r"(?:^|(?<=\s))#(?!\ufe0f)\S", text))


# --- a thread killed after the second post, then resumed ---------------------------------------------


class Killing(httpx.BaseTransport):
    """Real HTTP, except that putRecord number `at` (1-based) fails: before it is sent, or after (answer lost)."""

    def __init__(self, at: int, lost: bool) -> None:
        self.inner = httpx.HTTPTransport()
        self.at, self.lost, self.puts = at, lost, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("com.atproto.repo.putRecord"):
            self.puts += 1
            if self.puts >= self.at:
                if not self.lost:
                    raise httpx.ConnectError("killed", request=request)
                response = self.inner.handle_request(request)
                response.read()
                raise httpx.ReadError("killed after the write", request=request)
        return self.inner.handle_request(request)


@pytest.mark.parametrize("lost", [False, True], ids=["refused", "answer-lost"])
def test_thread_of_three_killed_after_the_second_resumes(pds: dict[str, Any], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch, lost: bool) -> None:
    n = 252 if lost else 251
    site = Site(pds, tmp_path, monkeypatch, thread=True, max_thread=4)
    sentence = "This sentence is one of many that make the excerpt too long for a single post. "
    post = site.post(n, summary=sentence * 6, tags=["threads"])
    killing = Killing(at=3, lost=lost)
    syn = site.syndicator(http=httpx.Client(transport=killing, timeout=10))
    plan = syn.plan_for(post, "bsky")
    assert plan.draft is not None and len(plan.draft.parts) == 3
    first = syn.attempt(post, "bsky")
    assert first.status == "retry"  # the worker dies here
    parts = sorted(syn.ledger.parts(post.id, "bsky"), key=lambda p: p.idx)
    # a refused connection proves nothing was written (NotCreated): that part is `refused`, retried afresh;
    # a lost answer leaves it `creating`, looked for before it is sent again
    assert [p.state for p in parts] == ["published", "published", "creating" if lost else "refused"]
    assert len(records_in_thread(pds, parts[0].remote_id or "")) == (3 if lost else 2)

    resumed = site.syndicator()  # a new worker, the same ledger
    outcome = resumed.run_inline(post, "bsky", sleep=no_sleep)
    assert outcome.status == "done", outcome
    thread = records_in_thread(pds, parts[0].remote_id or "")
    assert len(thread) == 3  # no duplicate of any part
    root = next(r for r in thread if "reply" not in r["value"])
    replies = [r for r in thread if "reply" in r["value"]]
    assert len(replies) == 2
    assert root["value"]["embed"]["external"]["uri"] == post.url  # the card on the first post only
    assert all("embed" not in r["value"] for r in replies)
    second = next(r for r in replies if r["value"]["reply"]["parent"]["uri"] == root["uri"])
    third = next(r for r in replies if r is not second)
    assert second["value"]["text"].startswith("This sentence")  # the excerpt goes on where part 1 stopped
    assert second["value"]["reply"]["root"] == {"uri": root["uri"], "cid": root["cid"]}
    assert second["value"]["reply"]["parent"] == {"uri": root["uri"], "cid": root["cid"]}
    assert third["value"]["reply"]["root"] == {"uri": root["uri"], "cid": root["cid"]}
    assert third["value"]["reply"]["parent"] == {"uri": second["uri"], "cid": second["cid"]}
    row = resumed.ledger.get(post.id, "bsky")
    assert row is not None and row.state == "published" and row.remote_extra["parts"] == [
        root["uri"], second["uri"], third["uri"]]


def records_in_thread(pds: dict[str, Any], root_uri: str) -> list[dict[str, Any]]:
    return [r for r in records(pds)
            if r["uri"] == root_uri or ((r["value"].get("reply") or {}).get("root") or {}).get("uri") == root_uri]


def test_the_session_is_shared_through_redis(pds: dict[str, Any], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    redis_url = os.environ.get("SYNDICATE_TEST_REDIS")
    if not redis_url:
        pytest.skip("SYNDICATE_TEST_REDIS not set")
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    site = Site(pds, tmp_path, monkeypatch)
    with (site.root / "syndicate.toml").open("a", encoding="utf-8") as f:
        f.write(f'\n[queue]\nredis = "{redis_url}"\n')
    logins: list[str] = []

    def count(request: httpx.Request) -> None:
        if request.url.path.endswith(("createSession", "refreshSession")):
            logins.append(request.url.path)

    for n in (261, 262):  # two workers, one login
        syn = site.syndicator(http=httpx.Client(timeout=10, event_hooks={"request": [count]}))
        assert syn.run_inline(site.post(n), "bsky", sleep=no_sleep).status == "done"
    assert len(logins) == 1
    assert pds["password"] not in repr(redis.Redis.from_url(redis_url).keys("*"))


# --- the whole contract suite against the real PDS, faults added by a loopback proxy ------------------


class TestBlueskyPeerContract(ConnectorContract):
    chaos_timeout = 4.0  # a real server under load: only the injected faults time out
    connector_type = "bluesky"
    secret = "alice-pass"  # the peer's default (BLUESKY_PDS_PASSWORD)
    env = {"BLUESKY_PEER_PASSWORD": "alice-pass"}
    wrong_env = {"BLUESKY_PEER_PASSWORD": "wrong-pass-123"}

    @pytest.fixture
    def server(self, pds: dict[str, Any]) -> Iterator[PdsProxy]:
        assert pds["password"] == self.secret
        proxy = PdsProxy(pds)
        proxy.start()
        try:
            yield proxy
        finally:
            proxy.stop()

    def options(self, fake: Any) -> dict[str, Any]:
        return {"base_url": fake.url, "identifier": fake.pds["handle"], "app_password": "${BLUESKY_PEER_PASSWORD}"}

    def live(self, fake: Any) -> int:
        return int(fake.live())

    def tags(self, draft: Draft) -> list[str]:
        return [w for w in (draft.text or "").split() if w.startswith("#")]


# --- standard.site on the same PDS (connectors/standard_site.py) -----------------------------------

DOCUMENT = "site.standard.document"
PUBLICATION = "site.standard.publication"


def std_site(pds: dict[str, Any], root: Path, monkeypatch: pytest.MonkeyPatch, url: str, **options: Any) -> Site:
    """A site with a Bluesky target and a standard.site target on the same account; `url` its publication's."""
    from connectors.standard_site import StandardSite

    registry.register(StandardSite)
    site = Site(pds, root, monkeypatch)
    text = (root / "syndicate.toml").read_text(encoding="utf-8")
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in {"publication_url": url, **options}.items())
    text += (f'\n[targets.doc]\ntype = "standard_site"\nbase_url = "{pds["url"]}"\nidentifier = "{pds["handle"]}"\n'
             f'app_password = "${{BLUESKY_PEER_PASSWORD}}"\npublication_name = "Peer blog"\n{extra}')
    (root / "syndicate.toml").write_text(text, encoding="utf-8")
    return site


def list_of(pds: dict[str, Any], collection: str) -> list[dict[str, Any]]:
    page = httpx.get(pds["url"] + "/xrpc/com.atproto.repo.listRecords",
                     params={"repo": pds["did"], "collection": collection, "limit": 100}, timeout=10).json()
    return list(page["records"])


def get_any(pds: dict[str, Any], collection: str, rkey: str) -> dict[str, Any] | None:
    answer = httpx.get(pds["url"] + "/xrpc/com.atproto.repo.getRecord",
                       params={"repo": pds["did"], "collection": collection, "rkey": rkey}, timeout=10)
    if answer.status_code == 400 and answer.json().get("error") == "RecordNotFound":
        return None
    answer.raise_for_status()
    found: dict[str, Any] = answer.json()
    return found


def test_standard_site_document_edit_and_delete(pds: dict[str, Any], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    url = "https://peer-a.example"
    site = std_site(pds, tmp_path, monkeypatch, url)
    syn = site.syndicator()
    post = site.post(401, url=url + "/posts/401/", tags=["Python", "AT Protocol"])
    assert syn.run_inline(post, "doc", sleep=no_sleep).status == "done"
    row = syn.ledger.get(post.id, "doc")
    assert row is not None and row.remote_id is not None and row.remote_id.startswith(f"at://{pds['did']}/{DOCUMENT}/")
    doc = get_any(pds, DOCUMENT, rkey_of(row.remote_id))
    assert doc is not None and doc["cid"] == row.remote_extra["cid"]
    value = doc["value"]
    pubs = [p for p in list_of(pds, PUBLICATION) if p["value"]["url"] == url]
    assert len(pubs) == 1 and pubs[0]["value"]["name"] == "Peer blog"
    assert value["site"] == pubs[0]["uri"] and value["path"] == "/posts/401/"
    assert value["tags"] == ["Python", "AT Protocol"] and value["content"]["$type"] == "at.markpub.markdown"

    # a second worker (nothing in memory) writes no second publication
    other = site.syndicator()
    assert other.run_inline(site.post(402, url=url + "/posts/402/"), "doc", sleep=no_sleep).status == "done"
    assert len([p for p in list_of(pds, PUBLICATION) if p["value"]["url"] == url]) == 1

    edited = site.post(401, url=url + "/posts/401/", title="An edited title", tags=["Python", "AT Protocol"])
    assert syn.run_inline(edited, "doc", sleep=no_sleep).status == "done"
    after = get_any(pds, DOCUMENT, rkey_of(row.remote_id))
    assert after is not None and after["value"]["title"] == "An edited title" and after["cid"] != doc["cid"]
    assert after["value"]["publishedAt"] == value["publishedAt"]

    gone = syn.run_inline(site.post(401, url=url + "/posts/401/", hidden="draft", draft=True), "doc", sleep=no_sleep)
    assert gone.action == "delete" and gone.status == "done"
    assert get_any(pds, DOCUMENT, rkey_of(row.remote_id)) is None


def test_standard_site_on_the_pds_validation_and_swap(pds: dict[str, Any]) -> None:
    """What PDS 0.5.35 does with site.standard.* records: it knows the lexicons (@atproto/pds dist/lexicons)."""
    session = httpx.post(pds["url"] + "/xrpc/com.atproto.server.createSession",
                         json={"identifier": pds["handle"], "password": pds["password"]}, timeout=30).json()
    auth = {"Authorization": "Bearer " + session["accessJwt"]}
    record = {"$type": DOCUMENT, "site": "https://peer-b.example", "title": "T",
              "publishedAt": "2026-01-01T00:00:00.000Z"}

    def put(**extra: Any) -> httpx.Response:
        return httpx.post(pds["url"] + "/xrpc/com.atproto.repo.putRecord", headers=auth, timeout=30, json={
            "repo": pds["did"], "collection": DOCUMENT, "rkey": "3kpeerbtest22", "record": record, **extra})

    first = put()  # PDS 0.5.35 bundles the site.standard.* lexicons: validated like app.bsky.*
    assert first.status_code == 200 and first.json()["validationStatus"] == "valid", first.text
    assert put(validate=True).status_code == 200
    too_long = put(record={**record, "title": "x" * 501})  # its lexicon: a title of at most 500 graphemes
    assert too_long.status_code == 400 and "title" in too_long.text, too_long.text
    not_tid = httpx.post(pds["url"] + "/xrpc/com.atproto.repo.putRecord", headers=auth, timeout=30, json={
        "repo": pds["did"], "collection": DOCUMENT, "rkey": "not-a-tid", "record": record})
    assert not_tid.status_code == 400, not_tid.text  # key: tid
    record["title"] = "T2"
    swapped = put(swapRecord=first.json()["cid"])
    assert swapped.status_code == 200, swapped.text
    record["title"] = "T3"
    stale = put(swapRecord=first.json()["cid"])  # the record moved on: the put is refused
    assert stale.status_code == 400 and stale.json()["error"] == "InvalidSwap", stale.text


def test_standard_site_points_at_the_bluesky_announcement(pds: dict[str, Any], tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from syndicate.contract import Remote

    url = "https://peer-c.example"
    site = std_site(pds, tmp_path, monkeypatch, url)
    cover = site.root / "static" / "cover.png"
    PILImage.new("RGB", (64, 32), (10, 120, 200)).save(cover, "PNG")
    syn = site.syndicator()
    post = site.post(403, url=url + "/posts/403/",
                     cover=Image(src="/cover.png", url=url + "/cover.png", path=cover, alt="Blue"))
    assert syn.run_inline(post, "bsky", sleep=no_sleep).status == "done"
    bsky = syn.ledger.get(post.id, "bsky")
    assert bsky is not None and bsky.remote_id is not None
    sibling = Remote(bsky.remote_id, bsky.remote_url, bsky.remote_extra)
    assert syn.run_inline(post, "doc", sleep=no_sleep).status == "done"  # uploads the cover
    row = syn.ledger.get(post.id, "doc")
    assert row is not None and row.remote_id is not None
    # the plan gave the document's draft the post's Bluesky copy (StandardSite.linked)
    doc = get_any(pds, DOCUMENT, rkey_of(str(row.remote_id)))
    assert doc is not None and doc["cid"] == row.remote_extra["cid"]
    assert doc["value"]["bskyPostRef"] == {"uri": sibling.id, "cid": sibling.extra["cid"]}
    blob = doc["value"]["coverImage"]
    got = httpx.get(pds["url"] + "/xrpc/com.atproto.sync.getBlob",
                    params={"did": pds["did"], "cid": blob["ref"]["$link"]}, timeout=10)
    assert got.status_code == 200 and len(got.content) == blob["size"]


def test_standard_site_document_gets_the_ref_of_a_later_bluesky_post(pds: dict[str, Any], tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The document first, the Bluesky post after it: the Bluesky unit asks for the document's, which
    rewrites the record in place (same key, `swapRecord` the CID it wrote) with the ref (`syndicate.engine.follow`)."""
    url = "https://peer-e.example"
    site = std_site(pds, tmp_path, monkeypatch, url)
    syn = site.syndicator()
    post = site.post(405, url=url + "/posts/405/")
    assert syn.run_inline(post, "doc", sleep=no_sleep).action == "create"
    row = syn.ledger.get(post.id, "doc")
    assert row is not None and row.remote_id is not None
    first = get_any(pds, DOCUMENT, rkey_of(row.remote_id))
    assert first is not None and "bskyPostRef" not in first["value"]
    assert syn.run_inline(post, "bsky", sleep=no_sleep).status == "done"
    bsky = syn.ledger.get(post.id, "bsky")
    assert bsky is not None and bsky.remote_id is not None
    announced = get_record(pds, rkey_of(bsky.remote_id))
    assert announced is not None and announced["cid"] == bsky.remote_extra["cid"]
    doc = get_any(pds, DOCUMENT, rkey_of(row.remote_id))
    assert doc is not None and doc["value"]["bskyPostRef"] == {"uri": bsky.remote_id, "cid": announced["cid"]}
    assert doc["cid"] != first["cid"] and doc["value"]["publishedAt"] == first["value"]["publishedAt"]
    after = syn.ledger.get(post.id, "doc")
    assert after is not None and after.remote_id == row.remote_id and after.remote_extra["cid"] == doc["cid"]
    assert syn.plan_for(post, "doc").reason == "unchanged"


def test_standard_site_a_long_post_fits_the_pds(pds: dict[str, Any], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    url = "https://peer-d.example"
    site = std_site(pds, tmp_path, monkeypatch, url)
    syn = site.syndicator()
    body = "\n\n".join(f"Paragraph {i}, “quoted” 日本語 *text*." + " word" * 40 for i in range(6000))
    post = site.post(404, url=url + "/posts/404/", body=body)
    assert syn.run_inline(post, "doc", sleep=no_sleep).status == "done"
    row = syn.ledger.get(post.id, "doc")
    assert row is not None and row.remote_id is not None
    doc = get_any(pds, DOCUMENT, rkey_of(row.remote_id))
    assert doc is not None and doc["value"]["content"]["text"]["markdown"].endswith(f"({post.url})\n")
    # what the connector keeps clear of: the PDS refuses a putRecord body over 1,000,000 bytes
    session = httpx.post(pds["url"] + "/xrpc/com.atproto.server.createSession",
                         json={"identifier": pds["handle"], "password": pds["password"]}, timeout=30).json()
    big = httpx.post(pds["url"] + "/xrpc/com.atproto.repo.putRecord",
                     headers={"Authorization": "Bearer " + session["accessJwt"]}, timeout=30, json={
                         "repo": pds["did"], "collection": DOCUMENT, "rkey": "3kpeerdbig222",
                         "record": {**doc["value"], "textContent": "x" * 1_000_000}})
    assert big.status_code == 413, big.text
