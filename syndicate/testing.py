"""The contract suite every connector's tests subclass (pytest).

    class TestMyPlatform(ConnectorContract):
        connector_type = "myplatform"
        secret = "the-test-token"
        def fake(self): return MyFake()                     # a context manager with `.url` and faults
        def options(self, fake): return {"base_url": fake.url, "token": "${MYPLATFORM_TOKEN}"}
        env = {"MYPLATFORM_TOKEN": "the-test-token"}
        def live(self, fake): return len(fake.posts)        # copies that exist and are visible

The fake is a real HTTP server on loopback with the fault methods of
`tests/fakes/server.py`: `fail_next(n, status)`, `rate_limit_next(n,
retry_after)`, `lose_next(n, method)` (commit, then drop the connection),
`calm()`, and `requests` (what it received). Every case runs through the
engine (`Syndicator` on a SQLite ledger) the way `syndicate push` does, so a
connector is tested as it is used: masked secrets, limits over nasty posts,
401, 429 + Retry-After, 503, a lost create with and without `find`, edit and
delete as declared, and the preview equal to the request sent.
"""
from __future__ import annotations

import itertools
import json
import pickle
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from syndicate import registry
from syndicate.config import Config, SiteConfig
from syndicate.content.markdown import RENDERER
from syndicate.content.markdown.document import Document, Embed
from syndicate.content.post import Image, Post
from syndicate.contract import Draft, FittedMedia, MediaItem, MediaPolicy
from syndicate.engine.fitting import fits
from syndicate.engine.runner import Syndicator
from syndicate.errors import AuthFailed, OutcomeUnknown, RateLimited, Transient
from syndicate.registry import load_config

SITE = SiteConfig(url="https://blog.example", root=Path("/tmp/site"))


def make_post(n: int = 1, **changes: Any) -> Post:
    """A plain post; `document` (segments) may be given to bypass the Markdown pipeline."""
    document = changes.pop("document", None)
    values: dict[str, Any] = dict(
        id=f"post-{n}", path=Path(f"/tmp/site/content/post-{n}.md"), title=f"Post number {n}", slug=f"post-{n}",
        url=f"https://blog.example/posts/post-{n}/", body=f"Body of post {n}.\n\nSecond paragraph.\n", site=SITE,
        summary=f"Summary of post {n}.", tags=["python", "testing"], renderer=RENDERER,
    )
    values.update(changes)
    post = Post(**values)
    if document is not None:
        post.memo.document = Document(segments=list(document))
    return post


def nasty_posts() -> list[Post]:
    """Posts that break naive connectors: long, tag-heavy, CJK, emoji, RTL, Liquid, long URLs, embeds."""
    return [
        make_post(10, title="A very long title " * 20, summary="word " * 400),
        make_post(11, tags=[f"Tag number {i}" for i in range(25)] + ["C++", "C#", ".NET", "!!!", "123", "Ünïcödé"],
                  categories=["Machine Learning", "machine-learning"]),
        make_post(12, title="日本語のタイトルはスペースがありません" * 8, summary="中文摘要没有空格" * 80, tags=["日本語", "中文"],
                  lang="ja"),
        make_post(13, title="Emoji \U0001F468\u200d\U0001F469\u200d\U0001F467 " * 20, summary="\U0001F44D\U0001F3FD " * 300,
                  tags=["\U0001F600", "emoji"]),
        make_post(14, title="مرحبا بالعالم " * 15, summary="שלום עולם " * 80, tags=["עברית", "عربي"], lang="ar"),
        make_post(15, title="Liquid {{ page.title }} {% include x %}",
                  body="Text {{ var }} and {% tag %}\n\n```\n{{ code }}\n```\n",
                  summary="Uses {{ braces }} and e\u0301\u0301\u0301 marks " * 30),
        make_post(16, url="https://blog.example/" + "very-long-path/" * 30, title="Long URL"),
        make_post(17, cover=Image(src="cover.png", url="https://blog.example/cover.png", alt="A cover"),
                  document=["Intro\n\n", Embed("youtube", "dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
                            "\n\nEnd {{ x }}\n"]),
    ]


class StaticMedia:
    """A stand-in for the media pipeline (tested on its own): every image URL answers, every image is a
    small PNG. Connector cases then test what the connector does with media, not the network."""

    rehost_store = None

    def __init__(self) -> None:
        self.fitted_items: list[MediaItem] = []

    def probe(self, url: str) -> None:
        return None

    def fitted(self, item: MediaItem, policy: MediaPolicy) -> FittedMedia:
        import io

        from PIL import Image as PILImage

        self.fitted_items.append(item)
        out = io.BytesIO()
        PILImage.new("RGB", (8, 8), (200, 10, 10)).save(out, "PNG")
        return FittedMedia(out.getvalue(), "image/png", 8, 8, "image.png", item.alt)


class ConnectorContract:
    """Every case of the connector contract; a test class subclasses it and fills in the blanks."""

    connector_type: ClassVar[str] = ""
    secret: ClassVar[str] = ""  # the credential's value in `env`, checked never to appear
    env: ClassVar[dict[str, str]] = {}
    wrong_env: ClassVar[dict[str, str]] = {}  # the same variables with a credential the fake refuses
    chaos_timeout: ClassVar[float] = 5.0  # the chaos case's client timeout: long enough for a loaded machine

    # --- to fill in ---

    def fake(self) -> Any:
        raise NotImplementedError

    def options(self, fake: Any) -> dict[str, Any]:
        """The target's TOML keys (credentials as `${VAR}` from `env`)."""
        raise NotImplementedError

    def live(self, fake: Any) -> int:
        """How many copies exist on the fake and are visible."""
        raise NotImplementedError

    def title(self, draft: Draft) -> str | None:
        return None

    def tags(self, draft: Draft) -> list[str]:
        return []

    # --- fixtures ---

    @pytest.fixture
    def server(self) -> Iterator[Any]:
        with self.fake() as fake:
            yield fake

    def syndicator(self, fake: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, wrong: bool = False,
                   strict: bool = True, timeout: float = 5.0) -> Syndicator:
        for key, value in {**self.env, **(self.wrong_env if wrong else {})}.items():
            monkeypatch.setenv(key, value)
        site = tmp_path / "site"
        (site / "content").mkdir(parents=True, exist_ok=True)
        lines = [f"[site]\nurl = \"https://blog.example\"\n\n[state]\nurl = \"sqlite:///{tmp_path / 'state.db'}\"\n",
                 f"[http]\ntimeout = {timeout}\n", "[targets.t]", f"type = {json.dumps(self.connector_type)}"]
        lines += [f"{k} = {json.dumps(v)}" for k, v in self.options(fake).items()]
        config_file = site / "syndicate.toml"
        config_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        config: Config = load_config(config_file, strict=strict)
        syn = Syndicator(config, media=StaticMedia())
        limiter = getattr(syn.connector("t").throttle, "limiter", None)
        if limiter is not None:  # the tests' sleeps pass no time: the client-side limiter's runs ahead by itself
            limiter.clock = _fast_forward()
        return syn

    @staticmethod
    def post_in(syn: Syndicator, n: int, **changes: Any) -> Post:
        post = make_post(n, **changes)
        post.path = syn.config.site.root / "content" / f"post-{n}.md"
        return post

    # --- pure cases ---

    def test_declarations(self) -> None:
        cls = registry.get(self.connector_type)
        assert cls.type == self.connector_type
        assert cls.options is not None, "declare an options model (a TargetOptions subclass)"
        assert cls.auth is not None or not self.secret, "declare how the connector authenticates"
        able = cls.abilities
        assert able.delete in ("delete", "unpublish", "none")
        if not able.can_find:
            assert able.find_hint, "a platform that cannot find must say where a person should look"

    def test_secrets_are_masked(self, server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        syn = self.syndicator(server, tmp_path, monkeypatch)
        conn = syn.connector("t")
        post = self.post_in(syn, 1)
        p = syn.plan_for(post, "t")
        shown = [repr(conn), str(conn), repr(conn.target), str(conn.target), repr(vars(conn)),
                 repr(conn.target.masked()), repr(p.draft), json.dumps(syn.requests(p))]
        for text in shown:
            assert self.secret not in text

    def test_render_within_declared_limits(self, server: Any, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
        syn = self.syndicator(server, tmp_path, monkeypatch)
        conn = syn.connector("t")
        limits = conn.limits_for(syn.facts("t"))
        for post in nasty_posts():
            p = syn.plan_for(post, "t")
            assert p.action == "create", (post.id, p.reason)
            assert p.draft is not None and p.draft.target_type == self.connector_type
            if limits.text is not None:
                for part in p.draft.parts:
                    assert part.text is not None and fits(part.text, limits.text), (post.id, part.text)
                assert post.url in "".join(part.text or "" for part in p.draft.parts)
            title = self.title(p.draft)
            if title is not None and limits.title_max is not None:
                assert 0 < len(title) <= limits.title_max
            if limits.tags is not None and limits.tags.max is not None:
                assert len(self.tags(p.draft)) <= limits.tags.max

    # --- against the fake, through the engine ---

    def test_nasty_posts_are_accepted(self, server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        syn = self.syndicator(server, tmp_path, monkeypatch)
        for post in nasty_posts():
            post.path = syn.config.site.root / "content" / f"{post.id}.md"
            outcome = syn.run_inline(post, "t", sleep=lambda s: None)
            assert outcome.status == "done", (post.id, outcome)
        assert self.live(server) == len(nasty_posts())

    def test_preview_is_the_request_sent(self, server: Any, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
        syn = self.syndicator(server, tmp_path, monkeypatch)
        post = self.post_in(syn, 2)
        shown = syn.requests(syn.plan_for(post, "t"))[-1]
        before = len(server.requests)
        assert syn.run_inline(post, "t", sleep=lambda s: None).status == "done"
        sent = [r for r in server.requests[before:] if r.method == shown["method"]]
        assert sent, "the fake saw no request of the previewed method"
        body = sent[-1].body
        if shown["json"] is not None:
            assert json.loads(body) == shown["json"]

    def test_401_stops_the_target_without_the_secret(self, server: Any, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:
        syn = self.syndicator(server, tmp_path, monkeypatch, wrong=True)
        first = syn.run_inline(self.post_in(syn, 3), "t", sleep=lambda s: None)
        assert first.status == "failed" and first.reason == "auth"
        seen = len(server.requests)
        others = [syn.run_inline(self.post_in(syn, n), "t", sleep=lambda s: None) for n in (4, 5, 6)]
        assert all(o.status == "waiting" for o in others)
        assert len(server.requests) == seen, "a refused credential was tried again in the same run"
        wrong = next(iter(self.wrong_env.values()))
        assert wrong not in json.dumps([o.as_dict() for o in [first, *others]]) + caplog.text
        assert self.live(server) == 0

    def test_verify_is_a_read_that_proves_the_credentials(self, server: Any, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
        """`build_verify`: the cheapest authenticated read (`doctor`): answered with the right credentials,
        refused (AuthFailed) with wrong ones, and nothing is made either way."""
        syn = self.syndicator(server, tmp_path, monkeypatch)
        conn = syn.connector("t")
        request = conn.build_verify()
        if request is None:
            pytest.skip(f"{self.connector_type} names no credential check")
        again = conn.build_verify()
        assert again is not None and request.shown() == again.shown()  # pure: the same request each time
        conn.send(request)
        if self.wrong_env:
            wrong = self.syndicator(server, tmp_path / "wrong", monkeypatch, wrong=True)
            bad = wrong.connector("t")
            with pytest.raises(AuthFailed) as info:
                bad.send(bad.build_verify())  # type: ignore[arg-type]
            assert next(iter(self.wrong_env.values())) not in str(info.value)
        assert self.live(server) == 0

    def test_429_waits_what_the_platform_said(self, server: Any, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
        syn = self.syndicator(server, tmp_path, monkeypatch)
        server.rate_limit_next(1, retry_after=7, method="POST")
        slept: list[float] = []
        limiter = getattr(syn.connector("t").throttle, "limiter", None)
        if limiter is not None:  # the client-side limiter learns the pause too: its time follows the sleeps
            limiter.clock = lambda: time.time() + sum(slept)
        outcome = syn.run_inline(self.post_in(syn, 7), "t", sleep=slept.append)
        assert outcome.status == "done"
        assert slept and slept[0] == pytest.approx(7), slept
        copy = pickle.loads(pickle.dumps(RateLimited("x: HTTP 429", 7.0)))  # errors cross Celery
        assert copy.retry_after == 7.0
        assert self.live(server) == 1

    def test_long_rate_limit_is_deferred_to_the_ledger(self, server: Any, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
        syn = self.syndicator(server, tmp_path, monkeypatch)
        server.rate_limit_next(1, retry_after=3600, method="POST")
        outcome = syn.run_inline(self.post_in(syn, 8), "t", sleep=lambda s: pytest.fail("slept through an hour"))
        assert outcome.status == "deferred"
        row = syn.ledger.get("post-8", "t")
        assert row is not None and row.state == "deferred" and row.deferred_until is not None

    def test_503_is_transient_and_retried(self, server: Any, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
        syn = self.syndicator(server, tmp_path, monkeypatch)
        server.fail_next(2, 503, method="POST")
        slept: list[float] = []
        outcome = syn.run_inline(self.post_in(syn, 9), "t", sleep=slept.append)
        assert outcome.status == "done" and len(slept) == 2
        assert self.live(server) == 1

    def test_lost_create_makes_no_duplicate(self, server: Any, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
        syn = self.syndicator(server, tmp_path, monkeypatch)
        conn = syn.connector("t")
        post = self.post_in(syn, 20)
        server.lose_next(1, method="POST")
        first = syn.attempt(post, "t")
        assert first.status == "retry"
        assert self.live(server) == 1  # it landed
        row = syn.ledger.get(post.id, "t")
        assert row is not None and row.state == "creating"
        again = syn.run_inline(post, "t", sleep=lambda s: None)
        if conn.abilities.can_find:
            assert again.status == "done"
        else:
            assert again.status == "check"  # never sent again: a person looks, then `syndicate resolve`
            row = syn.ledger.get(post.id, "t")
            assert row is not None and row.state == "check"
        assert self.live(server) == 1

    def test_edit_as_declared(self, server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        syn = self.syndicator(server, tmp_path, monkeypatch)
        conn = syn.connector("t")
        post = self.post_in(syn, 30)
        assert syn.run_inline(post, "t", sleep=lambda s: None).status == "done"
        assert syn.run_inline(post, "t", sleep=lambda s: None).reason == "unchanged"
        edited = self.post_in(syn, 30, title="An edited title", summary="An edited summary.")
        p = syn.plan_for(edited, "t")
        if conn.abilities.can_update and (conn.option("on_edit") or conn.abilities.on_edit) == "update":
            assert p.action == "update"
            assert syn.run_inline(edited, "t", sleep=lambda s: None).status == "done"
        else:
            assert p.action in ("skip", "repost") and p.reason
        assert self.live(server) == 1

    def test_delete_as_declared(self, server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        syn = self.syndicator(server, tmp_path, monkeypatch)
        conn = syn.connector("t")
        post = self.post_in(syn, 40)
        assert syn.run_inline(post, "t", sleep=lambda s: None).status == "done"
        hidden = self.post_in(syn, 40, hidden="draft", draft=True)
        outcome = syn.run_inline(hidden, "t", sleep=lambda s: None)
        if conn.abilities.delete == "none":
            assert outcome.action == "skip" and self.live(server) == 1
            return
        assert outcome.action == "delete" and outcome.status == "done"
        assert self.live(server) == 0
        row = syn.ledger.get(post.id, "t")
        assert row is not None and row.state == "deleted" and row.remote_id is None and row.revision == 2
        back = syn.run_inline(post, "t", sleep=lambda s: None)  # published again: a new copy, a new key
        assert back.action == "create" and back.status == "done"
        assert self.live(server) == 1

    def test_exactly_once_under_chaos(self, server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        # an injected timeout on a fake holds the request in transit: the connection drops unanswered, and a
        # write lands at `calm()`, after everything else (no clock). Behind a proxy (a peer) it is answered
        # `chaos_timeout * 1.5` late, after the write committed.
        syn = self.syndicator(server, tmp_path, monkeypatch, timeout=self.chaos_timeout)
        server.chaos(p_5xx=0.15, p_429=0.1, p_timeout=0.05, p_lost=0.2, seed=7, timeout=self.chaos_timeout * 1.5)
        posts = [self.post_in(syn, 100 + i) for i in range(10)]
        seen: list[str] = []  # every outcome, for the failure message

        def story() -> str:
            faults = [f"{m} {p} {k}" for m, p, k in getattr(server, "journal", []) if k != "-"]
            return "\noutcomes:\n  " + "\n  ".join(seen) + "\ninjected faults:\n  " + "\n  ".join(faults)

        for post in posts:
            for _round in range(30):
                outcome = syn.run_inline(post, "t", sleep=lambda s: None)
                seen.append(f"{post.id}: {outcome.status} ({outcome.action}: {outcome.reason}) {outcome.error or ''}")
                if outcome.status in ("done", "check"):
                    break
                assert outcome.status in ("failed", "deferred"), f"unexpected outcome {outcome}{story()}"
                syn.ledger.update(post.id, "t", deferred_until=None)
            else:
                pytest.fail(f"{post.id} never went out{story()}")
        # every held request lands now, and the count waits until nothing is in flight: a late copy counts
        server.calm()
        getattr(server, "quiesce", lambda: None)()
        states = [r.state if (r := syn.ledger.get(p.id, "t")) is not None else "none" for p in posts]
        live = self.live(server)
        said = f"ledger states {states}, {live} copies on the server{story()}"
        if "check" in states:  # a `check` row's copy may or may not exist: never more than one
            assert states.count("published") <= live <= len(posts), said
        else:
            assert states == ["published"] * len(posts), said
            assert live == len(posts), said


__all__ = ["ConnectorContract", "make_post", "nasty_posts", "unthrottled", "AuthFailed", "OutcomeUnknown", "Transient"]


def unthrottled(syn: Syndicator, *targets: str) -> Syndicator:
    """For tests whose sleeps pass no time: each target's client-side limiter runs an hour ahead at every
    reading, so its windows never hold a unit up (the platform's own 429s still do)."""
    for target in targets:
        limiter = getattr(syn.connector(target).throttle, "limiter", None)
        if limiter is not None:
            limiter.clock = _fast_forward()
    return syn


def _fast_forward(step: float = 3600.0) -> Callable[[], float]:
    """A clock an hour further on at each reading: every window and pause has passed."""
    ticks = itertools.count(1)
    return lambda: time.time() + step * next(ticks)
