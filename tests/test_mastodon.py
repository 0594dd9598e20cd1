"""Mastodon connector against the fake Mastodon."""
from __future__ import annotations

import io
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

from connectors.mastodon import Mastodon
from syndicate.config import Secret, TargetConfig
from syndicate.content.post import Control, Image
from syndicate.content.text import count
from syndicate.contract import Draft, FittedMedia, MediaItem, MediaPolicy, Permanent, RateLimited, Remote, SendContext
from syndicate.engine.fitting import fit_draft, hashtag, hashtags
from syndicate.engine.runner import Syndicator
from syndicate.registry import load_config
from syndicate.testing import make_post
from tests.fakes.mastodon import FakeMastodon, mastodon_length
from tests.test_connector_contract import MASTODON_TOKEN


def png() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (8, 8), (200, 10, 10)).save(out, "PNG")
    return out.getvalue()


class Media:
    """A MediaSource that hands out one small PNG and records what it was asked for."""

    def __init__(self) -> None:
        self.asked: list[tuple[MediaItem, MediaPolicy]] = []

    def fitted(self, item: MediaItem, policy: MediaPolicy) -> FittedMedia:
        self.asked.append((item, policy))
        return FittedMedia(png(), "image/png", 8, 8, "cover.png", item.alt)


@pytest.fixture
def fake() -> Iterator[FakeMastodon]:
    with FakeMastodon() as server:
        yield server


def mastodon(fake: FakeMastodon, media: Media | None = None, **options: Any) -> Mastodon:
    opts = {"access_token": Secret(MASTODON_TOKEN), "base_url": fake.url, **options}
    return Mastodon(TargetConfig("mastodon", "mastodon", opts), http=httpx.Client(timeout=5), media=media)


def render(c: Mastodon, post: Any, facts: dict[str, Any] | None = None) -> Draft:
    """What the engine makes of the connector's render: the text fitted to the limits in force."""
    return fit_draft(c.render(post, facts), c.limits_for(facts))


def body(c: Mastodon, draft: Draft) -> Any:
    return c.build_create(draft, "k", SendContext(preview=True)).json


def engine(fake: FakeMastodon, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, media: Any = None,
           **options: Any) -> Syndicator:
    import json

    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", MASTODON_TOKEN)
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in options.items())
    config = tmp_path / "syndicate.toml"
    config.write_text(f'[site]\nurl = "https://blog.example"\n[state]\nurl = "sqlite:///{tmp_path}/state.db"\n'
                      f'[targets.mastodon]\nbase_url = "{fake.url}"\naccess_token = "${{MASTODON_ACCESS_TOKEN}}"\n'
                      f'{extra}', encoding="utf-8")
    return Syndicator(load_config(config), media=media)


# --- hashtags and render ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "tag"),
    [("Machine Learning", "MachineLearning"), ("python", "python"), ("C++", "cpp"), ("2024", None),
     ("日本語", "日本語"), ("web-dev", "WebDev"), ("snake_case", "snake_case"), ("!!!", None), ("Ünïcödé", "Ünïcödé")],
)
def test_hashtag(name: str, tag: str | None) -> None:
    assert hashtag(name) == tag


def test_hashtags_dedupe_case_insensitively() -> None:
    assert hashtags(["Python", "python", "PYTHON", "Rust"]) == ["#Python", "#Rust"]


def test_render_status(fake: FakeMastodon) -> None:
    post = make_post(1, tags=["python"], categories=["Machine Learning"], lang="en-GB",
                     cover=Image(src="c.png", url="https://blog.example/c.png", alt="A red square"))
    c = mastodon(fake, language=None)
    draft = render(c, post)
    assert draft.text == "Post number 1\n\nSummary of post 1.\n\nhttps://blog.example/posts/post-1/\n\n#python #MachineLearning"
    assert body(c, draft) == {"status": draft.text, "visibility": "public", "language": "en"}
    assert draft.parts[0].media == [MediaItem("cover", "https://blog.example/c.png", "A red square")]


def test_render_spoiler_counts_against_the_limit(fake: FakeMastodon) -> None:
    c = mastodon(fake, spoiler_text="CW: long " * 20, max_characters=200)
    draft = render(c, make_post(1, summary="word " * 100))
    assert draft.fields["spoiler_text"].startswith("CW")
    assert count(draft.text or "", "graphemes", 23) + count(draft.fields["spoiler_text"], "graphemes", 23) <= 200
    c.create(draft, "k")  # and the fake agrees


def test_override_text_gets_the_url(fake: FakeMastodon) -> None:
    control = Control(overrides={"mastodon": {"text": "My own words " * 60}})
    draft = render(mastodon(fake), make_post(1, control=control))
    assert draft.text and draft.text.startswith("My own words") and draft.text.endswith("https://blog.example/posts/post-1/")
    assert count(draft.text, "graphemes", 23) <= 500
    control = Control(overrides={"mastodon": {"text": "Read https://blog.example/posts/post-1/ now"}})
    assert render(mastodon(fake), make_post(1, control=control)).text == "Read https://blog.example/posts/post-1/ now"
    control = Control(overrides={"mastodon": {"text": "Read " * 50 + "https://blog.example/posts/post-1/ " + "now " * 200}})
    text = render(mastodon(fake, max_characters=100), make_post(1, control=control)).text or ""
    assert "https://blog.example/posts/post-1/" in text and count(text, "graphemes", 23) <= 100
    assert text.startswith("Read Read")


@pytest.mark.parametrize("template", ["{title} {", "{title}", "{title} {url} {author}"])
def test_bad_template_is_a_config_error(fake: FakeMastodon, template: str, tmp_path: Any,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from syndicate.config import ConfigError

    with pytest.raises(ConfigError, match="template"):
        engine(fake, tmp_path, monkeypatch, template=template)


def test_custom_template(fake: FakeMastodon) -> None:
    draft = render(mastodon(fake, template="New: {title} → {url} {hashtags}"), make_post(1))
    assert draft.text == "New: Post number 1 → https://blog.example/posts/post-1/ #python #testing"


# --- instance limits -------------------------------------------------------------------------


def test_instance_limit_is_read_once_cached_and_honoured(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeMastodon(max_characters=120) as fake:
        post = make_post(1, summary="lorem ipsum dolor " * 40, tags=[f"tag{i}x" for i in range(10)])
        post.path = tmp_path / "content" / "post-1.md"
        syn = engine(fake, tmp_path, monkeypatch)
        preview = syn.plan_for(post, "mastodon")
        assert preview.draft is not None and mastodon_length(preview.draft.text or "") <= 120
        assert syn.run_inline(post, "mastodon", sleep=lambda s: None).status == "done"
        (status,) = fake.live
        assert status["text"] == preview.draft.text  # the preview fitted to the same facts as the send
        # the facts are in the ledger: another process asks the instance no more
        again = engine(fake, tmp_path, monkeypatch)
        again.plan_for(make_post(2), "mastodon")
        assert sum(r.path == "/api/v2/instance" for r in fake.requests) == 1
        assert again.connector("mastodon").limits_for(again.facts("mastodon")).text.max == 120  # type: ignore[union-attr]


def test_fake_refuses_an_overlong_status(fake: FakeMastodon) -> None:
    c = mastodon(fake)
    with pytest.raises(Permanent, match="character limit of 500"):
        c.create(Draft("mastodon", parts=[__import__("syndicate.contract").contract.Part(text="x" * 501)]), "k")


# --- create, update, find, delete ----------------------------------------------------------------


def test_create_update_find_delete(fake: FakeMastodon) -> None:
    c = mastodon(fake)
    post = make_post(1)
    remote = c.create(render(c, post), "key-1")
    status = fake.statuses[remote.id]
    assert status["text"].startswith("Post number 1") and status["idempotency_key"] == "key-1"
    request = next(r for r in fake.requests if r.path == "/api/v1/statuses")
    assert request.headers["authorization"] == f"Bearer {MASTODON_TOKEN}"

    edited = c.update(remote, render(c, make_post(1, title="Edited")))
    assert edited.id == remote.id and len(fake.statuses) == 1
    assert fake.statuses[remote.id]["text"].startswith("Edited") and fake.statuses[remote.id]["edited_at"]

    found = c.find(post, "key-1")
    assert found is not None and found.id == remote.id
    assert c.find(make_post(2), "key-2") is None

    c.delete(remote)
    assert fake.live == []


def test_find_matches_escaped_urls(fake: FakeMastodon) -> None:
    c = mastodon(fake)
    post = make_post(1, url="https://blog.example/search?q=a&b=c")
    remote = c.create(render(c, post), "k")
    assert "&amp;" in fake._view(fake.statuses[remote.id])["content"]
    found = c.find(post, "k")
    assert found is not None and found.id == remote.id


def test_idempotency_key_reuse_makes_one_status(fake: FakeMastodon) -> None:
    c = mastodon(fake)
    draft = render(c, make_post(1))
    assert c.create(draft, "same").id == c.create(draft, "same").id
    assert len(fake.live) == 1
    c.create(render(c, make_post(2)), "other")
    assert len(fake.live) == 2


def test_media_upload_with_description_and_polling(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeMastodon(media_async=True, media_polls=2, description_limit=10) as fake:
        media = Media()
        syn = engine(fake, tmp_path, monkeypatch, media=media)
        post = make_post(1, cover=Image(src="c.png", url="https://blog.example/c.png", alt="A red square on white"))
        post.path = tmp_path / "content" / "post-1.md"
        outcome = syn.run_inline(post, "mastodon", sleep=lambda s: None)
        assert outcome.status == "done", outcome
        (attachment,) = fake.media.values()
        assert attachment["description"] == "A red squa"  # cut to the instance's description_limit
        assert attachment["data"].startswith(b"\x89PNG")
        assert media.asked[0][1].alt_max_length == 10
        polls = [r for r in fake.requests if r.path.startswith("/api/v1/media/")]
        assert len(polls) == 3  # 206, 206, 200
        row = syn.ledger.get(post.id, "mastodon")
        assert row is not None and row.remote_id is not None
        assert fake.statuses[row.remote_id]["media_ids"] == [attachment["id"]]
        assert row.remote_extra["media_ids"] == [attachment["id"]]
        # an edit keeps the attachment (the server drops media unless media_ids is sent again)
        edited = make_post(1, title="Edited", cover=post.cover)
        edited.path = post.path
        assert syn.run_inline(edited, "mastodon", sleep=lambda s: None).action == "update"
        assert fake.statuses[row.remote_id]["media_ids"] == [attachment["id"]]
        assert len(fake.media) == 1  # not uploaded again


def test_no_media_source_means_no_upload(fake: FakeMastodon) -> None:
    c = mastodon(fake)
    post = make_post(1, cover=Image(src="c.png", url="https://blog.example/c.png", alt="x"))
    remote = c.create(render(c, post), "k")
    assert fake.media == {} and fake.statuses[remote.id]["media_ids"] == []


def test_delete_of_a_missing_status_is_harmless(fake: FakeMastodon) -> None:
    mastodon(fake).delete(Remote("999"))


def test_documented_rate_limit_uses_the_reset_header() -> None:
    now = time.time()  # the fake's window is frozen at this instant: 300 requests in it, however slow the machine
    with FakeMastodon(time_scale=0.01, clock=lambda: now) as fake:  # 300 requests per 3 s
        c = mastodon(fake)
        with pytest.raises(RateLimited) as info:
            for i in range(301):
                c.create(render(c, make_post(i)), f"k{i}")
        assert len(fake.live) == 300
        # the fake sends no Retry-After, only an ISO 8601 X-RateLimit-Reset
        assert info.value.retry_after is not None and 0 <= info.value.retry_after <= 3


# --- property: what render produces, the server (counting on its own) accepts --------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PIECES = st.sampled_from(
    ["\U0001F468\u200d\U0001F469\u200d\U0001F467", "\U0001F1EF\U0001F1F5", "e\u0301", "日本語", "مرحبا", "שלום", " ",
     "\n", "@alice@example.social", "x=@bob@host.io", "https://a.example/p?q=1.", "http://.", "(https://b.io/x)",
     "#tag", "\u200d", "👍🏽", "{{ x }}"]
)
TEXT = st.lists(st.one_of(st.text(max_size=15), PIECES), max_size=30).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(title=TEXT, summary=TEXT, tags=st.lists(TEXT, max_size=8), limit=st.integers(60, 500))
def test_rendered_status_fits_the_servers_own_count(title: str, summary: str, tags: list[str], limit: int) -> None:
    c = Mastodon(TargetConfig("m", "mastodon", {"access_token": Secret("t"), "base_url": "https://m.invalid",
                                                 "max_characters": limit}))
    post = make_post(1, title=title or "t", summary=summary, tags=tags)
    text = render(c, post).text or ""
    assert mastodon_length(text) <= limit
    assert post.url in text


def test_bad_visibility_is_a_config_error(fake: FakeMastodon, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from syndicate.config import ConfigError

    with pytest.raises(ConfigError, match="visibility"):
        engine(fake, tmp_path, monkeypatch, visibility="everyone")


def test_post_language_wins_over_the_target_default(fake: FakeMastodon) -> None:
    c = mastodon(fake, language="de")
    assert render(c, make_post(1, lang="fr-CA")).fields["language"] == "fr"
    assert render(c, make_post(1)).fields["language"] == "de"
