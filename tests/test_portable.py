"""No file names this machine: ../shared and the data folders are found relative to the project (issue 13.12)."""
from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.paths import ROOT, SHARED

SKIP_DIRS = {".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis",
             "build", "dist", "node_modules", ".syndicate"}
# a home folder or the workplace's folder, written out (home/NAME, Users/NAME, root, work at the root)
GENERIC = r"/(?:home/[\w.-]+|Users/[\w.-]+|root|work)/"
START = r"(?<![\w.~/:-])"  # an absolute path starts here: not a relative `../work`, not a URL's path


def project_files() -> Iterator[Path]:
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")]
        for name in files:
            if name != ".git":  # a worktree's pointer to its repository, written by git
                yield Path(folder) / name


def machine_paths() -> list[str]:
    """This checkout's own absolute folders: where the project, ../shared and the real home are."""
    real_home = os.environ.get("SYNDICATE_TEST_REAL_HOME", str(Path.home()))
    # a clone in a temporary folder (mktemp -d): its parent is the system's /tmp, which any file may name
    common = {"/", "/tmp", "/var/tmp", os.path.realpath(tempfile.gettempdir())}
    folders = (ROOT, ROOT.parent, SHARED, Path(real_home))
    return sorted({str(p) + "/" for p in folders if str(p) not in common and os.path.realpath(p) not in common},
                  key=len)


def offenders(files: Iterator[Path], exact: list[str], root: Path = ROOT) -> list[str]:
    pattern = re.compile(START + "(?:" + "|".join([GENERIC, *map(re.escape, exact)]) + ")")
    found = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary (images, golden bytes)
        for n, line in enumerate(text.splitlines(), 1):
            if pattern.search(line):
                found.append(f"{path.relative_to(root)}:{n}: {line.strip()[:120]}")
    return found


def test_no_file_names_an_absolute_machine_path() -> None:
    assert offenders(project_files(), machine_paths()) == []


def test_the_check_finds_one(tmp_path: Path) -> None:
    s = "/"  # split, so that this file does not name them itself
    cases = {
        "spec.py": f'SPEC = Path("{s}work/shared/specs/forem/api_v1.json")\n',
        "home.md": f"run it from {s}home/alice/src/syndicate\n",
        "mac.toml": f'dir = "{s}Users/bob/blog/.syndicate"\n',
        "root.sh": f"cat {s}root/.cache/syndicate-peers/ghost.last-run\n",
        "here.py": f'X = "{ROOT}/elsewhere"\n',
        "fine.py": 'URL = "https://example.org/root/"\nP = ROOT.parent / "shared"\nT = "/tmp/site"\nR = "../work/x"\n',
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    found = offenders(iter(sorted(tmp_path.iterdir())), machine_paths(), root=tmp_path)
    assert [line.split(":")[0] for line in found] == ["here.py", "home.md", "mac.toml", "root.sh", "spec.py"]
