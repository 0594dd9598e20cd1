"""The media pipeline: a post's image reference in, bytes fitted to a platform out.

`MediaPipeline` implements the `MediaSource` protocol of syndicate/contract.py
(`fitted(item, policy)`), so every uploading connector (Mastodon media,
Bluesky blobs, WordPress media, Ghost images...) gets the same safe,
cleaned, cached result. Connectors that take URLs only (dev.to) call
`probe` (or `local_only`) to learn whether the platform could reach an image
(`MediaUnavailable`: not yet; `MediaRefused`: never), and may `rehost` it when
a `Rehost` store is configured: from the local file when the site has one.

State lives outside the site: the fitted-image cache goes to the config's data
directory (`data_dir / "media"`), and one that cannot be written is skipped.
"""
from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar
from urllib.parse import unquote, urlsplit

import httpx

from syndicate.content.media.alt import alt_for
from syndicate.content.media.cache import FitCache
from syndicate.content.media.errors import MediaError, MediaRefused, MediaUnavailable
from syndicate.content.media.fetch import Resolver, fetch, probe, safe_client, shown
from syndicate.content.media.fit import DEFAULT_MAX_SOURCE_PIXELS, fit
from syndicate.content.media.safety import AddressPolicy, LocalResolver
from syndicate.contract import FittedMedia, MediaItem, MediaPolicy

if TYPE_CHECKING:
    from syndicate.config import Config

DEFAULT_MAX_SOURCE_BYTES = 50 * 1024 * 1024
_STEM_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
T = TypeVar("T")


def _refusing(call: Callable[[], T]) -> T:
    """`call()`, with a bare `MediaError` of the local resolver made `MediaRefused`."""
    try:
        return call()
    except (MediaRefused, MediaUnavailable):
        raise
    except MediaError as exc:  # a path out of the site, a missing file: not without a new commit
        raise MediaRefused(exc.message) from None


class Rehost(Protocol):
    """Somewhere fitted images can be published at a public URL (an S3-compatible bucket...)."""

    def put(self, key: str, media: FittedMedia) -> str: ...


def stem_for(item: MediaItem) -> str:
    """A safe file-name stem for an upload: "cover", or the source's own name."""
    if item.role == "cover":
        return "cover"
    name = unquote(urlsplit(item.source).path).rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return _STEM_UNSAFE.sub("-", name).strip("-")[:40] or "image"


class MediaPipeline:
    """Reads, fetches, fits and caches a site's images; one per worker process."""

    def __init__(
        self,
        site_root: Path,
        static_dirs: list[Path] | tuple[Path, ...] = (),
        cache_dir: Path | None = None,
        *,
        allow: AddressPolicy | None = None,
        site_url: str | None = None,
        max_source_bytes: int = DEFAULT_MAX_SOURCE_BYTES,
        max_source_pixels: int = DEFAULT_MAX_SOURCE_PIXELS,
        timeout: float = 20.0,
        resolver: Resolver | None = None,
        rehost: Rehost | None = None,
    ) -> None:
        self.local = LocalResolver(Path(site_root), [Path(d) for d in static_dirs])
        self._roots = {Path(os.path.abspath(site_root)), self.local.site_root}  # as given, and resolved
        self.cache = FitCache(cache_dir) if cache_dir is not None else None
        self.allow = allow or AddressPolicy()
        self.site_url = site_url.rstrip("/") if site_url else None
        self.max_source_bytes = max_source_bytes
        self.max_source_pixels = max_source_pixels
        self.timeout = timeout
        self.rehost_store = rehost
        self._resolver = resolver
        self._client: httpx.Client | None = None
        self._checked: set[str] = set()
        self.fits = 0  # how many images were actually fitted (not served from the cache)

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = safe_client(self.allow, self.timeout, self._resolver)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # --- sources ---------------------------------------------------------

    def _site_path(self, url: str) -> Path | None:
        """The local file behind a URL of the site itself, if there is one."""
        if not self.site_url or not (url == self.site_url or url.startswith(self.site_url + "/")):
            return None
        try:
            return self.local.resolve("/" + url[len(self.site_url):].lstrip("/"))
        except MediaError:
            return None

    def locate(self, source: str, post_dir: Path | None = None) -> Path | str:
        """The local file for `source`, or the URL to fetch it from."""
        if _URL.match(source):
            if not source.lower().startswith(("http://", "https://")):
                raise MediaRefused(f"image {source[:200]!r}: only http and https are fetched")
            return self._site_path(source) or source
        path = Path(source)
        if path.is_absolute() and self._within_root(path):
            return _refusing(lambda: self.local.confine(path))
        return _refusing(lambda: self.local.resolve(source, post_dir))

    def _within_root(self, path: Path) -> bool:
        lexical = Path(os.path.normpath(path))
        return any(lexical.is_relative_to(root) for root in self._roots)

    def read(self, source: str, post_dir: Path | None = None) -> tuple[bytes, str]:
        """The source bytes of an image and a name for messages."""
        where = self.locate(source, post_dir)
        if isinstance(where, str):
            data = fetch(where, max_bytes=self.max_source_bytes, timeout=self.timeout, allow=self.allow, client=self.client)
            return data, shown(where)  # no query string: it may hold a token
        size = where.stat().st_size
        if size > self.max_source_bytes:
            raise MediaRefused(f"image {source!r}: {size} bytes, over the {self.max_source_bytes}-byte limit")
        return where.read_bytes(), repr(source)

    # --- the MediaSource protocol -------------------------------------------

    def fitted(
        self, item: MediaItem, policy: MediaPolicy, *, alt_fallback: str | None = None, post_dir: Path | None = None
    ) -> FittedMedia:
        """`item` fitted to `policy`, with its alt text (see `alt_for`)."""
        data, name = self.read(item.source, post_dir)
        digest = hashlib.sha256(data).hexdigest()
        result = self.cache.get(digest, policy) if self.cache else None
        if result is None:
            result = fit(data, policy, name=name, max_source_pixels=self.max_source_pixels)
            self.fits += 1
            if self.cache:
                self.cache.put(digest, policy, result)
        ext = result.filename.rsplit(".", 1)[-1]
        return FittedMedia(result.data, result.mime, result.width, result.height, f"{stem_for(item)}.{ext}", alt_for(item, policy, alt_fallback))

    # --- URL-only platforms (dev.to) -----------------------------------------

    def probe(self, url: str) -> MediaUnavailable | MediaRefused | None:
        """None if `url` answers with an image; else why not, as an error (not raised).

        `MediaUnavailable`: may answer later (the site not deployed yet: 404,
        5xx, timeout, a host without DNS yet); `MediaRefused`: never will (the
        SSRF rules, not an image). Successes are remembered per pipeline;
        failures are not, so a retry after the site was deployed sees the image.
        """
        if url in self._checked:
            return None
        problem = probe(url, timeout=self.timeout, allow=self.allow, client=self.client)
        if problem is None:
            self._checked.add(url)
        return problem

    def check_url(self, url: str) -> str | None:
        """None if `url` answers with an image; else the problem's message (`probe` says its kind)."""
        problem = self.probe(url)
        return None if problem is None else problem.message

    def local_only(self, url: str | None, path: Path | None) -> str | None:
        """Why an image the post names cannot be seen by a platform that fetches URLs, or None.

        `url` is where the site serves it, `path` the local file (both as the
        loader resolved them). A file that exists locally but whose URL does
        not answer (site not deployed, private repository) is local-only.
        """
        found = self.probe(url) if url else None
        problem = found.message if found is not None else (None if url else "no public URL")
        if problem is None:
            return None
        if path is not None and Path(path).is_file():
            return f"{path.name}: exists only locally ({problem}); deploy the site or configure rehosting"
        return problem

    def rehost(
        self, item: MediaItem, policy: MediaPolicy, post_dir: Path | None = None, *, local: Path | str | None = None
    ) -> str:
        """Fit `item` and publish it through the configured `Rehost` store; its public URL.

        The bytes come from the site whenever it has the file, so an image the
        site does not serve yet can still be rehosted: `local` (the file the
        loader found for this image) first, else `item.source` when it is a
        path in the site or a site URL under a static folder; only otherwise
        is the URL fetched (a host that does not resolve: `MediaUnavailable`).
        """
        if self.rehost_store is None:
            raise MediaRefused(f"image {item.source!r}: no rehosting store configured")
        source = item if local is None else MediaItem(item.role, str(local), item.alt)
        media = self.fitted(source, policy, post_dir=post_dir)
        key = hashlib.sha256(media.data).hexdigest()[:32] + "/" + media.filename
        return self.rehost_store.put(key, media)


def pipeline_for(config: Config) -> MediaPipeline:
    """The pipeline a `syndicate.toml` describes (`[media]`; see the README)."""
    from syndicate.content.media.rehost import S3Rehost
    from syndicate.content.permalinks import site_info

    media = config.media  # validated by load_config (syndicate.config.schema.MediaOptions)
    rehost = None
    if media.rehost is not None:
        rehost = S3Rehost.from_options(dict(media.rehost), where=f"{config.path}: media.rehost")
    return MediaPipeline(
        config.site.root,
        site_info(config.site).static_dirs,
        media.cache_dir or config.data_dir / "media",
        allow=AddressPolicy.allowing(*media.allow),
        site_url=config.site.url,
        max_source_bytes=media.max_source_bytes,
        timeout=media.timeout,
        rehost=rehost,
    )
