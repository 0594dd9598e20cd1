"""A site with a ledger in every state the status page shows, and `syndicate serve` as a real subprocess.

Shared by tests/test_web.py, tests/test_web_browser.py and scripts/status_page_screenshot.py.
The post's title and the platform's error are hostile on purpose: the page must escape them.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.harness import free_port

ROOT = Path(__file__).resolve().parents[1]
TITLE = '<script>window.pwned = 1</script> Ünïcode & "quotes"'
ERROR = "503 from the server: <img src=x onerror=\"window.pwned = 2\"> try later"
PASSWORD = "correct horse battery staple"
TOKEN = "mastodon-test-token"
ENV = {"MASTODON_ACCESS_TOKEN": TOKEN}


@dataclass
class Site:
    config: Path
    failed: str  # the post id of the failed row (target mastodon)
    published: str  # the post id of the published row (target mastodon)


def write_site(folder: Path, *, masto: str = "http://127.0.0.1:9", password: bool = True, broker: str | None = None,
               queue: str | None = None, web: str = "") -> Site:
    """A site, its config and a ledger: a failed row, a published row, a held deletion, a target without
    credentials (devto: its variable is unset) and a LinkedIn token that expires soon."""
    from datetime import date, timedelta

    from syndicate.content.loader import load_post
    from syndicate.engine.reconcile import HELD
    from syndicate.registry import load_config
    from syndicate.state.ledger import open_ledger
    from syndicate.state.ledger.rows import FileRow

    content = folder / "content"
    content.mkdir(parents=True)
    (content / "hostile.md").write_text(f"---\ntitle: '{TITLE}'\ndate: 2026-01-02\n---\nBody.\n", encoding="utf-8")
    (content / "fine.md").write_text("---\ntitle: A fine post\ndate: 2026-01-03\n---\nBody.\n", encoding="utf-8")
    soon = date.today() + timedelta(days=3)
    lines = [
        '[site]\nurl = "https://blog.example"\ncontent = ["content/*.md"]\n',
        f'[state]\ndir = "{folder / "data"}"\n',
        f'[targets.mastodon]\nbase_url = "{masto}"\naccess_token = "${{MASTODON_ACCESS_TOKEN}}"\n',
        '[targets.devto]\napi_key = "${WEB_TEST_DEVTO_KEY_UNSET}"\nbase_url = "http://127.0.0.1:9"\n',
        '[targets.li]\ntype = "linkedin"\naccess_token = "li-secret-token-value"\n'
        f'author = "urn:li:person:AbC123xyz"\nbase_url = "http://127.0.0.1:9"\ntoken_expires = {soon}\n',
    ]
    if broker:
        lines.append(f'[queue]\nbroker = "{broker}"\nname = "{queue or "syndicate-web-test"}"\n')
    if password or web:
        lines.append("[web]\n" + ('password = "${SYNDICATE_WEB_PASSWORD}"\n' if password else "") + web)
    config_path = folder / "syndicate.toml"
    config_path.write_text("\n".join(lines), encoding="utf-8")
    config = load_config(config_path, env={**os.environ, **ENV, "SYNDICATE_WEB_PASSWORD": PASSWORD})
    hostile = load_post(content / "hostile.md", config.site)
    fine = load_post(content / "fine.md", config.site)
    ledger = open_ledger(config)
    try:
        ledger.ensure(hostile.id, "mastodon", "content/hostile.md")
        ledger.record_failure(hostile.id, "mastodon", "transient", ERROR)
        ledger.ensure(fine.id, "mastodon", "content/fine.md")
        ledger.record_published(fine.id, "mastodon", "110000000000000001",
                                "https://social.example/@alice/110000000000000001", {}, "hash", first=True)
        ledger.put_files([FileRow("content/removed.md", HELD, 0, 0, "")])
    finally:
        ledger.dispose()
    return Site(config_path, hostile.id, fine.id)


def wait_for(what: str, cond: Callable[[], object], deadline: float = 60.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Serve:
    """`syndicate serve` (status page only: no [webhook]) as a subprocess on loopback, its output in a file."""

    def __init__(self, config: Path, *, env: dict[str, str] | None = None, host: str = "127.0.0.1") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = config.parent / "serve.log"
        full = {**os.environ, **ENV, "PYTHONPATH": str(ROOT), "SYNDICATE_CONFIG": str(config), "COLUMNS": "400",
                **(env or {})}
        for name in ("SYNDICATE_BROKER_URL", "SYNDICATE_REDIS_URL", "SYNDICATE_STATE_URL"):
            full.pop(name, None)
        self.proc = subprocess.Popen([sys.executable, "-m", "syndicate.cli", "serve", "--host", host,
                                      "--port", str(self.port)], cwd=config.parent, env=full,
                                     stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        self.http = httpx.Client(base_url=self.url, timeout=30)
        wait_for(f"the server to answer:\n{self.text()}", self._up)

    def _up(self) -> bool:
        assert self.proc.poll() is None, self.text()
        try:
            return self.http.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.http.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


class Local:
    """An ASGI app under a real uvicorn in a thread of this process, on loopback; `http` is a client for it."""

    def __init__(self, app: object) -> None:
        import threading

        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, lifespan="on",  # type: ignore[arg-type]
                                                    log_config=None, access_log=False))
        self.thread = threading.Thread(target=self.server.run, name="web-test-uvicorn", daemon=True)
        self.thread.start()
        wait_for("uvicorn to start", lambda: self.server.started or not self.thread.is_alive())
        assert self.server.started, "uvicorn did not start"
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)

    def __enter__(self) -> httpx.Client:
        return self.http

    def __exit__(self, *exc: object) -> None:
        self.http.close()
        self.server.should_exit = True
        self.thread.join(30)
