"""A webhook repository's name and its key in the ledger's `syncs` table.

Apart from `syndicate.triggers.gitsync` (which re-exports them) so that a worker can ask
for a sync (`[site] write_back`) without importing the sync and its planner.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from syndicate.config.schema import WebhookOptions


def repo_name(repo: str) -> str:
    """The host's full name for a repository URL or path: https://github.com/me/blog.git -> me/blog."""
    text = repo.rstrip("/")
    if "://" in text:
        text = urlsplit(text).path
    elif re.match(r"^[\w.-]+@[\w.-]+:", text):  # scp-like ssh: git@github.com:me/blog.git
        text = text.split(":", 1)[1]
    parts = [p for p in text.split("/") if p]
    if parts and parts[-1].endswith(".git"):
        parts[-1] = parts[-1][:-4]
    return "/".join(parts[-2:])


def repo_key(hook: WebhookOptions) -> str:
    """The repository's key in the ledger's `syncs` table."""
    return (hook.name or repo_name(hook.repo))[:300]
