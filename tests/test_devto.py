"""dev.to connector against the fake Forem."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connectors.devto import ACCEPT, DevTo
from connectors.forem_liquid import liquid_safe
from syndicate.config import Secret, TargetConfig
from syndicate.content.markdown.document import Embed
from syndicate.content.post import Control, Image
from syndicate.contract import AuthFailed, Draft, Permanent, RateLimited, Remote, SendContext
from syndicate.engine.fitting import alnum_tag
from syndicate.testing import make_post
from tests.fakes.devto import FakeDevTo, liquid_error
from tests.test_connector_contract import DEVTO_KEY


@pytest.fixture
def fake() -> Iterator[FakeDevTo]:
    with FakeDevTo() as server:
        yield server


def devto(fake: FakeDevTo, **options: Any) -> DevTo:
    opts = {"api_key": Secret(DEVTO_KEY), "base_url": fake.url, **options}
    return DevTo(TargetConfig("devto", "devto", opts), http=httpx.Client(timeout=5))


# --- render --------------------------------------------------------------------------


def test_render_payload(fake: FakeDevTo) -> None:
    post = make_post(1, series="Deep dive", cover=Image(src="c.png", url="https://blog.example/c.png", alt="Cover"),
                     categories=["Machine Learning"])
    draft = devto(fake).render(post)
    article = draft.fields["article"]
    assert article["title"] == "Post number 1"
    assert article["published"] is True
    assert article["canonical_url"] == post.url
    assert article["description"] == "Summary of post 1."
    assert article["tags"] == "python,testing,machinelearning"  # v1: one comma-separated string
    assert article["series"] == "Deep dive"
    assert article["main_image"] == "https://blog.example/c.png"
    assert article["body_markdown"] == post.body
    assert not article["body_markdown"].lstrip().startswith("---")


def test_cover_without_absolute_url_is_left_out(fake: FakeDevTo) -> None:
    draft = devto(fake).render(make_post(1, cover=Image(src="cover.png", alt="x")))
    assert "main_image" not in draft.fields["article"]
    assert draft.warnings


@pytest.mark.parametrize(
    ("name", "tag"),
    [("Machine Learning", "machinelearning"), ("C++", "cpp"), ("C#", "csharp"), (".NET", "dotnet"),
     ("Node.js", "nodejs"), ("Café", "cafe"), ("!!!", ""), ("日本語", ""), ("web-dev", "webdev")],
)
def test_tag_mapping(name: str, tag: str) -> None:
    assert alnum_tag(name) == tag


def test_tags_at_most_four_deduplicated_from_tags_then_categories(fake: FakeDevTo) -> None:
    post = make_post(1, tags=["Python", "python", "!!!", "C++"], categories=["Machine Learning", "Web Dev", "Rust"])
    draft = devto(fake).render(post)
    assert draft.fields["article"]["tags"] == "python,cpp,machinelearning,webdev"
    assert any("the platform keeps 4" in w and "rust" in w for w in draft.warnings)  # never dropped silently


def test_overrides(fake: FakeDevTo) -> None:
    control = Control(overrides={"devto": {"title": "Other title", "tags": "One, Two", "series": "S"}})
    article = devto(fake).render(make_post(1, control=control)).fields["article"]
    assert (article["title"], article["tags"], article["series"]) == ("Other title", "one,two", "S")


def test_long_title_is_shortened_to_128(fake: FakeDevTo) -> None:
    draft = devto(fake).render(make_post(1, title="word " * 60))
    title = draft.fields["article"]["title"]
    assert len(title) <= 128 and title.endswith("…")
    assert draft.warnings


# --- Liquid ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "Hello {{ name }} and {% include foo.html %}.\n",
        "An unterminated {% tag and a lone {{ brace\n",
        "Inline `{{ code }}` stays, {{ text }} is wrapped.\n",
        "```liquid\n{% if x %}{{ y }}{% endif %}\n```\n\nAfter {{ fence }}.\n",
        "~~~\n{{ tilde }}\n~~~\n\n{{ after }}\n",
        "Para\n\n    {{ indented code }}\n\nafter {% x %}\n",
        "- item {{ a }}\n\n    continuation {{ b }}\n",
        "Already {% raw %}{{ safe }}{% endraw %} and {{ not }}.\n",
        "A literal {% endraw %} in text.\n",
        "{{ multi\nline }} and {%\nmulti %}\n",
        "`` a ` {{ b }} `` then {{ c }}\n",
    ],
)
def test_liquid_escaped_body_passes_forem(body: str, fake: FakeDevTo) -> None:
    assert liquid_error(body) is not None  # the fake refuses the raw body...
    safe = liquid_safe(body)
    assert liquid_error(safe) is None  # ...and accepts the escaped one
    devto(fake).create(devto(fake).render(make_post(1, body=body)), "k")


def test_liquid_inside_code_is_untouched() -> None:
    body = (
        "```\n{{ x }}\n```\n\nInline `{% y %}`.\n\n    {{ indented }}\n\n~~~~\n{% t %}\n~~~\n~~~~\n\n"
        "- item\n\n    ```\n    {{ in a list }}\n    ```\n"
    )
    assert liquid_safe(body) == body
    assert liquid_error(body) is None  # the fake's own (markdown-it) view agrees


def test_no_liquid_fast_path() -> None:
    body = "Just { braces } and % signs.\n"
    assert liquid_safe(body) is body


def test_embeds_become_forem_tags_and_are_not_escaped(fake: FakeDevTo) -> None:
    segments = [
        "Intro {{ x }}\n\n",
        Embed("youtube", "dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"), "\n\n",
        Embed("vimeo", "76979871", "https://vimeo.com/76979871"), "\n\n",
        Embed("gist", "user/abc123", "https://gist.github.com/user/abc123"), "\n\n",
        Embed("x", "20", "https://x.com/jack/status/20"), "\n\n",
        Embed("youtube", "bad id %}", "https://youtube.com/watch?v=bad"), "\n",
    ]
    body = devto(fake).render(make_post(1, document=segments)).fields["article"]["body_markdown"]
    assert "{% youtube dQw4w9WgXcQ %}" in body
    assert "{% vimeo 76979871 %}" in body
    assert "{% gist https://gist.github.com/user/abc123 %}" in body
    assert "{% embed https://x.com/jack/status/20 %}" in body
    assert "{% raw %}{{ x }}{% endraw %}" in body
    assert "bad id" not in body and "https://youtube.com/watch?v=bad" in body  # unsafe id: plain URL
    assert liquid_error(body) is None


# --- I/O -------------------------------------------------------------------------------


def test_create_update_find_and_unpublish(fake: FakeDevTo) -> None:
    c = devto(fake)
    post = make_post(1)
    remote = c.create(c.render(post), "k1")
    article = fake.articles[int(remote.id)]
    assert article["published"] and article["canonical_url"] == post.url
    assert remote.url and remote.url.startswith(fake.url)
    create = next(r for r in fake.requests if r.method == "POST")
    assert create.headers["accept"] == ACCEPT and create.headers["api-key"] == DEVTO_KEY

    edited = make_post(1, title="Edited title", body="New body.\n")
    again = c.update(remote, c.render(edited))
    assert again.id == remote.id and len(fake.articles) == 1
    assert fake.articles[int(remote.id)]["title"] == "Edited title"

    found = c.find(make_post(1, url=post.url.rstrip("/")), "k1")  # trailing slash normalised
    assert found is not None and found.id == remote.id

    c.delete(remote)
    assert fake.articles[int(remote.id)]["published"] is False
    assert len(fake.articles) == 1


def test_duplicate_canonical_finds_the_earlier_article(fake: FakeDevTo) -> None:
    c = devto(fake)
    post = make_post(1)
    first = c.create(c.render(post), "k1")
    second = c.create(c.render(make_post(1, title="Retitled")), "k1")
    assert second.id == first.id
    assert len(fake.articles) == 1


def test_find_pages_through_all_articles(fake: FakeDevTo, monkeypatch: pytest.MonkeyPatch) -> None:
    import connectors.devto as mod

    monkeypatch.setattr(mod, "PER_PAGE", 2)
    c = devto(fake)
    posts = [make_post(i) for i in range(5)]
    remotes = [c.create(c.render(p), f"k{i}") for i, p in enumerate(posts)]
    found = c.find(posts[0], "k0")  # the oldest: on the last page
    assert found is not None and found.id == remotes[0].id
    pages = [r.param("page") for r in fake.requests if r.path.endswith("/me/all")]
    assert pages == ["1", "2", "3"]
    assert c.find(make_post(99), "k") is None


def test_refusals_are_permanent(fake: FakeDevTo) -> None:
    c = devto(fake)
    bad = {"article": {"title": "T", "body_markdown": "x", "tags": "a,b,c,d,e", "published": True}}
    with pytest.raises(Permanent, match="maximum of 4 tags"):
        c.create(Draft("devto", fields=bad), "k")
    bad["article"]["tags"] = "machine-learning"
    with pytest.raises(Permanent, match="non-alphanumeric"):
        c.create(Draft("devto", fields=bad), "k")
    bad["article"] = {"title": "T", "body_markdown": "x", "published": "yes"}
    with pytest.raises(Permanent, match="published"):
        c.create(Draft("devto", fields=bad), "k")


def test_missing_accept_header_is_refused(fake: FakeDevTo) -> None:
    response = httpx.post(fake.url + "/api/articles", headers={"api-key": DEVTO_KEY}, json={"article": {"title": "x"}})
    assert response.status_code == 406


def test_update_of_a_missing_article_is_not_found(fake: FakeDevTo) -> None:
    from syndicate.contract import NotFound

    c = devto(fake)
    with pytest.raises(NotFound):
        c.update(Remote("424242"), c.render(make_post(1)))


def test_documented_rate_limit_gives_retry_after() -> None:
    with FakeDevTo(time_scale=0.1) as fake:  # 10 creates per 3 s
        c = devto(fake)
        for i in range(10):
            c.create(c.render(make_post(i)), f"k{i}")
        with pytest.raises(RateLimited) as info:
            c.create(c.render(make_post(10)), "k10")
        assert info.value.retry_after is not None and 0 < info.value.retry_after <= 3


def test_wrong_key_is_auth_failed(fake: FakeDevTo) -> None:
    c = devto(fake, api_key=Secret("nope"))
    with pytest.raises(AuthFailed):
        c.find(make_post(1), "k")


def test_preview_holds_no_secret(fake: FakeDevTo) -> None:
    c = devto(fake)
    draft = c.render(make_post(1))
    preview = c.build_create(draft, "k", SendContext(preview=True))
    assert (preview.method, preview.url) == ("POST", fake.url + "/api/articles")
    assert DEVTO_KEY not in repr(preview) + repr(preview.shown())
    assert c.build_update(Remote("7"), draft, SendContext(preview=True)).url.endswith("/api/articles/7")


def test_duplicate_of_an_unpublished_article_republishes_it(fake: FakeDevTo) -> None:
    c = devto(fake)
    post = make_post(1)
    first = c.create(c.render(post), "k1")
    c.delete(first)
    assert fake.articles[int(first.id)]["published"] is False
    again = c.create(c.render(make_post(1, title="Back")), "k2")
    assert again.id == first.id and len(fake.articles) == 1
    assert fake.articles[int(first.id)]["published"] is True
    assert fake.articles[int(first.id)]["title"] == "Back"


# --- property: whatever the Markdown, the escaped body passes the fake's (markdown-it) check ---------

from hypothesis import example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

MD_PIECES = st.sampled_from(
    ["{{ v }}", "{% t %}", "{%", "{{", "}}", "%}", "{% raw %}", "{% endraw %}", "`", "``", "```", "~~~", "\n",
     "\n\n", "    ", "\t", "- ", "1. ", "> ", "word ", "<pre>", "</pre>", "\\", "*", "#"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(MD_PIECES, max_size=40).map("".join))
@example("> \n    > {{ v }}")  # a block quote continued by a '>' indented 4: markdown-it's reading, not code
def test_liquid_safe_always_passes_the_fake(markdown: str) -> None:
    assert liquid_error(liquid_safe(markdown)) is None
