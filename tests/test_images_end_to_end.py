"""Images from a post to the platforms, through `syndicate push`: fitted, cleaned, checked, with alt text."""
from __future__ import annotations

import functools
import http.server
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from syndicate.cli import app
from tests.fakes.devto import FakeDevTo
from tests.fakes.mastodon import FakeMastodon
from tests.media_helpers import jpeg_with_metadata


@pytest.fixture
def site_server(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """The deployed site: a folder served over HTTP on loopback."""
    public = tmp_path / "public"
    public.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(public))
    handler.log_message = lambda *a, **k: None  # type: ignore[method-assign]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield public, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def env(tmp_path: Path, site_server: tuple[Path, str], monkeypatch: pytest.MonkeyPatch):
    public, url = site_server
    with FakeDevTo() as devto, FakeMastodon() as masto:
        root = tmp_path / "site"
        bundle = root / "content" / "posts" / "trip"
        bundle.mkdir(parents=True)
        (bundle / "ridge.jpg").write_bytes(jpeg_with_metadata(3000, 2000, orientation=6))
        (bundle / "index.md").write_text(
            "---\ntitle: A trip\ndate: 2024-03-01\ncover: ridge.jpg\ncover_alt: The ridge at dawn\n---\n\n"
            "We walked up the ridge.\n\n![A map of the route](ridge.jpg)\n", encoding="utf-8")
        (root / "syndicate.toml").write_text(
            f'[site]\nurl = "{url}"\ncontent = ["content/**/*.md"]\npermalink = "/posts/:slug/"\n\n'
            f'[state]\nurl = "sqlite:///{tmp_path}/state.db"\n\n'
            '[media]\nallow = ["127.0.0.1"]\n\n'
            f'[targets.devto]\napi_key = "devto-test-key"\nbase_url = "{devto.url}"\n\n'
            f'[targets.mastodon]\nbase_url = "{masto.url}"\naccess_token = "mastodon-test-token"\n',
            encoding="utf-8")
        monkeypatch.chdir(root)
        monkeypatch.delenv("SYNDICATE_CONFIG", raising=False)
        monkeypatch.delenv("SYNDICATE_BROKER_URL", raising=False)
        yield root, public, devto, masto


def deploy(root: Path, public: Path) -> None:
    target = public / "posts" / "trip"
    target.mkdir(parents=True, exist_ok=True)
    (target / "ridge.jpg").write_bytes((root / "content" / "posts" / "trip" / "ridge.jpg").read_bytes())


def test_an_undeployed_image_holds_the_dev_to_article_back_and_mastodon_gets_a_fitted_cover(env) -> None:
    root, public, devto, masto = env
    result = CliRunner().invoke(app, ["push", "content", "--json"], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert not devto.articles  # dev.to would have cached the 404 for good
    assert "ridge.jpg" in result.output and "does not answer" in result.output

    # Mastodon got the cover as media: fitted, rotated by its EXIF, cleaned of GPS, with its alt
    assert len(masto.live) == 1 and len(masto.media) == 1
    media = next(iter(masto.media.values()))
    assert media["description"] == "The ridge at dawn"
    with Image.open(io.BytesIO(media["data"])) as im:
        assert im.format == "JPEG"
        assert im.size[0] < im.size[1]  # orientation 6 applied: portrait
        assert im.width * im.height <= 33_177_600
        assert not im.getexif() and "exif" not in im.info and "icc_profile" not in im.info

    deploy(root, public)
    result = CliRunner().invoke(app, ["retry", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (article,) = devto.articles.values()
    assert article["main_image"].endswith("/posts/trip/ridge.jpg")
    assert "![A map of the route](" in article["body_markdown"]
