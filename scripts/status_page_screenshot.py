"""Make docs/status-page.png: the status page of a sample site, in headless Chromium (Debian's package).

    .venv/bin/python scripts/status_page_screenshot.py [OUT.png]

The same site as tests/test_web_browser.py (a failed row with a hostile title and error, a published
row, a held deletion, a target without credentials, a token about to expire), served by a real
`syndicate serve` on loopback from a temporary folder. Needs /usr/bin/chromium (`apt-get install chromium`);
`playwright install` is not needed.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.web_site import PASSWORD, Serve, write_site  # noqa: E402


def main(out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        site = write_site(Path(tmp) / "site")
        server = Serve(site.config, env={"SYNDICATE_WEB_PASSWORD": PASSWORD})
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"])
                context = browser.new_context(http_credentials={"username": "admin", "password": PASSWORD},
                                              viewport={"width": 1200, "height": 600})
                page = context.new_page()
                page.goto(server.url + "/")
                page.screenshot(path=str(out), full_page=True)
                browser.close()
        finally:
            server.stop()
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "status-page.png")
