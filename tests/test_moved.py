"""Module paths from before the re-layout keep working, with a DeprecationWarning naming the new path."""
from __future__ import annotations

import subprocess
import sys

import pytest

from syndicate._moved import MOVED, new_name


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-W", "always::DeprecationWarning", "-c", code],
                          capture_output=True, text=True, timeout=120)


def test_an_old_path_is_the_same_module_and_says_where_it_went() -> None:
    done = run("import syndicate.tasks as old, syndicate.engine.tasks as new; "
               "from syndicate.markdown.document import Document; "
               "from syndicate.content.markdown.document import Document as D; "
               "print(old is new, old.app is new.app, Document is D)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "True"]
    assert "syndicate.tasks moved to syndicate.engine.tasks" in done.stderr
    assert "syndicate.markdown.document moved to syndicate.content.markdown.document" in done.stderr


def test_a_new_path_says_nothing() -> None:
    done = run("import syndicate.engine.tasks, syndicate.content.post, syndicate.state.ledger")
    assert done.returncode == 0 and "DeprecationWarning" not in done.stderr, done.stderr


@pytest.mark.parametrize("old", sorted(MOVED))
def test_every_old_path_names_a_module_that_exists(old: str) -> None:
    import importlib.util

    new = new_name(old)
    assert new is not None and importlib.util.find_spec(new) is not None, f"{old} -> {new}"


def test_an_unknown_name_is_still_an_import_error() -> None:
    done = run("import syndicate.nothing_here")
    assert done.returncode == 1 and "ModuleNotFoundError" in done.stderr
    assert new_name("syndicate.nothing_here") is None and new_name("syndicate.webhook_body") == (
        "syndicate.triggers.webhook.body")
