"""A worker that started without a usable config: its first task loads the config, or fails saying why.

`celery -A syndicate.engine.tasks worker` looks for the config when the module is imported; a config
missing or broken then is only a warning, and the first task looks again. That second look took the
module's lock while already holding it (a worker whose every task hung, silently, with its message
unacknowledged): each case runs in a process of its own, with a deadline a hang would hit.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.harness import ROOT, write_config, write_site

FIRST_TASK = """
import os, sys
from syndicate.engine import tasks  # nothing to find here: the import only warns
assert "config" not in tasks._shared
os.environ["SYNDICATE_CONFIG"] = sys.argv[1]
try:
    syn = tasks.syndicator()  # what the first task does
except Exception as exc:
    print("error:", type(exc).__name__, exc)
else:
    print("loaded:", sorted(syn.config.targets))
"""


def first_task(tmp_path: Path, config: Path) -> subprocess.CompletedProcess[str]:
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "SYNDICATE_CONFIG"}
    env.update(PYTHONPATH=str(ROOT), SYNDICATE_DATA=str(tmp_path / "data"), DEVTO_API_KEY="k")
    return subprocess.run([sys.executable, "-c", FIRST_TASK, str(config)], cwd=empty, env=env, capture_output=True,
                          text=True, timeout=120)  # a hang fails here; the process takes about a second


def test_the_first_task_loads_the_config_the_import_could_not_find(tmp_path: Path) -> None:
    site = tmp_path / "site"  # not above the folder the worker starts in: the import finds no config
    write_site(site, 1)
    config = write_config(site, ["[targets.devto]", 'api_key = "${DEVTO_API_KEY}"'],
                          state_url=f"sqlite:///{tmp_path / 'state.db'}")
    done = first_task(tmp_path, config)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "loaded: ['devto']" in done.stdout, done.stdout + done.stderr[-2000:]


def test_a_config_still_broken_at_the_first_task_is_an_error_naming_it(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_site(site, 1)
    config = write_config(site, ["[targets.devto]", 'api_key = "${DEVTO_API_KEY}"', "bogus_key = 1"],
                          state_url=f"sqlite:///{tmp_path / 'state.db'}")
    config.write_text(config.read_text().replace("[site]", "[site]\npermalink_typo = 3", 1))
    done = first_task(tmp_path, config)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "error: ConfigError" in done.stdout and "permalink_typo" in done.stdout, done.stdout
