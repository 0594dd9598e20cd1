"""Telegram (a bot in a channel or group) against the fake Bot API: the contract, then Telegram's own rules."""
from __future__ import annotations

import functools
import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.telegram import Telegram, TelegramOptions
from connectors.telegram_text import escape, link_ids, message_link
from syndicate.config import ConfigError, TargetConfig
from syndicate.content.post import Control, Image
from syndicate.content.text import count
from syndicate.contract import AuthFailed, Draft, NotFound, Permanent, RateLimited, Remote, SendContext
from syndicate.engine.fitting import fit_draft
from syndicate.engine.runner import Syndicator
from syndicate.engine.social import plain
from syndicate.registry import load_config
from syndicate.state.ledger import utcnow
from syndicate.testing import ConnectorContract, make_post, unthrottled
from tests.fakes.telegram import (
    BOT_ID,
    CHANNEL,
    CHANNEL_ID,
    GROUP_ID,
    KICKED,
    MIGRATED_ID,
    OLD_GROUP_ID,
    PRIVATE_ID,
    TOKEN,
    FakeTelegram,
    shown,
    utf16,
)

COVER = "https://blog.example/cover.png"
WRONG = f"{BOT_ID}:AAwrongwrongwrongwrongwrongwrong123"


class TestTelegramContract(ConnectorContract):
    connector_type = "telegram"
    secret = TOKEN
    env = {"TELEGRAM_BOT_TOKEN": TOKEN}
    wrong_env = {"TELEGRAM_BOT_TOKEN": WRONG}

    def fake(self) -> FakeTelegram:
        return FakeTelegram()

    def options(self, fake: Any) -> dict[str, Any]:
        return {"bot_token": "${TELEGRAM_BOT_TOKEN}", "chat_id": CHANNEL, "base_url": fake.url}

    def live(self, fake: Any) -> int:
        return len(fake.live)


# --- helpers ----------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> Iterator[FakeTelegram]:
    with FakeTelegram(now=clock) as server:
        yield server


def telegram(fake: FakeTelegram, **options: Any) -> Telegram:
    """A connector with options validated as the config loader validates them."""
    model = TelegramOptions.model_validate({"type": "telegram", "bot_token": TOKEN, "chat_id": CHANNEL,
                                            "base_url": fake.url, **options})
    values = {k: getattr(model, k) for k in TelegramOptions.model_fields
              if k != "type" and getattr(model, k) is not None}
    return Telegram(TargetConfig("telegram", "telegram", values, model), http=_client())


@functools.cache
def _client() -> httpx.Client:
    return httpx.Client(timeout=5, verify=False)  # the fake is plain HTTP: no CA bundle to load


def render(c: Telegram, post: Any) -> Draft:
    return fit_draft(c.render(post), c.limits_for(None))


def ctx_for(draft: Draft) -> SendContext:
    return SendContext(media={m.source: m.source for m in draft.media})


def body(c: Telegram, draft: Draft) -> Any:
    return c.build_create(draft, "k", ctx_for(draft)).json


def with_cover(n: int = 1, url: str = COVER, **changes: Any) -> Any:
    return make_post(n, cover=Image(src="cover.png", url=url, alt="A red square"), **changes)


def raw(fake: FakeTelegram, method: str, **params: Any) -> httpx.Response:
    return httpx.post(f"{fake.url}/bot{TOKEN}/{method}", json=params)


def engine(fake: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, extra: str = "",
           **options: Any) -> Syndicator:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    keys = {"base_url": fake.url, "bot_token": "${TELEGRAM_BOT_TOKEN}", "chat_id": CHANNEL, **options}
    lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in keys.items())
    site = tmp_path / "site"
    (site / "content").mkdir(parents=True, exist_ok=True)
    (site / "syndicate.toml").write_text(
        f'[site]\nurl = "https://blog.example"\n[state]\nurl = "sqlite:///{tmp_path}/state.db"\n{extra}'
        f'[targets.telegram]\n{lines}', encoding="utf-8")
    syn = Syndicator(load_config(site / "syndicate.toml"), media=_Media())
    # no shared Redis: the embedded limiter, whose windows the tests' no-op sleeps would never pass
    return syn if "redis" in extra else unthrottled(syn, "telegram")


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


def sqlite_dump(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return "\n".join(db.iterdump())


# --- render: a message, or the cover with a caption -------------------------------------------------


def test_render_is_a_message_in_html_mode_with_the_post_preview(fake: FakeTelegram) -> None:
    c = telegram(fake)
    draft = render(c, make_post(1))
    assert body(c, draft) == {
        "chat_id": CHANNEL, "parse_mode": "HTML",
        "text": "<b>Post number 1</b>\n\nSummary of post 1.\n\nhttps://blog.example/posts/post-1/\n\n#python #testing",
        "link_preview_options": {"url": "https://blog.example/posts/post-1/", "prefer_large_media": True},
    }
    request = c.build_create(draft, "k", SendContext(preview=True))
    assert request.url == fake.url + "/bot{token}/sendMessage" and request.method == "POST"


def test_a_cover_is_a_photo_with_a_caption(fake: FakeTelegram) -> None:
    c = telegram(fake, silent=True, chat_id=str(CHANNEL_ID))
    draft = render(c, with_cover())
    assert body(c, draft) == {
        "chat_id": CHANNEL_ID, "photo": COVER, "parse_mode": "HTML", "disable_notification": True,
        "caption": "<b>Post number 1</b>\n\nSummary of post 1.\n\nhttps://blog.example/posts/post-1/\n\n#python #testing",
    }
    remote = c.create(draft, "k", ctx_for(draft))
    message = fake.messages[(CHANNEL_ID, int(str(remote.id)))]
    assert message["photo"] == COVER and message["silent"] is True
    assert remote.extra == {"chat_id": CHANNEL_ID, "method": "caption", "photo": COVER}
    assert remote.url == f"https://t.me/blogchannel/{remote.id}"


def test_cover_preview_none_and_a_cover_telegram_cannot_show(fake: FakeTelegram) -> None:
    preview = render(telegram(fake, cover="preview"), with_cover())
    assert preview.media == [] and preview.fields["method"] == "sendMessage"
    none = body(telegram(fake, cover="none"), render(telegram(fake, cover="none"), with_cover()))
    assert none["link_preview_options"] == {"is_disabled": True} and "photo" not in none
    svg = render(telegram(fake), with_cover(url="https://blog.example/cover.svg"))
    assert svg.media == [] and any("not a public JPEG, PNG or WebP" in w for w in svg.warnings)
    local = render(telegram(fake), make_post(1, cover=Image(src="c.png", path=Path("/tmp/c.png"))))
    assert local.media == []
    over = render(telegram(fake), with_cover(control=Control(overrides={"telegram": {"cover": "none"}})))
    assert over.media == [] and over.fields["link_preview_options"] == {"is_disabled": True}


def test_template_and_override_text(fake: FakeTelegram) -> None:
    c = telegram(fake, template="New: {title} {url}")
    assert render(c, make_post(1)).text == "New: Post number 1 https://blog.example/posts/post-1/"
    over = Control(overrides={"telegram": {"text": "Read <this> & that"}})
    draft = render(c, make_post(1, control=over))
    assert draft.text == "Read <this> & that\n\nhttps://blog.example/posts/post-1/"
    remote = c.create(draft, "k")
    assert fake.messages[(CHANNEL_ID, int(str(remote.id)))]["text"] == draft.text  # shown as written


# --- HTML parse mode: escaped, so every title shows as written ------------------------------------------


def test_html_in_a_title_shows_as_written(fake: FakeTelegram) -> None:
    title = "Why a < b && c > d: <b>not bold</b> &amp; <script>x</script> &lt;"
    c = telegram(fake)
    remote = c.create(render(c, make_post(1, title=title, summary="x < y > z && w")), "k")
    text = fake.messages[(CHANNEL_ID, int(str(remote.id)))]["text"]
    # a title is plain text (its entities decoded by the engine): shown as that text, tags and all
    assert text.startswith(plain(title) + "\n\nx < y > z && w\n\n")
    assert "<b>not bold</b>" in text and "<script>" in text
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c" and escape("plain") == "plain"


def test_the_title_is_bold_whole_or_cut_and_only_the_title(fake: FakeTelegram) -> None:
    c = telegram(fake)
    assert body(c, render(c, make_post(1, title="a < b")))["text"].startswith("<b>a &lt; b</b>\n\n")
    long = render(c, with_cover(title="A long title " * 200))
    caption = body(c, long)["caption"]
    assert caption.startswith("<b>A long title") and caption.split("\n")[0].endswith("…</b>")
    remote = c.create(long, "k", ctx_for(long))  # the tags count nothing: the caption still fits
    assert fake.messages[(CHANNEL_ID, int(str(remote.id)))]["caption"] == long.text
    assert "<b>" not in body(c, render(c, make_post(1, control=Control(overrides={"telegram": {"text": "Hi"}}))))["text"]
    assert "<b>" not in body(telegram(fake, bold_title=False), render(telegram(fake, bold_title=False), make_post(1)))[
        "text"]
    assert "<b>" not in body(telegram(fake, template="{url} {title}"),
                             render(telegram(fake, template="{url} {title}"), make_post(1)))["text"]


def test_the_fake_refuses_what_html_mode_refuses(fake: FakeTelegram) -> None:
    for text, says in [("a < b > c", 'Unsupported start tag ""'), ("<script>x</script>", 'Unsupported start tag "script"'),
                       ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
                       ("<b><i>x</b></i>", "Unmatched end tag"), ("x <b", "Unclosed start tag")]:
        answer = raw(fake, "sendMessage", chat_id=CHANNEL, text=text, parse_mode="HTML")
        assert answer.status_code == 400, text
        assert answer.json()["description"].startswith("Bad Request: can't parse entities: " + says), answer.json()
    good = raw(fake, "sendMessage", chat_id=CHANNEL, text="<b>bold</b> &lt;3 <a href=\"https://x.example\">x</a>",
               parse_mode="HTML")
    assert good.status_code == 200 and good.json()["result"]["text"] == "bold <3 x"
    assert shown("&amp;lt; &#60; &#x3C;") == "&lt; < <"


# --- lengths: UTF-16 code units after parsing ------------------------------------------------------------


def test_utf16_counting() -> None:
    assert count("abc", "utf16") == 3
    assert count("日本語", "utf16") == 3
    assert count("\U0001F44D", "utf16") == 2  # past U+FFFF: a surrogate pair
    assert count("\U0001F468\u200d\U0001F469\u200d\U0001F467", "utf16") == 8
    assert count("e\u0301", "utf16") == 2


def test_an_emoji_heavy_post_fits_the_message_in_utf16(fake: FakeTelegram) -> None:
    c = telegram(fake)
    post = make_post(1, title="\U0001F600 " * 100, summary="\U0001F44D\U0001F3FD & <ok> " * 900)
    draft = render(c, post)
    assert utf16(draft.text or "") <= 4096 < len((draft.text or "").encode("utf-16-le"))
    assert any("text cut to fit 4096 UTF-16 code units" in w for w in draft.warnings)
    remote = c.create(draft, "k")  # the fake counts on its own, after parsing
    assert fake.messages[(CHANNEL_ID, int(str(remote.id)))]["text"] == draft.text


def test_a_caption_fits_1024_and_says_so(fake: FakeTelegram) -> None:
    c = telegram(fake)
    draft = render(c, with_cover(summary="word & " * 400))
    assert utf16(draft.text or "") <= 1024
    assert any("text cut to fit 1024 UTF-16 code units (excerpt shortened)" in w for w in draft.warnings)
    assert len(body(c, draft)["caption"]) > 1024  # escaped: "&amp;" counts one after parsing
    remote = c.create(draft, "k", ctx_for(draft))
    assert fake.messages[(CHANNEL_ID, int(str(remote.id)))]["caption"] == draft.text


def test_the_fake_counts_the_limits_after_parsing(fake: FakeTelegram) -> None:
    long = raw(fake, "sendMessage", chat_id=CHANNEL, text="\U0001F44D" * 2049)  # 2049 code points, 4098 units
    assert long.status_code == 400 and long.json()["description"] == "Bad Request: message is too long"
    fits = raw(fake, "sendMessage", chat_id=CHANNEL, text="&amp;" * 4096, parse_mode="HTML")
    assert fits.status_code == 200
    caption = raw(fake, "sendPhoto", chat_id=CHANNEL, photo=COVER, caption="x" * 1025)
    assert caption.json()["description"] == "Bad Request: message caption is too long"
    empty = raw(fake, "sendMessage", chat_id=CHANNEL, text="<b> </b>", parse_mode="HTML")
    assert empty.json()["description"] == "Bad Request: message text is empty"


# --- edits: the method that matches how the copy was made --------------------------------------------------


def test_a_message_is_edited_with_edit_message_text(fake: FakeTelegram) -> None:
    c = telegram(fake)
    remote = c.create(render(c, make_post(1)), "k")
    edited = c.update(remote, render(c, make_post(1, title="Edited")))
    assert edited.id == remote.id and fake.requests[-1].path.endswith("/editMessageText")
    message = fake.messages[(CHANNEL_ID, int(str(remote.id)))]
    assert message["edits"] == 1 and message["text"].startswith("Edited\n")


def test_a_photo_is_edited_with_its_caption_and_a_new_cover_with_the_media(fake: FakeTelegram) -> None:
    c = telegram(fake)
    draft = render(c, with_cover())
    remote = c.create(draft, "k", ctx_for(draft))
    key = (CHANNEL_ID, int(str(remote.id)))
    second = render(c, with_cover(title="Edited"))
    remote = c.update(remote, second, ctx_for(second))
    assert fake.requests[-1].path.endswith("/editMessageCaption") and fake.messages[key]["caption"].startswith("Edited")
    moved = render(c, with_cover(title="Edited", url="https://blog.example/new.jpg"))
    remote = c.update(remote, moved, ctx_for(moved))
    assert fake.requests[-1].path.endswith("/editMessageMedia")
    assert fake.messages[key]["photo"] == "https://blog.example/new.jpg" and remote.extra["photo"].endswith("new.jpg")
    gone = render(c, make_post(1, title="No cover now", summary="long " * 400))  # fitted to 4096
    c.update(remote, gone, ctx_for(gone))  # the copy is a photo: its caption keeps to 1,024
    assert fake.requests[-1].path.endswith("/editMessageCaption") and utf16(fake.messages[key]["caption"]) <= 1024
    assert fake.messages[key]["edits"] == 3 and len(fake.messages) == 1


def test_an_edit_that_changes_nothing_is_done(fake: FakeTelegram) -> None:
    c = telegram(fake)
    draft = render(c, make_post(1))
    remote = c.create(draft, "k")
    again = c.update(remote, draft)  # Telegram: 400 "message is not modified"
    assert again == remote and fake.answers[-1] == 400
    sent = fake.requests[-1].json()
    assert "message is not modified" in raw(fake, "editMessageText", **sent).json()["description"]
    sent["text"] += " (edited)"
    assert raw(fake, "editMessageText", **sent).status_code == 200


def test_an_edit_of_a_message_deleted_by_hand_is_not_found(fake: FakeTelegram) -> None:
    c = telegram(fake)
    remote = c.create(render(c, make_post(1)), "k")
    raw(fake, "deleteMessage", chat_id=CHANNEL, message_id=int(str(remote.id)))
    with pytest.raises(NotFound):
        c.update(remote, render(c, make_post(1, title="Edited")))
    c.delete(remote)  # already gone: that is what we wanted


# --- deletes: within 48 hours ----------------------------------------------------------------------------


def test_delete_works_for_48_hours_only(fake: FakeTelegram, clock: Clock) -> None:
    c = telegram(fake)
    first = c.create(render(c, make_post(1)), "k1")
    second = c.create(render(c, make_post(2)), "k2")
    clock.now += 47 * 3600
    c.delete(first)
    clock.now += 2 * 3600
    with pytest.raises(Permanent, match="under 48 hours old: not propagated"):
        c.delete(second)
    assert len(fake.live) == 1


def test_the_engine_does_not_send_a_delete_after_48_hours(fake: FakeTelegram, clock: Clock, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch)
    for n in (1, 2):
        assert syn.run_inline(in_site(syn, n), "telegram", sleep=nosleep).status == "done"
    gone = syn.run_inline(in_site(syn, 1, hidden="draft", draft=True), "telegram", sleep=nosleep)
    assert gone.action == "delete" and gone.status == "done" and len(fake.live) == 1
    syn.ledger.update("post-2", "telegram", published_at=utcnow() - timedelta(hours=49))
    clock.now += 49 * 3600
    p = syn.plan_for(in_site(syn, 2, hidden="draft", draft=True), "telegram")
    assert p.action == "skip" and "within 48 h" in p.reason and "not propagated" in p.reason
    seen = len(fake.requests)
    assert syn.run_inline(in_site(syn, 2, hidden="draft", draft=True), "telegram", sleep=nosleep).action == "skip"
    assert len(fake.requests) == seen and len(fake.live) == 1  # the copy stays, and nothing was sent


# --- errors --------------------------------------------------------------------------------------------


def test_429_waits_the_retry_after_in_the_body(fake: FakeTelegram) -> None:
    c = telegram(fake)
    fake.rate_limit_next(1, retry_after=5)
    with pytest.raises(RateLimited) as info:
        c.create(render(c, make_post(1)), "k")
    assert info.value.retry_after == 5 and fake.live == []
    answer = [r for r in fake.requests if r.path.endswith("sendMessage")]
    assert answer  # and the 429 carried no Retry-After header: only the body said it
    again = raw(fake, "getMe")
    assert again.status_code == 200


def test_a_429_without_a_header_is_read_from_the_body(fake: FakeTelegram) -> None:
    fake.rate_limit_next(1, retry_after=9)
    answer = raw(fake, "sendMessage", chat_id=CHANNEL, text="x")
    assert answer.status_code == 429 and "retry-after" not in answer.headers
    assert answer.json()["parameters"] == {"retry_after": 9}


def test_a_migrated_group_names_the_new_id(fake: FakeTelegram) -> None:
    c = telegram(fake, chat_id=str(OLD_GROUP_ID))
    with pytest.raises(Permanent) as info:
        c.create(render(c, make_post(1)), "k")
    assert f'set chat_id = "{MIGRATED_ID}"' in str(info.value) and "supergroup" in str(info.value)
    moved = telegram(fake, chat_id=str(MIGRATED_ID))
    assert moved.create(render(moved, make_post(1)), "k").url is not None


@pytest.mark.parametrize(("chat", "cls", "says"), [
    (KICKED, Permanent, "add it to the chat"),
    ("@nosuchchannel", Permanent, "no chat @nosuchchannel for this bot"),
])
def test_a_chat_the_bot_cannot_post_in_is_permanent(fake: FakeTelegram, chat: str, cls: type, says: str) -> None:
    c = telegram(fake, chat_id=chat)
    with pytest.raises(cls) as info:
        c.create(render(c, make_post(1)), "k")
    assert says in str(info.value) and not isinstance(info.value, AuthFailed)
    assert TOKEN not in str(info.value)


def test_a_cover_telegram_cannot_fetch_says_what_to_do(fake: FakeTelegram) -> None:
    c = telegram(fake)
    fake.unreachable.add(COVER)
    draft = render(c, with_cover())
    with pytest.raises(Permanent, match='could not fetch the cover.*cover = "preview"'):
        c.create(draft, "k", ctx_for(draft))
    assert fake.live == []


def test_a_wrong_or_malformed_token_stops_the_target(fake: FakeTelegram) -> None:
    wrong = telegram(fake, bot_token=WRONG)
    with pytest.raises(AuthFailed, match="bot_token"):
        wrong.send(wrong.build_verify())
    bare = telegram(fake)
    bare.target.options["bot_token"] = "not-a-token"  # as a proxy or a typo would pass it
    with pytest.raises(AuthFailed, match="bot_token"):
        bare.send(bare.build_verify())


def test_notices_name_a_basic_group_only(fake: FakeTelegram) -> None:
    assert telegram(fake).notices(None, utcnow()) == []
    assert telegram(fake, chat_id=str(CHANNEL_ID)).notices(None, utcnow()) == []
    (notice,) = telegram(fake, chat_id=str(GROUP_ID)).notices(None, utcnow())
    assert notice.level == "info" and "basic group" in notice.message and "chat_id" in notice.message
    c = telegram(fake, chat_id=str(GROUP_ID))
    assert c.create(render(c, make_post(1)), "k").url is None  # no link to a basic group's message


def test_verify_is_get_me(fake: FakeTelegram) -> None:
    c = telegram(fake)
    request = c.build_verify()
    assert (request.method, request.url) == ("GET", fake.url + "/bot{token}/getMe")
    assert c.send(request).json()["result"]["id"] == BOT_ID


# --- links to a message, and a copy recorded by hand ------------------------------------------------------


def test_links_of_public_private_and_group_chats(fake: FakeTelegram) -> None:
    assert message_link({"id": CHANNEL_ID, "username": "blogchannel"}, 7) == "https://t.me/blogchannel/7"
    assert message_link({"id": PRIVATE_ID}, 7) == "https://t.me/c/9876543210/7"
    assert message_link({"id": GROUP_ID}, 7) is None
    assert link_ids("https://t.me/blogchannel/7") == ("@blogchannel", "7")
    assert link_ids("https://t.me/c/9876543210/7") == (str(PRIVATE_ID), "7")
    assert link_ids("https://t.me/c/9876543210/3/7") == (str(PRIVATE_ID), "7")  # a topic's message
    assert link_ids("https://example.com/blogchannel/7") is None
    c = telegram(fake, chat_id=str(PRIVATE_ID))
    assert c.create(render(c, make_post(1)), "k").url == "https://t.me/c/9876543210/1"


def test_a_copy_resolved_by_its_link_is_edited_and_deleted(fake: FakeTelegram, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch)
    post = in_site(syn, 1)
    fake.lose_next(1, method="POST")
    assert syn.attempt(post, "telegram").status == "retry"
    assert syn.run_inline(post, "telegram", sleep=nosleep).status == "check"
    (message,) = fake.live
    syn.ledger.resolve(post.id, "telegram", found=True, remote_url=f"https://t.me/blogchannel/{message['message_id']}")
    assert syn.run_inline(in_site(syn, 1, title="Edited"), "telegram", sleep=nosleep).status == "done"
    assert message["edits"] == 1 and len(fake.messages) == 1
    gone = syn.run_inline(in_site(syn, 1, hidden="draft", draft=True), "telegram", sleep=nosleep)
    assert gone.action == "delete" and gone.status == "done" and fake.live == []


def test_a_copy_resolved_by_hand_is_edited_whatever_kind_it_is(fake: FakeTelegram) -> None:
    c = telegram(fake)
    text = c.create(render(c, make_post(1)), "k1")
    draft = render(c, with_cover(2))
    photo = c.create(draft, "k2", ctx_for(draft))
    for made, post in [(text, with_cover(1, title="Now with a cover")), (photo, make_post(2, title="No cover"))]:
        resolved = Remote(None, made.url)  # as `syndicate resolve --url` records it: a link, nothing else
        edited = render(c, post)
        remote = c.update(resolved, edited, ctx_for(edited))
        assert remote.extra["method"] == made.extra["method"] and remote.id == made.id
    message = fake.messages[(CHANNEL_ID, int(str(text.id)))]
    assert message["text"].startswith("Now with a cover") and message["edits"] == 1
    assert fake.messages[(CHANNEL_ID, int(str(photo.id)))]["caption"].startswith("No cover")


# --- secrets ----------------------------------------------------------------------------------------------


def test_a_failure_shows_no_token_anywhere(fake: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    syn = engine(fake, tmp_path, monkeypatch)
    assert syn.run_inline(in_site(syn, 1), "telegram", sleep=nosleep).status == "done"
    fake.fail_next(9, 400)
    outcome = syn.run_inline(in_site(syn, 2), "telegram", sleep=nosleep)
    assert outcome.status == "failed"
    preview = json.dumps(syn.requests(syn.plan_for(in_site(syn, 3), "telegram")))
    text = json.dumps(outcome.as_dict()) + caplog.text + preview + sqlite_dump(tmp_path / "state.db")
    assert TOKEN not in text and TOKEN.split(":")[1] not in text and "/bot{token}/sendMessage" in preview
    row = syn.ledger.get("post-1", "telegram")
    assert row is not None and row.remote_url == "https://t.me/blogchannel/1"


@pytest.mark.parametrize(("key", "value", "says"), [
    ("bot_token", "12345:short", "not a Telegram bot token"),
    ("chat_id", "blogchannel", "not a Telegram chat"),
    ("cover", "banner", "photo"),
    ("template", "{title}", "must contain {url}"),
])
def test_bad_options_name_the_key_and_what_is_allowed(fake: FakeTelegram, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch, key: str, value: str,
                                                      says: str) -> None:
    monkeypatch.setenv("BAD", value)
    with pytest.raises(ConfigError) as info:
        engine(fake, tmp_path, monkeypatch, **{key: "${BAD}" if key == "bot_token" else value})
    message = str(info.value)
    assert f"targets.telegram.{key}" in message and says in message
    assert "12345:short" not in message


def test_a_numeric_chat_id_may_be_a_toml_integer(fake: FakeTelegram, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch, chat_id=CHANNEL_ID)
    assert syn.connector("telegram").option("chat_id") == str(CHANNEL_ID)
    assert syn.run_inline(in_site(syn, 1), "telegram", sleep=nosleep).status == "done"


# --- rate limits: declared as data, held by the shared limiter ----------------------------------------------


@pytest.mark.redis
def test_the_declared_limits_hold_one_a_second_and_20_a_minute(redis_url: str) -> None:
    import uuid

    from syndicate.state.ratelimit import RateLimiter

    start = now = 1_800_000_000.0
    limiter = RateLimiter(redis_url, namespace="syndicate:test:telegram:" + uuid.uuid4().hex[:8],
                          clock=lambda: now, pace=False)
    sent = []
    while now < start + 60:
        wait = limiter.acquire("telegram:acct", "create", Telegram.limits.rates)
        if wait == 0:
            sent.append(now)
        now += wait or 0.001
    assert len(sent) == 20 and all(b - a >= 1 for a, b in zip(sent, sent[1:], strict=False))


@pytest.mark.redis
def test_two_workers_send_a_backfill_with_no_429(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 redis_url: str) -> None:
    import time

    # a minute in 3 s; the per-chat second stays 1 s (the limiter keeps scaled windows whole seconds),
    # so 6 posts take about 6 s; the minute's 20 is held by the test above, on an injected clock
    scale = 0.05
    with FakeTelegram(time_scale=scale) as fake:
        first = engine(fake, tmp_path, monkeypatch,
                       extra=f'[queue]\nredis = "{redis_url}"\nrate_time_scale = {scale}\n')
        workers = [first, Syndicator(first.config, media=_Media())]
        posts = [in_site(first, n) for n in range(6)]

        def work(syn: Syndicator, mine: list[Any]) -> None:
            for post in mine:
                for _ in range(200):
                    outcome = syn.run_inline(post, "telegram", sleep=time.sleep)
                    if outcome.status == "done":
                        break
                    assert outcome.status == "deferred", outcome
                    syn.ledger.update(post.id, "telegram", deferred_until=None)

        threads = [threading.Thread(target=work, args=(syn, posts[i::2])) for i, syn in enumerate(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert len(fake.live) == 6 and 429 not in fake.answers


# --- property: whatever the title, Telegram accepts it and shows it as written ---------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PIECES = st.sampled_from(["<", ">", "&", "&amp;", "&lt;", "<b>", "</b>", "<script>", "&#60;", "&copy;", '"', "'",
                          "https://a.example/x?a=1&b=<2>", "日本語", "\U0001F44D\U0001F3FD", " ", "e\u0301", "\n"])
TEXT = st.lists(st.one_of(st.text(max_size=8), PIECES), max_size=25).map("".join)


@pytest.fixture(scope="module")
def shared_fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=TEXT, summary=TEXT, cover=st.booleans())
def test_any_title_is_accepted_and_shown_as_written(shared_fake: FakeTelegram, title: str, summary: str,
                                                    cover: bool) -> None:
    c = telegram(shared_fake)
    post = with_cover(1, title=title, summary=summary) if cover else make_post(1, title=title, summary=summary)
    draft = render(c, post)
    remote = c.create(draft, "k", ctx_for(draft))
    message = shared_fake.messages[(CHANNEL_ID, int(str(remote.id)))]
    assert message["caption" if cover else "text"] == (draft.text or "").strip()
