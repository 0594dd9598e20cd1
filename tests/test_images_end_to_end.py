"""Images from a post to the platforms, through `syndicate push`: fitted, cleaned, checked, with alt text."""
from __future__ import annotations

import functools
import http.server
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from typer.testing import CliRunner, Result

from syndicate.cli import app
from tests.fakes.devto import FakeDevTo
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.threads import FakeThreads
from tests.media_helpers import FakeBucket, Server, jpeg_with_metadata, png_alpha


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


def _site(tmp_path: Path, url: str, targets: str, media: str) -> Path:
    """A site whose post has a cover in the static folder and one in its bundle, never deployed."""
    root = tmp_path / "site"
    bundle = root / "content" / "posts" / "trip"
    bundle.mkdir(parents=True)
    (root / "static" / "images").mkdir(parents=True)
    (root / "static" / "images" / "map.png").write_bytes(png_alpha(300, 200))
    (bundle / "ridge.jpg").write_bytes(jpeg_with_metadata(1200, 800, orientation=6))
    (bundle / "index.md").write_text(
        "---\ntitle: A trip\ndate: 2024-03-01\ncover: /images/map.png\ncover_alt: The route\n---\n\n"
        "We walked up the ridge.\n\n![The ridge](ridge.jpg)\n", encoding="utf-8")
    (root / "syndicate.toml").write_text(
        f'[site]\nurl = "{url}"\ncontent = ["content/**/*.md"]\npermalink = "/posts/:slug/"\n\n'
        f'[state]\nurl = "sqlite:///{tmp_path}/state.db"\n\n{media}\n{targets}', encoding="utf-8")
    return root


def _rehost(server: Server) -> str:
    """`[media]` with a `[media.rehost]` bucket on the fake S3 `server`."""
    return ('[media]\nallow = ["127.0.0.1"]\n\n[media.rehost]\n'
            f'endpoint = "{server.url("")}"\nbucket = "media"\naccess_key = "AKIDTEST"\nsecret_key = "TOPSECRETKEY"\n'
            f'public_url = "{server.url("/public/media")}"\n')


def _push(root: Path, monkeypatch: pytest.MonkeyPatch) -> Result:
    """`syndicate push content --json` in the site's folder, with no config or broker from the environment."""
    monkeypatch.chdir(root)
    monkeypatch.delenv("SYNDICATE_CONFIG", raising=False)
    monkeypatch.delenv("SYNDICATE_BROKER_URL", raising=False)
    result = CliRunner().invoke(app, ["push", "content", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def bucket() -> Iterator[tuple[FakeBucket, Server]]:
    fake = FakeBucket("AKIDTEST")
    server = Server(handler=fake)
    yield fake, server
    server.close()


def test_an_undeployed_static_image_is_rehosted_from_the_local_file(
    tmp_path: Path, site_server: tuple[Path, str], bucket: tuple[FakeBucket, Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = site_server  # serves nothing: the site is not deployed
    fake, server = bucket
    with FakeDevTo() as devto:
        root = _site(
            tmp_path, url,
            f'[targets.devto]\napi_key = "devto-test-key"\nbase_url = "{devto.url}"\n',
            _rehost(server),
        )
        (root / "content/posts/trip/index.md").write_text(
            "---\ntitle: A trip\ndate: 2024-03-01\ncover: /images/map.png\ncover_alt: The route\n---\n\nUp the ridge.\n",
            encoding="utf-8")
        result = _push(root, monkeypatch)
        (article,) = devto.articles.values()
    assert article["main_image"].startswith(server.url("/public/media/")) and article["main_image"].endswith("/cover.png")
    (kind, data), = fake.objects.values()
    assert kind == "image/png" and b"secret" not in data
    assert "TOPSECRETKEY" not in result.output


def test_an_undeployed_static_image_reaches_threads_rehosted(
    tmp_path: Path, site_server: tuple[Path, str], bucket: tuple[FakeBucket, Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Threads fetches the image from its URL: the site's does not answer (not deployed), so Threads is
    given the `[media.rehost]` copy of the local file, which answers with the image."""
    _, url = site_server  # serves nothing: the site is not deployed
    fake, server = bucket
    monkeypatch.setenv("THREADS_ACCESS_TOKEN", "threads-test-token")
    with FakeThreads() as threads:
        root = _site(
            tmp_path, url,
            f'[targets.threads]\naccess_token = "${{THREADS_ACCESS_TOKEN}}"\nuser_id = "1789"\n'
            f'base_url = "{threads.url}"\n',
            _rehost(server),
        )
        result = _push(root, monkeypatch)
        (post,) = threads.live
    image = post["image_url"]
    assert image.startswith(server.url("/public/media/")) and image.endswith("/cover.png"), image
    assert not image.startswith(url) and post["alt_text"] == "The route"
    (kind, data), = fake.objects.values()
    assert kind == "image/png"
    fetched = httpx.get(image, timeout=10)  # what Threads fetches: the image itself
    assert fetched.status_code == 200 and fetched.content == data
    with Image.open(io.BytesIO(fetched.content)) as im:
        assert im.format == "PNG" and im.size == (300, 200)
    assert "TOPSECRETKEY" not in result.output


def test_an_undeployed_bundle_image_is_rehosted_from_the_local_file(
    tmp_path: Path, site_server: tuple[Path, str], bucket: tuple[FakeBucket, Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = site_server
    fake, server = bucket
    with FakeDevTo() as devto:
        root = _site(
            tmp_path, url,
            f'[targets.devto]\napi_key = "devto-test-key"\nbase_url = "{devto.url}"\n',
            _rehost(server),
        )
        _push(root, monkeypatch)
        (article,) = devto.articles.values()
    assert article["body_markdown"].count(server.url("/public/media/")) == 1 and len(fake.objects) == 2


def test_a_cover_reaches_mastodon_when_the_site_cannot_hold_the_cache(
    tmp_path: Path, site_server: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = site_server
    with FakeMastodon() as masto:
        root = _site(tmp_path, url, f'[targets.mastodon]\nbase_url = "{masto.url}"\naccess_token = "mastodon-test-token"\n',
                     '[media]\nallow = ["127.0.0.1"]\n')
        # tests run as root, so no chmod stops a write: a file where the cache folder would go does
        (root / ".syndicate").write_text("not a folder", encoding="utf-8")
        _push(root, monkeypatch)
        assert len(masto.live) == 1 and len(masto.media) == 1
        (media,) = masto.media.values()
    assert media["description"] == "The route"
    with Image.open(io.BytesIO(media["data"])) as im:
        assert im.format == "PNG" and im.size == (300, 200)
    assert (root / ".syndicate").read_text(encoding="utf-8") == "not a folder"
