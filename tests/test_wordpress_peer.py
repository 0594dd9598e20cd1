"""WordPress against the real server (../shared/peers/wordpress), through a fault-injecting proxy.

The server starts once per session (`wordpress_peer`); each test talks to it
through its own `WordPressProxy`, which logs requests (the term-cache test
counts them) and can drop an answer after WordPress committed (a lost create).
Set SYNDICATE_WP_STATE to a running peer's state.json to reuse it.
"""
from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors import wordpress as wp_module
from connectors.wordpress import WordPress
from syndicate import registry
from syndicate.content.post import Image, Post
from syndicate.contract import Draft
from syndicate.engine.runner import Syndicator
from syndicate.registry import load_config
from syndicate.testing import ConnectorContract, StaticMedia, make_post
from tests import peers
from tests.fakes.wordpress_proxy import WordPressProxy

pytestmark = pytest.mark.peer

BODY = """## A heading

See [the about page](/about/) and this picture: ![A red square](/img/red.png)

line one
line two with [gallery] in it

```python
items = [1, 2]  # <b>not bold</b>
```

<script>alert("x")</script>

{% include note.html %}
"""


@pytest.fixture(scope="session")
def wordpress_peer() -> Iterator[dict[str, Any]]:
    reuse = os.environ.get("SYNDICATE_WP_STATE")
    if reuse:
        yield json.loads(Path(reuse).read_text())
        return
    yield from peers.running("wordpress")


@pytest.fixture(autouse=True)
def _registered() -> None:
    registry.register(WordPress)


@pytest.fixture
def proxy(wordpress_peer: dict[str, Any]) -> Iterator[WordPressProxy]:
    with WordPressProxy(wordpress_peer["url"], wordpress_peer["user"], wordpress_peer["app_password"]) as p:
        yield p


def syndicator(proxy: WordPressProxy, peer: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
               **options: Any) -> Syndicator:
    monkeypatch.setenv("WORDPRESS_APP_PASSWORD", peer["app_password"])
    site = tmp_path / "site"
    (site / "content").mkdir(parents=True, exist_ok=True)
    opts = {"base_url": proxy.url, "username": peer["user"], "app_password": "${WORDPRESS_APP_PASSWORD}", **options}
    lines = ['[site]\nurl = "https://blog.example"\n', f'[state]\nurl = "sqlite:///{tmp_path / "state.db"}"\n',
             "[targets.wp]", 'type = "wordpress"', *(f"{k} = {json.dumps(v)}" for k, v in opts.items())]
    (site / "syndicate.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Syndicator(load_config(site / "syndicate.toml"), media=StaticMedia())


def a_post(syn: Syndicator, slug: str, **changes: Any) -> Post:
    values: dict[str, Any] = {"id": slug, "slug": slug, "url": f"https://blog.example/posts/{slug}/", "body": BODY,
                              "cover": Image(src="cover.png", url="https://blog.example/cover.png", alt="The cover"),
                              "tags": ["Python", "C&C notes"], "categories": ["Guides"]}
    values.update(changes)
    post = make_post(1, **values)
    post.path = syn.config.site.root / "content" / f"{slug}.md"
    return post


def push(syn: Syndicator, post: Post) -> Any:
    return syn.run_inline(post, "wp", sleep=lambda s: None)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# --- create, read back, update, re-push, delete -----------------------------------------


def test_create_reads_back_as_html(proxy: WordPressProxy, wordpress_peer: dict[str, Any], tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    syn = syndicator(proxy, wordpress_peer, tmp_path, monkeypatch)
    post = a_post(syn, unique("html"))
    assert push(syn, post).status == "done"
    [copy] = proxy.posts()
    assert copy["status"] == "publish" and copy["slug"] == post.slug
    rendered, raw = copy["content"]["rendered"], copy["content"]["raw"]
    assert "<h2>A heading</h2>" in rendered
    assert '<a href="https://blog.example/about/">the about page</a>' in rendered  # links absolute
    assert "<pre><code" in rendered and "items = " in rendered and "&lt;b&gt;not bold&lt;/b&gt;" in rendered
    assert "[gallery]" not in raw and "&#91;gallery&#93;" in raw  # no shortcode WordPress would run
    assert "gallery" in rendered  # ...and the text is still shown
    assert "line one line two" in rendered and "line one<br" not in rendered  # a soft break is no <br>
    for leak in ("<script", "alert(", "{%", "include note"):
        assert leak not in raw
    assert f'<a href="{post.url}">blog.example</a>' in rendered  # the canonical footer
    assert f"<!-- syndicate:{post.id}.wp.r1 -->" in raw  # the key marker (no meta registered)
    # the inline image went to the media library, alt kept; the cover is the featured image with its alt
    media = proxy.admin("GET", "/wp/v2/media", params={"parent": 0, "per_page": 100, "context": "edit"}).json()
    by_id = {m["id"]: m for m in media}
    featured = by_id[copy["featured_media"]]
    assert featured["alt_text"] == "The cover"
    inline = [m for m in media if m["source_url"] in rendered]
    assert inline and inline[0]["alt_text"] == "A red square"
    assert 'alt="A red square"' in rendered and "https://blog.example/img/red.png" not in rendered
    names = {t["name"] for t in proxy.admin("GET", "/wp/v2/tags", params={"include": ",".join(
        map(str, copy["tags"]))}).json()}
    assert names == {"Python", "C&amp;C notes"}  # WordPress keeps names HTML-escaped
    [category] = proxy.admin("GET", "/wp/v2/categories", params={"include": copy["categories"][0]}).json()
    assert category["name"] == "Guides"


def test_update_in_place_then_repush_writes_nothing(proxy: WordPressProxy, wordpress_peer: dict[str, Any],
                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    syn = syndicator(proxy, wordpress_peer, tmp_path, monkeypatch)
    slug = unique("upd")
    assert push(syn, a_post(syn, slug)).status == "done"
    [first] = proxy.posts()
    edited = a_post(syn, slug, title="An edited title", body=BODY + "\nA new last paragraph.\n")
    before = len(proxy.requests)
    out = push(syn, edited)
    assert out.action == "update" and out.status == "done"
    assert not [r for r in proxy.requests[before:] if r.path.endswith("/wp/v2/media")]  # uploads reused
    [copy] = proxy.posts()
    assert copy["id"] == first["id"] and copy["title"]["raw"] == "An edited title"
    assert "A new last paragraph." in copy["content"]["rendered"]
    assert copy["featured_media"] == first["featured_media"]
    assert f"<!-- syndicate:{slug}.wp.r1 -->" in copy["content"]["raw"]  # the marker survives the update
    seen = len(proxy.requests)
    again = push(syn, edited)
    assert again.reason == "unchanged" and len(proxy.requests) == seen  # no write, not even a read


@pytest.mark.parametrize("force", [False, True])
def test_delete_trashes_or_forces(proxy: WordPressProxy, wordpress_peer: dict[str, Any], tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch, force: bool) -> None:
    syn = syndicator(proxy, wordpress_peer, tmp_path, monkeypatch, force_delete=force)
    slug = unique("del")
    assert push(syn, a_post(syn, slug, cover=None)).status == "done"
    [post_id] = proxy.created
    out = push(syn, a_post(syn, slug, cover=None, hidden="draft", draft=True))
    assert out.action == "delete" and out.status == "done"
    if force:
        assert proxy.posts() == []  # gone for good
        assert proxy._client.get(f"{proxy.upstream}/wp-json/wp/v2/posts/{post_id}",
                                 auth=proxy._auth).status_code == 404
    else:
        [copy] = proxy.posts()
        assert copy["status"] == "trash"


def test_lost_create_is_found_not_duplicated(proxy: WordPressProxy, wordpress_peer: dict[str, Any], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    syn = syndicator(proxy, wordpress_peer, tmp_path, monkeypatch)
    post = a_post(syn, unique("lost"))
    proxy.lose_next(1, method="POST", path="/wp-json/wp/v2/posts")
    first = syn.attempt(post, "wp")
    assert first.status == "retry" and len(proxy.created) == 1  # it landed; the answer was lost
    row = syn.ledger.get(post.id, "wp")
    assert row is not None and row.state == "creating"
    before = len(proxy.requests)
    assert push(syn, post).status == "done"
    assert not [r for r in proxy.requests[before:] if r.method == "POST" and r.path == "/wp-json/wp/v2/posts"]
    row = syn.ledger.get(post.id, "wp")
    assert row is not None and row.state == "published" and row.remote_id == str(proxy.created[0])
    assert len(proxy.created) == 1 and proxy.live() == 1


def test_backfill_looks_up_each_term_once(proxy: WordPressProxy, wordpress_peer: dict[str, Any], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    syn = syndicator(proxy, wordpress_peer, tmp_path, monkeypatch)
    tags = [unique("tag") for _ in range(3)]
    category = unique("cat")
    n = 8
    for i in range(n):
        post = a_post(syn, unique(f"bf{i}"), body=f"Post {i}.\n", cover=None, tags=tags[: 1 + i % 3],
                      categories=[category])
        assert push(syn, post).status == "done"
    # O(distinct terms), not O(posts x terms): per new term one search and one create
    assert len(proxy.term_requests()) == 2 * (len(tags) + 1), proxy.log()
    copies = proxy.posts()
    assert len(copies) == n and all(len(c["tags"]) == 1 + i % 3 for i, c in enumerate(sorted(
        copies, key=lambda c: c["id"])))
    # a new engine in the same process (the next run of a worker) keeps the cache
    other = syndicator(proxy, wordpress_peer, tmp_path / "again", monkeypatch)
    seen = len(proxy.term_requests())
    assert push(other, a_post(other, unique("bf-next"), body="x\n", cover=None, tags=tags,
                              categories=[category])).status == "done"
    assert len(proxy.term_requests()) == seen


def test_existing_term_is_reused_not_duplicated(proxy: WordPressProxy, wordpress_peer: dict[str, Any],
                                                tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = unique("Existing Tag")
    made = proxy.admin("POST", "/wp/v2/tags", json={"name": name}).json()
    syn = syndicator(proxy, wordpress_peer, tmp_path, monkeypatch)
    assert push(syn, a_post(syn, unique("ex"), body="x\n", cover=None, tags=[name.upper()],
                            categories=[])).status == "done"
    [copy] = proxy.posts()
    assert copy["tags"] == [made["id"]]


# --- the contract suite, against the real WordPress through the proxy ---------------------


class TestWordPressContract(ConnectorContract):
    chaos_timeout = 4.0  # a real server under load: only the injected faults time out
    connector_type = "wordpress"

    @pytest.fixture
    def server(self, wordpress_peer: dict[str, Any]) -> Iterator[WordPressProxy]:
        self.peer = wordpress_peer
        # the credential exists only once the peer runs: set per instance, where the cases read it
        self.secret = wordpress_peer["app_password"]  # type: ignore[misc]
        self.env = {"WORDPRESS_APP_PASSWORD": self.secret}  # type: ignore[misc]
        self.wrong_env = {"WORDPRESS_APP_PASSWORD": "wrongWrongWrong123456789"}  # type: ignore[misc]
        with WordPressProxy(wordpress_peer["url"], wordpress_peer["user"], self.secret) as proxy:
            # A site has its tags already: the contract's POST faults aim at the post's create, and a
            # term POST is a write too. Terms new to the site are covered by the tests above.
            for name in ("python", "testing"):
                proxy._client.post(f"{proxy.upstream}/wp-json/wp/v2/tags", json={"name": name}, auth=proxy._auth)
            # The contract's keys repeat from case to case (post-20.t.r1): a copy left by an earlier case
            # would rightly be found and adopted, so every case starts without them.
            for old in proxy.admin("GET", "/wp/v2/posts", params={
                    "search": "syndicate:post-", "status": "publish,draft,pending,private,trash",
                    "context": "edit", "per_page": 100}).json():
                proxy.admin("DELETE", f"/wp/v2/posts/{old['id']}", params={"force": "true"})
            wp_module._TERMS.clear()
            yield proxy

    def options(self, fake: Any) -> dict[str, Any]:
        return {"base_url": fake.url, "username": self.peer["user"], "app_password": "${WORDPRESS_APP_PASSWORD}"}

    def live(self, fake: Any) -> int:
        return int(fake.live())

    def title(self, draft: Draft) -> str | None:
        return str(draft.fields["post"]["title"])

    def tags(self, draft: Draft) -> list[str]:
        return list(draft.fields["tags"])


def test_headings_keep_the_generators_ids_and_in_page_links_stay_in_page(
        proxy: WordPressProxy, wordpress_peer: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """WordPress keeps the ids we send (tests/test_anchors.py): a link to a heading stays in the copy."""
    from syndicate.content.loader import load_posts

    syn = syndicator(proxy, wordpress_peer, tmp_path, monkeypatch)
    root = syn.config.site.root
    (root / "hugo.toml").write_text('baseURL = "https://blog.example/"\n', encoding="utf-8")
    slug = unique("anchors")
    (root / "content" / f"{slug}.md").write_text(
        f"---\ntitle: Anchors\nslug: {slug}\ndate: 2024-01-01\n---\nSee [the setup](#setup-steps), [mine](#mine) and "
        "[nowhere](#nope).\n\n## Setup steps\n\nText.\n\n## Custom heading {#mine}\n\nMore.\n", encoding="utf-8")
    posts, errors = load_posts(syn.config)
    assert not errors
    (post,) = posts
    assert push(syn, post).status == "done"
    [copy] = proxy.posts()
    rendered = copy["content"]["rendered"]
    assert '<h2 id="setup-steps">Setup steps</h2>' in rendered and '<h2 id="mine">Custom heading</h2>' in rendered
    assert '<a href="#setup-steps">the setup</a>' in rendered and '<a href="#mine">mine</a>' in rendered
    assert f'<a href="{post.url}#nope">nowhere</a>' in rendered
