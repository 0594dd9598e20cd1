"""An image that resolves outside the site root is refused once, and no copy shows it: not the cover, not the body."""
from __future__ import annotations

import json
from pathlib import Path

from tests.fakes.devto import FakeDevTo
from tests.fakes.mastodon import FakeMastodon
from tests.test_push import fakes, run, site, write  # noqa: F401 (fixtures)

BODY = """First paragraph.

![A secret](/img/evil.png)

<img src="/img/evil.png" alt="again">

![By reference][ev]

![Fine](/img/ok.png)

[ev]: /img/evil.png
"""


def test_a_symlinked_image_leaves_every_copy(site: Path, fakes: tuple[FakeDevTo, FakeMastodon], tmp_path_factory) -> None:  # noqa: F811
    outside = tmp_path_factory.mktemp("outside") / "secret.png"
    outside.write_bytes(b"\x89PNG not really")
    img = site / "static" / "img"
    img.mkdir(parents=True)
    (img / "evil.png").symlink_to(outside)
    (img / "ok.png").write_bytes(b"\x89PNG")
    post = write(site, "p.md", "title: P\ndate: 2024-03-01\nimage: /img/evil.png", BODY)
    code, output = run("push", "--dry-run", "--json", str(post))
    assert code == 0, output
    [result] = json.loads(output)["posts"]
    assert result["post"]["cover"] is None
    for name, entry in result["targets"].items():
        sent = json.dumps(entry["requests"])
        assert "evil" not in sent, name
        refused = [w for w in entry["warnings"] if "evil.png" in w]
        assert refused == [f"{post}: image '/img/evil.png' resolves outside the site root; refused and left out of the post"], name
    devto = json.dumps(result["targets"]["devto"]["requests"])
    assert "https://blog.example/img/ok.png" in devto and "First paragraph." in devto
