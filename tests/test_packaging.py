"""Installing the project is quiet: setuptools builds its metadata without a warning (issue 13.14)."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.paths import ROOT

BUILD = """
import sys, warnings
warnings.simplefilter("always")
from setuptools import build_meta
name = build_meta.prepare_metadata_for_build_wheel(sys.argv[1])
print(name)
"""


def test_the_build_backend_reads_pyproject_without_a_warning(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, project / name)
    for package in ("syndicate", "connectors"):
        shutil.copytree(ROOT / package, project / package, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "metadata"
    out.mkdir()
    run = subprocess.run([sys.executable, "-c", BUILD, str(out)], cwd=project, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert "Warning" not in run.stderr and "deprecated" not in run.stderr, run.stderr
    metadata = (out / run.stdout.strip().splitlines()[-1] / "METADATA").read_text(encoding="utf-8")
    assert "License-Expression: MIT" in metadata.splitlines()


def test_the_license_is_an_spdx_string_the_build_backend_accepts() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert data["project"]["license"] == "MIT"
    assert "setuptools>=77" in data["build-system"]["requires"][0]


def test_x_counting_imports_cleanly_with_the_installed_setuptools() -> None:
    """twitter-text-parser needs pkg_resources (gone in setuptools 82; a visible warning from 80.9)."""
    run = subprocess.run([sys.executable, "-c", "import twitter_text; print(twitter_text.parse_tweet('日本').weightedLength)"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "4" and run.stderr == ""
