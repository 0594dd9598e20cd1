"""The long-running commands: watch, serve, worker, beat."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from syndicate.triggers import output
from syndicate.triggers.output import emit_results, say

if TYPE_CHECKING:
    pass
from syndicate.cli.app import (
    ConfigOpt,
    NoProgressOpt,
    _config,
    _fail,
    _ledger,
    _logged,
    _safe_url,
    _since,
    _watcher,
    app,
)


@app.command()
def watch(
    once: bool = typer.Option(False, "--once", help="one reconcile scan, applied, then exit (cron, CI)"),
    backfill: bool = typer.Option(False, "--backfill", help="first start: send every existing post"),
    baseline_: bool = typer.Option(False, "--baseline", help="first start: record existing posts, send none"),
    since: Optional[str] = typer.Option(None, "--since", help="with --baseline: only posts dated before DATE"),
    config_path: Optional[Path] = ConfigOpt,
    as_json: bool = typer.Option(False, "--json", help="with --once: machine-readable output (the log on stderr)"),
    no_progress: bool = NoProgressOpt,
) -> None:
    """Follow the site's files: new, edited, moved, unpublished and deleted posts reach every target."""
    from syndicate.triggers.watch import Refused

    if backfill and baseline_:
        raise _fail("--backfill or --baseline, not both")
    if since and not baseline_:
        raise _fail("--since goes with --baseline")
    if as_json and not once:
        raise _fail("--json goes with --once")
    from syndicate.triggers import progress

    label = "backfill" if backfill else "baseline" if baseline_ else "first scan"
    w = _watcher(config_path, first_run="backfill" if backfill else "baseline" if baseline_ else None,
                 since=_since(since), stderr=as_json,
                 tracker=progress.tracker(label, as_json=as_json, enabled=not no_progress))
    try:
        if once:
            scan = w.reconcile(first=True)
            errors = [(Path(p), e) for p, e in scan.errors]
            if as_json:
                emit_results(w.results, errors, _logged.messages)
            else:
                say((output.summary(w.results), "bold"))
            # held deletions wait for a person (`push --apply-deletes`), as a failure does
            raise typer.Exit(1 if w.failures or scan.held else 0)
        raise typer.Exit(w.run())
    except Refused as exc:
        raise _fail(str(exc), label="refused") from None


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="the address to listen on"),
    port: int = typer.Option(8080, "--port", help="the port to listen on"),
    proxy_headers: bool = typer.Option(False, "--proxy-headers",
                                       help="honour X-Forwarded-* from \\[webhook] trusted_proxies only"),
    config_path: Optional[Path] = ConfigOpt,
) -> None:
    """Serve the status page at / (posts × targets, retry) and, with \\[webhook], the git host's push webhook."""
    from syndicate.triggers.webhook.guard import serve as run

    config = _config(config_path, strict=True)
    from syndicate.triggers.web import StatusPage, start_problem

    problem = start_problem(config, host)
    if problem:
        raise _fail(problem, label="config error")
    if config.webhook is None and not config.web.enabled:
        raise _fail("nothing to serve: no [webhook] section and [web] enabled = false (docs/webhook.md)")
    if config.broker:
        from syndicate.engine.tasks import check_broker, configure

        configure(config)
        problem = check_broker()
        if problem:
            raise _fail(f"the broker {_safe_url(config.broker)} does not answer ({problem}); "
                        "start it, or remove [queue] broker to sync in this process")
    page = StatusPage(config) if config.web.enabled else None
    logging.getLogger("syndicate").setLevel(logging.INFO)  # each sync says what it sent
    if page is not None:
        say(f"serving the status page on http://{host}:{port}/"
            + ("" if page.password else " (no password: this machine only)"))
    if config.webhook is None:
        from syndicate.triggers.web import create_app as status_app
        from syndicate.triggers.webhook.guard import DEFAULT

        assert page is not None
        run(status_app(page), DEFAULT, host=host, port=port, proxy_headers=proxy_headers,
            trusted="127.0.0.1" if proxy_headers else "")
        return
    from syndicate.triggers.webhook.app import Service, create_app

    service = Service(config)  # a clear error before listening: no git, an empty secret, an unknown branch
    say(f"serving the webhook for {service.name} ({service.branch}) on http://{host}:{port}/hooks/HOST")
    trusted = ",".join(config.webhook.trusted_proxies)
    run(create_app(service=service, web=page), service.guard, host=host, port=port, proxy_headers=proxy_headers,
        trusted=trusted if proxy_headers else "")


def _worker_app(config_path: Optional[Path]) -> Any:
    import os

    config = _config(config_path, strict=True)
    if not config.broker:
        raise _fail("no broker: set [queue] broker in syndicate.toml or $SYNDICATE_BROKER_URL")
    _ledger(config).dispose()  # a ledger refused to this site: said at start, not once per task
    if config.path:
        os.environ["SYNDICATE_CONFIG"] = str(config.path)  # for the pool's child processes
    from syndicate.engine.tasks import configure

    return configure(config)


@app.command()
def worker(
    pool: str = typer.Option("threads", help="threads (default: the tasks wait on HTTP), prefork, solo"),
    concurrency: int = typer.Option(16, "--concurrency", "-C", help="tasks at once"),
    beat: bool = typer.Option(False, "--beat", "-B", help="also run the periodic jobs"),
    loglevel: str = typer.Option("info", "--loglevel", "-l"),
    config_path: Optional[Path] = ConfigOpt,
) -> None:
    """Start a Celery worker (the same as `celery -A syndicate.engine.tasks worker`)."""
    celery_app = _worker_app(config_path)
    from syndicate.engine import health as _health
    from syndicate.engine.tasks import _shared

    _health.install(celery_app, Path(_shared["config"].data_dir))  # for `syndicate health --worker`
    argv = ["worker", f"--pool={pool}", f"--concurrency={concurrency}", f"--loglevel={loglevel}"]
    if beat:
        argv += ["-B", f"--schedule={_beat_schedule(celery_app)}"]
    raise typer.Exit(_celery(celery_app, argv))


@app.command()
def beat(
    loglevel: str = typer.Option("info", "--loglevel", "-l"),
    config_path: Optional[Path] = ConfigOpt,
) -> None:
    """Run the periodic jobs: enqueue deferred rows and future posts when they become due."""
    celery_app = _worker_app(config_path)
    raise typer.Exit(_celery(celery_app, ["beat", f"--loglevel={loglevel}", f"--schedule={_beat_schedule(celery_app)}"]))


@app.command()
def health(
    worker: bool = typer.Option(False, "--worker", help="also: this host's `syndicate worker` is consuming"),
    node: Optional[str] = typer.Option(None, "--node", metavar="NAME",
                                       help="with --worker: the worker's node name (default: celery@HOSTNAME)"),
    max_age: float = typer.Option(60.0, "--max-age", metavar="SECONDS",
                                  help="with --worker: the oldest heartbeat that still counts"),
    config_path: Optional[Path] = ConfigOpt,
) -> None:
    """For a container's healthcheck: exit 0 when the broker and the ledger answer (and the worker beats), else 1."""
    from syndicate.engine import health as checks

    config = _config(config_path, strict=False, readonly=True)  # a check writes nothing
    problems = []
    if config.broker:
        from syndicate.engine.tasks import check_broker, configure

        configure(config)
        problem = check_broker()
        if problem:
            problems.append(f"the broker {_safe_url(config.broker)} does not answer ({problem})")
    problem = checks.check_ledger(config.state_url)
    if problem:
        problems.append(f"the ledger {_safe_url(config.state_url)} does not answer ({problem})")
    if worker:
        beat = checks.heartbeat_file(config.data_dir, node)
        age = checks.worker_age(beat)
        if age is None:
            problems.append(f"no worker heartbeat at {beat} (is `syndicate worker` running here?)")
        elif age > max_age:
            problems.append(f"the worker's last heartbeat was {age:.0f}s ago (more than {max_age:g}s)")
    if problems:
        for problem in problems:
            say(("unhealthy: ", "red"), problem, stderr=True)
        raise typer.Exit(1)
    say(("healthy", "green"))


def _celery(celery_app: Any, argv: list[str]) -> int:
    """Run a `celery` command on our app and return its exit code.

    `app.worker_main` and `app.start` drop it, so a worker that stopped on an
    unrecoverable error (or a cold shutdown) would exit 0 and look finished to a supervisor.
    """
    from celery.bin.celery import celery as command

    command.params[0].default = celery_app
    try:
        code = command.main(args=argv, standalone_mode=False, auto_envvar_prefix="CELERY")
    finally:
        command.params[0].default = None
    return code if isinstance(code, int) else 0


def _beat_schedule(celery_app: Any) -> str:
    """The beat's schedule file, in the data directory (never inside a read-only site)."""
    from syndicate.engine.tasks import _shared

    config = _shared["config"]
    folder = Path(config.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / "celerybeat-schedule")
