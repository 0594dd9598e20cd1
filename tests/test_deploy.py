"""Docker, as documented (issue 16): the Dockerfile, `.env.example` and the README's "Deploy" section.

The Dockerfile is read with a Dockerfile parser (instructions, not strings);
every `syndicate` command the image, the README's steps or its GitHub Actions
example runs is run with `--help` through the installed CLI, and the workflow
validates against the GitHub Actions workflow schema (SchemaStore's, as
check-jsonschema vendors it).
"""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from dockerfile_parse import DockerfileParser

from tests.paths import ROOT
from tests.test_compose import PROFILES, interpolate, raw, services

SYNDICATE = Path(sys.executable).with_name("syndicate")
COMPOSE_SETTINGS = {"SITE_DIR", "SERVE_PORT"}  # not secrets: the example gives a value
PLACEHOLDERS = {"VAR", "ENV", "ENV_VAR", "NAME"}  # `${VAR}` in prose about the syntax


def help_of(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SYNDICATE), *argv, "--help"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COLUMNS": "200"})


def assert_real(argv: list[str], where: str) -> None:
    run = help_of(argv)
    assert run.returncode == 0, (where, argv, run.stdout, run.stderr)
    assert f"Usage: syndicate {argv[0]}" in run.stdout, (where, argv)


# --- the Dockerfile ------------------------------------------------------------------------------------------


def instructions() -> list[dict[str, Any]]:
    parser = DockerfileParser(path=str(ROOT / "Dockerfile"), cache_content=True)
    return list(parser.structure)


def named(kind: str) -> list[str]:
    return [i["value"] for i in instructions() if i["instruction"] == kind]


def shell_commands(run: str) -> list[list[str]]:
    """A RUN's shell line as its commands (split on && ; ||)."""
    out: list[list[str]] = [[]]
    for token in shlex.split(run.replace("\\\n", " "), comments=True):
        if token in ("&&", ";", "||", "|"):
            out.append([])
        else:
            out[-1].append(token)
    return [c for c in out if c]


def exec_form(value: str) -> list[str]:
    parsed = json.loads(value)
    assert isinstance(parsed, list) and all(isinstance(p, str) for p in parsed), value
    return parsed


def test_the_parser_reads_this_dockerfile() -> None:
    kinds = [i["instruction"] for i in instructions()]
    assert kinds.count("FROM") == 1 and {"RUN", "USER", "HEALTHCHECK", "ENTRYPOINT", "CMD"} <= set(kinds)


def test_a_slim_python_base_at_the_python_the_project_requires() -> None:
    (base,) = named("FROM")
    match = re.fullmatch(r"python:3\.(\d+)-slim(?:-\w+)?", base)
    assert match, f"FROM {base}: a python:3.X-slim image"
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    assert int(match.group(1)) >= int(re.search(r"3\.(\d+)", requires).group(1))  # type: ignore[union-attr]


def test_git_is_installed_without_recommends_and_the_lists_are_dropped() -> None:
    for run in named("RUN"):
        commands = shell_commands(run)
        installs = [c for c in commands if c[:2] == ["apt-get", "install"]]
        if installs:
            (install,) = installs
            packages = {t for t in install[2:] if not t.startswith("-")}
            assert "git" in packages, install
            assert "--no-install-recommends" in install
            assert ["rm", "-rf", "/var/lib/apt/lists/*"] in commands  # kept slim: no package lists in the layer
            return
    pytest.fail("no RUN apt-get install")


def test_it_runs_as_a_user_of_its_own() -> None:
    structure = instructions()
    users = [i for i in structure if i["instruction"] == "USER"]
    assert users, "no USER: the image would run as root"
    user = users[-1]["value"].split(":")[0]
    assert user not in ("root", "0")
    made = [c for run in named("RUN") for c in shell_commands(run) if c[0] == "useradd"]
    assert made and made[0][-1] == user, made  # the user exists
    last_run = max(i["startline"] for i in structure if i["instruction"] == "RUN")
    assert users[-1]["startline"] > last_run  # nothing after it is done as root
    assert any(c[:2] == ["chown", user] and "/data" in c for run in named("RUN") for c in shell_commands(run))


def test_the_healthcheck_and_the_default_command_are_real_cli_commands() -> None:
    (check,) = named("HEALTHCHECK")
    options, _, command = check.partition("CMD")
    assert "--interval=" in options and "--timeout=" in options and "--retries=" in options
    argv = exec_form(command.strip())
    assert argv[0] == "syndicate", argv
    assert_real(argv[1:], "HEALTHCHECK")
    (entrypoint,) = named("ENTRYPOINT")
    assert exec_form(entrypoint) == ["syndicate"]
    (cmd,) = named("CMD")
    default = exec_form(cmd)
    assert_real(default, "CMD")
    assert default[0] == "worker" and "--worker" in argv  # the default container is a worker: checked as one
    assert ["SYNDICATE_DATA=/data"] == [v for v in named("ENV") if v.startswith("SYNDICATE_DATA")]


def test_the_build_context_leaves_out_secrets_and_the_virtualenv() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".env", ".venv", ".git"} <= set(ignored)
    copied = {v.split()[0] for v in named("COPY")} | {p for v in named("COPY") for p in v.split()[:-1]}
    assert {"syndicate", "connectors", "pyproject.toml"} <= copied


# --- .env.example ----------------------------------------------------------------------------------------------


def env_example() -> dict[str, str]:
    found: dict[str, str] = {}
    for number, line in enumerate((ROOT / ".env.example").read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Z][A-Z0-9_]*", name), f".env.example:{number}: {line!r}"
        assert name not in found, f".env.example:{number}: {name} twice"
        found[name] = value
    return found


def referenced() -> dict[str, str]:
    """Every `${NAME}` the docs, the example config and the connectors tell a user to set, and where."""
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "examples").rglob("*.toml")),
             *sorted((ROOT / "connectors").rglob("*.py"))]
    names: dict[str, str] = {}
    for path in files:
        for name in re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", path.read_text(encoding="utf-8")):
            names.setdefault(name, str(path.relative_to(ROOT)))
    return {n: w for n, w in names.items() if n not in PLACEHOLDERS}


def test_env_example_lists_every_credential_the_docs_and_connectors_name() -> None:
    names = referenced()
    assert len(names) >= 20  # the check can fail: it found the connectors' variables
    missing = {n: where for n, where in names.items() if n not in env_example()}
    assert not missing, f"not in .env.example: {missing}"


def test_every_connector_has_its_credentials_in_env_example() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    connectors = set(project["project"]["entry-points"]["syndicate.connectors"])
    example = tomllib.loads((ROOT / "examples" / "syndicate.toml").read_text(encoding="utf-8"))
    by_type = {t.get("type", name): t for name, t in example["targets"].items()}
    assert connectors <= set(by_type), f"connectors missing from examples/syndicate.toml: {connectors - set(by_type)}"
    keys = env_example()
    for name in connectors:
        needed = re.findall(r"\$\{(\w+)\}", json.dumps(by_type[name]))
        assert needed and set(needed) <= set(keys), (name, needed)


def test_env_example_holds_no_values_but_the_compose_settings() -> None:
    keys = env_example()
    filled = {k for k, v in keys.items() if v}
    assert filled == COMPOSE_SETTINGS
    assert "COMPOSE_PROFILES" in keys  # documented there, left empty: the steps name their profile
    used = set(re.findall(r"\$\{(\w+)", (ROOT / "docker-compose.yml").read_text(encoding="utf-8")))
    assert used <= set(keys), used - set(keys)
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    # the example's values, once the password is set, give a file Compose accepts
    interpolate(raw(), {**keys, "POSTGRES_PASSWORD": "x"})


# --- the README's Deploy section --------------------------------------------------------------------------------


def deploy() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## Deploy\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", deploy(), re.MULTILINE | re.DOTALL)


def command_lines() -> list[list[str]]:
    lines = []
    for block in blocks("sh"):
        for line in block.replace("\\\n", " ").splitlines():
            lines += shell_commands(line)
    return lines


def syndicate_argv(command: list[str]) -> list[str] | None:
    """What a command line runs as `syndicate ARGS`: directly, in `docker compose run` or `docker run`."""
    if command[0] == "syndicate":
        return command[1:]
    if command[:3] == ["docker", "compose", "--profile"] and "run" in command:
        rest = command[command.index("run") + 1:]
        while rest and rest[0].startswith("-"):
            rest = rest[1:]
        assert rest and rest[0] in services(), command
        return rest[1:]
    if command[:2] == ["docker", "run"] and "syndicate:local" in command:
        return command[command.index("syndicate:local") + 1:]
    return None


def test_deploy_has_the_four_ways() -> None:
    headings = re.findall(r"^### (.+)$", deploy(), re.MULTILINE)
    assert headings == ["The CLI only", "The watcher on a server", "A webhook on a server",
                        "A cron `watch --once` in CI"]


def test_every_syndicate_command_in_deploy_is_real() -> None:
    argvs = [a for a in map(syndicate_argv, command_lines()) if a is not None]
    assert len(argvs) >= 8
    assert {a[0] for a in argvs} >= {"push", "baseline", "status", "watch"}
    for argv in argvs:
        assert_real(argv, "README Deploy")


def test_the_compose_commands_name_real_profiles_and_services() -> None:
    composes = [c for c in command_lines() if c[:2] == ["docker", "compose"]]
    assert len(composes) >= 5
    for command in composes:
        profile = command[command.index("--profile") + 1]
        assert profile in PROFILES, command
        if "run" in command:  # a service the profile starts
            service = next(t for t in command[command.index("run") + 1:] if not t.startswith("-"))
            assert profile in services()[service]["profiles"], command


def workflow_schema() -> dict[str, Any]:
    vendored = resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("github-workflows.json")
    return dict(json.loads(vendored.read_text(encoding="utf-8")))


def test_the_github_actions_example_is_a_valid_workflow_that_runs_watch_once() -> None:
    (block,) = blocks("yaml")
    workflow = yaml.safe_load(block)
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as true
    schema = workflow_schema()
    jsonschema.Draft7Validator(schema).validate(workflow)
    with pytest.raises(jsonschema.ValidationError):  # the schema does check: a job needs runs-on
        jsonschema.Draft7Validator(schema).validate({**workflow, "jobs": {"x": {"steps": [{"run": "true"}]}}})
    (job,) = workflow["jobs"].values()
    runs = [step for step in job["steps"] if "run" in step]
    ours = [step for step in runs if step["run"].startswith("syndicate ")]
    assert [shlex.split(s["run"])[1:3] for s in ours] == [["watch", "--once"]]
    for step in ours:
        assert_real(shlex.split(step["run"])[1:], "workflow")
        env = step["env"]
        assert all(re.fullmatch(r"\$\{\{ secrets\.\w+ \}\}", v) for v in env.values()), env  # never a value
        assert set(env) - {"SYNDICATE_STATE_URL"} <= set(env_example())
        assert "SYNDICATE_STATE_URL" in env  # the ledger outlives the runner
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert {"push", "schedule"} <= set(workflow["on"])
