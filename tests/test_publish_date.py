"""Hugo `publishDate`: a post is due at its publish date, not at its `date` (issue 13.5).

`date: 2024-01-06` with `publishDate: 2099-01-01` was deferred "until
2024-01-06", a time already past, so the periodic job picked it up again on
every run, planned and rendered it, and deferred it again. The due time is the
publish date everywhere: the plan, the deferral in the ledger, `status`, and
so the periodic job, which then has nothing to do until 2099.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from syndicate.cli import app
from syndicate.content.loader import load_post
from syndicate.engine import runner
from syndicate.engine.plan import plan
from syndicate.engine.runner import Syndicator
from syndicate.registry import load_config
from syndicate.triggers.watch import Watcher
from tests.fakes.devto import FakeDevTo

LATER = datetime(2099, 1, 1, tzinfo=UTC)
POST = "---\ntitle: Far future\ndate: 2024-01-06\npublishDate: 2099-01-01\n---\n\nComing, one day.\n"


@pytest.fixture
def site(tmp_path: Path, ledger_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "content" / "posts").mkdir(parents=True)
    (tmp_path / "content" / "posts" / "later.md").write_text(POST, encoding="utf-8")
    (tmp_path / "hugo.toml").write_text('baseURL = "https://blog.example/"\n', encoding="utf-8")
    monkeypatch.setenv("DEVTO_API_KEY", "devto-test-key")
    monkeypatch.delenv("SYNDICATE_CONFIG", raising=False)
    monkeypatch.delenv("SYNDICATE_BROKER_URL", raising=False)
    return tmp_path


def configure(site: Path, devto: FakeDevTo, ledger_url: str) -> Path:
    path = site / "syndicate.toml"
    path.write_text(
        f'[site]\nurl = "https://blog.example"\ncontent = ["content/posts/**/*.md"]\n\n[state]\nurl = "{ledger_url}"\n\n'
        f'[targets.devto]\napi_key = "${{DEVTO_API_KEY}}"\nbase_url = "{devto.url}"\n', encoding="utf-8")
    return path


def test_the_plan_defers_to_the_publish_date(site: Path, ledger_url: str) -> None:
    with FakeDevTo() as devto:
        config = load_config(configure(site, devto, ledger_url))
        post = load_post(site / "content" / "posts" / "later.md", config.site)
        assert post.date == datetime(2024, 1, 6, tzinfo=UTC) and post.due_at == LATER
        syn = Syndicator(config)
        p = plan(post, syn.connector("devto"), None, datetime(2030, 1, 1, tzinfo=UTC))
        assert (p.action, p.until) == ("defer", LATER) and "2099-01-01" in p.reason
        assert plan(post, syn.connector("devto"), None, LATER).action == "create"  # and on the day, it goes


def test_push_and_status_say_the_publish_date(site: Path, ledger_url: str) -> None:
    with FakeDevTo() as devto:
        config = configure(site, devto, ledger_url)
        invoke = CliRunner().invoke
        pushed = invoke(app, ["push", str(site / "content"), "--json", "--config", str(config)], catch_exceptions=False)
        assert pushed.exit_code == 0, pushed.output
        [result] = json.loads(pushed.output)["results"]
        assert result["status"] == "deferred" and "2099-01-01" in result["reason"]
        status = invoke(app, ["status", "--json", "--config", str(config)], catch_exceptions=False)
        [row] = json.loads(status.output)
        assert row["state"] == "deferred" and row["deferred_until"].startswith("2099-01-01")
        assert not devto.requests or all(r.method == "GET" for r in devto.requests)


class Counts:
    """Calls of the engine's costly steps, counted on the real objects."""

    def __init__(self, syn: Syndicator, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = {"plan": 0, "render": 0, "send": 0}
        monkeypatch.setattr(runner, "plan", self._count("plan", runner.plan))
        conn = syn.connector("devto")
        monkeypatch.setattr(conn, "render", self._count("render", conn.render))
        monkeypatch.setattr(syn, "run_inline", self._count("send", syn.run_inline))

    def _count(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return fn(*args, **kwargs)

        return counted

    def total(self) -> int:
        return sum(self.calls.values())


def test_a_far_future_post_costs_no_work_per_scan(site: Path, ledger_url: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeDevTo() as devto:
        config = load_config(configure(site, devto, ledger_url))
        now = [datetime.now(UTC)]
        lines: list[str] = []
        watcher = Watcher(config, syn=Syndicator(config), echo=lines.append, clock=lambda: now[0])
        counts = Counts(watcher.syn, monkeypatch)
        watcher.reconcile(first=True)
        assert counts.calls["send"] == 1 and counts.calls["plan"] >= 1  # the first sight of it: planned once
        [row] = watcher.syn.ledger.all()
        assert row.state == "deferred" and row.deferred_until == LATER
        counts.calls = dict.fromkeys(counts.calls, 0)
        for _ in range(5):  # rescans of the unchanged site and the in-process due job, hours apart
            now[0] += timedelta(hours=3)
            watcher.reconcile()
            watcher.run_due()
        assert counts.calls == {"plan": 0, "render": 0, "send": 0}, (counts.calls, lines)
        assert watcher.syn.ledger.due(now[0] + timedelta(days=365)) == []  # nor anything for the Celery due job
        assert devto.articles == {}
