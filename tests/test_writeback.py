"""`[site] write_back` (issue 16): the copies' URLs written into the post's front matter, nothing else touched.

The editor is checked byte for byte over YAML (comments, odd quoting, anchors),
TOML and JSON front matter, and by Hypothesis over generated front matter; the
merge keeps hand-written URLs and drops a gone copy's; a second write is no
write at all (not even mtime); the change-detection hash ignores the key and
still sees a body edit. A push in-process against the dev.to and Mastodon fakes
writes the links, never into a draft, and a site it cannot write into gives a
warning in `status` while the copies stay published and recorded.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.content.fmedit import WriteBackError, edit, masked_digest, merged
from syndicate.content.fmedit.common import Text
from syndicate.content.frontmatter import split
from syndicate.state.ledger import Ledger
from tests.fakes.devto import FakeDevTo
from tests.fakes.mastodon import FakeMastodon

ROOT = Path(__file__).resolve().parents[1]
ENV = {"DEVTO_API_KEY": "devto-test-key", "MASTODON_ACCESS_TOKEN": "mastodon-test-token"}
A, B, C = "https://dev.to/me/hello-1", "https://social.example/@me/1", "https://news.example/item?id=3&x=1"


def fm_of(text: str) -> dict[str, object]:
    return split(text, Path("post.md"))[0]


# --- the editor: byte for byte ---------------------------------------------------------------------------

YAML_POST = """---
# the title keeps its odd quoting
title: 'It''s "quoted": yes'   # a trailing comment
date: 2024-03-01T10:00:00+01:00
defaults: &defaults
  layout: post
  comments: true
page: *defaults
tags: [a, "b c"]
description: >-
  folded
  text
---

Body with --- inside.
"""


def test_yaml_gets_the_key_appended_and_everything_else_stays() -> None:
    out = edit(YAML_POST, "syndication", [A, B])
    assert out == YAML_POST.replace(
        "  text\n---", f"  text\nsyndication:\n  - {A}\n  - {B}\n---")
    assert fm_of(out)["syndication"] == [A, B]
    assert edit(out, "syndication", [A, B]) == out  # the same list again: the same text
    assert edit(out, "syndication", []) == YAML_POST  # taken out again: the file as it was


def test_yaml_keeps_hand_written_items_their_quotes_and_comments() -> None:
    text = ("---\ntitle: Hello\nsyndication:\n    # written by hand\n    - 'https://elsewhere.example/x'  # mine\n"
            f"    - \"{A}\"\n# about the next key\ndraft: false\n---\nbody\n")
    out = edit(text, "syndication", ["https://elsewhere.example/x", A, B])
    assert out == text.replace(f'    - "{A}"\n', f'    - "{A}"\n    - {B}\n')
    # a gone copy's item is taken out, its neighbours' lines untouched
    out2 = edit(out, "syndication", ["https://elsewhere.example/x", B])
    assert out2 == text.replace(f'    - "{A}"\n', f"    - {B}\n")
    assert "# about the next key\ndraft: false" in out2


def test_yaml_scalar_or_flow_value_becomes_a_list_and_odd_urls_are_quoted() -> None:
    text = f"---\ntitle: x\nsyndication: {A}\nz: 1\n---\n"
    odd = "https://x.example/a: b#c"
    out = edit(text, "syndication", [A, odd])
    assert out == f"---\ntitle: x\nsyndication:\n  - {A}\n  - \"{odd}\"\nz: 1\n---\n"
    assert fm_of(out)["syndication"] == [A, odd]
    text = f"---\ntitle: x\nSyndication: [{A}]  # flow\n---\n"
    assert edit(text, "syndication", [A, B]) == f"---\ntitle: x\nSyndication:\n  - {A}\n  - {B}\n---\n"


def test_yaml_refuses_what_it_cannot_edit_safely() -> None:
    anchored = f"---\nsyndication: &s\n  - {A}\nmirror: *s\n---\n"
    with pytest.raises(WriteBackError, match="would change more than `syndication`"):  # the alias would change
        edit(anchored, "syndication", [A, B])
    with pytest.raises(WriteBackError, match="block mapping"):
        edit("---\n{title: x}\n---\n", "syndication", [A])


TOML_POST = """+++
title = "Hello" # a comment
tags = [
  "a", # one
  "b",
]
date = 2024-03-01T10:00:00Z

# the params table
[params]
syndication = ["not this one"]
+++
Body.
"""


def test_toml_goes_before_the_first_table_and_its_comment() -> None:
    out = edit(TOML_POST, "syndication", [A, B])
    assert out == TOML_POST.replace(
        "\n# the params table", f'syndication = ["{A}", "{B}"]\n\n# the params table')
    fm = fm_of(out)
    assert fm["syndication"] == [A, B] and fm["params"] == {"syndication": ["not this one"]}
    assert edit(out, "syndication", [A, B]) == out
    assert edit(out, "syndication", []) == TOML_POST
    multi = f'+++\ntitle = "x"\nsyndication = [\n  "{A}",\n]\n+++\n'
    assert edit(multi, "syndication", [A, B]) == f'+++\ntitle = "x"\nsyndication = [\n  "{A}",\n  "{B}",\n]\n+++\n'
    assert edit('+++\n+++\nbody\n', "syndication", [A]) == f'+++\nsyndication = ["{A}"]\n+++\nbody\n'


def test_zola_keeps_it_in_the_extra_table() -> None:
    zola = ('+++\ntitle = "x"\n\n[taxonomies]\ntags = ["a"]\n\n# extra things\n[extra]\nimage = "x.png"\n\n'
            '# more\n[other]\nk = 1\n+++\nbody\n')
    out = edit(zola, "extra.syndication", [A, B])
    assert out == zola.replace('image = "x.png"\n', f'image = "x.png"\nsyndication = ["{A}", "{B}"]\n')
    assert edit(out, "extra.syndication", []) == zola
    bare = '+++\ntitle = "x"\n+++\nbody\n'
    made = edit(bare, "extra.syndication", [A])
    assert made == f'+++\ntitle = "x"\n\n[extra]\nsyndication = ["{A}"]\n+++\nbody\n'
    assert masked_digest(made.encode(), "extra.syndication") == masked_digest(bare.encode(), "extra.syndication")
    with pytest.raises(WriteBackError, match="TOML front matter only"):
        edit("---\ntitle: x\n---\n", "extra.syndication", [A])


def test_json_front_matter_pretty_and_on_one_line() -> None:
    pretty = '{\n  "title": "Hello",\n  "tags": ["a", "b"]\n}\nBody.\n'
    out = edit(pretty, "syndication", [A, B])
    assert out == ('{\n  "title": "Hello",\n  "tags": ["a", "b"],\n  "syndication": [\n    "' + A + '",\n    "'
                   + B + '"\n  ]\n}\nBody.\n')
    assert edit(out, "syndication", [A, B]) == out
    assert edit(out, "syndication", []) == pretty
    line = f'{{\n"title": "x", "syndication": ["{A}"], "z": {{"k": [1, 2]}}\n}}\nBody.\n'
    assert edit(line, "syndication", [A, C]) == line.replace(f'["{A}"]', f'["{A}", "{C}"]')
    assert edit(line, "syndication", []) == '{\n"title": "x", "z": {"k": [1, 2]}\n}\nBody.\n'


def test_bom_and_crlf_survive() -> None:
    data = ("\ufeff" + "---\r\ntitle: x\r\n---\r\nbody\r\n").encode("utf-8")
    text = Text.decode(data, "post.md")
    out = text.encode(edit(text.text, "syndication", [A]))
    assert out == ("\ufeff" + f"---\r\ntitle: x\r\nsyndication:\r\n  - {A}\r\n---\r\nbody\r\n").encode("utf-8")


def test_the_loader_reads_the_same_post_after_the_write_back(tmp_path: Path) -> None:
    from syndicate.config import SiteConfig
    from syndicate.content.loader import load_post

    site = SiteConfig(url="https://blog.example", root=tmp_path, content=["*.md"])
    json_post = '{\n  "title": "J",\n  "date": "2024-03-01",\n  "tags": ["x"]\n}\nBody.\n'
    for name, text in (("y.md", YAML_POST), ("t.md", TOML_POST), ("j.md", json_post)):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        a = load_post(path, site)
        path.write_text(edit(text, "syndication", [A, B]), encoding="utf-8")
        b = load_post(path, site)
        assert (a.id, a.url, a.title, a.date, a.tags, a.summary, a.body) == \
            (b.id, b.url, b.title, b.date, b.tags, b.summary, b.body), name
        assert b.front_matter["syndication"] == [A, B]


# --- Hypothesis: any front matter, any list -----------------------------------------------------------

_keys = st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True).filter(lambda k: k not in ("syndication",))
_scalars = st.one_of(st.integers(-1000, 1000), st.booleans(), st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20))
_values = st.one_of(_scalars, st.lists(_scalars, max_size=3))
_urls = st.lists(st.from_regex(r"https://[a-z]{1,8}\.example/[a-zA-Z0-9_~?=&:#%-]{0,16}", fullmatch=True),
                 max_size=4, unique=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fm=st.dictionaries(_keys, _values, min_size=1, max_size=6), urls=_urls, before=_urls,
       kind=st.sampled_from(["yaml", "toml", "json"]), body=st.text(max_size=40))
def test_any_front_matter_round_trips(fm: dict[str, object], urls: list[str], before: list[str], kind: str,
                                      body: str) -> None:
    body = body.replace("\r", "")
    start = dict(fm, syndication=before) if before else dict(fm)
    if kind == "yaml":
        text = "---\n" + yaml.safe_dump(start, allow_unicode=True, sort_keys=False) + "---\n" + body
    elif kind == "json":
        text = json.dumps(start, indent=2, ensure_ascii=False) + "\n" + body
    else:
        text = "+++\n" + "".join(f"{k} = {json.dumps(v, ensure_ascii=False)}\n" for k, v in start.items()) \
            + "+++\n" + body
    try:
        parsed, body0, _ = split(text, Path("p.md"))
    except Exception:
        return  # not a post the loader reads (a generated key clash, a body that looks like a delimiter)
    out = edit(text, "syndication", urls)
    got, body1, _ = split(out, Path("p.md"))
    assert got.get("syndication", []) == urls
    assert {k: v for k, v in got.items() if k != "syndication"} == {k: v for k, v in parsed.items()
                                                                     if k != "syndication"}
    assert body1 == body0
    assert edit(out, "syndication", urls) == out
    assert masked_digest(out.encode(), "syndication") == masked_digest(text.encode(), "syndication")


# --- the merge and the hash ----------------------------------------------------------------------------

def test_merge_keeps_hand_written_urls_and_order_and_drops_gone_copies() -> None:
    hand = "https://news.ycombinator.com/item?id=1"
    assert merged([hand], [A, B], []) == [hand, A, B]
    assert merged([B, hand, A], [A, B], [A, B]) == [B, hand, A]  # stable: nothing moves
    assert merged([hand, A, B], [B], [A, B]) == [hand, B]  # A's copy is gone
    assert merged([hand, A], [], [A]) == [hand]
    assert merged([A], [A], []) == [A]  # ours, already there by hand: kept once
    assert merged([hand, B], [A, B], [B]) == [hand, A, B]  # the later target's copy came first: config order
    assert merged([B, hand], [A, B, C], [B]) == [A, B, hand, C]


def test_the_hash_ignores_the_key_and_sees_a_body_edit() -> None:
    text = YAML_POST
    with_links = edit(text, "syndication", [A])
    assert masked_digest(text.encode(), "syndication") == masked_digest(with_links.encode(), "syndication")
    assert masked_digest(text.encode(), "syndication") != masked_digest(
        text.replace("Body with", "A body with").encode(), "syndication")
    assert masked_digest(text.encode(), "syndication") != masked_digest(
        text.replace("layout: post", "layout: page").encode(), "syndication")


# --- in-process push against the fakes -------------------------------------------------------------------

@pytest.fixture
def fakes() -> Iterator[tuple[FakeDevTo, FakeMastodon]]:
    with FakeDevTo() as devto, FakeMastodon() as masto:
        yield devto, masto  # type: ignore[misc]


def make_site(root: Path, devto: FakeDevTo, masto: FakeMastodon, *, site_extra: str = "") -> Path:
    (root / "content" / "posts").mkdir(parents=True, exist_ok=True)
    (root / "syndicate.toml").write_text(f"""
[site]
url = "https://blog.example"
content = ["content/posts/**/*.md"]
permalink = "/posts/:slug/"
write_back = true
{site_extra}

[state]
url = "sqlite:///{root / 'data' / 'state.db'}"

[queue]
rate_time_scale = 0.01

[targets.devto]
api_key = "${{DEVTO_API_KEY}}"
base_url = "{devto.url}"

[targets.mastodon]
base_url = "{masto.url}"
access_token = "${{MASTODON_ACCESS_TOKEN}}"
""", encoding="utf-8")
    return root


def cli(site: Path, *args: str) -> tuple[int, str]:
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT), "SYNDICATE_CONFIG": str(site / "syndicate.toml"),
           "COLUMNS": "400"}
    env.pop("SYNDICATE_BROKER_URL", None)
    done = subprocess.run([sys.executable, "-m", "syndicate.cli", *args], cwd=site, env=env,
                          capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


def copies(site: Path) -> dict[str, str]:
    """target -> the URL of its live copy, as the ledger has it."""
    ledger = Ledger(f"sqlite:///{site / 'data' / 'state.db'}", site="blog.example")
    try:
        return {r.target: r.remote_url for r in ledger.all() if r.state == "published" and r.remote_url}
    finally:
        ledger.dispose()


def test_push_writes_the_links_once_keeps_hand_urls_and_never_touches_a_draft(
        tmp_path: Path, fakes: tuple[FakeDevTo, FakeMastodon]) -> None:
    devto, masto = fakes
    site = make_site(tmp_path, devto, masto)
    hand = "https://news.example/item?id=7"
    post = site / "content/posts/hello.md"
    original = (f"---\ntitle: Hello\ndate: 2024-03-01\n# keep me\nsyndication:\n  - {hand}\n"
                "tags: [x]\n---\n\nA first paragraph.\n")
    post.write_text(original, encoding="utf-8")
    post.chmod(0o640)
    draft = site / "content/posts/draft.md"
    draft_text = "---\ntitle: Draft\ndate: 2024-03-01\ndraft: true\n---\nNot yet.\n"
    draft.write_text(draft_text, encoding="utf-8")

    code, out = cli(site, "push", "content/posts")
    assert code == 0, out
    assert len(devto.articles) == 1 and len(masto.live) == 1
    links = fm_of(post.read_text(encoding="utf-8"))["syndication"]
    urls = copies(site)
    assert links == [hand, urls["devto"], urls["mastodon"]]  # targets in config order, after the hand one
    assert post.read_text(encoding="utf-8").startswith("---\ntitle: Hello\ndate: 2024-03-01\n# keep me\n")
    assert post.stat().st_mode & 0o777 == 0o640
    assert draft.read_text(encoding="utf-8") == draft_text

    # again: nothing sent, the file not even touched
    before = post.stat()
    code, out = cli(site, "push", "content/posts")
    assert code == 0, out
    after = post.stat()
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)
    assert [r.method for r in devto.requests].count("PUT") == 0
    assert [r.method for r in masto.requests].count("PUT") == 0

    # an edit of the body still updates the copies, and keeps the list
    text = post.read_text(encoding="utf-8").replace("A first paragraph.", "An edited paragraph.")
    post.write_text(text, encoding="utf-8")
    code, out = cli(site, "push", "content/posts")
    assert code == 0, out
    assert [r.method for r in devto.requests].count("PUT") == 1
    assert fm_of(post.read_text(encoding="utf-8"))["syndication"] == links

    # the post turned draft: its copies go, and the draft is never written into
    drafted = text.replace("tags: [x]\n", "tags: [x]\ndraft: true\n")
    post.write_text(drafted, encoding="utf-8")
    code, out = cli(site, "push", "content/posts")
    assert code == 0, out
    assert not masto.live
    assert post.read_text(encoding="utf-8") == drafted
    # published again: a new Mastodon copy; the gone copy's URL is taken out, the hand one stays
    post.write_text(text, encoding="utf-8")
    code, out = cli(site, "push", "content/posts")
    assert code == 0, out
    assert len(masto.live) == 1
    now = fm_of(post.read_text(encoding="utf-8"))["syndication"]
    again = copies(site)
    assert again["mastodon"] != urls["mastodon"]
    assert now == [hand, again["devto"], again["mastodon"]], out  # config order among ours, the hand one first


def test_a_toml_post_gets_its_links_before_its_tables(tmp_path: Path, fakes: tuple[FakeDevTo, FakeMastodon]) -> None:
    devto, masto = fakes
    site = make_site(tmp_path, devto, masto)
    toml = site / "content/posts/hugo.md"
    toml_text = '+++\ntitle = "Hugo"\ndate = 2024-03-02\n\n[params]\nx = 1\n+++\nBody.\n'
    toml.write_text(toml_text, encoding="utf-8")
    code, out = cli(site, "push", "content/posts")
    assert code == 0, out
    text = toml.read_text(encoding="utf-8")
    urls = copies(site)
    assert text == toml_text.replace("\n\n[params]", f'\nsyndication = ["{urls["devto"]}", "{urls["mastodon"]}"]'
                                                     "\n\n[params]")


def test_a_site_it_cannot_write_is_a_warning_in_status_and_nothing_is_lost(
        tmp_path: Path, fakes: tuple[FakeDevTo, FakeMastodon]) -> None:
    devto, masto = fakes
    site = make_site(tmp_path, devto, masto)
    folder = site / "content/posts"
    post = folder / "hello.md"
    text = "---\ntitle: Hello\ndate: 2024-03-01\n---\n\nA first paragraph.\n"
    post.write_text(text, encoding="utf-8")
    locked = _lock(folder)
    try:
        code, out = cli(site, "push", "content/posts")
        assert code == 0, out
        assert len(devto.articles) == 1 and len(masto.live) == 1  # published, never lost
        assert post.read_text(encoding="utf-8") == text
        assert not [p for p in folder.iterdir() if p.name != "hello.md"]  # no temp file left behind
        code, out = cli(site, "status")
        assert "write-back" in out and "cannot write" in out and "hello.md" in out, out
        code, out = cli(site, "watch", "--once")  # the watcher: the copies are recorded, nothing sent twice
        assert code == 0, out
        assert post.read_text(encoding="utf-8") == text
        assert len([r for r in devto.requests if r.method == "POST"]) == 1
    finally:
        _unlock(folder, locked)
    code, out = cli(site, "watch", "--once")  # writable again: a full scan writes the links, the warning goes
    assert code == 0, out
    assert len(fm_of(post.read_text(encoding="utf-8"))["syndication"]) == 2  # type: ignore[arg-type]
    code, out = cli(site, "status")
    assert "cannot write" not in out, out


def _lock(folder: Path) -> str:
    """Make the folder unwritable: immutable for root (chattr), read-only mode otherwise."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return "mode"
    done = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip("running as root on a file system without chattr +i: no way to make a folder read-only")
    return "chattr"


def _unlock(folder: Path, how: str) -> None:
    if how == "mode":
        folder.chmod(0o755)
    else:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


# --- watch: the write-back is the watcher's own edit, never an update --------------------------------------

def test_watch_writes_the_links_and_takes_its_own_edit_for_no_change(
        tmp_path: Path, fakes: tuple[FakeDevTo, FakeMastodon]) -> None:
    from tests.test_watch import Proc, post_text, wait_for, write, writes
    from tests.test_watch import make_site as watch_site

    devto, masto = fakes
    site = watch_site(tmp_path, devto, masto, f"sqlite:///{tmp_path / 'state.db'}")
    config = site / "syndicate.toml"
    text = config.read_text(encoding="utf-8").replace("[site]\n", "[site]\nwrite_back = true\n", 1)
    config.write_text(text, encoding="utf-8")
    watcher = Proc(site)

    def why() -> str:  # what the watcher did and what its files row says, for a failure's message
        ledger = Ledger(f"sqlite:///{tmp_path / 'state.db'}", site="blog.example")
        try:
            row = ledger.files().get("content/posts/alpha.md")
        finally:
            ledger.dispose()
        st = alpha.stat() if alpha.exists() else None
        return (f"\nfiles row: {row}\nfile stat: {st and (st.st_size, st.st_mtime_ns, st.st_ino)}\n"
                f"devto PUTs {writes(devto, 'PUT')}, mastodon PUTs {writes(masto, 'PUT')}\nwatcher log:\n"
                + watcher.text()[-6000:])

    alpha = site / "content" / "posts" / "alpha.md"
    try:
        watcher.wait_line("watching")
        alpha = write(site, "alpha.md", post_text("Alpha"))

        def links() -> list[str]:
            return fm_of(alpha.read_text(encoding="utf-8")).get("syndication") or []  # type: ignore[return-value]

        try:
            wait_for("both links written", lambda: len(links()) == 2)
        except AssertionError as exc:
            (tmp_path / "why.txt").write_text(str(exc) + why(), encoding="utf-8")
            raise AssertionError(str(exc) + why()) from None
        assert len(devto.articles) == 1 and len(masto.live) == 1

        def seen() -> bool:  # the watcher's `files` row has the file as it is now: the edit was looked at
            st = alpha.stat()
            ledger = Ledger(f"sqlite:///{tmp_path / 'state.db'}", site="blog.example")
            try:
                row = ledger.files().get("content/posts/alpha.md")
            finally:
                ledger.dispose()
            return row is not None and (row.size, row.mtime_ns, row.inode) == (st.st_size, st.st_mtime_ns,
                                                                                 st.st_ino)

        try:
            wait_for("the watcher saw its own edit", seen)
        except AssertionError as exc:
            (tmp_path / "why.txt").write_text(str(exc) + why(), encoding="utf-8")
            raise AssertionError(str(exc) + why()) from None
        assert writes(devto, "PUT") == [] and writes(masto, "PUT") == []
        assert "saved content/posts/alpha.md" not in watcher.text()
        first = links()

        # the author edits the body: one update per copy, the list kept as it was
        alpha.write_text(alpha.read_text(encoding="utf-8").replace("A first paragraph.", "Edited."),
                         encoding="utf-8")
        wait_for("the edit sent", lambda: len(writes(devto, "PUT")) == 1 and len(writes(masto, "PUT")) == 1)
        try:
            wait_for("the edit looked at", seen)
        except AssertionError as exc:
            (tmp_path / "why.txt").write_text(str(exc) + why(), encoding="utf-8")
            raise AssertionError(str(exc) + why()) from None
        assert links() == first
        assert len(writes(devto, "PUT")) == 1 and len(writes(masto, "PUT")) == 1
    finally:
        assert watcher.stop() == 0


# --- webhook: a commit pushed back to the branch; its own push comes back and changes nothing -------------

def test_webhook_pushes_the_links_back_and_its_own_push_does_not_loop(
        tmp_path: Path, fakes: tuple[FakeDevTo, FakeMastodon]) -> None:
    from tests.test_watch import wait_for, writes
    from tests.test_webhook import Repo, Server, deliver, git, payload, post_text, write_config

    devto, masto = fakes
    repo = Repo(tmp_path / "git")
    repo.write("content/posts/old.md", post_text("Old"))
    repo.commit("the blog so far")
    repo.push()
    config = write_config(tmp_path / "site", repo.bare, devto=devto.url, masto=masto.url,
                          extra='write_back_message = "chore: syndication links"\n'
                                'write_back_author = "Syndication Bot <bot@blog.example>"')
    config.write_text(config.read_text(encoding="utf-8").replace("[site]\n", "[site]\nwrite_back = true\n", 1),
                      encoding="utf-8")
    server = Server(config)
    try:
        text = post_text("Hello", extra="# written by hand\nauthor: 'Me'\n")
        repo.write("content/posts/hello.md", text)
        repo.commit("a new post")
        before, after = repo.push()
        assert deliver(server, "github", payload("github", before, after)).status_code == 202
        wait_for(f"the write-back commit on the remote:\n{server.text()}", lambda: repo.head() != after)
        ours = repo.head()
        server.wait_synced(ours)
        assert server.health()["last_sync"]["error"] is None, server.text()

        # one commit on top of the push, by the configured author, with the message and the trailer
        assert git(repo.bare, "rev-parse", f"{ours}^") == after
        assert git(repo.bare, "log", "-1", "--format=%an <%ae>|%cn <%ce>", ours) == \
            "Syndication Bot <bot@blog.example>|Syndication Bot <bot@blog.example>"
        message = git(repo.bare, "log", "-1", "--format=%B", ours)
        assert message.startswith("chore: syndication links") and "Syndicate-Write-Back: yes" in message
        assert git(repo.bare, "diff", "--name-only", after, ours) == "content/posts/hello.md"
        pushed = git(repo.bare, "show", f"{ours}:content/posts/hello.md") + "\n"
        urls = copies_at(tmp_path / "site")
        assert pushed == text.replace("---\n\n", "syndication:\n" + "".join(
            f"  - {urls[t]}\n" for t in ("devto", "mastodon")) + "---\n\n", 1)
        assert len(writes(devto, "POST")) == 1 and len(writes(masto, "POST")) == 1

        # the loop guard: the write-back's own push is delivered like any push; nothing is sent or committed
        at = server.health()["last_sync"]["at"]
        assert deliver(server, "github", payload("github", after, ours)).status_code == 202
        wait_for("the write-back's push synced", lambda: server.health()["last_sync"]["at"] != at
                 and server.health()["pending"] == 0)
        assert repo.head() == ours
        assert "new content/posts/hello.md" in server.text()  # the sync's lines are logged...
        assert "saved content/posts/hello.md" not in server.text()  # ...and the write-back was no change
        assert writes(devto, "PUT") == [] and writes(masto, "PUT") == []
        assert len(writes(devto, "POST")) == 1 and len(writes(masto, "POST")) == 1

        # the author pulls, edits the body and pushes: the copies are updated, no new write-back commit
        git(repo.work, "fetch", "-q", str(repo.bare), "main")
        git(repo.work, "merge", "-q", "--ff-only", "FETCH_HEAD")
        edited = (repo.work / "content/posts/hello.md").read_text(encoding="utf-8").replace(
            "A first paragraph.", "An edited paragraph.")
        repo.write("content/posts/hello.md", edited)
        repo.commit("edit")
        before, after = repo.push()
        assert before == ours
        assert deliver(server, "github", payload("github", before, after)).status_code == 202
        server.wait_synced(after)
        wait_for("the edit sent", lambda: len(writes(devto, "PUT")) == 1 and len(writes(masto, "PUT")) == 1)
        assert repo.head() == after
    finally:
        server.stop()


def copies_at(folder: Path) -> dict[str, str]:
    ledger = Ledger(f"sqlite:///{folder / 'state.db'}", site="blog.example")
    try:
        return {r.target: r.remote_url for r in ledger.all() if r.state == "published" and r.remote_url}
    finally:
        ledger.dispose()


# --- Celery workers: two processes, many threads, each copy's URL written once -------------------------------

@pytest.fixture
def redis_broker(tmp_path: Path) -> Iterator[str]:
    from tests.harness import RedisServer

    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server.url
    server.stop()


@pytest.mark.redis
@pytest.mark.postgres
def test_workers_write_every_copys_link_into_its_post(tmp_path: Path, redis_broker: str, workers: Any,
                                                     pg_url: str, fakes: tuple[FakeDevTo, FakeMastodon]) -> None:
    from tests.harness import write_config, write_site
    from tests.test_worker import cli as worker_cli
    from tests.test_worker import targets, wait_until

    devto, masto = fakes
    posts = write_site(tmp_path, 6)
    config = write_config(tmp_path, targets(devto, masto), state_url=pg_url, broker=redis_broker,
                          queue={"visibility_timeout": 20, "scan_interval": 1})
    config.write_text(config.read_text(encoding="utf-8").replace("[site]\n", "[site]\nwrite_back = true\n", 1),
                      encoding="utf-8")
    before = {p: p.read_text(encoding="utf-8") for p in posts}
    result = worker_cli(config, "push", str(tmp_path / "content"), "--json")
    assert result.returncode == 0, result.stderr
    w = workers(config, concurrency=4)
    w.start(2)

    def written() -> int:
        return sum(len(fm_of(p.read_text(encoding="utf-8")).get("syndication") or []) for p in posts)  # type: ignore[arg-type]

    wait_until(lambda: written() == 12, 90, "12 links written",
               lambda: "\n".join(p.read_text(encoding="utf-8") for p in posts))
    ledger = Ledger(pg_url, site="blog.example")
    try:
        rows = ledger.all()
    finally:
        ledger.dispose()
    by_path: dict[str, list[str]] = {}
    for target in ("devto", "mastodon"):  # config order
        for row in rows:
            if row.target == target and row.remote_url:
                by_path.setdefault(row.post_path or "", []).append(row.remote_url)
    for p in posts:
        text = p.read_text(encoding="utf-8")
        links = by_path[p.relative_to(tmp_path).as_posix()]
        assert fm_of(text)["syndication"] == links  # config order, whichever worker finished first
        assert edit(text, "syndication", []) == before[p]  # nothing but the key changed


def test_a_refused_write_back_push_loses_no_publish_and_the_next_sync_pushes_the_links(
        tmp_path: Path, fakes: tuple[FakeDevTo, FakeMastodon]) -> None:
    from tests.test_watch import wait_for, writes
    from tests.test_webhook import Repo, Server, deliver, git, payload, post_text, write_config

    devto, masto = fakes
    repo = Repo(tmp_path / "git")
    repo.write("content/posts/old.md", post_text("Old"))
    repo.commit("the blog so far")
    repo.push()
    config = write_config(tmp_path / "site", repo.bare, devto=devto.url, masto=masto.url)
    config.write_text(config.read_text(encoding="utf-8").replace("[site]\n", "[site]\nwrite_back = true\n", 1),
                      encoding="utf-8")
    server = Server(config)
    try:
        hook = repo.bare / "hooks" / "pre-receive"
        hook.write_text("#!/bin/sh\necho 'pushes refused by policy' >&2\nexit 1\n", encoding="utf-8")
        hook.chmod(0o755)
        repo.write("content/posts/hello.md", post_text("Hello"))
        repo.commit("a new post")
        before, after = _push_past_hook(repo, hook)
        assert deliver(server, "github", payload("github", before, after)).status_code == 202
        server.wait_synced(after)
        assert server.health()["last_sync"]["error"] is None, server.text()
        assert len(writes(devto, "POST")) == 1 and len(writes(masto, "POST")) == 1  # published, recorded
        assert repo.head() == after  # the write-back commit was refused
        code, out = cli(tmp_path / "site", "status")
        assert "write-back" in out and "not pushed" in out and "pushes refused by policy" in out, out

        hook.unlink()  # the next push: its sync writes the links that are owed, in one commit
        repo.write("content/posts/second.md", post_text("Second"))
        repo.commit("another post")
        before, after = repo.push()
        assert deliver(server, "github", payload("github", before, after)).status_code == 202
        wait_for(f"the write-back commit:\n{server.text()}", lambda: repo.head() != after)
        ours = repo.head()
        server.wait_synced(ours)
        assert git(repo.bare, "diff", "--name-only", after, ours).split() == ["content/posts/hello.md",
                                                                             "content/posts/second.md"]
        for name in ("hello", "second"):
            pushed = git(repo.bare, "show", f"{ours}:content/posts/{name}.md")
            assert len(fm_of(pushed)["syndication"]) == 2  # type: ignore[arg-type]
        code, out = cli(tmp_path / "site", "status")
        assert "not pushed" not in out, out
        assert len(writes(devto, "POST")) == 2 and len(writes(masto, "POST")) == 2
    finally:
        server.stop()


def _push_past_hook(repo: Any, hook: Path) -> tuple[str, str]:
    """The author's own push gets through (the hook stands for a rule against the bot): moved aside for it."""
    aside = hook.with_name("pre-receive.off")
    hook.rename(aside)
    try:
        result: tuple[str, str] = repo.push()
        return result
    finally:
        aside.rename(hook)


@pytest.mark.redis
def test_with_a_broker_the_workers_copies_are_pushed_back_by_a_sync(
        tmp_path: Path, fakes: tuple[FakeDevTo, FakeMastodon], workers: Any) -> None:
    import uuid

    from tests.conftest import REDIS_URL
    from tests.test_watch import wait_for, writes
    from tests.test_webhook import Repo, Server, deliver, git, payload, post_text, write_config

    devto, masto = fakes
    repo = Repo(tmp_path / "git")
    repo.write("content/posts/old.md", post_text("Old"))
    repo.commit("the blog so far")
    repo.push()
    config = write_config(tmp_path / "site", repo.bare, devto=devto.url, masto=masto.url, broker=REDIS_URL,
                          queue=f"writeback-{uuid.uuid4().hex[:8]}")
    config.write_text(config.read_text(encoding="utf-8").replace("[site]\n", "[site]\nwrite_back = true\n", 1),
                      encoding="utf-8")
    server = Server(config)
    try:
        pool = workers(config)
        pool.start(1)
        repo.write("content/posts/hello.md", post_text("Hello"))
        repo.commit("a new post")
        before, after = repo.push()
        assert deliver(server, "github", payload("github", before, after)).status_code == 202
        # the sync queues the units; each worker's done unit asks for a sync, and that sync pushes the links
        wait_for(f"the write-back commit:\n{server.text()}", lambda: repo.head() != after
                 and len(fm_of(git(repo.bare, "show", "main:content/posts/hello.md")).get("syndication")  # type: ignore[arg-type]
                         or []) == 2)
        ours = repo.head()
        assert "Syndicate-Write-Back: yes" in git(repo.bare, "log", "--format=%B", f"{after}..{ours}")
        # its own push comes back: synced, nothing sent, nothing more committed
        server.wait_synced(ours)
        at = server.health()["last_sync"]["at"]
        assert deliver(server, "github", payload("github", after, ours)).status_code == 202
        wait_for("the write-back's push synced", lambda: server.health()["last_sync"]["at"] != at
                 and server.health()["pending"] == 0)
        assert git(repo.bare, "rev-list", "--count", f"{after}..main") == git(repo.bare, "rev-list", "--count",
                                                                               f"{after}..{ours}")
        assert writes(devto, "PUT") == [] and writes(masto, "PUT") == []
        assert len(writes(devto, "POST")) == 1 and len(writes(masto, "POST")) == 1
    finally:
        server.stop()
