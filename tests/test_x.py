"""X connector against the fake X API: the contract (both auth modes), and X's own rules (issue 15)."""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.x import X, XOptions, has_url
from syndicate.config import Secret, TargetConfig
from syndicate.content.post import Control, Image
from syndicate.content.text import count
from syndicate.contract import AuthFailed, Draft, Part, Permanent, RateLimited, Remote, SendContext, Throttled
from syndicate.engine.fitting import fit_draft
from syndicate.engine.runner import Syndicator
from syndicate.registry import load_config
from syndicate.state.budget import Budget, BudgetSpent, FileSpending, RedisSpending, resets_at
from syndicate.state.tokens import TokenStore
from syndicate.testing import ConnectorContract, StaticMedia, make_post, nasty_posts
from tests.fakes import x as fx
from tests.fakes.x import FakeX, weighted

OAUTH1_ENV = {"X_API_KEY": fx.API_KEY, "X_API_SECRET": fx.API_SECRET, "X_ACCESS_TOKEN": fx.ACCESS_TOKEN,
              "X_ACCESS_SECRET": fx.ACCESS_SECRET}


class TestXContract(ConnectorContract):
    connector_type = "x"
    secret = fx.ACCESS_SECRET
    env = OAUTH1_ENV
    wrong_env = {"X_ACCESS_SECRET": "a-wrong-access-secret-0000"}

    def fake(self) -> FakeX:
        return FakeX()

    def options(self, fake: Any) -> dict[str, Any]:
        return {"base_url": fake.url, "api_key": "${X_API_KEY}", "api_secret": "${X_API_SECRET}",
                "access_token": "${X_ACCESS_TOKEN}", "access_secret": "${X_ACCESS_SECRET}"}

    def live(self, fake: Any) -> int:
        return len(fake.live)

    @pytest.fixture(autouse=True)
    def _linked_long_url(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """X's extractor (twitter-text) links no URL on the reserved `.example` TLD: there the nasty post's
        471-character URL is text, counted in full, and no post can hold it. On a real TLD it weighs 23."""
        def posts() -> list[Any]:
            out = nasty_posts()
            for post in out:
                if post.id == "post-16":
                    post.url = post.url.replace("blog.example/", "blog.example.com/")
            return out

        monkeypatch.setattr("syndicate.testing.nasty_posts", posts)

    def tags(self, draft: Draft) -> list[str]:
        return [w for p in draft.parts for w in (p.text or "").split() if w.startswith("#")]


class TestXOAuth2Contract(TestXContract):
    secret = fx.REFRESH_TOKEN
    env = {"X_CLIENT_ID": fx.CLIENT_ID, "X_REFRESH_TOKEN": fx.REFRESH_TOKEN}
    wrong_env = {"X_REFRESH_TOKEN": "a-wrong-refresh-token-0000"}

    def options(self, fake: Any) -> dict[str, Any]:
        return {"base_url": fake.url, "client_id": "${X_CLIENT_ID}", "refresh_token": "${X_REFRESH_TOKEN}"}


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeX]:
    with FakeX() as server:
        yield server


def oauth1() -> dict[str, Any]:
    return {"api_key": Secret(fx.API_KEY), "api_secret": Secret(fx.API_SECRET),
            "access_token": Secret(fx.ACCESS_TOKEN), "access_secret": Secret(fx.ACCESS_SECRET)}


def x(fake: FakeX, tmp_path: Path, **options: Any) -> X:
    creds = {} if "refresh_token" in options else oauth1()
    conn = X(TargetConfig("x", "x", {"base_url": fake.url, **creds, **options}), http=httpx.Client(timeout=5))
    conn.token_store = TokenStore(tmp_path / "data")
    conn.clock = fake.now
    return conn


def render(conn: X, post: Any) -> Draft:
    return fit_draft(conn.render(post, None), conn.limits_for(None), thread=int(conn.option("max_thread", 4))
                     if conn.option("thread") else 1)


def engine(fake: FakeX, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, data: str = "data",
           redis: str | None = None, **options: Any) -> Syndicator:
    for key, value in OAUTH1_ENV.items():
        monkeypatch.setenv(key, value)
    extra = "".join(f"{k} = {_toml(v)}\n" for k, v in options.items())
    queue = f'[queue]\nredis = "{redis}"\nrate_time_scale = 0.0001\n' if redis else ""
    config = tmp_path / f"{data}.toml"
    config.write_text(f'[site]\nurl = "https://blog.example"\n[state]\nurl = "sqlite:///{tmp_path}/{data}.db"\n'
                      f'dir = "{tmp_path / data}"\n{queue}[targets.x]\nbase_url = "{fake.url}"\n'
                      'api_key = "${X_API_KEY}"\napi_secret = "${X_API_SECRET}"\n'
                      'access_token = "${X_ACCESS_TOKEN}"\naccess_secret = "${X_ACCESS_SECRET}"\n'
                      f'{extra}', encoding="utf-8")
    syn = Syndicator(load_config(config), media=StaticMedia())
    conn = syn.connector("x")
    assert isinstance(conn, X)
    conn.clock = fake.now
    return syn


def _toml(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def post_in(syn: Syndicator, n: int, **changes: Any) -> Any:
    post = make_post(n, **changes)
    post.path = syn.config.site.root / "content" / f"post-{n}.md"
    return post


def nosleep(seconds: float) -> None:
    pass


def creates(fake: FakeX) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in fake.requests if r.method == "POST" and r.path == "/2/tweets"]


# --- text: 280 weighted characters ------------------------------------------------------------------


def test_a_post_is_title_excerpt_url_and_hashtags(fake: FakeX, tmp_path: Path) -> None:
    draft = render(x(fake, tmp_path), make_post(1))
    assert draft.text == "Post number 1\n\nSummary of post 1.\n\nhttps://blog.example/posts/post-1/\n\n#python #testing"


def test_the_template_and_a_post_s_override_use_mastodon_s_language(fake: FakeX, tmp_path: Path) -> None:
    conn = x(fake, tmp_path, template="New: {title} {url}")
    assert render(conn, make_post(1)).text == "New: Post number 1 https://blog.example/posts/post-1/"
    said = Control(overrides={"x": {"text": "Read this one"}})
    assert render(conn, make_post(1, control=said)).text == "Read this one\n\nhttps://blog.example/posts/post-1/"
    bare = Control(overrides={"x": {"text": "Read this one", "link": "none"}})  # link = none for this post only
    draft = render(conn, make_post(1, control=bare))
    assert draft.text == "Read this one" and conn.build_create(draft, "k", SendContext()).price == 0.015


@pytest.mark.parametrize("post", [p for p in nasty_posts() if p.id != "post-16"], ids=lambda p: p.id)
def test_every_text_fits_280_weighted_as_twitter_text_counts_it(fake: FakeX, tmp_path: Path, post: Any) -> None:
    conn = x(fake, tmp_path)
    draft = render(conn, post)
    length, valid = weighted(draft.text or "")
    assert valid and length <= 280 and post.url in (draft.text or "")
    assert count(draft.text or "", "x-weighted") == length
    conn.create(draft, "k", SendContext())
    assert fake.answers[-1] == 201


def test_cjk_and_emoji_weigh_two_and_urls_23(fake: FakeX, tmp_path: Path) -> None:
    conn = x(fake, tmp_path)
    post = make_post(1, title="日本語" * 200, summary="\U0001F680" * 300, url="https://blog.example/" + "a" * 200)
    text = render(conn, post).text or ""
    assert weighted(text)[0] <= 280 < len(text.encode()) and post.url in text
    assert 100 < len(text) < 280  # counted in characters the text would have been cut much shorter


def test_the_fake_refuses_281_weighted_characters_with_xs_problem(fake: FakeX, tmp_path: Path) -> None:
    conn = x(fake, tmp_path)
    draft = Draft("x", parts=[Part(text="日" * 141)])  # 282 weighted, 141 characters
    with pytest.raises(Permanent, match="too long"):
        conn.create(draft, "k", SendContext())
    assert fake.answers == [403] and fake.live == []
    conn.create(Draft("x", parts=[Part(text="日" * 140)]), "k", SendContext())
    assert fake.answers[-1] == 201


def test_duplicate_content_is_refused_and_is_not_an_auth_failure(fake: FakeX, tmp_path: Path) -> None:
    conn = x(fake, tmp_path)
    draft = render(conn, make_post(1))
    conn.create(draft, "k", SendContext())
    with pytest.raises(Permanent, match="duplicate") as caught:
        conn.create(draft, "k2", SendContext())
    assert not isinstance(caught.value, AuthFailed) and len(fake.live) == 1


def test_a_body_outside_the_spec_is_refused_by_the_fake(fake: FakeX, tmp_path: Path) -> None:
    from syndicate.contract import Request

    conn = x(fake, tmp_path)
    with pytest.raises(Permanent, match="Invalid Request.*additionalProperties"):
        conn.send(Request("POST", fake.url + "/2/tweets", json={"text": "hi", "status": "hi"}))
    with pytest.raises(Permanent):
        conn.send(Request("POST", fake.url + "/2/tweets", json={"text": "hi", "reply": {"in_reply_to_id": "1"}}))
    assert fake.live == []


# --- link and price -------------------------------------------------------------------------------------


def test_link_none_leaves_the_url_out_and_costs_a_plain_post(fake: FakeX, tmp_path: Path) -> None:
    inline, none = x(fake, tmp_path), x(fake, tmp_path, link="none")
    post = make_post(1)
    with_url, without = render(inline, post), render(none, post)
    assert post.url in (with_url.text or "") and "https://" not in (without.text or "")
    assert inline.build_create(with_url, "k", SendContext()).price == 0.20
    assert none.build_create(without, "k", SendContext()).price == 0.015


def test_a_bare_domain_is_a_url_for_the_price_as_x_finds_it() -> None:
    assert has_url("see example.com today") and has_url("https://a.example/x")
    assert not has_url("Node.js is nice") and not has_url("no link here")


def test_prices_are_data_overridable_and_preview_shows_them(fake: FakeX, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch, prices={"post": 0.01, "post_with_url": 0.3})
    shown = syn.requests(syn.plan_for(post_in(syn, 1), "x"))
    assert [(r["method"], r["price_usd"]) for r in shown] == [("POST", 0.3)]
    assert XOptions.model_fields["prices"].default_factory().post_with_url == 0.20  # type: ignore[misc]
    with pytest.raises(ValueError, match="post_with_url|extra"):
        XOptions(type="x", **oauth1(), prices={"post": 0.01, "per_post": 1})  # type: ignore[arg-type]


# --- the budget ------------------------------------------------------------------------------------------


def test_a_post_past_the_monthly_budget_waits_naming_it_and_the_reset_day(fake: FakeX, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch, monthly_budget=0.5)
    done = [syn.run_inline(post_in(syn, n), "x", sleep=nosleep).status for n in (1, 2, 3)]
    assert done == ["done", "done", "deferred"] and len(fake.live) == 2  # 0.20 + 0.20; a third passes 0.50
    row = syn.ledger.get("post-3", "x")
    day = resets_at(time.time()).date().isoformat()
    assert row is not None and row.state == "deferred" and row.deferred_until is not None
    assert "monthly_budget of 0.50 USD" in (row.last_error or "") and day in (row.last_error or "")
    assert row.deferred_until.date().isoformat() == day
    conn = syn.connector("x")
    notes = conn.notices(None, datetime.now(UTC))
    assert notes == [] or notes[0].level == "warn"  # 0.10 left: a plain post still fits
    conn.budget.charge(0.1)
    assert [n.level for n in conn.notices(None, datetime.now(UTC))] == ["error"]
    assert day in conn.notices(None, datetime.now(UTC))[0].message


def test_a_refused_post_is_not_counted_against_the_budget(fake: FakeX, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch, monthly_budget=1.0)
    conn = syn.connector("x")
    draft = render(conn, make_post(1))
    conn.create(draft, "k", SendContext())
    with pytest.raises(Permanent):
        conn.create(draft, "k2", SendContext())  # duplicate: refused, so free
    fake.fail_next(1, 503)
    with pytest.raises(Exception, match="503"):
        conn.create(render(conn, make_post(2)), "k3", SendContext())
    assert conn.budget.spent() == pytest.approx(0.20)


def test_every_worker_on_this_machine_counts_against_one_budget(tmp_path: Path) -> None:
    store = FileSpending(tmp_path)
    now = 1_800_000_000.0
    one = Budget(store, "x|acct", 0.5, "x", clock=lambda: now)
    two = Budget(FileSpending(tmp_path), "x|acct", 0.5, "x", clock=lambda: now)
    one.charge(0.2)
    two.charge(0.2)
    with pytest.raises(BudgetSpent) as caught:
        one.charge(0.2)
    assert caught.value.retry_after == pytest.approx(resets_at(now).timestamp() - now)
    assert two.spent() == pytest.approx(0.4)
    later = Budget(store, "x|acct", 0.5, "x", clock=lambda: resets_at(now).timestamp())  # a new month
    later.charge(0.4)


@pytest.mark.redis
def test_every_worker_everywhere_counts_against_one_budget_in_redis(redis_url: str) -> None:
    account = "x|test|" + uuid.uuid4().hex[:8]
    workers = [Budget(RedisSpending(redis_url), account, 1.0, "x") for _ in range(4)]
    taken = 0
    for i in range(20):
        try:
            workers[i % 4].charge(0.2)
            taken += 1
        except Throttled:
            pass
    assert taken == 5 and workers[0].spent() == pytest.approx(1.0)
    workers[1].refund(0.2)
    workers[2].charge(0.2)
    assert workers[3].left() == pytest.approx(0.0)


def test_the_budget_resets_on_the_first_of_next_month_utc() -> None:
    assert resets_at(datetime(2026, 12, 31, 23, 59, tzinfo=UTC).timestamp()) == datetime(2027, 1, 1, tzinfo=UTC)
    assert resets_at(datetime(2026, 2, 1, tzinfo=UTC).timestamp()) == datetime(2026, 3, 1, tzinfo=UTC)


# --- edits: 5 within 30 minutes, each a new id -----------------------------------------------------------


def test_an_edit_is_a_new_post_id_and_the_chain_is_kept(fake: FakeX, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch)
    assert syn.run_inline(post_in(syn, 1), "x", sleep=nosleep).status == "done"
    first = syn.ledger.get("post-1", "x")
    assert first is not None
    for n in range(1, 6):
        out = syn.run_inline(post_in(syn, 1, title=f"Edit {n}"), "x", sleep=nosleep)
        assert out.status == "done", out
    row = syn.ledger.get("post-1", "x")
    assert row is not None and row.remote_extra["edits"] == 5 and len(row.remote_extra["chain"]) == 6
    assert row.remote_extra["chain"][0] == first.remote_id and row.remote_id == row.remote_extra["chain"][-1]
    assert creates(fake)[-1]["edit_options"] == {"previous_post_id": row.remote_extra["chain"][-2]}
    assert len(fake.live) == 1 and fake.live[0]["id"] == row.remote_id
    sixth = syn.run_inline(post_in(syn, 1, title="Edit 6"), "x", sleep=nosleep)
    assert sixth.status == "skipped" and "5 edits" in sixth.reason and "not propagated" in sixth.reason


def test_the_fake_refuses_a_sixth_edit_and_an_old_version(fake: FakeX, tmp_path: Path) -> None:
    conn = x(fake, tmp_path)
    remote = conn.create(render(conn, make_post(1)), "k", SendContext())
    old = remote
    for n in range(5):
        remote = conn.update(remote, render(conn, make_post(1, title=f"Edit {n}")), SendContext())
    with pytest.raises(Permanent, match="edited 5 times"):
        conn.update(remote, render(conn, make_post(1, title="Edit 6")), SendContext())
    with pytest.raises(Permanent, match="latest version"):
        conn.update(old, render(conn, make_post(1, title="Edit 7")), SendContext())


def test_an_edit_after_30_minutes_is_not_propagated(fake: FakeX, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch)
    assert syn.run_inline(post_in(syn, 1), "x", sleep=nosleep).status == "done"
    row = syn.ledger.get("post-1", "x")
    assert row is not None and row.published_at is not None
    syn.ledger.update("post-1", "x", published_at=row.published_at - timedelta(minutes=31))
    late = syn.run_inline(post_in(syn, 1, title="Too late"), "x", sleep=nosleep)
    assert late.status == "skipped" and "not propagated" in late.reason and "30 min" in late.reason
    assert len(creates(fake)) == 1
    conn = x(fake, tmp_path)  # and X itself refuses it
    remote = conn.create(render(conn, make_post(2)), "k", SendContext())
    fake.advance(30 * 60 + 1)
    with pytest.raises(Permanent, match="edit window"):
        conn.update(remote, render(conn, make_post(2, title="Late")), SendContext())


def test_delete_removes_every_version(fake: FakeX, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch)
    assert syn.run_inline(post_in(syn, 1), "x", sleep=nosleep).status == "done"
    assert syn.run_inline(post_in(syn, 1, title="Edited"), "x", sleep=nosleep).status == "done"
    gone = syn.run_inline(post_in(syn, 1, draft=True, hidden="draft"), "x", sleep=nosleep)
    assert gone.action == "delete" and gone.status == "done"
    assert fake.live == [] and all(p["deleted"] for p in fake.posts.values())
    x(fake, tmp_path).delete(Remote(next(iter(fake.posts))))  # a second delete is harmless


# --- threads and media ----------------------------------------------------------------------------------


def test_a_long_text_becomes_a_reply_chain(fake: FakeX, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch, thread=True, max_thread=4,
                 template="{title}\n\n{excerpt}\n\n{url}")
    post = post_in(syn, 1, summary=" ".join(f"sentence {i} of a long summary." for i in range(20)))
    assert syn.run_inline(post, "x", sleep=nosleep).status == "done"
    sent = creates(fake)
    assert len(sent) >= 2 and "reply" not in sent[0] and post.url in " ".join(s["text"] for s in sent)
    ids = [p["id"] for p in sorted(fake.posts.values(), key=lambda p: p["id"])]
    assert [s.get("reply", {}).get("in_reply_to_tweet_id") for s in sent[1:]] == ids[:-1]
    assert all(weighted(s["text"])[0] <= 280 for s in sent)
    row = syn.ledger.get(post.id, "x")
    assert row is not None and row.remote_extra["parts"] == ids


def test_the_cover_is_uploaded_with_its_alt_text(fake: FakeX, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch)
    cover = Image(src="cover.png", url="https://blog.example/cover.png", alt="A red square " * 100)
    assert syn.run_inline(post_in(syn, 1, cover=cover), "x", sleep=nosleep).status == "done"
    (media,) = fake.media.values()
    assert media["category"] == "tweet_image" and media["alt"] is not None and len(media["alt"]) == 1000
    assert creates(fake)[-1]["media"] == {"media_ids": [media["id"]]}
    uploads = [r for r in fake.requests if r.path.startswith("/2/media")]
    assert [r.path for r in uploads] == ["/2/media/upload", "/2/media/metadata"]


# --- rate limits ----------------------------------------------------------------------------------------


def test_the_429_waits_until_x_rate_limit_reset(tmp_path: Path) -> None:
    with FakeX(time_scale=0.01) as fake:  # 100 posts in 9 s
        fake.rates = {"create": (2, 900.0)}
        conn = x(fake, tmp_path)
        for n in (1, 2):
            conn.create(render(conn, make_post(n)), "k", SendContext())
        headers = [r for r in fake.requests]
        assert headers
        with pytest.raises(RateLimited) as caught:
            conn.create(render(conn, make_post(3)), "k", SendContext())
        assert caught.value.retry_after is not None and 1 <= caught.value.retry_after <= 11
        assert fake.answers == [201, 201] and len(fake.live) == 2  # the 429 came from the window


@pytest.mark.redis
def test_the_shared_limiter_learns_from_the_headers_before_a_429(tmp_path: Path, redis_url: str) -> None:
    from syndicate.auth import account_of
    from syndicate.state.ratelimit import RateLimiter, Throttle

    with FakeX(time_scale=0.01) as fake:
        fake.rates = {"create": (2, 900.0)}
        conn = x(fake, tmp_path)
        limiter = RateLimiter(redis_url, namespace="syndicate:test:x:" + uuid.uuid4().hex[:8])
        conn.throttle = Throttle(limiter, account_of(conn), ())  # no declared windows: the headers only
        with pytest.raises(Throttled):  # the headers said the window runs low: we wait, X never refuses
            for n in range(1, 6):
                conn.create(render(conn, make_post(n)), "k", SendContext())
        assert 1 <= len([r for r in fake.requests if r.path == "/2/tweets"]) <= 2 and 429 not in fake.answers


def test_the_documented_limits_are_data() -> None:
    rates = {(r.kind, r.seconds): r.amount for r in X.limits.rates}
    assert rates == {("create", 900): 100, ("create", 86_400): 10_000, ("delete", 900): 50, ("media", 900): 500}
    able = X.abilities
    assert (able.edit_window, able.max_edits, able.threads, able.delete) == (1800, 5, True, "delete")


# --- auth -------------------------------------------------------------------------------------------------


def test_oauth2_rotates_the_refresh_token_and_every_worker_uses_the_newest(fake: FakeX, tmp_path: Path) -> None:
    opts = {"client_id": fx.CLIENT_ID, "refresh_token": Secret(fx.REFRESH_TOKEN)}
    one, two = x(fake, tmp_path, **opts), x(fake, tmp_path, **opts)  # one token store: two workers
    one.create(render(one, make_post(1)), "k", SendContext())
    two.create(render(two, make_post(2)), "k", SendContext())
    assert fake.refreshes == 1 and fx.REFRESH_TOKEN in fake.spent_refresh
    fake.advance(7200)  # the access token expired: the rotated refresh token is used, once
    two.create(render(two, make_post(3)), "k", SendContext())
    one.create(render(one, make_post(4)), "k", SendContext())
    assert fake.refreshes == 2 and len(fake.live) == 4
    stored = TokenStore(tmp_path / "data")
    from syndicate.auth import account_of

    token = stored.get(account_of(one))
    assert token is not None and token.refresh in fake.refresh_tokens and fx.REFRESH_TOKEN not in repr(token)


def test_a_spent_refresh_token_stops_the_target_naming_the_key(fake: FakeX, tmp_path: Path) -> None:
    fake.refresh_tokens.clear()
    conn = x(fake, tmp_path, client_id=fx.CLIENT_ID, refresh_token=Secret(fx.REFRESH_TOKEN))
    with pytest.raises(AuthFailed, match="refresh_token") as caught:
        conn.create(render(conn, make_post(1)), "k", SendContext())
    assert fx.REFRESH_TOKEN not in str(caught.value)


def test_a_wrong_signature_is_refused_and_a_replayed_nonce_too(fake: FakeX, tmp_path: Path) -> None:
    from syndicate.auth import oauth1_header

    conn = x(fake, tmp_path, access_secret=Secret("not-the-secret"))
    with pytest.raises(AuthFailed, match="api_key, api_secret"):
        conn.send(conn.build_verify())  # type: ignore[arg-type]
    header = oauth1_header(method="GET", url=fake.url + "/2/users/me", consumer_key=fx.API_KEY,
                           consumer_secret=fx.API_SECRET, token=fx.ACCESS_TOKEN, token_secret=fx.ACCESS_SECRET)
    first = httpx.get(fake.url + "/2/users/me", headers={"Authorization": header})
    again = httpx.get(fake.url + "/2/users/me", headers={"Authorization": header})
    assert (first.status_code, again.status_code) == (200, 401)


def test_the_credential_check_is_the_users_me_read(fake: FakeX, tmp_path: Path) -> None:
    conn = x(fake, tmp_path)
    request = conn.build_verify()
    assert request is not None and request.method == "GET" and request.url == fake.url + "/2/users/me"
    assert conn.send(request).json()["data"]["username"] == fx.USERNAME


@pytest.mark.parametrize(("options", "error"), [
    ({"api_key": "k"}, "api_secret, access_token, access_secret"),
    ({"client_id": "c"}, "both client_id and refresh_token"),
    ({**oauth1(), "refresh_token": "r", "client_id": "c"}, "not both"),
    ({}, "OAuth 1.0a needs"),
])
def test_options_need_one_whole_set_of_credentials(options: dict[str, Any], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        XOptions(type="x", **options)


def test_no_secret_in_previews_errors_or_the_ledger(fake: FakeX, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    syn = engine(fake, tmp_path, monkeypatch, monthly_budget=0.2)
    post = post_in(syn, 1)
    shown = json.dumps(syn.requests(syn.plan_for(post, "x")))
    outcomes = [syn.run_inline(post_in(syn, n), "x", sleep=nosleep).as_dict() for n in (1, 2)]
    fake.fail_next(1, 401)
    outcomes.append(syn.run_inline(post_in(syn, 3, title="x"), "x", sleep=nosleep).as_dict())
    rows = [vars(r) for n in (1, 2, 3) if (r := syn.ledger.get(f"post-{n}", "x")) is not None]
    seen = shown + json.dumps(outcomes, default=str) + json.dumps(rows, default=str) + caplog.text
    for secret in (fx.API_SECRET, fx.ACCESS_SECRET, fx.ACCESS_TOKEN, fx.API_KEY):
        assert secret not in seen
    assert "X_ACCESS" not in repr(syn.connector("x").budget)


def test_thread_option_needs_the_engine_to_split(fake: FakeX, tmp_path: Path) -> None:
    conn = x(fake, tmp_path)
    draft = render(conn, make_post(1, summary="word " * 200))
    assert len(draft.parts) == 1 and weighted(draft.text or "")[0] <= 280


def test_budget_spent_is_throttled_not_a_failure() -> None:
    assert issubclass(BudgetSpent, Throttled)
    assert datetime.now(UTC) < resets_at(time.time()) + timedelta(seconds=1)


def test_a_lost_refresh_answer_ends_the_chain_with_a_clear_error(fake: FakeX, tmp_path: Path) -> None:
    # X spends a refresh token when it answers: an answer lost on the way cannot be had again
    fake.lose_next(1, method="POST", path=fx.TOKEN_PATH)
    conn = x(fake, tmp_path, client_id=fx.CLIENT_ID, refresh_token=Secret(fx.REFRESH_TOKEN))
    with pytest.raises(Exception, match="no answer"):
        conn.create(render(conn, make_post(1)), "k", SendContext())
    with pytest.raises(AuthFailed, match="spent"):
        conn.create(render(conn, make_post(1)), "k", SendContext())
    assert fake.live == []


def test_the_budget_counts_per_developer_app_not_per_user_token(fake: FakeX, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    syn = engine(fake, tmp_path, monkeypatch, monthly_budget=1.0)
    monkeypatch.setenv("X_ACCESS_SECRET", "another-user-token-secret")
    other = engine(fake, tmp_path, monkeypatch, data="other", monthly_budget=1.0)
    one, two = syn.connector("x"), other.connector("x")
    assert one.budget.account == two.budget.account and fx.API_KEY not in one.budget.account


def test_a_429_waits_for_the_window_that_is_spent(fake: FakeX, tmp_path: Path) -> None:
    conn = x(fake, tmp_path)
    now = fake.now()
    response = httpx.Response(429, json={"errors": [{"code": 88, "message": "Rate limit exceeded"}]}, headers={
        "x-rate-limit-limit": "100", "x-rate-limit-remaining": "37", "x-rate-limit-reset": str(int(now + 60)),
        "x-user-limit-24hour-limit": "17", "x-user-limit-24hour-remaining": "0",
        "x-user-limit-24hour-reset": str(int(now + 7200))})
    with pytest.raises(RateLimited, match="Rate limit exceeded") as caught:
        conn.check(response)
    assert caught.value.retry_after is not None and 7190 <= caught.value.retry_after <= 7200
