"""Threads connector against the fake Threads API: the contract, and the platform's own rules (issue 15)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.threads import Threads
from syndicate.config import Secret, TargetConfig
from syndicate.content.post import Control, Image
from syndicate.contract import (
    AuthFailed,
    Draft,
    NotFound,
    Permanent,
    RateLimited,
    Remote,
    SendContext,
    Transient,
)
from syndicate.engine.fitting import fit_draft
from syndicate.engine.runner import Syndicator
from syndicate.registry import load_config
from syndicate.state.tokens import Token, TokenStore
from syndicate.testing import ConnectorContract, make_post
from tests.fakes.threads import FakeThreads, link_count, threads_length

TOKEN = "threads-test-token"
USER = "1789"


class TestThreadsContract(ConnectorContract):
    connector_type = "threads"
    secret = TOKEN
    env = {"THREADS_ACCESS_TOKEN": TOKEN}
    wrong_env = {"THREADS_ACCESS_TOKEN": "wrong-token-123"}

    def fake(self) -> FakeThreads:
        return FakeThreads()

    def options(self, fake: Any) -> dict[str, Any]:
        return {"access_token": "${THREADS_ACCESS_TOKEN}", "user_id": USER, "base_url": fake.url}

    def live(self, fake: Any) -> int:
        return len(fake.live)

    def tags(self, draft: Draft) -> list[str]:
        return [draft.fields["topic_tag"]] if "topic_tag" in draft.fields else []


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeThreads]:
    with FakeThreads() as server:
        yield server


def threads(fake: FakeThreads, tmp_path: Path, **options: Any) -> Threads:
    opts = {"access_token": Secret(TOKEN), "user_id": USER, "base_url": fake.url, **options}
    conn = Threads(TargetConfig("threads", "threads", opts), http=httpx.Client(timeout=5))
    conn.token_store = TokenStore(tmp_path / "data")
    conn.clock = fake.now
    conn.sleep = lambda s: pytest.fail(f"slept {s}s")
    return conn


def render(conn: Threads, post: Any) -> Draft:
    return fit_draft(conn.render(post, None), conn.limits_for(None))


def engine(fake: FakeThreads, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, data: str = "data",
           redis: str | None = None, **options: Any) -> Syndicator:
    monkeypatch.setenv("THREADS_ACCESS_TOKEN", TOKEN)
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in options.items())
    queue = f'[queue]\nredis = "{redis}"\nrate_time_scale = 0.0001\n' if redis else ""
    config = tmp_path / f"{data}.toml"
    config.write_text(f'[site]\nurl = "https://blog.example"\n[state]\nurl = "sqlite:///{tmp_path}/{data}.db"\n'
                      f'dir = "{tmp_path / data}"\n{queue}[targets.threads]\nbase_url = "{fake.url}"\n'
                      f'access_token = "${{THREADS_ACCESS_TOKEN}}"\nuser_id = "{USER}"\n{extra}', encoding="utf-8")
    syn = Syndicator(load_config(config))
    conn = syn.connector("threads")
    assert isinstance(conn, Threads)
    conn.clock = fake.now
    return syn


def post_in(syn: Syndicator, n: int, **changes: Any) -> Any:
    post = make_post(n, **changes)
    post.path = syn.config.site.root / "content" / f"post-{n}.md"
    return post


def nosleep(seconds: float) -> None:
    pass


def calls(fake: FakeThreads, since: int = 0) -> list[str]:
    return [f"{r.method} {r.path.rsplit('/', 1)[-1]}" for r in fake.requests[since:]]


# --- text: 500 characters where an emoji is its bytes, 5 links, one topic ------------------------------


def test_a_post_is_title_excerpt_url_with_the_first_tag_as_its_topic(fake: FakeThreads, tmp_path: Path) -> None:
    draft = render(threads(fake, tmp_path), make_post(1, tags=["Node.js & Deno", "python"]))
    assert draft.text == "Post number 1\n\nSummary of post 1.\n\nhttps://blog.example/posts/post-1/"
    assert draft.fields == {"link_attachment": "https://blog.example/posts/post-1/", "topic_tag": "Nodejs and Deno"}


@pytest.mark.parametrize(("option", "over", "tags", "topic"), [
    (None, None, ["a" * 80], "a" * 50),
    (None, None, ["...", "&", "Rust"], "Rust"),  # a tag with nothing left gives way to the next
    ("", None, ["python"], None),
    ("Blogging", None, ["python"], "Blogging"),
    (None, "Web dev", ["python"], "Web dev"),
    (None, None, [], None),
])
def test_the_topic_tag_follows_threads_rules(fake: FakeThreads, tmp_path: Path, option: str | None,
                                             over: str | None, tags: list[str], topic: str | None) -> None:
    control = Control(overrides={"threads": {"topic_tag": over}} if over else {})
    conn = threads(fake, tmp_path, **({"topic_tag": option} if option is not None else {}))
    draft = render(conn, make_post(1, tags=tags, control=control))
    assert draft.fields.get("topic_tag") == topic
    conn.create(draft, "k", SendContext())  # and the fake takes it
    assert fake.live[-1]["topic_tag"] == topic


def test_the_target_s_template_shapes_the_text_sent(fake: FakeThreads, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch, template="New: {title} {url} {hashtags}")
    assert syn.run_inline(post_in(syn, 1), "threads", sleep=nosleep).status == "done"
    assert fake.live[-1]["text"] == "New: Post number 1 https://blog.example/posts/post-1/ #python"  # one tag: Threads takes one
    said = Control(overrides={"threads": {"text": "Read this one"}})  # a post's own text wins over the template
    assert syn.run_inline(post_in(syn, 2, control=said), "threads", sleep=nosleep).status == "done"
    assert fake.live[-1]["text"] == "Read this one\n\nhttps://blog.example/posts/post-2/"


def test_emoji_count_as_their_bytes_and_the_text_still_fits(fake: FakeThreads, tmp_path: Path) -> None:
    conn = threads(fake, tmp_path)
    post = make_post(1, title="Launch \U0001F680" * 30, summary="\U0001F468\u200d\U0001F469\u200d\U0001F467 family " * 40)
    draft = render(conn, post)
    text = draft.text or ""
    assert len(text) <= 500 < threads_length(text) + 1000  # counted in characters it would be far shorter
    assert threads_length(text) <= 500 and post.url in text
    assert any("text cut to fit 500" in w for w in draft.warnings)
    conn.create(draft, "k", SendContext())
    assert fake.live[-1]["text"] == text


def test_a_text_over_500_emoji_bytes_is_refused_by_the_fake(fake: FakeThreads, tmp_path: Path) -> None:
    # the fake counts on its own: 130 rockets are 130 characters but 520 counted units
    conn = threads(fake, tmp_path)
    request = conn.build_create(Draft("threads", parts=[render(conn, make_post(1)).parts[0]]), "k", SendContext())
    request.json["text"] = "\U0001F680" * 130
    with pytest.raises(Permanent, match="500"):
        conn.send(request)


def test_at_most_five_links_the_excerpt_is_cut_before_the_sixth(fake: FakeThreads, tmp_path: Path) -> None:
    conn = threads(fake, tmp_path)
    summary = "See " + " ".join(f"https://ref{i}.example.com/page" for i in range(8)) + " for more."
    draft = render(conn, make_post(1, summary=summary))
    text = draft.text or ""
    assert link_count(text, draft.fields["link_attachment"]) <= 5
    assert "https://ref3.example.com/page" in text and "ref4" not in text
    assert any("at most 5 links" in w for w in draft.warnings)
    conn.create(draft, "k", SendContext())
    assert len(fake.live) == 1


def test_bare_domains_count_as_links_and_an_override_is_cut_too(fake: FakeThreads, tmp_path: Path) -> None:
    words = " ".join(f"site{i}.com" for i in range(7))
    control = Control(overrides={"threads": {"text": f"My picks: {words}"}})
    conn = threads(fake, tmp_path)
    draft = render(conn, make_post(1, control=control))
    text = draft.text or ""
    assert text.startswith("My picks: site0.com") and "site4.com" not in text and text.endswith(make_post(1).url)
    conn.create(draft, "k", SendContext())
    assert len(fake.live) == 1


def test_six_links_are_never_sent_and_the_fake_refuses_them_too(fake: FakeThreads, tmp_path: Path) -> None:
    conn = threads(fake, tmp_path)
    six = " ".join(f"https://l{i}.example.com/" for i in range(6))
    draft = Draft("threads", parts=[render(conn, make_post(1)).parts[0]])
    draft.parts[0].text = six
    with pytest.raises(Permanent, match="6 links; Threads takes at most 5"):
        conn.create(draft, "k", SendContext())  # our own guard, before anything is sent
    assert fake.requests == []
    answer = httpx.post(f"{fake.url}/v1.0/{USER}/threads", json={"media_type": "TEXT", "text": six},
                        headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 400 and "THREADS_API__LINK_LIMIT_EXCEEDED" in answer.text


# --- images and the link preview ---------------------------------------------------------------


def test_the_cover_goes_as_an_image_url_with_its_alt(fake: FakeThreads, tmp_path: Path) -> None:
    conn = threads(fake, tmp_path)
    conn.sleep = lambda s: None
    cover = Image(src="c.jpg", url="https://blog.example/c.jpg", alt="A red square")
    draft = render(conn, make_post(1, cover=cover))
    ctx = SendContext(media={"https://blog.example/c.jpg": "https://cdn.example/rehosted/c.jpg"})
    body = conn.build_create(draft, "k", ctx).json
    assert body["media_type"] == "IMAGE" and body["image_url"] == "https://cdn.example/rehosted/c.jpg"
    assert body["alt_text"] == "A red square" and "link_attachment" not in body
    conn.create(draft, "k", ctx)
    assert fake.live[-1]["image_url"] == "https://cdn.example/rehosted/c.jpg"


@pytest.mark.parametrize(("src", "embed", "image"), [
    ("c.webp", "image", False), ("c.png", "image", True), ("c.png", "link", False), ("cover", "image", True)])
def test_only_jpeg_and_png_covers_go_as_images(fake: FakeThreads, tmp_path: Path, src: str, embed: str,
                                               image: bool) -> None:
    cover = Image(src=src, url=f"https://blog.example/{src}", alt="x")
    draft = render(threads(fake, tmp_path, embed=embed), make_post(1, cover=cover))
    assert bool(draft.all_media) is image
    assert any("JPEG and PNG" in w for w in draft.warnings) is (src == "c.webp")


# --- three steps: container, poll, publish ------------------------------------------------------


def test_publish_is_container_then_status_then_publish(fake: FakeThreads, tmp_path: Path) -> None:
    remote = threads(fake, tmp_path).create(render(threads(fake, tmp_path), make_post(1)), "k", SendContext())
    assert calls(fake) == ["POST threads", f"GET {next(iter(fake.containers))}", "POST threads_publish",
                           f"GET {remote.id}"]
    assert remote.url == fake.live[0]["permalink"] and remote.id == fake.live[0]["id"]


def test_polling_starts_fast_and_backs_off(tmp_path: Path) -> None:
    with FakeThreads(image_reads=5) as fake:
        conn = threads(fake, tmp_path, poll_interval=0.5)
        slept: list[float] = []
        conn.sleep = slept.append
        draft = render(conn, make_post(1, cover=Image(src="c.png", url="https://blog.example/c.png", alt="x")))
        conn.create(draft, "k", SendContext(media={"https://blog.example/c.png": "https://blog.example/c.png"}))
        assert slept == [0.5, 1.0, 2.0, 4.0, 8.0]  # never a flat 30 s
        assert len(fake.live) == 1


def test_polling_stops_within_five_minutes_and_the_container_is_kept(tmp_path: Path) -> None:
    with FakeThreads(image_reads=10_000) as fake:
        conn = threads(fake, tmp_path)
        slept: list[float] = []
        conn.sleep = lambda s: (slept.append(s), fake.advance(s))  # type: ignore[func-returns-value]
        draft = render(conn, make_post(1, cover=Image(src="c.png", url="https://blog.example/c.png", alt="x")))
        kept: dict[str, Any] = {}
        ctx = SendContext(media={"https://blog.example/c.png": "https://blog.example/c.png"}, record=kept.update)
        with pytest.raises(Transient, match="still IN_PROGRESS"):
            conn.create(draft, "k", ctx)
        assert sum(slept) <= 300 and max(slept) == 60.0  # at most a minute apart, 5 minutes in all
        assert kept["container"] in fake.containers
        fake.containers[kept["container"]]["reads_left"] = 1  # it is ready at last
        slept.clear()
        conn.create(draft, "k", SendContext(media=ctx.media, progress=dict(kept)))
        assert len(fake.containers) == 1 and len(fake.live) == 1  # the same container, published once


def test_a_failed_container_says_why(fake: FakeThreads, tmp_path: Path) -> None:
    fake.fail_containers.append("FAILED_DOWNLOADING_IMAGE")
    conn = threads(fake, tmp_path)
    with pytest.raises(Permanent, match="FAILED_DOWNLOADING_IMAGE"):
        conn.create(render(conn, make_post(1)), "k", SendContext())


@pytest.mark.parametrize("status", ["FINISHED", "PUBLISHED", "EXPIRED"])
def test_a_retry_reads_the_kept_container_first(fake: FakeThreads, tmp_path: Path, status: str) -> None:
    conn = threads(fake, tmp_path)
    draft = render(conn, make_post(1))
    kept: dict[str, Any] = {}
    fake.lose_next(1)  # the publish's answer is lost
    with pytest.raises(Exception, match="response lost"):
        conn.create(draft, "k", SendContext(record=kept.update))
    (container,) = fake.containers.values()
    if status == "FINISHED":  # the publish never got there: it is published now, from the same container
        fake.posts.clear()
        container["status"] = "FINISHED"
    elif status == "EXPIRED":  # not published, and a day old: a new container
        fake.posts.clear()
        container["status"] = "FINISHED"
        fake.advance(25 * 3600)
    before = len(fake.requests)
    remote = conn.create(draft, "k", SendContext(progress=dict(kept)))
    assert len(fake.live) == 1 and remote.id == fake.live[0]["id"] and remote.url == fake.live[0]["permalink"]
    sent = calls(fake, before)
    assert sent.count("POST threads") == (1 if status == "EXPIRED" else 0)  # a new container only if expired
    assert sent.count("POST threads_publish") == (0 if status == "PUBLISHED" else 1)


def test_a_changed_draft_never_publishes_the_old_container(fake: FakeThreads, tmp_path: Path) -> None:
    conn = threads(fake, tmp_path)
    kept: dict[str, Any] = {}
    fake.fail_next(1, 503, path=f"/v1.0/{USER}/threads_publish")
    with pytest.raises(Transient):
        conn.create(render(conn, make_post(1)), "k", SendContext(record=kept.update))
    conn.create(render(conn, make_post(1, title="Edited")), "k", SendContext(progress=dict(kept)))
    assert [p["text"].split("\n")[0] for p in fake.live] == ["Edited"] and len(fake.containers) == 2


def test_a_lost_publish_through_the_engine_posts_once(fake: FakeThreads, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch)
    post = post_in(syn, 1)
    fake.lose_next(1)
    assert syn.attempt(post, "threads").status == "retry"
    row = syn.ledger.get(post.id, "threads")
    assert row is not None and row.state == "creating" and row.remote_extra["progress"]["data"]["container"]
    assert syn.run_inline(post, "threads", sleep=nosleep).status == "done"
    assert len(fake.live) == 1 and len(fake.containers) == 1
    assert sum(1 for r in fake.requests if r.path.endswith("/threads_publish")) == 1
    row = syn.ledger.get(post.id, "threads")
    assert row is not None and row.remote_id == fake.live[0]["id"] and row.remote_url == fake.live[0]["permalink"]


# --- the engine: preview, edits, deletes, limits ------------------------------------------------------


def test_preview_shows_the_three_steps_and_the_container_is_what_is_sent(fake: FakeThreads, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch)
    post = post_in(syn, 1)
    shown = syn.requests(syn.plan_for(post, "threads"))
    assert [(r["method"], r["url"].removeprefix(fake.url)) for r in shown] == [
        ("POST", f"/v1.0/{USER}/threads"), ("GET", "/v1.0/<container>"), ("POST", f"/v1.0/{USER}/threads_publish")]
    assert shown[2]["params"] == {"creation_id": "<container>"}
    assert TOKEN not in json.dumps(shown)
    assert syn.run_inline(post, "threads", sleep=nosleep).status == "done"
    assert json.loads(fake.requests[0].body) == shown[0]["json"]


def test_an_edit_is_not_propagated_and_a_delete_is(fake: FakeThreads, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch)
    assert syn.run_inline(post_in(syn, 1), "threads", sleep=nosleep).status == "done"
    edited = syn.run_inline(post_in(syn, 1, title="New title"), "threads", sleep=nosleep)
    assert edited.status == "skipped" and "not propagated" in edited.reason
    gone = syn.run_inline(post_in(syn, 1, draft=True, hidden="draft"), "threads", sleep=nosleep)
    assert gone.action == "delete" and gone.status == "done" and fake.live == []
    assert fake.requests[-1].method == "DELETE"


def test_the_documented_limits_are_data(fake: FakeThreads) -> None:
    rates = {r.kind: (r.amount, r.seconds) for r in Threads.limits.rates}
    assert rates == {"publish": (250, 86400), "delete": (100, 86400)}
    assert Threads.limits.text is not None and (Threads.limits.text.max, Threads.limits.text.counting) == (
        500, "emoji-bytes")


def test_the_publishing_limit_answer_is_a_rate_limit(tmp_path: Path) -> None:
    with FakeThreads(time_scale=1.0) as fake:
        fake.rates = {"publish": (2, 86400), "delete": (100, 86400)}  # the same rule, smaller
        conn = threads(fake, tmp_path)
        for n in (1, 2):
            conn.create(render(conn, make_post(n)), f"k{n}", SendContext())
        with pytest.raises(RateLimited):
            conn.create(render(conn, make_post(3)), "k3", SendContext())
        assert len(fake.live) == 2


def test_the_credential_check_is_the_profile_read(fake: FakeThreads, tmp_path: Path) -> None:
    conn = threads(fake, tmp_path)
    request = conn.build_verify()
    assert request is not None and request.method == "GET"
    assert conn.send(request).json() == {"id": USER, "username": "alice"}


def test_a_refused_token_names_the_key(tmp_path: Path) -> None:
    with FakeThreads(tokens={"other": USER}) as fake:
        conn = threads(fake, tmp_path)
        with pytest.raises(AuthFailed, match="access_token") as info:
            conn.create(render(conn, make_post(1)), "k", SendContext())
        assert TOKEN not in str(info.value)


# --- the token: refreshed before its 60 days run out, shared by every worker ---------------------------


def test_the_configured_token_is_used_then_refreshed_once_a_day_old(fake: FakeThreads, tmp_path: Path) -> None:
    conn = threads(fake, tmp_path)
    conn.create(render(conn, make_post(1)), "k1", SendContext())
    assert fake.refreshes == 0  # its age is unknown: used as it is for a day
    fake.advance(25 * 3600)
    conn.create(render(conn, make_post(2)), "k2", SendContext())
    assert fake.refreshes == 1
    last = fake.requests[-1].headers["authorization"]
    assert last.startswith("Bearer threads-refreshed-1-")
    fake.advance(20 * 86400)  # 40 days left: more than refresh_before (30 days)
    conn.create(render(conn, make_post(3)), "k3", SendContext())
    assert fake.refreshes == 1
    fake.advance(11 * 86400)  # 29 days left
    conn.create(render(conn, make_post(4)), "k4", SendContext())
    assert fake.refreshes == 2 and len(fake.live) == 4


def test_every_worker_uses_the_token_one_worker_refreshed(fake: FakeThreads, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch, redis_url: str) -> None:
    # two workers on two machines: their own data folders and ledgers, one Redis
    one = engine(fake, tmp_path, monkeypatch, data="one", redis=redis_url)
    two = engine(fake, tmp_path, monkeypatch, data="two", redis=redis_url)
    TokenStore(tmp_path, redis_url).drop(_account(one))
    assert one.run_inline(post_in(one, 1), "threads", sleep=nosleep).status == "done"
    fake.advance(25 * 3600)
    assert one.run_inline(post_in(one, 2), "threads", sleep=nosleep).status == "done"
    assert two.run_inline(post_in(two, 3), "threads", sleep=nosleep).status == "done"
    assert fake.refreshes == 1
    used = [r.headers["authorization"] for r in fake.requests if "authorization" in r.headers]
    assert used[-1].startswith("Bearer threads-refreshed-1-")  # worker two, with worker one's token
    TokenStore(tmp_path, redis_url).drop(_account(one))


def _account(syn: Syndicator) -> str:
    from syndicate.auth import account_of

    return account_of(syn.connector("threads"))


def test_a_token_refused_at_refresh_stops_the_target(fake: FakeThreads, tmp_path: Path) -> None:
    conn = threads(fake, tmp_path)
    conn.create(render(conn, make_post(1)), "k1", SendContext())
    fake.advance(61 * 86400)  # nobody posted for two months: the token has expired
    with pytest.raises(AuthFailed, match="access_token"):
        conn.create(render(conn, make_post(2)), "k2", SendContext())


def test_notices_warn_a_week_before_the_token_expires(fake: FakeThreads, tmp_path: Path) -> None:
    conn = threads(fake, tmp_path)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert conn.notices(None, now) == []  # no token yet
    conn.create(render(conn, make_post(1)), "k", SendContext())
    (info,) = conn.notices(None, now)
    assert info.level == "info"
    from syndicate.auth import account_of

    seed = conn.token_store.get(account_of(conn))
    for days, level in ((30, None), (6, "warn"), (-1, "error")):
        expires = now.timestamp() + days * 86400
        conn.token_store.put(account_of(conn), Token("t", expires=expires, extra=dict(seed.extra)))
        found = conn.notices(None, now)
        assert [n.level for n in found] == ([level] if level else [])
        if level:
            assert found[0].until is not None and found[0].until.timestamp() == pytest.approx(expires)


def test_remote_ids_and_delete(fake: FakeThreads, tmp_path: Path) -> None:
    conn = threads(fake, tmp_path)
    remote = conn.create(render(conn, make_post(1)), "k", SendContext())
    conn.delete(remote)
    conn.delete(remote)  # already gone: harmless
    conn.delete(Remote("404"))
    assert fake.live == []


@pytest.mark.parametrize(("status", "error", "kind"), [
    (400, {"code": 190, "error_subcode": 463, "message": "Session has expired"}, AuthFailed),
    (400, {"code": 4, "message": "Application request limit reached"}, RateLimited),
    (403, {"code": 200, "message": "Permissions error"}, AuthFailed),
    (500, {"code": 2, "message": "Service temporarily unavailable", "is_transient": True}, Transient),
    (400, {"code": 24, "error_subcode": 4279009, "message": "The requested resource does not exist"}, Transient),
    (400, {"code": 100, "error_subcode": 33, "message": "Object with ID '1' does not exist"}, NotFound),
    (400, {"code": 100, "message": "Param text must be at most 500 characters long"}, Permanent),
])
def test_graph_errors_map_to_what_to_do_next(fake: FakeThreads, tmp_path: Path, status: int,
                                             error: dict[str, Any], kind: type[Exception]) -> None:
    conn = threads(fake, tmp_path)
    with pytest.raises(kind) as info:
        conn.check(httpx.Response(status, json={"error": {"type": "OAuthException", **error}}))
    assert type(info.value) is kind and error["message"] in str(info.value)
