"""`syndicate status` (issue 16): what needs attention first, `--state` / `--target` filters, held deletions.

A real ledger (SQLite and PostgreSQL, by the `ledger_url` fixture), real watch
scans against the dev.to and Mastodon fakes; rows are put in the states to
sort through the ledger's own API, as the engine would leave them.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from syndicate.cli import app
from syndicate.registry import load_config
from syndicate.state.ledger import open_ledger
from tests.test_cli_mistakes import config_of
from tests.test_push import fakes, site, write  # noqa: F401  (fixtures)


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def rows(*args: str) -> list[dict]:
    code, out, err = cli("status", "--json", *args)
    assert code == 0, out + err
    return json.loads(out)


def key(row: dict) -> tuple:
    return (Path(row["path"]).name if row["path"] else None, row["target"], row["state"])


@pytest.fixture
def mixed(site: Path, fakes, monkeypatch: pytest.MonkeyPatch) -> Path:  # noqa: F811
    """Six posts sent by a watch scan, then: a failure, a check, a stale queued row, two held
    deletions (max_deletes = 1), and a target skipped for want of its credentials."""
    devto, _masto = fakes
    config_of(site, ("[state]", "[watch]\nmax_deletes = 1\n\n[state]"))
    with (site / "syndicate.toml").open("a", encoding="utf-8") as f:
        f.write(f'\n[targets.later]\ntype = "devto"\napi_key = "${{LATER_KEY}}"\nbase_url = "{devto.url}"\n')
    monkeypatch.delenv("LATER_KEY", raising=False)
    posts = [write(site, f"p{i}.md", f"title: P{i}\ndate: 2024-03-0{i + 1}") for i in range(6)]
    code, out, err = cli("watch", "--once", "--backfill")
    assert code == 0, out + err
    for p in posts[4:]:
        p.unlink()
    code, out, err = cli("watch", "--once")
    assert code == 1 and "held: 2 deletion(s)" in out, out + err
    ledger = open_ledger(load_config(site / "syndicate.toml"))
    ids = {Path(r.post_path or "").name: r.post_id for r in ledger.all()}
    ledger.record_failure(ids["p1.md"], "devto", "permanent", "422: title is too long", keep_state=False)
    ledger.mark_check(ids["p2.md"], "mastodon", "a create's outcome is unknown")
    ledger.update(ids["p3.md"], "devto", state="queued")  # asked for, and nobody is on it: stale
    ledger.record_failure(ids["p0.md"], "mastodon", "permanent", "422: an update was refused")  # stays published
    ledger.dispose()
    return site


def test_status_lists_what_needs_attention_first_stable_within_each_group(mixed: Path) -> None:
    got = [key(r) for r in rows()]
    attention = [
        ("p0.md", "mastodon", "published"),  # published, last update failed
        ("p1.md", "devto", "failed"),
        ("p2.md", "mastodon", "check"),
        ("p4.md", None, "held"),
        ("p5.md", None, "held"),
        ("p3.md", "devto", "queued"),
        (None, "later", "skipped"),
    ]
    assert got[:len(attention)] == attention, got
    rest = got[len(attention):]
    assert rest == sorted(rest, key=lambda k: (k[0], k[1]))  # the ledger's own order, kept
    assert len(rest) == 6 * 2 - 4 and {k[2] for k in rest} == {"published"}

    code, out, _err = cli("status")  # the same order for a person
    assert code == 0
    lines = out.splitlines()

    def at(*words: str) -> int:
        return next(i for i, line in enumerate(lines) if all(w in line for w in words))

    assert at("p0.md", "last update failed") < at("p1.md", "failed") < at("p2.md", "check") \
        < at("p4.md", "held") < at("p3.md", "queued") < at("later", "skipped") < at("p3.md", "mastodon")
    assert "2 deletion(s) held by the mass-change guard" in out
    assert "queued (stale)" in lines[at("p3.md", "devto", "queued")]
    assert [r["stale"] for r in rows() if r["stale"]] == [True]  # p3 → devto alone


def test_status_filters_by_state_and_target_with_repeated_values(mixed: Path) -> None:
    got = [key(r) for r in rows("--state", "failed", "--state", "check")]
    assert got == [("p1.md", "devto", "failed"), ("p2.md", "mastodon", "check")]
    got = [key(r) for r in rows("--target", "devto")]
    assert {k[1] for k in got} == {"devto", None}  # the held deletions take devto's copies too
    assert [k for k in got if k[1] is None] == [("p4.md", None, "held"), ("p5.md", None, "held")]
    assert got[0] == ("p1.md", "devto", "failed")
    got = [key(r) for r in rows("--state", "held", "--target", "mastodon", "--target", "later")]
    assert got == [("p4.md", None, "held"), ("p5.md", None, "held")]
    assert [key(r) for r in rows("--target", "later")] == [(None, "later", "skipped")]
    assert rows("--state", "deleted") == []
    code, out, _err = cli("status", "--state", "deleted")
    assert code == 0 and "no row matches" in out


@pytest.mark.parametrize(("flag", "value", "allowed"), [
    ("--state", "broken", "failed, check, held"),
    ("--target", "devtoo", "devto, later, mastodon"),
])
def test_an_unknown_filter_value_exits_2_listing_the_allowed_ones(mixed: Path, flag: str, value: str,
                                                                  allowed: str) -> None:
    code, out, err = cli("status", flag, value)
    assert code == 2, out + err
    assert f"{flag} {value}: unknown; allowed: " in err and allowed in err
    assert "Traceback" not in out + err


def test_status_json_lists_held_deletions_with_their_targets(mixed: Path) -> None:
    held = [r for r in rows() if r["state"] == "held"]
    assert [Path(r["path"]).name for r in held] == ["p4.md", "p5.md"]
    for r in held:
        assert r["targets"] == ["devto", "mastodon"] and r["target"] is None and r["post_id"]
        assert "push --apply-deletes" in r["reason"]
    code, out, err = cli("push", "--apply-deletes")
    assert code == 0, out + err
    assert [r for r in rows() if r["state"] == "held"] == []
    assert {key(r) for r in rows("--state", "deleted")} == {
        (f"p{i}.md", t, "deleted") for i in (4, 5) for t in ("devto", "mastodon")}


def test_a_file_in_its_grace_period_is_listed_as_deleting(site: Path, fakes) -> None:  # noqa: F811
    config_of(site, ("[state]", '[watch]\ndelete_grace = "1h"\n\n[state]'))
    posts = [write(site, f"g{i}.md", f"title: G{i}\ndate: 2024-03-01") for i in range(2)]
    assert cli("watch", "--once")[0] == 0
    posts[0].unlink()
    assert cli("watch", "--once")[0] == 0
    [gone] = [r for r in rows() if r["state"] == "deleting"]
    assert Path(gone["path"]).name == "g0.md" and gone["targets"] == ["devto", "mastodon"]
    assert gone["deferred_until"] and "delete_grace" in gone["reason"]
    assert rows("--state", "held") == []


def test_with_a_broker_a_row_is_stale_only_past_stale_after_and_never_while_held(tmp_path: Path,
                                                                                 ledger_url: str) -> None:
    from datetime import timedelta

    from syndicate.engine import lease
    from syndicate.state.ledger import Ledger
    from syndicate.triggers import statusview

    (tmp_path / "syndicate.toml").write_text(
        '[site]\nurl = "https://blog.example"\ncontent = ["posts/*.md"]\n\n'
        f'[state]\nurl = "{ledger_url}"\n\n[queue]\nbroker = "redis://127.0.0.1:1/0"\nstale_after = "10m"\n',
        encoding="utf-8")
    config = load_config(tmp_path / "syndicate.toml")
    ledger = Ledger(ledger_url, site="blog.example")
    try:
        ledger.ensure("p1", "devto", "posts/p1.md")
        ledger.update("p1", "devto", state="queued")
        row = ledger.get("p1", "devto")
        assert row is not None and row.updated_at is not None
        since = row.updated_at
        assert not statusview.is_stale(row, config, since + timedelta(minutes=9))  # a worker may still take it
        assert statusview.is_stale(row, config, since + timedelta(minutes=10))
        owner = lease.unit_owner()  # this process, alive: its lease holds
        held = ledger.acquire("p1", "devto", "posts/p1.md", owner, ttl=3600)
        assert held is not None
        assert not statusview.is_stale(held, config, since + timedelta(minutes=10))
        ledger.release("p1", "devto", owner)
        ledger.update("p1", "devto", state="published")
        done = ledger.get("p1", "devto")
        assert done is not None and not statusview.is_stale(done, config, since + timedelta(days=1))
    finally:
        ledger.dispose()
