"""LinkedIn connector against the fake LinkedIn API: the contract, and the platform's own rules (issue 15)."""
from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.linkedin import DEFAULT_VERSION, LinkedIn, LinkedInOptions
from connectors.linkedin_text import commentary, escape
from syndicate.config import Secret, TargetConfig
from syndicate.content.post import Control, Image
from syndicate.contract import (
    AuthFailed,
    Draft,
    FittedMedia,
    MediaItem,
    Permanent,
    RateLimited,
    Remote,
    SendContext,
)
from syndicate.engine.fitting import fit_draft
from syndicate.engine.runner import Syndicator
from syndicate.registry import load_config
from syndicate.testing import ConnectorContract, StaticMedia, make_post
from tests.fakes.linkedin import FakeLinkedIn, little

TOKEN = "li-test-token"
PERSON = "urn:li:person:AbC123xyz"
PAGE = "urn:li:organization:2414183"


class TestLinkedInContract(ConnectorContract):
    connector_type = "linkedin"
    secret = TOKEN
    env = {"LINKEDIN_ACCESS_TOKEN": TOKEN}
    wrong_env = {"LINKEDIN_ACCESS_TOKEN": "wrong-token-123"}

    def fake(self) -> FakeLinkedIn:
        return FakeLinkedIn()

    def options(self, fake: Any) -> dict[str, Any]:
        return {"access_token": "${LINKEDIN_ACCESS_TOKEN}", "author": PERSON, "base_url": fake.url}

    def live(self, fake: Any) -> int:
        return len(fake.live)

    def title(self, draft: Draft) -> str | None:
        article = draft.fields.get("article")
        return str(article["title"]) if article else None


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeLinkedIn]:
    with started(FakeLinkedIn()) as server:
        yield server


@contextmanager
def started(server: FakeLinkedIn) -> Iterator[FakeLinkedIn]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


def linkedin(fake: FakeLinkedIn, **options: Any) -> LinkedIn:
    model = LinkedInOptions.model_validate({"type": "linkedin", "access_token": Secret(TOKEN), "author": PERSON,
                                            "base_url": fake.url, **options})
    opts = {k: v for k, v in model.model_dump().items() if v is not None}
    opts["access_token"] = Secret(TOKEN)
    return LinkedIn(TargetConfig("linkedin", "linkedin", opts), http=httpx.Client(timeout=5))


def render(conn: LinkedIn, post: Any) -> Draft:
    return fit_draft(conn.render(post, None), conn.limits_for(None))


def engine(fake: FakeLinkedIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **options: Any) -> Syndicator:
    monkeypatch.setenv("LINKEDIN_ACCESS_TOKEN", TOKEN)
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in options.items())
    config = tmp_path / "syndicate.toml"
    config.write_text(f'[site]\nurl = "https://blog.example"\n[state]\nurl = "sqlite:///{tmp_path}/state.db"\n'
                      f'dir = "{tmp_path / "data"}"\n[targets.linkedin]\nbase_url = "{fake.url}"\n'
                      f'access_token = "${{LINKEDIN_ACCESS_TOKEN}}"\nauthor = "{PERSON}"\n{extra}', encoding="utf-8")
    return Syndicator(load_config(config), media=StaticMedia())


def post_in(syn: Syndicator, n: int, **changes: Any) -> Any:
    post = make_post(n, **changes)
    post.path = syn.config.site.root / "content" / f"post-{n}.md"
    return post


def nosleep(seconds: float) -> None:
    pass


COVER = Image(src="cover.png", url="https://blog.example/cover.png", alt="A red square")


# --- the little text format -----------------------------------------------------------------------


NASTY = r"Arrays [0] & (parens) <html> C# *bold* _under_ ~strike~ a|b {x} @someone back\slash"


def test_every_reserved_character_is_escaped_and_the_fake_keeps_the_whole_text(fake: FakeLinkedIn) -> None:
    conn = linkedin(fake)
    draft = render(conn, make_post(1, title=NASTY, summary="Costs (in €) are <10%> #1 * 2"))
    text = draft.text or ""
    assert text.startswith(NASTY)
    remote = conn.create(draft, "k", SendContext())
    stored = fake.posts[str(remote.id)]
    assert stored["cut"] is False and stored["text"] == text  # the reader sees exactly the fitted text
    assert "\\[0\\]" in stored["commentary"] and "C\\#" in stored["commentary"]


def test_an_unescaped_commentary_is_cut_silently_at_the_first_reserved_character(fake: FakeLinkedIn) -> None:
    conn = linkedin(fake)
    request = conn.build_create(render(conn, make_post(1)), "k", SendContext())
    request.json["commentary"] = "Release notes (part 2) are out"
    remote = conn.parse_remote(conn.send(request), SendContext())  # 201: LinkedIn says nothing
    assert fake.posts[str(remote.id)]["text"] == "Release notes " and fake.posts[str(remote.id)]["cut"]


def test_hashtags_use_the_hashtag_template_and_show_as_hashtags(fake: FakeLinkedIn) -> None:
    conn = linkedin(fake)
    draft = render(conn, make_post(1, tags=["python", "Machine Learning", "my_tag"]))
    assert (draft.text or "").endswith("\n\n#python #MachineLearning #my_tag")
    body = conn.build_create(draft, "k", SendContext()).json
    assert "{hashtag|\\#|python}" in body["commentary"] and "{hashtag|\\#|MachineLearning}" in body["commentary"]
    remote = conn.create(draft, "k", SendContext())
    assert "#python #MachineLearning" in fake.posts[str(remote.id)]["text"]
    assert not fake.posts[str(remote.id)]["cut"]


@pytest.mark.parametrize(("text", "sent"), [
    ("C# and #1", "C\\# and \\#1"),  # not hashtags: escaped
    ("see #rust_lang now", "see {hashtag|\\#|rust\\_lang} now"),
    ("a\\b", "a\\\\b"),
    ("(#tag)", "\\(\\#tag\\)"),  # a hashtag starts after a space
])
def test_commentary_cases(text: str, sent: str) -> None:
    assert commentary(text) == sent
    assert little(sent) == (text, False)


def test_the_target_s_template_shapes_the_commentary_sent(fake: FakeLinkedIn, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch, template="New (read it): {title} {url} {hashtags}")
    post = post_in(syn, 1)
    assert syn.run_inline(post, "linkedin", sleep=nosleep).status == "done"
    (stored,) = fake.live
    assert stored["text"] == "New (read it): Post number 1 https://blog.example/posts/post-1/ #python #testing"
    assert not stored["cut"]
    assert stored["commentary"].startswith("New \\(read it\\): Post number 1 https://")  # escaped for LinkedIn
    assert stored["article"]["source"] == post.url


def test_the_3000_characters_are_counted_as_the_reader_sees_them(fake: FakeLinkedIn) -> None:
    conn = linkedin(fake)
    summary = "(a) [b] {c} <d> *e* _f_ ~g~ " * 200  # half of it reserved characters
    draft = render(conn, make_post(1, summary=summary))
    text = draft.text or ""
    sent = conn.build_create(draft, "k", SendContext()).json["commentary"]
    assert len(text) <= 3000 < len(sent)  # escaping adds what the reader never sees
    assert any("3,000" in w or "3000" in w for w in draft.warnings)
    remote = conn.create(draft, "k", SendContext())
    assert fake.posts[str(remote.id)]["text"] == text


def test_more_than_3000_visible_characters_are_refused_by_the_fake(fake: FakeLinkedIn) -> None:
    conn = linkedin(fake)
    request = conn.build_create(render(conn, make_post(1)), "k", SendContext())
    request.json["commentary"] = "x" * 3001
    with pytest.raises(Permanent, match="3000"):
        conn.send(request)


# --- the article, its thumbnail, the headers -----------------------------------------------------


def test_a_post_is_an_article_share_with_an_uploaded_thumbnail(fake: FakeLinkedIn, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch)
    post = post_in(syn, 1, cover=COVER)
    assert syn.run_inline(post, "linkedin", sleep=nosleep).status == "done"
    calls = [f"{r.method} {r.path}" for r in fake.requests]
    assert calls[0] == "POST /rest/images" and calls[1].startswith("PUT /dms-uploads/") and calls[2] == "POST /rest/posts"
    (stored,) = fake.live
    article = stored["article"]
    assert article["source"] == post.url and article["title"] == "Post number 1"
    assert article["description"] == "Summary of post 1."
    assert fake.images[article["thumbnail"]]["status"] == "AVAILABLE"
    assert stored["text"].startswith("Post number 1\n\nSummary of post 1.")  # the commentary carries the title
    row = syn.ledger.get("post-1", "linkedin")
    assert row is not None and row.remote_id == stored["id"] and row.remote_url == (
        f"https://www.linkedin.com/feed/update/{stored['id']}/")


def test_every_call_sends_the_version_and_protocol_headers(fake: FakeLinkedIn, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch, link="first_comment")
    post = post_in(syn, 1)
    assert syn.run_inline(post, "linkedin", sleep=nosleep).status == "done"
    edited = post_in(syn, 1, title="New title")
    assert syn.run_inline(edited, "linkedin", sleep=nosleep).status == "done"
    assert syn.run_inline(post_in(syn, 1, draft=True, hidden="draft"), "linkedin", sleep=nosleep).status == "done"
    conn = syn.connector("linkedin")
    assert isinstance(conn, LinkedIn)
    conn.send(conn.build_verify())
    assert len(fake.requests) >= 5
    for r in fake.requests:
        assert r.headers["linkedin-version"] == DEFAULT_VERSION and r.headers["x-restli-protocol-version"] == "2.0.0"
    bare = httpx.get(f"{fake.url}/v2/userinfo", headers={"Authorization": f"Bearer {TOKEN}"})
    assert bare.status_code == 400 and "VERSION_MISSING" in bare.text
    half = httpx.get(f"{fake.url}/v2/userinfo", headers={"Authorization": f"Bearer {TOKEN}",
                                                         "LinkedIn-Version": DEFAULT_VERSION})
    assert half.status_code == 400


def test_a_sunset_version_is_a_permanent_error_naming_the_key(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    with started(FakeLinkedIn(today=lambda: date(2028, 3, 1))) as fake:
        syn = engine(fake, tmp_path, monkeypatch)
        outcome = syn.run_inline(post_in(syn, 1), "linkedin", sleep=lambda s: pytest.fail("retried a sunset"))
        assert outcome.status == "failed"
        row = syn.ledger.get("post-1", "linkedin")
        assert row is not None and "`version`" in (row.last_error or "") and DEFAULT_VERSION in (row.last_error or "")
        assert "NONEXISTENT_VERSION" in (row.last_error or "")
        assert len(fake.requests) == 1 and fake.live == []


def test_a_version_from_the_future_does_not_exist_either(fake: FakeLinkedIn) -> None:
    conn = linkedin(fake, version="202801")
    with pytest.raises(Permanent, match="set `version`"):
        conn.send(conn.build_verify())


@pytest.mark.parametrize(("options", "message"), [
    ({"author": "urn:li:member:123"}, "person or organization URN"),
    ({"author": "urn:li:organization:acme"}, "person or organization URN"),
    ({"author": "AbC123xyz"}, "person or organization URN"),
    ({"version": "2026-11"}, "YYYYMM"),
    ({"version": "202613"}, "YYYYMM"),
    ({"version": "202101"}, "202206"),
    ({"author": PAGE, "visibility": "CONNECTIONS"}, "for a person"),
    ({"template": "{title} {body}"}, "body"),
])
def test_options_are_checked(options: dict[str, Any], message: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=message):
        LinkedInOptions.model_validate({"type": "linkedin", "access_token": "x", "author": PERSON, **options})


def test_a_page_posts_as_the_organization_and_a_stranger_page_is_refused(fake: FakeLinkedIn) -> None:
    conn = linkedin(fake, author=PAGE)
    remote = conn.create(render(conn, make_post(1)), "k", SendContext())
    assert fake.posts[str(remote.id)]["author"] == PAGE
    other = linkedin(fake, author="urn:li:organization:999")
    with pytest.raises(AuthFailed, match="w_organization_social"):
        other.create(render(other, make_post(2)), "k", SendContext())


# --- link = "first_comment" ----------------------------------------------------------------------------


def test_first_comment_posts_the_text_then_comments_the_link(fake: FakeLinkedIn, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch, link="first_comment")
    post = post_in(syn, 1, cover=COVER)
    shown = syn.requests(syn.plan_for(post, "linkedin"))
    assert [r["url"].replace(fake.url, "") for r in shown] == [
        "/rest/posts", "/rest/socialActions/%3Cpost%20urn%3E/comments"]
    assert "content" not in shown[0]["json"] and post.url not in shown[0]["json"]["commentary"]
    assert shown[1]["json"]["message"] == {"text": post.url}
    assert syn.run_inline(post, "linkedin", sleep=nosleep).status == "done"
    (stored,) = fake.live
    assert stored["article"] is None and post.url not in stored["text"]
    (comment,) = fake.comments[stored["id"]]
    assert comment["shown"] == post.url and comment["actor"] == PERSON
    assert not fake.images  # no card: no thumbnail uploaded


def test_a_failed_comment_is_retried_without_a_second_post(fake: FakeLinkedIn, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch, link="first_comment")
    post = post_in(syn, 1)
    fake.fail_next(1, 503, method="POST", path="/rest/socialActions")
    outcome = syn.run_inline(post, "linkedin", sleep=nosleep)
    assert outcome.status == "done"
    (stored,) = fake.live
    assert len(fake.comments[stored["id"]]) == 1
    assert len([r for r in fake.requests if r.path == "/rest/posts"]) == 1


def test_a_lost_comment_answer_is_read_back_not_sent_twice(fake: FakeLinkedIn) -> None:
    conn = linkedin(fake, link="first_comment", author=PAGE)  # a page's comments can be read
    fake.lose_next(1, method="POST", path="/rest/socialActions")
    kept: dict[str, Any] = {}
    remote = conn.create(render(conn, make_post(1)), "k", SendContext(record=kept.update))
    assert kept["post"] == remote.id and remote.extra == {}
    assert len(fake.comments[str(remote.id)]) == 1 and len(fake.live) == 1


def test_a_lost_comment_of_a_member_is_never_sent_twice(fake: FakeLinkedIn, caplog: pytest.LogCaptureFixture) -> None:
    conn = linkedin(fake, link="first_comment")  # a member's comments need r_member_social: unreadable
    fake.lose_next(1, method="POST", path="/rest/socialActions")
    with caplog.at_level(logging.WARNING, logger="connectors.linkedin"):
        remote = conn.create(render(conn, make_post(1)), "k", SendContext())
    assert remote.extra == {"comment": "unknown"} and "may be missing" in caplog.text
    assert len(fake.comments[str(remote.id)]) == 1 and len(fake.live) == 1
    assert TOKEN not in caplog.text


def test_a_retry_after_the_post_only_comments(fake: FakeLinkedIn) -> None:
    conn = linkedin(fake, link="first_comment", author=PAGE)
    first = conn.create(render(conn, make_post(1)), "k", SendContext())
    fake.comments[str(first.id)].clear()
    again = conn.create(render(conn, make_post(1)), "k", SendContext(progress={"post": first.id, "commenting": True}))
    assert again.id == first.id and len(fake.live) == 1 and len(fake.comments[str(first.id)]) == 1
    third = conn.create(render(conn, make_post(1)), "k", SendContext(progress={"post": first.id, "commenting": True}))
    assert third.id == first.id and len(fake.comments[str(first.id)]) == 1  # already there: not again


def test_a_link_with_reserved_characters_is_percent_encoded_in_the_comment(fake: FakeLinkedIn) -> None:
    conn = linkedin(fake, link="first_comment")
    post = make_post(1, url="https://blog.example/posts/my_post_(2)/~draft/")
    remote = conn.create(render(conn, post), "k", SendContext())
    (comment,) = fake.comments[str(remote.id)]
    assert comment["message"]["text"] == "https://blog.example/posts/my%5Fpost%5F%282%29/%7Edraft/"
    assert comment["cut"] is False and httpx.URL(comment["message"]["text"]).path == httpx.URL(post.url).path


def test_a_refused_comment_keeps_the_post(fake: FakeLinkedIn, caplog: pytest.LogCaptureFixture) -> None:
    conn = linkedin(fake, link="first_comment")
    fake.fail_next(1, 422, method="POST", path="/rest/socialActions")
    with caplog.at_level(logging.WARNING, logger="connectors.linkedin"):
        remote = conn.create(render(conn, make_post(1)), "k", SendContext())
    assert remote.extra == {"comment": "refused"} and len(fake.live) == 1 and "refused" in caplog.text


# --- edits and deletes ----------------------------------------------------------------------------------


def test_an_edit_is_a_partial_update_of_the_commentary(fake: FakeLinkedIn, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch)
    assert syn.run_inline(post_in(syn, 1), "linkedin", sleep=nosleep).status == "done"
    edited = post_in(syn, 1, title="A (better) title")
    shown = syn.requests(syn.plan_for(edited, "linkedin"))
    (update,) = shown
    assert update["headers"]["X-RestLi-Method"] == "PARTIAL_UPDATE"
    assert update["json"] == {"patch": {"$set": {"commentary": update["json"]["patch"]["$set"]["commentary"]}}}
    assert syn.run_inline(edited, "linkedin", sleep=nosleep).status == "done"
    (stored,) = fake.live
    assert stored["edits"] == 1 and stored["text"].startswith("A (better) title\n\n")
    assert stored["article"]["title"] == "Post number 1"  # the card cannot change


def test_the_fake_refuses_a_partial_update_of_anything_but_the_commentary(fake: FakeLinkedIn) -> None:
    conn = linkedin(fake)
    remote = conn.create(render(conn, make_post(1)), "k", SendContext())
    request = conn.build_update(remote, render(conn, make_post(1)), SendContext())
    request.json["patch"]["$set"]["content"] = {"article": {"title": "new"}}
    with pytest.raises(Permanent, match="Only commentary"):
        conn.send(request)


def test_delete_sends_the_delete_method_and_is_idempotent(fake: FakeLinkedIn) -> None:
    conn = linkedin(fake)
    remote = conn.create(render(conn, make_post(1)), "k", SendContext())
    request = conn.build_delete(remote)
    assert request.method == "DELETE" and request.headers["X-RestLi-Method"] == "DELETE"
    assert "urn%3Ali%3Ashare%3A" in request.url
    conn.delete(remote)
    conn.delete(remote)  # already gone: 204 again
    assert fake.live == []


# --- the token, the version, errors -------------------------------------------------------------------------


def test_notices_warn_a_week_before_the_token_expires(fake: FakeLinkedIn) -> None:
    conn = linkedin(fake, token_expires="2027-01-10")
    assert conn.notices(None, datetime(2026, 12, 20, tzinfo=UTC)) == []
    (warn,) = conn.notices(None, datetime(2027, 1, 4, tzinfo=UTC))
    assert warn.level == "warn" and "2027-01-10" in warn.message and warn.until == datetime(2027, 1, 10, tzinfo=UTC)
    (error,) = conn.notices(None, datetime(2027, 1, 11, tzinfo=UTC))
    assert error.level == "error" and "expired" in error.message
    assert TOKEN not in warn.message + error.message


def test_notices_warn_before_the_version_is_sunset(fake: FakeLinkedIn) -> None:
    conn = linkedin(fake, version="202601")
    assert conn.notices(None, datetime(2026, 11, 30, tzinfo=UTC)) == []
    (warn,) = conn.notices(None, datetime(2026, 12, 7, tzinfo=UTC))
    assert warn.level == "warn" and "2027-01-01" in warn.message
    (error,) = conn.notices(None, datetime(2027, 1, 2, tzinfo=UTC))
    assert error.level == "error" and "`version`" in error.message


def test_a_notice_is_logged_when_the_target_posts(fake: FakeLinkedIn, caplog: pytest.LogCaptureFixture) -> None:
    soon = datetime.now(UTC).date().fromordinal(datetime.now(UTC).date().toordinal() + 3)
    conn = linkedin(fake, token_expires=soon.isoformat())
    with caplog.at_level(logging.WARNING, logger="connectors.linkedin"):
        conn.create(render(conn, make_post(1)), "k", SendContext())
        conn.create(render(conn, make_post(2)), "k2", SendContext())
    assert caplog.text.count("the access token expires on") == 1


def test_the_credential_check_is_the_userinfo_read(fake: FakeLinkedIn) -> None:
    conn = linkedin(fake)
    request = conn.build_verify()
    assert request.method == "GET" and request.url.endswith("/v2/userinfo")
    assert conn.send(request).json()["sub"] == "AbC123xyz"


def test_a_refused_token_names_what_to_do_without_the_token(fake: FakeLinkedIn) -> None:
    conn = linkedin(fake)
    conn.target.options["access_token"] = Secret("expired-token-456")
    with pytest.raises(AuthFailed, match="60 days") as info:
        conn.send(conn.build_verify())
    assert "expired-token-456" not in str(info.value)


def test_the_daily_limit_is_a_rate_limit(tmp_path: Path) -> None:
    with started(FakeLinkedIn(time_scale=1.0)) as fake:
        fake.rates = {"create": (2, 86400)}  # type: ignore[misc]  # the documented 150, made small
        conn = linkedin(fake)
        for n in (1, 2):
            conn.create(render(conn, make_post(n)), f"k{n}", SendContext())
        with pytest.raises(RateLimited, match="429") as info:
            conn.create(render(conn, make_post(3)), "k3", SendContext())
        assert len(fake.live) == 2
        # no Retry-After from LinkedIn: a daily limit waits for midnight UTC
        assert info.value.retry_after is not None and 0 < info.value.retry_after <= 86400
    assert LinkedIn.limits.rates[0].amount == 150 and LinkedIn.limits.rates[0].seconds == 86400


def test_upload_is_initialize_then_put(fake: FakeLinkedIn) -> None:
    conn = linkedin(fake)
    fitted = StaticMedia().fitted(MediaItem("cover", "https://blog.example/c.png"), LinkedIn.limits.media)  # type: ignore[arg-type]
    assert isinstance(fitted, FittedMedia)
    image = conn.upload(MediaItem("cover", "https://blog.example/c.png"), fitted)
    assert fake.images[image]["status"] == "AVAILABLE" and fake.images[image]["size"] == len(fitted.data)
    assert fake.images[image]["owner"] == PERSON
    remote = conn.create(render(conn, make_post(1, cover=COVER)), "k",
                         SendContext(media={"https://blog.example/cover.png": image}))
    assert fake.posts[str(remote.id)]["article"]["thumbnail"] == image


def test_escape_is_reversible_by_the_fake() -> None:
    text = "".join(chr(c) for c in range(32, 127))
    assert little(escape(text)) == (text, False)


def test_a_remote_without_an_id_header_is_unknown(fake: FakeLinkedIn) -> None:
    conn = linkedin(fake)
    with pytest.raises(KeyError):
        conn.parse_remote(httpx.Response(201), SendContext())
    assert Remote("urn:li:share:1").id == "urn:li:share:1"


def test_an_override_changes_the_text_and_the_link_mode(fake: FakeLinkedIn) -> None:
    conn = linkedin(fake)
    control = Control(overrides={"linkedin": {"text": "Hand-written [with] brackets", "link": "first_comment"}})
    draft = render(conn, make_post(1, control=control))
    assert draft.text == "Hand-written [with] brackets" and draft.fields == {"comment": make_post(1).url}


def test_the_token_expiry_is_learnt_from_introspection(fake: FakeLinkedIn, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKEDIN_CLIENT_SECRET", "li-client-secret")
    syn = engine(fake, tmp_path, monkeypatch, client_id="li-client", client_secret="${LINKEDIN_CLIENT_SECRET}",
                 oauth_url=fake.url)
    facts = syn.facts("linkedin")
    assert facts == {"token_active": True, "token_expires_at": float(fake.expires_at[TOKEN])}
    conn = syn.connector("linkedin")
    expiry = datetime.fromtimestamp(fake.expires_at[TOKEN], UTC)
    assert conn.notices(facts, expiry - timedelta(days=10)) == []
    (warn,) = conn.notices(facts, expiry - timedelta(days=3))
    assert warn.level == "warn" and expiry.date().isoformat() in warn.message
    (intro,) = [r for r in fake.requests if r.path == "/oauth/v2/introspectToken"]
    assert "linkedin-version" not in intro.headers and "authorization" not in intro.headers
    assert syn.facts("linkedin") == facts and len([r for r in fake.requests if "introspect" in r.path]) == 1


def test_a_refused_introspection_leaves_the_expiry_unknown_without_the_secret(
        fake: FakeLinkedIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKEDIN_CLIENT_SECRET", "wrong-client-secret")
    syn = engine(fake, tmp_path, monkeypatch, client_id="li-client", client_secret="${LINKEDIN_CLIENT_SECRET}",
                 oauth_url=fake.url)
    notes: list[str] = []
    assert syn.facts("linkedin", warn=notes) is None
    assert notes and "client_id and client_secret" in notes[0] and "wrong-client-secret" not in notes[0]
    p = syn.plan_for(post_in(syn, 1), "linkedin")
    assert p.action == "create"


def test_an_inactive_token_is_an_error_notice(fake: FakeLinkedIn) -> None:
    conn = linkedin(fake)
    (error,) = conn.notices({"token_active": False}, datetime(2026, 12, 7, tzinfo=UTC))
    assert error.level == "error" and "no longer active" in error.message


def test_no_secret_in_logs_previews_errors_or_the_ledger(fake: FakeLinkedIn, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("LINKEDIN_CLIENT_SECRET", "li-client-secret")
    syn = engine(fake, tmp_path, monkeypatch, client_id="li-client", client_secret="${LINKEDIN_CLIENT_SECRET}",
                 oauth_url=fake.url, link="first_comment")
    seen: list[str] = []
    with caplog.at_level(logging.DEBUG):
        post = post_in(syn, 1, cover=COVER)
        seen.append(json.dumps(syn.requests(syn.plan_for(post, "linkedin"))))
        fake.fail_next(1, 503, method="POST", path="/rest/socialActions")
        seen.append(json.dumps(syn.run_inline(post, "linkedin", sleep=nosleep).as_dict()))
        edited = post_in(syn, 1, title="Edited")
        seen.append(json.dumps(syn.requests(syn.plan_for(edited, "linkedin"))))
        seen.append(json.dumps(syn.run_inline(edited, "linkedin", sleep=nosleep).as_dict()))
        fake.tokens.clear()  # the token is revoked: a 401
        seen.append(json.dumps(syn.run_inline(post_in(syn, 2), "linkedin", sleep=nosleep).as_dict()))
    rows = [syn.ledger.get(f"post-{n}", "linkedin") for n in (1, 2)]
    seen.append(json.dumps([vars(r) for r in rows if r is not None], default=str))
    seen.append(caplog.text)
    assert "auth" in seen[4]
    for text in seen:
        assert TOKEN not in text and "li-client-secret" not in text
