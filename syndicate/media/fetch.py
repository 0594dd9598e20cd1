"""SSRF-safe HTTP(S) fetch of remote images, with a byte cap and a time budget.

Every hop is checked twice: the URL (scheme, literal address, metadata host
names) before a request is built, and the resolved addresses inside the
connection itself. The pinned network backend resolves the host once, refuses
it unless every address is public (or allowed), then connects to the very
address it checked, so a DNS answer that changes between check and connect
(rebinding) cannot steer the socket. TLS still verifies the host name.
Redirects are followed by hand (at most 5), each one checked the same way.
Proxies from the environment are ignored (`trust_env=False`).
"""
from __future__ import annotations

import ipaddress
import socket
import time
import typing
from typing import Callable, Iterator

import httpcore
import httpx

from syndicate.media.errors import MediaError
from syndicate.media.safety import AddressPolicy

MAX_REDIRECTS = 5
USER_AGENT = "syndicate-media/0.1 (+https://github.com/)"
Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in the order to try them."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for *_, sockaddr in infos:
        if sockaddr[0] not in seen:
            seen.append(str(sockaddr[0]))
    return seen


class _PinnedBackend(httpcore.SyncBackend):
    """Resolves, checks every address against the policy, connects to a checked one."""

    def __init__(self, allow: AddressPolicy, resolver: Resolver) -> None:
        self.allow = allow
        self.resolver = resolver

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        self.allow.check_host(host)
        try:
            ipaddress.ip_address(host)
            addresses = [host]  # a literal address: nothing to resolve
        except ValueError:
            addresses = []
        try:
            addresses = addresses or self.resolver(host, port)
        except OSError:
            raise MediaError(f"cannot resolve host {host!r}", True) from None
        if not addresses:
            raise MediaError(f"host {host!r} has no address", True)
        for addr in addresses:
            self.allow.check_ip(ipaddress.ip_address(addr.split("%", 1)[0]), host)
        last: Exception | None = None
        for addr in addresses:
            try:
                return super().connect_tcp(addr, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last


class _PinnedTransport(httpx.HTTPTransport):
    def __init__(self, allow: AddressPolicy, resolver: Resolver) -> None:
        super().__init__(trust_env=False, retries=0)
        # httpx takes no network backend argument; the pool holds it (httpcore 1.x)
        self._pool._network_backend = _PinnedBackend(allow, resolver)


def safe_client(allow: AddressPolicy | None = None, timeout: float = 20.0, resolver: Resolver | None = None) -> httpx.Client:
    """An httpx client whose every connection goes through the address checks."""
    return httpx.Client(
        transport=_PinnedTransport(allow or AddressPolicy(), resolver or system_resolver),
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": USER_AGENT, "accept": "image/*,*/*;q=0.5", "accept-encoding": "identity"},
    )


def shown(url: httpx.URL | str) -> str:
    """A URL as it may appear in a message: no credentials, no query string."""
    u = httpx.URL(str(url))
    port = f":{u.port}" if u.port else ""
    return f"{u.scheme}://{u.host}{port}{u.path}"


def _checked(url: str | httpx.URL, allow: AddressPolicy) -> httpx.URL:
    try:
        u = httpx.URL(str(url))
    except (httpx.InvalidURL, TypeError, ValueError):
        raise MediaError(f"image URL {str(url)[:200]!r} is not a valid URL") from None
    if u.scheme not in ("http", "https"):
        raise MediaError(f"image URL {shown(u) if u.host else str(url)[:200]!r}: only http and https are fetched")
    allow.check_host(u.host)
    return u


def _status_error(response: httpx.Response, url: httpx.URL) -> MediaError:
    status = response.status_code
    transient = status in (408, 425, 429) or status >= 500
    return MediaError(f"image {shown(url)}: HTTP {status}", transient)


def _open(client: httpx.Client, method: str, url: str, allow: AddressPolicy) -> tuple[httpx.Response, httpx.URL]:
    """Send with hand-followed, re-checked redirects; the caller closes the response."""
    current = _checked(url, allow)
    for _ in range(MAX_REDIRECTS + 1):
        try:
            response = client.send(client.build_request(method, current), stream=True)
        except httpx.TimeoutException:
            raise MediaError(f"image {shown(current)}: timed out", True) from None
        except httpx.TransportError as exc:
            raise MediaError(f"image {shown(current)}: cannot connect ({type(exc).__name__})", True) from None
        if not response.has_redirect_location:
            return response, current
        location = response.headers["location"]
        response.close()
        try:
            target = current.join(location)
        except (httpx.InvalidURL, ValueError):
            raise MediaError(f"image {shown(current)}: invalid redirect") from None
        try:
            current = _checked(target, allow)
        except MediaError as exc:
            raise MediaError(f"image {shown(url)}: redirect refused: {exc.message}") from None
    raise MediaError(f"image {shown(url)}: more than {MAX_REDIRECTS} redirects")


def _chunks(response: httpx.Response, deadline: float, url: httpx.URL) -> Iterator[bytes]:
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        # asked for identity; a compressed body could inflate far past the byte cap in one chunk
        raise MediaError(f"image {shown(url)}: refused a {encoding}-encoded response")
    try:
        for chunk in response.iter_raw():
            if time.monotonic() > deadline:
                raise MediaError(f"image {shown(url)}: download took too long", True)
            yield chunk
    except httpx.TimeoutException:
        raise MediaError(f"image {shown(url)}: timed out", True) from None
    except (httpx.TransportError, httpx.DecodingError) as exc:
        raise MediaError(f"image {shown(url)}: download failed ({type(exc).__name__})", True) from None


def fetch(
    url: str,
    *,
    max_bytes: int,
    timeout: float = 20.0,
    allow: AddressPolicy | None = None,
    client: httpx.Client | None = None,
) -> bytes:
    """The body at `url` (http/https, public addresses only), at most `max_bytes`.

    `timeout` bounds each network operation and the whole download.
    """
    allow = allow or AddressPolicy()
    own = client is None
    client = client or safe_client(allow, timeout)
    deadline = time.monotonic() + timeout
    try:
        response, final = _open(client, "GET", url, allow)
        try:
            if response.status_code >= 300:
                raise _status_error(response, final)
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise MediaError(f"image {shown(final)}: {int(declared)} bytes, over the {max_bytes}-byte limit")
            body = bytearray()
            for chunk in _chunks(response, deadline, final):
                body += chunk
                if len(body) > max_bytes:
                    raise MediaError(f"image {shown(final)}: over the {max_bytes}-byte limit")
            return bytes(body)
        finally:
            response.close()
    finally:
        if own:
            client.close()


def check_url(
    url: str,
    *,
    timeout: float = 10.0,
    allow: AddressPolicy | None = None,
    client: httpx.Client | None = None,
) -> str | None:
    """None when `url` answers 2xx with an image (or no type); else what is wrong.

    HEAD first; a server that refuses HEAD (405/501) is asked with GET,
    whose body is not read.
    """
    allow = allow or AddressPolicy()
    own = client is None
    client = client or safe_client(allow, timeout)
    try:
        response, final = _open(client, "HEAD", url, allow)
        response.close()
        if response.status_code in (405, 501):
            response, final = _open(client, "GET", url, allow)
            response.close()
        if response.status_code >= 300:
            return _status_error(response, final).message
        kind = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if kind and not kind.startswith("image/") and kind != "application/octet-stream":
            return f"image {shown(final)}: answers with {kind}, not an image"
        return None
    except MediaError as exc:
        return exc.message
    finally:
        if own:
            client.close()
