"""CLI start-up: `syndicate --help`, `preview` of one post and `status`, wall time, median of N runs,
each beside `python -c "import typer, rich"` measured in the same run (the yardstick).

    .venv/bin/python bench/bench_cli.py [--runs 10]

The commands run in turn, round after round (yardstick, --help, preview, ..., status), so a machine
that slows down mid-run slows all of them alike; the ratio to the yardstick is taken round by round
and its median printed beside each absolute median. The preview runs on a site of one dev.to target
(no network: nothing to fetch) and, separately, with a Mastodon target whose instance facts are
already cached in the ledger (as after a first push), so neither figure includes a network round
trip. `status` reads that ledger. The example site (examples/, its fifteen targets, no credentials, as
`./dev demo` runs it) is previewed too, one post, with standard_site's repo facts cached as a first push
leaves them (without them its preview reads the PDS: a network round trip). Also prints the slowest
imports of the preview. Bytecode is cached as an installed package has it (PYTHONPYCACHEPREFIX, in the
temporary folder).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SYNDICATE = [sys.executable, "-m", "syndicate.cli"]


def once(args: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(args, env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp_s:
        site = Path(tmp_s)
        (site / "content" / "posts").mkdir(parents=True)
        post = site / "content" / "posts" / "hello.md"
        post.write_text("---\ntitle: Hello\ndate: 2024-03-01\ntags: [python]\n---\n\nA first paragraph.\n",
                        encoding="utf-8")
        base = '[site]\nurl = "https://blog.example"\ncontent = ["content/posts/*.md"]\n'
        (site / "devto.toml").write_text(base + '[targets.devto]\napi_key = "${DEVTO_API_KEY:-x}"\n', encoding="utf-8")
        (site / "both.toml").write_text(
            base + '[targets.devto]\napi_key = "x"\n[targets.mastodon]\nbase_url = "https://m.invalid"\n'
            'access_token = "y"\n', encoding="utf-8")
        # bytecode cached (in the temporary folder), as an installed package has it: without it every run
        # would compile every module again, a cost a user does not pay
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONPYCACHEPREFIX": str(site / "pycache")}
        env.pop("SYNDICATE_CONFIG", None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        # the Mastodon instance's facts, cached as a push would have left them
        subprocess.run([sys.executable, "-c", f"""
from pathlib import Path
from syndicate.registry import load_config
from syndicate.state.ledger import open_ledger
c = load_config(Path({str(site / 'both.toml')!r}))
open_ledger(c).put_fact("mastodon https://m.invalid", {{"max_characters": 500, "characters_reserved_per_url": 23,
    "max_media_attachments": 4, "image_size_limit": 16777216, "image_matrix_limit": 33177600,
    "description_limit": 1500, "supported_mime_types": None}}, 3600)
"""], env=env, cwd=ROOT, check=True)
        example = site / "example"
        shutil.copytree(ROOT / "examples", example, ignore=shutil.ignore_patterns(".syndicate"))
        subprocess.run([sys.executable, "-c", f"""
from pathlib import Path
from syndicate.engine.runner import Syndicator
from syndicate.registry import load_config
syn = Syndicator(load_config(Path({str(example / 'syndicate.toml')!r}), {{}}, strict=False))
syn.ledger.put_fact(syn.connector("standard_site").facts_scope(), {{"did": "did:plc:abcdefghijklmnopqrstuvwx",
    "publications": {{}}}}, 3600)
"""], env=env, cwd=ROOT, check=True)
        example_env = {k: v for k, v in env.items() if not k.endswith(("_TOKEN", "_KEY", "_PASSWORD", "_SECRET"))}
        commands = {
            'python -c "import typer, rich"': [sys.executable, "-c", "import typer, rich"],
            "syndicate --help": [*SYNDICATE, "--help"],
            "syndicate preview (one post, dev.to)": [*SYNDICATE, "preview", "--config", "devto.toml", str(post)],
            "syndicate preview (one post, dev.to + Mastodon, facts cached)":
                [*SYNDICATE, "preview", "--config", "both.toml", str(post)],
            "syndicate status": [*SYNDICATE, "status", "--config", "both.toml"],
            "syndicate preview (one post, examples/: fifteen targets)":
                [*SYNDICATE, "preview", "--config", str(example / "syndicate.toml"),
                 str(example / "site" / "content" / "posts" / "hugo-yaml.md")],
        }
        envs = {name: example_env if "examples/" in name else env for name in commands}
        for name, args in commands.items():  # warm the disk cache and the .pyc files
            once(args, envs[name], site)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, args in commands.items():
                times[name].append(once(args, envs[name], site))
        out = subprocess.run([sys.executable, "-X", "importtime", "-m", "syndicate.cli", "preview", "--config",
                              "both.toml", str(post)], env=env, cwd=site, capture_output=True, text=True)
    yardstick = next(iter(times.values()))
    print(f"median of {runs} rounds (wall time; x = median of the round-by-round ratio to the yardstick):")
    for name, values in times.items():
        ratio = statistics.median(v / y for v, y in zip(values, yardstick, strict=True))
        print(f"  {name:<62} {statistics.median(values) * 1000:5.0f} ms  x{ratio:.2f}")
    rows = []
    for line in out.stderr.splitlines()[1:]:
        parts = line.split("|")
        if len(parts) == 3 and not parts[2].startswith("  "):
            rows.append((int(parts[1]), parts[2].strip()))
    print("slowest top-level imports of the preview:",
          json.dumps({name: f"{us / 1000:.0f} ms" for us, name in sorted(rows)[-8:][::-1]}))


if __name__ == "__main__":
    main()
