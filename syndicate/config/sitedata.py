"""A site's name in the ledger and its own data folder (`[state] site`, else from `[site] url`).

Two sites on one machine never share a data folder by default: the folder
under `$XDG_STATE_HOME/syndicate/` is named after the site. A ledger an older
version kept there for every site stays with the first site that opens it.
"""
from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit


def site_key(url: str) -> str:
    """A site's name in the ledger and its data folder: the URL's host (lowercase, with a port) and path.

    The scheme is left out, so moving a site from http to https keeps its rows.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower() + (f":{parts.port}" if parts.port else "")
    return host + parts.path.rstrip("/")


def site_folder(site: str) -> str:
    """A folder name for `site`: readable, plus a short hash so two sites never share one."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", site).strip("-.")[:64] or "site"
    return f"{readable}-{hashlib.sha256(site.encode()).hexdigest()[:8]}"



def legacy_is_ours(db: Path, site: str) -> bool:
    """Whether the ledger an older version kept for every site in one folder is (or may become) `site`'s.

    It is, until a site has claimed it: its rows belong to the first site that opens it.
    """
    if not db.is_file():
        return False
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sites'").fetchone():
                return True
            members = [m for (m,) in conn.execute("SELECT site FROM sites")]
        finally:
            conn.close()
    except sqlite3.Error:
        return True  # unreadable now: opening it says why, where a new empty ledger would resend every post
    return not members or site in members
