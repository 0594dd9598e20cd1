"""The package's shape: the flow in the folders, arrows one way, no import cycle, and no platform in the engine.

Imports are read from the source with `ast`: module-level, function-level and
`if TYPE_CHECKING:` alike, so neither an import moved into a function nor a
type-only one can hide an arrow. The layers, top to bottom (docs/architecture.md):

    cli, testing  ->  triggers  ->  engine  ->  contract (contract, auth, registry)
                  ->  content | state  ->  config  ->  errors
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("syndicate", "connectors")


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    is_package = path.name == "__init__.py"

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in known else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    # importing a.b.c runs the package a.b's __init__ first: an arrow to it too, unless the importer is inside it
    packages = {".".join(m.split(".")[:i]) for m in found for i in range(2, m.count(".") + 1)}
    found |= {p for p in packages if not (name == p or name.startswith(p + "."))}
    return {m for m in found if m in known and m != name}


def _graph() -> dict[str, set[str]]:
    known = _modules()
    return {name: _imports(name, path, known) for name, path in known.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = walk(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = walk(node)
            if found:
                return found
    return None


def test_no_import_cycle() -> None:
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_engine_imports_no_platform_module() -> None:
    graph = _graph()
    for name, deps in graph.items():
        if name.startswith("syndicate"):
            assert not {d for d in deps if d.startswith("connectors")}, f"{name} imports {deps}"


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


# each layer may import its own and the layers below it, never one above
LAYERS = ["errors", "config", "content|state", "contract", "engine", "triggers", "cli"]
ROOT_LAYER = {"syndicate": "errors", "syndicate._moved": "errors", "syndicate.errors": "errors",
              "syndicate.contract": "contract", "syndicate.auth": "contract", "syndicate.registry": "contract",
              "syndicate.cli": "cli", "syndicate.testing": "cli"}


def layer(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "connectors":
        return "cli"  # plugins: loaded by the registry through entry points, never imported by the package
    if module in ROOT_LAYER:
        return ROOT_LAYER[module]
    if parts[1] in {"cli", "contract", "testing"}:  # a package of its own once split
        return ROOT_LAYER[".".join(parts[:2])]
    return {"content": "content|state", "state": "content|state"}.get(parts[1], parts[1])


def rank(module: str) -> int:
    return LAYERS.index(layer(module))


def test_every_module_sits_in_a_layer() -> None:
    unplaced = [name for name in _modules() if layer(name) not in LAYERS]
    assert not unplaced, f"not in triggers/, engine/, content/, state/, config/ or the root's own list: {unplaced}"


def test_every_arrow_points_down() -> None:
    upward = [f"{name} -> {dep}" for name, deps in _graph().items() for dep in deps if rank(dep) > rank(name)]
    assert not upward, "imports against the flow:\n" + "\n".join(sorted(upward))


def test_content_and_state_know_nothing_of_each_other_or_of_platforms() -> None:
    for name, deps in _graph().items():
        if name.startswith(("syndicate.content", "syndicate.state")):
            other = "syndicate.state" if name.startswith("syndicate.content") else "syndicate.content"
            bad = {d for d in deps if d.startswith((other, "syndicate.engine", "connectors"))}
            assert not bad, f"{name} imports {bad}"


def test_config_parses_without_the_registry() -> None:
    for name, deps in _graph().items():
        if name.startswith("syndicate.config"):
            assert "syndicate.registry" not in deps and "syndicate.contract" not in deps, f"{name} imports {deps}"


def test_no_module_imports_an_old_path() -> None:
    from syndicate._moved import MOVED

    known = _modules()
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            old = [n for n in names if any(n == o or n.startswith(o + ".") for o in MOVED)]
            assert not old, f"{name} imports {old} by its old path"


def test_the_layer_rule_catches_an_upward_arrow() -> None:
    assert rank("syndicate.engine.runner") > rank("syndicate.content.post") > rank("syndicate.config.schema")
    assert rank("syndicate.content.loader") == rank("syndicate.state.ledger.store")
    assert rank("syndicate.triggers.webhook.app") > rank("syndicate.engine.tasks")


# A module stays under ~400 lines (issue 17); past that it is split along its seams. A module still to
# split would be listed here with its size as a ceiling it may not grow past: none is left.
MAX_LINES = 400
TO_SPLIT: dict[str, int] = {}


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_every_module_stays_under_400_lines() -> None:
    too_long = []
    for path in sorted(_modules().values()):
        rel = path.relative_to(ROOT).as_posix()
        ceiling = TO_SPLIT.get(rel, MAX_LINES)
        if _lines(path) > ceiling:
            too_long.append(f"{rel}: {_lines(path)} lines (at most {ceiling})")
    assert not too_long, "split these along their seams:\n" + "\n".join(too_long)


def test_the_list_of_modules_to_split_is_current() -> None:
    # a module split since is taken off the list, so that it cannot grow back unnoticed
    stale = [rel for rel in TO_SPLIT if not (ROOT / rel).is_file() or _lines(ROOT / rel) <= MAX_LINES]
    assert not stale, f"no longer over {MAX_LINES} lines (take them off TO_SPLIT): {stale}"
