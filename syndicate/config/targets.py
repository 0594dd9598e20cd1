"""Each `[targets.NAME]` validated against its connector's `options` model (the `Catalog` names them)."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from syndicate.config.describe import describe, dotted, is_secret_name, nearest, show, suggest
from syndicate.config.model import TargetConfig
from syndicate.config.schema import LooseTargetOptions, Secret, TargetOptions, _http_url, rate_specs


class Catalog(Protocol):
    """The connector types a config's targets are checked against (`syndicate.registry` is one).

    Handed in by whoever loads the config (`syndicate.registry.load_config`): the file is parsed
    here first, and only then are the types it names looked up, so `config` imports no registry.
    """

    def get(self, kind: str) -> Any: ...  # the connector class; KeyError when unknown

    def available(self) -> Mapping[str, Any]: ...


def _secret_fields(model: type[BaseModel], required_only: bool = False) -> list[str]:
    from syndicate.config.describe import _unwrap

    return [name for name, info in model.model_fields.items()
            if _unwrap(info.annotation) is Secret and (info.is_required() or not required_only)]


def _options_model(cls: Any) -> type[TargetOptions]:
    options = getattr(cls, "options", None)
    if isinstance(options, type) and issubclass(options, TargetOptions):
        return options
    return LooseTargetOptions


def _target(name: str, raw: dict[str, Any], cls: Any, path: Path, strict: bool, unset: list[str],
            errors: list[str]) -> TargetConfig | None:
    """One validated `[targets.NAME]`, or None when disabled or wrong (the messages go to `errors`)."""
    kind = raw.get("type", name)
    model_cls = _options_model(cls)
    body = {**raw, "type": kind}
    lenient = not strict or raw.get("enabled", True) is False
    for key in _secret_fields(model_cls, required_only=True):
        if body.get(key) is None and lenient:
            body[key] = ""  # a preview sends nothing: a credential may be missing
            if raw.get("enabled", True) is not False:
                unset.append(f"targets.{name}.{key} (not set)")
    try:
        model = model_cls.model_validate(body)
    except ValidationError as exc:
        errors.extend(describe(exc, path, model_cls, ("targets", name)))
        return None
    if not model.enabled:
        return None
    declared: tuple[str, ...] = tuple(getattr(cls, "secrets", ()))
    extra = model.model_extra if model.model_extra is not None else {}
    for key, value in extra.items():
        if isinstance(value, str) and (key in declared or is_secret_name(key)):
            extra[key] = Secret(value)
    options = {k: getattr(model, k) for k in model_cls.model_fields
               if k != "type" and (k in model.model_fields_set or getattr(model, k) is not None)}
    options.update(extra)
    where = f"targets.{name}"
    if strict:
        for key in _secret_fields(model_cls, required_only=True):
            if not options.get(key):
                errors.append(f"{path}: {where}.{key}: required credential is empty (got ''; "
                              'allowed: a non-empty string, usually "${ENV_VAR}")')
    if model_cls is LooseTargetOptions:
        if isinstance(extra.get("base_url"), str):  # typed as an http(s) URL in every connector's model
            try:
                _http_url(extra["base_url"])
            except PydanticCustomError as exc:
                errors.append(f"{path}: {where}.base_url: {exc.message()} (got {show(extra['base_url'])}; "
                              f"allowed: {(exc.context or {}).get('allowed')})")
        for key in getattr(cls, "required", ()):
            if not strict and key in declared:
                continue  # a credential: only needed to send
            value = options.get(key)
            if value is None or value == "" or (isinstance(value, Secret) and not value):
                typo = nearest(key, [k for k in extra if k not in getattr(cls, "required", ())])
                hint = f" ({typo} is set: a typo?)" if typo else ""
                errors.append(f"{path}: {where}.{key}: required for type {kind!r}{hint}")
    if model.rate_limits and cls is not None:
        specs = rate_specs()
        try:
            specs.effective_rates(cls.limits.rates, model.rate_limits, where=f"{where}.rate_limits")
        except specs.RateSpecError as exc:
            errors.append(f"{path}: {exc}")
    return TargetConfig(name=name, type=kind, options=options, model=model)


def _targets(raw_targets: dict[str, Any], path: Path, strict: bool, unset: list[str], errors: list[str],
             catalog: Catalog | None, skipped: dict[str, str]) -> dict[str, TargetConfig]:
    """Every `[targets.NAME]` validated against its connector's model (the messages go to `errors`);
    a target in `skipped` is checked, and left out of a strict (sending) load."""
    targets: dict[str, TargetConfig] = {}
    for name, raw in raw_targets.items():
        if not isinstance(raw, dict):
            continue  # the file's own validation says so
        kind = raw.get("type", name)
        cls = None
        if catalog is not None:  # after the file is parsed: only the types it names are loaded
            try:
                cls = catalog.get(kind) if isinstance(kind, str) else None
            except KeyError:
                cls = None
            if cls is None:
                known_types = catalog.available()
                known = ", ".join(sorted(known_types)) or "none"
                hint = suggest(kind, known_types) if isinstance(kind, str) else ""
                errors.append(f"{path}: {dotted(('targets', name, 'type'))}: unknown target type{hint} "
                              f"(got {show(kind)}; allowed: {known})")
                continue
        skip = strict and name in skipped  # still checked, like a preview's, so that a mistake in it is reported
        target = _target(name, raw, cls, path, strict and not skip, [] if skip else unset, errors)
        if target is not None and not skip:
            targets[name] = target
    return targets
