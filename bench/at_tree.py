"""Run this tree's measuring scripts against another checkout, for before/after figures from one script.

    TREE/.venv/bin/python bench/at_tree.py TREE check_defects [--seven] [check_defects args ...]
    TREE/.venv/bin/python bench/at_tree.py TREE bench_markdown [ROUNDS]
    TREE/.venv/bin/python bench/at_tree.py TREE pipeline_041fc06 [--posts N] [--rounds R]

TREE is a checkout of syndicate (e.g. `git worktree add /tmp/old 041fc06`, with its own venv:
`SYNDICATE_VENV=.venv ./dev demo` there). A tree from before the re-layout (syndicate/loader.py,
syndicate/markdown/) has its modules aliased to the new names the scripts import.

- `check_defects`: bench/check_defects.py; `--seven` keeps the seven targets 041fc06 had
  (dev.to, Hashnode, Medium, Ghost, WordPress, Mastodon, Bluesky).
- `bench_markdown`: bench/bench_markdown.py over ../shared/corpus.
- `pipeline_041fc06`: 041fc06's own bench/bench_pipeline.py (dev.to + Mastodon, then seven
  targets; generated site and corpus), timed in CPU time of the one process instead of its
  wall clock, so that a busy machine's other work does not count.
"""
from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[1] / "shared" / "corpus"
SEVEN = ("devto", "hashnode", "medium", "ghost", "wordpress", "mastodon", "bluesky")
FLAT = {  # the new module -> its name before the re-layout
    "syndicate.content.loader": "syndicate.loader", "syndicate.engine.fitting": "syndicate.fitting",
    "syndicate.engine.plan": "syndicate.plan", "syndicate.engine.runner": "syndicate.runner",
    "syndicate.content.post": "syndicate.post", "syndicate.content.markdown": "syndicate.markdown",
    "syndicate.content.markdown.scan": "syndicate.markdown.scan",
    "syndicate.content.markdown.context": "syndicate.markdown.context",
    "syndicate.content.markdown.protect": "syndicate.markdown.protect",
    "syndicate.content.markdown.sanitize": "syndicate.markdown.sanitize",
}


def use_tree(tree: Path) -> None:
    sys.path.insert(0, str(tree))
    if (tree / "syndicate" / "content").is_dir():
        return
    for new, old in FLAT.items():
        try:
            module = importlib.import_module(old)
        except ImportError:
            continue
        parts = new.split(".")
        for i in range(2, len(parts)):
            sys.modules.setdefault(".".join(parts[:i]), types.ModuleType(".".join(parts[:i])))
        sys.modules[new] = module
    import syndicate.config
    import syndicate.registry

    if not hasattr(syndicate.registry, "load_config"):
        setattr(syndicate.registry, "load_config", syndicate.config.load_config)  # noqa: B010 (an old tree has none)


def run_script(name: str, tree: Path, argv: list[str], patch: dict[str, object] | None = None) -> dict[str, object]:
    source = (HERE / f"{name}.py").read_text(encoding="utf-8")
    source = source.replace("ROOT = Path(__file__).resolve().parents[1]", f"ROOT = Path({str(tree)!r})")
    namespace: dict[str, object] = {"__name__": f"at_tree_{name}", "__file__": str(tree / "bench" / f"{name}.py")}
    sys.argv = [f"{name}.py", *argv]  # before: a script may read its arguments at import
    exec(compile(source, f"{name}.py", "exec"), namespace)
    namespace.update(patch or {})
    return namespace


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    tree, what, args = Path(sys.argv[1]).resolve(), sys.argv[2], sys.argv[3:]
    if what == "pipeline_041fc06":
        old = subprocess.run(["git", "-C", str(HERE), "show", "041fc06:bench/bench_pipeline.py"], check=True,
                             capture_output=True, text=True).stdout
        old = old.replace("time.perf_counter()", "time.process_time()")
        old = old.replace("ROOT = Path(__file__).resolve().parents[1]", f"ROOT = Path({str(tree)!r})")
        old = old.replace('corpus = ROOT.parent / "shared" / "corpus"', f"corpus = Path({str(CORPUS)!r})")
        script = Path(os.environ.get("TMPDIR", "/tmp")) / "syndicate_bench_pipeline_041fc06.py"
        script.write_text(old, encoding="utf-8")
        sys.exit(subprocess.run([sys.executable, str(script), *args], cwd=tree).returncode)
    use_tree(tree)
    if what == "check_defects":
        seven = "--seven" in args
        ns = run_script("check_defects", tree, [a for a in args if a != "--seven"], {"CORPUS": CORPUS})
        if seven:
            blocks = re.split(r"(?=\[targets\.)", str(ns["TARGETS"]))
            ns["TARGETS"] = "".join(b for b in blocks if (m := re.match(r"\[targets\.(\w+)\]", b)) and m.group(1) in SEVEN)
        ns["main"]()  # type: ignore[operator]
    elif what == "bench_markdown":
        ns = run_script("bench_markdown", tree, [str(CORPUS), *(args or ["5"])])
        ns["main"]()  # type: ignore[operator]
    else:
        sys.exit(f"unknown: {what}\n{__doc__}")


if __name__ == "__main__":
    main()
