"""Discord (incoming webhook) against the fake Discord: the contract, then Discord's own rules."""
from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.discord import Discord, DiscordOptions
from connectors.discord_text import embed_total, escape
from syndicate.config import ConfigError, TargetConfig
from syndicate.content.post import Control, Image
from syndicate.contract import AuthFailed, Draft, NotFound, Permanent, RateLimited, SendContext
from syndicate.engine.fitting import fit_draft
from syndicate.engine.runner import Syndicator
from syndicate.registry import load_config
from syndicate.testing import ConnectorContract, make_post
from tests.fakes.discord import CHANNEL_ID, GUILD_ID, TOKEN, WEBHOOK_ID, FakeDiscord, shown

WEBHOOK_URL = f"https://discord.com/api/webhooks/{WEBHOOK_ID}/{TOKEN}"


class TestDiscordContract(ConnectorContract):
    connector_type = "discord"
    secret = WEBHOOK_URL
    env = {"DISCORD_WEBHOOK_URL": WEBHOOK_URL}
    wrong_env = {"DISCORD_WEBHOOK_URL": f"https://discord.com/api/webhooks/{WEBHOOK_ID}/wrong-token-123"}

    def fake(self) -> FakeDiscord:
        return FakeDiscord()

    def options(self, fake: Any) -> dict[str, Any]:
        return {"webhook_url": "${DISCORD_WEBHOOK_URL}", "base_url": fake.api}

    def live(self, fake: Any) -> int:
        return len(fake.live)

    def title(self, draft: Draft) -> str | None:
        return str(draft.fields["embed"]["title"])


# --- helpers ----------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeDiscord]:
    with FakeDiscord() as server:
        yield server


def discord(fake: FakeDiscord, **options: Any) -> Discord:
    """A connector with options validated as the config loader validates them."""
    model = DiscordOptions.model_validate({"type": "discord", "webhook_url": WEBHOOK_URL, "base_url": fake.api,
                                           **options})
    values = {k: getattr(model, k) for k in DiscordOptions.model_fields
              if k != "type" and getattr(model, k) is not None}
    return Discord(TargetConfig("discord", "discord", values, model), http=_client())


@functools.cache
def _client() -> httpx.Client:
    return httpx.Client(timeout=5, verify=False)  # the fake is plain HTTP: no CA bundle to load (~0.3 s)


def render(c: Discord, post: Any) -> Draft:
    return fit_draft(c.render(post), c.limits_for(None))


def body(c: Discord, draft: Draft) -> Any:
    return c.build_create(draft, "k", SendContext(preview=True)).json


def engine(fake: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, extra: str = "",
           **options: Any) -> Syndicator:
    monkeypatch.setenv("DISCORD_WEBHOOK_URL", WEBHOOK_URL)
    keys = {"base_url": fake.api, "webhook_url": "${DISCORD_WEBHOOK_URL}", **options}
    lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in keys.items())
    site = tmp_path / "site"
    (site / "content").mkdir(parents=True, exist_ok=True)
    (site / "syndicate.toml").write_text(
        f'[site]\nurl = "https://blog.example"\n[state]\nurl = "sqlite:///{tmp_path}/state.db"\n{extra}'
        f'[targets.discord]\n{lines}', encoding="utf-8")
    return Syndicator(load_config(site / "syndicate.toml"), media=_Media())


class _Media:
    """Every image URL answers (the media pipeline is tested on its own)."""

    rehost_store = None

    def probe(self, url: str) -> None:
        return None


def in_site(syn: Syndicator, n: int, **changes: Any) -> Any:
    post = make_post(n, **changes)
    post.path = syn.config.site.root / "content" / f"post-{n}.md"
    return post


def nosleep(seconds: float) -> None:
    pass


# --- render: one embed, the link as content ------------------------------------------------


def test_render_is_one_embed_with_the_link(fake: FakeDiscord) -> None:
    post = make_post(1, cover=Image(src="c.png", url="https://blog.example/c.png", alt="A red square"),
                     authors=["Ada"])
    c = discord(fake, color="#5865F2")
    draft = render(c, post)
    assert body(c, draft) == {
        "content": "<https://blog.example/posts/post-1/>",  # <...>: no second preview under the embed
        "embeds": [{
            "title": "Post number 1", "url": "https://blog.example/posts/post-1/",
            "description": "Summary of post 1.", "color": 0x5865F2, "author": {"name": "Ada"},
            "footer": {"text": "python · testing"},
            "thumbnail": {"url": "https://blog.example/c.png", "description": "A red square"},
        }],
        "allowed_mentions": {"parse": []},
    }
    request = c.build_create(draft, "k", SendContext(preview=True))
    assert request.url == fake.api + "/webhooks/{webhook}?wait=true"


def test_cover_as_image_or_none_and_a_cover_with_no_public_url(fake: FakeDiscord) -> None:
    post = make_post(1, cover=Image(src="c.png", url="https://blog.example/c.png"))
    assert "image" in body(discord(fake, cover="image"), render(discord(fake, cover="image"), post))["embeds"][0]
    assert "thumbnail" not in body(discord(fake, cover="none"), render(discord(fake, cover="none"), post))["embeds"][0]
    local = render(discord(fake), make_post(1, cover=Image(src="c.png", path=Path("/tmp/c.png"))))
    assert "thumbnail" not in body(discord(fake), local)["embeds"][0]
    assert any("no absolute http(s) URL" in w for w in local.warnings)


def test_a_created_message_keeps_its_id_because_of_wait(fake: FakeDiscord) -> None:
    c = discord(fake)
    remote = c.create(render(c, make_post(1)), "k")
    assert remote.id in fake.messages and fake.requests[-1].query["wait"] == ["true"]
    # without ?wait=true Discord sends the message and says nothing of it
    raw = httpx.post(f"{fake.api}/webhooks/{WEBHOOK_ID}/{TOKEN}", json={"content": "hi"})
    assert raw.status_code == 204 and raw.content == b"" and len(fake.live) == 2


def test_template_and_override_text(fake: FakeDiscord) -> None:
    c = discord(fake, template="New on the blog: {title} {url}")
    assert render(c, make_post(1)).text == "New on the blog: Post number 1 <https://blog.example/posts/post-1/>"
    tagged = discord(fake, template="{url} {hashtags}")
    assert render(tagged, make_post(1, tags=["snake_case", "more_snakes"])).text == (
        "<https://blog.example/posts/post-1/> #snake\\_case #more\\_snakes")  # no italics between the two
    bare = discord(fake, template="")
    remote = bare.create(render(bare, make_post(1)), "k")  # the card alone
    assert "content" not in fake.requests[-1].json() and fake.messages[str(remote.id)]["embeds"]
    over = Control(overrides={"discord": {"text": "Read **this** one", "title": "Another title"}})
    draft = render(c, make_post(1, control=over))
    assert draft.text == "Read **this** one\n\n<https://blog.example/posts/post-1/>"  # the author's Markdown stays
    assert draft.fields["embed"]["title"] == "Another title"


# --- Discord's limits, counted by the fake on its own ----------------------------------------


def test_embed_fits_every_limit_and_the_6000_total(fake: FakeDiscord) -> None:
    post = make_post(1, title="T" * 400, summary="word " * 1200, tags=[f"tag{i} " + "x" * 90 for i in range(40)],
                     authors=["A" * 300])
    c = discord(fake)
    draft = render(c, post)
    embed = draft.fields["embed"]
    assert len(embed["title"]) == 256 and len(embed["author"]["name"]) == 256
    assert len(embed["footer"]["text"]) <= 2048 and len(embed["description"]) <= 4096
    assert embed_total(embed) <= 6000 < len(post.title) + len(post.excerpt) + 3 * 2048
    assert any("description shortened" in w for w in draft.warnings)
    remote = c.create(draft, "k")
    assert fake.messages[str(remote.id)]["embeds"][0]["title"] == embed["title"]


def test_the_fake_refuses_an_embed_over_the_total(fake: FakeDiscord) -> None:
    embed = {"title": "t" * 256, "description": "d" * 4096, "footer": {"text": "f" * 1700}}
    answer = httpx.post(f"{fake.api}/webhooks/{WEBHOOK_ID}/{TOKEN}?wait=true", json={"embeds": [embed]})
    assert answer.status_code == 400 and answer.json()["code"] == 50035
    embed["footer"]["text"] = "f" * 1648 + "\n  "  # 6000 once trimmed, as Discord counts
    assert httpx.post(f"{fake.api}/webhooks/{WEBHOOK_ID}/{TOKEN}", json={"embeds": [embed]}).status_code == 204


def test_markdown_in_a_title_shows_as_written(fake: FakeDiscord) -> None:
    title = "Why *args, __init__ and ~~x~~ matter: ||2 * 3|| `code` [a](b)"
    c = discord(fake, template="{title}\n{url}")
    remote = c.create(render(c, make_post(1, title=title, summary="# Not a heading > or a quote")), "k")
    message = fake.messages[str(remote.id)]
    embed = message["embeds"][0]
    assert shown(embed["title"]) == (title, False)
    assert shown(embed["description"]) == ("# Not a heading > or a quote", False)
    assert shown(message["content"].split("\n")[0]) == (title, False)
    assert shown("__init__")[1] and shown(escape("1. a list? - no"))[1] is False  # the fake sees Markdown


def test_links_in_a_title_are_not_escaped() -> None:
    assert escape("see https://a.example/x_y_z now *") == "see https://a.example/x_y_z now \\*"


def test_at_everyone_in_a_title_never_pings_on_create_or_edit(fake: FakeDiscord) -> None:
    c = discord(fake, template="{title} {url}")
    remote = c.create(render(c, make_post(1, title="Hello @everyone and @here")), "k")
    assert "@everyone" in fake.messages[str(remote.id)]["content"]
    assert fake.messages[str(remote.id)]["mention_everyone"] is False
    c.update(remote, render(c, make_post(1, title="Still @everyone")))
    assert fake.messages[str(remote.id)]["mention_everyone"] is False
    # the rule the connector guards against: an edit with no allowed_mentions pings
    httpx.patch(f"{fake.api}/webhooks/{WEBHOOK_ID}/{TOKEN}/messages/{remote.id}", json={"content": "@everyone"})
    assert fake.messages[str(remote.id)]["mention_everyone"] is True


# --- edit, delete, errors -----------------------------------------------------------------------


def test_edit_patches_the_message_in_place(fake: FakeDiscord) -> None:
    c = discord(fake, username="Blog bot", avatar_url="https://blog.example/a.png", silent=True)
    remote = c.create(render(c, make_post(1)), "k")
    assert fake.messages[str(remote.id)]["username"] == "Blog bot"
    assert fake.messages[str(remote.id)]["flags"] == 1 << 12
    edited = c.update(remote, render(c, make_post(1, title="Edited")))
    assert edited.id == remote.id and len(fake.messages) == 1
    message = fake.messages[str(remote.id)]
    assert message["edits"] == 1 and message["embeds"][0]["title"] == "Edited"
    patch = fake.requests[-1]
    assert patch.method == "PATCH" and not {"username", "avatar_url", "flags"} & set(patch.json())


def test_delete_removes_the_message_and_a_second_delete_is_harmless(fake: FakeDiscord) -> None:
    c = discord(fake)
    remote = c.create(render(c, make_post(1)), "k")
    c.delete(remote)
    c.delete(remote)
    assert fake.live == [] and [r.method for r in fake.requests[-2:]] == ["DELETE", "DELETE"]
    with pytest.raises(NotFound):
        c.update(remote, render(c, make_post(1)))


def test_a_deleted_webhook_stops_the_target_naming_the_key(fake: FakeDiscord) -> None:
    c = discord(fake)
    fake.webhooks.clear()
    with pytest.raises(AuthFailed) as info:
        c.create(render(c, make_post(1)), "k")
    assert "Unknown Webhook" in str(info.value) and "webhook_url" in str(info.value)
    assert TOKEN not in str(info.value)


def test_a_refused_body_says_which_field(fake: FakeDiscord) -> None:
    c = discord(fake)
    draft = render(c, make_post(1))
    draft.fields["embed"]["description"] = "x" * 4097
    with pytest.raises(Permanent, match=r"embeds\.0\.description: Must be 4096 or fewer"):
        c.create(draft, "k")


def test_429_waits_the_body_retry_after_to_the_millisecond(fake: FakeDiscord) -> None:
    c = discord(fake)
    fake.rate_limit_next(1, retry_after=1.337)
    with pytest.raises(RateLimited) as info:
        c.create(render(c, make_post(1)), "k")
    assert info.value.retry_after == pytest.approx(1.337)  # the header says 2 (rounded up)
    assert fake.live == []


def test_verify_is_the_webhook_read(fake: FakeDiscord) -> None:
    c = discord(fake)
    request = c.build_verify()
    assert (request.method, request.url) == ("GET", fake.api + "/webhooks/{webhook}")
    assert c.send(request).json()["channel_id"] == CHANNEL_ID
    wrong = discord(fake, webhook_url=f"https://discord.com/api/webhooks/{WEBHOOK_ID}/nope")
    with pytest.raises(AuthFailed):
        wrong.send(wrong.build_verify())


# --- forums and threads ------------------------------------------------------------------------


def test_a_forum_webhook_needs_forum_true() -> None:
    with FakeDiscord(forum=True) as fake:
        with pytest.raises(Permanent, match="set forum = true"):
            discord(fake).create(render(discord(fake), make_post(1)), "k")
        c = discord(fake, forum=True)
        remote = c.create(render(c, make_post(1, title="A forum post " * 10)), "k")
        name = fake.threads[str(remote.id)]["name"]
        assert name.startswith("A forum post A forum post") and name.endswith("…") and len(name) <= 100
        assert remote.extra["thread_id"] == remote.id
        c.update(remote, render(c, make_post(1, title="Edited")))  # found only with its thread_id
        assert fake.messages[str(remote.id)]["edits"] == 1
        c.delete(remote)
        assert fake.live == []


def test_thread_id_posts_into_the_thread_and_edits_there() -> None:
    with FakeDiscord(threads=("555",)) as fake:
        c = discord(fake, thread_id="555")
        remote = c.create(render(c, make_post(1)), "k")
        assert fake.messages[str(remote.id)]["channel_id"] == "555"
        c.update(remote, render(c, make_post(1, title="Edited")))
        assert fake.messages[str(remote.id)]["edits"] == 1
        via_url = discord(fake, webhook_url=WEBHOOK_URL + "?thread_id=555")  # the docs' way to name a thread
        assert via_url.create(render(via_url, make_post(2)), "k2").extra["thread_id"] == "555"


# --- through the engine --------------------------------------------------------------------------


def test_the_ledger_keeps_a_link_to_the_message_and_no_token(fake: FakeDiscord, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch)
    outcome = syn.run_inline(in_site(syn, 1), "discord", sleep=nosleep)
    row = syn.ledger.get("post-1", "discord")
    assert outcome.status == "done" and row is not None
    assert row.remote_url == f"{fake.url}/channels/{GUILD_ID}/{CHANNEL_ID}/{row.remote_id}"
    facts = syn.facts("discord")
    assert facts == {"guild_id": GUILD_ID, "channel_id": CHANNEL_ID}  # the webhook answered its token too
    edited = syn.run_inline(in_site(syn, 1, title="Edited"), "discord", sleep=nosleep)
    assert edited.status == "done" and fake.messages[str(row.remote_id)]["edits"] == 1
    dump = sqlite_dump(tmp_path / "state.db")
    assert TOKEN not in dump and WEBHOOK_ID not in dump


def sqlite_dump(path: Path) -> str:
    import sqlite3

    with sqlite3.connect(path) as db:
        return "\n".join(db.iterdump())


def test_a_copy_resolved_by_its_link_is_edited_and_deleted(fake: FakeDiscord, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch)
    post = in_site(syn, 1)
    fake.lose_next(1, method="POST")
    assert syn.attempt(post, "discord").status == "retry"
    assert syn.run_inline(post, "discord", sleep=nosleep).status == "check"
    (message,) = fake.live
    link = f"https://discord.com/channels/{GUILD_ID}/{CHANNEL_ID}/{message['id']}"  # Copy Message Link
    syn.ledger.resolve(post.id, "discord", found=True, remote_url=link)
    assert syn.run_inline(in_site(syn, 1, title="Edited"), "discord", sleep=nosleep).status == "done"
    assert message["edits"] == 1 and len(fake.messages) == 1
    gone = syn.run_inline(in_site(syn, 1, hidden="draft", draft=True), "discord", sleep=nosleep)
    assert gone.action == "delete" and gone.status == "done" and fake.live == []


def test_a_failure_shows_no_token_anywhere(fake: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           caplog: pytest.LogCaptureFixture) -> None:
    syn = engine(fake, tmp_path, monkeypatch)
    fake.fail_next(9, 400)
    outcome = syn.run_inline(in_site(syn, 1), "discord", sleep=nosleep)
    assert outcome.status == "failed"
    preview = json.dumps(syn.requests(syn.plan_for(in_site(syn, 2), "discord")))
    text = json.dumps(outcome.as_dict()) + caplog.text + preview + sqlite_dump(tmp_path / "state.db")
    assert TOKEN not in text and "{webhook}" in preview


@pytest.mark.parametrize(("key", "value", "says"), [
    ("webhook_url", "https://hooks.slack.com/services/T0/B0/XYZSECRET", "not a Discord webhook URL"),
    ("color", "blurple", "not a colour"),
    ("username", "Discord news", 'containing "clyde" or "discord"'),
    ("thread_id", "general", "a thread id is a number"),
    ("template", "{title}", "must contain {url}"),
])
def test_bad_options_name_the_key_and_what_is_allowed(fake: FakeDiscord, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch, key: str, value: str,
                                                      says: str) -> None:
    monkeypatch.setenv("BAD", value)
    with pytest.raises(ConfigError) as info:
        engine(fake, tmp_path, monkeypatch, **{key: "${BAD}" if key == "webhook_url" else value})
    message = str(info.value)
    assert f"targets.discord.{key}" in message and says in message and "syndicate.toml" in message
    assert "XYZSECRET" not in message


def test_forum_and_thread_id_exclude_each_other(fake: FakeDiscord, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="leave thread_id out"):
        engine(fake, tmp_path, monkeypatch, forum=True, thread_id="555")


# --- rate limits: Discord's headers, and the limits it shows only when it refuses -------------------


def test_the_channel_limit_shows_only_in_its_429() -> None:
    with FakeDiscord(time_scale=1.0) as fake:
        c = discord(fake)
        seen: list[str] = []
        with pytest.raises(RateLimited) as info:
            for i in range(31):  # 5 per 2 s in the bucket: send by hand at its pace, reading no header
                fake._buckets.clear()
                c.create(render(c, make_post(i)), f"k{i}")
                seen.append(fake.requests[-1].path)
        assert len(seen) == 30 and "scope shared" in str(info.value) and info.value.retry_after is not None


@pytest.mark.redis
def test_reset_after_wins_over_a_skewed_reset_clock(redis_url: str) -> None:
    import time
    import uuid

    from syndicate.state.ratelimit import RateLimiter

    limiter = RateLimiter(redis_url, namespace="syndicate:test:discord:" + uuid.uuid4().hex[:8])
    headers = {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0", "X-RateLimit-Bucket": "abcd1234",
               "X-RateLimit-Reset": f"{time.time() + 3600:.3f}", "X-RateLimit-Reset-After": "1.5"}
    assert limiter.observe("discord:acct", headers, 200) == pytest.approx(1.5)


@pytest.mark.redis
def test_the_declared_limits_hold_the_channel_limit_no_header_shows(redis_url: str) -> None:
    import uuid

    from syndicate.state.ratelimit import RateLimiter

    start = now = 1_800_000_000.0
    limiter = RateLimiter(redis_url, namespace="syndicate:test:discord:" + uuid.uuid4().hex[:8],
                          clock=lambda: now, pace=False)
    sent = []
    while now < start + 60:  # a minute of creates, each as soon as the limiter lets it go
        wait = limiter.acquire("discord:acct", "create", Discord.limits.rates)
        if wait == 0:
            sent.append(now)
        now += wait or 0.001
    assert len(sent) == 30 and sent[4] < start + 0.01 < sent[5]  # 5 at once (the bucket), 30 in the minute


@pytest.mark.redis
def test_two_workers_follow_a_bucket_smaller_than_declared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           redis_url: str) -> None:
    import time

    scale = 0.05  # the channel's 30 a minute in 3 s
    with FakeDiscord(time_scale=scale, bucket=(2, 1.0)) as fake:  # 2 per second: only the headers say so
        first = engine(fake, tmp_path, monkeypatch, extra=f'[queue]\nredis = "{redis_url}"\nrate_time_scale = {scale}\n')
        workers = [first, Syndicator(first.config, media=_Media())]  # two workers, one ledger, one limiter
        posts = [in_site(first, n) for n in range(10)]

        def work(syn: Syndicator, mine: list[Any]) -> None:
            for post in mine:
                for _ in range(100):
                    outcome = syn.run_inline(post, "discord", sleep=time.sleep)
                    if outcome.status == "done":
                        break
                    assert outcome.status == "deferred", outcome  # waited too often: come back at once
                    syn.ledger.update(post.id, "discord", deferred_until=None)

        threads = [threading.Thread(target=work, args=(syn, posts[i::2])) for i, syn in enumerate(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert len(fake.live) == 10 and len({m["embeds"][0]["url"] for m in fake.live}) == 10
        assert 429 not in fake.answers and fake.answers.count(200) >= 10


def test_the_channel_limit_can_be_lowered_as_the_docs_say(fake: FakeDiscord, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from syndicate.state.ratelimit import effective_rates

    syn = engine(fake, tmp_path, monkeypatch, extra="")
    (tmp_path / "site" / "syndicate.toml").write_text(
        (tmp_path / "site" / "syndicate.toml").read_text() + 'rate_limits = { create = "20/1m" }\n')
    conn = Syndicator(load_config(tmp_path / "site" / "syndicate.toml")).connector("discord")
    rates = effective_rates(conn.limits.rates, conn.option("rate_limits"))
    assert ("create", 20, 60) in [(r.kind, r.amount, r.seconds) for r in rates] and syn is not None


# --- property: whatever the title, Discord accepts it and shows it as written -----------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PIECES = st.sampled_from(["*", "**", "_", "__", "~~", "||", "`", "```", "\\", "[a](b)", "> ", "# ", "-# ", "1. ",
                          "- ", "+ ", "<@123>", "@everyone", "https://a.example/x_y*z", "日本語", "👍🏽", " ", "e\u0301"])
TEXT = st.lists(st.one_of(st.text(max_size=8), PIECES), max_size=25).map("".join)


@pytest.fixture(scope="module")
def shared_fake() -> Iterator[FakeDiscord]:
    with FakeDiscord() as server:
        yield server


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=TEXT, summary=TEXT, tags=st.lists(TEXT, max_size=5))
def test_any_title_is_accepted_and_shown_as_written(shared_fake: FakeDiscord, title: str, summary: str,
                                                    tags: list[str]) -> None:
    from syndicate.engine.social import plain

    c = discord(shared_fake, template="{title} {excerpt} {url}")
    post = make_post(1, title=title, summary=summary, tags=tags)
    remote = c.create(render(c, post), "k")
    embed = shared_fake.messages[str(remote.id)]["embeds"][0]
    assert shown(embed["title"]) == (plain(title) or post.url, False)
    if plain(post.excerpt):
        assert shown(embed["description"]) == (plain(post.excerpt), False)


def test_a_worker_logging_at_info_never_logs_the_token(fake: FakeDiscord, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.DEBUG)  # `syndicate worker` runs Celery at --loglevel=info; some debug
    syn = engine(fake, tmp_path, monkeypatch)
    assert syn.run_inline(in_site(syn, 1), "discord", sleep=nosleep).status == "done"
    assert fake.live and TOKEN not in caplog.text
