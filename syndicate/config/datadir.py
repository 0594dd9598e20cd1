"""The data folder (the ledger, the media cache, the webhook's checkout): where it is, and made."""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from syndicate.config.schema import StateOptions
from syndicate.config.sitedata import legacy_is_ours, site_folder
from syndicate.errors import ConfigError


def writable(folder: Path) -> bool:
    """Whether files may be created in `folder` (the default `is_writable` check).

    Root passes every permission check, so for root a folder whose mode grants no
    write bit at all (`chmod a-w`) counts as read-only too: that is what it says.
    """
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    return getattr(os, "geteuid", lambda: -1)() != 0 or bool(folder.stat().st_mode & 0o222)


def data_dir_for(base: Path, state: StateOptions, env: Mapping[str, str], is_writable: Callable[[Path], bool],
                 where: Path, create: bool = True, *, site: str) -> Path:
    """`$SYNDICATE_DATA`, `[state] dir`, `.syndicate` beside the config when writable, else the site's own
    folder in the XDG state dir (`site` names it).

    `create=False` (a preview, `status`): the folder is named, not made."""
    if env.get("SYNDICATE_DATA"):  # wins: a container points it at its volume, whatever the site's file says
        return _made(Path(env["SYNDICATE_DATA"]).expanduser(), "$SYNDICATE_DATA", where, create)
    if state.dir:
        return _made(base / Path(state.dir).expanduser(), "state.dir", where, create)
    beside = base / ".syndicate"
    usable = is_writable(beside) if beside.is_dir() else (not beside.exists() and is_writable(base))
    if usable:
        return _made(beside, "the data folder", where, create)
    xdg = env.get("XDG_STATE_HOME", "")
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    state_home = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".local" / "state"
    shared_home = state_home / "syndicate"
    own = shared_home / site_folder(site)
    if not own.exists() and legacy_is_ours(shared_home / "state.db", site):
        return _made(shared_home, "the data folder", where, create)  # an older version's ledger: this site's
    return _made(own, "the data folder", where, create)


def _made(folder: Path, what: str, where: Path, create: bool = True) -> Path:
    folder = folder.resolve()
    if not create:  # nothing is made, but a folder that could never be made is still said at once
        existing = folder
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            raise ConfigError(f"{where}: {what}: cannot create {folder} ({existing} is not a folder)")
        return folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{where}: {what}: cannot create {folder} ({exc.strerror})") from None
    return folder
