"""Ghost against the real Ghost of ../shared/peers/ghost, through a loopback proxy that injects faults.

One Ghost runs for the session (`ghost_peer`); each test clears its posts.
The contract suite runs against it, and the round trips check what Ghost
stored: HTML read back, images uploaded with their alt, update with
`updated_at` (and a 409 re-read), re-push without a write, delete, and a
create whose response is lost.
"""
from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image as PILImage

from connectors.ghost import Ghost, GhostToken, key_tag
from syndicate import registry
from syndicate.content.loader import load_posts
from syndicate.content.post import Post
from syndicate.contract import Draft, Request
from syndicate.engine.runner import Syndicator
from syndicate.registry import load_config
from syndicate.testing import ConnectorContract
from tests import peers
from tests.fakes.ghost_proxy import GhostAdmin, GhostProxy

pytestmark = pytest.mark.peer


@pytest.fixture(scope="session")
def ghost_peer() -> Iterator[dict[str, Any]]:
    """A real Ghost on loopback for the whole session (installed before the first test: tests/peers.py)."""
    yield from peers.running("ghost")


@pytest.fixture(autouse=True)
def _registered() -> Iterator[None]:
    registry.register(Ghost)
    yield
    registry._extra.pop("ghost", None)


@pytest.fixture
def admin(ghost_peer: dict[str, Any]) -> Iterator[GhostAdmin]:
    client = GhostAdmin(ghost_peer["url"], ghost_peer["admin_api_key"], ghost_peer["accept_version"])
    client.clear()
    yield client
    client.close()


@pytest.fixture
def proxy(ghost_peer: dict[str, Any]) -> Iterator[GhostProxy]:
    with GhostProxy(ghost_peer["url"]) as server:
        yield server  # type: ignore[misc]


def wrong_key(key: str) -> str:
    key_id, _, secret = key.partition(":")
    return f"{key_id}:{'0' * len(secret)}"


class TestGhostContract(ConnectorContract):
    """The contract suite, with the real Ghost behind the fault-injecting proxy."""
    chaos_timeout = 4.0  # a real server under load: only the injected faults time out

    connector_type = "ghost"

    @pytest.fixture(autouse=True)
    def _peer(self, ghost_peer: dict[str, Any], admin: GhostAdmin) -> None:
        key = ghost_peer["admin_api_key"]
        type(self).secret = key
        type(self).env = {"GHOST_ADMIN_API_KEY": key}
        type(self).wrong_env = {"GHOST_ADMIN_API_KEY": wrong_key(key)}
        self.peer, self.admin = ghost_peer, admin

    def fake(self) -> GhostProxy:
        return GhostProxy(self.peer["url"])

    def options(self, fake: Any) -> dict[str, Any]:
        return {"base_url": fake.url, "admin_api_key": "${GHOST_ADMIN_API_KEY}",
                "accept_version": self.peer["accept_version"]}

    def live(self, fake: Any) -> int:
        return self.admin.live()

    def title(self, draft: Draft) -> str | None:
        return str(draft.fields["title"])


# --- round trips on a small site -------------------------------------------------------------

BODY = """\
Intro with a [relative link](/about/) and an [absolute one](https://example.org/x).

## A heading

![A red square on white](square.png)

```python
print("hello")  # {{ not liquid }}
```

### A smaller heading

{{< figure src="square.png" alt="The square again, from a shortcode" >}}

The end.
"""


def make_site(tmp_path: Path, proxy: GhostProxy, key: str, version: str) -> Syndicator:
    site = tmp_path / "site"
    folder = site / "content" / "posts" / "shapes"
    folder.mkdir(parents=True)
    PILImage.new("RGB", (64, 48), (220, 20, 20)).save(folder / "square.png")
    PILImage.new("RGB", (120, 80), (20, 20, 220)).save(folder / "cover.jpg")
    write_post(site, BODY)
    (tmp_path / "syndicate.toml").write_text(
        f'[site]\nurl = "https://blog.example"\nroot = {json.dumps(str(site))}\n'
        f'[state]\nurl = "sqlite:///{tmp_path / "state.db"}"\n'
        f'[targets.ghost]\ntype = "ghost"\nbase_url = "{proxy.url}"\nadmin_api_key = "{key}"\n'
        f'accept_version = "{version}"\n', encoding="utf-8")
    return Syndicator(load_config(tmp_path / "syndicate.toml"))


def write_post(site: Path, body: str, title: str = "Shapes", extra: str = "") -> None:
    front = (f"---\ntitle: {title}\ndate: 2024-05-01\ntags: [python, shapes]\ncover: cover.jpg\n"
             f"cover_alt: A blue banner\ndescription: Squares, mostly.\n{extra}---\n\n")
    (site / "content" / "posts" / "shapes" / "index.md").write_text(front + body, encoding="utf-8")


def the_post(syn: Syndicator) -> Post:
    posts, errors = load_posts(syn.config)
    assert not errors and len(posts) == 1
    return posts[0]


@pytest.fixture
def syn(tmp_path: Path, proxy: GhostProxy, ghost_peer: dict[str, Any], admin: GhostAdmin) -> Syndicator:
    return make_site(tmp_path, proxy, ghost_peer["admin_api_key"], ghost_peer["accept_version"])


def writes(proxy: GhostProxy, since: int = 0) -> list[str]:
    return [f"{r.method} {r.path}" for r in proxy.requests[since:] if r.method != "GET"]


def test_create_reads_back_as_html_with_uploaded_images(syn: Syndicator, proxy: GhostProxy, admin: GhostAdmin,
                                                        ghost_peer: dict[str, Any]) -> None:
    post = the_post(syn)
    outcome = syn.run_inline(post, "ghost", sleep=lambda s: None)
    assert outcome.status == "done", outcome
    (stored,) = admin.posts()
    assert stored["status"] == "published" and stored["canonical_url"] == post.url
    assert stored["custom_excerpt"] == "Squares, mostly."
    names = [t["name"] for t in stored["tags"]]
    assert names[:2] == ["python", "shapes"] and any(n.startswith("#syndicate-") for n in names)
    site = ghost_peer["url"]
    assert stored["feature_image"].startswith(site + "/content/images/")
    assert stored["feature_image_alt"] == "A blue banner"
    html = stored["html"]
    assert re.search(r"<h2[^>]*>A heading</h2>", html) and re.search(r"<h3[^>]*>A smaller heading</h3>", html)
    assert re.search(r'<pre><code class="language-python">print\(&quot;hello&quot;\)', html) or \
        'print("hello")' in html, html
    assert "{{ not liquid }}" in html  # code is kept as written
    images = re.findall(r"<img\b[^>]*>", html)
    assert len(images) == 2, html
    for tag, alt in zip(images, ["A red square on white", "The square again, from a shortcode"], strict=True):
        assert f'src="{site}/content/images/' in tag and f'alt="{alt}"' in tag, tag
    assert "{{<" not in html and "figure src" not in html
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert "https://blog.example/about/" in hrefs and "https://example.org/x" in hrefs
    assert all(h.startswith("http") for h in hrefs), hrefs
    uploads = [r for r in proxy.requests if r.path.endswith("/images/upload/")]
    assert len(uploads) == 2  # the square is uploaded once although the body shows it twice


def test_repush_writes_nothing_and_edit_updates_in_place(syn: Syndicator, proxy: GhostProxy,
                                                         admin: GhostAdmin) -> None:
    post = the_post(syn)
    assert syn.run_inline(post, "ghost", sleep=lambda s: None).status == "done"
    (first,) = admin.posts()
    seen = len(proxy.requests)
    again = syn.run_inline(the_post(syn), "ghost", sleep=lambda s: None)
    assert again.reason == "unchanged" and writes(proxy, seen) == []
    write_post(syn.config.site.root, BODY + "\nA new paragraph.\n", title="Shapes, revised")
    edited = syn.run_inline(the_post(syn), "ghost", sleep=lambda s: None)
    assert edited.status == "done" and edited.action == "update", edited
    assert writes(proxy, seen) == [f"PUT /ghost/api/admin/posts/{first['id']}/"]  # images already uploaded
    (stored,) = admin.posts()
    assert stored["id"] == first["id"] and stored["title"] == "Shapes, revised"
    assert "A new paragraph." in stored["html"]
    assert any(t["name"].startswith("#syndicate-") for t in stored["tags"])  # the key tag survives the PUT
    row = syn.ledger.get(post.id, "ghost")
    assert row is not None and row.remote_extra["updated_at"] == stored["updated_at"]


def test_an_edit_on_ghost_meanwhile_is_a_409_reread_once(syn: Syndicator, proxy: GhostProxy,
                                                         admin: GhostAdmin) -> None:
    assert syn.run_inline(the_post(syn), "ghost", sleep=lambda s: None).status == "done"
    (first,) = admin.posts()
    path = f"/ghost/api/admin/posts/{first['id']}/"
    stamp, n = first["updated_at"], 0
    # Ghost keeps updated_at to the second: edit in Ghost until its stamp moves past ours
    while stamp == first["updated_at"]:
        n += 1  # a new title each time: a PUT that changes nothing leaves updated_at alone
        meanwhile = admin.request("PUT", path, json={"posts": [{"title": f"Edited in Ghost {n}",
                                                                "updated_at": stamp}]})
        assert meanwhile.status_code == 200, meanwhile.text
        stamp = meanwhile.json()["posts"][0]["updated_at"]
    seen = len(proxy.requests)
    write_post(syn.config.site.root, BODY, title="Edited at the source")
    outcome = syn.run_inline(the_post(syn), "ghost", sleep=lambda s: None)
    assert outcome.status == "done", outcome
    assert [f"{r.method} {r.path}" for r in proxy.requests[seen:]] == [f"PUT {path}", f"GET {path}", f"PUT {path}"]
    (stored,) = admin.posts()
    assert stored["title"] == "Edited at the source"


def test_delete_removes_the_post(syn: Syndicator, admin: GhostAdmin) -> None:
    assert syn.run_inline(the_post(syn), "ghost", sleep=lambda s: None).status == "done"
    (first,) = admin.posts()
    write_post(syn.config.site.root, BODY, extra="draft: true\n")
    outcome = syn.run_inline(the_post(syn), "ghost", sleep=lambda s: None)
    assert outcome.action == "delete" and outcome.status == "done", outcome
    assert admin.post(first["id"]) is None and admin.posts() == []


def test_lost_create_is_found_by_its_key_tag(syn: Syndicator, proxy: GhostProxy, admin: GhostAdmin) -> None:
    post = the_post(syn)
    proxy.lose_next(1, method="POST", path="/ghost/api/admin/posts/")
    first = syn.attempt(post, "ghost")
    assert first.status == "retry", first
    (landed,) = admin.posts()  # Ghost committed it; the answer never came
    row = syn.ledger.get(post.id, "ghost")
    assert row is not None and row.state == "creating" and row.idem_key
    assert key_tag(row.idem_key) in [t["name"] for t in landed["tags"]]
    again = syn.run_inline(post, "ghost", sleep=lambda s: None)
    assert again.status == "done", again
    assert [p["id"] for p in admin.posts()] == [landed["id"]]
    row = syn.ledger.get(post.id, "ghost")
    assert row is not None and row.state == "published" and row.remote_id == landed["id"]



def test_a_refused_token_is_signed_afresh_once(syn: Syndicator, proxy: GhostProxy, admin: GhostAdmin,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    conn = syn.connector("ghost")
    assert isinstance(conn.auth, GhostToken)
    conn.auth.invalidate(conn)
    stale = [time.time() - 3600]  # the first token is signed an hour ago: expired, Ghost refuses it
    monkeypatch.setattr(conn.auth, "clock", lambda: stale.pop() if stale else time.time())
    seen = len(proxy.requests)
    response = conn.send(Request("GET", conn.base + "/ghost/api/admin/posts/", params={"limit": 1}))
    assert response.status_code == 200
    tokens = [r.headers["authorization"] for r in proxy.requests[seen:]]
    assert len(tokens) == 2 and tokens[0] != tokens[1]  # refused (401), signed again, accepted


IN_PAGE = """See [the setup](#setup-steps), [the second](#setup-steps-1), [mine](#mine), [the quote](#whats-new-c--go--quoted-日本語)
and [nowhere](#nope).

## Setup steps

## Setup steps

## Custom heading {#mine}

## What's new? C++ & Go — “quoted” 日本語

The end.
"""


def test_in_page_links_reach_the_ids_ghost_gives_the_headings(syn: Syndicator, admin: GhostAdmin) -> None:
    """Ghost drops the ids the HTML had and gives each heading its own: the links follow (tests/test_anchors.py)."""
    root = syn.config.site.root
    (root / "hugo.toml").write_text('baseURL = "https://blog.example/"\n', encoding="utf-8")
    write_post(root, IN_PAGE)
    syn = Syndicator(load_config(syn.config.path))  # the site's generator read afresh
    post = the_post(syn)
    assert syn.run_inline(post, "ghost", sleep=lambda s: None).status == "done"
    (stored,) = admin.posts()
    html = stored["html"]
    ids = set(re.findall(r'<h2 id="([^"]+)"', html))
    local = re.findall(r'href="#([^"]+)"', html)
    assert len(local) == 4 and set(local) <= ids, (local, ids)
    assert f'href="{post.url}#nope"' in html  # no such heading: the place on the post's page


def test_footnotes_keep_their_ids_in_an_html_card(syn: Syndicator, admin: GhostAdmin) -> None:
    """Ghost drops the ids of converted HTML (a note's number would lead nowhere) but keeps an HTML card's."""
    write_post(syn.config.site.root, "A claim.[^1] Another.[^2]\n\n[^1]: The source.\n[^2]: A second one.\n")
    post = the_post(syn)
    assert syn.run_inline(post, "ghost", sleep=lambda s: None).status == "done"
    (stored,) = admin.posts()
    html = stored["html"]
    local = re.findall(r'href="#([^"]+)"', html)
    assert local == ["fn:1", "fn:2"], html  # the numbers lead to the notes; no link back to a dropped id
    for target in local:
        assert f'id="{target}"' in html, html
    assert "The source." in html and "A second one." in html
