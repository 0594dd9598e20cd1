"""Images of a post, made safe and fitted to each platform's media policy.

Sources are confined (local files stay inside the site root; remote URLs are
fetched only from public addresses), decoded with a pixel guard, cleaned of
every piece of metadata and re-encoded to fit a connector's `MediaPolicy`.

Public entry points:

- `resolve_local(src, post_dir, site_root, static_dirs) -> Path`
- `fetch(url, *, max_bytes, timeout, allow) -> bytes`
- `probe(url, ...) -> MediaUnavailable | MediaRefused | None` (`check_url`: its message)
- `fit(data, policy) -> FittedMedia`
- `FitCache(dir)`
- `MediaPipeline(...)`: `fitted(item, policy)` (the `MediaSource` protocol),
  `probe`, `check_url`, `local_only`, `rehost(item, policy, local=...)`
- `alt_for(item, policy, fallback)` (missing alt is warned about by the plan)
- `S3Rehost(...)`: a `Rehost` store for images platforms must fetch by URL

Errors: `MediaError` > `MediaUnavailable` (try later) | `MediaRefused` (never),
from syndicate/errors.py.
"""
from __future__ import annotations

from syndicate.content.media.alt import alt_for
from syndicate.content.media.cache import FitCache
from syndicate.content.media.errors import MediaError, MediaRefused, MediaUnavailable
from syndicate.content.media.fetch import check_url, fetch, probe, safe_client
from syndicate.content.media.fit import DEFAULT_MAX_SOURCE_PIXELS, fit
from syndicate.content.media.pipeline import MediaPipeline, Rehost, pipeline_for
from syndicate.content.media.rehost import S3Rehost
from syndicate.content.media.safety import AddressPolicy, LocalResolver, resolve_local

__all__ = [
    "AddressPolicy",
    "DEFAULT_MAX_SOURCE_PIXELS",
    "FitCache",
    "LocalResolver",
    "MediaError",
    "MediaPipeline",
    "MediaRefused",
    "MediaUnavailable",
    "pipeline_for",
    "Rehost",
    "S3Rehost",
    "alt_for",
    "check_url",
    "fetch",
    "fit",
    "probe",
    "resolve_local",
    "safe_client",
]
