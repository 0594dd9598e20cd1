"""`syndicate doctor`: what is fine and what to fix, before a post finds out.

Each check is one function returning `Finding`s (check, what, state, detail,
fix). The config is read first (invalid: the CLI exits 2); the site's posts
are read once for a sample (the newest published post); then every check that
waits on the network runs in a thread of its own, all at once, each with its
own deadline, so that one platform that does not answer delays only its own
row and one that fails stops nothing else:

- `credentials`: each target's `Connector.build_verify()` (its cheapest
  authenticated read), sent through the connector as a push would send it;
  a target skipped for want of its variables fails here;
- `notice` and `budget`: each connector's `notices` as `status` shows them (a
  token about to expire, an API version near its sunset, a spent X budget),
  with the instance's facts fetched afresh, and what is left of a
  `monthly_budget`;
- `broker`, `redis`, `ledger`: reachable, each within the timeout; the ledger
  is read, never created or upgraded (a schema behind is upgraded by the next
  run, a ledger of another site is said as `push` would refuse it);
- `site`, `canonical`: the site's URL and the sample post's canonical URL
  answer 2xx, through the SSRF-safe client (`[media] allow` for a private
  site);
- `images`: each image of the sample post answers as an image, or else can be
  uploaded from the local file, or rehosted (`[media.rehost]`) for the
  targets that fetch images by URL.

Every text is passed through one redactor (every configured secret, database
and broker passwords) before it is returned: a platform's error body that
echoes a token shows `**********`.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from syndicate.cli.app import ConfigOpt, JsonOpt, _fail, app
from syndicate.cli.doctor.findings import DEFAULT_TIMEOUT, MAX_IMAGES, ORDER, Finding, Report, Scrub
from syndicate.errors import ConfigError
from syndicate.triggers import output
from syndicate.triggers.output import emit_json, say

if TYPE_CHECKING:
    import httpx

    from syndicate.config import Config
    from syndicate.engine.runner import Syndicator

__all__ = ["DEFAULT_TIMEOUT", "Finding", "Report", "Scrub", "diagnose", "run_all"]


# --- running the checks --------------------------------------------------------------------------------


Task = tuple[str, str, Callable[[], list[Finding]]]  # check, what, the work


def run_all(tasks: list[Task], timeout: float) -> list[Finding]:
    """Every task at once, each in a daemon thread with its own deadline; the findings in task order.

    A task that raises becomes a `fail` naming the error; one still running at its deadline becomes a
    `fail` saying so (its thread is left behind: a daemon, it never holds the process up).
    """
    results: list[list[Finding] | None] = [None] * len(tasks)

    def work(i: int, check: str, what: str, fn: Callable[[], list[Finding]]) -> None:
        try:
            results[i] = fn()
        except Exception as exc:  # a check's own bug must not stop the others
            results[i] = [Finding(check, what, "fail", f"the check itself failed: {type(exc).__name__}: {exc}")]

    threads = []
    for i, (check, what, fn) in enumerate(tasks):
        thread = threading.Thread(target=work, args=(i, check, what, fn), name=f"doctor-{check}", daemon=True)
        thread.start()
        threads.append(thread)
    # each check's own I/O stops at `timeout`; the grace lets it say why itself (a better message)
    deadline = time.monotonic() + timeout * 2 + 1.0
    out: list[Finding] = []
    for (check, what, _fn), thread, i in zip(tasks, threads, range(len(tasks)), strict=True):
        thread.join(max(0.0, deadline - time.monotonic()))
        found = results[i]
        if found is None:
            out.append(Finding(check, what, "fail", f"no answer within {timeout:g}s",
                               "check that it is up and reachable from here (or raise --timeout)"))
        else:
            out.extend(found)
    return out


def diagnose(config: Config, *, now: datetime | None = None, timeout: float = DEFAULT_TIMEOUT,
             http: httpx.Client | None = None) -> Report:
    """Every check of `config`, as a report whose texts hold no secret. `now` is the clock the notices read."""
    from syndicate.cli.doctor.checks import _broker, _images_of, _ledger, _redis, _rel, _sample, _skipped, _target
    from syndicate.cli.doctor.site import _canonical, _image, _page_client, _pipeline, _site
    from syndicate.state.ledger import utcnow

    now = now or utcnow()
    scrub = Scrub(config)
    report = Report()
    where = str(config.path) if config.path else "the config"
    count = len(config.targets) + len(config.skipped)
    report.findings.append(Finding("config", where, "ok", f"valid; {count} target(s)"))
    sample, older, post_problem = _sample(config, now)
    if post_problem:
        report.findings.append(Finding("posts", str(config.site.root), "warn", post_problem,
                                       "fix the files named (see `syndicate preview`)"))
    syn = _syndicator(config, timeout, http)
    tasks: list[Task] = []
    for name in config.skipped:
        report.findings.append(_skipped(config, name))
    broken: dict[str, str] = {}
    for name in config.targets:  # made here, once: the threads below only use them
        try:
            syn.connector(name)
        except Exception as exc:
            broken[name] = f"{type(exc).__name__}: {exc}"
    for name in config.targets:
        if name in broken:
            report.findings.append(Finding("credentials", name, "fail", f"cannot be set up: {broken[name]}",
                                           f"check [targets.{name}]"))
        else:
            tasks.append(("credentials", name, lambda name=name: _target(syn, name, now)))  # type: ignore[misc]
    tasks.append(("broker", "[queue] broker", lambda: [_broker(config, timeout)]))
    tasks.append(("redis", "[queue] redis", lambda: [_redis(config, timeout)]))
    tasks.append(("ledger", "[state] url", lambda: [_ledger(config, timeout)]))
    client = _page_client(config, timeout)
    media: Any = None
    tasks.append(("site", config.site.url, lambda: [_site(client, config.site.url)]))
    tasks.append(("canonical", "newest post", lambda: [_canonical(client, sample, older)]))
    if sample is not None:
        images = _images_of(sample)
        if not images:
            report.findings.append(Finding("images", _rel(config, sample), "skip", "the newest post has no image"))
        media = _pipeline(config, timeout)
        fetchers = [n for n in config.targets if n not in broken and syn.connector(n).abilities.needs_public_media_url]
        for image in images[:MAX_IMAGES]:
            role = "cover" if image is sample.cover else "inline"
            tasks.append(("images", image.url or image.src,
                          lambda image=image, role=role: [_image(syn, media, image, role, fetchers)]))  # type: ignore[misc]
    try:
        report.findings += run_all(tasks, timeout)
    finally:  # a check still running past its deadline fails on a closed client: it was already said
        client.close()
        if http is None:
            syn.http.close()
        if media is not None and not isinstance(media, Exception):
            media.close()
    for f in report.findings:
        f.what, f.detail, f.fix = scrub(f.what), scrub(f.detail), scrub(f.fix)
    report.findings.sort(key=lambda f: ORDER.index(f.check) if f.check in ORDER else len(ORDER))
    return report


def _syndicator(config: Config, timeout: float, http: httpx.Client | None) -> Syndicator:
    import httpx

    from syndicate.engine.runner import Syndicator

    if http is None:
        from syndicate import __version__

        http = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                            headers={"User-Agent": f"syndicate/{__version__} (doctor)"})
    return Syndicator(config, readonly=True, http=http)


# --- the command ------------------------------------------------------------------------------------

_STYLES = {"ok": "green", "warn": "yellow", "fail": "red", "skip": "dim"}


@app.command()
def doctor(
    config_path: Optional[Path] = ConfigOpt,
    as_json: bool = JsonOpt,
    timeout: float = typer.Option(10.0, "--timeout", min=0.1, help="seconds each check may take"),
) -> None:
    """Check the config, credentials, tokens, broker, ledger, Redis, site and images; say what to fix."""
    from syndicate.config import find_config
    from syndicate.content.permalinks import check_site
    from syndicate.registry import load_config

    try:
        config = load_config(find_config(config_path), strict=True, readonly=True)
        check_site(config.site)
    except ConfigError as exc:
        if as_json:
            emit_json({"ok": False, "summary": {"fail": 1}, "checks": [
                {"check": "config", "what": "syndicate.toml", "state": "fail", "detail": str(exc),
                 "fix": "correct the file and keys named"}]})
        raise _fail(str(exc), label="config error") from None
    report = diagnose(config, timeout=timeout)
    if as_json:
        emit_json(report.as_json())
    else:
        _table(report)
    raise typer.Exit(1 if report.failed else 0)


def _table(report: Report) -> None:
    """`doctor`'s rows: check, what, state, and what was seen with how to fix it."""
    rows = [[(f.check, ""), (f.what, ""), (f.state, _STYLES.get(f.state, "")),
             (f.detail + (f"; to fix: {f.fix}" if f.fix and f.state in ("warn", "fail") else ""), "")]
            for f in report.findings]
    output.table(("check", "what", "state", "detail / how to fix"), rows)
    say((report.summary(), "bold red" if report.failed else "bold"))
