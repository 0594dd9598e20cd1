"""`syndicate.toml`: found, read, `${ENV}`-interpolated and validated.

Every section is checked against its model in `syndicate.config.schema` (each
`[targets.NAME]` against its connector's `options` model), so a bad config
fails at start with a `ConfigError` naming the file, the key, the value and
what is allowed. Secrets are held in `Secret`, whose repr is masked.

The parts: `model` (what a loaded config is), `loading` (find and read the file),
`interpolate` (`${ENV}`), `datadir` (the data folder), `targets` (each
`[targets.NAME]` against its connector), `schema` and `describe` (the models and
their messages).
"""
from __future__ import annotations

from syndicate.config.datadir import data_dir_for, writable
from syndicate.config.interpolate import skip_reason
from syndicate.config.loading import CONFIG_NAME, find_config, load_config
from syndicate.config.model import DEFAULT_STATE, Config, SiteConfig, TargetConfig
from syndicate.config.schema import DEFAULT_CONTENT, HttpUrl, Secret, TargetOptions
from syndicate.config.sitedata import site_key
from syndicate.config.targets import Catalog
from syndicate.errors import ConfigError

__all__ = [
    "CONFIG_NAME", "DEFAULT_CONTENT", "DEFAULT_STATE", "Catalog", "Config", "ConfigError", "HttpUrl", "SiteConfig",
    "Secret", "TargetConfig", "TargetOptions", "data_dir_for", "find_config", "load_config", "reference", "site_key",
    "skip_reason", "writable",
]


def reference(catalog: Catalog) -> str:
    """The Markdown reference of `syndicate.toml`, generated from the schema (with each connector's keys)."""
    from syndicate.config.describe import reference as build

    return build(dict(catalog.available()))
