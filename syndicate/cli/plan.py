"""`syndicate plan --diff BASE..HEAD`: what merging a range would send, read from git; nothing is sent."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from syndicate.cli.app import ConfigOpt, _config, _fail, app
from syndicate.errors import ConfigError


@app.command("plan")
def plan_cmd(
    diff: str = typer.Option(..., "--diff", metavar="BASE..HEAD",
                             help="the commits to plan (BASE...HEAD: from their merge base)"),
    fmt: str = typer.Option("text", "--format", "-f", metavar="text|markdown|json", help="text, markdown (a PR "
                            "comment) or json"),
    config_path: Optional[Path] = ConfigOpt,
) -> None:
    """What merging BASE..HEAD would send to each target, read from git; nothing is sent (docs/plan.md)."""
    from syndicate.triggers.diffplan import PlanError, plan_range, render

    if fmt not in ("text", "markdown", "json"):
        raise _fail(f"--format {fmt!r}: one of text, markdown, json")
    config = _config(config_path, strict=False, readonly=True)
    try:
        report = plan_range(config, diff)
    except PlanError as exc:
        raise _fail(str(exc)) from None
    except ConfigError as exc:
        raise _fail(str(exc), label="config error") from None
    text = render(report, fmt)
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:  # UTF-8 whatever the locale: a comment body, a JSON file
        sys.stdout.flush()
        buffer.write(text.encode("utf-8"))
        buffer.flush()
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
