"""Slack (bot token and incoming webhook) against the fake Slack: the contract twice, then Slack's own rules."""
from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.slack import Slack, SlackOptions
from connectors.slack_text import escape, link, permalink_ids
from syndicate.config import ConfigError, Secret, TargetConfig
from syndicate.content.post import Control, Image
from syndicate.contract import AuthFailed, Draft, NotFound, Permanent, RateLimited, Remote, SendContext
from syndicate.engine.fitting import fit_draft
from syndicate.engine.runner import Syndicator
from syndicate.registry import load_config
from syndicate.testing import ConnectorContract, make_post, unthrottled
from tests.fakes.slack import (
    CHANNEL_ID,
    OTHER_TOKEN,
    TEAM_ID,
    TOKEN,
    WEBHOOK_SECRET,
    FakeSlack,
    shown,
)


class TestSlackContract(ConnectorContract):
    connector_type = "slack"
    secret = TOKEN
    env = {"SLACK_BOT_TOKEN": TOKEN}
    wrong_env = {"SLACK_BOT_TOKEN": "xoxb-1111111111-2222222222-wrongwrongwrong"}

    def fake(self) -> FakeSlack:
        return FakeSlack()

    def options(self, fake: Any) -> dict[str, Any]:
        return {"bot_token": "${SLACK_BOT_TOKEN}", "channel": CHANNEL_ID, "base_url": fake.api}

    def live(self, fake: Any) -> int:
        return len(fake.live)

    def title(self, draft: Draft) -> str | None:
        return str(draft.fields["header"])


class TestSlackWebhookContract(ConnectorContract):
    connector_type = "slack"
    secret = WEBHOOK_SECRET
    env = {"SLACK_WEBHOOK_URL": "placeholder"}  # the fake's port is known only once it runs: set in options()
    wrong_env = {"SLACK_WEBHOOK_URL": "http://127.0.0.1:9/services/T0FAKE0001/B0FAKE0001/wrongWRONGwrong"}

    def fake(self) -> FakeSlack:
        return FakeSlack()

    def options(self, fake: Any) -> dict[str, Any]:
        import os

        current = os.environ.get("SLACK_WEBHOOK_URL", "")
        if "wrong" in current:  # the 401 case: a webhook the fake does not know, on the fake
            os.environ["SLACK_WEBHOOK_URL"] = fake.url + "/services/T0FAKE0001/B0FAKE0001/wrongWRONGwrong"
        else:
            os.environ["SLACK_WEBHOOK_URL"] = fake.webhook_url
        return {"webhook_url": "${SLACK_WEBHOOK_URL}"}

    def live(self, fake: Any) -> int:
        return len(fake.live)

    def title(self, draft: Draft) -> str | None:
        return str(draft.fields["header"])


class TestSlackFindContract(TestSlackContract):
    """`find = true`: a lost create is found in the channel's history by the key in its metadata."""

    def options(self, fake: Any) -> dict[str, Any]:
        return {**super().options(fake), "find": True}



# --- helpers ----------------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


def slack(fake: FakeSlack, **options: Any) -> Slack:
    """A connector with options validated as the config loader validates them (bot mode unless told)."""
    if "webhook_url" not in options:
        options = {"bot_token": TOKEN, "channel": CHANNEL_ID, **options}
    model = SlackOptions.model_validate({"type": "slack", "base_url": fake.api, **options})
    values = {k: getattr(model, k) for k in SlackOptions.model_fields
              if k != "type" and getattr(model, k) is not None}
    return Slack(TargetConfig("slack", "slack", values, model), http=_client())


@functools.cache
def _client() -> httpx.Client:
    return httpx.Client(timeout=5, verify=False)


def render(c: Slack, post: Any) -> Draft:
    return fit_draft(c.render(post), c.limits_for(None))


def body(c: Slack, draft: Draft) -> Any:
    return c.build_create(draft, "k", SendContext(preview=True)).json


def engine(fake: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, extra: str = "",
           webhook: bool = False, **options: Any) -> Syndicator:
    if webhook:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", fake.webhook_url)
        keys: dict[str, Any] = {"webhook_url": "${SLACK_WEBHOOK_URL}", **options}
    else:
        monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
        keys = {"base_url": fake.api, "bot_token": "${SLACK_BOT_TOKEN}", "channel": CHANNEL_ID, **options}
    lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in keys.items())
    site = tmp_path / "site"
    (site / "content").mkdir(parents=True, exist_ok=True)
    (site / "syndicate.toml").write_text(
        f'[site]\nurl = "https://blog.example"\n[state]\nurl = "sqlite:///{tmp_path}/state.db"\n{extra}'
        f'[targets.slack]\ntype = "slack"\n{lines}', encoding="utf-8")
    syn = Syndicator(load_config(site / "syndicate.toml"), media=_Media())
    # no shared Redis: the embedded limiter, whose windows the tests' no-op sleeps would never pass
    return syn if "redis" in extra else unthrottled(syn, "slack")


class _Media:
    rehost_store = None

    def probe(self, url: str) -> None:
        return None


def in_site(syn: Syndicator, n: int, **changes: Any) -> Any:
    post = make_post(n, **changes)
    post.path = syn.config.site.root / "content" / f"post-{n}.md"
    return post


def nosleep(seconds: float) -> None:
    pass


def sqlite_dump(path: Path) -> str:
    import sqlite3

    with sqlite3.connect(path) as db:
        return "\n".join(db.iterdump())


# --- render: header, section, image; the text fallback ------------------------------------------


def test_render_is_a_header_a_section_and_an_image(fake: FakeSlack) -> None:
    post = make_post(1, cover=Image(src="c.png", url="https://blog.example/c.png", alt="A red square"))
    c = slack(fake)
    assert body(c, render(c, post)) == {
        "channel": CHANNEL_ID,
        "text": "Post number 1\nSummary of post 1.\n\n<https://blog.example/posts/post-1/|blog.example/posts/post-1>",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Post number 1", "emoji": True}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "Summary of post 1.\n\n"
                                         "<https://blog.example/posts/post-1/|blog.example/posts/post-1>"}},
            {"type": "image", "image_url": "https://blog.example/c.png", "alt_text": "A red square"},
        ],
        "unfurl_links": False, "unfurl_media": False,
        "metadata": {"event_type": "syndicate_post", "event_payload": {"key": "k"}},
    }
    request = c.build_create(render(c, post), "k", SendContext(preview=True))
    assert (request.method, request.url) == ("POST", fake.api + "/chat.postMessage")


def test_cover_without_alt_or_public_url_and_cover_none(fake: FakeSlack) -> None:
    c = slack(fake)
    no_alt = body(c, render(c, make_post(1, cover=Image(src="c.png", url="https://blog.example/c.png"))))
    assert no_alt["blocks"][2]["alt_text"] == "Post number 1"  # alt_text is required: the title stands in
    local = render(c, make_post(1, cover=Image(src="c.png", path=Path("/tmp/c.png"))))
    assert len(body(c, local)["blocks"]) == 2 and any("no absolute http(s) URL" in w for w in local.warnings)
    none = slack(fake, cover="none")
    assert len(body(none, render(none, make_post(1, cover=Image(src="c.png", url="https://b.example/c.png"))))
               ["blocks"]) == 2


def test_template_and_overrides(fake: FakeSlack) -> None:
    c = slack(fake, template="New: {title} {url} {hashtags}")
    draft = render(c, make_post(1, tags=["a&b", "python"]))
    assert draft.text == "New: Post number 1 <https://blog.example/posts/post-1/|blog.example/posts/post-1> #AB #python"
    over = Control(overrides={"slack": {"text": "Read *this* one: A & B", "title": "Another title"}})
    draft = render(c, make_post(1, control=over))
    assert draft.text == ("Read *this* one: A &amp; B\n\n"
                          "<https://blog.example/posts/post-1/|blog.example/posts/post-1>")
    assert draft.fields["header"] == "Another title"


# --- escaping and links: what Slack shows ------------------------------------------------------------


def test_ampersands_and_angle_brackets_show_as_written(fake: FakeSlack) -> None:
    title = "Vec<T> & Option<&str> -> <b>bold</b>"
    summary = "a < b && c > d, &amp; is an entity, <https://x.example> is not a link here"
    c = slack(fake, template="{title}\n{excerpt}\n{url}")
    post = make_post(1, title=title, summary=summary)
    remote = c.create(render(c, post), "k")
    message = fake.messages[(CHANNEL_ID, str(remote.extra["ts"]))]
    assert message["mangled"] == []
    assert message["shown"][0] == title  # the header is plain_text: sent as written
    from syndicate.engine.social import plain

    assert message["shown"][1] == f"{title}\n{plain(post.excerpt)}\nblog.example/posts/post-1"
    assert "a < b && c > d, & is an entity" in message["shown"][1]
    assert shown(message["text"])[0].startswith(title)


def test_the_fake_sees_what_slack_would_mangle(fake: FakeSlack) -> None:
    raw = {"channel": CHANNEL_ID, "text": "Vec<T> & co", "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "a <b> c & d"}}]}
    answer = httpx.post(fake.api + "/chat.postMessage", json=raw, headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.json()["ok"] is True
    (message,) = fake.live
    assert "<b>" in message["mangled"] and "&" in message["mangled"] and "<T>" in message["mangled"]
    assert shown("<https://a.example/x?a=1&amp;b=2|the &lt;post&gt;>") == ("the <post>", [])


def test_links_use_the_url_label_form() -> None:
    assert link("https://blog.example/a/") == "<https://blog.example/a/|blog.example/a>"
    assert link("https://blog.example/?q=a&b=|x>") == "<https://blog.example/?q=a&amp;b=%7Cx%3E|blog.example?q=a&amp;b=|x&gt;>"
    assert escape("1 < 2 & 3 > 2") == "1 &lt; 2 &amp; 3 &gt; 2"


def test_a_cut_entity_never_reaches_slack(fake: FakeSlack) -> None:
    c = slack(fake)
    post = make_post(1, summary="&" * 2990)  # every & is 5 characters once escaped: the cut falls inside one
    draft = render(c, post)
    sent = body(c, draft)["blocks"][1]["text"]["text"]
    assert len(sent) <= 3000 and shown(sent)[1] == []
    remote = c.create(draft, "k")
    assert fake.messages[(CHANNEL_ID, str(remote.extra["ts"]))]["mangled"] == []


# --- Block Kit limits, counted by the fake on its own ---------------------------------------------


def test_every_block_fits_its_limit(fake: FakeSlack) -> None:
    post = make_post(1, title="T" * 400, summary="word " * 1200,
                     cover=Image(src="c.png", url="https://blog.example/c.png", alt="A" * 2500))
    c = slack(fake)
    draft = render(c, post)
    blocks = body(c, draft)["blocks"]
    assert len(blocks[0]["text"]["text"]) == 150 and len(blocks[1]["text"]["text"]) <= 3000
    assert len(blocks[2]["alt_text"]) == 2000
    assert any("header shortened" in w for w in draft.warnings)
    remote = c.create(draft, "k")
    assert fake.messages[(CHANNEL_ID, str(remote.extra["ts"]))]["blocks"] == blocks


def test_a_block_over_its_limit_is_refused_naming_the_limit(fake: FakeSlack) -> None:
    c = slack(fake)
    draft = render(c, make_post(1))
    draft.fields["header"] = "H" * 151
    with pytest.raises(Permanent) as info:
        c.create(draft, "k")
    assert "invalid_blocks" in str(info.value) and "header ≤ 150" in str(info.value)
    assert "/blocks/0/text" in str(info.value) and fake.live == []
    too_long = {"channel": CHANNEL_ID, "text": "x" * 40_001}
    answer = httpx.post(fake.api + "/chat.postMessage", json=too_long, headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200 and answer.json() == {"ok": False, "error": "msg_too_long"}
    many = {"channel": CHANNEL_ID, "text": "x", "blocks": [{"type": "divider"}] * 51}
    answer = httpx.post(fake.api + "/chat.postMessage", json=many, headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.json()["error"] == "invalid_blocks"


# --- bot mode: channel and ts kept; update; delete ---------------------------------------------------


def test_the_copy_keeps_the_channel_id_and_ts_even_for_a_channel_name(fake: FakeSlack) -> None:
    c = slack(fake, channel="#announcements")
    remote = c.create(render(c, make_post(1)), "k")
    channel, _, ts = str(remote.id).partition("/")
    assert channel == CHANNEL_ID and (channel, ts) in fake.messages
    assert remote.extra == {"channel": CHANNEL_ID, "ts": ts}
    c.update(remote, render(c, make_post(1, title="Edited")))  # chat.update takes the id, not the name
    assert fake.messages[(channel, ts)]["edits"] == 1
    assert fake.requests[-1].json()["channel"] == CHANNEL_ID


def test_edit_updates_the_message_in_place(fake: FakeSlack) -> None:
    c = slack(fake)
    remote = c.create(render(c, make_post(1)), "k")
    edited = c.update(remote, render(c, make_post(1, title="Edited")))
    assert edited.id == remote.id and len(fake.messages) == 1
    message = fake.messages[(CHANNEL_ID, str(remote.extra["ts"]))]
    assert message["edits"] == 1 and message["blocks"][0]["text"]["text"] == "Edited"
    assert fake.requests[-1].path == "/api/chat.update"


def test_delete_removes_the_message_and_a_second_delete_is_harmless(fake: FakeSlack) -> None:
    c = slack(fake)
    remote = c.create(render(c, make_post(1)), "k")
    c.delete(remote)
    c.delete(remote)  # message_not_found: already gone
    assert fake.live == [] and [r.path for r in fake.requests[-2:]] == ["/api/chat.delete"] * 2
    with pytest.raises(NotFound):
        c.update(remote, render(c, make_post(1)))


def test_a_copy_given_by_its_permalink_or_bare_ts(fake: FakeSlack) -> None:
    c = slack(fake)
    remote = c.create(render(c, make_post(1)), "k")
    ts = str(remote.extra["ts"])
    link_url = f"https://team.slack.com/archives/{CHANNEL_ID}/p{ts.replace('.', '')}"
    assert permalink_ids(link_url) == (CHANNEL_ID, ts)
    c.update(Remote(None, link_url), render(c, make_post(1, title="One")))
    c.update(Remote(ts), render(c, make_post(1, title="Two")))
    assert fake.messages[(CHANNEL_ID, ts)]["edits"] == 2
    with pytest.raises(Permanent, match="resolve --url"):
        c.build_delete(Remote("nonsense"))


def test_find_knows_a_message_by_the_key_in_its_metadata(fake: FakeSlack) -> None:
    c = slack(fake, find=True)
    assert c.abilities.can_find and not slack(fake).abilities.can_find
    remote = c.create(render(c, make_post(1)), "key-1")
    c.create(render(c, make_post(2)), "key-2")
    found = c.find(make_post(1), "key-1")
    assert found is not None and found.id == remote.id and found.extra == remote.extra
    assert c.find(make_post(3), "key-3") is None
    request = fake.requests[-1]
    assert (request.path, request.param("include_all_metadata"), request.param("limit")) == (
        "/api/conversations.history", "true", "15")
    assert slack(fake).find(make_post(1), "key-1") is None  # without find = true: nothing is read
    fake.scopes[TOKEN].discard("channels:history")
    with pytest.raises(AuthFailed, match="needs channels:history"):
        c.find(make_post(1), "key-1")


def test_an_edit_keeps_the_metadata(fake: FakeSlack) -> None:
    c = slack(fake, find=True)
    remote = c.create(render(c, make_post(1)), "key-1")
    c.update(remote, render(c, make_post(1, title="Edited")))
    found = c.find(make_post(1), "key-1")
    assert found is not None and found.id == remote.id


# --- errors: ok:false in a 200 ------------------------------------------------------------------------


def test_auth_errors_stop_the_target(fake: FakeSlack) -> None:
    wrong = slack(fake, bot_token="xoxb-1-2-nope")
    with pytest.raises(AuthFailed, match="invalid_auth"):
        wrong.create(render(wrong, make_post(1)), "k")
    fake.revoked.add(TOKEN)
    c = slack(fake)
    with pytest.raises(AuthFailed, match="token_revoked.*install it again") as info:
        c.create(render(c, make_post(1)), "k")
    assert TOKEN not in str(info.value)
    no_token = httpx.post(fake.api + "/chat.postMessage", json={"channel": CHANNEL_ID, "text": "x"})
    assert no_token.status_code == 200 and no_token.json() == {"ok": False, "error": "not_authed"}


@pytest.mark.parametrize(("channel", "says"), [
    ("C0NOSUCH01", "channel_not_found: the channel does not exist"),
    ("C0NOTMEMBER", "not_in_channel: the bot is not a member of the channel: `/invite"),
    ("C0ARCHIVED1", "is_archived: the channel is archived"),
])
def test_channel_errors_are_permanent_with_what_to_do(fake: FakeSlack, channel: str, says: str) -> None:
    c = slack(fake, channel=channel)
    with pytest.raises(Permanent) as info:
        c.create(render(c, make_post(1)), "k")
    assert says in str(info.value) and not isinstance(info.value, NotFound)


def test_another_apps_message_cannot_be_edited_or_deleted(fake: FakeSlack) -> None:
    mine = slack(fake)
    theirs = slack(fake, bot_token=OTHER_TOKEN)
    remote = theirs.create(render(theirs, make_post(1)), "k")
    with pytest.raises(Permanent, match="cant_update_message: the message was not posted by this app"):
        mine.update(remote, render(mine, make_post(1)))
    with pytest.raises(Permanent, match="cant_delete_message"):
        mine.delete(remote)


def test_429_waits_the_retry_after(fake: FakeSlack) -> None:
    c = slack(fake)
    fake.rate_limit_next(1, retry_after=30)
    with pytest.raises(RateLimited) as info:
        c.create(render(c, make_post(1)), "k")
    assert info.value.retry_after == pytest.approx(30) and fake.live == []


def test_ratelimited_in_a_200_is_rate_limited_too() -> None:
    from connectors.slack_errors import check_response

    answer = httpx.Response(200, json={"ok": False, "error": "ratelimited"}, headers={"Retry-After": "4"},
                            request=httpx.Request("POST", "https://slack.com/api/chat.postMessage"))
    with pytest.raises(RateLimited) as info:
        check_response(answer, "slack", webhook=False)
    assert info.value.retry_after == 4
    scope = httpx.Response(200, json={"ok": False, "error": "missing_scope", "needed": "chat:write"},
                           request=httpx.Request("POST", "https://slack.com/api/chat.postMessage"))
    with pytest.raises(AuthFailed, match="needs chat:write"):
        check_response(scope, "slack", webhook=False)


def test_verify_is_auth_test(fake: FakeSlack) -> None:
    c = slack(fake)
    request = c.build_verify()
    assert request is not None and (request.method, request.url) == ("GET", fake.api + "/auth.test")
    assert c.send(request).json()["team_id"] == TEAM_ID
    wrong = slack(fake, bot_token="xoxb-0-0-wrong")
    with pytest.raises(AuthFailed):
        wrong.send(wrong.build_verify())  # type: ignore[arg-type]
    hook = slack(fake, webhook_url=fake.webhook_url)
    assert hook.build_verify() is None  # a webhook has no read: anything sent is posted
    assert hook.notices(None, __import__("datetime").datetime.now())[0].level == "info"


# --- the per-channel rate limit ---------------------------------------------------------------------


def test_one_message_a_second_per_channel_with_a_short_burst() -> None:
    now = [1_800_000_000.0]
    with FakeSlack(time_scale=1.0, burst=2, clock=lambda: now[0]) as fake:
        c = slack(fake)
        c.create(render(c, make_post(1)), "k1")
        c.create(render(c, make_post(2)), "k2")  # the burst
        with pytest.raises(RateLimited) as info:
            c.create(render(c, make_post(3)), "k3")
        assert info.value.retry_after == 1 and fake.answers[-1] == 429
        now[0] += 1.0
        c.create(render(c, make_post(3)), "k3")
        assert len(fake.live) == 3


@pytest.mark.redis
def test_the_declared_limit_paces_creates_at_one_a_second(redis_url: str) -> None:
    import math
    import uuid

    from syndicate.state.ratelimit import RateLimiter, margin

    start = now = 1_800_000_000.0
    limiter = RateLimiter(redis_url, namespace="syndicate:test:slack:" + uuid.uuid4().hex[:8],
                          clock=lambda: now, pace=False)
    sent = []
    while now < start + 10:
        wait = limiter.acquire("slack:acct", "create", Slack.limits.rates)
        if wait == 0:
            sent.append(now)
        now += wait or 0.001
    # one a second, and a slot frees a margin after its window (syndicate.state.ratelimit.margin)
    spacing = 1 + margin(1)
    assert len(sent) == math.ceil(10 / spacing)  # the grants at 0, spacing, 2 × spacing … before 10 s
    assert all(b - a >= 0.999 for a, b in zip(sent, sent[1:], strict=False))


@pytest.mark.redis
def test_two_workers_post_a_backfill_without_a_429(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   redis_url: str) -> None:
    import threading
    import time
    import uuid

    # the shared limiter counts whole seconds (RateLimiter.seconds): Slack's 1 a second cannot be scaled
    # down, so this runs in Slack's own time, at the fake's exact rule (1 a second, a burst of 2)
    with FakeSlack(time_scale=1.0) as fake:
        extra = f'[queue]\nredis = "{redis_url}"\n'
        first = engine(fake, tmp_path, monkeypatch, extra=extra, channel=CHANNEL_ID,
                       template="{excerpt} {url} " + uuid.uuid4().hex[:6])
        workers = [first, Syndicator(first.config, media=_Media())]  # one ledger, one limiter
        posts = [in_site(first, n) for n in range(6)]

        def work(syn: Syndicator, mine: list[Any]) -> None:
            for post in mine:
                for _ in range(100):
                    outcome = syn.run_inline(post, "slack", sleep=time.sleep)
                    if outcome.status == "done":
                        break
                    assert outcome.status == "deferred", outcome
                    syn.ledger.update(post.id, "slack", deferred_until=None)

        threads = [threading.Thread(target=work, args=(syn, posts[i::2])) for i, syn in enumerate(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert len(fake.live) == 6 and 429 not in fake.answers


# --- webhook mode ---------------------------------------------------------------------------------------


def test_a_webhook_posts_once_and_keeps_no_id(fake: FakeSlack) -> None:
    c = slack(fake, webhook_url=fake.webhook_url)
    assert c.abilities.returns_id is False and c.abilities.can_update is False and c.abilities.delete == "none"
    assert Slack.abilities.can_update is True  # the class (bot) declaration is untouched
    request = c.build_create(render(c, make_post(1)), "k", SendContext(preview=True))
    assert request.url == "{webhook_url}" and "channel" not in (request.json or {})
    remote = c.create(render(c, make_post(1)), "k")
    assert remote.id is None and len(fake.live) == 1 and fake.live[0]["via"] == "webhook"


def test_a_webhook_edit_and_delete_are_not_propagated(fake: FakeSlack, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch, webhook=True)
    assert syn.run_inline(in_site(syn, 1), "slack", sleep=nosleep).status == "done"
    edited = syn.plan_for(in_site(syn, 1, title="Edited"), "slack")
    assert edited.action == "skip" and "not propagated" in edited.reason
    gone = syn.plan_for(in_site(syn, 1, hidden="draft", draft=True), "slack")
    assert gone.action == "skip" and "cannot delete" in gone.reason
    assert len(fake.live) == 1 and len([r for r in fake.requests if r.method == "POST"]) == 1


@pytest.mark.parametrize(("setup", "error", "says"), [
    ("unknown", AuthFailed, "no_service: the webhook was removed"),
    ("archived", Permanent, "channel_is_archived: the channel is archived"),
])
def test_webhook_errors_are_plain_text_and_mapped(fake: FakeSlack, setup: str, error: type[Exception],
                                                  says: str) -> None:
    url = fake.webhook_url
    if setup == "unknown":
        url = fake.url + "/services/T0FAKE0001/B0FAKE0001/ZZZunknownZZZ"
    else:
        fake.channels[CHANNEL_ID]["archived"] = True
    c = slack(fake, webhook_url=url)
    with pytest.raises(error) as info:
        c.create(render(c, make_post(1)), "k")
    assert says in str(info.value) and "ZZZunknownZZZ" not in str(info.value)


def test_a_webhook_refuses_a_bad_payload_and_says_so(fake: FakeSlack) -> None:
    c = slack(fake, webhook_url=fake.webhook_url)
    draft = render(c, make_post(1))
    draft.fields["header"] = "H" * 151
    with pytest.raises(Permanent, match="invalid_blocks"):
        c.create(draft, "k")
    raw = httpx.post(fake.webhook_url, content=b"not json", headers={"Content-Type": "application/json"})
    assert (raw.status_code, raw.text) == (400, "invalid_payload")
    from connectors.slack_errors import check_response

    with pytest.raises(Permanent, match="invalid_payload: Slack could not read the message"):
        check_response(raw, "slack", webhook=True)


# --- options ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("options", "says"), [
    ({"bot_token": "${BAD}", "channel": CHANNEL_ID, "webhook_url": "https://hooks.slack.com/services/T1/B1/X"},
     "not both"),
    ({}, "set bot_token + channel"),
    ({"bot_token": "${BAD}"}, "bot_token needs channel"),
    ({"webhook_url": "${BAD}"}, "not a Slack incoming webhook URL"),
    ({"bot_token": "${BAD}", "channel": "C1"}, "not a Slack token"),
    ({"bot_token": "${BAD}", "channel": CHANNEL_ID, "template": "{title}"}, "must contain {url}"),
    ({"bot_token": "${BAD}", "channel": "#announcements", "find": True}, "channel as an id"),
])
def test_bad_options_say_what_is_allowed_without_the_secret(fake: FakeSlack, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            options: dict[str, Any], says: str) -> None:
    secret = "xoxb-1-2-XYZSECRET" if "bot_token" in options and options.get("channel") != "C1" else "XYZSECRET"
    if "webhook_url" in options and "bot_token" not in options:
        secret = "https://discord.com/api/webhooks/1/XYZSECRET"
    monkeypatch.setenv("BAD", secret)
    site = tmp_path / "site"
    (site / "content").mkdir(parents=True)
    lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in options.items())
    (site / "syndicate.toml").write_text(
        f'[site]\nurl = "https://blog.example"\n[state]\nurl = "sqlite:///{tmp_path}/s.db"\n'
        f'[targets.slack]\ntype = "slack"\n{lines}', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(site / "syndicate.toml")
    assert says in str(info.value) and "targets.slack" in str(info.value) and "XYZSECRET" not in str(info.value)


def test_a_target_without_its_variables_is_skipped_and_previewed(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    site = tmp_path / "site"
    (site / "content").mkdir(parents=True)
    (site / "syndicate.toml").write_text(
        f'[site]\nurl = "https://blog.example"\n[state]\nurl = "sqlite:///{tmp_path}/s.db"\n'
        f'[targets.slack]\ntype = "slack"\nbot_token = "${{SLACK_BOT_TOKEN}}"\nchannel = "{CHANNEL_ID}"\n',
        encoding="utf-8")
    strict = load_config(site / "syndicate.toml")
    assert "slack" in strict.skipped and "slack" not in strict.targets
    lenient = load_config(site / "syndicate.toml", strict=False)
    syn = Syndicator(lenient)
    shown_requests = syn.requests(syn.plan_for(in_site(syn, 1), "slack"))
    assert shown_requests[-1]["url"].endswith("/chat.postMessage")


# --- through the engine ----------------------------------------------------------------------------------


def test_the_ledger_keeps_channel_ts_and_permalink_and_no_token(fake: FakeSlack, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    syn = engine(fake, tmp_path, monkeypatch)
    assert syn.run_inline(in_site(syn, 1), "slack", sleep=nosleep).status == "done"
    row = syn.ledger.get("post-1", "slack")
    assert row is not None and str(row.remote_id).startswith(CHANNEL_ID + "/")
    ts = str(row.remote_id).split("/")[1]
    assert row.remote_url == f"{fake.url}/archives/{CHANNEL_ID}/p{ts.replace('.', '')}"
    assert syn.run_inline(in_site(syn, 1, title="Edited"), "slack", sleep=nosleep).status == "done"
    assert fake.messages[(CHANNEL_ID, ts)]["edits"] == 1
    gone = syn.run_inline(in_site(syn, 1, hidden="draft", draft=True), "slack", sleep=nosleep)
    assert gone.action == "delete" and gone.status == "done" and fake.live == []
    assert TOKEN not in sqlite_dump(tmp_path / "state.db") + caplog.text


def test_a_webhook_secret_shows_nowhere(fake: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    syn = engine(fake, tmp_path, monkeypatch, webhook=True)
    assert syn.run_inline(in_site(syn, 1), "slack", sleep=nosleep).status == "done"
    fake.channels[CHANNEL_ID]["archived"] = True
    failed = syn.run_inline(in_site(syn, 2), "slack", sleep=nosleep)
    assert failed.status == "failed"
    preview = json.dumps(syn.requests(syn.plan_for(in_site(syn, 3), "slack")))
    conn = syn.connector("slack")
    text = (json.dumps(failed.as_dict()) + caplog.text + preview + sqlite_dump(tmp_path / "state.db")
            + repr(conn.target.masked()) + repr(vars(conn)))
    assert WEBHOOK_SECRET not in text and "{webhook_url}" in preview
    assert isinstance(conn.option("webhook_url"), Secret)


# --- property: whatever the text, Slack accepts it and shows it as written ----------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PIECES = st.sampled_from(["&", "&amp;", "&lt;", "<", ">", "<@U123>", "<!here>", "<https://a.example|x>", "*", "_",
                          "~", "`", "|", "https://a.example/x?a=1&b=2", "日本語", "👍🏽", " ", "\n", "e\u0301"])
TEXT = st.lists(st.one_of(st.text(max_size=8), PIECES), max_size=25).map("".join)


@pytest.fixture(scope="module")
def shared_fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=TEXT, summary=TEXT)
def test_any_text_is_accepted_and_shown_as_written(shared_fake: FakeSlack, title: str, summary: str) -> None:
    from syndicate.engine.social import plain

    c = slack(shared_fake, template="{title} {excerpt} {url}")
    post = make_post(1, title=title, summary=summary)
    remote = c.create(render(c, post), "k")
    message = shared_fake.messages[(CHANNEL_ID, str(remote.extra["ts"]))]
    assert message["mangled"] == []
    assert message["shown"][0] == (plain(title) or post.url)[:150] or message["shown"][0].endswith("…")
    if plain(post.excerpt):
        assert plain(post.excerpt) in message["shown"][1]
