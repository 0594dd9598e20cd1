"""Every site its own ledger (issue 13.1): own data folder, own rows, and no silent sharing.

Two read-only sites (chmod a-w; `syndicate.config.writable` honours it for root
too) each push `content/posts/hello.md` to the dev.to fake, on SQLite and on
PostgreSQL. Before this, both landed in one `~/.local/state/syndicate` ledger
under one post id, and the second site's push was a `PUT` over the first
site's article.
"""
from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from syndicate.cli import app
from syndicate.config import site_key
from syndicate.config.sitedata import site_folder
from syndicate.errors import ConfigError
from syndicate.registry import load_config
from syndicate.state.ledger import FileRow, Ledger, SiteConflict, make_engine, open_ledger, utcnow
from syndicate.state.ledger.migrate import alembic_config
from syndicate.state.ledger.syncs import Deliveries, Syncs
from tests.fakes.devto import FakeDevTo

KEY = "devto-test-key"


@pytest.fixture
def devto() -> Iterator[FakeDevTo]:
    with FakeDevTo() as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A state home and a home folder of the test's own; returns the state home."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DEVTO_API_KEY", KEY)
    for name in ("SYNDICATE_CONFIG", "SYNDICATE_DATA", "SYNDICATE_STATE_URL", "SYNDICATE_BROKER_URL",
                 "SYNDICATE_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "state"


def read_only_site(root: Path, url: str, title: str, devto: FakeDevTo, state: str = "") -> Path:
    """A site with `content/posts/hello.md`, its folders made read-only; returns its config."""
    (root / "content" / "posts").mkdir(parents=True)
    (root / "content" / "posts" / "hello.md").write_text(
        f"---\ntitle: {title}\ndate: 2024-03-01\n---\n\nHello from {url}.\n", encoding="utf-8")
    config = root / "syndicate.toml"
    config.write_text(
        f'[site]\nurl = "{url}"\ncontent = ["content/posts/**/*.md"]\npermalink = "/posts/:slug/"\n\n'
        f"{state}\n[targets.devto]\napi_key = \"${{DEVTO_API_KEY}}\"\nbase_url = \"{devto.url}\"\n",
        encoding="utf-8")
    for folder in (root, root / "content", root / "content" / "posts"):
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    return config


@pytest.fixture
def sites(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    for folder in tmp_path.rglob("*"):  # writable again, so that the tmp folder can be removed
        if folder.is_dir():
            folder.chmod(0o755)


def push(config: Path, *args: str) -> tuple[int, str]:
    post = config.parent / "content" / "posts" / "hello.md"
    result = CliRunner().invoke(app, ["push", str(post), "--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.output


def writes(devto: FakeDevTo) -> list[str]:
    return [f"{r.method} {r.path}" for r in devto.requests if r.method in ("POST", "PUT", "DELETE")]


def test_two_read_only_sites_keep_their_own_data_folders_and_articles(sites: Path, env: Path,
                                                                      devto: FakeDevTo) -> None:
    a = read_only_site(sites / "a", "https://a.example", "Hello from A", devto)
    b = read_only_site(sites / "b", "https://b.example/blog", "Hello from B", devto)
    assert push(a)[0] == 0
    code, output = push(b)
    assert code == 0, output
    assert writes(devto) == ["POST /api/articles", "POST /api/articles"]  # no PUT of B's post over A's
    assert sorted(x["title"] for x in devto.articles.values()) == ["Hello from A", "Hello from B"]
    folders = sorted(p.name for p in (env / "syndicate").iterdir())
    assert folders == sorted([site_folder("a.example"), site_folder("b.example/blog")])
    assert folders[0].startswith("a.example-") and folders[1].startswith("b.example-blog-")
    assert not (sites / "a" / ".syndicate").exists() and not (sites / "home").exists()
    assert push(a)[0] == 0 and push(b)[0] == 0  # each site: its own copy, unchanged
    assert len(writes(devto)) == 2


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_read_only_sites_on_one_ledger_are_refused_unless_both_share_it(
        sites: Path, env: Path, devto: FakeDevTo, backend: str, request: pytest.FixtureRequest) -> None:
    url = f"sqlite:///{sites / 'one.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    state = f'[state]\nurl = "{url}"\n'
    a = read_only_site(sites / "a", "https://a.example", "Hello from A", devto, state)
    b = read_only_site(sites / "b", "https://b.example", "Hello from B", devto, state)
    assert push(a)[0] == 0
    code, output = push(b)
    assert code == 2
    said = " ".join(output.split())
    for part in (str(b), "site a.example", "for site b.example", "shared = true", "[state]"):
        assert part in said, (part, said)
    shown = url.replace("postgres:postgres@", "postgres:***@")
    assert shown in said and "postgres:postgres@" not in said
    assert writes(devto) == ["POST /api/articles"]  # B sent nothing
    for config in (a, b):
        config.parent.chmod(0o755)
        config.write_text(config.read_text(encoding="utf-8").replace("[state]\n", "[state]\nshared = true\n"),
                          encoding="utf-8")
    hello = str(b.parent / "content" / "posts" / "hello.md")
    shown = CliRunner().invoke(app, ["preview", hello, "--json", "--config", str(b)], catch_exceptions=False)
    assert '"action": "create"' in shown.output  # a preview reads B's rows only (SQLite: the read-only peek)
    code, output = push(b)
    assert code == 0, output
    assert writes(devto) == ["POST /api/articles", "POST /api/articles"]
    assert sorted(x["title"] for x in devto.articles.values()) == ["Hello from A", "Hello from B"]
    assert push(a)[0] == 0 and len(writes(devto)) == 2  # A's row is still A's: unchanged
    status = CliRunner().invoke(app, ["status", "--json", "--config", str(b)], catch_exceptions=False)
    assert status.exit_code == 0 and '"Hello from B"' not in status.output  # (titles are not in status)
    assert status.output.count('"target": "devto"') == 1  # B sees only its own row


# --- the ledger: every query confined to one site -------------------------------------------


def test_shared_sites_see_only_their_own_rows_parts_files_and_syncs(ledger_url: str) -> None:
    a = Ledger(ledger_url, site="a.example", shared=True)
    b = Ledger(ledger_url, site="b.example", shared=True)
    now = utcnow()
    for led, remote in ((a, "1"), (b, "2")):
        led.ensure("p_same", "devto", "content/posts/hello.md")
        led.record_published("p_same", "devto", remote, f"https://dev.to/{remote}", {}, "h", first=True)
        led.record_part("p_same", "devto", 0, revision=1, idem_key="k", state="published", remote_id=remote)
        led.put_files([FileRow("content/posts/hello.md", int(remote), 1, 1, remote * 64, post_id="p_same")])
        led.ensure("p_later", "devto", "later.md")
        led.defer("p_later", "devto", now, "not due")
    assert [(r.post_id, r.remote_id) for r in a.all()] == [("p_same", "1"), ("p_later", None)]
    assert a.get("p_same", "devto").remote_id == "1"  # type: ignore[union-attr]
    assert [p.remote_id for p in b.parts("p_same", "devto")] == ["2"]
    assert a.files()["content/posts/hello.md"].size == 1 and b.files()["content/posts/hello.md"].size == 2
    assert [r.post_id for r in a.due(now)] == ["p_later"] and len(b.due(now)) == 1
    assert sorted(a.counts()) == [("devto", "deferred", 1), ("devto", "published", 1)]
    b.delete_files(["content/posts/hello.md"])
    b.mark_deleted("p_same", "devto", "file deleted")
    assert a.files() and a.get("p_same", "devto").state == "published"  # type: ignore[union-attr]
    assert a.parts("p_same", "devto") and not b.parts("p_same", "devto")
    assert Deliveries(a).remember("d1", "github", "refs/heads/main", "0" * 40, "c1") == "new"
    assert Deliveries(b).remember("d2", "github", "refs/heads/main", "0" * 40, "c1") == "new"  # not "same commit"
    assert Syncs(a).request("repo") == 0 and Syncs(b).request("repo") == 0
    assert Syncs(a).get("repo").requested == 1 and Syncs(b).acquire("repo", "w", 60) is not None  # type: ignore[union-attr]
    a.dispose()
    b.dispose()


def test_a_ledger_of_another_site_is_refused_with_what_to_set(ledger_url: str) -> None:
    Ledger(ledger_url, site="a.example").dispose()
    with pytest.raises(SiteConflict) as caught:
        Ledger(ledger_url, site="b.example")
    message = str(caught.value)
    assert "site a.example" in message and "for site b.example" in message and "shared = true" in message
    assert 'site = "a.example"' in message  # the same site at a new address keeps its rows
    assert isinstance(caught.value, ConfigError)
    Ledger(ledger_url, site="b.example", shared=True).dispose()  # b shares: it may join
    with pytest.raises(SiteConflict, match="b.example"):  # a, which does not, now refuses in turn
        Ledger(ledger_url, site="a.example")
    Ledger(ledger_url, site="a.example", shared=True).dispose()


def test_two_sites_joining_a_new_ledger_at_once_are_never_both_let_in(ledger_url: str) -> None:
    Ledger(ledger_url, site="setup", shared=True).dispose()  # the schema first: this race is the join's
    engine = make_engine(ledger_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM sites"))
    engine.dispose()
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def open_as(site: str) -> None:
        barrier.wait(timeout=30)
        try:
            Ledger(ledger_url, site=site).dispose()
            outcomes[site] = "in"
        except SiteConflict:
            outcomes[site] = "refused"

    threads = [threading.Thread(target=open_as, args=(s,)) for s in ("a.example", "b.example")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes.values()) == ["in", "refused"]


def test_a_ledger_from_before_sites_belongs_to_the_site_that_opens_it(ledger_url: str) -> None:
    from alembic import command

    engine = make_engine(ledger_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0003")
        conn.execute(sa.text(
            "INSERT INTO syndication (post_id, target, state, revision, attempts, remote_id, created_at, updated_at) "
            "VALUES ('p1', 'devto', 'published', 1, 1, '1001', :now, :now)"), {"now": utcnow()})
        conn.execute(sa.text("INSERT INTO files (path, size, mtime_ns, inode, sha256, post_id, seen_at) "
                             "VALUES ('a.md', 1, 1, 1, :h, 'p1', :now)"), {"h": "a" * 64, "now": utcnow()})
    led = Ledger(ledger_url, site="a.example", engine=engine)
    row = led.get("p1", "devto")
    assert row is not None and (row.remote_id, row.site) == ("1001", "a.example") and list(led.files()) == ["a.md"]
    with pytest.raises(SiteConflict, match="a.example"):
        Ledger(ledger_url, site="b.example")
    engine.dispose()


# --- the data folder --------------------------------------------------------------------------


def config_at(root: Path, url: str, extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "syndicate.toml"
    path.write_text(f'[site]\nurl = "{url}"\n{extra}', encoding="utf-8")
    return path


def test_the_default_data_folder_is_named_after_the_site(tmp_path: Path) -> None:
    env = {"XDG_STATE_HOME": str(tmp_path / "state")}
    ro = lambda folder: False  # noqa: E731  (no folder beside a config is writable)
    a = load_config(config_at(tmp_path / "a", "https://Blog.Example.org/"), env=env, is_writable=ro)
    b = load_config(config_at(tmp_path / "b", "http://blog.example.org:8080/en/"), env=env, is_writable=ro)
    assert (a.site_id, b.site_id) == ("blog.example.org", "blog.example.org:8080/en")
    assert a.data_dir.parent == b.data_dir.parent == tmp_path / "state" / "syndicate"
    assert a.data_dir.name.startswith("blog.example.org-") and b.data_dir.name.startswith("blog.example.org-8080-en-")
    assert a.state_url != b.state_url and a.media.cache_dir != b.media.cache_dir
    assert site_key("https://blog.example.org") == site_key("http://blog.example.org/")  # https moves keep rows
    named = load_config(config_at(tmp_path / "c", "https://new.example", '[state]\nsite = "blog.example.org"\n'),
                        env=env, is_writable=ro)
    assert named.site_id == "blog.example.org" and named.data_dir == a.data_dir


def test_the_one_folder_an_older_version_used_stays_with_its_first_site(tmp_path: Path) -> None:
    from alembic import command

    env = {"XDG_STATE_HOME": str(tmp_path / "state")}
    ro = lambda folder: False  # noqa: E731
    legacy = tmp_path / "state" / "syndicate"
    legacy.mkdir(parents=True)
    engine = make_engine(f"sqlite:///{legacy / 'state.db'}")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0003")
    engine.dispose()
    a = load_config(config_at(tmp_path / "a", "https://a.example"), env=env, is_writable=ro)
    assert a.data_dir == legacy  # unclaimed: its rows may be a.example's, so a new empty one would resend them
    open_ledger(a).dispose()
    b = load_config(config_at(tmp_path / "b", "https://b.example"), env=env, is_writable=ro)
    assert b.data_dir == legacy / site_folder("b.example")
    assert load_config(a.path, env=env, is_writable=ro).data_dir == legacy  # type: ignore[arg-type]


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_a_folder_without_write_bits_is_read_only_even_for_root(tmp_path: Path) -> None:
    from syndicate.config import writable

    folder = tmp_path / "site"
    folder.mkdir()
    assert writable(folder)
    folder.chmod(0o555)
    try:
        assert not writable(folder)
    finally:
        folder.chmod(0o755)


def test_two_sites_of_one_repository_each_take_the_same_push(tmp_path: Path, redis_url: str) -> None:
    import asyncio
    import uuid

    from syndicate.triggers.webhook.app import Service
    from tests.test_webhook import ENV, Repo, write_config

    repo = Repo(tmp_path / "git")
    repo.write("content/posts/a.md", "---\ntitle: A\n---\n\nA.\n")
    repo.commit("one")
    repo.push()
    services = []
    for name in ("a", "b"):
        path = write_config(tmp_path / name, repo.bare)
        path.write_text(path.read_text(encoding="utf-8").replace("https://blog.example", f"https://{name}.example")
                        .replace("[webhook]", f'[queue]\nredis = "{redis_url}"\n\n[webhook]'), encoding="utf-8")
        services.append(Service(load_config(path, env={**os.environ, **ENV}), start_thread=False))
    commit = uuid.uuid4().hex + "0" * 8  # a commit no earlier run remembered

    async def deliver() -> list[str]:
        got = [await s.replays.remember(f"d{i}-{commit}", "github", "refs/heads/main", "0" * 40, commit)
               for i, s in enumerate(services)]
        for s in services:
            await s.replays.aclose()
        return got

    assert asyncio.run(deliver()) == ["new", "new"]  # not "same commit": each site syncs it
    for s in services:
        s.ledger.dispose()
