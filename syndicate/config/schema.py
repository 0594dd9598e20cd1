"""The schema of `syndicate.toml`: one pydantic model per section.

Every section is validated at load (`syndicate.config.load_config`); the
messages a bad value gets and the Markdown reference are built from these
models in `syndicate.config.describe`. Connectors subclass
`TargetOptions` for their own keys and type credentials as `Secret`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError, core_schema

from syndicate.config.duration import HELP as DURATION_HELP
from syndicate.config.duration import DurationError, parse_duration
from syndicate.config.urltokens import allowed as allowed_tokens
from syndicate.config.urltokens import unknown as unknown_tokens

DEFAULT_CONTENT = ["content/**/*.md", "content/**/*.mdx", "_posts/**/*.md", "src/content/**/*.md", "src/content/**/*.mdx"]
DEFAULT_MAX_SOURCE_BYTES = 50 * 1024 * 1024
STATE_SCHEMES = ("sqlite:///", "postgresql://", "postgresql+psycopg://")
_HTTP_URL = re.compile(r"^https?://[^/\s]+")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_HOST = re.compile(r"^[\w.-]+\.[\w-]+(:\d+)?(/\S*)?$")


class Secret:
    """A string that never shows itself in a repr, a log line or a traceback.

    Usable as a pydantic field type: a connector marks a credential by typing it `Secret`.
    """

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

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._coerce, json_schema_input_schema=core_schema.str_schema()
        )

    @classmethod
    def _coerce(cls, value: object) -> Secret:
        if isinstance(value, Secret):
            return value
        if isinstance(value, str):
            return cls(value)
        raise PydanticCustomError("secret_type", "expected a string", {"allowed": 'a string, usually "${ENV_VAR}"'})


@dataclass(frozen=True)
class Kind:
    """A marker in `Annotated[...]` naming the type in messages and the reference."""

    name: str


def _duration(value: object) -> float:
    try:
        return parse_duration(value)
    except DurationError:
        raise PydanticCustomError("duration", "not a duration", {"allowed": DURATION_HELP}) from None


def _positive(value: float) -> float:
    if value <= 0:
        raise PydanticCustomError("positive", "must be more than 0", {"allowed": DURATION_HELP})
    return value


def _non_negative(value: float) -> float:
    if value < 0:
        raise PydanticCustomError("non_negative", "must not be negative", {"allowed": DURATION_HELP})
    return value


Duration = Annotated[float, BeforeValidator(_duration), AfterValidator(_positive), Kind("duration")]
DurationOrZero = Annotated[float, BeforeValidator(_duration), AfterValidator(_non_negative), Kind("duration")]


def _http_url(value: str) -> str:
    if not _HTTP_URL.match(value):
        bare = value.strip().strip("/")
        if bare and not _URL.match(value) and _HOST.match(bare):  # `mastodon.social`: the scheme is missing
            raise PydanticCustomError("http_url", "not an http(s) URL: the scheme is missing",
                                      {"allowed": f'"https://{bare}"'})
        raise PydanticCustomError("http_url", "not an http(s) URL", {"allowed": '"https://example.com"'})
    return value.rstrip("/")


def _any_url(value: str) -> str:
    if not _URL.match(value):
        raise PydanticCustomError("url", "not a URL", {"allowed": '"scheme://host[:port][/path]", e.g. "redis://localhost:6379/0"'})
    return value


def _permalink(value: str) -> str:
    bad = unknown_tokens(value, "site")
    if bad:
        raise PydanticCustomError("permalink_token", "unknown token {tokens}",
                                  {"tokens": ", ".join(bad), "allowed": allowed_tokens("site")})
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url), Kind("http(s) URL")]
Url = Annotated[str, AfterValidator(_any_url), Kind("URL")]


def state_url(value: str) -> str:
    """`value` when it is a URL the ledger can use, else a `PydanticCustomError`."""
    if not value.startswith(STATE_SCHEMES):
        raise PydanticCustomError("state_url", "not a state database URL",
                                  {"allowed": "sqlite:///PATH or postgresql://user:password@host/db"})
    return value


def _timezone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        allowed = "an IANA name such as Europe/Berlin or UTC"
        import difflib
        from zoneinfo import available_timezones

        near = difflib.get_close_matches(value, sorted(available_timezones()), n=1)
        if near:
            allowed += f"; did you mean {near[0]}?"
        raise PydanticCustomError("timezone", "unknown timezone", {"allowed": allowed}) from None
    return value


def _one_or_many(value: object) -> object:
    return [value] if isinstance(value, str) else value


def rate_specs() -> Any:
    """The module holding `parse_rate`, `effective_rates` and `RateSpecError`, imported on first use."""
    import importlib

    try:  # the rate limiter's rewrite moves the spec rules to syndicate.state.ratequota
        return importlib.import_module("syndicate.state.ratequota")
    except ImportError:
        return importlib.import_module("syndicate.state.ratelimit")


def _rate_spec(value: str) -> str:
    specs = rate_specs()
    try:
        specs.parse_rate(value)
    except specs.RateSpecError as exc:
        prefix = f"{value!r}: "  # parse_rate's messages start with the value
        problem = str(exc)[len(prefix):] if str(exc).startswith(prefix) else "not a rate"
        raise PydanticCustomError("rate_spec", problem,
                                  {"allowed": '"N/30s", "N/5m", "N/1h", "N/1d" or "N per 30 seconds"'}) from None
    return value


RateSpec = Annotated[str, AfterValidator(_rate_spec), Kind("rate")]
Glob = Annotated[list[str], BeforeValidator(_one_or_many), Kind("glob or list of globs")]


class Section(BaseModel):
    """A config table: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class SiteOptions(Section):
    """The site whose posts are cross-posted."""

    url: HttpUrl = Field(description="The site's public base URL (required).")
    root: str | None = Field(default=None, description="The site's root folder, relative to the config file (default: its folder).")
    content: Glob = Field(default_factory=lambda: list(DEFAULT_CONTENT),
                          description="Globs of post files, relative to the root.")
    permalink: Annotated[str, AfterValidator(_permalink)] | None = Field(default=None, description="URL pattern of a post (:year :month :day :slug ...); default: the generator's own.")
    static: list[str] = Field(default_factory=list, description="Folders served at the site root (images).")
    fields: dict[str, str] = Field(default_factory=dict, description="Role -> front-matter key (dotted) for your theme's own names.")
    shortcodes: dict[str, str] = Field(default_factory=dict, description="Your shortcode -> a built-in meaning (figure, youtube...).")
    timezone: Annotated[str, AfterValidator(_timezone), Kind("IANA timezone")] = Field(default="UTC", description="IANA timezone for dates written without an offset.")
    language: str | None = Field(default=None, description="The posts' default language (BCP 47, e.g. en).")


class StateOptions(Section):
    """Where the ledger (what was sent where) and other data live."""

    url: Annotated[str, AfterValidator(state_url), Kind("state URL")] | None = Field(default=
        None, description="The ledger database: sqlite:///PATH (relative to the config) or postgresql://...; "
                          "$SYNDICATE_STATE_URL wins. Default: sqlite:///<data dir>/state.db.")
    dir: str | None = Field(default=None, description="The data folder (ledger, media cache); $SYNDICATE_DATA wins. "
                                              "Default: .syndicate beside the config when writable, else one folder "
                                              "per site, $XDG_STATE_HOME/syndicate/<site>-<hash>.")
    shared: bool = Field(default=False, description="Several sites use this one ledger on purpose (set it in each); "
                                                    "each sees only its own rows. Without it, a ledger that holds "
                                                    "another site's rows is refused.")
    site: Annotated[str, Field(min_length=1, max_length=300)] | None = Field(default=
        None, description="This site's name in the ledger and its data folder (default: the host and path of "
                          "[site] url, e.g. blog.example.org); after moving the site to a new address, set the old one.")


class QueueOptions(Section):
    """The Celery queue (absent broker: push runs in-process)."""

    broker: Url | None = Field(default=None, description="Broker URL ($SYNDICATE_BROKER_URL wins).")
    redis: Url | None = Field(default=None, description="Redis for shared rate limits ($SYNDICATE_REDIS_URL wins; default: the broker when it is Redis).")
    name: Annotated[str, Field(min_length=1)] = Field(default="syndicate", description="The queue's name.")
    visibility_timeout: Duration | None = Field(default=None, description="How long the broker waits before redelivering an unacknowledged task. Default: the longest task the engine allows: its longest countdown (120 s; a quarter of a value set here) + 10 × [http] timeout, and a tenth more (462 s with the defaults).")
    scan_interval: Duration = Field(default=60.0, description="Time between runs of the periodic due job.")
    stale_after: Duration | None = Field(default=None, description="A row new, queued or creating with no live lease for this long is sent again by the periodic job (default: visibility_timeout + scan_interval).")
    lease_seconds: Duration = Field(default=30.0, description="A worker's hold on a (post, target), renewed while it works; a dead worker's row is free after it (at once on the same machine).")
    rate_time_scale: Annotated[float, Field(gt=0)] = Field(default=1.0, description="Multiplies every rate-limit window (tests shrink time).")



class RehostOptions(Section):
    """An S3-compatible bucket for images a platform cannot fetch from the site."""

    endpoint: HttpUrl = Field(description="The S3 endpoint, e.g. https://s3.example.net.")
    bucket: Annotated[str, Field(min_length=1)] = Field(description="The bucket's name.")
    access_key: Secret = Field(description="The access key id (a secret).")
    secret_key: Secret = Field(description="The secret access key (a secret).")
    public_url: HttpUrl = Field(description="Where the bucket's objects are served publicly.")
    region: str = Field(default="us-east-1", description="The signing region.")
    prefix: str = Field(default="", description="A key prefix inside the bucket.")


class MediaOptions(Section):
    """Images: fetching, fitting, caching and rehosting."""

    allow: list[str] = Field(default_factory=list, description="Hosts, addresses or CIDRs that may be fetched although private (intranet, tests).")
    cache_dir: Path | None = Field(default=None, description="Fitted images, relative to the config file (default: <data dir>/media).")
    max_source_bytes: Annotated[int, Field(gt=0)] = Field(default=DEFAULT_MAX_SOURCE_BYTES, description="Larger source images are refused.")
    timeout: Duration = Field(default=20.0, description="Per image download.")
    rehost: RehostOptions | None = Field(default=None, description="Optional bucket for images a platform cannot reach ([media.rehost]).")


class HttpOptions(Section):
    """Requests to the platforms."""

    timeout: Duration = Field(default=30.0, description="Per request to a platform.")


class WatchOptions(Section):
    """`syndicate watch`: following the site's files as they change."""

    debounce_ms: Annotated[int, Field(ge=0)] = Field(default=300, description="Milliseconds of quiet after a change before acting on it.")
    rescan: Duration = Field(default=300.0, description="A full rescan this often, in case a change was missed.")
    delete_grace: Duration = Field(default=600.0, description="A post must stay gone this long before its copies are deleted.")
    max_deletes: Annotated[int, Field(ge=0)] = Field(default=5, description="More deletions than this at once wait for confirmation.")
    first_run_limit: Annotated[int, Field(ge=0)] = Field(default=3, description="A first start (empty ledger) with more due posts than this refuses and sends nothing until told `--baseline` (record them, send none) or `--backfill` (send them all); up to this many are sent unasked.")
    wait_live: bool = Field(default=False, description="Wait until a post's URL answers before sending it.")
    wait_live_timeout: Duration = Field(default=900.0, description="How long to wait for a post's URL to answer.")


DEFAULT_MAX_BODY = 25 * 1024 * 1024  # GitHub's own cap on a webhook payload


class WebhookOptions(Section):
    """`syndicate serve`: the git host's push webhook syncs what a push changed."""

    secret: Secret = Field(description="The HMAC key (GitHub, Gitea/Forgejo, Bitbucket) or token (GitLab); a secret.")
    repo: Annotated[str, Field(min_length=1)] = Field(description="The repository that is fetched (https://, ssh, file:// or a local path); never one from a payload.")
    name: str | None = Field(default=None, description="The full name the host sends (me/blog); default: from repo's URL.")
    branch: str | None = Field(default=None, description="The branch that is synced; default: the repository's default branch.")
    token: Secret | None = Field(default=None, description="For private repositories over https: fed to git by a credential helper (a secret).")
    checkout: str | None = Field(default=None, description="Where the working copy is kept, relative to the config file (default: <data dir>/repo); the site is read from it.")
    max_body: Annotated[int, Field(gt=0)] = Field(default=DEFAULT_MAX_BODY, description="Larger deliveries get 413.")
    header_timeout: Duration = Field(default=10.0, description="A connection must send its request line and headers within this (else 408, closed).")
    body_timeout: Duration = Field(default=30.0, description="A delivery's whole body must arrive within this of its headers (else 408, closed).")
    max_unverified: Annotated[int, Field(ge=1)] = Field(default=16, description="Bodies read at once before their signature is checked; a new one takes the slowest one's place.")
    wait_live: bool = Field(default=False, description="Creates wait until the post's URL answers (the site builds after the push).")
    first_run: Literal["refuse", "baseline", "backfill"] = Field(default=
        "refuse", description="A first whole-tree sync (the first push is a new branch or a force-push) with more than [watch] first_run_limit due posts: refuse, baseline them, or send them all.")
    trusted_proxies: list[str] = Field(default_factory=lambda: ["127.0.0.1"], description="Addresses whose X-Forwarded-* headers `serve --proxy-headers` honours.")


OnChange = Literal["delete", "unpublish", "keep"]


class TargetOptions(BaseModel):
    """Keys every `[targets.NAME]` table takes; a connector subclasses it for its own."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    type: str = Field(description="The connector type (default: the table's name).")
    enabled: bool = Field(default=True, description="false: the target is kept in the file but not used.")
    rate_limits: dict[str, RateSpec] | None = Field(default=
        None, description='Lower the documented rate limits, e.g. { create = "5/30s" } (never higher).')
    on_edit: Literal["update", "skip", "repost"] | None = Field(default=None, description="What an edited post does to its copy.")
    on_unpublish: OnChange | None = Field(default=None, description="What a post turned draft or hidden does to its copy.")
    on_delete: OnChange | None = Field(default=None, description="What a deleted post does to its copy.")


class LooseTargetOptions(TargetOptions):
    """For connectors without an options model: their own keys pass unchecked."""

    model_config = ConfigDict(extra="allow")


class ConfigFile(Section):
    """The whole file; targets are checked one by one against their connector's model."""

    site: SiteOptions = Field(description="[site]")
    state: StateOptions = Field(default_factory=StateOptions, description="[state]")
    queue: QueueOptions = Field(default_factory=QueueOptions, description="[queue]")
    media: MediaOptions = Field(default_factory=MediaOptions, description="[media]")
    http: HttpOptions = Field(default_factory=HttpOptions, description="[http]")
    watch: WatchOptions = Field(default_factory=WatchOptions, description="[watch]")
    webhook: WebhookOptions | None = Field(default=None, description="[webhook]")
    targets: dict[str, dict[str, Any]] = Field(default_factory=dict, description="[targets.NAME]")


SECTIONS: dict[str, type[BaseModel]] = {
    "site": SiteOptions, "state": StateOptions, "queue": QueueOptions, "media": MediaOptions,
    "media.rehost": RehostOptions, "http": HttpOptions, "watch": WatchOptions,
    "webhook": WebhookOptions,
}
