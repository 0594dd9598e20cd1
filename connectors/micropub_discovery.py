"""Finding a site's Micropub endpoint, through a client that reaches public addresses only.

W3C Micropub §5.3 "Endpoint Discovery": the endpoint is named by an HTTP
`Link: <...>; rel="micropub"` header or a `<link rel="micropub" href="...">`
element of the site's home page; a relative URL is resolved against the page's
final URL (after redirects). The header is read first (it costs no parse).

The page, the endpoint and the media endpoint come from the network, and the
token goes to them: every connection is made through `syndicate.content.media.fetch`'s
pinned transport, which refuses loopback, private, link-local and metadata
addresses (each redirect hop too) unless the target's `allow` lists them.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from syndicate.contract import Permanent, Transient
from syndicate.errors import MediaRefused, MediaUnavailable

if TYPE_CHECKING:  # httpx is imported where a request is made: a preview of the config needs none
    import httpx

PAGE_MAX = 1 << 20  # the first MiB of the home page is enough to find its <head>
MAX_REDIRECTS = 5
_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]+)*)")
_PARAM = re.compile(r';\s*([A-Za-z*-]+)\s*=\s*(?:"([^"]*)"|([^\s;,"]+))')

__all__ = ["discover", "endpoint_in_html", "endpoint_in_links", "pinned_client"]


def endpoint_in_links(values: list[str], rel: str = "micropub") -> str | None:
    """The first URL of `Link` header values whose `rel` holds `rel` (RFC 8288: space-separated)."""
    for value in values:
        for m in _LINK.finditer(value):
            for p in _PARAM.finditer(m.group(2)):
                if p.group(1).lower() == "rel" and rel in (p.group(2) or p.group(3) or "").lower().split():
                    return m.group(1).strip()
    return None


class _LinkFinder(HTMLParser):
    def __init__(self, rel: str) -> None:
        super().__init__(convert_charrefs=True)
        self.rel = rel
        self.found: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.found is not None or tag not in ("link", "a"):
            return
        values = dict(attrs)
        if self.rel in str(values.get("rel") or "").lower().split() and values.get("href") is not None:
            self.found = str(values["href"]).strip()


def endpoint_in_html(page: str, rel: str = "micropub") -> str | None:
    """The href of the first `<link>` (or `<a>`) whose rel holds `rel`."""
    finder = _LinkFinder(rel)
    try:
        finder.feed(page)
        finder.close()
    except (AssertionError, ValueError):  # html.parser on broken markup
        pass
    return finder.found


def pinned_client(allow: list[str], timeout: float) -> httpx.Client:
    """An httpx client whose every connection goes to a public address, or to one `allow` names."""
    import httpx

    from syndicate.content.media.fetch import PinnedTransport, system_resolver
    from syndicate.content.media.safety import AddressPolicy

    return httpx.Client(transport=PinnedTransport(AddressPolicy.allowing(*allow), system_resolver),
                        timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False,
                        headers={"user-agent": "syndicate (+micropub)"})


def discover(client: httpx.Client, site_url: str, name: str) -> str:
    """The Micropub endpoint `site_url` names (Link header first, then the HTML), as an absolute URL."""
    import httpx

    url = site_url
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            with client.stream("GET", url, headers={"accept": "text/html"}) as response:
                if response.is_redirect and response.headers.get("location"):
                    url = urljoin(str(response.url), response.headers["location"])
                    continue
                if response.status_code >= 400:
                    cls = Transient if response.status_code >= 500 or response.status_code == 429 else Permanent
                    raise cls(f"{name}: site_url {site_url} answered HTTP {response.status_code}")
                final = str(response.url)
                found = endpoint_in_links(response.headers.get_list("link"))
                if found is None:
                    body = b""
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) >= PAGE_MAX:
                            break
                    found = endpoint_in_html(body[:PAGE_MAX].decode(response.encoding or "utf-8", "replace"))
                break
        else:
            raise Permanent(f"{name}: site_url {site_url} redirects more than {MAX_REDIRECTS} times")
    except MediaRefused as exc:
        why = str(exc).split(";")[0]
        raise Permanent(f"{name}: site_url {site_url} refused: {why} (a private site: list its host in `allow`)") from None
    except (MediaUnavailable, httpx.TransportError) as exc:
        raise Transient(f"{name}: site_url {site_url} cannot be read ({type(exc).__name__})") from None
    if not found:
        raise Permanent(f"{name}: {site_url} names no Micropub endpoint (no rel=\"micropub\" Link header "
                        "or <link>); set `endpoint`")
    endpoint = urljoin(final, found)
    if not endpoint.startswith(("https://", "http://")):
        raise Permanent(f"{name}: {site_url} names a Micropub endpoint that is not http(s)")
    return endpoint
