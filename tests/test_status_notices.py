"""`status` shows what a target has to say before anything fails (issue 15): a LinkedIn token about to
expire, an X budget that is spent. From what is known here: nothing is fetched."""
from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from syndicate.cli import app


def _site(tmp_path: Path, targets: str, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "content").mkdir()
    (tmp_path / "syndicate.toml").write_text(
        '[site]\nurl = "https://blog.example"\ncontent = ["content/*.md"]\n\n'
        f'[state]\ndir = "{tmp_path / "data"}"\n\n{targets}', encoding="utf-8")
    monkeypatch.chdir(tmp_path)


def test_status_warns_of_a_linkedin_token_that_expires_within_a_week(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    soon = date.today() + timedelta(days=3)
    _site(tmp_path, '[targets.li]\ntype = "linkedin"\naccess_token = "${LI_TOKEN}"\n'
                    f'author = "urn:li:person:AbC123xyz"\nbase_url = "http://127.0.0.1:9"\ntoken_expires = {soon}\n',
          monkeypatch)
    monkeypatch.setenv("LI_TOKEN", "li-secret-token-value")
    result = CliRunner().invoke(app, ["status", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = [r for r in json.loads(result.output) if r["state"] == "notice"]
    assert [(r["target"], r["level"]) for r in rows] == [("li", "warn")], rows
    assert soon.isoformat() in rows[0]["reason"] and "li-secret-token-value" not in result.output
    monkeypatch.setenv("COLUMNS", "300")
    text = CliRunner().invoke(app, ["status"], catch_exceptions=False).output
    (line,) = [line for line in text.splitlines() if " li " in f" {line} "]
    assert "warn" in line and soon.isoformat() in line


def test_status_says_a_spent_x_budget_and_when_it_resets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _site(tmp_path, '[targets.x]\ntype = "x"\napi_key = "${XK}"\napi_secret = "${XS}"\naccess_token = "${XT}"\n'
                    'access_secret = "${XA}"\nbase_url = "http://127.0.0.1:9"\nmonthly_budget = 0.01\n', monkeypatch)
    for name in ("XK", "XS", "XT", "XA"):
        monkeypatch.setenv(name, f"x-secret-{name.lower()}-value")
    result = CliRunner().invoke(app, ["status", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (row,) = [r for r in json.loads(result.output) if r["state"] == "notice"]
    assert row["level"] == "error" and "monthly_budget" in row["reason"] and "resets on" in row["reason"]
    assert row["deferred_until"] and "x-secret" not in result.output


def test_no_notice_for_a_target_with_nothing_to_say(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    later = date.today() + timedelta(days=50)
    _site(tmp_path, '[targets.li]\ntype = "linkedin"\naccess_token = "${LI_TOKEN}"\n'
                    f'author = "urn:li:person:AbC123xyz"\nbase_url = "http://127.0.0.1:9"\ntoken_expires = {later}\n',
          monkeypatch)
    monkeypatch.setenv("LI_TOKEN", "li-secret-token-value")
    result = CliRunner().invoke(app, ["status", "--json"], catch_exceptions=False)
    assert [r for r in json.loads(result.output) if r["state"] == "notice"] == []
