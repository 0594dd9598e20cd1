"""`syndicate.toml`: found, read, `${ENV}`-interpolated and validated.

A bad config fails at start with a `ConfigError` naming the file, the key and
what is wrong. Secrets are held in `Secret`, whose repr is masked.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_NAME = "syndicate.toml"
DEFAULT_STATE = "sqlite:///.syndicate/state.db"
DEFAULT_CONTENT = ["content/**/*.md", "content/**/*.mdx", "_posts/**/*.md", "src/content/**/*.md", "src/content/**/*.mdx"]
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


from syndicate.errors import ConfigError  # noqa: E402  (re-exported)


class Secret:
    """A string that never shows itself in a repr, a log line or a traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


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
    options: dict[str, Any] = field(default_factory=dict)

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
    unset: list[str] = field(default_factory=list)  # env vars left unset in a lenient load

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()


def find_config(explicit: str | os.PathLike[str] | None = None, start: Path | None = None) -> Path:
    """`--config FILE`, then `$SYNDICATE_CONFIG`, then the nearest `syndicate.toml` upward."""
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
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    raise ConfigError(f"no {CONFIG_NAME} found in {here} or above (use --config FILE or $SYNDICATE_CONFIG)")


def _interpolate(value: Any, where: str, path: Path, env: dict[str, str], missing: list[str] | None = None) -> Any:
    """Replace `${VAR}` (or `${VAR:-default}`) from the environment, recursively.

    With `missing` given (a lenient load for previews), an unset variable
    becomes "" and its name is appended there instead of failing.
    """
    if isinstance(value, dict):
        return {k: _interpolate(v, f"{where}.{k}", path, env, missing) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, f"{where}[{i}]", path, env, missing) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def sub(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env and env[name] != "":
            return env[name]
        if default is not None:
            return default
        if missing is not None:
            missing.append(f"{where} (${name})")
            return ""
        raise ConfigError(f"{path}: {where}: environment variable ${name} is not set")

    return _ENV_REF.sub(sub, value)


def _is_secret_key(key: str, declared: tuple[str, ...]) -> bool:
    return key in declared or bool(re.search(r"(token|secret|password|api_key|apikey|key)$", key))


def load_config(
    path: Path, env: dict[str, str] | None = None, *, check_connectors: bool = True, strict: bool = True
) -> Config:
    """Read and validate one config file.

    `strict=False` (previews, dry runs) lets credentials be unset: nothing is sent.
    """
    env = dict(os.environ) if env is None else env
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None

    site_raw = data.get("site")
    if not isinstance(site_raw, dict):
        raise ConfigError(f"{path}: [site] is required (with at least url = \"https://...\")")
    site_raw = _interpolate(site_raw, "site", path, env)
    url = site_raw.get("url")
    if not isinstance(url, str) or not re.match(r"^https?://[^/\s]+", url):
        raise ConfigError(f"{path}: site.url is required and must be an http(s) URL, got {url!r}")
    base = path.parent
    root = (base / site_raw["root"]).resolve() if site_raw.get("root") else base.resolve()
    content = site_raw.get("content", DEFAULT_CONTENT)
    if isinstance(content, str):
        content = [content]
    if not isinstance(content, list) or not all(isinstance(c, str) for c in content):
        raise ConfigError(f"{path}: site.content must be a list of glob patterns")
    for key in ("fields", "shortcodes"):
        if not isinstance(site_raw.get(key, {}), dict):
            raise ConfigError(f"{path}: site.{key} must be a table")
    site = SiteConfig(
        url=url.rstrip("/"),
        root=root,
        content=content,
        permalink=site_raw.get("permalink"),
        static=list(site_raw.get("static", [])),
        fields=dict(site_raw.get("fields", {})),
        shortcodes=dict(site_raw.get("shortcodes", {})),
        timezone=str(site_raw.get("timezone", "UTC")),
        language=site_raw.get("language"),
    )

    state = _interpolate(data.get("state", {}), "state", path, env)
    state_url = env.get("SYNDICATE_STATE_URL") or state.get("url", DEFAULT_STATE)
    if state_url.startswith("sqlite:///") and not state_url.startswith("sqlite:////"):
        rel = state_url[len("sqlite:///"):]
        if rel and rel != ":memory:":
            state_url = "sqlite:///" + str((base / rel).resolve())

    queue = _interpolate(data.get("queue", {}), "queue", path, env)
    broker = env.get("SYNDICATE_BROKER_URL") or queue.get("broker") or None
    redis_url = env.get("SYNDICATE_REDIS_URL") or queue.get("redis") or (broker if broker and broker.startswith("redis") else None)

    targets_raw = data.get("targets", {})
    if not isinstance(targets_raw, dict):
        raise ConfigError(f"{path}: [targets] must be a table of tables")
    targets: dict[str, TargetConfig] = {}
    missing: list[str] = []
    registry = None
    if check_connectors:
        from syndicate import registry as _registry

        registry = _registry.available()
    for name, raw in targets_raw.items():
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: targets.{name} must be a table")
        kind = raw.get("type", name)
        declared: tuple[str, ...] = ()
        required: tuple[str, ...] = ()
        if registry is not None:
            if kind not in registry:
                known = ", ".join(sorted(registry)) or "none"
                raise ConfigError(f"{path}: targets.{name}.type: unknown target type {kind!r} (known: {known})")
            declared = registry[kind].secrets
            required = registry[kind].required
        if raw.get("enabled", True) is False:
            continue
        options: dict[str, Any] = {}
        for key, value in raw.items():
            if key == "type":
                continue
            value = _interpolate(value, f"targets.{name}.{key}", path, env, None if strict else missing)
            if isinstance(value, str) and _is_secret_key(key, declared):
                value = Secret(value)
            options[key] = value
        for key in required:
            if not strict and key in declared:
                continue  # a credential: only needed to send
            value = options.get(key)
            if value is None or value == "" or (isinstance(value, Secret) and not value):
                raise ConfigError(f"{path}: targets.{name}.{key} is required for type {kind!r}")
        targets[name] = TargetConfig(name=name, type=kind, options=options)

    return Config(
        path=path, site=site, state_url=state_url, broker=broker, redis_url=redis_url,
        targets=targets, raw=data, unset=missing,
    )
