"""`syndicate doctor` (issue 16): what is fine and what to fix, against the fakes, a real Redis (and one that
is not there), a ledger on SQLite and PostgreSQL, and the deployed site served on loopback."""
from __future__ import annotations

import functools
import http.server
import io
import json
import shutil
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from typer.testing import CliRunner

from syndicate.cli import app, doctor
from syndicate.registry import load_config
from tests.fakes import x as fx
from tests.fakes.devto import FakeDevTo
from tests.fakes.linkedin import FakeLinkedIn
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import Reply, Request
from tests.fakes.x import FakeX
from tests.media_helpers import FakeBucket, Server

DEVTO_KEY = "devto-test-key"
MASTO_TOKEN = "mastodon-test-token"
LINKEDIN_TOKEN = "li-test-token"
X_ENV = {"X_API_KEY": fx.API_KEY, "X_API_SECRET": fx.API_SECRET, "X_ACCESS_TOKEN": fx.ACCESS_TOKEN,
         "X_ACCESS_SECRET": fx.ACCESS_SECRET}


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """The deployed site: a folder served over HTTP on loopback (pages and images as they are put there)."""
    public = tmp_path / "public"
    public.mkdir()
    (public / "index.html").write_text("<html><title>Blog</title></html>", encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(public))
    handler.log_message = lambda *a, **k: None  # type: ignore[method-assign]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield public, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def fakes() -> Iterator[tuple[FakeDevTo, FakeMastodon]]:
    with FakeDevTo() as devto, FakeMastodon() as masto:
        yield devto, masto  # type: ignore[misc]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVTO_API_KEY", DEVTO_KEY)
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", MASTO_TOKEN)
    for name in ("SYNDICATE_CONFIG", "SYNDICATE_BROKER_URL", "SYNDICATE_REDIS_URL", "SYNDICATE_STATE_URL",
                 "SYNDICATE_DATA"):
        monkeypatch.delenv(name, raising=False)


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_site(root: Path, url: str, state: str, targets: str, extra: str = "") -> Path:
    """A site with one post (a cover and a body image, both in the static folder) and its config."""
    (root / "content" / "posts").mkdir(parents=True, exist_ok=True)
    (root / "static" / "images").mkdir(parents=True, exist_ok=True)
    (root / "static" / "images" / "cover.png").write_bytes(png())
    (root / "static" / "images" / "map.png").write_bytes(png())
    (root / "content" / "posts" / "hello.md").write_text(
        "---\ntitle: Hello\ndate: 2024-03-01\ncover: /images/cover.png\ncover_alt: A blue square\n---\n\n"
        "A first paragraph.\n\n![The map](/images/map.png)\n", encoding="utf-8")
    config = root / "syndicate.toml"
    config.write_text(
        f'[site]\nurl = "{url}"\ncontent = ["content/posts/**/*.md"]\npermalink = "/posts/:slug/"\n'
        f'static = ["static"]\n\n[state]\nurl = "{state}"\n\n[media]\nallow = ["127.0.0.1"]\n\n{extra}\n{targets}',
        encoding="utf-8")
    return config


def both(devto: FakeDevTo, masto: FakeMastodon) -> str:
    return (f'[targets.devto]\napi_key = "${{DEVTO_API_KEY}}"\nbase_url = "{devto.url}"\n\n'
            f'[targets.mastodon]\nbase_url = "{masto.url}"\naccess_token = "${{MASTODON_ACCESS_TOKEN}}"\n')


def deploy(public: Path, *, post: bool = True, images: bool = True) -> None:
    if post:
        (public / "posts" / "hello").mkdir(parents=True, exist_ok=True)
        (public / "posts" / "hello" / "index.html").write_text("<html><title>Hello</title></html>", encoding="utf-8")
    if images:
        (public / "images").mkdir(exist_ok=True)
        (public / "images" / "cover.png").write_bytes(png())
        (public / "images" / "map.png").write_bytes(png())


def run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["doctor", "--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.stdout


def checks(config: Path, *args: str) -> tuple[int, list[dict[str, str]], str]:
    code, out = run(config, "--json", *args)
    data = json.loads(out)
    assert data["ok"] == (code == 0), data
    return code, data["checks"], out


def row(found: list[dict[str, str]], check: str, what: str | None = None) -> dict[str, str]:
    hits = [c for c in found if c["check"] == check and (what is None or what in c["what"])]
    assert len(hits) == 1, (check, what, found)
    return hits[0]


# --- everything fine, on either ledger ---------------------------------------------------------------------------


def test_everything_fine_is_exit_0_with_every_check_ok(tmp_path: Path, deployed: tuple[Path, str], fakes: Any,
                                                       env: None, ledger_url: str, redis_url: str) -> None:
    public, url = deployed
    devto, masto = fakes
    deploy(public)
    config = make_site(tmp_path / "site", url, ledger_url, both(devto, masto))
    pushed = CliRunner().invoke(app, ["push", "--config", str(config), str(tmp_path / "site" / "content")],
                                catch_exceptions=False)
    assert pushed.exit_code == 0, pushed.output
    config.write_text(config.read_text().replace(
        "[media]", f'[queue]\nbroker = "{redis_url}"\nredis = "{redis_url}"\n\n[media]'), encoding="utf-8")
    before = (len(devto.articles), len(masto.live))

    code, found, _ = checks(config)
    assert code == 0, found
    assert {c["state"] for c in found} == {"ok"}, [c for c in found if c["state"] != "ok"]
    assert row(found, "credentials", "devto")["detail"] == "accepted (GET /api/articles/me/all)"
    assert row(found, "credentials", "mastodon")["detail"] == "accepted (GET /api/v1/accounts/verify_credentials)"
    assert row(found, "broker")["detail"] == "answers" and row(found, "redis")["detail"] == "answers PING"
    ledger = row(found, "ledger")
    assert "answers; 2 row(s) of this site" in ledger["detail"]
    assert ("SQLite" if ledger_url.startswith("sqlite") else "PostgreSQL") in ledger["detail"]
    assert row(found, "site")["detail"] == "answers HTTP 200"
    assert row(found, "canonical")["what"] == f"{url}/posts/hello/"
    assert {c["what"] for c in found if c["check"] == "images"} == {f"{url}/images/cover.png", f"{url}/images/map.png"}
    assert (len(devto.articles), len(masto.live)) == before  # a check makes nothing
    assert [r.path for r in devto.requests][-1] == "/api/articles/me/all"

    code, table = run(config)
    assert code == 0
    lines = table.strip().splitlines()
    assert lines[0].split() == ["check", "what", "state", "detail", "/", "how", "to", "fix"]
    assert any(line.startswith("credentials") and "devto" in line and " ok " in line for line in lines), table
    assert lines[-1] == f"{len(found)} ok"


def test_an_unreachable_redis_broker_and_ledger_fail_and_the_other_checks_go_on(
        tmp_path: Path, deployed: tuple[Path, str], fakes: Any, env: None) -> None:
    public, url = deployed
    deploy(public)
    nowhere = f"redis://127.0.0.1:{unused_port()}/0"
    config = make_site(tmp_path / "site", url, f"postgresql://doctor:pw-not-shown@127.0.0.1:{unused_port()}/nothing",
                       both(*fakes), extra=f'[queue]\nbroker = "{nowhere}"\nredis = "{nowhere}"\n')
    code, found, out = checks(config, "--timeout", "2")
    assert code == 1
    for check in ("broker", "redis", "ledger"):
        assert row(found, check)["state"] == "fail", found
    assert "does not answer" in row(found, "redis")["detail"] and row(found, "redis")["fix"]
    assert row(found, "ledger")["fix"].startswith("start the database")
    assert "pw-not-shown" not in out
    assert row(found, "credentials", "devto")["state"] == "ok"  # one failing check stops nothing else
    assert row(found, "site")["state"] == "ok" and row(found, "canonical")["state"] == "ok"
    code, table = run(config, "--timeout", "2")
    assert code == 1 and "to fix" in table.strip().splitlines()[-1] and "pw-not-shown" not in table


def test_a_ledger_of_another_site_is_said_as_push_would_refuse_it(tmp_path: Path, deployed: tuple[Path, str],
                                                                 fakes: Any, env: None, ledger_url: str) -> None:
    public, url = deployed
    deploy(public)
    other = make_site(tmp_path / "other", "https://other.example", ledger_url, both(*fakes))
    assert CliRunner().invoke(app, ["status", "--config", str(other)]).exit_code == 0
    from syndicate.state.ledger import open_ledger

    open_ledger(load_config(other)).dispose()  # the other site has joined the ledger
    config = make_site(tmp_path / "site", url, ledger_url, both(*fakes))
    code, found, _ = checks(config)
    assert code == 1
    ledger = row(found, "ledger")
    assert ledger["state"] == "fail" and "already holds the rows of site other.example" in ledger["detail"]
    config.write_text(config.read_text().replace("[state]\n", "[state]\nshared = true\n"), encoding="utf-8")
    other.write_text(other.read_text().replace("[state]\n", "[state]\nshared = true\n"), encoding="utf-8")
    code, found, _ = checks(config)
    assert row(found, "ledger")["state"] == "ok" and code == 0, found


# --- credentials -------------------------------------------------------------------------------------------------


class EchoingDevTo(FakeDevTo):
    """A Forem that says back the key it refused (some platforms do): the report must not."""

    def handle(self, request: Request) -> Reply:
        key = request.headers.get("api-key", "")
        if key not in self.keys:
            return Reply(401, {"error": f"unauthorized: no user has the key {key}", "status": 401})
        return super().handle(request)


def test_refused_credentials_fail_and_no_secret_is_shown_even_when_the_platform_echoes_it(
        tmp_path: Path, deployed: tuple[Path, str], env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    public, url = deployed
    deploy(public)
    wrong = "wrong-devto-key-4242"
    monkeypatch.setenv("DEVTO_API_KEY", wrong)
    with EchoingDevTo() as devto, FakeMastodon() as masto:
        config = make_site(tmp_path / "site", url, f"sqlite:///{tmp_path / 'state.db'}", both(devto, masto))
        code, found, out = checks(config)
        _, table = run(config)
    assert code == 1
    refused = row(found, "credentials", "devto")
    assert refused["state"] == "fail" and "HTTP 401" in refused["detail"] and "**********" in refused["detail"]
    assert "api_key" in refused["fix"]
    assert row(found, "credentials", "mastodon")["state"] == "ok"
    assert wrong not in out and wrong not in table
    assert any("401" in line for line in table.splitlines())


def test_a_target_whose_variables_are_unset_must_be_fixed(tmp_path: Path, deployed: tuple[Path, str], fakes: Any,
                                                          env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    public, url = deployed
    deploy(public)
    monkeypatch.delenv("MASTODON_ACCESS_TOKEN")
    config = make_site(tmp_path / "site", url, f"sqlite:///{tmp_path / 'state.db'}", both(*fakes))
    code, found, _ = checks(config)
    assert code == 1
    skipped = row(found, "credentials", "mastodon")
    assert skipped["state"] == "fail" and "$MASTODON_ACCESS_TOKEN is not set" in skipped["detail"]
    assert row(found, "credentials", "devto")["state"] == "ok"


def test_a_platform_that_never_answers_fails_its_own_row_within_the_timeout(
        tmp_path: Path, deployed: tuple[Path, str], env: None) -> None:
    public, url = deployed
    deploy(public)
    silent = socket.socket()  # takes connections (the kernel's backlog) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        with FakeDevTo() as devto:
            targets = (f'[targets.devto]\napi_key = "${{DEVTO_API_KEY}}"\nbase_url = "{devto.url}"\n\n'
                       f'[targets.mastodon]\nbase_url = "http://127.0.0.1:{silent.getsockname()[1]}"\n'
                       'access_token = "${MASTODON_ACCESS_TOKEN}"\n')
            config = make_site(tmp_path / "site", url, f"sqlite:///{tmp_path / 'state.db'}", targets)
            code, found, _ = checks(config, "--timeout", "2")
    finally:
        silent.close()
    assert code == 1
    stuck = row(found, "credentials", "mastodon")
    assert stuck["state"] == "fail" and ("ReadTimeout" in stuck["detail"] or "no answer" in stuck["detail"]), stuck
    assert row(found, "credentials", "devto")["state"] == "ok"


def test_an_invalid_config_exits_2_naming_the_file_and_the_key(tmp_path: Path, deployed: tuple[Path, str],
                                                               fakes: Any, env: None) -> None:
    _public, url = deployed
    config = make_site(tmp_path / "site", url, f"sqlite:///{tmp_path / 'state.db'}",
                       both(*fakes).replace("base_url", "base_ulr", 1))
    result = CliRunner().invoke(app, ["doctor", "--config", str(config)], catch_exceptions=False)
    assert result.exit_code == 2
    assert str(config) in result.stderr and "targets.devto.base_ulr" in result.stderr
    code, out = run(config, "--json")
    data = json.loads(out)
    assert code == 2 and data["ok"] is False and data["checks"][0]["check"] == "config"
    assert "base_ulr" in data["checks"][0]["detail"]


# --- tokens, versions and budgets, by an injected clock ----------------------------------------------------------


def linkedin_config(tmp_path: Path, url: str, fake: FakeLinkedIn, **keys: str) -> Path:
    extra = "".join(f'{k} = "{v}"\n' for k, v in keys.items())
    return make_site(tmp_path / "site", url, f"sqlite:///{tmp_path / 'state.db'}",
                     f'[targets.linkedin]\naccess_token = "${{LINKEDIN_ACCESS_TOKEN}}"\n'
                     f'author = "urn:li:person:AbC123xyz"\nbase_url = "{fake.url}"\n{extra}')


def test_an_expiring_token_and_a_version_near_its_sunset_warn_and_an_expired_token_fails(
        tmp_path: Path, deployed: tuple[Path, str], env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    public, url = deployed
    deploy(public)
    monkeypatch.setenv("LINKEDIN_ACCESS_TOKEN", LINKEDIN_TOKEN)
    with FakeLinkedIn() as fake:
        path = linkedin_config(tmp_path, url, fake, token_expires="2027-10-18", version="202611")
        config = load_config(path, readonly=True)
        fine = doctor.diagnose(config, now=datetime(2027, 3, 1, tzinfo=UTC), timeout=5)
        soon = doctor.diagnose(config, now=datetime(2027, 10, 15, tzinfo=UTC), timeout=5)
        late = doctor.diagnose(config, now=datetime(2027, 10, 20, tzinfo=UTC), timeout=5)
    assert not [f for f in fine.findings if f.check == "notice"], fine.findings
    assert not fine.failed
    notes = [f for f in soon.findings if f.check == "notice"]
    assert [f.state for f in notes] == ["warn", "warn"], soon.findings
    token, version = notes
    assert "expires on 2027-10-18" in token.detail and token.fix == "before 2027-10-18"
    assert "202611" in version.detail and "sunset" in version.detail
    assert not soon.failed  # warnings only: exit 0
    expired = [f for f in late.findings if f.check == "notice" and "expired" in f.detail]
    assert len(expired) == 1 and expired[0].state == "fail" and expired[0].fix == "now"
    assert late.failed
    assert LINKEDIN_TOKEN not in json.dumps(late.as_json())


def test_an_expired_token_exits_1_from_the_command(tmp_path: Path, deployed: tuple[Path, str], env: None,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    public, url = deployed
    deploy(public)
    monkeypatch.setenv("LINKEDIN_ACCESS_TOKEN", LINKEDIN_TOKEN)
    with FakeLinkedIn() as fake:
        code, found, _ = checks(linkedin_config(tmp_path, url, fake, token_expires="2021-01-31"))
    assert code == 1
    assert row(found, "credentials", "linkedin")["state"] == "ok"  # the token still works; its date is the problem
    assert row(found, "notice", "linkedin")["state"] == "fail"


def test_x_says_what_is_left_of_its_monthly_budget_and_a_spent_one_fails(
        tmp_path: Path, deployed: tuple[Path, str], env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    public, url = deployed
    deploy(public)
    for key, value in X_ENV.items():
        monkeypatch.setenv(key, value)
    with FakeX() as fake:
        path = make_site(tmp_path / "site", url, f"sqlite:///{tmp_path / 'state.db'}",
                         f'[targets.x]\nbase_url = "{fake.url}"\napi_key = "${{X_API_KEY}}"\n'
                         'api_secret = "${X_API_SECRET}"\naccess_token = "${X_ACCESS_TOKEN}"\n'
                         'access_secret = "${X_ACCESS_SECRET}"\nmonthly_budget = 2.0\n')
        now = datetime(2026, 12, 10, tzinfo=UTC)
        config = load_config(path, readonly=True)
        fresh = doctor.diagnose(config, now=now, timeout=5)
        budget = [f for f in fresh.findings if f.check == "budget"]
        assert [(f.state, f.detail) for f in budget] == [("ok", "2.00 of 2.00 USD left until 2027-01-01")]
        assert [f.state for f in fresh.findings if f.check == "credentials"] == ["ok"]
        from syndicate.engine.runner import Syndicator

        spender = Syndicator(load_config(path)).connector("x").budget
        spender.clock = now.timestamp
        spender.charge(2.0)
        spent = doctor.diagnose(config, now=now, timeout=5)
    said = [f for f in spent.findings if f.check in ("notice", "budget")]
    assert [(f.check, f.state) for f in said] == [("notice", "fail")], said
    assert "spent" in said[0].detail and said[0].fix == "before 2027-01-01"
    assert spent.failed


# --- the site, the canonical URL, the images ---------------------------------------------------------------------


def test_a_site_not_deployed_fails_the_site_and_canonical_checks(tmp_path: Path, deployed: tuple[Path, str],
                                                                 fakes: Any, env: None) -> None:
    public, url = deployed
    shutil.rmtree(public)  # nothing served: every page 404
    config = make_site(tmp_path / "site", url, f"sqlite:///{tmp_path / 'state.db'}", both(*fakes))
    code, found, _ = checks(config)
    assert code == 1
    assert row(found, "site")["state"] == "fail" and "HTTP 404" in row(found, "site")["detail"]
    canonical = row(found, "canonical")
    assert canonical["state"] == "fail" and canonical["what"] == f"{url}/posts/hello/"


def test_a_newest_post_not_deployed_yet_warns_when_the_one_before_answers(
        tmp_path: Path, deployed: tuple[Path, str], fakes: Any, env: None) -> None:
    public, url = deployed
    deploy(public)
    config = make_site(tmp_path / "site", url, f"sqlite:///{tmp_path / 'state.db'}", both(*fakes))
    (tmp_path / "site" / "content" / "posts" / "newer.md").write_text(
        "---\ntitle: Newer\ndate: 2024-05-01\n---\n\nNot deployed yet.\n", encoding="utf-8")
    (tmp_path / "site" / "content" / "posts" / "draft.md").write_text(
        "---\ntitle: Draft\ndate: 2024-06-01\ndraft: true\n---\n\nNever.\n", encoding="utf-8")
    code, found, _ = checks(config)
    canonical = row(found, "canonical")
    assert canonical["state"] == "warn" and canonical["what"] == f"{url}/posts/newer/", canonical
    assert f"{url}/posts/hello/" in canonical["detail"]
    assert row(found, "images")["state"] == "skip"  # the newest post has none
    assert code == 0


def test_images_not_deployed_fail_for_a_platform_that_fetches_them_and_pass_for_one_that_uploads(
        tmp_path: Path, deployed: tuple[Path, str], fakes: Any, env: None) -> None:
    public, url = deployed
    deploy(public, images=False)
    devto, masto = fakes
    config = make_site(tmp_path / "site", url, f"sqlite:///{tmp_path / 'state.db'}", both(devto, masto))
    code, found, _ = checks(config)
    images = [c for c in found if c["check"] == "images"]
    assert code == 1 and len(images) == 2
    for image in images:
        assert image["state"] == "fail" and "devto fetches images by URL" in image["detail"], image
        assert "[media.rehost]" in image["fix"]
    config.write_text(config.read_text().split("[targets.devto]")[0]  # mastodon alone: it uploads the files
                      + f'[targets.mastodon]\nbase_url = "{masto.url}"\naccess_token = "${{MASTODON_ACCESS_TOKEN}}"\n',
                      encoding="utf-8")
    code, found, _ = checks(config)
    images = [c for c in found if c["check"] == "images"]
    assert code == 0 and {i["state"] for i in images} == {"ok"}
    assert all("upload it from" in i["detail"] for i in images), images


def test_images_not_deployed_are_rehosted_when_media_rehost_is_configured(
        tmp_path: Path, deployed: tuple[Path, str], fakes: Any, env: None) -> None:
    public, url = deployed
    deploy(public, images=False)
    bucket = FakeBucket("rehost-access")
    store = Server(handler=bucket)
    try:
        config = make_site(tmp_path / "site", url, f"sqlite:///{tmp_path / 'state.db'}", both(*fakes))
        rehost = (f'[media.rehost]\nendpoint = "{store.url("")}"\nbucket = "media"\naccess_key = "rehost-access"\n'
                  f'secret_key = "rehost-secret-value"\npublic_url = "{store.url("/public/media")}"\n\n')
        config.write_text(config.read_text().replace("[targets.devto]", rehost + "[targets.devto]"), encoding="utf-8")
        code, found, out = checks(config)
    finally:
        store.close()
    images = [c for c in found if c["check"] == "images"]
    assert code == 0, found
    assert len(images) == 2 and all("rehosted for devto at" in i["detail"] for i in images), images
    assert len(bucket.objects) == 2
    assert "rehost-secret-value" not in out


# --- every connector's credential check, through `doctor` ----------------------------------------------------------

_CONTRACTS = ["test_connector_contract", "test_bluesky", "test_discord", "test_hashnode", "test_linkedin",
              "test_medium", "test_micropub", "test_slack", "test_standard_site", "test_telegram", "test_threads",
              "test_x"]  # each module's ConnectorContract classes, against their fakes (the peers' are left out)


def _contract_classes() -> list[Any]:
    import importlib

    from syndicate.testing import ConnectorContract

    found = []
    for name in _CONTRACTS:
        module = importlib.import_module(f"tests.{name}")
        found += [v for v in vars(module).values()
                  if isinstance(v, type) and issubclass(v, ConnectorContract) and v is not ConnectorContract
                  and v.__module__ == module.__name__]
    return found


@pytest.mark.parametrize("contract", _contract_classes(), ids=lambda c: c.__name__)
def test_every_connector_s_credentials_are_checked_by_its_own_read(contract: Any, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    case = contract()
    dead = f"http://127.0.0.1:{unused_port()}"

    def report(wrong: bool) -> tuple[dict[str, str], str]:
        for key, value in {**case.env, **(case.wrong_env if wrong else {})}.items():
            monkeypatch.setenv(key, value)
        root = tmp_path / ("wrong" if wrong else "right")
        root.mkdir()
        lines = [f'[site]\nurl = "{dead}"\ncontent = ["content/**/*.md"]\n\n[state]\n'
                 f'url = "sqlite:///{root / "state.db"}"\n', "[targets.t]", f"type = {json.dumps(case.connector_type)}"]
        lines += [f"{k} = {json.dumps(v)}" for k, v in case.options(fake).items()]
        (root / "syndicate.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        code, found, out = checks(root / "syndicate.toml", "--timeout", "5")
        assert code == 1  # the site does not answer
        return row(found, "credentials", "t"), out

    with case.fake() as fake:
        right, out = report(wrong=False)
        assert right["state"] in ("ok", "skip"), right
        assert case.secret not in out
        if right["state"] == "skip":  # a credential that no read can prove (a Slack incoming webhook)
            assert "no read proves" in right["detail"]
            return
        assert right["detail"].startswith("accepted (")
        if case.wrong_env:
            wrong, out = report(wrong=True)
            assert wrong["state"] == "fail", wrong
            assert next(iter(case.wrong_env.values())) not in out
