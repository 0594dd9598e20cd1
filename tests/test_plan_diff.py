"""`syndicate plan --diff BASE..HEAD`: real git repositories in temporary folders, the ledger on SQLite
and PostgreSQL or none at all, every format; nothing is sent (the fakes see no request, a target on a
closed port does not matter) and the working tree is left as it was."""
from __future__ import annotations

import dataclasses
import json
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from syndicate.cli import app
from tests.fakes.devto import FakeDevTo
from tests.fakes.mastodon import FakeMastodon

README = Path(__file__).resolve().parent.parent / "README.md"
LONG = " ".join(["A summary that runs on and on, well past what one Mastodon status can hold."] * 12)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "HOME": str(repo.parent), "GIT_CONFIG_NOSYSTEM": "1",
           "PATH": "/usr/bin:/bin:/usr/local/bin"}
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def write(site: Path, name: str, front: str, body: str = "A first paragraph with a [link](https://example.org).\n") -> None:
    path = site / "content" / "posts" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{front.strip()}\n---\n\n{body}", encoding="utf-8")


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def fakes() -> Iterator[tuple[FakeDevTo, FakeMastodon]]:
    with FakeDevTo() as devto, FakeMastodon() as masto:
        yield devto, masto  # type: ignore[misc]


class Site:
    def __init__(self, repo: Path, fakes: tuple[FakeDevTo, FakeMastodon]) -> None:
        self.repo = repo
        self.site = repo / "site"
        self.devto, self.masto = fakes
        self.base = ""
        self.head = ""

    def requests(self) -> int:
        return len(self.devto.requests) + len(self.masto.requests)


def make_site(tmp_path: Path, fakes: tuple[FakeDevTo, FakeMastodon], ledger_url: str,
              monkeypatch: pytest.MonkeyPatch, *, max_deletes: int = 5, with_x: bool = True) -> Site:
    devto, masto = fakes
    repo = tmp_path / "repo"
    (repo / "site").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "syndicate.toml").write_text(f"""
[site]
url = "https://blog.example"
root = "site"
content = ["content/posts/**/*.md"]
permalink = "/posts/:slug/"

[state]
url = "{ledger_url}"

[watch]
max_deletes = {max_deletes}

[queue]
rate_time_scale = 0.01  # dev.to's 10 articles per 30 s would hold the second push for half a minute

[targets.devto]
api_key = "${{DEVTO_API_KEY}}"
base_url = "{devto.url}"

[targets.mastodon]
base_url = "{masto.url}"
access_token = "${{MASTODON_ACCESS_TOKEN}}"
""" + ("" if not with_x else f"""
[targets.x]
type = "x"
base_url = "http://127.0.0.1:{closed_port()}"
api_key = "${{X_API_KEY}}"
api_secret = "${{X_API_SECRET}}"
access_token = "${{X_ACCESS_TOKEN}}"
access_secret = "${{X_ACCESS_SECRET}}"
"""), encoding="utf-8")
    monkeypatch.delenv("SYNDICATE_CONFIG", raising=False)
    monkeypatch.delenv("SYNDICATE_BROKER_URL", raising=False)
    for name in ("DEVTO_API_KEY", "MASTODON_ACCESS_TOKEN", "X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN",
                 "X_ACCESS_SECRET"):
        monkeypatch.delenv(name, raising=False)  # a plan needs no credentials
    monkeypatch.chdir(repo)
    return Site(repo, fakes)


def base_posts(s: Site) -> None:
    write(s.site, "kept.md", "title: Kept as it is\ndate: 2024-01-01")
    write(s.site, "edited.md", "title: Edited later\ndate: 2024-01-02")
    write(s.site, "moved.md", "title: Moved with its slug\ndate: 2024-01-03\nslug: moved")
    write(s.site, "gone.md", "title: Deleted in the PR\ndate: 2024-01-04")
    write(s.site, "draft.md", "title: Not ready yet\ndate: 2024-01-05\ndraft: true")
    write(s.site, "renamed-url.md", "title: Renamed with a new URL\ndate: 2024-01-06")
    write(s.site, "pure.md", "title: Renamed as it is\ndate: 2024-01-07")
    write(s.site, "reslugged.md", "title: A new slug\ndate: 2024-01-08\nslug: first")
    s.base = commit(s.repo, "base")


def head_changes(s: Site) -> None:
    write(s.site, "edited.md", "title: Edited later\ndate: 2024-01-02", "A new first paragraph, rewritten.\n")
    git(s.repo, "mv", "site/content/posts/moved.md", "site/content/posts/moved-here.md")
    git(s.repo, "rm", "-q", "site/content/posts/gone.md")
    write(s.site, "draft.md", "title: Not ready yet\ndate: 2024-01-05")
    git(s.repo, "mv", "site/content/posts/renamed-url.md", "site/content/posts/other-name.md")
    write(s.site, "other-name.md", "title: Renamed with a new URL\ndate: 2024-01-06", "Edited too.\n")
    git(s.repo, "mv", "site/content/posts/pure.md", "site/content/posts/pure-renamed.md")
    write(s.site, "reslugged.md", "title: A new slug\ndate: 2024-01-08\nslug: second")
    write(s.site, "new.md", "title: Brand new\ndate: 2024-02-01")
    write(s.site, "long.md", f"title: Long one\ndate: 2024-02-02\ndescription: \"{LONG}\"")
    (s.repo / "notes.txt").write_text("not a post\n", encoding="utf-8")
    s.head = commit(s.repo, "head")


def push_base(s: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """The BASE posts sent for real (to the fakes), so that the ledger knows them."""
    monkeypatch.setenv("DEVTO_API_KEY", "devto-test-key")
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", "mastodon-test-token")
    result = CliRunner().invoke(app, ["push", "--to", "devto", "--to", "mastodon", "site/content/posts"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    monkeypatch.delenv("DEVTO_API_KEY")
    monkeypatch.delenv("MASTODON_ACCESS_TOKEN")
    assert len(s.masto.statuses) == 7 and len(s.devto.articles) == 7  # the draft is not sent


class Connections:
    """Every outgoing TCP connection made while planning (the PostgreSQL ledger's is the only one allowed)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.seen: list[Any] = []
        real = socket.socket.connect

        def connect(sock: socket.socket, address: Any) -> Any:
            self.seen.append(address)
            return real(sock, address)

        monkeypatch.setattr(socket.socket, "connect", connect)

    def others(self, allowed: int | None) -> list[Any]:
        return [a for a in self.seen if not (isinstance(a, tuple) and allowed is not None and a[1] == allowed)
                and not isinstance(a, str)]


def run_plan(s: Site, *args: str, monkeypatch: pytest.MonkeyPatch, pg_port: int | None = None) -> tuple[int, str]:
    before = (s.requests(), git(s.repo, "status", "--porcelain"), git(s.repo, "rev-parse", "HEAD"))
    watch = Connections(monkeypatch)
    result = CliRunner().invoke(app, ["plan", *args], catch_exceptions=False)
    assert watch.others(pg_port) == [], f"a plan connected to {watch.others(pg_port)}"
    after = (s.requests(), git(s.repo, "status", "--porcelain"), git(s.repo, "rev-parse", "HEAD"))
    assert after == before, "a plan sent a request or touched the working tree"
    return result.exit_code, result.output


def by(report: dict[str, Any], path: str, target: str) -> dict[str, Any]:
    found = [e for e in report["entries"] if e["path"] == path and e["target"] == target]
    assert len(found) == 1, (path, target, report["entries"])
    return found[0]


def pg_port_of(url: str) -> int | None:
    m = re.match(r"postgresql://[^@]*@[^:/]+:(\d+)/", url)
    return int(m.group(1)) if m else (5432 if url.startswith("postgresql") else None)


# --- with the ledger (SQLite and PostgreSQL) ---------------------------------------------------------


def test_plan_against_the_ledger(tmp_path: Path, fakes, ledger_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    s = make_site(tmp_path, fakes, ledger_url, monkeypatch)
    base_posts(s)
    push_base(s, monkeypatch)
    head_changes(s)
    code, out = run_plan(s, "--diff", f"{s.base}..{s.head}", "--format", "json", monkeypatch=monkeypatch,
                         pg_port=pg_port_of(ledger_url))
    assert code == 0, out
    report = json.loads(out)
    assert report["version"] == 1 and report["ledger"]["reachable"] is True and report["ledger"]["note"] is None
    assert report["base"]["commit"] == s.base and report["head"]["commit"] == s.head
    p = "content/posts/"
    # an edit: an update where the platform edits
    assert by(report, p + "edited.md", "mastodon")["action"] == "update"
    assert by(report, p + "edited.md", "devto")["action"] == "update"
    assert "changed since last sent" in by(report, p + "edited.md", "devto")["reason"]
    # X was never sent to: a create, with its price
    x = by(report, p + "edited.md", "x")
    assert x["action"] == "create" and x["cost_usd"] and x["cost_usd"] > 0
    # a rename keeping the slug (same post id): the same copies, unchanged
    moved = by(report, p + "moved-here.md", "mastodon")
    assert moved["change"] == "renamed" and moved["old_path"] == p + "moved.md"
    assert moved["action"] == "skip" and moved["reason"] == "unchanged"
    assert not [e for e in report["entries"] if e["path"] == p + "moved.md"]  # no delete of the old name
    # a deletion
    assert by(report, p + "gone.md", "devto")["action"] == "delete"
    assert by(report, p + "gone.md", "mastodon")["action"] == "delete"
    assert by(report, p + "gone.md", "x")["action"] == "skip"  # never sent there
    # a rename that changed the URL and the text: old copies deleted, the post created anew (with a warning)
    assert by(report, p + "renamed-url.md", "mastodon")["action"] == "delete"
    fresh = by(report, p + "other-name.md", "mastodon")
    assert fresh["action"] == "create" and fresh["change"] == "added"
    assert any("rename of content/posts/renamed-url.md, but its URL changed" in w for w in fresh["warnings"])
    # a rename with nothing else changed: the watcher pairs the file by its hash, the copies follow (new URL)
    pure = by(report, p + "pure-renamed.md", "mastodon")
    assert pure["change"] == "renamed" and pure["action"] == "update" and pure["old_path"] == p + "pure.md"
    assert not [e for e in report["entries"] if e["path"] == p + "pure.md"]
    # the same file with a new URL (its slug changed): the ledger adopts its rows, the copies are updated
    reslugged = by(report, p + "reslugged.md", "mastodon")
    assert reslugged["action"] == "update" and reslugged["url"] == "https://blog.example/posts/second/"
    assert [e["action"] for e in report["entries"] if e["path"] == p + "reslugged.md"] == ["update"] * 2 + ["create"]
    # the draft flip: created, and said at the top
    assert by(report, p + "draft.md", "mastodon")["action"] == "create"
    kinds = [a["kind"] for a in report["alerts"]]
    assert kinds[0] == "publishes_draft" and p + "draft.md" in report["alerts"][0]["message"]
    # over Mastodon's limit: the fitted text is shown, and the cut is at the top
    long = by(report, p + "long.md", "mastodon")
    assert long["action"] == "create" and "…" in long["text"] and len(long["text"]) < len(LONG)
    assert long["text"].endswith("https://blog.example/posts/long/")
    assert any(a["kind"] == "over_limit" and a["target"] == "mastodon" and a["path"] == p + "long.md"
               for a in report["alerts"])
    assert not any(e["path"] == p + "kept.md" for e in report["entries"])  # not in the range
    assert not any("notes.txt" in e["path"] for e in report["entries"])
    assert not any("sends nothing" in w for e in report["entries"] for w in e["warnings"])
    summary = report["summary"]
    assert summary["create"] == sum(e["action"] == "create" for e in report["entries"]) > 0
    # the plan says what a push of HEAD then does (deletions are the watcher's and the webhook's)
    monkeypatch.setenv("DEVTO_API_KEY", "devto-test-key")
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", "mastodon-test-token")
    result = CliRunner().invoke(app, ["push", "--json", "--to", "devto", "--to", "mastodon", "site/content/posts"],
                                catch_exceptions=False)
    done = {(r["path"], r["target"]): r["action"] for r in json.loads(result.output)["results"]}
    # (a file moved as it is keeps its copies by its content hash: that pairing is the watcher's and the
    # webhook's, which record the files; `push` alone knows no files and would make it a new post)
    planned = {(e["path"], e["target"]): e["action"] for e in report["entries"]
               if e["target"] != "x" and e["change"] != "deleted" and e["path"] != p + "pure-renamed.md"}
    differ = {key: (action, done.get(key)) for key, action in planned.items() if done.get(key) != action}
    assert planned and not differ, differ
    assert summary["cost_usd"] == pytest.approx(sum(e["cost_usd"] or 0 for e in report["entries"]
                                                    if e["action"] in ("create", "update")))


def test_mass_deletion_is_held_and_on_top(tmp_path: Path, fakes, ledger_url: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    s = make_site(tmp_path, fakes, ledger_url, monkeypatch, max_deletes=2)
    base_posts(s)
    push_base(s, monkeypatch)
    for name in ("kept.md", "edited.md", "gone.md"):
        git(s.repo, "rm", "-q", f"site/content/posts/{name}")
    s.head = commit(s.repo, "remove three")
    code, out = run_plan(s, "--diff", f"{s.base}..{s.head}", "--format", "json", monkeypatch=monkeypatch,
                         pg_port=pg_port_of(ledger_url))
    assert code == 0, out
    report = json.loads(out)
    assert report["alerts"][0]["kind"] == "mass_deletion" and "3 posts" in report["alerts"][0]["message"]
    held = [e for e in report["entries"] if e["action"] == "held"]
    assert len(held) == 6 and all("apply-deletes" in e["reason"] for e in held)  # 3 posts × devto, mastodon
    assert not [e for e in report["entries"] if e["action"] == "delete"]


# --- no ledger -------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["sqlite-missing", "postgresql-closed"])
def test_without_a_ledger_the_diff_alone(tmp_path: Path, fakes, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    url = (f"sqlite:///{tmp_path / 'data' / 'state.db'}" if where == "sqlite-missing"
           else f"postgresql://u:secretpw@127.0.0.1:{closed_port()}/nothing")
    s = make_site(tmp_path, fakes, url, monkeypatch)
    base_posts(s)
    head_changes(s)
    port = pg_port_of(url) if where == "postgresql-closed" else None
    code, out = run_plan(s, "--diff", f"{s.base}..{s.head}", "--format", "json", monkeypatch=monkeypatch,
                         pg_port=port)
    assert code == 0, out
    assert "secretpw" not in out
    report = json.loads(out)
    assert report["ledger"]["reachable"] is False
    assert report["ledger"]["note"].startswith("no ledger reachable: planned from the diff alone")
    assert not (tmp_path / "data").exists()  # nothing made
    p = "content/posts/"
    edited = by(report, p + "edited.md", "mastodon")
    assert edited["action"] == "update" and "no ledger" in edited["reason"]
    assert by(report, p + "moved-here.md", "devto")["action"] == "skip"  # same id, same text as at BASE
    assert by(report, p + "gone.md", "mastodon")["action"] == "delete"
    assert by(report, p + "draft.md", "devto")["action"] == "create"
    assert by(report, p + "new.md", "x")["action"] == "create" and by(report, p + "new.md", "x")["cost_usd"]
    assert report["alerts"][0]["kind"] == "publishes_draft"
    # the same in text: the note stands at the top
    code, text = run_plan(s, "--diff", f"{s.base}..{s.head}", monkeypatch=monkeypatch, pg_port=port)
    assert code == 0
    lines = text.splitlines()
    assert lines[1].startswith("no ledger reachable: planned from the diff alone")
    assert lines[2].startswith("!! this PR publishes a draft")


def test_markdown_is_a_pr_comment(tmp_path: Path, fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    s = make_site(tmp_path, fakes, f"sqlite:///{tmp_path / 'none.db'}", monkeypatch)
    base_posts(s)
    head_changes(s)
    code, md = run_plan(s, "--diff", f"{s.base}..{s.head}", "--format", "markdown", monkeypatch=monkeypatch)
    assert code == 0, md
    lines = md.splitlines()
    assert lines[0] == "<!-- syndicate-plan -->"
    first_row = next(i for i, line in enumerate(lines) if line.startswith("| post |"))
    draft_alert = next(i for i, line in enumerate(lines) if "this PR publishes a draft" in line)
    over = next(i for i, line in enumerate(lines) if "over mastodon's limit" in line)
    assert draft_alert < over < first_row  # the warnings stand above the table
    assert "_no ledger reachable: planned from the diff alone" in md
    assert re.search(r"\| `content/posts/new.md` \| x \| \*\*create\*\* \|.*\| \$0\.\d+ \|", md)
    assert "<details><summary>mastodon: Brand new (create)</summary>" in md
    assert re.search(r"\d+ create, \d+ update, \d+ delete, 0 held, \d+ skip; cost \$", md)


def test_three_dots_plan_from_the_merge_base(tmp_path: Path, fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    s = make_site(tmp_path, fakes, f"sqlite:///{tmp_path / 'none.db'}", monkeypatch)
    base_posts(s)
    git(s.repo, "checkout", "-q", "-b", "feature")
    write(s.site, "feature.md", "title: From the branch\ndate: 2024-03-01")
    commit(s.repo, "feature")
    git(s.repo, "checkout", "-q", "main")
    write(s.site, "main-only.md", "title: Only on main\ndate: 2024-03-02")
    commit(s.repo, "main moved on")
    code, out = run_plan(s, "--diff", "main...feature", "--format", "json", monkeypatch=monkeypatch)
    assert code == 0, out
    paths = {e["path"] for e in json.loads(out)["entries"]}
    assert paths == {"content/posts/feature.md"}
    code, out = run_plan(s, "--diff", "main..feature", "--format", "json", monkeypatch=monkeypatch)
    assert {e["path"] for e in json.loads(out)["entries"]} == {"content/posts/feature.md", "content/posts/main-only.md"}
    code, out = run_plan(s, "--diff", f"{s.base}..{s.base}", monkeypatch=monkeypatch)
    assert code == 0 and "nothing would be sent" in out


@pytest.mark.parametrize("spec, said", [
    ("nope..HEAD", "unknown ref 'nope'"),
    ("HEAD", "give a range, BASE..HEAD"),
    ("HEAD..--output=x", "not a git ref"),
])
def test_bad_ranges_exit_2(tmp_path: Path, fakes, monkeypatch: pytest.MonkeyPatch, spec: str, said: str) -> None:
    s = make_site(tmp_path, fakes, f"sqlite:///{tmp_path / 'none.db'}", monkeypatch)
    base_posts(s)
    result = CliRunner().invoke(app, ["plan", "--diff", spec], catch_exceptions=False)
    assert result.exit_code == 2 and said in result.output and "Traceback" not in result.output


def test_not_a_git_repository_and_a_bad_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "plain"
    (site / "content" / "posts").mkdir(parents=True)
    (site / "syndicate.toml").write_text('[site]\nurl = "https://blog.example"\ncontent = ["content/posts/*.md"]\n'
                                         f'[state]\nurl = "sqlite:///{tmp_path / "s.db"}"\n', encoding="utf-8")
    monkeypatch.delenv("SYNDICATE_CONFIG", raising=False)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    monkeypatch.chdir(site)
    result = CliRunner().invoke(app, ["plan", "--diff", "a..b"], catch_exceptions=False)
    assert result.exit_code == 2 and "not inside a git repository" in result.output
    result = CliRunner().invoke(app, ["plan", "--diff", "a..b", "--format", "yaml"], catch_exceptions=False)
    assert result.exit_code == 2 and "one of text, markdown, json" in result.output


# --- the README's workflow -----------------------------------------------------------------------------


def test_readme_workflow_parses_and_updates_one_comment() -> None:
    import yaml

    text = README.read_text(encoding="utf-8")
    section = text.split("## Plan on pull requests", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None
    flow = yaml.safe_load(block.group(1))
    on = flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in on
    job = next(iter(flow["jobs"].values()))
    steps = job["steps"]
    checkout = next(s for s in steps if str(s.get("uses", "")).startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    runs = "\n".join(str(s.get("run", "")) + json.dumps(s.get("with", {})) for s in steps)
    plan = next(str(s["run"]) for s in steps if "syndicate plan" in str(s.get("run", "")))
    assert "--diff" in plan and "--format markdown" in plan and "...${{ github.event.pull_request.head.sha }}" in plan
    assert "<!-- syndicate-plan -->" in runs  # the same comment is found and updated
    assert job.get("permissions", flow.get("permissions", {})).get("pull-requests") == "write"


def test_a_long_plan_still_fits_one_comment(tmp_path: Path, fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    s = make_site(tmp_path, fakes, f"sqlite:///{tmp_path / 'none.db'}", monkeypatch)
    base_posts(s)
    for i in range(60):
        write(s.site, f"many-{i:02}.md", f"title: Post number {i}\ndate: 2024-04-01\ndescription: \"{LONG}\"")
    s.head = commit(s.repo, "sixty posts")
    code, md = run_plan(s, "--diff", f"{s.base}..{s.head}", "--format", "markdown", monkeypatch=monkeypatch)
    assert code == 0
    from syndicate.triggers.diffplan.render import COMMENT_MAX

    assert len(md) <= COMMENT_MAX and md.startswith("<!-- syndicate-plan -->")
    assert md.count("**create**") == 180 and "fitted texts are left out" in md
    top = md.split("| post |")[0]
    assert top.count("✂️") == 10 and "… and 110 more of these (over limit" in top  # 120 cuts: 10 shown


def test_site_at_the_top_of_the_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The site is the whole repository: an unpublished post is deleted, a broken one is said at the top."""
    repo = tmp_path / "blog"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "syndicate.toml").write_text(f"""
[site]
url = "https://blog.example"
content = ["content/posts/**/*.md"]
permalink = "/:slug/"

[state]
url = "sqlite:///{tmp_path / 'elsewhere' / 'state.db'}"

[targets.mastodon]
base_url = "http://127.0.0.1:{closed_port()}"
access_token = "${{MASTODON_ACCESS_TOKEN}}"
""", encoding="utf-8")
    monkeypatch.delenv("SYNDICATE_CONFIG", raising=False)
    monkeypatch.delenv("MASTODON_ACCESS_TOKEN", raising=False)
    monkeypatch.chdir(repo)
    write(repo, "shown.md", "title: Shown at first\ndate: 2024-01-01")
    write(repo, "fine.md", "title: Fine\ndate: 2024-01-02")
    base = commit(repo, "base")
    write(repo, "shown.md", "title: Shown at first\ndate: 2024-01-01\ndraft: true")
    write(repo, "broken.md", "date: 2024-01-03")  # no title
    write(repo, "fine.md", "title: Fine\ndate: 2024-01-02\ntags: [a]", "Edited 'text' with `code`.\n")
    head = commit(repo, "head")
    watch = Connections(monkeypatch)
    result = CliRunner().invoke(app, ["plan", "--diff", f"{base}..{head}", "--format", "json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert watch.others(None) == []
    report = json.loads(result.output)
    assert by(report, "content/posts/shown.md", "mastodon")["action"] == "delete"  # made a draft again
    assert by(report, "content/posts/fine.md", "mastodon")["action"] == "update"
    assert report["errors"] and report["errors"][0]["path"] == "content/posts/broken.md"
    assert [a["kind"] for a in report["alerts"]] == ["unreadable"]
    assert "no title" in report["alerts"][0]["message"]
    assert str(repo) not in result.output and "syndicate-plan-" not in result.output  # no temporary path
    assert not (tmp_path / "elsewhere").exists()


def test_readme_workflow_is_a_valid_github_workflow() -> None:
    """Against the GitHub workflow schema that check-jsonschema ships (SchemaStore's)."""
    from importlib.resources import files

    import jsonschema
    import yaml

    schema = json.loads((files("check_jsonschema.builtin_schemas") / "vendor" / "github-workflows.json")
                        .read_text(encoding="utf-8"))
    block = re.search(r"```yaml\n(.*?)```", README.read_text(encoding="utf-8").split("## Plan on pull requests")[1],
                      re.S)
    assert block is not None
    flow = yaml.safe_load(block.group(1))
    if True in flow:  # YAML 1.1's bare `on`: the schema reads the key as GitHub does
        flow["on"] = flow.pop(True)
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(flow), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    broken = {**flow, "jobs": {"plan": {"steps": flow["jobs"]["plan"]["steps"]}}}  # no runs-on: refused
    assert list(validator.iter_errors(broken))


@pytest.mark.parametrize("mass", [False, True])
def test_the_plan_is_what_the_watcher_then_does(tmp_path: Path, fakes, monkeypatch: pytest.MonkeyPatch,
                                                mass: bool) -> None:
    """The plan of BASE..HEAD against the watcher's own reconcile of the same change (the webhook's sync
    runs the same reconcile): deletions, a file moved as it is, the mass-change guard."""
    s = make_site(tmp_path, fakes, f"sqlite:///{tmp_path / 'state.db'}", monkeypatch, with_x=False,
                  max_deletes=1 if mass else 5)
    base_posts(s)
    monkeypatch.setenv("DEVTO_API_KEY", "devto-test-key")
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", "mastodon-test-token")
    first = CliRunner().invoke(app, ["watch", "--once", "--backfill", "--json"], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    head_changes(s)
    code, out = run_plan(s, "--diff", f"{s.base}..{s.head}", "--format", "json", monkeypatch=monkeypatch)
    assert code == 0, out
    planned = {(e["path"], e["target"]): e["action"] for e in json.loads(out)["entries"]}
    # the webhook's own watcher: a deletion in a commit is deliberate, no grace period (gitsync.Syncer)
    from syndicate.registry import load_config
    from syndicate.triggers.watch import Watcher

    config = load_config(s.repo / "syndicate.toml", strict=True)
    config = dataclasses.replace(config, watch=config.watch.model_copy(update={"delete_grace": 0.0}))
    watcher = Watcher(config, echo=lambda line: None)
    watcher.reconcile()
    done: dict[tuple[str, str], str] = {}
    for r in watcher.results:
        if r["action"] == "delete" and r["status"] == "held":
            continue
        done[(r["path"], r["target"])] = r["action"]
    if mass:  # held: the watcher sends nothing for them, and says so
        held = {key for key, action in planned.items() if action == "held"}
        assert len(held) == 4 and not held & set(done)  # gone.md and renamed-url.md × 2 targets
        planned = {k: v for k, v in planned.items() if v != "held"}
    differ = {key: (action, done.get(key)) for key, action in planned.items() if done.get(key, "skip") != action}
    assert planned and not differ, differ
    assert {a for a in planned.values()} >= ({"create", "update", "skip"} | (set() if mass else {"delete"}))


def test_a_post_taking_another_posts_url_is_planned_for_neither(tmp_path: Path, fakes,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14.11 in the plan of a PR: a new post on the URL of a post already there is never sent, and
    the plan says so naming both files, as push and the watcher do; the other changes are planned."""
    s = make_site(tmp_path, fakes, f"sqlite:///{tmp_path / 'none.db'}", monkeypatch, with_x=False)
    base_posts(s)
    write(s.site, "taker.md", "title: Takes the kept post's URL\ndate: 2024-02-01\nslug: kept")
    write(s.site, "fresh.md", "title: Fresh\ndate: 2024-02-02")
    head = commit(s.repo, "head")
    code, out = run_plan(s, "--diff", f"{s.base}..{head}", "--format", "json", monkeypatch=monkeypatch)
    assert code == 0, out
    report = json.loads(out)
    assert not [e for e in report["entries"] if e["path"] == "content/posts/taker.md"]
    assert by(report, "content/posts/fresh.md", "devto")["action"] == "create"
    (error,) = report["errors"]
    assert error["path"] == "content/posts/taker.md"
    assert "kept.md" in error["error"] and "same URL https://blog.example/posts/kept/" in error["error"]
    (alert,) = report["alerts"]
    assert alert["kind"] == "shared_url" and "neither is sent" in alert["message"] and "kept.md" in alert["message"]
