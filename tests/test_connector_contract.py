"""The contract every registered connector meets, run against its fake server.

A connector joins by adding one `Harness` to `HARNESSES` (its fake, its
options, where its title/tags sit in a draft, how many objects exist). Types
without a harness still get the pure checks (masked repr, limits).
"""
from __future__ import annotations

import logging
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

from syndicate import registry
from syndicate.contract import AuthFailed, Connector, Draft, OutcomeUnknown, RateLimited, Transient
from syndicate.config import Secret, SiteConfig, TargetConfig
from syndicate.markdown.document import Document, Embed
from syndicate.post import Image, Post
from syndicate.text import count
from tests.fakes.devto import FakeDevTo
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import FakeServer

SITE = SiteConfig(url="https://blog.example", root=Path("/tmp/site"))
DEVTO_KEY = "devto-test-key"
MASTODON_TOKEN = "mastodon-test-token"


def make_post(n: int = 1, **changes: Any) -> Post:
    """A plain post; `document` (segments) may be given to bypass the Markdown pipeline."""
    document = changes.pop("document", None)
    values: dict[str, Any] = dict(
        id=f"post-{n}", path=Path(f"/tmp/site/content/post-{n}.md"), title=f"Post number {n}", slug=f"post-{n}",
        url=f"https://blog.example/posts/post-{n}/", body=f"Body of post {n}.\n\nSecond paragraph.\n", site=SITE,
        summary=f"Summary of post {n}.", tags=["python", "testing"],
    )
    values.update(changes)
    post = Post(**values)
    if document is not None:
        post.__dict__["document"] = Document(segments=list(document))
    return post


@dataclass
class Harness:
    fake: Callable[[], FakeServer]
    options: Callable[[FakeServer], dict[str, Any]]
    wrong: Callable[[FakeServer], dict[str, Any]]  # options with a bad credential
    live: Callable[[FakeServer], int]  # objects that exist and are visible
    title: Callable[[Draft], str | None]
    tags: Callable[[Draft], list[str]]
    secret: str


HARNESSES: dict[str, Harness] = {
    "devto": Harness(
        fake=FakeDevTo,
        options=lambda f: {"api_key": Secret(DEVTO_KEY), "base_url": f.url},
        wrong=lambda f: {"api_key": Secret("wrong-key-123"), "base_url": f.url},
        live=lambda f: sum(1 for a in f.articles.values() if a["published"]),  # type: ignore[attr-defined]
        title=lambda d: d.payload["article"]["title"],
        tags=lambda d: [t for t in d.payload["article"]["tags"].split(",") if t],
        secret=DEVTO_KEY,
    ),
    "mastodon": Harness(
        fake=FakeMastodon,
        options=lambda f: {"access_token": Secret(MASTODON_TOKEN), "base_url": f.url},
        wrong=lambda f: {"access_token": Secret("wrong-token-123"), "base_url": f.url},
        live=lambda f: len(f.live),  # type: ignore[attr-defined]
        title=lambda d: None,
        tags=lambda d: [w for w in (d.text or "").split() if w.startswith("#")],
        secret=MASTODON_TOKEN,
    ),
}
TYPES = sorted(registry.available())
WITH_FAKE = [t for t in TYPES if t in HARNESSES]


def connector(kind: str, options: dict[str, Any], timeout: float = 5.0) -> Connector:
    cls = registry.get(kind)
    return cls(TargetConfig(name=f"my-{kind}", type=kind, options=options), http=httpx.Client(timeout=timeout))


def offline(kind: str) -> Connector:
    """A connector with dummy options for pure checks (no server)."""
    cls = registry.get(kind)
    options: dict[str, Any] = {k: "https://offline.invalid" if k.endswith("url") else "x" for k in cls.required}
    options.update({k: Secret(f"s3cr3t-{k}-value") for k in cls.secrets})
    return cls(TargetConfig(name=f"my-{kind}", type=kind, options=options), http=httpx.Client())


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Any:
    kind = request.param
    harness = HARNESSES[kind]
    with harness.fake() as fake:
        yield kind, harness, fake


NASTY = [
    make_post(10, title="A very long title " * 20, summary="word " * 400),
    make_post(11, tags=[f"Tag number {i}" for i in range(25)] + ["C++", "C#", ".NET", "!!!", "123", "Ünïcödé"],
              categories=["Machine Learning", "machine-learning"]),
    make_post(12, title="日本語のタイトルはスペースがありません" * 8, summary="中文摘要没有空格" * 80, tags=["日本語", "中文"], lang="ja"),
    make_post(13, title="Emoji \U0001F468\u200d\U0001F469\u200d\U0001F467 " * 20, summary="\U0001F44D\U0001F3FD " * 300,
              tags=["\U0001F600", "emoji"]),
    make_post(14, title="مرحبا بالعالم " * 15, summary="שלום עולם " * 80, tags=["עברית", "عربي"], lang="ar"),
    make_post(15, title="Liquid {{ page.title }} {% include x %}", body="Text {{ var }} and {% tag %}\n\n```\n{{ code }}\n```\n",
              summary="Uses {{ braces }} and e\u0301\u0301\u0301 marks " * 30),
    make_post(16, url="https://blog.example/" + "very-long-path/" * 30, title="Long URL"),
    make_post(17, cover=Image(src="cover.png", url="https://blog.example/cover.png", alt="A cover"),
              document=["Intro\n\n", Embed("youtube", "dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"), "\n\nEnd {{ x }}\n"]),
]


# --- pure checks: every registered type ----------------------------------------------


@pytest.mark.parametrize("kind", TYPES)
def test_secrets_are_masked(kind: str) -> None:
    c = offline(kind)
    for name in c.secrets:
        value = c.target.options[name].reveal()
        for shown in (repr(c), str(c), repr(c.target), str(c.target), repr(vars(c)), repr(c.target.masked())):
            assert value not in shown


@pytest.mark.parametrize("kind", TYPES)
@pytest.mark.parametrize("post", NASTY, ids=lambda p: p.id)
def test_render_within_declared_limits(kind: str, post: Post) -> None:
    c = offline(kind)
    draft = c.render(post)
    limits = c.limits
    assert draft.target_type == kind
    if draft.text is not None and limits.text_max is not None:
        assert count(draft.text, limits.counting, limits.url_weight) <= limits.text_max
        assert post.url in draft.text
    harness = HARNESSES.get(kind)
    if harness is not None:
        title = harness.title(draft)
        if title is not None and limits.title_max is not None:
            assert 0 < len(title) <= limits.title_max
        if limits.tags_max is not None:
            assert len(harness.tags(draft)) <= limits.tags_max
    for name in c.secrets:
        assert c.target.options[name].reveal() not in repr(draft) + repr(c.preview(draft))


# --- against the fakes ---------------------------------------------------------------------


@pytest.mark.parametrize("served", WITH_FAKE, indirect=True)
def test_nasty_posts_are_accepted(served: Any) -> None:
    kind, harness, fake = served
    c = connector(kind, harness.options(fake))
    c.prepare()
    for i, post in enumerate(NASTY):
        remote = c.create(c.render(post), f"key-{i}")
        assert remote.id
    assert harness.live(fake) == len(NASTY)


@pytest.mark.parametrize("served", WITH_FAKE, indirect=True)
def test_401_is_auth_failed_without_the_secret(served: Any, caplog: pytest.LogCaptureFixture) -> None:
    kind, harness, fake = served
    caplog.set_level(logging.DEBUG)
    options = harness.wrong(fake)
    c = connector(kind, options)
    with pytest.raises(AuthFailed) as info:
        c.create(c.render(make_post()), "k")
    wrong = next(v.reveal() for v in options.values() if isinstance(v, Secret))
    assert wrong not in str(info.value) + repr(info.value) + repr(info.value.args) + caplog.text
    assert harness.live(fake) == 0


@pytest.mark.parametrize("served", WITH_FAKE, indirect=True)
def test_429_is_rate_limited_with_retry_after(served: Any) -> None:
    kind, harness, fake = served
    c = connector(kind, harness.options(fake))
    fake.rate_limit_next(1, retry_after=7)
    with pytest.raises(RateLimited) as info:
        c.create(c.render(make_post()), "k")
    assert info.value.retry_after == pytest.approx(7)
    assert harness.secret not in str(info.value)
    copy = pickle.loads(pickle.dumps(info.value))  # errors cross Celery
    assert type(copy) is RateLimited and copy.retry_after == info.value.retry_after and str(copy) == str(info.value)
    assert c.create(c.render(make_post()), "k").id  # the next try goes through


@pytest.mark.parametrize("served", WITH_FAKE, indirect=True)
def test_503_is_transient(served: Any) -> None:
    kind, harness, fake = served
    c = connector(kind, harness.options(fake))
    fake.fail_next(1, 503)
    with pytest.raises(Transient) as info:
        c.create(c.render(make_post()), "k")
    assert not isinstance(info.value, OutcomeUnknown)  # the server answered: nothing landed
    assert harness.secret not in str(info.value)
    assert harness.live(fake) == 0


@pytest.mark.parametrize("served", WITH_FAKE, indirect=True)
def test_lost_create_then_find_and_retry_makes_no_duplicate(served: Any) -> None:
    kind, harness, fake = served
    c = connector(kind, harness.options(fake))
    post = make_post(3)
    draft = c.render(post)
    fake.lose_next(1, method="POST")
    with pytest.raises(OutcomeUnknown) as info:
        c.create(draft, "key-3")
    assert harness.secret not in str(info.value)
    assert harness.live(fake) == 1  # it landed
    found = c.find(post, "key-3")
    assert found is not None
    again = c.create(draft, "key-3")  # a retry that skipped find() is harmless too
    assert again.id == found.id
    assert harness.live(fake) == 1


@pytest.mark.parametrize("served", WITH_FAKE, indirect=True)
def test_timeout_on_create_is_outcome_unknown(served: Any) -> None:
    kind, harness, fake = served
    c = connector(kind, harness.options(fake), timeout=0.3)
    fake.delay_next(1, 1.0, method="POST")
    with pytest.raises(OutcomeUnknown):
        c.create(c.render(make_post(4)), "key-4")


@pytest.mark.parametrize("served", WITH_FAKE, indirect=True)
def test_find_nothing_and_delete(served: Any) -> None:
    kind, harness, fake = served
    c = connector(kind, harness.options(fake))
    post = make_post(5)
    assert c.find(post, "key-5") is None
    remote = c.create(c.render(post), "key-5")
    assert harness.live(fake) == 1
    c.delete(remote)
    assert harness.live(fake) == 0
    c.delete(remote)  # deleting twice is harmless


@pytest.mark.parametrize("served", WITH_FAKE, indirect=True)
def test_exactly_once_under_chaos(served: Any) -> None:
    """A scheduler-like loop (find after an unknown outcome, retry the rest) never duplicates."""
    kind, harness, fake = served
    c = connector(kind, harness.options(fake), timeout=0.25)
    fake.chaos(p_5xx=0.15, p_429=0.1, p_timeout=0.05, p_lost=0.2, seed=7, timeout=0.5)
    posts = [make_post(100 + i) for i in range(12)]
    for post in posts:
        key, unknown = f"key-{post.id}", False
        for _attempt in range(60):
            try:
                if unknown and c.find(post, key) is not None:
                    break
                c.create(c.render(post), key)
                break
            except OutcomeUnknown:
                unknown = True
            except (Transient, RateLimited):
                continue
        else:
            pytest.fail(f"{post.id} never went out")
    fake.calm()
    assert harness.live(fake) == len(posts)
    faults = {r.path for r in fake.requests}
    assert faults  # the fake saw the traffic


def test_fake_server_faults_filter_and_expire() -> None:
    with FakeMastodon() as fake:
        client = httpx.Client(timeout=2)
        auth = {"Authorization": f"Bearer {MASTODON_TOKEN}"}
        fake.fail_next(2, 502, method="POST")
        assert client.get(fake.url + "/api/v2/instance", headers=auth).status_code == 200  # a GET is not a POST
        for _ in range(2):
            assert client.post(fake.url + "/api/v1/statuses", headers=auth, json={"status": "x"}).status_code == 502
        assert client.post(fake.url + "/api/v1/statuses", headers=auth, json={"status": "x"}).status_code == 200
        fake.lose_next(1)
        assert client.get(fake.url + "/api/v2/instance", headers=auth).status_code == 200  # lose hits writes only
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(fake.url + "/api/v1/statuses", headers=auth, json={"status": "y"})
        assert len(fake.live) == 2  # committed before the drop
        assert client.get(fake.url + "/api/v2/instance").status_code == 401
