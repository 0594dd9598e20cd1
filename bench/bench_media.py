"""Fitting a large photo to a 1,000,000-byte / 2000-px policy: `fit` against the naive way.

Run: .venv/bin/python bench/bench_media.py [--runs 5] [--rounds 3]

Each (method, image) pair runs in its own subprocess so that its peak RSS
(VmHWM, reset after imports) is its own; the time is the median of `--runs` fits in that
process (the first run included in the peak). "naive" is what most tools do:
decode the whole image, transpose, resize with LANCZOS, then save at falling
JPEG quality (95, 90, ...) until the bytes fit.
"""
from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MAX_BYTES = 1_000_000
MAX_SIDE = 2000


def naive(data: bytes) -> tuple[bytes, tuple[int, int]]:
    from PIL import Image, ImageOps

    im = Image.open(io.BytesIO(data))
    im.load()
    im = ImageOps.exif_transpose(im).convert("RGB")
    scale = min(1.0, MAX_SIDE / im.width, MAX_SIDE / im.height)
    im = im.resize((int(im.width * scale), int(im.height * scale)), Image.Resampling.LANCZOS)
    for quality in range(95, 5, -5):
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=quality)
        if buf.tell() <= MAX_BYTES:
            break
    return buf.getvalue(), im.size


def ours(data: bytes) -> tuple[bytes, tuple[int, int]]:
    from syndicate.content.media import fit
    from syndicate.contract import MediaPolicy

    f = fit(data, MediaPolicy(max_bytes=MAX_BYTES, max_width=MAX_SIDE, max_height=MAX_SIDE, formats=("jpeg", "png")))
    return f.data, (f.width, f.height)


def child(method: str, path: str, runs: int) -> None:
    data = Path(path).read_bytes()
    func = ours if method == "fit" else naive
    import PIL.Image  # noqa: F401  (imports counted in the baseline)

    import syndicate.content.media  # noqa: F401
    import syndicate.contract

    base = reset_peak()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        out, size = func(data)
        times.append(time.perf_counter() - start)
    peak = status_kb("VmHWM")
    print(json.dumps({"ms": statistics.median(times) * 1000, "first_ms": times[0] * 1000, "peak_mb": peak / 1024,
                      "delta_mb": (peak - base) / 1024, "bytes": len(out), "size": size}))


def status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak() -> int:
    """Reset the peak-RSS mark (Linux clear_refs 5) and return the current RSS in kB.

    ru_maxrss is not used: on Linux it carries the parent's peak across fork+exec.
    """
    Path("/proc/self/clear_refs").write_text("5")
    return status_kb("VmRSS")


def make_images(folder: Path) -> dict[str, Path]:
    from tests.media_helpers import encoded, exif_with_gps, photo

    jpeg = folder / "photo-6000x4000.jpg"
    jpeg.write_bytes(encoded(photo(6000, 4000), "JPEG", quality=92, exif=exif_with_gps(1)))
    png = folder / "photo-4000x3000.png"
    png.write_bytes(encoded(photo(4000, 3000, seed=2), "PNG"))
    return {"JPEG 6000×4000": jpeg, "PNG 4000×3000": png}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.runs)
        return
    with tempfile.TemporaryDirectory() as tmp:
        images = make_images(Path(tmp))
        print(f"policy: {MAX_BYTES} bytes, {MAX_SIDE} px; {args.rounds} rounds × {args.runs} runs, fit and naive alternating;")
        print("time: best round's median; peak: highest VmHWM of any round; +MB: growth over the process after imports")
        print(f"{'image':<16} {'method':<6} {'median ms':>10} {'peak MB':>8} {'+MB':>6} {'out bytes':>10}  size")
        for label, path in images.items():
            rows: dict[str, list[dict]] = {"fit": [], "naive": []}
            for _ in range(args.rounds):
                for method in rows:
                    out = subprocess.run(
                        [sys.executable, __file__, "--runs", str(args.runs), "--child", method, str(path)],
                        capture_output=True, text=True, check=True, cwd=ROOT,
                    )
                    rows[method].append(json.loads(out.stdout))
            best = {}
            for method, results in rows.items():
                r = min(results, key=lambda x: x["ms"])
                best[method] = r["ms"]
                peak = max(x["peak_mb"] for x in results)
                delta = max(x["delta_mb"] for x in results)
                print(f"{label:<16} {method:<6} {r['ms']:>10.0f} {peak:>8.0f} {delta:>6.0f} {r['bytes']:>10}  {r['size'][0]}×{r['size'][1]}")
            src = path.stat().st_size
            print(f"{'':<16} source {src} bytes; fit is {best['naive'] / best['fit']:.1f}× faster than naive")

if __name__ == "__main__":
    main()
