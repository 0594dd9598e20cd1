"""Every draft of ../shared/corpus and of the pipeline bench's generated site, for all fifteen targets: a
refactor's oracle, comparing two trees byte for byte (the fields, the text and each part of every draft).

    .venv/bin/python bench/drafts.py dump after.json                     # this tree
    .venv/bin/python bench/drafts.py dump before.json --tree /tmp/old    # another checkout (git worktree add)
    .venv/bin/python bench/drafts.py compare before.json after.json      # exit 1, listing them, if any differs

The site is generated with this tree's `bench_pipeline.generate` (the same posts for both trees); the other
tree's own loader, renderers and connectors make the drafts.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def dump(out: Path, tree: Path, posts: int) -> int:
    sys.path.insert(0, str(HERE))
    import bench_pipeline as bp  # this tree's: the same generated posts whichever tree renders them

    sys.path.insert(0, str(tree))
    for name in [m for m in sys.modules if m == "syndicate" or m.startswith(("syndicate.", "connectors"))]:
        del sys.modules[name]  # the tree asked for, not one imported before
    from syndicate import registry
    from syndicate.content.loader import load_posts
    from syndicate.engine.fitting import fit_draft
    from syndicate.registry import load_config

    drafts: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        roots = bp.corpus_sites(tmp / "corpus")
        bp.generate(tmp / "generated", posts)
        roots.append(tmp / "generated")
        for root in roots:
            with (root / "syndicate.toml").open("a", encoding="utf-8") as f:
                f.write(bp.FIFTEEN)
            config = load_config(root / "syndicate.toml")
            conns = [(name, registry.get(t.type)(t)) for name, t in config.targets.items()]
            loaded, errors = load_posts(config)
            for post in loaded:
                for name, conn in conns:
                    draft = fit_draft(conn.render(post), conn.limits_for(None))
                    drafts[f"{post.path.relative_to(tmp)} → {name}"] = json.dumps(
                        [draft.fields, draft.text, [part.text for part in draft.parts]], default=str, sort_keys=True)
            for error in errors:
                drafts[f"error: {error}"] = ""
    out.write_text(json.dumps(drafts, sort_keys=True), encoding="utf-8")
    return len(drafts)


def compare(a: Path, b: Path) -> int:
    before, after = json.loads(a.read_text(encoding="utf-8")), json.loads(b.read_text(encoding="utf-8"))
    differ = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    for key in differ[:40]:
        print(f"differs: {key}")
    print(f"{len(differ)} of {len(before.keys() | after.keys())} drafts differ")
    return 1 if differ else 0


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--tree", type=Path, default=HERE.parent, help="the checkout whose code makes the drafts")
    d.add_argument("--posts", type=int, default=1500, help="posts of the generated site")
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = parser.parse_args()
    if args.command == "dump":
        print(f"{dump(args.out, args.tree.resolve(), args.posts)} drafts written to {args.out}")
    else:
        sys.exit(compare(args.a, args.b))


if __name__ == "__main__":
    main()
