"""`syndicate.toml` validated through the schema: every bad value is a clean `ConfigError`."""
from __future__ import annotations

import builtins
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import BaseModel, Field

from syndicate import registry
from syndicate.config import ConfigError, Secret, TargetOptions
from syndicate.config.duration import DurationError, format_duration, parse_duration
from syndicate.config.schema import SECTIONS
from syndicate.config.sitedata import site_folder
from syndicate.contract import Connector, Limits, RateLimit
from syndicate.registry import load_config, reference

ROOT = Path(__file__).resolve().parents[1]
SITE = '[site]\nurl = "https://blog.example"\n'


class BlogOptions(TargetOptions):
    api_key: Secret = Field(description="The API key.")
    base_url: str = Field("https://blog.example", description="The instance.")
    webhook_url: Secret | None = Field(None, description="Called after each post.")


class Blog(Connector):
    """A connector with an options model, as connectors will declare them."""

    type = "blog"
    limits = Limits(rates=(RateLimit("create", 10, 30),))
    options: ClassVar[builtins.type[TargetOptions]] = BlogOptions


class Legacy(Connector):
    """A connector without an options model: its keys pass, secrets are found by name."""

    type = "legacy"
    required = ("api_key",)
    secrets = ("api_key",)


@pytest.fixture(autouse=True)
def connectors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry._extra, "blog", Blog)
    monkeypatch.setitem(registry._extra, "legacy", Legacy)


def write(tmp_path: Path, body: str, site: str = SITE) -> Path:
    path = tmp_path / "syndicate.toml"
    path.write_text(site + body + "\n", encoding="utf-8")
    return path


def load(path: Path, env: dict[str, str] | None = None, **kwargs: object):  # type: ignore[no-untyped-def]
    return load_config(path, env={"XDG_STATE_HOME": str(path.parent / "xdg"), **(env or {})}, **kwargs)  # type: ignore[arg-type]


def error(path: Path, env: dict[str, str] | None = None, **kwargs: object) -> str:
    with pytest.raises(ConfigError) as info:
        load(path, env, **kwargs)
    return str(info.value)


# --- one clean message per bad value ----------------------------------------------------

BAD = [
    ('[http]\ntimeout = "fast"', "http.timeout", "'fast'", '"90s"'),
    ('timezone = "Mars/Olympus"', "site.timezone", "'Mars/Olympus'", "IANA"),
    ('[media]\nallow = "127.0.0.1"', "media.allow", "'127.0.0.1'", "list of strings"),
    ('[state]\nurl = "mysql://x"', "state.url", "'mysql://x'", "sqlite:///PATH or postgresql://"),
    ("[queue]\nlease_seconds = -1", "queue.lease_seconds", "-1", "seconds"),
    ('[queue]\nlease_seconds = "x"', "queue.lease_seconds", "'x'", "seconds"),
    ('[queue]\nvisibility_timeout = "soon"', "queue.visibility_timeout", "'soon'", '"10m"'),
    ("[queue]\nrate_time_scale = 0", "queue.rate_time_scale", "0", ""),
    ('[targets.blog]\napi_key = "k"\nrate_limits = { create = "fast" }', "targets.blog.rate_limits.create", "'fast'", '"N/30s"'),
    ('[targets.blog]\napi_key = "k"\non_edit = "rewrite"', "targets.blog.on_edit", "'rewrite'", "'update'"),
    ('[targets.blog]\napi_key = "k"\nenabled = "sometimes"', "targets.blog.enabled", "'sometimes'", "boolean"),
    ('language = "${FOO"', "site.language", "'${FOO'", "${VAR:-default}"),
    ('[site.fields]\ncover = 3', "site.fields.cover", "3", "string"),
    ('[watch]\nrescan = "often"', "watch.rescan", "'often'", '"1h30m"'),
    ('[watch]\nmax_deletes = -2', "watch.max_deletes", "-2", ""),
    ('[media]\nmax_source_bytes = "big"', "media.max_source_bytes", "'big'", "integer"),
    ('[queue]\nbroker = "localhost"', "queue.broker", "'localhost'", "redis://"),
]


@pytest.mark.parametrize(("body", "key", "value", "allowed"), BAD, ids=[b[1] for b in BAD])
def test_a_bad_value_names_file_key_value_and_what_is_allowed(tmp_path: Path, body: str, key: str, value: str,
                                                               allowed: str) -> None:
    site = SITE + body + "\n" if body.startswith(("timezone", "language", "[site.")) else SITE
    path = write(tmp_path, "" if site != SITE else body, site=site)
    message = error(path)
    assert message.startswith(f"{path}: {key}: "), message
    assert f"got {value}" in message and allowed in message
    assert "Traceback" not in message and "pydantic" not in message.lower()


def test_a_bad_site_url(tmp_path: Path) -> None:
    message = error(write(tmp_path, "", site='[site]\nurl = "blog.example"\n'))
    assert "site.url: not an http(s) URL: the scheme is missing (got 'blog.example'" in message
    assert 'allowed: "https://blog.example"' in message


def test_a_missing_site_and_a_missing_url(tmp_path: Path) -> None:
    assert "[site] is required" in error(write(tmp_path, "[state]", site=""))
    assert "site.url: required" in error(write(tmp_path, "", site="[site]\n"))


@pytest.mark.parametrize(("body", "expected"), [
    ('[state]\nurll = "x"', "state.urll: unknown key; did you mean url?"),
    ('[targets.blog]\napikey = "k"', "targets.blog.apikey: unknown key; did you mean api_key?"),
    ("[stat]\nurl = 1", "stat: unknown key; did you mean state?"),
    ('[queue]\n"leasе_seconds" = 1', "did you mean lease_seconds?"),  # a Cyrillic е
    ('[targets.blog]\ntype = "blgo"', "targets.blog.type: unknown target type; did you mean blog?"),
])
def test_unknown_keys_suggest_the_near_miss(tmp_path: Path, body: str, expected: str) -> None:
    message = error(write(tmp_path, body))
    assert expected in message and str(tmp_path) in message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    message = error(write(tmp_path, '[http]\ntimeout = "fast"\n[queue]\nscan_interval = "soon"\nnme = "q"'))
    lines = message.splitlines()
    assert len(lines) == 3 and all(line.startswith(str(tmp_path)) for line in lines)
    assert "did you mean name?" in message


def test_rate_limits_are_checked_against_the_connector(tmp_path: Path) -> None:
    message = error(write(tmp_path, '[targets.blog]\napi_key = "k"\nrate_limits = { create = "50/30s" }'))
    assert "targets.blog.rate_limits.create: '50/30s' could allow 50 per 30s" in message
    cfg = load(write(tmp_path, '[targets.blog]\napi_key = "k"\nrate_limits = { create = "5/30s" }'))
    assert cfg.targets["blog"].options["rate_limits"] == {"create": "5/30s"}


def test_unterminated_reference_is_refused(tmp_path: Path) -> None:
    message = error(write(tmp_path, '[targets.blog]\napi_key = "k"\nbase_url = "https://${HOST"'), {"HOST": "h"})
    assert "targets.blog.base_url: unterminated or malformed ${...} (got 'https://${HOST'" in message
    assert "${1X}" in error(write(tmp_path, "", site=SITE + 'language = "${1X}"\n'))


# --- secrets ----------------------------------------------------------------------------

def test_secret_is_a_pydantic_field_type_with_a_masked_repr() -> None:
    class M(BaseModel):
        token: Secret

    model = M.model_validate({"token": "s3cr3t-value"})
    assert isinstance(model.token, Secret) and model.token.reveal() == "s3cr3t-value"
    assert "s3cr3t" not in repr(model) and "s3cr3t" not in str(model.token)
    assert M.model_validate({"token": Secret("x")}).token == Secret("x")
    assert not Secret("") and Secret("a") != Secret("b")


def test_secrets_are_typed_by_the_model_and_masked_everywhere(tmp_path: Path) -> None:
    path = write(tmp_path, '[targets.blog]\napi_key = "${KEY}"\nwebhook_url = "https://hook.example/s3cr3t-hook"')
    target = load(path, {"KEY": "s3cr3t-key"}).targets["blog"]
    assert isinstance(target.options["api_key"], Secret) and target.options["api_key"].reveal() == "s3cr3t-key"
    assert isinstance(target.options["webhook_url"], Secret)
    assert isinstance(target.model, BlogOptions) and target.model.base_url == "https://blog.example"
    assert "s3cr3t" not in repr(target) and "s3cr3t" not in str(target.masked())
    assert target.options["base_url"] == "https://blog.example" and "on_edit" not in target.options


def test_a_bad_secret_value_is_masked_in_the_message(tmp_path: Path) -> None:
    message = error(write(tmp_path, '[targets.blog]\napi_key = ["s3cr3t-in-a-list"]'))
    assert "targets.blog.api_key: expected a string (got '**********'" in message and "s3cr3t" not in message
    message = error(write(tmp_path, '[targets.blog]\napi_key = "s3cr3t${X"'))
    assert "targets.blog.api_key" in message and "s3cr3t" not in message
    message = error(write(tmp_path, '[state]\nurl = "mysql://user:s3cr3t-pw@db/x"'))
    assert "mysql://user:**********@db/x" in message and "s3cr3t" not in message


def test_a_setting_whose_name_ends_in_key_is_shown_when_it_is_no_secret(tmp_path: Path) -> None:
    """The name heuristic (`api_key`, `*_key`) is for keys the schema does not type; a typed setting such
    as `[site] write_back_key` shows the value it was given, a typed secret stays masked."""
    site = SITE.replace("[site]\n", "[site]\nwrite_back_key = 5\n", 1)
    assert site != SITE
    message = error(write(tmp_path, '[targets.blog]\napi_key = "k"', site=site))
    assert "site.write_back_key: expected a string (got 5" in message, message
    message = error(write(tmp_path, '[targets.blog]\napi_key = 12345'))
    assert "targets.blog.api_key: expected a string (got '**********'" in message and "12345" not in message


def test_strict_load_needs_every_credential(tmp_path: Path) -> None:
    path = write(tmp_path, '[targets.blog]\napi_key = "${BLOG_KEY}"')
    cfg = load(path)  # unset in this environment: the target is skipped, not fatal (tests/test_deploy_env.py)
    assert cfg.targets == {} and cfg.skipped == {"blog": "$BLOG_KEY is not set"}
    assert "targets.blog.api_key: required" in error(write(tmp_path, "[targets.blog]"))
    assert "required credential is empty" in error(write(tmp_path, '[targets.blog]\napi_key = ""'))


def test_lenient_load_accepts_missing_credentials(tmp_path: Path) -> None:
    cfg = load(write(tmp_path, '[targets.blog]\napi_key = "${BLOG_KEY}"\n[targets.b2]\ntype = "blog"'), strict=False)
    assert cfg.targets["blog"].options["api_key"] == Secret("")
    assert cfg.targets["b2"].options["api_key"] == Secret("")
    assert cfg.unset == ["targets.blog.api_key ($BLOG_KEY)", "targets.b2.api_key (not set)"]
    assert "apikey" in error(write(tmp_path, '[targets.blog]\napikey = "k"'), strict=False)


def test_a_disabled_target_may_lack_its_credentials(tmp_path: Path) -> None:
    cfg = load(write(tmp_path, '[targets.blog]\nenabled = false\napi_key = "${UNSET_KEY}"'))
    assert cfg.targets == {} and cfg.unset == []


def test_connectors_without_a_model_keep_the_name_heuristic(tmp_path: Path) -> None:
    body = '[targets.old]\ntype = "legacy"\napi_key = "${K}"\norganization_id = 7\nmy_token = "t0ken"'
    target = load(write(tmp_path, body), {"K": "legacy-key"}).targets["old"]
    assert target.options["api_key"] == Secret("legacy-key") and target.options["my_token"] == Secret("t0ken")
    assert target.options["organization_id"] == 7 and "t0ken" not in str(target.masked())
    message = error(write(tmp_path, '[targets.legacy]\napikey = "k"'))
    assert "targets.legacy.api_key: required for type 'legacy' (apikey is set: a typo?)" in message
    assert load(write(tmp_path, '[targets.legacy]'), strict=False).targets["legacy"].options.get("api_key") is None


def test_media_rehost_credentials(tmp_path: Path) -> None:
    body = ('[media.rehost]\nendpoint = "https://s3.example"\nbucket = "b"\naccess_key = "${S3_A}"\n'
            'secret_key = "${S3_S}"\npublic_url = "https://img.example"')
    path = write(tmp_path, body)
    cfg = load(path, {"S3_A": "a-key", "S3_S": "s-key"})
    assert cfg.media.rehost is not None and cfg.media.rehost.secret_key.reveal() == "s-key"
    assert "media.rehost.access_key" in error(path) and "$S3_A" in error(path)
    lenient = load(path, strict=False)
    assert lenient.media.rehost is not None and not lenient.media.rehost.access_key
    assert "media.rehost.access_key ($S3_A)" in lenient.unset


# --- durations and typed sections ---------------------------------------------------------

@pytest.mark.parametrize(("value", "seconds"), [
    (90, 90.0), (1.5, 1.5), ("90s", 90.0), ("10m", 600.0), ("1h", 3600.0), ("1h30m", 5400.0),
    ("500ms", 0.5), ("2d", 172800.0), ("1h 30m", 5400.0), ("45", 45.0), ("1.5h", 5400.0), ("1M", 60.0),
])
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["soon", "", "10", "1h30", "-5s", "5 minutes", True, None, [1], "ms"])
def test_not_durations(value: object) -> None:
    if value == "10":
        assert parse_duration(value) == 10.0  # a bare number string counts as seconds
        return
    with pytest.raises(DurationError):
        parse_duration(value)


def test_format_duration_round_trips() -> None:
    for seconds in (0.5, 1, 59, 60, 5400, 90061, 0):
        assert parse_duration(format_duration(seconds)) == seconds


def test_typed_sections_with_defaults(tmp_path: Path) -> None:
    cfg = load(write(tmp_path, ""))
    assert cfg.http.timeout == 30.0
    q = cfg.queue
    assert (q.name, q.visibility_timeout, q.scan_interval, q.stale_after, q.lease_seconds, q.rate_time_scale) == (
        "syndicate", None, 60.0, None, 30.0, 1.0)
    w = cfg.watch
    assert (w.debounce_ms, w.rescan, w.delete_grace, w.max_deletes, w.first_run_limit, w.wait_live,
            w.wait_live_timeout) == (300, 300.0, 600.0, 5, 3, False, 900.0)
    assert cfg.media.allow == [] and cfg.media.timeout == 20.0 and cfg.media.rehost is None


def test_typed_sections_read_durations_and_env(tmp_path: Path) -> None:
    body = ('[http]\ntimeout = "500ms"\n[queue]\nbroker = "redis://localhost:6379/0"\nvisibility_timeout = "1h30m"\n'
            'lease_seconds = "2m"\nscan_interval = "${SCAN:-30}"\n[watch]\nrescan = "1m"\nwait_live = true\n'
            '[media]\nallow = ["127.0.0.1"]\ncache_dir = "cache"')
    cfg = load(write(tmp_path, body))
    assert cfg.http.timeout == 0.5
    assert (cfg.queue.visibility_timeout, cfg.queue.stale_after, cfg.queue.lease_seconds) == (5400.0, None, 120.0)
    assert cfg.queue.scan_interval == 30.0
    assert cfg.broker == cfg.queue.broker == cfg.redis_url == cfg.queue.redis == "redis://localhost:6379/0"
    assert cfg.watch.rescan == 60.0 and cfg.watch.wait_live is True
    assert cfg.media.cache_dir == (tmp_path / "cache").resolve()
    cfg = load(write(tmp_path, body), {"SYNDICATE_BROKER_URL": "redis://other:6379/2"})
    assert cfg.broker == cfg.queue.broker == "redis://other:6379/2"


def test_the_media_pipeline_reads_the_validated_section(tmp_path: Path) -> None:
    from syndicate.content.media.pipeline import pipeline_for

    cfg = load(write(tmp_path, '[media]\nallow = ["10.0.0.0/8"]\ntimeout = "1m"\nmax_source_bytes = 1000'))
    pipe = pipeline_for(cfg)
    assert (pipe.timeout, pipe.max_source_bytes) == (60.0, 1000)
    assert [str(n) for n in pipe.allow.networks] == ["10.0.0.0/8"]


# --- the data folder ------------------------------------------------------------------------

def test_data_dir_defaults_beside_the_config(tmp_path: Path) -> None:
    cfg = load(write(tmp_path, ""))
    assert cfg.data_dir == (tmp_path / ".syndicate").resolve() and cfg.data_dir.is_dir()
    assert cfg.state_url == f"sqlite:///{cfg.data_dir / 'state.db'}"
    assert cfg.media.cache_dir == cfg.data_dir / "media"


def test_data_dir_from_state_dir_and_env(tmp_path: Path) -> None:
    cfg = load(write(tmp_path, '[state]\ndir = "var/data"'))
    assert cfg.data_dir == (tmp_path / "var" / "data").resolve()
    cfg = load(write(tmp_path, ""), {"SYNDICATE_DATA": str(tmp_path / "elsewhere")})
    assert cfg.data_dir == tmp_path / "elsewhere" and cfg.state_url.endswith("/elsewhere/state.db")


def test_an_unwritable_site_keeps_its_data_in_the_state_home(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    path = write(site, "", site=SITE + 'root = "."\n')
    env = {"XDG_STATE_HOME": str(tmp_path / "state")}
    cfg = load_config(path, env=env, is_writable=lambda folder: not folder.is_relative_to(site))
    assert cfg.data_dir == tmp_path / "state" / "syndicate" / site_folder("blog.example")
    assert not (site / ".syndicate").exists()
    for default in (cfg.data_dir, Path(cfg.state_url.removeprefix("sqlite:///")), cfg.media.cache_dir):
        assert not Path(str(default)).is_relative_to(cfg.site.root), default
    home = load_config(path, env={"HOME": str(tmp_path / "home")}, is_writable=lambda folder: False)
    assert home.data_dir == tmp_path / "home" / ".local" / "state" / "syndicate" / site_folder("blog.example")


def test_explicit_state_urls_win(tmp_path: Path) -> None:
    cfg = load(write(tmp_path, '[state]\nurl = "sqlite:///db/ledger.db"'))
    assert cfg.state_url == f"sqlite:///{(tmp_path / 'db' / 'ledger.db').resolve()}"
    pg = "postgresql://u:p@h/db"
    assert load(write(tmp_path, ""), {"SYNDICATE_STATE_URL": pg}).state_url == pg
    message = error(write(tmp_path, ""), {"SYNDICATE_STATE_URL": "mysql://u:pw@h/x"})
    assert "$SYNDICATE_STATE_URL: not a state database URL (got 'mysql://u:**********@h/x'" in message


# --- the reference --------------------------------------------------------------------------

def test_the_reference_documents_every_field() -> None:
    text = reference()
    for section, model in SECTIONS.items():
        assert f"## `[{section}]`" in text
        for name, info in model.model_fields.items():
            assert f"| `{name}` |" in text, (section, name)
            assert info.description and info.description in text.replace("\\|", "|"), (section, name)
    for name, info in TargetOptions.model_fields.items():
        assert f"| `{name}` |" in text and info.description
    assert '### `type = "blog"`' in text and "| `webhook_url` | secret | unset |" in text
    assert "| `lease_seconds` | duration | `30` s |" in text


# --- the real command line ------------------------------------------------------------------

def test_the_cli_exits_2_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    path = write(tmp_path, '[http]\ntimeout = "fast"\n[state]\nurll = "x"')
    result = subprocess.run(
        [sys.executable, "-m", "syndicate.cli", "push", "--dry-run", "--config", str(path), str(tmp_path / "content")],
        capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=60,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output
    assert "http.timeout" in output and "'fast'" in output and "did you mean url?" in output
