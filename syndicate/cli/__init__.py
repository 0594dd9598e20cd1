"""The `syndicate` command: push, preview, status, retry, resolve, watch, baseline, serve, worker, beat.

One module per command group: `app` (the Typer app, shared options, config and ledger), `send`
(preview, push, retry, resolve, baseline), `status`, `service` (watch, serve, worker, beat); `coerce`
gives typer's parameters a coercion that imports pydantic only for a value that needs it.

Exit codes: 0 all done, 1 some (post, target) failed, 2 usage or config error.
Human output is Rich; every piece of text that comes from a post, a path or a
message is passed as plain `Text`, never as markup, so brackets print as
written. `--json` is for scripts. Heavy modules (SQLAlchemy, Celery, Pillow,
httpx, pydantic, the connectors, Markdown) are imported only by the commands that need them: the
command modules import typer, rich and the standard library at their top, the rest inside each
command, so that registering every command stays cheap (tests/test_cli_imports.py says what `--help`,
`preview` and `status` may import; bench/bench_cli.py times them).
"""
from syndicate.cli import doctor, init, plan, send, service, status  # noqa: F401  each registers its commands on `app`
from syndicate.cli.app import app, main

__all__ = ["app", "main"]
