"""The status page in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

`syndicate serve` runs as a real subprocess on loopback (status page only, a real Redis broker);
the browser logs in with Basic auth, reads the failed row's error, presses retry and sees the row
re-queued; a browser without credentials is refused. `playwright install` is never run: `./dev test`
installs the `chromium` package.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REDIS_URL
from tests.web_site import ERROR, PASSWORD, TITLE, Serve, Site, write_site

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: `./dev test` installs it "
                                                     "(apt package chromium)"),
    pytest.mark.redis,
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Site, Serve, str]]:
    import redis

    queue = f"syndicate-web-browser-{uuid.uuid4().hex[:8]}"
    site = write_site(tmp_path / "site", broker=REDIS_URL, queue=queue)
    server = Serve(site.config, env={"SYNDICATE_WEB_PASSWORD": PASSWORD})
    try:
        yield site, server, queue
    finally:
        server.stop()
        client = redis.Redis.from_url(REDIS_URL)
        client.delete(queue)
        client.close()


def test_the_page_renders_shows_the_error_and_retry_requeues(browser: Any, served: tuple[Site, Serve, str],
                                                             tmp_path: Path) -> None:
    import redis

    site, server, queue = served
    context = browser.new_context(http_credentials={"username": "admin", "password": PASSWORD},
                                  viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        answer = page.goto(server.url + "/")
        assert answer is not None and answer.status == 200
        row = page.locator(f'tr[data-post="{site.failed}"][data-target="mastodon"]')
        assert row.locator("td.state").inner_text() == "failed"
        assert row.locator("td.error").inner_text() == ERROR  # shown as text, not run
        assert TITLE in page.locator("table#rows").inner_text()
        assert page.evaluate("window.pwned") is None  # neither the title's script nor the error's image ran
        assert "1 deletion(s) held" in page.locator("#held").inner_text()
        assert page.locator(".notice").count() >= 2
        page.screenshot(path=str(tmp_path / "status-page.png"), full_page=True)
        assert (tmp_path / "status-page.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

        page.select_option("#filter-state", "failed")
        page.click("form.filters button")
        page.wait_for_url("**/?state=failed**")
        assert page.locator("tr[data-post]").count() == 1

        row = page.locator(f'tr[data-post="{site.failed}"]')
        row.locator("button", has_text="retry").click()
        page.wait_for_url("**said=retried**")
        assert "retry: done" in page.locator("#said").inner_text()
        assert page.locator("tr[data-post]").count() == 0  # no row is failed any more
        page.goto(server.url + "/?state=queued")
        assert page.locator(f'tr[data-post="{site.failed}"] td.state').inner_text() == "queued"
        client = redis.Redis.from_url(REDIS_URL)
        try:
            assert client.llen(queue) == 1
        finally:
            client.close()
    finally:
        context.close()


def test_a_browser_without_credentials_is_refused(browser: Any, served: tuple[Site, Serve, str]) -> None:
    from playwright.sync_api import Error

    _, server, _ = served
    for credentials in (None, {"username": "admin", "password": "not it"}):
        context = browser.new_context(http_credentials=credentials)
        try:
            page = context.new_page()
            statuses: list[int] = []
            page.on("response", lambda r, seen=statuses: seen.append(r.status))
            try:  # Chromium shows the 401 page, or gives up on the challenge (ERR_INVALID_AUTH_CREDENTIALS)
                page.goto(server.url + "/")
            except Error as exc:
                assert "ERR_INVALID_AUTH_CREDENTIALS" in str(exc)
            assert statuses and set(statuses) == {401}, statuses
            assert page.locator("table").count() == 0
            assert context.request.get(server.url + "/").status == 401
        finally:
            context.close()
