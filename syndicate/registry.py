"""Connectors are found through the entry-point group `syndicate.connectors`.

Built-ins are registered the same way (see pyproject.toml), so a third party
adds a platform with a package of its own. A broken plugin is skipped with a
warning instead of taking the others down.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from syndicate import config
from syndicate.contract import Connector

GROUP = "syndicate.connectors"
log = logging.getLogger(__name__)
_extra: dict[str, type[Connector]] = {}


@lru_cache(maxsize=1)
def _entry_points() -> dict[str, EntryPoint]:
    """The installed entry points by name (reading them loads no connector module)."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


_loaded: dict[str, type[Connector] | None] = {}


def _load(ep: EntryPoint) -> type[Connector] | None:
    if ep.name not in _loaded:
        cls: type[Connector] | None = None
        try:
            found = ep.load()
        except Exception as exc:  # a broken plugin must not break the rest
            log.warning("connector %s (%s) failed to load: %s", ep.name, ep.value, exc)
        else:
            if isinstance(found, type) and issubclass(found, Connector) and found.type:
                cls = found
            else:
                log.warning("connector %s (%s) is not a Connector with a type; skipped", ep.name, ep.value)
        _loaded[ep.name] = cls
    return _loaded[ep.name]


def _discovered() -> dict[str, type[Connector]]:
    found: dict[str, type[Connector]] = {}
    for ep in _entry_points().values():
        cls = _load(ep)
        if cls is not None:
            found[cls.type] = cls
    return found


def available() -> dict[str, type[Connector]]:
    """Every connector type by name: entry points plus those registered in-process."""
    return {**_discovered(), **_extra}


def installed() -> dict[str, type[Connector]]:
    """The connector types installed through entry points (built-ins and plugins)."""
    return dict(_discovered())


def register(cls: type[Connector]) -> type[Connector]:
    """Register a connector class in this process (tests, embedding)."""
    _extra[cls.type] = cls
    return cls


def get(kind: str) -> type[Connector]:
    """The connector class of `kind`, loading only its own module when the entry point has its name."""
    if kind in _extra:
        return _extra[kind]
    ep = _entry_points().get(kind)
    if ep is not None:
        cls = _load(ep)
        if cls is not None and cls.type == kind:
            return cls
    try:
        return available()[kind]
    except KeyError:
        raise KeyError(f"unknown connector type {kind!r}") from None


class _Catalog:
    """This registry as the `syndicate.config.Catalog` a config's targets are checked against."""

    def get(self, kind: str) -> type[Connector]:
        return get(kind)

    def available(self) -> dict[str, type[Connector]]:
        return available()


CATALOG = _Catalog()


def load_config(path: Path, env: Mapping[str, str] | None = None, *, check_connectors: bool = True,
                **options: Any) -> config.Config:
    """Read a config file, then check each target against its connector (the config parses first:
    `syndicate.config` never imports the registry; whoever loads a config calls it through here)."""
    return config.load_config(path, env, catalog=CATALOG if check_connectors else None, **options)


def reference() -> str:
    """The Markdown reference of `syndicate.toml`, with every installed connector's keys."""
    return config.reference(CATALOG)
