"""The status page (issue 16) without a browser: Basic auth, CSRF, filters, escaping, banners, retry.

The app under a real uvicorn in a thread (httpx on loopback), and `syndicate serve` as a real
subprocess on loopback for what only the command does (refusing a public address without a password, the password from the
environment, a retry that re-queues through a real Redis broker).
"""
from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from syndicate.registry import load_config
from syndicate.state.ledger import open_ledger
from syndicate.triggers.web import StatusPage, create_app, loopback
from tests.conftest import REDIS_URL
from tests.fakes.mastodon import FakeMastodon
from tests.harness import free_port
from tests.web_site import ENV, PASSWORD, ROOT, Local, Serve, Site, write_site

AUTH = ("admin", PASSWORD)


def client_for(site: Site, *, password: bool = True) -> Local:
    env = {k: v for k, v in os.environ.items() if k != "SYNDICATE_WEB_PASSWORD"}
    env.update(ENV, **({"SYNDICATE_WEB_PASSWORD": PASSWORD} if password else {}))
    page = StatusPage(load_config(site.config, env=env))
    return Local(create_app(page))


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return write_site(tmp_path / "site")


@pytest.fixture
def client(site: Site) -> Iterator[httpx.Client]:
    with client_for(site) as c:
        yield c


def state_of(site: Site, post_id: str, target: str = "mastodon") -> str:
    ledger = open_ledger(load_config(site.config, env={**os.environ, **ENV}, strict=False, readonly=True))
    try:
        row = ledger.get(post_id, target)
        assert row is not None
        return row.state
    finally:
        ledger.dispose()


def token(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, html
    return found.group(1)


def test_the_page_refuses_anyone_without_the_password(client: httpx.Client) -> None:
    plain = client.get("/")
    assert plain.status_code == 401 and plain.headers["www-authenticate"].startswith("Basic ")
    assert "<table" not in plain.text
    assert client.get("/", auth=("admin", "wrong")).status_code == 401
    assert client.get("/", auth=("root", PASSWORD)).status_code == 401
    assert client.get("/", headers={"authorization": "Basic !!!not-base64"}).status_code == 401
    assert client.get("/", headers={"authorization": "Bearer " + PASSWORD}).status_code == 401
    nocolon = base64.b64encode(PASSWORD.encode()).decode()
    assert client.get("/", headers={"authorization": "Basic " + nocolon}).status_code == 401
    assert client.post("/retry", data={"post": "x", "target": "mastodon"}).status_code == 401
    good = client.get("/", auth=AUTH)
    assert good.status_code == 200 and "<table" in good.text
    assert PASSWORD not in good.text


def test_loopback_without_a_password_is_open(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", password=False)
    with client_for(site, password=False) as c:
        assert c.get("/").status_code == 200


def test_hostile_titles_and_errors_are_escaped(client: httpx.Client, site: Site) -> None:
    html = client.get("/", auth=AUTH).text
    assert "<script>" not in html and "<img" not in html  # the page itself has no script and no image
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt; Ünïcode &amp; &quot;quotes&quot;" in html
    assert "&lt;img src=x onerror=&quot;window.pwned = 2&quot;&gt; try later" in html
    row = re.search(rf'<tr data-post="{site.failed}".*?</tr>', html, re.S)
    assert row and "failed" in row.group(0) and "503 from the server" in row.group(0)
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", row.group(0))  # when the error happened
    assert 'action="/retry"' in row.group(0)
    assert 'href="https://social.example/@alice/110000000000000001"' in html
    assert "default-src 'none'" in client.get("/", auth=AUTH).headers["content-security-policy"]


def test_the_table_filters_by_state_and_by_target(client: httpx.Client, site: Site) -> None:
    every = client.get("/", auth=AUTH).text
    assert every.count("<tr data-post=") == 2
    failed = client.get("/?state=failed", auth=AUTH).text
    assert failed.count("<tr data-post=") == 1 and f'data-post="{site.failed}"' in failed
    published = client.get("/", params={"state": "published", "target": "mastodon"}, auth=AUTH).text
    assert published.count("<tr data-post=") == 1 and f'data-post="{site.published}"' in published
    assert client.get("/?target=devto", auth=AUTH).text.count("<tr data-post=") == 0
    hostile = client.get("/", params={"state": "<b>x</b>"}, auth=AUTH).text
    assert "<b>x</b>" not in hostile and "&lt;b&gt;x&lt;/b&gt;" in hostile


def test_the_banner_shows_held_deletions_and_credential_warnings(client: httpx.Client) -> None:
    html = client.get("/", auth=AUTH).text
    held = re.search(r'<div class="banner error-b" id="held">(.*?)</div>', html, re.S)
    assert held and "content/removed.md" in held.group(1) and "1 deletion(s) held" in held.group(1)
    notices = re.findall(r'<div class="banner [\w-]+ notice">(.*?)</div>', html, re.S)
    assert any(n.startswith("devto:") and "WEB_TEST_DEVTO_KEY_UNSET" in n for n in notices), notices
    assert any(n.startswith("li:") and "expire" in n for n in notices), notices
    assert "li-secret-token-value" not in html


def test_retry_needs_the_csrf_token_of_this_session(client: httpx.Client, site: Site) -> None:
    page = client.get("/", auth=AUTH)
    good = token(page.text)
    form = {"post": site.failed, "target": "mastodon"}
    assert client.post("/retry", data=form, auth=AUTH).status_code == 403
    assert client.post("/retry", data={**form, "csrf": "0" * 64}, auth=AUTH).status_code == 403
    cookie = client.cookies.get("syndicate_csrf")
    assert cookie and "samesite=strict" in page.headers["set-cookie"].lower()
    client.cookies.clear()  # the token without its cookie (another browser's page)
    assert client.post("/retry", data={**form, "csrf": good}, auth=AUTH).status_code == 403
    client.cookies.set("syndicate_csrf", "someone-else")
    assert client.post("/retry", data={**form, "csrf": good}, auth=AUTH).status_code == 403
    assert client.post("/retry", content=b"{}", headers={"content-type": "application/json"},
                       auth=AUTH).status_code == 415
    assert state_of(site, site.failed) == "failed"  # nothing was retried


def test_retry_without_a_broker_sends_the_row_through_the_cli_path(tmp_path: Path) -> None:
    with FakeMastodon() as masto:
        site = write_site(tmp_path / "site", masto=masto.url)
        with client_for(site) as c:
            page = c.get("/?state=failed", auth=AUTH)
            answer = c.post("/retry", data={"post": site.failed, "target": "mastodon", "csrf": token(page.text),
                                            "back": "state=failed"}, auth=AUTH, follow_redirects=False)
            assert answer.status_code == 303, answer.text
            assert answer.headers["location"] == "/?state=failed&said=retried"
            assert state_of(site, site.failed) == "published"
            assert len(masto.statuses) == 1
            after = c.get(answer.headers["location"], auth=AUTH).text
            assert 'id="said"' in after and after.count("<tr data-post=") == 0
            # a row that is not failed any more: nothing to retry, nothing sent
            again = c.post("/retry", data={"post": site.failed, "target": "mastodon", "csrf": token(page.text)},
                           auth=AUTH, follow_redirects=False)
            assert again.headers["location"].endswith("said=nothing") and len(masto.statuses) == 1


@pytest.mark.redis
def test_serve_without_a_webhook_serves_the_page_and_retry_requeues_through_the_broker(tmp_path: Path) -> None:
    import redis

    queue = f"syndicate-web-test-{uuid.uuid4().hex[:8]}"
    site = write_site(tmp_path / "site", broker=REDIS_URL, queue=queue)
    server = Serve(site.config, env={"SYNDICATE_WEB_PASSWORD": PASSWORD})
    client = redis.Redis.from_url(REDIS_URL)
    try:
        http = server.http
        assert http.get("/").status_code == 401
        page = http.get("/", auth=AUTH)
        assert page.status_code == 200 and "&lt;script&gt;" in page.text
        answer = http.post("/retry", data={"post": site.failed, "target": "mastodon", "csrf": token(page.text)},
                           auth=AUTH, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].endswith("said=retried")
        assert state_of(site, site.failed) == "queued"
        assert client.llen(queue) == 1  # one publish task, for a worker to take
        assert PASSWORD not in server.text()
    finally:
        server.stop()
        client.delete(queue)
        client.close()


def test_serve_takes_the_password_from_the_environment(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", password=False)
    server = Serve(site.config, env={"SYNDICATE_WEB_PASSWORD": PASSWORD})
    try:
        assert server.http.get("/").status_code == 401
        assert server.http.get("/", auth=AUTH).status_code == 200
        assert PASSWORD not in server.text()
    finally:
        server.stop()


def _serve(config: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "SYNDICATE_WEB_PASSWORD"}
    full.update(ENV, PYTHONPATH=str(ROOT), SYNDICATE_CONFIG=str(config), COLUMNS="400", **(env or {}))
    return subprocess.run([sys.executable, "-m", "syndicate.cli", "serve", "--port", str(free_port()), *args],
                          env=full, capture_output=True, text=True, timeout=60, check=False)


def test_serve_refuses_a_public_address_without_a_password(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", password=False)
    done = _serve(site.config, "--host", "0.0.0.0")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "[web] password" in done.stderr and "Traceback" not in done.stderr


def test_serve_with_nothing_to_serve_says_so(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", password=False, web="enabled = false\n")
    done = _serve(site.config)
    assert done.returncode == 2 and "nothing to serve" in done.stderr


def test_a_password_whose_variable_is_unset_refuses_to_start_even_on_loopback(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site")  # password = "${SYNDICATE_WEB_PASSWORD}", unset here
    for host in ("0.0.0.0", "127.0.0.1"):
        done = _serve(site.config, "--host", host)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "[web] password is empty" in done.stderr and "${SYNDICATE_WEB_PASSWORD}" in done.stderr


@pytest.mark.parametrize(("host", "local"), [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                             ("[::1]", True), ("0.0.0.0", False), ("192.168.1.5", False),
                                             ("example.org", False), ("::", False)])
def test_loopback(host: str, local: bool) -> None:
    assert loopback(host) is local


def test_the_page_answers_a_head_request_only_with_auth(client: httpx.Client) -> None:
    assert client.head("/").status_code == 401
    assert client.get("/healthz").status_code == 200  # the health check stays open (a load balancer's)


def test_with_a_webhook_the_page_sits_beside_it_and_the_webhook_paths_stay_open(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_webhook import SPECS, Repo, write_config
    from tests.test_webhook import Server as WebhookServer

    if not SPECS.exists():
        pytest.skip("../shared/specs not beside the repo")
    repo = Repo(tmp_path / "git")
    repo.write("content/posts/a.md", "---\ntitle: A\ndate: 2024-03-01\n---\n\nText.\n")
    repo.commit("a")
    repo.push()
    config = write_config(tmp_path / "site", repo.bare)
    with config.open("a", encoding="utf-8") as f:
        f.write('\n[web]\npassword = "${SYNDICATE_WEB_PASSWORD}"\n')
    monkeypatch.setenv("SYNDICATE_WEB_PASSWORD", PASSWORD)  # the subprocess inherits it
    server = WebhookServer(config)
    try:
        assert server.http.get("/healthz").status_code == 200  # as before: no auth on the webhook's own paths
        assert server.http.get("/metrics").status_code == 200
        assert server.http.post("/hooks/github", content=b"{}").status_code == 401  # unsigned, as before
        assert server.http.get("/").status_code == 401
        page = server.http.get("/", auth=AUTH)
        assert page.status_code == 200 and '<table id="rows">' in page.text
        assert PASSWORD not in server.text()
    finally:
        server.stop()


def test_web_enabled_false_serves_only_the_webhook(tmp_path: Path) -> None:
    from tests.test_webhook import SPECS, Repo, write_config
    from tests.test_webhook import Server as WebhookServer

    if not SPECS.exists():
        pytest.skip("../shared/specs not beside the repo")
    repo = Repo(tmp_path / "git")
    repo.write("content/posts/a.md", "---\ntitle: A\ndate: 2024-03-01\n---\n\nText.\n")
    repo.commit("a")
    repo.push()
    config = write_config(tmp_path / "site", repo.bare)
    with config.open("a", encoding="utf-8") as f:
        f.write("\n[web]\nenabled = false\n")
    server = WebhookServer(config)
    try:
        assert server.http.get("/healthz").status_code == 200
        assert server.http.get("/").status_code == 404
    finally:
        server.stop()


def test_only_http_links_are_followed() -> None:
    from syndicate.triggers.web import _link

    assert _link("https://social.example/@a/1").startswith('<a href="https://social.example/@a/1"')
    assert "<a" not in _link("javascript:alert(1)") and "javascript:alert(1)" in _link("javascript:alert(1)")
    assert _link('https://x.example/"><script>') == (
        '<a href="https://x.example/&quot;&gt;&lt;script&gt;" rel="noopener noreferrer">'
        "https://x.example/&quot;&gt;&lt;script&gt;</a>")
    assert _link(None) == ""
