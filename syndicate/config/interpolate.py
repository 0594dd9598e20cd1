"""`${VAR}` and `${VAR:-default}` in `syndicate.toml`, filled from the environment.

Only credentials (targets, media.rehost) may be unset in a lenient load; a target whose
variables are unset is named with its reason, and a sending run leaves it out.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from syndicate.config.describe import is_secret_name, show

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_REF_START = re.compile(r"\$\{")
_REF_HELP = "${VAR} or ${VAR:-default}"


def _interpolate(value: Any, where: str, path: Path, env: Mapping[str, str], errors: list[str],
                 missing: list[str] | None = None) -> Any:
    """Replace `${VAR}` (or `${VAR:-default}`) from the environment, recursively.

    With `missing` given (a lenient load for previews), an unset variable
    becomes "" and its name is appended there instead of failing. A `${` that
    starts no reference (`${FOO`, `${1X}`) is an error. Errors go to `errors`.
    """
    if isinstance(value, dict):
        return {k: _interpolate(v, f"{where}.{k}", path, env, errors, missing) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, f"{where}[{i}]", path, env, errors, missing) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value
    starts = {m.start() for m in _ENV_REF.finditer(value)}
    if any(m.start() not in starts for m in _REF_START.finditer(value)):
        got = show(value, is_secret_name(where.rsplit(".", 1)[-1]))
        errors.append(f"{path}: {where}: unterminated or malformed ${{...}} (got {got}; allowed: {_REF_HELP})")
        return value

    def sub(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if env.get(name):
            return env[name]
        if default is not None:
            return default
        if missing is not None:
            missing.append(f"{where} (${name}{' is empty' if name in env else ''})")
            return ""
        state = "is set but empty" if name in env else "is not set"
        errors.append(f"{path}: {where}: environment variable ${name} {state}")
        return ""

    return _ENV_REF.sub(sub, value)


def _unset(value: Any, env: Mapping[str, str]) -> list[str]:
    """The `${VAR}` references (without a default) in `value` that the environment leaves unset or empty."""
    if isinstance(value, dict):
        return [v for item in value.values() for v in _unset(item, env)]
    if isinstance(value, list):
        return [v for item in value for v in _unset(item, env)]
    if not isinstance(value, str):
        return []
    return [m.group(1) for m in _ENV_REF.finditer(value) if m.group(2) is None and not env.get(m.group(1))]


def skip_reason(raw: Any, env: Mapping[str, str]) -> str | None:
    """Why an enabled `[targets.NAME]` cannot send here (its variables are unset or empty), or None."""
    if not isinstance(raw, dict) or raw.get("enabled", True) is False:
        return None
    names = list(dict.fromkeys(_unset(raw, env)))
    if not names:
        return None
    return "; ".join(f"${n} is {'empty' if n in env else 'not set'}" for n in names)


def _interpolate_all(data: dict[str, Any], path: Path, env: Mapping[str, str], missing: list[str] | None,
                     errors: list[str], skipped: dict[str, str]) -> dict[str, Any]:
    """Interpolate the whole file; only credentials (targets, media.rehost) may be unset when lenient.

    A target whose variables are unset gets its reason in `skipped` (when strict, it is then left out).
    """
    out: dict[str, Any] = {}
    for section, value in data.items():
        if section == "targets" and isinstance(value, dict):
            for name, raw in value.items():
                reason = skip_reason(raw, env)
                if reason:
                    skipped[name] = reason
            # a disabled target is never sent to: its variables may be unset (a skipped one's too: checked, not sent)
            out[section] = {
                name: _interpolate(raw, f"targets.{name}", path, env, errors, [] if (
                    isinstance(raw, dict) and raw.get("enabled", True) is False) or (missing is None and name in skipped)
                    else missing)
                for name, raw in value.items()
            }
        elif section in ("webhook", "web"):
            # only `serve` needs the secret (it checks it at start): push, preview and workers run without it
            out[section] = _interpolate(value, section, path, env, errors, [])
        elif section == "media" and isinstance(value, dict) and isinstance(value.get("rehost"), dict):
            rest = _interpolate({k: v for k, v in value.items() if k != "rehost"}, "media", path, env, errors)
            out[section] = {**rest, "rehost": _interpolate(value["rehost"], "media.rehost", path, env, errors, missing)}
        else:
            out[section] = _interpolate(value, section, path, env, errors)
    return out
