"""Hashnode connector against a fake that validates every request against the real GraphQL schema."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.hashnode import BY_SLUG, POSTS, PUBLISH, UPDATE, Hashnode, embed_markdown, graphql_error, tag_slug
from syndicate import registry
from syndicate.config import Secret, TargetConfig
from syndicate.content.markdown.document import Embed
from syndicate.content.post import Control, Image
from syndicate.contract import AuthFailed, Draft, NotFound, Permanent, Remote, SendContext, Transient
from syndicate.testing import ConnectorContract, make_post
from tests.fakes.hashnode import FakeHashnode

TOKEN = "hashnode-test-token"


@pytest.fixture(autouse=True)
def _registered() -> None:
    registry.register(Hashnode)


class TestHashnodeContract(ConnectorContract):
    connector_type = "hashnode"
    secret = TOKEN
    env = {"HASHNODE_TOKEN": TOKEN}
    wrong_env = {"HASHNODE_TOKEN": "wrong-token-123"}

    def fake(self) -> FakeHashnode:
        return FakeHashnode()

    def options(self, fake: Any) -> dict[str, Any]:
        return {"token": "${HASHNODE_TOKEN}", "publication_id": FakeHashnode.PUBLICATION, "base_url": fake.url}

    def live(self, fake: Any) -> int:
        return len(fake.posts)

    def title(self, draft: Draft) -> str | None:
        return str(draft.fields["input"]["title"])

    def tags(self, draft: Draft) -> list[str]:
        return [t["slug"] for t in draft.fields["input"].get("tags", [])]


@pytest.fixture
def fake() -> Iterator[FakeHashnode]:
    server = FakeHashnode()
    server.start()
    yield server
    server.stop()


def hashnode(fake: FakeHashnode, token: str = TOKEN, **options: Any) -> Hashnode:
    opts = {"token": Secret(token), "publication_id": FakeHashnode.PUBLICATION, "base_url": fake.url, **options}
    return Hashnode(TargetConfig("hashnode", "hashnode", opts), http=httpx.Client(timeout=5))


def graphql(fake: FakeHashnode, query: str, variables: dict[str, Any], token: str = TOKEN) -> httpx.Response:
    return httpx.post(fake.url, json={"query": query, "variables": variables},
                      headers={"Authorization": f"Bearer {token}"}, timeout=5)


# --- render ------------------------------------------------------------------------------


def test_render_payload() -> None:
    post = make_post(1, cover=Image(src="c.png", url="https://blog.example/c.png", alt="Cover"),
                     categories=["Machine Learning"])
    draft = hashnode_offline().render(post)
    fields = draft.fields["input"]
    assert fields["publicationId"] == FakeHashnode.PUBLICATION
    assert fields["title"] == "Post number 1"
    assert fields["originalArticleURL"] == post.url
    assert fields["contentMarkdown"] == post.body
    assert fields["slug"] == "post-1"
    assert fields["coverImage"] == "https://blog.example/c.png"
    assert fields["tags"] == [{"slug": "python", "name": "python"}, {"slug": "testing", "name": "testing"},
                              {"slug": "machine-learning", "name": "Machine Learning"}]
    assert [(m.role, m.source) for m in draft.media] == [("cover", "https://blog.example/c.png")]


def hashnode_offline(**options: Any) -> Hashnode:
    opts = {"token": Secret(TOKEN), "publication_id": FakeHashnode.PUBLICATION, **options}
    return Hashnode(TargetConfig("hashnode", "hashnode", opts))


@pytest.mark.parametrize(("name", "slug"), [("Machine Learning", "machine-learning"), ("C++", "cpp"),
                                            ("C#", "csharp"), (".NET", "dotnet"), ("Café au lait", "cafe-au-lait"),
                                            ("web_dev", "web-dev"), ("!!!", ""), ("日本語", "")])
def test_tag_slugs(name: str, slug: str) -> None:
    assert tag_slug(name) == slug


def test_tags_deduplicated_by_slug_and_limited_with_warnings() -> None:
    post = make_post(1, tags=["Machine Learning", "machine-learning", "日本語", "a", "b", "c", "d", "e"])
    draft = hashnode_offline().render(post)
    assert [t["slug"] for t in draft.fields["input"]["tags"]] == ["machine-learning", "a", "b", "c", "d"]
    assert any("日本語" in w for w in draft.warnings)
    assert any("the platform keeps 5" in w and "e" in w for w in draft.warnings)
    wide = hashnode_offline(max_tags=15).render(post)
    assert len(wide.fields["input"]["tags"]) == 6


def test_embeds_are_hashnode_embed_lines() -> None:
    segments = ["Intro\n\n", Embed("youtube", "dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"), "\n"]
    body = hashnode_offline().render(make_post(1, document=segments)).fields["input"]["contentMarkdown"]
    assert "%[https://www.youtube.com/watch?v=dQw4w9WgXcQ]" in body
    assert embed_markdown(Embed("gist", "u/1", "https://gist.github.com/u/1")) == "%[https://gist.github.com/u/1]"


def test_overrides_and_relative_cover() -> None:
    control = Control(overrides={"hashnode": {"title": "Other", "tags": "One, Two Words", "slug": "Custom Slug"}})
    draft = hashnode_offline().render(make_post(1, control=control, cover=Image(src="cover.png", alt="x")))
    fields = draft.fields["input"]
    assert (fields["title"], fields["slug"]) == ("Other", "custom-slug")
    assert fields["tags"] == [{"slug": "one", "name": "One"}, {"slug": "two-words", "name": "Two Words"}]
    assert "coverImage" not in fields and draft.warnings


def test_rehosted_image_urls_replace_the_originals() -> None:
    post = make_post(1, cover=Image(src="c.png", url="https://blog.example/c.png", alt="C"),
                     body="![A](https://blog.example/a.png)\n")
    conn = hashnode_offline()
    draft = conn.render(post)
    ctx = SendContext(media={"https://blog.example/c.png": "https://cdn.example/c.png",
                             "https://blog.example/a.png": "https://cdn.example/a.png"})
    sent = conn.build_create(draft, "k", ctx).json["variables"]["input"]
    assert sent["coverImage"] == "https://cdn.example/c.png"
    assert "https://cdn.example/a.png" in sent["contentMarkdown"]


# --- the fake is the schema's: every document the connector sends validates ----------------


def test_every_connector_document_validates(fake: FakeHashnode) -> None:
    conn = hashnode(fake)
    draft = conn.render(make_post(1))
    created = conn.create(draft, "k")
    update = conn.build_update(created, draft, SendContext()).json
    for query, variables in [(PUBLISH, {"input": {**draft.fields["input"], "slug": "other"}}), (UPDATE, update["variables"]),
                             (BY_SLUG, {"publication": FakeHashnode.PUBLICATION, "slug": "post-1"}),
                             (POSTS, {"publication": FakeHashnode.PUBLICATION, "first": 20, "after": None})]:
        body = graphql(fake, query, variables).json()
        assert "errors" not in body, (query, body)


@pytest.mark.parametrize(("query", "variables", "code"), [
    ("{ nope }", {}, "GRAPHQL_VALIDATION_FAILED"),
    ("{ publication(id: \"x\") { posts { edges { node { id } } } } }", {}, "GRAPHQL_VALIDATION_FAILED"),  # first: Int!
    (PUBLISH, {"input": {"publicationId": FakeHashnode.PUBLICATION, "title": "t", "contentMarkdown": "b",
                         "canonicalUrl": "https://x.example/"}}, "BAD_USER_INPUT"),  # not a PublishPostInput field
    (PUBLISH, {"input": {"publicationId": "not-an-object-id", "title": "t", "contentMarkdown": "b"}}, "BAD_USER_INPUT"),
    ("query {", {}, "GRAPHQL_PARSE_FAILED"),
])
def test_fake_refuses_what_the_schema_refuses(fake: FakeHashnode, query: str, variables: dict[str, Any],
                                              code: str) -> None:
    response = graphql(fake, query, variables)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == code


def test_fake_errors_arrive_with_http_200(fake: FakeHashnode) -> None:
    variables = {"input": {"publicationId": FakeHashnode.OTHER, "title": "t", "contentMarkdown": "b"}}
    response = graphql(fake, PUBLISH, variables)
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert graphql(fake, PUBLISH, variables, token="nope").json()["errors"][0]["extensions"]["code"] == \
        "UNAUTHENTICATED"
    anonymous = httpx.post(fake.url, json={"query": PUBLISH, "variables": variables}, timeout=5).json()
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "cls"), [("UNAUTHENTICATED", AuthFailed), ("FORBIDDEN", AuthFailed),
                                           ("NOT_FOUND", NotFound), ("BAD_USER_INPUT", Permanent),
                                           ("INTERNAL_SERVER_ERROR", Transient), ("SOMETHING_NEW", Permanent)])
def test_error_codes_map_to_classes(code: str, cls: type[Exception]) -> None:
    exc = graphql_error("t", [{"message": "m", "extensions": {"code": code}}], "pub")
    assert type(exc) is cls


def test_publication_the_token_cannot_write_to_is_auth_failed(fake: FakeHashnode) -> None:
    conn = hashnode(fake, publication_id=FakeHashnode.OTHER)
    with pytest.raises(AuthFailed) as caught:
        conn.create(conn.render(make_post(1)), "k")
    assert FakeHashnode.OTHER in str(caught.value) and "cannot write to publication" in str(caught.value)
    assert TOKEN not in str(caught.value)
    free = hashnode(fake, publication_id=FakeHashnode.FREE)
    with pytest.raises(AuthFailed, match="Pro plan"):
        free.create(free.render(make_post(1)), "k")
    assert not fake.posts


def test_wrong_token_is_auth_failed_without_the_token(fake: FakeHashnode) -> None:
    conn = hashnode(fake, token="wrong-token-456")
    with pytest.raises(AuthFailed) as caught:
        conn.create(conn.render(make_post(1)), "k")
    assert "wrong-token-456" not in str(caught.value) and "UNAUTHENTICATED" in str(caught.value)


def test_update_of_a_removed_post_is_not_found(fake: FakeHashnode) -> None:
    conn = hashnode(fake)
    draft = conn.render(make_post(1))
    with pytest.raises(NotFound):
        conn.update(Remote(f"{999:024x}"), draft)


# --- I/O ------------------------------------------------------------------------------------


def test_create_update_and_find(fake: FakeHashnode) -> None:
    conn = hashnode(fake)
    post = make_post(1, tags=["Python", "Web Dev"])
    remote = conn.create(conn.render(post), "k1")
    stored = fake.posts[str(remote.id)]
    assert stored["originalArticleURL"] == post.url and stored["slug"] == "post-1"
    assert stored["tags"] == [{"slug": "python", "name": "Python"}, {"slug": "web-dev", "name": "Web Dev"}]
    assert remote.url == "https://alice.hashnode.dev/post-1"
    sent = next(r for r in fake.requests if r.method == "POST")
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"

    edited = make_post(1, title="Edited title", body="New body.\n")
    again = conn.update(remote, conn.render(edited))
    assert again.id == remote.id and len(fake.posts) == 1
    assert fake.posts[str(remote.id)]["title"] == "Edited title"

    found = conn.find(make_post(1, url=post.url.rstrip("/")), "k1")  # by slug, canonical URL normalised
    assert found is not None and found.id == remote.id


def test_find_by_canonical_url_when_the_slug_changed(fake: FakeHashnode) -> None:
    conn = hashnode(fake)
    for n in range(1, 46):  # three pages of 20
        conn.create(conn.render(make_post(n)), f"k{n}")
    target = make_post(3)
    fake.posts[f"{3:024x}"]["slug"] = "renamed-on-hashnode"
    found = conn.find(target, "k3")
    assert found is not None and found.id == f"{3:024x}"
    assert conn.find(make_post(99), "k99") is None
    reads = [json.loads(r.body)["query"] for r in fake.requests if b"PublicationPosts" in r.body]
    assert len(reads) >= 3  # paged through, not one giant query


def test_same_slug_with_another_canonical_is_not_ours(fake: FakeHashnode) -> None:
    conn = hashnode(fake)
    conn.create(conn.render(make_post(1, url="https://elsewhere.example/post-1/")), "k")
    assert conn.find(make_post(1), "k") is None


def test_slug_taken_by_our_own_earlier_attempt_is_recovered(fake: FakeHashnode) -> None:
    conn = hashnode(fake)
    first = conn.create(conn.render(make_post(1)), "k")
    again = conn.create(conn.render(make_post(1, title="Second try")), "k")
    assert again.id == first.id and len(fake.posts) == 1
    assert fake.posts[str(first.id)]["title"] == "Second try"
    other = hashnode(fake)
    with pytest.raises(Permanent, match="slug"):  # the same slug, someone else's post: refused, not taken over
        other.create(other.render(make_post(1, url="https://elsewhere.example/p/")), "k2")


def test_moved_endpoint_says_to_set_base_url(tmp_path: Path) -> None:
    def moved(request: httpx.Request) -> httpx.Response:
        return httpx.Response(301, headers={"location": "https://gql-beta.hashnode.com/"})

    conn = Hashnode(TargetConfig("hashnode", "hashnode", {"token": Secret(TOKEN),
                                                          "publication_id": FakeHashnode.PUBLICATION}),
                    http=httpx.Client(transport=httpx.MockTransport(moved)))
    with pytest.raises(Permanent, match="gql-beta.hashnode.com.*base_url"):
        conn.create(conn.render(make_post(1)), "k")
