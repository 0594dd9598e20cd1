"""What a loaded `syndicate.toml` is: the site, each target, and the whole `Config`."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from syndicate.config.schema import (
    DEFAULT_CONTENT,
    HttpOptions,
    MediaOptions,
    QueueOptions,
    Secret,
    TargetOptions,
    WatchOptions,
    WebhookOptions,
    WebOptions,
)
from syndicate.config.sitedata import site_key

DEFAULT_STATE = "sqlite:///.syndicate/state.db"


@dataclass
class SiteConfig:
    url: str
    root: Path  # the site's root folder (the config file's folder unless `root` says otherwise)
    content: list[str] = field(default_factory=lambda: list(DEFAULT_CONTENT))
    permalink: str | None = None
    static: list[str] = field(default_factory=list)  # folders served at the site root
    fields: dict[str, str] = field(default_factory=dict)  # role -> front-matter key (dotted)
    shortcodes: dict[str, str] = field(default_factory=dict)  # site shortcode -> built-in meaning
    timezone: str = "UTC"
    language: str | None = None
    write_back: bool = False  # `[site] write_back`: copies' URLs go into the post's front matter (syndicate.engine.writeback)
    write_back_key: str = "syndication"


@dataclass
class TargetConfig:
    name: str
    type: str
    options: dict[str, Any] = field(default_factory=dict)  # key -> validated value; credentials as Secret
    model: TargetOptions | None = None  # the validated `[targets.NAME]` (None when built by hand)

    def masked(self) -> dict[str, Any]:
        return {k: ("**********" if isinstance(v, Secret) else v) for k, v in self.options.items()}


@dataclass
class Config:
    path: Path | None
    site: SiteConfig
    state_url: str = DEFAULT_STATE
    broker: str | None = None
    redis_url: str | None = None
    targets: dict[str, TargetConfig] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    unset: list[str] = field(default_factory=list)  # env vars (and credentials) left unset in a lenient load
    http: HttpOptions = field(default_factory=HttpOptions)
    queue: QueueOptions = field(default_factory=QueueOptions)  # broker/redis: the effective URLs
    media: MediaOptions = field(default_factory=MediaOptions)  # cache_dir: absolute after load_config
    watch: WatchOptions = field(default_factory=WatchOptions)
    webhook: WebhookOptions | None = None  # checkout: absolute after load_config; the site root lies in it
    data_dir: Path = field(default_factory=lambda: Path(".syndicate").resolve())
    site_id: str = ""  # the site's name in the ledger: `[state] site`, else `site_key(site.url)`
    shared_ledger: bool = False  # `[state] shared`: other sites may use the same ledger
    web: WebOptions = field(default_factory=WebOptions)  # password: from $SYNDICATE_WEB_PASSWORD when unset
    # targets whose credentials the environment lacks -> why; a sending run leaves them out (not in `targets`)
    skipped: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.site_id:
            self.site_id = site_key(self.site.url)
