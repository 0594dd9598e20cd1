"""docker-compose.yml is valid against the Compose specification's JSON schema."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.conftest import SHARED

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = SHARED / "specs" / "compose" / "compose-spec.json"


@pytest.mark.skipif(not SCHEMA.exists(), reason="../shared/specs not beside the repo")
def test_compose_file_matches_the_spec() -> None:
    import json

    schema = json.loads(SCHEMA.read_text())
    doc = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    jsonschema.validate(doc, schema)
    worker = doc["services"]["worker"]
    assert worker["environment"]["SYNDICATE_BROKER_URL"].startswith("redis://")
    assert {"redis", "postgres"} <= set(worker["depends_on"])
    webhook = doc["services"]["webhook"]
    assert webhook["command"][0] == "serve" and "--proxy-headers" in webhook["command"]
    # the worker runs the webhook's syncs: both see the one checkout in the data volume
    assert "data:/data" in webhook["volumes"] and "data:/data" in worker["volumes"]


def test_compose_schema_rejects_a_broken_file() -> None:
    import json

    if not SCHEMA.exists():
        pytest.skip("../shared/specs not beside the repo")
    schema = json.loads(SCHEMA.read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"services": {"worker": {"restart": 5, "bogus": True}}}, schema)


def test_the_site_is_mounted_read_only_and_state_lives_in_a_volume() -> None:
    import yaml

    compose = yaml.safe_load((Path(__file__).resolve().parents[1] / "docker-compose.yml").read_text(encoding="utf-8"))
    users = {name: svc for name, svc in compose["services"].items() if any(":/site" in v for v in svc.get("volumes", []))}
    assert {"worker", "watcher"} <= set(users)
    for name, svc in users.items():
        assert any(v.endswith(":/site:ro") for v in svc["volumes"]), name
        assert svc["environment"]["SYNDICATE_DATA"] == "/data", name
        assert any(v.endswith(":/data") for v in svc["volumes"]), name


def services() -> dict[str, dict[str, object]]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))["services"])


def test_a_plain_up_starts_no_service_that_needs_a_webhook_section() -> None:
    """`docker compose up` starts the services without a profile: `serve` exits 2 without [webhook] (issue 13.26)."""
    default = {name for name, svc in services().items() if not svc.get("profiles")}
    assert default == {"worker", "watcher", "redis", "postgres"}
    assert all(list(services()[name].get("command") or [])[:1] != ["serve"] for name in default)
    assert services()["webhook"]["profiles"] == ["webhook"]


def test_every_service_command_is_a_real_cli_command() -> None:
    """Each command the compose file gives the image's `syndicate` entry point parses, run with --help."""
    syndicate = Path(sys.executable).with_name("syndicate")
    ours = {name: svc for name, svc in services().items() if svc.get("build")}
    assert set(ours) == {"worker", "webhook", "watcher"}
    for name, svc in ours.items():
        command = [str(part) for part in svc["command"]]  # type: ignore[attr-defined]
        run = subprocess.run([str(syndicate), *command, "--help"], capture_output=True, text=True, timeout=60,
                             env={**os.environ, "COLUMNS": "200"})
        assert run.returncode == 0, (name, run.stdout, run.stderr)
        assert f"Usage: syndicate {command[0]}" in run.stdout, name
        bogus = subprocess.run([str(syndicate), *command, "--no-such-flag", "--help"], capture_output=True, text=True,
                               timeout=60)
        assert bogus.returncode == 2, name  # the check can fail: an unknown option is refused before --help
