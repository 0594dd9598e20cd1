"""Write the small sites issue 14's checker runs on besides ../shared/corpus: one per real-world shape the issue names.

    .venv/bin/python bench/defect_sites.py OUT
    .venv/bin/python bench/check_defects.py OUT/with/*/       # with each generator's config
    .venv/bin/python bench/check_defects.py OUT/without/*/    # the same posts, the generator's config left out

The sites are in bench/defect_sites.json (each with the shape it stands for). OUT/with/<site>
holds the generator's config files and `.expected-urls.json`, the URLs the generator publishes
(check_defects' `url` and guessed-`link` kinds); OUT/without/<site> leaves both out.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

SITE = "https://blog.example"  # check_defects' [site] url


def write(out: Path) -> None:
    sites = json.loads((Path(__file__).with_name("defect_sites.json")).read_text(encoding="utf-8"))
    for variant in ("with", "without"):
        shutil.rmtree(out / variant, ignore_errors=True)
        for name, site in sites.items():
            root = out / variant / name
            for rel, text in site["files"].items():
                if variant == "without" and rel in site["generator"]:
                    continue
                path = root / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
            if variant == "with" and site["urls"]:
                urls = {rel: SITE + url for rel, url in site["urls"].items()}
                (root / ".expected-urls.json").write_text(json.dumps(urls, indent=1), encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    write(Path(sys.argv[1]))
