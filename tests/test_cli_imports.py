"""A quick CLI (issue 17): a command imports only what it uses. `--help` lists the commands without the
config's models, the network, the database or the queue; `preview` of one post builds its requests
without the HTTP client, the database or the queue; `status` reads the ledger without the network or
the queue. Each command runs in a fresh interpreter, and the top-level packages it imported are read
from `sys.modules` as it exits (speed itself is measured by bench/bench_cli.py, never here)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, runpy, sys
out, sys.argv = sys.argv[1], ["syndicate", *sys.argv[2:]]
code = 0
try:
    runpy.run_module("syndicate.cli", run_name="__main__", alter_sys=True)
except SystemExit as exc:
    code = exc.code
with open(out, "w", encoding="utf-8") as f:
    json.dump({"code": code, "modules": sorted(sys.modules)}, f)
"""

NETWORK = {"httpx", "httpcore", "h11", "anyio", "certifi"}
SERVICES = {"sqlalchemy", "psycopg", "psycopg2", "alembic", "celery", "kombu", "redis", "boto3", "botocore"}
IMAGES = {"PIL"}


def imported(site: Path, *args: str) -> tuple[set[str], str]:
    """The top-level packages `syndicate ARGS` imported in a fresh interpreter, and what it printed."""
    modules, out = imported_modules(site, *args)
    return {name.split(".")[0] for name in modules}, out


def imported_modules(site: Path, *args: str) -> tuple[set[str], str]:
    """Every module `syndicate ARGS` imported in a fresh interpreter, and what it printed."""
    out = site / "imported.json"
    env = {k: v for k, v in os.environ.items() if k != "SYNDICATE_CONFIG"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    run = subprocess.run([sys.executable, "-c", PROBE, str(out), *args], cwd=site, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.exists(), run.stderr
    found = json.loads(out.read_text(encoding="utf-8"))
    assert found["code"] == 0, run.stdout + run.stderr
    return set(found["modules"]), run.stdout


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "content" / "posts").mkdir(parents=True)
    (tmp_path / "content" / "posts" / "hello.md").write_text(
        "---\ntitle: Hello\ndate: 2024-03-01\ntags: [python]\n---\n\nA first paragraph.\n", encoding="utf-8")
    (tmp_path / "syndicate.toml").write_text(
        '[site]\nurl = "https://blog.example"\ncontent = ["content/posts/*.md"]\n'
        '[targets.devto]\napi_key = "x"\n[targets.mastodon]\nbase_url = "https://m.invalid"\naccess_token = "y"\n',
        encoding="utf-8")
    # the Mastodon instance's facts, cached as a first push leaves them: a preview then sends nothing
    subprocess.run([sys.executable, "-c", """
from pathlib import Path
from syndicate.registry import load_config
from syndicate.state.ledger import open_ledger
open_ledger(load_config(Path("syndicate.toml"))).put_fact("mastodon https://m.invalid", {
    "max_characters": 500, "characters_reserved_per_url": 23, "max_media_attachments": 4,
    "image_size_limit": 16777216, "image_matrix_limit": 33177600, "description_limit": 1500,
    "supported_mime_types": None}, 3600)
"""], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    return tmp_path


def test_help_imports_neither_the_config_models_nor_the_network_nor_a_service(site: Path) -> None:
    packages, out = imported(site, "--help")
    assert "preview" in out and "status" in out and "doctor" in out
    assert {"typer", "rich", "syndicate"} <= packages  # the probe sees what was imported
    assert packages & (NETWORK | SERVICES | IMAGES | {"pydantic", "connectors", "markdown_it_pyrs", "yaml",
                                                      "frontmatter", "regex", "nh3"}) == set()


def test_a_command_s_own_help_is_as_light(site: Path) -> None:
    packages, out = imported(site, "preview", "--help")
    assert "--to" in out
    assert packages & (NETWORK | SERVICES | IMAGES | {"connectors", "yaml", "frontmatter"}) == set()


def test_preview_of_one_post_builds_its_requests_without_the_http_client_the_database_or_the_queue(
        site: Path) -> None:
    packages, out = imported(site, "preview", "content/posts/hello.md")
    assert "POST https://dev.to/api/articles" in out and "mastodon" in out  # both built, nothing sent
    assert {"pydantic", "connectors"} <= packages  # the config is validated; the connectors render
    assert packages & (NETWORK | SERVICES | IMAGES) == set()


def test_status_reads_the_ledger_without_the_network_or_the_queue(site: Path) -> None:
    packages, _out = imported(site, "status")
    assert "sqlalchemy" in packages  # the ledger is read
    assert packages & (NETWORK | IMAGES | {"celery", "kombu", "redis", "boto3", "botocore"}) == set()


# typer's pydantic adapters (typer._adapters, pydantic's TypeAdapter per parameter): syndicate.cli.coerce
# coerces a str or Path parameter without them, and a None value (an option not given) needs none
TYPER_ADAPTERS = {"typer._adapters"}


def test_help_and_a_preview_parse_their_arguments_without_typer_s_pydantic_adapters(site: Path) -> None:
    for args in (["--help"], ["preview", "--help"], ["preview", "--to", "devto", "content/posts/hello.md"],
                 ["status", "--config", "syndicate.toml"]):
        modules, out = imported_modules(site, *args)
        assert out and "typer" in modules  # the probe sees what was imported
        assert modules & TYPER_ADAPTERS == set(), args


def test_a_number_option_still_goes_through_typer_s_own_coercion(site: Path) -> None:
    """The other kinds are typer's as before: a port that is not a number is refused with typer's message."""
    env = {k: v for k, v in os.environ.items() if k != "SYNDICATE_CONFIG"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    run = subprocess.run([sys.executable, "-m", "syndicate.cli", "serve", "--port", "abc"], cwd=site, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "Invalid value for '--port'" in run.stderr and "valid integer" in run.stderr


def test_a_preview_for_x_counts_its_text_without_twitter_text(tmp_path: Path) -> None:
    """X's weighted length of a text whose only dotted words are plain URLs and sentence ends needs no
    twitter-text (its import compiles its URL and emoji patterns: most of a preview's time)."""
    (tmp_path / "content" / "posts").mkdir(parents=True)
    (tmp_path / "content" / "posts" / "hello.md").write_text(
        "---\ntitle: Hello\ndate: 2024-03-01\ntags: [python]\n---\n\nA first paragraph. A second one.\n",
        encoding="utf-8")
    (tmp_path / "syndicate.toml").write_text(
        '[site]\nurl = "https://blog.example.com"\ncontent = ["content/posts/*.md"]\n'
        '[targets.x]\napi_key = "a"\napi_secret = "b"\naccess_token = "c"\naccess_secret = "d"\n', encoding="utf-8")
    modules, out = imported_modules(tmp_path, "preview", "content/posts/hello.md")
    assert "POST https://api.x.com/2/tweets" in out and "https://blog.example.com/posts/hello/" in out
    assert {name.split(".")[0] for name in modules} & {"twitter_text", *NETWORK} == set()


def test_a_preview_without_credentials_imports_no_http_client(tmp_path: Path) -> None:
    """An instance's facts cannot be asked for without its token: that is known before the client is imported."""
    (tmp_path / "content" / "posts").mkdir(parents=True)
    (tmp_path / "content" / "posts" / "hello.md").write_text(
        "---\ntitle: Hello\ndate: 2024-03-01\n---\n\nA first paragraph.\n", encoding="utf-8")
    (tmp_path / ".syndicate").mkdir()
    (tmp_path / "syndicate.toml").write_text(
        '[site]\nurl = "https://blog.example.com"\ncontent = ["content/posts/*.md"]\n'
        '[targets.mastodon]\nbase_url = "https://m.invalid"\n', encoding="utf-8")
    packages, out = imported(tmp_path, "preview", "content/posts/hello.md")
    assert "instance limits unknown" in out and "no access_token configured" in out
    assert packages & NETWORK == set()


def test_a_command_named_is_built_alone_and_a_mistyped_one_still_gets_its_suggestion(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """main() hands typer only the command named (typer builds every registered command's parameters on each
    run): the app keeps all its commands afterwards, and a name that is none of them still gets a suggestion."""
    from syndicate.cli import app, main

    before = list(app.registered_commands)
    for argv, code in ((["syndicate", "preview", "--help"], 0), (["syndicate", "prevew"], 2)):
        monkeypatch.setattr(sys, "argv", argv)
        with pytest.raises(SystemExit) as stop:
            main()
        assert stop.value.code == code
        assert app.registered_commands == before
    out = capsys.readouterr()
    assert "--to" in out.out and "Did you mean 'preview'" in out.err
