"""`[watch] wait_live`: a create waits until the post's page answers; past the timeout the row is deferred."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from syndicate.engine.runner import Syndicator
from syndicate.registry import load_config
from syndicate.testing import make_post
from tests.fakes.mastodon import FakeMastodon


class _Site(BaseHTTPRequestHandler):
    live: set[str] = set()

    def _answer(self) -> None:
        self.send_response(200 if self.path in self.live else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = do_GET = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site_server() -> Iterator[tuple[str, set[str]]]:
    live: set[str] = set()
    handler = type("Handler", (_Site,), {"live": live})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", live
    server.shutdown()
    server.server_close()


def engine(tmp_path: Path, site_url: str, masto: FakeMastodon, monkeypatch: pytest.MonkeyPatch,
           timeout: str, allow: bool = True) -> Syndicator:
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", "mastodon-test-token")
    media = '[media]\nallow = ["127.0.0.1"]\n' if allow else ""
    (tmp_path / "syndicate.toml").write_text(
        f'[site]\nurl = "{site_url}"\n[state]\nurl = "sqlite:///{tmp_path}/state.db"\n'
        f'[watch]\nwait_live = true\nwait_live_timeout = "{timeout}"\n{media}'
        f'[targets.mastodon]\nbase_url = "{masto.url}"\naccess_token = "${{MASTODON_ACCESS_TOKEN}}"\n',
        encoding="utf-8")
    return Syndicator(load_config(tmp_path / "syndicate.toml"))


def known_since(syn: Syndicator, post_id: str, hours: int) -> None:
    from datetime import UTC, datetime, timedelta

    syn.ledger.ensure(post_id, "mastodon", f"content/{post_id}.md")
    syn.ledger.update(post_id, "mastodon")
    with syn.ledger.engine.begin() as conn:
        import sqlalchemy as sa

        conn.execute(sa.text("UPDATE syndication SET created_at = :t WHERE post_id = :p"),
                     {"t": datetime.now(UTC) - timedelta(hours=hours), "p": post_id})


def test_a_create_waits_for_the_page_then_goes_out(tmp_path: Path, site_server: tuple[str, set[str]],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    url, live = site_server
    with FakeMastodon() as masto:
        syn = engine(tmp_path, url, masto, monkeypatch, "15m")
        post = make_post(1, url=f"{url}/posts/post-1/")
        post.path = tmp_path / "content" / "post-1.md"
        first = syn.attempt(post, "mastodon")
        assert first.status == "retry" and first.rate_limited and "does not answer yet" in (first.error or "")
        assert not masto.live and not [r for r in masto.requests if r.method == "POST"]
        live.add("/posts/post-1/")  # the site has deployed
        assert syn.attempt(post, "mastodon").status == "done"
        assert len(masto.live) == 1


def test_past_the_timeout_the_row_is_deferred_with_the_reason(tmp_path: Path, site_server: tuple[str, set[str]],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    url, _ = site_server
    with FakeMastodon() as masto:
        syn = engine(tmp_path, url, masto, monkeypatch, "10m")
        post = make_post(2, url=f"{url}/posts/post-2/")
        post.path = tmp_path / "content" / "post-2.md"
        known_since(syn, post.id, hours=1)  # the post has waited an hour already
        outcome = syn.run_inline(post, "mastodon", sleep=lambda s: pytest.fail("slept"))
        assert outcome.status == "deferred" and "did not answer" in outcome.reason
        row = syn.ledger.get(post.id, "mastodon")
        assert row is not None and row.state == "deferred" and "wait_live" in (row.defer_reason or "")
        assert not masto.live


def test_a_loopback_site_is_checked_only_when_media_allow_says_so(tmp_path: Path,
                                                                  site_server: tuple[str, set[str]],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    url, live = site_server
    live.add("/posts/post-3/")
    with FakeMastodon() as masto:
        syn = engine(tmp_path, url, masto, monkeypatch, "10m", allow=False)
        post = make_post(3, url=f"{url}/posts/post-3/")
        post.path = tmp_path / "content" / "post-3.md"
        known_since(syn, post.id, hours=1)
        assert syn.run_inline(post, "mastodon", sleep=lambda s: None).status == "deferred"  # refused: not live
        assert not masto.live
