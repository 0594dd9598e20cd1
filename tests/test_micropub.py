"""Micropub against the fake Micropub site: the contract, then the spec's own rules (issue 15)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.micropub import Micropub, MicropubOptions
from connectors.micropub_discovery import endpoint_in_html, endpoint_in_links
from connectors.micropub_text import note_html
from syndicate.config import ConfigError, TargetConfig
from syndicate.content.post import Control, Image
from syndicate.contract import AuthFailed, Draft, Permanent, Remote, SendContext
from syndicate.engine.fitting import fit_draft
from syndicate.engine.runner import Syndicator
from syndicate.registry import load_config
from syndicate.testing import ConnectorContract, StaticMedia, make_post
from tests.fakes.micropub import TOKEN, FakeMicropub

WRONG = "wrong-token-123"


class TestMicropubContract(ConnectorContract):
    connector_type = "micropub"
    secret = TOKEN
    env = {"MICROPUB_TOKEN": TOKEN}
    wrong_env = {"MICROPUB_TOKEN": WRONG}

    def fake(self) -> FakeMicropub:
        return FakeMicropub()

    def options(self, fake: Any) -> dict[str, Any]:
        return {"site_url": fake.site, "token": "${MICROPUB_TOKEN}", "allow": ["127.0.0.1"]}

    def live(self, fake: Any) -> int:
        return len(fake.live)

    def tags(self, draft: Draft) -> list[str]:
        return list(draft.fields["properties"].get("category") or [])



class TestMicropubArticleContract(TestMicropubContract):
    """The same contract with `post_type = "article"` and a configured endpoint (no discovery)."""

    def options(self, fake: Any) -> dict[str, Any]:
        return {"endpoint": fake.endpoint, "token": "${MICROPUB_TOKEN}", "allow": ["127.0.0.1"],
                "post_type": "article"}


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeMicropub]:
    with FakeMicropub() as server:
        yield server


def micropub(fake: FakeMicropub, **options: Any) -> Micropub:
    """A connector with options validated as the config loader validates them."""
    values = {"site_url": fake.site, "token": TOKEN, "allow": ["127.0.0.1"], **options}
    model = MicropubOptions.model_validate({"type": "micropub", **values})
    kept = {k: getattr(model, k) for k in MicropubOptions.model_fields if k != "type" and getattr(model, k) is not None}
    return Micropub(TargetConfig("micropub", "micropub", kept, model))


def draft_of(c: Micropub, post: Any) -> Draft:
    return fit_draft(c.render(post), c.limits_for(None))


def engine(fake: FakeMicropub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **options: Any) -> Syndicator:
    monkeypatch.setenv("MICROPUB_TOKEN", TOKEN)
    keys = {"site_url": fake.site, "token": "${MICROPUB_TOKEN}", "allow": ["127.0.0.1"], **options}
    lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in keys.items())
    site = tmp_path / "site"
    (site / "content").mkdir(parents=True, exist_ok=True)
    (site / "syndicate.toml").write_text(
        f'[site]\nurl = "https://blog.example"\n[state]\nurl = "sqlite:///{tmp_path}/state.db"\n'
        f'[targets.mp]\ntype = "micropub"\n{lines}', encoding="utf-8")
    return Syndicator(load_config(site / "syndicate.toml"), media=StaticMedia())


def in_site(syn: Syndicator, n: int, **changes: Any) -> Any:
    post = make_post(n, **changes)
    post.path = syn.config.site.root / "content" / f"post-{n}.md"
    return post


def nosleep(seconds: float) -> None:
    pass


def posted(fake: FakeMicropub) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in fake.requests if r.method == "POST" and r.path == "/micropub"]


# --- discovery ----------------------------------------------------------------------------------


def test_link_header_parsing() -> None:
    assert endpoint_in_links(['<https://a.example/wm>; rel="webmention", </mp>; rel="micropub"']) == "/mp"
    assert endpoint_in_links(['<https://a.example/x>; rel="me micropub"']) == "https://a.example/x"
    assert endpoint_in_links(["<https://a.example/x>; rel=micropub"]) == "https://a.example/x"
    assert endpoint_in_links(['<https://a.example/x>; rel="micropub-media"']) is None
    assert endpoint_in_links([]) is None


def test_html_link_parsing() -> None:
    page = '<html><head><link rel="stylesheet" href="a.css"><LINK REL="Micropub" href="/mp/"></head></html>'
    assert endpoint_in_html(page) == "/mp/"
    assert endpoint_in_html('<link rel="micropub_media" href="/x">') is None
    assert endpoint_in_html("<html><head><title>broken") is None


@pytest.mark.parametrize("discovery", ["html", "header"])
def test_endpoint_is_discovered_from_html_or_link_header(discovery: str) -> None:
    with FakeMicropub(discovery=discovery, redirect=True) as fake:
        c = micropub(fake)
        facts = c.fetch_facts()
        assert facts is not None
        # relative hrefs resolve against the page's final URL (/home after the redirect)
        assert facts["endpoint"] == fake.endpoint
        assert facts["media_endpoint"] == fake.url + "/media"
        assert facts["syndicate_to"] == ["https://social.example/@me"]
        home = [r for r in fake.requests if r.path in ("/", "/home")]
        assert [r.path for r in home] == ["/", "/home"]
        assert all("authorization" not in r.headers for r in home), "the token went to the home page"


def test_discovery_is_cached_as_facts_not_repeated_per_post(fake: FakeMicropub, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch)
    for n in (1, 2, 3):
        assert syn.run_inline(in_site(syn, n), "mp", sleep=nosleep).status == "done"
    again = engine(fake, tmp_path, monkeypatch)  # a new process: the facts come from the ledger
    assert again.run_inline(in_site(again, 4), "mp", sleep=nosleep).status == "done"
    assert sum(1 for r in fake.requests if r.path == "/") == 1
    assert sum(1 for r in fake.requests if r.param("q") == "config") == 1
    assert len(fake.live) == 4


def test_the_link_header_comes_before_the_html() -> None:
    with FakeMicropub(discovery="both") as fake:
        facts = micropub(fake).fetch_facts()
        assert facts is not None and facts["endpoint"] == fake.endpoint


def test_a_server_with_no_q_config_still_takes_posts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeMicropub(config=False) as fake:
        syn = engine(fake, tmp_path, monkeypatch)
        cover = Image(src="c.png", url="https://blog.example/c.png", alt="Alt")
        assert syn.run_inline(in_site(syn, 14, cover=cover), "mp", sleep=nosleep).status == "done"
        assert fake.live[0]["properties"]["photo"] == [{"value": "https://blog.example/c.png", "alt": "Alt"}]


def test_a_site_without_an_endpoint_is_a_clear_permanent_error() -> None:
    with FakeMicropub(discovery="none") as fake:
        with pytest.raises(Permanent, match="names no Micropub endpoint"):
            micropub(fake).fetch_facts()


def test_site_url_on_loopback_is_refused_unless_allowed(fake: FakeMicropub) -> None:
    c = micropub(fake, allow=[])
    with pytest.raises(Permanent, match="loopback") as info:
        c.fetch_facts()
    assert TOKEN not in str(info.value)
    assert not fake.requests, "a refused address was connected to"


def test_a_discovered_endpoint_on_a_private_address_gets_no_token(fake: FakeMicropub) -> None:
    # the page names an endpoint on the cloud metadata address: refused before anything is sent
    c = micropub(fake, site_url=fake.site)
    c._known["endpoint"] = "http://169.254.169.254/micropub"
    with pytest.raises(Permanent, match="metadata"):
        c.send(c.build_verify() or pytest.fail("no verify request"))


def test_options_need_a_site_or_an_endpoint() -> None:
    with pytest.raises(ValueError, match="site_url"):
        MicropubOptions.model_validate({"type": "micropub", "token": TOKEN})


def test_config_without_credentials_is_skipped_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MICROPUB_TOKEN", raising=False)
    (tmp_path / "syndicate.toml").write_text(
        '[site]\nurl = "https://blog.example"\n[targets.mp]\ntype = "micropub"\n'
        'site_url = "https://me.example/"\ntoken = "${MICROPUB_TOKEN}"\n', encoding="utf-8")
    config = load_config(tmp_path / "syndicate.toml", strict=False)
    assert "mp" in config.skipped or "mp" in config.targets
    with pytest.raises(ConfigError):
        (tmp_path / "bad.toml").write_text(
            '[site]\nurl = "https://blog.example"\n[targets.mp]\ntype = "micropub"\ntoken = "x"\n', encoding="utf-8")
        load_config(tmp_path / "bad.toml")


# --- the h-entry ----------------------------------------------------------------------------------


def test_a_note_is_a_json_h_entry_with_every_property(fake: FakeMicropub) -> None:
    c = micropub(fake, endpoint=fake.endpoint)
    post = make_post(1, cover=Image(src="c.png", url="https://blog.example/c.png", alt="A red square"),
                     categories=["Notes"])
    draft = draft_of(c, post)
    ctx = SendContext(preview=True, siblings={"mastodon": Remote("9", "https://social.example/@me/9")})
    request = c.build_create(draft, "k", ctx)
    assert request.method == "POST" and request.url == fake.endpoint
    props = request.json["properties"]
    assert request.json["type"] == ["h-entry"]
    assert "name" not in props  # a note: micro.blog shows it whole in the timeline
    assert props["content"] == [{"html": "<p>Post number 1</p><p>Summary of post 1.</p><p><a href=\""
                                         "https://blog.example/posts/post-1/\">blog.example/posts/post-1/"
                                         "</a></p>"}]
    assert props["category"] == ["python", "testing", "Notes"]
    assert props["photo"] == [{"value": "https://blog.example/c.png", "alt": "A red square"}]
    assert props["syndication"] == ["https://blog.example/posts/post-1/", "https://social.example/@me/9"]
    assert props["mp-slug"] == ["post-1"]
    assert all(isinstance(v, list) for v in props.values())


def test_an_article_has_name_html_and_summary(fake: FakeMicropub) -> None:
    c = micropub(fake, endpoint=fake.endpoint, post_type="article")
    post = make_post(2, body="Hello *world* <script>x()</script>\n", title="A & B")
    props = c.build_create(draft_of(c, post), "k", SendContext(preview=True)).json["properties"]
    assert props["name"] == ["A & B"]
    assert props["summary"] == ["Summary of post 2."]
    html = props["content"][0]["html"]
    assert "<em>world</em>" in html and "<script" not in html
    assert props["syndication"] == ["https://blog.example/posts/post-2/"]
    assert c.limits_for(None).text is None


def test_per_post_override_of_the_text_and_type(fake: FakeMicropub) -> None:
    c = micropub(fake, endpoint=fake.endpoint)
    post = make_post(3, control=Control(overrides={"micropub": {"text": "Just this <b>"}}))
    props = c.build_create(draft_of(c, post), "k", SendContext(preview=True)).json["properties"]
    assert props["content"] == [{"html": "<p>Just this &lt;b&gt;</p><p><a href=\"https://blog.example/posts/post-3/\">"
                                         "blog.example/posts/post-3/</a></p>"}]
    article = make_post(4, control=Control(overrides={"micropub": {"post_type": "article", "title": "Other"}}))
    assert c.build_create(draft_of(c, article), "k", SendContext(preview=True)).json["properties"]["name"] == ["Other"]


def test_the_target_s_template_shapes_the_note_sent(fake: FakeMicropub, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch, template="New: {title} {hashtags} {url}")
    assert syn.run_inline(in_site(syn, 1), "mp", sleep=nosleep).status == "done"
    (entry,) = fake.live
    assert entry["properties"]["content"] == [{"html": "<p>New: Post number 1 #python #testing <a href=\""
                                                       "https://blog.example/posts/post-1/\">blog.example/posts/post-1/"
                                                       "</a></p>"}]
    assert "name" not in entry["properties"]  # still a note


def test_a_long_note_is_fitted_to_the_timeline(fake: FakeMicropub, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch)
    post = in_site(syn, 5, summary="word " * 200)
    assert syn.run_inline(post, "mp", sleep=nosleep).status == "done"
    assert fake.truncated == []  # at most 300 characters: shown whole, no "read more"
    assert len(fake.live) == 1


def test_note_html_escapes_and_links() -> None:
    assert note_html("a < b\nsee https://x.example/?a=1&b=2.") == (
        '<p>a &lt; b<br>see <a href="https://x.example/?a=1&amp;b=2">x.example/?a=1&amp;b=2</a>.</p>')
    long = "https://blog.example/" + "very-long-path/" * 5
    assert note_html(long) == f'<p><a href="{long}">blog.example/very-long-path/v\u2026</a></p>'



# --- create, media, update, delete against the fake ----------------------------------------------


@pytest.mark.parametrize("accepted", ["201", "202"])
def test_location_is_the_copy_and_media_go_to_the_media_endpoint(accepted: str, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeMicropub(accepted=accepted, media_accepted=accepted) as fake:
        syn = engine(fake, tmp_path, monkeypatch)
        cover = Image(src="c.png", url="https://blog.example/c.png", alt="A red square", path=None)
        out = syn.run_inline(in_site(syn, 6, cover=cover), "mp", sleep=nosleep)
        assert out.status == "done"
        url = next(iter(fake.posts))
        assert out.remote_url == url  # a relative Location (the 202 variant) resolved against the endpoint
        photo = fake.posts[url]["properties"]["photo"]
        assert len(photo) == 1 and photo[0]["value"] in fake.files and photo[0]["alt"] == "A red square"
        row = syn.ledger.get("post-6", "mp")
        assert row is not None and row.remote_id == url and row.remote_url == url


def test_without_a_media_endpoint_photos_go_by_their_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeMicropub(media=False) as fake:
        syn = engine(fake, tmp_path, monkeypatch)
        cover = Image(src="c.png", url="https://blog.example/c.png", alt="Alt")
        assert syn.run_inline(in_site(syn, 7, cover=cover), "mp", sleep=nosleep).status == "done"
        assert fake.live[0]["properties"]["photo"] == [{"value": "https://blog.example/c.png", "alt": "Alt"}]
        assert not fake.files
        notices = syn.connector("mp").notices(syn.facts("mp"), datetime.now(UTC))
        assert notices and "no media endpoint" in notices[0].message


def test_an_edit_replaces_and_a_removed_cover_is_deleted(fake: FakeMicropub, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch)
    cover = Image(src="c.png", url="https://blog.example/c.png", alt="Alt")
    assert syn.run_inline(in_site(syn, 8, cover=cover), "mp", sleep=nosleep).status == "done"
    url = next(iter(fake.posts))
    edited = in_site(syn, 8, title="An edited title", tags=["changed"])
    assert syn.run_inline(edited, "mp", sleep=nosleep).status == "done"
    update = posted(fake)[-1]
    assert update["action"] == "update" and update["url"] == url
    assert "photo" in update["delete"] and "published" not in update["replace"]
    props = fake.posts[url]["properties"]
    assert "An edited title" in props["content"][0]["html"] and props["category"] == ["changed"]
    assert "photo" not in props and props["url"] == [url]


def test_delete_is_an_action(fake: FakeMicropub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch)
    assert syn.run_inline(in_site(syn, 9), "mp", sleep=nosleep).status == "done"
    url = next(iter(fake.posts))
    out = syn.run_inline(in_site(syn, 9, hidden="draft", draft=True), "mp", sleep=nosleep)
    assert out.action == "delete" and out.status == "done"
    assert posted(fake)[-1] == {"action": "delete", "url": url}
    assert fake.live == []


def test_a_lost_create_is_found_by_its_syndication_url(fake: FakeMicropub, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch)
    post = in_site(syn, 10)
    fake.lose_next(1, method="POST", path="/micropub")
    assert syn.attempt(post, "mp").status == "retry"
    assert syn.run_inline(post, "mp", sleep=nosleep).status == "done"
    assert len(fake.live) == 1
    assert any(r.param("q") == "source" for r in fake.requests)


@pytest.mark.parametrize("post_type", ["note", "article"])
def test_a_lost_create_is_found_where_the_list_has_no_syndication(post_type: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeMicropub(list_syndication=False) as fake:
        syn = engine(fake, tmp_path, monkeypatch, post_type=post_type)
        other = in_site(syn, 15, title="Another post")
        assert syn.run_inline(other, "mp", sleep=nosleep).status == "done"
        post = in_site(syn, 16, date=datetime(2026, 1, 2, tzinfo=UTC))
        fake.lose_next(1, method="POST", path="/micropub")
        assert syn.attempt(post, "mp").status == "retry"
        assert syn.run_inline(post, "mp", sleep=nosleep).status == "done"
        assert len(fake.live) == 2  # the note by its link in the content, the article by its title and date
        row = syn.ledger.get(post.id, "mp")
        assert row is not None and row.remote_url == list(fake.posts)[-1]


def test_a_server_that_cannot_list_posts_asks_a_person(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeMicropub(listing=False) as fake:
        syn = engine(fake, tmp_path, monkeypatch)
        post = in_site(syn, 11)
        fake.lose_next(1, method="POST", path="/micropub")
        syn.attempt(post, "mp")
        out = syn.run_inline(post, "mp", sleep=nosleep)
        assert out.status == "failed" and "syndicate resolve" in str(out.error)
        assert len(fake.live) == 1  # never sent twice


# --- errors ----------------------------------------------------------------------------------------


def test_error_mapping_follows_the_spec(fake: FakeMicropub) -> None:
    c = micropub(fake, endpoint=fake.endpoint)
    draft = draft_of(c, make_post(12))
    fake.tokens[TOKEN] = ("create",)  # no update scope
    remote = c.create(draft, "k", SendContext())
    with pytest.raises(AuthFailed, match="insufficient_scope.*scope"):
        c.update(remote, draft, SendContext())
    fake.tokens["other"] = ()
    wrong = micropub(fake, endpoint=fake.endpoint, token="other-but-unknown")
    with pytest.raises(AuthFailed, match="forbidden") as info:
        wrong.create(draft, "k", SendContext())
    assert "other-but-unknown" not in str(info.value)
    bad = c.build_create(draft, "k", SendContext())
    bad.json["properties"]["category"] = "not-an-array"
    with pytest.raises(Permanent, match="invalid_request.*array"):
        c.send(bad)


def test_the_token_never_shows(fake: FakeMicropub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               caplog: pytest.LogCaptureFixture) -> None:
    syn = engine(fake, tmp_path, monkeypatch)
    post = in_site(syn, 13)
    shown = json.dumps(syn.requests(syn.plan_for(post, "mp")))
    out = syn.run_inline(post, "mp", sleep=nosleep)
    row = syn.ledger.get(post.id, "mp")
    assert TOKEN not in shown + json.dumps(out.as_dict()) + caplog.text + repr(row)
    assert all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in fake.requests if r.path == "/micropub")


def test_verify_is_q_config_with_the_token(fake: FakeMicropub) -> None:
    c = micropub(fake, endpoint=fake.endpoint)
    request = c.build_verify()
    assert request is not None and request.method == "GET" and request.params == {"q": "config"}
    assert c.send(request).json()["media-endpoint"] == "/media"
