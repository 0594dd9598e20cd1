"""Where an image may come from: public addresses only, local files inside the site.

A post arrives by a git push, so whoever has commit access chooses its image
URLs and paths. Remote sources must resolve to public addresses (no loopback,
private, link-local, multicast, reserved or cloud-metadata address: SSRF);
an `AddressPolicy` lets tests and intranet users allow hosts or networks.
Local sources must stay inside the site root after every `..` and symlink.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from syndicate.content.media.errors import MediaError, MediaRefused
from syndicate.content.resolve import SiteFiles

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Cloud instance-metadata endpoints (AWS/GCP/Azure/OpenStack 169.254.169.254,
# AWS IPv6 fd00:ec2::254, Alibaba 100.100.100.200): refused even when allowed.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "metadata.azure.internal", "instance-data"})


METADATA = "a cloud metadata address"


def _forbidden_reason(ip: IPAddress) -> str | None:
    """Why this address may not be fetched from, or None when it is public."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA_ADDRESSES:
        return METADATA
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved or not ip.is_global:
        return "a reserved address"
    return None


@dataclass(frozen=True)
class AddressPolicy:
    """Which non-public hosts and networks a fetch may reach (default: none)."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def allowing(cls, *entries: str) -> AddressPolicy:
        """Build from config strings: host names, addresses or CIDRs ("127.0.0.1", "10.0.0.0/8")."""
        hosts: set[str] = set()
        nets: list[IPNetwork] = []
        for entry in entries:
            entry = entry.strip()
            try:
                nets.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(nets))

    def host_allowed(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def check_host(self, host: str) -> None:
        """Refuse a host name or literal address before any DNS lookup (`MediaRefused`)."""
        name = host.lower().rstrip(".").strip("[]")
        if not name:
            raise MediaRefused("refused: the URL has no host")
        if name in METADATA_HOSTS and not self.host_allowed(name):
            raise MediaRefused(f"refused: host {host!r} is a cloud metadata service")
        try:
            ip = ipaddress.ip_address(name)
        except ValueError:
            return
        self.check_ip(ip, host)

    def check_ip(self, ip: IPAddress, host: str) -> None:
        """Refuse `ip` (which `host` resolved to) unless it is public or allowed (`MediaRefused`)."""
        reason = _forbidden_reason(ip)
        if reason is None:
            return
        if reason == METADATA:
            raise MediaRefused(f"refused: {_what(ip, host, reason)} (never allowed)")
        if self.host_allowed(host) or any(ip in net for net in self.networks if net.version == ip.version):
            return
        raise MediaRefused(f"refused: {_what(ip, host, reason)}; allow it with [media] allow")


def _what(ip: IPAddress, host: str, reason: str) -> str:
    """"10.0.0.1 is a private address", or "evil.test resolves to a private address 10.0.0.1"."""
    try:
        literal = ipaddress.ip_address(host.strip("[]")) == ip
    except ValueError:
        literal = False
    return f"{ip} is {reason}" if literal else f"{host} resolves to {reason} {ip}"


@dataclass
class LocalResolver:
    """Resolves image paths as a post writes them, confined to the site root (`syndicate.content.resolve.SiteFiles`)."""

    site_root: Path
    static_dirs: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._files = SiteFiles(self.site_root, self.static_dirs)
        self.site_root = Path(self._files.root)
        self.static_dirs = list(self._files.static_dirs)

    def _inside(self, path: Path) -> bool:
        return self._files.inside(str(path))

    def resolve(self, src: str, post_dir: Path | None = None) -> Path:
        """The file `src` names, or `MediaError` (escape, symlink out, missing)."""
        found = self._files.find(src, post_dir)
        if found.path is None:
            raise MediaError(found.problem or f"image {src!r}: not found")
        return found.path

    def confine(self, path: Path) -> Path:
        """Check an absolute path (e.g. from the loader) is a file inside the site."""
        real = Path(path).resolve()
        if not self._inside(real):
            raise MediaError(f"image {str(path)!r}: outside the site root")
        if not real.is_file():
            raise MediaError(f"image {str(path)!r}: no such file")
        return real


def resolve_local(src: str, post_dir: Path, site_root: Path, static_dirs: list[Path]) -> Path:
    """The local file `src` names, confined to `site_root` (see `LocalResolver`)."""
    return LocalResolver(site_root, list(static_dirs)).resolve(src, post_dir)
