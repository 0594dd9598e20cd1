"""Tests stay out of the real home folder (issue 13.13): a temporary HOME for the session, checked at its end."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from syndicate.registry import load_config
from tests import isolation
from tests.paths import ROOT


def real_home() -> Path:
    return Path(os.environ["SYNDICATE_TEST_REAL_HOME"])


def test_the_session_runs_in_a_temporary_home() -> None:
    run_dir = Path(os.environ["SYNDICATE_TEST_RUN_DIR"])
    assert Path.home() == run_dir / "home" != real_home()
    assert Path(os.path.expanduser("~")) == Path.home()
    for key, rel in isolation.XDG.items():
        assert Path(os.environ[key]) == Path.home() / rel
    assert not [key for key in isolation.CLEARED if key in os.environ]


def test_a_read_only_site_keeps_its_data_in_the_session_home(tmp_path: Path) -> None:
    """The fallback data folder (site not writable, no [state] dir) lands in the temporary home."""
    config = tmp_path / "syndicate.toml"
    config.write_text('[site]\nurl = "https://blog.example"\n', encoding="utf-8")
    loaded = load_config(config, is_writable=lambda folder: False)
    assert loaded.data_dir.is_relative_to(Path.home() / ".local" / "state" / "syndicate")
    assert not loaded.data_dir.is_relative_to(real_home())


def test_a_subprocess_inherits_the_temporary_home() -> None:
    out = subprocess.run([sys.executable, "-c", "import pathlib; print(pathlib.Path.home())"],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout.strip()
    assert Path(out) == Path.home()


def test_the_end_of_session_check_sees_what_a_test_wrote(tmp_path: Path) -> None:
    home = tmp_path / "realhome"
    (home / ".local" / "state" / "syndicate" / "media").mkdir(parents=True)
    (home / ".local" / "state" / "syndicate" / "media" / "old.fit").write_bytes(b"old")
    (home / ".npm").mkdir()
    folders = isolation.watched(home, {"XDG_STATE_HOME": None, "XDG_CACHE_HOME": str(tmp_path / "xdgcache")})
    before = isolation.snapshot(folders)
    assert isolation.gained(before, isolation.snapshot(folders)) == []
    (home / ".npm" / "cache").write_text("not ours")  # outside syndicate's folders: allowed
    (home / ".local" / "state" / "syndicate" / "media" / "ab").mkdir()
    (home / ".local" / "state" / "syndicate" / "media" / "ab" / "new.fit").write_bytes(b"new")
    (tmp_path / "xdgcache" / "syndicate").mkdir(parents=True)
    (home / ".local" / "state" / "syndicate" / "media" / "old.fit").write_bytes(b"changed")
    written = isolation.gained(before, isolation.snapshot(folders))
    media = home / ".local" / "state" / "syndicate" / "media"
    assert written == sorted([str(media / "ab"), str(media / "ab" / "new.fit"), str(media / "old.fit"),
                              str(tmp_path / "xdgcache" / "syndicate")])
