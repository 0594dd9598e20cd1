"""`syndicate.toml`: found, read, `${ENV}`-interpolated and validated.

Every section is checked against its model in `syndicate.config.schema` (each
`[targets.NAME]` against its connector's `options` model), so a bad config
fails at start with a `ConfigError` naming the file, the key, the value and
what is allowed. Secrets are held in `Secret`, whose repr is masked.
"""
from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from syndicate.config.describe import describe, dotted, is_secret_name, nearest, show, suggest
from syndicate.config.schema import (
    DEFAULT_CONTENT,
    ConfigFile,
    HttpOptions,
    HttpUrl,
    LooseTargetOptions,
    MediaOptions,
    QueueOptions,
    RehostOptions,
    Secret,
    StateOptions,
    TargetOptions,
    WatchOptions,
    WebhookOptions,
    _http_url,
    rate_specs,
    state_url,
)
from syndicate.config.sitedata import legacy_is_ours, site_folder, site_key
from syndicate.errors import ConfigError

CONFIG_NAME = "syndicate.toml"
DEFAULT_STATE = "sqlite:///.syndicate/state.db"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_REF_START = re.compile(r"\$\{")
_REF_HELP = "${VAR} or ${VAR:-default}"

__all__ = [
    "CONFIG_NAME", "DEFAULT_CONTENT", "Config", "ConfigError", "HttpUrl", "SiteConfig", "Secret", "TargetConfig",
    "TargetOptions", "find_config", "load_config", "reference", "site_key",
]


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
    # targets whose credentials the environment lacks -> why; a sending run leaves them out (not in `targets`)
    skipped: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.site_id:
            self.site_id = site_key(self.site.url)




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


def _interpolate(value: Any, where: str, path: Path, env: Mapping[str, str], errors: list[str],
                 missing: list[str] | None = None) -> Any:
    """Replace `${VAR}` (or `${VAR:-default}`) from the environment, recursively.

    With `missing` given (a lenient load for previews), an unset variable
    becomes "" and its name is appended there instead of failing. A `${` that
    starts no reference (`${FOO`, `${1X}`) is an error. Errors go to `errors`.
    """
    if isinstance(value, dict):
        return {k: _interpolate(v, f"{where}.{k}", path, env, errors, missing) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, f"{where}[{i}]", path, env, errors, missing) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value
    starts = {m.start() for m in _ENV_REF.finditer(value)}
    if any(m.start() not in starts for m in _REF_START.finditer(value)):
        got = show(value, is_secret_name(where.rsplit(".", 1)[-1]))
        errors.append(f"{path}: {where}: unterminated or malformed ${{...}} (got {got}; allowed: {_REF_HELP})")
        return value

    def sub(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if env.get(name):
            return env[name]
        if default is not None:
            return default
        if missing is not None:
            missing.append(f"{where} (${name}{' is empty' if name in env else ''})")
            return ""
        state = "is set but empty" if name in env else "is not set"
        errors.append(f"{path}: {where}: environment variable ${name} {state}")
        return ""

    return _ENV_REF.sub(sub, value)


def _unset(value: Any, env: Mapping[str, str]) -> list[str]:
    """The `${VAR}` references (without a default) in `value` that the environment leaves unset or empty."""
    if isinstance(value, dict):
        return [v for item in value.values() for v in _unset(item, env)]
    if isinstance(value, list):
        return [v for item in value for v in _unset(item, env)]
    if not isinstance(value, str):
        return []
    return [m.group(1) for m in _ENV_REF.finditer(value) if m.group(2) is None and not env.get(m.group(1))]


def skip_reason(raw: Any, env: Mapping[str, str]) -> str | None:
    """Why an enabled `[targets.NAME]` cannot send here (its variables are unset or empty), or None."""
    if not isinstance(raw, dict) or raw.get("enabled", True) is False:
        return None
    names = list(dict.fromkeys(_unset(raw, env)))
    if not names:
        return None
    return "; ".join(f"${n} is {'empty' if n in env else 'not set'}" for n in names)


def _interpolate_all(data: dict[str, Any], path: Path, env: Mapping[str, str], missing: list[str] | None,
                     errors: list[str], skipped: dict[str, str]) -> dict[str, Any]:
    """Interpolate the whole file; only credentials (targets, media.rehost) may be unset when lenient.

    A target whose variables are unset gets its reason in `skipped` (when strict, it is then left out).
    """
    out: dict[str, Any] = {}
    for section, value in data.items():
        if section == "targets" and isinstance(value, dict):
            for name, raw in value.items():
                reason = skip_reason(raw, env)
                if reason:
                    skipped[name] = reason
            # a disabled target is never sent to: its variables may be unset (a skipped one's too: checked, not sent)
            out[section] = {
                name: _interpolate(raw, f"targets.{name}", path, env, errors, [] if (
                    isinstance(raw, dict) and raw.get("enabled", True) is False) or (missing is None and name in skipped)
                    else missing)
                for name, raw in value.items()
            }
        elif section == "webhook":
            # only `serve` needs the secret (it checks it at start): push, preview and workers run without it
            out[section] = _interpolate(value, section, path, env, errors, [])
        elif section == "media" and isinstance(value, dict) and isinstance(value.get("rehost"), dict):
            rest = _interpolate({k: v for k, v in value.items() if k != "rehost"}, "media", path, env, errors)
            out[section] = {**rest, "rehost": _interpolate(value["rehost"], "media.rehost", path, env, errors, missing)}
        else:
            out[section] = _interpolate(value, section, path, env, errors)
    return out


# --- the data folder ----------------------------------------------------------------


def writable(folder: Path) -> bool:
    """Whether files may be created in `folder` (the default `is_writable` check).

    Root passes every permission check, so for root a folder whose mode grants no
    write bit at all (`chmod a-w`) counts as read-only too: that is what it says.
    """
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    return getattr(os, "geteuid", lambda: -1)() != 0 or bool(folder.stat().st_mode & 0o222)


def data_dir_for(base: Path, state: StateOptions, env: Mapping[str, str], is_writable: Callable[[Path], bool],
                 where: Path, create: bool = True, *, site: str) -> Path:
    """`$SYNDICATE_DATA`, `[state] dir`, `.syndicate` beside the config when writable, else the site's own
    folder in the XDG state dir (`site` names it).

    `create=False` (a preview, `status`): the folder is named, not made."""
    if env.get("SYNDICATE_DATA"):  # wins: a container points it at its volume, whatever the site's file says
        return _made(Path(env["SYNDICATE_DATA"]).expanduser(), "$SYNDICATE_DATA", where, create)
    if state.dir:
        return _made(base / Path(state.dir).expanduser(), "state.dir", where, create)
    beside = base / ".syndicate"
    usable = is_writable(beside) if beside.is_dir() else (not beside.exists() and is_writable(base))
    if usable:
        return _made(beside, "the data folder", where, create)
    xdg = env.get("XDG_STATE_HOME", "")
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    state_home = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".local" / "state"
    shared_home = state_home / "syndicate"
    own = shared_home / site_folder(site)
    if not own.exists() and legacy_is_ours(shared_home / "state.db", site):
        return _made(shared_home, "the data folder", where, create)  # an older version's ledger: this site's
    return _made(own, "the data folder", where, create)


def _made(folder: Path, what: str, where: Path, create: bool = True) -> Path:
    folder = folder.resolve()
    if not create:  # nothing is made, but a folder that could never be made is still said at once
        existing = folder
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            raise ConfigError(f"{where}: {what}: cannot create {folder} ({existing} is not a folder)")
        return folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{where}: {what}: cannot create {folder} ({exc.strerror})") from None
    return folder


# --- targets ------------------------------------------------------------------------


def _secret_fields(model: type[BaseModel], required_only: bool = False) -> list[str]:
    from syndicate.config.describe import _unwrap

    return [name for name, info in model.model_fields.items()
            if _unwrap(info.annotation) is Secret and (info.is_required() or not required_only)]


def _options_model(cls: Any) -> type[TargetOptions]:
    options = getattr(cls, "options", None)
    if isinstance(options, type) and issubclass(options, TargetOptions):
        return options
    return LooseTargetOptions


def _target(name: str, raw: dict[str, Any], cls: Any, path: Path, strict: bool, unset: list[str],
            errors: list[str]) -> TargetConfig | None:
    """One validated `[targets.NAME]`, or None when disabled or wrong (the messages go to `errors`)."""
    kind = raw.get("type", name)
    model_cls = _options_model(cls)
    body = {**raw, "type": kind}
    lenient = not strict or raw.get("enabled", True) is False
    for key in _secret_fields(model_cls, required_only=True):
        if body.get(key) is None and lenient:
            body[key] = ""  # a preview sends nothing: a credential may be missing
            if raw.get("enabled", True) is not False:
                unset.append(f"targets.{name}.{key} (not set)")
    try:
        model = model_cls.model_validate(body)
    except ValidationError as exc:
        errors.extend(describe(exc, path, model_cls, ("targets", name)))
        return None
    if not model.enabled:
        return None
    declared: tuple[str, ...] = tuple(getattr(cls, "secrets", ()))
    extra = model.model_extra if model.model_extra is not None else {}
    for key, value in extra.items():
        if isinstance(value, str) and (key in declared or is_secret_name(key)):
            extra[key] = Secret(value)
    options = {k: getattr(model, k) for k in model_cls.model_fields
               if k != "type" and (k in model.model_fields_set or getattr(model, k) is not None)}
    options.update(extra)
    where = f"targets.{name}"
    if strict:
        for key in _secret_fields(model_cls, required_only=True):
            if not options.get(key):
                errors.append(f"{path}: {where}.{key}: required credential is empty (got ''; "
                              'allowed: a non-empty string, usually "${ENV_VAR}")')
    if model_cls is LooseTargetOptions:
        if isinstance(extra.get("base_url"), str):  # typed as an http(s) URL in every connector's model
            try:
                _http_url(extra["base_url"])
            except PydanticCustomError as exc:
                errors.append(f"{path}: {where}.base_url: {exc.message()} (got {show(extra['base_url'])}; "
                              f"allowed: {(exc.context or {}).get('allowed')})")
        for key in getattr(cls, "required", ()):
            if not strict and key in declared:
                continue  # a credential: only needed to send
            value = options.get(key)
            if value is None or value == "" or (isinstance(value, Secret) and not value):
                typo = nearest(key, [k for k in extra if k not in getattr(cls, "required", ())])
                hint = f" ({typo} is set: a typo?)" if typo else ""
                errors.append(f"{path}: {where}.{key}: required for type {kind!r}{hint}")
    if model.rate_limits and cls is not None:
        specs = rate_specs()
        try:
            specs.effective_rates(cls.limits.rates, model.rate_limits, where=f"{where}.rate_limits")
        except specs.RateSpecError as exc:
            errors.append(f"{path}: {exc}")
    return TargetConfig(name=name, type=kind, options=options, model=model)


def load_config(
    path: Path, env: Mapping[str, str] | None = None, *, check_connectors: bool = True, strict: bool = True,
    is_writable: Callable[[Path], bool] | None = None, readonly: bool = False,
) -> Config:
    """Read and validate one config file.

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
                       check_connectors, skipped)
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
        timezone=s.timezone, language=s.language,
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
    media = file.media
    media.cache_dir = (base / media.cache_dir).resolve() if media.cache_dir else data_dir / "media"
    return Config(
        path=path, site=site, state_url=url, broker=queue.broker, redis_url=queue.redis,
        targets=targets, raw=data, unset=unset, http=file.http, queue=queue, media=media,
        watch=file.watch, webhook=hook, data_dir=data_dir, site_id=site_id, shared_ledger=file.state.shared,
        skipped=skipped,
    )


def _targets(raw_targets: dict[str, Any], path: Path, strict: bool, unset: list[str], errors: list[str],
             check_connectors: bool, skipped: dict[str, str]) -> dict[str, TargetConfig]:
    """Every `[targets.NAME]` validated against its connector's model (the messages go to `errors`);
    a target in `skipped` is checked, and left out of a strict (sending) load."""
    targets: dict[str, TargetConfig] = {}
    for name, raw in raw_targets.items():
        if not isinstance(raw, dict):
            continue  # the file's own validation says so
        kind = raw.get("type", name)
        cls = None
        if check_connectors:
            from syndicate import registry  # after the file is parsed: only the types it names are loaded

            try:
                cls = registry.get(kind) if isinstance(kind, str) else None
            except KeyError:
                cls = None
            if cls is None:
                known_types = registry.available()
                known = ", ".join(sorted(known_types)) or "none"
                hint = suggest(kind, known_types) if isinstance(kind, str) else ""
                errors.append(f"{path}: {dotted(('targets', name, 'type'))}: unknown target type{hint} "
                              f"(got {show(kind)}; allowed: {known})")
                continue
        skip = strict and name in skipped  # still checked, like a preview's, so that a mistake in it is reported
        target = _target(name, raw, cls, path, strict and not skip, [] if skip else unset, errors)
        if target is not None and not skip:
            targets[name] = target
    return targets


def reference() -> str:
    """The Markdown reference of `syndicate.toml`, generated from the schema (with each connector's keys)."""
    from syndicate import registry
    from syndicate.config.describe import reference as build

    return build(registry.available())
