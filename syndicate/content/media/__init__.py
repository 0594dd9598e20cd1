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

import sys
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from syndicate.content.media.alt import alt_for
    from syndicate.content.media.cache import FitCache
    from syndicate.content.media.errors import MediaError, MediaRefused, MediaUnavailable
    from syndicate.content.media.fetch import check_url, fetch, probe, safe_client
    from syndicate.content.media.fit import DEFAULT_MAX_SOURCE_PIXELS, fit
    from syndicate.content.media.pipeline import MediaPipeline, Rehost, pipeline_for
    from syndicate.content.media.rehost import S3Rehost
    from syndicate.content.media.safety import AddressPolicy, LocalResolver, resolve_local

# Each name is imported from its module when first asked for, so that `syndicate.content.media.types` (the
# contract's values) costs neither httpx nor Pillow to a command that only builds requests (`preview`).
_FROM = {
    "alt_for": "alt", "FitCache": "cache", "MediaError": "errors", "MediaRefused": "errors",
    "MediaUnavailable": "errors", "check_url": "fetch", "fetch": "fetch", "probe": "fetch", "safe_client": "fetch",
    "DEFAULT_MAX_SOURCE_PIXELS": "fit", "fit": "fit", "MediaPipeline": "pipeline", "Rehost": "pipeline",
    "pipeline_for": "pipeline", "S3Rehost": "rehost", "AddressPolicy": "safety", "LocalResolver": "safety",
    "resolve_local": "safety",
}


def __getattr__(name: str) -> Any:
    module = _FROM.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


class _Package(ModuleType):
    """`media.fetch` and `media.fit` are the functions, as they were when this package imported them eagerly:
    loading the submodule of the same name does not replace the function by the module."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("fetch", "fit") and isinstance(value, ModuleType):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

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
