"""Golden files: what each platform would receive for every post of examples/.

A change in rendering shows up as a diff of tests/golden/. After checking the
diff is intended, regenerate with `SYNDICATE_UPDATE_GOLDEN=1 ./dev test tests/test_golden.py`.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from syndicate.content.loader import load_posts
from syndicate.engine.fitting import fit_draft
from syndicate.engine.runner import Syndicator
from syndicate.registry import load_config

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("SYNDICATE_UPDATE_GOLDEN") == "1"


def _rendered() -> dict[str, dict[str, object]]:
    # read-only, as `preview` is: the example site's own ledger folder is never made by a test
    config = load_config(EXAMPLES / "syndicate.toml", env={}, strict=False, readonly=True)
    posts, errors = load_posts(config)
    assert not errors, errors
    site_root = str(config.site.root)
    syn = Syndicator(config, readonly=True)
    out: dict[str, dict[str, object]] = {}
    for post in posts:
        name = str(post.path.relative_to(config.site.root)).replace("/", "__")
        for target in config.targets.values():
            conn = syn.connector(target.name)
            # what the platform receives if the post went out: drafts and future posts included
            draft = fit_draft(conn.render(post, None), conn.limits_for(None))
            from syndicate.engine.plan import Plan

            # the first request carries the content (a create of several steps then sends the rest: Threads)
            request = syn.requests(Plan(post, target.name, "create", "golden", draft))[0]
            blob = {
                "method": request["method"],
                "url": request["url"],
                "json": request["json"],
                "media": [{"role": m.role, "source": m.source, "alt": m.alt} for m in draft.all_media],
                "warnings": sorted(set(draft.warnings)),
            }
            text = json.dumps(blob, ensure_ascii=False, indent=2, sort_keys=True).replace(site_root, "<site>")
            out[f"{name}.{target.name}.json"] = {"text": text + "\n"}
    return out


RENDERED = _rendered()


def test_every_golden_file_has_a_rendered_post() -> None:
    if UPDATE:
        for stale in GOLDEN.glob("*.json"):
            if stale.name not in RENDERED:
                stale.unlink()
    on_disk = {p.name for p in GOLDEN.glob("*.json")}
    assert on_disk == set(RENDERED), "golden files and example posts differ: regenerate (see module docstring)"


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_rendering_matches_the_golden_file(name: str) -> None:
    text = str(RENDERED[name]["text"])
    path = GOLDEN / name
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {name}: regenerate (see module docstring)"
    assert path.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_no_shortcode_liquid_mdx_or_script_reaches_a_platform(name: str) -> None:
    """The fidelity rule: what a platform would show as text never carries the site's own markup."""
    import re

    text = str(RENDERED[name]["text"])
    assert "{{<" not in text and "{{%" not in text, "a Hugo shortcode reached the platform"
    assert "<script" not in text.lower(), "a <script> reached the platform"
    assert not re.search(r"(^|\\n)(import|export) [^\\n]* from ", text), "an MDX import reached the platform"
    if not name.endswith(".devto.json"):  # dev.to's own Liquid tags (embeds, raw) are Forem's, not the site's
        assert "{%" not in text, "a Liquid tag reached the platform"
