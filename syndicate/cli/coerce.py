"""The commands' parameters coerced without pydantic where typer does not need it (a quick CLI, issue 17).

typer 0.2x coerces each parameter's value through a pydantic `TypeAdapter`, built on the parameter's
first use, even when the value is None (an option not given, `--help` not asked): importing pydantic
and building the adapters costs a one-post `preview` more than its own work. Here each parameter of a
command gets, before its first use, a coercion that builds typer's own adapter only for a value that
needs it. A value that is None never does (typer answers it before coercing). For the kinds our
commands take as text (a string, a path, a list of either) the parser hands over a `str`, and the
adapter's answer is known without it: the string itself, or `Path(value)` then typer's own path checks
(`coerce_cli_path`: exists, file or folder, `-`). Any other kind (numbers, choices, a flag given a
string) and any value that is not a `str` go to typer's adapter as before, so its answers and messages
are unchanged; a typer without this layer is left alone.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, get_args, get_origin

_light: Any = None  # the RuntimeParam subclass, made on first use (False: this typer has no such layer)


def _runtime_class() -> Any:
    global _light
    if _light is not None:
        return _light or None
    try:
        from typer._coercion import RuntimeParam, build_runtime_param
        from typer._param_types import coerce_cli_path, lenient_issubclass
    except ImportError:
        _light = False
        return None

    class Light(RuntimeParam):
        """typer's coercion, its adapter built only for a value that needs one (RuntimeParam's own frozen
        fields and __init__: no field of its own, so no @dataclass of its own either)."""

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            leaf = _plain(self.annotation, self.parameter_info)
            many = get_origin(self.annotation) is list
            items = (list(value) if isinstance(value, (list, tuple)) else [value]) if many else [value]
            if leaf is None or not all(isinstance(item, str) for item in items):
                param._runtime_param = full = build_runtime_param(param.type_descriptor)  # typer's own, kept
                return full._coerce_value(value, param=param, ctx=ctx)
            if leaf is not str:
                info = self.parameter_info
                path_type = info.path_type if info.path_type is not None else leaf
                as_path = lenient_issubclass(path_type, Path)
                items = [coerce_cli_path(path_type(item) if as_path else item,  # type: ignore[arg-type]
                                         info, path_type=path_type, param=param, ctx=ctx) for item in items]
            return items if many else items[0]

    _light = Light
    return Light


def _plain(annotation: Any, info: Any) -> Any:
    """`str` or the `Path` type of a `str` or `Path` parameter (or a list of one) with no parser of its
    own, else None."""
    leaf = annotation
    if get_origin(annotation) is list:
        args = get_args(annotation)
        if len(args) != 1:
            return None
        leaf = args[0]
    if getattr(info, "parser", None) is not None or getattr(info, "click_type", None) is not None:
        return None
    if leaf is str:
        return str
    path_type = getattr(info, "path_type", None)
    if isinstance(leaf, type) and issubclass(leaf, Path) and (
            path_type is None or path_type in (str, bytes) or (isinstance(path_type, type)
                                                               and issubclass(path_type, Path))):
        return leaf
    return None


def lighten(command: Any, ctx: Any) -> None:
    """Give each parameter of `command` (its `--help` too) the coercion above, before its first use."""
    for param in command.get_params(ctx):
        desc = getattr(param, "type_descriptor", None)
        if desc is None or getattr(param, "_runtime_param", True) is not None:
            continue  # not typer's, or already made
        if getattr(desc, "file_annotation", None) is not None:
            continue  # a file parameter: typer's own (it opens the file)
        cls = _runtime_class()
        if cls is None:
            return
        param._runtime_param = cls(parameter_info=desc.parameter_info, annotation=desc.annotation)
