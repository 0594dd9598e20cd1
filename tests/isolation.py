"""Keep the test session out of the real home folder and the developer's own `SYNDICATE_*` settings.

`isolate()` points HOME and the XDG folders at a fresh temporary folder for
the whole session (xdist workers and every subprocess inherit it), and drops
`SYNDICATE_*` variables that would send tests to a real data folder, ledger or
broker. `watched()` and `gained()` let the session check at its end that the
real home got nothing under syndicate's folders.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

XDG = {"XDG_STATE_HOME": ".local/state", "XDG_CACHE_HOME": ".cache", "XDG_CONFIG_HOME": ".config",
       "XDG_DATA_HOME": ".local/share"}
# the developer's own settings: each would point a test at a real folder, ledger, broker or site
CLEARED = ("SYNDICATE_DATA", "SYNDICATE_CONFIG", "SYNDICATE_STATE_URL", "SYNDICATE_BROKER_URL", "SYNDICATE_REDIS_URL")
GIT_IDENTITY = "[user]\n\tname = syndicate tests\n\temail = tests@syndicate.invalid\n"

Snapshot = dict[str, tuple[int, int]]  # path -> (size, mtime_ns)


@dataclass
class Isolation:
    run_dir: Path  # this session's scratch folder (the fake home is inside it)
    real_home: Path
    watched: list[Path]  # the real folders that must gain nothing
    before: Snapshot


def watched(home: Path, env: dict[str, str | None]) -> list[Path]:
    """Syndicate's folders in the real home (and under the XDG folders the developer set)."""
    folders = [home / rel / "syndicate" for rel in XDG.values()] + [home / ".syndicate"]
    folders += [Path(value) / "syndicate" for key, value in env.items() if key in XDG and value]
    return list(dict.fromkeys(folders))


def snapshot(folders: list[Path]) -> Snapshot:
    found: Snapshot = {}
    for folder in folders:
        for path in [folder, *folder.rglob("*")] if folder.exists() else []:
            try:
                st = path.lstat()
            except OSError:
                continue
            found[str(path)] = (st.st_size if path.is_file() else 0, st.st_mtime_ns if path.is_file() else 0)
    return found


def gained(before: Snapshot, after: Snapshot) -> list[str]:
    """Paths created or changed since `before`."""
    return sorted(path for path, stat in after.items() if before.get(path) != stat)


def isolate() -> Isolation:
    """Redirect HOME and XDG_* for this process and its children; remember the real ones for the peers."""
    outer: dict[str, str | None] = {key: os.environ.get(key) for key in ("HOME", *XDG)}
    real_home = Path(outer["HOME"] or Path.home())
    run_dir = Path(tempfile.mkdtemp(prefix="syndicate-tests-"))
    home = run_dir / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(GIT_IDENTITY)  # tests that commit do not rely on the machine's identity
    # and the project's own folders a test could write into (the example site, Hypothesis' cache)
    from tests.paths import ROOT

    folders = watched(real_home, outer) + [ROOT / "examples", ROOT / ".hypothesis"]
    os.environ.update({
        "SYNDICATE_TEST_OUTER_ENV": json.dumps(outer), "SYNDICATE_TEST_REAL_HOME": str(real_home),
        "SYNDICATE_TEST_RUN_DIR": str(run_dir), "HOME": str(home),
        **{key: str(home / rel) for key, rel in XDG.items()},
    })
    for key in CLEARED:
        os.environ.pop(key, None)
    return Isolation(run_dir=run_dir, real_home=real_home, watched=folders, before=snapshot(folders))
