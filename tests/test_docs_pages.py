"""docs/policies.md and docs/exactly-once.md stay true to the code and the tests they name (issue 16)."""
from __future__ import annotations

import re
from pathlib import Path

from syndicate import registry
from syndicate.cli import policies
from syndicate.contract import Abilities

ROOT = Path(__file__).resolve().parents[1]


def test_the_policies_table_is_the_connectors_own_declarations() -> None:
    page = (ROOT / "docs" / "policies.md").read_text(encoding="utf-8")
    assert policies.table() in page, "regenerate: python -m syndicate.cli.policies"
    assert page == policies.rewrite(page)


def test_the_table_covers_every_built_in_connector() -> None:
    installed = {name for name, cls in registry.installed().items() if cls.__module__.startswith("connectors.")}
    assert set(policies.BUILT_IN) == installed
    table = policies.table()
    for kind in policies.BUILT_IN:
        assert f"| `{kind}`" in table


def test_a_row_follows_what_the_connector_declares() -> None:
    # the cells are made from the declarations: change one and its row says so
    assert policies.edit(Abilities(can_update=False, delete="none")) == "not propagated (cannot edit)"
    assert policies.edit(Abilities(on_edit="skip")).startswith("skip")
    assert policies.edit_limits(Abilities(edit_window=1800, max_edits=5)) == "within 30 min of posting, 5 edits in all"
    assert policies.delete_limits(Abilities(delete_window=48 * 3600)).startswith("within 48 h")
    assert policies.removal(Abilities(delete="unpublish"), None).startswith("unpublish")
    assert policies.lost(Abilities(can_find=False), None).startswith("`check`")
    x = next(r for r in policies.rows() if r[0] == "`x`")
    assert x[2] == "within 30 min of posting, 5 edits in all"
    telegram = next(r for r in policies.rows() if r[0] == "`telegram`")
    assert telegram[5].startswith("within 48 h")
    slack = [r for r in policies.rows() if r[0].startswith("`slack`")]
    assert [r[0] for r in slack] == ["`slack` (bot token)", "`slack` (incoming webhook)"]
    assert slack[1][1] == "not propagated (cannot edit)"


def test_every_test_the_exactly_once_page_names_exists() -> None:
    page = (ROOT / "docs" / "exactly-once.md").read_text(encoding="utf-8")
    named = re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)`", page)
    assert len(named) >= 25
    for path, name in named:
        source = (ROOT / path).read_text(encoding="utf-8")
        assert re.search(rf"^(async )?def {name}\(", source, re.M), f"{path}::{name} is not a test"
    contract = (ROOT / "syndicate" / "testing" / "__init__.py").read_text(encoding="utf-8")
    for name in re.findall(r"`ConnectorContract\.(test_\w+)`", page):
        assert re.search(rf"^    def {name}\(", contract, re.M), f"ConnectorContract.{name} is not a test"
    for cls in re.findall(r"`(Test\w+Contract)`", page):
        assert any(f"class {cls}(ConnectorContract)" in p.read_text(encoding="utf-8")
                   for p in (ROOT / "tests").glob("test_*.py")), cls


def test_the_readme_links_both_pages_and_the_status_flags() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/policies.md)" in readme and "(docs/exactly-once.md)" in readme
    assert "--state" in readme and "--target" in readme and "--no-progress" in readme
