"""The config schema as text for people: error messages and the Markdown reference.

A validation error becomes `<file>: <dotted key>: <problem> (got <value>;
allowed: <...>)`, with credentials masked and a near-miss suggestion for an
unknown key. `reference()` documents every section from the models themselves.
"""
from __future__ import annotations

import difflib
import json
import re
import types
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from syndicate.config.schema import SECTIONS, Kind, Secret, TargetOptions

MASK = "**********"
_SECRET_NAME = re.compile(r"(token|secret|password|api_key|apikey|key)$")
_URL_PASSWORD = re.compile(r"^([a-z][a-z0-9+.-]*://[^:/@\s]*):[^@/\s]*@", re.IGNORECASE)
_PROBLEMS = {
    "string_type": "expected a string",
    "int_type": "expected an integer", "int_parsing": "expected an integer", "int_from_float": "expected an integer",
    "float_type": "expected a number", "float_parsing": "expected a number",
    "bool_type": "expected true or false", "bool_parsing": "expected true or false",
    "list_type": "expected a list",
    "dict_type": "expected a table", "model_type": "expected a table", "model_attributes_type": "expected a table",
    "literal_error": "not an allowed value",
    "missing": "required",
    "string_too_short": "must not be empty",
}


def is_secret_name(key: str) -> bool:
    """The name-suffix heuristic, for connectors without an options model."""
    return bool(_SECRET_NAME.search(key))


def nearest(key: str, known: Iterable[str]) -> str | None:
    """The name in `known` closest to `key`, if one is close enough to be a typo."""
    near = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    return near[0] if near else None


def suggest(key: str, known: Iterable[str]) -> str:
    """"; did you mean api_key?" for a near miss, else ""."""
    near = nearest(key, known)
    return f"; did you mean {near}?" if near else ""


def dotted(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def show(value: Any, secret: bool = False) -> str:
    """A short repr of a config value; `secret` masks it."""
    if secret:
        return repr(MASK)
    if isinstance(value, str):
        value = _URL_PASSWORD.sub(rf"\1:{MASK}@", value)
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _unwrap(tp: Any) -> Any:
    origin = get_origin(tp)
    if origin is Annotated:
        return _unwrap(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0])
    return tp


def _walk(model: type[BaseModel], loc: Sequence[str | int]) -> tuple[Any, FieldInfo | None, Any]:
    """(the type at `loc`, its FieldInfo when it is a model field, the container holding it)."""
    tp: Any = model
    parent: Any = None
    info: FieldInfo | None = None
    for part in loc:
        parent, tp = _unwrap(tp), None
        info = None
        if isinstance(parent, type) and issubclass(parent, BaseModel):
            info = parent.model_fields.get(str(part))
            tp = info.annotation if info is not None else None
        elif get_origin(parent) is dict:
            tp = get_args(parent)[1]
        elif get_origin(parent) is list:
            tp = get_args(parent)[0]
        if tp is None:
            return None, None, parent
    return tp, info, parent


def type_name(tp: Any, info: FieldInfo | None = None) -> str:
    """A readable name for a field's type: "duration", "list of string", "'update' | 'skip'"."""
    if info is not None:
        kinds = [m for m in info.metadata if isinstance(m, Kind)]
        if kinds:
            return kinds[0].name
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:
        kinds = [m for m in args[1:] if isinstance(m, Kind)]
        return kinds[0].name if kinds else type_name(args[0])
    if origin in (Union, types.UnionType):
        return " or ".join(type_name(a) for a in args if a is not type(None))
    if origin is Literal:
        return " | ".join(json.dumps(a) for a in args)
    if origin is list:
        return f"list of {type_name(args[0])}s"
    if origin is dict:
        return f"table of {type_name(args[1])}s"
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return "table"
    names = {Secret: "secret", str: "string", int: "integer", float: "number", bool: "boolean", Path: "path"}
    return names.get(tp, getattr(tp, "__name__", str(tp)))


def describe(exc: ValidationError, file: Path | str, model: type[BaseModel], prefix: Sequence[str] = ()) -> list[str]:
    """One message per problem in `exc`, each naming the file, the key, the value and what is allowed."""
    lines: list[str] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        key = dotted((*prefix, *loc))
        kind, ctx = err["type"], err.get("ctx") or {}
        tp, info, parent = _walk(model, loc)
        if kind == "extra_forbidden":
            known = parent.model_fields if isinstance(parent, type) and issubclass(parent, BaseModel) else ()
            lines.append(f"{file}: {key}: unknown key{suggest(str(loc[-1]), known)}")
            continue
        if kind == "missing":
            lines.append(f"{file}: {key}: required ({type_name(tp, info) if tp is not None else 'a value'})")
            continue
        problem = _PROBLEMS.get(kind, err["msg"])
        if kind in ("value_error", "assertion_error"):  # a connector's own validator: its message alone
            problem = str(ctx.get("error") or err["msg"])
        if kind.startswith(("greater_than", "less_than")):
            problem = err["msg"].replace("Input should be", "must be")
        allowed = ctx.get("allowed") or ctx.get("expected") or (type_name(tp, info) if tp is not None else "")
        if kind in ("value_error", "assertion_error"):
            allowed = ctx.get("allowed", "")  # the validator's message says it
        # the name heuristic only where the schema does not type the key (a connector's extra options)
        secret = _unwrap(tp) is Secret or (info is None and bool(loc) and is_secret_name(str(loc[-1])))
        got = f"got {show(_masked(err['input'], tp), secret)}"
        lines.append(f"{file}: {key}: {problem} ({got}" + (f"; allowed: {allowed})" if allowed else ")"))
    return list(dict.fromkeys(lines))


def _masked(value: Any, tp: Any) -> Any:
    """A whole table given to a model's own validator (`loc` is the model): its credentials masked."""
    model = _unwrap(tp)
    if not isinstance(value, dict) or not (isinstance(model, type) and issubclass(model, BaseModel)):
        return value
    fields = model.model_fields
    return {k: MASK if (_unwrap(fields[k].annotation) is Secret if k in fields else is_secret_name(str(k))) else v
            for k, v in value.items()}


# --- the reference --------------------------------------------------------------------


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    value = info.default_factory() if info.default_factory is not None else info.default  # type: ignore[call-arg]
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, float) and any(isinstance(m, Kind) and m.name == "duration" for m in info.metadata):
        return f"`{value:g}` s"
    if isinstance(value, (str, list, dict, int, float)):
        return f"`{json.dumps(value)}`"
    return f"`{value}`"


def table(fields: dict[str, FieldInfo]) -> list[str]:
    """A Markdown table of a model's keys (`Model.model_fields`)."""
    lines = ["| key | type | default | description |", "|---|---|---|---|"]
    for name, info in fields.items():
        kind = type_name(info.annotation, info)
        desc = (info.description or "").replace("|", "\\|")
        lines.append(f"| `{name}` | {kind.replace('|', chr(92) + '|')} | {_default(info)} | {desc} |")
    return lines


def reference(connectors: dict[str, type[Any]] | None = None) -> str:
    """The Markdown reference of `syndicate.toml`, generated from the schema."""
    out = ["# `syndicate.toml` reference", "",
           "Durations take seconds (`90`, `1.5`) or units (`\"500ms\"`, `\"90s\"`, `\"10m\"`, `\"1h30m\"`). "
           "`${VAR}` and `${VAR:-default}` are read from the environment.", ""]
    for section, model in SECTIONS.items():
        out += [f"## `[{section}]`", "", (model.__doc__ or "").strip(), "", *table(model.model_fields), ""]
    out += ["## `[targets.NAME]`", "", (TargetOptions.__doc__ or "").strip(), "", *table(TargetOptions.model_fields), ""]
    for kind, cls in sorted((connectors or {}).items()):
        options = getattr(cls, "options", None)
        if isinstance(options, type) and issubclass(options, TargetOptions) and options is not TargetOptions:
            own = {k: v for k, v in options.model_fields.items() if k not in TargetOptions.model_fields}
            out += [f"### `type = \"{kind}\"`", "", *table(own), ""]
    return "\n".join(out).rstrip() + "\n"
