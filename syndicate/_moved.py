"""The module paths of before the re-layout (issue 17), kept importable with a DeprecationWarning.

`syndicate.tasks` (as in `celery -A syndicate.tasks worker`), `syndicate.post`, `syndicate.markdown.document`...
moved under `triggers/`, `content/`, `engine/`, `state/` and `config/`. An import of an old path gets the
module at its new path: the same module object (never a second copy), bound under both names.
Nothing inside the project imports an old path; `tests/test_layering.py` checks that.
"""
from __future__ import annotations

import importlib
import importlib.machinery
import sys
import warnings
from types import ModuleType

MOVED = {
    "syndicate.budget": "syndicate.state.budget",
    "syndicate.dates": "syndicate.content.dates",
    "syndicate.duration": "syndicate.config.duration",
    "syndicate.fitting": "syndicate.engine.fitting",
    "syndicate.fmparse": "syndicate.content.frontmatter",
    "syndicate.gitsync": "syndicate.triggers.gitsync",
    "syndicate.inline": "syndicate.engine.inline",
    "syndicate.lease": "syndicate.engine.lease",
    "syndicate.ledger": "syndicate.state.ledger",
    "syndicate.loader": "syndicate.content.loader",
    "syndicate.markdown": "syndicate.content.markdown",
    "syndicate.media": "syndicate.content.media",
    "syndicate.migrations": "syndicate.state.migrations",
    "syndicate.output": "syndicate.triggers.output",
    "syndicate.permalinks": "syndicate.content.permalinks",
    "syndicate.plan": "syndicate.engine.plan",
    "syndicate.post": "syndicate.content.post",
    "syndicate.ratelimit": "syndicate.state.ratelimit",
    "syndicate.ratequota": "syndicate.state.ratequota",
    "syndicate.ratesql": "syndicate.state.ratesql",
    "syndicate.reconcile": "syndicate.engine.reconcile",
    "syndicate.resolve": "syndicate.content.resolve",
    "syndicate.routes": "syndicate.content.routes",
    "syndicate.runner": "syndicate.engine.runner",
    "syndicate.schema": "syndicate.config.schema",
    "syndicate.schema_text": "syndicate.config.describe",
    "syndicate.sitedata": "syndicate.config.sitedata",
    "syndicate.siteindex": "syndicate.content.siteindex",
    "syndicate.social": "syndicate.engine.social",
    "syndicate.synctask": "syndicate.triggers.synctask",
    "syndicate.tasks": "syndicate.engine.tasks",
    "syndicate.text": "syndicate.content.text",
    "syndicate.tokens": "syndicate.state.tokens",
    "syndicate.urltokens": "syndicate.config.urltokens",
    "syndicate.watch": "syndicate.triggers.watch",
    "syndicate.webhook": "syndicate.triggers.webhook.app",
    "syndicate.webhook_body": "syndicate.triggers.webhook.body",
    "syndicate.webhook_guard": "syndicate.triggers.webhook.guard",
    "syndicate.webhook_log": "syndicate.triggers.webhook.log",
    "syndicate.webhook_metrics": "syndicate.triggers.webhook.metrics",
    "syndicate.webhook_push": "syndicate.triggers.webhook.hosts",
    "syndicate.webhook_store": "syndicate.triggers.webhook.replay",
    "syndicate.xref": "syndicate.content.xref",
}


def new_name(old: str) -> str | None:
    """The module's path now, for an old path (a package's submodules move with it)."""
    for before, after in MOVED.items():
        if old == before or old.startswith(before + "."):
            return after + old[len(before):]
    return None


class _Alias:  # an importlib Loader (importlib.abc costs ~10 ms of start-up: not subclassed)
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None  # a placeholder the import system makes; exec_module swaps in the real module

    def exec_module(self, module: ModuleType) -> None:
        old = module.__name__
        warnings.warn(f"{old} moved to {self.target}: import it from there", DeprecationWarning, stacklevel=3)
        sys.modules[old] = importlib.import_module(self.target)


class _Finder:  # an importlib MetaPathFinder
    def find_spec(self, fullname: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith("syndicate."):
            return None
        new = new_name(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Alias(new))  # type: ignore[arg-type]


def install() -> None:
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())  # before the path finders: an old path never reaches the disk
