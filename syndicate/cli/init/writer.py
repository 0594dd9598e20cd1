"""The `syndicate.toml` that `syndicate init` writes: commented, loadable, with no secret in it.

The `[site]` table comes from `syndicate.cli.init.ssg.Plan`; each key's comment is its
description in `syndicate.config.schema`. Every installed connector gets a commented-out
`[targets.NAME]` with its required keys and its credentials as `${ENV_VAR}`
references (the names the connector docs use), so a person uncomments one and
exports the variable: a credential never goes in the file.
"""
from __future__ import annotations

import json
import typing
from typing import Any

from syndicate.cli.init.ssg import Plan
from syndicate.config.schema import Secret, SiteOptions, TargetOptions

# A credential shared with another connector's account, under that connector's variable.
SHARED_ENV = {("standard_site", "app_password"): "BLUESKY_APP_PASSWORD"}
_COMMON = frozenset(TargetOptions.model_fields)
_WIDTH = 40  # the column comments start at


def env_name(kind: str, key: str) -> str:
    """The environment variable a connector's credential is read from: `MASTODON_ACCESS_TOKEN`."""
    return SHARED_ENV.get((kind, key), f"{kind}_{key}".upper())


def _is_secret(annotation: Any) -> bool:
    if annotation is Secret:
        return True
    return any(_is_secret(a) for a in typing.get_args(annotation))


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _line(assign: str, comment: str | None = None, *, off: bool = False) -> str:
    text = ("# " if off else "") + assign
    if comment:
        text = text.ljust(_WIDTH) + "  # " + comment
    return text


def _about(key: str) -> str:
    desc = SiteOptions.model_fields[key].description or ""
    return desc.rstrip(".")


def render(plan: Plan, url: str, url_from: str | None) -> str:
    """The whole file, as text."""
    out = [
        f"# syndicate.toml for this {plan.label} site (found by {plan.config_file}), written by `syndicate init`.",
        "# Every key: docs/config.md. See what is found before sending anything:",
        "#   syndicate push <posts folder> --dry-run",
        "",
        "[site]",
        _line(f"url = {_q(url)}", f"from {url_from}" if url_from else "given with --url"),
    ]
    out += [f"# {note}" for note in plan.notes]
    out.append(_line(f"content = {json_list(plan.content)}", None))
    if plan.left_out:
        out.append("# Left out (pages, docs, other sections; add a glob if one holds posts): "
                   + ", ".join(dict.fromkeys(plan.left_out)))
    if plan.permalink:
        out.append(_line(f"permalink = {_q(plan.permalink)}", plan.permalink_from))
    else:
        why = plan.permalink_from or "its own rules"
        out.append(f"# permalink: unset, so each post's URL is the generator's ({why})")
        out.append(_line('permalink = "/:year/:month/:slug/"', "only to override it", off=True))
    if plan.static:
        out.append(_line(f"static = {json_list(plan.static)}", _about("static")))
    else:
        out.append(_line('static = ["static"]', _about("static") + "; none found", off=True))
    if plan.language:
        out.append(_line(f"language = {_q(plan.language)}", _about("language")))
    else:
        out.append(_line('language = "en"', _about("language"), off=True))
    if plan.timezone:
        out.append(_line(f"timezone = {_q(plan.timezone)}", _about("timezone")))
    else:
        out.append(_line('timezone = "UTC"', _about("timezone"), off=True))
    out += [
        "",
        "# [state]",
        "# dir = \"/var/lib/syndicate\"             # the data folder; default: .syndicate beside this file",
        "",
        "# Targets: uncomment the ones you use and export their variables (never write a secret here).",
        "# Each connector's page in docs/ says how to get its credentials.",
    ]
    out += targets()
    return "\n".join(out) + "\n"


def targets() -> list[str]:
    """A commented-out `[targets.NAME]` for every installed connector."""
    from syndicate import registry

    out: list[str] = []
    for kind, cls in sorted(registry.installed().items()):
        model = cls.options
        out += ["", f"# [targets.{kind}]"]
        if model is None:
            continue
        fields = {k: f for k, f in model.model_fields.items() if k not in _COMMON}
        wanted = [k for k, f in fields.items() if f.is_required() or _is_secret(f.annotation)]
        for key in list(wanted):  # a key a credential's description names (`channel` beside bot_token)
            desc = fields[key].description or ""
            wanted += [k for k in fields if f"`{k}`" in desc and k not in wanted]
        for key in wanted:
            f = fields[key]
            desc = (f.description or "").split(". ")[0].rstrip(".")
            if _is_secret(f.annotation):
                out.append(_line(f'{key} = "${{{env_name(kind, key)}}}"', desc, off=True))
            else:
                out.append(_line(f'{key} = ""', desc or "required", off=True))
    return out

def json_list(items: list[str]) -> str:
    """A TOML array of strings (JSON's string escapes are TOML's)."""
    return "[" + ", ".join(json.dumps(i, ensure_ascii=False) for i in items) + "]"
