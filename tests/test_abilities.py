"""The engine honours each declared ability: no find, no id, no edit, threads, auth stops."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from syndicate import registry
from syndicate.engine.runner import Syndicator
from syndicate.registry import load_config
from syndicate.testing import make_post
from tests.fakes.notes import TOKEN, FakeNotes
from tests.notes_connector import Hook, Notes, Staged, Steps


@pytest.fixture(autouse=True)
def _registered() -> Iterator[None]:
    registry.register(Notes)
    registry.register(Hook)
    registry.register(Steps)
    registry.register(Staged)
    yield


def syndicator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeNotes, kind: str = "notes",
               **options: object) -> Syndicator:
    monkeypatch.setenv("NOTES_TOKEN", TOKEN)
    site = tmp_path / "site"
    (site / "content").mkdir(parents=True, exist_ok=True)
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in options.items())
    (site / "syndicate.toml").write_text(
        f'[site]\nurl = "https://blog.example"\n[state]\nurl = "sqlite:///{tmp_path}/state.db"\n'
        f'[targets.n]\ntype = "{kind}"\nbase_url = "{fake.url}"\ntoken = "${{NOTES_TOKEN}}"\n{extra}',
        encoding="utf-8")
    return Syndicator(load_config(site / "syndicate.toml"))


def post(syn: Syndicator, n: int = 1, **changes: object):  # type: ignore[no-untyped-def]
    p = make_post(n, **changes)
    p.path = syn.config.site.root / "content" / f"post-{n}.md"
    return p


def nosleep(seconds: float) -> None:
    pass


def test_a_lost_create_without_find_goes_to_check_and_is_never_sent_again(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeNotes(max_length=500) as fake:
        syn = syndicator(tmp_path, monkeypatch, fake)
        p = post(syn)
        fake.lose_next(1, method="POST")
        assert syn.attempt(p, "n").status == "retry"
        assert len(fake.notes) == 1
        for _ in range(3):
            outcome = syn.run_inline(p, "n", sleep=nosleep)
            assert outcome.status == "check"
            assert "look at the notes list" in outcome.reason and "syndicate resolve" in outcome.reason
        assert len(fake.notes) == 1
        posts = [r for r in fake.requests if r.method == "POST"]
        assert len(posts) == 1
        row = syn.ledger.get(p.id, "n")
        assert row is not None and row.state == "check"
        syn.ledger.resolve(p.id, "n", found=True, remote_url=fake.url + "/n/1")
        assert syn.run_inline(p, "n", sleep=nosleep).reason == "unchanged"


def test_an_edit_on_a_platform_that_cannot_edit_is_reported_not_sent(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeNotes(max_length=500) as fake:
        syn = syndicator(tmp_path, monkeypatch, fake)
        assert syn.run_inline(post(syn), "n", sleep=nosleep).status == "done"
        edited = post(syn, title="Another title")
        p = syn.plan_for(edited, "n")
        assert p.action == "skip" and p.reason == "changed, but not propagated (notes cannot edit)"
        assert syn.run_inline(edited, "n", sleep=nosleep).status == "skipped"
        assert len(fake.notes) == 1


def test_a_platform_that_returns_no_id_is_posted_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeNotes(returns_id=False, max_length=500) as fake:
        syn = syndicator(tmp_path, monkeypatch, fake, kind="hook")
        p = post(syn)
        assert syn.run_inline(p, "n", sleep=nosleep).status == "done"
        row = syn.ledger.get(p.id, "n")
        assert row is not None and row.state == "published" and row.remote_id is None
        for _ in range(2):
            assert syn.run_inline(p, "n", sleep=nosleep).reason == "unchanged"
        hidden = post(syn, hidden="draft", draft=True)
        skipped = syn.plan_for(hidden, "n")
        assert skipped.action == "skip" and "cannot delete" in skipped.reason
        assert len(fake.notes) == 1


def test_a_long_post_becomes_a_thread_that_resumes_without_duplicates(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeNotes(max_length=50) as fake:
        syn = syndicator(tmp_path, monkeypatch, fake, thread=True, max_thread=3)
        p = post(syn, title="A title that is long enough", summary="one two three four five six seven eight nine "
                 "ten eleven twelve thirteen fourteen")
        plan = syn.plan_for(p, "n")
        assert plan.draft is not None and len(plan.draft.parts) == 3
        assert all(len(part.text or "") <= 50 for part in plan.draft.parts)
        assert syn.run_inline(p, "n", sleep=nosleep).status == "done"
        assert len(fake.notes) == 3
        assert syn.run_inline(p, "n", sleep=nosleep).reason == "unchanged"
        assert len(fake.notes) == 3
        chain = sorted(fake.notes.values(), key=lambda n: int(n["id"]))
        assert chain[0]["reply_to"] is None and chain[1]["reply_to"] == chain[0]["id"]
        assert chain[2]["reply_to"] == chain[1]["id"]


def test_a_half_posted_thread_resumes_where_it_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeNotes(max_length=50) as fake:
        syn = syndicator(tmp_path, monkeypatch, fake, thread=True, max_thread=3)
        p = post(syn, title="A title that is long enough", summary="one two three four five six seven eight nine "
                 "ten eleven twelve thirteen fourteen")
        # the third POST is refused once; the first two parts are posted and recorded
        calls = {"n": 0}
        original = fake.handle

        def third_fails(request):  # type: ignore[no-untyped-def]
            if request.method == "POST":
                calls["n"] += 1
                if calls["n"] == 3:
                    from tests.fakes.server import Reply

                    return Reply(400, {"error": "refused once"})
            return original(request)

        fake.handle = third_fails  # type: ignore[method-assign]
        assert syn.run_inline(p, "n", sleep=nosleep).status == "failed"
        assert len(fake.notes) == 2
        parts = syn.ledger.parts(p.id, "n")
        assert sorted((x.idx, x.state) for x in parts) == [(0, "published"), (1, "published"), (2, "refused")]
        assert syn.run_inline(p, "n", sleep=nosleep).status == "done"
        assert len(fake.notes) == 3  # parts 1 and 2 were not posted again
        chain = sorted(fake.notes.values(), key=lambda n: int(n["id"]))
        assert chain[2]["reply_to"] == chain[1]["id"]


def test_auth_failure_stops_the_target_for_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeNotes(max_length=500) as fake:
        monkeypatch.setenv("NOTES_TOKEN", "wrong")
        syn = syndicator(tmp_path, monkeypatch, fake)
        monkeypatch.setenv("NOTES_TOKEN", "wrong")
        syn = Syndicator(load_config(syn.config.path))  # type: ignore[arg-type]
        outcomes = [syn.run_inline(post(syn, n), "n", sleep=nosleep) for n in range(1, 201)]
        assert outcomes[0].status == "failed" and outcomes[0].reason == "auth"
        assert {o.status for o in outcomes[1:]} == {"waiting"}
        assert len(fake.requests) == 1  # 200 posts, one refused login


def test_a_create_of_several_steps_resumes_from_the_step_kept_in_the_intent(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeNotes(max_length=500) as fake:
        syn = syndicator(tmp_path, monkeypatch, fake, kind="steps")
        p = post(syn)
        key = "post-1.n.r1"
        Steps.seen, Steps.lose_after_step = [], {key}
        first = syn.attempt(p, "n")
        assert first.status == "retry" and not fake.notes
        row = syn.ledger.get(p.id, "n")
        assert row is not None and row.state == "creating" and row.idem_key == key
        assert syn.run_inline(p, "n", sleep=nosleep).status == "done"
        assert Steps.seen == [{}, {"step": 1, "key": key}]  # the retry was handed the kept step
        row = syn.ledger.get(p.id, "n")
        assert row is not None and row.state == "published" and "progress" not in row.remote_extra
        assert len(fake.notes) == 1


def test_each_part_of_a_thread_keeps_its_own_steps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeNotes(max_length=50) as fake:
        syn = syndicator(tmp_path, monkeypatch, fake, kind="steps", thread=True, max_thread=3)
        p = post(syn, summary="A summary that is long enough to need a thread of notes here.")
        Steps.seen, Steps.lose_after_step = [], {"post-1.n.r1.p1"}
        assert syn.attempt(p, "n").status == "retry"
        assert syn.run_inline(p, "n", sleep=nosleep).status == "done"
        assert {"step": 1, "key": "post-1.n.r1.p1"} in Steps.seen  # part 2 resumed from its own step
        assert {"step": 1, "key": "post-1.n.r1"} not in Steps.seen  # part 1 was done: never resumed
        assert len(fake.notes) == len({n["text"] for n in fake.notes.values()})


def test_preview_shows_every_request_of_a_create_of_several_steps(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeNotes(max_length=500) as fake:
        syn = syndicator(tmp_path, monkeypatch, fake, kind="staged")
        shown = syn.requests(syn.plan_for(post(syn), "n"))
        assert [(r["method"], r["url"].removeprefix(fake.url)) for r in shown] == [
            ("POST", "/notes"), ("POST", "/notes/<draft>/publish")]
        assert shown[1]["params"] == {"key": "post-1.n.r1"} and "**********" not in json.dumps(shown)
