"""The documentation a user reads stays true: the config reference is the schema's, the README names every command."""
from __future__ import annotations

from pathlib import Path

from syndicate.cli import app
from syndicate.registry import reference

ROOT = Path(__file__).resolve().parents[1]


def test_the_config_reference_is_generated_from_the_schema() -> None:
    on_disk = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    assert on_disk == reference(), "regenerate: python -c 'from syndicate.config import reference; print(reference(), end=\"\")' > docs/config.md"


def test_the_readme_starts_with_the_two_commands_and_names_every_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    head = readme.split("\n## ")[0]
    assert "./dev demo" in head and "./dev test" in head
    for command in app.registered_commands:
        name = command.name or (command.callback.__name__ if command.callback else "")
        assert f"syndicate {name}" in readme, f"the README does not mention `syndicate {name}`"
