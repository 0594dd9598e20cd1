"""docker-compose.yml (issue 16): valid against the Compose specification, and every command it runs is real.

The file is read as Compose reads it: YAML merge keys resolved, then `${VAR}`,
`${VAR:-default}` and `${VAR:?message}` interpolated from an environment.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.paths import ROOT, SHARED

SCHEMA = SHARED / "specs" / "compose" / "compose-spec.json"
SYNDICATE = Path(sys.executable).with_name("syndicate")
ENV = {"POSTGRES_PASSWORD": "example", "SITE_DIR": "/srv/site"}
PROFILES = {"watcher", "webhook", "worker"}
OURS = {"worker", "beat", "watcher", "serve"}  # built from this repository: the entry point is `syndicate`


class Unset(Exception):
    pass


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Compose's interpolation, for the forms this file uses ($$ is a literal $)."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name, op, arg = m.group("name"), m.group("op"), m.group("arg") or ""
        got = env.get(name, "")
        if op == ":-":
            return got or arg
        if op == ":?" and not got:
            raise Unset(f"{name}: {arg}")
        return got

    return re.sub(r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}", one, value)


def raw() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8")))


def compose(env: Mapping[str, str] = ENV) -> dict[str, Any]:
    return dict(interpolate(raw(), env))


def services() -> dict[str, dict[str, Any]]:
    return dict(compose()["services"])


def spec() -> dict[str, Any]:
    if not SCHEMA.exists():
        pytest.skip("../shared/specs not beside the repo")
    return dict(json.loads(SCHEMA.read_text(encoding="utf-8")))


def validate(doc: Any, schema: dict[str, Any]) -> None:
    """The spec is draft-07 (its `$schema` URL lacks the trailing `#` that jsonschema looks up)."""
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(doc)


def test_the_compose_file_matches_the_spec_as_written_and_as_interpolated() -> None:
    schema = spec()
    validate(raw(), schema)
    validate(compose(), schema)


def test_the_spec_rejects_a_broken_file() -> None:
    schema = spec()
    broken = compose()
    broken["services"]["worker"]["restart"] = 5
    with pytest.raises(jsonschema.ValidationError):
        validate(broken, schema)
    broken = compose()
    broken["services"]["worker"]["depends_on"]["redis"]["condition"] = "service_ready"
    with pytest.raises(jsonschema.ValidationError):
        validate(broken, schema)


def test_secrets_come_from_the_env_file_and_a_missing_password_is_refused() -> None:
    doc = raw()
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert "POSTGRES_PASSWORD: syndicate" not in text and "syndicate:syndicate@" not in text
    for name in OURS:
        assert doc["services"][name]["env_file"] == ".env", name
    with pytest.raises(Unset, match="POSTGRES_PASSWORD: set POSTGRES_PASSWORD in .env"):
        compose({})
    state = services()["worker"]["environment"]["SYNDICATE_STATE_URL"]
    assert state == "postgresql://syndicate:example@postgres:5432/syndicate"
    assert services()["postgres"]["environment"]["POSTGRES_PASSWORD"] == "example"


def enabled(profiles: set[str]) -> set[str]:
    return {name for name, svc in services().items() if not svc.get("profiles") or profiles & set(svc["profiles"])}


def test_profiles_start_only_what_a_user_uses() -> None:
    assert all(svc.get("profiles") for svc in services().values())  # a plain `up` with no profile starts nothing
    assert enabled(set()) == set()
    assert enabled({"watcher"}) == {"watcher", "worker", "beat", "redis", "postgres"}
    assert enabled({"webhook"}) == {"serve", "worker", "beat", "redis", "postgres"}
    assert enabled({"worker"}) == {"worker", "beat", "redis", "postgres"}
    assert {p for svc in services().values() for p in svc["profiles"]} == PROFILES
    for profile in PROFILES:  # a dependency outside the profile would not be started by it
        on = enabled({profile})
        for name in on:
            assert set(services()[name].get("depends_on", {})) <= on, (profile, name)


def test_services_restart_check_their_health_and_wait_for_what_they_need() -> None:
    svcs = services()
    assert set(svcs) == OURS | {"redis", "postgres"}
    for name, svc in svcs.items():
        assert svc["restart"] == "unless-stopped", name
        test = svc["healthcheck"]["test"]
        assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, name
    for name in OURS:
        deps = svcs[name]["depends_on"]
        assert {"redis", "postgres"} <= set(deps), name
        for dep, how in deps.items():
            assert how["condition"] == "service_healthy", (name, dep)
            assert "healthcheck" in svcs[dep], (name, dep)  # service_healthy needs one
    assert svcs["watcher"]["depends_on"]["worker"] and svcs["serve"]["depends_on"]["worker"]


def test_redis_is_append_only_and_worker_and_beat_are_separate() -> None:
    svcs = services()
    redis = svcs["redis"]["command"]
    assert redis[0] == "redis-server" and redis[redis.index("--appendonly") + 1] == "yes"
    assert any(v.endswith(":/data") for v in svcs["redis"]["volumes"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in svcs["postgres"]["volumes"])
    assert svcs["worker"]["command"][0] == "worker"
    assert not {"--beat", "-B"} & set(svcs["worker"]["command"])
    assert svcs["beat"]["command"] == ["beat"]
    assert [n for n, s in svcs.items() if s.get("command", [None])[0] == "beat"] == ["beat"]  # exactly one beat
    assert svcs["serve"]["command"][0] == "serve" and "--proxy-headers" in svcs["serve"]["command"]
    assert svcs["watcher"]["command"][0] == "watch"


def test_the_site_is_mounted_read_only_and_state_lives_in_a_volume() -> None:
    for name in OURS:
        svc = services()[name]
        assert "/srv/site:/site:ro" in svc["volumes"], name
        assert "data:/data" in svc["volumes"], name  # the worker runs the webhook's syncs: one checkout
        assert svc["environment"]["SYNDICATE_DATA"] == "/data", name
        assert svc["environment"]["SYNDICATE_CONFIG"] == "/site/syndicate.toml", name
        assert svc["build"] == "." and svc["image"] == "syndicate:local", name
    # SITE_DIR's default: the example site
    assert compose({"POSTGRES_PASSWORD": "x"})["services"]["watcher"]["volumes"][0] == "./examples:/site:ro"


def syndicate_commands() -> list[tuple[str, list[str]]]:
    """(where, argv after `syndicate`) for each command and healthcheck that runs syndicate."""
    found = []
    for name, svc in services().items():
        if name in OURS:
            found.append((f"{name}.command", [str(p) for p in svc["command"]]))
        test = [str(p) for p in svc["healthcheck"]["test"]]
        if test[0] == "CMD" and test[1] == "syndicate":
            found.append((f"{name}.healthcheck", test[2:]))
    return found


def help_of(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SYNDICATE), *argv, "--help"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COLUMNS": "200"})


def test_every_command_and_healthcheck_is_a_real_cli_command() -> None:
    found = syndicate_commands()
    assert {where for where, _ in found} >= {f"{n}.command" for n in OURS} | {"worker.healthcheck",
                                                                                "beat.healthcheck"}
    for where, argv in found:
        run = help_of(argv)
        assert run.returncode == 0, (where, run.stdout, run.stderr)
        assert f"Usage: syndicate {argv[0]}" in run.stdout, where
        bogus = help_of([*argv, "--no-such-flag"])
        assert bogus.returncode == 2, where  # the check can fail: an unknown option is refused before --help


def test_the_serve_healthcheck_asks_healthz_on_the_port_it_listens_on() -> None:
    svc = services()["serve"]
    command = svc["command"]
    port = command[command.index("--port") + 1]
    probe = svc["healthcheck"]["test"][-1]
    assert f"http://127.0.0.1:{port}/healthz" in probe
    assert svc["ports"] == [f"8080:{port}"]
    assert command[command.index("--host") + 1] == "0.0.0.0"  # reachable from the published port
