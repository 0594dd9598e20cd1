"""CLI start-up: `syndicate --help` and `syndicate preview` of one post, wall time, median of N runs.

    .venv/bin/python bench/bench_cli.py [--runs 10]

The preview runs on a site of one dev.to target (no network: nothing to
fetch) and, separately, with a Mastodon target whose instance facts are
already cached in the ledger (as after a first push), so neither figure
includes a network round trip. Also prints the slowest imports of the preview.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SYNDICATE = [sys.executable, "-m", "syndicate.cli"]


def timed(args: list[str], env: dict[str, str], cwd: Path, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, env=env, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("SYNDICATE_CONFIG", None)
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
        python = timed([sys.executable, "-c", "pass"], env, site, runs)
        help_ = timed([*SYNDICATE, "--help"], env, site, runs)
        one = timed([*SYNDICATE, "preview", "--config", "devto.toml", str(post)], env, site, runs)
        two = timed([*SYNDICATE, "preview", "--config", "both.toml", str(post)], env, site, runs)
        out = subprocess.run([sys.executable, "-X", "importtime", "-m", "syndicate.cli", "preview", "--config",
                              "both.toml", str(post)], env=env, cwd=site, capture_output=True, text=True)
    print(f"median of {runs} runs: python -c pass {python * 1000:.0f} ms; syndicate --help {help_ * 1000:.0f} ms; "
          f"preview of one post: dev.to {one * 1000:.0f} ms, dev.to + Mastodon (facts cached) {two * 1000:.0f} ms")
    rows = []
    for line in out.stderr.splitlines()[1:]:
        parts = line.split("|")
        if len(parts) == 3 and not parts[2].startswith("  "):
            rows.append((int(parts[1]), parts[2].strip()))
    print("slowest top-level imports of the preview:",
          json.dumps({name: f"{us / 1000:.0f} ms" for us, name in sorted(rows)[-8:][::-1]}))


if __name__ == "__main__":
    main()
