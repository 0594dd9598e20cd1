"""The in-process run (no broker), fault by fault (issue 13: items 4, 15, 29, 33, 34, 35).

- 33: an answer that proves nothing was made (a proxy's HTML 502, a refused connection) ends `failed`
  with a short reason, and `retry --failed` selects it;
- 34: a row a platform deferred (Retry-After) is held by every trigger, unless `push --now`;
- 35: targets run at once, each on its own thread and pool: a slow one delays only its own rows;
- 15: a real SIGINT to a real `syndicate push` says what was done and what was left;
- 29: a real filesystem, filled under the ledger, stops new sends with one line;
- 4: the embedded limiter keeps a backfill under each platform's documented rate (dev.to; three at once): no 429.
"""
from __future__ import annotations

import json
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from syndicate.engine import runner
from syndicate.state.ratelimit import MAX_GAP, margin
from tests.fakes.devto import FakeDevTo
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import Reply, Request
from tests.test_push import fakes, run, site, write, writes  # noqa: F401  (fixtures)


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries without waiting: the tests count tries, not seconds."""
    monkeypatch.setattr(runner.RetryPolicy, "backoff", lambda self, tries: 0.0)


def rows(*args: str) -> dict[str, dict[str, Any]]:
    code, output = run("status", "--json", *args)
    assert code in (0, 1), output
    return {f"{r['path'].split('/')[-1]}:{r['target']}": r for r in json.loads(output)}


# --- 33: failures that look like something else --------------------------------------------------


def test_an_html_502_on_every_try_is_failed_with_a_short_reason_and_retried_by_retry_failed(
        site: Path, fakes, no_backoff: None) -> None:  # noqa: F811
    devto, _masto = fakes
    post = write(site, "proxy.md", "title: Behind a proxy\ndate: 2024-03-01")
    devto.page_next(50, status=502, method="POST")
    code, output = run("push", str(post), "--to", "devto")
    assert code == 1, output
    assert len([r for r in devto.requests if r.method == "POST"]) == runner.RetryPolicy().max_tries
    row = rows()["proxy.md:devto"]
    assert row["state"] == "failed"  # not `creating (outcome unknown)`: the page proves nothing was made
    assert "HTTP 502 Bad Gateway (text/html)" in row["last_error"]
    assert "<" not in row["last_error"] and len(row["last_error"]) < 160  # no page of HTML
    assert "<html" not in output and "style" not in output

    devto.calm()
    code, output = run("retry", "--failed", "--json")
    assert code == 0, output
    assert [r["status"] for r in json.loads(output)["results"]] == ["done"]
    assert len(devto.articles) == 1


def test_a_proxy_page_says_its_title_when_it_has_one() -> None:
    import httpx

    from syndicate.contract import NotCreated, raise_for_status

    page = b"<html><head><title>Site &amp; API under maintenance</title></head><body>...</body></html>"
    response = httpx.Response(503, content=page, headers={"content-type": "text/html; charset=utf-8"})
    with pytest.raises(NotCreated) as caught:
        raise_for_status(response, "devto")
    assert str(caught.value) == "devto: HTTP 503 Service Unavailable (text/html): Site & API under maintenance"
    # the platform's own JSON 5xx and a gateway timeout may follow a write that landed: not NotCreated
    for status, body, kind in ((500, b'{"error": "boom"}', "application/json"), (504, page, "text/html")):
        with pytest.raises(runner.Transient) as other:
            raise_for_status(httpx.Response(status, content=body, headers={"content-type": kind}), "devto")
        assert not isinstance(other.value, NotCreated)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again on return: a connection is refused


def test_a_refused_connection_is_failed_not_outcome_unknown(site: Path, fakes, no_backoff: None) -> None:  # noqa: F811
    config = site / "syndicate.toml"
    devto, _masto = fakes
    text = config.read_text().replace(devto.url, f"http://127.0.0.1:{_closed_port()}")
    # 12 tries in all: dev.to's 10 creates per 30 s, shrunk, so the limiter does not make the test wait
    config.write_text(text.replace("[targets.devto]", "[queue]\nrate_time_scale = 0.01\n\n[targets.devto]"),
                      encoding="utf-8")
    post = write(site, "refused.md", "title: Nobody home\ndate: 2024-03-01")
    code, output = run("push", str(post), "--to", "devto")
    assert code == 1, output
    row = rows()["refused.md:devto"]
    assert row["state"] == "failed" and "cannot connect" in row["last_error"]
    code, output = run("retry", "--failed", "--json")
    assert [r["target"] for r in json.loads(output)["results"]] == ["devto"]  # selected


# --- 34: a platform's Retry-After holds for every trigger, unless --now -----------------------------


def test_a_manual_push_honours_a_deferral_by_retry_after_unless_now(site: Path, fakes) -> None:  # noqa: F811
    devto, _masto = fakes
    post = write(site, "busy.md", "title: Busy\ndate: 2024-03-01")
    devto.rate_limit_next(1, retry_after=3600, method="POST")
    code, output = run("push", str(post), "--to", "devto", "--json")
    assert code == 0, output
    assert [r["status"] for r in json.loads(output)["results"]] == ["deferred"]
    assert rows()["busy.md:devto"]["state"] == "deferred"
    posts_sent = len([r for r in devto.requests if r.method == "POST"])

    code, output = run("push", str(post), "--to", "devto", "--json")  # an hour has not passed
    assert code == 0, output
    result = json.loads(output)["results"][0]
    assert result["status"] == "deferred" and "--now" in result["reason"]
    assert len([r for r in devto.requests if r.method == "POST"]) == posts_sent  # nothing sent
    row = rows()["busy.md:devto"]
    assert row["state"] == "deferred" and row["deferred_until"] is not None
    assert "--now" not in (row.get("defer_reason") or "")  # the ledger keeps the platform's reason as it was

    code, output = run("push", str(post), "--to", "devto", "--now")
    assert code == 0, output
    assert len(devto.articles) == 1 and rows()["busy.md:devto"]["state"] == "published"


# --- 35: one slow platform delays only its own rows -------------------------------------------------


class _GatedMastodon(FakeMastodon):
    """Every status create waits until `gate` opens (a platform answering in N seconds, N unknown)."""

    def __init__(self, gate: threading.Event, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gate = gate

    def dispatch(self, request: Request) -> tuple[Reply | None, bool]:
        if request.method == "POST" and request.path == "/api/v1/statuses":
            assert self.gate.wait(20), "the other target's rows waited on this one"
        return super().dispatch(request)


class _CountingDevTo(FakeDevTo):
    """Opens `gate` once `n` articles exist."""

    def __init__(self, gate: threading.Event, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gate, self.n = gate, n

    def handle(self, request: Request) -> Reply:
        reply = super().handle(request)
        if len(self.articles) >= self.n:
            self.gate.set()
        return reply


def test_a_slow_platform_does_not_delay_the_other_targets_rows(tmp_path: Path, ledger_url: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.harness import write_config, write_site

    gate = threading.Event()
    with _CountingDevTo(gate, 4) as devto, _GatedMastodon(gate) as masto:
        paths = write_site(tmp_path, 4)
        write_config(tmp_path, [
            "[targets.devto]", 'api_key = "devto-test-key"', f'base_url = "{devto.url}"', "",
            "[targets.mastodon]", f'base_url = "{masto.url}"', 'access_token = "mastodon-test-token"',
        ], state_url=ledger_url)
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("SYNDICATE_CONFIG", raising=False)
        code, output = run("push", *map(str, paths), "--json")
        assert code == 0, output
        # every dev.to article was made while Mastodon's first answer was still held
        assert len(devto.articles) == 4 and len(masto.live) == 4
        results = json.loads(output)["results"]
        assert [(r["path"].split("/")[-1], r["target"]) for r in results] == [
            (p.name, t) for p in paths for t in ("devto", "mastodon")]  # reported in post order


def test_each_target_gets_its_own_connection_pool(tmp_path: Path, ledger_url: str) -> None:
    from syndicate.engine import inline
    from syndicate.registry import load_config
    from tests.harness import write_config, write_site

    with FakeDevTo() as devto, FakeMastodon() as masto:
        paths = write_site(tmp_path, 1)
        config = write_config(tmp_path, [
            "[targets.devto]", 'api_key = "devto-test-key"', f'base_url = "{devto.url}"', "",
            "[targets.mastodon]", f'base_url = "{masto.url}"', 'access_token = "mastodon-test-token"',
        ], state_url=ledger_url)
        syn = runner.Syndicator(load_config(config))
        from syndicate.content.loader import load_post

        post = load_post(paths[0], syn.config.site)
        clients: dict[str, Any] = {}

        def unit(post: Any, target: str, sleep: Any) -> runner.Outcome:
            clients[target] = syn.connector(target).http
            return syn.run_inline(post, target, sleep=sleep)

        done = inline.run(syn, [post], ["devto", "mastodon"], unit=unit)
        assert [o.status for o in done.outcomes] == ["done", "done"]
        assert clients["devto"] is not clients["mastodon"]
        assert all(c.is_closed for c in clients.values())  # closed at the end of the run


# --- 15: Ctrl-C during push -----------------------------------------------------------------------


class _HeldDevTo(FakeDevTo):
    """The `n`th create is taken, then its answer waits until `release` (the test's Ctrl-C goes in between)."""

    def __init__(self, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n = n
        self.creates = 0
        self.in_flight = threading.Event()
        self.release = threading.Event()

    def dispatch(self, request: Request) -> tuple[Reply | None, bool]:
        reply, lose = super().dispatch(request)
        if request.method == "POST" and request.path == "/api/articles" and reply is not None and reply.status == 201:
            with self.lock:
                self.creates += 1
                held = self.creates == self.n
            if held:
                self.in_flight.set()
                assert self.release.wait(30)
        return reply, lose


def _cli(args: list[str], cwd: Path) -> Any:
    import os
    import signal
    import subprocess
    import sys

    from tests.harness import ROOT

    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    # Ctrl-C handled as in a terminal even when this session was started with SIGINT ignored (`nohup`, a
    # background job of a script), which the child would inherit and Python would then leave ignored
    return subprocess.Popen([sys.executable, "-m", "syndicate.cli", *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _devto_site(root: Path, url: str, ledger_url: str, n: int) -> list[Path]:
    from tests.harness import write_config, write_site

    paths = write_site(root, n)
    write_config(root, ["[targets.devto]", 'api_key = "${DEVTO_KEY_FOR_TEST}"', f'base_url = "{url}"'],
                 state_url=ledger_url, extra=["[queue]", "rate_time_scale = 0.01"])  # dev.to's limit, in 1 s
    return paths


def test_ctrl_c_during_push_says_what_was_done_and_what_was_left(tmp_path: Path, ledger_url: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import signal

    monkeypatch.setenv("DEVTO_KEY_FOR_TEST", "devto-test-key")
    monkeypatch.delenv("SYNDICATE_CONFIG", raising=False)
    monkeypatch.delenv("SYNDICATE_BROKER_URL", raising=False)
    with _HeldDevTo(2) as devto:
        paths = _devto_site(tmp_path, devto.url, ledger_url, 5)
        proc = _cli(["push", "content/posts"], tmp_path)
        try:
            assert devto.in_flight.wait(60), "the second create never came"
            proc.send_signal(signal.SIGINT)  # a real Ctrl-C, while the second create is on the wire
            assert proc.stderr is not None
            seen = []
            for line in proc.stderr:  # wait on what the process says, not on a clock
                seen.append(line)
                if "interrupted" in line:
                    break
            devto.release.set()
            out, err = proc.communicate(timeout=60)
        finally:
            devto.release.set()
            if proc.poll() is None:
                proc.kill()
        err = "".join(seen) + err
        assert proc.returncode == 130, (out, err)
        assert "Traceback" not in out + err
        assert "2 created" in out and "3 not tried" in out, out
        assert out.count("interrupted (Ctrl-C)") == 3  # each row left says why
        assert len(devto.articles) == 2
    monkeypatch.chdir(tmp_path)
    state = {r["path"].split("/")[-1]: r["state"] for r in json.loads(run("status", "--json")[1])}
    # the create on the wire finished and was recorded; nothing else claims more than happened
    assert [state.get(p.name, "new") for p in paths] == ["published", "published", "new", "new", "new"]


def test_ctrl_c_between_two_tries_ends_the_unit_at_once(tmp_path: Path, ledger_url: str) -> None:
    from syndicate.content.loader import load_post
    from syndicate.engine import inline
    from syndicate.registry import load_config

    with FakeDevTo() as devto:
        import os

        os.environ["DEVTO_KEY_FOR_TEST"] = "devto-test-key"
        try:
            paths = _devto_site(tmp_path, devto.url, ledger_url, 2)
            syn = runner.Syndicator(load_config(tmp_path / "syndicate.toml"))
        finally:
            del os.environ["DEVTO_KEY_FOR_TEST"]
        posts = [load_post(p, syn.config.site) for p in paths]
        devto.page_next(1, status=503, method="POST")
        stop = inline.Stop()
        waiting = threading.Event()

        def unit(post: Any, target: str, sleep: Any) -> runner.Outcome:
            def nap(seconds: float) -> None:
                waiting.set()
                sleep(3600.0)  # an hour's backoff: only the stop ends it

            return syn.run_inline(post, target, sleep=nap)

        threading.Thread(target=lambda: (waiting.wait(30), stop.set(inline.INTERRUPTED)), daemon=True).start()
        done = inline.run(syn, posts, ["devto"], stop=stop, unit=unit)
        assert [o.status for o in done.outcomes] == ["interrupted", "left"]
        assert "new: nothing sent" in done.outcomes[0].reason
        assert syn.ledger.get(posts[0].id, "devto").state == "new"  # a 503 page: nothing was made
        assert not devto.articles


# --- 29: disk full under the ledger -----------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Any:
    """A real 4 MiB tmpfs under the test's folder (we are root in CI); skipped where mounting is refused."""
    import subprocess

    where = tmp_path / "disk"
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root or CAP_SYS_ADMIN): {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> Path:
    """Fill `disk` to the last byte with one file; removing it frees the space."""
    import os

    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (1 << 16, 1):
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


class _FillingDevTo(FakeDevTo):
    """Fills the ledger's disk while it takes the `n`th create (the write lands; recording it fails)."""

    def __init__(self, disk: Path, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.disk, self.n = disk, n
        self.filler: Path | None = None

    def handle(self, request: Request) -> Reply:
        reply = super().handle(request)
        if request.method == "POST" and reply.status == 201 and len(self.articles) == self.n:
            self.filler = fill(self.disk)
        return reply


def test_a_disk_filling_mid_run_stops_new_sends_with_one_line_and_the_next_run_settles(
        tmp_path: Path, small_disk: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVTO_KEY_FOR_TEST", "devto-test-key")
    monkeypatch.delenv("SYNDICATE_CONFIG", raising=False)
    monkeypatch.delenv("SYNDICATE_BROKER_URL", raising=False)
    ledger = small_disk / "ledger.db"
    with _FillingDevTo(small_disk, 4) as devto:
        _devto_site(tmp_path, devto.url, f"sqlite:///{ledger}", 12)
        proc = _cli(["push", "content/posts"], tmp_path)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 1, (out, err)
        assert "Traceback" not in out + err
        line = f"the ledger at {ledger} is full: free space, then run again"
        assert (out + err).count(line) == 1, (out, err)
        assert "3 created" in out and "1 failed" in out and "8 not tried" in out, out
        assert len(devto.articles) == 4  # the fourth landed; its row could not say so
        posts_sent = len([r for r in devto.requests if r.method == "POST"])
        assert posts_sent == 4  # not one send after the failed write

        assert devto.filler is not None
        devto.filler.unlink()  # free space, then run again
        proc = _cli(["push", "content/posts"], tmp_path)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, (out, err)
        assert len(devto.articles) == 12  # the fourth was found, not sent twice
        assert len([r for r in devto.requests if r.method == "POST"]) == posts_sent + 8


def test_a_disk_already_full_is_one_line_not_a_traceback(tmp_path: Path, small_disk: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVTO_KEY_FOR_TEST", "devto-test-key")
    monkeypatch.delenv("SYNDICATE_CONFIG", raising=False)
    monkeypatch.delenv("SYNDICATE_BROKER_URL", raising=False)
    ledger = small_disk / "ledger.db"
    with FakeDevTo() as devto:
        paths = _devto_site(tmp_path, devto.url, f"sqlite:///{ledger}", 3)
        proc = _cli(["push", str(paths[0])], tmp_path)  # the ledger exists, with one post in it
        assert proc.communicate(timeout=120) and proc.returncode == 0
        fill(small_disk)
        proc = _cli(["push", "content/posts"], tmp_path)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 1, (out, err)
        assert "Traceback" not in out + err
        assert f"the ledger at {ledger} is full: free space, then run again" in out + err
        assert len(devto.articles) == 1  # nothing new was sent


# --- 4: the embedded limiter (no Redis) ------------------------------------------------------------


class _Counting429(FakeDevTo):
    """dev.to's documented windows, enforced, with every 429 it answers counted."""

    refused = 0

    def window_limited(self, retry_after: float, limit: int, reset: float) -> Reply:
        with self.lock:
            self.refused += 1
        return super().window_limited(retry_after, limit, reset)


def test_a_backfill_without_redis_keeps_under_devtos_documented_rate(tmp_path: Path, ledger_url: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.harness import write_config, write_site

    scale = 0.05  # dev.to's 10 creates per 30 s, 20 times shorter
    with _Counting429(time_scale=scale) as devto:
        paths = write_site(tmp_path, 25)
        write_config(tmp_path, ["[targets.devto]", 'api_key = "devto-test-key"', f'base_url = "{devto.url}"'],
                     state_url=ledger_url, extra=["[queue]", f"rate_time_scale = {scale}"])
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("SYNDICATE_CONFIG", raising=False)
        monkeypatch.delenv("SYNDICATE_BROKER_URL", raising=False)
        code, output = run("push", *map(str, paths), "--json")
        assert code == 0, output
        assert len(devto.articles) == 25
        assert devto.refused == 0  # the limiter waited; the platform never had to say no
        assert len([r for r in devto.requests if r.method == "POST"]) == 25


def test_a_create_that_reaches_dev_to_late_does_not_let_a_later_one_overrun_its_window(
        tmp_path: Path, ledger_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A grant is dated from the answer, not from the ask: the platform counts a request when it arrives,
    and the first create arrives a second after it was granted (a stalled client, a slow network)."""
    from tests.harness import write_config, write_site

    scale = 0.05  # dev.to's 10 creates per 30 s: 1.5 s, with a margin of 0.1 s after it
    with _Counting429(time_scale=scale) as devto:
        devto.delay_next(1, 1.0, method="POST")  # held before dev.to counts it
        paths = write_site(tmp_path, 12)
        write_config(tmp_path, ["[targets.devto]", 'api_key = "devto-test-key"', f'base_url = "{devto.url}"'],
                     state_url=ledger_url, extra=["[queue]", f"rate_time_scale = {scale}"])
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("SYNDICATE_CONFIG", raising=False)
        monkeypatch.delenv("SYNDICATE_BROKER_URL", raising=False)
        code, output = run("push", *map(str, paths), "--json")
        assert code == 0, output
        assert len(devto.articles) == 12
        assert devto.refused == 0


@pytest.fixture
def sql_limiter(ledger_url: str) -> Any:
    from syndicate.state.ledger.store import Ledger
    from syndicate.state.ratesql import SqlRateLimiter

    ledger = Ledger(ledger_url, site="limits.example")
    now = [1_000_000.0]
    yield SqlRateLimiter(ledger.engine, clock=lambda: now[0]), now
    ledger.dispose()


def test_the_sql_limiter_takes_every_window_or_none_and_says_how_long_to_wait(sql_limiter: Any) -> None:
    from syndicate.contract import RateLimit, Throttled

    rl, now = sql_limiter
    rates = [RateLimit("create", 3, 10), RateLimit("request", 100, 60)]
    account = "devto:https://dev.to:abc"
    assert [rl.acquire(account, "create", rates) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = rl.acquire(account, "create", rates)
    assert wait == pytest.approx(10.0 + margin(10))  # the oldest grant leaves its window (plus the margin)
    with pytest.raises(Throttled):
        rl.require(account, "create", rates)
    assert rl.acquire("devto:https://dev.to:other", "create", rates) == 0.0  # another account: its own budget
    assert rl.stats(account, rates[1]).remaining == 97  # the refused calls took nothing
    now[0] += wait
    assert rl.acquire(account, "create", rates) == 0.0


def test_the_sql_limiter_learns_pauses_from_the_platforms_headers(sql_limiter: Any) -> None:
    from syndicate.contract import RateLimit

    rl, now = sql_limiter
    rates = [RateLimit("create", 100, 10)]
    account = "mastodon:https://m.example:abc"
    assert rl.observe(account, {"Retry-After": "30"}, 429) == pytest.approx(30.0)
    assert 29.9 <= rl.acquire(account, "create", rates) <= 30.0
    now[0] += 31
    assert rl.acquire(account, "create", rates) == 0.0
    rl.observe(account, {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "2", "X-RateLimit-Reset": "20"}, 200)
    assert rl.acquire(account, "create", rates) == 0.0
    # 2 left in 20 s: spaced, at most MAX_GAP apart (not one per 10 s: the last posts would wait for nothing)
    assert rl.acquire(account, "create", rates) == pytest.approx(min(10.0, MAX_GAP))
    assert rl.clear(account) >= 1 and rl.acquire(account, "create", rates) == 0.0


def test_a_backfill_without_redis_keeps_every_target_under_its_documented_rate(
        tmp_path: Path, ledger_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three rate-enforcing fakes at once (dev.to's 10 creates per 30 s, Discord's 5 requests per 2 s and
    30 messages a minute, Telegram's message a second and 20 a minute per chat), one push with no broker:
    every target's thread takes its slots from the one limiter in the ledger, and no platform says no
    (bench/bench_backfill.py --inline does the same for every target, at full size)."""
    from contextlib import ExitStack

    from tests.harness import write_config, write_site
    from tests.test_connector_contract import TestDevToContract
    from tests.test_discord import TestDiscordContract
    from tests.test_telegram import TestTelegramContract

    scale, n = 0.05, 25  # every window 20 times shorter; 25 posts take each target past its first window
    refused: dict[str, int] = {}
    with ExitStack() as stack:
        lines: list[str] = []
        fakes = {}
        for contract in (TestDevToContract(), TestDiscordContract(), TestTelegramContract()):
            kind = contract.connector_type
            fake = fakes[kind] = stack.enter_context(contract.fake())
            fake.time_scale = scale
            refused[kind] = 0

            def counted(request: Request, kind: str = kind, dispatch: Any = fake.dispatch) -> Any:
                reply, lose = dispatch(request)
                if reply is not None and reply.status == 429:
                    refused[kind] += 1
                return reply, lose

            fake.dispatch = counted
            for name, value in contract.env.items():
                monkeypatch.setenv(name, value)
            lines += [f"[targets.{kind}]", *(f"{k} = {json.dumps(v)}" for k, v in contract.options(fake).items()), ""]
        paths = write_site(tmp_path, n)
        write_config(tmp_path, lines, state_url=ledger_url, extra=["[queue]", f"rate_time_scale = {scale}"])
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("SYNDICATE_CONFIG", raising=False)
        monkeypatch.delenv("SYNDICATE_BROKER_URL", raising=False)
        code, output = run("push", *map(str, paths), "--json")
        assert code == 0, output
        assert [r["status"] for r in json.loads(output)["results"]] == ["done"] * (3 * n)
        live = {c.connector_type: c.live(fakes[c.connector_type])
                for c in (TestDevToContract(), TestDiscordContract(), TestTelegramContract())}
    assert live == {"devto": n, "discord": n, "telegram": n}  # each post once: no duplicate, none missing
    assert refused == {"devto": 0, "discord": 0, "telegram": 0}  # the limiter waited; no platform said no
