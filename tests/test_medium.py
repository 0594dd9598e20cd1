"""Medium connector against the fake Medium API: create only, the ledger as the only memory."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.medium import AUTHOR_PLACEHOLDER, Medium
from syndicate import registry
from syndicate.config import Secret, TargetConfig
from syndicate.content.post import Control, Image
from syndicate.contract import AuthFailed, Draft, Permanent, SendContext
from syndicate.testing import ConnectorContract, make_post
from tests.fakes.medium import FakeMedium

TOKEN = "medium-test-token"


@pytest.fixture(autouse=True)
def _registered() -> None:
    registry.register(Medium)


class TestMediumContract(ConnectorContract):
    connector_type = "medium"
    secret = TOKEN
    env = {"MEDIUM_TOKEN": TOKEN}
    wrong_env = {"MEDIUM_TOKEN": "wrong-token-123"}

    def fake(self) -> FakeMedium:
        return FakeMedium()

    def options(self, fake: Any) -> dict[str, Any]:
        return {"token": "${MEDIUM_TOKEN}", "base_url": fake.url}

    def live(self, fake: Any) -> int:
        return len(fake.visible)

    def title(self, draft: Draft) -> str | None:
        return str(draft.fields["story"]["title"])

    def tags(self, draft: Draft) -> list[str]:
        return list(draft.fields["story"]["tags"])


@pytest.fixture
def fake() -> Iterator[FakeMedium]:
    server = FakeMedium()
    server.start()
    yield server
    server.stop()


def medium(fake: FakeMedium | None, token: str = TOKEN, **options: Any) -> Medium:
    opts = {"token": Secret(token), **({"base_url": fake.url} if fake else {}), **options}
    return Medium(TargetConfig("medium", "medium", opts), http=httpx.Client(timeout=5))


# --- render ------------------------------------------------------------------------------


def test_render_html_story() -> None:
    post = make_post(1, cover=Image(src="c.png", url="https://blog.example/c.png", alt="A <cover>"),
                     categories=["Machine Learning"], title="Fish & chips")
    story = medium(None).render(post).fields["story"]
    assert story["title"] == "Fish & chips"
    assert story["contentFormat"] == "html"
    assert story["content"].startswith('<h1>Fish &amp; chips</h1>\n<figure><img src="https://blog.example/c.png" '
                                       'alt="A &lt;cover&gt;"></figure>\n<p>Body of post 1.</p>')
    assert story["canonicalUrl"] == post.url
    assert story["tags"] == ["python", "testing", "Machine Learning"]
    assert story["publishStatus"] == "public"


def test_render_markdown_story_and_status_option() -> None:
    story = medium(None, content_format="markdown", publish_status="draft").render(make_post(1)).fields["story"]
    assert story["contentFormat"] == "markdown" and story["publishStatus"] == "draft"
    assert story["content"] == "# Post number 1\n\nBody of post 1.\n\nSecond paragraph.\n"


def test_at_most_three_tags_of_25_characters_with_warnings() -> None:
    post = make_post(1, tags=["A tag that is far longer than twenty-five", "b", "B", "c", "d"])
    draft = medium(None).render(post)
    assert draft.fields["story"]["tags"] == ["A tag that is far longer", "b", "c"]  # cut at 25, no trailing space
    assert any("the platform keeps 3" in w for w in draft.warnings)


def test_long_title_is_shortened_to_100() -> None:
    draft = medium(None).render(make_post(1, title="word " * 40))
    assert len(draft.fields["story"]["title"]) <= 100 and draft.warnings


def test_bad_status_override_falls_back_with_a_warning() -> None:
    control = Control(overrides={"medium": {"publish_status": "secret"}})
    draft = medium(None).render(make_post(1, control=control))
    assert draft.fields["story"]["publishStatus"] == "public"
    assert any("secret" in w for w in draft.warnings)


def test_preview_never_looks_up_the_author() -> None:
    conn = medium(None, base_url="http://127.0.0.1:9")  # nothing listens: a lookup would fail
    request = conn.build_create(conn.render(make_post(1)), "k", SendContext(preview=True))
    assert AUTHOR_PLACEHOLDER in request.url


# --- I/O -------------------------------------------------------------------------------------


def test_create_as_the_token_user_looks_up_the_id_once(fake: FakeMedium) -> None:
    conn = medium(fake)
    first = conn.create(conn.render(make_post(1)), "k1")
    conn.create(conn.render(make_post(2)), "k2")
    assert [p["authorId"] for p in fake.posts] == ["1f2e3d4c5b6a"] * 2
    assert first.url == f"https://medium.com/@alice/{first.id}"
    assert sum(1 for r in fake.requests if r.path == "/v1/me") == 1
    assert fake.posts[0]["canonicalUrl"] == "https://blog.example/posts/post-1/"


def test_facts_carry_the_author_id(fake: FakeMedium) -> None:
    conn = medium(fake)
    facts = conn.fetch_facts()
    assert facts == {"user_id": "1f2e3d4c5b6a"}
    fresh = medium(fake)
    draft = fresh.render(make_post(1), facts)
    assert "1f2e3d4c5b6a" not in json.dumps(draft.public())  # never part of the content hash
    assert fresh.build_create(draft, "k", SendContext(preview=True)).url.endswith("/v1/users/1f2e3d4c5b6a/posts")
    assert medium(fake, token="other").facts_scope() != conn.facts_scope()
    assert TOKEN not in conn.facts_scope()


def test_publication_posts(fake: FakeMedium) -> None:
    conn = medium(fake, publication_id="b45573563f5a")
    assert conn.fetch_facts() is None
    conn.create(conn.render(make_post(1)), "k")
    assert fake.posts[0]["publicationId"] == "b45573563f5a"
    assert not any(r.path == "/v1/me" for r in fake.requests)
    other = medium(fake, publication_id="c0ffee000001")
    with pytest.raises(AuthFailed):
        other.create(other.render(make_post(2)), "k2")


def test_wrong_token_is_auth_failed_without_the_token(fake: FakeMedium) -> None:
    conn = medium(fake, token="wrong-token-456")
    with pytest.raises(AuthFailed) as caught:
        conn.create(conn.render(make_post(1)), "k")
    assert "wrong-token-456" not in str(caught.value)
    assert not fake.posts


@pytest.mark.parametrize("story", [
    {"title": "t", "contentFormat": "html"},  # no content
    {"title": "t", "contentFormat": "rtf", "content": "x"},
    {"title": "t", "contentFormat": "html", "content": "x", "tags": ["a", "b", "c", "d"]},
    {"title": "t", "contentFormat": "html", "content": "x", "tags": ["x" * 26]},
    {"title": "t", "contentFormat": "html", "content": "x", "canonicalUrl": "/relative"},
    {"title": "t", "contentFormat": "html", "content": "x", "publishStatus": "secret"},
])
def test_fake_refuses_what_medium_documents(fake: FakeMedium, story: dict[str, Any]) -> None:
    response = httpx.post(f"{fake.url}/v1/users/1f2e3d4c5b6a/posts", json=story,
                          headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert response.status_code == 400 and response.json()["errors"][0]["message"]


def test_refused_story_is_permanent(fake: FakeMedium) -> None:
    conn = medium(fake)
    draft = conn.render(make_post(1))
    draft.fields["story"]["tags"] = ["a", "b", "c", "d"]  # as a buggy connector would send
    with pytest.raises(Permanent, match="3 tags"):
        conn.create(draft, "k")


def test_lost_create_is_left_for_a_person(fake: FakeMedium, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    syn = TestMediumContract().syndicator(fake, tmp_path, monkeypatch)
    post = TestMediumContract.post_in(syn, 1)
    fake.lose_next(1, method="POST")
    assert syn.attempt(post, "t").status == "retry"
    outcome = syn.run_inline(post, "t", sleep=lambda s: None)
    assert outcome.status == "check" and "Medium profile" in (outcome.reason or "") + json.dumps(outcome.as_dict())
    assert len(fake.posts) == 1
    assert syn.run_inline(post, "t", sleep=lambda s: None).status == "check"  # still never re-sent
    assert len(fake.posts) == 1


def test_503_on_create_starts_afresh_but_a_gateway_502_is_left_for_a_person(
        fake: FakeMedium, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    syn = TestMediumContract().syndicator(fake, tmp_path, monkeypatch)
    fake.fail_next(1, 503, method="POST")
    assert syn.run_inline(TestMediumContract.post_in(syn, 1), "t", sleep=lambda s: None).status == "done"
    fake.fail_next(1, 502, method="POST")
    outcome = syn.run_inline(TestMediumContract.post_in(syn, 2), "t", sleep=lambda s: None)
    assert outcome.status == "check"
    assert len(fake.posts) == 1
