"""Finding and reading `syndicate.toml`: every problem in the file reported together, as one `ConfigError`."""
from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from syndicate.config.datadir import data_dir_for, writable
from syndicate.config.describe import describe, show
from syndicate.config.interpolate import _interpolate_all
from syndicate.config.model import Config, SiteConfig
from syndicate.config.schema import ConfigFile, RehostOptions, Secret, state_url
from syndicate.config.sitedata import site_key
from syndicate.config.targets import Catalog, _secret_fields, _targets
from syndicate.errors import ConfigError

CONFIG_NAME = "syndicate.toml"


def find_config(explicit: str | os.PathLike[str] | None = None, start: Path | None = None,
                near: Iterable[Path] = ()) -> Path:
    """`--config FILE`, then `$SYNDICATE_CONFIG`, then the nearest `syndicate.toml` upward from `start`
    (the current folder), then upward from each path in `near` (the posts named on the command line)."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{path}: no such config file")
        return path.resolve()
    env = os.environ.get("SYNDICATE_CONFIG")
    if env:
        path = Path(env)
        if not path.is_file():
            raise ConfigError(f"{path}: no such config file (from $SYNDICATE_CONFIG)")
        return path.resolve()
    here = (start or Path.cwd()).resolve()
    for origin in (here, *(Path(p).resolve() for p in near)):
        for folder in (origin, *origin.parents):
            candidate = folder / CONFIG_NAME
            if candidate.is_file():
                return candidate
    where = ", ".join(str(p) for p in dict.fromkeys([here, *(Path(p).resolve() for p in near)]))
    raise ConfigError(f"no {CONFIG_NAME} found in {where} or above (use --config FILE or $SYNDICATE_CONFIG)")


def load_config(
    path: Path, env: Mapping[str, str] | None = None, *, catalog: Catalog | None = None, strict: bool = True,
    is_writable: Callable[[Path], bool] | None = None, readonly: bool = False,
) -> Config:
    """Read and validate one config file; each target against its connector when a `catalog` is given.

    `strict=False` (previews, dry runs) lets credentials be unset: nothing is
    sent. `is_writable` decides whether `.syndicate` may live beside the file.
    `readonly` (preview, status, dry runs) makes no data folder: they write nothing.
    """
    env = dict(os.environ) if env is None else env
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    errors: list[str] = []  # every problem in the file, reported together
    no_site = not isinstance(data.get("site"), dict)
    if no_site:
        errors.append(f"{path}: [site] is required (with at least url = \"https://...\")")
    unset: list[str] = []
    skipped: dict[str, str] = {}
    values = _interpolate_all(data, path, env, None if strict else unset, errors, skipped)
    rehost = values.get("media", {}).get("rehost") if isinstance(values.get("media"), dict) else None
    if not strict and isinstance(rehost, dict):
        for key in _secret_fields(RehostOptions, required_only=True):
            rehost.setdefault(key, "")
    file: ConfigFile | None = None
    try:
        file = ConfigFile.model_validate(values)
    except ValidationError as exc:
        errors += [line for line in describe(exc, path, ConfigFile)
                   if not (no_site and line.startswith(f"{path}: site: "))]
    raw_targets = values.get("targets")
    targets = _targets(raw_targets if isinstance(raw_targets, dict) else {}, path, strict, unset, errors,
                       catalog, skipped)
    if file is None:
        raise ConfigError("\n".join(dict.fromkeys(errors)))
    base = path.parent
    if strict and file.media.rehost is not None:
        errors += [f"{path}: media.rehost.{k}: required credential is empty (got ''; allowed: a non-empty string)"
                   for k in _secret_fields(RehostOptions, True) if not getattr(file.media.rehost, k)]
    url = env.get("SYNDICATE_STATE_URL") or file.state.url
    if url:
        try:
            state_url(url)
        except PydanticCustomError as exc:  # only $SYNDICATE_STATE_URL can get here
            errors.append(f"{path}: $SYNDICATE_STATE_URL: {exc.message()} (got {show(url)}; "
                          f"allowed: {(exc.context or {}).get('allowed')})")
    if errors:
        raise ConfigError("\n".join(dict.fromkeys(errors)))

    s = file.site
    site_id = file.state.site or site_key(s.url)
    data_dir = data_dir_for(base, file.state, env, is_writable or writable, path, create=not readonly, site=site_id)
    root = (base / s.root).resolve() if s.root else base.resolve()
    hook = file.webhook
    if hook is not None:  # webhook mode: the site is the checkout (`[site] root` is a folder inside it)
        checkout = (base / hook.checkout).resolve() if hook.checkout else data_dir / "repo"
        hook.checkout = str(checkout)
        root = (checkout / s.root).resolve() if s.root else checkout
        if hook.wait_live:
            file.watch.wait_live = True
    site = SiteConfig(
        url=s.url, root=root, content=s.content,
        permalink=s.permalink, static=s.static, fields=s.fields, shortcodes=s.shortcodes,
        timezone=s.timezone, language=s.language, write_back=s.write_back, write_back_key=s.write_back_key,
    )
    url = url or f"sqlite:///{data_dir / 'state.db'}"
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        rel = url[len("sqlite:///"):]
        if rel and rel != ":memory:":
            url = "sqlite:///" + str((base / rel).resolve())

    queue = file.queue
    queue.broker = env.get("SYNDICATE_BROKER_URL") or queue.broker or None
    queue.redis = env.get("SYNDICATE_REDIS_URL") or queue.redis or (
        queue.broker if queue.broker and queue.broker.startswith("redis") else None)
    web = file.web
    if not web.password and env.get("SYNDICATE_WEB_PASSWORD"):
        web.password = Secret(env["SYNDICATE_WEB_PASSWORD"])
    media = file.media
    media.cache_dir = (base / media.cache_dir).resolve() if media.cache_dir else data_dir / "media"
    return Config(
        path=path, site=site, state_url=url, broker=queue.broker, redis_url=queue.redis,
        targets=targets, raw=data, unset=unset, http=file.http, queue=queue, media=media,
        watch=file.watch, webhook=hook, data_dir=data_dir, site_id=site_id, shared_ledger=file.state.shared,
        skipped=skipped, web=web,
    )
