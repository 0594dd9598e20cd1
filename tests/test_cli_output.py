"""Output a user can trust (issue 13: 16-19, 23, 37): summaries, whole URLs, one --json shape, states that
say what they mean, bounded warnings. Each runs the real `syndicate` app against the fakes."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from syndicate.cli import app
from tests.test_push import fakes, run, site, write, writes  # noqa: F401  (fixtures)


def stdout(*args: str) -> tuple[int, str]:
    """The command's exit code and its standard output alone (the log goes to stderr)."""
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout


def test_a_run_ends_with_a_one_line_summary_and_hides_unchanged_rows_unless_all(site: Path, fakes) -> None:  # noqa: F811
    for i in range(3):
        write(site, f"p{i}.md", f"title: Post {i}\ndate: 2024-03-01")
    code, out = run("push", str(site / "content"))
    assert code == 0, out
    assert out.strip().splitlines()[-1] == "6 created"
    edited = site / "content" / "posts" / "p1.md"
    edited.write_text(edited.read_text().replace("A first paragraph", "An edited paragraph"), encoding="utf-8")
    write(site, "draft.md", "title: Not yet\ndate: 2024-03-01\ndraft: true")
    code, out = run("push", str(site / "content"))
    assert code == 0, out
    assert out.strip().splitlines()[-1] == "2 updated, 4 unchanged, 2 skipped"
    assert "p0.md" not in out and "p2.md" not in out  # unchanged: counted, not listed
    assert "p1.md" in out and "draft.md" in out
    code, out = run("push", str(site / "content"), "--all")
    assert "p0.md" in out and "p2.md" in out
    assert out.strip().splitlines()[-1] == "6 unchanged, 2 skipped"


def test_a_dry_run_says_what_would_happen_in_one_line(site: Path, fakes) -> None:  # noqa: F811
    write(site, "a.md", "title: A\ndate: 2024-03-01")
    write(site, "b.md", "title: B\ndate: 2024-03-01")
    assert run("push", str(site / "content" / "posts" / "a.md"))[0] == 0
    code, out = run("push", "--dry-run", str(site / "content"))
    assert code == 0, out
    assert out.strip().splitlines()[-1] == "dry run, nothing was sent: 2 to create, 2 unchanged"
    assert "a.md" not in out.replace("b.md", "")  # the unchanged post is not previewed without --all


def test_piped_output_keeps_every_url_whole_on_its_line(site: Path, fakes, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("COLUMNS", "40")
    post = write(site, "a-post-with-a-rather-long-name-for-its-file.md",
                 "title: A post whose title is long enough to wrap\ndate: 2024-03-01")
    code, out = run("push", str(post))
    assert code == 0, out
    urls = [u for u in re.findall(r"https?://\S+", out)]
    assert len(urls) == 2, out
    code, status = run("status")
    code, preview = run("preview", str(post))
    for url in urls:
        assert url in out.splitlines()[1] + out.splitlines()[2]  # one row per line, the URL whole
        assert any(url in line for line in status.splitlines()), status
    assert "https://blog.example/posts/a-post-with-a-rather-long-name-for-its-file/" in preview
    for text in (out, status):
        assert "content/posts/a-post-with-a-rather-long-name-for-its-file.md" in text


def test_every_reporting_command_takes_json_with_one_shape(site: Path, fakes) -> None:  # noqa: F811
    devto, masto = fakes
    post = write(site, "a.md", "title: A\ndate: 2024-03-01")
    code, out = run("push", str(post), "--json")
    assert code == 0, out
    data = json.loads(out)
    assert set(data) == {"results", "errors", "log"}
    assert {(r["target"], r["action"], r["status"]) for r in data["results"]} == {
        ("devto", "create", "done"), ("mastodon", "create", "done")}

    masto.fail_next(1, 422, method="POST")  # refused: failed at once, no backoff to wait out
    again = write(site, "again.md", "title: Again\ndate: 2024-03-01")
    assert run("push", str(again), "--to", "mastodon")[0] == 1
    masto.calm()
    code, out = run("retry", "--json")
    data = json.loads(out)
    assert code == 0 and set(data) == {"results", "errors", "log"}, out
    assert [(r["target"], r["action"], r["status"]) for r in data["results"]] == [("mastodon", "create", "done")]

    write(site, "b.md", "title: B\ndate: 2024-03-01")
    assert run("push", str(again), "--to", "devto")[0] == 0
    code, out = stdout("watch", "--once", "--json")
    data = json.loads(out)
    assert code == 0 and set(data) == {"results", "errors", "log"}, out
    assert {(r["path"], r["target"], r["status"]) for r in data["results"] if r["action"] == "create"} == {
        ("content/posts/b.md", "devto", "done"), ("content/posts/b.md", "mastodon", "done")}

    write(site, "c.md", "title: C\ndate: 2024-03-01")
    code, out = run("baseline", str(site / "content" / "posts" / "c.md"), "--json")
    data = json.loads(out)
    assert code == 0 and set(data) == {"results", "errors", "log"}, out
    assert {(r["path"], r["target"], r["action"]) for r in data["results"]} == {
        ("content/posts/c.md", "devto", "baseline"), ("content/posts/c.md", "mastodon", "baseline")}


def test_resolve_takes_json(site: Path, fakes) -> None:  # noqa: F811
    from syndicate.config import find_config
    from syndicate.content.loader import load_post
    from syndicate.registry import load_config
    from syndicate.state.ledger import Ledger

    post = write(site, "m.md", "title: M\ndate: 2024-03-01")
    config = load_config(find_config(), strict=False)
    ledger = Ledger(config.state_url, site=config.site_id)
    post_id = load_post(post, config.site).id
    ledger.ensure(post_id, "devto", "content/posts/m.md")
    ledger.mark_check(post_id, "devto", "a create's outcome is unknown")
    code, out = run("resolve", str(post), "--target", "devto", "--url", "https://dev.to/me/m", "--json")
    assert code == 0, out
    (result,) = json.loads(out)["results"]
    assert result["target"] == "devto" and result["action"] == "resolve" and result["status"] == "done"
    assert result["remote_url"] == "https://dev.to/me/m"
    assert ledger.get(post_id, "devto").state == "published"  # type: ignore[union-attr]
    ledger.dispose()


def test_status_shows_a_draft_as_draft_and_a_future_date_once(site: Path, fakes) -> None:  # noqa: F811
    draft = write(site, "draft.md", "title: Draft\ndate: 2024-03-01\ndraft: true")
    future = write(site, "future.md", "title: Later\ndate: 2099-01-01")
    assert run("push", str(draft), str(future))[0] == 0
    code, out = run("status")
    lines = {line.split()[0] + " " + line.split()[1]: line for line in out.splitlines()[1:] if line.strip()}
    assert lines["content/posts/draft.md devto"].split()[2] == "draft", out
    assert " new " not in out
    later = lines["content/posts/future.md mastodon"]
    assert later.count("2099-01-01") == 1, later
    rows = {(r["path"], r["target"]): r for r in json.loads(run("status", "--json")[1])}
    assert rows[("content/posts/draft.md", "devto")]["state"] == "draft"


def test_a_first_watch_does_not_list_published_posts_as_new(site: Path, fakes) -> None:  # noqa: F811
    devto, masto = fakes
    for i in range(2):
        write(site, f"p{i}.md", f"title: Post {i}\ndate: 2024-03-01")
    assert run("push", str(site / "content"))[0] == 0
    write(site, "fresh.md", "title: Fresh\ndate: 2024-03-01")
    code, out = run("watch", "--once")
    assert code == 0, out
    assert "p0.md" not in out and "p1.md" not in out and "skip" not in out, out
    assert "new content/posts/fresh.md → devto: create, mastodon: create" in out
    assert out.strip().splitlines()[-1] == "2 created, 4 unchanged"


def test_retry_never_prints_an_empty_reason(site: Path, fakes) -> None:  # noqa: F811
    devto, masto = fakes
    post = write(site, "r.md", "title: R\ndate: 2024-03-01")
    devto.fail_next(1, 422, method="POST")
    assert run("push", str(post), "--to", "devto")[0] == 1
    write(site, "r.md", "title: R\ndate: 2024-03-01\ndraft: true")
    code, out = run("retry")
    row = next(line for line in out.splitlines() if "r.md" in line)
    assert row.split()[-1] != "skipped" and row.rstrip().endswith("draft"), out


def test_a_tag_warning_names_its_target_and_10000_tags_make_a_short_warning(site: Path, fakes) -> None:  # noqa: F811
    tags = ", ".join(f"tag{i}" for i in range(10_000))
    post = write(site, "tags.md", f"title: Tags\ndate: 2024-03-01\ntags: [{tags}]")
    code, out = run("push", str(post))
    assert code == 0, out
    warnings = [line for line in out.splitlines() if line.startswith("warning")]
    assert warnings and all(len(line) < 500 for line in warnings), [len(w) for w in warnings]
    devto = next(w for w in warnings if "devto:" in w)
    assert "10,000 tags, the platform keeps 4: tag0, tag1, tag2, tag3" in devto
    assert "(+9,986 more)" in devto
    assert any("mastodon:" in w for w in warnings)


def test_a_mastodon_status_cut_to_fit_says_so(site: Path, fakes) -> None:  # noqa: F811
    post = write(site, "long.md", "title: Long\ndate: 2024-03-01\nsummary: " + "word " * 200)
    code, out = run("preview", str(post), "--to", "mastodon", "--json")
    (entry,) = [p["targets"]["mastodon"] for p in json.loads(out)["posts"]]
    assert any(w.startswith("mastodon: text cut to fit 500 characters (excerpt shortened)") for w in entry["warnings"]), entry
    code, out = run("preview", str(write(site, "short.md", "title: Short\ndate: 2024-03-01")), "--to", "mastodon", "--json")
    (entry,) = [p["targets"]["mastodon"] for p in json.loads(out)["posts"]]
    assert not any("cut" in w for w in entry["warnings"])


def test_help_shows_flags_without_a_bool_type() -> None:
    """Flags bare, values named (TARGET, DATE, URL), arguments by their name (`paths...`), no Python types."""
    commands = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    for args in ([], *([name] for name in commands)):
        result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        assert "<bool>" not in result.output, (args, result.output)
        # no Python type beside a value either (`<list[Path]>`, `<str>`): a name says what to give
        assert not re.search(r"<(?:list\[|str>|int>|path>|float>)", result.output), (args, result.output)
        assert "--help" in result.output
    push = CliRunner().invoke(app, ["push", "--help"], env={"COLUMNS": "200"}).output
    assert re.search(r"--json\s+machine-readable output", push), push


def test_help_keeps_every_bracketed_config_section_it_names() -> None:
    """Rich reads `[webhook]` as markup and drops it: the help must still say it."""
    import typer.main

    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        texts = [command.help or "", *(getattr(p, "help", None) or "" for p in command.params)]
        named = {m for t in texts for m in re.findall(r"\[[a-z_.]+\]", t.replace("\\[", "["))}
        if not named:
            continue
        out = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "300"}).output
        for section in named:
            assert section in out, (name, section, out)


def test_a_post_every_target_skipped_alike_is_one_row(capsys: pytest.CaptureFixture[str]) -> None:
    """A draft pushed to fifteen targets is one row ("all 15"), not fifteen, at every run."""
    from syndicate.triggers import output

    targets = [f"t{i}" for i in range(15)]
    rows = [{"path": "content/draft.md", "target": t, "action": "skip", "status": "skipped", "reason": "draft"}
            for t in targets]
    rows += [{"path": "content/new.md", "target": t, "action": "create", "status": "done",
              "remote_url": f"https://{t}.example/1"} for t in targets[:3]]
    rows += [{"path": "content/mixed.md", "target": "t0", "action": "skip", "status": "skipped", "reason": "draft"},
             {"path": "content/mixed.md", "target": "t1", "action": "skip", "status": "skipped",
              "reason": "opted out in front matter"},
             {"path": "content/mixed.md", "target": "t2", "action": "skip", "status": "skipped", "reason": "draft"}]
    output.results(rows)
    out = capsys.readouterr().out
    draft = [line for line in out.splitlines() if "draft.md" in line]
    assert len(draft) == 1 and "all 15" in draft[0] and "draft" in draft[0], out
    assert len([line for line in out.splitlines() if "new.md" in line]) == 3, out  # done rows stay one each
    assert len([line for line in out.splitlines() if "mixed.md" in line]) == 3, out  # reasons differ: each said
    assert out.strip().splitlines()[-1] == "3 created, 18 skipped", out
