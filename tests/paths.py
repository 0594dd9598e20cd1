"""Where the project and `../shared` are: found from this file, never from a machine's absolute path."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the project (a clone, or a worktree)
SHARED = ROOT.parent / "shared"  # specs, peers, corpus: beside the project, as the README says
