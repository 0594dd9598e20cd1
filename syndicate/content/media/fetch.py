"""SSRF-safe HTTP(S) fetch of remote images, with a byte cap and a time budget.

Every hop is checked twice: the URL (scheme, literal address, metadata host
names) before a request is built, and the resolved addresses inside the
connection itself. The transport is an `httpcore.ConnectionPool` built with
its public `network_backend` parameter: the pinned backend resolves the host
once, refuses it unless every address is public (or allowed), then connects to
the very address it checked, so a DNS answer that changes between check and
connect (rebinding) cannot steer the socket. TLS still sends SNI for, and
verifies, the host name (httpcore passes the URL's host to `start_tls`).
Redirects are followed by hand (at most 5), each one checked the same way.
Proxies from the environment are ignored: the pool has no proxy at all.

Failures are `MediaUnavailable` (a timeout, a 404 or 5xx, a host that does not
resolve or refuses the connection: try later) or `MediaRefused` (SSRF rules,
too large, not an image, a compressed body: never as given).
"""
from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import time
import typing
from collections.abc import Callable, Iterator

import httpcore
import httpx

from syndicate.content.media.errors import MediaError, MediaRefused, MediaUnavailable
from syndicate.content.media.safety import AddressPolicy

MAX_REDIRECTS = 5
USER_AGENT = "syndicate-media/0.1 (+https://github.com/)"
Resolver = Callable[[str, int], list[str]]
# HTTP answers that may change without the URL changing: 404 is the site not deployed yet
_UNAVAILABLE_STATUSES = frozenset({404, 408, 425, 429})


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in the order to try them."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for *_, sockaddr in infos:
        if sockaddr[0] not in seen:
            seen.append(str(sockaddr[0]))
    return seen


class PinnedBackend(httpcore.SyncBackend):
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
            raise MediaUnavailable(f"cannot resolve host {host!r}") from None
        if not addresses:
            raise MediaUnavailable(f"host {host!r} has no address")
        for addr in addresses:  # one bad answer among good ones refuses the host
            self.allow.check_ip(ipaddress.ip_address(addr.split("%", 1)[0]), host)
        last: Exception | None = None
        for addr in addresses:
            try:
                return super().connect_tcp(addr, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last


# httpcore's exceptions as httpx's (most specific first), as httpx.HTTPTransport maps them
_MAPPED: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
)


@contextlib.contextmanager
def _as_httpx() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for core, mapped in _MAPPED:
            if isinstance(exc, core):
                raise mapped(str(exc)) from exc
        raise


class _Body(httpx.SyncByteStream):
    def __init__(self, stream: typing.Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx():
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            with _as_httpx():
                close()


class PinnedTransport(httpx.BaseTransport):
    """An httpx transport over an `httpcore.ConnectionPool` whose every socket is pinned and checked."""

    def __init__(
        self, allow: AddressPolicy, resolver: Resolver, *, verify: ssl.SSLContext | None = None, max_connections: int = 20
    ) -> None:
        self.backend = PinnedBackend(allow, resolver)
        self.pool = httpcore.ConnectionPool(
            ssl_context=verify or httpx.create_ssl_context(trust_env=False),
            max_connections=max_connections,
            http1=True,
            http2=False,
            retries=0,
            network_backend=self.backend,
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme, host=request.url.raw_host, port=request.url.port, target=request.url.raw_path
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx():
            response = self.pool.handle_request(core)
        assert isinstance(response.stream, typing.Iterable)
        return httpx.Response(
            status_code=response.status, headers=response.headers, stream=_Body(response.stream), extensions=response.extensions
        )

    def close(self) -> None:
        self.pool.close()


def safe_client(
    allow: AddressPolicy | None = None,
    timeout: float = 20.0,
    resolver: Resolver | None = None,
    *,
    verify: ssl.SSLContext | None = None,
) -> httpx.Client:
    """An httpx client whose every connection goes through the address checks.

    `verify` replaces the default trust store (certifi), e.g. with a test CA.
    """
    return httpx.Client(
        transport=PinnedTransport(allow or AddressPolicy(), resolver or system_resolver, verify=verify),
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
        raise MediaRefused(f"image URL {str(url)[:200]!r} is not a valid URL") from None
    if u.scheme not in ("http", "https"):
        raise MediaRefused(f"image URL {shown(u) if u.host else str(url)[:200]!r}: only http and https are fetched")
    allow.check_host(u.host)
    return u


def status_error(status: int, url: httpx.URL | str) -> MediaUnavailable | MediaRefused:
    """The error for an HTTP answer that is not the image: unavailable if it may change."""
    if status in _UNAVAILABLE_STATUSES or status >= 500:
        return MediaUnavailable(f"image {shown(url)}: HTTP {status}")
    return MediaRefused(f"image {shown(url)}: HTTP {status}")


def _open(client: httpx.Client, method: str, url: str, allow: AddressPolicy) -> tuple[httpx.Response, httpx.URL]:
    """Send with hand-followed, re-checked redirects; the caller closes the response."""
    current = _checked(url, allow)
    for _ in range(MAX_REDIRECTS + 1):
        try:
            response = client.send(client.build_request(method, current), stream=True)
        except httpx.TimeoutException:
            raise MediaUnavailable(f"image {shown(current)}: timed out") from None
        except httpx.TransportError as exc:
            raise MediaUnavailable(f"image {shown(current)}: cannot connect ({type(exc).__name__})") from None
        except MediaError as exc:  # from the pinned backend, which knows only the host
            raise type(exc)(f"image {shown(current)}: {exc.message}") from None
        if not response.has_redirect_location:
            return response, current
        location = response.headers["location"]
        response.close()
        try:
            target = current.join(location)
        except (httpx.InvalidURL, ValueError):
            raise MediaRefused(f"image {shown(current)}: invalid redirect") from None
        try:
            current = _checked(target, allow)
        except MediaError as exc:
            raise MediaRefused(f"image {shown(url)}: redirect refused: {exc.message}") from None
    raise MediaRefused(f"image {shown(url)}: more than {MAX_REDIRECTS} redirects")


def _chunks(response: httpx.Response, deadline: float, url: httpx.URL) -> Iterator[bytes]:
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        # asked for identity; a compressed body could inflate far past the byte cap in one chunk
        raise MediaRefused(f"image {shown(url)}: refused a {encoding}-encoded response")
    try:
        for chunk in response.iter_raw():
            if time.monotonic() > deadline:
                raise MediaUnavailable(f"image {shown(url)}: download took too long")
            yield chunk
    except httpx.TimeoutException:
        raise MediaUnavailable(f"image {shown(url)}: timed out") from None
    except (httpx.TransportError, httpx.DecodingError) as exc:
        raise MediaUnavailable(f"image {shown(url)}: download failed ({type(exc).__name__})") from None


def fetch(
    url: str,
    *,
    max_bytes: int,
    timeout: float = 20.0,
    allow: AddressPolicy | None = None,
    client: httpx.Client | None = None,
) -> bytes:
    """The body at `url` (http/https, public addresses only), at most `max_bytes`.

    `timeout` bounds each network operation and the whole download. Raises
    `MediaUnavailable` (try later) or `MediaRefused` (never as given).
    """
    allow = allow or AddressPolicy()
    own = client is None
    client = client or safe_client(allow, timeout)
    deadline = time.monotonic() + timeout
    try:
        response, final = _open(client, "GET", url, allow)
        try:
            if response.status_code >= 300:
                raise status_error(response.status_code, final)
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise MediaRefused(f"image {shown(final)}: {int(declared)} bytes, over the {max_bytes}-byte limit")
            body = bytearray()
            for chunk in _chunks(response, deadline, final):
                body += chunk
                if len(body) > max_bytes:
                    raise MediaRefused(f"image {shown(final)}: over the {max_bytes}-byte limit")
            return bytes(body)
        finally:
            response.close()
    finally:
        if own:
            client.close()


def probe(
    url: str,
    *,
    timeout: float = 10.0,
    allow: AddressPolicy | None = None,
    client: httpx.Client | None = None,
) -> MediaUnavailable | MediaRefused | None:
    """None when `url` answers 2xx with an image (or no type); else the error, not raised.

    `MediaUnavailable`: may answer later (404, 5xx, timeout, no DNS yet);
    `MediaRefused`: never will (SSRF rules, not an image, 403...). HEAD first;
    a server that refuses HEAD (405/501) is asked with GET, whose body is not read.
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
            return status_error(response.status_code, final)
        kind = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if kind and not kind.startswith("image/") and kind != "application/octet-stream":
            return MediaRefused(f"image {shown(final)}: answers with {kind}, not an image")
        return None
    except (MediaUnavailable, MediaRefused) as exc:
        return exc
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
    """None when `url` answers with an image; else the problem's message (see `probe`, which says its kind)."""
    problem = probe(url, timeout=timeout, allow=allow, client=client)
    return None if problem is None else problem.message
