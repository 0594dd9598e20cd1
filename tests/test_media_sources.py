"""Where images come from: the pinned transport, `probe`'s two kinds of "no", local-first rehosting, the cache.

Real HTTP(S) servers on 127.0.0.1 (tests/media_helpers.py); host names are
answered by an injected resolver, so no test touches DNS or the internet.
"""
from __future__ import annotations

import importlib
import logging
import re
import socket
import ssl
from pathlib import Path

import httpcore
import pytest

from syndicate.content.media import (
    AddressPolicy,
    MediaPipeline,
    MediaRefused,
    MediaUnavailable,
    fetch,
    pipeline_for,
    probe,
)
from syndicate.content.media.fetch import PinnedBackend, PinnedTransport, safe_client
from syndicate.content.media.rehost import S3Rehost
from syndicate.contract import MediaItem, MediaPolicy
from syndicate.registry import load_config
from tests import media_helpers as mh

LOOPBACK = AddressPolicy.allowing("127.0.0.1")
SMALL = MediaPolicy(max_bytes=1_000_000, max_width=2000, max_height=2000, formats=("jpeg", "png", "gif"))


@pytest.fixture
def server():
    s = mh.Server()
    yield s
    s.close()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    bundle = root / "content" / "posts" / "hello"
    bundle.mkdir(parents=True)
    (root / "static" / "images").mkdir(parents=True)
    (bundle / "index.md").write_text("---\ntitle: Hello\n---\n")
    (bundle / "cover.jpg").write_bytes(mh.jpeg_with_metadata(800, 600))
    (root / "static" / "images" / "logo.png").write_bytes(mh.png_alpha(64, 64))
    return root


def no_dns(host: str, port: int) -> list[str]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


# --- the SSRF rules: refused, never retried ------------------------------------


def test_a_private_address_is_refused_saying_why_and_how_to_allow_it(server: mh.Server) -> None:
    server.routes["/a.png"] = (200, {"content-type": "image/png"}, b"png")
    with pytest.raises(MediaRefused, match=r"refused: 10\.0\.0\.1 is a private address; allow it with \[media\] allow"):
        fetch("http://10.0.0.1/a.png", max_bytes=100, timeout=5)
    client = safe_client(timeout=5, resolver=lambda h, p: ["10.0.0.1"])
    problem = probe("http://images.test/a.png", allow=AddressPolicy(), client=client)
    assert isinstance(problem, MediaRefused)
    assert problem.message == (
        "image http://images.test/a.png: refused: images.test resolves to a private address 10.0.0.1; "
        "allow it with [media] allow"
    )
    metadata = probe("http://169.254.169.254/latest/", allow=AddressPolicy.allowing("169.254.0.0/16"))
    assert isinstance(metadata, MediaRefused) and "never allowed" in metadata.message
    loopback = probe(server.url("/a.png"))
    assert isinstance(loopback, MediaRefused) and "loopback" in loopback.message
    assert server.log == []  # refused before connecting


def test_probe_tells_later_from_never(server: mh.Server) -> None:
    server.routes.update({
        "/ok.png": (200, {"content-type": "image/png"}, b"png"),
        "/busy.png": (503, {}, b""),
        "/private.png": (403, {}, b""),
        "/gone.png": (410, {}, b""),
        "/page": (200, {"content-type": "text/html"}, b"<html>"),
    })
    assert probe(server.url("/ok.png"), allow=LOOPBACK) is None
    kinds = {path: type(probe(server.url(path), allow=LOOPBACK)) for path in ("/missing.png", "/busy.png", "/private.png", "/gone.png", "/page")}
    assert kinds == {
        "/missing.png": MediaUnavailable,  # 404: the site may not be deployed yet
        "/busy.png": MediaUnavailable,
        "/private.png": MediaRefused,
        "/gone.png": MediaRefused,
        "/page": MediaRefused,
    }
    unresolved = probe("http://blog.invalid/a.png", allow=LOOPBACK, client=safe_client(LOOPBACK, 5, no_dns))
    assert isinstance(unresolved, MediaUnavailable) and "cannot resolve host 'blog.invalid'" in unresolved.message
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    refused = probe(f"http://127.0.0.1:{closed}/a.png", allow=LOOPBACK)
    assert isinstance(refused, MediaUnavailable) and "cannot connect" in refused.message


def test_pipeline_probe_remembers_successes_only(site: Path, server: mh.Server) -> None:
    pipe = MediaPipeline(site, [Path("static")], allow=LOOPBACK, timeout=5)
    assert isinstance(pipe.probe(server.url("/later.png")), MediaUnavailable)
    server.routes["/later.png"] = (200, {"content-type": "image/png"}, b"png")
    assert pipe.probe(server.url("/later.png")) is None
    server.log.clear()
    assert pipe.probe(server.url("/later.png")) is None and pipe.check_url(server.url("/later.png")) is None
    assert server.log == []
    assert "HTTP 404" in (pipe.check_url(server.url("/nowhere.png")) or "")


# --- the transport: public httpcore API, pinned, no proxy ------------------------


def test_the_transport_sets_no_private_attribute() -> None:
    module = importlib.import_module("syndicate.content.media.fetch")
    source = Path(str(module.__file__)).read_text(encoding="utf-8")
    code = re.sub(r'"""(?:.|\n)*?"""|#.*', "", source)  # docstrings and comments may name things
    assert "_pool" not in code
    # no `something._private = ...` on another object (self._x is our own state)
    assert not re.findall(r"\b(?!self\b)\w+(?:\.\w+)*\._\w+\s*=(?!=)", code)
    transport = PinnedTransport(LOOPBACK, lambda h, p: ["127.0.0.1"])
    assert isinstance(transport.pool, httpcore.ConnectionPool) and isinstance(transport.backend, PinnedBackend)
    transport.close()


def test_dns_rebinding_cannot_steer_the_socket(server: mh.Server) -> None:
    """The address checked is the address connected to: the OS never resolves the name again."""
    answers = iter([["127.0.0.1"], ["10.9.9.9"]])
    calls: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    server.routes["/a.png"] = (200, {"content-type": "image/png"}, b"png")
    url = f"http://rebind.test:{server.port}/a.png"  # a name no real resolver knows
    with safe_client(LOOPBACK, 5, rebinding) as first:
        assert fetch(url, max_bytes=100, timeout=5, allow=LOOPBACK, client=first) == b"png"
    assert calls == ["rebind.test"]  # one answer, both checked and used
    with safe_client(LOOPBACK, 5, rebinding) as second, pytest.raises(MediaRefused) as err:
        fetch(url, max_bytes=100, timeout=5, allow=LOOPBACK, client=second)
    assert "rebind.test resolves to a private address 10.9.9.9" in str(err.value)
    assert calls == ["rebind.test", "rebind.test"] and server.log == [("GET", "/a.png")]


def test_tls_sends_sni_and_verifies_the_host_name_not_the_pinned_address(tmp_path: Path) -> None:
    made = mh.self_signed(tmp_path, "images.test")
    if made is None:
        pytest.skip("the openssl command is not installed")
    cert, key = made
    names: list[str | None] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: names.append(name)  # type: ignore[assignment,misc,return-value]
    tls = mh.Server(routes={"/a.png": (200, {"content-type": "image/png"}, b"png")}, tls=context)
    try:
        trust = ssl.create_default_context(cafile=str(cert))
        pinned = lambda h, p: ["127.0.0.1"]  # noqa: E731
        with safe_client(LOOPBACK, 5, pinned, verify=trust) as client:
            assert fetch(f"https://images.test:{tls.port}/a.png", max_bytes=100, timeout=5, allow=LOOPBACK, client=client) == b"png"
            assert names == ["images.test"]
            with pytest.raises(MediaUnavailable, match="cannot connect"):  # the certificate is not other.test's
                fetch(f"https://other.test:{tls.port}/a.png", max_bytes=100, timeout=5, allow=LOOPBACK, client=client)
        assert tls.log == [("GET", "/a.png")]
    finally:
        tls.close()


def test_proxies_from_the_environment_are_ignored(server: mh.Server, monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = mh.Server(routes={})
    try:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.setenv(name, proxy.url(""))
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        server.routes["/a.png"] = (200, {"content-type": "image/png"}, b"png")
        assert fetch(server.url("/a.png"), max_bytes=100, timeout=5, allow=LOOPBACK) == b"png"
        assert proxy.log == [] and server.log == [("GET", "/a.png")]
    finally:
        proxy.close()


# --- rehosting an image the site does not serve yet ------------------------------


@pytest.fixture
def bucket(server: mh.Server) -> tuple[mh.FakeBucket, S3Rehost]:
    fake = mh.FakeBucket("AKIDTEST")
    server.handler = fake
    store = S3Rehost(server.url(""), "media", "AKIDTEST", "TOPSECRETKEY", server.url("/public/media"))
    return fake, store


def test_rehost_reads_the_local_file_not_the_undeployed_url(site: Path, bucket: tuple[mh.FakeBucket, S3Rehost]) -> None:
    fake, store = bucket
    calls: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return no_dns(host, port)

    pipe = MediaPipeline(site, [Path("static")], allow=LOOPBACK, site_url="https://blog.invalid", resolver=resolver,
                         rehost=store, timeout=5)
    cover = site / "content/posts/hello/cover.jpg"
    url = pipe.rehost(MediaItem("cover", "https://blog.invalid/posts/hello/cover.jpg", "c"), SMALL, local=cover)
    assert url.endswith("/cover.jpg") and pipe.probe(url) is None  # the bucket serves it now
    logo = pipe.rehost(MediaItem("inline", "https://blog.invalid/images/logo.png"), SMALL)  # a static file of the site
    assert logo.endswith("/logo.png")
    site_relative = pipe.rehost(MediaItem("inline", "/images/logo.png"), SMALL)
    assert site_relative == logo
    assert calls == [] and len(fake.objects) == 2  # nothing fetched from the site
    with pytest.raises(MediaUnavailable, match="cannot resolve host 'blog.invalid'"):  # no local file: try later
        pipe.rehost(MediaItem("inline", "https://blog.invalid/posts/hello/elsewhere.png"), SMALL)
    with pytest.raises(MediaRefused, match="escapes the site root"):
        pipe.rehost(MediaItem("inline", "../../../etc/passwd"), SMALL, site / "content/posts/hello")


# --- the fit cache: outside the site, optional -----------------------------------


def test_an_unwritable_cache_degrades_to_no_cache_with_one_warning(
    site: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a regular file where the cache folder should be")
    pipe = MediaPipeline(site, [Path("static")], blocker / "media")
    item = MediaItem("cover", "content/posts/hello/cover.jpg", "c")
    with caplog.at_level(logging.WARNING, logger="syndicate.content.media"):
        first = pipe.fitted(item, SMALL)
        second = pipe.fitted(item, SMALL)
    assert first.data == second.data and pipe.fits == 2
    warnings = [r for r in caplog.records if "cannot be written" in r.getMessage()]
    assert len(warnings) == 1 and str(blocker / "media") in warnings[0].getMessage()
    assert blocker.read_text().startswith("a regular file")


def _config(site: Path, extra: str = "") -> object:
    (site / "syndicate.toml").write_text(
        f'[site]\nurl = "https://blog.invalid"\ncontent = ["content/**/*.md"]\n{extra}', encoding="utf-8")
    return load_config(site / "syndicate.toml")


def test_the_cache_lives_in_the_data_dir_never_in_the_site(site: Path, tmp_path: Path) -> None:
    config = _config(site)
    assert pipeline_for(config).cache.directory == site / ".syndicate" / "media"  # type: ignore[arg-type,union-attr]
    elsewhere = _config(site, f'\n[state]\ndir = "{tmp_path / "state"}"\n')
    pipe = pipeline_for(elsewhere)  # type: ignore[arg-type]
    assert pipe.cache is not None and pipe.cache.directory == tmp_path / "state" / "media"
    pipe.fitted(MediaItem("cover", "content/posts/hello/cover.jpg"), SMALL)
    assert list((tmp_path / "state" / "media").glob("*/*.fit"))
    assert not list((site / ".syndicate").glob("media/*/*.fit"))
    explicit = _config(site, f'\n[state]\ndir = "{tmp_path / "state"}"\n[media]\ncache_dir = "../elsewhere"\n')
    assert pipeline_for(explicit).cache.directory == (site / "../elsewhere").resolve()  # type: ignore[arg-type,union-attr]
