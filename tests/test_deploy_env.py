"""What a container run relies on (issue 13.27, 13.28).

A target whose credentials the environment lacks is skipped with a warning,
not fatal for the others; `status` lists it; naming it on purpose
(`push --to`) is still an error. `$SYNDICATE_DATA` wins over `[state] dir`,
so a site whose file names a folder inside a read-only mount still runs.
"""
from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from syndicate.cli import app
from syndicate.config import ConfigError
from syndicate.registry import load_config
from tests.fakes.devto import FakeDevTo
from tests.paths import ROOT

EXAMPLE_TOML = (ROOT / "examples" / "syndicate.toml").read_text(encoding="utf-8")
# every credential the example names, and every target it declares: the example grows with each connector
EXAMPLE_VARS = sorted(set(re.findall(r"\$\{(\w+)\}", EXAMPLE_TOML)))
# credentials whose shape is checked: a value of that shape
PLAUSIBLE = {"DISCORD_WEBHOOK_URL": "https://discord.com/api/webhooks/1234567890/tok-en_1",
             "SLACK_BOT_TOKEN": "xoxb-1234-5678-abcdef", "TELEGRAM_BOT_TOKEN": "123456789:AAE-plausible_token_of_thirty_chars"}
EXAMPLE_TARGETS = set(re.findall(r"^\[targets\.(\w+)\]", EXAMPLE_TOML, re.MULTILINE))


def example(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    return tmp_path / "examples" / "syndicate.toml"


# --- missing credentials skip their target ------------------------------------------------


def test_the_example_config_runs_with_one_credential_of_many(tmp_path: Path) -> None:
    config = load_config(example(tmp_path), env={"DEVTO_API_KEY": "k", "MASTODON_ACCESS_TOKEN": ""})
    assert list(config.targets) == ["devto"]
    assert set(config.skipped) == EXAMPLE_TARGETS - {"devto"}
    assert config.skipped["mastodon"] == "$MASTODON_ACCESS_TOKEN is empty"
    assert config.skipped["medium"] == "$MEDIUM_TOKEN is not set"


def test_with_every_credential_nothing_is_skipped(tmp_path: Path) -> None:
    config = load_config(example(tmp_path), env={name: PLAUSIBLE.get(name, "x") for name in EXAMPLE_VARS})
    assert set(config.targets) == EXAMPLE_TARGETS and config.skipped == {}


def test_a_preview_keeps_the_target_and_still_says_it_would_be_skipped(tmp_path: Path) -> None:
    config = load_config(example(tmp_path), env={}, strict=False)
    assert set(config.targets) == EXAMPLE_TARGETS and len(EXAMPLE_TARGETS) >= 7
    assert set(config.skipped) == EXAMPLE_TARGETS


def test_a_mistake_in_a_skipped_target_is_still_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "syndicate.toml"
    path.write_text('[site]\nurl = "https://blog.example"\n\n[targets.mastodon]\nbase_url = "https://m.example"\n'
                    'access_token = "${MASTODON_ACCESS_TOKEN}"\nvisibilty = "public"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert "targets.mastodon.visibilty" in str(info.value)


def test_a_disabled_target_is_not_reported_as_skipped(tmp_path: Path) -> None:
    path = tmp_path / "syndicate.toml"
    path.write_text('[site]\nurl = "https://blog.example"\n\n[targets.devto]\nenabled = false\n'
                    'api_key = "${DEVTO_API_KEY}"\n', encoding="utf-8")
    config = load_config(path, env={})
    assert config.targets == {} and config.skipped == {}


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, FakeDevTo]]:
    with FakeDevTo() as devto:
        (tmp_path / "content").mkdir()
        (tmp_path / "content" / "hello.md").write_text("---\ntitle: Hello\ndate: 2024-03-01\n---\n\nHi.\n",
                                                      encoding="utf-8")
        (tmp_path / "syndicate.toml").write_text(
            f'[site]\nurl = "https://blog.example"\ncontent = ["content/*.md"]\n\n'
            f'[targets.devto]\napi_key = "${{DEVTO_API_KEY}}"\nbase_url = "{devto.url}"\n\n'
            '[targets.mastodon]\nbase_url = "https://mastodon.example"\naccess_token = "${MASTODON_ACCESS_TOKEN}"\n',
            encoding="utf-8")
        monkeypatch.setenv("DEVTO_API_KEY", "devto-test-key")
        monkeypatch.delenv("MASTODON_ACCESS_TOKEN", raising=False)
        monkeypatch.chdir(tmp_path)
        yield tmp_path, devto  # type: ignore[misc]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_push_sends_to_the_others_and_warns_about_the_skipped_one(site: tuple[Path, FakeDevTo],
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    root, devto = site
    with caplog.at_level(logging.WARNING, logger="syndicate"):
        code, output = run("push", "content", "--json")
    assert code == 0, output
    assert len(devto.articles) == 1
    assert [r["target"] for r in json.loads(output)["results"]] == ["devto"]
    assert "targets.mastodon is skipped: $MASTODON_ACCESS_TOKEN is not set" in caplog.text


def test_naming_a_skipped_target_is_an_error(site: tuple[Path, FakeDevTo]) -> None:
    root, devto = site
    code, output = run("push", "content", "--to", "mastodon")
    assert code == 2
    assert "target mastodon is skipped: $MASTODON_ACCESS_TOKEN is not set" in output
    assert devto.articles == {}


def test_status_lists_each_skipped_target(site: tuple[Path, FakeDevTo], monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = run("status", "--json")
    assert code == 0, output
    rows = json.loads(output)
    assert [(r["target"], r["state"], r["reason"]) for r in rows] == [
        ("mastodon", "skipped", "$MASTODON_ACCESS_TOKEN is not set")]
    monkeypatch.setenv("COLUMNS", "200")
    code, output = run("status")
    assert code == 0, output
    (line,) = [line for line in output.splitlines() if "mastodon" in line]
    assert "skipped" in line and "$MASTODON_ACCESS_TOKEN is not set" in line


# --- $SYNDICATE_DATA wins over [state] dir -----------------------------------------------------


def test_syndicate_data_wins_over_a_state_dir_inside_a_read_only_site(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    # tests run as root, where no mode makes a folder read-only: a file where the folder would go does the same
    (site / "ro").write_text("a read-only mount", encoding="utf-8")
    path = site / "syndicate.toml"
    path.write_text('[site]\nurl = "https://blog.example"\n\n[state]\ndir = "ro/data"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert "state.dir: cannot create" in str(info.value)
    volume = tmp_path / "volume"
    config = load_config(path, env={"SYNDICATE_DATA": str(volume)})
    assert config.data_dir == volume and volume.is_dir()
    assert config.state_url == f"sqlite:///{volume / 'state.db'}"
    assert config.media.cache_dir == volume / "media"
    assert (site / "ro").read_text(encoding="utf-8") == "a read-only mount"


def test_a_service_starts_on_such_a_site_with_syndicate_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "ro").write_text("a read-only mount", encoding="utf-8")
    (site / "syndicate.toml").write_text('[site]\nurl = "https://blog.example"\n\n[state]\ndir = "ro/data"\n',
                                         encoding="utf-8")
    monkeypatch.chdir(site)
    code, output = run("status")
    assert code == 2 and "state.dir" in output
    monkeypatch.setenv("SYNDICATE_DATA", str(tmp_path / "volume"))
    code, output = run("status")
    assert code == 0, output
    assert "nothing recorded yet" in output  # status writes nothing: no ledger is made just to say so
    assert (site / "ro").read_text(encoding="utf-8") == "a read-only mount"
