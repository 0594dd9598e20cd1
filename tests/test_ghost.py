"""Ghost without a server: the Admin API token, the request builders, and the HTML the example site sends.

The round trips against the real Ghost are in tests/test_ghost_peer.py.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.ghost import (
    EXCERPT_MAX,
    TITLE_MAX,
    Ghost,
    GhostToken,
    key_tag,
    rewrite_images,
    sign_admin_token,
)
from syndicate import registry
from syndicate.content.loader import load_posts
from syndicate.content.post import Image
from syndicate.contract import Remote, SendContext
from syndicate.engine.runner import Syndicator
from syndicate.errors import AuthFailed
from syndicate.registry import load_config
from syndicate.testing import make_post

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "examples" / "site"
KEY_ID = "6b05dcd836eaef7ee9b2829f"
KEY_SECRET = "aaf1c30e" * 8
KEY = f"{KEY_ID}:{KEY_SECRET}"


@pytest.fixture(autouse=True)
def _registered() -> Iterator[None]:
    registry.register(Ghost)
    yield
    registry._extra.pop("ghost", None)


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def syndicator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **options: Any) -> Syndicator:
    monkeypatch.setenv("GHOST_ADMIN_API_KEY", KEY)
    keys = {"base_url": "https://ghost.example", "admin_api_key": "${GHOST_ADMIN_API_KEY}", **options}
    body = "\n".join(f"{k} = {json.dumps(v)}" for k, v in keys.items())
    toml = (f'[site]\nurl = "https://example.com"\nroot = {json.dumps(str(SITE))}\n'
            'content = ["content/**/*.md", "content/**/*.mdx", "_posts/*.md"]\n'
            f'[state]\nurl = "sqlite:///{tmp_path / "state.db"}"\n\n[targets.ghost]\ntype = "ghost"\n{body}\n')
    (tmp_path / "syndicate.toml").write_text(toml, encoding="utf-8")
    return Syndicator(load_config(tmp_path / "syndicate.toml"))


# --- the token ------------------------------------------------------------------------


def test_token_is_an_hs256_jwt_ghost_accepts() -> None:
    token = sign_admin_token(KEY, 1_700_000_000.7)
    head, body, sig = token.split(".")
    assert json.loads(_unb64(head)) == {"alg": "HS256", "typ": "JWT", "kid": KEY_ID}
    assert json.loads(_unb64(body)) == {"iat": 1_700_000_000, "exp": 1_700_000_300, "aud": "/admin/"}
    expected = hmac.new(bytes.fromhex(KEY_SECRET), f"{head}.{body}".encode(), hashlib.sha256).digest()
    assert _unb64(sig) == expected


@pytest.mark.parametrize("bad", ["no-colon", "id:not-hex", ":abcd", "id:"])
def test_malformed_key_is_auth_failed_without_the_key(bad: str) -> None:
    with pytest.raises(AuthFailed) as info:
        sign_admin_token(bad, 0)
    assert bad not in str(info.value)


def test_token_is_reused_until_near_expiry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    syn = syndicator(tmp_path, monkeypatch)
    conn = syn.connector("ghost")
    now = [1_700_000_000.0]
    auth = GhostToken(clock=lambda: now[0])
    first = auth.apply(conn, "u", {})[1]
    assert first["Accept-Version"] == "v5.0" and first["Authorization"].startswith("Ghost ")
    now[0] += 200
    assert auth.apply(conn, "u", {})[1]["Authorization"] == first["Authorization"]
    now[0] += 50  # 250 s: within a minute of the 300 s expiry
    assert auth.apply(conn, "u", {})[1]["Authorization"] != first["Authorization"]
    again = auth.apply(conn, "u", {})[1]["Authorization"]
    auth.invalidate(conn)
    now[0] += 1
    assert auth.apply(conn, "u", {})[1]["Authorization"] != again
    assert KEY_SECRET not in repr(auth) + repr(conn)


# --- the builders ---------------------------------------------------------------------


def test_create_carries_every_field_and_the_key_tag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    syn = syndicator(tmp_path, monkeypatch, status="draft")
    conn = syn.connector("ghost")
    post = make_post(1, title="T " * 200, summary="word " * 100, tags=["#hidden", "a,b", "Python"],
                     cover=Image(src="c.png", url="https://blog.example/c.png", alt="A cover"))
    draft = conn.render(post)
    request = conn.build_create(draft, "key-1", SendContext(media={"https://blog.example/c.png": "https://g/c.png"}))
    assert request.method == "POST" and request.url == "https://ghost.example/ghost/api/admin/posts/"
    assert request.params == {"source": "html"} and request.idempotent is False
    body = request.json["posts"][0]
    assert body["status"] == "draft" and body["canonical_url"] == post.url and body["slug"] == "post-1"
    assert len(body["title"]) <= TITLE_MAX and len(body["custom_excerpt"]) <= EXCERPT_MAX
    assert body["feature_image"] == "https://g/c.png" and body["feature_image_alt"] == "A cover"
    assert [t["name"] for t in body["tags"]] == ["hidden", "a b", "Python", key_tag("key-1")]
    assert "<p>Body of post 1.</p>" in body["html"]


def test_update_sends_updated_at_keeps_the_key_tag_and_known_uploads(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    conn = syndicator(tmp_path, monkeypatch).connector("ghost")
    post = make_post(2, body="![Alt text](https://blog.example/a.png)\n")
    draft = conn.render(post)
    remote = Remote("abc", "https://g/p/", {"updated_at": "2026-01-01T00:00:00.000Z", "tag": key_tag("k"),
                                             "media": {"https://blog.example/a.png": "https://g/content/a.png"}})
    request = conn.build_update(remote, draft, SendContext(preview=True,
                                                           media={"https://blog.example/a.png": "<upload: x>"}))
    assert request.method == "PUT" and request.url.endswith("/ghost/api/admin/posts/abc/")
    body = request.json["posts"][0]
    assert body["updated_at"] == "2026-01-01T00:00:00.000Z"
    assert "status" not in body  # a draft an editor published in Ghost stays published
    assert key_tag("k") in [t["name"] for t in body["tags"]]
    assert '<img src="https://g/content/a.png" alt="Alt text" />' in body["html"]
    assert conn.build_delete(remote).method == "DELETE"


def test_rewrite_images_matches_encoded_sources_and_keeps_alt() -> None:
    body = '<p><img src="https://s/a%20b.png" alt="x &amp; y"><img alt="z" src=\'https://s/c.png\'></p>'
    out = rewrite_images(body, {"https://s/a b.png": "https://g/1.png", "https://s/c.png": "https://g/2.png"})
    assert out == '<p><img src="https://g/1.png" alt="x &amp; y"><img alt="z" src="https://g/2.png"></p>'
    assert rewrite_images(body, {}) == body


# --- the example site: what Ghost would receive -------------------------------------------

_LEAKS = [
    (re.compile(r"\{\{[<%]|[%>]\}\}"), "a Hugo shortcode"),
    (re.compile(r"\{%-?\s*\w+|\{\{-?\s*[\w.]+\s*-?\}\}"), "a Liquid tag"),
    (re.compile(r"<[A-Z][A-Za-z]*[\s/>]"), "an MDX component"),
    (re.compile(r"<script\b", re.I), "a raw <script>"),
    (re.compile(r"^(import|export)\s", re.M), "an MDX import/export"),
]


def _outside_code(html: str) -> str:
    return re.sub(r"<pre\b.*?</pre>|<code\b.*?</code>", "", html, flags=re.S)


def test_example_site_reaches_ghost_without_source_syntax(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    syn = syndicator(tmp_path, monkeypatch)
    conn = syn.connector("ghost")
    posts, errors = load_posts(syn.config)
    assert not errors and len(posts) >= 10
    images = 0
    for post in posts:
        draft = conn.render(post)
        ctx = SendContext(media={m.source: f"https://ghost.example/content/images/{i}.png"
                                 for i, m in enumerate(draft.media)})
        body = conn.build_create(draft, "k", ctx).json["posts"][0]["html"]
        text = _outside_code(body)
        for pattern, what in _LEAKS:
            assert not pattern.search(text), f"{post.path.name}: {what} reaches Ghost: {pattern.search(text)}"
        for tag in re.findall(r"<img\b[^>]*>", body):
            images += 1
            assert 'src="https://ghost.example/content/images/' in tag, (post.path.name, tag)
            alt = re.search(r'\salt="([^"]*)"', tag)
            assert alt is not None, (post.path.name, tag)
            if not alt.group(1):  # the post gave none: the draft says so
                assert any("no alt text" in w for w in draft.warnings), (post.path.name, tag)
        for href in re.findall(r'\shref="([^"]*)"', text):
            assert re.match(r"(https?:|mailto:|#)", href), (post.path.name, href)
    assert images >= 1, "the example site has body images: none reached the HTML"
